/*
 * membarrier.c - membarrier(2) registrations, which must come back: the
 * process registers for private expedited barriers, and for the rseq
 * flavour where the kernel has it, not for the sync-core one. Once
 * D/restored appears (at D/stop in the original) each private expedited
 * command must work, or fail with EPERM, as it did before the dump.
 *
 * With the argument "all", it registers for every kind the kernel has,
 * GLOBAL_EXPEDITED and SYNC_CORE too, and MEMBARRIER_CMD_GET_REGISTRATIONS
 * (Linux 6.3) must list the same registrations after the restore.
 */
#include <linux/membarrier.h>

#include "workload.h"

#ifndef MEMBARRIER_CMD_GET_REGISTRATIONS
#define MEMBARRIER_CMD_GET_REGISTRATIONS	(1 << 9)
#endif

static const int cmds[] = {
	MEMBARRIER_CMD_PRIVATE_EXPEDITED,
	MEMBARRIER_CMD_PRIVATE_EXPEDITED_SYNC_CORE,
	MEMBARRIER_CMD_PRIVATE_EXPEDITED_RSEQ,
};
static int before[3];
static long registered = -1;	/* GET_REGISTRATIONS before the dump */

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
	long now;
	int i;

	for (i = 0; i < 3; i++) {
		now = probe(cmds[i]);
		if (now != before[i])
			wl_fail("membarrier command %#x: %s, before the dump %s",
				cmds[i], strerror(now), strerror(before[i]));
	}
	if (registered < 0)
		return;
	now = membarrier(MEMBARRIER_CMD_GET_REGISTRATIONS);
	if (now != registered)
		wl_fail("membarrier registrations %#lx, before the dump %#lx",
			now, registered);
}

/* Every registration the kernel offers, the global one included. */
static void register_all(long have)
{
	static const int reg[] = {
		MEMBARRIER_CMD_REGISTER_GLOBAL_EXPEDITED,
		MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED,
		MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED_SYNC_CORE,
		MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED_RSEQ,
	};
	size_t i;

	if (!(have & MEMBARRIER_CMD_GET_REGISTRATIONS))
		wl_fail("no MEMBARRIER_CMD_GET_REGISTRATIONS here");
	for (i = 0; i < sizeof(reg) / sizeof(reg[0]); i++)
		if ((have & reg[i]) && membarrier(reg[i]))
			wl_fail("membarrier register %#x: %s", reg[i],
				strerror(errno));
	registered = membarrier(MEMBARRIER_CMD_GET_REGISTRATIONS);
	if (!(registered & MEMBARRIER_CMD_REGISTER_GLOBAL_EXPEDITED))
		wl_fail("registrations %#lx: not the global one", registered);
}

int main(int argc, char **argv)
{
	long have;
	int i;

	wl_init();
	have = membarrier(MEMBARRIER_CMD_QUERY);
	if (have < 0 || !(have & MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED))
		wl_fail("no private expedited membarrier here");
	if (argc > 1 && !strcmp(argv[1], "all"))
		register_all(have);
	else if (membarrier(MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED) ||
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
