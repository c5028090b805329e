/*
 * The final freeze of --pre-copy scans the pagemap of every VMA
 * (dump-precopy.c, snap_vma): PAGEMAP_SCAN walks each page table entry,
 * some 9 ms of frozen time for a GiB of 4 KiB pages. That scan only
 * reads (no PM_SCAN_WP_MATCHING) and the process is frozen, so two
 * threads do it as soon as the maps are read, each a half of the memory
 * (a large VMA is cut in two), while the main thread gathers the state
 * with remote calls that mostly wait for the target to run them.
 * snap_vma then takes the regions found here for each VMA that was
 * scanned whole, and scans the others itself.
 *
 * What the remote calls change meanwhile does not matter: they work in
 * our scratch page, which the maps read before it do not hold, and a
 * page of the process they write and put back is read after them
 * anyway, from the process as it is then.
 */
#include <sys/ioctl.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ckpt/dump-priv.h"
#include "ckpt/dump-uffd.h"

#define PRESCAN_VEC	512		/* regions per PAGEMAP_SCAN */
#define PRESCAN_CUT	(64ULL << 20)	/* a VMA this large is cut in two */

/* A VMA, or half of one, for one scanner. */
struct prescan_span {
	uint64_t start, end;
	uint64_t vma_start, vma_end;
	int by;			/* the scanner: 0 or 1 */
	size_t first, n;	/* its regions in that scanner's reg[] */
	int ok;			/* scanned whole */
};

struct scanner {
	struct dump_prescan *s;
	pthread_t th;
	int started, by;
	struct page_region *reg;
	size_t nr_reg, cap_reg;
};

struct dump_prescan {
	struct scanner sc[2];
	int joined;
	int used;		/* VMAs dump_prescan_get() gave */
	pid_t pid;
	struct prescan_span *spans;
	int nr_spans;
	struct page_region *both;	/* a cut VMA's two halves, joined */
};

static int grow(struct scanner *sc, size_t more)
{
	struct page_region *v;
	size_t cap = sc->cap_reg ? sc->cap_reg : 1024;

	while (cap < sc->nr_reg + more)
		cap *= 2;
	if (cap == sc->cap_reg)
		return 0;
	v = realloc(sc->reg, cap * sizeof(*v));
	if (!v)
		return -1;
	sc->reg = v;
	sc->cap_reg = cap;
	return 0;
}

/* The regions of one span; on any failure the VMA is left to snap_vma. */
static void scan_span(struct scanner *sc, int pm, struct prescan_span *sp)
{
	struct pm_scan_arg a = {
		.size = sizeof(a), .start = sp->start, .end = sp->end,
		.vec_len = PRESCAN_VEC,
		.category_anyof_mask = PAGE_IS_PRESENT | PAGE_IS_SWAPPED,
		.return_mask = DUMP_SNAP_CATS,
	};
	long n;

	sp->first = sc->nr_reg;
	while (a.start < sp->end) {
		if (grow(sc, PRESCAN_VEC))
			goto fail;
		a.vec = (uintptr_t)(sc->reg + sc->nr_reg);
		n = ioctl(pm, PAGEMAP_SCAN, &a);
		if (n < 0)
			goto fail;
		sc->nr_reg += n;
		if (a.walk_end <= a.start)
			break;
		a.start = a.walk_end;
	}
	sp->n = sc->nr_reg - sp->first;
	sp->ok = 1;
	return;
fail:
	sc->nr_reg = sp->first;
}

static void *prescan(void *arg)
{
	struct scanner *sc = arg;
	struct dump_prescan *s = sc->s;
	char path[64];
	int pm, i;

	snprintf(path, sizeof(path), "/proc/%d/pagemap", s->pid);
	pm = open(path, O_RDONLY | O_CLOEXEC);
	if (pm < 0)
		return NULL;
	for (i = 0; i < s->nr_spans; i++)
		if (s->spans[i].by == sc->by)
			scan_span(sc, pm, &s->spans[i]);
	close(pm);
	return NULL;
}

/* The spans of c's maps: the second half of each large VMA to scanner
 * 1, all else to scanner 0; their number, or -1. */
static int make_spans(struct dump_prescan *s, const struct dump_ctx *c)
{
	int i, n = 0;

	s->spans = calloc(c->nr_maps ? 2 * c->nr_maps : 1, sizeof(*s->spans));
	if (!s->spans)
		return -1;
	for (i = 0; i < c->nr_maps; i++) {
		uint64_t a = c->maps[i].start, b = c->maps[i].end;
		uint64_t mid = a + ((b - a) / 2 & ~(uint64_t)0xfff);

		s->spans[n++] = (struct prescan_span){
			.start = a, .end = b - a >= PRESCAN_CUT ? mid : b,
			.vma_start = a, .vma_end = b };
		if (b - a >= PRESCAN_CUT)
			s->spans[n++] = (struct prescan_span){
				.start = mid, .end = b, .vma_start = a,
				.vma_end = b, .by = 1 };
	}
	return n;
}

void dump_prescan_begin(struct dump_ctx *c)
{
	struct dump_prescan *s = calloc(1, sizeof(*s));
	sigset_t all, old;
	int k;

	if (!s)
		return;
	s->nr_spans = make_spans(s, c);
	if (s->nr_spans < 0) {
		free(s);
		return;
	}
	s->pid = c->pid;
	/* ckpt's signals (an interrupt) stay the main thread's */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	for (k = 0; k < 2; k++) {
		s->sc[k].s = s;
		s->sc[k].by = k;
		s->sc[k].started = !pthread_create(&s->sc[k].th, NULL, prescan,
						   &s->sc[k]);
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	/* a scanner that did not start leaves its spans not ok */
	c->prescan = s;
}

static void join(struct dump_prescan *s)
{
	int k;

	for (k = 0; k < 2 && !s->joined; k++)
		if (s->sc[k].started)
			pthread_join(s->sc[k].th, NULL);
	s->joined = 1;
}

const struct page_region *dump_prescan_get(struct dump_ctx *c,
					   uint64_t start, uint64_t end,
					   size_t *n)
{
	struct dump_prescan *s = c->prescan;
	const struct prescan_span *sp[2];
	int i, k = 0;

	if (!s)
		return NULL;
	join(s);
	for (i = 0; i < s->nr_spans && k < 2; i++)
		if (s->spans[i].vma_start == start && s->spans[i].vma_end == end)
			sp[k++] = &s->spans[i];
	if (!k || !sp[0]->ok || (k == 2 && !sp[1]->ok))
		return NULL;
	s->used++;
	if (k == 1) {
		*n = sp[0]->n;
		return s->sc[sp[0]->by].reg + sp[0]->first;
	}
	/* a cut VMA: its halves' regions, in order */
	free(s->both);
	s->both = malloc((sp[0]->n + sp[1]->n + 1) * sizeof(*s->both));
	if (!s->both)
		return NULL;
	memcpy(s->both, s->sc[sp[0]->by].reg + sp[0]->first,
	       sp[0]->n * sizeof(*s->both));
	memcpy(s->both + sp[0]->n, s->sc[sp[1]->by].reg + sp[1]->first,
	       sp[1]->n * sizeof(*s->both));
	*n = sp[0]->n + sp[1]->n;
	return s->both;
}

void dump_prescan_end(struct dump_ctx *c)
{
	struct dump_prescan *s = c->prescan;

	if (!s)
		return;
	join(s);
	pr_debug("%d: %d of %d VMAs scanned while the state was gathered",
		 s->pid, s->used, c->nr_maps);
	free(s->sc[0].reg);
	free(s->sc[1].reg);
	free(s->both);
	free(s->spans);
	free(s);
	c->prescan = NULL;
}
