/*
 * elf/backtrace: the call stack of a thread of an image, computed from
 * the image alone, with no process: libunwind reads the thread's
 * registers and the image's memory (dumped pages, and the files behind
 * file mappings for text and unwind tables, which are not dumped), finds
 * frames with each object's .eh_frame_hdr, and elfsym names them.
 */
#ifndef CKPT_BACKTRACE_H
#define CKPT_BACKTRACE_H

#include <stdint.h>

#include "image/image.h"
#include "util/util.h"

struct bt_frame {
	uint64_t pc, sp;
	uint64_t offset;	/* pc - start of name */
	char name[128];		/* symbol, or "" when unknown */
	char object[256];	/* the mapping's path, [vdso], or "" */
};

/* Where the memory of a process of an image comes from: the plain image
 * open on fd (pread only: the offset is left alone), whose header says
 * page_size. */
struct bt_image {
	int fd;
	uint32_t page_size;
	const struct img_process *p;
	const struct image *img;	/* its parents' files (img_chain_fd),
					 * or NULL */
};

/*
 * Unwind thread t of src->p into at most max frames, innermost first.
 * Returns the number of frames (at least 1: the thread's own pc), or -1
 * with errno EINVAL when t's registers are not of this build's ISA, or
 * ENOMEM. Files that changed since the dump give wrong names.
 */
int elf_backtrace(const struct bt_image *src, const struct img_thread *t,
		  struct bt_frame *frames, int max) __must_check;

#endif
