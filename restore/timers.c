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
 */
#include <sys/syscall.h>
#include <errno.h>
#include <string.h>
#include <time.h>

#include "restore/restore.h"

#ifndef PR_TIMER_CREATE_RESTORE_IDS
#define PR_TIMER_CREATE_RESTORE_IDS	77
#define PR_TIMER_CREATE_RESTORE_IDS_OFF	0
#define PR_TIMER_CREATE_RESTORE_IDS_ON	1
#endif
#define MAX_SEQUENTIAL	65536	/* ids made one by one, at most */
#define NS		1000000000ull

/* struct sigevent as the kernel reads it (64 bytes) */
struct ksigevent {
	uint64_t value;
	int32_t signo, notify;
	int32_t tid;
	int32_t pad[11];
};

/* The thread that makes timer t: its CPU clock's, or the leader. */
static int maker(const struct restore_proc *c, const struct img_timer *t)
{
	uint32_t i;

	for (i = 0; t->owner && i < c->proc->nr_threads; i++)
		if (c->proc->threads[i].tid == t->owner)
			return i;
	return 0;
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

int restore_timers_create(struct restore_proc *c)
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

static int arm(struct restore_proc *c, const struct img_timer *t)
{
	uint64_t value = t->value_ns, now;
	int64_t its[4];
	int flags = 0;

	if (!value && !t->pending)
		return 0;	/* disarmed */
	if (t->pending && !t->interval_ns) {
		value = 1;	/* a one-shot fired: any time past */
		flags = TIMER_ABSTIME;
	} else if (t->pending) {
		/* at once, and next when the image has it; a young CPU
		 * clock has not run an interval yet: next a little later */
		if (clock_now(c, t, &now))
			return -1;
		value = now + value > t->interval_ns ?
			now + value - t->interval_ns : now;
		flags = TIMER_ABSTIME;
	}
	its[0] = t->interval_ns / NS;
	its[1] = t->interval_ns % NS;
	its[2] = value / NS;
	its[3] = value % NS;
	if (inject_write(c->ip, inject_scratch(c->ip), its, sizeof(its)))
		return -1;
	return rcall(c, maker(c, t), "arm a POSIX timer", NULL,
		     SYS_timer_settime, t->id, flags, inject_scratch(c->ip), 0,
		     0, 0);
}

int restore_timers_arm(struct restore_proc *c)
{
	const struct img_pstate *s = &c->proc->proc.ks;
	uint32_t i;

	for (i = 0; i < s->nr_timers; i++)
		if (arm(c, &s->timers[i]))
			return -1;
	return 0;
}
