/*
 * Connections not accepted yet, back in their listener's accept queue,
 * in the image's order, so that the program's next accept() returns
 * them (ckpt/dump-inet-accept.c took them out).
 *
 * No system call puts a connection in a listener's queue. A TC program
 * can, since Linux 6.9: on lo's ingress (a clsact qdisc, made here if
 * lo had none), restore's program (bpf/accept.bpf.c, embedded) turns
 * the acknowledgement that restore sends from the connection's peer into
 * a request socket of the listener with the options the connection had
 * negotiated (bpf_sk_assign_tcp_reqsk); the TCP stack then takes the
 * initial sequence numbers from that segment, as it does for a SYN
 * cookie (net/ipv4/syncookies.c: rcv_isn is its seq - 1, snt_isn its
 * ack - 1), makes the connection and queues it. So the segment says
 * seq = the first byte the program had not read and ack = the next
 * byte the connection sends: the connection continues both streams
 * where they were. Its unread bytes follow as data segments, until
 * sock_diag says its receive queue holds them all. Only segments with
 * restore's mark (IMG_NETLOCK_MARK, which the network lock lets pass)
 * to a listener are touched; the program is detached afterwards, and on
 * failure.
 *
 * Timestamps: the connection gets its own clock back (TSecr), and the
 * peer's last value as 0, which PAWS takes from anything (the peer's
 * next segment sets it); restore's segments carry no options.
 *
 * This runs while every other connection is still in repair mode:
 * none sends to a connection not made yet, which would be answered by a
 * reset.
 */
#include <sys/socket.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/inet_diag.h>
#include <linux/netlink.h>
#include <linux/pkt_cls.h>
#include <linux/sock_diag.h>
#include <net/if.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "restore/restore.h"
#include "restore/inet-priv.h"

#define WAIT_MS		20000	/* for the kernel, on a loaded machine */
#define SEG_MAX		32768	/* data bytes a segment */

/* bpf/accept.bpf.c's object, embedded by the Makefile */
extern const unsigned char restore_accept_bpf[], restore_accept_bpf_end[];

/* bpf/accept.bpf.c's map value: the kernel's struct bpf_tcp_req_attrs */
struct req_attrs {
	uint32_t rcv_tsval, rcv_tsecr;
	uint16_t mss;
	uint8_t rcv_wscale, snd_wscale, ecn_ok, wscale_ok, sack_ok;
	uint8_t tstamp_ok, usec_ts_ok, reserved[3];
};

struct requeue {
	struct bpf_object *obj;
	int map;
	struct bpf_tc_hook hook;
	struct bpf_tc_opts opts;
	int made_hook, attached;
	int diag;		/* NETLINK_SOCK_DIAG, or -1 */
};

static long ms_since(const struct timespec *t0)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (now.tv_sec - t0->tv_sec) * 1000 +
	       (now.tv_nsec - t0->tv_nsec) / 1000000;
}

/* libbpf's own messages (a clsact qdisc that exists already is one)
 * stay quiet: what fails is said once, with errno, by restore */
static int libbpf_quiet(enum libbpf_print_level l, const char *fmt,
			va_list ap)
{
	(void)l;
	(void)fmt;
	(void)ap;
	return 0;
}

/* ---- the program -------------------------------------------------------- */

static int attach(struct requeue *q)
{
	struct bpf_program *prog;
	struct bpf_map *map;
	int err;

	libbpf_set_print(libbpf_quiet);
	q->obj = bpf_object__open_mem(restore_accept_bpf,
				      restore_accept_bpf_end -
				      restore_accept_bpf, NULL);
	if (!q->obj || bpf_object__load(q->obj))
		return -1;
	prog = bpf_object__find_program_by_name(q->obj, "ckpt_accept");
	map = bpf_object__find_map_by_name(q->obj, "ckpt_accept_attrs");
	if (!prog || !map) {
		errno = ENOENT;
		return -1;
	}
	q->map = bpf_map__fd(map);
	q->hook.sz = sizeof(q->hook);
	q->hook.ifindex = if_nametoindex("lo");
	q->hook.attach_point = BPF_TC_INGRESS;
	if (!q->hook.ifindex)
		return -1;
	err = bpf_tc_hook_create(&q->hook);
	if (err && err != -EEXIST) {
		errno = -err;
		return -1;
	}
	q->made_hook = !err;
	q->opts.sz = sizeof(q->opts);
	q->opts.prog_fd = bpf_program__fd(prog);
	err = bpf_tc_attach(&q->hook, &q->opts);
	if (err) {
		errno = -err;
		return -1;
	}
	q->attached = 1;
	return 0;
}

static void detach(struct requeue *q)
{
	if (q->attached) {
		q->opts.prog_fd = 0;
		q->opts.prog_id = 0;
		q->opts.flags = 0;
		if (bpf_tc_detach(&q->hook, &q->opts))
			pr_warn("can't detach restore's TC program from lo");
	}
	/* both points: the qdisc itself (one alone flushes its filters) */
	q->hook.attach_point = BPF_TC_INGRESS | BPF_TC_EGRESS;
	if (q->made_hook && bpf_tc_hook_destroy(&q->hook))
		pr_warn("can't remove the clsact qdisc restore put on lo");
	bpf_object__close(q->obj);
	if (q->diag >= 0)
		close(q->diag);
}

/* ---- sock_diag: the connection, as the kernel has it -------------------- */

static void put_addr(__be32 *dst, const uint8_t *a, uint32_t family)
{
	memcpy(dst, a, family == AF_INET ? 4 : 16);
}

/* The state and receive queue of f's socket; 0, or -1 (ENOENT: none) */
static int diag(struct requeue *q, const struct img_file *f, int *state,
		uint32_t *rqueue)
{
	const struct img_inet *in = &f->inet;
	struct {
		struct nlmsghdr nlh;
		struct inet_diag_req_v2 r;
	} req = {
		.nlh = { .nlmsg_len = sizeof(req),
			 .nlmsg_type = SOCK_DIAG_BY_FAMILY,
			 .nlmsg_flags = NLM_F_REQUEST },
		.r = { .sdiag_family = in->family,
		       .sdiag_protocol = IPPROTO_TCP, .idiag_states = ~0u },
	};
	long buf[1024];
	const struct nlmsghdr *h = (const void *)buf;
	const struct inet_diag_msg *m;
	ssize_t n;

	req.r.id.idiag_sport = htons(in->port);
	req.r.id.idiag_dport = htons(in->peer_port);
	put_addr(req.r.id.idiag_src, in->addr, in->family);
	put_addr(req.r.id.idiag_dst, in->peer_addr, in->family);
	req.r.id.idiag_cookie[0] = req.r.id.idiag_cookie[1] =
		INET_DIAG_NOCOOKIE;
	if (q->diag < 0)
		q->diag = socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC,
				 NETLINK_SOCK_DIAG);
	if (q->diag < 0 || send(q->diag, &req, sizeof(req), 0) < 0)
		return -1;
	n = recv(q->diag, buf, sizeof(buf), 0);
	if (n < (ssize_t)sizeof(*h))
		return -1;
	if (h->nlmsg_type == NLMSG_ERROR) {
		errno = -((const struct nlmsgerr *)NLMSG_DATA(h))->error;
		return -1;
	}
	if (n < (ssize_t)NLMSG_LENGTH(sizeof(*m))) {
		errno = EIO;
		return -1;
	}
	m = NLMSG_DATA(h);
	*state = m->idiag_state;
	*rqueue = m->idiag_rqueue;
	return 0;
}

/* ---- one connection ----------------------------------------------------- */

static int set_attrs(struct requeue *q, const struct img_file *f)
{
	const struct img_tcp *t = &f->inet.tcp;
	struct req_attrs a;
	uint32_t k = 0;

	memset(&a, 0, sizeof(a));
	a.mss = t->mss;
	a.wscale_ok = !!(t->opts & IMG_TCP_WSCALE);
	a.snd_wscale = t->snd_wscale;
	a.rcv_wscale = t->rcv_wscale;
	a.sack_ok = !!(t->opts & IMG_TCP_SACK);
	a.tstamp_ok = !!(t->opts & IMG_TCP_TSTAMP);
	a.rcv_tsecr = t->timestamp;
	return bpf_map_update_elem(q->map, &k, &a, BPF_ANY);
}

/* The connection exists (established) with got bytes in its queue. */
static int wait_conn(struct requeue *q, const struct img_file *f,
		     uint32_t *got)
{
	struct timespec t0;
	int state = 0;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (;;) {
		if (!diag(q, f, &state, got) && state == TCP_ESTABLISHED)
			return 0;
		if ((errno != ENOENT && state != TCP_ESTABLISHED) ||
		    ms_since(&t0) > WAIT_MS)
			break;
		usleep(2000);
	}
	if (!errno || state)
		errno = EPROTO;
	return -1;
}

/* The unread bytes as data from the peer, sent again from what the
 * queue lacks until it has them all (the connection's first window may
 * be smaller than they are; it opens as the program reads). */
static int fill(struct requeue *q, struct inet_tab *t, const struct img_file *f)
{
	const struct img_tcp *tcp = &f->inet.tcp;
	uint32_t got = 0, len, mss = tcp->mss < SEG_MAX ? tcp->mss : SEG_MAX;
	struct timespec t0;
	uint8_t *buf;
	int ret = -1;

	buf = malloc(tcp->recvq_len ? tcp->recvq_len : 1);
	if (!buf)
		return -1;
	inet_copy_recvq(f, 0, tcp->recvq_len, buf);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	while (!wait_conn(q, f, &got) && got < tcp->recvq_len) {
		if (ms_since(&t0) > WAIT_MS) {
			errno = ETIMEDOUT;
			goto out;
		}
		for (; got < tcp->recvq_len; got += len) {
			len = tcp->recvq_len - got < mss ?
			      tcp->recvq_len - got : mss;
			if (inet_send_seg(t, f, 0, tcp->rcv_seq + got,
					  buf + got, len))
				goto out;
		}
		usleep(2000);
	}
	if (got == tcp->recvq_len)
		ret = 0;
	else if (got > tcp->recvq_len)
		errno = EPROTO;
out:
	free(buf);
	return ret;
}

/* The listener's accept queue holds want connections. */
static int queue_is(int lfd, uint32_t want)
{
	struct tcp_info ti;
	socklen_t l = sizeof(ti);

	memset(&ti, 0, sizeof(ti));
	if (getsockopt(lfd, IPPROTO_TCP, TCP_INFO, &ti, &l))
		return 0;
	return ti.tcpi_unacked == want;
}

static int one(struct requeue *q, struct inet_tab *t, const struct img_file *f,
	       int lfd, uint32_t nth)
{
	const char *what = "request socket";
	uint32_t got;

	if (set_attrs(q, f) || inet_send_seg(t, f, 0, f->inet.tcp.rcv_seq,
					     NULL, 0))
		goto err;
	what = "connection";
	if (wait_conn(q, f, &got))
		goto err;
	what = "receive queue";
	if (fill(q, t, f))
		goto err;
	what = "place in the accept queue";
	if (!queue_is(lfd, nth)) {
		errno = EPROTO;
		goto err;
	}
	return 0;
err:
	pr_perror("can't put TCP connection %llu back in its listener's queue (its %s)",
		  (unsigned long long)f->ino, what);
	return -1;
}

/* ---- the table ---------------------------------------------------------- */

static int syncookies_on(void)
{
	char c = '1';
	int fd = open("/proc/sys/net/ipv4/tcp_syncookies", O_RDONLY |
		      O_CLOEXEC);

	if (fd >= 0) {
		if (read(fd, &c, 1) != 1)
			c = '1';
		close(fd);
	}
	return c != '0';
}

static int listener_fd(const struct inet_tab *t, uint32_t id)
{
	uint32_t i;

	for (i = 0; i < t->n; i++)
		if (t->e[i].f->id == id)
			return t->e[i].fd;
	return -1;
}

static uint32_t nr_queued(const struct inet_tab *t)
{
	uint32_t i, n = 0;

	for (i = 0; i < t->n; i++)
		n += img_tcp_queued(t->e[i].f) ? 1 : 0;
	return n;
}

int inet_requeue(struct inet_tab *t)
{
	struct requeue q = { .diag = -1 };
	uint32_t i, k, nth;
	int lfd, ret = -1;

	if (!nr_queued(t))
		return 0;
	if (!syncookies_on()) {
		pr_err("can't put connections back in their listeners' queues: net.ipv4.tcp_syncookies is 0 here");
		return -1;
	}
	if (attach(&q)) {
		pr_perror("can't put connections back in their listeners' queues: the TC program on lo (Linux 6.9)");
		goto out;
	}
	for (i = 0; i < t->n; i++) {
		const struct img_file *f = t->e[i].f;

		if (!img_tcp_queued(f))
			continue;
		lfd = listener_fd(t, f->inet.listener);
		for (k = nth = 0; k <= i; k++)	/* its place in the queue */
			nth += t->e[k].f->inet.listener == f->inet.listener;
		if (lfd < 0 || one(&q, t, f, lfd, nth))
			goto out;
	}
	ret = 0;
out:
	detach(&q);
	return ret;
}
