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
 * What fork does not copy is read while the process is frozen, and
 * kept: the pages of a mapping under MADV_DONTFORK (not in the snapshot)
 * or MADV_WIPEONFORK (empty there). So is memory shared between
 * processes (dump-shm.c), as in any dump.
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

/* The pages of the mappings that a snapshot does not hold as its
 * process does, read while it is frozen. */
struct dump_cow_runs {
	struct cow_run {
		uint64_t addr, nr;
		uint8_t *data;
	} *v;
	size_t n;
};

/* Not in the child (MADV_DONTFORK), or empty there (MADV_WIPEONFORK). */
static int unforked(const struct img_vma *v)
{
	return !!(v->advice & (IMG_ADV_DONTFORK | IMG_ADV_WIPEONFORK));
}

/* A dump_run_fn: the run read from the frozen process and kept. */
static int save_run(struct dump_ctx *c, struct dump_mem_io *io,
		    uint64_t addr, uint64_t nr, void *arg)
{
	struct dump_cow_runs *s = arg;
	size_t len = nr * c->page_size;
	uint8_t *d = malloc(len);
	struct cow_run *nv = d ? realloc(s->v, (s->n + 1) * sizeof(*nv)) :
			     NULL;

	if (nv)
		s->v = nv;
	if (!nv || dump_mem_read(c, io, addr, d, len)) {
		dump_perror(c, "can't read memory of %d at %llx", c->pid,
			    (unsigned long long)addr);
		free(d);
		return -1;
	}
	s->v[s->n].addr = addr;
	s->v[s->n].nr = nr;
	s->v[s->n++].data = d;
	return 0;
}

/* Before the snapshot: the pages it will not hold, kept. */
static int save_unforked(struct dump_ctx *c)
{
	struct dump_mem_io io;
	uint32_t i;
	int ret = 0;

	for (i = 0; i < c->proc.nr_vmas && !unforked(&c->proc.vmas[i]); i++)
		;
	if (i == c->proc.nr_vmas)
		return 0;
	c->cow_runs = calloc(1, sizeof(*c->cow_runs));
	if (!c->cow_runs || dump_mem_io_open(c, &io))
		return -1;
	for (; !ret && i < c->proc.nr_vmas; i++)
		if (unforked(&c->proc.vmas[i]))
			ret = dump_mem_vma_runs(c, &io, &c->proc.vmas[i],
						save_run, c->cow_runs);
	dump_mem_io_close(&io);
	return ret;
}

/* The kept pages of v into the image. */
static int write_saved(struct dump_ctx *c, const struct img_vma *v)
{
	const struct dump_cow_runs *s = c->cow_runs;
	size_t k;

	for (k = 0; k < s->n; k++) {
		const struct cow_run *r = &s->v[k];

		if (r->addr < v->start || r->addr >= v->end)
			continue;
		if (img_write_pages_begin(c->w, r->addr, r->nr) ||
		    img_write_pages_data(c->w, r->data, r->nr * c->page_size) ||
		    img_write_pages_end(c->w))
			return -1;
	}
	return 0;
}

int dump_cow_write_memory(struct dump_ctx *c)
{
	struct dump_mem_io io;
	uint32_t i;
	int ret = 0;

	if (dump_mem_io_open(c, &io))
		return -1;
	for (i = 0; !ret && i < c->proc.nr_vmas; i++) {
		const struct img_vma *v = &c->proc.vmas[i];

		ret = unforked(v) ? write_saved(c, v) :
		      dump_mem_vma_runs(c, &io, v, dump_mem_write_run, NULL);
	}
	dump_mem_io_close(&io);
	return ret;
}

static void free_runs(struct dump_ctx *c)
{
	size_t k;

	for (k = 0; c->cow_runs && k < c->cow_runs->n; k++)
		free(c->cow_runs->v[k].data);
	if (c->cow_runs)
		free(c->cow_runs->v);
	free(c->cow_runs);
	c->cow_runs = NULL;
}

static int snap_one(struct dump_tree *t, struct dump_ctx *c)
{
	int r;

	if (save_unforked(c))
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

	for (i = t->n - 1; i >= 0; i--) {
		if (t->procs[i].cow_pid)
			drop_one(t, &t->procs[i]);
		free_runs(&t->procs[i]);
	}
	if (t->cow_guard >= 0)
		close(t->cow_guard);	/* it ends with nothing to do */
	t->cow_guard = -1;
}
