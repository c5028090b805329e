/*
 * chunks: an example sink plugin for ckpt-plugin(7), built apart from ckpt
 * as a third party would build it (it includes plugin.h and libc only).
 *
 *	chunks://N[,SIZE]:PATH
 *
 * spreads the image stream round-robin over N files PATH.0 ... PATH.N-1
 * in blocks of SIZE bytes (default 1 MiB; a k or m suffix is allowed), as
 * RAID 0 spreads over disks, and reads them back in the same order. Each
 * file opens with a header naming its index, N and SIZE, so that a missing,
 * swapped or foreign file is refused on reading; when reading, SIZE comes
 * from the headers and the one in the spec is ignored.
 *
 * The rules every sink keeps: the files are created as temporaries
 * PATH.i.tmp.XXXXXX, mode 0600 (an image holds the whole memory of a
 * process), and only commit makes them visible: all are fsync'ed, then
 * renamed, then their directory is fsync'ed. Abort, or a commit that fails
 * anywhere, leaves no PATH.i behind: the ones already renamed are removed.
 */
/* for mkostemp and O_CLOEXEC when built alone (ckpt's build defines it) */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <sys/stat.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "plugins/plugin.h"

#define MAX_CHUNKS	64
#define DEF_BLOCK	(1u << 20)
#define MIN_BLOCK	4096u
#define MAX_BLOCK	(64u << 20)
#define CHUNK_MAGIC	"CKPTCHNK"
/* PATH, then ".N.tmp.XXXXXX" */
#define NAME_LEN	(PATH_MAX + 32)

/* At the start of each file, in host byte order. */
struct chunk_head {
	char magic[8];
	uint32_t index;		/* i of PATH.i */
	uint32_t count;		/* N */
	uint32_t block;		/* SIZE */
	uint32_t reserved;	/* 0 */
};

struct chunks {
	char *base;			/* PATH */
	uint32_t n, block;
	uint32_t cur;			/* the file of the current block */
	uint32_t fill;			/* bytes of the current block done */
	int eof;			/* reading: the stream has ended */
	int fd[MAX_CHUNKS];
	char tmp[MAX_CHUNKS][NAME_LEN];	/* writing: "" once renamed */
};

/* ---- the spec ----------------------------------------------------------- */

static int parse_size(const char *s, char **end, unsigned long *size)
{
	*size = strtoul(s, end, 10);
	if (*end == s || *size > MAX_BLOCK)	/* and no overflow below */
		return -1;
	if (**end == 'k' || **end == 'K') {
		*size <<= 10;
		(*end)++;
	} else if (**end == 'm' || **end == 'M') {
		*size <<= 20;
		(*end)++;
	}
	return 0;
}

/* N[,SIZE]:PATH */
static int parse_spec(struct ckpt_stage *s, struct chunks *c, const char *arg)
{
	unsigned long n, size = DEF_BLOCK;
	char *end;

	if (!arg || !*arg)
		return ckpt_stage_fail(s, "no target: chunks://N[,SIZE]:PATH");
	n = strtoul(arg, &end, 10);
	if (end == arg || n < 1 || n > MAX_CHUNKS)
		return ckpt_stage_fail(s, "%s: N must be 1-%d", arg,
				       MAX_CHUNKS);
	if (*end == ',' && (parse_size(end + 1, &end, &size) ||
			    size < MIN_BLOCK || size > MAX_BLOCK))
		return ckpt_stage_fail(s, "%s: SIZE must be %u-%u bytes", arg,
				       MIN_BLOCK, MAX_BLOCK);
	if (*end != ':' || !end[1])
		return ckpt_stage_fail(s, "%s: not N[,SIZE]:PATH", arg);
	if (strlen(end + 1) >= PATH_MAX)
		return ckpt_stage_fail(s, "%s: path too long", arg);
	c->base = strdup(end + 1);
	if (!c->base)
		return ckpt_stage_fail(s, "out of memory");
	c->n = (uint32_t)n;
	c->block = (uint32_t)size;
	return 0;
}

static struct chunks *chunks_new(struct ckpt_stage *s, const char *arg)
{
	struct chunks *c = calloc(1, sizeof(*c));
	int i;

	if (!c) {
		ckpt_stage_fail(s, "out of memory");
		return NULL;
	}
	for (i = 0; i < MAX_CHUNKS; i++)
		c->fd[i] = -1;
	s->priv = c;
	if (parse_spec(s, c, arg))
		return NULL;
	return c;
}

static void final_name(const struct chunks *c, uint32_t i, char *buf,
		       size_t len)
{
	snprintf(buf, len, "%s.%u", c->base, i);
}

/* ---- writing ------------------------------------------------------------ */

static int write_all(int fd, const void *buf, size_t len)
{
	const char *p = buf;
	ssize_t n;

	while (len) {
		n = write(fd, p, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		p += n;
		len -= n;
	}
	return 0;
}

/* PATH.i.tmp.XXXXXX, mode 0600, with its header. */
static int create_tmp(struct ckpt_stage *s, struct chunks *c, uint32_t i)
{
	struct chunk_head h = { .index = i, .count = c->n, .block = c->block };

	memcpy(h.magic, CHUNK_MAGIC, sizeof(h.magic));
	snprintf(c->tmp[i], sizeof(c->tmp[i]), "%s.%u.tmp.XXXXXX", c->base,
		 i);
	c->fd[i] = mkostemp(c->tmp[i], O_CLOEXEC);
	if (c->fd[i] < 0) {
		int err = errno;

		ckpt_stage_fail(s, "can't create %s: %s", c->tmp[i],
				strerror(err));
		c->tmp[i][0] = '\0';
		return -1;
	}
	/* mkostemp creates 0600 already; say it for whoever reads this */
	if (fchmod(c->fd[i], 0600) || write_all(c->fd[i], &h, sizeof(h)))
		return ckpt_stage_fail(s, "can't write %s: %s", c->tmp[i],
				       strerror(errno));
	return 0;
}

/* On failure the pipeline calls abort, which removes what exists. */
static int chunks_open_write(struct ckpt_stage *s, const char *arg)
{
	struct chunks *c = chunks_new(s, arg);
	uint32_t i;

	if (!c)
		return -1;
	for (i = 0; i < c->n; i++)
		if (create_tmp(s, c, i))
			return -1;
	return 0;
}

static int chunks_write(struct ckpt_stage *s, const void *buf, size_t len)
{
	struct chunks *c = s->priv;
	const char *p = buf;
	size_t n;

	while (len) {
		n = c->block - c->fill;
		if (n > len)
			n = len;
		if (write_all(c->fd[c->cur], p, n))
			return ckpt_stage_fail(s, "can't write %s: %s",
					       c->tmp[c->cur], strerror(errno));
		p += n;
		len -= n;
		c->fill += n;
		if (c->fill == c->block) {
			c->fill = 0;
			c->cur = (c->cur + 1) % c->n;
		}
	}
	return 0;
}

/* Remove PATH.0 ... PATH.upto-1, renamed by a commit that then failed. */
static void unlink_finals(const struct chunks *c, uint32_t upto)
{
	char name[NAME_LEN];
	uint32_t i;

	for (i = 0; i < upto; i++) {
		final_name(c, i, name, sizeof(name));
		unlink(name);
	}
}

/* The renames are durable once the directory is. */
static int sync_dir(const struct chunks *c)
{
	char dir[PATH_MAX], *slash;
	int fd, ret;

	snprintf(dir, sizeof(dir), "%s", c->base);
	slash = strrchr(dir, '/');
	if (!slash)
		snprintf(dir, sizeof(dir), ".");
	else
		slash[slash == dir] = '\0';	/* "/x" -> "/" */
	fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	ret = fsync(fd);
	close(fd);
	return ret;
}

static int sync_all(struct ckpt_stage *s, struct chunks *c)
{
	uint32_t i;
	int ret;

	for (i = 0; i < c->n; i++) {
		ret = fsync(c->fd[i]);
		/* Linux closes the fd even when close() fails */
		if (close(c->fd[i]))
			ret = -1;
		c->fd[i] = -1;
		if (ret)
			return ckpt_stage_fail(s, "can't write %s: %s",
					       c->tmp[i], strerror(errno));
	}
	return 0;
}

static void chunks_abort(struct ckpt_stage *s);

static int chunks_commit(struct ckpt_stage *s)
{
	struct chunks *c = s->priv;
	char name[NAME_LEN];
	uint32_t i;

	if (sync_all(s, c))
		goto err;
	for (i = 0; i < c->n; i++) {
		final_name(c, i, name, sizeof(name));
		if (rename(c->tmp[i], name)) {
			ckpt_stage_fail(s, "can't rename %s to %s: %s",
					c->tmp[i], name, strerror(errno));
			unlink_finals(c, i);
			goto err;
		}
		c->tmp[i][0] = '\0';
	}
	if (sync_dir(c)) {
		ckpt_stage_fail(s, "can't sync the directory of %s: %s",
				c->base, strerror(errno));
		unlink_finals(c, c->n);
		goto err;
	}
	return 0;
err:
	chunks_abort(s);
	return -1;
}

/* Removes the temporaries; after a commit there are none left. */
static void chunks_abort(struct ckpt_stage *s)
{
	struct chunks *c = s->priv;
	uint32_t i;

	if (!c)
		return;
	for (i = 0; i < MAX_CHUNKS; i++) {
		if (c->fd[i] >= 0)
			close(c->fd[i]);
		c->fd[i] = -1;
		if (c->tmp[i][0])
			unlink(c->tmp[i]);
		c->tmp[i][0] = '\0';
	}
}

/* ---- reading ------------------------------------------------------------ */

static ssize_t read_some(int fd, void *buf, size_t len)
{
	ssize_t n;

	do
		n = read(fd, buf, len);
	while (n < 0 && errno == EINTR);
	return n;
}

static int check_head(struct ckpt_stage *s, struct chunks *c, uint32_t i,
		      const char *name)
{
	struct chunk_head h;
	ssize_t n = read_some(c->fd[i], &h, sizeof(h));

	if (n < 0)
		return ckpt_stage_fail(s, "can't read %s: %s", name,
				       strerror(errno));
	if (n != sizeof(h) || memcmp(h.magic, CHUNK_MAGIC, sizeof(h.magic)))
		return ckpt_stage_fail(s, "%s is not a chunk file", name);
	if (h.index != i || h.count != c->n)
		return ckpt_stage_fail(s, "%s is chunk %u of %u, not %u of %u",
				       name, h.index, h.count, i, c->n);
	if (h.block < MIN_BLOCK || h.block > MAX_BLOCK ||
	    (i && h.block != c->block))
		return ckpt_stage_fail(s, "%s: bad block size %u", name,
				       h.block);
	c->block = h.block;
	return 0;
}

static int chunks_open_read(struct ckpt_stage *s, const char *arg)
{
	struct chunks *c = chunks_new(s, arg);
	char name[NAME_LEN];
	uint32_t i;

	if (!c)
		return -1;
	for (i = 0; i < c->n; i++) {
		final_name(c, i, name, sizeof(name));
		c->fd[i] = open(name, O_RDONLY | O_CLOEXEC);
		if (c->fd[i] < 0)
			return ckpt_stage_fail(s, "can't open %s: %s", name,
					       strerror(errno));
		if (check_head(s, c, i, name))
			return -1;
	}
	return 0;
}

/*
 * The stream ends where the current file does. Every file must be at its
 * end then: more data anywhere means a file lost blocks (or is another
 * dump's), and the interleaving is off.
 */
static ssize_t chunks_end(struct ckpt_stage *s, struct chunks *c)
{
	char byte;
	uint32_t i;

	c->eof = 1;
	for (i = 0; i < c->n; i++) {
		ssize_t n = read_some(c->fd[i], &byte, 1);

		if (n < 0)
			return ckpt_stage_fail(s, "can't read %s.%u: %s",
					       c->base, i, strerror(errno));
		if (n > 0)
			return ckpt_stage_fail(s, "%s.%u goes on past the end "
					       "of %s.%u: a file is short",
					       c->base, i, c->base, c->cur);
	}
	return 0;
}

static ssize_t chunks_read(struct ckpt_stage *s, void *buf, size_t len)
{
	struct chunks *c = s->priv;
	size_t want = c->block - c->fill;
	ssize_t n;

	if (c->eof || !len)
		return 0;
	if (want > len)
		want = len;
	n = read_some(c->fd[c->cur], buf, want);
	if (n < 0)
		return ckpt_stage_fail(s, "can't read %s.%u: %s", c->base,
				       c->cur, strerror(errno));
	if (n == 0)
		return chunks_end(s, c);
	c->fill += n;
	if (c->fill == c->block) {
		c->fill = 0;
		c->cur = (c->cur + 1) % c->n;
	}
	return n;
}

/* ---- both --------------------------------------------------------------- */

static void chunks_close(struct ckpt_stage *s)
{
	struct chunks *c = s->priv;

	chunks_abort(s);
	if (c)
		free(c->base);
	free(c);
	s->priv = NULL;
}

static const struct ckpt_stage_ops chunks_ops = {
	.api_version = CKPT_PLUGIN_API,
	.name = "chunks",
	.kind = CKPT_STAGE_SINK,
	.scheme = "chunks",
	.open_write = chunks_open_write,
	.write = chunks_write,
	.commit = chunks_commit,
	.abort = chunks_abort,
	.open_read = chunks_open_read,
	.read = chunks_read,
	.close = chunks_close,
};

const struct ckpt_stage_ops *const ckpt_plugin_stages[] = {
	&chunks_ops,
	NULL,
};
