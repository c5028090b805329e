/*
 * dump-groups: the sessions and process groups of the tree, as restore
 * can make them. A process is created by its parent, in its session,
 * and leaves it only by setsid(): one in a session that is neither its
 * own nor its parent's is refused. A group that no process of the tree
 * leads (its leader exited: an orphan in its dead parent's group, a
 * pipeline whose first command ended) is made by a helper process that
 * the members' parent makes with the group's id (restore/groups.c): its
 * members must all be children of one parent, or it is refused. The
 * root's group and session are restore's own.
 */
#include <errno.h>

#include "ckpt/dump-priv.h"

static const struct img_proc *proc_of(const struct dump_tree *t, pid_t pid)
{
	int i;

	for (i = 0; i < t->n; i++)
		if (t->procs[i].pid == pid)
			return &t->procs[i].proc.proc;
	return NULL;
}

static int refuse(const struct img_proc *p, const char *why, pid_t id)
{
	pr_err("can't dump %d: %s %d, which is not supported", p->pid, why,
	       id);
	errno = EOPNOTSUPP;
	return -1;
}

/* The group of p, when no process of the tree leads it (the root's
 * aside), has no member that another parent made. */
static int check_group(const struct dump_tree *t, const struct img_proc *p)
{
	const struct img_proc *root = &t->procs[0].proc.proc;
	int i;

	if (p->pgid == p->pid || p->pgid == root->pgid || p->sid == p->pid ||
	    proc_of(t, p->pgid))
		return 0;
	for (i = 1; i < t->n; i++) {
		const struct img_proc *q = &t->procs[i].proc.proc;

		if (q->pgid == p->pgid && q->ppid != p->ppid)
			return refuse(p, "its process group has no leader in the tree and members of other parents: group",
				      p->pgid);
	}
	return 0;
}

int dump_tree_check_groups(const struct dump_tree *t)
{
	const struct img_proc *p, *parent;
	int i;

	for (i = 1; i < t->n; i++) {
		p = &t->procs[i].proc.proc;
		parent = proc_of(t, p->ppid);
		if (!parent)
			continue;	/* dump-tree.c made the tree */
		if (p->sid != p->pid && p->sid != parent->sid)
			return refuse(p, "it is in a session neither its own nor its parent's: session",
				      p->sid);
		if (check_group(t, p))
			return -1;
	}
	return 0;
}
