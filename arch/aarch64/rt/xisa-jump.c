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

void xisa_rt_ret(uint64_t pc, uint64_t sp, uint64_t fp, uint64_t rv)
{
	register uint64_t a __asm__("x9") = pc, b __asm__("x10") = sp;
	register uint64_t c __asm__("x11") = fp, d __asm__("x12") = rv;

	__asm__ volatile("mov sp, %1\n\tmov x29, %2\n\tmov x0, %3\n\tbr %0"
			 : : "r"(a), "r"(b), "r"(c), "r"(d)
			 : "x0", "memory");
	__builtin_unreachable();
}

/* fn entered as if called from ckpt_xisa_thread_ret, no frame above */
void xisa_rt_call_on(uint64_t fn, uint64_t arg, uint64_t top)
{
	register uint64_t a __asm__("x9") = fn, b __asm__("x10") = arg;
	register uint64_t c __asm__("x11") = top;

	__asm__ volatile("mov sp, %2\n\tmov x29, xzr\n\tmov x0, %1\n\t"
			 "adrp x30, ckpt_xisa_thread_ret\n\t"
			 "add x30, x30, :lo12:ckpt_xisa_thread_ret\n\tbr %0"
			 : : "r"(a), "r"(b), "r"(c) : "x0", "x30", "memory");
	__builtin_unreachable();
}

/* entered by a thread's start routine's ret, its value in x0 already */
__asm__(".text\n.globl ckpt_xisa_thread_ret\n"
	".type ckpt_xisa_thread_ret, %function\n"
	"ckpt_xisa_thread_ret:\n\tbl ckpt_xisa_thread_done\n"
	"\tbrk #1\n.size ckpt_xisa_thread_ret, . - ckpt_xisa_thread_ret\n");
