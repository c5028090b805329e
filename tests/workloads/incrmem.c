/*
 * incrmem.c - memory that changes between checkpoints, for incremental
 * images (t-incr.sh). MIB MiB "big" region whose page i holds the fill
 * of seed gen[i] * 2^32 + i (gen[] is itself in memory); an 8 MiB
 * "moved" region, a 4 MiB "gone" one. The test creates D/stepN (N = 1,
 * 2, 3) between checkpoints; the workload makes that step's change and
 * writes D/doneN:
 *   1: rewrites every 7th page of big
 *   2: unmaps gone and maps "fresh" at its address (same size, new
 *      contents); moves moved elsewhere (mremap), contents unchanged
 *   3: rewrites every 13th page of big; drops the first MiB of moved
 *      (MADV_DONTNEED: must read as zeros); writes fresh's first page
 * Everything is checked on D/restored (or at D/stop for the original).
 *
 *   incrmem [MIB]
 */
#include <sys/mman.h>

#include "workload.h"

#define MIB		(1UL << 20)
#define PAGE		4096UL
#define SIDE_MIB	8
#define GONE_MIB	4

static char *big, *moved, *fresh;
static size_t big_len;
static uint32_t *gen;
static int step;

static uint64_t page_seed(size_t i)
{
	return ((uint64_t)gen[i] << 32) + i;
}

static void write_pages(unsigned every, uint32_t g)
{
	size_t i;

	for (i = 0; i < big_len / PAGE; i += every) {
		gen[i] = g;
		wl_fill(big + i * PAGE, PAGE, page_seed(i));
	}
}

static char *map(size_t len, void *at)
{
	char *p = mmap(at, len, PROT_READ | PROT_WRITE, MAP_PRIVATE |
		       MAP_ANONYMOUS | (at ? MAP_FIXED_NOREPLACE : 0), -1, 0);

	if (p == MAP_FAILED)
		wl_fail("mmap: %s", strerror(errno));
	return p;
}

static void step_2(void)
{
	char *gone_at = fresh, *to;

	if (munmap(fresh, GONE_MIB * MIB))
		wl_fail("munmap: %s", strerror(errno));
	fresh = map(GONE_MIB * MIB, gone_at);
	wl_fill(fresh, GONE_MIB * MIB, 4);
	/* a hole the size of moved, then moved into it */
	to = map(SIDE_MIB * MIB, NULL);
	moved = mremap(moved, SIDE_MIB * MIB, SIDE_MIB * MIB,
		       MREMAP_MAYMOVE | MREMAP_FIXED, to);
	if (moved == MAP_FAILED)
		wl_fail("mremap: %s", strerror(errno));
}

static void step_3(void)
{
	write_pages(13, 3);
	if (madvise(moved, MIB, MADV_DONTNEED))
		wl_fail("madvise: %s", strerror(errno));
	wl_fill(fresh, PAGE, 5);
}

static void do_step(int n)
{
	char name[16];

	if (n == 1)
		write_pages(7, 1);
	else if (n == 2)
		step_2();
	else
		step_3();
	step = n;
	snprintf(name, sizeof(name), "done%d", n);
	wl_write_file(name, "1\n", 2);
}

/* Bytes [skip, len) of p as wl_fill(seed) made them? */
static int same_as(const char *p, size_t len, uint64_t seed, size_t skip)
{
	char *want = map(len, NULL);
	int same;

	wl_fill(want, len, seed);
	same = !memcmp(want + skip, p + skip, len - skip);
	munmap(want, len);
	return same;
}

static void check(void)
{
	size_t i;

	for (i = 0; i < big_len / PAGE; i++)
		if (wl_check_fill(big + i * PAGE, PAGE, page_seed(i)) >= 0)
			wl_fail("step %d: big page %zu (gen %u) differs", step,
				i, gen[i]);
	for (i = 0; step >= 3 && i < MIB; i++)
		if (moved[i])
			wl_fail("step %d: dropped byte %zu is %d", step, i,
				moved[i]);
	if (!same_as(moved, SIDE_MIB * MIB, 2, step >= 3 ? MIB : 0))
		wl_fail("step %d: moved differs", step);
	if (step < 2 && !same_as(fresh, GONE_MIB * MIB, 3, 0))
		wl_fail("step %d: gone differs", step);
	if (step >= 2 && !same_as(fresh, GONE_MIB * MIB, 4,
				  step >= 3 ? PAGE : 0))
		wl_fail("step %d: fresh differs", step);
	if (step >= 3 && !same_as(fresh, PAGE, 5, 0))
		wl_fail("step %d: fresh's first page differs", step);
	wl_info("%d: step %d: all memory as written", getpid(), step);
}

int main(int argc, char **argv)
{
	unsigned long n = 0;
	int fd, checked = 0;
	char name[16];

	wl_init();
	big_len = (argc > 1 ? strtoul(argv[1], NULL, 10) : 64) * MIB;
	big = map(big_len, NULL);
	gen = (uint32_t *)map(big_len / PAGE * sizeof(*gen) + PAGE, NULL);
	write_pages(1, 0);
	moved = map(SIDE_MIB * MIB, NULL);
	wl_fill(moved, SIDE_MIB * MIB, 2);
	fresh = map(GONE_MIB * MIB, NULL);
	wl_fill(fresh, GONE_MIB * MIB, 3);
	fd = wl_count_open();
	while (!wl_count_step(fd, &n)) {
		snprintf(name, sizeof(name), "step%d", step + 1);
		if (step < 3 && wl_exists(name))
			do_step(step + 1);
		if (!checked && wl_restored()) {
			check();
			checked = 1;
		}
		wl_sleep_ms(20);
	}
	if (!checked)
		check();
	return 0;
}
