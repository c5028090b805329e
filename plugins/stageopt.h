/*
 * stageopt: the command-line options that choose the stages of the image
 * stream, one table for every program that takes them (ckpt attach, run
 * and inspect, and restore, which never include each other's code):
 *
 *   -z, --compress[=LEVEL]  the zstd filter: "zstd" or "zstd=LEVEL"
 *   -e, --encrypt KEYFILE   the encrypt filter: "encrypt=KEYFILE"
 *   -k, --key KEYFILE       reading: the parameter "encrypt=KEYFILE"
 *   -a, --auth KEYFILE      tcp://: the parameter "auth=KEYFILE"
 *
 * A command says which of them it takes; the short letter works only
 * where the command's getopt string has it. Given twice, an option's last
 * value counts.
 */
#ifndef CKPT_STAGEOPT_H
#define CKPT_STAGEOPT_H

#include <getopt.h>
#include <limits.h>

#include "util/util.h"

enum stage_opt {
	STAGE_OPT_COMPRESS	= 1 << 0,	/* --compress, no level */
	STAGE_OPT_LEVEL		= 1 << 1,	/* --compress[=LEVEL] */
	STAGE_OPT_ENCRYPT	= 1 << 2,
	STAGE_OPT_KEY		= 1 << 3,
	STAGE_OPT_AUTH		= 1 << 4,
};

#define STAGE_OPT_NR		5
#define STAGE_OPT_LONGOPTS	32	/* a command's own, ours, the end */
/* "encrypt=" and a path */
#define STAGE_OPT_STR_MAX	(PATH_MAX + 16)

struct stage_opts {
	unsigned int set;	/* the STAGE_OPT_* the command takes */
	/* for getopt_long: the command's own options, then ours */
	struct option longopts[STAGE_OPT_LONGOPTS];
	/* what the options given ask for, in the order the stages go:
	 * compression before encryption (encrypted bytes do not compress) */
	const char *filters[2];
	int nr_filters;
	const char *params[2];	/* "filter=value" for the stages */
	int nr_params;
	/* private: each option's value and the string it makes */
	const char *value[STAGE_OPT_NR];
	char str[STAGE_OPT_NR][STAGE_OPT_STR_MAX];
};

/* Start with the options in set, after the command's own (own ends with a
 * zero entry; none of its values may be a letter of set). */
void stage_opts_init(struct stage_opts *so, unsigned int set,
		     const struct option *own);
/* Consume option c (what getopt_long returned) with its argument: 0, or
 * -1 when c is not one of set or its value is bad (logged). */
int stage_opts_parse(struct stage_opts *so, int c, const char *arg)
	__must_check;
/* The value given to one option of set (a key file), or NULL. */
const char *stage_opts_value(const struct stage_opts *so, enum stage_opt opt);

#endif
