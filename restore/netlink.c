/*
 * The netlink sockets of the image's file table, made in restore before
 * the first process exists (files.c): a new socket of the protocol, its
 * flags and buffer sizes, bound to its port id (a process's first netlink
 * socket has the process's PID, which the restored process has again),
 * each group joined, then connected where it was. The messages queued at
 * dump time are not in the image (see ckpt/dump-netlink.c).
 */
#include <sys/socket.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/netlink.h>
#include <string.h>
#include <unistd.h>

#include "restore/restore.h"

static int set_int(int fd, int level, int opt, int v)
{
	return setsockopt(fd, level, opt, &v, sizeof(v));
}

static int set_opts(int fd, const struct img_netlink *nl)
{
	int i;

	for (i = 0; i < 32; i++)
		if ((nl->opts & (1u << i)) && set_int(fd, SOL_NETLINK, i, 1))
			return -1;
	if (nl->rcvbuf && set_int(fd, SOL_SOCKET, SO_RCVBUFFORCE,
				  nl->rcvbuf / 2))
		return -1;
	if (nl->sndbuf && set_int(fd, SOL_SOCKET, SO_SNDBUFFORCE,
				  nl->sndbuf / 2))
		return -1;
	return 0;
}

static int join_groups(int fd, const struct img_netlink *nl)
{
	int g;

	for (g = 1; g <= 64 * IMG_NL_GROUP_WORDS; g++) {
		if (!(nl->groups[(g - 1) / 64] & (1ull << ((g - 1) % 64))))
			continue;
		if (set_int(fd, SOL_NETLINK, NETLINK_ADD_MEMBERSHIP, g))
			return -1;
	}
	return 0;
}

static int make_one(const struct img_file *f)
{
	const struct img_netlink *nl = &f->nl;
	struct sockaddr_nl a = { .nl_family = AF_NETLINK };
	const char *what = "make";
	int fd;

	fd = socket(AF_NETLINK, nl->type | SOCK_CLOEXEC, nl->protocol);
	if (fd < 0)
		goto err;
	what = "set the options of";
	if (set_opts(fd, nl))
		goto err;
	what = "bind";
	a.nl_pid = nl->portid;
	if (nl->portid && bind(fd, (struct sockaddr *)&a, sizeof(a)))
		goto err;
	what = "join the groups of";
	if (join_groups(fd, nl))
		goto err;
	what = "connect";
	a.nl_pid = nl->dst_portid;
	a.nl_groups = nl->dst_group;
	if ((nl->dst_portid || nl->dst_group) &&
	    connect(fd, (struct sockaddr *)&a, sizeof(a)))
		goto err;
	what = "set the flags of";
	if (fcntl(fd, F_SETFL, f->flags & (O_NONBLOCK | O_ASYNC)))
		goto err;
	return fd;
err:
	pr_perror("can't %s netlink socket %llu (port id %u)", what,
		  (unsigned long long)f->ino, nl->portid);
	if (fd >= 0)
		close(fd);
	return -1;
}

int restore_netlink_open(const struct image *img, int *fds)
{
	uint32_t i;

	for (i = 0; i < img->nr_files; i++) {
		if (img->files[i].kind != IMG_FILE_NETLINK)
			continue;
		fds[i] = make_one(&img->files[i]);
		if (fds[i] < 0)
			return -1;
	}
	return 0;
}
