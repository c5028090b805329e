/*
 * file sink: the img_sink behind img_writer_open(). Writes go to a
 * temporary file beside the target (mode 0600: an image holds process
 * memory), through a 1 MiB buffer that large page data bypasses. Commit
 * makes the image durable and then visible: fsync, rename(2) over the
 * target, fsync of the directory so that the rename survives a crash
 * (util/durable.h does all three).
 */
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>

#include "image/image.h"
#include "image/image-priv.h"
#include "util/durable.h"

#define FSINK_BUF	(1u << 20)
/* writes of at least this much (page data) go straight from the caller's
 * buffer, the buffered bytes before them first: the dump reads memory in
 * chunks small enough to stay in the CPU's cache (DUMP_MEM_CHUNK), and a
 * copy into our buffer would cost as much as the write itself */
#define FSINK_DIRECT	(64u << 10)

struct file_sink {
	struct img_sink sink;	/* first: the sink pointer is ours */
	struct durable file;
	uint8_t *buf;
	size_t len;
};

static int fs_flush(struct file_sink *f)
{
	if (!f->len)
		return 0;
	if (write_full(f->file.fd, f->buf, f->len)) {
		pr_perror("can't write %s", f->file.tmp);
		return -1;
	}
	f->len = 0;
	return 0;
}

static int fs_write(struct img_sink *s, const void *buf, size_t len)
{
	struct file_sink *f = (struct file_sink *)s;

	if ((f->len + len > FSINK_BUF || len >= FSINK_DIRECT) && fs_flush(f))
		return -1;
	if (len >= FSINK_DIRECT) {
		/* page data: straight from the caller's buffer */
		if (write_full(f->file.fd, buf, len)) {
			pr_perror("can't write %s", f->file.tmp);
			return -1;
		}
		return 0;
	}
	memcpy(f->buf + f->len, buf, len);
	f->len += len;
	return 0;
}

/* On success the sink is freed; on failure the caller aborts it (which
 * finds nothing left to remove: durable_commit saw to that, the target
 * too if the rename could not be made durable). */
static int fs_commit(struct img_sink *s)
{
	struct file_sink *f = (struct file_sink *)s;

	if (fs_flush(f) || durable_commit(&f->file))
		return -1;
	free(f->buf);
	free(f);
	return 0;
}

static void fs_abort(struct img_sink *s)
{
	struct file_sink *f = (struct file_sink *)s;

	durable_abort(&f->file);
	free(f->buf);
	free(f);
}

struct img_sink *img_file_sink_open(const char *path)
{
	struct file_sink *f;

	f = calloc(1, sizeof(*f));
	if (f)
		f->buf = malloc(FSINK_BUF);
	if (!f || !f->buf) {
		pr_err("can't open image writer for %s: out of memory", path);
		free(f);
		return NULL;
	}
	if (durable_open(&f->file, AT_FDCWD, path, 0)) {
		free(f->buf);
		free(f);
		return NULL;
	}
	f->sink.write = fs_write;
	f->sink.commit = fs_commit;
	f->sink.abort = fs_abort;
	return &f->sink;
}

struct img_writer *img_writer_open(const char *path)
{
	struct img_sink *s = img_file_sink_open(path);

	return s ? img_writer_new(s) : NULL;
}
