/*
 * Netlink sockets in the tree's file table (dump-sockets.c found them):
 * the protocol, the port id it is bound to, the groups it listens to
 * (NETLINK_LIST_MEMBERSHIPS: getsockname only says the first 32), where
 * it is connected, its SOL_NETLINK flags and buffer sizes.
 *
 * The messages queued in it are not taken: restore binds a new socket,
 * which gets what the kernel sends from then on, and no message can be
 * made to come from the kernel: a socket with messages queued is
 * refused. Letting them go would lose a reply its program waits for, or
 * notifications without the ENOBUFS by which the kernel tells a program
 * that it dropped some (netlink has no peek offset, so which of the two
 * they are can't be told past the first). Only the
 * protocols whose sockets hold nothing else are kept: routing, generic,
 * uevents and sock_diag; the others (audit, netfilter ...) keep state in
 * the kernel that a new socket would not have, and are refused.
 */
#include <sys/socket.h>
#include <linux/netlink.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ckpt/dump-priv.h"

static const int nl_opts[] = {
	NETLINK_PKTINFO, NETLINK_BROADCAST_ERROR, NETLINK_NO_ENOBUFS,
	NETLINK_LISTEN_ALL_NSID, NETLINK_CAP_ACK, NETLINK_EXT_ACK,
	NETLINK_GET_STRICT_CHK,
};

static int get_int(int sk, int level, int opt, int *v)
{
	socklen_t l = sizeof(*v);

	return getsockopt(sk, level, opt, v, &l);
}

/* The groups it listens to; -1 when one is beyond what the image has. */
static int read_groups(struct img_netlink *nl, int sk)
{
	uint32_t g[64] = { 0 };
	socklen_t l = sizeof(g);
	size_t i, n;

	if (getsockopt(sk, SOL_NETLINK, NETLINK_LIST_MEMBERSHIPS, g, &l))
		return 0;	/* none */
	n = l / sizeof(g[0]);
	if (n > ARRAY_SIZE(g))
		return -1;
	for (i = 0; i < n; i++) {
		if (i >= 2 * IMG_NL_GROUP_WORDS && g[i])
			return -1;
		if (i < 2 * IMG_NL_GROUP_WORDS)
			nl->groups[i / 2] |= (uint64_t)g[i] << (32 * (i % 2));
	}
	return 0;
}

/* Buffer sizes that differ from those of fresh, a new socket. */
static void read_bufs(struct img_netlink *nl, int sk, int fresh)
{
	int v, d;

	if (!get_int(sk, SOL_SOCKET, SO_RCVBUF, &v) &&
	    !get_int(fresh, SOL_SOCKET, SO_RCVBUF, &d) && v != d &&
	    v <= (int)IMG_MAX_SOCKBUF)
		nl->rcvbuf = v;
	if (!get_int(sk, SOL_SOCKET, SO_SNDBUF, &v) &&
	    !get_int(fresh, SOL_SOCKET, SO_SNDBUF, &d) && v != d &&
	    v <= (int)IMG_MAX_SOCKBUF)
		nl->sndbuf = v;
}

/* Why sk can't be kept for what is queued in it (above), or NULL */
static const char *queue_why(int sk)
{
	struct pollfd p = { .fd = sk, .events = POLLIN };

	if (poll(&p, 1, 0) != 1 || !(p.revents & POLLIN))
		return NULL;
	return "with messages queued that it has not read (a reply, or notifications of its groups): restore can't make the kernel send them again";
}

static const char *fill(struct img_netlink *nl, int sk)
{
	struct sockaddr_nl a;
	socklen_t l = sizeof(a);
	size_t i;
	int v, fresh;

	memset(&a, 0, sizeof(a));
	if (getsockname(sk, (struct sockaddr *)&a, &l))
		return "without a name";
	nl->portid = a.nl_pid;
	if (read_groups(nl, sk))
		return "listening to a group above 256";
	l = sizeof(a);
	memset(&a, 0, sizeof(a));
	if (!getpeername(sk, (struct sockaddr *)&a, &l)) {
		nl->dst_portid = a.nl_pid;
		nl->dst_group = a.nl_groups;
	}
	for (i = 0; i < ARRAY_SIZE(nl_opts); i++)
		if (!get_int(sk, SOL_NETLINK, nl_opts[i], &v) && v)
			nl->opts |= 1u << nl_opts[i];
	fresh = socket(AF_NETLINK, nl->type | SOCK_CLOEXEC, nl->protocol);
	if (fresh < 0)
		return "of a kind ckpt can't make";
	read_bufs(nl, sk, fresh);
	close(fresh);
	return queue_why(sk);
}

int dump_netlink_probe(struct dump_file *df, int sk)
{
	struct img_netlink nl;
	const char *why = NULL;
	int proto = -1, type = 0;

	memset(&nl, 0, sizeof(nl));
	get_int(sk, SOL_SOCKET, SO_PROTOCOL, &proto);
	get_int(sk, SOL_SOCKET, SO_TYPE, &type);
	nl.protocol = proto;
	nl.type = type;
	if (proto != NETLINK_ROUTE && proto != NETLINK_SOCK_DIAG &&
	    proto != NETLINK_KOBJECT_UEVENT && proto != NETLINK_GENERIC)
		why = "of a protocol whose state is not kept";
	if (!why)
		why = fill(&nl, sk);
	if (why) {
		dump_set_why(df, "socket:[%llu] is a netlink socket (protocol %d) %s, which is not supported",
			     (unsigned long long)df->f.ino, proto, why);
		return 0;
	}
	df->f.kind = IMG_FILE_NETLINK;
	df->f.nl = nl;
	return 0;
}
