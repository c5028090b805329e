/*
 * ckpt coord --listen HOST:PORT --auth KEYFILE [--kind central|standby|sharded|
 * tree|PATH.so] [--kind-arg ARG] [--site NAME [--foster SITE@HOST:PORT] |
 * --root] [--state FILE]
 * [--zk HOSTS[/ROOT]]
 * [--timeout SECONDS] [--interval SECONDS]: the coordinator
 * of distributed jobs (coord/, ckpt-coord(7)).
 */
#include <sys/prctl.h>
#include <sys/wait.h>
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ckpt/cmd.h"
#include "coord/coord.h"

/* A number of seconds from 1 to max into *out: 0, or EXIT_USAGE. */
static int seconds(const char *arg, const char *opt, unsigned long max,
		   unsigned int *out)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(arg, &end, 10);
	if (!*arg || *arg == '-' || *end || errno || v < 1 || v > max) {
		pr_err("bad %s %s: expected 1 to %lu", opt, arg, max);
		return EXIT_USAGE;
	}
	*out = v;
	return 0;
}

/* long-only options (values of coordtree's range) */
enum { OPT_SITE = 0x1e0, OPT_ROOT, OPT_FOSTER };

static const char *foster;	/* --foster SITE@HOST:PORT */

static int coord_opt(struct coord_opts *o, int c, const char *arg)
{
	switch (c) {
	case 'l':
		o->listen = arg;
		return 0;
	case 'a':
		o->keyfile = arg;
		return 0;
	case 'K':
		o->kind = arg;
		return 0;
	case 'A':
		o->kind_arg = arg;
		return 0;
	case 's':
		o->state = arg;
		return 0;
	case 'z':
		o->zk = arg;
		return 0;
	case OPT_SITE:
		o->site = arg;
		return 0;
	case OPT_ROOT:
		o->root = 1;
		return 0;
	case OPT_FOSTER:
		foster = arg;
		return 0;
	case 'i':
		return seconds(arg, "--interval", 86400 * 365, &o->interval);
	case 't':
		return seconds(arg, "--timeout", COORD_TIMEOUT_MAX, &o->timeout);
	}
	return cmd_usage(&cmd_coord_entry);
}

/* tree, --foster SITE@HOST:PORT: a child that stands as a coordinator of
 * SITE too, listening on HOST:PORT, so that SITE's members fail over to
 * us when SITE has none of its own left; it dies with us. Its pid, 0
 * without --foster, or -1 (logged). */
static pid_t start_foster(const struct coord_opts *o, char *site)
{
	struct coord_opts f = *o;
	char *at = strchr(site, '@');
	pid_t parent = getpid(), pid;

	if (!at || !o->site || strcmp(o->kind, "tree")) {
		pr_err("--foster SITE@HOST:PORT is of a site of kind tree");
		return -2;
	}
	*at = '\0';
	if (!coord_name_ok(site) || !strcmp(site, o->site)) {
		pr_err("bad --foster site %s: another site's name expected",
		       site);
		return -2;
	}
	f.site = site;
	f.listen = at + 1;
	pid = fork();
	if (pid < 0) {
		pr_perror("can't fork the foster of site %s", site);
		return -1;
	}
	if (pid == 0) {
		static char name[400];

		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (getppid() != parent)
			_exit(0);
		snprintf(name, sizeof(name), "ckpt coord (site %s)", site);
		log_init(name, log_get_level());
		_exit(coord_serve(&f) ? EXIT_FAILED : 0);
	}
	pr_info("standing by for site %s too (pid %d)", site, pid);
	return pid;
}

static int exec_coord(int argc, char **argv)
{
	static char fsite[320];
	pid_t fpid = 0;
	static const struct option longopts[] = {
		{ "listen", required_argument, NULL, 'l' },
		{ "auth", required_argument, NULL, 'a' },
		{ "kind", required_argument, NULL, 'K' },
		{ "kind-arg", required_argument, NULL, 'A' },
		{ "state", required_argument, NULL, 's' },
		{ "zk", required_argument, NULL, 'z' },
		{ "site", required_argument, NULL, OPT_SITE },
		{ "root", no_argument, NULL, OPT_ROOT },
		{ "foster", required_argument, NULL, OPT_FOSTER },
		{ "interval", required_argument, NULL, 'i' },
		{ "timeout", required_argument, NULL, 't' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct coord_opts o = { .kind = "central", .state = "ckpt-coord.state",
				.timeout = COORD_TIMEOUT,
				.stop = &cmd_stop_signal };
	int c, st;

	optind = 1;
	while ((c = getopt_long(argc, argv, "+l:a:h", longopts, NULL)) != -1) {
		if (c == 'h') {
			printf("usage: ckpt coord %s\n", cmd_coord_entry.usage);
			return 0;
		}
		st = coord_opt(&o, c, optarg);
		if (st)
			return st;
	}
	if (optind != argc || !o.listen || !o.keyfile)
		return cmd_usage(&cmd_coord_entry);
	/* a line per membership change and checkpoint, unless -q */
	if (log_get_level() == LOG_WARN)
		log_init("ckpt coord", LOG_INFO);
	cmd_catch_stop_signals();
	if (foster) {
		snprintf(fsite, sizeof(fsite), "%s", foster);
		fpid = start_foster(&o, fsite);
		if (fpid < 0)
			return fpid == -2 ? EXIT_USAGE : EXIT_FAILED;
	}
	st = coord_serve(&o);
	if (fpid > 0) {
		kill(fpid, SIGTERM);
		while (waitpid(fpid, NULL, 0) < 0 && errno == EINTR)
			;
	}
	return st == -2 ? EXIT_USAGE : st ? EXIT_FAILED : 0;
}

const struct cmd_entry cmd_coord_entry = {
	.name = "coord",
	.usage = "--listen HOST:PORT --auth KEYFILE "
		 "[--kind central|standby|sharded|tree|PATH.so] "
		 "[--kind-arg ARG] [--site NAME [--foster SITE@HOST:PORT] | "
		 "--root] "
		 "[--state FILE] [--zk HOSTS[/ROOT]] [--timeout SECONDS] "
		 "[--interval SECONDS]",
	.exec = exec_coord,
};
