/*
 * syscalls.c - threads blocked in system calls at dump time.
 *
 * A restore must bring a thread back into (or restart) the call it was
 * blocked in, without an EINTR the program never asked for: nothing here
 * has a signal handler except SIGUSR1, which is only ever sent to the
 * pause() thread, so any EINTR elsewhere is a FAIL.  Sleeps must also not
 * end early (a lower bound only: never assert an upper bound on time).
 *
 *   nanosleep	  loop of relative 300 ms sleeps (ticks counted)
 *   clock_nsleep clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME) loop
 *   poll	  poll(NULL, 0, 250) loop
 *   futex_to	  FUTEX_WAIT with a 200 ms timeout loop
 *   futex	  FUTEX_WAIT with no timeout, woken by FUTEX_WAKE after stop
 *   cond	  pthread_cond_wait, signalled after stop
 *   pause	  pause(), woken by pthread_kill(SIGUSR1) after stop
 *   main	  nanosleep 20 ms between count-file lines and stop polls
 *
 * When D/restored appears main snapshots the tick counters; after D/stop
 * it requires each ticking thread to have ticked since (bounded), then
 * wakes the blocked ones and requires every thread to finish (bounded).
 */
#include <sys/syscall.h>
#include <linux/futex.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>

#include "workload.h"

enum { T_NANO, T_CLOCK, T_POLL, T_FUTEX_TO, NTICK };
enum { T_FUTEX = NTICK, T_COND, T_PAUSE, NTHREADS };

static const char *const names[NTHREADS] = {
	"nanosleep", "clock_nanosleep", "poll", "futex-timeout",
	"futex", "cond", "pause",
};

static unsigned long ticks[NTICK];
static int done[NTHREADS];
static int stop_flag;
static uint32_t futex_word;
static pthread_mutex_t cond_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cond = PTHREAD_COND_INITIALIZER;
static int cond_go;
static volatile sig_atomic_t usr1_runs;
static int pause_blocked;	/* set just before the pause() loop */

static int stopping(void)
{
	return __atomic_load_n(&stop_flag, __ATOMIC_ACQUIRE);
}

static void tick(int t)
{
	__atomic_add_fetch(&ticks[t], 1, __ATOMIC_RELAXED);
}

static void finish(int t)
{
	__atomic_store_n(&done[t], 1, __ATOMIC_RELEASE);
}

static void *nano_thread(void *arg)
{
	struct timespec ts = { 0, 300000000 };
	uint64_t t0;

	while (!stopping()) {
		t0 = wl_now_ns(CLOCK_MONOTONIC);
		if (nanosleep(&ts, NULL))
			wl_fail("nanosleep: %s (no handler ran)",
				strerror(errno));
		if (wl_now_ns(CLOCK_MONOTONIC) - t0 < 300000000ULL)
			wl_fail("nanosleep(300 ms) returned early");
		tick(T_NANO);
	}
	finish(T_NANO);
	return NULL;
}

static void *clock_thread(void *arg)
{
	struct timespec dl;
	int err;

	clock_gettime(CLOCK_MONOTONIC, &dl);
	while (!stopping()) {
		dl.tv_nsec += 300000000;
		if (dl.tv_nsec >= 1000000000) {
			dl.tv_nsec -= 1000000000;
			dl.tv_sec++;
		}
		err = clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &dl,
				      NULL);
		if (err)
			wl_fail("clock_nanosleep: %s", strerror(err));
		if (wl_now_ns(CLOCK_MONOTONIC) <
		    (uint64_t)dl.tv_sec * 1000000000ULL + dl.tv_nsec)
			wl_fail("clock_nanosleep(TIMER_ABSTIME) returned early");
		tick(T_CLOCK);
	}
	finish(T_CLOCK);
	return NULL;
}

static void *poll_thread(void *arg)
{
	int r;

	while (!stopping()) {
		r = poll(NULL, 0, 250);
		if (r != 0)
			wl_fail("poll(NULL, 0, 250) = %d: %s", r,
				r < 0 ? strerror(errno) : "?");
		tick(T_POLL);
	}
	finish(T_POLL);
	return NULL;
}

static long futex(uint32_t *uaddr, int op, uint32_t val,
		  const struct timespec *ts)
{
	return syscall(SYS_futex, uaddr, op, val, ts, NULL, 0);
}

static void *futex_to_thread(void *arg)
{
	struct timespec ts = { 0, 200000000 };
	uint32_t word = 0;
	long r;

	while (!stopping()) {
		r = futex(&word, FUTEX_WAIT_PRIVATE, 0, &ts);
		if (r == 0)
			continue;	/* spurious wakeups are allowed */
		if (errno != ETIMEDOUT)
			wl_fail("futex wait with timeout: %s", strerror(errno));
		tick(T_FUTEX_TO);
	}
	finish(T_FUTEX_TO);
	return NULL;
}

static void *futex_thread(void *arg)
{
	long r;

	while (__atomic_load_n(&futex_word, __ATOMIC_ACQUIRE) == 0) {
		r = futex(&futex_word, FUTEX_WAIT_PRIVATE, 0, NULL);
		if (r && errno != EAGAIN)
			wl_fail("futex wait: %s", strerror(errno));
	}
	finish(T_FUTEX);
	return NULL;
}

static void *cond_thread(void *arg)
{
	pthread_mutex_lock(&cond_lock);
	while (!cond_go)
		pthread_cond_wait(&cond, &cond_lock);
	pthread_mutex_unlock(&cond_lock);
	finish(T_COND);
	return NULL;
}

static void on_usr1(int sig)
{
	usr1_runs++;
}

static void *pause_thread(void *arg)
{
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	pthread_sigmask(SIG_UNBLOCK, &set, NULL);
	__atomic_store_n(&pause_blocked, 1, __ATOMIC_RELEASE);
	while (!usr1_runs) {
		pause();
		if (errno != EINTR)
			wl_fail("pause: %s", strerror(errno));
		if (!usr1_runs)
			wl_fail("pause returned but no handler ran");
	}
	finish(T_PAUSE);
	return NULL;
}

static void *(*const fns[NTHREADS])(void *) = {
	nano_thread, clock_thread, poll_thread, futex_to_thread,
	futex_thread, cond_thread, pause_thread,
};

static int all_ticked(void *arg)
{
	unsigned long *snap = arg;
	int i;

	for (i = 0; i < NTICK; i++)
		if (__atomic_load_n(&ticks[i], __ATOMIC_RELAXED) <= snap[i])
			return 0;
	return 1;
}

static int all_done(void *arg)
{
	int i;

	for (i = 0; i < NTHREADS; i++)
		if (!__atomic_load_n(&done[i], __ATOMIC_ACQUIRE))
			return 0;
	return 1;
}

static int pause_done(void *arg)
{
	return __atomic_load_n(&done[T_PAUSE], __ATOMIC_ACQUIRE);
}

static void wake_all(pthread_t pause_th)
{
	int i;

	__atomic_store_n(&stop_flag, 1, __ATOMIC_RELEASE);
	__atomic_store_n(&futex_word, 1, __ATOMIC_RELEASE);
	if (futex(&futex_word, FUTEX_WAKE_PRIVATE, 1, NULL) < 0)
		wl_fail("futex wake: %s", strerror(errno));
	pthread_mutex_lock(&cond_lock);
	cond_go = 1;
	pthread_cond_signal(&cond);
	pthread_mutex_unlock(&cond_lock);
	/* the signal may land just before pause(): resend until it is seen */
	for (i = 0; i < 3000 && !pause_done(NULL); i++) {
		pthread_kill(pause_th, SIGUSR1);
		wl_sleep_ms(10);
	}
}

int main(void)
{
	unsigned long n = 0, snap[NTICK];
	struct sigaction sa = { .sa_handler = on_usr1 };
	pthread_t th[NTHREADS];
	sigset_t set;
	int i, err, fd, have_snap = 0;

	wl_init();
	/* SIGUSR1 blocked everywhere but in the pause thread */
	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	if (sigaction(SIGUSR1, &sa, NULL))
		wl_fail("sigaction: %s", strerror(errno));
	for (i = 0; i < NTHREADS; i++) {
		err = pthread_create(&th[i], NULL, fns[i], NULL);
		if (err)
			wl_fail("pthread_create: %s", strerror(err));
	}

	fd = wl_count_open();
	for (;;) {
		wl_count_write(fd, n++);
		/* ready once every thread is (about to be) blocked */
		if (n >= 5 && !wl_exists("ready") &&
		    __atomic_load_n(&pause_blocked, __ATOMIC_ACQUIRE) &&
		    all_ticked((unsigned long[NTICK]){ 0 }))
			wl_ready();
		if (wl_exists("ready") && !have_snap && wl_restored()) {
			for (i = 0; i < NTICK; i++)
				snap[i] = __atomic_load_n(&ticks[i],
							  __ATOMIC_RELAXED);
			have_snap = 1;
		}
		if (wl_exists("ready") && wl_should_stop())
			break;
		wl_sleep_ms(20);
	}
	if (!have_snap)
		wl_fail("D/stop appeared before D/restored");
	if (!wl_wait(all_ticked, snap, 30))
		for (i = 0; i < NTICK; i++)
			if (ticks[i] <= snap[i])
				wl_fail("%s thread did not tick after restore "
					"in 30 s", names[i]);
	for (i = 0; i < NTHREADS; i++)
		if (i >= NTICK && __atomic_load_n(&done[i], __ATOMIC_ACQUIRE))
			wl_fail("%s thread woke up before it was woken",
				names[i]);
	wake_all(th[T_PAUSE]);
	if (!wl_wait(all_done, NULL, 30))
		for (i = 0; i < NTHREADS; i++)
			if (!done[i])
				wl_fail("%s thread did not finish in 30 s",
					names[i]);
	for (i = 0; i < NTHREADS; i++)
		pthread_join(th[i], NULL);
	if (usr1_runs < 1)
		wl_fail("SIGUSR1 handler never ran");
	if (wl_count_lines() != n)
		wl_fail("count file has %lu lines, the counter is at %lu",
			wl_count_lines(), n);
	return 0;
}
