/*
 * The encrypt filter: --encrypt KEYFILE on the way out, recognised by its
 * magic and undone with --key KEYFILE on the way back.
 *
 * libsodium's secretstream (XChaCha20-Poly1305): every chunk is
 * authenticated, chunks cannot be reordered, dropped or replayed, and the
 * last one carries the FINAL tag, so a stream cut anywhere is refused.
 * Stream: "CKPTENC1", the 24-byte secretstream header, then chunks of
 * u32 (little endian) ciphertext length and ciphertext (plaintext of at
 * most 1 MiB plus 17 bytes). The key file is made by `ckpt keygen`.
 */
#include <sys/stat.h>
#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "plugins/net.h"
#include "plugins/stages-priv.h"
#include "util/util.h"

#define ENC_MAGIC	"CKPTENC1"
#define ENC_CHUNK	(1u << 20)
#define ENC_ABYTES	crypto_secretstream_xchacha20poly1305_ABYTES
#define ENC_HEADER	crypto_secretstream_xchacha20poly1305_HEADERBYTES

_Static_assert(NET_KEY == crypto_secretstream_xchacha20poly1305_KEYBYTES,
	       "one key file format for --auth and --encrypt");

struct enc_priv {
	crypto_secretstream_xchacha20poly1305_state st;
	unsigned char *plain;	/* ENC_CHUNK */
	unsigned char *cipher;	/* ENC_CHUNK + ENC_ABYTES */
	size_t fill;		/* writing: plaintext buffered */
	size_t pos;		/* reading: plaintext handed out */
	int started, final;
};

static int enc_detect(const void *head, size_t len)
{
	return len >= 8 && !memcmp(head, ENC_MAGIC, 8);
}

static int enc_alloc(struct ckpt_stage *s)
{
	struct enc_priv *p = calloc(1, sizeof(*p));

	if (!p)
		return ckpt_stage_fail(s, "out of memory");
	s->priv = p;
	p->plain = malloc(ENC_CHUNK);
	p->cipher = malloc(ENC_CHUNK + ENC_ABYTES);
	if (!p->plain || !p->cipher || sodium_init() < 0)
		return ckpt_stage_fail(s, "can't set up encryption");
	return 0;
}

/* The key file format and its checks are shared with --auth (net.c). */
static int load_key(struct ckpt_stage *s, const char *path,
		    unsigned char key[crypto_secretstream_xchacha20poly1305_KEYBYTES])
{
	if (!path || !*path)
		return ckpt_stage_fail(s, "the image is encrypted: give the key file");
	return net_load_key(path, key, s->error, sizeof(s->error));
}

static int enc_open_write(struct ckpt_stage *s, const char *arg)
{
	unsigned char key[crypto_secretstream_xchacha20poly1305_KEYBYTES];
	unsigned char head[8 + ENC_HEADER];
	struct enc_priv *p;
	int ret;

	if (enc_alloc(s) || load_key(s, arg, key))
		return -1;
	p = s->priv;
	memcpy(head, ENC_MAGIC, 8);
	crypto_secretstream_xchacha20poly1305_init_push(&p->st, head + 8, key);
	sodium_memzero(key, sizeof(key));
	ret = ckpt_stage_next_write(s, head, sizeof(head));
	p->started = 1;
	return ret;
}

static int enc_push(struct ckpt_stage *s, unsigned char tag)
{
	struct enc_priv *p = s->priv;
	unsigned long long clen;
	unsigned char len[4];

	crypto_secretstream_xchacha20poly1305_push(&p->st, p->cipher, &clen,
						   p->plain, p->fill, NULL, 0,
						   tag);
	len[0] = clen;
	len[1] = clen >> 8;
	len[2] = clen >> 16;
	len[3] = clen >> 24;
	p->fill = 0;
	if (ckpt_stage_next_write(s, len, 4) ||
	    ckpt_stage_next_write(s, p->cipher, clen))
		return -1;
	return 0;
}

static int enc_write(struct ckpt_stage *s, const void *buf, size_t len)
{
	struct enc_priv *p = s->priv;
	const unsigned char *b = buf;

	while (len) {
		size_t n = ENC_CHUNK - p->fill < len ? ENC_CHUNK - p->fill : len;

		memcpy(p->plain + p->fill, b, n);
		p->fill += n;
		b += n;
		len -= n;
		if (p->fill == ENC_CHUNK &&
		    enc_push(s, crypto_secretstream_xchacha20poly1305_TAG_MESSAGE))
			return -1;
	}
	return 0;
}

static int enc_commit(struct ckpt_stage *s)
{
	return enc_push(s, crypto_secretstream_xchacha20poly1305_TAG_FINAL);
}

static void enc_abort(struct ckpt_stage *s)
{
	(void)s;
}

/* Read exactly len bytes from upstream; 0 at a clean end before any. */
static int read_exact(struct ckpt_stage *s, void *buf, size_t len, int *eof)
{
	size_t got = 0;

	*eof = 0;
	while (got < len) {
		ssize_t n = ckpt_stage_next_read(s, (char *)buf + got,
						 len - got);

		if (n < 0)
			return -1;
		if (n == 0) {
			*eof = 1;
			return got ? ckpt_stage_fail(s, "encrypted stream truncated")
				   : 0;
		}
		got += n;
	}
	return 0;
}

static int enc_open_read(struct ckpt_stage *s, const char *arg)
{
	unsigned char key[crypto_secretstream_xchacha20poly1305_KEYBYTES];
	unsigned char head[8 + ENC_HEADER];
	struct enc_priv *p;
	int eof, bad;

	if (enc_alloc(s) || load_key(s, arg, key))
		return -1;
	p = s->priv;
	if (read_exact(s, head, sizeof(head), &eof))
		return -1;
	if (eof)
		return ckpt_stage_fail(s, "encrypted stream truncated");
	bad = crypto_secretstream_xchacha20poly1305_init_pull(&p->st, head + 8,
							      key);
	sodium_memzero(key, sizeof(key));
	if (bad)
		return ckpt_stage_fail(s, "bad encryption header");
	return 0;
}

/* Decrypt the next chunk into p->plain. */
static int enc_pull(struct ckpt_stage *s, struct enc_priv *p)
{
	unsigned char len[4], tag;
	unsigned long long plen;
	uint32_t clen;
	int eof;

	if (read_exact(s, len, 4, &eof))
		return -1;
	if (eof)
		return ckpt_stage_fail(s, "encrypted stream truncated");
	clen = len[0] | len[1] << 8 | len[2] << 16 | (uint32_t)len[3] << 24;
	if (clen < ENC_ABYTES || clen > ENC_CHUNK + ENC_ABYTES)
		return ckpt_stage_fail(s, "bad chunk length %u", clen);
	if (read_exact(s, p->cipher, clen, &eof))
		return -1;
	if (eof)
		return ckpt_stage_fail(s, "encrypted stream truncated");
	if (crypto_secretstream_xchacha20poly1305_pull(&p->st, p->plain, &plen,
						       &tag, p->cipher, clen,
						       NULL, 0))
		return ckpt_stage_fail(s, "wrong key, or the image was altered");
	p->fill = plen;
	p->pos = 0;
	if (tag == crypto_secretstream_xchacha20poly1305_TAG_FINAL)
		p->final = 1;
	return 0;
}

static ssize_t enc_read(struct ckpt_stage *s, void *buf, size_t len)
{
	struct enc_priv *p = s->priv;
	size_t n;
	int eof;

	while (p->pos == p->fill) {
		if (p->final) {
			char extra;

			if (read_exact(s, &extra, 1, &eof))
				return -1;
			return eof ? 0 : ckpt_stage_fail(s,
				"data after the end of the encrypted stream");
		}
		if (enc_pull(s, p))
			return -1;
	}
	n = p->fill - p->pos < len ? p->fill - p->pos : len;
	memcpy(buf, p->plain + p->pos, n);
	p->pos += n;
	return n;
}

static void enc_close(struct ckpt_stage *s)
{
	struct enc_priv *p = s->priv;

	if (!p)
		return;
	if (p->plain)
		sodium_memzero(p->plain, ENC_CHUNK);
	free(p->plain);
	free(p->cipher);
	sodium_memzero(&p->st, sizeof(p->st));
	free(p);
	s->priv = NULL;
}

const struct ckpt_stage_ops stage_encrypt_ops = {
	.api_version = CKPT_PLUGIN_API,
	.name = "encrypt",
	.kind = CKPT_STAGE_FILTER,
	.detect = enc_detect,
	.open_write = enc_open_write,
	.write = enc_write,
	.commit = enc_commit,
	.abort = enc_abort,
	.open_read = enc_open_read,
	.read = enc_read,
	.close = enc_close,
};

int stage_encrypt_keygen(const char *path)
{
	unsigned char key[crypto_secretstream_xchacha20poly1305_KEYBYTES];
	char hex[2 * sizeof(key) + 1], line[128];
	int fd, n, ret = -1;

	if (sodium_init() < 0)
		return -1;
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0)
		return -1;
	crypto_secretstream_xchacha20poly1305_keygen(key);
	sodium_bin2hex(hex, sizeof(hex), key, sizeof(key));
	n = snprintf(line, sizeof(line), "ckpt-key-1 %s\n", hex);
	if (!fchmod(fd, 0600) && !write_full(fd, line, n) && !fsync(fd))
		ret = 0;
	sodium_memzero(key, sizeof(key));
	sodium_memzero(hex, sizeof(hex));
	sodium_memzero(line, sizeof(line));
	if (close(fd))
		ret = -1;
	if (ret)
		unlink(path);
	return ret;
}
