/*
 * file sink: the img_sink behind img_writer_open(). Writes go to a
 * temporary file beside the target (mode 0600: an image holds process
 * memory), through a 1 MiB buffer that large page data bypasses. Commit
 * makes the image durable and then visible: fsync, rename(2) over the
 * target, fsync of the directory so that the rename survives a crash.
 */
#include <sys/stat.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "image/image.h"
#include "image/image-priv.h"

#define FSINK_BUF	(1u << 20)

struct file_sink {
	struct img_sink sink;	/* first: the sink pointer is ours */
	int fd;
	char *path;		/* the target */
	char *tmp;		/* the temporary file, until renamed */
	uint8_t *buf;
	size_t len;
};

static int fs_flush(struct file_sink *f)
{
	if (!f->len)
		return 0;
	if (write_full(f->fd, f->buf, f->len)) {
		pr_perror("can't write %s", f->tmp);
		return -1;
	}
	f->len = 0;
	return 0;
}

static int fs_write(struct img_sink *s, const void *buf, size_t len)
{
	struct file_sink *f = (struct file_sink *)s;

	if (f->len + len > FSINK_BUF && fs_flush(f))
		return -1;
	if (len >= FSINK_BUF) {
		/* page data: straight from the caller's buffer */
		if (write_full(f->fd, buf, len)) {
			pr_perror("can't write %s", f->tmp);
			return -1;
		}
		return 0;
	}
	memcpy(f->buf + f->len, buf, len);
	f->len += len;
	return 0;
}

static void fs_free(struct file_sink *f)
{
	if (f->fd >= 0)
		close(f->fd);
	free(f->path);
	free(f->tmp);
	free(f->buf);
	free(f);
}

static int fsync_dir_of(const char *path)
{
	char *copy = strdup(path);
	int fd = -1, ret = -1;

	if (!copy) {
		pr_err("can't sync directory of %s: out of memory", path);
		return -1;
	}
	fd = open(dirname(copy), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0) {
		pr_perror("can't open directory of %s", path);
		goto out;
	}
	if (fsync(fd)) {
		pr_perror("can't sync directory of %s", path);
		goto out;
	}
	ret = 0;
out:
	if (fd >= 0)
		close(fd);
	free(copy);
	return ret;
}

/* On success the sink is freed; on failure the caller aborts it. */
static int fs_commit(struct img_sink *s)
{
	struct file_sink *f = (struct file_sink *)s;

	if (fs_flush(f))
		return -1;
	if (fsync(f->fd)) {
		pr_perror("can't sync %s", f->tmp);
		return -1;
	}
	if (rename(f->tmp, f->path)) {
		pr_perror("can't rename %s to %s", f->tmp, f->path);
		return -1;
	}
	free(f->tmp);
	f->tmp = NULL;
	if (fsync_dir_of(f->path))
		return -1;
	fs_free(f);
	return 0;
}

/* Removes the temporary file, or the target if commit failed after the
 * rename: a half-committed image must not stay behind either. */
static void fs_abort(struct img_sink *s)
{
	struct file_sink *f = (struct file_sink *)s;
	const char *name = f->tmp ? f->tmp : f->path;

	if (unlink(name) && errno != ENOENT)
		pr_perror("can't remove %s", name);
	fs_free(f);
}

static int fs_create(struct file_sink *f, const char *path)
{
	if (asprintf(&f->tmp, "%s.tmp.XXXXXX", path) < 0)
		f->tmp = NULL;
	f->path = strdup(path);
	f->buf = malloc(FSINK_BUF);
	if (!f->tmp || !f->path || !f->buf) {
		pr_err("can't open image writer for %s: out of memory", path);
		return -1;
	}
	f->fd = mkostemp(f->tmp, O_CLOEXEC);
	if (f->fd < 0) {
		pr_perror("can't create %s", f->tmp);
		return -1;
	}
	/* mkostemp uses 0600 already; do not depend on it */
	if (fchmod(f->fd, 0600)) {
		pr_perror("can't chmod %s", f->tmp);
		return -1;
	}
	return 0;
}

struct img_sink *img_file_sink_open(const char *path)
{
	struct file_sink *f;

	f = calloc(1, sizeof(*f));
	if (!f) {
		pr_err("can't open image writer for %s: out of memory", path);
		return NULL;
	}
	f->fd = -1;
	f->sink.write = fs_write;
	f->sink.commit = fs_commit;
	f->sink.abort = fs_abort;
	if (fs_create(f, path)) {
		if (f->fd >= 0)
			unlink(f->tmp);
		fs_free(f);
		return NULL;
	}
	return &f->sink;
}

struct img_writer *img_writer_open(const char *path)
{
	struct img_sink *s = img_file_sink_open(path);

	return s ? img_writer_new(s) : NULL;
}
