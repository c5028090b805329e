/*
 * stopped.c - a process with two threads that the runner stops (SIGSTOP
 * or SIGTSTP) before the dump: it must come back stopped, every thread
 * (the runner checks /proc), and run on, every thread, once continued.
 * The threads tick; at D/stop each must have ticked since D/restored
 * was first seen, which the runner creates after the SIGCONT. In a
 * process group of its own, whose parent (the runner) is in another of
 * the same session, it is not in an orphaned group, which the kernel
 * would not stop by SIGTSTP.
 */
#include <pthread.h>

#include "workload.h"

static volatile unsigned long ticks[2];

static void *worker(void *arg)
{
	long i = (long)arg;

	for (;;) {
		ticks[i]++;
		wl_sleep_ms(5);
	}
	return NULL;
}

int main(void)
{
	unsigned long n = 0, seen[2] = { 0, 0 };
	pthread_t th[2];
	int fd, restored = 0;
	long i;

	wl_init();
	if (setpgid(0, 0))
		wl_fail("setpgid: %s", strerror(errno));
	for (i = 0; i < 2; i++)
		if (pthread_create(&th[i], NULL, worker, (void *)i))
			wl_fail("pthread_create");
	fd = wl_count_open();
	while (!wl_count_step(fd, &n)) {
		if (!restored && wl_restored()) {
			restored = 1;
			seen[0] = ticks[0];
			seen[1] = ticks[1];
		}
		wl_sleep_ms(20);
	}
	if (!restored)
		seen[0] = seen[1] = 0;
	for (i = 0; i < 2; i++)
		if (ticks[i] <= seen[i])
			wl_fail("thread %ld did not tick after D/restored", i);
	return 0;
}
