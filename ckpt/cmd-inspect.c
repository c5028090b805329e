/*
 * ckpt inspect [--json] IMAGE: what an image holds, checked as restore
 * checks it: the processes, their threads with their registers and call
 * stacks (unwound from the image alone, see elf/backtrace.h), maps,
 * files, page counts, the file table, the shared memory objects that
 * maps name, and the zombies with their exit status. --json prints the
 * same as one JSON document. The printers are inspect-text.c and
 * inspect-json.c. Once the image is open, the parsing and printing run
 * under a seccomp filter (ckpt/confine.h).
 */
#include <errno.h>
#include <getopt.h>
#include <unistd.h>

#include "ckpt/cmd.h"
#include "ckpt/confine.h"
#include "ckpt/inspect.h"
#include "image/image.h"
#include "plugins/pipeline.h"
#include "plugins/stageopt.h"

static int exec_inspect(int argc, char **argv)
{
	static const struct option own[] = {
		{ "json", no_argument, NULL, 'j' },
		{ NULL, 0, NULL, 0 },
	};
	struct stage_opts so;
	struct image *img;
	int c, fd, json = 0;

	stage_opts_init(&so, STAGE_OPT_KEY, own);
	optind = 1;
	while ((c = getopt_long(argc, argv, "+k:", so.longopts, NULL)) != -1) {
		if (c == 'j')
			json = 1;
		else if (stage_opts_parse(&so, c, optarg))
			return cmd_usage(&cmd_inspect_entry);
	}
	if (optind != argc - 1)
		return cmd_usage(&cmd_inspect_entry);
	fd = pipeline_open_read_confined(argv[optind], so.params,
					 so.nr_params, confine_decoder);
	if (fd < 0)
		return errno == EBADMSG ? EXIT_BADIMAGE : EXIT_NOIMAGE;
	/* the image is open and decoded: what follows only parses it */
	if (confine_parser(-1)) {
		close(fd);
		return EXIT_FAILED;
	}
	img = img_read_named_fd(fd, argv[optind], 0);
	if (!img || img_read_chain(img, argv[optind], img_open_plain, NULL)) {
		img_free(img);
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
