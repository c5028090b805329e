/*
 * The coordinator's sessions: a TCP connection, the mutual handshake of
 * plugins/net.h, then one coord_msg per sealed frame. A frame that fails
 * authentication, one replayed from another session, or one that is no
 * well-formed message ends the session.
 */
#include <sys/socket.h>
#include <sys/time.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sodium.h>

#include "coord/coord.h"
#include "coord/kinds.h"

int coord_split_addr(const char *addr, char host[256], char port[32])
{
	const char *colon = strrchr(addr, ':'), *h = addr, *he = colon;

	if (!colon || !colon[1] || strlen(colon + 1) > 31)
		return -1;
	if (*h == '[') {
		if (colon[-1] != ']')
			return -1;
		h++;
		he = colon - 1;
	}
	if (he <= h || he - h > 255)
		return -1;
	snprintf(host, 256, "%.*s", (int)(he - h), h);
	snprintf(port, 32, "%s", colon + 1);
	return 0;
}

/* The first address of host:port that answers. */
static int connect_any(const char *host, const char *port, int timeout,
		       char *err, size_t errlen)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM }, *res, *ai;
	struct timeval tv = { .tv_sec = timeout };
	int fd = -1, gai, saved = 0;

	gai = getaddrinfo(host, port, &hints, &res);
	if (gai) {
		snprintf(err, errlen, "%s:%s: %s", host, port,
			 gai_strerror(gai));
		return -1;
	}
	for (ai = res; ai && fd < 0; ai = ai->ai_next) {
		fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, 0);
		if (fd < 0) {
			saved = errno;
			continue;
		}
		setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
		setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
		if (!connect(fd, ai->ai_addr, ai->ai_addrlen))
			break;
		saved = errno;
		close(fd);
		fd = -1;
	}
	freeaddrinfo(res);
	if (fd < 0)
		snprintf(err, errlen, "can't connect to %s:%s: %s", host,
			 port, strerror(saved));
	return fd;
}

int coord_dial(struct coord_conn *c, const char *addr, const char *job,
	       const unsigned char key[NET_KEY], int timeout, char *err,
	       size_t errlen)
{
	char host[256], port[32], leader[256];

	c->fd = -1;
	/* zk://HOSTS[/ROOT]: whoever serves job there (coord/kv-zk.c) */
	if (!strncmp(addr, "zk://", 5)) {
		if (coord_zk_leader(addr + 5, job, leader, sizeof(leader), err,
				    errlen))
			return -1;
		addr = leader;
	}
	if (coord_split_addr(addr, host, port)) {
		snprintf(err, errlen, "%s: expected HOST:PORT", addr);
		return -1;
	}
	c->fd = connect_any(host, port, timeout, err, errlen);
	if (c->fd < 0)
		return -1;
	if (net_auth_client(&c->nc, c->fd, key, err, errlen)) {
		close(c->fd);
		c->fd = -1;
		return -1;
	}
	return 0;
}

void coord_close(struct coord_conn *c)
{
	if (c->fd < 0)
		return;
	net_conn_free(&c->nc);
	close(c->fd);
	c->fd = -1;
}

int coord_send(struct coord_conn *c, const struct coord_msg *m)
{
	char buf[COORD_MSG_MAX];

	if (coord_msg_format(m, buf, sizeof(buf))) {
		errno = EINVAL;
		return -1;
	}
	return net_send_frame(&c->nc, buf, strlen(buf));
}

int coord_recv(struct coord_conn *c, struct coord_msg *m)
{
	char buf[COORD_MSG_MAX];
	size_t len;

	if (net_recv_frame(&c->nc, buf, sizeof(buf) - 1, &len))
		return -1;
	if (coord_msg_parse(buf, len, m)) {
		errno = EBADMSG;
		return -1;
	}
	return 0;
}

int coord_file_sum(const char *path, char hex[COORD_SUM_HEX + 1])
{
	crypto_generichash_state st;
	unsigned char buf[65536], out[32];
	ssize_t n;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0) {
		pr_perror("can't open %s", path);
		return -1;
	}
	crypto_generichash_init(&st, NULL, 0, sizeof(out));
	while ((n = read(fd, buf, sizeof(buf))) > 0)
		crypto_generichash_update(&st, buf, (size_t)n);
	if (n < 0) {
		pr_perror("can't read %s", path);
		close(fd);
		return -1;
	}
	close(fd);
	crypto_generichash_final(&st, out, sizeof(out));
	sodium_bin2hex(hex, COORD_SUM_HEX + 1, out, sizeof(out));
	return 0;
}

int coord_request(const char *addr, const unsigned char key[NET_KEY],
		  const struct coord_msg *req, char *reply, size_t len)
{
	struct coord_conn c;
	struct coord_msg *m = calloc(1, sizeof(*m));
	int ret = -1;

	if (!m) {
		snprintf(reply, len, "out of memory");
		return -1;
	}
	/* a checkpoint takes as long as the members' dumps */
	if (coord_dial(&c, addr, req->job, key, 10 * COORD_TIMEOUT, reply,
		       len))
		goto out;
	if (coord_send(&c, req) || coord_recv(&c, m) ||
	    (m->verb != CM_OK && m->verb != CM_ERR)) {
		snprintf(reply, len, "%s: %s", addr,
			 m->verb ? "bad answer" : net_strerror(errno));
	} else {
		snprintf(reply, len, "%s", m->text);
		ret = m->verb == CM_ERR;
	}
	coord_close(&c);
out:
	free(m);
	return ret;
}
