/*
 * The x86_64 side of the runtime's checkpointer (cc/rt-dump.c): int3 on
 * the landmarks, which stops with rip just after it; and of its healer
 * (cc/rt-heal.c).
 */
#include <signal.h>
#include <stdint.h>
#include <ucontext.h>

#include "arch/xisa-rt.h"

const unsigned char xisa_rt_trap[] = { 0xcc };
const unsigned int xisa_rt_trap_len = sizeof(xisa_rt_trap);
const uint32_t xisa_rt_img_isa = 1;	/* IMG_ISA_X86_64 */
const int xisa_rt_col = 0;
/* ckpt attach --landmark's breakpoint (arch_breakpoint_insn): hlt,
 * which faults with rip on it */
const unsigned char xisa_rt_bp[] = { 0xf4 };
const unsigned int xisa_rt_bp_len = sizeof(xisa_rt_bp);
const int xisa_rt_bp_sig = SIGSEGV;
const int xisa_rt_bp_code = SI_KERNEL;

uint64_t xisa_rt_bp_at(void *uc)
{
	return ((ucontext_t *)uc)->uc_mcontext.gregs[REG_RIP];
}

void xisa_rt_trapped(void *uc, uint64_t *pc, uint64_t *sp, uint64_t *fp)
{
	const greg_t *g = ((ucontext_t *)uc)->uc_mcontext.gregs;

	*pc = g[REG_RIP] - 1;
	*sp = g[REG_RSP];
	*fp = g[REG_RBP];
}

void xisa_rt_set_pc(void *uc, uint64_t pc)
{
	((ucontext_t *)uc)->uc_mcontext.gregs[REG_RIP] = pc;
}

uint64_t xisa_rt_tp(void)
{
	uint64_t tp;

	/* the TCB's first word points to itself */
	__asm__ volatile("mov %%fs:0, %0" : "=r"(tp));
	return tp;
}
