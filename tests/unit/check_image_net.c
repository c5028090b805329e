/*
 * check_image_net: the NETDEV and ROUTE records of a network namespace
 * (codec-net.c, semantics-net.c): their round trip, and one refusal per
 * broken rule: a NETDEV with no network NS record, a loopback not
 * named lo, a device twice, a route through a device with no record, an
 * IPv4 address with bytes past its 4; a macvlan's lower device, mode and
 * flags, and a mode or flags of no macvlan; a bridge's settings and
 * ports, a port that is no device of the image; a tun device and the
 * TUN FILE on it, a file on no tun device, a tun that is not persistent
 * with no file, bad tun flags; a veth pair inside, and one end naming
 * another peer.
 */
#include <sys/socket.h>
#include <check.h>
#include <string.h>

#include "image/image.h"
#include "tests/unit/imagetest.h"
#include "tests/unit/unit.h"

static struct img_writer *net_start(int ns)
{
	struct img_writer *w = img_writer_open(path);
	struct img_ns rec = { .kind = IMG_NS_NET, .owner = 10, .id = 7 };

	ck_assert_ptr_nonnull(w);
	w_header(w);
	if (ns)
		ck_assert_int_eq(img_write_ns(w, &rec), 0);
	return w;
}

static void net_end(struct img_writer *w)
{
	w_proc(w, 10, 1);
	w_thread(w, 10);
}

static void w_dev(struct img_writer *w, uint32_t index, uint32_t kind,
		  const char *name, const char *peer, uint8_t byte5)
{
	struct img_netaddr a = { .family = AF_INET, .prefixlen = 24,
				 .scope = 0, .flags = 0x80,
				 .addr = { 10, 79, 0, 2, byte5 } };
	struct img_netdev d = {
		.index = index, .kind = kind, .up = 1, .mtu = 1400,
		.mac_len = 6, .mac = { 2, 0, 0, 0, 0x79, 2 },
		.name = (char *)name, .peer = (char *)peer,
		.nr_addrs = 1, .addrs = &a,
	};

	ck_assert_int_eq(img_write_netdev(w, &d), 0);
}

static void w_route(struct img_writer *w, uint32_t dev)
{
	struct img_route r = { .family = AF_INET, .dev = dev, .protocol = 3,
			       .type = 1, .has_gw = 1,
			       .gw = { 10, 79, 0, 1 } };

	ck_assert_int_eq(img_write_route(w, &r), 0);
}

START_TEST(test_roundtrip_net)
{
	struct img_writer *w = net_start(1);
	const struct img_netdev *d;
	struct image *img;

	w_dev(w, 1, IMG_NETDEV_LO, "lo", NULL, 0);
	w_dev(w, 2, IMG_NETDEV_VETH, "eth0", "v0", 0);
	w_route(w, 2);
	net_end(w);
	ck_assert_int_eq(img_writer_commit(w), 0);
	img = img_read_file(path, 0);
	ck_assert_ptr_nonnull(img);
	ck_assert_uint_eq(img->nr_netdevs, 2);
	d = &img->netdevs[1];
	ck_assert_str_eq(d->name, "eth0");
	ck_assert_str_eq(d->peer, "v0");
	ck_assert_uint_eq(d->mtu, 1400);
	ck_assert_uint_eq(d->mac_len, 6);
	ck_assert_mem_eq(d->mac, "\x02\x00\x00\x00\x79\x02", 6);
	ck_assert_uint_eq(d->nr_addrs, 1);
	ck_assert_mem_eq(d->addrs[0].addr, "\x0a\x4f\x00\x02", 4);
	ck_assert_uint_eq(d->addrs[0].flags, 0x80);
	ck_assert_ptr_null(img->netdevs[0].peer);
	ck_assert_uint_eq(img->nr_routes, 1);
	ck_assert_uint_eq(img->routes[0].dev, 2);
	ck_assert_mem_eq(img->routes[0].gw, "\x0a\x4f\x00\x01", 4);
	img_free(img);
}
END_TEST

START_TEST(test_refuse_net)
{
	struct img_writer *w = net_start(0);

	w_dev(w, 1, IMG_NETDEV_LO, "lo", NULL, 0);
	net_end(w);
	commit_expect_refused(w, "in no network namespace");
	w = net_start(1);
	w_dev(w, 1, IMG_NETDEV_LO, "eth9", NULL, 0);
	net_end(w);
	commit_expect_refused(w, "loopback device named eth9");
	w = net_start(1);
	w_dev(w, 2, IMG_NETDEV_VETH, "eth0", "v0", 0);
	w_dev(w, 3, IMG_NETDEV_VETH, "eth0", "v1", 0);
	net_end(w);
	commit_expect_refused(w, "network device 3 (eth0) recorded twice");
	w = net_start(1);
	w_dev(w, 2, IMG_NETDEV_VETH, "eth0", "v0", 0);
	w_route(w, 5);
	net_end(w);
	commit_expect_refused(w, "route through device 5, which has no NETDEV record");
	w = net_start(1);
	w_dev(w, 2, IMG_NETDEV_VETH, "eth0", "v0", 9);
	net_end(w);
	commit_expect_refused(w, "device eth0: bad address");
}
END_TEST

/* a macvlan: its lower device, mode and flags; a mode or flags of no
 * macvlan refused (the writer takes them: the reader checks) */
static void w_macvlan(struct img_writer *w, uint32_t mode, uint32_t flags)
{
	struct img_netdev d = {
		.index = 3, .kind = IMG_NETDEV_MACVLAN, .up = 1, .mtu = 1400,
		.mac_len = 6, .mac = { 2, 0, 0, 0, 0x81, 2 },
		.name = "eth0", .peer = "lower0", .mode = mode, .flags = flags,
	};

	ck_assert_int_eq(img_write_netdev(w, &d), 0);
}

START_TEST(test_macvlan)
{
	struct img_writer *w = net_start(1);
	const struct img_netdev *d;
	struct image *img;

	w_macvlan(w, 4, 1);
	net_end(w);
	ck_assert_int_eq(img_writer_commit(w), 0);
	img = img_read_file(path, 0);
	ck_assert_ptr_nonnull(img);
	d = &img->netdevs[0];
	ck_assert_uint_eq(d->kind, IMG_NETDEV_MACVLAN);
	ck_assert_str_eq(d->peer, "lower0");
	ck_assert_uint_eq(d->mode, 4);
	ck_assert_uint_eq(d->flags, 1);
	img_free(img);
	w = net_start(1);
	w_macvlan(w, 16, 0);
	net_end(w);
	commit_expect_refused(w, "device eth0: bad macvlan mode 16");
	w = net_start(1);
	w_macvlan(w, 4, 8);
	net_end(w);
	commit_expect_refused(w, "device eth0: bad macvlan mode 4 or flags 0x8");
}
END_TEST

static void w_bridge(struct img_writer *w, const char *port)
{
	char *ports[] = { "eth1", (char *)port };
	struct img_netdev d = {
		.index = 4, .kind = IMG_NETDEV_BRIDGE, .up = 1, .mtu = 1500,
		.mac_len = 6, .mac = { 2, 0, 0, 0, 0x82, 2 }, .name = "br0",
		.br = { .stp = 1, .forward_delay = 700, .ageing_time = 12000,
			.vlan_filtering = 0, .nr_ports = 2, .ports = ports },
	};

	ck_assert_int_eq(img_write_netdev(w, &d), 0);
}

START_TEST(test_bridge)
{
	struct img_writer *w = net_start(1);
	const struct img_netdev *d;
	struct image *img;

	w_dev(w, 2, IMG_NETDEV_VETH, "eth1", "v1", 0);
	w_bridge(w, "eth2");
	w_dev(w, 3, IMG_NETDEV_VETH, "eth2", "v2", 0);
	net_end(w);
	ck_assert_int_eq(img_writer_commit(w), 0);
	img = img_read_file(path, 0);
	ck_assert_ptr_nonnull(img);
	d = &img->netdevs[1];
	ck_assert_uint_eq(d->kind, IMG_NETDEV_BRIDGE);
	ck_assert_str_eq(img_netdev_kind_name(d->kind), "bridge");
	ck_assert_uint_eq(d->br.stp, 1);
	ck_assert_uint_eq(d->br.forward_delay, 700);
	ck_assert_uint_eq(d->br.ageing_time, 12000);
	ck_assert_uint_eq(d->br.nr_ports, 2);
	ck_assert_str_eq(d->br.ports[1], "eth2");
	ck_assert_ptr_null(d->peer);
	img_free(img);
	w = net_start(1);
	w_dev(w, 2, IMG_NETDEV_VETH, "eth1", "v1", 0);
	w_bridge(w, "eth7");
	net_end(w);
	commit_expect_refused(w, "bridge br0: port eth7 is no device of the image");
	w = net_start(1);
	w_dev(w, 2, IMG_NETDEV_VETH, "eth1", "v1", 0);
	w_bridge(w, "eth1");
	net_end(w);
	commit_expect_refused(w, "bridge br0: port eth1 is no device of the image, a bridge or in two bridges");
}
END_TEST

static void w_inner(struct img_writer *w, uint32_t index, const char *name,
		    const char *peer)
{
	struct img_netdev d = {
		.index = index, .kind = IMG_NETDEV_VETH, .up = 1, .mtu = 1500,
		.name = (char *)name, .peer = (char *)peer, .inner = 1,
	};

	ck_assert_int_eq(img_write_netdev(w, &d), 0);
}

/* a veth pair inside: each end names the other; a veth of ckpt's
 * namespace (no inner field) reads as before */
START_TEST(test_inner_veth)
{
	struct img_writer *w = net_start(1);
	struct image *img;

	w_inner(w, 6, "in1", "in0");
	w_inner(w, 7, "in0", "in1");
	w_dev(w, 8, IMG_NETDEV_VETH, "eth0", "v0", 0);
	net_end(w);
	ck_assert_int_eq(img_writer_commit(w), 0);
	img = img_read_file(path, 0);
	ck_assert_ptr_nonnull(img);
	ck_assert_uint_eq(img->netdevs[0].inner, 1);
	ck_assert_str_eq(img->netdevs[1].peer, "in1");
	ck_assert_uint_eq(img->netdevs[2].inner, 0);
	img_free(img);
	w = net_start(1);
	w_inner(w, 6, "in1", "in0");
	w_inner(w, 7, "in0", "in2");
	net_end(w);
	commit_expect_refused(w, "veth in1: its peer in0 inside is no veth of the image naming it");
}
END_TEST

static void w_tun(struct img_writer *w, uint32_t flags)
{
	struct img_netdev d = {
		.index = 5, .kind = IMG_NETDEV_TUN, .up = 1, .mtu = 1500,
		.name = "tun0",
		.tun = { .flags = flags, .owner = 4242, .group = -1,
			 .vnet_hdr_sz = 10, .sndbuf = 0x7fffffff },
	};

	ck_assert_int_eq(img_write_netdev(w, &d), 0);
}

/* then a TUN FILE on dev (NULL: none) */
static void w_tunfile(struct img_writer *w, const char *dev)
{
	struct img_file f = { .id = 1, .kind = IMG_FILE_TUN, .flags = 02,
			      .path = "/dev/net/tun", .tun_dev = (char *)dev };

	ck_assert_int_eq(img_write_file(w, &f), 0);
}

START_TEST(test_tun)
{
	struct img_writer *w = net_start(1);
	const struct img_netdev *d;
	struct image *img;

	w_tun(w, 0x1001);
	w_tunfile(w, "tun0");
	net_end(w);
	ck_assert_int_eq(img_writer_commit(w), 0);
	img = img_read_file(path, 0);
	ck_assert_ptr_nonnull(img);
	d = &img->netdevs[0];
	ck_assert_uint_eq(d->kind, IMG_NETDEV_TUN);
	ck_assert_uint_eq(d->tun.flags, 0x1001);
	ck_assert_int_eq(d->tun.owner, 4242);
	ck_assert_int_eq(d->tun.group, -1);
	ck_assert_uint_eq(d->tun.vnet_hdr_sz, 10);
	ck_assert_uint_eq(img->files[0].kind, IMG_FILE_TUN);
	ck_assert_str_eq(img->files[0].tun_dev, "tun0");
	ck_assert_str_eq(img->files[0].path, "/dev/net/tun");
	img_free(img);
	w = net_start(1);
	w_tun(w, 0x1001);
	w_tunfile(w, "tun9");
	net_end(w);
	commit_expect_refused(w, "tun tun0: 0 files on it, and not persistent");
	w = net_start(1);
	w_tun(w, 0x0801);
	w_tunfile(w, "tun9");
	net_end(w);
	commit_expect_refused(w, "file 1: on tun device tun9, which has no NETDEV record");
	w = net_start(1);
	w_tun(w, 0x0803);
	net_end(w);
	commit_expect_refused(w, "tun tun0: bad flags 0x803");
}
END_TEST

static Suite *image_net_suite(void)
{
	Suite *s = suite_create("image-net");
	TCase *tc = image_tcase(s, "net");

	add(tc, test_roundtrip_net);
	add(tc, test_refuse_net);
	add(tc, test_macvlan);
	add(tc, test_bridge);
	add(tc, test_tun);
	add(tc, test_inner_veth);
	return s;
}

CHECK_MAIN(image_net_suite)
