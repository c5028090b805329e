/*
 * What a unix socket's queue carries besides its bytes, sent again at
 * restore: the descriptors in flight (SCM_RIGHTS, from the file table),
 * the senders' credentials (SCM_CREDENTIALS), and in a stream the runs
 * of bytes that the kernel keeps apart (one skb with its descriptors,
 * the bytes of one sender).
 */
#include <sys/socket.h>
#include <endian.h>
#include <errno.h>
#include <stdint.h>
#include <string.h>

#include "restore/restore.h"
#include "restore/unix-priv.h"

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

/* Room for len bytes of control data of type at the end of mh's (in
 * ctl, of cap bytes), or NULL. */
static void *ctl_add(struct msghdr *mh, char *ctl, size_t cap, int type,
		     size_t len)
{
	struct cmsghdr *c;

	if (mh->msg_controllen + CMSG_SPACE(len) > cap)
		return NULL;
	c = (struct cmsghdr *)(ctl + mh->msg_controllen);
	memset(c, 0, CMSG_SPACE(len));
	mh->msg_control = ctl;
	mh->msg_controllen += CMSG_SPACE(len);
	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = type;
	c->cmsg_len = CMSG_LEN(len);
	return CMSG_DATA(c);
}

/* The descriptors in flight of chunk ch (FILE ids) as SCM_RIGHTS of mh,
 * from the file table. */
static int in_flight(const struct unix_send *t, const struct img_chunk *ch,
		     struct msghdr *mh, char *ctl, size_t len)
{
	uint32_t k, n = ch->len / 4, id;
	uint8_t *p = ctl_add(mh, ctl, len, SCM_RIGHTS, n * sizeof(int));
	int idx;

	if (!t->fds || !p)
		goto bad;
	for (k = 0; k < n; k++) {
		memcpy(&id, ch->data + 4 * k, 4);
		idx = restore_file_index(t->img, le32toh(id));
		if (idx < 0 || t->fds[idx] < 0)
			goto bad;
		memcpy(p + k * sizeof(int), &t->fds[idx], sizeof(int));
	}
	return 0;
bad:
	errno = EBADF;
	return -1;
}

/* The credentials of chunk ch (pid, uid, gid; pid 0: none) as
 * SCM_CREDENTIALS of mh: sent as the process of the tree that had sent
 * the bytes (root may claim any pid that exists, scm_check_creds). */
static int creds_of(const struct img_chunk *ch, struct msghdr *mh, char *ctl,
		    size_t len)
{
	struct ucred uc;
	uint32_t v[3];
	void *p;

	memcpy(v, ch->data, sizeof(v));
	if (!v[0])
		return 0;
	uc.pid = le32toh(v[0]);
	uc.uid = le32toh(v[1]);
	uc.gid = le32toh(v[2]);
	p = ctl_add(mh, ctl, len, SCM_CREDENTIALS, sizeof(uc));
	if (!p) {
		errno = EMSGSIZE;
		return -1;
	}
	memcpy(p, &uc, sizeof(uc));
	return 0;
}

#define CTL_ROOM	(CMSG_SPACE(sizeof(int) * IMG_MAX_FDS_IN_FLIGHT) + \
			 CMSG_SPACE(sizeof(struct ucred)))

/*
 * The message of chunks[*i] and those up to its end, as one send, with
 * the credentials and descriptors in flight that come first; in a
 * stream, with the credentials cr of its bytes (or NULL), the bytes
 * that came with descriptors.
 */
int unix_send_msg(const struct unix_send *t, int fd, const struct img_file *f,
		  uint32_t *i, const struct img_chunk *cr,
		  const struct sockaddr_un *to, socklen_t tolen)
{
	char ctl[CTL_ROOM];
	struct iovec iov[64];
	struct msghdr mh = { .msg_iov = iov };
	size_t len = 0;
	ssize_t n;

	if (f->chunks[*i].flags & IMG_CHUNK_CREDS)
		cr = &f->chunks[(*i)++];
	if (cr && creds_of(cr, &mh, ctl, sizeof(ctl)))
		return -1;
	if ((f->chunks[*i].flags & IMG_CHUNK_FDS) &&
	    in_flight(t, &f->chunks[(*i)++], &mh, ctl, sizeof(ctl)))
		return -1;

	do {
		if (mh.msg_iovlen == ARRAY_SIZE(iov)) {
			errno = EMSGSIZE;
			return -1;
		}
		iov[mh.msg_iovlen].iov_base = f->chunks[*i].data;
		iov[mh.msg_iovlen++].iov_len = f->chunks[*i].len;
		len += f->chunks[*i].len;
	} while (!(f->chunks[(*i)++].flags & IMG_CHUNK_EOR) &&
		 f->sk.type != SOCK_STREAM);
	mh.msg_name = (void *)to;
	mh.msg_namelen = to ? tolen : 0;
	n = sendmsg(fd, &mh, MSG_DONTWAIT | MSG_NOSIGNAL);
	if (n >= 0 && (size_t)n != len)
		errno = EMSGSIZE;	/* a stream's skb cut short */
	return n >= 0 && (size_t)n == len ? 0 : -1;
}

/*
 * A stream: its bytes, those that came with descriptors in one sendmsg
 * (one skb, no larger than the one they had, whose end ends the read
 * that gets them); with the credentials they had, each run of bytes of
 * one sender apart (a read does not join them).
 */
int unix_send_stream(const struct unix_send *t, int fd,
		     const struct img_file *f)
{
	const struct img_chunk *cr = NULL;
	uint32_t i = 0;

	while (i < f->nr_chunks) {
		if (f->chunks[i].flags & IMG_CHUNK_CREDS) {
			cr = &f->chunks[i++];
			continue;
		}
		if (!cr && !(f->chunks[i].flags & IMG_CHUNK_FDS)) {
			if (send_all(fd, f->chunks[i].data, f->chunks[i].len))
				return -1;
			i++;
			continue;
		}
		if (unix_send_msg(t, fd, f, &i, cr, NULL, 0))
			return -1;
	}
	return 0;
}

/*
 * When f's queue is filled: at once (UNIX_UNIX_EARLY); when it holds
 * descriptors in flight, once the whole file table is open (UNIX_LATE);
 * when it holds credentials of a process, once the tree's processes
 * exist, a pid sent must be one (UNIX_TREE).
 */
int unix_phase(const struct img_file *f)
{
	uint32_t i;
	int ph = UNIX_EARLY;

	for (i = 0; i < f->nr_chunks; i++) {
		if ((f->chunks[i].flags & IMG_CHUNK_CREDS) &&
		    memcmp(f->chunks[i].data, "\0\0\0\0", 4))
			return UNIX_TREE;
		if (f->chunks[i].flags & IMG_CHUNK_FDS)
			ph = UNIX_LATE;
	}
	return ph;
}

/* Each pid of the credentials of f's queue is a process of the image. */
int unix_creds_in_image(const struct image *img, const struct img_file *f)
{
	uint32_t i, k;
	int32_t pid;

	for (i = 0; i < f->nr_chunks; i++) {
		if (!(f->chunks[i].flags & IMG_CHUNK_CREDS))
			continue;
		memcpy(&pid, f->chunks[i].data, 4);
		pid = le32toh(pid);
		for (k = 0; pid && k < img->nr_procs; k++)
			if (img->procs[k].proc.pid == pid)
				break;
		if (pid && k == img->nr_procs) {
			pr_err("file %u: a message queued with the credentials of pid %d, which is no process of the image",
			       f->id, pid);
			return -1;
		}
	}
	return 0;
}
