/*
 * threads.c - eight threads with thread-local state and a shared mutex.
 *
 * Each worker bumps, in one critical section under a pthread mutex, its
 * __thread counter, its slot in a shared array and a shared total, then
 * runs a fixed xorshift chain whose result it knows (a restore that
 * corrupts a register mid-computation shows) and sleeps 1 ms.  The main
 * thread appends to D/count every 20 ms.
 *
 * Before ready every thread records gettid(); D/tids lists them for the
 * runner, which compares them with /proc/PID/task after restore.  When
 * D/restored appears main snapshots the slots; after D/stop it requires
 * every slot to have moved past its snapshot (bounded wait), then stops
 * the workers, which check that their TLS counter equals their slot and
 * that their TID is unchanged; main checks total == sum of slots.
 * Also built -static as threads-static.
 */
#include <pthread.h>

#include "workload.h"

#define NTHREADS	8
#define CHAIN		2000

struct slot {
	unsigned long v;
	char pad[56];	/* one cache line each */
};

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_barrier_t started;
static struct slot slots[NTHREADS];
static unsigned long total;
static pid_t tids[NTHREADS + 1];	/* [NTHREADS] is main */
static int stop_flag;
static uint64_t chain_want;

static __thread unsigned long tls_count;
static __thread int tls_idx = -1;

static uint64_t chain(uint64_t seed)
{
	uint64_t s = seed | 1;
	int i;

	for (i = 0; i < CHAIN; i++)
		wl_xorshift64(&s);
	return s;
}

static void *worker(void *arg)
{
	int idx = (int)(long)arg;
	/* volatile: reloaded from memory, not kept in a register across */
	volatile uint64_t seed = 0x9e3779b97f4a7c15ULL;

	tls_idx = idx;
	tids[idx] = wl_gettid();
	pthread_barrier_wait(&started);
	while (!__atomic_load_n(&stop_flag, __ATOMIC_ACQUIRE)) {
		pthread_mutex_lock(&lock);
		tls_count++;
		slots[idx].v++;
		total++;
		pthread_mutex_unlock(&lock);
		if (chain(seed) != chain_want)
			wl_fail("thread %d: xorshift chain gave a wrong result",
				idx);
		wl_sleep_ms(1);
	}
	if (tls_idx != idx)
		wl_fail("thread %d: TLS index is %d", idx, tls_idx);
	if (wl_gettid() != tids[idx])
		wl_fail("thread %d: TID was %d, is %d", idx, (int)tids[idx],
			(int)wl_gettid());
	pthread_mutex_lock(&lock);
	if (tls_count != slots[idx].v)
		wl_fail("thread %d: TLS counter %lu, slot %lu", idx,
			tls_count, slots[idx].v);
	pthread_mutex_unlock(&lock);
	return NULL;
}

static void snapshot(unsigned long *v)
{
	int i;

	pthread_mutex_lock(&lock);
	for (i = 0; i < NTHREADS; i++)
		v[i] = slots[i].v;
	pthread_mutex_unlock(&lock);
}

static int all_advanced(void *arg)
{
	unsigned long *snap = arg, now[NTHREADS];
	int i;

	snapshot(now);
	for (i = 0; i < NTHREADS; i++)
		if (now[i] <= snap[i])
			return 0;
	return 1;
}

static void write_tids(void)
{
	char buf[NTHREADS * 16 + 16];
	int i, n = 0;

	for (i = 0; i <= NTHREADS; i++)
		n += snprintf(buf + n, sizeof(buf) - n, "%d\n", (int)tids[i]);
	wl_write_file("tids", buf, n);
}

int main(void)
{
	unsigned long n = 0, snap[NTHREADS], now[NTHREADS], sum;
	pthread_t th[NTHREADS];
	int i, err, have_snap = 0;
	int fd;

	wl_init();
	chain_want = chain(0x9e3779b97f4a7c15ULL);
	tids[NTHREADS] = wl_gettid();
	pthread_barrier_init(&started, NULL, NTHREADS + 1);
	for (i = 0; i < NTHREADS; i++) {
		err = pthread_create(&th[i], NULL, worker, (void *)(long)i);
		if (err)
			wl_fail("pthread_create: %s", strerror(err));
	}
	pthread_barrier_wait(&started);
	write_tids();

	fd = wl_count_open();
	for (;;) {
		wl_count_write(fd, n++);
		if (n == 5)
			wl_ready();
		if (n > 5 && !have_snap && wl_restored()) {
			snapshot(snap);
			have_snap = 1;
		}
		if (n > 5 && wl_should_stop())
			break;
		wl_sleep_ms(20);
	}
	if (!have_snap)
		wl_fail("D/stop appeared before D/restored");
	if (!wl_wait(all_advanced, snap, 30)) {
		snapshot(now);
		for (i = 0; i < NTHREADS; i++)
			if (now[i] <= snap[i])
				wl_fail("thread %d made no progress after restore "
					"in 30 s (slot %lu)", i, now[i]);
	}
	if (wl_gettid() != tids[NTHREADS] || getpid() != tids[NTHREADS])
		wl_fail("main: TID was %d, is %d (pid %d)",
			(int)tids[NTHREADS], (int)wl_gettid(), (int)getpid());

	__atomic_store_n(&stop_flag, 1, __ATOMIC_RELEASE);
	for (i = 0; i < NTHREADS; i++) {
		err = pthread_join(th[i], NULL);
		if (err)
			wl_fail("pthread_join: %s", strerror(err));
	}
	sum = 0;
	for (i = 0; i < NTHREADS; i++) {
		if (slots[i].v == 0)
			wl_fail("thread %d never ran", i);
		sum += slots[i].v;
	}
	if (sum != total)
		wl_fail("shared total %lu, sum of slots %lu", total, sum);
	if (wl_count_lines() != n)
		wl_fail("count file has %lu lines, the counter is at %lu",
			wl_count_lines(), n);
	return 0;
}
