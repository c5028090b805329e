/*
 * Running a seized thread on to the next of a set of addresses (the
 * landmarks of a ckpt cc program): a breakpoint on each, the thread
 * continued until it traps on one of them or the bound passes, every
 * breakpoint removed whatever happened. The thread's registers as seized
 * become those where it stopped, so that the dump records them and a
 * release resumes it from there.
 */
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "arch/arch.h"
#include "inject/inject-priv.h"
#include "util/fault.h"

static int put_all(struct inject_proc *p, const uint64_t *addrs, size_t n,
		   const uint8_t *bytes, size_t len, int stride)
{
	size_t i;
	int ret = 0;

	for (i = 0; i < n; i++)
		if (inject_write(p, addrs[i], bytes + stride * i, len))
			ret = -1;
	return ret;
}

static int is_one(const uint64_t *addrs, size_t n, uint64_t a)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (addrs[i] == a)
			return 1;
	return 0;
}

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

/* The next stop of tid before deadline (ms), else interrupt it: 0 and
 * *status, 1 when interrupted at the deadline, -1 (ESRCH: gone). */
static int wait_until(pid_t tid, double deadline, int *status)
{
	struct timespec ms = { 0, 1000000 };
	pid_t r;
	int sig;

	for (;;) {
		r = waitpid(tid, status, __WALL | WNOHANG);
		if (r < 0 && errno != EINTR)
			return -1;
		if (r > 0) {
			if (WIFEXITED(*status) || WIFSIGNALED(*status)) {
				errno = ESRCH;
				return -1;
			}
			return 0;
		}
		if (now_ms() > deadline)
			break;
		nanosleep(&ms, NULL);
	}
	if (ptrace(PTRACE_INTERRUPT, tid, NULL, NULL))
		return -1;
	for (;;) {
		if (inject_wait_stop(tid, status))
			return -1;
		if ((*status >> 16) == PTRACE_EVENT_STOP)
			return 1;
		/* a signal on its way first: delivered, then the stop; but
		 * a breakpoint's (or a fault's of the same signal, which its
		 * instruction makes again) is dropped, the thread left on
		 * it */
		sig = (*status >> 16) ? 0 : WSTOPSIG(*status);
		if (sig == arch_breakpoint_sig())
			sig = 0;
		if (ptrace(PTRACE_CONT, tid, NULL, (void *)(long)sig))
			return -1;
	}
}

/*
 * A stop of the process's own (job control: SIGSTOP, SIGTSTP ...) in a
 * thread we run: not ours to end. The run ends (EINTR), the thread kept
 * in its group stop, which a detach leaves it in, and the others join it
 * once we let them go.
 */
static int job_stop(struct inject_thread *t, int status)
{
	if ((status >> 16) != PTRACE_EVENT_STOP || WSTOPSIG(status) == SIGTRAP)
		return 0;
	t->group_stop = WSTOPSIG(status);
	errno = EINTR;
	return 1;
}

/* Run until a breakpoint of ours traps: 0, 1 at the deadline, -1. */
static int run(struct inject_thread *t, const uint64_t *addrs, size_t n,
	       unsigned timeout_ms, struct arch_regs *r)
{
	double deadline = now_ms() + timeout_ms;
	long sig = 0;
	int status, w;

	for (;;) {
		if (ptrace(PTRACE_CONT, t->tid, NULL, (void *)sig))
			return -1;
		w = wait_until(t->tid, deadline, &status);
		if (w >= 0 && job_stop(t, status))
			return -1;
		if (w < 0 || (w && arch_get_regs(t->tid, r)))
			return -1;
		if (w)	/* the deadline: on one of them already? */
			return is_one(addrs, n, arch_breakpoint_addr(r)) ? 0 : 1;
		sig = (status >> 16) ? 0 : WSTOPSIG(status);
		if (sig != arch_breakpoint_sig())
			continue;	/* delivered on the next CONT */
		if (arch_get_regs(t->tid, r))
			return -1;
		if (is_one(addrs, n, arch_breakpoint_addr(r))) {
			fault_point("landmark-stopped");
			return 0;
		}
		/* the program's own: delivered on the next CONT */
	}
}

/*
 * Thread t stopped on the breakpoint that r (its registers in the stop)
 * says: it stands on the breakpoint's address, for the dump and in the
 * kernel. (On x86_64 it is there already: arch_breakpoint_insn. Were it
 * past it, a death of ours before the registers are set would let it run
 * on from there: the kernel drops the pending signal of a stopped
 * thread whose tracer dies.) Freed by our death, it meets the breakpoint
 * again, if it is still there, and the runtime of ckpt cc programs
 * (cc/rt-heal.c) takes it away.
 */
static int at_addr(struct inject_thread *t, struct arch_regs *r)
{
	arch_regs_set_ip(r, arch_breakpoint_addr(r));
	arch_regs_clear_syscall(r);
	if (arch_set_regs(t->tid, r))
		return -1;
	t->regs = *r;
	return 0;
}

int inject_run_to(struct inject_proc *p, int ti, const uint64_t *addrs,
		  size_t n, unsigned timeout_ms, uint64_t *hit)
{
	struct inject_thread *t = &p->threads[ti];
	uint8_t bp[8], *saved = calloc(n + 1, 8);
	size_t len = arch_breakpoint_insn(bp), i;
	struct arch_regs r;
	int ret = -1, saved_errno;

	if (!saved)
		return -1;
	for (i = 0; i < n; i++)
		if (inject_read(p, addrs[i], saved + 8 * i, len))
			goto out;
	for (i = 0; i < n; i++)
		if (inject_write(p, addrs[i], bp, len)) {
			put_all(p, addrs, i, saved, len, 8);
			goto out;
		}
	fault_point("landmark-set");
	ret = run(t, addrs, n, timeout_ms, &r);
	saved_errno = errno;
	if (ret == 0) {
		*hit = arch_breakpoint_addr(&r);
		if (at_addr(t, &r))
			ret = -1;
		fault_point("landmark-hit");
	} else if (ret > 0) {
		t->regs = r;	/* it ran: this is where it is now */
	}
	if (put_all(p, addrs, n, saved, len, 8))
		ret = -1;
	fault_point("landmark-unset");
	if (ret == 1)
		errno = ETIMEDOUT;
	else if (ret < 0)
		errno = saved_errno;
out:
	free(saved);
	return ret ? -1 : 0;
}

/*
 * Every thread at once (inject_run_all_to). A thread that waits for
 * another (a mutex, a join) may never reach an address while that one
 * stands still, so all run together: each stays stopped where it traps
 * on one, the others run on, and every slice (20 ms, doubling up to
 * 320) all are interrupted and settled() is asked. Threads born
 * meanwhile are seized by PTRACE_O_TRACECLONE and run too; threads that
 * exit are forgotten.
 */
struct all {
	struct inject_proc *p;
	const uint64_t *addrs;
	size_t n;
	int job_stop;	/* a thread entered a group stop: the run ends */
};

/* A clone event of thread i: the new thread, which reports its first
 * stop, kept stopped and ours */
static int add_born(struct all *a, int i)
{
	unsigned long msg;
	struct inject_thread *t;
	pid_t tid;
	int status;

	if (ptrace(PTRACE_GETEVENTMSG, a->p->threads[i].tid, NULL, &msg))
		return -1;
	tid = (pid_t)msg;
	if (inject_wait_stop(tid, &status))
		return errno == ESRCH ? 0 : -1;
	if (inject_add_thread(a->p, tid))
		return -1;
	t = &a->p->threads[a->p->nr_threads - 1];
	t->stopped = 1;
	return arch_get_regs(tid, &t->regs) ||
	       inject_get_sigmask(tid, &t->sigmask) ? -1 : 0;
}

/* Thread i reported status: 0 (it stopped: at one of the addresses,
 * for an interrupt or a signal, which it gets when continued), 1 when
 * it was our interrupt's stop, -1 */
static int on_stop(struct all *a, int i, int status)
{
	struct inject_thread *t = &a->p->threads[i];
	int ev = status >> 16, sig = WSTOPSIG(status);
	struct arch_regs r;

	t->running = 0;
	if (ev == PTRACE_EVENT_CLONE)
		return add_born(a, i);
	if (job_stop(t, status)) {
		a->job_stop = 1;
		return 1;
	}
	if (ev)
		return ev == PTRACE_EVENT_STOP ? 1 : 0;
	if (sig == arch_breakpoint_sig()) {
		if (arch_get_regs(t->tid, &r))
			return -1;
		if (is_one(a->addrs, a->n, arch_breakpoint_addr(&r))) {
			fault_point("landmark-stopped");
			if (at_addr(t, &r))
				return -1;
			t->at_addr = 1;
			fault_point("landmark-hit");
			return 0;
		}
	}
	t->sig = sig;
	return 0;
}

/* Thread i gone: forgotten, unless it is the process's leader */
static int gone(struct all *a, int i)
{
	if (a->p->threads[i].tid == a->p->pid) {
		errno = ESRCH;
		return -1;
	}
	inject_drop_thread(a->p, i);
	return 0;
}

static int cont(struct all *a, int i)
{
	struct inject_thread *t = &a->p->threads[i];

	if (t->at_addr || t->running || t->group_stop)
		return 0;
	if (ptrace(PTRACE_CONT, t->tid, NULL, (void *)(long)t->sig) &&
	    errno != ESRCH)
		return -1;
	/* (ESRCH: exiting; its end is waited for as a running one's) */
	t->sig = 0;
	t->running = 1;
	return 0;
}

/* Until ms (CLOCK_MONOTONIC) or every thread at an address */
static int poll_all(struct all *a, double until)
{
	struct timespec ms = { 0, 1000000 };
	int i, status, left;
	pid_t r;

	do {
		left = 0;
		for (i = 0; i < a->p->nr_threads; i++) {
			if (cont(a, i))
				return -1;
			if (!a->p->threads[i].running)
				continue;
			r = waitpid(a->p->threads[i].tid, &status,
				    __WALL | WNOHANG);
			if (r < 0 && errno != EINTR)
				return -1;
			if (r > 0 && (WIFEXITED(status) ||
				      WIFSIGNALED(status))) {
				if (gone(a, i--))
					return -1;
				continue;
			}
			if (r > 0 && (on_stop(a, i, status) < 0 ||
				      cont(a, i)))
				return -1;
			if (a->job_stop)
				return 0;
			left += !a->p->threads[i].at_addr;
		}
		if (left)
			nanosleep(&ms, NULL);
	} while (left && now_ms() < until);
	return 0;
}

/* Every thread stopped: those running interrupted */
static int halt_all(struct all *a)
{
	int i, status, w;

	for (i = 0; i < a->p->nr_threads; i++)
		if (a->p->threads[i].running &&
		    ptrace(PTRACE_INTERRUPT, a->p->threads[i].tid, NULL, NULL) &&
		    errno != ESRCH)
			return -1;
	for (i = 0; i < a->p->nr_threads; i++) {
		struct inject_thread *t = &a->p->threads[i];

		while (t->running) {
			if (inject_wait_stop(t->tid, &status)) {
				if (errno != ESRCH || gone(a, i--))
					return -1;
				break;
			}
			w = on_stop(a, i, status);
			t = &a->p->threads[i];	/* add_born reallocs */
			if (w < 0)
				return -1;
			if (w)
				break;
			/* a signal or a trap on its way first: our interrupt
			 * still comes (ptrace(2)), before any instruction */
			if (ptrace(PTRACE_CONT, t->tid, NULL,
				   (void *)(long)t->sig))
				return -1;
			t->sig = 0;
			t->running = 1;
		}
	}
	return 0;
}

static int set_opts(struct inject_proc *p, long opts)
{
	int i, ret = 0;

	for (i = 0; i < p->nr_threads; i++)
		if (ptrace(PTRACE_SETOPTIONS, p->threads[i].tid, NULL,
			   (void *)opts) && errno != ESRCH)
			ret = -1;
	return ret;
}

/* settled() asked with every thread stopped: 0, 1 (not yet), -1 */
static int ask(struct all *a, inject_settled_fn settled, void *arg,
	       int *busy)
{
	char *at = calloc(a->p->nr_threads + 1, 1);
	int i, ret;

	if (!at)
		return -1;
	for (i = 0; i < a->p->nr_threads; i++)
		at[i] = (char)a->p->threads[i].at_addr;
	ret = settled(arg, a->p, at, busy);
	free(at);
	return ret;
}

static int run_all(struct all *a, unsigned timeout_ms,
		   inject_settled_fn settled, void *arg, int *busy)
{
	double deadline = now_ms() + timeout_ms, slice = 20;
	int i, w;

	for (;;) {
		for (i = 0; i < a->p->nr_threads; i++)
			if (cont(a, i))
				return -1;
		if (poll_all(a, now_ms() + slice < deadline ?
				now_ms() + slice : deadline) ||
		    halt_all(a))
			return -1;
		if (a->job_stop) {
			for (i = 0; i < a->p->nr_threads - 1 &&
				    !a->p->threads[i].group_stop; i++)
				;
			*busy = i;
			errno = EINTR;
			return -1;
		}
		w = ask(a, settled, arg, busy);
		if (w <= 0)
			return w;
		if (now_ms() >= deadline) {
			errno = ETIMEDOUT;
			return -1;
		}
		if (slice < 320)
			slice *= 2;
	}
}

int inject_run_all_to(struct inject_proc *p, const uint64_t *addrs,
		      size_t n, unsigned timeout_ms, inject_settled_fn settled,
		      void *arg, int *busy)
{
	struct all a = { p, addrs, n, 0 };
	uint8_t bp[8], *saved = calloc(n + 1, 8);
	size_t len = arch_breakpoint_insn(bp), i;
	int ret = -1, saved_errno = 0, k;

	*busy = 0;
	if (!saved)
		return -1;
	for (i = 0; i < n; i++)
		if (inject_read(p, addrs[i], saved + 8 * i, len))
			goto out;
	if (set_opts(p, inject_opts(p) | PTRACE_O_TRACECLONE))
		goto opts;
	for (i = 0; i < n; i++)
		if (inject_write(p, addrs[i], bp, len)) {
			put_all(p, addrs, i, saved, len, 8);
			goto opts;
		}
	fault_point("landmark-set");
	ret = run_all(&a, timeout_ms, settled, arg, busy);
	saved_errno = errno;
	/* whatever happened, every thread stopped before the breakpoints
	 * go (a failed halt: they go all the same, the dump fails) */
	if (halt_all(&a))
		ret = -1;
	if (put_all(p, addrs, n, saved, len, 8))
		ret = -1;
	fault_point("landmark-unset");
	/* where each is now: what the dump records and a release resumes */
	for (k = 0; k < p->nr_threads; k++) {
		struct inject_thread *t = &p->threads[k];

		if ((!t->at_addr && arch_get_regs(t->tid, &t->regs)) ||
		    inject_get_sigmask(t->tid, &t->sigmask))
			ret = -1;
		if (t->sig)	/* not delivered yet: pending again */
			(void)!syscall(SYS_tgkill, p->pid, t->tid, t->sig);
		t->at_addr = t->sig = 0;
	}
opts:
	if (set_opts(p, inject_opts(p)))
		ret = -1;
out:
	free(saved);
	if (ret && saved_errno)
		errno = saved_errno;
	return ret ? -1 : 0;
}
