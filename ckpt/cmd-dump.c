/*
 * ckpt dump DIR: ask the supervisor of a ckpt run directory for a
 * checkpoint now; prints the image's path.
 */
#include <limits.h>
#include <stdio.h>
#include <string.h>

#include "ckpt/cmd.h"
#include "ckpt/run.h"
#include "util/json.h"

static int exec_dump(int argc, char **argv)
{
	char msg[PATH_MAX + 256];
	int json = argc == 3 && !strcmp(argv[1], "--json");

	if (argc == 2 && (!strcmp(argv[1], "-h") ||
			  !strcmp(argv[1], "--help"))) {
		printf("usage: ckpt dump %s\n", cmd_dump_entry.usage);
		return 0;
	}
	if (argc != 2 + json || argv[1 + json][0] == '-')
		return cmd_usage(&cmd_dump_entry);
	switch (run_request_dump(argv[1 + json], msg, sizeof(msg))) {
	case RUN_DUMP_OK:
		if (json) {
			json_begin();
			json_kstr(1, "image", msg);
			json_end();
		} else {
			printf("%s\n", msg);
		}
		return 0;
	case RUN_DUMP_NOSUP:
		pr_err("%s", msg);
		return EXIT_NOTARGET;
	default:
		pr_err("%s", msg);
		return EXIT_FAILED;
	}
}

const struct cmd_entry cmd_dump_entry = {
	.name = "dump",
	.usage = "[--json] DIR",
	.exec = exec_dump,
};
