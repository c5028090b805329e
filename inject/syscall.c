/*
 * Remote system calls and memory access.
 *
 * A remote call loads the thread's registers with the call, runs it to the
 * syscall-exit stop with PTRACE_SYSCALL and reads the result. Every signal
 * is blocked in the thread for the time of the call so that none is
 * delivered into our borrowed context; signals that arrive stay pending.
 *
 * What if ckpt dies (SIGKILL) at any instant? The kernel then lets the
 * thread run from whatever its registers hold. The call runs from the
 * target's own "syscall; ret" code (never ours: we add no code to a
 * target), and the "ret" goes on along the thread's way back
 * (arch_way_back_build): the target's own "pop; ret" code unmaps our data
 * page, and its own sigreturn trampoline puts back, from a frame, the
 * thread's registers, signal mask and XSAVE state, as when a signal
 * handler returns. A thread that made a call stands on that way back
 * until it is parked (inject_park: its own registers and mask, set by
 * ptrace); the anchor (region.c) stands there from the first call to the
 * last, so the data page never outlives us. The order of the ptrace
 * requests keeps this true at every step: the call's registers are set
 * before the signal mask is emptied, and a thread's mask is given back
 * before its registers are.
 *
 * Where the target lacks that code (see region.c), calls are made from
 * any system call instruction and the thread is parked at once: only then
 * can a thread released during the call be harmed.
 */
#include <sys/mman.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <errno.h>
#include <sched.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "inject/inject-priv.h"
#include "util/fault.h"

#define SYSCALL_STOP (SIGTRAP | 0x80)

enum call_kind { CALL_OURS, CALL_ADOPTED };

static int is_fault(int sig)
{
	return sig == SIGSEGV || sig == SIGBUS || sig == SIGILL ||
	       sig == SIGFPE || sig == SIGTRAP || sig == SIGSYS;
}

/* Resume to the next syscall stop; note a clone event's new thread. */
static int to_syscall_stop(pid_t tid, pid_t *cloned)
{
	int status, event;
	unsigned long msg;

	if (ptrace(PTRACE_SYSCALL, tid, NULL, NULL))
		return -1;
	for (;;) {
		if (inject_wait_stop(tid, &status))
			return -1;
		if (WSTOPSIG(status) == SYSCALL_STOP)
			return 0;
		event = status >> 16;
		if (event == PTRACE_EVENT_CLONE && cloned &&
		    !ptrace(PTRACE_GETEVENTMSG, tid, NULL, &msg))
			*cloned = (pid_t)msg;
		else if (!event && is_fault(WSTOPSIG(status))) {
			pr_err("thread %d: signal %d during a remote call",
			       tid, WSTOPSIG(status));
			errno = EFAULT;
			return -1;
		} else if (!event)
			pr_debug("thread %d: signal %d suppressed during a remote call",
				 tid, WSTOPSIG(status));
		/* anything else (a SIGSTOP, an event) is passed over */
		if (ptrace(PTRACE_SYSCALL, tid, NULL, NULL))
			return -1;
	}
}

int inject_park(struct inject_thread *t)
{
	struct arch_regs r = t->regs;

	/*
	 * Rather than rely on the kernel looking at the restart state again
	 * when the thread leaves its syscall-exit stop, make the restart
	 * explicit, exactly as the kernel would; the thread's restart block
	 * is still its own (no call of ours sets one).
	 */
	arch_regs_normalize_restart(&r, 1);
	if (inject_set_sigmask(t->tid, t->sigmask) || arch_set_regs(t->tid, &r))
		return -1;
	return 0;
}

static uint64_t slot_addr(const struct inject_proc *p, int k)
{
	return p->slot_base + k * p->slot_step;
}

/* A way back at address at into registers r and signal mask mask, with
 * thread ti's XSAVE state; it unmaps unmap_len bytes of our page. */
static int way_back(struct inject_proc *p, int ti, uint64_t at,
		    const struct arch_regs *r, uint64_t mask,
		    uint64_t unmap_len, uint64_t *sp)
{
	size_t xlen = arch_xstate_max(), len = arch_way_back_size(xlen);
	void *xs = malloc(xlen), *buf = malloc(len);
	int ret = -1;

	if (!xs || !buf || arch_get_xstate(p->threads[ti].tid, xs, &xlen))
		goto out;
	len = arch_way_back_size(xlen);
	if (arch_way_back_build(buf, len, at, r, mask, xs, xlen, &p->g,
				p->region, unmap_len, sp) ||
	    inject_write(p, at, buf, len))
		goto out;
	ret = 0;
out:
	free(xs);
	free(buf);
	return ret;
}

/*
 * Thread ti's way back, at address at (*sp: the stack pointer its call
 * must have). rt_sigreturn clears the thread's restart block, so a call
 * that had one (nanosleep, poll with a timeout) is made again from its
 * arguments, as after a restore.
 */
int inject_way_back_at(struct inject_proc *p, int ti, uint64_t at,
		       uint64_t *sp)
{
	struct arch_regs r = p->threads[ti].regs;

	arch_regs_normalize_restart(&r, 0);
	arch_regs_clear_syscall(&r);
	return way_back(p, ti, at, &r, p->threads[ti].sigmask,
			p->unmap ? p->region_len : 0, sp);
}

/* Thread ti's way back, in slot k. */
int inject_write_way_back(struct inject_proc *p, int ti, int k)
{
	return inject_way_back_at(p, ti, slot_addr(p, k), &p->sp[k]);
}

/*
 * The slot thread ti calls from: the anchor has slot 0; another thread
 * takes slot 1, parking the one that stood there first (the anchor still
 * stands meanwhile).
 */
static int take_slot(struct inject_proc *p, int ti)
{
	if (ti == p->anchor)
		return 0;
	if (p->other == ti)
		return 1;
	if (p->other >= 0 && inject_park(&p->threads[p->other]))
		return -1;
	p->other = -1;
	if (inject_write_way_back(p, ti, 1))
		return -1;
	p->other = ti;
	return 1;
}

/* The registers of a call; *park: the thread has no way back of its own
 * and must be parked after the call. */
static int call_regs(struct inject_proc *p, int ti, enum call_kind kind,
		     long nr, const uint64_t args[6], struct arch_regs *r,
		     int *park)
{
	int k;

	*r = p->threads[ti].regs;
	*park = 0;
	if (kind == CALL_ADOPTED) {
		arch_regs_syscall(r, p->sc_ip, nr, args);
		return 0;
	}
	if (!p->slot_base) {
		arch_regs_syscall(r, p->g.syscall_ret ? p->g.syscall_ret :
				  p->g.any_syscall, nr, args);
		*park = 1;
		return 0;
	}
	k = take_slot(p, ti);
	if (k < 0)
		return -1;
	arch_regs_syscall(r, p->g.syscall_ret, nr, args);
	arch_regs_set_sp(r, p->sp[k]);
	return 0;
}

static int do_call(struct inject_proc *p, int ti, enum call_kind kind,
		   long *ret, long nr, const uint64_t args[6], pid_t *cloned)
{
	struct inject_thread *t = &p->threads[ti];
	struct arch_regs r;
	int park;

	if (call_regs(p, ti, kind, nr, args, &r, &park) ||
	    arch_set_regs(t->tid, &r))
		return -1;
	t->touched = 1;
	fault_point("call-regs");
	if (inject_set_sigmask(t->tid, ~0ULL))
		return -1;
	fault_point("call-start");
	if (to_syscall_stop(t->tid, cloned))
		return -1;
	fault_point("call-entry");
	if (to_syscall_stop(t->tid, cloned) || arch_get_regs(t->tid, &r))
		return -1;
	fault_point("call-exit");
	*ret = arch_regs_retval(&r);
	return park ? inject_park(t) : 0;
}

static enum call_kind kind_of(const struct inject_proc *p)
{
	return p->adopted ? CALL_ADOPTED : CALL_OURS;
}

int inject_syscall(struct inject_proc *p, int ti, long *ret, long nr,
		   uint64_t a0, uint64_t a1, uint64_t a2, uint64_t a3,
		   uint64_t a4, uint64_t a5)
{
	const uint64_t args[6] = { a0, a1, a2, a3, a4, a5 };

	if (!p->adopted && !p->prepared) {
		errno = EINVAL;	/* no inject_prepare */
		return -1;
	}
	return do_call(p, ti, kind_of(p), ret, nr, args, NULL);
}

/* For region.c: a call before the region exists or once it is going. */
int inject_call(struct inject_proc *p, int ti, long *ret, long nr,
		const uint64_t args[6])
{
	return do_call(p, ti, CALL_OURS, ret, nr, args, NULL);
}

/* struct clone_args of clone3(2), version 2 (with set_tid) */
struct remote_clone_args {
	uint64_t flags, pidfd, child_tid, parent_tid, exit_signal;
	uint64_t stack, stack_size, tls, set_tid, set_tid_size;
};

static int add_cloned(struct inject_proc *p, pid_t cloned)
{
	struct inject_thread *t;

	/* the new thread starts in a ptrace stop of its own */
	if (inject_wait_stop(cloned, NULL))
		return -1;
	t = realloc(p->threads, (p->nr_threads + 1) * sizeof(*t));
	if (!t)
		return -1;
	p->threads = t;
	t = &p->threads[p->nr_threads++];
	memset(t, 0, sizeof(*t));
	t->tid = cloned;
	if (arch_get_regs(cloned, &t->regs) ||
	    inject_get_sigmask(cloned, &t->sigmask))
		return -1;
	return 0;
}

int inject_clone_thread(struct inject_proc *p, int ti, pid_t tid,
			uint64_t flags)
{
	return inject_clone_thread_ns(p, ti, &tid, 1, flags);
}

/* set_tid is an array of pid_t, innermost level first (clone3(2)) */
int inject_clone_thread_ns(struct inject_proc *p, int ti, const pid_t *tids,
			   uint32_t n, uint64_t flags)
{
	struct remote_clone_args ca;
	const uint64_t args[6] = { p->scratch, sizeof(ca), 0, 0, 0, 0 };
	pid_t cloned = 0;
	long ret;

	if (p->scratch_len < sizeof(ca) + n * sizeof(*tids)) {
		errno = ENOSPC;
		return -1;
	}
	memset(&ca, 0, sizeof(ca));
	ca.flags = flags;
	ca.set_tid = p->scratch + sizeof(ca);
	ca.set_tid_size = n;
	if (inject_write(p, p->scratch, &ca, sizeof(ca)) ||
	    inject_write(p, ca.set_tid, tids, n * sizeof(*tids)) ||
	    do_call(p, ti, kind_of(p), &ret, SYS_clone3, args, &cloned))
		return -1;
	if (ret < 0) {
		errno = -ret;
		return -1;
	}
	return add_cloned(p, cloned ? cloned : ret);
}

/*
 * The snapshot's own way back, in our page after the clone3 arguments:
 * a frame whose registers make exit_group(0) from the target's "syscall;
 * ret", every signal blocked. *sp is the stack pointer it starts from.
 */
static int fork_way_back(struct inject_proc *p, uint64_t at, uint64_t *sp)
{
	const uint64_t none[6] = { 0 };
	struct arch_regs r = p->threads[p->anchor].regs;

	if (at + arch_way_back_size(p->xlen) > p->scratch + p->scratch_len) {
		errno = ENOSPC;
		return -1;
	}
	arch_regs_syscall(&r, p->g.syscall_ret, SYS_exit_group, none);
	return way_back(p, p->anchor, at, &r, ~0ULL, 0, sp);
}

/* A child of the clone that is not to be: killed, reaped by us, then by
 * the frozen target (vpid its pid there), whose waits never see it. */
static void drop_cloned(struct inject_proc *p, pid_t cloned, pid_t vpid)
{
	const uint64_t args[6] = { vpid, 0, WNOHANG | __WALL, 0, 0, 0 };
	long r;

	kill(cloned, SIGKILL);
	while (waitpid(cloned, NULL, __WALL) < 0 && errno == EINTR)
		;
	if (vpid > 0)
		(void)!do_call(p, p->anchor, CALL_OURS, &r, SYS_wait4, args,
			       NULL);
}

/* The child made: ours for good (it dies with us), or dropped. */
static int keep_cloned(struct inject_proc *p, pid_t cloned, long ret)
{
	int saved;

	if (!inject_wait_stop(cloned, NULL) &&
	    !ptrace(PTRACE_SETOPTIONS, cloned, NULL,
		    (void *)(PTRACE_O_TRACESYSGOOD | PTRACE_O_EXITKILL)))
		return 0;
	saved = errno;
	drop_cloned(p, cloned, ret);
	errno = saved;
	return -1;
}

int inject_fork_held(struct inject_proc *p, pid_t *child, pid_t *vchild)
{
	pid_t tid = p->threads[p->anchor].tid, cloned = 0;
	/* the descriptor table shared: the child holds no file of the
	 * target's open longer than the target does (not the cwd: a shared
	 * one makes the target's execve of a set-user-ID program run
	 * without its privileges, LSM_UNSAFE_SHARE); exit signal 0 */
	uint64_t args[6] = { CLONE_FILES, 0, 0, 0, 0, 0 };
	long ret = -1, opts = inject_opts(p);
	int rc, saved;

	if (!p->prepared || p->adopted || !p->g.syscall_ret ||
	    !p->g.sigreturn) {
		errno = ENOEXEC;
		return -1;
	}
	/* clone(2), not clone3: seccomp profiles refuse clone3 (ENOSYS) */
	if (fork_way_back(p, p->scratch, &args[1]) ||
	    ptrace(PTRACE_SETOPTIONS, tid, NULL,
		   (void *)(opts | PTRACE_O_TRACECLONE)))
		return -1;
	rc = do_call(p, p->anchor, CALL_OURS, &ret, SYS_clone, args, &cloned);
	fault_point("cloned");
	if (ptrace(PTRACE_SETOPTIONS, tid, NULL, (void *)opts) && !rc)
		rc = -1;
	if (!rc && ret < 0) {
		errno = -ret;
		rc = -1;
	}
	if (!rc && !cloned) {
		errno = ECHILD;	/* no clone event: not ours */
		rc = -1;
	}
	if (cloned && rc) {
		saved = errno;
		drop_cloned(p, cloned, ret);
		errno = saved;
	} else if (cloned && keep_cloned(p, cloned, ret)) {
		return -1;
	}
	if (rc)
		return -1;
	*child = cloned;
	*vchild = ret;
	return 0;
}

int inject_readv(struct inject_proc *p, const struct iovec *local,
		 const struct iovec *remote, int n)
{
	size_t len = 0;
	ssize_t got;
	int i;

	for (i = 0; i < n; i++)
		len += remote[i].iov_len;
	got = process_vm_readv(p->pid, local, n, remote, n, 0);
	if (got == (ssize_t)len)
		return 0;
	if (got >= 0)
		errno = EFAULT;
	return -1;
}

int inject_read(struct inject_proc *p, uint64_t addr, void *buf, size_t len)
{
	struct iovec local = { .iov_base = buf, .iov_len = len };
	struct iovec remote = { .iov_base = (void *)addr, .iov_len = len };

	return inject_readv(p, &local, &remote, 1);
}

/* Word by word through ptrace, which may write read-only pages. */
static int poke_mem(pid_t pid, uint64_t addr, const uint8_t *buf, size_t len)
{
	while (len) {
		uint64_t base = addr & ~7ULL, off = addr - base;
		size_t n = 8 - off < len ? 8 - off : len;
		long word;

		errno = 0;
		word = ptrace(PTRACE_PEEKDATA, pid, (void *)base, NULL);
		if (errno)
			return -1;
		memcpy((uint8_t *)&word + off, buf, n);
		if (ptrace(PTRACE_POKEDATA, pid, (void *)base, (void *)word))
			return -1;
		addr += n;
		buf += n;
		len -= n;
	}
	return 0;
}

int inject_write(struct inject_proc *p, uint64_t addr, const void *buf,
		 size_t len)
{
	struct iovec local = { .iov_base = (void *)buf, .iov_len = len };
	struct iovec remote = { .iov_base = (void *)addr, .iov_len = len };
	ssize_t n = process_vm_writev(p->pid, &local, 1, &remote, 1, 0);

	if (n == (ssize_t)len)
		return 0;
	return poke_mem(p->threads[0].tid, addr, buf, len);
}
