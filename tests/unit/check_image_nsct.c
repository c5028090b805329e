/*
 * check_image_nsct: the NS records of a cgroup and a time namespace
 * (codec-ns.c): the cgroup one's roots and the time one's offsets (one
 * below 0) and clocks round trip; the reader refuses a root path with a
 * ".." component, a bad time_children and a clock out of range.
 */
#include <check.h>
#include <string.h>

#include "image/image.h"
#include "tests/unit/imagetest.h"
#include "tests/unit/unit.h"

static void w_nss(const char *root, uint32_t children, uint64_t mono)
{
	struct img_writer *w = img_writer_open(path);
	struct img_cgns cg[] = {
		{ (char *)"memory", (char *)root, (char *)"/sub" },
		{ (char *)"", (char *)"/", (char *)"/" },
	};
	struct img_ns cgns = { .kind = IMG_NS_CGROUP, .owner = 10, .id = 7,
			       .nr_cgns = 2, .cgns = cg };
	struct img_ns time = { .kind = IMG_NS_TIME, .owner = 10, .id = 8,
			       .mono_off_ns = -5000000000ll,
			       .boot_off_ns = 86400000000000ll,
			       .mono_ns = mono, .boot_ns = 99,
			       .time_children = children };

	ck_assert_ptr_nonnull(w);
	w_header(w);
	ck_assert_int_eq(img_write_ns(w, &cgns), 0);
	ck_assert_int_eq(img_write_ns(w, &time), 0);
	w_proc(w, 10, 1);
	w_thread(w, 10);
	ck_assert_int_eq(img_writer_commit(w), 0);
}

START_TEST(test_roundtrip_nsct)
{
	const struct img_ns *ns;
	struct image *img;

	w_nss("/box", 1, 123456789);
	img = img_read_file(path, 0);
	ck_assert_ptr_nonnull(img);
	ns = img_find_ns(img, IMG_NS_CGROUP, 10);
	ck_assert_ptr_nonnull(ns);
	ck_assert_uint_eq(ns->nr_cgns, 2);
	ck_assert_str_eq(ns->cgns[0].controllers, "memory");
	ck_assert_str_eq(ns->cgns[0].root, "/box");
	ck_assert_str_eq(ns->cgns[0].inner, "/sub");
	ck_assert_str_eq(ns->cgns[1].controllers, "");
	ck_assert_str_eq(ns->cgns[1].root, "/");
	ns = img_find_ns(img, IMG_NS_TIME, 10);
	ck_assert_ptr_nonnull(ns);
	ck_assert_int_eq(ns->mono_off_ns, -5000000000ll);
	ck_assert_int_eq(ns->boot_off_ns, 86400000000000ll);
	ck_assert_uint_eq(ns->mono_ns, 123456789);
	ck_assert_uint_eq(ns->boot_ns, 99);
	ck_assert_uint_eq(ns->time_children, 1);
	ck_assert_uint_eq(ns->nr_cgns, 0);
	img_free(img);
}
END_TEST

START_TEST(test_refuse_nsct)
{
	w_nss("/box/../etc", 0, 1);
	expect_file_refused("cgroup namespace: bad path /box/../etc or /sub");
	w_nss("/box", 2, 1);
	expect_file_refused("time namespace: bad time_children 2");
	w_nss("/box", 0, UINT64_MAX);
	expect_file_refused("time namespace: clock or offset out of range");
}
END_TEST

static Suite *image_nsct_suite(void)
{
	Suite *s = suite_create("image-nsct");
	TCase *tc = image_tcase(s, "nsct");

	add(tc, test_roundtrip_nsct);
	add(tc, test_refuse_nsct);
	return s;
}

CHECK_MAIN(image_nsct_suite)
