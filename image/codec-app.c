/*
 * codec-app: the APP record (an application plugin's own bytes) and the
 * FILEID record (a regular file the tree had open or mapped, as it was),
 * the SNAPFILE record (a file of the snapshot beside the image),
 * and what the reader checks of them in an image (semantics of order and
 * bounds). See image.h.
 */
#include <sys/stat.h>
#include <stdlib.h>
#include <string.h>

#include "image/image.h"
#include "image/image-priv.h"
#include "image/reader-priv.h"

/* u32 name length + name; u32 len; len bytes */
int img_enc_app(struct enc *e, const struct img_app *a)
{
	if (!a->name || !img_app_name_ok(a->name))
		e->err = "application plugin name missing or too long";
	enc_str(e, a->name, 0, "application plugin name missing");
	enc_cap(e, a->len, IMG_MAX_APP_DATA, "application record too large");
	enc_u32(e, a->len);
	if (a->len)
		enc_bytes(e, a->data, a->len);
	return e->err ? -1 : 0;
}

int img_app_name_ok(const char *s)
{
	size_t n = strlen(s);

	if (!n || n > IMG_MAX_APP_NAME)
		return 0;
	for (; *s; s++)
		if (*s <= ' ' || *s > '~')
			return 0;
	return 1;
}

int img_dec_app(struct dec *d, struct img_app *a)
{
	dec_str(d, &a->name, 0, "application plugin name");
	dec_u32(d, &a->len);
	dec_blob(d, &a->data, a->len, IMG_MAX_APP_DATA, "application data");
	dec_check(d, !a->name || img_app_name_ok(a->name),
		  "bad application plugin name");
	return dec_end(d);
}

void img_app_free(struct img_app *a)
{
	free(a->name);
	free(a->data);
	a->name = NULL;
	a->data = NULL;
}

/* u32 flags mode; u64 dev ino size mtime_ns; IMG_HASH_LEN bytes; str path */
int img_enc_fileid(struct enc *e, const struct img_fileid *f)
{
	enc_u32(e, f->flags);
	enc_u32(e, f->mode);
	enc_u64(e, f->dev);
	enc_u64(e, f->ino);
	enc_u64(e, f->size);
	enc_u64(e, f->mtime_ns);
	enc_bytes(e, f->hash, IMG_HASH_LEN);
	enc_str(e, f->path, 0, "file path missing or too long");
	return e->err ? -1 : 0;
}

int img_dec_fileid(struct dec *d, struct img_fileid *f)
{
	uint8_t *hash = NULL;

	dec_u32(d, &f->flags);
	dec_u32(d, &f->mode);
	dec_u64(d, &f->dev);
	dec_u64(d, &f->ino);
	dec_u64(d, &f->size);
	dec_u64(d, &f->mtime_ns);
	dec_blob(d, &hash, IMG_HASH_LEN, IMG_HASH_LEN, "file hash");
	if (hash)
		memcpy(f->hash, hash, IMG_HASH_LEN);
	free(hash);
	dec_str(d, &f->path, 0, "file path");
	dec_check(d, !(f->flags & ~IMG_FILEID_ALL), "file flags %#x",
		  f->flags);
	dec_check(d, S_ISREG(f->mode) && !(f->mode & ~(S_IFMT | 07777u)),
		  "file mode %#o is no regular file's", f->mode);
	dec_check(d, !f->path || f->path[0] == '/', "file path not absolute");
	return dec_end(d);
}

/* absolute, no empty, "." or ".." component: restore writes there */
static int snap_path_ok(const char *p)
{
	const char *c = p, *end;
	size_t n;

	if (!p || p[0] != '/')
		return 0;
	do {
		c++;
		end = strchrnul(c, '/');
		n = end - c;
		if (!n || (n == 1 && c[0] == '.') ||
		    (n == 2 && c[0] == '.' && c[1] == '.'))
			return 0;
		c = end;
	} while (*c);
	return 1;
}

int img_snap_xattr_next(const struct img_snapfile *f, uint32_t *off,
			const char **name, const uint8_t **val,
			uint32_t *len)
{
	const uint8_t *p;
	uint32_t left, n, v;

	if (!f->xattrs || *off >= f->xattrs_len)
		return 0;
	p = f->xattrs + *off;
	left = f->xattrs_len - *off;
	n = strnlen((const char *)p, left);
	if (!n || n > 255 || n + 5 > left)
		return 0;
	v = get_le32(p + n + 1);
	if (v > left - n - 5)
		return 0;
	*name = (const char *)p;
	*val = p + n + 5;
	*len = v;
	*off += n + 5 + v;
	return 1;
}

/* the whole list parses */
static int snap_xattrs_ok(const struct img_snapfile *f)
{
	const uint8_t *val;
	const char *name;
	uint32_t off = 0, len;

	while (img_snap_xattr_next(f, &off, &name, &val, &len))
		;
	return off == f->xattrs_len;
}

static int snap_mode_ok(uint32_t m)
{
	return (S_ISREG(m) || S_ISDIR(m) || S_ISLNK(m) || S_ISFIFO(m) ||
		S_ISCHR(m) || S_ISBLK(m)) && !(m & ~(S_IFMT | 07777u));
}

/* u32 flags mode uid gid data; u64 dev ino size atime_ns mtime_ns;
 * IMG_HASH_LEN bytes; str path; a symbolic link: str target; a device:
 * u64 rdev; IMG_SNAP_XATTRS: u32 len, len bytes */
int img_enc_snapfile(struct enc *e, const struct img_snapfile *f)
{
	enc_u32(e, f->flags);
	enc_u32(e, f->mode);
	enc_u32(e, f->uid);
	enc_u32(e, f->gid);
	enc_u32(e, f->data);
	enc_u64(e, f->dev);
	enc_u64(e, f->ino);
	enc_u64(e, f->size);
	enc_u64(e, f->atime_ns);
	enc_u64(e, f->mtime_ns);
	enc_bytes(e, f->hash, IMG_HASH_LEN);
	enc_str(e, f->path, 0, "snapshot path missing or too long");
	if (S_ISLNK(f->mode))
		enc_str(e, f->target, 0, "symbolic link text missing or too long");
	if (S_ISCHR(f->mode) || S_ISBLK(f->mode))
		enc_u64(e, f->rdev);
	if (f->flags & IMG_SNAP_XATTRS) {
		enc_cap(e, f->xattrs_len, IMG_MAX_SNAP_XATTRS,
			"extended attributes too large");
		enc_u32(e, f->xattrs_len);
		enc_bytes(e, f->xattrs, f->xattrs_len);
	}
	return e->err ? -1 : 0;
}

int img_dec_snapfile(struct dec *d, struct img_snapfile *f)
{
	uint8_t *hash = NULL;

	dec_u32(d, &f->flags);
	dec_u32(d, &f->mode);
	dec_u32(d, &f->uid);
	dec_u32(d, &f->gid);
	dec_u32(d, &f->data);
	dec_u64(d, &f->dev);
	dec_u64(d, &f->ino);
	dec_u64(d, &f->size);
	dec_u64(d, &f->atime_ns);
	dec_u64(d, &f->mtime_ns);
	dec_blob(d, &hash, IMG_HASH_LEN, IMG_HASH_LEN, "snapshot hash");
	if (hash)
		memcpy(f->hash, hash, IMG_HASH_LEN);
	free(hash);
	dec_str(d, &f->path, 0, "snapshot path");
	if (S_ISLNK(f->mode))
		dec_str(d, &f->target, 0, "symbolic link text");
	if (S_ISCHR(f->mode) || S_ISBLK(f->mode))
		dec_u64(d, &f->rdev);
	if (f->flags & IMG_SNAP_XATTRS) {
		dec_u32(d, &f->xattrs_len);
		dec_blob(d, &f->xattrs, f->xattrs_len, IMG_MAX_SNAP_XATTRS,
			 "extended attributes");
	}
	dec_check(d, !(f->flags & ~IMG_SNAP_FLAGS), "snapshot flags %#x",
		  f->flags);
	dec_check(d, snap_mode_ok(f->mode),
		  "snapshot mode %#o is no file's, directory's, link's, FIFO's or device's",
		  f->mode);
	dec_check(d, !f->path || snap_path_ok(f->path),
		  "snapshot path not absolute or with . or ..");
	dec_check(d, !(f->flags & IMG_SNAP_XATTRS) || snap_xattrs_ok(f),
		  "snapshot extended attributes do not parse");
	return dec_end(d);
}

void img_snapfile_free(struct img_snapfile *f)
{
	free(f->path);
	free(f->target);
	free(f->xattrs);
	f->path = f->target = NULL;
	f->xattrs = NULL;
}

void img_fileid_free(struct img_fileid *f)
{
	free(f->path);
	f->path = NULL;
}

/* Both come after the FILE records and before SHM, GHOST and PROC. */
static int sem_app_place(struct rd *r, const char *what)
{
	struct image *img = r->img;

	if (img->nr_procs || img->nr_shms || img->nr_ghosts) {
		rec_fail(r, "%s record after the first PROC, SHM or GHOST",
			 what);
		return -1;
	}
	return 0;
}

int sem_app(struct rd *r, struct dec *d)
{
	struct image *img = r->img;
	struct img_app *a;

	if (sem_app_place(r, "APP"))
		return -1;
	if (img->nr_apps >= IMG_MAX_APPS) {
		rec_fail(r, "more than %u application records", IMG_MAX_APPS);
		return -1;
	}
	if (rd_grow(r, &img->apps, &r->cap_apps, img->nr_apps, sizeof(*a)))
		return -1;
	a = &img->apps[img->nr_apps++];
	memset(a, 0, sizeof(*a));
	return img_dec_app(d, a);
}

int sem_fileid(struct rd *r, struct dec *d)
{
	struct image *img = r->img;
	struct img_fileid *f;

	if (sem_app_place(r, "FILEID"))
		return -1;
	if (img->nr_fileids >= IMG_MAX_FILEIDS) {
		rec_fail(r, "more than %u file identities", IMG_MAX_FILEIDS);
		return -1;
	}
	if (rd_grow(r, &img->fileids, &r->cap_fileids, img->nr_fileids,
		    sizeof(*f)))
		return -1;
	f = &img->fileids[img->nr_fileids++];
	memset(f, 0, sizeof(*f));
	return img_dec_fileid(d, f);
}

int sem_snapfile(struct rd *r, struct dec *d)
{
	struct image *img = r->img;
	struct img_snapfile *f;

	/* anywhere after the FILE records: at the end, as ckpt writes them
	 * once the copies are hashed, or before the first PROC */
	if (img->nr_snapfiles >= IMG_MAX_FILEIDS) {
		rec_fail(r, "more than %u snapshot files", IMG_MAX_FILEIDS);
		return -1;
	}
	if (rd_grow(r, &img->snapfiles, &r->cap_snapfiles, img->nr_snapfiles,
		    sizeof(*f)))
		return -1;
	f = &img->snapfiles[img->nr_snapfiles++];
	memset(f, 0, sizeof(*f));
	r->snap_end = 0;
	if (img_dec_snapfile(d, f))
		return -1;
	if ((f->flags & IMG_SNAP_INLINE) && !S_ISREG(f->mode)) {
		rec_fail(r, "snapshot bytes of %s, which is no regular file",
			 f->path);
		return -1;
	}
	return 0;
}

/* u32 data; u64 off; the bytes: of the SNAPFILE before, in order. */
int sem_snapdata(struct rd *r, struct dec *d)
{
	struct image *img = r->img;
	const struct img_snapfile *f;
	struct img_snapchunk *c;
	uint32_t data = 0;
	uint64_t off = 0, len;

	dec_u32(d, &data);
	dec_u64(d, &off);
	if (d->failed)
		return -1;
	len = d->len - d->pos;
	f = img->nr_snapfiles ? &img->snapfiles[img->nr_snapfiles - 1] : NULL;
	if (!f || !(f->flags & IMG_SNAP_INLINE) || f->data != data) {
		rec_fail(r, "SNAPDATA of file %u not after its SNAPFILE", data);
		return -1;
	}
	if (!len || len > IMG_MAX_CHUNK || off < r->snap_end ||
	    off > f->size || len > f->size - off) {
		rec_fail(r, "SNAPDATA of %s at %llu+%llu out of order or beyond its %llu bytes",
			 f->path, (unsigned long long)off,
			 (unsigned long long)len,
			 (unsigned long long)f->size);
		return -1;
	}
	if (rd_grow(r, &img->snapchunks, &r->cap_snapchunks,
		    img->nr_snapchunks, sizeof(*c)))
		return -1;
	c = &img->snapchunks[img->nr_snapchunks++];
	c->file = img->nr_snapfiles - 1;
	c->off = off;
	c->len = len;
	c->img_off = r->off + IMG_REC_HDR_SIZE + d->pos;
	r->snap_end = off + len;
	return 0;
}

/* u32 seconds; str path */
int img_enc_notify(struct enc *e, const char *path, uint32_t seconds)
{
	if (!path || path[0] != '/' || strlen(path) >= IMG_NOTIFY_PATH_MAX)
		e->err = "notify path not absolute or too long";
	enc_u32(e, seconds);
	enc_str(e, path, 0, "notify path missing");
	return e->err ? -1 : 0;
}

int sem_notify(struct rd *r, struct dec *d)
{
	struct image *img = r->img;

	if (sem_app_place(r, "NOTIFY"))
		return -1;
	if (img->notify_path) {
		rec_fail(r, "a second NOTIFY record");
		return -1;
	}
	dec_u32(d, &img->notify_seconds);
	dec_str(d, &img->notify_path, 0, "notify path");
	dec_check(d, !img->notify_path || (img->notify_path[0] == '/' &&
		  strlen(img->notify_path) < IMG_NOTIFY_PATH_MAX),
		  "notify path not absolute or too long");
	dec_check(d, img->notify_seconds <= 3600, "notify wait %u s",
		  img->notify_seconds);
	return dec_end(d);
}

void img_apps_free(struct image *img)
{
	uint32_t i;

	for (i = 0; i < img->nr_apps; i++)
		img_app_free(&img->apps[i]);
	free(img->apps);
	for (i = 0; i < img->nr_fileids; i++)
		img_fileid_free(&img->fileids[i]);
	free(img->fileids);
	for (i = 0; i < img->nr_snapfiles; i++)
		img_snapfile_free(&img->snapfiles[i]);
	free(img->snapfiles);
	free(img->snapchunks);
	free(img->notify_path);
}
