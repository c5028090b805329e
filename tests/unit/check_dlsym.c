/*
 * check_dlsym: dlsym_default(3). Every versioned symbol of libc and libm,
 * enumerated from the files on disk with libelf, against dlvsym(3) with
 * its default version name and against its older versions; the addresses
 * a normally linked program binds to; RTLD_DEFAULT and RTLD_NEXT; the
 * error message; unversioned objects, and a versioned and a DT_HASH-only
 * object built for the test.
 */
#include <sys/stat.h>
#include <check.h>
#include <dlfcn.h>
#include <fcntl.h>
#include <gelf.h>
#include <gnu/libc-version.h>
#include <link.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "elf/dlsym_default.h"
#include "tests/unit/unit.h"

#ifndef DLSYM_SO
#define DLSYM_SO "build/lib/libdlsym_default.so"
#endif

#define NELEM(a)	(sizeof(a) / sizeof((a)[0]))

typedef void (*fn_t)(void);

/*
 * The addresses this program is bound to. In a PIE, a function's address
 * taken in data is a dynamic relocation against the symbol, which ld.so
 * resolves (IFUNC included) to the default version's implementation; in
 * a non-PIE it could be a canonical PLT entry, which test_bound rules out.
 */
static const struct bound {
	const char *name;
	fn_t fn;
} bound[] = {
	{ "memcpy", (fn_t)memcpy },
	{ "pthread_cond_wait", (fn_t)pthread_cond_wait },
	{ "realpath", (fn_t)realpath },
	{ "timer_create", (fn_t)timer_create },
	{ "fopen", (fn_t)fopen },
	{ "clock_gettime", (fn_t)clock_gettime },
	{ "sin", (fn_t)sin },
};

static fn_t bound_fn(const char *name)
{
	fn_t volatile fn = NULL;
	size_t i;

	for (i = 0; i < NELEM(bound); i++)
		if (!strcmp(bound[i].name, name))
			fn = bound[i].fn;
	ck_assert_ptr_nonnull((void *)fn);
	return fn;
}

static struct link_map *object_of(const void *addr)
{
	Dl_info info;
	void *lm = NULL;

	ck_assert_int_ne(dladdr1(addr, &info, &lm, RTLD_DL_LINKMAP), 0);
	ck_assert_ptr_nonnull(lm);
	return lm;
}

/* a handle on the loaded object that defines what `fn' points into */
static void *handle_of(fn_t fn, const char **path)
{
	struct link_map *lm = object_of((const void *)fn);
	void *h = dlopen(lm->l_name, RTLD_LAZY | RTLD_NOLOAD);

	ck_assert_msg(h != NULL, "dlopen %s: %s", lm->l_name, dlerror());
	if (path)
		*path = lm->l_name;
	return h;
}

/* ---- enumeration of a library's versioned symbols from disk ---------- */

struct vsym {
	const char *name;
	const char *version;
	int hidden;
};

struct vlib {
	int fd;
	Elf *elf;
	struct vsym *syms;
	size_t n;
};

static int exported(const GElf_Sym *s)
{
	int bind = GELF_ST_BIND(s->st_info);
	int vis = GELF_ST_VISIBILITY(s->st_other);

	return s->st_shndx != SHN_UNDEF && vis != STV_HIDDEN &&
	       vis != STV_INTERNAL && (bind == STB_GLOBAL ||
	       bind == STB_WEAK || bind == STB_GNU_UNIQUE);
}

static Elf_Scn *find_scn(Elf *elf, GElf_Word type, GElf_Shdr *sh)
{
	Elf_Scn *scn = NULL;

	while ((scn = elf_nextscn(elf, scn))) {
		ck_assert_ptr_nonnull(gelf_getshdr(scn, sh));
		if (sh->sh_type == type)
			return scn;
	}
	return NULL;
}

/* version index -> name, from .gnu.version_d */
static const char **verdef_names(Elf *elf, size_t *count)
{
	GElf_Shdr sh;
	Elf_Scn *scn = find_scn(elf, SHT_GNU_verdef, &sh);
	Elf_Data *d;
	const char **names;
	size_t off = 0, i;

	ck_assert_ptr_nonnull(scn);
	d = elf_getdata(scn, NULL);
	ck_assert_ptr_nonnull(d);
	names = calloc(sh.sh_info + 2, sizeof(*names));
	ck_assert_ptr_nonnull(names);
	for (i = 0; i < sh.sh_info; i++) {
		GElf_Verdef vd;
		GElf_Verdaux va;

		ck_assert_ptr_nonnull(gelf_getverdef(d, off, &vd));
		ck_assert_ptr_nonnull(gelf_getverdaux(d, off + vd.vd_aux, &va));
		ck_assert_uint_le(vd.vd_ndx, sh.sh_info + 1);
		names[vd.vd_ndx] = elf_strptr(elf, sh.sh_link, va.vda_name);
		off += vd.vd_next;
	}
	*count = sh.sh_info + 2;
	return names;
}

static void vlib_open(struct vlib *v, const char *path)
{
	GElf_Shdr dsh, vsh;
	Elf_Scn *dynsym, *versym;
	Elf_Data *dd, *vd;
	const char **vnames;
	size_t nv, i, n;

	memset(v, 0, sizeof(*v));
	ck_assert_uint_ne(elf_version(EV_CURRENT), EV_NONE);
	v->fd = open(path, O_RDONLY | O_CLOEXEC);
	ck_assert_int_ge(v->fd, 0);
	v->elf = elf_begin(v->fd, ELF_C_READ, NULL);
	ck_assert_ptr_nonnull(v->elf);
	dynsym = find_scn(v->elf, SHT_DYNSYM, &dsh);
	versym = find_scn(v->elf, SHT_GNU_versym, &vsh);
	ck_assert_ptr_nonnull(dynsym);
	ck_assert_ptr_nonnull(versym);
	dd = elf_getdata(dynsym, NULL);
	vd = elf_getdata(versym, NULL);
	ck_assert_ptr_nonnull(dd);
	ck_assert_ptr_nonnull(vd);
	vnames = verdef_names(v->elf, &nv);
	n = dsh.sh_size / dsh.sh_entsize;
	v->syms = calloc(n, sizeof(*v->syms));
	ck_assert_ptr_nonnull(v->syms);
	for (i = 1; i < n; i++) {
		GElf_Sym s;
		GElf_Versym ver;
		unsigned int ndx;

		ck_assert_ptr_nonnull(gelf_getsym(dd, i, &s));
		ck_assert_ptr_nonnull(gelf_getversym(vd, i, &ver));
		ndx = ver & 0x7fff;
		if (!exported(&s) || ndx < 2)
			continue;
		ck_assert_uint_lt(ndx, nv);
		v->syms[v->n].name = elf_strptr(v->elf, dsh.sh_link,
						s.st_name);
		v->syms[v->n].version = vnames[ndx];
		v->syms[v->n].hidden = !!(ver & 0x8000);
		ck_assert_ptr_nonnull(v->syms[v->n].name);
		ck_assert_ptr_nonnull(v->syms[v->n].version);
		v->n++;
	}
	free(vnames);
}

static void vlib_close(struct vlib *v)
{
	free(v->syms);
	elf_end(v->elf);
	close(v->fd);
}

static const struct vsym *vlib_default(const struct vlib *v, const char *name)
{
	size_t i;

	for (i = 0; i < v->n; i++)
		if (!v->syms[i].hidden && !strcmp(v->syms[i].name, name))
			return &v->syms[i];
	return NULL;
}

/* counts of what was compared, for the assertions and the log line */
struct counts {
	size_t defaults;	/* default versions equal to dlvsym's */
	size_t older;		/* older versions told apart */
	size_t older_same;	/* older versions at the same address */
	size_t compat_only;	/* names with only hidden versions */
};

static void check_default(void *h, const struct vsym *s, struct counts *c)
{
	void *want = dlvsym(h, s->name, s->version);
	void *got = dlsym_default(h, s->name);

	ck_assert_msg(got == want, "%s@@%s: dlsym_default %p, dlvsym %p (%s)",
		      s->name, s->version, got, want,
		      dlsym_default_error() ? dlsym_default_error() : "");
	c->defaults++;
}

static void check_older(void *h, const struct vlib *v, const struct vsym *s,
			struct counts *c)
{
	const struct vsym *def = vlib_default(v, s->name);
	void *old = dlvsym(h, s->name, s->version);
	void *got = dlsym_default(h, s->name);

	if (!def) {
		/* only compat versions: nothing in this object is default */
		ck_assert_msg(got != old, "%s: compat-only %s returned",
			      s->name, s->version);
		c->compat_only++;
		return;
	}
	if (old == dlvsym(h, s->name, def->version)) {
		c->older_same++;
		return;
	}
	ck_assert_msg(got != old, "%s: got the older %s", s->name,
		      s->version);
	c->older++;
}

static void check_library(fn_t member, struct counts *c)
{
	const char *path;
	void *h = handle_of(member, &path);
	struct vlib v;
	size_t i;

	vlib_open(&v, path);
	memset(c, 0, sizeof(*c));
	for (i = 0; i < v.n; i++) {
		if (v.syms[i].hidden)
			check_older(h, &v, &v.syms[i], c);
		else
			check_default(h, &v.syms[i], c);
	}
	printf("check_dlsym: %s: %zu versioned symbols, %zu defaults, "
	       "%zu older versions apart, %zu at the default's address, "
	       "%zu compat-only\n", path, v.n, c->defaults, c->older,
	       c->older_same, c->compat_only);
	fflush(stdout);
	vlib_close(&v);
	dlclose(h);
}

START_TEST(test_every_libc_symbol)
{
	struct counts c;

	/* not fopen: under ASan that is the interceptor in libasan */
	check_library((fn_t)gnu_get_libc_version, &c);
	/* libc has hundreds of defaults and dozens of replaced versions */
	ck_assert_uint_gt(c.defaults, 100);
	ck_assert_uint_gt(c.older, 10);
}
END_TEST

START_TEST(test_every_libm_symbol)
{
	struct counts c;

	check_library(bound_fn("sin"), &c);
	ck_assert_uint_gt(c.defaults, 100);
	ck_assert_uint_gt(c.older, 0);
}
END_TEST

/* ---- the addresses a linked program binds to -------------------------- */

START_TEST(test_bound)
{
	const struct bound *b = &bound[_i];
	fn_t fn = bound_fn(b->name);
	void *h = handle_of(fn, NULL);

	/* a canonical PLT entry in this program would prove nothing */
	ck_assert_ptr_ne(object_of((void *)fn), object_of((void *)bound_fn));
	ck_assert_ptr_eq(dlsym_default(h, b->name), (void *)fn);
	ck_assert_ptr_null(dlsym_default_error());
	ck_assert_ptr_eq(dlsym_default(RTLD_DEFAULT, b->name), (void *)fn);
	dlclose(h);
}
END_TEST

START_TEST(test_rtld_default)
{
	fn_t fn = bound_fn("memcpy");

	ck_assert_ptr_eq(dlsym_default(RTLD_DEFAULT, "memcpy"), (void *)fn);
}
END_TEST

/* this program defines no memcpy: the next object that does is libc */
START_TEST(test_rtld_next)
{
	fn_t fn = bound_fn("memcpy");
	void *got = dlsym_default(RTLD_NEXT, "memcpy");

	ck_assert_ptr_eq(got, (void *)fn);
	ck_assert_ptr_eq(object_of(got), object_of((void *)fn));
}
END_TEST

/* ---- failures --------------------------------------------------------- */

static void check_missing(void *h)
{
	const char *name = "dlsym_default_no_such_symbol";
	const char *err;

	ck_assert_ptr_null(dlsym_default(h, name));
	err = dlsym_default_error();
	ck_assert_ptr_nonnull(err);
	ck_assert_msg(strstr(err, name) != NULL, "message: %s", err);
	/* the message stays until the next call, which clears it */
	ck_assert_ptr_eq(dlsym_default_error(), err);
	ck_assert_ptr_nonnull(dlsym_default(RTLD_DEFAULT, "memcpy"));
	ck_assert_ptr_null(dlsym_default_error());
}

START_TEST(test_missing)
{
	void *h = handle_of((fn_t)gnu_get_libc_version, NULL);

	check_missing(h);
	check_missing(RTLD_DEFAULT);
	check_missing(RTLD_NEXT);
	dlclose(h);
}
END_TEST

START_TEST(test_no_name)
{
	ck_assert_ptr_null(dlsym_default(RTLD_DEFAULT, NULL));
	ck_assert_ptr_nonnull(dlsym_default_error());
}
END_TEST

/* ---- unversioned and hand-made objects -------------------------------- */

/* libdlsym_default.so defines no versions: its symbols are VER_NDX_GLOBAL */
START_TEST(test_unversioned_library)
{
	void *h = dlopen(DLSYM_SO, RTLD_NOW | RTLD_LOCAL);
	void *want, *got;

	ck_assert_msg(h != NULL, "dlopen %s: %s", DLSYM_SO, dlerror());
	want = dlsym(h, "dlsym_default");
	got = dlsym_default(h, "dlsym_default");
	ck_assert_ptr_nonnull(want);
	ck_assert_ptr_eq(got, want);
	ck_assert_ptr_eq(dlsym_default(h, "dlsym_default_error"),
			 dlsym(h, "dlsym_default_error"));
	/* static functions are not exported */
	ck_assert_ptr_null(dlsym_default(h, "dso_find"));
	dlclose(h);
}
END_TEST

static void write_file(const char *name, const char *text)
{
	char p[128];
	FILE *f;

	snprintf(p, sizeof(p), "%s/%s", dir, name);
	f = fopen(p, "w");
	ck_assert_ptr_nonnull(f);
	ck_assert_int_ge(fputs(text, f), 0);
	ck_assert_int_eq(fclose(f), 0);
}

/* cc builds the object; without a compiler there is nothing to test */
static void *build_so(const char *so, const char *args)
{
	char cmd[512], p[128];
	const char *cc = getenv("CC") ? getenv("CC") : "cc";
	void *h;
	int st;

	snprintf(cmd, sizeof(cmd), "cd %s && %s -shared -fPIC -nostdlib "
		 "-o %s %s 2>&1", dir, cc, so, args);
	st = system(cmd);
	ck_assert_msg(st == 0, "%s: status %d", cmd, st);
	snprintf(p, sizeof(p), "%s/%s", dir, so);
	h = dlopen(p, RTLD_NOW | RTLD_LOCAL);
	ck_assert_msg(h != NULL, "dlopen %s: %s", p, dlerror());
	return h;
}

/* no DT_VERSYM, no DT_GNU_HASH: the plain definitions, counted by DT_HASH */
START_TEST(test_plain_sysv_hash)
{
	static const char *const names[] = {
		"plain_fn", "plain_var", "plain_tls", "plain_weak"
	};
	void *h;
	size_t i;

	write_file("plain.c",
		   "int plain_var = 42;\n"
		   "__thread int plain_tls = 5;\n"
		   "int plain_fn(void) { return 7; }\n"
		   "__attribute__((weak)) int plain_weak(void) { return 8; }\n"
		   "__attribute__((visibility(\"hidden\"))) int plain_hid;\n"
		   "static int plain_static(void) { return 9; }\n"
		   "int (*plain_use)(void) = plain_static;\n");
	h = build_so("plain.so", "-Wl,--hash-style=sysv plain.c");
	for (i = 0; i < NELEM(names); i++) {
		void *want = dlsym(h, names[i]);

		ck_assert_ptr_nonnull(want);
		ck_assert_ptr_eq(dlsym_default(h, names[i]), want);
	}
	ck_assert_int_eq(*(int *)dlsym_default(h, "plain_tls"), 5);
	ck_assert_ptr_null(dlsym_default(h, "plain_hid"));
	ck_assert_ptr_null(dlsym_default(h, "plain_static"));
	dlclose(h);
}
END_TEST

/*
 * Two versions of ver_fn, the older one first in the symbol table; the
 * default is the newer. ver_old has only an old, hidden version.
 */
START_TEST(test_versioned_gnu_hash)
{
	int (*fn)(void);
	void *h;

	write_file("ver.c",
		   "int ver_fn1(void) { return 1; }\n"
		   "int ver_fn2(void) { return 2; }\n"
		   "int ver_old1(void) { return 3; }\n"
		   "__asm__(\".symver ver_fn1, ver_fn@V1\");\n"
		   "__asm__(\".symver ver_fn2, ver_fn@@V2\");\n"
		   "__asm__(\".symver ver_old1, ver_old@V1\");\n");
	write_file("ver.map",
		   "V1 { global: ver_fn; ver_old; local: *; };\n"
		   "V2 { global: ver_fn; } V1;\n");
	h = build_so("ver.so", "-Wl,--hash-style=gnu "
		     "-Wl,--version-script=ver.map ver.c");
	fn = (int (*)(void))dlsym_default(h, "ver_fn");
	ck_assert_ptr_nonnull((void *)fn);
	ck_assert_int_eq(fn(), 2);
	ck_assert_ptr_eq((void *)fn, dlvsym(h, "ver_fn", "V2"));
	ck_assert_ptr_ne((void *)fn, dlvsym(h, "ver_fn", "V1"));
	ck_assert_ptr_nonnull(dlvsym(h, "ver_old", "V1"));
	ck_assert_ptr_null(dlsym_default(h, "ver_old"));
	ck_assert_ptr_nonnull(dlsym_default_error());
	dlclose(h);
}
END_TEST

static Suite *dlsym_suite(void)
{
	Suite *s = suite_create("dlsym");
	TCase *all_syms = unit_tcase(s, "versioned", 60);
	TCase *linked = unit_tcase(s, "linked", 60);
	TCase *fail = unit_tcase(s, "failures", 60);
	TCase *made = unit_tcase(s, "objects", 60);

	tcase_add_test(all_syms, test_every_libc_symbol);
	tcase_add_test(all_syms, test_every_libm_symbol);
	tcase_add_loop_test(linked, test_bound, 0, NELEM(bound));
	tcase_add_test(linked, test_rtld_default);
	tcase_add_test(linked, test_rtld_next);
	tcase_add_test(fail, test_missing);
	tcase_add_test(fail, test_no_name);
	tcase_add_test(made, test_unversioned_library);
	tcase_add_test(made, test_plain_sysv_hash);
	tcase_add_test(made, test_versioned_gnu_hash);
	tcase_add_checked_fixture(made, unit_tmpdir_setup,
				  unit_tmpdir_teardown);
	return s;
}

CHECK_MAIN(dlsym_suite)
