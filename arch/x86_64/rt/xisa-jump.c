/*
 * The x86_64 side of the ckpt cc runtime (cc/rt.c): into the innermost
 * translated frame, and out of main's. Nothing is live in registers at
 * a landmark but the stack and frame pointers, so they and the program
 * counter are all.
 */
#include <stdint.h>

#include "arch/xisa-rt.h"

void xisa_rt_jump(uint64_t pc, uint64_t sp, uint64_t fp)
{
	__asm__ volatile("mov %1, %%rsp\n\tmov %2, %%rbp\n\tjmp *%0"
			 : : "r"(pc), "r"(sp), "r"(fp) : "memory");
	__builtin_unreachable();
}

/* entered by main's ret (rsp 16-aligned): the call aligns it as a
 * function expects */
__asm__(".text\n.globl ckpt_xisa_exit\n.type ckpt_xisa_exit, @function\n"
	"ckpt_xisa_exit:\n\tmovl %eax, %edi\n\tcall ckpt_xisa_exit_code\n"
	"\thlt\n.size ckpt_xisa_exit, . - ckpt_xisa_exit\n");

void xisa_rt_ret(uint64_t pc, uint64_t sp, uint64_t fp, uint64_t rv)
{
	register uint64_t a __asm__("rsi") = pc, b __asm__("rdi") = sp;
	register uint64_t c __asm__("rdx") = fp, d __asm__("rcx") = rv;

	__asm__ volatile("mov %1, %%rsp\n\tmov %2, %%rbp\n\tmov %3, %%rax\n\t"
			 "jmp *%0" : : "r"(a), "r"(b), "r"(c), "r"(d)
			 : "rax", "memory");
	__builtin_unreachable();
}

/* top 16-aligned: fn entered as if called, its return address
 * ckpt_xisa_thread_ret, no frame pointer above it */
void xisa_rt_call_on(uint64_t fn, uint64_t arg, uint64_t top)
{
	register uint64_t a __asm__("rsi") = fn, b __asm__("rdi") = arg;
	register uint64_t c __asm__("rdx") = top;

	__asm__ volatile("mov %2, %%rsp\n\txor %%ebp, %%ebp\n\t"
			 "lea ckpt_xisa_thread_ret(%%rip), %%rax\n\t"
			 "push %%rax\n\tjmp *%0"
			 : : "r"(a), "r"(b), "r"(c) : "rax", "memory");
	__builtin_unreachable();
}

/* entered by a thread's start routine's ret (rsp 16-aligned) */
__asm__(".text\n.globl ckpt_xisa_thread_ret\n"
	".type ckpt_xisa_thread_ret, @function\n"
	"ckpt_xisa_thread_ret:\n\tmov %rax, %rdi\n"
	"\tcall ckpt_xisa_thread_done\n\thlt\n"
	".size ckpt_xisa_thread_ret, . - ckpt_xisa_thread_ret\n");
