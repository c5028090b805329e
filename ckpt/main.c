/*
 * ckpt: checkpoint and restore Linux processes. This file holds the command
 * table and the options common to every command (-v, -q, --help).
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "arch/arch.h"
#include "ckpt/cmd.h"
#include "image/image.h"
#include "util/util.h"

static const struct cmd_entry *const commands[] = {
	&cmd_attach_entry,
	&cmd_restore_entry,
	&cmd_check_entry,
	&cmd_inspect_entry,
	&cmd_keygen_entry,
	&cmd_sym_entry,
	&cmd_convert_entry,
	&cmd_serve_entry,
	&cmd_run_entry,
	&cmd_dump_entry,
	&cmd_coord_entry,
	&cmd_job_entry,
	&cmd_cc_entry,
	&cmd_translate_entry,
	&cmd_migrate_entry,
	&cmd_container_entry,
};

volatile sig_atomic_t cmd_stop_signal;

static void on_stop_signal(int sig)
{
	cmd_stop_signal = sig;
}

void cmd_catch_stop_signals(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_stop_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	sa.sa_handler = SIG_IGN;
	sigaction(SIGPIPE, &sa, NULL);
}

int cmd_parse_size(const char *s, uint64_t *out)
{
	unsigned long long v;
	char *end;
	int shift = 0;

	errno = 0;
	v = strtoull(s, &end, 10);
	if (end == s || *s == '-' || errno)
		return -1;
	switch (*end) {
	case 'K': case 'k':
		shift = 10;
		break;
	case 'M': case 'm':
		shift = 20;
		break;
	case 'G': case 'g':
		shift = 30;
		break;
	case '\0':
		break;
	default:
		return -1;
	}
	if (*end && end[1])
		return -1;
	if (v > (~0ULL >> shift))
		return -1;
	*out = (uint64_t)v << shift;
	return 0;
}

int cmd_usage(const struct cmd_entry *e)
{
	fprintf(stderr, "usage: ckpt %s %s\n", e->name, e->usage);
	return EXIT_USAGE;
}

static int usage(FILE *f)
{
	size_t i;

	fprintf(f, "usage: ckpt [-v | -q] [--version] COMMAND [ARGS...]\ncommands:\n");
	for (i = 0; i < ARRAY_SIZE(commands); i++)
		fprintf(f, "  ckpt %s %s\n", commands[i]->name,
			commands[i]->usage);
	return f == stdout ? 0 : EXIT_USAGE;
}

int main(int argc, char **argv)
{
	int level = LOG_WARN, i = 1;
	size_t k;

	for (; i < argc && argv[i][0] == '-'; i++) {
		if (!strcmp(argv[i], "-v"))
			level++;
		else if (!strcmp(argv[i], "-q"))
			level = LOG_ERR;
		else if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help"))
			return usage(stdout);
		else if (!strcmp(argv[i], "--version"))
			return print_version("ckpt", IMG_VERSION);
		else
			return usage(stderr);
	}
	log_init("ckpt", level);
	img_crc32c_accel(arch_crc32c);
	if (i >= argc)
		return usage(stderr);
	for (k = 0; k < ARRAY_SIZE(commands); k++)
		if (!strcmp(argv[i], commands[k]->name))
			return commands[k]->exec(argc - i, argv + i);
	fprintf(stderr, "ckpt: unknown command '%s'\n", argv[i]);
	return usage(stderr);
}
