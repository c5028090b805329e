/*
 * udpecho.c - UDP echo pairs, IPv4 and IPv6, with datagrams queued both
 * ways at any moment (so at the dump).
 *
 * A client socket sends numbered datagrams to an echo socket (at most
 * WINDOW not echoed back yet, so that none is dropped for room); the
 * echo socket sends each back to its sender as it reads it, and the
 * client reads the echoes; each reads only a few a round, so that both
 * queues hold some. Every datagram read must be the next number from
 * the right sender: none lost, none doubled, none out of order. On
 * D/stop both drain, and the client must have every number back once.
 * The IPv4 pair is on 127.0.0.1, the IPv6 one on [::1].
 */
#include <sys/socket.h>
#include <arpa/inet.h>
#include <netinet/in.h>

#include "workload.h"

#define WINDOW	48

struct pair {
	int c, e;			/* client, echo */
	struct sockaddr_storage ca, ea;	/* their addresses */
	socklen_t len;
	unsigned long long sent, echoed, back;
	const char *name;
};

static void bind_at(int fd, int family, struct sockaddr_storage *a,
		    socklen_t *len)
{
	struct sockaddr_in *a4 = (struct sockaddr_in *)a;
	struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)a;

	memset(a, 0, sizeof(*a));
	a->ss_family = family;
	if (family == AF_INET)
		a4->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	else
		a6->sin6_addr = in6addr_loopback;
	*len = family == AF_INET ? sizeof(*a4) : sizeof(*a6);
	if (bind(fd, (struct sockaddr *)a, *len) ||
	    getsockname(fd, (struct sockaddr *)a, len))
		wl_fail("bind: %s", strerror(errno));
}

static void make(struct pair *p, int family, const char *name)
{
	p->c = socket(family, SOCK_DGRAM, 0);
	p->e = socket(family, SOCK_DGRAM, 0);
	if (p->c < 0 || p->e < 0)
		wl_fail("socket: %s", strerror(errno));
	p->name = name;
	bind_at(p->c, family, &p->ca, &p->len);
	bind_at(p->e, family, &p->ea, &p->len);
}

/* The next datagram on fd, if any: its number, from *from (len bytes);
 * 0 when none is queued. */
static int next(struct pair *p, int fd, const struct sockaddr_storage *from,
		unsigned long long want, const char *what)
{
	struct sockaddr_storage a;
	socklen_t l = sizeof(a);
	char m[32], w[32];
	ssize_t n = recvfrom(fd, m, sizeof(m) - 1, MSG_DONTWAIT,
			     (struct sockaddr *)&a, &l);

	if (n < 0 && errno == EAGAIN)
		return 0;
	if (n < 0)
		wl_fail("%s %s: recvfrom: %s", p->name, what, strerror(errno));
	m[n] = '\0';
	snprintf(w, sizeof(w), "n%llu", want);
	if (strcmp(m, w) || l != p->len || memcmp(&a, from, l))
		wl_fail("%s %s: got '%s'%s, want '%s'", p->name, what, m,
			l != p->len || memcmp(&a, from, l) ?
			" from another sender" : "", w);
	return 1;
}

static void send_num(struct pair *p, int fd, const struct sockaddr_storage *to,
		     unsigned long long v)
{
	char m[32];
	int len = snprintf(m, sizeof(m), "n%llu", v);

	if (sendto(fd, m, len, 0, (const struct sockaddr *)to, p->len) != len)
		wl_fail("%s: sendto: %s", p->name, strerror(errno));
}

/* One round: the client fills the window, the echo socket and the
 * client each read up to max. */
static void round_of(struct pair *p, int max, int send_more)
{
	int k;

	while (send_more && p->sent - p->back < WINDOW)
		send_num(p, p->c, &p->ea, p->sent++);
	for (k = 0; k < max && next(p, p->e, &p->ca, p->echoed, "echo"); k++)
		send_num(p, p->e, &p->ca, p->echoed++);
	for (k = 0; k < max && next(p, p->c, &p->ea, p->back, "client"); k++)
		p->back++;
}

int main(void)
{
	static struct pair p4, p6;
	unsigned long n = 0;
	int cfd, guard;

	wl_init();
	make(&p4, AF_INET, "IPv4");
	make(&p6, AF_INET6, "IPv6");
	cfd = wl_count_open();
	do {
		round_of(&p4, 5, 1);
		round_of(&p6, 5, 1);
		wl_sleep_ms(2);
	} while (!wl_count_step(cfd, &n));
	for (guard = 0; guard < 5000 && (p4.back < p4.sent ||
					 p6.back < p6.sent); guard++) {
		round_of(&p4, 1 << 20, 0);
		round_of(&p6, 1 << 20, 0);
		wl_sleep_ms(1);
	}
	if (p4.back != p4.sent || p6.back != p6.sent)
		wl_fail("echoes back: %llu of %llu (IPv4), %llu of %llu (IPv6)",
			p4.back, p4.sent, p6.back, p6.sent);
	wl_info("udpecho: %llu and %llu datagrams echoed", p4.sent, p6.sent);
	return 0;
}
