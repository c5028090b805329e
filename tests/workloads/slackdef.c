/*
 * slackdef.c - default timer slack, the one PR_SET_TIMERSLACK of 0 goes
 * back to, which a task takes from its creator's slack when made: the
 * workload P sets its slack to 222222 ns and forks C (default 222222),
 * the process dumped; C sets its own to 333333 and makes a thread T
 * (default 333333), which sets its own to 444444. P waits for C. When
 * C sees D/restored (at D/stop in the original) each of C and T checks
 * its slack, sets 0, checks it got its default back, and sets its slack
 * again.
 */
#include <sys/prctl.h>
#include <sys/wait.h>
#include <pthread.h>

#include "workload.h"

static volatile int check_now, thread_checked;

static void check_slack(const char *who, long slack, long dflt)
{
	long v = prctl(PR_GET_TIMERSLACK);

	if (v != slack)
		wl_fail("%s: timer slack %ld, want %ld", who, v, slack);
	if (prctl(PR_SET_TIMERSLACK, 0))
		wl_fail("%s: PR_SET_TIMERSLACK 0: %s", who, strerror(errno));
	v = prctl(PR_GET_TIMERSLACK);
	if (v != dflt)
		wl_fail("%s: default timer slack %ld, want %ld", who, v, dflt);
	if (prctl(PR_SET_TIMERSLACK, slack))
		wl_fail("%s: PR_SET_TIMERSLACK: %s", who, strerror(errno));
}

static void *thread(void *arg)
{
	(void)arg;
	if (prctl(PR_SET_TIMERSLACK, 444444))
		wl_fail("thread: PR_SET_TIMERSLACK: %s", strerror(errno));
	while (!check_now)
		wl_sleep_ms(10);
	check_slack("thread", 444444, 333333);
	thread_checked = 1;
	for (;;)
		wl_sleep_ms(100);
	return NULL;
}

static void check(void)
{
	check_slack("process", 333333, 222222);
	check_now = 1;
	while (!thread_checked)
		wl_sleep_ms(10);
}

int main(void)
{
	pthread_t th;
	int st;
	pid_t c;

	wl_init();
	if (prctl(PR_SET_TIMERSLACK, 222222))
		wl_fail("PR_SET_TIMERSLACK: %s", strerror(errno));
	c = fork();
	if (c < 0)
		wl_fail("fork: %s", strerror(errno));
	if (c > 0) {
		/* P: gone with C (killed by the dump, or done), with its
		 * verdict */
		while (waitpid(c, &st, 0) < 0 && errno == EINTR)
			;
		return WIFEXITED(st) ? WEXITSTATUS(st) : 1;
	}
	if (prctl(PR_SET_TIMERSLACK, 333333))
		wl_fail("PR_SET_TIMERSLACK: %s", strerror(errno));
	if (pthread_create(&th, NULL, thread, NULL))
		wl_fail("pthread_create");
	wl_count_checked(check);
	return 0;
}
