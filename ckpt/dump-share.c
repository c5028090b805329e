/*
 * dump-share: what tasks share beyond memory objects and open files: an
 * address space (CLONE_VM without CLONE_THREAD: a vfork child, a clone
 * worker), an fd table (CLONE_FILES), the cwd, root and umask (CLONE_FS),
 * the signal handlers (CLONE_SIGHAND). restore makes each process with
 * its own of each, shared by its threads; anything else would come back
 * silently unshared, so it is refused by name. kcmp(2) tells: between
 * the processes of the tree, between each and its parent and children
 * outside it, and between a thread and its leader (a thread that called
 * unshare(CLONE_FILES) or unshare(CLONE_FS)).
 */
#include <sys/syscall.h>
#include <errno.h>
#include <linux/kcmp.h>
#include <stdlib.h>
#include <unistd.h>

#include "ckpt/dump-priv.h"

static const struct share_kind {
	int type;
	int thread;	/* a thread can have its own (unshare(2)) */
	const char *what;
} kinds[] = {
	{ KCMP_VM, 0, "its address space (CLONE_VM)" },
	{ KCMP_FILES, 1, "its fd table (CLONE_FILES)" },
	{ KCMP_FS, 1, "its cwd, root and umask (CLONE_FS)" },
	{ KCMP_SIGHAND, 0, "its signal handlers (CLONE_SIGHAND)" },
};

/* 1: a and b share it; 0: not, or one of them is gone; -1: can't tell */
static int shares(pid_t a, pid_t b, int type)
{
	long r = syscall(SYS_kcmp, a, b, type, 0, 0);

	if (r == 0)
		return 1;
	if (r > 0 || errno == ESRCH)
		return 0;
	return -1;
}

/* Process i of the tree against pid (a zombie shares nothing with it:
 * the kernel compares its NULL tables) */
static int check_pair(const struct dump_tree *t, int i, pid_t pid)
{
	pid_t me = t->procs[i].pid;
	size_t k;
	int r;

	for (k = 0; k < ARRAY_SIZE(kinds); k++) {
		r = shares(me, pid, kinds[k].type);
		if (r < 0) {
			pr_perror("can't compare %d with %d", me, pid);
			return -1;
		}
		if (r) {
			pr_err("can't dump %d: it shares %s with %d%s, which is not supported",
			       me, kinds[k].what, pid,
			       dump_tree_has(t, pid) ? "" : ", out of the tree");
			errno = EOPNOTSUPP;
			return -1;
		}
	}
	return 0;
}

/* Its parent and children out of the tree */
static int check_outside(const struct dump_tree *t, int i)
{
	const struct img_proc *p = &t->procs[i].proc.proc;
	pid_t *kids = NULL;
	int n, k, rc = 0;

	if (p->ppid > 1 && !dump_tree_has(t, p->ppid) &&
	    check_pair(t, i, p->ppid))
		return -1;
	n = dump_children_of(t->procs[i].pid, &kids);
	if (n < 0)
		return 0;	/* the children are what they were */
	for (k = 0; k < n && !rc; k++)
		if (!dump_tree_has(t, kids[k]))
			rc = check_pair(t, i, kids[k]);
	free(kids);
	return rc;
}

/*
 * A thread with an fd table or fs context of its own (unshare(2)),
 * compared with the leader or, when the leader has exited (its tables
 * gone), the first thread that lives
 */
static int check_threads(const struct dump_ctx *c)
{
	pid_t ref = inject_tid(c->ip, c->leader);
	int i;

	for (i = 0; i < inject_nr_threads(c->ip); i++) {
		pid_t tid = inject_tid(c->ip, i);
		size_t k;

		for (k = 0; k < ARRAY_SIZE(kinds) && tid != ref; k++) {
			if (!kinds[k].thread ||
			    shares(tid, ref, kinds[k].type) != 0)
				continue;
			pr_err("can't dump %d: thread %d does not share %s with it, which is not supported",
			       c->pid, tid, kinds[k].what);
			errno = EOPNOTSUPP;
			return -1;
		}
	}
	return 0;
}

int dump_tree_check_shared(struct dump_tree *t)
{
	int i, j;

	for (i = 0; i < t->n; i++) {
		if (t->procs[i].proc.proc.zombie)
			continue;
		if (check_threads(&t->procs[i]) || check_outside(t, i))
			return -1;
		for (j = i + 1; j < t->n; j++)
			if (!t->procs[j].proc.proc.zombie &&
			    check_pair(t, i, t->procs[j].pid))
				return -1;
	}
	return 0;
}
