/*
 * unix-priv: what sockets.c (the unix sockets of the image) and
 * unixname.c (their names) share.
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

#endif
