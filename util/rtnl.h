/*
 * rtnl: the few rtnetlink exchanges that ckpt (dump-netdev.c) and restore
 * (netdev.c) make with the kernel about network devices, addresses and
 * routes: a request and its acknowledgement, a dump walked message by
 * message, and attributes put into and read from a message.
 */
#ifndef CKPT_RTNL_H
#define CKPT_RTNL_H

#include <stddef.h>
#include <stdint.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>

#define RTNL_BUF	8192	/* one request, attributes included */

struct rtnl_req {
	struct nlmsghdr *h;	/* at the start of buf */
	char buf[RTNL_BUF] __attribute__((aligned(NLMSG_ALIGNTO)));
	int failed;		/* an attribute did not fit */
};

/* A NETLINK_ROUTE socket of the caller's network namespace, or -1 */
int rtnl_open(void);
/* A request of type with flags (NLM_F_REQUEST | NLM_F_ACK added) whose
 * fixed header, of hdr_len bytes, is hdr */
void rtnl_begin(struct rtnl_req *r, int type, int flags, const void *hdr,
		size_t hdr_len);
void rtnl_put(struct rtnl_req *r, int type, const void *data, size_t len);
/* a nested attribute: put its members, then rtnl_nest_end */
struct rtattr *rtnl_nest(struct rtnl_req *r, int type);
void rtnl_nest_end(struct rtnl_req *r, struct rtattr *nest);
/* Send it and wait for the kernel's answer: 0, or -1 with errno */
int rtnl_talk(int fd, struct rtnl_req *r);
/* The same for a request the kernel answers (RTM_GETNSID...): fn(message,
 * arg) for each message of the answer before its acknowledgement */
int rtnl_ask(int fd, struct rtnl_req *r,
	     void (*fn)(const struct nlmsghdr *h, void *arg), void *arg);
/* A dump of type (RTM_GETLINK, RTM_GETADDR, RTM_GETROUTE) for family:
 * fn(message, arg) for each message until fn returns nonzero (which is
 * returned) or the dump ends (0); -1 with errno on failure. */
int rtnl_dump(int fd, int type, int family,
	      int (*fn)(const struct nlmsghdr *h, void *arg), void *arg);
/* The same for a link dump that asks for more (IFLA_EXT_MASK:
 * RTEXT_FILTER_BRVLAN...) */
int rtnl_dump_ext(int fd, int type, int family, uint32_t ext_mask,
		  int (*fn)(const struct nlmsghdr *h, void *arg), void *arg);
/* an attribute's unsigned value of 1, 2 or 4 bytes (0 if NULL) */
uint32_t rtnl_uint(const struct rtattr *a);
/* tb[0..max] from the attributes after a fixed header of hdr_len bytes */
void rtnl_attrs(const struct nlmsghdr *h, size_t hdr_len,
		const struct rtattr **tb, int max);
/* the same for the attributes nested in a */
void rtnl_nested(const struct rtattr *a, const struct rtattr **tb, int max);

#endif
