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
#include "ckpt/snapshot.h"
#include "coord/msg.h"
#include "plugins/pipeline.h"
#include "plugins/stageopt.h"
#include "util/notify.h"

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
	case 'T':
		o->tcp_established = 1;
		return 0;
	case 'G':
		return cmd_parse_size(arg, &o->ghost_limit) ?
		       cmd_usage(&cmd_run_entry) : 0;
	case 'j':
		o->json = 1;
		return 0;
	case 'C':
		o->coord = arg;
		return 0;
	case 'J':
		o->job_name = arg;
		return 0;
	case 'M':
		o->member = arg;
		return 0;
	case 'H':
		o->host = arg;
		return 0;
	case 'R':
		o->restore_agent = 1;
		return 0;
	case 'S':
		return snap_add(o->snap, arg) ? EXIT_USAGE : 0;
	case 'F':
		o->snap->open_files = 1;
		return 0;
	case 'Y':
		o->notify = NOTIFY_SECONDS;
		return arg && parse_uint(arg, 1, &o->notify) ?
		       cmd_usage(&cmd_run_entry) : 0;
	case 'I':
		o->incremental = 8;
		return arg && parse_uint(arg, 1, &o->incremental) ?
		       cmd_usage(&cmd_run_entry) : 0;
	}
	return stage_opts_parse(so, c, arg) ? cmd_usage(&cmd_run_entry) : 0;
}

/* --coord and what goes with it; 0, or the exit status. */
static int member_opts(struct run_opts *o, const char **name, int nargs,
		       char **args, const char *key)
{
	char copy[PATH_MAX];

	if (!o->coord) {
		if (o->job_name || o->member || o->restore_agent || o->host ||
		    (o->auth && o->auth[0]))
			return cmd_usage(&cmd_run_entry);
		return 0;
	}
	if (!o->job_name || !o->auth || (o->restore_agent && nargs) ||
	    (o->restore_agent && !o->member)) {
		pr_err("--coord needs --job and --auth, and either PROG or "
		       "--restore with --member");
		return EXIT_USAGE;
	}
	if (o->interval || key || o->incremental) {
		pr_err("a member's checkpoints are its coordinator's (ckpt "
		       "coord --interval): no --interval, no --encrypt, no "
		       "--incremental (not supported yet)");
		return EXIT_USAGE;
	}
	if (!o->member) {
		snprintf(copy, sizeof(copy), "%s", args[0]);
		o->member = strdup(basename(copy));
		if (!o->member)
			return EXIT_FAILED;
	}
	if (!coord_name_ok(o->job_name) || !coord_name_ok(o->member) ||
	    (o->host && !coord_name_ok(o->host))) {
		pr_err("bad job, member or host name: "
		       "[A-Za-z0-9][A-Za-z0-9._-]*");
		return EXIT_USAGE;
	}
	if (!*name)
		*name = o->member;
	return 0;
}

static int exec_run(int argc, char **argv)
{
	static const struct option own[] = {
		{ "dir", required_argument, NULL, 'D' },
		{ "interval", required_argument, NULL, 'i' },
		{ "keep", required_argument, NULL, 'k' },
		{ "name", required_argument, NULL, 'n' },
		{ "ext-null", no_argument, NULL, 'N' },
		{ "tcp-established", no_argument, NULL, 'T' },
		{ "ghost-limit", required_argument, NULL, 'G' },
		{ "json", no_argument, NULL, 'j' },
		{ "coord", required_argument, NULL, 'C' },
		{ "job", required_argument, NULL, 'J' },
		{ "member", required_argument, NULL, 'M' },
		{ "host", required_argument, NULL, 'H' },
		{ "restore", no_argument, NULL, 'R' },
		{ "snapshot", required_argument, NULL, 'S' },
		{ "snapshot-open", no_argument, NULL, 'F' },
		{ "notify", optional_argument, NULL, 'Y' },
		{ "incremental", optional_argument, NULL, 'I' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	static struct snap_set snap;
	struct run_opts o = { .ghost_limit = DUMP_GHOST_LIMIT, .snap = &snap };
	struct stage_opts so;
	const char *name = NULL, *key;
	char dir[PATH_MAX + 16];
	int c, i, st;

	stage_opts_init(&so, STAGE_OPT_COMPRESS | STAGE_OPT_ENCRYPT |
			STAGE_OPT_AUTH, own);
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
	o.auth = stage_opts_value(&so, STAGE_OPT_AUTH);
	if (optind >= argc && !o.restore_agent)
		return cmd_usage(&cmd_run_entry);
	key = stage_opts_value(&so, STAGE_OPT_ENCRYPT);
	st = member_opts(&o, &name, argc - optind, argv + optind, key);
	if (st)
		return st;
	/* 3 by default; a member keeps every image unless told */
	if (!o.keep && !o.coord)
		o.keep = 3;
	if (key && access(key, R_OK)) {
		fprintf(stderr, "ckpt run: can't read key file %s: %s\n", key,
			strerror(errno));
		return EXIT_USAGE;
	}
	if ((snap_wanted(&snap) || o.notify) && o.coord) {
		pr_err("--snapshot and --notify are not for a member of a coordinated job yet");
		return EXIT_USAGE;
	}
	if (snap_wanted(&snap) && key) {
		fprintf(stderr, "ckpt run: --snapshot needs an unencrypted image (the copies are not encrypted)\n");
		return EXIT_USAGE;
	}
	if (!snap_wanted(&snap))
		o.snap = NULL;
	/* a key open to others is refused now, not at each checkpoint */
	if (key && pipeline_check_key(key))
		return EXIT_USAGE;
	o.argv = argv + optind;
	for (i = 0; i < so.nr_filters; i++)
		o.filters[o.nr_filters++] = so.filters[i];
	if (!o.dir) {
		default_dir(name, o.restore_agent ? name : o.argv[0], dir,
			    sizeof(dir));
		o.dir = dir;
	}
	st = run_job(&o);
	return st < 0 ? EXIT_FAILED : st;
}

const struct cmd_entry cmd_run_entry = {
	.name = "run",
	.usage = "[-D DIR] [--interval SECONDS] [--keep N] [--name NAME] "
		 "[--incremental[=N]] [--compress] [--encrypt KEYFILE] "
		 "[--ext-null] [--tcp-established] [--ghost-limit SIZE] "
		 "[--json] [--snapshot PATH]... [--snapshot-open] "
		 "[--notify[=SECONDS]] "
		 "[--coord HOST:PORT|zk://HOSTS --job NAME --auth KEYFILE "
		 "[--member NAME] [--host NAME]] -- PROG [ARGS...] | "
		 "--coord HOST:PORT --job NAME --auth KEYFILE --member NAME "
		 "[--host NAME] --restore",
	.exec = exec_run,
};
