/*
 * unixq.c - unix listeners with connections not yet accepted.
 *
 *   ls  stream listener on D/q.sock (backlog 8): one connection
 *       accepted (a0/as), then three waiting: c[0] sent "hello1",
 *       c[1] nothing, c[2] "x" and shut its sending side
 *   lp  seqpacket listener on an abstract name: p[0] sent two messages,
 *       p[1] nothing
 *
 * After restore accept(2) gives the waiting connections in their order,
 * each with what its client had sent (then end of file after a shutdown),
 * and each talks with its own client both ways; nothing else waits.
 */
#include <sys/socket.h>
#include <sys/un.h>
#include <poll.h>
#include <stddef.h>

#include "workload.h"

static int ls, lp, a0, as, c[3], p[2];
static struct sockaddr_un sa, pa;
static socklen_t slen, plen;

static int client(int type, const struct sockaddr_un *a, socklen_t len)
{
	int fd = socket(AF_UNIX, type, 0);

	if (fd < 0 || connect(fd, (const struct sockaddr *)a, len))
		wl_fail("connect: %s", strerror(errno));
	return fd;
}

static void setup(void)
{
	char path[PATH_MAX];

	sa.sun_family = pa.sun_family = AF_UNIX;
	wl_path(path, "q.sock");
	if (strlen(path) >= sizeof(sa.sun_path))
		wl_fail("path too long for a socket: %s", path);
	memcpy(sa.sun_path, path, strlen(path) + 1);
	slen = offsetof(struct sockaddr_un, sun_path) + strlen(path) + 1;
	memcpy(pa.sun_path, "\0unixq-lp", 9);
	plen = offsetof(struct sockaddr_un, sun_path) + 9;
	ls = socket(AF_UNIX, SOCK_STREAM, 0);
	lp = socket(AF_UNIX, SOCK_SEQPACKET, 0);
	if (bind(ls, (struct sockaddr *)&sa, slen) || listen(ls, 8) ||
	    bind(lp, (struct sockaddr *)&pa, plen) || listen(lp, 8))
		wl_fail("listeners: %s", strerror(errno));
	a0 = client(SOCK_STREAM, &sa, slen);
	as = accept(ls, NULL, NULL);
	c[0] = client(SOCK_STREAM, &sa, slen);
	c[1] = client(SOCK_STREAM, &sa, slen);
	c[2] = client(SOCK_STREAM, &sa, slen);
	p[0] = client(SOCK_SEQPACKET, &pa, plen);
	p[1] = client(SOCK_SEQPACKET, &pa, plen);
	if (as < 0 || write(c[0], "hello1", 6) != 6 || write(c[2], "x", 1) != 1 ||
	    shutdown(c[2], SHUT_WR) || send(p[0], "m1", 2, 0) != 2 ||
	    send(p[0], "mm2", 3, 0) != 3)
		wl_fail("setup: %s", strerror(errno));
}

static int take(int l, const char *what)
{
	int fd = accept4(l, NULL, NULL, SOCK_NONBLOCK);

	if (fd < 0)
		wl_fail("%s: accept: %s", what, strerror(errno));
	return fd;
}

/* exactly want (len bytes, or one message), then nothing more, EOF
 * (eof 1) or whatever comes (eof 2) */
static void reads(int fd, const char *want, int eof, const char *what)
{
	char buf[64];
	ssize_t n = want ? recv(fd, buf, sizeof(buf), MSG_DONTWAIT) : 0;

	if (want && (n != (ssize_t)strlen(want) || memcmp(buf, want, n)))
		wl_fail("%s: read %zd bytes '%.*s', want '%s'", what, n,
			n > 0 ? (int)n : 0, buf, want);
	if (eof == 2)
		return;
	n = recv(fd, buf, sizeof(buf), MSG_DONTWAIT);
	if (eof ? n != 0 : !(n < 0 && errno == EAGAIN))
		wl_fail("%s: then %zd (%s), want %s", what, n,
			n < 0 ? strerror(errno) : "", eof ? "end of file" :
			"nothing");
}

/* the server end s and its client talk both ways */
static void pair(int s, int cl, const char *what)
{
	char x[2];

	if (send(s, "s", 1, 0) != 1 || recv(cl, x, 2, 0) != 1 || x[0] != 's' ||
	    send(cl, "k", 1, 0) != 1)
		wl_fail("%s: no talk to its client: %s", what, strerror(errno));
	if (poll(&(struct pollfd){ .fd = s, .events = POLLIN }, 1, 10000) != 1 ||
	    recv(s, x, 2, 0) != 1 || x[0] != 'k')
		wl_fail("%s: no talk from its client", what);
}

static void check(void)
{
	int s[3], q[2], i;

	for (i = 0; i < 3; i++)
		s[i] = take(ls, "ls");
	reads(s[0], "hello1", 0, "first waiting stream");
	reads(s[1], NULL, 0, "second waiting stream");
	reads(s[2], "x", 1, "third waiting stream");
	for (i = 0; i < 2; i++)
		pair(s[i], c[i], "a waiting stream");
	if (poll(&(struct pollfd){ .fd = ls, .events = POLLIN }, 1, 0))
		wl_fail("ls: a fourth connection waits");
	pair(as, a0, "the accepted stream");
	q[0] = take(lp, "lp");
	q[1] = take(lp, "lp");
	reads(q[0], "m1", 2, "first waiting seqpacket");
	reads(q[0], "mm2", 0, "first waiting seqpacket, second message");
	reads(q[1], NULL, 0, "second waiting seqpacket");
	pair(q[0], p[0], "first waiting seqpacket");
	pair(q[1], p[1], "second waiting seqpacket");
	if (poll(&(struct pollfd){ .fd = lp, .events = POLLIN }, 1, 0))
		wl_fail("lp: a third connection waits");
}

int main(void)
{
	wl_init();
	setup();
	wl_count_checked(check);
	return 0;
}
