/*
 * unix-priv: what sockets.c (the unix sockets of the image),
 * unixname.c (their names) and unixmsg.c (what their queues carry)
 * share.
 */
#ifndef CKPT_RESTORE_UNIX_PRIV_H
#define CKPT_RESTORE_UNIX_PRIV_H

#include <sys/socket.h>
#include <sys/un.h>

#include "image/image.h"

/* name (f's path or peer_name) as an address; its length */
socklen_t unix_addr(const struct img_file *f, const char *name,
		    struct sockaddr_un *a);
/* Bind fd to a (a path, relative ones from cwd) where only fd sees it:
 * in a mount namespace of its own, on a tmpfs, so that no file is made
 * and whatever is at the path stays. */
int unix_bind_private(int fd, const struct sockaddr_un *a, socklen_t len,
		      const char *cwd) __must_check;

/* unixmsg.c: the image (its files' ids) and its file table, once whole
 * (descriptors in flight are sent from there) */
struct unix_send {
	const struct image *img;
	const int *fds;
};
/* The message of f's chunks from *i to its end as one send on fd (to,
 * or its peer), its credentials and descriptors with it; in a stream,
 * one chunk (with the credentials cr, or NULL), or the bytes that came
 * with descriptors. *i moves past them. */
int unix_send_msg(const struct unix_send *u, int fd, const struct img_file *f,
		  uint32_t *i, const struct img_chunk *cr,
		  const struct sockaddr_un *to, socklen_t tolen) __must_check;
/* A stream's queue, sent on fd */
int unix_send_stream(const struct unix_send *u, int fd,
		     const struct img_file *f) __must_check;
/* When f's queue can be filled */
enum { UNIX_EARLY, UNIX_LATE, UNIX_TREE };
int unix_phase(const struct img_file *f);
/* Each pid of f's queue's credentials is a process of img: 0, or -1
 * having said why */
int unix_creds_in_image(const struct image *img, const struct img_file *f)
	__must_check;

#endif
