/*
 * procfiles.c - /proc files of another process of the tree and of a
 * thread (dump it with --tree).
 *
 * It holds /proc/K/status of its child K (5 bytes read: offset 5) and
 * /proc/PID/task/T/comm of its second thread T, named "second". Once
 * (after restore, or at D/stop) the first must still be K's at offset 5,
 * the second T's. At the end K is killed and reaped.
 */
#include <sys/prctl.h>
#include <sys/wait.h>
#include <pthread.h>
#include <signal.h>

#include "workload.h"

static pid_t kid, tid2;
static int ks, tc;

static void *second(void *arg)
{
	(void)arg;
	if (prctl(PR_SET_NAME, "second"))
		wl_fail("PR_SET_NAME: %s", strerror(errno));
	tid2 = wl_gettid();
	for (;;)
		pause();
	return NULL;
}

static int open_proc(const char *fmt, int a, int b)
{
	char p[64];
	int fd;

	snprintf(p, sizeof(p), fmt, a, b);
	fd = open(p, O_RDONLY);
	if (fd < 0)
		wl_fail("open %s: %s", p, strerror(errno));
	return fd;
}

static void check(void)
{
	char buf[4096], want[32];
	ssize_t n;

	if (lseek(ks, 0, SEEK_CUR) != 5)
		wl_fail("K's status at offset %ld, want 5",
			(long)lseek(ks, 0, SEEK_CUR));
	n = pread(ks, buf, sizeof(buf) - 1, 0);
	buf[n > 0 ? n : 0] = '\0';
	snprintf(want, sizeof(want), "\nPid:\t%d\n", (int)kid);
	if (!strstr(buf, want))
		wl_fail("the status fd is not K's");
	n = pread(tc, buf, sizeof(buf) - 1, 0);
	if (n != 7 || memcmp(buf, "second\n", 7))
		wl_fail("the comm fd is not T's: '%.*s'", (int)(n > 0 ? n : 0),
			buf);
}

int main(void)
{
	pthread_t t;
	char buf[5];

	wl_init();
	if (pthread_create(&t, NULL, second, NULL))
		wl_fail("pthread_create failed");
	while (!tid2)
		wl_sleep_ms(1);
	kid = fork();
	if (kid < 0)
		wl_fail("fork: %s", strerror(errno));
	if (!kid)
		for (;;)
			pause();
	ks = open_proc("/proc/%d/status", kid, 0);
	if (read(ks, buf, 5) != 5)
		wl_fail("read K's status: %s", strerror(errno));
	tc = open_proc("/proc/%d/task/%d/comm", getpid(), tid2);
	wl_count_checked(check);
	if (kill(kid, SIGKILL) || waitpid(kid, NULL, 0) != kid)
		wl_fail("ending K: %s", strerror(errno));
	return 0;
}
