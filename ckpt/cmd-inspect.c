/*
 * ckpt inspect [--json] IMAGE: what an image holds, checked as restore
 * checks it: the processes, their threads with their registers and call
 * stacks (unwound from the image alone, see elf/backtrace.h), maps,
 * files, page counts, the file table, the shared memory objects that
 * maps name, and the zombies with their exit status. --json prints the
 * same as one JSON document. The printers are inspect-text.c and
 * inspect-json.c.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <unistd.h>

#include "ckpt/cmd.h"
#include "ckpt/inspect.h"
#include "image/image.h"
#include "plugins/pipeline.h"

static int exec_inspect(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "key", required_argument, NULL, 'k' },
		{ NULL, 0, NULL, 0 },
	};
	const char *params[1];
	char keyparam[4200];
	struct image *img;
	int c, fd, json = 0, nr_params = 0;

	optind = 1;
	while ((c = getopt_long(argc, argv, "+k:", longopts, NULL)) != -1) {
		if (c == 'j') {
			json = 1;
		} else if (c == 'k') {
			snprintf(keyparam, sizeof(keyparam), "encrypt=%s",
				 optarg);
			params[0] = keyparam;
			nr_params = 1;
		} else {
			return cmd_usage(&cmd_inspect_entry);
		}
	}
	if (optind != argc - 1)
		return cmd_usage(&cmd_inspect_entry);
	fd = pipeline_open_read_with(argv[optind], params, nr_params);
	if (fd < 0)
		return errno == EBADMSG ? EXIT_BADIMAGE : EXIT_NOIMAGE;
	img = img_read_named_fd(fd, argv[optind], 0);
	if (!img) {
		close(fd);
		return EXIT_BADIMAGE;
	}
	/* the backtraces read page data from the image: fd stays open */
	if (json)
		inspect_print_json(img, fd);
	else
		inspect_print_text(img, fd);
	close(fd);
	img_free(img);
	return 0;
}

const struct cmd_entry cmd_inspect_entry = {
	.name = "inspect",
	.usage = "[--json] [--key KEYFILE] IMAGE",
	.exec = exec_inspect,
};
