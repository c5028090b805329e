/*
 * The runtime of ckpt cc programs (cc/rt.c, cc/rt-heap.c, cc/rt-dump.c)
 * and its per-ISA parts (arch/ISA/rt/), linked into both executables.
 */
#ifndef CKPT_ARCH_XISA_RT_H
#define CKPT_ARCH_XISA_RT_H

#include <signal.h>
#include <stdint.h>

#include "arch/xisa-image.h"

/* into the innermost translated frame (arch/ISA/rt/xisa-jump.c) */
void xisa_rt_jump(uint64_t pc, uint64_t sp, uint64_t fp)
	__attribute__((noreturn));

/* where main's translated frame returns (xisa-jump.c): main's return
 * value made the argument of ckpt_xisa_exit_code, which exits with it */
void ckpt_xisa_exit_code(int code) __attribute__((noreturn, used));

/* arch/ISA/rt/xisa-trap.c: the breakpoint instruction, the ISA as
 * enum img_isa and as its column in PROG.xisa (0 x86_64, 1 aarch64) */
extern const unsigned char xisa_rt_trap[];
extern const unsigned int xisa_rt_trap_len;
extern const uint32_t xisa_rt_img_isa;
extern const int xisa_rt_col;
/* ckpt attach --landmark's breakpoint (arch/ISA/rt/xisa-trap.c): its
 * bytes, its signal and si_code, where it stopped the thread */
extern const unsigned char xisa_rt_bp[];
extern const unsigned int xisa_rt_bp_len;
extern const int xisa_rt_bp_sig, xisa_rt_bp_code;
uint64_t xisa_rt_bp_at(void *uc);
/* cc/rt-heal.c: its signal taken, for breakpoints a dead ckpt left */
void xisa_rt_heal_init(void);
/* A breakpoint's signal context (ucontext_t): the breakpoint's address
 * and the stack and frame pointers; set_pc makes it resume at pc. */
void xisa_rt_trapped(void *uc, uint64_t *pc, uint64_t *sp, uint64_t *fp);
void xisa_rt_set_pc(void *uc, uint64_t pc);
/* The calling thread's thread pointer (fs base, tpidr_el0) */
uint64_t xisa_rt_tp(void);

/* Into the translated frame of a thread blocked in a wait of the
 * runtime, after the wait was issued again: returning rv from it */
void xisa_rt_ret(uint64_t pc, uint64_t sp, uint64_t fp, uint64_t rv)
	__attribute__((noreturn));
/* A thread's start routine fn(arg) on its stack (top: its end), returning
 * into ckpt_xisa_thread_ret, which calls ckpt_xisa_thread_done with its
 * value (arch/ISA/rt/xisa-jump.c) */
void xisa_rt_call_on(uint64_t fn, uint64_t arg, uint64_t top)
	__attribute__((noreturn));

/* cc/rt-threads.c: a slot per thread of the program (main's is 0) */
enum { XISA_S_FREE, XISA_S_RUNNING, XISA_S_PARKED, XISA_S_BLOCKED };
/* xisa_rt_ckpt: no checkpoint, breakpoints on the landmarks, writing */
enum { XISA_C_IDLE, XISA_C_ARMED, XISA_C_WRITING };

/* a thread-local variable of a thread resumed, its place from the
 * thread pointer */
struct xisa_rt_tls {
	struct xisa_rt_tls *next;
	int64_t off;
	uint64_t len;
	unsigned char bytes[];
};
/* cc/rt.c: put in place from the calling thread's pointer */
void xisa_rt_tls_put(const struct xisa_rt_tls *v);

/* the program's pthread_t, in the carried heap: the same on both ISAs
 * (cc/rt-threads.c) */
struct xisa_rt_thr {
	uint64_t magic;
	uint32_t done;		/* futex: its start routine is over */
	uint32_t pad;
	uint64_t ret;
	uint64_t stack_lo, stack_hi;
	uint64_t fn, arg;
};

/* ckpt attach --landmark reads these from the stopped program
 * (arch/xisa-thr.c): their layout is the same on both ISAs */
struct xisa_rt_slot {
	uint64_t handle;	/* its record (main: 0) */
	int state;		/* XISA_S_* */
	int32_t tid;		/* its kernel thread once started (main:
				 * 0, the process's leader) */
	int resume;		/* started by the resume: go to t */
	const struct xisa_rt_tls *tls;	/* ... with these first */
	struct xisa_thread t;	/* parked or blocked: where */
	int sigs;		/* parked or blocked with signals blocked
				 * or pending (the image has no place for
				 * them: refused) */
};
extern struct xisa_rt_slot xisa_rt_slots[XISA_MAX_THREADS];
extern uint32_t xisa_rt_ckpt, xisa_rt_gen, xisa_rt_ck;
/* the slots' lock: old NULL in the checkpointer's handlers, else every
 * signal blocked while it is held */
void xisa_rt_lock(sigset_t *old);
void xisa_rt_unlock(sigset_t *old);
/* until xisa_rt_gen is no longer g */
void xisa_rt_wait_gen(uint32_t g);
/* mask (the thread's own, before a handler or the lock) or the signals
 * pending for it hold any but the checkpointer's (SIGUSR2, SIGTRAP) */
int xisa_rt_sigs_busy(const sigset_t *mask);
/* the wait of a blocked thread issued again: its value */
int xisa_rt_reissue(const struct xisa_thread *t);
/* a thread of the image started again, in a slot of its own */
int xisa_rt_thread_again(const struct xisa_thread *t,
			 const struct xisa_rt_tls *tls);
/* the calling thread's slot */
int xisa_rt_self(void);
void xisa_rt_thread_stack(uint64_t handle, uint64_t *lo, uint64_t *hi);
/* cc/rt.c: a thread (main or not) into its place in the image */
void xisa_rt_resume(const struct xisa_thread *t) __attribute__((noreturn));
/* cc/rt-dump.c, the lock held: armed and every thread stopped? Then
 * the caller is to write the image (xisa_rt_ckpt is WRITING) */
int xisa_rt_all_stopped(void);
/* the image written (exits 0), or, failed, said why and returns */
void xisa_rt_write(void);

/* cc/rt-heap.c: the runtime mapped the heap a translated image carried */
void ckpt_xisa_heap_carried(void);
/* cc/rt-threads.c: the program's threads alive, main's included */
int ckpt_xisa_threads(void);
/* cc/rt-dump.c: CKPT_XISA_DUMP set: ready to checkpoint on SIGUSR2 */
void ckpt_xisa_dump_init(const char *path);
/* ... and so it is, with its handlers of SIGUSR2 and SIGTRAP */
int ckpt_xisa_dumping(void);

#endif
