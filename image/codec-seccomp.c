/*
 * codec-seccomp: a thread's seccomp mode and filters, at the end of its
 * THREAD record. Each BPF instruction travels as one u64 (code, jt, jf,
 * k from the low bits up), never as the kernel's struct sock_filter. The
 * decoder holds the chain to the kernel's own bounds (BPF_MAXINSNS per
 * filter, MAX_INSNS_PER_PATH for the chain) so that restore can install
 * it; whether each program is one the kernel accepts only the kernel
 * says, at restore.
 */
#include <stdlib.h>
#include <string.h>

#include "image/image.h"
#include "image/image-priv.h"

#define FILTER_OVERHEAD	4	/* what the kernel adds per filter to a path */

static void enc_filter(struct enc *e, const struct img_seccomp_filter *f)
{
	uint32_t i;

	enc_u32(e, f->flags);
	enc_cap(e, f->len, IMG_MAX_BPF, "seccomp filter too long");
	enc_u32(e, f->len);
	for (i = 0; i < f->len && i < IMG_MAX_BPF; i++)
		enc_u64(e, f->insns[i]);
}

/* u32 mode nr_filters; per filter: u32 flags len, u64 insn x len */
void img_enc_seccomp(struct enc *e, const struct img_seccomp *s)
{
	uint32_t i, max = IMG_MAX_BPF_PATH / (1 + FILTER_OVERHEAD);

	enc_u32(e, s->mode);
	enc_cap(e, s->nr_filters, max, "too many seccomp filters");
	enc_u32(e, s->nr_filters);
	for (i = 0; i < s->nr_filters && i < max; i++)
		enc_filter(e, &s->filters[i]);
}

static void dec_filter(struct dec *d, struct img_seccomp_filter *f)
{
	uint32_t i;

	dec_u32(d, &f->flags);
	dec_u32(d, &f->len);
	dec_check(d, !(f->flags & ~(IMG_SECCOMP_LOG | IMG_SECCOMP_OWN)),
		  "seccomp flags %#x",
		  f->flags);
	dec_check(d, f->len >= 1, "empty seccomp filter");
	if (!dec_count_ok(d, f->len, IMG_MAX_BPF, 8, "seccomp instructions")
	    || !f->len)
		return;
	f->insns = dec_alloc(d, (size_t)f->len * 8);
	for (i = 0; f->insns && i < f->len; i++)
		dec_u64(d, &f->insns[i]);
}

void img_dec_seccomp(struct dec *d, struct img_seccomp *s)
{
	uint32_t i, path = 0;

	dec_u32(d, &s->mode);
	dec_u32(d, &s->nr_filters);
	dec_check(d, s->mode <= IMG_SECCOMP_FILTER, "seccomp mode %u",
		  s->mode);
	dec_check(d, (s->mode == IMG_SECCOMP_FILTER) == !!s->nr_filters,
		  "%u seccomp filters in mode %u", s->nr_filters, s->mode);
	if (!dec_count_ok(d, s->nr_filters, IMG_MAX_BPF_PATH, 8,
			  "seccomp filters") || !s->nr_filters)
		return;
	s->filters = dec_alloc(d, s->nr_filters * sizeof(*s->filters));
	for (i = 0; s->filters && i < s->nr_filters; i++) {
		dec_filter(d, &s->filters[i]);
		path += s->filters[i].len + FILTER_OVERHEAD;
		dec_check(d, path <= IMG_MAX_BPF_PATH,
			  "seccomp filters of %u instructions", path);
		if (d->failed)
			return;
	}
}

void img_seccomp_free(struct img_seccomp *s)
{
	uint32_t i;

	for (i = 0; s->filters && i < s->nr_filters; i++)
		free(s->filters[i].insns);
	free(s->filters);
	s->filters = NULL;
	s->nr_filters = 0;
}

static int same_filter(const struct img_seccomp_filter *a,
		       const struct img_seccomp_filter *b)
{
	return a->flags == b->flags && a->len == b->len &&
	       !memcmp(a->insns, b->insns, a->len * sizeof(*a->insns));
}

uint32_t img_seccomp_common(const struct img_seccomp *a,
			    const struct img_seccomp *b)
{
	uint32_t n = 0;

	while (n < a->nr_filters && n < b->nr_filters &&
	       !(a->filters[n].flags & IMG_SECCOMP_OWN) &&
	       same_filter(&a->filters[n], &b->filters[n]))
		n++;
	return n;
}
