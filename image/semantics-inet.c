/*
 * semantics-inet: what the TCP and UDP files of an image say together.
 * Each chunk as it comes (a TCP socket's receive queue, then its send
 * queue; a UDP datagram, its sender first), then once every FILE is in:
 * the queues are as long as their sockets say, a UDP queue ends with a
 * whole datagram, and every TCP connection has its other end in the
 * image (the peer's addresses are its own, swapped), once, with sequence
 * numbers that agree: what one end has received lies within what the
 * other has sent, and a FIN received was sent after all the data. A
 * connection whose peer is outside (it names a network lock) has none in
 * the image, and all such connections name the same lock.
 */
#include <sys/socket.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "image/image.h"
#include "image/reader-priv.h"

#define MAX_DGRAM4	65507	/* 65535 - IPv4 and UDP headers */
#define MAX_DGRAM6	65527	/* 65535 - UDP header (no jumbograms) */

/* ---- the chunks --------------------------------------------------------- */

static uint32_t sender_len(const struct img_file *f)
{
	return (f->inet.family == AF_INET ? 4 : 16) + 2;
}

static int tcp_chunk(struct rd *r, const struct img_file *f,
		     const struct img_chunk *ch, const struct img_chunk *prev)
{
	if (!img_tcp_connection(f)) {
		rec_fail(r, "file %u: data queued in a TCP socket with no connection",
			 f->id);
		return -1;
	}
	if (ch->flags & ~IMG_CHUNK_SENDQ) {
		rec_fail(r, "file %u: a message boundary or address in a TCP stream",
			 f->id);
		return -1;
	}
	if (prev && (prev->flags & IMG_CHUNK_SENDQ) &&
	    !(ch->flags & IMG_CHUNK_SENDQ)) {
		rec_fail(r, "file %u: receive queue data after the send queue",
			 f->id);
		return -1;
	}
	return 0;
}

/* A datagram: its sender (address and a port that is not 0), then its
 * bytes, the last chunk flagged IMG_CHUNK_EOR. */
static int udp_chunk(struct rd *r, const struct img_file *f,
		     const struct img_chunk *ch, const struct img_chunk *prev)
{
	int starts = !prev || (prev->flags & IMG_CHUNK_EOR);

	if (ch->flags & (IMG_CHUNK_FDS | IMG_CHUNK_TTY_IN | IMG_CHUNK_CREDS)) {
		rec_fail(r, "file %u: a unix or terminal chunk in a UDP socket",
			 f->id);
		return -1;
	}
	if (ch->flags & IMG_CHUNK_ADDR) {
		if (ch->flags != IMG_CHUNK_ADDR || ch->len != sender_len(f) ||
		    !(ch->data[ch->len - 2] | ch->data[ch->len - 1])) {
			rec_fail(r, "file %u: a bad sender address", f->id);
			return -1;
		}
		if (!starts) {
			rec_fail(r, "file %u: a sender address inside a datagram",
				 f->id);
			return -1;
		}
		return 0;
	}
	if ((ch->flags & IMG_CHUNK_SENDQ) || starts) {
		rec_fail(r, "file %u: a datagram without its sender", f->id);
		return -1;
	}
	return 0;
}

int sem_inet_chunk(struct rd *r, const struct img_file *f,
		   const struct img_chunk *ch)
{
	const struct img_chunk *prev = f->nr_chunks ?
		&f->chunks[f->nr_chunks - 1] : NULL;

	if (f->kind == IMG_FILE_TCP)
		return tcp_chunk(r, f, ch, prev);
	return udp_chunk(r, f, ch, prev);
}

/* ---- the queues, whole -------------------------------------------------- */

static int tcp_queues(struct rd *r, const struct img_file *f)
{
	uint64_t rq = 0, sq = 0;
	uint32_t i;

	for (i = 0; i < f->nr_chunks; i++) {
		if (f->chunks[i].flags & IMG_CHUNK_SENDQ)
			sq += f->chunks[i].len;
		else
			rq += f->chunks[i].len;
	}
	if (rq == f->inet.tcp.recvq_len && sq == f->inet.tcp.sendq_len)
		return 0;
	rd_fail(r, "file %u: TCP queues of %llu and %llu bytes where it says %u and %u",
		f->id, (unsigned long long)rq, (unsigned long long)sq,
		f->inet.tcp.recvq_len, f->inet.tcp.sendq_len);
	return -1;
}

static int udp_queue(struct rd *r, const struct img_file *f)
{
	uint64_t len = 0, max = MAX_DGRAM6;
	const struct img_chunk *ch;
	uint32_t i;

	for (i = 0; i < f->nr_chunks; i++) {
		ch = &f->chunks[i];
		if (ch->flags & IMG_CHUNK_ADDR) {
			/* 4 bytes, or a v4-mapped IPv6 address */
			max = ch->len == 6 || !memcmp(ch->data,
				"\0\0\0\0\0\0\0\0\0\0\xff\xff", 12) ?
				MAX_DGRAM4 : MAX_DGRAM6;
			len = 0;
			continue;
		}
		len += ch->len;
		if (len > max) {
			rd_fail(r, "file %u: a datagram of more than %llu bytes",
				f->id, (unsigned long long)max);
			return -1;
		}
	}
	if (f->nr_chunks && !(f->chunks[f->nr_chunks - 1].flags &
			      IMG_CHUNK_EOR)) {
		rd_fail(r, "file %u: its last datagram has no end", f->id);
		return -1;
	}
	return 0;
}

/* ---- the two ends of a connection --------------------------------------- */

struct tcp_key {
	uint8_t addr[16], peer[16];	/* IPv4 as v4-mapped IPv6 */
	uint32_t port, peer_port;
	uint32_t idx;
};

static void mapped(uint8_t out[16], const uint8_t *a, uint32_t family)
{
	if (family == AF_INET6) {
		memcpy(out, a, 16);
		return;
	}
	memset(out, 0, 10);
	out[10] = out[11] = 0xff;
	memcpy(out + 12, a, 4);
}

static int cmp_key(const void *a, const void *b)
{
	const struct tcp_key *x = a, *y = b;
	int c = memcmp(x->addr, y->addr, 16);

	if (c)
		return c;
	if (x->port != y->port)
		return x->port < y->port ? -1 : 1;
	c = memcmp(x->peer, y->peer, 16);
	if (c)
		return c;
	return (x->peer_port > y->peer_port) - (x->peer_port < y->peer_port);
}

/* The stride-th file of files */
#define FILE_AT(files, stride, i) \
	((const struct img_file *)((const char *)(files) + (size_t)(i) * (stride)))

/* The connections of nr files, sorted by their addresses; *n of them. */
static struct tcp_key *tcp_keys(const struct img_file *files, size_t stride,
				uint32_t nr, uint32_t *n)
{
	struct tcp_key *k = malloc((nr ? nr : 1) * sizeof(*k));
	const struct img_file *f;
	uint32_t i;

	*n = 0;
	for (i = 0; k && i < nr; i++) {
		f = FILE_AT(files, stride, i);
		if (!img_tcp_connection(f))
			continue;
		mapped(k[*n].addr, f->inet.addr, f->inet.family);
		mapped(k[*n].peer, f->inet.peer_addr, f->inet.family);
		k[*n].port = f->inet.port;
		k[*n].peer_port = f->inet.peer_port;
		k[(*n)++].idx = i;
	}
	if (k)
		qsort(k, *n, sizeof(*k), cmp_key);
	return k;
}

int img_tcp_peers_of(const struct img_file *files, size_t stride,
		     uint32_t nr, uint32_t *peer)
{
	struct tcp_key *k, want, *p;
	uint32_t i, n;

	k = tcp_keys(files, stride, nr, &n);
	if (!k) {
		errno = ENOMEM;
		return -1;
	}
	for (i = 0; i < nr; i++)
		peer[i] = UINT32_MAX;
	for (i = 0; i < n; i++) {
		memcpy(want.addr, k[i].peer, 16);
		memcpy(want.peer, k[i].addr, 16);
		want.port = k[i].peer_port;
		want.peer_port = k[i].port;
		p = bsearch(&want, k, n, sizeof(*k), cmp_key);
		if (p)
			peer[k[i].idx] = p->idx;
	}
	free(k);
	return 0;
}

int img_tcp_peers(const struct image *img, uint32_t *peer)
{
	return img_tcp_peers_of(img->files, sizeof(*img->files),
				img->nr_files, peer);
}

/*
 * What b has received of a's bytes lies between the first one a has not
 * seen acknowledged and the last one a has sent; a FIN b has received was
 * sent by a after all its data, and a FIN a has seen acknowledged was
 * received.
 */
int img_tcp_pair_agrees(const struct img_file *a, const struct img_file *b)
{
	const struct img_tcp *ta = &a->inet.tcp, *tb = &b->inet.tcp;
	uint32_t got = tb->rcv_seq + tb->recvq_len - ta->snd_seq;

	if (got > ta->sendq_len - ta->unsent_len)
		return IMG_TCP_SEQS_DIFFER;
	if ((img_tcp_fin_rcvd(b) && (!img_tcp_fin_sent(a) || ta->unsent_len ||
				     got != ta->sendq_len)) ||
	    (a->inet.state == IMG_INET_FIN_WAIT2 && !img_tcp_fin_rcvd(b)))
		return IMG_TCP_FIN_DIFFERS;
	return 0;
}

static int seqs_agree(struct rd *r, const struct img_file *a,
		      const struct img_file *b)
{
	switch (img_tcp_pair_agrees(a, b)) {
	case 0:
		return 0;
	case IMG_TCP_SEQS_DIFFER:
		rd_fail(r, "file %u: its TCP sequence numbers do not match those of its peer, file %u",
			b->id, a->id);
		return -1;
	default:
		rd_fail(r, "file %u: its FIN does not match the state of its peer, file %u",
			a->id, b->id);
		return -1;
	}
}

/* A connection whose peer is outside (it names its network lock) has
 * none in the image; every such connection of an image names one lock. */
static int check_outside(struct rd *r, const uint32_t *peer, uint32_t i,
			 const char **lock)
{
	const struct img_file *f = &r->img->files[i];

	if (peer[i] != UINT32_MAX) {
		rd_fail(r, "file %u: a TCP connection with its peer outside the image has one in it, file %u",
			f->id, r->img->files[peer[i]].id);
		return -1;
	}
	if (*lock && strcmp(*lock, f->inet.lock)) {
		rd_fail(r, "file %u: a second network lock, %s", f->id,
			f->inet.lock);
		return -1;
	}
	*lock = f->inet.lock;
	return 0;
}

static int check_pair(struct rd *r, const uint32_t *peer, uint32_t i)
{
	const struct img_file *f = &r->img->files[i], *p;

	if (peer[i] == UINT32_MAX) {
		rd_fail(r, "file %u: a TCP connection whose other end is not in the image",
			f->id);
		return -1;
	}
	if (peer[peer[i]] != i) {
		rd_fail(r, "file %u: a TCP connection the image has twice",
			f->id);
		return -1;
	}
	p = &r->img->files[peer[i]];
	return seqs_agree(r, p, f);
}

static int check_pairs(struct rd *r)
{
	const struct image *img = r->img;
	const char *lock = NULL;
	uint32_t *peer, i;
	int ret = 0;

	peer = malloc((img->nr_files ? img->nr_files : 1) * sizeof(*peer));
	if (!peer || img_tcp_peers(img, peer)) {
		free(peer);
		rd_fail(r, "out of memory");
		return -1;
	}
	for (i = 0; i < img->nr_files && !ret; i++) {
		if (!img_tcp_connection(&img->files[i]))
			continue;
		ret = img->files[i].inet.lock ?
		      check_outside(r, peer, i, &lock) : check_pair(r, peer, i);
	}
	free(peer);
	return ret;
}

/* A connection not accepted yet waits in a listener of its family and
 * port (an IPv6 one's connections are IPv6, v4-mapped or not). */
static int check_queued(struct rd *r, const struct img_file *f)
{
	const struct img_file *l;

	if (!img_tcp_queued(f))
		return 0;
	l = img_find_file(r->img, f->inet.listener);
	if (l && l->kind == IMG_FILE_TCP &&
	    l->inet.state == IMG_INET_LISTENING &&
	    l->inet.family == f->inet.family && l->inet.port == f->inet.port)
		return 0;
	rd_fail(r, "file %u: queued in file %u, which is not its listener",
		f->id, f->inet.listener);
	return -1;
}

int sem_inet_end(struct rd *r)
{
	const struct img_file *f;
	uint32_t i;

	for (i = 0; i < r->img->nr_files; i++) {
		f = &r->img->files[i];
		if (check_queued(r, f))
			return -1;
		if (f->kind == IMG_FILE_TCP && tcp_queues(r, f))
			return -1;
		if (f->kind == IMG_FILE_UDP && udp_queue(r, f))
			return -1;
	}
	return check_pairs(r);
}
