/*
 * seccomp.c - seccomp filters that must come back in force, in their
 * order, on the threads that had them. Filter A (the older) makes
 * uname() and getsid() fail with EPERM; filter B (the newer, with
 * SECCOMP_FILTER_FLAG_LOG) allows everything but getsid(), which fails
 * with EACCES: the kernel takes the newest filter's errno on a tie, so
 * getsid() tells the order apart.
 *
 *   (none)   A then B on the main thread with TSYNC, once a second thread
 *            runs: both threads have A and B, shared
 *   own      A on the main thread before the second thread is made (so
 *            they share it), then B on the second thread alone
 *   apart    A on each thread, installed by each apart: alike, not
 *            shared, so a TSYNC must fail, naming the other thread
 *   subset   a second thread made with no filter, then A on the main
 *            thread, then a third thread made, which shares A with it:
 *            ckpt must refuse (restore can share a filter with all
 *            threads or none)
 *   notify   a filter that sends sync_file_range() to a listener (whose
 *            fd this process keeps): ckpt must refuse it
 *   strict   no filter; the second thread in strict mode, echoing bytes
 *            from one pipe to another with read() and write(), all
 *            that mode allows
 *
 * Each thread checks its own filters (and /proc's Seccomp and
 * Seccomp_filters) once D/restored appears (at D/stop in the original);
 * then the thread with the longer chain installs one more with TSYNC,
 * which works only if the other's filters are still shared with it.
 */
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <pthread.h>

#include "workload.h"

#define NR_OFF	0	/* seccomp_data.nr */
#define DENY(nr, err)							\
	BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, (nr), 0, 1),		\
	BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | (err))

static struct sock_filter a_insns[] = {
	BPF_STMT(BPF_LD | BPF_W | BPF_ABS, NR_OFF),
	DENY(SYS_uname, EPERM),
	DENY(SYS_getsid, EPERM),
	BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
};

static struct sock_filter b_insns[] = {
	BPF_STMT(BPF_LD | BPF_W | BPF_ABS, NR_OFF),
	DENY(SYS_getsid, EACCES),
	BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
};

static struct sock_filter allow_insns[] = {
	BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
};

static struct sock_filter notify_insns[] = {
	BPF_STMT(BPF_LD | BPF_W | BPF_ABS, NR_OFF),
	BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_sync_file_range, 0, 1),
	BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_USER_NOTIF),
	BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
};

#define PROG(insns) { sizeof(insns) / sizeof(insns[0]), insns }

static struct sock_fprog a_prog = PROG(a_insns);
static struct sock_fprog b_prog = PROG(b_insns);
static struct sock_fprog allow_prog = PROG(allow_insns);
static struct sock_fprog notify_prog = PROG(notify_insns);

static const char *mode = "";
static volatile int installed, check_now, thread_checked;

static long install(struct sock_fprog *prog, unsigned int flags)
{
	long ret = syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, flags, prog);

	if (ret < 0)
		wl_fail("seccomp: %s", strerror(errno));
	return ret;
}

/* /proc's status of thread tid, in s (8192 bytes) */
static void read_status(pid_t tid, char *s)
{
	char path[64];
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/proc/self/task/%d/status", tid);
	fd = open(path, O_RDONLY);
	n = fd < 0 ? -1 : read(fd, s, 8191);
	if (n < 0)
		wl_fail("%s: %s", path, strerror(errno));
	close(fd);
	s[n] = '\0';
}

/* the filters this thread must have: A and B, or A alone */
static void check_thread(const char *who, int filters)
{
	char s[8192], want[64];
	struct utsname u;
	int err;

	errno = 0;
	if (uname(&u) == 0 || errno != EPERM)
		wl_fail("%s thread: uname: %s, want EPERM", who,
			strerror(errno));
	err = filters == 2 ? EACCES : EPERM;
	errno = 0;
	if (getsid(0) >= 0 || errno != err)
		wl_fail("%s thread: getsid: %s, want %s", who,
			strerror(errno), strerror(err));
	read_status(wl_gettid(), s);
	snprintf(want, sizeof(want), "\nSeccomp:\t2\nSeccomp_filters:\t%d\n",
		 filters);
	if (!strstr(s, want))
		wl_fail("%s thread: no \"%s\" in its status", who, want + 1);
}

static void check_shared(const char *who)
{
	long tid = install(&allow_prog, SECCOMP_FILTER_FLAG_TSYNC);

	if (tid)
		wl_fail("%s thread: thread %ld does not share its filters",
			who, tid);
}

static void *second(void *arg)
{
	(void)arg;
	while (!installed)
		wl_sleep_ms(10);
	if (!strcmp(mode, "own"))
		install(&b_prog, SECCOMP_FILTER_FLAG_LOG);
	if (!strcmp(mode, "apart"))
		install(&a_prog, 0);
	installed = 2;
	while (!check_now)
		wl_sleep_ms(10);
	check_thread("second", strcmp(mode, "apart") ? 2 : 1);
	if (!strcmp(mode, "own"))
		check_shared("second");
	thread_checked = 1;
	for (;;)
		wl_sleep_ms(100);
	return NULL;
}

static int to_strict[2], from_strict[2];
static volatile pid_t strict_tid;
static volatile int in_strict;	/* a store, not a call: allowed */

/* only read() and write() once in strict mode: anything else kills */
static void *strict(void *arg)
{
	char c;

	(void)arg;
	strict_tid = wl_gettid();
	if (syscall(SYS_seccomp, SECCOMP_SET_MODE_STRICT, 0, NULL))
		wl_fail("strict mode: %s", strerror(errno));
	in_strict = 1;
	for (;;)
		if (syscall(SYS_read, to_strict[0], &c, 1) != 1 ||
		    syscall(SYS_write, from_strict[1], &c, 1) != 1)
			syscall(SYS_exit, 1);
	return NULL;
}

/* the thread is in strict mode, and echoes */
static void check_strict(void)
{
	char s[8192], c = 'x';

	read_status(strict_tid, s);
	if (!strstr(s, "\nSeccomp:\t1\n"))
		wl_fail("the strict thread is no longer in strict mode");
	if (write(to_strict[1], &c, 1) != 1 || read(from_strict[0], &c, 1) != 1
	    || c != 'x')
		wl_fail("the strict thread does not echo");
}

static void check_process(void)
{
	if (!strcmp(mode, "notify"))
		return;		/* refused: nothing to check */
	if (!strcmp(mode, "strict")) {
		check_strict();
		return;
	}
	if (!strcmp(mode, "subset"))
		return;		/* refused */
	check_thread("main", strcmp(mode, "own") && strcmp(mode, "apart") ?
		     2 : 1);
	check_now = 1;
	while (!thread_checked)
		wl_sleep_ms(10);
	if (!strcmp(mode, "apart")) {
		/* the second thread's A is not an ancestor of ours */
		if (install(&allow_prog, SECCOMP_FILTER_FLAG_TSYNC) <= 0)
			wl_fail("main thread: a TSYNC worked: the threads share their filters");
		return;
	}
	if (strcmp(mode, "own"))
		check_shared("main");
}

static void *idle(void *arg)
{
	(void)arg;
	for (;;)
		wl_sleep_ms(100);
	return NULL;
}

static void set_filters(void)
{
	if (!strcmp(mode, "notify")) {
		/* the listener's fd stays open in this process */
		install(&notify_prog, SECCOMP_FILTER_FLAG_NEW_LISTENER);
		return;
	}
	install(&a_prog, strcmp(mode, "apart") && strcmp(mode, "subset") ?
		SECCOMP_FILTER_FLAG_TSYNC : 0);
	if (!strcmp(mode, "apart") || !strcmp(mode, "subset"))
		return;		/* A alone */
	if (strcmp(mode, "own"))
		install(&b_prog, SECCOMP_FILTER_FLAG_TSYNC |
			SECCOMP_FILTER_FLAG_LOG);
}

int main(int argc, char **argv)
{
	pthread_t th;

	wl_init();
	if (argc > 1)
		mode = argv[1];
	if (!strcmp(mode, "strict")) {
		if (pipe(to_strict) || pipe(from_strict) ||
		    pthread_create(&th, NULL, strict, NULL))
			wl_fail("strict thread: %s", strerror(errno));
		while (!in_strict)
			wl_sleep_ms(10);
		wl_count_checked(check_process);
		return 0;
	}
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0))
		wl_fail("no_new_privs: %s", strerror(errno));
	if (!strcmp(mode, "subset")) {
		if (pthread_create(&th, NULL, idle, NULL))
			wl_fail("pthread_create");
		set_filters();
		if (pthread_create(&th, NULL, idle, NULL))
			wl_fail("pthread_create");
		wl_count_checked(check_process);
		return 0;
	}
	if (!strcmp(mode, "own"))
		set_filters();
	if (pthread_create(&th, NULL, second, NULL))
		wl_fail("pthread_create");
	if (strcmp(mode, "own"))
		set_filters();
	installed = 1;
	while (installed != 2)
		wl_sleep_ms(10);
	wl_count_checked(check_process);
	return 0;
}
