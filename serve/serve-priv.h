/*
 * serve-priv.h: the pieces of ckpt serve, for serve.c.
 */
#ifndef CKPT_SERVE_PRIV_H
#define CKPT_SERVE_PRIV_H

#include "plugins/net.h"

/* One authenticated-or-refused client on fd; runs in its own child.
 * peer names it in the log; a client that stalls for timeout seconds
 * (serve-conn.c) is cut, never with timeout 0 (the fuzzers). Never
 * returns an error: it logs. */
void serve_conn(int fd, int dirfd, const unsigned char key[NET_KEY],
		const char *peer, unsigned int timeout);

/* The seccomp filter of the server and its children. */
int serve_seccomp(void) __must_check;

#endif
