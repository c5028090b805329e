/*
 * sockopts.c - socket options beyond the common ones, and multicast
 * memberships, each checked after the restore against what was set.
 *
 * fds:
 *   u4  UDP, bound to 0.0.0.0:P, IP_PKTINFO, IP_RECVTTL, IP_RECVERR,
 *       IP_MTU_DISCOVER, SO_RCVTIMEO, IP_MULTICAST_TTL, a datagram to
 *       127.0.0.1 queued (its IP_PKTINFO and TTL kept); member of 239.1.2.3 on lo with
 *       10.1.1.1 blocked (exclude mode), and of 239.4.5.6 on lo from
 *       127.0.0.1 only (include mode)
 *   u6  UDP IPv6: IPV6_RECVPKTINFO, IPV6_MULTICAST_HOPS, IPV6_MULTICAST_IF
 *       lo, member of ff05::4242 on lo
 *   tx  UDP sender: IP_MULTICAST_IF lo, by its index (struct ip_mreqn)
 *   l   TCP listener: TCP_DEFER_ACCEPT, TCP_FASTOPEN, TCP_NOTSENT_LOWAT,
 *       SO_RCVLOWAT, TCP_MAXSEG, TCP_WINDOW_CLAMP, another congestion
 *       control than the default
 *   c,a a TCP connection (c to l, accepted as a), c with another
 *       congestion control and SO_SNDTIMEO
 *
 * After the restore every option reads back as set, each membership has
 * its filter, a datagram sent to 239.1.2.3:P arrives on u4 with its
 * IP_PKTINFO, and the connection still carries bytes.
 */
#include <sys/socket.h>
#include <sys/time.h>
#include <arpa/inet.h>
#include <net/if.h>
#include <netinet/in.h>
#include <netinet/tcp.h>

#include "workload.h"

static int u4, u6, tx, l, c, a;
static uint16_t port;
static int defer;		/* TCP_DEFER_ACCEPT as read: rounded */
static struct timeval rcvtimeo, sndtimeo;	/* as read */
static char cong[16];		/* "" when only one is available */

static void mjoin(int fd, int level, int family, const char *group)
{
	struct group_req gr = { .gr_interface = if_nametoindex("lo") };

	gr.gr_group.ss_family = family;
	if (family == AF_INET)
		inet_pton(AF_INET, group,
			  &((struct sockaddr_in *)&gr.gr_group)->sin_addr);
	else
		inet_pton(AF_INET6, group,
			  &((struct sockaddr_in6 *)&gr.gr_group)->sin6_addr);
	if (setsockopt(fd, level, MCAST_JOIN_GROUP, &gr, sizeof(gr)))
		wl_fail("join %s: %s", group, strerror(errno));
}

static void msource(int fd, int opt, const char *group, const char *src)
{
	struct group_source_req gs = { .gsr_interface = if_nametoindex("lo") };

	gs.gsr_group.ss_family = AF_INET;
	gs.gsr_source.ss_family = AF_INET;
	inet_pton(AF_INET, group,
		  &((struct sockaddr_in *)&gs.gsr_group)->sin_addr);
	inet_pton(AF_INET, src,
		  &((struct sockaddr_in *)&gs.gsr_source)->sin_addr);
	if (setsockopt(fd, IPPROTO_IP, opt, &gs, sizeof(gs)))
		wl_fail("source %s of %s: %s", src, group, strerror(errno));
}

/* u4's filter of group: mode and its one source, or fail */
static void check_filter(const char *group, uint32_t mode, const char *src)
{
	char buf[GROUP_FILTER_SIZE(4)], want[INET_ADDRSTRLEN], got[64];
	struct group_filter *gf = (struct group_filter *)buf;
	socklen_t len = sizeof(buf);

	memset(buf, 0, sizeof(buf));
	gf->gf_interface = if_nametoindex("lo");
	gf->gf_group.ss_family = AF_INET;
	inet_pton(AF_INET, group,
		  &((struct sockaddr_in *)&gf->gf_group)->sin_addr);
	gf->gf_numsrc = 4;
	if (getsockopt(u4, IPPROTO_IP, MCAST_MSFILTER, gf, &len))
		wl_fail("not a member of %s any more: %s", group,
			strerror(errno));
	snprintf(want, sizeof(want), "%s", src);
	inet_ntop(AF_INET, &((struct sockaddr_in *)&gf->gf_slist[0])->sin_addr,
		  got, sizeof(got));
	if (gf->gf_fmode != mode || gf->gf_numsrc != 1 || strcmp(got, want))
		wl_fail("%s: filter mode %u with %u sources (%s), want %u with %s",
			group, gf->gf_fmode, gf->gf_numsrc, got, mode, want);
}

static void want_int(int fd, int level, int opt, int v, const char *what)
{
	int got = wl_getint(fd, level, opt);

	if (got != v)
		wl_fail("%s is %d, want %d", what, got, v);
}

static void want_cong(int fd, const char *what)
{
	char got[16] = "";
	socklen_t len = sizeof(got);

	if (!cong[0])
		return;
	if (getsockopt(fd, IPPROTO_TCP, TCP_CONGESTION, got, &len))
		wl_fail("TCP_CONGESTION of %s: %s", what, strerror(errno));
	if (strcmp(got, cong))
		wl_fail("%s uses %s, want %s", what, got, cong);
}

static struct timeval get_tv(int fd, int opt)
{
	struct timeval tv;
	socklen_t len = sizeof(tv);

	if (getsockopt(fd, SOL_SOCKET, opt, &tv, &len))
		wl_fail("timeout %d: %s", opt, strerror(errno));
	return tv;
}

/* as read before the dump (the kernel rounds it to its ticks) */
static void want_tv(int fd, int opt, struct timeval want, const char *what)
{
	struct timeval tv = get_tv(fd, opt);

	if (tv.tv_sec != want.tv_sec || tv.tv_usec != want.tv_usec)
		wl_fail("%s is %ld.%06ld, want %ld.%06ld", what,
			(long)tv.tv_sec, (long)tv.tv_usec, (long)want.tv_sec,
			(long)want.tv_usec);
}

/* One datagram on u4, which must be want: where it came (IP_PKTINFO:
 * dst, the device's index) and its TTL (IP_RECVTTL), -1 when not told */
static void recv_one(const char *want, int flags, char dst[INET_ADDRSTRLEN],
		     int *ifindex, int *ttl)
{
	char cbuf[256], data[16];
	struct iovec iov = { data, sizeof(data) };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1,
			     .msg_control = cbuf,
			     .msg_controllen = sizeof(cbuf) };
	struct cmsghdr *cm;
	struct in_pktinfo pi;
	ssize_t n = recvmsg(u4, &mh, flags);	/* SO_RCVTIMEO bounds it */

	if (n != (ssize_t)strlen(want) || memcmp(data, want, n))
		wl_fail("datagram %s: got %zd (%s)", want, n,
			n < 0 ? strerror(errno) : "");
	dst[0] = '\0';
	*ifindex = *ttl = -1;
	for (cm = CMSG_FIRSTHDR(&mh); cm; cm = CMSG_NXTHDR(&mh, cm)) {
		if (cm->cmsg_level == IPPROTO_IP && cm->cmsg_type == IP_TTL)
			memcpy(ttl, CMSG_DATA(cm), sizeof(*ttl));
		if (cm->cmsg_level != IPPROTO_IP ||
		    cm->cmsg_type != IP_PKTINFO)
			continue;
		memcpy(&pi, CMSG_DATA(cm), sizeof(pi));
		inet_ntop(AF_INET, &pi.ipi_addr, dst, INET_ADDRSTRLEN);
		*ifindex = pi.ipi_ifindex;
	}
}

/* One datagram to 239.1.2.3:port through lo, received on u4 with the
 * group as its IP_PKTINFO destination */
static void multicast_once(void)
{
	struct sockaddr_in to = { .sin_family = AF_INET,
				  .sin_port = htons(port) };
	char dst[INET_ADDRSTRLEN];
	int ifindex, ttl;

	inet_pton(AF_INET, "239.1.2.3", &to.sin_addr);
	if (sendto(tx, "mc", 2, 0, (struct sockaddr *)&to, sizeof(to)) != 2)
		wl_fail("send to 239.1.2.3: %s", strerror(errno));
	recv_one("mc", 0, dst, &ifindex, &ttl);
	if (strcmp(dst, "239.1.2.3"))
		wl_fail("IP_PKTINFO says %s, want 239.1.2.3", dst);
}

/* A congestion control other than the default, or "" */
static void pick_cong(void)
{
	char avail[256] = "", def[16] = "", *t, *save;
	FILE *f = fopen("/proc/sys/net/ipv4/tcp_available_congestion_control",
			"r");

	if (f) {
		if (!fgets(avail, sizeof(avail), f))
			avail[0] = '\0';
		fclose(f);
	}
	f = fopen("/proc/sys/net/ipv4/tcp_congestion_control", "r");
	if (f) {
		if (fscanf(f, "%15s", def) != 1)
			def[0] = '\0';
		fclose(f);
	}
	for (t = strtok_r(avail, " \n", &save); t;
	     t = strtok_r(NULL, " \n", &save))
		if (strcmp(t, def) && strlen(t) < sizeof(cong)) {
			strcpy(cong, t);
			return;
		}
}

static void setup_udp(void)
{
	struct sockaddr_in any = { .sin_family = AF_INET };
	struct timeval tv = { 3, 500000 };
	struct ip_mreqn mr = { .imr_ifindex = 0 };
	socklen_t len = sizeof(any);

	u4 = socket(AF_INET, SOCK_DGRAM, 0);
	if (u4 < 0 || bind(u4, (struct sockaddr *)&any, sizeof(any)) ||
	    getsockname(u4, (struct sockaddr *)&any, &len))
		wl_fail("udp: %s", strerror(errno));
	port = ntohs(any.sin_port);
	wl_setint(u4, IPPROTO_IP, IP_PKTINFO, 1);
	wl_setint(u4, IPPROTO_IP, IP_RECVERR, 1);
	wl_setint(u4, IPPROTO_IP, IP_MTU_DISCOVER, IP_PMTUDISC_PROBE);
	wl_setint(u4, IPPROTO_IP, IP_MULTICAST_TTL, 9);
	if (setsockopt(u4, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)))
		wl_fail("SO_RCVTIMEO: %s", strerror(errno));
	rcvtimeo = get_tv(u4, SO_RCVTIMEO);
	mjoin(u4, IPPROTO_IP, AF_INET, "239.1.2.3");
	msource(u4, MCAST_BLOCK_SOURCE, "239.1.2.3", "10.1.1.1");
	msource(u4, MCAST_JOIN_SOURCE_GROUP, "239.4.5.6", "127.0.0.1");

	u6 = socket(AF_INET6, SOCK_DGRAM, 0);
	if (u6 < 0)
		wl_fail("udp6: %s", strerror(errno));
	wl_setint(u6, IPPROTO_IPV6, IPV6_RECVPKTINFO, 1);
	wl_setint(u6, IPPROTO_IPV6, IPV6_MULTICAST_HOPS, 7);
	wl_setint(u6, IPPROTO_IPV6, IPV6_MULTICAST_IF, if_nametoindex("lo"));
	mjoin(u6, IPPROTO_IPV6, AF_INET6, "ff05::4242");

	/* lo by its index alone: getsockopt gives back 0.0.0.0, and the
	 * datagrams go out of the default route's device if it is lost */
	tx = socket(AF_INET, SOCK_DGRAM, 0);
	mr.imr_ifindex = if_nametoindex("lo");
	if (tx < 0 ||
	    setsockopt(tx, IPPROTO_IP, IP_MULTICAST_IF, &mr, sizeof(mr)))
		wl_fail("sender: %s", strerror(errno));
}

static void setup_tcp(void)
{
	struct sockaddr_in sa = { .sin_family = AF_INET };
	struct timeval tv = { 7, 250000 };
	socklen_t len = sizeof(sa);

	pick_cong();
	l = socket(AF_INET, SOCK_STREAM, 0);
	c = socket(AF_INET, SOCK_STREAM, 0);
	inet_pton(AF_INET, "127.0.0.1", &sa.sin_addr);
	if (l < 0 || c < 0 || bind(l, (struct sockaddr *)&sa, sizeof(sa)))
		wl_fail("tcp: %s", strerror(errno));
	wl_setint(l, IPPROTO_TCP, TCP_DEFER_ACCEPT, 5);
	defer = wl_getint(l, IPPROTO_TCP, TCP_DEFER_ACCEPT);
	wl_setint(l, IPPROTO_TCP, TCP_FASTOPEN, 16);
	wl_setint(l, IPPROTO_TCP, TCP_NOTSENT_LOWAT, 12345);
	wl_setint(l, SOL_SOCKET, SO_RCVLOWAT, 3);
	wl_setint(l, IPPROTO_TCP, TCP_MAXSEG, 1000);
	wl_setint(l, IPPROTO_TCP, TCP_WINDOW_CLAMP, 40000);
	if (cong[0] && (setsockopt(l, IPPROTO_TCP, TCP_CONGESTION, cong,
				   strlen(cong)) ||
			setsockopt(c, IPPROTO_TCP, TCP_CONGESTION, cong,
				   strlen(cong))))
		wl_fail("TCP_CONGESTION %s: %s", cong, strerror(errno));
	if (setsockopt(c, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)))
		wl_fail("SO_SNDTIMEO: %s", strerror(errno));
	sndtimeo = get_tv(c, SO_SNDTIMEO);
	if (listen(l, 4) || getsockname(l, (struct sockaddr *)&sa, &len) ||
	    connect(c, (struct sockaddr *)&sa, sizeof(sa)) ||
	    send(c, "x", 1, 0) != 1)
		wl_fail("connect: %s", strerror(errno));
	a = accept(l, NULL, NULL);
	if (a < 0)
		wl_fail("accept: %s", strerror(errno));
}

/* The datagram queued at the dump (sent to 127.0.0.1): its IP_PKTINFO
 * and IP_TTL as they were */
static void queued_once(void)
{
	char dst[INET_ADDRSTRLEN];
	int ifindex, ttl;

	recv_one("q", MSG_DONTWAIT, dst, &ifindex, &ttl);
	if (ttl != 64 || strcmp(dst, "127.0.0.1") ||
	    ifindex != (int)if_nametoindex("lo"))
		wl_fail("the queued datagram came with TTL %d to %s (device %d)",
			ttl, dst, ifindex);
}

static void check(void)
{
	char b[4];

	queued_once();

	want_int(u4, IPPROTO_IP, IP_PKTINFO, 1, "IP_PKTINFO");
	want_int(u4, IPPROTO_IP, IP_RECVERR, 1, "IP_RECVERR");
	want_int(u4, IPPROTO_IP, IP_MTU_DISCOVER, IP_PMTUDISC_PROBE,
		 "IP_MTU_DISCOVER");
	want_int(u4, IPPROTO_IP, IP_MULTICAST_TTL, 9, "IP_MULTICAST_TTL");
	want_tv(u4, SO_RCVTIMEO, rcvtimeo, "SO_RCVTIMEO");
	check_filter("239.1.2.3", MCAST_EXCLUDE, "10.1.1.1");
	check_filter("239.4.5.6", MCAST_INCLUDE, "127.0.0.1");
	want_int(u6, IPPROTO_IPV6, IPV6_RECVPKTINFO, 1, "IPV6_RECVPKTINFO");
	want_int(u6, IPPROTO_IPV6, IPV6_MULTICAST_HOPS, 7,
		 "IPV6_MULTICAST_HOPS");
	want_int(u6, IPPROTO_IPV6, IPV6_MULTICAST_IF, if_nametoindex("lo"),
		 "IPV6_MULTICAST_IF");
	want_int(l, IPPROTO_TCP, TCP_DEFER_ACCEPT, defer, "TCP_DEFER_ACCEPT");
	want_int(l, IPPROTO_TCP, TCP_FASTOPEN, 16, "TCP_FASTOPEN");
	want_int(l, IPPROTO_TCP, TCP_NOTSENT_LOWAT, 12345,
		 "TCP_NOTSENT_LOWAT");
	want_int(l, SOL_SOCKET, SO_RCVLOWAT, 3, "SO_RCVLOWAT");
	want_int(l, IPPROTO_TCP, TCP_MAXSEG, 1000, "TCP_MAXSEG");
	want_int(l, IPPROTO_TCP, TCP_WINDOW_CLAMP, 40000, "TCP_WINDOW_CLAMP");
	want_cong(l, "the listener");
	want_cong(c, "the connection");
	want_tv(c, SO_SNDTIMEO, sndtimeo, "SO_SNDTIMEO");
	multicast_once();
	if (recv(a, b, 1, 0) != 1 || b[0] != 'x' || send(c, "y", 1, 0) != 1 ||
	    recv(a, b, 1, 0) != 1 || b[0] != 'y')
		wl_fail("the connection carries no bytes: %s", strerror(errno));
}

int main(void)
{
	wl_init();
	setup_udp();
	setup_tcp();
	multicast_once();	/* it works before the dump */
	wl_setint(u4, IPPROTO_IP, IP_RECVTTL, 1);
	{
		struct sockaddr_in to = { .sin_family = AF_INET,
					  .sin_port = htons(port) };

		inet_pton(AF_INET, "127.0.0.1", &to.sin_addr);
		if (sendto(tx, "q", 1, 0, (struct sockaddr *)&to,
			   sizeof(to)) != 1)
			wl_fail("send to 127.0.0.1: %s", strerror(errno));
	}
	wl_count_checked(check);
	return 0;
}
