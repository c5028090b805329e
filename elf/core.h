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
 * read from there), as an ELF64 core into out_fd, an empty regular file
 * (ckpt convert gives a durable temporary of mode 0600, util/durable.h,
 * and commits it); name is the file's in messages. Only lseek, write and
 * ftruncate touch out_fd, and other files are opened read-only, so that
 * a seccomp filter can confine the caller (ckpt/confine.h). The image
 * must be of this build's ISA.
 * Returns 0, or -1 with one pr_err line.
 */
int elf_write_core(int img_fd, const struct image *img, int out_fd,
		   const char *name) __must_check;

#endif
