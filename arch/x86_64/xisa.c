/*
 * x86_64 as a side of a cross-ISA translation (arch/xisa.h): where the
 * image keeps its registers (struct user_regs_struct) and its DWARF
 * register numbers. Built into every ckpt, whatever it runs on.
 */
#include "arch/xisa.h"
#include "image/image.h"

const struct xisa_isa xisa_x86_64 = {
	.name = "x86_64",
	.img_isa = IMG_ISA_X86_64,
	.reg_pc = 16,		/* rip */
	.reg_sp = 19,		/* rsp */
	.reg_fp = 4,		/* rbp */
	.nr_regs = 27,
	.reg_tp = 21,		/* fs_base */
	.dwarf_sp = 7,
	.dwarf_fp = 6,
};
