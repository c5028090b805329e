/*
 * The built-in sinks: "file" (a path: written to a temporary file beside
 * it, fsync'ed and renamed at commit, so that nothing half-written is ever
 * visible; mode 0600) and "-" (standard output when writing, standard
 * input when reading: a pipe cannot be taken back, so an aborted stream
 * just stops, without the trailer every reader requires).
 */
#include <sys/stat.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "plugins/pipeline.h"
#include "plugins/stages-priv.h"

/* ---- file ------------------------------------------------------------- */

struct file_priv {
	struct img_sink *sink;	/* writing */
	int fd;			/* reading */
};

static int file_open_write(struct ckpt_stage *s, const char *arg)
{
	struct file_priv *p = calloc(1, sizeof(*p));

	if (!p)
		return ckpt_stage_fail(s, "out of memory");
	p->fd = -1;
	s->priv = p;
	p->sink = img_file_sink_open(arg);
	return p->sink ? 0 : -1;	/* the file sink said why */
}

static int file_write(struct ckpt_stage *s, const void *buf, size_t len)
{
	struct file_priv *p = s->priv;

	if (p->sink->write(p->sink, buf, len))
		return ckpt_stage_fail(s, "write failed");
	return 0;
}

static int file_commit(struct ckpt_stage *s)
{
	struct file_priv *p = s->priv;
	struct img_sink *sink = p->sink;

	p->sink = NULL;
	if (sink->commit(sink)) {
		sink->abort(sink);
		return ckpt_stage_fail(s, "commit failed");
	}
	return 0;
}

static void file_abort(struct ckpt_stage *s)
{
	struct file_priv *p = s->priv;

	if (p && p->sink)
		p->sink->abort(p->sink);
	if (p)
		p->sink = NULL;
}

static int file_open_read(struct ckpt_stage *s, const char *arg)
{
	struct file_priv *p = calloc(1, sizeof(*p));
	struct stat st;

	if (!p)
		return ckpt_stage_fail(s, "out of memory");
	s->priv = p;
	p->fd = open(arg, O_RDONLY | O_CLOEXEC);
	if (p->fd < 0)
		return ckpt_stage_fail(s, "can't open %s: %s", arg,
				       strerror(errno));
	/* another user could have changed what restore would run */
	if (fstat(p->fd, &st))
		return ckpt_stage_fail(s, "can't stat %s: %s", arg,
				       strerror(errno));
	if ((S_ISREG(st.st_mode) || S_ISDIR(st.st_mode)) &&
	    (st.st_mode & (S_IWGRP | S_IWOTH)))
		return ckpt_stage_fail(s, "image %s is writable by others (mode %03o): refused",
				       arg, (unsigned int)(st.st_mode & 0777));
	return 0;
}

static ssize_t fd_read(struct ckpt_stage *s, int fd, void *buf, size_t len)
{
	ssize_t n;

	do
		n = read(fd, buf, len);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return ckpt_stage_fail(s, "read failed: %s", strerror(errno));
	return n;
}

static ssize_t file_read(struct ckpt_stage *s, void *buf, size_t len)
{
	return fd_read(s, ((struct file_priv *)s->priv)->fd, buf, len);
}

static void file_close(struct ckpt_stage *s)
{
	struct file_priv *p = s->priv;

	if (!p)
		return;
	file_abort(s);
	if (p->fd >= 0)
		close(p->fd);
	free(p);
	s->priv = NULL;
}

int stage_file_fd(struct ckpt_stage *s)
{
	struct file_priv *p = s->priv;

	return p ? p->fd : -1;
}

const struct ckpt_stage_ops stage_file_ops = {
	.api_version = CKPT_PLUGIN_API,
	.name = "file",
	.kind = CKPT_STAGE_SINK,
	.scheme = "file",
	.open_write = file_open_write,
	.write = file_write,
	.commit = file_commit,
	.abort = file_abort,
	.open_read = file_open_read,
	.read = file_read,
	.close = file_close,
};

/* ---- standard output / input ----------------------------------------- */

static int std_open(struct ckpt_stage *s, const char *arg)
{
	(void)arg;
	s->priv = NULL;
	return 0;
}

static int std_write(struct ckpt_stage *s, const void *buf, size_t len)
{
	if (write_full(STDOUT_FILENO, buf, len))
		return ckpt_stage_fail(s, "can't write to standard output: %s",
				       strerror(errno));
	return 0;
}

static int std_commit(struct ckpt_stage *s)
{
	(void)s;
	return 0;
}

static void std_abort(struct ckpt_stage *s)
{
	(void)s;
}

static ssize_t std_read(struct ckpt_stage *s, void *buf, size_t len)
{
	return fd_read(s, STDIN_FILENO, buf, len);
}

static void std_close(struct ckpt_stage *s)
{
	(void)s;
}

const struct ckpt_stage_ops stage_std_ops = {
	.api_version = CKPT_PLUGIN_API,
	.name = "-",
	.kind = CKPT_STAGE_SINK,
	.scheme = NULL,
	.open_write = std_open,
	.write = std_write,
	.commit = std_commit,
	.abort = std_abort,
	.open_read = std_open,
	.read = std_read,
	.close = std_close,
};
