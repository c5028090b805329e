/*
 * ckpt serve --listen HOST:PORT -D DIR --auth KEYFILE: receive images from
 * `ckpt attach -o tcp://...` and hand them to `restore tcp://...`.
 */
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

static int exec_serve(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "listen", required_argument, NULL, 'l' },
		{ "dir", required_argument, NULL, 'D' },
		{ "auth", required_argument, NULL, 'a' },
		{ "no-seccomp", no_argument, NULL, 'S' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct serve_opts o = { .stop = &cmd_stop_signal };
	int c;

	optind = 1;
	while ((c = getopt_long(argc, argv, "+l:D:a:h", longopts, NULL)) != -1) {
		switch (c) {
		case 'l':
			o.listen = optarg;
			break;
		case 'D':
			o.dir = optarg;
			break;
		case 'a':
			o.keyfile = optarg;
			break;
		case 'S':
			o.no_seccomp = 1;
			break;
		case 'h':
			printf("usage: ckpt serve %s\n", cmd_serve_entry.usage);
			return 0;
		default:
			return cmd_usage(&cmd_serve_entry);
		}
	}
	if (optind != argc || !o.listen || !o.dir || !o.keyfile)
		return cmd_usage(&cmd_serve_entry);
	/* one line per request: shown unless -q */
	if (log_get_level() == LOG_WARN)
		log_init("ckpt serve", LOG_INFO);
	/* serve_run waits in ppoll, which returns on the signal */
	cmd_catch_stop_signals();
	return exit_status(serve_run(&o));
}

const struct cmd_entry cmd_serve_entry = {
	.name = "serve",
	.usage = "--listen HOST:PORT -D DIR --auth KEYFILE",
	.exec = exec_serve,
};
