/*
 * Incremental images: an image that holds only the pages written since
 * its parent, and PARENT_PAGES records for the rest (image.h).
 *
 * Two ways to know what was written:
 *
 * - Write tracking kept between the dumps of one caller (ckpt run
 *   --incremental, struct dump_incr): each process of the tree gets a
 *   userfaultfd with asynchronous write protection (dump-precopy.c makes
 *   it) that ckpt keeps open after the thaw. A write only clears the
 *   page's protection bit, in the kernel: nothing waits, nothing is
 *   delivered, so the tree runs as before. At the next freeze a
 *   PAGEMAP_SCAN with PM_SCAN_WP_MATCHING reports the pages written since
 *   and protects them again in the same walk; a page still protected is
 *   the page the last image has at that address (only this userfaultfd
 *   sets that bit: memory mapped anew, moved by mremap or inherited by a
 *   fork has none, and neither has a process that exec'd). After the
 *   pages are written, every trackable VMA is registered and protected,
 *   so that new mappings are tracked from then on. A dump that fails
 *   after the scan has lost what it cleared: the next image is full.
 *
 * - A parent image named by the user (ckpt attach --parent): tracking
 *   cannot outlive the ckpt that armed it (the kernel drops the
 *   protection when the userfaultfd is closed), so the pages of the
 *   frozen tree are read and compared with the parent's; only those that
 *   differ are written. The image is small; the freeze is a full one.
 */
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/uio.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "arch/arch.h"
#include "ckpt/dump-priv.h"
#include "ckpt/dump-uffd.h"
#include "plugins/pipeline.h"
#include "util/fault.h"

#define INCR_CHUNK	DUMP_MEM_CHUNK	/* bytes read and compared at once */
#define SCAN_REGIONS	256		/* regions per PAGEMAP_SCAN */

struct incr_range {
	uint64_t start, end;
};

/* A run of pages held while frozen (dump_incr_hold): its bytes at off in
 * the arena, or the parent's (off HELD_PARENT). */
struct incr_piece {
	uint64_t addr, nr, off;
};

#define HELD_PARENT	UINT64_MAX

/* The tracking of one process, kept between dumps. */
struct incr_track {
	pid_t pid;
	int uffd;
	struct incr_range *r;
	int nr;
	/* pieces scanned in this dump: protected again by the scan */
	struct incr_range *ok;
	int nr_ok;
	int seen;		/* in the dump under way */
	/* its pages taken while frozen, in the order of the records */
	struct incr_piece *held;
	size_t nr_held, cap_held;
	int holding;		/* held, to be written after the thaw */
	struct dump_smaps_pre smaps;	/* read before the freeze */
};

struct dump_incr {
	struct incr_track *t;
	int n;
	uint64_t last_id;	/* the last committed image, 0: none */
	char *last_name;	/* how its child names it */
	int valid;		/* tracking since that image is whole */
	/* the pages held while frozen (dump_incr_hold): mapped and populated
	 * before the freeze, kept from one dump to the next */
	uint8_t *arena;
	size_t arena_cap, arena_used;
	int hold;		/* this dump may hold them */
};

struct dump_incr *dump_incr_new(void)
{
	return calloc(1, sizeof(struct dump_incr));
}

static void track_clear(struct incr_track *tr)
{
	free(tr->r);
	tr->r = NULL;
	tr->nr = 0;
	free(tr->ok);
	tr->ok = NULL;
	tr->nr_ok = 0;
}

static void track_free(struct incr_track *tr)
{
	track_clear(tr);
	dump_maps_preread_free(&tr->smaps);
	free(tr->held);
	tr->held = NULL;
	tr->nr_held = tr->cap_held = 0;
	if (tr->uffd >= 0)
		close(tr->uffd);	/* the kernel unprotects it all */
	tr->uffd = -1;
}

void dump_incr_free(struct dump_incr *st)
{
	int i;

	if (!st)
		return;
	for (i = 0; i < st->n; i++)
		track_free(&st->t[i]);
	free(st->t);
	free(st->last_name);
	if (st->arena)
		munmap(st->arena, st->arena_cap);
	free(st);
}

static struct incr_track *track_of(struct dump_incr *st, pid_t pid, int add)
{
	struct incr_track *v;
	int i;

	for (i = 0; i < st->n; i++)
		if (st->t[i].pid == pid)
			return &st->t[i];
	if (!add)
		return NULL;
	v = realloc(st->t, (st->n + 1) * sizeof(*v));
	if (!v)
		return NULL;
	st->t = v;
	v = &st->t[st->n++];
	memset(v, 0, sizeof(*v));
	v->pid = pid;
	v->uffd = -1;
	return v;
}

/* ---- the parent, before the freeze -------------------------------------- */

static int open_parent(const char *path, void *arg)
{
	const struct dump_opts *o = arg;

	return pipeline_open_read_with(path, o->params, o->nr_params);
}

/* How the child names the parent: its name alone when both are in one
 * directory, else its absolute path. */
static char *parent_name(const char *parent, const char *child)
{
	char pr[PATH_MAX], cd[PATH_MAX], tmp[PATH_MAX];
	const char *slash;

	if (!realpath(parent, pr))
		return NULL;
	snprintf(tmp, sizeof(tmp), "%s", child);
	slash = strrchr(tmp, '/');
	if (slash)
		tmp[slash - tmp] = '\0';
	if (!realpath(slash ? (tmp[0] ? tmp : "/") : ".", cd))
		return NULL;
	slash = strrchr(pr, '/');
	if ((size_t)(slash - pr) == strlen(cd) && !strncmp(pr, cd, slash - pr))
		return strdup(slash + 1);
	return strdup(pr);
}

static void hold_prepare(struct dump_incr_run *ir,
			 const struct dump_opts *o);

static int load_parent(struct dump_incr_run *ir, const struct dump_opts *o)
{
	int fd;

	if (o->nr_outputs != 1 || !strcmp(o->outputs[0], "-") ||
	    strstr(o->outputs[0], "://")) {
		pr_err("an incremental image is written to one file: its parent %s is found beside it",
		       o->parent);
		return -1;
	}
	fd = open_parent(o->parent, (void *)o);	/* it says why not */
	if (fd < 0)
		return -1;
	ir->parent = img_read_named_fd(fd, o->parent, arch_isa());
	if (ir->parent && !ir->parent->ident.id)
		pr_err("%s can't be a parent: it has no image id (taken by an older ckpt)",
		       o->parent);
	if (!ir->parent || !ir->parent->ident.id ||
	    img_read_chain(ir->parent, o->parent, open_parent, (void *)o)) {
		close(fd);
		return -1;
	}
	ir->parent_fd = fd;
	ir->ident.parent_id = ir->parent->ident.id;
	ir->ident.parent = parent_name(o->parent, o->outputs[0]);
	if (!ir->ident.parent) {
		pr_perror("can't resolve %s", o->parent);
		return -1;
	}
	return 0;
}

int dump_incr_begin(struct dump_incr_run *ir, const struct dump_opts *o)
{
	struct dump_incr *st = o->incr;
	int i;

	memset(ir, 0, sizeof(*ir));
	ir->parent_fd = -1;
	ir->ident.id = img_new_id();
	/* attach --parent with the tracking its holder kept, or --track */
	ir->st = st;
	if (o->parent) {
		if (load_parent(ir, o))
			return -1;
	} else if (st && st->valid && st->last_id && !o->incr_full) {
		ir->ident.parent_id = st->last_id;
		ir->ident.parent = strdup(st->last_name);
		if (!ir->ident.parent)
			return -1;
	}
	if (st)
		hold_prepare(ir, o);
	/* the maps' flags, as --pre-copy reads them (dump-maps.c): the walk
	 * of every page table off the frozen time if nothing changes */
	for (i = 0; st && !o->pre_copy && i < st->n; i++)
		if (st->t[i].uffd >= 0)
			dump_maps_preread(st->t[i].pid, &st->t[i].smaps);
	if (st)
		fault_point("incr-begun");
	return 0;
}

struct dump_smaps_pre *dump_incr_smaps(struct dump_ctx *c)
{
	struct incr_track *tr = c->ir && c->ir->st ?
				track_of(c->ir->st, c->pid, 0) : NULL;

	return tr ? &tr->smaps : NULL;
}

int dump_incr_write_ident(const struct dump_incr_run *ir,
			  struct img_writer *w)
{
	return img_write_ident(w, &ir->ident);
}

/* ---- the pages, frozen -------------------------------------------------- */

/* Does a range armed at the last image hold all of v, and is v's
 * mapping one that tracking can cover? */
static int tracked(const struct dump_ctx *c, const struct incr_track *tr,
		   const struct img_vma *v)
{
	int i, armed = 0;

	for (i = 0; i < tr->nr && !armed; i++)
		armed = tr->r[i].start <= v->start && v->end <= tr->r[i].end;
	for (i = 0; armed && i < c->nr_maps; i++)
		if (c->maps[i].start == v->start && c->maps[i].end == v->end)
			return dump_pre_trackable(&c->maps[i]);
	return 0;
}

/* Written regions read in one process_vm_readv: at most this many, and
 * DUMP_MEM_CHUNK bytes (io->buf) in all. 10 MiB written at random in a
 * large heap are some 1500 regions of a page or two: 1500 reads, each a
 * system call while the tree is frozen, became two dozen. */
#define READ_BATCH	256

/* Is reg, scanned in v, a run the image holds as PAGES? */
static int region_written(const struct img_vma *v,
			  const struct page_region *reg)
{
	return (reg->categories & PAGE_IS_WRITTEN) &&
	       dump_mem_wanted_cat(v, reg->categories);
}

/* The written regions among reg[0..*n) that fit in one batch read into
 * io->buf, from the first: read at once. *n becomes the number of
 * regions the batch spans (the regions not written among them
 * included); 1 when they were read, 0 when each is to be read alone (a
 * region too large for io->buf, or a range process_vm_readv can't read:
 * PROT_NONE, which /proc/PID/mem can). */
static int read_batch(struct dump_ctx *c, struct dump_mem_io *io,
		      const struct img_vma *v, const struct page_region *reg,
		      long *n)
{
	struct iovec loc[READ_BATCH], rem[READ_BATCH];
	size_t len = 0;
	uint64_t t0;
	long i;
	int k = 0;

	for (i = 0; i < *n; i++) {
		size_t size = reg[i].end - reg[i].start;

		if (!region_written(v, &reg[i]))
			continue;
		if (k == READ_BATCH || len + size > DUMP_MEM_CHUNK)
			break;
		loc[k] = (struct iovec){ io->buf + len, size };
		rem[k++] = (struct iovec){ (void *)(uintptr_t)reg[i].start,
					   size };
		len += size;
	}
	*n = i ? i : 1;	/* a written region larger than io->buf: alone */
	if (k < 2)
		return 0;
	fault_point("memory");
	t0 = dump_mem_clock();
	if (inject_readv(c->ip, loc, rem, k))
		return 0;
	io->ns_read += dump_mem_clock() - t0;
	return 1;
}

/* A written region read by read_batch, from io->buf at off, as PAGES. */
static int write_batched(struct dump_ctx *c, struct dump_mem_io *io,
			 const struct page_region *reg, size_t off)
{
	uint64_t len = reg->end - reg->start, t0 = dump_mem_clock();

	if (img_write_pages_begin(c->w, reg->start, len / c->page_size) ||
	    img_write_pages_data(c->w, io->buf + off, len) ||
	    img_write_pages_end(c->w))
		return -1;
	io->ns_write += dump_mem_clock() - t0;
	io->bytes += len;
	return 0;
}

/* The scanned regions of v: a written one as PAGES, the others as
 * PARENT_PAGES (the last image has them), those not in the image left
 * out; the written ones read a batch at a time. */
static int write_regions(struct dump_ctx *c, struct dump_mem_io *io,
			 const struct img_vma *v,
			 const struct page_region *reg, long n, void *arg)
{
	long i, span;
	size_t off;
	int batched;

	(void)arg;
	for (i = 0; i < n; ) {
		if (dump_interrupted(c))
			return -1;
		span = n - i;
		batched = read_batch(c, io, v, reg + i, &span);
		for (off = 0; span--; i++) {
			uint64_t nr = (reg[i].end - reg[i].start) /
				      c->page_size;

			if (!dump_mem_wanted_cat(v, reg[i].categories))
				continue;
			if (!(reg[i].categories & PAGE_IS_WRITTEN) ?
			    img_write_parent_pages(c->w, reg[i].start, nr) :
			    !batched ?
			    dump_mem_write_run(c, io, reg[i].start, nr, NULL) :
			    write_batched(c, io, &reg[i], off))
				return -1;
			if (batched && reg[i].categories & PAGE_IS_WRITTEN)
				off += nr * c->page_size;
		}
	}
	return 0;
}

/* What becomes of the regions a scan found: written (write_regions) or
 * held (hold_regions). */
typedef int (*regions_fn)(struct dump_ctx *c, struct dump_mem_io *io,
			  const struct img_vma *v,
			  const struct page_region *reg, long n, void *arg);

/*
 * The pages of v in one walk of the kernel, not one pagemap entry each:
 * PAGEMAP_SCAN lists v's present and swapped pages in regions, each
 * written since the last image or not, and protects the written ones
 * again as it goes (PM_SCAN_WP_MATCHING; the tree is frozen, so none is
 * written before it is copied). 1 when the kernel refuses before it
 * changed anything: v is not registered with our userfaultfd (mapped
 * anew, PM_SCAN_CHECK_WPASYNC) or the kernel has no PAGE_IS_GUARD
 * (before 6.15): then v is written whole.
 */
static int scan_vma(struct dump_ctx *c, struct incr_track *tr,
		    struct dump_mem_io *io, const struct img_vma *v,
		    regions_fn fn, void *arg)
{
	struct page_region reg[SCAN_REGIONS];
	struct pm_scan_arg a = {
		.size = sizeof(a),
		.flags = PM_SCAN_WP_MATCHING | PM_SCAN_CHECK_WPASYNC,
		.start = v->start, .end = v->end,
		.vec = (uintptr_t)reg, .vec_len = SCAN_REGIONS,
		.category_anyof_mask = PAGE_IS_PRESENT | PAGE_IS_SWAPPED,
		.return_mask = PAGE_IS_PRESENT | PAGE_IS_SWAPPED |
			       PAGE_IS_WRITTEN | PAGE_IS_GUARD,
	};
	struct incr_range *ok;
	long n;

	while (a.start < v->end) {
		n = ioctl(io->pagemap_fd, PAGEMAP_SCAN, &a);
		if (n < 0 && a.start == v->start) {
			pr_debug("%d: %llx-%llx not tracked: %s", c->pid,
				 (unsigned long long)v->start,
				 (unsigned long long)v->end, strerror(errno));
			return 1;
		}
		if (n < 0) {
			dump_perror(c, "can't scan the pagemap of %d", c->pid);
			return -1;
		}
		if (fn(c, io, v, reg, n, arg))
			return -1;
		if (a.walk_end <= a.start)
			break;
		a.start = a.walk_end;
	}
	ok = realloc(tr->ok, (tr->nr_ok + 1) * sizeof(*ok));
	if (!ok)
		return -1;
	tr->ok = ok;
	tr->ok[tr->nr_ok++] = (struct incr_range){ v->start, v->end };
	return 0;
}

/* The pages of c written since the last image as PAGES, the others as
 * PARENT_PAGES; a VMA that tracking does not cover is written whole. */
static int write_tracked(struct dump_ctx *c, struct incr_track *tr)
{
	struct dump_mem_io io;
	uint32_t i;
	int r = 0;

	if (dump_mem_io_open(c, &io))
		return -1;
	c->ir->touched = 1;	/* the scans clear what they find */
	for (i = 0; i < c->proc.nr_vmas && r >= 0; i++) {
		const struct img_vma *v = &c->proc.vmas[i];

		if (dump_interrupted(c)) {
			r = -1;
			break;
		}
		r = tracked(c, tr, v) ?
		    scan_vma(c, tr, &io, v, write_regions, NULL) : 1;
		if (r > 0)
			r = dump_mem_vma_runs(c, &io, v, dump_mem_write_run,
					      NULL);
	}
	dump_mem_io_close(&io);
	return r < 0 ? -1 : 0;
}

/* The parent's bytes of [addr, +len) into buf, and have[i] set for each
 * page it holds (the others it leaves zero). */
static int parent_bytes(const struct dump_incr_run *ir,
			const struct img_process *pp, uint64_t addr,
			uint8_t *buf, uint8_t *have, size_t len, long ps)
{
	uint32_t i;

	memset(have, 0, len / ps);
	for (i = 0; i < pp->nr_pages; i++) {
		const struct img_pages *pg = &pp->pages[i];
		uint64_t s = pg->addr, e = pg->addr + pg->nr_pages * ps;

		if (e <= addr || s >= addr + len)
			continue;
		if (s < addr)
			s = addr;
		if (e > addr + len)
			e = addr + len;
		if (pread_full(img_chain_fd(ir->parent, pg, ir->parent_fd),
			       buf + (s - addr), e - s,
			       pg->data_off + (s - pg->addr))) {
			pr_perror("can't read parent image %s", ir->ident.parent);
			return -1;
		}
		memset(have + (s - addr) / ps, 1, (e - s) / ps);
	}
	return 0;
}

struct compare {
	const struct img_process *pp;
	uint8_t *theirs;
	uint8_t have[INCR_CHUNK / 4096];
};

/* Page i of the chunk as the parent holds it? Only where it holds data:
 * a page it lacks may be a file's (a private file mapping), not zero. */
static int same_page(const struct dump_mem_io *io, const struct compare *cmp,
		     uint64_t i, long ps)
{
	return cmp->have[i] &&
	       !memcmp(io->buf + i * ps, cmp->theirs + i * ps, ps);
}

/* Write buf's pages [i, j) as PAGES, or name them PARENT_PAGES. */
static int emit(struct dump_ctx *c, uint64_t addr, const uint8_t *buf,
		uint64_t nr, int same)
{
	if (same)
		return img_write_parent_pages(c->w, addr, nr);
	return img_write_pages_begin(c->w, addr, nr) ||
	       img_write_pages_data(c->w, buf, nr * c->page_size) ||
	       img_write_pages_end(c->w) ? -1 : 0;
}

static int compared_run(struct dump_ctx *c, struct dump_mem_io *io,
			uint64_t addr, uint64_t nr, void *arg)
{
	struct compare *cmp = arg;
	uint64_t ps = c->page_size, end = addr + nr * ps;

	while (addr < end) {
		size_t len = end - addr < INCR_CHUNK ? end - addr : INCR_CHUNK;
		uint64_t n = len / ps, i = 0, j;

		if (dump_interrupted(c))
			return -1;
		if (dump_mem_read(c, io, addr, io->buf, len)) {
			dump_perror(c, "can't read memory of %d at %llx",
				    c->pid, (unsigned long long)addr);
			return -1;
		}
		if (parent_bytes(c->ir, cmp->pp, addr, cmp->theirs, cmp->have,
				 len, ps))
			return -1;
		while (i < n) {
			int same = same_page(io, cmp, i, ps);

			for (j = i + 1; j < n && same_page(io, cmp, j, ps) == same;
			     j++)
				;
			if (emit(c, addr + i * ps, io->buf + i * ps, j - i,
				 same))
				return -1;
			i = j;
		}
		addr += len;
	}
	return 0;
}

/* Register and protect every trackable VMA of the frozen c, the pages
 * just written being what the next image compares with. */
/* Was m registered and protected again by this dump's scan? */
static int still_armed(const struct incr_track *tr, const struct proc_map *m)
{
	int i;

	for (i = 0; i < tr->nr_ok; i++)
		if (tr->ok[i].start == m->start && tr->ok[i].end == m->end)
			return 1;
	return 0;
}

static int rearm(struct dump_ctx *c, struct incr_track *tr)
{
	struct incr_range *ok = tr->ok;
	int i, ret = -1, nr_ok = tr->nr_ok;

	tr->ok = NULL;	/* kept from track_clear for still_armed */
	track_clear(tr);
	tr->ok = ok;
	tr->nr_ok = nr_ok;
	if (tr->uffd < 0) {
		tr->uffd = dump_pre_open_uffd(c);
		if (tr->uffd == -2) {
			tr->uffd = -1;
			return -1;
		}
		if (tr->uffd < 0)
			return 0;	/* copied whole each time */
	}
	c->ir->touched = 1;
	for (i = 0; i < c->nr_maps; i++) {
		const struct proc_map *m = &c->maps[i];
		struct incr_range *v;

		if (!dump_pre_trackable(m))
			continue;
		if (!still_armed(tr, m) &&
		    (dump_pre_uffd_op(tr->uffd, 0, m) ||
		     dump_pre_uffd_op(tr->uffd, 1, m))) {
			pr_debug("no write tracking of %llx-%llx of %d: %s",
				 (unsigned long long)m->start,
				 (unsigned long long)m->end, c->pid,
				 strerror(errno));
			continue;
		}
		v = realloc(tr->r, (tr->nr + 1) * sizeof(*v));
		if (!v)
			goto out;
		tr->r = v;
		tr->r[tr->nr++] = (struct incr_range){ m->start, m->end };
	}
	ret = 0;
out:
	free(tr->ok);
	tr->ok = NULL;
	tr->nr_ok = 0;
	return ret;
}

/* The pages of c that differ from the parent image's as PAGES, the
 * others as PARENT_PAGES; a process the parent has not: all of them. */
static int write_compared(struct dump_ctx *c)
{
	const struct img_process *pp = img_find_proc(c->ir->parent, c->pid);
	struct compare *cmp;
	int ret;

	if (!pp)
		return dump_mem_each_run(c, dump_mem_write_run, NULL);
	cmp = calloc(1, sizeof(*cmp));
	if (cmp) {
		cmp->pp = pp;
		cmp->theirs = malloc(INCR_CHUNK);
	}
	ret = cmp && cmp->theirs ?
	      dump_mem_each_run(c, compared_run, cmp) : -1;
	if (cmp)
		free(cmp->theirs);
	free(cmp);
	return ret;
}

/* Does the tracking of tr run since this image's parent? */
static int tracking_valid(const struct dump_incr_run *ir,
			  const struct incr_track *tr)
{
	return tr && ir->ident.parent_id && ir->st->valid &&
	       ir->ident.parent_id == ir->st->last_id && tr->uffd >= 0 &&
	       tr->nr;
}

static int write_held(struct dump_ctx *c, struct incr_track *tr);

/*
 * The pages of c: by the write tracking where it runs since the parent
 * (the last image of ckpt run --incremental, or the image whose holder
 * handed it to attach --parent), else compared with the parent image,
 * else all. With tracking kept (ir->st), it is armed again after. Or,
 * after the thaw, what dump_incr_hold took while frozen.
 */
int dump_incr_memory(struct dump_ctx *c)
{
	struct dump_incr_run *ir = c->ir;
	struct incr_track *tr = NULL;
	int ret;

	if (ir->st) {
		tr = track_of(ir->st, c->pid, 1);
		if (!tr)
			return -1;
		if (tr->holding)	/* taken and armed again while frozen */
			return write_held(c, tr);
		tr->seen = 1;
	}
	if (tracking_valid(ir, tr)) {
		pr_info("%d: the pages written since the parent, by write tracking",
			c->pid);
		ret = write_tracked(c, tr);
	} else if (ir->parent)
		ret = write_compared(c);
	else
		ret = dump_mem_each_run(c, dump_mem_write_run, NULL);
	if (ret)
		return -1;
	return tr ? rearm(c, tr) : 0;
}

/* ---- the pages held while frozen, written after the thaw ---------------- */

/*
 * With the tracking kept (ckpt run --incremental, or attach --parent of
 * an image written with --track) and the tree to run on, the pages of an
 * incremental dump are read into memory while the tree is frozen and
 * written once it runs again: checksumming and writing them was most of
 * its freeze (10 MiB: 7-20 ms of some 35 here). The arena they go to is
 * mapped and populated before the freeze, as large as a scan then finds
 * written (and some more: the VMAs not tracked are read whole, and the
 * tree writes on until it is frozen); a page fault while frozen cost
 * more than the copy on this VM. It is kept, populated, for the next
 * dump. It grows while frozen if it must: then each new page faults.
 * Above HOLD_MAX written, or with a process the tracking does not cover
 * (new since the parent), the pages are written while frozen as before.
 */
#define HOLD_MAX	(256ULL << 20)
#define HOLD_SLACK	(4ULL << 20)
#define HOLD_ALIGN	(2ULL << 20)

static int add_bytes(void *arg, uint64_t s, uint64_t e)
{
	*(int64_t *)arg += e - s;
	return 0;
}

/* The bytes of tr's tracked ranges written since the last image, as a
 * scan that changes nothing sees them; -1 when it can't tell. */
static int64_t written_bytes(const struct incr_track *tr)
{
	char path[64];
	int64_t sum = 0;
	int fd, i;

	snprintf(path, sizeof(path), "/proc/%d/pagemap", tr->pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return errno == ENOENT || errno == ESRCH ? 0 : -1;	/* gone */
	for (i = 0; i < tr->nr && sum >= 0; i++)
		if (dump_pm_scan(fd, tr->r[i].start, tr->r[i].end, 0,
				 PAGE_IS_WRITTEN, 0, add_bytes, &sum))
			sum = -1;
	close(fd);
	return sum;
}

/* The arena at least len bytes long: before the freeze (populate) its
 * new part populated, and what is more than twice as long cut to len;
 * while frozen, doubled. 0 or -1. */
static int arena_size(struct dump_incr *st, size_t len, int populate)
{
	size_t cap = (len + HOLD_ALIGN - 1) & ~(HOLD_ALIGN - 1);
	void *a;

	if (populate && st->arena && cap * 2 < st->arena_cap &&
	    mremap(st->arena, st->arena_cap, cap, 0) != MAP_FAILED)
		st->arena_cap = cap;	/* the supervisor keeps no more */
	if (len <= st->arena_cap)
		return 0;
	if (!populate && cap < st->arena_cap * 2)
		cap = st->arena_cap * 2;
	a = st->arena ? mremap(st->arena, st->arena_cap, cap, MREMAP_MAYMOVE) :
		        mmap(NULL, cap, PROT_READ | PROT_WRITE,
			     MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (a == MAP_FAILED)
		return -1;
	if (populate)	/* a kernel without it: faulted when used */
		madvise((uint8_t *)a + st->arena_cap, cap - st->arena_cap,
			MADV_POPULATE_WRITE);
	st->arena = a;
	st->arena_cap = cap;
	return 0;
}

/* Before the freeze: may this dump hold its pages, and is the arena
 * ready for them? */
static void hold_prepare(struct dump_incr_run *ir, const struct dump_opts *o)
{
	struct dump_incr *st = ir->st;
	int64_t sum = 0, w;
	int i;

	st->hold = 0;
	st->arena_used = 0;
	if (o->kill || o->pre_copy || o->cow || o->hold || !st->n)
		return;
	for (i = 0; i < st->n; i++) {
		if (!tracking_valid(ir, &st->t[i]))
			return;
		w = written_bytes(&st->t[i]);
		if (w < 0)
			return;
		sum += w;
	}
	sum += sum / 4 + HOLD_SLACK;
	if ((uint64_t)sum > HOLD_MAX || arena_size(st, sum, 1)) {
		pr_debug("the pages written since the parent are written while frozen (%lld MiB)",
			 (long long)(sum >> 20));
		return;
	}
	st->hold = 1;
}

int dump_incr_late(struct dump_tree *t)
{
	struct dump_incr_run *ir = &t->ir;
	int i;

	if (!ir->st || !ir->st->hold)
		return 0;
	for (i = 0; i < t->n; i++) {
		const struct dump_ctx *c = &t->procs[i];

		if (!c->proc.proc.zombie &&
		    !tracking_valid(ir, track_of(ir->st, c->pid, 0)))
			return 0;
	}
	return 1;
}

/* Reads queued for one process_vm_readv into the arena: offsets, since
 * the arena may move as it grows. */
struct hold_batch {
	struct incr_track *tr;	/* whose pieces they are */
	uint64_t addr[READ_BATCH], off[READ_BATCH], len[READ_BATCH];
	int k;
};

static int hold_flush(struct dump_ctx *c, struct dump_mem_io *io,
		      struct hold_batch *b)
{
	struct iovec loc[READ_BATCH], rem[READ_BATCH];
	uint8_t *arena = c->ir->st->arena;
	uint64_t t0 = dump_mem_clock();
	int i;

	for (i = 0; i < b->k; i++) {
		loc[i] = (struct iovec){ arena + b->off[i], b->len[i] };
		rem[i] = (struct iovec){ (void *)(uintptr_t)b->addr[i],
					 b->len[i] };
	}
	fault_point("memory");
	/* one by one, through /proc/PID/mem if need be (PROT_NONE) */
	if (b->k && inject_readv(c->ip, loc, rem, b->k))
		for (i = 0; i < b->k; i++)
			if (dump_mem_read(c, io, b->addr[i], loc[i].iov_base,
					  b->len[i])) {
				dump_perror(c, "can't read memory of %d at %llx",
					    c->pid,
					    (unsigned long long)b->addr[i]);
				return -1;
			}
	io->ns_read += dump_mem_clock() - t0;
	b->k = 0;
	return 0;
}

/* One piece more for b->tr: nr pages at addr, the parent's or read into
 * the arena (queued on b). */
static int hold_piece(struct dump_ctx *c, struct dump_mem_io *io,
		      struct hold_batch *b, uint64_t addr, uint64_t nr,
		      int parent)
{
	struct dump_incr *st = c->ir->st;
	struct incr_track *tr = b->tr;
	uint64_t len = nr * c->page_size;
	struct incr_piece *v;

	if (tr->nr_held == tr->cap_held) {
		size_t cap = tr->cap_held ? tr->cap_held * 2 : 256;

		v = realloc(tr->held, cap * sizeof(*v));
		if (!v)
			return -1;
		tr->held = v;
		tr->cap_held = cap;
	}
	if (parent) {
		tr->held[tr->nr_held++] = (struct incr_piece){ addr, nr,
							       HELD_PARENT };
		return 0;
	}
	if (st->arena_used + len > st->arena_cap &&
	    (hold_flush(c, io, b) ||
	     arena_size(st, st->arena_used + len, 0))) {
		dump_perror(c, "can't hold the memory of %d", c->pid);
		return -1;
	}
	if (b->k == READ_BATCH && hold_flush(c, io, b))
		return -1;
	b->addr[b->k] = addr;
	b->off[b->k] = st->arena_used;
	b->len[b->k++] = len;
	tr->held[tr->nr_held++] = (struct incr_piece){ addr, nr,
						       st->arena_used };
	st->arena_used += len;
	io->bytes += len;
	return 0;
}

static int hold_regions(struct dump_ctx *c, struct dump_mem_io *io,
			const struct img_vma *v,
			const struct page_region *reg, long n, void *arg)
{
	struct hold_batch *b = arg;
	long i;

	for (i = 0; i < n; i++) {
		if (!dump_mem_wanted_cat(v, reg[i].categories))
			continue;
		if (hold_piece(c, io, b, reg[i].start,
			       (reg[i].end - reg[i].start) / c->page_size,
			       !(reg[i].categories & PAGE_IS_WRITTEN)))
			return -1;
	}
	return 0;
}

static int hold_run(struct dump_ctx *c, struct dump_mem_io *io,
		    uint64_t addr, uint64_t nr, void *arg)
{
	return hold_piece(c, io, arg, addr, nr, 0);
}

int dump_incr_hold(struct dump_ctx *c)
{
	struct incr_track *tr = track_of(c->ir->st, c->pid, 0);
	struct dump_mem_io io;
	struct hold_batch *b;
	uint32_t i;
	int r = 0;

	tr->seen = 1;
	tr->nr_held = 0;
	b = calloc(1, sizeof(*b));
	if (!b || dump_mem_io_open(c, &io)) {
		free(b);
		return -1;
	}
	b->tr = tr;
	pr_info("%d: the pages written since the parent, by write tracking",
		c->pid);
	c->ir->touched = 1;	/* the scans clear what they find */
	for (i = 0; i < c->proc.nr_vmas && r >= 0; i++) {
		const struct img_vma *v = &c->proc.vmas[i];

		r = dump_interrupted(c) ? -1 :
		    tracked(c, tr, v) ?
		    scan_vma(c, tr, &io, v, hold_regions, b) : 1;
		if (r > 0)
			r = dump_mem_vma_runs(c, &io, v, hold_run, b);
	}
	if (r >= 0)
		r = hold_flush(c, &io, b);
	pr_debug("%d: %llu MiB held while frozen, written after the thaw",
		 c->pid, (unsigned long long)(io.bytes >> 20));
	dump_mem_io_close(&io);
	free(b);
	/* new mappings tracked from now on: before the tree runs again */
	if (r < 0 || rearm(c, tr))
		return -1;
	tr->holding = 1;
	return 0;
}

/* After the thaw: the pieces dump_incr_hold took, in its order. */
static int write_held(struct dump_ctx *c, struct incr_track *tr)
{
	uint8_t *arena = c->ir->st->arena;
	size_t i;

	tr->holding = 0;
	for (i = 0; i < tr->nr_held; i++) {
		const struct incr_piece *p = &tr->held[i];

		if (dump_interrupted(c))
			return -1;
		if (p->off == HELD_PARENT ?
		    img_write_parent_pages(c->w, p->addr, p->nr) :
		    img_write_pages_begin(c->w, p->addr, p->nr) ||
		    img_write_pages_data(c->w, arena + p->off,
					 p->nr * c->page_size) ||
		    img_write_pages_end(c->w))
			return -1;
	}
	tr->nr_held = 0;
	return 0;
}

/* ---- the end of a dump -------------------------------------------------- */

void dump_incr_end(struct dump_incr_run *ir, const char *name, int ok)
{
	struct dump_incr *st = ir->st;
	int i, k;

	for (i = 0; st && i < st->n; i++) {	/* written, or of no use */
		st->t[i].holding = 0;
		st->t[i].nr_held = 0;
		dump_maps_preread_free(&st->t[i].smaps);
	}
	if (st) {
		st->hold = 0;
		st->arena_used = 0;
	}
	if (st && ok) {
		free(st->last_name);
		st->last_name = strdup(name);
		st->last_id = st->last_name ? ir->ident.id : 0;
		st->valid = 1;
		/* processes gone since: their tracking too */
		for (i = k = 0; i < st->n; i++) {
			if (!st->t[i].seen) {
				track_free(&st->t[i]);
				continue;
			}
			st->t[i].seen = 0;
			st->t[k++] = st->t[i];
		}
		st->n = k;
	} else if (st) {
		for (i = 0; i < st->n; i++)
			st->t[i].seen = 0;
		if (ir->touched)
			st->valid = 0;
	}
	if (ir->parent_fd >= 0)
		close(ir->parent_fd);
	img_free(ir->parent);
	free(ir->ident.parent);
	memset(ir, 0, sizeof(*ir));
	ir->parent_fd = -1;
}

/* ---- the tracking handed over (attach --track, dump-hold.c) ------------- */

#define DUMP_INCR_MAGIC	"ckpthold"

/* What the holder hands over, in this machine's byte order (one host). */
struct dump_incr_wire {
	char magic[8];
	uint32_t n;		/* processes, each with a userfaultfd */
	uint32_t pad;
	uint64_t last_id;	/* the image the tracking runs since */
};

struct dump_incr_wire_proc {
	int32_t pid;
	uint32_t nr;		/* struct incr_range after it */
};

/*
 * st as bytes and descriptors: a dump_incr_wire, then per process with a
 * userfaultfd a dump_incr_wire_proc and its ranges; fds[i] the i-th
 * process's userfaultfd (no more than max). NULL when there is nothing
 * to hand over.
 */
void *dump_incr_pack(const struct dump_incr *st, size_t *len, int *fds,
		     int *nfds, int max)
{
	struct dump_incr_wire *h;
	size_t size = sizeof(*h), off;
	int i, n = 0;
	char *buf;

	for (i = 0; i < st->n && n < max; i++)
		if (st->t[i].uffd >= 0) {
			size += sizeof(struct dump_incr_wire_proc) +
				st->t[i].nr * sizeof(struct incr_range);
			n++;
		}
	if (!n || !st->valid || !(buf = calloc(1, size)))
		return NULL;
	h = (struct dump_incr_wire *)buf;
	memcpy(h->magic, DUMP_INCR_MAGIC, sizeof(h->magic));
	h->last_id = st->last_id;
	off = sizeof(*h);
	for (i = 0; i < st->n && (int)h->n < n; i++) {
		const struct incr_track *tr = &st->t[i];
		struct dump_incr_wire_proc wp = { tr->pid, tr->nr };

		if (tr->uffd < 0)
			continue;
		memcpy(buf + off, &wp, sizeof(wp));
		off += sizeof(wp);
		memcpy(buf + off, tr->r, tr->nr * sizeof(*tr->r));
		off += tr->nr * sizeof(*tr->r);
		fds[h->n++] = tr->uffd;
	}
	*nfds = n;
	*len = size;
	return buf;
}

/* The inverse: st valid since the image last_id, owning fds[0..nfds)
 * (closed here on error); NULL when the bytes do not add up. */
struct dump_incr *dump_incr_unpack(const void *buf, size_t len,
				   const int *fds, int nfds)
{
	const struct dump_incr_wire *h = buf;
	struct dump_incr *st = NULL;
	size_t off = sizeof(*h);
	uint32_t i;

	if (len < sizeof(*h) || memcmp(h->magic, DUMP_INCR_MAGIC,
				       sizeof(h->magic)) ||
	    h->n != (uint32_t)nfds || !(st = dump_incr_new()))
		goto bad;
	st->last_id = h->last_id;
	st->valid = 1;
	for (i = 0; i < h->n; i++) {
		struct dump_incr_wire_proc wp;
		struct incr_track *tr;

		if (len - off < sizeof(wp))
			goto bad;
		memcpy(&wp, (const char *)buf + off, sizeof(wp));
		off += sizeof(wp);
		if (wp.nr > (len - off) / sizeof(struct incr_range) ||
		    track_of(st, wp.pid, 0) || !(tr = track_of(st, wp.pid, 1)))
			goto bad;
		tr->uffd = fds[i];
		tr->r = malloc(wp.nr * sizeof(*tr->r) + 1);
		if (!tr->r)
			goto bad;
		memcpy(tr->r, (const char *)buf + off,
		       wp.nr * sizeof(*tr->r));
		tr->nr = wp.nr;
		off += wp.nr * sizeof(*tr->r);
	}
	if (off == len)
		return st;
bad:
	for (i = st ? st->n : 0; i < (uint32_t)nfds; i++)
		close(fds[i]);	/* those st does not own yet */
	dump_incr_free(st);
	return NULL;
}

/* The processes of st with a userfaultfd (no more than max), into pids
 * when not NULL; how many. */
int dump_incr_pids(const struct dump_incr *st, pid_t *pids, int max)
{
	int i, n = 0;

	for (i = 0; i < st->n && n < max; i++)
		if (st->t[i].uffd >= 0) {
			if (pids)
				pids[n] = st->t[i].pid;
			n++;
		}
	return n;
}

int dump_incr_uffd(const struct dump_incr *st, pid_t pid)
{
	int i;

	for (i = 0; i < st->n; i++)
		if (st->t[i].pid == pid)
			return st->t[i].uffd;
	return -1;
}

/* pid has exited: its tracking is closed, and not handed over. */
void dump_incr_drop(struct dump_incr *st, pid_t pid)
{
	struct incr_track *tr = track_of(st, pid, 0);

	if (tr)
		track_free(tr);
}
