/*
 * semantics-share: what tasks share, checked when a process ends. A
 * process that shares with its parent comes after it, as every process
 * does, and the root shares nothing (its parent is not restored); one
 * that shares its parent's fd table has the same fds and leads no
 * session. A
 * thread's own fd table names fds of its process; the first thread,
 * which the others are compared with, owns nothing.
 */
#include "image/reader-priv.h"

static const struct img_process *parent_of(const struct image *img,
					   const struct img_process *p)
{
	uint32_t i;

	for (i = 0; img->procs + i < p; i++)
		if (img->procs[i].proc.pid == p->proc.ppid)
			return &img->procs[i];
	return NULL;
}

static const struct img_fd *fd_of(const struct img_process *p, int32_t fd)
{
	uint32_t i;

	for (i = 0; i < p->nr_fds; i++)
		if (p->fds[i].fd == fd)
			return &p->fds[i];
	return NULL;
}

/* One table: the same fds, of the same kinds and files, with the same
 * flags. */
static int same_fds(const struct img_process *a, const struct img_process *b)
{
	uint32_t i;

	if (a->nr_fds != b->nr_fds)
		return 0;
	for (i = 0; i < a->nr_fds; i++) {
		const struct img_fd *f = &a->fds[i], *g = fd_of(b, f->fd);

		if (!g || g->type != f->type || g->file != f->file ||
		    g->fdflags != f->fdflags)
			return 0;
	}
	return 1;
}

static int check_proc_share(struct rd *r, const struct img_process *p)
{
	const struct img_process *parent;

	parent = parent_of(r->img, p);
	if (parent && (parent->proc.ks.share & IMG_SHARE_FILES)) {
		rd_fail(r, "process %d is a child of %d, which shares its parent's fd table",
			p->proc.pid, parent->proc.pid);
		return -1;
	}
	if (!p->proc.ks.share)
		return 0;
	if (!parent) {
		rd_fail(r, "process %d shares with its parent %d, which is not before it",
			p->proc.pid, p->proc.ppid);
		return -1;
	}
	if ((p->proc.ks.share & IMG_SHARE_FILES) &&
	    (p->proc.sid == p->proc.pid || !same_fds(p, parent))) {
		rd_fail(r, "process %d shares the fd table of %d, yet has other fds or leads a session",
			p->proc.pid, parent->proc.pid);
		return -1;
	}
	return 0;
}

static int check_thread_own(struct rd *r, const struct img_process *p,
			    const struct img_thread *t)
{
	uint32_t k;

	if (t == p->threads && t->own.own) {
		rd_fail(r, "process %d: its first thread owns %#x",
			p->proc.pid, t->own.own);
		return -1;
	}
	for (k = 0; k < t->own.nr_fds; k++) {
		if (fd_of(p, t->own.fds[k].src))
			continue;
		rd_fail(r, "thread %d: its fd %d is fd %d of the process, which has none",
			t->tid, t->own.fds[k].fd, t->own.fds[k].src);
		return -1;
	}
	return 0;
}

int sem_share_end(struct rd *r, const struct img_process *p)
{
	uint32_t i;

	if (check_proc_share(r, p))
		return -1;
	for (i = 0; i < p->nr_threads; i++)
		if (check_thread_own(r, p, &p->threads[i]))
			return -1;
	return 0;
}
