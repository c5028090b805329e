/*
 * ckpt attach [options] PID: seize a live process (with --tree, its
 * descendants too) and dump it into one or more sinks, through libckpt's
 * ckpt_attach (libckpt-priv.h).
 */
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ckpt/cmd.h"
#include "ckpt/dump.h"
#include "ckpt/libckpt-priv.h"
#include "ckpt/snapshot.h"
#include "plugins/appset.h"
#include "plugins/stageopt.h"
#include "util/json.h"
#include "util/progress.h"

#define OPT_FREEZE_CGROUP	0x1d2
#define OPT_TRACK		0x271
#define OPT_LEAVE		0x2d0
#define OPT_COW			0x2a0

static int parse_pid(const char *s, pid_t *pid)
{
	char *end;
	long v = strtol(s, &end, 10);

	if (!*s || *end || v <= 0 || v > 0x3fffffff)
		return -1;
	*pid = v;
	return 0;
}

static int parse_quorum(const char *s)
{
	char *end;
	long v = strtol(s, &end, 10);

	return *s && !*end && v >= 1 && v <= 16 ? (int)v : -1;
}

static int stdout_is_image(const struct dump_opts *o)
{
	int i;

	for (i = 0; i < o->nr_outputs; i++)
		if (!strcmp(o->outputs[i], "-"))
			return 1;
	return 0;
}

/* attach --json: what was written, once it is committed. */
static void print_json(const struct dump_opts *o,
		       const struct ckpt_attach_result *s)
{
	int i;

	json_begin();
	json_key(1, "images");
	putchar('[');
	for (i = 0; i < o->nr_outputs; i++) {
		if (i)
			putchar(',');
		json_str(o->outputs[i]);
	}
	putchar(']');
	json_i64(0, "pid", o->pid);
	json_u64(0, "processes", (uint64_t)s->processes);
	json_u64(0, "threads", (uint64_t)s->threads);
	json_u64(0, "bytes", s->bytes);
	json_f64(0, "frozen_seconds", s->frozen_seconds);
	json_f64(0, "seconds", s->seconds);
	json_bool(0, "killed", o->kill);
	json_end();
}

/* One option of attach's own, or of the stages (so). 0, or the exit
 * status to leave with. */
static int attach_opt(struct dump_opts *o, struct stage_opts *so, int c,
		      const char *arg)
{
	switch (c) {
	case 'o':
		if (o->nr_outputs == (int)ARRAY_SIZE(o->outputs)) {
			fprintf(stderr, "ckpt attach: at most %zu -o\n",
				ARRAY_SIZE(o->outputs));
			return EXIT_USAGE;
		}
		o->outputs[o->nr_outputs++] = arg;
		return 0;
	case 'Q':
		o->quorum = parse_quorum(arg);
		return o->quorum < 1 ? cmd_usage(&cmd_attach_entry) : 0;
	case 'k':
		o->kill = 1;
		return 0;
	case OPT_LEAVE:
		if (o->nr_leave == (int)ARRAY_SIZE(o->leave) ||
		    parse_pid(arg, &o->leave[o->nr_leave])) {
			fprintf(stderr, "ckpt attach: --leave takes a PID, at most %zu times\n",
				ARRAY_SIZE(o->leave));
			return EXIT_USAGE;
		}
		o->nr_leave++;
		return 0;
	case 't':
		o->tree = 1;
		return 0;
	case OPT_FREEZE_CGROUP:
		o->freeze_cgroup = 1;
		return 0;
	case 'N':
		o->ext_null = 1;
		return 0;
	case 'U':
		o->ext_unix = 1;
		return 0;
	case 'E':
		o->tcp_established = 1;
		return 0;
	case 'C':
		o->pre_copy = 1;
		return 0;
	case OPT_COW:
		o->cow = 1;
		return 0;
	case 'p':
		o->parent = arg;
		return 0;
	case 'G':
		return cmd_parse_size(arg, &o->ghost_limit) ?
		       cmd_usage(&cmd_attach_entry) : 0;
	case 'L':
		o->landmark_ms = 5000;
		if (arg && ((o->landmark_ms = strtoul(arg, NULL, 10)) < 1 ||
			    strspn(arg, "0123456789") != strlen(arg)))
			return cmd_usage(&cmd_attach_entry);
		return 0;
	case 'P':
		o->progress = progress_parse(arg);
		return o->progress < 0 ? cmd_usage(&cmd_attach_entry) : 0;
	case 'X':
		return app_set_add(o->apps, arg) ? EXIT_USAGE : 0;
	case 'W':
		if (strcmp(arg, "hash") && strcmp(arg, "stat"))
			return cmd_usage(&cmd_attach_entry);
		o->validate_hash = !strcmp(arg, "hash");
		return 0;
	case 'S':
		return snap_add(o->snap, arg) ? EXIT_USAGE : 0;
	case 'F':
		o->snap->open_files = 1;
		return 0;
	}
	return stage_opts_parse(so, c, arg) ? cmd_usage(&cmd_attach_entry) : 0;
}

/* The default sink PID.ckpt (in defout), the quorum of all sinks unless
 * given, and never an image to a terminal. 0, or the exit status. */
static int check_outputs(struct dump_opts *o, char *defout, size_t len)
{
	if (!o->nr_outputs) {
		snprintf(defout, len, "%d.ckpt", o->pid);
		o->outputs[o->nr_outputs++] = defout;
	}
	if (!o->quorum)
		o->quorum = o->nr_outputs;	/* all of them */
	if (o->quorum > o->nr_outputs) {
		fprintf(stderr, "ckpt attach: --quorum %d with %d -o\n",
			o->quorum, o->nr_outputs);
		return EXIT_USAGE;
	}
	if (stdout_is_image(o) && isatty(STDOUT_FILENO)) {
		fprintf(stderr, "ckpt attach: not writing an image to a terminal\n");
		return EXIT_USAGE;
	}
	return 0;
}

/* What the command line asked for, as libckpt takes it: the sinks, the
 * tree, and the stages (so) of the stream. */
static void lib_opts(const struct dump_opts *o, const struct stage_opts *so,
		     struct ckpt_attach_opts *a)
{
	const char *level = stage_opts_value(so, STAGE_OPT_LEVEL);
	int i;

	memset(a, 0, sizeof(*a));
	a->size = sizeof(*a);
	a->pid = o->pid;
	a->outputs = o->outputs;
	a->nr_outputs = o->nr_outputs;
	a->quorum = o->quorum;
	a->kill = o->kill;
	a->tree = o->tree;
	a->ext_null = o->ext_null;
	a->ext_unix = o->ext_unix;
	a->tcp_established = o->tcp_established;
	a->pre_copy = o->pre_copy;
	a->ghost_limit = o->ghost_limit;
	for (i = 0; i < so->nr_filters; i++)
		if (!strncmp(so->filters[i], "zstd", 4))
			a->compress = level ? atoi(level) : -1;
	a->encrypt_key = stage_opts_value(so, STAGE_OPT_ENCRYPT);
	a->auth_key = stage_opts_value(so, STAGE_OPT_AUTH);
}

static int exec_attach(int argc, char **argv)
{
	static const struct option own[] = {
		{ "output", required_argument, NULL, 'o' },
		{ "kill", no_argument, NULL, 'k' },
		{ "tree", no_argument, NULL, 't' },
		{ "ext-null", no_argument, NULL, 'N' },
		{ "ext-unix", no_argument, NULL, 'U' },
		{ "tcp-established", no_argument, NULL, 'E' },
		{ "pre-copy", no_argument, NULL, 'C' },
		{ "cow", no_argument, NULL, OPT_COW },
		{ "parent", required_argument, NULL, 'p' },
		{ "quorum", required_argument, NULL, 'Q' },
		{ "ghost-limit", required_argument, NULL, 'G' },
		{ "progress", optional_argument, NULL, 'P' },
		{ "landmark", optional_argument, NULL, 'L' },
		{ "plugin", required_argument, NULL, 'X' },
		{ "validate", required_argument, NULL, 'W' },
		{ "snapshot", required_argument, NULL, 'S' },
		{ "snapshot-open", no_argument, NULL, 'F' },
		{ "freeze-cgroup", no_argument, NULL, OPT_FREEZE_CGROUP },
		{ "track", no_argument, NULL, OPT_TRACK },
		{ "leave", required_argument, NULL, OPT_LEAVE },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	static struct app_set apps;
	static struct snap_set snap;
	struct dump_opts o = { .interrupted = &cmd_stop_signal,
			       .ghost_limit = DUMP_GHOST_LIMIT,
			       .apps = &apps, .snap = &snap };
	struct ckpt_attach_result res;
	struct ckpt_attach_opts a;
	struct stage_opts so;
	char defout[64];
	int c, st, json = 0, track = 0;

	stage_opts_init(&so, STAGE_OPT_LEVEL | STAGE_OPT_ENCRYPT |
			STAGE_OPT_AUTH, own);
	optind = 1;
	while ((c = getopt_long(argc, argv, "+o:khtz::e:Q:", so.longopts,
				NULL)) != -1) {
		if (c == 'h') {
			printf("usage: ckpt attach %s\n",
			       cmd_attach_entry.usage);
			return 0;
		}
		if (c == 'j' || c == OPT_TRACK) {
			json |= c == 'j';
			track |= c == OPT_TRACK;
			continue;
		}
		st = attach_opt(&o, &so, c, optarg);
		if (st)
			return st;
	}
	if (optind != argc - 1 || parse_pid(argv[optind], &o.pid))
		return cmd_usage(&cmd_attach_entry);
	st = check_outputs(&o, defout, sizeof(defout));
	if (st)
		return st;
	snap_set_sink(&snap, o.outputs, o.nr_outputs,
		      !!stage_opts_value(&so, STAGE_OPT_ENCRYPT));
	if ((o.parent || track) && (o.pre_copy || o.kill)) {
		fprintf(stderr, "ckpt attach: --%s with --pre-copy or --kill is not supported yet\n",
			o.parent ? "parent" : "track");
		return EXIT_USAGE;
	}
	if (track && (o.nr_outputs != 1 || strstr(o.outputs[0], "://") ||
		      stdout_is_image(&o))) {
		fprintf(stderr, "ckpt attach: --track writes one image file, beside which its tracking is kept\n");
		return EXIT_USAGE;
	}
	if (o.cow && (o.pre_copy || o.kill || o.parent || track)) {
		fprintf(stderr, "ckpt attach: --cow with --pre-copy, --kill, --parent or --track is not supported\n");
		return EXIT_USAGE;
	}
	if (json && stdout_is_image(&o)) {
		fprintf(stderr, "ckpt attach: --json with the image on standard output\n");
		return EXIT_USAGE;
	}
	/* the dump is abandoned cleanly: the target is thawed */
	cmd_catch_stop_signals();
	lib_opts(&o, &so, &a);
	/* the tracking since the parent, if a holder kept it (--track) */
	if (o.parent)
		o.incr = dump_hold_claim(o.parent);
	if (track && !o.incr && !(o.incr = dump_incr_new())) {
		fprintf(stderr, "ckpt attach: out of memory\n");
		return EXIT_FAILED;
	}
	/* libckpt's statuses are attach's exit statuses */
	st = ckpt_attach_run(&a, &o, &res);
	if (track && st == CKPT_OK && dump_hold_start(o.incr, o.outputs[0]))
		fprintf(stderr, "ckpt attach: %s is written, but its write tracking is not kept\n",
			o.outputs[0]);
	dump_incr_free(o.incr);
	app_set_free(&apps);
	if (json && st == CKPT_OK)
		print_json(&o, &res);
	return st;
}

const struct cmd_entry cmd_attach_entry = {
	.name = "attach",
	.usage = "[-o SINK]... [--quorum K] [--kill] [--tree] "
		 "[--freeze-cgroup] [--leave PID]... [--ext-null] "
		 "[--ext-unix] [--tcp-established] [--pre-copy] [--cow] "
		 "[--parent IMAGE] [--track] "
		 "[--ghost-limit SIZE] [--landmark[=MS]] "
		 "[--progress[=json|tty|none]] [--json] [--compress[=LEVEL]] "
		 "[--encrypt KEYFILE] [--auth KEYFILE] [--plugin PATH[=ARG]]... "
		 "[--validate=stat|hash] [--snapshot PATH]... "
		 "[--snapshot-open] PID",
	.exec = exec_attach,
};
