/*
 * semantics-mnt: MOUNT records after the NS and CGROUP records and before
 * any FILE, SHM, GHOST or PROC, numbered 1, 2, ... in order, only in an
 * image whose root has a mount namespace (an NS record of kind mnt); a
 * ROOT mount only first. MNTFILE records follow their TMPFS mount, before
 * the next MOUNT; the data of a file (MORE) follows that file. NSMOUNT
 * records come after the MOUNTs, numbered on from them, each of a mount
 * namespace below the root's (an MNT NS record with a parent), those of
 * one namespace together.
 */
#include <sys/stat.h>
#include <stdlib.h>
#include <string.h>

#include "image/reader-priv.h"

static int has_mntns(const struct image *img)
{
	uint32_t i;

	for (i = 0; i < img->nr_nss; i++)
		if (img->nss[i].kind == IMG_NS_MNT && !img->nss[i].parent)
			return 1;
	return 0;
}

int sem_mount(struct rd *r, struct dec *d)
{
	struct image *img = r->img;
	struct img_mount *m;

	if (img->nr_files || img->nr_shms || img->nr_ghosts ||
	    img->nr_procs || img->nr_nsmounts || !has_mntns(img)) {
		rec_fail(r, "MOUNT record after a FILE, SHM, GHOST, PROC or NSMOUNT, or in no mount namespace");
		return -1;
	}
	if (img->nr_mounts >= IMG_MAX_MOUNTS) {
		rec_fail(r, "more than %u mounts", IMG_MAX_MOUNTS);
		return -1;
	}
	if (rd_grow(r, &img->mounts, &r->cap_mounts, img->nr_mounts,
		    sizeof(*m)))
		return -1;
	m = &img->mounts[img->nr_mounts++];
	memset(m, 0, sizeof(*m));
	if (img_dec_mount(d, m))
		return -1;
	if (m->id != img->nr_mounts ||
	    (m->kind == IMG_MNT_ROOT && m->id != 1)) {
		rec_fail(r, "mount %u has id %u or is a root not first",
			 img->nr_mounts, m->id);
		return -1;
	}
	return 0;
}

/* Is id a mount namespace below the root's (an MNT NS record with a
 * parent)? */
static int nested_mntns(const struct image *img, uint64_t id)
{
	uint32_t i;

	for (i = 0; i < img->nr_nss; i++)
		if (img->nss[i].kind == IMG_NS_MNT && img->nss[i].parent &&
		    img->nss[i].id == id)
			return 1;
	return 0;
}

int sem_nsmount(struct rd *r, struct dec *d)
{
	struct image *img = r->img;
	uint32_t n = img->nr_mounts + img->nr_nsmounts, i;
	struct img_mount *m;

	if (img->nr_files || img->nr_shms || img->nr_ghosts ||
	    img->nr_procs) {
		rec_fail(r, "NSMOUNT record after a FILE, SHM, GHOST or PROC");
		return -1;
	}
	if (n >= IMG_MAX_MOUNTS) {
		rec_fail(r, "more than %u mounts", IMG_MAX_MOUNTS);
		return -1;
	}
	if (rd_grow(r, &img->nsmounts, &r->cap_nsmounts, img->nr_nsmounts,
		    sizeof(*m)))
		return -1;
	m = &img->nsmounts[img->nr_nsmounts++];
	memset(m, 0, sizeof(*m));
	if (img_dec_nsmount(d, m))
		return -1;
	if (m->id != n + 1 || !nested_mntns(img, m->ns)) {
		rec_fail(r, "mount %u has id %u or is of %llu, no mount namespace below the root's",
			 n + 1, m->id, (unsigned long long)m->ns);
		return -1;
	}
	/* a namespace's records together */
	for (i = 0; i + 1 < img->nr_nsmounts; i++)
		if (img->nsmounts[i].ns == m->ns &&
		    img->nsmounts[img->nr_nsmounts - 2].ns != m->ns) {
			rec_fail(r, "mount %u of namespace %llu not with the others",
				 m->id, (unsigned long long)m->ns);
			return -1;
		}
	return 0;
}

/* The last MOUNT or NSMOUNT record, or NULL */
static const struct img_mount *last_mount(const struct image *img)
{
	if (img->nr_nsmounts)
		return &img->nsmounts[img->nr_nsmounts - 1];
	return img->nr_mounts ? &img->mounts[img->nr_mounts - 1] : NULL;
}

int sem_mntfile(struct rd *r, struct dec *d)
{
	struct image *img = r->img;
	const struct img_mount *last = last_mount(img);
	const struct img_mntfile *prev;
	struct img_mntfile *f;
	int first;

	if (!last || img->nr_files || img->nr_procs ||
	    last->kind != IMG_MNT_TMPFS) {
		rec_fail(r, "MNTFILE record after no tmpfs MOUNT");
		return -1;
	}
	if (img->nr_mntfiles >= IMG_MAX_MNTFILES) {
		rec_fail(r, "more than %u files of mounts", IMG_MAX_MNTFILES);
		return -1;
	}
	if (rd_grow(r, &img->mntfiles, &r->cap_mntfiles, img->nr_mntfiles,
		    sizeof(*f)))
		return -1;
	f = &img->mntfiles[img->nr_mntfiles++];
	memset(f, 0, sizeof(*f));
	if (img_dec_mntfile(d, f))
		return -1;
	prev = img->nr_mntfiles > 1 ? f - 1 : NULL;
	if (f->mount != last->id) {
		rec_fail(r, "file %s of mount %u after mount %u", f->path,
			 f->mount, last->id);
		return -1;
	}
	if ((f->flags & IMG_MNTF_MORE) &&
	    (!prev || prev->mount != f->mount || strcmp(prev->path, f->path) ||
	     !S_ISREG(f->mode) || prev->mode != f->mode)) {
		rec_fail(r, "more data of %s, which is not the file before",
			 f->path);
		return -1;
	}
	first = !prev || prev->mount != f->mount;
	if (first != (!*f->path && S_ISDIR(f->mode))) {
		rec_fail(r, "mount %u: %s first", f->mount,
			 first ? "a file but its root" : "its root not");
		return -1;
	}
	return 0;
}
