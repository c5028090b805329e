/*
 * The address space swap, done from outside by remote system calls while
 * the child sits seized with its instruction pointer on the trampoline:
 * unmap everything the child had (restore's own code included: the child
 * runs none of it any more), move the kernel's vdso and vvar to where the
 * image had them, map every VMA of the image, read the pages straight from
 * the image file into place, then set protections, advice and the mm
 * fields (PR_SET_MM_MAP). Shared memory objects exist already (shm.c):
 * their VMAs map them, by restore's fd or by shmat(), and get no pages.
 */
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/shm.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <errno.h>
#include <limits.h>
#include <fcntl.h>
#include <linux/prctl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "restore/restore.h"
#include "util/proc.h"
#include "util/progress.h"

#ifndef MAP_DROPPABLE
#define MAP_DROPPABLE		0x08	/* Linux 6.11 */
#endif
#ifndef MADV_GUARD_INSTALL
#define MADV_GUARD_INSTALL	102	/* Linux 6.13 */
#endif

#ifndef MLOCK_ONFAULT
#define MLOCK_ONFAULT	1
#endif
#ifndef MADV_POPULATE_WRITE
#define MADV_POPULATE_WRITE 23
#endif

#ifndef PTRACE_GET_RSEQ_CONFIGURATION
#define PTRACE_GET_RSEQ_CONFIGURATION 0x420f
#endif
#define RSEQ_FLAG_UNREGISTER 1

/* below the kernel's 2 GiB per call, and small enough for the progress
 * report to move: a remote call costs far less than 64 MiB of copying */
#define FILL_CHUNK	(64ULL << 20)
#ifndef MADV_COLLAPSE
#define MADV_COLLAPSE	25	/* Linux 6.1 */
#endif
#define TOUCH_IOV	1024	/* huge pages touched a process_vm_writev */
/* Runs of pages up to SMALL_RUN bytes are read here and written into the
 * child SMALL_IOV at a time (process_vm_writev): a migration's image
 * holds tens of thousands of them (the pre-copy rounds' pieces), and a
 * pread made by the child costs ptrace round trips each (the restore of
 * a 1 GiB migration made 126,584 ptrace calls, now 26,354). */
#define SMALL_RUN	(64u << 10)
#define SMALL_IOV	1024
#define SMALL_BUF	(4u << 20)

int rcall(struct restore_proc *c, int ti, const char *what, long *ret,
	  long nr, uint64_t a0, uint64_t a1, uint64_t a2, uint64_t a3,
	  uint64_t a4, uint64_t a5)
{
	long r;

	if (inject_syscall(c->ip, ti, &r, nr, a0, a1, a2, a3, a4, a5)) {
		pr_perror("can't %s in %d", what, c->child);
		return -1;
	}
	if (ret)
		*ret = r;
	if (r < 0 && r > -4096) {
		errno = -r;
		pr_perror("can't %s in %d", what, c->child);
		return -1;
	}
	return 0;
}

static uint64_t scratch(struct restore_proc *c)
{
	return inject_scratch(c->ip);
}

static int is_special(const char *path)
{
	return path && (!strcmp(path, "[vdso]") || !strncmp(path, "[vvar", 5)
			|| !strcmp(path, "[vsyscall]"));
}

static int kept(const struct restore_proc *c, const struct proc_map *m)
{
	uint64_t tramp_end = c->tramp + c->run->host.tramp_len;

	return is_special(m->path) ||
	       (m->start >= c->tramp && m->start < tramp_end);
}

/*
 * What the child has of restore goes, but the special mappings and the
 * trampoline: a run of neighbours in one munmap (what lies between two
 * entries of the maps is unmapped already), as each call costs a stop.
 */
static int unmap_child(struct restore_proc *c, struct proc_map *m, int n)
{
	int i, k;

	for (i = 0; i < n; i = k) {
		if (kept(c, &m[i])) {
			k = i + 1;
			continue;
		}
		for (k = i + 1; k < n && !kept(c, &m[k]); k++)
			;
		pr_debug("unmap %llx-%llx (%d mappings)",
			 (unsigned long long)m[i].start,
			 (unsigned long long)m[k - 1].end, k - i);
		if (rcall(c, 0, "unmap the restorer", NULL, SYS_munmap,
			  m[i].start, m[k - 1].end - m[i].start, 0, 0, 0, 0))
			return -1;
	}
	return 0;
}

static const struct img_vma *image_special(struct restore_proc *c,
					   const char *name)
{
	uint32_t i;

	for (i = 0; i < c->proc->nr_vmas; i++) {
		const struct img_vma *v = &c->proc->vmas[i];

		if ((v->flags & (IMG_VMA_VDSO | IMG_VMA_VVAR)) && v->path &&
		    !strcmp(v->path, name))
			return v;
	}
	return NULL;
}

static int mremap_to(struct restore_proc *c, uint64_t from, uint64_t len,
		     uint64_t to)
{
	if (from == to)
		return 0;
	return rcall(c, 0, "move the vdso", NULL, SYS_mremap, from, len, len,
		     MREMAP_MAYMOVE | MREMAP_FIXED, to, 0);
}

/*
 * The kernel's fresh [vvar], [vvar_vclock] and [vdso] go where the image
 * had them, by way of a parking area so that no move lands on another
 * special mapping still in place. Those the image lacks are unmapped.
 */
static int move_vdso(struct restore_proc *c, struct proc_map *m, int n)
{
	uint64_t park = c->tmp_area, parked[8] = { 0 };
	const struct img_vma *v;
	int i, k = 0;

	for (i = 0; i < n && k < 8; i++) {
		if (!is_special(m[i].path) || !strcmp(m[i].path, "[vsyscall]"))
			continue;
		v = image_special(c, m[i].path);
		if (!v) {
			if (rcall(c, 0, "unmap the vdso", NULL, SYS_munmap,
				  m[i].start, m[i].end - m[i].start, 0, 0, 0, 0))
				return -1;
			continue;
		}
		if (v->end - v->start != m[i].end - m[i].start) {
			pr_err("can't restore %s: its %s is %llu bytes, this kernel's %llu",
			       c->run->path, m[i].path,
			       (unsigned long long)(v->end - v->start),
			       (unsigned long long)(m[i].end - m[i].start));
			return -1;
		}
		if (mremap_to(c, m[i].start, m[i].end - m[i].start, park))
			return -1;
		parked[k++] = park;
		park += m[i].end - m[i].start;
	}
	for (i = 0, k = 0; i < n && k < 8; i++) {
		if (!is_special(m[i].path) || !strcmp(m[i].path, "[vsyscall]") ||
		    !(v = image_special(c, m[i].path)))
			continue;
		if (mremap_to(c, parked[k++], v->end - v->start, v->start))
			return -1;
	}
	return 0;
}

/* Open path in the child; returns the fd there. */
static int remote_open(struct restore_proc *c, const char *path, int flags,
		       long *fd)
{
	size_t len = strlen(path) + 1;

	if (len > inject_scratch_len(c->ip)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	if (inject_write(c->ip, scratch(c), path, len))
		return -1;
	return inject_syscall(c->ip, 0, fd, SYS_openat, AT_FDCWD, scratch(c),
			      flags | O_CLOEXEC, 0, 0, 0);
}

/* The VMA (index) that holds addr: VMAs are sorted and disjoint (checked
 * by the reader), and every PAGES record lies inside one. */
uint32_t restore_vma_of(const struct img_process *p, uint64_t addr)
{
	uint32_t lo = 0, hi = p->nr_vmas;

	while (hi - lo > 1) {
		uint32_t mid = lo + (hi - lo) / 2;

		if (p->vmas[mid].start <= addr)
			lo = mid;
		else
			hi = mid;
	}
	return lo;
}

/* Once: which VMAs get pages, and which get a whole aligned huge page. */
static int index_pages(struct restore_proc *c)
{
	const struct restore_host *h = &c->run->host;
	const struct img_process *p = c->proc;
	uint32_t i;

	c->vpages = calloc(p->nr_vmas ? p->nr_vmas : 1, sizeof(*c->vpages));
	if (!c->vpages) {
		pr_err("out of memory");
		return -1;
	}
	for (i = 0; i < p->nr_pages; i++) {
		const struct img_pages *pg = &p->pages[i];
		uint64_t end = pg->addr + pg->nr_pages * h->page_size;
		uint64_t first = (pg->addr + h->huge_size - 1) &
				 ~(h->huge_size - 1);
		uint32_t v = restore_vma_of(p, pg->addr);

		c->vpages[v] |= VP_ANY;
		if (first + h->huge_size <= end)
			c->vpages[v] |= VP_HUGE;
	}
	return 0;
}

int restore_vma_has_pages(const struct restore_proc *c,
			  const struct img_vma *v)
{
	return c->vpages[v - c->proc->vmas] & VP_ANY;
}

/*
 * A mapped file that is not the one dumped (a library upgraded since, or
 * another host) may not match the pages and code the process expects.
 * Migration needs it to work, so this is a warning, not a refusal.
 */
static void check_identity(struct restore_proc *c, const struct img_vma *v)
{
	char path[PATH_MAX + 64];
	struct stat st;

	/* as the process sees it: in its root (mnt.c's pivot_root) */
	snprintf(path, sizeof(path), "/proc/%d/root%s", c->child, v->path);
	if (stat(c->child > 0 ? path : v->path, &st))
		return;		/* the open below reports it */
	if (st.st_ino != v->ino || st.st_dev != v->dev)
		pr_warn("%s: %s is not the file that was mapped at dump time",
			c->run->path, v->path);
}

static int map_file_vma(struct restore_proc *c, const struct img_vma *v,
			uint32_t prot, uint32_t flags)
{
	int mode = (v->flags & IMG_VMA_SHARED) ? O_RDWR : O_RDONLY;
	long fd = -1, r;
	int ret = -1;

	if (!v->pgoff)	/* once per file: its first mapping */
		check_identity(c, v);
	if (remote_open(c, v->path, mode, &fd))
		goto io;
	if (fd == -EACCES && mode == O_RDWR && !(v->prot & PROT_WRITE) &&
	    remote_open(c, v->path, O_RDONLY, &fd))
		goto io;
	if (fd < 0) {
		errno = -fd;
		pr_perror("can't open %s for the mapping at %llx", v->path,
			  (unsigned long long)v->start);
		return -1;
	}
	ret = rcall(c, 0, "map a file", &r, SYS_mmap, v->start,
		    v->end - v->start, prot, flags, fd, v->pgoff);
	if (inject_syscall(c->ip, 0, &r, SYS_close, fd, 0, 0, 0, 0, 0))
		ret = -1;
	return ret;
io:
	pr_perror("can't open %s in %d", v->path, c->child);
	return -1;
}

static const struct img_shm *shm_of(const struct restore_proc *c,
				    const struct img_vma *v)
{
	return v->shm ? &c->run->img->shms[v->shm - 1].shm : NULL;
}

static int is_sysv(const struct restore_proc *c, const struct img_vma *v)
{
	return v->shm && shm_of(c, v)->kind == IMG_SHM_SYSV;
}

/*
 * An anonymous or memfd object, or a ghost (a deleted file): restore holds
 * it open as fd, and the child opens the same file through
 * /proc/RESTORE/fd/N (it is still root here), read-only where the mapping
 * was never writable, or is private.
 */
static int map_held(struct restore_proc *c, const struct img_vma *v, int fd,
		    uint32_t prot, uint32_t flags)
{
	int ro = (v->flags & IMG_VMA_NOWRITE) ||
		 ((v->flags & IMG_VMA_GHOST) && !(v->flags & IMG_VMA_SHARED));
	char path[64];
	long rfd, r;
	int ret;

	snprintf(path, sizeof(path), "/proc/%d/fd/%d", c->run->host.restorer,
		 fd);
	if (remote_open(c, path, ro ? O_RDONLY : O_RDWR, &rfd)) {
		pr_perror("can't open %s in %d", path, c->child);
		return -1;
	}
	if (rfd < 0) {
		errno = -rfd;
		pr_perror("can't open the object mapped at %llx (%s)",
			  (unsigned long long)v->start,
			  v->path ? v->path : "shared memory");
		return -1;
	}
	ret = rcall(c, 0, "map shared memory or a ghost", &r, SYS_mmap,
		    v->start, v->end - v->start, prot, flags, rfd, v->pgoff);
	if (inject_syscall(c->ip, 0, &r, SYS_close, rfd, 0, 0, 0, 0, 0))
		ret = -1;
	return ret;
}

static int map_ghost_vma(struct restore_proc *c, const struct img_vma *v,
			 uint32_t prot, uint32_t flags)
{
	const struct img_ghost *g = img_find_ghost(c->run->img, v->dev,
						   v->ino);

	return map_held(c, v, restore_ghost_fd(c->run, g->id), prot, flags);
}

/* The image VMAs from index i on that one shmat() made: the same segment
 * at the same base. They are sorted, so they follow each other. */
static uint32_t sysv_group_end(const struct restore_proc *c, uint32_t i)
{
	const struct img_vma *v = &c->proc->vmas[i], *u;
	uint32_t k;

	for (k = i + 1; k < c->proc->nr_vmas; k++) {
		u = &c->proc->vmas[k];
		if (u->shm != v->shm || u->start - u->pgoff != v->start - v->pgoff)
			break;
	}
	return k;
}

static int unmap_range(struct restore_proc *c, uint64_t from, uint64_t to)
{
	if (from >= to)
		return 0;
	return rcall(c, 0, "trim a System V attachment", NULL, SYS_munmap,
		     from, to - from, 0, 0, 0, 0);
}

/*
 * One attachment: shmat() maps the whole segment at its base (the
 * process's VMAs may show only part of it, or pieces with other
 * protections), so what lies outside the image's VMAs is unmapped again.
 * Read-only when none of its VMAs could ever be written (SHM_RDONLY).
 */
static int attach_sysv(struct restore_proc *c, uint32_t i, uint32_t end)
{
	const struct img_vma *v = &c->proc->vmas[i];
	uint64_t base = v->start - v->pgoff, pos = base, seg;
	long ps = c->run->host.page_size;
	int flags = SHM_REMAP | SHM_RDONLY;
	uint32_t k;

	seg = (shm_of(c, v)->size + ps - 1) / ps * ps;
	for (k = i; k < end; k++)
		if (!(c->proc->vmas[k].flags & IMG_VMA_NOWRITE))
			flags &= ~SHM_RDONLY;
	if (rcall(c, 0, "attach a System V segment", NULL, SYS_shmat,
		  c->run->shms[v->shm - 1].shmid, base, flags, 0, 0, 0))
		return -1;
	for (k = i; k < end; k++) {
		if (unmap_range(c, pos, c->proc->vmas[k].start))
			return -1;
		pos = c->proc->vmas[k].end;
	}
	return unmap_range(c, pos, base + seg);
}

/* Is the SHM object shm mapped by c's VMAs from index from on, or by a
 * process that rebuild() makes after c (it goes in the image's order)? */
static int mapped_later(const struct restore_proc *c, uint32_t from,
			uint32_t shm)
{
	const struct image *img = c->run->img;
	uint32_t i = c->proc - img->procs, k = from;

	for (; i < img->nr_procs; i++, k = 0)
		for (; k < img->procs[i].nr_vmas; k++)
			if (img->procs[i].vmas[k].shm == shm)
				return 1;
	return 0;
}

/*
 * A segment of the tree's IPC namespace that was marked removed: marked
 * again once its last process attached it (an attachment with nattch at
 * 0 would destroy it), by that process, which is in the namespace and
 * still root here. shm.c does it for the segments of restore's own.
 */
static int remove_sysv(struct restore_proc *c, uint32_t i, uint32_t end)
{
	const struct img_vma *v = &c->proc->vmas[i];
	const struct img_shm *s = shm_of(c, v);

	if ((s->flags & (IMG_SHM_IPCNS | IMG_SHM_REMOVED)) !=
	    (IMG_SHM_IPCNS | IMG_SHM_REMOVED) || mapped_later(c, end, v->shm))
		return 0;
	return rcall(c, 0, "remove a System V segment", NULL, SYS_shmctl,
		     s->shmid, IPC_RMID, 0, 0, 0, 0);
}

/* Before any other VMA is mapped: an attachment covers its whole segment
 * for a moment, which must not clobber a mapping already in place. */
static int attach_all_sysv(struct restore_proc *c)
{
	uint32_t i = 0, end;

	while (i < c->proc->nr_vmas) {
		if (!is_sysv(c, &c->proc->vmas[i])) {
			i++;
			continue;
		}
		end = sysv_group_end(c, i);
		if (attach_sysv(c, i, end) || remove_sysv(c, i, end))
			return -1;
		i = end;
	}
	return 0;
}

static int map_vma(struct restore_proc *c, const struct img_vma *v)
{
	uint32_t prot = v->prot, flags = MAP_FIXED;

	if (restore_vma_has_pages(c, v))
		prot |= PROT_WRITE | PROT_READ;	/* to fill; set back later */
	flags |= (v->flags & IMG_VMA_SHARED) ? MAP_SHARED :
		 (v->flags & IMG_VMA_DROPPABLE) ? MAP_DROPPABLE : MAP_PRIVATE;
	if (v->flags & IMG_VMA_GROWSDOWN)
		flags |= MAP_GROWSDOWN;
	if (is_sysv(c, v))
		return 0;	/* attached already */
	if (v->shm)
		return map_held(c, v, c->run->shms[v->shm - 1].fd, prot, flags);
	if (v->flags & IMG_VMA_GHOST)
		return map_ghost_vma(c, v, prot, flags);
	if (v->flags & IMG_VMA_FILE)
		return map_file_vma(c, v, prot, flags);
	return rcall(c, 0, "map memory", NULL, SYS_mmap, v->start,
		     v->end - v->start, prot, flags | MAP_ANONYMOUS,
		     (uint64_t)-1, 0);
}

/*
 * Fault [addr, addr + len) of the child in, a chunk at a time: far cheaper
 * than page by page. Done over a run of adjacent records at once, which
 * the writer splits every 2 MiB: one remote call per chunk, not per record.
 */
static int populate(struct restore_proc *c, uint64_t addr, uint64_t len)
{
	long r;

	while (len) {
		uint64_t n = len < FILL_CHUNK ? len : FILL_CHUNK;

		if (inject_syscall(c->ip, 0, &r, SYS_madvise, addr, n,
				   MADV_POPULATE_WRITE, 0, 0, 0))
			return -1;
		if (r)
			pr_debug("populating %llx: error %ld",
				 (unsigned long long)addr, -r);
		addr += n;
		len -= n;
	}
	return 0;
}

/* Read a run of pages from the image file straight into the child. */
static int fill_pages(struct restore_proc *c, const struct img_pages *pg)
{
	uint64_t addr = pg->addr, off = pg->data_off;
	uint64_t left = pg->nr_pages * c->run->host.page_size;
	long r;

	while (left) {
		uint64_t n = left < FILL_CHUNK ? left : FILL_CHUNK;

		if (rcall(c, 0, "read pages", &r, SYS_pread64,
			  c->child_img_fd, addr, n, off, 0, 0))
			return -1;
		if (r == 0) {
			pr_err("%s: page data ends early at %llx", c->run->path,
			       (unsigned long long)addr);
			return -1;
		}
		addr += r;
		off += r;
		left -= r;
		progress_add((uint64_t)r);
	}
	return 0;
}

/* Small runs gathered for one process_vm_writev (fill_small) */
struct small_fill {
	struct iovec local[SMALL_IOV], remote[SMALL_IOV];
	int n;
	size_t used;
	uint8_t *buf;	/* SMALL_BUF */
};

static int small_flush(struct restore_proc *c, struct small_fill *f)
{
	size_t want = f->used;
	ssize_t r;

	if (!f->n)
		return 0;
	r = process_vm_writev(c->child, f->local, f->n, f->remote, f->n, 0);
	if (r < 0 || (size_t)r != want) {
		pr_perror("can't write the pages of %d at %llx", c->child,
			  (unsigned long long)(uintptr_t)f->remote[0].iov_base);
		return -1;
	}
	progress_add((uint64_t)want);
	f->n = 0;
	f->used = 0;
	return 0;
}

/* A small run of pages read from the image here, into f's next iovec */
static int fill_small(struct restore_proc *c, struct small_fill *f,
		      const struct img_pages *pg)
{
	size_t len = pg->nr_pages * c->run->host.page_size;

	if ((f->n == SMALL_IOV || f->used + len > SMALL_BUF) &&
	    small_flush(c, f))
		return -1;
	if (pread_full(c->run->img_fd, f->buf + f->used, len, pg->data_off)) {
		pr_perror("%s: can't read the pages at %llx", c->run->path,
			  (unsigned long long)pg->addr);
		return -1;
	}
	f->local[f->n].iov_base = f->buf + f->used;
	f->local[f->n].iov_len = len;
	f->remote[f->n].iov_base = (void *)(uintptr_t)pg->addr;
	f->remote[f->n].iov_len = len;
	f->n++;
	f->used += len;
	return 0;
}

/*
 * Filling fresh 4 KiB pages costs a fault each, and the process pays again
 * at its first touch; huge pages cost neither. So the fill of a private
 * anonymous VMA with whole huge pages of data gets them (unless THP is
 * off, or already the default) without changing its advice, which no
 * madvise() could set back to none: one with MADV_HUGEPAGE has it from
 * the start; in one without, a byte is written in each aligned 2 MiB
 * piece that a run of data reaches (a byte of the run, read in later:
 * a 4 KiB page, a page table) and MADV_COLLAPSE, which heeds
 * neither the "madvise" mode nor max_ptes_none (Linux 6.1, khugepaged.c),
 * makes each piece a huge page before the data is read in. One with
 * MADV_NOHUGEPAGE gets 4 KiB pages, as it had.
 */
static int huge_fill(struct restore_proc *c, const struct img_vma *v)
{
	return c->run->host.thp == THP_MADVISE && !restore_lazy_vma(c, v) &&
	       (c->vpages[v - c->proc->vmas] & VP_HUGE) && !v->shm &&
	       !(v->advice & IMG_ADV_NOHUGEPAGE) &&
	       !(v->flags & (IMG_VMA_SHARED | IMG_VMA_FILE |
			     IMG_VMA_GROWSDOWN));
}

static int advise_huge(struct restore_proc *c)
{
	uint32_t i;

	for (i = 0; i < c->proc->nr_vmas; i++) {
		const struct img_vma *v = &c->proc->vmas[i];

		if (huge_fill(c, v) && (v->advice & IMG_ADV_HUGEPAGE) &&
		    rcall(c, 0, "advise memory", NULL, SYS_madvise, v->start,
			  v->end - v->start, MADV_HUGEPAGE, 0, 0, 0))
			return -1;
	}
	return 0;
}

/* One byte written in each 2 MiB piece from lo to hi (aligned), none
 * before from: the first piece may hold data filled already */
static int touch_huge(struct restore_proc *c, uint64_t lo, uint64_t hi,
		      uint64_t from)
{
	static const char zero;
	struct iovec local[TOUCH_IOV], remote[TOUCH_IOV];
	uint64_t huge = c->run->host.huge_size;
	ssize_t r;
	int n;

	while (lo < hi) {
		for (n = 0; n < TOUCH_IOV && lo < hi; n++, lo += huge) {
			local[n].iov_base = (void *)&zero;
			local[n].iov_len = 1;
			remote[n].iov_base = (void *)(lo > from ? lo : from);
			remote[n].iov_len = 1;
		}
		r = process_vm_writev(c->child, local, n, remote, n, 0);
		if (r != n) {
			pr_perror("can't touch the memory of %d at %llx",
				  c->child, (unsigned long long)lo);
			return -1;
		}
	}
	return 0;
}

/*
 * Before the pages from addr (len bytes) are filled: the whole aligned
 * huge pages of v they reach made huge (see above). MADV_COLLAPSE does
 * what it can: a piece it could not make (no memory) stays 4 KiB pages.
 */
static int collapse_run(struct restore_proc *c, const struct img_vma *v,
			uint64_t addr, uint64_t len)
{
	uint64_t huge = c->run->host.huge_size, lo, hi;
	long r;

	if (!huge_fill(c, v) || (v->advice & IMG_ADV_HUGEPAGE))
		return 0;
	lo = addr & ~(huge - 1);
	if (lo < v->start)
		lo += huge;
	hi = (addr + len + huge - 1) & ~(huge - 1);
	if (hi > (v->end & ~(huge - 1)))
		hi = v->end & ~(huge - 1);
	if (lo >= hi)
		return 0;
	if (touch_huge(c, lo, hi, addr) ||
	    inject_syscall(c->ip, 0, &r, SYS_madvise, lo, hi - lo,
			   MADV_COLLAPSE, 0, 0, 0))
		return -1;
	if (r)
		pr_debug("collapsing %llx: error %ld", (unsigned long long)lo,
			 -r);
	return 0;
}

/* pg's pages are read in now, not on demand (lazy.c) */
static int filled(const struct restore_proc *c, const struct img_pages *pg)
{
	return !restore_lazy_vma(c, &c->proc->vmas[restore_vma_of(c->proc,
								  pg->addr)]);
}

/* collapse_run for each VMA that addr (len bytes, contiguous) spans */
static int collapse_runs(struct restore_proc *c, uint64_t addr,
			 uint64_t len)
{
	const struct img_process *p = c->proc;
	uint32_t v = restore_vma_of(p, addr);
	uint64_t end = addr + len, hi;

	for (; v < p->nr_vmas && p->vmas[v].start < end; v++) {
		if (p->vmas[v].end <= addr)
			continue;
		hi = p->vmas[v].end < end ? p->vmas[v].end : end;
		if (collapse_run(c, &p->vmas[v], addr, hi - addr))
			return -1;
		addr = hi;
	}
	return 0;
}

static int fill_all(struct restore_proc *c)
{
	struct small_fill *f = NULL;
	uint64_t len;
	uint32_t i, j;
	int ret = -1;

	if (advise_huge(c))
		return -1;
	for (i = 0; i < c->proc->nr_pages; i = j) {
		const struct img_pages *pg = c->proc->pages;

		for (j = i + 1; j < c->proc->nr_pages && !filled(c, &pg[j]) ==
		     !filled(c, &pg[i]) && pg[j].addr == pg[j - 1].addr +
		     pg[j - 1].nr_pages * c->run->host.page_size; j++)
			;
		if (!filled(c, &pg[i]))
			continue;	/* lazy.c's, on demand */
		len = pg[j - 1].addr - pg[i].addr +
		      pg[j - 1].nr_pages * c->run->host.page_size;
		if (collapse_runs(c, pg[i].addr, len) ||
		    populate(c, pg[i].addr, len))
			goto out;
		for (; i < j; i++) {
			if (pg[i].src) {
				if (restore_fill_parent(c, &pg[i]))
					goto out;
			} else if (pg[i].nr_pages * c->run->host.page_size <=
				   SMALL_RUN) {
				if (!f && (!(f = calloc(1, sizeof(*f))) ||
					   !(f->buf = malloc(SMALL_BUF)))) {
					pr_err("out of memory");
					goto out;
				}
				if (fill_small(c, f, &pg[i]))
					goto out;
			} else if (fill_pages(c, &pg[i])) {
				goto out;
			}
		}
	}
	if (f && small_flush(c, f))
		goto out;
	ret = c->run->lazy ? restore_lazy_add(c) : 0;
out:
	if (f)
		free(f->buf);
	free(f);
	return ret;
}

static const struct {
	uint32_t adv;
	int madv;
} advice_map[] = {
	{ IMG_ADV_DONTFORK, MADV_DONTFORK },
	{ IMG_ADV_DONTDUMP, MADV_DONTDUMP },
	{ IMG_ADV_HUGEPAGE, MADV_HUGEPAGE },
	{ IMG_ADV_NOHUGEPAGE, MADV_NOHUGEPAGE },
	{ IMG_ADV_WIPEONFORK, MADV_WIPEONFORK },
	{ IMG_ADV_RANDOM, MADV_RANDOM },
	{ IMG_ADV_SEQUENTIAL, MADV_SEQUENTIAL },
	{ IMG_ADV_MERGEABLE, MADV_MERGEABLE },
};

static int finish_vma(struct restore_proc *c, const struct img_vma *v)
{
	uint64_t len = v->end - v->start;
	size_t k;

	/* a System V attachment was made read-write or read-only */
	if ((restore_vma_has_pages(c, v) || is_sysv(c, v)) &&
	    rcall(c, 0, "protect memory", NULL, SYS_mprotect, v->start, len,
		  v->prot, 0, 0, 0))
		return -1;
	for (k = 0; k < ARRAY_SIZE(advice_map); k++)
		if ((v->advice & advice_map[k].adv) &&
		    rcall(c, 0, "advise memory", NULL, SYS_madvise, v->start,
			  len, advice_map[k].madv, 0, 0, 0))
			return -1;
	/* over what the fill left there: guard pages have no data */
	for (k = 0; k < v->nr_guards; k++)
		if (rcall(c, 0, "install a guard region", NULL, SYS_madvise,
			  v->guards[k].start,
			  v->guards[k].end - v->guards[k].start,
			  MADV_GUARD_INSTALL, 0, 0, 0))
			return -1;
	/* locked last, filled: MLOCK_ONFAULT locks what is there, mlock()
	 * faults in the rest, as it did; restore's CAP_IPC_LOCK still
	 * holds (the image's credentials come later) */
	if ((v->flags & IMG_VMA_LOCKED) &&
	    rcall(c, 0, "lock memory", NULL, SYS_mlock2, v->start, len,
		  v->flags & IMG_VMA_LOCKONFAULT ? MLOCK_ONFAULT : 0, 0, 0, 0))
		return -1;
	return 0;
}

static int set_mm(struct restore_proc *c)
{
	const struct img_proc *pp = &c->proc->proc;
	struct prctl_mm_map mm;
	uint64_t auxv = scratch(c) + sizeof(mm);
	size_t auxv_len = pp->nr_auxv * sizeof(uint64_t);
	char exe[64];
	long fd, r;
	int ret;

	if (sizeof(mm) + auxv_len > inject_scratch_len(c->ip)) {
		errno = E2BIG;
		return -1;
	}
	if (remote_open(c, restore_ghost_path(c->run, pp->exe, 0, exe,
					      sizeof(exe)), O_RDONLY, &fd) ||
	    fd < 0) {
		pr_err("can't open the executable %s", pp->exe);
		return -1;
	}
	memset(&mm, 0, sizeof(mm));
	mm.start_code = pp->mm.start_code;
	mm.end_code = pp->mm.end_code;
	mm.start_data = pp->mm.start_data;
	mm.end_data = pp->mm.end_data;
	mm.start_brk = pp->mm.start_brk;
	mm.brk = pp->mm.brk;
	mm.start_stack = pp->mm.start_stack;
	mm.arg_start = pp->mm.arg_start;
	mm.arg_end = pp->mm.arg_end;
	mm.env_start = pp->mm.env_start;
	mm.env_end = pp->mm.env_end;
	mm.auxv = (__u64 *)auxv;
	mm.auxv_size = auxv_len;
	mm.exe_fd = fd;
	if (inject_write(c->ip, scratch(c), &mm, sizeof(mm)) ||
	    (auxv_len && inject_write(c->ip, auxv, pp->auxv, auxv_len)))
		return -1;
	ret = rcall(c, 0, "set the mm fields", NULL, SYS_prctl, PR_SET_MM,
		    PR_SET_MM_MAP, scratch(c), sizeof(mm), 0, 0);
	if (inject_syscall(c->ip, 0, &r, SYS_close, fd, 0, 0, 0, 0, 0))
		ret = -1;
	return ret;
}

/*
 * The child inherited restore's rseq registration; once restore's TLS is
 * unmapped the kernel would fault writing to it on the next return to user
 * space. Unregister it first (the image's own is registered later).
 */
static int drop_rseq(struct restore_proc *c)
{
	struct {
		uint64_t ptr;
		uint32_t size, sig, flags, pad;
	} rc;

	memset(&rc, 0, sizeof(rc));
	if (ptrace(PTRACE_GET_RSEQ_CONFIGURATION, c->child, sizeof(rc),
		   &rc) < 0 || !rc.ptr)
		return 0;
	return rcall(c, 0, "unregister rseq", NULL, SYS_rseq, rc.ptr, rc.size,
		     RSEQ_FLAG_UNREGISTER, rc.sig, 0, 0);
}

int restore_mm(struct restore_proc *c)
{
	struct proc_map *m = NULL;
	uint32_t i;
	int n, ret = -1;

	n = proc_parse_maps(c->child, &m);
	if (n < 0) {
		pr_perror("can't read the maps of %d", c->child);
		return -1;
	}
	if (drop_rseq(c) || unmap_child(c, m, n) || move_vdso(c, m, n))
		goto out;
	if (index_pages(c) || attach_all_sysv(c))
		goto out;
	for (i = 0; i < c->proc->nr_vmas; i++) {
		const struct img_vma *v = &c->proc->vmas[i];

		if (!(v->flags & (IMG_VMA_VDSO | IMG_VMA_VVAR)) && map_vma(c, v))
			goto out;
	}
	if (fill_all(c))
		goto out;
	for (i = 0; i < c->proc->nr_vmas; i++) {
		const struct img_vma *v = &c->proc->vmas[i];

		if (!(v->flags & (IMG_VMA_VDSO | IMG_VMA_VVAR)) &&
		    finish_vma(c, v))
			goto out;
	}
	ret = set_mm(c);
out:
	proc_free_maps(m, n);
	free(c->vpages);
	c->vpages = NULL;
	return ret;
}
