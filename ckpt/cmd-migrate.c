/*
 * ckpt migrate [--tree] [--lazy] --auth KEYFILE PID tcp://HOST:PORT/NAME:
 * move a running process (or tree) to a `ckpt serve --restore`. The dump
 * is a pre-copy (dump-precopy.c) into the tcp sink with migrate=restore
 * (or lazy): its commit returns only once the receiver says the process
 * runs there, while the source is still frozen; only then is the source
 * killed (the dumper's --kill). Any failure before that thaws the source
 * (the dumper's unwind) and leaves nothing on the receiver
 * (serve-migrate.c).
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ckpt/cmd.h"
#include "ckpt/dump.h"
#include "plugins/stageopt.h"

static int migrate_status(enum dump_result r)
{
	switch (r) {
	case DUMP_OK:
		return 0;
	case DUMP_ENOTARGET:
		return EXIT_NOTARGET;
	case DUMP_ECREATE:
		return EXIT_CANTCREATE;	/* receiver unreachable or refusing */
	default:
		return EXIT_FAILED;
	}
}

static int parse_target(const char *pid_s, const char *url, pid_t *pid)
{
	char *end;
	long v = strtol(pid_s, &end, 10);

	if (!*pid_s || *end || v <= 0 || v > 0x3fffffff)
		return -1;
	*pid = v;
	if (strncmp(url, "tcp://", 6)) {
		fprintf(stderr, "ckpt migrate: %s: expected tcp://HOST:PORT/NAME\n",
			url);
		return -1;
	}
	return 0;
}

static int exec_migrate(int argc, char **argv)
{
	static const struct option own[] = {
		{ "tree", no_argument, NULL, 't' },
		{ "lazy", no_argument, NULL, 'l' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct dump_opts o = { .interrupted = &cmd_stop_signal,
			       .ghost_limit = DUMP_GHOST_LIMIT,
			       .nr_outputs = 1, .quorum = 1, .kill = 1,
			       .pre_copy = 1, .pre_stream = 1 };
	struct stage_opts so;
	const char *mode = "migrate=restore";
	int c, i;

	stage_opts_init(&so, STAGE_OPT_AUTH, own);
	optind = 1;
	while ((c = getopt_long(argc, argv, "+h", so.longopts, NULL)) != -1) {
		if (c == 'h') {
			printf("usage: ckpt migrate %s\n",
			       cmd_migrate_entry.usage);
			return 0;
		}
		if (c == 't')
			o.tree = 1;
		else if (c == 'l')
			mode = "migrate=lazy";
		else if (stage_opts_parse(&so, c, optarg))
			return cmd_usage(&cmd_migrate_entry);
	}
	if (optind != argc - 2 ||
	    parse_target(argv[optind], argv[optind + 1], &o.pid))
		return cmd_usage(&cmd_migrate_entry);
	if (!stage_opts_value(&so, STAGE_OPT_AUTH)) {
		fprintf(stderr, "ckpt migrate: give the receiver's key with --auth KEYFILE\n");
		return EXIT_USAGE;
	}
	o.outputs[0] = argv[optind + 1];
	for (i = 0; i < so.nr_params; i++)
		o.params[o.nr_params++] = so.params[i];
	o.params[o.nr_params++] = mode;
	/* the migration is abandoned cleanly: the source is thawed */
	cmd_catch_stop_signals();
	i = migrate_status(dump_process(&o));
	log_stamp("migrate: ended (%d)", i);
	return i;
}

const struct cmd_entry cmd_migrate_entry = {
	.name = "migrate",
	.usage = "[--tree] [--lazy] --auth KEYFILE PID tcp://HOST:PORT/NAME",
	.exec = exec_migrate,
};
