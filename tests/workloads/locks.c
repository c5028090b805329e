/*
 * locks.c - file locks and their holder.
 *
 *   a	D/a: POSIX write lock on bytes 0-99, read lock on 200-299
 *   b	D/b: OFD write lock on the whole file
 *   c	D/c: flock LOCK_EX
 *   d	D/d: flock LOCK_SH, through a description that two fds share
 * After restore (and before, without one) a child made for the purpose
 * tries conflicting locks, which must fail as before the dump: F_GETLK on
 * a names this process as the holder, a read lock on 250 works and a
 * write lock there does not, the OFD and exclusive flock attempts fail,
 * a shared flock on d works and an exclusive one does not.
 *
 * With "lease" it also takes a read lease on D/e and a child of its
 * opens D/e for writing, which waits for the lease to be given up: ckpt
 * must refuse a lease being broken, naming the fd (leases that are not
 * are the fown workload's). The child is killed at D/stop.
 */
#include <sys/file.h>
#include <sys/wait.h>
#include <signal.h>

#include "workload.h"

static int open_in_d(const char *name, int flags)
{
	char p[PATH_MAX];
	int fd = open(wl_path(p, name), flags | O_CREAT, 0644);

	if (fd < 0)
		wl_fail("open %s: %s", p, strerror(errno));
	return fd;
}

static int lock(int fd, int cmd, short type, off_t start, off_t len)
{
	struct flock fl = { .l_type = type, .l_whence = SEEK_SET,
			    .l_start = start, .l_len = len };

	return fcntl(fd, cmd, &fl);
}

static pid_t breaker = -1;

static void setup(int lease)
{
	int a = open_in_d("a", O_RDWR), b = open_in_d("b", O_RDWR);
	int c = open_in_d("c", O_RDWR), d = open_in_d("d", O_RDONLY), e;

	if (lock(a, F_SETLK, F_WRLCK, 0, 100) ||
	    lock(a, F_SETLK, F_RDLCK, 200, 100) ||
	    lock(b, F_OFD_SETLK, F_WRLCK, 0, 0) || flock(c, LOCK_EX) ||
	    flock(d, LOCK_SH) || dup(d) < 0)
		wl_fail("taking the locks: %s", strerror(errno));
	if (!lease)
		return;
	e = open_in_d("e", O_RDONLY);
	/* SIGIO (the lease break's signal) would kill us */
	if (signal(SIGIO, SIG_IGN) == SIG_ERR || fcntl(e, F_SETLEASE, F_RDLCK))
		wl_fail("F_SETLEASE: %s", strerror(errno));
	breaker = fork();
	if (breaker < 0)
		wl_fail("fork: %s", strerror(errno));
	if (!breaker)
		_exit(open_in_d("e", O_WRONLY) < 0);
}

/* In a child: every conflicting attempt fails, every other one works. */
static void try_locks(pid_t holder)
{
	int a = open_in_d("a", O_RDWR), b = open_in_d("b", O_RDWR);
	int c = open_in_d("c", O_RDWR), d = open_in_d("d", O_RDONLY);
	struct flock fl = { .l_type = F_WRLCK, .l_whence = SEEK_SET,
			    .l_start = 10, .l_len = 1 };

	if (fcntl(a, F_GETLK, &fl) || fl.l_type != F_WRLCK ||
	    fl.l_pid != holder || fl.l_start != 0 || fl.l_len != 100)
		wl_fail("a: F_GETLK shows type %d pid %d %ld+%ld, want the write lock of %d",
			fl.l_type, (int)fl.l_pid, (long)fl.l_start,
			(long)fl.l_len, (int)holder);
	if (!lock(a, F_SETLK, F_WRLCK, 250, 1) ||
	    lock(a, F_SETLK, F_RDLCK, 250, 1))
		wl_fail("a: the read lock on 200-299 is not what it was");
	if (!lock(a, F_SETLK, F_WRLCK, 150, 10) == 0)
		wl_fail("a: bytes 150-159 were not free");
	if (!lock(b, F_OFD_SETLK, F_RDLCK, 5, 1))
		wl_fail("b: the OFD write lock is gone");
	if (!flock(c, LOCK_SH | LOCK_NB))
		wl_fail("c: the exclusive flock is gone");
	if (flock(d, LOCK_SH | LOCK_NB) || !flock(open_in_d("d", O_RDONLY),
						  LOCK_EX | LOCK_NB))
		wl_fail("d: the shared flock is not what it was");
	_exit(0);
}

static void check(void)
{
	pid_t me = getpid(), pid = fork();
	int st;

	if (pid < 0)
		wl_fail("fork: %s", strerror(errno));
	if (pid == 0)
		try_locks(me);
	if (waitpid(pid, &st, 0) != pid || !WIFEXITED(st) ||
	    WEXITSTATUS(st))
		wl_fail("the child that tried the locks failed");
}

int main(int argc, char **argv)
{
	unsigned long n = 0;
	int fd;

	wl_init();
	fd = wl_count_open();
	setup(argc > 1 && !strcmp(argv[1], "lease"));
	check();
	for (;;) {
		if (wl_count_step(fd, &n))
			break;
		wl_sleep_ms(20);
	}
	check();
	if (breaker > 0 && (kill(breaker, SIGKILL) ||
			    waitpid(breaker, NULL, 0) != breaker))
		wl_fail("can't end the lease breaker: %s", strerror(errno));
	return 0;
}
