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
#include "plugins/pipeline.h"
#include "plugins/stageopt.h"

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

/* One option of run's own, or of the stages (so). 0, or the exit status
 * to leave with. */
static int run_opt(struct run_opts *o, struct stage_opts *so,
		   const char **name, int c, const char *arg)
{
	switch (c) {
	case 'D':
		o->dir = arg;
		return 0;
	case 'i':
		return parse_uint(arg, 1, &o->interval) ?
		       cmd_usage(&cmd_run_entry) : 0;
	case 'k':
		return parse_uint(arg, 1, &o->keep) ?
		       cmd_usage(&cmd_run_entry) : 0;
	case 'n':
		if (!*arg || strchr(arg, '/'))
			return cmd_usage(&cmd_run_entry);
		*name = arg;
		return 0;
	case 'N':
		o->ext_null = 1;
		return 0;
	case 'G':
		return cmd_parse_size(arg, &o->ghost_limit) ?
		       cmd_usage(&cmd_run_entry) : 0;
	case 'j':
		o->json = 1;
		return 0;
	}
	return stage_opts_parse(so, c, arg) ? cmd_usage(&cmd_run_entry) : 0;
}

static int exec_run(int argc, char **argv)
{
	static const struct option own[] = {
		{ "dir", required_argument, NULL, 'D' },
		{ "interval", required_argument, NULL, 'i' },
		{ "keep", required_argument, NULL, 'k' },
		{ "name", required_argument, NULL, 'n' },
		{ "ext-null", no_argument, NULL, 'N' },
		{ "ghost-limit", required_argument, NULL, 'G' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct run_opts o = { .keep = 3, .ghost_limit = DUMP_GHOST_LIMIT };
	struct stage_opts so;
	const char *name = NULL, *key;
	char dir[PATH_MAX + 16];
	int c, i, st;

	stage_opts_init(&so, STAGE_OPT_COMPRESS | STAGE_OPT_ENCRYPT, own);
	optind = 1;
	while ((c = getopt_long(argc, argv, "+D:h", so.longopts, NULL)) != -1) {
		if (c == 'h') {
			printf("usage: ckpt run %s\n", cmd_run_entry.usage);
			return 0;
		}
		st = run_opt(&o, &so, &name, c, optarg);
		if (st)
			return st;
	}
	if (optind >= argc)
		return cmd_usage(&cmd_run_entry);
	key = stage_opts_value(&so, STAGE_OPT_ENCRYPT);
	if (key && access(key, R_OK)) {
		fprintf(stderr, "ckpt run: can't read key file %s: %s\n", key,
			strerror(errno));
		return EXIT_USAGE;
	}
	/* a key open to others is refused now, not at each checkpoint */
	if (key && pipeline_check_key(key))
		return EXIT_USAGE;
	o.argv = argv + optind;
	for (i = 0; i < so.nr_filters; i++)
		o.filters[o.nr_filters++] = so.filters[i];
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
		 "[--ghost-limit SIZE] [--json] "
		 "-- PROG [ARGS...]",
	.exec = exec_run,
};
