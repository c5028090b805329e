/*
 * inject: ptrace control of a live target. Seize every thread and keep the
 * target frozen, make system calls on its behalf (remote syscalls), read
 * and write its memory, and let it go again: thawed as it was, or killed.
 *
 * Remote system calls need no code in the target: the syscall instruction
 * is either patched over the first bytes of an executable mapping for the
 * time of the freeze (inject_prepare) or provided by the caller
 * (inject_adopt, the restorer's trampoline page).
 */
#ifndef CKPT_INJECT_H
#define CKPT_INJECT_H

#include <stdint.h>
#include <sys/types.h>

#include "arch/arch.h"
#include "util/util.h"

struct inject_thread {
	pid_t tid;
	struct arch_regs regs;	/* as seized */
	uint64_t sigmask;	/* as seized */
	int touched;		/* registers or mask changed by us */
	int stopped;		/* its interrupt stop was seen */
};

struct inject_proc {
	pid_t pid;
	int nr_threads;
	struct inject_thread *threads;
	uint64_t sc_ip;		/* address of "syscall; trap" in the target */
	uint64_t patch_addr;	/* where we patched text, or 0 */
	uint8_t patch_saved[8];
	uint64_t scratch;	/* a data page of ours in the target, or 0 */
	uint64_t scratch_len;
	int scratch_ours;	/* we mapped it: unmap at release */
};

/* Seize and freeze every thread of pid; loops until no thread is born while
 * seizing. errno ESRCH: no such process (or it died); EPERM: not traceable.
 * The caller must call inject_release() on success. */
int inject_seize(pid_t pid, struct inject_proc **out) __must_check;

/* Attach to our own child that waits for us (the restorer's): seize and
 * interrupt it, with a syscall instruction at sc_ip and scratch memory at
 * scratch already in place. Follows clone events for new threads. */
int inject_adopt(pid_t pid, uint64_t sc_ip, uint64_t scratch,
		 uint64_t scratch_len, struct inject_proc **out) __must_check;

/* Patch a syscall instruction in and map a scratch page. */
int inject_prepare(struct inject_proc *p) __must_check;
/* Unmap the scratch page and put the patched text back: call before
 * reading the target's memory. Idempotent. */
int inject_unprepare(struct inject_proc *p) __must_check;

/* Make system call nr in thread index ti. *ret gets the raw return value
 * (negative errno on failure). Returns -1 only if the call could not be
 * made (the thread died, ptrace failed). */
int inject_syscall(struct inject_proc *p, int ti, long *ret, long nr,
		   uint64_t a0, uint64_t a1, uint64_t a2, uint64_t a3,
		   uint64_t a4, uint64_t a5) __must_check;

/* Remote clone3 of a thread with the given TID, as thread index ti; the
 * new thread is seized, stopped, and appended to p->threads. */
int inject_clone_thread(struct inject_proc *p, int ti, pid_t tid,
			uint64_t flags) __must_check;

/* Memory of the target (process_vm_readv/writev; writes fall back to
 * ptrace for read-only pages). */
int inject_read(struct inject_proc *p, uint64_t addr, void *buf,
		size_t len) __must_check;
int inject_write(struct inject_proc *p, uint64_t addr, const void *buf,
		 size_t len) __must_check;

/* Let the target go. Threads whose state we changed get it back (their
 * syscall restart state made explicit); with kill the target is killed
 * instead. Frees p. Without kill, errno ESRCH says it had been killed
 * while seized (by SIGKILL, the only way out of our stop). */
int inject_release(struct inject_proc *p, int kill);
/* Detach every thread as it stands now (the restorer, after it has set
 * the final registers). Frees p. */
int inject_detach_all(struct inject_proc *p);

/* Per-thread ptrace state. */
int inject_get_sigmask(pid_t tid, uint64_t *mask) __must_check;
int inject_set_sigmask(pid_t tid, uint64_t mask) __must_check;

#endif
