/*
 * testprog.h: for unit tests that run a real program compiled at test
 * time and dump it: write its source, compile it, start it and wait until
 * it sleeps where the test expects it. Header-only (static functions), for
 * test files only.
 */
#ifndef CKPT_TESTPROG_H
#define CKPT_TESTPROG_H

#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <check.h>
#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* Write src to dir/name.c and compile it with cc -g -O0 and flags into
 * dir/name, whose path goes to exe. */
static inline void tp_compile(const char *dir, const char *name,
			      const char *src, const char *flags, char *exe,
			      size_t len)
{
	char path[256], cmd[1024];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s.c", dir, name);
	f = fopen(path, "w");
	ck_assert_ptr_nonnull(f);
	ck_assert_int_eq(fputs(src, f) >= 0, 1);
	ck_assert_int_eq(fclose(f), 0);
	snprintf(exe, len, "%s/%s", dir, name);
	snprintf(cmd, sizeof(cmd), "cc -g -O0 %s -o '%s' '%s'", flags, exe,
		 path);
	ck_assert_msg(system(cmd) == 0, "failed: %s", cmd);
}

/* The system call task tid of pid sits in, or -1. */
static inline long tp_task_syscall(pid_t pid, const char *tid)
{
	char path[400], buf[64];
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/task/%s/syscall", (int)pid,
		 tid);
	fd = open(path, O_RDONLY);
	if (fd < 0)
		return -1;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	buf[n > 0 ? n : 0] = '\0';
	return strtol(buf, NULL, 10);
}

static inline int tp_is_sleep(long nr)
{
	return nr == SYS_nanosleep || nr == SYS_clock_nanosleep ||
	       nr == SYS_pause || nr == SYS_ppoll || nr == SYS_rt_sigsuspend;
}

/* Wait, with a generous bound (the machine may be loaded), until the
 * nr_threads threads of pid all sit in a sleeping system call. */
static inline void tp_wait_asleep(pid_t pid, int nr_threads)
{
	struct timespec tick = { 0, 10 * 1000 * 1000 };
	char path[64];
	int i, n, asleep;

	snprintf(path, sizeof(path), "/proc/%d/task", (int)pid);
	for (i = 0; i < 6000; i++) {
		struct dirent *de;
		DIR *d = opendir(path);

		ck_assert_ptr_nonnull(d);
		n = asleep = 0;
		while ((de = readdir(d))) {
			if (de->d_name[0] == '.')
				continue;
			n++;
			asleep += tp_is_sleep(tp_task_syscall(pid, de->d_name));
		}
		closedir(d);
		if (n == nr_threads && asleep == nr_threads)
			return;
		nanosleep(&tick, NULL);
	}
	ck_abort_msg("the threads of %d never went to sleep", (int)pid);
}

/*
 * Start exe with stdout on a pipe and only fds 0-2 (the dumper refuses
 * other pipes), dying with the test; return its pid once it printed
 * "ready" and its nr_threads threads sleep.
 */
static inline pid_t tp_spawn(const char *exe, int nr_threads)
{
	char line[64];
	int fds[2];
	pid_t pid;
	FILE *f;

	ck_assert_int_eq(pipe(fds), 0);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		if (prctl(PR_SET_PDEATHSIG, SIGKILL))
			_exit(99);
		dup2(fds[1], 1);
		syscall(SYS_close_range, 3, ~0U, 0);
		execl(exe, exe, (char *)NULL);
		_exit(127);
	}
	close(fds[1]);
	f = fdopen(fds[0], "r");
	ck_assert_ptr_nonnull(f);
	ck_assert_ptr_nonnull(fgets(line, sizeof(line), f));
	ck_assert_str_eq(line, "ready\n");
	fclose(f);
	tp_wait_asleep(pid, nr_threads);
	return pid;
}

#endif
