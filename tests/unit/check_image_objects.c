/*
 * check_image_objects: the image-level objects, records that stand before
 * the first PROC or between processes rather than inside one: FILE and
 * FILE_DATA (pipes, FIFOs, regular files, unix sockets, eventfd, signalfd,
 * timerfd, epoll, inotify) and the fds that name them; SHM objects, their
 * pages and the VMAs that map them; ZOMBIE processes. One refusal test per
 * broken rule, and the round trip of the eventfd ... inotify fields; the
 * other kinds go through the full round trip in check_image.
 */
#include <sys/socket.h>
#include <check.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "image/image.h"
#include "tests/unit/imagetest.h"
#include "tests/unit/unit.h"

/* ---- files: pipes, FIFOs, regular files, unix sockets ------------------- */

/* files: an fd naming a missing file, ids out of order, data astray,
 * FILE after a PROC, bad kind, a FIFO without its path */
START_TEST(test_refuse_fd_missing_file)
{
	struct img_writer *w = img_writer_open(path);

	ck_assert_ptr_nonnull(w);
	w_header(w);
	w_file(w, 1, IMG_FILE_PIPE, NULL);
	w_proc(w, 10, 1);
	w_thread(w, 10);
	w_file_fd(w, 3, 2);
	commit_expect_refused(w, "fd 3 names file 2, which the image lacks");
}
END_TEST

START_TEST(test_refuse_file_order)
{
	struct img_writer *w = img_writer_open(path);

	ck_assert_ptr_nonnull(w);
	w_header(w);
	w_file(w, 5, IMG_FILE_PIPE, NULL);
	w_file(w, 5, IMG_FILE_PIPE, NULL);
	w_proc(w, 10, 1);
	w_thread(w, 10);
	commit_expect_refused(w, "file id 5 not above the one before");
}
END_TEST

START_TEST(test_refuse_file_data_astray)
{
	struct img_writer *w = img_writer_open(path);

	ck_assert_ptr_nonnull(w);
	w_header(w);
	w_file(w, 1, IMG_FILE_PIPE, NULL);
	w_file(w, 2, IMG_FILE_PIPE, NULL);
	ck_assert_int_eq(img_write_file_data(w, 1, "x", 1), 0);
	w_proc(w, 10, 1);
	w_thread(w, 10);
	commit_expect_refused(w, "FILE_DATA of file 1 not right after");
}
END_TEST

START_TEST(test_refuse_file_kinds)
{
	struct img_writer *w = img_writer_open(path);

	ck_assert_ptr_nonnull(w);
	w_header(w);
	w_file(w, 1, 77, NULL);
	w_proc(w, 10, 1);
	w_thread(w, 10);
	commit_expect_refused(w, "file 1: bad kind 77");
	w = img_writer_open(path);
	ck_assert_ptr_nonnull(w);
	w_header(w);
	w_file(w, 1, IMG_FILE_FIFO, NULL);
	w_proc(w, 10, 1);
	w_thread(w, 10);
	commit_expect_refused(w, "a path goes with a FIFO, regular file, terminal, tun device or message queue");
}
END_TEST

/* An image with a pipe (file 1), then file 2, a unix socket ... */
static struct img_writer *begin_unix(void)
{
	struct img_writer *w = img_writer_open(path);

	ck_assert_ptr_nonnull(w);
	w_header(w);
	w_file(w, 1, IMG_FILE_PIPE, NULL);
	return w;
}

/* ... maybe one chunk of it, a process: refused with want */
static void end_unix(struct img_writer *w, const char *data, uint32_t flags,
		     const char *want)
{
	if (data)
		w_chunk(w, 2, data, flags);
	w_proc(w, 10, 1);
	w_thread(w, 10);
	commit_expect_refused(w, want);
}

/* The names of an image: "@" and escapes for an abstract name holding
 * NUL bytes; a path is never escaped; a bad escape is no name. */
START_TEST(test_unix_name_escapes)
{
	char b[IMG_MAX_UNIX_NAME + 1];

	ck_assert_int_eq(img_unix_name("@a\\0b\\\\c", 1, b), 6);
	ck_assert_int_eq(memcmp(b, "\0a\0b\\c", 6), 0);
	ck_assert_int_eq(img_unix_name("@a\\0b", 0, b), 5);
	ck_assert_int_eq(memcmp(b, "\0a\\0b", 5), 0);
	ck_assert_int_eq(img_unix_name("/x/y", 0, b), 4);
	ck_assert_int_eq(img_unix_name("/x/y", 1, b), -1);
	ck_assert_int_eq(img_unix_name("@a\\q", 1, b), -1);
	ck_assert_int_eq(img_unix_name("@a\\", 1, b), -1);
	ck_assert_int_eq(img_unix_name("@", 0, b), -1);
}
END_TEST

/* A unix socket with names, opts and maybe one chunk, refused with want */
static void expect_named_refused(uint32_t state, uint32_t peer,
				 const char *name, uint32_t opts,
				 const char *peer_name, const char *data,
				 const char *want)
{
	struct img_writer *w = begin_unix();
	struct img_file f = {
		.id = 2, .kind = IMG_FILE_UNIX, .flags = O_RDWR, .dev = 9,
		.ino = 3402, .path = (char *)name,
		.sk = { .type = SOCK_DGRAM, .state = state,
			.peer = peer ? 3400 + peer : 0, .opts = opts,
			.peer_name = (char *)peer_name },
	};

	ck_assert_int_eq(img_write_file(w, &f), 0);
	end_unix(w, data, IMG_CHUNK_EOR, want);
}

START_TEST(test_refuse_unix_names)
{
	expect_named_refused(IMG_UNIX_UNCONNECTED, 0, "/x", IMG_UNIX_ESCAPED,
			     NULL, NULL, "bad socket name");
	expect_named_refused(IMG_UNIX_UNCONNECTED, 0, "@a\\q",
			     IMG_UNIX_ESCAPED, NULL, NULL, "bad socket name");
	expect_named_refused(IMG_UNIX_CONNECTED, 0, NULL, IMG_UNIX_EXTERNAL,
			     NULL, NULL, "an external peer without a name");
	expect_named_refused(IMG_UNIX_CONNECTED, 2, NULL, 0, "/p", NULL,
			     "a bad peer name, or one with a peer");
	expect_named_refused(IMG_UNIX_UNCONNECTED, 0, NULL, 0, "/p", NULL,
			     "a bad peer name, or one with a peer");
	expect_named_refused(IMG_UNIX_UNCONNECTED, 0, "@x", IMG_UNIX_UNLINKED,
			     NULL, NULL, "an unlinked name that is no path");
	expect_named_refused(IMG_UNIX_UNCONNECTED, 0, NULL, 1u << 9, NULL,
			     NULL, "bad socket options");
	expect_named_refused(IMG_UNIX_CONNECTED, 2, NULL, IMG_UNIX_PENDING,
			     NULL, NULL, "a waiting connection without its");
	expect_named_refused(IMG_UNIX_CONNECTED, 0, NULL, IMG_UNIX_EXTERNAL,
			     "/dev/log", "x",
			     "data queued from a peer outside the image");
}
END_TEST

/* unix sockets: a bad type, state or name; a peer that is not a socket
 * of the image; boundaries in a stream; a message cut short; data in a
 * listening socket */
static void expect_unix_refused(uint32_t type, uint32_t state,
				uint32_t peer, const char *name,
				const char *data, uint32_t flags,
				const char *want)
{
	struct img_writer *w = begin_unix();

	w_unix(w, 2, type, state, peer, name);
	end_unix(w, data, flags, want);
}

START_TEST(test_refuse_unix)
{
	expect_unix_refused(7, IMG_UNIX_UNCONNECTED, 0, NULL, NULL, 0,
			    "file 2: bad socket type 7");
	expect_unix_refused(SOCK_STREAM, 9, 0, NULL, NULL, 0,
			    "file 2: bad socket state 9");
	expect_unix_refused(SOCK_STREAM, IMG_UNIX_UNCONNECTED, 2, NULL, NULL,
			    0, "a peer without a connection");
	expect_unix_refused(SOCK_DGRAM, IMG_UNIX_LISTENING, 0, "/x", NULL, 0,
			    "a listening socket must be");
	expect_unix_refused(SOCK_STREAM, IMG_UNIX_UNCONNECTED, 0, "@", NULL,
			    0, "bad socket name");
	expect_unix_refused(SOCK_STREAM, IMG_UNIX_CONNECTED, 1, NULL, NULL, 0,
			    "its peer 3401 is no socket of the image");
	expect_unix_refused(SOCK_STREAM, IMG_UNIX_CONNECTED, 0, NULL, "x",
			    IMG_CHUNK_EOR, "a message boundary in a byte stream");
	expect_unix_refused(SOCK_SEQPACKET, IMG_UNIX_CONNECTED, 0, NULL, "x",
			    0, "its last message has no end");
	expect_unix_refused(SOCK_STREAM, IMG_UNIX_LISTENING, 0, "/x", "x", 0,
			    "data queued in a listening socket");
	expect_unix_refused(SOCK_STREAM, IMG_UNIX_CONNECTED, 0, NULL, "", 0,
			    "file data of 0 bytes");
	expect_unix_refused(SOCK_DGRAM, IMG_UNIX_CONNECTED, 0, NULL, "x", 64,
			    "file data flags 0x40");
	expect_unix_refused(SOCK_STREAM, IMG_UNIX_CONNECTED, 0, NULL, "x",
			    IMG_CHUNK_ADDR, "a bad sender address");
	expect_unix_refused(SOCK_DGRAM, IMG_UNIX_UNCONNECTED, 0, "/d", "/a",
			    IMG_CHUNK_ADDR, "its last message has no end");
	expect_unix_refused(SOCK_STREAM, IMG_UNIX_CONNECTED, 0, NULL, "\1\0\0\0",
			    IMG_CHUNK_FDS, "bad descriptors in flight");
	expect_unix_refused(SOCK_DGRAM, IMG_UNIX_CONNECTED, 0, NULL, "abc",
			    IMG_CHUNK_FDS, "bad descriptors in flight");
	expect_unix_refused(SOCK_STREAM, IMG_UNIX_CONNECTED, 0, NULL, "x",
			    IMG_CHUNK_TTY_IN,
			    "file 2: typed bytes in a file of kind 3");
}
END_TEST

/* A unix stream's descriptors in flight: an FDS chunk, then the bytes
 * of the skb they came with as one chunk flagged EOR (file 1, a pipe,
 * is what is in flight); other shapes refused. */
static void w_fds_chunk(struct img_writer *w)
{
	struct img_chunk ch = { .flags = IMG_CHUNK_FDS, .len = 4,
				.data = (uint8_t *)"\1\0\0\0" };

	ck_assert_int_eq(img_write_file_chunk(w, 2, &ch), 0);
}

static struct img_writer *stream_fds(const char *second, uint32_t flags)
{
	struct img_writer *w = begin_unix();

	w_unix(w, 2, SOCK_STREAM, IMG_UNIX_CONNECTED, 0, NULL);
	w_chunk(w, 2, "ab", 0);
	w_fds_chunk(w);
	if (flags == IMG_CHUNK_FDS)
		w_fds_chunk(w);
	else
		w_chunk(w, 2, second, flags);
	return w;
}

START_TEST(test_stream_fds)
{
	struct img_writer *w = stream_fds("cd", IMG_CHUNK_EOR);
	const struct img_file *f;
	struct image *img;

	w_chunk(w, 2, "e", 0);
	w_proc(w, 10, 1);
	w_thread(w, 10);
	ck_assert_int_eq(img_writer_commit(w), 0);
	img = img_read_file(path, IMG_ISA_X86_64);
	ck_assert_ptr_nonnull(img);
	f = img_find_file(img, 2);
	ck_assert_uint_eq(f->nr_chunks, 4);
	ck_assert_uint_eq(f->chunks[1].flags, IMG_CHUNK_FDS);
	ck_assert_uint_eq(f->chunks[2].flags, IMG_CHUNK_EOR);
	img_free(img);
	end_unix(stream_fds("cd", 0), NULL, 0,
		 "descriptors in flight without their bytes");
	end_unix(stream_fds(NULL, IMG_CHUNK_FDS), NULL, 0,
		 "bad descriptors in flight");
	end_unix(stream_fds("cd", IMG_CHUNK_EOR), "x", IMG_CHUNK_EOR,
		 "a message boundary in a byte stream");
}
END_TEST

/* SO_PASSCRED: a chunk of credentials (pid, uid, gid) before a message,
 * or a stream's bytes; pid 10 is the image's process */
static void w_creds(struct img_writer *w, uint32_t len)
{
	struct img_chunk ch = { .flags = IMG_CHUNK_CREDS, .len = len,
				.data = (uint8_t *)"\12\0\0\0\1\0\0\0\2\0\0\0" };

	ck_assert_int_eq(img_write_file_chunk(w, 2, &ch), 0);
}

static struct img_writer *creds_file(uint32_t type, uint32_t len)
{
	struct img_writer *w = begin_unix();

	w_unix(w, 2, type, IMG_UNIX_CONNECTED, 0, NULL);
	w_creds(w, len);
	return w;
}

START_TEST(test_unix_creds)
{
	struct img_writer *w = creds_file(SOCK_DGRAM, 12);
	struct image *img;

	w_chunk(w, 2, "m", IMG_CHUNK_EOR);
	w_creds(w, 12);
	w_chunk(w, 2, "n", IMG_CHUNK_EOR);
	w_proc(w, 10, 1);
	w_thread(w, 10);
	ck_assert_int_eq(img_writer_commit(w), 0);
	img = img_read_file(path, IMG_ISA_X86_64);
	ck_assert_ptr_nonnull(img);
	ck_assert_uint_eq(img_find_file(img, 2)->nr_chunks, 4);
	img_free(img);
	end_unix(creds_file(SOCK_DGRAM, 11), "m", IMG_CHUNK_EOR,
		 "file 2: bad credentials");
	w = creds_file(SOCK_DGRAM, 12);
	w_chunk(w, 2, "m", 0);
	w_creds(w, 12);
	end_unix(w, "n", IMG_CHUNK_EOR, "file 2: bad credentials");
	end_unix(creds_file(SOCK_STREAM, 12), NULL, 0,
		 "descriptors or credentials without bytes");
}
END_TEST

/* the writer keeps FILE records before the first PROC */
START_TEST(test_file_after_proc_refused_by_writer)
{
	struct img_writer *w = begin_proc(1);
	struct img_file f = { .id = 1, .kind = IMG_FILE_PIPE };

	ck_assert_int_eq(img_write_file(w, &f), -1);
	img_writer_abort(w);
}
END_TEST

/* ---- eventfd, epoll, signalfd, timerfd, inotify files ------------------- */

static struct img_epoll_watch ep_watches[] = {
	{ .file = 1, .tfd = 3, .events = 0x80000001u | IMG_EPOLL_REPORTED,
	  .data = 0x1111 },
	{ .file = 3, .tfd = 4, .events = 0x40000004u, .data = 0x3333 },
	{ .file = 1, .tfd = 9, .events = 0x19, .data = ~0ull },
	{ .file = 5, .tfd = 12, .events = 1, .data = 5 },
};

static struct img_inotify_watch in_watches[] = {
	{ .wd = 1, .mask = 0x2, .dev = 0xfe00, .ino = 77, .path = "/tmp" },
	{ .wd = 4, .mask = 0x80000fff, .dev = 0xfe00, .ino = 78,
	  .path = "/etc/passwd" },
};

/* One file of each kind, ids 1..5, the epoll (4) watching the others. */
static void kfd_files(struct img_file f[5])
{
	memset(f, 0, 5 * sizeof(*f));
	f[0] = (struct img_file){ .id = 1, .kind = IMG_FILE_EVENTFD,
		.flags = O_RDWR | O_NONBLOCK, .dev = 16, .ino = 26,
		.efd = { .count = 0xfffffffffffffffeull, .semaphore = 1 } };
	f[1] = (struct img_file){ .id = 2, .kind = IMG_FILE_SIGNALFD,
		.flags = O_RDWR, .sfd.sigmask = 0x4200 };
	f[2] = (struct img_file){ .id = 3, .kind = IMG_FILE_TIMERFD,
		.flags = O_RDWR, .tfd = { .clockid = CLOCK_REALTIME,
		.flags = IMG_TFD_ABSTIME | IMG_TFD_CANCEL_ON_SET, .ticks = 12,
		.value_ns = 1700000000123456789ull,
		.interval_ns = 250000000 } };
	f[3] = (struct img_file){ .id = 4, .kind = IMG_FILE_EPOLL,
		.flags = O_RDWR, .ep = { ARRAY_SIZE(ep_watches), ep_watches } };
	f[4] = (struct img_file){ .id = 5, .kind = IMG_FILE_INOTIFY,
		.flags = O_RDONLY, .in = { ARRAY_SIZE(in_watches),
		in_watches } };
}

static void w_files(struct img_writer *w, const struct img_file *f, int n)
{
	int i;

	for (i = 0; i < n; i++)
		ck_assert_int_eq(img_write_file(w, &f[i]), 0);
}

static struct img_writer *begin_files(const struct img_file *f, int n)
{
	struct img_writer *w = img_writer_open(path);

	ck_assert_ptr_nonnull(w);
	w_header(w);
	w_files(w, f, n);
	w_proc(w, 10, 1);
	w_thread(w, 10);
	return w;
}

static void check_kfd_watches(const struct img_file *f)
{
	uint32_t i;

	ck_assert_uint_eq(f[3].ep.nr, ARRAY_SIZE(ep_watches));
	for (i = 0; i < f[3].ep.nr; i++) {
		ck_assert_uint_eq(f[3].ep.w[i].file, ep_watches[i].file);
		ck_assert_int_eq(f[3].ep.w[i].tfd, ep_watches[i].tfd);
		ck_assert_uint_eq(f[3].ep.w[i].events, ep_watches[i].events);
		ck_assert_uint_eq(f[3].ep.w[i].data, ep_watches[i].data);
	}
	ck_assert_uint_eq(f[4].in.nr, ARRAY_SIZE(in_watches));
	for (i = 0; i < f[4].in.nr; i++) {
		ck_assert_int_eq(f[4].in.w[i].wd, in_watches[i].wd);
		ck_assert_uint_eq(f[4].in.w[i].mask, in_watches[i].mask);
		ck_assert_uint_eq(f[4].in.w[i].dev, in_watches[i].dev);
		ck_assert_uint_eq(f[4].in.w[i].ino, in_watches[i].ino);
		ck_assert_str_eq(f[4].in.w[i].path, in_watches[i].path);
	}
}

START_TEST(test_roundtrip_kfds)
{
	struct img_file in[5];
	const struct img_file *f;
	struct img_writer *w;
	struct image *img;
	int i;

	kfd_files(in);
	w = begin_files(in, 5);
	for (i = 0; i < 5; i++)
		w_file_fd(w, 3 + i, i + 1);
	ck_assert_int_eq(img_writer_commit(w), 0);
	img = img_read_file(path, IMG_ISA_X86_64);
	ck_assert_ptr_nonnull(img);
	ck_assert_uint_eq(img->nr_files, 5);
	f = img->files;
	for (i = 0; i < 5; i++) {
		ck_assert_uint_eq(f[i].kind, in[i].kind);
		ck_assert_uint_eq(f[i].flags, in[i].flags);
	}
	ck_assert_uint_eq(f[0].efd.count, 0xfffffffffffffffeull);
	ck_assert_uint_eq(f[0].efd.semaphore, 1);
	ck_assert_uint_eq(f[1].sfd.sigmask, 0x4200);
	ck_assert_uint_eq(f[2].tfd.clockid, CLOCK_REALTIME);
	ck_assert_uint_eq(f[2].tfd.flags, 3);
	ck_assert_uint_eq(f[2].tfd.ticks, 12);
	ck_assert_uint_eq(f[2].tfd.value_ns, 1700000000123456789ull);
	ck_assert_uint_eq(f[2].tfd.interval_ns, 250000000);
	check_kfd_watches(f);
	img_free(img);
}
END_TEST

/* One file of the set changed, the image refused with want. */
static void kfd_refused(void (*damage)(struct img_file *f), const char *want)
{
	struct img_file f[5];
	struct img_epoll_watch ew[ARRAY_SIZE(ep_watches)];
	struct img_inotify_watch iw[ARRAY_SIZE(in_watches)];

	kfd_files(f);
	memcpy(ew, ep_watches, sizeof(ew));
	memcpy(iw, in_watches, sizeof(iw));
	f[3].ep.w = ew;
	f[4].in.w = iw;
	damage(f);
	commit_expect_refused(begin_files(f, 5), want);
}

static void dmg_epoll_missing(struct img_file *f) { f[3].ep.w[1].file = 9; }
static void dmg_epoll_self(struct img_file *f) { f[3].ep.w[0].file = 4; }
static void dmg_epoll_twice(struct img_file *f) { f[3].ep.w[2].tfd = 3; }
static void dmg_epoll_fd(struct img_file *f) { f[3].ep.w[3].tfd = -2; }
static void dmg_epoll_lt(struct img_file *f)
{
	f[3].ep.w[3].events |= IMG_EPOLL_REPORTED;
}
static void dmg_epoll_oneshot(struct img_file *f)
{
	f[3].ep.w[1].events |= 0x80000000u | IMG_EPOLL_REPORTED;
}
static void dmg_efd_count(struct img_file *f) { f[0].efd.count = ~0ull; }
static void dmg_efd_sem(struct img_file *f) { f[0].efd.semaphore = 2; }
static void dmg_tfd_clock(struct img_file *f) { f[2].tfd.clockid = 3; }
static void dmg_tfd_flags(struct img_file *f) { f[2].tfd.flags = 4; }
static void dmg_tfd_abs(struct img_file *f)
{
	f[2].tfd.clockid = CLOCK_MONOTONIC;
}
static void dmg_tfd_cancel(struct img_file *f)
{
	f[2].tfd.flags = IMG_TFD_CANCEL_ON_SET;
}
static void dmg_in_order(struct img_file *f) { f[4].in.w[1].wd = 1; }
static void dmg_in_wd(struct img_file *f) { f[4].in.w[0].wd = 0; }
static void dmg_in_mask(struct img_file *f) { f[4].in.w[1].mask = 0; }
static void dmg_in_path(struct img_file *f) { f[4].in.w[0].path = "tmp"; }
static void dmg_pipe_size(struct img_file *f) { f[1].pipe_size = 4096; }

START_TEST(test_refuse_kfd_values)
{
	static const struct {
		void (*damage)(struct img_file *f);
		const char *want;
	} t[] = {
		{ dmg_epoll_missing, "epoll file 4 watches file 9, which the image lacks" },
		{ dmg_epoll_self, "file 4: watch of file 4" },
		{ dmg_epoll_twice, "epoll file 4 watches file 1 as fd 3 twice" },
		{ dmg_epoll_fd, "file 4: watch of fd -2" },
		{ dmg_epoll_lt, "file 4: watch of fd 12 marked reported, not edge-triggered without one-shot" },
		{ dmg_epoll_oneshot, "file 4: watch of fd 4 marked reported, not edge-triggered without one-shot" },
		{ dmg_efd_count, "file 1: eventfd count out of range" },
		{ dmg_efd_sem, "file 1: eventfd semaphore 2" },
		{ dmg_tfd_clock, "file 3: bad clock 3" },
		{ dmg_tfd_flags, "file 3: bad timer flags 0x4" },
		{ dmg_tfd_abs, "file 3: absolute time on clock 1" },
		{ dmg_tfd_cancel, "file 3: cancel on set without absolute time" },
		{ dmg_in_order, "file 5: watch 1 not above the one before" },
		{ dmg_in_wd, "file 5: watch 0 not above" },
		{ dmg_in_mask, "file 5: watch 4 with no events" },
		{ dmg_in_path, "file 5: watch 1 on a relative path" },
		{ dmg_pipe_size, "file 2: a pipe size on kind 6" },
	};
	size_t i;

	for (i = 0; i < ARRAY_SIZE(t); i++)
		kfd_refused(t[i].damage, t[i].want);
}
END_TEST

static void pidfd_refused(const struct img_file *f, const char *want)
{
	struct img_writer *w = begin_files(f, 1);

	commit_expect_refused(w, want);
}

/* pidfds: of a process of the image, or reaped with a status; read back,
 * and refused with another process, flags or status. */
START_TEST(test_pidfds)
{
	struct img_file f[2] = {
		{ .id = 1, .kind = IMG_FILE_PIDFD, .flags = O_RDWR | O_NONBLOCK,
		  .pidfd = { .pid = 10 } },
		{ .id = 2, .kind = IMG_FILE_PIDFD, .flags = O_RDWR,
		  .pidfd = { .status = 5 << 8 } },
	};
	struct img_writer *w = begin_files(f, 2);
	struct image *img;

	ck_assert_int_eq(img_writer_commit(w), 0);
	img = img_read_file(path, 0);
	ck_assert_ptr_nonnull(img);
	ck_assert_int_eq(img->files[0].pidfd.pid, 10);
	ck_assert_uint_eq(img->files[1].pidfd.status, 5 << 8);
	img_free(img);
	f[0].pidfd.pid = 11;
	pidfd_refused(f, "file 1: a pidfd of 11, not a process of the image");
	f[0].pidfd.status = 9;
	pidfd_refused(f, "file 1: pidfd of 11 with status 0x9");
	f[0].pidfd = (typeof(f[0].pidfd)){ .pid = 10 };
	f[0].flags |= O_APPEND;
	pidfd_refused(f, "file 1: pidfd flags");
}
END_TEST

/* A POSIX message queue's fd: its name and flags read back; refused with
 * a name that is not /NAME, and with flags other than the access mode
 * and O_NONBLOCK */
START_TEST(test_mqueue_fd)
{
	struct img_file f = { .id = 1, .kind = IMG_FILE_MQUEUE,
			      .flags = O_RDWR | O_NONBLOCK, .path = "/q" };
	struct img_writer *w = begin_files(&f, 1);
	struct image *img;

	ck_assert_int_eq(img_writer_commit(w), 0);
	img = img_read_file(path, 0);
	ck_assert_ptr_nonnull(img);
	ck_assert_uint_eq(img->files[0].kind, IMG_FILE_MQUEUE);
	ck_assert_str_eq(img->files[0].path, "/q");
	ck_assert_uint_eq(img->files[0].flags, O_RDWR | O_NONBLOCK);
	img_free(img);
	f.path = "/a/b";
	pidfd_refused(&f, "file 1: a POSIX message queue with flags 04002, or a name that is not /NAME");
	f.path = "q";
	pidfd_refused(&f, "a name that is not /NAME");
	f.path = "/q";
	f.flags |= O_APPEND;
	pidfd_refused(&f, "file 1: a POSIX message queue with flags 06002");
}
END_TEST

/* queued bytes belong to pipes: an eventfd has none */
START_TEST(test_refuse_kfd_file_data)
{
	struct img_file f[5];
	struct img_writer *w = img_writer_open(path);

	kfd_files(f);
	ck_assert_ptr_nonnull(w);
	w_header(w);
	w_files(w, f, 1);
	ck_assert_int_eq(img_write_file_data(w, 1, "x", 1), 0);
	w_proc(w, 10, 1);
	w_thread(w, 10);
	commit_expect_refused(w, "FILE_DATA of file 1, which holds no bytes");
}
END_TEST

/* the encoder caps the number of watches like the decoder */
START_TEST(test_kfd_too_many_watches_not_written)
{
	struct img_file f[5];
	struct img_writer *w = img_writer_open(path);

	kfd_files(f);
	f[3].ep.nr = IMG_MAX_WATCHES + 1;
	ck_assert_ptr_nonnull(w);
	w_header(w);
	log_init("check_image_objects", -1);
	ck_assert_int_eq(img_write_file(w, &f[3]), -1);
	img_writer_abort(w);
}
END_TEST

/* ---- refusals: shared memory objects ------------------------------------ */

/* An image with one SHM record s (made valid or damaged by the caller). */
static struct img_writer *begin_shm(const struct img_shm *s)
{
	struct img_writer *w = img_writer_open(path);

	ck_assert_ptr_nonnull(w);
	w_header(w);
	ck_assert_int_eq(img_write_shm(w, s), 0);
	return w;
}

static void shm_expect_refused(const struct img_shm *s, const char *want)
{
	struct img_writer *w = begin_shm(s);

	w_proc(w, 10, 1);
	w_thread(w, 10);
	commit_expect_refused(w, want);
}

START_TEST(test_refuse_bad_shm_fields)
{
	struct img_shm s = { .id = 1, .kind = IMG_SHM_ANON, .size = PS };

	s.kind = 9;
	shm_expect_refused(&s, "record 1 (SHM) at offset 128: bad shm kind 9");
	s.kind = IMG_SHM_ANON;
	s.id = 2;
	shm_expect_refused(&s, "shm object 1 has id 2");
	s.id = 1;
	s.size = 0;
	shm_expect_refused(&s, "empty shm object");
	s.size = 1ull << 60;
	shm_expect_refused(&s, "too large");
	s.size = PS;
	s.mode = 010000;
	shm_expect_refused(&s, "bad shm mode");
	s.mode = 0600;
	s.flags = IMG_SHM_REMOVED;
	shm_expect_refused(&s, "System V fields on a shm object of kind 1");
	s.flags = 0;
	s.kind = IMG_SHM_MEMFD;
	shm_expect_refused(&s, "memfd without a name");
	s.name = "x";
	s.seals = 0x40;
	shm_expect_refused(&s, "bad seals 0x40");
	s.kind = IMG_SHM_SYSV;
	s.seals = 0;
	shm_expect_refused(&s, "name on a shm object that is not a memfd");
	s.name = NULL;
	s.shmid = -1;
	shm_expect_refused(&s, "bad shmid -1");
}
END_TEST

START_TEST(test_refuse_shm_after_proc)
{
	struct img_writer *w = begin_proc(1);
	struct img_shm s = { .id = 1, .kind = IMG_SHM_ANON, .size = PS };
	struct enc e = { 0 };
	struct image *img;
	uint8_t *buf;
	size_t len;

	log_init("check_image_objects", -1);
	ck_assert_int_eq(img_write_shm(w, &s), -1);	/* the writer refuses */
	img_writer_abort(w);
	w = begin_shm(&s);
	ck_assert_int_eq(img_writer_commit(w), -1);	/* and a lone SHM */
	/* the reader refuses it too */
	log_init("check_image_objects", LOG_ERR);
	ck_assert_int_eq(img_enc_shm(&e, &s), 0);
	buf = small_image(&len);
	img = img_read_buf(buf, len, 0);
	ck_assert_ptr_nonnull(img);
	img_free(img);
	buf = splice_record(buf, &len, IMG_REC_SHM, e.buf, e.len);
	expect_refused(buf, len, 0, "(SHM) at offset");
	expect_refused(buf, len, 0, "SHM record after the first PROC");
	enc_free(&e);
}
END_TEST

START_TEST(test_refuse_shm_pages_outside)
{
	struct img_shm s = { .id = 1, .kind = IMG_SHM_ANON, .size = 2 * PS };
	struct img_writer *w = begin_shm(&s);

	w_pages(w, PS, 2);
	w_proc(w, 10, 1);
	w_thread(w, 10);
	commit_expect_refused(w, "beyond the 8192 bytes of shm object 1");
}
END_TEST

START_TEST(test_refuse_shm_pages_unsorted)
{
	struct img_shm s = { .id = 1, .kind = IMG_SHM_ANON, .size = 8 * PS };
	struct img_writer *w = begin_shm(&s);

	w_pages(w, 4 * PS, 2);
	w_pages(w, PS, 4);
	w_proc(w, 10, 1);
	w_thread(w, 10);
	commit_expect_refused(w, "pages at offset 0x1000 not after");
}
END_TEST

/* A segment of the tree's IPC namespace 7: its SYSV record (id 3), then
 * the SHM object flagged IPCNS that maps shmid, with npages PAGES. */
static struct img_writer *begin_ipcns_shm(int32_t shmid, uint32_t npages)
{
	struct img_ns ns = { .kind = IMG_NS_IPC, .owner = 10, .id = 7 };
	struct img_sysv v = { .kind = IMG_SYSV_SHM, .ns = 7, .id = 3,
			      .mode = 0600, .size = PS };
	struct img_shm s = { .id = 1, .kind = IMG_SHM_SYSV, .size = PS,
			     .mode = 0600, .shmid = shmid,
			     .flags = IMG_SHM_IPCNS | IMG_SHM_REMOVED };
	struct img_writer *w = img_writer_open(path);

	ck_assert_ptr_nonnull(w);
	w_header(w);
	ck_assert_int_eq(img_write_ns(w, &ns), 0);
	ck_assert_int_eq(img_write_sysv(w, &v), 0);
	ck_assert_int_eq(img_write_shm(w, &s), 0);
	if (npages)
		w_pages(w, 0, npages);
	w_proc(w, 10, 1);
	w_thread(w, 10);
	return w;
}

START_TEST(test_shm_ipcns)
{
	struct img_writer *w = begin_ipcns_shm(3, 0);
	struct image *img;

	ck_assert_int_eq(img_writer_commit(w), 0);
	img = img_read_file(path, 0);
	ck_assert_ptr_nonnull(img);
	ck_assert_uint_eq(img->shms[0].shm.flags,
			  IMG_SHM_IPCNS | IMG_SHM_REMOVED);
	ck_assert_int_eq(img->shms[0].shm.shmid, 3);
	img_free(img);
	commit_expect_refused(begin_ipcns_shm(4, 0),
			      "System V segment 4 of an IPC namespace of the tree's own has no SYSV record");
	commit_expect_refused(begin_ipcns_shm(3, 1),
			      "pages for shm object 1, whose SYSV record holds them");
}
END_TEST

START_TEST(test_refuse_vma_unknown_shm)
{
	struct img_shm s = { .id = 1, .kind = IMG_SHM_ANON, .size = PS };
	struct img_writer *w = begin_shm(&s);

	w_proc(w, 10, 1);
	w_thread(w, 10);
	w_shm_vma(w, 0x1000, 0x2000, 0, IMG_VMA_SHARED | IMG_VMA_ANON, 2);
	commit_expect_refused(w, "maps shm object 2, the image has 1");
}
END_TEST

START_TEST(test_refuse_vma_shm_kind_mismatch)
{
	struct img_shm s = { .id = 1, .kind = IMG_SHM_SYSV, .size = PS };
	struct img_writer *w = begin_shm(&s);

	w_proc(w, 10, 1);
	w_thread(w, 10);
	w_shm_vma(w, 0x1000, 0x2000, 0, 0, 1);	/* System V is never private */
	commit_expect_refused(w, "flags 0 for shm object 1 of kind 3");
}
END_TEST

START_TEST(test_refuse_vma_past_sysv_segment)
{
	struct img_shm s = { .id = 1, .kind = IMG_SHM_SYSV, .size = PS };
	struct img_writer *w = begin_shm(&s);

	w_proc(w, 10, 1);
	w_thread(w, 10);
	w_shm_vma(w, 0x1000, 0x3000, 0, IMG_VMA_SHARED, 1);
	commit_expect_refused(w, "offset 0 in shm object 1 of 4096 bytes");
}
END_TEST

START_TEST(test_refuse_shared_anon_without_shm)
{
	struct img_writer *w = begin_proc(1);

	w_shm_vma(w, 0x1000, 0x2000, 0, IMG_VMA_SHARED | IMG_VMA_ANON, 0);
	commit_expect_refused(w, "flags 0x3 without a shm object");
}
END_TEST

START_TEST(test_refuse_pages_in_shared_shm_vma)
{
	struct img_shm s = { .id = 1, .kind = IMG_SHM_ANON, .size = PS };
	struct img_writer *w = begin_shm(&s);

	w_proc(w, 10, 1);
	w_thread(w, 10);
	w_shm_vma(w, 0x1000, 0x2000, 0, IMG_VMA_SHARED | IMG_VMA_ANON, 1);
	w_pages(w, 0x1000, 1);
	commit_expect_refused(w, "in a shared mapping of a shm object");
}
END_TEST

/* ---- ghosts: files no path reaches ------------------------------------- */

static struct img_ghost ghost_reg = {
	.id = 1, .mode = 0100640, .uid = 7, .gid = 8, .size = 3 * PS + 100,
	.atime_ns = 1500000000123456789ull, .mtime_ns = 1000000000000000001ull,
	.dev = 0x803, .ino = 77, .path = "/tmp/d/log",
};

static struct img_ghost ghost_dir = {
	.id = 2, .mode = 040751, .dev = 0x803, .ino = 78, .path = "/tmp/gone",
};

static void w_ghost(struct img_writer *w, const struct img_ghost *g)
{
	ck_assert_int_eq(img_write_ghost(w, g), 0);
}

/* A process with a deleted cwd, a ghost fd and a ghost mapping. */
static void w_ghost_proc(struct img_writer *w, const char *cwd)
{
	struct img_proc p = {
		.pid = 10, .ppid = 1, .pgid = 10, .sid = 1, .nr_threads = 1,
		.exe = "/usr/bin/test", .cwd = (char *)cwd, .root = "/",
	};
	struct img_vma v = {
		.start = 0x10000, .end = 0x14000, .prot = 3,
		.flags = IMG_VMA_GHOST | IMG_VMA_SHARED, .dev = 0x803,
		.ino = 77, .path = "/tmp/d/log (deleted)",
	};

	strcpy(p.comm, "ghostly");
	ck_assert_int_eq(img_write_proc(w, &p), 0);
	w_thread(w, 10);
	w_file_fd(w, 3, 1);
	ck_assert_int_eq(img_write_vma(w, &v), 0);
}

static struct img_writer *begin_ghost(const struct img_ghost *g);

static struct img_writer *begin_ghosts(void)
{
	struct img_writer *w = begin_ghost(NULL);
	struct img_file f = { .id = 1, .kind = IMG_FILE_GHOST,
			      .flags = O_RDWR, .pos = 5000, .ghost = 1 };

	ck_assert_int_eq(img_write_file(w, &f), 0);
	w_ghost(w, &ghost_reg);
	w_pages(w, 0, 1);
	w_pages(w, 3 * PS, 1);	/* the last, partial page */
	w_ghost(w, &ghost_dir);
	return w;
}

START_TEST(test_roundtrip_ghosts)
{
	struct img_writer *w = begin_ghosts();
	const struct img_ghost *g;
	struct image *img;

	w_ghost_proc(w, "/tmp/gone (deleted)");
	ck_assert_int_eq(img_writer_commit(w), 0);
	img = img_read_file(path, 0);
	ck_assert_ptr_nonnull(img);
	ck_assert_uint_eq(img->nr_ghosts, 2);
	g = &img->ghosts[0].g;
	ck_assert_uint_eq(g->mode, 0100640);
	ck_assert_uint_eq(g->size, 3 * PS + 100);
	ck_assert_uint_eq(g->atime_ns, 1500000000123456789ull);
	ck_assert_uint_eq(g->mtime_ns, 1000000000000000001ull);
	ck_assert_uint_eq(g->uid, 7);
	ck_assert_str_eq(g->path, "/tmp/d/log");
	ck_assert_uint_eq(img->ghosts[0].nr_pages, 2);
	ck_assert_uint_eq(img->ghosts[0].pages[1].addr, 3 * PS);
	ck_assert_uint_eq(img->ghosts[1].nr_pages, 0);
	ck_assert_ptr_eq(img_find_ghost(img, 0x803, 77), g);
	ck_assert_ptr_null(img_find_ghost(img, 0x803, 79));
	ck_assert_ptr_eq(img_ghost_named(img, "/tmp/gone (deleted)", 1),
			 &img->ghosts[1].g);
	ck_assert_ptr_null(img_ghost_named(img, "/tmp/gone", 1));
	ck_assert_ptr_null(img_ghost_named(img, "/tmp/d/log (deleted)", 1));
	ck_assert_ptr_eq(img_ghost_named(img, "/tmp/d/log (deleted)", 0), g);
	ck_assert_uint_eq(img->files[0].ghost, 1);
	ck_assert_uint_eq(img->files[0].pos, 5000);
	ck_assert_uint_eq(img->procs[0].vmas[0].flags,
			  IMG_VMA_GHOST | IMG_VMA_SHARED);
	img_free(img);
}
END_TEST

/* An image with the one GHOST g, or (g NULL) none so far. */
static struct img_writer *begin_ghost(const struct img_ghost *g)
{
	struct img_writer *w = img_writer_open(path);

	ck_assert_ptr_nonnull(w);
	w_header(w);
	if (g)
		w_ghost(w, g);
	return w;
}

/* w's process, then the reader must refuse it with want. */
static void end_refused(struct img_writer *w, const char *want)
{
	w_proc(w, 10, 1);
	w_thread(w, 10);
	commit_expect_refused(w, want);
}

static void ghost_refused(const struct img_ghost *g, const char *want)
{
	end_refused(begin_ghost(g), want);
}

START_TEST(test_refuse_bad_ghost_fields)
{
	struct img_ghost g = ghost_reg;

	g.mode = 0140644;
	ghost_refused(&g, "mode 0140644 is no regular file, directory or FIFO");
	g.mode = 0170644;
	ghost_refused(&g, "is no regular file, directory or FIFO");
	g.mode = 010644;
	g.size = 1;
	ghost_refused(&g, "ghost 1: a directory or FIFO with 1 bytes");
	g = ghost_dir;
	g.id = 1;
	g.size = 10;
	ghost_refused(&g, "ghost 1: a directory or FIFO with 10 bytes");
	g = ghost_reg;
	g.size = 1ull << 60;
	ghost_refused(&g, "ghost 1: size 0x1000000000000000 too large");
	g.size = 0;
	g.path = "tmp/x";
	ghost_refused(&g, "ghost 1: bad path");
	g.path = "/";
	ghost_refused(&g, "ghost 1: bad path");
	g.path = "/tmp/..";
	ghost_refused(&g, "ghost 1: bad path");
	g.path = "/x";
	g.id = 2;
	ghost_refused(&g, "ghost 1 has id 2");
}
END_TEST

START_TEST(test_refuse_ghost_order)
{
	struct img_writer *w = begin_ghost(&ghost_reg);

	w_shm(w, 1, IMG_SHM_ANON, PS);	/* the writer lets it pass */
	end_refused(w, "SHM record after the first PROC or GHOST");
}
END_TEST

START_TEST(test_refuse_ghost_pages_outside)
{
	struct img_writer *w = begin_ghost(&ghost_reg);

	w_pages(w, 3 * PS, 2);
	end_refused(w, "beyond the 12388 bytes of ghost 1");
}
END_TEST

START_TEST(test_refuse_ghost_references)
{
	struct img_writer *w = begin_ghosts();
	struct img_ghost g = ghost_dir;

	w_ghost_proc(w, "/tmp/elsewhere (deleted)");
	commit_expect_refused(w, "its cwd /tmp/elsewhere (deleted) is no ghost");
	w = begin_ghosts();
	g.id = 3;
	g.ino = 77;
	w_ghost(w, &g);
	w_ghost_proc(w, "/");
	commit_expect_refused(w, "ghosts 1 and 3 are one inode");
	w = begin_ghosts();
	g.ino = 79;
	w_ghost(w, &g);
	w_ghost_proc(w, "/");
	commit_expect_refused(w, "ghost directories 2 and 3 have one path");
}
END_TEST

START_TEST(test_refuse_ghost_file_and_vma)
{
	struct img_file f = { .id = 1, .kind = IMG_FILE_GHOST, .ghost = 2 };
	struct img_vma v = { .start = 0x10000, .end = 0x11000, .prot = 3,
			     .flags = IMG_VMA_GHOST, .dev = 0x803, .ino = 78 };
	struct img_writer *w = begin_ghost(NULL);

	ck_assert_int_eq(img_write_file(w, &f), 0);
	w_ghost(w, &ghost_reg);
	end_refused(w, "file 1 opens ghost 2, which is no file or directory of the image");
	f.ghost = 0;
	w = begin_ghost(NULL);
	ck_assert_int_eq(img_write_file(w, &f), 0);
	end_refused(w, "a ghost goes with kind GHOST");
	w = begin_ghosts();	/* ghost 2 is a directory */
	w_proc(w, 10, 1);
	w_thread(w, 10);
	ck_assert_int_eq(img_write_vma(w, &v), 0);
	commit_expect_refused(w, "maps ghost 2051:78, which the image lacks");
	w = begin_ghosts();
	w_ghost_proc(w, "/");
	w_pages(w, 0x10000, 1);
	commit_expect_refused(w, "in a shared mapping of a shm object or ghost");
	w = begin_ghosts();
	w_proc(w, 10, 1);
	w_thread(w, 10);
	v.ino = 77;
	v.flags |= IMG_VMA_ANON;
	ck_assert_int_eq(img_write_vma(w, &v), 0);
	commit_expect_refused(w, "flags 0x202 for a ghost");
}
END_TEST

/* An image with a FILE of kind MEMFD naming shm object id, and one SHM
 * object of kind. */
static struct img_writer *begin_memfd_file(uint32_t id, uint32_t kind)
{
	struct img_file f = { .id = 1, .kind = IMG_FILE_MEMFD,
			      .flags = O_RDONLY, .pos = 33, .shm = id };
	struct img_writer *w = begin_ghost(NULL);

	ck_assert_int_eq(img_write_file(w, &f), 0);
	w_shm(w, 1, kind, PS);
	w_proc(w, 10, 1);
	w_thread(w, 10);
	w_file_fd(w, 3, 1);
	return w;
}

START_TEST(test_memfd_files)
{
	struct img_writer *w = begin_memfd_file(1, IMG_SHM_MEMFD);
	struct image *img;

	ck_assert_int_eq(img_writer_commit(w), 0);
	img = img_read_file(path, 0);
	ck_assert_ptr_nonnull(img);
	ck_assert_uint_eq(img->files[0].kind, IMG_FILE_MEMFD);
	ck_assert_uint_eq(img->files[0].shm, 1);
	ck_assert_uint_eq(img->files[0].pos, 33);
	img_free(img);
	commit_expect_refused(begin_memfd_file(2, IMG_SHM_MEMFD),
			      "file 1 opens shm object 2, which is no memfd");
	commit_expect_refused(begin_memfd_file(1, IMG_SHM_ANON),
			      "file 1 opens shm object 1, which is no memfd");
	commit_expect_refused(begin_memfd_file(0, IMG_SHM_MEMFD),
			      "a shm object goes with kind MEMFD");
}
END_TEST

static void path_fd_refused(uint32_t type, uint32_t flags, const char *fpath,
			    const char *want)
{
	struct img_writer *w = begin_proc(1);
	struct img_fd f = { .fd = 5, .type = type, .flags = flags,
			    .mode = 0120777, .path = (char *)fpath };

	ck_assert_int_eq(img_write_fd(w, &f), 0);
	commit_expect_refused(w, want);
}

START_TEST(test_path_fds)
{
	struct img_writer *w = begin_proc(1);
	struct img_fd f = { .fd = 5, .type = IMG_FD_PATH,
			    .flags = O_PATH | O_NOFOLLOW, .path = "/tmp/l" };
	struct image *img;

	ck_assert_int_eq(img_write_fd(w, &f), 0);
	ck_assert_int_eq(img_writer_commit(w), 0);
	img = img_read_file(path, 0);
	ck_assert_ptr_nonnull(img);
	ck_assert_uint_eq(img->procs[0].fds[0].type, IMG_FD_PATH);
	ck_assert_uint_eq(img->procs[0].fds[0].flags, O_PATH | O_NOFOLLOW);
	img_free(img);
	path_fd_refused(IMG_FD_PATH, O_RDONLY, "/tmp/l",
			"fd 5 of type 8 with flags 0");
	path_fd_refused(IMG_FD_REG, O_PATH, "/tmp/l",
			"fd 5 of type 1 with flags 010000000");
	path_fd_refused(IMG_FD_PATH, O_PATH, "tmp/l",
			"fd 5: O_PATH on a relative path");
	path_fd_refused(IMG_FD_PATH, O_PATH, NULL, "no path for fd type 8");
}
END_TEST

static void lock_refused(const struct img_lock *l, const char *want)
{
	struct img_writer *w = begin_proc(1);

	w_fd(w, 3, IMG_FD_REG, "/x");
	ck_assert_int_eq(img_write_lock(w, l), 0);
	commit_expect_refused(w, want);
}

START_TEST(test_locks)
{
	struct img_lock l = { .fd = 3, .kind = IMG_LOCK_POSIX, .write = 1,
			      .start = 100, .len = 50 };
	struct img_writer *w = begin_proc(1);
	struct image *img;

	w_fd(w, 3, IMG_FD_REG, "/x");
	ck_assert_int_eq(img_write_lock(w, &l), 0);
	ck_assert_int_eq(img_writer_commit(w), 0);
	img = img_read_file(path, 0);
	ck_assert_ptr_nonnull(img);
	ck_assert_uint_eq(img->procs[0].nr_locks, 1);
	ck_assert_uint_eq(img->procs[0].locks[0].start, 100);
	ck_assert_uint_eq(img->procs[0].locks[0].len, 50);
	img_free(img);
	l.fd = 4;
	lock_refused(&l, "a lock through fd 4, which it lacks");
	l.fd = 3;
	l.kind = 5;
	lock_refused(&l, "fd 3: bad lock kind 5");
	l.kind = IMG_LOCK_LEASE;
	lock_refused(&l, "fd 3: a range on a lease lock");
	l.kind = IMG_LOCK_FLOCK;
	lock_refused(&l, "fd 3: a range on a flock lock");
	l.kind = IMG_LOCK_OFD;
	l.write = 2;
	lock_refused(&l, "fd 3: bad lock type 2");
	l.write = 0;
	l.start = 1ull << 63;
	lock_refused(&l, "out of range");
}
END_TEST

static void fown_refused(const struct img_fown *o, int twice,
			 const char *want)
{
	struct img_writer *w = begin_proc(1);

	w_fd(w, 3, IMG_FD_REG, "/x");
	w_fd(w, 5, IMG_FD_REG, "/x");
	ck_assert_int_eq(img_write_fown(w, o), 0);
	if (twice)
		ck_assert_int_eq(img_write_fown(w, o), 0);
	commit_expect_refused(w, want);
}

/* A SIGIO owner: read back; refused when its fd, type, signal or owner is
 * not the image's, or when an fd has two. */
START_TEST(test_fowns)
{
	struct img_fown o = { .fd = 3, .type = IMG_FOWN_PID, .pid = 10,
			      .sig = 40 };
	struct img_writer *w = begin_proc(1);
	struct image *img;

	w_fd(w, 3, IMG_FD_REG, "/x");
	ck_assert_int_eq(img_write_fown(w, &o), 0);
	ck_assert_int_eq(img_writer_commit(w), 0);
	img = img_read_file(path, 0);
	ck_assert_ptr_nonnull(img);
	ck_assert_uint_eq(img->procs[0].nr_fowns, 1);
	ck_assert_int_eq(img->procs[0].fowns[0].pid, 10);
	ck_assert_uint_eq(img->procs[0].fowns[0].sig, 40);
	img_free(img);
	fown_refused(&o, 1, "a second SIGIO owner of fd 3");
	o.fd = 4;
	fown_refused(&o, 0, "a SIGIO owner of fd 4, which it lacks");
	o.fd = 3;
	o.sig = 65;
	fown_refused(&o, 0, "fd 3: bad signal 65");
	o.sig = 0;
	o.type = 3;
	fown_refused(&o, 0, "fd 3: bad owner type 3");
	o.type = IMG_FOWN_PGRP;
	o.pid = 77;
	fown_refused(&o, 0, "the SIGIO owner of fd 3 is group 77, not of the image");
	o.pid = 10;
	fown_refused(&o, 0, "the SIGIO owner of fd 3 is the root's group 10, which restore replaces");
	o.type = IMG_FOWN_TID;
	o.pid = 11;
	fown_refused(&o, 0, "the SIGIO owner of fd 3 is thread 11, not of the image");
}
END_TEST

/* ---- refusals: zombies ------------------------------------------------- */

START_TEST(test_exit_status_values)
{
	static const uint32_t good[] = { 0, 7 << 8, 0xff00, SIGTERM, SIGKILL,
					 SIGSEGV | 0x80, 64, 64 | 0x80 };
	static const uint32_t bad[] = { 0x7f, 0x17f, 65, 0x80 | 65, 0x10000,
					0x700 | SIGTERM, 0x80, 0xffffffff };
	size_t i;

	for (i = 0; i < ARRAY_SIZE(good); i++)
		ck_assert_msg(img_exit_status_ok(good[i]), "%#x", good[i]);
	for (i = 0; i < ARRAY_SIZE(bad); i++)
		ck_assert_msg(!img_exit_status_ok(bad[i]), "%#x", bad[i]);
}
END_TEST

START_TEST(test_refuse_zombie_bad_status)
{
	static const uint32_t bad[] = { 0x7f, 0x17f, 65, 0x10000,
					0x700 | SIGTERM, 0x80 };
	char want[64];
	size_t i;

	for (i = 0; i < ARRAY_SIZE(bad); i++) {
		struct img_writer *w = begin_proc(1);

		w_zombie(w, 11, 10, bad[i]);
		snprintf(want, sizeof(want), "zombie 11: bad exit status %#x",
			 bad[i]);
		commit_expect_refused(w, want);
	}
}
END_TEST

START_TEST(test_refuse_zombie_bad_ids)
{
	struct img_writer *w = begin_proc(1);
	/* a group 0 is one led from outside a container's PID namespace */
	struct img_proc z = { .pid = 11, .ppid = 10, .pgid = -1, .sid = 1 };

	ck_assert_int_eq(img_write_zombie(w, &z), 0);
	commit_expect_refused(w, "zombie 11: bad group -1 or session 1");
	w = begin_proc(1);
	w_zombie(w, 11, 0, 0);
	commit_expect_refused(w, "zombie 11: bad ppid 0");
	w = begin_proc(1);
	w_zombie(w, -5, 10, 0);
	commit_expect_refused(w, "bad pid -5");
}
END_TEST

START_TEST(test_refuse_zombie_without_parent)
{
	struct img_writer *w = begin_proc(1);

	w_zombie(w, 11, 12, 0);
	commit_expect_refused(w, "zombie 11: its parent 12 is not a live "
			      "process before it");
	/* the parent after its zombie */
	w = begin_proc(1);
	w_zombie(w, 11, 12, 0);
	w_proc_of(w, 12, 10, 1);
	w_thread(w, 12);
	commit_expect_refused(w, "record 3 (ZOMBIE)");
}
END_TEST

START_TEST(test_refuse_zombie_of_zombie)
{
	struct img_writer *w = begin_proc(1);

	w_zombie(w, 11, 10, 0);
	w_zombie(w, 12, 11, 0);
	commit_expect_refused(w, "zombie 12: its parent 11 is not a live "
			      "process");
}
END_TEST

START_TEST(test_refuse_child_of_zombie)
{
	struct img_writer *w = begin_proc(1);

	w_zombie(w, 11, 10, 0);
	w_proc_of(w, 12, 11, 1);
	w_thread(w, 12);
	commit_expect_refused(w, "process 12 is a child of zombie 11");
	/* the child before the zombie */
	w = begin_proc(1);
	w_proc_of(w, 12, 11, 1);
	w_thread(w, 12);
	w_zombie(w, 11, 10, 0);
	commit_expect_refused(w, "process 12 is a child of zombie 11");
}
END_TEST

/* Nothing but its ZOMBIE record belongs to a zombie. */
START_TEST(test_refuse_zombie_records)
{
	struct img_writer *w = begin_proc(1);

	w_zombie(w, 11, 10, 0);
	w_thread(w, 11);
	commit_expect_refused(w, "THREAD record after zombie 11, which has "
			      "none");
	w = begin_proc(1);
	w_zombie(w, 11, 10, 0);
	w_vma(w, 0x1000, 0x2000, NULL);
	commit_expect_refused(w, "VMA record after zombie 11");
	w = begin_proc(1);
	w_vma(w, 0x1000, 0x2000, NULL);
	w_zombie(w, 11, 10, 0);
	w_pages(w, 0x1000, 1);
	commit_expect_refused(w, "PAGES record after zombie 11");
	w = begin_proc(1);
	w_zombie(w, 11, 10, 0);
	w_fd(w, 3, IMG_FD_REG, "/x");
	commit_expect_refused(w, "FD record after zombie 11");
	w = begin_proc(1);
	w_zombie(w, 11, 10, 0);
	w_sigacts(w);
	commit_expect_refused(w, "SIGACTS record after zombie 11");
}
END_TEST

/*
 * The writer refuses a zombie as the first process, so that image is
 * forged: a real header, one ZOMBIE record, and a trailer that indexes it.
 */
START_TEST(test_refuse_zombie_root)
{
	struct img_proc z = { .pid = 11, .ppid = 10, .pgid = 11, .sid = 1 };
	uint8_t *buf, t[IMG_TRAILER_SIZE(1)], c[4];
	struct img_index_ent e;
	struct img_writer *w;
	struct enc enc = { 0 };
	size_t len;

	w = img_writer_open(path);
	ck_assert_ptr_nonnull(w);
	w_header(w);
	log_init("check_image_objects", -1);
	ck_assert_int_eq(img_write_zombie(w, &z), -1);
	log_init("check_image_objects", LOG_ERR);
	img_writer_abort(w);
	buf = small_image(&len);
	ck_assert_int_eq(img_enc_zombie(&enc, &z), 0);
	len = IMG_HEADER_SIZE;
	forge_record(buf, &len, &e, IMG_REC_ZOMBIE, enc.buf, enc.len);
	put_le64(t, 1);
	put_le32(t + 8, e.type);
	put_le32(t + 12, e.crc);
	put_le64(t + 16, e.off);
	put_le64(t + 24, e.len);
	put_le32(c, e.crc);
	put_le32(t + 32, img_crc32c(0, c, sizeof(c)));
	forge_record(buf, &len, NULL, IMG_REC_TRAILER, t, sizeof(t));
	expect_refused(buf, len, 0, "record 1 (ZOMBIE) at offset 128: "
		       "zombie 11 is the first process");
	enc_free(&enc);
	free(buf);
}
END_TEST

static Suite *image_objects_suite(void)
{
	Suite *s = suite_create("image-objects");
	TCase *files = image_tcase(s, "files");
	TCase *shm = image_tcase(s, "shm");
	TCase *zombie = image_tcase(s, "zombie");
	TCase *ghost = image_tcase(s, "ghost");

	add(files, test_refuse_fd_missing_file);
	add(files, test_refuse_file_order);
	add(files, test_refuse_file_data_astray);
	add(files, test_refuse_file_kinds);
	add(files, test_refuse_unix);
	add(files, test_stream_fds);
	add(files, test_unix_creds);
	add(files, test_unix_name_escapes);
	add(files, test_refuse_unix_names);
	add(files, test_file_after_proc_refused_by_writer);
	add(files, test_roundtrip_kfds);
	add(files, test_refuse_kfd_values);
	add(files, test_refuse_kfd_file_data);
	add(files, test_kfd_too_many_watches_not_written);
	add(files, test_path_fds);
	add(files, test_locks);
	add(files, test_fowns);
	add(files, test_pidfds);
	add(files, test_mqueue_fd);
	add(shm, test_refuse_bad_shm_fields);
	add(shm, test_refuse_shm_after_proc);
	add(shm, test_refuse_shm_pages_outside);
	add(shm, test_refuse_shm_pages_unsorted);
	add(shm, test_shm_ipcns);
	add(shm, test_refuse_vma_unknown_shm);
	add(shm, test_refuse_vma_shm_kind_mismatch);
	add(shm, test_refuse_vma_past_sysv_segment);
	add(shm, test_refuse_shared_anon_without_shm);
	add(shm, test_refuse_pages_in_shared_shm_vma);
	add(ghost, test_roundtrip_ghosts);
	add(ghost, test_refuse_bad_ghost_fields);
	add(ghost, test_refuse_ghost_order);
	add(ghost, test_refuse_ghost_pages_outside);
	add(ghost, test_refuse_ghost_references);
	add(ghost, test_refuse_ghost_file_and_vma);
	add(shm, test_memfd_files);
	add(zombie, test_exit_status_values);
	add(zombie, test_refuse_zombie_bad_status);
	add(zombie, test_refuse_zombie_bad_ids);
	add(zombie, test_refuse_zombie_without_parent);
	add(zombie, test_refuse_zombie_of_zombie);
	add(zombie, test_refuse_child_of_zombie);
	add(zombie, test_refuse_zombie_records);
	add(zombie, test_refuse_zombie_root);
	return s;
}

CHECK_MAIN(image_objects_suite)
