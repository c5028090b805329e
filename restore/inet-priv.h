/*
 * inet-priv: what inet.c (TCP and UDP sockets), inet-dgram.c (the
 * datagrams queued in UDP sockets) and inet-pkt.c (the packets restore
 * makes) share.
 */
#ifndef CKPT_RESTORE_INET_PRIV_H
#define CKPT_RESTORE_INET_PRIV_H

#include <sys/socket.h>
#include <stdint.h>

#include "image/image.h"

struct inet_ent {
	const struct img_file *f;
	uint32_t idx;		/* in img->files */
	int fd;			/* the socket, -1 until made */
};

struct inet_tab {
	const struct image *img;
	struct inet_ent *e;	/* the image's TCP and UDP files */
	uint32_t n;
	int raw4, raw6;		/* raw sockets sending datagrams, or -1 */
};

#define INET_IP4_HDR	20
#define INET_IP6_HDR	40

/* Where a packet made here goes, from where, and over which IP. */
struct inet_route {
	int v4;
	uint8_t src[16], dst[16];	/* IPv4: the first 4 bytes */
	uint8_t sport[2], dport[2];	/* network order */
};

/* addr (4 or 16 bytes) and port of family as a sockaddr; its length */
socklen_t inet_sockaddr(uint32_t family, const uint8_t *addr, uint32_t port,
			struct sockaddr_storage *ss);
/* inet-sockx.c: f's SOCKX options and multicast groups given to fd;
 * 0, or -1 said */
int inet_sockx_set(int fd, const struct img_file *f);
/* SO_RCVBUF or SO_SNDBUF to size, as getsockopt(2) will give it */
int inet_set_buf(int fd, int opt, int size);
/* inet-dgram.c: the datagrams of e's UDP socket, bound and not connected
 * yet, back in its queue */
int inet_fill_dgrams(struct inet_tab *t, struct inet_ent *e);

/* inet-pkt.c: the IP header of a packet of proto (its length), the
 * checksum of its l4len bytes after it (the field at csum_off), the
 * packet sent from t's raw sockets, which inet_pkt_done closes */
size_t inet_ip_header(const struct inet_route *r, uint8_t *pkt, int proto,
		      size_t l4len);
uint16_t inet_l4_csum(const struct inet_route *r, int proto, uint8_t *l4,
		      size_t len, size_t csum_off);
int inet_send_pkt(struct inet_tab *t, const struct inet_route *r,
		  const uint8_t *pkt, size_t len);
void inet_pkt_done(struct inet_tab *t);
/* the FIN that f's peer (outside the image) had sent, sent again; a
 * segment as from f's peer, with flags besides ACK (TCP's bits) */
int inet_send_fin(struct inet_tab *t, const struct img_file *f);
int inet_send_seg(struct inet_tab *t, const struct img_file *f, int flags,
		  uint32_t seq, const uint8_t *data, size_t len);
/* inet.c: bytes [from, to) of f's receive queue into buf */
void inet_copy_recvq(const struct img_file *f, uint64_t from, uint64_t to,
		     uint8_t *buf);
/* inet-accept.c: the connections not accepted yet (their entries' fd
 * stays -1) in their listeners' queues, in order, before any other
 * connection leaves repair mode */
int inet_requeue(struct inet_tab *t);

#endif
