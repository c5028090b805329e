/*
 * exitsig.c - children whose exit signal is not SIGCHLD (clone(2)), as a
 * tree (dumped with --tree): Z exits with code 5 and SIGRTMIN+2 as its
 * exit signal, and is left a zombie; L lives, with SIGUSR1. Such
 * children are only seen by a wait() with __WALL or __WCLONE. The parent
 * counts both signals (Z's was delivered before the dump). When it sees
 * D/restored (the original tree, at D/stop) a plain waitpid(-1) must see
 * no child, /proc must show both exit signals, Z's signal must not have
 * come again, and Z is reaped with code 5; at D/stop it creates
 * D/kids-end, and L must exit 0 and send SIGUSR1.
 */
#include <sys/wait.h>
#include <signal.h>

#include "workload.h"

static pid_t z, l;
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

static void check(void)
{
	int st;

	if (waitpid(-1, &st, WNOHANG) != -1 || errno != ECHILD)
		wl_fail("a plain waitpid(-1) sees a child");
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
