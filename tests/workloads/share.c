/*
 * share.c - tasks that share a cwd or an fd table, or have their own.
 * Those restore makes again, each checked after the restore (at
 * D/restored, or at D/stop in the original):
 *
 *   fs          a child process made with CLONE_FS, in a directory of the
 *               workload's with umask 027: one cwd, root and umask. The
 *               kernel must say they share it (kcmp), the child's cwd and
 *               umask (/proc) must follow the parent's chdir and umask.
 *   files       a child process made with CLONE_FILES: one fd table. The
 *               kernel must say they share it (kcmp), and an fd the
 *               parent opens must be the child's (kcmp KCMP_FILE).
 *   thread      a thread that called unshare(CLONE_FILES) and then closed
 *               an fd, moved another to fd 50 (close-on-exec) and kept
 *               the rest: its own table, holding files of the process's.
 *               The main thread opens the count file after, which the
 *               thread has not.
 *   thread-fs   a thread that called unshare(CLONE_FS), went to a
 *               directory of its own and set umask 077.
 *   vfork-exec  a child H that runs /bin/true again and again through
 *               vfork(), its vfork() child sleeping 200 ms before its
 *               execve(): H waits in vfork() most of the time, and ckpt
 *               must wait for the execve() rather than refuse.
 *
 * Those ckpt must refuse to dump, naming them, while the workload runs on:
 *
 *   files-out   a child process made with CLONE_FILES, dumped without it
 *   files-kids  a child process made with CLONE_FILES that forks a
 *               child of its own
 *   vm          a child process made with CLONE_VM | CLONE_SIGHAND (one
 *               address space and one set of handlers, not a thread)
 *   vfork       a child H whose vfork() child has not called execve():
 *               H waits in vfork() for it, sharing its address space
 *   fs-sibling  a child A, and B made by A with CLONE_FS | CLONE_PARENT:
 *               two children of the workload sharing a cwd it has not
 *   thread-open a thread that unshared its fd table and opened a file in
 *               it alone
 *
 * The children die with the parent (PR_SET_PDEATHSIG).
 */
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <linux/kcmp.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>

#include "workload.h"

#define MOVED	50	/* where the thread moves fd b */

static char stack[64 * 1024] __attribute__((aligned(16)));
static const char *mode;
static pid_t kid;		/* fs: the child */
static volatile pid_t tid;	/* thread*: the thread, once set up */
static int fd_a = -1, fd_b = -1;	/* thread: closed, moved by it */

static long kcmp(pid_t a, pid_t b, int type, long x, long y)
{
	return syscall(SYS_kcmp, a, b, type, x, y);
}

/* only system calls: in a CLONE_VM child libc's state is the parent's;
 * with arg, a child of its own first (files-kids) */
static int child(void *arg)
{
	struct timespec ts = { 1, 0 };

	syscall(SYS_prctl, PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
	if (arg && syscall(SYS_fork) == 0)
		syscall(SYS_prctl, PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
	for (;;)
		syscall(SYS_nanosleep, &ts, NULL);
	return 0;
}

static void make_dir(const char *name, char *path)
{
	wl_path(path, name);
	if (mkdir(path, 0755) && errno != EEXIST)
		wl_fail("mkdir %s: %s", path, strerror(errno));
}

/* The cwd and the umask (of status) of dir, a /proc/PID or a task */
static void task_fs(const char *dir, char *cwd, size_t len, unsigned int *mask)
{
	char path[128], buf[4096], *p;
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "%s/cwd", dir);
	n = readlink(path, cwd, len - 1);
	if (n < 0)
		wl_fail("readlink %s: %s", path, strerror(errno));
	cwd[n] = '\0';
	snprintf(path, sizeof(path), "%s/status", dir);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	n = fd < 0 ? -1 : read(fd, buf, sizeof(buf) - 1);
	if (n <= 0)
		wl_fail("read %s: %s", path, strerror(errno));
	close(fd);
	buf[n] = '\0';
	p = strstr(buf, "\nUmask:");
	if (!p)
		wl_fail("no Umask in %s", path);
	*mask = strtoul(p + 7, NULL, 8);
}

/* Task t of ours, or process t when t is not one of our threads. */
static void expect_fs(pid_t t, const char *who, const char *want,
		      unsigned int mask)
{
	char dir[64], cwd[PATH_MAX];
	unsigned int m;

	if (t == kid)
		snprintf(dir, sizeof(dir), "/proc/%d", t);
	else
		snprintf(dir, sizeof(dir), "/proc/%d/task/%d", getpid(), t);
	task_fs(dir, cwd, sizeof(cwd), &m);
	if (strcmp(cwd, want) || m != mask)
		wl_fail("%s: cwd %s umask %03o, not %s %03o", who, cwd, m,
			want, mask);
}

/* The child follows the parent's chdir and umask, and back. */
static void check_fs(void)
{
	char here[PATH_MAX], there[PATH_MAX];

	wl_path(here, "fsdir");
	wl_path(there, "fsdir2");
	if (kcmp(getpid(), kid, KCMP_FS, 0, 0))
		wl_fail("child %d does not share our cwd, root and umask",
			kid);
	expect_fs(getpid(), "parent", here, 027);
	expect_fs(kid, "child", here, 027);
	if (chdir(there))
		wl_fail("chdir %s: %s", there, strerror(errno));
	umask(022);
	expect_fs(kid, "child after our chdir", there, 022);
	if (chdir(here))
		wl_fail("chdir %s: %s", here, strerror(errno));
	umask(027);
}

/* One fd table: what we open the child has, as the same file. */
static void check_files(void)
{
	char path[PATH_MAX];
	int fd;

	if (kcmp(getpid(), kid, KCMP_FILES, 0, 0))
		wl_fail("child %d does not share our fd table", kid);
	fd = open(wl_path(path, "new"), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0)
		wl_fail("open: %s", strerror(errno));
	if (kcmp(getpid(), kid, KCMP_FILE, fd, fd))
		wl_fail("child %d has not our new fd %d", kid, fd);
	close(fd);
}

static void *unshared(void *arg)
{
	char path[PATH_MAX];
	int fd;

	if (!strcmp(mode, "thread-fs")) {
		make_dir("tdir", path);
		if (unshare(CLONE_FS) || chdir(path))
			wl_fail("unshare CLONE_FS, chdir: %s", strerror(errno));
		umask(077);
	} else {
		if (unshare(CLONE_FILES))
			wl_fail("unshare: %s", strerror(errno));
		if (close(fd_a) || dup3(fd_b, MOVED, O_CLOEXEC) != MOVED ||
		    close(fd_b))
			wl_fail("thread fds: %s", strerror(errno));
		if (!strcmp(mode, "thread-open")) {
			/* above the fds the check looks at */
			fd = open(wl_path(path, "own"), O_RDWR | O_CREAT, 0600);
			if (fd < 0 || dup2(fd, MOVED + 1) < 0 || close(fd))
				wl_fail("open: %s", strerror(errno));
		}
	}
	tid = wl_gettid();
	(void)arg;
	for (;;)
		wl_sleep_ms(100);
	return NULL;
}

static int has_fd(pid_t t, int fd)
{
	char path[96];

	snprintf(path, sizeof(path), "/proc/%d/task/%d/fd/%d", getpid(), t,
		 fd);
	return !access(path, F_OK);
}

static void check_thread(void)
{
	char dir[PATH_MAX];
	int fl;

	if (!strcmp(mode, "thread-fs")) {
		if (!kcmp(getpid(), tid, KCMP_FS, 0, 0))
			wl_fail("thread %d shares our cwd", tid);
		expect_fs(tid, "thread", wl_path(dir, "tdir"), 077);
		expect_fs(getpid(), "main thread", wl_dir, 022);
		return;
	}
	if (!kcmp(getpid(), tid, KCMP_FILES, 0, 0))
		wl_fail("thread %d shares our fd table", tid);
	if (has_fd(tid, fd_a) || has_fd(tid, fd_b) || !has_fd(tid, MOVED))
		wl_fail("thread %d has the wrong fds: %d %d %d", tid,
			has_fd(tid, fd_a), has_fd(tid, fd_b),
			has_fd(tid, MOVED));
	if (!has_fd(getpid(), fd_a) || !has_fd(getpid(), fd_b) ||
	    has_fd(getpid(), MOVED))
		wl_fail("the main thread has the wrong fds");
	if (kcmp(tid, getpid(), KCMP_FILE, MOVED, fd_b))
		wl_fail("thread's fd %d is not our fd %d", MOVED, fd_b);
	fl = fcntl(fd_b, F_GETFD);
	if (fl != 0)
		wl_fail("our fd %d has flags %d", fd_b, fl);
}

static void start_thread(void)
{
	char path[PATH_MAX];
	pthread_t th;

	umask(022);
	fd_a = open(wl_path(path, "a"), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	fd_b = open(wl_path(path, "b"), O_RDWR | O_CREAT, 0600);
	if (fd_a < 0 || fd_b < 0)
		wl_fail("open: %s", strerror(errno));
	if (pthread_create(&th, NULL, unshared, NULL))
		wl_fail("pthread_create");
	while (!tid)
		wl_sleep_ms(1);
}

static void start_fs_child(void)
{
	char path[PATH_MAX];

	make_dir("fsdir", path);
	make_dir("fsdir2", path);
	if (chdir(wl_path(path, "fsdir")))
		wl_fail("chdir: %s", strerror(errno));
	umask(027);
	kid = clone(child, stack + sizeof(stack), SIGCHLD | CLONE_FS, NULL);
	if (kid < 0)
		wl_fail("clone: %s", strerror(errno));
}

/* H, blocked in vfork() for its child, which only sleeps (vfork). */
static void start_vfork(void)
{
	pid_t h = fork();

	if (h < 0)
		wl_fail("fork: %s", strerror(errno));
	if (h)
		return;
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (vfork() == 0)
		child(NULL);	/* system calls only, dies with H */
	_exit(0);
}

/* vfork-exec: H's rounds, in memory it shares with us */
static volatile unsigned long *rounds;

/* H, running /bin/true through vfork() for ever (vfork-exec). */
static void start_vfork_exec(void)
{
	static char *const argv[] = { "true", NULL }, *const envp[] = { NULL };
	const struct timespec late = { 0, 200000000L }, gap = { 0, 50000000L };
	pid_t h, c;
	int st;

	rounds = mmap(NULL, sizeof(*rounds), PROT_READ | PROT_WRITE,
		      MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (rounds == MAP_FAILED)
		wl_fail("mmap: %s", strerror(errno));
	h = fork();
	if (h < 0)
		wl_fail("fork: %s", strerror(errno));
	if (h) {
		kid = h;
		return;
	}
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	for (;;) {
		c = vfork();
		if (c == 0) {
			syscall(SYS_nanosleep, &late, NULL);
			syscall(SYS_execve, "/bin/true", argv, envp);
			syscall(SYS_exit, 127);
		}
		if (c < 0 || waitpid(c, &st, 0) != c || st)
			_exit(1);	/* check_vfork_exec sees it */
		(*rounds)++;
		nanosleep(&gap, NULL);
	}
}

/* H runs on: alive, and its rounds go on (5 s at most for one). */
static void check_vfork_exec(void)
{
	unsigned long was = *rounds;
	int i, st = 0;

	for (i = 0; i < 500 && *rounds == was; i++)
		wl_sleep_ms(10);
	if (waitpid(kid, &st, WNOHANG) != 0)
		wl_fail("H (%d) ended, status 0x%x", kid, st);
	if (*rounds == was)
		wl_fail("H (%d) did no round in 5 s", kid);
}

/* A, then B made by A as our child sharing A's cwd (fs-sibling). */
static void start_siblings(void)
{
	pid_t a = fork();

	if (a < 0)
		wl_fail("fork: %s", strerror(errno));
	if (a)
		return;
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (clone(child, stack + sizeof(stack),
		  SIGCHLD | CLONE_FS | CLONE_PARENT, NULL) < 0)
		wl_fail("clone: %s", strerror(errno));
	child(NULL);
}

static void nothing(void)
{
}

int main(int argc, char **argv)
{
	int flags = SIGCHLD;

	mode = argc > 1 ? argv[1] : "files";
	wl_init();
	if (!strncmp(mode, "thread", 6)) {
		start_thread();
		wl_count_checked(check_thread);
		return 0;
	}
	if (!strcmp(mode, "fs") || !strcmp(mode, "files")) {
		if (mode[1] == 's') {
			start_fs_child();
			wl_count_checked(check_fs);
		} else {
			kid = clone(child, stack + sizeof(stack),
				    SIGCHLD | CLONE_FILES, NULL);
			if (kid < 0)
				wl_fail("clone: %s", strerror(errno));
			wl_count_checked(check_files);
		}
		/* reaped here: PID 1 of the test sandbox never reaps */
		if (kill(kid, SIGKILL) || waitpid(kid, NULL, 0) != kid)
			wl_fail("can't end child %d: %s", kid, strerror(errno));
		return 0;
	}
	if (!strcmp(mode, "fs-sibling"))
		start_siblings();
	else if (!strcmp(mode, "vfork"))
		start_vfork();
	else if (!strcmp(mode, "vfork-exec")) {
		start_vfork_exec();
		wl_count_checked(check_vfork_exec);
		return 0;
	}
	else if (!strncmp(mode, "files-", 6))
		flags |= CLONE_FILES;
	else if (!strcmp(mode, "vm"))
		flags |= CLONE_VM | CLONE_SIGHAND;
	else
		wl_fail("unknown mode %s", mode);
	if (flags != SIGCHLD &&
	    clone(child, stack + sizeof(stack), flags,
		  strcmp(mode, "files-kids") ? NULL : (void *)1) < 0)
		wl_fail("clone: %s", strerror(errno));
	wl_count_checked(nothing);
	return 0;
}
