/*
 * pidnestc.c - a PID namespace below its root's made by clone(2) with
 * CLONE_NEWPID, so that the root's children still go to its own (unlike
 * unshare -fp, pidnest.sh): the root clones the namespace's init (PID 1
 * there), which leaves an orphan there (a sleep named pidnest-orphan-1
 * whose parent exits at once), runs COUNTER in D/c (D/count, D/stop and
 * D/restored linked to it), reaps whatever dies and exits with the
 * counter's status. The root writes D/ready once the counter is ready,
 * waits for the init and exits with its status.
 *
 * Usage: pidnestc COUNTER [threads] - with "threads", the root runs a
 * second thread and makes the namespace by unshare(CLONE_NEWPID) and a
 * fork instead (its children then go there: ckpt refuses that by name).
 */
#include "workload.h"

#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <sys/syscall.h>
#include <sys/wait.h>

static char d_c[PATH_MAX];

static void setup_dir(void)
{
	char p[PATH_MAX];

	if (mkdir(wl_path(d_c, "c"), 0755) && errno != EEXIST)
		wl_fail("mkdir c: %s", strerror(errno));
	if (symlink("../stop", wl_path(p, "c/stop")) ||
	    symlink("../restored", wl_path(p, "c/restored")) ||
	    symlink("c/count", wl_path(p, "count")))
		wl_fail("symlink: %s", strerror(errno));
}

static void orphan(void)
{
	pid_t a = fork();

	if (a < 0)
		wl_fail("fork: %s", strerror(errno));
	if (a == 0) {
		if (fork() == 0) {
			execl("/bin/sleep", "pidnest-orphan-1", "1000",
			      (char *)NULL);
			_exit(127);
		}
		_exit(0);
	}
	while (waitpid(a, NULL, 0) < 0 && errno == EINTR)
		;
}

static void __attribute__((noreturn)) init_main(const char *counter)
{
	char env[PATH_MAX + 16];
	pid_t k, pid;
	int st;

	if (getpid() != 1)
		wl_fail("the init is %d in its namespace, not 1", getpid());
	orphan();
	k = fork();
	if (k == 0) {
		snprintf(env, sizeof(env), "CKPT_TEST_DIR=%s", d_c);
		if (chdir(d_c) || putenv(env))
			_exit(127);
		execl(counter, counter, (char *)NULL);
		_exit(127);
	}
	if (k < 0)
		wl_fail("fork: %s", strerror(errno));
	for (;;) {
		pid = waitpid(-1, &st, 0);
		if (pid < 0 && errno != EINTR)
			wl_fail("waitpid: %s", strerror(errno));
		if (pid == k)
			_exit(WIFEXITED(st) ? WEXITSTATUS(st) : 1);
	}
}

static void *idle(void *arg)
{
	(void)arg;
	for (;;)
		pause();
	return NULL;
}

int main(int argc, char **argv)
{
	int threads = argc > 2 && !strcmp(argv[2], "threads"), st;
	char ready[PATH_MAX + 8];
	pthread_t th;
	pid_t init;

	if (argc < 2)
		wl_fail("usage: pidnestc COUNTER [threads]");
	wl_init();
	setup_dir();
	if (threads && (pthread_create(&th, NULL, idle, NULL) ||
			unshare(CLONE_NEWPID)))
		wl_fail("a thread and unshare: %s", strerror(errno));
	init = threads ? fork() :
	       (pid_t)syscall(SYS_clone, CLONE_NEWPID | SIGCHLD, NULL, NULL,
			      NULL, NULL);
	if (init < 0)
		wl_fail("clone: %s", strerror(errno));
	if (init == 0)
		init_main(argv[1]);
	snprintf(ready, sizeof(ready), "%s/ready", d_c);
	while (access(ready, F_OK))
		wl_sleep_ms(50);
	wl_ready();
	while (waitpid(init, &st, 0) < 0)
		if (errno != EINTR)
			wl_fail("waitpid: %s", strerror(errno));
	return WIFEXITED(st) ? WEXITSTATUS(st) : 1;
}
