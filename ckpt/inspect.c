/*
 * inspect: what the text and the JSON printers of ckpt inspect share:
 * the names of the image's numbers, page and byte counts, the frames of
 * a thread.
 */
#include <sys/socket.h>
#include <sys/stat.h>
#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

#include "ckpt/inspect.h"

int inspect_frames(const struct bt_image *src, const struct img_thread *t,
		   struct bt_frame *f)
{
	int n = elf_backtrace(src, t, f, INSPECT_MAX_FRAMES);

	return n < 0 ? 0 : n;
}

uint64_t inspect_count_pages(const struct img_pages *pg, uint32_t n)
{
	uint64_t pages = 0;
	uint32_t i;

	for (i = 0; i < n; i++)
		pages += pg[i].nr_pages;
	return pages;
}

uint64_t inspect_parent_pages(const struct img_pages *pg, uint32_t n)
{
	uint64_t pages = 0;
	uint32_t i;

	for (i = 0; i < n; i++)
		if (pg[i].src)
			pages += pg[i].nr_pages;
	return pages;
}

uint32_t inspect_mount_files(const struct image *img, uint32_t id,
			     uint64_t *bytes)
{
	uint32_t i, files = 0;

	*bytes = 0;
	for (i = 0; i < img->nr_mntfiles; i++)
		if (img->mntfiles[i].mount == id) {
			files += !(img->mntfiles[i].flags & IMG_MNTF_MORE);
			*bytes += img->mntfiles[i].len;
		}
	return files;
}

uint64_t inspect_queued_bytes(const struct img_file *f)
{
	uint64_t n = 0;
	uint32_t i;

	for (i = 0; i < f->nr_chunks; i++)
		n += f->chunks[i].len;
	return n;
}

const char *inspect_shm_kind(uint32_t kind)
{
	switch (kind) {
	case IMG_SHM_ANON:
		return "anon";
	case IMG_SHM_MEMFD:
		return "memfd";
	case IMG_SHM_SYSV:
		return "sysv";
	}
	return "unknown";
}

const char *inspect_fd_type(uint32_t type)
{
	static const char *const names[] = {
		[IMG_FD_REG] = "reg", [IMG_FD_DIR] = "dir",
		[IMG_FD_CHR] = "chr", [IMG_FD_TTY] = "tty",
		[IMG_FD_INHERIT] = "inherit", [IMG_FD_FILE] = "file",
		[IMG_FD_NULL] = "null", [IMG_FD_PATH] = "path",
	};

	return type < ARRAY_SIZE(names) && names[type] ? names[type] : "?";
}

const char *inspect_file_kind(uint32_t kind)
{
	switch (kind) {
	case IMG_FILE_PIPE:
		return "pipe";
	case IMG_FILE_FIFO:
		return "fifo";
	case IMG_FILE_REG:
		return "reg";
	case IMG_FILE_UNIX:
		return "unix";
	case IMG_FILE_EVENTFD:
		return "eventfd";
	case IMG_FILE_EPOLL:
		return "epoll";
	case IMG_FILE_SIGNALFD:
		return "signalfd";
	case IMG_FILE_TIMERFD:
		return "timerfd";
	case IMG_FILE_INOTIFY:
		return "inotify";
	case IMG_FILE_TCP:
		return "tcp";
	case IMG_FILE_UDP:
		return "udp";
	case IMG_FILE_NETLINK:
		return "netlink";
	case IMG_FILE_GHOST:
		return "ghost";
	case IMG_FILE_MEMFD:
		return "memfd";
	case IMG_FILE_PTY_MASTER:
		return "pty-master";
	case IMG_FILE_PTY_SLAVE:
		return "pty-slave";
	case IMG_FILE_PIDFD:
		return "pidfd";
	case IMG_FILE_TTY:
		return "tty";
	case IMG_FILE_TUN:
		return "tun";
	case IMG_FILE_MQUEUE:
		return "mqueue";
	}
	return "?";
}

const char *inspect_inet_state(uint32_t state)
{
	static const char *const names[] = {
		[IMG_INET_UNCONNECTED] = "unconnected",
		[IMG_INET_LISTENING] = "listening",
		[IMG_INET_ESTABLISHED] = "established",
		[IMG_INET_FIN_WAIT1] = "fin-wait1",
		[IMG_INET_FIN_WAIT2] = "fin-wait2",
		[IMG_INET_CLOSE_WAIT] = "close-wait",
		[IMG_INET_LAST_ACK] = "last-ack",
		[IMG_INET_CLOSING] = "closing",
	};

	return state < ARRAY_SIZE(names) && names[state] ? names[state] : "?";
}

const char *inspect_sock_addr(const struct img_inet *in, int peer, char *out,
			      size_t len)
{
	char a[INET6_ADDRSTRLEN] = "?";

	inet_ntop(in->family, peer ? in->peer_addr : in->addr, a, sizeof(a));
	snprintf(out, len, in->family == AF_INET ? "%s:%u" : "[%s]:%u", a,
		 peer ? in->peer_port : in->port);
	return out;
}

/* A SOCKX option's value: a name, an int, or its bytes in hex */
const char *inspect_xopt(const struct img_xopt *x, char *out, size_t len)
{
	const struct img_xopt_desc *o = img_xopt_find(x->level, x->opt);
	int32_t v;
	size_t i, n = 0;

	if (o && (o->flags & (IMG_XOPT_STR | IMG_XOPT_IFINDEX |
			      IMG_XOPT_IFINDEX_BE))) {
		snprintf(out, len, "%.*s", (int)x->len, (const char *)x->val);
		return out;
	}
	if (o && (o->flags & IMG_XOPT_MREQN)) {	/* "0.0.0.0%eth0" */
		char a[INET_ADDRSTRLEN] = "?";

		inet_ntop(AF_INET, x->val, a, sizeof(a));
		snprintf(out, len, "%s%s%.16s", a, x->val[4] ? "%" : "",
			 (const char *)x->val + 4);
		return out;
	}
	if (x->len == sizeof(v)) {
		memcpy(&v, x->val, sizeof(v));
		snprintf(out, len, "%d", v);
		return out;
	}
	out[0] = '\0';
	for (i = 0; i < x->len && n + 3 <= len; i++)
		n += snprintf(out + n, len - n, "%02x", x->val[i]);
	return out;
}

/* "239.1.2.3", "ff02::1": a multicast group or source of m */
const char *inspect_mcast_addr(const struct img_mcast *m, const uint8_t *a,
			       char *out, size_t len)
{
	if (!inet_ntop(m->family, a, out, len))
		snprintf(out, len, "?");
	return out;
}

const char *inspect_sock_type(uint32_t type)
{
	switch (type) {
	case SOCK_STREAM:
		return "stream";
	case SOCK_DGRAM:
		return "dgram";
	case SOCK_SEQPACKET:
		return "seqpacket";
	}
	return "?";
}

const char *inspect_unix_state(uint32_t state)
{
	static const char *const names[] = {
		[IMG_UNIX_UNCONNECTED] = "unconnected",
		[IMG_UNIX_CONNECTED] = "connected",
		[IMG_UNIX_LISTENING] = "listening",
	};

	return state < ARRAY_SIZE(names) && names[state] ? names[state] : "?";
}

const char *inspect_snap_kind(uint32_t mode)
{
	switch (mode & S_IFMT) {
	case S_IFREG:
		return "reg";
	case S_IFDIR:
		return "dir";
	case S_IFLNK:
		return "link";
	case S_IFIFO:
		return "fifo";
	case S_IFCHR:
		return "chr";
	case S_IFBLK:
		return "blk";
	}
	return "?";
}

const char *inspect_snap_hash(const struct img_snapfile *f,
			      char out[2 * IMG_HASH_LEN + 1])
{
	int i;

	if (!S_ISREG(f->mode))
		return "-";
	for (i = 0; i < IMG_HASH_LEN; i++)
		sprintf(out + 2 * i, "%02x", f->hash[i]);
	return out;
}

uint32_t inspect_snap_xattrs(const struct img_snapfile *f)
{
	const uint8_t *val;
	const char *name;
	uint32_t off = 0, len, n = 0;

	while (img_snap_xattr_next(f, &off, &name, &val, &len))
		n++;
	return n;
}
