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

	if (r->flags == XISA_R_THREAD) {	/* xisa_src_threads reads them */
		if (r->len != sizeof(struct xisa_thread))
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

int xisa_src_threads(int fd, const char *name, struct xisa_thread **out)
{
	struct xisa_region r;
	struct xisa_hdr h;
	uint64_t off = sizeof(h);
	uint32_t k;
	int n = 0;

	*out = NULL;
	if (pread_full(fd, &h, sizeof(h), 0))
		goto bad;
	for (k = 0; k < h.nr_regions; k++) {
		if (pread_full(fd, &r, sizeof(r), off))
			goto bad;
		off += sizeof(r);
		if (r.flags == XISA_R_THREAD) {
			struct xisa_thread *p;

			if (n == XISA_MAX_THREADS) {
				pr_err("%s: more than %d threads", name,
				       XISA_MAX_THREADS);
				free(*out);
				*out = NULL;
				return -1;
			}
			p = realloc(*out, (n + 1) * sizeof(*p));
			if (!p)
				goto bad;
			*out = p;
			if (pread_full(fd, &p[n++], sizeof(*p), off))
				goto bad;
		}
		if (!(r.flags & XISA_R_ZERO))
			off += r.len;
	}
	return n;
bad:
	pr_err("%s: not a whole source image of a ckpt cc program", name);
	free(*out);
	*out = NULL;
	return -1;
}
