/*
 * check_plugins: the image stream pipeline (plugins/pipeline.h). Streams
 * written through no filter, zstd and zstd=19 into a file and read back
 * byte for byte; abort and bad specs leave nothing behind; damaged or
 * missing sources are refused with the errno restore maps to its exit
 * status. Then the example plugin build/plugins/chunks.so, loaded through
 * $CKPT_PLUGIN_PATH: round trip, N files of mode 0600, all or nothing.
 * Last the sealed frames of tcp:// and ckpt serve (plugins/net.c), with
 * the test as the man in the middle: a flipped, reordered, replayed or
 * dropped frame, a changed length, a stream cut before its end frame or
 * a reflected one are refused; so is a peer of protocol 1. And the
 * options that choose stages (plugins/stageopt.c): the strings they make,
 * in the stream's order, and the values they refuse.
 *
 * The registry loads plugins once per process: each test runs in its own
 * (fork mode), so each sets CKPT_PLUGIN_PATH, or not, before its first
 * pipeline call.
 */
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "image/image.h"
#include "plugins/net.h"
#include "plugins/pipeline.h"
#include "plugins/stageopt.h"
#include "tests/unit/unit.h"

#ifndef PLUGIN_DIR
#define PLUGIN_DIR "build/plugins"
#endif

#define DATA_LEN	((3u << 20) + 12345)	/* > 3 blocks of 1 MiB */

static char path[128];
static uint8_t *data;

/* Half text that compresses well, half xorshift noise that does not. */
static void make_data(void)
{
	uint64_t x = 0x9e3779b97f4a7c15ull;
	size_t i;

	data = malloc(DATA_LEN);
	ck_assert_ptr_nonnull(data);
	for (i = 0; i < DATA_LEN / 2; i++)
		data[i] = "checkpoint and restore "[i % 23];
	for (; i < DATA_LEN; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		data[i] = x >> 32;
	}
}

static void setup(void)
{
	unit_tmpdir_setup();
	snprintf(path, sizeof(path), "%s/img", dir);
	log_init("check_plugins", LOG_ERR);
	unsetenv("CKPT_PLUGIN_PATH");
	make_data();
}

static void teardown(void)
{
	unit_tmpdir_teardown();
	free(data);
}

/* Writes data[0..len) in pieces of uneven sizes, as the image writer does. */
static void write_data(struct img_sink *sink, size_t len)
{
	static const size_t piece[] = { 1, 7, 4096, 65536, 100003, 1 << 20 };
	size_t off = 0, n;
	int i = 0;

	while (off < len) {
		n = piece[i++ % 6];
		if (n > len - off)
			n = len - off;
		ck_assert_int_eq(sink->write(sink, data + off, n), 0);
		off += n;
	}
}

static void write_stream(const char *const *filters, int nr,
			 const char *spec, size_t len)
{
	struct img_sink *sink = pipeline_open_write(filters, nr, spec);

	ck_assert_ptr_nonnull(sink);
	write_data(sink, len);
	ck_assert_int_eq(sink->commit(sink), 0);
}

/* The source, read back, must be exactly data[0..len). */
static void check_read(const char *spec, size_t len)
{
	uint8_t *back = malloc(len + 1);
	int fd = pipeline_open_read(spec);
	struct stat st;

	ck_assert_int_ge(fd, 0);
	ck_assert_ptr_nonnull(back);
	ck_assert_int_eq(fstat(fd, &st), 0);
	ck_assert_int_eq(st.st_size, len);
	ck_assert_int_eq(pread(fd, back, len + 1, 0), len);
	ck_assert(!memcmp(back, data, len));
	close(fd);
	free(back);
}

static void check_head(const char *p, const void *magic, size_t len)
{
	unsigned char head[8];
	int fd = open(p, O_RDONLY);

	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(read(fd, head, len), len);
	ck_assert(!memcmp(head, magic, len));
	close(fd);
}

/* ---- replication ---------------------------------------------------------- */

static void copy_path(char *buf, size_t len, const char *name)
{
	snprintf(buf, len, "%s/%s", dir, name);
}

START_TEST(test_replicate_all)
{
	static const char *const f[] = { "zstd" };
	char a[160], b[160], c[160];
	const char *sinks[] = { a, b, c };
	struct img_sink *sink;

	copy_path(a, sizeof(a), "a");
	copy_path(b, sizeof(b), "b");
	copy_path(c, sizeof(c), "c");
	sink = pipeline_open_write_multi(f, 1, sinks, 3, 3, NULL, 0);
	ck_assert_ptr_nonnull(sink);
	write_data(sink, DATA_LEN);
	ck_assert_int_eq(dir_entries(), 0);	/* nameless temporaries */
	ck_assert_int_eq(sink->commit(sink), 0);
	check_read(a, DATA_LEN);
	check_read(b, DATA_LEN);
	check_read(c, DATA_LEN);
	ck_assert_int_eq(dir_entries(), 3);
}
END_TEST

/* One copy cannot be made: quorum 2 of 3 still writes the other two. */
START_TEST(test_replicate_quorum_met)
{
	char a[160], b[160];
	const char *sinks[] = { a, "/nonexistent-dir/x", b };
	struct img_sink *sink;

	copy_path(a, sizeof(a), "a");
	copy_path(b, sizeof(b), "b");
	sink = pipeline_open_write_multi(NULL, 0, sinks, 3, 2, NULL, 0);
	ck_assert_ptr_nonnull(sink);
	write_data(sink, DATA_LEN);
	ck_assert_int_eq(sink->commit(sink), 0);
	check_read(a, DATA_LEN);
	check_read(b, DATA_LEN);
	ck_assert_int_eq(dir_entries(), 2);
}
END_TEST

/* Quorum 3 of 3 with one impossible: refused at once, nothing made. */
START_TEST(test_replicate_quorum_missed)
{
	char a[160], b[160];
	const char *sinks[] = { a, "/nonexistent-dir/x", b };

	copy_path(a, sizeof(a), "a");
	copy_path(b, sizeof(b), "b");
	ck_assert_ptr_null(pipeline_open_write_multi(NULL, 0, sinks, 3, 3,
						     NULL, 0));
	ck_assert_int_eq(dir_entries(), 0);
}
END_TEST

START_TEST(test_replicate_abort)
{
	char a[160], b[160];
	const char *sinks[] = { a, b };
	struct img_sink *sink;

	copy_path(a, sizeof(a), "a");
	copy_path(b, sizeof(b), "b");
	sink = pipeline_open_write_multi(NULL, 0, sinks, 2, 1, NULL, 0);
	ck_assert_ptr_nonnull(sink);
	write_data(sink, DATA_LEN);
	sink->abort(sink);
	ck_assert_int_eq(dir_entries(), 0);
}
END_TEST

/* ---- built-in stages ---------------------------------------------------- */

START_TEST(test_plain_roundtrip)
{
	write_stream(NULL, 0, path, DATA_LEN);
	check_head(path, data, 8);	/* the bytes as they are */
	check_read(path, DATA_LEN);
}
END_TEST

/* A plain image in a file is used in place, not copied to a memfd. */
START_TEST(test_plain_image_is_the_file)
{
	struct stat a, b;
	int fd;

	memcpy(data, IMG_MAGIC, 8);
	write_stream(NULL, 0, path, DATA_LEN);
	fd = pipeline_open_read(path);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(fstat(fd, &a), 0);
	ck_assert_int_eq(stat(path, &b), 0);
	ck_assert_int_eq(a.st_ino, b.st_ino);
	ck_assert_int_eq(a.st_dev, b.st_dev);
	close(fd);
	check_read(path, DATA_LEN);
}
END_TEST

START_TEST(test_file_prefix_and_mode)
{
	char spec[160];
	struct stat st;

	snprintf(spec, sizeof(spec), "file:%s", path);
	write_stream(NULL, 0, spec, 4096);
	ck_assert_int_eq(stat(path, &st), 0);
	ck_assert_int_eq(st.st_mode & 07777, 0600);
	ck_assert_int_eq(dir_entries(), 1);
	check_read(spec, 4096);
}
END_TEST

START_TEST(test_zstd_roundtrip)
{
	static const char *const f[] = { "zstd" };
	static const unsigned char magic[4] = { 0x28, 0xb5, 0x2f, 0xfd };
	struct stat st;

	write_stream(f, 1, path, DATA_LEN);
	check_head(path, magic, 4);
	ck_assert_int_eq(stat(path, &st), 0);
	ck_assert_int_lt(st.st_size, DATA_LEN * 3 / 4);	/* it compressed */
	check_read(path, DATA_LEN);
}
END_TEST

START_TEST(test_zstd19_roundtrip)
{
	static const char *const f[] = { "zstd=19" };

	write_stream(f, 1, path, DATA_LEN / 4);
	check_read(path, DATA_LEN / 4);
}
END_TEST

START_TEST(test_empty_stream)
{
	static const char *const f[] = { "zstd" };

	write_stream(f, 1, path, 0);
	check_read(path, 0);
}
END_TEST

START_TEST(test_abort_leaves_nothing)
{
	static const char *const f[] = { "zstd" };
	struct img_sink *sink;
	int nr;

	for (nr = 0; nr <= 1; nr++) {
		sink = pipeline_open_write(f, nr, path);
		ck_assert_ptr_nonnull(sink);
		write_data(sink, DATA_LEN);
		ck_assert_int_eq(dir_entries(), 0);	/* a nameless .tmp */
		sink->abort(sink);
		ck_assert_int_eq(dir_entries(), 0);
	}
}
END_TEST

START_TEST(test_zstd_truncated)
{
	static const char *const f[] = { "zstd" };
	struct stat st;

	write_stream(f, 1, path, DATA_LEN);
	ck_assert_int_eq(stat(path, &st), 0);
	ck_assert_int_eq(truncate(path, st.st_size / 2), 0);
	log_init("check_plugins", -1);
	errno = 0;
	ck_assert_int_eq(pipeline_open_read(path), -1);
	ck_assert_int_eq(errno, EBADMSG);
	/* cut just before the end: the frame's checksum is missing */
	write_stream(f, 1, path, DATA_LEN);
	ck_assert_int_eq(truncate(path, st.st_size - 1), 0);
	errno = 0;
	ck_assert_int_eq(pipeline_open_read(path), -1);
	ck_assert_int_eq(errno, EBADMSG);
}
END_TEST

START_TEST(test_missing_source)
{
	log_init("check_plugins", -1);
	errno = 0;
	ck_assert_int_eq(pipeline_open_read(path), -1);
	ck_assert_int_eq(errno, ENOENT);
}
END_TEST

START_TEST(test_unknown_scheme)
{
	log_init("check_plugins", -1);
	ck_assert_ptr_null(pipeline_open_write(NULL, 0, "nosuch://x"));
	ck_assert_int_eq(pipeline_open_read("nosuch://x"), -1);
	ck_assert_ptr_null(pipeline_find("nosuch", CKPT_STAGE_SINK));
}
END_TEST

/* The sink is opened first: a bad filter must take it back. */
START_TEST(test_unknown_filter)
{
	static const char *const f[] = { "nosuch" };
	static const char *const lvl[] = { "zstd=42" };

	log_init("check_plugins", -1);
	ck_assert_ptr_null(pipeline_open_write(f, 1, path));
	ck_assert_ptr_null(pipeline_open_write(lvl, 1, path));
	ck_assert_int_eq(dir_entries(), 0);
	ck_assert_ptr_null(pipeline_find("nosuch", CKPT_STAGE_FILTER));
	ck_assert_ptr_nonnull(pipeline_find("zstd", CKPT_STAGE_FILTER));
}
END_TEST

/* ---- the chunks example plugin ------------------------------------------ */

static void use_plugins(void)
{
	ck_assert_int_eq(setenv("CKPT_PLUGIN_PATH", PLUGIN_DIR, 1), 0);
}

/* Exactly PATH.0 ... PATH.n-1, regular, 0600, nothing else. */
static void check_chunk_files(int n)
{
	char p[160];
	struct stat st;
	int i;

	ck_assert_int_eq(dir_entries(), n);
	for (i = 0; i < n; i++) {
		snprintf(p, sizeof(p), "%s.%d", path, i);
		ck_assert_msg(!stat(p, &st), "%s: %s", p, strerror(errno));
		ck_assert(S_ISREG(st.st_mode));
		ck_assert_int_eq(st.st_mode & 07777, 0600);
	}
}

START_TEST(test_chunks_not_without_path)
{
	char spec[160];

	log_init("check_plugins", -1);
	snprintf(spec, sizeof(spec), "chunks://4:%s", path);
	ck_assert_ptr_null(pipeline_open_write(NULL, 0, spec));
	ck_assert_int_eq(dir_entries(), 0);
}
END_TEST

START_TEST(test_chunks_roundtrip)
{
	char spec[160];

	use_plugins();
	ck_assert_ptr_nonnull(pipeline_find("chunks", CKPT_STAGE_SINK));
	/* 1 MiB blocks: file 3 holds the tail of the stream */
	snprintf(spec, sizeof(spec), "chunks://4:%s", path);
	write_stream(NULL, 0, spec, DATA_LEN);
	check_chunk_files(4);
	check_read(spec, DATA_LEN);
}
END_TEST

/* Small blocks: many rounds, the last one partial. */
START_TEST(test_chunks_small_blocks)
{
	char spec[160];

	use_plugins();
	snprintf(spec, sizeof(spec), "chunks://3,4k:%s", path);
	write_stream(NULL, 0, spec, DATA_LEN);
	check_chunk_files(3);
	/* the block size is in the headers: reading needs only N */
	snprintf(spec, sizeof(spec), "chunks://3:%s", path);
	check_read(spec, DATA_LEN);
}
END_TEST

START_TEST(test_chunks_zstd)
{
	static const char *const f[] = { "zstd" };
	char spec[160];

	use_plugins();
	snprintf(spec, sizeof(spec), "chunks://2,8k:%s", path);
	write_stream(f, 1, spec, DATA_LEN);
	check_chunk_files(2);
	check_read(spec, DATA_LEN);
}
END_TEST

START_TEST(test_chunks_abort)
{
	struct img_sink *sink;
	char spec[160];

	use_plugins();
	snprintf(spec, sizeof(spec), "chunks://4:%s", path);
	sink = pipeline_open_write(NULL, 0, spec);
	ck_assert_ptr_nonnull(sink);
	write_data(sink, DATA_LEN);
	ck_assert_int_eq(dir_entries(), 4);	/* the temporaries */
	sink->abort(sink);
	ck_assert_int_eq(dir_entries(), 0);
}
END_TEST

/* PATH.2 cannot be replaced: PATH.0 and PATH.1, renamed, are taken back. */
START_TEST(test_chunks_failed_commit)
{
	struct img_sink *sink;
	char spec[160], p[160];

	use_plugins();
	log_init("check_plugins", -1);
	snprintf(p, sizeof(p), "%s.2", path);
	ck_assert_int_eq(mkdir(p, 0700), 0);
	snprintf(p, sizeof(p), "%s.2/x", path);
	ck_assert_int_eq(mkdir(p, 0700), 0);
	snprintf(spec, sizeof(spec), "chunks://4:%s", path);
	sink = pipeline_open_write(NULL, 0, spec);
	ck_assert_ptr_nonnull(sink);
	write_data(sink, DATA_LEN);
	ck_assert_int_eq(sink->commit(sink), -1);
	sink->abort(sink);
	ck_assert_int_eq(dir_entries(), 1);	/* the obstacle alone */
	ck_assert_int_eq(rmdir(p), 0);
}
END_TEST

START_TEST(test_chunks_bad_specs)
{
	static const char *const bad[] = {
		"chunks://", "chunks://0:x", "chunks://65:x", "chunks://4",
		"chunks://4:", "chunks://x:y", "chunks://4,1:x",
		"chunks://4,1g:x", "chunks://4;x",
		"chunks://4,17592186044417m:x",
	};
	size_t i;

	use_plugins();
	log_init("check_plugins", -1);
	ck_assert_int_eq(chdir(dir), 0);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		ck_assert_msg(!pipeline_open_write(NULL, 0, bad[i]), "%s",
			      bad[i]);
	ck_assert_int_eq(dir_entries(), 0);
}
END_TEST

START_TEST(test_chunks_missing_file)
{
	char spec[160], p[160];

	use_plugins();
	log_init("check_plugins", -1);
	snprintf(spec, sizeof(spec), "chunks://3,4k:%s", path);
	write_stream(NULL, 0, spec, DATA_LEN);
	snprintf(p, sizeof(p), "%s.1", path);
	ck_assert_int_eq(unlink(p), 0);
	errno = 0;
	ck_assert_int_eq(pipeline_open_read(spec), -1);
	ck_assert_int_eq(errno, ENOENT);
}
END_TEST

/* Swapped files, the wrong N, a file that lost its last block. */
START_TEST(test_chunks_damaged)
{
	char spec[160], a[160], b[160], t[160];

	use_plugins();
	log_init("check_plugins", -1);
	snprintf(spec, sizeof(spec), "chunks://3,4k:%s", path);
	write_stream(NULL, 0, spec, DATA_LEN);
	snprintf(a, sizeof(a), "%s.0", path);
	snprintf(b, sizeof(b), "%s.1", path);
	snprintf(t, sizeof(t), "%s.t", path);
	ck_assert_int_eq(rename(a, t) || rename(b, a) || rename(t, b), 0);
	ck_assert_int_eq(pipeline_open_read(spec), -1);
	ck_assert_int_eq(rename(a, t) || rename(b, a) || rename(t, b), 0);
	check_read(spec, DATA_LEN);
	snprintf(spec, sizeof(spec), "chunks://2:%s", path);
	ck_assert_int_eq(pipeline_open_read(spec), -1);
	snprintf(spec, sizeof(spec), "chunks://3:%s", path);
	ck_assert_int_eq(truncate(a, 24 + 4096), 0);
	errno = 0;
	ck_assert_int_eq(pipeline_open_read(spec), -1);
	ck_assert_int_eq(errno, EBADMSG);
}
END_TEST

/* ---- net: sealed frames ---- */

#define NET_WIRE_MAX	(64u << 10)

static const unsigned char net_key[NET_KEY] = "0123456789abcdef0123456789abcde";
static unsigned char net_ns[NET_NONCE] = "server nonce .. server nonce ..";
static unsigned char net_nc[NET_NONCE] = "client nonce .. client nonce ..";
static int wire_out[2], wire_in[2];	/* sender -> test -> receiver */
static unsigned char wire[NET_WIRE_MAX], frame[4096];
static size_t wire_len;
static const size_t frame_len[] = { 1000, 1000, 1000, 0 };

/* A sender on wire_out (client, or server if !from_client) and its peer
 * on wire_in, the test between them. */
static void net_link(struct net_conn *tx, struct net_conn *rx,
		     int from_client)
{
	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, wire_out), 0);
	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, wire_in), 0);
	ck_assert_int_eq(net_session(tx, wire_out[0], net_key, net_ns, net_nc,
				     from_client), 0);
	ck_assert_int_eq(net_session(rx, wire_in[1], net_key, net_ns, net_nc,
				     !from_client), 0);
}

/* Frames 1, 2, 3 (their first byte is their number) and the end frame,
 * sealed by tx, into wire[]. */
static void net_send_all(struct net_conn *tx)
{
	ssize_t n;
	size_t i;

	for (i = 0; i < 4; i++) {
		memset(frame, 'a' + i, sizeof(frame));
		frame[0] = i + 1;
		ck_assert_int_eq(net_send_frame(tx, frame, frame_len[i]), 0);
	}
	wire_len = 0;
	while ((n = recv(wire_out[1], wire + wire_len,
			 sizeof(wire) - wire_len, MSG_DONTWAIT)) > 0)
		wire_len += n;
}

/* Where frame i starts in wire[]: after the stream header, each frame is
 * a sealed length and sealed data. */
static size_t net_frame_at(size_t i)
{
	size_t off = NET_HDR, j;

	for (j = 0; j < i; j++)
		off += 4 + NET_ABYTES + (frame_len[j] ? frame_len[j] +
					 NET_ABYTES : 0);
	return off;
}

/* wire[] to the receiver, then the end of the connection. */
static void net_deliver(void)
{
	ck_assert_int_eq(net_send(wire_in[0], wire, wire_len), 0);
	close(wire_in[0]);
}

/* Receive frames until one fails: how many came, errno in *err. */
static int net_recv_until_fail(struct net_conn *rx, int *err)
{
	unsigned char buf[4096];
	size_t len;
	int n = 0;

	while (!net_recv_frame(rx, buf, sizeof(buf), &len)) {
		n++;
		ck_assert_msg(len, "an end frame after a tampered stream");
	}
	*err = errno;
	return n;
}

START_TEST(test_net_roundtrip)
{
	struct net_conn tx, rx;
	unsigned char buf[4096];
	size_t i, len;

	net_link(&tx, &rx, _i);
	net_send_all(&tx);
	ck_assert_uint_eq(wire_len, net_frame_at(4));
	net_deliver();
	for (i = 0; i < 4; i++) {
		ck_assert_int_eq(net_recv_frame(&rx, buf, sizeof(buf), &len), 0);
		ck_assert_uint_eq(len, frame_len[i]);
		if (len)
			ck_assert_int_eq(buf[0], i + 1);
	}
	net_conn_free(&tx);
	net_conn_free(&rx);
}
END_TEST

START_TEST(test_net_flipped_byte)
{
	struct net_conn tx, rx;
	int err;

	net_link(&tx, &rx, _i);
	net_send_all(&tx);
	wire[net_frame_at(1) + 4 + NET_ABYTES + 500] ^= 1;	/* data */
	net_deliver();
	ck_assert_int_eq(net_recv_until_fail(&rx, &err), 1);
	ck_assert_int_eq(err, EBADMSG);
}
END_TEST

START_TEST(test_net_flipped_length)
{
	struct net_conn tx, rx;
	int err;

	net_link(&tx, &rx, 1);
	net_send_all(&tx);
	wire[net_frame_at(2) + 2] ^= 1;	/* inside the sealed length */
	net_deliver();
	ck_assert_int_eq(net_recv_until_fail(&rx, &err), 2);
	ck_assert_int_eq(err, EBADMSG);
}
END_TEST

/* Frames 2 and 1 swapped: same lengths, so only the sequence tells. */
START_TEST(test_net_reordered)
{
	struct net_conn tx, rx;
	size_t a = net_frame_at(1) - net_frame_at(0);
	unsigned char tmp[2048];
	int err;

	net_link(&tx, &rx, 1);
	net_send_all(&tx);
	memcpy(tmp, wire + net_frame_at(0), a);
	memmove(wire + net_frame_at(0), wire + net_frame_at(1), a);
	memcpy(wire + net_frame_at(1), tmp, a);
	net_deliver();
	ck_assert_int_eq(net_recv_until_fail(&rx, &err), 0);
	ck_assert_int_eq(err, EBADMSG);
}
END_TEST

START_TEST(test_net_replayed)
{
	struct net_conn tx, rx;
	size_t a = net_frame_at(1) - net_frame_at(0);
	int err;

	net_link(&tx, &rx, 1);
	net_send_all(&tx);
	/* frame 1 again in place of frame 2 */
	memmove(wire + net_frame_at(1), wire + net_frame_at(0), a);
	net_deliver();
	ck_assert_int_eq(net_recv_until_fail(&rx, &err), 1);
	ck_assert_int_eq(err, EBADMSG);
}
END_TEST

START_TEST(test_net_dropped)
{
	struct net_conn tx, rx;
	size_t a = net_frame_at(2) - net_frame_at(1);
	int err;

	net_link(&tx, &rx, 1);
	net_send_all(&tx);
	memmove(wire + net_frame_at(1), wire + net_frame_at(2),
		wire_len - net_frame_at(2));
	wire_len -= a;
	net_deliver();
	ck_assert_int_eq(net_recv_until_fail(&rx, &err), 1);
	ck_assert_int_eq(err, EBADMSG);
}
END_TEST

/* Cut before the end frame, at a frame boundary or inside one: the
 * receiver sees the connection end (EPIPE), never the end of the image;
 * an end frame made up by the man in the middle is refused. */
START_TEST(test_net_truncated)
{
	static const unsigned char fake_end[4 + NET_ABYTES];
	struct net_conn tx, rx;
	int err, forged = _i == 2;

	net_link(&tx, &rx, 1);
	net_send_all(&tx);
	wire_len = net_frame_at(3) - (_i == 1 ? 700 : 0);
	if (forged) {
		memcpy(wire + wire_len, fake_end, sizeof(fake_end));
		wire_len += sizeof(fake_end);
	}
	net_deliver();
	ck_assert_int_eq(net_recv_until_fail(&rx, &err), _i == 1 ? 2 : 3);
	ck_assert_int_eq(err, forged ? EBADMSG : EPIPE);
}
END_TEST

/* The client's own frames sent back to it: the other direction's key. */
START_TEST(test_net_reflected)
{
	struct net_conn tx, rx;
	int err;

	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, wire_out), 0);
	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, wire_in), 0);
	ck_assert_int_eq(net_session(&tx, wire_out[0], net_key, net_ns,
				     net_nc, 1), 0);
	ck_assert_int_eq(net_session(&rx, wire_in[1], net_key, net_ns,
				     net_nc, 1), 0);
	net_send_all(&tx);
	net_deliver();
	ck_assert_int_eq(net_recv_until_fail(&rx, &err), 0);
	ck_assert_int_eq(err, EBADMSG);
}
END_TEST

/* Frames of another connection (other nonces) are refused. */
START_TEST(test_net_other_session)
{
	struct net_conn tx, rx;
	int err;

	net_link(&tx, &rx, 1);
	net_conn_free(&rx);
	net_nc[0] ^= 1;
	ck_assert_int_eq(net_session(&rx, wire_in[1], net_key, net_ns,
				     net_nc, 0), 0);
	net_send_all(&tx);
	net_deliver();
	ck_assert_int_eq(net_recv_until_fail(&rx, &err), 0);
	ck_assert_int_eq(err, EBADMSG);
}
END_TEST

/* The whole handshake, a server in a child: a message each way. */
START_TEST(test_net_handshake)
{
	struct net_conn c;
	char err[256], msg[64];
	int sv[2], status;
	pid_t pid;

	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (!pid) {
		close(sv[0]);
		if (net_auth_server(&c, sv[1], net_key, err, sizeof(err)) ||
		    net_recv_msg(&c, msg, sizeof(msg)) || strcmp(msg, "PUT x") ||
		    net_send_msg(&c, "OK"))
			_exit(1);
		_exit(0);
	}
	close(sv[1]);
	ck_assert_int_eq(net_auth_client(&c, sv[0], net_key, err,
					 sizeof(err)), 0);
	ck_assert_int_eq(net_send_msg(&c, "PUT x"), 0);
	ck_assert_int_eq(net_recv_msg(&c, msg, sizeof(msg)), 0);
	ck_assert_str_eq(msg, "OK");
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert_int_eq(status, 0);
	net_conn_free(&c);
}
END_TEST

/* A server of protocol 1 greets with "CKPTNET1": we say so, and leave. */
START_TEST(test_net_old_server)
{
	unsigned char hello[8 + NET_NONCE] = "CKPTNET1";
	struct net_conn c;
	char err[256];
	int sv[2];

	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	ck_assert_int_eq(net_send(sv[1], hello, sizeof(hello)), 0);
	ck_assert_int_eq(net_auth_client(&c, sv[0], net_key, err,
					 sizeof(err)), -1);
	ck_assert_msg(strstr(err, "protocol 1, we speak 2"), "%s", err);
}
END_TEST

/* A client of protocol 1 hangs up on our greeting; one that answers
 * with another magic is named. */
START_TEST(test_net_old_client)
{
	unsigned char hello[8 + NET_NONCE + NET_MAC] = "CKPTNET1";
	struct net_conn c;
	char err[256];
	int sv[2];

	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	if (_i)
		ck_assert_int_eq(net_send(sv[1], hello, sizeof(hello)), 0);
	shutdown(sv[1], SHUT_WR);
	ck_assert_int_eq(net_auth_server(&c, sv[0], net_key, err,
					 sizeof(err)), -1);
	ck_assert_msg(strstr(err, "protocol 1"), "%s", err);
}
END_TEST

/* ---- stage options (plugins/stageopt.c) ------------------------------- */

/* getopt_long over argv with the options of set; 0, or -1 at the first
 * option refused. */
static int stage_getopt(struct stage_opts *so, unsigned int set,
			char **argv)
{
	static const struct option own[] = {
		{ "kill", no_argument, NULL, 'K' },
		{ NULL, 0, NULL, 0 },
	};
	int argc = 0, c;

	while (argv[argc])
		argc++;
	stage_opts_init(so, set, own);
	optind = 0;	/* glibc: start afresh */
	while ((c = getopt_long(argc, argv, "+Kz::e:k:a:", so->longopts,
				NULL)) != -1)
		if (c != 'K' && stage_opts_parse(so, c, optarg))
			return -1;
	return 0;
}

/* Filters in the stream's order whatever the command line's; the last
 * value of an option counts. */
START_TEST(test_stageopt_attach)
{
	char *argv[] = { "attach", "--encrypt", "k1", "--auth=a", "-z",
			 "--kill", "-e", "k2", "--compress=7", NULL };
	struct stage_opts so;

	ck_assert_int_eq(stage_getopt(&so, STAGE_OPT_LEVEL |
				      STAGE_OPT_ENCRYPT | STAGE_OPT_AUTH,
				      argv), 0);
	ck_assert_int_eq(so.nr_filters, 2);
	ck_assert_str_eq(so.filters[0], "zstd=7");
	ck_assert_str_eq(so.filters[1], "encrypt=k2");
	ck_assert_int_eq(so.nr_params, 1);
	ck_assert_str_eq(so.params[0], "auth=a");
	ck_assert_str_eq(stage_opts_value(&so, STAGE_OPT_ENCRYPT), "k2");
	ck_assert_ptr_null(stage_opts_value(&so, STAGE_OPT_KEY));
}
END_TEST

START_TEST(test_stageopt_restore)
{
	char *argv[] = { "restore", "-k", "key", "--auth", "auth", NULL };
	struct stage_opts so;

	ck_assert_int_eq(stage_getopt(&so, STAGE_OPT_KEY | STAGE_OPT_AUTH,
				      argv), 0);
	ck_assert_int_eq(so.nr_filters, 0);
	ck_assert_int_eq(so.nr_params, 2);
	ck_assert_str_eq(so.params[0], "encrypt=key");
	ck_assert_str_eq(so.params[1], "auth=auth");
}
END_TEST

/* --compress without a level, as ckpt run takes it: "zstd" */
START_TEST(test_stageopt_no_level)
{
	char *argv[] = { "run", "--compress", NULL };
	char *bad[] = { "run", "--compress=3", NULL };
	struct stage_opts so;

	ck_assert_int_eq(stage_getopt(&so, STAGE_OPT_COMPRESS, argv), 0);
	ck_assert_int_eq(so.nr_filters, 1);
	ck_assert_str_eq(so.filters[0], "zstd");
	ck_assert_int_eq(stage_getopt(&so, STAGE_OPT_COMPRESS, bad), -1);
}
END_TEST

/* Levels outside 1-19, options the command does not take, and a key
 * file name that no buffer would hold whole are refused. */
START_TEST(test_stageopt_refused)
{
	static char *const bad[][3] = {
		{ "x", "--compress=0", NULL }, { "x", "-z20", NULL },
		{ "x", "--compress=3x", NULL }, { "x", "--compress=", NULL },
		{ "x", "-k", "key" }, { "x", "-a", "auth" },
	};
	char *argv[4], *longname = malloc(STAGE_OPT_STR_MAX + 1);
	struct stage_opts so;
	size_t i;

	for (i = 0; i < ARRAY_SIZE(bad); i++) {
		memcpy(argv, bad[i], sizeof(bad[i]));
		argv[3] = NULL;
		ck_assert_msg(stage_getopt(&so, STAGE_OPT_LEVEL |
					   STAGE_OPT_ENCRYPT, argv) == -1,
			      "%s %s", bad[i][1], bad[i][2]);
	}
	ck_assert_ptr_nonnull(longname);
	memset(longname, 'k', STAGE_OPT_STR_MAX);
	longname[STAGE_OPT_STR_MAX] = '\0';
	argv[1] = "-e";
	argv[2] = longname;
	ck_assert_int_eq(stage_getopt(&so, STAGE_OPT_ENCRYPT, argv), -1);
	longname[PATH_MAX - 1] = '\0';
	ck_assert_int_eq(stage_getopt(&so, STAGE_OPT_ENCRYPT, argv), 0);
	ck_assert_str_eq(so.filters[0] + strlen("encrypt="), longname);
	free(longname);
}
END_TEST

static Suite *plugins_suite(void)
{
	Suite *s = suite_create("plugins");
	TCase *bi = unit_tcase(s, "builtin", 60);
	TCase *ch = unit_tcase(s, "chunks", 60);
	TCase *net = unit_tcase(s, "net", 60);
	TCase *opt = unit_tcase(s, "stageopt", 60);
	TCase *all[] = { bi, ch, net, opt };
	size_t i;

	tcase_add_test(bi, test_plain_roundtrip);
	tcase_add_test(bi, test_plain_image_is_the_file);
	tcase_add_test(bi, test_file_prefix_and_mode);
	tcase_add_test(bi, test_zstd_roundtrip);
	tcase_add_test(bi, test_zstd19_roundtrip);
	tcase_add_test(bi, test_empty_stream);
	tcase_add_test(bi, test_abort_leaves_nothing);
	tcase_add_test(bi, test_zstd_truncated);
	tcase_add_test(bi, test_missing_source);
	tcase_add_test(bi, test_unknown_scheme);
	tcase_add_test(bi, test_unknown_filter);
	tcase_add_test(bi, test_replicate_all);
	tcase_add_test(bi, test_replicate_quorum_met);
	tcase_add_test(bi, test_replicate_quorum_missed);
	tcase_add_test(bi, test_replicate_abort);
	tcase_add_test(ch, test_chunks_not_without_path);
	tcase_add_test(ch, test_chunks_roundtrip);
	tcase_add_test(ch, test_chunks_small_blocks);
	tcase_add_test(ch, test_chunks_zstd);
	tcase_add_test(ch, test_chunks_abort);
	tcase_add_test(ch, test_chunks_failed_commit);
	tcase_add_test(ch, test_chunks_bad_specs);
	tcase_add_test(ch, test_chunks_missing_file);
	tcase_add_test(ch, test_chunks_damaged);
	tcase_add_loop_test(net, test_net_roundtrip, 0, 2);
	tcase_add_loop_test(net, test_net_flipped_byte, 0, 2);
	tcase_add_test(net, test_net_flipped_length);
	tcase_add_test(net, test_net_reordered);
	tcase_add_test(net, test_net_replayed);
	tcase_add_test(net, test_net_dropped);
	tcase_add_loop_test(net, test_net_truncated, 0, 3);
	tcase_add_test(net, test_net_reflected);
	tcase_add_test(net, test_net_other_session);
	tcase_add_test(net, test_net_handshake);
	tcase_add_test(net, test_net_old_server);
	tcase_add_loop_test(net, test_net_old_client, 0, 2);
	tcase_add_test(opt, test_stageopt_attach);
	tcase_add_test(opt, test_stageopt_restore);
	tcase_add_test(opt, test_stageopt_no_level);
	tcase_add_test(opt, test_stageopt_refused);
	for (i = 0; i < sizeof(all) / sizeof(all[0]); i++)
		tcase_add_checked_fixture(all[i], setup, teardown);
	return s;
}

CHECK_MAIN(plugins_suite)
