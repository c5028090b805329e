/*
 * thpadv.c - the THP advice of anonymous memory that restore fills with
 * huge pages must come back as it was (run under THP "madvise" mode, see
 * tests/integration/t-cputhp.sh). Three 8 MiB mappings, 2 MiB aligned,
 * filled with a pattern: "none" without advice (4 KiB pages here, and a
 * hole: one page 8 KiB into its second 2 MiB, dropped, so that the image
 * has a run of data ending in a huge page and another starting in it),
 * "hg" with MADV_HUGEPAGE, "nh" with MADV_NOHUGEPAGE. At D/restored
 * (the original: at D/stop) each holds its pattern and its smaps
 * VmFlags show its own advice and no other; after a restore "none" and
 * "hg" have huge pages again (restore fills them so), "nh" none.
 */
#include <sys/mman.h>

#include "workload.h"

#define MIB	(1UL << 20)
#define LEN	(8 * MIB)

static const struct {
	const char *name;
	int advice;		/* or -1 */
	int huge_after;		/* huge pages after a restore */
} kinds[] = {
	{ "none", -1, 1 },
	{ "hg", MADV_HUGEPAGE, 1 },
	{ "nh", MADV_NOHUGEPAGE, 0 },
};
#define NKINDS	(sizeof(kinds) / sizeof(kinds[0]))

static char *mem[NKINDS];
#define HOLE	(2 * MIB + 8192)	/* in "none", a page never there */

/* Offset of the first byte of mapping k that differs, or -1 */
static long differs(size_t k)
{
	static char want[LEN];
	size_t i;

	wl_fill(want, LEN, k + 1);
	if (k == 0)
		memset(want + HOLE, 0, 4096);
	for (i = 0; i < LEN; i++)
		if (mem[k][i] != want[i])
			return (long)i;
	return -1;
}

static char *aligned_map(void)
{
	char *p = mmap(NULL, LEN + 2 * MIB, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	char *a;

	if (p == MAP_FAILED)
		wl_fail("mmap: %s", strerror(errno));
	a = (char *)(((unsigned long)p + 2 * MIB - 1) & ~(2 * MIB - 1));
	/* alone: nothing of the rest merges with it */
	if ((a > p && munmap(p, a - p)) ||
	    munmap(a + LEN, p + LEN + 2 * MIB - (a + LEN)))
		wl_fail("munmap: %s", strerror(errno));
	return a;
}

/* Whether VmFlags has flag fl ("hg", "nh") of the mapping at p */
static int has_flag(const char *p, const char *fl)
{
	char line[512], *tok, *save;

	wl_smaps_line(p, "VmFlags:", line, sizeof(line));
	for (tok = strtok_r(line + 8, " \n", &save); tok;
	     tok = strtok_r(NULL, " \n", &save))
		if (!strcmp(tok, fl))
			return 1;
	return 0;
}

static long huge_kb(const char *p)
{
	char line[512];
	long kb = -1;

	wl_smaps_line(p, "AnonHugePages:", line, sizeof(line));
	sscanf(line, "AnonHugePages: %ld", &kb);
	return kb;
}

static void check(void)
{
	size_t k;
	long bad, kb;

	for (k = 0; k < NKINDS; k++) {
		const char *p = mem[k];
		int hg = has_flag(p, "hg"), nh = has_flag(p, "nh");

		bad = differs(k);
		if (bad >= 0)
			wl_fail("%s: data differs at %ld", kinds[k].name, bad);
		if (hg != (kinds[k].advice == MADV_HUGEPAGE) ||
		    nh != (kinds[k].advice == MADV_NOHUGEPAGE))
			wl_fail("%s: VmFlags hg %d nh %d", kinds[k].name, hg,
				nh);
		kb = huge_kb(p);
		if (wl_restored() && kinds[k].huge_after != (kb > 0))
			wl_fail("%s: AnonHugePages %ld kB after restore",
				kinds[k].name, kb);
		wl_info("%s: AnonHugePages %ld kB", kinds[k].name, kb);
	}
}

int main(void)
{
	size_t k;

	wl_init();
	for (k = 0; k < NKINDS; k++) {
		mem[k] = aligned_map();
		if (kinds[k].advice >= 0 &&
		    madvise(mem[k], LEN, kinds[k].advice))
			wl_fail("madvise %s: %s", kinds[k].name,
				strerror(errno));
		wl_fill(mem[k], LEN, k + 1);
	}
	if (madvise(mem[0] + HOLE, 4096, MADV_DONTNEED))
		wl_fail("MADV_DONTNEED: %s", strerror(errno));
	wl_count_checked(check);
	return 0;
}
