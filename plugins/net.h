/*
 * net: what the tcp sink (stage-tcp.c) and ckpt serve (serve/) share:
 * the key file, the mutual challenge-response handshake and the sealed
 * frames of the session that follows it (net.c). The encrypt filter
 * reads its key file with it too.
 *
 * Protocol 2 (all integers big endian):
 *   server: "CKPTNET2" Ns[32]
 *   client: "CKPTNET2" Nc[32] HMAC-SHA256(key, "ckpt-client" Ns Nc)
 *   server: 'Y' HMAC-SHA256(key, "ckpt-server" Nc Ns), or 'N' and close
 * Then each direction is a libsodium secretstream (XChaCha20-Poly1305)
 * under its own session key,
 *   Kcs = BLAKE2b-256(key; "ckpt-net2 client->server" Ns Nc)
 *   Ksc = BLAKE2b-256(key; "ckpt-net2 server->client" Ns Nc)
 * opened by the secretstream header (24 bytes) before the first frame.
 * A frame is two sealed messages: its u32 length (4 + 17 bytes on the
 * wire), then, unless the length is 0, its data (length + 17 bytes). The
 * stream numbers its messages, so a changed, dropped, replayed or
 * reordered byte fails the authentication of the message that holds it.
 *
 * The client asks "PUT NAME" or "GET NAME", the server answers "OK" or
 * "ERR why". The image follows in frames of at most NET_FRAME_MAX bytes;
 * a zero-length frame ends it, so a stream cut short is never taken for
 * the whole image. After a PUT the server answers "OK" once the file is
 * fsync'ed and renamed in place.
 *
 * "MIGRATE NAME" and "MIGRATE-LAZY NAME" (ckpt migrate, to a serve
 * --restore) send an image as a PUT does (stored without the fsync); the
 * server then restores it and answers "RUNS PID" or "ERR why"; the
 * client answers "RUNS" with "DONE", the server "DONE" with "OK" (it
 * kills what it restored if DONE does not come in time), and the client
 * kills the source only after that "OK".
 *
 * "PAGES NAME" (restore --lazy from a page server, serve/serve-pages.c):
 * "OK", "SIZE BYTES HOLES N", the holes as big endian (offset, length)
 * pairs in frames, the image less its holes in frames and a zero frame;
 * then "GET OFFSET LENGTH" requests, each answered by frames and a zero
 * frame, until the client closes.
 */
#ifndef CKPT_NET_H
#define CKPT_NET_H

#include <stddef.h>
#include <stdint.h>
#include <sodium.h>

#include "util/util.h"

#define NET_MAGIC	"CKPTNET2"
#define NET_MAGIC_BASE	"CKPTNET"	/* followed by the version digit */
#define NET_NONCE	32
#define NET_MAC		crypto_auth_hmacsha256_BYTES
#define NET_KEY		32
#define NET_FRAME_MAX	(256u << 10)
/*
 * A migration's socket buffers, each side's (the kernel doubles it): what
 * the source has sent and the receiver not yet stored is at most about
 * these, so that the freeze does not wait for a backlog of the pre-copy
 * rounds. Left to autotuning, a few MiB waited in them on loopback
 * (some 20 ms of the downtime); the receiver, which checks every frame
 * and wakes its restore, sets the pace of the rounds anyway.
 */
#define NET_MIGRATE_BUF	(256 << 10)
#define NET_NAME_MAX	200
#define NET_HDR		crypto_secretstream_xchacha20poly1305_HEADERBYTES
#define NET_ABYTES	crypto_secretstream_xchacha20poly1305_ABYTES

/* One side of an authenticated connection: what it sends (tx) and what
 * it receives (rx) are two streams under two keys. */
struct net_conn {
	int fd;
	int tx_started;		/* our stream header is on the wire */
	int rx_started;		/* the peer's header was read */
	unsigned char tx_hdr[NET_HDR];
	unsigned char rx_key[NET_KEY];	/* until the peer's header comes */
	crypto_secretstream_xchacha20poly1305_state tx, rx;
	unsigned char *wire;	/* one sealed frame */
};

/* Load a `ckpt keygen` key file (mode 0600 required). On error, a one
 * line message in err. */
int net_load_key(const char *path, unsigned char key[NET_KEY], char *err,
		 size_t errlen) __must_check;

/* The handshake, each side; on success c holds the session on fd (free
 * it with net_conn_free). On error, a message in err. */
int net_auth_client(struct net_conn *c, int fd,
		    const unsigned char key[NET_KEY], char *err,
		    size_t errlen) __must_check;
int net_auth_server(struct net_conn *c, int fd,
		    const unsigned char key[NET_KEY], char *err,
		    size_t errlen) __must_check;

/* The session keys of fd from the shared key and both nonces (what the
 * handshake ends with; exposed for the unit tests). */
int net_session(struct net_conn *c, int fd, const unsigned char key[NET_KEY],
		const unsigned char ns[NET_NONCE],
		const unsigned char nc[NET_NONCE], int client) __must_check;
/* Wipe the keys and free the buffer; the fd is the caller's. */
void net_conn_free(struct net_conn *c);

/* Whole-buffer I/O on a socket: -1 with errno (EPIPE at a premature end
 * of the connection). */
int net_send(int fd, const void *buf, size_t len) __must_check;
int net_recv(int fd, void *buf, size_t len) __must_check;

/* One sealed frame; net_recv_frame stores its length in *len (at most
 * max, else EMSGSIZE). A frame that fails authentication: EBADMSG. */
int net_send_frame(struct net_conn *c, const void *buf,
		   size_t len) __must_check;
int net_recv_frame(struct net_conn *c, void *buf, size_t max,
		   size_t *len) __must_check;
/* A text frame such as "OK" or "ERR no such image". */
int net_send_msg(struct net_conn *c, const char *msg) __must_check;
/* Receive a text frame into buf (NUL-terminated). */
int net_recv_msg(struct net_conn *c, char *buf, size_t size) __must_check;

/* The tcp sink's client end for other requests (restore --lazy's
 * "PAGES NAME"): connect to arg (HOST:PORT/NAME), authenticate with the
 * key of the "auth=KEYFILE" of params, send "OP NAME" and wait for "OK".
 * The socket (its session in conn), or -1 with one line in err. */
int net_tcp_request(const char *arg, const char *const *params,
		    int nr_params, const char *op, struct net_conn *conn,
		    char *err, size_t errlen) __must_check;
/* What errno from the calls above means, for a message. */
const char *net_strerror(int err);

/* Is name a valid image name: [A-Za-z0-9][A-Za-z0-9._-]*, <= 200 bytes. */
int net_name_ok(const char *name);

#endif
