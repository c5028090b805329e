/*
 * inet.c - TCP sockets of every kind in a parent P and its child C, with
 * data queued both ways at dump time.
 *
 * fds of P:
 *   3  l4    listening on 127.0.0.1 (SO_REUSEADDR, backlog 7)
 *   4  l6    dual-stack, listening on [::] (SO_REUSEADDR, backlog 9)
 *   5  l6o   IPv6 only, listening on [::1] (IPV6_V6ONLY, SO_REUSEADDR)
 *   6  idle  bound to 127.0.0.1, not listening, with many options
 *   7  free  IPv6, neither bound nor connected, corked, hop limit 20
 *   8  a     its end of C's connection to l4: P sends numbered 8-byte
 *            records without waiting, C reads them slowly (TCP_NODELAY)
 *   9  b     its end of C's IPv4 connection to l6 (v4-mapped addresses):
 *            C sends records without waiting, P reads them slowly
 *   10 h     its end of C's connection to l6o: C sent TAIL and shut down
 *            its side; P reads TAIL and end of file only after D/stop
 * fds of C: 3, 4, 5, its ends of a, b and h.
 *
 * Every queue of a and b is full or nearly when the tree is frozen, h is
 * half closed (C in FIN_WAIT2, P in CLOSE_WAIT with TAIL unread). On
 * D/stop P sends an end marker (~0) on a; C answers with its own on b,
 * then reads what P sends on h ("bye") and its end of file; P checks
 * every record came once and in order, every option and address, that
 * each listener still takes connections, that a and b kept what they
 * negotiated (SACK, timestamps, window scales) and a timestamp clock
 * that never went back, and reaps C.
 */
#include <sys/socket.h>
#include <sys/wait.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>

#include "workload.h"

#define TAIL		"tail-of-tcp"
#define BYE		"bye"
#define END		(~0ull)
#define SLOW		32	/* records read per round until D/stop */
#define ARRAY_SIZE(a)	(sizeof(a) / sizeof((a)[0]))

struct opt {
	int level, name, val;
	const char *what;
};

/* What idle (fd 6) and free (fd 7) carry, checked at the end. */
static const struct opt idle_opts[] = {
	{ SOL_SOCKET, SO_KEEPALIVE, 1, "SO_KEEPALIVE" },
	{ IPPROTO_TCP, TCP_KEEPIDLE, 77, "TCP_KEEPIDLE" },
	{ IPPROTO_TCP, TCP_KEEPINTVL, 11, "TCP_KEEPINTVL" },
	{ IPPROTO_TCP, TCP_KEEPCNT, 5, "TCP_KEEPCNT" },
	{ IPPROTO_IP, IP_TOS, 0x10, "IP_TOS" },
	{ IPPROTO_IP, IP_TTL, 33, "IP_TTL" },
	{ SOL_SOCKET, SO_MARK, 42, "SO_MARK" },
	{ SOL_SOCKET, SO_REUSEPORT, 1, "SO_REUSEPORT" },
	{ IPPROTO_TCP, TCP_USER_TIMEOUT, 12345, "TCP_USER_TIMEOUT" },
};

static const struct opt free_opts[] = {
	{ IPPROTO_TCP, TCP_CORK, 1, "TCP_CORK" },
	{ IPPROTO_TCP, TCP_NODELAY, 1, "TCP_NODELAY" },
	{ IPPROTO_IPV6, IPV6_UNICAST_HOPS, 20, "IPV6_UNICAST_HOPS" },
	{ IPPROTO_IPV6, IPV6_TCLASS, 0x20, "IPV6_TCLASS" },
};

static void set_opts(int fd, const struct opt *o, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		wl_setint(fd, o[i].level, o[i].name, o[i].val);
}

static void check_opts(int fd, const struct opt *o, size_t n,
		       const char *what)
{
	size_t i;
	int v;

	for (i = 0; i < n; i++) {
		v = wl_getint(fd, o[i].level, o[i].name);
		if (v != o[i].val)
			wl_fail("%s: %s is %d, want %d", what, o[i].what, v,
				o[i].val);
	}
}

static void nonblock(int fd)
{
	if (fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK))
		wl_fail("fcntl: %s", strerror(errno));
}

static socklen_t addr_of(struct sockaddr_storage *ss, int family,
			 const char *ip, int port)
{
	struct sockaddr_in *s4 = (void *)ss;
	struct sockaddr_in6 *s6 = (void *)ss;

	memset(ss, 0, sizeof(*ss));
	if (family == AF_INET) {
		s4->sin_family = AF_INET;
		s4->sin_port = htons(port);
		inet_pton(AF_INET, ip, &s4->sin_addr);
		return sizeof(*s4);
	}
	s6->sin6_family = AF_INET6;
	s6->sin6_port = htons(port);
	inet_pton(AF_INET6, ip, &s6->sin6_addr);
	return sizeof(*s6);
}

static int port_of(int fd)
{
	struct sockaddr_storage ss;
	socklen_t l = sizeof(ss);

	if (getsockname(fd, (struct sockaddr *)&ss, &l))
		wl_fail("getsockname: %s", strerror(errno));
	return ntohs(((struct sockaddr_in *)&ss)->sin_port);
}

static int tcp_socket(int family, const char *ip, int want)
{
	struct sockaddr_storage ss;
	socklen_t l = addr_of(&ss, family, ip, 0);
	int fd = socket(family, SOCK_STREAM, 0);

	if (fd != want)
		wl_fail("socket on %d, want %d (%s)", fd, want,
			strerror(errno));
	if (ip && bind(fd, (struct sockaddr *)&ss, l))
		wl_fail("bind %s: %s", ip, strerror(errno));
	return fd;
}

static int connect_to(int family, const char *ip, int port)
{
	struct sockaddr_storage ss;
	socklen_t l = addr_of(&ss, family, ip, port);
	int fd = socket(family, SOCK_STREAM, 0);

	if (fd < 0 || connect(fd, (struct sockaddr *)&ss, l))
		wl_fail("connect to %s port %d: %s", ip, port,
			strerror(errno));
	return fd;
}

/* A stream of 8-byte records read without waiting. */
struct rstream {
	int fd;
	uint8_t buf[8];
	size_t have;
	uint64_t want;		/* the next record due */
	int ended;		/* the end marker came */
};

/* Up to max records; each must be the one due. */
static void take(struct rstream *s, int max, const char *what)
{
	uint64_t v;
	ssize_t n;

	while (!s->ended && max--) {
		n = read(s->fd, s->buf + s->have, 8 - s->have);
		if (n == 0)
			wl_fail("%s: end of file", what);
		if (n < 0 && errno == EAGAIN)
			return;
		if (n < 0)
			wl_fail("%s: %s", what, strerror(errno));
		s->have += n;
		if (s->have < 8)
			continue;
		s->have = 0;
		memcpy(&v, s->buf, 8);
		if (v == END)
			s->ended = 1;
		else if (v != s->want++)
			wl_fail("%s: record %llu where %llu was due", what,
				(unsigned long long)v,
				(unsigned long long)s->want - 1);
	}
}

/* Records from *next on while there is room; the end marker once stop. */
static void give(int fd, uint64_t *next, int stop, int *ended,
		 const char *what)
{
	uint64_t end = END;
	int i;

	for (i = 0; !stop && i < 4096; i++) {
		if (!wl_try_send(fd, next, 8, what))
			return;
		++*next;
	}
	if (stop && !*ended)
		*ended = wl_try_send(fd, &end, 8, what);
}

/* Read fd to its end: exactly want, then end of file. */
static void read_rest(int fd, const char *want, const char *what)
{
	int fl = fcntl(fd, F_GETFL);

	if (fcntl(fd, F_SETFL, fl & ~O_NONBLOCK))
		wl_fail("fcntl: %s", strerror(errno));
	wl_check_rest(fd, want, strlen(want), what);
}

/* ---- the child ---------------------------------------------------------- */

static int child(int port4, int port6, int port6o)
{
	struct rstream a = { 0 };
	uint64_t next = 0;
	int b, h, ended = 0;

	a.fd = connect_to(AF_INET, "127.0.0.1", port4);
	b = connect_to(AF_INET, "127.0.0.1", port6);
	h = connect_to(AF_INET6, "::1", port6o);
	if (a.fd != 3 || b != 4 || h != 5)
		wl_fail("child: connections on %d %d %d", a.fd, b, h);
	if (write(h, TAIL, strlen(TAIL)) != (ssize_t)strlen(TAIL) ||
	    shutdown(h, SHUT_WR))
		wl_fail("child: tail: %s", strerror(errno));
	nonblock(a.fd);
	nonblock(b);
	while (!ended) {
		take(&a, wl_should_stop() ? 1 << 30 : SLOW, "child a");
		give(b, &next, a.ended, &ended, "child b");
		wl_sleep_ms(1);
	}
	read_rest(h, BYE, "child h");
	wl_info("child: %llu records in, %llu out",
		(unsigned long long)a.want, (unsigned long long)next);
	return 0;
}

/* ---- the parent --------------------------------------------------------- */

/* What a connection negotiated, and its timestamp clock. */
struct negotiated {
	uint32_t opts, snd_wscale, rcv_wscale;
	uint32_t ts;		/* TCP_TIMESTAMP, last seen */
};

struct parent {
	int l4, l6, l6o, idle, free, a, h;
	struct negotiated na, nb;
	int port4, port6, port6o, port_idle;
	int rcvbuf, sndbuf;	/* idle's, as set */
	struct rstream b;
	uint64_t next;		/* the next record on a */
	int ended;		/* our end marker is out */
};

static void listen_on(int fd, int backlog)
{
	wl_setint(fd, SOL_SOCKET, SO_REUSEADDR, 1);
	if (listen(fd, backlog))
		wl_fail("listen: %s", strerror(errno));
}

static void parent_setup(struct parent *p)
{
	struct linger lg = { 1, 3 };

	p->l4 = tcp_socket(AF_INET, "127.0.0.1", 3);
	listen_on(p->l4, 7);
	p->l6 = tcp_socket(AF_INET6, "::", 4);	/* dual-stack by default */
	listen_on(p->l6, 9);
	p->l6o = socket(AF_INET6, SOCK_STREAM, 0);
	if (p->l6o != 5)
		wl_fail("l6o on %d", p->l6o);
	wl_setint(p->l6o, IPPROTO_IPV6, IPV6_V6ONLY, 1);
	{
		struct sockaddr_storage ss;
		socklen_t l = addr_of(&ss, AF_INET6, "::1", 0);

		if (bind(p->l6o, (struct sockaddr *)&ss, l))
			wl_fail("bind ::1: %s", strerror(errno));
	}
	listen_on(p->l6o, 5);
	p->idle = socket(AF_INET, SOCK_STREAM, 0);
	set_opts(p->idle, idle_opts, ARRAY_SIZE(idle_opts));
	if (setsockopt(p->idle, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg)))
		wl_fail("SO_LINGER: %s", strerror(errno));
	wl_setint(p->idle, SOL_SOCKET, SO_RCVBUF, 40000);
	wl_setint(p->idle, SOL_SOCKET, SO_SNDBUF, 50000);
	p->rcvbuf = wl_getint(p->idle, SOL_SOCKET, SO_RCVBUF);
	p->sndbuf = wl_getint(p->idle, SOL_SOCKET, SO_SNDBUF);
	{
		struct sockaddr_storage ss;
		socklen_t l = addr_of(&ss, AF_INET, "127.0.0.1", 0);

		if (bind(p->idle, (struct sockaddr *)&ss, l))
			wl_fail("bind idle: %s", strerror(errno));
	}
	p->free = socket(AF_INET6, SOCK_STREAM, 0);
	set_opts(p->free, free_opts, ARRAY_SIZE(free_opts));
	if (p->idle != 6 || p->free != 7)
		wl_fail("idle on %d, free on %d", p->idle, p->free);
	p->port4 = port_of(p->l4);
	p->port6 = port_of(p->l6);
	p->port6o = port_of(p->l6o);
	p->port_idle = port_of(p->idle);
}

static void negotiated(int fd, struct negotiated *n)
{
	struct tcp_info ti;
	socklen_t l = sizeof(ti);

	memset(&ti, 0, sizeof(ti));
	if (getsockopt(fd, IPPROTO_TCP, TCP_INFO, &ti, &l))
		wl_fail("TCP_INFO: %s", strerror(errno));
	n->opts = ti.tcpi_options;
	n->snd_wscale = ti.tcpi_snd_wscale;
	n->rcv_wscale = ti.tcpi_rcv_wscale;
	n->ts = wl_getint(fd, IPPROTO_TCP, TCP_TIMESTAMP);
}

/*
 * The timestamp clock (in ms) only goes forward, by no more than the
 * time a test takes, restored or not: one restarted from 0 or another
 * offset would make a peer outside the tree drop every segment (PAWS).
 */
static void check_clock(int fd, struct negotiated *n, const char *what)
{
	uint32_t now = wl_getint(fd, IPPROTO_TCP, TCP_TIMESTAMP);

	if (now - n->ts > 30u * 60 * 1000)
		wl_fail("%s: timestamp clock went from %u to %u", what, n->ts,
			now);
	n->ts = now;
}

static void check_negotiated(int fd, struct negotiated *n, const char *what)
{
	struct negotiated now;

	negotiated(fd, &now);
	if (now.opts != n->opts || now.snd_wscale != n->snd_wscale ||
	    now.rcv_wscale != n->rcv_wscale)
		wl_fail("%s: options %#x, window scales %u/%u, want %#x, %u/%u",
			what, now.opts, now.snd_wscale, now.rcv_wscale, n->opts,
			n->snd_wscale, n->rcv_wscale);
}

static void parent_accept(struct parent *p)
{
	p->a = accept(p->l4, NULL, NULL);
	p->b.fd = accept(p->l6, NULL, NULL);
	p->h = accept(p->l6o, NULL, NULL);
	if (p->a != 8 || p->b.fd != 9 || p->h != 10)
		wl_fail("accepted on %d %d %d (%s)", p->a, p->b.fd, p->h,
			strerror(errno));
	negotiated(p->a, &p->na);
	negotiated(p->b.fd, &p->nb);
	wl_setint(p->a, IPPROTO_TCP, TCP_NODELAY, 1);
	wl_setint(p->b.fd, SOL_SOCKET, SO_KEEPALIVE, 1);
	wl_setint(p->b.fd, IPPROTO_TCP, TCP_KEEPCNT, 4);
	nonblock(p->a);
	nonblock(p->b.fd);
	nonblock(p->h);
}

/* ---- the end ------------------------------------------------------------ */

static void check_listener(int fd, int port, int backlog, int v6only,
			   const char *what)
{
	struct tcp_info ti;
	socklen_t l = sizeof(ti);

	if (!wl_getint(fd, SOL_SOCKET, SO_ACCEPTCONN) ||
	    !wl_getint(fd, SOL_SOCKET, SO_REUSEADDR))
		wl_fail("%s: not listening, or without SO_REUSEADDR", what);
	if (port_of(fd) != port)
		wl_fail("%s: on port %d, want %d", what, port_of(fd), port);
	memset(&ti, 0, sizeof(ti));
	if (getsockopt(fd, IPPROTO_TCP, TCP_INFO, &ti, &l) ||
	    (int)ti.tcpi_sacked != backlog)
		wl_fail("%s: backlog %u, want %d", what, ti.tcpi_sacked,
			backlog);
	if (v6only >= 0 && wl_getint(fd, IPPROTO_IPV6, IPV6_V6ONLY) != v6only)
		wl_fail("%s: IPV6_V6ONLY is not %d", what, v6only);
}

/* A new connection to the listener lfd from ip comes, and carries a byte. */
static void try_listener(int lfd, int family, const char *ip, int port,
			 const char *what)
{
	int c = connect_to(family, ip, port), s = accept(lfd, NULL, NULL);
	char x = 0;

	if (s < 0 || write(c, "x", 1) != 1 || read(s, &x, 1) != 1 || x != 'x')
		wl_fail("%s: a new connection from %s: %s", what, ip,
			strerror(errno));
	close(c);
	close(s);
}

static void check_mapped(int fd, const char *what)
{
	struct sockaddr_in6 s6;
	socklen_t l = sizeof(s6);
	char ip[INET6_ADDRSTRLEN] = "";

	if (getsockname(fd, (struct sockaddr *)&s6, &l) ||
	    s6.sin6_family != AF_INET6)
		wl_fail("%s: not an IPv6 socket", what);
	inet_ntop(AF_INET6, &s6.sin6_addr, ip, sizeof(ip));
	if (strcmp(ip, "::ffff:127.0.0.1"))
		wl_fail("%s: on %s, want ::ffff:127.0.0.1", what, ip);
}

static void check_idle(struct parent *p)
{
	struct linger lg = { 0, 0 };
	socklen_t l = sizeof(lg);

	check_opts(p->idle, idle_opts, ARRAY_SIZE(idle_opts), "idle");
	if (getsockopt(p->idle, SOL_SOCKET, SO_LINGER, &lg, &l) ||
	    !lg.l_onoff || lg.l_linger != 3)
		wl_fail("idle: SO_LINGER %d %d", lg.l_onoff, lg.l_linger);
	if (port_of(p->idle) != p->port_idle ||
	    wl_getint(p->idle, SOL_SOCKET, SO_ACCEPTCONN))
		wl_fail("idle: not bound to port %d, or listening",
			p->port_idle);
	if (wl_getint(p->idle, SOL_SOCKET, SO_RCVBUF) != p->rcvbuf ||
	    wl_getint(p->idle, SOL_SOCKET, SO_SNDBUF) != p->sndbuf)
		wl_fail("idle: buffers %d/%d, want %d/%d",
			wl_getint(p->idle, SOL_SOCKET, SO_RCVBUF),
			wl_getint(p->idle, SOL_SOCKET, SO_SNDBUF), p->rcvbuf,
			p->sndbuf);
	check_opts(p->free, free_opts, ARRAY_SIZE(free_opts), "free");
	if (port_of(p->free))
		wl_fail("free: bound to port %d", port_of(p->free));
}

static void parent_check(struct parent *p)
{
	check_listener(p->l4, p->port4, 7, -1, "l4");
	check_listener(p->l6, p->port6, 9, 0, "l6");
	check_listener(p->l6o, p->port6o, 5, 1, "l6o");
	try_listener(p->l4, AF_INET, "127.0.0.1", p->port4, "l4");
	try_listener(p->l6, AF_INET, "127.0.0.1", p->port6, "l6");
	try_listener(p->l6, AF_INET6, "::1", p->port6, "l6");
	try_listener(p->l6o, AF_INET6, "::1", p->port6o, "l6o");
	check_idle(p);
	if (wl_getint(p->a, IPPROTO_TCP, TCP_NODELAY) != 1 ||
	    !(fcntl(p->a, F_GETFL) & O_NONBLOCK))
		wl_fail("a: TCP_NODELAY or O_NONBLOCK lost");
	if (wl_getint(p->b.fd, SOL_SOCKET, SO_KEEPALIVE) != 1 ||
	    wl_getint(p->b.fd, IPPROTO_TCP, TCP_KEEPCNT) != 4)
		wl_fail("b: SO_KEEPALIVE or TCP_KEEPCNT lost");
	check_mapped(p->b.fd, "b");
	check_negotiated(p->a, &p->na, "a");
	check_negotiated(p->b.fd, &p->nb, "b");
}

static void parent_finish(struct parent *p, pid_t pid)
{
	int status;

	read_rest(p->h, TAIL, "h");
	if (write(p->h, BYE, strlen(BYE)) != (ssize_t)strlen(BYE) ||
	    shutdown(p->h, SHUT_WR))
		wl_fail("h: bye: %s", strerror(errno));
	if (waitpid(pid, &status, 0) != pid)
		wl_fail("waitpid: %s", strerror(errno));
	if (!WIFEXITED(status) || WEXITSTATUS(status))
		wl_fail("child ended with status %#x", status);
	parent_check(p);
	wl_info("parent: %llu records out, %llu in",
		(unsigned long long)p->next, (unsigned long long)p->b.want);
}

int main(void)
{
	struct parent p;
	unsigned long n = 0;
	int cfd, stop = 0, fd;
	pid_t pid;

	wl_init();
	memset(&p, 0, sizeof(p));
	parent_setup(&p);
	pid = fork();
	if (pid < 0)
		wl_fail("fork: %s", strerror(errno));
	if (pid == 0) {
		for (fd = 3; fd <= 7; fd++)
			close(fd);
		exit(child(p.port4, p.port6, p.port6o));
	}
	parent_accept(&p);
	cfd = wl_count_open();
	while (!p.b.ended || !p.ended) {
		give(p.a, &p.next, stop, &p.ended, "a");
		take(&p.b, stop ? 1 << 30 : SLOW, "b");
		check_clock(p.a, &p.na, "a");
		check_clock(p.b.fd, &p.nb, "b");
		if (!stop)
			stop = wl_count_step(cfd, &n);
		wl_sleep_ms(1);
	}
	parent_finish(&p, pid);
	return 0;
}
