/*
 * semantics-net: NETDEV records after the NS and CGROUP records and
 * before any FILE, SHM, GHOST or PROC, only in an image with a network
 * namespace (an NS record of kind net), each index and name once; ROUTE
 * records after them, each naming a NETDEV's index or none. Once the
 * FILEs are read: the two ends of a veth pair inside name each other; a
 * bridge's ports are other NETDEVs, no bridge, each in
 * one bridge; a TUN FILE's device is a TUN NETDEV, one of a single queue
 * (not IFF_MULTI_QUEUE) has one FILE at most, and one that is not
 * persistent at least one (else nothing would hold it).
 */
#include <stdlib.h>
#include <string.h>

#include "image/reader-priv.h"

static int has_netns(const struct image *img)
{
	uint32_t i;

	for (i = 0; i < img->nr_nss; i++)
		if (img->nss[i].kind == IMG_NS_NET)
			return 1;
	return 0;
}

static int too_late(struct rd *r, const char *what)
{
	const struct image *img = r->img;

	if (!img->nr_files && !img->nr_shms && !img->nr_ghosts &&
	    !img->nr_procs && has_netns(img))
		return 0;
	rec_fail(r, "%s record after a FILE, SHM, GHOST or PROC, or in no network namespace",
		 what);
	return 1;
}

int sem_netdev(struct rd *r, struct dec *d)
{
	struct image *img = r->img;
	struct img_netdev *n;
	uint32_t i;

	if (too_late(r, "NETDEV"))
		return -1;
	if (img->nr_routes) {
		rec_fail(r, "NETDEV record after a ROUTE");
		return -1;
	}
	if (img->nr_netdevs >= IMG_MAX_NETDEVS) {
		rec_fail(r, "more than %u network devices", IMG_MAX_NETDEVS);
		return -1;
	}
	if (rd_grow(r, &img->netdevs, &r->cap_netdevs, img->nr_netdevs,
		    sizeof(*n)))
		return -1;
	n = &img->netdevs[img->nr_netdevs++];
	memset(n, 0, sizeof(*n));
	if (img_dec_netdev(d, n))
		return -1;
	for (i = 0; i + 1 < img->nr_netdevs; i++)
		if (img->netdevs[i].index == n->index ||
		    !strcmp(img->netdevs[i].name, n->name)) {
			rec_fail(r, "network device %u (%s) recorded twice",
				 n->index, n->name);
			return -1;
		}
	return 0;
}

int sem_route(struct rd *r, struct dec *d)
{
	struct image *img = r->img;
	struct img_route *rt;
	uint32_t i;

	if (too_late(r, "ROUTE"))
		return -1;
	if (img->nr_routes >= IMG_MAX_ROUTES) {
		rec_fail(r, "more than %u routes", IMG_MAX_ROUTES);
		return -1;
	}
	if (rd_grow(r, &img->routes, &r->cap_routes, img->nr_routes,
		    sizeof(*rt)))
		return -1;
	rt = &img->routes[img->nr_routes++];
	memset(rt, 0, sizeof(*rt));
	if (img_dec_route(d, rt))
		return -1;
	for (i = 0; rt->dev && i < img->nr_netdevs; i++)
		if (img->netdevs[i].index == rt->dev)
			return 0;
	if (!rt->dev)
		return 0;
	rec_fail(r, "route through device %u, which has no NETDEV record",
		 rt->dev);
	return -1;
}

static const struct img_netdev *dev_named(const struct image *img,
					  const char *name)
{
	uint32_t i;

	for (i = 0; i < img->nr_netdevs; i++)
		if (!strcmp(img->netdevs[i].name, name))
			return &img->netdevs[i];
	return NULL;
}

/* how many bridges list name as a port */
static uint32_t bridges_of(const struct image *img, const char *name)
{
	uint32_t i, k, n = 0;

	for (i = 0; i < img->nr_netdevs; i++)
		for (k = 0; k < img->netdevs[i].br.nr_ports; k++)
			n += !strcmp(img->netdevs[i].br.ports[k], name);
	return n;
}

static int check_ports(struct rd *r, const struct img_netdev *b)
{
	const struct img_netdev *p;
	uint32_t k;

	for (k = 0; k < b->br.nr_ports; k++) {
		p = dev_named(r->img, b->br.ports[k]);
		if (p && p->kind != IMG_NETDEV_BRIDGE &&
		    p->kind != IMG_NETDEV_LO &&
		    bridges_of(r->img, p->name) == 1)
			continue;
		rd_fail(r, "bridge %s: port %s is no device of the image, a bridge or in two bridges",
			b->name, b->br.ports[k]);
		return -1;
	}
	return 0;
}

/* a veth pair inside: each end names the other */
static int check_inner(struct rd *r, const struct img_netdev *v)
{
	const struct img_netdev *p = dev_named(r->img, v->peer);

	if (p && p != v && p->kind == IMG_NETDEV_VETH && p->inner &&
	    !strcmp(p->peer, v->name))
		return 0;
	rd_fail(r, "veth %s: its peer %s inside is no veth of the image naming it",
		v->name, v->peer);
	return -1;
}

static int check_tun(struct rd *r, const struct img_netdev *t)
{
	uint32_t i, n = 0;

	for (i = 0; i < r->img->nr_files; i++)
		n += r->img->files[i].kind == IMG_FILE_TUN &&
		     r->img->files[i].tun_dev &&
		     !strcmp(r->img->files[i].tun_dev, t->name);
	if ((n || (t->tun.flags & IMG_TUN_PERSIST)) &&
	    (n <= 1 || (t->tun.flags & 0x0100u)))
		return 0;
	rd_fail(r, "tun %s: %u files on it, %s", t->name, n,
		n ? "without IFF_MULTI_QUEUE" : "and not persistent");
	return -1;
}

int sem_net_end(struct rd *r)
{
	const struct image *img = r->img;
	const struct img_netdev *d;
	uint32_t i;

	for (i = 0; i < img->nr_netdevs; i++) {
		d = &img->netdevs[i];
		if ((d->inner && check_inner(r, d)) ||
		    (d->kind == IMG_NETDEV_BRIDGE && check_ports(r, d)) ||
		    (d->kind == IMG_NETDEV_TUN && check_tun(r, d)))
			return -1;
	}
	for (i = 0; i < img->nr_files; i++) {
		const struct img_file *f = &img->files[i];

		if (f->kind != IMG_FILE_TUN || !f->tun_dev)
			continue;
		d = dev_named(img, f->tun_dev);
		if (!d || d->kind != IMG_NETDEV_TUN) {
			rd_fail(r, "file %u: on tun device %s, which has no NETDEV record",
				f->id, f->tun_dev);
			return -1;
		}
	}
	return 0;
}
