/*
 * Packets that restore writes itself, headers and checksums included,
 * and sends out of a raw socket (IPPROTO_RAW: IP_HDRINCL, IPV6_HDRINCL)
 * to one of this host's sockets, from an address and port that no
 * socket here could send from: a UDP socket's queued datagrams, each
 * from its sender (inet-dgram.c), and the FIN that a TCP connection
 * whose peer is outside the image had received from that peer.
 *
 * The kernel has no way to mark a FIN received on a socket in repair
 * mode (TCP_REPAIR takes queues and sequence numbers, not the state):
 * the connection is made without it, then gets it again the way it
 * came, as a segment from its peer at the sequence number where the
 * receive queue ends, acknowledging what the peer had seen of ours.
 * The network lock (image/netlock.c) drops every other packet of the
 * connection while this happens; it lets ours pass by their mark
 * (IMG_NETLOCK_MARK, set on the raw sockets).
 */
#include <sys/socket.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "restore/restore.h"
#include "restore/inet-priv.h"

#define TTL		64
#define TCP_HDR		20
#define TH_FIN		0x01
#define TH_ACK		0x10

static const uint8_t v4map[12] = { [10] = 0xff, [11] = 0xff };

static uint32_t sum16(uint32_t s, const uint8_t *p, size_t n)
{
	for (; n > 1; p += 2, n -= 2)
		s += (uint32_t)p[0] << 8 | p[1];
	if (n)
		s += (uint32_t)p[0] << 8;
	return s;
}

/* The checksum over the pseudo-header (RFC 768, RFC 9293 3.1, RFC 8200
 * 8.1) and the len bytes at l4, whose field at csum_off is 0 now. */
uint16_t inet_l4_csum(const struct inet_route *r, int proto, uint8_t *l4,
		      size_t len, size_t csum_off)
{
	size_t al = r->v4 ? 4 : 16;
	uint32_t s = (uint32_t)proto + (uint32_t)len;

	l4[csum_off] = l4[csum_off + 1] = 0;
	s = sum16(s, r->src, al);
	s = sum16(s, r->dst, al);
	s = sum16(s, l4, len);
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	s = ~s & 0xffff;
	l4[csum_off] = s >> 8;
	l4[csum_off + 1] = s & 0xff;
	return s;
}

/* The IP header at pkt, for l4len bytes of proto after it; its length.
 * The kernel fills an IPv4 header's length, id and checksum. */
size_t inet_ip_header(const struct inet_route *r, uint8_t *pkt, int proto,
		      size_t l4len)
{
	size_t hl = r->v4 ? INET_IP4_HDR : INET_IP6_HDR;

	memset(pkt, 0, hl);
	if (r->v4) {
		pkt[0] = 0x45;
		pkt[8] = TTL;
		pkt[9] = proto;
		memcpy(pkt + 12, r->src, 4);
		memcpy(pkt + 16, r->dst, 4);
	} else {
		pkt[0] = 0x60;
		pkt[4] = l4len >> 8;
		pkt[5] = l4len & 0xff;
		pkt[6] = proto;
		pkt[7] = TTL;
		memcpy(pkt + 8, r->src, 16);
		memcpy(pkt + 24, r->dst, 16);
	}
	return hl;
}

static int raw_socket(struct inet_tab *t, int v4)
{
	int *fd = v4 ? &t->raw4 : &t->raw6;
	int mark = IMG_NETLOCK_MARK;

	if (*fd >= 0)
		return *fd;
	*fd = socket(v4 ? AF_INET : AF_INET6, SOCK_RAW | SOCK_CLOEXEC,
		     IPPROTO_RAW);
	if (*fd >= 0 &&
	    setsockopt(*fd, SOL_SOCKET, SO_MARK, &mark, sizeof(mark))) {
		close(*fd);
		*fd = -1;
	}
	return *fd;
}

int inet_send_pkt(struct inet_tab *t, const struct inet_route *r,
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

void inet_pkt_done(struct inet_tab *t)
{
	if (t->raw4 >= 0)
		close(t->raw4);
	if (t->raw6 >= 0)
		close(t->raw6);
	t->raw4 = t->raw6 = -1;
}

/* ---- a TCP connection's FIN, from its peer ------------------------------ */

static void put32(uint8_t *p, uint32_t v)
{
	p[0] = v >> 24;
	p[1] = v >> 16;
	p[2] = v >> 8;
	p[3] = v;
}

/* From the peer to the socket; over IPv4 when both are v4-mapped. */
static void route_from_peer(const struct img_inet *in, struct inet_route *r)
{
	int off = 0;

	memset(r, 0, sizeof(*r));
	r->v4 = in->family == AF_INET;
	if (!r->v4 && !memcmp(in->addr, v4map, 12) &&
	    !memcmp(in->peer_addr, v4map, 12)) {
		r->v4 = 1;
		off = 12;
	}
	memcpy(r->src, in->peer_addr + off, r->v4 ? 4 : 16);
	memcpy(r->dst, in->addr + off, r->v4 ? 4 : 16);
	r->sport[0] = in->peer_port >> 8;
	r->sport[1] = in->peer_port & 0xff;
	r->dport[0] = in->port >> 8;
	r->dport[1] = in->port & 0xff;
}

/*
 * A segment from f's peer: seq, the flags, len bytes of data,
 * acknowledging the first byte of the send queue (what the peer had
 * acknowledged), with the window the peer had said, scaled as it
 * negotiated. No TCP options: a segment without a timestamp skips the
 * PAWS check (RFC 7323 5.3 leaves it to the receiver; Linux takes it),
 * where a made-up one would be kept to compare the peer's with.
 */
int inet_send_seg(struct inet_tab *t, const struct img_file *f, int flags,
		  uint32_t seq, const uint8_t *data, size_t len)
{
	const struct img_tcp *tcp = &f->inet.tcp;
	uint8_t *pkt, *th;
	uint32_t win = tcp->snd_wnd;
	struct inet_route r;
	size_t hl;
	int ret;

	pkt = malloc(INET_IP6_HDR + TCP_HDR + len);
	if (!pkt)
		return -1;
	if (tcp->opts & IMG_TCP_WSCALE)
		win >>= tcp->snd_wscale;
	route_from_peer(&f->inet, &r);
	hl = inet_ip_header(&r, pkt, IPPROTO_TCP, TCP_HDR + len);
	th = pkt + hl;
	memset(th, 0, TCP_HDR);
	memcpy(th, r.sport, 2);
	memcpy(th + 2, r.dport, 2);
	put32(th + 4, seq);
	put32(th + 8, tcp->snd_seq);
	th[12] = (TCP_HDR / 4) << 4;
	th[13] = flags | TH_ACK;
	th[14] = (win > 0xffff ? 0xffff : win) >> 8;
	th[15] = (win > 0xffff ? 0xffff : win) & 0xff;
	if (len)
		memcpy(th + TCP_HDR, data, len);
	inet_l4_csum(&r, IPPROTO_TCP, th, TCP_HDR + len, 16);
	ret = inet_send_pkt(t, &r, pkt, hl + TCP_HDR + len);
	free(pkt);
	return ret;
}

/* At the end of the receive queue (the image's counts leave the FIN
 * out). */
int inet_send_fin(struct inet_tab *t, const struct img_file *f)
{
	const struct img_tcp *tcp = &f->inet.tcp;

	return inet_send_seg(t, f, TH_FIN, tcp->rcv_seq + tcp->recvq_len,
			     NULL, 0);
}
