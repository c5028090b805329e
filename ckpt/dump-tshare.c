/*
 * dump-tshare: a thread with a cwd or fd table of its own, having called
 * unshare(CLONE_FS) or unshare(CLONE_FILES). Its cwd and umask are read
 * from /proc/PID/task/TID; its root must be the process's (restore could
 * not chroot it without CAP_SYS_CHROOT in every case, and none does).
 * Its fd table is written as fds of the process that hold the same open
 * file description (kcmp KCMP_FILE), under its own numbers and close-on-
 * exec flags: a file open in the thread's table alone is refused.
 */
#include <sys/syscall.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/kcmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ckpt/dump-priv.h"

static char *task_link(pid_t pid, pid_t tid, const char *what)
{
	char path[96], buf[PATH_MAX];
	ssize_t n;

	snprintf(path, sizeof(path), "/proc/%d/task/%d/%s", pid, tid, what);
	n = readlink(path, buf, sizeof(buf) - 1);
	if (n < 0)
		return NULL;
	buf[n] = '\0';
	return strdup(buf);
}

static int task_umask(pid_t pid, pid_t tid, uint32_t *umask)
{
	char path[96], *s, *p;

	snprintf(path, sizeof(path), "/proc/%d/task/%d/status", pid, tid);
	s = read_file_str(path, NULL);
	if (!s)
		return -1;
	p = strstr(s, "\nUmask:");
	if (p)
		*umask = strtoul(p + 7, NULL, 8) & 0777;
	free(s);
	if (!p)
		errno = ENODATA;
	return p ? 0 : -1;
}

static int refuse(const struct dump_ctx *c, pid_t tid, const char *what)
{
	pr_err("can't dump %d: thread %d has %s, which is not supported",
	       c->pid, tid, what);
	errno = EOPNOTSUPP;
	return -1;
}

static int own_fs(struct dump_ctx *c, struct img_thread *t)
{
	static const char deleted[] = " (deleted)";
	char *root = task_link(c->pid, t->tid, "root");
	size_t n;
	int same;

	if (!root)
		return -1;
	same = !strcmp(root, c->proc.proc.root);
	free(root);
	if (!same)
		return refuse(c, t->tid, "a root directory of its own");
	t->own.cwd = task_link(c->pid, t->tid, "cwd");
	if (!t->own.cwd)
		return -1;
	n = strlen(t->own.cwd);
	if (t->own.cwd[0] != '/' || (n > sizeof(deleted) - 1 &&
	    !strcmp(t->own.cwd + n - (sizeof(deleted) - 1), deleted)))
		return refuse(c, t->tid, "a deleted or unreachable cwd of its own");
	return task_umask(c->pid, t->tid, &t->own.umask);
}

/* The fd of the process with the open file that tid has as fd, or -1. */
static int source_fd(const struct dump_ctx *c, pid_t ref, pid_t tid, int fd)
{
	uint32_t i;

	for (i = 0; i < c->proc.nr_fds; i++)
		if (syscall(SYS_kcmp, ref, tid, KCMP_FILE, c->proc.fds[i].fd,
			    fd) == 0)
			return c->proc.fds[i].fd;
	return -1;
}

static int fd_flags(pid_t pid, pid_t tid, int fd, uint32_t *fdflags)
{
	char path[96], *s, *p;

	snprintf(path, sizeof(path), "/proc/%d/task/%d/fdinfo/%d", pid, tid,
		 fd);
	s = read_file_str(path, NULL);
	if (!s)
		return -1;
	p = strstr(s, "flags:");
	*fdflags = p && (strtoul(p + 6, NULL, 8) & O_CLOEXEC) ? FD_CLOEXEC : 0;
	free(s);
	return 0;
}

static int cmp_tfd(const void *a, const void *b)
{
	const struct img_tfd *x = a, *y = b;

	return (x->fd > y->fd) - (x->fd < y->fd);
}

/* One fd of the thread's table, as the next of t->own.fds. */
static int add_tfd(struct dump_ctx *c, pid_t ref, struct img_thread *t,
		   int fd, uint32_t *cap)
{
	struct img_tshare *o = &t->own;
	char what[96];
	int src = source_fd(c, ref, t->tid, fd);

	if (src < 0) {
		snprintf(what, sizeof(what),
			 "fd %d open in its own fd table only", fd);
		return refuse(c, t->tid, what);
	}
	if (o->nr_fds == *cap) {
		struct img_tfd *n = realloc(o->fds, (*cap * 2 + 8) *
					    sizeof(*n));

		if (!n)
			return -1;
		o->fds = n;
		*cap = *cap * 2 + 8;
	}
	o->fds[o->nr_fds].fd = fd;
	o->fds[o->nr_fds].src = src;
	if (fd_flags(c->pid, t->tid, fd, &o->fds[o->nr_fds].fdflags))
		return -1;
	o->nr_fds++;
	return 0;
}

static int own_files(struct dump_ctx *c, pid_t ref, struct img_thread *t)
{
	char path[96];
	struct dirent *de;
	uint32_t cap = 0;
	int ret = 0;
	DIR *d;

	snprintf(path, sizeof(path), "/proc/%d/task/%d/fd", c->pid, t->tid);
	d = opendir(path);
	if (!d)
		return -1;
	while (!ret && (de = readdir(d)))
		if (de->d_name[0] != '.')
			ret = add_tfd(c, ref, t, atoi(de->d_name), &cap);
	closedir(d);
	if (!ret && t->own.nr_fds)
		qsort(t->own.fds, t->own.nr_fds, sizeof(*t->own.fds),
		      cmp_tfd);
	return ret;
}

int dump_thread_own(struct dump_ctx *c, pid_t ref, int ti, uint32_t bit)
{
	struct img_thread *t;

	/* the lists are made in the same order */
	if ((uint32_t)ti >= c->proc.nr_threads ||
	    c->proc.threads[ti].tid != inject_tid(c->ip, ti)) {
		errno = ESRCH;
		return -1;
	}
	t = &c->proc.threads[ti];
	t->own.own |= bit;
	return bit == IMG_SHARE_FS ? own_fs(c, t) : own_files(c, ref, t);
}
