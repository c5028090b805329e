/*
 * semantics-net: NETDEV records after the NS and CGROUP records and
 * before any FILE, SHM, GHOST or PROC, only in an image with a network
 * namespace (an NS record of kind net), each index and name once; ROUTE
 * records after them, each naming a NETDEV's index or none.
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
