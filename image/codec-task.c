/*
 * codec-task: the kernel state of a process and of its threads that
 * prctl() and /proc tell, at the end of the PROC and THREAD records
 * (codec.c calls these last). The decoders check every field against what
 * the kernel itself accepts, so that restore never has to.
 */
#include <signal.h>
#include <stdlib.h>
#include <time.h>

#include "image/image.h"
#include "image/image-priv.h"

static int is_stop_signal(uint32_t sig)
{
	return sig == SIGSTOP || sig == SIGTSTP || sig == SIGTTIN ||
	       sig == SIGTTOU;
}

#define OOM_SCORE_ADJ_MAX	1000	/* <uapi/linux/oom.h> */
#define MCE_KILL_DEFAULT	2	/* PR_MCE_KILL_DEFAULT */
#define SPEC_ALL		0x1fu	/* PR_SPEC_PRCTL ... DISABLE_NOEXEC */

/*
 * A timer: i32 id clockid; u32 notify signo; i32 tid owner;
 * u64 sigval value_ns interval_ns; u32 overrun, u32 pending | abs << 1 |
 * pend_overrun << 8
 * (abs came later: an older reader refuses a timer that has it)
 */
static void enc_timer(struct enc *e, const struct img_timer *t)
{
	enc_u32(e, t->id);
	enc_u32(e, t->clockid);
	enc_u32(e, t->notify);
	enc_u32(e, t->signo);
	enc_u32(e, t->tid);
	enc_u32(e, t->owner);
	enc_u64(e, t->sigval);
	enc_u64(e, t->value_ns);
	enc_u64(e, t->interval_ns);
	enc_u32(e, t->overrun);
	enc_u32(e, t->pending | t->abs << 1 |
		t->pend_overrun << IMG_TIMER_PEND_OVERRUN_SHIFT);
}

/* The clocks timer_create() takes: REALTIME, MONOTONIC, BOOTTIME, the
 * two ALARM ones and TAI; and CPU-time clocks, but those of a file
 * descriptor (dynamic clocks, low bits 3). */
int img_timer_clock_ok(int32_t clk)
{
	if (clk < 0)
		return (clk & 3) != 3;
	return clk == 0 || clk == 1 || clk == 7 || clk == 8 || clk == 9 ||
	       clk == 11;
}

/* A thread CPU clock of id 0: the creating thread's */
int img_timer_self_thread(int32_t clk)
{
	return clk < 0 && (clk & 4) && ~(clk >> 3) == 0;
}

/* A periodic CPU timer with an overrun count, expired and not fired yet
 * (1 ns left) or about to be: restore gives it its count last */
int img_timer_cpu_late(const struct img_timer *t)
{
	return t->clockid < 0 && t->interval_ns && t->overrun &&
	       t->value_ns && t->value_ns < IMG_TIMER_CPU_LATE_NS &&
	       !t->pending &&
	       (t->notify & ~IMG_SIGEV_THREAD_ID) != IMG_SIGEV_NONE;
}

static void dec_timer(struct dec *d, struct img_timer *t, int32_t prev)
{
	uint32_t base;

	dec_i32(d, &t->id);
	dec_i32(d, &t->clockid);
	dec_u32(d, &t->notify);
	dec_u32(d, &t->signo);
	dec_i32(d, &t->tid);
	dec_i32(d, &t->owner);
	dec_u64(d, &t->sigval);
	dec_u64(d, &t->value_ns);
	dec_u64(d, &t->interval_ns);
	dec_u32(d, &t->overrun);
	dec_u32(d, &t->pending);
	t->pend_overrun = t->pending >> IMG_TIMER_PEND_OVERRUN_SHIFT;
	dec_check(d, !(t->pending & 0xfc), "timer %d: flags %#x", t->id,
		  t->pending);
	t->abs = t->pending >> 1 & 1;
	t->pending &= 1;
	base = t->notify & ~IMG_SIGEV_THREAD_ID;
	dec_check(d, t->id > prev, "timer %d after timer %d", t->id, prev);
	dec_check(d, img_timer_clock_ok(t->clockid), "timer %d: clock %d",
		  t->id, t->clockid);
	dec_check(d, base <= IMG_SIGEV_THREAD &&
		  (t->notify == base || base == IMG_SIGEV_SIGNAL),
		  "timer %d: notify %u", t->id, t->notify);
	dec_check(d, (base == IMG_SIGEV_NONE && t->signo <= IMG_NSIG) ||
		  (t->signo >= 1 && t->signo <= IMG_NSIG),
		  "timer %d: signal %u", t->id, t->signo);
	dec_check(d, (t->tid > 0) == !!(t->notify & IMG_SIGEV_THREAD_ID),
		  "timer %d: thread %d", t->id, t->tid);
	dec_check(d, (t->owner > 0) == img_timer_self_thread(t->clockid),
		  "timer %d: owner %d", t->id, t->owner);
	dec_check(d, !t->pending || base != IMG_SIGEV_NONE,
		  "timer %d: pending %u", t->id, t->pending);
	dec_check(d, !t->abs || (t->clockid == CLOCK_REALTIME && t->value_ns &&
				 (!t->pending || t->interval_ns)),
		  "timer %d: absolute %u", t->id, t->abs);
	dec_check(d, !t->pend_overrun || (t->pending && t->interval_ns),
		  "timer %d: overrun %u pending", t->id, t->pend_overrun);
	/* timespec64: seconds below 2^63 / 10^9 */
	dec_check(d, t->value_ns < (1ull << 62) && t->interval_ns < (1ull << 62),
		  "timer %d: time out of range", t->id);
}

static void dec_timers(struct dec *d, struct img_pstate *s)
{
	uint32_t i;

	dec_u32(d, &s->nr_timers);
	if (!dec_count_ok(d, s->nr_timers, IMG_MAX_TIMERS, 56, "timers") ||
	    !s->nr_timers)
		return;
	s->timers = dec_alloc(d, s->nr_timers * sizeof(*s->timers));
	for (i = 0; s->timers && i < s->nr_timers; i++)
		dec_timer(d, &s->timers[i], i ? s->timers[i - 1].id : -1);
}

/* u32 stop_sig wait subreaper thp_disable; i32 oom_score_adj;
 * u32 loginuid nr_timers, timer x nr_timers; u32 exit_signal membarrier
 * share memory_merge mlockall oom_min_known; i32 oom_score_adj_min */
void img_enc_pstate(struct enc *e, const struct img_pstate *s)
{
	uint32_t i;

	enc_u32(e, s->stop_sig);
	enc_u32(e, s->wait);
	enc_u32(e, s->subreaper);
	enc_u32(e, s->thp_disable);
	enc_u32(e, s->oom_score_adj);
	enc_u32(e, s->loginuid);
	enc_cap(e, s->nr_timers, IMG_MAX_TIMERS, "too many timers");
	enc_u32(e, s->nr_timers);
	for (i = 0; i < s->nr_timers && i < IMG_MAX_TIMERS; i++)
		enc_timer(e, &s->timers[i]);
	enc_u32(e, s->exit_signal);
	enc_u32(e, s->membarrier);
	enc_u32(e, s->share);
	enc_u32(e, s->memory_merge);
	enc_u32(e, s->mlockall);
	enc_u32(e, s->oom_min_known);
	enc_u32(e, s->oom_score_adj_min);
}

/* A child's exit signal: none, or one its parent may be sent and live
 * (SIGKILL and SIGSTOP would have killed or stopped it) */
int img_exit_signal_ok(uint32_t sig)
{
	return sig <= IMG_NSIG && sig != SIGKILL && sig != SIGSTOP;
}

void img_dec_pstate(struct dec *d, struct img_pstate *s)
{
	dec_u32(d, &s->stop_sig);
	dec_u32(d, &s->wait);
	dec_check(d, !s->stop_sig || is_stop_signal(s->stop_sig),
		  "stop signal %u", s->stop_sig);
	dec_check(d, !(s->wait & ~IMG_WAIT_ALL), "bad wait flags %#x",
		  s->wait);
	/* a stop ends the SIGCONT's report, a SIGCONT the stop (signal.c) */
	dec_check(d, !(s->wait & IMG_WAIT_STOPPED) || s->stop_sig,
		  "a stop to report without a stop");
	dec_check(d, !(s->wait & IMG_WAIT_CONTINUED) || !s->stop_sig,
		  "a SIGCONT to report while stopped");
	dec_u32(d, &s->subreaper);
	dec_u32(d, &s->thp_disable);
	dec_i32(d, &s->oom_score_adj);
	dec_u32(d, &s->loginuid);
	dec_check(d, s->subreaper <= 1, "child subreaper %u", s->subreaper);
	dec_check(d, s->thp_disable <= 1 || s->thp_disable == 3,
		  "THP disable %u", s->thp_disable);
	dec_check(d, s->oom_score_adj >= -OOM_SCORE_ADJ_MAX &&
		  s->oom_score_adj <= OOM_SCORE_ADJ_MAX, "oom_score_adj %d",
		  s->oom_score_adj);
	dec_timers(d, s);
	dec_u32(d, &s->exit_signal);
	dec_check(d, img_exit_signal_ok(s->exit_signal), "exit signal %u",
		  s->exit_signal);
	dec_u32(d, &s->membarrier);
	dec_check(d, !(s->membarrier & ~IMG_MEMBARRIER_ALL),
		  "membarrier registrations %#x", s->membarrier);
	dec_u32(d, &s->share);
	dec_check(d, !(s->share & ~IMG_SHARE_ALL), "shares %#x", s->share);
	dec_u32(d, &s->memory_merge);
	dec_check(d, s->memory_merge <= 1, "memory merge %u",
		  s->memory_merge);
	dec_u32(d, &s->mlockall);
	dec_check(d, s->mlockall == 0 || s->mlockall == IMG_MCL_FUTURE ||
		  s->mlockall == (IMG_MCL_FUTURE | IMG_MCL_ONFAULT),
		  "mlockall flags %#x", s->mlockall);
	dec_u32(d, &s->oom_min_known);
	dec_i32(d, &s->oom_score_adj_min);
	dec_check(d, s->oom_min_known <= 1, "oom_score_adj minimum known %u",
		  s->oom_min_known);
	dec_check(d, s->oom_score_adj_min >= -OOM_SCORE_ADJ_MAX &&
		  s->oom_score_adj_min <= OOM_SCORE_ADJ_MAX &&
		  (s->oom_min_known || !s->oom_score_adj_min),
		  "oom_score_adj minimum %d", s->oom_score_adj_min);
}

void img_pstate_free(struct img_pstate *s)
{
	free(s->timers);
	s->timers = NULL;
	s->nr_timers = 0;
}

/* u32 pdeathsig mce_kill; u64 timer_slack_ns; u32 spec x 3;
 * u64 default_slack_ns */
void img_enc_tstate(struct enc *e, const struct img_tstate *s)
{
	int i;

	enc_u32(e, s->pdeathsig);
	enc_u32(e, s->mce_kill);
	enc_u64(e, s->timer_slack_ns);
	for (i = 0; i < 3; i++)
		enc_u32(e, s->spec[i]);
	enc_u64(e, s->default_slack_ns);
}

void img_dec_tstate(struct dec *d, struct img_tstate *s)
{
	int i;

	dec_u32(d, &s->pdeathsig);
	dec_u32(d, &s->mce_kill);
	dec_u64(d, &s->timer_slack_ns);
	for (i = 0; i < 3; i++) {
		dec_u32(d, &s->spec[i]);
		dec_check(d, !(s->spec[i] & ~SPEC_ALL),
			  "speculation control %#x", s->spec[i]);
	}
	dec_u64(d, &s->default_slack_ns);
	dec_check(d, s->pdeathsig <= IMG_NSIG, "parent-death signal %u",
		  s->pdeathsig);
	dec_check(d, s->mce_kill <= MCE_KILL_DEFAULT, "MCE kill policy %u",
		  s->mce_kill);
}

/* PIDs or TIDs below the tree's top PID namespace: u32 n, i32 x n,
 * outermost first, each above 0 */
void img_enc_nsids(struct enc *e, const int32_t *ids, uint32_t n)
{
	uint32_t i;

	enc_cap(e, n, IMG_MAX_PIDNS_DEPTH, "too many PID namespace levels");
	enc_u32(e, n);
	for (i = 0; i < n && i < IMG_MAX_PIDNS_DEPTH; i++)
		enc_u32(e, ids[i]);
}

void img_dec_nsids(struct dec *d, int32_t *ids, uint32_t *n)
{
	uint32_t i;

	dec_u32(d, n);
	if (!dec_count_ok(d, *n, IMG_MAX_PIDNS_DEPTH, 4,
			  "PID namespace levels"))
		return;
	for (i = 0; i < *n; i++) {
		dec_i32(d, &ids[i]);
		dec_check(d, ids[i] > 0, "PID %d in a PID namespace", ids[i]);
	}
}

/* Where the process is in the tree's PID namespaces (image.h): u64 ns
 * for_children, then its nspids (img_enc_nsids) */
void img_enc_pidlv(struct enc *e, const struct img_pidlv *l)
{
	enc_u64(e, l->ns);
	enc_u64(e, l->for_children);
	img_enc_nsids(e, l->nspids, l->nr_nspids);
}

void img_dec_pidlv(struct dec *d, struct img_pidlv *l, int zombie)
{
	dec_u64(d, &l->ns);
	dec_u64(d, &l->for_children);
	img_dec_nsids(d, l->nspids, &l->nr_nspids);
	dec_check(d, !l->ns == !l->nr_nspids,
		  "PID namespace %llu with %u levels",
		  (unsigned long long)l->ns, l->nr_nspids);
	dec_check(d, !zombie || !l->for_children,
		  "a zombie's children in a PID namespace");
	dec_check(d, !l->for_children || l->for_children != l->ns,
		  "children in its own PID namespace by id");
}
