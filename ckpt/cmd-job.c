/*
 * ckpt job checkpoint|status|restart|list --coord HOST:PORT --auth
 * KEYFILE [NAME] [--kill] [--place MEMBER=HOST,...]: ask a coordinator
 * (ckpt coord) about a job.
 * The answer goes to standard output; a refusal or failure is one line
 * on standard error and exit status 70 (69 when the coordinator cannot
 * be reached).
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ckpt/cmd.h"
#include "coord/coord.h"

static const struct {
	const char *word;
	enum coord_verb verb;
	int named;
} actions[] = {
	{ "checkpoint", CM_CHECKPOINT, 1 },
	{ "status", CM_STATUS, 1 },
	{ "restart", CM_RESTART, 1 },
	{ "list", CM_LIST, 0 },
};

/* The request from the words after the options: 0 or -1. */
static int make_request(struct coord_msg *m, int argc, char **argv,
			int kill)
{
	size_t i;

	if (argc < 1)
		return -1;
	for (i = 0; i < sizeof(actions) / sizeof(actions[0]); i++) {
		if (strcmp(argv[0], actions[i].word))
			continue;
		if (argc != 1 + actions[i].named ||
		    (kill && actions[i].verb != CM_CHECKPOINT))
			return -1;
		m->verb = actions[i].verb;
		m->num = kill;
		if (actions[i].named) {
			if (!coord_name_ok(argv[1])) {
				pr_err("bad job name %s", argv[1]);
				return -1;
			}
			strcpy(m->job, argv[1]);
		}
		return 0;
	}
	return -1;
}

/* --place MEMBER=HOST[,...] as the request's text, "MEMBER=HOST ...":
 * 0, or -1 (logged). */
static int placement(const char *arg, char *text, size_t size)
{
	char copy[COORD_MSG_MAX], *tok, *save = NULL, *eq;
	size_t len = 0;

	if (strlen(arg) >= sizeof(copy) || strlen(arg) >= size)
		goto bad;
	strcpy(copy, arg);
	text[0] = '\0';
	for (tok = strtok_r(copy, ",", &save); tok;
	     tok = strtok_r(NULL, ",", &save)) {
		eq = strchr(tok, '=');
		if (!eq)
			goto bad;
		*eq = '\0';
		if (!coord_name_ok(tok) || !coord_name_ok(eq + 1))
			goto bad;
		len += snprintf(text + len, size - len, "%s%s=%s",
				len ? " " : "", tok, eq + 1);
	}
	if (len)
		return 0;
bad:
	pr_err("bad --place %s: expected MEMBER=HOST[,MEMBER=HOST...]", arg);
	return -1;
}

static int exec_job(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "coord", required_argument, NULL, 'c' },
		{ "auth", required_argument, NULL, 'a' },
		{ "kill", no_argument, NULL, 'k' },
		{ "place", required_argument, NULL, 'p' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *addr = NULL, *keyfile = NULL, *place = NULL;
	unsigned char key[NET_KEY];
	struct coord_msg *m = calloc(1, sizeof(*m));
	char reply[COORD_MSG_MAX], err[256];
	int c, kill = 0, st = EXIT_USAGE;

	if (!m)
		return EXIT_FAILED;
	optind = 1;
	/* options before and after the words */
	while ((c = getopt_long(argc, argv, "c:a:p:kh", longopts, NULL)) !=
	       -1) {
		if (c == 'h') {
			printf("usage: ckpt job %s\n", cmd_job_entry.usage);
			st = 0;
			goto out;
		}
		if (c == 'c')
			addr = optarg;
		else if (c == 'a')
			keyfile = optarg;
		else if (c == 'k')
			kill = 1;
		else if (c == 'p')
			place = optarg;
		else
			goto usage;
	}
	if (!addr || !keyfile ||
	    make_request(m, argc - optind, argv + optind, kill))
		goto usage;
	if (place && (m->verb != CM_RESTART || placement(place, m->text,
							   sizeof(m->text))))
		goto usage;
	if (net_load_key(keyfile, key, err, sizeof(err))) {
		pr_err("%s", err);
		goto out;
	}
	st = coord_request(addr, key, m, reply, sizeof(reply));
	sodium_memzero(key, sizeof(key));
	if (st == 0)
		printf("%s\n", reply);
	else
		pr_err("%s", reply);
	st = st == 0 ? 0 : st == 1 ? EXIT_FAILED : EXIT_NOTARGET;
	goto out;
usage:
	st = cmd_usage(&cmd_job_entry);
out:
	free(m);
	return st;
}

const struct cmd_entry cmd_job_entry = {
	.name = "job",
	.usage = "checkpoint|status|restart|list --coord HOST:PORT|zk://HOSTS "
		 "--auth KEYFILE [NAME] [--kill] [--place MEMBER=HOST[,...]]",
	.exec = exec_job,
};
