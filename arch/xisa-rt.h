/*
 * The runtime of ckpt cc programs (cc/rt.c, cc/rt-heap.c, cc/rt-dump.c)
 * and its per-ISA parts (arch/ISA/rt/), linked into both executables.
 */
#ifndef CKPT_ARCH_XISA_RT_H
#define CKPT_ARCH_XISA_RT_H

#include <stdint.h>

/* into the innermost translated frame (arch/ISA/rt/xisa-jump.c) */
void xisa_rt_jump(uint64_t pc, uint64_t sp, uint64_t fp)
	__attribute__((noreturn));

/* where main's translated frame returns (xisa-jump.c): main's return
 * value made the argument of ckpt_xisa_exit_code, which exits with it */
void ckpt_xisa_exit_code(int code) __attribute__((noreturn, used));

/* arch/ISA/rt/xisa-trap.c: the breakpoint instruction, the ISA as
 * enum img_isa and as its column in PROG.xisa (0 x86_64, 1 aarch64) */
extern const unsigned char xisa_rt_trap[];
extern const unsigned int xisa_rt_trap_len;
extern const uint32_t xisa_rt_img_isa;
extern const int xisa_rt_col;
/* A breakpoint's signal context (ucontext_t): the breakpoint's address
 * and the stack and frame pointers; set_pc makes it resume at pc. */
void xisa_rt_trapped(void *uc, uint64_t *pc, uint64_t *sp, uint64_t *fp);
void xisa_rt_set_pc(void *uc, uint64_t pc);
/* The calling thread's thread pointer (fs base, tpidr_el0) */
uint64_t xisa_rt_tp(void);

/* cc/rt-heap.c: the runtime mapped the heap a translated image carried */
void ckpt_xisa_heap_carried(void);
/* cc/rt-threads.c: the program's threads alive, main's included */
int ckpt_xisa_threads(void);
/* cc/rt-dump.c: CKPT_XISA_DUMP set: ready to checkpoint on SIGUSR2 */
void ckpt_xisa_dump_init(const char *path);

#endif
