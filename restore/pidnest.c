/*
 * PID namespaces below the tree's top one (dump-pidnest.c): each is made
 * by the parent of its init, the first process in it, with clone3's
 * CLONE_NEWPID (or, when the original unshared one, as unshare -fp does,
 * by unshare(CLONE_NEWPID) in the parent first: child.c), so top-down;
 * every process of them is made with set_tid holding its PID at each
 * level, innermost first, its image PID (the top level's) last. Linux
 * (5.5+) wants CAP_CHECKPOINT_RESTORE or CAP_SYS_ADMIN in the user
 * namespace owning each level, which restore has where it made them.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <linux/sched.h>

#include "restore/restore.h"

static const struct img_ns *pidns_of(const struct image *img, uint64_t id)
{
	uint32_t i;

	for (i = 0; i < img->nr_nss; i++)
		if (img->nss[i].kind == IMG_NS_PID && img->nss[i].owner != 1 &&
		    img->nss[i].id == id)
			return &img->nss[i];
	return NULL;
}

static const struct img_proc *proc_by_pid(const struct image *img,
					  pid_t pid)
{
	uint32_t i;

	for (i = 0; i < img->nr_procs; i++)
		if (img->procs[i].proc.pid == pid)
			return &img->procs[i].proc;
	return NULL;
}

/* levels from the top down to namespace id (0 for the top), or -1 when
 * the chain of parents is broken or loops */
static int depth_of(const struct image *img, uint64_t id)
{
	const struct img_ns *ns;
	int d = 0;

	for (; id; id = ns->parent) {
		ns = pidns_of(img, id);
		if (!ns || ++d > IMG_MAX_PIDNS_DEPTH)
			return -1;
	}
	return d;
}

static int bad(const struct restore_run *run, pid_t pid, const char *why)
{
	pr_err("%s: process %d: %s", run->path, pid, why);
	return -1;
}

/* Process p's levels: as deep as its namespace, init where 1; its
 * parent in the same namespace, or the one above when p is the init */
static int check_proc(const struct restore_run *run, const struct img_proc *p)
{
	const struct image *img = run->img;
	const struct img_pidlv *l = &p->pidlv;
	const struct img_proc *up = proc_by_pid(img, p->ppid);
	const struct img_ns *ns = pidns_of(img, l->ns);
	int init = l->nr_nspids && l->nspids[l->nr_nspids - 1] == 1;

	if (l->ns && !ns)
		return bad(run, p->pid, "its PID namespace has no record");
	if (depth_of(img, l->ns) != (int)l->nr_nspids)
		return bad(run, p->pid, "its PIDs do not match its PID namespace's depth");
	if (init != (ns && (pid_t)ns->owner == p->pid))
		return bad(run, p->pid, "PID 1 of a PID namespace it is not the init of");
	if (l->ns && (!up || up->pidlv.ns != (init ? ns->parent : l->ns)))
		return bad(run, p->pid, "its parent is not in its PID namespace or the one above its init");
	if (l->for_children == IMG_PIDNS_NONE_YET)
		return p->nr_threads > 1 ? bad(run, p->pid, "it has threads and a PID namespace for its children to unshare") : 0;
	if (l->for_children &&
	    (!(ns = pidns_of(img, l->for_children)) ||
	     ns->parent != l->ns ||
	     proc_by_pid(img, ns->owner)->ppid != p->pid))
		return bad(run, p->pid, "its children's PID namespace is not one whose init is its child");
	return 0;
}

/* Its threads' TIDs at as many levels, the first thread's its PIDs */
static int check_threads(const struct restore_run *run,
			 const struct img_process *p)
{
	const struct img_pidlv *l = &p->proc.pidlv;
	uint32_t k;

	for (k = 0; k < p->nr_threads; k++)
		if (p->threads[k].nr_nstids != l->nr_nspids ||
		    (!k && memcmp(p->threads[k].nstids, l->nspids,
				  l->nr_nspids * sizeof(*l->nspids))))
			return bad(run, p->threads[k].tid, "its TIDs below the top PID namespace are not its process's levels");
	return 0;
}

int restore_pidnest_check(const struct restore_run *run)
{
	const struct image *img = run->img;
	uint32_t i;

	for (i = 0; i < img->nr_procs; i++)
		if (check_proc(run, &img->procs[i].proc) ||
		    check_threads(run, &img->procs[i]))
			return -1;
	return 0;
}

uint32_t restore_pidnest_tids(const struct img_proc *parent,
			      const struct img_proc *kp, pid_t *tids,
			      uint64_t *flags)
{
	const struct img_pidlv *l = &kp->pidlv;
	uint32_t i, n = 0;

	for (i = l->nr_nspids; i-- > 0;)
		tids[n++] = l->nspids[i];
	tids[n++] = kp->pid;
	if (l->nr_nspids && l->nspids[l->nr_nspids - 1] == 1 &&
	    parent->pidlv.for_children != l->ns)
		*flags |= CLONE_NEWPID;
	return n;
}

pid_t restore_pidnest_local(const struct restore_run *run,
			    const struct img_proc *me, pid_t pid)
{
	const struct img_proc *q = proc_by_pid(run->img, pid);
	uint32_t d = me->pidlv.nr_nspids;

	if (!q || q->pidlv.ns != me->pidlv.ns)
		return 0;
	return d ? q->pidlv.nspids[d - 1] : q->pid;
}

uint32_t restore_pidnest_tids_of(const struct img_thread *t, pid_t *tids)
{
	uint32_t i, n = 0;

	for (i = t->nr_nstids; i-- > 0;)
		tids[n++] = t->nstids[i];
	tids[n++] = t->tid;
	return n;
}

pid_t restore_pidnest_self(const struct img_proc *p)
{
	const struct img_pidlv *l = &p->pidlv;

	return l->nr_nspids ? l->nspids[l->nr_nspids - 1] : p->pid;
}
