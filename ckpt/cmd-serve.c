/*
 * ckpt serve --listen HOST:PORT -D DIR --auth KEYFILE [--max-clients N]
 * [--client-timeout SECONDS] [--restore]: receive images from `ckpt
 * attach -o tcp://...` and hand them to `restore tcp://...`; with
 * --restore, restore those `ckpt migrate` sends.
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ckpt/cmd.h"
#include "serve/serve.h"

static int exit_status(enum serve_result r)
{
	switch (r) {
	case SERVE_OK:
		return 0;
	case SERVE_EUSAGE:
		return EXIT_USAGE;
	case SERVE_ELISTEN:
		return EXIT_NOTARGET;	/* 69: service unavailable */
	case SERVE_EDIR:
	case SERVE_EKEY:
		return EXIT_NOIMAGE;	/* 66: can't open an input */
	default:
		return EXIT_FAILED;
	}
}

/* N in [1, max] */
static int parse_count(const char *s, unsigned int max, unsigned int *v)
{
	char *end;
	unsigned long n;

	errno = 0;
	n = strtoul(s, &end, 10);
	if (!*s || *s == '-' || *end || errno || n < 1 || n > max)
		return -1;
	*v = n;
	return 0;
}

static int bad_count(const char *opt, const char *arg, unsigned int max)
{
	pr_err("bad %s %s: expected 1 to %u", opt, arg, max);
	return EXIT_USAGE;
}

/* One option; 0, or the exit status to leave with. */
static int serve_opt(struct serve_opts *o, int c, const char *arg)
{
	switch (c) {
	case 'l':
		o->listen = arg;
		return 0;
	case 'D':
		o->dir = arg;
		return 0;
	case 'a':
		o->keyfile = arg;
		return 0;
	case 'm':
		return parse_count(arg, SERVE_MAX_CLIENTS_MAX,
				   &o->max_clients) ?
		       bad_count("--max-clients", arg,
				 SERVE_MAX_CLIENTS_MAX) : 0;
	case 't':
		return parse_count(arg, SERVE_CLIENT_TIMEOUT_MAX,
				   &o->client_timeout) ?
		       bad_count("--client-timeout", arg,
				 SERVE_CLIENT_TIMEOUT_MAX) : 0;
	case 'S':
		o->no_seccomp = 1;
		return 0;
	case 'R':
		o->restore = 1;
		return 0;
	}
	return cmd_usage(&cmd_serve_entry);
}

static int exec_serve(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "listen", required_argument, NULL, 'l' },
		{ "dir", required_argument, NULL, 'D' },
		{ "auth", required_argument, NULL, 'a' },
		{ "max-clients", required_argument, NULL, 'm' },
		{ "client-timeout", required_argument, NULL, 't' },
		{ "no-seccomp", no_argument, NULL, 'S' },
		{ "restore", no_argument, NULL, 'R' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct serve_opts o = { .stop = &cmd_stop_signal,
				.max_clients = SERVE_MAX_CLIENTS,
				.client_timeout = SERVE_CLIENT_TIMEOUT };
	int c, st, json = 0;

	optind = 1;
	while ((c = getopt_long(argc, argv, "+l:D:a:h", longopts, NULL)) != -1) {
		if (c == 'h') {
			printf("usage: ckpt serve %s\n", cmd_serve_entry.usage);
			return 0;
		}
		if (c == 'j') {
			json = 1;
			continue;
		}
		st = serve_opt(&o, c, optarg);
		if (st)
			return st;
	}
	if (optind != argc || !o.listen || !o.dir || !o.keyfile)
		return cmd_usage(&cmd_serve_entry);
	/* one line per request: shown unless -q */
	if (log_get_level() == LOG_WARN)
		log_init("ckpt serve", LOG_INFO);
	log_set_json(json);
	/* serve_run waits in ppoll, which returns on the signal */
	cmd_catch_stop_signals();
	return exit_status(serve_run(&o));
}

const struct cmd_entry cmd_serve_entry = {
	.name = "serve",
	.usage = "--listen HOST:PORT -D DIR --auth KEYFILE [--max-clients N] "
		 "[--client-timeout SECONDS] [--restore] [--json]",
	.exec = exec_serve,
};
