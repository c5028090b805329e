/*
 * POSIX timers of the restored process: created with their ids once the
 * threads exist (a timer may notify one, or count one's CPU time, and is
 * then made by that thread), armed last, with the interval timers.
 *
 * The ids: Linux 6.15's PR_TIMER_CREATE_RESTORE_IDS makes timer_create()
 * take the id it is given; without it a new process's ids are handed out
 * in order from 0, so each is reached by creating and deleting the ones
 * before it, as CRIU does.
 *
 * A timer whose signal was queued at dump time fires again at once,
 * armed at an absolute time one interval before its next expiry: its own
 * signal is queued, and its delivery rearms it for that expiry, as in
 * the original.
 *
 * The overrun count of a periodic timer's last expiry (what
 * timer_getoverrun() reads) is set when its signal is delivered: the
 * number of intervals the kernel forwards it past the time of delivery,
 * less one. So such a timer on a wall clock is armed at an absolute time
 * N + 1 intervals before its next expiry, where it fires at once; its
 * signal, blocked as all are while restore works, is taken in the target
 * (rt_sigtimedwait), which rearms it for that expiry with N overruns.
 * That is done before the image's queued signals are queued again, which
 * it could take instead, and checked: if the remote calls took longer
 * than the time left, the kernel counted one more, and it is done again.
 *
 * An absolute CLOCK_REALTIME timer (ckpt/dump-timers.c tells them) holds
 * its expiry's time of day in value_ns and is armed at it, with
 * TIMER_ABSTIME: past already, it fires at once.
 *
 * A pending periodic timer's signal carries, when delivered, the count of
 * the intervals its timer is forwarded past the time of delivery (less
 * one): it is fired pend_overrun + 1 intervals before its next expiry.
 *
 * A CPU timer with an overrun count that had expired and not fired yet
 * at dump time (CPU timers fire on a tick: timer_gettime() reads 1 ns),
 * or was about to (img_timer_cpu_late), is given its count last, in
 * restore_timers_arm, so that restore's own calls do not spend its time:
 * fired with a little CPU time left (CPU_LEAD, more on each try), that
 * the take's own calls do not count one more overrun, then its thread
 * spends what was left over (ripen), until it reads as in the image; an
 * expired one then fires on the first tick of the restored thread. ckpt
 * refuses such a timer when a signal of its number is queued in the
 * image, which the take could dequeue instead.
 *
 * A CPU-time clock is young in the restored process: where such a timer
 * must be fired further back than the clock has run, the thread whose
 * clock it is (or any, for a process's) spends CPU time in the kernel
 * first (ripen: getrandom() into a mapping of ours), as long as ckpt
 * allowed at dump time (10 s at most).
 *
 * A relative CLOCK_REALTIME timer runs on CLOCK_MONOTONIC's base, where
 * no time in the past can be set: to have its signal queued, or its
 * overrun count, with the expiries where they were, restore lives its
 * intervals again (relive): armed relative 1 ns, it fires at once, and
 * restore waits until that fire is the right number of intervals before
 * its next expiry (ckpt refuses to dump one that needs more than 10 s):
 * the signal of a pending one is left queued, an overrun one's is taken
 * as above. Several such timers are armed one after the other, the one
 * that waits longest first, so that one wait serves them all.
 */
#include <sys/mman.h>
#include <sys/syscall.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "restore/restore.h"

#ifndef PR_TIMER_CREATE_RESTORE_IDS
#define PR_TIMER_CREATE_RESTORE_IDS	77
#define PR_TIMER_CREATE_RESTORE_IDS_OFF	0
#define PR_TIMER_CREATE_RESTORE_IDS_ON	1
#endif
#define MAX_SEQUENTIAL	65536	/* ids made one by one, at most */
#define OVERRUN_TRIES	5
#define NS		1000000000ull

/* struct sigevent as the kernel reads it (64 bytes) */
struct ksigevent {
	uint64_t value;
	int32_t signo, notify;
	int32_t tid;
	int32_t pad[11];
};

/* The index of thread tid, or of the leader for 0 or a stranger. */
static int thread_index(const struct restore_proc *c, int32_t tid)
{
	uint32_t i;

	for (i = 0; tid && i < c->proc->nr_threads; i++)
		if (c->proc->threads[i].tid == tid)
			return i;
	return 0;
}

/* The thread that makes timer t: its CPU clock's, or the leader. */
static int maker(const struct restore_proc *c, const struct img_timer *t)
{
	return thread_index(c, t->owner);
}

/* timer_create() in the maker; *got the id the kernel gave. */
static int create(struct restore_proc *c, const struct img_timer *t,
		  int32_t *got)
{
	uint64_t sc = inject_scratch(c->ip);
	struct ksigevent ev;
	int32_t id = t->id;

	memset(&ev, 0, sizeof(ev));
	ev.value = t->sigval;
	ev.signo = t->signo;
	ev.notify = t->notify;
	ev.tid = t->tid;
	if (inject_write(c->ip, sc, &ev, sizeof(ev)) ||
	    inject_write(c->ip, sc + sizeof(ev), &id, sizeof(id)) ||
	    rcall(c, maker(c, t), "create a POSIX timer", NULL,
		  SYS_timer_create, t->clockid, sc, sc + sizeof(ev), 0, 0, 0) ||
	    inject_read(c->ip, sc + sizeof(ev), got, sizeof(*got)))
		return -1;
	return 0;
}

/* Without PR_TIMER_CREATE_RESTORE_IDS: ids come in order from 0. */
static int create_in_order(struct restore_proc *c, const struct img_timer *t)
{
	int32_t got;

	if (t->id >= MAX_SEQUENTIAL) {
		pr_err("can't make timer %d of %d: this kernel hands out timer ids in order (no PR_TIMER_CREATE_RESTORE_IDS)",
		       t->id, c->child);
		return -1;
	}
	for (;;) {
		if (create(c, t, &got))
			return -1;
		if (got == t->id)
			return 0;
		if (got > t->id) {
			pr_err("can't make timer %d of %d: the kernel gave %d",
			       t->id, c->child, got);
			return -1;
		}
		if (rcall(c, 0, "delete a POSIX timer", NULL, SYS_timer_delete,
			  got, 0, 0, 0, 0, 0))
			return -1;
	}
}

static int arm_overrun(struct restore_proc *c, const struct img_timer *t);
static int spend_lead(struct restore_proc *c, const struct img_timer *t);
static int ripen(struct restore_proc *c, const struct img_timer *t,
		 uint64_t need);

/*
 * Armed with its overrun count, at creation (see the top of the file): a
 * clock whose absolute and relative timers run alike. CLOCK_REALTIME's
 * relative ones follow CLOCK_MONOTONIC, and made absolute such a timer
 * would follow changes of the time of day: there the count reads 0 until
 * the next expiry (ckpt(1)), as on the CPU-time clocks.
 */
static int overrun_kept(const struct img_timer *t)
{
	int32_t clk = t->clockid;

	return t->overrun && t->interval_ns && t->value_ns && !t->pending &&
	       (t->notify & ~IMG_SIGEV_THREAD_ID) != IMG_SIGEV_NONE &&
	       (clk == CLOCK_MONOTONIC || clk == CLOCK_BOOTTIME ||
		clk == CLOCK_TAI || clk == CLOCK_REALTIME_ALARM ||
		clk == CLOCK_BOOTTIME_ALARM || clk < 0 || t->abs);
}

/* A relative periodic CLOCK_REALTIME timer whose intervals restore lives
 * again (see the top of the file): pending (take 0) or with an overrun
 * count (take 1) */
static int relived(const struct img_timer *t, int take)
{
	if (t->clockid != CLOCK_REALTIME || t->abs || !t->interval_ns)
		return 0;
	if (!take)
		return t->pending;
	return t->overrun && t->value_ns && !t->pending &&
	       (t->notify & ~IMG_SIGEV_THREAD_ID) != IMG_SIGEV_NONE;
}

static int create_all(struct restore_proc *c);
static int relive(struct restore_proc *c, int take);

int restore_timers_create(struct restore_proc *c)
{
	const struct img_pstate *s = &c->proc->proc.ks;
	uint32_t i;

	if (create_all(c))
		return -1;
	for (i = 0; i < s->nr_timers; i++)
		if (overrun_kept(&s->timers[i]) &&
		    !img_timer_cpu_late(&s->timers[i]) &&
		    arm_overrun(c, &s->timers[i]))
			return -1;
	return relive(c, 1);
}

static int create_all(struct restore_proc *c)
{
	const struct img_pstate *s = &c->proc->proc.ks;
	int32_t got;
	uint32_t i;
	long ret;

	if (!s->nr_timers)
		return 0;
	if (inject_syscall(c->ip, 0, &ret, SYS_prctl,
			   PR_TIMER_CREATE_RESTORE_IDS,
			   PR_TIMER_CREATE_RESTORE_IDS_ON, 0, 0, 0, 0)) {
		pr_perror("can't make timers in %d", c->child);
		return -1;
	}
	for (i = 0; i < s->nr_timers; i++) {
		const struct img_timer *t = &s->timers[i];

		if (ret ? create_in_order(c, t) : create(c, t, &got))
			return -1;
		if (!ret && got != t->id) {
			pr_err("can't make timer %d of %d: the kernel gave %d",
			       t->id, c->child, got);
			return -1;
		}
	}
	return ret ? 0 : rcall(c, 0, "make timers again", NULL, SYS_prctl,
			       PR_TIMER_CREATE_RESTORE_IDS,
			       PR_TIMER_CREATE_RESTORE_IDS_OFF, 0, 0, 0, 0);
}

/* Now on t's clock, as its maker sees it (a thread clock is its own). */
static int clock_now(struct restore_proc *c, const struct img_timer *t,
		     uint64_t *now)
{
	int64_t ts[2];

	if (rcall(c, maker(c, t), "read a timer's clock", NULL,
		  SYS_clock_gettime, t->clockid, inject_scratch(c->ip), 0, 0,
		  0, 0) ||
	    inject_read(c->ip, inject_scratch(c->ip), ts, sizeof(ts)))
		return -1;
	*now = ts[0] * NS + ts[1];
	return 0;
}

static int settime(struct restore_proc *c, const struct img_timer *t,
		   int flags, uint64_t value)
{
	int64_t its[4] = { t->interval_ns / NS, t->interval_ns % NS,
			   value / NS, value % NS };

	if (inject_write(c->ip, inject_scratch(c->ip), its, sizeof(its)))
		return -1;
	return rcall(c, maker(c, t), "arm a POSIX timer", NULL,
		     SYS_timer_settime, t->id, flags, inject_scratch(c->ip), 0,
		     0, 0);
}

static int arm(struct restore_proc *c, const struct img_timer *t)
{
	uint64_t value = t->value_ns, now;
	int flags = 0;

	uint64_t back = (t->pend_overrun + 1ull) * t->interval_ns;

	if ((!value && !t->pending) || overrun_kept(t) || relived(t, 0) ||
	    relived(t, 1))
		return 0;	/* disarmed, or armed already */
	if (t->pending && !t->interval_ns) {
		value = 1;	/* a one-shot fired: any time past */
		flags = TIMER_ABSTIME;
	} else if (t->abs) {
		flags = TIMER_ABSTIME;	/* value: its time of day */
		if (t->pending)	/* fired, back intervals before */
			value = value > back ? value - back : 1;
	} else if (t->pending) {
		/* at once, and next when the image has it; a young CPU
		 * clock runs back intervals first */
		if ((t->clockid < 0 &&
		     ripen(c, t, back + 1 > value ? back + 1 - value : 0)) ||
		    clock_now(c, t, &now))
			return -1;
		value = now + value > back ? now + value - back : now;
		flags = TIMER_ABSTIME;
	}
	return settime(c, t, flags, value);
}

#define RIPEN_LEN	(1 << 20)	/* bytes of getrandom() a call, at most */
#define RIPEN_MIN	64		/* and at least */
#define RIPEN_CALLS	100000
#define CPU_LEAD	100000		/* ns: see arm_overrun */

/* The thread whose CPU time t's clock measures, or its maker */
static int cpu_thread(const struct restore_proc *c, const struct img_timer *t)
{
	int32_t clk = t->clockid;

	if ((clk & 4) && ~(clk >> 3))
		return thread_index(c, ~(clk >> 3));
	return maker(c, t);
}

/* Spend CPU time in t's clock's thread until it reads at least need */
static int ripen(struct restore_proc *c, const struct img_timer *t,
		 uint64_t need)
{
	uint64_t now, len;
	long addr;
	int i, r = -1;

	if (clock_now(c, t, &now))
		return -1;
	if (now >= need)
		return 0;
	if (rcall(c, 0, "map room to spend CPU time", &addr, SYS_mmap, 0,
		  RIPEN_LEN, PROT_READ | PROT_WRITE,
		  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0))
		return -1;
	for (i = 0; i < RIPEN_CALLS; i++) {
		if (clock_now(c, t, &now))
			break;
		if (now >= need) {
			r = 0;
			break;
		}
		/* getrandom() makes about 0.6 bytes a ns here: a quarter
		 * byte for each ns still to go does not overshoot much */
		len = (need - now) / 4;
		len = len > RIPEN_LEN ? RIPEN_LEN :
		      len < RIPEN_MIN ? RIPEN_MIN : len;
		if (rcall(c, cpu_thread(c, t), "spend CPU time", NULL,
			  SYS_getrandom, addr, len, 0, 0, 0, 0))
			break;
	}
	if (i == RIPEN_CALLS)
		pr_err("can't run the clock of timer %d of %d to %llu ns",
		       t->id, c->child, (unsigned long long)need);
	if (rcall(c, 0, "unmap the room to spend CPU time", NULL, SYS_munmap,
		  addr, RIPEN_LEN, 0, 0, 0, 0))
		return -1;
	return r;
}

/* Take fired timer t's signal in the target: 1 when it then reads as
 * the image has it (its overrun count, and its next expiry at most an
 * interval away), 0 when the kernel counted more (too slow: again). */
static int take(struct restore_proc *c, const struct img_timer *t)
{
	uint64_t sc = inject_scratch(c->ip);
	uint64_t set = 1ULL << (t->signo - 1);
	int64_t wait[2] = { 1, 0 }, its[4];
	long r;

	if (inject_write(c->ip, sc, &set, sizeof(set)) ||
	    inject_write(c->ip, sc + 8, wait, sizeof(wait)) ||
	    /* the thread it notifies, or any */
	    rcall(c, thread_index(c, t->tid), "take a timer's signal", NULL,
		  SYS_rt_sigtimedwait, sc, sc + 64, sc + 8, 8, 0, 0) ||
	    rcall(c, maker(c, t), "read a timer's overrun", &r,
		  SYS_timer_getoverrun, t->id, 0, 0, 0, 0, 0) ||
	    rcall(c, maker(c, t), "read a timer", NULL, SYS_timer_gettime,
		  t->id, sc, 0, 0, 0, 0) ||
	    inject_read(c->ip, sc, its, sizeof(its)))
		return -1;
	return r == (long)t->overrun && (its[2] || its[3]) &&
	       (uint64_t)(its[2] * NS + its[3]) <= t->interval_ns;
}

/* Fire t in the past and take its signal, with at least lead ns left
 * then: 1 when it then reads as the image has it (see the top of the
 * file), 0 to try again. */
static int fire_and_take(struct restore_proc *c, const struct img_timer *t,
			 uint64_t lead)
{
	uint64_t now, back, left;

	back = (uint64_t)(t->overrun + 1) * t->interval_ns;
	if (t->clockid < 0 && ripen(c, t, back + lead))
		return -1;
	if (clock_now(c, t, &now))
		return -1;
	if (t->abs && t->value_ns <= now)	/* its time passed meanwhile: */
		return settime(c, t, TIMER_ABSTIME, t->value_ns) ? -1 : 1;
	left = t->abs ? t->value_ns - now : t->value_ns;
	if (left < lead)
		left = lead;
	if (now + left <= back) {
		pr_err("can't give timer %d of %d its %u overruns: its clock reads %llu ns",
		       t->id, c->child, t->overrun, (unsigned long long)now);
		return -1;
	}
	if (settime(c, t, TIMER_ABSTIME, now + left - back))
		return -1;
	return take(c, t);
}

/*
 * A late CPU timer (see the top of the file) is fired with lead ns left,
 * enough for the take's own calls (never more than an interval, which
 * the take would count as one overrun less); the rest is then spent.
 */
static int arm_overrun(struct restore_proc *c, const struct img_timer *t)
{
	int late = img_timer_cpu_late(t), i, r = 0;
	uint64_t lead = 0;

	for (i = 0; i < OVERRUN_TRIES && !r; i++) {
		if (late)
			lead = (uint64_t)CPU_LEAD << (2 * i);
		if (lead > t->interval_ns)
			lead = t->interval_ns;
		r = fire_and_take(c, t, lead);
	}
	if (r > 0)
		return late ? spend_lead(c, t) : 0;
	if (!r)
		pr_err("can't give timer %d of %d its %u overruns: the restore is too slow for its %llu ns left",
		       t->id, c->child, t->overrun,
		       (unsigned long long)t->value_ns);
	return -1;
}

/* Late CPU timer t, taken: its clock run until it has value_ns left */
static int spend_lead(struct restore_proc *c, const struct img_timer *t)
{
	uint64_t sc = inject_scratch(c->ip), now, left;
	int64_t its[4];

	/* the clock read after: its expiry no earlier than now + left */
	if (rcall(c, maker(c, t), "read a timer", NULL, SYS_timer_gettime,
		  t->id, sc, 0, 0, 0, 0) ||
	    inject_read(c->ip, sc, its, sizeof(its)) ||
	    clock_now(c, t, &now))
		return -1;
	left = its[2] * NS + its[3];
	return left > t->value_ns ?
	       ripen(c, t, now + left + 1 - t->value_ns) : 0;
}

struct relive_one {
	const struct img_timer *t;
	uint64_t wait;		/* from its fire to its last interval */
};

static int by_wait(const void *a, const void *b)
{
	const struct relive_one *x = a, *y = b;

	return x->wait < y->wait ? 1 : x->wait > y->wait ? -1 : 0;
}

static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * NS + ts.tv_nsec;
}

static void sleep_until(uint64_t at)
{
	struct timespec ts = { at / NS, at % NS };

	while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) ==
	       EINTR)
		;
}

/* Arm each fired at once, so that the longest wait covers them all; 1
 * when the taken ones read as the image has them, 0 to try again. */
static int relive_once(struct restore_proc *c, struct relive_one *r,
		       uint32_t n, int take_them)
{
	uint64_t t0 = mono_ns();
	uint32_t i;
	int ok = 1;

	for (i = 0; i < n; i++) {
		sleep_until(t0 + r[0].wait - r[i].wait);
		if (settime(c, r[i].t, 0, 1))	/* relative 1 ns */
			return -1;
	}
	sleep_until(t0 + r[0].wait);
	for (i = 0; take_them && i < n && ok > 0; i++)
		ok = take(c, r[i].t);
	return ok;
}

/* The relived timers of kind take (see relived), in order of wait */
static int relive(struct restore_proc *c, int take_them)
{
	const struct img_pstate *s = &c->proc->proc.ks;
	struct relive_one *r = NULL;
	uint32_t i, n = 0, k;
	int ok = 0, tries;

	for (i = 0; i < s->nr_timers; i++)
		n += relived(&s->timers[i], take_them);
	if (!n)
		return 0;
	r = calloc(n, sizeof(*r));
	if (!r) {
		pr_err("can't arm the timers of %d: out of memory", c->child);
		return -1;
	}
	for (i = 0, n = 0; i < s->nr_timers; i++) {
		const struct img_timer *t = &s->timers[i];

		if (!relived(t, take_them))
			continue;
		k = take_them ? t->overrun : t->pend_overrun;
		r[n].t = t;
		r[n++].wait = (k + 1ull) * t->interval_ns > t->value_ns ?
			      (k + 1ull) * t->interval_ns - t->value_ns : 0;
	}
	qsort(r, n, sizeof(*r), by_wait);
	for (tries = 0; tries < OVERRUN_TRIES && !ok; tries++)
		ok = relive_once(c, r, n, take_them);
	if (!ok)
		pr_err("can't give timer %d of %d its overruns: the restore is too slow",
		       r[0].t->id, c->child);
	free(r);
	return ok > 0 ? 0 : -1;
}

int restore_timers_arm(struct restore_proc *c)
{
	const struct img_pstate *s = &c->proc->proc.ks;
	uint32_t i;

	/* first: the pending ones' signals would be in the takes' way */
	for (i = 0; i < s->nr_timers; i++)
		if (overrun_kept(&s->timers[i]) &&
		    img_timer_cpu_late(&s->timers[i]) &&
		    arm_overrun(c, &s->timers[i]))
			return -1;
	if (relive(c, 0))
		return -1;
	for (i = 0; i < s->nr_timers; i++)
		if (arm(c, &s->timers[i]))
			return -1;
	return 0;
}
