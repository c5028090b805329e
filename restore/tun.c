/*
 * tun and tap devices (TUN NETDEV records) and the fds of /dev/net/tun
 * on them (TUN FILEs). netdev.c makes each device first, persistent for
 * now, with its flags, owner, group, virtio header size and send buffer,
 * so that its MTU, MAC, addresses and up flag can be set like any
 * device's; the file table (files.c) then attaches each fd to it again
 * (TUNSETIFF with the same flags: a multi-queue device takes one queue
 * per fd), and a device that was not persistent stops being so once its
 * first fd holds it: it goes away with its last fd, as it would have.
 */
#include <sys/ioctl.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/if.h>
#include <linux/if_tun.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "restore/restore.h"

static int make(const struct img_netdev *d);

static int attach(int fd, const struct img_netdev *d)
{
	struct ifreq ifr = { 0 };

	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", d->name);
	ifr.ifr_flags = d->tun.flags & ~IFF_PERSIST;
	return ioctl(fd, TUNSETIFF, &ifr);
}

/*
 * Without carrier, as a device no fd holds is (an fd brings it). The
 * attach turned it on, and the kernel tells the device's operational
 * state (which decides whether bringing it up makes an IPv6 link-local
 * address, and whether its routes are "linkdown") through linkwatch,
 * which takes up to a second (HZ) for a device that is down: so restore
 * waits that long before the device goes up, once.
 */
int restore_tun_make(const struct img_netdev *d)
{
	static int waited;
	struct timespec linkwatch = { 1, 100 * 1000 * 1000 };
	int r = make(d);

	if (!r && !waited++)
		nanosleep(&linkwatch, NULL);
	return r;
}

static int make(const struct img_netdev *d)
{
	int fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC), err;
	int hdr = (int)d->tun.vnet_hdr_sz, sndbuf = (int)d->tun.sndbuf;

	if (fd < 0)
		return -1;
	if (attach(fd, d) ||
	    (d->tun.owner >= 0 &&
	     ioctl(fd, TUNSETOWNER, (unsigned long)d->tun.owner)) ||
	    (d->tun.group >= 0 &&
	     ioctl(fd, TUNSETGROUP, (unsigned long)d->tun.group)) ||
	    (hdr && ioctl(fd, TUNSETVNETHDRSZ, &hdr)) ||
	    (sndbuf && ioctl(fd, TUNSETSNDBUF, &sndbuf)) || ioctl(fd, TUNSETPERSIST, 1ul) ||
	    ioctl(fd, TUNSETCARRIER, &(int){ 0 })) {
		err = errno;
		close(fd);
		errno = err;
		return -1;
	}
	close(fd);
	return 0;
}

static const struct img_netdev *tun_named(const struct image *img,
					  const char *name)
{
	uint32_t i;

	for (i = 0; i < img->nr_netdevs; i++)
		if (img->netdevs[i].kind == IMG_NETDEV_TUN &&
		    !strcmp(img->netdevs[i].name, name))
			return &img->netdevs[i];
	return NULL;
}

int restore_tun_open(const struct image *img, const struct img_file *f)
{
	const struct img_netdev *d = f->tun_dev ? tun_named(img, f->tun_dev) :
		NULL;
	int fd, err;

	fd = open(f->path, (f->flags & ~(O_CREAT | O_EXCL | O_TRUNC |
					 O_NOCTTY)) | O_CLOEXEC);
	if (fd < 0) {
		pr_perror("can't open %s for file %u", f->path, f->id);
		return -1;
	}
	if (!d)
		return fd;	/* attached to none (semantics-net.c) */
	if (attach(fd, d) || (!(d->tun.flags & IFF_PERSIST) &&
			      ioctl(fd, TUNSETPERSIST, 0ul))) {
		err = errno;
		close(fd);
		errno = err;
		pr_perror("can't attach file %u to tun device %s", f->id,
			  d->name);
		return -1;
	}
	return fd;
}
