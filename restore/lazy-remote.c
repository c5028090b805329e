/*
 * restore --lazy tcp://HOST:PORT/NAME: the image stays on a `ckpt serve`
 * (serve/serve-pages.c), which sends its state and, later, page records
 * asked for by offset, over one authenticated, sealed connection.
 *
 * The state comes with the list of holes the server left in it: the data
 * of the page records that restore --lazy reads only when it needs them
 * (IMG_READ_DEFER_PAGES). It is rebuilt at its offsets in a memfd, holes
 * and all, so that the reader and the rest of restore see a file like
 * the one on the server; a record in a hole is fetched into its place
 * before img_pages_check() reads it and checks its CRC (what the hole
 * held never passes as data: zeros fail the CRC), and lazy.c punches its
 * data out again once it has copied it, so that the image does not stay
 * in memory beside the process.
 *
 * A fetch that fails (the server killed, the connection cut or changed
 * on the way) is an error of the fetch: lazy.c kills the tree.
 */
#include <sys/mman.h>
#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "plugins/net.h"
#include "restore/restore.h"

/* A record's header (ckpt-image(5)): type, flags, u64 payload length;
 * the payload, then its CRC */
#define REC_HDR		16
#define REC_LEN_AT	8
#define REC_CRC		4

struct lazy_remote {
	int fd;			/* the socket */
	struct net_conn conn;
	const char *name;	/* the source, for messages */
	uint64_t size;		/* of the image */
	unsigned char *buf;	/* one frame */
};

struct rhole {
	uint64_t off, len;
};

/* Receive up to n holes into h; 0, or -1 (bad list). */
static int recv_holes(struct lazy_remote *r, struct rhole *h, long n)
{
	uint64_t v[2];
	size_t len, k;
	long got = 0;

	while (got < n) {
		if (net_recv_frame(&r->conn, r->buf, NET_FRAME_MAX, &len))
			return -1;
		if (!len || len % 16 || len / 16 > (size_t)(n - got)) {
			errno = EPROTO;
			return -1;
		}
		for (k = 0; k < len / 16; k++, got++) {
			memcpy(v, r->buf + 16 * k, sizeof(v));
			h[got].off = be64toh(v[0]);
			h[got].len = be64toh(v[1]);
			if (h[got].off > r->size ||
			    h[got].len > r->size - h[got].off ||
			    (got && h[got].off < h[got - 1].off +
						 h[got - 1].len)) {
				errno = EPROTO;
				return -1;
			}
		}
	}
	return 0;
}

/* The frames of the state into fd, around the holes, until the zero
 * frame; 0, or -1. */
static int recv_state(struct lazy_remote *r, int fd, const struct rhole *h,
		      long n)
{
	uint64_t at = 0, room, k;
	size_t len, used;
	long i = 0;

	for (;;) {
		if (net_recv_frame(&r->conn, r->buf, NET_FRAME_MAX, &len))
			return -1;
		if (!len)
			break;
		for (used = 0; used < len; used += k, at += k) {
			while (i < n && at == h[i].off)
				at += h[i++].len;
			room = (i < n ? h[i].off : r->size) - at;
			k = len - used < room ? len - used : room;
			if (!k) {
				errno = EPROTO;
				return -1;
			}
			if (pwrite_full(fd, r->buf + used, k, at))
				return -1;
		}
	}
	while (i < n && at == h[i].off)
		at += h[i++].len;
	if (at != r->size) {
		errno = EPROTO;
		return -1;
	}
	return 0;
}

/* "SIZE S HOLES N", the holes and the state, into a new memfd. */
static int recv_image(struct lazy_remote *r)
{
	unsigned long long size;
	struct rhole *h = NULL;
	char msg[96];
	long n;
	int fd = -1;

	if (net_recv_msg(&r->conn, msg, sizeof(msg)))
		return -1;
	if (sscanf(msg, "SIZE %llu HOLES %ld", &size, &n) != 2 || n < 0 ||
	    (unsigned long long)n > size / 16 + 1) {
		errno = EPROTO;
		return -1;
	}
	r->size = size;
	h = calloc(n + 1, sizeof(*h));
	fd = memfd_create("ckpt-lazy-image", MFD_CLOEXEC);
	if (!h || fd < 0 || ftruncate(fd, size) || recv_holes(r, h, n) ||
	    recv_state(r, fd, h, n)) {
		int err = h ? errno : ENOMEM;

		if (fd >= 0)
			close(fd);
		free(h);
		errno = err;
		return -1;
	}
	free(h);
	return fd;
}

static const char *why(int err)
{
	return err == EPROTO ? "the server does not speak the page protocol" :
	       err == EPIPE ? "the server went away" : net_strerror(err);
}

int restore_remote_open(struct restore_run *run)
{
	struct lazy_remote *r = calloc(1, sizeof(*r));
	char err[300];
	int fd;

	if (!r || !(r->buf = malloc(NET_FRAME_MAX))) {
		free(r);
		pr_err("out of memory");
		return -1;
	}
	r->name = run->path;
	r->fd = net_tcp_request(run->path + strlen("tcp://"), run->params,
				run->nr_params, "PAGES", &r->conn, err,
				sizeof(err));
	if (r->fd < 0) {
		pr_err("%s: %s", run->path, err);
		free(r->buf);
		free(r);
		errno = ENOENT;
		return -1;
	}
	run->remote = r;
	fd = recv_image(r);
	if (fd < 0) {
		pr_err("%s: can't receive the image's state: %s", run->path,
		       why(errno));
		errno = EBADMSG;
	}
	return fd;
}

int restore_remote_fetch(struct lazy_remote *r, int fd, uint64_t rec_off,
			 uint32_t page_size)
{
	uint8_t hdr[REC_HDR];
	uint64_t len, at = rec_off, v;
	char msg[96];
	size_t n;

	if (pread_full(fd, hdr, sizeof(hdr), rec_off)) {
		pr_perror("%s: can't read the record at %llu", r->name,
			  (unsigned long long)rec_off);
		return -1;
	}
	memcpy(&v, hdr + REC_LEN_AT, sizeof(v));
	len = REC_HDR + le64toh(v) + REC_CRC;
	if (len > IMG_PAGES_REC_MAX(page_size) || len > r->size - rec_off) {
		pr_err("%s: PAGES record at offset %llu: bad length", r->name,
		       (unsigned long long)rec_off);
		return -1;
	}
	snprintf(msg, sizeof(msg), "GET %llu %llu",
		 (unsigned long long)rec_off, (unsigned long long)len);
	if (net_send_msg(&r->conn, msg))
		goto err;
	for (;;) {
		if (net_recv_frame(&r->conn, r->buf, NET_FRAME_MAX, &n))
			goto err;
		if (!n)
			break;
		if (n > rec_off + len - at) {
			errno = EPROTO;
			goto err;
		}
		if (pwrite_full(fd, r->buf, n, at)) {
			pr_perror("%s: can't keep the record at %llu", r->name,
				  (unsigned long long)rec_off);
			return -1;
		}
		at += n;
	}
	if (at == rec_off + len)
		return 0;
	errno = EPROTO;
err:
	pr_err("%s: can't fetch the pages at offset %llu: %s", r->name,
	       (unsigned long long)rec_off, why(errno));
	return -1;
}

void restore_remote_drop(int fd, const struct img_pages *pg, uint32_t ps)
{
	/* the data only (page aligned): the header stays, for a later
	 * fetch of the same record to find its length */
	if (fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
		      pg->data_off, pg->nr_pages * (uint64_t)ps))
		pr_debug("can't drop the pages at %llx from the image: %s",
			 (unsigned long long)pg->addr, strerror(errno));
}

void restore_remote_close(struct restore_run *run)
{
	struct lazy_remote *r = run->remote;

	if (!r)
		return;
	close(r->fd);
	net_conn_free(&r->conn);
	free(r->buf);
	free(r);
	run->remote = NULL;
}
