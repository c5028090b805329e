/*
 * ckpt translate [--json] [--sync] --to ISA IMAGE OUT: an image of a ckpt cc
 * program taken at a landmark (attach --landmark) made into a translated
 * image that the program's ISA build resumes (arch/xisa.h).
 */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "arch/xisa.h"
#include "ckpt/cmd.h"
#include "util/json.h"
#include "util/util.h"

static int exec_translate(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "to", required_argument, NULL, 't' },
		{ "json", no_argument, NULL, 'j' },
		{ "sync", no_argument, NULL, 0x1f0 },
		{ NULL, 0, NULL, 0 },
	};
	struct xisa_stats st;
	int c, to = -1, json = 0, sync = 0;

	while ((c = getopt_long(argc, argv, "t:", opts, NULL)) != -1) {
		if (c == 't' && (to = xisa_by_name(optarg)) < 0) {
			fprintf(stderr, "ckpt translate: unknown ISA %s "
				"(x86_64, aarch64)\n", optarg);
			return EXIT_USAGE;
		}
		if (c == 'j')
			json = 1;
		else if (c == 0x1f0)
			sync = 1;
		else if (c != 't')
			return cmd_usage(&cmd_translate_entry);
	}
	if (to < 0 || argc - optind != 2)
		return cmd_usage(&cmd_translate_entry);
	if (xisa_translate(argv[optind], argv[optind + 1], to, sync, &st))
		return EXIT_FAILED;
	if (json) {
		json_begin();
		json_u64(1, "frames", st.frames);
		json_u64(0, "threads", st.threads);
		json_u64(0, "stack_bytes", st.stack_bytes);
		json_u64(0, "data_bytes", st.data_bytes);
		json_u64(0, "heap_bytes", st.heap_bytes);
		json_f64(0, "seconds", st.seconds);
		json_f64(0, "read_seconds", st.read_seconds);
		json_f64(0, "meta_seconds", st.meta_seconds);
		json_f64(0, "frame_seconds", st.frame_seconds);
		json_f64(0, "sync_seconds", st.sync_seconds);
		json_f64(0, "stop_seconds", st.stop_seconds);
		json_end();
	}
	return 0;
}

const struct cmd_entry cmd_translate_entry = {
	.name = "translate",
	.usage = "[--json] [--sync] --to ISA IMAGE OUT",
	.exec = exec_translate,
};
