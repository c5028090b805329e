/*
 * zombie.c - a parent whose children exited and are not reaped at dump
 * time: A exited with code 7 after making a process group of its own,
 * B joined A's group (kept by its zombie leader) and was killed by
 * SIGTERM; C, alive, counts into D/count.c in the parent's group.
 *
 * The parent blocks SIGCHLD and consumes it before ready, so that none is
 * pending at dump time. When it sees D/restored it requires that none is
 * pending still (recreating the zombies must not deliver their SIGCHLD
 * again), that A and B are zombies in A's group, then reaps them by PID
 * and requires exactly their statuses, and counts on. The original tree,
 * which never sees D/restored, does the same at D/stop. After D/stop C
 * must exit 0 and no other child may be left.
 *
 * With the argument "late", a child L exits with code 9 as soon as
 * D/exit-now appears: the runner creates it as the dump starts, so L is
 * dumped alive or as a zombie (its SIGCHLD then pending in the parent);
 * either way the parent must reap it with code 9.
 */
#include <sys/wait.h>
#include <signal.h>

#include "workload.h"

static pid_t zombie_a, zombie_b, counter_c, late_l = -1;

static void wait_dead(pid_t pid, const char *name)
{
	siginfo_t si;

	/* WNOWAIT: it stays a zombie */
	while (waitid(P_PID, pid, &si, WEXITED | WNOWAIT))
		if (errno != EINTR)
			wl_fail("waitid %s: %s", name, strerror(errno));
}

static int in_group_of_a(void *arg)
{
	return getpgid(*(pid_t *)arg) == zombie_a;
}

static void unblock_sigchld(void)
{
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, SIGCHLD);
	sigprocmask(SIG_UNBLOCK, &set, NULL);
}

static pid_t child(void)
{
	pid_t pid = fork();

	if (pid < 0)
		wl_fail("fork: %s", strerror(errno));
	if (pid == 0)
		unblock_sigchld();
	return pid;
}

static int count_c(pid_t parent)
{
	char path[PATH_MAX];
	unsigned long n = 0;
	int fd;

	fd = open(wl_path(path, "count.c"), O_WRONLY | O_CREAT | O_APPEND,
		  0644);
	if (fd < 0)
		wl_fail("open count.c: %s", strerror(errno));
	while (!wl_should_stop()) {
		wl_count_write(fd, n++);
		wl_sleep_ms(20);
	}
	if (getppid() != parent)
		wl_fail("C: parent is %d, want %d", getppid(), parent);
	if (getpgrp() != getpgid(parent))
		wl_fail("C: in group %d", getpgrp());
	return 0;
}

static void make_zombies(void)
{
	zombie_a = child();
	if (zombie_a == 0) {
		if (setpgid(0, 0))
			_exit(2);
		_exit(7);
	}
	wait_dead(zombie_a, "A");
	zombie_b = child();
	if (zombie_b == 0) {
		if (setpgid(0, zombie_a))
			_exit(3);
		for (;;)
			pause();
	}
	if (!wl_wait(in_group_of_a, &zombie_b, 60))
		wl_fail("B not in the group of zombie A: %s", strerror(errno));
	if (kill(zombie_b, SIGTERM))
		wl_fail("kill B: %s", strerror(errno));
	wait_dead(zombie_b, "B");
}

static void late_child(void)
{
	late_l = child();
	if (late_l)
		return;
	while (!wl_exists("exit-now"))
		wl_sleep_ms(1);
	_exit(9);
}

/* Consume the pending SIGCHLDs; with a "when", each must come from
 * allowed (-1: none may be pending). */
static void drain_sigchld(pid_t allowed, const char *when)
{
	struct timespec zero = { 0, 0 };
	siginfo_t si;
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, SIGCHLD);
	while (sigtimedwait(&set, &si, &zero) == SIGCHLD)
		if (when && si.si_pid != allowed)
			wl_fail("SIGCHLD from %d pending %s", si.si_pid, when);
}

static void reap(pid_t pid, const char *name, int want)
{
	int st;

	if (waitpid(pid, &st, 0) != pid)
		wl_fail("waitpid %s (%d): %s", name, pid, strerror(errno));
	if (st != want)
		wl_fail("%s (%d) ended with wait status %#x, want %#x", name,
			pid, st, want);
}

static void reap_zombies(void)
{
	if (wl_state_of(zombie_a) != 'Z' || wl_state_of(zombie_b) != 'Z')
		wl_fail("A (%d) is in state %c and B (%d) in state %c, want Z",
			zombie_a, wl_state_of(zombie_a), zombie_b,
			wl_state_of(zombie_b));
	if (getpgid(zombie_a) != zombie_a || getpgid(zombie_b) != zombie_a)
		wl_fail("A (%d) in group %d, B (%d) in group %d", zombie_a,
			getpgid(zombie_a), zombie_b, getpgid(zombie_b));
	if (getsid(zombie_a) != getsid(0) || getsid(zombie_b) != getsid(0))
		wl_fail("zombies in sessions %d and %d, want %d",
			getsid(zombie_a), getsid(zombie_b), getsid(0));
	reap(zombie_a, "A", 7 << 8);
	reap(zombie_b, "B", SIGTERM);
}

int main(int argc, char **argv)
{
	unsigned long n = 0;
	int fd, reaped = 0, st;
	sigset_t set;

	wl_init();
	sigemptyset(&set);
	sigaddset(&set, SIGCHLD);
	if (sigprocmask(SIG_BLOCK, &set, NULL))
		wl_fail("sigprocmask: %s", strerror(errno));
	make_zombies();
	counter_c = child();
	if (counter_c == 0)
		exit(count_c(getppid()));
	if (argc > 1 && !strcmp(argv[1], "late"))
		late_child();
	drain_sigchld(0, NULL);
	fd = wl_count_open();
	for (;;) {
		wl_count_write(fd, n++);
		if (n == 5)
			wl_ready();
		if (!reaped && wl_restored()) {
			drain_sigchld(late_l, "after restore");
			reap_zombies();
			reaped = 1;
		}
		if (n > 5 && wl_should_stop())
			break;
		wl_sleep_ms(20);
	}
	if (!reaped)
		reap_zombies();
	if (late_l > 0)
		reap(late_l, "L", 9 << 8);
	reap(counter_c, "C", 0);
	if (waitpid(-1, &st, WNOHANG) != -1 || errno != ECHILD)
		wl_fail("a child is left after A, B, C and L");
	if (wl_count_lines() != n)
		wl_fail("count file has %lu lines, the counter is at %lu",
			wl_count_lines(), n);
	return 0;
}
