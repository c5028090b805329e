/*
 * timers.c - interval timers and no_new_privs.
 *
 * ITIMER_REAL ticks every 2 ms, shorter than any dump, so that it fires
 * while the process is frozen: the dump then sees it with 0 left and a
 * SIGALRM pending, the case where the kernel re-arms it only as the signal
 * is taken. The main thread waits for ticks in pause() (so it is usually
 * blocked there at dump time) and appends a count line every 10 ticks:
 * without the timer restored, pause() never returns and the count stops
 * growing. ITIMER_VIRTUAL is armed far in the future and must
 * still be armed after restore. PR_SET_NO_NEW_PRIVS must survive too.
 */
#include <sys/prctl.h>
#include <sys/time.h>
#include <signal.h>

#include "workload.h"

static volatile sig_atomic_t ticks;

static void on_alarm(int sig)
{
	(void)sig;
	ticks++;
}

int main(void)
{
	struct itimerval real = { { 0, 2000 }, { 0, 2000 } };
	struct itimerval virt = { { 0, 0 }, { 1000, 0 } }, now;
	struct sigaction sa;
	unsigned long n = 0;
	sig_atomic_t seen = 0;
	int fd;

	wl_init();
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_alarm;
	sigemptyset(&sa.sa_mask);
	sa.sa_flags = SA_RESTART;
	if (sigaction(SIGALRM, &sa, NULL) ||
	    prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) ||
	    setitimer(ITIMER_VIRTUAL, &virt, NULL) ||
	    setitimer(ITIMER_REAL, &real, NULL))
		wl_fail("setup: %s", strerror(errno));
	fd = wl_count_open();
	for (;;) {
		while (ticks - seen < 10)
			pause();
		seen = ticks;
		if (wl_count_step(fd, &n))
			break;
	}
	if (getitimer(ITIMER_VIRTUAL, &now))
		wl_fail("getitimer: %s", strerror(errno));
	if (!now.it_value.tv_sec && !now.it_value.tv_usec)
		wl_fail("ITIMER_VIRTUAL is no longer armed");
	if (now.it_value.tv_sec > 1000)
		wl_fail("ITIMER_VIRTUAL is %ld s, more than it was set to",
			(long)now.it_value.tv_sec);
	if (prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0) != 1)
		wl_fail("no_new_privs is not set any more");
	if (wl_count_lines() != n)
		wl_fail("count file has %lu lines, the counter is at %lu",
			wl_count_lines(), n);
	return 0;
}
