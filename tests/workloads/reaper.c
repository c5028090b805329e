/*
 * reaper.c - runs a command as a child subreaper and reaps everything.
 *
 * Not a workload of its own: the tree tests that kill a dumped tree run
 * it under this, because PID 1 of the test sandbox never reaps orphans,
 * and an unreaped zombie keeps its PID, which the restore then needs.
 * Every orphan of the command's tree is reparented here and reaped. Exits
 * with the command's status once it and every orphan are gone.
 *
 * Usage: reaper PROG [ARGS...]
 */
#include <sys/prctl.h>
#include <sys/wait.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	int status, ret = 1;
	pid_t child, pid;

	if (argc < 2) {
		fprintf(stderr, "usage: reaper PROG [ARGS...]\n");
		return 64;
	}
	if (prctl(PR_SET_CHILD_SUBREAPER, 1)) {
		perror("reaper: PR_SET_CHILD_SUBREAPER");
		return 1;
	}
	child = fork();
	if (child < 0) {
		perror("reaper: fork");
		return 1;
	}
	if (child == 0) {
		execvp(argv[1], argv + 1);
		fprintf(stderr, "reaper: can't run %s: %s\n", argv[1],
			strerror(errno));
		_exit(127);
	}
	while ((pid = wait(&status)) > 0 || errno == EINTR) {
		if (pid != child)
			continue;
		ret = WIFEXITED(status) ? WEXITSTATUS(status) :
			128 + WTERMSIG(status);
	}
	return ret;
}
