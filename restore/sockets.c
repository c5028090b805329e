/*
 * The unix sockets of the image's file table, made in restore before the
 * first process exists (files.c hands them to the tree like its pipes).
 *
 * Nothing else runs yet, so connections can be made the simple way and in
 * any order:
 *  - two sockets connected to each other become a socketpair(), unless one
 *    is the server end of a connection its listener accepted: then the
 *    listener is made first (bound and listening), the client connects to
 *    it and accept() gives the server end, so that both ends have the
 *    names they had (the server end carries the listener's);
 *  - a socket whose peer had closed becomes one end of a socketpair whose
 *    other end is closed once its queue is filled;
 *  - a datagram socket connected to a bound one that is not connected back
 *    is connect()ed to its name, after the queues are filled (a connected
 *    datagram socket takes messages from its peer only).
 * Each receive queue is refilled by sending through the socket's peer, or,
 * for a bound datagram socket nobody is connected to, from a temporary
 * socket: the bytes and message boundaries come back; a datagram from a
 * named sender comes from a socket of that name (fill_named); the
 * credentials of SO_PASSCRED too (unixmsg.c). Clients
 * waiting in a listener connect to it again, in order (queue_all).
 * Shutdowns and options are set last.
 */
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "restore/restore.h"
#include "restore/unix-priv.h"

struct sk_ent {
	const struct img_file *f;
	uint32_t idx;		/* in img->files */
	int fd;			/* the socket, -1 until made */
	int tmp_peer;		/* stands in for a peer that had closed */
	dev_t dev;		/* UNLINKED: the file bound, to unlink */
	ino_t ino;
};

struct restore_socks {
	const struct image *img;
	struct sk_ent *e;	/* sorted by inode */
	uint32_t n;
	int borrowed;		/* e[].fd are the file table's now */
	const int *fds;		/* the file table, once it is whole */
};

static int cmp_ino(const void *a, const void *b)
{
	uint64_t x = ((const struct sk_ent *)a)->f->ino;
	uint64_t y = ((const struct sk_ent *)b)->f->ino;

	return (x > y) - (x < y);
}

static struct sk_ent *find(struct restore_socks *t, uint64_t ino)
{
	uint32_t lo = 0, hi = t->n, mid;

	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if (t->e[mid].f->ino == ino)
			return &t->e[mid];
		if (t->e[mid].f->ino < ino)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

static unsigned long long ino_of(const struct sk_ent *e)
{
	return (unsigned long long)e->f->ino;
}

/* The peer of e if they are connected to each other, else NULL. */
static struct sk_ent *mutual_peer(struct restore_socks *t, struct sk_ent *e)
{
	struct sk_ent *p;

	if (!e->f->sk.peer)
		return NULL;
	p = find(t, e->f->sk.peer);
	return p && p != e && p->f->sk.peer == e->f->ino ? p : NULL;
}

static struct sk_ent *listener_named(struct restore_socks *t, const char *name)
{
	uint32_t i;

	for (i = 0; name && i < t->n; i++)
		if (t->e[i].f->sk.state == IMG_UNIX_LISTENING &&
		    !strcmp(t->e[i].f->path, name))
			return &t->e[i];
	return NULL;
}

/* The server end of a connection accepted from a listener of the image. */
static int is_accepted(struct restore_socks *t, struct sk_ent *e)
{
	struct sk_ent *p = mutual_peer(t, e);

	if (e->f->sk.type == SOCK_DGRAM || !p || !listener_named(t, e->f->path))
		return 0;
	return !p->f->path || strcmp(p->f->path, e->f->path);
}

static const char *holder_cwd(const struct image *img, uint32_t id);

static int sock_new(uint32_t type)
{
	return socket(AF_UNIX, type | SOCK_CLOEXEC, 0);
}

static int make_pair(uint32_t type, int *a, int *b)
{
	int sv[2];

	if (socketpair(AF_UNIX, type | SOCK_CLOEXEC, 0, sv))
		return -1;
	*a = sv[0];
	*b = sv[1];
	return 0;
}

/*
 * A socket whose peer had closed: one end of a pair, the other end
 * standing in for the peer until its queue is filled, named as the peer
 * was where nobody else sees it (unixname.c).
 */
static int make_stand_in(struct restore_socks *t, struct sk_ent *e)
{
	const char *cwd = holder_cwd(t->img, e->f->id);
	struct sockaddr_un a;
	socklen_t len;

	if (make_pair(e->f->sk.type, &e->fd, &e->tmp_peer))
		return -1;
	if (!e->f->sk.peer_name)
		return 0;
	len = unix_addr(e->f, e->f->sk.peer_name, &a);
	if (!unix_bind_private(e->tmp_peer, &a, len, cwd ? cwd : "/tmp"))
		return 0;
	pr_perror("can't name the peer of socket %llu %s", ino_of(e),
		  e->f->sk.peer_name);
	return -1;
}

/* Everything but the accepted connections, which need their listener. */
static int make_one(struct restore_socks *t, struct sk_ent *e)
{
	struct sk_ent *p = mutual_peer(t, e);
	const struct img_unix *u = &e->f->sk;

	if (p && (is_accepted(t, e) || is_accepted(t, p)))
		return 0;
	if (u->opts & IMG_UNIX_PENDING)
		return 0;	/* queue_all() */
	if (p)
		return make_pair(u->type, &e->fd, &p->fd);
	if (u->state == IMG_UNIX_CONNECTED && !u->peer &&
	    !(u->opts & IMG_UNIX_EXTERNAL))
		return make_stand_in(t, e);
	e->fd = sock_new(u->type);
	return e->fd < 0 ? -1 : 0;
}

static int make_all(struct restore_socks *t)
{
	uint32_t i;

	for (i = 0; i < t->n; i++) {
		if (t->e[i].fd >= 0 || !make_one(t, &t->e[i]))
			continue;
		pr_perror("can't make socket %llu", ino_of(&t->e[i]));
		return -1;
	}
	return 0;
}

/* ---- names -------------------------------------------------------------- */

/* The working directory of a process holding file id: a relative name
 * was bound there, and resolves there again. */
static const char *holder_cwd(const struct image *img, uint32_t id)
{
	uint32_t i, k;

	for (i = 0; i < img->nr_procs; i++)
		for (k = 0; k < img->procs[i].nr_fds; k++)
			if (img->procs[i].fds[k].file == id)
				return img->procs[i].proc.cwd;
	return NULL;
}

/* For a relative name, go to where it was bound; *saved brings us back. */
static int enter_dir(struct restore_socks *t, const struct sk_ent *e, int *saved)
{
	const char *cwd = holder_cwd(t->img, e->f->id);

	*saved = -1;
	if (e->f->path[0] == '/' || e->f->path[0] == '@' || !cwd)
		return 0;
	*saved = open(".", O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (*saved < 0 || chdir(cwd)) {
		pr_perror("can't go to %s to bind socket %llu to %s", cwd,
			  ino_of(e), e->f->path);
		return -1;
	}
	return 0;
}

static void leave_dir(int saved)
{
	if (saved < 0)
		return;
	if (fchdir(saved))
		pr_perror("can't go back to restore's directory");
	close(saved);
}

/* A socket file left by the dumped socket is replaced; anything else at
 * the path is not ours to remove. The old one's mode and owner, in *old
 * (st_mode 0 if none), go to the new one: a program may have changed
 * them since it bound (screen says a session's state by the x bits). */
static int clear_path(const struct sk_ent *e, struct stat *old)
{
	struct stat st;

	old->st_mode = 0;
	if (e->f->path[0] == '@' || lstat(e->f->path, &st))
		return 0;
	if (!S_ISSOCK(st.st_mode)) {
		pr_err("can't bind socket %llu to %s: the path exists and is not a socket",
		       ino_of(e), e->f->path);
		errno = EEXIST;
		return -1;
	}
	*old = st;
	return unlink(e->f->path);
}

static int keep_mode(const struct sk_ent *e, const struct stat *old)
{
	if (!old->st_mode)
		return 0;
	if (chown(e->f->path, old->st_uid, old->st_gid) ||
	    chmod(e->f->path, old->st_mode & 07777)) {
		pr_perror("can't give socket file %s its mode %#o back",
			  e->f->path, old->st_mode & 07777);
		return -1;
	}
	return 0;
}

static int bind_name(struct restore_socks *t, struct sk_ent *e)
{
	struct sockaddr_un a;
	socklen_t len = unix_addr(e->f, e->f->path, &a);
	struct stat old;
	int saved, ret = -1;
	struct stat st;

	if (enter_dir(t, e, &saved))
		goto out;
	if (clear_path(e, &old))
		goto out;
	if (bind(e->fd, (struct sockaddr *)&a, len)) {
		pr_perror("can't bind socket %llu to %s", ino_of(e),
			  e->f->path);
		goto out;
	}
	/* the file to unlink once the tree's connections are made */
	if ((e->f->sk.opts & IMG_UNIX_UNLINKED) && !lstat(e->f->path, &st)) {
		e->dev = st.st_dev;
		e->ino = st.st_ino;
	}
	ret = keep_mode(e, &old);
out:
	leave_dir(saved);
	return ret;
}

/* connect() to the socket bound to peer's name, from where it was bound */
static int connect_name(struct restore_socks *t, int fd, const struct sk_ent *peer)
{
	struct sockaddr_un a;
	socklen_t len = unix_addr(peer->f, peer->f->path, &a);
	int saved, ret;

	if (enter_dir(t, peer, &saved))
		return -1;
	ret = connect(fd, (struct sockaddr *)&a, len);
	leave_dir(saved);
	return ret;
}

static int bind_all(struct restore_socks *t)
{
	uint32_t i;

	for (i = 0; i < t->n; i++) {
		struct sk_ent *e = &t->e[i];

		if (e->fd < 0 || !e->f->path)
			continue;
		if (bind_name(t, e))
			return -1;
		if (e->f->sk.state == IMG_UNIX_LISTENING &&
		    listen(e->fd, e->f->sk.backlog)) {
			pr_perror("can't listen on %s", e->f->path);
			return -1;
		}
	}
	return 0;
}

/* The client connects to the listener, accept() gives the server end. */
static int accept_one(struct restore_socks *t, struct sk_ent *s)
{
	struct sk_ent *c = mutual_peer(t, s), *l = listener_named(t, s->f->path);

	c->fd = sock_new(c->f->sk.type);
	if (c->fd < 0)
		return -1;
	if (c->f->path && bind_name(t, c))
		return -1;
	if (connect_name(t, c->fd, l))
		return -1;
	s->fd = accept4(l->fd, NULL, NULL, SOCK_CLOEXEC);
	return s->fd < 0 ? -1 : 0;
}

static int accept_all(struct restore_socks *t)
{
	uint32_t i;

	for (i = 0; i < t->n; i++) {
		if (t->e[i].fd >= 0 || !is_accepted(t, &t->e[i]))
			continue;
		if (accept_one(t, &t->e[i])) {
			pr_perror("can't reconnect socket %llu to %s",
				  ino_of(&t->e[i]), t->e[i].f->path);
			return -1;
		}
	}
	return 0;
}

/* ---- connections waiting in a listener ---------------------------------- */

static int cmp_place(const void *a, const void *b)
{
	const struct img_unix *x = &(*(struct sk_ent *const *)a)->f->sk;
	const struct img_unix *y = &(*(struct sk_ent *const *)b)->f->sk;

	if (x->peer != y->peer)
		return (x->peer > y->peer) - (x->peer < y->peer);
	return (x->backlog > y->backlog) - (x->backlog < y->backlog);
}

/* The client c connects to its listener again, which queues it. */
static int queue_one(struct restore_socks *t, struct sk_ent *c, uint32_t place)
{
	struct sk_ent *l = find(t, c->f->sk.peer);

	if (!l || l->f->sk.state != IMG_UNIX_LISTENING ||
	    l->f->sk.type != c->f->sk.type || c->f->sk.backlog != place) {
		pr_err("can't restore socket %llu: it waits in socket %llu, which is no listener of its kind, at place %u",
		       ino_of(c), (unsigned long long)c->f->sk.peer,
		       c->f->sk.backlog);
		return -1;
	}
	c->fd = sock_new(c->f->sk.type | SOCK_NONBLOCK);
	if (c->fd < 0 || (c->f->path && bind_name(t, c)))
		return -1;
	/* nonblocking: a full queue is an error, not a wait */
	if (connect_name(t, c->fd, l)) {
		pr_perror("can't queue socket %llu in listener %llu again",
			  ino_of(c), ino_of(l));
		return -1;
	}
	return 0;
}

/* The waiting clients, listener by listener, in their places. */
static int queue_all(struct restore_socks *t)
{
	struct sk_ent **w = calloc(t->n ? t->n : 1, sizeof(*w));
	uint32_t i, n = 0, place = 0;
	int ret = -1;

	if (!w)
		return -1;
	for (i = 0; i < t->n; i++)
		if (t->e[i].f->sk.opts & IMG_UNIX_PENDING)
			w[n++] = &t->e[i];
	qsort(w, n, sizeof(*w), cmp_place);
	for (i = 0; i < n; i++) {
		place = i && w[i]->f->sk.peer == w[i - 1]->f->sk.peer ?
			place + 1 : 1;
		if (queue_one(t, w[i], place))
			goto out;
	}
	ret = 0;
out:
	free(w);
	return ret;
}

/* ---- the queues --------------------------------------------------------- */

/* Room in the sender for the whole queue at once; *old gets its size. */
static void widen_sndbuf(int fd, uint64_t bytes, int *old)
{
	socklen_t ol = sizeof(*old);
	int want = bytes > (1u << 29) ? 1 << 29 : (int)bytes + 65536;

	*old = 0;
	if (getsockopt(fd, SOL_SOCKET, SO_SNDBUF, old, &ol) || *old >= 2 * want)
		return;
	/* the kernel doubles what it is given (socket(7)) */
	if (setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &want, sizeof(want)))
		pr_debug("can't widen a socket's send buffer: %s",
			 strerror(errno));
}

static void set_sndbuf(int fd, int size)
{
	int half = size / 2;

	if (size && setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &half,
			       sizeof(half)) &&
	    setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &half, sizeof(half)))
		pr_debug("can't set a socket's send buffer: %s",
			 strerror(errno));
}

static uint64_t queued(const struct img_file *f)
{
	uint64_t n = 0;
	uint32_t i;

	for (i = 0; i < f->nr_chunks; i++)
		n += f->chunks[i].len;
	return n;
}

static int send_queue(struct restore_socks *t, int fd,
		      const struct img_file *f, const struct sockaddr_un *to,
		      socklen_t tolen)
{
	uint32_t i = 0;

	struct unix_send u = { t->img, t->fds };

	if (f->sk.type == SOCK_STREAM)
		return unix_send_stream(&u, fd, f);
	while (i < f->nr_chunks)
		if (unix_send_msg(&u, fd, f, &i, NULL, to, tolen))
			return -1;
	return 0;
}

/* Nobody is connected to a bound datagram socket: a stranger sends. */
static int send_from_stranger(struct restore_socks *t, const struct sk_ent *e)
{
	struct sockaddr_un a;
	socklen_t len;
	int fd, saved, ret = -1, old;

	if (!e->f->path) {
		errno = EDESTADDRREQ;
		return -1;
	}
	len = unix_addr(e->f, e->f->path, &a);
	fd = sock_new(e->f->sk.type);
	if (fd < 0)
		return -1;
	widen_sndbuf(fd, queued(e->f), &old);
	if (!enter_dir(t, e, &saved))
		ret = send_queue(t, fd, e->f, &a, len);
	leave_dir(saved);
	close(fd);
	return ret;
}

/* ---- datagrams with their senders' names ---------------------------------- */

/* Is a (len bytes) the name of image socket file f? */
static int named(const struct img_file *f, const char *name,
		 const struct sockaddr_un *a, socklen_t len)
{
	struct sockaddr_un b;

	return name && unix_addr(f, name, &b) == len &&
	       !memcmp(a->sun_path, b.sun_path, len -
		       offsetof(struct sockaddr_un, sun_path));
}

/*
 * Who sends the datagram whose sender's name is ch to e: the stand-in of
 * e's closed peer if it was that, else the socket of the image bound to
 * it, else one of ours bound to it where nobody else sees it (*tmp, to
 * close). *to: whether it must name e (not when it is e's peer).
 */
static int sender_of(struct restore_socks *t, struct sk_ent *e,
		     const struct img_chunk *ch, int *fd, int *tmp, int *to)
{
	const char *cwd = holder_cwd(t->img, e->f->id);
	struct sk_ent *p = mutual_peer(t, e);
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	socklen_t len;
	uint32_t i;

	memcpy(a.sun_path, ch->data, ch->len);
	len = offsetof(struct sockaddr_un, sun_path) + ch->len +
	      (ch->data[0] ? 1 : 0);
	*to = 0;
	if (e->tmp_peer >= 0 && named(e->f, e->f->sk.peer_name, &a, len)) {
		*fd = e->tmp_peer;
		return 0;
	}
	*to = 1;
	for (i = 0; i < t->n; i++) {
		struct sk_ent *s = &t->e[i];

		if (s->fd < 0 || s->f->sk.type != SOCK_DGRAM ||
		    !named(s->f, s->f->path, &a, len))
			continue;
		*fd = s->fd;
		*to = s != p;
		return 0;
	}
	*tmp = *fd = sock_new(SOCK_DGRAM);
	if (*fd < 0)
		return -1;
	return unix_bind_private(*fd, &a, len, cwd ? cwd : "/tmp");
}

/* e's queue, each datagram from its sender (whose name the image has,
 * or a stranger or e's peer, which had none) */
static int fill_named(struct restore_socks *t, struct sk_ent *e)
{
	const struct img_file *f = e->f;
	struct sk_ent *p = mutual_peer(t, e);
	int def = p ? p->fd : e->tmp_peer, fd, tmp, to, old, saved, ret = 0;
	struct sockaddr_un a;
	socklen_t len = f->path ? unix_addr(f, f->path, &a) : 0;
	struct unix_send u = { t->img, t->fds };
	uint32_t i = 0;

	if (enter_dir(t, e, &saved))
		return -1;
	while (!ret && i < f->nr_chunks) {
		tmp = -1;
		fd = def;
		to = def < 0;
		if (f->chunks[i].flags & IMG_CHUNK_ADDR)
			ret = sender_of(t, e, &f->chunks[i++], &fd, &tmp, &to);
		if (!ret && fd < 0)
			fd = tmp = sock_new(SOCK_DGRAM);	/* a stranger */
		if (!ret && fd < 0)
			ret = -1;
		if (!ret && to && !len) {
			errno = EDESTADDRREQ;	/* e has no name to send to */
			ret = -1;
		}
		if (!ret && fd >= 0) {
			widen_sndbuf(fd, f->chunks[i].len, &old);
			ret = unix_send_msg(&u, fd, f, &i, NULL,
					    to ? &a : NULL, len);
			set_sndbuf(fd, old);
		}
		if (tmp >= 0)
			close(tmp);
	}
	leave_dir(saved);
	return ret;
}

static int has_senders(const struct img_file *f)
{
	uint32_t i;

	for (i = 0; i < f->nr_chunks; i++)
		if (f->chunks[i].flags & IMG_CHUNK_ADDR)
			return 1;
	return 0;
}

/* What e's peer sent and e had not read yet goes through the peer again. */
static int fill_one(struct restore_socks *t, struct sk_ent *e)
{
	struct sk_ent *p = mutual_peer(t, e);
	int by = p ? p->fd : e->tmp_peer, old, ret;

	/* a waiting client's data is what it sent, not what it got */
	if (e->f->sk.opts & IMG_UNIX_PENDING)
		by = e->fd;
	if (has_senders(e->f))
		return fill_named(t, e);
	if (by < 0)
		return send_from_stranger(t, e);
	widen_sndbuf(by, queued(e->f), &old);
	ret = send_queue(t, by, e->f, NULL, 0);
	set_sndbuf(by, old);
	return ret;
}

static int fill_all(struct restore_socks *t, int ph)
{
	uint32_t i;

	for (i = 0; i < t->n; i++) {
		struct sk_ent *e = &t->e[i];

		if (!e->f->nr_chunks || unix_phase(e->f) != ph ||
		    !fill_one(t, e))
			continue;
		pr_perror("can't queue %llu bytes in socket %llu",
			  (unsigned long long)queued(e->f), ino_of(e));
		return -1;
	}
	return 0;
}

static int check_creds(struct restore_socks *t)
{
	uint32_t i;

	for (i = 0; i < t->n; i++)
		if (unix_creds_in_image(t->img, t->e[i].f))
			return -1;
	return 0;
}

/* ---- the rest ----------------------------------------------------------- */

/* A socket connected to one outside the image (--ext-unix): to its name
 * again, from where the holder is (the peer's own place is unknown). */
static int connect_external(struct restore_socks *t, struct sk_ent *e)
{
	const char *cwd = holder_cwd(t->img, e->f->id);
	struct sockaddr_un a;
	socklen_t len = unix_addr(e->f, e->f->sk.peer_name, &a);
	int saved = -1, ret;

	if (a.sun_path[0] && a.sun_path[0] != '/' && cwd) {
		saved = open(".", O_PATH | O_DIRECTORY | O_CLOEXEC);
		if (saved < 0 || chdir(cwd)) {
			pr_perror("can't go to %s", cwd);
			leave_dir(saved);
			return -1;
		}
	}
	ret = connect(e->fd, (struct sockaddr *)&a, len);
	if (ret)
		pr_perror("can't connect socket %llu to %s outside the image",
			  ino_of(e), e->f->sk.peer_name);
	leave_dir(saved);
	return ret;
}

/* A datagram socket connected one way, to a bound socket. */
static int connect_dgram(struct restore_socks *t, struct sk_ent *e)
{
	struct sk_ent *p;

	if (e->f->sk.opts & IMG_UNIX_EXTERNAL)
		return connect_external(t, e);
	if (e->f->sk.opts & IMG_UNIX_PENDING)
		return 0;	/* connected by queue_all() */
	if (!e->f->sk.peer || e->tmp_peer >= 0 || mutual_peer(t, e))
		return 0;
	p = find(t, e->f->sk.peer);
	if (!p->f->path) {
		pr_err("can't reconnect socket %llu: its peer %llu has no name",
		       ino_of(e), ino_of(p));
		return -1;
	}
	if (connect_name(t, e->fd, p)) {
		pr_perror("can't reconnect socket %llu to %s", ino_of(e),
			  p->f->path);
		return -1;
	}
	return 0;
}

static int set_opt(int fd, int opt, int val)
{
	return setsockopt(fd, SOL_SOCKET, opt, &val, sizeof(val));
}

static int finish_one(struct sk_ent *e)
{
	const struct img_unix *u = &e->f->sk;

	if (e->tmp_peer >= 0) {
		/* the peer's close shuts both ways, as it did */
		close(e->tmp_peer);
		e->tmp_peer = -1;
	}
	if ((u->shutdown & IMG_SHUT_WR) && shutdown(e->fd, SHUT_WR))
		return -1;
	if ((u->shutdown & IMG_SHUT_RD) && shutdown(e->fd, SHUT_RD))
		return -1;
	if ((u->opts & IMG_UNIX_PASSCRED) && set_opt(e->fd, SO_PASSCRED, 1))
		return -1;
	if (u->rcvbuf && set_opt(e->fd, SO_RCVBUFFORCE, u->rcvbuf / 2) &&
	    set_opt(e->fd, SO_RCVBUF, u->rcvbuf / 2))
		return -1;
	set_sndbuf(e->fd, u->sndbuf);
	return fcntl(e->fd, F_SETFL, e->f->flags & (O_NONBLOCK | O_ASYNC));
}

static int finish_all(struct restore_socks *t)
{
	uint32_t i;

	for (i = 0; i < t->n; i++)
		if (connect_dgram(t, &t->e[i]))
			return -1;
	for (i = 0; i < t->n; i++) {
		if (!finish_one(&t->e[i]))
			continue;
		pr_perror("can't set the state of socket %llu",
			  ino_of(&t->e[i]));
		return -1;
	}
	return 0;
}

/* The file of a name that was unlinked goes again, unless another socket
 * is bound there now. */
static int unlink_names(struct restore_socks *t)
{
	struct stat st;
	uint32_t i;
	int saved;

	for (i = 0; i < t->n; i++) {
		struct sk_ent *e = &t->e[i];

		if (!e->ino || enter_dir(t, e, &saved))
			continue;
		if (!lstat(e->f->path, &st) && st.st_dev == e->dev &&
		    st.st_ino == e->ino && unlink(e->f->path))
			pr_perror("can't unlink %s, socket %llu's unlinked name",
				  e->f->path, ino_of(e));
		leave_dir(saved);
	}
	return 0;
}

/* Two sockets on one path, one of them unlinked: which one a connection
 * by that name was made to is not known. */
static int shared_unlinked(struct restore_socks *t)
{
	const struct img_file *a, *b;
	uint32_t i, k;

	for (i = 0; i < t->n; i++) {
		a = t->e[i].f;
		if (is_accepted(t, &t->e[i]))
			continue;	/* its listener's name, not bound */
		for (k = i + 1; a->path && k < t->n; k++) {
			b = t->e[k].f;
			if (!b->path || strcmp(a->path, b->path) ||
			    is_accepted(t, &t->e[k]) ||
			    !((a->sk.opts | b->sk.opts) & IMG_UNIX_UNLINKED))
				continue;
			pr_err("can't restore sockets %llu and %llu: both are bound to %s, and one of them was unlinked",
			       (unsigned long long)a->ino,
			       (unsigned long long)b->ino, a->path);
			return -1;
		}
	}
	return 0;
}

static void free_tab(struct restore_socks *t)
{
	uint32_t i;

	for (i = 0; i < t->n; i++) {
		if (t->e[i].fd >= 0 && !t->borrowed)
			close(t->e[i].fd);
		if (t->e[i].tmp_peer >= 0)
			close(t->e[i].tmp_peer);
	}
	free(t->e);
}

static int build_tab(const struct image *img, struct restore_socks *t)
{
	uint32_t i;

	t->img = img;
	t->n = 0;
	t->e = calloc(img->nr_files ? img->nr_files : 1, sizeof(*t->e));
	if (!t->e) {
		pr_err("out of memory");
		return -1;
	}
	for (i = 0; i < img->nr_files; i++) {
		if (img->files[i].kind != IMG_FILE_UNIX)
			continue;
		t->e[t->n].f = &img->files[i];
		t->e[t->n].idx = i;
		t->e[t->n].fd = t->e[t->n].tmp_peer = -1;
		t->n++;
	}
	qsort(t->e, t->n, sizeof(*t->e), cmp_ino);
	return 0;
}

/* The sockets, connected and named, their queues but those that wait for
 * the whole file table (late): see restore_sockets_late. */
int restore_sockets_open(const struct image *img, int *fds,
			 struct restore_socks **out)
{
	struct restore_socks *t = calloc(1, sizeof(*t));
	uint32_t i;

	*out = NULL;
	if (!t || build_tab(img, t)) {
		free(t);
		return -1;
	}
	if (check_creds(t) || shared_unlinked(t) || make_all(t) ||
	    bind_all(t) || accept_all(t) || queue_all(t) ||
	    fill_all(t, UNIX_EARLY)) {
		restore_sockets_drop(t);
		return -1;
	}
	for (i = 0; i < t->n; i++)
		fds[t->e[i].idx] = t->e[i].fd;
	t->borrowed = 1;
	*out = t;
	return 0;
}

/* The queues holding descriptors in flight, from the file table fds,
 * then, unless queues wait for the tree (*tree keeps t for
 * restore_sockets_tree then), what follows the queues: shutdowns,
 * options, unlinked names. */
int restore_sockets_late(struct restore_socks *t, const int *fds,
			 struct restore_socks **tree)
{
	uint32_t i;
	int ret;

	*tree = NULL;
	if (!t)
		return 0;
	t->fds = fds;
	ret = fill_all(t, UNIX_LATE);
	for (i = 0; !ret && i < t->n; i++)
		if (unix_phase(t->e[i].f) == UNIX_TREE) {
			*tree = t;
			return 0;
		}
	ret = ret || finish_all(t) || unlink_names(t) ? -1 : 0;
	restore_sockets_drop(t);
	return ret;
}

/* Filled by restore, which holds the sockets still, once the tree's
 * processes exist, before any runs the program. In a new pid namespace
 * they would have other numbers on restore's side. */
int restore_sockets_tree(struct restore_socks *t, int pidns)
{
	int ret;

	if (!t)
		return 0;
	if (pidns) {
		pr_err("can't restore the credentials (SO_PASSCRED) of messages queued in unix sockets in a new PID namespace (--pidns)");
		restore_sockets_drop(t);
		return -1;
	}
	ret = fill_all(t, UNIX_TREE) || finish_all(t) || unlink_names(t) ?
	      -1 : 0;
	restore_sockets_drop(t);
	return ret;
}

void restore_sockets_drop(struct restore_socks *t)
{
	if (!t)
		return;
	free_tab(t);
	free(t);
}
