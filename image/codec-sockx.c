/*
 * codec-sockx: the SOCKX record, which follows the FILE of a TCP or UDP
 * socket that has more than img_inet.opt holds: the other options that
 * differ from a new socket's, as getsockopt(2) gave them, and the
 * multicast groups the socket joined, each with its device and its
 * source filter. The table below is every option ckpt compares; those
 * flagged IMG_XOPT_REFUSE make the dump refuse the socket instead.
 */
#include <sys/socket.h>
#include <linux/in.h>
#include <linux/in6.h>
#include <linux/ipv6.h>
#include <netinet/tcp.h>
#include <netinet/udp.h>
#include <stdlib.h>
#include <string.h>

#include "image/image.h"
#include "image/image-priv.h"

/* in linux/udp.h, which clashes with netinet/udp.h */
#ifndef UDP_NO_CHECK6_TX
#define UDP_NO_CHECK6_TX	101
#define UDP_NO_CHECK6_RX	102
#endif
#ifndef UDP_SEGMENT
#define UDP_SEGMENT		103
#endif
#ifndef UDP_GRO
#define UDP_GRO			104
#endif
#ifndef IP_LOCAL_PORT_RANGE
#define IP_LOCAL_PORT_RANGE	51
#endif
#ifndef TCP_TX_DELAY
#define TCP_TX_DELAY		37
#endif

#define T	(1u << IMG_FILE_TCP)
#define U	(1u << IMG_FILE_UDP)
#define TU	(T | U)
#define I4	AF_INET
#define I6	AF_INET6

#define XO(lvl, o, len, kinds, fam, flags) \
	{ #o, lvl, o, len, kinds, fam, flags }

static const struct img_xopt_desc xopts[] = {
	XO(SOL_SOCKET, SO_RCVLOWAT, 4, TU, 0, 0),
	XO(SOL_SOCKET, SO_RCVTIMEO_OLD, 16, TU, 0, 0),
	XO(SOL_SOCKET, SO_SNDTIMEO_OLD, 16, TU, 0, 0),
	XO(SOL_SOCKET, SO_TIMESTAMP_OLD, 4, TU, 0, 0),
	XO(SOL_SOCKET, SO_TIMESTAMPNS_OLD, 4, TU, 0, 0),
	XO(SOL_SOCKET, SO_TIMESTAMPING_OLD, 8, TU, 0, 0),
	XO(SOL_SOCKET, SO_DONTROUTE, 4, TU, 0, 0),
	XO(SOL_SOCKET, SO_NO_CHECK, 4, TU, 0, 0),
	XO(SOL_SOCKET, SO_RXQ_OVFL, 4, TU, 0, 0),
	XO(SOL_SOCKET, SO_WIFI_STATUS, 4, TU, 0, 0),
	XO(SOL_SOCKET, SO_SELECT_ERR_QUEUE, 4, TU, 0, 0),
	XO(SOL_SOCKET, SO_BUSY_POLL, 4, TU, 0, 0),
	XO(SOL_SOCKET, SO_PREFER_BUSY_POLL, 4, TU, 0, 0),
	XO(SOL_SOCKET, SO_BUSY_POLL_BUDGET, 4, TU, 0, 0),
	XO(SOL_SOCKET, SO_MAX_PACING_RATE, 8, TU, 0, 0),
	XO(SOL_SOCKET, SO_ZEROCOPY, 4, TU, 0, 0),
	XO(SOL_SOCKET, SO_TXTIME, 8, TU, 0, 0),
	XO(SOL_SOCKET, SO_TXREHASH, 4, TU, 0, 0),
	XO(SOL_SOCKET, SO_RCVMARK, 4, TU, 0, 0),
	XO(SOL_SOCKET, SO_LOCK_FILTER, 4, TU, 0, 0),
	XO(IPPROTO_IP, IP_OPTIONS, 40, TU, 0, IMG_XOPT_VARLEN),
	XO(IPPROTO_IP, IP_PKTINFO, 4, TU, 0, 0),
	XO(IPPROTO_IP, IP_RECVTTL, 4, TU, 0, 0),
	XO(IPPROTO_IP, IP_RECVTOS, 4, TU, 0, 0),
	XO(IPPROTO_IP, IP_RECVOPTS, 4, TU, 0, 0),
	XO(IPPROTO_IP, IP_RETOPTS, 4, TU, 0, 0),
	XO(IPPROTO_IP, IP_RECVERR, 4, TU, 0, 0),
	XO(IPPROTO_IP, IP_RECVERR_RFC4884, 4, TU, 0, 0),
	XO(IPPROTO_IP, IP_MTU_DISCOVER, 4, TU, 0, 0),
	XO(IPPROTO_IP, IP_MULTICAST_TTL, 4, U, 0, 0),
	XO(IPPROTO_IP, IP_MULTICAST_LOOP, 4, U, 0, 0),
	XO(IPPROTO_IP, IP_MULTICAST_ALL, 4, U, 0, 0),
	XO(IPPROTO_IP, IP_MULTICAST_IF, 20, U, 0, IMG_XOPT_MREQN),
	XO(IPPROTO_IP, IP_UNICAST_IF, 16, TU, 0, IMG_XOPT_IFINDEX_BE),
	XO(IPPROTO_IP, IP_RECVORIGDSTADDR, 4, TU, 0, 0),
	XO(IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, 4, TU, 0, 0),
	XO(IPPROTO_IP, IP_PASSSEC, 4, TU, 0, 0),
	XO(IPPROTO_IP, IP_MINTTL, 4, TU, 0, 0),
	XO(IPPROTO_IP, IP_RECVFRAGSIZE, 4, TU, 0, 0),
	XO(IPPROTO_IP, IP_LOCAL_PORT_RANGE, 4, TU, 0, 0),
	XO(IPPROTO_IPV6, IPV6_RECVPKTINFO, 4, TU, I6, 0),
	XO(IPPROTO_IPV6, IPV6_2292PKTINFO, 4, TU, I6, 0),
	XO(IPPROTO_IPV6, IPV6_RECVHOPLIMIT, 4, TU, I6, 0),
	XO(IPPROTO_IPV6, IPV6_RECVTCLASS, 4, TU, I6, 0),
	XO(IPPROTO_IPV6, IPV6_RECVERR, 4, TU, I6, 0),
	XO(IPPROTO_IPV6, IPV6_RECVERR_RFC4884, 4, TU, I6, 0),
	XO(IPPROTO_IPV6, IPV6_RECVPATHMTU, 4, TU, I6, 0),
	XO(IPPROTO_IPV6, IPV6_MTU_DISCOVER, 4, TU, I6, 0),
	XO(IPPROTO_IPV6, IPV6_MULTICAST_HOPS, 4, U, I6, 0),
	XO(IPPROTO_IPV6, IPV6_MULTICAST_LOOP, 4, U, I6, 0),
	XO(IPPROTO_IPV6, IPV6_MULTICAST_ALL, 4, U, I6, 0),
	XO(IPPROTO_IPV6, IPV6_MULTICAST_IF, 16, U, I6, IMG_XOPT_IFINDEX),
	XO(IPPROTO_IPV6, IPV6_UNICAST_IF, 16, TU, I6, IMG_XOPT_IFINDEX_BE),
	XO(IPPROTO_IPV6, IPV6_DONTFRAG, 4, TU, I6, 0),
	XO(IPPROTO_IPV6, IPV6_AUTOFLOWLABEL, 4, TU, I6, 0),
	XO(IPPROTO_IPV6, IPV6_FREEBIND, 4, TU, I6, 0),
	XO(IPPROTO_IPV6, IPV6_TRANSPARENT, 4, TU, I6, 0),
	XO(IPPROTO_IPV6, IPV6_RECVORIGDSTADDR, 4, TU, I6, 0),
	XO(IPPROTO_IPV6, IPV6_ADDR_PREFERENCES, 4, TU, I6, 0),
	XO(IPPROTO_IPV6, IPV6_MINHOPCOUNT, 4, TU, I6, 0),
	XO(IPPROTO_IPV6, IPV6_FLOWINFO, 4, TU, I6, 0),
	XO(IPPROTO_IPV6, IPV6_FLOWINFO_SEND, 4, TU, I6, 0),
	XO(IPPROTO_IPV6, IPV6_RECVFRAGSIZE, 4, TU, I6, 0),
	XO(IPPROTO_TCP, TCP_MAXSEG, 4, T, 0, IMG_XOPT_NOCONN),
	XO(IPPROTO_TCP, TCP_WINDOW_CLAMP, 4, T, 0, IMG_XOPT_NOCONN),
	XO(IPPROTO_TCP, TCP_DEFER_ACCEPT, 4, T, 0, 0),
	XO(IPPROTO_TCP, TCP_CONGESTION, 16, T, 0, IMG_XOPT_STR),
	XO(IPPROTO_TCP, TCP_ULP, 16, T, 0, IMG_XOPT_STR | IMG_XOPT_REFUSE |
	   IMG_XOPT_VARLEN),
	XO(IPPROTO_TCP, TCP_FASTOPEN, 4, T, 0, 0),
	XO(IPPROTO_TCP, TCP_FASTOPEN_CONNECT, 4, T, 0, 0),
	XO(IPPROTO_TCP, TCP_FASTOPEN_NO_COOKIE, 4, T, 0, 0),
	XO(IPPROTO_TCP, TCP_NOTSENT_LOWAT, 4, T, 0, 0),
	XO(IPPROTO_TCP, TCP_THIN_LINEAR_TIMEOUTS, 4, T, 0, 0),
	XO(IPPROTO_TCP, TCP_SYNCNT, 4, T, 0, 0),
	XO(IPPROTO_TCP, TCP_LINGER2, 4, T, 0, 0),
	XO(IPPROTO_TCP, TCP_SAVE_SYN, 4, T, 0, 0),
	XO(IPPROTO_TCP, TCP_TX_DELAY, 4, T, 0, 0),
	XO(IPPROTO_TCP, TCP_INQ, 4, T, 0, 0),
	XO(IPPROTO_UDP, UDP_ENCAP, 4, U, 0, 0),
	XO(IPPROTO_UDP, UDP_NO_CHECK6_TX, 4, U, 0, 0),
	XO(IPPROTO_UDP, UDP_NO_CHECK6_RX, 4, U, 0, 0),
	XO(IPPROTO_UDP, UDP_SEGMENT, 4, U, 0, 0),
	XO(IPPROTO_UDP, UDP_GRO, 4, U, 0, 0),
};

const struct img_xopt_desc *img_xopt_desc(uint32_t i)
{
	return i < ARRAY_SIZE(xopts) ? &xopts[i] : NULL;
}

const struct img_xopt_desc *img_xopt_find(uint32_t level, uint32_t opt)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(xopts); i++)
		if ((uint32_t)xopts[i].level == level &&
		    (uint32_t)xopts[i].opt == opt)
			return &xopts[i];
	return NULL;
}

/* ---- encoder ------------------------------------------------------------ */

/*
 * SOCKX: u32 file nr_xopts; per option u32 level opt len, len bytes;
 * u32 nr_mcast; per group u32 family, str dev, 16 bytes group, u32 mode
 * nr_src, 16 bytes per source
 */
int img_enc_sockx(struct enc *e, const struct img_file *f)
{
	const struct img_inet *in = &f->inet;
	uint32_t i, j;

	enc_u32(e, f->id);
	enc_cap(e, in->nr_xopts, IMG_MAX_XOPTS, "too many socket options");
	enc_u32(e, in->nr_xopts);
	for (i = 0; i < in->nr_xopts; i++) {
		const struct img_xopt *x = &in->xopts[i];

		enc_cap(e, x->len, IMG_MAX_XOPT, "socket option too long");
		enc_u32(e, x->level);
		enc_u32(e, x->opt);
		enc_u32(e, x->len);
		enc_bytes(e, x->val, x->len > IMG_MAX_XOPT ? 0 : x->len);
	}
	enc_cap(e, in->nr_mcast, IMG_MAX_MCAST, "too many multicast groups");
	enc_u32(e, in->nr_mcast);
	for (i = 0; i < in->nr_mcast; i++) {
		const struct img_mcast *m = &in->mcast[i];

		enc_u32(e, m->family);
		enc_str(e, m->dev, 0, "multicast group without a device");
		enc_bytes(e, m->group, sizeof(m->group));
		enc_u32(e, m->mode);
		enc_cap(e, m->nr_src, IMG_MAX_MCAST_SRC,
			"too many multicast sources");
		enc_u32(e, m->nr_src);
		for (j = 0; j < m->nr_src; j++)
			enc_bytes(e, m->src[j], 16);
	}
	return e->err ? -1 : 0;
}

/* ---- decoder ------------------------------------------------------------ */

/* len bytes holding a NUL-terminated name of 1 to max characters */
static int name_ok(const uint8_t *v, uint32_t len, uint32_t max)
{
	const uint8_t *nul = memchr(v, 0, len);

	return nul && nul != v && (uint32_t)(nul - v) <= max;
}

static void dec_xopt(struct dec *d, const struct img_file *f,
		     struct img_xopt *x)
{
	const struct img_xopt_desc *o;

	dec_u32(d, &x->level);
	dec_u32(d, &x->opt);
	dec_u32(d, &x->len);
	if (d->failed)
		return;
	o = img_xopt_find(x->level, x->opt);
	if (!o) {
		dec_fail(d, "file %u: unknown socket option %u/%u", f->id,
			 x->level, x->opt);
		return;
	}
	dec_check(d, (o->flags & IMG_XOPT_VARLEN) ? x->len <= o->len :
		  x->len == o->len, "file %u: %s of %u bytes", f->id,
		  o->name, x->len);
	dec_check(d, !(o->flags & IMG_XOPT_REFUSE) &&
		  (o->kinds & (1u << f->kind)) &&
		  (!o->family || o->family == f->inet.family) &&
		  (!(o->flags & IMG_XOPT_NOCONN) || !img_tcp_connection(f)),
		  "file %u: %s on a socket that can't have it", f->id,
		  o->name);
	if (d->failed)
		return;
	dec_bytes(d, x->val, x->len);
	if (o->flags & IMG_XOPT_MREQN)
		dec_check(d, memchr(x->val + 4, 0, x->len - 4) &&
			  strlen((const char *)x->val + 4) <= IMG_MAX_IFNAME,
			  "file %u: bad %s", f->id, o->name);
	if (o->flags & (IMG_XOPT_STR | IMG_XOPT_IFINDEX | IMG_XOPT_IFINDEX_BE))
		dec_check(d, name_ok(x->val, x->len, o->flags & IMG_XOPT_STR ?
				     o->len - 1 : IMG_MAX_IFNAME),
			  "file %u: bad %s", f->id, o->name);
}

static int multicast(uint32_t family, const uint8_t *g)
{
	static const uint8_t zero[12];

	if (family == AF_INET)
		return (g[0] & 0xf0) == 0xe0 && !memcmp(g + 4, zero, 12);
	return family == AF_INET6 && g[0] == 0xff;
}

static void dec_mcast(struct dec *d, const struct img_file *f,
		      struct img_mcast *m)
{
	uint32_t j;

	dec_u32(d, &m->family);
	dec_str(d, &m->dev, 0, "multicast device");
	dec_raw16(d, m->group);
	dec_u32(d, &m->mode);
	dec_u32(d, &m->nr_src);
	if (d->failed)
		return;
	dec_check(d, multicast(m->family, m->group) &&
		  (m->family == AF_INET || f->inet.family == AF_INET6),
		  "file %u: a multicast group that isn't one", f->id);
	dec_check(d, m->dev[0] && strlen(m->dev) <= IMG_MAX_IFNAME,
		  "file %u: bad multicast device name", f->id);
	dec_check(d, m->mode == MCAST_INCLUDE || m->mode == MCAST_EXCLUDE,
		  "file %u: bad multicast filter mode %u", f->id, m->mode);
	if (d->failed || !dec_count_ok(d, m->nr_src, IMG_MAX_MCAST_SRC, 16,
				       "multicast sources") || !m->nr_src)
		return;
	m->src = dec_alloc(d, (size_t)m->nr_src * 16);
	for (j = 0; m->src && j < m->nr_src; j++)
		dec_raw16(d, m->src[j]);
}

/* The options of file f, the FILE before it, read into f */
int img_dec_sockx(struct dec *d, struct img_file *f)
{
	struct img_inet *in = &f->inet;
	uint32_t id = 0, i, j, n = 0;

	dec_u32(d, &id);
	dec_check(d, id == f->id && img_inet_kind(f->kind) &&
		  !in->nr_xopts && !in->nr_mcast,
		  "SOCKX of file %u not once right after its TCP or UDP FILE",
		  id);
	dec_u32(d, &n);
	if (d->failed || !dec_count_ok(d, n, IMG_MAX_XOPTS, 12,
				       "socket options"))
		return -1;
	in->xopts = n ? dec_alloc(d, n * sizeof(*in->xopts)) : NULL;
	for (i = 0; !d->failed && i < n; i++) {
		dec_xopt(d, f, &in->xopts[i]);
		in->nr_xopts = i + 1;
		for (j = 0; !d->failed && j < i; j++)
			dec_check(d, in->xopts[j].level != in->xopts[i].level ||
				  in->xopts[j].opt != in->xopts[i].opt,
				  "file %u: a socket option twice", f->id);
	}
	n = 0;
	dec_u32(d, &n);
	if (d->failed || !dec_count_ok(d, n, IMG_MAX_MCAST, 28,
				       "multicast groups"))
		return -1;
	in->mcast = n ? dec_alloc(d, n * sizeof(*in->mcast)) : NULL;
	for (i = 0; !d->failed && i < n; i++) {
		dec_mcast(d, f, &in->mcast[i]);
		in->nr_mcast = i + 1;
		for (j = 0; !d->failed && j < i; j++)
			dec_check(d, strcmp(in->mcast[j].dev,
					    in->mcast[i].dev) ||
				  memcmp(in->mcast[j].group,
					 in->mcast[i].group, 16),
				  "file %u: a multicast group twice", f->id);
	}
	dec_check(d, in->nr_xopts || in->nr_mcast, "file %u: an empty SOCKX",
		  f->id);
	return d->failed || dec_end(d) ? -1 : 0;
}

void img_sockx_free(struct img_inet *in)
{
	uint32_t i;

	for (i = 0; i < in->nr_mcast; i++) {
		free(in->mcast[i].dev);
		free(in->mcast[i].src);
	}
	free(in->mcast);
	in->mcast = NULL;
	in->nr_mcast = 0;
	free(in->xopts);
	in->xopts = NULL;
	in->nr_xopts = 0;
}
