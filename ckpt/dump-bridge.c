/*
 * Bridges of the tree's network namespace (dump-netdev.c finds them):
 * what restore sets again is the STP state, forward delay, ageing time
 * and VLAN filtering (NETDEV kind bridge), and which devices are its
 * ports. Every other setting of the bridge and of its ports must be as a
 * fresh bridge has it, or the dump is refused naming it. What "fresh"
 * means is asked of this kernel, not written down here: ckpt makes a
 * bridge with a veth port in a scratch network namespace of its own and
 * compares attribute by attribute (the defaults changed across kernels:
 * mcast_hash_max, a startup query interval rounded through jiffies).
 * Attributes that are state (timers, STP's port roles, counters) are
 * not compared. With VLAN filtering on, each port's and the bridge's
 * own VLAN table must be the default one (VLAN 1, PVID, untagged).
 */
#include <sys/socket.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/if_bridge.h>
#include <linux/if_link.h>
#include <linux/veth.h>
#include <net/if.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ckpt/dump-priv.h"
#include "util/rtnl.h"

#define BR_FDB_N_LEARNED	48	/* Linux 6.8, past Debian 12's headers */
#define BRPORT_MCAST_N_GROUPS	41	/* Linux 6.3: a count */
#define ATTR_BUF		4096

struct fresh {
	char br[ATTR_BUF];	/* a fresh bridge's IFLA_INFO_DATA */
	int br_len;
	char port[ATTR_BUF];	/* a fresh port's IFLA_PROTINFO */
	int port_len;
	int port_index;
};

static struct fresh *fresh;

static const char *const br_names[] = {
	[IFLA_BR_HELLO_TIME] = "hello_time", [IFLA_BR_MAX_AGE] = "max_age",
	[IFLA_BR_PRIORITY] = "priority",
	[IFLA_BR_VLAN_PROTOCOL] = "vlan_protocol",
	[IFLA_BR_GROUP_FWD_MASK] = "group_fwd_mask",
	[IFLA_BR_GROUP_ADDR] = "group_address",
	[IFLA_BR_MCAST_ROUTER] = "mcast_router",
	[IFLA_BR_MCAST_SNOOPING] = "mcast_snooping",
	[IFLA_BR_MCAST_QUERY_USE_IFADDR] = "mcast_query_use_ifaddr",
	[IFLA_BR_MCAST_QUERIER] = "mcast_querier",
	[IFLA_BR_MCAST_HASH_ELASTICITY] = "mcast_hash_elasticity",
	[IFLA_BR_MCAST_HASH_MAX] = "mcast_hash_max",
	[IFLA_BR_MCAST_LAST_MEMBER_CNT] = "mcast_last_member_count",
	[IFLA_BR_MCAST_STARTUP_QUERY_CNT] = "mcast_startup_query_count",
	[IFLA_BR_MCAST_LAST_MEMBER_INTVL] = "mcast_last_member_interval",
	[IFLA_BR_MCAST_MEMBERSHIP_INTVL] = "mcast_membership_interval",
	[IFLA_BR_MCAST_QUERIER_INTVL] = "mcast_querier_interval",
	[IFLA_BR_MCAST_QUERY_INTVL] = "mcast_query_interval",
	[IFLA_BR_MCAST_QUERY_RESPONSE_INTVL] = "mcast_query_response_interval",
	[IFLA_BR_MCAST_STARTUP_QUERY_INTVL] = "mcast_startup_query_interval",
	[IFLA_BR_NF_CALL_IPTABLES] = "nf_call_iptables",
	[IFLA_BR_NF_CALL_IP6TABLES] = "nf_call_ip6tables",
	[IFLA_BR_NF_CALL_ARPTABLES] = "nf_call_arptables",
	[IFLA_BR_VLAN_DEFAULT_PVID] = "vlan_default_pvid",
	[IFLA_BR_VLAN_STATS_ENABLED] = "vlan_stats_enabled",
	[IFLA_BR_MCAST_STATS_ENABLED] = "mcast_stats_enabled",
	[IFLA_BR_MCAST_IGMP_VERSION] = "mcast_igmp_version",
	[IFLA_BR_MCAST_MLD_VERSION] = "mcast_mld_version",
	[IFLA_BR_VLAN_STATS_PER_PORT] = "vlan_stats_per_port",
	[IFLA_BR_MULTI_BOOLOPT] = "a boolean option (no_linklocal_learn, mcast_vlan_snooping, mst_enabled...)",
};

static const char *const port_names[] = {
	[IFLA_BRPORT_PRIORITY] = "priority", [IFLA_BRPORT_MODE] = "hairpin",
	[IFLA_BRPORT_GUARD] = "guard", [IFLA_BRPORT_PROTECT] = "root_block",
	[IFLA_BRPORT_FAST_LEAVE] = "fastleave",
	[IFLA_BRPORT_LEARNING] = "learning",
	[IFLA_BRPORT_UNICAST_FLOOD] = "flood",
	[IFLA_BRPORT_PROXYARP] = "proxy_arp",
	[IFLA_BRPORT_PROXYARP_WIFI] = "proxy_arp_wifi",
	[IFLA_BRPORT_MULTICAST_ROUTER] = "mcast_router",
	[IFLA_BRPORT_MCAST_FLOOD] = "mcast_flood",
	[IFLA_BRPORT_MCAST_TO_UCAST] = "mcast_to_unicast",
	[IFLA_BRPORT_VLAN_TUNNEL] = "vlan_tunnel",
	[IFLA_BRPORT_BCAST_FLOOD] = "bcast_flood",
	[IFLA_BRPORT_GROUP_FWD_MASK] = "group_fwd_mask",
	[IFLA_BRPORT_NEIGH_SUPPRESS] = "neigh_suppress",
	[IFLA_BRPORT_ISOLATED] = "isolated",
	[IFLA_BRPORT_BACKUP_PORT] = "backup_port",
	[IFLA_BRPORT_MCAST_EHT_HOSTS_LIMIT] = "mcast_eht_hosts_limit",
	[IFLA_BRPORT_LOCKED] = "locked",
};

/* carried in the image, or state rather than a setting */
static int br_skipped(int type)
{
	switch (type) {
	case IFLA_BR_FORWARD_DELAY: case IFLA_BR_AGEING_TIME:
	case IFLA_BR_STP_STATE: case IFLA_BR_VLAN_FILTERING:
	case IFLA_BR_ROOT_ID: case IFLA_BR_BRIDGE_ID: case IFLA_BR_ROOT_PORT:
	case IFLA_BR_ROOT_PATH_COST: case IFLA_BR_TOPOLOGY_CHANGE:
	case IFLA_BR_TOPOLOGY_CHANGE_DETECTED: case IFLA_BR_HELLO_TIMER:
	case IFLA_BR_TCN_TIMER: case IFLA_BR_TOPOLOGY_CHANGE_TIMER:
	case IFLA_BR_GC_TIMER: case IFLA_BR_FDB_FLUSH: case IFLA_BR_PAD:
	case IFLA_BR_MCAST_QUERIER_STATE: case BR_FDB_N_LEARNED:
		return 1;
	}
	return 0;
}

/* state, or the path cost the kernel gives a port from its speed */
static int port_skipped(int type)
{
	switch (type) {
	case IFLA_BRPORT_STATE: case IFLA_BRPORT_COST:
	case IFLA_BRPORT_ROOT_ID: case IFLA_BRPORT_BRIDGE_ID:
	case IFLA_BRPORT_DESIGNATED_PORT: case IFLA_BRPORT_DESIGNATED_COST:
	case IFLA_BRPORT_ID: case IFLA_BRPORT_NO:
	case IFLA_BRPORT_TOPOLOGY_CHANGE_ACK: case IFLA_BRPORT_CONFIG_PENDING:
	case IFLA_BRPORT_MESSAGE_AGE_TIMER:
	case IFLA_BRPORT_FORWARD_DELAY_TIMER: case IFLA_BRPORT_HOLD_TIMER:
	case IFLA_BRPORT_FLUSH: case IFLA_BRPORT_PAD:
	case IFLA_BRPORT_MRP_RING_OPEN: case IFLA_BRPORT_MRP_IN_OPEN:
	case IFLA_BRPORT_MCAST_EHT_HOSTS_CNT: case BRPORT_MCAST_N_GROUPS:
		return 1;
	}
	return 0;
}

/* h's attribute of type (nested or not: the kernel flags some
 * NLA_F_NESTED, which rtnl_attrs() leaves out), or NULL */
const struct rtattr *dump_link_attr(const struct nlmsghdr *h, int type)
{
	const struct rtattr *a = IFLA_RTA(NLMSG_DATA(h));
	int left = IFLA_PAYLOAD(h);

	for (; RTA_OK(a, left); a = RTA_NEXT(a, left))
		if ((a->rta_type & NLA_TYPE_MASK) == type)
			return a;
	return NULL;
}

static void keep(char *buf, int *len, const struct rtattr *a)
{
	if (a && RTA_LENGTH(RTA_PAYLOAD(a)) <= ATTR_BUF) {
		memcpy(buf, a, RTA_LENGTH(RTA_PAYLOAD(a)));
		*len = RTA_LENGTH(RTA_PAYLOAD(a));
	}
}

static int fresh_link(const struct nlmsghdr *h, void *arg)
{
	const struct ifinfomsg *ifi = NLMSG_DATA(h);
	const struct rtattr *tb[IFLA_MAX + 1], *info[IFLA_INFO_MAX + 1];
	struct fresh *f = arg;

	if (h->nlmsg_type != RTM_NEWLINK)
		return 0;
	rtnl_attrs(h, sizeof(*ifi), tb, IFLA_MAX);
	if (dump_link_attr(h, IFLA_PROTINFO) && ifi->ifi_index == f->port_index)
		keep(f->port, &f->port_len, dump_link_attr(h, IFLA_PROTINFO));
	if (!tb[IFLA_LINKINFO] || dump_link_attr(h, IFLA_PROTINFO))
		return 0;
	rtnl_nested(tb[IFLA_LINKINFO], info, IFLA_INFO_MAX);
	if (info[IFLA_INFO_KIND] && info[IFLA_INFO_DATA] &&
	    !strcmp(RTA_DATA(info[IFLA_INFO_KIND]), "bridge"))
		keep(f->br, &f->br_len, info[IFLA_INFO_DATA]);
	return 0;
}

static int new_link(int nl, const char *name, const char *kind,
		    const char *peer)
{
	struct ifinfomsg ifi = { .ifi_family = AF_UNSPEC };
	struct rtattr *info, *data, *p;
	struct rtnl_req r;

	rtnl_begin(&r, RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL, &ifi,
		   sizeof(ifi));
	rtnl_put(&r, IFLA_IFNAME, name, strlen(name) + 1);
	info = rtnl_nest(&r, IFLA_LINKINFO);
	rtnl_put(&r, IFLA_INFO_KIND, kind, strlen(kind) + 1);
	if (peer) {
		data = rtnl_nest(&r, IFLA_INFO_DATA);
		p = rtnl_nest(&r, VETH_INFO_PEER);
		if (p && NLMSG_ALIGN(r.h->nlmsg_len) + sizeof(ifi) <= sizeof(r.buf)) {
			memset(r.buf + r.h->nlmsg_len, 0, sizeof(ifi));
			r.h->nlmsg_len += NLMSG_ALIGN(sizeof(ifi));
		}
		rtnl_put(&r, IFLA_IFNAME, peer, strlen(peer) + 1);
		rtnl_nest_end(&r, p);
		rtnl_nest_end(&r, data);
	}
	rtnl_nest_end(&r, info);
	return rtnl_talk(nl, &r);
}

static int enslave(int nl, int index, int master)
{
	struct ifinfomsg ifi = { .ifi_family = AF_UNSPEC, .ifi_index = index };
	struct rtnl_req r;

	rtnl_begin(&r, RTM_NEWLINK, 0, &ifi, sizeof(ifi));
	rtnl_put(&r, IFLA_MASTER, &master, 4);
	return rtnl_talk(nl, &r);
}

/* br0 with port p0 (of a veth pair) in a new namespace of ckpt's, read */
static int make_fresh(struct fresh *f)
{
	int nl = rtnl_open(), br, ret = -1;

	if (nl < 0 || new_link(nl, "br0", "bridge", NULL) ||
	    new_link(nl, "p0", "veth", "p1"))
		goto out;
	br = if_nametoindex("br0");
	f->port_index = if_nametoindex("p0");
	if (!br || !f->port_index || enslave(nl, f->port_index, br) ||
	    rtnl_dump(nl, RTM_GETLINK, AF_UNSPEC, fresh_link, f) < 0 ||
	    rtnl_dump(nl, RTM_GETLINK, AF_BRIDGE, fresh_link, f) < 0)
		goto out;
	ret = f->br_len && f->port_len ? 0 : -1;
	if (ret)
		errno = ENODATA;
out:
	if (nl >= 0)
		close(nl);	/* the last hold on the scratch namespace */
	return ret;
}

/* The fresh bridge, made once per run (ckpt is in the tree's namespace
 * and goes back to it). */
static const struct fresh *get_fresh(pid_t root)
{
	int here = -1, err;
	struct fresh *f;

	if (fresh)
		return fresh;
	f = calloc(1, sizeof(*f));
	here = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
	if (!f || here < 0 || unshare(CLONE_NEWNET)) {
		pr_perror("can't dump %d: can't make a scratch network namespace to learn a bridge's defaults",
			  root);
		goto err;
	}
	err = make_fresh(f) ? errno : 0;
	if (setns(here, CLONE_NEWNET)) {
		pr_perror("can't go back to the network namespace of %d", root);
		abort();	/* ckpt would go on in the scratch one */
	}
	if (err) {
		errno = err;
		pr_perror("can't dump %d: can't learn a fresh bridge's settings",
			  root);
		goto err;
	}
	close(here);
	fresh = f;
	return f;
err:
	if (here >= 0)
		close(here);
	free(f);
	return NULL;
}

static const struct rtattr *find_attr(const char *buf, int len, int type)
{
	const struct rtattr *a = (const struct rtattr *)buf;
	int left = len - RTA_LENGTH(0);

	if (len <= 0)
		return NULL;
	for (a = RTA_DATA(a); RTA_OK(a, left); a = RTA_NEXT(a, left))
		if ((a->rta_type & NLA_TYPE_MASK) == type)
			return a;
	return NULL;
}

/* the first attribute of nest that differs from the fresh one (buf),
 * or 0 */
static int differs(const struct rtattr *nest, const char *buf, int len,
		   int (*skipped)(int))
{
	const struct rtattr *a, *b;
	int left = RTA_PAYLOAD(nest), type;

	for (a = RTA_DATA(nest); RTA_OK(a, left); a = RTA_NEXT(a, left)) {
		type = a->rta_type & NLA_TYPE_MASK;
		if (skipped(type))
			continue;
		b = find_attr(buf, len, type);
		if (!b || RTA_PAYLOAD(a) != RTA_PAYLOAD(b) ||
		    memcmp(RTA_DATA(a), RTA_DATA(b), RTA_PAYLOAD(a)))
			return type;
	}
	return 0;
}

static void setting_name(char *out, size_t len, const char *const *names,
			 size_t n, int type)
{
	if ((size_t)type < n && names[type])
		snprintf(out, len, "%s", names[type]);
	else
		snprintf(out, len, "setting %d", type);
}

int dump_bridge_settings(pid_t root, const struct rtattr *data,
			 struct img_netdev *d, char *why, size_t len)
{
	const struct rtattr *tb[IFLA_BR_MAX + 1];
	const struct fresh *f = get_fresh(root);
	char name[96];
	int type;

	if (!f)
		return -1;
	if (!data) {
		snprintf(why, len, "a bridge without its settings");
		return 1;
	}
	type = differs(data, f->br, f->br_len, br_skipped);
	if (type) {
		setting_name(name, sizeof(name), br_names,
			     ARRAY_SIZE(br_names), type);
		snprintf(why, len, "a bridge whose %s is not a fresh bridge's",
			 name);
		return 1;
	}
	rtnl_nested(data, tb, IFLA_BR_MAX);
	d->br.stp = rtnl_uint(tb[IFLA_BR_STP_STATE]);
	d->br.forward_delay = rtnl_uint(tb[IFLA_BR_FORWARD_DELAY]);
	d->br.ageing_time = rtnl_uint(tb[IFLA_BR_AGEING_TIME]);
	d->br.vlan_filtering = rtnl_uint(tb[IFLA_BR_VLAN_FILTERING]);
	return 0;
}

int dump_bridge_port(pid_t root, const struct rtattr *protinfo, char *why,
		     size_t len)
{
	const struct fresh *f = get_fresh(root);
	char name[64];
	int type;

	if (!f)
		return -1;
	type = protinfo ? differs(protinfo, f->port, f->port_len,
				  port_skipped) : 0;
	if (!type)
		return 0;
	setting_name(name, sizeof(name), port_names, ARRAY_SIZE(port_names),
		     type);
	snprintf(why, len, "a bridge port whose %s is not a fresh port's",
		 name);
	return 1;
}

/* A VLAN table as a new port has it: VLAN 1 (the default PVID, which
 * dump_bridge_settings compared), PVID and untagged. */
int dump_bridge_vlans_default(const struct rtattr *af_spec)
{
	const struct bridge_vlan_info *v;
	const struct rtattr *a;
	int left, n = 0;

	if (!af_spec)
		return 1;
	left = RTA_PAYLOAD(af_spec);
	for (a = RTA_DATA(af_spec); RTA_OK(a, left); a = RTA_NEXT(a, left)) {
		if ((a->rta_type & NLA_TYPE_MASK) != IFLA_BRIDGE_VLAN_INFO)
			continue;
		if (RTA_PAYLOAD(a) < sizeof(*v))
			return 0;
		v = RTA_DATA(a);
		if (v->vid != 1 || (v->flags & ~BRIDGE_VLAN_INFO_BRENTRY) !=
		    (BRIDGE_VLAN_INFO_PVID | BRIDGE_VLAN_INFO_UNTAGGED))
			return 0;
		n++;
	}
	return n <= 1;
}

void dump_bridge_done(void)
{
	free(fresh);
	fresh = NULL;
}
