/*
 * rtnl: requests to the kernel's rtnetlink (rtnetlink(7)), each waited for
 * until its acknowledgement, and dumps read to their NLMSG_DONE.
 */
#include <sys/socket.h>
#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

#include "util/rtnl.h"

int rtnl_open(void)
{
	struct sockaddr_nl sa = { .nl_family = AF_NETLINK };
	int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);

	if (fd < 0)
		return -1;
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa))) {
		int saved = errno;

		close(fd);
		errno = saved;
		return -1;
	}
	return fd;
}

void rtnl_begin(struct rtnl_req *r, int type, int flags, const void *hdr,
		size_t hdr_len)
{
	memset(r->buf, 0, NLMSG_SPACE(hdr_len));
	r->failed = 0;
	r->h = (struct nlmsghdr *)r->buf;
	r->h->nlmsg_len = NLMSG_LENGTH(hdr_len);
	r->h->nlmsg_type = type;
	r->h->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK | flags;
	memcpy(NLMSG_DATA(r->h), hdr, hdr_len);
}

void rtnl_put(struct rtnl_req *r, int type, const void *data, size_t len)
{
	size_t at = NLMSG_ALIGN(r->h->nlmsg_len);
	struct rtattr *a = (struct rtattr *)(r->buf + at);

	if (at + RTA_SPACE(len) > sizeof(r->buf)) {
		r->failed = 1;
		return;
	}
	a->rta_type = type;
	a->rta_len = RTA_LENGTH(len);
	if (len)
		memcpy(RTA_DATA(a), data, len);
	r->h->nlmsg_len = at + RTA_SPACE(len);
}

struct rtattr *rtnl_nest(struct rtnl_req *r, int type)
{
	struct rtattr *a = (struct rtattr *)(r->buf +
					     NLMSG_ALIGN(r->h->nlmsg_len));

	rtnl_put(r, type, NULL, 0);
	return r->failed ? NULL : a;
}

void rtnl_nest_end(struct rtnl_req *r, struct rtattr *nest)
{
	if (nest)
		nest->rta_len = r->buf + r->h->nlmsg_len - (char *)nest;
}

/* one reply into buf: its length, or -1 */
static ssize_t reply(int fd, void *buf, size_t len)
{
	ssize_t n;

	do
		n = recv(fd, buf, len, 0);
	while (n < 0 && errno == EINTR);
	return n;
}

int rtnl_talk(int fd, struct rtnl_req *r)
{
	return rtnl_ask(fd, r, NULL, NULL);
}

int rtnl_ask(int fd, struct rtnl_req *r,
	     void (*fn)(const struct nlmsghdr *h, void *arg), void *arg)
{
	static uint32_t seq;
	long buf[1024];
	struct nlmsghdr *h;
	ssize_t n;
	int len;

	if (r->failed) {
		errno = EMSGSIZE;
		return -1;
	}
	r->h->nlmsg_seq = ++seq;
	if (send(fd, r->h, r->h->nlmsg_len, 0) != (ssize_t)r->h->nlmsg_len)
		return -1;
	for (;;) {
		n = reply(fd, buf, sizeof(buf));
		if (n < 0)
			return -1;
		len = n;
		for (h = (struct nlmsghdr *)buf; NLMSG_OK(h, (unsigned)len);
		     h = NLMSG_NEXT(h, len)) {
			struct nlmsgerr *e = NLMSG_DATA(h);

			if (h->nlmsg_seq != seq)
				continue;
			if (h->nlmsg_type != NLMSG_ERROR) {
				if (fn)
					fn(h, arg);
				continue;
			}
			if (!e->error)
				return 0;
			errno = -e->error;
			return -1;
		}
	}
}

/* fn over the messages of one reply until it returns nonzero (in *ret);
 * 1 at the end of the dump */
static int walk(struct nlmsghdr *h, int len, uint32_t seq,
		int (*fn)(const struct nlmsghdr *h, void *arg), void *arg,
		int *ret)
{
	for (; NLMSG_OK(h, len); h = NLMSG_NEXT(h, len)) {
		if (h->nlmsg_seq != seq)
			continue;
		if (h->nlmsg_type == NLMSG_DONE)
			return 1;
		if (h->nlmsg_type == NLMSG_ERROR) {
			struct nlmsgerr *e = NLMSG_DATA(h);

			errno = e->error ? -e->error : EPROTO;
			*ret = -1;
			return 1;
		}
		if (!*ret)
			*ret = fn(h, arg);
	}
	return 0;
}

static int dump_reply(int fd, uint32_t seq,
		      int (*fn)(const struct nlmsghdr *h, void *arg), void *arg)
{
	long buf[8192];
	int ret = 0, done = 0;
	ssize_t n;

	/* read to the end even after fn said stop: the socket is reused */
	while (!done) {
		n = reply(fd, buf, sizeof(buf));
		if (n < 0)
			return -1;
		done = walk((struct nlmsghdr *)buf, n, seq, fn, arg, &ret);
	}
	return ret;
}

static uint32_t dump_seq(void)
{
	static uint32_t last = 1u << 30;

	return ++last;	/* fn may make a dump of its own */
}

int rtnl_dump(int fd, int type, int family,
	      int (*fn)(const struct nlmsghdr *h, void *arg), void *arg)
{
	uint32_t seq = dump_seq();
	struct {
		struct nlmsghdr h;
		struct rtgenmsg g;
	} rq = {
		.h = { .nlmsg_len = sizeof(rq), .nlmsg_type = type,
		       .nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP,
		       .nlmsg_seq = seq },
		.g = { .rtgen_family = family },
	};

	if (send(fd, &rq, sizeof(rq), 0) != sizeof(rq))
		return -1;
	return dump_reply(fd, seq, fn, arg);
}

/* an ifinfomsg and IFLA_EXT_MASK: the kernel reads both in a link dump */
int rtnl_dump_ext(int fd, int type, int family, uint32_t ext_mask,
		  int (*fn)(const struct nlmsghdr *h, void *arg), void *arg)
{
	uint32_t seq = dump_seq();
	struct {
		struct nlmsghdr h;
		struct ifinfomsg i;
		struct rtattr a;
		uint32_t mask;
	} rq = {
		.h = { .nlmsg_len = sizeof(rq), .nlmsg_type = type,
		       .nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP,
		       .nlmsg_seq = seq },
		.i = { .ifi_family = family },
		.a = { .rta_len = RTA_LENGTH(4), .rta_type = IFLA_EXT_MASK },
		.mask = ext_mask,
	};

	if (send(fd, &rq, sizeof(rq), 0) != sizeof(rq))
		return -1;
	return dump_reply(fd, seq, fn, arg);
}

static void parse(const struct rtattr *a, int len, const struct rtattr **tb,
		  int max)
{
	memset(tb, 0, sizeof(*tb) * (max + 1));
	for (; RTA_OK(a, len); a = RTA_NEXT(a, len))
		if (a->rta_type <= max)
			tb[a->rta_type] = a;
}

void rtnl_attrs(const struct nlmsghdr *h, size_t hdr_len,
		const struct rtattr **tb, int max)
{
	const struct rtattr *a = (const struct rtattr *)
		((const char *)NLMSG_DATA(h) + NLMSG_ALIGN(hdr_len));

	parse(a, (int)h->nlmsg_len - (int)NLMSG_LENGTH(NLMSG_ALIGN(hdr_len)),
	      tb, max);
}

void rtnl_nested(const struct rtattr *a, const struct rtattr **tb, int max)
{
	parse(RTA_DATA(a), RTA_PAYLOAD(a), tb, max);
}

uint32_t rtnl_uint(const struct rtattr *a)
{
	uint32_t v32 = 0;
	uint16_t v16 = 0;

	if (!a)
		return 0;
	if (RTA_PAYLOAD(a) >= 4) {
		memcpy(&v32, RTA_DATA(a), 4);
		return v32;
	}
	if (RTA_PAYLOAD(a) >= 2) {
		memcpy(&v16, RTA_DATA(a), 2);
		return v16;
	}
	return RTA_PAYLOAD(a) ? *(const uint8_t *)RTA_DATA(a) : 0;
}
