/*
 * attach --cow: a copy-on-write snapshot (issue 13 §2). The tree is
 * frozen and its state read as usual; then each process makes, by a
 * remote clone(2), a child that shares its memory copy-on-write
 * (inject_fork_held), and the tree is thawed. The pages are read from
 * those snapshots while the tree runs on: what a process writes after
 * the thaw gets a page of its own, so each snapshot holds its process's
 * memory as it was at the freeze, and the image means what a plain dump
 * at that moment would.
 *
 * A snapshot is no child that the target sees:
 * - its exit signal is 0: no SIGCHLD, and only a wait with __WALL or
 *   __WCLONE could ever report it;
 * - while it lives, and once dead until we reap it, it is traced by us,
 *   and a traced zombie is reported to its tracer alone (wait(2), Linux
 *   kernel/exit.c: "A zombie ptracee is only visible to its ptracer");
 * - reaped by us, a traced child is handed to its real parent as a
 *   zombie (not reaped: its exit signal is not SIGCHLD). So it is killed
 *   and reaped with its process frozen again a moment, which then reaps
 *   it by a remote wait4 before any of its threads can: no wait of the
 *   target ever sees it. No CLONE_PARENT: that would give the zombie to
 *   the target's parent instead.
 * It runs no instruction of the target's: seized from its birth, stopped
 * before its first instruction, and given PTRACE_O_EXITKILL at once, it
 * dies if ckpt does; released in between, it exits through a way back of
 * its own (inject_fork_held). Its PID is taken from the target's PID
 * namespaces for the time of the dump (ns_last_pid moves on by one).
 *
 * What fork does not copy is refused: a mapping under MADV_DONTFORK is
 * not in the snapshot, one under MADV_WIPEONFORK is empty there. Memory
 * shared between processes (dump-shm.c) is read while frozen, as in any
 * dump.
 */
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ckpt/dump-priv.h"
#include "util/fault.h"

/* To the guardian: a process and its snapshot (COW_SNAP), or that the
 * snapshot of the process is gone (COW_GONE). */
enum { COW_SNAP = 1, COW_GONE = 2 };

struct cow_msg {
	uint32_t kind;
	pid_t pid;		/* the process */
	pid_t snap, vsnap;	/* its snapshot: our pid, its */
};

struct cow_held {
	pid_t pid, vsnap;
	int pidfd;		/* the snapshot's */
};

/* Is the process of pidfd reaped ("Pid: -1" in its fdinfo)? */
static int reaped(int pidfd)
{
	char path[64], *s, *p;
	int r = 0;

	snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", pidfd);
	s = read_file_str(path, NULL);
	p = s ? strstr(s, "\nPid:") : NULL;
	if (p)
		r = atoi(p + 5) < 0;
	free(s);
	return r;
}

/*
 * The guardian's work once ckpt is gone: the snapshot killed (it was,
 * PTRACE_O_EXITKILL, unless ckpt died before that), the process seized
 * once the dead ckpt's hold on it ends (after its descriptors are
 * closed, which we see first), and its snapshot's zombie reaped by it.
 */
static void guard_reap(const struct cow_held *h)
{
	struct inject_proc *ip = NULL;
	long r = 0;
	int i;

	if (h->pidfd >= 0)
		syscall(SYS_pidfd_send_signal, h->pidfd, SIGKILL, NULL, 0);
	for (i = 0; inject_seize(h->pid, &ip); i++) {
		if (errno != EPERM || i == 1000)
			return;
		usleep(10000);
	}
	if (!inject_prepare(ip)) {
		/* no wait of its own meanwhile: it is frozen */
		for (i = 0; i < 1000 && !r && !reaped(h->pidfd); i++) {
			if (inject_syscall(ip, inject_leader(ip), &r, SYS_wait4,
					   h->vsnap, 0, WNOHANG | __WALL, 0, 0,
					   0))
				break;
			if (!r)
				usleep(10000);
		}
		if (inject_unprepare(ip))
			pr_warn("can't unmap our page from %d", h->pid);
	}
	inject_release(ip, 0);
}

static void __attribute__((noreturn)) guardian(int sk)
{
	struct cow_held *h = NULL, *nh;
	struct cow_msg m;
	size_t n = 0, i;
	ssize_t r;

	fault_off();
	for (;;) {
		r = read(sk, &m, sizeof(m));
		if (r < 0 && errno == EINTR)
			continue;
		if (r != sizeof(m))
			break;	/* end of file */
		for (i = 0; m.kind == COW_GONE && i < n; i++)
			if (h[i].pid == m.pid) {
				close(h[i].pidfd);
				h[i--] = h[--n];
			}
		if (m.kind != COW_SNAP || !(nh = realloc(h, (n + 1) *
							 sizeof(*h))))
			continue;
		h = nh;
		h[n].pid = m.pid;
		h[n].vsnap = m.vsnap;
		h[n++].pidfd = syscall(SYS_pidfd_open, m.snap, 0);
	}
	for (i = 0; i < n; i++)	/* none left when ckpt ended well */
		guard_reap(&h[i]);
	_exit(0);
}

static int guard_tell(struct dump_tree *t, uint32_t kind,
		      const struct dump_ctx *c)
{
	struct cow_msg m = { .kind = kind, .pid = c->pid,
			     .snap = c->cow_pid, .vsnap = c->cow_vpid };

	if (send(t->cow_guard, &m, sizeof(m), MSG_NOSIGNAL) == sizeof(m))
		return 0;
	pr_perror("can't tell the guardian of the snapshots about %d",
		  c->pid);
	return -1;
}

/* A mapping the snapshot would not hold as the process does. */
static int cow_refused(const struct dump_ctx *c)
{
	const uint32_t adv = IMG_ADV_DONTFORK | IMG_ADV_WIPEONFORK;
	uint32_t i;

	for (i = 0; i < c->proc.nr_vmas; i++) {
		const struct img_vma *v = &c->proc.vmas[i];

		if (!(v->advice & adv))
			continue;
		pr_err("can't dump %d with --cow: its mapping %llx-%llx is under %s (a child does not get it as it is)",
		       c->pid, (unsigned long long)v->start,
		       (unsigned long long)v->end,
		       v->advice & IMG_ADV_DONTFORK ? "MADV_DONTFORK" :
		       "MADV_WIPEONFORK");
		errno = EOPNOTSUPP;
		return 1;
	}
	return 0;
}

static int snap_one(struct dump_tree *t, struct dump_ctx *c)
{
	int r;

	if (cow_refused(c))
		return -1;
	if (inject_prepare(c->ip)) {
		dump_perror(c, "can't make system calls in %d", c->pid);
		return -1;
	}
	r = inject_fork_held(c->ip, &c->cow_pid, &c->cow_vpid);
	if (r)
		dump_perror(c, "can't take a copy-on-write snapshot of %d",
			    c->pid);
	else	/* at once: from now on it is the guardian's if we die */
		r = guard_tell(t, COW_SNAP, c);
	if (inject_unprepare(c->ip)) {
		dump_perror(c, "can't clean up after system calls in %d",
			    c->pid);
		r = -1;
	}
	if (!r)
		pr_info("%d: snapshot %d", c->pid, c->cow_pid);
	return r;
}

int dump_cow_snap(struct dump_tree *t)
{
	int i;

	t->cow_guard = dump_guard_fork(guardian, "the snapshots' guardian");
	if (t->cow_guard < 0)
		return -1;
	for (i = 0; i < t->n; i++)
		if (!t->procs[i].proc.proc.zombie &&
		    snap_one(t, &t->procs[i]))
			return -1;
	return 0;
}

pid_t dump_mem_pid(const struct dump_ctx *c)
{
	return c->cow_pid ? c->cow_pid : c->pid;
}

/* The snapshot killed and reaped by us, its tracer: the zombie is its
 * parent's then. */
static void kill_snapshot(pid_t pid)
{
	int st;

	if (kill(pid, SIGKILL) && errno == ESRCH)
		return;
	for (;;) {
		if (waitpid(pid, &st, __WALL) < 0) {
			if (errno == EINTR)
				continue;
			pr_perror("can't reap the snapshot %d", pid);
			return;
		}
		if (WIFEXITED(st) || WIFSIGNALED(st))
			return;
	}
}

/* Frozen (ip), the process reaps its snapshot's zombie (vpid: its pid
 * for the process) before any thread of its own can wait for it. */
static int reap_remote(struct dump_ctx *c, struct inject_proc *ip)
{
	long r = -1;

	if (inject_prepare(ip))
		return -1;
	if (inject_syscall(ip, inject_leader(ip), &r, SYS_wait4, c->cow_vpid,
			   0, WNOHANG | __WALL, 0, 0, 0))
		r = -1;
	if (inject_unprepare(ip))
		r = -1;
	if (r != c->cow_vpid) {
		errno = r < 0 && r > -4096 ? -r : ECHILD;
		return -1;
	}
	return 0;
}

/* Freeze the process again a moment, kill its snapshot and reap it
 * through the process. */
static void drop_one(struct dump_tree *t, struct dump_ctx *c)
{
	struct inject_proc *ip = c->ip;
	int seized = 0;

	if (!ip) {
		seized = !inject_seize(c->pid, &ip);
		if (!seized)
			ip = NULL;	/* gone: its reaper takes the zombie */
		else
			inject_use_code(ip, &t->code);
	}
	kill_snapshot(c->cow_pid);
	if (ip && reap_remote(c, ip))
		pr_perror("%d may see its snapshot %d exit (wait with __WALL)",
			  c->pid, c->cow_vpid);
	if (seized && inject_release(ip, 0) && errno != ESRCH)
		pr_perror("can't thaw %d after removing its snapshot", c->pid);
	if (t->cow_guard >= 0)
		(void)!guard_tell(t, COW_GONE, c);	/* said */
	c->cow_pid = c->cow_vpid = 0;
}

void dump_cow_end(struct dump_tree *t)
{
	int i;

	for (i = t->n - 1; i >= 0; i--)
		if (t->procs[i].cow_pid)
			drop_one(t, &t->procs[i]);
	if (t->cow_guard >= 0)
		close(t->cow_guard);	/* it ends with nothing to do */
	t->cow_guard = -1;
}
