/*
 * inet-sockx: the SOCKX record given back to a new TCP or UDP socket:
 * each option as getsockopt(2) gave it (an interface index by its
 * device's name, in the namespace restore makes the socket in), then
 * each multicast group joined again on its device, with its source
 * filter.
 */
#include <sys/socket.h>
#include <arpa/inet.h>
#include <net/if.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

#include "restore/inet-priv.h"
#include "restore/restore.h"

static int set_xopt(int fd, const struct img_file *f, const struct img_xopt *x)
{
	const struct img_xopt_desc *o = img_xopt_find(x->level, x->opt);
	uint32_t idx;

	const char *dev = o->flags & IMG_XOPT_MREQN ?
		(const char *)x->val + 4 : (const char *)x->val;
	struct ip_mreqn mr = { .imr_ifindex = 0 };

	if (o->flags & IMG_XOPT_MREQN && !dev[0])
		return setsockopt(fd, x->level, x->opt, x->val, 4);
	if (!(o->flags & (IMG_XOPT_IFINDEX | IMG_XOPT_IFINDEX_BE |
			  IMG_XOPT_MREQN)))
		return setsockopt(fd, x->level, x->opt, x->val, x->len);
	idx = if_nametoindex(dev);
	if (!idx) {
		pr_err("can't set %s on socket %llu: no device %s", o->name,
		       (unsigned long long)f->ino, dev);
		return 1;
	}
	if (o->flags & IMG_XOPT_MREQN) {	/* the device by its index */
		memcpy(&mr.imr_address, x->val, 4);
		mr.imr_ifindex = idx;
		return setsockopt(fd, x->level, x->opt, &mr, sizeof(mr));
	}
	if (o->flags & IMG_XOPT_IFINDEX_BE)
		idx = htonl(idx);
	return setsockopt(fd, x->level, x->opt, &idx, sizeof(idx));
}

/* m joined again on fd, its filter set; 0, or -1 said */
static int join(int fd, const struct img_file *f, const struct img_mcast *m)
{
	int level = m->family == AF_INET ? IPPROTO_IP : IPPROTO_IPV6;
	struct group_req gr = { .gr_interface = if_nametoindex(m->dev) };
	struct group_filter *gf;
	socklen_t l;
	uint32_t i;
	int ret;

	if (!gr.gr_interface) {
		pr_err("can't join a multicast group on socket %llu: no device %s",
		       (unsigned long long)f->ino, m->dev);
		return -1;
	}
	inet_sockaddr(m->family, m->group, 0, &gr.gr_group);
	if (setsockopt(fd, level, MCAST_JOIN_GROUP, &gr, sizeof(gr))) {
		pr_perror("can't join socket %llu to a multicast group on %s",
			  (unsigned long long)f->ino, m->dev);
		return -1;
	}
	if (m->mode == MCAST_EXCLUDE && !m->nr_src)
		return 0;	/* what a join makes */
	l = GROUP_FILTER_SIZE(m->nr_src);
	gf = calloc(1, l);
	if (!gf) {
		pr_err("out of memory");
		return -1;
	}
	gf->gf_interface = gr.gr_interface;
	gf->gf_group = gr.gr_group;
	gf->gf_fmode = m->mode;
	gf->gf_numsrc = m->nr_src;
	for (i = 0; i < m->nr_src; i++)
		inet_sockaddr(m->family, m->src[i], 0, &gf->gf_slist[i]);
	ret = setsockopt(fd, level, MCAST_MSFILTER, gf, l);
	if (ret)
		pr_perror("can't set the source filter of a multicast group of socket %llu on %s",
			  (unsigned long long)f->ino, m->dev);
	free(gf);
	return ret ? -1 : 0;
}

int inet_sockx_set(int fd, const struct img_file *f)
{
	const struct img_inet *in = &f->inet;
	uint32_t i;
	int r;

	for (i = 0; i < in->nr_xopts; i++) {
		r = set_xopt(fd, f, &in->xopts[i]);
		if (r < 0)
			pr_perror("can't set %s on socket %llu",
				  img_xopt_find(in->xopts[i].level,
						in->xopts[i].opt)->name,
				  (unsigned long long)f->ino);
		if (r)
			return -1;
	}
	for (i = 0; i < in->nr_mcast; i++)
		if (join(fd, f, &in->mcast[i]))
			return -1;
	return 0;
}
