/*
 * kstate.h: the records ckpt/bpf/timers.bpf.c writes, as
 * ckpt/dump-kstate.c reads them (shared by both; fixed-size types).
 */
#ifndef CKPT_BPF_KSTATE_H
#define CKPT_BPF_KSTATE_H

#include <linux/types.h>

#define CKPT_KSTATE_TIMER	1
#define CKPT_KSTATE_FILTER	2
#define CKPT_KSTATE_TRUNCATED	3	/* more than the program walks */
#define CKPT_KSTATE_RESTART	4	/* a thread's restart_block.fn (addr),
					 * when it has one */
#define CKPT_KSTATE_TASK	5	/* every thread: addr its default timer
					 * slack (default_timer_slack_ns), id
					 * its process's oom_score_adj_min */

struct ckpt_kstate_rec {
	__u32 kind;		/* CKPT_KSTATE_* */
	__s32 tid;		/* the thread read */
	__s32 id;		/* timer id; filter index, 0 the newest */
	__s32 clock;		/* timer: it_clock */
	__s32 base;		/* the clock of its hrtimer base, or -1 */
	__s32 status;		/* POSIX_TIMER_DISARMED 0, ARMED 1,
				 * REQUEUE_PENDING 2 */
	__u32 seq;		/* it_signal_seq */
	__u32 queued_seq;	/* it_sigqueue_seq */
	__s64 overrun;		/* it_overrun */
	__s64 overrun_last;	/* it_overrun_last */
	__s64 expires;		/* in the base's clock (CPU ns for those) */
	__u64 addr;		/* filter: the kernel's struct seccomp_filter */
	__s32 owner;		/* CPU clock: the thread or process whose
				 * time it counts, 0 if unknown */
	__u32 pad;
};

#endif
