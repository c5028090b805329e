/*
 * Facts of this host that restore needs for every process: the page size,
 * the transparent huge page mode and size (mm.c fills with huge pages
 * where it pays), restore's own PID, and its own capabilities and
 * securebits, which every process it makes starts with (check.c, creds.c).
 * Read once, before the image.
 */
#include <sys/prctl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "restore/restore.h"

#define THP_DIR	"/sys/kernel/mm/transparent_hugepage/"

/* The PMD huge page size, 2 MiB on x86_64 with 4 KiB pages. */
static uint64_t huge_size(void)
{
	char *s = read_file_str(THP_DIR "hpage_pmd_size", NULL);
	uint64_t v = s ? strtoull(s, NULL, 10) : 0;

	free(s);
	return v && !(v & (v - 1)) ? v : 2ULL << 20;
}

/* "always [madvise] never": the bracketed word */
static int thp_mode(void)
{
	char *s = read_file_str(THP_DIR "enabled", NULL);
	int mode = THP_NEVER;

	if (s && strstr(s, "[always]"))
		mode = THP_ALWAYS;
	else if (s && strstr(s, "[madvise]"))
		mode = THP_MADVISE;
	free(s);
	return mode;
}

static int read_own_caps(struct img_caps *own)
{
	static const char *const keys[] = {
		"\nCapInh:", "\nCapPrm:", "\nCapEff:", "\nCapBnd:",
		"\nCapAmb:",
	};
	uint64_t *sets[] = { &own->inh, &own->prm, &own->eff, &own->bnd,
			     &own->amb };
	char *s = read_file_str("/proc/self/status", NULL), *p;
	size_t i;
	int bits;

	if (!s)
		goto err;
	for (i = 0; i < ARRAY_SIZE(keys); i++) {
		p = strstr(s, keys[i]);
		if (!p)
			break;
		*sets[i] = strtoull(p + strlen(keys[i]), NULL, 16);
	}
	free(s);
	bits = prctl(PR_GET_SECUREBITS, 0, 0, 0, 0);
	if (i < ARRAY_SIZE(keys) || bits < 0)
		goto err;
	own->securebits = bits;
	return 0;
err:
	pr_perror("can't read restore's own capabilities");
	return -1;
}

int restore_host_init(struct restore_host *h)
{
	h->page_size = sysconf(_SC_PAGESIZE);
	h->tramp_len = TRAMP_PAGES * h->page_size;
	h->thp = thp_mode();
	h->huge_size = huge_size();
	h->restorer = getpid();
	return read_own_caps(&h->own_caps);
}
