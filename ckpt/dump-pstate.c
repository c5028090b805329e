/*
 * Dump of the kernel state that prctl() and /proc tell, process-wide
 * (child subreaper, THP disable, oom_score_adj, loginuid) and per thread
 * (parent-death signal, timer slack, MCE kill policy, speculation
 * control), and of how the process stands with its parent: the group
 * stop it is in (SIGSTOP, job control) and what its parent's wait() has
 * yet to report of it. A process that someone else traces is named and
 * refused.
 */
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <errno.h>
#include <linux/membarrier.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ckpt/dump-priv.h"

#ifndef PR_GET_MEMORY_MERGE
#define PR_SET_MEMORY_MERGE	67	/* Linux 6.4 */
#define PR_GET_MEMORY_MERGE	68
#endif

/* The number after key ("\nTracerPid:") in /proc/PID/status, in *val:
 * 0, or -1 when the file can't be read (*val 0; no key: 0 too). */
static int status_number(pid_t pid, const char *key, long *val)
{
	char path[64], *s, *p;

	*val = 0;
	snprintf(path, sizeof(path), "/proc/%d/status", pid);
	s = read_file_str(path, NULL);
	if (!s)
		return -1;
	p = strstr(s, key);
	if (p)
		*val = atol(p + strlen(key));
	free(s);
	return 0;
}

/* TracerPid of /proc/PID/status: 0 when untraced or unreadable. */
pid_t dump_tracer_of(pid_t pid)
{
	long tracer;

	(void)status_number(pid, "\nTracerPid:", &tracer);
	return tracer;
}

/*
 * A process traced by someone else cannot be seized (one tracer at a
 * time), and what its tracer holds (a ptrace stop, state t, a signal it
 * may never deliver) is not the process's to restore: refused by name.
 */
int dump_check_untraced(pid_t pid)
{
	pid_t tracer = dump_tracer_of(pid);
	struct proc_stat st;

	if (!tracer)
		return 0;
	if (!proc_parse_stat(pid, &st) && st.state == 't')
		pr_err("can't dump %d: it is stopped by its tracer %d (state t), which ckpt can't restore",
		       pid, tracer);
	else
		pr_err("can't dump %d: it is traced by %d, and one process has one tracer",
		       pid, tracer);
	errno = EBUSY;
	return -1;
}

/* Has the parent (c, frozen) a report of kid's to collect with these
 * waitid() options? Asked with WNOWAIT: nothing is consumed. */
static int reportable(struct dump_ctx *c, pid_t kid, int options, int *yes)
{
	siginfo_t si;
	long ret;

	memset(&si, 0, sizeof(si));
	if (inject_write(c->ip, inject_scratch(c->ip), &si, sizeof(si)) ||
	    inject_syscall(c->ip, c->leader, &ret, SYS_waitid, P_PID, kid,
			   inject_scratch(c->ip), options | WNOHANG | WNOWAIT,
			   0, 0) ||
	    inject_read(c->ip, inject_scratch(c->ip), &si, sizeof(si)))
		return -1;
	/* ECHILD: a child being reaped, or not ours any more */
	*yes = !ret && si.si_pid == kid;
	return 0;
}

/*
 * What this process's wait() would still report of each child: the stop
 * of a stopped child (WUNTRACED) or the SIGCONT of a continued one
 * (WCONTINUED) until it has collected them. Asked here, while the parent
 * is ready for remote calls; each child gets its answer in
 * dump_tree_waits().
 */
static int collect_kid_waits(struct dump_ctx *c)
{
	pid_t *kids = NULL;
	int n, i, st, co, ret = -1;

	n = dump_children_of(c->pid, &kids);
	c->waits = calloc(n ? n : 1, sizeof(*c->waits));
	if (!c->waits)
		goto out;
	for (i = 0; i < n; i++) {
		if (reportable(c, kids[i], WSTOPPED, &st) ||
		    reportable(c, kids[i], WCONTINUED, &co))
			goto out;
		c->waits[i].pid = kids[i];
		c->waits[i].wait = (st ? IMG_WAIT_STOPPED : 0) |
				   (co ? IMG_WAIT_CONTINUED : 0);
	}
	c->nr_waits = n;
	ret = 0;
out:
	free(kids);
	return ret;
}

/* prctl(op) in thread ti: its value, or what it stores at our scratch
 * (an int) when by_ptr. -1 with errno when the call fails. */
static long rprctl(struct dump_ctx *c, int ti, int op, uint64_t arg,
		   int by_ptr, long *val)
{
	int32_t v;
	long ret;

	if (inject_syscall(c->ip, ti, &ret, SYS_prctl, op,
			   by_ptr ? inject_scratch(c->ip) : arg, 0, 0, 0, 0))
		return -1;
	if (ret < 0) {
		errno = -ret;
		return -1;
	}
	if (by_ptr) {
		if (inject_read(c->ip, inject_scratch(c->ip), &v, sizeof(v)))
			return -1;
		ret = v;
	}
	*val = ret;
	return 0;
}

/* A number from /proc/PID/NAME (or task/TID/NAME), in *val. */
static int proc_number(const char *what, long *val)
{
	char *s = read_file_str(what, NULL), *end;

	if (!s)
		return -1;
	errno = 0;
	*val = strtol(s, &end, 10);
	if (end == s || errno) {
		free(s);
		errno = EINVAL;
		return -1;
	}
	free(s);
	return 0;
}

/*
 * The login uid is each thread's (audit), but restore sets it once, for
 * the process, before its threads exist: threads with another one are
 * refused by name.
 */
static int collect_loginuid(struct dump_ctx *c, struct img_pstate *s)
{
	char path[64];
	long v;
	int i;

	for (i = 0; i < inject_nr_threads(c->ip); i++) {
		snprintf(path, sizeof(path), "/proc/%d/task/%d/loginuid",
			 c->pid, inject_tid(c->ip, i));
		if (proc_number(path, &v))
			return -1;
		if (!i) {
			s->loginuid = v;
			continue;
		}
		if ((uint32_t)v != s->loginuid) {
			pr_err("can't dump %d: its thread %d has login uid %ld, the process %u",
			       c->pid, inject_tid(c->ip, i), v, s->loginuid);
			errno = EOPNOTSUPP;
			return -1;
		}
	}
	return 0;
}

#ifndef MEMBARRIER_CMD_GET_REGISTRATIONS
#define MEMBARRIER_CMD_GET_REGISTRATIONS	(1 << 9)	/* Linux 6.3 */
#endif

/*
 * membarrier(2) registrations belong to the mm. Since Linux 6.3,
 * MEMBARRIER_CMD_GET_REGISTRATIONS lists them, by the bits of the
 * commands that registered (the image's). Before, no call lists them;
 * but a private expedited command fails with EPERM unless the process
 * registered for it, so each one the kernel has is made once, in the
 * target: a barrier over its threads, all stopped. A GLOBAL_EXPEDITED
 * registration has no such test: an older kernel does not show it
 * (ckpt(1)).
 */
static int probe_membarrier(struct dump_ctx *c, long have, uint32_t *reg)
{
	static const uint32_t cmds[] = { IMG_MEMBARRIER_PRIVATE,
					 IMG_MEMBARRIER_SYNC_CORE,
					 IMG_MEMBARRIER_RSEQ };
	long ret;
	size_t i;

	for (i = 0; i < ARRAY_SIZE(cmds); i++) {
		/* each command's bit is its registration's, shifted down */
		if (!(have & cmds[i]))
			continue;
		if (inject_syscall(c->ip, c->leader, &ret, SYS_membarrier,
				   cmds[i] >> 1, 0, 0, 0, 0, 0))
			return -1;
		if (!ret)
			*reg |= cmds[i];
		else if (ret != -EPERM) {
			errno = -ret;
			return -1;
		}
	}
	return 0;
}

static int collect_membarrier(struct dump_ctx *c, struct img_pstate *s)
{
	long have, ret;

	if (inject_syscall(c->ip, c->leader, &have, SYS_membarrier,
			   MEMBARRIER_CMD_QUERY, 0, 0, 0, 0, 0))
		return -1;
	if (have <= 0)
		return 0;
	if (!(have & MEMBARRIER_CMD_GET_REGISTRATIONS))
		return probe_membarrier(c, have, &s->membarrier);
	if (inject_syscall(c->ip, c->leader, &ret, SYS_membarrier,
			   MEMBARRIER_CMD_GET_REGISTRATIONS, 0, 0, 0, 0, 0))
		return -1;
	if (ret < 0) {
		errno = -ret;
		return -1;
	}
	if (ret & ~(long)IMG_MEMBARRIER_ALL) {
		pr_err("can't dump %d: it has membarrier registrations %#lx, which ckpt does not know",
		       c->pid, ret);
		errno = EOPNOTSUPP;
		return -1;
	}
	s->membarrier = ret;
	return 0;
}

/*
 * mlockall(MCL_FUTURE) shows only in the mappings made after it: ckpt's
 * own page in the target is one, locked ("lo") when the process had
 * called it, on fault only ("lf") with MCL_ONFAULT. A locked page counts
 * in VmLck, so a process with none is not looked at further.
 */
static int collect_mlockall(struct dump_ctx *c, struct img_pstate *s)
{
	uint64_t at = inject_scratch(c->ip);
	struct proc_map *m;
	long locked;
	int n, i;

	s->mlockall = 0;
	if (status_number(c->pid, "\nVmLck:", &locked))
		return -1;
	if (!locked)
		return 0;
	n = proc_parse_maps(c->pid, &m);
	if (n < 0)
		return -1;
	for (i = 0; i < n; i++) {
		if (at < m[i].start || at >= m[i].end)
			continue;
		if (m[i].vmflags & PROC_VMF_LOCKED)
			s->mlockall = IMG_MCL_FUTURE;
		if (m[i].vmflags & PROC_VMF_LOCKONFAULT)
			s->mlockall |= IMG_MCL_ONFAULT;
	}
	proc_free_maps(m, n);
	return 0;
}

static int collect_prctl(struct dump_ctx *c, struct img_pstate *s)
{
	char path[64];
	long v;

	if (rprctl(c, c->leader, PR_GET_CHILD_SUBREAPER, 0, 1, &v))
		return -1;
	s->subreaper = !!v;
	if (rprctl(c, c->leader, PR_GET_THP_DISABLE, 0, 0, &v))
		return -1;
	s->thp_disable = v;
	/* KSM for all its memory; EINVAL: a kernel without KSM */
	v = 0;
	if (rprctl(c, c->leader, PR_GET_MEMORY_MERGE, 0, 0, &v) &&
	    errno != EINVAL)
		return -1;
	s->memory_merge = v == 1;
	snprintf(path, sizeof(path), "/proc/%d/oom_score_adj", c->pid);
	if (proc_number(path, &v))
		return -1;
	s->oom_score_adj = v;
	return collect_loginuid(c, s) || collect_membarrier(c, s) ||
		collect_mlockall(c, s) ? -1 : 0;
}

#ifndef PR_GET_SHADOW_STACK_STATUS
#define PR_GET_SHADOW_STACK_STATUS	74	/* Linux 6.13: arm64 GCS */
#endif

/*
 * A user shadow stack (x86 CET, arm64 GCS) is memory and a register that
 * ckpt does not save: a thread that has one enabled is refused by name.
 * Kernels and CPUs without them answer EINVAL, which means none.
 */
static int check_shadow_stack(struct dump_ctx *c, int ti)
{
	uint64_t feat = 0;
	long v = 0, ret, nr, op;

	/* the status is written to the address given (an unsigned long;
	 * its low bits, the ones set, are what rprctl reads) */
	if (rprctl(c, ti, PR_GET_SHADOW_STACK_STATUS, 0, 1, &v) &&
	    errno != EINVAL)
		return -1;
	if (!arch_shstk_status_call(&nr, &op)) {
		if (inject_write(c->ip, inject_scratch(c->ip), &feat,
				 sizeof(feat)) ||
		    inject_syscall(c->ip, ti, &ret, nr, op,
				   inject_scratch(c->ip), 0, 0, 0, 0) ||
		    (!ret && inject_read(c->ip, inject_scratch(c->ip), &feat,
					 sizeof(feat))))
			return -1;
		if (ret)
			feat = 0;
	}
	if (!v && !feat)
		return 0;
	pr_err("can't dump %d: thread %d has a shadow stack enabled (features %#llx), which ckpt does not save",
	       c->pid, inject_tid(c->ip, ti), (unsigned long long)(feat | v));
	errno = EOPNOTSUPP;
	return -1;
}

/* Thread ti's own: the parent-death signal, timer slack, MCE policy
 * and speculation control (each a prctl of the thread itself). */
int dump_collect_tstate(struct dump_ctx *c, int ti, struct img_tstate *t)
{
	long v;
	int i;

	if (check_shadow_stack(c, ti))
		return -1;

	if (rprctl(c, ti, PR_GET_PDEATHSIG, 0, 1, &v))
		return -1;
	t->pdeathsig = v;
	if (rprctl(c, ti, PR_GET_TIMERSLACK, 0, 0, &v))
		return -1;
	t->timer_slack_ns = v;
	if (rprctl(c, ti, PR_MCE_KILL_GET, 0, 0, &v))
		return -1;
	t->mce_kill = v;
	/* EINVAL or ENODEV: no such control on this CPU or kernel */
	for (i = 0; i < 3; i++)
		t->spec[i] = rprctl(c, ti, PR_GET_SPECULATION_CTRL, i, 0, &v) ?
			0 : v;
	return 0;
}

int dump_collect_pstate(struct dump_ctx *c)
{
	struct img_pstate *s = &c->proc.proc.ks;

	struct proc_stat st;

	if (proc_parse_stat(c->pid, &st)) {
		dump_perror(c, "can't read the state of %d", c->pid);
		return -1;
	}
	if (!img_exit_signal_ok(st.exit_signal)) {
		pr_err("can't dump %d: its exit signal is %d", c->pid,
		       st.exit_signal);
		errno = EOPNOTSUPP;
		return -1;
	}
	s->exit_signal = st.exit_signal;
	/* the root's parent is not dumped: its report stays to be made */
	s->stop_sig = inject_group_stop(c->ip);
	s->wait = s->stop_sig ? IMG_WAIT_STOPPED : 0;
	if (collect_prctl(c, s)) {
		if (errno != EOPNOTSUPP)	/* a refusal said why */
			dump_perror(c, "can't read the prctl state of %d",
				    c->pid);
		return -1;
	}
	if (c->o->tree && collect_kid_waits(c)) {
		dump_perror(c, "can't ask %d what its wait() would report",
			    c->pid);
		return -1;
	}
	return 0;
}

/* Each child of the tree gets what its parent's wait() has to report. */
void dump_tree_waits(struct dump_tree *t)
{
	int i, j, k;

	for (i = 1; i < t->n; i++) {
		struct img_proc *p = &t->procs[i].proc.proc;

		if (p->zombie)
			continue;
		for (j = 0; j < t->n; j++) {
			const struct dump_ctx *pc = &t->procs[j];

			for (k = 0; pc->pid == p->ppid && k < pc->nr_waits; k++)
				if (pc->waits[k].pid == p->pid)
					p->ks.wait = pc->waits[k].wait &
						(p->ks.stop_sig ?
						 IMG_WAIT_STOPPED :
						 IMG_WAIT_CONTINUED);
		}
	}
}
