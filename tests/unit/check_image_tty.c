/*
 * check_image_tty: the FILE records of Unix98 pty pairs (codec-tty.c):
 * the round trip of a master's state, its queued bytes and a slave, and
 * one refusal per broken rule: bad flags, window size, session, index; a
 * slave without its master, two masters of one index, bytes in a slave;
 * typed bytes (IMG_CHUNK_TTY_IN) as img_tty_input() gives them back, and
 * those no line discipline holds. A pair on a devpts instance of the
 * tree's own names its DEVPTS MOUNT record: read back, kept apart from a
 * pair of /dev/pts with the same index, refused when it names no devpts
 * mount or its slave another instance than its master's.
 */
#include <check.h>
#include <fcntl.h>
#include <string.h>

#include "image/image.h"
#include "util/ttyq.h"
#include "tests/unit/imagetest.h"
#include "tests/unit/unit.h"

static void pty_files(struct img_file *f)
{
	uint32_t i;

	memset(f, 0, 2 * sizeof(*f));
	f[0].id = 1;
	f[0].kind = IMG_FILE_PTY_MASTER;
	f[0].flags = O_RDWR | O_NONBLOCK;
	f[0].tty = (struct img_tty){ .index = 7, .flags = IMG_TTY_PACKET |
		IMG_TTY_EXCL | IMG_TTY_COLUMN, .column = 11, .canon_column = 2,
		.iflag = 0x500, .oflag = 5, .cflag = 0xbf,
		.lflag = 0x8a3b, .line = 0, .ispeed = 15, .ospeed = 15,
		.rows = 33, .cols = 111, .xpixel = 1, .ypixel = 2,
		.sid = 1234, .pgrp = 1240 };
	for (i = 0; i < IMG_TTY_NCCS; i++)
		f[0].tty.cc[i] = i * 7 + 1;
	f[1].id = 2;
	f[1].kind = IMG_FILE_PTY_SLAVE;
	f[1].flags = O_RDWR;
	f[1].tty.index = 7;
}

/* f[0..n) then a process holding each, committed. */
static struct img_writer *write_files(const struct img_file *f, int n,
				      const char *master_data)
{
	struct img_writer *w = img_writer_open(path);
	int i;

	ck_assert_ptr_nonnull(w);
	w_header(w);
	for (i = 0; i < n; i++) {
		ck_assert_int_eq(img_write_file(w, &f[i]), 0);
		if (master_data && i == 0)
			w_chunk(w, 1, master_data, 0);
	}
	w_proc(w, 10, 1);
	w_thread(w, 10);
	for (i = 0; i < n; i++)
		w_file_fd(w, 3 + i, i + 1);
	return w;
}

START_TEST(test_roundtrip_pty)
{
	struct img_file in[2];
	const struct img_tty *t;
	struct image *img;

	pty_files(in);
	ck_assert_int_eq(img_writer_commit(write_files(in, 2, "tick 1\r\n")),
			 0);
	img = img_read_file(path, IMG_ISA_X86_64);
	ck_assert_ptr_nonnull(img);
	ck_assert_uint_eq(img->nr_files, 2);
	t = &img->files[0].tty;
	ck_assert_int_eq(memcmp(t, &in[0].tty, sizeof(*t)), 0);
	ck_assert_uint_eq(img->files[0].nr_chunks, 1);
	ck_assert_uint_eq(img->files[0].chunks[0].len, 8);
	ck_assert_uint_eq(img->files[1].kind, IMG_FILE_PTY_SLAVE);
	ck_assert_uint_eq(img->files[1].tty.index, 7);
	ck_assert_ptr_eq(img_pty_master(img, 0, 7), &img->files[0]);
	ck_assert_ptr_null(img_pty_master(img, 0, 8));
	img_free(img);
}
END_TEST

static void dmg_flags(struct img_file *f) { f[0].tty.flags = 64; }
/* a console is made by the root on the tree's own instance */
static void dmg_console(struct img_file *f)
{
	f[0].tty.flags = IMG_TTY_CONSOLE;
}
static void dmg_column(struct img_file *f)
{
	f[0].tty.flags = IMG_TTY_COLUMN;
	f[0].tty.column = IMG_TTY_MAX_COLUMN + 1;
}
static void dmg_rows(struct img_file *f) { f[0].tty.rows = 65536; }
static void dmg_sid(struct img_file *f) { f[0].tty.sid = -1; }
static void dmg_pgrp(struct img_file *f) { f[0].tty.sid = 0; }
static void dmg_index(struct img_file *f) { f[1].tty.index = IMG_MAX_PTY; }
static void dmg_orphan(struct img_file *f) { f[1].tty.index = 8; }
static void dmg_two(struct img_file *f) { f[1] = f[0]; f[1].id = 2; }

START_TEST(test_refuse_pty)
{
	static const struct {
		void (*damage)(struct img_file *f);
		const char *want;
	} cases[] = {
		{ dmg_flags, "file 1: bad tty flags 0x40" },
		{ dmg_console, "file 1: console pty 7 is on no devpts mount of the image" },
		{ dmg_column, "file 1: bad column 65537 or 2" },
		{ dmg_rows, "file 1: bad window size" },
		{ dmg_sid, "file 1: bad session -1 or group 1240" },
		{ dmg_pgrp, "file 1: bad session 0 or group 1240" },
		{ dmg_index, "file 2: bad pty index 1048576" },
		{ dmg_orphan, "file 2: the master of pty 8 is not in the image" },
		{ dmg_two, "file 2: pty 7 has two masters" },
	};
	struct img_file f[2];
	size_t i;

	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		pty_files(f);
		cases[i].damage(f);
		commit_expect_refused(write_files(f, 2, NULL), cases[i].want);
	}
}
END_TEST

START_TEST(test_refuse_pty_slave_data)
{
	struct img_file f[2];
	struct img_writer *w = img_writer_open(path);

	pty_files(f);
	ck_assert_ptr_nonnull(w);
	w_header(w);
	ck_assert_int_eq(img_write_file(w, &f[0]), 0);
	ck_assert_int_eq(img_write_file(w, &f[1]), 0);
	w_chunk(w, 2, "typed\n", 0);
	w_proc(w, 10, 1);
	w_thread(w, 10);
	commit_expect_refused(w, "FILE_DATA of file 2, which holds no bytes");
}
END_TEST

/* The master's chunks (flags, data), then its slave and their process. */
static struct img_writer *write_typed(const struct img_file *f,
				      const uint32_t *flags,
				      const char *const *data, int n)
{
	struct img_writer *w = img_writer_open(path);
	int i;

	ck_assert_ptr_nonnull(w);
	w_header(w);
	ck_assert_int_eq(img_write_file(w, &f[0]), 0);
	for (i = 0; i < n; i++)
		w_chunk(w, 1, data[i], flags[i]);
	ck_assert_int_eq(img_write_file(w, &f[1]), 0);
	w_proc(w, 10, 1);
	w_thread(w, 10);
	w_file_fd(w, 3, 1);
	w_file_fd(w, 4, 2);
	return w;
}

#define IN	IMG_CHUNK_TTY_IN
#define EOF_IN	(IMG_CHUNK_TTY_IN | IMG_CHUNK_EOR)

/* canonical (lflag has ICANON, IEXTEN); cc[i] = 7i + 1: VEOF 0x1d, VEOL
 * 'N', VEOL2 'q' */
START_TEST(test_typed_pty)
{
	static const uint32_t flags[] = { IN, 0, EOF_IN, EOF_IN, IN, IN };
	static const char *const data[] = {
		"ls\n", "tick 1\r\n", "ab", "", "xyN", "ha",
	};
	static const char want[] = "ls\nab\x1d\x1dxyNha";
	uint8_t buf[TTYQ_MAX];
	struct img_file f[2];
	struct image *img;

	pty_files(f);
	ck_assert_int_eq(img_writer_commit(write_typed(f, flags, data, 6)),
			 0);
	img = img_read_file(path, IMG_ISA_X86_64);
	ck_assert_ptr_nonnull(img);
	ck_assert_uint_eq(img->files[0].nr_chunks, 6);
	ck_assert_int_eq(img_tty_input(&img->files[0], buf),
			 sizeof(want) - 1);
	ck_assert_int_eq(memcmp(buf, want, sizeof(want) - 1), 0);
	img_free(img);
}
END_TEST

START_TEST(test_refuse_typed)
{
	static const struct {
		uint32_t flags[2];
		const char *data[2];
		const char *want;
	} cases[] = {
		{ { IN, IN }, { "ab", "c\n" },	/* a line not ended */
		  "file 1: pty 7 has typed bytes no terminal holds" },
		{ { IN, IN }, { "a\nb\n", "c" },	/* two lines in one */
		  "file 1: pty 7 has typed bytes no terminal holds" },
		{ { EOF_IN, IN }, { "a\n", "c" },	/* ended twice */
		  "file 1: pty 7 has typed bytes no terminal holds" },
		{ { IN, IN }, { "a\x1d\n", "c" },	/* VEOF in a line */
		  "file 1: pty 7 has typed bytes no terminal holds" },
		{ { 0, IMG_CHUNK_EOR }, { "out", "x" },
		  "file 1: a message boundary in a byte stream" },
	};
	struct img_file f[2];
	size_t i;

	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		pty_files(f);
		commit_expect_refused(write_typed(f, cases[i].flags,
						  cases[i].data, 2),
				      cases[i].want);
	}
}
END_TEST

/* A terminal outside the tree: its path and state; no flags, no data. */
static struct img_writer *write_outside(uint32_t flags, const char *data)
{
	struct img_writer *w = img_writer_open(path);
	struct img_file f[2];

	pty_files(f);
	f[0].kind = IMG_FILE_TTY;
	f[0].path = "/dev/pts/7";
	f[0].tty.flags = flags;
	ck_assert_ptr_nonnull(w);
	w_header(w);
	ck_assert_int_eq(img_write_file(w, &f[0]), 0);
	if (data)
		w_chunk(w, 1, data, 0);
	w_proc(w, 10, 1);
	w_thread(w, 10);
	return w;
}

START_TEST(test_outside_tty)
{
	const struct img_file *f;
	struct image *img;
	uint32_t n;

	ck_assert_int_eq(img_writer_commit(write_outside(0, NULL)), 0);
	img = img_read_file(path, IMG_ISA_X86_64);
	ck_assert_ptr_nonnull(img);
	f = img_outside_tty(img, &n);
	ck_assert_uint_eq(n, 1);
	ck_assert_ptr_nonnull(f);
	ck_assert_str_eq(f->path, "/dev/pts/7");
	ck_assert_uint_eq(f->tty.rows, 33);
	ck_assert_int_eq(f->tty.pgrp, 1240);
	img_free(img);
	commit_expect_refused(write_outside(IMG_TTY_LOCKED, NULL),
			      "file 1: a terminal outside the tree with flags 0x1");
	commit_expect_refused(write_outside(0, "x"),
			      "FILE_DATA of file 1, which holds no bytes");
}
END_TEST

/* A mount namespace with a DEVPTS mount (1) and a tmpfs (2), a pair of
 * /dev/pts/7 and f[0..n): the pair of mount 1, as damaged. */
static struct img_writer *write_devpts(const struct img_file *f, int n)
{
	struct img_ns ns = { .kind = IMG_NS_MNT, .owner = 10, .id = 5 };
	struct img_mount m = {
		.id = 1, .kind = IMG_MNT_DEVPTS, .dev = 0x2a,
		.point = "/dev/pts", .fstype = "devpts", .source = "devpts",
		.options = "newinstance,ptmxmode=666",
	};
	struct img_writer *w = img_writer_open(path);
	struct img_file host[2];
	int i;

	ck_assert_ptr_nonnull(w);
	w_header(w);
	ck_assert_int_eq(img_write_ns(w, &ns), 0);
	ck_assert_int_eq(img_write_mount(w, &m), 0);
	m.id = 2;
	m.kind = IMG_MNT_TMPFS;
	m.point = "/tmp";
	m.fstype = "tmpfs";
	m.options = "";
	ck_assert_int_eq(img_write_mount(w, &m), 0);
	pty_files(host);
	for (i = 0; i < 2; i++)
		ck_assert_int_eq(img_write_file(w, &host[i]), 0);
	for (i = 0; i < n; i++)
		ck_assert_int_eq(img_write_file(w, &f[i]), 0);
	w_proc(w, 10, 1);
	w_thread(w, 10);
	for (i = 0; i < n + 2; i++)
		w_file_fd(w, 3 + i, i + 1);
	return w;
}

static void devpts_files(struct img_file *f)
{
	pty_files(f);
	f[0].id = 3;
	f[1].id = 4;
	f[0].tty.mount = 1;
	f[1].tty.mount = 1;
}

START_TEST(test_devpts_pty)
{
	struct img_file in[2];
	struct image *img;

	devpts_files(in);
	ck_assert_int_eq(img_writer_commit(write_devpts(in, 2)), 0);
	img = img_read_file(path, IMG_ISA_X86_64);
	ck_assert_ptr_nonnull(img);
	ck_assert_uint_eq(img->nr_files, 4);
	ck_assert_uint_eq(img->files[0].tty.mount, 0);
	ck_assert_uint_eq(img->files[1].tty.mount, 0);
	ck_assert_uint_eq(img->files[2].tty.mount, 1);
	ck_assert_uint_eq(img->files[3].tty.mount, 1);
	ck_assert_int_eq(memcmp(&img->files[2].tty, &in[0].tty,
				sizeof(in[0].tty)), 0);
	ck_assert_ptr_eq(img_pty_master(img, 0, 7), &img->files[0]);
	ck_assert_ptr_eq(img_pty_master(img, 1, 7), &img->files[2]);
	ck_assert_ptr_null(img_pty_master(img, 2, 7));
	img_free(img);
}
END_TEST

static void dmg_no_mount(struct img_file *f) { f[0].tty.mount = 3; }
static void dmg_tmpfs(struct img_file *f) { f[0].tty.mount = 2; }
static void dmg_other(struct img_file *f) { f[0].tty.index = 8; }

START_TEST(test_refuse_devpts_pty)
{
	static const struct {
		void (*damage)(struct img_file *f);
		const char *want;
	} cases[] = {
		{ dmg_no_mount, "file 3: pty 7 is on mount 3, which is no devpts mount of the image" },
		{ dmg_tmpfs, "file 3: pty 7 is on mount 2, which is no devpts mount of the image" },
		/* its slave 7 of mount 1: /dev/pts/7's master is not it */
		{ dmg_other, "file 4: the master of pty 7 is not in the image" },
	};
	struct img_file f[2];
	size_t i;

	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		devpts_files(f);
		cases[i].damage(f);
		commit_expect_refused(write_devpts(f, 2), cases[i].want);
	}
}
END_TEST

static Suite *image_tty_suite(void)
{
	Suite *s = suite_create("image-tty");
	TCase *tc = image_tcase(s, "pty");

	add(tc, test_roundtrip_pty);
	add(tc, test_refuse_pty);
	add(tc, test_refuse_pty_slave_data);
	add(tc, test_typed_pty);
	add(tc, test_refuse_typed);
	add(tc, test_outside_tty);
	add(tc, test_devpts_pty);
	add(tc, test_refuse_devpts_pty);
	return s;
}

CHECK_MAIN(image_tty_suite)
