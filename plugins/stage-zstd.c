/*
 * The zstd filter: --compress[=LEVEL] (1-19, default 3) on the way out,
 * recognised by its magic number on the way back. Compression runs in
 * zstd's worker threads, one per core, while the dump goes on. A stream
 * that ends before its frame does is an error, never a short image.
 * Decoding is bounded: a frame may not declare, and the pipeline does not
 * decode, more than stage_max_decoded() bytes (a zstd bomb: a few KiB
 * that expand to terabytes); libzstd's window is bounded by its default
 * (ZSTD_d_windowLogMax: 128 MiB) whatever the frame asks.
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#define ZSTD_STATIC_LINKING_ONLY	/* ZSTD_FRAMEHEADERSIZE_MAX */
#include <zstd.h>

#include "plugins/stages-priv.h"

struct zstd_priv {
	ZSTD_CCtx *cctx;
	ZSTD_DCtx *dctx;
	void *buf;		/* compressed bytes on their way */
	size_t cap;
	/* reading: compressed input not consumed yet */
	ZSTD_inBuffer in;
	int frame_done, upstream_eof;
	/* the frame's header, gathered for zstd_check_size() */
	unsigned char head[ZSTD_FRAMEHEADERSIZE_MAX];
	size_t head_len;
};

static int zstd_detect(const void *head, size_t len)
{
	static const unsigned char magic[4] = { 0x28, 0xb5, 0x2f, 0xfd };

	return len >= 4 && !memcmp(head, magic, 4);
}

static int zstd_open_write(struct ckpt_stage *s, const char *arg)
{
	struct zstd_priv *p = calloc(1, sizeof(*p));
	long level = arg && *arg ? strtol(arg, NULL, 10) : 3;
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);

	if (!p)
		return ckpt_stage_fail(s, "out of memory");
	s->priv = p;
	if (level < 1 || level > 19)
		return ckpt_stage_fail(s, "compression level %s is not 1-19",
				       arg);
	p->cctx = ZSTD_createCCtx();
	p->cap = ZSTD_CStreamOutSize();
	p->buf = malloc(p->cap);
	if (!p->cctx || !p->buf)
		return ckpt_stage_fail(s, "out of memory");
	ZSTD_CCtx_setParameter(p->cctx, ZSTD_c_compressionLevel, level);
	ZSTD_CCtx_setParameter(p->cctx, ZSTD_c_checksumFlag, 1);
	/* without libzstd's thread support this fails: single-threaded */
	ZSTD_CCtx_setParameter(p->cctx, ZSTD_c_nbWorkers,
			       cpus > 1 ? (int)cpus : 0);
	return 0;
}

/* Compress buf with the end directive; push out what comes. */
static int zstd_push(struct ckpt_stage *s, const void *buf, size_t len,
		     ZSTD_EndDirective end)
{
	struct zstd_priv *p = s->priv;
	ZSTD_inBuffer in = { buf, len, 0 };
	size_t left;

	do {
		ZSTD_outBuffer out = { p->buf, p->cap, 0 };

		left = ZSTD_compressStream2(p->cctx, &out, &in, end);
		if (ZSTD_isError(left))
			return ckpt_stage_fail(s, "zstd: %s",
					       ZSTD_getErrorName(left));
		if (out.pos && ckpt_stage_next_write(s, p->buf, out.pos))
			return -1;
	} while (end == ZSTD_e_end ? left != 0 : in.pos < in.size);
	return 0;
}

static int zstd_write(struct ckpt_stage *s, const void *buf, size_t len)
{
	return zstd_push(s, buf, len, ZSTD_e_continue);
}

static int zstd_commit(struct ckpt_stage *s)
{
	return zstd_push(s, NULL, 0, ZSTD_e_end);
}

static void zstd_abort(struct ckpt_stage *s)
{
	(void)s;
}

static int zstd_open_read(struct ckpt_stage *s, const char *arg)
{
	struct zstd_priv *p = calloc(1, sizeof(*p));

	(void)arg;
	if (!p)
		return ckpt_stage_fail(s, "out of memory");
	s->priv = p;
	p->dctx = ZSTD_createDCtx();
	p->cap = ZSTD_DStreamInSize();
	p->buf = malloc(p->cap);
	if (!p->dctx || !p->buf)
		return ckpt_stage_fail(s, "out of memory");
	p->in.src = p->buf;
	return 0;
}

/* Refill the input from upstream; 0 at its end. */
static ssize_t zstd_refill(struct ckpt_stage *s, struct zstd_priv *p)
{
	ssize_t n = ckpt_stage_next_read(s, p->buf, p->cap);

	if (n < 0)
		return -1;
	p->in.size = n;
	p->in.pos = 0;
	if (!n)
		p->upstream_eof = 1;
	return n;
}

/* The size the frame declares, once its header is in: more than a
 * decoded image may have is refused before anything is decoded. The
 * header may come in pieces (the pipeline replays the first bytes it
 * peeked at alone). */
static int zstd_check_size(struct ckpt_stage *s, struct zstd_priv *p)
{
	size_t n = sizeof(p->head) - p->head_len;
	unsigned long long size;

	if (n > p->in.size)
		n = p->in.size;
	if (!n)
		return 0;
	memcpy(p->head + p->head_len, p->in.src, n);
	p->head_len += n;
	size = ZSTD_getFrameContentSize(p->head, p->head_len);
	if (size == ZSTD_CONTENTSIZE_UNKNOWN ||
	    size == ZSTD_CONTENTSIZE_ERROR || size <= stage_max_decoded())
		return 0;
	return ckpt_stage_fail(s, "the zstd frame declares %llu bytes, more than a decoded image may have (%llu): refused",
			       size, (unsigned long long)stage_max_decoded());
}

static ssize_t zstd_read(struct ckpt_stage *s, void *buf, size_t len)
{
	struct zstd_priv *p = s->priv;
	ZSTD_outBuffer out = { buf, len, 0 };
	size_t r;

	while (!out.pos && !p->frame_done) {
		r = ZSTD_decompressStream(p->dctx, &out, &p->in);
		if (ZSTD_isError(r))
			return ckpt_stage_fail(s, "zstd: %s",
					       ZSTD_getErrorName(r));
		if (r == 0) {
			p->frame_done = 1;
			break;
		}
		if (out.pos || p->in.pos < p->in.size)
			continue;
		if (zstd_refill(s, p) < 0 || zstd_check_size(s, p))
			return -1;
		if (p->upstream_eof)
			return ckpt_stage_fail(s, "zstd stream truncated");
	}
	return out.pos;
}

static void zstd_close(struct ckpt_stage *s)
{
	struct zstd_priv *p = s->priv;

	if (!p)
		return;
	ZSTD_freeCCtx(p->cctx);
	ZSTD_freeDCtx(p->dctx);
	free(p->buf);
	free(p);
	s->priv = NULL;
}

const struct ckpt_stage_ops stage_zstd_ops = {
	.api_version = CKPT_PLUGIN_API,
	.name = "zstd",
	.kind = CKPT_STAGE_FILTER,
	.detect = zstd_detect,
	.open_write = zstd_open_write,
	.write = zstd_write,
	.commit = zstd_commit,
	.abort = zstd_abort,
	.open_read = zstd_open_read,
	.read = zstd_read,
	.close = zstd_close,
};
