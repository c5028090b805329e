/*
 * cputick.c - a CPU timer that has expired and not fired yet (CPU timers
 * fire on a tick of the thread whose clock they count) must come back
 * so, with its overrun count. Thread B makes a timer on its own CPU
 * clock, every 50 ms, whose signal (SIGRTMIN + 3, blocked) it takes 3.5
 * intervals late: overrun 3. It then runs its clock until
 * timer_gettime() reads 1 ns (expired) and at once sleeps on a pipe,
 * where no tick of its own can fire the timer; if one did first (its
 * signal queued), it tries again. At D/restored (the original: at D/stop)
 * the timer must still read 1 ns left, overrun 3, nothing queued, or
 * have fired on B's first tick (B runs a little to get back into its
 * read after a restore): its signal queued, overrun 3 until delivered
 * (a timer restored with time left reads neither way); woken,
 * B runs until the signal comes (its first tick), whose overrun count
 * must be 0 as timer_getoverrun() then reads, the next expiry within
 * one interval.
 * With "queued", a signal of the timer's number is queued besides
 * (sigqueue), which restore's take could dequeue instead: ckpt must
 * refuse the timer.
 */
#include <pthread.h>
#include <signal.h>

#include "workload.h"

#define SEC	1000000000LL
#define IV	(SEC / 20)
#define SIG	(SIGRTMIN + 3)

static timer_t timer;
static int cmd[2];		/* main to B: 'r' try again, 'c' check */
static volatile pid_t b_tid;
static volatile int b_parked;	/* B says: about to sleep */
static int b_overrun = -1, b_si_overrun = -1;
static long long b_left = -1;

static long long left_ns(void)
{
	struct itimerspec its;

	if (timer_gettime(timer, &its))
		wl_fail("timer_gettime: %s", strerror(errno));
	return its.it_value.tv_sec * SEC + its.it_value.tv_nsec;
}

static sigset_t sig_set(void)
{
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, SIG);
	return set;
}

static int queued(void)
{
	sigset_t pend;

	sigpending(&pend);
	return sigismember(&pend, SIG);
}

/* Set 3.5 intervals back, its signal taken: overrun 3, half an interval
 * of B's CPU time left */
static void overrun3(void)
{
	struct itimerspec its = { { 0, IV }, { 0, 0 } };
	struct timespec zero = { 5, 0 };
	sigset_t set = sig_set();
	long long at = wl_now_ns(CLOCK_THREAD_CPUTIME_ID) - 7 * IV / 2;

	its.it_value.tv_sec = at / SEC;
	its.it_value.tv_nsec = at % SEC;
	if (timer_settime(timer, TIMER_ABSTIME, &its, NULL))
		wl_fail("timer_settime: %s", strerror(errno));
	if (sigtimedwait(&set, NULL, &zero) != SIG)
		wl_fail("the timer did not fire: %s", strerror(errno));
	if (timer_getoverrun(timer) != 3)
		wl_fail("overrun %d, not 3", timer_getoverrun(timer));
}

/* Woken for the check: run until the timer's tick queues its signal */
static void b_check(void)
{
	struct timespec zero = { 0, 0 };
	sigset_t set = sig_set();
	siginfo_t si;
	uint64_t start = wl_now_ns(CLOCK_THREAD_CPUTIME_ID);

	while (!queued())
		if (wl_now_ns(CLOCK_THREAD_CPUTIME_ID) - start > 2 * SEC)
			wl_fail("the expired timer never fired");
	if (sigtimedwait(&set, &si, &zero) != SIG)
		wl_fail("sigtimedwait: %s", strerror(errno));
	b_si_overrun = si.si_overrun;
	b_overrun = timer_getoverrun(timer);
	b_left = left_ns();
}

static void *thread_b(void *arg)
{
	struct sigevent ev;
	struct timespec zero = { 0, 0 };
	sigset_t set = sig_set();
	char c;

	(void)arg;
	b_tid = wl_gettid();
	memset(&ev, 0, sizeof(ev));
	ev.sigev_notify = SIGEV_SIGNAL;
	ev.sigev_signo = SIG;
	if (timer_create(CLOCK_THREAD_CPUTIME_ID, &ev, &timer))
		wl_fail("timer_create: %s", strerror(errno));
	while (wl_now_ns(CLOCK_THREAD_CPUTIME_ID) < 4 * IV)
		;	/* the clock must have run 3.5 intervals */
	for (;;) {
		overrun3();
		while (left_ns() != 1)
			;
		b_parked = 1;
		if (read(cmd[0], &c, 1) != 1)
			wl_fail("read: %s", strerror(errno));
		if (c == 'c')
			break;
		sigtimedwait(&set, NULL, &zero);	/* a tick's */
	}
	b_check();
	return NULL;
}

/* B asleep on the pipe, the timer expired and not fired */
static void park_b(void)
{
	int tries;

	for (tries = 0; tries < 50; tries++) {
		while (!b_parked || wl_state_of(b_tid) != 'S')
			wl_sleep_ms(5);
		if (!queued())
			return;
		b_parked = 0;
		if (write(cmd[1], "r", 1) != 1)
			wl_fail("write: %s", strerror(errno));
	}
	wl_fail("the timer fired before its thread slept, %d times", tries);
}

static pthread_t b;

static void check(void)
{
	long long left = left_ns();
	int n = timer_getoverrun(timer);

	if (n != 3 || (left != 1 && !queued()))
		wl_fail("before B runs: %lld ns left (want 1, or fired), overrun %d (want 3), signal %s",
			left, n, queued() ? "queued" : "not queued");
	if (write(cmd[1], "c", 1) != 1)
		wl_fail("write: %s", strerror(errno));
	pthread_join(b, NULL);
	if (b_si_overrun != 0 || b_overrun != 0 || b_left <= 0 ||
	    b_left > IV)
		wl_fail("fired: si_overrun %d, overrun %d (want 0), %lld ns left",
			b_si_overrun, b_overrun, b_left);
}

static void no_check(void)
{
}

int main(int argc, char **argv)
{
	sigset_t set = sig_set();
	union sigval v = { .sival_int = 7 };

	wl_init();
	if (pipe(cmd) || sigprocmask(SIG_BLOCK, &set, NULL))
		wl_fail("setup: %s", strerror(errno));
	if (pthread_create(&b, NULL, thread_b, NULL))
		wl_fail("pthread_create failed");
	park_b();
	if (argc > 1 && !strcmp(argv[1], "queued")) {
		if (sigqueue(getpid(), SIG, v))
			wl_fail("sigqueue: %s", strerror(errno));
		wl_count_checked(no_check);
		return 0;
	}
	wl_count_checked(check);
	return 0;
}
