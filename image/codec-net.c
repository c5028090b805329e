/*
 * codec-net: the NETDEV and ROUTE records of the tree's network namespace
 * (see image.h). NETDEV: u32 index kind up mtu mac_len; 32 bytes mac; str
 * name peer (peer: a veth's, a macvlan's lower device, else absent); u32
 * nr_addrs; then per address u32 family prefixlen scope flags, 16 bytes
 * addr; then, for a macvlan only, u32 mode flags; for a bridge u32 stp
 * forward_delay ageing_time vlan_filtering nr_ports, str port each; for a
 * tun u32 flags, i32 owner group, u32 vnet_hdr_sz sndbuf; for a veth
 * whose peer is in the tree's namespace too, u32 inner (1), last (others
 * have none, as before it was). ROUTE: u32 family dst_len dev
 * protocol scope type priority has_gw; 16 bytes dst gw.
 */
#include <sys/socket.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "image/image.h"
#include "image/image-priv.h"

const char *img_netdev_kind_name(uint32_t kind)
{
	switch (kind) {
	case IMG_NETDEV_LO:
		return "loopback";
	case IMG_NETDEV_VETH:
		return "veth";
	case IMG_NETDEV_MACVLAN:
		return "macvlan";
	case IMG_NETDEV_BRIDGE:
		return "bridge";
	case IMG_NETDEV_TUN:
		return "tun";
	}
	return "unknown";
}

void dec_raw16(struct dec *d, uint8_t a[16])
{
	uint64_t lo = 0, hi = 0;

	dec_u64(d, &lo);
	dec_u64(d, &hi);
	put_le64(a, lo);
	put_le64(a + 8, hi);
}

/* a family's address: v4 has its last 12 bytes zero */
static int addr_ok(uint32_t family, const uint8_t a[16], uint32_t len)
{
	static const uint8_t zero[12];

	if (family == AF_INET)
		return len <= 32 && !memcmp(a + 4, zero, 12);
	return family == AF_INET6 && len <= 128;
}

/* a name the kernel takes for a device: 1 to 15 bytes, no / or space */
static int ifname_ok(const char *s)
{
	size_t n = s ? strlen(s) : 0;

	return n && n <= IMG_MAX_IFNAME && !strpbrk(s, "/ \t\n:") &&
	       strcmp(s, ".") && strcmp(s, "..");
}

static void enc_bridge(struct enc *e, const struct img_netdev *n)
{
	uint32_t i;

	enc_u32(e, n->br.stp);
	enc_u32(e, n->br.forward_delay);
	enc_u32(e, n->br.ageing_time);
	enc_u32(e, n->br.vlan_filtering);
	enc_cap(e, n->br.nr_ports, IMG_MAX_BRPORTS, "too many bridge ports");
	enc_u32(e, n->br.nr_ports);
	for (i = 0; i < n->br.nr_ports && i < IMG_MAX_BRPORTS; i++)
		enc_str(e, n->br.ports[i], 0, "bridge port name missing");
}

static void enc_tun(struct enc *e, const struct img_netdev *n)
{
	enc_u32(e, n->tun.flags);
	enc_u32(e, (uint32_t)n->tun.owner);
	enc_u32(e, (uint32_t)n->tun.group);
	enc_u32(e, n->tun.vnet_hdr_sz);
	enc_u32(e, n->tun.sndbuf);
}

int img_enc_netdev(struct enc *e, const struct img_netdev *n)
{
	uint8_t mac[IMG_MAX_MAC] = { 0 };
	uint32_t i;

	enc_u32(e, n->index);
	enc_u32(e, n->kind);
	enc_u32(e, n->up);
	enc_u32(e, n->mtu);
	enc_cap(e, n->mac_len, IMG_MAX_MAC, "MAC address too long");
	enc_u32(e, n->mac_len);
	memcpy(mac, n->mac, n->mac_len <= IMG_MAX_MAC ? n->mac_len : 0);
	enc_bytes(e, mac, sizeof(mac));
	enc_str(e, n->name, 0, "device name missing");
	enc_str(e, n->peer, n->kind != IMG_NETDEV_VETH &&
		!IMG_NETDEV_LOWERED(n->kind), "veth peer or lower device missing");
	enc_cap(e, n->nr_addrs, IMG_MAX_NETADDRS, "too many addresses");
	enc_u32(e, n->nr_addrs);
	for (i = 0; i < n->nr_addrs && i < IMG_MAX_NETADDRS; i++) {
		enc_u32(e, n->addrs[i].family);
		enc_u32(e, n->addrs[i].prefixlen);
		enc_u32(e, n->addrs[i].scope);
		enc_u32(e, n->addrs[i].flags);
		enc_bytes(e, n->addrs[i].addr, 16);
	}
	if (IMG_NETDEV_LOWERED(n->kind)) {
		enc_u32(e, n->mode);
		enc_u32(e, n->flags);
	}
	if (n->kind == IMG_NETDEV_BRIDGE)
		enc_bridge(e, n);
	if (n->kind == IMG_NETDEV_TUN)
		enc_tun(e, n);
	if (n->kind == IMG_NETDEV_VETH && n->inner)
		enc_u32(e, n->inner);
	return e->err ? -1 : 0;
}

/* macvlan: private, vepa, bridge or passthru (not source), flags
 * nopromisc and nodst */
static int lowered_ok(const struct img_netdev *n)
{
	return (n->mode == 1 || n->mode == 2 || n->mode == 4 ||
		n->mode == 8) && !(n->flags & ~3u);
}

/* stp 0 off, 1 kernel, 2 user space; times and flags as the kernel
 * takes them */
static void dec_bridge(struct dec *d, struct img_netdev *n)
{
	uint32_t i;

	dec_u32(d, &n->br.stp);
	dec_u32(d, &n->br.forward_delay);
	dec_u32(d, &n->br.ageing_time);
	dec_u32(d, &n->br.vlan_filtering);
	dec_u32(d, &n->br.nr_ports);
	dec_check(d, n->br.stp <= 2 && n->br.vlan_filtering <= 1 &&
		  n->br.forward_delay <= 3000 &&
		  n->br.ageing_time <= 100000000,
		  "bridge %s: bad settings", n->name);
	if (!dec_count_ok(d, n->br.nr_ports, IMG_MAX_BRPORTS, 4,
			  "bridge ports"))
		return;
	if (n->br.nr_ports)
		n->br.ports = dec_alloc(d, n->br.nr_ports * sizeof(char *));
	for (i = 0; n->br.ports && i < n->br.nr_ports; i++) {
		dec_str(d, &n->br.ports[i], 0, "bridge port");
		dec_check(d, ifname_ok(n->br.ports[i]) &&
			  strcmp(n->br.ports[i], n->name),
			  "bridge %s: bad port name", n->name);
	}
}

static void dec_tun(struct dec *d, struct img_netdev *n)
{
	uint32_t owner = 0, group = 0, type;

	dec_u32(d, &n->tun.flags);
	dec_u32(d, &owner);
	dec_u32(d, &group);
	dec_u32(d, &n->tun.vnet_hdr_sz);
	dec_u32(d, &n->tun.sndbuf);
	n->tun.owner = (int32_t)owner;
	n->tun.group = (int32_t)group;
	type = n->tun.flags & 3;
	dec_check(d, !(n->tun.flags & ~IMG_TUN_FLAGS) && (type == 1 || type == 2),
		  "tun %s: bad flags %#x", n->name, n->tun.flags);
	dec_check(d, n->tun.owner >= -1 && n->tun.group >= -1 &&
		  (!n->tun.vnet_hdr_sz || (n->tun.vnet_hdr_sz >= 10 &&
					   n->tun.vnet_hdr_sz <= 65535)) &&
		  n->tun.sndbuf <= INT32_MAX &&
		  !n->tun.vnet_hdr_sz == !n->tun.sndbuf,
		  "tun %s: bad owner, group, header size or buffer", n->name);
}

int img_dec_netdev(struct dec *d, struct img_netdev *n)
{
	struct img_netaddr *a;
	uint32_t i, k;

	dec_u32(d, &n->index);
	dec_u32(d, &n->kind);
	dec_u32(d, &n->up);
	dec_u32(d, &n->mtu);
	dec_u32(d, &n->mac_len);
	for (i = 0; i < IMG_MAX_MAC; i += 16)
		dec_raw16(d, n->mac + i);
	dec_str(d, &n->name, 0, "device name");
	dec_str(d, &n->peer, 1, "veth peer");
	dec_u32(d, &n->nr_addrs);
	if (!dec_count_ok(d, n->nr_addrs, IMG_MAX_NETADDRS, 32, "addresses"))
		return -1;
	if (n->nr_addrs)
		n->addrs = dec_alloc(d, n->nr_addrs * sizeof(*n->addrs));
	for (i = 0; n->addrs && i < n->nr_addrs; i++) {
		a = &n->addrs[i];
		dec_u32(d, &a->family);
		dec_u32(d, &a->prefixlen);
		dec_u32(d, &a->scope);
		dec_u32(d, &a->flags);
		dec_raw16(d, a->addr);
		dec_check(d, a->scope <= 255 && !(a->flags & ~IMG_NETADDR_FLAGS),
			  "device %s: bad address scope or flags", n->name);
		dec_check(d, addr_ok(a->family, a->addr, a->prefixlen),
			  "device %s: bad address (family %u, /%u)", n->name,
			  a->family, a->prefixlen);
	}
	if (IMG_NETDEV_LOWERED(n->kind)) {
		dec_u32(d, &n->mode);
		dec_u32(d, &n->flags);
		dec_check(d, lowered_ok(n), "device %s: bad %s mode %u or "
			  "flags %#x", n->name, img_netdev_kind_name(n->kind),
			  n->mode, n->flags);
	}
	if (n->kind == IMG_NETDEV_BRIDGE)
		dec_bridge(d, n);
	if (n->kind == IMG_NETDEV_TUN)
		dec_tun(d, n);
	if (n->kind == IMG_NETDEV_VETH && d->pos < d->len) {
		dec_u32(d, &n->inner);
		dec_check(d, n->inner == 1, "device %s: bad inner %u", n->name,
			  n->inner);
	}
	dec_check(d, n->kind && n->kind <= IMG_NETDEV_KIND_MAX,
		  "device kind %u unknown", n->kind);
	dec_check(d, n->index > 0 && n->index <= INT32_MAX && n->up <= 1 &&
		  n->mac_len <= IMG_MAX_MAC && n->mtu <= 65536,
		  "device %u: bad index, flag, MAC length or MTU", n->index);
	dec_check(d, ifname_ok(n->name), "bad device name");
	dec_check(d, n->kind == IMG_NETDEV_VETH || IMG_NETDEV_LOWERED(n->kind) ?
		  ifname_ok(n->peer) : !n->peer,
		  "device %s: bad or misplaced veth peer or lower device",
		  n->name);
	dec_check(d, n->kind != IMG_NETDEV_LO || !strcmp(n->name, "lo"),
		  "loopback device named %s", n->name);
	for (k = n->mac_len; k < IMG_MAX_MAC; k++)
		dec_check(d, !n->mac[k], "device %s: bytes after its MAC",
			  n->name);
	return dec_end(d);
}

void img_netdev_free(struct img_netdev *n)
{
	uint32_t i;

	for (i = 0; n->br.ports && i < n->br.nr_ports; i++)
		free(n->br.ports[i]);
	free(n->br.ports);
	n->br.ports = NULL;
	free(n->name);
	free(n->peer);
	free(n->addrs);
	n->name = n->peer = NULL;
	n->addrs = NULL;
}

int img_enc_route(struct enc *e, const struct img_route *r)
{
	enc_u32(e, r->family);
	enc_u32(e, r->dst_len);
	enc_u32(e, r->dev);
	enc_u32(e, r->protocol);
	enc_u32(e, r->scope);
	enc_u32(e, r->type);
	enc_u32(e, r->priority);
	enc_u32(e, r->has_gw);
	enc_bytes(e, r->dst, 16);
	enc_bytes(e, r->gw, 16);
	return e->err ? -1 : 0;
}

int img_dec_route(struct dec *d, struct img_route *r)
{
	dec_u32(d, &r->family);
	dec_u32(d, &r->dst_len);
	dec_u32(d, &r->dev);
	dec_u32(d, &r->protocol);
	dec_u32(d, &r->scope);
	dec_u32(d, &r->type);
	dec_u32(d, &r->priority);
	dec_u32(d, &r->has_gw);
	dec_raw16(d, r->dst);
	dec_raw16(d, r->gw);
	dec_check(d, addr_ok(r->family, r->dst, r->dst_len) &&
		  addr_ok(r->family, r->gw, 0) && r->has_gw <= 1,
		  "bad route (family %u, /%u)", r->family, r->dst_len);
	dec_check(d, r->protocol <= 255 && r->scope <= 255 && r->type <= 255,
		  "bad route protocol, scope or type");
	dec_check(d, r->dev <= INT32_MAX, "bad route device %u", r->dev);
	return dec_end(d);
}
