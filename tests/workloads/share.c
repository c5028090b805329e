/*
 * share.c - tasks that share what restore would make separate, which ckpt
 * must refuse to dump, naming it, while the workload runs on:
 *
 *   files    a child process made with CLONE_FILES (one fd table)
 *   fs       a child process made with CLONE_FS (one cwd, root, umask)
 *   vm       a child process made with CLONE_VM | CLONE_SIGHAND (one
 *            address space and one set of handlers, not a thread)
 *   thread   a thread that called unshare(CLONE_FILES): a table of its own
 *
 * The children die with the parent (PR_SET_PDEATHSIG).
 */
#include <sys/prctl.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>

#include "workload.h"

static char stack[64 * 1024] __attribute__((aligned(16)));

/* only system calls: in a CLONE_VM child libc's state is the parent's */
static int child(void *arg)
{
	struct timespec ts = { 1, 0 };

	(void)arg;
	syscall(SYS_prctl, PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
	for (;;)
		syscall(SYS_nanosleep, &ts, NULL);
	return 0;
}

static void *unshared(void *arg)
{
	(void)arg;
	if (unshare(CLONE_FILES))
		wl_fail("unshare: %s", strerror(errno));
	for (;;)
		wl_sleep_ms(100);
	return NULL;
}

int main(int argc, char **argv)
{
	const char *mode = argc > 1 ? argv[1] : "files";
	int flags = SIGCHLD, fd;
	unsigned long n = 0;
	pthread_t th;

	wl_init();
	if (!strcmp(mode, "thread")) {
		if (pthread_create(&th, NULL, unshared, NULL))
			wl_fail("pthread_create");
	} else {
		if (!strcmp(mode, "files"))
			flags |= CLONE_FILES;
		else if (!strcmp(mode, "fs"))
			flags |= CLONE_FS;
		else if (!strcmp(mode, "vm"))
			flags |= CLONE_VM | CLONE_SIGHAND;
		else
			wl_fail("unknown mode %s", mode);
		if (clone(child, stack + sizeof(stack), flags, NULL) < 0)
			wl_fail("clone: %s", strerror(errno));
	}
	fd = wl_count_open();
	while (!wl_count_step(fd, &n))
		wl_sleep_ms(20);
	return 0;
}
