/*
 * The datagrams queued in a UDP socket, put back at restore, each with
 * the sender it had. That sender's address and port may be held by
 * another socket (its peer, restored too) or not be this host's at all,
 * so no ordinary socket could send from there: each datagram goes out of
 * a raw socket with headers written here (IP_HDRINCL), to the socket's
 * own address (the loopback address of its family when it is bound to
 * the wildcard one). Delivery to a local address happens at once; the
 * datagrams are counted afterwards, so that one lost on the way (or taken
 * by another socket of the port) fails the restore instead of going
 * missing.
 *
 * The receive buffer is widened while they are sent: they fitted before,
 * but in buffers whose sizes may differ from those made here.
 */
#include <sys/socket.h>
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "restore/restore.h"
#include "restore/inet-priv.h"

#define IP4_HDR		20
#define IP6_HDR		40
#define UDP_HDR		8
#define MAX_PKT		(IP6_HDR + UDP_HDR + 65535)
#define TTL		64

static const uint8_t v4map[12] = { [10] = 0xff, [11] = 0xff };
static const uint8_t lo4[4] = { 127, 0, 0, 1 };
static const uint8_t lo6[16] = { [15] = 1 };

/* Where one datagram goes, from where, and over which IP. */
struct route {
	int v4;
	uint8_t src[16], dst[16];	/* IPv4: the first 4 bytes */
	uint8_t sport[2], dport[2];	/* network order */
};

static int all_zero(const uint8_t *a, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (a[i])
			return 0;
	return 1;
}

/* The socket's own address as the datagram's destination: -1 for an
 * IPv6 socket bound to an IPv6 address and a sender over IPv4. */
static int dest_of(const struct img_inet *in, struct route *r)
{
	if (!r->v4) {
		memcpy(r->dst, all_zero(in->addr, 16) ? lo6 : in->addr, 16);
		return 0;
	}
	if (in->family == AF_INET)
		memcpy(r->dst, in->addr, 4);
	else if (!memcmp(in->addr, v4map, 12))
		memcpy(r->dst, in->addr + 12, 4);
	else if (!all_zero(in->addr, 16))
		return -1;
	if (all_zero(r->dst, 4))
		memcpy(r->dst, lo4, 4);
	return 0;
}

static int route_of(const struct img_file *f, const struct img_chunk *from,
		    struct route *r)
{
	uint32_t alen = from->len - 2;

	memset(r, 0, sizeof(*r));
	memcpy(r->sport, from->data + alen, 2);
	r->dport[0] = f->inet.port >> 8;
	r->dport[1] = f->inet.port & 0xff;
	r->v4 = alen == 4 || !memcmp(from->data, v4map, 12);
	memcpy(r->src, from->data + alen - (r->v4 ? 4 : 16), r->v4 ? 4 : 16);
	return dest_of(&f->inet, r);
}

/* ---- packets ------------------------------------------------------------ */

static uint32_t sum16(uint32_t s, const uint8_t *p, size_t n)
{
	for (; n > 1; p += 2, n -= 2)
		s += (uint32_t)p[0] << 8 | p[1];
	if (n)
		s += (uint32_t)p[0] << 8;
	return s;
}

/* The UDP checksum over the pseudo-header (RFC 768, RFC 8200 8.1). */
static void udp_csum(const struct route *r, uint8_t *udp, size_t len)
{
	size_t al = r->v4 ? 4 : 16;
	uint32_t s = IPPROTO_UDP + (uint32_t)len;

	s = sum16(s, r->src, al);
	s = sum16(s, r->dst, al);
	s = sum16(s, udp, len);
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	s = ~s & 0xffff;
	if (!s)
		s = 0xffff;	/* 0 would mean no checksum */
	udp[6] = s >> 8;
	udp[7] = s & 0xff;
}

/* IP header at pkt, the UDP header after it; the data is in place. The
 * kernel fills an IPv4 header's length, id and checksum. */
static size_t headers(const struct route *r, uint8_t *pkt, size_t dlen)
{
	size_t hl = r->v4 ? IP4_HDR : IP6_HDR, ulen = UDP_HDR + dlen;
	uint8_t *udp = pkt + hl;

	memset(pkt, 0, hl + UDP_HDR);
	if (r->v4) {
		pkt[0] = 0x45;
		pkt[8] = TTL;
		pkt[9] = IPPROTO_UDP;
		memcpy(pkt + 12, r->src, 4);
		memcpy(pkt + 16, r->dst, 4);
	} else {
		pkt[0] = 0x60;
		pkt[4] = ulen >> 8;
		pkt[5] = ulen & 0xff;
		pkt[6] = IPPROTO_UDP;
		pkt[7] = TTL;
		memcpy(pkt + 8, r->src, 16);
		memcpy(pkt + 24, r->dst, 16);
	}
	memcpy(udp, r->sport, 2);
	memcpy(udp + 2, r->dport, 2);
	udp[4] = ulen >> 8;
	udp[5] = ulen & 0xff;
	udp_csum(r, udp, ulen);
	return hl + ulen;
}

static int raw_socket(struct inet_tab *t, int v4)
{
	int *fd = v4 ? &t->raw4 : &t->raw6;

	/* IPPROTO_RAW: the headers are ours (IP_HDRINCL, IPV6_HDRINCL) */
	if (*fd < 0)
		*fd = socket(v4 ? AF_INET : AF_INET6, SOCK_RAW | SOCK_CLOEXEC,
			     IPPROTO_RAW);
	return *fd;
}

static int send_pkt(struct inet_tab *t, const struct route *r,
		    const uint8_t *pkt, size_t len)
{
	struct sockaddr_storage ss;
	socklen_t sl = inet_sockaddr(r->v4 ? AF_INET : AF_INET6, r->dst, 0,
				     &ss);
	int fd = raw_socket(t, r->v4);

	if (fd < 0)
		return -1;
	return sendto(fd, pkt, len, 0, (struct sockaddr *)&ss, sl) ==
		(ssize_t)len ? 0 : -1;
}

/* The datagram that starts at chunk *i (its sender), up to its end. */
static int send_dgram(struct inet_tab *t, const struct img_file *f,
		      uint32_t *i, uint8_t *pkt)
{
	size_t off, dlen = 0;
	struct route r;

	if (route_of(f, &f->chunks[(*i)++], &r)) {
		errno = EAFNOSUPPORT;
		return -1;
	}
	off = r.v4 ? IP4_HDR + UDP_HDR : IP6_HDR + UDP_HDR;
	do {
		/* the reader bounds a datagram to what fits */
		memcpy(pkt + off + dlen, f->chunks[*i].data,
		       f->chunks[*i].len);
		dlen += f->chunks[*i].len;
	} while (!(f->chunks[(*i)++].flags & IMG_CHUNK_EOR));
	return send_pkt(t, &r, pkt, headers(&r, pkt, dlen));
}

/* ---- the queue ---------------------------------------------------------- */

/* Datagrams in fd's queue, peeked whole one by one (SO_PEEK_OFF moves
 * on by what each peek copied); buf holds the largest. */
static long count_queued(int fd, uint8_t *buf)
{
	int zero = 0, none = -1;
	long n = 0;

	if (setsockopt(fd, SOL_SOCKET, SO_PEEK_OFF, &zero, sizeof(zero)))
		return -1;
	while (recv(fd, buf, MAX_PKT, MSG_PEEK | MSG_DONTWAIT) >= 0)
		n++;
	if (errno != EAGAIN)
		n = -1;
	if (setsockopt(fd, SOL_SOCKET, SO_PEEK_OFF, &none, sizeof(none)))
		n = -1;
	return n;
}

static int send_all(struct inet_tab *t, const struct img_file *f,
		    uint8_t *pkt, long *msgs)
{
	uint32_t i = 0;
	int ret = 0;

	*msgs = 0;
	while (!ret && i < f->nr_chunks) {
		ret = send_dgram(t, f, &i, pkt);
		++*msgs;
	}
	return ret;
}

int inet_fill_dgrams(struct inet_tab *t, struct inet_ent *e)
{
	const struct img_file *f = e->f;
	uint64_t bytes = 0;
	socklen_t l = sizeof(int);
	int old = 0, ret = -1;
	long msgs = 0, got;
	uint8_t *pkt;
	uint32_t i;

	if (!f->nr_chunks)
		return 0;
	pkt = malloc(MAX_PKT);
	if (!pkt)
		return -1;
	for (i = 0; i < f->nr_chunks; i++)
		bytes += f->chunks[i].len + 1024;	/* and buffer overhead */
	if (getsockopt(e->fd, SOL_SOCKET, SO_RCVBUF, &old, &l) ||
	    inet_set_buf(e->fd, SO_RCVBUF, bytes * 2 + (1 << 20) > INT32_MAX ?
			 INT32_MAX : (int)(bytes * 2 + (1 << 20))))
		goto out;
	ret = send_all(t, f, pkt, &msgs);
	if (ret)
		pr_perror("can't send datagram %ld back to UDP socket %llu",
			  msgs, (unsigned long long)f->ino);
	got = ret ? 0 : count_queued(e->fd, pkt);
	if (!ret && got != msgs) {
		pr_err("UDP socket %llu has %ld datagrams back out of %ld",
		       (unsigned long long)f->ino, got, msgs);
		ret = -1;
	}
	if (!ret && inet_set_buf(e->fd, SO_RCVBUF, old))
		ret = -1;
out:
	free(pkt);
	return ret;
}

void inet_dgram_done(struct inet_tab *t)
{
	if (t->raw4 >= 0)
		close(t->raw4);
	if (t->raw6 >= 0)
		close(t->raw6);
	t->raw4 = t->raw6 = -1;
}
