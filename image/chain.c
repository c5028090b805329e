/*
 * chain: an incremental image and its parents. Each parent is read whole
 * (every CRC checked) before anything uses the child, its id must be the
 * one the child names, and the child's PARENT_PAGES runs become the runs
 * of the parent's files that hold those pages: the parent's own PAGES, or
 * its own parent's, and so on. Where the parent has no data the page is
 * zero, as a page an image leaves out is.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "image/image.h"
#include "image/image-priv.h"
#include "image/reader-priv.h"

void img_chain_free(struct image *img)
{
	uint32_t i;

	for (i = 0; i < img->nr_chain; i++) {
		if (img->chain_fds[i] >= 0)
			close(img->chain_fds[i]);
		free(img->chain_paths[i]);
	}
	free(img->chain_fds);
	free(img->chain_paths);
	img->chain_fds = NULL;
	img->chain_paths = NULL;
	img->nr_chain = 0;
	free(img->ident.parent);
	img->ident.parent = NULL;
}

int img_open_plain(const char *path, void *arg)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	(void)arg;
	if (fd < 0)
		pr_perror("can't open %s", path);
	return fd;
}

int img_chain_fd(const struct image *img, const struct img_pages *pg,
		 int own_fd)
{
	if (!pg->src)
		return own_fd;
	if (pg->src > img->nr_chain)
		return -1;
	return img->chain_fds[pg->src - 1];
}

const struct img_process *img_find_proc(const struct image *img,
				       int32_t pid)
{
	uint32_t i;

	for (i = 0; i < img->nr_procs; i++)
		if (img->procs[i].proc.pid == pid && !img->procs[i].proc.zombie)
			return &img->procs[i];
	return NULL;
}

struct runs {
	struct img_pages *v;
	uint32_t n, cap;
};

static int runs_add(struct runs *r, const struct img_pages *pg)
{
	struct img_pages *v;

	if (r->n == r->cap) {
		r->cap = r->cap ? r->cap * 2 : 16;
		v = realloc(r->v, r->cap * sizeof(*v));
		if (!v)
			return -1;
		r->v = v;
	}
	r->v[r->n++] = *pg;
	return 0;
}

/* The parts of the parent's runs that fall in [a, b), their src shifted
 * one down the chain. The parent's runs are disjoint. */
static int inherit(struct runs *out, const struct img_process *pp,
		   uint64_t a, uint64_t b, uint64_t ps)
{
	uint32_t i;

	for (i = 0; i < pp->nr_pages; i++) {
		const struct img_pages *q = &pp->pages[i];
		uint64_t s = q->addr, e = q->addr + q->nr_pages * ps;
		struct img_pages piece;

		if (e <= a || s >= b)
			continue;
		if (s < a)
			s = a;
		if (e > b)
			e = b;
		piece.addr = s;
		piece.nr_pages = (e - s) / ps;
		piece.data_off = q->data_off + (s - q->addr);
		piece.src = q->src + 1;
		if (runs_add(out, &piece))
			return -1;
	}
	return 0;
}

static int cmp_addr(const void *a, const void *b)
{
	uint64_t x = ((const struct img_pages *)a)->addr;
	uint64_t y = ((const struct img_pages *)b)->addr;

	return (x > y) - (x < y);
}

static int resolve_proc(struct img_process *p, const struct image *parent,
			const char *ppath, uint64_t ps)
{
	const struct img_process *pp = NULL;
	struct runs out = { 0 };
	uint32_t i;

	for (i = 0; i < p->nr_pages; i++) {
		const struct img_pages *pg = &p->pages[i];

		if (pg->src != IMG_SRC_PARENT) {
			if (runs_add(&out, pg))
				goto err;
			continue;
		}
		if (!pp && !(pp = img_find_proc(parent, p->proc.pid))) {
			pr_err("parent image %s has no process %d", ppath,
			       p->proc.pid);
			goto err;
		}
		if (inherit(&out, pp, pg->addr, pg->addr + pg->nr_pages * ps,
			    ps))
			goto err;
	}
	if (out.n)
		qsort(out.v, out.n, sizeof(*out.v), cmp_addr);
	free(p->pages);
	p->pages = out.v;
	p->nr_pages = out.n;
	return 0;
err:
	free(out.v);
	return -1;
}

/* The child takes over the parent's files: parent first, then its own
 * parents, so that src k is chain_fds[k - 1] in both. */
static int take_files(struct image *img, struct image *parent, int fd,
		      const char *path)
{
	uint32_t n = parent->nr_chain + 1, i;

	img->chain_fds = calloc(n, sizeof(int));
	img->chain_paths = calloc(n, sizeof(char *));
	if (!img->chain_fds || !img->chain_paths ||
	    !(img->chain_paths[0] = strdup(path)))
		return -1;
	img->chain_fds[0] = fd;
	for (i = 1; i < n; i++) {
		img->chain_fds[i] = parent->chain_fds[i - 1];
		img->chain_paths[i] = parent->chain_paths[i - 1];
	}
	img->nr_chain = n;
	free(parent->chain_fds);
	free(parent->chain_paths);
	parent->chain_fds = NULL;
	parent->chain_paths = NULL;
	parent->nr_chain = 0;
	return 0;
}

static int parent_path(const struct image *img, const char *dir, char *buf,
		       size_t len)
{
	const char *p = img->ident.parent;
	int n;

	if (p[0] == '/' || !dir || !dir[0])
		n = snprintf(buf, len, "%s", p);
	else
		n = snprintf(buf, len, "%s/%s", dir, p);
	if (n < 0 || (size_t)n >= len) {
		pr_err("parent image path too long: %s", p);
		return -1;
	}
	return 0;
}

static void dir_of(const char *path, char *buf, size_t len)
{
	const char *slash = strrchr(path, '/');

	if (!slash)
		snprintf(buf, len, ".");
	else if (slash == path)
		snprintf(buf, len, "/");
	else
		snprintf(buf, len, "%.*s", (int)(slash - path), path);
}

static int read_chain(struct image *img, const char *dir, int depth,
		      int (*open_parent)(const char *, void *), void *arg)
{
	char path[PATH_MAX], pdir[PATH_MAX];
	struct image *parent = NULL;
	uint32_t i;
	int fd = -1;

	if (!img->ident.parent_id)
		return 0;
	if (depth >= IMG_MAX_CHAIN) {
		pr_err("chain of images longer than %d", IMG_MAX_CHAIN);
		return -1;
	}
	if (parent_path(img, dir, path, sizeof(path)))
		return -1;
	fd = open_parent(path, arg);	/* it says why not */
	if (fd < 0)
		return -1;
	parent = img_read_named_fd(fd, path, img->hdr.isa);
	if (!parent)
		goto err;
	if (parent->ident.id != img->ident.parent_id) {
		pr_err("parent image %s is not the one this image was taken from (id %016llx, not %016llx)",
		       path, (unsigned long long)parent->ident.id,
		       (unsigned long long)img->ident.parent_id);
		goto err;
	}
	if (parent->hdr.page_size != img->hdr.page_size) {
		pr_err("parent image %s has another page size", path);
		goto err;
	}
	dir_of(path, pdir, sizeof(pdir));
	if (read_chain(parent, pdir, depth + 1, open_parent, arg))
		goto err;
	for (i = 0; i < img->nr_procs; i++)
		if (!img->procs[i].proc.zombie &&
		    resolve_proc(&img->procs[i], parent, path,
				 img->hdr.page_size))
			goto err;
	if (take_files(img, parent, fd, path))
		goto err;
	img->nr_parent_pages = 0;
	img_free(parent);
	return 0;
err:
	if (fd >= 0 && (!img->chain_fds || img->chain_fds[0] != fd))
		close(fd);
	img_free(parent);
	return -1;
}

int img_read_chain(struct image *img, const char *path,
		   int (*open_parent)(const char *path, void *arg), void *arg)
{
	char dir[PATH_MAX], real[PATH_MAX];

	/* beside the file itself, not beside a symlink to it (latest) */
	dir_of(img->ident.parent_id && realpath(path, real) ? real : path,
	       dir, sizeof(dir));
	return read_chain(img, dir, 0, open_parent, arg);
}
