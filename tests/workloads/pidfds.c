/*
 * pidfds.c - pidfds of its children, alive, zombie and reaped (dump it
 * with --tree).
 *
 * Child A runs (its pidfd from clone3 CLONE_PIDFD, shared by two fds, and
 * a second one with PIDFD_NONBLOCK), child B exited 5 and was reaped,
 * child C exited 7 and is a zombie (pidfds by pidfd_open). Once (after
 * restore, or at D/stop) each must read as it did: fdinfo's Pid (A, -1,
 * C), A's two fds one description, A not readable and signalable, a
 * non-blocking waitid on it EAGAIN; B readable, ESRCH to a signal, ECHILD
 * to waitid, and exit status 5 (PIDFD_GET_INFO, where the kernel has
 * it); C readable and waitid shows its exit 7. At the end A is killed and
 * A and C reaped through their pidfds.
 */
#include <sys/ioctl.h>
#include <sys/wait.h>
#include <linux/kcmp.h>
#include <linux/sched.h>
#include <poll.h>
#include <signal.h>

#include "workload.h"

#ifndef P_PIDFD
#define P_PIDFD 3
#endif
#define PIDFD_NONBLOCK O_NONBLOCK

struct pidfd_exit_info {
	uint64_t mask;
	uint64_t cgroupid;
	uint32_t pid, tgid, ppid, ruid, rgid, euid, egid, suid, sgid;
	uint32_t fsuid, fsgid;
	int32_t exit_code;
	uint32_t coredump_mask, spare;
};

static pid_t a, c;
static int pa, pa2, pn, pb, pc;

static int pidfd_open(pid_t pid, unsigned int flags)
{
	int fd = syscall(SYS_pidfd_open, pid, flags);

	if (fd < 0)
		wl_fail("pidfd_open %d: %s", (int)pid, strerror(errno));
	return fd;
}

static pid_t child_exiting(int code)
{
	pid_t pid = fork();

	if (pid < 0)
		wl_fail("fork: %s", strerror(errno));
	if (!pid)
		_exit(code);
	return pid;
}

static void setup(void)
{
	struct clone_args ca = { .flags = CLONE_PIDFD,
				 .pidfd = (uint64_t)(uintptr_t)&pa,
				 .exit_signal = SIGCHLD };
	pid_t b;
	int st;

	a = syscall(SYS_clone3, &ca, sizeof(ca));
	if (a < 0)
		wl_fail("clone3: %s", strerror(errno));
	if (!a)
		for (;;)
			pause();
	pa2 = dup(pa);
	pn = pidfd_open(a, PIDFD_NONBLOCK);
	b = child_exiting(5);
	pb = pidfd_open(b, 0);	/* before or after its exit */
	if (waitpid(b, &st, 0) != b)
		wl_fail("waitpid B: %s", strerror(errno));
	c = child_exiting(7);
	pc = pidfd_open(c, 0);
	while (wl_state_of(c) != 'Z')
		wl_sleep_ms(5);
}

static int fdinfo_pid(int fd)
{
	char path[64], buf[1024], *p;
	ssize_t n;
	int f;

	snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", fd);
	f = open(path, O_RDONLY);
	n = f < 0 ? -1 : read(f, buf, sizeof(buf) - 1);
	if (n < 0)
		wl_fail("read %s: %s", path, strerror(errno));
	close(f);
	buf[n] = '\0';
	p = strstr(buf, "\nPid:");
	if (!p)
		wl_fail("no Pid in %s", path);
	return atoi(p + 5);
}

static int readable(int fd)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };

	if (poll(&p, 1, 0) < 0)
		wl_fail("poll: %s", strerror(errno));
	return !!(p.revents & POLLIN);
}

static long send_sig(int fd, int sig)
{
	return syscall(SYS_pidfd_send_signal, fd, sig, NULL, 0);
}

static void check_b(void)
{
	struct pidfd_exit_info info = { .mask = 1ULL << 3 };
	siginfo_t si;

	if (fdinfo_pid(pb) != -1 || !readable(pb))
		wl_fail("B: Pid %d, readable %d; want -1 and readable",
			fdinfo_pid(pb), readable(pb));
	if (send_sig(pb, 0) != -1 || errno != ESRCH)
		wl_fail("B: a signal did not fail with ESRCH: %s",
			strerror(errno));
	if (waitid(P_PIDFD, pb, &si, WEXITED | WNOHANG) != -1 ||
	    errno != ECHILD)
		wl_fail("B: waitid did not fail with ECHILD: %s",
			strerror(errno));
	if (!ioctl(pb, _IOWR(0xFF, 11, struct pidfd_exit_info), &info) &&
	    (info.mask & (1ULL << 3)) && info.exit_code != 5 << 8)
		wl_fail("B: exit status %#x, want %#x", info.exit_code, 5 << 8);
}

static void check(void)
{
	siginfo_t si = { 0 };

	if (fdinfo_pid(pa) != a || fdinfo_pid(pa2) != a ||
	    fdinfo_pid(pn) != a || fdinfo_pid(pc) != c)
		wl_fail("Pid: A %d %d %d C %d, want %d and %d", fdinfo_pid(pa),
			fdinfo_pid(pa2), fdinfo_pid(pn), fdinfo_pid(pc),
			(int)a, (int)c);
	if (syscall(SYS_kcmp, getpid(), getpid(), KCMP_FILE, pa, pa2) ||
	    !syscall(SYS_kcmp, getpid(), getpid(), KCMP_FILE, pa, pn))
		wl_fail("A: its fds do not share as they did");
	if (readable(pa) || send_sig(pa, 0))
		wl_fail("A: readable %d or no signal: %s", readable(pa),
			strerror(errno));
	if (!(fcntl(pn, F_GETFL) & O_NONBLOCK) ||
	    waitid(P_PIDFD, pn, &si, WEXITED) != -1 || errno != EAGAIN)
		wl_fail("A: the PIDFD_NONBLOCK pidfd blocks: %s",
			strerror(errno));
	check_b();
	if (!readable(pc) ||
	    waitid(P_PIDFD, pc, &si, WEXITED | WNOWAIT | WNOHANG) ||
	    si.si_pid != c || si.si_code != CLD_EXITED || si.si_status != 7)
		wl_fail("C: readable %d, waitid gave pid %d code %d status %d",
			readable(pc), (int)si.si_pid, si.si_code,
			si.si_status);
}

int main(void)
{
	siginfo_t si;

	wl_init();
	setup();
	wl_count_checked(check);
	if (send_sig(pa, SIGKILL) || waitid(P_PIDFD, pa, &si, WEXITED) ||
	    waitid(P_PIDFD, pc, &si, WEXITED))
		wl_fail("ending A and C: %s", strerror(errno));
	return 0;
}
