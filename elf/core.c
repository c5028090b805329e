/*
 * elf/core: an ELF core file of an image, laid out as the kernel's
 * (fs/binfmt_elf.c) so that gdb reads it as it reads a real core:
 *
 *   Elf64_Ehdr  ET_CORE, this ISA's machine
 *   Elf64_Phdr  one PT_NOTE, then one PT_LOAD per mapping
 *   notes       NT_PRPSINFO, NT_AUXV, NT_FILE, then per thread (leader
 *               first) NT_PRSTATUS, NT_FPREGSET and the extended state
 *   segments    page aligned, one per PT_LOAD, in address order
 *
 * Every mapping's memory is in the core (p_filesz = p_memsz), except
 * [vvar], left out as the kernel leaves it, and the [vdso], which the
 * image does not hold: when the image was made under this kernel release
 * and this process's [vdso] has the same size, that is the same code
 * (restore relies on it too) and goes in the core; otherwise p_filesz is
 * 0 and gdb warns that it can't read the vdso's symbols.
 *
 * A file mapping gets its file's contents from the path at its offset,
 * then the pages the image holds on top (the process's private copies);
 * anonymous memory is the image's pages, with holes elsewhere that read
 * as zeros and take no disk space. A mapping of a shared memory object
 * gets the object's pages at its offset, then its own copies on top.
 * Copying the files (as gcore does) makes the core stand on its own once
 * written: gdb finds the text and the dynamic linker's structures in it,
 * whatever happens to the files.
 */
#include <sys/procfs.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "arch/arch.h"
#include "elf/core.h"

#define NOTE_ALIGN	4
#define COPY_CHUNK	(64 * 1024)

struct note_buf {
	uint8_t *data;
	size_t len, cap;
};

struct core_ctx {
	int img_fd;
	int out_fd;		/* the core file, written from offset 0 */
	const char *out_name;	/* its name in messages */
	const struct image *img;
	const struct img_process *p;
	uint64_t page_size;
	struct note_buf notes;
	Elf64_Phdr *phdrs;	/* [0] is PT_NOTE */
	const struct img_vma **load_vma;	/* VMA of phdrs[i], i >= 1 */
	uint32_t nr_phdrs;
	uint64_t size;		/* of the whole file */
	uint64_t vdso, vdso_size;	/* ours, when it can stand in */
};

static size_t align_up(size_t n, size_t a)
{
	return (n + a - 1) / a * a;
}

static int nb_reserve(struct note_buf *nb, size_t more)
{
	size_t cap = nb->cap ? nb->cap : 4096;
	uint8_t *d;

	while (cap < nb->len + more)
		cap *= 2;
	if (cap == nb->cap)
		return 0;
	d = realloc(nb->data, cap);
	if (!d) {
		pr_err("can't allocate %zu bytes for core notes", cap);
		return -1;
	}
	memset(d + nb->cap, 0, cap - nb->cap);
	nb->data = d;
	nb->cap = cap;
	return 0;
}

/* Append one note: header, name with its NUL, descriptor, each padded. */
static int __must_check nb_add(struct note_buf *nb, const char *name,
			       uint32_t type, const void *desc, size_t len)
{
	Elf64_Nhdr h = {
		.n_namesz = strlen(name) + 1,
		.n_descsz = len,
		.n_type = type,
	};
	size_t nlen = align_up(h.n_namesz, NOTE_ALIGN);

	if (len > UINT32_MAX || nb_reserve(nb, sizeof(h) + nlen +
				align_up(len, NOTE_ALIGN)))
		return -1;
	memcpy(nb->data + nb->len, &h, sizeof(h));
	nb->len += sizeof(h);
	memcpy(nb->data + nb->len, name, h.n_namesz);
	nb->len += nlen;
	memcpy(nb->data + nb->len, desc, len);
	nb->len += align_up(len, NOTE_ALIGN);
	return 0;
}

/* Copy [addr, addr + len) of the process from the image's pages; -1 if
 * some of it was not dumped. */
static int read_mem(const struct core_ctx *c, uint64_t addr, void *buf,
		    size_t len)
{
	const struct img_pages *pg;
	uint64_t end;
	uint32_t i;

	for (i = 0; i < c->p->nr_pages; i++) {
		pg = &c->p->pages[i];
		end = pg->addr + pg->nr_pages * c->page_size;
		if (addr >= pg->addr && addr + len <= end)
			return pread_full(img_chain_fd(c->img, pg, c->img_fd),
					  buf, len,
					  pg->data_off + (addr - pg->addr));
	}
	return -1;
}

/* The command line from the saved stack, as ps shows it; the executable's
 * path when the arguments are not in the image. */
static void get_psargs(const struct core_ctx *c, char *buf, size_t size)
{
	const struct img_mm *mm = &c->p->proc.mm;
	size_t len = mm->arg_end - mm->arg_start, i;

	if (mm->arg_end <= mm->arg_start)
		len = 0;
	if (len > size - 1)
		len = size - 1;
	if (!len || read_mem(c, mm->arg_start, buf, len)) {
		snprintf(buf, size, "%s", c->p->proc.exe ? c->p->proc.exe : "");
		return;
	}
	buf[len] = '\0';
	for (i = 0; i + 1 < len; i++)
		if (buf[i] == '\0')
			buf[i] = ' ';
}

static int add_prpsinfo(struct core_ctx *c)
{
	const struct img_proc *pr = &c->p->proc;
	struct elf_prpsinfo ps;

	memset(&ps, 0, sizeof(ps));
	ps.pr_sname = 'S';
	ps.pr_state = 1;
	ps.pr_uid = pr->uid;
	ps.pr_gid = pr->gid;
	ps.pr_pid = pr->pid;
	ps.pr_ppid = pr->ppid;
	ps.pr_pgrp = pr->pgid;
	ps.pr_sid = pr->sid;
	memcpy(ps.pr_fname, pr->comm, sizeof(ps.pr_fname));
	get_psargs(c, ps.pr_psargs, sizeof(ps.pr_psargs));
	return nb_add(&c->notes, "CORE", NT_PRPSINFO, &ps, sizeof(ps));
}

static int add_auxv(struct core_ctx *c)
{
	const struct img_proc *pr = &c->p->proc;

	if (!pr->nr_auxv)
		return 0;
	return nb_add(&c->notes, "CORE", NT_AUXV, pr->auxv,
		      pr->nr_auxv * sizeof(uint64_t));
}

/* NT_FILE: count, page size, (start, end, offset in pages) per file
 * mapping, then their paths, each NUL terminated. */
static int add_file_note(struct core_ctx *c)
{
	uint64_t *w = NULL, n = 0;
	size_t size = 2 * sizeof(uint64_t), k = 2;
	char *s;
	uint32_t i;
	int ret = -1;

	for (i = 0; i < c->p->nr_vmas; i++)
		if (c->p->vmas[i].flags & IMG_VMA_FILE && c->p->vmas[i].path) {
			n++;
			size += 3 * sizeof(uint64_t) +
				strlen(c->p->vmas[i].path) + 1;
		}
	w = calloc(1, size);
	if (!w) {
		pr_err("can't allocate %zu bytes for the file note", size);
		return -1;
	}
	w[0] = n;
	w[1] = c->page_size;
	s = (char *)(w + 2 + 3 * n);
	for (i = 0; i < c->p->nr_vmas; i++) {
		const struct img_vma *v = &c->p->vmas[i];

		if (!(v->flags & IMG_VMA_FILE) || !v->path)
			continue;
		w[k++] = v->start;
		w[k++] = v->end;
		w[k++] = v->pgoff / c->page_size;
		s = stpcpy(s, v->path) + 1;
	}
	ret = nb_add(&c->notes, "CORE", NT_FILE, w, size);
	free(w);
	return ret;
}

static int add_thread(struct core_ctx *c, const struct img_thread *t)
{
	uint8_t buf[1024];
	uint32_t xtype = arch_core_xstate_note();
	size_t len;

	len = arch_core_prstatus(&c->p->proc, t, buf, sizeof(buf));
	if (!len) {
		pr_err("can't make the registers of thread %d a core note",
		       t->tid);
		return -1;
	}
	if (nb_add(&c->notes, "CORE", NT_PRSTATUS, buf, len))
		return -1;
	len = arch_core_fpregset(t, buf, sizeof(buf));
	if (len && nb_add(&c->notes, "CORE", NT_FPREGSET, buf, len))
		return -1;
	/* the kernel names the extended state notes "LINUX" */
	if (xtype && t->xstate_len &&
	    nb_add(&c->notes, "LINUX", xtype, t->xstate, t->xstate_len))
		return -1;
	return 0;
}

/* The leader first: gdb takes the first NT_PRSTATUS as the current
 * thread, and so does the kernel's own core. */
static int add_threads(struct core_ctx *c)
{
	const struct img_process *p = c->p;
	uint32_t i;

	for (i = 0; i < p->nr_threads; i++)
		if (p->threads[i].tid == p->proc.pid &&
		    add_thread(c, &p->threads[i]))
			return -1;
	for (i = 0; i < p->nr_threads; i++)
		if (p->threads[i].tid != p->proc.pid &&
		    add_thread(c, &p->threads[i]))
			return -1;
	return 0;
}

static int build_notes(struct core_ctx *c)
{
	if (add_prpsinfo(c) || add_auxv(c) || add_file_note(c) ||
	    add_threads(c))
		return -1;
	return 0;
}

/* Our own [vdso] from /proc/self/maps, when the image was made under
 * this kernel release; otherwise vdso_size stays 0. */
static void find_vdso(struct core_ctx *c, const char *kernel)
{
	unsigned long long start, end;
	struct utsname u;
	char *maps, *line, *save = NULL;

	if (uname(&u) || strcmp(u.release, kernel))
		return;
	maps = read_file_str("/proc/self/maps", NULL);
	if (!maps)
		return;
	for (line = strtok_r(maps, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save)) {
		if (strstr(line, "[vdso]") &&
		    sscanf(line, "%llx-%llx", &start, &end) == 2) {
			c->vdso = start;
			c->vdso_size = end - start;
			break;
		}
	}
	free(maps);
}

static uint64_t vma_filesz(const struct core_ctx *c, const struct img_vma *v)
{
	if (v->flags & IMG_VMA_VDSO && v->end - v->start != c->vdso_size)
		return 0;
	return v->end - v->start;
}

static uint32_t vma_pflags(const struct img_vma *v)
{
	return (v->prot & 1 ? PF_R : 0) | (v->prot & 2 ? PF_W : 0) |
	       (v->prot & 4 ? PF_X : 0);
}

/* Program headers and file offsets: notes right after the headers, each
 * segment page aligned. */
static int layout(struct core_ctx *c)
{
	uint32_t i, n = 1;
	uint64_t off;

	c->phdrs = calloc(c->p->nr_vmas + 1, sizeof(*c->phdrs));
	c->load_vma = calloc(c->p->nr_vmas + 1, sizeof(*c->load_vma));
	if (!c->phdrs || !c->load_vma) {
		pr_err("can't allocate the core's program headers");
		return -1;
	}
	for (i = 0; i < c->p->nr_vmas; i++) {
		const struct img_vma *v = &c->p->vmas[i];

		if (v->flags & IMG_VMA_VVAR)
			continue;
		c->load_vma[n] = v;
		c->phdrs[n].p_type = PT_LOAD;
		c->phdrs[n].p_flags = vma_pflags(v);
		c->phdrs[n].p_vaddr = v->start;
		c->phdrs[n].p_memsz = v->end - v->start;
		c->phdrs[n].p_filesz = vma_filesz(c, v);
		c->phdrs[n].p_align = c->page_size;
		n++;
	}
	if (n >= PN_XNUM) {
		pr_err("too many mappings for a core file: %u", n);
		return -1;
	}
	c->nr_phdrs = n;
	off = sizeof(Elf64_Ehdr) + n * sizeof(Elf64_Phdr);
	c->phdrs[0].p_type = PT_NOTE;
	c->phdrs[0].p_offset = off;
	c->phdrs[0].p_filesz = c->notes.len;
	c->phdrs[0].p_align = NOTE_ALIGN;
	off = align_up(off + c->notes.len, c->page_size);
	for (i = 1; i < n; i++) {
		c->phdrs[i].p_offset = off;
		off += c->phdrs[i].p_filesz;
	}
	c->size = off;
	return 0;
}

static int write_at(struct core_ctx *c, const void *buf, size_t len,
		    uint64_t off)
{
	if (lseek(c->out_fd, off, SEEK_SET) < 0 ||
	    write_full(c->out_fd, buf, len)) {
		pr_perror("can't write %s", c->out_name);
		return -1;
	}
	return 0;
}

static int write_headers(struct core_ctx *c)
{
	Elf64_Ehdr eh;

	memset(&eh, 0, sizeof(eh));
	memcpy(eh.e_ident, ELFMAG, SELFMAG);
	eh.e_ident[EI_CLASS] = ELFCLASS64;
	eh.e_ident[EI_DATA] = ELFDATA2LSB;
	eh.e_ident[EI_VERSION] = EV_CURRENT;
	eh.e_ident[EI_OSABI] = ELFOSABI_NONE;
	eh.e_type = ET_CORE;
	eh.e_machine = arch_elf_machine();
	eh.e_version = EV_CURRENT;
	eh.e_phoff = sizeof(eh);
	eh.e_ehsize = sizeof(eh);
	eh.e_phentsize = sizeof(Elf64_Phdr);
	eh.e_phnum = c->nr_phdrs;
	if (write_at(c, &eh, sizeof(eh), 0) ||
	    write_at(c, c->phdrs, c->nr_phdrs * sizeof(Elf64_Phdr),
		     sizeof(eh)))
		return -1;
	return write_at(c, c->notes.data, c->notes.len, c->phdrs[0].p_offset);
}

static int is_zero(const uint8_t *buf, size_t len)
{
	return len == 0 || (buf[0] == 0 && !memcmp(buf, buf + 1, len - 1));
}

/* The file behind v from its offset, up to its end or the file's; zero
 * chunks are skipped to leave holes. A file that can't be read leaves
 * holes and a warning: gdb then still has the image's pages. */
static int copy_file(struct core_ctx *c, const struct img_vma *v,
		     uint64_t off, uint8_t *buf)
{
	uint64_t done = 0, len = v->end - v->start;
	ssize_t n = 0;
	int fd;

	fd = open(v->path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		pr_warn("can't open %s, its mapping at %#llx is left empty",
			v->path, (unsigned long long)v->start);
		return 0;
	}
	while (done < len) {
		n = pread(fd, buf, len - done < COPY_CHUNK ?
			  len - done : COPY_CHUNK, v->pgoff + done);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		if (!is_zero(buf, n) && write_at(c, buf, n, off + done)) {
			close(fd);
			return -1;
		}
		done += n;
	}
	if (n < 0)
		pr_warn("can't read %s, its mapping at %#llx is incomplete",
			v->path, (unsigned long long)v->start);
	close(fd);
	return 0;
}

/* The contents that do not come from the image: files and the vdso. */
static int copy_files(struct core_ctx *c, uint8_t *buf)
{
	const Elf64_Phdr *ph;
	uint32_t i;

	for (i = 1; i < c->nr_phdrs; i++) {
		const struct img_vma *v = c->load_vma[i];

		ph = &c->phdrs[i];
		if (!ph->p_filesz)
			continue;
		if (v->flags & IMG_VMA_VDSO &&
		    write_at(c, (const void *)(uintptr_t)c->vdso,
			     ph->p_filesz, ph->p_offset))
			return -1;
		if (v->flags & IMG_VMA_FILE && v->path &&
		    copy_file(c, v, ph->p_offset, buf))
			return -1;
	}
	return 0;
}

/* The part of run pg of a shared memory object that v maps, to the
 * core's segment of v at seg_off. */
static int copy_shm_run(struct core_ctx *c, const struct img_vma *v,
			const struct img_pages *pg, uint64_t seg_off,
			uint8_t *buf)
{
	uint64_t from = pg->addr, to = pg->addr + pg->nr_pages * c->page_size;
	uint64_t n;

	if (from < v->pgoff)
		from = v->pgoff;
	if (to > v->pgoff + (v->end - v->start))
		to = v->pgoff + (v->end - v->start);
	for (; from < to; from += n) {
		n = to - from < COPY_CHUNK ? to - from : COPY_CHUNK;
		if (pread_full(c->img_fd, buf, n,
			       pg->data_off + (from - pg->addr))) {
			pr_perror("can't read shared memory object %u of the image",
				  v->shm);
			return -1;
		}
		if (write_at(c, buf, n, seg_off + (from - v->pgoff)))
			return -1;
	}
	return 0;
}

static int copy_shms(struct core_ctx *c, uint8_t *buf)
{
	const struct img_shm_object *o;
	uint32_t i, k;

	for (i = 1; i < c->nr_phdrs; i++) {
		const struct img_vma *v = c->load_vma[i];

		if (!v->shm || !c->phdrs[i].p_filesz)
			continue;
		o = &c->img->shms[v->shm - 1];
		for (k = 0; k < o->nr_pages; k++)
			if (copy_shm_run(c, v, &o->pages[k],
					 c->phdrs[i].p_offset, buf))
				return -1;
	}
	return 0;
}

/* The file offset of addr in the core, or 0 when no segment holds it. */
static uint64_t core_offset(const struct core_ctx *c, uint64_t addr)
{
	const Elf64_Phdr *ph;
	uint32_t i;

	for (i = 1; i < c->nr_phdrs; i++) {
		ph = &c->phdrs[i];
		if (addr >= ph->p_vaddr && addr < ph->p_vaddr + ph->p_filesz)
			return ph->p_offset + (addr - ph->p_vaddr);
	}
	return 0;
}

static int copy_run(struct core_ctx *c, const struct img_pages *pg,
		    uint8_t *buf)
{
	uint64_t len = pg->nr_pages * c->page_size, done, n, off;

	off = core_offset(c, pg->addr);
	if (!off || core_offset(c, pg->addr + len - 1) != off + len - 1) {
		pr_warn("pages at %#llx are outside the core's segments",
			(unsigned long long)pg->addr);
		return 0;
	}
	for (done = 0; done < len; done += n) {
		n = len - done < COPY_CHUNK ? len - done : COPY_CHUNK;
		if (pread_full(img_chain_fd(c->img, pg, c->img_fd), buf, n,
			       pg->data_off + done)) {
			pr_perror("can't read the pages at %#llx of the image",
				  (unsigned long long)pg->addr);
			return -1;
		}
		if (write_at(c, buf, n, off + done))
			return -1;
	}
	return 0;
}

static int write_segments(struct core_ctx *c)
{
	uint8_t *buf = malloc(COPY_CHUNK);
	uint32_t i;
	int ret = -1;

	if (!buf) {
		pr_err("can't allocate a copy buffer");
		return -1;
	}
	/* files first: the image's pages are the process's own copies */
	if (copy_files(c, buf) || copy_shms(c, buf))
		goto out;
	for (i = 0; i < c->p->nr_pages; i++)
		if (copy_run(c, &c->p->pages[i], buf))
			goto out;
	/* the trailing segments may be all holes */
	if (ftruncate(c->out_fd, c->size)) {
		pr_perror("can't extend %s", c->out_name);
		goto out;
	}
	ret = 0;
out:
	free(buf);
	return ret;
}

static int write_core(struct core_ctx *c)
{
	if (build_notes(c) || layout(c) || write_headers(c) ||
	    write_segments(c))
		return -1;
	return 0;
}

int elf_write_core(int img_fd, const struct image *img, int out_fd,
		   const char *name)
{
	struct core_ctx c = { .img_fd = img_fd, .out_fd = out_fd,
			      .out_name = name };
	int ret = -1;

	if (!img->nr_procs || img->hdr.isa != arch_isa()) {
		pr_err("can't make a core of an image of %u processes of %s",
		       img->nr_procs, img_isa_name(img->hdr.isa));
		return -1;
	}
	if (img->nr_procs > 1)
		pr_warn("the core holds the first process of %u",
			img->nr_procs);
	c.img = img;
	c.p = &img->procs[0];
	c.page_size = img->hdr.page_size;
	find_vdso(&c, img->hdr.kernel);
	ret = write_core(&c);
	free(c.phdrs);
	free(c.load_vma);
	free(c.notes.data);
	return ret;
}
