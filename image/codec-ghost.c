/*
 * codec-ghost: the GHOST record, a file no path reaches any more (see
 * image.h), and the lookups by which fds, VMAs and a cwd name one. What
 * ghosts say together with the rest is checked in semantics.c.
 */
#include <sys/stat.h>
#include <stdlib.h>
#include <string.h>

#include "image/image.h"
#include "image/image-priv.h"

#define DELETED		" (deleted)"

/*
 * u32 id mode uid gid; u64 size atime_ns mtime_ns dev ino; str path
 */
int img_enc_ghost(struct enc *e, const struct img_ghost *g)
{
	enc_u32(e, g->id);
	enc_u32(e, g->mode);
	enc_u32(e, g->uid);
	enc_u32(e, g->gid);
	enc_u64(e, g->size);
	enc_u64(e, g->atime_ns);
	enc_u64(e, g->mtime_ns);
	enc_u64(e, g->dev);
	enc_u64(e, g->ino);
	enc_str(e, g->path, 0, "ghost path missing or too long");
	return e->err ? -1 : 0;
}

/* An absolute path with a last component to make again: not "/", and no
 * "." or ".." at its end. */
static int ghost_path_ok(const char *p)
{
	const char *base = strrchr(p, '/');

	return p[0] == '/' && base && base[1] && strcmp(base, "/.") &&
	       strcmp(base, "/..");
}

int img_dec_ghost(struct dec *d, struct img_ghost *g)
{
	dec_u32(d, &g->id);
	dec_u32(d, &g->mode);
	dec_u32(d, &g->uid);
	dec_u32(d, &g->gid);
	dec_u64(d, &g->size);
	dec_u64(d, &g->atime_ns);
	dec_u64(d, &g->mtime_ns);
	dec_u64(d, &g->dev);
	dec_u64(d, &g->ino);
	dec_str(d, &g->path, 0, "ghost path");
	dec_check(d, S_ISREG(g->mode) || S_ISDIR(g->mode) || S_ISFIFO(g->mode),
		  "ghost %u: mode %#o is no regular file, directory or FIFO",
		  g->id, g->mode);
	dec_check(d, !(g->mode & ~(S_IFMT | 07777u)),
		  "ghost %u: bad mode %#o", g->id, g->mode);
	dec_check(d, S_ISREG(g->mode) || !g->size,
		  "ghost %u: a directory or FIFO with %llu bytes", g->id,
		  (unsigned long long)g->size);
	dec_check(d, g->size <= IMG_MAX_ADDR, "ghost %u: size %#llx too large",
		  g->id, (unsigned long long)g->size);
	dec_check(d, !g->path || ghost_path_ok(g->path),
		  "ghost %u: bad path", g->id);
	return dec_end(d);
}

void img_ghost_free(struct img_ghost *g)
{
	free(g->path);
	g->path = NULL;
}

const struct img_ghost *img_find_ghost(const struct image *img, uint64_t dev,
				       uint64_t ino)
{
	uint32_t i;

	for (i = 0; i < img->nr_ghosts; i++)
		if (img->ghosts[i].g.dev == dev && img->ghosts[i].g.ino == ino)
			return &img->ghosts[i].g;
	return NULL;
}

const struct img_ghost *img_ghost_named(const struct image *img,
					const char *link, int dir)
{
	size_t n = strlen(link), k = strlen(DELETED);
	const struct img_ghost *g;
	uint32_t i;

	if (n <= k || strcmp(link + n - k, DELETED))
		return NULL;
	for (i = 0; i < img->nr_ghosts; i++) {
		g = &img->ghosts[i].g;
		if ((dir ? S_ISDIR(g->mode) : S_ISREG(g->mode)) &&
		    strlen(g->path) == n - k &&
		    !strncmp(g->path, link, n - k))
			return g;
	}
	return NULL;
}
