/*
 * The tree's own network namespace (an NS record of kind net, with its
 * NETDEV and ROUTE records): restore makes it for itself
 * (unshare(CLONE_NEWNET)) once the image is checked, before it takes the
 * network lock and makes any socket, so that the tree's sockets, the
 * lock, the TCP repair and every process it forks are in it.
 *
 * The loopback gets its MTU, addresses and up flag; a veth is made as a
 * pair, this end in the new namespace with its name, MAC and MTU, the
 * peer (named as at dump) in restore's own namespace, where it was
 * (dump-netdev.c refuses any other veth); a macvlan on its lower device,
 * found by name in restore's namespace; a veth pair inside the
 * namespace with its first end, the second set as it was; a bridge with its STP state,
 * forward delay, ageing time and VLAN filtering, its ports enslaved once
 * every device is there; a tun or tap device (tun.c). The peer's addresses and up
 * flag are the host's business (restore.1). The old pair goes away with
 * the old namespace, which the kernel cleans up after the tree was
 * killed, not at once: a peer name still taken is waited for. The
 * network lock is taken in the new namespace before any link is up;
 * then each device is made, up if it was, its addresses added (but
 * those the kernel made already, the loopback's), then the routes.
 */
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <linux/if_link.h>
#include <linux/veth.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "restore/restore.h"
#include "util/rtnl.h"

#define PEER_WAIT_MS	60000	/* for the old pair to go, on a loaded machine */

static int new_veth(int nl, const struct img_netdev *d, int host)
{
	struct ifinfomsg ifi = { .ifi_family = AF_UNSPEC };
	struct rtattr *info, *data, *peer;
	struct rtnl_req r;

	rtnl_begin(&r, RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL, &ifi,
		   sizeof(ifi));
	rtnl_put(&r, IFLA_IFNAME, d->name, strlen(d->name) + 1);
	if (d->mtu)
		rtnl_put(&r, IFLA_MTU, &d->mtu, 4);
	if (d->mac_len)
		rtnl_put(&r, IFLA_ADDRESS, d->mac, d->mac_len);
	info = rtnl_nest(&r, IFLA_LINKINFO);
	rtnl_put(&r, IFLA_INFO_KIND, "veth", 5);
	data = rtnl_nest(&r, IFLA_INFO_DATA);
	peer = rtnl_nest(&r, VETH_INFO_PEER);
	/* the peer's ifinfomsg, then its attributes */
	if (peer && NLMSG_ALIGN(r.h->nlmsg_len) + sizeof(ifi) <= sizeof(r.buf)) {
		memset(r.buf + r.h->nlmsg_len, 0, sizeof(ifi));
		r.h->nlmsg_len += NLMSG_ALIGN(sizeof(ifi));
	} else {
		r.failed = 1;
	}
	rtnl_put(&r, IFLA_IFNAME, d->peer, strlen(d->peer) + 1);
	if (d->mtu)
		rtnl_put(&r, IFLA_MTU, &d->mtu, 4);
	if (!d->inner)
		rtnl_put(&r, IFLA_NET_NS_FD, &host, 4);
	rtnl_nest_end(&r, peer);
	rtnl_nest_end(&r, data);
	rtnl_nest_end(&r, info);
	return rtnl_talk(nl, &r);
}

/* the pair, once the old one is gone from restore's namespace */
static int make_veth(int nl, const struct img_netdev *d, int host)
{
	struct timespec nap = { 0, 50 * 1000 * 1000 };
	int waited = 0;

	while (new_veth(nl, d, host)) {
		if (errno != EEXIST || waited >= PEER_WAIT_MS)
			return -1;
		nanosleep(&nap, NULL);
		waited += 50;
	}
	return 0;
}

/*
 * A macvlan on its lower device of restore's namespace: asked for there
 * (where the lower device's index means it), made right in the new
 * namespace (IFLA_NET_NS_FD) under its name.
 */
static int make_macvlan(const struct img_netdev *d, int host)
{
	struct ifinfomsg ifi = { .ifi_family = AF_UNSPEC };
	int self = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
	int nl = -1, lower = 0, ret = -1, err;
	struct rtattr *info, *data;
	struct rtnl_req r;
	uint16_t flags = (uint16_t)d->flags;

	if (self < 0)
		return -1;
	if (setns(host, CLONE_NEWNET) == 0) {
		nl = rtnl_open();
		lower = (int)if_nametoindex(d->peer);
		err = errno;
		if (setns(self, CLONE_NEWNET)) {
			pr_perror("can't go back to the tree's network namespace");
			abort();	/* restore would go on in its own */
		}
	} else {
		err = errno;
	}
	if (nl < 0 || !lower)
		goto out;
	rtnl_begin(&r, RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL, &ifi,
		   sizeof(ifi));
	rtnl_put(&r, IFLA_IFNAME, d->name, strlen(d->name) + 1);
	rtnl_put(&r, IFLA_LINK, &lower, 4);
	if (d->mtu)
		rtnl_put(&r, IFLA_MTU, &d->mtu, 4);
	if (d->mac_len)
		rtnl_put(&r, IFLA_ADDRESS, d->mac, d->mac_len);
	rtnl_put(&r, IFLA_NET_NS_FD, &self, 4);
	info = rtnl_nest(&r, IFLA_LINKINFO);
	rtnl_put(&r, IFLA_INFO_KIND, "macvlan", 8);
	data = rtnl_nest(&r, IFLA_INFO_DATA);
	rtnl_put(&r, IFLA_MACVLAN_MODE, &d->mode, 4);
	rtnl_put(&r, IFLA_MACVLAN_FLAGS, &flags, 2);
	rtnl_nest_end(&r, data);
	rtnl_nest_end(&r, info);
	ret = rtnl_talk(nl, &r);
	err = errno;
out:
	if (nl >= 0)
		close(nl);
	close(self);
	errno = err;
	return ret;
}

/*
 * A bridge takes its MTU and MAC from its ports unless they were set by
 * hand, after which they stay: so neither is given here, and
 * bridge_fixup() sets what its ports did not give it.
 */
static int make_bridge(int nl, const struct img_netdev *d)
{
	struct ifinfomsg ifi = { .ifi_family = AF_UNSPEC };
	struct rtattr *info, *data;
	struct rtnl_req r;
	uint8_t vlan = (uint8_t)d->br.vlan_filtering;

	rtnl_begin(&r, RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL, &ifi,
		   sizeof(ifi));
	rtnl_put(&r, IFLA_IFNAME, d->name, strlen(d->name) + 1);
	info = rtnl_nest(&r, IFLA_LINKINFO);
	rtnl_put(&r, IFLA_INFO_KIND, "bridge", 7);
	data = rtnl_nest(&r, IFLA_INFO_DATA);
	rtnl_put(&r, IFLA_BR_STP_STATE, &d->br.stp, 4);
	rtnl_put(&r, IFLA_BR_FORWARD_DELAY, &d->br.forward_delay, 4);
	rtnl_put(&r, IFLA_BR_AGEING_TIME, &d->br.ageing_time, 4);
	/* a kernel without VLAN filtering refuses even a 0 */
	if (vlan)
		rtnl_put(&r, IFLA_BR_VLAN_FILTERING, &vlan, 1);
	rtnl_nest_end(&r, data);
	rtnl_nest_end(&r, info);
	return rtnl_talk(nl, &r);
}

static int enslave(int nl, const char *port, int master)
{
	struct ifinfomsg ifi = { .ifi_family = AF_UNSPEC,
				 .ifi_index = (int)if_nametoindex(port) };
	struct rtnl_req r;

	if (!ifi.ifi_index)
		return -1;
	rtnl_begin(&r, RTM_NEWLINK, 0, &ifi, sizeof(ifi));
	rtnl_put(&r, IFLA_MASTER, &master, 4);
	return rtnl_talk(nl, &r);
}

/* the bridge's MTU and MAC now (its ports enslaved): 0 */
static int link_now(const char *name, uint32_t *mtu, uint8_t mac[6])
{
	struct ifreq ifr = { 0 };
	int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0), r;

	if (s < 0)
		return -1;
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", name);
	r = ioctl(s, SIOCGIFMTU, &ifr);
	*mtu = (uint32_t)ifr.ifr_mtu;
	if (!r)
		r = ioctl(s, SIOCGIFHWADDR, &ifr);
	memcpy(mac, ifr.ifr_hwaddr.sa_data, 6);
	close(s);
	return r;
}

static int bridge_fixup(int nl, const struct img_netdev *d)
{
	struct ifinfomsg ifi = { .ifi_family = AF_UNSPEC,
				 .ifi_index = (int)if_nametoindex(d->name) };
	struct rtnl_req r;
	uint8_t mac[6];
	uint32_t mtu, k;

	for (k = 0; k < d->br.nr_ports; k++)
		if (enslave(nl, d->br.ports[k], ifi.ifi_index))
			return -1;
	if (link_now(d->name, &mtu, mac))
		return -1;
	if (mtu == d->mtu && (d->mac_len != 6 || !memcmp(mac, d->mac, 6)))
		return 0;
	rtnl_begin(&r, RTM_NEWLINK, 0, &ifi, sizeof(ifi));
	if (mtu != d->mtu)
		rtnl_put(&r, IFLA_MTU, &d->mtu, 4);
	if (d->mac_len == 6 && memcmp(mac, d->mac, 6))
		rtnl_put(&r, IFLA_ADDRESS, d->mac, 6);
	return rtnl_talk(nl, &r);
}

/* index 0: by name; mtu 0: left */
static int set_link(int nl, const struct img_netdev *d, int up)
{
	struct ifinfomsg ifi = { .ifi_family = AF_UNSPEC,
				 .ifi_flags = up ? IFF_UP : 0,
				 .ifi_change = up ? IFF_UP : 0 };
	struct rtnl_req r;

	rtnl_begin(&r, RTM_NEWLINK, 0, &ifi, sizeof(ifi));
	rtnl_put(&r, IFLA_IFNAME, d->name, strlen(d->name) + 1);
	if (d->mtu && !up && d->kind != IMG_NETDEV_BRIDGE)
		rtnl_put(&r, IFLA_MTU, &d->mtu, 4);
	if ((d->kind == IMG_NETDEV_TUN || d->inner) && d->mac_len && !up)
		rtnl_put(&r, IFLA_ADDRESS, d->mac, d->mac_len);
	return rtnl_talk(nl, &r);
}

/* an address the kernel made already (the loopback's, when it went up)
 * is left as it is */
static int add_addr(int nl, int index, const struct img_netaddr *a)
{
	struct ifaddrmsg ifa = { .ifa_family = a->family,
				 .ifa_prefixlen = a->prefixlen,
				 .ifa_flags = a->flags & 0xff,
				 .ifa_scope = a->scope,
				 .ifa_index = index };
	size_t len = a->family == AF_INET ? 4 : 16;
	struct rtnl_req r;

	rtnl_begin(&r, RTM_NEWADDR, NLM_F_CREATE | NLM_F_EXCL, &ifa,
		   sizeof(ifa));
	rtnl_put(&r, IFA_LOCAL, a->addr, len);
	rtnl_put(&r, IFA_ADDRESS, a->addr, len);
	rtnl_put(&r, IFA_FLAGS, &a->flags, 4);
	if (!rtnl_talk(nl, &r) || errno == EEXIST)
		return 0;
	return -1;
}

static int dev_index(const struct image *img, uint32_t old)
{
	uint32_t i;

	for (i = 0; i < img->nr_netdevs; i++)
		if (img->netdevs[i].index == old)
			return if_nametoindex(img->netdevs[i].name);
	return 0;
}

static int add_route(int nl, const struct image *img,
		     const struct img_route *rt)
{
	struct rtmsg m = { .rtm_family = rt->family,
			   .rtm_dst_len = rt->dst_len,
			   .rtm_table = RT_TABLE_MAIN,
			   .rtm_protocol = rt->protocol,
			   .rtm_scope = rt->scope, .rtm_type = rt->type };
	size_t len = rt->family == AF_INET ? 4 : 16;
	int oif = rt->dev ? dev_index(img, rt->dev) : 0;
	struct rtnl_req r;

	rtnl_begin(&r, RTM_NEWROUTE, NLM_F_CREATE | NLM_F_REPLACE, &m,
		   sizeof(m));
	if (rt->dst_len)
		rtnl_put(&r, RTA_DST, rt->dst, len);
	if (rt->has_gw)
		rtnl_put(&r, RTA_GATEWAY, rt->gw, len);
	if (oif)
		rtnl_put(&r, RTA_OIF, &oif, 4);
	if (rt->priority)
		rtnl_put(&r, RTA_PRIORITY, &rt->priority, 4);
	return rtnl_talk(nl, &r);
}

/* d up; a macvlan whose MAC the old one holds on the same lower device
 * (EADDRINUSE) until the old namespace is gone is waited for */
static int up_link(int nl, const struct img_netdev *d)
{
	struct timespec nap = { 0, 50 * 1000 * 1000 };
	int waited = 0;

	while (set_link(nl, d, 1)) {
		if (errno != EADDRINUSE || waited >= PEER_WAIT_MS)
			return -1;
		nanosleep(&nap, NULL);
		waited += 50;
	}
	return 0;
}

/* device d made (or the loopback set), up if it was, its addresses */
static int dev_finish(const struct restore_run *run, int nl,
		      const struct img_netdev *d);

static int make_dev(const struct restore_run *run, int nl,
		    const struct img_netdev *d, int host)
{
	/* the second end of a pair inside was made with the first */
	int made = d->inner && if_nametoindex(d->peer) &&
		   if_nametoindex(d->name);

	if (made ? set_link(nl, d, 0) :
	    d->kind == IMG_NETDEV_VETH ? make_veth(nl, d, host) :
	    d->kind == IMG_NETDEV_MACVLAN ? make_macvlan(d, host) :
	    d->kind == IMG_NETDEV_BRIDGE ? make_bridge(nl, d) :
	    d->kind == IMG_NETDEV_TUN ?
	    restore_tun_make(d) || set_link(nl, d, 0) :
	    set_link(nl, d, 0)) {
		pr_perror("%s: can't make network device %s%s%s", run->path,
			  d->name, !d->peer ? "" :
			  d->kind == IMG_NETDEV_VETH ? " with its peer " :
			  " on its lower device ", d->peer ? d->peer : "");
		return -1;
	}
	/* a bridge once its ports are in: bridge_fixup() */
	return d->kind == IMG_NETDEV_BRIDGE ? 0 : dev_finish(run, nl, d);
}

/* d up if it was, with its addresses */
static int dev_finish(const struct restore_run *run, int nl,
		      const struct img_netdev *d)
{
	uint32_t k;
	int index;

	if (d->up && up_link(nl, d)) {
		pr_perror("%s: can't bring network device %s up", run->path,
			  d->name);
		return -1;
	}
	index = if_nametoindex(d->name);
	for (k = 0; k < d->nr_addrs; k++)
		if (!index || add_addr(nl, index, &d->addrs[k])) {
			pr_perror("%s: can't give network device %s its address %u",
				  run->path, d->name, k + 1);
			return -1;
		}
	return 0;
}

/*
 * The end of a veth pair inside of the lower index is made with its peer:
 * the kernel registers a pair's peer first, so the two get their indexes
 * in the order they had (a program may list devices by index).
 */
static int later(const struct image *img, const struct img_netdev *d)
{
	uint32_t i;

	for (i = 0; d->inner && i < img->nr_netdevs; i++)
		if (!strcmp(img->netdevs[i].name, d->peer))
			return img->netdevs[i].index > d->index;
	return 0;
}

static int make_all(const struct restore_run *run, int nl, int host)
{
	const struct image *img = run->img;
	char a[64];
	uint32_t i;

	for (i = 0; i < img->nr_netdevs; i++)
		if (!later(img, &img->netdevs[i]) &&
		    make_dev(run, nl, &img->netdevs[i], host))
			return -1;
	for (i = 0; i < img->nr_netdevs; i++)
		if (later(img, &img->netdevs[i]) &&
		    make_dev(run, nl, &img->netdevs[i], host))
			return -1;
	for (i = 0; i < img->nr_netdevs; i++)
		if (img->netdevs[i].kind != IMG_NETDEV_BRIDGE)
			continue;
		else if (bridge_fixup(nl, &img->netdevs[i])) {
			pr_perror("%s: can't give bridge %s its ports, MTU and MAC",
				  run->path, img->netdevs[i].name);
			return -1;
		} else if (dev_finish(run, nl, &img->netdevs[i])) {
			return -1;
		}
	for (i = 0; i < img->nr_routes; i++)
		if (add_route(nl, img, &img->routes[i])) {
			snprintf(a, sizeof(a), "%u of %u", i + 1,
				 img->nr_routes);
			pr_perror("%s: can't add route %s", run->path, a);
			return -1;
		}
	return 0;
}

int restore_net_make(const struct restore_run *run)
{
	const struct image *img = run->img;
	int host = -1, nl = -1, ret = -1, joined;
	const char *what;

	if (restore_join(run, IMG_NS_NET, img->procs[0].proc.pid, &joined)) {
		pr_perror("%s: can't join the network namespace", run->path);
		return -1;
	}
	if (joined ||
	    !img_find_ns(img, IMG_NS_NET, img->procs[0].proc.pid))
		return 0;
	host = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
	if (host < 0 || unshare(CLONE_NEWNET)) {
		pr_perror("%s: can't make a network namespace", run->path);
		goto out;
	}
	nl = rtnl_open();
	if (nl < 0) {
		pr_perror("%s: can't talk to the new network namespace",
			  run->path);
		goto out;
	}
	/* before a link is up: the peers of the tree's connections must
	 * meet the lock, not a reset (netlock.c; main.c takes it again) */
	if (restore_netlock_take(img))
		goto out;
	ret = make_all(run, nl, host);
	/* once the devices are there: some are theirs (conf/DEV/...) */
	if (!ret && restore_ns_sysctls(img_find_ns(img, IMG_NS_NET,
						   img->procs[0].proc.pid),
				       &what)) {
		pr_perror("%s: can't set the %s", run->path, what);
		ret = -1;
	}
out:
	if (nl >= 0)
		close(nl);
	if (host >= 0)
		close(host);
	return ret;
}
