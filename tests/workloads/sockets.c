/*
 * sockets.c - unix sockets between a parent and its child, with data
 * queued both ways at dump time.
 *
 * fds of the parent P and the child C (the test checks them):
 *   3/4  st     stream socketpair: P sends numbered 8-byte records (P 3),
 *               C (4) checks them and answers every 16th the other way
 *   5/6  dg     datagram pair: P (5) sends messages of 8 to 56 bytes,
 *               C (6) checks each one's length and contents
 *   7/8  sp     seqpacket pair: C (8) sends such messages to P (7); P's
 *               end has an abstract name
 *   9/10 tail   P wrote TAIL into 9 and shut it down (SHUT_WR); C reads
 *               exactly TAIL and then end of file after D/stop
 *   11/12 self  both ends in P, "ping" queued one way, "pong" the other
 *   13   lis    P's stream listener bound to D/srv.sock
 *   14   dgs    P's datagram socket bound to D/dg.sock; C sendto()s it
 *   15   acc    P's end of C's connection to lis (C's end is its fd 3;
 *               its datagram socket for dg.sock is its 5)
 * P is nonblocking and never waits; C blocks and reads slower than P
 * sends, so every queue is full or nearly when the tree is frozen. P's
 * stream socket has SO_SNDBUF set, dgs SO_PASSCRED: both checked at the
 * end, as are the names. On D/stop P sends an end marker (~0) on st and
 * dg; C answers with its own on st, sp, its connection and dgs, then
 * reads the tail; P takes everything up to C's markers and reaps C. Any
 * record lost, repeated, reordered or cut fails.
 */
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <stddef.h>

#include "workload.h"

#define TAIL		"tail-of-socket"
#define TAIL_LEN	14
#define END		(~0ull)
#define SNDBUF		32768

/* A message numbered n: n, then (n % 7) words of n. */
static size_t msg_make(uint64_t *m, uint64_t n)
{
	size_t i, w = 1 + (n == END ? 0 : n % 7);

	for (i = 0; i < w; i++)
		m[i] = n;
	return w * 8;
}

static void msg_check(const uint64_t *m, ssize_t len, uint64_t want,
		      const char *what)
{
	uint64_t ref[8];
	size_t rl;

	if (len >= 8 && m[0] == END && len == 8)
		return;
	rl = msg_make(ref, want);
	if (len != (ssize_t)rl || memcmp(m, ref, rl))
		wl_fail("%s: message of %zd bytes starting %llu where %llu (%zu bytes) was due",
			what, len, len >= 8 ? (unsigned long long)m[0] : 0ull,
			(unsigned long long)want, rl);
}

static void read_full(int fd, void *buf, size_t len, const char *what)
{
	ssize_t n;
	size_t got = 0;

	while (got < len) {
		n = read(fd, (char *)buf + got, len - got);
		if (n <= 0)
			wl_fail("%s: read gave %zd (%s)", what, n,
				n ? strerror(errno) : "end of file");
		got += n;
	}
}

static void send_full(int fd, const void *buf, size_t len, const char *what)
{
	if (send(fd, buf, len, MSG_NOSIGNAL) != (ssize_t)len)
		wl_fail("%s: send: %s", what, strerror(errno));
}

static socklen_t addr_of(struct sockaddr_un *a, const char *name, int abs)
{
	memset(a, 0, sizeof(*a));
	a->sun_family = AF_UNIX;
	if (abs) {
		strcpy(a->sun_path + 1, name);
		return offsetof(struct sockaddr_un, sun_path) + 1 +
			strlen(name);
	}
	snprintf(a->sun_path, sizeof(a->sun_path), "%s", name);
	return sizeof(*a);
}

/* ---- the child ---------------------------------------------------------- */

struct child {
	int st, dg, sp, tail, cl, dgc;
	struct sockaddr_un dgs_addr;
	socklen_t dgs_len;
	uint64_t st_want, dg_want, sent;
};

static void child_send(struct child *c, uint64_t n)
{
	uint64_t m[8];
	size_t len = msg_make(m, n);

	send_full(c->sp, m, len, "child sp");
	send_full(c->cl, &n, 8, "child connection");
	if (sendto(c->dgc, m, len, 0, (struct sockaddr *)&c->dgs_addr,
		   c->dgs_len) != (ssize_t)len)
		wl_fail("child: sendto dg.sock: %s", strerror(errno));
}

static int child_st(struct child *c)
{
	uint64_t v;

	read_full(c->st, &v, 8, "child st");
	if (v == END)
		return 0;
	if (v != c->st_want)
		wl_fail("child: st record %llu where %llu was due",
			(unsigned long long)v, (unsigned long long)c->st_want);
	c->st_want++;
	if (c->st_want % 16 == 0)
		send_full(c->st, &c->st_want, 8, "child st answer");
	child_send(c, c->sent++);
	return 1;
}

static int child_dg(struct child *c)
{
	uint64_t m[16];
	ssize_t n = recv(c->dg, m, sizeof(m), 0);

	if (n < 0)
		wl_fail("child: dg: %s", strerror(errno));
	msg_check(m, n, c->dg_want, "child dg");
	if (n == 8 && m[0] == END)
		return 0;
	c->dg_want++;
	return 1;
}

static void child_connect(struct child *c)
{
	struct sockaddr_un a;
	char path[PATH_MAX];
	socklen_t len = addr_of(&a, wl_path(path, "srv.sock"), 0);

	/* on 3 and 5, which the parent's ends of st and dg left free */
	c->cl = socket(AF_UNIX, SOCK_STREAM, 0);
	c->dgc = socket(AF_UNIX, SOCK_DGRAM, 0);
	if (c->cl < 0 || c->dgc < 0 ||
	    connect(c->cl, (struct sockaddr *)&a, len))
		wl_fail("child: connect: %s", strerror(errno));
	c->dgs_len = addr_of(&c->dgs_addr, wl_path(path, "dg.sock"), 0);
}

static void child_check_peer(struct child *c)
{
	struct sockaddr_un p;
	socklen_t pl = sizeof(p);
	char path[PATH_MAX];

	if (getpeername(c->cl, (struct sockaddr *)&p, &pl) ||
	    strcmp(p.sun_path, wl_path(path, "srv.sock")))
		wl_fail("child: connected to '%s', not srv.sock",
			pl > 2 ? p.sun_path : "");
}

static int child(struct child *c)
{
	uint64_t end = END, m[8];
	int st = 1, dg = 1;

	child_connect(c);
	while (st || dg) {
		if (st)
			st = child_st(c);
		if (dg)
			dg = child_dg(c);
		if (c->st_want % 64 == 0)
			wl_sleep_ms(1);
	}
	child_check_peer(c);
	send_full(c->st, &end, 8, "child st end");
	send_full(c->sp, m, msg_make(m, END), "child sp end");
	send_full(c->cl, &end, 8, "child connection end");
	if (sendto(c->dgc, &end, 8, 0, (struct sockaddr *)&c->dgs_addr,
		   c->dgs_len) != 8)
		wl_fail("child: sendto end: %s", strerror(errno));
	wl_check_rest(c->tail, TAIL, strlen(TAIL), "tail socket");
	wl_info("child: %llu records, %llu messages, %llu sent",
		(unsigned long long)c->st_want,
		(unsigned long long)c->dg_want, (unsigned long long)c->sent);
	return 0;
}

/* ---- the parent --------------------------------------------------------- */

/* A byte stream read without waiting, in 8-byte records. */
struct rstream {
	int fd;
	uint8_t buf[8];
	size_t have;
};

struct parent {
	int st, dg, sp, tail, self[2], lis, dgs, acc;
	uint64_t st_sent, dg_sent, st_ans, sp_want, acc_want, dgs_want;
	int st_end, dg_end;	/* our markers are out */
	int got_st, got_sp, got_acc, got_dgs;	/* C's markers are in */
	int stopping;
	int sndbuf;
	struct rstream rst, racc;
};

static void nonblock(int fd)
{
	if (fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK))
		wl_fail("fcntl: %s", strerror(errno));
}

/* 1 with a record, 0 when none is whole yet */
static int rs_get(struct rstream *s, uint64_t *v, const char *what)
{
	ssize_t n = read(s->fd, s->buf + s->have, 8 - s->have);

	if (n == 0)
		wl_fail("%s: end of file", what);
	if (n < 0) {
		if (errno == EAGAIN)
			return 0;
		wl_fail("%s: %s", what, strerror(errno));
	}
	s->have += n;
	if (s->have < 8)
		return 0;
	memcpy(v, s->buf, 8);
	s->have = 0;
	return 1;
}

static void parent_send(struct parent *p)
{
	uint64_t m[8];
	int i;

	for (i = 0; !p->stopping && i < 64; i++)
		if (wl_try_send(p->st, &p->st_sent, 8, "st"))
			p->st_sent++;
	for (i = 0; !p->stopping && i < 8; i++)
		if (wl_try_send(p->dg, m, msg_make(m, p->dg_sent), "dg"))
			p->dg_sent++;
	if (p->stopping && !p->st_end)
		p->st_end = wl_try_send(p->st, m, msg_make(m, END), "st end");
	if (p->stopping && !p->dg_end)
		p->dg_end = wl_try_send(p->dg, m, msg_make(m, END), "dg end");
}

static void take_st(struct parent *p)
{
	uint64_t v;

	while (!p->got_st && rs_get(&p->rst, &v, "st answers")) {
		if (v == END) {
			p->got_st = 1;
			break;
		}
		if (v != p->st_ans + 16)
			wl_fail("st: answer %llu after %llu",
				(unsigned long long)v,
				(unsigned long long)p->st_ans);
		p->st_ans = v;
	}
}

/* Up to max messages of fd (numbered *want); 1 when the marker came. */
static int take_msgs(int fd, uint64_t *want, int max, const char *what)
{
	uint64_t m[16];
	ssize_t n;

	while (max--) {
		n = recv(fd, m, sizeof(m), 0);
		if (n < 0 && errno == EAGAIN)
			return 0;
		if (n < 0)
			wl_fail("%s: %s", what, strerror(errno));
		msg_check(m, n, *want, what);
		if (n == 8 && m[0] == END)
			return 1;
		++*want;
	}
	return 0;
}

static void take_acc(struct parent *p, int max)
{
	uint64_t v;

	while (!p->got_acc && max-- && rs_get(&p->racc, &v, "connection")) {
		if (v == END) {
			p->got_acc = 1;
			break;
		}
		if (v != p->acc_want)
			wl_fail("connection: record %llu where %llu was due",
				(unsigned long long)v,
				(unsigned long long)p->acc_want);
		p->acc_want++;
	}
}

/* C's messages are taken slowly, a few at a time, until D/stop. */
static void parent_take(struct parent *p)
{
	int max = p->stopping ? 1 << 30 : 4;

	take_st(p);
	if (!p->got_sp)
		p->got_sp = take_msgs(p->sp, &p->sp_want, max, "sp");
	if (!p->got_dgs)
		p->got_dgs = take_msgs(p->dgs, &p->dgs_want, max, "dg.sock");
	take_acc(p, max);
}

static void expect_read(int fd, const char *want, const char *what)
{
	char buf[16] = "";
	ssize_t n = read(fd, buf, sizeof(buf));

	if (n != (ssize_t)strlen(want) || memcmp(buf, want, n))
		wl_fail("%s: read %zd bytes '%.*s', want '%s'", what, n,
			n > 0 ? (int)n : 0, buf, want);
}

static int sockopt(int fd, int opt)
{
	socklen_t l = sizeof(int);
	int v = -1;

	if (getsockopt(fd, SOL_SOCKET, opt, &v, &l))
		wl_fail("getsockopt: %s", strerror(errno));
	return v;
}

static void check_name(int fd, const char *want, int abs, const char *what)
{
	struct sockaddr_un a, w;
	socklen_t l = sizeof(a), wl = addr_of(&w, want, abs);

	memset(&a, 0, sizeof(a));
	if (getsockname(fd, (struct sockaddr *)&a, &l))
		wl_fail("%s: getsockname: %s", what, strerror(errno));
	if (abs ? l != wl || memcmp(&a, &w, l) : strcmp(a.sun_path, want))
		wl_fail("%s: bound to the wrong name", what);
}

static void parent_check_state(struct parent *p)
{
	char path[PATH_MAX], abs[64];

	expect_read(p->self[1], "ping", "self pair");
	expect_read(p->self[0], "pong", "self pair");
	if (sockopt(p->st, SO_SNDBUF) != p->sndbuf)
		wl_fail("st: SO_SNDBUF %d, want %d", sockopt(p->st, SO_SNDBUF),
			p->sndbuf);
	if (!sockopt(p->dgs, SO_PASSCRED))
		wl_fail("dg.sock: SO_PASSCRED lost");
	if (!(fcntl(p->acc, F_GETFL) & O_NONBLOCK))
		wl_fail("connection: O_NONBLOCK lost");
	check_name(p->acc, wl_path(path, "srv.sock"), 0, "connection");
	check_name(p->dgs, wl_path(path, "dg.sock"), 0, "dg.sock");
	snprintf(abs, sizeof(abs), "ckpt-wl-sockets-%d", (int)getpid());
	check_name(p->sp, abs, 1, "sp");
}

static void parent_finish(struct parent *p, pid_t pid)
{
	int status;

	p->stopping = 1;
	while (!(p->st_end && p->dg_end && p->got_st && p->got_sp &&
		 p->got_acc && p->got_dgs)) {
		parent_send(p);
		parent_take(p);
		wl_sleep_ms(1);
	}
	if (waitpid(pid, &status, 0) != pid)
		wl_fail("waitpid: %s", strerror(errno));
	if (!WIFEXITED(status) || WEXITSTATUS(status))
		wl_fail("child ended with status %#x", status);
	if (p->st_ans != p->st_sent - p->st_sent % 16)
		wl_fail("last st answer %llu, %llu records sent",
			(unsigned long long)p->st_ans,
			(unsigned long long)p->st_sent);
	if (p->sp_want != p->acc_want || p->sp_want != p->dgs_want)
		wl_fail("child's streams disagree: sp %llu, connection %llu, dg.sock %llu",
			(unsigned long long)p->sp_want,
			(unsigned long long)p->acc_want,
			(unsigned long long)p->dgs_want);
	parent_check_state(p);
}

static int bound(int type, const char *name, int abs)
{
	struct sockaddr_un a;
	socklen_t len = addr_of(&a, name, abs);
	int fd = socket(AF_UNIX, type, 0);

	if (!abs)
		unlink(name);
	if (fd < 0 || bind(fd, (struct sockaddr *)&a, len))
		wl_fail("bind %s: %s", name, strerror(errno));
	return fd;
}

static void pair(int type, int sv[2], int want)
{
	if (socketpair(AF_UNIX, type, 0, sv))
		wl_fail("socketpair: %s", strerror(errno));
	if (sv[0] != want)
		wl_fail("socketpair on %d, want %d", sv[0], want);
}

static void setup(int *st, int *dg, int *sp, int *tail, int *self)
{
	struct sockaddr_un a;
	char abs[64];

	pair(SOCK_STREAM, st, 3);
	pair(SOCK_DGRAM, dg, 5);
	pair(SOCK_SEQPACKET, sp, 7);
	pair(SOCK_STREAM, tail, 9);
	pair(SOCK_STREAM, self, 11);
	snprintf(abs, sizeof(abs), "ckpt-wl-sockets-%d", (int)getpid());
	if (bind(sp[0], (struct sockaddr *)&a, addr_of(&a, abs, 1)))
		wl_fail("bind sp: %s", strerror(errno));
	if (write(tail[0], TAIL, TAIL_LEN) != TAIL_LEN ||
	    shutdown(tail[0], SHUT_WR))
		wl_fail("tail: %s", strerror(errno));
	if (write(self[0], "ping", 4) != 4 || write(self[1], "pong", 4) != 4)
		wl_fail("self: %s", strerror(errno));
	if (setsockopt(st[0], SOL_SOCKET, SO_SNDBUF, &(int){ SNDBUF },
		       sizeof(int)))
		wl_fail("SO_SNDBUF: %s", strerror(errno));
}

static void parent_init(struct parent *p, int *st, int *dg, int *sp,
			int *tail, int *self)
{
	char path[PATH_MAX];

	memset(p, 0, sizeof(*p));
	p->st = st[0];
	p->dg = dg[0];
	p->sp = sp[0];
	p->tail = tail[0];
	p->self[0] = self[0];
	p->self[1] = self[1];
	p->lis = bound(SOCK_STREAM, wl_path(path, "srv.sock"), 0);
	p->dgs = bound(SOCK_DGRAM, wl_path(path, "dg.sock"), 0);
	if (p->lis != 13 || p->dgs != 14 || listen(p->lis, 4))
		wl_fail("listener on %d, dg.sock on %d: %s", p->lis, p->dgs,
			strerror(errno));
	if (setsockopt(p->dgs, SOL_SOCKET, SO_PASSCRED, &(int){ 1 },
		       sizeof(int)))
		wl_fail("SO_PASSCRED: %s", strerror(errno));
	p->sndbuf = sockopt(p->st, SO_SNDBUF);
}

static void parent_start(struct parent *p, int *st, int *dg, int *sp,
			 int *tail)
{
	p->acc = accept(p->lis, NULL, NULL);
	if (p->acc != 15)
		wl_fail("accept gave %d (%s), want 15", p->acc,
			strerror(errno));
	close(st[1]);
	close(dg[1]);
	close(sp[1]);
	close(tail[1]);
	nonblock(p->st);
	nonblock(p->dg);
	nonblock(p->sp);
	nonblock(p->dgs);
	nonblock(p->acc);
	p->rst.fd = p->st;
	p->racc.fd = p->acc;
	p->st_ans = 0;
}

int main(void)
{
	int st[2], dg[2], sp[2], tail[2], self[2], cfd;
	struct parent p;
	unsigned long n = 0;
	pid_t pid;

	wl_init();
	setup(st, dg, sp, tail, self);
	parent_init(&p, st, dg, sp, tail, self);
	pid = fork();
	if (pid < 0)
		wl_fail("fork: %s", strerror(errno));
	if (pid == 0) {
		struct child c = { .st = st[1], .dg = dg[1], .sp = sp[1],
				   .tail = tail[1] };

		close(st[0]);
		close(dg[0]);
		close(sp[0]);
		close(tail[0]);
		close(self[0]);
		close(self[1]);
		close(p.lis);
		close(p.dgs);
		exit(child(&c));
	}
	parent_start(&p, st, dg, sp, tail);
	cfd = wl_count_open();
	for (;;) {
		parent_send(&p);
		parent_take(&p);
		wl_count_write(cfd, n++);
		if (n == 20)
			wl_ready();
		if (wl_should_stop())
			break;
		wl_sleep_ms(1);
	}
	parent_finish(&p, pid);
	return 0;
}
