/*
 * reader: checks an image from end to end before handing any of it out.
 * This file does the framing: the header, each record's length and CRC
 * (page data streamed in chunks with pread, never loaded whole), and the
 * trailer's index and chain CRC; semantics.c and codec.c do the fields.
 * Every failure is one pr_err line saying what and where, then NULL.
 */
#include <sys/stat.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "image/reader-priv.h"

#define RD_CHUNK	(256u * 1024)
/* The window of small reads: a pre-copy's image holds tens of thousands
 * of PAGES records of a page or two (the runs each round found dirty);
 * read three small preads a record, its index took 0.6 s a GiB. */
#define RD_WIN		(64u * 1024)
/* A record's CRC and the next record's header, fields and first page:
 * what the record loop reads next after a deferred PAGES record */
#define RD_WIN_NEXT(r)	(IMG_REC_CRC_SIZE + IMG_REC_HDR_SIZE + \
			 IMG_PAGES_FIXED + (uint64_t)(r)->img->hdr.page_size)

/* ---- messages ----------------------------------------------------------- */

void rd_fail(struct rd *r, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	pr_err("%s: %s", r->name, msg);
}

void rec_fail_at(struct rd *r, uint64_t no, uint32_t type, uint64_t off,
		 const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	pr_err("%s: record %llu (%s) at offset %llu: %s", r->name,
	       (unsigned long long)no, img_rec_name(type),
	       (unsigned long long)off, msg);
}

const char *img_rec_name(uint32_t type)
{
	static const char *const names[] = {
		[IMG_REC_PROC] = "PROC",
		[IMG_REC_THREAD] = "THREAD",
		[IMG_REC_VMA] = "VMA",
		[IMG_REC_PAGES] = "PAGES",
		[IMG_REC_FD] = "FD",
		[IMG_REC_SIGACTS] = "SIGACTS",
		[IMG_REC_FILE] = "FILE",
		[IMG_REC_FILE_DATA] = "FILE_DATA",
		[IMG_REC_SHM] = "SHM",
		[IMG_REC_ZOMBIE] = "ZOMBIE",
		[IMG_REC_GHOST] = "GHOST",
		[IMG_REC_LOCK] = "LOCK",
		[IMG_REC_FOWN] = "FOWN",
		[IMG_REC_AIO] = "AIO",
		[IMG_REC_NS] = "NS",
		[IMG_REC_CGROUP] = "CGROUP",
		[IMG_REC_MOUNT] = "MOUNT",
		[IMG_REC_MNTFILE] = "MNTFILE",
		[IMG_REC_NSMOUNT] = "NSMOUNT",
		[IMG_REC_NETDEV] = "NETDEV",
		[IMG_REC_ROUTE] = "ROUTE",
		[IMG_REC_SYSV] = "SYSV",
		[IMG_REC_SYSV_DATA] = "SYSV_DATA",
		[IMG_REC_NSJOIN] = "NSJOIN",
		[IMG_REC_SOCKX] = "SOCKX",
		[IMG_REC_APP] = "APP",
		[IMG_REC_FILEID] = "FILEID",
		[IMG_REC_IDENT] = "IDENT",
		[IMG_REC_PARENT_PAGES] = "PARENT_PAGES",
		[IMG_REC_SNAPFILE] = "SNAPFILE",
		[IMG_REC_NOTIFY] = "NOTIFY",
		[IMG_REC_SNAPDATA] = "SNAPDATA",
		[IMG_REC_PRECOPY] = "PRECOPY",
		[IMG_REC_PRE_PAGES] = "PRE_PAGES",
		[IMG_REC_PRE_RUNS] = "PRE_RUNS",
	};

	if (type == IMG_REC_TRAILER)
		return "TRAILER";
	if (type < ARRAY_SIZE(names) && names[type])
		return names[type];
	return "unknown";
}

const char *img_isa_name(uint32_t isa)
{
	switch (isa) {
	case IMG_ISA_X86_64:
		return "x86_64";
	case IMG_ISA_AARCH64:
		return "aarch64";
	}
	return "unknown";
}

/* ---- access to the bytes ------------------------------------------------ */

/* len bytes at off from the window, read anew around off if they are
 * not in it and load; NULL: not there (or a read too large for it, or a
 * failed pread: the caller's own pread then says why). A view into it
 * lasts until the next load. */
static const uint8_t *rd_win_sized(struct rd *r, uint64_t off, size_t len,
				   int load, uint64_t n)
{
	if (len > RD_WIN / 4)
		return NULL;
	if (r->win && off >= r->win_off &&
	    off + len <= r->win_off + r->win_len)
		return r->win + (off - r->win_off);
	if (!load || (!r->win && !(r->win = malloc(RD_WIN))))
		return NULL;
	if (n > r->size - off)
		n = r->size - off;
	r->win_len = 0;
	if (n < len || pread_full(r->fd, r->win, n, off))
		return NULL;
	r->win_off = off;
	r->win_len = n;
	return r->win;
}

static const uint8_t *rd_win(struct rd *r, uint64_t off, size_t len,
			     int load)
{
	return rd_win_sized(r, off, len, load, RD_WIN);
}

/*
 * len bytes at off, which the caller has checked lie inside the image: a
 * pointer into the buffer, the window, or r->scratch after a pread; good
 * until the next rd_view or rd_read.
 */
static const uint8_t *rd_view(struct rd *r, uint64_t off, size_t len)
{
	uint8_t *p;

	if (r->buf)
		return r->buf + off;
	p = (uint8_t *)rd_win(r, off, len, 1);
	if (p)
		return p;
	if (len > r->cap_scratch) {
		p = realloc(r->scratch, len);
		if (!p) {
			rd_fail(r, "out of memory");
			return NULL;
		}
		r->scratch = p;
		r->cap_scratch = len;
	}
	if (pread_full(r->fd, r->scratch, len, off)) {
		rd_fail(r, "can't read %zu bytes at offset %llu: %s", len,
			(unsigned long long)off, strerror(errno));
		return NULL;
	}
	return r->scratch;
}

/* Copies len bytes at off, inside the image, to dst; keep: the window
 * stays as it is (a view into it is still in use). */
static int rd_copy(struct rd *r, uint64_t off, void *dst, size_t len,
		   int keep)
{
	const uint8_t *p = r->buf ? r->buf + off : rd_win(r, off, len, !keep);

	if (p) {
		memcpy(dst, p, len);
		return 0;
	}
	if (pread_full(r->fd, dst, len, off)) {
		rd_fail(r, "can't read %zu bytes at offset %llu: %s", len,
			(unsigned long long)off, strerror(errno));
		return -1;
	}
	return 0;
}

static int rd_read(struct rd *r, uint64_t off, void *dst, size_t len)
{
	return rd_copy(r, off, dst, len, 0);
}

/* Folds len bytes at off into *crc, chunk by chunk; zero: all must be 0. */
static int rd_crc(struct rd *r, uint64_t off, uint64_t len, uint32_t *crc,
		  int zero)
{
	const uint8_t *p;
	size_t n;

	while (len) {
		n = len;
		if (!r->buf && n > RD_CHUNK)
			n = RD_CHUNK;
		p = rd_view(r, off, n);
		if (!p)
			return -1;
		if (zero && (p[0] || memcmp(p, p + 1, n - 1))) {
			rec_fail(r, "padding not zero");
			return -1;
		}
		*crc = img_crc32c(*crc, p, n);
		off += n;
		len -= n;
	}
	return 0;
}

/* ---- header ------------------------------------------------------------- */

static int hdr_kernel(struct rd *r, const uint8_t *b)
{
	const char *k = (const char *)b + IMG_HDR_KERNEL_OFF;
	size_t n = strnlen(k, IMG_HDR_KERNEL_LEN);
	size_t i;

	if (n == IMG_HDR_KERNEL_LEN) {
		rd_fail(r, "kernel release in header not terminated");
		return -1;
	}
	memcpy(r->img->hdr.kernel, k, n + 1);
	/* the rest of the field and the reserved bytes up to the writer */
	for (i = IMG_HDR_KERNEL_OFF + n; i < IMG_HDR_WRITER_OFF; i++) {
		if (b[i]) {
			rd_fail(r, "non-zero reserved byte %zu in header", i);
			return -1;
		}
	}
	return 0;
}

/* The program that wrote the image: printable, then zeros to the CRC. */
static int hdr_writer(struct rd *r, const uint8_t *b)
{
	const char *w = (const char *)b + IMG_HDR_WRITER_OFF;
	size_t n = strnlen(w, IMG_HDR_WRITER_LEN), i;

	if (n == IMG_HDR_WRITER_LEN) {
		rd_fail(r, "writer in header not terminated");
		return -1;
	}
	for (i = 0; i < n; i++) {
		if (w[i] < 0x20 || w[i] > 0x7e) {
			rd_fail(r, "writer in header not printable");
			return -1;
		}
	}
	for (i = IMG_HDR_WRITER_OFF + n; i < IMG_HDR_CRC_OFF; i++) {
		if (b[i]) {
			rd_fail(r, "non-zero byte %zu after the writer", i);
			return -1;
		}
	}
	memcpy(r->img->hdr.writer, w, n + 1);
	return 0;
}

static int hdr_fields(struct rd *r, struct img_header *h, uint32_t expect)
{
	if (h->isa != IMG_ISA_X86_64 && h->isa != IMG_ISA_AARCH64) {
		rd_fail(r, "unknown isa %u", h->isa);
		return -1;
	}
	if (expect && h->isa != expect) {
		rd_fail(r, "image is for %s, this is %s", img_isa_name(h->isa),
			img_isa_name(expect));
		return -1;
	}
	if (h->page_size < IMG_MIN_PAGE_SIZE ||
	    h->page_size > IMG_MAX_PAGE_SIZE ||
	    (h->page_size & (h->page_size - 1))) {
		rd_fail(r, "bad page size %u", h->page_size);
		return -1;
	}
	if (h->flags) {
		rd_fail(r, "unknown header flags %#x", h->flags);
		return -1;
	}
	return 0;
}

/* An image still coming (img_read_follow): wait until its first end
 * bytes are in, or it is whole (end ~0); -1 only if the wait failed (it
 * said why). Shorter when it ended first: the caller says truncated. */
static int rd_need(struct rd *r, uint64_t end)
{
	int ret;

	while (r->more && end > r->size) {
		ret = r->more(r->more_arg, &r->size);
		if (ret < 0)
			return -1;
		if (ret > 0)
			r->more = NULL;
	}
	return 0;
}

/* Version before CRC: a newer format may have changed the header too. */
static int rd_header(struct rd *r, uint32_t expect)
{
	struct img_header *h = &r->img->hdr;
	size_t n;
	const uint8_t *b;

	if (rd_need(r, IMG_HEADER_SIZE))
		return -1;
	n = r->size < IMG_HEADER_SIZE ? r->size : IMG_HEADER_SIZE;
	if (!n) {
		rd_fail(r, "empty file, not an image");
		return -1;
	}
	b = rd_view(r, 0, n);
	if (!b)
		return -1;
	if (memcmp(b, IMG_MAGIC,
		   n < sizeof(IMG_MAGIC) ? n : sizeof(IMG_MAGIC))) {
		rd_fail(r, "bad magic");
		return -1;
	}
	if (n < IMG_HEADER_SIZE) {
		rd_fail(r, "truncated in header");
		return -1;
	}
	h->version = get_le32(b + IMG_HDR_VERSION_OFF);
	if (h->version != IMG_VERSION) {
		rd_fail(r, "format version %u, this build reads %u",
			h->version, IMG_VERSION);
		return -1;
	}
	if (get_le32(b + IMG_HDR_CRC_OFF) !=
	    img_crc32c(0, b, IMG_HDR_CRC_OFF)) {
		rd_fail(r, "header crc mismatch");
		return -1;
	}
	h->isa = get_le32(b + IMG_HDR_ISA_OFF);
	h->page_size = get_le32(b + IMG_HDR_PSIZE_OFF);
	h->flags = get_le32(b + IMG_HDR_FLAGS_OFF);
	h->created = get_le64(b + IMG_HDR_CREATED_OFF);
	if (hdr_kernel(r, b) || hdr_writer(r, b))
		return -1;
	return hdr_fields(r, h, expect);
}

/* ---- records ------------------------------------------------------------ */

static int rd_index_add(struct rd *r, uint64_t len, uint32_t crc)
{
	struct img_index_ent *n;
	uint64_t cap;

	if (r->nr_idx == r->cap_idx) {
		cap = r->cap_idx ? r->cap_idx * 2 : 64;
		n = realloc(r->idx, cap * sizeof(*n));
		if (!n) {
			rd_fail(r, "out of memory");
			return -1;
		}
		r->idx = n;
		r->cap_idx = cap;
	}
	r->idx[r->nr_idx++] = (struct img_index_ent){ r->type, crc, r->off,
						      len };
	return 0;
}

static int rd_crc_ok(struct rd *r, uint64_t len, uint32_t crc)
{
	uint8_t c[IMG_REC_CRC_SIZE];

	/* the callers' view of the payload is still in use */
	if (rd_copy(r, r->off + IMG_REC_HDR_SIZE + len, c, sizeof(c), 1))
		return -1;
	if (get_le32(c) != crc) {
		rec_fail(r, "crc mismatch");
		return -1;
	}
	return 0;
}

/* A record whose payload is decoded whole: CRC first, then the fields. */
static int rd_plain(struct rd *r, const uint8_t *h, uint64_t len)
{
	const uint8_t *p;
	uint32_t crc;

	if (len > IMG_MAX_PAYLOAD) {
		rec_fail(r, "payload of %llu bytes too large",
			 (unsigned long long)len);
		return -1;
	}
	p = rd_view(r, r->off + IMG_REC_HDR_SIZE, len);
	if (!p)
		return -1;
	crc = img_crc32c(img_crc32c(0, h, IMG_REC_HDR_SIZE), p, len);
	if (rd_crc_ok(r, len, crc) || sem_record(r, p, len))
		return -1;
	return rd_index_add(r, len, crc);
}

static int pages_fields(struct rd *r, const uint8_t *f, uint64_t len,
			struct img_pages *pg, uint32_t *pad)
{
	uint64_t ps = r->img->hdr.page_size, data;

	pg->addr = get_le64(f);
	pg->nr_pages = get_le64(f + 8);
	*pad = get_le32(f + 16);
	pg->data_off = r->off + IMG_REC_HDR_SIZE + IMG_PAGES_FIXED + *pad;
	data = len - IMG_PAGES_FIXED - *pad;
	if (*pad >= ps || *pad > len - IMG_PAGES_FIXED)
		rec_fail(r, "bad padding of %u bytes", *pad);
	else if (data % ps || data / ps != pg->nr_pages)
		rec_fail(r, "%llu bytes of data for %llu pages",
			 (unsigned long long)data,
			 (unsigned long long)pg->nr_pages);
	else if (pg->data_off % ps)
		rec_fail(r, "page data at offset %llu not page aligned",
			 (unsigned long long)pg->data_off);
	else if (pg->addr % ps || pg->addr >= IMG_MAX_ADDR ||
		 !pg->nr_pages || pg->nr_pages > (IMG_MAX_ADDR - pg->addr) / ps)
		rec_fail(r, "bad range %#llx + %llu pages",
			 (unsigned long long)pg->addr,
			 (unsigned long long)pg->nr_pages);
	else
		return 0;
	return -1;
}

/* A PAGES record whose CRC IMG_READ_DEFER_PAGES leaves for later. */
static int rd_defer(struct rd *r, uint64_t len)
{
	return (r->flags & IMG_READ_DEFER_PAGES) &&
	       (r->img->nr_procs || r->pre_open) &&
	       len <= IMG_PAGES_FIXED + IMG_PAGES_SPLIT +
		      r->img->hdr.page_size;
}

/* A deferred record's fields and its zero padding, read at once. */
static int rd_pages_head(struct rd *r, uint64_t len, struct img_pages *pg)
{
	uint64_t n = IMG_PAGES_FIXED + r->img->hdr.page_size;
	const uint8_t *p;
	uint32_t pad;

	p = rd_view(r, r->off + IMG_REC_HDR_SIZE, n < len ? n : len);
	if (!p || pages_fields(r, p, len, pg, &pad))
		return -1;
	p += IMG_PAGES_FIXED;
	if (pad && (p[0] || memcmp(p, p + 1, pad - 1))) {
		rec_fail(r, "padding not zero");
		return -1;
	}
	return 0;
}

/* A deferred record: its fields and padding in one read, then its CRC.
 * A record of more than a few pages has the window load only that CRC
 * and what the next record's head needs, not RD_WIN of data that the
 * loop skips (1 GiB in 2 MiB records: 1037 reads of 64 KiB less). */
static int rd_pages_deferred(struct rd *r, uint64_t len, struct img_pages *pg)
{
	uint64_t at = r->off + IMG_REC_HDR_SIZE + len;
	uint8_t c[IMG_REC_CRC_SIZE];

	if (rd_pages_head(r, len, pg))
		return -1;
	if (len > RD_WIN / 4)
		(void)rd_win_sized(r, at, sizeof(c), 1, RD_WIN_NEXT(r));
	if (rd_read(r, at, c, sizeof(c)))
		return -1;
	pg->crc = get_le32(c);
	return sem_pages(r, pg) ? -1 : rd_index_add(r, len, pg->crc);
}

/*
 * PAGES: the payload may be a gigabyte, so its CRC is streamed; the fields
 * are checked once the CRC says they are what the writer wrote. A deferred
 * record's CRC is the one it carries: the trailer's chain CRC vouches for
 * it, img_pages_check() for the data.
 */
static int rd_pages(struct rd *r, const uint8_t *h, uint64_t len)
{
	uint8_t f[IMG_PAGES_FIXED];
	uint32_t crc, pad, dummy = 0;
	struct img_pages pg = { .rec_off = r->off };

	if (len < IMG_PAGES_FIXED) {
		rec_fail(r, "payload too short");
		return -1;
	}
	pg.unchecked = rd_defer(r, len);
	if (pg.unchecked)
		return rd_pages_deferred(r, len, &pg);
	crc = img_crc32c(0, h, IMG_REC_HDR_SIZE);
	if (rd_crc(r, r->off + IMG_REC_HDR_SIZE, len, &crc, 0) ||
	    rd_crc_ok(r, len, crc))
		return -1;
	pg.crc = crc;
	if (rd_read(r, r->off + IMG_REC_HDR_SIZE, f, sizeof(f)) ||
	    pages_fields(r, f, len, &pg, &pad) ||
	    rd_crc(r, pg.data_off - pad, pad, &dummy, 1) ||
	    sem_pages(r, &pg))
		return -1;
	return rd_index_add(r, len, crc);
}

/* pg is in the record of buf (its header and fields), at its place:
 * the record's whole run, or a piece of it (a PRE_PAGES run resolved) */
static int pages_in_record(const struct img_pages *pg, const uint8_t *buf,
			   uint32_t page_size)
{
	const uint8_t *f = buf + IMG_REC_HDR_SIZE;
	uint64_t addr = get_le64(f), nr = get_le64(f + 8);
	uint64_t data = pg->rec_off + IMG_REC_HDR_SIZE + IMG_PAGES_FIXED +
			get_le32(f + 16);

	return get_le32(buf) == IMG_REC_PAGES && pg->addr >= addr &&
	       pg->nr_pages <= nr &&
	       (pg->addr - addr) / page_size <= nr - pg->nr_pages &&
	       pg->data_off == data + (pg->addr - addr);
}

uint64_t img_pages_rec_len(const uint8_t *buf)
{
	return IMG_REC_HDR_SIZE + get_le64(buf + 8);
}

int img_pages_check(int fd, const char *name, const struct img_pages *pg,
		    uint32_t page_size, uint8_t *buf)
{
	uint64_t len;

	/* the record's length from its header: pg may be a piece of it */
	if (pread_full(fd, buf, IMG_REC_HDR_SIZE, pg->rec_off)) {
		pr_perror("%s: can't read the PAGES record at offset %llu",
			  name, (unsigned long long)pg->rec_off);
		return -1;
	}
	len = IMG_REC_HDR_SIZE + get_le64(buf + 8);
	if (len + IMG_REC_CRC_SIZE > IMG_PAGES_REC_MAX(page_size) ||
	    len < IMG_REC_HDR_SIZE + IMG_PAGES_FIXED ||
	    pread_full(fd, buf, len + IMG_REC_CRC_SIZE, pg->rec_off)) {
		pr_perror("%s: can't read the PAGES record at offset %llu",
			  name, (unsigned long long)pg->rec_off);
		return -1;
	}
	if (get_le32(buf + len) != pg->crc ||
	    img_crc32c(0, buf, len) != pg->crc ||
	    !pages_in_record(pg, buf, page_size)) {
		pr_err("%s: PAGES record at offset %llu: crc mismatch", name,
		       (unsigned long long)pg->rec_off);
		return -1;
	}
	return 0;
}

/* ---- trailer ------------------------------------------------------------ */

static int trailer_index(struct rd *r, const uint8_t *p)
{
	const struct img_index_ent *e;
	uint32_t chain = 0;
	uint8_t c[4];
	uint64_t i;

	for (i = 0; i < r->nr_idx; i++, p += IMG_TRAILER_ENTRY) {
		e = &r->idx[i];
		if (get_le32(p) != e->type || get_le32(p + 4) != e->crc ||
		    get_le64(p + 8) != e->off || get_le64(p + 16) != e->len) {
			rec_fail(r, "index entry %llu does not match record "
				 "%llu (%s) at offset %llu",
				 (unsigned long long)i,
				 (unsigned long long)i + 1,
				 img_rec_name(e->type),
				 (unsigned long long)e->off);
			return -1;
		}
		put_le32(c, e->crc);
		chain = img_crc32c(chain, c, sizeof(c));
	}
	if (get_le32(p) != chain) {
		rec_fail(r, "chain crc mismatch");
		return -1;
	}
	return 0;
}

static int rd_trailer(struct rd *r, const uint8_t *h, uint64_t len)
{
	uint64_t end = r->off + IMG_REC_HDR_SIZE + len + IMG_REC_CRC_SIZE;
	const uint8_t *p;
	uint32_t crc;

	/* checked first: a damaged length must not make us read a gigabyte */
	if (len != IMG_TRAILER_SIZE(r->nr_idx)) {
		rec_fail(r, "index of %llu bytes for %llu records",
			 (unsigned long long)len,
			 (unsigned long long)r->nr_idx);
		return -1;
	}
	p = rd_view(r, r->off + IMG_REC_HDR_SIZE, len);
	if (!p)
		return -1;
	crc = img_crc32c(img_crc32c(0, h, IMG_REC_HDR_SIZE), p, len);
	if (rd_crc_ok(r, len, crc))
		return -1;
	if (get_le64(p) != r->nr_idx) {
		rec_fail(r, "index lists %llu records, the image has %llu",
			 (unsigned long long)get_le64(p),
			 (unsigned long long)r->nr_idx);
		return -1;
	}
	if (trailer_index(r, p + 8))
		return -1;
	if (end != r->size) {
		rd_fail(r, "%llu bytes of garbage after the trailer",
			(unsigned long long)(r->size - end));
		return -1;
	}
	if (!r->img->nr_procs) {
		rd_fail(r, "no process in image");
		return -1;
	}
	return sem_process_end(r) || sem_image_end(r) || sem_pre_resolve(r) ?
	       -1 : 0;
}

/* ---- the record loop ---------------------------------------------------- */

static int known_type(uint32_t type)
{
	return (type >= IMG_REC_PROC && type <= IMG_REC_FILEID) ||
	       type == IMG_REC_IDENT || type == IMG_REC_PARENT_PAGES ||
	       type == IMG_REC_SNAPFILE || type == IMG_REC_NOTIFY ||
	       type == IMG_REC_MOUNT || type == IMG_REC_MNTFILE ||
	       type == IMG_REC_NSMOUNT ||
	       type == IMG_REC_SNAPDATA || type == IMG_REC_AIO ||
	       type == IMG_REC_NETDEV || type == IMG_REC_ROUTE ||
	       type == IMG_REC_SYSV || type == IMG_REC_SYSV_DATA ||
	       type == IMG_REC_NSJOIN ||
	       type == IMG_REC_SOCKX ||
	       type == IMG_REC_PRECOPY || type == IMG_REC_PRE_PAGES ||
	       type == IMG_REC_PRE_RUNS ||
	       type == IMG_REC_TRAILER;
}

static int rd_truncated(struct rd *r, uint64_t left)
{
	uint8_t t[4];

	if (left >= sizeof(t) && rd_read(r, r->off, t, sizeof(t)) == 0)
		rd_fail(r, "truncated in record %llu (%s)",
			(unsigned long long)r->nr_idx + 1,
			img_rec_name(get_le32(t)));
	else if (left)
		rd_fail(r, "truncated in record %llu",
			(unsigned long long)r->nr_idx + 1);
	else
		rd_fail(r, "truncated after record %llu: no trailer",
			(unsigned long long)r->nr_idx);
	return -1;
}

/* Reads one record at r->off; 1 when it was the trailer. */
static int rd_record(struct rd *r)
{
	uint64_t left, len;
	uint8_t h[IMG_REC_HDR_SIZE];
	uint32_t flags;

	if (rd_need(r, r->off + IMG_REC_HDR_SIZE + IMG_REC_CRC_SIZE))
		return -1;
	left = r->size - r->off;
	if (left < IMG_REC_HDR_SIZE + IMG_REC_CRC_SIZE)
		return rd_truncated(r, left);
	if (rd_read(r, r->off, h, sizeof(h)))
		return -1;
	r->type = get_le32(h);
	flags = get_le32(h + 4);
	len = get_le64(h + 8);
	/* an image coming: its trailer is the last record, so the end is
	 * waited for there (a length past IMG_MAX_ADDR is damage) */
	if (len < IMG_MAX_ADDR &&
	    rd_need(r, r->type == IMG_REC_TRAILER ? ~0ull :
			r->off + IMG_REC_HDR_SIZE + len + IMG_REC_CRC_SIZE))
		return -1;
	left = r->size - r->off;
	if (len > left - IMG_REC_HDR_SIZE - IMG_REC_CRC_SIZE)
		return rd_truncated(r, left);
	if (!known_type(r->type)) {
		rec_fail(r, "unknown record type %#x", r->type);
		return -1;
	}
	if (flags) {
		rec_fail(r, "unknown record flags %#x", flags);
		return -1;
	}
	if (r->nr_idx >= IMG_MAX_RECORDS) {
		rec_fail(r, "more than %u records", IMG_MAX_RECORDS);
		return -1;
	}
	if (r->type == IMG_REC_TRAILER)
		return rd_trailer(r, h, len) ? -1 : 1;
	if (r->type == IMG_REC_PAGES ? rd_pages(r, h, len) :
				       rd_plain(r, h, len))
		return -1;
	r->off += IMG_REC_HDR_SIZE + len + IMG_REC_CRC_SIZE;
	return 0;
}

static struct image *rd_run(struct rd *r, uint32_t expect_isa)
{
	struct image *img;
	int ret;

	img = calloc(1, sizeof(*img));
	if (!img) {
		rd_fail(r, "out of memory");
		return NULL;
	}
	r->img = img;
	r->off = IMG_HEADER_SIZE;
	ret = rd_header(r, expect_isa);
	while (ret == 0)
		ret = rd_record(r);
	if (ret < 0) {
		img_free(img);
		img = NULL;
	} else {
		img->size = r->size;	/* whole by now */
		img->nr_records = r->nr_idx + 1;
	}
	free(r->idx);
	free(r->ploc);
	free(r->scratch);
	free(r->win);
	return img;
}

/* ---- public ------------------------------------------------------------- */

struct image *img_read_buf(const void *buf, size_t len, uint32_t expect_isa)
{
	static const uint8_t empty[1];
	struct rd r = {
		.name = "image",
		.buf = buf && len ? buf : empty,
		.fd = -1,
		.size = buf ? len : 0,
	};

	return rd_run(&r, expect_isa);
}

static struct image *rd_fd_more(int fd, const char *name,
				uint32_t expect_isa, unsigned int flags,
				int (*more)(void *, uint64_t *), void *arg)
{
	struct rd r = { .name = name, .fd = fd, .flags = flags,
			.more = more, .more_arg = arg };
	struct stat st;

	if (fstat(fd, &st)) {
		pr_perror("can't stat %s", name);
		return NULL;
	}
	if (!S_ISREG(st.st_mode)) {
		pr_err("%s: not a regular file", name);
		return NULL;
	}
	r.size = st.st_size;
	return rd_run(&r, expect_isa);
}

static struct image *rd_fd(int fd, const char *name, uint32_t expect_isa,
			   unsigned int flags)
{
	return rd_fd_more(fd, name, expect_isa, flags, NULL, NULL);
}

struct image *img_read_follow(int fd, const char *name, uint32_t expect_isa,
			      unsigned int flags,
			      int (*more)(void *arg, uint64_t *size),
			      void *arg)
{
	return rd_fd_more(fd, name, expect_isa, flags, more, arg);
}

struct image *img_read_fd(int fd, uint32_t expect_isa)
{
	char name[32];

	snprintf(name, sizeof(name), "fd %d", fd);
	return rd_fd(fd, name, expect_isa, 0);
}

struct image *img_read_named_fd(int fd, const char *name, uint32_t expect_isa)
{
	return rd_fd(fd, name, expect_isa, 0);
}

struct image *img_read_named_fd_flags(int fd, const char *name,
				      uint32_t expect_isa, unsigned int flags)
{
	return rd_fd(fd, name, expect_isa, flags);
}

struct image *img_read_file(const char *path, uint32_t expect_isa)
{
	struct image *img;
	int fd;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		pr_perror("can't open %s", path);
		return NULL;
	}
	img = rd_fd(fd, path, expect_isa, 0);
	close(fd);
	return img;
}

static void free_process(struct img_process *p)
{
	uint32_t i;

	img_proc_free(&p->proc);
	for (i = 0; i < p->nr_threads; i++)
		img_thread_free(&p->threads[i]);
	for (i = 0; i < p->nr_vmas; i++)
		img_vma_free(&p->vmas[i]);
	for (i = 0; i < p->nr_fds; i++)
		img_fd_free(&p->fds[i]);
	free(p->locks);
	free(p->fowns);
	for (i = 0; i < p->nr_aios; i++)
		free(p->aios[i].data);
	free(p->aios);
	free(p->threads);
	free(p->vmas);
	free(p->pages);
	free(p->fds);
}

void img_free(struct image *img)
{
	uint32_t i;

	if (!img)
		return;
	img_chain_free(img);
	img_pres_free(img);
	for (i = 0; i < img->nr_procs; i++)
		free_process(&img->procs[i]);
	for (i = 0; i < img->nr_shms; i++) {
		img_shm_free(&img->shms[i].shm);
		free(img->shms[i].pages);
	}
	for (i = 0; i < img->nr_ghosts; i++) {
		img_ghost_free(&img->ghosts[i].g);
		free(img->ghosts[i].pages);
	}
	free(img->ghosts);
	for (i = 0; i < img->nr_nss; i++)
		img_ns_free(&img->nss[i]);
	free(img->nss);
	for (i = 0; i < img->nr_cgroups; i++)
		img_cgroup_free(&img->cgroups[i]);
	free(img->cgroups);
	for (i = 0; i < img->nr_mounts; i++)
		img_mount_free(&img->mounts[i]);
	free(img->mounts);
	for (i = 0; i < img->nr_nsmounts; i++)
		img_mount_free(&img->nsmounts[i]);
	free(img->nsmounts);
	for (i = 0; i < img->nr_mntfiles; i++)
		img_mntfile_free(&img->mntfiles[i]);
	free(img->mntfiles);
	for (i = 0; i < img->nr_netdevs; i++)
		img_netdev_free(&img->netdevs[i]);
	free(img->netdevs);
	free(img->routes);
	for (i = 0; i < img->nr_sysvs; i++)
		img_sysv_free(&img->sysvs[i]);
	free(img->sysvs);
	for (i = 0; i < img->nr_nsjoins; i++)
		free(img->nsjoins[i].path);
	free(img->nsjoins);
	free(img->procs);
	for (i = 0; i < img->nr_files; i++)
		img_file_free(&img->files[i]);
	free(img->files);
	free(img->shms);
	img_apps_free(img);
	free(img);
}

const struct img_file *img_pty_master(const struct image *img,
				      uint32_t mount, uint32_t index)
{
	uint32_t i;

	for (i = 0; i < img->nr_files; i++)
		if (img->files[i].kind == IMG_FILE_PTY_MASTER &&
		    img->files[i].tty.mount == mount &&
		    img->files[i].tty.index == index)
			return &img->files[i];
	return NULL;
}

/* The reader keeps files sorted by id (it refuses any other order). */
const struct img_file *img_find_file(const struct image *img, uint32_t id)
{
	uint32_t lo = 0, hi = img->nr_files, mid;

	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if (img->files[mid].id == id)
			return &img->files[mid];
		if (img->files[mid].id < id)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}
