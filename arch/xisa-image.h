/*
 * The translated image (ckpt translate's output, ckpt-image(5) "CROSS-ISA
 * IMAGES"): what the runtime of a ckpt cc program (cc/rt.c) reads to
 * resume on the other ISA. A header, then nr_regions regions, each a
 * struct xisa_region followed by len bytes. Little endian, like both ISAs.
 */
#ifndef CKPT_ARCH_XISA_IMAGE_H
#define CKPT_ARCH_XISA_IMAGE_H

#include <stdint.h>

#define XISA_MAGIC	"CKPTXISA"
#define XISA_VERSION	1
#define XISA_MAX_REGIONS	65536

/* The carried heap: ckpt cc programs' malloc, free, mmap... (cc/rt-heap.c)
 * take their memory from here, with the allocator's state in its first
 * page, so that all of it moves, at its addresses, with the program. The
 * first half is the malloc heap, the second the program's mmaps. */
#define XISA_HEAP_BASE	0x100000000000ull
#define XISA_HEAP_SIZE	(1ull << 38)

struct xisa_hdr {
	char magic[8];
	uint32_t version;
	uint32_t isa;		/* enum img_isa of the target */
	uint64_t bin_hash;	/* FNV-1a 64 of the target executable */
	uint64_t pc, sp, fp;	/* where the innermost frame resumes */
	uint32_t landmark;	/* its landmark id */
	uint32_t nr_regions;
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

#endif
