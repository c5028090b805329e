/*
 * semantics: what the records of an image mean together. Each record is
 * decoded into the process it belongs to (the latest PROC); when a process
 * ends (the next PROC or the trailer) its records are checked as a whole:
 * thread count, unique tids and fds, PAGES inside a VMA and disjoint.
 * A ZOMBIE stands alone: its parent is a live process before it, and
 * nothing belongs to it.
 */
#include <stdlib.h>
#include <string.h>

#include "image/reader-priv.h"

/* Makes room for element n of *arrp (an array of elem-byte items). */
int rd_grow(struct rd *r, void *arrp, uint32_t *cap, uint32_t n, size_t elem)
{
	void **arr = arrp;
	uint32_t ncap;
	void *p;

	if (n < *cap)
		return 0;
	ncap = *cap ? *cap * 2 : 8;
	p = realloc(*arr, (size_t)ncap * elem);
	if (!p) {
		rd_fail(r, "out of memory");
		return -1;
	}
	memset((char *)p + (size_t)*cap * elem, 0,
	       (size_t)(ncap - *cap) * elem);
	*arr = p;
	*cap = ncap;
	return 0;
}

/* The process the current record belongs to: never a zombie. */
static struct img_process *cur_proc(struct rd *r)
{
	struct image *img = r->img;
	struct img_process *p;

	if (!img->nr_procs) {
		rec_fail(r, "%s record before the first PROC",
			 img_rec_name(r->type));
		return NULL;
	}
	p = &img->procs[img->nr_procs - 1];
	if (p->proc.zombie) {
		rec_fail(r, "%s record after zombie %d, which has none",
			 img_rec_name(r->type), p->proc.pid);
		return NULL;
	}
	return p;
}

/* Ends the process before and makes room for the next; NULL on error. */
static struct img_process *new_proc(struct rd *r)
{
	struct image *img = r->img;
	struct img_process *p;

	if (img->nr_procs && sem_process_end(r))
		return NULL;
	if (img->nr_procs >= IMG_MAX_PROCS) {
		rec_fail(r, "more than %u processes", IMG_MAX_PROCS);
		return NULL;
	}
	if (rd_grow(r, &img->procs, &r->cap_procs, img->nr_procs,
		    sizeof(*p)))
		return NULL;
	p = &img->procs[img->nr_procs++];
	memset(p, 0, sizeof(*p));
	r->cap_threads = r->cap_vmas = r->cap_pages = r->cap_fds = 0;
	return p;
}

/* The process with pid among the first n of the image, or NULL. */
static const struct img_process *find_proc(const struct image *img,
					   uint32_t n, int32_t pid)
{
	uint32_t i;

	for (i = 0; i < n; i++)
		if (img->procs[i].proc.pid == pid)
			return &img->procs[i];
	return NULL;
}

/* The latest process, just decoded: a zombie has no children. */
static int check_not_zombie_child(struct rd *r)
{
	const struct image *img = r->img;
	const struct img_proc *p = &img->procs[img->nr_procs - 1].proc;
	const struct img_process *parent;

	parent = find_proc(img, img->nr_procs - 1, p->ppid);
	if (!parent || !parent->proc.zombie)
		return 0;
	rec_fail(r, "process %d is a child of zombie %d", p->pid, p->ppid);
	return -1;
}

static int sem_proc(struct rd *r, struct dec *d)
{
	struct img_process *p = new_proc(r);

	if (!p || img_dec_proc(d, &p->proc))
		return -1;
	return check_not_zombie_child(r);
}

/*
 * A zombie is recreated by its parent, which must come before it and be
 * alive; the root of the tree is never a zombie, and a zombie has no
 * children (the kernel hands them to a reaper when it exits).
 */
static int check_zombie_tree(struct rd *r, const struct img_proc *z)
{
	const struct image *img = r->img;
	uint32_t n = img->nr_procs - 1, i;
	const struct img_process *parent;

	if (!n) {
		rec_fail(r, "zombie %d is the first process: the root of a "
			 "tree is never a zombie", z->pid);
		return -1;
	}
	parent = find_proc(img, n, z->ppid);
	if (!parent || parent->proc.zombie) {
		rec_fail(r, "zombie %d: its parent %d is not a live process "
			 "before it", z->pid, z->ppid);
		return -1;
	}
	for (i = 0; i < n; i++) {
		if (img->procs[i].proc.ppid != z->pid)
			continue;
		rec_fail(r, "process %d is a child of zombie %d",
			 img->procs[i].proc.pid, z->pid);
		return -1;
	}
	return check_not_zombie_child(r);
}

static int sem_zombie(struct rd *r, struct dec *d)
{
	struct img_process *p = new_proc(r);

	if (!p || img_dec_zombie(d, &p->proc))
		return -1;
	return check_zombie_tree(r, &p->proc);
}

static int sem_thread(struct rd *r, struct dec *d, struct img_process *p)
{
	if (p->nr_threads >= p->proc.nr_threads) {
		rec_fail(r, "more THREAD records than the %u of the process",
			 p->proc.nr_threads);
		return -1;
	}
	if (rd_grow(r, &p->threads, &r->cap_threads, p->nr_threads,
		    sizeof(*p->threads)))
		return -1;
	p->nr_threads++;
	return img_dec_thread(d, &p->threads[p->nr_threads - 1],
			      r->img->hdr.isa);
}

static int sem_vma(struct rd *r, struct dec *d, struct img_process *p)
{
	struct img_vma *v;

	if (rd_grow(r, &p->vmas, &r->cap_vmas, p->nr_vmas, sizeof(*v)))
		return -1;
	v = &p->vmas[p->nr_vmas++];
	if (img_dec_vma(d, v, r->img->hdr.page_size))
		return -1;
	if (p->nr_vmas > 1 && v->start < v[-1].end) {
		rec_fail(r, "vma %#llx-%#llx not after the one before, "
			 "which ends at %#llx", (unsigned long long)v->start,
			 (unsigned long long)v->end,
			 (unsigned long long)v[-1].end);
		return -1;
	}
	return 0;
}

static int sem_fd(struct rd *r, struct dec *d, struct img_process *p)
{
	if (rd_grow(r, &p->fds, &r->cap_fds, p->nr_fds, sizeof(*p->fds)))
		return -1;
	p->nr_fds++;
	return img_dec_fd(d, &p->fds[p->nr_fds - 1]);
}

static int sem_sigacts(struct rd *r, struct dec *d, struct img_process *p)
{
	if (p->has_sigacts) {
		rec_fail(r, "second SIGACTS record of the process");
		return -1;
	}
	p->has_sigacts = 1;
	return img_dec_sigacts(d, p->sigacts);
}

static int sem_dispatch(struct rd *r, struct dec *d)
{
	struct img_process *p;

	if (r->type == IMG_REC_PROC)
		return sem_proc(r, d);
	if (r->type == IMG_REC_ZOMBIE)
		return sem_zombie(r, d);
	p = cur_proc(r);
	if (!p)
		return -1;
	switch (r->type) {
	case IMG_REC_THREAD:
		return sem_thread(r, d, p);
	case IMG_REC_VMA:
		return sem_vma(r, d, p);
	case IMG_REC_FD:
		return sem_fd(r, d, p);
	case IMG_REC_SIGACTS:
		return sem_sigacts(r, d, p);
	}
	rec_fail(r, "unknown record type %#x", r->type);
	return -1;
}

/* Decodes a whole-payload record into the image. */
int sem_record(struct rd *r, const uint8_t *payload, uint64_t len)
{
	struct dec d;

	dec_init(&d, payload, len);
	if (sem_dispatch(r, &d) == 0)
		return 0;
	/* a failure already reported leaves d untouched */
	if (d.failed)
		rec_fail(r, "%s", d.msg);
	return -1;
}

int sem_pages(struct rd *r, const struct img_pages *pg)
{
	struct img_process *p = cur_proc(r);

	if (!p)
		return -1;
	if (rd_grow(r, &p->pages, &r->cap_pages, p->nr_pages,
		    sizeof(*p->pages)))
		return -1;
	if (rd_grow(r, &r->ploc, &r->cap_ploc, p->nr_pages,
		    sizeof(*r->ploc)))
		return -1;
	r->ploc[p->nr_pages] = (struct rd_loc){ r->nr_idx + 1, r->off };
	p->pages[p->nr_pages++] = *pg;
	return 0;
}

/* ---- the end of a process ----------------------------------------------- */

static int cmp_i32(const void *a, const void *b)
{
	int32_t x = *(const int32_t *)a, y = *(const int32_t *)b;

	return (x > y) - (x < y);
}

/* The first value that appears twice among n, or -1 (values are >= 0). */
static int64_t dup_i32(int32_t *v, uint32_t n)
{
	uint32_t i;

	qsort(v, n, sizeof(*v), cmp_i32);
	for (i = 1; i < n; i++)
		if (v[i] == v[i - 1])
			return v[i];
	return -1;
}

static int check_unique(struct rd *r, const struct img_process *p)
{
	int32_t *v;
	int64_t dup;
	uint32_t i, n = p->nr_threads > p->nr_fds ? p->nr_threads : p->nr_fds;

	v = malloc((size_t)(n ? n : 1) * sizeof(*v));
	if (!v) {
		rd_fail(r, "out of memory");
		return -1;
	}
	for (i = 0; i < p->nr_threads; i++)
		v[i] = p->threads[i].tid;
	dup = dup_i32(v, p->nr_threads);
	if (dup >= 0)
		goto tid;
	for (i = 0; i < p->nr_fds; i++)
		v[i] = p->fds[i].fd;
	dup = dup_i32(v, p->nr_fds);
	free(v);
	if (dup >= 0) {
		rd_fail(r, "process %u (pid %d): fd %lld appears twice",
			r->img->nr_procs, p->proc.pid, (long long)dup);
		return -1;
	}
	return 0;
tid:
	free(v);
	rd_fail(r, "process %u (pid %d): thread %lld appears twice",
		r->img->nr_procs, p->proc.pid, (long long)dup);
	return -1;
}

/* The VMA holding addr, or NULL: vmas[] is sorted and disjoint. */
static const struct img_vma *find_vma(const struct img_process *p,
				      uint64_t addr)
{
	uint32_t lo = 0, hi = p->nr_vmas, mid;

	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if (addr < p->vmas[mid].start)
			hi = mid;
		else if (addr >= p->vmas[mid].end)
			lo = mid + 1;
		else
			return &p->vmas[mid];
	}
	return NULL;
}

struct span {
	uint64_t start, end;
	uint32_t i;		/* in pages[] */
};

static int cmp_span(const void *a, const void *b)
{
	uint64_t x = ((const struct span *)a)->start;
	uint64_t y = ((const struct span *)b)->start;

	return (x > y) - (x < y);
}

static int check_pages_in_vmas(struct rd *r, const struct img_process *p)
{
	uint64_t ps = r->img->hdr.page_size, end;
	const struct img_vma *v;
	uint32_t i;

	for (i = 0; i < p->nr_pages; i++) {
		end = p->pages[i].addr + p->pages[i].nr_pages * ps;
		v = find_vma(p, p->pages[i].addr);
		if (v && end <= v->end)
			continue;
		rec_fail_at(r, r->ploc[i].no, IMG_REC_PAGES, r->ploc[i].off,
			    "pages %#llx-%#llx not inside one vma",
			    (unsigned long long)p->pages[i].addr,
			    (unsigned long long)end);
		return -1;
	}
	return 0;
}

/* Sorted by address, the pages must not overlap. */
static int check_pages_disjoint(struct rd *r, const struct img_process *p)
{
	uint64_t ps = r->img->hdr.page_size;
	struct span *sp;
	uint32_t i;
	int ret = 0;

	sp = malloc((size_t)(p->nr_pages ? p->nr_pages : 1) * sizeof(*sp));
	if (!sp) {
		rd_fail(r, "out of memory");
		return -1;
	}
	for (i = 0; i < p->nr_pages; i++) {
		sp[i].start = p->pages[i].addr;
		sp[i].end = sp[i].start + p->pages[i].nr_pages * ps;
		sp[i].i = i;
	}
	qsort(sp, p->nr_pages, sizeof(*sp), cmp_span);
	for (i = 1; i < p->nr_pages && !ret; i++) {
		if (sp[i - 1].end <= sp[i].start)
			continue;
		rec_fail_at(r, r->ploc[sp[i].i].no, IMG_REC_PAGES,
			    r->ploc[sp[i].i].off, "pages at %#llx overlap "
			    "those of record %llu",
			    (unsigned long long)sp[i].start,
			    (unsigned long long)r->ploc[sp[i - 1].i].no);
		ret = -1;
	}
	free(sp);
	return ret;
}

/* Checks the latest process as a whole, now that all its records are in. */
int sem_process_end(struct rd *r)
{
	const struct img_process *p = &r->img->procs[r->img->nr_procs - 1];

	if (p->nr_threads != p->proc.nr_threads) {
		rd_fail(r, "process %u (pid %d): %u THREAD records, "
			"its PROC says %u", r->img->nr_procs, p->proc.pid,
			p->nr_threads, p->proc.nr_threads);
		return -1;
	}
	if (check_unique(r, p) || check_pages_in_vmas(r, p) ||
	    check_pages_disjoint(r, p))
		return -1;
	return 0;
}
