/*
 * Cross-ISA restart (issue 16): the metadata of a ckpt cc program
 * (PROG.xisa, written by cc/meta.c) and the translation of an image
 * taken at a landmark into a translated image for the other ISA.
 *
 * Unlike the rest of arch/, this is not about the ISA ckpt runs on: both
 * ISAs' descriptions (arch/x86_64/xisa.c, arch/aarch64/xisa.c) are built
 * into every ckpt. Indexes 0 and 1 are x86_64 and aarch64 everywhere.
 */
#ifndef CKPT_ARCH_XISA_H
#define CKPT_ARCH_XISA_H

#include <stddef.h>
#include <stdint.h>

#include "arch/xisa-image.h"
#include "util/util.h"

enum { XISA_X86_64, XISA_AARCH64, XISA_NR };

/* What generic code needs of an ISA to walk and build frames. Both keep
 * a frame record {caller's frame pointer, return address} at the frame
 * pointer; the CFA is the stack pointer before the call. */
struct xisa_isa {
	const char *name;
	uint32_t img_isa;	/* enum img_isa */
	unsigned reg_pc, reg_sp, reg_fp;	/* words of the image's regs */
	unsigned nr_regs;			/* at least this many */
	unsigned reg_tp;	/* the thread pointer; >= nr_regs: only in
				 * source images (arch/xisa-src.c) */
	uint16_t dwarf_sp, dwarf_fp;	/* stack map location registers */
};

extern const struct xisa_isa xisa_x86_64, xisa_aarch64;
const struct xisa_isa *xisa_isa(int idx);
/* XISA_* of a name ("x86_64", "aarch64"), or -1 */
int xisa_by_name(const char *name);

struct xisa_slot {
	uint64_t size;
	uint16_t reg[XISA_NR];
	int32_t off[XISA_NR];
};

/* aarch64: a frame address spilled in the entry block (a base register
 * of LLVM's local stack slot allocation), made again in a new frame */
struct xisa_base {
	uint16_t slot_reg, val_reg;	/* DWARF numbers */
	int64_t slot_off, val_off;
};

struct xisa_fn {
	char name[128];
	uint64_t addr[XISA_NR], size[XISA_NR];
	uint64_t stack[XISA_NR];	/* frame size: CFA - stack pointer */
	int64_t fpoff[XISA_NR];		/* frame pointer - CFA */
	uint32_t nr_slots;
	struct xisa_slot *slots;
	uint32_t nr_bases;	/* of the aarch64 build */
	struct xisa_base *bases;
};

struct xisa_lm {
	uint32_t id, fn;
	char kind;		/* 'E'ntry, 'C'all, 'L'oop */
	uint64_t pc[XISA_NR];
	uint64_t ret[XISA_NR];	/* calls: the call's return address */
};

/* a thread-local variable of the program: its place from the thread
 * pointer in each build */
struct xisa_tls {
	uint64_t size;
	int64_t tpoff[XISA_NR];
};

struct xisa_meta {
	uint64_t hash[XISA_NR];		/* of each executable */
	/* and its size and GNU build id (hex), when ckpt cc wrote them:
	 * what is checked, rather than reading the whole executable */
	uint64_t size[XISA_NR];
	char build_id[XISA_NR][2 * XISA_BUILD_ID_MAX + 1];
	uint64_t exit_fn[XISA_NR];	/* ckpt_xisa_exit */
	uint64_t thread_ret[XISA_NR];	/* ckpt_xisa_thread_ret, or 0 */
	/* the runtime's thread slots and their lock (xisa_rt_slots,
	 * xisa_rt_ck), or 0 */
	uint64_t slots[XISA_NR], slots_lock[XISA_NR];
	uint64_t data_start, data_end;	/* the aligned globals */
	uint32_t nr_fns, nr_lms;
	struct xisa_fn *fns;
	struct xisa_lm *lms;
	uint32_t main_fn;
	uint32_t nr_tls;
	struct xisa_tls *tls;
};

/* PROG.xisa of an executable PROG.x86_64 or PROG.aarch64 (malloc'd),
 * or NULL (not such a name); *isa set to the executable's. */
char *xisa_meta_path(const char *exe, int *isa);
/* The executable of the other ISA beside it (malloc'd) */
char *xisa_exe_path(const char *exe, int isa);
int xisa_meta_read(const char *path, struct xisa_meta *m) __must_check;
void xisa_meta_free(struct xisa_meta *m);
int xisa_hash_file(const char *path, uint64_t *h) __must_check;
/* 0 if path is the executable of isa that m describes (its size and
 * build id, or without them its hash), else -1 */
int xisa_exe_matches(const char *path, const struct xisa_meta *m, int isa)
	__must_check;
/* The landmark at pc in the build of isa, or NULL */
const struct xisa_lm *xisa_lm_at(const struct xisa_meta *m, int isa,
				 uint64_t pc);
/* The landmarked call returning to ret, or NULL */
const struct xisa_lm *xisa_lm_ret(const struct xisa_meta *m, int isa,
				  uint64_t ret);
/* Load meta for the running executable exe (checked against its hash) */
int xisa_meta_for(const char *exe, struct xisa_meta *m, int *isa)
	__must_check;

/* A thread of a stopped ckpt cc program as ptrace or an image shows it:
 * at (1) if it stands at a landmark, pc, sp, fp and tp its registers */
struct xisa_seen {
	int32_t tid;
	int leader;
	int at;
	uint64_t pc, sp, fp, tp;
};
/* len bytes at addr of the program (live or in an image): 0 or -1 */
typedef int (*xisa_read_fn)(void *ctx, uint64_t addr, void *buf,
			    size_t len);
/* arch/xisa-thr.c: the rule of the runtime's checkpointer (cc/rt-dump.c)
 * for the n threads seen of a program of isa, its memory read through
 * rd: 0 when each is at a landmark or waits in the runtime (out[], main
 * first, says where: n of them); 1 when thread seen[*busy] is neither (or
 * the runtime is in the middle of a change); -1 (said why). */
int xisa_threads_of(const struct xisa_meta *m, int isa, xisa_read_fn rd,
		    void *ctx, const struct xisa_seen *seen, unsigned n,
		    struct xisa_thread *out, unsigned *busy) __must_check;

struct xisa_stats {
	unsigned frames, threads;
	uint64_t stack_bytes, data_bytes, heap_bytes;
	double seconds;		/* the translation, reading and writing out */
	/* parts of it: reading the image; the metadata and the binaries'
	 * hashes; walking and building the frames and globals; making the
	 * output durable (fsync, rename, fsync of the directory). The rest
	 * is the heap and writing out. */
	double read_seconds, meta_seconds, frame_seconds, sync_seconds;
	/* a source image: from the SIGUSR2 to every thread stopped */
	double stop_seconds;
};

struct image;
/* A source image the runtime wrote (cc/rt-dump.c) as an image of one
 * thread (arch/xisa-src.c), or NULL (said why) */
struct image *xisa_src_read(int fd, const char *name);
/* Its threads (*out malloc'd, main's first): their number, 0 if it has
 * none recorded (one thread, the header's), -1 (said why) */
int xisa_src_threads(int fd, const char *name, struct xisa_thread **out);
/* Its signals' actions: acts[sig - 1] where have[sig - 1] (XISA_NSIG
 * each); 0 or -1 (said why) */
int xisa_src_sigacts(int fd, const char *name, struct xisa_sigact *acts,
		     char *have) __must_check;

/* Translate the image at img (taken at a landmark: by attach --landmark,
 * or a source image of the runtime) for ISA `to`; write
 * the translated image to out, whole or not at all, and with sync so
 * that it survives a crash (without, a crash may lose it: the image
 * it is made from is still there). Logs what it refuses. */
int xisa_translate(const char *img, const char *out, int to, int sync,
		   struct xisa_stats *st) __must_check;

#endif
