/*
 * The queues of the TCP and UDP sockets the file table keeps, read while
 * the tree is frozen and left in place.
 *
 * A TCP connection is put in repair mode (TCP_REPAIR) through ckpt's own
 * duplicate of it, which is the socket itself: in repair mode its
 * sequence numbers, both its queues (the send queue too, sent or not) and
 * its window can be read, and peeking at them takes nothing away. Every
 * connection of the tree enters repair mode before the first is read, so
 * that none sends to a peer already read, and all leave it after the
 * last, without the window probe that would wake the peer (a ckpt killed
 * meanwhile would leave them in repair mode: the dump's guardian,
 * dump-guard.c, takes them out then); leaving it clears SO_REUSEADDR,
 * which is set back.
 * The kernel goes on meanwhile (an acknowledgement may still come for
 * data that the frozen peer received): the reads are repeated until two
 * agree.
 *
 * With --kill every connection goes back to repair mode just before the
 * tree is killed (dump_inet_silence): a socket closed in repair mode goes
 * without a FIN or a reset and leaves no TIME_WAIT behind, so that its
 * peer hears nothing and restore finds its addresses free.
 *
 * A UDP socket's datagrams are peeked one by one with SO_PEEK_OFF, each
 * with its sender; the socket had no peek offset (dump-inet.c refuses one
 * that has), and has none again after.
 */
#include <sys/socket.h>
#include <sys/ioctl.h>
#include <errno.h>
#include <linux/sockios.h>
#include <net/if.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ckpt/dump-priv.h"
#include "util/fault.h"

#define MAX_TRIES	16
#define MAX_SETTLE	2000	/* passes, 1 ms apart, before giving up */
#define MAX_DGRAM	65536
#define MAX_AGREE	50	/* reads of every connection, then refused */

/* What can move while the connection is read, read before and after. */
struct tcp_snap {
	int state, outq, unsent, inq;
	uint32_t write_seq, rcv_nxt;
	uint32_t opts, snd_wscale, rcv_wscale;
};

static int repair(int sk, int on)
{
	int v = on ? TCP_REPAIR_ON : TCP_REPAIR_OFF_NO_WP;

	return setsockopt(sk, IPPROTO_TCP, TCP_REPAIR, &v, sizeof(v));
}

/* Out of repair mode, with the SO_REUSEADDR it clears set back. */
static int unrepair(int sk, const struct img_file *f)
{
	int one = 1;

	if (repair(sk, 0))
		return -1;
	if (!(f->inet.opt_mask & (1u << IMG_SO_REUSEADDR)))
		return 0;
	return setsockopt(sk, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
}

static int queue_seq(int sk, int q, uint32_t *seq)
{
	socklen_t l = sizeof(*seq);

	if (setsockopt(sk, IPPROTO_TCP, TCP_REPAIR_QUEUE, &q, sizeof(q)))
		return -1;
	return getsockopt(sk, IPPROTO_TCP, TCP_QUEUE_SEQ, seq, &l);
}

static int snap(int sk, struct tcp_snap *s)
{
	struct tcp_info ti;
	socklen_t l = sizeof(ti);

	memset(s, 0, sizeof(*s));
	memset(&ti, 0, sizeof(ti));
	if (getsockopt(sk, IPPROTO_TCP, TCP_INFO, &ti, &l) ||
	    ioctl(sk, SIOCOUTQ, &s->outq) ||
	    ioctl(sk, SIOCOUTQNSD, &s->unsent) ||
	    ioctl(sk, SIOCINQ, &s->inq) ||
	    queue_seq(sk, TCP_SEND_QUEUE, &s->write_seq) ||
	    queue_seq(sk, TCP_RECV_QUEUE, &s->rcv_nxt))
		return -1;
	s->state = ti.tcpi_state;
	s->opts = ti.tcpi_options;
	s->snd_wscale = ti.tcpi_snd_wscale;
	s->rcv_wscale = ti.tcpi_rcv_wscale;
	return 0;
}

/* n bytes of queue q into buf (n + 1 bytes: one more says there are no
 * more). The send queue can only be peeked whole (tcp_peek_sndq()). */
static int peek_queue(int sk, int q, uint8_t *buf, uint32_t n)
{
	ssize_t got;

	if (!n)
		return 0;
	if (setsockopt(sk, IPPROTO_TCP, TCP_REPAIR_QUEUE, &q, sizeof(q)))
		return -1;
	got = recv(sk, buf, (size_t)n + 1, MSG_PEEK | MSG_DONTWAIT);
	if (got == n)
		return 0;
	if (got >= 0)
		errno = EIO;
	return -1;
}

static int add_chunks(struct img_file *f, const uint8_t *buf, uint32_t n,
		      uint32_t flags)
{
	uint32_t off, len;

	for (off = 0; off < n; off += len) {
		len = n - off < IMG_MAX_CHUNK ? n - off : IMG_MAX_CHUNK;
		if (dump_add_chunk(f, buf + off, len, flags))
			return -1;
	}
	return 0;
}

static int fin_sent(int state)
{
	return state == TCP_FIN_WAIT1 || state == TCP_FIN_WAIT2 ||
	       state == TCP_CLOSING || state == TCP_LAST_ACK;
}

static int fin_rcvd(int state)
{
	return state == TCP_CLOSE_WAIT || state == TCP_LAST_ACK ||
	       state == TCP_CLOSING;
}

/* The image's counts, which leave FINs out (the state says them). */
static int fill_seqs(struct img_file *f, const struct tcp_snap *s)
{
	struct img_tcp *t = &f->inet.tcp;
	int fs = fin_sent(s->state), fr = fin_rcvd(s->state);

	switch (s->state) {
	case TCP_ESTABLISHED:
		f->inet.state = IMG_INET_ESTABLISHED;
		break;
	case TCP_FIN_WAIT1:
		f->inet.state = IMG_INET_FIN_WAIT1;
		break;
	case TCP_FIN_WAIT2:
		f->inet.state = IMG_INET_FIN_WAIT2;
		break;
	case TCP_CLOSE_WAIT:
		f->inet.state = IMG_INET_CLOSE_WAIT;
		break;
	case TCP_LAST_ACK:
		f->inet.state = IMG_INET_LAST_ACK;
		break;
	case TCP_CLOSING:
		f->inet.state = IMG_INET_CLOSING;
		break;
	default:
		return -1;	/* closed since dump-inet.c looked */
	}
	t->sendq_len = s->outq - (fs && s->outq ? 1 : 0);
	t->unsent_len = s->unsent - (fs && s->unsent ? 1 : 0);
	t->snd_seq = s->write_seq - fs - t->sendq_len;
	t->recvq_len = s->inq;
	t->rcv_seq = s->rcv_nxt - fr - s->inq;
	return 0;
}

/* What TCP_REPAIR_OPTIONS and _WINDOW will need. */
static int read_params(struct img_file *f, int sk, const struct tcp_snap *s)
{
	struct img_tcp *t = &f->inet.tcp;
	struct tcp_repair_window w;
	socklen_t l = sizeof(w);
	int v;

	t->opts = (s->opts & TCPI_OPT_SACK ? IMG_TCP_SACK : 0) |
		  (s->opts & TCPI_OPT_TIMESTAMPS ? IMG_TCP_TSTAMP : 0) |
		  (s->opts & TCPI_OPT_WSCALE ? IMG_TCP_WSCALE : 0);
	if (t->opts & IMG_TCP_WSCALE) {
		t->snd_wscale = s->snd_wscale;
		t->rcv_wscale = s->rcv_wscale;
	}
	l = sizeof(v);
	if (getsockopt(sk, IPPROTO_TCP, TCP_MAXSEG, &v, &l))
		return -1;
	t->mss = v;	/* the clamp, in repair mode */
	l = sizeof(v);
	if ((t->opts & IMG_TCP_TSTAMP) &&
	    getsockopt(sk, IPPROTO_TCP, TCP_TIMESTAMP, &v, &l))
		return -1;
	t->timestamp = t->opts & IMG_TCP_TSTAMP ? (uint32_t)v : 0;
	l = sizeof(w);
	if (getsockopt(sk, IPPROTO_TCP, TCP_REPAIR_WINDOW, &w, &l))
		return -1;
	t->snd_wl1 = w.snd_wl1;
	t->snd_wnd = w.snd_wnd;
	t->max_window = w.max_window;
	t->rcv_wnd = w.rcv_wnd;
	t->rcv_wup = w.rcv_wup;
	return 0;
}

/* Both queues and the numbers around them, until two reads agree; in
 * repair mode already (dump_inet_read), with every other connection of
 * the tree: none of them sends while the others are read. */
static int read_conn(struct img_file *f, int sk)
{
	struct tcp_snap a, b;
	uint8_t *rq = NULL, *sq = NULL;
	uint32_t sent;
	int tries, ret = -1;

	for (tries = 0; tries < MAX_TRIES; tries++) {
		free(rq);
		free(sq);
		rq = sq = NULL;
		if (snap(sk, &a) || fill_seqs(f, &a))
			goto out;
		sent = f->inet.tcp.sendq_len;
		rq = malloc((size_t)a.inq + 1);
		sq = malloc((size_t)sent + 1);
		if (!rq || !sq || peek_queue(sk, TCP_RECV_QUEUE, rq, a.inq) ||
		    peek_queue(sk, TCP_SEND_QUEUE, sq, sent) || snap(sk, &b))
			goto out;
		if (!memcmp(&a, &b, sizeof(a)))
			break;
	}
	if (tries == MAX_TRIES) {
		errno = EAGAIN;
		goto out;
	}
	ret = read_params(f, sk, &a);
	if (!ret)
		ret = add_chunks(f, rq, a.inq, 0) ||
		      add_chunks(f, sq, sent, IMG_CHUNK_SENDQ) ? -1 : 0;
out:
	free(rq);
	free(sq);
	return ret;
}


/* ---- UDP ---------------------------------------------------------------- */

/* A datagram's sender: its address, then its port, in network order. */
static int add_sender(struct img_file *f, const struct sockaddr_storage *ss)
{
	const struct sockaddr_in *s4 = (const void *)ss;
	const struct sockaddr_in6 *s6 = (const void *)ss;
	uint8_t a[18];
	uint32_t n = 4;

	if (ss->ss_family == AF_INET6) {
		memcpy(a, &s6->sin6_addr, 16);
		memcpy(a + 16, &s6->sin6_port, 2);
		n = 16;
	} else {
		memcpy(a, &s4->sin_addr, 4);
		memcpy(a + 4, &s4->sin_port, 2);
	}
	if ((ss->ss_family == AF_INET6) != (f->inet.family == AF_INET6)) {
		errno = EAFNOSUPPORT;
		return -1;
	}
	return dump_add_chunk(f, a, n + 2, IMG_CHUNK_ADDR);
}

/* Is a (4 or 16 bytes of family) where restore sends a datagram of f:
 * its bound address, or the loopback address when bound to none? */
static int restore_dest(const struct img_file *f, uint32_t family,
			const uint8_t *a)
{
	static const uint8_t lo4[4] = { 127, 0, 0, 1 };
	static const uint8_t lo6[16] = { [15] = 1 };
	static const uint8_t v4map[12] = { [10] = 0xff, [11] = 0xff };
	static const uint8_t zero[16];
	const uint8_t *own = f->inet.addr;

	if (family == AF_INET && f->inet.family == AF_INET6) {
		if (!memcmp(own, zero, 16))
			return !memcmp(a, lo4, 4);
		return !memcmp(own, v4map, 12) && !memcmp(own + 12, a, 4);
	}
	if (family == AF_INET)
		return !memcmp(a, memcmp(own, zero, 4) ? own : lo4, 4);
	return !memcmp(a, memcmp(own, zero, 16) ? own : lo6, 16);
}

/*
 * Why the ancillary data the program asked for with a datagram (its
 * options on) would differ when restore sends it again, over loopback
 * to restore_dest(), with a TTL or hop limit of 64 and no TOS, IP
 * options, mark or timestamp of its own; or NULL.
 */
static const char *arrival_why(const struct img_file *f, struct msghdr *mh)
{
	unsigned int lo = if_nametoindex("lo");
	struct cmsghdr *c;
	struct in_pktinfo p4;
	struct in6_pktinfo p6;
	struct sockaddr_in o4;
	struct sockaddr_in6 o6;
	int v;

	if (mh->msg_flags & MSG_CTRUNC)
		return "with more ancillary data than ckpt reads";
	for (c = CMSG_FIRSTHDR(mh); c; c = CMSG_NXTHDR(mh, c)) {
		const void *d = CMSG_DATA(c);
		size_t len = c->cmsg_len - CMSG_LEN(0);

		if (c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_PKTINFO &&
		    len >= sizeof(p4)) {
			memcpy(&p4, d, sizeof(p4));
			if ((unsigned int)p4.ipi_ifindex != lo ||
			    !restore_dest(f, AF_INET, (uint8_t *)&p4.ipi_addr))
				return "that came to another address or device than restore could send it to (IP_PKTINFO)";
		} else if (c->cmsg_level == IPPROTO_IPV6 &&
			   c->cmsg_type == IPV6_PKTINFO && len >= sizeof(p6)) {
			memcpy(&p6, d, sizeof(p6));
			if (p6.ipi6_ifindex != lo ||
			    !restore_dest(f, AF_INET6,
					  (uint8_t *)&p6.ipi6_addr))
				return "that came to another address or device than restore could send it to (IPV6_PKTINFO)";
		} else if (c->cmsg_level == IPPROTO_IP &&
			   c->cmsg_type == IP_ORIGDSTADDR && len >= sizeof(o4)) {
			memcpy(&o4, d, sizeof(o4));
			if (!restore_dest(f, AF_INET, (uint8_t *)&o4.sin_addr))
				return "that came to another address than restore could send it to (IP_RECVORIGDSTADDR)";
		} else if (c->cmsg_level == IPPROTO_IPV6 &&
			   c->cmsg_type == IPV6_ORIGDSTADDR &&
			   len >= sizeof(o6)) {
			memcpy(&o6, d, sizeof(o6));
			if (!restore_dest(f, AF_INET6,
					  (uint8_t *)&o6.sin6_addr))
				return "that came to another address than restore could send it to (IPV6_RECVORIGDSTADDR)";
		} else if (((c->cmsg_level == IPPROTO_IP &&
			     c->cmsg_type == IP_TTL) ||
			    (c->cmsg_level == IPPROTO_IPV6 &&
			     c->cmsg_type == IPV6_HOPLIMIT)) &&
			   len >= sizeof(v)) {
			memcpy(&v, d, sizeof(v));
			if (v != 64)
				return "with a TTL or hop limit other than the 64 of restore's datagrams (IP_RECVTTL, IPV6_RECVHOPLIMIT)";
		} else if (c->cmsg_level == IPPROTO_IP &&
			   c->cmsg_type == IP_TOS && len >= 1) {
			if (*(const uint8_t *)d)
				return "with a TOS (IP_RECVTOS)";
		} else if (c->cmsg_level == IPPROTO_IPV6 &&
			   c->cmsg_type == IPV6_TCLASS && len >= sizeof(v)) {
			memcpy(&v, d, sizeof(v));
			if (v)
				return "with a traffic class (IPV6_RECVTCLASS)";
		} else {
			return "with ancillary data restore can't give it again (a timestamp, IP options, a mark, a drop count ...)";
		}
	}
	return NULL;
}

/* One datagram at the peek offset, which it moves on; 0 at the end, -1
 * with *why set when it can't come back as it is */
static int peek_dgram(struct img_file *f, int sk, uint8_t *buf,
		      const char **why)
{
	struct sockaddr_storage from;
	uint8_t ctl[512];
	struct iovec iov = { buf, MAX_DGRAM };
	struct msghdr mh = {
		.msg_name = &from, .msg_namelen = sizeof(from),
		.msg_iov = &iov, .msg_iovlen = 1,
		.msg_control = ctl, .msg_controllen = sizeof(ctl),
	};
	ssize_t n;

	memset(&from, 0, sizeof(from));
	n = recvmsg(sk, &mh, MSG_PEEK | MSG_DONTWAIT);
	if (n < 0)
		return errno == EAGAIN ? 0 : -1;
	if (mh.msg_flags & MSG_TRUNC) {
		errno = EMSGSIZE;
		return -1;
	}
	*why = arrival_why(f, &mh);
	if (*why) {
		errno = EINVAL;
		return -1;
	}
	if (add_sender(f, &from) || dump_add_chunk(f, buf, n, IMG_CHUNK_EOR))
		return -1;
	return 1;
}

static int read_udp(struct dump_file *df, int sk, const char **why)
{
	int zero = 0, none = -1, r = 1, err;
	unsigned long guard;
	uint8_t *buf = malloc(MAX_DGRAM);

	if (!buf)
		return -1;
	if (setsockopt(sk, SOL_SOCKET, SO_PEEK_OFF, &zero, sizeof(zero))) {
		free(buf);
		return -1;
	}
	for (guard = 0; r > 0 && guard < (1ul << 24); guard++)
		r = peek_dgram(&df->f, sk, buf, why);
	err = r > 0 ? E2BIG : errno;
	if (setsockopt(sk, SOL_SOCKET, SO_PEEK_OFF, &none, sizeof(none)))
		pr_warn("can't put back the peek offset of socket:[%llu]",
			(unsigned long long)df->f.ino);
	free(buf);
	errno = err;
	return r ? -1 : 0;
}

/* ---- the table ---------------------------------------------------------- */

static int read_one(struct dump_file *df)
{
	const char *why = NULL;
	int sk, ret;

	sk = dump_grab_fd(df);
	if (sk < 0)
		return -1;
	if (df->f.kind == IMG_FILE_TCP)
		ret = img_tcp_connection(&df->f) ? read_conn(&df->f, sk) : 0;
	else
		ret = read_udp(df, sk, &why);
	close(sk);
	if (why) {
		pr_err("can't dump fd %d of %d: socket:[%llu] is a UDP socket with a datagram queued %s",
		       df->fd, df->pid, (unsigned long long)df->f.ino, why);
		return -2;
	}
	return ret;
}

/* The numbers of every connection of the tree into s (one per file). */
static int snap_all(struct dump_tree *t, struct tcp_snap *s)
{
	uint32_t i;
	int sk, ret;

	for (i = 0; i < t->nr_files; i++) {
		if (!img_tcp_connection(&t->files[i].f))
			continue;
		sk = dump_grab_fd(&t->files[i]);
		if (sk < 0)
			return -1;
		ret = snap(sk, &s[i]);
		close(sk);
		if (ret)
			return -1;
	}
	return 0;
}

/*
 * Repair mode stops a connection sending, not what it sent before: a
 * segment still on its way over loopback (or in a socket's backlog, on a
 * loaded machine) can reach its peer after one of the two was read, and
 * the peer's acknowledgement the other: the two records then disagree
 * (the reader refuses such an image). So the reading waits until two
 * passes over every connection see the same numbers.
 */
static int settle(struct dump_tree *t)
{
	struct tcp_snap *a, *b, *x;
	int tries, ret = -1;

	a = calloc(t->nr_files ? t->nr_files : 1, sizeof(*a));
	b = calloc(t->nr_files ? t->nr_files : 1, sizeof(*b));
	if (!a || !b || snap_all(t, a))
		goto out;
	for (tries = 0; tries < MAX_SETTLE; tries++) {
		usleep(1000);
		if (snap_all(t, b))
			goto out;
		if (!memcmp(a, b, t->nr_files * sizeof(*a))) {
			ret = 0;
			goto out;
		}
		x = a;
		a = b;
		b = x;
	}
	errno = EAGAIN;
out:
	free(a);
	free(b);
	return ret;
}

/* Chunks from the from-th on, gone: a connection to read again */
static void drop_chunks(struct img_file *f, uint32_t from)
{
	while (f->nr_chunks > from)
		free(f->chunks[--f->nr_chunks].data);
}

/*
 * The queues of the tree's sockets; again (again != 0) those of its TCP
 * connections only, whose chunks from base[i] on are dropped first. 0,
 * -1, or -2 when the reason was said.
 */
static int read_all(struct dump_tree *t, uint32_t *base, int again)
{
	uint32_t i;
	int ret;

	for (i = 0; i < t->nr_files; i++) {
		struct dump_file *df = &t->files[i];

		if (!img_inet_kind(df->f.kind))
			continue;
		if (again && !img_tcp_connection(&df->f))
			continue;
		if (again)
			drop_chunks(&df->f, base[i]);
		else
			base[i] = df->f.nr_chunks;
		ret = read_one(df);
		if (ret == -2)
			return -2;	/* said */
		if (ret) {
			pr_perror("can't read the queues of %s socket:[%llu] (fd %d of %d)",
				  df->f.kind == IMG_FILE_TCP ? "TCP" : "UDP",
				  (unsigned long long)df->f.ino, df->fd,
				  df->pid);
			return -1;
		}
	}
	return 0;
}

/* A connection of the tree whose peer, in the tree too, disagrees with
 * it on what was sent: 1 and its index in *bad, 0 if none, -1. */
static int disagreeing(struct dump_tree *t, uint32_t *bad)
{
	uint32_t *peer, i;
	int ret = 0;

	if (!t->nr_files)
		return 0;
	peer = malloc(t->nr_files * sizeof(*peer));
	if (!peer || img_tcp_peers_of(&t->files[0].f, sizeof(*t->files),
				      t->nr_files, peer)) {
		free(peer);
		errno = ENOMEM;
		return -1;
	}
	for (i = 0; i < t->nr_files && !ret; i++) {
		if (peer[i] == UINT32_MAX || !img_tcp_connection(&t->files[i].f))
			continue;
		if (img_tcp_pair_agrees(&t->files[peer[i]].f, &t->files[i].f)) {
			*bad = i;
			ret = 1;
		}
	}
	free(peer);
	return ret;
}

/*
 * The queues, read until both ends of each connection in the tree agree:
 * a segment the settled numbers did not show (a retransmission, when the
 * timer of a loss fires meanwhile) can reach a peer between the reads of
 * the two ends. They are read again after a new settle, MAX_AGREE times
 * at most.
 */
static int read_agreeing(struct dump_tree *t)
{
	uint32_t *base, bad = 0;
	int round, ret;

	base = calloc(t->nr_files ? t->nr_files : 1, sizeof(*base));
	if (!base)
		return -1;
	for (round = 0;; round++) {
		ret = read_all(t, base, round);
		if (ret)
			break;
		ret = disagreeing(t, &bad);
		if (ret < 0)
			pr_perror("can't match the TCP connections of %d",
				  t->procs[0].pid);
		if (ret <= 0)
			break;
		if (round == MAX_AGREE) {
			pr_err("can't dump fd %d of %d: its TCP connection, socket:[%llu], and its peer in the tree never agree on what was sent",
			       t->files[bad].fd, t->files[bad].pid,
			       (unsigned long long)t->files[bad].f.ino);
			ret = -2;
			break;
		}
		if (settle(t)) {
			pr_perror("the TCP connections of %d do not settle",
				  t->procs[0].pid);
			ret = -2;
			break;
		}
	}
	free(base);
	return ret;
}

/*
 * Every TCP connection of the tree goes into repair mode before the first
 * is read and leaves it after the last: a connection read while its peer
 * still sends (a window update, a retransmission) would be recorded at
 * another moment than its peer, and the two would not agree. A peer
 * outside the tree is held off by the network lock, taken first and kept
 * until the dump ends (dump.c).
 */
int dump_inet_read(struct dump_tree *t)
{
	int ret = 0, out;

	if (dump_inet_accept_take(t) ||	/* dump-inet-accept.c */
	    dump_guard_start(t))		/* dump-guard.c */
		return -1;
	if (dump_netlock_take(t))
		return -1;
	fault_point("netlock");
	dump_guard_park(t);	/* no thread runs while we are gone */
	if (dump_inet_silence(t, 1))
		ret = -1;
	fault_point("repair");
	if (!ret && settle(t)) {
		pr_perror("the TCP connections of %d do not settle",
			  t->procs[0].pid);
		ret = -1;
	}
	if (!ret && read_agreeing(t))
		ret = -1;
	out = !dump_inet_silence(t, 0);
	dump_guard_conns_out(t, out);
	if (!t->netlock)
		dump_guard_end(t);	/* nothing more to guard */
	return out ? ret : -1;
}

int dump_inet_silence(struct dump_tree *t, int on)
{
	uint32_t i;
	int sk, ret = 0;

	for (i = 0; i < t->nr_files; i++) {
		struct dump_file *df = &t->files[i];

		if (!img_tcp_connection(&df->f))
			continue;
		sk = dump_grab_fd(df);
		if (sk < 0 || (on ? repair(sk, 1) : unrepair(sk, &df->f))) {
			pr_perror("can't put socket:[%llu] (fd %d of %d) %s repair mode",
				  (unsigned long long)df->f.ino, df->fd,
				  df->pid, on ? "in" : "out of");
			ret = -1;
		}
		if (sk >= 0)
			close(sk);
	}
	return ret;
}
