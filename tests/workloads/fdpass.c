/*
 * fdpass.c - descriptors in flight (SCM_RIGHTS) in unix socket queues.
 *
 * Files the process also holds: a regular file (offset 5), the read end
 * of a pipe with bytes in it, an eventfd (count 7), one end of a stream
 * socket pair. Queued at dump time:
 *   b  (datagram pair a/b): "one" with the file and the pipe, "two" with
 *      nothing, "three" with the eventfd
 *   d  (seqpacket pair c/d): "sk" with the stream socket's end
 *
 * After restore each message comes in order with its descriptors, and
 * each received descriptor is the same open file as the one the process
 * holds (kcmp(2)): the offset, the pipe's bytes, the count, the socket
 * still connected to its peer.
 */
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <linux/kcmp.h>

#include "workload.h"

static int a, b, c, d, reg, pr, pw, efd, s1, s2;

static void send_fds(int sk, const char *msg, const int *fds, int n)
{
	char ctl[CMSG_SPACE(sizeof(int) * 4)];
	struct iovec iov = { (void *)msg, strlen(msg) };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };
	struct cmsghdr *cm;

	if (n) {
		mh.msg_control = ctl;
		mh.msg_controllen = CMSG_SPACE(sizeof(int) * n);
		cm = CMSG_FIRSTHDR(&mh);
		cm->cmsg_level = SOL_SOCKET;
		cm->cmsg_type = SCM_RIGHTS;
		cm->cmsg_len = CMSG_LEN(sizeof(int) * n);
		memcpy(CMSG_DATA(cm), fds, sizeof(int) * n);
	}
	if (sendmsg(sk, &mh, 0) != (ssize_t)strlen(msg))
		wl_fail("sendmsg %s: %s", msg, strerror(errno));
}

static void setup(void)
{
	char p[PATH_MAX];
	int sv[2], fds[2];

	if (socketpair(AF_UNIX, SOCK_DGRAM, 0, sv))
		wl_fail("socketpair: %s", strerror(errno));
	a = sv[0];
	b = sv[1];
	if (socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sv))
		wl_fail("socketpair: %s", strerror(errno));
	c = sv[0];
	d = sv[1];
	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) || pipe(fds))
		wl_fail("socketpair, pipe: %s", strerror(errno));
	s1 = sv[0];
	s2 = sv[1];
	pr = fds[0];
	pw = fds[1];
	reg = open(wl_path(p, "passed"), O_RDWR | O_CREAT | O_TRUNC, 0644);
	efd = eventfd(7, 0);
	if (reg < 0 || efd < 0 || write(reg, "0123456789", 10) != 10 ||
	    lseek(reg, 5, SEEK_SET) != 5 || write(pw, "pipe data", 9) != 9)
		wl_fail("files: %s", strerror(errno));
	fds[0] = reg;
	fds[1] = pr;
	send_fds(a, "one", fds, 2);
	send_fds(a, "two", NULL, 0);
	send_fds(a, "three", &efd, 1);
	send_fds(c, "sk", &s1, 1);
}

/* The next message on sk: want, with n fds (into fds). */
static void recv_fds(int sk, const char *want, int *fds, int n)
{
	char buf[64], ctl[CMSG_SPACE(sizeof(int) * 8)];
	struct iovec iov = { buf, sizeof(buf) };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1,
			     .msg_control = ctl, .msg_controllen = sizeof(ctl) };
	struct cmsghdr *cm;
	ssize_t len = recvmsg(sk, &mh, MSG_DONTWAIT);
	int got = 0;

	if (len != (ssize_t)strlen(want) || memcmp(buf, want, len))
		wl_fail("got %zd bytes '%.*s', want '%s' (%s)", len,
			len > 0 ? (int)len : 0, buf, want,
			len < 0 ? strerror(errno) : "");
	cm = CMSG_FIRSTHDR(&mh);
	if (cm && cm->cmsg_type == SCM_RIGHTS)
		got = (cm->cmsg_len - CMSG_LEN(0)) / sizeof(int);
	if (got != n)
		wl_fail("'%s' came with %d descriptors, want %d", want, got, n);
	if (n)
		memcpy(fds, CMSG_DATA(cm), sizeof(int) * n);
}

static void same(int x, int y, const char *what)
{
	pid_t me = getpid();

	if (syscall(SYS_kcmp, me, me, KCMP_FILE, x, y))
		wl_fail("%s: the descriptor received is not the one held",
			what);
}

static void check(void)
{
	int fds[2];
	char buf[16];
	uint64_t v;

	recv_fds(b, "one", fds, 2);
	same(fds[0], reg, "the regular file");
	same(fds[1], pr, "the pipe");
	if (lseek(fds[0], 0, SEEK_CUR) != 5 ||
	    read(fds[1], buf, sizeof(buf)) != 9 || memcmp(buf, "pipe data", 9))
		wl_fail("the file's offset or the pipe's bytes are lost");
	recv_fds(b, "two", NULL, 0);
	recv_fds(b, "three", fds, 1);
	same(fds[0], efd, "the eventfd");
	if (read(fds[0], &v, 8) != 8 || v != 7)
		wl_fail("the eventfd's count is lost");
	recv_fds(d, "sk", fds, 1);
	same(fds[0], s1, "the socket");
	if (write(fds[0], "z", 1) != 1 || read(s2, buf, 1) != 1 || buf[0] != 'z')
		wl_fail("the socket received is not connected to its peer");
	if (recv(b, buf, 1, MSG_DONTWAIT) >= 0 || recv(d, buf, 1, MSG_DONTWAIT) >= 0)
		wl_fail("more messages are queued");
}

int main(void)
{
	wl_init();
	setup();
	wl_count_checked(check);
	return 0;
}
