/*
 * mlockall.c - mlockall(MCL_FUTURE), which /proc shows nowhere but in
 * the mappings made after it: the process calls mlockall(MCL_FUTURE),
 * or MCL_FUTURE | MCL_ONFAULT with the argument "onfault", and once
 * D/restored appears (at D/stop in the original) every mapping it makes
 * must still come locked ("lo" in its smaps VmFlags), and on fault only
 * ("lf") exactly when it asked for that. With "none" it never calls
 * mlockall and new mappings must stay unlocked.
 */
#include <sys/mman.h>

#include "workload.h"

#ifndef MCL_ONFAULT
#define MCL_ONFAULT	4
#endif

static int want_lo, want_lf;

/* Has the mapping at addr flag ("lo", "lf") in its smaps VmFlags? */
static int has_flag(void *addr, const char *flag)
{
	char line[512], range[64];
	int in = 0, found = -1;
	FILE *f = fopen("/proc/self/smaps", "r");

	if (!f)
		wl_fail("smaps: %s", strerror(errno));
	snprintf(range, sizeof(range), "%lx-", (unsigned long)addr);
	while (fgets(line, sizeof(line), f)) {
		if (!strncmp(line, range, strlen(range)))
			in = 1;
		else if (in && !strncmp(line, "VmFlags:", 8)) {
			found = strstr(line, flag) != NULL;
			break;
		}
	}
	fclose(f);
	if (found < 0)
		wl_fail("no VmFlags for %p", addr);
	return found;
}

static void check(void)
{
	void *p = mmap(NULL, 4096, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	int lo, lf;

	if (p == MAP_FAILED)
		wl_fail("mmap: %s", strerror(errno));
	lo = has_flag(p, " lo");
	lf = has_flag(p, " lf");
	munmap(p, 4096);
	if (lo != want_lo || lf != want_lf)
		wl_fail("a new mapping is%s locked%s: mlockall %s",
			lo ? "" : " not", lf ? " on fault" : "",
			want_lf ? "MCL_FUTURE | MCL_ONFAULT" :
			want_lo ? "MCL_FUTURE" : "not called");
}

int main(int argc, char **argv)
{
	const char *mode = argc > 1 ? argv[1] : "future";
	int flags = MCL_FUTURE;

	wl_init();
	if (!strcmp(mode, "onfault"))
		flags |= MCL_ONFAULT;
	else if (!strcmp(mode, "none"))
		flags = 0;
	if (flags && mlockall(flags))
		wl_fail("mlockall: %s", strerror(errno));
	want_lo = !!flags;
	want_lf = !!(flags & MCL_ONFAULT);
	check();	/* the flags must show before the dump too */
	wl_count_checked(check);
	return 0;
}
