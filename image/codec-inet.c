/*
 * codec-inet: the FILE fields of TCP and UDP sockets, which follow the
 * fields every FILE has: the family, the state, the bound and connected
 * addresses, the socket options that differ from a new socket's and, for
 * a TCP connection, what TCP_REPAIR gives of it; and those of netlink
 * sockets (protocol, port id, groups, options). The decoder checks what
 * one record can say; what the queues and the two ends of a connection
 * say together is checked once every FILE is in (semantics-inet.c).
 */
#include <sys/socket.h>
#include <linux/netlink.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdlib.h>
#include <string.h>

#include "image/image.h"
#include "image/image-priv.h"

#define TCP_K		(1u << IMG_FILE_TCP)
#define UDP_K		(1u << IMG_FILE_UDP)
#define BOTH_K		(TCP_K | UDP_K)
#define ALL_OPTS	((1u << IMG_NR_SOCKOPTS) - 1)
#define MAX_WSCALE	14	/* RFC 7323 */

/* The kernel's bounds where it has them (MAX_TCP_KEEPIDLE ...). */
static const struct img_sockopt_desc sockopts[IMG_NR_SOCKOPTS] = {
	[IMG_SO_REUSEADDR] = { "SO_REUSEADDR", SOL_SOCKET, SO_REUSEADDR,
			       0, 1, BOTH_K, 0 },
	[IMG_SO_REUSEPORT] = { "SO_REUSEPORT", SOL_SOCKET, SO_REUSEPORT,
			       0, 1, BOTH_K, 0 },
	[IMG_SO_KEEPALIVE] = { "SO_KEEPALIVE", SOL_SOCKET, SO_KEEPALIVE,
			       0, 1, TCP_K, 0 },
	[IMG_SO_LINGER] = { "SO_LINGER", SOL_SOCKET, SO_LINGER,
			    0, INT32_MAX, BOTH_K, 0 },
	[IMG_SO_RCVBUF] = { "SO_RCVBUF", SOL_SOCKET, SO_RCVBUF,
			    1, IMG_MAX_SOCKBUF, BOTH_K, 0 },
	[IMG_SO_SNDBUF] = { "SO_SNDBUF", SOL_SOCKET, SO_SNDBUF,
			    1, IMG_MAX_SOCKBUF, BOTH_K, 0 },
	[IMG_SO_MARK] = { "SO_MARK", SOL_SOCKET, SO_MARK,
			  INT32_MIN, INT32_MAX, BOTH_K, 0 },
	[IMG_SO_PRIORITY] = { "SO_PRIORITY", SOL_SOCKET, SO_PRIORITY,
			      INT32_MIN, INT32_MAX, BOTH_K, 0 },
	[IMG_SO_BROADCAST] = { "SO_BROADCAST", SOL_SOCKET, SO_BROADCAST,
			       0, 1, BOTH_K, 0 },
	[IMG_SO_OOBINLINE] = { "SO_OOBINLINE", SOL_SOCKET, SO_OOBINLINE,
			       0, 1, TCP_K, 0 },
	[IMG_TCP_NODELAY] = { "TCP_NODELAY", IPPROTO_TCP, TCP_NODELAY,
			      0, 1, TCP_K, 0 },
	[IMG_TCP_CORK] = { "TCP_CORK", IPPROTO_TCP, TCP_CORK,
			   0, 1, TCP_K, 0 },
	[IMG_TCP_KEEPIDLE] = { "TCP_KEEPIDLE", IPPROTO_TCP, TCP_KEEPIDLE,
			       1, 32767, TCP_K, 0 },
	[IMG_TCP_KEEPINTVL] = { "TCP_KEEPINTVL", IPPROTO_TCP, TCP_KEEPINTVL,
				1, 32767, TCP_K, 0 },
	[IMG_TCP_KEEPCNT] = { "TCP_KEEPCNT", IPPROTO_TCP, TCP_KEEPCNT,
			      1, 127, TCP_K, 0 },
	[IMG_TCP_USER_TIMEOUT] = { "TCP_USER_TIMEOUT", IPPROTO_TCP,
				   TCP_USER_TIMEOUT, 0, INT32_MAX, TCP_K, 0 },
	[IMG_IP_TOS] = { "IP_TOS", IPPROTO_IP, IP_TOS, 0, 255, BOTH_K, 0 },
	[IMG_IP_TTL] = { "IP_TTL", IPPROTO_IP, IP_TTL, 1, 255, BOTH_K, 0 },
	[IMG_IP_FREEBIND] = { "IP_FREEBIND", IPPROTO_IP, IP_FREEBIND,
			      0, 1, BOTH_K, 0 },
	[IMG_IP_TRANSPARENT] = { "IP_TRANSPARENT", IPPROTO_IP,
				 IP_TRANSPARENT, 0, 1, BOTH_K, 0 },
	[IMG_IPV6_V6ONLY] = { "IPV6_V6ONLY", IPPROTO_IPV6, IPV6_V6ONLY,
			      0, 1, BOTH_K, 1 },
	[IMG_IPV6_TCLASS] = { "IPV6_TCLASS", IPPROTO_IPV6, IPV6_TCLASS,
			      0, 255, BOTH_K, 1 },
	[IMG_IPV6_UNICAST_HOPS] = { "IPV6_UNICAST_HOPS", IPPROTO_IPV6,
				    IPV6_UNICAST_HOPS, 1, 255, BOTH_K, 1 },
	[IMG_SO_BUF_LOCK] = { "SO_BUF_LOCK", SOL_SOCKET, SO_BUF_LOCK,
			      0, 3, BOTH_K, 0 },
};

int img_inet_kind(uint32_t kind)
{
	return kind == IMG_FILE_TCP || kind == IMG_FILE_UDP;
}

const struct img_sockopt_desc *img_sockopt(uint32_t id)
{
	return id < IMG_NR_SOCKOPTS ? &sockopts[id] : NULL;
}

int img_tcp_connection(const struct img_file *f)
{
	return f->kind == IMG_FILE_TCP &&
	       f->inet.state >= IMG_INET_ESTABLISHED &&
	       f->inet.state <= IMG_INET_CLOSING;
}

int img_tcp_queued(const struct img_file *f)
{
	return img_tcp_connection(f) && f->inet.listener;
}

int img_tcp_fin_sent(const struct img_file *f)
{
	switch (f->inet.state) {
	case IMG_INET_FIN_WAIT1:
	case IMG_INET_FIN_WAIT2:
	case IMG_INET_LAST_ACK:
	case IMG_INET_CLOSING:
		return f->kind == IMG_FILE_TCP;
	}
	return 0;
}

int img_tcp_fin_rcvd(const struct img_file *f)
{
	switch (f->inet.state) {
	case IMG_INET_CLOSE_WAIT:
	case IMG_INET_LAST_ACK:
	case IMG_INET_CLOSING:
		return f->kind == IMG_FILE_TCP;
	}
	return 0;
}

int img_netlock_name_ok(const char *name)
{
	size_t n = strlen(IMG_NETLOCK_PREFIX), len = strlen(name), i;

	if (len <= n || len > IMG_MAX_NETLOCK ||
	    strncmp(name, IMG_NETLOCK_PREFIX, n))
		return 0;
	for (i = n; i < len; i++)
		if (!((name[i] >= 'a' && name[i] <= 'z') ||
		      (name[i] >= '0' && name[i] <= '9') || name[i] == '_'))
			return 0;
	return 1;
}

/* ---- encoder ------------------------------------------------------------ */

/* u32 snd_seq rcv_seq sendq_len unsent_len recvq_len opts snd_wscale
 * rcv_wscale mss timestamp snd_wl1 snd_wnd max_window rcv_wnd rcv_wup */
static void enc_tcp(struct enc *e, const struct img_tcp *t)
{
	const uint32_t v[] = {
		t->snd_seq, t->rcv_seq, t->sendq_len, t->unsent_len,
		t->recvq_len, t->opts, t->snd_wscale, t->rcv_wscale, t->mss,
		t->timestamp, t->snd_wl1, t->snd_wnd, t->max_window,
		t->rcv_wnd, t->rcv_wup,
	};
	size_t i;

	for (i = 0; i < ARRAY_SIZE(v); i++)
		enc_u32(e, v[i]);
}

/*
 * TCP, UDP: u32 family state; 16 bytes addr; u32 port; 16 bytes
 * peer_addr; u32 peer_port backlog (a TCP connection: listener, which
 * images made before it have 0 in) opt_mask; an i32 per bit of opt_mask;
 * optstr dev; then, for a TCP connection, its img_tcp and, only for one
 * whose peer is outside the image, str lock: the last field of the
 * record, whose presence the record's length says (so that images made
 * before it still read)
 */
void img_enc_inet(struct enc *e, const struct img_file *f)
{
	const struct img_inet *in = &f->inet;
	uint32_t i;

	if (!img_inet_kind(f->kind))
		return;
	enc_u32(e, in->family);
	enc_u32(e, in->state);
	enc_bytes(e, in->addr, sizeof(in->addr));
	enc_u32(e, in->port);
	enc_bytes(e, in->peer_addr, sizeof(in->peer_addr));
	enc_u32(e, in->peer_port);
	enc_u32(e, img_tcp_connection(f) ? in->listener : in->backlog);
	enc_u32(e, in->opt_mask);
	for (i = 0; i < IMG_NR_SOCKOPTS; i++)
		if (in->opt_mask & (1u << i))
			enc_u32(e, in->opt[i]);
	enc_str(e, in->dev, 1, "device name too long");
	if (!img_tcp_connection(f))
		return;
	enc_tcp(e, &in->tcp);
	if (in->lock)
		enc_str(e, in->lock, 0, "lock name too long");
}

/* ---- decoder ------------------------------------------------------------ */

static int zero_from(const uint8_t *a, size_t from)
{
	size_t i;

	for (i = from; i < 16; i++)
		if (a[i])
			return 0;
	return 1;
}

static void dec_opts(struct dec *d, struct img_file *f)
{
	struct img_inet *in = &f->inet;
	const struct img_sockopt_desc *o;
	uint32_t i;

	dec_u32(d, &in->opt_mask);
	dec_check(d, !(in->opt_mask & ~ALL_OPTS),
		  "file %u: unknown socket options %#x", f->id,
		  in->opt_mask & ~ALL_OPTS);
	for (i = 0; !d->failed && i < IMG_NR_SOCKOPTS; i++) {
		if (!(in->opt_mask & (1u << i)))
			continue;
		o = &sockopts[i];
		dec_i32(d, &in->opt[i]);
		dec_check(d, (o->kinds & (1u << f->kind)) &&
			  (!o->ipv6_only || in->family == AF_INET6),
			  "file %u: %s on a socket of another kind", f->id,
			  o->name);
		dec_check(d, in->opt[i] >= o->min && in->opt[i] <= o->max,
			  "file %u: %s %d out of range", f->id, o->name,
			  in->opt[i]);
	}
}

static void dec_wscale(struct dec *d, const struct img_file *f)
{
	const struct img_tcp *t = &f->inet.tcp;

	if (t->opts & IMG_TCP_WSCALE)
		dec_check(d, t->snd_wscale <= MAX_WSCALE &&
			  t->rcv_wscale <= MAX_WSCALE,
			  "file %u: window scale %u/%u out of range", f->id,
			  t->snd_wscale, t->rcv_wscale);
	else
		dec_check(d, !t->snd_wscale && !t->rcv_wscale,
			  "file %u: window scale without the option", f->id);
}

/* What TCP_REPAIR_WINDOW accepts (tcp_repair_set_window()), against the
 * receive queue's end with the FIN the state says arrived. */
static void dec_window(struct dec *d, const struct img_file *f)
{
	const struct img_tcp *t = &f->inet.tcp;
	uint32_t rcv_nxt = t->rcv_seq + t->recvq_len + img_tcp_fin_rcvd(f);

	dec_check(d, t->max_window >= t->snd_wnd,
		  "file %u: send window %u above its maximum %u", f->id,
		  t->snd_wnd, t->max_window);
	dec_check(d, (int32_t)(t->rcv_wup - rcv_nxt) <= 0 &&
		  (int32_t)(t->snd_wl1 - (rcv_nxt + t->rcv_wnd)) <= 0,
		  "file %u: receive window out of its sequence numbers",
		  f->id);
}

static void dec_tcp(struct dec *d, struct img_file *f)
{
	struct img_tcp *t = &f->inet.tcp;
	uint32_t *v[] = {
		&t->snd_seq, &t->rcv_seq, &t->sendq_len, &t->unsent_len,
		&t->recvq_len, &t->opts, &t->snd_wscale, &t->rcv_wscale,
		&t->mss, &t->timestamp, &t->snd_wl1, &t->snd_wnd,
		&t->max_window, &t->rcv_wnd, &t->rcv_wup,
	};
	size_t i;

	for (i = 0; i < ARRAY_SIZE(v); i++)
		dec_u32(d, v[i]);
	dec_check(d, t->sendq_len <= IMG_MAX_TCPQ &&
		  t->recvq_len <= IMG_MAX_TCPQ && t->unsent_len <= t->sendq_len,
		  "file %u: TCP queues of %u (%u unsent) and %u bytes", f->id,
		  t->sendq_len, t->unsent_len, t->recvq_len);
	dec_check(d, !(t->opts & ~(IMG_TCP_SACK | IMG_TCP_TSTAMP |
				   IMG_TCP_WSCALE)),
		  "file %u: bad TCP options %#x", f->id, t->opts);
	dec_check(d, (t->opts & IMG_TCP_TSTAMP) || !t->timestamp,
		  "file %u: a timestamp without the option", f->id);
	dec_check(d, t->mss > 0 && t->mss <= 65535, "file %u: MSS %u",
		  f->id, t->mss);
	/* its FIN acknowledged, nothing it sent before can be waiting */
	dec_check(d, f->inet.state != IMG_INET_FIN_WAIT2 || !t->sendq_len,
		  "file %u: data queued after its acknowledged FIN", f->id);
	dec_wscale(d, f);
	dec_window(d, f);
}

static void dec_where(struct dec *d, struct img_file *f)
{
	struct img_inet *in = &f->inet;
	int conn = in->state >= IMG_INET_ESTABLISHED;

	dec_check(d, in->family == AF_INET || in->family == AF_INET6,
		  "file %u: bad family %u", f->id, in->family);
	dec_check(d, in->family != AF_INET || (zero_from(in->addr, 4) &&
		  zero_from(in->peer_addr, 4)),
		  "file %u: an IPv4 address of more than 4 bytes", f->id);
	dec_check(d, in->port <= 65535 && in->peer_port <= 65535,
		  "file %u: bad port", f->id);
	dec_check(d, conn ? in->port && in->peer_port :
		  !in->peer_port && zero_from(in->peer_addr, 0),
		  "file %u: connected without both ports, or a peer without a connection",
		  f->id);
	dec_check(d, in->state == IMG_INET_LISTENING ? in->port &&
		  in->backlog <= IMG_MAX_BACKLOG : !in->backlog,
		  "file %u: a listening socket has a port and a backlog, no other has a backlog",
		  f->id);
}

void img_dec_inet(struct dec *d, struct img_file *f)
{
	struct img_inet *in = &f->inet;

	if (!img_inet_kind(f->kind))
		return;
	dec_u32(d, &in->family);
	dec_u32(d, &in->state);
	dec_raw16(d, in->addr);
	dec_u32(d, &in->port);
	dec_raw16(d, in->peer_addr);
	dec_u32(d, &in->peer_port);
	dec_u32(d, &in->backlog);
	if (f->kind == IMG_FILE_TCP && in->state >= IMG_INET_ESTABLISHED) {
		in->listener = in->backlog;	/* the same field */
		in->backlog = 0;
	}
	dec_check(d, f->kind == IMG_FILE_TCP ? in->state >=
		  IMG_INET_UNCONNECTED && in->state <= IMG_INET_CLOSING :
		  in->state == IMG_INET_UNCONNECTED ||
		  in->state == IMG_INET_ESTABLISHED,
		  "file %u: bad socket state %u", f->id, in->state);
	dec_check(d, !f->pipe_size && !f->pos,
		  "file %u: a pipe size or offset on a socket", f->id);
	dec_where(d, f);
	dec_opts(d, f);
	dec_str(d, &in->dev, 1, "device name");
	dec_check(d, !in->dev || (in->dev[0] && strlen(in->dev) <=
				  IMG_MAX_IFNAME),
		  "file %u: bad device name", f->id);
	if (!d->failed && img_tcp_connection(f))
		dec_tcp(d, f);
	dec_check(d, !in->listener || (in->state == IMG_INET_ESTABLISHED &&
		  !in->tcp.sendq_len && in->listener != f->id),
		  "file %u: a connection not accepted yet with data to send or closing",
		  f->id);
	if (d->failed || !img_tcp_connection(f) || d->pos == d->len)
		return;
	dec_str(d, &in->lock, 0, "lock name");
	dec_check(d, !in->lock || img_netlock_name_ok(in->lock),
		  "file %u: bad network lock name", f->id);
}

/* ---- netlink ------------------------------------------------------------ */

/* The protocols whose sockets hold nothing but what is kept here. */
static int nl_protocol_ok(uint32_t p)
{
	return p == NETLINK_ROUTE || p == NETLINK_SOCK_DIAG ||
	       p == NETLINK_KOBJECT_UEVENT || p == NETLINK_GENERIC;
}

/* NETLINK: u32 protocol type portid; 4 x u64 groups; u32 dst_portid
 * dst_group opts rcvbuf sndbuf */
void img_enc_netlink(struct enc *e, const struct img_file *f)
{
	const struct img_netlink *nl = &f->nl;
	int i;

	if (f->kind != IMG_FILE_NETLINK)
		return;
	enc_u32(e, nl->protocol);
	enc_u32(e, nl->type);
	enc_u32(e, nl->portid);
	for (i = 0; i < IMG_NL_GROUP_WORDS; i++)
		enc_u64(e, nl->groups[i]);
	enc_u32(e, nl->dst_portid);
	enc_u32(e, nl->dst_group);
	enc_u32(e, nl->opts);
	enc_u32(e, nl->rcvbuf);
	enc_u32(e, nl->sndbuf);
}

void img_dec_netlink(struct dec *d, struct img_file *f)
{
	struct img_netlink *nl = &f->nl;
	int i;

	if (f->kind != IMG_FILE_NETLINK)
		return;
	dec_u32(d, &nl->protocol);
	dec_u32(d, &nl->type);
	dec_u32(d, &nl->portid);
	for (i = 0; i < IMG_NL_GROUP_WORDS; i++)
		dec_u64(d, &nl->groups[i]);
	dec_u32(d, &nl->dst_portid);
	dec_u32(d, &nl->dst_group);
	dec_u32(d, &nl->opts);
	dec_u32(d, &nl->rcvbuf);
	dec_u32(d, &nl->sndbuf);
	dec_check(d, nl_protocol_ok(nl->protocol),
		  "file %u: netlink protocol %u", f->id, nl->protocol);
	dec_check(d, nl->type == SOCK_RAW || nl->type == SOCK_DGRAM,
		  "file %u: bad socket type %u", f->id, nl->type);
	dec_check(d, !(nl->opts & ~IMG_NL_ALL_OPTS),
		  "file %u: bad netlink options %#x", f->id, nl->opts);
	dec_check(d, nl->dst_group <= 64 * IMG_NL_GROUP_WORDS,
		  "file %u: connected to group %u", f->id, nl->dst_group);
	dec_check(d, nl->rcvbuf <= IMG_MAX_SOCKBUF &&
		  nl->sndbuf <= IMG_MAX_SOCKBUF,
		  "file %u: socket buffers too large", f->id);
	dec_check(d, !f->pipe_size && !f->pos,
		  "file %u: a pipe size or offset on a socket", f->id);
}

void img_inet_free(struct img_file *f)
{
	free(f->inet.dev);
	f->inet.dev = NULL;
	free(f->inet.lock);
	f->inet.lock = NULL;
	img_sockx_free(&f->inet);
}
