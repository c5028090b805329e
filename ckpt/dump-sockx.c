/*
 * dump-sockx: what a TCP or UDP socket holds beyond the options of
 * img_inet.opt. Every option of codec-sockx.c's table is read from the
 * socket and from a new one of the same kind; those that differ are kept
 * (or refuse the socket, for those that can't be). Multicast memberships
 * show in no socket option by themselves: the groups joined on each
 * device of the namespace (/proc/net/igmp, igmp6) are the candidates, and
 * MCAST_MSFILTER tells, for each, whether this socket is a member, with
 * which source filter.
 */
#include <sys/socket.h>
#include <arpa/inet.h>
#include <net/if.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ckpt/bpf/sock.h"
#include "ckpt/dump-priv.h"
#include "image/image.h"

/* a group joined on a device, from /proc/net/igmp or igmp6 */
struct cand {
	uint32_t family, ifindex;
	char dev[IFNAMSIZ];
	uint8_t group[16];
};

/* bpf/sock.bpf.c's object, embedded by the Makefile: loaded once */
extern const unsigned char ckpt_sock_bpf[], ckpt_sock_bpf_end[];
static struct dump_bpf sock_bpf = {
	.blob = ckpt_sock_bpf, .end = ckpt_sock_bpf_end, .name = "ckpt_sock",
};

/* What sock.bpf.c tells of ckpt's fd sk, which no getsockopt does;
 * -1 when BPF can't say (not root) */
static int bpf_of(int sk, struct ckpt_sock_rec *out)
{
	struct ckpt_sock_rec *r;
	size_t n, i;
	int ret = -1;

	if (dump_bpf_load(&sock_bpf, NULL, 0))
		return -1;
	r = dump_bpf_iterate(&sock_bpf, getpid(), sizeof(*r), &n);
	for (i = 0; r && i < n; i++)
		if (r[i].fd == sk) {
			*out = r[i];
			ret = 0;
		}
	free(r);
	return ret;
}

int dump_sockx_bpf_works(void)
{
	struct ckpt_sock_rec *r;
	size_t n;

	if (dump_bpf_load(&sock_bpf, NULL, 0))
		return 0;
	r = dump_bpf_iterate(&sock_bpf, getpid(), sizeof(*r), &n);
	free(r);
	return r != NULL;
}

/* The index of the device IP_MULTICAST_IF gave sk: 0 for none, -1 when
 * BPF can't say */
static int mc_index_of(int sk)
{
	struct ckpt_sock_rec r;

	return bpf_of(sk, &r) ? -1 : r.mc_index;
}

/* IP_MULTICAST_IF as the image has it (IMG_XOPT_MREQN): the address
 * getsockopt gives, then the name of the device given by index */
static int mreqn_of(int sk, uint8_t *v, uint32_t *len)
{
	socklen_t l = 4;
	int idx;

	memset(v, 0, IMG_MAX_XOPT);
	if (getsockopt(sk, IPPROTO_IP, IP_MULTICAST_IF, v, &l))
		return -1;
	*len = 20;
	idx = mc_index_of(sk);
	if (idx > 0 && !if_indextoname(idx, (char *)v + 4))
		return -1;
	return 0;
}

static int opt_of(int sk, const struct img_xopt_desc *o, uint8_t *v,
		  uint32_t *len)
{
	/* an interface index is an int; the image holds its name */
	socklen_t l = o->flags & (IMG_XOPT_IFINDEX | IMG_XOPT_IFINDEX_BE) ?
		4 : o->len;

	if (o->flags & IMG_XOPT_MREQN)
		return mreqn_of(sk, v, len);
	memset(v, 0, IMG_MAX_XOPT);
	if (getsockopt(sk, o->level, o->opt, v, &l))
		return -1;
	*len = l;
	return 0;
}

/* x's value as the image keeps it: an interface index as its name */
static const char *keep(const struct img_xopt_desc *o, struct img_xopt *x,
			const uint8_t *v, uint32_t len)
{
	char name[IF_NAMESIZE];
	uint32_t idx;

	x->level = o->level;
	x->opt = o->opt;
	if (!(o->flags & (IMG_XOPT_IFINDEX | IMG_XOPT_IFINDEX_BE))) {
		x->len = (o->flags & IMG_XOPT_VARLEN) ? len : o->len;
		memcpy(x->val, v, x->len);
		return NULL;
	}
	memcpy(&idx, v, sizeof(idx));
	if (o->flags & IMG_XOPT_IFINDEX_BE)
		idx = ntohl(idx);
	if (!if_indextoname(idx, name))
		return "bound to a device that is gone";
	memset(x->val, 0, sizeof(x->val));
	strcpy((char *)x->val, name);
	x->len = o->len;
	return NULL;
}

static const char *read_xopts(struct img_file *f, int sk, int fresh)
{
	static char why[96];
	struct img_inet *in = &f->inet;
	const struct img_xopt_desc *o;
	uint8_t v[IMG_MAX_XOPT], d[IMG_MAX_XOPT];
	uint32_t i, lv, ld;
	const char *err;

	for (i = 0; (o = img_xopt_desc(i)); i++) {
		if (!(o->kinds & (1u << f->kind)) ||
		    (o->family && o->family != in->family) ||
		    ((o->flags & IMG_XOPT_NOCONN) && img_tcp_connection(f)))
			continue;
		if (opt_of(sk, o, v, &lv) || opt_of(fresh, o, d, &ld) ||
		    (lv == ld && !memcmp(v, d, lv)))
			continue;
		if (o->flags & IMG_XOPT_REFUSE) {
			snprintf(why, sizeof(why),
				 "with %s set (\"%.16s\"), which is not supported",
				 o->name, (const char *)v);
			return why;
		}
		if (in->nr_xopts >= IMG_MAX_XOPTS)
			return "with too many socket options";
		if (!in->nr_xopts) {
			in->xopts = calloc(IMG_MAX_XOPTS, sizeof(*in->xopts));
			if (!in->xopts)
				return "out of memory";
		}
		err = keep(o, &in->xopts[in->nr_xopts], v, lv);
		if (err)
			return err;
		in->nr_xopts++;
	}
	return NULL;
}

/* ---- multicast ---------------------------------------------------------- */

static int hexbytes(const char *s, uint8_t *out, size_t n)
{
	size_t i;
	unsigned int b;

	for (i = 0; i < n; i++) {
		if (sscanf(s + 2 * i, "%2x", &b) != 1)
			return -1;
		out[i] = b;
	}
	return 0;
}

static int add_cand(struct cand **c, size_t *n, const struct cand *x)
{
	struct cand *m = realloc(*c, (*n + 1) * sizeof(**c));

	if (!m)
		return -1;
	*c = m;
	m[(*n)++] = *x;
	return 0;
}

/* /proc/net/igmp: a device's line ("1\tlo        :     2      V3"),
 * then its groups ("\t\t\t\t010000E0     1 0:00000000\t\t0"), the
 * address in the kernel's byte order printed as a number */
static int igmp4(FILE *fp, struct cand **c, size_t *n)
{
	struct cand x = { .family = AF_INET };
	char line[256], dev[IFNAMSIZ];
	unsigned int idx, g;

	if (!fgets(line, sizeof(line), fp))
		return 0;
	while (fgets(line, sizeof(line), fp)) {
		if (line[0] != '\t') {
			if (sscanf(line, "%u %15s", &idx, dev) != 2)
				return -1;
			x.ifindex = idx;
			memcpy(x.dev, dev, sizeof(x.dev));
			continue;
		}
		if (sscanf(line, " %8x", &g) != 1 || !x.ifindex)
			return -1;
		memset(x.group, 0, sizeof(x.group));
		memcpy(x.group, &g, 4);	/* the kernel's own order */
		if (add_cand(c, n, &x))
			return -1;
	}
	return 0;
}

/* /proc/net/igmp6: "1    lo              ff02...0001     1 0000000C 0" */
static int igmp6(FILE *fp, struct cand **c, size_t *n)
{
	struct cand x = { .family = AF_INET6 };
	char line[256], dev[IFNAMSIZ], hex[33];
	unsigned int idx;

	while (fgets(line, sizeof(line), fp)) {
		if (sscanf(line, "%u %15s %32s", &idx, dev, hex) != 3 ||
		    strlen(hex) != 32 || hexbytes(hex, x.group, 16))
			return -1;
		x.ifindex = idx;
		memcpy(x.dev, dev, sizeof(x.dev));
		if (add_cand(c, n, &x))
			return -1;
	}
	return 0;
}

/* The groups joined in ckpt's network namespace (the tree's while it is
 * dumped: dump-netdev.c) */
static int candidates(uint32_t family, struct cand **c, size_t *n)
{
	const char *path = family == AF_INET ? "/proc/thread-self/net/igmp" :
		"/proc/thread-self/net/igmp6";
	FILE *fp = fopen(path, "re");
	int ret;

	if (!fp)
		return family == AF_INET6 ? 0 : -1;	/* IPv6 may be off */
	ret = family == AF_INET ? igmp4(fp, c, n) : igmp6(fp, c, n);
	fclose(fp);
	return ret;
}

static void to_ss(uint32_t family, const uint8_t *a, struct sockaddr_storage *ss)
{
	memset(ss, 0, sizeof(*ss));
	ss->ss_family = family;
	if (family == AF_INET)
		memcpy(&((struct sockaddr_in *)ss)->sin_addr, a, 4);
	else
		memcpy(&((struct sockaddr_in6 *)ss)->sin6_addr, a, 16);
}

static void from_ss(uint32_t family, const struct sockaddr_storage *ss,
		    uint8_t *a)
{
	memset(a, 0, 16);
	if (family == AF_INET)
		memcpy(a, &((const struct sockaddr_in *)ss)->sin_addr, 4);
	else
		memcpy(a, &((const struct sockaddr_in6 *)ss)->sin6_addr, 16);
}

/* Is sk a member of c's group? Its filter into m. 1 yes, 0 no, -1 error */
static int member(int sk, const struct cand *c, struct img_mcast *m)
{
	uint32_t cap = 64, i;
	struct group_filter *gf = NULL;
	socklen_t l;

	for (;;) {
		l = GROUP_FILTER_SIZE(cap);
		free(gf);
		gf = calloc(1, l);
		if (!gf)
			return -1;
		gf->gf_interface = c->ifindex;
		to_ss(c->family, c->group, &gf->gf_group);
		gf->gf_numsrc = cap;
		if (getsockopt(sk, c->family == AF_INET ? IPPROTO_IP :
			       IPPROTO_IPV6, MCAST_MSFILTER, gf, &l)) {
			free(gf);
			return errno == EADDRNOTAVAIL || errno == EINVAL ||
				errno == ENODEV || errno == ENOPROTOOPT ? 0 : -1;
		}
		if (gf->gf_numsrc <= cap)
			break;
		cap = gf->gf_numsrc;
		if (cap > IMG_MAX_MCAST_SRC) {
			free(gf);
			errno = E2BIG;
			return -1;
		}
	}
	memset(m, 0, sizeof(*m));
	m->family = c->family;
	m->dev = strdup(c->dev);
	memcpy(m->group, c->group, 16);
	m->mode = gf->gf_fmode;
	m->nr_src = gf->gf_numsrc;
	m->src = m->nr_src ? calloc(m->nr_src, 16) : NULL;
	for (i = 0; m->src && i < m->nr_src; i++)
		from_ss(c->family, &gf->gf_slist[i], m->src[i]);
	free(gf);
	if (!m->dev || (m->nr_src && !m->src)) {
		free(m->dev);
		free(m->src);
		return -1;
	}
	return 1;
}

static const char *read_mcast(struct img_file *f, int sk)
{
	struct img_inet *in = &f->inet;
	struct cand *c = NULL;
	size_t n = 0, i;
	struct img_mcast m;
	const char *why = NULL;
	int r;

	if (f->kind != IMG_FILE_UDP)
		return NULL;	/* TCP can't join groups */
	if (candidates(AF_INET, &c, &n) ||
	    (in->family == AF_INET6 && candidates(AF_INET6, &c, &n))) {
		free(c);
		return "in a namespace whose multicast groups can't be read";
	}
	for (i = 0; i < n && !why; i++) {
		r = member(sk, &c[i], &m);
		if (r < 0)
			why = "with a multicast group ckpt can't read";
		if (r <= 0)
			continue;
		if (in->nr_mcast >= IMG_MAX_MCAST) {
			free(m.dev);
			free(m.src);
			why = "in too many multicast groups";
			continue;
		}
		if (!in->nr_mcast) {
			in->mcast = calloc(IMG_MAX_MCAST, sizeof(*in->mcast));
			if (!in->mcast) {
				free(m.dev);
				free(m.src);
				why = "out of memory";
				continue;
			}
		}
		in->mcast[in->nr_mcast++] = m;
	}
	free(c);
	return why;
}

const char *dump_sockx_read(struct img_file *f, int sk, int fresh)
{
	const char *why = read_xopts(f, sk, fresh);
	struct ckpt_sock_rec r;
	int seen;
	char b;

	if (why || f->kind != IMG_FILE_TCP)
		return why ? why : read_mcast(f, sk);
	seen = !bpf_of(sk, &r);
	if (seen && r.md5)
		return "with TCP_MD5SIG keys (no call reads them back), which is not supported";
	/* without BPF, the urgent byte waiting to be read is seen alone */
	if ((seen && r.urg) ||
	    recv(sk, &b, 1, MSG_OOB | MSG_PEEK | MSG_DONTWAIT) == 1)
		return "with urgent data (MSG_OOB) to read or being sent, which is not supported";
	return NULL;
}
