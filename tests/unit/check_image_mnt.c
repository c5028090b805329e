/*
 * check_image_mnt: the MOUNT and MNTFILE records of a mount namespace
 * (codec-mnt.c, semantics-mnt.c): their round trip, and one refusal per
 * broken rule: a MOUNT with no mount NS record, a root not first, a path
 * restore would write to with "..", a file of no tmpfs, more data of
 * another file, data past a file's size, an overlay's layers that are
 * not absolute paths parsed as they are; NSMOUNT records of a mount
 * namespace below the root's likewise: round trip, and a record of no
 * such namespace, of a kind restore does not make there, a COPY out of
 * NSMOUNT, a MOUNT after them.
 */
#include <sys/stat.h>
#include <check.h>
#include <string.h>

#include "image/image.h"
#include "tests/unit/imagetest.h"
#include "tests/unit/unit.h"

static void w_mntns(struct img_writer *w)
{
	struct img_ns ns = { .kind = IMG_NS_MNT, .owner = 10, .id = 5 };

	ck_assert_int_eq(img_write_ns(w, &ns), 0);
}

static void w_mount(struct img_writer *w, uint32_t id, uint32_t kind,
		    const char *point, const char *host)
{
	struct img_mount m = {
		.id = id, .kind = kind, .flags = 0x200002, .dev = 0x27,
		.point = (char *)point, .fstype = "tmpfs", .source = "box",
		.options = "size=1024k", .host = (char *)host,
	};

	ck_assert_int_eq(img_write_mount(w, &m), 0);
}

static void w_mntf(struct img_writer *w, const char *p, uint32_t mode,
		   uint32_t flags, uint64_t off, const char *data,
		   const char *link)
{
	struct img_mntfile f = {
		.mount = 2, .flags = flags, .mode = mode, .uid = 3, .gid = 4,
		.size = 100, .offset = off, .mtime_ns = 77,
		.len = data ? strlen(data) : 0, .data = (uint8_t *)data,
		.path = (char *)p, .link = (char *)link,
	};

	ck_assert_int_eq(img_write_mntfile(w, &f), 0);
}

/* a mount namespace below the root's, id 6, of process 11 */
static void w_nested(struct img_writer *w)
{
	struct img_ns ns = { .kind = IMG_NS_MNT, .owner = 11, .id = 6,
			     .parent = 5 };

	ck_assert_int_eq(img_write_ns(w, &ns), 0);
}

/* gone 2: not gone, a slave */
static void w_nsmount(struct img_writer *w, uint32_t id, uint32_t kind,
		      const char *point, const char *host, uint64_t ns,
		      uint32_t gone)
{
	struct img_mount m = {
		.id = id, .kind = kind, .flags = 0x200003, .dev = 0x28,
		.point = (char *)point, .fstype = "tmpfs", .source = "nested",
		.options = "", .host = (char *)host, .ns = ns,
		.gone = gone == 1,
		.propagation = gone == 2 ? IMG_MNT_SLAVE : IMG_MNT_PRIVATE,
	};

	ck_assert_int_eq(img_write_nsmount(w, &m), 0);
}

static void w_end(struct img_writer *w)
{
	w_proc(w, 10, 1);
	w_thread(w, 10);
}

static struct img_writer *w_start(int ns)
{
	struct img_writer *w = img_writer_open(path);

	ck_assert_ptr_nonnull(w);
	w_header(w);
	if (ns)
		w_mntns(w);
	return w;
}

START_TEST(test_roundtrip_mnt)
{
	struct img_writer *w = w_start(1);
	const struct img_mntfile *f;
	struct image *img;

	w_mount(w, 1, IMG_MNT_ROOT, "/", "/srv/box");
	w_mount(w, 2, IMG_MNT_TMPFS, "/tmp", NULL);
	w_mntf(w, "", S_IFDIR | 01777, 0, 0, NULL, NULL);
	w_mntf(w, "a", S_IFREG | 0640, 0, 10, "hello", NULL);
	w_mntf(w, "a", S_IFREG | 0640, IMG_MNTF_MORE, 50, "world", NULL);
	w_mntf(w, "l", S_IFLNK | 0777, 0, 0, NULL, "/etc/passwd");
	w_mntf(w, "h", S_IFREG | 0640, IMG_MNTF_HARDLINK, 0, NULL, "a");
	w_end(w);
	ck_assert_int_eq(img_writer_commit(w), 0);
	img = img_read_file(path, 0);
	ck_assert_ptr_nonnull(img);
	ck_assert_uint_eq(img->nr_mounts, 2);
	ck_assert_str_eq(img->mounts[0].host, "/srv/box");
	ck_assert_ptr_null(img->mounts[1].host);
	ck_assert_uint_eq(img->mounts[1].flags, 0x200002);
	ck_assert_str_eq(img->mounts[1].options, "size=1024k");
	ck_assert_uint_eq(img->nr_mntfiles, 5);
	f = &img->mntfiles[2];
	ck_assert_uint_eq(f->offset, 50);
	ck_assert_uint_eq(f->len, 5);
	ck_assert_mem_eq(f->data, "world", 5);
	ck_assert_str_eq(img->mntfiles[3].link, "/etc/passwd");
	ck_assert_uint_eq(img->mntfiles[1].uid, 3);
	ck_assert_uint_eq(img->mntfiles[1].mtime_ns, 77);
	img_free(img);
}
END_TEST

START_TEST(test_refuse_mnt)
{
	struct img_writer *w = w_start(0);

	w_mount(w, 1, IMG_MNT_TMPFS, "/tmp", NULL);
	w_end(w);
	commit_expect_refused(w, "in no mount namespace");
	w = w_start(1);
	w_mount(w, 1, IMG_MNT_TMPFS, "/tmp", NULL);
	w_mount(w, 2, IMG_MNT_ROOT, "/", "/srv");
	w_end(w);
	commit_expect_refused(w, "is a root not first");
	w = w_start(1);
	w_mount(w, 1, IMG_MNT_TMPFS, "/tmp/../etc", NULL);
	w_end(w);
	commit_expect_refused(w, "mount point not absolute or with . or ..");
	w = w_start(1);
	w_mount(w, 1, IMG_MNT_BIND, "/b", "/srv/../etc");
	w_end(w);
	commit_expect_refused(w, "bind mount with a bad host path");
	w = w_start(1);
	w_mount(w, 1, IMG_MNT_INNER, "/proc/keys", "/dev/../etc/shadow");
	w_end(w);
	commit_expect_refused(w, "inner mount with a bad host path");
	w = w_start(1);
	w_mount(w, 1, IMG_MNT_OVERLAY, "/data", NULL);	/* no lowerdir */
	w_end(w);
	commit_expect_refused(w, "overlay mount with bad layer paths");
	w = w_start(1);
	w_mount(w, 1, IMG_MNT_CGROUP, "/sys/fs/cgroup", NULL);	/* tmpfs */
	w_end(w);
	commit_expect_refused(w, "cgroup mount of another type");
}
END_TEST

static int count_layer(const char *key, const char *layer, void *arg)
{
	(void)key;
	(void)layer;
	return ++*(int *)arg > 10;
}

/* an overlay's layer paths: absolute, no . or .., no escapes, a lower */
START_TEST(test_ovl_layers)
{
	int n = 0;

	ck_assert_int_eq(img_ovl_layers("lowerdir=/a:/b/c,upperdir=/u,workdir=/w,index=on,uuid=on",
					count_layer, &n), 0);
	ck_assert_int_eq(n, 4);
	ck_assert_int_eq(img_ovl_layers("lowerdir+=/a,lowerdir+=/b,datadir+=/d",
					NULL, NULL), 0);
	ck_assert_int_eq(img_ovl_layers("lowerdir=/a::/d", NULL, NULL), -1);
	ck_assert_int_eq(img_ovl_layers("lowerdir=/a:", NULL, NULL), -1);
	ck_assert_int_eq(img_ovl_layers("lowerdir=a", NULL, NULL), -1);
	ck_assert_int_eq(img_ovl_layers("lowerdir=/a/../b", NULL, NULL), -1);
	ck_assert_int_eq(img_ovl_layers("lowerdir=/a\\054b", NULL, NULL), -1);
	ck_assert_int_eq(img_ovl_layers("lowerdir=/a,upperdir=/u:/v", NULL,
					NULL), -1);
	ck_assert_int_eq(img_ovl_layers("upperdir=/u,workdir=/w", NULL, NULL),
			 -1);
	ck_assert_int_eq(img_ovl_layers("", NULL, NULL), -1);
}
END_TEST

/* the late mounts: proc and the like, INNER binds, and what is below */
START_TEST(test_mnt_late)
{
	struct img_mount m[7] = {
		{ .kind = IMG_MNT_TMPFS, .point = "/dev" },
		{ .kind = IMG_MNT_PROC, .point = "/proc" },
		{ .kind = IMG_MNT_TMPFS, .point = "/proc/acpi" },
		{ .kind = IMG_MNT_INNER, .point = "/sys/x" },
		{ .kind = IMG_MNT_BIND, .point = "/sys/x/y" },
		{ .kind = IMG_MNT_OVERLAY, .point = "/data" },
		{ .kind = IMG_MNT_CGROUP, .point = "/cg" },
	};
	unsigned char late[7];

	img_mnt_late(m, 7, late);
	ck_assert(!late[0] && late[1] && late[2] && late[3] && late[4]);
	ck_assert(!late[5]);	/* its layers are host paths */
	ck_assert(late[6]);	/* in the restored cgroup namespace */
	ck_assert(img_path_under("/proc/acpi", "/proc"));
	ck_assert(!img_path_under("/procx", "/proc"));
}
END_TEST

START_TEST(test_refuse_mntfile)
{
	struct img_writer *w = w_start(1);

	w_mount(w, 1, IMG_MNT_TMPFS, "/a", NULL);
	w_mount(w, 2, IMG_MNT_BIND, "/b", "/srv");
	w_mntf(w, "", S_IFDIR | 0755, 0, 0, NULL, NULL);
	w_end(w);
	commit_expect_refused(w, "MNTFILE record after no tmpfs MOUNT");
	w = w_start(1);
	w_mount(w, 1, IMG_MNT_TMPFS, "/a", NULL);
	w_mount(w, 2, IMG_MNT_TMPFS, "/b", NULL);
	w_mntf(w, "", S_IFDIR | 0755, 0, 0, NULL, NULL);
	w_mntf(w, "../x", S_IFREG | 0644, 0, 0, NULL, NULL);
	w_end(w);
	commit_expect_refused(w, "mount's file path absolute or with . or ..");
	w = w_start(1);
	w_mount(w, 1, IMG_MNT_TMPFS, "/a", NULL);
	w_mount(w, 2, IMG_MNT_TMPFS, "/b", NULL);
	w_mntf(w, "", S_IFDIR | 0755, 0, 0, NULL, NULL);
	w_mntf(w, "x", S_IFREG | 0644, 0, 0, NULL, NULL);
	w_mntf(w, "y", S_IFREG | 0644, IMG_MNTF_MORE, 4, "data", NULL);
	w_end(w);
	commit_expect_refused(w, "more data of y, which is not the file before");
	w = w_start(1);
	w_mount(w, 1, IMG_MNT_TMPFS, "/a", NULL);
	w_mount(w, 2, IMG_MNT_TMPFS, "/b", NULL);
	w_mntf(w, "", S_IFDIR | 0755, 0, 0, NULL, NULL);
	w_mntf(w, "x", S_IFREG | 0644, 0, 98, "data", NULL);
	w_end(w);
	commit_expect_refused(w, "data out of a regular file's size");
}
END_TEST

START_TEST(test_roundtrip_nsmount)
{
	struct img_writer *w = w_start(1);
	struct img_mntfile f = { .mount = 3, .mode = S_IFDIR | 0700,
				 .path = "" };
	struct image *img;

	w_nested(w);
	w_mount(w, 1, IMG_MNT_TMPFS, "/tmp", NULL);
	w_nsmount(w, 2, IMG_MNT_COPY, "/proc", NULL, 6, 1);
	w_nsmount(w, 3, IMG_MNT_TMPFS, "/mnt", NULL, 6, 0);
	ck_assert_int_eq(img_write_mntfile(w, &f), 0);
	w_nsmount(w, 4, IMG_MNT_INNER, "/srv", "/tmp/www", 6, 0);
	w_nsmount(w, 5, IMG_MNT_COPY, "/tmp", NULL, 6, 2);
	w_end(w);
	ck_assert_int_eq(img_writer_commit(w), 0);
	img = img_read_file(path, 0);
	ck_assert_ptr_nonnull(img);
	ck_assert_uint_eq(img->nr_nss, 2);
	ck_assert_uint_eq(img->nss[0].parent, 0);
	ck_assert_uint_eq(img->nss[1].parent, 5);
	ck_assert_uint_eq(img->nr_mounts, 1);
	ck_assert_uint_eq(img->nr_nsmounts, 4);
	ck_assert_uint_eq(img->nsmounts[3].propagation, IMG_MNT_SLAVE);
	ck_assert_uint_eq(img->nsmounts[0].gone, 1);
	ck_assert_uint_eq(img->nsmounts[0].ns, 6);
	ck_assert_uint_eq(img->nsmounts[1].id, 3);
	ck_assert_str_eq(img->nsmounts[2].host, "/tmp/www");
	ck_assert_uint_eq(img->nr_mntfiles, 1);
	img_free(img);
}
END_TEST

START_TEST(test_refuse_nsmount)
{
	struct img_writer *w = w_start(1);

	w_nsmount(w, 1, IMG_MNT_TMPFS, "/mnt", NULL, 5, 0);	/* the root's */
	w_end(w);
	commit_expect_refused(w, "no mount namespace below the root's");
	w = w_start(1);
	w_nested(w);
	w_nsmount(w, 1, IMG_MNT_BIND, "/mnt", "/srv", 6, 0);
	w_end(w);
	commit_expect_refused(w, "bind mount in a namespace below the root's");
	w = w_start(1);
	w_nested(w);
	w_nsmount(w, 1, IMG_MNT_TMPFS, "/mnt", NULL, 6, 1);
	w_end(w);
	commit_expect_refused(w, "bad gone 1 of a mount");
	w = w_start(1);
	w_mount(w, 1, IMG_MNT_COPY, "/mnt", NULL);
	w_end(w);
	commit_expect_refused(w, "copy mount in a MOUNT record");
	w = w_start(1);
	w_nested(w);
	w_nsmount(w, 1, IMG_MNT_TMPFS, "/mnt", NULL, 6, 0);
	w_mount(w, 2, IMG_MNT_TMPFS, "/tmp", NULL);
	w_end(w);
	commit_expect_refused(w, "MOUNT record after a FILE, SHM, GHOST, PROC or NSMOUNT");
	w = w_start(1);
	w_nested(w);
	w_nsmount(w, 1, IMG_MNT_TMPFS, "/mnt", NULL, 6, 2);
	w_end(w);
	commit_expect_refused(w, "slave tmpfs mount");
}
END_TEST

static Suite *image_mnt_suite(void)
{
	Suite *s = suite_create("image-mnt");
	TCase *tc = image_tcase(s, "mnt");

	add(tc, test_roundtrip_mnt);
	add(tc, test_refuse_mnt);
	add(tc, test_refuse_mntfile);
	add(tc, test_mnt_late);
	add(tc, test_ovl_layers);
	add(tc, test_roundtrip_nsmount);
	add(tc, test_refuse_nsmount);
	return s;
}

CHECK_MAIN(image_mnt_suite)
