/*
 * ckpt run [-D DIR] [--interval SECONDS] [--keep N] [--name NAME] -- PROG
 * [ARGS...]: run PROG under a supervisor that checkpoints it into DIR.
 */
#include <errno.h>
#include <getopt.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ckpt/cmd.h"
#include "ckpt/dump.h"
#include "ckpt/run.h"

static int parse_uint(const char *s, unsigned int min, unsigned int *v)
{
	char *end;
	unsigned long n = strtoul(s, &end, 10);

	if (!*s || *s == '-' || *end || n < min || n > 1000000)
		return -1;
	*v = n;
	return 0;
}

/* NAME.ckpt.d, NAME the basename of PROG unless --name */
static void default_dir(const char *name, const char *prog, char *buf,
			size_t len)
{
	char copy[PATH_MAX];

	if (!name) {
		snprintf(copy, sizeof(copy), "%s", prog);
		name = basename(copy);
	}
	snprintf(buf, len, "%s.ckpt.d", name);
}

static int exec_run(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "dir", required_argument, NULL, 'D' },
		{ "interval", required_argument, NULL, 'i' },
		{ "keep", required_argument, NULL, 'k' },
		{ "name", required_argument, NULL, 'n' },
		{ "compress", no_argument, NULL, 'z' },
		{ "encrypt", required_argument, NULL, 'e' },
		{ "ext-null", no_argument, NULL, 'N' },
		{ "ghost-limit", required_argument, NULL, 'G' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct run_opts o = { .keep = 3, .ghost_limit = DUMP_GHOST_LIMIT };
	const char *name = NULL;
	char dir[PATH_MAX + 16], eopt[PATH_MAX + 16];
	int c, st, compress = 0, encrypt = 0;

	optind = 1;
	while ((c = getopt_long(argc, argv, "+D:h", longopts, NULL)) != -1) {
		switch (c) {
		case 'D':
			o.dir = optarg;
			break;
		case 'i':
			if (parse_uint(optarg, 1, &o.interval))
				return cmd_usage(&cmd_run_entry);
			break;
		case 'k':
			if (parse_uint(optarg, 1, &o.keep))
				return cmd_usage(&cmd_run_entry);
			break;
		case 'n':
			if (!*optarg || strchr(optarg, '/'))
				return cmd_usage(&cmd_run_entry);
			name = optarg;
			break;
		case 'z':
			compress = 1;
			break;
		case 'e':
			snprintf(eopt, sizeof(eopt), "encrypt=%s", optarg);
			encrypt = 1;
			break;
		case 'N':
			o.ext_null = 1;
			break;
		case 'G':
			if (cmd_parse_size(optarg, &o.ghost_limit))
				return cmd_usage(&cmd_run_entry);
			break;
		case 'h':
			printf("usage: ckpt run %s\n", cmd_run_entry.usage);
			return 0;
		default:
			return cmd_usage(&cmd_run_entry);
		}
	}
	if (optind >= argc)
		return cmd_usage(&cmd_run_entry);
	if (encrypt && access(eopt + strlen("encrypt="), R_OK)) {
		fprintf(stderr, "ckpt run: can't read key file %s: %s\n",
			eopt + strlen("encrypt="), strerror(errno));
		return EXIT_USAGE;
	}
	o.argv = argv + optind;
	/* compress first: encrypted bytes do not compress */
	if (compress)
		o.filters[o.nr_filters++] = "zstd";
	if (encrypt)
		o.filters[o.nr_filters++] = eopt;
	if (!o.dir) {
		default_dir(name, o.argv[0], dir, sizeof(dir));
		o.dir = dir;
	}
	st = run_job(&o);
	return st < 0 ? EXIT_FAILED : st;
}

const struct cmd_entry cmd_run_entry = {
	.name = "run",
	.usage = "[-D DIR] [--interval SECONDS] [--keep N] [--name NAME] "
		 "[--compress] [--encrypt KEYFILE] [--ext-null] "
		 "[--ghost-limit SIZE] "
		 "-- PROG [ARGS...]",
	.exec = exec_run,
};
