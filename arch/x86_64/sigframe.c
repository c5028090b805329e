/*
 * x86_64 pieces of the injector's safety net: the code it places in a
 * target, the byte patterns of the target's own code it may borrow, and
 * an rt_sigreturn frame that holds a thread's whole context.
 *
 * A thread we borrow for a remote system call must be able to get its
 * context back by itself if ckpt dies mid-call (the kernel then releases
 * it wherever it stands). So every remote call runs from code that
 * continues, after the system call, into rt_sigreturn(2) on a frame
 * holding the thread's own registers, signal mask and XSAVE state: the
 * kernel itself puts everything back, as when a signal handler returns.
 *
 * The frame is the kernel's struct rt_sigframe (arch/x86/include/asm/
 * sigframe.h): pretcode, then struct ucontext (uc_flags, uc_link,
 * uc_stack, the 256-byte struct sigcontext, the 8-byte sigset), then a
 * siginfo the return path does not read. sigcontext.fpstate points at a
 * 64-byte aligned XSAVE image with FP_XSTATE_MAGIC1 in its software
 * reserved bytes and FP_XSTATE_MAGIC2 right after it: without both the
 * kernel restores the legacy FXSAVE part only.
 */
#include <sys/user.h>
#include <stdint.h>
#include <string.h>

#include "arch/arch.h"

#define UC_FP_XSTATE		0x1
#define UC_SIGCONTEXT_SS	0x2
#define UC_STRICT_RESTORE_SS	0x4
#define FP_XSTATE_MAGIC1	0x46505853U
#define FP_XSTATE_MAGIC2	0x46505845U
#define SW_RESERVED_OFF		464	/* struct fxregs_state.sw_reserved */
#define SYS_RT_SIGRETURN	15

/* struct sigcontext of the 64-bit uapi, in kernel order */
struct k_sigcontext {
	uint64_t r8, r9, r10, r11, r12, r13, r14, r15;
	uint64_t rdi, rsi, rbp, rbx, rdx, rax, rcx, rsp, rip, eflags;
	uint16_t cs, gs, fs, ss;
	uint64_t err, trapno, oldmask, cr2, fpstate;
	uint64_t reserved1[8];
};

struct k_ucontext {
	uint64_t uc_flags, uc_link;
	uint64_t ss_sp;
	int32_t ss_flags;
	int32_t pad;
	uint64_t ss_size;
	struct k_sigcontext mc;
	uint64_t sigmask;
};

struct k_rt_sigframe {
	uint64_t pretcode;
	struct k_ucontext uc;
	uint8_t info[128];
};

_Static_assert(sizeof(struct k_sigcontext) == 256, "sigcontext layout");
_Static_assert(sizeof(struct k_rt_sigframe) == 440, "rt_sigframe layout");

/* struct _fpx_sw_bytes, in the XSAVE image's software reserved bytes */
struct k_fpx_sw_bytes {
	uint32_t magic1, extended_size;
	uint64_t xfeatures;
	uint32_t xstate_size;
	uint32_t padding[7];
};

#define ALIGN_UP(x, a)	(((x) + (a) - 1) & ~((uint64_t)(a) - 1))

/*
 * The frame first, the XSAVE image after it (64-byte aligned): a signal
 * delivered to the thread while it stands on this frame is pushed below
 * it, where it harms nothing of ours.
 */
static size_t xsave_off(void)
{
	return ALIGN_UP(sizeof(struct k_rt_sigframe), 64);
}

size_t arch_sigframe_size(size_t xlen)
{
	return xsave_off() + xlen + sizeof(uint32_t);
}

static void fill_sigcontext(struct k_sigcontext *mc,
			    const struct user_regs_struct *u)
{
	mc->r8 = u->r8;
	mc->r9 = u->r9;
	mc->r10 = u->r10;
	mc->r11 = u->r11;
	mc->r12 = u->r12;
	mc->r13 = u->r13;
	mc->r14 = u->r14;
	mc->r15 = u->r15;
	mc->rdi = u->rdi;
	mc->rsi = u->rsi;
	mc->rbp = u->rbp;
	mc->rbx = u->rbx;
	mc->rdx = u->rdx;
	mc->rax = u->rax;
	mc->rcx = u->rcx;
	mc->rsp = u->rsp;
	mc->rip = u->rip;
	mc->eflags = u->eflags;
	mc->cs = u->cs;
	mc->ss = u->ss;
}

int arch_sigframe_build(void *buf, size_t len, uint64_t at,
			const struct arch_regs *r, uint64_t sigmask,
			const void *xstate, size_t xlen, uint64_t restorer,
			uint64_t *frame)
{
	struct k_rt_sigframe *f;
	struct k_fpx_sw_bytes sw;
	uint32_t magic2 = FP_XSTATE_MAGIC2;
	uint8_t *b = buf, *x;

	if ((at & 63) || len < arch_sigframe_size(xlen) ||
	    xlen < SW_RESERVED_OFF + sizeof(sw))
		return -1;
	memset(buf, 0, arch_sigframe_size(xlen));
	x = b + xsave_off();
	memcpy(x, xstate, xlen);
	/* keep the feature mask ptrace reported, state our own sizes */
	memcpy(&sw, x + SW_RESERVED_OFF, sizeof(sw));
	sw.magic1 = FP_XSTATE_MAGIC1;
	sw.xstate_size = xlen;
	sw.extended_size = xlen + sizeof(magic2);
	memcpy(x + SW_RESERVED_OFF, &sw, sizeof(sw));
	memcpy(x + xlen, &magic2, sizeof(magic2));

	f = (struct k_rt_sigframe *)b;
	f->pretcode = restorer;
	f->uc.uc_flags = UC_FP_XSTATE | UC_SIGCONTEXT_SS | UC_STRICT_RESTORE_SS;
	/*
	 * rt_sigreturn also applies uc_stack as a sigaltstack(2) and ignores
	 * its errors: a mode that is not valid (3) leaves the thread's own
	 * alternate stack as it is.
	 */
	f->uc.ss_flags = 3;
	fill_sigcontext(&f->uc.mc, (const struct user_regs_struct *)r->w);
	f->uc.mc.fpstate = at + xsave_off();
	f->uc.sigmask = sigmask;
	*frame = at;
	return 0;
}

static long find_bytes(const uint8_t *code, size_t len, const uint8_t *pat,
		       size_t plen)
{
	const uint8_t *p = plen <= len ? memmem(code, len, pat, plen) : NULL;

	return p ? p - code : -1;
}

/* The gadgets of struct arch_gadgets, in its order, by their bytes. */
static const struct {
	uint8_t len;
	uint8_t b[9];
} patterns[] = {
	{ 3, { 0x0f, 0x05, 0xc3 } },			/* syscall; ret */
	{ 9, { 0x48, 0xc7, 0xc0, SYS_RT_SIGRETURN, 0, 0, 0, 0x0f, 0x05 } },
	{ 2, { 0x58, 0xc3 } },				/* pop %rax; ret */
	{ 2, { 0x5f, 0xc3 } },				/* pop %rdi; ret */
	{ 2, { 0x5e, 0xc3 } },				/* pop %rsi; ret */
	{ 2, { 0x0f, 0x05 } },				/* syscall */
};
/* Go and others: "mov $15, %eax; syscall" */
static const uint8_t sigret_l[] = { 0xb8, SYS_RT_SIGRETURN, 0, 0, 0, 0x0f,
				    0x05 };

/*
 * Borrowed code, found in the target's own text: "syscall; ret" in every
 * C library's small system call wrappers, the sigreturn trampoline every
 * C library installs as sa_restorer (glibc and musl "mov $15, %rax;
 * syscall"), and the "pop; ret" pairs that load the arguments of a
 * munmap. Their bytes need not start an instruction of the code around
 * them: jumping to them runs them all the same.
 */
void arch_find_gadgets(const uint8_t *code, size_t len, uint64_t at,
		       struct arch_gadgets *g)
{
	uint64_t *slot[] = { &g->syscall_ret, &g->sigreturn, &g->pop_nr,
			     &g->pop_arg0, &g->pop_arg1, &g->any_syscall };
	size_t i;
	long off;

	for (i = 0; i < sizeof(patterns) / sizeof(patterns[0]); i++) {
		if (*slot[i])
			continue;
		off = find_bytes(code, len, patterns[i].b, patterns[i].len);
		if (off < 0 && slot[i] == &g->sigreturn)
			off = find_bytes(code, len, sigret_l, sizeof(sigret_l));
		if (off >= 0)
			*slot[i] = at + off;
	}
}

/* Room for the munmap chain before the frame: five words and the frame's
 * return address is the sixth. */
#define CHAIN_WORDS	7

size_t arch_way_back_size(size_t xlen)
{
	/* the chain, up to 63 bytes to align the frame, the frame */
	return CHAIN_WORDS * sizeof(uint64_t) + 63 + arch_sigframe_size(xlen);
}

/*
 * The way back of a thread borrowed for a call from "syscall; ret": the
 * "ret" takes the first word at sp. With pop gadgets and an area to
 * unmap, the words load munmap's number and arguments and make it through
 * "syscall; ret" again, whose "ret" enters the sigreturn trampoline on the
 * frame; otherwise sp is the frame itself.
 */
int arch_way_back_build(void *buf, size_t len, uint64_t at,
			const struct arch_regs *r, uint64_t sigmask,
			const void *xstate, size_t xlen,
			const struct arch_gadgets *g, uint64_t unmap_addr,
			uint64_t unmap_len, uint64_t *sp)
{
	uint64_t chain[CHAIN_WORDS], frame, fat;
	int unmap = unmap_len && g->pop_nr && g->pop_arg0 && g->pop_arg1;

	/* the frame 64-byte aligned, the chain right below it */
	fat = (at + sizeof(chain) + 63) & ~63ULL;
	if (len < arch_way_back_size(xlen) ||
	    arch_sigframe_build((uint8_t *)buf + (fat - at), len - (fat - at),
				fat, r, sigmask, xstate, xlen, g->sigreturn,
				&frame))
		return -1;
	if (!unmap) {
		*sp = frame;
		return 0;
	}
	chain[0] = g->pop_nr;
	chain[1] = 11;		/* SYS_munmap */
	chain[2] = g->pop_arg0;
	chain[3] = unmap_addr;
	chain[4] = g->pop_arg1;
	chain[5] = unmap_len;
	chain[6] = g->syscall_ret;
	memcpy((uint8_t *)buf + (fat - at) - sizeof(chain), chain,
	       sizeof(chain));
	*sp = fat - sizeof(chain);
	return 0;
}

void arch_regs_set_sp(struct arch_regs *r, uint64_t sp)
{
	((struct user_regs_struct *)r->w)->rsp = sp;
}
