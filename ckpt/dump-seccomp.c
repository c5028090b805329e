/*
 * dump-seccomp: the seccomp mode and filters of each thread.
 *
 * A filter applies to the remote calls we make in the target as much as
 * to its own, so before the first one the filters of every thread are
 * suspended (PTRACE_O_SUSPEND_SECCOMP, which lasts while we trace it).
 * PTRACE_SECCOMP_GET_FILTER gives a thread's filters by index, 0 the
 * first installed (kernel/seccomp.c, get_nth_filter), and
 * PTRACE_SECCOMP_GET_METADATA their flags; the image keeps them in that
 * order, the order of installing them again.
 * Which filters threads share no system call tells (kcmp(2) has no type
 * for it): the kernel's struct seccomp_filter of each is read by BPF
 * (dump-kstate.c), one filter shared where threads have the same one.
 * Restore shares the leading filters that every thread has, with TSYNC,
 * and installs the rest of each thread's apart (IMG_SECCOMP_OWN): a
 * filter that some threads share and others have not is refused, as are,
 * without BPF, alike filters in several threads, shared or not.
 */
#include <sys/ptrace.h>
#include <errno.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ckpt/dump-priv.h"

struct seccomp_meta {		/* struct seccomp_metadata */
	uint64_t filter_off;
	uint64_t flags;
};

/* Seccomp mode of thread tid, from its status; -1 when unreadable */
static int thread_mode(pid_t pid, pid_t tid)
{
	char path[64], *s;
	unsigned long mode = 0;

	snprintf(path, sizeof(path), "/proc/%d/task/%d/status", pid, tid);
	s = read_file_str(path, NULL);
	if (!s)
		return -1;
	if (dump_status_field(s, "\nSeccomp:", 10, &mode))
		mode = 0;	/* a kernel without seccomp */
	free(s);
	return mode;
}

int dump_seccomp_suspend(struct dump_ctx *c)
{
	int i, mode, any = 0;

	for (i = 0; i < inject_nr_threads(c->ip); i++) {
		mode = thread_mode(c->pid, inject_tid(c->ip, i));
		if (mode < 0) {
			dump_perror(c, "can't read the status of thread %d of %d",
				    inject_tid(c->ip, i), c->pid);
			return -1;
		}
		any |= mode;
	}
	if (any && inject_suspend_seccomp(c->ip)) {
		dump_perror(c, "can't suspend the seccomp filters of %d",
			    c->pid);
		return -1;
	}
	return 0;
}

/* A filter whose calls wait for a listener (SECCOMP_RET_USER_NOTIF): the
 * listener's fd is another process's, which restore cannot give back. */
static int notifies(const struct img_seccomp_filter *f)
{
	uint32_t i;

	for (i = 0; i < f->len; i++) {
		uint16_t code = f->insns[i] & 0xffff;
		uint32_t k = f->insns[i] >> 32;

		if (code == (BPF_RET | BPF_K) &&
		    (k & SECCOMP_RET_ACTION_FULL) == SECCOMP_RET_USER_NOTIF)
			return 1;
	}
	return 0;
}

/* Filter idx (0: the oldest) of tid into f */
static int read_filter(pid_t tid, long idx, struct img_seccomp_filter *f)
{
	struct seccomp_meta meta = { .filter_off = idx };
	struct sock_filter *prog;
	long n, i;

	n = ptrace(PTRACE_SECCOMP_GET_FILTER, tid, (void *)idx, NULL);
	if (n <= 0)
		return -1;
	prog = calloc(n, sizeof(*prog));
	f->insns = calloc(n, sizeof(*f->insns));
	if (!prog || !f->insns ||
	    ptrace(PTRACE_SECCOMP_GET_FILTER, tid, (void *)idx, prog) != n ||
	    ptrace(PTRACE_SECCOMP_GET_METADATA, tid, (void *)sizeof(meta),
		   &meta) < 0) {
		free(prog);
		return -1;
	}
	for (i = 0; i < n; i++)
		f->insns[i] = prog[i].code | (uint64_t)prog[i].jt << 16 |
			      (uint64_t)prog[i].jf << 24 |
			      (uint64_t)prog[i].k << 32;
	f->len = n;
	f->flags = meta.flags & IMG_SECCOMP_LOG;
	free(prog);
	return 0;
}

/* How many filters tid has: the first index that is not there */
static long count_filters(pid_t tid)
{
	long n = 0;

	while (ptrace(PTRACE_SECCOMP_GET_FILTER, tid, (void *)n, NULL) > 0)
		n++;
	return errno == ENOENT ? n : -1;
}

static int read_filters(struct dump_ctx *c, struct img_thread *t)
{
	struct img_seccomp *s = &t->seccomp;
	long n = count_filters(t->tid), i;

	if (n <= 0) {
		dump_perror(c, "can't read the seccomp filters of thread %d of %d",
			    t->tid, c->pid);
		return -1;
	}
	s->filters = calloc(n, sizeof(*s->filters));
	if (!s->filters)
		return -1;
	s->nr_filters = n;
	for (i = 0; i < n; i++) {
		if (read_filter(t->tid, i, &s->filters[i])) {
			dump_perror(c, "can't read seccomp filter %ld of thread %d of %d",
				    i, t->tid, c->pid);
			return -1;
		}
		if (notifies(&s->filters[i])) {
			pr_err("can't dump %d: thread %d has a seccomp filter that notifies a listener (SECCOMP_RET_USER_NOTIF), which is not supported",
			       c->pid, t->tid);
			errno = EOPNOTSUPP;
			return -1;
		}
	}
	return 0;
}

static int collect_thread(struct dump_ctx *c, struct img_thread *t)
{
	int mode = thread_mode(c->pid, t->tid);

	if (mode < 0) {
		dump_perror(c, "can't read the status of thread %d of %d",
			    t->tid, c->pid);
		return -1;
	}
	if (mode > IMG_SECCOMP_FILTER) {
		pr_err("can't dump %d: thread %d has seccomp mode %d, which this ckpt does not know",
		       c->pid, t->tid, mode);
		errno = EOPNOTSUPP;
		return -1;
	}
	t->seccomp.mode = mode;
	return mode == IMG_SECCOMP_FILTER ? read_filters(c, t) : 0;
}

/* The kernel's address of filter idx (0: the oldest) of thread th, or 0 */
static uint64_t filter_addr(const struct dump_kstate *ks,
			    const struct img_thread *th, uint32_t idx)
{
	size_t i;

	for (i = 0; i < ks->n; i++)
		if (ks->recs[i].kind == CKPT_KSTATE_FILTER &&
		    ks->recs[i].tid == th->tid &&
		    ks->recs[i].id == (int32_t)(th->seccomp.nr_filters - 1 -
						idx))
			return ks->recs[i].addr;
	return 0;
}

/* Another thread than ti that has the filter at addr, or 0 */
static pid_t other_holder(struct dump_ctx *c, const struct dump_kstate *ks,
			  uint32_t ti, uint64_t addr)
{
	uint32_t i, j;

	for (i = 0; i < c->proc.nr_threads; i++)
		for (j = 0; i != ti && j < c->proc.threads[i].seccomp.nr_filters;
		     j++)
			if (filter_addr(ks, &c->proc.threads[i], j) == addr)
				return c->proc.threads[i].tid;
	return 0;
}

/* The leading filters every thread has, the same ones */
static uint32_t all_share(struct dump_ctx *c, const struct dump_kstate *ks)
{
	struct img_thread *t0 = &c->proc.threads[0];
	uint32_t n = t0->seccomp.nr_filters, i, j;

	for (i = 1; i < c->proc.nr_threads; i++) {
		struct img_thread *t = &c->proc.threads[i];

		for (j = 0; j < n && j < t->seccomp.nr_filters &&
			    filter_addr(ks, t, j) == filter_addr(ks, t0, j);
		     j++)
			;
		n = j;
	}
	return n;
}

/* Which filters the threads share (see the top of the file) */
static int find_shared(struct dump_ctx *c)
{
	struct dump_kstate ks;
	uint32_t i, j, n;
	int alike = 0;
	pid_t other;

	for (i = 0; i < c->proc.nr_threads; i++)
		for (j = i + 1; j < c->proc.nr_threads; j++)
			alike |= img_seccomp_common(&c->proc.threads[i].seccomp,
						    &c->proc.threads[j].seccomp) > 0;
	if (!alike)
		return 0;
	if (dump_kstate_read(c->pid, &ks)) {
		pr_err("can't dump %d: its threads have seccomp filters alike, and whether they share them only the kernel's memory tells, read with BPF: %s",
		       c->pid, strerror(errno));
		errno = EOPNOTSUPP;
		return -1;
	}
	for (i = 0; i < c->proc.nr_threads; i++)
		for (j = 0; j < c->proc.threads[i].seccomp.nr_filters; j++)
			if (!filter_addr(&ks, &c->proc.threads[i], j)) {
				pr_err("can't dump %d: the seccomp filters of thread %d changed while read",
				       c->pid, c->proc.threads[i].tid);
				goto refused;
			}
	n = all_share(c, &ks);
	for (i = 0; i < c->proc.nr_threads; i++) {
		struct img_seccomp *s = &c->proc.threads[i].seccomp;

		for (j = n; j < s->nr_filters; j++) {
			other = other_holder(c, &ks, i,
					     filter_addr(&ks, &c->proc.threads[i], j));
			if (other) {
				pr_err("can't dump %d: threads %d and %d share seccomp filter %u, which other threads have not, which restore can't make so",
				       c->pid, c->proc.threads[i].tid, other, j);
				goto refused;
			}
			s->filters[j].flags |= IMG_SECCOMP_OWN;
		}
	}
	dump_kstate_free(&ks);
	return 0;
refused:
	dump_kstate_free(&ks);
	errno = EOPNOTSUPP;
	return -1;
}

/* Each thread says what failed */
int dump_collect_seccomp(struct dump_ctx *c)
{
	uint32_t i;

	for (i = 0; i < c->proc.nr_threads; i++)
		if (collect_thread(c, &c->proc.threads[i]))
			return -1;
	return find_shared(c);
}
