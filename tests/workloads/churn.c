/*
 * churn.c - threads born and dying all the time, for the seize loop.
 *
 * The main thread keeps four short-lived pthreads in flight, each living
 * 1-3 ms: it joins the oldest and creates a new one, without pause; each
 * gets a number and must hand back a value derived from it (a thread
 * restored wrongly, or lost so that its join never returns, shows).
 * Between bursts it appends to D/count every ~20 ms.
 * Two long-lived threads bump their own counters every millisecond.
 *
 * A dump therefore nearly always catches a thread being created or exiting
 * (the seizer must loop until no thread is new, and skip the ones that
 * die under it), and the image holds short-lived threads mid-life that the
 * restored process must run to their end and join.
 *
 * When D/restored appears main snapshots the counters; after D/stop it
 * requires the long-lived threads and the short-lived births to have moved
 * past the snapshot (bounded wait), stops and joins the long-lived ones,
 * checks the count file, and exits 0.
 */
#include <pthread.h>

#include "workload.h"

#define NLONG		2
#define BURST_MS	20
#define NFLIGHT		4

static volatile unsigned long long_count[NLONG];
static int stop_flag;

static void *long_thread(void *arg)
{
	long i = (long)arg;

	while (!__atomic_load_n(&stop_flag, __ATOMIC_ACQUIRE)) {
		long_count[i]++;
		wl_sleep_ms(1);
	}
	return (void *)(i + 1000);
}

static uint64_t mix(uint64_t v)
{
	return wl_xorshift64(&v) ^ 0x5bd1e995;
}

static void *short_thread(void *arg)
{
	uint64_t v = (uint64_t)(uintptr_t)arg;
	/* a little stack, a little work and a sleep, then gone */
	volatile char buf[512];

	memset((char *)buf, (int)(v & 0x7f), sizeof(buf));
	wl_sleep_ms(1 + (long)(v % 3));
	return (void *)(uintptr_t)(mix(v | 1) + buf[100]);
}

static uint64_t short_arg(unsigned long n)
{
	return (n * 2654435761u) & 0xffffffffffffULL;
}

static void start_short(pthread_t *t, unsigned long n)
{
	int err;

	err = pthread_create(t, NULL, short_thread,
			     (void *)(uintptr_t)short_arg(n));
	if (err)
		wl_fail("pthread_create %lu: %s", n, strerror(err));
}

static void join_short(pthread_t t, unsigned long n)
{
	uint64_t v = short_arg(n);
	void *ret;
	int err;

	err = pthread_join(t, &ret);
	if (err)
		wl_fail("pthread_join %lu: %s", n, strerror(err));
	if ((uintptr_t)ret != mix(v | 1) + (v & 0x7f))
		wl_fail("short thread %lu returned %#lx", n,
			(unsigned long)(uintptr_t)ret);
}

/*
 * For BURST_MS: join the oldest of the NFLIGHT short threads in flight
 * and start a new one in its place. Threads that live a few ms are still
 * running when a dump misses one, so a restore without it hangs in
 * pthread_join instead of passing by luck.
 */
static void burst(pthread_t *flight, unsigned long *births)
{
	uint64_t end = wl_now_ns(CLOCK_MONOTONIC) + BURST_MS * 1000000ULL;
	unsigned long n;

	do {
		n = *births - NFLIGHT;
		join_short(flight[n % NFLIGHT], n);
		start_short(&flight[*births % NFLIGHT], *births);
		(*births)++;
	} while (wl_now_ns(CLOCK_MONOTONIC) < end);
}

static void check_progress(unsigned long births, unsigned long births0,
			   const unsigned long *long0)
{
	int i;

	if (births <= births0)
		wl_fail("no short thread born after D/restored");
	for (i = 0; i < NLONG; i++)
		if (long_count[i] <= long0[i])
			wl_fail("long thread %d stuck at %lu after D/restored",
				i, long0[i]);
}

int main(void)
{
	unsigned long n = 0, births = 0, births0 = 0, long0[NLONG] = { 0 };
	pthread_t lt[NLONG], flight[NFLIGHT];
	int seen_restored = 0, err, fd;
	long i, tries = 0;
	void *ret;

	wl_init();
	for (i = 0; i < NLONG; i++) {
		err = pthread_create(&lt[i], NULL, long_thread, (void *)i);
		if (err)
			wl_fail("pthread_create: %s", strerror(err));
	}
	for (births = 0; births < NFLIGHT; births++)
		start_short(&flight[births], births);
	fd = wl_count_open();
	for (;;) {
		wl_count_write(fd, n++);
		if (n == 5)
			wl_ready();
		if (!seen_restored && wl_restored()) {
			seen_restored = 1;
			births0 = births;
			for (i = 0; i < NLONG; i++)
				long0[i] = long_count[i];
		}
		/* after D/stop, up to ~10 s more for progress to show */
		if (n > 5 && wl_should_stop() && (!seen_restored ||
		    (births > births0 && long_count[0] > long0[0] &&
		     long_count[1] > long0[1]) || ++tries > 500))
			break;
		burst(flight, &births);
	}
	for (i = 0; i < NFLIGHT; i++)
		join_short(flight[(births - NFLIGHT + i) % NFLIGHT],
			   births - NFLIGHT + i);
	if (seen_restored)
		check_progress(births, births0, long0);
	__atomic_store_n(&stop_flag, 1, __ATOMIC_RELEASE);
	for (i = 0; i < NLONG; i++) {
		err = pthread_join(lt[i], &ret);
		if (err)
			wl_fail("pthread_join long %ld: %s", i, strerror(err));
		if ((long)ret != i + 1000)
			wl_fail("long thread %ld returned %ld", i, (long)ret);
	}
	if (wl_count_lines() != n)
		wl_fail("count file has %lu lines, the counter is at %lu",
			wl_count_lines(), n);
	wl_info("churn: %lu short threads", births);
	return 0;
}
