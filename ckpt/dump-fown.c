/*
 * SIGIO owners: where each fd's open file description sends SIGIO (or
 * SIGURG, or a lease break) and with which signal. Neither shows in
 * /proc, so each fd is asked by remote fcntl(F_GETOWN_EX) and
 * fcntl(F_GETSIG) in the frozen process; an fd with an owner, a signal
 * or O_ASYNC gets a FOWN record, and restore sets them again in the
 * holder (restore/fown.c) once its threads exist. The owner must be a
 * process or process group of the dump, or a thread of the holder:
 * another could only be named by a number that means someone else after
 * restore, or a thread that does not exist yet, so that is refused by
 * name, as is an owner set on a file restore replaces by its own (a
 * terminal or pipe out of the tree). The root's group too: the root
 * comes back in restore's group, which restore itself is in.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>

#include "ckpt/dump-priv.h"

static int ask(struct dump_ctx *c, int fd, int cmd, long *ret)
{
	if (inject_syscall(c->ip, c->leader, ret, SYS_fcntl, fd, cmd,
			   inject_scratch(c->ip), 0, 0, 0))
		return -1;
	if (*ret < 0 && *ret > -4096) {
		errno = -*ret;
		return -1;
	}
	return 0;
}

static int fown_of(struct dump_ctx *c, const struct img_fd *f,
		   struct img_fown *o)
{
	struct f_owner_ex ex;
	long sig;

	if (ask(c, f->fd, F_GETOWN_EX, &sig) ||
	    inject_read(c->ip, inject_scratch(c->ip), &ex, sizeof(ex)) ||
	    ask(c, f->fd, F_GETSIG, &sig))
		return -1;
	memset(o, 0, sizeof(*o));
	o->fd = f->fd;
	o->pid = ex.pid;
	o->sig = sig;
	switch (ex.type) {
	case F_OWNER_TID:
		o->type = IMG_FOWN_TID;
		break;
	case F_OWNER_PGRP:
		o->type = IMG_FOWN_PGRP;
		break;
	default:
		o->type = IMG_FOWN_PID;
	}
	return 0;
}

int dump_collect_fowns(struct dump_ctx *c)
{
	struct img_process *p = &c->proc;
	struct img_fown o;
	uint32_t i;

	for (i = 0; i < p->nr_fds; i++) {
		/* an O_PATH fd has no owner: fcntl() gives EBADF */
		if (p->fds[i].type == IMG_FD_NULL ||
		    (p->fds[i].flags & O_PATH))
			continue;
		if (fown_of(c, &p->fds[i], &o)) {
			dump_perror(c, "can't read the SIGIO owner of fd %d of %d",
				    p->fds[i].fd, c->pid);
			return -1;
		}
		if (!o.pid && !o.sig && !(p->fds[i].flags & O_ASYNC))
			continue;
		if (p->nr_fowns == p->nr_fds)
			return -1;
		if (!p->fowns) {
			p->fowns = calloc(p->nr_fds, sizeof(*p->fowns));
			if (!p->fowns)
				return -1;
		}
		p->fowns[p->nr_fowns++] = o;
	}
	return 0;
}

/* Is the owner a thread of p, a process or process group of the tree? */
static int owner_in_tree(const struct dump_tree *t,
			 const struct img_process *p, const struct img_fown *o)
{
	int i;
	uint32_t k;

	for (k = 0; o->type == IMG_FOWN_TID && k < p->nr_threads; k++)
		if (p->threads[k].tid == o->pid)
			return 1;
	for (i = 0; i < t->n; i++) {
		const struct img_proc *q = &t->procs[i].proc.proc;

		if ((o->type == IMG_FOWN_PID && q->pid == o->pid) ||
		    (o->type == IMG_FOWN_PGRP && q->pgid == o->pid))
			return 1;
	}
	return 0;
}

int dump_tree_check_fowns(struct dump_tree *t)
{
	static const char *const types[] = { "thread", "process", "group" };
	int i;
	uint32_t k;

	for (i = 0; i < t->n; i++) {
		const struct img_process *p = &t->procs[i].proc;

		for (k = 0; k < p->nr_fowns; k++) {
			const struct img_fown *o = &p->fowns[k];
			const struct img_fd *f = dump_find_fd(p, o->fd);

			if (f && (f->type == IMG_FD_TTY ||
				  f->type == IMG_FD_INHERIT)) {
				pr_err("can't dump fd %d of %d: %s leads out of the tree and has a SIGIO owner, signal or O_ASYNC set, which restore's own could not keep",
				       o->fd, p->proc.pid, f->path);
				errno = EOPNOTSUPP;
				return -1;
			}
			if (o->type == IMG_FOWN_PGRP &&
			    o->pid == t->procs[0].proc.proc.pgid) {
				pr_err("can't dump fd %d of %d: its SIGIO owner is group %d, the root's, which restore replaces by its own",
				       o->fd, p->proc.pid, o->pid);
				errno = EOPNOTSUPP;
				return -1;
			}
			if (!o->pid || owner_in_tree(t, p, o))
				continue;
			pr_err("can't dump fd %d of %d: its SIGIO owner is %s %d, which is not %s",
			       o->fd, p->proc.pid, types[o->type], o->pid,
			       o->type == IMG_FOWN_TID ? "one of its own" :
			       "in the dump");
			errno = EOPNOTSUPP;
			return -1;
		}
	}
	return 0;
}

int dump_write_fowns(struct dump_ctx *c)
{
	uint32_t i;

	for (i = 0; i < c->proc.nr_fowns; i++)
		if (img_write_fown(c->w, &c->proc.fowns[i]))
			return -1;
	return 0;
}
