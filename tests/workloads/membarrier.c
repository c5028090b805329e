/*
 * membarrier.c - membarrier(2) registrations, which must come back: the
 * process registers for private expedited barriers, and for the rseq
 * flavour where the kernel has it, not for the sync-core one. Once
 * D/restored appears (at D/stop in the original) each private expedited
 * command must work, or fail with EPERM, as it did before the dump.
 */
#include <linux/membarrier.h>

#include "workload.h"

static const int cmds[] = {
	MEMBARRIER_CMD_PRIVATE_EXPEDITED,
	MEMBARRIER_CMD_PRIVATE_EXPEDITED_SYNC_CORE,
	MEMBARRIER_CMD_PRIVATE_EXPEDITED_RSEQ,
};
static int before[3];

static long membarrier(int cmd)
{
	return syscall(SYS_membarrier, cmd, 0, 0);
}

/* 0 for a command that works, else its errno */
static int probe(int cmd)
{
	return membarrier(cmd) ? errno : 0;
}

static void check(void)
{
	int i, now;

	for (i = 0; i < 3; i++) {
		now = probe(cmds[i]);
		if (now != before[i])
			wl_fail("membarrier command %#x: %s, before the dump %s",
				cmds[i], strerror(now), strerror(before[i]));
	}
}

int main(void)
{
	long have;
	int i;

	wl_init();
	have = membarrier(MEMBARRIER_CMD_QUERY);
	if (have < 0 || !(have & MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED))
		wl_fail("no private expedited membarrier here");
	if (membarrier(MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED) ||
	    ((have & MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED_RSEQ) &&
	     membarrier(MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED_RSEQ)))
		wl_fail("membarrier register: %s", strerror(errno));
	for (i = 0; i < 3; i++)
		before[i] = probe(cmds[i]);
	if (before[0])
		wl_fail("registered, yet: %s", strerror(before[0]));
	wl_count_checked(check);
	return 0;
}
