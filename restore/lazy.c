/*
 * restore --lazy: the process runs before its private anonymous memory is
 * in place; that memory arrives through userfaultfd(2).
 *
 * mm.c maps every VMA as usual but leaves the pages of the lazy ones (a
 * private anonymous VMA that is not locked, not growsdown and has no
 * guard pages) out of the fill. restore_lazy_add() then makes the child
 * create a userfaultfd (it must: a userfaultfd serves the mm of whoever
 * created it), takes it with pidfd_getfd(2) and registers those VMAs in
 * MISSING mode from here (the ioctls act on the userfaultfd's mm, not the
 * caller's). From the first one on, two threads of restore serve it while
 * the rest of the restore goes on (a remote call can fault on lazy memory
 * too: rseq registration writes to the TLS):
 *
 * - the fault thread answers each fault with the pages around it read
 *   from the image (UFFDIO_COPY), or a zero page where the image has none
 *   (UFFDIO_ZEROPAGE), and follows what the process does to its memory:
 *   MADV_DONTNEED and munmap (EVENT_REMOVE, EVENT_UNMAP: those pages are
 *   never filled any more: they read as zero now, or are gone), mremap
 *   (EVENT_REMAP: the runs of the image move with the pages) and fork
 *   (EVENT_FORK: the child gets a userfaultfd of its own, served from the
 *   same runs);
 * - the pull thread copies every page not yet there, 2 MiB at a time.
 *
 * Both hold one lock around each copy and the fault thread holds it from
 * before it reads a message until it has handled it: the kernel lets a
 * thread that removed pages go on (and zap them) only once its event is
 * read, so a copy of stale image data can't land after the zap. Under the
 * same lock they share a few records read whole (and checked: 2 MiB each,
 * least recently used one reused), so that a record is read once for all
 * the faults of the tree and the pull, not once per fault.
 *
 * restore (or the pager, with --detach) ends only once every page is in
 * place; then it closes the userfaultfds and the kernel turns what is left
 * (holes in the image: zero pages) into ordinary memory. Until then the
 * guardian (guard.c) holds a duplicate of each userfaultfd: if restore or
 * the pager dies, the faults stay blocked (rather than read as zeros) and
 * the guardian kills the tree. A fetch that fails kills it as well.
 *
 * CKPT_LAZY_GATE=PATH (for the tests) holds the pull back until PATH
 * exists: until then only faults bring pages.
 */
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/userfaultfd.h>
#include <poll.h>
#include <sched.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "restore/restore.h"
#include "util/fault.h"
#include "util/util.h"

#define LAZY_SPACES	256	/* the tree's processes and their forks */
#define PULL_PAGES	512	/* the pull thread's step: 2 MiB */
#define FAULT_PAGES	16	/* pages filled around a fault */
#define FAULT_AROUND	256	/* the block of pages (1 MiB) filled at a
				 * fault, run after run */
#define LAZY_SLOTS	4	/* records kept read */
/* a slot: a whole record, or a step of the pull */
#define LAZY_BUF(ps)	(IMG_PAGES_REC_MAX(ps) > PULL_PAGES * (size_t)(ps) ? \
			 IMG_PAGES_REC_MAX(ps) : PULL_PAGES * (size_t)(ps))
#define LAZY_MSGS	16	/* messages read at once */
#define LAZY_LATER	64	/* faults whose surroundings wait */
#define LAZY_FEATURES	(UFFD_FEATURE_EVENT_FORK | UFFD_FEATURE_EVENT_REMAP | \
			 UFFD_FEATURE_EVENT_REMOVE | UFFD_FEATURE_EVENT_UNMAP)

/* A run of pages of the image: where they are now, where their data is. */
struct lazy_ent {
	uint64_t addr;
	uint64_t nr;
	uint64_t off;		/* of the data in the image file */
	uint64_t first;		/* index of its first page in the bitmaps */
	struct img_pages *pg;	/* its record (a run may be part of one) */
	int huge;		/* its VMA had huge pages: collapse it */
};

/* A slot of the cache: a record read whole, or any pages. */
struct lazy_buf {
	uint8_t *p;		/* LAZY_BUF bytes */
	uint64_t rec;		/* the offset of the record p holds + 1, or 0:
				 * a pre-copy's record is in many pieces
				 * (img_pages), one record for all */
	uint64_t len;		/* bytes of it there, from its start */
	uint64_t used;		/* when last handed out */
};

/* One mm: a process of the tree, or one forked since. */
struct lazy_space {
	int uffd;
	int pidfd;		/* of pid, for MADV_COLLAPSE; or -1 */
	pid_t pid;		/* 0 for a fork's: unknown */
	struct lazy_ent *ents;	/* sorted by addr */
	uint32_t nr_ents;
	uint64_t nr_pages;
	uint8_t *copied;	/* pages put in place */
	uint8_t *dropped;	/* removed or unmapped by the process */
	uint64_t cursor;	/* the pull thread's next page */
	uint32_t hint;		/* the ent the pull found last */
	int pulled;		/* every page copied or dropped, or mm gone */
	/* faults served a page, their surroundings not yet (drain) */
	uint64_t later[LAZY_LATER];
	uint32_t nr_later;
};

#ifndef MADV_COLLAPSE
#define MADV_COLLAPSE	25	/* Linux 6.1 */
#endif

struct lazy_server {
	int img_fd;
	struct lazy_remote *remote;	/* the image is on a ckpt serve */
	const char *name;	/* of the image, for messages */
	long ps;
	uint64_t huge;		/* the host's huge page size */
	pthread_mutex_t lock;
	struct lazy_space *spaces[LAZY_SPACES];
	int nr;
	pthread_t fault_thr, pull_thr;
	int running;
	atomic_int sealed;	/* no space of the tree is added any more */
	atomic_int stop;
	atomic_int failed;
	atomic_int pull_go;	/* the tree runs: pull (not before, so that
				 * the pull does not slow its making) */
	atomic_int fault_waits;	/* the fault thread wants the lock: the
				 * pull steps back (a mutex is not fair: the
				 * pull took it again at once, the process
				 * waited on its faults until the pull was
				 * over, 5-15 s a GiB) */
	int wake_fd;		/* an eventfd: stop, or sealed */
	struct lazy_buf slot[LAZY_SLOTS];	/* under lock */
	uint64_t clock;		/* of the slots' use */
	/* --trust-pages (a local image): pages read as they are, without
	 * their record's CRC: only the pages asked for */
	int trusted;
	/* a local image: a bit per page of the file, set at the offset of
	 * each record whose CRC was checked (records are more than a page
	 * apart), whichever of its pieces asked for it */
	uint8_t *checked;
	uint64_t checked_bits;
};

static int bit(const uint8_t *b, uint64_t i)
{
	return b[i / 8] & (1 << (i % 8));
}

static void set_bits(uint8_t *b, uint64_t from, uint64_t to)
{
	for (; from < to; from++)
		b[from / 8] |= 1 << (from % 8);
}

static void space_free(struct lazy_space *s)
{
	if (!s)
		return;
	if (s->uffd >= 0)
		close(s->uffd);
	if (s->pidfd >= 0)
		close(s->pidfd);
	free(s->ents);
	free(s->copied);
	free(s->dropped);
	free(s);
}

static struct lazy_space *space_new(uint32_t nr_ents, uint64_t nr_pages)
{
	struct lazy_space *s = calloc(1, sizeof(*s));
	size_t bytes = nr_pages / 8 + 1;

	if (!s)
		return NULL;
	s->uffd = -1;
	s->pidfd = -1;
	s->ents = calloc(nr_ents + 2, sizeof(*s->ents));
	s->copied = calloc(1, bytes);
	s->dropped = calloc(1, bytes);
	s->nr_pages = nr_pages;
	if (!s->ents || !s->copied || !s->dropped) {
		space_free(s);
		return NULL;
	}
	return s;
}

static int by_addr(const void *a, const void *b)
{
	const struct lazy_ent *x = a, *y = b;

	return x->addr < y->addr ? -1 : x->addr > y->addr;
}

/* The ent that holds addr, or NULL. */
static struct lazy_ent *ent_at(struct lazy_space *s, uint64_t addr, long ps)
{
	uint32_t lo = 0, hi = s->nr_ents;

	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;
		struct lazy_ent *e = &s->ents[mid];

		if (addr < e->addr)
			hi = mid;
		else if (addr >= e->addr + e->nr * ps)
			lo = mid + 1;
		else
			return e;
	}
	return NULL;
}

static int ent_has_page(const struct lazy_ent *e, uint64_t i)
{
	return i >= e->first && i < e->first + e->nr;
}

/*
 * The ent that holds page index i (the pull thread's order). That order
 * is the array's until a remap: the ent found last or the next one, else
 * a search of all. (A search of all each step made the pull of a
 * pre-copy's image, tens of thousands of runs, quadratic: 18 s a GiB
 * with the lock held, and the process's faults waiting on it.)
 */
static struct lazy_ent *ent_of_page(struct lazy_space *s, uint64_t i)
{
	uint32_t k;

	for (k = s->hint; k < s->nr_ents && k < s->hint + 2; k++)
		if (ent_has_page(&s->ents[k], i))
			goto found;
	for (k = 0; k < s->nr_ents; k++)
		if (ent_has_page(&s->ents[k], i))
			goto found;
	return NULL;
found:
	s->hint = k;
	return &s->ents[k];
}

/* Pages of [start, end) in s's runs: f(s, first, last) for each piece. */
static void for_range(struct lazy_space *s, uint64_t start, uint64_t end,
		      long ps, uint8_t *b)
{
	uint32_t k;

	for (k = 0; k < s->nr_ents; k++) {
		struct lazy_ent *e = &s->ents[k];
		uint64_t a = e->addr > start ? e->addr : start;
		uint64_t z = e->addr + e->nr * ps < end ? e->addr + e->nr * ps
							 : end;

		if (a < z)
			set_bits(b, e->first + (a - e->addr) / ps,
				 e->first + (z - e->addr + ps - 1) / ps);
	}
}

static void wake(struct lazy_space *s, uint64_t addr, long ps)
{
	struct uffdio_range r = { .start = addr, .len = ps };

	ioctl(s->uffd, UFFDIO_WAKE, &r);
}

/* e's record is read whole (and fits a slot) */
static int whole(const struct lazy_server *sv, const struct lazy_ent *e)
{
	const struct img_pages *pg = e->pg;

	return pg->data_off - pg->rec_off + pg->nr_pages * sv->ps + 4 <=
	       LAZY_BUF(sv->ps);
}

/* The slot that holds pg's record, or the least recently used one. */
static struct lazy_buf *slot_for(struct lazy_server *sv,
				 const struct img_pages *pg)
{
	struct lazy_buf *b = &sv->slot[0];
	int k;

	for (k = 0; k < LAZY_SLOTS; k++) {
		if (pg && sv->slot[k].rec == pg->rec_off + 1)
			return &sv->slot[k];
		if (sv->slot[k].used < b->used)
			b = &sv->slot[k];
	}
	return b;
}

/*
 * pg's record, unchecked, into buf and checked: from the image, or (from
 * a server) fetched into its place first and its data dropped there once
 * in buf: it stays unchecked, to be fetched again if it is needed again.
 */
static int read_checked(struct lazy_server *sv, struct img_pages *pg,
			uint8_t *buf)
{
	uint64_t k = pg->rec_off / sv->ps;

	if (sv->remote && restore_remote_fetch(sv->remote, sv->img_fd,
					       pg->rec_off, sv->ps))
		return -1;
	if (img_pages_check(sv->img_fd, sv->name, pg, sv->ps, buf))
		return -1;
	if (sv->remote) {
		restore_remote_drop(sv->img_fd, pg, sv->ps);
		return 0;
	}
	pg->unchecked = 0;
	if (k < sv->checked_bits)
		set_bits(sv->checked, k, k + 1);
	return 0;
}

/* pg's record was checked already, by way of any of its pieces. */
static int rec_checked(const struct lazy_server *sv,
		       const struct img_pages *pg)
{
	uint64_t k = pg->rec_off / sv->ps;

	return !pg->unchecked ||
	       (!sv->remote && k < sv->checked_bits && bit(sv->checked, k));
}

/*
 * The data of pages [i, j) of e (at most PULL_PAGES), under the lock. A
 * record that fits a slot is read whole, its CRC checked (once: the reader
 * may have left it unchecked, IMG_READ_DEFER_PAGES) before any of its
 * pages is handed out, and kept for the next pages. A larger one, checked
 * up front, is read piece by piece.
 */
static const uint8_t *fetch(struct lazy_server *sv, struct lazy_ent *e,
			    uint64_t i, uint64_t j)
{
	struct img_pages *pg = e->pg;
	uint64_t at = e->off + i * sv->ps, len = (j - i) * sv->ps;
	uint64_t rec = pg->data_off - pg->rec_off + pg->nr_pages * sv->ps;
	struct lazy_buf *b = slot_for(sv, whole(sv, e) ? pg : NULL);
	int check;

	b->used = ++sv->clock;
	if (b->rec == pg->rec_off + 1 && rec <= b->len)
		return b->p + (at - pg->rec_off);
	b->rec = 0;
	if (!whole(sv, e) || sv->trusted) {
		if (pread_full(sv->img_fd, b->p, len, at)) {
			pr_perror("lazy: can't read the pages at %llx from "
				  "the image", (unsigned long long)
				  (e->addr + i * sv->ps));
			return NULL;
		}
		return b->p;
	}
	check = !rec_checked(sv, pg);
	if (check ? read_checked(sv, pg, b->p) :
	    pread_full(sv->img_fd, b->p, rec, pg->rec_off)) {
		if (!check)
			pr_perror("lazy: can't read the pages at %llx from "
				  "the image", (unsigned long long)pg->addr);
		return NULL;
	}
	/* checked: the whole record, with the pieces after pg's */
	b->rec = pg->rec_off + 1;
	b->len = check ? img_pages_rec_len(b->p) : rec;
	return b->p + (at - pg->rec_off);
}

/*
 * Copy pages [i, j) of ent e into place. 0; 1 when the kernel asks to try
 * again later (an event of the process is pending); -1 when the image
 * can't be read or the kernel refused: the tree can't go on. Pages already
 * there, or whose VMA is gone, count as done; only those in place are
 * marked copied. A range the process's VMAs no longer cover whole (it
 * unmapped or split some) fails as a whole: it is tried page by page.
 */
static int copy_pages(struct lazy_server *sv, struct lazy_space *s,
		      struct lazy_ent *e, uint64_t i, uint64_t j)
{
	uint64_t len = (j - i) * sv->ps, done = 0, n, first;
	struct uffdio_copy cp;
	const uint8_t *buf = fetch(sv, e, i, j);
	int one = 0;

	if (!buf)
		return -1;
	while (done < len) {
		memset(&cp, 0, sizeof(cp));
		cp.dst = e->addr + i * sv->ps + done;
		cp.src = (uint64_t)(buf + done);
		cp.len = one ? (uint64_t)sv->ps : len - done;
		first = e->first + i + done / sv->ps;
		if (!ioctl(s->uffd, UFFDIO_COPY, &cp))
			n = cp.len;
		else if (cp.copy > 0)
			n = cp.copy;
		else if (errno == EAGAIN)
			break;
		else if (errno == EEXIST)
			n = sv->ps;	/* there already */
		else if (errno == ESRCH)
			return 0;	/* the process is gone */
		else if ((errno == ENOENT || errno == EFAULT) && !one) {
			one = 1;
			continue;
		} else if (errno == ENOENT || errno == EFAULT) {
			done += sv->ps;	/* unmapped: nothing to fill */
			continue;
		} else {
			pr_perror("lazy: can't put the page at %llx in process %d",
				  (unsigned long long)cp.dst, s->pid);
			return -1;
		}
		set_bits(s->copied, first, first + n / sv->ps);
		done += n;
	}
	return done < len;
}

/* Copy the pages of [i, j) of e that are neither copied nor dropped (or,
 * with all, just not dropped). As copy_pages. */
static int copy_missing(struct lazy_server *sv, struct lazy_space *s,
			struct lazy_ent *e, uint64_t i, uint64_t j, int all)
{
	uint64_t k;
	int r;

	while (i < j) {
		for (; i < j; i++)
			if (!bit(s->dropped, e->first + i) &&
			    (all || !bit(s->copied, e->first + i)))
				break;
		for (k = i; k < j; k++)
			if (bit(s->dropped, e->first + k) ||
			    (!all && bit(s->copied, e->first + k)))
				break;
		if (i < k && (r = copy_pages(sv, s, e, i, k)))
			return r;
		i = k;
	}
	return 0;
}

/*
 * The other runs of addr's FAULT_AROUND block, after e's: a pre-copy's
 * image cuts memory into runs of a few pages (the pages of each round
 * replace some of the round before), and a fault a run made a process
 * that walks its memory wait on a hundred faults a MiB. 0, or -1.
 */
static int fill_around(struct lazy_server *sv, struct lazy_space *s,
		       struct lazy_ent *e, uint64_t addr)
{
	uint64_t span = FAULT_AROUND * (uint64_t)sv->ps, a, z;
	uint64_t lo = addr - addr % span, hi = lo + span;
	struct lazy_ent *f = e, *end = s->ents + s->nr_ents;
	int r = 0;

	while (f > s->ents && f[-1].addr + f[-1].nr * sv->ps > lo)
		f--;
	for (; !r && f < end && f->addr < hi; f++) {
		a = f->addr > lo ? f->addr : lo;
		z = f->addr + f->nr * sv->ps < hi ? f->addr + f->nr * sv->ps :
		    hi;
		if (f != e && a < z)
			r = copy_missing(sv, s, f, (a - f->addr) / sv->ps,
					 (z - f->addr) / sv->ps, 0);
	}
	return r < 0 ? -1 : 0;	/* 1: an event first, the rest later */
}

/* What a fault at addr fills after its page: the pages about it and
 * the rest of its MiB. 0, or -1. */
static int serve_around(struct lazy_server *sv, struct lazy_space *s,
			uint64_t addr)
{
	struct lazy_ent *e = ent_at(s, addr, sv->ps);
	uint64_t i, lo, hi;
	int r;

	if (!e)
		return 0;	/* unmapped or moved since */
	i = (addr - e->addr) / sv->ps;
	lo = i > FAULT_PAGES / 2 ? i - FAULT_PAGES / 2 : 0;
	hi = lo + FAULT_PAGES < e->nr ? lo + FAULT_PAGES : e->nr;
	/* a record read whole is copied whole: read once, not once per
	 * fault (faults of many threads and processes take turns at the
	 * one buffer) */
	if (whole(sv, e)) {
		lo = 0;
		hi = e->nr;
	}
	r = copy_missing(sv, s, e, lo, hi, 0);
	if (!r)
		r = fill_around(sv, s, e, addr);
	return r < 0 ? -1 : 0;
}

static int serve_fault(struct lazy_server *sv, struct lazy_space *s,
		       uint64_t addr)
{
	struct lazy_ent *e = ent_at(s, addr, sv->ps);
	struct uffdio_zeropage z;
	uint64_t i;
	int r;

	if (e && !bit(s->dropped, e->first + (addr - e->addr) / sv->ps)) {
		i = (addr - e->addr) / sv->ps;
		/* the faulting page first: the thread waits for it only;
		 * the rest once no other fault waits (drain) */
		r = copy_missing(sv, s, e, i, i + 1, 1);
		if (r < 0)
			return -1;
		wake(s, addr, sv->ps);	/* if it was there already */
		if (s->nr_later < LAZY_LATER) {
			s->later[s->nr_later++] = addr;
			return 0;
		}
		return serve_around(sv, s, addr);
	}
	memset(&z, 0, sizeof(z));
	z.range.start = addr;
	z.range.len = sv->ps;
	if (ioctl(s->uffd, UFFDIO_ZEROPAGE, &z) && errno != EEXIST &&
	    errno != EAGAIN && errno != ENOENT && errno != ESRCH) {
		pr_perror("lazy: can't put a zero page at %llx in process %d",
			  (unsigned long long)addr, s->pid);
		return -1;
	}
	wake(s, addr, sv->ps);
	return 0;
}

/*
 * mremap moved [from, from + len) to `to': the runs there move with it
 * (split where they cross its ends); what was at `to' before is gone.
 */
static void space_remap(struct lazy_space *s, uint64_t from, uint64_t to,
			uint64_t len, long ps)
{
	struct lazy_ent *n;
	uint32_t k, m = 0;

	for_range(s, to, to + len, ps, s->dropped);
	n = calloc(s->nr_ents * 3 + 1, sizeof(*n));
	if (!n)
		return;	/* the pages left behind fault as zero: said below */
	for (k = 0; k < s->nr_ents; k++) {
		struct lazy_ent e = s->ents[k], *o;
		uint64_t end = e.addr + e.nr * ps, a, z;

		a = e.addr > from ? e.addr : from;
		z = end < from + len ? end : from + len;
		if (a >= z) {
			n[m++] = e;
			continue;
		}
		if (e.addr < a) {	/* the part before */
			n[m] = e;
			n[m++].nr = (a - e.addr) / ps;
		}
		o = &n[m++];		/* the part moved */
		o->addr = a - from + to;
		o->nr = (z - a) / ps;
		o->off = e.off + (a - e.addr);
		o->first = e.first + (a - e.addr) / ps;
		o->pg = e.pg;
		if (z < end) {		/* the part after */
			n[m].addr = z;
			n[m].nr = (end - z) / ps;
			n[m].off = e.off + (z - e.addr);
			n[m].pg = e.pg;
			n[m++].first = e.first + (z - e.addr) / ps;
		}
	}
	qsort(n, m, sizeof(*n), by_addr);
	free(s->ents);
	s->ents = n;
	s->nr_ents = m;
}

/* A fork of s's process: the same runs, served from a new userfaultfd.
 * Pages copied into s may have been after the fork: copied starts empty. */
static int space_fork(struct lazy_server *sv, struct lazy_space *s, int ufd)
{
	struct lazy_space *f;

	if (sv->nr == LAZY_SPACES) {
		pr_err("lazy: more than %d processes to serve", LAZY_SPACES);
		close(ufd);
		return -1;
	}
	f = space_new(s->nr_ents, s->nr_pages);
	if (!f) {
		close(ufd);
		pr_err("out of memory");
		return -1;
	}
	f->uffd = ufd;
	memcpy(f->ents, s->ents, s->nr_ents * sizeof(*s->ents));
	f->nr_ents = s->nr_ents;
	memcpy(f->dropped, s->dropped, s->nr_pages / 8 + 1);
	sv->spaces[sv->nr++] = f;
	return 0;
}

static int handle_msg(struct lazy_server *sv, struct lazy_space *s,
		      const struct uffd_msg *m)
{
	switch (m->event) {
	case UFFD_EVENT_PAGEFAULT:
		return serve_fault(sv, s, m->arg.pagefault.address &
				   ~(uint64_t)(sv->ps - 1));
	case UFFD_EVENT_REMOVE:
	case UFFD_EVENT_UNMAP:
		for_range(s, m->arg.remove.start, m->arg.remove.end, sv->ps,
			  s->dropped);
		return 0;
	case UFFD_EVENT_REMAP:
		space_remap(s, m->arg.remap.from, m->arg.remap.to,
			    m->arg.remap.len, sv->ps);
		return 0;
	case UFFD_EVENT_FORK:
		return space_fork(sv, s, m->arg.fork.ufd);
	}
	return 0;
}

/*
 * Read and handle what s's userfaultfd has, under the lock; the faults'
 * surroundings one at a time once none is waiting, so that a thread
 * faulting page after page here and there waits for its pages, not for
 * a MiB around each of the ones before. 0, or -1.
 */
static int drain(struct lazy_server *sv, struct lazy_space *s)
{
	struct uffd_msg m[LAZY_MSGS];
	ssize_t r;
	int i;

	for (;;) {
		r = read(s->uffd, m, sizeof(m));
		if (r < 0 && errno == EAGAIN && s->nr_later) {
			if (serve_around(sv, s, s->later[0]))
				return -1;
			memmove(s->later, s->later + 1,
				--s->nr_later * sizeof(*s->later));
			continue;
		}
		if (r < 0 && (errno == EAGAIN || errno == EINTR))
			return 0;
		if (r < 0) {
			pr_perror("lazy: can't read the page faults of %d",
				  s->pid);
			return -1;
		}
		for (i = 0; i < r / (ssize_t)sizeof(m[0]); i++)
			if (handle_msg(sv, s, &m[i]))
				return -1;
	}
}

static int all_pulled(struct lazy_server *sv)
{
	int i;

	for (i = 0; i < sv->nr; i++)
		if (!sv->spaces[i]->pulled)
			return 0;
	return 1;
}

/* Wakes the fault thread out of its poll: to stop, or to see all done. */
static void wake_fault_thread(struct lazy_server *sv)
{
	uint64_t one = 1;

	(void)!write(sv->wake_fd, &one, sizeof(one));
}

static void fail(struct lazy_server *sv)
{
	atomic_store(&sv->failed, 1);
	atomic_store(&sv->stop, 1);
	wake_fault_thread(sv);
}

static void *fault_thread(void *arg)
{
	struct lazy_server *sv = arg;
	struct pollfd pf[LAZY_SPACES + 1];
	uint64_t v;
	int i, n, done = 0;

	while (!atomic_load(&sv->stop) && !done) {
		pthread_mutex_lock(&sv->lock);
		n = sv->nr;
		for (i = 0; i < n; i++) {
			pf[i].fd = sv->spaces[i]->uffd;
			pf[i].events = POLLIN;
		}
		pthread_mutex_unlock(&sv->lock);
		pf[n].fd = sv->wake_fd;
		pf[n].events = POLLIN;
		if (poll(pf, n + 1, 20) < 0 && errno != EINTR) {
			pr_perror("lazy: can't wait for page faults");
			fail(sv);
			break;
		}
		(void)!read(sv->wake_fd, &v, sizeof(v));
		atomic_fetch_add(&sv->fault_waits, 1);
		pthread_mutex_lock(&sv->lock);
		atomic_fetch_sub(&sv->fault_waits, 1);
		for (i = 0; i < n; i++)
			if (drain(sv, sv->spaces[i])) {
				fail(sv);
				break;
			}
		/* drained just now: nothing more can be asked of us */
		done = atomic_load(&sv->sealed) && all_pulled(sv);
		pthread_mutex_unlock(&sv->lock);
	}
	return NULL;
}

/*
 * UFFDIO_COPY makes 4 KiB pages only. Where the VMA had huge pages, a
 * record that is one whole huge page (the writer splits at 2 MiB of the
 * address), once all of it is in place, is collapsed into one: the
 * kernel collapses a userfaultfd-armed range only when no page of it is
 * missing. The address, or 0.
 */
static uint64_t collapsible(struct lazy_server *sv, struct lazy_space *s,
			    const struct lazy_ent *e)
{
	uint64_t k;

	if (!e->huge || s->pidfd < 0 || e->addr % sv->huge ||
	    e->nr * sv->ps != sv->huge)
		return 0;
	for (k = e->first; k < e->first + e->nr; k++)
		if (!bit(s->copied, k) || bit(s->dropped, k))
			return 0;
	return e->addr;
}

static void collapse(struct lazy_server *sv, int pidfd, uint64_t addr)
{
	struct iovec iov = { .iov_base = (void *)addr, .iov_len = sv->huge };

	if (syscall(SYS_process_madvise, pidfd, &iov, 1, MADV_COLLAPSE, 0) < 0)
		pr_debug("lazy: can't collapse %llx into a huge page: %s",
			 (unsigned long long)addr, strerror(errno));
}

/* One step of the pull on s, under the lock: 0, or -1; *huge what to
 * collapse after, or 0. */
static int pull_step(struct lazy_server *sv, struct lazy_space *s,
		     uint64_t *huge)
{
	struct lazy_ent *e = ent_of_page(s, s->cursor);
	uint64_t i, j;
	int r;

	if (!e) {		/* no ents: nothing */
		s->cursor = s->nr_pages;
		s->pulled = 1;
		return 0;
	}
	i = s->cursor - e->first;
	j = i + PULL_PAGES < e->nr ? i + PULL_PAGES : e->nr;
	r = copy_missing(sv, s, e, i, j, 0);
	if (r < 0)
		return -1;
	if (r == 0) {
		s->cursor = e->first + j;
		s->pulled = s->cursor >= s->nr_pages;
		*huge = j == e->nr ? collapsible(sv, s, e) : 0;
	}
	return r;
}

static void *pull_thread(void *arg)
{
	struct lazy_server *sv = arg;
	const char *gate = getenv("CKPT_LAZY_GATE");
	uint64_t huge;
	int i = 0, r, pidfd;

	/* the tests': no pull until that file exists, so that what the
	 * process does before meets pages still missing */
	while (((gate && access(gate, F_OK)) || !atomic_load(&sv->pull_go)) &&
	       !atomic_load(&sv->stop))
		usleep(gate ? 10000 : 1000);
	while (!atomic_load(&sv->stop)) {
		while (atomic_load(&sv->fault_waits) && !atomic_load(&sv->stop))
			sched_yield();
		pthread_mutex_lock(&sv->lock);
		while (i < sv->nr && sv->spaces[i]->pulled)
			i++;
		huge = 0;
		pidfd = i < sv->nr ? sv->spaces[i]->pidfd : -1;
		r = i < sv->nr ? pull_step(sv, sv->spaces[i], &huge) : 2;
		pthread_mutex_unlock(&sv->lock);
		/* not under the lock: it may wait for the process's mm */
		if (huge)
			collapse(sv, pidfd, huge);
		if (r < 0) {
			fail(sv);
			break;
		}
		if (r == 1)
			usleep(200);	/* an event is pending: let it be read */
		if (r == 2) {
			if (atomic_load(&sv->failed))
				break;
			wake_fault_thread(sv);	/* maybe all done */
			usleep(2000);	/* a fork may come: the fault thread
					 * says when all is done */
			i = 0;
		}
	}
	return NULL;
}

static int start_threads(struct lazy_server *sv)
{
	atomic_store(&sv->stop, 0);
	if (pthread_create(&sv->fault_thr, NULL, fault_thread, sv))
		return -1;
	if (pthread_create(&sv->pull_thr, NULL, pull_thread, sv)) {
		atomic_store(&sv->stop, 1);
		pthread_join(sv->fault_thr, NULL);
		return -1;
	}
	sv->running = 1;
	return 0;
}

static void stop_threads(struct lazy_server *sv)
{
	if (!sv->running)
		return;
	atomic_store(&sv->stop, 1);
	wake_fault_thread(sv);
	pthread_join(sv->fault_thr, NULL);
	pthread_join(sv->pull_thr, NULL);
	sv->running = 0;
}

static void slots_free(struct lazy_server *sv)
{
	int k;

	for (k = 0; k < LAZY_SLOTS; k++)
		free(sv->slot[k].p);
	free(sv->checked);
}

static struct lazy_server *server(struct restore_run *run)
{
	struct lazy_server *sv = run->lazy_srv;
	int k, nomem = 0;

	if (sv)
		return sv;
	sv = calloc(1, sizeof(*sv));
	if (!sv)
		return NULL;
	sv->ps = run->host.page_size;
	sv->huge = run->host.huge_size;
	sv->name = run->path;
	sv->remote = run->remote;
	sv->trusted = run->trust_pages && !run->remote;
	sv->img_fd = dup(run->img_fd);	/* run_free() closes run's */
	sv->wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	for (k = 0; k < LAZY_SLOTS; k++)
		if (!(sv->slot[k].p = malloc(LAZY_BUF(sv->ps))))
			nomem = 1;
	sv->checked_bits = run->img->size / sv->ps + 1;
	if (!sv->remote &&
	    !(sv->checked = calloc(sv->checked_bits / 8 + 1, 1)))
		nomem = 1;
	pthread_mutex_init(&sv->lock, NULL);
	if (sv->img_fd < 0 || sv->wake_fd < 0 || nomem) {
		slots_free(sv);
		if (sv->img_fd >= 0)
			close(sv->img_fd);
		if (sv->wake_fd >= 0)
			close(sv->wake_fd);
		free(sv);
		return NULL;
	}
	run->lazy_srv = sv;
	return sv;
}

int restore_lazy_vma(const struct restore_proc *c, const struct img_vma *v)
{
	return c->run->lazy && !v->shm && !v->nr_guards &&
	       (v->flags & IMG_VMA_ANON) &&
	       !(v->flags & (IMG_VMA_SHARED | IMG_VMA_FILE | IMG_VMA_GHOST |
			     IMG_VMA_GROWSDOWN | IMG_VMA_LOCKED |
			     IMG_VMA_DROPPABLE | IMG_VMA_VDSO | IMG_VMA_VVAR));
}

int restore_lazy_check(struct restore_run *run)
{
	struct restore_proc c = { .run = run };
	struct img_process *p;
	uint8_t *buf = NULL;
	uint32_t i, k;
	int ret = 0;

	for (i = 0; i < run->img->nr_procs && !ret; i++) {
		p = &run->img->procs[i];
		c.proc = p;
		for (k = 0; k < p->nr_pages && !ret; k++) {
			struct img_pages *pg = &p->pages[k];

			if (!pg->unchecked || restore_lazy_vma(&c,
				&p->vmas[restore_vma_of(p, pg->addr)]))
				continue;
			if (!buf && !(buf = malloc(IMG_PAGES_REC_MAX(
						run->img->hdr.page_size)))) {
				pr_err("out of memory");
				ret = -1;
			} else if ((run->remote && restore_remote_fetch(
					run->remote, run->img_fd, pg->rec_off,
					run->img->hdr.page_size)) ||
				   img_pages_check(run->img_fd, run->path, pg,
						   run->img->hdr.page_size, buf)) {
				ret = -1;
			}
			pg->unchecked = 0;
		}
	}
	free(buf);
	return ret;
}

/* v had huge pages (as far as the image tells): asked for, or THP always */
static int had_huge(const struct restore_proc *c, const struct img_vma *v)
{
	int thp = c->run->host.thp;

	return c->run->host.huge_size && thp != THP_NEVER &&
	       !(v->advice & IMG_ADV_NOHUGEPAGE) &&
	       ((v->advice & IMG_ADV_HUGEPAGE) || thp == THP_ALWAYS);
}

/* The lazy pages of c's image into a new space (no uffd yet). */
static struct lazy_space *space_of(struct restore_proc *c)
{
	const struct img_process *p = c->proc;
	struct lazy_space *s;
	uint64_t total = 0;
	uint32_t i, n = 0;

	for (i = 0; i < p->nr_pages; i++)
		if (restore_lazy_vma(c, &p->vmas[restore_vma_of(p,
						p->pages[i].addr)])) {
			n++;
			total += p->pages[i].nr_pages;
		}
	s = space_new(n, total);
	if (!s)
		return NULL;
	s->pid = c->child;
	for (i = 0, total = 0; i < p->nr_pages; i++) {
		struct img_pages *pg = &p->pages[i];

		if (!restore_lazy_vma(c, &p->vmas[restore_vma_of(p, pg->addr)]))
			continue;
		s->ents[s->nr_ents].addr = pg->addr;
		s->ents[s->nr_ents].nr = pg->nr_pages;
		s->ents[s->nr_ents].off = pg->data_off;
		s->ents[s->nr_ents].pg = pg;
		s->ents[s->nr_ents++].huge = had_huge(c,
				&p->vmas[restore_vma_of(p, pg->addr)]);
	}
	/* the image's runs mostly ascend already (a migration's tens of
	 * thousands do): sorted only if not */
	for (i = 1; i < s->nr_ents && s->ents[i - 1].addr < s->ents[i].addr;
	     i++)
		;
	if (i < s->nr_ents)
		qsort(s->ents, s->nr_ents, sizeof(*s->ents), by_addr);
	/* the pull's order (ent_of_page) is the address order */
	for (i = 0, total = 0; i < s->nr_ents; i++) {
		s->ents[i].first = total;
		total += s->ents[i].nr;
	}
	return s;
}

/* A userfaultfd made by the child, now ours (and no longer the child's). */
static int take_uffd(struct restore_proc *c)
{
	long rfd = -1, r;
	int pfd, fd = -1;

	if (rcall(c, 0, "create a userfaultfd", &rfd, SYS_userfaultfd,
		  O_CLOEXEC | O_NONBLOCK, 0, 0, 0, 0, 0))
		return -1;
	pfd = syscall(SYS_pidfd_open, c->child, 0);
	if (pfd >= 0) {
		fd = syscall(SYS_pidfd_getfd, pfd, (int)rfd, 0);
		close(pfd);
	}
	if (fd < 0)
		pr_perror("can't take the userfaultfd of %d", c->child);
	if (inject_syscall(c->ip, 0, &r, SYS_close, rfd, 0, 0, 0, 0, 0) && fd >= 0) {
		close(fd);
		return -1;
	}
	return fd;
}

static int register_vmas(struct restore_proc *c, int uffd)
{
	struct uffdio_api api = { .api = UFFD_API, .features = LAZY_FEATURES };
	struct uffdio_register reg;
	uint32_t i;

	if (ioctl(uffd, UFFDIO_API, &api)) {
		pr_perror("can't set up the userfaultfd of %d", c->child);
		return -1;
	}
	for (i = 0; i < c->proc->nr_vmas; i++) {
		const struct img_vma *v = &c->proc->vmas[i];

		if (!restore_lazy_vma(c, v) || !restore_vma_has_pages(c, v))
			continue;
		memset(&reg, 0, sizeof(reg));
		reg.range.start = v->start;
		reg.range.len = v->end - v->start;
		reg.mode = UFFDIO_REGISTER_MODE_MISSING;
		if (ioctl(uffd, UFFDIO_REGISTER, &reg)) {
			pr_perror("can't register %llx-%llx of %d with userfaultfd",
				  (unsigned long long)v->start,
				  (unsigned long long)v->end, c->child);
			return -1;
		}
	}
	return 0;
}

int restore_lazy_add(struct restore_proc *c)
{
	struct lazy_server *sv = server(c->run);
	struct lazy_space *s;

	if (!sv) {
		pr_err("out of memory");
		return -1;
	}
	s = space_of(c);
	if (!s) {
		pr_err("out of memory");
		return -1;
	}
	if (!s->nr_pages) {
		space_free(s);
		return 0;
	}
	s->uffd = take_uffd(c);
	s->pidfd = syscall(SYS_pidfd_open, c->child, 0);	/* -1: 4 KiB pages */
	/* before anything can fault: the guardian holds it from now on */
	if (s->uffd < 0 || register_vmas(c, s->uffd) ||
	    restore_guard_uffd(c->run, s->uffd)) {
		space_free(s);
		return -1;
	}
	pthread_mutex_lock(&sv->lock);
	sv->spaces[sv->nr++] = s;
	pthread_mutex_unlock(&sv->lock);
	if (!sv->running && start_threads(sv)) {
		pr_perror("can't start the threads of the lazy restore");
		return -1;
	}
	return 0;
}

/* Every initial process's pages in place, or -1 having killed them. */
static int finish(struct restore_run *run, struct lazy_server *sv)
{
	int i, ret = 0;

	atomic_store(&sv->sealed, 1);
	atomic_store(&sv->pull_go, 1);	/* the tree runs */
	wake_fault_thread(sv);
	if (sv->running) {
		pthread_join(sv->fault_thr, NULL);
		atomic_store(&sv->stop, 1);
		pthread_join(sv->pull_thr, NULL);
		sv->running = 0;
	}
	if (atomic_load(&sv->failed)) {
		for (i = 0; i < sv->nr; i++)
			if (sv->spaces[i]->pid > 0) {
				/* what failed was said: one error line */
				pr_info("lazy restore failed: killing %d",
					sv->spaces[i]->pid);
				kill(sv->spaces[i]->pid, SIGKILL);
			}
		ret = -1;
	}
	/* the guardian lets its duplicates go; ours close below */
	restore_guard_done(run);
	for (i = 0; i < sv->nr; i++)
		space_free(sv->spaces[i]);
	sv->nr = 0;
	return ret;
}

int restore_lazy_wait(struct restore_run *run)
{
	struct lazy_server *sv = run->lazy_srv;

	return sv ? finish(run, sv) : 0;
}

/*
 * --detach: a pager process takes over (the threads stop here and start
 * again there; faults wait meanwhile), and restore goes. The pager is out
 * of the terminal's session and holds no stdio, so that whoever reads
 * restore's output sees its end. 0 in restore, or -1 (tree killed).
 */
int restore_lazy_pager(struct restore_run *run)
{
	struct lazy_server *sv = run->lazy_srv;
	pid_t pid;
	int fd;

	if (!sv)
		return 0;
	stop_threads(sv);
	fflush(NULL);
	pid = fork();
	if (pid < 0) {
		pr_perror("can't start the pager");
		atomic_store(&sv->failed, 1);
		return finish(run, sv);
	}
	if (pid > 0) {
		pr_info("pager %d serves the pages left", pid);
		restore_guard_leave(run);	/* the pager tells it */
		return 0;
	}
	setsid();
	fd = open("/dev/null", O_RDWR);
	if (fd >= 0) {
		dup2(fd, 0);
		dup2(fd, 1);
		if (fd > 2)
			close(fd);
	}
	fault_point("lazy-pager");
	if (start_threads(sv))
		atomic_store(&sv->failed, 1);
	/* stderr stays: a failure is said where restore said its own */
	_exit(finish(run, sv) ? 1 : 0);
}

void restore_lazy_abort(struct restore_run *run)
{
	struct lazy_server *sv = run->lazy_srv;
	int i;

	if (!sv)
		return;
	stop_threads(sv);
	for (i = 0; i < sv->nr; i++)
		space_free(sv->spaces[i]);
	close(sv->img_fd);
	close(sv->wake_fd);
	slots_free(sv);
	pthread_mutex_destroy(&sv->lock);
	free(sv);
	run->lazy_srv = NULL;
}
