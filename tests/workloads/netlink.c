/*
 * netlink.c - netlink sockets:
 *   3  rt   routing, bound with the port id the kernel chose (the PID),
 *           listening to groups below and above 32, with flags and a
 *           receive buffer size set
 *   4  un   routing, datagram type, not bound
 *   5  ge   generic, bound to a port id of our choosing
 * On D/stop each has its port id, groups, flags and buffer size again,
 * and rt answers a dump of the links (RTM_GETLINK) with at least one.
 */
#include <sys/socket.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>

#include "workload.h"

#define RCVBUF		300000
#define SEQ		4242

struct nl {
	int rt, un, ge;
	uint32_t rt_port, ge_port;
	uint32_t groups[4];
	int rcvbuf;
};

static uint32_t port_of(int fd)
{
	struct sockaddr_nl a;
	socklen_t l = sizeof(a);

	memset(&a, 0, sizeof(a));
	if (getsockname(fd, (struct sockaddr *)&a, &l))
		wl_fail("getsockname: %s", strerror(errno));
	return a.nl_pid;
}

static void groups_of(int fd, uint32_t g[4])
{
	socklen_t l = 4 * sizeof(g[0]);

	memset(g, 0, l);
	if (getsockopt(fd, SOL_NETLINK, NETLINK_LIST_MEMBERSHIPS, g, &l))
		wl_fail("NETLINK_LIST_MEMBERSHIPS: %s", strerror(errno));
}

static int nl_socket(int type, int proto, int want)
{
	int fd = socket(AF_NETLINK, type, proto);

	if (fd != want)
		wl_fail("netlink socket on %d, want %d (%s)", fd, want,
			strerror(errno));
	return fd;
}

static void nl_bind(int fd, uint32_t pid, uint32_t groups)
{
	struct sockaddr_nl a = { .nl_family = AF_NETLINK, .nl_pid = pid,
				 .nl_groups = groups };

	if (bind(fd, (struct sockaddr *)&a, sizeof(a)))
		wl_fail("bind netlink: %s", strerror(errno));
}

static void setup(struct nl *n)
{
	n->rt = nl_socket(SOCK_RAW, NETLINK_ROUTE, 3);
	wl_setint(n->rt, SOL_SOCKET, SO_RCVBUF, RCVBUF);
	wl_setint(n->rt, SOL_NETLINK, NETLINK_NO_ENOBUFS, 1);
	wl_setint(n->rt, SOL_NETLINK, NETLINK_EXT_ACK, 1);
	nl_bind(n->rt, 0, RTMGRP_LINK | RTMGRP_IPV4_IFADDR);
	wl_setint(n->rt, SOL_NETLINK, NETLINK_ADD_MEMBERSHIP,
		  RTNLGRP_NEXTHOP);
	wl_setint(n->rt, SOL_NETLINK, NETLINK_ADD_MEMBERSHIP, RTNLGRP_BRVLAN);
	n->un = nl_socket(SOCK_DGRAM, NETLINK_ROUTE, 4);
	n->ge = nl_socket(SOCK_RAW, NETLINK_GENERIC, 5);
	n->ge_port = 0x70000000u + (uint32_t)getpid();
	nl_bind(n->ge, n->ge_port, 0);
	n->rt_port = port_of(n->rt);
	groups_of(n->rt, n->groups);
	n->rcvbuf = wl_getint(n->rt, SOL_SOCKET, SO_RCVBUF);
	if (n->rt_port != (uint32_t)getpid() || !(n->groups[1] & 3))
		wl_fail("rt: port id %u, groups %#x %#x", n->rt_port,
			n->groups[0], n->groups[1]);
}

/* Multicast messages that came meanwhile are of no interest here. */
static void drain(int fd)
{
	char buf[8192];

	while (recv(fd, buf, sizeof(buf), MSG_DONTWAIT) > 0)
		;
}

/* The links, dumped: 1 when at least one came before NLMSG_DONE. */
static int dump_links(int fd)
{
	struct {
		struct nlmsghdr h;
		struct ifinfomsg i;
	} req = {
		.h = { .nlmsg_len = sizeof(req), .nlmsg_type = RTM_GETLINK,
		       .nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP,
		       .nlmsg_seq = SEQ },
		.i = { .ifi_family = AF_UNSPEC },
	};
	static char buf[65536];
	struct nlmsghdr *h;
	int links = 0;
	ssize_t n;

	if (send(fd, &req, sizeof(req), 0) != sizeof(req))
		wl_fail("RTM_GETLINK: %s", strerror(errno));
	for (;;) {
		n = recv(fd, buf, sizeof(buf), 0);
		if (n <= 0)
			wl_fail("rt: recv: %s", strerror(errno));
		for (h = (void *)buf; NLMSG_OK(h, n); h = NLMSG_NEXT(h, n)) {
			if (h->nlmsg_seq != SEQ)
				continue;	/* a multicast one */
			if (h->nlmsg_type == NLMSG_DONE)
				return links > 0;
			if (h->nlmsg_type == NLMSG_ERROR)
				wl_fail("RTM_GETLINK: an error");
			links += h->nlmsg_type == RTM_NEWLINK;
		}
	}
}

static void check(struct nl *n)
{
	uint32_t g[4];

	groups_of(n->rt, g);
	if (port_of(n->rt) != n->rt_port || memcmp(g, n->groups, sizeof(g)))
		wl_fail("rt: port id %u groups %#x %#x, want %u %#x %#x",
			port_of(n->rt), g[0], g[1], n->rt_port, n->groups[0],
			n->groups[1]);
	if (wl_getint(n->rt, SOL_NETLINK, NETLINK_NO_ENOBUFS) != 1 ||
	    wl_getint(n->rt, SOL_NETLINK, NETLINK_EXT_ACK) != 1 ||
	    wl_getint(n->rt, SOL_SOCKET, SO_RCVBUF) != n->rcvbuf)
		wl_fail("rt: a flag or its buffer size lost");
	if (port_of(n->un) != 0 ||
	    wl_getint(n->un, SOL_SOCKET, SO_TYPE) != SOCK_DGRAM)
		wl_fail("un: bound to %u, or not a datagram socket",
			port_of(n->un));
	if (port_of(n->ge) != n->ge_port ||
	    wl_getint(n->ge, SOL_SOCKET, SO_PROTOCOL) != NETLINK_GENERIC)
		wl_fail("ge: port id %u, want %u", port_of(n->ge), n->ge_port);
	drain(n->rt);
	if (!dump_links(n->rt))
		wl_fail("rt: no link in the dump");
}

int main(void)
{
	struct nl n;
	unsigned long i = 0;
	int cfd;

	wl_init();
	setup(&n);
	cfd = wl_count_open();
	do {
		drain(n.rt);
		wl_sleep_ms(10);
	} while (!wl_count_step(cfd, &i));
	check(&n);
	return 0;
}
