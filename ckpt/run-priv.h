/*
 * What run.c (the supervisor) and run-coord.c (its member side, ckpt run
 * --coord) share: the supervisor's state.
 */
#ifndef CKPT_RUN_PRIV_H
#define CKPT_RUN_PRIV_H

#include <signal.h>
#include <sys/types.h>

#include "ckpt/run.h"

struct run_member;
struct dump_opts;
struct dump_stats;

struct run_ctx {
	const struct run_opts *o;
	int dirfd, sfd, tfd, lfd;
	sigset_t oldmask;
	pid_t job;
	unsigned int seq;	/* number of the next image */
	int status;		/* the job's exit status, -1 while it runs */
	struct run_member *member;	/* ckpt run --coord */
	int idle;		/* a member with no job, waiting for one */
	char notify[108];	/* --notify: DIR/notify, absolute; or "" */
	/* --incremental (run-incr.c): the tracking, the images in the
	 * current chain, the last image's name */
	struct dump_incr *incr;
	unsigned int chain;
	char last[32];
};

/* run-incr.c: the next checkpoint's options; after it committed (its
 * parent recorded beside it); is image seq needed by one that is kept;
 * the end */
int run_incr_opts(struct run_ctx *c, struct dump_opts *o) __must_check;
void run_incr_committed(struct run_ctx *c, const char *name,
			const struct dump_stats *s);
int run_incr_needed(struct run_ctx *c, unsigned int seq);
void run_incr_forget(struct run_ctx *c, const char *name);
void run_incr_close(struct run_ctx *c);

/* run-coord.c: the member of a coordinated job (run_opts.coord) */
int run_member_open(struct run_ctx *c) __must_check;
void run_member_close(struct run_ctx *c);
/* the coordinator's session, or -1 while it is away */
int run_member_fd(const struct run_ctx *c);
/* a message on it */
void run_member_event(struct run_ctx *c);
/* once a loop: connect again when due */
void run_member_tick(struct run_ctx *c);
/* the job ended (c->status set): a job killed by a committed
 * checkpoint --kill leaves the member idle, waiting for a restart;
 * otherwise it leaves the job */
void run_member_job_ended(struct run_ctx *c);

#endif
