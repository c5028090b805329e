/*
 * ckpt run: a supervisor that starts a job in a new session and writes
 * checkpoints of it into a run directory, on demand (ckpt dump DIR, over
 * the DIR/control socket), every --interval seconds and on SIGUSR1.
 */
#ifndef CKPT_RUN_H
#define CKPT_RUN_H

#include <stddef.h>

#include "util/util.h"

struct snap_set;

struct run_opts {
	const char *dir;	/* the run directory, created 0700 */
	unsigned int interval;	/* seconds between checkpoints, 0: none */
	unsigned int keep;	/* images kept, newest first (a member's: its
				 * committed ones; 0 all of them) */
	char **argv;		/* the job */
	const char *filters[2];	/* stream filters for every image */
	int nr_filters;
	int ext_null;		/* as attach --ext-null */
	int tcp_established;	/* as attach --tcp-established */
	uint64_t ghost_limit;	/* as attach --ghost-limit */
	int json;		/* each checkpoint a JSON line on stderr */
	/* a member of a coordinated job (ckpt coord): its coordinator's
	 * HOST:PORT, the job's name and the member's, the key file */
	const char *coord, *job_name, *member, *auth;
	const char *host;	/* the member's host as it says, or NULL */
	int restore_agent;	/* no PROG: wait for ckpt job restart */
	struct snap_set *snap;	/* file snapshots of each checkpoint */
	/* --notify: seconds the job is waited for at each word, 0: off */
	unsigned int notify;
	/* --incremental[=N]: each image a child of the one before, by write
	 * tracking, and a full one every N (chains of N at most); 0: none */
	unsigned int incremental;
};

/* The name of the control socket and of the symlink to the newest image. */
#define RUN_CONTROL	"control"
#define RUN_LATEST	"latest"

/*
 * Run the job to its end under the supervisor. Returns its exit status
 * (128+N if killed by signal N), or -1 if it could not be started.
 */
int run_job(const struct run_opts *o) __must_check;

enum run_dump_result {
	RUN_DUMP_OK = 0,
	RUN_DUMP_NOSUP,		/* no supervisor listens on DIR/control */
	RUN_DUMP_FAILED,	/* the supervisor's checkpoint failed */
};

/*
 * Ask the supervisor of DIR for a checkpoint now; on RUN_DUMP_OK, msg
 * holds the image's path, on RUN_DUMP_FAILED the supervisor's message.
 */
enum run_dump_result run_request_dump(const char *dir, char *msg,
				      size_t len);

#endif
