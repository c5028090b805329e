/*
 * dump-guardpages: guard regions (MADV_GUARD_INSTALL, Linux 6.13), page
 * table markers that make an access fault with SIGSEGV though the VMA
 * allows it. The PAGEMAP_SCAN ioctl of /proc/PID/pagemap (Linux 6.7)
 * lists them with PAGE_IS_GUARD (Linux 6.15); pagemap shows each such
 * page with bit 58 set (and as swapped), and its memory is never read.
 * A kernel without PAGE_IS_GUARD refuses the scan (EINVAL): it has no
 * guard pages to show, or shows them as swapped, and reading one fails
 * the dump.
 */
#include <sys/ioctl.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ckpt/dump-priv.h"

#define PAGE_IS_GUARD	(1ULL << 8)
#define SCAN_VEC	64

struct page_region {
	uint64_t start, end, categories;
};

struct pm_scan_arg {
	uint64_t size, flags, start, end, walk_end, vec, vec_len, max_pages;
	uint64_t category_inverted, category_mask, category_anyof_mask;
	uint64_t return_mask;
};

#define PAGEMAP_SCAN	_IOWR('f', 16, struct pm_scan_arg)

static int add_guard(struct img_vma *v, const struct page_region *r,
		     uint32_t *cap)
{
	struct img_range *g;

	if (v->nr_guards && v->guards[v->nr_guards - 1].end == r->start) {
		v->guards[v->nr_guards - 1].end = r->end;
		return 0;
	}
	if (v->nr_guards == *cap) {
		g = realloc(v->guards, (*cap * 2 + 4) * sizeof(*g));
		if (!g)
			return -1;
		v->guards = g;
		*cap = *cap * 2 + 4;
	}
	v->guards[v->nr_guards].start = r->start;
	v->guards[v->nr_guards++].end = r->end;
	return 0;
}

/* The guard regions of v into v->guards; 1 when the kernel can't tell. */
static int scan_vma(int pm_fd, struct img_vma *v)
{
	struct page_region r[SCAN_VEC];
	struct pm_scan_arg a;
	uint64_t at = v->start;
	uint32_t cap = 0;
	long n, i;

	while (at < v->end) {
		memset(&a, 0, sizeof(a));
		a.size = sizeof(a);
		a.start = at;
		a.end = v->end;
		a.vec = (uint64_t)(uintptr_t)r;
		a.vec_len = SCAN_VEC;
		a.category_anyof_mask = PAGE_IS_GUARD;
		a.return_mask = PAGE_IS_GUARD;
		n = ioctl(pm_fd, PAGEMAP_SCAN, &a);
		if (n < 0)
			return errno == EINVAL || errno == ENOTTY ? 1 : -1;
		for (i = 0; i < n; i++)
			if (add_guard(v, &r[i], &cap))
				return -1;
		if (a.walk_end <= at)
			break;
		at = a.walk_end;
	}
	return 0;
}

int dump_collect_guards(struct dump_ctx *c)
{
	char path[64];
	uint32_t i;
	int fd, r = 0;

	snprintf(path, sizeof(path), "/proc/%d/pagemap", c->pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		dump_perror(c, "can't open the pagemap of %d", c->pid);
		return -1;
	}
	for (i = 0; i < c->proc.nr_vmas && !r; i++)
		if (!(c->proc.vmas[i].flags & (IMG_VMA_VDSO | IMG_VMA_VVAR)))
			r = scan_vma(fd, &c->proc.vmas[i]);
	close(fd);
	if (r < 0)
		dump_perror(c, "can't scan the pagemap of %d", c->pid);
	return r < 0 ? -1 : 0;
}
