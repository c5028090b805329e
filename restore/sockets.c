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
 * socket: the bytes and message boundaries come back, the sender addresses
 * of datagrams and the credentials of SO_PASSCRED do not (they are
 * restore's). Shutdowns and options are set last.
 */
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "restore/restore.h"

struct sk_ent {
	const struct img_file *f;
	uint32_t idx;		/* in img->files */
	int fd;			/* the socket, -1 until made */
	int tmp_peer;		/* stands in for a peer that had closed */
};

struct sk_tab {
	const struct image *img;
	struct sk_ent *e;	/* sorted by inode */
	uint32_t n;
};

static int cmp_ino(const void *a, const void *b)
{
	uint64_t x = ((const struct sk_ent *)a)->f->ino;
	uint64_t y = ((const struct sk_ent *)b)->f->ino;

	return (x > y) - (x < y);
}

static struct sk_ent *find(struct sk_tab *t, uint64_t ino)
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
static struct sk_ent *mutual_peer(struct sk_tab *t, struct sk_ent *e)
{
	struct sk_ent *p;

	if (!e->f->sk.peer)
		return NULL;
	p = find(t, e->f->sk.peer);
	return p && p != e && p->f->sk.peer == e->f->ino ? p : NULL;
}

static struct sk_ent *listener_named(struct sk_tab *t, const char *name)
{
	uint32_t i;

	for (i = 0; name && i < t->n; i++)
		if (t->e[i].f->sk.state == IMG_UNIX_LISTENING &&
		    !strcmp(t->e[i].f->path, name))
			return &t->e[i];
	return NULL;
}

/* The server end of a connection accepted from a listener of the image. */
static int is_accepted(struct sk_tab *t, struct sk_ent *e)
{
	struct sk_ent *p = mutual_peer(t, e);

	if (e->f->sk.type == SOCK_DGRAM || !p || !listener_named(t, e->f->path))
		return 0;
	return !p->f->path || strcmp(p->f->path, e->f->path);
}

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

/* Everything but the accepted connections, which need their listener. */
static int make_one(struct sk_tab *t, struct sk_ent *e)
{
	struct sk_ent *p = mutual_peer(t, e);
	const struct img_unix *u = &e->f->sk;

	if (p && (is_accepted(t, e) || is_accepted(t, p)))
		return 0;
	if (p)
		return make_pair(u->type, &e->fd, &p->fd);
	if (u->state == IMG_UNIX_CONNECTED && !u->peer)
		return make_pair(u->type, &e->fd, &e->tmp_peer);
	e->fd = sock_new(u->type);
	return e->fd < 0 ? -1 : 0;
}

static int make_all(struct sk_tab *t)
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

static socklen_t name_addr(const char *name, struct sockaddr_un *a)
{
	size_t len = strlen(name);

	memset(a, 0, sizeof(*a));
	a->sun_family = AF_UNIX;
	if (name[0] == '@') {
		/* abstract: a NUL, then exactly the name's bytes */
		memcpy(a->sun_path + 1, name + 1, len - 1);
		return offsetof(struct sockaddr_un, sun_path) + len;
	}
	memcpy(a->sun_path, name, len);
	return offsetof(struct sockaddr_un, sun_path) + len + 1;
}

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
static int enter_dir(struct sk_tab *t, const struct sk_ent *e, int *saved)
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

static int bind_name(struct sk_tab *t, struct sk_ent *e)
{
	struct sockaddr_un a;
	socklen_t len = name_addr(e->f->path, &a);
	struct stat old;
	int saved, ret = -1;

	if (enter_dir(t, e, &saved))
		goto out;
	if (clear_path(e, &old))
		goto out;
	if (bind(e->fd, (struct sockaddr *)&a, len)) {
		pr_perror("can't bind socket %llu to %s", ino_of(e),
			  e->f->path);
		goto out;
	}
	ret = keep_mode(e, &old);
out:
	leave_dir(saved);
	return ret;
}

/* connect() to the socket bound to peer's name, from where it was bound */
static int connect_name(struct sk_tab *t, int fd, const struct sk_ent *peer)
{
	struct sockaddr_un a;
	socklen_t len = name_addr(peer->f->path, &a);
	int saved, ret;

	if (enter_dir(t, peer, &saved))
		return -1;
	ret = connect(fd, (struct sockaddr *)&a, len);
	leave_dir(saved);
	return ret;
}

static int bind_all(struct sk_tab *t)
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
static int accept_one(struct sk_tab *t, struct sk_ent *s)
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

static int accept_all(struct sk_tab *t)
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

static int send_all(int fd, const uint8_t *p, size_t len)
{
	ssize_t n;

	while (len) {
		n = send(fd, p, len, MSG_DONTWAIT | MSG_NOSIGNAL);
		if (n < 0)
			return -1;
		p += n;
		len -= n;
	}
	return 0;
}

/* The message of chunks[*i] and those up to its end, as one send. */
static int send_msg(int fd, const struct img_file *f, uint32_t *i,
		    const struct sockaddr_un *to, socklen_t tolen)
{
	struct iovec iov[64];
	struct msghdr mh = { .msg_iov = iov };
	ssize_t n;

	do {
		if (mh.msg_iovlen == ARRAY_SIZE(iov)) {
			errno = EMSGSIZE;
			return -1;
		}
		iov[mh.msg_iovlen].iov_base = f->chunks[*i].data;
		iov[mh.msg_iovlen++].iov_len = f->chunks[*i].len;
	} while (!(f->chunks[(*i)++].flags & IMG_CHUNK_EOR));
	mh.msg_name = (void *)to;
	mh.msg_namelen = to ? tolen : 0;
	n = sendmsg(fd, &mh, MSG_DONTWAIT | MSG_NOSIGNAL);
	return n < 0 ? -1 : 0;
}

static int send_queue(int fd, const struct img_file *f,
		      const struct sockaddr_un *to, socklen_t tolen)
{
	uint32_t i = 0;

	if (f->sk.type == SOCK_STREAM) {
		for (i = 0; i < f->nr_chunks; i++)
			if (send_all(fd, f->chunks[i].data, f->chunks[i].len))
				return -1;
		return 0;
	}
	while (i < f->nr_chunks)
		if (send_msg(fd, f, &i, to, tolen))
			return -1;
	return 0;
}

/* Nobody is connected to a bound datagram socket: a stranger sends. */
static int send_from_stranger(struct sk_tab *t, const struct sk_ent *e)
{
	struct sockaddr_un a;
	socklen_t len;
	int fd, saved, ret = -1, old;

	if (!e->f->path) {
		errno = EDESTADDRREQ;
		return -1;
	}
	len = name_addr(e->f->path, &a);
	fd = sock_new(e->f->sk.type);
	if (fd < 0)
		return -1;
	widen_sndbuf(fd, queued(e->f), &old);
	if (!enter_dir(t, e, &saved))
		ret = send_queue(fd, e->f, &a, len);
	leave_dir(saved);
	close(fd);
	return ret;
}

/* What e's peer sent and e had not read yet goes through the peer again. */
static int fill_one(struct sk_tab *t, struct sk_ent *e)
{
	struct sk_ent *p = mutual_peer(t, e);
	int by = p ? p->fd : e->tmp_peer, old, ret;

	if (by < 0)
		return send_from_stranger(t, e);
	widen_sndbuf(by, queued(e->f), &old);
	ret = send_queue(by, e->f, NULL, 0);
	set_sndbuf(by, old);
	return ret;
}

static int fill_all(struct sk_tab *t)
{
	uint32_t i;

	for (i = 0; i < t->n; i++) {
		struct sk_ent *e = &t->e[i];

		if (!e->f->nr_chunks || !fill_one(t, e))
			continue;
		pr_perror("can't queue %llu bytes in socket %llu",
			  (unsigned long long)queued(e->f), ino_of(e));
		return -1;
	}
	return 0;
}

/* ---- the rest ----------------------------------------------------------- */

/* A datagram socket connected one way, to a bound socket. */
static int connect_dgram(struct sk_tab *t, struct sk_ent *e)
{
	struct sk_ent *p;

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

static int finish_all(struct sk_tab *t)
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

static void free_tab(struct sk_tab *t)
{
	uint32_t i;

	for (i = 0; i < t->n; i++) {
		if (t->e[i].fd >= 0)
			close(t->e[i].fd);
		if (t->e[i].tmp_peer >= 0)
			close(t->e[i].tmp_peer);
	}
	free(t->e);
}

static int build_tab(const struct image *img, struct sk_tab *t)
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

int restore_sockets_open(const struct image *img, int *fds)
{
	struct sk_tab t;
	uint32_t i;
	int ret = -1;

	if (build_tab(img, &t))
		return -1;
	if (make_all(&t) || bind_all(&t) || accept_all(&t) || fill_all(&t) ||
	    finish_all(&t))
		goto out;
	for (i = 0; i < t.n; i++) {
		fds[t.e[i].idx] = t.e[i].fd;
		t.e[i].fd = -1;
	}
	ret = 0;
out:
	free_tab(&t);
	return ret;
}
