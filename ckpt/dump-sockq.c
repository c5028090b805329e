/*
 * The connections waiting in the queue of a unix listener of the tree,
 * not accepted yet. Such a connection has no fd anywhere: its server end
 * lives in the listener's queue. sock_diag names each by its client
 * (UNIX_DIAG_ICONS), in queue order; when every client is a socket of
 * the tree, each is recorded as PENDING: its listener, its place in the
 * queue, and as its FILE_DATA what it sent on the connection. Restore
 * connects the clients to the listener again, in order, and sends that
 * data through them, so that accept(2) gives them as before.
 *
 * What a client sent waits in the server end, which only accept(2)
 * reaches; it is taken out of the queue for that, so only when the tree
 * is killed after the dump (--kill), and only when something was sent
 * (sock_diag counts it in the client's write memory). A dump that fails
 * after that loses those connections: their clients see them closed.
 */
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <ctype.h>
#include <endian.h>
#include <errno.h>
#include <linux/kcmp.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <linux/sock_diag.h>
#include <linux/unix_diag.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ckpt/dump-priv.h"

/* the attribute typ of sock_diag's reply in buf (n bytes), or NULL */
static struct rtattr *diag_attr(void *buf, ssize_t n, int typ)
{
	struct nlmsghdr *h = buf;
	struct rtattr *a;
	int alen;

	if (n < 0 || !NLMSG_OK(h, n) || h->nlmsg_type != SOCK_DIAG_BY_FAMILY ||
	    h->nlmsg_len < NLMSG_LENGTH(sizeof(struct unix_diag_msg)))
		return NULL;
	a = (struct rtattr *)((struct unix_diag_msg *)NLMSG_DATA(h) + 1);
	alen = h->nlmsg_len - NLMSG_LENGTH(sizeof(struct unix_diag_msg));
	for (; RTA_OK(a, alen); a = RTA_NEXT(a, alen))
		if (a->rta_type == typ)
			return a;
	return NULL;
}

/* The clients of the connections waiting in listener, in queue order
 * (0: a client that has closed): how many, in *icons (malloc'd). */
static int icons_of(uint32_t listener, uint32_t **icons)
{
	size_t len = 64 * 1024 + 4 * IMG_MAX_BACKLOG / 64;
	struct rtattr *a;
	void *buf = malloc(len);
	int n = 0;

	*icons = NULL;
	if (!buf)
		return 0;
	a = diag_attr(buf, dump_unix_diag(listener, UDIAG_SHOW_ICONS, buf,
					  len), UNIX_DIAG_ICONS);
	if (a && RTA_PAYLOAD(a) >= 4) {
		*icons = malloc(RTA_PAYLOAD(a));
		if (*icons) {
			n = RTA_PAYLOAD(a) / 4;
			memcpy(*icons, RTA_DATA(a), 4 * (size_t)n);
		}
	}
	free(buf);
	return n;
}

/* What sock_diag says of ino: UNIX_DIAG_RQLEN, or -1 */
static int rqlen(uint32_t ino, struct unix_diag_rqlen *rq)
{
	long buf[1024];
	struct rtattr *a;

	a = diag_attr(buf, dump_unix_diag(ino, UDIAG_SHOW_RQLEN, buf,
					  sizeof(buf)), UNIX_DIAG_RQLEN);
	if (!a || RTA_PAYLOAD(a) < sizeof(*rq))
		return -1;
	memcpy(rq, RTA_DATA(a), sizeof(*rq));
	return 0;
}

/* A client of the table that can wait in l's queue: kept, connected to
 * nothing it can see, of l's type. */
static struct dump_file *waiting_client(struct dump_tree *t,
					const struct dump_file *l, uint32_t ino)
{
	struct dump_file *c = ino ? dump_kept_unix(t, ino) : NULL;

	if (!c || c->f.sk.state != IMG_UNIX_CONNECTED || c->f.sk.peer ||
	    c->f.sk.type != l->f.sk.type ||
	    (c->f.sk.opts & (IMG_UNIX_EXTERNAL | IMG_UNIX_PENDING)))
		return NULL;
	return c;
}

/* Every client waiting in l is one of the tree's: mark them, or say why
 * l can't be kept. */
static void settle_listener(struct dump_tree *t, struct dump_file *l)
{
	uint32_t *icons;
	struct dump_file *c;
	int n = icons_of(l->f.ino, &icons), i;

	for (i = 0; i < n; i++) {
		if (waiting_client(t, l, icons[i]))
			continue;
		if (icons[i])
			dump_set_why(l, "socket:[%llu] is a unix socket listening on %s with a connection not yet accepted from socket:[%u], which is not kept, which is not supported",
				(unsigned long long)l->f.ino, l->f.path,
				icons[i]);
		else
			dump_set_why(l, "socket:[%llu] is a unix socket listening on %s with a connection not yet accepted whose client has closed, which is not supported",
				(unsigned long long)l->f.ino, l->f.path);
		free(icons);
		return;
	}
	for (i = 0; i < n; i++) {
		c = waiting_client(t, l, icons[i]);
		c->f.sk.opts |= IMG_UNIX_PENDING;
		c->f.sk.peer = l->f.ino;
		c->f.sk.backlog = i + 1;
		free(c->f.sk.peer_name);	/* the listener's name */
		c->f.sk.peer_name = NULL;
	}
	free(icons);
}

/* Is client among the connections waiting in a listener of the table? */
static int waits_in_table(struct dump_tree *t, uint32_t client)
{
	uint32_t i, *icons;
	int n, k, found = 0;

	for (i = 0; i < t->nr_files && !found; i++) {
		if (!dump_is_unix(&t->files[i]) ||
		    t->files[i].f.sk.state != IMG_UNIX_LISTENING)
			continue;
		n = icons_of(t->files[i].f.ino, &icons);
		for (k = 0; k < n; k++)
			found |= icons[k] == client;
		free(icons);
	}
	return found;
}

/*
 * A connection with no peer in sight: its peer closed, which shut it
 * both ways (unix_release_sock), or is still waiting to be accepted. A
 * listener of the tree decides for those in its queue (kept with it, or
 * gone with it under --ext-null); one outside can't be followed.
 */
void dump_unix_pending(struct dump_tree *t)
{
	const struct img_unix *u;
	uint32_t i;

	for (i = 0; i < t->nr_files; i++) {
		struct dump_file *l = &t->files[i];

		if (dump_is_unix(l) && !l->outside && !l->why &&
		    l->f.sk.state == IMG_UNIX_LISTENING)
			settle_listener(t, l);
	}
	for (i = 0; i < t->nr_files; i++) {
		struct dump_file *df = &t->files[i];

		u = &df->f.sk;
		if (!dump_is_unix(df) || df->outside || df->why ||
		    u->type == SOCK_DGRAM || u->state != IMG_UNIX_CONNECTED ||
		    u->peer || (u->opts & IMG_UNIX_EXTERNAL) ||
		    u->shutdown == (IMG_SHUT_RD | IMG_SHUT_WR) ||
		    waits_in_table(t, df->f.ino))
			continue;
		dump_set_why(df, "socket:[%llu] is a unix %s socket connected to %s, outside the tree, which has not accepted it yet; only unix sockets within the tree are supported",
			(unsigned long long)df->f.ino, dump_unix_type(u->type),
			u->peer_name ? u->peer_name : "an unnamed socket");
	}
}

/* ---- what the waiting clients sent -------------------------------------- */

/* The bytes the clients waiting in l have sent, as sock_diag counts
 * them (their skbs' memory): 0 when none sent anything; *n: how many
 * clients wait there. */
static uint64_t sent_in(struct dump_tree *t, const struct dump_file *l,
			uint32_t *n)
{
	struct unix_diag_rqlen rq;
	uint64_t sum = 0;
	uint32_t i;

	*n = 0;
	for (i = 0; i < t->nr_files; i++) {
		const struct dump_file *c = &t->files[i];

		if (!dump_is_unix(c) || !(c->f.sk.opts & IMG_UNIX_PENDING) ||
		    c->f.sk.peer != l->f.ino)
			continue;
		sum += rqlen(c->f.ino, &rq) ? 1 : rq.udiag_wqueue;
		(*n)++;
	}
	return sum;
}

/* The client of the server end e that accept(2) gave, by its peer. */
static struct dump_file *client_of(struct dump_tree *t, int e,
				   uint32_t *queued)
{
	struct unix_diag_rqlen rq;
	struct stat st;
	long buf[1024];
	struct rtattr *a;
	uint32_t peer;

	if (fstat(e, &st) || rqlen(st.st_ino, &rq))
		return NULL;
	*queued = rq.udiag_rqueue;
	a = diag_attr(buf, dump_unix_diag(st.st_ino, UDIAG_SHOW_PEER, buf,
					  sizeof(buf)), UNIX_DIAG_PEER);
	if (!a || RTA_PAYLOAD(a) < 4)
		return NULL;
	memcpy(&peer, RTA_DATA(a), 4);
	return dump_kept_unix(t, peer);
}

/* What the client c sent on the server end e, as c's FILE_DATA: e's
 * queue, read as e would (a message ends where c shut it down). */
static int take_sent(struct dump_tree *t, struct dump_file *c, int e,
		     uint32_t queued)
{
	struct img_file f = c->f;
	int ret;

	f.sk.shutdown = c->f.sk.shutdown & IMG_SHUT_WR ? IMG_SHUT_RD : 0;
	f.chunks = NULL;
	f.nr_chunks = 0;
	ret = dump_unix_peek_queue(t, &f, e, queued);
	c->f.chunks = f.chunks;
	c->f.nr_chunks = f.nr_chunks;
	return ret;
}

/* The n connections waiting in l, accepted by us in queue order (the
 * listener is the frozen process's: it is not made nonblocking, n is
 * exactly what waits), each give their client what it had sent. */
static int take_all(struct dump_tree *t, struct dump_file *l, uint32_t n)
{
	int sk = dump_grab_fd(l), e = -1, ret = -1;
	struct dump_file *c;
	uint32_t queued, place;

	if (sk < 0)
		return -1;
	for (place = 1; place <= n; place++) {
		errno = 0;
		e = accept4(sk, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		c = e < 0 ? NULL : client_of(t, e, &queued);
		if (!c || !(c->f.sk.opts & IMG_UNIX_PENDING) ||
		    c->f.sk.backlog != place || c->f.nr_chunks ||
		    take_sent(t, c, e, queued)) {
			if (!errno)
				errno = EPROTO;
			goto out;
		}
		close(e);
		e = -1;
	}
	ret = 0;
out:
	if (e >= 0)
		close(e);
	close(sk);
	return ret;
}

int dump_unix_pending_read(struct dump_tree *t, int kill)
{
	uint64_t sent;
	uint32_t i, n;

	for (i = 0; i < t->nr_files; i++) {
		struct dump_file *l = &t->files[i];

		if (!dump_is_unix(l) || l->f.sk.state != IMG_UNIX_LISTENING ||
		    l->why || l->outside)
			continue;
		sent = sent_in(t, l, &n);
		if (!sent)
			continue;
		if (!kill) {
			pr_err("can't dump fd %d of %d: socket:[%llu] is a unix socket listening on %s whose connections not yet accepted hold data, which ckpt takes only with --kill",
			       l->fd, l->pid, (unsigned long long)l->f.ino,
			       l->f.path);
			errno = EOPNOTSUPP;
			return -1;
		}
		if (take_all(t, l, n)) {
			pr_perror("can't take the connections waiting in socket:[%llu] (fd %d of %d)",
				  (unsigned long long)l->f.ino, l->fd, l->pid);
			return -1;
		}
	}
	return 0;
}

/* ---- descriptors in flight ---------------------------------------------- */

/* The file of the table that our fd is the same open file as, or 0. */
static uint32_t table_id(struct dump_tree *t, int fd)
{
	uint32_t i;

	for (i = 0; i < t->nr_files; i++) {
		const struct dump_file *df = &t->files[i];

		if (!df->drop && df->pid > 0 &&
		    !syscall(SYS_kcmp, getpid(), df->pid, KCMP_FILE, fd,
			     df->fd))
			return df->f.id;
	}
	return 0;
}

int dump_unix_fds(struct dump_peek *pc, const int *fds, size_t n)
{
	uint32_t id;
	size_t i;

	for (i = 0; i < n; i++) {
		id = table_id(pc->t, fds[i]);
		if (!id || pc->nr_fds == IMG_MAX_FDS_IN_FLIGHT)
			return -1;
		pc->ids[pc->nr_fds++] = htole32(id);
	}
	return 0;
}

/*
 * SO_PASSCRED: the sender's pid, uid and gid. Restore sends the message
 * again with those (SCM_CREDENTIALS, which root may do for any pid that
 * exists, scm_check_creds): the pid must then be one restore makes,
 * the same process of the tree; one outside it may be gone or another
 * process by then. Pid 0: the message came with none (neither end had
 * SO_PASSCRED when it was sent), and restore sends it with none.
 */
int dump_unix_creds(struct dump_peek *pc, const struct ucred *uc)
{
	int i;

	pc->has_creds = 1;
	pc->creds[0] = 0;
	pc->creds[1] = htole32(uc->uid);
	pc->creds[2] = htole32(uc->gid);
	if (!uc->pid)
		return 0;
	for (i = 0; i < pc->t->n; i++)
		if (pc->t->procs[i].pid == uc->pid) {
			pc->creds[0] = htole32(pc->t->procs[i].proc.proc.pid);
			return 0;
		}
	pc->creds[0] = htole32(uc->pid);
	return -1;
}

/* Is one of the n fds (ours) the open file of fd of pid? */
static int among(const int *fds, size_t n, pid_t pid, int fd)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (!syscall(SYS_kcmp, getpid(), pid, KCMP_FILE, fds[i], fd))
			return 1;
	return 0;
}

/* The fds of the tree that are regular files in flight in fds (n of
 * ours) become FILE fds. */
static void mark_regs(struct dump_tree *t, const int *fds, size_t n)
{
	uint32_t k;
	int i;

	for (i = 0; i < t->n; i++) {
		struct img_process *p = &t->procs[i].proc;

		for (k = 0; k < p->nr_fds; k++)
			if (p->fds[k].type == IMG_FD_REG &&
			    among(fds, n, t->procs[i].pid, p->fds[k].fd))
				p->fds[k].type = IMG_FD_FILE;
	}
}

/* Every message queued in the unix socket sk (of a stream: its queued
 * bytes, no more, see peek_stream), peeked at whole (the peek offset
 * moves by what a peek copies; it is put back): the fds in flight in
 * it. */
static void scan_queue(struct dump_tree *t, int sk, int stream,
		       uint32_t queued)
{
	char ctl[CMSG_SPACE(sizeof(int) * IMG_MAX_FDS_IN_FLIGHT)];
	struct iovec iov = { .iov_len = IMG_MAX_CHUNK };
	struct msghdr mh;
	struct cmsghdr *c;
	int off = -1, zero = 0, guard;
	socklen_t ol = sizeof(off);
	ssize_t got;
	size_t n;

	iov.iov_base = malloc(iov.iov_len);
	if (!iov.iov_base ||
	    getsockopt(sk, SOL_SOCKET, SO_PEEK_OFF, &off, &ol) ||
	    setsockopt(sk, SOL_SOCKET, SO_PEEK_OFF, &zero, sizeof(zero))) {
		free(iov.iov_base);
		return;
	}
	for (guard = 0; guard < (1 << 24) && (!stream || queued); guard++) {
		memset(&mh, 0, sizeof(mh));
		mh.msg_iov = &iov;
		mh.msg_iovlen = 1;
		mh.msg_control = ctl;
		mh.msg_controllen = sizeof(ctl);
		got = recvmsg(sk, &mh, MSG_PEEK | MSG_DONTWAIT |
			      MSG_CMSG_CLOEXEC);
		if (got < 0 || (stream && (got == 0 || got > queued)))
			break;
		queued -= stream ? got : 0;
		for (c = CMSG_FIRSTHDR(&mh); c; c = CMSG_NXTHDR(&mh, c)) {
			if (c->cmsg_level != SOL_SOCKET ||
			    c->cmsg_type != SCM_RIGHTS)
				continue;
			n = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
			mark_regs(t, (int *)CMSG_DATA(c), n);
			while (n--)
				close(((int *)CMSG_DATA(c))[n]);
		}
	}
	setsockopt(sk, SOL_SOCKET, SO_PEEK_OFF, &off, sizeof(off));
	free(iov.iov_base);
}

/* fd of pid is a unix socket with something queued (*queued: what
 * sock_diag counts): 0, else -1. */
static int message_socket(pid_t pid, int fd, uint32_t *queued)
{
	struct unix_diag_rqlen rq;
	char p[64], l[64];
	unsigned long long ino;
	ssize_t n;

	snprintf(p, sizeof(p), "/proc/%d/fd/%d", pid, fd);
	n = readlink(p, l, sizeof(l) - 1);
	if (n <= 0)
		return -1;
	l[n] = '\0';
	if (sscanf(l, "socket:[%llu]", &ino) != 1 || rqlen(ino, &rq) ||
	    !rq.udiag_rqueue)
		return -1;
	*queued = rq.udiag_rqueue;
	return 0;
}

void dump_unix_inflight_regs(struct dump_tree *t)
{
	struct dump_file df = { 0 };
	int i, sk, type;
	socklen_t l = sizeof(type);
	uint32_t k, queued;

	for (i = 0; i < t->n; i++) {
		struct img_process *p = &t->procs[i].proc;

		for (k = 0; k < p->nr_fds; k++) {
			if (p->fds[k].type != IMG_FD_FILE ||
			    message_socket(t->procs[i].pid, p->fds[k].fd,
					   &queued))
				continue;
			df.pid = t->procs[i].pid;
			df.fd = p->fds[k].fd;
			sk = dump_grab_fd(&df);
			if (sk < 0)
				continue;
			if (!getsockopt(sk, SOL_SOCKET, SO_TYPE, &type, &l))
				scan_queue(t, sk, type == SOCK_STREAM, queued);
			close(sk);
		}
	}
}
