/*
 * aarch64 as a side of a cross-ISA translation (arch/xisa.h): where the
 * image keeps its registers (struct user_pt_regs: x0-x30, sp, pc,
 * pstate) and its DWARF register numbers. Built into every ckpt,
 * whatever it runs on.
 */
#include "arch/xisa.h"
#include "image/image.h"

const struct xisa_isa xisa_aarch64 = {
	.name = "aarch64",
	.img_isa = IMG_ISA_AARCH64,
	.reg_pc = 32,
	.reg_sp = 31,
	.reg_fp = 29,		/* x29 */
	.nr_regs = 34,
	.reg_tp = 34,		/* tpidr_el0, after user_pt_regs */
	.dwarf_sp = 31,
	.dwarf_fp = 29,
};
