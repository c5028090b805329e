/*
 * check_image_snap: the SNAPFILE records of a file snapshot and the
 * NOTIFY record of ckpt run --notify (codec-app.c): their round trip, and
 * one refusal per broken rule: a path restore would write to that is not
 * absolute or holds ".", ".." or an empty component, a kind other than
 * a regular file or directory, flags, a second NOTIFY, a NOTIFY path too
 * long for a socket.
 */
#include <sys/stat.h>
#include <check.h>
#include <string.h>

#include "image/image.h"
#include "tests/unit/imagetest.h"
#include "tests/unit/unit.h"

static void w_snap(struct img_writer *w, const char *p, uint32_t mode,
		   uint32_t flags)
{
	struct img_snapfile f = {
		.flags = flags, .mode = mode, .uid = 7, .gid = 8, .data = 3,
		.dev = 0x803, .ino = 77, .size = 12345,
		.atime_ns = 1500000000123456789ull,
		.mtime_ns = 1000000000000000001ull, .path = (char *)p,
	};

	memset(f.hash, 0xab, sizeof(f.hash));
	ck_assert_int_eq(img_write_snapfile(w, &f), 0);
}

static void w_end(struct img_writer *w)
{
	w_proc(w, 10, 1);
	w_thread(w, 10);
}

START_TEST(test_roundtrip_snap)
{
	struct img_writer *w = img_writer_open(path);
	const struct img_snapfile *f;
	struct image *img;

	ck_assert_ptr_nonnull(w);
	w_header(w);
	w_snap(w, "/data", S_IFDIR | 0750, 0);
	w_snap(w, "/data/in.dat", S_IFREG | 0640, 0);
	ck_assert_int_eq(img_write_notify(w, "/run/job/notify", 30), 0);
	w_end(w);
	ck_assert_int_eq(img_writer_commit(w), 0);
	img = img_read_file(path, 0);
	ck_assert_ptr_nonnull(img);
	ck_assert_uint_eq(img->nr_snapfiles, 2);
	f = &img->snapfiles[1];
	ck_assert_str_eq(f->path, "/data/in.dat");
	ck_assert_uint_eq(f->mode, S_IFREG | 0640);
	ck_assert_uint_eq(f->uid, 7);
	ck_assert_uint_eq(f->gid, 8);
	ck_assert_uint_eq(f->data, 3);
	ck_assert_uint_eq(f->ino, 77);
	ck_assert_uint_eq(f->size, 12345);
	ck_assert_uint_eq(f->atime_ns, 1500000000123456789ull);
	ck_assert_uint_eq(f->mtime_ns, 1000000000000000001ull);
	ck_assert_uint_eq(f->hash[31], 0xab);
	ck_assert_uint_eq(img->snapfiles[0].mode, S_IFDIR | 0750);
	ck_assert_str_eq(img->notify_path, "/run/job/notify");
	ck_assert_uint_eq(img->notify_seconds, 30);
	img_free(img);
}
END_TEST

static void refused_path(const char *p)
{
	struct img_writer *w = img_writer_open(path);

	ck_assert_ptr_nonnull(w);
	w_header(w);
	w_snap(w, p, S_IFREG | 0600, 0);
	w_end(w);
	commit_expect_refused(w, "snapshot path not absolute or with . or ..");
}

START_TEST(test_refuse_snap_paths)
{
	refused_path("data/in.dat");
	refused_path("/data/../etc/passwd");
	refused_path("/data/./in.dat");
	refused_path("/..");
	refused_path("/data//in.dat");
	refused_path("/data/");
	refused_path("/");
}
END_TEST

START_TEST(test_refuse_snap_kind)
{
	struct img_writer *w = img_writer_open(path);

	ck_assert_ptr_nonnull(w);
	w_header(w);
	w_snap(w, "/data/link", S_IFLNK | 0777, 0);
	w_end(w);
	commit_expect_refused(w, "is no regular file's or directory's");
	w = img_writer_open(path);
	ck_assert_ptr_nonnull(w);
	w_header(w);
	w_snap(w, "/data/x", S_IFREG | 0600, 4);
	w_end(w);
	commit_expect_refused(w, "snapshot flags 0x4");
}
END_TEST

START_TEST(test_refuse_notify)
{
	struct img_writer *w = img_writer_open(path);
	char lng[120];

	ck_assert_ptr_nonnull(w);
	w_header(w);
	ck_assert_int_eq(img_write_notify(w, "/a", 1), 0);
	ck_assert_int_eq(img_write_notify(w, "/b", 1), 0);
	w_end(w);
	commit_expect_refused(w, "a second NOTIFY record");
	memset(lng, 'x', sizeof(lng));
	lng[0] = '/';
	lng[sizeof(lng) - 1] = '\0';
	w = img_writer_open(path);
	ck_assert_ptr_nonnull(w);
	w_header(w);
	ck_assert_int_eq(img_write_notify(w, lng, 1), -1);
	img_writer_abort(w);
}
END_TEST

static Suite *image_snap_suite(void)
{
	Suite *s = suite_create("image-snap");
	TCase *tc = image_tcase(s, "snap");

	add(tc, test_roundtrip_snap);
	add(tc, test_refuse_snap_paths);
	add(tc, test_refuse_snap_kind);
	add(tc, test_refuse_notify);
	return s;
}

CHECK_MAIN(image_snap_suite)
