/*
 * The aarch64 side of the ckpt cc runtime (cc/rt.c): into the innermost
 * translated frame. Nothing is live in registers at a landmark but the
 * stack and frame pointers, so they and the program counter are all.
 */
#include <stdint.h>

void xisa_rt_jump(uint64_t pc, uint64_t sp, uint64_t fp)
	__attribute__((noreturn));

void xisa_rt_jump(uint64_t pc, uint64_t sp, uint64_t fp)
{
	__asm__ volatile("mov sp, %1\n\tmov x29, %2\n\tbr %0"
			 : : "r"(pc), "r"(sp), "r"(fp) : "memory");
	__builtin_unreachable();
}
