/*
 * PROG.xisa, the metadata of a ckpt cc program: from both executables,
 * their stack maps (.llvm_stackmaps, version 3), the return address of
 * each landmarked call (found by disassembling the call before the
 * landmark with LLVM's disassembler), the aarch64 frame pointer's place
 * in each frame (from the prologue), and the executables' hashes.
 * The format is text, read back by arch/xisa-meta.c; ckpt-cc(1) has it.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <gelf.h>
#include <llvm-c/Disassembler.h>
#include <llvm-c/Target.h>

#include "arch/xisa-image.h"
#include "cc/cc-priv.h"

struct loc {
	uint16_t reg;
	int32_t off;
};

struct rec {
	uint64_t id, pc;
	size_t fn;
	uint16_t nloc;
	struct loc *loc;
};

/* A frame address LLVM computed once in the entry block and spilled (a
 * base register of LocalStackSlotAllocation, aarch64): the spill slot at
 * [slot_reg + slot_off] holds val_reg + val_off, made again on restart. */
struct fix {
	uint16_t slot_reg, val_reg;	/* DWARF numbers: 29 fp, 31 sp */
	int64_t slot_off, val_off;
};

struct exe {
	const char *path;
	uint8_t *buf;		/* the whole file */
	size_t len;
	Elf *e;
	uint64_t hash, exit_fn, thread_ret, data_start, data_end;
	uint64_t slots, slots_lock;	/* the runtime's thread slots */
	char build_id[2 * XISA_BUILD_ID_MAX + 1];	/* hex */
	uint64_t *fn_addr, *fn_size, *fn_stack;
	int64_t *fn_fpoff;	/* aarch64: frame pointer - CFA */
	struct vec *fixes;	/* per function: struct fix * */
	size_t nrec;
	struct rec *rec;	/* by landmark id */
	uint64_t *ret;		/* by landmark id, calls only */
	int64_t *tls_off;	/* per thread-local variable: from the TP */
	uint64_t *tls_size;
};

static const char *const triple[CC_NR_ISA] = {
	"x86_64-linux-gnu", "aarch64-linux-gnu",
};

static int bad(const struct exe *x, const char *what)
{
	fprintf(stderr, "ckpt cc: %s: %s\n", x->path, what);
	return -1;
}

static uint64_t fnv(const uint8_t *p, size_t n)
{
	uint64_t h = 0xcbf29ce484222325ull;

	while (n--)
		h = (h ^ *p++) * 0x100000001b3ull;
	return h;
}

static int load(struct exe *x)
{
	int fd = open(x->path, O_RDONLY | O_CLOEXEC);
	off_t n;

	if (fd < 0)
		return bad(x, "can't open");
	n = lseek(fd, 0, SEEK_END);
	x->len = n;
	x->buf = malloc(n);
	if (!x->buf || pread(fd, x->buf, n, 0) != n) {
		close(fd);
		return bad(x, "can't read");
	}
	close(fd);
	x->hash = fnv(x->buf, x->len);
	elf_version(EV_CURRENT);
	x->e = elf_memory((char *)x->buf, x->len);
	return x->e ? 0 : bad(x, "not ELF");
}

/* The section named name: its address, size and bytes in the file. */
static const uint8_t *section(struct exe *x, const char *name,
			      uint64_t *addr, uint64_t *size)
{
	Elf_Scn *scn = NULL;
	size_t shstr;
	GElf_Shdr sh;

	if (elf_getshdrstrndx(x->e, &shstr))
		return NULL;
	while ((scn = elf_nextscn(x->e, scn))) {
		const char *n;

		if (!gelf_getshdr(scn, &sh))
			return NULL;
		n = elf_strptr(x->e, shstr, sh.sh_name);
		if (n && !strcmp(n, name) && sh.sh_offset + sh.sh_size <=
		    x->len) {
			*addr = sh.sh_addr;
			*size = sh.sh_size;
			return x->buf + sh.sh_offset;
		}
	}
	return NULL;
}

/* The address and size of the symbol of that name and type (STT_*) in
 * the symbol table (a function: the first); -1 if none, -2 if several
 * thread-local variables have the name. */
static int symbol_of(struct exe *x, const char *name, int type,
		     uint64_t *addr, uint64_t *size)
{
	Elf_Scn *scn = NULL;
	GElf_Shdr sh;
	GElf_Sym s;
	Elf_Data *d;
	size_t i;
	int found = 0;

	while ((scn = elf_nextscn(x->e, scn))) {
		if (!gelf_getshdr(scn, &sh) || sh.sh_type != SHT_SYMTAB)
			continue;
		d = elf_getdata(scn, NULL);
		for (i = 0; d && i < sh.sh_size / sh.sh_entsize; i++) {
			const char *n;

			if (!gelf_getsym(d, i, &s))
				break;
			n = elf_strptr(x->e, sh.sh_link, s.st_name);
			if (n && !strcmp(n, name) &&
			    GELF_ST_TYPE(s.st_info) == type) {
				if (found++ && type == STT_TLS)
					return -2;
				if (found > 1)
					continue;
				*addr = s.st_value;
				*size = s.st_size;
			}
		}
	}
	return found ? 0 : -1;
}

/* A function's address and size from the symbol table, or -1. */
static int symbol(struct exe *x, const char *name, uint64_t *addr,
		  uint64_t *size)
{
	return symbol_of(x, name, STT_FUNC, addr, size) ? -1 : 0;
}

/* Each thread-local variable's place, from the thread pointer: the
 * linker's local-exec offsets of a static executable, the TLS block
 * below the TP on x86_64 (variant II), above TP + 16 on aarch64. */
static int tls_vars(struct exe *x, int isa, const struct cc_module *m)
{
	uint64_t memsz = 0, align = 1, off, size;
	size_t i, nph;
	GElf_Phdr ph;

	x->tls_off = calloc(m->tls.n + 1, sizeof(*x->tls_off));
	x->tls_size = calloc(m->tls.n + 1, sizeof(*x->tls_size));
	if (!x->tls_off || !x->tls_size || elf_getphdrnum(x->e, &nph))
		return bad(x, "can't read the program headers");
	for (i = 0; i < nph; i++)
		if (gelf_getphdr(x->e, i, &ph) && ph.p_type == PT_TLS) {
			memsz = ph.p_memsz;
			align = ph.p_align ? ph.p_align : 1;
		}
	for (i = 0; i < m->tls.n; i++) {
		int r = symbol_of(x, m->tls.p[i], STT_TLS, &off, &size);

		if (r) {
			fprintf(stderr, "ckpt cc: %s: %s: %s\n", x->path,
				(char *)m->tls.p[i], r == -2 ?
				"another thread-local variable (libc's) has "
				"this name: rename it" :
				"a thread-local variable has no symbol");
			return -1;
		}
		if (off + size > memsz)
			return bad(x, "a thread-local variable is outside "
				   "the TLS template");
		x->tls_size[i] = size;
		x->tls_off[i] = isa == CC_X86_64 ?
			(int64_t)off - (int64_t)((memsz + align - 1) /
						 align * align) :
			(int64_t)off + (int64_t)((16 + align - 1) /
						 align * align);
	}
	return 0;
}

#define RD(T, p) ({ T v_; memcpy(&v_, (p), sizeof(T)); v_; })

/* The GNU build id (ckpt cc links with --build-id=sha1), in hex */
static int build_id(struct exe *x)
{
	uint64_t addr, size;
	const uint8_t *p = section(x, ".note.gnu.build-id", &addr, &size);
	uint32_t nsz, dsz, i;

	if (!p || size < 16)
		return bad(x, "no build id");
	nsz = RD(uint32_t, p);
	dsz = RD(uint32_t, p + 4);
	if (RD(uint32_t, p + 8) != 3 || nsz != 4 || memcmp(p + 12, "GNU", 4) ||
	    !dsz || dsz > XISA_BUILD_ID_MAX || 16 + dsz > size)
		return bad(x, "no build id");
	for (i = 0; i < dsz; i++)
		snprintf(x->build_id + 2 * i, 3, "%02x", p[16 + i]);
	return 0;
}

static int parse_stackmaps(struct exe *x, const struct cc_module *m)
{
	uint64_t addr, size, nfn, ncon, nrec, f, r = 0, k;
	const uint8_t *p = section(x, ".llvm_stackmaps", &addr, &size);
	const uint8_t *end = p + size;

	if (!p || size < 16 || p[0] != 3)
		return bad(x, "no stack maps of version 3");
	nfn = RD(uint32_t, p + 4);
	ncon = RD(uint32_t, p + 8);
	nrec = RD(uint32_t, p + 12);
	if (nrec != m->landmarks.n)
		return bad(x, "stack maps do not match the landmarks");
	x->rec = calloc(nrec, sizeof(*x->rec));
	x->nrec = nrec;
	const uint8_t *fns = p + 16, *q = fns + 24 * nfn + 8 * ncon;
	for (f = 0; f < nfn; f++) {
		uint64_t fa = RD(uint64_t, fns + 24 * f);
		uint64_t cnt = RD(uint64_t, fns + 24 * f + 16);

		for (k = 0; k < cnt; k++, r++) {
			uint64_t id;
			struct rec *rc;
			uint16_t nl, i, nlo;

			if (q + 16 > end)
				return bad(x, "stack maps cut short");
			id = RD(uint64_t, q);
			if (id >= nrec || x->rec[id].loc)
				return bad(x, "stack map ids are not the "
					   "landmarks'");
			rc = &x->rec[id];
			rc->id = id;
			rc->pc = fa + RD(uint32_t, q + 8);
			nl = RD(uint16_t, q + 14);
			rc->nloc = nl;
			rc->loc = calloc(nl + 1, sizeof(*rc->loc));
			q += 16;
			for (i = 0; i < nl; i++, q += 12) {
				if (q[0] != 2)
					return bad(x, "a slot is not a "
						   "frame address");
				rc->loc[i].reg = RD(uint16_t, q + 4);
				rc->loc[i].off = RD(int32_t, q + 8);
			}
			q += (8 - (uintptr_t)(q - p) % 8) % 8;
			nlo = RD(uint16_t, q + 2);
			q += 4 + 4 * nlo;
			q += (8 - (uintptr_t)(q - p) % 8) % 8;
		}
		x->fn_stack = realloc(x->fn_stack, (f + 1) * 8);
		x->fn_stack[f] = RD(uint64_t, fns + 24 * f + 8);
		(void)fa;
	}
	return 0;
}

/* Per function: address, size, and which stack map it is in. */
static int functions(struct exe *x, const struct cc_module *m)
{
	size_t k, f;
	uint64_t size, addr;

	x->fn_addr = calloc(m->fns.n, 8);
	x->fn_size = calloc(m->fns.n, 8);
	for (f = 0; f < m->fns.n; f++) {
		const struct cc_fn *fn = m->fns.p[f];

		if (symbol(x, fn->name, &x->fn_addr[f], &x->fn_size[f]))
			return bad(x, "a function has no symbol");
	}
	if (symbol(x, "ckpt_xisa_exit", &x->exit_fn, &size) ||
	    symbol(x, "ckpt_xisa_thread_ret", &x->thread_ret, &size) ||
	    symbol_of(x, "xisa_rt_slots", STT_OBJECT, &x->slots, &size) ||
	    symbol_of(x, "xisa_rt_ck", STT_OBJECT, &x->slots_lock, &size))
		return bad(x, "not linked with the ckpt cc runtime");
	/* a program without globals has none */
	if (!section(x, ".xisa_data", &x->data_start, &size))
		x->data_start = size = 0;
	x->data_end = x->data_start + size;
	for (k = 0; k < x->nrec; k++) {
		const struct cc_landmark *lm = m->landmarks.p[k];

		addr = x->rec[k].pc;
		if (addr < x->fn_addr[lm->fn] ||
		    addr >= x->fn_addr[lm->fn] + x->fn_size[lm->fn])
			return bad(x, "a landmark is outside its function");
		x->rec[k].fn = lm->fn;
	}
	return 0;
}

static const uint8_t *code_at(struct exe *x, uint64_t addr, uint64_t len)
{
	uint64_t sa, ss;
	const uint8_t *t = section(x, ".xisa_text", &sa, &ss);

	if (!t || addr < sa || addr + len > sa + ss)
		return NULL;
	return t + (addr - sa);
}

/* Return addresses of the calls in function f, in address order. */
static size_t calls(struct exe *x, int isa, size_t f, uint64_t *rets)
{
	LLVMDisasmContextRef dc = LLVMCreateDisasm(triple[isa], NULL, 0,
						   NULL, NULL);
	const uint8_t *code = code_at(x, x->fn_addr[f], x->fn_size[f]);
	uint64_t off = 0, n = 0;
	char text[256];

	if (!dc || !code)
		return 0;
	while (off < x->fn_size[f]) {
		size_t len = LLVMDisasmInstruction(dc, (uint8_t *)code + off,
				x->fn_size[f] - off, x->fn_addr[f] + off,
				text, sizeof(text));
		const char *t = text + strspn(text, " \t");

		if (!len)
			len = isa == CC_AARCH64 ? 4 : 1;
		off += len;
		if (!strncmp(t, "call", 4) || !strncmp(t, "bl\t", 3) ||
		    !strncmp(t, "blr\t", 4))
			rets[n++] = x->fn_addr[f] + off;
	}
	LLVMDisasmDispose(dc);
	return n;
}

static int return_addresses(struct exe *x, int isa, const struct cc_module *m)
{
	uint64_t *rets;
	size_t f, k, n, i;

	x->ret = calloc(x->nrec, 8);
	for (f = 0; f < m->fns.n; f++) {
		rets = calloc(x->fn_size[f] + 1, 8);
		n = calls(x, isa, f, rets);
		for (k = 0; k < x->nrec; k++) {
			const struct cc_landmark *lm = m->landmarks.p[k];

			if (lm->fn != f || lm->kind != LM_CALL)
				continue;
			for (i = 0; i < n && rets[i] <= x->rec[k].pc; i++)
				x->ret[k] = rets[i];
			if (!x->ret[k]) {
				free(rets);
				return bad(x, "a landmarked call is not "
					   "found in the code");
			}
		}
		free(rets);
	}
	return 0;
}

/*
 * x86_64: every frame starts push %rbp; mov %rsp,%rbp. aarch64: the
 * prologue is followed until x29 is set, counting the stack pointer's
 * moves: fp_off is x29 - CFA (CFA: the stack pointer at entry).
 */
static int prologues(struct exe *x, int isa, size_t nfn)
{
	static const uint8_t x86[4] = { 0x55, 0x48, 0x89, 0xe5 };
	size_t f;
	int i;

	x->fn_fpoff = calloc(nfn, sizeof(int64_t));
	for (f = 0; f < nfn; f++) {
		const uint8_t *c = code_at(x, x->fn_addr[f], 32);
		int64_t sp = 0;

		if (!c)
			return bad(x, "function outside .xisa_text");
		if (isa == CC_X86_64) {
			if (memcmp(c, x86, 4))
				return bad(x, "a function without frame "
					   "pointer");
			x->fn_fpoff[f] = -16;
			/* CFA - sp: LLVM's stack size leaves out the
			 * return address the call pushed */
			x->fn_stack[f] += 8;
			continue;
		}
		for (i = 0; i < 8; i++) {
			uint32_t w = RD(uint32_t, c + 4 * i);

			if ((w & 0xff8003ff) == 0xd10003ff)	/* sub sp */
				sp -= (int64_t)((w >> 10) & 0xfff) <<
				      ((w >> 22) & 1 ? 12 : 0);
			else if ((w & 0xffc003e0) == 0xa98003e0) /* stp ! */
				sp += (int64_t)((int32_t)(w << 10) >> 25) * 8;
			else if ((w & 0xffe00fe0) == 0xf8000fe0) /* str ! */
				sp += (int32_t)(w << 11) >> 23;
			else if ((w & 0xffc003ff) == 0x910003fd) { /* x29 */
				x->fn_fpoff[f] = sp + ((w >> 10) & 0xfff);
				break;
			}
		}
		if (i == 8)
			return bad(x, "a prologue not understood");
	}
	return 0;
}

/* aarch64: the entry block, up to the entry landmark, for base
 * registers stored to the stack. */
static void base_spills(struct exe *x, size_t f, uint64_t entry_lm)
{
	const uint8_t *c = code_at(x, x->fn_addr[f], entry_lm - x->fn_addr[f]);
	int known[32] = { 0 };
	int64_t val[32];
	uint16_t vreg[32];
	uint64_t i, n = (entry_lm - x->fn_addr[f]) / 4;

	for (i = 0; c && i < n; i++) {
		uint32_t w = RD(uint32_t, c + 4 * i);
		unsigned rd = w & 31, rn = (w >> 5) & 31;
		int64_t imm = (int64_t)((w >> 10) & 0xfff) <<
			      ((w >> 22) & 1 ? 12 : 0);

		if (((w & 0xff800000) == 0x91000000 ||
		     (w & 0xff800000) == 0xd1000000) &&
		    (rn == 29 || rn == 31) && rd != 29 && rd != 31) {
			known[rd] = 1;
			vreg[rd] = rn;
			val[rd] = (w & 0x40000000) ? -imm : imm;
			continue;
		}
		if ((w & 0xffc00000) == 0xf9000000 && rn == 31 && known[rd]) {
			struct fix *fx = calloc(1, sizeof(*fx));

			fx->slot_reg = 31;
			fx->slot_off = ((w >> 10) & 0xfff) * 8;
			fx->val_reg = vreg[rd];
			fx->val_off = val[rd];
			vec_push(&x->fixes[f], fx);
			continue;
		}
		/* any other write of rd forgets it */
		if (rd < 31)
			known[rd] = 0;
	}
}

static int same_builds(const struct cc_module m[CC_NR_ISA])
{
	size_t f, s;

	if (m[0].fns.n != m[1].fns.n ||
	    m[0].landmarks.n != m[1].landmarks.n || m[0].tls.n != m[1].tls.n)
		goto differ;
	for (f = 0; f < m[0].tls.n; f++)
		if (strcmp(m[0].tls.p[f], m[1].tls.p[f]))
			goto differ;
	for (f = 0; f < m[0].fns.n; f++) {
		const struct cc_fn *a = m[0].fns.p[f], *b = m[1].fns.p[f];

		if (strcmp(a->name, b->name) || a->nr_slots != b->nr_slots)
			goto differ;
		for (s = 0; s < a->nr_slots; s++)
			if (a->slot_size[s] != b->slot_size[s]) {
				fprintf(stderr, "ckpt cc: %s: a variable has "
					"another size on aarch64\n", a->name);
				return -1;
			}
	}
	for (f = 0; f < m[0].landmarks.n; f++) {
		const struct cc_landmark *a = m[0].landmarks.p[f];
		const struct cc_landmark *b = m[1].landmarks.p[f];

		if (a->kind != b->kind || a->fn != b->fn)
			goto differ;
	}
	return 0;
differ:
	fprintf(stderr, "ckpt cc: the x86_64 and aarch64 builds differ in "
		"their functions or landmarks\n");
	return -1;
}

static void write_fn(FILE *o, struct exe x[CC_NR_ISA],
		     const struct cc_module *m, size_t f)
{
	const struct cc_fn *fn = m->fns.p[f];
	const struct rec *r[CC_NR_ISA] = { NULL, NULL };
	size_t k, s;
	int isa;

	for (k = 0; k < x[0].nrec && !r[0]; k++)
		if (x[0].rec[k].fn == f) {
			r[0] = &x[0].rec[k];
			r[1] = &x[1].rec[k];
		}
	fprintf(o, "fn %zu %s %zu %zu", f, fn->name, fn->nr_slots,
		x[CC_AARCH64].fixes[f].n);
	for (isa = 0; isa < CC_NR_ISA; isa++)
		fprintf(o, " %#llx %#llx %llu %lld",
			(unsigned long long)x[isa].fn_addr[f],
			(unsigned long long)x[isa].fn_size[f],
			(unsigned long long)x[isa].fn_stack[f],
			(long long)x[isa].fn_fpoff[f]);
	fprintf(o, "\n");
	for (s = 0; s < fn->nr_slots; s++) {
		fprintf(o, "slot %llu", (unsigned long long)fn->slot_size[s]);
		for (isa = 0; isa < CC_NR_ISA; isa++)
			fprintf(o, " %u %d", r[isa]->loc[s].reg,
				r[isa]->loc[s].off);
		fprintf(o, "\n");
	}
	for (k = 0; k < x[CC_AARCH64].fixes[f].n; k++) {
		const struct fix *fx = x[CC_AARCH64].fixes[f].p[k];

		fprintf(o, "base aarch64 %u %lld %u %lld\n", fx->slot_reg,
			(long long)fx->slot_off, fx->val_reg,
			(long long)fx->val_off);
	}
}

static int write_meta(struct exe x[CC_NR_ISA], const struct cc_module *m,
		      const char *out)
{
	FILE *o = fopen(out, "w");
	size_t f, k;

	if (!o) {
		perror(out);
		return -1;
	}
	fprintf(o, "ckpt-xisa 1\n");
	fprintf(o, "bin x86_64 %#llx aarch64 %#llx\n",
		(unsigned long long)x[0].hash, (unsigned long long)x[1].hash);
	fprintf(o, "id x86_64 %zu %s aarch64 %zu %s\n", x[0].len,
		x[0].build_id, x[1].len, x[1].build_id);
	fprintf(o, "exit %#llx %#llx\n", (unsigned long long)x[0].exit_fn,
		(unsigned long long)x[1].exit_fn);
	fprintf(o, "thread %#llx %#llx\n", (unsigned long long)x[0].thread_ret,
		(unsigned long long)x[1].thread_ret);
	fprintf(o, "rtslots %#llx %#llx %#llx %#llx\n",
		(unsigned long long)x[0].slots, (unsigned long long)x[1].slots,
		(unsigned long long)x[0].slots_lock,
		(unsigned long long)x[1].slots_lock);
	fprintf(o, "data %#llx %#llx\n", (unsigned long long)x[0].data_start,
		(unsigned long long)x[0].data_end);
	fprintf(o, "counts %zu %zu\n", m->fns.n, x[0].nrec);
	for (f = 0; f < m->fns.n; f++)
		write_fn(o, x, m, f);
	for (k = 0; k < x[0].nrec; k++) {
		const struct cc_landmark *lm = m->landmarks.p[k];

		fprintf(o, "lm %zu %zu %c %#llx %#llx %#llx %#llx\n", k,
			lm->fn, lm->kind,
			(unsigned long long)x[0].rec[k].pc,
			(unsigned long long)x[0].ret[k],
			(unsigned long long)x[1].rec[k].pc,
			(unsigned long long)x[1].ret[k]);
	}
	for (k = 0; k < m->tls.n; k++)
		fprintf(o, "tls %s %llu %lld %lld\n", (char *)m->tls.p[k],
			(unsigned long long)x[0].tls_size[k],
			(long long)x[0].tls_off[k], (long long)x[1].tls_off[k]);
	return fclose(o) ? -1 : 0;
}

/* Both builds must agree on addresses and on each function's slots. */
static int check_aligned(struct exe x[CC_NR_ISA], const struct cc_module *m)
{
	size_t f, k, s;

	if (x[0].data_start != x[1].data_start ||
	    x[0].data_end != x[1].data_end)
		return bad(&x[1], "data not aligned with x86_64");
	for (f = 0; f < m->fns.n; f++)
		if (x[0].fn_addr[f] != x[1].fn_addr[f])
			return bad(&x[1], "a function not aligned");
	for (f = 0; f < m->tls.n; f++)
		if (x[0].tls_size[f] != x[1].tls_size[f]) {
			fprintf(stderr, "ckpt cc: %s: a thread-local variable "
				"has another size on aarch64\n",
				(char *)m->tls.p[f]);
			return -1;
		}
	for (k = 0; k < x[0].nrec; k++) {
		const struct cc_fn *fn = m->fns.p[x[0].rec[k].fn];

		for (s = 0; s < CC_NR_ISA; s++)
			if (x[s].rec[k].nloc != fn->nr_slots)
				return bad(&x[s], "a landmark lacks slots");
	}
	return 0;
}

int cc_meta(const char *const exe[CC_NR_ISA],
	    const struct cc_module mod[CC_NR_ISA], const char *out)
{
	struct exe x[CC_NR_ISA];
	int isa;

	memset(x, 0, sizeof(x));
	if (same_builds(mod))
		return -1;
	LLVMInitializeX86TargetInfo();
	LLVMInitializeX86TargetMC();
	LLVMInitializeX86Disassembler();
	LLVMInitializeAArch64TargetInfo();
	LLVMInitializeAArch64TargetMC();
	LLVMInitializeAArch64Disassembler();
	for (isa = 0; isa < CC_NR_ISA; isa++) {
		x[isa].path = exe[isa];
		if (load(&x[isa]) || build_id(&x[isa]) ||
		    parse_stackmaps(&x[isa], &mod[isa]) ||
		    functions(&x[isa], &mod[isa]) ||
		    return_addresses(&x[isa], isa, &mod[isa]) ||
		    prologues(&x[isa], isa, mod[isa].fns.n) ||
		    tls_vars(&x[isa], isa, &mod[isa]))
			return -1;
	}
	if (check_aligned(x, &mod[0]))
		return -1;
	x[CC_AARCH64].fixes = calloc(mod[0].fns.n + 1, sizeof(struct vec));
	for (size_t k = 0; k < x[0].nrec; k++) {
		const struct cc_landmark *lm = mod[0].landmarks.p[k];

		if (lm->kind == LM_ENTRY)
			base_spills(&x[CC_AARCH64], lm->fn,
				    x[CC_AARCH64].rec[k].pc);
	}
	return write_meta(x, &mod[0], out);
}
