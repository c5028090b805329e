/*
 * pidclone.c - a process that checks its PID: every ~20 ms it writes
 * "N PID" to its standard output, which the runner points at a file of
 * each clone's (restore --fd 1=...), and fails if getpid() is no longer
 * the PID it started with: restored with restore --pidns, its image PID
 * is its PID in the new namespace, whatever this host calls it. Writes
 * D/ready after the fifth line; exits 0 at D/stop.
 */
#include "workload.h"

int main(void)
{
	pid_t me = getpid();
	unsigned long n = 0;
	char buf[64];
	int len;

	wl_init();
	for (;;) {
		if (getpid() != me)
			wl_fail("getpid() is %d, was %d", (int)getpid(), (int)me);
		len = snprintf(buf, sizeof(buf), "%lu %d\n", n++, (int)me);
		if (write(1, buf, len) != len)
			wl_fail("write: %s", strerror(errno));
		if (n == 5)
			wl_ready();
		if (n > 5 && wl_should_stop())
			return 0;
		wl_sleep_ms(20);
	}
}
