/*
 * mkseed-proc: writes fuzz_proc's seeds into the directory given: real
 * /proc files of this machine, read at build time (git holds none). Our
 * own smaps, stat, status and timers (of a timer of each kind of
 * notification), and the fdinfo of one fd of each kind that
 * ckpt parses: eventfd, signalfd, epoll, inotify, and a file holding a
 * POSIX, an OFD and a flock lock.
 */
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/file.h>
#include <sys/inotify.h>
#include <sys/signalfd.h>
#include <fcntl.h>
#include <signal.h>
#include <time.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char *dir;

/* Copy /proc/self/what into dir/name. */
static int copy(const char *what, const char *name)
{
	char path[4096], buf[65536];
	ssize_t n;
	int in, out, ret = -1;

	snprintf(path, sizeof(path), "/proc/self/%s", what);
	in = open(path, O_RDONLY | O_CLOEXEC);
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	out = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (in < 0 || out < 0)
		goto out;
	while ((n = read(in, buf, sizeof(buf))) > 0)
		if (write(out, buf, n) != n)
			goto out;
	ret = n < 0 ? -1 : 0;
out:
	if (ret)
		perror(what);
	if (in >= 0)
		close(in);
	if (out >= 0)
		close(out);
	return ret;
}

static int copy_fdinfo(int fd, const char *name)
{
	char what[64];

	if (fd < 0) {
		perror(name);
		return -1;
	}
	snprintf(what, sizeof(what), "fdinfo/%d", fd);
	return copy(what, name);
}

/* A file with a POSIX and an OFD record lock and, through a second open
 * file description, a flock lock. */
static int locked_file(void)
{
	struct flock posix = { .l_type = F_WRLCK, .l_len = 10 };
	struct flock ofd = { .l_type = F_RDLCK, .l_start = 20 };
	char path[4096];
	int fd;

	snprintf(path, sizeof(path), "%s/.locked", dir);
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	unlink(path);
	if (fd < 0 || fcntl(fd, F_SETLK, &posix) ||
	    fcntl(fd, F_OFD_SETLK, &ofd) || flock(fd, LOCK_SH))
		return -1;
	return fd;
}

/* POSIX timers notifying by a signal, to a thread, and not at all */
static void timers(void)
{
	struct sigevent sig = { .sigev_notify = SIGEV_SIGNAL,
				.sigev_signo = SIGUSR2,
				.sigev_value.sival_ptr = &sig };
	struct sigevent tid = { .sigev_notify = SIGEV_THREAD_ID,
				.sigev_signo = SIGRTMIN,
				._sigev_un._tid = getpid() };
	struct sigevent none = { .sigev_notify = SIGEV_NONE };
	timer_t t;

	if (timer_create(CLOCK_MONOTONIC, &sig, &t) ||
	    timer_create(CLOCK_REALTIME, &tid, &t) ||
	    timer_create(CLOCK_PROCESS_CPUTIME_ID, &none, &t))
		perror("timer_create");
}

int main(int argc, char **argv)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.u64 = 42 };
	int efd, ep, in, lk;
	sigset_t set;

	if (argc != 2) {
		fprintf(stderr, "usage: mkseed-proc DIR\n");
		return 2;
	}
	dir = argv[1];
	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	efd = eventfd(7, EFD_CLOEXEC | EFD_SEMAPHORE);
	ep = epoll_create1(EPOLL_CLOEXEC);
	if (ep >= 0 && efd >= 0)
		epoll_ctl(ep, EPOLL_CTL_ADD, efd, &ev);
	in = inotify_init1(IN_CLOEXEC);
	if (in >= 0)
		inotify_add_watch(in, dir, IN_CREATE | IN_DELETE);
	lk = locked_file();
	timers();
	if (copy("smaps", "smaps") || copy("stat", "stat") ||
	    copy("timers", "timers") ||
	    copy("status", "status") || copy("mountinfo", "mountinfo") ||
	    copy_fdinfo(efd, "fdinfo-eventfd") ||
	    copy_fdinfo(signalfd(-1, &set, SFD_CLOEXEC), "fdinfo-signalfd") ||
	    copy_fdinfo(ep, "fdinfo-epoll") ||
	    copy_fdinfo(in, "fdinfo-inotify") ||
	    copy_fdinfo(lk, "fdinfo-locks"))
		return 1;
	return 0;
}
