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
 * missing. The packets themselves are made in inet-pkt.c.
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

#define UDP_HDR		8
#define MAX_PKT		(INET_IP6_HDR + UDP_HDR + 65535)

static const uint8_t v4map[12] = { [10] = 0xff, [11] = 0xff };
static const uint8_t lo4[4] = { 127, 0, 0, 1 };
static const uint8_t lo6[16] = { [15] = 1 };

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
static int dest_of(const struct img_inet *in, struct inet_route *r)
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
		    struct inet_route *r)
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

/* The UDP header after the IP header at pkt; the data is in place. */
static size_t headers(const struct inet_route *r, uint8_t *pkt, size_t dlen)
{
	size_t ulen = UDP_HDR + dlen;
	size_t hl = inet_ip_header(r, pkt, IPPROTO_UDP, ulen);
	uint8_t *udp = pkt + hl;

	memset(udp, 0, UDP_HDR);
	memcpy(udp, r->sport, 2);
	memcpy(udp + 2, r->dport, 2);
	udp[4] = ulen >> 8;
	udp[5] = ulen & 0xff;
	/* 0 would mean no checksum (RFC 768): 0xffff is the same sum */
	if (!inet_l4_csum(r, IPPROTO_UDP, udp, ulen, 6)) {
		udp[6] = 0xff;
		udp[7] = 0xff;
	}
	return hl + ulen;
}

/* The datagram that starts at chunk *i (its sender), up to its end. */
static int send_dgram(struct inet_tab *t, const struct img_file *f,
		      uint32_t *i, uint8_t *pkt)
{
	size_t off, dlen = 0;
	struct inet_route r;

	if (route_of(f, &f->chunks[(*i)++], &r)) {
		errno = EAFNOSUPPORT;
		return -1;
	}
	off = (r.v4 ? INET_IP4_HDR : INET_IP6_HDR) + UDP_HDR;
	do {
		/* the reader bounds a datagram to what fits */
		memcpy(pkt + off + dlen, f->chunks[*i].data,
		       f->chunks[*i].len);
		dlen += f->chunks[*i].len;
	} while (!(f->chunks[(*i)++].flags & IMG_CHUNK_EOR));
	return inet_send_pkt(t, &r, pkt, headers(&r, pkt, dlen));
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
