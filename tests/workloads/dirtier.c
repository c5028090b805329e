/*
 * dirtier.c - memory written all the time, for pre-copy (attach
 * --pre-copy): a page copied while the process runs and written after
 * must not come back as it was when copied.
 *
 *   dirtier [KIDS [merged]]
 *			KIDS children (default 0) doing the same, each
 *			reaped by the parent after D/stop, exit 0 required;
 *			merged: the remapped block sits right above the
 *			64 MiB, one mapping with it until the block's first
 *			munmap after the dump began (pre-copy must keep
 *			tracking the 64 MiB when part of its range goes)
 *
 * Two writer threads journal their writes into 64 MiB: write k of thread
 * t stores value(t, k) at pos(t, k) (mostly in a hot 4 MiB, one in 256
 * anywhere; the words of the two threads interleave and never meet), then
 * publishes k. A third thread replaces a 1 MiB mapping over and over
 * (munmap, mmap: often at the same address), filled with the pattern of
 * its generation. After D/stop the threads stop, and the 64 MiB must be
 * exactly the replay of every write 1..k of both threads from the
 * initial pattern, the 1 MiB block that of its generation: a lost write
 * (a page taken before it, a stale copy, a block of an earlier
 * generation) shows as a word that differs.
 */
#include <sys/mman.h>
#include <sys/wait.h>
#include <pthread.h>

#include "workload.h"

#define NTHR		2
#define NWORDS		((64UL << 20) / 8)
#define HOT_WORDS	((4UL << 20) / 8)
#define BATCH		512	/* writes a thread makes per millisecond */
#define BLOCK		(1UL << 20)

static uint64_t *mem;
static uint64_t done[NTHR];
static int stop_flag;
static char *block;
static uint64_t block_gen;
static uint64_t *noted;		/* MAP_SHARED: k of each writer, per batch */
static int merged;		/* block at the end of mem, no guard pages */

static uint64_t mix(uint64_t a, uint64_t b)
{
	uint64_t x = a * 0x9e3779b97f4a7c15ULL ^ (b + 0x632be59bd9b4e019ULL);

	return wl_xorshift64(&x) | 1;
}

static uint64_t pos_of(int t, uint64_t k)
{
	uint64_t h = mix(t + 17, k), range = h % 256 ? HOT_WORDS : NWORDS;

	return (h >> 8) % (range / NTHR) * NTHR + t;
}

static void *writer(void *arg)
{
	int t = (int)(long)arg, i;
	uint64_t k = 0;

	while (!__atomic_load_n(&stop_flag, __ATOMIC_ACQUIRE)) {
		for (i = 0; i < BATCH; i++) {
			k++;
			__atomic_store_n(&mem[pos_of(t, k)], mix(t, k),
					 __ATOMIC_RELAXED);
			__atomic_store_n(&done[t], k, __ATOMIC_RELEASE);
		}
		if (noted[t] > k)
			wl_fail("%d: writer %d is at write %lu, its shared page noted %lu",
				getpid(), t, (unsigned long)k,
				(unsigned long)noted[t]);
		noted[t] = k;
		wl_sleep_ms(1);
	}
	return NULL;
}

static void *remapper(void *arg)
{
	void *m;

	while (!__atomic_load_n(&stop_flag, __ATOMIC_ACQUIRE)) {
		if (munmap(block, BLOCK))
			wl_fail("munmap: %s", strerror(errno));
		m = mmap(merged ? block : NULL, BLOCK, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (m == MAP_FAILED)
			wl_fail("mmap: %s", strerror(errno));
		wl_fill(m, BLOCK, block_gen + 1);
		/* published after its pattern: a restore sees both or none */
		__atomic_store_n(&block, m, __ATOMIC_RELEASE);
		__atomic_store_n(&block_gen, block_gen + 1, __ATOMIC_RELEASE);
		wl_sleep_ms(5);
	}
	return arg;
}

static void verify(void)
{
	uint64_t *want = malloc(NWORDS * 8), i, k;
	long off;
	int t;

	if (!want)
		wl_fail("malloc: %s", strerror(errno));
	for (i = 0; i < NWORDS; i++)
		want[i] = mix(99, i);
	for (t = 0; t < NTHR; t++)
		for (k = 1; k <= done[t]; k++)
			want[pos_of(t, k)] = mix(t, k);
	for (i = 0; i < NWORDS; i++)
		if (mem[i] != want[i])
			wl_fail("%d: word %lu (page %lu) is %#lx, want %#lx (writes %lu, %lu)",
				getpid(), (unsigned long)i,
				(unsigned long)(i * 8 / 4096),
				(unsigned long)mem[i], (unsigned long)want[i],
				(unsigned long)done[0], (unsigned long)done[1]);
	off = wl_check_fill(block, BLOCK, block_gen);
	if (off >= 0)
		wl_fail("%d: mapping of generation %lu differs at %#lx",
			getpid(), (unsigned long)block_gen, off);
	free(want);
}

/* Until D/stop (the root also counts into D/count), then stop, verify. */
static void run(int root)
{
	pthread_t th[NTHR + 1];
	unsigned long n = 0, i;
	int fd = root ? wl_count_open() : -1;

	/* between two PROT_NONE pages: never one mapping with a block the
	 * remapper maps beside it, whose munmap would make pre-copy give up
	 * tracking the 64 MiB too (then every page is read in the freeze,
	 * and a stale copy could not happen) */
	mem = mmap(NULL, NWORDS * 8 + 8192 + (merged ? BLOCK : 0), PROT_NONE,
		   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (mem != MAP_FAILED) {
		mem += 4096 / 8;
		if (mprotect(mem, NWORDS * 8 + (merged ? BLOCK : 0),
			     PROT_READ | PROT_WRITE))
			wl_fail("mprotect: %s", strerror(errno));
	}
	block = merged ? (char *)(mem + NWORDS) :
		mmap(NULL, BLOCK, PROT_READ | PROT_WRITE,
		     MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	noted = mmap(NULL, 4096, PROT_READ | PROT_WRITE,
		     MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (mem == MAP_FAILED || block == MAP_FAILED || noted == MAP_FAILED)
		wl_fail("mmap: %s", strerror(errno));
	for (i = 0; i < NWORDS; i++)
		mem[i] = mix(99, i);
	wl_fill(block, BLOCK, 0);
	for (i = 0; i < NTHR; i++)
		if (pthread_create(&th[i], NULL, writer, (void *)i))
			wl_fail("pthread_create failed");
	if (pthread_create(&th[NTHR], NULL, remapper, NULL))
		wl_fail("pthread_create failed");
	for (;;) {
		if (root ? wl_count_step(fd, &n) : wl_should_stop())
			break;
		wl_sleep_ms(20);
	}
	__atomic_store_n(&stop_flag, 1, __ATOMIC_RELEASE);
	for (i = 0; i <= NTHR; i++)
		pthread_join(th[i], NULL);
	verify();
}

int main(int argc, char **argv)
{
	int kids = argc > 1 ? atoi(argv[1]) : 0, i, st;
	pid_t pid[8];

	merged = argc > 2 && !strcmp(argv[2], "merged");
	wl_init();
	if (kids > 8)
		kids = 8;
	for (i = 0; i < kids; i++) {
		pid[i] = fork();
		if (pid[i] < 0)
			wl_fail("fork: %s", strerror(errno));
		if (!pid[i]) {
			run(0);
			_exit(0);
		}
	}
	run(1);
	for (i = 0; i < kids; i++) {
		if (waitpid(pid[i], &st, 0) != pid[i])
			wl_fail("waitpid %d: %s", pid[i], strerror(errno));
		if (!WIFEXITED(st) || WEXITSTATUS(st))
			wl_fail("child %d ended with status %#x", pid[i], st);
	}
	return 0;
}
