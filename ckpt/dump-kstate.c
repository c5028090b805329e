/*
 * dump-kstate: what the kernel keeps of a process's POSIX timers,
 * seccomp filters and threads' default timer slack and tells through no
 * system call, read by the task
 * iterator of ckpt/bpf/timers.bpf.c (embedded in ckpt; loaded once, run
 * on each process by dump-bpf.c).
 * It needs CAP_BPF and CAP_PERFMON (root) and a kernel with BTF; without
 * them dump_kstate_read() fails with the reason, and the callers refuse
 * what they cannot tell otherwise.
 */
#include <sys/syscall.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ckpt/dump-priv.h"

extern const unsigned char ckpt_timers_bpf[], ckpt_timers_bpf_end[];

static struct dump_bpf kstate_bpf = {
	.blob = ckpt_timers_bpf, .end = ckpt_timers_bpf_end,
	.name = "ckpt_kstate",
};

/* Loaded before the freeze: libbpf parses the kernel's BTF for it
 * (5 MB here), which took most of a small process's freeze. */
void dump_kstate_preload(void)
{
	if (dump_bpf_load(&kstate_bpf, NULL, 0))
		return;	/* the error is kept for dump_kstate_read */
}

int dump_kstate_read(pid_t pid, struct dump_kstate *ks)
{
	size_t n = 0;

	memset(ks, 0, sizeof(*ks));
	if (dump_bpf_load(&kstate_bpf, NULL, 0))
		return -1;
	ks->recs = dump_bpf_iterate(&kstate_bpf, pid, sizeof(*ks->recs), &n);
	if (!ks->recs)
		return -1;
	ks->n = n;
	for (size_t i = 0; i < ks->n; i++)
		if (ks->recs[i].kind == CKPT_KSTATE_TRUNCATED) {
			dump_kstate_free(ks);
			errno = E2BIG;
			return -1;
		}
	return 0;
}

void dump_kstate_free(struct dump_kstate *ks)
{
	free(ks->recs);
	ks->recs = NULL;
	ks->n = 0;
}

/* The name /proc/kallsyms gives the kernel address addr, into name; -1
 * with errno ENOENT when none (or addresses hidden: kptr_restrict). */
static int ksym_name(uint64_t addr, char *name, size_t len)
{
	char line[512], sym[256], type;
	unsigned long long a;
	FILE *f = fopen("/proc/kallsyms", "re");
	int found = 0;

	if (!f)
		return -1;
	while (!found && fgets(line, sizeof(line), f))
		if (sscanf(line, "%llx %c %255s", &a, &type, sym) == 3 &&
		    a == addr && addr) {
			snprintf(name, len, "%s", sym);
			found = 1;
		}
	fclose(f);
	if (!found)
		errno = ENOENT;
	return found ? 0 : -1;
}

/* restart_syscall(2) continues the call whose restart function this is;
 * the call to make again instead, by its first argument (a clock id for
 * clock_nanosleep, a pointer for nanosleep), or 0 for none needed (the
 * kernel's default answers EINTR as a new process's would), -1 unknown */
static long call_of(const char *fn, uint64_t arg0)
{
	if (!strcmp(fn, "do_no_restart_syscall"))
		return 0;
	if (!strcmp(fn, "hrtimer_nanosleep_restart"))
		return arg0 < 65536 ? SYS_clock_nanosleep : SYS_nanosleep;
	if (!strcmp(fn, "posix_cpu_nsleep_restart") ||
	    !strcmp(fn, "alarm_timer_nsleep_restart"))
		return SYS_clock_nanosleep;
	if (!strcmp(fn, "futex_wait_restart"))
		return SYS_futex;
#ifdef SYS_poll
	if (!strcmp(fn, "do_restart_poll"))
		return SYS_poll;
#endif
	return -1;
}

/*
 * A thread stopped in restart_syscall(2) (a stop and SIGCONT had
 * interrupted its sleep, nanosleep, a futex wait or poll with a timeout)
 * would get EINTR from it in a new process, which has no restart block:
 * the call it continues, read from its restart block, is made again
 * instead, with its arguments, which its registers still hold (as for a
 * call the freeze interrupted). 0, or -1 having said why.
 */
int dump_restart_call(struct dump_ctx *c, pid_t tid, struct arch_regs *r)
{
	struct dump_kstate ks;
	char fn[256] = "";
	uint64_t arg0;
	long nr = -1;
	size_t i;

	if (arch_regs_restart_nr(r, &arg0) != SYS_restart_syscall)
		return 0;
	if (dump_kstate_read(c->pid, &ks)) {
		pr_err("can't dump %d: thread %d is continuing an interrupted call through restart_syscall, which only the kernel's restart block names, read through BPF: %s",
		       c->pid, tid, strerror(errno));
		errno = EOPNOTSUPP;
		return -1;
	}
	for (i = 0; i < ks.n; i++)
		if (ks.recs[i].kind == CKPT_KSTATE_RESTART &&
		    ks.recs[i].tid == tid &&
		    !ksym_name(ks.recs[i].addr, fn, sizeof(fn)))
			nr = call_of(fn, arg0);
	dump_kstate_free(&ks);
	if (nr < 0) {
		pr_err("can't dump %d: thread %d is continuing an interrupted call through restart_syscall (%s), which ckpt can't make again",
		       c->pid, tid, fn[0] ? fn : "its restart function not found");
		errno = EOPNOTSUPP;
		return -1;
	}
	if (nr)
		arch_regs_set_restart_nr(r, nr);
	return 0;
}

/*
 * The process's oom_score_adj minimum, and each thread's default timer
 * slack, which PR_SET_TIMERSLACK of 0 goes back to: its creator's slack
 * when it was made; no call tells either.
 * Without BPF neither is known (the image says so: restore's come back,
 * as ckpt(1) says). A default of 0 (made by a real-time thread, whose slack
 * is 0) is one restore, not real-time, can't give: refused.
 */
int dump_collect_unseen(struct dump_ctx *c)
{
	struct dump_kstate ks;
	size_t i;
	uint32_t j;

	if (dump_kstate_read(c->pid, &ks))
		return 0;
	for (i = 0; i < ks.n; i++) {
		const struct ckpt_kstate_rec *r = &ks.recs[i];

		if (r->kind != CKPT_KSTATE_TASK)
			continue;
		for (j = 0; j < c->proc.nr_threads; j++)
			if (c->proc.threads[j].tid == r->tid)
				c->proc.threads[j].ks.default_slack_ns = r->addr;
		c->proc.proc.ks.oom_min_known = 1;
		c->proc.proc.ks.oom_score_adj_min = r->id;
	}
	dump_kstate_free(&ks);
	for (j = 0; j < c->proc.nr_threads; j++)
		if (!c->proc.threads[j].ks.default_slack_ns) {
			pr_err("can't dump %d: thread %d's default timer slack is 0 (it was made by a real-time thread), which ckpt can't give back",
			       c->pid, c->proc.threads[j].tid);
			errno = EOPNOTSUPP;
			return -1;
		}
	return 0;
}
