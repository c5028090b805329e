/*
 * Threads and signal state of the restored process, then the last step:
 * each thread gets its registers, FPU state and signal mask through ptrace,
 * the trampoline is unmapped, and the restorer lets go.
 *
 * Pending signals are queued again by the leader itself: the kernel lets a
 * process send any siginfo to itself, but not a stranger (rt_sigqueueinfo
 * refuses si_code >= 0 from another process).
 */
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <errno.h>
#include <linux/sched.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

#include "restore/restore.h"

#define THREAD_FLAGS (CLONE_VM | CLONE_FS | CLONE_FILES | CLONE_SIGHAND | \
		      CLONE_THREAD | CLONE_SYSVSEM)

static int set_sigacts(struct restore_proc *c)
{
	uint8_t k[64];
	int sig;

	if (!c->proc->has_sigacts)
		return 0;
	for (sig = 1; sig <= IMG_NSIG; sig++) {
		/* most are what the new process has (child.c): some 60
		 * calls less, 3 ms */
		if (sig == SIGKILL || sig == SIGSTOP ||
		    !memcmp(&c->proc->sigacts[sig - 1],
			    &c->child_acts[sig - 1], sizeof(struct img_sigact)))
			continue;
		arch_ksigaction_from_img(&c->proc->sigacts[sig - 1], k);
		if (inject_write(c->ip, inject_scratch(c->ip), k,
				 arch_ksigaction_size()) ||
		    rcall(c, 0, "set a signal action", NULL, SYS_rt_sigaction,
			  sig, inject_scratch(c->ip), 0, 8, 0, 0))
			return -1;
	}
	return 0;
}

/* Each thread has its own name; the leader's is the process's. */
static int set_comm(struct restore_proc *c, int ti, const char *name)
{
	char comm[16];

	memset(comm, 0, sizeof(comm));
	memcpy(comm, name, sizeof(comm) - 1);
	if (inject_write(c->ip, inject_scratch(c->ip), comm, sizeof(comm)))
		return -1;
	return rcall(c, ti, "set the name", NULL, SYS_prctl, PR_SET_NAME,
		     inject_scratch(c->ip), 0, 0, 0, 0);
}

/* Per-thread kernel pointers, set by the thread itself (index ti). */
static int set_thread_kernel_state(struct restore_proc *c, int ti,
				   const struct img_thread *t)
{
	uint64_t ss[3] = { t->ss_sp, t->ss_flags & ~(uint32_t)SS_ONSTACK,
			   t->ss_size };

	if (set_comm(c, ti, t->comm[0] ? t->comm : c->proc->proc.comm))
		return -1;
	if (rcall(c, ti, "set the tid address", NULL, SYS_set_tid_address,
		  t->clear_tid, 0, 0, 0, 0, 0))
		return -1;
	if (t->robust_list &&
	    rcall(c, ti, "set the robust list", NULL, SYS_set_robust_list,
		  t->robust_list, t->robust_len, 0, 0, 0, 0))
		return -1;
	if (!(t->ss_flags & SS_DISABLE) &&
	    (inject_write(c->ip, inject_scratch(c->ip), ss, sizeof(ss)) ||
	     rcall(c, ti, "set the signal stack", NULL, SYS_sigaltstack,
		   inject_scratch(c->ip), 0, 0, 0, 0, 0)))
		return -1;
	if (t->rseq &&
	    rcall(c, ti, "register rseq", NULL, SYS_rseq, t->rseq,
		  t->rseq_len, 0, t->rseq_sig, 0, 0))
		return -1;
	return 0;
}

/* Thread t of c, with its TID at each PID namespace level below the
 * tree's top one too (pidnest.c) */
static int clone_thread(struct restore_proc *c, const struct img_thread *t)
{
	pid_t tids[IMG_MAX_PIDNS_DEPTH + 1];
	uint32_t n = restore_pidnest_tids_of(t, tids);

	return inject_clone_thread_ns(c->ip, 0, tids, n, THREAD_FLAGS);
}

/* Called by the process itself, which knows itself by its image PID (in
 * a PID namespace, not c->child, the host's), or in one below the tree's
 * top one by its PID and its threads' TIDs there (pidnest.c) */
static int queue_signals(struct restore_proc *c, const struct img_thread *t)
{
	pid_t self = restore_pidnest_self(&c->proc->proc);
	pid_t tid = t->nr_nstids ? t->nstids[t->nr_nstids - 1] : t->tid;
	uint32_t i;

	for (i = 0; i < t->nr_siginfo; i++) {
		const struct img_siginfo *s = &t->siginfo[i];
		int sig = *(const int32_t *)s->data;	/* si_signo */

		if (inject_write(c->ip, inject_scratch(c->ip), s->data,
				 sizeof(s->data)))
			return -1;
		if (s->shared ?
		    rcall(c, 0, "queue a signal", NULL, SYS_rt_sigqueueinfo,
			  self, sig, inject_scratch(c->ip), 0, 0, 0) :
		    rcall(c, 0, "queue a signal", NULL, SYS_rt_tgsigqueueinfo,
			  self, tid, sig, inject_scratch(c->ip), 0, 0))
			return -1;
	}
	return 0;
}

/* Interval timers last: signals are blocked until the registers load. */
static int set_itimers(struct restore_proc *c)
{
	const struct img_proc *p = &c->proc->proc;
	uint64_t tv[4];
	int i;

	for (i = 0; i < 3; i++) {
		const struct img_itimer *t = &p->itimers[i];

		uint64_t value = t->value_us;

		/*
		 * A periodic ITIMER_REAL that fired while the process was
		 * frozen reads 0 left: the kernel re-arms it only when the
		 * SIGALRM (queued again above) is dequeued. Arm it for the
		 * next period, or it would never fire again.
		 */
		if (!value)
			value = t->interval_us;
		if (!value)
			continue;
		tv[0] = t->interval_us / 1000000;
		tv[1] = t->interval_us % 1000000;
		tv[2] = value / 1000000;
		tv[3] = value % 1000000;
		if (inject_write(c->ip, inject_scratch(c->ip), tv, sizeof(tv)) ||
		    rcall(c, 0, "set an interval timer", NULL, SYS_setitimer,
			  i, inject_scratch(c->ip), 0, 0, 0, 0))
			return -1;
	}
	return 0;
}

static int create_threads(struct restore_proc *c)
{
	uint32_t i;

	for (i = 1; i < c->proc->nr_threads; i++) {
		/* its default timer slack is its creator's slack: the
		 * leader's, set for it (pstate.c sets the leader's after) */
		if (c->proc->threads[i].ks.default_slack_ns &&
		    rcall(c, 0, "set the timer slack for a thread", NULL,
			  SYS_prctl, PR_SET_TIMERSLACK,
			  c->proc->threads[i].ks.default_slack_ns, 0, 0, 0, 0))
			return -1;
		if (clone_thread(c, &c->proc->threads[i])) {
			pr_perror("can't create thread %d",
				  c->proc->threads[i].tid);
			return -1;
		}
	}
	return 0;
}

static int load_registers(struct restore_proc *c, int ti,
			  const struct img_thread *t)
{
	pid_t tid = inject_tid(c->ip, ti);
	struct arch_regs r;

	arch_regs_from_words(&r, t->regs);
	arch_regs_clear_syscall(&r);
	if (arch_set_regs(tid, &r) ||
	    (t->xstate_len && arch_set_xstate(tid, t->xstate, t->xstate_len)) ||
	    inject_set_sigmask(tid, t->sigmask)) {
		pr_perror("can't load the registers of thread %d", tid);
		return -1;
	}
	return 0;
}

int restore_task(struct restore_proc *c)
{
	uint32_t i;

	if (create_threads(c) || restore_thread_own(c) || set_sigacts(c) ||
	    restore_pstate(c) || restore_timers_create(c))
		return -1;
	for (i = 0; i < c->proc->nr_threads; i++)
		if (set_thread_kernel_state(c, i, &c->proc->threads[i]))
			return -1;
	/* queued last, while every signal is still blocked in every thread */
	for (i = 0; i < c->proc->nr_threads; i++)
		if (queue_signals(c, &c->proc->threads[i]))
			return -1;
	for (i = 0; c->proc->proc.no_new_privs && i < c->proc->nr_threads; i++)
		if (rcall(c, i, "set no_new_privs", NULL, SYS_prctl,
			  PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0, 0))
			return -1;
	/*
	 * The filters need our CAP_SYS_ADMIN unless no_new_privs is set;
	 * they let the calls that follow through (seccomp.c). Then the last
	 * of what needs our privilege in the target (creds.c).
	 */
	if (restore_mlockall(c) || restore_pidfds(c) ||
	    restore_late_procfs(c) || restore_seccomp(c) || restore_creds(c) ||
	    restore_pdeathsig(c) || set_itimers(c) ||
	    restore_timers_arm(c) || restore_fowns(c))
		return -1;
	if (rcall(c, 0, "close the image", NULL, SYS_close, c->child_img_fd,
		  0, 0, 0, 0, 0) ||
	    rcall(c, 0, "unmap the trampoline", NULL, SYS_munmap, c->tramp,
		  c->run->host.tramp_len, 0, 0, 0, 0))
		return -1;
	for (i = 0; i < c->proc->nr_threads; i++)
		if (load_registers(c, i, &c->proc->threads[i]))
			return -1;
	return 0;
}
