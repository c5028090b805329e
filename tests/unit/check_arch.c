/*
 * check_arch: arch/x86_64 itself. The kernel's syscall restart state made
 * explicit on constructed register sets, the image encoding of the
 * registers, the syscall convention, CRC32C in hardware against software,
 * and a real thread seized inside nanosleep that must finish its sleep
 * normally once released.
 *
 * This tests the x86_64 layout, so it may look inside struct arch_regs
 * (struct user_regs_struct, in kernel order); generic code never does.
 */
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/user.h>
#include <sys/wait.h>
#include <check.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "arch/arch.h"
#include "image/image.h"
#include "inject/inject.h"
#include "tests/unit/unit.h"

/* kernel-internal restart codes (include/linux/errno.h) */
#define ERESTARTSYS		512
#define ERESTARTNOINTR		513
#define ERESTARTNOHAND		514
#define ERESTART_RESTARTBLOCK	516

#define WAIT_SECS		60

/*
 * struct arch_regs holds uint64_t (unsigned long), struct user_regs_struct
 * unsigned long long: copy between them, never access one through a
 * pointer to the other (strict aliasing; gcc -O2 reorders such stores).
 */
static struct user_regs_struct U(const struct arch_regs *r)
{
	struct user_regs_struct u;

	memcpy(&u, r->w, sizeof(u));
	return u;
}

static void set_U(struct arch_regs *r, const struct user_regs_struct *u)
{
	memcpy(r->w, u, sizeof(*u));
}

/* Registers of a thread stopped in syscall nr that returned ret. */
static void in_syscall(struct arch_regs *r, long nr, long ret)
{
	struct user_regs_struct u;
	size_t i;

	memset(r, 0, sizeof(*r));
	for (i = 0; i < sizeof(u) / 8; i++)
		r->w[i] = 0x1000 + i;
	u = U(r);
	u.rip = 0x401002;
	u.orig_rax = nr;
	u.rax = ret;
	u.rdi = 0x7ffd0000;
	set_U(r, &u);
}

/* ---- restart state ------------------------------------------------------- */

static void expect_restart(long code, int restart_block, uint64_t want_rax)
{
	struct arch_regs r, before;
	struct user_regs_struct b, a;

	in_syscall(&r, SYS_read, -code);
	before = r;
	ck_assert_int_eq(arch_regs_normalize_restart(&r, restart_block), 1);
	ck_assert_uint_eq(U(&r).rip, 0x401000);
	ck_assert_uint_eq(U(&r).rax, want_rax);
	ck_assert_uint_eq(U(&r).orig_rax, (uint64_t)-1);
	ck_assert_int_eq(arch_regs_syscall_nr(&r), -1);
	/* nothing else moves: arguments stay for the re-issued call */
	a = U(&r);
	b = U(&before);
	b.rip = a.rip;
	b.rax = a.rax;
	b.orig_rax = a.orig_rax;
	set_U(&before, &b);
	ck_assert_mem_eq(&r, &before, sizeof(r));
	/* a second pass finds nothing to do: not rewound twice */
	ck_assert_int_eq(arch_regs_normalize_restart(&r, restart_block), 0);
	ck_assert_uint_eq(U(&r).rip, 0x401000);
}

START_TEST(test_restart_sys)
{
	expect_restart(ERESTARTSYS, 0, SYS_read);
	expect_restart(ERESTARTSYS, 1, SYS_read);
}
END_TEST

START_TEST(test_restart_nointr)
{
	expect_restart(ERESTARTNOINTR, 0, SYS_read);
	expect_restart(ERESTARTNOINTR, 1, SYS_read);
}
END_TEST

START_TEST(test_restart_nohand)
{
	expect_restart(ERESTARTNOHAND, 0, SYS_read);
	expect_restart(ERESTARTNOHAND, 1, SYS_read);
}
END_TEST

/* SYS_read is 0: use a call whose number can't be confused with zeroes */
START_TEST(test_restart_block)
{
	struct arch_regs r;

	in_syscall(&r, SYS_clock_nanosleep, -ERESTART_RESTARTBLOCK);
	ck_assert_int_eq(arch_regs_normalize_restart(&r, 0), 1);
	ck_assert_uint_eq(U(&r).rax, SYS_clock_nanosleep);
	ck_assert_uint_eq(U(&r).rip, 0x401000);
	ck_assert_uint_eq(U(&r).orig_rax, (uint64_t)-1);

	in_syscall(&r, SYS_clock_nanosleep, -ERESTART_RESTARTBLOCK);
	ck_assert_int_eq(arch_regs_normalize_restart(&r, 1), 1);
	ck_assert_uint_eq(U(&r).rax, SYS_restart_syscall);
	ck_assert_uint_eq(U(&r).rip, 0x401000);
	ck_assert_uint_eq(U(&r).orig_rax, (uint64_t)-1);
}
END_TEST

static void expect_unchanged(long nr, long ret)
{
	struct arch_regs r, before;
	int rb;

	for (rb = 0; rb <= 1; rb++) {
		in_syscall(&r, nr, ret);
		before = r;
		ck_assert_msg(arch_regs_normalize_restart(&r, rb) == 0,
			      "nr %ld ret %ld changed", nr, ret);
		ck_assert_mem_eq(&r, &before, sizeof(r));
	}
}

START_TEST(test_no_restart)
{
	expect_unchanged(SYS_write, 5);
	expect_unchanged(SYS_write, 0);
	expect_unchanged(SYS_read, -EINTR);
	expect_unchanged(SYS_read, -EAGAIN);
	expect_unchanged(SYS_read, -515);	/* not a restart code */
	expect_unchanged(SYS_read, -517);
	/* not in a system call: rax is whatever the program had */
	expect_unchanged(-1, -ERESTARTSYS);
	expect_unchanged(-1, -ERESTART_RESTARTBLOCK);
}
END_TEST

START_TEST(test_clear_syscall)
{
	struct arch_regs r;

	in_syscall(&r, SYS_pause, -ERESTARTNOHAND);
	ck_assert_int_eq(arch_regs_syscall_nr(&r), SYS_pause);
	arch_regs_clear_syscall(&r);
	ck_assert_int_eq(arch_regs_syscall_nr(&r), -1);
	ck_assert_int_eq(arch_regs_normalize_restart(&r, 0), 0);
	ck_assert_uint_eq(U(&r).rip, 0x401002);
}
END_TEST

/* ---- encoding and conventions -------------------------------------------- */

START_TEST(test_words_roundtrip)
{
	uint32_t n = arch_regs_nr_words(), i;
	struct arch_regs r, back;
	uint64_t words[IMG_MAX_REGS];

	ck_assert_uint_eq(n, sizeof(struct user_regs_struct) / 8);
	ck_assert_uint_le(n, IMG_MAX_REGS);
	memset(&r, 0, sizeof(r));
	for (i = 0; i < n; i++)
		r.w[i] = 0x0101010101010101ULL * (i + 1) ^ ((uint64_t)i << 56);
	memset(words, 0xee, sizeof(words));
	arch_regs_to_words(&r, words);
	for (i = 0; i < n; i++)
		ck_assert_uint_eq(words[i], r.w[i]);
	ck_assert_uint_eq(words[n], 0xeeeeeeeeeeeeeeeeULL);	/* no more */
	memset(&back, 0x5a, sizeof(back));
	arch_regs_from_words(&back, words);
	ck_assert_mem_eq(&back, &r, sizeof(r));
	/* kernel order: the names and the accessors agree */
	ck_assert_str_eq(arch_reg_name(16), "rip");
	ck_assert_uint_eq(words[16], arch_regs_ip(&r));
	ck_assert_str_eq(arch_reg_name(19), "rsp");
	ck_assert_uint_eq(words[19], arch_regs_sp(&r));
	ck_assert_str_eq(arch_reg_name(10), "rax");
	ck_assert_int_eq(words[10], arch_regs_retval(&r));
	ck_assert_str_eq(arch_reg_name(21), "fs_base");
	ck_assert_uint_eq(words[21], arch_regs_tls(&r));
	ck_assert_str_eq(arch_reg_name(n), "?");
}
END_TEST

START_TEST(test_regs_syscall)
{
	const uint64_t args[6] = { 11, 22, 33, 44, 55, 66 };
	struct arch_regs r;
	struct user_regs_struct u;

	in_syscall(&r, SYS_read, -ERESTARTSYS);
	arch_regs_syscall(&r, 0x7f0000001000ULL, SYS_mmap, args);
	u = U(&r);
	ck_assert_uint_eq(arch_regs_ip(&r), 0x7f0000001000ULL);
	ck_assert_uint_eq(u.rax, SYS_mmap);
	ck_assert_uint_eq(u.rdi, 11);
	ck_assert_uint_eq(u.rsi, 22);
	ck_assert_uint_eq(u.rdx, 33);
	ck_assert_uint_eq(u.r10, 44);
	ck_assert_uint_eq(u.r8, 55);
	ck_assert_uint_eq(u.r9, 66);
	/* no restart logic may touch the call we load */
	ck_assert_int_eq(arch_regs_syscall_nr(&r), -1);
	ck_assert_int_eq(arch_regs_normalize_restart(&r, 1), 0);
}
END_TEST

START_TEST(test_syscall_insn)
{
	uint8_t insn[8];

	memset(insn, 0, sizeof(insn));
	arch_syscall_insn(insn);
	ck_assert_uint_eq(insn[0], 0x0f);	/* syscall */
	ck_assert_uint_eq(insn[1], 0x05);
	ck_assert_uint_eq(insn[2], 0xcc);	/* int3: stop if we run on */
}
END_TEST

START_TEST(test_crc32c_hw_sw)
{
	static uint8_t buf[4096 + 64];
	size_t lens[] = { 0, 1, 3, 7, 8, 9, 63, 64, 65, 1000, 4096 };
	size_t off, i;
	uint32_t hw, sw;

	for (i = 0; i < sizeof(buf); i++)
		buf[i] = (uint8_t)(i * 131 + (i >> 7));
	hw = 0;
	if (arch_crc32c(&hw, "123456789", 9)) {
		/* no hardware CRC32C on this CPU: nothing to compare */
		return;
	}
	ck_assert_uint_eq(hw, 0xe3069283);	/* the check value */
	for (off = 0; off < 8; off++)
		for (i = 0; i < ARRAY_SIZE(lens); i++) {
			hw = 0x12345678;
			ck_assert_int_eq(arch_crc32c(&hw, buf + off, lens[i]),
					 0);
			/* no hook installed here: the software path */
			sw = img_crc32c(0x12345678, buf + off, lens[i]);
			ck_assert_msg(hw == sw, "off %zu len %zu: hw %#x sw %#x",
				      off, lens[i], hw, sw);
		}
}
END_TEST

/* ---- a real thread in nanosleep ------------------------------------------ */

/* Sleeps 2 s (long enough to be seized inside the call on a loaded
 * machine); exits 0 if nanosleep returned 0, 1 otherwise. */
static void sleeper(void)
{
	struct timespec ts = { 2, 0 };

	prctl(PR_SET_PDEATHSIG, SIGKILL);
	_exit(nanosleep(&ts, NULL) ? 1 : 0);
}

/* Is tid blocked in nanosleep or clock_nanosleep (/proc/TID/syscall)? */
static int in_nanosleep(pid_t tid)
{
	char path[64], *s;
	long nr = -1;

	snprintf(path, sizeof(path), "/proc/%d/syscall", tid);
	s = read_file_str(path, NULL);
	if (s)
		nr = strtol(s, NULL, 10);
	free(s);
	return nr == SYS_nanosleep || nr == SYS_clock_nanosleep;
}

static pid_t start_sleeper(void)
{
	struct timespec ts = { 0, 10 * 1000 * 1000 };
	pid_t pid = fork();
	int i;

	ck_assert_int_ge(pid, 0);
	if (pid == 0)
		sleeper();
	for (i = 0; i < WAIT_SECS * 100 && !in_nanosleep(pid); i++)
		nanosleep(&ts, NULL);
	ck_assert_msg(in_nanosleep(pid), "child never seen in nanosleep");
	return pid;
}

/* The seized thread shows the kernel's restart state for nanosleep. */
static void check_seized_regs(const struct inject_proc *p)
{
	struct arch_regs r = *inject_regs(p, 0);
	long nr = arch_regs_syscall_nr(&r);
	long ret = arch_regs_retval(&r);
	uint64_t ip = arch_regs_ip(&r);

	ck_assert_msg(nr == SYS_nanosleep || nr == SYS_clock_nanosleep,
		      "seized in syscall %ld", nr);
	ck_assert_int_eq(ret, -ERESTART_RESTARTBLOCK);
	ck_assert_int_eq(arch_regs_normalize_restart(&r, 1), 1);
	ck_assert_uint_eq(arch_regs_ip(&r), ip - 2);
	ck_assert_int_eq(arch_regs_retval(&r), SYS_restart_syscall);
}

/* Bounded wait for pid's exit; returns its status. */
static int wait_exit(pid_t pid)
{
	struct timespec ts = { 0, 10 * 1000 * 1000 };
	int status = 0, i;
	pid_t r = 0;

	for (i = 0; i < WAIT_SECS * 100; i++) {
		r = waitpid(pid, &status, WNOHANG);
		if (r)
			break;
		nanosleep(&ts, NULL);
	}
	if (r == 0)
		kill(pid, SIGKILL);
	ck_assert_msg(r == pid, "sleeper not done %d s later", WAIT_SECS);
	return status;
}

START_TEST(test_seized_in_nanosleep)
{
	struct inject_proc *p = NULL;
	pid_t pid = start_sleeper();
	int status;

	ck_assert_int_eq(inject_seize(pid, &p), 0);
	check_seized_regs(p);
	ck_assert_int_eq(inject_release(p, 0), 0);
	status = wait_exit(pid);
	ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0,
		      "sleeper status %#x: its nanosleep failed", status);
}
END_TEST

/* With remote calls made from the thread, release must make the restart
 * explicit itself (restart_syscall): the sleep still ends normally. */
START_TEST(test_nanosleep_after_remote_calls)
{
	struct inject_proc *p = NULL;
	pid_t pid = start_sleeper();
	long ret = 0;
	int status;

	ck_assert_int_eq(inject_seize(pid, &p), 0);
	check_seized_regs(p);
	ck_assert_int_eq(inject_prepare(p), 0);
	ck_assert_int_eq(inject_syscall(p, 0, &ret, SYS_getpid, 0, 0, 0, 0,
					0, 0), 0);
	ck_assert_int_eq(ret, pid);
	ck_assert_int_eq(inject_release(p, 0), 0);
	status = wait_exit(pid);
	ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0,
		      "sleeper status %#x: its nanosleep failed", status);
}
END_TEST

static Suite *arch_suite(void)
{
	Suite *s = suite_create("arch");
	TCase *rs = unit_tcase(s, "restart", 120);
	TCase *enc = unit_tcase(s, "encoding", 120);
	TCase *live = unit_tcase(s, "live", 120);

	/* before the tests fork: each inherits it */
	log_init("check_arch", LOG_ERR);
	tcase_add_test(rs, test_restart_sys);
	tcase_add_test(rs, test_restart_nointr);
	tcase_add_test(rs, test_restart_nohand);
	tcase_add_test(rs, test_restart_block);
	tcase_add_test(rs, test_no_restart);
	tcase_add_test(rs, test_clear_syscall);
	tcase_add_test(enc, test_words_roundtrip);
	tcase_add_test(enc, test_regs_syscall);
	tcase_add_test(enc, test_syscall_insn);
	tcase_add_test(enc, test_crc32c_hw_sw);
	tcase_add_test(live, test_seized_in_nanosleep);
	tcase_add_test(live, test_nanosleep_after_remote_calls);
	return s;
}

CHECK_MAIN(arch_suite)
