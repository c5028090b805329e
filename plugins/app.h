/*
 * app.h: the public API of ckpt's application plugins (ckpt-app-plugin(7)),
 * installed as <ckpt/app.h>.
 *
 * An application plugin is a shared object that `ckpt attach --plugin
 * PATH` and `restore --plugin PATH` load, and call at events of a
 * checkpoint and of a restore, so that what a job needs beyond its
 * processes (a cache to flush, a lease to take again, files to put back)
 * is done at the right moment. It exports
 *
 *	const struct ckpt_app_ops ckpt_app_plugin;
 *
 * with api_version set to CKPT_APP_API. Unlike LD_PRELOAD plugins, it runs
 * in ckpt and restore, never in the target. This header depends on
 * nothing but the C library.
 */
#ifndef CKPT_APP_H
#define CKPT_APP_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#ifdef __cplusplus
extern "C" {
#endif

#define CKPT_APP_API 1

/*
 * The events, in the order they come. A checkpoint: BEFORE_FREEZE,
 * FROZEN, THAWED (not with --kill: the tree dies after the commit
 * instead), COMMITTED. A restore: BEFORE_CREATE, BEFORE_RUN, RUNNING.
 * A -1 from BEFORE_FREEZE or FROZEN refuses the checkpoint (the tree
 * runs on, no image is left), from BEFORE_CREATE or BEFORE_RUN the
 * restore (nothing of the tree is left); elsewhere it is only reported.
 */
enum ckpt_app_event {
	CKPT_APP_BEFORE_FREEZE = 1,	/* the tree runs; nothing done yet */
	CKPT_APP_FROZEN = 2,		/* every process of the tree stopped;
					 * put() adds records to the image */
	CKPT_APP_THAWED = 3,		/* the tree runs again */
	CKPT_APP_COMMITTED = 4,		/* the image is complete and durable */
	CKPT_APP_BEFORE_CREATE = 5,	/* image read; no process made yet;
					 * get() gives the records back */
	CKPT_APP_BEFORE_RUN = 6,	/* all made, none running yet */
	CKPT_APP_RUNNING = 7,		/* the tree runs */
};

struct ckpt_app {
	const struct ckpt_app_ops *ops;
	void *priv;		/* the plugin's own, NULL at first */
	const char *arg;	/* after "=" in --plugin PATH=ARG, or NULL */
	pid_t pid;		/* the tree's root: the target at dump, the
				 * new root at restore (0 before it exists) */
	const char *image;	/* the image: its first sink, or its path */
	char error[256];	/* why the last event failed, set by it */
	/* FROZEN only: adds len bytes (at most 1 MiB) as a record of this
	 * plugin's, returns 0 or -1 */
	int (*put)(struct ckpt_app *a, const void *buf, size_t len);
	/* restore: the n-th record (from 0) this plugin put, and its length
	 * in *len; NULL after the last */
	const void *(*get)(struct ckpt_app *a, unsigned n, size_t *len);
	void *host;		/* ckpt's and restore's own: do not touch */
};

struct ckpt_app_ops {
	uint32_t api_version;		/* CKPT_APP_API */
	/* names the plugin in messages and tags its records: printable,
	 * no spaces, at most 64 bytes */
	const char *name;
	/* 0, or -1 with a->error set */
	int (*event)(struct ckpt_app *a, enum ckpt_app_event ev);
	/* at the end, whatever happened; may be NULL */
	void (*fini)(struct ckpt_app *a);
};

#ifdef __cplusplus
}
#endif

#endif
