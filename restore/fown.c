/*
 * SIGIO owners (FOWN records): each fd's owner, signal and O_ASYNC set
 * again in its process by remote fcntl() (task.c), once its threads
 * exist (a thread owner is one of its own: dump-fown.c) and it has its
 * ids: the kernel keeps the setter's uid and euid with the owner and
 * checks them when it signals. Every process of the tree exists by then. A lease taken by locks.c made its taker the owner:
 * this comes after and sets what the image has.
 *
 * O_ASYNC is turned off and on again in the holder: the kernel notes the
 * fd number it was turned on through (si_fd of a F_SETSIG signal), and
 * the file table set it through one of restore's own.
 */
#include <sys/syscall.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "restore/restore.h"

static int call(struct restore_proc *c, const struct img_fown *o,
		const char *what, long cmd, long arg, long *ret)
{
	long r = 0;

	if (inject_syscall(c->ip, 0, &r, SYS_fcntl, o->fd, cmd, arg, 0, 0,
			   0) || (r < 0 && r > -4096)) {
		if (r < 0 && r > -4096)
			errno = -r;
		pr_perror("can't set the %s of fd %d of %d", what, o->fd,
			  c->proc->proc.pid);
		return -1;
	}
	if (ret)
		*ret = r;
	return 0;
}

static int set_fown(struct restore_proc *c, const struct img_fown *o,
		    const struct img_fd *f)
{
	static const int types[] = { F_OWNER_TID, F_OWNER_PID, F_OWNER_PGRP };
	struct f_owner_ex ex = { .type = types[o->type], .pid = o->pid };
	uint64_t at = inject_scratch(c->ip);
	long fl;

	/* the root's group, which is restore's now, is refused by the
	 * reader */
	if (inject_write(c->ip, at, &ex, sizeof(ex)) ||
	    call(c, o, "SIGIO owner", F_SETOWN_EX, at, NULL) ||
	    call(c, o, "SIGIO signal", F_SETSIG, o->sig, NULL))
		return -1;
	if (!(f->flags & O_ASYNC))
		return 0;
	return call(c, o, "flags", F_GETFL, 0, &fl) ||
	       call(c, o, "flags", F_SETFL, fl & ~O_ASYNC, NULL) ||
	       call(c, o, "flags", F_SETFL, fl | O_ASYNC, NULL) ? -1 : 0;
}

int restore_fowns(struct restore_proc *c)
{
	const struct img_process *p = c->proc;
	uint32_t i, k;

	for (i = 0; i < p->nr_fowns; i++) {
		for (k = 0; k < p->nr_fds; k++)
			if (p->fds[k].fd == p->fowns[i].fd)
				break;
		/* the reader checked that the fd is the process's */
		if (set_fown(c, &p->fowns[i], &p->fds[k]))
			return -1;
	}
	return 0;
}
