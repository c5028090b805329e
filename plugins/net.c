/*
 * net: the key file, the handshake and the sealed frames shared by the
 * tcp sink and ckpt serve (see net.h for the protocol).
 *
 * The handshake never puts the key on the wire: each side proves it holds
 * the key by an HMAC over both random nonces, labelled by its role so
 * that one side's answer cannot be reflected back as the other's. Proving
 * the peers is not enough, as whoever sits on the path could change the
 * bytes that follow: so everything after the handshake goes through a
 * secretstream keyed from the shared key and both nonces. The key is thus
 * fresh for each connection (nothing can be replayed from another one),
 * and each direction has its own (nothing can be reflected back).
 */
#include <sys/socket.h>
#include <sys/stat.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "plugins/net.h"

int net_load_key(const char *path, unsigned char key[NET_KEY], char *err,
		 size_t errlen)
{
	char buf[128], hex[80];
	struct stat st;
	size_t klen;
	ssize_t n;
	int fd, saved;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		saved = errno;
		snprintf(err, errlen, "can't open key %s: %s", path,
			 strerror(saved));
		return -1;
	}
	if (fstat(fd, &st) || (st.st_mode & 077)) {
		close(fd);
		snprintf(err, errlen, "key %s is open to others (mode %03o): refused",
			 path, (unsigned int)(st.st_mode & 0777));
		return -1;
	}
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	buf[n > 0 ? n : 0] = '\0';
	if (sodium_init() < 0 || sscanf(buf, "ckpt-key-1 %79s", hex) != 1 ||
	    sodium_hex2bin(key, NET_KEY, hex, strlen(hex), NULL, &klen,
			   NULL) || klen != NET_KEY) {
		sodium_memzero(buf, sizeof(buf));
		snprintf(err, errlen, "%s is not a ckpt key file", path);
		return -1;
	}
	sodium_memzero(buf, sizeof(buf));
	sodium_memzero(hex, sizeof(hex));
	return 0;
}

static void net_mac(unsigned char mac[NET_MAC], const unsigned char *key,
		    const char *label, const unsigned char *a,
		    const unsigned char *b)
{
	crypto_auth_hmacsha256_state st;

	crypto_auth_hmacsha256_init(&st, key, NET_KEY);
	crypto_auth_hmacsha256_update(&st, (const unsigned char *)label,
				      strlen(label));
	crypto_auth_hmacsha256_update(&st, a, NET_NONCE);
	crypto_auth_hmacsha256_update(&st, b, NET_NONCE);
	crypto_auth_hmacsha256_final(&st, mac);
	sodium_memzero(&st, sizeof(st));
}

int net_send(int fd, const void *buf, size_t len)
{
	const char *p = buf;

	while (len) {
		ssize_t n = send(fd, p, len, MSG_NOSIGNAL);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		p += n;
		len -= n;
	}
	return 0;
}

int net_recv(int fd, void *buf, size_t len)
{
	if (!read_full(fd, buf, len))
		return 0;
	if (errno == EIO)	/* read_full's early end: the peer closed */
		errno = EPIPE;
	return -1;
}

static void io_err(char *err, size_t errlen, const char *what)
{
	int saved = errno;

	snprintf(err, errlen, "%s: %s", what, net_strerror(saved));
}

const char *net_strerror(int err)
{
	if (err == EPIPE)
		return "connection closed";
	if (err == EBADMSG)
		return "integrity check failed (the stream was changed in transit)";
	if (err == EMSGSIZE)
		return "frame declared longer than allowed: refused";
	return strerror(err);
}

/* "CKPTNET2", or a clear word on what the peer speaks instead. */
static int check_magic(const unsigned char *m, const char *peer, char *err,
		       size_t errlen)
{
	size_t base = strlen(NET_MAGIC_BASE);

	if (!memcmp(m, NET_MAGIC, 8))
		return 0;
	if (!memcmp(m, NET_MAGIC_BASE, base) && m[base] >= '0' &&
	    m[base] <= '9')
		snprintf(err, errlen, "the %s speaks ckpt protocol %c, we speak %c: "
			 "upgrade both ends", peer, m[base], NET_MAGIC[base]);
	else
		snprintf(err, errlen, "the %s is not a ckpt %s", peer, peer);
	return -1;
}

static void derive(unsigned char out[NET_KEY], const unsigned char *key,
		   const char *label, const unsigned char *ns,
		   const unsigned char *nc)
{
	crypto_generichash_state st;

	crypto_generichash_init(&st, key, NET_KEY, NET_KEY);
	crypto_generichash_update(&st, (const unsigned char *)label,
				  strlen(label));
	crypto_generichash_update(&st, ns, NET_NONCE);
	crypto_generichash_update(&st, nc, NET_NONCE);
	crypto_generichash_final(&st, out, NET_KEY);
	sodium_memzero(&st, sizeof(st));
}

int net_session(struct net_conn *c, int fd, const unsigned char key[NET_KEY],
		const unsigned char ns[NET_NONCE],
		const unsigned char nc[NET_NONCE], int client)
{
	static const char cs[] = "ckpt-net2 client->server";
	static const char sc[] = "ckpt-net2 server->client";
	unsigned char tx_key[NET_KEY];

	memset(c, 0, sizeof(*c));
	c->fd = fd;
	/* a header, two lengths and a whole frame, sealed */
	c->wire = malloc(NET_HDR + 4 + NET_FRAME_MAX + 2 * NET_ABYTES);
	if (!c->wire) {
		errno = ENOMEM;
		return -1;
	}
	derive(tx_key, key, client ? cs : sc, ns, nc);
	derive(c->rx_key, key, client ? sc : cs, ns, nc);
	crypto_secretstream_xchacha20poly1305_init_push(&c->tx, c->tx_hdr,
							tx_key);
	sodium_memzero(tx_key, sizeof(tx_key));
	return 0;
}

void net_conn_free(struct net_conn *c)
{
	free(c->wire);
	c->wire = NULL;
	sodium_memzero(c->rx_key, sizeof(c->rx_key));
	sodium_memzero(&c->tx, sizeof(c->tx));
	sodium_memzero(&c->rx, sizeof(c->rx));
}

int net_auth_client(struct net_conn *c, int fd,
		    const unsigned char key[NET_KEY], char *err,
		    size_t errlen)
{
	unsigned char hello[8 + NET_NONCE], nc[8 + NET_NONCE + NET_MAC];
	unsigned char answer[1 + NET_MAC], want[NET_MAC];
	unsigned char *n = nc + 8;

	c->wire = NULL;
	if (net_recv(fd, hello, sizeof(hello))) {
		io_err(err, errlen, "no greeting from the server");
		return -1;
	}
	if (check_magic(hello, "server", err, errlen))
		return -1;
	memcpy(nc, NET_MAGIC, 8);
	randombytes_buf(n, NET_NONCE);
	net_mac(n + NET_NONCE, key, "ckpt-client", hello + 8, n);
	if (net_send(fd, nc, sizeof(nc)) ||
	    net_recv(fd, answer, 1)) {
		io_err(err, errlen, "authentication");
		return -1;
	}
	if (answer[0] != 'Y') {
		snprintf(err, errlen, "the server refused our key (wrong --auth key?)");
		return -1;
	}
	if (net_recv(fd, answer + 1, NET_MAC)) {
		io_err(err, errlen, "authentication");
		return -1;
	}
	net_mac(want, key, "ckpt-server", n, hello + 8);
	if (sodium_memcmp(want, answer + 1, NET_MAC)) {
		snprintf(err, errlen, "the server does not hold our key (wrong --auth key?)");
		return -1;
	}
	if (net_session(c, fd, key, hello + 8, n, 1)) {
		io_err(err, errlen, "session");
		return -1;
	}
	return 0;
}

/* The client's magic, nonce and proof; a client of protocol 1 sends
 * nothing (it closes on our greeting), hence the hint. */
static int recv_proof(int fd, unsigned char *nc, size_t len, char *err,
		      size_t errlen)
{
	if (net_recv(fd, nc, len)) {
		io_err(err, errlen, "no answer to our greeting (a ckpt of "
		       "protocol 1?)");
		return -1;
	}
	return check_magic(nc, "client", err, errlen);
}

int net_auth_server(struct net_conn *c, int fd,
		    const unsigned char key[NET_KEY], char *err,
		    size_t errlen)
{
	unsigned char hello[8 + NET_NONCE], nc[8 + NET_NONCE + NET_MAC];
	unsigned char answer[1 + NET_MAC];
	unsigned char *n = nc + 8;

	c->wire = NULL;
	memcpy(hello, NET_MAGIC, 8);
	randombytes_buf(hello + 8, NET_NONCE);
	if (net_send(fd, hello, sizeof(hello))) {
		io_err(err, errlen, "authentication");
		return -1;
	}
	if (recv_proof(fd, nc, sizeof(nc), err, errlen))
		return -1;
	/* sodium_memcmp: in constant time */
	net_mac(answer + 1, key, "ckpt-client", hello + 8, n);
	if (sodium_memcmp(answer + 1, n + NET_NONCE, NET_MAC)) {
		answer[0] = 'N';
		/* the refusal is best effort: we close anyway */
		if (net_send(fd, answer, 1))
			errno = 0;
		snprintf(err, errlen, "client failed authentication "
			 "(wrong key, or a replay)");
		return -1;
	}
	answer[0] = 'Y';
	net_mac(answer + 1, key, "ckpt-server", n, hello + 8);
	if (net_send(fd, answer, sizeof(answer))) {
		io_err(err, errlen, "authentication");
		return -1;
	}
	if (net_session(c, fd, key, hello + 8, n, 0)) {
		io_err(err, errlen, "session");
		return -1;
	}
	return 0;
}

/* Our stream header goes out with the first frame, in the same send. */
int net_send_frame(struct net_conn *c, const void *buf, size_t len)
{
	unsigned char h[4] = { len >> 24, len >> 16, len >> 8, len };
	unsigned char *w = c->wire;
	unsigned long long n;

	if (len > NET_FRAME_MAX) {
		errno = EMSGSIZE;
		return -1;
	}
	if (!c->tx_started) {
		memcpy(w, c->tx_hdr, NET_HDR);
		w += NET_HDR;
	}
	crypto_secretstream_xchacha20poly1305_push(&c->tx, w, &n, h, 4,
						   NULL, 0, 0);
	w += n;
	if (len) {
		crypto_secretstream_xchacha20poly1305_push(&c->tx, w, &n, buf,
							   len, NULL, 0, 0);
		w += n;
	}
	c->tx_started = 1;
	return net_send(c->fd, c->wire, w - c->wire);
}

/* Read n sealed bytes and open them into out: EBADMSG if forged. */
static int recv_open(struct net_conn *c, void *out, size_t n)
{
	unsigned char tag;

	if (net_recv(c->fd, c->wire, n + NET_ABYTES))
		return -1;
	if (crypto_secretstream_xchacha20poly1305_pull(&c->rx, out, NULL,
						       &tag, c->wire,
						       n + NET_ABYTES, NULL,
						       0)) {
		errno = EBADMSG;
		return -1;
	}
	return 0;
}

static int recv_header(struct net_conn *c)
{
	unsigned char hdr[NET_HDR];
	int rc;

	if (net_recv(c->fd, hdr, NET_HDR))
		return -1;
	rc = crypto_secretstream_xchacha20poly1305_init_pull(&c->rx, hdr,
							     c->rx_key);
	sodium_memzero(c->rx_key, sizeof(c->rx_key));
	c->rx_started = 1;
	if (rc) {
		errno = EBADMSG;
		return -1;
	}
	return 0;
}

/* The length is sealed on its own, so that a changed length is caught
 * before we wait for data that will never come. */
int net_recv_frame(struct net_conn *c, void *buf, size_t max, size_t *len)
{
	unsigned char h[4];
	uint32_t n;

	if (!c->rx_started && recv_header(c))
		return -1;
	if (recv_open(c, h, 4))
		return -1;
	n = (uint32_t)h[0] << 24 | h[1] << 16 | h[2] << 8 | h[3];
	if (n > max || n > NET_FRAME_MAX) {
		errno = EMSGSIZE;
		return -1;
	}
	*len = n;
	return n ? recv_open(c, buf, n) : 0;
}

int net_send_msg(struct net_conn *c, const char *msg)
{
	return net_send_frame(c, msg, strlen(msg));
}

int net_recv_msg(struct net_conn *c, char *buf, size_t size)
{
	size_t len;

	if (net_recv_frame(c, buf, size - 1, &len))
		return -1;
	buf[len] = '\0';
	return 0;
}

int net_name_ok(const char *name)
{
	size_t i;

	for (i = 0; name[i]; i++) {
		char c = name[i];
		int alnum = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
			    (c >= '0' && c <= '9');

		if (i >= NET_NAME_MAX || !(alnum || (i && (c == '.' ||
			    c == '_' || c == '-'))))
			return 0;
	}
	return i > 0;
}
