/*
 * net-priv.h: what the tcp sink (stage-tcp.c) and ckpt serve (serve.c)
 * share: the key file, the mutual challenge-response handshake and the
 * framing of the stream (net.c).
 *
 * Protocol (all integers big endian):
 *   server: "CKPTNET1" Ns[32]
 *   client: Nc[32] HMAC-SHA256(key, "ckpt-client" Ns Nc)
 *   server: 'Y' HMAC-SHA256(key, "ckpt-server" Nc Ns), or 'N' and close
 * then frames of u32 length and data (at most NET_FRAME_MAX): the client
 * asks "PUT NAME" or "GET NAME", the server answers "OK" or "ERR why".
 * The image follows in frames, a zero-length frame ends it; after a PUT
 * the server answers "OK" once the file is fsync'ed and renamed in place.
 */
#ifndef CKPT_NET_PRIV_H
#define CKPT_NET_PRIV_H

#include <stddef.h>
#include <stdint.h>
#include <sodium.h>

#include "util/util.h"

#define NET_MAGIC	"CKPTNET1"
#define NET_NONCE	32
#define NET_MAC		crypto_auth_hmacsha256_BYTES
#define NET_KEY		32
#define NET_FRAME_MAX	(1u << 20)
#define NET_NAME_MAX	200

/* Load a `ckpt keygen` key file (mode 0600 required). On error, a one
 * line message in err. */
int net_load_key(const char *path, unsigned char key[NET_KEY], char *err,
		 size_t errlen) __must_check;

/* The handshake, each side. On error, a message in err. */
int net_auth_client(int fd, const unsigned char key[NET_KEY], char *err,
		    size_t errlen) __must_check;
int net_auth_server(int fd, const unsigned char key[NET_KEY], char *err,
		    size_t errlen) __must_check;

/* Whole-buffer I/O on a socket: -1 with errno (EPIPE at a premature end
 * of the connection). */
int net_send(int fd, const void *buf, size_t len) __must_check;
int net_recv(int fd, void *buf, size_t len) __must_check;

/* One frame; net_recv_frame stores its length in *len (at most max). */
int net_send_frame(int fd, const void *buf, size_t len) __must_check;
int net_recv_frame(int fd, void *buf, size_t max, size_t *len) __must_check;
/* A text frame such as "OK" or "ERR no such image". */
int net_send_msg(int fd, const char *msg) __must_check;
/* Receive a text frame into buf (NUL-terminated). */
int net_recv_msg(int fd, char *buf, size_t size) __must_check;

/* Is name a valid image name: [A-Za-z0-9][A-Za-z0-9._-]*, <= 200 bytes. */
int net_name_ok(const char *name);

#endif
