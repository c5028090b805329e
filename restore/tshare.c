/*
 * A thread's own cwd and umask, or fd table (unshare(2)), made again by
 * the thread itself once it exists, shared with its process as
 * create_threads() made it: unshare(CLONE_FS) and chdir(), or
 * unshare(CLONE_FILES) and the table arranged by remote calls.
 *
 * The copied table holds the process's fds and the image's fd (closed
 * in the process's own table later, task.c). Each fd the thread keeps
 * is first duplicated above every number in use, then placed at its own
 * number with its close-on-exec flag, and all the rest is closed: the
 * thread's numbers may be any of the process's.
 */
#include <sys/syscall.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/sched.h>
#include <string.h>

#include "restore/restore.h"

static int own_fs(struct restore_proc *c, int ti, const struct img_tshare *o)
{
	size_t n = strlen(o->cwd) + 1;

	if (n > inject_scratch_len(c->ip)) {
		errno = ENAMETOOLONG;
		pr_perror("can't give thread %d its cwd %s",
			  c->proc->threads[ti].tid, o->cwd);
		return -1;
	}
	if (rcall(c, ti, "unshare a thread's cwd", NULL, SYS_unshare,
		  CLONE_FS, 0, 0, 0, 0, 0) ||
	    inject_write(c->ip, inject_scratch(c->ip), o->cwd, n) ||
	    rcall(c, ti, "change a thread's cwd", NULL, SYS_chdir,
		  inject_scratch(c->ip), 0, 0, 0, 0, 0))
		return -1;
	return rcall(c, ti, "set a thread's umask", NULL, SYS_umask,
		     o->umask, 0, 0, 0, 0, 0);
}

/* Above every fd number the thread's copy of the table may hold. */
static int first_free(const struct restore_proc *c, const struct img_tshare *o)
{
	const struct img_process *p = c->proc;
	int top = c->child_img_fd;
	uint32_t i;

	for (i = 0; i < p->nr_fds; i++)
		if (p->fds[i].fd > top)
			top = p->fds[i].fd;
	for (i = 0; i < o->nr_fds; i++)
		if (o->fds[i].fd > top)
			top = o->fds[i].fd;
	return top + 1;
}

/* Close all of ti's fds from "from" up to "to" (inclusive) */
static int close_gap(struct restore_proc *c, int ti, unsigned int from,
		     unsigned int to)
{
	if (from > to)
		return 0;
	return rcall(c, ti, "close a thread's other fds", NULL,
		     SYS_close_range, from, to, 0, 0, 0, 0);
}

static int own_files(struct restore_proc *c, int ti,
		     const struct img_tshare *o)
{
	int base = first_free(c, o);
	unsigned int from = 0;
	long tmp;
	uint32_t i;

	if (rcall(c, ti, "unshare a thread's fd table", NULL, SYS_unshare,
		  CLONE_FILES, 0, 0, 0, 0, 0))
		return -1;
	/* all copied first: a number placed may be another's source */
	for (i = 0; i < o->nr_fds; i++) {
		if (rcall(c, ti, "copy a thread's fd", &tmp, SYS_fcntl,
			  o->fds[i].src, F_DUPFD, base + i, 0, 0, 0))
			return -1;
		if (tmp != base + (long)i) {
			pr_err("can't copy fd %d of thread %d to %d: got %ld",
			       o->fds[i].src, c->proc->threads[ti].tid,
			       base + i, tmp);
			return -1;
		}
	}
	for (i = 0; i < o->nr_fds; i++)
		if (rcall(c, ti, "place a thread's fd", NULL, SYS_dup3,
			  base + i, o->fds[i].fd,
			  o->fds[i].fdflags ? O_CLOEXEC : 0, 0, 0, 0))
			return -1;
	for (i = 0; i < o->nr_fds; i++) {
		if ((unsigned int)o->fds[i].fd > from &&
		    close_gap(c, ti, from, o->fds[i].fd - 1))
			return -1;
		from = o->fds[i].fd + 1;
	}
	return close_gap(c, ti, from, ~0U);
}

int restore_thread_own(struct restore_proc *c)
{
	uint32_t i;

	for (i = 1; i < c->proc->nr_threads; i++) {
		const struct img_tshare *o = &c->proc->threads[i].own;

		if (((o->own & IMG_SHARE_FS) && own_fs(c, i, o)) ||
		    ((o->own & IMG_SHARE_FILES) && own_files(c, i, o)))
			return -1;
	}
	return 0;
}
