/*
 * attach --track: the write tracking of a dump (dump-incr.c) outlives
 * the ckpt that armed it, so that the next `ckpt attach --parent IMAGE`
 * writes the pages written since IMAGE without reading the rest.
 *
 * The kernel drops a userfaultfd's write protection when its last
 * descriptor closes, so a holder process keeps them: a child of ckpt,
 * in a session of its own, with nothing else open. A write to a
 * protected page only clears the page's bit, in the kernel (asynchronous
 * write protection): the tracked processes run as before, and the holder
 * sleeps in poll(). It listens on IMAGE.track, a unix socket made with
 * mode 0600 beside the image; the next attach --parent IMAGE of the same
 * user (SO_PEERCRED, both ways) connects and is handed the descriptors
 * (SCM_RIGHTS) with the ranges they track and the id of the image they
 * track since (dump_incr_pack), and the holder ends, removing its
 * socket. It also ends, the same way, when every process it tracks has
 * exited (a pidfd each), or on SIGTERM. Killed outright, it leaves its
 * socket file, which the next attach finds refusing connections and
 * removes. Whatever ends it, the next attach --parent compares pages
 * instead: the tracking is lost, never wrong. A holder of an image of
 * the same name that is made again is claimed and let go first.
 */
#include <sys/poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ckpt/dump.h"

#define HOLD_SUFFIX	".track"
#define HOLD_MAX_FDS	253	/* SCM_MAX_FD */
#define HOLD_TIMEOUT_S	10	/* for a holder that does not answer */

static volatile sig_atomic_t hold_stop;

static void on_term(int sig)
{
	(void)sig;
	hold_stop = 1;
}

/* The socket's address as /proc/self/fd/DIRFD/NAME.track, the image's
 * directory open at *dirfd; -1 (said) when the name is too long. */
static int hold_addr(const char *image, struct sockaddr_un *sa, int *dirfd,
		     char *name, size_t name_size)
{
	char dir[PATH_MAX];
	const char *slash = strrchr(image, '/');

	snprintf(dir, sizeof(dir), "%.*s",
		 slash ? (int)(slash - image) + 1 : 1, slash ? image : ".");
	if ((size_t)snprintf(name, name_size, "%s%s", slash ? slash + 1 : image,
			     HOLD_SUFFIX) >= name_size)
		goto long_name;
	*dirfd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (*dirfd < 0) {
		pr_perror("can't open the directory of %s", image);
		return -1;
	}
	memset(sa, 0, sizeof(*sa));
	sa->sun_family = AF_UNIX;
	if ((size_t)snprintf(sa->sun_path, sizeof(sa->sun_path),
			     "/proc/self/fd/%d/%s", *dirfd, name) <
	    sizeof(sa->sun_path))
		return 0;
	close(*dirfd);
long_name:
	pr_err("%s: the name is too long for its tracking socket %s%s",
	       image, image, HOLD_SUFFIX);
	return -1;
}

/* Is the peer of sk of our user? */
static int same_user(int sk)
{
	struct ucred cr;
	socklen_t len = sizeof(cr);

	return !getsockopt(sk, SOL_SOCKET, SO_PEERCRED, &cr, &len) &&
	       cr.uid == geteuid();
}

/* Hand st to the client on sk: its length, then the bytes carrying the
 * descriptors. */
static int hand_over(int sk, const struct dump_incr *st)
{
	int fds[HOLD_MAX_FDS], nfds = 0, ret = -1;
	char cbuf[CMSG_SPACE(sizeof(fds))];
	size_t len = 0;
	void *buf = dump_incr_pack(st, &len, fds, &nfds, HOLD_MAX_FDS);
	uint64_t len64 = len;
	struct iovec iov = { buf, len };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1,
			     .msg_control = cbuf,
			     .msg_controllen = CMSG_SPACE(nfds * sizeof(int)) };
	struct cmsghdr *c = CMSG_FIRSTHDR(&mh);

	if (!buf)
		return -1;
	memset(cbuf, 0, sizeof(cbuf));
	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = SCM_RIGHTS;
	c->cmsg_len = CMSG_LEN(nfds * sizeof(int));
	memcpy(CMSG_DATA(c), fds, nfds * sizeof(int));
	if (write(sk, &len64, sizeof(len64)) == sizeof(len64) &&
	    sendmsg(sk, &mh, MSG_NOSIGNAL) == (ssize_t)len)
		ret = 0;
	free(buf);
	return ret;
}

static int cmp_int(const void *a, const void *b)
{
	return *(const int *)a - *(const int *)b;
}

/* Close every descriptor above 2 but the n in keep (sorted here). */
static void keep_only(int *keep, int n)
{
	unsigned int from = 3;
	int i;

	qsort(keep, n, sizeof(*keep), cmp_int);
	for (i = 0; i < n; i++) {
		if (keep[i] < (int)from)
			continue;
		if ((unsigned int)keep[i] > from)
			syscall(SYS_close_range, from, keep[i] - 1, 0);
		from = keep[i] + 1;
	}
	syscall(SYS_close_range, from, ~0U, 0);
}

static void __attribute__((noreturn)) holder(struct dump_incr *st, int sk,
					     int dirfd, const char *name)
{
	int keep[2 * HOLD_MAX_FDS + 2], pfd[HOLD_MAX_FDS + 1];
	pid_t pids[HOLD_MAX_FDS];
	struct pollfd p[HOLD_MAX_FDS + 1];
	int i, n, nk = 0, alive, null = open("/dev/null", O_RDWR);

	setsid();
	if (null >= 0) {
		dup2(null, 0);
		dup2(null, 1);
		dup2(null, 2);
	}
	signal(SIGTERM, on_term);
	signal(SIGINT, SIG_IGN);
	signal(SIGHUP, SIG_IGN);
	signal(SIGPIPE, SIG_IGN);
	n = dump_incr_pids(st, pids, HOLD_MAX_FDS);
	keep[nk++] = sk;
	keep[nk++] = dirfd;
	for (i = 0; i < n; i++) {
		pfd[i] = syscall(SYS_pidfd_open, pids[i], 0);
		if (pfd[i] < 0)
			dump_incr_drop(st, pids[i]);	/* gone already */
		keep[nk++] = pfd[i];
		keep[nk++] = dump_incr_uffd(st, pids[i]);
	}
	keep_only(keep, nk);
	for (;;) {
		for (i = alive = 0; i < n; i++) {
			p[i] = (struct pollfd){ pfd[i], POLLIN, 0 };
			alive += pfd[i] >= 0;
		}
		p[n] = (struct pollfd){ sk, POLLIN, 0 };
		if (!alive || hold_stop)
			break;
		if (poll(p, n + 1, -1) < 0)
			continue;	/* EINTR: hold_stop, looked at above */
		for (i = 0; i < n; i++)
			if (pfd[i] >= 0 && p[i].revents) {
				/* exited: what it tracked goes with it */
				dump_incr_drop(st, pids[i]);
				close(pfd[i]);
				pfd[i] = -1;
			}
		if (p[n].revents) {
			int c = accept4(sk, NULL, NULL, SOCK_CLOEXEC);

			if (c < 0)
				continue;
			if (same_user(c) && !hand_over(c, st)) {
				close(c);
				break;
			}
			close(c);
		}
	}
	unlinkat(dirfd, name, 0);
	_exit(0);
}

int dump_hold_start(struct dump_incr *st, const char *image)
{
	struct sockaddr_un sa;
	char name[NAME_MAX + 1];
	int dirfd, sk, ret = -1;
	mode_t old;
	pid_t pid;

	if (!dump_incr_pids(st, NULL, HOLD_MAX_FDS)) {
		pr_err("%s: no process of it could be tracked (no asynchronous userfaultfd write protection, or a userfaultfd of its own)",
		       image);
		return -1;
	}
	/* a holder of an earlier image of that name: let go */
	dump_incr_free(dump_hold_claim(image));
	if (hold_addr(image, &sa, &dirfd, name, sizeof(name)))
		return -1;
	sk = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	old = umask(0177);
	if (sk < 0 || bind(sk, (struct sockaddr *)&sa, sizeof(sa)) ||
	    listen(sk, 4)) {
		umask(old);
		pr_perror("can't make %s%s", image, HOLD_SUFFIX);
		goto out;
	}
	umask(old);
	pid = fork();
	if (pid < 0) {
		pr_perror("can't start the holder of %s", image);
		unlinkat(dirfd, name, 0);
		goto out;
	}
	if (!pid)
		holder(st, sk, dirfd, name);
	pr_info("write tracking of %s kept by process %d at %s%s", image, pid,
		image, HOLD_SUFFIX);
	ret = 0;
out:
	if (sk >= 0)
		close(sk);
	close(dirfd);
	return ret;
}

/* The reply of the holder on sk: its length, then the bytes with the
 * descriptors. */
static struct dump_incr *receive(int sk)
{
	int fds[HOLD_MAX_FDS], nfds = 0;
	char cbuf[CMSG_SPACE(sizeof(fds))];
	struct dump_incr *st = NULL;
	struct msghdr mh = { .msg_iovlen = 1, .msg_control = cbuf,
			     .msg_controllen = sizeof(cbuf) };
	struct cmsghdr *c;
	struct iovec iov;
	uint64_t len;
	char *buf;
	ssize_t n;

	if (read(sk, &len, sizeof(len)) != sizeof(len) || !len ||
	    len > (64U << 20) || !(buf = malloc(len)))
		return NULL;
	iov = (struct iovec){ buf, len };
	mh.msg_iov = &iov;
	n = recvmsg(sk, &mh, MSG_CMSG_CLOEXEC | MSG_WAITALL);
	for (c = CMSG_FIRSTHDR(&mh); c; c = CMSG_NXTHDR(&mh, c))
		if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS) {
			nfds = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
			memcpy(fds, CMSG_DATA(c), nfds * sizeof(int));
		}
	if (n == (ssize_t)len && !(mh.msg_flags & MSG_CTRUNC))
		st = dump_incr_unpack(buf, len, fds, nfds);
	else
		while (nfds)
			close(fds[--nfds]);
	free(buf);
	return st;
}

struct dump_incr *dump_hold_claim(const char *image)
{
	struct timeval tv = { HOLD_TIMEOUT_S, 0 };
	struct dump_incr *st = NULL;
	struct sockaddr_un sa;
	char name[NAME_MAX + 1];
	int dirfd, sk;

	if (hold_addr(image, &sa, &dirfd, name, sizeof(name)))
		return NULL;
	sk = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (sk < 0)
		goto out;
	setsockopt(sk, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	if (connect(sk, (struct sockaddr *)&sa, sizeof(sa))) {
		if (errno == ECONNREFUSED) {
			/* its holder was killed outright */
			pr_info("%s%s: no holder listens: removed", image,
				HOLD_SUFFIX);
			unlinkat(dirfd, name, 0);
		}
		goto out;
	}
	if (!same_user(sk))
		pr_err("%s%s is not held by this user: not used", image,
		       HOLD_SUFFIX);
	else if (!(st = receive(sk)))
		pr_err("%s%s: its holder's answer is not whole: not used",
		       image, HOLD_SUFFIX);
	else
		pr_info("write tracking since %s taken from its holder", image);
out:
	if (sk >= 0)
		close(sk);
	close(dirfd);
	return st;
}
