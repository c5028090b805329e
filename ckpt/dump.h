/*
 * The dumper: turns a live process into an image. cmd-attach.c parses the
 * options into a struct dump_opts and maps the result to an exit status.
 */
#ifndef CKPT_DUMP_H
#define CKPT_DUMP_H

#include <signal.h>
#include <sys/types.h>

#include "util/util.h"

struct app_set;
struct snap_set;
/* Write tracking kept between the dumps of one tree (dump-incr.c): each
 * dump given it is a child of the last one committed with it. */
struct dump_incr;

struct dump_incr *dump_incr_new(void);
void dump_incr_free(struct dump_incr *st);
void *dump_incr_pack(const struct dump_incr *st, size_t *len, int *fds,
		     int *nfds, int max);
struct dump_incr *dump_incr_unpack(const void *buf, size_t len,
				   const int *fds, int nfds);
int dump_incr_pids(const struct dump_incr *st, pid_t *pids, int max);
int dump_incr_uffd(const struct dump_incr *st, pid_t pid);
void dump_incr_drop(struct dump_incr *st, pid_t pid);
/* attach --track: a holder process keeps st's write tracking for the
 * next attach --parent IMAGE (dump-hold.c); and that attach takes it */
int dump_hold_start(struct dump_incr *st, const char *image);
struct dump_incr *dump_hold_claim(const char *image);

#define DUMP_GHOST_LIMIT	(64ULL << 20)	/* --ghost-limit's default */

/* What a committed dump did, for attach --json. */
struct dump_stats {
	int nr_procs;		/* zombies included */
	int nr_threads;
	uint64_t bytes;		/* the image, as its writer wrote it */
	double frozen;		/* seconds from the first seize to the thaw */
	double seconds;		/* the whole dump */
	int incremental;	/* a child of another image (dump-incr.c) */
};

struct dump_opts {
	pid_t pid;
	/* image sinks: paths, "-", SCHEME://...; quorum of them must commit */
	const char *outputs[16];
	int nr_outputs, quorum;
	const char *filters[4];	/* stream filters, outermost first */
	int nr_filters;
	const char *params[4];	/* "key=value" options for the stages */
	int nr_params;
	int kill;		/* kill the target after a committed dump */
	int tree;		/* the descendants too */
	int freeze_cgroup;	/* freeze the root's cgroup to seize (v1
				 * freezer or v2 cgroup.freeze) */
	int ext_null;		/* fds we cannot carry become /dev/null */
	int ext_unix;		/* unix sockets connected out of the tree
				 * are connected to their peer's name again */
	/* TCP connections whose peer is outside the tree are kept, behind
	 * a network lock (--tcp-established) */
	int tcp_established;
	/* processes outside the tree that its namespaces may hold, left out
	 * of the image (--leave: what runc exec started in a container) */
	pid_t leave[32];
	int nr_leave;
	/* bytes of data a file no path reaches may hold (--ghost-limit) */
	uint64_t ghost_limit;
	/* set asynchronously when ckpt gets SIGINT/SIGTERM: abort, thaw */
	volatile sig_atomic_t *interrupted;
	int progress;		/* enum progress_mode (progress.h) */
	/* copy the memory while the tree runs, freeze it for what it wrote
	 * since (dump-precopy.c) */
	int pre_copy;
	/* with pre_copy: each round's pages go into the image as they are
	 * read (PRECOPY records, ckpt migrate), not kept for the freeze */
	int pre_stream;
	/* a copy-on-write snapshot of each process (a child of its, held
	 * by us) is what its memory is read from, while the tree runs
	 * (dump-cow.c) */
	int cow;
	/* a ckpt cc program, its thread run on to a landmark for at most
	 * this many ms before the dump (--landmark); 0: as it is */
	unsigned landmark_ms;
	struct dump_stats *stats;	/* filled when the dump commits; or NULL */
	/* Two-phase dumps (ckpt run --coord): with hold set, the image is
	 * committed while the tree is still frozen and its connections
	 * locked, then hold(hold_arg) decides: 0 thaws (or kills) as usual,
	 * -1 thaws and fails the dump, the committed image left to the
	 * caller. */
	int (*hold)(void *hold_arg);
	void *hold_arg;
	struct app_set *apps;	/* application plugins (--plugin), or NULL */
	int validate_hash;	/* --validate=hash: FILEIDs with a hash */
	struct snap_set *snap;	/* file snapshots (--snapshot), or NULL */
	/* ckpt run --notify: the job's socket, told "restored" by restore
	 * (a NOTIFY record), and how long restore waits; or NULL */
	const char *notify;
	unsigned int notify_seconds;
	/* incremental images (dump-incr.c): a child of the image at parent,
	 * its pages compared with the parent's (attach --parent); or of the
	 * last image dumped with incr, by its write tracking, unless
	 * incr_full (ckpt run --incremental) */
	const char *parent;
	struct dump_incr *incr;
	int incr_full;
};

/* What went wrong, for the exit status. */
enum dump_result {
	DUMP_OK = 0,
	DUMP_ENOTARGET,		/* no such process, ckpt itself, untraceable */
	DUMP_EFAILED,		/* the dump failed; the target runs on */
	DUMP_ECREATE,		/* the image could not be created */
};

enum dump_result dump_process(const struct dump_opts *o);

/* Can restore put connections not accepted yet back in their listener's
 * queue here (the kfunc bpf_sk_assign_tcp_reqsk, Linux 6.9)? Without
 * it, a listener with any is refused (dump-inet-accept.c). */
int dump_inet_accept_works(void);
/* Can the AIO contexts of a process and their requests be seen (the BPF
 * task iterator of dump-aio.c loads and runs)? */
int dump_aio_works(void);
/* 1 when the iterator of dump-semundo.c, or of dump-sockx.c (socket
 * state no call reads), loads and runs: for ckpt check */
int dump_semundo_works(void);
int dump_sockx_bpf_works(void);

#endif
