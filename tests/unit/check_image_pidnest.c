/*
 * check_image_pidnest: PID namespaces below the tree's top one: a PID
 * NS record's parent and a PROC's levels (ns, for_children, nspids)
 * round trip; the reader refuses levels without a namespace, a PID 0
 * in one, and a namespace that is its own parent.
 */
#include <check.h>
#include <string.h>

#include "image/image.h"
#include "tests/unit/imagetest.h"
#include "tests/unit/unit.h"

/* root 10, its child 11 the init of namespace 5 (below the top one),
 * made after 10 unshared it; parent: the record's */
static void w_nested(uint64_t parent, uint32_t nr, int32_t pid)
{
	struct img_writer *w = img_writer_open(path);
	struct img_ns ns = { .kind = IMG_NS_PID, .owner = 11, .id = 5,
			     .parent = parent };

	ck_assert_ptr_nonnull(w);
	w_header(w);
	ck_assert_int_eq(img_write_ns(w, &ns), 0);
	memset(&proc_pidlv, 0, sizeof(proc_pidlv));
	proc_pidlv.for_children = 5;
	w_proc(w, 10, 1);
	w_thread(w, 10);
	memset(&proc_pidlv, 0, sizeof(proc_pidlv));
	proc_pidlv.ns = 5;
	proc_pidlv.nr_nspids = nr;
	proc_pidlv.nspids[0] = pid;
	w_proc_of(w, 11, 10, 1);
	w_thread(w, 11);
	memset(&proc_pidlv, 0, sizeof(proc_pidlv));
	ck_assert_int_eq(img_writer_commit(w), 0);
}

START_TEST(test_roundtrip_pidnest)
{
	const struct img_ns *ns;
	struct image *img;

	w_nested(0, 1, 1);
	img = img_read_file(path, 0);
	ck_assert_ptr_nonnull(img);
	ns = img_find_ns(img, IMG_NS_PID, 11);
	ck_assert_ptr_nonnull(ns);
	ck_assert_uint_eq(ns->id, 5);
	ck_assert_uint_eq(ns->parent, 0);
	ck_assert_uint_eq(img->procs[0].proc.pidlv.for_children, 5);
	ck_assert_uint_eq(img->procs[0].proc.pidlv.nr_nspids, 0);
	ck_assert_uint_eq(img->procs[1].proc.pidlv.ns, 5);
	ck_assert_uint_eq(img->procs[1].proc.pidlv.nr_nspids, 1);
	ck_assert_int_eq(img->procs[1].proc.pidlv.nspids[0], 1);
	img_free(img);
}
END_TEST

START_TEST(test_refuse_pidnest)
{
	w_nested(0, 0, 1);
	expect_file_refused("PID namespace 5 with 0 levels");
	w_nested(0, 1, 0);
	expect_file_refused("PID 0 in a PID namespace");
	w_nested(5, 1, 1);
	expect_file_refused("pid namespace 5: its own parent");
}
END_TEST

static Suite *image_pidnest_suite(void)
{
	Suite *s = suite_create("image-pidnest");
	TCase *tc = image_tcase(s, "pidnest");

	add(tc, test_roundtrip_pidnest);
	add(tc, test_refuse_pidnest);
	return s;
}

CHECK_MAIN(image_pidnest_suite)
