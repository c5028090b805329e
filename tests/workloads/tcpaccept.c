/*
 * tcpaccept: a TCP server with connections it has not accepted yet.
 * It listens on loopback (IPv4, or IPv6 with "6"), then forks NCLIENT
 * clients one after the other: each connects, sends its message (its
 * number, then a pattern of its own, MSGLEN bytes: more than one of the
 * segments restore sends them back in) and waits for it to
 * come back. The server accepts none of them until D/restored exists:
 * at the dump all wait in its accept queue, their messages unread. Then
 * it accepts them: they must come in the order they connected, each
 * message whole and exact; it echoes each, and each client checks the
 * echo and creates D/client-N.ok. The server counts meanwhile (D/count)
 * and, at D/stop, requires every D/client-N.ok and a new connection of
 * its own accepted and answered (the listener carries on).
 *
 * `tcpaccept tree [6]`: the clients are the server's children (dumped
 * with it, --tree); it reaps them and wants each to exit 0. `tcpaccept
 * out [6]`: the same clients, but the dump takes the server alone: their
 * connections have their peer outside (--tcp-established).
 */
#include <sys/socket.h>
#include <sys/wait.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>

#include "workload.h"

#define NCLIENT	3
#define MSGLEN	40000

static int v6;
static int lsk = -1;	/* the listener, which clients close */

static void message(int n, uint8_t *buf)
{
	int i;

	for (i = 0; i < MSGLEN; i++)
		buf[i] = (uint8_t)(n * 77 + i * 13 + (i >> 8));
	buf[0] = (uint8_t)n;
}

static void send_all(int fd, const uint8_t *buf, size_t len)
{
	ssize_t n;

	for (; len; buf += n, len -= n) {
		n = send(fd, buf, len, MSG_NOSIGNAL);
		if (n < 0 && errno == EINTR) {
			n = 0;
			continue;
		}
		if (n <= 0)
			wl_fail("send: %s", n ? strerror(errno) : "nothing");
	}
}

static void recv_all(int fd, uint8_t *buf, size_t len, const char *who)
{
	ssize_t n;

	for (; len; buf += n, len -= n) {
		n = recv(fd, buf, len, 0);
		if (n < 0 && errno == EINTR) {
			n = 0;
			continue;
		}
		if (n <= 0)
			wl_fail("%s: recv: %s", who,
				n ? strerror(errno) : "end of stream");
	}
}

static socklen_t addr_of(int port, struct sockaddr_storage *ss)
{
	struct sockaddr_in *s4 = (void *)ss;
	struct sockaddr_in6 *s6 = (void *)ss;

	memset(ss, 0, sizeof(*ss));
	if (v6) {
		s6->sin6_family = AF_INET6;
		s6->sin6_addr = in6addr_loopback;
		s6->sin6_port = htons(port);
		return sizeof(*s6);
	}
	s4->sin_family = AF_INET;
	s4->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	s4->sin_port = htons(port);
	return sizeof(*s4);
}

static int connect_to(int port)
{
	struct sockaddr_storage ss;
	socklen_t l = addr_of(port, &ss);
	int fd = socket(v6 ? AF_INET6 : AF_INET, SOCK_STREAM, 0);

	if (fd < 0 || connect(fd, (struct sockaddr *)&ss, l))
		wl_fail("connect: %s", strerror(errno));
	return fd;
}

/* Client n: its message out, the echo back, D/client-n.ok. */
static void client(int n, int port)
{
	uint8_t want[MSGLEN], got[MSGLEN];
	char name[32];
	int fd;

	close(lsk);
	fd = connect_to(port);

	message(n, want);
	send_all(fd, want, MSGLEN);
	recv_all(fd, got, MSGLEN, "client");
	if (memcmp(want, got, MSGLEN))
		wl_fail("client %d: the echo differs from its message", n);
	snprintf(name, sizeof(name), "client-%d.ok", n);
	wl_write_file(name, "ok\n", 3);
	close(fd);
	_exit(0);
}

static uint32_t queued(int lsk)
{
	struct tcp_info ti;
	socklen_t l = sizeof(ti);

	memset(&ti, 0, sizeof(ti));
	if (getsockopt(lsk, IPPROTO_TCP, TCP_INFO, &ti, &l))
		wl_fail("TCP_INFO: %s", strerror(errno));
	return ti.tcpi_unacked;
}

/* Accept connection n: the next client's, its message exact; echo it. */
static void serve(int lsk, int n)
{
	uint8_t want[MSGLEN], got[MSGLEN];
	int c = accept(lsk, NULL, NULL);

	if (c < 0)
		wl_fail("accept: %s", strerror(errno));
	recv_all(c, got, MSGLEN, "server");
	if (got[0] != n)
		wl_fail("accept %d returned client %d's connection", n, got[0]);
	message(n, want);
	if (memcmp(want, got, MSGLEN))
		wl_fail("client %d's message came wrong", n);
	send_all(c, got, MSGLEN);
	close(c);
}

/* After the clients: the listener takes and answers a new connection. */
static void serve_new(int lsk, int port)
{
	pid_t pid = fork();
	int st;

	if (pid < 0)
		wl_fail("fork: %s", strerror(errno));
	if (!pid)
		client(NCLIENT, port);
	serve(lsk, NCLIENT);
	if (waitpid(pid, &st, 0) != pid || !WIFEXITED(st) || WEXITSTATUS(st))
		wl_fail("the new client failed (status %#x)", st);
}

static void wait_clients(void)
{
	char name[32];
	int n, tries;

	for (n = 0; n < NCLIENT; n++) {
		snprintf(name, sizeof(name), "client-%d.ok", n);
		for (tries = 0; !wl_exists(name) && tries < 3000; tries++)
			wl_sleep_ms(10);
		if (!wl_exists(name))
			wl_fail("client %d never got its echo", n);
	}
}

int main(int argc, char **argv)
{
	struct sockaddr_storage ss;
	socklen_t l;
	pid_t kids[NCLIENT];
	int port, n, st, tree, served = 0, cfd;
	unsigned long count = 0;

	wl_init();
	if (argc < 2)
		wl_fail("usage: tcpaccept tree|out [6]");
	tree = !strcmp(argv[1], "tree");
	v6 = argc > 2 && !strcmp(argv[2], "6");
	lsk = socket(v6 ? AF_INET6 : AF_INET, SOCK_STREAM, 0);
	l = addr_of(0, &ss);
	if (lsk < 0 || bind(lsk, (struct sockaddr *)&ss, l) ||
	    listen(lsk, 16))
		wl_fail("listener: %s", strerror(errno));
	l = sizeof(ss);
	getsockname(lsk, (struct sockaddr *)&ss, &l);
	port = ntohs(v6 ? ((struct sockaddr_in6 *)&ss)->sin6_port :
		     ((struct sockaddr_in *)&ss)->sin_port);
	for (n = 0; n < NCLIENT; n++) {
		kids[n] = fork();
		if (kids[n] < 0)
			wl_fail("fork: %s", strerror(errno));
		if (!kids[n])
			client(n, port);
		while (queued(lsk) != (uint32_t)n + 1)	/* in order */
			wl_sleep_ms(5);
	}
	cfd = wl_count_open();
	for (;;) {
		if (wl_restored() && !served) {
			for (n = 0; n < NCLIENT; n++)
				serve(lsk, n);
			served = 1;
		}
		if (wl_count_step(cfd, &count) && served)
			break;
		wl_sleep_ms(50);
	}
	wait_clients();
	for (n = 0; tree && n < NCLIENT; n++)
		if (waitpid(kids[n], &st, 0) != kids[n] || !WIFEXITED(st) ||
		    WEXITSTATUS(st))
			wl_fail("client %d failed (status %#x)", n, st);
	serve_new(lsk, port);
	return 0;
}
