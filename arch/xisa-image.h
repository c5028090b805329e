/*
 * The translated image (ckpt translate's output, ckpt-image(5) "CROSS-ISA
 * IMAGES"): what the runtime of a ckpt cc program (cc/rt.c) reads to
 * resume on the other ISA. A header, then nr_regions regions, each a
 * struct xisa_region followed by len bytes. Little endian, like both ISAs.
 *
 * The same layout with the magic XISA_SRC_MAGIC is a source image: what
 * the runtime's own checkpointer (cc/rt-dump.c) writes of the program
 * where ckpt cannot ptrace it (under qemu-aarch64), taken at a landmark,
 * which ckpt translate reads as it reads a ckpt image of one thread. Its
 * isa is the ISA it was taken on, bin_hash 0; its regions are page (4096)
 * aligned: the thread's stack (the VMA holding sp, from 64 KiB below
 * sp), the writable pages of the program's globals (XISA_R_PROGRAM),
 * the carried heap's VMAs, the pages holding the program's thread-local
 * variables (its tp the thread pointer), and one XISA_R_EXE, the
 * executable's path.
 *
 * Version 2 added tp and XISA_R_TLS; version 3 the threads: an image
 * of a program of several threads (cc/rt-threads.c) has one XISA_R_THREAD
 * region per thread, main's first (its pc, sp, fp and tp also in the
 * header); a translated one has, after the heap, each other thread's
 * rebuilt stack as an XISA_R_OVER region. Version 4 added the signal
 * actions: one XISA_R_SIGACT region per signal, both kinds of image.
 */
#ifndef CKPT_ARCH_XISA_IMAGE_H
#define CKPT_ARCH_XISA_IMAGE_H

#include <stdint.h>

#define XISA_MAGIC	"CKPTXISA"
#define XISA_SRC_MAGIC	"CKPTXSRC"
#define XISA_VERSION	4
#define XISA_MAX_REGIONS	65536
/* bytes of a GNU build id that PROG.xisa records (sha1: 20) */
#define XISA_BUILD_ID_MAX	32

/* The carried heap: ckpt cc programs' malloc, free, mmap... (cc/rt-heap.c)
 * take their memory from here, with the allocator's state in its first
 * page, so that all of it moves, at its addresses, with the program. The
 * first half is the malloc heap, the second the program's mmaps. */
#define XISA_HEAP_BASE	0x100000000000ull
#define XISA_HEAP_SIZE	(1ull << 38)

struct xisa_hdr {
	char magic[8];
	uint32_t version;
	uint32_t isa;		/* enum img_isa of the target (source: taken on) */
	uint64_t bin_hash;	/* FNV-1a 64 of the target executable */
	uint64_t pc, sp, fp;	/* where the innermost frame resumes */
	uint32_t landmark;	/* its landmark id */
	uint32_t nr_regions;
	uint64_t tp;		/* source: the thread pointer; translated: 0 */
	uint64_t stop_ns;	/* source: from the SIGUSR2 to every thread
				 * stopped; translated: 0 */
};

struct xisa_region {
	uint64_t addr, len;	/* page aligned unless XISA_R_PROGRAM */
	uint32_t prot;		/* PROT_* once filled */
	uint32_t flags;		/* XISA_R_* */
};

/* in the program's own (aligned, writable) data: copied over, not mapped */
#define XISA_R_PROGRAM	1u
/* pages the image did not hold: mapped, zero, no bytes follow (len) */
#define XISA_R_ZERO	2u
/* source images: not memory but the executable's path (len bytes) */
#define XISA_R_EXE	4u
/* translated images: one thread-local variable's bytes; addr is its
 * offset from the thread pointer (two's complement), not page aligned */
#define XISA_R_TLS	8u
/* one thread (len: sizeof(struct xisa_thread)), addr 0 */
#define XISA_R_THREAD	16u
/* translated images: bytes written over memory a region before mapped
 * (a thread's stack, which lies in the carried heap) */
#define XISA_R_OVER	32u

/* a signal's action (addr: the signal, len: sizeof(struct xisa_sigact)) */
#define XISA_R_SIGACT	64u
/* signals 1 to XISA_NSIG */
#define XISA_NSIG	64

/* The action of a signal: SIG_DFL (0), SIG_IGN (1) or a function of the
 * program (the same address in both builds); the kernel's SA_* flags,
 * the same on both ISAs, without SA_RESTORER (each libc puts its own);
 * the signals blocked while it runs, bit n - 1 for signal n. */
struct xisa_sigact {
	uint64_t handler, flags, mask;
};

/* A thread of the program, stopped at a landmark (XISA_T_LANDMARK: pc
 * the landmark, sp and fp there) or blocked in one of the runtime's
 * thread functions (XISA_T_BLOCKED: pc the program's return address from
 * it, fp the caller's frame pointer; sp in a translated image the stack
 * pointer after the return), which is issued again from where it waited
 * (op, a, b, c) before the program is resumed there with its value. */
struct xisa_thread {
	uint64_t handle;	/* its record in the carried heap; main: 0 */
	uint64_t stack_lo, stack_hi;	/* its stack; main: 0 */
	uint64_t pc, sp, fp, tp;
	uint64_t a, b, c;
	uint32_t how;		/* XISA_T_* */
	uint32_t op;		/* XISA_OP_* */
};

#define XISA_T_LANDMARK	0u
#define XISA_T_BLOCKED	1u

#define XISA_OP_JOIN	1u	/* a: the thread's record, b: void ** */
#define XISA_OP_LOCK	2u	/* a: the mutex */
#define XISA_OP_COND	3u	/* a: the condvar, b: the mutex, c: seq */
/* most threads an image holds */
#define XISA_MAX_THREADS	64

#endif
