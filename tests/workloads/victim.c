/*
 * victim.c - a target for the fault tests: ckpt is killed (SIGKILL) at a
 * random moment of its dump, and this process must run on as if nobody
 * had been there.
 *
 * 64 MiB filled with a known pattern, and four threads that each keep an
 * invariant across the system calls a dump interrupts:
 *  - main: writes a byte to a pipe every 2 ms, raises SIGUSR1 at itself
 *    (the handler counts), appends to D/count every 20 ms;
 *  - "sleeper": nanosleep(1 ms) with SIGUSR2 blocked, checks its mask;
 *  - "poller": poll() on the pipe with a timeout, reads the bytes in
 *    order (each byte is the next value of a counter mod 256);
 *  - "waiter": pthread_cond_timedwait on a condition main signals, plus an
 *    x87/SSE computation whose result it knows.
 * Each thread also walks its quarter of the 64 MiB, one page per round,
 * checking the pattern. Any broken invariant: FAIL and exit 1. After
 * D/stop every thread must have made progress since D/restored (or, in
 * the fault tests, since the moment the runner creates D/restored after
 * ckpt died), then all join and main exits 0.
 * Also built -static as victim-static.
 */
#include <sys/mman.h>
#include <math.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>

#include "workload.h"

#define MEM_SIZE	(64UL << 20)
#define PAGE		4096UL
#define NWORKERS	3
#define SEED		0x5eedf00dULL

static uint8_t *mem;
static int pipefd[2];
static volatile sig_atomic_t usr1_seen;
static int stop_flag;
static unsigned long progress[NWORKERS + 1];
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cond = PTHREAD_COND_INITIALIZER;
static unsigned long cond_ticks;

static void on_usr1(int sig)
{
	(void)sig;
	usr1_seen++;
}

static int stopping(void)
{
	return __atomic_load_n(&stop_flag, __ATOMIC_ACQUIRE);
}

static void bump(int idx)
{
	__atomic_add_fetch(&progress[idx], 1, __ATOMIC_RELAXED);
}

/* One page of quarter q, round r, against the pattern of the whole. */
static void check_page(int q, unsigned long r)
{
	unsigned long quarter = MEM_SIZE / 4, pages = quarter / PAGE;
	unsigned long off = q * quarter + (r % pages) * PAGE;
	uint64_t s = SEED + off / PAGE;

	if (wl_check_fill(mem + off, PAGE, s) >= 0)
		wl_fail("thread %d: memory at +%#lx changed", q, off);
}

static void check_mask(int idx, int want_usr2)
{
	sigset_t cur;

	pthread_sigmask(SIG_SETMASK, NULL, &cur);
	if (sigismember(&cur, SIGUSR2) != want_usr2 ||
	    sigismember(&cur, SIGUSR1) || sigismember(&cur, SIGTERM))
		wl_fail("thread %d: signal mask changed", idx);
}

static void *sleeper(void *arg)
{
	struct timespec ts = { 0, 1000000 };
	sigset_t set;
	unsigned long r = 0;

	(void)arg;
	sigemptyset(&set);
	sigaddset(&set, SIGUSR2);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	while (!stopping()) {
		if (nanosleep(&ts, NULL) && errno != EINTR)
			wl_fail("nanosleep: %s", strerror(errno));
		check_mask(1, 1);
		check_page(1, r++);
		bump(1);
	}
	return NULL;
}

static void *poller(void *arg)
{
	struct pollfd pfd = { .fd = pipefd[0], .events = POLLIN };
	unsigned char want = 0, got[64];
	unsigned long r = 0;
	ssize_t n, i;

	(void)arg;
	while (!stopping()) {
		if (poll(&pfd, 1, 50) < 0 && errno != EINTR)
			wl_fail("poll: %s", strerror(errno));
		n = read(pipefd[0], got, sizeof(got));
		if (n < 0 && errno != EAGAIN && errno != EINTR)
			wl_fail("read: %s", strerror(errno));
		for (i = 0; i < n; i++)
			if (got[i] != want++)
				wl_fail("pipe byte %d, want %d", got[i],
					(unsigned char)(want - 1));
		check_mask(2, 0);
		check_page(2, r++);
		bump(2);
	}
	return NULL;
}

/* A computation in x87 and SSE whose result is known in advance. */
static double series(int n)
{
	volatile long double acc = 0;
	double s = 0;
	int i;

	for (i = 1; i <= n; i++) {
		acc += 1.0L / ((long double)i * i);
		s += sqrt((double)i);
	}
	return (double)acc + s;
}

static void *waiter(void *arg)
{
	double want = series(300);
	unsigned long r = 0, seen = 0;
	struct timespec ts;

	(void)arg;
	while (!stopping()) {
		pthread_mutex_lock(&lock);
		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_nsec += 20000000;
		if (ts.tv_nsec >= 1000000000) {
			ts.tv_sec++;
			ts.tv_nsec -= 1000000000;
		}
		while (cond_ticks == seen && !stopping())
			if (pthread_cond_timedwait(&cond, &lock, &ts))
				break;
		seen = cond_ticks;
		pthread_mutex_unlock(&lock);
		if (series(300) != want)
			wl_fail("waiter: floating point result changed");
		check_mask(3, 0);
		check_page(3, r++);
		bump(3);
	}
	return NULL;
}

/* One round of main's work; 1 once D/stop is there. */
static int main_round(int cfd, unsigned long *n, unsigned char *b)
{
	int i;

	for (i = 0; i < 10; i++) {
		if (write(pipefd[1], b, 1) != 1 && errno != EAGAIN)
			wl_fail("pipe write: %s", strerror(errno));
		else
			(*b)++;
		pthread_mutex_lock(&lock);
		cond_ticks++;
		pthread_cond_signal(&cond);
		pthread_mutex_unlock(&lock);
		raise(SIGUSR1);
		wl_sleep_ms(2);
	}
	check_mask(0, 0);
	check_page(0, *n);
	bump(0);
	return wl_count_step(cfd, n);
}

static int all_moved(void *arg)
{
	unsigned long *snap = arg;
	int i;

	for (i = 0; i <= NWORKERS; i++)
		if (__atomic_load_n(&progress[i], __ATOMIC_RELAXED) <= snap[i])
			return 0;
	return 1;
}

static void setup(void)
{
	struct sigaction sa = { .sa_handler = on_usr1 };
	unsigned long off;

	mem = mmap(NULL, MEM_SIZE, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (mem == MAP_FAILED)
		wl_fail("mmap: %s", strerror(errno));
	for (off = 0; off < MEM_SIZE; off += PAGE)
		wl_fill(mem + off, PAGE, SEED + off / PAGE);
	if (pipe2(pipefd, O_NONBLOCK))
		wl_fail("pipe: %s", strerror(errno));
	sigemptyset(&sa.sa_mask);
	sa.sa_flags = SA_RESTART;
	if (sigaction(SIGUSR1, &sa, NULL))
		wl_fail("sigaction: %s", strerror(errno));
}

int main(void)
{
	void *(*fn[NWORKERS])(void *) = { sleeper, poller, waiter };
	pthread_t th[NWORKERS];
	unsigned long n = 0, snap[NWORKERS + 1] = { 0 };
	unsigned char b = 0;
	int cfd, i, snapped = 0;
	sig_atomic_t usr1_before = 0;

	wl_init();
	setup();
	cfd = wl_count_open();
	for (i = 0; i < NWORKERS; i++)
		if (pthread_create(&th[i], NULL, fn[i], NULL))
			wl_fail("pthread_create");
	/* wl_count_step reports ready after the fifth count */
	while (!main_round(cfd, &n, &b)) {
		if (!snapped && wl_restored()) {
			for (i = 0; i <= NWORKERS; i++)
				snap[i] = progress[i];
			usr1_before = usr1_seen;
			snapped = 1;
		}
	}
	if (!snapped)
		wl_fail("stop before restored");
	for (i = 0; i < 500 && !all_moved(snap); i++)
		(void)main_round(cfd, &n, &b);
	if (!all_moved(snap))
		wl_fail("a thread made no progress after the dump");
	if (usr1_seen <= usr1_before)
		wl_fail("SIGUSR1 no longer delivered");
	__atomic_store_n(&stop_flag, 1, __ATOMIC_RELEASE);
	for (i = 0; i < NWORKERS; i++)
		pthread_join(th[i], NULL);
	return 0;
}
