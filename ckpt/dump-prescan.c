/*
 * The final freeze of --pre-copy scans the pagemap of every VMA
 * (dump-precopy.c, snap_vma): PAGEMAP_SCAN walks each page table entry,
 * some 10 ms of frozen time for a GiB of 4 KiB pages. That scan only
 * reads (no PM_SCAN_WP_MATCHING) and the process is frozen, so a thread
 * does it as soon as the maps are read, while the main thread gathers
 * the state with remote calls that mostly wait for the target to run
 * them. snap_vma then takes the regions found here for each VMA that was
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
#include <unistd.h>

#include "ckpt/dump-priv.h"
#include "ckpt/dump-uffd.h"

#define PRESCAN_VEC	512	/* regions per PAGEMAP_SCAN */

struct prescan_span {
	uint64_t start, end;
	size_t first, n;	/* its regions in reg[] */
	int ok;			/* scanned whole */
};

struct dump_prescan {
	pthread_t th;
	int joined;
	int used;		/* spans dump_prescan_get() gave */
	pid_t pid;
	struct prescan_span *spans;
	int nr_spans;
	struct page_region *reg;
	size_t nr_reg, cap_reg;
};

static int grow(struct dump_prescan *s, size_t more)
{
	struct page_region *v;
	size_t cap = s->cap_reg ? s->cap_reg : 1024;

	while (cap < s->nr_reg + more)
		cap *= 2;
	if (cap == s->cap_reg)
		return 0;
	v = realloc(s->reg, cap * sizeof(*v));
	if (!v)
		return -1;
	s->reg = v;
	s->cap_reg = cap;
	return 0;
}

/* The regions of one span; on any failure the span is left to snap_vma. */
static void scan_span(struct dump_prescan *s, int pm, struct prescan_span *sp)
{
	struct pm_scan_arg a = {
		.size = sizeof(a), .start = sp->start, .end = sp->end,
		.vec_len = PRESCAN_VEC,
		.category_anyof_mask = PAGE_IS_PRESENT | PAGE_IS_SWAPPED,
		.return_mask = DUMP_SNAP_CATS,
	};
	long n;

	sp->first = s->nr_reg;
	while (a.start < sp->end) {
		if (grow(s, PRESCAN_VEC))
			goto fail;
		a.vec = (uintptr_t)(s->reg + s->nr_reg);
		n = ioctl(pm, PAGEMAP_SCAN, &a);
		if (n < 0)
			goto fail;
		s->nr_reg += n;
		if (a.walk_end <= a.start)
			break;
		a.start = a.walk_end;
	}
	sp->n = s->nr_reg - sp->first;
	sp->ok = 1;
	return;
fail:
	s->nr_reg = sp->first;
}

static void *prescan(void *arg)
{
	struct dump_prescan *s = arg;
	char path[64];
	int pm, i;

	snprintf(path, sizeof(path), "/proc/%d/pagemap", s->pid);
	pm = open(path, O_RDONLY | O_CLOEXEC);
	if (pm < 0)
		return NULL;
	for (i = 0; i < s->nr_spans; i++)
		scan_span(s, pm, &s->spans[i]);
	close(pm);
	return NULL;
}

void dump_prescan_begin(struct dump_ctx *c)
{
	struct dump_prescan *s = calloc(1, sizeof(*s));
	sigset_t all, old;
	int i, err;

	if (!s)
		return;
	s->spans = calloc(c->nr_maps ? c->nr_maps : 1, sizeof(*s->spans));
	if (!s->spans) {
		free(s);
		return;
	}
	for (i = 0; i < c->nr_maps; i++) {
		s->spans[i].start = c->maps[i].start;
		s->spans[i].end = c->maps[i].end;
	}
	s->nr_spans = c->nr_maps;
	s->pid = c->pid;
	/* ckpt's signals (an interrupt) stay the main thread's */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	err = pthread_create(&s->th, NULL, prescan, s);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (err) {
		free(s->spans);
		free(s);
		return;
	}
	c->prescan = s;
}

static void join(struct dump_prescan *s)
{
	if (!s->joined)
		pthread_join(s->th, NULL);
	s->joined = 1;
}

const struct page_region *dump_prescan_get(struct dump_ctx *c,
					   uint64_t start, uint64_t end,
					   size_t *n)
{
	struct dump_prescan *s = c->prescan;
	int i;

	if (!s)
		return NULL;
	join(s);
	for (i = 0; i < s->nr_spans; i++) {
		const struct prescan_span *sp = &s->spans[i];

		if (sp->start == start && sp->end == end && sp->ok) {
			s->used++;
			*n = sp->n;
			return s->reg + sp->first;
		}
	}
	return NULL;
}

void dump_prescan_end(struct dump_ctx *c)
{
	struct dump_prescan *s = c->prescan;

	if (!s)
		return;
	join(s);
	pr_debug("%d: %d of %d VMAs scanned while the state was gathered",
		 s->pid, s->used, s->nr_spans);
	free(s->reg);
	free(s->spans);
	free(s);
	c->prescan = NULL;
}
