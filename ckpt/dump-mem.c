/*
 * Dump of the address space: one VMA record per mapping, then the pages
 * that hold data only this process has. /proc/PID/pagemap says which pages
 * are present or swapped; untouched ranges are never read or written, so a
 * process that maps 8 GiB and touches 1 MiB gives an image of about 1 MiB.
 * Pages of shared file mappings live in their file; pages of private file
 * mappings are dumped only once written (anonymous copies). Shared memory
 * objects (dump-shm.c) are dumped once for the tree; a VMA names its one.
 */
#include <sys/mman.h>
#include <sys/uio.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "ckpt/dump-priv.h"
#include "ckpt/dump-uffd.h"
#include "util/fault.h"

#define PME_PRESENT	(1ULL << 63)
#define PME_SWAP	(1ULL << 62)
#define PME_FILE	(1ULL << 61)
#define PME_GUARD	(1ULL << 58)	/* a guard region's (dump-guard.c) */
#define PM_BATCH	65536		/* pagemap entries per read */

static const struct {
	uint32_t vmf, adv;
} advice_map[] = {
	{ PROC_VMF_DONTFORK, IMG_ADV_DONTFORK },
	{ PROC_VMF_DONTDUMP, IMG_ADV_DONTDUMP },
	{ PROC_VMF_HUGEPAGE, IMG_ADV_HUGEPAGE },
	{ PROC_VMF_NOHUGEPAGE, IMG_ADV_NOHUGEPAGE },
	{ PROC_VMF_WIPEONFORK, IMG_ADV_WIPEONFORK },
	{ PROC_VMF_RANDOM, IMG_ADV_RANDOM },
	{ PROC_VMF_SEQUENTIAL, IMG_ADV_SEQUENTIAL },
	{ PROC_VMF_MERGEABLE, IMG_ADV_MERGEABLE },
};

static int has_suffix(const char *s, const char *suffix)
{
	size_t n = strlen(s), m = strlen(suffix);

	return n >= m && !strcmp(s + n - m, suffix);
}

/* Fill the kind of mapping; 1 to skip it, -1 if it cannot be dumped. */
static int vma_kind(struct dump_ctx *c, const struct proc_map *m,
		    struct img_vma *v)
{
	const char *path = m->path;
	uint32_t kind = dump_shm_kind(m);

	v->flags = m->shared ? IMG_VMA_SHARED : 0;
	if (m->vmflags & PROC_VMF_GROWSDOWN)
		v->flags |= IMG_VMA_GROWSDOWN;
	if (m->vmflags & PROC_VMF_LOCKED)
		v->flags |= IMG_VMA_LOCKED;
	if (m->vmflags & PROC_VMF_LOCKONFAULT)
		v->flags |= IMG_VMA_LOCKONFAULT;
	if (m->vmflags & PROC_VMF_DROPPABLE)
		v->flags |= IMG_VMA_DROPPABLE;
	if ((m->vmflags & PROC_VMF_IO) && !(path && path[0] == '['))
		goto unsupported;
	if (!path || !strncmp(path, "[anon", 5)) {
		v->flags |= IMG_VMA_ANON;
		return 0;
	}
	if (!strcmp(path, "[vsyscall]"))
		return 1;	/* fixed and provided by every kernel */
	if (!strcmp(path, "[heap]")) {
		v->flags |= IMG_VMA_ANON | IMG_VMA_HEAP;
		return 0;
	}
	if (!strncmp(path, "[stack", 6)) {
		v->flags |= IMG_VMA_ANON | IMG_VMA_STACK;
		return 0;
	}
	if (!strcmp(path, "[vdso]")) {
		v->flags |= IMG_VMA_VDSO;
		return 0;
	}
	if (!strncmp(path, "[vvar", 5)) {
		v->flags |= IMG_VMA_VVAR;
		return 0;
	}
	if (dump_is_aio_ring(path))
		return 1;	/* an AIO record (dump_collect_aio) */
	if (kind) {
		if (kind == IMG_SHM_ANON)	/* MAP_SHARED|MAP_ANONYMOUS */
			v->flags |= IMG_VMA_ANON;
		return dump_shm_link(c, m, v, kind);
	}
	if (path[0] == '/' && !has_suffix(path, " (deleted)")) {
		v->flags |= IMG_VMA_FILE;
		return 0;
	}
	if (path[0] == '/')
		return dump_ghost_vma(c, m, v);	/* a deleted file */
unsupported:
	pr_err("can't dump mapping %llx-%llx of %d: %s is not supported yet",
	       (unsigned long long)m->start, (unsigned long long)m->end, c->pid,
	       path ? path : "device memory");
	errno = EOPNOTSUPP;
	return -1;
}

int dump_collect_vmas(struct dump_ctx *c)
{
	struct img_process *p = &c->proc;
	int i, r;
	size_t k;

	p->vmas = calloc(c->nr_maps ? c->nr_maps : 1, sizeof(*p->vmas));
	if (!p->vmas)
		return -1;
	for (i = 0; i < c->nr_maps; i++) {
		const struct proc_map *m = &c->maps[i];
		struct img_vma *v = &p->vmas[p->nr_vmas];

		memset(v, 0, sizeof(*v));
		v->dev = m->dev;	/* a ghost's are its inode's */
		v->ino = m->ino;
		r = vma_kind(c, m, v);
		if (r < 0)
			return -1;
		if (r > 0)
			continue;
		v->start = m->start;
		v->end = m->end;
		v->pgoff = m->pgoff;
		v->prot = m->prot;
		for (k = 0; k < ARRAY_SIZE(advice_map); k++)
			if (m->vmflags & advice_map[k].vmf)
				v->advice |= advice_map[k].adv;
		if (m->path && !(v->path = strdup(m->path)))
			return -1;
		p->nr_vmas++;
	}
	return dump_collect_guards(c) ? -1 : dump_collect_aio(c);
}

static int page_wanted(const struct img_vma *v, uint64_t pme)
{
	int present = !!(pme & PME_PRESENT), swapped = !!(pme & PME_SWAP);

	if (pme & PME_GUARD)
		return 0;	/* no memory, only a marker */
	if (v->flags & (IMG_VMA_VDSO | IMG_VMA_VVAR | IMG_VMA_SHARED))
		return 0;	/* in their file or their shm object */
	if (v->flags & (IMG_VMA_FILE | IMG_VMA_GHOST) || v->shm)
		/* only our private copies */
		return swapped || (present && !(pme & PME_FILE));
	return present || swapped;
}

/* process_vm_readv cannot read PROT_NONE pages; /proc/PID/mem can. A
 * snapshot (dump-cow.c) is read through /proc/PID/mem alone:
 * process_vm_readv pins the pages, and a read-only pin of an anonymous
 * page shared copy-on-write makes the kernel copy it first
 * (FAULT_FLAG_UNSHARE, Linux 5.19): a copy of all the memory, slower. */
int dump_mem_read(struct dump_ctx *c, struct dump_mem_io *io, uint64_t addr,
		  void *buf, size_t len)
{
	if (!c->cow_pid && !inject_read(c->ip, addr, buf, len))
		return 0;
	return pread_full(io->mem_fd, buf, len, addr);
}

uint64_t dump_mem_clock(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

int dump_mem_write_run(struct dump_ctx *c, struct dump_mem_io *io,
		       uint64_t addr, uint64_t nr, void *arg)
{
	uint64_t left = nr * c->page_size, t0, t1;

	(void)arg;
	if (img_write_pages_begin(c->w, addr, nr))
		return -1;
	if (io->rd && left > DUMP_MEM_CHUNK)
		return dump_memread_run(c, io, addr, addr + left) ? -1 :
		       img_write_pages_end(c->w);
	while (left) {
		size_t n = left < DUMP_MEM_CHUNK ? left : DUMP_MEM_CHUNK;

		if (dump_interrupted(c))
			return -1;
		fault_point("memory");
		t0 = dump_mem_clock();
		if (dump_mem_read(c, io, addr, io->buf, n)) {
			dump_perror(c, "can't read memory of %d at %llx", c->pid,
				  (unsigned long long)addr);
			return -1;
		}
		t1 = dump_mem_clock();
		if (img_write_pages_data(c->w, io->buf, n))
			return -1;
		io->ns_read += t1 - t0;
		io->ns_write += dump_mem_clock() - t1;
		io->bytes += n;
		addr += n;
		left -= n;
	}
	return img_write_pages_end(c->w);
}

/* fn() on each run of the wanted pages of one VMA. */
int dump_mem_vma_runs(struct dump_ctx *c, struct dump_mem_io *io,
		      const struct img_vma *v, dump_run_fn fn, void *arg)
{
	uint64_t ps = c->page_size, addr = v->start, run = 0, run_start = 0;

	while (addr < v->end) {
		uint64_t n = (v->end - addr) / ps, i;

		if (n > PM_BATCH)
			n = PM_BATCH;
		if (pread_full(io->pagemap_fd, io->pme, n * 8, addr / ps * 8)) {
			dump_perror(c, "can't read the pagemap of %d", c->pid);
			return -1;
		}
		for (i = 0; i < n; i++, addr += ps) {
			if (page_wanted(v, io->pme[i])) {
				if (!run++)
					run_start = addr;
				continue;
			}
			if (run && fn(c, io, run_start, run, arg))
				return -1;
			run = 0;
		}
	}
	if (run && fn(c, io, run_start, run, arg))
		return -1;
	return 0;
}

/* Would the pages PAGEMAP_SCAN put in the categories cat (PAGE_IS_*) be
 * in the image? As page_wanted says of their pagemap entries. */
int dump_mem_wanted_cat(const struct img_vma *v, uint64_t cat)
{
	uint64_t pme = 0;

	if (cat & PAGE_IS_PRESENT)
		pme |= PME_PRESENT;
	if (cat & PAGE_IS_SWAPPED)
		pme |= PME_SWAP;
	if (cat & PAGE_IS_FILE)
		pme |= PME_FILE;
	if (cat & PAGE_IS_GUARD)
		pme |= PME_GUARD;
	return page_wanted(v, pme);
}

int dump_mem_io_open(struct dump_ctx *c, struct dump_mem_io *io)
{
	char path[64];
	int r;

	memset(io, 0, sizeof(*io));
	io->pid = c->pid;
	snprintf(path, sizeof(path), "/proc/%d/pagemap", dump_mem_pid(c));
	io->pagemap_fd = open(path, O_RDONLY | O_CLOEXEC);
	snprintf(path, sizeof(path), "/proc/%d/mem", dump_mem_pid(c));
	io->mem_fd = open(path, O_RDONLY | O_CLOEXEC);
	io->pme = malloc(PM_BATCH * sizeof(uint64_t));
	io->buf = malloc(DUMP_MEM_CHUNK);
	if (io->pagemap_fd < 0 || io->mem_fd < 0 || !io->pme || !io->buf) {
		dump_perror(c, "can't prepare to read memory of %d", c->pid);
		dump_mem_io_close(io);
		return -1;
	}
	r = dump_memread_start(c, io);
	if (r)
		pr_debug("%d: no reader thread (%s), memory read and written "
			 "in turn", c->pid, r > 0 ? "no CPU idle for it" :
			 "it can't be made");
	return 0;
}

void dump_mem_io_close(struct dump_mem_io *io)
{
	dump_memread_stop(io);
	if (io->bytes)
		pr_debug("%d: %llu MiB of memory: %.3f s reading%s, %.3f s "
			 "checksumming and writing", (int)io->pid,
			 (unsigned long long)(io->bytes >> 20),
			 io->ns_read / 1e9,
			 io->rd_used ? " (waiting for the reader thread)" : "",
			 io->ns_write / 1e9);
	if (io->pagemap_fd >= 0)
		close(io->pagemap_fd);
	if (io->mem_fd >= 0)
		close(io->mem_fd);
	free(io->pme);
	free(io->buf);
	memset(io, 0, sizeof(*io));
	io->pagemap_fd = io->mem_fd = -1;
}

int dump_mem_each_run(struct dump_ctx *c, dump_run_fn fn, void *arg)
{
	struct dump_mem_io io;
	uint32_t i;
	int ret = -1;

	if (dump_mem_io_open(c, &io))
		return -1;
	for (i = 0; i < c->proc.nr_vmas; i++)
		if (dump_mem_vma_runs(c, &io, &c->proc.vmas[i], fn, arg))
			goto out;
	ret = 0;
out:
	dump_mem_io_close(&io);
	return ret;
}

int dump_write_memory(struct dump_ctx *c)
{
	if (c->pre)
		return dump_pre_write(c);	/* taken while frozen */
	if (c->ir->st || c->ir->parent)
		return dump_incr_memory(c);
	if (c->cow_runs)
		return dump_cow_write_memory(c);
	return dump_mem_each_run(c, dump_mem_write_run, NULL);
}
