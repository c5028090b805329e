/*
 * exitsig.c - how children end, as a tree (dumped with --tree): Z exits
 * with code 5 and SIGRTMIN+2 as its exit signal (clone(2)), and is left a
 * zombie; L lives, with SIGUSR1; C, an ordinary child, dies of SIGSEGV
 * and dumps core (a small one: coredump_filter 0), and is left a zombie
 * too. Children with another exit signal than SIGCHLD are only seen by a
 * wait() with __WALL or __WCLONE. The parent counts both signals (Z's
 * was delivered before the dump). When it sees D/restored (the original
 * tree, at D/stop) a plain waitpid(-1) must see C only, with the wait
 * status it had (the core-dump flag too, where this host gave it), /proc
 * must show both exit signals, Z's signal must not have come again, and
 * Z is reaped with code 5; at D/stop it creates D/kids-end, and L must
 * exit 0 and send SIGUSR1.
 */
#include <sys/resource.h>
#include <sys/wait.h>
#include <signal.h>

#include "workload.h"

static pid_t z, l, c;
static int c_status;
static volatile int from_z, from_l;

static void on_signal(int sig, siginfo_t *si, void *uc)
{
	(void)uc;
	if (sig == SIGRTMIN + 2 && si->si_pid == z)
		from_z++;
	if (sig == SIGUSR1 && si->si_pid == l)
		from_l++;
}

/* its exit signal blocked until the caller knows its pid */
static pid_t child(int exit_signal, int code, sigset_t *block)
{
	pid_t pid;

	sigemptyset(block);
	sigaddset(block, exit_signal);
	sigprocmask(SIG_BLOCK, block, NULL);
	pid = syscall(SYS_clone, exit_signal, NULL, NULL, NULL, NULL);
	if (pid < 0)
		wl_fail("clone: %s", strerror(errno));
	if (pid)
		return pid;
	while (code < 0 && !wl_exists("kids-end"))
		wl_sleep_ms(20);
	_exit(code < 0 ? 0 : code);
}

/* /proc/PID/stat field 38 */
static int exit_signal_of(pid_t pid)
{
	char path[64], buf[1024], *p;
	FILE *f;
	int i;

	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	f = fopen(path, "r");
	if (!f || !fgets(buf, sizeof(buf), f))
		wl_fail("read %s", path);
	fclose(f);
	p = strrchr(buf, ')');
	for (i = 2; p && i < 38; i++)
		p = strchr(p + 1, ' ');
	return p ? atoi(p + 1) : -1;
}

/* C: a core as small as can be, in D (core_pattern "core" here) */
static pid_t dump_core(void)
{
	struct rlimit rl;
	siginfo_t si;
	pid_t pid = fork();
	FILE *f;

	if (pid < 0)
		wl_fail("fork: %s", strerror(errno));
	if (!pid) {
		f = fopen("/proc/self/coredump_filter", "w");
		if (f) {
			fputs("0", f);
			fclose(f);
		}
		if (!getrlimit(RLIMIT_CORE, &rl)) {
			rl.rlim_cur = rl.rlim_max;
			setrlimit(RLIMIT_CORE, &rl);
		}
		signal(SIGSEGV, SIG_DFL);
		raise(SIGSEGV);
		_exit(9);
	}
	memset(&si, 0, sizeof(si));
	if (waitid(P_PID, pid, &si, WEXITED | WNOWAIT))
		wl_fail("waitid C: %s", strerror(errno));
	c_status = si.si_code == CLD_DUMPED ? SIGSEGV | 0x80 : SIGSEGV;
	return pid;
}

static void check(void)
{
	int st;

	if (waitpid(-1, &st, WNOHANG) != c || st != c_status)
		wl_fail("a plain waitpid(-1) does not see C alone with status %#x (%#x)",
			c_status, st);
	if (waitpid(-1, &st, WNOHANG) != -1 || errno != ECHILD)
		wl_fail("a plain waitpid(-1) sees another child");
	if (exit_signal_of(z) != SIGRTMIN + 2 || exit_signal_of(l) != SIGUSR1)
		wl_fail("exit signals %d and %d, want %d and %d",
			exit_signal_of(z), exit_signal_of(l), SIGRTMIN + 2,
			SIGUSR1);
	if (from_z != 1)
		wl_fail("Z's exit signal came %d times", from_z);
	if (waitpid(z, &st, __WALL) != z || !WIFEXITED(st) ||
	    WEXITSTATUS(st) != 5)
		wl_fail("Z not reaped with code 5 (status %#x)", st);
}

int main(void)
{
	struct sigaction sa;
	sigset_t set;
	int st;

	wl_init();
	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = on_signal;
	sa.sa_flags = SA_SIGINFO | SA_RESTART;
	if (sigaction(SIGRTMIN + 2, &sa, NULL) || sigaction(SIGUSR1, &sa, NULL))
		wl_fail("sigaction: %s", strerror(errno));
	z = child(SIGRTMIN + 2, 5, &set);
	sigprocmask(SIG_UNBLOCK, &set, NULL);
	l = child(SIGUSR1, -1, &set);
	sigprocmask(SIG_UNBLOCK, &set, NULL);
	c = dump_core();
	while (wl_state_of(z) != 'Z' || !from_z)
		usleep(10000);
	wl_count_checked(check);
	wl_write_file("kids-end", "", 0);
	if (waitpid(l, &st, __WALL) != l || !WIFEXITED(st) || WEXITSTATUS(st))
		wl_fail("L did not exit 0 (status %#x)", st);
	while (!from_l)
		usleep(10000);
	return 0;
}
