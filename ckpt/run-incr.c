/*
 * ckpt run --incremental[=N]: each checkpoint a child of the one before
 * (dump-incr.c keeps the write tracking between them), a full image every
 * N so that restore reads at most N images. Beside each child NNNN.ckpt
 * a symlink NNNN.ckpt.parent names its parent, so that pruning (--keep)
 * never removes an image that a kept one needs, even one of an earlier
 * run of the same directory.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ckpt/dump.h"
#include "ckpt/run-priv.h"

#define PARENT_SUFFIX	".parent"

int run_incr_opts(struct run_ctx *c, struct dump_opts *o)
{
	if (!c->o->incremental)
		return 0;
	if (!c->incr && !(c->incr = dump_incr_new()))
		return -1;
	o->incr = c->incr;
	o->incr_full = !c->chain || c->chain >= c->o->incremental;
	return 0;
}

void run_incr_committed(struct run_ctx *c, const char *name,
			const struct dump_stats *s)
{
	char link[64];

	if (!c->o->incremental)
		return;
	snprintf(link, sizeof(link), "%s%s", name, PARENT_SUFFIX);
	unlinkat(c->dirfd, link, 0);	/* of an image once of that name */
	if (s->incremental && symlinkat(c->last, c->dirfd, link))
		pr_perror("can't record the parent of %s/%s", c->o->dir,
			  name);
	c->chain = s->incremental ? c->chain + 1 : 1;
	snprintf(c->last, sizeof(c->last), "%s", name);
}

/* NNNN.ckpt's parent's number, or 0. */
static unsigned int parent_of(struct run_ctx *c, unsigned int seq)
{
	char link[64], target[64], *end;
	unsigned long v;
	ssize_t n;

	snprintf(link, sizeof(link), "%04u.ckpt%s", seq, PARENT_SUFFIX);
	n = readlinkat(c->dirfd, link, target, sizeof(target) - 1);
	if (n <= 0)
		return 0;
	target[n] = '\0';
	v = strtoul(target, &end, 10);
	if (strcmp(end, ".ckpt") || !v || v >= seq)
		return 0;
	return v;
}

int run_incr_needed(struct run_ctx *c, unsigned int seq)
{
	unsigned int k, p;

	/* the kept images are the keep newest: walk up from each */
	for (k = c->seq > c->o->keep ? c->seq - c->o->keep : 1; k < c->seq;
	     k++)
		for (p = parent_of(c, k); p; p = parent_of(c, p))
			if (p == seq)
				return 1;
	return 0;
}

void run_incr_forget(struct run_ctx *c, const char *name)
{
	char link[64];

	snprintf(link, sizeof(link), "%s%s", name, PARENT_SUFFIX);
	if (unlinkat(c->dirfd, link, 0) && errno != ENOENT)
		pr_perror("can't remove %s/%s", c->o->dir, link);
}

void run_incr_close(struct run_ctx *c)
{
	dump_incr_free(c->incr);
	c->incr = NULL;
}
