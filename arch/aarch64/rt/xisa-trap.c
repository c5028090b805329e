/*
 * The aarch64 side of the runtime's checkpointer (cc/rt-dump.c) and of
 * its healer (cc/rt-heal.c): brk #0 on the landmarks, which stops with
 * the pc on it.
 */
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <ucontext.h>

#include "arch/xisa-rt.h"

const unsigned char xisa_rt_trap[] = { 0x00, 0x00, 0x20, 0xd4 };
const unsigned int xisa_rt_trap_len = sizeof(xisa_rt_trap);
const uint32_t xisa_rt_img_isa = 2;	/* IMG_ISA_AARCH64 */
const int xisa_rt_col = 1;
const int xisa_rt_trap_code = TRAP_BRKPT;	/* what brk gives */

int xisa_rt_own_trap(const unsigned char *b)
{
	uint32_t insn;

	memcpy(&insn, b, sizeof(insn));
	return (insn & 0xffe0001fu) == 0xd4200000u;	/* brk #imm */
}

void xisa_rt_trapped(void *uc, uint64_t *pc, uint64_t *sp, uint64_t *fp)
{
	const mcontext_t *m = &((ucontext_t *)uc)->uc_mcontext;

	*pc = m->pc;
	*sp = m->sp;
	*fp = m->regs[29];
}

void xisa_rt_set_pc(void *uc, uint64_t pc)
{
	((ucontext_t *)uc)->uc_mcontext.pc = pc;
}

uint64_t xisa_rt_tp(void)
{
	uint64_t tp;

	__asm__ volatile("mrs %0, tpidr_el0" : "=r"(tp));
	return tp;
}
