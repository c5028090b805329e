/*
 * ckpt keygen KEYFILE: a new key for --encrypt and --key, mode 0600. An
 * existing file is never overwritten.
 */
#include <errno.h>
#include <stdio.h>

#include "ckpt/cmd.h"
#include "plugins/pipeline.h"
#include "util/util.h"

static int exec_keygen(int argc, char **argv)
{
	if (argc != 2 || argv[1][0] == '-')
		return cmd_usage(&cmd_keygen_entry);
	if (pipeline_keygen(argv[1])) {
		pr_perror("can't create key %s", argv[1]);
		return EXIT_CANTCREATE;
	}
	return 0;
}

const struct cmd_entry cmd_keygen_entry = {
	.name = "keygen",
	.usage = "KEYFILE",
	.exec = exec_keygen,
};
