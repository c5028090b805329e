/*
 * x86_64 notes of an ELF core file: struct elf_prstatus with the general
 * registers in pr_reg (the image's words are struct user_regs_struct in
 * kernel order, which is elf_gregset_t), and the FPU state: NT_FPREGSET is
 * the legacy FXSAVE area, the first 512 bytes of the XSAVE area, and
 * NT_X86_XSTATE the whole XSAVE area as PTRACE_GETREGSET returned it (its
 * software-reserved bytes carry XCR0, which gdb reads to size the state).
 */
#include <sys/procfs.h>
#include <sys/user.h>
#include <elf.h>
#include <string.h>

#include "arch/arch.h"
#include "image/image.h"

#define FXSAVE_SIZE	512

_Static_assert(sizeof(elf_gregset_t) == sizeof(struct user_regs_struct),
	       "pr_reg is not struct user_regs_struct");
_Static_assert(sizeof(elf_fpregset_t) == FXSAVE_SIZE,
	       "elf_fpregset_t is not the FXSAVE area");

uint32_t arch_elf_machine(void)
{
	return EM_X86_64;
}

size_t arch_core_prstatus(const struct img_proc *p, const struct img_thread *t,
			  void *buf, size_t len)
{
	struct elf_prstatus st;

	if (len < sizeof(st) || t->regs_isa != IMG_ISA_X86_64 ||
	    t->nr_regs * sizeof(uint64_t) < sizeof(st.pr_reg))
		return 0;
	memset(&st, 0, sizeof(st));
	st.pr_sighold = t->sigmask;
	st.pr_pid = t->tid;
	st.pr_ppid = p->ppid;
	st.pr_pgrp = p->pgid;
	st.pr_sid = p->sid;
	memcpy(st.pr_reg, t->regs, sizeof(st.pr_reg));
	st.pr_fpvalid = t->xstate_len >= FXSAVE_SIZE;
	memcpy(buf, &st, sizeof(st));
	return sizeof(st);
}

size_t arch_core_fpregset(const struct img_thread *t, void *buf, size_t len)
{
	if (len < FXSAVE_SIZE || t->xstate_len < FXSAVE_SIZE)
		return 0;
	memcpy(buf, t->xstate, FXSAVE_SIZE);
	return FXSAVE_SIZE;
}

uint32_t arch_core_xstate_note(void)
{
	return NT_X86_XSTATE;
}
