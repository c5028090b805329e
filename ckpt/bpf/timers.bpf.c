/*
 * timers.bpf.c: a task iterator by which ckpt reads what no system call
 * tells of a process's POSIX timers and seccomp filters
 * (ckpt/dump-kstate.c). For the threads of one process (the iterator's
 * link is made for it) it writes records of struct ckpt_kstate_rec:
 *
 *  - for the leader, one per POSIX timer of signal->posix_timers: its
 *    status, its overrun counts (the one its queued signal will carry,
 *    it_overrun, and the last delivered one, it_overrun_last), and for
 *    the clocks an hrtimer serves, the clock of the hrtimer base it was
 *    set on (a relative CLOCK_REALTIME timer runs on CLOCK_MONOTONIC's)
 *    and its expiry in that clock; for a CPU-time clock, whose time it
 *    counts;
 *  - for every thread, one per seccomp filter of its chain, newest
 *    first, with the filter's address: threads share a filter when they
 *    have the same one;
 *  - for every thread, the address of its restart block's function:
 *    which call restart_syscall(2) would continue;
 *  - for every thread, its default timer slack, which PR_SET_TIMERSLACK
 *    of 0 goes back to (its creator's slack when it was made), and its
 *    process's oom_score_adj_min, below which only CAP_SYS_RESOURCE
 *    may set oom_score_adj.
 * Threads are named by their ids in ckpt's pid namespace.
 *
 * The kernel's structures are declared here with only the fields read,
 * relocated against the running kernel's BTF (CO-RE): no offsets.
 * Built with clang -target bpf and embedded in ckpt.
 */
#include <linux/bpf.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_helpers.h>

#include "ckpt/bpf/kstate.h"

#define MAX_TIMERS	4096
#define MAX_FILTERS	8192

#pragma clang attribute push(__attribute__((preserve_access_index)), \
			     apply_to = record)
struct hlist_node {
	struct hlist_node *next;
};
struct hlist_head {
	struct hlist_node *first;
};
struct timerqueue_node {
	__s64 expires;
};
struct hrtimer_clock_base {
	int clockid;
};
struct hrtimer {
	struct timerqueue_node node;
	struct hrtimer_clock_base *base;
};
struct upid {
	int nr;
};
struct pid {
	unsigned int level;
	struct upid numbers[1];
};
struct cpu_timer {
	struct timerqueue_node node;
	void *head;
	struct pid *pid;
};
struct k_itimer {
	struct hlist_node list;
	int it_id;
	int it_clock;
	int it_status;
	__s64 it_overrun;
	__s64 it_overrun_last;
	unsigned int it_signal_seq;
	unsigned int it_sigqueue_seq;
	__s64 it_interval;
	union {
		struct {
			struct hrtimer timer;
		} real;
		struct cpu_timer cpu;
	} it;
};
struct signal_struct {
	struct hlist_head posix_timers;
	short oom_score_adj_min;
};
struct seccomp_filter {
	struct seccomp_filter *prev;
};
struct seccomp {
	int mode;
	struct seccomp_filter *filter;
};
struct restart_block {
	long (*fn)(struct restart_block *);
};
struct task_struct {
	int pid;
	int tgid;
	struct pid *thread_pid;
	struct signal_struct *signal;
	struct seccomp seccomp;
	struct restart_block restart_block;
	__u64 default_timer_slack_ns;
};
struct seq_file;
struct bpf_iter_meta {
	struct seq_file *seq;
};
struct bpf_iter__task {
	struct bpf_iter_meta *meta;
	struct task_struct *task;
};
#pragma clang attribute pop

char LICENSE[] SEC("license") = "GPL";

/* pid's number in ckpt's pid namespace (the reader's, at the level of
 * its own pid), 0 if it has none there */
static int nr_of(struct pid *pid)
{
	struct task_struct *me = (void *)bpf_get_current_task();
	__u32 ns_level = BPF_CORE_READ(me, thread_pid, level);
	unsigned long at;
	int nr = 0;

	if (!pid || BPF_CORE_READ(pid, level) < ns_level)
		return 0;
	at = (unsigned long)pid + bpf_core_field_offset(struct pid, numbers) +
	     ns_level * bpf_core_type_size(struct upid) +
	     bpf_core_field_offset(struct upid, nr);
	bpf_probe_read_kernel(&nr, sizeof(nr), (void *)at);
	return nr;
}

static int put(struct seq_file *seq, struct ckpt_kstate_rec *r)
{
	return bpf_seq_write(seq, r, sizeof(*r));
}

static void start(struct ckpt_kstate_rec *r, __u32 kind, int tid)
{
	__builtin_memset(r, 0, sizeof(*r));
	r->kind = kind;
	r->tid = tid;
}

/* CPU-time clocks are negative ids; the others an hrtimer serves, but
 * the alarm clocks (8, 9) */
static int hrtimer_clock(int clk)
{
	return clk >= 0 && clk != 8 && clk != 9;
}

/* The walk's state, for bpf_loop's callbacks (one verified body each,
 * however long the list) */
struct walk {
	struct seq_file *seq;
	int tid;
	unsigned long off;	/* of list in struct k_itimer */
	struct hlist_node *n;	/* the next timer's */
	struct seccomp_filter *f;	/* the next filter */
};

static long one_timer(__u32 i, void *ctx)
{
	struct walk *w = ctx;
	struct hlist_node *n = w->n;
	struct k_itimer *t = (void *)((char *)n - w->off);
	struct ckpt_kstate_rec r;

	if (!n)
		return 1;
	start(&r, CKPT_KSTATE_TIMER, w->tid);
	r.id = BPF_CORE_READ(t, it_id);
	r.clock = BPF_CORE_READ(t, it_clock);
	r.status = BPF_CORE_READ(t, it_status);
	r.overrun = BPF_CORE_READ(t, it_overrun);
	r.overrun_last = BPF_CORE_READ(t, it_overrun_last);
	r.seq = BPF_CORE_READ(t, it_signal_seq);
	r.queued_seq = BPF_CORE_READ(t, it_sigqueue_seq);
	r.base = -1;
	if (hrtimer_clock(r.clock)) {
		r.base = BPF_CORE_READ(t, it.real.timer.base, clockid);
		r.expires = BPF_CORE_READ(t, it.real.timer.node.expires);
	} else if (r.clock < 0) {
		r.expires = BPF_CORE_READ(t, it.cpu.node.expires);
		r.owner = nr_of(BPF_CORE_READ(t, it.cpu.pid));
	}
	put(w->seq, &r);
	w->n = BPF_CORE_READ(n, next);
	return 0;
}

static long one_filter(__u32 i, void *ctx)
{
	struct walk *w = ctx;
	struct seccomp_filter *f = w->f;
	struct ckpt_kstate_rec r;

	if (!f)
		return 1;
	start(&r, CKPT_KSTATE_FILTER, w->tid);
	r.id = i;
	r.addr = (__u64)(unsigned long)f;
	put(w->seq, &r);
	w->f = BPF_CORE_READ(f, prev);
	return 0;
}

/* more than the walk takes: the reader refuses */
static void truncated(struct seq_file *seq)
{
	struct ckpt_kstate_rec r;

	start(&r, CKPT_KSTATE_TRUNCATED, 0);
	put(seq, &r);
}

/* the function restart_syscall(2) would call, for every thread that
 * has one other than the kernel's default (do_no_restart_syscall) */
static void restart_fn(struct seq_file *seq, struct task_struct *task,
		       int tid)
{
	struct ckpt_kstate_rec r;
	void *fn = BPF_CORE_READ(task, restart_block.fn);

	if (!fn)
		return;
	start(&r, CKPT_KSTATE_RESTART, tid);
	r.addr = (__u64)(unsigned long)fn;
	put(seq, &r);
}

/* what every thread has that no call tells */
static void task_rec(struct seq_file *seq, struct task_struct *task, int tid)
{
	struct ckpt_kstate_rec r;

	start(&r, CKPT_KSTATE_TASK, tid);
	r.addr = BPF_CORE_READ(task, default_timer_slack_ns);
	r.id = BPF_CORE_READ(task, signal, oom_score_adj_min);
	put(seq, &r);
}

SEC("iter/task")
int ckpt_kstate(struct bpf_iter__task *ctx)
{
	struct seq_file *seq = ctx->meta->seq;
	struct task_struct *task = ctx->task;

	struct walk w = { .seq = seq };

	if (!task)
		return 0;
	w.tid = nr_of(BPF_CORE_READ(task, thread_pid));
	w.off = bpf_core_field_offset(struct k_itimer, list);
	if (w.tid == BPF_CORE_READ(task, tgid)) {
		w.n = BPF_CORE_READ(task, signal, posix_timers.first);
		bpf_loop(MAX_TIMERS, one_timer, &w, 0);
		if (w.n)
			truncated(seq);
	}
	restart_fn(seq, task, w.tid);
	task_rec(seq, task, w.tid);
	w.f = BPF_CORE_READ(task, seccomp.filter);
	bpf_loop(MAX_FILTERS, one_filter, &w, 0);
	if (w.f)
		truncated(seq);
	return 0;
}
