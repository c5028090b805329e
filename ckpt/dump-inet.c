/*
 * TCP and UDP sockets (IPv4 and IPv6) in the tree's file table: what each
 * one is (its family, state, addresses and the options that differ from
 * a new socket's), which ones can be kept, and their queues.
 *
 * A TCP connection is kept when both its ends are in the tree: restore
 * rebuilds the pair with TCP_REPAIR, each end with the sequence numbers,
 * queues, window and negotiated options it had (dump-inet-queues.c reads
 * them, and the datagrams queued in UDP sockets). So is one whose other
 * end is not in the tree, with --tcp-established: alone, its peer held
 * off by the network lock (dump-netlock.c) from before it enters repair
 * mode. Without the option such a connection is refused by name.
 * A listener's connections not accepted yet are dump-inet-accept.c's.
 * A connection whose other end is not kept, one being set up or already
 * closed, and a socket with an error pending, a peek offset or a filter
 * are refused, naming them: restore could not give them back as they
 * were. A refused socket keeps
 * the kind dump-filetab.c gave it, like every socket ckpt can't carry.
 *
 * The options are compared with those of a new socket of the same kind,
 * made here: restore makes its sockets the same way and sets only those
 * that differ. A TCP connection always carries its buffer sizes, which
 * the kernel tunes as it goes: its queues must fit in them again.
 */
#include <sys/socket.h>
#include <sys/ioctl.h>
#include <arpa/inet.h>
#include <linux/sockios.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <netinet/udp.h>
#include <net/if.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ckpt/dump-priv.h"

#define ONLY_WITHIN	"only TCP connections within the tree are kept without --tcp-established"

/* "127.0.0.1:80", "[::1]:80" */
static void addr_str(uint32_t family, const uint8_t *addr, uint32_t port,
		   char *out, size_t len)
{
	char a[INET6_ADDRSTRLEN] = "?";

	inet_ntop(family, addr, a, sizeof(a));
	snprintf(out, len, family == AF_INET ? "%s:%u" : "[%s]:%u", a, port);
}

/* "TCP socket listening on 0.0.0.0:80", "TCP connection to ... from ..." */
void dump_inet_describe(const struct img_file *f, char *out, size_t len)
{
	const struct img_inet *in = &f->inet;
	const char *p = f->kind == IMG_FILE_TCP ? "TCP" : "UDP";
	char a[64], b[64];

	addr_str(in->family, in->addr, in->port, a, sizeof(a));
	addr_str(in->family, in->peer_addr, in->peer_port, b, sizeof(b));
	if (in->peer_port)
		snprintf(out, len, "a %s connection to %s from %s", p, b, a);
	else
		snprintf(out, len, "a %s socket %s %s", p,
			 in->state == IMG_INET_LISTENING ? "listening on" :
			 "on", a);
}

static int get_int(int sk, int level, int opt, int *v)
{
	socklen_t l = sizeof(*v);

	return getsockopt(sk, level, opt, v, &l);
}

/* addr and port of a sockaddr; -1 for a scoped (link-local) IPv6 one */
static int from_sockaddr(const struct sockaddr_storage *ss, uint8_t *addr,
			 uint32_t *port)
{
	const struct sockaddr_in *s4 = (const void *)ss;
	const struct sockaddr_in6 *s6 = (const void *)ss;

	if (ss->ss_family == AF_INET) {
		memcpy(addr, &s4->sin_addr, 4);
		*port = ntohs(s4->sin_port);
		return 0;
	}
	memcpy(addr, &s6->sin6_addr, 16);
	*port = ntohs(s6->sin6_port);
	return s6->sin6_scope_id ? -1 : 0;
}

/* The bound and peer addresses; 1 when one is scoped, which restore
 * could not make again in another namespace. */
static int read_names(struct img_inet *in, int sk)
{
	struct sockaddr_storage ss;
	socklen_t l = sizeof(ss);
	int scoped = 0;

	memset(&ss, 0, sizeof(ss));
	if (!getsockname(sk, (struct sockaddr *)&ss, &l))
		scoped |= from_sockaddr(&ss, in->addr, &in->port);
	l = sizeof(ss);
	memset(&ss, 0, sizeof(ss));
	if (!getpeername(sk, (struct sockaddr *)&ss, &l))
		scoped |= from_sockaddr(&ss, in->peer_addr, &in->peer_port);
	return scoped ? 1 : 0;
}

/* ---- options ------------------------------------------------------------ */

static int read_opt(int sk, const struct img_sockopt_desc *o, int *v)
{
	struct linger lg = { 0 };
	socklen_t l = sizeof(lg);

	if (o->opt != SO_LINGER || o->level != SOL_SOCKET)
		return get_int(sk, o->level, o->opt, v);
	if (getsockopt(sk, SOL_SOCKET, SO_LINGER, &lg, &l))
		return -1;
	*v = lg.l_onoff ? lg.l_linger : -1;
	return 0;
}

/* Those of sk's options that differ from fresh's (a new socket of the
 * same kind); a TCP connection's buffer sizes in any case. */
static void read_opts(struct img_file *f, int sk, int fresh)
{
	struct img_inet *in = &f->inet;
	const struct img_sockopt_desc *o;
	int v, d, i;

	for (i = 0; i < IMG_NR_SOCKOPTS; i++) {
		o = img_sockopt(i);
		if (!(o->kinds & (1u << f->kind)) ||
		    (o->ipv6_only && in->family != AF_INET6))
			continue;
		if (read_opt(sk, o, &v) || read_opt(fresh, o, &d))
			continue;
		if (v == d && !(img_tcp_connection(f) &&
				(i == IMG_SO_RCVBUF || i == IMG_SO_SNDBUF)))
			continue;
		if (v < o->min || v > o->max)
			continue;	/* SO_LINGER off (-1) ... */
		in->opt[i] = v;
		in->opt_mask |= 1u << i;
	}
}

static int read_dev(struct img_inet *in, int sk)
{
	char dev[IFNAMSIZ + 1] = "";
	socklen_t l = sizeof(dev) - 1;

	if (getsockopt(sk, SOL_SOCKET, SO_BINDTODEVICE, dev, &l) || !dev[0])
		return 0;
	in->dev = strdup(dev);
	return in->dev ? 0 : -1;
}

/* ---- what the socket is ------------------------------------------------- */

static uint32_t tcp_state(int kstate)
{
	switch (kstate) {
	case TCP_ESTABLISHED:
		return IMG_INET_ESTABLISHED;
	case TCP_FIN_WAIT1:
		return IMG_INET_FIN_WAIT1;
	case TCP_FIN_WAIT2:
		return IMG_INET_FIN_WAIT2;
	case TCP_CLOSE_WAIT:
		return IMG_INET_CLOSE_WAIT;
	case TCP_LAST_ACK:
		return IMG_INET_LAST_ACK;
	case TCP_CLOSING:
		return IMG_INET_CLOSING;
	case TCP_LISTEN:
		return IMG_INET_LISTENING;
	case TCP_CLOSE:
		return IMG_INET_UNCONNECTED;
	}
	return 0;
}

static short poll_now(int sk, short events)
{
	struct pollfd p = { .fd = sk, .events = events };

	return poll(&p, 1, 0) == 1 ? p.revents : 0;
}

/* The TCP state, or a reason why it can't be kept. A listener's
 * connections not accepted yet are dump-inet-accept.c's. */
static const char *tcp_why(struct img_file *f, int sk)
{
	struct tcp_info ti;
	socklen_t l = sizeof(ti);

	memset(&ti, 0, sizeof(ti));
	if (getsockopt(sk, IPPROTO_TCP, TCP_INFO, &ti, &l))
		return "without TCP_INFO";
	f->inet.state = tcp_state(ti.tcpi_state);
	if (!f->inet.state)
		return "being connected, which is not supported";
	/* a socket once connected keeps its shutdown, which shows */
	if (f->inet.state == IMG_INET_UNCONNECTED &&
	    (poll_now(sk, POLLRDHUP) & POLLRDHUP))
		return "already closed, which is not supported";
	if (f->inet.state == IMG_INET_LISTENING)
		f->inet.backlog = ti.tcpi_sacked;
	return NULL;
}

static const char *udp_why(struct img_file *f, int sk)
{
	int out = 0, cork = 0;

	f->inet.state = f->inet.peer_port ? IMG_INET_ESTABLISHED :
		IMG_INET_UNCONNECTED;
	if ((!ioctl(sk, SIOCOUTQ, &out) && out) ||
	    (!get_int(sk, IPPROTO_UDP, UDP_CORK, &cork) && cork))
		return "corked, which is not supported";
	/* which of the sockets sharing its port gets a datagram depends on
	 * its sender: restore could not put them back in this one */
	if ((f->inet.opt_mask & (1u << IMG_SO_REUSEPORT)) &&
	    (poll_now(sk, POLLIN) & POLLIN))
		return "sharing its port (SO_REUSEPORT) with datagrams queued, which is not supported";
	return NULL;
}

/* What no kind of socket can have here: an error that reading it would
 * take away, a peek offset, a filter (SO_GET_FILTER says its length). */
static const char *common_why(int sk)
{
	socklen_t flen = 0;
	int off = -1;

	if (poll_now(sk, 0) & POLLERR)
		return "with an error pending, which is not supported";
	if (!get_int(sk, SOL_SOCKET, SO_PEEK_OFF, &off) && off >= 0)
		return "with a peek offset (SO_PEEK_OFF), which is not supported";
	if (getsockopt(sk, SOL_SOCKET, SO_GET_FILTER, NULL, &flen) || flen)
		return "with a socket filter, which is not supported";
	return NULL;
}

static uint32_t inet_kind(int sk)
{
	int type = 0, proto = 0;

	get_int(sk, SOL_SOCKET, SO_TYPE, &type);
	get_int(sk, SOL_SOCKET, SO_PROTOCOL, &proto);
	if (type == SOCK_STREAM && proto == IPPROTO_TCP)
		return IMG_FILE_TCP;
	if (type == SOCK_DGRAM && proto == IPPROTO_UDP)
		return IMG_FILE_UDP;
	return 0;
}

const char *dump_inet_fill(struct img_file *f, int sk)
{
	struct img_inet *in = &f->inet;
	const char *why;
	int fresh;

	if (read_names(in, sk))
		return "on a scoped IPv6 address, which is not supported";
	why = common_why(sk);
	if (why)
		return why;
	fresh = socket(in->family, f->kind == IMG_FILE_TCP ? SOCK_STREAM :
		       SOCK_DGRAM, 0);
	if (fresh < 0)
		return "unlike any socket ckpt can make";
	why = f->kind == IMG_FILE_TCP ? tcp_why(f, sk) : NULL;
	read_opts(f, sk, fresh);
	if (!why)
		why = dump_sockx_read(f, sk, fresh);	/* dump-sockx.c */
	close(fresh);
	if (!why && f->kind == IMG_FILE_UDP)
		why = udp_why(f, sk);
	if (!why && read_dev(in, sk))
		why = "out of memory";
	return why;
}

int dump_inet_probe(struct dump_file *df, int sk)
{
	struct img_file f = df->f;
	char what[160];
	const char *why;
	int dom = AF_INET;

	get_int(sk, SOL_SOCKET, SO_DOMAIN, &dom);
	memset(&f.inet, 0, sizeof(f.inet));
	f.inet.family = dom;
	f.kind = inet_kind(sk);
	if (!f.kind) {
		dump_set_why(df, "socket:[%llu] is an %s socket of another protocol than TCP or UDP, which is not supported",
			     (unsigned long long)df->f.ino,
			     dom == AF_INET ? "IPv4" : "IPv6");
		return 0;
	}
	why = dump_inet_fill(&f, sk);
	if (why) {
		dump_inet_describe(&f, what, sizeof(what));
		dump_set_why(df, "socket:[%llu] is %s, %s",
			     (unsigned long long)df->f.ino, what, why);
		img_inet_free(&f);
		return 0;
	}
	df->f = f;
	if (f.inet.state == IMG_INET_LISTENING)	/* dump-inet-accept.c */
		df->queued = dump_inet_pending(sk);
	return 0;
}

/* ---- connections within the tree ---------------------------------------- */

/* Is a the other end of b (addresses swapped, v4-mapped or not)? */
static int same_addr(const struct img_inet *a, const uint8_t *addr,
		     uint32_t port, const struct img_inet *b,
		     const uint8_t *baddr, uint32_t bport)
{
	static const uint8_t v4map[12] = { [10] = 0xff, [11] = 0xff };
	uint8_t x[16], y[16];

	if (port != bport)
		return 0;
	memcpy(x, v4map, 12);
	memcpy(y, v4map, 12);
	memcpy(a->family == AF_INET ? x + 12 : x, addr,
	       a->family == AF_INET ? 4 : 16);
	memcpy(b->family == AF_INET ? y + 12 : y, baddr,
	       b->family == AF_INET ? 4 : 16);
	return !memcmp(x, y, 16);
}

static int ends_of(const struct img_file *a, const struct img_file *b)
{
	const struct img_inet *x = &a->inet, *y = &b->inet;

	return same_addr(x, x->addr, x->port, y, y->peer_addr, y->peer_port) &&
	       same_addr(x, x->peer_addr, x->peer_port, y, y->addr, y->port);
}

static int kept_conn(const struct dump_file *df)
{
	return img_tcp_connection(&df->f) && !df->why && !df->outside;
}

/* Is the other end of df in the table (kept, or any)? */
static int has_other_end(const struct dump_tree *t,
			 const struct dump_file *df, int kept)
{
	uint32_t i;

	for (i = 0; i < t->nr_files; i++)
		if (&t->files[i] != df && (kept ? kept_conn(&t->files[i]) :
			img_tcp_connection(&t->files[i].f)) &&
		    ends_of(&df->f, &t->files[i].f))
			return 1;
	return 0;
}

/* With --tcp-established, a connection whose other end is nowhere in
 * the tree is kept on its own, behind the network lock (dump-netlock.c),
 * in any state: restore gives it the FIN its peer had sent again. */
static void mark_outside(struct dump_tree *t)
{
	uint32_t i;

	if (!t->procs[0].o->tcp_established)
		return;
	for (i = 0; i < t->nr_files; i++) {
		struct dump_file *df = &t->files[i];

		if (kept_conn(df) && !has_other_end(t, df, 0))
			df->peer_outside = 1;
	}
}

/* A connection whose other end is not kept can't be kept either (one
 * whose other end is not in the tree at all is, with --tcp-established);
 * that may drop the end of another in turn (when it was refused for
 * another reason, with --ext-null). Quadratic, as the connections of a
 * tree are few. */
void dump_inet_settle(struct dump_tree *t)
{
	char what[160];
	uint32_t i;
	int changed = 1;

	dump_inet_accept(t);
	mark_outside(t);
	while (changed) {
		changed = 0;
		for (i = 0; i < t->nr_files; i++) {
			struct dump_file *df = &t->files[i];

			if (!kept_conn(df) || df->peer_outside ||
			    has_other_end(t, df, 1))
				continue;
			dump_inet_describe(&df->f, what, sizeof(what));
			dump_set_why(df, "socket:[%llu] is %s, whose other end is not in the tree; "
				     ONLY_WITHIN, (unsigned long long)df->f.ino,
				     what);
			changed = 1;
		}
	}
	dump_inet_accept_settle(t);
}
