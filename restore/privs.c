/*
 * privs: restore gives up every capability once the tree runs.
 *
 * After the last process is let go, restore only waits for the root
 * (waitpid needs no privilege) or exits (--detach). Whatever it could
 * still do as a privileged process is then of use only to someone who
 * subverted it, and the tree it made must not be reachable through it:
 * so it drops its bounding set (PR_CAPBSET_DROP, which needs CAP_SETPCAP;
 * without it the set is left, as nothing running can use it), clears
 * its ambient set, then empties its permitted, effective and inheritable
 * sets with capset(2). capset() changes only the calling thread: restore
 * has no other thread by then (the image is read into memory by this
 * one, plugins/pipeline.c).
 */
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <linux/capability.h>
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "restore/restore.h"

static void drop_bounding(void)
{
	int cap;

	/* the bounding set of this kernel ends where prctl says EINVAL */
	for (cap = 0; prctl(PR_CAPBSET_READ, cap, 0, 0, 0) >= 0; cap++)
		if (prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) && errno == EPERM)
			return;
}

int restore_drop_caps(void)
{
	struct __user_cap_header_struct hdr = {
		.version = _LINUX_CAPABILITY_VERSION_3,
	};
	struct __user_cap_data_struct data[_LINUX_CAPABILITY_U32S_3];

	drop_bounding();
	/* EINVAL on kernels before 4.3, which have no ambient set */
	if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) &&
	    errno != EINVAL) {
		pr_perror("can't clear the ambient capabilities");
		return -1;
	}
	memset(data, 0, sizeof(data));
	if (syscall(SYS_capset, &hdr, data)) {
		pr_perror("can't drop the capabilities of restore");
		return -1;
	}
	return 0;
}
