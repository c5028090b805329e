/*
 * Remote system calls and memory access.
 *
 * A remote call loads the thread's registers with the call (ip at a
 * "syscall; int3" sequence in the target), runs it to the syscall-exit stop
 * with PTRACE_SYSCALL, and reads the result. The thread's own registers are
 * put back by inject_release(). While we work, every signal is blocked in
 * the thread so that none is delivered into our borrowed context; signals
 * that arrive stay pending.
 */
#include <sys/mman.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "elf/elfsym.h"
#include "inject/inject-priv.h"

#define SYSCALL_STOP (SIGTRAP | 0x80)

static int begin_work(struct inject_thread *t)
{
	if (t->touched)
		return 0;
	if (inject_set_sigmask(t->tid, ~0ULL))
		return -1;
	t->touched = 1;
	return 0;
}

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

static int do_syscall(struct inject_proc *p, int ti, long *ret, long nr,
		      const uint64_t args[6], pid_t *cloned)
{
	struct inject_thread *t = &p->threads[ti];
	struct arch_regs r = t->regs;

	if (begin_work(t))
		return -1;
	arch_regs_syscall(&r, p->sc_ip, nr, args);
	if (arch_set_regs(t->tid, &r) || to_syscall_stop(t->tid, cloned) ||
	    to_syscall_stop(t->tid, cloned) || arch_get_regs(t->tid, &r))
		return -1;
	*ret = arch_regs_retval(&r);
	return 0;
}

int inject_syscall(struct inject_proc *p, int ti, long *ret, long nr,
		   uint64_t a0, uint64_t a1, uint64_t a2, uint64_t a3,
		   uint64_t a4, uint64_t a5)
{
	const uint64_t args[6] = { a0, a1, a2, a3, a4, a5 };

	return do_syscall(p, ti, ret, nr, args, NULL);
}

/* struct clone_args of clone3(2), version 2 (with set_tid) */
struct remote_clone_args {
	uint64_t flags, pidfd, child_tid, parent_tid, exit_signal;
	uint64_t stack, stack_size, tls, set_tid, set_tid_size;
};

int inject_clone_thread(struct inject_proc *p, int ti, pid_t tid,
			uint64_t flags)
{
	struct remote_clone_args ca;
	uint64_t set_tid = tid;
	const uint64_t args[6] = { p->scratch, sizeof(ca), 0, 0, 0, 0 };
	pid_t cloned = 0;
	struct inject_thread *t;
	long ret;

	if (p->scratch_len < sizeof(ca) + sizeof(set_tid)) {
		errno = ENOSPC;
		return -1;
	}
	memset(&ca, 0, sizeof(ca));
	ca.flags = flags;
	ca.set_tid = p->scratch + sizeof(ca);
	ca.set_tid_size = 1;
	if (inject_write(p, p->scratch, &ca, sizeof(ca)) ||
	    inject_write(p, ca.set_tid, &set_tid, sizeof(set_tid)) ||
	    do_syscall(p, ti, &ret, SYS_clone3, args, &cloned))
		return -1;
	if (ret < 0) {
		errno = -ret;
		return -1;
	}
	if (!cloned)
		cloned = ret;
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

int inject_read(struct inject_proc *p, uint64_t addr, void *buf, size_t len)
{
	struct iovec local = { .iov_base = buf, .iov_len = len };
	struct iovec remote = { .iov_base = (void *)addr, .iov_len = len };
	ssize_t n = process_vm_readv(p->pid, &local, 1, &remote, 1, 0);

	if (n == (ssize_t)len)
		return 0;
	if (n >= 0)
		errno = EFAULT;
	return -1;
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

static int find_leader(const struct inject_proc *p)
{
	int i;

	for (i = 0; i < p->nr_threads; i++)
		if (p->threads[i].tid == p->pid)
			return i;
	return 0;
}

/* The first executable mapping that is the program's own (not the vdso). */
static int find_text(pid_t pid, uint64_t *addr)
{
	struct proc_map *maps;
	int n, i, ret = -1;

	n = proc_parse_maps(pid, &maps);
	if (n < 0)
		return -1;
	for (i = 0; i < n; i++) {
		if (!(maps[i].prot & PROT_EXEC) || maps[i].end - maps[i].start < 8)
			continue;
		if (maps[i].path && maps[i].path[0] == '[')
			continue;
		*addr = maps[i].start;
		ret = 0;
		break;
	}
	proc_free_maps(maps, n);
	if (ret)
		errno = ENOEXEC;
	return ret;
}

/*
 * A system call instruction the target already has: the one in the C
 * library's syscall(). Then nothing of its text is changed, not even for
 * the time of the freeze.
 */
static int find_syscall_insn(struct inject_proc *p, uint64_t *ip)
{
	struct elf_sym_result r;
	uint8_t code[64];
	long off;

	if (elf_sym_find(p->pid, "syscall", &r) || r.ifunc ||
	    inject_read(p, r.addr, code, sizeof(code)))
		return -1;
	off = arch_find_syscall_insn(code, sizeof(code));
	if (off < 0)
		return -1;
	*ip = r.addr + off;
	return 0;
}

/* Otherwise, "syscall; trap" over the first bytes of its text. */
static int patch_syscall_insn(struct inject_proc *p, int li)
{
	uint8_t insn[8];

	if (find_text(p->pid, &p->patch_addr) ||
	    inject_read(p, p->patch_addr, p->patch_saved, 8))
		return -1;
	arch_syscall_insn(insn);
	if (poke_mem(p->threads[li].tid, p->patch_addr, insn, 8))
		return -1;
	p->sc_ip = p->patch_addr;
	return 0;
}

int inject_prepare(struct inject_proc *p)
{
	long ret;
	int li = find_leader(p);

	if (find_syscall_insn(p, &p->sc_ip) && patch_syscall_insn(p, li))
		goto err;
	if (inject_syscall(p, li, &ret, SYS_mmap, 0, 4096,
			   PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
			   (uint64_t)-1, 0))
		goto err;
	if (ret < 0 && ret > -4096) {
		errno = -ret;
		goto err;
	}
	p->scratch = ret;
	p->scratch_len = 4096;
	p->scratch_ours = 1;
	return 0;
err:
	return -1;
}

int inject_unprepare(struct inject_proc *p)
{
	long ret;
	int ret_val = 0;

	if (p->scratch_ours) {
		if (inject_syscall(p, find_leader(p), &ret, SYS_munmap,
				   p->scratch, p->scratch_len, 0, 0, 0, 0))
			ret_val = -1;
		p->scratch_ours = 0;
		p->scratch = 0;
	}
	if (p->patch_addr) {
		if (poke_mem(p->threads[find_leader(p)].tid, p->patch_addr,
			     p->patch_saved, 8))
			ret_val = -1;
		p->patch_addr = 0;
	}
	return ret_val;
}
