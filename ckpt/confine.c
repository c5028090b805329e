/*
 * confine: a seccomp filter for the commands that only parse an image
 * (confine.h).
 *
 * An image is untrusted input: the reader checks every field, and this
 * is the second wall should a bug in it (or in libelf, libunwind) be
 * found. It is installed once the command's files are open (the image,
 * decoded into a plain fd by plugins/pipeline.c; convert's temporary
 * core), so what a subverted parser could still do is read, print, and
 * write the one output file. Files are still opened read-only, by path:
 * the backtraces of inspect and the file mappings of convert read the
 * executables and libraries the image names. The stages that decode a
 * compressed or encrypted image (libzstd, libsodium, a plugin's filter)
 * run under the same filter: pipeline_open_read_confined() runs them in
 * a child that confine_decoder() confines first, whose only output is
 * the memfd that the decoded image goes to.
 *
 * A call off the list fails with EPERM rather than killing the process
 * (serve-seccomp.c kills): a parser has nothing left to gain from going
 * on, and a library's path that is not on the list (libunwind's pipe2(2)
 * probe of its own memory, which it does without) then fails as on an
 * older kernel instead of killing an inspect that was about to succeed.
 */
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <errno.h>
#include <fcntl.h>
#include <seccomp.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "ckpt/confine.h"
#include "util/fault.h"

/* Allowed whatever their arguments: none writes outside the process. */
static const char *const free_calls[] = {
	/* reading what is open */
	"read", "readv", "pread64", "preadv", "lseek", "fstat",
	"newfstatat", "statx", "close", "fcntl",
	/* memory (see mmap below), time, randomness, locks */
	"brk", "munmap", "mremap", "madvise", "futex", "clock_gettime",
	"getrandom", "sysinfo", "uname", "mincore",
	/* signals and the end */
	"rt_sigaction", "rt_sigprocmask", "rt_sigreturn", "getpid",
	"gettid", "exit", "exit_group",
};

static int allow(scmp_filter_ctx ctx, const char *name, unsigned int n,
		 const struct scmp_arg_cmp *cmp)
{
	int nr = seccomp_syscall_resolve_name(name), rc;

	/* some calls do not exist on every architecture */
	if (nr == __NR_SCMP_ERROR)
		return 0;
	rc = seccomp_rule_add_array(ctx, SCMP_ACT_ALLOW, nr, n, cmp);
	if (rc < 0) {
		pr_err("can't allow %s in the seccomp filter: %s", name,
		       strerror(-rc));
		return -1;
	}
	return 0;
}

static int allow_arg(scmp_filter_ctx ctx, const char *name,
		     struct scmp_arg_cmp cmp)
{
	return allow(ctx, name, 1, &cmp);
}

/* write(2) and the like to stdout, stderr and out_fd only */
static int allow_writes(scmp_filter_ctx ctx, int out_fd)
{
	static const char *const to_out[] = {
		"pwrite64", "pwritev", "ftruncate",
	};
	int fds[] = { STDOUT_FILENO, STDERR_FILENO, out_fd };
	size_t i, j;

	for (i = 0; i < ARRAY_SIZE(fds); i++) {
		if (fds[i] < 0)
			continue;
		if (allow_arg(ctx, "write", SCMP_A0(SCMP_CMP_EQ, fds[i])) ||
		    allow_arg(ctx, "writev", SCMP_A0(SCMP_CMP_EQ, fds[i])))
			return -1;
	}
	for (j = 0; out_fd >= 0 && j < ARRAY_SIZE(to_out); j++)
		if (allow_arg(ctx, to_out[j], SCMP_A0(SCMP_CMP_EQ, out_fd)))
			return -1;
	return 0;
}

/* Calls allowed with some arguments only. */
static int allow_some(scmp_filter_ctx ctx)
{
	/* opening for reading only: no O_CREAT, O_TRUNC, O_TMPFILE ... */
	const scmp_datum_t wr = O_ACCMODE | O_CREAT | O_TRUNC | O_APPEND |
				(O_TMPFILE & ~O_DIRECTORY);
	pid_t self = getpid();

	return allow_arg(ctx, "openat", SCMP_A2(SCMP_CMP_MASKED_EQ, wr, 0)) ||
	       /* no new code: data only */
	       allow_arg(ctx, "mmap",
			 SCMP_A2(SCMP_CMP_MASKED_EQ, PROT_EXEC, 0)) ||
	       allow_arg(ctx, "mprotect",
			 SCMP_A2(SCMP_CMP_MASKED_EQ, PROT_EXEC, 0)) ||
	       /* stdio asks whether stdout is a terminal */
	       allow_arg(ctx, "ioctl", SCMP_A1(SCMP_CMP_EQ, TCGETS)) ||
	       /* abort(3), a fault point: signals to ourselves only */
	       allow_arg(ctx, "kill", SCMP_A0(SCMP_CMP_EQ, self)) ||
	       allow_arg(ctx, "tgkill", SCMP_A0(SCMP_CMP_EQ, self));
}

static int install(int out_fd)
{
	scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_ERRNO(EPERM));
	size_t i;
	int rc = -1;

	if (!ctx) {
		pr_err("can't set up the seccomp filter");
		return -1;
	}
	for (i = 0; i < ARRAY_SIZE(free_calls); i++)
		if (allow(ctx, free_calls[i], 0, NULL))
			goto out;
	if (allow_writes(ctx, out_fd) || allow_some(ctx))
		goto out;
	rc = seccomp_load(ctx);
	if (rc < 0)
		pr_err("can't load the seccomp filter: %s", strerror(-rc));
out:
	seccomp_release(ctx);
	return rc < 0 ? -1 : 0;
}

int confine_parser(int out_fd)
{
	if (install(out_fd))
		return -1;
	fault_point("confined");
	return 0;
}

int confine_decoder(int out_fd)
{
	if (install(out_fd))
		return -1;
	fault_point("decoding");
	return 0;
}

int confine_fork(int out_fd, int (*fn)(void *arg), void *arg)
{
	int status;
	pid_t pid;

	fflush(NULL);	/* nothing buffered is written twice */
	pid = fork();
	if (pid < 0) {
		pr_perror("can't fork the confined parser");
		return EXIT_FAILED;
	}
	if (!pid) {
		if (prctl(PR_SET_PDEATHSIG, SIGKILL) || confine_parser(out_fd))
			_exit(EXIT_FAILED);
		status = fn(arg);
		fflush(NULL);
		_exit(status);
	}
	while (waitpid(pid, &status, 0) < 0) {
		if (errno != EINTR) {
			pr_perror("can't wait for the confined parser %d", pid);
			return EXIT_FAILED;
		}
	}
	if (WIFEXITED(status))
		return WEXITSTATUS(status);
	pr_err("the confined parser was killed by signal %d",
	       WTERMSIG(status));
	return EXIT_FAILED;
}
