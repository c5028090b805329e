/*
 * tcpclose.c - TCP connections being closed, over IPv4 and over IPv6, both
 * ends in this one process. For each family, three pairs (a, b), each
 * with small buffers that a fills or b fills, neither reading (a is the
 * connecting end over IPv4, the accepted one over IPv6):
 *
 *   1  a shut down its side after filling b's window: its FIN waits
 *      behind unsent data (a FIN_WAIT1, b ESTABLISHED)
 *   2  a shut down at once (a FIN_WAIT2, b CLOSE_WAIT), then b filled a's
 *      window and shut down too (b LAST_ACK, its FIN behind its data)
 *   3  a filled b's window and shut down, then b shut down: b's FIN
 *      crossed a's (a CLOSING, b FIN_WAIT2)
 *
 * On D/stop each pair must still be in those states; then every byte
 * queued is read once, in order, followed by end of file where a FIN
 * was sent, and pair 1 carries a last message from b to a.
 */
#include <sys/socket.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>

#include "workload.h"

#define RCVBUF		32768
#define SNDBUF		65536
#define NPAIRS		6
#define OK		"ok"

struct pair {
	int a, b;
	size_t sent;		/* bytes filled in, by a or by b */
	int want_a, want_b;	/* TCP states */
};

static unsigned char pat[251];	/* 0, 1, ... 250: filled in main */

static int small_socket(int family)
{
	int fd = socket(family, SOCK_STREAM, 0);

	if (fd < 0)
		wl_fail("socket: %s", strerror(errno));
	wl_setint(fd, SOL_SOCKET, SO_RCVBUF, RCVBUF);
	wl_setint(fd, SOL_SOCKET, SO_SNDBUF, SNDBUF);
	return fd;
}

/* a and b connected to each other through a listener that is gone. */
static void connect_pair(struct pair *p, int family)
{
	struct sockaddr_storage ss;
	socklen_t l = sizeof(ss);
	int lfd = small_socket(family);

	memset(&ss, 0, sizeof(ss));
	ss.ss_family = family;
	if (family == AF_INET)
		((struct sockaddr_in *)&ss)->sin_addr.s_addr =
			htonl(INADDR_LOOPBACK);
	else
		((struct sockaddr_in6 *)&ss)->sin6_addr = in6addr_loopback;
	if (bind(lfd, (struct sockaddr *)&ss, family == AF_INET ?
		 sizeof(struct sockaddr_in) : sizeof(struct sockaddr_in6)) ||
	    listen(lfd, 1) || getsockname(lfd, (struct sockaddr *)&ss, &l))
		wl_fail("listen: %s", strerror(errno));
	p->a = small_socket(family);
	if (connect(p->a, (struct sockaddr *)&ss, l))
		wl_fail("connect: %s", strerror(errno));
	p->b = accept(lfd, NULL, NULL);
	if (p->b < 0)
		wl_fail("accept: %s", strerror(errno));
	close(lfd);
}

/* From fd until there is no room: the bytes of pat, in turn. */
static size_t fill(int fd)
{
	size_t n = 0;
	ssize_t k;

	if (fcntl(fd, F_SETFL, O_NONBLOCK))
		wl_fail("fcntl: %s", strerror(errno));
	for (;;) {
		k = send(fd, pat + n % sizeof(pat), sizeof(pat) - n % sizeof(pat),
			 MSG_NOSIGNAL);
		if (k < 0 && errno == EAGAIN)
			break;
		if (k <= 0)
			wl_fail("fill: %s", strerror(errno));
		n += k;
	}
	if (fcntl(fd, F_SETFL, 0))
		wl_fail("fcntl: %s", strerror(errno));
	return n;
}

static int state(int fd)
{
	struct tcp_info ti;
	socklen_t l = sizeof(ti);

	memset(&ti, 0, sizeof(ti));
	if (getsockopt(fd, IPPROTO_TCP, TCP_INFO, &ti, &l))
		wl_fail("TCP_INFO: %s", strerror(errno));
	return ti.tcpi_state;
}

/* Until fd is in state st (the peer's answer is on its way). */
static void wait_state(int fd, int st, const char *what)
{
	int i;

	for (i = 0; i < 1000 && state(fd) != st; i++)
		wl_sleep_ms(10);
	if (state(fd) != st)
		wl_fail("%s: state %d, want %d", what, state(fd), st);
}

static void shut(int fd)
{
	if (shutdown(fd, SHUT_WR))
		wl_fail("shutdown: %s", strerror(errno));
}

static void make_pair(struct pair *p, int family, int kind)
{
	int t;

	connect_pair(p, family);
	if (family == AF_INET6) {
		/* the accepted end plays a: restore must not depend on
		 * which end comes first */
		t = p->a;
		p->a = p->b;
		p->b = t;
	}
	switch (kind) {
	case 1:
		p->sent = fill(p->a);
		shut(p->a);
		p->want_a = TCP_FIN_WAIT1;
		p->want_b = TCP_ESTABLISHED;
		break;
	case 2:
		shut(p->a);
		wait_state(p->a, TCP_FIN_WAIT2, "pair 2");
		p->sent = fill(p->b);
		shut(p->b);
		p->want_a = TCP_FIN_WAIT2;
		p->want_b = TCP_LAST_ACK;
		break;
	case 3:
		p->sent = fill(p->a);
		shut(p->a);
		shut(p->b);
		wait_state(p->b, TCP_FIN_WAIT2, "pair 3");
		p->want_a = TCP_CLOSING;
		p->want_b = TCP_FIN_WAIT2;
		break;
	}
}

static void check_states(const struct pair *p, int i)
{
	if (state(p->a) != p->want_a || state(p->b) != p->want_b)
		wl_fail("pair %d: states %d and %d, want %d and %d", i,
			state(p->a), state(p->b), p->want_a, p->want_b);
}

/* Exactly n bytes of pat, then end of file. */
static void read_all(int fd, size_t n, const char *what)
{
	unsigned char buf[4096];
	size_t got = 0, i;
	ssize_t k;

	while ((k = read(fd, buf, sizeof(buf))) > 0) {
		for (i = 0; i < (size_t)k; i++)
			if (got + i >= n || buf[i] != pat[(got + i) % sizeof(pat)])
				wl_fail("%s: byte %zu wrong (of %zu)", what,
					got + i, n);
		got += k;
	}
	if (k < 0 || got != n)
		wl_fail("%s: %zu bytes of %zu, then %s", what, got, n,
			k < 0 ? strerror(errno) : "end of file");
}

static void finish(struct pair *p, int i)
{
	char what[32];

	snprintf(what, sizeof(what), "pair %d", i);
	check_states(p, i);
	switch (i % 3 + 1) {
	case 1:
		read_all(p->b, p->sent, what);
		if (write(p->b, OK, 2) != 2)
			wl_fail("%s: write: %s", what, strerror(errno));
		shut(p->b);
		wl_check_rest(p->a, OK, 2, what);
		break;
	case 2:
		read_all(p->a, p->sent, what);
		read_all(p->b, 0, what);
		break;
	case 3:
		read_all(p->b, p->sent, what);
		read_all(p->a, 0, what);
		break;
	}
}

int main(void)
{
	struct pair p[NPAIRS];
	unsigned long n = 0;
	int i, cfd;

	wl_init();
	for (i = 0; i < (int)sizeof(pat); i++)
		pat[i] = i;
	for (i = 0; i < NPAIRS; i++) {
		memset(&p[i], 0, sizeof(p[i]));
		make_pair(&p[i], i < 3 ? AF_INET : AF_INET6, i % 3 + 1);
	}
	for (i = 0; i < NPAIRS; i++)
		check_states(&p[i], i);
	cfd = wl_count_open();
	while (!wl_count_step(cfd, &n))
		wl_sleep_ms(10);
	for (i = 0; i < NPAIRS; i++)
		finish(&p[i], i);
	return 0;
}
