/*
 * Breakpoints left behind by a ckpt that died (part of the runtime,
 * cc/rt.c).
 *
 * `ckpt attach --landmark` puts a breakpoint on every landmark of the
 * program's text and runs its threads onto them (inject/landmark.c). A
 * ckpt killed outright (SIGKILL, the OOM killer) takes none away: the
 * kernel lets the threads go, and the first one to reach a landmark
 * stops on its breakpoint, whose signal (SIGSEGV for x86_64's hlt,
 * SIGTRAP for aarch64's brk: arch/ISA/rt/xisa-trap.c) kills the program
 * without a handler.
 *
 * So the runtime handles that signal (SIGSEGV on x86_64; on aarch64
 * SIGTRAP, unless its own checkpointer, rt-dump.c, has it). Every such
 * breakpoint instruction of the text that the executable's file does
 * not hold is given back its bytes from /proc/self/exe, and a thread
 * stopped on one of them goes on with what was there. Any other signal,
 * sent or of a fault (a fault's instruction, run again, faults into the
 * default action), does what it does without the runtime.
 *
 * A thread that ckpt had stopped on a landmark stands on it (ckpt keeps
 * it there, not past it): freed by ckpt's death, it meets the
 * breakpoint again, if it is still there.
 *
 * A debugger alive never lets its tracee see the signal of its
 * breakpoints: only an orphaned one comes here.
 *
 * Everything here is system calls on static memory or memory mapped
 * here: the handler may have interrupted libc in another thread.
 */
#include <sys/auxv.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

#include "arch/xisa-rt.h"

#define PAGE	4096ull
#define CHUNK	65536

static int busy;	/* one thread heals at a time */
static unsigned char file[CHUNK];
/* a bit per byte of [text_lo, text_hi): a breakpoint was mended there */
static unsigned char *mended;
static uint64_t text_lo, text_hi;

static void lock(void)
{
	while (__atomic_exchange_n(&busy, 1, __ATOMIC_ACQUIRE))
		syscall(SYS_sched_yield);
}

static void unlock(void)
{
	__atomic_store_n(&busy, 0, __ATOMIC_RELEASE);
}

static const Elf64_Phdr *phdrs(unsigned long *n)
{
	*n = getauxval(AT_PHNUM);
	return (const Elf64_Phdr *)getauxval(AT_PHDR);
}

/* mended[], once: over every executable segment */
static int map_mended(void)
{
	unsigned long i, n;
	const Elf64_Phdr *ph = phdrs(&n);
	void *m;

	if (mended)
		return 0;
	text_lo = UINT64_MAX;
	for (i = 0; ph && i < n; i++) {
		if (ph[i].p_type != PT_LOAD || !(ph[i].p_flags & PF_X))
			continue;
		if (ph[i].p_vaddr < text_lo)
			text_lo = ph[i].p_vaddr;
		if (ph[i].p_vaddr + ph[i].p_filesz > text_hi)
			text_hi = ph[i].p_vaddr + ph[i].p_filesz;
	}
	if (text_lo >= text_hi)
		return -1;
	m = mmap(NULL, (text_hi - text_lo) / 8 + 1, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (m == MAP_FAILED)
		return -1;
	mended = m;
	return 0;
}

static int was_mended(uint64_t pc)
{
	uint64_t k = pc - text_lo;

	return mended && pc >= text_lo && pc < text_hi &&
	       (mended[k / 8] >> (k % 8) & 1);
}

/* The breakpoints in len bytes of text at mem whose file bytes are in
 * file[]: put back as the file has them */
static int mend(unsigned char *mem, uint64_t len)
{
	uint64_t i, k, step = xisa_rt_bp_len;
	uintptr_t page;

	for (i = 0; i + step <= len; i += step) {
		if (memcmp(mem + i, xisa_rt_bp, step) ||
		    !memcmp(file + i, xisa_rt_bp, step))
			continue;
		page = (uintptr_t)(mem + i) & ~(PAGE - 1);
		if (mprotect((void *)page, PAGE,
			     PROT_READ | PROT_WRITE | PROT_EXEC))
			return -1;
		memcpy(mem + i, file + i, step);
		__builtin___clear_cache((char *)mem + i, (char *)mem + i + step);
		if (mprotect((void *)page, PAGE, PROT_READ | PROT_EXEC))
			return -1;
		k = (uintptr_t)(mem + i) - text_lo;
		mended[k / 8] |= (unsigned char)(1 << (k % 8));
	}
	return 0;
}

/* Every executable segment of the program compared with the file, its
 * foreign breakpoints mended */
static int heal_text(int fd)
{
	unsigned long i, n;
	const Elf64_Phdr *ph = phdrs(&n);
	uint64_t off, len;
	void *mem;

	for (i = 0; ph && i < n; i++) {
		if (ph[i].p_type != PT_LOAD || !(ph[i].p_flags & PF_X))
			continue;
		for (off = 0; off < ph[i].p_filesz; off += len) {
			len = ph[i].p_filesz - off;
			if (len > CHUNK)
				len = CHUNK;
			if (pread(fd, file, len, ph[i].p_offset + off) !=
			    (ssize_t)len)
				return -1;
			mem = (void *)(uintptr_t)(ph[i].p_vaddr + off);
			if (memcmp(mem, file, len) && mend(mem, len))
				return -1;
		}
	}
	return 0;
}

/* what the signal does without the runtime: a fault's instruction, run
 * again, faults into it; a sent signal is sent again */
static void as_default(int sig, const siginfo_t *si)
{
	signal(sig, SIG_DFL);
	if (si->si_code <= 0)
		raise(sig);
}

static void heal(int sig, siginfo_t *si, void *uc)
{
	uint64_t pc = xisa_rt_bp_at(uc);
	int e = errno, fd, ours = 0;

	if (si->si_code != xisa_rt_bp_code) {
		as_default(sig, si);
		return;
	}
	lock();
	fd = open("/proc/self/exe", O_RDONLY | O_CLOEXEC);
	if (fd >= 0 && !map_mended() && !heal_text(fd))
		ours = was_mended(pc);
	if (fd >= 0)
		close(fd);
	unlock();
	if (!ours) {
		as_default(sig, si);
		return;
	}
	errno = e;	/* on at pc, with what was there */
}

void xisa_rt_heal_init(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sigemptyset(&sa.sa_mask);
	sa.sa_sigaction = heal;
	sa.sa_flags = SA_SIGINFO | SA_RESTART;
	sigaction(xisa_rt_bp_sig, &sa, NULL);
}
