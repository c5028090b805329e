/*
 * ckpt translate: an image of a ckpt cc program taken at a landmark
 * (attach --landmark) made into a translated image for the other ISA
 * (arch/xisa-image.h), which the program's runtime (cc/rt.c) resumes.
 *
 * The source thread's call chain is walked with the frame records and
 * the source build's metadata: the innermost frame is at a landmark, each
 * caller at a landmarked call. The chain is then laid out again from
 * main's CFA down (main keeps its CFA, so argv and the environment above
 * it keep their addresses), with the target's frame sizes and frame
 * pointer offsets; every slot is copied to its new place, each frame
 * record holds the target's return address, and a word of a slot or a
 * global that pointed into a source slot points into its copy.
 * Functions and globals have the same addresses in both builds, so
 * nothing else moves. The program's heap and mmaps (cc/rt-heap.c, in
 * [XISA_HEAP_BASE, + XISA_HEAP_SIZE)) are carried at their addresses,
 * their words pointing into the stack moved like those of the globals.
 * The program's thread-local variables are read at their places from
 * the source thread pointer and put, by variable, at theirs from the
 * target's (the runtime adds its thread pointer); libc's thread-local
 * state (errno...) starts afresh with the target's libc. Nothing is
 * live in registers at a landmark (the
 * landmark pass made sure), so pc, sp and fp are the registers.
 */
#include <sys/mman.h>
#include <sys/stat.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "arch/xisa-image.h"
#include "arch/xisa.h"
#include "image/image.h"
#include "util/durable.h"

#define MAX_FRAMES	100000

struct frame {
	const struct xisa_fn *fn;
	const struct xisa_lm *lm;	/* where it stands */
	uint64_t cfa[XISA_NR], fp[XISA_NR], sp[XISA_NR];
};

struct tr {
	const struct image *img;
	const struct img_process *p;
	int fd;			/* the image, for its page data */
	struct xisa_meta m;
	int from, to;
	uint64_t vstart, vend;	/* the source stack's VMA */
	uint8_t *src;		/* its contents */
	uint64_t lo;		/* the target stack: [lo, vend) */
	uint8_t *dst;
	struct frame *fr;
	unsigned n;
	uint64_t ds, de;	/* the data to carry: [ds, de) */
	uint8_t *data;
	uint8_t *have;		/* per page of [ds, de): in the image */
	unsigned nr_regions;	/* written out */
	uint64_t heap_bytes;	/* carried, of the image's pages */
	uint8_t **tls;		/* per m.tls: the variable's bytes */
};

/* Copy [addr, addr + len) from the image's pages; 0 where it has none.
 * have[] (or NULL) gets 1 for each page of the range the image holds. */
static int load(struct tr *t, uint64_t addr, uint64_t len, uint8_t *buf,
		uint8_t *have)
{
	uint64_t ps = t->img->hdr.page_size, end = addr + len, a, b;
	uint32_t i;

	memset(buf, 0, len);
	for (i = 0; i < t->p->nr_pages; i++) {
		const struct img_pages *pg = &t->p->pages[i];
		uint64_t pe = pg->addr + pg->nr_pages * ps;

		a = pg->addr > addr ? pg->addr : addr;
		b = pe < end ? pe : end;
		if (a >= b)
			continue;
		if (pread_full(img_chain_fd(t->img, pg, t->fd),
			       buf + (a - addr), b - a,
			       pg->data_off + (a - pg->addr))) {
			pr_perror("can't read the image's pages");
			return -1;
		}
		for (; have && a < b; a += ps)
			have[(a - addr) / ps] = 1;
	}
	return 0;
}

static int src_word(const struct tr *t, uint64_t addr, uint64_t *v)
{
	if (addr < t->vstart || addr + 8 > t->vend || addr % 8) {
		pr_err("the call chain leaves the stack at %#llx",
		       (unsigned long long)addr);
		return -1;
	}
	memcpy(v, t->src + (addr - t->vstart), 8);
	return 0;
}

static int find_stack(struct tr *t, uint64_t sp)
{
	uint32_t i;

	for (i = 0; i < t->p->nr_vmas; i++) {
		const struct img_vma *v = &t->p->vmas[i];

		if (sp >= v->start && sp < v->end) {
			t->vstart = v->start;
			t->vend = v->end;
			t->src = malloc(v->end - v->start);
			return t->src ? load(t, v->start, v->end - v->start,
					     t->src, NULL) : -1;
		}
	}
	pr_err("no memory at the stack pointer %#llx",
	       (unsigned long long)sp);
	return -1;
}

static int add_frame(struct tr *t, const struct xisa_lm *lm, uint64_t sp,
		     uint64_t fp)
{
	struct frame *f;

	if (t->n == MAX_FRAMES) {
		pr_err("more than %d frames", MAX_FRAMES);
		return -1;
	}
	f = realloc(t->fr, (t->n + 1) * sizeof(*f));
	if (!f)
		return -1;
	t->fr = f;
	f = &t->fr[t->n++];
	memset(f, 0, sizeof(*f));
	f->lm = lm;
	f->fn = &t->m.fns[lm->fn];
	f->sp[t->from] = sp;
	f->fp[t->from] = fp;
	f->cfa[t->from] = fp - f->fn->fpoff[t->from];
	return 0;
}

/* The source call chain, innermost first, down to main. */
static int walk(struct tr *t, const struct img_thread *th)
{
	const struct xisa_isa *fi = xisa_isa(t->from);
	uint64_t pc = th->regs[fi->reg_pc], ret, fp;
	const struct xisa_lm *lm = xisa_lm_at(&t->m, t->from, pc);

	if (!lm) {
		pr_err("thread %d is not at a landmark (pc %#llx): dump it "
		       "with ckpt attach --landmark", th->tid,
		       (unsigned long long)pc);
		return -1;
	}
	if (find_stack(t, th->regs[fi->reg_sp]) ||
	    add_frame(t, lm, th->regs[fi->reg_sp], th->regs[fi->reg_fp]))
		return -1;
	while (t->fr[t->n - 1].fn != &t->m.fns[t->m.main_fn]) {
		struct frame *f = &t->fr[t->n - 1];

		if (src_word(t, f->fp[t->from] + 8, &ret) ||
		    src_word(t, f->fp[t->from], &fp))
			return -1;
		lm = xisa_lm_ret(&t->m, t->from, ret);
		if (!lm) {
			pr_err("frame %u of thread %d (%s) returns to %#llx, "
			       "not to a landmarked call of the program",
			       t->n, th->tid, f->fn->name,
			       (unsigned long long)ret);
			return -1;
		}
		if (add_frame(t, lm, f->cfa[t->from], fp))
			return -1;
	}
	return 0;
}

/* The target frames, outermost (main, keeping its CFA) first. */
static int layout(struct tr *t)
{
	uint64_t cfa = t->fr[t->n - 1].cfa[t->from];
	unsigned i = t->n;

	if (cfa % 16) {
		pr_err("main's frame is not aligned");
		return -1;
	}
	while (i--) {
		struct frame *f = &t->fr[i];

		f->cfa[t->to] = cfa;
		f->sp[t->to] = cfa - f->fn->stack[t->to];
		f->fp[t->to] = cfa + f->fn->fpoff[t->to];
		cfa = f->sp[t->to];
	}
	t->lo = (t->fr[0].sp[t->to] - 65536) & ~4095ull;
	if (t->lo > t->vstart)
		t->lo = t->vstart;
	t->dst = calloc(1, t->vend - t->lo);
	return t->dst ? 0 : -1;
}

static uint64_t frame_reg(const struct frame *f, int isa, uint16_t dwarf)
{
	return dwarf == xisa_isa(isa)->dwarf_fp ? f->fp[isa] : f->sp[isa];
}

static uint64_t slot_addr(const struct tr *t, const struct frame *f,
			  const struct xisa_slot *s, int isa)
{
	(void)t;
	return frame_reg(f, isa, s->reg[isa]) + (int64_t)s->off[isa];
}

/* v if it points into no source slot, else the same place in its copy */
static uint64_t moved(const struct tr *t, uint64_t v)
{
	unsigned i, k;

	if (v < t->vstart || v >= t->vend)
		return v;
	for (i = 0; i < t->n; i++) {
		const struct frame *f = &t->fr[i];

		for (k = 0; k < f->fn->nr_slots; k++) {
			const struct xisa_slot *s = &f->fn->slots[k];
			uint64_t a = slot_addr(t, f, s, t->from);

			if (v >= a && v < a + s->size)
				return slot_addr(t, f, s, t->to) + (v - a);
		}
	}
	return v;
}

static void fix_words(const struct tr *t, uint8_t *buf, uint64_t addr,
		      uint64_t len)
{
	uint64_t a, v;

	for (a = (addr + 7) & ~7ull; a + 8 <= addr + len; a += 8) {
		memcpy(&v, buf + (a - addr), 8);
		v = moved(t, v);
		memcpy(buf + (a - addr), &v, 8);
	}
}

static int in_dst(const struct tr *t, uint64_t a, uint64_t len)
{
	if (a >= t->lo && a + len <= t->vend && a + len >= a)
		return 1;
	pr_err("a frame lies outside the stack at %#llx",
	       (unsigned long long)a);
	return 0;
}

/* aarch64 frames: the frame addresses its entry block spilled */
static int put_bases(struct tr *t, const struct frame *f)
{
	uint32_t k;

	for (k = 0; t->to == XISA_AARCH64 && k < f->fn->nr_bases; k++) {
		const struct xisa_base *b = &f->fn->bases[k];
		uint64_t at = frame_reg(f, t->to, b->slot_reg) + b->slot_off;
		uint64_t v = frame_reg(f, t->to, b->val_reg) + b->val_off;

		if (!in_dst(t, at, 8))
			return -1;
		memcpy(t->dst + (at - t->lo), &v, 8);
	}
	return 0;
}

static int build_frames(struct tr *t)
{
	uint64_t top = t->fr[t->n - 1].cfa[t->from], rec[2];
	unsigned i, k;

	/* above main: argv, the environment, the auxiliary vector */
	memcpy(t->dst + (top - t->lo), t->src + (top - t->vstart),
	       t->vend - top);
	for (i = 0; i < t->n; i++) {
		const struct frame *f = &t->fr[i];
		int outer = i + 1 == t->n;

		rec[0] = outer ? 0 : t->fr[i + 1].fp[t->to];
		rec[1] = outer ? t->m.exit_fn[t->to]
			       : t->fr[i + 1].lm->ret[t->to];
		if (!in_dst(t, f->fp[t->to], 16) || put_bases(t, f))
			return -1;
		memcpy(t->dst + (f->fp[t->to] - t->lo), rec, 16);
		for (k = 0; k < f->fn->nr_slots; k++) {
			const struct xisa_slot *s = &f->fn->slots[k];
			uint64_t from = slot_addr(t, f, s, t->from);
			uint64_t to = slot_addr(t, f, s, t->to);

			if (from < t->vstart || from + s->size > t->vend ||
			    !in_dst(t, to, s->size)) {
				pr_err("a slot of %s is off the stack",
				       f->fn->name);
				return -1;
			}
			memcpy(t->dst + (to - t->lo),
			       t->src + (from - t->vstart), s->size);
			fix_words(t, t->dst + (to - t->lo), to, s->size);
		}
	}
	return 0;
}

/* The program's globals: the image's pages of [data_start, data_end).
 * Pages the image lacks were never written: the target has them too. */
static int load_data(struct tr *t)
{
	uint64_t ps = t->img->hdr.page_size;

	t->ds = t->m.data_start & ~(ps - 1);
	t->de = (t->m.data_end + ps - 1) & ~(ps - 1);
	if (t->ds == t->de)
		return 0;
	t->data = malloc(t->de - t->ds);
	t->have = calloc((t->de - t->ds) / ps, 1);
	if (!t->data || !t->have ||
	    load(t, t->ds, t->de - t->ds, t->data, t->have))
		return -1;
	fix_words(t, t->data, t->ds, t->de - t->ds);
	return 0;
}

/* The program's thread-local variables, at their places from the
 * source thread's pointer */
static int load_tls(struct tr *t, const struct img_thread *th)
{
	const struct xisa_isa *fi = xisa_isa(t->from);
	uint64_t tp = th->nr_regs > fi->reg_tp ? th->regs[fi->reg_tp] : 0;
	uint32_t i;

	if (!t->m.nr_tls)
		return 0;
	if (!tp) {
		pr_err("thread %d has thread-local variables and the image no "
		       "thread pointer", th->tid);
		return -1;
	}
	t->tls = calloc(t->m.nr_tls, sizeof(*t->tls));
	if (!t->tls)
		return -1;
	for (i = 0; i < t->m.nr_tls; i++) {
		const struct xisa_tls *v = &t->m.tls[i];

		t->tls[i] = malloc(v->size);
		if (!t->tls[i] ||
		    load(t, tp + v->tpoff[t->from], v->size, t->tls[i], NULL))
			return -1;
		fix_words(t, t->tls[i], v->tpoff[t->from], v->size);
	}
	return 0;
}

static int put_region(int fd, uint64_t addr, uint64_t len, uint32_t prot,
		      uint32_t flags, const void *data)
{
	struct xisa_region r = { addr, len, prot, flags };

	return write_full(fd, &r, sizeof(r)) ||
	       (data && write_full(fd, data, len)) ? -1 : 0;
}

/* Runs of pages of the data the image holds, clipped to the globals:
 * what lies beside them in the same page is the target libc's. */
static unsigned data_runs(const struct tr *t, int fd)
{
	uint64_t ps = t->img->hdr.page_size, i, j, a, b;
	uint64_t np = (t->de - t->ds) / ps;
	unsigned n = 0;

	for (i = 0; i < np; i = j) {
		for (j = i; j < np && t->have[j] == t->have[i]; j++)
			;
		if (!t->have[i])
			continue;
		a = t->ds + i * ps;
		b = t->ds + j * ps;
		a = a < t->m.data_start ? t->m.data_start : a;
		b = b > t->m.data_end ? t->m.data_end : b;
		if (a >= b)
			continue;
		n++;
		if (fd >= 0 && put_region(fd, a, b - a, PROT_READ | PROT_WRITE,
					  XISA_R_PROGRAM,
					  t->data + (a - t->ds)))
			return UINT32_MAX;
	}
	return n;
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Runs of pages of a heap VMA: those the image holds with their bytes
 * (words into the stack moved), the others as zero pages. */
static int put_heap_vma(struct tr *t, int fd, const struct img_vma *v)
{
	uint64_t ps = t->img->hdr.page_size, len = v->end - v->start;
	uint64_t np = len / ps, i, j, a, n;
	uint8_t *buf = malloc(len), *have = calloc(np, 1);
	int ret = -1;

	if (!buf || !have || load(t, v->start, len, buf, have))
		goto out;
	for (i = 0; i < np; i = j) {
		for (j = i; j < np && have[j] == have[i]; j++)
			;
		a = v->start + i * ps;
		n = (j - i) * ps;
		if (have[i]) {
			fix_words(t, buf + i * ps, a, n);
			t->heap_bytes += n;
		}
		if (have[i] ? put_region(fd, a, n, v->prot, 0, buf + i * ps)
			    : put_region(fd, a, n, v->prot, XISA_R_ZERO, NULL))
			goto out;
		t->nr_regions++;
	}
	ret = 0;
out:
	free(buf);
	free(have);
	return ret;
}

static int put_heap(struct tr *t, int fd)
{
	uint32_t i;

	for (i = 0; i < t->p->nr_vmas; i++) {
		const struct img_vma *v = &t->p->vmas[i];

		if (v->end <= XISA_HEAP_BASE ||
		    v->start >= XISA_HEAP_BASE + XISA_HEAP_SIZE)
			continue;
		if (v->start < XISA_HEAP_BASE ||
		    v->end > XISA_HEAP_BASE + XISA_HEAP_SIZE || v->path ||
		    v->shm) {
			pr_err("%#llx-%#llx is not the carried heap's",
			       (unsigned long long)v->start,
			       (unsigned long long)v->end);
			return -1;
		}
		if (put_heap_vma(t, fd, v))
			return -1;
	}
	return 0;
}

static int put_tls(struct tr *t, int fd)
{
	uint32_t i;

	for (i = 0; t->tls && i < t->m.nr_tls; i++) {
		if (put_region(fd, t->m.tls[i].tpoff[t->to], t->m.tls[i].size,
			       PROT_READ | PROT_WRITE, XISA_R_TLS, t->tls[i]))
			return -1;
		t->nr_regions++;
	}
	return 0;
}

static int write_out(struct tr *t, const char *out, int sync,
		     struct xisa_stats *st)
{
	struct xisa_hdr h;
	struct durable d;
	unsigned runs;
	double t0;
	int ret;

	memset(&h, 0, sizeof(h));
	memcpy(h.magic, XISA_MAGIC, 8);
	h.version = XISA_VERSION;
	h.isa = xisa_isa(t->to)->img_isa;
	h.pc = t->fr[0].lm->pc[t->to];
	h.sp = t->fr[0].sp[t->to];
	h.fp = t->fr[0].fp[t->to];
	h.landmark = t->fr[0].lm->id;
	h.bin_hash = t->m.hash[t->to];
	if (durable_open(&d, AT_FDCWD, out, sync ? 0 : DURABLE_NOSYNC))
		return -1;
	/* the header again at the end, with the number of regions */
	if (write_full(d.fd, &h, sizeof(h)) ||
	    put_region(d.fd, t->lo, t->vend - t->lo, PROT_READ | PROT_WRITE,
		       0, t->dst) ||
	    (runs = t->de > t->ds ? data_runs(t, d.fd) : 0) == UINT32_MAX ||
	    put_heap(t, d.fd) || put_tls(t, d.fd)) {
		pr_perror("can't write %s", out);
		durable_abort(&d);
		return -1;
	}
	h.nr_regions = 1 + runs + t->nr_regions;
	if (h.nr_regions > XISA_MAX_REGIONS) {
		pr_err("the heap has more than %d pieces", XISA_MAX_REGIONS);
		durable_abort(&d);
		return -1;
	}
	if (pwrite(d.fd, &h, sizeof(h), 0) != sizeof(h)) {
		pr_perror("can't write %s", out);
		durable_abort(&d);
		return -1;
	}
	st->stack_bytes = t->vend - t->lo;
	st->data_bytes = t->m.data_end - t->m.data_start;
	st->heap_bytes = t->heap_bytes;
	t0 = now();
	ret = durable_commit(&d);
	st->sync_seconds = now() - t0;
	return ret;
}

/* The image's process must be the executable its metadata describes,
 * and the target's executable the one translated for. */
static int check_binaries(struct tr *t)
{
	const char *exe = t->p->proc.exe;
	char *other;
	struct stat sb;
	uint32_t i;
	int isa;

	if (!exe || xisa_meta_for(exe, &t->m, &isa))
		return -1;
	if (isa != t->from) {
		pr_err("%s is not the %s build", exe, xisa_isa(t->from)->name);
		return -1;
	}
	if (stat(exe, &sb))
		return -1;
	for (i = 0; i < t->p->nr_vmas; i++) {
		const struct img_vma *v = &t->p->vmas[i];

		if (v->path && !strcmp(v->path, exe) &&
		    (v->ino != sb.st_ino || v->dev != sb.st_dev)) {
			pr_err("%s changed since the dump", exe);
			return -1;
		}
	}
	other = xisa_exe_path(exe, t->to);
	if (!other || xisa_exe_matches(other, &t->m, t->to)) {
		pr_err("%s does not match the metadata of %s",
		       other ? other : "the other build", exe);
		free(other);
		return -1;
	}
	free(other);
	return 0;
}

static int check_image(struct tr *t)
{
	const struct xisa_isa *fi;

	if (t->img->nr_procs != 1) {
		pr_err("only images of one process can be translated yet");
		return -1;
	}
	t->p = &t->img->procs[0];
	if (t->p->nr_threads != 1) {
		pr_err("%d has %u threads: only one can be translated yet",
		       t->p->proc.pid, t->p->nr_threads);
		return -1;
	}
	for (t->from = 0; t->from < XISA_NR; t->from++)
		if (xisa_isa(t->from)->img_isa == t->p->threads[0].regs_isa)
			break;
	if (t->from == XISA_NR || t->from == t->to) {
		pr_err("the image is not of the other ISA");
		return -1;
	}
	fi = xisa_isa(t->from);
	if (t->p->threads[0].nr_regs < fi->nr_regs) {
		pr_err("the image's registers are cut short");
		return -1;
	}
	return 0;
}

int xisa_translate(const char *img, const char *out, int to, int sync,
		   struct xisa_stats *st)
{
	struct tr t;
	char magic[8];
	double t0 = now();
	int ret = -1;

	memset(&t, 0, sizeof(t));
	memset(st, 0, sizeof(*st));
	t.to = to;
	t.fd = open(img, O_RDONLY | O_CLOEXEC);
	if (t.fd < 0) {
		pr_perror("can't open %s", img);
		return -1;
	}
	if (pread(t.fd, magic, 8, 0) == 8 && !memcmp(magic, XISA_SRC_MAGIC, 8))
		t.img = xisa_src_read(t.fd, img);
	else if ((t.img = img_read_fd(t.fd, 0)) &&
		 img_read_chain((struct image *)t.img, img, img_open_plain,
				NULL))
		goto out;
	if (!t.img || check_image(&t))
		goto out;
	st->read_seconds = now() - t0;
	if (check_binaries(&t))
		goto out;
	st->meta_seconds = now() - t0 - st->read_seconds;
	if (walk(&t, &t.p->threads[0]) || layout(&t) || build_frames(&t) ||
	    load_data(&t) || load_tls(&t, &t.p->threads[0]))
		goto out;
	st->frame_seconds = now() - t0 - st->read_seconds - st->meta_seconds;
	if (write_out(&t, out, sync, st))
		goto out;
	st->frames = t.n;
	ret = 0;
out:
	st->seconds = now() - t0;
	if (t.img)
		img_free((struct image *)t.img);
	for (uint32_t i = 0; t.tls && i < t.m.nr_tls; i++)
		free(t.tls[i]);
	free(t.tls);
	xisa_meta_free(&t.m);
	free(t.src);
	free(t.dst);
	free(t.fr);
	free(t.data);
	free(t.have);
	close(t.fd);
	return ret;
}
