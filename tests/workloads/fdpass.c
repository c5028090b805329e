/*
 * fdpass.c - descriptors in flight (SCM_RIGHTS) in unix socket queues.
 *
 * Files the process also holds: a regular file (offset 5), the read end
 * of a pipe with bytes in it, an eventfd (count 7), one end of a stream
 * socket pair. Queued at dump time:
 *   b  (datagram pair a/b): "one" with the file and the pipe, "two" with
 *      nothing, "three" with the eventfd
 *   d  (seqpacket pair c/d): "sk" with the stream socket's end
 *   sb (stream pair sa/sb): "head", "one" with the file and the pipe,
 *      "two" with the eventfd, "mid" and "dle", "sk" with the socket,
 *      "tail"; "he" read already. A stream gives descriptors with the
 *      bytes up to the end of the skb they came with and stops there:
 *      reads give "adone" (2 fds), "two" (1), "mid" (a read of 3
 *      bytes: none), "dlesk" (1), "tail".
 *   sd (stream pair sc/sd): 40000 bytes sent at once with the file,
 *      which the kernel cut in skbs: a read gives the first (its length
 *      peeked at before the dump) with the file, the next the rest.
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

static int a, b, c, d, reg, pr, pw, efd, s1, s2, sa, sb, sc, sd;
static ssize_t first_skb;
static char big[40000];

static void send_n(int sk, const char *msg, size_t len, const int *fds,
		   int n)
{
	char ctl[CMSG_SPACE(sizeof(int) * 4)];
	struct iovec iov = { (void *)msg, len };
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
	if (sendmsg(sk, &mh, 0) != (ssize_t)len)
		wl_fail("sendmsg %.8s: %s", msg, strerror(errno));
}

static void send_fds(int sk, const char *msg, const int *fds, int n)
{
	send_n(sk, msg, strlen(msg), fds, n);
}

/* The descriptors of the n bytes peeked or read, closed; how many. */
static int close_fds(struct msghdr *mh)
{
	struct cmsghdr *cm = CMSG_FIRSTHDR(mh);
	int k = 0, fd;

	for (; cm && cm->cmsg_type == SCM_RIGHTS &&
	     k < (int)((cm->cmsg_len - CMSG_LEN(0)) / sizeof(int)); k++) {
		memcpy(&fd, CMSG_DATA(cm) + k * sizeof(int), sizeof(int));
		close(fd);
	}
	return k;
}

/* A recvmsg of sk (flags) into big: its length, its fds closed. */
static ssize_t recv_big(int sk, int flags, int *nfds)
{
	char ctl[CMSG_SPACE(sizeof(int) * 8)];
	struct iovec iov = { big, sizeof(big) };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1,
			     .msg_control = ctl, .msg_controllen = sizeof(ctl) };
	ssize_t len = recvmsg(sk, &mh, flags | MSG_DONTWAIT);

	*nfds = len < 0 ? 0 : close_fds(&mh);
	return len;
}

static void pair(int type, int *x, int *y)
{
	int sv[2];

	if (socketpair(AF_UNIX, type, 0, sv))
		wl_fail("socketpair: %s", strerror(errno));
	*x = sv[0];
	*y = sv[1];
}

static void streams(void)
{
	int fds[2] = { reg, pr }, n;
	char two[2];

	pair(SOCK_STREAM, &sa, &sb);
	pair(SOCK_STREAM, &sc, &sd);
	send_fds(sa, "head", NULL, 0);
	send_fds(sa, "one", fds, 2);
	send_fds(sa, "two", &efd, 1);
	send_fds(sa, "mid", NULL, 0);
	send_fds(sa, "dle", NULL, 0);
	send_fds(sa, "sk", &s1, 1);
	send_fds(sa, "tail", NULL, 0);
	if (read(sb, two, 2) != 2 || memcmp(two, "he", 2))
		wl_fail("can't read 2 bytes of the stream");
	memset(big, 'b', sizeof(big));
	send_n(sc, big, sizeof(big), &reg, 1);
	first_skb = recv_big(sd, MSG_PEEK, &n);
	if (first_skb <= 0 || first_skb >= (ssize_t)sizeof(big) || n != 1)
		wl_fail("the first skb of 40000 bytes peeks as %zd bytes with"
			" %d fds", first_skb, n);
}

static void setup(void)
{
	char p[PATH_MAX];
	int fds[2];

	pair(SOCK_DGRAM, &a, &b);
	pair(SOCK_SEQPACKET, &c, &d);
	pair(SOCK_STREAM, &s1, &s2);
	if (pipe(fds))
		wl_fail("pipe: %s", strerror(errno));
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
	streams();
}

/* The next message on sk, read with room for that many bytes: want,
 * with n fds (into fds). */
static void recv_room(int sk, size_t room, const char *want, int *fds, int n)
{
	char buf[64], ctl[CMSG_SPACE(sizeof(int) * 8)];
	struct iovec iov = { buf, room < sizeof(buf) ? room : sizeof(buf) };
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

static void recv_fds(int sk, const char *want, int *fds, int n)
{
	recv_room(sk, 64, want, fds, n);
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

static void check_streams(void)
{
	int fds[2], n;
	ssize_t len;

	recv_fds(sb, "adone", fds, 2);
	same(fds[0], reg, "the regular file from the stream");
	same(fds[1], pr, "the pipe from the stream");
	recv_fds(sb, "two", fds, 1);
	same(fds[0], efd, "the eventfd from the stream");
	recv_room(sb, 3, "mid", NULL, 0);	/* the fds come with "sk" */
	recv_fds(sb, "dlesk", fds, 1);
	same(fds[0], s1, "the socket from the stream");
	recv_fds(sb, "tail", NULL, 0);
	len = recv_big(sd, 0, &n);
	if (len != first_skb || n != 1)
		wl_fail("the 40000 bytes' first read gives %zd bytes and %d fds,"
			" want %zd and 1", len, n, first_skb);
	len = recv_big(sd, 0, &n);
	if (len != (ssize_t)sizeof(big) - first_skb || n)
		wl_fail("the 40000 bytes' second read gives %zd bytes and %d"
			" fds, want %zd and 0", len, n,
			(ssize_t)sizeof(big) - first_skb);
	if (recv(sb, fds, 1, MSG_DONTWAIT) >= 0 ||
	    recv(sd, fds, 1, MSG_DONTWAIT) >= 0)
		wl_fail("more bytes are queued in a stream");
}

static void check_all(void)
{
	check();
	check_streams();
}

int main(void)
{
	wl_init();
	setup();
	wl_count_checked(check_all);
	return 0;
}
