/*
 * tcpbuf.c - socket buffer sizes and who set them (SO_BUF_LOCK): what a
 * program set stays fixed, what it never set the kernel goes on tuning.
 *
 * Connections over loopback, both ends in this process:
 *   a  IPv4: the client set SO_RCVBUF and SO_SNDBUF before connecting
 *      (locks 3); the accepted end set nothing
 *   b  IPv4: nothing set; 32 MiB went through it before the dump, so
 *      the kernel has grown the receiver's buffer
 *   c  IPv6: the client set SO_SNDBUF, then unlocked it (SO_BUF_LOCK 0);
 *      the accepted end locked its default sizes (SO_BUF_LOCK 1)
 *   d  IPv4: nothing set, nothing sent: the receiver's buffer is the
 *      default one until data flows
 * and a UDP socket with SO_RCVBUF set.
 *
 * Each socket's sizes and locks are noted once set up; after restore
 * they must be the same, and 32 MiB sent over d must grow its receiver's
 * buffer (autotuning, which a locked size stops), while a's client,
 * locked, keeps its sizes through 32 MiB sent to it.
 */
#include <sys/socket.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>

#include "workload.h"

#ifndef SO_BUF_LOCK
#define SO_BUF_LOCK	72
#endif

#define NSK		9
#define BULK		(32u << 20)

struct sk {
	const char *name;
	int fd;
	int rcv, snd, lock;	/* as noted after setup */
};

static struct sk sks[NSK] = {
	{ "a client" }, { "a server" }, { "b client" }, { "b server" },
	{ "c client" }, { "c server" }, { "d client" }, { "d server" },
	{ "udp" },
};

static void note(struct sk *s)
{
	s->rcv = wl_getint(s->fd, SOL_SOCKET, SO_RCVBUF);
	s->snd = wl_getint(s->fd, SOL_SOCKET, SO_SNDBUF);
	s->lock = wl_getint(s->fd, SOL_SOCKET, SO_BUF_LOCK);
}

static int listener(int family)
{
	struct sockaddr_in6 s6 = { .sin6_family = AF_INET6 };
	struct sockaddr_in s4 = { .sin_family = AF_INET };
	int fd = socket(family, SOCK_STREAM, 0), r;

	if (family == AF_INET) {
		s4.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		r = bind(fd, (struct sockaddr *)&s4, sizeof(s4));
	} else {
		s6.sin6_addr = in6addr_loopback;
		r = bind(fd, (struct sockaddr *)&s6, sizeof(s6));
	}
	if (fd < 0 || r || listen(fd, 4))
		wl_fail("listener: %s", strerror(errno));
	return fd;
}

/* A connection to l: the client (set up by the caller) and the server. */
static void connect_pair(int l, struct sk *c, struct sk *s)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);

	if (getsockname(l, (struct sockaddr *)&ss, &len) ||
	    connect(c->fd, (struct sockaddr *)&ss, len))
		wl_fail("connect %s: %s", c->name, strerror(errno));
	s->fd = accept(l, NULL, NULL);
	if (s->fd < 0)
		wl_fail("accept %s: %s", s->name, strerror(errno));
}

/* BULK bytes from one end to the other, read as they come. */
static void pump(int from, int to, const char *what)
{
	static char buf[1 << 16];
	uint64_t sent = 0, got = 0;
	struct pollfd p[2] = {
		{ .fd = from, .events = POLLOUT }, { .fd = to, .events = POLLIN },
	};
	ssize_t n;

	while (got < BULK) {
		if (poll(p, 2, 60000) <= 0)
			wl_fail("%s: stalled after %llu bytes", what,
				(unsigned long long)got);
		if (sent < BULK && (p[0].revents & POLLOUT)) {
			n = send(from, buf, sizeof(buf), MSG_DONTWAIT);
			if (n < 0 && errno != EAGAIN)
				wl_fail("%s: send: %s", what, strerror(errno));
			sent += n > 0 ? n : 0;
		}
		if (p[1].revents & POLLIN) {
			n = recv(to, buf, sizeof(buf), MSG_DONTWAIT);
			if (n <= 0 && !(n < 0 && errno == EAGAIN))
				wl_fail("%s: recv gave %zd", what, n);
			got += n > 0 ? n : 0;
		}
		p[0].events = sent < BULK ? POLLOUT : 0;
	}
}

static void setup(void)
{
	int l4 = listener(AF_INET), l6 = listener(AF_INET6), i;

	for (i = 0; i < 8; i += 2)
		sks[i].fd = socket(i == 4 ? AF_INET6 : AF_INET, SOCK_STREAM, 0);
	wl_setint(sks[0].fd, SOL_SOCKET, SO_RCVBUF, 100000);
	wl_setint(sks[0].fd, SOL_SOCKET, SO_SNDBUF, 150000);
	wl_setint(sks[4].fd, SOL_SOCKET, SO_SNDBUF, 70000);
	wl_setint(sks[4].fd, SOL_SOCKET, SO_BUF_LOCK, 0);
	connect_pair(l4, &sks[0], &sks[1]);
	connect_pair(l4, &sks[2], &sks[3]);
	connect_pair(l6, &sks[4], &sks[5]);
	connect_pair(l4, &sks[6], &sks[7]);
	wl_setint(sks[5].fd, SOL_SOCKET, SO_BUF_LOCK, 1);
	pump(sks[2].fd, sks[3].fd, "b before the dump");
	sks[8].fd = socket(AF_INET, SOCK_DGRAM, 0);
	wl_setint(sks[8].fd, SOL_SOCKET, SO_RCVBUF, 300000);
	close(l4);
	close(l6);
	for (i = 0; i < NSK; i++)
		note(&sks[i]);
	if (sks[0].lock != 3 || sks[1].lock || sks[4].lock ||
	    sks[5].lock != 1 || sks[8].lock != 2)
		wl_fail("SO_BUF_LOCK is not what was set: %d %d %d %d %d",
			sks[0].lock, sks[1].lock, sks[4].lock, sks[5].lock,
			sks[8].lock);
	if (sks[3].rcv <= sks[7].rcv)
		wl_fail("b's receive buffer did not grow: %d", sks[3].rcv);
}

/* A size setsockopt(2) can give: it doubles what it is given, so an odd
 * size the kernel had tuned comes back one byte smaller (ckpt(1)). */
static int settable(int size)
{
	return size & ~1;
}

static void check(void)
{
	struct sk now;
	int i, tuned;

	for (i = 0; i < NSK; i++) {
		now = sks[i];
		note(&now);
		if (now.rcv != settable(sks[i].rcv) ||
		    now.snd != settable(sks[i].snd) || now.lock != sks[i].lock)
			wl_fail("%s: rcvbuf %d sndbuf %d lock %d, were %d %d %d",
				sks[i].name, now.rcv, now.snd, now.lock,
				sks[i].rcv, sks[i].snd, sks[i].lock);
	}
	pump(sks[7].fd, sks[6].fd, "d");
	pump(sks[1].fd, sks[0].fd, "a");
	now = sks[6];
	note(&now);
	tuned = now.rcv;
	if (tuned <= sks[6].rcv)
		wl_fail("d's receive buffer stayed at %d: not tuned", tuned);
	now = sks[0];
	note(&now);
	if (now.rcv != sks[0].rcv || now.snd != sks[0].snd)
		wl_fail("a's client, locked, went from %d %d to %d %d",
			sks[0].rcv, sks[0].snd, now.rcv, now.snd);
	wl_info("tcpbuf: d's receive buffer %d -> %d", sks[6].rcv, tuned);
}

int main(void)
{
	wl_init();
	setup();
	wl_count_checked(check);
	return 0;
}
