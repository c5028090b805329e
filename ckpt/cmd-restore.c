/*
 * ckpt restore [--detach] IMAGE: run the standalone restorer that sits
 * beside ckpt, so that restore/ stays a small program of its own.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "ckpt/cmd.h"
#include "util/util.h"

static int exec_restore(int argc, char **argv)
{
	char path[PATH_MAX], *slash;
	ssize_t n;

	(void)argc;
	n = readlink("/proc/self/exe", path, sizeof(path) - 16);
	if (n < 0) {
		pr_perror("can't find the restore program");
		return EXIT_FAILED;
	}
	path[n] = '\0';
	slash = strrchr(path, '/');
	strcpy(slash ? slash + 1 : path, "restore");
	argv[0] = "restore";
	execv(path, argv);
	pr_perror("can't run %s", path);
	return EXIT_FAILED;
}

const struct cmd_entry cmd_restore_entry = {
	.name = "restore",
	.usage = "[--detach] IMAGE",
	.exec = exec_restore,
};
