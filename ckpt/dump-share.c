/*
 * dump-share: what tasks share beyond memory objects and open files: an
 * address space (CLONE_VM without CLONE_THREAD: a vfork child, a clone
 * worker), an fd table (CLONE_FILES), the cwd, root and umask (CLONE_FS),
 * the signal handlers (CLONE_SIGHAND). kcmp(2) tells: between the
 * processes of the tree, between each and its parent and children
 * outside it, and between a thread and its leader.
 *
 * restore makes each process as its parent's child: a cwd, root and
 * umask or an fd table that a process shares with its parent in the tree
 * is marked in the image (IMG_SHARE_FS, IMG_SHARE_FILES) and made shared
 * again (clone(CLONE_FS), clone(CLONE_FILES)), and so are processes that
 * share one through their parents. A thread that called
 * unshare(CLONE_FILES) or unshare(CLONE_FS) has its own, written with it
 * (dump-tshare.c). Anything else would come back silently unshared, so
 * it is refused by name.
 *
 * A process that made a child with vfork() (CLONE_VFORK: vfork(2), and
 * posix_spawn(3), which clones with it) waits in the kernel until that
 * child calls execve() or exits, in a wait that PTRACE_INTERRUPT does not
 * end; the child shares its address space. It is found before it is
 * seized, or the freeze would wait for ever: a thread in state D whose
 * system call (/proc/PID/task/TID/syscall) is vfork, or clone or clone3
 * with CLONE_VFORK.
 */
#include <sys/syscall.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/kcmp.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "ckpt/dump-priv.h"

#define VFORK_WAIT_MS	2000	/* for a vfork() child's execve() */
#define VFORK_NAP_MS	10

static const struct share_kind {
	int type;
	uint32_t thread;	/* IMG_SHARE_*: a thread can have its own */
	uint32_t parent;	/* IMG_SHARE_*: restore can share it with a
				 * parent, 0: not */
	const char *what;
} kinds[] = {
	{ KCMP_VM, 0, 0, "its address space (CLONE_VM)" },
	{ KCMP_FILES, IMG_SHARE_FILES, IMG_SHARE_FILES,
	  "its fd table (CLONE_FILES)" },
	{ KCMP_FS, IMG_SHARE_FS, IMG_SHARE_FS,
	  "its cwd, root and umask (CLONE_FS)" },
	{ KCMP_SIGHAND, 0, 0, "its signal handlers (CLONE_SIGHAND)" },
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

static int tree_index(const struct dump_tree *t, pid_t pid)
{
	int i;

	for (i = 0; i < t->n; i++)
		if (t->procs[i].pid == pid)
			return i;
	return -1;
}

/* The farthest ancestor that process i shares bit with through its
 * parents (marked by mark_parent()), or i itself */
static int share_top(const struct dump_tree *t, int i, uint32_t bit)
{
	int n;

	for (n = 0; n < t->n; n++) {
		const struct img_proc *p = &t->procs[i].proc.proc;
		int up;

		if (!(p->ks.share & bit))
			break;
		up = tree_index(t, p->ppid);
		if (up < 0)
			break;
		i = up;
	}
	return i;
}

/* Process i of the tree against pid (a zombie shares nothing with it:
 * the kernel compares its NULL tables). What i shares with its parent,
 * directly or through theirs, is restored: see the top of the file. */
static int check_pair(const struct dump_tree *t, int i, pid_t pid)
{
	pid_t me = t->procs[i].pid;
	int j = tree_index(t, pid);
	size_t k;
	int r;

	for (k = 0; k < ARRAY_SIZE(kinds); k++) {
		uint32_t bit = kinds[k].parent;

		r = shares(me, pid, kinds[k].type);
		if (r < 0) {
			pr_perror("can't compare %d with %d", me, pid);
			return -1;
		}
		if (!r || (bit && j >= 0 &&
			   share_top(t, i, bit) == share_top(t, j, bit)))
			continue;
		pr_err("can't dump %d: it shares %s with %d%s, which is not supported",
		       me, kinds[k].what, pid, j < 0 ? ", out of the tree" :
		       bit ? ", not through a parent" : "");
		errno = EOPNOTSUPP;
		return -1;
	}
	return 0;
}

/*
 * A child that shares its parent's fd table is made last by its parent,
 * with the table whole (restore/child.c): it can't make children of its
 * own, who start from a table of theirs, nor open a terminal to lead a
 * session with.
 */
static int check_files_child(const struct dump_tree *t, int i)
{
	const struct img_proc *p = &t->procs[i].proc.proc;
	int k;

	for (k = 0; k < t->n; k++)
		if (t->procs[k].proc.proc.ppid == p->pid)
			break;
	if (k == t->n && p->sid != p->pid)
		return 0;
	pr_err("can't dump %d: it shares its parent's fd table (CLONE_FILES) and %s, which is not supported",
	       p->pid, k < t->n ? "has children" : "leads a session");
	errno = EOPNOTSUPP;
	return -1;
}

/* What process i shares with its parent in the tree and restore can
 * share again. */
static int mark_parent(struct dump_tree *t, int i)
{
	struct img_proc *p = &t->procs[i].proc.proc;
	int up = tree_index(t, p->ppid);
	size_t k;
	int r;

	if (up < 0 || t->procs[up].proc.proc.zombie)
		return 0;
	for (k = 0; k < ARRAY_SIZE(kinds); k++) {
		if (!kinds[k].parent)
			continue;
		r = shares(t->procs[i].pid, p->ppid, kinds[k].type);
		if (r < 0) {
			pr_perror("can't compare %d with %d", t->procs[i].pid,
				  p->ppid);
			return -1;
		}
		if (r)
			p->ks.share |= kinds[k].parent;
	}
	if ((p->ks.share & IMG_SHARE_FILES) && check_files_child(t, i))
		return -1;
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

/* Threads that own kind k: each its own, not one for several, which
 * restore would make separate */
static int check_owners(const struct dump_ctx *c, size_t k)
{
	const struct img_process *p = &c->proc;
	uint32_t a, b, bit = kinds[k].thread;

	for (a = 0; a < p->nr_threads; a++)
		for (b = a + 1; b < p->nr_threads; b++) {
			if (!(p->threads[a].own.own & bit) ||
			    !(p->threads[b].own.own & bit) ||
			    shares(p->threads[a].tid, p->threads[b].tid,
				   kinds[k].type) != 1)
				continue;
			pr_err("can't dump %d: threads %d and %d share %s of their own, which is not supported",
			       c->pid, p->threads[a].tid, p->threads[b].tid,
			       kinds[k].what);
			errno = EOPNOTSUPP;
			return -1;
		}
	return 0;
}

/*
 * A thread with an fd table or fs context of its own (unshare(2)),
 * compared with the leader or, when the leader has exited (its tables
 * gone), the first thread that lives: restore compares with the first.
 */
static int check_threads(struct dump_ctx *c)
{
	pid_t ref = inject_tid(c->ip, c->leader);
	size_t k;
	int i;

	for (i = 0; i < inject_nr_threads(c->ip); i++) {
		pid_t tid = inject_tid(c->ip, i);

		for (k = 0; k < ARRAY_SIZE(kinds) && tid != ref; k++) {
			if (!kinds[k].thread ||
			    shares(tid, ref, kinds[k].type) != 0)
				continue;
			if (c->leader) {
				pr_err("can't dump %d: thread %d has %s of its own and the leader has exited, which is not supported",
				       c->pid, tid, kinds[k].what + 4);
				errno = EOPNOTSUPP;
				return -1;
			}
			if (dump_thread_own(c, ref, i, kinds[k].thread)) {
				if (errno != EOPNOTSUPP)
					pr_perror("can't read what thread %d of %d has of its own",
						  tid, c->pid);
				return -1;
			}
		}
	}
	for (k = 0; k < ARRAY_SIZE(kinds); k++)
		if (kinds[k].thread && check_owners(c, k))
			return -1;
	return 0;
}

int dump_tree_check_shared(struct dump_tree *t)
{
	int i, j;

	for (i = 0; i < t->n; i++)
		if (!t->procs[i].proc.proc.zombie &&
		    (check_threads(&t->procs[i]) || mark_parent(t, i)))
			return -1;
	for (i = 0; i < t->n; i++) {
		if (t->procs[i].proc.proc.zombie)
			continue;
		if (check_outside(t, i))
			return -1;
		for (j = i + 1; j < t->n; j++)
			if (!t->procs[j].proc.proc.zombie &&
			    check_pair(t, i, t->procs[j].pid))
				return -1;
	}
	return 0;
}

/* One thread of pid waits in vfork(): see dump_check_vfork(). */
static int in_vfork(pid_t pid, pid_t tid)
{
	char path[96], *s;
	unsigned long long nr = 0, a0 = 0, flags = 0;
	char state = 0;
	int n, fd;

	snprintf(path, sizeof(path), "/proc/%d/task/%d/stat", pid, tid);
	s = read_file_str(path, NULL);
	if (s && strrchr(s, ')'))
		state = strrchr(s, ')')[2];
	free(s);
	if (state != 'D')
		return 0;
	snprintf(path, sizeof(path), "/proc/%d/task/%d/syscall", pid, tid);
	s = read_file_str(path, NULL);
	n = s ? sscanf(s, "%llu %llx", &nr, &a0) : 0;
	free(s);
	if (n < 2)
		return 0;
#ifdef SYS_vfork
	if (nr == SYS_vfork)
		return 1;
#endif
	if (nr == SYS_clone)
		return !!(a0 & CLONE_VFORK);
	if (nr != SYS_clone3)
		return 0;
	/* struct clone_args begins with its flags */
	snprintf(path, sizeof(path), "/proc/%d/mem", pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	n = pread(fd, &flags, sizeof(flags), a0) == sizeof(flags);
	close(fd);
	return n && (flags & CLONE_VFORK);
}

static int any_in_vfork(pid_t pid)
{
	pid_t *tids = NULL;
	int i, n = proc_list_tasks(pid, &tids), r = 0;

	for (i = 0; i < n && !r; i++)
		r = in_vfork(pid, tids[i]);
	free(tids);
	return r;
}

/*
 * A shell runs its commands through vfork() (dash, posix_spawn): its
 * child calls execve() a moment later, and the parent, not yet frozen,
 * goes on. So it is waited for, VFORK_WAIT_MS at most, then refused.
 */
int dump_check_vfork(pid_t pid)
{
	const struct timespec nap = { 0, VFORK_NAP_MS * 1000000L };
	int waited;

	for (waited = 0; any_in_vfork(pid); waited += VFORK_NAP_MS) {
		if (waited >= VFORK_WAIT_MS) {
			pr_err("can't dump %d: it waits in vfork() for a child that shares its address space (CLONE_VM), which is not supported",
			       pid);
			errno = EOPNOTSUPP;
			return -1;
		}
		nanosleep(&nap, NULL);
	}
	return 0;
}
