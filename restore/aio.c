/*
 * The AIO contexts of a process (AIO records, ckpt/dump-aio.c), made
 * again in it by remote system calls once its address space is in place
 * (main.c), each with its ring where it was and as it was.
 *
 * io_setup(max_reqs) makes the context and its ring somewhere; mremap
 * moves the ring to the image's address, and the kernel moves the
 * context's id with it (fs/aio.c: aio_ring_mremap; the id is the ring's
 * address). The kernel finds a context by its slot in the process's
 * table, which the ring's header names (lookup_ioctx), and gives a new
 * context the first free slot: contexts are made in the order of their
 * slots, a slot that was free then filled by a context destroyed at the
 * end. Such a filler's ring waits in restore's parking area (clear of
 * the image, child.c), where no ring is moved to: io_destroy unmaps the
 * ring where it is then.
 *
 * The ring's head is the program's to write, but the kernel completes
 * events at a tail of its own (ctx->tail) and counts the slots that
 * events not reaped hold. So the tail is brought where it was by
 * requests that complete at once (reads of 0 bytes of /dev/zero): head
 * events, reaped as user space may (the head moved to the tail), then
 * the events that were not reaped; only then are the ring's bytes
 * written back, the same events in the same places.
 */
#include <sys/mman.h>
#include <sys/syscall.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/aio_abi.h>
#include <stdlib.h>
#include <string.h>

#include "restore/restore.h"

/* the ring header's words (fs/aio.c: struct aio_ring) */
#define R_ID		0
#define R_NR		1
#define R_HEAD		2
#define R_TAIL		3

/* the scratch page: the new id, the path, the iocb pointers, iocbs */
#define S_ID		0
#define S_PATH		16
#define S_PTRS		64
#define S_IOCBS		512
#define BATCH		32

#define PARK_LEN	(32ULL << 20)	/* of the parking area: fillers */

struct aio_run {
	struct restore_proc *c;
	long zero;		/* /dev/zero in the process */
	uint64_t scratch;
	uint32_t made;		/* contexts made: the next one's slot */
	uint64_t *fillers;	/* contexts made only to fill a slot */
	uint32_t nr_fillers;
	uint64_t park;		/* where the next filler's ring goes */
};

static uint32_t img_word(const struct img_aio *a, int k)
{
	uint32_t v;

	memcpy(&v, a->data + k * sizeof(v), sizeof(v));
	return v;
}

static int ring_words(struct aio_run *r, uint64_t ring, uint32_t w[4])
{
	if (inject_read(r->c->ip, ring, w, 4 * sizeof(*w))) {
		pr_perror("can't read the AIO ring %llx of %d",
			  (unsigned long long)ring, r->c->child);
		return -1;
	}
	return 0;
}

/* n requests that complete at once, submitted on ctx in batches; with
 * reap, each batch reaped by moving the head to the tail */
static int complete(struct aio_run *r, uint64_t ctx, uint32_t n, int reap)
{
	struct iocb cb[BATCH];
	uint64_t ptr[BATCH];
	uint32_t w[4], k, m;
	long got;

	memset(cb, 0, sizeof(cb));
	for (k = 0; k < BATCH; k++) {
		cb[k].aio_lio_opcode = IOCB_CMD_PREAD;
		cb[k].aio_fildes = r->zero;
		cb[k].aio_buf = r->scratch;	/* 0 bytes */
		ptr[k] = r->scratch + S_IOCBS + k * sizeof(cb[0]);
	}
	if (inject_write(r->c->ip, r->scratch + S_IOCBS, cb, sizeof(cb)) ||
	    inject_write(r->c->ip, r->scratch + S_PTRS, ptr, sizeof(ptr)))
		return -1;
	for (; n; n -= m) {
		m = n < BATCH ? n : BATCH;
		if (rcall(r->c, 0, "complete AIO requests", &got,
			  SYS_io_submit, ctx, m, r->scratch + S_PTRS, 0, 0, 0))
			return -1;
		if (got != (long)m) {
			pr_err("can't complete AIO requests in %d: %ld of %u",
			       r->c->child, got, m);
			return -1;
		}
		if (!reap)
			continue;
		if (ring_words(r, ctx, w) ||
		    inject_write(r->c->ip, ctx + R_HEAD * sizeof(w[0]),
				 &w[R_TAIL], sizeof(w[0])))
			return -1;
	}
	return 0;
}

/* A new context of n requests; its id, its ring's header in w. */
static int make(struct aio_run *r, uint32_t n, uint64_t *ctx, uint32_t w[4])
{
	*ctx = 0;
	if (inject_write(r->c->ip, r->scratch + S_ID, ctx, sizeof(*ctx)) ||
	    rcall(r->c, 0, "make an AIO context", NULL, SYS_io_setup, n,
		  r->scratch + S_ID, 0, 0, 0, 0) ||
	    inject_read(r->c->ip, r->scratch + S_ID, ctx, sizeof(*ctx)))
		return -1;
	r->made++;
	return ring_words(r, *ctx, w);
}

/* A context that fills the next slot, its ring parked. */
static int make_filler(struct aio_run *r)
{
	uint64_t ps = r->c->run->host.page_size, ctx, len, *f;
	uint32_t w[4];

	f = realloc(r->fillers, (r->nr_fillers + 1) * sizeof(*f));
	if (!f)
		return -1;
	r->fillers = f;
	if (make(r, 1, &ctx, w))
		return -1;
	r->fillers[r->nr_fillers++] = ctx;
	len = ((w[R_NR] + 1ULL) * IMG_AIO_HDR + ps - 1) / ps * ps;
	if (r->park + len > r->c->tmp_area + PARK_LEN) {
		pr_err("can't make the AIO contexts of %d again: too many free slots among them",
		       r->c->child);
		return -1;
	}
	if (rcall(r->c, 0, "move an AIO ring", NULL, SYS_mremap, ctx, len,
		  len, MREMAP_MAYMOVE | MREMAP_FIXED, r->park, 0))
		return -1;
	r->fillers[r->nr_fillers - 1] = r->park;	/* the id moves */
	r->park += len;
	return 0;
}

/* A new context in the slot that a had; its id. */
static int make_in_slot(struct aio_run *r, const struct img_aio *a,
			uint64_t *ctx)
{
	uint32_t want = img_word(a, R_ID), w[4];

	while (r->made < want)
		if (make_filler(r))
			return -1;
	if (make(r, a->max_reqs, ctx, w))
		return -1;
	if (w[R_ID] != want) {
		pr_err("can't make AIO context %llx of %d again: it has slot %u, not %u",
		       (unsigned long long)a->ring, r->c->child, w[R_ID],
		       want);
		return -1;
	}
	if (w[R_NR] != a->nr_events) {
		pr_err("can't make AIO context %llx of %d again: this kernel makes a ring of %u events for %u requests, the image's had %u",
		       (unsigned long long)a->ring, r->c->child, w[R_NR],
		       a->max_reqs, a->nr_events);
		return -1;
	}
	return 0;
}

static int one_context(struct aio_run *r, const struct img_aio *a)
{
	uint32_t nr = a->nr_events, head = img_word(a, R_HEAD) % nr;
	uint32_t tail = img_word(a, R_TAIL), w[4];
	uint64_t ctx;
	long got;

	if (make_in_slot(r, a, &ctx))
		return -1;
	if (rcall(r->c, 0, "move an AIO ring", &got, SYS_mremap, ctx, a->len,
		  a->len, MREMAP_MAYMOVE | MREMAP_FIXED, a->ring, 0))
		return -1;
	if (complete(r, a->ring, head, 1) ||
	    complete(r, a->ring, (tail + nr - head) % nr, 0) ||
	    ring_words(r, a->ring, w))
		return -1;
	if (w[R_TAIL] != tail) {
		pr_err("can't make AIO context %llx of %d again: its tail is %u, not %u",
		       (unsigned long long)a->ring, r->c->child, w[R_TAIL],
		       tail);
		return -1;
	}
	if (inject_write(r->c->ip, a->ring, a->data, a->len)) {
		pr_perror("can't write the AIO ring %llx of %d",
			  (unsigned long long)a->ring, r->c->child);
		return -1;
	}
	if (a->prot != (PROT_READ | PROT_WRITE) &&
	    rcall(r->c, 0, "protect an AIO ring", NULL, SYS_mprotect, a->ring,
		  a->len, a->prot, 0, 0, 0))
		return -1;
	return 0;
}

static int by_slot(const void *x, const void *y, void *proc)
{
	const struct img_process *p = proc;
	uint32_t a = img_word(&p->aios[*(const uint32_t *)x], R_ID);
	uint32_t b = img_word(&p->aios[*(const uint32_t *)y], R_ID);

	return a < b ? -1 : a > b;
}

static int all_contexts(struct aio_run *r)
{
	const struct img_process *p = r->c->proc;
	uint32_t *order, i;
	int ret = -1;

	order = calloc(p->nr_aios, sizeof(*order));
	if (!order)
		return -1;
	for (i = 0; i < p->nr_aios; i++)
		order[i] = i;
	qsort_r(order, p->nr_aios, sizeof(*order), by_slot, (void *)p);
	for (i = 0; i < p->nr_aios; i++)
		if (one_context(r, &p->aios[order[i]]))
			goto out;
	for (i = 0; i < r->nr_fillers; i++)
		if (rcall(r->c, 0, "destroy an AIO context", NULL,
			  SYS_io_destroy, r->fillers[i], 0, 0, 0, 0, 0))
			goto out;
	ret = 0;
out:
	free(order);
	return ret;
}

int restore_aio(struct restore_proc *c)
{
	static const char path[] = "/dev/zero";
	struct aio_run r = { .c = c, .zero = -1 };
	long ret;
	int err;

	if (!c->proc->nr_aios)
		return 0;
	r.scratch = inject_scratch(c->ip);
	r.park = c->tmp_area;
	if (inject_write(c->ip, r.scratch + S_PATH, path, sizeof(path)) ||
	    rcall(c, 0, "open /dev/zero", &r.zero, SYS_openat, AT_FDCWD,
		  r.scratch + S_PATH, O_RDONLY | O_CLOEXEC, 0, 0, 0))
		return -1;
	err = all_contexts(&r);
	if (inject_syscall(c->ip, 0, &ret, SYS_close, r.zero, 0, 0, 0, 0, 0))
		err = -1;
	free(r.fillers);
	return err;
}
