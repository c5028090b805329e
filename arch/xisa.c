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
#include <signal.h>
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

/* a thread: where it stopped, its stack and frames */
struct tthr {
	struct xisa_thread in;	/* as the source image has it */
	uint64_t vstart, vend;	/* the source stack (main's: its VMA) */
	uint8_t *src;		/* its contents */
	uint64_t lo;		/* the target stack: [lo, vend) */
	uint8_t *dst;
	struct frame *fr;
	unsigned n;
	uint8_t **tls;		/* per m.tls: the variable's bytes */
};

struct tr {
	const struct image *img;
	const struct img_process *p;
	int fd;			/* the image, for its page data */
	struct xisa_meta m;
	int from, to;
	struct tthr *th;	/* main's first */
	unsigned nth;
	struct tthr *cur;	/* the one walked or built */
	int src_image;		/* the runtime's (cc/rt-dump.c) */
	uint64_t ds, de;	/* the data to carry: [ds, de) */
	uint8_t *data;
	uint8_t *have;		/* per page of [ds, de): in the image */
	struct xisa_sigact acts[XISA_NSIG];	/* carried where carry[] */
	char carry[XISA_NSIG];
	unsigned nr_regions;	/* written out */
	uint64_t heap_bytes;	/* carried, of the image's pages */
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
	if (addr < t->cur->vstart || addr + 8 > t->cur->vend || addr % 8) {
		pr_err("the call chain leaves the stack at %#llx",
		       (unsigned long long)addr);
		return -1;
	}
	memcpy(v, t->cur->src + (addr - t->cur->vstart), 8);
	return 0;
}

static int find_stack(struct tr *t, uint64_t sp)
{
	uint32_t i;

	for (i = 0; i < t->p->nr_vmas; i++) {
		const struct img_vma *v = &t->p->vmas[i];

		if (sp >= v->start && sp < v->end) {
			t->cur->vstart = v->start;
			t->cur->vend = v->end;
			t->cur->src = malloc(v->end - v->start);
			return t->cur->src ? load(t, v->start, v->end - v->start,
					     t->cur->src, NULL) : -1;
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

	if (t->cur->n == MAX_FRAMES) {
		pr_err("more than %d frames", MAX_FRAMES);
		return -1;
	}
	f = realloc(t->cur->fr, (t->cur->n + 1) * sizeof(*f));
	if (!f)
		return -1;
	t->cur->fr = f;
	f = &t->cur->fr[t->cur->n++];
	memset(f, 0, sizeof(*f));
	f->lm = lm;
	f->fn = &t->m.fns[lm->fn];
	f->sp[t->from] = sp;
	f->fp[t->from] = fp;
	f->cfa[t->from] = fp - f->fn->fpoff[t->from];
	return 0;
}

/* A thread's stack (not main's): in the carried heap, as its record
 * says */
static int thread_stack(struct tr *t, const struct xisa_thread *in)
{
	struct tthr *c = t->cur;
	uint64_t low;

	if (in->stack_lo >= in->stack_hi || in->stack_lo % 16 ||
	    in->stack_hi % 16 || in->stack_lo < XISA_HEAP_BASE ||
	    in->stack_hi > XISA_HEAP_BASE + XISA_HEAP_SIZE ||
	    in->stack_hi - in->stack_lo > (64u << 20)) {
		pr_err("thread %#llx's stack is not in the carried heap",
		       (unsigned long long)in->handle);
		return -1;
	}
	/* from 256 KiB below where it stopped: the rest is unused */
	low = in->sp < in->fp ? in->sp : in->fp;
	c->vstart = (low - (256u << 10)) & ~4095ull;
	if (c->vstart < in->stack_lo || c->vstart >= in->stack_hi)
		c->vstart = in->stack_lo;
	c->vend = in->stack_hi;
	c->src = malloc(c->vend - c->vstart);
	return c->src ? load(t, c->vstart, c->vend - c->vstart, c->src, NULL)
		      : -1;
}

/* The source call chain of t->cur, innermost first, out to main or to
 * the thread's start routine (returning into ckpt_xisa_thread_ret). */
static int walk(struct tr *t)
{
	const struct xisa_thread *in = &t->cur->in;
	const struct xisa_lm *lm;
	uint64_t ret, fp, sp = in->sp;

	if (in->how == XISA_T_BLOCKED) {
		/* returning from the runtime's wait: the caller's frame */
		lm = xisa_lm_ret(&t->m, t->from, in->pc);
		if (lm) {
			const struct xisa_fn *fn = &t->m.fns[lm->fn];

			sp = in->fp - fn->fpoff[t->from] - fn->stack[t->from];
		}
	} else {
		lm = xisa_lm_at(&t->m, t->from, in->pc);
	}
	if (!lm || (in->how != XISA_T_BLOCKED &&
		    in->how != XISA_T_LANDMARK)) {
		pr_err("thread %#llx is not at a landmark (pc %#llx): dump it "
		       "with ckpt attach --landmark",
		       (unsigned long long)in->handle,
		       (unsigned long long)in->pc);
		return -1;
	}
	if ((in->handle ? thread_stack(t, in) : find_stack(t, sp)) ||
	    add_frame(t, lm, sp, in->fp))
		return -1;
	for (;;) {
		struct frame *f = &t->cur->fr[t->cur->n - 1];

		if (!in->handle && f->fn == &t->m.fns[t->m.main_fn])
			break;
		if (src_word(t, f->fp[t->from] + 8, &ret) ||
		    src_word(t, f->fp[t->from], &fp))
			return -1;
		if (in->handle && t->m.thread_ret[t->from] &&
		    ret == t->m.thread_ret[t->from]) {
			if (f->cfa[t->from] != t->cur->vend) {
				pr_err("thread %#llx's first frame is not at "
				       "the top of its stack",
				       (unsigned long long)in->handle);
				return -1;
			}
			break;
		}
		lm = xisa_lm_ret(&t->m, t->from, ret);
		if (!lm) {
			pr_err("frame %u of thread %#llx (%s) returns to %#llx, "
			       "not to a landmarked call of the program",
			       t->cur->n, (unsigned long long)in->handle,
			       f->fn->name, (unsigned long long)ret);
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
	uint64_t cfa = t->cur->fr[t->cur->n - 1].cfa[t->from];
	unsigned i = t->cur->n;

	if (cfa % 16) {
		pr_err("the outermost frame is not aligned");
		return -1;
	}
	while (i--) {
		struct frame *f = &t->cur->fr[i];

		f->cfa[t->to] = cfa;
		f->sp[t->to] = cfa - f->fn->stack[t->to];
		f->fp[t->to] = cfa + f->fn->fpoff[t->to];
		cfa = f->sp[t->to];
	}
	t->cur->lo = (t->cur->fr[0].sp[t->to] - 65536) & ~4095ull;
	if (t->cur->lo > t->cur->vstart)
		t->cur->lo = t->cur->vstart;
	if (t->cur->in.handle && t->cur->lo < t->cur->in.stack_lo)
		t->cur->lo = t->cur->in.stack_lo;	/* in_dst() checks */
	t->cur->dst = calloc(1, t->cur->vend - t->cur->lo);
	return t->cur->dst ? 0 : -1;
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
	const struct tthr *c;
	unsigned i, k;

	for (c = t->th; c < t->th + t->nth; c++)
		if (c->fr && v >= c->vstart && v < c->vend)
			break;
	if (c == t->th + t->nth)
		return v;
	for (i = 0; i < c->n; i++) {
		const struct frame *f = &c->fr[i];

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
	if (a >= t->cur->lo && a + len <= t->cur->vend && a + len >= a)
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
		memcpy(t->cur->dst + (at - t->cur->lo), &v, 8);
	}
	return 0;
}

static int build_frames(struct tr *t)
{
	uint64_t top = t->cur->fr[t->cur->n - 1].cfa[t->from], rec[2];
	unsigned i, k;

	/* above main: argv, the environment, the auxiliary vector */
	memcpy(t->cur->dst + (top - t->cur->lo), t->cur->src + (top - t->cur->vstart),
	       t->cur->vend - top);
	for (i = 0; i < t->cur->n; i++) {
		const struct frame *f = &t->cur->fr[i];
		int outer = i + 1 == t->cur->n;

		rec[0] = outer ? 0 : t->cur->fr[i + 1].fp[t->to];
		rec[1] = !outer ? t->cur->fr[i + 1].lm->ret[t->to]
		       : t->cur->in.handle ? t->m.thread_ret[t->to]
		       : t->m.exit_fn[t->to];
		if (!in_dst(t, f->fp[t->to], 16) || put_bases(t, f))
			return -1;
		memcpy(t->cur->dst + (f->fp[t->to] - t->cur->lo), rec, 16);
		for (k = 0; k < f->fn->nr_slots; k++) {
			const struct xisa_slot *s = &f->fn->slots[k];
			uint64_t from = slot_addr(t, f, s, t->from);
			uint64_t to = slot_addr(t, f, s, t->to);

			if (from < t->cur->vstart || from + s->size > t->cur->vend ||
			    !in_dst(t, to, s->size)) {
				pr_err("a slot of %s is off the stack",
				       f->fn->name);
				return -1;
			}
			memcpy(t->cur->dst + (to - t->cur->lo),
			       t->cur->src + (from - t->cur->vstart), s->size);
			fix_words(t, t->cur->dst + (to - t->cur->lo), to, s->size);
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

/* The program's thread-local variables of t->cur, at their places from
 * its source thread pointer */
static int load_tls(struct tr *t)
{
	struct tthr *c = t->cur;
	uint64_t tp = c->in.tp;
	uint32_t i;

	if (!t->m.nr_tls)
		return 0;
	if (!tp) {
		pr_err("thread %#llx has thread-local variables and the image "
		       "no thread pointer", (unsigned long long)c->in.handle);
		return -1;
	}
	c->tls = calloc(t->m.nr_tls, sizeof(*c->tls));
	if (!c->tls)
		return -1;
	for (i = 0; i < t->m.nr_tls; i++) {
		const struct xisa_tls *v = &t->m.tls[i];

		c->tls[i] = malloc(v->size);
		if (!c->tls[i] ||
		    load(t, tp + v->tpoff[t->from], v->size, c->tls[i], NULL))
			return -1;
		fix_words(t, c->tls[i], v->tpoff[t->from], v->size);
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

/* have[] of [addr, addr + np pages): 1 for each page the image holds */
static void held(const struct tr *t, uint64_t addr, uint64_t np,
		 uint8_t *have)
{
	uint64_t ps = t->img->hdr.page_size, end = addr + np * ps, a, b;
	uint32_t i;

	for (i = 0; i < t->p->nr_pages; i++) {
		const struct img_pages *pg = &t->p->pages[i];
		uint64_t pe = pg->addr + pg->nr_pages * ps;

		a = pg->addr > addr ? pg->addr : addr;
		b = pe < end ? pe : end;
		for (; a < b; a += ps)
			have[(a - addr) / ps] = 1;
	}
}

/* A run of n bytes at a that the image holds, as one region, through
 * buf (HEAP_CHUNK bytes: fresh memory faults page by page, a small
 * buffer only once) */
#define HEAP_CHUNK	(256 << 10)
static int put_held(struct tr *t, int fd, const struct img_vma *v,
		    uint64_t a, uint64_t n, uint8_t *buf)
{
	struct xisa_region r = { a, n, v->prot, 0 };
	uint64_t off, c;

	if (write_full(fd, &r, sizeof(r)))
		return -1;
	for (off = 0; off < n; off += c) {
		c = n - off < HEAP_CHUNK ? n - off : HEAP_CHUNK;
		if (load(t, a + off, c, buf, NULL))
			return -1;
		fix_words(t, buf, a + off, c);
		if (write_full(fd, buf, c))
			return -1;
	}
	t->heap_bytes += n;
	return 0;
}

/* Runs of pages of a heap VMA: those the image holds with their bytes
 * (words into the stack moved), the others as zero pages. Only the runs
 * held are read: a heap reserved large and little used costs what it
 * holds. */
static int put_heap_vma(struct tr *t, int fd, const struct img_vma *v)
{
	uint64_t ps = t->img->hdr.page_size, len = v->end - v->start;
	uint64_t np = len / ps, i, j, a, n;
	uint8_t *buf = malloc(HEAP_CHUNK), *have = calloc(np, 1);
	int ret = -1;

	if (!buf || !have)
		goto out;
	held(t, v->start, np, have);
	for (i = 0; i < np; i = j) {
		for (j = i; j < np && have[j] == have[i]; j++)
			;
		a = v->start + i * ps;
		n = (j - i) * ps;
		if (have[i] ? put_held(t, fd, v, a, n, buf)
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

/* c's thread-local variables (a thread not main's: after its
 * XISA_R_THREAD, which they belong to) */
static int put_tls(struct tr *t, const struct tthr *c, int fd)
{
	uint32_t i;

	for (i = 0; c->tls && i < t->m.nr_tls; i++) {
		if (put_region(fd, t->m.tls[i].tpoff[t->to], t->m.tls[i].size,
			       PROT_READ | PROT_WRITE, XISA_R_TLS, c->tls[i]))
			return -1;
		t->nr_regions++;
	}
	return 0;
}

/* Each thread where it resumes (a program of threads, or main waiting in
 * the runtime), and the stacks of those not main, rebuilt, over the
 * carried heap's bytes */
static int put_threads(struct tr *t, int fd)
{
	struct xisa_thread o;
	unsigned i;

	if (t->nth == 1 && t->th[0].in.how == XISA_T_LANDMARK)
		return 0;	/* the header says it */
	for (i = 0; i < t->nth; i++) {
		const struct tthr *c = &t->th[i];
		uint64_t lo;

		o = c->in;
		o.pc = o.how == XISA_T_BLOCKED ? c->fr[0].lm->ret[t->to]
					       : c->fr[0].lm->pc[t->to];
		o.sp = c->fr[0].sp[t->to];
		o.fp = c->fr[0].fp[t->to];
		o.tp = 0;
		/* what the wait is given may be the program's locals */
		o.a = moved(t, o.a);
		o.b = moved(t, o.b);
		if (put_region(fd, 0, sizeof(o), 0, XISA_R_THREAD, &o))
			return -1;
		t->nr_regions++;
		if (!c->in.handle)
			continue;
		if (put_tls(t, c, fd))
			return -1;
		/* from below its innermost frame (slots of a leaf function
		 * may lie under the stack pointer) */
		lo = (o.sp - 4096) & ~4095ull;
		if (lo < c->lo)
			lo = c->lo;
		if (put_region(fd, lo, c->vend - lo, PROT_READ | PROT_WRITE,
			       XISA_R_OVER, c->dst + (lo - c->lo)))
			return -1;
		t->nr_regions++;
	}
	return 0;
}

/* the SA_* flags carried (the kernel's, the same on both ISAs) */
#define SA_CARRIED	(SA_NOCLDSTOP | SA_NOCLDWAIT | SA_SIGINFO | SA_RESTART | \
			 SA_NODEFER | SA_RESETHAND)
#define SA_RESTORER_K	0x04000000ull	/* each libc puts its own */

/* Signal sig's action a, carried (1: as it is, the handler the target's
 * address of the function), left to the target's runtime and libc (0:
 * the runtime's checkpointer's, libc's own), or refused (-1) */
static int carry_sigact(const struct tr *t, int sig, struct xisa_sigact *a)
{
	uint32_t i;

	/* glibc's SIGCANCEL and SIGSETXID: each libc sets its own */
	if (sig == 32 || sig == 33)
		return 0;
	a->flags &= ~SA_RESTORER_K;
	if (a->handler > 1) {	/* not SIG_DFL, SIG_IGN: the program's? */
		for (i = 0; i < t->m.nr_fns; i++)
			if (t->m.fns[i].addr[t->from] == a->handler)
				break;
		if (i == t->m.nr_fns) {
			/* the runtime's: its checkpointer's (rt-dump.c),
			 * its healer's (rt-heal.c) */
			if (sig == SIGUSR2 || sig == SIGTRAP || sig == SIGSEGV)
				return 0;
			pr_err("the handler of signal %d (%s) at %#llx is not "
			       "a function of the program", sig,
			       strsignal(sig), (unsigned long long)a->handler);
			return -1;
		}
		a->handler = t->m.fns[i].addr[t->to];
	}
	if (a->flags & SA_ONSTACK) {
		pr_err("the handler of signal %d (%s) runs on an alternate "
		       "stack (SA_ONSTACK): not carried yet", sig,
		       strsignal(sig));
		return -1;
	}
	if (a->flags & ~(uint64_t)SA_CARRIED) {
		pr_err("the action of signal %d (%s) has flags %#llx: not "
		       "carried yet", sig, strsignal(sig),
		       (unsigned long long)(a->flags & ~(uint64_t)SA_CARRIED));
		return -1;
	}
	return 1;
}

/* The signals' actions: a source image's, or the image's records */
static int get_sigacts(struct tr *t, const char *img)
{
	int sig, w;

	if (t->src_image) {
		if (xisa_src_sigacts(t->fd, img, t->acts, t->carry))
			return -1;
	} else if (t->p->has_sigacts) {
		for (sig = 1; sig <= XISA_NSIG && sig <= IMG_NSIG; sig++) {
			const struct img_sigact *k = &t->p->sigacts[sig - 1];

			if (sig == SIGKILL || sig == SIGSTOP)
				continue;
			t->carry[sig - 1] = 1;
			t->acts[sig - 1].handler = k->handler;
			t->acts[sig - 1].flags = k->flags;
			t->acts[sig - 1].mask = k->mask;
		}
	}
	for (sig = 1; sig <= XISA_NSIG; sig++) {
		if (!t->carry[sig - 1])
			continue;
		w = carry_sigact(t, sig, &t->acts[sig - 1]);
		if (w < 0)
			return -1;
		t->carry[sig - 1] = (char)w;
	}
	return 0;
}

static int put_sigacts(struct tr *t, int fd)
{
	int sig;

	for (sig = 1; sig <= XISA_NSIG; sig++) {
		if (!t->carry[sig - 1])
			continue;
		if (put_region(fd, sig, sizeof(t->acts[0]), 0, XISA_R_SIGACT,
			       &t->acts[sig - 1]))
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
	t->cur = &t->th[0];	/* main */
	h.pc = t->cur->in.how == XISA_T_BLOCKED ? t->cur->fr[0].lm->ret[t->to]
						: t->cur->fr[0].lm->pc[t->to];
	h.sp = t->cur->fr[0].sp[t->to];
	h.fp = t->cur->fr[0].fp[t->to];
	h.landmark = t->cur->fr[0].lm->id;
	h.bin_hash = t->m.hash[t->to];
	if (durable_open(&d, AT_FDCWD, out, sync ? 0 : DURABLE_NOSYNC))
		return -1;
	/* the header again at the end, with the number of regions */
	if (write_full(d.fd, &h, sizeof(h)) ||
	    put_region(d.fd, t->cur->lo, t->cur->vend - t->cur->lo,
		       PROT_READ | PROT_WRITE, 0, t->cur->dst) ||
	    (runs = t->de > t->ds ? data_runs(t, d.fd) : 0) == UINT32_MAX ||
	    put_heap(t, d.fd) || put_tls(t, &t->th[0], d.fd) ||
	    put_threads(t, d.fd) || put_sigacts(t, d.fd)) {
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
	st->stack_bytes = t->cur->vend - t->cur->lo;
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
	if (!t->p->nr_threads || t->p->nr_threads > XISA_MAX_THREADS) {
		pr_err("%d has %u threads: 1 to %d can be translated",
		       t->p->proc.pid, t->p->nr_threads, XISA_MAX_THREADS);
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

static int read_image(void *ctx, uint64_t addr, void *buf, size_t len)
{
	return load(ctx, addr, len, buf, NULL);
}

/* The threads of an attach --landmark image of several: as the runtime's
 * slots in its memory and their registers say (arch/xisa-thr.c), which
 * is what attach --landmark waited for */
static int image_threads(struct tr *t, struct xisa_thread **out)
{
	const struct xisa_isa *fi = xisa_isa(t->from);
	unsigned n = t->p->nr_threads, i, busy;
	struct xisa_seen *seen = calloc(n, sizeof(*seen));
	int ret = -1, w;

	*out = calloc(n, sizeof(**out));
	if (!seen || !*out)
		goto out;
	for (i = 0; i < n; i++) {
		const struct img_thread *th = &t->p->threads[i];

		if (th->regs_isa != fi->img_isa || th->nr_regs <= fi->reg_tp) {
			pr_err("thread %d's registers are not %s's", th->tid,
			       fi->name);
			goto out;
		}
		seen[i].tid = th->tid;
		seen[i].leader = th->tid == t->p->proc.pid;
		seen[i].pc = th->regs[fi->reg_pc];
		seen[i].sp = th->regs[fi->reg_sp];
		seen[i].fp = th->regs[fi->reg_fp];
		seen[i].tp = th->regs[fi->reg_tp];
		seen[i].at = xisa_lm_at(&t->m, t->from, seen[i].pc) != NULL;
	}
	w = xisa_threads_of(&t->m, t->from, read_image, t, seen, n, *out,
			    &busy);
	if (w > 0)
		pr_err("thread %d of %d is neither at a landmark nor waiting "
		       "in the runtime: dump it with ckpt attach --landmark",
		       seen[busy].tid, t->p->proc.pid);
	ret = w ? -1 : (int)n;
out:
	free(seen);
	if (ret < 0) {
		free(*out);
		*out = NULL;
	}
	return ret;
}

/* An attach --landmark image's signals blocked or pending: refused, not
 * carried yet. A thread waiting in the runtime is not asked its mask:
 * the runtime blocks every signal about its waits for a moment. */
static int check_signals(const struct tr *t)
{
	const struct xisa_isa *fi = xisa_isa(t->from);
	uint32_t i;

	for (i = 0; !t->src_image && i < t->p->nr_threads; i++) {
		const struct img_thread *th = &t->p->threads[i];

		if (th->nr_siginfo) {
			pr_err("thread %d of %d has a signal pending: not "
			       "carried yet", th->tid, t->p->proc.pid);
			return -1;
		}
		if (th->sigmask && th->nr_regs > fi->reg_pc &&
		    xisa_lm_at(&t->m, t->from, th->regs[fi->reg_pc])) {
			pr_err("thread %d of %d blocks signals (%#llx): not "
			       "carried yet", th->tid, t->p->proc.pid,
			       (unsigned long long)th->sigmask);
			return -1;
		}
	}
	return 0;
}

/* The threads: a source image's, each as it recorded it, an image of
 * several threads' as the runtime's slots say, else the one thread of
 * the image, at a landmark */
static int get_threads(struct tr *t, const char *img)
{
	const struct img_thread *th = &t->p->threads[0];
	const struct xisa_isa *fi = xisa_isa(t->from);
	struct xisa_thread *in = NULL;
	int n = t->src_image ? xisa_src_threads(t->fd, img, &in)
	      : t->p->nr_threads > 1 ? image_threads(t, &in) : 0;
	unsigned i;

	if (n < 0)
		return -1;
	t->th = calloc(n ? n : 1, sizeof(*t->th));
	if (!t->th) {
		free(in);
		return -1;
	}
	t->nth = n ? n : 1;
	for (i = 0; i < (unsigned)n; i++)
		t->th[i].in = in[i];
	free(in);
	if (!n) {
		t->th[0].in.pc = th->regs[fi->reg_pc];
		t->th[0].in.sp = th->regs[fi->reg_sp];
		t->th[0].in.fp = th->regs[fi->reg_fp];
		t->th[0].in.tp = th->nr_regs > fi->reg_tp ?
				 th->regs[fi->reg_tp] : 0;
	}
	if (t->th[0].in.handle) {
		pr_err("%s: main's thread is not the first", img);
		return -1;
	}
	if (t->nth > 1 && !t->m.thread_ret[t->from]) {
		pr_err("%s has threads and its metadata no thread start: build "
		       "it again with ckpt cc", t->p->proc.exe);
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
	t.src_image = pread(t.fd, magic, 8, 0) == 8 &&
		      !memcmp(magic, XISA_SRC_MAGIC, 8);
	if (t.src_image) {
		struct xisa_hdr h;

		t.img = xisa_src_read(t.fd, img);
		if (t.img && !pread_full(t.fd, &h, sizeof(h), 0))
			st->stop_seconds = h.stop_ns / 1e9;
	}
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
	if (get_threads(&t, img) || check_signals(&t) ||
	    get_sigacts(&t, img))
		goto out;
	/* every thread's frames placed before any word is moved */
	for (t.cur = t.th; t.cur < t.th + t.nth; t.cur++)
		if (walk(&t) || layout(&t))
			goto out;
	for (t.cur = t.th; t.cur < t.th + t.nth; t.cur++)
		if (build_frames(&t))
			goto out;
	if (load_data(&t))
		goto out;
	for (t.cur = t.th; t.cur < t.th + t.nth; t.cur++)
		if (load_tls(&t))
			goto out;
	st->frame_seconds = now() - t0 - st->read_seconds - st->meta_seconds;
	if (write_out(&t, out, sync, st))
		goto out;
	for (t.cur = t.th; t.cur < t.th + t.nth; t.cur++)
		st->frames += t.cur->n;
	st->threads = t.nth;
	ret = 0;
out:
	st->seconds = now() - t0;
	if (t.img)
		img_free((struct image *)t.img);
	for (t.cur = t.th; t.cur < t.th + t.nth; t.cur++) {
		free(t.cur->src);
		free(t.cur->dst);
		free(t.cur->fr);
		for (uint32_t i = 0; t.cur->tls && i < t.m.nr_tls; i++)
			free(t.cur->tls[i]);
		free(t.cur->tls);
	}
	free(t.th);
	xisa_meta_free(&t.m);
	free(t.data);
	free(t.have);
	close(t.fd);
	return ret;
}
