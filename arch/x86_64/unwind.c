/*
 * x86_64 registers for libunwind: its UNW_X86_64_* numbers (the DWARF
 * order, rax rdx rcx rbx rsi rdi rbp rsp r8-r15 rip) mapped onto the
 * words of struct user_regs_struct that an image keeps.
 */
#include <sys/user.h>
#include <errno.h>
#include <stddef.h>

#include <libunwind.h>

#include "arch/arch.h"

#define W(field) (offsetof(struct user_regs_struct, field) / sizeof(uint64_t))

static const size_t unw_word[] = {
	[UNW_X86_64_RAX] = W(rax), [UNW_X86_64_RDX] = W(rdx),
	[UNW_X86_64_RCX] = W(rcx), [UNW_X86_64_RBX] = W(rbx),
	[UNW_X86_64_RSI] = W(rsi), [UNW_X86_64_RDI] = W(rdi),
	[UNW_X86_64_RBP] = W(rbp), [UNW_X86_64_RSP] = W(rsp),
	[UNW_X86_64_R8] = W(r8), [UNW_X86_64_R9] = W(r9),
	[UNW_X86_64_R10] = W(r10), [UNW_X86_64_R11] = W(r11),
	[UNW_X86_64_R12] = W(r12), [UNW_X86_64_R13] = W(r13),
	[UNW_X86_64_R14] = W(r14), [UNW_X86_64_R15] = W(r15),
	[UNW_X86_64_RIP] = W(rip),
};

int arch_unw_reg(const struct arch_regs *r, int unw_regnum, uint64_t *val)
{
	if (unw_regnum < 0 ||
	    (size_t)unw_regnum >= ARRAY_SIZE(unw_word)) {
		errno = EINVAL;
		return -1;
	}
	*val = r->w[unw_word[unw_regnum]];
	return 0;
}
