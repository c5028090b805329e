/*
 * unixgap.c - unix sockets at the edges: names and peers that are gone.
 *
 *   na  datagram, bound to an abstract name holding NUL bytes and a
 *       backslash; three messages queued: from an unnamed socket, from
 *       sn (bound to @ugap-sn), from a socket bound to D/sender.sock
 *       that closed since (its file unlinked)
 *   nl  stream listener on another such name, with an accepted
 *       connection nc (client) / ns (server end)
 *   ug  datagram bound to D/gone.sock, whose file was unlinked; one
 *       message queued
 *   ul  stream listener on D/lgone.sock, unlinked, with an accepted
 *       connection uc / us
 *   dx  datagram bound to @ugap-dx, connected to a socket bound to
 *       D/peer.sock that sent it two messages and closed; its file was
 *       unlinked and q bound at D/peer.sock since
 *   dy  stream client of listener l3 (D/l3.sock), whose accepted end
 *       sent "bye" and closed
 *   sc  datagram bound to @ugap-self and connected to itself, one
 *       message from itself queued
 *
 * After restore: every name as it was (getsockname, getpeername), the
 * unlinked files still gone, every queue as it was; dx's next send fails
 * with ECONNREFUSED, as a send to a closed peer does; the listeners take
 * new connections, q and sc take new messages.
 */
#include <sys/socket.h>
#include <sys/un.h>
#include <stddef.h>

#include "workload.h"

static const char name_a[] = "\0ugap\0na\\x";	/* 11 bytes */
static const char name_l[] = "\0ugap\0nl";	/* 8 bytes */

static int na, nl, nc, ns, ug, ul, uc, us, dx, q, dy, l3, sc, sn;

static socklen_t mkaddr(struct sockaddr_un *a, const char *name, size_t len)
{
	memset(a, 0, sizeof(*a));
	a->sun_family = AF_UNIX;
	memcpy(a->sun_path, name, len);
	return offsetof(struct sockaddr_un, sun_path) + len;
}

/* a path in D, with its NUL */
static socklen_t pathaddr(struct sockaddr_un *a, const char *name)
{
	char p[PATH_MAX];

	wl_path(p, name);
	if (strlen(p) >= sizeof(a->sun_path))
		wl_fail("path too long for a socket: %s", p);
	return mkaddr(a, p, strlen(p) + 1);
}

static int sock_at(int type, const struct sockaddr_un *a, socklen_t len)
{
	int fd = socket(AF_UNIX, type, 0);

	if (fd < 0 || bind(fd, (const struct sockaddr *)a, len))
		wl_fail("bind: %s", strerror(errno));
	if (type == SOCK_STREAM && listen(fd, 8))
		wl_fail("listen: %s", strerror(errno));
	return fd;
}

static int connect_to(const struct sockaddr_un *a, socklen_t len)
{
	int fd = socket(AF_UNIX, SOCK_STREAM, 0);

	if (fd < 0 || connect(fd, (const struct sockaddr *)a, len))
		wl_fail("connect: %s", strerror(errno));
	return fd;
}

static int take(int l)
{
	int fd = accept(l, NULL, NULL);

	if (fd < 0)
		wl_fail("accept: %s", strerror(errno));
	return fd;
}

static void send_to(const char *msg, const struct sockaddr_un *a,
		    socklen_t len)
{
	int fd = socket(AF_UNIX, SOCK_DGRAM, 0);

	if (sendto(fd, msg, strlen(msg), 0, (const struct sockaddr *)a,
		   len) != (ssize_t)strlen(msg))
		wl_fail("sendto: %s", strerror(errno));
	close(fd);
}

static void setup(void)
{
	struct sockaddr_un a, b;
	socklen_t la, lb;
	char p[PATH_MAX];
	int dp, s3;

	la = mkaddr(&a, name_a, sizeof(name_a) - 1);
	na = sock_at(SOCK_DGRAM, &a, la);
	send_to("to na", &a, la);
	lb = mkaddr(&b, "\0ugap-sn", 8);
	sn = sock_at(SOCK_DGRAM, &b, lb);
	if (sendto(sn, "from sn", 7, 0, (struct sockaddr *)&a, la) != 7)
		wl_fail("sn: %s", strerror(errno));
	lb = pathaddr(&b, "sender.sock");
	dp = sock_at(SOCK_DGRAM, &b, lb);
	if (sendto(dp, "from gone", 9, 0, (struct sockaddr *)&a, la) != 9)
		wl_fail("sender.sock: %s", strerror(errno));
	close(dp);
	unlink(wl_path(p, "sender.sock"));
	la = mkaddr(&a, name_l, sizeof(name_l) - 1);
	nl = sock_at(SOCK_STREAM, &a, la);
	nc = connect_to(&a, la);
	ns = take(nl);

	la = pathaddr(&a, "gone.sock");
	ug = sock_at(SOCK_DGRAM, &a, la);
	send_to("to ug", &a, la);
	unlink(wl_path(p, "gone.sock"));
	la = pathaddr(&a, "lgone.sock");
	ul = sock_at(SOCK_STREAM, &a, la);
	uc = connect_to(&a, la);
	us = take(ul);
	unlink(wl_path(p, "lgone.sock"));

	la = mkaddr(&a, "\0ugap-dx", 8);
	dx = sock_at(SOCK_DGRAM, &a, la);
	lb = pathaddr(&b, "peer.sock");
	dp = sock_at(SOCK_DGRAM, &b, lb);
	if (sendto(dp, "one", 3, 0, (struct sockaddr *)&a, la) != 3 ||
	    sendto(dp, "two", 3, 0, (struct sockaddr *)&a, la) != 3 ||
	    connect(dx, (struct sockaddr *)&b, lb))
		wl_fail("dx: %s", strerror(errno));
	close(dp);
	unlink(wl_path(p, "peer.sock"));
	q = sock_at(SOCK_DGRAM, &b, lb);

	la = pathaddr(&a, "l3.sock");
	l3 = sock_at(SOCK_STREAM, &a, la);
	dy = connect_to(&a, la);
	s3 = take(l3);
	if (write(s3, "bye", 3) != 3)
		wl_fail("write bye: %s", strerror(errno));
	close(s3);

	la = mkaddr(&a, "\0ugap-self", 10);
	sc = sock_at(SOCK_DGRAM, &a, la);
	if (connect(sc, (struct sockaddr *)&a, la) || send(sc, "me", 2, 0) != 2)
		wl_fail("sc: %s", strerror(errno));
}

/* fd's own name (peer: its peer's) is exactly want */
static void name_is(int fd, int peer, const struct sockaddr_un *want,
		    socklen_t wlen, const char *what)
{
	struct sockaddr_un a;
	socklen_t len = sizeof(a);
	int r;

	memset(&a, 0, sizeof(a));
	r = peer ? getpeername(fd, (struct sockaddr *)&a, &len) :
		getsockname(fd, (struct sockaddr *)&a, &len);
	if (r)
		wl_fail("%s: %s", what, strerror(errno));
	if (len != wlen || memcmp(&a, want, len))
		wl_fail("%s: a name of %u bytes '%s', want %u bytes '%s'",
			what, len, a.sun_path[0] ? a.sun_path : a.sun_path + 1,
			wlen, want->sun_path[0] ? want->sun_path :
			want->sun_path + 1);
}

static void recv_is(int fd, const char *want, const char *what)
{
	char buf[64];
	ssize_t n = recv(fd, buf, sizeof(buf), MSG_DONTWAIT);

	if (n != (ssize_t)strlen(want) || memcmp(buf, want, n))
		wl_fail("%s: got %zd bytes '%.*s', want '%s' (%s)", what, n,
			n > 0 ? (int)n : 0, buf, want,
			n < 0 ? strerror(errno) : "");
}

/* The next message is want, from the socket named from (flen bytes of
 * address; none for an unnamed one). */
static void recv_from(int fd, const char *want, const struct sockaddr_un *from,
		      socklen_t flen, const char *what)
{
	struct sockaddr_un a;
	socklen_t len = sizeof(a);
	char buf[64];
	ssize_t n;

	memset(&a, 0, sizeof(a));
	n = recvfrom(fd, buf, sizeof(buf), MSG_DONTWAIT,
		     (struct sockaddr *)&a, &len);
	if (n != (ssize_t)strlen(want) || memcmp(buf, want, n))
		wl_fail("%s: got %zd bytes '%.*s', want '%s' (%s)", what, n,
			n > 0 ? (int)n : 0, buf, want,
			n < 0 ? strerror(errno) : "");
	if (len != flen || memcmp(&a, from, len))
		wl_fail("%s: '%s' came from %u bytes of address '%s', want %u bytes '%s'",
			what, want, len, a.sun_path[0] ? a.sun_path :
			a.sun_path + 1, flen, from->sun_path[0] ?
			from->sun_path : from->sun_path + 1);
}

/* a new connection to l, by name a, takes a byte each way */
static void still_listens(int l, const struct sockaddr_un *a, socklen_t la,
			  const char *what)
{
	int c = connect_to(a, la), s = take(l);
	char x;

	if (write(c, "x", 1) != 1 || read(s, &x, 1) != 1 ||
	    write(s, "y", 1) != 1 || read(c, &x, 1) != 1 || x != 'y')
		wl_fail("%s: a new connection does not talk", what);
	close(c);
	close(s);
}

static void talk(int a, int b, const char *what)
{
	char x;

	if (write(a, "p", 1) != 1 || read(b, &x, 1) != 1 || x != 'p' ||
	    write(b, "q", 1) != 1 || read(a, &x, 1) != 1 || x != 'q')
		wl_fail("%s: the connection does not talk", what);
}

static void gone(const char *name)
{
	char p[PATH_MAX];

	if (!access(wl_path(p, name), F_OK))
		wl_fail("%s is there again", p);
}

static void check_names(void)
{
	struct sockaddr_un a, b = { .sun_family = AF_UNIX };
	socklen_t la;

	la = mkaddr(&a, name_a, sizeof(name_a) - 1);
	name_is(na, 0, &a, la, "na");
	recv_from(na, "to na", &b, 0, "na");	/* unnamed: no address */
	recv_from(na, "from sn", &b, mkaddr(&b, "\0ugap-sn", 8), "na");
	recv_from(na, "from gone", &b, pathaddr(&b, "sender.sock"), "na");
	gone("sender.sock");
	send_to("again", &a, la);
	recv_is(na, "again", "na, a new message");
	la = mkaddr(&a, name_l, sizeof(name_l) - 1);
	name_is(nl, 0, &a, la, "nl");
	name_is(nc, 1, &a, la, "nc's peer");
	talk(nc, ns, "nc");
	still_listens(nl, &a, la, "nl");

	la = pathaddr(&a, "gone.sock");
	name_is(ug, 0, &a, la, "ug");
	recv_is(ug, "to ug", "ug");
	gone("gone.sock");
	la = pathaddr(&a, "lgone.sock");
	name_is(ul, 0, &a, la, "ul");
	name_is(uc, 1, &a, la, "uc's peer");
	talk(uc, us, "uc");
	gone("lgone.sock");
}

static void check_peers(void)
{
	struct sockaddr_un a;
	socklen_t la;
	char x;

	la = pathaddr(&a, "peer.sock");
	name_is(dx, 1, &a, la, "dx's peer");
	recv_from(dx, "one", &a, la, "dx");
	recv_from(dx, "two", &a, la, "dx");
	if (send(dx, "z", 1, MSG_DONTWAIT) != -1 || errno != ECONNREFUSED)
		wl_fail("dx: a send to its closed peer gave %s, want ECONNREFUSED",
			strerror(errno));
	name_is(q, 0, &a, la, "q");
	send_to("to q", &a, la);
	recv_is(q, "to q", "q");

	la = pathaddr(&a, "l3.sock");
	name_is(dy, 1, &a, la, "dy's peer");
	recv_is(dy, "bye", "dy");
	if (read(dy, &x, 1) != 0)
		wl_fail("dy: no end of file after bye");
	still_listens(l3, &a, la, "l3");

	la = mkaddr(&a, "\0ugap-self", 10);
	name_is(sc, 1, &a, la, "sc's peer");
	recv_is(sc, "me", "sc");
	if (send(sc, "me2", 3, 0) != 3)
		wl_fail("sc: send: %s", strerror(errno));
	recv_is(sc, "me2", "sc, again");
}

static void check(void)
{
	check_names();
	check_peers();
}

int main(void)
{
	wl_init();
	setup();
	wl_count_checked(check);
	return 0;
}
