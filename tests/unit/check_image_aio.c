/*
 * check_image_aio: the AIO record (codec-aio.c): the round trip of two
 * contexts and their rings' bytes, and one refusal per broken rule: a
 * ring not page aligned or not the size of its events, max_reqs outside
 * 1..nr_events, a bad protection, a header that disagrees, a ring over a
 * VMA or over another ring, two contexts in one slot.
 */
#include <check.h>
#include <string.h>

#include "image/image.h"
#include "tests/unit/imagetest.h"
#include "tests/unit/unit.h"

static uint8_t ring[2 * PS];

/* a's ring bytes: header id nr head tail, an event */
static void fill_ring(struct img_aio *a, uint32_t id, uint32_t head,
		      uint32_t tail)
{
	const uint32_t h[4] = { id, a->nr_events, head, tail };

	memset(ring, 0, sizeof(ring));
	memcpy(ring, h, sizeof(h));
	memset(ring + 32, 0x5a, 32);
	a->data = ring;
}

static struct img_aio good(void)
{
	struct img_aio a = { .ring = 0x10000, .max_reqs = 8, .nr_events = 127,
			     .prot = 3, .len = PS };

	fill_ring(&a, 2, 0, 1);
	return a;
}

static void aio_refused(const struct img_aio *a, const struct img_aio *b,
			const char *want)
{
	struct img_writer *w = begin_proc(1);

	w_vma(w, 0x1000, 0x3000, NULL);
	ck_assert_int_eq(img_write_aio(w, a), 0);
	if (b)
		ck_assert_int_eq(img_write_aio(w, b), 0);
	commit_expect_refused(w, want);
}

START_TEST(test_roundtrip_aio)
{
	struct img_aio a = good(), b = { .ring = 0x20000, .max_reqs = 200,
					 .nr_events = 255, .prot = 1,
					 .len = 2 * PS };
	struct img_writer *w = begin_proc(1);
	static uint8_t rb[2 * PS];
	struct image *img;
	const uint32_t hb[4] = { 0, 255, 37, 37 };

	memcpy(rb, hb, sizeof(hb));
	b.data = rb;
	w_vma(w, 0x1000, 0x3000, NULL);
	ck_assert_int_eq(img_write_aio(w, &a), 0);
	ck_assert_int_eq(img_write_aio(w, &b), 0);
	ck_assert_int_eq(img_writer_commit(w), 0);
	img = img_read_file(path, 0);
	ck_assert_ptr_nonnull(img);
	ck_assert_uint_eq(img->procs[0].nr_aios, 2);
	ck_assert_uint_eq(img->procs[0].aios[0].ring, 0x10000);
	ck_assert_uint_eq(img->procs[0].aios[0].max_reqs, 8);
	ck_assert_uint_eq(img->procs[0].aios[0].len, PS);
	ck_assert_mem_eq(img->procs[0].aios[0].data, ring, PS);
	ck_assert_uint_eq(img->procs[0].aios[1].nr_events, 255);
	ck_assert_uint_eq(img->procs[0].aios[1].prot, 1);
	ck_assert_mem_eq(img->procs[0].aios[1].data, rb, 2 * PS);
	img_free(img);
}
END_TEST

START_TEST(test_refuse_aio)
{
	struct img_aio a = good(), b;

	a.ring = 0x10800;
	aio_refused(&a, NULL, "not the pages of a ring of 127 events");
	a = good();
	a.nr_events = 200;
	fill_ring(&a, 0, 0, 0);
	aio_refused(&a, NULL, "4096 bytes for a ring of 200 events");
	a = good();
	a.len = 2 * PS;
	aio_refused(&a, NULL, "not the pages of a ring of 127 events");
	a = good();
	a.max_reqs = 0;
	aio_refused(&a, NULL, "max_reqs 0, ring of 127 events");
	a.max_reqs = 128;
	aio_refused(&a, NULL, "max_reqs 128, ring of 127 events");
	a = good();
	a.prot = 8;
	aio_refused(&a, NULL, "bad protection 0x8");
	a = good();
	fill_ring(&a, 0, 0, 127);
	aio_refused(&a, NULL, "the ring's header disagrees");
	a = good();
	a.ring = 0x2000;
	aio_refused(&a, NULL, "AIO ring 0x2000 overlaps a mapping");
	a = good();
	b = good();
	aio_refused(&a, &b, "AIO ring 0x10000 overlaps a mapping");
	b.ring = 0x20000;
	aio_refused(&a, &b, "two AIO contexts in slot 2");
}
END_TEST

static Suite *image_aio_suite(void)
{
	Suite *s = suite_create("image-aio");
	TCase *tc = image_tcase(s, "aio");

	add(tc, test_roundtrip_aio);
	add(tc, test_refuse_aio);
	return s;
}

CHECK_MAIN(image_aio_suite)
