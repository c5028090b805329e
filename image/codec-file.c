/*
 * codec-file: the FILE and FILE_DATA records, the image's file table: the
 * fields every FILE has, a unix socket's own, and the chunks of bytes
 * queued in a file. The fields of eventfd ... inotify files are in
 * codec-kfd.c; what files say of each other is checked in semantics.c.
 */
#include <sys/socket.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>

#include "image/image.h"
#include "image/image-priv.h"

/* ---- FILE --------------------------------------------------------------- */

static int file_kind_known(uint32_t kind)
{
	return (kind >= IMG_FILE_PIPE && kind <= IMG_FILE_UNIX) ||
	       kind == IMG_FILE_REG || kind == IMG_FILE_GHOST ||
	       kind == IMG_FILE_MEMFD || img_kfd_kind(kind) ||
	       img_inet_kind(kind) || kind == IMG_FILE_NETLINK ||
	       img_tty_kind(kind) || kind == IMG_FILE_PIDFD ||
	       kind == IMG_FILE_TTY || kind == IMG_FILE_TUN ||
	       kind == IMG_FILE_MQUEUE;
}

static int file_kind_has_path(uint32_t kind)
{
	return kind == IMG_FILE_FIFO || kind == IMG_FILE_REG ||
	       kind == IMG_FILE_TTY || kind == IMG_FILE_TUN ||
	       kind == IMG_FILE_MQUEUE;
}

/* UNIX only: u32 type state; u64 peer; u32 shutdown opts rcvbuf sndbuf
 * backlog; optstr peer_name */
static void enc_unix(struct enc *e, const struct img_unix *u)
{
	enc_u32(e, u->type);
	enc_u32(e, u->state);
	enc_u64(e, u->peer);
	enc_u32(e, u->shutdown);
	enc_u32(e, u->opts);
	enc_u32(e, u->rcvbuf);
	enc_u32(e, u->sndbuf);
	enc_u32(e, u->backlog);
	enc_str(e, u->peer_name, 1, "socket peer name too long");
}

/* u32 id kind flags; u64 dev ino; optstr path; u32 pipe_size; u64 pos;
 * then the fields of its kind: a unix socket's here, an eventfd's, an
 * epoll's ... in codec-kfd.c, a pty's in codec-tty.c, a ghost's u32
 * ghost (a deleted FIFO's too, last), a memfd's u32 shm, a pidfd's
 * i32 pid, u32 status and a tun's optstr tun_dev here */
int img_enc_file(struct enc *e, const struct img_file *f)
{
	enc_u32(e, f->id);
	enc_u32(e, f->kind);
	enc_u32(e, f->flags);
	enc_u64(e, f->dev);
	enc_u64(e, f->ino);
	enc_str(e, f->path, 1, "file path too long");
	enc_u32(e, f->pipe_size);
	enc_u64(e, f->pos);
	if (f->kind == IMG_FILE_UNIX)
		enc_unix(e, &f->sk);
	img_enc_kfd(e, f);
	img_enc_inet(e, f);
	img_enc_netlink(e, f);
	img_enc_tty(e, f);
	/* a FIFO's only when deleted: the records of others stay as format
	 * 2 had them */
	if (f->kind == IMG_FILE_GHOST ||
	    (f->kind == IMG_FILE_FIFO && f->ghost))
		enc_u32(e, f->ghost);
	if (f->kind == IMG_FILE_MEMFD)
		enc_u32(e, f->shm);
	if (f->kind == IMG_FILE_PIDFD) {
		enc_u32(e, f->pidfd.pid);
		enc_u32(e, f->pidfd.status);
	}
	if (f->kind == IMG_FILE_TUN)
		enc_str(e, f->tun_dev, 1, "tun device name too long");
	return e->err ? -1 : 0;
}

static int known_sock_type(uint32_t t)
{
	return t == SOCK_STREAM || t == SOCK_DGRAM || t == SOCK_SEQPACKET;
}

int img_unix_name(const char *name, int escaped,
		  char out[IMG_MAX_UNIX_NAME + 1])
{
	size_t n = 0;

	if (name[0] == '@')
		out[n++] = '\0';	/* abstract */
	else if (escaped)
		return -1;
	name += n;
	if (!*name)
		return -1;
	for (; *name; name++) {
		if (n >= IMG_MAX_UNIX_NAME)
			return -1;
		if (escaped && *name == '\\') {
			name++;
			if (*name != '0' && *name != '\\')
				return -1;
			out[n++] = *name == '0' ? '\0' : '\\';
			continue;
		}
		out[n++] = *name;
	}
	return (int)n;
}

/* A name: a path, or "@" and the bytes of an abstract one. */
static int unix_name_ok(const char *name, uint32_t opts)
{
	char b[IMG_MAX_UNIX_NAME + 1];

	return img_unix_name(name, !!(opts & IMG_UNIX_ESCAPED), b) > 0;
}

/* A peer's name goes with a peer that is not in the image; an external
 * peer has one; an unlinked name is a path. */
static void dec_unix_peer(struct dec *d, const struct img_file *f)
{
	const struct img_unix *u = &f->sk;

	dec_check(d, !u->peer_name || (u->state == IMG_UNIX_CONNECTED &&
		  !u->peer && unix_name_ok(u->peer_name, u->opts)),
		  "file %u: a bad peer name, or one with a peer", f->id);
	dec_check(d, !(u->opts & IMG_UNIX_EXTERNAL) || u->peer_name,
		  "file %u: an external peer without a name", f->id);
	dec_check(d, !(u->opts & IMG_UNIX_UNLINKED) ||
		  (f->path && f->path[0] != '@'),
		  "file %u: an unlinked name that is no path", f->id);
	dec_check(d, !(u->opts & IMG_UNIX_ESCAPED) || f->path ||
		  u->peer_name, "file %u: escaped names without a name",
		  f->id);
	dec_check(d, !(u->opts & IMG_UNIX_PENDING) || (u->peer &&
		  u->type != SOCK_DGRAM && u->backlog > 0 &&
		  !(u->opts & IMG_UNIX_EXTERNAL)),
		  "file %u: a waiting connection without its listener or place",
		  f->id);
}

static void dec_unix(struct dec *d, struct img_file *f)
{
	struct img_unix *u = &f->sk;

	dec_u32(d, &u->type);
	dec_u32(d, &u->state);
	dec_u64(d, &u->peer);
	dec_u32(d, &u->shutdown);
	dec_u32(d, &u->opts);
	dec_u32(d, &u->rcvbuf);
	dec_u32(d, &u->sndbuf);
	dec_u32(d, &u->backlog);
	dec_str(d, &u->peer_name, 1, "socket peer name");
	dec_check(d, known_sock_type(u->type), "file %u: bad socket type %u",
		  f->id, u->type);
	dec_check(d, u->state >= IMG_UNIX_UNCONNECTED &&
		  u->state <= IMG_UNIX_LISTENING,
		  "file %u: bad socket state %u", f->id, u->state);
	dec_check(d, !u->peer || u->state == IMG_UNIX_CONNECTED,
		  "file %u: a peer without a connection", f->id);
	dec_check(d, u->state != IMG_UNIX_LISTENING || (u->type != SOCK_DGRAM
		  && f->path), "file %u: a listening socket must be a bound "
		  "stream or seqpacket one", f->id);
	dec_check(d, !(u->shutdown & ~(IMG_SHUT_RD | IMG_SHUT_WR)),
		  "file %u: bad shutdown %#x", f->id, u->shutdown);
	dec_check(d, !(u->opts & ~IMG_UNIX_ALL_OPTS),
		  "file %u: bad socket options %#x", f->id, u->opts);
	dec_check(d, u->rcvbuf <= IMG_MAX_SOCKBUF && u->sndbuf <=
		  IMG_MAX_SOCKBUF, "file %u: socket buffers too large", f->id);
	dec_check(d, u->backlog <= IMG_MAX_BACKLOG,
		  "file %u: backlog %u too large", f->id, u->backlog);
	dec_check(d, !f->path || unix_name_ok(f->path, u->opts),
		  "file %u: bad socket name", f->id);
	dec_unix_peer(d, f);
}

/* A POSIX message queue's name: "/" and up to NAME_MAX bytes, no other
 * slash */
static int mqueue_name_ok(const char *name)
{
	size_t n = strlen(name);

	return name[0] == '/' && n > 1 && n <= 1 + 255 &&
	       !strchr(name + 1, '/');
}

int img_dec_file(struct dec *d, struct img_file *f)
{
	dec_u32(d, &f->id);
	dec_u32(d, &f->kind);
	dec_u32(d, &f->flags);
	dec_u64(d, &f->dev);
	dec_u64(d, &f->ino);
	dec_str(d, &f->path, 1, "file path");
	dec_u32(d, &f->pipe_size);
	dec_u64(d, &f->pos);
	img_dec_kfd(d, f);
	img_dec_inet(d, f);
	img_dec_netlink(d, f);
	img_dec_tty(d, f);
	if (f->kind == IMG_FILE_GHOST ||
	    (f->kind == IMG_FILE_FIFO && d->pos < d->len))
		dec_u32(d, &f->ghost);
	if (f->kind == IMG_FILE_MEMFD)
		dec_u32(d, &f->shm);
	if (f->kind == IMG_FILE_PIDFD) {
		dec_i32(d, &f->pidfd.pid);
		dec_u32(d, &f->pidfd.status);
		dec_check(d, f->pidfd.pid >= 0 && f->pidfd.status <= 0xffff &&
			  (!f->pidfd.pid || !f->pidfd.status),
			  "file %u: pidfd of %d with status %#x", f->id,
			  f->pidfd.pid, f->pidfd.status);
		dec_check(d, !(f->flags & ~(O_ACCMODE | O_NONBLOCK | O_EXCL)),
			  "file %u: pidfd flags %#o", f->id, f->flags);
	}
	if (f->kind == IMG_FILE_TUN) {
		dec_str(d, &f->tun_dev, 1, "tun device");
		dec_check(d, !f->tun_dev || (strlen(f->tun_dev) &&
			  strlen(f->tun_dev) <= IMG_MAX_IFNAME),
			  "file %u: bad tun device name", f->id);
	}
	dec_check(d, f->id > 0, "file id 0");
	dec_check(d, (f->kind == IMG_FILE_MEMFD) == (f->shm != 0),
		  "file %u: a shm object goes with kind MEMFD, and only with it",
		  f->id);
	dec_check(d, f->kind == IMG_FILE_FIFO ||
		  (f->kind == IMG_FILE_GHOST) == (f->ghost != 0),
		  "file %u: a ghost goes with kind GHOST (or FIFO), and only with it",
		  f->id);
	dec_check(d, file_kind_known(f->kind), "file %u: bad kind %u", f->id,
		  f->kind);
	dec_check(d, f->kind == IMG_FILE_UNIX ||
		  file_kind_has_path(f->kind) == (f->path != NULL),
		  "file %u: a path goes with a FIFO, regular file, terminal, tun device or message queue, and only with them",
		  f->id);
	dec_check(d, (f->flags & O_ACCMODE) != O_ACCMODE,
		  "file %u: bad access mode in flags %#x", f->id, f->flags);
	dec_check(d, f->kind != IMG_FILE_MQUEUE ||
		  (!(f->flags & ~(O_ACCMODE | O_NONBLOCK)) && f->path &&
		   mqueue_name_ok(f->path)),
		  "file %u: a POSIX message queue with flags %#o, or a name "
		  "that is not /NAME", f->id, f->flags);
	dec_check(d, f->pipe_size <= IMG_MAX_PIPE,
		  "file %u: pipe size %u too large", f->id, f->pipe_size);
	if (f->kind == IMG_FILE_UNIX)
		dec_unix(d, f);
	return dec_end(d);
}

void img_file_free(struct img_file *f)
{
	uint32_t i;

	for (i = 0; i < f->nr_chunks; i++)
		free(f->chunks[i].data);
	free(f->chunks);
	free(f->path);
	free(f->sk.peer_name);
	f->sk.peer_name = NULL;
	free(f->tun_dev);
	f->tun_dev = NULL;
	img_kfd_free(f);
	img_inet_free(f);
	f->chunks = NULL;
	f->path = NULL;
	f->nr_chunks = 0;
}

/* u32 file flags; u32 len; len bytes */
int img_enc_file_data(struct enc *e, uint32_t file, const struct img_chunk *ch)
{
	enc_u32(e, file);
	enc_u32(e, ch->flags);
	enc_cap(e, ch->len, IMG_MAX_CHUNK, "file data chunk too large");
	enc_u32(e, ch->len);
	enc_bytes(e, ch->data, ch->len);
	return e->err ? -1 : 0;
}

int img_dec_file_data(struct dec *d, uint32_t *file, struct img_chunk *ch)
{
	dec_u32(d, file);
	dec_u32(d, &ch->flags);
	dec_u32(d, &ch->len);
	dec_check(d, !(ch->flags & ~(IMG_CHUNK_EOR | IMG_CHUNK_SENDQ |
				     IMG_CHUNK_ADDR | IMG_CHUNK_FDS |
				     IMG_CHUNK_TTY_IN | IMG_CHUNK_CREDS)),
		  "file data flags %#x", ch->flags);
	/* an empty chunk is an empty message */
	dec_check(d, (ch->len > 0 || (ch->flags & IMG_CHUNK_EOR)) &&
		  ch->len <= IMG_MAX_CHUNK, "file data of %u bytes", ch->len);
	if (!d->failed && ch->len)
		dec_blob(d, &ch->data, ch->len, IMG_MAX_CHUNK, "file data");
	return dec_end(d);
}
