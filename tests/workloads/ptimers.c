/*
 * ptimers.c - POSIX timers (timer_create) of every clock and kind of
 * notification, which must come back with their ids, clocks, signals,
 * values, intervals and time left:
 *   0 CLOCK_MONOTONIC, SIGRTMIN to the process, every 50 ms;
 *   1 CLOCK_REALTIME, SIGRTMIN+1 to the second thread, once in 1000 s;
 *   2 CLOCK_BOOTTIME, no notification, in 500 s then every 7 s;
 *   3 CLOCK_PROCESS_CPUTIME_ID, SIGRTMIN+2, every 10 ms of CPU time;
 *   4 the second thread's CPU clock (pthread_getcpuclockid), made by it,
 *     SIGRTMIN+3 to it, every 5 ms of its CPU time;
 *   5 the main thread's CPU clock (pthread_getcpuclockid), none, in 100 s;
 *   6 glibc's SIGEV_THREAD (a helper thread runs a function) every 30 ms;
 *   7 CLOCK_MONOTONIC, SIGRTMIN+4 blocked everywhere, in 10 ms then every
 *     second: its signal stays pending, exactly once (the kernel rearms a
 *     timer when its signal is delivered, not before);
 *   8 CLOCK_THREAD_CPUTIME_ID of a third thread, which sleeps: none, in
 *     100 s; the main thread's CPU time must not count on it.
 * A timer made and deleted first leaves a gap in the ids. At D/restored
 * (the original: at D/stop) each must have its settings, the ticking ones
 * must tick on, and timer 7's signal be pending once more than a second
 * later. With the argument "disarmed", see disarmed_main().
 */
#include <pthread.h>
#include <signal.h>

#include "workload.h"

#define NT	9
#define SEC	1000000000LL

static timer_t tid[NT];
static volatile unsigned long ticks[NT];
static pthread_t second, idle;
static volatile int second_ready;

static void on_signal(int sig, siginfo_t *si, void *uc)
{
	(void)sig;
	(void)uc;
	if (si->si_code == SI_TIMER && si->si_value.sival_int >= 0 &&
	    si->si_value.sival_int < NT)
		ticks[si->si_value.sival_int]++;
}

static void on_thread(union sigval v)
{
	ticks[v.sival_int]++;
}

/* nanosleep that a handler may interrupt */
static void nap_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) && errno == EINTR)
		;
}

static void spin_ms(long ms, clockid_t clk)
{
	uint64_t end = wl_now_ns(clk) + ms * 1000000ULL;

	while (wl_now_ns(clk) < end)
		;
}

static void make(int i, clockid_t clk, int notify, int sig, pid_t to,
		 long long value, long long interval)
{
	struct sigevent ev;
	struct itimerspec its = {
		{ interval / SEC, interval % SEC }, { value / SEC, value % SEC },
	};

	memset(&ev, 0, sizeof(ev));
	ev.sigev_notify = notify;
	ev.sigev_signo = sig;
	ev.sigev_value.sival_int = i;
	ev._sigev_un._tid = to;
	if (notify == SIGEV_THREAD)
		ev.sigev_notify_function = on_thread;
	if (timer_create(clk, &ev, &tid[i]) ||
	    timer_settime(tid[i], 0, &its, NULL))
		wl_fail("timer %d: %s", i, strerror(errno));
}

static volatile int idle_ready;

static void *idle_main(void *arg)
{
	(void)arg;
	make(8, CLOCK_THREAD_CPUTIME_ID, SIGEV_NONE, 0, 0, 100 * SEC, 0);
	idle_ready = 1;
	for (;;)
		pause();
	return NULL;
}

static void *second_main(void *arg)
{
	clockid_t own;

	(void)arg;
	if (pthread_getcpuclockid(pthread_self(), &own))
		wl_fail("pthread_getcpuclockid");
	make(4, own, SIGEV_THREAD_ID, SIGRTMIN + 3, wl_gettid(), 5000000,
	     5000000);
	second_ready = wl_gettid();
	for (;;) {
		spin_ms(1, CLOCK_THREAD_CPUTIME_ID);
		nap_ms(5);
	}
	return NULL;
}

static void setup(void)
{
	struct sigaction sa;
	clockid_t own;
	sigset_t set;
	timer_t gap;
	int i;

	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = on_signal;
	sa.sa_flags = SA_SIGINFO | SA_RESTART;
	for (i = 0; i <= 4; i++)
		if (sigaction(SIGRTMIN + i, &sa, NULL))
			wl_fail("sigaction: %s", strerror(errno));
	sigemptyset(&set);
	sigaddset(&set, SIGRTMIN + 4);
	pthread_sigmask(SIG_BLOCK, &set, NULL);	/* inherited by threads */
	if (timer_create(CLOCK_MONOTONIC, NULL, &gap) || timer_delete(gap))
		wl_fail("gap timer: %s", strerror(errno));
	if (pthread_create(&second, NULL, second_main, NULL) ||
	    pthread_create(&idle, NULL, idle_main, NULL))
		wl_fail("pthread_create");
	while (!second_ready || !idle_ready)
		nap_ms(1);
	make(0, CLOCK_MONOTONIC, SIGEV_SIGNAL, SIGRTMIN, 0, 50000000, 50000000);
	make(1, CLOCK_REALTIME, SIGEV_THREAD_ID, SIGRTMIN + 1, second_ready,
	     1000 * SEC, 0);
	make(2, CLOCK_BOOTTIME, SIGEV_NONE, 0, 0, 500 * SEC, 7 * SEC);
	make(3, CLOCK_PROCESS_CPUTIME_ID, SIGEV_SIGNAL, SIGRTMIN + 2, 0,
	     10000000, 10000000);
	if (pthread_getcpuclockid(pthread_self(), &own))
		wl_fail("pthread_getcpuclockid");
	make(5, own, SIGEV_NONE, 0, 0, 100 * SEC, 0);
	make(6, CLOCK_MONOTONIC, SIGEV_THREAD, 0, 0, 30000000, 30000000);
	make(7, CLOCK_MONOTONIC, SIGEV_SIGNAL, SIGRTMIN + 4, 0, 10000000,
	     SEC);
}

static long long left(int i, long long *interval)
{
	struct itimerspec its;

	if (timer_gettime(tid[i], &its))
		wl_fail("timer_gettime of timer %d (id %ld): %s", i,
			(long)tid[i], strerror(errno));
	*interval = its.it_interval.tv_sec * SEC + its.it_interval.tv_nsec;
	return its.it_value.tv_sec * SEC + its.it_value.tv_nsec;
}

static void check_settings(void)
{
	long long v, iv;

	v = left(1, &iv);
	if (v <= 900 * SEC || v > 1000 * SEC || iv)
		wl_fail("timer 1: %lld ns left, interval %lld", v, iv);
	v = left(2, &iv);
	if (v <= 400 * SEC || v > 500 * SEC || iv != 7 * SEC)
		wl_fail("timer 2: %lld ns left, interval %lld", v, iv);
	v = left(5, &iv);
	if (v <= 90 * SEC || v > 100 * SEC || iv)
		wl_fail("timer 5: %lld ns left, interval %lld", v, iv);
	v = left(0, &iv);
	if (v <= 0 || iv != 50000000)
		wl_fail("timer 0: %lld ns left, interval %lld", v, iv);
	/* the idle thread's clock: still while the main thread runs */
	v = left(8, &iv);
	spin_ms(20, CLOCK_THREAD_CPUTIME_ID);
	if (v - left(8, &iv) > 10000000 || v > 100 * SEC)
		wl_fail("timer 8 counts another thread's CPU time");
}

/* timer 7's signal: pending once, a second later too (a timer with its
 * signal queued is not rearmed), and then not */
static void check_pending(void)
{
	struct timespec zero = { 0, 0 };
	siginfo_t si;
	sigset_t set;

	nap_ms(1500);

	sigemptyset(&set);
	sigaddset(&set, SIGRTMIN + 4);
	if (sigtimedwait(&set, &si, &zero) != SIGRTMIN + 4 ||
	    si.si_code != SI_TIMER || si.si_value.sival_int != 7 ||
	    si.si_timerid != (int)(long)tid[7])
		wl_fail("timer 7's signal is not pending: %s", strerror(errno));
	if (sigtimedwait(&set, &si, &zero) >= 0)
		wl_fail("timer 7's signal was pending twice");
}

static int ticked(void *arg)
{
	const unsigned long *seen = arg;
	int i;

	for (i = 0; i < NT; i++)
		if ((i == 0 || i == 3 || i == 4 || i == 6) &&
		    ticks[i] <= seen[i])
			return 0;
	return 1;
}

static void check(void)
{
	unsigned long seen[NT];
	int i;

	check_settings();
	check_pending();
	for (i = 0; i < NT; i++)
		seen[i] = ticks[i];
	for (i = 0; i < 3000 && !ticked(seen); i++) {
		spin_ms(2, CLOCK_THREAD_CPUTIME_ID);
		nap_ms(10);
	}
	for (i = 0; i < NT; i++)
		if ((i == 0 || i == 3 || i == 4 || i == 6) &&
		    ticks[i] <= seen[i])
			wl_fail("timer %d does not tick (%lu)", i, ticks[i]);
}

/* With "disarmed": only a disarmed timer on the CPU clock of the thread
 * that made it (not the main one), which sleeps: armed after the restore
 * (the original: at D/stop), its time left must not shrink while the
 * main thread runs. */
static void *disarmed_main(void *arg)
{
	(void)arg;
	make(0, CLOCK_THREAD_CPUTIME_ID, SIGEV_NONE, 0, 0, 0, 0);
	idle_ready = 1;
	for (;;)
		pause();
	return NULL;
}

static void check_disarmed(void)
{
	struct itimerspec its, off;
	long long v, iv;

	memset(&off, 0, sizeof(off));
	memset(&its, 0, sizeof(its));
	its.it_value.tv_sec = 100;
	if (left(0, &iv) || iv)
		wl_fail("timer 0 is not disarmed");
	if (timer_settime(tid[0], 0, &its, NULL))
		wl_fail("timer_settime: %s", strerror(errno));
	spin_ms(20, CLOCK_THREAD_CPUTIME_ID);
	v = left(0, &iv);
	if (v != 100 * SEC)
		wl_fail("timer 0 counts the main thread's CPU time: %lld ns left",
			v);
	if (timer_settime(tid[0], 0, &off, NULL))
		wl_fail("timer_settime: %s", strerror(errno));
}

int main(int argc, char **argv)
{
	void (*checker)(void) = argc > 1 ? check_disarmed : check;
	unsigned long n = 0;
	int fd, checked = 0;

	wl_init();
	if (argc > 1) {
		if (pthread_create(&idle, NULL, disarmed_main, NULL))
			wl_fail("pthread_create");
		while (!idle_ready)
			nap_ms(1);
	} else {
		setup();
	}
	fd = wl_count_open();
	for (;;) {
		wl_count_write(fd, n++);
		if (n == 5)
			wl_ready();
		if (n > 5 && wl_should_stop())
			break;
		if (!checked && wl_restored()) {
			checker();
			checked = 1;
		}
		spin_ms(2, CLOCK_THREAD_CPUTIME_ID);
		nap_ms(20);
	}
	if (!checked)
		checker();
	return 0;
}
