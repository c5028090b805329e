/*
 * stageopt: one table of the options that choose stages (stageopt.h), so
 * that ckpt and restore parse them alike: the same names, letters, checks
 * and "filter=value" strings, in buffers that hold any path.
 */
#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "plugins/stageopt.h"

/* In the order of enum stage_opt's bits: entry i is option 1 << i. The
 * filters come out in this order too, compression first. */
static const struct stage_opt_def {
	struct option opt;	/* val: the short letter */
	const char *stage;	/* the filter, or the parameter's name */
	int filter;		/* a filter of the stream, not a parameter */
	int level;		/* the argument is a compression level */
} defs[STAGE_OPT_NR] = {
	{ { "compress", no_argument, NULL, 'z' }, "zstd", 1, 0 },
	{ { "compress", optional_argument, NULL, 'z' }, "zstd", 1, 1 },
	{ { "encrypt", required_argument, NULL, 'e' }, "encrypt", 1, 0 },
	{ { "key", required_argument, NULL, 'k' }, "encrypt", 0, 0 },
	{ { "auth", required_argument, NULL, 'a' }, "auth", 0, 0 },
};

static int taken(const struct stage_opts *so, int i)
{
	return !!(so->set & (1u << i));
}

void stage_opts_init(struct stage_opts *so, unsigned int set,
		     const struct option *own)
{
	size_t n = 0;
	int i;

	memset(so, 0, sizeof(*so));
	so->set = set;
	/* both are --compress */
	assert(!(set & STAGE_OPT_COMPRESS) || !(set & STAGE_OPT_LEVEL));
	for (; own->name; own++) {
		for (i = 0; i < STAGE_OPT_NR; i++)
			assert(!taken(so, i) || own->val != defs[i].opt.val);
		assert(n < STAGE_OPT_LONGOPTS - 1);
		so->longopts[n++] = *own;
	}
	for (i = 0; i < STAGE_OPT_NR; i++) {
		if (!taken(so, i))
			continue;
		assert(n < STAGE_OPT_LONGOPTS - 1);
		so->longopts[n++] = defs[i].opt;
	}
}

static int parse_level(const char *s, long *level)
{
	char *end;

	*level = strtol(s, &end, 10);
	return *s && !*end && *level >= 1 && *level <= 19 ? 0 : -1;
}

/* "zstd", "zstd=LEVEL" or "NAME=KEYFILE" for option i. */
static int make_str(struct stage_opts *so, int i, const char *arg)
{
	const struct stage_opt_def *d = &defs[i];
	char *s = so->str[i];
	long level;
	int n;

	if (!arg) {
		n = snprintf(s, STAGE_OPT_STR_MAX, "%s", d->stage);
	} else if (!d->level) {
		n = snprintf(s, STAGE_OPT_STR_MAX, "%s=%s", d->stage, arg);
	} else if (parse_level(arg, &level)) {
		pr_err("--compress level must be 1-19");
		return -1;
	} else {
		n = snprintf(s, STAGE_OPT_STR_MAX, "%s=%ld", d->stage, level);
	}
	if (n < 0 || n >= STAGE_OPT_STR_MAX) {
		s[0] = '\0';
		pr_err("--%s: file name too long", d->opt.name);
		return -1;
	}
	return 0;
}

/* The filters and parameters of the options given so far. */
static void collect(struct stage_opts *so)
{
	int i;

	so->nr_filters = so->nr_params = 0;
	for (i = 0; i < STAGE_OPT_NR; i++) {
		if (!so->str[i][0])
			continue;
		if (defs[i].filter) {
			assert(so->nr_filters < (int)ARRAY_SIZE(so->filters));
			so->filters[so->nr_filters++] = so->str[i];
		} else {
			assert(so->nr_params < (int)ARRAY_SIZE(so->params));
			so->params[so->nr_params++] = so->str[i];
		}
	}
}

int stage_opts_parse(struct stage_opts *so, int c, const char *arg)
{
	int i;

	for (i = 0; i < STAGE_OPT_NR; i++) {
		if (!taken(so, i) || defs[i].opt.val != c)
			continue;
		if (make_str(so, i, arg))
			return -1;
		so->value[i] = arg;
		collect(so);
		return 0;
	}
	return -1;
}

const char *stage_opts_value(const struct stage_opts *so, enum stage_opt opt)
{
	int i = opt ? __builtin_ctz(opt) : STAGE_OPT_NR;

	return i < STAGE_OPT_NR ? so->value[i] : NULL;
}
