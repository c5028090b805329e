/*
 * inject: ptrace control of a live target. Seize every thread and keep the
 * target frozen, make system calls on its behalf (remote syscalls), read
 * and write its memory, and let it go again: thawed as it was, or killed.
 *
 * Remote system calls run from the target's own code, with a data page of
 * ours for their arguments (inject_prepare; the restorer's child brings
 * its own code and page, inject_adopt). A thread is never left in a state
 * it cannot leave by itself: it holds its own registers and signal mask,
 * or stands on a way back that unmaps our page and returns, through
 * rt_sigreturn(2), to a frame holding its whole context; so if ckpt dies
 * (SIGKILL included) the kernel releases the target into a state that
 * carries on where it was frozen, our page gone. No code is ever added to
 * the target or its text changed. Parked threads (inject_park_threads)
 * wait, once released, until the holder of a key wakes them.
 */
#ifndef CKPT_INJECT_H
#define CKPT_INJECT_H

#include <stdint.h>
#include <sys/types.h>
#include <sys/uio.h>

#include "arch/arch.h"
#include "util/util.h"

/* The handle of a seized process; inject-priv.h holds its fields. */
struct inject_proc;

/* Seize and freeze every thread of pid; loops until no thread is born while
 * seizing. errno ESRCH: no such process (or it died); EPERM: not traceable.
 * The caller must call inject_release() on success. */
int inject_seize(pid_t pid, struct inject_proc **out) __must_check;
/* Seize and interrupt every thread of pid without waiting for its stop
 * (a thread in the cgroup freezer stops only once thawed); inject_seize
 * then adopts them. Best effort: -1 only if its threads can't be listed */
int inject_preseize(pid_t pid) __must_check;

/* Attach to our own child that waits for us (the restorer's): seize and
 * interrupt it, with a syscall instruction at sc_ip and scratch memory at
 * scratch already in place. Follows clone events for new threads. */
int inject_adopt(pid_t pid, uint64_t sc_ip, uint64_t scratch,
		 uint64_t scratch_len, struct inject_proc **out) __must_check;

/* The code of pid that inject_prepare borrows, looked for while pid runs
 * (before its seize: scanning its text is then no frozen time). Given to
 * a seized process with inject_use_code, inject_prepare reads each piece
 * again where it was found and takes them if all are still there, in
 * executable mappings; else it scans as without. Any process may be
 * given it (a child forked from pid has the same code). */
void inject_find_code(pid_t pid, struct arch_gadgets *g);
void inject_use_code(struct inject_proc *p, const struct arch_gadgets *g);

/* Map our page (code, scratch memory, per-thread frames) in the target. */
int inject_prepare(struct inject_proc *p) __must_check;
/* Unmap it again: call before reading the target's memory. Idempotent. */
int inject_unprepare(struct inject_proc *p) __must_check;

/* Make system call nr in thread index ti. *ret gets the raw return value
 * (negative errno on failure). Returns -1 only if the call could not be
 * made (the thread died, ptrace failed). */
int inject_syscall(struct inject_proc *p, int ti, long *ret, long nr,
		   uint64_t a0, uint64_t a1, uint64_t a2, uint64_t a3,
		   uint64_t a4, uint64_t a5) __must_check;

/* Remote clone3 of a thread with the given TID, as thread index ti; the
 * new thread is seized, stopped, and becomes the last thread index. */
int inject_clone_thread(struct inject_proc *p, int ti, pid_t tid,
			uint64_t flags) __must_check;
/* The same with a TID per PID namespace level, innermost first (n of
 * them), for a thread in a PID namespace below the caller's */
int inject_clone_thread_ns(struct inject_proc *p, int ti, const pid_t *tids,
			   uint32_t n, uint64_t flags) __must_check;

/*
 * A copy-on-write snapshot of a prepared target: a remote clone(2) in the
 * anchor thread without CLONE_VM, so the child's memory is the target's
 * as it is now, with exit signal 0 (the target gets no SIGCHLD for it);
 * it shares the target's descriptor table (CLONE_FILES): it keeps no
 * file open that the target closes.
 * The child is seized from its birth (PTRACE_O_TRACECLONE for the call:
 * its event gives *child, its pid here; *vchild is the pid the target
 * knows it by), stopped before its first instruction, then dies with us
 * (PTRACE_O_EXITKILL). Its stack is a way back of its own, in our page
 * (copied with the rest), into exit_group(0): released before it was
 * ours, it runs none of the target's code. ENOEXEC: the target lacks the
 * code for that way back.
 */
int inject_fork_held(struct inject_proc *p, pid_t *child, pid_t *vchild)
	__must_check;

/* Memory of the target (process_vm_readv/writev; writes fall back to
 * ptrace for read-only pages). */
/* Run seized thread ti until it reaches one of addrs[0..n) (software
 * breakpoints, removed after) within timeout_ms: 0 and *hit, or -1 with
 * ETIMEDOUT (stopped again where it was then), EINTR (a job-control
 * stop came: kept), ESRCH, ... Before inject_prepare. */
int inject_run_to(struct inject_proc *p, int ti, const uint64_t *addrs,
		  size_t n, unsigned timeout_ms, uint64_t *hit) __must_check;
/* Every thread of p run on (new ones, born meanwhile, seized and run
 * too; those that exit forgotten) until it reaches one of addrs[0..n),
 * where it stays stopped, while the others run, until settled(arg, p,
 * at, &busy), asked with every thread stopped now and then (at[ti]: ti
 * stands at one of addrs), returns 0 (done: 0), or -1 (-1), or 1 and the
 * bound passes: -1 with ETIMEDOUT and *busy from settled, every thread
 * stopped where it was then. A job-control stop of the process ends it:
 * -1 with EINTR, *busy the thread that stopped first, kept in its group
 * stop (inject_group_stop). Before inject_prepare. */
typedef int (*inject_settled_fn)(void *arg, struct inject_proc *p,
				 const char *at, int *busy);
int inject_run_all_to(struct inject_proc *p, const uint64_t *addrs,
		      size_t n, unsigned timeout_ms, inject_settled_fn settled,
		      void *arg, int *busy) __must_check;
int inject_read(struct inject_proc *p, uint64_t addr, void *buf,
		size_t len) __must_check;
int inject_write(struct inject_proc *p, uint64_t addr, const void *buf,
		 size_t len) __must_check;
/* Several ranges in one process_vm_readv (n <= IOV_MAX, the local and
 * remote ones of the same lengths): 0 when all were read whole, else -1
 * (errno EFAULT for a short read: a range unmapped or PROT_NONE). */
int inject_readv(struct inject_proc *p, const struct iovec *local,
		 const struct iovec *remote, int n) __must_check;

/* Let the target go. Threads whose state we changed get it back (their
 * syscall restart state made explicit); with kill the target is killed
 * instead. Frees p. Without kill, errno ESRCH says it had been killed
 * while seized (by SIGKILL, the only way out of our stop). */
int inject_release(struct inject_proc *p, int kill);
/* From now on the target dies if we do (PTRACE_O_EXITKILL on every
 * thread): once the decision to kill it is taken, a death of ours
 * half-way through killing a tree must not leave part of it running. */
int inject_kill_with_us(struct inject_proc *p) __must_check;
/* Detach every thread as it stands now (the restorer, after it has set
 * the final registers). Frees p. */
int inject_detach_all(struct inject_proc *p);

/* What the handle knows: the process, its threads (index 0 the leader
 * when it lives), each thread's registers and signal mask as seized, and
 * the scratch memory in the target that remote calls may point at (set
 * by inject_prepare or inject_adopt; 0 otherwise). */
pid_t inject_pid(const struct inject_proc *p);
int inject_nr_threads(const struct inject_proc *p);
pid_t inject_tid(const struct inject_proc *p, int ti);
int inject_leader(const struct inject_proc *p);
const struct arch_regs *inject_regs(const struct inject_proc *p, int ti);
uint64_t inject_sigmask(const struct inject_proc *p, int ti);
/* The signal of the group stop (SIGSTOP, SIGTSTP ...) the process was in,
 * or on its way to, when seized; 0 if none. Released, it is in it again. */
int inject_group_stop(const struct inject_proc *p);
uint64_t inject_scratch(const struct inject_proc *p);
uint64_t inject_scratch_len(const struct inject_proc *p);

/*
 * Parking (park.c): every thread waits in the kernel, its signals
 * blocked, on a page of ours, so that a death of ours releases none of
 * them into its own code: only the holder of the key (a descriptor of the
 * page, which must outlive ckpt to wake them) lets them go, each back to
 * where it was. prepare maps the page and gives the key; park_threads
 * lets every thread (but one in a group stop) into the wait; ENOTSUP:
 * the target lacks the code for it. unpark_threads stops them again as
 * seized and unmaps the page. To wake them without us: the key mapped
 * MAP_SHARED, its first word (an int) set non-zero, then FUTEX_WAKE.
 */
int inject_park_prepare(struct inject_proc *p, int *key) __must_check;
int inject_park_threads(struct inject_proc *p) __must_check;
int inject_unpark_threads(struct inject_proc *p) __must_check;

/* Make the target's seccomp filters let our remote calls through, in
 * every thread (PTRACE_O_SUSPEND_SECCOMP, until we let go): needs
 * CAP_SYS_ADMIN and a caller that runs under no seccomp itself. */
int inject_suspend_seccomp(struct inject_proc *p) __must_check;

/* Per-thread ptrace state. */
int inject_get_sigmask(pid_t tid, uint64_t *mask) __must_check;
int inject_set_sigmask(pid_t tid, uint64_t mask) __must_check;

#endif
