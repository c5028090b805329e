/*
 * codec-nsjoin: the NSJOIN record, a namespace the tree shared with
 * processes outside it, which restore joins (see image.h): u32 kind
 * owner; u64 id; str path (absent: none). After the NS records, before
 * any FILE, SHM, GHOST or PROC; one per kind and owner, a network one
 * the root's, and no NS record of the same kind and owner.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "image/reader-priv.h"

int img_enc_nsjoin(struct enc *e, const struct img_nsjoin *j)
{
	enc_u32(e, j->kind);
	enc_u32(e, j->owner);
	enc_u64(e, j->id);
	enc_str(e, j->path, 1, "namespace path too long");
	return e->err ? -1 : 0;
}

static int dec_nsjoin(struct dec *d, struct img_nsjoin *j)
{
	dec_u32(d, &j->kind);
	dec_u32(d, &j->owner);
	dec_u64(d, &j->id);
	dec_str(d, &j->path, 1, "namespace path");
	dec_check(d, j->kind == IMG_NS_UTS || j->kind == IMG_NS_IPC ||
		  j->kind == IMG_NS_NET, "namespace kind %u not joinable",
		  j->kind);
	dec_check(d, j->owner > 0 && j->owner <= INT32_MAX,
		  "bad owner %u", j->owner);
	dec_check(d, !j->path || j->path[0] == '/',
		  "namespace path not absolute");
	return dec_end(d);
}

const struct img_nsjoin *img_find_nsjoin(const struct image *img,
					 uint32_t kind, pid_t owner)
{
	uint32_t i;

	for (i = 0; i < img->nr_nsjoins; i++)
		if (img->nsjoins[i].kind == kind &&
		    img->nsjoins[i].owner == (uint32_t)owner)
			return &img->nsjoins[i];
	return NULL;
}

int sem_nsjoin(struct rd *r, struct dec *d)
{
	struct image *img = r->img;
	struct img_nsjoin *j;

	if (img->nr_files || img->nr_shms || img->nr_ghosts || img->nr_procs) {
		rec_fail(r, "NSJOIN record after a FILE, SHM, GHOST or PROC");
		return -1;
	}
	if (img->nr_nsjoins >= IMG_MAX_NSS) {
		rec_fail(r, "more than %u namespaces to join", IMG_MAX_NSS);
		return -1;
	}
	if (rd_grow(r, &img->nsjoins, &r->cap_nsjoins, img->nr_nsjoins,
		    sizeof(*j)))
		return -1;
	j = &img->nsjoins[img->nr_nsjoins++];
	memset(j, 0, sizeof(*j));
	if (dec_nsjoin(d, j))
		return -1;
	if (img_find_nsjoin(img, j->kind, j->owner) != j ||
	    img_find_ns(img, j->kind, j->owner)) {
		rec_fail(r, "%s namespace of %u recorded twice",
			 img_ns_name(j->kind), j->owner);
		return -1;
	}
	return 0;
}
