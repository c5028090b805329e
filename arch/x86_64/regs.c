/*
 * x86_64 registers: ptrace access, the system call convention, the
 * kernel's syscall restart state, and the image encoding of the general
 * registers (the 27 words of struct user_regs_struct, in kernel order).
 */
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/user.h>
#include <elf.h>
#include <errno.h>
#include <signal.h>
#include <string.h>

#include "arch/arch.h"
#include "image/image.h"

_Static_assert(sizeof(struct user_regs_struct) <= sizeof(struct arch_regs),
	       "struct arch_regs too small");

#define NR_WORDS (sizeof(struct user_regs_struct) / sizeof(uint64_t))

/* kernel-internal restart codes (include/linux/errno.h) */
#define ERESTARTSYS		512
#define ERESTARTNOINTR		513
#define ERESTARTNOHAND		514
#define ERESTART_RESTARTBLOCK	516

static const char *const reg_names[NR_WORDS] = {
	"r15", "r14", "r13", "r12", "rbp", "rbx", "r11", "r10", "r9",
	"r8", "rax", "rcx", "rdx", "rsi", "rdi", "orig_rax", "rip", "cs",
	"eflags", "rsp", "ss", "fs_base", "gs_base", "ds", "es", "fs", "gs",
};

static struct user_regs_struct *U(struct arch_regs *r)
{
	return (struct user_regs_struct *)r->w;
}

static const struct user_regs_struct *CU(const struct arch_regs *r)
{
	return (const struct user_regs_struct *)r->w;
}

uint32_t arch_isa(void)
{
	return IMG_ISA_X86_64;
}

int arch_get_regs(pid_t tid, struct arch_regs *r)
{
	memset(r, 0, sizeof(*r));
	return ptrace(PTRACE_GETREGS, tid, NULL, r->w) ? -1 : 0;
}

int arch_set_regs(pid_t tid, const struct arch_regs *r)
{
	return ptrace(PTRACE_SETREGS, tid, NULL, (void *)r->w) ? -1 : 0;
}

int arch_get_xstate(pid_t tid, void *buf, size_t *len)
{
	struct iovec iov = { .iov_base = buf, .iov_len = *len };

	if (ptrace(PTRACE_GETREGSET, tid, (void *)NT_X86_XSTATE, &iov))
		return -1;
	*len = iov.iov_len;
	return 0;
}

int arch_set_xstate(pid_t tid, const void *buf, size_t len)
{
	struct iovec iov = { .iov_base = (void *)buf, .iov_len = len };

	return ptrace(PTRACE_SETREGSET, tid, (void *)NT_X86_XSTATE, &iov) ?
		-1 : 0;
}

size_t arch_xstate_max(void)
{
	/* CPUID 0xD reports at most ~11 KiB with AMX; leave room */
	return 16384;
}

uint64_t arch_regs_ip(const struct arch_regs *r)
{
	return CU(r)->rip;
}

/*
 * hlt, privileged: in user mode it faults (SIGSEGV), with rip on it. An
 * int3 traps with rip after it, in the middle of the instruction it
 * replaced: a thread freed by our death between its stop and our moving
 * it back (the kernel drops the pending signal) would run on from there.
 * A thread freed on a hlt meets it again, or what it replaced.
 */
size_t arch_breakpoint_insn(uint8_t insn[8])
{
	insn[0] = 0xf4;
	return 1;
}

int arch_breakpoint_sig(void)
{
	return SIGSEGV;
}

uint64_t arch_breakpoint_addr(const struct arch_regs *r)
{
	return CU(r)->rip;
}

void arch_regs_set_ip(struct arch_regs *r, uint64_t ip)
{
	U(r)->rip = ip;
}

uint64_t arch_regs_sp(const struct arch_regs *r)
{
	return CU(r)->rsp;
}

long arch_regs_retval(const struct arch_regs *r)
{
	return (long)CU(r)->rax;
}

int arch_shstk_status_call(long *nr, long *op)
{
	*nr = SYS_arch_prctl;
	*op = 0x5005;		/* ARCH_SHSTK_STATUS, Linux 6.6 */
	return 0;
}

uint64_t arch_regs_tls(const struct arch_regs *r)
{
	return CU(r)->fs_base;
}

void arch_regs_syscall(struct arch_regs *r, uint64_t ip, long nr,
		       const uint64_t args[6])
{
	struct user_regs_struct *u = U(r);

	u->rip = ip;
	u->rax = nr;
	/* not "in a syscall": the kernel must not apply restart logic */
	u->orig_rax = (uint64_t)-1;
	u->rdi = args[0];
	u->rsi = args[1];
	u->rdx = args[2];
	u->r10 = args[3];
	u->r8 = args[4];
	u->r9 = args[5];
}

void arch_syscall_insn(uint8_t insn[8])
{
	/* syscall; int3; then int3 padding */
	static const uint8_t code[8] = { 0x0f, 0x05, 0xcc, 0xcc,
					 0xcc, 0xcc, 0xcc, 0xcc };

	memcpy(insn, code, sizeof(code));
}

long arch_find_syscall_insn(const uint8_t *code, size_t len)
{
	size_t i;

	for (i = 0; i + 1 < len; i++)
		if (code[i] == 0x0f && code[i + 1] == 0x05)
			return i;
	return -1;
}

long arch_regs_syscall_nr(const struct arch_regs *r)
{
	return (long)CU(r)->orig_rax;
}

void arch_regs_clear_syscall(struct arch_regs *r)
{
	U(r)->orig_rax = (uint64_t)-1;
}

int arch_regs_normalize_restart(struct arch_regs *r, int restart_block)
{
	struct user_regs_struct *u = U(r);
	long ret = (long)u->rax;

	if ((long)u->orig_rax < 0)
		return 0;
	switch (-ret) {
	case ERESTARTSYS:
	case ERESTARTNOINTR:
	case ERESTARTNOHAND:
		u->rax = u->orig_rax;
		break;
	case ERESTART_RESTARTBLOCK:
		/*
		 * The kernel keeps the remaining time in the thread's
		 * restart_block: a live thread continues with
		 * restart_syscall; a new process has no restart block, so
		 * the original call is made again with its saved arguments.
		 */
		u->rax = restart_block ? SYS_restart_syscall : u->orig_rax;
		break;
	default:
		return 0;
	}
	u->rip -= 2;	/* length of the syscall instruction */
	u->orig_rax = (uint64_t)-1;
	return 1;
}

long arch_regs_restart_nr(const struct arch_regs *r, uint64_t *arg0)
{
	*arg0 = CU(r)->rdi;
	return (long)CU(r)->rax;
}

void arch_regs_set_restart_nr(struct arch_regs *r, long nr)
{
	U(r)->rax = (uint64_t)nr;
}

uint32_t arch_regs_nr_words(void)
{
	return NR_WORDS;
}

void arch_regs_to_words(const struct arch_regs *r, uint64_t *words)
{
	memcpy(words, r->w, NR_WORDS * sizeof(uint64_t));
}

void arch_regs_from_words(struct arch_regs *r, const uint64_t *words)
{
	memset(r, 0, sizeof(*r));
	memcpy(r->w, words, NR_WORDS * sizeof(uint64_t));
}

const char *arch_reg_name(uint32_t i)
{
	return i < NR_WORDS ? reg_names[i] : "?";
}

/* struct kernel_sigaction on x86_64: handler, flags, restorer, mask */
size_t arch_ksigaction_size(void)
{
	return 4 * sizeof(uint64_t);
}

void arch_ksigaction_to_img(const void *k, struct img_sigact *a)
{
	const uint64_t *w = k;

	a->handler = w[0];
	a->flags = w[1];
	a->restorer = w[2];
	a->mask = w[3];
}

void arch_ksigaction_from_img(const struct img_sigact *a, void *k)
{
	uint64_t *w = k;

	w[0] = a->handler;
	w[1] = a->flags;
	w[2] = a->restorer;
	w[3] = a->mask;
}
