/*
 * bigmem.c - 1 GiB of anonymous memory with a pseudo-random pattern.
 *
 * Fills 1 GiB with an xorshift stream (incompressible), checksums it
 * before ready, and after D/stop recomputes the checksum and, if it
 * differs, finds the first bad offset.  Appends to D/count every 20 ms
 * like counter, so the runner can see it progress (the sigterm test
 * interrupts a dump of this workload and needs that).
 */
#include <sys/mman.h>

#include "workload.h"

#define SIZE	(1UL << 30)
#define SEED	0x0123456789abcdefULL

/* Cheap 64-bit checksum over words (FNV-like, per word not per byte). */
static uint64_t sum64(const uint64_t *w, size_t n)
{
	uint64_t h = 0xcbf29ce484222325ULL;
	size_t i;

	for (i = 0; i < n; i++)
		h = (h ^ w[i]) * 0x100000001b3ULL;
	return h;
}

int main(void)
{
	unsigned long n = 0;
	uint64_t sum;
	void *mem;
	long bad;
	int fd;

	wl_init();
	mem = mmap(NULL, SIZE, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (mem == MAP_FAILED)
		wl_fail("mmap 1 GiB: %s", strerror(errno));
	wl_fill(mem, SIZE, SEED);
	sum = sum64(mem, SIZE / 8);

	fd = wl_count_open();
	for (;;) {
		if (wl_count_step(fd, &n))
			break;
		wl_sleep_ms(20);
	}
	if (sum64(mem, SIZE / 8) != sum) {
		bad = wl_check_fill(mem, SIZE, SEED);
		wl_fail("1 GiB checksum differs (first bad offset %#lx)", bad);
	}
	if (wl_count_lines() != n)
		wl_fail("count file has %lu lines, the counter is at %lu",
			wl_count_lines(), n);
	return 0;
}
