/*
 * advlate.c - a mapping whose flags change late: 8 MiB of anonymous
 * memory with a pattern, and on D/advise (the test makes it while a
 * pre-copy dump waits at its last moment before the freeze) the whole
 * mapping is given MADV_DONTFORK, which changes its flags ("dc" in
 * smaps VmFlags) and nothing of its bounds; D/advised then. Checked at
 * D/restored (the original: at D/stop): the pattern, and "dc" exactly
 * when it was advised.
 */
#include <sys/mman.h>

#include "workload.h"

#define SIZE	(8UL << 20)

static uint8_t *mem;
static int advised;

static void check(void)
{
	char flags[256];

	wl_expect_fill("the mapping", mem, SIZE, 7);
	wl_smaps_line(mem, "VmFlags:", flags, sizeof(flags));
	if (!strstr(flags, " dc") != !advised)
		wl_fail("advised %d, but the mapping's %s", advised, flags);
	wl_info("advlate: pattern and flags (advised %d) as they were",
		advised);
}

int main(void)
{
	unsigned long n = 0;
	int fd, checked = 0;

	wl_init();
	mem = mmap(NULL, SIZE, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (mem == MAP_FAILED)
		wl_fail("mmap: %s", strerror(errno));
	wl_fill(mem, SIZE, 7);
	fd = wl_count_open();
	while (!wl_count_step(fd, &n)) {
		if (!advised && wl_exists("advise")) {
			if (madvise(mem, SIZE, MADV_DONTFORK))
				wl_fail("madvise: %s", strerror(errno));
			advised = 1;
			wl_write_file("advised", "1\n", 2);
		}
		if (!checked && wl_restored()) {
			check();
			checked = 1;
		}
		wl_sleep_ms(10);
	}
	if (!checked)
		check();
	return 0;
}
