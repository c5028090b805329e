/*
 * Breakpoints left behind by a ckpt that died (part of the runtime,
 * cc/rt.c).
 *
 * `ckpt attach --landmark` puts a breakpoint on every landmark of the
 * program's text and runs its threads onto them (inject/landmark.c). A
 * ckpt killed outright (SIGKILL, the OOM killer) takes none away: the
 * kernel lets the threads go, and the first one to reach a landmark
 * traps. Without a handler, SIGTRAP kills the program.
 *
 * So the runtime handles SIGTRAP (unless its own checkpointer, rt-dump.c,
 * has it). A trap whose instruction is not in the executable's file is
 * one a debugger put there: every such instruction of the text is given
 * back its bytes from /proc/self/exe, and the thread goes back onto the
 * trap's address to run what was there. A trap that is the program's
 * own (in the file too), or a SIGTRAP that was sent, does what SIGTRAP
 * does without the runtime.
 *
 * A thread that ckpt had stopped on a landmark was put back on it at
 * once (inject/landmark.c): the kernel drops the pending SIGTRAP of a
 * stopped thread whose tracer dies, and the thread meets the breakpoint
 * again, if it is still there.
 *
 * A debugger alive never lets its tracee see the SIGTRAP of its
 * breakpoints: only an orphaned one comes here.
 *
 * Everything here is system calls on static memory: the handler may have
 * interrupted libc in another thread.
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

static void lock(void)
{
	while (__atomic_exchange_n(&busy, 1, __ATOMIC_ACQUIRE))
		syscall(SYS_sched_yield);
}

static void unlock(void)
{
	__atomic_store_n(&busy, 0, __ATOMIC_RELEASE);
}

/* The trap instructions in len bytes of text at mem whose file bytes
 * are in file[]: put back as the file has them */
static int mend(unsigned char *mem, uint64_t len)
{
	uint64_t i, step = xisa_rt_trap_len;
	uintptr_t page;

	for (i = 0; i + step <= len; i += step) {
		if (memcmp(mem + i, xisa_rt_trap, step) ||
		    !memcmp(file + i, xisa_rt_trap, step))
			continue;
		page = (uintptr_t)(mem + i) & ~(PAGE - 1);
		if (mprotect((void *)page, PAGE,
			     PROT_READ | PROT_WRITE | PROT_EXEC))
			return -1;
		memcpy(mem + i, file + i, step);
		__builtin___clear_cache((char *)mem + i, (char *)mem + i + step);
		if (mprotect((void *)page, PAGE, PROT_READ | PROT_EXEC))
			return -1;
	}
	return 0;
}

/* Every executable segment of the program compared with the file, its
 * foreign traps mended; *in: pc lies in one */
static int heal_text(int fd, uint64_t pc, int *in)
{
	const Elf64_Phdr *ph = (const Elf64_Phdr *)getauxval(AT_PHDR);
	unsigned long i, n = getauxval(AT_PHNUM);
	uint64_t off, len;
	ssize_t got;

	*in = 0;
	for (i = 0; ph && i < n; i++) {
		if (ph[i].p_type != PT_LOAD || !(ph[i].p_flags & PF_X))
			continue;
		if (pc >= ph[i].p_vaddr && pc < ph[i].p_vaddr + ph[i].p_filesz)
			*in = 1;
		for (off = 0; off < ph[i].p_filesz; off += len) {
			len = ph[i].p_filesz - off;
			if (len > CHUNK)
				len = CHUNK;
			got = pread(fd, file, len, ph[i].p_offset + off);
			if (got != (ssize_t)len)
				return -1;
			if (memcmp((void *)(uintptr_t)(ph[i].p_vaddr + off),
				   file, len) &&
			    mend((unsigned char *)(uintptr_t)(ph[i].p_vaddr +
							      off), len))
				return -1;
		}
	}
	return 0;
}

/* The file's bytes around pc: a trap of the program's own there? 1, 0,
 * -1 (unreadable) */
static int own_trap(int fd, uint64_t pc)
{
	const Elf64_Phdr *ph = (const Elf64_Phdr *)getauxval(AT_PHDR);
	unsigned long i, n = getauxval(AT_PHNUM);
	unsigned char b[8];

	for (i = 0; ph && i < n; i++) {
		if (ph[i].p_type != PT_LOAD || !(ph[i].p_flags & PF_X) ||
		    pc < ph[i].p_vaddr + 1 ||
		    pc + 7 > ph[i].p_vaddr + ph[i].p_filesz)
			continue;
		if (pread(fd, b, sizeof(b), ph[i].p_offset +
			  (pc - 1 - ph[i].p_vaddr)) != sizeof(b))
			return -1;
		return xisa_rt_own_trap(b + 1);
	}
	return -1;
}

/* what SIGTRAP does without the runtime */
static void as_default(int sig)
{
	signal(sig, SIG_DFL);
	raise(sig);
}

static void heal(int sig, siginfo_t *si, void *uc)
{
	uint64_t pc, sp, fp;
	int e = errno, fd, in = 0, own = -1;

	if (si->si_code != xisa_rt_trap_code) {	/* sent, not a trap */
		as_default(sig);
		return;
	}
	xisa_rt_trapped(uc, &pc, &sp, &fp);
	lock();
	fd = open("/proc/self/exe", O_RDONLY | O_CLOEXEC);
	if (fd >= 0 && !heal_text(fd, pc, &in) && in)
		own = own_trap(fd, pc);
	if (fd >= 0)
		close(fd);
	unlock();
	if (own) {
		as_default(sig);
		return;
	}
	xisa_rt_set_pc(uc, pc);
	errno = e;
}

void xisa_rt_heal_init(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sigemptyset(&sa.sa_mask);
	sa.sa_sigaction = heal;
	sa.sa_flags = SA_SIGINFO | SA_RESTART;
	sigaction(SIGTRAP, &sa, NULL);
}
