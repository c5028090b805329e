/*
 * dlsym_default: the default (@@) version of a dynamic symbol, read from
 * the dynamic symbol table and the version tables of the loaded objects
 * in memory (PT_DYNAMIC: DT_SYMTAB, DT_STRTAB, DT_VERSYM, DT_VERDEF,
 * DT_HASH or DT_GNU_HASH), without asking dlsym(3) which version it
 * prefers. See dlsym_default(3).
 *
 * This is an installable library of its own: it uses libc and libdl only,
 * never the rest of ckpt. Only the two functions of dlsym_default.h are
 * exported (everything else is static; the build uses -fvisibility=hidden).
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <sys/auxv.h>
#include <dlfcn.h>
#include <elf.h>
#include <link.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "elf/dlsym_default.h"

#define DLSYM_PUBLIC	__attribute__((visibility("default")))

/* st_info and st_other read the same in ELF32 and ELF64 */
#define SYM_BIND(i)	ELF64_ST_BIND(i)
#define SYM_TYPE(i)	ELF64_ST_TYPE(i)
#define SYM_VIS(o)	ELF64_ST_VISIBILITY(o)

/* the symbol types ld.so will bind to (glibc's ALLOWED_STT) */
#define ALLOWED_STT	((1u << STT_NOTYPE) | (1u << STT_OBJECT) | \
			 (1u << STT_FUNC) | (1u << STT_COMMON) | \
			 (1u << STT_TLS) | (1u << STT_GNU_IFUNC))

/* one loaded object's dynamic tables, as absolute addresses */
struct dso {
	const ElfW(Sym) *symtab;
	const char *strtab;
	const ElfW(Versym) *versym;
	const ElfW(Verdef) *verdef;
	size_t verdefnum;
	size_t nsyms;
};

/* an IFUNC resolver as ld.so calls it: the first argument is AT_HWCAP */
typedef void *(*ifunc_resolver_t)(unsigned long);

static __thread char err_buf[512];
static __thread int err_set;

static void set_error(const char *fmt, ...)
	__attribute__((format(printf, 1, 2)));

static void set_error(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err_buf, sizeof(err_buf), fmt, ap);
	va_end(ap);
	err_set = 1;
}

static const char *map_name(const struct link_map *lm)
{
	return lm->l_name && lm->l_name[0] ? lm->l_name : "main program";
}

/*
 * glibc relocates the d_ptr entries of a writable PT_DYNAMIC in place, but
 * not those of a read-only one (the vDSO; and every object on MIPS and
 * RISC-V). A link-time address lies below the load bias; a relocated one
 * at or above it.
 */
static uintptr_t dyn_addr(const struct link_map *lm, ElfW(Addr) p)
{
	if (p < lm->l_addr)
		return lm->l_addr + p;
	return p;
}

/*
 * DT_GNU_HASH does not say how many symbols there are: the highest index
 * is at the end of the chain of the highest bucket; a chain ends at the
 * entry whose low bit is set. Symbols below symoffset are not hashed.
 */
static size_t gnu_hash_count(const uint32_t *gh)
{
	uint32_t nbuckets = gh[0], symoffset = gh[1], bloom_size = gh[2];
	const ElfW(Addr) *bloom = (const ElfW(Addr) *)(gh + 4);
	const uint32_t *buckets = (const uint32_t *)(bloom + bloom_size);
	const uint32_t *chain = buckets + nbuckets;
	uint32_t i, last = 0;

	for (i = 0; i < nbuckets; i++)
		if (buckets[i] > last)
			last = buckets[i];
	if (last < symoffset)
		return symoffset;
	while (!(chain[last - symoffset] & 1))
		last++;
	return last + 1;
}

static int dso_load(struct link_map *lm, struct dso *d)
{
	const ElfW(Dyn) *dyn;
	const uint32_t *gnu_hash = NULL;
	const ElfW(Word) *hash = NULL;

	memset(d, 0, sizeof(*d));
	if (!lm->l_ld)
		return -1;
	for (dyn = lm->l_ld; dyn->d_tag != DT_NULL; dyn++) {
		uintptr_t p = dyn_addr(lm, dyn->d_un.d_ptr);

		switch (dyn->d_tag) {
		case DT_SYMTAB:
			d->symtab = (const ElfW(Sym) *)p;
			break;
		case DT_STRTAB:
			d->strtab = (const char *)p;
			break;
		case DT_VERSYM:
			d->versym = (const ElfW(Versym) *)p;
			break;
		case DT_VERDEF:
			d->verdef = (const ElfW(Verdef) *)p;
			break;
		case DT_VERDEFNUM:
			d->verdefnum = dyn->d_un.d_val;
			break;
		case DT_HASH:
			hash = (const ElfW(Word) *)p;
			break;
		case DT_GNU_HASH:
			gnu_hash = (const uint32_t *)p;
			break;
		}
	}
	if (!d->symtab || !d->strtab)
		return -1;
	if (gnu_hash)
		d->nsyms = gnu_hash_count(gnu_hash);
	else if (hash)
		d->nsyms = hash[1];	/* nchain: one entry per symbol */
	else
		return -1;
	return 0;
}

/* a version index that a definition may carry: VER_NDX_GLOBAL or a verdef */
static int verdef_has(const struct dso *d, unsigned int ndx)
{
	const ElfW(Verdef) *vd = d->verdef;
	size_t i;

	if (ndx <= VER_NDX_GLOBAL)
		return 1;
	for (i = 0; vd && i < d->verdefnum; i++) {
		if (vd->vd_ndx == ndx)
			return 1;
		if (!vd->vd_next)
			break;
		vd = (const ElfW(Verdef) *)((const char *)vd + vd->vd_next);
	}
	return 0;
}

/* exported at all: the binding, visibility, type and definedness ld.so wants */
static int sym_exported(const ElfW(Sym) *s)
{
	unsigned int bind = SYM_BIND(s->st_info);
	unsigned int type = SYM_TYPE(s->st_info);
	unsigned int vis = SYM_VIS(s->st_other);

	if (s->st_shndx == SHN_UNDEF)
		return 0;
	if (bind != STB_GLOBAL && bind != STB_WEAK && bind != STB_GNU_UNIQUE)
		return 0;
	if (vis != STV_DEFAULT && vis != STV_PROTECTED)
		return 0;
	if (!((1u << type) & ALLOWED_STT))
		return 0;
	/* ld.so's rule: a zero value is no definition, except ABS and TLS */
	return s->st_value != 0 || s->st_shndx == SHN_ABS || type == STT_TLS;
}

/* the default version: not hidden; no versym at all is the plain symbol */
static int sym_is_default(const struct dso *d, size_t i)
{
	ElfW(Versym) v;

	if (!d->versym)
		return 1;
	v = d->versym[i];
	if (v & 0x8000)
		return 0;
	return verdef_has(d, v & 0x7fff);
}

static const ElfW(Sym) *dso_find(const struct dso *d, const char *name)
{
	size_t i;

	/* index 0 is the reserved undefined symbol */
	for (i = 1; i < d->nsyms; i++) {
		const ElfW(Sym) *s = &d->symtab[i];

		if (!sym_exported(s) || strcmp(d->strtab + s->st_name, name))
			continue;
		if (sym_is_default(d, i))
			return s;
	}
	return NULL;
}

/*
 * A TLS symbol's value is an offset in the object's TLS block; dlsym gives
 * the address in the calling thread, which dlinfo(RTLD_DI_TLS_DATA) has.
 */
static int tls_addr(struct link_map *lm, const ElfW(Sym) *s, void **addr)
{
	const char *path = lm->l_prev ? lm->l_name : NULL;
	void *h, *block = NULL;
	int ret = -1;

	h = dlopen(path, RTLD_LAZY | RTLD_NOLOAD);
	if (!h) {
		set_error("%s: can't get a handle: %s", map_name(lm),
			  dlerror());
		return -1;
	}
	if (dlinfo(h, RTLD_DI_TLS_DATA, &block) || !block) {
		set_error("%s: no TLS block in this thread", map_name(lm));
		goto out;
	}
	*addr = (char *)block + s->st_value;
	ret = 0;
out:
	dlclose(h);
	return ret;
}

/* the address ld.so would bind a reference to: l_addr + st_value, mostly */
static int sym_addr(struct link_map *lm, const ElfW(Sym) *s, void **addr)
{
	uintptr_t a;

	switch (SYM_TYPE(s->st_info)) {
	case STT_TLS:
		return tls_addr(lm, s, addr);
	case STT_GNU_IFUNC:
		/*
		 * As ld.so: the x86_64 resolvers ignore their arguments and
		 * read the cpu features themselves; aarch64's take hwcap
		 * first (without _IFUNC_ARG_HWCAP they read no second).
		 */
		a = lm->l_addr + s->st_value;
		*addr = ((ifunc_resolver_t)a)(getauxval(AT_HWCAP));
		return 0;
	}
	if (s->st_shndx == SHN_ABS)
		*addr = (void *)(uintptr_t)s->st_value;
	else
		*addr = (void *)(lm->l_addr + s->st_value);
	return 0;
}

/* 1 found (*addr set), 0 not in this object, -1 error (message set) */
static int map_lookup(struct link_map *lm, const char *name, void **addr)
{
	const ElfW(Sym) *s;
	struct dso d;

	/* an object whose tables we can't read can't define anything */
	if (dso_load(lm, &d))
		return 0;
	s = dso_find(&d, name);
	if (!s)
		return 0;
	return sym_addr(lm, s, addr) ? -1 : 1;
}

/*
 * The vDSO is on the link map but in no search scope: ld.so never binds
 * to it (libc calls it itself), so dlsym(RTLD_DEFAULT, "clock_gettime")
 * is libc's. Its image starts at AT_SYSINFO_EHDR; its l_ld lies inside.
 */
static int is_vdso(const struct link_map *lm)
{
	const ElfW(Ehdr) *eh = (const ElfW(Ehdr) *)getauxval(AT_SYSINFO_EHDR);
	const ElfW(Phdr) *ph;
	uintptr_t bias = 0, lo = UINTPTR_MAX, hi = 0, p;
	int i, loads = 0;

	if (!eh)
		return 0;
	ph = (const ElfW(Phdr) *)((const char *)eh + eh->e_phoff);
	for (i = 0; i < eh->e_phnum; i++) {
		if (ph[i].p_type != PT_LOAD)
			continue;
		if (!loads++)
			bias = (uintptr_t)eh - ph[i].p_vaddr;
		if (bias + ph[i].p_vaddr < lo)
			lo = bias + ph[i].p_vaddr;
		if (bias + ph[i].p_vaddr + ph[i].p_memsz > hi)
			hi = bias + ph[i].p_vaddr + ph[i].p_memsz;
	}
	p = (uintptr_t)lm->l_ld;
	return p >= lo && p < hi;
}

/* search lm and the objects after it in link-map order */
static int chain_lookup(struct link_map *lm, const char *name, void **addr)
{
	int r;

	for (; lm; lm = lm->l_next) {
		if (is_vdso(lm))
			continue;
		r = map_lookup(lm, name, addr);
		if (r)
			return r;
	}
	return 0;
}

static struct link_map *handle_map(void *handle)
{
	struct link_map *lm = NULL;

	if (dlinfo(handle, RTLD_DI_LINKMAP, &lm) || !lm) {
		set_error("invalid handle: %s", dlerror());
		return NULL;
	}
	return lm;
}

static struct link_map *main_map(void)
{
	struct link_map *lm;
	void *h = dlopen(NULL, RTLD_LAZY);

	if (!h) {
		set_error("can't open the main program: %s", dlerror());
		return NULL;
	}
	lm = handle_map(h);
	dlclose(h);
	return lm;
}

/* append the loaded objects that lm names in DT_NEEDED, once each */
static int queue_needed(struct link_map *lm, struct link_map ***q,
			size_t *n, size_t *cap)
{
	const ElfW(Dyn) *dyn;
	struct dso d;
	size_t i;

	if (dso_load(lm, &d))
		return 0;
	for (dyn = lm->l_ld; dyn->d_tag != DT_NULL; dyn++) {
		struct link_map *dep = NULL;
		void *h;

		if (dyn->d_tag != DT_NEEDED)
			continue;
		/* RTLD_NOLOAD: matches a loaded object by name or soname */
		h = dlopen(d.strtab + dyn->d_un.d_val, RTLD_LAZY | RTLD_NOLOAD);
		if (!h)
			continue;
		if (dlinfo(h, RTLD_DI_LINKMAP, &dep))
			dep = NULL;
		dlclose(h);
		for (i = 0; dep && i < *n; i++)
			if ((*q)[i] == dep)
				dep = NULL;
		if (!dep)
			continue;
		if (*n == *cap) {
			struct link_map **nq;

			*cap *= 2;
			nq = realloc(*q, *cap * sizeof(**q));
			if (!nq) {
				set_error("out of memory");
				return -1;
			}
			*q = nq;
		}
		(*q)[(*n)++] = dep;
	}
	return 0;
}

/*
 * As dlsym(handle): the object, then its dependencies breadth first (its
 * l_searchlist, which is private to ld.so, so rebuilt from DT_NEEDED).
 */
static int deps_lookup(struct link_map *lm, const char *name, void **addr)
{
	size_t n = 1, cap = 16, i;
	struct link_map **q = malloc(cap * sizeof(*q));
	int r = 0;

	if (!q) {
		set_error("out of memory");
		return -1;
	}
	q[0] = lm;
	for (i = 0; i < n; i++) {
		r = map_lookup(q[i], name, addr);
		if (r)
			break;
		r = queue_needed(q[i], &q, &n, &cap);
		if (r)
			break;
	}
	free(q);
	return r;
}

static int handle_lookup(void *handle, void *caller, const char *name,
			 void **addr)
{
	struct link_map *lm;
	Dl_info info;
	void *extra = NULL;

	if (handle == RTLD_DEFAULT) {
		lm = main_map();
		return lm ? chain_lookup(lm, name, addr) : -1;
	}
	if (handle == RTLD_NEXT) {
		if (!dladdr1(caller, &info, &extra, RTLD_DL_LINKMAP) ||
		    !extra) {
			set_error("RTLD_NEXT used in code not dynamically "
				  "loaded");
			return -1;
		}
		lm = extra;
		return chain_lookup(lm->l_next, name, addr);
	}
	lm = handle_map(handle);
	if (!lm)
		return -1;
	/* the main program's handle searches the global scope */
	if (!lm->l_prev)
		return chain_lookup(lm, name, addr);
	return deps_lookup(lm, name, addr);
}

/* noinline: the return address must be our caller's, for RTLD_NEXT */
DLSYM_PUBLIC __attribute__((noinline))
void *dlsym_default(void *handle, const char *name)
{
	void *caller = __builtin_return_address(0);
	void *addr = NULL;
	int r;

	err_set = 0;
	if (!name) {
		set_error("no symbol name");
		return NULL;
	}
	r = handle_lookup(handle, caller, name, &addr);
	if (r == 0)
		set_error("undefined symbol: %s", name);
	return r == 1 ? addr : NULL;
}

DLSYM_PUBLIC
const char *dlsym_default_error(void)
{
	return err_set ? err_buf : NULL;
}
