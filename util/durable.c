/*
 * durable: temporary, fsync, rename, fsync of the directory (durable.h).
 * The temporary's name is made here rather than by mkostemp(3) so that it
 * can be relative to a directory descriptor (ckpt serve opens nothing by
 * path once it runs under seccomp) and never follow a symbolic link.
 */
#include <sys/file.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "util/durable.h"

#define SUFFIX_LEN	6
#define CREATE_TRIES	100

/* "DIR/NAME" -> "DIR/.NAME.tmp.XXXXXX" (no dot unless hidden) */
static char *tmp_name(const char *name, int hidden)
{
	const char *slash = strrchr(name, '/');
	int dir_len = slash ? slash + 1 - name : 0;
	char *tmp;

	if (asprintf(&tmp, "%.*s%s%s.tmp.XXXXXX", dir_len, name,
		     hidden ? "." : "", name + dir_len) < 0)
		return NULL;
	return tmp;
}

static int random_suffix(char *x)
{
	static const char chars[] = "abcdefghijklmnopqrstuvwxyz0123456789";
	unsigned char r[SUFFIX_LEN];
	int i;

	if (getrandom(r, sizeof(r), 0) != sizeof(r))
		return -1;
	for (i = 0; i < SUFFIX_LEN; i++)
		x[i] = chars[r[i] % (sizeof(chars) - 1)];
	return 0;
}

static int create_tmp(struct durable *d)
{
	char *x = d->tmp + strlen(d->tmp) - SUFFIX_LEN;
	int tries;

	for (tries = 0; tries < CREATE_TRIES; tries++) {
		if (random_suffix(x))
			break;
		d->fd = openat(d->dirfd, d->tmp, O_RDWR | O_CREAT | O_EXCL |
			       O_NOFOLLOW | O_CLOEXEC, 0600);
		if (d->fd >= 0) {
			/* a signal handler sees the name before live */
			atomic_signal_fence(memory_order_seq_cst);
			d->live = 1;
			return 0;
		}
		if (errno != EEXIST)
			break;
	}
	pr_perror("can't create %s", d->tmp);
	return -1;
}

/* An O_TMPFILE in the target's directory, or -1 (then a named one). */
static int create_nameless(struct durable *d)
{
	char *copy = strdup(d->target);
	const char *dir;

	if (!copy)
		return -1;
	dir = strchr(copy, '/') ? dirname(copy) : ".";
	d->fd = openat(d->dirfd, dir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
	free(copy);
	d->nameless = d->fd >= 0;
	return d->nameless ? 0 : -1;
}

/* Give the nameless temporary its name, as create_tmp() would. */
static int link_nameless(struct durable *d)
{
	char *x = d->tmp + strlen(d->tmp) - SUFFIX_LEN, proc[64];
	int tries;

	snprintf(proc, sizeof(proc), "/proc/self/fd/%d", d->fd);
	for (tries = 0; tries < CREATE_TRIES; tries++) {
		if (random_suffix(x))
			break;
		if (!linkat(AT_FDCWD, proc, d->dirfd, d->tmp,
			    AT_SYMLINK_FOLLOW)) {
			atomic_signal_fence(memory_order_seq_cst);
			d->live = 1;
			d->nameless = 0;
			return 0;
		}
		if (errno != EEXIST)
			break;
	}
	pr_perror("can't link %s", d->tmp);
	return -1;
}

int durable_open(struct durable *d, int dirfd, const char *name, int flags)
{
	d->fd = -1;
	d->dirfd = dirfd;
	d->live = 0;
	d->nameless = 0;
	d->nosync = !!(flags & DURABLE_NOSYNC);
	d->target = strdup(name);
	d->tmp = tmp_name(name, flags & DURABLE_HIDDEN);
	if (!d->target || !d->tmp) {
		pr_err("can't create a temporary for %s: out of memory", name);
		errno = ENOMEM;
		goto err;
	}
	if ((flags & DURABLE_LOCK || create_nameless(d)) && create_tmp(d))
		goto err;
	/* the mode asked of openat is cut by the umask: set it whole */
	if (fchmod(d->fd, 0600)) {
		pr_perror("can't chmod %s", d->tmp);
		goto err;
	}
	if ((flags & DURABLE_LOCK) && flock(d->fd, LOCK_EX | LOCK_NB)) {
		pr_perror("can't lock %s", d->tmp);
		goto err;
	}
	return 0;
err:
	durable_abort(d);
	return -1;
}

/* The target's directory: the caller's dirfd, or opened by path. */
static int sync_dir(const struct durable *d)
{
	char *copy = NULL;
	int fd = d->dirfd, ret = -1, err;

	if (fd == AT_FDCWD) {
		copy = strdup(d->target);	/* dirname() may write */
		fd = copy ? open(dirname(copy), O_RDONLY | O_DIRECTORY |
				 O_CLOEXEC) : -1;
		if (fd < 0) {
			pr_perror("can't open directory of %s", d->target);
			goto out;
		}
	}
	if (fsync(fd))
		pr_perror("can't sync directory of %s", d->target);
	else
		ret = 0;
out:
	err = errno;
	if (fd >= 0 && fd != d->dirfd)
		close(fd);
	free(copy);
	errno = err;
	return ret;
}

static void free_names(struct durable *d)
{
	free(d->tmp);
	free(d->target);
	d->tmp = d->target = NULL;
}

int durable_commit(struct durable *d)
{
	int fd = d->fd, err;

	d->fd = -1;
	if (!d->nosync && fsync(fd)) {
		pr_perror("can't sync %s", d->tmp);
		close(fd);
		goto err;
	}
	d->fd = fd;
	if (d->nameless && link_nameless(d)) {
		d->fd = -1;
		close(fd);
		goto err;
	}
	d->fd = -1;
	/* close reports the write errors of some file systems (NFS) */
	if (close(fd)) {
		pr_perror("can't write %s", d->tmp);
		goto err;
	}
	if (renameat(d->dirfd, d->tmp, d->dirfd, d->target)) {
		pr_perror("can't rename %s to %s", d->tmp, d->target);
		goto err;
	}
	d->live = 0;
	if (!d->nosync && sync_dir(d)) {
		/* visible, but not for sure after a crash: not committed */
		err = errno;
		unlinkat(d->dirfd, d->target, 0);
		free_names(d);
		errno = err;
		return -1;
	}
	free_names(d);
	return 0;
err:
	durable_abort(d);
	return -1;
}

void durable_abort(struct durable *d)
{
	int err = errno;

	if (d->fd >= 0)
		close(d->fd);
	d->fd = -1;
	if (d->live && unlinkat(d->dirfd, d->tmp, 0) && errno != ENOENT)
		pr_perror("can't remove %s", d->tmp);
	d->live = 0;
	free_names(d);
	errno = err;
}

void durable_unlink_tmp(const struct durable *d)
{
	if (d->live)
		unlinkat(d->dirfd, d->tmp, 0);
}
