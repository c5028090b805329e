/*
 * The aarch64 side of the runtime's checkpointer (cc/rt-dump.c): brk #0
 * on the landmarks, which stops with the pc on it; and of its healer
 * (cc/rt-heal.c).
 */
#include <signal.h>
#include <stdint.h>
#include <ucontext.h>

#include "arch/xisa-rt.h"

const unsigned char xisa_rt_trap[] = { 0x00, 0x00, 0x20, 0xd4 };
const unsigned int xisa_rt_trap_len = sizeof(xisa_rt_trap);
const uint32_t xisa_rt_img_isa = 2;	/* IMG_ISA_AARCH64 */
const int xisa_rt_col = 1;
/* ckpt attach --landmark's breakpoint: brk #0, as the checkpointer's */
const unsigned char xisa_rt_bp[] = { 0x00, 0x00, 0x20, 0xd4 };
const unsigned int xisa_rt_bp_len = sizeof(xisa_rt_bp);
const int xisa_rt_bp_sig = SIGTRAP;
const int xisa_rt_bp_code = TRAP_BRKPT;

uint64_t xisa_rt_bp_at(void *uc)
{
	return ((ucontext_t *)uc)->uc_mcontext.pc;
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
