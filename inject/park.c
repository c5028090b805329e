/*
 * Parking: every thread of a seized process waits in the kernel, where
 * a death of ours releases nothing that runs the program's own code,
 * until someone that outlives us lets it go.
 *
 * inject_park_prepare maps our page as shared memory (MAP_SHARED |
 * MAP_ANONYMOUS) and opens it from outside (/proc/PID/map_files): that
 * descriptor is the key to the threads, for a process of ours that
 * outlives ckpt (the dump's guardian). inject_park_threads then makes
 * each thread call futex(FUTEX_WAIT) on the page's first word, 0, from
 * the target's own "syscall; ret" code, its signal mask full, its way
 * back (syscall.c) on its own stack below its stack pointer, where the
 * kernel would put a signal frame: that way back unmaps the page and
 * puts back, through rt_sigreturn, the thread's whole context. The
 * thread is let run (PTRACE_CONT) into the wait.
 *
 * If ckpt dies, the kernel lets the threads go, but they wait on: no
 * signal can wake them (all are blocked; a stop or the freezer restarts
 * the wait), and a thread we had not let run yet enters the same wait.
 * The key's holder sets the word and wakes them all (FUTEX_WAKE): each
 * comes back from the wait, unmaps the page (the first does; a thread
 * that enters the wait after that meets EFAULT and goes on alike) and
 * returns to where it was, a call it was in made again. Nothing of ours
 * stays: no descriptor was ever in the target, the page is gone, and
 * what was written below the stack pointers is below them.
 *
 * If ckpt lives, inject_unpark_threads interrupts each thread in its
 * wait (PTRACE_INTERRUPT: the wait ends, the thread stops) and parks it
 * as seized (inject_park); the page goes as after any remote calls.
 */
#include <sys/mman.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/futex.h>
#include <stdio.h>
#include <unistd.h>

#include "inject/inject-priv.h"
#include "util/fault.h"

#define RED_ZONE	256	/* above a way back: the ABI's red zone */

int inject_park_prepare(struct inject_proc *p, int *key)
{
	char path[96];
	int fd;

	if (p->adopted || p->prepared) {
		errno = EINVAL;
		return -1;
	}
	p->shared = 1;
	if (inject_prepare(p)) {
		p->shared = 0;
		return -1;
	}
	p->shared = 0;
	/* the page must go with the ways back, outside it */
	if (!p->unmap || p->slots_in_region || !p->slot_base) {
		pr_debug("%d: its threads can't be parked (no way back that unmaps our page)",
			 p->pid);
		errno = ENOTSUP;
		goto err;
	}
	snprintf(path, sizeof(path), "/proc/%d/map_files/%llx-%llx", p->pid,
		 (unsigned long long)p->region,
		 (unsigned long long)(p->region + p->region_len));
	fd = open(path, O_RDWR | O_CLOEXEC);
	if (fd < 0)
		goto err;
	*key = fd;
	p->parked = 1;
	return 0;
err:
	if (inject_unprepare(p))
		pr_debug("%d: can't unmap our page", p->pid);
	return -1;
}

/* The wait's registers for thread ti, its way back written. */
static int wait_regs(struct inject_proc *p, int ti, struct arch_regs *r)
{
	const uint64_t args[6] = { p->region, FUTEX_WAIT, 0, 0, 0, 0 };
	uint64_t at, sp;

	if (ti == p->anchor) {
		sp = p->sp[0];	/* its way back stands since inject_prepare */
	} else {
		at = arch_regs_sp(&p->threads[ti].regs) - RED_ZONE -
		     arch_way_back_size(p->xlen);
		at &= ~63ULL;
		if (inject_way_back_at(p, ti, at, &sp))
			return -1;
	}
	*r = p->threads[ti].regs;
	arch_regs_syscall(r, p->g.syscall_ret, SYS_futex, args);
	arch_regs_set_sp(r, sp);
	return 0;
}

/* Thread ti into its wait; the same order of requests as a call's. */
static int park_one(struct inject_proc *p, int ti)
{
	struct inject_thread *t = &p->threads[ti];
	struct arch_regs r;

	if (wait_regs(p, ti, &r) || arch_set_regs(t->tid, &r))
		return -1;
	t->touched = 1;
	if (inject_set_sigmask(t->tid, ~0ULL))
		return -1;
	fault_point("park");
	if (ptrace(PTRACE_CONT, t->tid, NULL, NULL))
		return -1;
	t->waiting = 1;
	return 0;
}

int inject_park_threads(struct inject_proc *p)
{
	int i;

	if (!p->prepared || !p->unmap) {
		errno = EINVAL;
		return -1;
	}
	/* the anchor last: its way back is the one that must unmap */
	for (i = 0; i < p->nr_threads; i++) {
		if (i == p->anchor || p->threads[i].group_stop)
			continue;
		if (park_one(p, i))
			return -1;
	}
	if (!p->threads[p->anchor].group_stop && park_one(p, p->anchor))
		return -1;
	fault_point("parked");
	return 0;
}

/* Stop thread t in its wait again: the interrupt's stop, after any
 * signal's (only SIGSTOP gets through the mask; it is passed over, as
 * during a remote call). */
static int interrupt(struct inject_thread *t)
{
	int status;

	if (ptrace(PTRACE_INTERRUPT, t->tid, NULL, NULL))
		return -1;
	for (;;) {
		if (inject_wait_stop(t->tid, &status))
			return -1;
		if (status >> 16 == PTRACE_EVENT_STOP)
			break;
		if (ptrace(PTRACE_CONT, t->tid, NULL, NULL))
			return -1;
	}
	t->waiting = 0;
	return 0;
}

int inject_unpark_threads(struct inject_proc *p)
{
	int i, ret = 0;

	if (!p || !p->parked)
		return 0;
	p->parked = 0;
	for (i = 0; i < p->nr_threads; i++) {
		struct inject_thread *t = &p->threads[i];

		/* one we set up but did not let run is stopped already */
		if ((t->waiting && interrupt(t)) ||
		    (i != p->anchor && t->touched && inject_park(t))) {
			pr_perror("can't stop thread %d again", t->tid);
			ret = -1;
		}
	}
	fault_point("unparked");
	/* the anchor unmaps the page and is parked */
	if (inject_unprepare(p))
		ret = -1;
	return ret;
}
