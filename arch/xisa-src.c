/*
 * A source image (arch/xisa-image.h, XISA_SRC_MAGIC), which the runtime
 * of a ckpt cc program wrote of itself at a landmark (cc/rt-dump.c), read
 * as an image of one process of one thread: its regions become VMAs and
 * runs of pages whose data lie in the file, its pc, sp, fp and thread
 * pointer the thread's registers, so that ckpt translate reads it as it reads an
 * image attach --landmark took.
 */
#include <sys/stat.h>
#include <stdlib.h>
#include <string.h>

#include "arch/xisa-image.h"
#include "arch/xisa.h"
#include "image/image.h"

#define SRC_PAGE	4096u
#define SRC_PATH_MAX	4096u

static int add_region(struct img_process *p, int fd, const struct stat *sb,
		      const struct xisa_region *r, uint64_t *off)
{
	struct img_vma *v = &p->vmas[p->nr_vmas];
	struct img_pages *pg = &p->pages[p->nr_pages];

	if (r->flags == XISA_R_THREAD || r->flags == XISA_R_SIGACT) {
		/* xisa_src_threads and xisa_src_sigacts read them */
		if (r->len != (r->flags == XISA_R_THREAD ?
			       sizeof(struct xisa_thread) :
			       sizeof(struct xisa_sigact)) ||
		    (r->flags == XISA_R_SIGACT &&
		     (r->addr < 1 || r->addr > XISA_NSIG)) ||
		    *off + r->len > (uint64_t)sb->st_size)
			return -1;
		*off += r->len;
		return 0;
	}
	if (r->flags == XISA_R_EXE) {
		if (p->proc.exe || !r->len || r->len >= SRC_PATH_MAX ||
		    !(p->proc.exe = calloc(1, r->len + 1)) ||
		    pread_full(fd, p->proc.exe, r->len, *off))
			return -1;
		*off += r->len;
		return 0;
	}
	if ((r->flags & ~(XISA_R_PROGRAM | XISA_R_ZERO)) || !r->len ||
	    r->addr % SRC_PAGE || r->len % SRC_PAGE ||
	    r->addr + r->len < r->addr)
		return -1;
	v->start = r->addr;
	v->end = r->addr + r->len;
	v->prot = r->prot & 7;
	p->nr_vmas++;
	if (r->flags & XISA_R_ZERO)
		return 0;
	if (*off + r->len < *off || *off + r->len > (uint64_t)sb->st_size)
		return -1;
	pg->addr = r->addr;
	pg->nr_pages = r->len / SRC_PAGE;
	pg->data_off = *off;
	p->nr_pages++;
	*off += r->len;
	return 0;
}

struct image *xisa_src_read(int fd, const char *name)
{
	struct image *img = calloc(1, sizeof(*img));
	const struct xisa_isa *fi = NULL;
	struct img_process *p;
	struct img_thread *th;
	struct xisa_region r;
	struct xisa_hdr h;
	struct stat sb;
	uint64_t off = sizeof(h);
	uint32_t k;
	int i;

	if (!img || fstat(fd, &sb) || pread_full(fd, &h, sizeof(h), 0) ||
	    memcmp(h.magic, XISA_SRC_MAGIC, 8) || h.version != XISA_VERSION ||
	    h.nr_regions > XISA_MAX_REGIONS)
		goto bad;
	for (i = 0; i < XISA_NR; i++)
		if (xisa_isa(i)->img_isa == h.isa)
			fi = xisa_isa(i);
	img->hdr.page_size = SRC_PAGE;
	img->procs = p = calloc(1, sizeof(*p));
	if (!fi || !p)
		goto bad;
	img->nr_procs = 1;
	p->threads = th = calloc(1, sizeof(*th));
	p->vmas = calloc(h.nr_regions + 1, sizeof(*p->vmas));
	p->pages = calloc(h.nr_regions + 1, sizeof(*p->pages));
	if (!th || !p->vmas || !p->pages ||
	    !(th->regs = calloc(fi->nr_regs + 1, sizeof(*th->regs))))
		goto bad;
	p->nr_threads = 1;
	th->regs_isa = h.isa;
	th->nr_regs = fi->reg_tp >= fi->nr_regs ? fi->reg_tp + 1 : fi->nr_regs;
	th->regs[fi->reg_tp] = h.tp;
	th->regs[fi->reg_pc] = h.pc;
	th->regs[fi->reg_sp] = h.sp;
	th->regs[fi->reg_fp] = h.fp;
	for (k = 0; k < h.nr_regions; k++) {
		if (pread_full(fd, &r, sizeof(r), off))
			goto bad;
		off += sizeof(r);
		if (add_region(p, fd, &sb, &r, &off))
			goto bad;
	}
	if (!p->proc.exe || strlen(p->proc.exe) == 0 ||
	    off != (uint64_t)sb.st_size)
		goto bad;
	return img;
bad:
	pr_err("%s: not a whole source image of a ckpt cc program", name);
	img_free(img);
	return NULL;
}

/* The regions of kind flag, at most max, their bytes (size each) into
 * buf and their addr into addrs: their number, -1 (unreadable) or -2
 * (more than max) */
static int read_kind(int fd, uint32_t flag, void *buf, size_t size,
		     int max, uint64_t *addrs)
{
	struct xisa_region r;
	struct xisa_hdr h;
	uint64_t off = sizeof(h);
	uint32_t k;
	int n = 0;

	if (pread_full(fd, &h, sizeof(h), 0))
		return -1;
	for (k = 0; k < h.nr_regions; k++) {
		if (pread_full(fd, &r, sizeof(r), off))
			return -1;
		off += sizeof(r);
		if (r.flags == flag) {
			/* xisa_src_read checked their lengths */
			if (n == max)
				return -2;
			addrs[n] = r.addr;
			if (pread_full(fd, (char *)buf + n++ * size, size, off))
				return -1;
		}
		if (!(r.flags & XISA_R_ZERO))
			off += r.len;
	}
	return n;
}

int xisa_src_threads(int fd, const char *name, struct xisa_thread **out)
{
	uint64_t addrs[XISA_MAX_THREADS];
	int n;

	*out = calloc(XISA_MAX_THREADS, sizeof(**out));
	if (!*out)
		return -1;
	n = read_kind(fd, XISA_R_THREAD, *out, sizeof(**out),
		      XISA_MAX_THREADS, addrs);
	if (n == -2)
		pr_err("%s: more than %d threads", name, XISA_MAX_THREADS);
	else if (n < 0)
		pr_err("%s: not a whole source image of a ckpt cc program",
		       name);
	if (n <= 0) {
		free(*out);
		*out = NULL;
	}
	return n < 0 ? -1 : n;
}

int xisa_src_sigacts(int fd, const char *name, struct xisa_sigact *acts,
		     char *have)
{
	struct xisa_sigact a[XISA_NSIG];
	uint64_t addrs[XISA_NSIG];
	int n, i;

	memset(have, 0, XISA_NSIG);
	n = read_kind(fd, XISA_R_SIGACT, a, sizeof(a[0]), XISA_NSIG, addrs);
	if (n < 0) {
		pr_err("%s: not a whole source image of a ckpt cc program",
		       name);
		return -1;
	}
	/* xisa_src_read checked each is a signal's */
	for (i = 0; i < n; i++) {
		have[addrs[i] - 1] = 1;
		acts[addrs[i] - 1] = a[i];
	}
	return 0;
}
