/*
 * arch: everything that depends on the instruction set. Generic code calls
 * these functions and never looks inside struct arch_regs; each ISA folder
 * (arch/x86_64/, arch/aarch64/) implements the same set.
 */
#ifndef CKPT_ARCH_H
#define CKPT_ARCH_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "util/util.h"

/* Big enough for any ISA's general registers (x86_64 has 27, aarch64 34). */
struct arch_regs {
	uint64_t w[48];
};

/* enum img_isa of this build */
uint32_t arch_isa(void);

/* ptrace access to a stopped thread's general and extended registers.
 * arch_get_xstate fills at most *len bytes and sets *len to the size. */
int arch_get_regs(pid_t tid, struct arch_regs *r) __must_check;
int arch_set_regs(pid_t tid, const struct arch_regs *r) __must_check;
int arch_get_xstate(pid_t tid, void *buf, size_t *len) __must_check;
int arch_set_xstate(pid_t tid, const void *buf, size_t len) __must_check;
size_t arch_xstate_max(void);

uint64_t arch_regs_ip(const struct arch_regs *r);
uint64_t arch_regs_sp(const struct arch_regs *r);
long arch_regs_retval(const struct arch_regs *r);

/* Point r at a system call: ip at an instruction made by
 * arch_syscall_insn(), number and up to six arguments set. */
void arch_regs_syscall(struct arch_regs *r, uint64_t ip, long nr,
		       const uint64_t args[6]);
/* The bytes of "system call; breakpoint", padded to 8 bytes. */
void arch_syscall_insn(uint8_t insn[8]);
/* Offset of a system call instruction in code[0..len), or -1. Its bytes
 * need not start an instruction of the code around them: jumping to them
 * runs the system call all the same. */
long arch_find_syscall_insn(const uint8_t *code, size_t len);

/*
 * The injector's safety net (sigframe.c). A remote call runs from the
 * target's own "syscall; return" code; the return goes on through a chain
 * of the target's own "pop; return" code that unmaps the injector's data
 * page, then into the target's own rt_sigreturn trampoline on a frame
 * holding the thread's context: a thread released mid-call (its tracer
 * died) puts itself back and leaves nothing of ours behind.
 *
 * arch_find_gadgets fills the fields still 0 of g with the addresses of
 * such code in code[0..len), which lies at address at in the target.
 * arch_sigframe_build writes the frame and the XSAVE image as they will
 * lie at target address at (64-byte aligned) and sets *frame to the
 * frame's address. arch_way_back_build writes the chain and the frame
 * (which unmaps unmap_addr..+unmap_len, unless unmap_len is 0 or g lacks
 * a gadget for it) for the target address at, into buf, and sets *sp to
 * the stack pointer the call must have. A signal delivered meanwhile is
 * pushed below *sp: leave room there.
 */
struct arch_gadgets {
	uint64_t syscall_ret;	/* system call, then return */
	uint64_t sigreturn;	/* the rt_sigreturn trampoline */
	uint64_t pop_nr;	/* pop the syscall number register; return */
	uint64_t pop_arg0;	/* pop the first argument register; return */
	uint64_t pop_arg1;	/* pop the second argument register; return */
	uint64_t any_syscall;	/* any system call instruction */
};
void arch_find_gadgets(const uint8_t *code, size_t len, uint64_t at,
		       struct arch_gadgets *g);
size_t arch_sigframe_size(size_t xstate_len);
int arch_sigframe_build(void *buf, size_t len, uint64_t at,
			const struct arch_regs *r, uint64_t sigmask,
			const void *xstate, size_t xstate_len,
			uint64_t restorer, uint64_t *frame) __must_check;
size_t arch_way_back_size(size_t xstate_len);
int arch_way_back_build(void *buf, size_t len, uint64_t at,
			const struct arch_regs *r, uint64_t sigmask,
			const void *xstate, size_t xstate_len,
			const struct arch_gadgets *g, uint64_t unmap_addr,
			uint64_t unmap_len, uint64_t *sp) __must_check;
void arch_regs_set_sp(struct arch_regs *r, uint64_t sp);

/*
 * A thread stopped inside a system call carries the kernel's restart state.
 * Turn it into the plain state that re-executes the call on resume (what
 * the kernel itself would do when no signal handler runs): ip back over the
 * syscall instruction, the number back in the return register, and the
 * "in a syscall" marker cleared so that nothing rewinds it a second time.
 * A call interrupted with a restart block (nanosleep, poll, futex with a
 * timeout) is re-issued from its saved arguments when restart_block is 0
 * (a new process has no restart block), or continued through
 * restart_syscall when 1 (the same live process resumes).
 * Returns 1 when r was changed, 0 when r was not in a restartable call.
 */
int arch_regs_normalize_restart(struct arch_regs *r, int restart_block);
/* After arch_regs_normalize_restart(r, 0): the number of the call that
 * resumes, and its first argument (what it was made with); set another
 * number (a call that restart_syscall continued, made again). */
long arch_regs_restart_nr(const struct arch_regs *r, uint64_t *arg0);
void arch_regs_set_restart_nr(struct arch_regs *r, long nr);
/* A breakpoint: its bytes (at most 8) and length; the signal of its
 * stop; after it stops the thread, the address it lies at, given the
 * registers; ip set to addr. */
size_t arch_breakpoint_insn(uint8_t insn[8]);
int arch_breakpoint_sig(void);
uint64_t arch_breakpoint_addr(const struct arch_regs *r);
void arch_regs_set_ip(struct arch_regs *r, uint64_t ip);
/* Clear the "in a syscall" marker (orig_rax = -1 on x86_64). */
void arch_regs_clear_syscall(struct arch_regs *r);
/* The system call number a stopped thread is in, or -1. */
long arch_regs_syscall_nr(const struct arch_regs *r);

/* Image encoding of the general registers: a fixed list of u64 words. */
uint32_t arch_regs_nr_words(void);
void arch_regs_to_words(const struct arch_regs *r, uint64_t *words);
void arch_regs_from_words(struct arch_regs *r, const uint64_t *words);
/* A name for word i, for ckpt inspect. */
const char *arch_reg_name(uint32_t i);

/* The value of libunwind register unw_regnum (UNW_<ISA>_*, the DWARF
 * numbering) in r; -1 with errno EINVAL for a register r does not hold. */
int arch_unw_reg(const struct arch_regs *r, int unw_regnum, uint64_t *val)
	__must_check;

/* The ISA's own call that reports a thread's user shadow stack: its
 * number and first argument; the second points at a u64 of feature bits
 * (x86_64: arch_prctl ARCH_SHSTK_STATUS). 0, or -1 when there is none
 * (then the generic PR_GET_SHADOW_STACK_STATUS is the only one). */
int arch_shstk_status_call(long *nr, long *op);

/* Thread pointer (fs base on x86_64) kept in the general registers. */
uint64_t arch_regs_tls(const struct arch_regs *r);

/* The kernel's struct sigaction for rt_sigaction(2), which differs per ISA
 * (x86_64 has sa_restorer). The image keeps handler, flags, restorer, mask. */
struct img_sigact;
size_t arch_ksigaction_size(void);
void arch_ksigaction_to_img(const void *k, struct img_sigact *a);
void arch_ksigaction_from_img(const struct img_sigact *a, void *k);

/* CRC32C in hardware: returns 0 and updates *crc, or -1 when this CPU has
 * no such instruction (the caller then computes it in software). */
int arch_crc32c(uint32_t *crc, const void *buf, size_t len);

/*
 * ELF core files (elf/core.c). The ELF machine of this ISA; the
 * NT_PRSTATUS descriptor of thread t of process p (struct elf_prstatus,
 * whose pr_reg layout is the ISA's) and its NT_FPREGSET descriptor, each
 * written to buf; they return the size, or 0 when len is too small or t's
 * registers cannot be turned into it. arch_core_xstate_note gives the
 * note type carrying the whole extended state (NT_X86_XSTATE), 0 if none.
 */
struct img_proc;
struct img_thread;
uint32_t arch_elf_machine(void);
size_t arch_core_prstatus(const struct img_proc *p, const struct img_thread *t,
			  void *buf, size_t len);
size_t arch_core_fpregset(const struct img_thread *t, void *buf, size_t len);
uint32_t arch_core_xstate_note(void);

#endif
