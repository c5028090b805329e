/*
 * seccomp.c - a process under a seccomp filter, which ckpt must refuse to
 * dump (restoring it without its sandbox would be a silent security loss)
 * while leaving it running. The filter allows everything.
 */
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sys/prctl.h>

#include "workload.h"

int main(void)
{
	struct sock_filter allow = BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW);
	struct sock_fprog prog = { .len = 1, .filter = &allow };
	unsigned long n = 0;
	int fd;

	wl_init();
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) ||
	    prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog))
		wl_fail("seccomp: %s", strerror(errno));
	fd = wl_count_open();
	for (;;) {
		if (wl_count_step(fd, &n))
			break;
		wl_sleep_ms(20);
	}
	return 0;
}
