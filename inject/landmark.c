/*
 * Running a seized thread on to the next of a set of addresses (the
 * landmarks of a ckpt cc program): a breakpoint on each, the thread
 * continued until it traps on one of them or the bound passes, every
 * breakpoint removed whatever happened. The thread's registers as seized
 * become those where it stopped, so that the dump records them and a
 * release resumes it from there.
 */
#include <sys/ptrace.h>
#include <sys/wait.h>
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "arch/arch.h"
#include "inject/inject-priv.h"

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
		/* a signal on its way first: delivered, then the stop */
		if (ptrace(PTRACE_CONT, tid, NULL,
			   (void *)(long)((*status >> 16) ? 0 :
					  WSTOPSIG(*status))))
			return -1;
	}
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
		if (w)
			return w < 0 ? -1 : (arch_get_regs(t->tid, r) ? -1 : 1);
		sig = (status >> 16) ? 0 : WSTOPSIG(status);
		if (sig != SIGTRAP)
			continue;	/* delivered on the next CONT */
		if (arch_get_regs(t->tid, r))
			return -1;
		if (is_one(addrs, n, arch_breakpoint_addr(r)))
			return 0;
	}
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
	ret = run(t, addrs, n, timeout_ms, &r);
	saved_errno = errno;
	if (put_all(p, addrs, n, saved, len, 8))
		ret = -1;
	if (ret == 0) {
		*hit = arch_breakpoint_addr(&r);
		arch_regs_set_ip(&r, *hit);
		arch_regs_clear_syscall(&r);
		if (arch_set_regs(t->tid, &r))
			ret = -1;
	}
	if (ret >= 0)
		t->regs = r;	/* it ran: this is where it is now */
	if (ret == 1)
		errno = ETIMEDOUT;
	else if (ret < 0)
		errno = saved_errno;
out:
	free(saved);
	return ret ? -1 : 0;
}
