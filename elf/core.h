/*
 * elf/core: an ELF core file of a checkpoint image, for gdb and the other
 * tools that read cores (gdb PROG CORE shows the threads and backtraces
 * of the process as it was dumped).
 */
#ifndef CKPT_CORE_H
#define CKPT_CORE_H

#include "image/image.h"
#include "util/util.h"

/*
 * Write the first process of img, parsed from img_fd (whose page data is
 * read from there), as an ELF64 core at path: a temporary file of mode
 * 0600 beside path, flushed and renamed over it once complete, and the
 * rename flushed too (util/durable.h); nothing is left at either name on
 * failure. The image must be of this build's ISA.
 * Returns 0, or -1 with one pr_err line.
 */
int elf_write_core(int img_fd, const struct image *img, const char *path)
	__must_check;

#endif
