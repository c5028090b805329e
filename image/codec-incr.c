/*
 * codec-incr: the records of incremental images, IDENT (the image's id
 * and its parent's) and PARENT_PAGES (a run of pages as the parent has
 * them), and what the reader checks of them. image/chain.c reads the
 * parents. See image.h.
 */
#include <sys/random.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "image/image.h"
#include "image/image-priv.h"
#include "image/reader-priv.h"

/* u64 id, u64 parent_id, str parent (empty without a parent) */
int img_enc_ident(struct enc *e, const struct img_ident *id)
{
	if (!id->id)
		e->err = "image id 0";
	if (id->parent_id && (!id->parent || !id->parent[0]))
		e->err = "parent image without a path";
	enc_u64(e, id->id);
	enc_u64(e, id->parent_id);
	enc_str(e, id->parent_id ? id->parent : "", 1, "parent path");
	return e->err ? -1 : 0;
}

static int dec_ident(struct dec *d, struct img_ident *id)
{
	dec_u64(d, &id->id);
	dec_u64(d, &id->parent_id);
	dec_str(d, &id->parent, 1, "parent path");
	dec_check(d, id->id != 0, "image id 0");
	dec_check(d, !id->parent_id || (id->parent && id->parent[0]),
		  "parent image without a path");
	dec_check(d, id->parent_id || !id->parent || !id->parent[0],
		  "parent path without a parent id");
	dec_check(d, id->parent_id != id->id, "image is its own parent");
	return dec_end(d);
}

/* u64 addr, u64 nr_pages */
int img_enc_parent_pages(struct enc *e, uint64_t addr, uint64_t nr)
{
	enc_u64(e, addr);
	enc_u64(e, nr);
	return e->err ? -1 : 0;
}

/* IDENT: once, right after the header. */
int sem_ident(struct rd *r, struct dec *d)
{
	struct image *img = r->img;

	if (img->ident.id || r->nr_idx) {
		rec_fail(r, "IDENT record not the first");
		return -1;
	}
	if (dec_ident(d, &img->ident)) {
		free(img->ident.parent);
		img->ident.parent = NULL;
		img->ident.id = 0;
		return -1;
	}
	return 0;
}

int sem_run_ok(struct rd *r, const struct img_pages *pg, int empty_ok)
{
	uint64_t ps = r->img->hdr.page_size;

	if (pg->addr % ps || pg->addr >= IMG_MAX_ADDR ||
	    (!pg->nr_pages && !empty_ok) ||
	    pg->nr_pages > (IMG_MAX_ADDR - pg->addr) / ps) {
		rec_fail(r, "bad range %#llx + %llu pages",
			 (unsigned long long)pg->addr,
			 (unsigned long long)pg->nr_pages);
		return 0;
	}
	return 1;
}

/* PARENT_PAGES: a run of the current process, checked as PAGES are (in
 * one VMA, disjoint from the others) once the process ends. */
int sem_parent_pages(struct rd *r, struct dec *d)
{
	struct img_pages pg = { .src = IMG_SRC_PARENT };

	dec_u64(d, &pg.addr);
	dec_u64(d, &pg.nr_pages);
	if (dec_end(d))
		return -1;
	if (!r->img->nr_procs) {
		rec_fail(r, "PARENT_PAGES record before the first PROC");
		return -1;
	}
	if (!r->img->ident.parent_id) {
		rec_fail(r, "PARENT_PAGES in an image without a parent");
		return -1;
	}
	if (!sem_run_ok(r, &pg, 0))
		return -1;
	if (sem_pages(r, &pg))
		return -1;
	r->img->nr_parent_pages++;
	return 0;
}

uint64_t img_new_id(void)
{
	uint64_t id = 0;

	/* getrandom() of 8 bytes is never short once the pool is ready */
	if (getrandom(&id, sizeof(id), 0) != sizeof(id))
		id = ((uint64_t)getpid() << 40) ^ (uint64_t)time(NULL);
	return id ? id : 1;
}
