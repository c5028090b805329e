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

#define INCR_CHUNK	(4UL << 20)	/* bytes read and compared at once */

struct incr_range {
	uint64_t start, end;
	uint8_t *dirty;		/* per page, during one dump */
};

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
};

struct dump_incr {
	struct incr_track *t;
	int n;
	uint64_t last_id;	/* the last committed image, 0: none */
	char *last_name;	/* how its child names it */
	int valid;		/* tracking since that image is whole */
};

struct dump_incr *dump_incr_new(void)
{
	return calloc(1, sizeof(struct dump_incr));
}

static void track_clear(struct incr_track *tr)
{
	int i;

	for (i = 0; i < tr->nr; i++)
		free(tr->r[i].dirty);
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

	memset(ir, 0, sizeof(*ir));
	ir->parent_fd = -1;
	ir->ident.id = img_new_id();
	if (o->parent)
		return load_parent(ir, o);
	if (!st)
		return 0;
	ir->st = st;
	if (st->valid && st->last_id && !o->incr_full) {
		ir->ident.parent_id = st->last_id;
		ir->ident.parent = strdup(st->last_name);
		if (!ir->ident.parent)
			return -1;
	}
	return 0;
}

int dump_incr_write_ident(const struct dump_incr_run *ir,
			  struct img_writer *w)
{
	return img_write_ident(w, &ir->ident);
}

/* ---- the pages, frozen -------------------------------------------------- */

static int mark_dirty(void *arg, uint64_t s, uint64_t e)
{
	struct incr_range *r = arg;
	long ps = sysconf(_SC_PAGESIZE);

	if (s < r->start)
		s = r->start;
	if (e > r->end)
		e = r->end;
	if (s < e)
		memset(r->dirty + (s - r->start) / ps, 1, (e - s) / ps);
	return 0;
}

/* The pages of [s, e) of range r written since the last image, protected
 * again; all of it when the kernel will not say (a VMA mapped anew there
 * is not registered: PM_SCAN_CHECK_WPASYNC refuses it). */
static int scan_piece(struct dump_ctx *c, int pm, struct incr_track *tr,
		      struct incr_range *r, uint64_t s, uint64_t e)
{
	struct incr_range *v;

	if (!dump_pm_scan(pm, s, e,
			  PM_SCAN_WP_MATCHING | PM_SCAN_CHECK_WPASYNC,
			  PAGE_IS_WRITTEN, 0, mark_dirty, r)) {
		v = realloc(tr->ok, (tr->nr_ok + 1) * sizeof(*v));
		if (!v)
			return -1;
		tr->ok = v;
		tr->ok[tr->nr_ok++] = (struct incr_range){ s, e, NULL };
		return 0;
	}
	pr_debug("%d: %llx-%llx not tracked: %s", c->pid,
		 (unsigned long long)s, (unsigned long long)e,
		 strerror(errno));
	return mark_dirty(r, s, e);
}

/* The pages of tr written since the last image, VMA by VMA as they are
 * now; each piece of a mapping that is not trackable now is dirty. */
static int scan_written(struct dump_ctx *c, struct incr_track *tr)
{
	char path[64];
	int pm, i, k;

	snprintf(path, sizeof(path), "/proc/%d/pagemap", c->pid);
	pm = open(path, O_RDONLY | O_CLOEXEC);
	if (pm < 0) {
		dump_perror(c, "can't read the pagemap of %d", c->pid);
		return -1;
	}
	c->ir->touched = 1;
	for (i = 0; i < tr->nr; i++) {
		struct incr_range *r = &tr->r[i];

		r->dirty = calloc((r->end - r->start) / c->page_size, 1);
		if (!r->dirty)
			goto err;
		for (k = 0; k < c->nr_maps; k++) {
			const struct proc_map *m = &c->maps[k];
			uint64_t s = m->start > r->start ? m->start : r->start;
			uint64_t e = m->end < r->end ? m->end : r->end;

			if (s >= e)
				continue;
			if (!dump_pre_trackable(m))
				mark_dirty(r, s, e);
			else if (scan_piece(c, pm, tr, r, s, e))
				goto err;
		}
	}
	close(pm);
	return 0;
err:
	close(pm);
	return -1;
}

/* Is the page at addr as the last image has it? */
static int unwritten(const struct incr_track *tr, uint64_t addr, long ps)
{
	int i;

	for (i = 0; i < tr->nr; i++)
		if (addr >= tr->r[i].start && addr < tr->r[i].end)
			return !tr->r[i].dirty[(addr - tr->r[i].start) / ps];
	return 0;
}

static int tracked_run(struct dump_ctx *c, struct dump_mem_io *io,
		       uint64_t addr, uint64_t nr, void *arg)
{
	const struct incr_track *tr = arg;
	uint64_t ps = c->page_size, i = 0, j;

	while (i < nr) {
		int same = unwritten(tr, addr + i * ps, ps);

		for (j = i + 1; j < nr &&
		     unwritten(tr, addr + j * ps, ps) == same; j++)
			;
		if (same ? img_write_parent_pages(c->w, addr + i * ps, j - i) :
			   dump_mem_write_run(c, io, addr + i * ps, j - i,
					      NULL))
			return -1;
		i = j;
	}
	return 0;
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
		tr->r[tr->nr++] = (struct incr_range){ m->start, m->end, NULL };
	}
	ret = 0;
out:
	free(tr->ok);
	tr->ok = NULL;
	tr->nr_ok = 0;
	return ret;
}

int dump_incr_memory(struct dump_ctx *c)
{
	struct dump_incr_run *ir = c->ir;
	struct incr_track *tr = NULL;
	struct compare *cmp;
	int ret;

	/* a process the parent has not: all of its pages here */
	if (ir->parent && !img_find_proc(ir->parent, c->pid))
		return dump_mem_each_run(c, dump_mem_write_run, NULL);
	if (ir->parent) {
		cmp = calloc(1, sizeof(*cmp));
		if (cmp) {
			cmp->pp = img_find_proc(ir->parent, c->pid);
			cmp->theirs = malloc(INCR_CHUNK);
		}
		ret = cmp && cmp->theirs ?
		      dump_mem_each_run(c, compared_run, cmp) : -1;
		if (cmp)
			free(cmp->theirs);
		free(cmp);
		return ret;
	}
	tr = track_of(ir->st, c->pid, 1);
	if (!tr)
		return -1;
	tr->seen = 1;
	if (ir->ident.parent_id && tr->uffd >= 0 && tr->nr) {
		if (scan_written(c, tr))
			return -1;
		ret = dump_mem_each_run(c, tracked_run, tr);
	} else {
		ret = dump_mem_each_run(c, dump_mem_write_run, NULL);
	}
	return ret ? -1 : rearm(c, tr);
}

/* ---- the end of a dump -------------------------------------------------- */

void dump_incr_end(struct dump_incr_run *ir, const char *name, int ok)
{
	struct dump_incr *st = ir->st;
	int i, k;

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
