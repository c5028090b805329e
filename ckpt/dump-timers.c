/*
 * Dump of POSIX timers (timer_create). /proc/PID/timers names each: its
 * id, signal and sigev value, how it notifies and its clock; the
 * target's own timer_gettime() and timer_getoverrun() tell its time
 * left, interval and last overrun.
 *
 * A timer whose signal is queued is marked pending, and that siginfo is
 * taken out of the thread's list: restore makes the timer fire again at
 * once, so that the queued signal is the timer's own, which rearms a
 * periodic timer when delivered, as the kernel does. A queued timer
 * signal that no timer would deliver (its timer deleted or set again
 * since it fired: the kernel drops it when dequeued) is dropped.
 *
 * A thread CPU clock of id 0 is the CPU time of the thread that created
 * the timer, which /proc does not tell: in a process of several threads
 * it is found by asking timer_gettime() twice in each thread, the time
 * left shrinking only in the thread whose clock runs (the others are
 * frozen). A disarmed timer (with no signal queued, no overrun count,
 * which setting it clears) is armed for the time of the search and
 * disarmed again, as it was. One that has expired and not fired yet (CPU
 * timers fire on a tick) reads the same in every thread: refused. That
 * search is made only without BPF (below), which tells the thread.
 *
 * What no system call tells is read in the kernel's struct k_itimer by
 * BPF (dump-kstate.c): whether a CLOCK_REALTIME timer was set to an
 * absolute time (the clock of its hrtimer base) and when it expires, the
 * overrun count a pending signal will carry, and whether a queued timer
 * signal is still its timer's (the sequence counts). Without BPF the
 * timers where that matters are refused, but a queued CLOCK_REALTIME
 * one, told by /proc/timer_list (find_abs).
 */
#include <sys/syscall.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ckpt/dump-priv.h"

#define NS	1000000000ull

static int parse_timers(pid_t pid, struct img_pstate *s)
{
	char path[64], *buf;
	int ret;

	snprintf(path, sizeof(path), "/proc/%d/timers", pid);
	buf = read_file_str(path, NULL);
	if (!buf)
		return -1;
	ret = dump_timers_info(buf, pid, s);
	free(buf);
	if (ret)
		errno = EOPNOTSUPP;
	return ret;
}

/* timer_gettime() in thread ti: time left and interval, in ns. */
static int gettime(struct dump_ctx *c, int ti, int32_t id, uint64_t *value,
		   uint64_t *interval)
{
	int64_t its[4];		/* it_interval sec nsec, it_value sec nsec */
	long ret;

	if (inject_syscall(c->ip, ti, &ret, SYS_timer_gettime, id,
			   inject_scratch(c->ip), 0, 0, 0, 0) ||
	    inject_read(c->ip, inject_scratch(c->ip), its, sizeof(its)))
		return -1;
	if (ret) {
		errno = -ret;
		return -1;
	}
	*interval = its[0] * NS + its[1];
	*value = its[2] * NS + its[3];
	return 0;
}

/* timer_settime() of a value of its own to timer t, in the leader. */
static int settime(struct dump_ctx *c, const struct img_timer *t,
		   uint64_t value)
{
	int64_t its[4] = { 0, 0, value / NS, value % NS };
	long ret;

	if (inject_write(c->ip, inject_scratch(c->ip), its, sizeof(its)) ||
	    inject_syscall(c->ip, c->leader, &ret, SYS_timer_settime, t->id,
			   0, inject_scratch(c->ip), 0, 0, 0))
		return -1;
	if (ret) {
		errno = -ret;
		return -1;
	}
	return 0;
}

static int search_owner(struct dump_ctx *c, struct img_timer *t);

/* The thread whose CPU time timer t measures: as the kernel's memory
 * tells (k), or see the top of the file. */
static int find_owner(struct dump_ctx *c, struct img_timer *t,
		      const struct ckpt_kstate_rec *k)
{
	int r, i;

	if (inject_nr_threads(c->ip) == 1) {
		t->owner = c->pid;
		return 0;
	}
	for (i = 0; k && i < inject_nr_threads(c->ip); i++)
		if (inject_tid(c->ip, i) == k->owner) {
			t->owner = k->owner;
			return 0;
		}
	if (t->value_ns || t->pending || t->overrun)
		return search_owner(c, t);
	if (settime(c, t, 1000 * NS))
		return -1;
	r = search_owner(c, t);
	/* disarmed again, whatever the search found */
	return settime(c, t, 0) ? -1 : r;
}

static int search_owner(struct dump_ctx *c, struct img_timer *t)
{
	uint64_t v1, v2, iv;
	int ti, found = -1;

	for (ti = 0; ti < inject_nr_threads(c->ip); ti++) {
		if (gettime(c, ti, t->id, &v1, &iv) ||
		    gettime(c, ti, t->id, &v2, &iv))
			return -1;
		if (v2 == v1)
			continue;
		if (found >= 0)
			break;
		found = ti;
	}
	if (found < 0 || ti < inject_nr_threads(c->ip)) {
		pr_err("can't dump %d: timer %d counts the CPU time of the thread that made it, which ckpt can't tell while it is %s",
		       c->pid, t->id, t->value_ns ? "expiring" :
		       "disarmed with its signal queued");
		errno = EOPNOTSUPP;
		return -1;
	}
	t->owner = inject_tid(c->ip, found);
	return 0;
}

static int read_timer(struct dump_ctx *c, struct img_timer *t)
{
	int32_t cid = t->clockid < 0 ? ~(t->clockid >> 3) : 0;
	long ret;

	if (!img_timer_clock_ok(t->clockid) ||
	    (cid && !(t->clockid & 4) && cid != c->pid)) {
		pr_err("can't dump %d: timer %d has clock %d, which ckpt can't restore",
		       c->pid, t->id, t->clockid);
		errno = EOPNOTSUPP;
		return -1;
	}
	if (gettime(c, c->leader, t->id, &t->value_ns, &t->interval_ns) ||
	    inject_syscall(c->ip, c->leader, &ret, SYS_timer_getoverrun, t->id,
			   0, 0, 0, 0, 0))
		return -1;
	if (ret < 0) {
		errno = -ret;
		return -1;
	}
	t->overrun = ret;
	return 0;
}

/*
 * Whether a CLOCK_REALTIME timer was set to an absolute time, which the
 * kernel tells nowhere but in /proc/timer_list (root's): it keeps a
 * relative one on CLOCK_MONOTONIC's hrtimer base, so that setting the
 * time of day does not move it, and an absolute one on CLOCK_REALTIME's,
 * each listed as "posix_timer_fn" under its base (".index:", the low two
 * bits: 0 MONOTONIC, 1 REALTIME) with its expiry in that base's clock.
 * Timer t's time left, read between two readings of both clocks, places
 * its expiry within those microseconds in each; exactly one base must
 * list a posix_timer_fn there, or it is tried again (the timer may have
 * fired meanwhile, another one may share the moment) and then refused.
 * Only without BPF: a timer that is not queued (its signal is pending;
 * SIGEV_NONE ones never are) shows nowhere, and is refused.
 */
#define ABS_TRIES	4
/* the longest restore may wait to give a relative CLOCK_REALTIME timer
 * its overruns or queued signal back (restore/timers.c, relive), or run
 * a CPU-time clock for a CPU timer's (ripen) */
#define RELIVE_MAX_NS	(10 * NS)

/* The expiry of a posix_timer_fn that the list holds on base kind (0 or
 * 1) within [lo, hi], or 0 if none. */
static uint64_t listed(const char *list, int kind, uint64_t lo, uint64_t hi)
{
	const char *p, *end;
	unsigned long long at;
	int idx = -1, fn = 0;

	for (p = list; *p; p = *end ? end + 1 : end) {
		end = p + strcspn(p, "\n");
		if (sscanf(p, " .index: %d", &idx) == 1)
			fn = 0;
		else if (sscanf(p, " # expires at %llu-", &at) == 1) {
			if (fn && (idx & 3) == kind && at >= lo && at <= hi)
				return at;
			fn = 0;
		} else {
			fn = p[0] == ' ' && p[1] == '#' &&
			     memmem(p, end - p, ", posix_timer_fn,", 17);
		}
	}
	return 0;
}

static uint64_t now_ns(clockid_t clk)
{
	struct timespec ts;

	clock_gettime(clk, &ts);
	return ts.tv_sec * NS + ts.tv_nsec;
}

static int find_abs(struct dump_ctx *c, struct img_timer *t)
{
	uint64_t rt[2], mono[2], v, iv, at;
	int i, in_rt = 0, in_mono;
	char *list;

	for (i = 0; i < ABS_TRIES; i++) {
		rt[0] = now_ns(CLOCK_REALTIME);
		mono[0] = now_ns(CLOCK_MONOTONIC);
		if (gettime(c, c->leader, t->id, &v, &iv))
			return -1;
		mono[1] = now_ns(CLOCK_MONOTONIC);
		rt[1] = now_ns(CLOCK_REALTIME);
		list = read_file_str("/proc/timer_list", NULL);
		if (!list) {
			pr_err("can't dump %d: timer %d is armed on CLOCK_REALTIME, and whether it was set to an absolute time only /proc/timer_list tells: %s",
			       c->pid, t->id, strerror(errno));
			errno = EOPNOTSUPP;
			return -1;
		}
		at = v ? listed(list, 1, rt[0] + v, rt[1] + v) : 0;
		in_rt = at != 0;
		in_mono = v && listed(list, 0, mono[0] + v, mono[1] + v);
		free(list);
		if (in_rt != in_mono) {
			/* an absolute one keeps its time of day, as a
			 * timerfd's does: the expiry, not the time left */
			t->abs = in_rt;
			if (in_rt)
				t->value_ns = at;
			return 0;
		}
	}
	pr_err("can't dump %d: whether CLOCK_REALTIME timer %d was set to an absolute time can't be told (/proc/timer_list shows %s at its expiry)",
	       c->pid, t->id, in_rt ? "timers of both kinds" : "no timer");
	errno = EOPNOTSUPP;
	return -1;
}

static int refuse(struct dump_ctx *c, const struct img_timer *t,
		  const char *why, const char *more)
{
	pr_err("can't dump %d: timer %d %s%s", c->pid, t->id, why, more);
	errno = EOPNOTSUPP;
	return -1;
}

/* Armed, or periodic with its signal queued: its clock still runs */
static int running(const struct img_timer *t)
{
	return t->value_ns || (t->pending && t->interval_ns);
}

/* Periodic timer t, pending or with an overrun count, that restore
 * gives back by running its clock (k intervals, less value_ns): within
 * RELIVE_MAX_NS, or refused */
static int bounded(struct dump_ctx *c, const struct img_timer *t,
		   const char *what, const char *how, uint64_t less)
{
	uint64_t k = (uint64_t)(t->pending ? t->pend_overrun : t->overrun) + 1;
	uint64_t run = k * t->interval_ns > less ? k * t->interval_ns - less : 0;
	char why[160], more[160];

	if (run <= RELIVE_MAX_NS)
		return 0;
	snprintf(why, sizeof(why), "is %s with %s", what, t->pending ?
		 "its signal queued" : "an overrun count");
	snprintf(more, sizeof(more),
		 ", which restore gives back by %s %llu ms first (at most %llu)",
		 how, (unsigned long long)(run / 1000000),
		 (unsigned long long)(RELIVE_MAX_NS / 1000000));
	return refuse(c, t, why, more);
}

/*
 * What the kernel's memory told of timer t (r), or, where it could not
 * be read (r NULL, errno why), what can be told without it: a queued
 * CLOCK_REALTIME timer is absolute or not as /proc/timer_list shows it;
 * one that is not queued there, and a pending periodic one's overrun
 * count, are refused.
 */
static int from_kernel(struct dump_ctx *c, struct img_timer *t,
		       const struct ckpt_kstate_rec *r, int why)
{
	int rt = t->clockid == CLOCK_REALTIME, ret;
	int none = (t->notify & ~IMG_SIGEV_THREAD_ID) == IMG_SIGEV_NONE;
	char more[160];

	snprintf(more, sizeof(more),
		 ", which only the kernel's memory tells, read with BPF: %s",
		 strerror(why));
	if (!r && rt && running(t) && (t->pending || none))
		return refuse(c, t, "is on CLOCK_REALTIME and not queued: whether it was set to an absolute time can't be told",
			      more);
	if (!r && t->pending && t->interval_ns)
		return refuse(c, t, "has its signal queued: the overrun count it will carry can't be told",
			      more);
	if (!r && rt && running(t)) {
		ret = find_abs(c, t);
		if (ret)
			return ret;
	} else if (r && rt && running(t)) {
		t->abs = r->base == CLOCK_REALTIME;
		if (t->abs)	/* its time of day: exact */
			t->value_ns = r->expires;
	}
	if (r && t->pending && t->interval_ns && r->overrun > 0) {
		if (r->overrun > IMG_TIMER_MAX_PEND_OVERRUN)
			return refuse(c, t, "has its signal queued with too many overruns",
				      "");
		t->pend_overrun = r->overrun;
	}
	/* a young restored CPU clock runs the intervals back first; on
	 * CLOCK_MONOTONIC's base restore lives them again */
	if (t->clockid < 0 && t->interval_ns &&
	    (t->pending || (t->overrun && t->value_ns)))
		return bounded(c, t, "on a CPU-time clock", "running it", 0);
	if (rt && !t->abs && t->interval_ns && (t->pending || t->overrun))
		return bounded(c, t, "a relative periodic CLOCK_REALTIME timer",
			       "waiting", t->value_ns);
	return 0;
}

static struct img_timer *timer_of(struct img_pstate *s, const siginfo_t *si)
{
	uint32_t i;

	for (i = 0; i < s->nr_timers; i++)
		if (s->timers[i].id == si->si_timerid)
			return &s->timers[i];
	return NULL;
}

static const struct ckpt_kstate_rec *krec(const struct dump_kstate *ks,
					  int32_t id)
{
	size_t i;

	for (i = 0; ks && i < ks->n; i++)
		if (ks->recs[i].kind == CKPT_KSTATE_TIMER &&
		    ks->recs[i].id == id)
			return &ks->recs[i];
	return NULL;
}

/*
 * Queued SI_TIMER signals become their timers' pending flag. A timer set
 * again since it fired has a signal the kernel will drop: the kernel's
 * sequence counts tell (ks), or, without them, a one-shot armed again.
 */
static void take_pending(struct img_pstate *s, struct img_thread *th,
			 const struct dump_kstate *ks)
{
	uint32_t i, n = 0;

	for (i = 0; i < th->nr_siginfo; i++) {
		siginfo_t si;
		struct img_timer *t;
		const struct ckpt_kstate_rec *r;

		memcpy(&si, th->siginfo[i].data, sizeof(si));
		if (si.si_code != SI_TIMER) {
			th->siginfo[n++] = th->siginfo[i];
			continue;
		}
		t = timer_of(s, &si);
		r = t ? krec(ks, t->id) : NULL;
		if (t && !t->pending && t->signo == (uint32_t)si.si_signo &&
		    (t->notify & ~IMG_SIGEV_THREAD_ID) != IMG_SIGEV_NONE &&
		    (r ? r->seq == r->queued_seq :
		     t->interval_ns || !t->value_ns))
			t->pending = 1;
	}
	th->nr_siginfo = n;
}

/*
 * A timer whose signal is queued is made to fire again at restore, and
 * its overrun count reads 0 until that signal is delivered, which is at
 * once where a thread has it unblocked; blocked in every thread, the old
 * count could be read for as long as the program likes: refused.
 */
static int check_overrun(struct dump_ctx *c, const struct img_timer *t)
{
	uint64_t bit = 1ULL << (t->signo - 1);
	uint32_t i;

	if (!t->pending || !t->overrun)
		return 0;
	for (i = 0; i < c->proc.nr_threads; i++)
		if (!(c->proc.threads[i].sigmask & bit))
			return 0;
	pr_err("can't dump %d: timer %d has its signal queued, blocked in every thread, and an overrun count of %u, which restore can't give back",
	       c->pid, t->id, t->overrun);
	errno = EOPNOTSUPP;
	return -1;
}

/*
 * A late CPU timer (img_timer_cpu_late) is fired and its signal taken by
 * restore after the image's queued signals are back: one of its number
 * would be taken instead. Refused.
 */
static int check_late(struct dump_ctx *c, const struct img_timer *t)
{
	const struct img_thread *th;
	siginfo_t si;
	uint32_t i, j;

	if (!img_timer_cpu_late(t))
		return 0;
	for (i = 0; i < c->proc.nr_threads; i++) {
		th = &c->proc.threads[i];
		for (j = 0; j < th->nr_siginfo; j++) {
			memcpy(&si, th->siginfo[j].data, sizeof(si));
			if (si.si_signo == (int)t->signo)
				return refuse(c, t, "is a CPU timer about to fire with an overrun count, and another signal of its number is queued",
					      ": restore can't give it back");
		}
	}
	return 0;
}

int dump_collect_timers(struct dump_ctx *c)
{
	struct img_pstate *s = &c->proc.proc.ks;
	struct dump_kstate ks = { 0 }, *k = NULL;
	int why = 0;
	uint32_t i;

	if (parse_timers(c->pid, s))
		goto err;
	for (i = 0; i < s->nr_timers; i++)
		if (read_timer(c, &s->timers[i]))
			goto err;
	/* after timer_gettime(), which moves a pending one's expiry on */
	if (s->nr_timers) {
		if (!dump_kstate_read(c->pid, &ks))
			k = &ks;
		else
			why = errno;
	}
	for (i = 0; i < c->proc.nr_threads; i++)
		take_pending(s, &c->proc.threads[i], k);
	/* once pending is known: a disarmed timer's search sets it */
	for (i = 0; i < s->nr_timers; i++)
		if (check_overrun(c, &s->timers[i]) ||
		    check_late(c, &s->timers[i]) ||
		    from_kernel(c, &s->timers[i], krec(k, s->timers[i].id),
				why) ||
		    (img_timer_self_thread(s->timers[i].clockid) &&
		     find_owner(c, &s->timers[i],
				krec(k, s->timers[i].id))))
			goto err;
	dump_kstate_free(&ks);
	return 0;
err:
	dump_kstate_free(&ks);
	if (errno != EOPNOTSUPP)	/* a refusal said why */
		dump_perror(c, "can't read the POSIX timers of %d", c->pid);
	return -1;
}
