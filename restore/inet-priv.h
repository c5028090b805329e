/*
 * inet-priv: what inet.c (TCP and UDP sockets) and inet-dgram.c (the
 * datagrams queued in UDP sockets) share.
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

/* addr (4 or 16 bytes) and port of family as a sockaddr; its length */
socklen_t inet_sockaddr(uint32_t family, const uint8_t *addr, uint32_t port,
			struct sockaddr_storage *ss);
/* SO_RCVBUF or SO_SNDBUF to size, as getsockopt(2) will give it */
int inet_set_buf(int fd, int opt, int size);
/* inet-dgram.c: the datagrams of e's UDP socket, bound and not connected
 * yet, back in its queue; then the raw sockets closed */
int inet_fill_dgrams(struct inet_tab *t, struct inet_ent *e);
void inet_dgram_done(struct inet_tab *t);

#endif
