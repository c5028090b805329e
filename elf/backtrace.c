/*
 * elf/backtrace.c: libunwind on an image. The address space is made of
 * our own accessors (as libunwind-coredump does for core files):
 *
 *   memory     a dumped page is read from the image; other pages of a
 *              file mapping from the file on this host at the mapping's
 *              offset (text and .eh_frame are never dumped: they are
 *              the file's); other anonymous pages read as zero, as
 *              untouched pages do; the vdso and vvar are not readable
 *   registers  the thread's words, numbered by arch_unw_reg()
 *   unwind     each object's .eh_frame_hdr search table, handed to
 *   tables     libunwind's dwarf_search_unwind_table as a remote table
 *
 * libunwind falls back to the frame pointer chain where it finds no
 * unwind information.
 */
#include <sys/types.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <gelf.h>
#include <libunwind.h>

#include "arch/arch.h"
#include "elf/backtrace.h"
#include "elf/elfsym.h"

/* Exported by libunwind-generic but declared in no public header; this
 * is what its coredump and ptrace accessors call. */
extern int UNW_OBJ(dwarf_search_unwind_table)(unw_addr_space_t as,
					      unw_word_t ip,
					      unw_dyn_info_t *di,
					      unw_proc_info_t *pi,
					      int need_unwind_info, void *arg);

#define BT_MAX_OBJS	128
#define EH_PE_OMIT	0xff
#define EH_PE_DATAREL_SDATA4	0x3b	/* the only table encoding in use */

/* An entry of a .eh_frame_hdr search table: the start of a function and
 * its FDE, relative to the table's segbase. */
struct eh_entry {
	int32_t start, fde;
};

/*
 * Objects without .eh_frame_hdr (static executables: gcc passes
 * --eh-frame-hdr to the linker only for dynamic ones) get a table we build
 * from .eh_frame. libunwind reads tables through access_mem, so each such
 * table is served at an address no process can map (above the 47-bit
 * user half): SYNTH_BASE + object index * 4 GiB.
 */
#define SYNTH_BASE	0xfff0000000000000ULL
#define SYNTH_SHIFT	32

/* One mapped file: its descriptor, symbols, load bias, unwind table. */
struct bt_obj {
	const char *path;	/* the image's string */
	int fd;			/* -1: could not be opened */
	struct elf_obj *syms;	/* NULL: not ELF */
	int has_bias;
	uint64_t bias;
	uint64_t start, end;	/* lowest and highest address mapped */
	int has_table;
	unw_dyn_info_t di;
	struct eh_entry *table;	/* built from .eh_frame, or NULL */
	size_t table_bytes;
};

struct bt_ctx {
	const struct bt_image *src;
	struct arch_regs regs;
	struct bt_obj objs[BT_MAX_OBJS];
	int nr_objs;
};

/* ---- the image's memory ---------------------------------------------- */

static const struct img_vma *vma_at(const struct img_process *p,
				    uint64_t addr)
{
	uint32_t lo = 0, hi = p->nr_vmas;

	/* the reader checked that VMAs are sorted and disjoint */
	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;
		const struct img_vma *v = &p->vmas[mid];

		if (addr < v->start)
			hi = mid;
		else if (addr >= v->end)
			lo = mid + 1;
		else
			return v;
	}
	return NULL;
}

static const struct img_pages *pages_at(const struct bt_image *src,
					uint64_t addr)
{
	uint32_t i;

	for (i = 0; i < src->p->nr_pages; i++) {
		const struct img_pages *pg = &src->p->pages[i];

		if (addr >= pg->addr &&
		    addr - pg->addr < pg->nr_pages * src->page_size)
			return pg;
	}
	return NULL;
}

static struct bt_obj *obj_get(struct bt_ctx *c, const char *path);

/* Bytes of one page of the image's address space. */
static int read_in_page(struct bt_ctx *c, uint64_t addr, void *buf,
			size_t len)
{
	const struct img_pages *pg = pages_at(c->src, addr);
	const struct img_vma *v;
	struct bt_obj *o;

	if (pg)
		return pread_full(c->src->img ? img_chain_fd(c->src->img, pg,
							     c->src->fd) :
			  (pg->src ? -1 : c->src->fd), buf, len,
			  pg->data_off + (addr - pg->addr));
	v = vma_at(c->src->p, addr);
	if (!v || (v->flags & (IMG_VMA_VDSO | IMG_VMA_VVAR)))
		return -1;
	if (!(v->flags & IMG_VMA_FILE)) {
		memset(buf, 0, len);
		return 0;
	}
	o = v->path ? obj_get(c, v->path) : NULL;
	if (!o || o->fd < 0)
		return -1;
	return pread_full(o->fd, buf, len, v->pgoff + (addr - v->start));
}

/* Bytes of a table built from .eh_frame; zeros past its end, since
 * libunwind reads whole aligned words. */
static int read_synth(struct bt_ctx *c, uint64_t addr, void *buf,
		      size_t len)
{
	uint64_t idx = (addr - SYNTH_BASE) >> SYNTH_SHIFT;
	uint64_t off = addr & ((1ULL << SYNTH_SHIFT) - 1);
	const struct bt_obj *o;
	size_t n = 0;

	if (idx >= (uint64_t)c->nr_objs || !c->objs[idx].table)
		return -1;
	o = &c->objs[idx];
	if (off < o->table_bytes)
		n = o->table_bytes - off < len ? o->table_bytes - off : len;
	memcpy(buf, (const char *)o->table + off, n);
	memset((char *)buf + n, 0, len - n);
	return 0;
}

static int read_mem(struct bt_ctx *c, uint64_t addr, void *buf, size_t len)
{
	uint64_t ps = c->src->page_size;
	char *b = buf;

	if (addr >= SYNTH_BASE)
		return read_synth(c, addr, buf, len);
	while (len) {
		size_t n = ps - addr % ps;

		if (n > len)
			n = len;
		if (read_in_page(c, addr, b, n))
			return -1;
		addr += n;
		b += n;
		len -= n;
	}
	return 0;
}

/* ---- objects ----------------------------------------------------------- */

/* Bytes taken by a DW_EH_PE_* value; 0 for one we do not handle. */
static size_t eh_pe_size(uint8_t enc)
{
	switch (enc & 0x0f) {
	case 0x00:		/* absptr */
	case 0x04:		/* udata8 */
	case 0x0c:		/* sdata8 */
		return 8;
	case 0x03:		/* udata4 */
	case 0x0b:		/* sdata4 */
		return 4;
	case 0x02:		/* udata2 */
	case 0x0a:		/* sdata2 */
		return 2;
	default:
		return 0;
	}
}

/*
 * The .eh_frame_hdr of o (PT_GNU_EH_FRAME): version, three encodings,
 * the .eh_frame pointer, the FDE count, then the sorted table of
 * (initial location, FDE) pairs, both relative to the header. libunwind
 * reads the table itself through access_mem.
 */
static int load_table_phdr(struct bt_obj *o, const GElf_Phdr *ph)
{
	uint8_t hdr[4 + 8 + 8];
	uint64_t count = 0;
	size_t psz, csz;

	if (pread_full(o->fd, hdr, sizeof(hdr), ph->p_offset))
		return -1;
	psz = eh_pe_size(hdr[1]);
	csz = eh_pe_size(hdr[2]);
	if (hdr[0] != 1 || hdr[3] != EH_PE_DATAREL_SDATA4 || !psz || !csz ||
	    hdr[2] == EH_PE_OMIT || (hdr[2] & 0x70))
		return -1;
	memcpy(&count, hdr + 4 + psz, csz);	/* little endian */
	memset(&o->di, 0, sizeof(o->di));
	o->di.format = UNW_INFO_FORMAT_REMOTE_TABLE;
	o->di.start_ip = o->start;
	o->di.end_ip = o->end;
	o->di.u.rti.segbase = o->bias + ph->p_vaddr;
	o->di.u.rti.table_data = o->di.u.rti.segbase + 4 + psz + csz;
	/* in words: two 32-bit offsets per entry */
	o->di.u.rti.table_len = count * 8 / sizeof(unw_word_t);
	o->has_table = 1;
	return 0;
}

/* ---- .eh_frame without its header ------------------------------------ */

/* A section's bytes and its link-time address, for the parsers below. */
struct eh_sec {
	const uint8_t *d;
	size_t len;
	uint64_t addr;
};

static int eh_uleb(const struct eh_sec *s, size_t *off, uint64_t *v)
{
	unsigned int shift = 0;

	*v = 0;
	while (*off < s->len && shift < 64) {
		uint8_t b = s->d[(*off)++];

		*v |= (uint64_t)(b & 0x7f) << shift;
		shift += 7;
		if (!(b & 0x80))
			return 0;
	}
	return -1;
}

/* A DW_EH_PE_* encoded pointer at *off: absolute or pc-relative only. */
static int eh_ptr(const struct eh_sec *s, size_t *off, uint8_t enc,
		  uint64_t *v)
{
	size_t sz = eh_pe_size(enc);
	int64_t sv;

	if (!sz || *off + sz > s->len || (enc & 0x70) > 0x10)
		return -1;
	*v = 0;
	memcpy(v, s->d + *off, sz);	/* little endian */
	if ((enc & 0x08) && sz < 8) {	/* signed: extend */
		sv = (int64_t)(*v << (64 - 8 * sz)) >> (64 - 8 * sz);
		*v = sv;
	}
	if ((enc & 0x70) == 0x10)
		*v += s->addr + *off;
	*off += sz;
	return 0;
}

/* The pointer encoding of the FDEs of the CIE at off: its 'R'. */
static int eh_cie_enc(const struct eh_sec *s, size_t off, uint8_t *enc)
{
	const char *aug;
	uint64_t skip;
	uint8_t version;
	size_t i;

	off += 8;			/* length, CIE id 0 */
	if (off + 1 >= s->len)
		return -1;
	version = s->d[off++];
	aug = (const char *)s->d + off;
	off += strnlen(aug, s->len - off) + 1;
	if (version >= 4)
		off += 2;		/* address and segment size */
	if (eh_uleb(s, &off, &skip) || eh_uleb(s, &off, &skip))
		return -1;		/* code and data alignment */
	if (version == 1)
		off++;
	else if (eh_uleb(s, &off, &skip))
		return -1;
	*enc = 0;			/* absptr */
	if (aug[0] != 'z' || eh_uleb(s, &off, &skip))
		return 0;
	for (i = 1; aug[i] && off < s->len; i++) {
		if (aug[i] == 'R') {
			*enc = s->d[off++];
		} else if (aug[i] == 'L') {
			off++;
		} else if (aug[i] == 'P') {
			uint8_t penc = s->d[off++];

			if (eh_ptr(s, &off, penc & 0x7f, &skip))
				return -1;
		} else if (aug[i] != 'S' && aug[i] != 'B') {
			break;
		}
	}
	return 0;
}

static int eh_entry_cmp(const void *a, const void *b)
{
	const struct eh_entry *x = a, *y = b;

	return (x->start > y->start) - (x->start < y->start);
}

/* Append the FDE at off, whose CIE pointer is id, to t[*n]. */
static void eh_add_fde(const struct eh_sec *s, size_t off, uint32_t id,
		       struct eh_entry *t, size_t *n)
{
	size_t p = off + 8;
	uint64_t pc;
	int64_t rel;
	uint8_t enc;

	if (id > off + 4 || eh_cie_enc(s, off + 4 - id, &enc) ||
	    eh_ptr(s, &p, enc, &pc))
		return;
	rel = (int64_t)(pc - s->addr);
	if (rel < INT32_MIN || rel > INT32_MAX || !pc)
		return;
	t[*n].start = rel;
	t[*n].fde = off;
	(*n)++;
}

/* The sorted search table of all FDEs of .eh_frame, relative to its
 * start; NULL when there is none. */
static struct eh_entry *eh_build(const struct eh_sec *s, size_t *nr)
{
	struct eh_entry *t;
	size_t off, next, n = 0;
	uint32_t l32, id;

	t = malloc((s->len / 16 + 1) * sizeof(*t));	/* FDE >= 16 bytes */
	if (!t || s->len > INT32_MAX)
		goto err;
	for (off = 0; off + 8 <= s->len; off = next) {
		memcpy(&l32, s->d + off, 4);
		memcpy(&id, s->d + off + 4, 4);
		if (!l32 || l32 == 0xffffffff)	/* end, or 64-bit DWARF */
			break;
		next = off + 4 + (size_t)l32;
		if (next > s->len)
			break;
		if (id)
			eh_add_fde(s, off, id, t, &n);
	}
	if (!n)
		goto err;
	qsort(t, n, sizeof(*t), eh_entry_cmp);
	*nr = n;
	return t;
err:
	free(t);
	return NULL;
}

/* The search table of o built from its .eh_frame section, served by
 * read_synth at the address of object number idx. */
static int load_table_sec(struct bt_obj *o, int idx, Elf *e)
{
	struct eh_sec s;
	Elf_Scn *scn = NULL;
	Elf_Data *d;
	GElf_Shdr sh;
	size_t shstrndx, n;
	const char *name;

	if (elf_getshdrstrndx(e, &shstrndx))
		return -1;
	while ((scn = elf_nextscn(e, scn))) {
		if (!gelf_getshdr(scn, &sh))
			continue;
		name = elf_strptr(e, shstrndx, sh.sh_name);
		if (name && !strcmp(name, ".eh_frame") &&
		    sh.sh_type == SHT_PROGBITS)
			break;
	}
	d = scn ? elf_getdata(scn, NULL) : NULL;
	if (!d || !d->d_buf)
		return -1;
	s = (struct eh_sec){ .d = d->d_buf, .len = d->d_size,
			     .addr = sh.sh_addr };
	o->table = eh_build(&s, &n);
	if (!o->table)
		return -1;
	o->table_bytes = n * sizeof(*o->table);
	memset(&o->di, 0, sizeof(o->di));
	o->di.format = UNW_INFO_FORMAT_REMOTE_TABLE;
	o->di.start_ip = o->start;
	o->di.end_ip = o->end;
	o->di.u.rti.segbase = o->bias + sh.sh_addr;
	o->di.u.rti.table_data = SYNTH_BASE + ((uint64_t)idx << SYNTH_SHIFT);
	o->di.u.rti.table_len = o->table_bytes / sizeof(unw_word_t);
	o->has_table = 1;
	return 0;
}

static void load_table(struct bt_obj *o, int idx)
{
	size_t i, n;
	GElf_Phdr ph;
	Elf *e;

	if (elf_version(EV_CURRENT) == EV_NONE)
		return;
	e = elf_begin(o->fd, ELF_C_READ, NULL);
	if (!e)
		return;
	if (elf_kind(e) != ELF_K_ELF || elf_getphdrnum(e, &n))
		goto out;
	for (i = 0; i < n; i++) {
		if (gelf_getphdr(e, i, &ph) && ph.p_type == PT_GNU_EH_FRAME) {
			if (load_table_phdr(o, &ph))
				pr_debug("%s: unusable .eh_frame_hdr", o->path);
			goto out;
		}
	}
	if (load_table_sec(o, idx, e))
		pr_debug("%s: no usable .eh_frame", o->path);
out:
	elf_end(e);
}

/* The bias, from the first mapping of o that starts a PT_LOAD, and the
 * range of addresses o is mapped at. */
static void obj_place(struct bt_ctx *c, struct bt_obj *o)
{
	const struct img_process *p = c->src->p;
	uint32_t i;

	for (i = 0; i < p->nr_vmas; i++) {
		const struct img_vma *v = &p->vmas[i];

		if (!(v->flags & IMG_VMA_FILE) || !v->path ||
		    strcmp(v->path, o->path))
			continue;
		if (!o->start || v->start < o->start)
			o->start = v->start;
		if (v->end > o->end)
			o->end = v->end;
		if (o->syms && !o->has_bias &&
		    !elf_obj_bias(o->syms, v->start, v->pgoff, &o->bias))
			o->has_bias = 1;
	}
}

static struct bt_obj *obj_get(struct bt_ctx *c, const char *path)
{
	struct bt_obj *o;
	int i;

	for (i = 0; i < c->nr_objs; i++)
		if (!strcmp(c->objs[i].path, path))
			return &c->objs[i];
	if (c->nr_objs == BT_MAX_OBJS)
		return NULL;
	o = &c->objs[c->nr_objs++];
	o->path = path;
	o->fd = open(path, O_RDONLY | O_CLOEXEC);
	if (o->fd < 0) {
		pr_debug("can't open %s for the backtrace: %m", path);
		return o;
	}
	o->syms = elf_obj_open_fd(o->fd);
	obj_place(c, o);
	if (o->has_bias)
		load_table(o, c->nr_objs - 1);
	return o;
}

/* The object mapped at addr, or NULL. */
static struct bt_obj *obj_at(struct bt_ctx *c, uint64_t addr)
{
	const struct img_vma *v = vma_at(c->src->p, addr);

	if (!v || !(v->flags & IMG_VMA_FILE) || !v->path)
		return NULL;
	return obj_get(c, v->path);
}

static void ctx_free(struct bt_ctx *c)
{
	int i;

	for (i = 0; i < c->nr_objs; i++) {
		if (c->objs[i].syms)
			elf_obj_close(c->objs[i].syms);
		if (c->objs[i].fd >= 0)
			close(c->objs[i].fd);
		free(c->objs[i].table);
	}
	free(c);
}

/* strlcpy: dst always terminated, src cut if too long */
static void copy_str(char *dst, size_t size, const char *src)
{
	size_t n = strnlen(src, size - 1);

	memcpy(dst, src, n);
	dst[n] = '\0';
}

/* Name addr (which lies in the call or instruction of the frame) in f. */
static void symbolize(struct bt_ctx *c, uint64_t addr, struct bt_frame *f)
{
	const struct img_vma *v = vma_at(c->src->p, addr);
	struct elf_sym_result r;
	struct bt_obj *o;

	f->name[0] = f->object[0] = '\0';
	f->offset = 0;
	if (v && (v->flags & IMG_VMA_VDSO)) {
		copy_str(f->object, sizeof(f->object), "[vdso]");
		return;
	}
	o = obj_at(c, addr);
	if (!o)
		return;
	copy_str(f->object, sizeof(f->object), o->path);
	if (!o->syms || !o->has_bias ||
	    elf_obj_addr(o->syms, o->bias, addr, &r))
		return;
	copy_str(f->name, sizeof(f->name), r.name);
	f->offset = f->pc - r.addr;
}

/* ---- libunwind accessors ---------------------------------------------- */

static int acc_find_proc_info(unw_addr_space_t as, unw_word_t ip,
			      unw_proc_info_t *pi, int need_unwind_info,
			      void *arg)
{
	struct bt_obj *o = obj_at(arg, ip);

	if (!o || !o->has_table || ip < o->di.start_ip || ip >= o->di.end_ip)
		return -UNW_ENOINFO;
	return UNW_OBJ(dwarf_search_unwind_table)(as, ip, &o->di, pi,
						  need_unwind_info, arg);
}

/* Only called for dynamic unwind information (pi_is_dynamic), which
 * get_dyn_info_list_addr never provides: the DWARF case frees its own. */
static void acc_put_unwind_info(unw_addr_space_t as, unw_proc_info_t *pi,
				void *arg)
{
	(void)as;
	(void)pi;
	(void)arg;
}

static int acc_get_dyn_info_list_addr(unw_addr_space_t as,
				      unw_word_t *addr, void *arg)
{
	(void)as;
	(void)addr;
	(void)arg;
	return -UNW_ENOINFO;
}

static int acc_access_mem(unw_addr_space_t as, unw_word_t addr,
			  unw_word_t *val, int write, void *arg)
{
	(void)as;
	if (write || read_mem(arg, addr, val, sizeof(*val)))
		return -UNW_EINVAL;
	return 0;
}

static int acc_access_reg(unw_addr_space_t as, unw_regnum_t reg,
			  unw_word_t *val, int write, void *arg)
{
	struct bt_ctx *c = arg;
	uint64_t v;

	(void)as;
	if (write)
		return -UNW_EREADONLYREG;
	if (arch_unw_reg(&c->regs, reg, &v))
		return -UNW_EBADREG;
	*val = v;
	return 0;
}

static int acc_access_fpreg(unw_addr_space_t as, unw_regnum_t reg,
			    unw_fpreg_t *val, int write, void *arg)
{
	(void)as;
	(void)reg;
	(void)val;
	(void)write;
	(void)arg;
	return -UNW_EBADREG;
}

static int acc_resume(unw_addr_space_t as, unw_cursor_t *cur, void *arg)
{
	(void)as;
	(void)cur;
	(void)arg;
	return -UNW_EINVAL;
}

static int acc_get_proc_name(unw_addr_space_t as, unw_word_t addr,
			     char *buf, size_t len, unw_word_t *off, void *arg)
{
	struct bt_frame f = { .pc = addr };

	(void)as;
	symbolize(arg, addr, &f);
	if (!f.name[0])
		return -UNW_ENOINFO;
	if (!len)
		return -UNW_ENOMEM;
	copy_str(buf, len, f.name);
	*off = f.offset;
	return strlen(f.name) < len ? 0 : -UNW_ENOMEM;
}

static unw_accessors_t accessors = {
	.find_proc_info = acc_find_proc_info,
	.put_unwind_info = acc_put_unwind_info,
	.get_dyn_info_list_addr = acc_get_dyn_info_list_addr,
	.access_mem = acc_access_mem,
	.access_reg = acc_access_reg,
	.access_fpreg = acc_access_fpreg,
	.resume = acc_resume,
	.get_proc_name = acc_get_proc_name,
};

/* ---- the walk ---------------------------------------------------------- */

static void add_frame(struct bt_ctx *c, struct bt_frame *f, uint64_t pc,
		      uint64_t sp, int after_call)
{
	f->pc = pc;
	f->sp = sp;
	/* a return address may be the first byte of the next function
	 * when the call was the last instruction (noreturn callees) */
	symbolize(c, after_call ? pc - 1 : pc, f);
}

static int walk(struct bt_ctx *c, unw_addr_space_t as,
		struct bt_frame *frames, int max)
{
	unw_word_t ip, sp;
	unw_cursor_t cur;
	int n = 0;

	if (unw_init_remote(&cur, as, c) < 0)
		return 0;
	while (n < max) {
		if (unw_get_reg(&cur, UNW_REG_IP, &ip) < 0 ||
		    unw_get_reg(&cur, UNW_REG_SP, &sp) < 0 || !ip)
			break;
		add_frame(c, &frames[n], ip, sp,
			  n > 0 && unw_is_signal_frame(&cur) <= 0);
		n++;
		if (unw_step(&cur) <= 0)
			break;
	}
	return n;
}

int elf_backtrace(const struct bt_image *src, const struct img_thread *t,
		  struct bt_frame *frames, int max)
{
	unw_addr_space_t as;
	struct bt_ctx *c;
	int n;

	if (max < 1 || t->regs_isa != arch_isa() ||
	    t->nr_regs != arch_regs_nr_words() || !src->page_size) {
		errno = EINVAL;
		return -1;
	}
	c = calloc(1, sizeof(*c));
	if (!c)
		return -1;
	c->src = src;
	arch_regs_from_words(&c->regs, t->regs);
	n = 0;
	as = unw_create_addr_space(&accessors, 0);
	if (as) {
		unw_set_caching_policy(as, UNW_CACHE_NONE);
		n = walk(c, as, frames, max);
		unw_destroy_addr_space(as);
	}
	/* libunwind could not even start: the thread's own pc */
	if (!n) {
		add_frame(c, &frames[0], arch_regs_ip(&c->regs),
			  arch_regs_sp(&c->regs), 0);
		n = 1;
	}
	ctx_free(c);
	return n;
}
