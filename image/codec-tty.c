/*
 * codec-tty: the FILE fields of a Unix98 pty master or slave. Both carry
 * the index; the master alone the state of the pair (img_tty in image.h),
 * and so does a terminal outside the tree (kind TTY) for its own. That a
 * slave's master is in the image is checked in semantics.c.
 */
#include <string.h>
#include <termios.h>

#include "image/image.h"
#include "image/image-priv.h"
#include "util/ttyq.h"

int img_tty_kind(uint32_t kind)
{
	return kind == IMG_FILE_PTY_MASTER || kind == IMG_FILE_PTY_SLAVE;
}

static int has_tty(uint32_t kind)
{
	return img_tty_kind(kind) || kind == IMG_FILE_TTY;
}

const struct img_file *img_outside_tty(const struct image *img, uint32_t *n)
{
	const struct img_file *f = NULL;
	uint32_t i;

	*n = 0;
	for (i = 0; i < img->nr_files; i++)
		if (img->files[i].kind == IMG_FILE_TTY) {
			f = &img->files[i];
			(*n)++;
		}
	return *n == 1 ? f : NULL;
}

/*
 * PTY_SLAVE: u32 index
 * PTY_MASTER, TTY: u32 index flags iflag oflag cflag lflag line;
 * u32 x 8 cc (4 bytes each, the first lowest); u32 ispeed ospeed rows
 * cols xpixel ypixel; i32 sid pgrp; with IMG_TTY_COLUMN, u32 column
 * canon_column
 * then, PTY_MASTER and PTY_SLAVE on a devpts instance of the tree's own,
 * u32 mount (not 0), last: a pair on /dev/pts is written as images
 * before it had it, which stay readable
 */
static uint32_t cc_word(const uint8_t *cc)
{
	return cc[0] | cc[1] << 8 | cc[2] << 16 | (uint32_t)cc[3] << 24;
}

static void enc_master(struct enc *e, const struct img_tty *t)
{
	int i;

	enc_u32(e, t->flags);
	enc_u32(e, t->iflag);
	enc_u32(e, t->oflag);
	enc_u32(e, t->cflag);
	enc_u32(e, t->lflag);
	enc_u32(e, t->line);
	for (i = 0; i < IMG_TTY_NCCS; i += 4)
		enc_u32(e, cc_word(t->cc + i));
	enc_u32(e, t->ispeed);
	enc_u32(e, t->ospeed);
	enc_u32(e, t->rows);
	enc_u32(e, t->cols);
	enc_u32(e, t->xpixel);
	enc_u32(e, t->ypixel);
	enc_u32(e, (uint32_t)t->sid);
	enc_u32(e, (uint32_t)t->pgrp);
	if (t->flags & IMG_TTY_COLUMN) {
		enc_u32(e, t->column);
		enc_u32(e, t->canon_column);
	}
}

void img_enc_tty(struct enc *e, const struct img_file *f)
{
	const struct img_tty *t = &f->tty;

	if (!has_tty(f->kind))
		return;
	enc_u32(e, t->index);
	if (f->kind != IMG_FILE_PTY_SLAVE)
		enc_master(e, t);
	if (img_tty_kind(f->kind) && t->mount)
		enc_u32(e, t->mount);
}

static void dec_master(struct dec *d, struct img_file *f)
{
	struct img_tty *t = &f->tty;
	uint32_t w;
	int i, k;

	dec_u32(d, &t->flags);
	dec_u32(d, &t->iflag);
	dec_u32(d, &t->oflag);
	dec_u32(d, &t->cflag);
	dec_u32(d, &t->lflag);
	dec_u32(d, &t->line);
	for (i = 0; i < IMG_TTY_NCCS; i += 4) {
		dec_u32(d, &w);
		for (k = 0; k < 4; k++)
			t->cc[i + k] = w >> (8 * k);
	}
	dec_u32(d, &t->ispeed);
	dec_u32(d, &t->ospeed);
	dec_u32(d, &t->rows);
	dec_u32(d, &t->cols);
	dec_u32(d, &t->xpixel);
	dec_u32(d, &t->ypixel);
	dec_i32(d, &t->sid);
	dec_i32(d, &t->pgrp);
	if (t->flags & IMG_TTY_COLUMN) {
		dec_u32(d, &t->column);
		dec_u32(d, &t->canon_column);
	}
	dec_check(d, !(t->flags & ~IMG_TTY_ALL), "file %u: bad tty flags %#x",
		  f->id, t->flags);
	dec_check(d, t->rows <= 0xffff && t->cols <= 0xffff &&
		  t->xpixel <= 0xffff && t->ypixel <= 0xffff,
		  "file %u: bad window size", f->id);
	dec_check(d, t->column <= IMG_TTY_MAX_COLUMN &&
		  t->canon_column <= IMG_TTY_MAX_COLUMN,
		  "file %u: bad column %u or %u", f->id, t->column,
		  t->canon_column);
	dec_check(d, t->sid >= 0 && t->pgrp >= 0 && (t->sid || !t->pgrp),
		  "file %u: bad session %d or group %d", f->id, t->sid,
		  t->pgrp);
	dec_check(d, f->kind != IMG_FILE_TTY || !t->flags,
		  "file %u: a terminal outside the tree with flags %#x",
		  f->id, t->flags);
}

void img_dec_tty(struct dec *d, struct img_file *f)
{
	if (!has_tty(f->kind))
		return;
	dec_u32(d, &f->tty.index);
	dec_check(d, f->tty.index < IMG_MAX_PTY, "file %u: bad pty index %u",
		  f->id, f->tty.index);
	if (f->kind != IMG_FILE_PTY_SLAVE)
		dec_master(d, f);
	if (!img_tty_kind(f->kind) || d->pos >= d->len)
		return;
	dec_u32(d, &f->tty.mount);
	dec_check(d, f->tty.mount, "file %u: pty %u on mount 0",
		  f->id, f->tty.index);
}

void img_tty_termios(const struct img_tty *t, struct termios *tio)
{
	memset(tio, 0, sizeof(*tio));
	tio->c_iflag = t->iflag;
	tio->c_oflag = t->oflag;
	tio->c_cflag = t->cflag;
	tio->c_lflag = t->lflag;
	tio->c_line = t->line;
	memcpy(tio->c_cc, t->cc, sizeof(t->cc) < sizeof(tio->c_cc) ?
	       sizeof(t->cc) : sizeof(tio->c_cc));
}

/*
 * Can a canonical line discipline hold chunk ch, the last one or not? A
 * line ends once, at its last byte ('\n', VEOL, VEOL2) or with VEOF
 * (EOR), and holds no VEOF: only the last chunk may have no end.
 */
static int line_ok(const struct termios *tio, const struct img_chunk *ch,
		   int last)
{
	uint32_t i;
	int ended = ch->len && ttyq_is_end(tio, ch->data[ch->len - 1]);

	for (i = 0; i < ch->len; i++)
		if (ttyq_is_eof(tio, ch->data[i]) ||
		    (i + 1 < ch->len && ttyq_is_end(tio, ch->data[i])))
			return 0;
	if (ch->flags & IMG_CHUNK_EOR)
		return !ended && tio->c_cc[VEOF];
	return ended || last;
}

int img_tty_input(const struct img_file *f, uint8_t *buf)
{
	const struct img_chunk *ch;
	struct termios tio;
	uint32_t i, n = 0, last = 0;
	int canon;

	img_tty_termios(&f->tty, &tio);
	canon = !!(tio.c_lflag & ICANON);
	for (i = 0; i < f->nr_chunks; i++)
		if (f->chunks[i].flags & IMG_CHUNK_TTY_IN)
			last = i;
	for (i = 0; i < f->nr_chunks; i++) {
		ch = &f->chunks[i];
		if (!(ch->flags & IMG_CHUNK_TTY_IN))
			continue;
		if (canon ? !line_ok(&tio, ch, i == last) :
		    (ch->flags & IMG_CHUNK_EOR) != 0)
			return -1;
		if (ch->len + 1 > TTYQ_MAX - n)
			return -1;
		if (ch->len)	/* an empty line has no data */
			memcpy(buf + n, ch->data, ch->len);
		n += ch->len;
		if (ch->flags & IMG_CHUNK_EOR)
			buf[n++] = tio.c_cc[VEOF];
	}
	return n;
}
