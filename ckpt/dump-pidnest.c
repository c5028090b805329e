/*
 * PID namespaces below the tree's top one (the root's): a container
 * running `unshare -fp`, a sandbox. Each becomes an NS record of kind
 * PID owned by its init, the first process made in it, which must be of
 * the tree, with the id of the namespace it is below (NS_GET_PARENT on
 * the namespace file, 0 for the top one); each process gets its PIDs at
 * every level below the top one (NSpid), and the namespace its children
 * go to when it unshared one (pid_for_children): image.h, img_pidlv.
 * restore makes them top-down, each init by its parent with clone3's
 * set_tid holding one PID per level.
 *
 * Refused, by name: a namespace a process outside the tree is in (or
 * makes its children in), one whose init is not of the tree, a process
 * that joined one its parent is not in (nsenter), one whose /proc is
 * mounted again for it (unshare --mount-proc), and what restore would
 * have to name with PIDs of the inside: thread-directed timers and
 * SIGIO owners of processes in them; and threads of a process that
 * unshared one (restore makes them after it unshares: EINVAL). Threads
 * in them keep their TIDs at every level too.
 */
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/nsfs.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ckpt/dump-priv.h"

#define MAX_LEVELS	(IMG_MAX_PIDNS_DEPTH + 2)

int dump_pidns_top_level(pid_t pid)
{
	pid_t ids[MAX_LEVELS];
	char path[64];
	int n;

	snprintf(path, sizeof(path), "/proc/%d/status", pid);
	n = proc_status_ns_ids(path, "NSpid:", ids, MAX_LEVELS);
	if (n <= 0)
		pr_err("can't read the PIDs of %d in its PID namespaces", pid);
	return n - 1;
}

static int refuse(pid_t pid, uint64_t ino, const char *why)
{
	pr_err("can't dump %d: its pid namespace pid:[%llu], below the root's, %s",
	       pid, (unsigned long long)ino, why);
	return -1;
}

/* The inode of the PID namespace that pid's is below, or 0 */
static uint64_t parent_ns(pid_t pid)
{
	char path[64];
	struct stat st;
	int fd, up;
	uint64_t ino = 0;

	snprintf(path, sizeof(path), "/proc/%d/ns/pid", pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	up = fd < 0 ? -1 : ioctl(fd, NS_GET_PARENT);
	if (up >= 0 && !fstat(up, &st))
		ino = st.st_ino;
	else
		pr_perror("can't find the PID namespace above that of %d",
			  pid);
	if (up >= 0)
		close(up);
	if (fd >= 0)
		close(fd);
	return ino;
}

/* What restore would have to name by PIDs seen inside: refused */
static int check_inside(const struct dump_ctx *c)
{
	const struct img_process *p = &c->proc;
	uint64_t ns = p->proc.pidlv.ns;
	uint32_t k;

	for (k = 0; k < p->proc.ks.nr_timers; k++)
		if (p->proc.ks.timers[k].tid || p->proc.ks.timers[k].owner)
			return refuse(c->pid, ns, "has a timer of it that names a thread, which is not supported yet");
	for (k = 0; k < p->nr_fowns; k++)
		if (p->fowns[k].pid)
			return refuse(c->pid, ns, "has a SIGIO owner of its fd, which is not supported yet");
	return 0;
}

/* Thread k's TIDs of live process i below the top level (the NSpid of
 * its status, as the process's) */
static int read_thread_levels(struct dump_ctx *c, uint32_t k, int top)
{
	struct img_thread *th = &c->proc.threads[k];
	pid_t ids[MAX_LEVELS];
	char path[96];
	int n, j;

	snprintf(path, sizeof(path), "/proc/%d/task/%d/status", c->pid,
		 th->tid);
	n = proc_status_ns_ids(path, "NSpid:", ids, MAX_LEVELS);
	if (n - 1 - top != (int)c->proc.proc.pidlv.nr_nspids) {
		pr_err("can't read the TIDs of thread %d of %d in its PID namespaces",
		       th->tid, c->pid);
		return -1;
	}
	th->nr_nstids = n - 1 - top;
	for (j = 0; j < (int)th->nr_nstids; j++)
		th->nstids[j] = ids[top + 1 + j];
	return 0;
}

/* Process i's PIDs below the top level (top: its index in NSpid) and,
 * live, its namespace and its threads'; a zombie's is its parent's (an
 * init's zombie would leave an empty namespace: refused) */
static int read_levels(struct dump_tree *t, int i, int top)
{
	struct dump_ctx *c = &t->procs[i];
	struct img_pidlv *l = &c->proc.proc.pidlv;
	pid_t ids[MAX_LEVELS];
	char path[64];
	int n, k, up;

	snprintf(path, sizeof(path), "/proc/%d/status", c->pid);
	n = proc_status_ns_ids(path, "NSpid:", ids, MAX_LEVELS);
	if (n <= top || n - 1 - top > IMG_MAX_PIDNS_DEPTH) {
		pr_err("can't read the PIDs of %d in its PID namespaces",
		       c->pid);
		return -1;
	}
	l->nr_nspids = n - 1 - top;
	for (k = 0; k < (int)l->nr_nspids; k++)
		l->nspids[k] = ids[top + 1 + k];
	if (!l->nr_nspids)
		return 0;
	if (!c->proc.proc.zombie) {
		l->ns = dump_ns_ino(c->pid, "pid");
		for (k = 0; l->ns && k < (int)c->proc.nr_threads; k++)
			if (read_thread_levels(c, k, top))
				return -1;
		return l->ns ? check_inside(c) : -1;
	}
	up = dump_tree_index(t, c->proc.proc.ppid);
	if (up < 0 || l->nspids[l->nr_nspids - 1] == 1 ||
	    t->procs[up].proc.proc.pidlv.nr_nspids != l->nr_nspids) {
		pr_err("can't dump zombie %d: it was the init of a PID namespace below the root's",
		       c->pid);
		return -1;
	}
	l->ns = t->procs[up].proc.proc.pidlv.ns;
	return 0;
}

static struct img_ns *find_pidns(struct dump_tree *t, uint64_t ino)
{
	uint32_t j;

	for (j = 0; j < t->nr_nss; j++)
		if (t->nss[j].kind == IMG_NS_PID && t->nss[j].id == ino)
			return &t->nss[j];
	return NULL;
}

/* The namespace whose init is process i: its record, made by its
 * parent, who is in the namespace above it */
static int add_init(struct dump_tree *t, int i, uint64_t top)
{
	struct dump_ctx *c = &t->procs[i];
	uint64_t ino = c->proc.proc.pidlv.ns, up = parent_ns(c->pid);
	int j = dump_tree_index(t, c->proc.proc.ppid);
	struct img_ns *ns;
	pid_t out;

	if (!up)
		return -1;
	if (j < 0 || (up == top ? t->procs[j].proc.proc.pidlv.ns != 0 :
		      t->procs[j].proc.proc.pidlv.ns != up))
		return refuse(c->pid, ino, "has its init's parent in another than the namespace above it, which is not supported yet");
	if (c->proc.proc.ks.share & IMG_SHARE_FILES)
		return refuse(c->pid, ino, "has an init that shares its parent's file table, which is not supported yet");
	out = dump_ns_outsider(t, "pid", ino);
	if (!out)
		out = dump_ns_outsider(t, "pid_for_children", ino);
	if (out) {
		pr_err("can't dump %d: its pid namespace pid:[%llu] is shared with %d, outside the tree",
		       c->pid, (unsigned long long)ino, out);
		return -1;
	}
	if (dump_ns_proc_of(c->pid, ino))
		return refuse(c->pid, ino, "has a /proc of its own (unshare --mount-proc), which is not supported yet");
	ns = dump_ns_add_pid(t, ino, c->pid);
	if (!ns)
		return -1;
	ns->parent = up == top ? 0 : up;
	return 0;
}

/* Every namespace has its init in the tree and its parent among them;
 * everyone else's parent is in its namespace */
static int check_members(struct dump_tree *t)
{
	const struct img_ns *ns;
	const struct img_pidlv *l;
	int i, j;

	for (i = 0; i < t->n; i++) {
		l = &t->procs[i].proc.proc.pidlv;
		ns = l->ns ? find_pidns(t, l->ns) : NULL;
		if (l->ns && !ns)
			return refuse(t->procs[i].pid, l->ns, "has its init outside the tree");
		if (ns && ns->parent && !find_pidns(t, ns->parent))
			return refuse(t->procs[i].pid, l->ns, "is below one with no process of the tree");
		if (!l->ns || l->nspids[l->nr_nspids - 1] == 1)
			continue;
		j = dump_tree_index(t, t->procs[i].proc.proc.ppid);
		if (j < 0 || t->procs[j].proc.proc.pidlv.ns != l->ns)
			return refuse(t->procs[i].pid, l->ns, "has it joined from outside (nsenter), which is not supported yet");
	}
	return 0;
}

/* Where live process i's children go: its own namespace, one below
 * whose init is a child of its (it unshared CLONE_NEWPID, then forked,
 * as unshare -fp does), or one it unshared with no process yet */
static int for_children(struct dump_tree *t, int i)
{
	struct dump_ctx *c = &t->procs[i];
	uint64_t own = dump_ns_ino(c->pid, "pid");
	uint64_t kids = dump_ns_ino(c->pid, "pid_for_children");
	const struct img_ns *ns;
	int j;

	if (!own || !kids) {
		pr_err("can't read the PID namespaces of %d", c->pid);
		return -1;
	}
	if (kids == own)
		return 0;
	/* unshare -p with no fork since: restore unshares it last */
	if (kids == DUMP_NS_NONE_YET && c->proc.nr_threads > 1) {
		pr_err("can't dump %d: it has threads and its children would go to a PID namespace it made that has no process yet, which is not supported yet",
		       c->pid);
		return -1;
	}
	if (kids == DUMP_NS_NONE_YET) {
		c->proc.proc.pidlv.for_children = IMG_PIDNS_NONE_YET;
		return 0;
	}
	ns = find_pidns(t, kids);
	j = ns ? dump_tree_index(t, ns->owner) : -1;
	if (j < 0 || t->procs[j].proc.proc.ppid != c->pid) {
		pr_err("can't dump %d: its children go to PID namespace pid:[%llu], whose init is not a child of it, which is not supported yet",
		       c->pid, (unsigned long long)kids);
		return -1;
	}
	/* restore makes threads (CLONE_THREAD) once it unshared: EINVAL */
	if (c->proc.nr_threads > 1) {
		pr_err("can't dump %d: it has threads and makes its children in PID namespace pid:[%llu], which is not supported yet",
		       c->pid, (unsigned long long)kids);
		return -1;
	}
	for (j = 0; j < t->n; j++)
		if (t->procs[j].proc.proc.ppid == c->pid &&
		    (t->procs[j].proc.proc.ks.share & IMG_SHARE_FILES)) {
			pr_err("can't dump %d: it shares its file table with child %d and makes its children in PID namespace pid:[%llu], which is not supported yet",
			       c->pid, t->procs[j].pid,
			       (unsigned long long)kids);
			return -1;
		}
	c->proc.proc.pidlv.for_children = kids;
	return 0;
}

int dump_pidns_nest(struct dump_tree *t)
{
	int top = dump_pidns_top_level(t->procs[0].pid), i;
	uint64_t top_ino = dump_ns_ino(t->procs[0].pid, "pid");
	const struct img_proc *q;

	if (top < 0 || !top_ino)
		return -1;
	/* live ones first: a zombie's namespace is its parent's */
	for (i = 0; i < t->n; i++)
		if (!t->procs[i].proc.proc.zombie && read_levels(t, i, top))
			return -1;
	for (i = 0; i < t->n; i++)
		if (t->procs[i].proc.proc.zombie && read_levels(t, i, top))
			return -1;
	for (i = 0; i < t->n; i++) {
		q = &t->procs[i].proc.proc;
		if (!q->zombie && q->pidlv.nr_nspids &&
		    q->pidlv.nspids[q->pidlv.nr_nspids - 1] == 1 &&
		    add_init(t, i, top_ino))
			return -1;
	}
	if (check_members(t))
		return -1;
	for (i = 0; i < t->n; i++)
		if (!t->procs[i].proc.proc.zombie && for_children(t, i))
			return -1;
	return 0;
}
