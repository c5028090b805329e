/*
 * Unix sockets in the tree's file table (dump-filetab.c): what each one is
 * (sock_diag: type, state, bound name, peer, queue length), its options,
 * and its receive queue. TCP and UDP sockets go to dump-inet.c, netlink
 * sockets to dump-netlink.c.
 *
 * ckpt takes its own duplicate of each socket with pidfd_getfd(2). The
 * duplicate is the frozen process's socket itself, so it is only ever
 * peeked at: SO_PEEK_OFF walks the queue with MSG_PEEK without taking
 * anything, and is put back as it was. Data a socket sent and its peer has
 * not read sits in the peer's receive queue, so the receive queues of all
 * the sockets cover both directions of every connection.
 *
 * What cannot come back is refused: a socket of another family, or
 * whose peer is not in the tree (on fds 0-2 such a socket is the plumbing
 * of whoever started the job and restore hands over its own, see
 * dump-filetab.c; with --ext-unix one connected to a named socket is
 * connected to that name again, dump-unixname.c), a listening socket
 * with connections not yet accepted (they have no fd anywhere that ckpt
 * could take) and a client waiting in a listener outside the tree,
 * urgent data, and descriptors in flight (SCM_RIGHTS) that no process
 * of the tree holds (those the tree holds are FILE ids in the image,
 * before the message or the stream's skb they came with: dump-sockq.c).
 */
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <arpa/inet.h>
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <linux/sock_diag.h>
#include <linux/unix_diag.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ckpt/dump-priv.h"

/* the kernel's socket states (include/net/tcp_states.h) */
#define K_ESTABLISHED	1
#define K_LISTEN	10

#define ONLY_UNIX	"only unix sockets within the tree are supported"
#define ONLY_KINDS	"only unix, TCP, UDP and netlink sockets are supported"

struct unix_info {
	uint32_t type, state, peer, rqueue, wqueue, shutdown;
	uint32_t vfs_ino, vfs_dev;	/* of a path's file */
	struct unix_raw_name name;
};

void dump_set_why(struct dump_file *df, const char *fmt, ...)
{
	va_list ap;

	if (df->why)
		return;
	va_start(ap, fmt);
	if (vasprintf(&df->why, fmt, ap) < 0)
		df->why = NULL;
	va_end(ap);
}

static void parse_attrs(struct unix_info *ui, struct rtattr *a, int len)
{
	struct unix_diag_rqlen *rq;
	struct unix_diag_vfs *vfs;

	for (; RTA_OK(a, len); a = RTA_NEXT(a, len)) {
		switch (a->rta_type) {
		case UNIX_DIAG_NAME:
			dump_unix_raw(&ui->name, RTA_DATA(a), RTA_PAYLOAD(a));
			break;
		case UNIX_DIAG_VFS:
			if (RTA_PAYLOAD(a) < sizeof(*vfs))
				break;
			vfs = RTA_DATA(a);
			ui->vfs_ino = vfs->udiag_vfs_ino;
			ui->vfs_dev = vfs->udiag_vfs_dev;
			break;
		case UNIX_DIAG_PEER:
			if (RTA_PAYLOAD(a) >= 4)
				memcpy(&ui->peer, RTA_DATA(a), 4);
			break;
		case UNIX_DIAG_RQLEN:
			if (RTA_PAYLOAD(a) < sizeof(*rq))
				break;
			rq = RTA_DATA(a);
			ui->rqueue = rq->udiag_rqueue;
			ui->wqueue = rq->udiag_wqueue;
			break;
		case UNIX_DIAG_SHUTDOWN:
			if (RTA_PAYLOAD(a) >= 1)
				ui->shutdown = *(uint8_t *)RTA_DATA(a);
			break;
		}
	}
}

static int parse_reply(struct unix_info *ui, struct nlmsghdr *h, ssize_t n)
{
	struct unix_diag_msg *m;

	if (!NLMSG_OK(h, n)) {
		errno = EPROTO;
		return -1;
	}
	if (h->nlmsg_type == NLMSG_ERROR) {
		struct nlmsgerr *e = NLMSG_DATA(h);

		errno = e->error ? -e->error : ENOENT;
		return -1;
	}
	if (h->nlmsg_type != SOCK_DIAG_BY_FAMILY ||
	    h->nlmsg_len < NLMSG_LENGTH(sizeof(*m))) {
		errno = EPROTO;
		return -1;
	}
	m = NLMSG_DATA(h);
	memset(ui, 0, sizeof(*ui));
	ui->type = m->udiag_type;
	ui->state = m->udiag_state;
	parse_attrs(ui, (struct rtattr *)(m + 1),
		    h->nlmsg_len - NLMSG_LENGTH(sizeof(*m)));
	return 0;
}

ssize_t dump_unix_diag(uint32_t ino, uint32_t show, void *buf, size_t len)
{
	struct {
		struct nlmsghdr nlh;
		struct unix_diag_req req;
	} rq = {
		.nlh = { .nlmsg_len = sizeof(rq),
			 .nlmsg_type = SOCK_DIAG_BY_FAMILY,
			 .nlmsg_flags = NLM_F_REQUEST },
		.req = { .sdiag_family = AF_UNIX, .udiag_states = ~0u,
			 .udiag_ino = ino, .udiag_show = show,
			 .udiag_cookie = { ~0u, ~0u } },
	};
	ssize_t n = -1;
	int nl;

	nl = socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC, NETLINK_SOCK_DIAG);
	if (nl < 0)
		return -1;
	if (send(nl, &rq, sizeof(rq), 0) == sizeof(rq))
		n = recv(nl, buf, len, 0);
	close(nl);
	return n;
}

/* What sock_diag knows of the unix socket with inode ino (in our network
 * namespace, which is the tree's: a tree in another one is not found). */
static int diag_query(uint32_t ino, struct unix_info *ui)
{
	long buf[2048];
	ssize_t n;

	n = dump_unix_diag(ino, UDIAG_SHOW_NAME | UDIAG_SHOW_PEER |
		     UDIAG_SHOW_RQLEN | UDIAG_SHOW_VFS, buf, sizeof(buf));
	if (n < 0)
		return -1;
	return parse_reply(ui, (struct nlmsghdr *)buf, n);
}

const char *dump_unix_type(uint32_t type)
{
	switch (type) {
	case SOCK_STREAM:
		return "stream";
	case SOCK_DGRAM:
		return "datagram";
	case SOCK_SEQPACKET:
		return "seqpacket";
	}
	return "unknown";
}

static void describe_other(int sk, char *out, size_t len)
{
	socklen_t ol = sizeof(int);
	int dom = -1;

	getsockopt(sk, SOL_SOCKET, SO_DOMAIN, &dom, &ol);
	switch (dom) {
	case AF_NETLINK:
		snprintf(out, len, "a netlink socket");
		return;
	case AF_PACKET:
		snprintf(out, len, "a packet socket");
		return;
	}
	snprintf(out, len, "a socket of family %d", dom);
}

static int sock_domain(int sk)
{
	socklen_t ol = sizeof(int);
	int dom = -1;

	if (getsockopt(sk, SOL_SOCKET, SO_DOMAIN, &dom, &ol))
		return -1;
	return dom;
}

static uint32_t sockopt_u32(int sk, int opt)
{
	socklen_t ol = sizeof(int);
	int v = 0;

	if (getsockopt(sk, SOL_SOCKET, opt, &v, &ol))
		return 0;
	return v;
}

static uint32_t sysctl_u32(const char *path)
{
	char *s = read_file_str(path, NULL);
	uint32_t v = s ? strtoul(s, NULL, 10) : 0;

	free(s);
	return v;
}

/* Buffer sizes are kept only when they differ from the host's defaults,
 * which is how a size set with setsockopt shows (doubled, see socket(7)). */
static void read_options(struct img_unix *u, int sk)
{
	uint32_t rdef = sysctl_u32("/proc/sys/net/core/rmem_default");
	uint32_t wdef = sysctl_u32("/proc/sys/net/core/wmem_default");

	if (sockopt_u32(sk, SO_PASSCRED))
		u->opts |= IMG_UNIX_PASSCRED;
	u->rcvbuf = sockopt_u32(sk, SO_RCVBUF);
	u->sndbuf = sockopt_u32(sk, SO_SNDBUF);
	if (u->rcvbuf == rdef || u->rcvbuf > IMG_MAX_SOCKBUF)
		u->rcvbuf = 0;
	if (u->sndbuf == wdef || u->sndbuf > IMG_MAX_SOCKBUF)
		u->sndbuf = 0;
}

/*
 * A datagram socket shows as established once another connects to it
 * (since 5.15, for sockmap), and one whose peer closed keeps pointing to
 * it until its next send: with no peer, both are as good as unconnected.
 * A stream socket whose peer closed is still connected, shut down both
 * ways, with its queue to read.
 */
static uint32_t img_state(const struct unix_info *ui)
{
	if (ui->state == K_LISTEN)
		return IMG_UNIX_LISTENING;
	if (ui->state != K_ESTABLISHED ||
	    (ui->type == SOCK_DGRAM && !ui->peer))
		return IMG_UNIX_UNCONNECTED;
	return IMG_UNIX_CONNECTED;
}

/* Fill in the socket fields of a unix df (our copy sk) from sock_diag;
 * -1 refuses the dump outright (whatever fd it is on). */
static int fill_unix(struct dump_file *df, int sk, const struct unix_info *ui)
{
	struct img_unix *u = &df->f.sk;
	const char *why;

	u->type = ui->type;
	u->state = img_state(ui);
	u->peer = ui->peer;
	u->shutdown = (ui->shutdown & 1 ? IMG_SHUT_RD : 0) |
		(ui->shutdown & 2 ? IMG_SHUT_WR : 0);
	u->backlog = ui->state == K_LISTEN ? ui->wqueue : 0;
	if (dump_unix_names(df, sk, &ui->name, ui->vfs_ino, ui->vfs_dev))
		return -1;
	why = dump_unix_oob_why(sk, ui->type);
	if (why)
		dump_set_why(df, "socket:[%llu] is a unix stream socket that %s, which is not supported",
			(unsigned long long)df->f.ino, why);
	return 0;
}

static int probe_one(struct dump_file *df)
{
	struct unix_info ui;
	char what[160];
	int sk, dom, ret = -1;

	sk = dump_grab_fd(df);
	if (sk < 0) {
		pr_perror("can't take a copy of fd %d of %d", df->fd, df->pid);
		return -1;
	}
	dom = sock_domain(sk);
	if (dom == AF_INET || dom == AF_INET6) {
		ret = dump_inet_probe(df, sk);	/* dump-inet.c */
		goto out;
	}
	if (dom == AF_NETLINK) {
		ret = dump_netlink_probe(df, sk);	/* dump-netlink.c */
		goto out;
	}
	if (dom != AF_UNIX) {
		describe_other(sk, what, sizeof(what));
		dump_set_why(df, "socket:[%llu] is %s; " ONLY_KINDS,
			(unsigned long long)df->f.ino, what);
		ret = 0;
		goto out;
	}
	if (diag_query(df->f.ino, &ui)) {
		pr_perror("can't learn about socket:[%llu] (fd %d of %d) from sock_diag",
			  (unsigned long long)df->f.ino, df->fd, df->pid);
		goto out;
	}
	read_options(&df->f.sk, sk);
	ret = fill_unix(df, sk, &ui);
out:
	close(sk);
	return ret;
}

int dump_is_unix(const struct dump_file *df)
{
	return df->f.kind == IMG_FILE_UNIX;
}

struct dump_file *dump_kept_unix(struct dump_tree *t, uint64_t ino)
{
	uint32_t i;

	for (i = 0; i < t->nr_files; i++) {
		struct dump_file *df = &t->files[i];

		if (dump_is_unix(df) && df->f.ino == ino && !df->outside &&
		    !df->why)
			return df;
	}
	return NULL;
}

/* The fd of pid on socket ino, or -1. */
static int fd_on(pid_t pid, uint64_t ino)
{
	char want[48], path[64], link[64];
	struct dirent *de;
	int fd = -1;
	ssize_t n;
	DIR *d;

	snprintf(want, sizeof(want), "socket:[%llu]", (unsigned long long)ino);
	snprintf(path, sizeof(path), "/proc/%d/fd", pid);
	d = opendir(path);
	while (d && fd < 0 && (de = readdir(d))) {
		if (!isdigit((unsigned char)de->d_name[0]))
			continue;
		snprintf(path, sizeof(path), "/proc/%d/fd/%d", pid,
			 atoi(de->d_name));
		n = readlink(path, link, sizeof(link) - 1);
		if (n <= 0)
			continue;
		link[n] = '\0';
		if (!strcmp(link, want))
			fd = atoi(de->d_name);
	}
	if (d)
		closedir(d);
	return fd;
}

/* Which process outside the tree holds socket ino, for the message. */
static int holder_of(uint64_t ino, pid_t *pid, int *fd)
{
	struct dirent *de;
	DIR *d = opendir("/proc");

	*fd = -1;
	while (d && *fd < 0 && (de = readdir(d))) {
		if (!isdigit((unsigned char)de->d_name[0]))
			continue;
		*pid = atoi(de->d_name);
		if (*pid != getpid())
			*fd = fd_on(*pid, ino);
	}
	if (d)
		closedir(d);
	return *fd < 0 ? -1 : 0;
}

/* The socket file on ino of the table, kept or not, or NULL. */
static struct dump_file *table_socket(struct dump_tree *t, uint64_t ino)
{
	uint32_t i;

	for (i = 0; i < t->nr_files; i++)
		if (dump_is_unix(&t->files[i]) && t->files[i].f.ino == ino)
			return &t->files[i];
	return NULL;
}

static void peer_outside(struct dump_tree *t, struct dump_file *df)
{
	struct unix_info pi;
	char who[64] = "", name[2 * IMG_MAX_UNIX_NAME + 16] = "", *n = NULL;
	const char *ext = "; " ONLY_UNIX;
	struct dump_file *p = table_socket(t, df->f.sk.peer);
	uint32_t rqueue = 0;
	pid_t pid;
	int fd;

	if (p && p->why) {	/* in the tree, but not kept: say why */
		dump_set_why(df, "socket:[%llu] is a unix %s socket connected to fd %d of %d, which is not kept: %s",
			(unsigned long long)df->f.ino, dump_unix_type(df->f.sk.type),
			p->fd, p->pid, p->why);
		return;
	}

	if (!diag_query(df->f.ino, &pi))
		rqueue = pi.rqueue;
	/* on 0-2 such a socket is the job's plumbing: restore's own it is */
	if (!p && df->fd > 2 && t->procs[0].o->ext_unix) {
		if (!dump_unix_external(df, rqueue))
			return;
		ext = rqueue ? ", with data queued from it, which --ext-unix can't give back" :
			", with no name that --ext-unix could connect to";
	}
	if (!diag_query(df->f.sk.peer, &pi))
		n = dump_unix_show(&pi.name);
	if (n)
		snprintf(name, sizeof(name), " (%s)", n);
	free(n);
	if (!holder_of(df->f.sk.peer, &pid, &fd))
		snprintf(who, sizeof(who), " of process %d (fd %d)", pid, fd);
	dump_set_why(df, "socket:[%llu] is a unix %s socket connected to socket:[%llu]%s%s, outside the tree%s",
		(unsigned long long)df->f.ino, dump_unix_type(df->f.sk.type),
		(unsigned long long)df->f.sk.peer, name, who, ext);
}

/* A socket whose peer is not kept cannot be kept either; dropping it may
 * drop the socket connected to it in turn. */
static void settle_peers(struct dump_tree *t)
{
	uint32_t i;
	int changed = 1;

	while (changed) {
		changed = 0;
		for (i = 0; i < t->nr_files; i++) {
			struct dump_file *df = &t->files[i];

			if (!dump_is_unix(df) || df->outside || df->why ||
			    !df->f.sk.peer || dump_kept_unix(t, df->f.sk.peer))
				continue;
			peer_outside(t, df);
			changed = 1;
		}
	}
}

int dump_sockets_probe(struct dump_tree *t)
{
	uint32_t i;

	for (i = 0; i < t->nr_files; i++) {
		struct dump_file *df = &t->files[i];

		if (dump_is_unix(df) && !df->outside && probe_one(df))
			return -1;
	}
	settle_peers(t);
	dump_unix_pending(t);	/* dump-sockq.c */
	dump_inet_settle(t);
	return 0;
}

/* ---- the receive queues ------------------------------------------------- */

int dump_add_chunk(struct img_file *f, const void *buf, uint32_t len,
		   uint32_t flags)
{
	struct img_chunk *n = realloc(f->chunks,
				      (f->nr_chunks + 1) * sizeof(*n));

	if (!n)
		return -1;
	f->chunks = n;
	n += f->nr_chunks;
	n->flags = flags;
	n->len = len;
	n->data = len ? malloc(len) : NULL;
	if (len && !n->data)
		return -1;
	if (len)
		memcpy(n->data, buf, len);
	f->nr_chunks++;
	return 0;
}

/*
 * Descriptors in flight came to us with the peek (copies, the message
 * keeps its own): the files of the table they are, in pc, then closed.
 * For a file the table has not, -1 (EBADMSG); credentials of a process
 * outside the tree, -1 (ESRCH).
 */
static int check_cmsgs(struct msghdr *mh, struct dump_peek *pc)
{
	struct cmsghdr *c;
	int bad = !!(mh->msg_flags & MSG_CTRUNC), *fds, outside = 0;
	struct ucred uc;
	size_t i, n;

	pc->nr_fds = 0;
	pc->has_creds = 0;
	for (c = CMSG_FIRSTHDR(mh); c; c = CMSG_NXTHDR(mh, c)) {
		if (c->cmsg_level == SOL_SOCKET &&
		    c->cmsg_type == SCM_CREDENTIALS &&
		    c->cmsg_len == CMSG_LEN(sizeof(struct ucred))) {
			memcpy(&uc, CMSG_DATA(c), sizeof(uc));
			if (dump_unix_creds(pc, &uc))	/* dump-sockq.c */
				outside = 1;
		}
		if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
			continue;
		fds = (int *)CMSG_DATA(c);
		n = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		bad |= dump_unix_fds(pc, fds, n);	/* dump-sockq.c */
		for (i = 0; i < n; i++)
			close(fds[i]);
	}
	if (bad)
		errno = EBADMSG;
	else if (outside)
		errno = ESRCH;
	return bad || outside ? -1 : 0;
}

/* One peek at the peek offset, which it moves on; in pc, the sender's
 * name and the descriptors in flight there. */
static ssize_t peek(int sk, void *buf, size_t len, int *flags,
		    struct dump_peek *pc)
{
	char ctl[CMSG_SPACE(sizeof(int) * IMG_MAX_FDS_IN_FLIGHT) +
		 CMSG_SPACE(64)];
	struct iovec iov = { buf, len };
	struct sockaddr_un a;
	struct msghdr mh = {
		.msg_iov = &iov, .msg_iovlen = 1,
		.msg_control = ctl, .msg_controllen = sizeof(ctl),
		.msg_name = &a, .msg_namelen = sizeof(a),
	};
	ssize_t n;

	n = recvmsg(sk, &mh, MSG_PEEK | MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
	if (n < 0)
		return -1;
	if (check_cmsgs(&mh, pc))
		return -1;
	*flags = mh.msg_flags;
	if (mh.msg_namelen > offsetof(struct sockaddr_un, sun_path))
		dump_unix_raw(&pc->from, a.sun_path, mh.msg_namelen -
			      offsetof(struct sockaddr_un, sun_path));
	else
		pc->from.len = 0;
	return n;
}

/* One real read of up to len bytes (taken out of the queue), its
 * descriptors in flight in pc. */
static ssize_t take(int sk, void *buf, size_t len, struct dump_peek *pc)
{
	char ctl[CMSG_SPACE(sizeof(int) * IMG_MAX_FDS_IN_FLIGHT) +
		 CMSG_SPACE(64)];
	struct iovec iov = { buf, len };
	struct msghdr mh = {
		.msg_iov = &iov, .msg_iovlen = 1,
		.msg_control = ctl, .msg_controllen = sizeof(ctl),
	};
	ssize_t n = recvmsg(sk, &mh, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);

	if (n > 0 && check_cmsgs(&mh, pc))
		return -1;
	if (n == 0)
		errno = EIO;
	return n > 0 ? n : -1;
}

/* The count bytes at the head of stream sk, kept already, taken out
 * (with no descriptors: a peek found none there). */
static int take_kept(int sk, uint8_t *buf, uint32_t count,
		     struct dump_peek *pc)
{
	ssize_t r;

	while (count) {
		r = take(sk, buf, count < IMG_MAX_CHUNK ? count : IMG_MAX_CHUNK,
			 pc);
		if (r < 0)
			return -1;
		if (pc->nr_fds) {
			errno = EPROTO;
			return -1;
		}
		count -= r;
	}
	return 0;
}

/*
 * The n bytes at the head of stream sk (peeked at into buf) end with
 * the skb that carries descriptors, if any (a peek stops right after
 * it). Where that skb starts no peek tells: a peek that has copied all
 * it was asked for still walks on to the next skbs and takes the
 * descriptors of the first that has some (unix_stream_read_generic,
 * MSG_PEEK). A real read of one byte does not: the bytes are taken one
 * by one until one comes with descriptors, then the rest of that skb at
 * once. The tree dies after the dump (--kill), so taking them is no loss
 * to it.
 */
static int take_skb(struct img_file *f, int sk, uint8_t *buf, uint32_t n,
		    struct dump_peek *pc)
{
	uint32_t head = 0;
	ssize_t r;

	if (!pc->nr_fds)
		return take_kept(sk, buf, n, pc) ||
		       dump_add_chunk(f, buf, n, 0) ? -1 : 0;
	do {
		r = take(sk, buf + head, 1, pc);
		if (r < 0)
			return -1;
	} while (!pc->nr_fds && ++head < n);
	if (!pc->nr_fds)	/* the skb lies past what a peek may copy */
		return dump_add_chunk(f, buf, n, 0);
	if ((head && dump_add_chunk(f, buf, head, 0)) ||
	    dump_add_chunk(f, pc->ids, 4 * pc->nr_fds, IMG_CHUNK_FDS))
		return -1;
	if (n - head > 1 && take(sk, buf + head + 1, n - head - 1, pc) !=
	    (ssize_t)(n - head - 1))
		return -1;
	return dump_add_chunk(f, buf + head, n - head, IMG_CHUNK_EOR);
}

/*
 * A stream: exactly the rqueue bytes sock_diag counted. Stopping there
 * and not peeking once more at an empty queue matters: that would take
 * a pending error (sk_err) away from the frozen process.
 *
 * Descriptors in flight stay with the skb their sendmsg made (the
 * first of that call's): a read gets them with its first byte and stops
 * at that skb's end. Such an skb is kept as an FDS chunk, then its bytes
 * as one chunk flagged EOR (an skb is far smaller than a chunk), the
 * bytes before it as plain chunks. Finding where it starts takes the
 * bytes out (take_skb): only with --kill, else the socket is refused
 * (EXFULL). Once some are taken, each peek is at the head.
 *
 * With SO_PASSCRED a read (a peek too) does not go on into bytes of
 * other credentials: a chunk of those (IMG_CHUNK_CREDS) comes before
 * the bytes of each peek whose differ from the last ones kept.
 */
static int peek_stream(struct dump_tree *t, struct img_file *f, int sk,
		       uint8_t *buf, uint32_t queued)
{
	struct dump_peek pc = { .t = t };
	uint32_t got = 0, creds[3];
	int fl, zero = 0, taking = 0;
	ssize_t n;

	while (got < queued) {
		if (taking && setsockopt(sk, SOL_SOCKET, SO_PEEK_OFF, &zero,
					 sizeof(zero)))
			return -1;
		n = peek(sk, buf, queued - got < IMG_MAX_CHUNK ?
			 queued - got : IMG_MAX_CHUNK, &fl, &pc);
		if (n <= 0) {
			if (n == 0)
				errno = EIO;
			return -1;
		}
		if (pc.nr_fds && !t->procs[0].o->kill) {
			errno = EXFULL;
			return -1;
		}
		if (pc.nr_fds && !taking) {
			/* what is kept already goes first; then again */
			if (take_kept(sk, buf, got, &pc))
				return -1;
			taking = 1;
			continue;
		}
		if (pc.has_creds && (!f->nr_chunks || memcmp(creds, pc.creds,
							      sizeof(creds)))) {
			memcpy(creds, pc.creds, sizeof(creds));
			if (dump_add_chunk(f, creds, sizeof(creds),
					   IMG_CHUNK_CREDS))
				return -1;
		}
		if (taking ? take_skb(f, sk, buf, n, &pc) :
		    dump_add_chunk(f, buf, n, 0))
			return -1;
		got += n;
	}
	return 0;
}

/*
 * Messages: one peek each, or several for one larger than a chunk (the
 * peek offset then stops inside it and MSG_TRUNC says more follows),
 * until the queue is empty. An empty message peeks as 0 bytes, like the
 * end of a seqpacket connection: once the peer has shut it down, a 0 is
 * taken as the end.
 */
static int peek_messages(struct dump_tree *t, struct img_file *f, int sk,
			 uint8_t *buf)
{
	struct dump_peek pc = { .t = t };
	unsigned long guard;
	ssize_t n;
	int fl, starts;

	for (guard = 0; guard < (1ul << 24); guard++) {
		n = peek(sk, buf, IMG_MAX_CHUNK, &fl, &pc);
		if (n < 0)
			return errno == EAGAIN ? 0 : -1;
		if (n == 0 && (f->sk.shutdown & IMG_SHUT_RD))
			return 0;
		/* a datagram's named sender, the descriptors in flight,
		 * before the message's first chunk */
		starts = !f->nr_chunks ||
			 (f->chunks[f->nr_chunks - 1].flags & IMG_CHUNK_EOR);
		if (starts && f->sk.type == SOCK_DGRAM && pc.from.len > 0 &&
		    dump_add_chunk(f, pc.from.b, pc.from.len, IMG_CHUNK_ADDR))
			return -1;
		if (starts && pc.has_creds &&
		    dump_add_chunk(f, pc.creds, 12, IMG_CHUNK_CREDS))
			return -1;
		if (starts && pc.nr_fds &&
		    dump_add_chunk(f, pc.ids, 4 * pc.nr_fds, IMG_CHUNK_FDS))
			return -1;
		if (dump_add_chunk(f, buf, n, fl & MSG_TRUNC ? 0 : IMG_CHUNK_EOR))
			return -1;
	}
	errno = E2BIG;
	return -1;
}

int dump_unix_peek_queue(struct dump_tree *t, struct img_file *f, int sk,
			 uint32_t queued)
{
	int off = -1, zero = 0, ret, err;
	socklen_t ol = sizeof(off);
	uint8_t *buf;

	buf = malloc(IMG_MAX_CHUNK);
	if (!buf)
		return -1;
	if (getsockopt(sk, SOL_SOCKET, SO_PEEK_OFF, &off, &ol) ||
	    setsockopt(sk, SOL_SOCKET, SO_PEEK_OFF, &zero, sizeof(zero))) {
		free(buf);
		return -1;
	}
	if (f->sk.type == SOCK_STREAM)
		ret = peek_stream(t, f, sk, buf, queued);
	else
		ret = peek_messages(t, f, sk, buf);
	err = errno;
	/* the frozen process's own peek offset, -1 when it had none */
	if (setsockopt(sk, SOL_SOCKET, SO_PEEK_OFF, &off, sizeof(off)))
		pr_warn("can't put back the peek offset of socket:[%llu]",
			(unsigned long long)f->ino);
	free(buf);
	errno = err;
	return ret;
}

static int read_queue(struct dump_tree *t, struct dump_file *df)
{
	struct unix_info ui;
	int sk, ret;

	if (df->f.sk.state == IMG_UNIX_LISTENING)
		return 0;
	if (diag_query(df->f.ino, &ui))
		return -1;
	if (df->f.sk.type == SOCK_STREAM && !ui.rqueue)
		return 0;
	sk = dump_grab_fd(df);
	if (sk < 0)
		return -1;
	ret = dump_unix_peek_queue(t, &df->f, sk, ui.rqueue);
	close(sk);
	return ret;
}

int dump_sockets_read(struct dump_tree *t)
{
	uint32_t i;

	for (i = 0; i < t->nr_files; i++) {
		struct dump_file *df = &t->files[i];

		if (!dump_is_unix(df) || !read_queue(t, df))
			continue;
		if (errno == ESRCH)
			pr_err("can't dump fd %d of %d: socket:[%llu] has a message queued with the credentials (SO_PASSCRED) of a process that is not in the tree, which is not supported",
			       df->fd, df->pid, (unsigned long long)df->f.ino);
		else if (errno == EXFULL)
			pr_err("can't dump fd %d of %d: socket:[%llu] is a unix stream with file descriptors in flight (SCM_RIGHTS) in its queue, which ckpt takes only with --kill",
			       df->fd, df->pid, (unsigned long long)df->f.ino);
		else if (errno == EBADMSG)
			pr_err("can't dump fd %d of %d: socket:[%llu] has file descriptors in flight (SCM_RIGHTS) in its queue that the tree does not hold, which is not supported",
			       df->fd, df->pid, (unsigned long long)df->f.ino);
		else
			pr_perror("can't read the queue of socket:[%llu] (fd %d of %d)",
				  (unsigned long long)df->f.ino, df->fd,
				  df->pid);
		errno = EOPNOTSUPP;
		return -1;
	}
	return dump_unix_pending_read(t, t->procs[0].o->kill);
}
