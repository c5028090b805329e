/*
 * ckpt cc -o PROG [CFLAGS...] SOURCE.c...: runs ckpt-cc (cc/), the only
 * program linked with LLVM, from beside ckpt or from the PATH; it builds
 * PROG.x86_64, PROG.aarch64 and their metadata PROG.xisa (ckpt-cc(1)).
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "ckpt/cmd.h"
#include "util/util.h"

static int exec_cc(int argc, char **argv)
{
	char self[PATH_MAX], *slash;
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 16);

	/* usage without ckpt-cc: completion reads it from an install */
	if (argc < 2 || !strcmp(argv[1], "--help"))
		return cmd_usage(&cmd_cc_entry);
	if (n > 0) {
		self[n] = 0;
		slash = strrchr(self, '/');
		strcpy(slash + 1, "ckpt-cc");
		argv[0] = self;
		execv(self, argv);
	}
	argv[0] = "ckpt-cc";
	execvp("ckpt-cc", argv);
	fprintf(stderr, "ckpt cc: can't run ckpt-cc: %s\n", strerror(errno));
	return EXIT_FAILED;
}

const struct cmd_entry cmd_cc_entry = {
	.name = "cc",
	.usage = "-o PROG [CFLAGS...] SOURCE.c...",
	.exec = exec_cc,
};
