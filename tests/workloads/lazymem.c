/*
 * lazymem.c - memory for restore --lazy: MIB MiB of incompressible
 * anonymous memory (asked for in huge pages) and four threads with 8 MiB
 * each, every region checksummed before ready and checked again (sum and
 * every word) when D/restored appears and at D/stop; with KIDS, as many
 * children hold the same again and check it the same way.
 *
 * Once restored, the root also changes its memory while its pages may
 * still be arriving: it moves a 32 MiB region (mremap), drops the first
 * MiB of an 8 MiB region (MADV_DONTNEED: must read as zeros) and unmaps
 * its last MiB, splits a 4 MiB region in two inside a 2 MiB page record
 * (mprotect of its tail, read only) and reads a page 64 KiB before it,
 * and forks a child that checks every region from its own copy; the split
 * region it checks at the end only, when restore has put every page in
 * place and let go of them. Then it writes D/gate: the test restores with CKPT_LAZY_GATE
 * naming that file, so that restore pulls no page in the background
 * before (faults alone bring them).
 *
 *   lazymem [MIB [KIDS]]
 */
#include <sys/mman.h>
#include <sys/wait.h>
#include <pthread.h>

#include "workload.h"

#define THREADS		4
#define THREAD_MIB	8
#define MOVED_MIB	32
#define DROPPED_MIB	8
#define SPLIT_MIB	4
#define MIB		(1UL << 20)

struct region {
	char *p;
	size_t len;
	uint64_t seed, sum;
	const char *name;
};

static struct region big, moved, dropped, split, per_thread[THREADS];

static uint64_t sum64(const void *buf, size_t len)
{
	const uint64_t *w = buf;
	uint64_t h = 0xcbf29ce484222325ULL;
	size_t i;

	for (i = 0; i < len / 8; i++)
		h = (h ^ w[i]) * 0x100000001b3ULL;
	return h;
}

static void make(struct region *r, const char *name, size_t len,
		 uint64_t seed)
{
	r->p = mmap(NULL, len, PROT_READ | PROT_WRITE,
		    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (r->p == MAP_FAILED)
		wl_fail("mmap %s: %s", name, strerror(errno));
	madvise(r->p, len, MADV_HUGEPAGE);
	r->len = len;
	r->seed = seed;
	r->name = name;
	wl_fill(r->p, len, seed);
	r->sum = sum64(r->p, len);
}

/* The sum, and every word against its pattern (from offset skip). */
static void check(const struct region *r, size_t skip, size_t len)
{
	long bad;

	if (!skip && len == r->len && sum64(r->p, r->len) != r->sum)
		wl_fail("%d: %s: checksum differs", getpid(), r->name);
	bad = wl_check_fill(r->p, skip + len, r->seed);
	if (bad >= (long)skip)
		wl_fail("%d: %s differs at offset %#lx", getpid(), r->name,
			bad);
}

static void check_dropped(void)
{
	size_t i;

	for (i = 0; i < MIB; i++)
		if (dropped.p[i])
			wl_fail("%d: dropped memory reads %d at %zu", getpid(),
				dropped.p[i], i);
	check(&dropped, MIB, dropped.len - 2 * MIB);
}

static void *thread_main(void *arg)
{
	struct region *r = arg;
	int checked = 0;

	while (!wl_should_stop()) {
		if (!checked && wl_restored()) {
			check(r, 0, r->len);
			checked = 1;
		}
		wl_sleep_ms(20);
	}
	check(r, 0, r->len);
	return NULL;
}

/* What the root does to its memory once restored, with pages missing. */
static void change_memory(void)
{
	char *to;
	pid_t pid;
	int st;

	to = mmap(NULL, moved.len, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS,
		  -1, 0);
	if (to == MAP_FAILED)
		wl_fail("mmap: %s", strerror(errno));
	moved.p = mremap(moved.p, moved.len, moved.len,
			 MREMAP_MAYMOVE | MREMAP_FIXED, to);
	if (moved.p == MAP_FAILED)
		wl_fail("mremap: %s", strerror(errno));
	if (madvise(dropped.p, MIB, MADV_DONTNEED) ||
	    munmap(dropped.p + dropped.len - MIB, MIB))
		wl_fail("madvise, munmap: %s", strerror(errno));
	/* a copy of a whole record now spans two VMAs */
	if (mprotect(split.p + MIB + 64 * 1024, split.len - MIB - 64 * 1024,
		     PROT_READ))
		wl_fail("mprotect: %s", strerror(errno));
	if (*(volatile char *)(split.p + MIB) == 0x5a)
		wl_sleep_ms(0);
	pid = fork();
	if (pid < 0)
		wl_fail("fork: %s", strerror(errno));
	if (pid == 0) {
		check(&big, 0, big.len);
		check(&moved, 0, moved.len);
		check_dropped();
		_exit(0);
	}
	if (waitpid(pid, &st, 0) != pid || !WIFEXITED(st) || WEXITSTATUS(st))
		wl_fail("the forked child failed its check (status %#x)", st);
	check(&moved, 0, moved.len);
	check_dropped();
	wl_write_file("gate", "1\n", 2);
}

static void reap(pid_t pid)
{
	int st;

	if (waitpid(pid, &st, 0) != pid || !WIFEXITED(st) || WEXITSTATUS(st))
		wl_fail("child %d ended with status %#x", pid, st);
}

int main(int argc, char **argv)
{
	size_t mib = argc > 1 ? strtoul(argv[1], NULL, 0) : 256;
	int kids = argc > 2 ? atoi(argv[2]) : 0, root = 1, checked = 0, i;
	pthread_t t[THREADS];
	pid_t pids[16];
	unsigned long n = 0;
	int fd = -1;

	wl_init();
	if (kids > 16)
		wl_fail("at most 16 children");
	for (i = 0; i < kids && root; i++) {
		pids[i] = fork();
		if (pids[i] < 0)
			wl_fail("fork: %s", strerror(errno));
		root = pids[i] > 0;
	}
	make(&big, "the big region", mib * MIB, 0x1234567 + getpid());
	make(&moved, "the moved region", MOVED_MIB * MIB, 77 + getpid());
	make(&dropped, "the dropped region", DROPPED_MIB * MIB, 99);
	make(&split, "the split region", SPLIT_MIB * MIB, 55 + getpid());
	for (i = 0; i < THREADS; i++) {
		make(&per_thread[i], "a thread's region", THREAD_MIB * MIB,
		     1000 + i);
		if (pthread_create(&t[i], NULL, thread_main, &per_thread[i]))
			wl_fail("pthread_create failed");
	}
	if (root)
		fd = wl_count_open();
	while (root ? !wl_count_step(fd, &n) : !wl_should_stop()) {
		if (!checked && wl_restored()) {
			check(&big, 0, big.len);
			if (root)
				change_memory();
			checked = 1;
		}
		wl_sleep_ms(20);
	}
	check(&big, 0, big.len);
	check(&split, 0, split.len);
	for (i = 0; i < THREADS; i++)
		pthread_join(t[i], NULL);
	for (i = 0; root && i < kids; i++)
		reap(pids[i]);
	if (root && wl_count_lines() != n)
		wl_fail("count file has %lu lines, the counter is at %lu",
			wl_count_lines(), n);
	return 0;
}
