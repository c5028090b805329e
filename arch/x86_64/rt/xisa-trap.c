/*
 * The x86_64 side of the runtime's checkpointer (cc/rt-dump.c) and of
 * its healer (cc/rt-heal.c): int3 on the landmarks, which stops with rip
 * just after it.
 */
#include <signal.h>
#include <stdint.h>
#include <ucontext.h>

#include "arch/xisa-rt.h"

const unsigned char xisa_rt_trap[] = { 0xcc };
const unsigned int xisa_rt_trap_len = sizeof(xisa_rt_trap);
const uint32_t xisa_rt_img_isa = 1;	/* IMG_ISA_X86_64 */
const int xisa_rt_col = 0;
const int xisa_rt_trap_code = SI_KERNEL;	/* what int3 gives */

int xisa_rt_own_trap(const unsigned char *b)
{
	/* int3 (not int $3, cd 03: an instruction ending in 0xcd before
	 * one starting with 0x03, add, would look the same) */
	return b[0] == 0xcc;
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
