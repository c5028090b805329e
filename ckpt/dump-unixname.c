/*
 * The names of a unix socket of the tree (dump-sockets.c asks): its own,
 * written as the image writes names ("@..." for an abstract one, escaped
 * when a NUL is in it), whether the file of its path is still there, and
 * the name of a peer that is not in the image: one that closed (its
 * socket still answers getpeername(2) with the peer's name) or, with
 * --ext-unix, one outside the tree, which restore connects to again.
 * Also what no unix socket may have: urgent data (MSG_OOB).
 */
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/un.h>
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ckpt/dump-priv.h"

static int has_nul(const struct unix_raw_name *n)
{
	return n->len > 1 && !n->b[0] && memchr(n->b + 1, 0, n->len - 1);
}

/* n as the image writes it, or NULL (unbound, or out of memory: errno) */
static char *format_name(const struct unix_raw_name *n, int escaped)
{
	char *s, *p;
	int i = 0;

	errno = 0;
	if (n->len <= 0)
		return NULL;
	s = malloc(2 * n->len + 2);
	if (!s)
		return NULL;
	p = s;
	if (!n->b[0]) {
		*p++ = '@';
		i = 1;
	}
	for (; i < n->len; i++) {
		if (escaped && (!n->b[i] || n->b[i] == '\\')) {
			*p++ = '\\';
			*p++ = n->b[i] ? '\\' : '0';
		} else {
			*p++ = n->b[i];
		}
	}
	*p = '\0';
	return s;
}

char *dump_unix_show(const struct unix_raw_name *n)
{
	return format_name(n, has_nul(n));
}

void dump_unix_raw(struct unix_raw_name *n, const char *p, size_t len)
{
	if (len && p[0])
		len = strnlen(p, len);	/* a path: up to its NUL */
	if (len > IMG_MAX_UNIX_NAME || (len && !p[0] && len < 2)) {
		n->len = -1;
		return;
	}
	memcpy(n->b, p, len);
	n->len = (int)len;
}

/* The name of sk's peer: 0 and its name (len 0: unnamed), or -1 when sk
 * has no peer (getpeername: ENOTCONN). */
static int peer_raw(int sk, struct unix_raw_name *n)
{
	struct sockaddr_un a;
	socklen_t len = sizeof(a);

	memset(&a, 0, sizeof(a));
	if (getpeername(sk, (struct sockaddr *)&a, &len))
		return -1;
	if (len < offsetof(struct sockaddr_un, sun_path))
		len = offsetof(struct sockaddr_un, sun_path);
	dump_unix_raw(n, a.sun_path, len - offsetof(struct sockaddr_un,
						    sun_path));
	return 0;
}

/* The file of a path the socket was bound to is gone, or is another
 * inode now (a socket bound there since): as the holder sees it, from
 * its root, or its working directory for a relative path. */
static int unlinked(const struct dump_file *df, const char *path,
		    uint32_t vfs_ino, uint32_t vfs_dev)
{
	char p[IMG_MAX_UNIX_NAME + 64];
	struct stat st;

	snprintf(p, sizeof(p), "/proc/%d/%s/%s", df->pid,
		 path[0] == '/' ? "root" : "cwd", path);
	if (stat(p, &st))
		return errno == ENOENT || errno == ENOTDIR;
	/* the kernel's dev_t: 12 bits of major above 20 of minor */
	return st.st_ino != vfs_ino ||
	       st.st_dev != makedev(vfs_dev >> 20, vfs_dev & 0xfffff);
}

int dump_unix_names(struct dump_file *df, int sk,
		    const struct unix_raw_name *self, uint32_t vfs_ino,
		    uint32_t vfs_dev)
{
	struct img_unix *u = &df->f.sk;
	struct unix_raw_name peer = { .len = 0 };
	int escaped, has_peer = 0;

	/* no peer in sight: one that closed still has its name */
	if (!u->peer && u->state != IMG_UNIX_LISTENING &&
	    !peer_raw(sk, &peer)) {
		u->state = IMG_UNIX_CONNECTED;
		has_peer = peer.len > 0;
	}
	if (self->len < 0 || peer.len < 0) {
		dump_set_why(df, "socket:[%llu] has a name too long for a unix socket, which is not supported",
			     (unsigned long long)df->f.ino);
		return 0;
	}
	escaped = has_nul(self) || has_nul(&peer);
	if (escaped && ((self->len && self->b[0]) || (has_peer && peer.b[0]))) {
		dump_set_why(df, "socket:[%llu] has an abstract name with a NUL byte and a path for names, which is not supported",
			     (unsigned long long)df->f.ino);
		return 0;
	}
	if (escaped)
		u->opts |= IMG_UNIX_ESCAPED;
	df->f.path = format_name(self, escaped);
	if (!df->f.path && errno)
		return -1;
	u->peer_name = has_peer ? format_name(&peer, escaped) : NULL;
	if (has_peer && !u->peer_name)
		return -1;
	if (df->f.path && df->f.path[0] != '@' &&
	    unlinked(df, df->f.path, vfs_ino, vfs_dev))
		u->opts |= IMG_UNIX_UNLINKED;
	return 0;
}

/*
 * --ext-unix: a socket connected to one outside the tree is connected
 * to its name again at restore, if it has one and nothing is queued in
 * it from there (the peer outside would not send it again). 0 when it
 * is kept so, -1 (why set) when not.
 */
int dump_unix_external(struct dump_file *df, uint32_t rqueue)
{
	struct img_unix *u = &df->f.sk;
	struct unix_raw_name peer = { .len = 0 };
	int sk = dump_grab_fd(df), got, escaped;

	if (sk < 0)
		return -1;
	got = peer_raw(sk, &peer);
	close(sk);
	escaped = !!(u->opts & IMG_UNIX_ESCAPED);
	if (got || peer.len <= 0 || rqueue || (has_nul(&peer) && !escaped) ||
	    (escaped && peer.b[0]))
		return -1;
	u->peer_name = format_name(&peer, escaped);
	if (!u->peer_name)
		return -1;
	u->peer = 0;
	u->opts |= IMG_UNIX_EXTERNAL;
	return 0;
}

/* Urgent data waits apart from the stream (unix(7), Linux 5.15): a peek
 * at it succeeds, without taking it; SO_OOBINLINE would read it in line,
 * but its mark is not kept either. */
const char *dump_unix_oob_why(int sk, uint32_t type)
{
	socklen_t l = sizeof(int);
	int inl = 0;
	char c;

	if (type != SOCK_STREAM)
		return NULL;
	if (recv(sk, &c, 1, MSG_OOB | MSG_PEEK | MSG_DONTWAIT) >= 0)
		return "has urgent data (MSG_OOB) queued";
	if (!getsockopt(sk, SOL_SOCKET, SO_OOBINLINE, &inl, &l) && inl)
		return "reads urgent data in line (SO_OOBINLINE)";
	return NULL;
}
