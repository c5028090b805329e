/*
 * attach --landmark: the target is a ckpt cc program (its PROG.xisa
 * beside it, matching it), and its thread is run on to its next landmark
 * before anything is gathered, so that ckpt translate can rewrite its
 * frames for the other ISA. The image holds the landmark as the thread's
 * program counter.
 *
 * A program of several threads (pthreads, which ckpt cc gives to its
 * runtime: cc/rt-threads.c) has all of them run at once until each
 * stands at a landmark or waits in one of the runtime's thread calls,
 * the rule of the runtime's own checkpointer, which arch/xisa-thr.c
 * reads off the runtime's thread slots; ckpt translate reads it again
 * from the image. The bound is for all of them: past it, the thread that
 * was neither is named and every thread runs on from where it was.
 */
#include <errno.h>
#include <limits.h>
#include <string.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "arch/arch.h"
#include "arch/xisa.h"
#include "ckpt/dump-priv.h"
#include "inject/inject.h"

static int exe_of(pid_t pid, char *buf, size_t len)
{
	char link[64];
	ssize_t n;

	snprintf(link, sizeof(link), "/proc/%d/exe", pid);
	n = readlink(link, buf, len - 1);
	if (n < 0) {
		pr_perror("can't read %s", link);
		return -1;
	}
	buf[n] = 0;
	return 0;
}

struct settle {
	struct dump_ctx *c;
	const struct xisa_meta *m;
	int isa;
};

static int read_live(void *ctx, uint64_t addr, void *buf, size_t len)
{
	return inject_read(((struct settle *)ctx)->c->ip, addr, buf, len);
}

/* inject_run_all_to's question: every thread stopped as the runtime's
 * checkpointer counts them? */
static int settled(void *arg, struct inject_proc *p, const char *at,
		   int *busy)
{
	struct settle *s = arg;
	const struct xisa_isa *xi = xisa_isa(s->isa);
	int n = inject_nr_threads(p), i, ret = -1;
	struct xisa_seen *seen = calloc(n, sizeof(*seen));
	struct xisa_thread *out = calloc(n, sizeof(*out));
	uint64_t w[64];
	unsigned b = 0;

	if (!seen || !out || arch_regs_nr_words() > 64)
		goto out;
	for (i = 0; i < n; i++) {
		arch_regs_to_words(inject_regs(p, i), w);
		seen[i].tid = inject_tid(p, i);
		seen[i].leader = seen[i].tid == inject_pid(p);
		seen[i].at = at[i];
		seen[i].pc = w[xi->reg_pc];
		seen[i].sp = w[xi->reg_sp];
		seen[i].fp = w[xi->reg_fp];
		seen[i].tp = w[xi->reg_tp];
	}
	ret = xisa_threads_of(s->m, s->isa, read_live, s, seen, n, out, &b);
	*busy = b;
out:
	free(seen);
	free(out);
	return ret;
}

/* The process stopped by job control on its way to the landmarks: left
 * stopped, not dumped (its threads stand anywhere) */
static void job_stopped(struct dump_ctx *c, pid_t tid)
{
	int sig = inject_group_stop(c->ip);

	pr_err("thread %d of %d was stopped by SIG%s on its way to a "
	       "landmark: not dumped, left stopped", tid, c->pid,
	       sig ? sigabbrev_np(sig) : "STOP");
}

static int run_threads(struct dump_ctx *c, const struct xisa_meta *m,
		       int isa, const uint64_t *addrs)
{
	struct settle s = { c, m, isa };
	int busy;

	if (!inject_run_all_to(c->ip, addrs, m->nr_lms, c->o->landmark_ms,
			       settled, &s, &busy)) {
		pr_info("%d's %d threads stopped at landmarks or waiting",
			c->pid, inject_nr_threads(c->ip));
		return 0;
	}
	if (errno == ETIMEDOUT)
		pr_err("thread %d of %d did not reach a landmark within %u ms",
		       inject_tid(c->ip, busy), c->pid, c->o->landmark_ms);
	else if (errno == EINTR)
		job_stopped(c, inject_tid(c->ip, busy));
	else
		pr_perror("can't run %d's threads to landmarks", c->pid);
	return -1;
}

int dump_landmark(struct dump_ctx *c)
{
	char exe[PATH_MAX];
	struct xisa_meta m;
	uint64_t *addrs = NULL, hit;
	uint32_t i;
	int isa, ret = -1;

	if (exe_of(c->pid, exe, sizeof(exe)) || xisa_meta_for(exe, &m, &isa))
		return -1;
	if (xisa_isa(isa)->img_isa != arch_isa()) {
		pr_err("%d runs the %s build", c->pid, xisa_isa(isa)->name);
		goto out;
	}
	if (inject_group_stop(c->ip)) {
		/* running its threads to landmarks would continue it */
		pr_err("%d is stopped (SIG%s): it can't be run to a landmark "
		       "without continuing it", c->pid,
		       sigabbrev_np(inject_group_stop(c->ip)));
		goto out;
	}
	addrs = calloc(m.nr_lms + 1, sizeof(*addrs));
	if (!addrs)
		goto out;
	for (i = 0; i < m.nr_lms; i++)
		addrs[i] = m.lms[i].pc[isa];
	/* built with the runtime's slots: its threads, however many (one
	 * may start others on its way to a landmark) */
	if (m.slots[isa]) {
		ret = run_threads(c, &m, isa, addrs);
		goto out;
	}
	if (inject_nr_threads(c->ip) != 1) {
		pr_err("%d has %d threads and its metadata no thread slots: "
		       "build it again with ckpt cc", c->pid,
		       inject_nr_threads(c->ip));
		goto out;
	}
	if (inject_run_to(c->ip, 0, addrs, m.nr_lms, c->o->landmark_ms,
			  &hit)) {
		if (errno == ETIMEDOUT)
			pr_err("thread %d of %d did not reach a landmark "
			       "within %u ms", c->pid, c->pid,
			       c->o->landmark_ms);
		else if (errno == EINTR)
			job_stopped(c, c->pid);
		else
			pr_perror("can't run %d to a landmark", c->pid);
		goto out;
	}
	pr_info("%d stopped at landmark %u",
		c->pid, xisa_lm_at(&m, isa, hit)->id);
	ret = 0;
out:
	free(addrs);
	xisa_meta_free(&m);
	return ret;
}
