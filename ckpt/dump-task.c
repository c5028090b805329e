/*
 * Dump of the process-wide and per-thread state: identity, mm fields,
 * credentials, limits, auxv, the dumpable flag, and for each thread its
 * registers, masks, pending signals, capabilities and securebits, and the
 * kernel-side pointers (tid address, robust list, rseq, sigaltstack). What /proc and ptrace do not show is asked by remote
 * system calls in the frozen target.
 */
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <errno.h>
#include <limits.h>
#include <linux/ptrace.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ckpt/bpf/sigacts.h"
#include "ckpt/dump-priv.h"

#ifndef PTRACE_GET_RSEQ_CONFIGURATION
#define PTRACE_GET_RSEQ_CONFIGURATION 0x420f
#endif

struct rseq_conf {
	uint64_t rseq_abi_pointer;
	uint32_t rseq_abi_size, signature, flags, pad;
};

static char *read_link(pid_t pid, const char *what)
{
	char path[64], buf[PATH_MAX];
	ssize_t n;

	snprintf(path, sizeof(path), "/proc/%d/%s", pid, what);
	n = readlink(path, buf, sizeof(buf) - 1);
	if (n < 0)
		return NULL;
	buf[n] = '\0';
	return strdup(buf);
}

static int collect_status(struct dump_ctx *c, struct img_proc *p)
{
	char path[64], *s;
	int ret;

	snprintf(path, sizeof(path), "/proc/%d/status", c->pid);
	s = read_file_str(path, NULL);
	if (!s)
		return -1;
	ret = dump_status_info(s, p);
	free(s);
	return ret;
}

static int collect_auxv(struct dump_ctx *c, struct img_proc *p)
{
	char path[64], *buf;
	size_t len;

	snprintf(path, sizeof(path), "/proc/%d/auxv", c->pid);
	buf = read_file_str(path, &len);
	if (!buf)
		return -1;
	len /= sizeof(uint64_t);
	if (len > IMG_MAX_AUXV)
		len = IMG_MAX_AUXV;
	len &= ~1UL;
	p->auxv = (uint64_t *)buf;	/* the NUL byte past the end is spare */
	p->nr_auxv = len;
	return 0;
}

/* prlimit() of the target, from ckpt: no remote call (a freeze of a
 * small process made 16 of them here). 0, or -1 when not allowed. */
static int rlimits_direct(struct dump_ctx *c, struct img_proc *p)
{
	struct rlimit rl;
	uint32_t i;

	for (i = 0; i < p->nr_rlimits; i++) {
		if (prlimit(c->pid, i, NULL, &rl))
			return -1;
		p->rlimits[i].cur = rl.rlim_cur;
		p->rlimits[i].max = rl.rlim_max;
	}
	return 0;
}

/* From ckpt when it may, else asked of the target itself: prlimit() on
 * another user's process needs CAP_SYS_RESOURCE, which root lacks on
 * some hosts. */
static int collect_rlimits(struct dump_ctx *c, struct img_proc *p)
{
	uint64_t rl[2];
	long ret;
	int i;

	p->nr_rlimits = RLIM_NLIMITS < IMG_NR_RLIMITS ? RLIM_NLIMITS :
		IMG_NR_RLIMITS;
	if (!rlimits_direct(c, p))
		return 0;
	for (i = 0; i < (int)p->nr_rlimits; i++) {
		if (inject_syscall(c->ip, c->leader, &ret, SYS_prlimit64, 0, i,
				   0, inject_scratch(c->ip), 0, 0))
			return -1;
		if (ret) {
			errno = -ret;
			return -1;
		}
		if (inject_read(c->ip, inject_scratch(c->ip), rl, sizeof(rl)))
			return -1;
		p->rlimits[i].cur = rl[0];
		p->rlimits[i].max = rl[1];
	}
	return 0;
}

static int collect_personality(struct dump_ctx *c, struct img_proc *p)
{
	char path[64], *s;

	snprintf(path, sizeof(path), "/proc/%d/personality", c->pid);
	s = read_file_str(path, NULL);
	if (!s)
		return -1;
	p->personality = strtoul(s, NULL, 16);
	free(s);
	return 0;
}

/* getitimer() in the target, for each of the three timers */
static int collect_itimers(struct dump_ctx *c, struct img_proc *p)
{
	uint64_t tv[4];		/* interval sec, usec, value sec, usec */
	long ret;
	int i;

	for (i = 0; i < 3; i++) {
		if (inject_syscall(c->ip, c->leader, &ret, SYS_getitimer, i,
				   inject_scratch(c->ip), 0, 0, 0, 0) || ret ||
		    inject_read(c->ip, inject_scratch(c->ip), tv, sizeof(tv)))
			return -1;
		p->itimers[i].interval_us = tv[0] * 1000000 + tv[1];
		p->itimers[i].value_us = tv[2] * 1000000 + tv[3];
	}
	return 0;
}

int dump_collect_proc(struct dump_ctx *c)
{
	struct img_proc *p = &c->proc.proc;
	struct proc_stat st;
	long ret;

	if (proc_parse_stat(c->pid, &st))
		return -1;
	p->pid = c->pid;
	p->ppid = st.ppid;
	p->pgid = st.pgrp;
	p->sid = st.session;
	memcpy(p->comm, st.comm, sizeof(p->comm));
	p->comm[sizeof(p->comm) - 1] = '\0';
	p->mm = (struct img_mm){
		.start_code = st.start_code, .end_code = st.end_code,
		.start_data = st.start_data, .end_data = st.end_data,
		.start_brk = st.start_brk, .start_stack = st.start_stack,
		.arg_start = st.arg_start, .arg_end = st.arg_end,
		.env_start = st.env_start, .env_end = st.env_end,
	};
	/* the current break is not in /proc: ask brk(0) */
	if (inject_syscall(c->ip, c->leader, &ret, SYS_brk, 0, 0, 0, 0, 0, 0))
		return -1;
	p->mm.brk = ret;
	p->exe = read_link(c->pid, "exe");
	p->cwd = read_link(c->pid, "cwd");
	p->root = read_link(c->pid, "root");
	if (!p->exe || !p->cwd || !p->root)
		return -1;
	if (collect_status(c, p) || collect_auxv(c, p) ||
	    collect_rlimits(c, p) || collect_personality(c, p) ||
	    collect_itimers(c, p))
		return -1;
	/* the mm's flag, not in /proc: a change of ids or exec sets it */
	if (inject_syscall(c->ip, c->leader, &ret, SYS_prctl, PR_GET_DUMPABLE,
			   0, 0, 0, 0, 0) || ret < 0)
		return -1;
	p->dumpable = ret;
	p->nr_threads = inject_nr_threads(c->ip);
	return 0;
}

/* Read the pending signals of one queue (PTRACE_PEEKSIGINFO). */
static int collect_siginfo(pid_t tid, int shared, struct img_thread *t)
{
	struct ptrace_peeksiginfo_args a = {
		.flags = shared ? PTRACE_PEEKSIGINFO_SHARED : 0, .nr = 1,
	};
	uint8_t si[IMG_SIGINFO_SIZE];
	struct img_siginfo *n;
	long r;

	for (a.off = 0; a.off < IMG_MAX_SIGINFO; a.off++) {
		r = ptrace(PTRACE_PEEKSIGINFO, tid, &a, si);
		if (r < 0)
			return -1;
		if (r == 0)
			break;
		n = realloc(t->siginfo, (t->nr_siginfo + 1) * sizeof(*n));
		if (!n)
			return -1;
		t->siginfo = n;
		n[t->nr_siginfo].shared = shared;
		memcpy(n[t->nr_siginfo].data, si, sizeof(si));
		t->nr_siginfo++;
	}
	return 0;
}

/* Ask the thread itself for what only it can tell. */
static int collect_remote(struct dump_ctx *c, int ti, struct img_thread *t)
{
	struct inject_proc *ip = c->ip;
	uint64_t ss[3];		/* stack_t: sp, flags, size */
	long ret;

	if (inject_syscall(ip, ti, &ret, SYS_sigaltstack, 0, inject_scratch(ip), 0,
			   0, 0, 0) || ret ||
	    inject_read(ip, inject_scratch(ip), ss, sizeof(ss)))
		return -1;
	t->ss_sp = ss[0];
	t->ss_flags = (uint32_t)ss[1];
	t->ss_size = ss[2];
	if (inject_syscall(ip, ti, &ret, SYS_prctl, PR_GET_TID_ADDRESS,
			   inject_scratch(ip), 0, 0, 0, 0) || ret ||
	    inject_read(ip, inject_scratch(ip), &t->clear_tid, sizeof(uint64_t)))
		return -1;
	/* per thread, and in no /proc file */
	if (inject_syscall(ip, ti, &ret, SYS_prctl, PR_GET_SECUREBITS, 0, 0,
			   0, 0, 0) || ret < 0)
		return -1;
	t->caps.securebits = ret;
	return dump_collect_tstate(c, ti, &t->ks);
}

/* The thread's five capability sets, from /proc/PID/task/TID/status. */
static int collect_caps(struct dump_ctx *c, struct img_thread *t)
{
	static const char *const keys[] = {
		"\nCapInh:", "\nCapPrm:", "\nCapEff:", "\nCapBnd:",
		"\nCapAmb:",
	};
	uint64_t *sets[] = {
		&t->caps.inh, &t->caps.prm, &t->caps.eff, &t->caps.bnd,
		&t->caps.amb,
	};
	char path[64], *s;
	unsigned long v;
	size_t i;
	int ret = 0;

	snprintf(path, sizeof(path), "/proc/%d/task/%d/status", c->pid,
		 t->tid);
	s = read_file_str(path, NULL);
	if (!s)
		return -1;
	for (i = 0; i < ARRAY_SIZE(keys); i++) {
		if (dump_status_field(s, keys[i], 16, &v)) {
			errno = ENODATA;
			ret = -1;
			break;
		}
		*sets[i] = v;
	}
	free(s);
	return ret;
}

static void collect_comm(struct dump_ctx *c, struct img_thread *t)
{
	char path[64], *s;

	snprintf(path, sizeof(path), "/proc/%d/task/%d/comm", c->pid, t->tid);
	s = read_file_str(path, NULL);
	if (!s)
		return;		/* keeps the process name */
	s[strcspn(s, "\n")] = '\0';
	snprintf(t->comm, sizeof(t->comm), "%s", s);
	free(s);
}

static int collect_thread(struct dump_ctx *c, int ti, struct img_thread *t)
{
	struct arch_regs r = *inject_regs(c->ip, ti);
	struct rseq_conf rc;
	size_t xlen = arch_xstate_max();
	long head = 0;
	size_t len = 0;

	t->tid = inject_tid(c->ip, ti);
	t->sigmask = inject_sigmask(c->ip, ti);
	memcpy(t->comm, c->proc.proc.comm, sizeof(t->comm));
	collect_comm(c, t);
	/* a call interrupted by the freeze is made again after restore */
	arch_regs_normalize_restart(&r, 0);
	if (dump_restart_call(c, t->tid, &r))
		return -1;
	arch_regs_clear_syscall(&r);
	t->regs_isa = arch_isa();
	t->nr_regs = arch_regs_nr_words();
	t->regs = calloc(t->nr_regs, sizeof(uint64_t));
	t->xstate = malloc(xlen);
	if (!t->regs || !t->xstate)
		return -1;
	arch_regs_to_words(&r, t->regs);
	if (arch_get_xstate(t->tid, t->xstate, &xlen))
		return -1;
	t->xstate_len = xlen;
	if (syscall(SYS_get_robust_list, t->tid, &head, &len))
		return -1;
	t->robust_list = head;
	t->robust_len = len;
	memset(&rc, 0, sizeof(rc));
	if (ptrace(PTRACE_GET_RSEQ_CONFIGURATION, t->tid, sizeof(rc), &rc) >= 0
	    && rc.rseq_abi_pointer) {
		t->rseq = rc.rseq_abi_pointer;
		t->rseq_len = rc.rseq_abi_size;
		t->rseq_sig = rc.signature;
	}
	if (collect_siginfo(t->tid, 0, t) ||
	    (t->tid == c->pid && collect_siginfo(t->tid, 1, t)) ||
	    collect_caps(c, t))
		return -1;
	return 0;
}

/* A thread's failure, said once */
static int thread_failed(struct dump_ctx *c, int ti)
{
	if (errno != EOPNOTSUPP)	/* a refusal said why */
		dump_perror(c, "can't dump thread %d of %d",
			    inject_tid(c->ip, ti), c->pid);
	return -1;
}

/*
 * What each thread alone tells, by calls made in it: after the timers
 * are read (dump.c), since a thread that runs moves its CPU clock on and
 * a tick then fires a CPU timer that had expired and not fired yet.
 */
int dump_collect_threads_remote(struct dump_ctx *c)
{
	int i;

	for (i = 0; i < inject_nr_threads(c->ip); i++)
		if (collect_remote(c, i, &c->proc.threads[i]))
			return thread_failed(c, i);
	return 0;
}

int dump_collect_threads(struct dump_ctx *c)
{
	struct img_process *p = &c->proc;
	int i;

	p->threads = calloc(inject_nr_threads(c->ip), sizeof(*p->threads));
	if (!p->threads)
		return -1;
	p->nr_threads = inject_nr_threads(c->ip);
	for (i = 0; i < inject_nr_threads(c->ip); i++)
		if (collect_thread(c, i, &p->threads[i]))
			return thread_failed(c, i);
	return 0;
}

extern const unsigned char ckpt_sigacts_bpf[], ckpt_sigacts_bpf_end[];
static struct dump_bpf sigacts_bpf = {
	.blob = ckpt_sigacts_bpf, .end = ckpt_sigacts_bpf_end,
	.name = "ckpt_sigacts",
};

void dump_sigacts_preload(void)
{
	if (dump_bpf_load(&sigacts_bpf, NULL, 0))
		return;	/* the calls read them */
}

/* The flags rt_sigaction(2) returns: the kernel clears the others of
 * what it gives (SA_IMMUTABLE, the x32 and ia32 ABI bits), which the
 * iterator reads as they are. */
#define SIGACT_UAPI_FLAGS	(SA_NOCLDSTOP | SA_NOCLDWAIT | SA_SIGINFO | \
				 0x00000400 /* SA_UNSUPPORTED */ | \
				 0x00000800 /* SA_EXPOSE_TAGBITS */ | \
				 0x04000000 /* SA_RESTORER */ | SA_ONSTACK | \
				 SA_RESTART | SA_NODEFER | SA_RESETHAND)

/*
 * The actions read at once through BPF (ckpt/bpf/sigacts.bpf.c), as the
 * calls below would read them: 62 remote calls are some 3 ms of frozen
 * time. 0, or -1 when they can't be (no BPF, a kernel bit among the
 * flags): then the calls read them.
 */
static int sigacts_by_bpf(struct dump_ctx *c)
{
	struct ckpt_sigact_rec *v;
	size_t n, i;
	int sig;

	if (dump_bpf_load(&sigacts_bpf, NULL, 0))
		return -1;
	v = dump_bpf_iterate(&sigacts_bpf, c->pid, sizeof(*v), &n);
	if (!v)
		return -1;
	for (i = 0; i < n; i++)
		if (n != IMG_NSIG || v[i].sig != i + 1 || !v[i].has_restorer ||
		    (v[i].flags & ~(uint64_t)SIGACT_UAPI_FLAGS)) {
			free(v);
			return -1;
		}
	for (sig = 1; n && sig <= IMG_NSIG; sig++) {
		if (sig == SIGKILL || sig == SIGSTOP)
			continue;
		c->proc.sigacts[sig - 1] = (struct img_sigact){
			v[sig - 1].handler, v[sig - 1].flags,
			v[sig - 1].restorer, v[sig - 1].mask };
	}
	free(v);
	return n ? 0 : -1;
}

int dump_collect_sigacts(struct dump_ctx *c)
{
	struct inject_proc *ip = c->ip;
	size_t ksz = arch_ksigaction_size();
	uint8_t k[64];
	long ret;
	int sig;

	if (!sigacts_by_bpf(c)) {
		c->proc.has_sigacts = 1;
		return 0;
	}
	for (sig = 1; sig <= IMG_NSIG; sig++) {
		if (sig == SIGKILL || sig == SIGSTOP)
			continue;
		if (inject_syscall(ip, c->leader, &ret, SYS_rt_sigaction, sig,
				   0, inject_scratch(ip), 8, 0, 0))
			return -1;
		if (ret) {
			errno = -ret;
			pr_perror("can't read the action of signal %d", sig);
			return -1;
		}
		if (inject_read(ip, inject_scratch(ip), k, ksz))
			return -1;
		arch_ksigaction_to_img(k, &c->proc.sigacts[sig - 1]);
	}
	c->proc.has_sigacts = 1;
	return 0;
}

void dump_free_process(struct img_process *p)
{
	uint32_t i;

	free(p->proc.exe);
	free(p->proc.cwd);
	free(p->proc.root);
	free(p->proc.auxv);
	free(p->proc.groups);
	free(p->proc.ks.timers);
	for (i = 0; i < p->nr_threads; i++) {
		free(p->threads[i].regs);
		free(p->threads[i].xstate);
		free(p->threads[i].siginfo);
		img_seccomp_free(&p->threads[i].seccomp);
	}
	free(p->threads);
	for (i = 0; i < p->nr_vmas; i++)
		free(p->vmas[i].path);
	free(p->vmas);
	free(p->pages);
	for (i = 0; i < p->nr_fds; i++)
		free(p->fds[i].path);
	free(p->fds);
	memset(p, 0, sizeof(*p));
}
