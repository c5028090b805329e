/*
 * codec-guard: a VMA's guard regions (MADV_GUARD_INSTALL), at the end of
 * its VMA record: u32 nr_guards, then u64 start end per range. Each is
 * page aligned, not empty, inside the VMA, after the one before it and
 * not touching it (the kernel reports a run of guard pages as one).
 */
#include <stdlib.h>

#include "image/image.h"
#include "image/image-priv.h"

#define MAX_GUARDS	(1u << 20)

void img_enc_guards(struct enc *e, const struct img_vma *v)
{
	uint32_t i;

	enc_cap(e, v->nr_guards, MAX_GUARDS, "too many guard regions");
	enc_u32(e, v->nr_guards);
	for (i = 0; i < v->nr_guards && i < MAX_GUARDS; i++) {
		enc_u64(e, v->guards[i].start);
		enc_u64(e, v->guards[i].end);
	}
}

void img_dec_guards(struct dec *d, struct img_vma *v, uint32_t page_size)
{
	uint64_t mask = page_size - 1, after;
	uint32_t i;

	dec_u32(d, &v->nr_guards);
	if (!dec_count_ok(d, v->nr_guards, MAX_GUARDS, 16, "guard regions") ||
	    !v->nr_guards)
		return;
	v->guards = dec_alloc(d, v->nr_guards * sizeof(*v->guards));
	after = v->start;
	for (i = 0; v->guards && i < v->nr_guards; i++) {
		struct img_range *g = &v->guards[i];

		dec_u64(d, &g->start);
		dec_u64(d, &g->end);
		dec_check(d, !(g->start & mask) && !(g->end & mask),
			  "guard region %#llx-%#llx not page aligned",
			  (unsigned long long)g->start,
			  (unsigned long long)g->end);
		dec_check(d, g->start >= after && (g->start > after || !i) &&
			  g->start < g->end && g->end <= v->end,
			  "guard region %#llx-%#llx out of place",
			  (unsigned long long)g->start,
			  (unsigned long long)g->end);
		after = g->end;
	}
}
