/*
 * durable: a file replaced whole or not at all, even across a crash, for
 * every writer of files that must not be seen half-written (image files,
 * core files, images received by ckpt serve). The data goes to a
 * temporary beside the target, mode 0600 (it holds process memory):
 * where the file system can, a nameless one (O_TMPFILE), so that a
 * writer killed outright leaves nothing behind; else (and with
 * DURABLE_LOCK, whose name others look for) one created with O_EXCL.
 * Commit fsyncs it, gives it its temporary name if it had none, renames
 * it over the target and fsyncs the directory, so that the rename itself
 * survives a crash; abort removes the temporary. Every error is logged
 * (pr_perror) and leaves errno as the failed call set it.
 */
#ifndef CKPT_DURABLE_H
#define CKPT_DURABLE_H

#include <signal.h>

#include "util/util.h"

struct durable {
	int fd;			/* the temporary, open read-write */
	int dirfd;		/* names are relative to it (or AT_FDCWD) */
	char *target;		/* the name to commit to */
	char *tmp;		/* "NAME.tmp.XXXXXX" or ".NAME.tmp.XXXXXX" */
	volatile sig_atomic_t live;	/* tmp exists under its name */
	int nameless;		/* fd is an O_TMPFILE, not yet linked */
	int nosync;		/* DURABLE_NOSYNC */
};

#define DURABLE_HIDDEN	1	/* a dot before the temporary's name */
#define DURABLE_LOCK	2	/* flock(LOCK_EX) on it while it lives */
/* whole or not at all, but no fsync: for a file that need not survive a
 * crash (an image in transit, whose source still exists) */
#define DURABLE_NOSYNC	4

/*
 * Create the temporary for name, relative to dirfd (AT_FDCWD: a path);
 * a dirfd stays the caller's and must stay open until commit or abort.
 * Write to d->fd as the data requires (write_full, pwrite, ftruncate).
 */
int durable_open(struct durable *d, int dirfd, const char *name, int flags)
	__must_check;
/*
 * fsync, rename over the target, fsync the directory. On failure nothing
 * is left under either name: the temporary is removed, and so is the
 * target when the directory could not be synced after the rename. d is
 * done with either way; durable_abort() on it does nothing.
 */
int durable_commit(struct durable *d) __must_check;
/* Close and remove the temporary. */
void durable_abort(struct durable *d);
/* The same for a signal handler that exits next: async-signal-safe. */
void durable_unlink_tmp(const struct durable *d);

#endif
