/*
 * serve-pages: ckpt serve as a page server for `restore --lazy
 * tcp://HOST:PORT/NAME` ("PAGES NAME").
 *
 * The image is parsed here as restore --lazy parses it
 * (IMG_READ_DEFER_PAGES): the data of every page record whose CRC the
 * reader leaves for later is a hole, and the rest of the file, the state,
 * goes first: "OK", "SIZE BYTES HOLES N", the holes in frames of big
 * endian (offset, length) pairs, the file less its holes in frames, a
 * zero frame. restore rebuilds the file around the holes and parses it
 * as if it were whole: the holes hold only data it checks against the
 * record's CRC when it fetches it. Then, until the client closes, "GET
 * OFFSET LENGTH" (at most PAGES_GET_MAX bytes, inside the file): the
 * bytes in frames and a zero frame, or "ERR why". Each request must come
 * within the timeout of the one before, as every frame of a PUT.
 *
 * Only a plain image: a compressed or encrypted one has no offsets to
 * ask for.
 */
#include <sys/stat.h>
#include <endian.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "image/image.h"
#include "serve/serve-priv.h"

/* A request's bound: a whole PAGES record (IMG_PAGES_REC_MAX) of any
 * page size up to 64 KiB */
#define PAGES_GET_MAX	(IMG_PAGES_SPLIT + (1u << 20))

struct hole {
	uint64_t off, len;
};

static int by_off(const void *a, const void *b)
{
	const struct hole *x = a, *y = b;

	return x->off < y->off ? -1 : x->off > y->off;
}

/* The data of img's deferred page records, sorted and merged; the count,
 * or -1 (out of memory). */
static long holes_of(const struct image *img, struct hole **out)
{
	uint64_t ps = img->hdr.page_size, n = 0, m = 0;
	struct hole *h;
	uint32_t i, k;

	for (i = 0; i < img->nr_procs; i++)
		n += img->procs[i].nr_pages;
	h = calloc(n + 1, sizeof(*h));
	if (!h)
		return -1;
	for (i = 0; i < img->nr_procs; i++)
		for (k = 0; k < img->procs[i].nr_pages; k++) {
			const struct img_pages *pg = &img->procs[i].pages[k];

			if (!pg->unchecked)
				continue;
			h[m].off = pg->data_off;
			h[m++].len = pg->nr_pages * ps;
		}
	qsort(h, m, sizeof(*h), by_off);
	for (i = 0, n = 0; i < m; i++) {
		if (n && h[n - 1].off + h[n - 1].len >= h[i].off) {
			if (h[i].off + h[i].len > h[n - 1].off + h[n - 1].len)
				h[n - 1].len = h[i].off + h[i].len -
					       h[n - 1].off;
			continue;
		}
		h[n++] = h[i];
	}
	*out = h;
	return (long)n;
}

/* [off, off + len) of fd in frames (no zero frame). */
static int send_range(struct net_conn *c, int fd, unsigned char *buf,
		      uint64_t off, uint64_t len)
{
	size_t n;

	while (len) {
		n = len < NET_FRAME_MAX ? len : NET_FRAME_MAX;
		if (pread_full(fd, buf, n, off) || net_send_frame(c, buf, n))
			return -1;
		serve_deadline_restart();
		off += n;
		len -= n;
	}
	return 0;
}

/* "SIZE", the holes, the file around them, the zero frame. */
static int send_state(struct net_conn *c, int fd, uint64_t size,
		      const struct hole *h, long n, unsigned char *buf)
{
	uint64_t *w = (uint64_t *)buf, at = 0;
	char msg[96];
	long i, k;

	snprintf(msg, sizeof(msg), "SIZE %llu HOLES %ld",
		 (unsigned long long)size, n);
	if (net_send_msg(c, msg))
		return -1;
	for (i = 0; i < n; i += k) {
		for (k = 0; i + k < n && (k + 1) * 16 <= NET_FRAME_MAX; k++) {
			w[2 * k] = htobe64(h[i + k].off);
			w[2 * k + 1] = htobe64(h[i + k].len);
		}
		if (net_send_frame(c, buf, k * 16))
			return -1;
	}
	for (i = 0; i <= n; i++) {
		uint64_t end = i < n ? h[i].off : size;

		if (end > at && send_range(c, fd, buf, at, end - at))
			return -1;
		at = i < n ? h[i].off + h[i].len : size;
	}
	return net_send_frame(c, NULL, 0);
}

/* "GET OFFSET LENGTH" until the client closes: 0, or -1 with *why. */
static int serve_gets(struct net_conn *c, int fd, uint64_t size,
		      unsigned char *buf, uint64_t *total, const char **why)
{
	unsigned long long off, len;
	char req[96];

	for (;;) {
		if (net_recv_msg(c, req, sizeof(req)))
			return errno == EPIPE ? 0 : (*why = net_strerror(errno),
						     -1);
		serve_deadline_restart();
		if (sscanf(req, "GET %llu %llu", &off, &len) != 2 || !len ||
		    len > PAGES_GET_MAX || off > size || len > size - off) {
			*why = "bad request";
			if (net_send_msg(c, "ERR bad request"))
				return -1;
			return -1;
		}
		if (send_range(c, fd, buf, off, len) ||
		    net_send_frame(c, NULL, 0)) {
			*why = "client went away";
			return -1;
		}
		*total += len;
	}
}

void serve_pages(struct net_conn *c, int dirfd, const char *name,
		 const char *peer)
{
	unsigned char *buf = malloc(NET_FRAME_MAX);
	const char *why = "out of memory", *reply = "ERR server error";
	char line[512];
	struct image *img = NULL;
	struct hole *h = NULL;
	uint64_t total = 0;
	struct stat st;
	long n = -1;
	int fd;

	snprintf(line, sizeof(line), "%s pages %s: failed: cut, no request in "
		 "time", peer, name);
	serve_deadline_says(line);
	serve_deadline_restart();
	fd = serve_open_image(dirfd, name, &st, &why);
	if (fd < 0) {
		reply = "ERR no such image";
		goto err;
	}
	img = img_read_named_fd_flags(fd, name, 0, IMG_READ_DEFER_PAGES);
	if (!img) {
		why = "not a plain image";
		reply = "ERR pages are served from a plain image only "
			"(not compressed, not encrypted)";
		goto err;
	}
	if (!buf || (n = holes_of(img, &h)) < 0)
		goto err;
	reply = NULL;
	why = "client went away";
	if (net_send_msg(c, "OK") || send_state(c, fd, st.st_size, h, n, buf))
		goto err;
	if (serve_gets(c, fd, st.st_size, buf, &total, &why))
		goto err;
	pr_info("%s pages %s: ok, %llu bytes asked for", peer, name,
		(unsigned long long)total);
	goto out;
err:
	pr_warn("%s pages %s: failed: %s", peer, name, why);
	if (reply && net_send_msg(c, reply))
		why = "client went away";
out:
	if (img)
		img_free(img);
	if (fd >= 0)
		close(fd);
	free(h);
	free(buf);
}
