/*
 * inject internals shared between its files: the handle that inject.h
 * keeps opaque.
 */
#ifndef CKPT_INJECT_PRIV_H
#define CKPT_INJECT_PRIV_H

#include "inject/inject.h"
/* seizing lists /proc/PID/task, the syscall finder reads the maps */
#include "util/proc.h"

struct inject_thread {
	pid_t tid;
	struct arch_regs regs;	/* as seized */
	uint64_t sigmask;	/* as seized */
	int touched;		/* we ran calls in it */
	int stopped;		/* its interrupt stop was seen */
	int group_stop;		/* the stop signal of a group stop it was
				 * in when seized, or 0 */
	int waiting;		/* parked in a wait of ours (park.c) */
	/* inject_run_all_to (landmark.c): stopped at one of the addresses,
	 * continued and not seen stopped since, a signal to deliver */
	int at_addr, running, sig;
};

struct inject_proc {
	pid_t pid;
	int nr_threads;
	struct inject_thread *threads;
	int adopted;		/* the restorer's child, which dies with it */
	uint64_t sc_ip;		/* adopted: the caller's "syscall; trap" */
	uint64_t region;	/* our data page (scratch), or 0 */
	uint64_t region_len;
	uint64_t scratch;	/* data memory for call arguments, or 0 */
	uint64_t scratch_len;
	int prepared;		/* inject_prepare done: calls may be made */
	int shared;		/* the page is shared memory (park.c) */
	int parked;		/* park.c: its threads may be waiting */
	int seccomp_off;	/* inject_suspend_seccomp done */
	size_t xlen;		/* XSAVE image size of this CPU */
	struct arch_gadgets g;	/* the target's own code that we borrow */
	struct arch_gadgets hint;	/* where it was before the seize */
	/*
	 * Two slots for a thread's way back (arch_way_back_build), in the
	 * unused low end of the main stack, or else in the region (which
	 * then cannot unmap itself). Slot 0 is the anchor's (the leader,
	 * which stands on its way back from inject_prepare to
	 * inject_unprepare, so that a death of ours always unmaps the
	 * region); slot 1 is that of `other', the last other thread that
	 * made a call, or -1.
	 */
	uint64_t slot_base;	/* slot 0, or 0 when there is no room */
	uint64_t slot_step;
	int slots_in_region;
	int unmap;		/* the way back unmaps the region */
	int anchor;
	int other;
	uint64_t sp[2];		/* each slot's stack pointer for a call */
};

/* Thread tid added to p's (zeroed), thread i taken out (seize.c) */
int inject_add_thread(struct inject_proc *p, pid_t tid) __must_check;
void inject_drop_thread(struct inject_proc *p, int i);
/* The ptrace options every thread of p has now. */
long inject_opts(const struct inject_proc *p);
/* Wait for any ptrace stop of tid; -1 with ESRCH if it is gone. */
int inject_wait_stop(pid_t tid, int *statusp) __must_check;
/* Put thread t back as it was seized (its restart made explicit). */
int inject_park(struct inject_thread *t) __must_check;
/* Write thread ti's way back into slot k, or at address at with *sp the
 * stack pointer of its call (syscall.c). */
int inject_write_way_back(struct inject_proc *p, int ti, int k) __must_check;
int inject_way_back_at(struct inject_proc *p, int ti, uint64_t at,
		       uint64_t *sp) __must_check;
/* A remote call whether or not inject_prepare is done (region.c). */
int inject_call(struct inject_proc *p, int ti, long *ret, long nr,
		const uint64_t args[6]) __must_check;

#endif
