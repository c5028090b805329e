/*
 * codec-share: what tasks share beyond memory and open files. A process
 * may share its cwd, root and umask (CLONE_FS) or its fd table
 * (CLONE_FILES) with its parent: one u32 of IMG_SHARE_* bits at the end
 * of its PROC record's state (codec-task.c). A thread that called
 * unshare(2) has them of its own, at the end of its THREAD record: its
 * umask and cwd, and its fd table as fds of the process's (the same open
 * file descriptions, under numbers and flags of its own).
 */
#include <fcntl.h>
#include <stdlib.h>

#include "image/image.h"
#include "image/image-priv.h"

/* u32 own umask; optstr cwd; u32 nr_fds; per fd: u32 fd src fdflags */
void img_enc_tshare(struct enc *e, const struct img_tshare *s)
{
	uint32_t i;

	enc_u32(e, s->own);
	enc_u32(e, s->umask);
	enc_str(e, s->cwd, 1, "thread cwd too long");
	enc_cap(e, s->nr_fds, IMG_MAX_FILES, "too many fds in a thread");
	enc_u32(e, s->nr_fds);
	for (i = 0; i < s->nr_fds && i < IMG_MAX_FILES; i++) {
		enc_u32(e, s->fds[i].fd);
		enc_u32(e, s->fds[i].src);
		enc_u32(e, s->fds[i].fdflags);
	}
}

static void dec_tfds(struct dec *d, struct img_tshare *s)
{
	uint32_t i;

	dec_u32(d, &s->nr_fds);
	if (!dec_count_ok(d, s->nr_fds, IMG_MAX_FILES, 12, "thread fds") ||
	    !s->nr_fds)
		return;
	dec_check(d, s->own & IMG_SHARE_FILES,
		  "fds of a thread without a table of its own");
	s->fds = dec_alloc(d, s->nr_fds * sizeof(*s->fds));
	for (i = 0; s->fds && i < s->nr_fds; i++) {
		struct img_tfd *f = &s->fds[i];

		dec_i32(d, &f->fd);
		dec_i32(d, &f->src);
		dec_u32(d, &f->fdflags);
		dec_check(d, f->fd >= 0 && f->src >= 0, "thread fd %d of %d",
			  f->fd, f->src);
		dec_check(d, !i || f->fd > s->fds[i - 1].fd,
			  "thread fds out of order");
		dec_check(d, !(f->fdflags & ~FD_CLOEXEC),
			  "thread fd flags %#x", f->fdflags);
	}
}

void img_dec_tshare(struct dec *d, struct img_tshare *s)
{
	dec_u32(d, &s->own);
	dec_u32(d, &s->umask);
	dec_str(d, &s->cwd, 1, "thread cwd");
	dec_check(d, !(s->own & ~IMG_SHARE_ALL), "thread owns %#x", s->own);
	dec_check(d, s->umask <= 0777, "thread umask %#o", s->umask);
	dec_check(d, !(s->own & IMG_SHARE_FS) == !s->cwd,
		  "thread cwd without a cwd of its own, or none with it");
	dec_check(d, !s->cwd || s->cwd[0] == '/', "thread cwd not absolute");
	dec_check(d, (s->own & IMG_SHARE_FS) || !s->umask,
		  "thread umask without a cwd of its own");
	dec_tfds(d, s);
}

void img_tshare_free(struct img_tshare *s)
{
	free(s->cwd);
	free(s->fds);
	s->cwd = NULL;
	s->fds = NULL;
}
