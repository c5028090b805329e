/*
 * fownpg.c - a SIGIO owner that is a process group of the tree (dump it
 * with --tree).
 *
 * Child K leads a group of its own and notes each SIGIO it gets in
 * D/kgot. The root owns a pipe's read end with O_ASYNC and F_SETOWN_EX
 * F_OWNER_PGRP K. Once (after restore, or at D/stop) the root writes a
 * byte into the pipe: K's group must get the SIGIO (D/kgot appears). At
 * the end K is killed and reaped.
 */
#include <sys/wait.h>
#include <signal.h>

#include "workload.h"

static int p[2];
static pid_t kid;
static volatile sig_atomic_t got;

static void on_io(int sig)
{
	(void)sig;
	got = 1;
}

static void __attribute__((noreturn)) k_main(void)
{
	if (setpgid(0, 0) || signal(SIGIO, on_io) == SIG_ERR)
		_exit(1);
	for (;;) {
		pause();	/* until a signal: ours, or the end */
		if (got) {
			wl_write_file("kgot", "1\n", 2);
			got = 0;
		}
	}
}

static int kgot(void *arg)
{
	(void)arg;
	return wl_exists("kgot");
}

static void check(void)
{
	struct f_owner_ex ex;

	if (fcntl(p[0], F_GETOWN_EX, &ex) || ex.type != F_OWNER_PGRP ||
	    ex.pid != kid || !(fcntl(p[0], F_GETFL) & O_ASYNC))
		wl_fail("owner %d %d, want group %d with O_ASYNC", ex.type,
			(int)ex.pid, (int)kid);
	if (write(p[1], "x", 1) != 1)
		wl_fail("write: %s", strerror(errno));
	if (!wl_wait(kgot, NULL, 60))
		wl_fail("K's group got no SIGIO");
}

int main(void)
{
	struct f_owner_ex ex;

	wl_init();
	if (signal(SIGIO, SIG_IGN) == SIG_ERR || pipe(p))
		wl_fail("pipe: %s", strerror(errno));
	kid = fork();
	if (kid < 0)
		wl_fail("fork: %s", strerror(errno));
	if (!kid)
		k_main();
	while (getpgid(kid) != kid)
		wl_sleep_ms(1);
	ex = (struct f_owner_ex){ .type = F_OWNER_PGRP, .pid = kid };
	if (fcntl(p[0], F_SETOWN_EX, &ex) ||
	    fcntl(p[0], F_SETFL, fcntl(p[0], F_GETFL) | O_ASYNC))
		wl_fail("owning the pipe: %s", strerror(errno));
	wl_count_checked(check);
	if (kill(kid, SIGKILL) || waitpid(kid, NULL, 0) != kid)
		wl_fail("ending K: %s", strerror(errno));
	return 0;
}
