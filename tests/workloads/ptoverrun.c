/*
 * ptoverrun.c - the overrun count of a POSIX timer's last expiry, which
 * must come back: a CLOCK_TAI timer every 1000 s, its signal blocked, is
 * set to an absolute time 3500 s past; its signal, taken at once with
 * sigtimedwait(), rearms it with 3 overruns, 500 s before its next
 * expiry. At D/restored (the original: at D/stop) timer_getoverrun()
 * must read 3 and the time left be under 500 s and over 400 s.
 * With the argument "refused", a second timer every 100 ms, made the same
 * way, fires again 50 ms later: its signal stays queued, blocked, with
 * 3 overruns, which ckpt refuses to dump.
 * With "realtime", three CLOCK_REALTIME timers besides: 2 made as timer 0
 * (absolute, every 1000 s, 3 overruns), 3 relative in 900 s, 4 absolute
 * in 800 s. Absolute ones must keep their time of day and relative ones
 * stay relative, which only /proc/timer_list shows (root's): the kernel
 * queues a relative CLOCK_REALTIME timer on CLOCK_MONOTONIC's base
 * (".index: 0") and an absolute one on CLOCK_REALTIME's (1).
 * With "rtrelive", CLOCK_REALTIME timers whose state no system call
 * shows, each checked at D/restored: 5 relative, every 4 s, its
 * signal taken 1.1 intervals late (overrun 1, which must still read 1);
 * 6 relative, every 300 ms, and 7 absolute, every 1000 s, each fired
 * once with its signal left queued and blocked: taken at the check,
 * its overrun count must be what timer_getoverrun() then reads, and it
 * must be queued again on its base (7 at its next expiry).
 * With "rtrefused", timer 6 as above, its signal left queued 10.5 s
 * before the workload is ready: ckpt must refuse it (restore would wait
 * that long to give it back).
 * With "rtnone", CLOCK_REALTIME timers that notify nobody, which the
 * kernel never queues: 6 absolute in 900 s, 7 relative in 800 s; each
 * must keep its time left (the test dumps the restored process again
 * and finds 6 absolute, 7 not, in the image).
 * With "cpu", timer 5 on the process's CPU clock, every 20 ms, made as
 * timer 0 (overrun 3), which must read 3 and have at most 20 ms left.
 */
#include <signal.h>

#include "workload.h"

#define SEC	1000000000LL

static timer_t tid[8];
static long long expiry[8];
static int realtime;	/* of the absolute ones, in their clock */
static const char *mode = "";

/* Timer i on clock clk with signal sig, blocked (in *set), or notifying
 * nobody (sig 0); its clock's time in *now */
static void new_timer(int i, clockid_t clk, int sig, sigset_t *set,
		      struct timespec *now)
{
	struct sigevent ev;

	memset(&ev, 0, sizeof(ev));
	ev.sigev_notify = sig ? SIGEV_SIGNAL : SIGEV_NONE;
	ev.sigev_signo = sig;
	sigemptyset(set);
	if (sig)
		sigaddset(set, sig);
	if (sigprocmask(SIG_BLOCK, set, NULL) ||
	    timer_create(clk, &ev, &tid[i]) ||
	    clock_gettime(clk, now))
		wl_fail("timer %d: %s", i, strerror(errno));
}

/* A timer on clock clk with signal sig, every iv ns, overrun 3 times. */
static void make(int i, clockid_t clk, int sig, long long iv)
{
	struct itimerspec its;
	struct timespec now, zero = { 0, 0 };
	long long at;
	sigset_t set;

	new_timer(i, clk, sig, &set, &now);
	at = now.tv_sec * SEC + now.tv_nsec - 7 * iv / 2;
	memset(&its, 0, sizeof(its));
	its.it_interval.tv_sec = iv / SEC;
	its.it_interval.tv_nsec = iv % SEC;
	its.it_value.tv_sec = at / SEC;
	its.it_value.tv_nsec = at % SEC;
	if (timer_settime(tid[i], TIMER_ABSTIME, &its, NULL))
		wl_fail("timer_settime %d: %s", i, strerror(errno));
	zero.tv_sec = 5;
	if (sigtimedwait(&set, NULL, &zero) != sig)
		wl_fail("timer %d did not fire: %s", i, strerror(errno));
	if (timer_getoverrun(tid[i]) != 3)
		wl_fail("timer %d: overrun %d, not 3", i,
			timer_getoverrun(tid[i]));
	expiry[i] = at + 4 * iv;
}

/* Timer i on CLOCK_REALTIME, in left ns, absolute or not, no signal
 * taken (SIGRTMIN + i, blocked), or notifying nobody (none). */
static void make_rt(int i, long long left, int absolute, int none)
{
	struct itimerspec its;
	struct timespec now;
	sigset_t set;
	long long at;

	new_timer(i, CLOCK_REALTIME, none ? 0 : SIGRTMIN + i, &set, &now);
	at = absolute ? now.tv_sec * SEC + now.tv_nsec + left : left;
	memset(&its, 0, sizeof(its));
	its.it_value.tv_sec = at / SEC;
	its.it_value.tv_nsec = at % SEC;
	if (timer_settime(tid[i], absolute ? TIMER_ABSTIME : 0, &its, NULL))
		wl_fail("timer_settime %d: %s", i, strerror(errno));
	expiry[i] = absolute ? at : 0;
}

static long long now_ns(clockid_t clk)
{
	struct timespec ts;

	clock_gettime(clk, &ts);
	return ts.tv_sec * SEC + ts.tv_nsec;
}

/* The base (0 or 1) whose posix_timer_fn expires within [lo, hi] of its
 * own clock, lo[b] / hi[b] for base b; -1 if neither or both, and the
 * expiry found in *at. */
static int base_of(const long long lo[2], const long long hi[2],
		   long long *at)
{
	static char buf[1 << 20];
	char *p, *end;
	long long e;
	int idx = -1, fn = 0, found = -1, n = 0;
	FILE *f = fopen("/proc/timer_list", "r");
	size_t len;

	if (!f)
		wl_fail("/proc/timer_list: %s", strerror(errno));
	len = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[len] = 0;
	for (p = buf; *p; p = *end ? end + 1 : end) {
		end = p + strcspn(p, "\n");
		if (sscanf(p, " .index: %d", &idx) == 1) {
			fn = 0;
		} else if (sscanf(p, " # expires at %lld-", &e) == 1) {
			if (fn && (idx & 3) < 2 && e >= lo[idx & 3] &&
			    e <= hi[idx & 3]) {
				found = idx & 3;
				*at = e;
				n++;
			}
			fn = 0;
		} else {
			fn = memmem(p, end - p, ", posix_timer_fn,", 17) != NULL;
		}
	}
	return n == 1 ? found : -1;
}

/* Timer i's base and, when absolute, its expiry, as made. */
static void check_kind(int i)
{
	struct itimerspec its;
	long long lo[2], hi[2], left, at = 0;
	int b;

	lo[1] = now_ns(CLOCK_REALTIME);
	lo[0] = now_ns(CLOCK_MONOTONIC);
	if (timer_gettime(tid[i], &its))
		wl_fail("timer_gettime %d: %s", i, strerror(errno));
	hi[0] = now_ns(CLOCK_MONOTONIC);
	hi[1] = now_ns(CLOCK_REALTIME);
	left = its.it_value.tv_sec * SEC + its.it_value.tv_nsec;
	lo[0] += left, hi[0] += left, lo[1] += left, hi[1] += left;
	b = base_of(lo, hi, &at);
	if (b != !!expiry[i] || (expiry[i] && at != expiry[i]))
		wl_fail("timer %d: on base %d expiring at %lld, want %s %lld",
			i, b, at, expiry[i] ? "absolute at" : "relative",
			expiry[i]);
}

/* Timer 5, relative on CLOCK_REALTIME every 4 s, its signal taken 1.1
 * intervals late: overrun 1 (again if the wait ran over), and 3.6 s
 * before it fires again, for the dump (restore waits 4.4 s). */
static void make_late(void)
{
	struct itimerspec its = { { 4, 0 }, { 0, 10000000 } };
	struct timespec zero = { 0, 0 }, now;
	sigset_t set;
	int tries;

	new_timer(5, CLOCK_REALTIME, SIGRTMIN + 5, &set, &now);
	for (tries = 0; tries < 20; tries++) {
		if (timer_settime(tid[5], 0, &its, NULL))
			wl_fail("timer_settime 5: %s", strerror(errno));
		wl_sleep_ms(10 + 4400);
		if (sigtimedwait(&set, NULL, &zero) != SIGRTMIN + 5)
			wl_fail("timer 5 did not fire: %s", strerror(errno));
		if (timer_getoverrun(tid[5]) == 1)
			return;
	}
	wl_fail("timer 5: overrun %d, not 1", timer_getoverrun(tid[5]));
}

/* Timer i on CLOCK_REALTIME, in 10 ms then every iv ns, absolute or
 * not, fired once, its signal (SIGRTMIN + i, blocked) left queued */
static void make_queued(int i, long long iv, int absolute)
{
	struct itimerspec its;
	struct timespec now;
	long long at = 10000000;
	sigset_t set, pend;

	new_timer(i, CLOCK_REALTIME, SIGRTMIN + i, &set, &now);
	if (absolute)
		at += now.tv_sec * SEC + now.tv_nsec;
	memset(&its, 0, sizeof(its));
	its.it_interval.tv_sec = iv / SEC;
	its.it_interval.tv_nsec = iv % SEC;
	its.it_value.tv_sec = at / SEC;
	its.it_value.tv_nsec = at % SEC;
	if (timer_settime(tid[i], absolute ? TIMER_ABSTIME : 0, &its, NULL))
		wl_fail("timer_settime %d: %s", i, strerror(errno));
	expiry[i] = absolute ? at + iv : 0;	/* the next, once taken */
	do {
		wl_sleep_ms(20);
		sigpending(&pend);
	} while (!sigismember(&pend, SIGRTMIN + i));
}

/* Queued timer i's signal taken: its count, and the timer on its base */
static void take_queued(int i)
{
	struct timespec zero = { 0, 0 };
	siginfo_t si;
	sigset_t set;
	int tries;

	sigemptyset(&set);
	sigaddset(&set, SIGRTMIN + i);
	if (sigtimedwait(&set, &si, &zero) != SIGRTMIN + i)
		wl_fail("timer %d: no signal queued", i);
	if (si.si_code != SI_TIMER || si.si_overrun != timer_getoverrun(tid[i]))
		wl_fail("timer %d: code %d, overrun %d, timer_getoverrun %d", i,
			si.si_code, si.si_overrun, timer_getoverrun(tid[i]));
	/* queued on its base until it fires again (300 ms for 6) */
	for (tries = 0; i == 6 && tries < 50; tries++) {
		struct itimerspec its;

		if (timer_gettime(tid[i], &its) || its.it_value.tv_sec ||
		    its.it_value.tv_nsec > 100000000)
			break;
		wl_sleep_ms(its.it_value.tv_nsec / 1000000 + 5);
		sigtimedwait(&set, NULL, &zero);
	}
	check_kind(i);
}

/* Timer i's time left: to its expiry (absolute), or at most left */
static void check_left(int i, long long left)
{
	struct itimerspec its;
	long long v, want;

	if (timer_gettime(tid[i], &its))
		wl_fail("timer_gettime %d: %s", i, strerror(errno));
	v = its.it_value.tv_sec * SEC + its.it_value.tv_nsec;
	want = expiry[i] ? expiry[i] - now_ns(CLOCK_REALTIME) : left;
	if (v > want + SEC || v < want - 60 * SEC || v <= 0)
		wl_fail("timer %d: %lld ns left, want about %lld", i, v, want);
}

static void check_mode(void)
{
	struct itimerspec its;
	int n;

	if (!strcmp(mode, "rtnone")) {
		check_left(6, 900 * SEC);
		check_left(7, 800 * SEC);
	} else if (!strcmp(mode, "rtrelive")) {
		if (timer_getoverrun(tid[5]) != 1)
			wl_fail("timer 5: overrun %d, not 1",
				timer_getoverrun(tid[5]));
		take_queued(6);
		take_queued(7);
	} else if (!strcmp(mode, "cpu")) {
		n = timer_getoverrun(tid[5]);
		if (timer_gettime(tid[5], &its))
			wl_fail("timer_gettime 5: %s", strerror(errno));
		if (n != 3 || its.it_value.tv_sec ||
		    its.it_value.tv_nsec > 20000000 ||
		    (!its.it_value.tv_sec && !its.it_value.tv_nsec))
			wl_fail("timer 5: overrun %d, %ld ns left", n,
				its.it_value.tv_nsec);
	}
}

static void check(void)
{
	struct itimerspec its;
	long long left;
	int n = timer_getoverrun(tid[0]);

	if (timer_gettime(tid[0], &its))
		wl_fail("timer_gettime: %s", strerror(errno));
	left = its.it_value.tv_sec * SEC + its.it_value.tv_nsec;
	if (n != 3 || left > 500 * SEC || left < 400 * SEC ||
	    its.it_interval.tv_sec != 1000)
		wl_fail("timer 0: overrun %d, %lld ns left, interval %ld s",
			n, left, (long)its.it_interval.tv_sec);
	check_mode();
	if (!realtime)
		return;
	if (timer_getoverrun(tid[2]) != 3)
		wl_fail("timer 2: overrun %d, not 3", timer_getoverrun(tid[2]));
	check_kind(2);
	check_kind(3);
	check_kind(4);
}

int main(int argc, char **argv)
{
	wl_init();
	if (argc > 1)
		mode = argv[1];
	make(0, CLOCK_TAI, SIGRTMIN + 1, 1000 * SEC);
	if (!strcmp(mode, "rtrelive")) {
		make_late();	/* first: 6's signal is queued for less */
		make_queued(6, 300000000, 0);
		make_queued(7, 1000 * SEC, 1);
	}
	if (!strcmp(mode, "rtnone")) {
		make_rt(6, 900 * SEC, 1, 1);
		make_rt(7, 800 * SEC, 0, 1);
	}
	if (!strcmp(mode, "rtrefused")) {
		make_queued(6, 300000000, 0);
		wl_sleep_ms(10500);
	}
	if (!strcmp(mode, "cpu")) {
		struct timespec cpu;

		do	/* the clock must have run 3.5 intervals */
			clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &cpu);
		while (cpu.tv_sec == 0 && cpu.tv_nsec < 100000000);
		make(5, CLOCK_PROCESS_CPUTIME_ID, SIGRTMIN + 5, 20000000);
	}
	if (argc > 1 && !strcmp(argv[1], "refused"))
		make(1, CLOCK_TAI, SIGRTMIN + 2, SEC / 10);
	if (argc > 1 && !strcmp(argv[1], "realtime")) {
		make(2, CLOCK_REALTIME, SIGRTMIN + 2, 1000 * SEC);
		make_rt(3, 900 * SEC, 0, 0);
		make_rt(4, 800 * SEC, 1, 0);
		realtime = 1;
		check();	/* as made */
	}
	wl_count_checked(check);
	return 0;
}
