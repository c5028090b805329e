/*
 * memadv.c - memory state beyond madvise.c's that must come back:
 *   guard  16 pages of a pattern, pages 4 and 5 made guard pages
 *          (MADV_GUARD_INSTALL, Linux 6.13): each access to them faults
 *          with SIGSEGV, the other pages keep the pattern;
 *   drop   4 pages of MAP_DROPPABLE memory (Linux 6.11) with a pattern:
 *          still droppable ("dp" in smaps VmFlags), data there;
 *   merge  PR_SET_MEMORY_MERGE (KSM for all the memory, Linux 6.4), where
 *          the kernel has KSM: PR_GET_MEMORY_MERGE reads 1.
 * Checked at D/restored (the original: at D/stop).
 */
#include <sys/mman.h>
#include <sys/prctl.h>
#include <setjmp.h>
#include <signal.h>

#include "workload.h"

#ifndef MADV_GUARD_INSTALL
#define MADV_GUARD_INSTALL	102
#endif
#ifndef MAP_DROPPABLE
#define MAP_DROPPABLE		0x08
#endif
#ifndef PR_SET_MEMORY_MERGE
#define PR_SET_MEMORY_MERGE	67
#define PR_GET_MEMORY_MERGE	68
#endif

#define PS	4096
#define NG	16

static char *guard, *drop;
static int merge = -1;		/* -1: no KSM here */
static char drop_flags[256];
static sigjmp_buf jb;

static void on_segv(int sig)
{
	(void)sig;
	siglongjmp(jb, 1);
}

/* 1 if reading addr faults */
static int faults(volatile const char *addr)
{
	struct sigaction sa, old;
	int f = 0;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_segv;
	sa.sa_flags = SA_NODEFER;
	if (sigaction(SIGSEGV, &sa, &old))
		wl_fail("sigaction: %s", strerror(errno));
	if (sigsetjmp(jb, 1))
		f = 1;
	else
		(void)*addr;
	sigaction(SIGSEGV, &old, NULL);
	return f;
}

static void check(void)
{
	char flags[256];
	int i;

	for (i = 0; i < NG; i++) {
		int g = i == 4 || i == 5;

		if (faults(guard + i * PS) != g)
			wl_fail("guard page %d %s", i,
				g ? "can be read" : "faults");
		if (!g && wl_check_fill(guard + i * PS, PS, i) >= 0)
			wl_fail("guarded region: page %d differs", i);
	}
	wl_smaps_line(drop, "VmFlags:", flags, sizeof(flags));
	if (strcmp(flags, drop_flags) || !strstr(flags, " dp"))
		wl_fail("droppable memory: %s, before %s", flags, drop_flags);
	if (wl_check_fill(drop, 4 * PS, 77) >= 0)
		wl_fail("droppable memory differs");
	if (merge >= 0 && prctl(PR_GET_MEMORY_MERGE, 0, 0, 0, 0) != merge)
		wl_fail("memory merge %d, before %d",
			(int)prctl(PR_GET_MEMORY_MERGE, 0, 0, 0, 0), merge);
}

int main(void)
{
	int i;

	wl_init();
	guard = mmap(NULL, NG * PS, PROT_READ | PROT_WRITE,
		     MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	drop = mmap(NULL, 4 * PS, PROT_READ | PROT_WRITE,
		    MAP_DROPPABLE | MAP_ANONYMOUS, -1, 0);
	if (guard == MAP_FAILED || drop == MAP_FAILED)
		wl_fail("mmap: %s", strerror(errno));
	for (i = 0; i < NG; i++)
		wl_fill(guard + i * PS, PS, i);
	wl_fill(drop, 4 * PS, 77);
	if (madvise(guard + 4 * PS, 2 * PS, MADV_GUARD_INSTALL))
		wl_fail("MADV_GUARD_INSTALL: %s", strerror(errno));
	if (prctl(PR_SET_MEMORY_MERGE, 1, 0, 0, 0) == 0)
		merge = 1;
	else if (errno != EINVAL)
		wl_fail("PR_SET_MEMORY_MERGE: %s", strerror(errno));
	wl_smaps_line(drop, "VmFlags:", drop_flags,
		      sizeof(drop_flags));	/* KSM's "mg" too */
	check();
	wl_count_checked(check);
	return 0;
}
