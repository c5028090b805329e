/*
 * tcpclose.c - TCP connections being closed, over IPv4 and over IPv6. For
 * each family, four pairs (a, b), each with small buffers that a fills
 * or b fills, neither reading (a is the connecting end over IPv4, the
 * accepted one over IPv6):
 *
 *   1  a shut down its side after filling b's window: its FIN waits
 *      behind unsent data (a FIN_WAIT1, b ESTABLISHED)
 *   2  a shut down at once (a FIN_WAIT2, b CLOSE_WAIT), then b filled a's
 *      window and shut down too (b LAST_ACK, its FIN behind its data)
 *   3  a filled b's window and shut down, then b shut down: b's FIN
 *      crossed a's (a CLOSING, b FIN_WAIT2)
 *   4  a sent a few bytes and shut down (a FIN_WAIT2), then b filled a's
 *      window (b CLOSE_WAIT, with both its queues full)
 *
 * With no argument both ends of every pair are in this one process.
 * With "ext" there are two such sets of pairs for each family, and a
 * process outside the tree (a grandchild gone to a session of its own,
 * its PID in D/outside.pid) holds one end of each pair: b in the first
 * set, a in the second, so that the tree holds an end in every closing
 * state with its peer outside (ckpt attach --tcp-established).
 *
 * On D/stop each end must still be in its state; then every byte queued
 * is read once, in order, followed by end of file where a FIN was sent,
 * and pair 1 carries a last message from b to a. The process outside
 * does the same for its ends at D/stop (each process checks the states
 * of its ends before either goes on: D/tree.checked, D/outside.checked)
 * and writes D/outside.done.
 */
#include <sys/socket.h>
#include <sys/wait.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>

#include "workload.h"

#define RCVBUF		32768
#define SNDBUF		65536
#define KINDS		4
#define MAX_PAIRS	(4 * KINDS)
#define FEW		1000	/* bytes a sends in pair 4 */
#define OK		"ok"
#define END_A		1
#define END_B		2
#define OUTSIDE_WAIT_S	600

struct pair {
	int a, b;
	size_t sent;		/* bytes filled in, by a or by b */
	int kind;
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

/* From fd, up to max bytes or until there is no room: the bytes of pat,
 * in turn. */
static size_t fill_max(int fd, size_t max)
{
	size_t n = 0, len;
	ssize_t k;

	if (fcntl(fd, F_SETFL, O_NONBLOCK))
		wl_fail("fcntl: %s", strerror(errno));
	while (n < max) {
		len = sizeof(pat) - n % sizeof(pat);
		k = send(fd, pat + n % sizeof(pat), len < max - n ? len :
			 max - n, MSG_NOSIGNAL);
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

static size_t fill(int fd)
{
	return fill_max(fd, SIZE_MAX);
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
	case 4:
		if (fill_max(p->a, FEW) != FEW)
			wl_fail("pair 4: short send");
		shut(p->a);
		wait_state(p->a, TCP_FIN_WAIT2, "pair 4");
		wait_state(p->b, TCP_CLOSE_WAIT, "pair 4");
		p->sent = fill(p->b);
		p->want_a = TCP_FIN_WAIT2;
		p->want_b = TCP_CLOSE_WAIT;
		break;
	}
	p->kind = kind;
}

/* The ends (END_A, END_B) of pair i that this process holds, in their
 * states. */
static void check_states(const struct pair *p, int i, int ends)
{
	if ((ends & END_A) && state(p->a) != p->want_a)
		wl_fail("pair %d: a in state %d, want %d", i, state(p->a),
			p->want_a);
	if ((ends & END_B) && state(p->b) != p->want_b)
		wl_fail("pair %d: b in state %d, want %d", i, state(p->b),
			p->want_b);
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

/* What b does at the end, then a (a may wait for b, never b for a). */
static void finish_b(struct pair *p, const char *what)
{
	switch (p->kind) {
	case 1:
		read_all(p->b, p->sent, what);
		if (write(p->b, OK, 2) != 2)
			wl_fail("%s: write: %s", what, strerror(errno));
		shut(p->b);
		break;
	case 2:
		read_all(p->b, 0, what);
		break;
	case 3:
		read_all(p->b, p->sent, what);
		break;
	case 4:
		read_all(p->b, FEW, what);
		shut(p->b);
		break;
	}
}

static void finish_a(struct pair *p, const char *what)
{
	switch (p->kind) {
	case 1:
		wl_check_rest(p->a, OK, 2, what);
		break;
	case 2:
	case 4:
		read_all(p->a, p->sent, what);
		break;
	case 3:
		read_all(p->a, 0, what);
		break;
	}
}

static void finish(struct pair *p, int i, int ends, const char *who)
{
	char what[48];

	snprintf(what, sizeof(what), "%spair %d", who, i);
	if (ends & END_B)
		finish_b(p, what);
	if (ends & END_A)
		finish_a(p, what);
}

/* The ends the tree holds of pair i: all of them without "ext". */
static int tree_ends(int i, int ext)
{
	if (!ext)
		return END_A | END_B;
	return (i / KINDS) % 2 ? END_B : END_A;
}

static void close_ends(struct pair *p, int n, int ext, int outside)
{
	int i, mine;

	for (i = 0; i < n; i++) {
		mine = tree_ends(i, ext);
		if (outside)
			mine ^= END_A | END_B;
		if (!(mine & END_A))
			close(p[i].a);
		if (!(mine & END_B))
			close(p[i].b);
	}
}

/* Until D/name exists, or 60 s. */
static void wait_for(const char *name)
{
	int i;

	for (i = 0; !wl_exists(name); i++) {
		if (i > 60 * 50)
			wl_fail("no %s after 60 s", name);
		wl_sleep_ms(20);
	}
}

/*
 * Every end this process holds (outside or not) in its state, before
 * either process reads or writes a byte: a pair that the other process
 * goes on with could close meanwhile (CLOSING goes to TIME_WAIT once its
 * FIN is acknowledged, which shows as CLOSE).
 */
static void check_all(struct pair *p, int n, int ext, int outside)
{
	int i, mine;

	for (i = 0; i < n; i++) {
		mine = tree_ends(i, ext);
		check_states(&p[i], i, outside ? mine ^ (END_A | END_B) : mine);
	}
	if (!ext)
		return;
	wl_write_file(outside ? "outside.checked" : "tree.checked", OK "\n",
		      3);
	wait_for(outside ? "tree.checked" : "outside.checked");
}

/* The process outside the tree: its ends, until D/stop, then done. */
static void outside(struct pair *p, int n)
{
	char buf[32];
	int i, len;

	if (setsid() < 0)
		wl_fail("setsid: %s", strerror(errno));
	len = snprintf(buf, sizeof(buf), "%d\n", (int)getpid());
	wl_write_file("outside.pid", buf, len);
	for (i = 0; !wl_should_stop(); i++) {
		if (i > OUTSIDE_WAIT_S * 50)
			wl_fail("outside: no D/stop after %d s", OUTSIDE_WAIT_S);
		wl_sleep_ms(20);
	}
	check_all(p, n, 1, 1);
	for (i = 0; i < n; i++)
		finish(&p[i], i, tree_ends(i, 1) ^ (END_A | END_B),
		       "outside: ");
	wl_write_file("outside.done", OK "\n", 3);
	_exit(0);
}

/* One end of each pair to a grandchild, which leaves the tree. */
static void split(struct pair *p, int n)
{
	pid_t c = fork();
	int st = 0;

	if (c < 0)
		wl_fail("fork: %s", strerror(errno));
	if (!c) {
		c = fork();
		if (!c) {
			close_ends(p, n, 1, 1);
			outside(p, n);
		}
		_exit(c < 0 ? 1 : 0);
	}
	if (waitpid(c, &st, 0) != c || !WIFEXITED(st) || WEXITSTATUS(st))
		wl_fail("can't start the process outside the tree");
	close_ends(p, n, 1, 0);
	while (!wl_exists("outside.pid"))
		wl_sleep_ms(10);
}

int main(int argc, char **argv)
{
	struct pair p[MAX_PAIRS];
	int ext = argc > 1 && !strcmp(argv[1], "ext");
	int i, cfd, n = ext ? 4 * KINDS : 2 * KINDS;
	unsigned long cnt = 0;

	wl_init();
	for (i = 0; i < (int)sizeof(pat); i++)
		pat[i] = i;
	for (i = 0; i < n; i++) {
		memset(&p[i], 0, sizeof(p[i]));
		make_pair(&p[i], i < n / 2 ? AF_INET : AF_INET6,
			  i % KINDS + 1);
	}
	for (i = 0; i < n; i++)
		check_states(&p[i], i, END_A | END_B);
	if (ext)
		split(p, n);
	cfd = wl_count_open();
	while (!wl_count_step(cfd, &cnt))
		wl_sleep_ms(10);
	check_all(p, n, ext, 0);
	for (i = 0; i < n; i++)
		finish(&p[i], i, tree_ends(i, ext), "");
	if (ext)
		wait_for("outside.done");
	return 0;
}
