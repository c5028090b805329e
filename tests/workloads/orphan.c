/*
 * orphan.c - a child subreaper with an orphan: the workload R sets
 * PR_SET_CHILD_SUBREAPER, forks M, which forks O and exits; R reaps M and
 * O is reparented to R. After the restore O's parent must be R again: O
 * checks getppid() when it sees D/restored and at D/stop, then exits 0,
 * and R requires, after D/stop, that waitpid() gives it O's exit 0.
 * With the argument "group", M leads a process group of its own that O
 * stays in after M is gone: a group without its leader, which O checks
 * it is in. Trees that ckpt must refuse, running on:
 *   session      M leads a session of its own, which O stays in: a
 *                session that is neither O's nor its parent's
 *   group-split  as "group", and M's child A has a child O2 in the
 *                group: members of a leaderless group of two parents
 *                (A and O2 die with their parents)
 */
#include <sys/prctl.h>
#include <sys/wait.h>

#include "workload.h"

static pid_t reaper;

/* O: its parent is R and its group g, before and after the restore */
static void orphan(pid_t g)
{
	int checked = 0;

	while (getppid() != reaper)
		wl_sleep_ms(5);
	for (;;) {
		if (getppid() != reaper)
			wl_fail("orphan's parent is %d, not %d", getppid(),
				reaper);
		if (getpgrp() != g)
			wl_fail("orphan's group is %d, not %d", getpgrp(), g);
		if (checked && wl_should_stop())
			_exit(0);
		checked = 1;
		wl_sleep_ms(20);
	}
}

/* Die with the parent we have once it is want. */
static void die_with(pid_t want)
{
	while (getppid() != want)
		wl_sleep_ms(5);
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (getppid() != want)
		_exit(1);
	for (;;)
		pause();
}

/* A (group-split): its child O2 stays in the group */
static void split(void)
{
	pid_t a = fork(), o2;

	if (a < 0)
		wl_fail("fork: %s", strerror(errno));
	if (a)
		return;
	o2 = fork();
	if (o2 < 0)
		wl_fail("fork: %s", strerror(errno));
	if (!o2)
		die_with(getppid());
	die_with(reaper);
}

static pid_t make_orphan(const char *mode)
{
	int pfd[2], status;
	pid_t m, o;

	if (pipe(pfd))
		wl_fail("pipe: %s", strerror(errno));
	m = fork();
	if (m < 0)
		wl_fail("fork: %s", strerror(errno));
	if (!m) {
		if (strcmp(mode, "session") ? *mode && setpgid(0, 0) :
		    setsid() < 0)
			wl_fail("setpgid, setsid: %s", strerror(errno));
		if (!strcmp(mode, "group-split"))
			split();
		o = fork();
		if (o < 0)
			wl_fail("fork: %s", strerror(errno));
		if (!o) {
			close(pfd[0]);
			close(pfd[1]);
			orphan(getpgrp());	/* M's group, where it was born */
		}
		if (write(pfd[1], &o, sizeof(o)) != sizeof(o))
			_exit(1);
		_exit(0);
	}
	close(pfd[1]);
	if (read(pfd[0], &o, sizeof(o)) != sizeof(o))
		wl_fail("no orphan's pid");
	close(pfd[0]);
	if (waitpid(m, &status, 0) != m || status)
		wl_fail("middle child: status %#x", status);
	return o;
}

/* O's parent is R once /proc says so */
static void wait_adopted(pid_t o)
{
	char path[64], buf[512], *p;
	int fd, n;

	snprintf(path, sizeof(path), "/proc/%d/stat", o);
	for (;;) {
		fd = open(path, O_RDONLY | O_CLOEXEC);
		n = fd < 0 ? -1 : read(fd, buf, sizeof(buf) - 1);
		if (fd >= 0)
			close(fd);
		if (n <= 0)
			wl_fail("read %s: %s", path, strerror(errno));
		buf[n] = '\0';
		p = strrchr(buf, ')');
		if (p && atoi(p + 4) == reaper)
			return;
		wl_sleep_ms(5);
	}
}

static void nothing(void)
{
}

int main(int argc, char **argv)
{
	int status;
	pid_t o;

	wl_init();
	reaper = getpid();
	if (prctl(PR_SET_CHILD_SUBREAPER, 1))
		wl_fail("PR_SET_CHILD_SUBREAPER: %s", strerror(errno));
	o = make_orphan(argc > 1 ? argv[1] : "");
	wait_adopted(o);
	wl_count_checked(nothing);
	if (waitpid(o, &status, 0) != o)
		wl_fail("waitpid orphan %d: %s", o, strerror(errno));
	if (status)
		wl_fail("orphan %d: status %#x", o, status);
	return 0;
}
