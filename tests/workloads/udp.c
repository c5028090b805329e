/*
 * udp.c - UDP sockets, IPv4 and IPv6, with datagrams queued at dump time.
 *
 * fds:
 *   3  u4   bound to 127.0.0.1, not connected: a datagram from s2, one
 *           from a socket closed since, an empty one from s1
 *   4  u6   dual-stack, bound to [::]: a datagram from s1 over IPv4
 *           (v4-mapped sender), one of 60000 bytes from s6
 *   5  uc   bound to 127.0.0.1, connected to s1: two datagrams from s1
 *   6  s1   bound to 127.0.0.1, sends to u4, u6, uc; SO_BROADCAST
 *   7  s2   not bound before it sent (an address the kernel chose)
 *   8  s6   IPv6 only, bound to [::1] (IPV6_TCLASS, SO_RCVBUF set)
 *   9  us   bound to 127.0.0.1: a stream of numbered datagrams from s1,
 *           read a few at a time (never more than 64 queued, so that
 *           none is dropped)
 *
 * On D/stop every queue is read to its end: each datagram once, in
 * order, with its contents and its sender's address and port; then uc
 * and s1 talk again both ways, and the options are checked.
 */
#include <sys/socket.h>
#include <arpa/inet.h>
#include <netinet/in.h>

#include "workload.h"

#define BIG		60000
#define WINDOW		64	/* stream datagrams in flight at most */
#define RCVBUF		100000

struct ep {
	int fd;
	struct sockaddr_storage addr;	/* as getsockname gave it */
	socklen_t len;
};

struct udp {
	struct ep u4, u6, uc, s1, s2, s6, us;
	struct sockaddr_storage gone;	/* the closed sender's address */
	struct sockaddr_storage s2_from;	/* s2's port on 127.0.0.1 */
	uint64_t sent, got;		/* the stream from s1 to u4 */
	int rcvbuf;
	unsigned char big[BIG];
};

static void name_of(struct ep *e)
{
	e->len = sizeof(e->addr);
	if (getsockname(e->fd, (struct sockaddr *)&e->addr, &e->len))
		wl_fail("getsockname: %s", strerror(errno));
}

/* A UDP socket on fd want, bound to ip (NULL: not bound). */
static void make(struct ep *e, int family, const char *ip, int want)
{
	struct sockaddr_in6 s6 = { .sin6_family = AF_INET6 };
	struct sockaddr_in s4 = { .sin_family = AF_INET };
	int r = 0;

	e->fd = socket(family, SOCK_DGRAM, 0);
	if (e->fd != want)
		wl_fail("socket on %d, want %d (%s)", e->fd, want,
			strerror(errno));
	if (ip && family == AF_INET) {
		inet_pton(AF_INET, ip, &s4.sin_addr);
		r = bind(e->fd, (struct sockaddr *)&s4, sizeof(s4));
	} else if (ip) {
		if (strcmp(ip, "::"))
			wl_setint(e->fd, IPPROTO_IPV6, IPV6_V6ONLY, 1);
		inet_pton(AF_INET6, ip, &s6.sin6_addr);
		r = bind(e->fd, (struct sockaddr *)&s6, sizeof(s6));
	}
	if (r)
		wl_fail("bind %s: %s", ip, strerror(errno));
	name_of(e);
}

/* to's address as seen from an IPv4 socket (u6's is [::]: 127.0.0.1). */
static socklen_t v4_dest(const struct ep *to, struct sockaddr_in *s4)
{
	memset(s4, 0, sizeof(*s4));
	s4->sin_family = AF_INET;
	s4->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	s4->sin_port = to->addr.ss_family == AF_INET ?
		((const struct sockaddr_in *)&to->addr)->sin_port :
		((const struct sockaddr_in6 *)&to->addr)->sin6_port;
	return sizeof(*s4);
}

static void send_to(int fd, const void *buf, size_t len, const struct ep *to)
{
	struct sockaddr_in s4;
	const struct sockaddr *a = (const void *)&to->addr;
	socklen_t l = to->len;
	struct sockaddr_storage mine;
	socklen_t ml = sizeof(mine);

	if (getsockname(fd, (struct sockaddr *)&mine, &ml))
		wl_fail("getsockname: %s", strerror(errno));
	if (mine.ss_family == AF_INET) {
		l = v4_dest(to, &s4);
		a = (const void *)&s4;
	}
	if (sendto(fd, buf, len, 0, a, l) != (ssize_t)len)
		wl_fail("sendto: %s", strerror(errno));
}

/* ---- checking a datagram ------------------------------------------------ */

/* The port of an address, and its IPv4 address (v4-mapped or not) or
 * -1 for another IPv6 one. */
static int port_of(const struct sockaddr_storage *ss)
{
	return ntohs(ss->ss_family == AF_INET ?
		     ((const struct sockaddr_in *)ss)->sin_port :
		     ((const struct sockaddr_in6 *)ss)->sin6_port);
}

static int same_sender(const struct sockaddr_storage *got,
		       const struct sockaddr_storage *want)
{
	char a[INET6_ADDRSTRLEN] = "", b[INET6_ADDRSTRLEN] = "";
	const void *x, *y;

	x = got->ss_family == AF_INET ?
		(const void *)&((const struct sockaddr_in *)got)->sin_addr :
		(const void *)&((const struct sockaddr_in6 *)got)->sin6_addr;
	y = want->ss_family == AF_INET ?
		(const void *)&((const struct sockaddr_in *)want)->sin_addr :
		(const void *)&((const struct sockaddr_in6 *)want)->sin6_addr;
	inet_ntop(got->ss_family, x, a, sizeof(a));
	inet_ntop(want->ss_family, y, b, sizeof(b));
	/* an IPv4 sender seen by a dual-stack socket */
	if (!strncmp(a, "::ffff:", 7))
		memmove(a, a + 7, strlen(a + 7) + 1);
	return port_of(got) == port_of(want) && !strcmp(a, b);
}

/* The next datagram of fd: exactly want (len bytes) from sender. */
static void expect(int fd, const void *want, size_t len,
		   const struct sockaddr_storage *sender, const char *what)
{
	static unsigned char buf[BIG + 1];
	struct sockaddr_storage from;
	socklen_t fl = sizeof(from);
	ssize_t n;

	memset(&from, 0, sizeof(from));
	n = recvfrom(fd, buf, sizeof(buf), MSG_DONTWAIT,
		     (struct sockaddr *)&from, &fl);
	if (n < 0)
		wl_fail("%s: %s", what, strerror(errno));
	if ((size_t)n != len || memcmp(buf, want, len))
		wl_fail("%s: a datagram of %zd bytes '%.*s', want %zu", what,
			n, n > 0 && n < 40 ? (int)n : 0, buf, len);
	if (!same_sender(&from, sender))
		wl_fail("%s: from port %d, want port %d", what,
			port_of(&from), port_of(sender));
}

static void expect_none(int fd, const char *what)
{
	char b;

	if (recv(fd, &b, 1, MSG_DONTWAIT) >= 0 || errno != EAGAIN)
		wl_fail("%s: a datagram more than expected", what);
}

/* ---- the stream from s1 to us ------------------------------------------- */

static void stream_send(struct udp *u)
{
	char m[32];

	while (u->sent - u->got < WINDOW) {
		snprintf(m, sizeof(m), "n%llu", (unsigned long long)u->sent++);
		send_to(u->s1.fd, m, strlen(m), &u->us);
	}
}

static void stream_take(struct udp *u, int max)
{
	char m[32];

	while (max-- && u->got < u->sent) {
		snprintf(m, sizeof(m), "n%llu", (unsigned long long)u->got++);
		expect(u->us.fd, m, strlen(m), &u->s1.addr, "us");
	}
}

/* ---- setup and end ------------------------------------------------------ */

static void setup(struct udp *u)
{
	struct ep gone;

	make(&u->u4, AF_INET, "127.0.0.1", 3);
	make(&u->u6, AF_INET6, "::", 4);
	make(&u->uc, AF_INET, "127.0.0.1", 5);
	make(&u->s1, AF_INET, "127.0.0.1", 6);
	make(&u->s2, AF_INET, NULL, 7);
	make(&u->s6, AF_INET6, "::1", 8);
	make(&u->us, AF_INET, "127.0.0.1", 9);
	wl_setint(u->s1.fd, SOL_SOCKET, SO_BROADCAST, 1);
	wl_setint(u->s6.fd, IPPROTO_IPV6, IPV6_TCLASS, 0x28);
	wl_setint(u->s6.fd, SOL_SOCKET, SO_RCVBUF, RCVBUF);
	u->rcvbuf = wl_getint(u->s6.fd, SOL_SOCKET, SO_RCVBUF);
	if (connect(u->uc.fd, (struct sockaddr *)&u->s1.addr, u->s1.len))
		wl_fail("connect uc: %s", strerror(errno));
	/* the first datagrams of u4: s2's, one of a socket closed since,
	 * an empty one */
	send_to(u->s2.fd, "from-s2", 7, &u->u4);
	name_of(&u->s2);
	u->s2_from = u->s2.addr;
	((struct sockaddr_in *)&u->s2_from)->sin_addr.s_addr =
		htonl(INADDR_LOOPBACK);
	make(&gone, AF_INET, "127.0.0.1", 10);
	send_to(gone.fd, "from-gone", 9, &u->u4);
	u->gone = gone.addr;
	close(gone.fd);
	send_to(u->s1.fd, "", 0, &u->u4);
	send_to(u->s1.fd, "mapped", 6, &u->u6);
	wl_fill(u->big, BIG, 6);
	send_to(u->s6.fd, u->big, BIG, &u->u6);
	send_to(u->s1.fd, "to-uc-1", 7, &u->uc);
	send_to(u->s1.fd, "to-uc-2", 7, &u->uc);
}

static void check_queues(struct udp *u)
{
	expect(u->u4.fd, "from-s2", 7, &u->s2_from, "u4");
	expect(u->u4.fd, "from-gone", 9, &u->gone, "u4");
	expect(u->u4.fd, "", 0, &u->s1.addr, "u4");
	expect_none(u->u4.fd, "u4");
	stream_take(u, 1 << 30);
	expect_none(u->us.fd, "us");
	expect(u->u6.fd, "mapped", 6, &u->s1.addr, "u6");
	expect(u->u6.fd, u->big, BIG, &u->s6.addr, "u6");
	expect_none(u->u6.fd, "u6");
	expect(u->uc.fd, "to-uc-1", 7, &u->s1.addr, "uc");
	expect(u->uc.fd, "to-uc-2", 7, &u->s1.addr, "uc");
	expect_none(u->uc.fd, "uc");
}

static void check_rest(struct udp *u)
{
	struct sockaddr_storage now;
	socklen_t l = sizeof(now);

	if (send(u->uc.fd, "back", 4, 0) != 4)
		wl_fail("uc: send: %s", strerror(errno));
	expect(u->s1.fd, "back", 4, &u->uc.addr, "s1");
	send_to(u->s1.fd, "again", 5, &u->uc);
	expect(u->uc.fd, "again", 5, &u->s1.addr, "uc");
	if (getpeername(u->uc.fd, (struct sockaddr *)&now, &l) ||
	    !same_sender(&now, &u->s1.addr))
		wl_fail("uc: not connected to s1");
	if (wl_getint(u->s1.fd, SOL_SOCKET, SO_BROADCAST) != 1 ||
	    wl_getint(u->s6.fd, IPPROTO_IPV6, IPV6_TCLASS) != 0x28 ||
	    wl_getint(u->s6.fd, IPPROTO_IPV6, IPV6_V6ONLY) != 1 ||
	    wl_getint(u->u6.fd, IPPROTO_IPV6, IPV6_V6ONLY) != 0 ||
	    wl_getint(u->s6.fd, SOL_SOCKET, SO_RCVBUF) != u->rcvbuf)
		wl_fail("an option was lost");
	l = sizeof(now);
	if (getsockname(u->s2.fd, (struct sockaddr *)&now, &l) ||
	    !same_sender(&now, &u->s2.addr))
		wl_fail("s2: not on the port the kernel chose");
}

int main(void)
{
	static struct udp u;
	unsigned long n = 0;
	int cfd;

	wl_init();
	setup(&u);
	cfd = wl_count_open();
	do {
		stream_send(&u);
		stream_take(&u, 8);
		wl_sleep_ms(2);
	} while (!wl_count_step(cfd, &n));
	check_queues(&u);
	check_rest(&u);
	wl_info("udp: %llu datagrams streamed", (unsigned long long)u.sent);
	return 0;
}
