/*
 * ckpt attach [-o IMAGE] [--kill] PID: seize a live process and dump it.
 */
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ckpt/cmd.h"
#include "ckpt/dump.h"

static int parse_pid(const char *s, pid_t *pid)
{
	char *end;
	long v = strtol(s, &end, 10);

	if (!*s || *end || v <= 0 || v > 0x3fffffff)
		return -1;
	*pid = v;
	return 0;
}

/* --compress[=LEVEL]: the zstd filter, "zstd=LEVEL" */
static int compress_arg(const char *level, char *buf, size_t len)
{
	char *end;
	long v;

	if (!level) {
		snprintf(buf, len, "zstd");
		return 1;
	}
	v = strtol(level, &end, 10);
	if (!*level || *end || v < 1 || v > 19) {
		fprintf(stderr, "ckpt attach: --compress level must be 1-19\n");
		return 0;
	}
	snprintf(buf, len, "zstd=%ld", v);
	return 1;
}

static int parse_quorum(const char *s)
{
	char *end;
	long v = strtol(s, &end, 10);

	return *s && !*end && v >= 1 && v <= 16 ? (int)v : -1;
}

static int stdout_is_tty(const struct dump_opts *o)
{
	int i;

	for (i = 0; i < o->nr_outputs; i++)
		if (!strcmp(o->outputs[i], "-") && isatty(STDOUT_FILENO))
			return 1;
	return 0;
}

static int exec_attach(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "output", required_argument, NULL, 'o' },
		{ "kill", no_argument, NULL, 'k' },
		{ "tree", no_argument, NULL, 't' },
		{ "ext-null", no_argument, NULL, 'N' },
		{ "compress", optional_argument, NULL, 'z' },
		{ "encrypt", required_argument, NULL, 'e' },
		{ "auth", required_argument, NULL, 'a' },
		{ "quorum", required_argument, NULL, 'Q' },
		{ "ghost-limit", required_argument, NULL, 'G' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct dump_opts o = { .interrupted = &cmd_stop_signal,
			       .ghost_limit = DUMP_GHOST_LIMIT };
	char defout[64], zopt[32] = "zstd", eopt[4200], aopt[4200];
	int encrypt = 0, compress = 0;
	int c;

	optind = 1;
	while ((c = getopt_long(argc, argv, "+o:khtz::e:Q:", longopts, NULL)) != -1) {
		switch (c) {
		case 'o':
			if (o.nr_outputs == (int)ARRAY_SIZE(o.outputs)) {
				fprintf(stderr, "ckpt attach: at most %zu -o\n",
					ARRAY_SIZE(o.outputs));
				return EXIT_USAGE;
			}
			o.outputs[o.nr_outputs++] = optarg;
			break;
		case 'Q':
			o.quorum = parse_quorum(optarg);
			if (o.quorum < 1)
				return cmd_usage(&cmd_attach_entry);
			break;
		case 'z':
			if (!compress_arg(optarg, zopt, sizeof(zopt)))
				return cmd_usage(&cmd_attach_entry);
			compress = 1;
			break;
		case 'e':
			snprintf(eopt, sizeof(eopt), "encrypt=%s", optarg);
			encrypt = 1;
			break;
		case 'a':
			snprintf(aopt, sizeof(aopt), "auth=%s", optarg);
			o.params[0] = aopt;
			o.nr_params = 1;
			break;
		case 'k':
			o.kill = 1;
			break;
		case 't':
			o.tree = 1;
			break;
		case 'N':
			o.ext_null = 1;
			break;
		case 'G':
			if (cmd_parse_size(optarg, &o.ghost_limit))
				return cmd_usage(&cmd_attach_entry);
			break;
		case 'h':
			printf("usage: ckpt attach %s\n", cmd_attach_entry.usage);
			return 0;
		default:
			return cmd_usage(&cmd_attach_entry);
		}
	}
	if (optind != argc - 1 || parse_pid(argv[optind], &o.pid))
		return cmd_usage(&cmd_attach_entry);
	/* compress first: encrypted bytes do not compress */
	if (compress)
		o.filters[o.nr_filters++] = zopt;
	if (encrypt)
		o.filters[o.nr_filters++] = eopt;
	if (!o.nr_outputs) {
		snprintf(defout, sizeof(defout), "%d.ckpt", o.pid);
		o.outputs[o.nr_outputs++] = defout;
	}
	if (!o.quorum)
		o.quorum = o.nr_outputs;	/* all of them */
	if (o.quorum > o.nr_outputs) {
		fprintf(stderr, "ckpt attach: --quorum %d with %d -o\n",
			o.quorum, o.nr_outputs);
		return EXIT_USAGE;
	}
	if (stdout_is_tty(&o)) {
		fprintf(stderr, "ckpt attach: not writing an image to a terminal\n");
		return EXIT_USAGE;
	}
	/* the dump is abandoned cleanly: the target is thawed */
	cmd_catch_stop_signals();
	switch (dump_process(&o)) {
	case DUMP_OK:
		return 0;
	case DUMP_ENOTARGET:
		return EXIT_NOTARGET;
	case DUMP_ECREATE:
		return EXIT_CANTCREATE;
	default:
		return EXIT_FAILED;
	}
}

const struct cmd_entry cmd_attach_entry = {
	.name = "attach",
	.usage = "[-o SINK]... [--quorum K] [--kill] [--tree] [--ext-null] "
		 "[--ghost-limit SIZE] [--compress[=LEVEL]] "
		 "[--encrypt KEYFILE] [--auth KEYFILE] PID",
	.exec = exec_attach,
};
