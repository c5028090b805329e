/*
 * elf/elfsym.c: symbols of one ELF object, read with libelf. The object
 * comes from a file or from memory; lookups are given its load bias, so
 * nothing here knows where the object is mapped or in which process.
 *
 * Symbol tables: .dynsym, with its versions (.gnu.version holds one
 * version index per symbol, .gnu.version_d names the indices), and
 * .symtab when present (static executables, unstripped objects), which
 * has no versions of its own but keeps "name@VER" / "name@@VER" names for
 * symbols defined with .symver.
 */
#include <sys/types.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <gelf.h>

#include "elf/elfsym.h"

struct sym_table {
	Elf_Data *data;
	size_t strndx;		/* section of its names */
	size_t count;
	int dynamic;		/* .dynsym: versions apply */
};

struct elf_obj {
	Elf *elf;
	int fd;			/* ours (a dup), or -1 */
	void *mem;		/* ours, or NULL */
	GElf_Ehdr ehdr;
	struct sym_table symtab, dynsym;
	Elf_Data *versym;	/* .gnu.version, or NULL */
	const char **vernames;	/* version index -> name, from verdef */
	size_t nr_vernames;
};

/* What a candidate symbol looks like once its table is taken into account:
 * its base name and version, and whether that version is the default. */
struct sym_view {
	GElf_Sym sym;
	const char *base;	/* not terminated at base_len: "name@VER" */
	size_t base_len;
	const char *version;	/* NULL: unversioned */
	int hidden;		/* a non-default version */
};

static int libelf_ready(void)
{
	static int ready;

	if (!ready && elf_version(EV_CURRENT) == EV_NONE) {
		errno = ENOSYS;
		return -1;
	}
	ready = 1;
	return 0;
}

/* Make room for version index ndx in o->vernames. */
static int grow_vernames(struct elf_obj *o, size_t ndx)
{
	const char **nv;

	if (ndx < o->nr_vernames)
		return 0;
	nv = realloc(o->vernames, (ndx + 1) * sizeof(*nv));
	if (!nv)
		return -1;
	memset(nv + o->nr_vernames, 0,
	       (ndx + 1 - o->nr_vernames) * sizeof(*nv));
	o->vernames = nv;
	o->nr_vernames = ndx + 1;
	return 0;
}

/* .gnu.version_d: each definition's index and name (its first aux). */
static int load_verdef(struct elf_obj *o, Elf_Scn *scn, GElf_Shdr *sh)
{
	Elf_Data *d = elf_getdata(scn, NULL);
	size_t off = 0, i;
	GElf_Verdef vd;
	GElf_Verdaux va;

	for (i = 0; d && i < sh->sh_info; i++) {
		if (!gelf_getverdef(d, off, &vd) ||
		    !gelf_getverdaux(d, off + vd.vd_aux, &va))
			break;
		if (grow_vernames(o, vd.vd_ndx))
			return -1;
		o->vernames[vd.vd_ndx] = elf_strptr(o->elf, sh->sh_link,
						    va.vda_name);
		if (!vd.vd_next)
			break;
		off += vd.vd_next;
	}
	return 0;
}

static void load_table(struct sym_table *t, Elf_Scn *scn, GElf_Shdr *sh,
		       int dynamic)
{
	t->data = elf_getdata(scn, NULL);
	t->strndx = sh->sh_link;
	t->count = sh->sh_entsize ? sh->sh_size / sh->sh_entsize : 0;
	t->dynamic = dynamic;
	if (!t->data)
		t->count = 0;
}

static int load_sections(struct elf_obj *o)
{
	Elf_Scn *scn = NULL;
	GElf_Shdr sh;

	while ((scn = elf_nextscn(o->elf, scn))) {
		if (!gelf_getshdr(scn, &sh))
			continue;
		switch (sh.sh_type) {
		case SHT_SYMTAB:
			load_table(&o->symtab, scn, &sh, 0);
			break;
		case SHT_DYNSYM:
			load_table(&o->dynsym, scn, &sh, 1);
			break;
		case SHT_GNU_versym:
			o->versym = elf_getdata(scn, NULL);
			break;
		case SHT_GNU_verdef:
			if (load_verdef(o, scn, &sh))
				return -1;
			break;
		}
	}
	return 0;
}

static struct elf_obj *obj_finish(struct elf_obj *o)
{
	if (!o->elf || elf_kind(o->elf) != ELF_K_ELF ||
	    !gelf_getehdr(o->elf, &o->ehdr)) {
		elf_obj_close(o);
		errno = ENOEXEC;
		return NULL;
	}
	if (load_sections(o)) {
		elf_obj_close(o);
		errno = ENOMEM;
		return NULL;
	}
	return o;
}

struct elf_obj *elf_obj_open_fd(int fd)
{
	struct elf_obj *o;

	if (libelf_ready())
		return NULL;
	o = calloc(1, sizeof(*o));
	if (!o)
		return NULL;
	o->fd = fcntl(fd, F_DUPFD_CLOEXEC, 0);
	if (o->fd < 0) {
		free(o);
		return NULL;
	}
	o->elf = elf_begin(o->fd, ELF_C_READ_MMAP, NULL);
	return obj_finish(o);
}

struct elf_obj *elf_obj_open_mem(const void *buf, size_t len)
{
	struct elf_obj *o;

	if (libelf_ready())
		return NULL;
	o = calloc(1, sizeof(*o));
	if (!o)
		return NULL;
	o->fd = -1;
	o->mem = malloc(len ? len : 1);
	if (!o->mem) {
		free(o);
		return NULL;
	}
	memcpy(o->mem, buf, len);
	o->elf = elf_memory(o->mem, len);
	return obj_finish(o);
}

void elf_obj_close(struct elf_obj *o)
{
	if (!o)
		return;
	if (o->elf)
		elf_end(o->elf);
	if (o->fd >= 0)
		close(o->fd);
	free(o->vernames);
	free(o->mem);
	free(o);
}

int elf_obj_bias(const struct elf_obj *o, uint64_t map_start,
		 uint64_t pgoff, uint64_t *bias)
{
	uint64_t mask = ~((uint64_t)sysconf(_SC_PAGESIZE) - 1);
	size_t i, n;
	GElf_Phdr ph;

	if (o->ehdr.e_type == ET_EXEC) {
		*bias = 0;
		return 0;
	}
	if (elf_getphdrnum(o->elf, &n))
		n = 0;
	for (i = 0; i < n; i++) {
		if (!gelf_getphdr(o->elf, i, &ph) || ph.p_type != PT_LOAD)
			continue;
		if ((ph.p_offset & mask) == pgoff) {
			*bias = map_start - (ph.p_vaddr & mask);
			return 0;
		}
	}
	errno = ENOENT;
	return -1;
}

/* Symbol i of t as seen by a lookup; 0, or -1 for a symbol no lookup
 * wants (undefined, absolute, a section or file name, TLS). */
static int view_sym(const struct elf_obj *o, const struct sym_table *t,
		    size_t i, struct sym_view *v)
{
	const char *name, *at;
	GElf_Versym vs;
	int type;

	if (!gelf_getsym(t->data, i, &v->sym))
		return -1;
	type = GELF_ST_TYPE(v->sym.st_info);
	if (v->sym.st_shndx == SHN_UNDEF || v->sym.st_shndx == SHN_ABS ||
	    type == STT_SECTION || type == STT_FILE || type == STT_TLS)
		return -1;
	name = elf_strptr(o->elf, t->strndx, v->sym.st_name);
	if (!name || !*name)
		return -1;
	v->version = NULL;
	v->hidden = 0;
	v->base = name;
	at = strchr(name, '@');
	if (at) {
		/* .symtab keeps "name@VER" (hidden) and "name@@VER" */
		v->base_len = at - name;
		v->hidden = at[1] != '@';
		v->version = at + (v->hidden ? 1 : 2);
		return 0;
	}
	v->base_len = strlen(name);
	if (!t->dynamic || !o->versym || !gelf_getversym(o->versym, i, &vs))
		return 0;
	v->hidden = !!(vs & 0x8000);
	vs &= 0x7fff;
	/* 0 is local, 1 the object's base version: both unversioned */
	if (vs >= 2 && vs < o->nr_vernames)
		v->version = o->vernames[vs];
	return 0;
}

static int bind_rank(const GElf_Sym *s)
{
	switch (GELF_ST_BIND(s->st_info)) {
	case STB_GLOBAL:
	case STB_GNU_UNIQUE:
		return 0;
	case STB_WEAK:
		return 1;
	default:
		return 2;
	}
}

/*
 * How well v answers a lookup of name@version, lower is better, -1 for
 * not at all. Without a version: a default or unversioned global first,
 * then a local one (.symtab), then a hidden version.
 */
static int name_rank(const struct sym_view *v, const char *name,
		     const char *version)
{
	if (strncmp(v->base, name, v->base_len) || name[v->base_len])
		return -1;
	if (version)
		return v->version && !strcmp(v->version, version) ?
		       bind_rank(&v->sym) : -1;
	return (v->hidden ? 3 : 0) + bind_rank(&v->sym);
}

static void fill_result(const struct sym_view *v, uint64_t bias,
			struct elf_sym_result *r)
{
	int n;

	r->addr = bias + v->sym.st_value;
	r->size = v->sym.st_size;
	r->ifunc = GELF_ST_TYPE(v->sym.st_info) == STT_GNU_IFUNC;
	r->offset = 0;
	/* a longer name (C++) is cut: it is for people to read */
	if (v->hidden && v->version)
		n = snprintf(r->name, sizeof(r->name), "%.*s@%s",
			     (int)v->base_len, v->base, v->version);
	else
		n = snprintf(r->name, sizeof(r->name), "%.*s",
			     (int)v->base_len, v->base);
	if (n < 0)
		r->name[0] = '\0';
}

static void lookup_table(const struct elf_obj *o, const struct sym_table *t,
			 const char *name, const char *version,
			 struct sym_view *best, int *best_rank)
{
	struct sym_view v;
	size_t i;
	int rank;

	for (i = 0; i < t->count; i++) {
		if (view_sym(o, t, i, &v))
			continue;
		rank = name_rank(&v, name, version);
		if (rank >= 0 && (*best_rank < 0 || rank < *best_rank)) {
			*best = v;
			*best_rank = rank;
		}
	}
}

int elf_obj_lookup(const struct elf_obj *o, uint64_t bias, const char *name,
		   const char *version, struct elf_sym_result *r)
{
	struct sym_view best;
	int rank = -1;

	lookup_table(o, &o->dynsym, name, version, &best, &rank);
	if (rank != 0)
		lookup_table(o, &o->symtab, name, version, &best, &rank);
	if (rank < 0) {
		errno = ENOENT;
		return -1;
	}
	fill_result(&best, bias, r);
	return 0;
}

static int leading_underscores(const char *s)
{
	int n = 0;

	while (s[n] == '_')
		n++;
	return n;
}

/*
 * Of two symbols at the same address (aliases such as nanosleep and
 * __nanosleep), the one to report: fewer leading underscores (the public
 * name), then the stronger binding, then the default version.
 */
static int alias_better(const struct sym_view *a, const struct sym_view *b)
{
	int ua = leading_underscores(a->base);
	int ub = leading_underscores(b->base);

	if (ua != ub)
		return ua < ub;
	if (bind_rank(&a->sym) != bind_rank(&b->sym))
		return bind_rank(&a->sym) < bind_rank(&b->sym);
	return !a->hidden && b->hidden;
}

/* Whether candidate v is a better answer for address vaddr than *best:
 * a symbol that contains vaddr beats one that only precedes it (size 0),
 * the closer start wins, and aliases are ordered by alias_better. */
static int addr_better(const struct sym_view *v, int v_in,
		       const struct sym_view *best, int best_in)
{
	if (v_in != best_in)
		return v_in;
	if (v->sym.st_value != best->sym.st_value)
		return v->sym.st_value > best->sym.st_value;
	return alias_better(v, best);
}

static int addr_table(const struct elf_obj *o, const struct sym_table *t,
		      uint64_t vaddr, struct sym_view *best)
{
	struct sym_view v;
	int found = 0, best_in = 0, in, type;
	size_t i;

	for (i = 0; i < t->count; i++) {
		if (view_sym(o, t, i, &v) || v.sym.st_value > vaddr)
			continue;
		type = GELF_ST_TYPE(v.sym.st_info);
		if (type != STT_FUNC && type != STT_OBJECT &&
		    type != STT_GNU_IFUNC)
			continue;
		in = vaddr - v.sym.st_value < v.sym.st_size;
		if (!in && v.sym.st_size)
			continue;
		if (!found || addr_better(&v, in, best, best_in)) {
			*best = v;
			best_in = in;
			found = 1;
		}
	}
	return found;
}

int elf_obj_addr(const struct elf_obj *o, uint64_t bias, uint64_t addr,
		 struct elf_sym_result *r)
{
	struct sym_view best;

	if (addr < bias ||
	    (!addr_table(o, &o->symtab, addr - bias, &best) &&
	     !addr_table(o, &o->dynsym, addr - bias, &best))) {
		errno = ENOENT;
		return -1;
	}
	fill_result(&best, bias, r);
	r->offset = addr - r->addr;
	return 0;
}

/* The relocation type by which ld.so stores what an IFUNC's resolver
 * returned, for the object's own machine; 0 for a machine without one
 * that we know. */
static unsigned irelative_type(const struct elf_obj *o)
{
	switch (o->ehdr.e_machine) {
	case EM_X86_64:
		return R_X86_64_IRELATIVE;
	case EM_AARCH64:
		return R_AARCH64_IRELATIVE;
	default:
		return 0;
	}
}

int elf_obj_irelative(const struct elf_obj *o, uint64_t resolver,
		      uint64_t *slot)
{
	unsigned type = irelative_type(o);
	Elf_Scn *scn = NULL;
	Elf_Data *d;
	GElf_Shdr sh;
	GElf_Rela rel;
	size_t i, n;

	while (type && (scn = elf_nextscn(o->elf, scn))) {
		if (!gelf_getshdr(scn, &sh) || sh.sh_type != SHT_RELA ||
		    !sh.sh_entsize)
			continue;
		d = elf_getdata(scn, NULL);
		n = d ? sh.sh_size / sh.sh_entsize : 0;
		for (i = 0; i < n; i++) {
			if (!gelf_getrela(d, (int)i, &rel))
				break;
			if (GELF_R_TYPE(rel.r_info) == type &&
			    (uint64_t)rel.r_addend == resolver) {
				*slot = rel.r_offset;
				return 0;
			}
		}
	}
	errno = ENOENT;
	return -1;
}
