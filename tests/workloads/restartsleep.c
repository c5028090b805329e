/*
 * restartsleep.c - threads asleep for an hour in each call that
 * restart_syscall(2) continues after a stop and SIGCONT: nanosleep,
 * clock_nanosleep (relative, CLOCK_MONOTONIC), a futex wait with a
 * timeout and poll with a timeout, each made with syscall(2) so that
 * the call is exactly that one. The runner stops the process and
 * continues it (each sleeper then sits in restart_syscall) before the
 * dump. A sleeper whose call returns at all (EINTR after restore, the
 * old failure) fails the workload; the main thread counts, and once
 * D/restored appears checks that every sleeper is still asleep. Each
 * sleeper writes its TID into D/sleeper.N for the runner.
 */
#include <linux/futex.h>
#include <poll.h>
#include <pthread.h>

#include "workload.h"

#define N_SLEEPERS	4
#define HOUR		3600

static volatile int returned[N_SLEEPERS];
static uint32_t futex_word;

static void *sleeper(void *arg)
{
	long i = (long)arg, r = 0;
	struct timespec ts = { HOUR, 0 };
	char name[32], buf[32];
	int n;

	snprintf(name, sizeof(name), "sleeper.%ld", i);
	n = snprintf(buf, sizeof(buf), "%d\n", (int)wl_gettid());
	wl_write_file(name, buf, n);
	switch (i) {
	case 0:
		r = syscall(SYS_nanosleep, &ts, NULL);
		break;
	case 1:
		r = syscall(SYS_clock_nanosleep, CLOCK_MONOTONIC, 0, &ts,
			    NULL);
		break;
	case 2:
		r = syscall(SYS_futex, &futex_word, FUTEX_WAIT_PRIVATE, 0,
			    &ts, NULL, 0);
		break;
	case 3:
		r = syscall(SYS_poll, NULL, 0, HOUR * 1000);
		break;
	}
	returned[i] = 1;
	wl_fail("sleeper %ld: its call returned %ld (%s)", i, r,
		r ? strerror(errno) : "no error");
}

static void check(void)
{
	int i;

	for (i = 0; i < N_SLEEPERS; i++)
		if (returned[i])
			wl_fail("sleeper %d woke", i);
}

int main(void)
{
	pthread_t t;
	long i;

	wl_init();
	for (i = 0; i < N_SLEEPERS; i++)
		if (pthread_create(&t, NULL, sleeper, (void *)i))
			wl_fail("pthread_create failed");
	wl_count_checked(check);
	return 0;
}
