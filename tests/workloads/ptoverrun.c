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
 */
#include <signal.h>

#include "workload.h"

#define SEC	1000000000LL

static timer_t tid[2];

/* A timer on CLOCK_TAI with signal sig, every iv ns, overrun 3 times. */
static void make(int i, int sig, long long iv)
{
	struct sigevent ev;
	struct itimerspec its;
	struct timespec now, zero = { 0, 0 };
	long long at;
	sigset_t set;

	memset(&ev, 0, sizeof(ev));
	ev.sigev_notify = SIGEV_SIGNAL;
	ev.sigev_signo = sig;
	sigemptyset(&set);
	sigaddset(&set, sig);
	if (sigprocmask(SIG_BLOCK, &set, NULL) ||
	    timer_create(CLOCK_TAI, &ev, &tid[i]) ||
	    clock_gettime(CLOCK_TAI, &now))
		wl_fail("timer %d: %s", i, strerror(errno));
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
}

int main(int argc, char **argv)
{
	wl_init();
	make(0, SIGRTMIN + 1, 1000 * SEC);
	if (argc > 1 && !strcmp(argv[1], "refused"))
		make(1, SIGRTMIN + 2, SEC / 10);
	wl_count_checked(check);
	return 0;
}
