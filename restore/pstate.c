/*
 * The kernel state that prctl() sets, as the image has it: process-wide
 * (child subreaper, THP disable, KSM merging, and membarrier(2)
 * registrations) and per thread (timer slack, MCE kill
 * policy, speculation control, and, last, the parent-death signal). Each
 * is a remote call in the thread it belongs to. The login uid and
 * oom_score_adj are written by the child itself (child.c), before its
 * threads exist; whether the oom_score_adj minimum can be is checked
 * before any process is made.
 */
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <stdio.h>
#include <unistd.h>

#include "restore/restore.h"

#ifndef PR_SET_MEMORY_MERGE
#define PR_SET_MEMORY_MERGE	67	/* Linux 6.4 */
#endif
#ifndef PR_THP_DISABLE_EXCEPT_ADVISED
#define PR_THP_DISABLE_EXCEPT_ADVISED	(1 << 1)	/* Linux 6.18 */
#endif
#define SPEC_STATE	(PR_SPEC_ENABLE | PR_SPEC_DISABLE | \
			 PR_SPEC_FORCE_DISABLE | PR_SPEC_DISABLE_NOEXEC)

/* membarrier(2) registrations, each command by its bit */
static int set_membarrier(struct restore_proc *c, uint32_t reg)
{
	uint32_t bit;

	for (bit = 1; bit && bit <= reg; bit <<= 1)
		if ((reg & bit) &&
		    rcall(c, 0, "register for membarrier", NULL,
			  SYS_membarrier, bit, 0, 0, 0, 0, 0))
			return -1;
	return 0;
}

static int set_process(struct restore_proc *c)
{
	const struct img_pstate *s = &c->proc->proc.ks;

	if (s->subreaper &&
	    rcall(c, 0, "become a child subreaper", NULL, SYS_prctl,
		  PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0, 0))
		return -1;
	/* after the memory is filled: restore's own fill uses huge pages */
	if (s->thp_disable &&
	    rcall(c, 0, "disable transparent huge pages", NULL, SYS_prctl,
		  PR_SET_THP_DISABLE, 1, s->thp_disable & 2 ?
		  PR_THP_DISABLE_EXCEPT_ADVISED : 0, 0, 0, 0))
		return -1;
	/* KSM over all its memory, which the kernel marks mergeable */
	if (s->memory_merge &&
	    rcall(c, 0, "merge memory", NULL, SYS_prctl, PR_SET_MEMORY_MERGE,
		  1, 0, 0, 0, 0))
		return -1;
	return set_membarrier(c, s->membarrier);
}

/*
 * Speculation control that the kernel lets a thread set (PR_SPEC_PRCTL)
 * is set as it was; the rest is the machine's policy, not the thread's.
 * A forced disable can't be undone, so it is the one set last.
 */
static int set_spec(struct restore_proc *c, int ti, const struct img_tstate *t)
{
	int i;

	for (i = 0; i < 3; i++) {
		if (!(t->spec[i] & PR_SPEC_PRCTL) || !(t->spec[i] & SPEC_STATE))
			continue;
		if (rcall(c, ti, "set speculation control", NULL, SYS_prctl,
			  PR_SET_SPECULATION_CTRL, i, t->spec[i] & SPEC_STATE,
			  0, 0, 0))
			return -1;
	}
	return 0;
}

static int set_thread(struct restore_proc *c, int ti,
		      const struct img_tstate *t)
{
	/* 0 would mean the default: only a real-time thread reads 0 */
	if (t->timer_slack_ns &&
	    rcall(c, ti, "set the timer slack", NULL, SYS_prctl,
		  PR_SET_TIMERSLACK, t->timer_slack_ns, 0, 0, 0, 0))
		return -1;
	/* threads are cloned from the leader, whose policy they inherit */
	if (t->mce_kill == PR_MCE_KILL_DEFAULT ?
	    rcall(c, ti, "set the MCE kill policy", NULL, SYS_prctl,
		  PR_MCE_KILL, PR_MCE_KILL_CLEAR, 0, 0, 0, 0) :
	    rcall(c, ti, "set the MCE kill policy", NULL, SYS_prctl,
		  PR_MCE_KILL, PR_MCE_KILL_SET, t->mce_kill, 0, 0, 0))
		return -1;
	return set_spec(c, ti, t);
}

int restore_pstate(struct restore_proc *c)
{
	uint32_t i;

	if (set_process(c))
		return -1;
	for (i = 0; i < c->proc->nr_threads; i++)
		if (set_thread(c, i, &c->proc->threads[i].ks))
			return -1;
	return 0;
}

/*
 * mlockall(MCL_FUTURE): every mapping made from now on is locked, so it
 * comes after the last one restore makes for the process (its own are
 * unmapped again) and before the credentials, while restore's
 * CAP_IPC_LOCK lets it (the process had RLIMIT_MEMLOCK or the
 * capability when it called it).
 */
int restore_mlockall(struct restore_proc *c)
{
	uint32_t f = c->proc->proc.ks.mlockall;

	return f ? rcall(c, 0, "lock future mappings (mlockall)", NULL,
			 SYS_mlockall, f, 0, 0, 0, 0, 0) : 0;
}

/*
 * The parent-death signal, after the credentials: a change of ids or
 * capabilities clears it (commit_creds). restore's children have SIGKILL
 * until then, for restore's sake (child.c); the image's value replaces it.
 */
int restore_pdeathsig(struct restore_proc *c)
{
	uint32_t i;

	for (i = 0; i < c->proc->nr_threads; i++)
		if (rcall(c, i, "set the parent-death signal", NULL, SYS_prctl,
			  PR_SET_PDEATHSIG, c->proc->threads[i].ks.pdeathsig,
			  0, 0, 0, 0))
			return -1;
	return 0;
}

/* ---- the oom_score_adj minimum ------------------------------------------ */

/* restore's CAP_SYS_RESOURCE (effective), by which its children set their
 * oom_score_adj minimum as the image has it (child.c) */
int restore_has_sys_resource(const struct restore_run *run)
{
	return !!(run->host.own_caps.eff & (1ULL << CAP_SYS_RESOURCE));
}

/* v into /proc/self/oom_score_adj: 0, or -1 and errno */
static int try_oom(int v)
{
	char buf[16];
	int fd = open("/proc/self/oom_score_adj", O_WRONLY | O_CLOEXEC);
	int n = snprintf(buf, sizeof(buf), "%d", v), ok;

	if (fd < 0)
		return -1;
	ok = write(fd, buf, n) == n;
	close(fd);
	return ok ? 0 : -1;
}

/*
 * Restore's own oom_score_adj minimum, which the processes it makes
 * inherit and, without CAP_SYS_RESOURCE, keep. No call tells it; but
 * without the capability oom_score_adj takes only a value at or above
 * it (else EACCES): found by trying, in a child of ours, whose own the
 * writes change. 0, or -1 and errno.
 */
static int own_oom_min(int *min)
{
	int pfd[2], lo = -1000, hi = 1000, mid, st;
	pid_t pid;
	ssize_t n;

	if (pipe2(pfd, O_CLOEXEC))
		return -1;
	pid = fork();
	if (pid == 0) {
		close(pfd[0]);
		if (try_oom(hi))
			_exit(1);
		while (lo < hi) {
			mid = lo + (hi - lo) / 2;
			if (!try_oom(mid))
				hi = mid;
			else if (errno == EACCES)
				lo = mid + 1;
			else
				_exit(1);
		}
		_exit(write(pfd[1], &lo, sizeof(lo)) == sizeof(lo) ? 0 : 1);
	}
	close(pfd[1]);
	if (pid < 0) {
		close(pfd[0]);
		return -1;
	}
	n = read(pfd[0], min, sizeof(*min));
	close(pfd[0]);
	while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
		;
	if (n != sizeof(*min)) {
		errno = EIO;
		return -1;
	}
	return 0;
}

/*
 * The oom_score_adj minimum, as the image has it (read with BPF), is
 * each process's own from restore's (inherited, and set with
 * CAP_SYS_RESOURCE only): without the capability, one other than
 * restore's is refused before any process is made. One below its
 * oom_score_adj (which only the legacy oom_adj file makes) can't be set.
 */
void restore_oom_min_early(struct restore_run *run)
{
	if (!run->own_oom_known && !own_oom_min(&run->own_oom_min))
		run->own_oom_known = 1;
}

int restore_check_oom_min(struct restore_run *run)
{
	const struct img_pstate *s;
	int own = run->own_oom_min, known = run->own_oom_known;
	uint32_t i;

	for (i = 0; i < run->img->nr_procs; i++) {
		s = &run->img->procs[i].proc.ks;
		if (run->img->procs[i].proc.zombie || !s->oom_min_known)
			continue;
		if (s->oom_score_adj < s->oom_score_adj_min) {
			pr_err("can't restore process %d of %s: its oom_score_adj %d is below its minimum %d, which restore can't set",
			       run->img->procs[i].proc.pid, run->path,
			       s->oom_score_adj, s->oom_score_adj_min);
			return -1;
		}
		if (restore_has_sys_resource(run))
			continue;
		if (!known && own_oom_min(&own)) {
			pr_perror("can't find restore's own oom_score_adj minimum");
			return -1;
		}
		known = 1;
		if (own != s->oom_score_adj_min) {
			pr_err("can't restore process %d of %s: its oom_score_adj minimum was %d, restore's is %d, and restore lacks cap_sys_resource, which changing it takes",
			       run->img->procs[i].proc.pid, run->path,
			       s->oom_score_adj_min, own);
			return -1;
		}
	}
	return 0;
}
