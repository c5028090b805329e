/*
 * madvise.c - memory advice and locks that change what the kernel does
 * with a mapping, which must come back exactly: one region each with
 * MADV_DONTFORK, MADV_DONTDUMP, MADV_WIPEONFORK, MADV_HUGEPAGE (2 MiB
 * aligned), MADV_NOHUGEPAGE, MADV_MERGEABLE (where the kernel has KSM),
 * MADV_RANDOM, MADV_SEQUENTIAL, mlock(), mlock2(MLOCK_ONFAULT) with one
 * page touched, and MAP_GROWSDOWN; each filled with its own pattern but
 * the ONFAULT one. At D/restored (the original: at D/stop) each region's
 * smaps VmFlags must read as before the dump, its data be there, its
 * locked size be as before, and a forked child must see the DONTFORK
 * region gone and the WIPEONFORK one zeroed.
 */
#include <sys/mman.h>
#include <sys/wait.h>

#include "workload.h"

#ifndef MLOCK_ONFAULT
#define MLOCK_ONFAULT	1
#endif

#define LEN	(64 * 1024)
#define HUGE	(2UL << 20)

enum { DONTFORK, DONTDUMP, WIPEONFORK, HUGEPAGE, NOHUGEPAGE, MERGEABLE,
       RANDOM, SEQUENTIAL, LOCKED, ONFAULT, GROWSDOWN, NR };

static const char *const names[NR] = {
	"dontfork", "dontdump", "wipeonfork", "hugepage", "nohugepage",
	"mergeable", "random", "sequential", "locked", "onfault",
	"growsdown",
};

static struct region {
	char *addr;
	size_t len;
	char flags[256];	/* its smaps VmFlags before the dump */
	char locked[64];	/* its smaps Locked: line */
} r[NR];

/* "VmFlags:" and "Locked:" of the mapping holding addr */
static void smaps_of(const char *addr, char *flags, char *locked)
{
	wl_smaps_line(addr, "VmFlags:", flags, 256);
	wl_smaps_line(addr, "Locked:", locked, 64);
}

static char *map(size_t len, int extra)
{
	char *p = mmap(NULL, len, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | extra, -1, 0);

	if (p == MAP_FAILED)
		wl_fail("mmap: %s", strerror(errno));
	return p;
}

static void advise(int i, int advice)
{
	if (madvise(r[i].addr, r[i].len, advice))
		wl_fail("madvise %s: %s", names[i], strerror(errno));
}

static void setup(void)
{
	char *p;
	int i;

	for (i = 0; i < NR; i++) {
		r[i].len = LEN;
		if (i == HUGEPAGE) {
			/* a whole aligned huge page */
			p = map(2 * HUGE, 0);
			r[i].addr = (char *)(((unsigned long)p + HUGE - 1) &
					     ~(HUGE - 1));
			r[i].len = HUGE;
		} else {
			r[i].addr = map(LEN, i == GROWSDOWN ? MAP_GROWSDOWN : 0);
		}
	}
	advise(DONTFORK, MADV_DONTFORK);
	advise(DONTDUMP, MADV_DONTDUMP);
	advise(WIPEONFORK, MADV_WIPEONFORK);
	advise(HUGEPAGE, MADV_HUGEPAGE);
	advise(NOHUGEPAGE, MADV_NOHUGEPAGE);
	if (madvise(r[MERGEABLE].addr, LEN, MADV_MERGEABLE) && errno != EINVAL)
		wl_fail("madvise mergeable: %s", strerror(errno));
	advise(RANDOM, MADV_RANDOM);
	advise(SEQUENTIAL, MADV_SEQUENTIAL);
	for (i = 0; i < NR; i++)
		if (i != ONFAULT)
			wl_fill(r[i].addr, r[i].len, i + 1);
	if (mlock(r[LOCKED].addr, LEN) ||
	    syscall(SYS_mlock2, r[ONFAULT].addr, LEN, MLOCK_ONFAULT))
		wl_fail("mlock: %s", strerror(errno));
	r[ONFAULT].addr[4096] = 7;
	for (i = 0; i < NR; i++)
		smaps_of(r[i].addr, r[i].flags, r[i].locked);
}

/* A child sees no DONTFORK region and a zeroed WIPEONFORK one. */
static void check_fork(void)
{
	pid_t pid = fork();
	int st, i;

	if (pid < 0)
		wl_fail("fork: %s", strerror(errno));
	if (!pid) {
		if (msync(r[DONTFORK].addr, 4096, MS_ASYNC) == 0 ||
		    errno != ENOMEM)
			_exit(2);
		for (i = 0; i < LEN; i++)
			if (r[WIPEONFORK].addr[i])
				_exit(3);
		_exit(0);
	}
	if (waitpid(pid, &st, 0) != pid || !WIFEXITED(st) || WEXITSTATUS(st))
		wl_fail("the forked child saw %s (status %#x)",
			WEXITSTATUS(st) == 2 ? "the DONTFORK region" :
			"the WIPEONFORK region unwiped", st);
}

static void check(void)
{
	char flags[256], locked[64];
	long off;
	int i;

	for (i = 0; i < NR; i++) {
		smaps_of(r[i].addr, flags, locked);
		if (strcmp(flags, r[i].flags))
			wl_fail("%s: %.*s, was %.*s", names[i],
				(int)strlen(flags) - 1, flags,
				(int)strlen(r[i].flags) - 1, r[i].flags);
		if (strcmp(locked, r[i].locked))
			wl_fail("%s: %.*s, was %.*s", names[i],
				(int)strlen(locked) - 1, locked,
				(int)strlen(r[i].locked) - 1, r[i].locked);
		off = i == ONFAULT ? -1 : wl_check_fill(r[i].addr, r[i].len, i + 1);
		if (off >= 0)
			wl_fail("%s: data differs at offset %ld", names[i], off);
	}
	if (r[ONFAULT].addr[4096] != 7)
		wl_fail("onfault: its touched page lost its byte");
	check_fork();
}

int main(void)
{
	wl_init();
	setup();
	wl_count_checked(check);
	return 0;
}
