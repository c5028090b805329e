/*
 * jobstop.c - a parent and the stops of its children as its wait() sees
 * them (dumped with --tree). In a process group of its own, the parent
 * makes:
 *   A, which stops itself by SIGTSTP; the parent collects that stop
 *      (WUNTRACED);
 *   B, in a group of its own, which stops itself by SIGTTIN; its stop is
 *      not collected;
 *   C, which stops itself by SIGSTOP; the parent collects the stop and
 *      continues it, and does not collect the SIGCONT (WCONTINUED).
 * When it sees D/restored (the original tree, which never does, at
 * D/stop) its wait() must report nothing more of A, B's stop by SIGTTIN,
 * C's SIGCONT, and A and B must be stopped. It then continues A and B.
 * At D/stop it creates D/kids-end, and every child must exit 0 (the
 * children wait for that file, not for D/stop: one that exited before the
 * checks would be reaped by them). SIGCHLD keeps its default action:
 * nothing interrupts the parent's sleeps.
 */
#include <sys/wait.h>
#include <signal.h>

#include "workload.h"

static pid_t a, b, c;

static pid_t child(int own_group, int sig)
{
	pid_t pid = fork();

	if (pid < 0)
		wl_fail("fork: %s", strerror(errno));
	if (pid)
		return pid;
	if (own_group && setpgid(0, 0))
		wl_fail("setpgid: %s", strerror(errno));
	raise(sig);
	while (!wl_exists("kids-end"))
		wl_sleep_ms(20);
	_exit(0);
}

static void check_waits(void)
{
	siginfo_t si;
	int st;

	if (waitpid(a, &st, WUNTRACED | WNOHANG) != 0)
		wl_fail("wait reports A's stop a second time");
	memset(&si, 0, sizeof(si));
	if (waitid(P_PID, b, &si, WSTOPPED | WNOHANG) ||
	    si.si_pid != b || si.si_code != CLD_STOPPED ||
	    si.si_status != SIGTTIN)
		wl_fail("B's stop by SIGTTIN not reported: pid %d code %d status %d",
			si.si_pid, si.si_code, si.si_status);
	if (waitpid(c, &st, WCONTINUED | WNOHANG) != c || !WIFCONTINUED(st))
		wl_fail("C's SIGCONT not reported");
	if (wl_state_of(a) != 'T' || wl_state_of(b) != 'T')
		wl_fail("A is %c and B %c, want both stopped", wl_state_of(a),
			wl_state_of(b));
	if (kill(a, SIGCONT) || kill(b, SIGCONT))
		wl_fail("kill SIGCONT: %s", strerror(errno));
	if (waitpid(a, &st, WCONTINUED) != a || !WIFCONTINUED(st))
		wl_fail("A's SIGCONT not reported");
}

static void wait_exit(pid_t pid, const char *name)
{
	int st;

	if (waitpid(pid, &st, 0) != pid || !WIFEXITED(st) ||
	    WEXITSTATUS(st))
		wl_fail("%s did not exit 0 (status %#x)", name, st);
}

int main(void)
{
	int st;

	wl_init();
	if (setpgid(0, 0))
		wl_fail("setpgid: %s", strerror(errno));
	a = child(0, SIGTSTP);
	if (waitpid(a, &st, WUNTRACED) != a || !WIFSTOPPED(st) ||
	    WSTOPSIG(st) != SIGTSTP)
		wl_fail("A did not stop by SIGTSTP");
	b = child(1, SIGTTIN);
	c = child(0, SIGSTOP);
	if (waitpid(c, &st, WUNTRACED) != c || !WIFSTOPPED(st))
		wl_fail("C did not stop");
	if (kill(c, SIGCONT))
		wl_fail("kill C: %s", strerror(errno));
	/* B stops on its own: wait for it without collecting the stop */
	while (wl_state_of(b) != 'T')
		wl_sleep_ms(10);
	wl_count_checked(check_waits);
	wl_write_file("kids-end", "", 0);
	wait_exit(a, "A");
	wait_exit(b, "B");
	wait_exit(c, "C");
	return 0;
}
