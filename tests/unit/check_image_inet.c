/*
 * check_image_inet: TCP, UDP and netlink sockets in the image's file
 * table: the round trip of every field (options, a connection's
 * TCP_REPAIR state, its two queues, datagrams with their senders, a
 * netlink socket's groups), and one refusal per broken rule: a field out
 * of range, a chunk out of place, a queue that does not add up, a
 * connection without its other end or whose sequence numbers disagree
 * with it.
 */
#include <sys/socket.h>
#include <netinet/in.h>
#include <check.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "image/image.h"
#include "tests/unit/imagetest.h"

static const uint8_t lo4[16] = { 127, 0, 0, 1 };

/* A listening IPv6 socket with options and a device. */
static struct img_file listener(uint32_t id)
{
	struct img_file f = {
		.id = id, .kind = IMG_FILE_TCP, .flags = O_RDWR | O_NONBLOCK,
		.dev = 8, .ino = 5000 + id,
		.inet = { .family = AF_INET6, .state = IMG_INET_LISTENING,
			  .port = 8080, .backlog = 128, .dev = "lo",
			  .opt_mask = 1u << IMG_SO_REUSEADDR |
				      1u << IMG_IPV6_V6ONLY |
				      1u << IMG_SO_MARK | 1u << IMG_SO_LINGER,
			  .opt = { [IMG_SO_REUSEADDR] = 1,
				   [IMG_IPV6_V6ONLY] = 1,
				   [IMG_SO_MARK] = -5,
				   [IMG_SO_LINGER] = 3 } },
	};

	f.inet.addr[15] = 1;	/* ::1 */
	return f;
}

/*
 * One end of a connection between 127.0.0.1:5000 (id 1) and :40000 (id
 * 2). 1 has sent "hello" (unacknowledged) from 100; 2 has received up to
 * 103 and holds 5 bytes unread; 2 sent nothing that 1 has not read.
 */
static struct img_file conn(uint32_t id, uint32_t state)
{
	struct img_file f = {
		.id = id, .kind = IMG_FILE_TCP, .flags = O_RDWR,
		.dev = 8, .ino = 5000 + id,
		.inet = { .family = AF_INET, .state = state,
			  .port = id == 1 ? 5000 : 40000,
			  .peer_port = id == 1 ? 40000 : 5000,
			  .opt_mask = 1u << IMG_TCP_NODELAY |
				      1u << IMG_SO_SNDBUF,
			  .opt = { [IMG_TCP_NODELAY] = 1,
				   [IMG_SO_SNDBUF] = 87040 } },
	};
	struct img_tcp *t = &f.inet.tcp;

	memcpy(f.inet.addr, lo4, 4);
	memcpy(f.inet.peer_addr, lo4, 4);
	*t = (struct img_tcp){
		.snd_seq = id == 1 ? 100 : 7000,
		.rcv_seq = id == 1 ? 7000 : 98,
		.sendq_len = id == 1 ? 5 : 0, .recvq_len = id == 1 ? 0 : 5,
		.opts = IMG_TCP_SACK | IMG_TCP_TSTAMP | IMG_TCP_WSCALE,
		.snd_wscale = 7, .rcv_wscale = 9, .mss = 65483,
		.timestamp = 123456, .snd_wnd = 65535, .max_window = 65535,
		.rcv_wnd = 65535,
	};
	t->snd_wl1 = t->rcv_wup = t->rcv_seq;
	return f;
}

/* The queues of conn(): 1's send queue "hello", 2's receive queue. */
static void conn_data(struct img_writer *w, uint32_t id)
{
	if (id == 1)
		w_chunk(w, 1, "hello", IMG_CHUNK_SENDQ);
	else
		w_chunk(w, 2, "abcde", 0);
}

/* A UDP socket on 127.0.0.1:53, connected if peer_port. */
static struct img_file udp(uint32_t id, uint32_t peer_port)
{
	struct img_file f = {
		.id = id, .kind = IMG_FILE_UDP, .flags = O_RDWR,
		.dev = 8, .ino = 5000 + id,
		.inet = { .family = AF_INET, .port = 53,
			  .peer_port = peer_port,
			  .state = peer_port ? IMG_INET_ESTABLISHED :
				  IMG_INET_UNCONNECTED,
			  .opt_mask = 1u << IMG_SO_BROADCAST,
			  .opt = { [IMG_SO_BROADCAST] = 1 } },
	};

	memcpy(f.inet.addr, lo4, 4);
	if (peer_port)
		memcpy(f.inet.peer_addr, lo4, 4);
	return f;
}

/* The sender 127.0.0.1:port, as an IMG_CHUNK_ADDR chunk. */
static void w_sender(struct img_writer *w, uint32_t id, uint16_t port)
{
	uint8_t a[6] = { 127, 0, 0, 1, port >> 8, port & 0xff };
	struct img_chunk ch = { .flags = IMG_CHUNK_ADDR, .len = 6, .data = a };

	ck_assert_int_eq(img_write_file_chunk(w, id, &ch), 0);
}

static void w_f(struct img_writer *w, const struct img_file *f)
{
	ck_assert_int_eq(img_write_file(w, f), 0);
}

static struct img_writer *begin(void)
{
	struct img_writer *w = img_writer_open(path);

	ck_assert_ptr_nonnull(w);
	w_header(w);
	return w;
}

static void end_proc(struct img_writer *w)
{
	w_proc(w, 10, 1);
	w_thread(w, 10);
}

/* ---- round trip --------------------------------------------------------- */

static void check_conn(const struct img_file *got, uint32_t id)
{
	struct img_file want = conn(id, IMG_INET_ESTABLISHED);

	ck_assert_uint_eq(got->kind, IMG_FILE_TCP);
	ck_assert_uint_eq(got->inet.family, AF_INET);
	ck_assert_uint_eq(got->inet.port, want.inet.port);
	ck_assert_uint_eq(got->inet.peer_port, want.inet.peer_port);
	ck_assert_mem_eq(got->inet.addr, want.inet.addr, 16);
	ck_assert_mem_eq(got->inet.peer_addr, want.inet.peer_addr, 16);
	ck_assert_uint_eq(got->inet.opt_mask, want.inet.opt_mask);
	ck_assert_int_eq(got->inet.opt[IMG_SO_SNDBUF], 87040);
	ck_assert_mem_eq(&got->inet.tcp, &want.inet.tcp, sizeof(want.inet.tcp));
}

START_TEST(test_roundtrip_inet)
{
	struct img_writer *w = begin();
	struct img_file l = listener(3), a = conn(1, IMG_INET_ESTABLISHED),
			b = conn(2, IMG_INET_ESTABLISHED), u = udp(4, 0);
	struct image *img;

	w_f(w, &a);
	conn_data(w, 1);
	w_f(w, &b);
	conn_data(w, 2);
	w_f(w, &l);
	w_f(w, &u);
	w_sender(w, 4, 4000);
	w_chunk(w, 4, "one", IMG_CHUNK_EOR);
	w_sender(w, 4, 4001);
	w_chunk(w, 4, "", IMG_CHUNK_EOR);
	end_proc(w);
	ck_assert_int_eq(img_writer_commit(w), 0);
	img = img_read_file(path, IMG_ISA_X86_64);
	ck_assert_ptr_nonnull(img);
	ck_assert_uint_eq(img->nr_files, 4);
	check_conn(&img->files[0], 1);
	check_conn(&img->files[1], 2);
	ck_assert_uint_eq(img->files[0].chunks[0].flags, IMG_CHUNK_SENDQ);
	ck_assert_str_eq(img->files[2].inet.dev, "lo");
	ck_assert_uint_eq(img->files[2].inet.backlog, 128);
	ck_assert_int_eq(img->files[2].inet.opt[IMG_SO_MARK], -5);
	ck_assert_int_eq(img->files[2].inet.opt[IMG_SO_LINGER], 3);
	ck_assert_uint_eq(img->files[2].inet.addr[15], 1);
	ck_assert_uint_eq(img->files[3].nr_chunks, 4);
	ck_assert_uint_eq(img->files[3].chunks[2].data[5], 4001 & 0xff);
	ck_assert_uint_eq(img->files[3].chunks[3].len, 0);
	img_free(img);
}
END_TEST

START_TEST(test_tcp_peers)
{
	struct img_writer *w = begin();
	struct img_file a = conn(1, IMG_INET_ESTABLISHED),
			b = conn(2, IMG_INET_ESTABLISHED), l = listener(3);
	struct image *img;
	uint32_t peer[3];

	/* 1 is an IPv6 socket with v4-mapped addresses: still 2's peer */
	a.inet.family = AF_INET6;
	memset(a.inet.addr, 0, 16);
	memset(a.inet.peer_addr, 0, 16);
	a.inet.addr[10] = a.inet.addr[11] = 0xff;
	memcpy(a.inet.addr + 12, lo4, 4);
	memcpy(a.inet.peer_addr, a.inet.addr, 16);
	w_f(w, &a);
	conn_data(w, 1);
	w_f(w, &b);
	conn_data(w, 2);
	w_f(w, &l);
	end_proc(w);
	ck_assert_int_eq(img_writer_commit(w), 0);
	img = img_read_file(path, IMG_ISA_X86_64);
	ck_assert_ptr_nonnull(img);
	ck_assert_int_eq(img_tcp_peers(img, peer), 0);
	ck_assert_uint_eq(peer[0], 1);
	ck_assert_uint_eq(peer[1], 0);
	ck_assert_uint_eq(peer[2], UINT32_MAX);
	img_free(img);
}
END_TEST

/* ---- fields ------------------------------------------------------------- */

/* An image with f alone (and the peer of a connection), refused. */
static void expect_inet_refused(const struct img_file *f, const char *want)
{
	struct img_writer *w = begin();
	struct img_file peer = conn(2, IMG_INET_ESTABLISHED);

	w_f(w, f);
	if (img_tcp_connection(f) && f->id == 1) {
		conn_data(w, 1);
		w_f(w, &peer);
		conn_data(w, 2);
	}
	end_proc(w);
	commit_expect_refused(w, want);
}

START_TEST(test_refuse_inet_fields)
{
	struct img_file f;

	f = listener(3);
	f.inet.family = 3;
	expect_inet_refused(&f, "file 3: bad family 3");
	f = listener(3);
	f.inet.state = 9;
	expect_inet_refused(&f, "file 3: bad socket state 9");
	f = udp(3, 0);
	f.inet.state = IMG_INET_LISTENING;
	expect_inet_refused(&f, "file 3: bad socket state 2");
	f = udp(3, 0);
	f.inet.port = 70000;
	expect_inet_refused(&f, "file 3: bad port");
	f = udp(3, 0);
	f.inet.addr[4] = 1;
	expect_inet_refused(&f, "an IPv4 address of more than 4 bytes");
	f = listener(3);
	f.inet.port = 0;
	expect_inet_refused(&f, "a listening socket has a port");
	f = udp(3, 0);
	f.inet.backlog = 5;
	expect_inet_refused(&f, "no other has a backlog");
	f = udp(3, 0);
	f.inet.peer_port = 9;
	expect_inet_refused(&f, "a peer without a connection");
	f = listener(3);
	f.pipe_size = 4096;
	expect_inet_refused(&f, "a pipe size or offset on a socket");
	f = listener(3);
	f.inet.dev = "a-name-too-long-for-linux";
	expect_inet_refused(&f, "file 3: bad device name");
}
END_TEST

START_TEST(test_refuse_inet_opts)
{
	struct img_file f;

	f = listener(3);
	f.inet.opt_mask |= 1u << 30;
	expect_inet_refused(&f, "file 3: unknown socket options 0x40000000");
	f = listener(3);
	f.inet.opt_mask |= 1u << IMG_TCP_KEEPCNT;
	f.inet.opt[IMG_TCP_KEEPCNT] = 200;
	expect_inet_refused(&f, "file 3: TCP_KEEPCNT 200 out of range");
	f = udp(3, 0);
	f.inet.opt_mask |= 1u << IMG_IPV6_V6ONLY;
	expect_inet_refused(&f, "file 3: IPV6_V6ONLY on a socket of another kind");
	f = udp(3, 0);
	f.inet.opt_mask |= 1u << IMG_TCP_NODELAY;
	expect_inet_refused(&f, "file 3: TCP_NODELAY on a socket of another kind");
	f = listener(3);
	f.inet.opt[IMG_SO_REUSEADDR] = 2;
	expect_inet_refused(&f, "file 3: SO_REUSEADDR 2 out of range");
}
END_TEST

START_TEST(test_refuse_tcp_fields)
{
	struct img_file f;

	f = conn(1, IMG_INET_ESTABLISHED);
	f.inet.tcp.unsent_len = 6;
	expect_inet_refused(&f, "file 1: TCP queues of 5 (6 unsent)");
	f = conn(1, IMG_INET_ESTABLISHED);
	f.inet.tcp.recvq_len = IMG_MAX_TCPQ + 1;
	expect_inet_refused(&f, "file 1: TCP queues of");
	f = conn(1, IMG_INET_ESTABLISHED);
	f.inet.tcp.snd_wscale = 15;
	expect_inet_refused(&f, "file 1: window scale 15/9 out of range");
	f = conn(1, IMG_INET_ESTABLISHED);
	f.inet.tcp.opts = IMG_TCP_SACK;
	expect_inet_refused(&f, "file 1: a timestamp without the option");
	f = conn(1, IMG_INET_ESTABLISHED);
	f.inet.tcp.mss = 0;
	expect_inet_refused(&f, "file 1: MSS 0");
	f = conn(1, IMG_INET_FIN_WAIT2);
	expect_inet_refused(&f, "file 1: data queued after its acknowledged FIN");
	f = conn(1, IMG_INET_ESTABLISHED);
	f.inet.tcp.rcv_wup = 7001;
	expect_inet_refused(&f, "file 1: receive window out of its sequence");
	f = conn(1, IMG_INET_ESTABLISHED);
	f.inet.tcp.snd_wnd = 70000;
	expect_inet_refused(&f, "file 1: send window 70000 above its maximum");
	f = conn(1, IMG_INET_ESTABLISHED);
	f.inet.peer_port = 0;
	expect_inet_refused(&f, "file 1: connected without both ports");
}
END_TEST

/* ---- chunks and queues -------------------------------------------------- */

START_TEST(test_refuse_inet_chunks)
{
	struct img_writer *w;
	struct img_file l = listener(3), u = udp(3, 0);
	uint8_t bad[6] = { 127, 0, 0, 1, 0, 0 };
	struct img_chunk ch = { .flags = IMG_CHUNK_ADDR, .len = 6, .data = bad };

	w = begin();
	w_f(w, &l);
	w_chunk(w, 3, "x", 0);
	end_proc(w);
	commit_expect_refused(w, "file 3: data queued in a TCP socket with no connection");
	w = begin();
	w_f(w, &u);
	w_chunk(w, 3, "x", IMG_CHUNK_EOR);
	end_proc(w);
	commit_expect_refused(w, "file 3: a datagram without its sender");
	w = begin();
	w_f(w, &u);
	w_sender(w, 3, 9);
	w_chunk(w, 3, "x", 0);
	w_sender(w, 3, 9);
	end_proc(w);
	commit_expect_refused(w, "file 3: a sender address inside a datagram");
	w = begin();
	w_f(w, &u);
	ck_assert_int_eq(img_write_file_chunk(w, 3, &ch), 0);
	end_proc(w);
	commit_expect_refused(w, "file 3: a bad sender address");
	w = begin();
	w_f(w, &u);
	w_sender(w, 3, 9);
	w_chunk(w, 3, "x", 0);
	end_proc(w);
	commit_expect_refused(w, "file 3: its last datagram has no end");
	w = begin();
	w_f(w, &u);
	w_sender(w, 3, 9);
	w_chunk(w, 3, "x", IMG_CHUNK_SENDQ | IMG_CHUNK_EOR);
	end_proc(w);
	commit_expect_refused(w, "file 3: a datagram without its sender");
}
END_TEST

/* The connection of conn() with the queues written by data(). */
static void expect_queues_refused(void (*data)(struct img_writer *),
				  const char *want)
{
	struct img_writer *w = begin();
	struct img_file a = conn(1, IMG_INET_ESTABLISHED),
			b = conn(2, IMG_INET_ESTABLISHED);

	w_f(w, &a);
	data(w);
	w_f(w, &b);
	conn_data(w, 2);
	end_proc(w);
	commit_expect_refused(w, want);
}

static void sendq_then_recvq(struct img_writer *w)
{
	w_chunk(w, 1, "hello", IMG_CHUNK_SENDQ);
	w_chunk(w, 1, "x", 0);
}

static void boundary(struct img_writer *w)
{
	w_chunk(w, 1, "hello", IMG_CHUNK_SENDQ | IMG_CHUNK_EOR);
}

static void short_sendq(struct img_writer *w)
{
	w_chunk(w, 1, "hell", IMG_CHUNK_SENDQ);
}

static void unix_flag(struct img_writer *w)
{
	struct img_file p = { .id = 9, .kind = IMG_FILE_PIPE, .flags = O_RDONLY,
			      .ino = 77 };

	conn_data(w, 1);
	ck_assert_int_eq(img_write_file(w, &p), 0);
	w_chunk(w, 9, "x", IMG_CHUNK_SENDQ);
}

START_TEST(test_refuse_tcp_queues)
{
	expect_queues_refused(sendq_then_recvq,
			      "file 1: receive queue data after the send queue");
	expect_queues_refused(boundary,
			      "file 1: a message boundary or address in a TCP stream");
	expect_queues_refused(short_sendq,
			      "file 1: TCP queues of 0 and 4 bytes where it says 0 and 5");
	expect_queues_refused(unix_flag,
			      "file 9: a TCP or UDP chunk in a file of kind 1");
}
END_TEST

/* ---- the two ends of a connection --------------------------------------- */

/* Connection files a and b (either may be NULL), with conn()'s data. */
static void expect_pair_refused(const struct img_file *a,
				const struct img_file *b, const char *want)
{
	struct img_writer *w = begin();

	if (a) {
		w_f(w, a);
		conn_data(w, 1);
	}
	if (b) {
		w_f(w, b);
		conn_data(w, 2);
	}
	end_proc(w);
	commit_expect_refused(w, want);
}

START_TEST(test_refuse_tcp_pairs)
{
	struct img_file a = conn(1, IMG_INET_ESTABLISHED),
			b = conn(2, IMG_INET_ESTABLISHED), c;

	expect_pair_refused(&a, NULL,
			    "file 1: a TCP connection whose other end is not in the image");
	/* a damaged sequence number: 2 received beyond what 1 sent */
	b.inet.tcp.rcv_seq = 101;
	expect_pair_refused(&a, &b,
			    "file 2: its TCP sequence numbers do not match those of its peer, file 1");
	b = conn(2, IMG_INET_ESTABLISHED);
	a.inet.tcp.snd_seq = 104;
	expect_pair_refused(&a, &b,
			    "file 2: its TCP sequence numbers do not match");
	/* 2 got a FIN 1 never sent, and one before all of 1's data */
	a = conn(1, IMG_INET_ESTABLISHED);
	b = conn(2, IMG_INET_CLOSE_WAIT);
	expect_pair_refused(&a, &b,
			    "file 1: its FIN does not match the state of its peer, file 2");
	a = conn(1, IMG_INET_FIN_WAIT1);
	expect_pair_refused(&a, &b, "file 1: its FIN does not match");
	/* the same connection twice */
	a = conn(1, IMG_INET_ESTABLISHED);
	b = conn(2, IMG_INET_ESTABLISHED);
	c = conn(1, IMG_INET_ESTABLISHED);
	c.id = 3;
	{
		struct img_writer *w = begin();

		w_f(w, &a);
		conn_data(w, 1);
		w_f(w, &b);
		conn_data(w, 2);
		w_f(w, &c);
		w_chunk(w, 3, "hello", IMG_CHUNK_SENDQ);
		end_proc(w);
		commit_expect_refused(w, "a TCP connection the image has twice");
	}
}
END_TEST

/* A half-closed connection that agrees: 1 shut down after "hello", 2 has
 * read everything and got the FIN. */
START_TEST(test_tcp_half_closed)
{
	struct img_writer *w = begin();
	struct img_file a = conn(1, IMG_INET_FIN_WAIT1),
			b = conn(2, IMG_INET_CLOSE_WAIT);
	struct image *img;

	b.inet.tcp.rcv_seq = 100;
	b.inet.tcp.snd_wl1 = b.inet.tcp.rcv_wup = 100;
	w_f(w, &a);
	conn_data(w, 1);
	w_f(w, &b);
	w_chunk(w, 2, "hello", 0);
	end_proc(w);
	ck_assert_int_eq(img_writer_commit(w), 0);
	img = img_read_file(path, IMG_ISA_X86_64);
	ck_assert_ptr_nonnull(img);
	ck_assert(img_tcp_fin_sent(&img->files[0]));
	ck_assert(img_tcp_fin_rcvd(&img->files[1]));
	ck_assert(!img_tcp_fin_rcvd(&img->files[0]));
	img_free(img);
}
END_TEST

/* ---- netlink ------------------------------------------------------------ */

static struct img_file netlink(uint32_t id)
{
	struct img_file f = {
		.id = id, .kind = IMG_FILE_NETLINK, .flags = O_RDWR,
		.dev = 8, .ino = 5000 + id,
		.nl = { .protocol = 0, .type = SOCK_RAW, .portid = 4242,
			.groups = { 0x180000011ull, 0, 0, 1ull << 63 },
			.opts = 1u << 5 | 1u << 11, .rcvbuf = 600000 },
	};

	return f;
}

START_TEST(test_roundtrip_netlink)
{
	struct img_writer *w = begin();
	struct img_file f = netlink(1);
	struct image *img;

	w_f(w, &f);
	end_proc(w);
	ck_assert_int_eq(img_writer_commit(w), 0);
	img = img_read_file(path, IMG_ISA_X86_64);
	ck_assert_ptr_nonnull(img);
	ck_assert_uint_eq(img->files[0].kind, IMG_FILE_NETLINK);
	ck_assert_mem_eq(&img->files[0].nl, &f.nl, sizeof(f.nl));
	img_free(img);
}
END_TEST

START_TEST(test_refuse_netlink)
{
	struct img_writer *w;
	struct img_file f;

	f = netlink(3);
	f.nl.protocol = 9;	/* NETLINK_AUDIT */
	expect_inet_refused(&f, "file 3: netlink protocol 9");
	f = netlink(3);
	f.nl.type = SOCK_STREAM;
	expect_inet_refused(&f, "file 3: bad socket type 1");
	f = netlink(3);
	f.nl.opts = 1u << 1;
	expect_inet_refused(&f, "file 3: bad netlink options 0x2");
	f = netlink(3);
	f.nl.dst_group = 300;
	expect_inet_refused(&f, "file 3: connected to group 300");
	f = netlink(3);
	w = begin();
	w_f(w, &f);
	w_chunk(w, 3, "x", 0);
	end_proc(w);
	commit_expect_refused(w, "FILE_DATA of file 3, which holds no bytes");
}
END_TEST

/* ---- a connection whose peer is outside ---------------------------------- */

/* conn(1) alone, its peer outside, behind lock */
static struct img_file outside(const char *lock)
{
	struct img_file f = conn(1, IMG_INET_ESTABLISHED);

	f.inet.lock = (char *)lock;
	return f;
}

START_TEST(test_roundtrip_tcp_outside)
{
	struct img_writer *w = begin();
	struct img_file a = outside("ckpt_10_1700000000_99");
	struct image *img;

	w_f(w, &a);
	conn_data(w, 1);
	end_proc(w);
	ck_assert_int_eq(img_writer_commit(w), 0);
	img = img_read_file(path, IMG_ISA_X86_64);
	ck_assert_ptr_nonnull(img);
	ck_assert_uint_eq(img->nr_files, 1);
	check_conn(&img->files[0], 1);
	ck_assert_str_eq(img->files[0].inet.lock, "ckpt_10_1700000000_99");
	img_free(img);
}
END_TEST

START_TEST(test_refuse_tcp_outside)
{
	struct img_file a = outside("ckpt_1"), b = conn(2, IMG_INET_ESTABLISHED);

	/* its peer in the image after all */
	expect_pair_refused(&a, &b,
			    "file 1: a TCP connection with its peer outside the image has one in it, file 2");
	a = outside("iptables");
	expect_pair_refused(&a, NULL, "file 1: bad network lock name");
	a = outside("ckpt_A;drop");
	expect_pair_refused(&a, NULL, "file 1: bad network lock name");
	/* damaged sequence numbers and queue lengths, as for any connection */
	a = outside("ckpt_1");
	a.inet.tcp.rcv_wup = a.inet.tcp.rcv_seq + 1;
	expect_pair_refused(&a, NULL, "file 1: receive window out of its sequence");
	a = outside("ckpt_1");
	a.inet.tcp.sendq_len = 6;
	a.inet.tcp.unsent_len = 0;
	expect_pair_refused(&a, NULL, "file 1: TCP queues of 0 and 5 bytes where it says 0 and 6");
	a = outside("ckpt_1");
	a.inet.tcp.unsent_len = 9;
	expect_pair_refused(&a, NULL, "file 1: TCP queues of 5 (9 unsent)");
}
END_TEST

/* Two connections with their peers outside name one lock. */
START_TEST(test_refuse_two_locks)
{
	struct img_writer *w = begin();
	struct img_file a = outside("ckpt_1"), b = outside("ckpt_2");

	b.id = 2;
	b.inet.port = 5001;
	w_f(w, &a);
	conn_data(w, 1);
	w_f(w, &b);
	w_chunk(w, 2, "hello", IMG_CHUNK_SENDQ);
	end_proc(w);
	commit_expect_refused(w, "file 2: a second network lock, ckpt_2");
}
END_TEST

/* A listener on 127.0.0.1:40000 (id 3), whose queue holds conn(2). */
static struct img_file v4_listener(void)
{
	struct img_file f = listener(3);

	f.inet.family = AF_INET;
	memset(f.inet.addr, 0, 16);
	memcpy(f.inet.addr, lo4, 4);
	f.inet.port = 40000;
	f.inet.opt_mask &= ~(1u << IMG_IPV6_V6ONLY);
	return f;
}

/* 1, 2 and 2's listener 3; 0 or the reader's refusal checked */
static struct image *queued_image(const struct img_file *a,
				  const struct img_file *b, const char *want)
{
	struct img_writer *w = begin();
	struct img_file l = v4_listener();

	w_f(w, a);
	conn_data(w, 1);
	w_f(w, b);
	conn_data(w, 2);
	w_f(w, &l);
	end_proc(w);
	if (want) {
		commit_expect_refused(w, want);
		return NULL;
	}
	ck_assert_int_eq(img_writer_commit(w), 0);
	return img_read_file(path, IMG_ISA_X86_64);
}

/* A connection not accepted yet names its listener, in backlog's slot. */
START_TEST(test_roundtrip_tcp_queued)
{
	struct img_file a = conn(1, IMG_INET_ESTABLISHED),
			b = conn(2, IMG_INET_ESTABLISHED);
	struct image *img;

	b.inet.listener = 3;
	img = queued_image(&a, &b, NULL);
	ck_assert_ptr_nonnull(img);
	ck_assert_uint_eq(img->files[1].inet.listener, 3);
	ck_assert_uint_eq(img->files[1].inet.backlog, 0);
	ck_assert(img_tcp_queued(&img->files[1]));
	ck_assert(!img_tcp_queued(&img->files[0]));
	ck_assert_uint_eq(img->files[2].inet.backlog, 128);
	ck_assert_uint_eq(img->files[2].inet.listener, 0);
	check_conn(&img->files[1], 2);
	img_free(img);
}
END_TEST

START_TEST(test_refuse_tcp_queued)
{
	struct img_file a = conn(1, IMG_INET_ESTABLISHED),
			b = conn(2, IMG_INET_ESTABLISHED);

	b.inet.listener = 1;	/* a connection, not a listener */
	queued_image(&a, &b, "file 2: queued in file 1, which is not its listener");
	b.inet.listener = 9;	/* none */
	queued_image(&a, &b, "file 2: queued in file 9, which is not its listener");
	b.inet.listener = 2;	/* itself */
	queued_image(&a, &b, "file 2: a connection not accepted yet with data to send or closing");
	b.inet.listener = 0;
	a.inet.listener = 3;	/* another port; and with data to send */
	queued_image(&a, &b, "file 1: a connection not accepted yet with data to send or closing");
}
END_TEST

static Suite *image_inet_suite(void)
{
	Suite *s = suite_create("image-inet");
	TCase *tc = image_tcase(s, "inet");

	add(tc, test_roundtrip_inet);
	add(tc, test_tcp_peers);
	add(tc, test_refuse_inet_fields);
	add(tc, test_refuse_inet_opts);
	add(tc, test_refuse_tcp_fields);
	add(tc, test_refuse_inet_chunks);
	add(tc, test_refuse_tcp_queues);
	add(tc, test_refuse_tcp_pairs);
	add(tc, test_tcp_half_closed);
	add(tc, test_roundtrip_tcp_outside);
	add(tc, test_refuse_tcp_outside);
	add(tc, test_refuse_two_locks);
	add(tc, test_roundtrip_tcp_queued);
	add(tc, test_refuse_tcp_queued);
	add(tc, test_roundtrip_netlink);
	add(tc, test_refuse_netlink);
	return s;
}

CHECK_MAIN(image_inet_suite)
