/*
 * writer: produces an image as a stream through a sink. It frames records
 * (type, flags, length, payload, CRC32C), pads PAGES so that their data
 * lands on a page boundary of the file, keeps the index for the trailer,
 * and refuses calls out of order so that what it writes is readable.
 * The file sink (file-sink.c) is what img_writer_open() uses.
 */
#include <stdlib.h>
#include <string.h>

#include "image/image.h"
#include "image/image-priv.h"

enum wstate {
	W_START,	/* nothing written: the header comes first */
	W_HEADER,	/* header written: a SHM or a PROC comes next */
	W_SHM,		/* after a SHM or GHOST record: its PAGES, another, a PROC */
	W_RECORDS,	/* between records */
	W_PAGES,	/* inside a PAGES record */
	W_BROKEN,	/* a write failed: only abort is left */
};

struct img_writer {
	struct img_sink *sink;
	enum wstate state;
	uint64_t off;
	uint32_t page_size;
	struct enc enc;
	struct img_index_ent *idx;
	uint64_t nr_idx, cap_idx;
	/* the open PAGES record, and the state it returns to */
	uint64_t pages_left;	/* bytes of the PAGES record being written */
	uint64_t run_addr, run_pages;	/* of the run, not yet begun */
	uint32_t pages_crc;
	enum wstate pages_of;
	int pre_open;	/* the last record was a PRECOPY (or its PAGES) */
	int past_pre;	/* a record other than IDENT or PRECOPY written */
	void (*on_write)(uint64_t off, void *arg);
	void *on_write_arg;
};

static const char *const state_names[] = {
	[W_START] = "before the header",
	[W_HEADER] = "before the first PROC",
	[W_SHM] = "before the first PROC",
	[W_RECORDS] = "between records",
	[W_PAGES] = "inside a PAGES record",
	[W_BROKEN] = "after a failed write",
};

struct img_writer *img_writer_new(struct img_sink *sink)
{
	struct img_writer *w;

	w = calloc(1, sizeof(*w));
	if (!w) {
		pr_err("can't allocate image writer: out of memory");
		sink->abort(sink);
		return NULL;
	}
	w->sink = sink;
	w->state = W_START;
	return w;
}

uint64_t img_writer_offset(const struct img_writer *w)
{
	return w->off;
}

void img_writer_on_write(struct img_writer *w,
			 void (*fn)(uint64_t off, void *arg), void *arg)
{
	w->on_write = fn;
	w->on_write_arg = arg;
}

static int wr_out(struct img_writer *w, const void *buf, size_t len)
{
	if (w->sink->write(w->sink, buf, len)) {
		w->state = W_BROKEN;
		return -1;
	}
	w->off += len;
	if (w->on_write)
		w->on_write(w->off, w->on_write_arg);
	return 0;
}

/* Refuses a call unless the writer is in state want. */
static int wr_expect(struct img_writer *w, enum wstate want, const char *what)
{
	if (w->state == want)
		return 0;
	pr_err("can't write %s: image writer is %s", what,
	       state_names[w->state]);
	return -1;
}

static int wr_index_add(struct img_writer *w, uint32_t type, uint32_t crc,
			uint64_t off, uint64_t len)
{
	struct img_index_ent *n;
	uint64_t cap;

	if (w->nr_idx + 1 >= IMG_MAX_RECORDS) {
		pr_err("can't write record %llu: too many records",
		       (unsigned long long)w->nr_idx);
		return -1;
	}
	if (w->nr_idx == w->cap_idx) {
		cap = w->cap_idx ? w->cap_idx * 2 : 256;
		n = realloc(w->idx, cap * sizeof(*n));
		if (!n) {
			pr_err("can't grow image index: out of memory");
			return -1;
		}
		w->idx = n;
		w->cap_idx = cap;
	}
	w->idx[w->nr_idx++] = (struct img_index_ent){ type, crc, off, len };
	return 0;
}

static void rec_head(uint8_t h[IMG_REC_HDR_SIZE], uint32_t type,
		     uint64_t len)
{
	put_le32(h, type);
	put_le32(h + 4, 0);
	put_le64(h + 8, len);
}

/* Frames and writes one whole record whose payload is in buf. */
static int wr_record(struct img_writer *w, uint32_t type, const void *buf,
		     size_t len)
{
	uint8_t h[IMG_REC_HDR_SIZE], c[IMG_REC_CRC_SIZE];
	uint64_t off = w->off;
	uint32_t crc;

	rec_head(h, type, len);
	w->pre_open = type == IMG_REC_PRECOPY;
	if (type != IMG_REC_IDENT && type != IMG_REC_PRECOPY)
		w->past_pre = 1;
	crc = img_crc32c(img_crc32c(0, h, sizeof(h)), buf, len);
	put_le32(c, crc);
	if (type != IMG_REC_TRAILER && wr_index_add(w, type, crc, off, len))
		return -1;
	if (wr_out(w, h, sizeof(h)) || wr_out(w, buf, len) ||
	    wr_out(w, c, sizeof(c)))
		return -1;
	return 0;
}

static int wr_encoded(struct img_writer *w, uint32_t type, int ret)
{
	if (ret) {
		pr_err("can't encode %s record: %s", img_rec_name(type),
		       w->enc.err);
		return -1;
	}
	if (w->enc.len > IMG_MAX_PAYLOAD) {
		pr_err("can't write %s record: payload of %zu bytes too large",
		       img_rec_name(type), w->enc.len);
		return -1;
	}
	if (wr_record(w, type, w->enc.buf, w->enc.len))
		return -1;
	if (type == IMG_REC_PROC)
		w->state = W_RECORDS;
	return 0;
}

/* ---- header ------------------------------------------------------------- */

static int header_check(const struct img_header *h)
{
	size_t i;

	if (h->isa != IMG_ISA_X86_64 && h->isa != IMG_ISA_AARCH64) {
		pr_err("can't write header: unknown isa %u", h->isa);
		return -1;
	}
	if (h->page_size < IMG_MIN_PAGE_SIZE ||
	    h->page_size > IMG_MAX_PAGE_SIZE ||
	    (h->page_size & (h->page_size - 1))) {
		pr_err("can't write header: bad page size %u", h->page_size);
		return -1;
	}
	if (h->flags) {
		pr_err("can't write header: unknown flags %#x", h->flags);
		return -1;
	}
	if (!memchr(h->kernel, '\0', sizeof(h->kernel))) {
		pr_err("can't write header: kernel release not terminated");
		return -1;
	}
	for (i = 0; i < sizeof(h->writer) && h->writer[i]; i++)
		if (h->writer[i] < 0x20 || h->writer[i] > 0x7e)
			break;
	if (i == sizeof(h->writer) || h->writer[i]) {
		pr_err("can't write header: writer not printable text");
		return -1;
	}
	return 0;
}

/* The version written is always IMG_VERSION; h->version is ignored. */
int img_write_header(struct img_writer *w, const struct img_header *h)
{
	uint8_t b[IMG_HEADER_SIZE] = { 0 };

	if (wr_expect(w, W_START, "header") || header_check(h))
		return -1;
	memcpy(b, IMG_MAGIC, sizeof(IMG_MAGIC));
	put_le32(b + IMG_HDR_VERSION_OFF, IMG_VERSION);
	put_le32(b + IMG_HDR_ISA_OFF, h->isa);
	put_le32(b + IMG_HDR_PSIZE_OFF, h->page_size);
	put_le32(b + IMG_HDR_FLAGS_OFF, h->flags);
	put_le64(b + IMG_HDR_CREATED_OFF, h->created);
	strcpy((char *)b + IMG_HDR_KERNEL_OFF, h->kernel);
	strcpy((char *)b + IMG_HDR_WRITER_OFF, h->writer);
	put_le32(b + IMG_HDR_CRC_OFF, img_crc32c(0, b, IMG_HDR_CRC_OFF));
	if (wr_out(w, b, sizeof(b)))
		return -1;
	w->page_size = h->page_size;
	w->state = W_HEADER;
	return 0;
}

/* ---- records ------------------------------------------------------------ */

int img_write_proc(struct img_writer *w, const struct img_proc *p)
{
	if (w->state != W_HEADER && w->state != W_SHM &&
	    wr_expect(w, W_RECORDS, "PROC record"))
		return -1;
	enc_reset(&w->enc);
	return wr_encoded(w, IMG_REC_PROC, img_enc_proc(&w->enc, p));
}

/* Never the first process: the root of a dump is alive. */
int img_write_zombie(struct img_writer *w, const struct img_proc *p)
{
	if (wr_expect(w, W_RECORDS, "ZOMBIE record"))
		return -1;
	enc_reset(&w->enc);
	return wr_encoded(w, IMG_REC_ZOMBIE, img_enc_zombie(&w->enc, p));
}

int img_write_thread(struct img_writer *w, const struct img_thread *t)
{
	if (wr_expect(w, W_RECORDS, "THREAD record"))
		return -1;
	enc_reset(&w->enc);
	return wr_encoded(w, IMG_REC_THREAD, img_enc_thread(&w->enc, t));
}

int img_write_vma(struct img_writer *w, const struct img_vma *v)
{
	if (wr_expect(w, W_RECORDS, "VMA record"))
		return -1;
	enc_reset(&w->enc);
	return wr_encoded(w, IMG_REC_VMA, img_enc_vma(&w->enc, v));
}

int img_write_fd(struct img_writer *w, const struct img_fd *f)
{
	if (wr_expect(w, W_RECORDS, "FD record"))
		return -1;
	enc_reset(&w->enc);
	return wr_encoded(w, IMG_REC_FD, img_enc_fd(&w->enc, f));
}

int img_write_lock(struct img_writer *w, const struct img_lock *l)
{
	if (wr_expect(w, W_RECORDS, "LOCK record"))
		return -1;
	enc_reset(&w->enc);
	return wr_encoded(w, IMG_REC_LOCK, img_enc_lock(&w->enc, l));
}

int img_write_aio(struct img_writer *w, const struct img_aio *a)
{
	if (wr_expect(w, W_RECORDS, "AIO record"))
		return -1;
	enc_reset(&w->enc);
	return wr_encoded(w, IMG_REC_AIO, img_enc_aio(&w->enc, a));
}

int img_write_fown(struct img_writer *w, const struct img_fown *o)
{
	if (wr_expect(w, W_RECORDS, "FOWN record"))
		return -1;
	enc_reset(&w->enc);
	return wr_encoded(w, IMG_REC_FOWN, img_enc_fown(&w->enc, o));
}

int img_write_file(struct img_writer *w, const struct img_file *f)
{
	if (wr_expect(w, W_HEADER, "FILE record"))
		return -1;
	enc_reset(&w->enc);
	if (wr_encoded(w, IMG_REC_FILE, img_enc_file(&w->enc, f)))
		return -1;
	if (!img_inet_kind(f->kind) || (!f->inet.nr_xopts &&
					!f->inet.nr_mcast))
		return 0;
	enc_reset(&w->enc);
	return wr_encoded(w, IMG_REC_SOCKX, img_enc_sockx(&w->enc, f));
}

int img_write_app(struct img_writer *w, const struct img_app *a)
{
	if (wr_expect(w, W_HEADER, "APP record"))
		return -1;
	enc_reset(&w->enc);
	return wr_encoded(w, IMG_REC_APP, img_enc_app(&w->enc, a));
}

int img_write_ident(struct img_writer *w, const struct img_ident *id)
{
	if (wr_expect(w, W_HEADER, "IDENT record"))
		return -1;
	enc_reset(&w->enc);
	return wr_encoded(w, IMG_REC_IDENT, img_enc_ident(&w->enc, id));
}

int img_write_fileid(struct img_writer *w, const struct img_fileid *f)
{
	if (wr_expect(w, W_HEADER, "FILEID record"))
		return -1;
	enc_reset(&w->enc);
	return wr_encoded(w, IMG_REC_FILEID, img_enc_fileid(&w->enc, f));
}

int img_write_notify(struct img_writer *w, const char *path,
		     uint32_t seconds)
{
	if (wr_expect(w, W_HEADER, "NOTIFY record"))
		return -1;
	enc_reset(&w->enc);
	return wr_encoded(w, IMG_REC_NOTIFY,
			  img_enc_notify(&w->enc, path, seconds));
}

int img_write_snapdata(struct img_writer *w, uint32_t data, uint64_t off,
		       const void *buf, uint32_t len)
{
	if (w->state != W_RECORDS && wr_expect(w, W_HEADER, "SNAPDATA record"))
		return -1;
	enc_reset(&w->enc);
	enc_u32(&w->enc, data);
	enc_u64(&w->enc, off);
	enc_cap(&w->enc, len, IMG_MAX_CHUNK, "SNAPDATA record too large");
	enc_bytes(&w->enc, buf, len);
	return wr_encoded(w, IMG_REC_SNAPDATA, w->enc.err ? -1 : 0);
}

int img_write_snapfile(struct img_writer *w, const struct img_snapfile *f)
{
	/* at the end too: ckpt hashes the copies after the thaw */
	if (w->state != W_RECORDS && wr_expect(w, W_HEADER, "SNAPFILE record"))
		return -1;
	enc_reset(&w->enc);
	return wr_encoded(w, IMG_REC_SNAPFILE, img_enc_snapfile(&w->enc, f));
}

int img_write_file_data(struct img_writer *w, uint32_t file,
			const void *buf, uint32_t len)
{
	struct img_chunk ch = { .len = len, .data = (uint8_t *)buf };

	return img_write_file_chunk(w, file, &ch);
}

int img_write_file_chunk(struct img_writer *w, uint32_t file,
			 const struct img_chunk *ch)
{
	if (wr_expect(w, W_HEADER, "FILE_DATA record"))
		return -1;
	enc_reset(&w->enc);
	return wr_encoded(w, IMG_REC_FILE_DATA,
			  img_enc_file_data(&w->enc, file, ch));
}

int img_write_sigacts(struct img_writer *w,
		      const struct img_sigact acts[IMG_NSIG])
{
	if (wr_expect(w, W_RECORDS, "SIGACTS record"))
		return -1;
	enc_reset(&w->enc);
	return wr_encoded(w, IMG_REC_SIGACTS, img_enc_sigacts(&w->enc, acts));
}

/* Every SHM record before the first PROC: the VMAs that follow name them. */
int img_write_shm(struct img_writer *w, const struct img_shm *s)
{
	if (w->state != W_HEADER && wr_expect(w, W_SHM, "SHM record"))
		return -1;
	enc_reset(&w->enc);
	if (wr_encoded(w, IMG_REC_SHM, img_enc_shm(&w->enc, s)))
		return -1;
	w->state = W_SHM;
	return 0;
}

/* After the SHM records, before the first PROC; its PAGES follow it. */
int img_write_ghost(struct img_writer *w, const struct img_ghost *g)
{
	if (w->state != W_HEADER && wr_expect(w, W_SHM, "GHOST record"))
		return -1;
	enc_reset(&w->enc);
	if (wr_encoded(w, IMG_REC_GHOST, img_enc_ghost(&w->enc, g)))
		return -1;
	w->state = W_SHM;
	return 0;
}

int img_write_ns(struct img_writer *w, const struct img_ns *ns)
{
	if (wr_expect(w, W_HEADER, "NS record"))
		return -1;
	enc_reset(&w->enc);
	return wr_encoded(w, IMG_REC_NS, img_enc_ns(&w->enc, ns));
}

int img_write_cgroup(struct img_writer *w, const struct img_cgroup *cg)
{
	if (wr_expect(w, W_HEADER, "CGROUP record"))
		return -1;
	enc_reset(&w->enc);
	return wr_encoded(w, IMG_REC_CGROUP, img_enc_cgroup(&w->enc, cg));
}

int img_write_mount(struct img_writer *w, const struct img_mount *m)
{
	if (wr_expect(w, W_HEADER, "MOUNT record"))
		return -1;
	enc_reset(&w->enc);
	return wr_encoded(w, IMG_REC_MOUNT, img_enc_mount(&w->enc, m));
}

int img_write_nsmount(struct img_writer *w, const struct img_mount *m)
{
	if (wr_expect(w, W_HEADER, "NSMOUNT record"))
		return -1;
	enc_reset(&w->enc);
	return wr_encoded(w, IMG_REC_NSMOUNT, img_enc_nsmount(&w->enc, m));
}

int img_write_mntfile(struct img_writer *w, const struct img_mntfile *f)
{
	if (wr_expect(w, W_HEADER, "MNTFILE record"))
		return -1;
	enc_reset(&w->enc);
	return wr_encoded(w, IMG_REC_MNTFILE, img_enc_mntfile(&w->enc, f));
}

int img_write_netdev(struct img_writer *w, const struct img_netdev *n)
{
	if (wr_expect(w, W_HEADER, "NETDEV record"))
		return -1;
	enc_reset(&w->enc);
	return wr_encoded(w, IMG_REC_NETDEV, img_enc_netdev(&w->enc, n));
}

int img_write_route(struct img_writer *w, const struct img_route *r)
{
	if (wr_expect(w, W_HEADER, "ROUTE record"))
		return -1;
	enc_reset(&w->enc);
	return wr_encoded(w, IMG_REC_ROUTE, img_enc_route(&w->enc, r));
}

int img_write_sysv(struct img_writer *w, const struct img_sysv *s)
{
	if (wr_expect(w, W_HEADER, "SYSV record"))
		return -1;
	enc_reset(&w->enc);
	return wr_encoded(w, IMG_REC_SYSV, img_enc_sysv(&w->enc, s));
}

int img_write_sysv_data(struct img_writer *w, uint64_t off,
			const void *buf, uint32_t len)
{
	if (wr_expect(w, W_HEADER, "SYSV_DATA record"))
		return -1;
	enc_reset(&w->enc);
	return wr_encoded(w, IMG_REC_SYSV_DATA,
			  img_enc_sysv_data(&w->enc, off, buf, len));
}

int img_write_nsjoin(struct img_writer *w, const struct img_nsjoin *j)
{
	if (wr_expect(w, W_HEADER, "NSJOIN record"))
		return -1;
	enc_reset(&w->enc);
	return wr_encoded(w, IMG_REC_NSJOIN, img_enc_nsjoin(&w->enc, j));
}

/* ---- PAGES -------------------------------------------------------------- */

static int wr_zeros(struct img_writer *w, uint32_t n, uint32_t *crc)
{
	static const uint8_t zero[4096];
	uint32_t k;

	while (n) {
		k = n < sizeof(zero) ? n : sizeof(zero);
		*crc = img_crc32c(*crc, zero, k);
		if (wr_out(w, zero, k))
			return -1;
		n -= k;
	}
	return 0;
}

static int pages_args_ok(const struct img_writer *w, uint64_t addr,
			 uint64_t nr_pages)
{
	uint64_t ps = w->page_size;

	if (addr & (ps - 1) || !nr_pages || addr >= IMG_MAX_ADDR ||
	    nr_pages > (IMG_MAX_ADDR - addr) / ps) {
		pr_err("can't write PAGES record: bad range %#llx + %llu pages",
		       (unsigned long long)addr,
		       (unsigned long long)nr_pages);
		return 0;
	}
	return 1;
}

int img_write_parent_pages(struct img_writer *w, uint64_t addr,
			   uint64_t nr_pages)
{
	if (wr_expect(w, W_RECORDS, "PARENT_PAGES record") ||
	    !pages_args_ok(w, addr, nr_pages))
		return -1;
	enc_reset(&w->enc);
	return wr_encoded(w, IMG_REC_PARENT_PAGES,
			  img_enc_parent_pages(&w->enc, addr, nr_pages));
}

int img_write_precopy(struct img_writer *w, int32_t pid, uint32_t round)
{
	if (wr_expect(w, W_HEADER, "PRECOPY record"))
		return -1;
	if (w->past_pre) {
		pr_err("can't write PRECOPY record after other records");
		return -1;
	}
	enc_reset(&w->enc);
	return wr_encoded(w, IMG_REC_PRECOPY,
			  img_enc_precopy(&w->enc, pid, round));
}

int img_write_pre_pages(struct img_writer *w, uint64_t addr,
			uint64_t nr_pages, uint32_t round)
{
	if (wr_expect(w, W_RECORDS, "PRE_PAGES record") ||
	    !pages_args_ok(w, addr, nr_pages))
		return -1;
	enc_reset(&w->enc);
	return wr_encoded(w, IMG_REC_PRE_PAGES,
			  img_enc_pre_pages(&w->enc, addr, nr_pages, round));
}

int img_write_pre_runs(struct img_writer *w, const struct img_pre_run *runs,
		       uint32_t n)
{
	uint32_t i;

	if (wr_expect(w, W_RECORDS, "PRE_RUNS record"))
		return -1;
	for (i = 0; i < n; i++)
		if (!pages_args_ok(w, runs[i].addr, runs[i].nr_pages))
			return -1;
	enc_reset(&w->enc);
	return wr_encoded(w, IMG_REC_PRE_RUNS,
			  img_enc_pre_runs(&w->enc, runs, n));
}

/*
 * The payload starts with addr, nr_pages and the pad length, then pad zero
 * bytes that put the page data on a page boundary of the file; the record
 * length, and so its header, is known before any data is written.
 */
static int piece_begin(struct img_writer *w)
{
	uint8_t b[IMG_REC_HDR_SIZE + IMG_PAGES_FIXED];
	uint64_t ps = w->page_size, len, nr;
	uint32_t pad, crc;

	nr = (IMG_PAGES_SPLIT - w->run_addr % IMG_PAGES_SPLIT) / ps;
	if (nr > w->run_pages)
		nr = w->run_pages;
	pad = (ps - (w->off + sizeof(b)) % ps) % ps;
	len = IMG_PAGES_FIXED + pad + nr * ps;
	rec_head(b, IMG_REC_PAGES, len);
	put_le64(b + IMG_REC_HDR_SIZE, w->run_addr);
	put_le64(b + IMG_REC_HDR_SIZE + 8, nr);
	put_le32(b + IMG_REC_HDR_SIZE + 16, pad);
	crc = img_crc32c(0, b, sizeof(b));
	if (wr_index_add(w, IMG_REC_PAGES, 0, w->off, len) ||
	    wr_out(w, b, sizeof(b)) || wr_zeros(w, pad, &crc))
		return -1;
	w->run_addr += nr * ps;
	w->run_pages -= nr;
	w->pages_left = nr * ps;
	w->pages_crc = crc;
	return 0;
}

static int piece_end(struct img_writer *w)
{
	uint8_t c[IMG_REC_CRC_SIZE];

	w->idx[w->nr_idx - 1].crc = w->pages_crc;
	put_le32(c, w->pages_crc);
	return wr_out(w, c, sizeof(c));
}

/*
 * A run of pages is written as PAGES records that each end at a multiple
 * of IMG_PAGES_SPLIT of addr: small enough for a lazy restore to check a
 * record's CRC when it first needs one of its pages.
 */
int img_write_pages_begin(struct img_writer *w, uint64_t addr,
			  uint64_t nr_pages)
{
	if ((w->state != W_SHM && !(w->state == W_HEADER && w->pre_open) &&
	     wr_expect(w, W_RECORDS, "PAGES record")) ||
	    !pages_args_ok(w, addr, nr_pages))
		return -1;
	w->pages_of = w->state;
	w->run_addr = addr;
	w->run_pages = nr_pages;
	if (piece_begin(w))
		return -1;
	w->state = W_PAGES;
	return 0;
}

int img_write_pages_data(struct img_writer *w, const void *buf, size_t len)
{
	const uint8_t *p = buf;
	size_t k;

	if (wr_expect(w, W_PAGES, "page data"))
		return -1;
	if (len > w->pages_left + w->run_pages * w->page_size) {
		pr_err("can't write page data: %zu bytes, PAGES record has "
		       "%llu left", len, (unsigned long long)
		       (w->pages_left + w->run_pages * w->page_size));
		return -1;
	}
	while (len) {
		if (!w->pages_left &&
		    (piece_end(w) || piece_begin(w)))
			return -1;
		k = len < w->pages_left ? len : w->pages_left;
		w->pages_crc = img_crc32c(w->pages_crc, p, k);
		if (wr_out(w, p, k))
			return -1;
		w->pages_left -= k;
		p += k;
		len -= k;
	}
	return 0;
}

int img_write_pages_end(struct img_writer *w)
{
	if (wr_expect(w, W_PAGES, "end of PAGES record"))
		return -1;
	if (w->pages_left || w->run_pages) {
		pr_err("can't end PAGES record: %llu bytes of data missing",
		       (unsigned long long)
		       (w->pages_left + w->run_pages * w->page_size));
		return -1;
	}
	if (piece_end(w))
		return -1;
	w->state = w->pages_of;
	return 0;
}

/* ---- trailer, commit, abort --------------------------------------------- */

static int wr_trailer(struct img_writer *w)
{
	uint32_t chain = 0;
	uint8_t c[4];
	uint64_t i;

	enc_reset(&w->enc);
	enc_u64(&w->enc, w->nr_idx);
	for (i = 0; i < w->nr_idx; i++) {
		enc_u32(&w->enc, w->idx[i].type);
		enc_u32(&w->enc, w->idx[i].crc);
		enc_u64(&w->enc, w->idx[i].off);
		enc_u64(&w->enc, w->idx[i].len);
		put_le32(c, w->idx[i].crc);
		chain = img_crc32c(chain, c, sizeof(c));
	}
	enc_u32(&w->enc, chain);
	if (w->enc.err) {
		pr_err("can't encode trailer: %s", w->enc.err);
		return -1;
	}
	return wr_record(w, IMG_REC_TRAILER, w->enc.buf, w->enc.len);
}

static void wr_free(struct img_writer *w)
{
	enc_free(&w->enc);
	free(w->idx);
	free(w);
}

int img_writer_commit(struct img_writer *w)
{
	if (wr_expect(w, W_RECORDS, "trailer"))
		goto err;
	if (wr_trailer(w))
		goto err;
	if (w->sink->commit(w->sink))
		goto err;
	wr_free(w);
	return 0;
err:
	img_writer_abort(w);
	return -1;
}

void img_writer_abort(struct img_writer *w)
{
	if (!w)
		return;
	w->sink->abort(w->sink);
	wr_free(w);
}
