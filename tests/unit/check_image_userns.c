/*
 * check_image_userns: the NS record of a user namespace (codec-ns.c):
 * its maps and setgroups round trip, img_idmap_inner(), and the
 * reader's refusal of a map line of no ids and of a bad setgroups.
 */
#include <check.h>
#include <string.h>

#include "image/image.h"
#include "tests/unit/imagetest.h"
#include "tests/unit/unit.h"

static const struct img_idmap uids[] = {
	{ 0, 0, 1 }, { 1, 200001, 999 }, { 1000, 201000, 1 },
};

static void w_userns(struct img_idmap *gid, uint32_t deny)
{
	struct img_writer *w = img_writer_open(path);
	struct img_ns ns = { .kind = IMG_NS_USER, .owner = 10, .id = 7,
			     .nr_uid_map = 3,
			     .uid_map = (struct img_idmap *)uids,
			     .nr_gid_map = 1, .gid_map = gid,
			     .setgroups_deny = deny };

	ck_assert_ptr_nonnull(w);
	w_header(w);
	ck_assert_int_eq(img_write_ns(w, &ns), 0);
	w_proc(w, 10, 1);
	w_thread(w, 10);
	ck_assert_int_eq(img_writer_commit(w), 0);
}

START_TEST(test_roundtrip_userns)
{
	struct img_idmap gid = { 0, 300000, 65536 };
	const struct img_ns *ns;
	struct image *img;

	w_userns(&gid, 1);
	img = img_read_file(path, 0);
	ck_assert_ptr_nonnull(img);
	ns = img_find_ns(img, IMG_NS_USER, 10);
	ck_assert_ptr_nonnull(ns);
	ck_assert_uint_eq(ns->nr_uid_map, 3);
	ck_assert_mem_eq(ns->uid_map, uids, sizeof(uids));
	ck_assert_uint_eq(ns->nr_gid_map, 1);
	ck_assert_uint_eq(ns->gid_map[0].outer, 300000);
	ck_assert_uint_eq(ns->setgroups_deny, 1);
	ck_assert_int_eq(img_idmap_inner(ns->uid_map, 3, 201000), 1000);
	ck_assert_int_eq(img_idmap_inner(ns->uid_map, 3, 200999), 999);
	ck_assert_int_eq(img_idmap_inner(ns->uid_map, 3, 201001), -1);
	ck_assert_int_eq(img_idmap_inner(ns->gid_map, 1, 300005), 5);
	img_free(img);
}
END_TEST

START_TEST(test_refuse_userns)
{
	struct img_idmap gid = { 0, 300000, 0 };

	w_userns(&gid, 0);
	expect_file_refused("user namespace: gid_map line 0 bad");
	gid.count = 1;
	w_userns(&gid, 2);
	expect_file_refused("user namespace: bad setgroups 2");
}
END_TEST

static Suite *image_userns_suite(void)
{
	Suite *s = suite_create("image-userns");
	TCase *tc = image_tcase(s, "userns");

	add(tc, test_roundtrip_userns);
	add(tc, test_refuse_userns);
	return s;
}

CHECK_MAIN(image_userns_suite)
