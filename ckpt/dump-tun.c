/*
 * tun and tap devices of the tree's network namespace and the fds of
 * /dev/net/tun the tree holds on them (TUN NETDEV and TUN FILE records).
 *
 * The device: rtnetlink tells its type, owner, group, queues and whether
 * it persists (IFLA_TUN_*); what only an fd on it tells (TUNGETIFF's
 * whole flags, the virtio header size, the send buffer, a socket filter)
 * is read from one of the tree's fds, or, for a device no fd holds (a
 * persistent one), from an fd ckpt attaches for a moment with the flags
 * the device has: TUNSETIFF on a device that exists sets its flags to
 * those given, so they are read first from its sysfs tun_flags, in a
 * sysfs of the tree's namespace that a child of ckpt mounts in a mount
 * namespace of its own.
 *
 * Refused, naming the device or the process and fd: a queue detached
 * (TUNSETQUEUE), a socket filter, IFF_NAPI, little-endian virtio headers,
 * a link type changed (TUNSETLINK), a device some process outside the
 * tree holds, an fd with a packet queued (poll on a copy: it consumes
 * nothing), an fd on a device of another namespace. Not seen, so
 * neither kept nor refused: offloads (TUNSETOFFLOAD), a transmit filter
 * (TUNSETTXFILTER), eBPF steering and filter programs, the carrier set
 * by TUNSETCARRIER.
 */
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/filter.h>
#include <linux/if.h>
#include <linux/if_arp.h>
#include <linux/if_link.h>
#include <linux/if_tun.h>
#include <poll.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ckpt/dump-priv.h"
#include "util/rtnl.h"

#define TUN_KEPT	(IMG_TUN_FLAGS | IFF_ONE_QUEUE)

/* What an fd attached to d tells; 1 (why said) when it can't be kept */
static int fd_props(int fd, struct img_netdev *d, char *why, size_t len)
{
	struct sock_fprog fp = { 0 };
	struct ifreq ifr = { 0 };
	int hdr = 0, sndbuf = 0, le = 0;

	if (ioctl(fd, TUNGETIFF, &ifr) || ioctl(fd, TUNGETVNETHDRSZ, &hdr) ||
	    ioctl(fd, TUNGETSNDBUF, &sndbuf))
		return -1;
	if ((ifr.ifr_flags & IFF_TAP) && ioctl(fd, TUNGETFILTER, &fp))
		return -1;
	if (ioctl(fd, TUNGETVNETLE, &le))
		le = 0;		/* not built in: never set */
	if ((unsigned short)ifr.ifr_flags & ~TUN_KEPT) {
		snprintf(why, len, "a tun device of flags %#x (IFF_NAPI...)",
			 (unsigned short)ifr.ifr_flags);
		return 1;
	}
	if (fp.len || le) {
		snprintf(why, len, "a tun device with %s",
			 fp.len ? "a socket filter (TUNATTACHFILTER)" :
			 "little-endian virtio headers (TUNSETVNETLE)");
		return 1;
	}
	d->tun.flags = (unsigned short)ifr.ifr_flags & TUN_KEPT;
	if (!hdr || !sndbuf) {
		snprintf(why, len, "a tun device of virtio header size %d and send buffer %d",
			 hdr, sndbuf);
		return 1;
	}
	d->tun.vnet_hdr_sz = hdr;
	d->tun.sndbuf = sndbuf;
	return 0;
}

/* In a child: sysfs of the current network namespace, mounted in a
 * mount namespace of its own; the device's tun_flags to the pipe */
static void read_flags_child(const char *name, int out)
{
	char path[96], buf[32] = "";
	ssize_t n = -1;
	int fd;

	if (!unshare(CLONE_NEWNS) &&
	    !mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) &&
	    !mount("sysfs", "/sys", "sysfs", 0, NULL)) {
		snprintf(path, sizeof(path), "/sys/class/net/%s/tun_flags",
			 name);
		fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd >= 0)
			n = read(fd, buf, sizeof(buf) - 1);
	}
	if (n > 0 && write(out, buf, n) == n)
		_exit(0);
	_exit(1);
}

static int sysfs_flags(const char *name, unsigned long *flags)
{
	char buf[32] = "";
	int p[2], st = 0;
	ssize_t n;
	pid_t pid;

	if (pipe2(p, O_CLOEXEC))
		return -1;
	pid = fork();
	if (pid == 0) {
		close(p[0]);
		read_flags_child(name, p[1]);
	}
	close(p[1]);
	n = pid < 0 ? -1 : read(p[0], buf, sizeof(buf) - 1);
	close(p[0]);
	if (pid > 0)
		waitpid(pid, &st, 0);
	if (n <= 0 || !WIFEXITED(st) || WEXITSTATUS(st)) {
		errno = ENODATA;
		return -1;
	}
	*flags = strtoul(buf, NULL, 16);
	return 0;
}

/*
 * A device that is down and no fd holds: attached to for a moment (ckpt
 * is in the tree's namespace), with its own flags. Not one that is up:
 * the carrier the attach brings would make the kernel give it an IPv6
 * link-local address and send on it; its flags are read from sysfs, and
 * its virtio header size and send buffer are not seen (0: restore leaves
 * the kernel's).
 */
static int probe_free(struct img_netdev *d, int up, char *why, size_t len)
{
	struct ifreq ifr = { 0 };
	unsigned long flags;
	int fd, r, err;

	if (sysfs_flags(d->name, &flags))
		return -1;
	if (up && (flags & ~(unsigned long)TUN_KEPT)) {
		snprintf(why, len, "a tun device of flags %#lx (IFF_NAPI...)",
			 flags);
		return 1;
	}
	if (up) {
		d->tun.flags = flags & TUN_KEPT;
		return 0;
	}
	fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC);
	if (fd < 0)
		return -1;
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", d->name);
	ifr.ifr_flags = flags & ~IFF_PERSIST;
	r = ioctl(fd, TUNSETIFF, &ifr) ? -1 : fd_props(fd, d, why, len);
	err = errno;
	close(fd);
	errno = err;
	return r;
}

int dump_tun_dev(const struct rtattr **tb, unsigned short type, int up,
		 struct img_netdev *d, uint32_t *queues, char *why, size_t len)
{
	const struct rtattr *info[IFLA_INFO_MAX + 1], *t[IFLA_TUN_MAX + 1];
	uint32_t tap, r;

	rtnl_nested(tb[IFLA_LINKINFO], info, IFLA_INFO_MAX);
	if (!info[IFLA_INFO_DATA]) {
		snprintf(why, len, "a tun device without its settings");
		return 1;
	}
	rtnl_nested(info[IFLA_INFO_DATA], t, IFLA_TUN_MAX);
	tap = rtnl_uint(t[IFLA_TUN_TYPE]) == IFF_TAP;
	*queues = rtnl_uint(t[IFLA_TUN_NUM_QUEUES]);
	d->tun.owner = t[IFLA_TUN_OWNER] ? (int32_t)rtnl_uint(t[IFLA_TUN_OWNER]) : -1;
	d->tun.group = t[IFLA_TUN_GROUP] ? (int32_t)rtnl_uint(t[IFLA_TUN_GROUP]) : -1;
	d->tun.flags = (tap ? IFF_TAP : IFF_TUN) |
		(rtnl_uint(t[IFLA_TUN_PERSIST]) ? IFF_PERSIST : 0);
	if (rtnl_uint(t[IFLA_TUN_NUM_DISABLED_QUEUES])) {
		snprintf(why, len, "a tun device with a queue detached (TUNSETQUEUE)");
		return 1;
	}
	if (type != (tap ? ARPHRD_ETHER : ARPHRD_NONE)) {
		snprintf(why, len, "a tun device whose link type is %u (TUNSETLINK)",
			 type);
		return 1;
	}
	if (*queues)
		return 0;	/* from the tree's fds: dump_tuns() */
	/* the kernel tells the queues of a multi-queue device only; the
	 * one queue of another is taken when it refuses another fd, and
	 * unknown if it is up (dump_net_check_tuns) */
	if (up && !rtnl_uint(t[IFLA_TUN_MULTI_QUEUE]))
		*queues = DUMP_TUN_QUEUES_UNSEEN;
	r = probe_free(d, up, why, len);
	if (r == (uint32_t)-1 && errno == EBUSY &&
	    !rtnl_uint(t[IFLA_TUN_MULTI_QUEUE])) {
		*queues = 1;
		return 0;
	}
	if (r == (uint32_t)-1)
		pr_perror("can't read tun device %s", d->name);
	return r;
}

/* an fd of /dev/net/tun (the misc device 10, 200) */
int dump_tun_chr(const struct stat *st)
{
	return S_ISCHR(st->st_mode) && major(st->st_rdev) == 10 &&
	       minor(st->st_rdev) == 200;
}

static int refuse_fd(const struct dump_file *df, const char *why)
{
	pr_err("can't dump fd %d of %d: %s, which is not supported yet",
	       df->fd, df->pid, why);
	errno = EOPNOTSUPP;
	return -1;
}

static int same_netns(struct dump_tree *t, int fd)
{
	struct stat a, b;
	char path[64];
	int ns = ioctl(fd, TUNGETDEVNETNS), ok;

	snprintf(path, sizeof(path), "/proc/%d/ns/net", t->procs[0].pid);
	ok = ns >= 0 && !fstat(ns, &a) && !stat(path, &b) &&
	     a.st_ino == b.st_ino;
	if (ns >= 0)
		close(ns);
	return ok;
}

/* one TUN FILE: its device, refused when a packet waits in it */
static int dump_tun_file(struct dump_tree *t, struct dump_file *df, int fd)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	struct ifreq ifr = { 0 };
	struct img_netdev *d;
	char why[160];
	int r;

	if (ioctl(fd, TUNGETIFF, &ifr))
		return errno == EBADFD ? 0 : -1;	/* attached to none */
	ifr.ifr_name[IFNAMSIZ - 1] = '\0';
	d = dump_net_tun(t, ifr.ifr_name);
	if (!d || !same_netns(t, fd)) {
		snprintf(why, sizeof(why), "it is on tun device %s, which is not in the tree's network namespace",
			 ifr.ifr_name);
		return refuse_fd(df, why);
	}
	if (poll(&p, 1, 0) > 0 && (p.revents & POLLIN)) {
		snprintf(why, sizeof(why), "tun device %s has a packet queued on it",
			 ifr.ifr_name);
		return refuse_fd(df, why);
	}
	df->f.tun_dev = strdup(ifr.ifr_name);
	if (!df->f.tun_dev)
		return -1;
	r = fd_props(fd, d, why, sizeof(why));
	if (r > 0)
		return refuse_fd(df, why);
	return r;
}

int dump_tuns(struct dump_tree *t)
{
	uint32_t i;
	int fd, r;

	for (i = 0; i < t->nr_files; i++) {
		struct dump_file *df = &t->files[i];

		if (df->f.kind != IMG_FILE_TUN)
			continue;
		if (!t->net)
			return refuse_fd(df, "it is an fd of /dev/net/tun and the tree has no network namespace of its own");
		fd = dump_grab_fd(df);
		if (fd < 0) {
			pr_perror("can't copy fd %d of %d", df->fd, df->pid);
			return -1;
		}
		r = dump_tun_file(t, df, fd);
		if (r && errno != EOPNOTSUPP)
			pr_perror("can't read tun fd %d of %d", df->fd, df->pid);
		close(fd);
		if (r)
			return -1;
	}
	return dump_net_check_tuns(t);
}
