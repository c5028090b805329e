/*
 * serve-seccomp: the system calls ckpt serve may make once it listens.
 *
 * Installed after the socket is listening, the directory open and the key
 * loaded, so none of open(2) of arbitrary paths, bind(2), connect(2),
 * execve(2) or ptrace(2) remains. Anything off the list kills the whole
 * process (SCMP_ACT_KILL_PROCESS, SIGSYS): a server that was made to try
 * such a call has been subverted, and failing with EPERM would let it go
 * on. openat(2) stays (files are opened relative to the image directory
 * with O_NOFOLLOW), as do fork and the socket calls of a connection.
 */
#include <errno.h>
#include <seccomp.h>
#include <string.h>

#include "serve/serve-priv.h"

static const char *const allowed[] = {
	/* connections */
	"accept", "accept4", "ppoll", "poll", "recvfrom", "sendto", "read",
	"write", "close", "setsockopt", "getsockname", "getpeername",
	"shutdown",
	/* the images: relative to the directory only (see above); fchmod
	 * of a temporary we created (util/durable.c) */
	"openat", "pread64", "fstat", "newfstatat", "statx", "lseek", "fsync",
	"renameat", "renameat2", "unlinkat", "flock", "fchmod",
	/* one child per connection */
	"clone", "wait4", "kill", "exit", "exit_group", "set_robust_list",
	"rseq", "getpid", "gettid", "tgkill",
	/* signals; the alarm of a client's deadline (serve-conn.c) */
	"rt_sigaction", "rt_sigprocmask", "rt_sigreturn", "alarm",
	"setitimer",
	/* memory, time, randomness (libsodium's nonces) */
	"brk", "mmap", "munmap", "mremap", "madvise", "mprotect", "futex",
	"clock_gettime", "getrandom",
	/* glibc's qsort asks for the memory size (the page server's sort,
	 * the image reader's) */
	"sysinfo",
};

int serve_seccomp(void)
{
	scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_KILL_PROCESS);
	size_t i;
	int rc = -1;

	if (!ctx) {
		pr_err("can't set up the seccomp filter");
		return -1;
	}
	for (i = 0; i < ARRAY_SIZE(allowed); i++) {
		int nr = seccomp_syscall_resolve_name(allowed[i]);

		/* some calls do not exist on every architecture */
		if (nr == __NR_SCMP_ERROR)
			continue;
		rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, nr, 0);
		if (rc < 0) {
			pr_err("can't allow %s in the seccomp filter: %s",
			       allowed[i], strerror(-rc));
			goto out;
		}
	}
	rc = seccomp_load(ctx);
	if (rc < 0)
		pr_err("can't load the seccomp filter: %s", strerror(-rc));
out:
	seccomp_release(ctx);
	return rc < 0 ? -1 : 0;
}
