/*
 * Reading PROG.xisa, the metadata ckpt cc wrote beside PROG.x86_64 and
 * PROG.aarch64 (format in ckpt-cc(1)). Every number is checked against
 * the others before use: a landmark names a function that exists, a
 * function's slots are all there.
 */
#include <sys/stat.h>
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "arch/xisa.h"
#include "util/util.h"

#define MAX_FNS		(1u << 20)
#define MAX_SLOTS	(1u << 16)

const struct xisa_isa *xisa_isa(int idx)
{
	return idx == XISA_X86_64 ? &xisa_x86_64 : &xisa_aarch64;
}

int xisa_by_name(const char *name)
{
	if (!strcmp(name, "x86_64"))
		return XISA_X86_64;
	if (!strcmp(name, "aarch64"))
		return XISA_AARCH64;
	return -1;
}

/* PROG.ISA: the length of PROG, and *isa; or -1 */
static int split(const char *exe, int *isa)
{
	size_t n = strlen(exe);
	int i;

	for (i = 0; i < XISA_NR; i++) {
		size_t k = strlen(xisa_isa(i)->name);

		if (n > k + 1 && exe[n - k - 1] == '.' &&
		    !strcmp(exe + n - k, xisa_isa(i)->name)) {
			*isa = i;
			return (int)(n - k - 1);
		}
	}
	return -1;
}

char *xisa_meta_path(const char *exe, int *isa)
{
	int n = split(exe, isa);
	char *p;

	if (n < 0 || asprintf(&p, "%.*s.xisa", n, exe) < 0)
		return NULL;
	return p;
}

char *xisa_exe_path(const char *exe, int isa)
{
	int from, n = split(exe, &from);
	char *p;

	if (n < 0 || asprintf(&p, "%.*s.%s", n, exe, xisa_isa(isa)->name) < 0)
		return NULL;
	return p;
}

int xisa_hash_file(const char *path, uint64_t *h)
{
	unsigned char buf[65536];
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n, i;

	if (fd < 0)
		return -1;
	*h = 0xcbf29ce484222325ull;
	while ((n = read(fd, buf, sizeof(buf))) > 0)
		for (i = 0; i < n; i++)
			*h = (*h ^ buf[i]) * 0x100000001b3ull;
	close(fd);
	return n < 0 ? -1 : 0;
}

void xisa_meta_free(struct xisa_meta *m)
{
	uint32_t i;

	for (i = 0; m->fns && i < m->nr_fns; i++)
		free(m->fns[i].slots), free(m->fns[i].bases);
	free(m->fns);
	free(m->lms);
	free(m->tls);
	memset(m, 0, sizeof(*m));
}

static int read_fn(FILE *f, struct xisa_meta *m, uint32_t i)
{
	struct xisa_fn *fn = &m->fns[i];
	unsigned long long a[2], s[2], st[2];
	long long fo[2];
	uint32_t idx, k;

	if (fscanf(f, " fn %u %127s %u %u %llx %llx %llu %lld %llx %llx "
		   "%llu %lld", &idx, fn->name, &fn->nr_slots, &fn->nr_bases,
		   &a[0], &s[0], &st[0], &fo[0], &a[1], &s[1], &st[1],
		   &fo[1]) != 12 ||
	    idx != i || fn->nr_slots > MAX_SLOTS || fn->nr_bases > MAX_SLOTS)
		return -1;
	for (k = 0; k < XISA_NR; k++) {
		fn->addr[k] = a[k];
		fn->size[k] = s[k];
		fn->stack[k] = st[k];
		fn->fpoff[k] = fo[k];
		if (st[k] > (1u << 30) || fo[k] > 0 || -fo[k] > (long long)st[k])
			return -1;
	}
	fn->slots = calloc(fn->nr_slots + 1, sizeof(*fn->slots));
	if (!fn->slots)
		return -1;
	for (k = 0; k < fn->nr_slots; k++) {
		struct xisa_slot *s_ = &fn->slots[k];
		unsigned long long size;
		unsigned r0, r1;
		int o0, o1;

		if (fscanf(f, " slot %llu %u %d %u %d", &size, &r0, &o0, &r1,
			   &o1) != 5 || !size || size > (1u << 30))
			return -1;
		s_->size = size;
		s_->reg[0] = r0;
		s_->reg[1] = r1;
		s_->off[0] = o0;
		s_->off[1] = o1;
	}
	fn->bases = calloc(fn->nr_bases + 1, sizeof(*fn->bases));
	if (!fn->bases)
		return -1;
	for (k = 0; k < fn->nr_bases; k++) {
		struct xisa_base *b = &fn->bases[k];
		unsigned sr, vr;
		long long so, vo;

		if (fscanf(f, " base aarch64 %u %lld %u %lld", &sr, &so, &vr,
			   &vo) != 4 || (sr != 29 && sr != 31) ||
		    (vr != 29 && vr != 31) || so < -(1 << 20) ||
		    so > (1 << 20) || vo < -(1 << 20) || vo > (1 << 20))
			return -1;
		b->slot_reg = sr;
		b->val_reg = vr;
		b->slot_off = so;
		b->val_off = vo;
	}
	if (!strcmp(fn->name, "main"))
		m->main_fn = i;
	return 0;
}

static int read_lm(FILE *f, struct xisa_meta *m, uint32_t i)
{
	struct xisa_lm *l = &m->lms[i];
	unsigned long long v[4];

	if (fscanf(f, " lm %u %u %c %llx %llx %llx %llx", &l->id, &l->fn,
		   &l->kind, &v[0], &v[1], &v[2], &v[3]) != 7 ||
	    l->id != i || l->fn >= m->nr_fns ||
	    !strchr("ECL", l->kind))
		return -1;
	l->pc[0] = v[0];
	l->ret[0] = v[1];
	l->pc[1] = v[2];
	l->ret[1] = v[3];
	return (l->kind == 'C') != (v[1] && v[3]) ? -1 : 0;
}

/* The lines "tls NAME SIZE TPOFF_X86_64 TPOFF_AARCH64" to the end */
static int read_tls(FILE *f, struct xisa_meta *m)
{
	unsigned long long size;
	long long o[XISA_NR];
	char name[128];
	int r;

	while ((r = fscanf(f, " tls %127s %llu %lld %lld", name, &size,
			   &o[0], &o[1])) == 4) {
		struct xisa_tls *t;

		if (!size || size > (1u << 20) || o[0] < -(1ll << 30) ||
		    o[0] > (1ll << 30) || o[1] < -(1ll << 30) ||
		    o[1] > (1ll << 30) || m->nr_tls == MAX_SLOTS)
			return -1;
		t = realloc(m->tls, (m->nr_tls + 1) * sizeof(*t));
		if (!t)
			return -1;
		m->tls = t;
		t += m->nr_tls++;
		t->size = size;
		t->tpoff[0] = o[0];
		t->tpoff[1] = o[1];
	}
	return r == EOF ? 0 : -1;
}

/* The line "id x86_64 SIZE BUILDID aarch64 SIZE BUILDID" if there
 * (ckpt cc before it did not write it) */
static int read_ids(FILE *f, struct xisa_meta *m)
{
	unsigned long long z[XISA_NR];
	int c;

	fscanf(f, " ");
	c = getc(f);
	ungetc(c, f);
	if (c != 'i')
		return 0;
	if (fscanf(f, "id x86_64 %llu %64[0-9a-f] aarch64 %llu %64[0-9a-f]",
		   &z[0], m->build_id[0], &z[1], m->build_id[1]) != 4)
		return -1;
	m->size[0] = z[0];
	m->size[1] = z[1];
	return 0;
}

/* The build id note of an ELF64 executable, in hex */
static int elf_build_id(int fd, char *hex)
{
	Elf64_Ehdr eh;
	Elf64_Phdr ph;
	uint8_t note[512];
	uint32_t nsz, dsz, type, k;
	unsigned i;

	if (pread_full(fd, &eh, sizeof(eh), 0) ||
	    memcmp(eh.e_ident, ELFMAG, SELFMAG) ||
	    eh.e_ident[EI_CLASS] != ELFCLASS64 || eh.e_phnum > 64 ||
	    eh.e_phentsize != sizeof(ph))
		return -1;
	for (i = 0; i < eh.e_phnum; i++) {
		if (pread_full(fd, &ph, sizeof(ph),
			       eh.e_phoff + i * sizeof(ph)))
			return -1;
		if (ph.p_type != PT_NOTE || ph.p_filesz > sizeof(note) ||
		    pread_full(fd, note, ph.p_filesz, ph.p_offset))
			continue;
		for (k = 0; k + 12 <= ph.p_filesz;
		     k += 12 + ((nsz + 3) & ~3u) + ((dsz + 3) & ~3u)) {
			memcpy(&nsz, note + k, 4);
			memcpy(&dsz, note + k + 4, 4);
			if (nsz > sizeof(note) || dsz > sizeof(note))
				break;
			memcpy(&type, note + k + 8, 4);
			if (type != NT_GNU_BUILD_ID || nsz != 4 ||
			    k + 16 + dsz > ph.p_filesz ||
			    memcmp(note + k + 12, "GNU", 4) ||
			    dsz > XISA_BUILD_ID_MAX)
				continue;
			for (nsz = 0; nsz < dsz; nsz++)
				snprintf(hex + 2 * nsz, 3, "%02x",
					 note[k + 16 + nsz]);
			return 0;
		}
	}
	return -1;
}

int xisa_exe_matches(const char *path, const struct xisa_meta *m, int isa)
{
	char id[2 * XISA_BUILD_ID_MAX + 1] = "";
	struct stat sb;
	uint64_t h;
	int fd, ret;

	if (!m->build_id[isa][0])
		return xisa_hash_file(path, &h) || h != m->hash[isa] ? -1 : 0;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	ret = fstat(fd, &sb) || (uint64_t)sb.st_size != m->size[isa] ||
	      elf_build_id(fd, id) || strcmp(id, m->build_id[isa]) ? -1 : 0;
	close(fd);
	return ret;
}

int xisa_meta_read(const char *path, struct xisa_meta *m)
{
	unsigned long long h0, h1, e0, e1, d0, d1, t0 = 0, t1 = 0;
	unsigned long long s[4] = { 0 };
	FILE *f = fopen(path, "re");
	uint32_t i;
	int ret = -1;

	memset(m, 0, sizeof(*m));
	m->main_fn = UINT32_MAX;
	if (!f) {
		pr_perror("can't open %s", path);
		return -1;
	}
	if (fscanf(f, "ckpt-xisa 1 bin x86_64 %llx aarch64 %llx", &h0,
		   &h1) != 2 ||
	    read_ids(f, m) ||
	    fscanf(f, " exit %llx %llx", &e0, &e1) != 2 ||
	    /* thread: since threads move (absent: programs of one thread) */
	    (fscanf(f, " thread %llx %llx", &t0, &t1), 0) ||
	    /* rtslots: since attach --landmark moves threads */
	    (fscanf(f, " rtslots %llx %llx %llx %llx", &s[0], &s[1], &s[2],
		    &s[3]), 0) ||
	    fscanf(f, " data %llx %llx counts %u %u", &d0, &d1, &m->nr_fns,
		   &m->nr_lms) != 4 ||
	    m->nr_fns > MAX_FNS || m->nr_lms > MAX_FNS || d0 > d1)
		goto out;
	m->hash[0] = h0;
	m->hash[1] = h1;
	m->exit_fn[0] = e0;
	m->exit_fn[1] = e1;
	m->thread_ret[0] = t0;
	m->thread_ret[1] = t1;
	for (i = 0; i < XISA_NR; i++) {
		m->slots[i] = s[i];
		m->slots_lock[i] = s[2 + i];
	}
	m->data_start = d0;
	m->data_end = d1;
	m->fns = calloc(m->nr_fns + 1, sizeof(*m->fns));
	m->lms = calloc(m->nr_lms + 1, sizeof(*m->lms));
	if (!m->fns || !m->lms)
		goto out;
	for (i = 0; i < m->nr_fns; i++)
		if (read_fn(f, m, i))
			goto out;
	for (i = 0; i < m->nr_lms; i++)
		if (read_lm(f, m, i))
			goto out;
	if (read_tls(f, m))
		goto out;
	ret = m->main_fn == UINT32_MAX ? -1 : 0;
out:
	fclose(f);
	if (ret) {
		pr_err("%s: not the metadata of a ckpt cc program", path);
		xisa_meta_free(m);
	}
	return ret;
}

const struct xisa_lm *xisa_lm_at(const struct xisa_meta *m, int isa,
				 uint64_t pc)
{
	uint32_t i;

	for (i = 0; i < m->nr_lms; i++)
		if (m->lms[i].pc[isa] == pc)
			return &m->lms[i];
	return NULL;
}

const struct xisa_lm *xisa_lm_ret(const struct xisa_meta *m, int isa,
				  uint64_t ret)
{
	uint32_t i;

	for (i = 0; i < m->nr_lms; i++)
		if (m->lms[i].kind == 'C' && m->lms[i].ret[isa] == ret)
			return &m->lms[i];
	return NULL;
}

int xisa_meta_for(const char *exe, struct xisa_meta *m, int *isa)
{
	char *meta = xisa_meta_path(exe, isa);

	if (!meta) {
		pr_err("%s was not built by ckpt cc (no PROG.x86_64 name)",
		       exe);
		return -1;
	}
	if (access(meta, F_OK)) {
		pr_err("%s was not built by ckpt cc (no %s)", exe, meta);
		free(meta);
		return -1;
	}
	if (xisa_meta_read(meta, m)) {
		free(meta);
		return -1;
	}
	if (xisa_exe_matches(exe, m, *isa)) {
		pr_err("%s does not match %s (built again since?)", exe, meta);
		xisa_meta_free(m);
		free(meta);
		return -1;
	}
	free(meta);
	return 0;
}
