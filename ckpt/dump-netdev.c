/*
 * The tree's own network namespace (the root's, which every process of
 * the tree shares; dump-ns.c refuses any other). ckpt enters it
 * (setns(2)) for as long as the tree is frozen: the sock_diag queries of
 * the socket dump, the TCP queues and the network lock then see the
 * tree's sockets, and rtnetlink its devices. ckpt's image sink and its
 * other sockets were made before, in its own namespace, and stay there.
 *
 * What restore makes again (NETDEV and ROUTE records, image.h): the
 * loopback, veth devices whose peer is in ckpt's namespace (the "host"
 * end) and macvlans whose lower device is there (its mode and flags),
 * bridges and their ports (dump-bridge.c), tun and tap devices
 * (dump-tun.c), with their MAC, MTU, up flag and permanent addresses;
 * veth pairs inside the namespace, routes of the main table the kernel
 * did not make from an address. The
 * rest is refused, naming the process and the object: other kinds of
 * device (ipvlan, vxlan, a veth whose peer or a macvlan whose lower
 * device is elsewhere, a device enslaved to another than a bridge),
 * routes in other tables or of other types, nftables tables and
 * iptables rules inside. Its sysctls are dump-netsysctl.c's.
 */
#include <sys/socket.h>
#include <sys/stat.h>
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/if.h>
#include <linux/if_arp.h>
#include <linux/if_link.h>
#include <linux/net_namespace.h>
#include <linux/fib_rules.h>
#include <linux/neighbour.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ckpt/dump-priv.h"
#include "util/rtnl.h"

struct dump_devx {
	uint32_t master;	/* IFLA_MASTER, or 0 */
	uint32_t peer;		/* a veth pair inside: the peer's index */
	uint32_t queues;	/* a tun's IFLA_TUN_NUM_QUEUES */
	uint32_t fds;		/* TUN FILEs of the tree on it */
};

struct dump_net {
	int back;		/* ckpt's own namespace */
	int host;		/* an rtnetlink socket there */
	int rtnl;		/* one in the tree's */
	pid_t root;
	uint64_t ino, home;	/* the tree's namespace, ckpt's own */
	int err;		/* a refusal said while walking a dump */
	struct img_netdev *devs;
	struct dump_devx *x;	/* what ckpt keeps of each of devs */
	uint32_t nr_devs;
	struct img_route *routes;
	uint32_t nr_routes;
};

static uint64_t net_ino(const char *path)
{
	struct stat st;

	return stat(path, &st) ? 0 : st.st_ino;
}

static void free_net(struct dump_net *n)
{
	uint32_t i;

	for (i = 0; i < n->nr_devs; i++)
		img_netdev_free(&n->devs[i]);
	free(n->devs);
	free(n->x);
	free(n->routes);
	if (n->back >= 0)
		close(n->back);
	if (n->host >= 0)
		close(n->host);
	if (n->rtnl >= 0)
		close(n->rtnl);
	free(n);
}

int dump_net_enter(struct dump_tree *t)
{
	pid_t root = t->procs[0].pid;
	struct dump_net *n;
	char path[64];
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/ns/net", root);
	if (t->net || net_ino(path) == net_ino("/proc/self/ns/net"))
		return 0;
	n = calloc(1, sizeof(*n));
	if (!n)
		return -1;
	n->back = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
	n->host = rtnl_open();
	n->rtnl = -1;
	n->root = root;
	n->ino = net_ino(path);
	n->home = net_ino("/proc/self/ns/net");
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (n->back < 0 || n->host < 0 || fd < 0 || setns(fd, CLONE_NEWNET)) {
		pr_perror("can't enter the network namespace of %d", root);
		if (fd >= 0)
			close(fd);
		free_net(n);
		return -1;
	}
	close(fd);
	t->net = n;
	return 0;
}

uint64_t dump_net_home(const struct dump_tree *t)
{
	return t->net ? t->net->home : 0;
}

void dump_net_leave(struct dump_tree *t)
{
	if (!t->net || t->net->back < 0)
		return;
	if (setns(t->net->back, CLONE_NEWNET)) {
		pr_perror("can't go back to ckpt's network namespace");
		abort();	/* ckpt would go on in the tree's */
	}
	close(t->net->back);
	t->net->back = -1;
}

void dump_free_net(struct dump_tree *t)
{
	dump_bridge_done();
	dump_net_leave(t);
	if (t->net)
		free_net(t->net);
	t->net = NULL;
}

static int refuse_dev(struct dump_net *n, const char *name, const char *why)
{
	pr_err("can't dump %d: its network namespace net:[%llu] has device %s, %s, which is not supported yet",
	       n->root, (unsigned long long)n->ino, name, why);
	n->err = 1;
	return -1;
}

static const char *str_attr(const struct rtattr *a)
{
	if (!a || !RTA_PAYLOAD(a) ||
	    ((const char *)RTA_DATA(a))[RTA_PAYLOAD(a) - 1])
		return NULL;
	return RTA_DATA(a);
}

static uint32_t u32_attr(const struct rtattr *a)
{
	uint32_t v = 0;

	if (a && RTA_PAYLOAD(a) >= 4)
		memcpy(&v, RTA_DATA(a), 4);
	return v;
}

/* The kind of a device from its IFLA_LINKINFO, or "" */
static const char *link_kind(const struct rtattr *info)
{
	const struct rtattr *tb[IFLA_INFO_MAX + 1];
	const char *k;

	if (!info)
		return "";
	rtnl_nested(info, tb, IFLA_INFO_MAX);
	k = str_attr(tb[IFLA_INFO_KIND]);
	return k ? k : "";
}

/* The fallback tunnels the kernel makes in every namespace when their
 * module is loaded (sit0, ...): made again by the kernel, if down */
static int kernel_made(const char *name, const struct ifinfomsg *ifi)
{
	static const char *const fallback[] = {
		"tunl0", "sit0", "ip6tnl0", "gre0", "gretap0", "erspan0",
		"ip_vti0", "ip6_vti0", "ip6gre0", "ip6erspan0",
	};
	size_t i;

	for (i = 0; i < ARRAY_SIZE(fallback); i++)
		if (!strcmp(name, fallback[i]))
			return !(ifi->ifi_flags & IFF_UP);
	return 0;
}

struct peer_q {
	int index, peer_of;	/* the host's device index; its peer's */
	char name[IFNAMSIZ];
	int found;
};

/* h's device name if it is the device of index (its attributes in tb),
 * else NULL */
static const char *name_of(const struct nlmsghdr *h, int index,
			   const struct rtattr **tb)
{
	const struct ifinfomsg *ifi = NLMSG_DATA(h);

	if (h->nlmsg_type != RTM_NEWLINK || ifi->ifi_index != index)
		return NULL;
	rtnl_attrs(h, sizeof(*ifi), tb, IFLA_MAX);
	return str_attr(tb[IFLA_IFNAME]);
}

static int peer_msg(const struct nlmsghdr *h, void *arg)
{
	const struct rtattr *tb[IFLA_MAX + 1];
	struct peer_q *q = arg;
	const char *name = name_of(h, q->index, tb);

	if (!name || strcmp(link_kind(tb[IFLA_LINKINFO]), "veth") ||
	    !tb[IFLA_LINK_NETNSID] || (int)u32_attr(tb[IFLA_LINK]) != q->peer_of)
		return 0;
	snprintf(q->name, sizeof(q->name), "%s", name);
	q->found = 1;
	return 1;
}

/* The name of the veth peer of dev (index, IFLA_LINK peer) in ckpt's
 * own namespace, in out; -1 when it is not there */
static int host_peer(struct dump_net *n, int index, int peer, char *out)
{
	struct peer_q q = { .index = peer, .peer_of = index };

	if (rtnl_dump(n->host, RTM_GETLINK, AF_UNSPEC, peer_msg, &q) < 0 ||
	    !q.found)
		return -1;
	memcpy(out, q.name, IFNAMSIZ);
	return 0;
}

static struct img_netdev *find_dev(struct dump_net *n, uint32_t index)
{
	uint32_t i;

	for (i = 0; i < n->nr_devs; i++)
		if (n->devs[i].index == index)
			return &n->devs[i];
	return NULL;
}

static int add_dev(struct dump_net *n, const struct ifinfomsg *ifi,
		   const struct rtattr **tb, uint32_t kind, const char *peer)
{
	struct img_netdev *d = realloc(n->devs, (n->nr_devs + 1) * sizeof(*d));
	struct dump_devx *x;
	const struct rtattr *mac = tb[IFLA_ADDRESS];

	if (!d)
		return -1;
	n->devs = d;
	x = realloc(n->x, (n->nr_devs + 1) * sizeof(*x));
	if (!x)
		return -1;
	n->x = x;
	memset(&x[n->nr_devs], 0, sizeof(*x));
	x[n->nr_devs].master = u32_attr(tb[IFLA_MASTER]);
	d = &n->devs[n->nr_devs++];
	memset(d, 0, sizeof(*d));
	d->index = ifi->ifi_index;
	d->kind = kind;
	d->up = !!(ifi->ifi_flags & IFF_UP);
	d->mtu = u32_attr(tb[IFLA_MTU]);
	if (mac && RTA_PAYLOAD(mac) <= IMG_MAX_MAC) {
		d->mac_len = RTA_PAYLOAD(mac);
		memcpy(d->mac, RTA_DATA(mac), d->mac_len);
	}
	d->name = strdup(str_attr(tb[IFLA_IFNAME]));
	d->peer = peer ? strdup(peer) : NULL;
	return d->name && (!peer || d->peer) ? 0 : -1;
}

/* IFLA_MACVLAN_BC_CUTOFF (Linux 6.4), past Debian 12's headers */
#define MACVLAN_BC_CUTOFF	9

struct name_q {
	int index;
	char name[IFNAMSIZ];
	int found;
};

static int name_msg(const struct nlmsghdr *h, void *arg)
{
	const struct rtattr *tb[IFLA_MAX + 1];
	struct name_q *q = arg;
	const char *name = name_of(h, q->index, tb);

	if (!name)
		return 0;
	snprintf(q->name, sizeof(q->name), "%s", name);
	q->found = 1;
	return 1;
}

static void nsid_msg(const struct nlmsghdr *h, void *arg)
{
	const struct rtattr *tb[NETNSA_MAX + 1];

	if (h->nlmsg_type != RTM_NEWNSID)
		return;
	rtnl_attrs(h, sizeof(struct rtgenmsg), tb, NETNSA_MAX);
	if (tb[NETNSA_NSID])
		*(int *)arg = (int)u32_attr(tb[NETNSA_NSID]);
}

/* A macvlan's lower device (link, in the namespace link_nsid names from
 * the tree's): its name in ckpt's namespace, in out; -1 when
 * it is in another */
static int host_lower(struct dump_net *n, const struct rtattr **tb,
		      char *out)
{
	struct rtgenmsg g = { .rtgen_family = AF_UNSPEC };
	struct name_q q = { .index = (int)u32_attr(tb[IFLA_LINK]) };
	struct rtnl_req r;
	int id = -1, fd, asked;

	if (!tb[IFLA_LINK] || !tb[IFLA_LINK_NETNSID])
		return -1;
	/* a socket of its own: n->rtnl is in the middle of a dump (we are
	 * in the tree's namespace) */
	fd = rtnl_open();
	if (fd < 0)
		return -1;
	rtnl_begin(&r, RTM_GETNSID, 0, &g, sizeof(g));
	rtnl_put(&r, NETNSA_FD, &n->back, 4);
	asked = rtnl_ask(fd, &r, nsid_msg, &id);
	close(fd);
	if (asked || id < 0 ||
	    id != (int)u32_attr(tb[IFLA_LINK_NETNSID]) ||
	    rtnl_dump(n->host, RTM_GETLINK, AF_UNSPEC, name_msg, &q) < 0 ||
	    !q.found)
		return -1;
	memcpy(out, q.name, IFNAMSIZ);
	return 0;
}

/* A macvlan: its mode and flags, what restore can't set refused (source
 * mode, broadcast tunables changed) */
static int add_macvlan(struct dump_net *n, const struct ifinfomsg *ifi,
		       const struct rtattr **tb)
{
	const struct rtattr *info[IFLA_INFO_MAX + 1];
	const struct rtattr *m[MACVLAN_BC_CUTOFF + 1];
	const char *name = str_attr(tb[IFLA_IFNAME]);
	char lower[IFNAMSIZ], why[96];
	struct img_netdev *d;
	uint32_t mode, flags;

	if (host_lower(n, tb, lower))
		return refuse_dev(n, name, "a macvlan whose lower device is not in ckpt's network namespace");
	rtnl_nested(tb[IFLA_LINKINFO], info, IFLA_INFO_MAX);
	if (!info[IFLA_INFO_DATA])
		return refuse_dev(n, name, "a macvlan without its settings");
	rtnl_nested(info[IFLA_INFO_DATA], m, MACVLAN_BC_CUTOFF);
	mode = m[IFLA_MACVLAN_MODE] ? u32_attr(m[IFLA_MACVLAN_MODE]) : 0;
	flags = m[IFLA_MACVLAN_FLAGS] && RTA_PAYLOAD(m[IFLA_MACVLAN_FLAGS]) >= 2 ?
		*(const uint16_t *)RTA_DATA(m[IFLA_MACVLAN_FLAGS]) : 0;
	if ((m[IFLA_MACVLAN_BC_QUEUE_LEN] &&
	     u32_attr(m[IFLA_MACVLAN_BC_QUEUE_LEN]) != 1000) ||
	    (m[MACVLAN_BC_CUTOFF] && u32_attr(m[MACVLAN_BC_CUTOFF]) != 1))
		return refuse_dev(n, name, "a macvlan whose broadcast queue or cutoff was changed");
	if ((mode != MACVLAN_MODE_PRIVATE && mode != MACVLAN_MODE_VEPA &&
	     mode != MACVLAN_MODE_BRIDGE && mode != MACVLAN_MODE_PASSTHRU) ||
	    (flags & ~3u)) {
		snprintf(why, sizeof(why), "a macvlan of mode %u (source: 16) and flags %#x",
			 mode, flags);
		return refuse_dev(n, name, why);
	}
	if (add_dev(n, ifi, tb, IMG_NETDEV_MACVLAN, lower))
		return -1;
	d = &n->devs[n->nr_devs - 1];
	d->mode = mode;
	d->flags = flags;
	return 0;
}

static int add_bridge(struct dump_net *n, const struct ifinfomsg *ifi,
		      const struct rtattr **tb)
{
	const struct rtattr *info[IFLA_INFO_MAX + 1];
	const char *name = str_attr(tb[IFLA_IFNAME]);
	char why[160];
	int r;

	rtnl_nested(tb[IFLA_LINKINFO], info, IFLA_INFO_MAX);
	if (add_dev(n, ifi, tb, IMG_NETDEV_BRIDGE, NULL))
		return -1;
	r = dump_bridge_settings(n->root, info[IFLA_INFO_DATA],
				 &n->devs[n->nr_devs - 1], why, sizeof(why));
	if (r < 0)
		n->err = 1;	/* said */
	return r > 0 ? refuse_dev(n, name, why) : r;
}

static int add_tun(struct dump_net *n, const struct ifinfomsg *ifi,
		   const struct rtattr **tb)
{
	const char *name = str_attr(tb[IFLA_IFNAME]);
	char why[160];
	int r;

	if (add_dev(n, ifi, tb, IMG_NETDEV_TUN, NULL))
		return -1;
	r = dump_tun_dev(tb, ifi->ifi_type, !!(ifi->ifi_flags & IFF_UP),
			 &n->devs[n->nr_devs - 1],
			 &n->x[n->nr_devs - 1].queues, why, sizeof(why));
	if (r < 0)
		n->err = 1;	/* said */
	return r > 0 ? refuse_dev(n, name, why) : r;
}

static int link_msg(const struct nlmsghdr *h, void *arg)
{
	const struct ifinfomsg *ifi = NLMSG_DATA(h);
	const struct rtattr *tb[IFLA_MAX + 1];
	struct dump_net *n = arg;
	char peer[IFNAMSIZ], why[64];
	const char *name, *kind;

	if (h->nlmsg_type != RTM_NEWLINK)
		return 0;
	rtnl_attrs(h, sizeof(*ifi), tb, IFLA_MAX);
	name = str_attr(tb[IFLA_IFNAME]);
	if (!name)
		return refuse_dev(n, "?", "without a name");
	kind = link_kind(tb[IFLA_LINKINFO]);
	if (ifi->ifi_type == ARPHRD_LOOPBACK && !strcmp(name, "lo"))
		return add_dev(n, ifi, tb, IMG_NETDEV_LO, NULL);
	if (kernel_made(name, ifi))
		return 0;
	if (!strcmp(kind, "macvlan"))
		return add_macvlan(n, ifi, tb);
	if (!strcmp(kind, "bridge"))
		return add_bridge(n, ifi, tb);
	if (!strcmp(kind, "tun"))
		return add_tun(n, ifi, tb);
	if (strcmp(kind, "veth")) {
		snprintf(why, sizeof(why), "of kind %s", kind[0] ? kind : "none (a physical device?)");
		return refuse_dev(n, name, why);
	}
	if (!tb[IFLA_LINK_NETNSID] && tb[IFLA_LINK]) {
		/* the peer in this namespace too: named by find_inner() */
		if (add_dev(n, ifi, tb, IMG_NETDEV_VETH, NULL))
			return -1;
		n->devs[n->nr_devs - 1].inner = 1;
		n->x[n->nr_devs - 1].peer = u32_attr(tb[IFLA_LINK]);
		return 0;
	}
	if (!tb[IFLA_LINK_NETNSID] ||
	    host_peer(n, ifi->ifi_index, u32_attr(tb[IFLA_LINK]), peer))
		return refuse_dev(n, name, "a veth whose peer is neither in ckpt's network namespace nor in this one");
	return add_dev(n, ifi, tb, IMG_NETDEV_VETH, peer);
}

static int refuse_addr(struct dump_net *n, const struct img_netdev *d,
		       const struct ifaddrmsg *ifa, const struct rtattr *a,
		       const char *why)
{
	char s[INET6_ADDRSTRLEN] = "?";

	inet_ntop(ifa->ifa_family, RTA_DATA(a), s, sizeof(s));
	pr_err("can't dump %d: its network namespace net:[%llu] has address %s/%u on %s %s, which is not supported yet",
	       n->root, (unsigned long long)n->ino, s, ifa->ifa_prefixlen,
	       d->name, why);
	n->err = 1;
	return -1;
}

static int addr_msg(const struct nlmsghdr *h, void *arg)
{
	const struct ifaddrmsg *ifa = NLMSG_DATA(h);
	const struct rtattr *tb[IFA_MAX + 1], *a;
	struct dump_net *n = arg;
	struct img_netaddr *na;
	struct img_netdev *d;
	uint32_t flags;

	if (h->nlmsg_type != RTM_NEWADDR ||
	    (ifa->ifa_family != AF_INET && ifa->ifa_family != AF_INET6))
		return 0;
	rtnl_attrs(h, sizeof(*ifa), tb, IFA_MAX);
	flags = tb[IFA_FLAGS] ? u32_attr(tb[IFA_FLAGS]) : ifa->ifa_flags;
	a = tb[IFA_LOCAL] ? tb[IFA_LOCAL] : tb[IFA_ADDRESS];
	d = find_dev(n, ifa->ifa_index);
	if (!a || !d)
		return 0;
	if (!(flags & IFA_F_PERMANENT))
		return refuse_addr(n, d, ifa, a, "with a lifetime (dynamic, or from a router's advertisement)");
	if (tb[IFA_LABEL] && strcmp(str_attr(tb[IFA_LABEL]), d->name))
		return refuse_addr(n, d, ifa, a, "with a label of its own");
	if (d->nr_addrs >= IMG_MAX_NETADDRS)
		return refuse_dev(n, d->name, "with too many addresses");
	na = realloc(d->addrs, (d->nr_addrs + 1) * sizeof(*na));
	if (!na)
		return -1;
	d->addrs = na;
	na = &d->addrs[d->nr_addrs++];
	memset(na, 0, sizeof(*na));
	na->family = ifa->ifa_family;
	na->prefixlen = ifa->ifa_prefixlen;
	na->scope = ifa->ifa_scope;
	na->flags = flags & IMG_NETADDR_FLAGS;
	memcpy(na->addr, RTA_DATA(a), RTA_PAYLOAD(a) < 16 ? RTA_PAYLOAD(a) : 16);
	return 0;
}

static int refuse_route(struct dump_net *n, const struct rtmsg *rt,
			const uint8_t *dst, const char *why)
{
	char a[INET6_ADDRSTRLEN] = "default";

	if (rt->rtm_dst_len && dst)
		inet_ntop(rt->rtm_family, dst, a, sizeof(a));
	pr_err("can't dump %d: its network namespace net:[%llu] has a route to %s/%u %s, which is not supported yet",
	       n->root, (unsigned long long)n->ino, a, rt->rtm_dst_len, why);
	n->err = 1;
	return -1;
}

static void copy_addr(uint8_t out[16], const struct rtattr *a)
{
	if (a)
		memcpy(out, RTA_DATA(a), RTA_PAYLOAD(a) < 16 ? RTA_PAYLOAD(a) : 16);
}

static int route_msg(const struct nlmsghdr *h, void *arg)
{
	const struct rtmsg *rt = NLMSG_DATA(h);
	const struct rtattr *tb[RTA_MAX + 1];
	struct dump_net *n = arg;
	struct img_route *r;
	uint8_t dst[16] = { 0 };
	uint32_t table;

	if (h->nlmsg_type != RTM_NEWROUTE ||
	    (rt->rtm_family != AF_INET && rt->rtm_family != AF_INET6))
		return 0;
	rtnl_attrs(h, sizeof(*rt), tb, RTA_MAX);
	copy_addr(dst, tb[RTA_DST]);
	table = tb[RTA_TABLE] ? u32_attr(tb[RTA_TABLE]) : rt->rtm_table;
	/* what the kernel makes from addresses and links comes back so */
	if (rt->rtm_protocol == RTPROT_KERNEL ||
	    (table == RT_TABLE_LOCAL && rt->rtm_type == RTN_LOCAL) ||
	    (rt->rtm_family == AF_INET6 && rt->rtm_type == RTN_MULTICAST))
		return 0;
	if (table != RT_TABLE_MAIN)
		return refuse_route(n, rt, dst, "in another table than main");
	if (rt->rtm_type != RTN_UNICAST || tb[RTA_MULTIPATH] ||
	    (tb[RTA_OIF] && !find_dev(n, u32_attr(tb[RTA_OIF]))))
		return refuse_route(n, rt, dst, "of a type, a device or with paths ckpt does not restore");
	if (n->nr_routes >= IMG_MAX_ROUTES)
		return refuse_route(n, rt, dst, "past the most routes ckpt records");
	r = realloc(n->routes, (n->nr_routes + 1) * sizeof(*r));
	if (!r)
		return -1;
	n->routes = r;
	r = &n->routes[n->nr_routes++];
	memset(r, 0, sizeof(*r));
	r->family = rt->rtm_family;
	r->dst_len = rt->rtm_dst_len;
	memcpy(r->dst, dst, 16);
	r->dev = u32_attr(tb[RTA_OIF]);
	r->protocol = rt->rtm_protocol;
	r->scope = rt->rtm_scope;
	r->type = rt->rtm_type;
	r->priority = u32_attr(tb[RTA_PRIORITY]);
	r->has_gw = !!tb[RTA_GATEWAY];
	copy_addr(r->gw, tb[RTA_GATEWAY]);
	return 0;
}

/* Policy routing rules: only those every namespace starts with (0
 * local, 32766 main, and for IPv4 32767 default) */
static int rule_msg(const struct nlmsghdr *h, void *arg)
{
	const struct fib_rule_hdr *fr = NLMSG_DATA(h);
	const struct rtattr *tb[FRA_MAX + 1];
	struct dump_net *n = arg;
	uint32_t prio, table;

	if (h->nlmsg_type != RTM_NEWRULE ||
	    (fr->family != AF_INET && fr->family != AF_INET6))
		return 0;
	rtnl_attrs(h, sizeof(*fr), tb, FRA_MAX);
	prio = tb[FRA_PRIORITY] ? u32_attr(tb[FRA_PRIORITY]) : 0;
	table = tb[FRA_TABLE] ? u32_attr(tb[FRA_TABLE]) : fr->table;
	if (fr->action == FR_ACT_TO_TBL && !fr->src_len && !fr->dst_len &&
	    !fr->tos && !tb[FRA_IIFNAME] && !tb[FRA_OIFNAME] &&
	    !tb[FRA_FWMARK] &&
	    ((prio == 0 && table == RT_TABLE_LOCAL) ||
	     (prio == 32766 && table == RT_TABLE_MAIN) ||
	     (prio == 32767 && table == RT_TABLE_DEFAULT &&
	      fr->family == AF_INET)))
		return 0;
	pr_err("can't dump %d: its network namespace net:[%llu] has an %s routing rule of priority %u (table %u), which is not supported yet",
	       n->root, (unsigned long long)n->ino,
	       fr->family == AF_INET ? "IPv4" : "IPv6", prio, table);
	n->err = 1;
	return -1;
}

/* Neighbour entries someone made permanent (ip neigh add): the others
 * the kernel learns again */
static int neigh_msg(const struct nlmsghdr *h, void *arg)
{
	const struct ndmsg *nd = NLMSG_DATA(h);
	const struct rtattr *tb[NDA_MAX + 1];
	struct dump_net *n = arg;
	char a[INET6_ADDRSTRLEN] = "?";

	if (h->nlmsg_type != RTM_NEWNEIGH || !(nd->ndm_state & NUD_PERMANENT) ||
	    (nd->ndm_family != AF_INET && nd->ndm_family != AF_INET6))
		return 0;
	rtnl_attrs(h, sizeof(*nd), tb, NDA_MAX);
	if (tb[NDA_DST])
		inet_ntop(nd->ndm_family, RTA_DATA(tb[NDA_DST]), a, sizeof(a));
	pr_err("can't dump %d: its network namespace net:[%llu] has a permanent neighbour entry for %s, which is not supported yet",
	       n->root, (unsigned long long)n->ino, a);
	n->err = 1;
	return -1;
}

/* Rules inside: nftables tables (iptables-nft's too), legacy iptables */
static int check_rules(struct dump_net *n)
{
	static const char *const legacy[] = {
		"/proc/net/ip_tables_names", "/proc/net/ip6_tables_names",
	};
	char table[300], err[256];
	size_t i;
	int r = img_nft_foreign_table(table, sizeof(table), err, sizeof(err));

	if (r < 0) {
		pr_err("can't dump %d: can't list the nftables tables of its network namespace net:[%llu]: %s",
		       n->root, (unsigned long long)n->ino, err);
		return -1;
	}
	if (r > 0) {
		pr_err("can't dump %d: its network namespace net:[%llu] has nftables table %s, which is not supported yet",
		       n->root, (unsigned long long)n->ino, table);
		return -1;
	}
	for (i = 0; i < ARRAY_SIZE(legacy); i++) {
		char *s = read_file_str(legacy[i], NULL);
		int some = s && s[0];

		if (some)
			pr_err("can't dump %d: its network namespace net:[%llu] has iptables tables (%s: %.40s), which are not supported yet",
			       n->root, (unsigned long long)n->ino, legacy[i],
			       s);
		free(s);
		if (some)
			return -1;
	}
	return 0;
}

/* the peers of the veth pairs inside, by name */
static int find_inner(struct dump_net *n)
{
	const struct img_netdev *p;
	uint32_t i;

	for (i = 0; i < n->nr_devs; i++) {
		if (!n->devs[i].inner)
			continue;
		p = find_dev(n, n->x[i].peer);
		if (!p || !p->inner)
			return refuse_dev(n, n->devs[i].name, "a veth whose peer is neither in ckpt's network namespace nor in this one");
		n->devs[i].peer = strdup(p->name);
		if (!n->devs[i].peer)
			return -1;
	}
	return 0;
}

/* each device enslaved to a bridge of the image, named among its ports */
static int find_ports(struct dump_net *n)
{
	struct img_netdev *b;
	char **p;
	uint32_t i;

	for (i = 0; i < n->nr_devs; i++) {
		if (!n->x[i].master)
			continue;
		b = find_dev(n, n->x[i].master);
		if (!b || b->kind != IMG_NETDEV_BRIDGE)
			return refuse_dev(n, n->devs[i].name, "enslaved to a device that is not a bridge");
		if (b->br.nr_ports >= IMG_MAX_BRPORTS)
			return refuse_dev(n, b->name, "a bridge with too many ports");
		p = realloc(b->br.ports, (b->br.nr_ports + 1) * sizeof(*p));
		if (!p)
			return -1;
		b->br.ports = p;
		p[b->br.nr_ports] = strdup(n->devs[i].name);
		if (!p[b->br.nr_ports++])
			return -1;
	}
	return 0;
}

/* An AF_BRIDGE dump: a bridge port's settings (IFLA_PROTINFO) and VLAN
 * table (IFLA_AF_SPEC), the bridge's own table too */
static int port_msg(const struct nlmsghdr *h, void *arg)
{
	const struct ifinfomsg *ifi = NLMSG_DATA(h);
	const struct rtattr *tb[IFLA_MAX + 1];
	struct dump_net *n = arg;
	struct img_netdev *d, *b;
	char why[160];
	int r;

	if (h->nlmsg_type != RTM_NEWLINK)
		return 0;
	rtnl_attrs(h, sizeof(*ifi), tb, IFLA_MAX);
	d = find_dev(n, ifi->ifi_index);
	/* the bridge itself has a VLAN table of its own ("self") */
	b = d && d->kind == IMG_NETDEV_BRIDGE ? d :
		find_dev(n, u32_attr(tb[IFLA_MASTER]));
	if (!d || !b)
		return 0;
	r = dump_link_attr(h, IFLA_PROTINFO) ?
		dump_bridge_port(n->root, dump_link_attr(h, IFLA_PROTINFO), why,
				 sizeof(why)) : 0;
	if (r < 0)
		n->err = 1;
	if (r)
		return r > 0 ? refuse_dev(n, d->name, why) : -1;
	if (b->br.vlan_filtering &&
	    !dump_bridge_vlans_default(dump_link_attr(h, IFLA_AF_SPEC)))
		return refuse_dev(n, d->name, "a bridge port (or bridge) whose VLAN table is not a new port's (VLAN 1, PVID, untagged)");
	return 0;
}

static int check_ports(struct dump_net *n)
{
	uint32_t i;

	for (i = 0; i < n->nr_devs; i++)
		if (n->devs[i].kind == IMG_NETDEV_BRIDGE)
			break;
	if (i == n->nr_devs)
		return 0;
	if (!rtnl_dump_ext(n->rtnl, RTM_GETLINK, AF_BRIDGE,
			   RTEXT_FILTER_BRVLAN, port_msg, n))
		return 0;
	if (!n->err)
		pr_perror("can't read the bridge ports of the network namespace of %d",
			  n->root);
	return -1;
}

/* run a dump of type; a refusal is said, any other failure told here */
static int walk(struct dump_net *n, int type, const char *what,
		int (*fn)(const struct nlmsghdr *, void *))
{
	if (!rtnl_dump(n->rtnl, type, AF_UNSPEC, fn, n))
		return 0;
	if (!n->err)
		pr_perror("can't read the %s of the network namespace of %d",
			  what, n->root);
	return -1;
}

int dump_net_collect(struct dump_tree *t)
{
	struct dump_net *n = t->net;

	if (!n) {
		pr_err("can't dump %d: ckpt is not in its network namespace",
		       t->procs[0].pid);
		return -1;
	}
	n->rtnl = rtnl_open();
	if (n->rtnl < 0) {
		pr_perror("can't talk to the network namespace of %d", n->root);
		return -1;
	}
	return walk(n, RTM_GETLINK, "devices", link_msg) ||
	       find_inner(n) || find_ports(n) || check_ports(n) ||
	       walk(n, RTM_GETADDR, "addresses", addr_msg) ||
	       walk(n, RTM_GETROUTE, "routes", route_msg) ||
	       walk(n, RTM_GETRULE, "routing rules", rule_msg) ||
	       walk(n, RTM_GETNEIGH, "neighbours", neigh_msg) ||
	       check_rules(n) ? -1 : 0;
}

/*
 * The tree's namespace outlives the tree a while: the kernel tears it
 * down later, and unhooks the network lock's table (nftables) before it
 * removes the devices. A retransmission of a peer outside arriving then
 * met no socket and was answered with a reset, which killed the
 * connection that restore was bringing back elsewhere. A device that is
 * down receives nothing, so the killed tree's go down first (those that
 * were up; the loopback carries no peer's packets). Only once the tree
 * dies with ckpt (kill_with_us): ckpt gone, nothing of it runs on.
 */
void dump_net_quiet(struct dump_tree *t, int up)
{
	const struct dump_net *n = t->net;
	uint32_t i;

	for (i = 0; n && n->rtnl >= 0 && i < n->nr_devs; i++) {
		const struct img_netdev *d = &n->devs[i];
		struct ifinfomsg ifi = { .ifi_family = AF_UNSPEC,
					 .ifi_index = (int)d->index,
					 .ifi_flags = up ? IFF_UP : 0,
					 .ifi_change = IFF_UP };
		struct rtnl_req r;

		if (!d->up || d->kind == IMG_NETDEV_LO)
			continue;
		rtnl_begin(&r, RTM_NEWLINK, 0, &ifi, sizeof(ifi));
		if (rtnl_talk(n->rtnl, &r))
			pr_warn("can't take %s of %d %s: %s", d->name, n->root,
				up ? "up again" : "down", strerror(errno));
	}
}

struct img_netdev *dump_net_tun(struct dump_tree *t, const char *name)
{
	uint32_t i;

	for (i = 0; t->net && i < t->net->nr_devs; i++)
		if (t->net->devs[i].kind == IMG_NETDEV_TUN &&
		    !strcmp(t->net->devs[i].name, name))
			return &t->net->devs[i];
	return NULL;
}

/* A queue the tree does not hold is some other process's: after restore
 * it would hold nothing */
int dump_net_check_tuns(struct dump_tree *t)
{
	struct dump_net *n = t->net;
	uint32_t i, k, fds;

	for (i = 0; n && i < n->nr_devs; i++) {
		const struct img_netdev *d = &n->devs[i];

		if (d->kind != IMG_NETDEV_TUN)
			continue;
		for (k = 0, fds = 0; k < t->nr_files; k++)
			fds += t->files[k].f.kind == IMG_FILE_TUN &&
			       t->files[k].f.tun_dev &&
			       !strcmp(t->files[k].f.tun_dev, d->name);
		/* an up persistent device of one queue: not probed, its
		 * holder outside the tree (if any) not seen */
		if (n->x[i].queues == DUMP_TUN_QUEUES_UNSEEN &&
		    (fds || (d->tun.flags & IMG_TUN_PERSIST)))
			continue;
		if (fds != n->x[i].queues)
			return refuse_dev(n, d->name, "a tun device that a process outside the tree holds");
	}
	return 0;
}

int dump_write_net(const struct dump_tree *t, struct img_writer *w)
{
	const struct dump_net *n = t->net;
	uint32_t i;

	for (i = 0; n && i < n->nr_devs; i++)
		if (img_write_netdev(w, &n->devs[i]))
			return -1;
	for (i = 0; n && i < n->nr_routes; i++)
		if (img_write_route(w, &n->routes[i]))
			return -1;
	return 0;
}
