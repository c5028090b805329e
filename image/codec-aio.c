/*
 * codec-aio: the AIO record, an AIO context of the process and its ring
 * (image.h), and what the reader checks of it: a ring the size its
 * nr_events gives, whose header agrees, clear of the process's VMAs and
 * of its other rings (restore moves each ring to its address with
 * MREMAP_FIXED, which would unmap whatever is there).
 */
#include <sys/mman.h>
#include <stdlib.h>
#include <string.h>

#include "image/image.h"
#include "image/image-priv.h"
#include "image/reader-priv.h"

/* the ring header's words (fs/aio.c: struct aio_ring) */
#define RING_ID		0
#define RING_NR		1
#define RING_TAIL	3

/* u64 ring; u32 max_reqs nr_events prot len; len bytes */
int img_enc_aio(struct enc *e, const struct img_aio *a)
{
	enc_u64(e, a->ring);
	enc_u32(e, a->max_reqs);
	enc_u32(e, a->nr_events);
	enc_u32(e, a->prot);
	enc_cap(e, a->len, IMG_MAX_AIO_LEN, "AIO ring too large");
	enc_u32(e, a->len);
	enc_bytes(e, a->data, a->len);
	return e->err ? -1 : 0;
}

static uint32_t ring_word(const struct img_aio *a, int k)
{
	uint32_t v;

	memcpy(&v, a->data + k * sizeof(v), sizeof(v));
	return v;
}

int img_dec_aio(struct dec *d, struct img_aio *a)
{
	dec_u64(d, &a->ring);
	dec_u32(d, &a->max_reqs);
	dec_u32(d, &a->nr_events);
	dec_u32(d, &a->prot);
	dec_u32(d, &a->len);
	dec_blob(d, &a->data, a->len, IMG_MAX_AIO_LEN, "AIO ring");
	dec_check(d, a->max_reqs >= 1 && a->max_reqs <= a->nr_events,
		  "AIO context %#llx: max_reqs %u, ring of %u events",
		  (unsigned long long)a->ring, a->max_reqs, a->nr_events);
	dec_check(d, !(a->prot & ~(PROT_READ | PROT_WRITE | PROT_EXEC)),
		  "AIO context %#llx: bad protection %#x",
		  (unsigned long long)a->ring, a->prot);
	dec_check(d, a->nr_events < IMG_MAX_AIO_LEN / IMG_AIO_HDR &&
		  a->len >= (a->nr_events + 1ULL) * IMG_AIO_HDR,
		  "AIO context %#llx: %u bytes for a ring of %u events",
		  (unsigned long long)a->ring, a->len, a->nr_events);
	/* the kernel keeps tail below nr; head is the program's to write */
	dec_check(d, !a->data || a->len < IMG_AIO_HDR ||
		  (ring_word(a, RING_NR) == a->nr_events &&
		   ring_word(a, RING_TAIL) < a->nr_events),
		  "AIO context %#llx: the ring's header disagrees",
		  (unsigned long long)a->ring);
	return dec_end(d);
}

int sem_aio(struct rd *r, struct dec *d, struct img_process *p)
{
	uint64_t ps = r->img->hdr.page_size;
	struct img_aio *a;

	if (p->nr_aios >= IMG_MAX_AIOS) {
		rec_fail(r, "more than %u AIO contexts in a process",
			 IMG_MAX_AIOS);
		return -1;
	}
	if (rd_grow(r, &p->aios, &r->cap_aios, p->nr_aios, sizeof(*a)))
		return -1;
	a = &p->aios[p->nr_aios++];
	memset(a, 0, sizeof(*a));
	if (img_dec_aio(d, a))
		return -1;
	if (a->ring % ps || a->ring >= IMG_MAX_ADDR ||
	    a->len != ((a->nr_events + 1ULL) * IMG_AIO_HDR + ps - 1) /
		      ps * ps ||
	    a->len > IMG_MAX_ADDR - a->ring) {
		rec_fail(r, "AIO ring %#llx of %u bytes: not the pages of a ring of %u events",
			 (unsigned long long)a->ring, a->len, a->nr_events);
		return -1;
	}
	return 0;
}

static int overlaps(const struct img_aio *a, uint64_t start, uint64_t end)
{
	return a->ring < end && start < a->ring + a->len;
}

/* Each ring is clear of the VMAs and of the other rings; each context
 * has a slot of its own. */
int check_aios(struct rd *r, const struct img_process *p)
{
	uint32_t i, k;

	for (i = 0; i < p->nr_aios; i++) {
		const struct img_aio *a = &p->aios[i];
		int bad = 0;

		for (k = 0; k < p->nr_vmas && !bad; k++)
			bad = overlaps(a, p->vmas[k].start, p->vmas[k].end);
		for (k = 0; k < i && !bad; k++)
			bad = overlaps(a, p->aios[k].ring,
				       p->aios[k].ring + p->aios[k].len);
		if (bad) {
			rd_fail(r, "process %u (pid %d): AIO ring %#llx overlaps a mapping",
				r->img->nr_procs, p->proc.pid,
				(unsigned long long)a->ring);
			return -1;
		}
		for (k = 0; k < i; k++)
			if (ring_word(&p->aios[k], RING_ID) ==
			    ring_word(a, RING_ID))
				break;
		if (k < i) {
			rd_fail(r, "process %u (pid %d): two AIO contexts in slot %u",
				r->img->nr_procs, p->proc.pid,
				ring_word(a, RING_ID));
			return -1;
		}
	}
	return 0;
}
