/*
 * net: the key file, the handshake and the frames shared by the tcp sink
 * and ckpt serve (see net-priv.h for the protocol).
 *
 * The handshake never puts the key on the wire: each side proves it holds
 * the key by an HMAC over both random nonces, labelled by its role so
 * that one side's answer cannot be reflected back as the other's.
 */
#include <sys/socket.h>
#include <sys/stat.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "plugins/net-priv.h"

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

	snprintf(err, errlen, "%s: %s", what,
		 saved == EPIPE ? "connection closed" : strerror(saved));
}

int net_auth_client(int fd, const unsigned char key[NET_KEY], char *err,
		    size_t errlen)
{
	unsigned char hello[8 + NET_NONCE], nc[NET_NONCE + NET_MAC];
	unsigned char answer[1 + NET_MAC], want[NET_MAC];

	if (net_recv(fd, hello, sizeof(hello))) {
		io_err(err, errlen, "no greeting from the server");
		return -1;
	}
	if (memcmp(hello, NET_MAGIC, 8)) {
		snprintf(err, errlen, "the server is not a ckpt server");
		return -1;
	}
	randombytes_buf(nc, NET_NONCE);
	net_mac(nc + NET_NONCE, key, "ckpt-client", hello + 8, nc);
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
	net_mac(want, key, "ckpt-server", nc, hello + 8);
	if (sodium_memcmp(want, answer + 1, NET_MAC)) {
		snprintf(err, errlen, "the server does not hold our key (wrong --auth key?)");
		return -1;
	}
	return 0;
}

int net_auth_server(int fd, const unsigned char key[NET_KEY], char *err,
		    size_t errlen)
{
	unsigned char hello[8 + NET_NONCE], nc[NET_NONCE + NET_MAC];
	unsigned char answer[1 + NET_MAC];

	memcpy(hello, NET_MAGIC, 8);
	randombytes_buf(hello + 8, NET_NONCE);
	if (net_send(fd, hello, sizeof(hello)) ||
	    net_recv(fd, nc, sizeof(nc))) {
		io_err(err, errlen, "authentication");
		return -1;
	}
	/* sodium_memcmp: in constant time */
	net_mac(answer + 1, key, "ckpt-client", hello + 8, nc);
	if (sodium_memcmp(answer + 1, nc + NET_NONCE, NET_MAC)) {
		answer[0] = 'N';
		/* the refusal is best effort: we close anyway */
		if (net_send(fd, answer, 1))
			errno = 0;
		snprintf(err, errlen, "client failed authentication (wrong key)");
		return -1;
	}
	answer[0] = 'Y';
	net_mac(answer + 1, key, "ckpt-server", nc, hello + 8);
	if (net_send(fd, answer, sizeof(answer))) {
		io_err(err, errlen, "authentication");
		return -1;
	}
	return 0;
}

int net_send_frame(int fd, const void *buf, size_t len)
{
	unsigned char h[4] = { len >> 24, len >> 16, len >> 8, len };

	if (net_send(fd, h, 4))
		return -1;
	return len ? net_send(fd, buf, len) : 0;
}

int net_recv_frame(int fd, void *buf, size_t max, size_t *len)
{
	unsigned char h[4];
	uint32_t n;

	if (net_recv(fd, h, 4))
		return -1;
	n = (uint32_t)h[0] << 24 | h[1] << 16 | h[2] << 8 | h[3];
	if (n > max) {
		errno = EMSGSIZE;
		return -1;
	}
	*len = n;
	return n ? net_recv(fd, buf, n) : 0;
}

int net_send_msg(int fd, const char *msg)
{
	return net_send_frame(fd, msg, strlen(msg));
}

int net_recv_msg(int fd, char *buf, size_t size)
{
	size_t len;

	if (net_recv_frame(fd, buf, size - 1, &len))
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
