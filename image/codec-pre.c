/*
 * codec-pre: the records of a pre-copy (ckpt migrate). While the process
 * runs, each round of the copy sends a PRECOPY record (pid, round) and
 * the PAGES it read of that process, right after the header: the image
 * is a stream that the receiver stores as it comes. At the freeze, the
 * pages still as a round sent them are named by PRE_PAGES records of the
 * process (addr, nr, round), checked as PAGES are (in one VMA, disjoint);
 * once the whole image is read, each PRE_PAGES run becomes the pieces of
 * that round's PAGES that hold it, so that restore sees plain PAGES. A
 * PRE_PAGES run that its round does not hold refuses the image.
 */
#include <stdlib.h>
#include <string.h>

#include "image/image.h"
#include "image/image-priv.h"
#include "image/reader-priv.h"

/* i32 pid, u32 round */
int img_enc_precopy(struct enc *e, int32_t pid, uint32_t round)
{
	if (pid <= 0)
		e->err = "bad pid";
	enc_u32(e, (uint32_t)pid);
	enc_u32(e, round);
	return e->err ? -1 : 0;
}

/* u32 n, then n times what a PRE_PAGES record holds */
int img_enc_pre_runs(struct enc *e, const struct img_pre_run *runs,
		     uint32_t n)
{
	uint32_t i;

	if (!n || n > IMG_PRE_RUNS_MAX)
		e->err = "bad number of runs";
	enc_u32(e, n);
	for (i = 0; i < n && !e->err; i++) {
		enc_u64(e, runs[i].addr);
		enc_u64(e, runs[i].nr_pages);
		enc_u32(e, runs[i].round);
	}
	return e->err ? -1 : 0;
}

/* u64 addr, u64 nr_pages, u32 round */
int img_enc_pre_pages(struct enc *e, uint64_t addr, uint64_t nr,
		      uint32_t round)
{
	enc_u64(e, addr);
	enc_u64(e, nr);
	enc_u32(e, round);
	return e->err ? -1 : 0;
}

void img_pres_free(struct image *img)
{
	uint32_t i;

	for (i = 0; i < img->nr_pres; i++)
		free(img->pres[i].pages);
	free(img->pres);
	img->pres = NULL;
	img->nr_pres = 0;
}

static struct img_pre *find_pre(const struct image *img, int32_t pid,
				uint32_t round)
{
	uint32_t i;

	for (i = 0; i < img->nr_pres; i++)
		if (img->pres[i].pid == pid && img->pres[i].round == round)
			return &img->pres[i];
	return NULL;
}

/* PRECOPY: before every record but IDENT and other PRECOPYs' PAGES. */
int sem_precopy(struct rd *r, struct dec *d)
{
	struct image *img = r->img;
	struct img_pre *q;
	int32_t pid;
	uint32_t round;

	dec_i32(d, &pid);
	dec_u32(d, &round);
	dec_check(d, pid > 0, "bad pid");
	if (dec_end(d))
		return -1;
	if (r->past_pre) {
		rec_fail(r, "PRECOPY record after other records");
		return -1;
	}
	if (find_pre(img, pid, round)) {
		rec_fail(r, "second PRECOPY record of %d in round %u", pid,
			 round);
		return -1;
	}
	if (rd_grow(r, &img->pres, &r->cap_pres, img->nr_pres, sizeof(*q)))
		return -1;
	q = &img->pres[img->nr_pres++];
	q->pid = pid;
	q->round = round;
	r->cap_pre_pages = 0;
	r->pre_open = 1;
	return 0;
}

int sem_precopy_pages(struct rd *r, const struct img_pages *pg)
{
	struct img_pre *q = &r->img->pres[r->img->nr_pres - 1];
	uint64_t ps = r->img->hdr.page_size;

	if (!sem_run_ok(r, pg, 1))
		return -1;
	if (q->nr_pages && pg->addr < q->pages[q->nr_pages - 1].addr +
	    q->pages[q->nr_pages - 1].nr_pages * ps) {
		rec_fail(r, "pages at %#llx not after those before",
			 (unsigned long long)pg->addr);
		return -1;
	}
	if (rd_grow(r, &q->pages, &r->cap_pre_pages, q->nr_pages,
		    sizeof(*q->pages)))
		return -1;
	q->pages[q->nr_pages++] = *pg;
	return 0;
}

/* One run of a PRE_PAGES or PRE_RUNS record: checked as PAGES are once
 * the process ends, resolved once the image ends. */
static int pre_run(struct rd *r, struct dec *d)
{
	struct img_pages pg = { .src = IMG_SRC_PRE };

	dec_u64(d, &pg.addr);
	dec_u64(d, &pg.nr_pages);
	dec_u32(d, &pg.pre_round);
	if (d->failed)
		return -1;
	if (!sem_run_ok(r, &pg, 0))
		return -1;
	return sem_pages(r, &pg);
}

static int pre_in_proc(struct rd *r)
{
	if (r->img->nr_procs)
		return 0;
	rec_fail(r, "%s record before the first PROC", img_rec_name(r->type));
	return -1;
}

/* PRE_PAGES: a run of the current process. */
int sem_pre_pages(struct rd *r, struct dec *d)
{
	if (pre_in_proc(r) || pre_run(r, d))
		return -1;
	return dec_end(d);
}

/* PRE_RUNS: n of them. */
int sem_pre_runs(struct rd *r, struct dec *d)
{
	uint32_t n, i;

	dec_u32(d, &n);
	dec_check(d, n > 0, "no runs");
	if (!dec_count_ok(d, n, IMG_PRE_RUNS_MAX, 20, "runs") || pre_in_proc(r))
		return -1;
	for (i = 0; i < n; i++)
		if (pre_run(r, d))
			return -1;
	return dec_end(d);
}

/* The pieces of a process's pages: counted only while v is NULL. */
struct pieces {
	struct img_pages *v;
	uint32_t n;
};

static int pieces_add(struct rd *r, struct pieces *o,
		      const struct img_pages *pg)
{
	if (o->n == UINT32_MAX) {
		rd_fail(r, "too many pieces of pages");
		return -1;
	}
	if (o->v)
		o->v[o->n] = *pg;
	o->n++;
	return 0;
}

/* The first run of q that ends above addr (q's runs ascend). */
static uint32_t first_after(const struct img_pre *q, uint64_t addr,
			    uint64_t ps)
{
	uint32_t lo = 0, hi = q->nr_pages, mid;

	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if (q->pages[mid].addr + q->pages[mid].nr_pages * ps <= addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* The pieces of q's PAGES that make up the run ref of process pid. */
static int resolve_run(struct rd *r, struct pieces *o, int32_t pid,
		       const struct img_pages *ref)
{
	uint64_t ps = r->img->hdr.page_size, a = ref->addr;
	uint64_t b = a + ref->nr_pages * ps, e;
	const struct img_pre *q = find_pre(r->img, pid, ref->pre_round);
	struct img_pages piece;
	uint32_t i;

	for (i = q ? first_after(q, a, ps) : 0; a < b; i++) {
		const struct img_pages *s = q ? &q->pages[i] : NULL;

		if (!q || i >= q->nr_pages || s->addr > a) {
			rd_fail(r, "pages at %#llx of %d: not in pre-copy round %u",
				(unsigned long long)a, pid, ref->pre_round);
			return -1;
		}
		e = s->addr + s->nr_pages * ps;
		piece = *s;
		piece.addr = a;
		piece.nr_pages = ((e < b ? e : b) - a) / ps;
		piece.data_off = s->data_off + (a - s->addr);
		if (pieces_add(r, o, &piece))
			return -1;
		a += piece.nr_pages * ps;
	}
	return 0;
}

static int resolve_all(struct rd *r, struct img_process *p,
		       struct pieces *o)
{
	uint32_t i;

	for (i = 0; i < p->nr_pages; i++)
		if (p->pages[i].src == IMG_SRC_PRE ?
		    resolve_run(r, o, p->proc.pid, &p->pages[i]) :
		    pieces_add(r, o, &p->pages[i]))
			return -1;
	return 0;
}

/*
 * Counted first, then made: where every run is one piece, in place (a
 * run's piece is written over it, once the run is read), else in an
 * array of the size needed. A migration's tens of thousands of runs cost
 * more in fresh memory touched than in the walk.
 */
static int resolve_proc(struct rd *r, struct img_process *p)
{
	struct pieces o = { 0 };

	if (resolve_all(r, p, &o))
		return -1;
	if (o.n != p->nr_pages) {
		o.v = malloc((size_t)o.n * sizeof(*o.v));
		if (!o.v) {
			rd_fail(r, "out of memory");
			return -1;
		}
	} else {
		o.v = p->pages;
	}
	o.n = 0;
	if (resolve_all(r, p, &o)) {
		if (o.v != p->pages)
			free(o.v);
		return -1;
	}
	if (o.v != p->pages)
		free(p->pages);
	p->pages = o.v;
	p->nr_pages = o.n;
	return 0;
}

int sem_pre_resolve(struct rd *r)
{
	struct image *img = r->img;
	uint32_t i, k;

	for (i = 0; i < img->nr_procs; i++) {
		struct img_process *p = &img->procs[i];

		for (k = 0; k < p->nr_pages; k++)
			if (p->pages[k].src == IMG_SRC_PRE)
				break;
		if (k < p->nr_pages && !p->proc.zombie &&
		    resolve_proc(r, p))
			return -1;
	}
	return 0;
}
