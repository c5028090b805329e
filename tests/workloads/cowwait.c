/*
 * cowwait.c - a process that waits for any child all the time, for
 * attach --cow: the snapshot child that each dump makes in it must never
 * be seen by its waits, nor send it a SIGCHLD.
 *
 * It forks one child of its own, which lives until D/stop. A thread
 * waits for any child (waitpid(-1, __WALL | WUNTRACED | WCONTINUED),
 * blocked in the kernel, woken by any change of any child), and the
 * counting thread asks the same with WNOHANG at each line of D/count.
 * At D/stop: no wait may have reported a process but the child, no
 * SIGCHLD may have come (the child has not exited yet); then the child
 * is let go (D/kidgo, removed again once it has ended) and the waiting
 * thread must see its exit, status 0.
 */
#include <sys/wait.h>
#include <pthread.h>
#include <signal.h>

#include "workload.h"

static pid_t kid;
static volatile sig_atomic_t sigchld;
static pid_t seen;		/* a process reported that is not kid */
static int kid_status = -1;	/* kid's exit as the waiting thread saw it */

static void on_chld(int sig)
{
	(void)sig;
	sigchld++;
}

/* Any report of a process that is not kid is remembered. */
static int report(pid_t r, int st)
{
	if (r == kid && (WIFEXITED(st) || WIFSIGNALED(st))) {
		__atomic_store_n(&kid_status, st, __ATOMIC_RELEASE);
		return 1;
	}
	if (r > 0 && r != kid)
		__atomic_store_n(&seen, r, __ATOMIC_RELEASE);
	return 0;
}

static void *waiter(void *arg)
{
	int st;
	pid_t r;

	for (;;) {
		r = waitpid(-1, &st, __WALL | WUNTRACED | WCONTINUED);
		if (r < 0 && errno == EINTR)
			continue;
		/* the other thread saw kid's exit */
		if (r < 0 && errno == ECHILD &&
		    __atomic_load_n(&kid_status, __ATOMIC_ACQUIRE) != -1)
			return arg;
		if (r < 0)
			wl_fail("waitpid: %s", strerror(errno));
		if (report(r, st))
			return arg;
	}
}

int main(void)
{
	struct sigaction sa = { .sa_handler = on_chld, .sa_flags = SA_RESTART };
	unsigned long n = 0;
	char p[PATH_MAX];
	pthread_t th;
	int fd, st;
	pid_t r;

	wl_init();
	if (sigaction(SIGCHLD, &sa, NULL))
		wl_fail("sigaction: %s", strerror(errno));
	kid = fork();
	if (kid < 0)
		wl_fail("fork: %s", strerror(errno));
	if (!kid) {
		while (!wl_exists("kidgo"))
			wl_sleep_ms(50);
		_exit(0);
	}
	if (pthread_create(&th, NULL, waiter, NULL))
		wl_fail("pthread_create failed");
	fd = wl_count_open();
	while (!wl_count_step(fd, &n)) {
		r = waitpid(-1, &st, __WALL | WUNTRACED | WCONTINUED | WNOHANG);
		if (r < 0 && errno != EINTR)
			wl_fail("waitpid WNOHANG: %s", strerror(errno));
		report(r, st);
		wl_sleep_ms(20);
	}
	if (seen)
		wl_fail("a wait reported process %d, not my child %d", seen,
			kid);
	if (sigchld)
		wl_fail("%d SIGCHLD before my child exited", (int)sigchld);
	wl_write_file("kidgo", "", 0);
	pthread_join(th, NULL);
	if (unlink(wl_path(p, "kidgo")))
		wl_fail("unlink %s: %s", p, strerror(errno));
	if (kid_status != 0)
		wl_fail("my child %d ended with status %#x", kid, kid_status);
	return 0;
}
