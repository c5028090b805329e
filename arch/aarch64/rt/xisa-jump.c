/*
 * The aarch64 side of the ckpt cc runtime (cc/rt.c): into the innermost
 * translated frame, and out of main's. Nothing is live in registers at
 * a landmark but the stack and frame pointers, so they and the program
 * counter are all.
 */
#include <stdint.h>

#include "arch/xisa-rt.h"

void xisa_rt_jump(uint64_t pc, uint64_t sp, uint64_t fp)
{
	__asm__ volatile("mov sp, %1\n\tmov x29, %2\n\tbr %0"
			 : : "r"(pc), "r"(sp), "r"(fp) : "memory");
	__builtin_unreachable();
}

/* entered by main's ret, its value in w0 already */
__asm__(".text\n.globl ckpt_xisa_exit\n.type ckpt_xisa_exit, %function\n"
	"ckpt_xisa_exit:\n\tbl ckpt_xisa_exit_code\n"
	"\tbrk #1\n.size ckpt_xisa_exit, . - ckpt_xisa_exit\n");
