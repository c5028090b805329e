/*
 * ckpt restore [--detach] [--lock-network] [--fd N=PATH[:FLAGS]]...
 * IMAGE | DIR: run the standalone restorer that sits beside ckpt, so that
 * restore/ stays a small program of its own. DIR is a ckpt run directory,
 * standing for its newest image.
 */
#include <sys/stat.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ckpt/cmd.h"
#include "util/util.h"

/*
 * A ckpt run directory stands for its newest complete image: the target
 * of DIR/latest, resolved now so that a checkpoint taken meanwhile does
 * not change the image under restore.
 */
static char *run_dir_image(const char *arg)
{
	char latest[PATH_MAX];
	struct stat st;

	if (stat(arg, &st) || !S_ISDIR(st.st_mode))
		return NULL;
	if ((size_t)snprintf(latest, sizeof(latest), "%s/latest", arg) >=
	    sizeof(latest))
		return NULL;
	if (lstat(latest, &st))
		return NULL;
	return realpath(latest, NULL);
}

static int exec_restore(int argc, char **argv)
{
	char path[PATH_MAX], *slash, **args, *image = NULL;
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
	if (argc > 1 && (image = run_dir_image(argv[argc - 1])))
		args[k - 1] = image;
	args[k] = NULL;
	n = readlink("/proc/self/exe", path, sizeof(path) - 16);
	if (n < 0) {
		pr_perror("can't find the restore program");
		free(args);
		free(image);
		return EXIT_FAILED;
	}
	path[n] = '\0';
	slash = strrchr(path, '/');
	strcpy(slash ? slash + 1 : path, "restore");
	execv(path, args);
	pr_perror("can't run %s", path);
	free(args);
	free(image);
	return EXIT_FAILED;
}

const struct cmd_entry cmd_restore_entry = {
	.name = "restore",
	.usage = "[--detach] [--lock-network] [--fd N=PATH[:FLAGS]]... IMAGE | DIR",
	.exec = exec_restore,
};
