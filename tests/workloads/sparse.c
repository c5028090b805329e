/*
 * sparse.c - 8 GiB mapped, 1 MiB touched: the image must stay small.
 *
 * Maps 8 GiB MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE and writes 256
 * pages, one in each 32 MiB slot at a slot-dependent page, each with its
 * own pattern.  The runner checks the image is under 8 MiB; after D/stop
 * the workload checks the 256 pages and that untouched pages (never read
 * before the dump either) read as zeros.
 */
#include <sys/mman.h>

#include "workload.h"

#define PG		4096UL
#define SIZE		(8UL << 30)
#define NPAGES		256
#define SLOT		(SIZE / NPAGES)		/* 32 MiB */

static char *page(char *base, unsigned long i)
{
	return base + i * SLOT + ((i * 7919) % (SLOT / PG)) * PG;
}

/* An untouched page of slot I: the one after the touched one, wrapped. */
static char *hole(char *base, unsigned long i)
{
	return base + i * SLOT + (((i * 7919) + 1) % (SLOT / PG)) * PG;
}

int main(void)
{
	unsigned long n = 0, i, j;
	char *mem;
	int fd;

	wl_init();
	mem = mmap(NULL, SIZE, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (mem == MAP_FAILED)
		wl_fail("mmap 8 GiB: %s", strerror(errno));
	for (i = 0; i < NPAGES; i++)
		wl_fill(page(mem, i), PG, 1000 + i);

	fd = wl_count_open();
	for (;;) {
		if (wl_count_step(fd, &n))
			break;
		wl_sleep_ms(20);
	}
	for (i = 0; i < NPAGES; i++) {
		if (wl_check_fill(page(mem, i), PG, 1000 + i) >= 0)
			wl_fail("page %lu (offset %#lx) differs", i,
				(unsigned long)(page(mem, i) - mem));
		for (j = 0; j < PG; j++)
			if (hole(mem, i)[j])
				wl_fail("untouched page at %#lx is not zero",
					(unsigned long)(hole(mem, i) - mem));
	}
	if (wl_count_lines() != n)
		wl_fail("count file has %lu lines, the counter is at %lu",
			wl_count_lines(), n);
	return 0;
}
