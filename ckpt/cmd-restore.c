/*
 * ckpt restore [--detach] IMAGE: run the standalone restorer that sits
 * beside ckpt, so that restore/ stays a small program of its own.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ckpt/cmd.h"
#include "util/util.h"

static int exec_restore(int argc, char **argv)
{
	char path[PATH_MAX], *slash, **args;
	int i, k = 0, level = log_get_level();
	ssize_t n;

	/* ckpt's own -v/-q go on to restore */
	args = calloc(argc + 8, sizeof(*args));
	if (!args)
		return EXIT_FAILED;
	args[k++] = "restore";
	if (level == LOG_ERR)
		args[k++] = "-q";
	for (i = LOG_WARN; i < level && k < 6; i++)
		args[k++] = "-v";
	for (i = 1; i < argc; i++)
		args[k++] = argv[i];
	args[k] = NULL;
	n = readlink("/proc/self/exe", path, sizeof(path) - 16);
	if (n < 0) {
		pr_perror("can't find the restore program");
		return EXIT_FAILED;
	}
	path[n] = '\0';
	slash = strrchr(path, '/');
	strcpy(slash ? slash + 1 : path, "restore");
	execv(path, args);
	pr_perror("can't run %s", path);
	free(args);
	return EXIT_FAILED;
}

const struct cmd_entry cmd_restore_entry = {
	.name = "restore",
	.usage = "[--detach] IMAGE",
	.exec = exec_restore,
};
