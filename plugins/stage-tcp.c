/*
 * The "tcp" sink: tcp://HOST:PORT/NAME stores the image as NAME on a
 * `ckpt serve` (writing) or fetches it from there (reading), after a
 * mutual challenge-response authentication with the key of --auth KEYFILE
 * (net.h has the protocol). Every byte after the handshake is sealed
 * (net.c): a stream changed on the way is refused, whichever end reads
 * it. HOST may be [v6]. Commit returns only once the server has made the
 * image durable; abort just closes the connection, and the server throws
 * away what it had.
 */
#include <sys/socket.h>
#include <sys/time.h>
#include <errno.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "plugins/net.h"
#include "plugins/stages-priv.h"
#include "util/fault.h"

#define TCP_BUF		NET_FRAME_MAX
#define TCP_TIMEOUT	120	/* seconds without progress: give up */

struct tcp_priv {
	int fd;
	struct net_conn conn;	/* the session on fd, once authenticated */
	int done;		/* reading: the zero frame was seen */
	size_t fill, pos;	/* writing: buffered; reading: handed out */
	unsigned char *buf;	/* TCP_BUF; reading: one frame */
};

/* Split "HOST:PORT/NAME"; [v6]:PORT/NAME too. */
static int split_target(struct ckpt_stage *s, const char *arg, char *host,
			char *port, const char **name)
{
	const char *slash = strchr(arg, '/'), *colon, *h = arg, *he;

	if (!slash)
		return ckpt_stage_fail(s, "%s: expected HOST:PORT/NAME", arg);
	*name = slash + 1;
	if (*h == '[') {
		he = memchr(h, ']', slash - h);
		if (!he || he[1] != ':')
			return ckpt_stage_fail(s, "%s: bad [address]", arg);
		colon = he + 1;
		h++;
	} else {
		colon = memchr(h, ':', slash - h);
		he = colon;
	}
	if (!colon || he == h || slash - colon - 1 < 1 ||
	    he - h > 255 || slash - colon - 1 > 31)
		return ckpt_stage_fail(s, "%s: expected HOST:PORT/NAME", arg);
	memcpy(host, h, he - h);
	host[he - h] = '\0';
	memcpy(port, colon + 1, slash - colon - 1);
	port[slash - colon - 1] = '\0';
	/* the server checks the name: it is the one to protect */
	if (!**name)
		return ckpt_stage_fail(s, "%s: no image NAME", arg);
	return 0;
}

static int dial(struct ckpt_stage *s, const char *host, const char *port)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM }, *res, *ai;
	struct timeval tv = { .tv_sec = TCP_TIMEOUT };
	int fd = -1, err, saved = 0;

	err = getaddrinfo(host, port, &hints, &res);
	if (err)
		return ckpt_stage_fail(s, "%s:%s: %s", host, port,
				       gai_strerror(err));
	for (ai = res; ai && fd < 0; ai = ai->ai_next) {
		fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC,
			    ai->ai_protocol);
		if (fd < 0)
			continue;
		setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
		setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
		if (connect(fd, ai->ai_addr, ai->ai_addrlen)) {
			saved = errno;
			close(fd);
			fd = -1;
		}
	}
	freeaddrinfo(res);
	if (fd < 0)
		return ckpt_stage_fail(s, "can't connect to %s:%s: %s", host,
				       port, strerror(saved));
	return fd;
}

/* Connect, authenticate, send "OP NAME" and wait for "OK". */
static int tcp_open(struct ckpt_stage *s, const char *arg, const char *op)
{
	unsigned char key[NET_KEY];
	const char *keyfile = ckpt_stage_param(s, "auth"), *name = NULL;
	char host[256], port[32], msg[256];
	struct tcp_priv *p = calloc(1, sizeof(*p));

	if (!p)
		return ckpt_stage_fail(s, "out of memory");
	p->fd = -1;
	s->priv = p;
	p->buf = malloc(TCP_BUF);
	if (!p->buf)
		return ckpt_stage_fail(s, "out of memory");
	if (split_target(s, arg, host, port, &name))
		return -1;
	if (!keyfile || !*keyfile)
		return ckpt_stage_fail(s, "tcp://: give the shared key with --auth KEYFILE");
	if (net_load_key(keyfile, key, s->error, sizeof(s->error)))
		return -1;
	p->fd = dial(s, host, port);
	if (p->fd < 0)
		goto err;
	if (net_auth_client(&p->conn, p->fd, key, s->error,
			    sizeof(s->error)))
		goto err;
	sodium_memzero(key, sizeof(key));
	snprintf(msg, sizeof(msg), "%s %s", op, name);
	if (net_send_msg(&p->conn, msg) ||
	    net_recv_msg(&p->conn, msg, sizeof(msg)))
		return ckpt_stage_fail(s, "%s:%s: %s", host, port,
				       net_strerror(errno));
	if (strcmp(msg, "OK"))
		return ckpt_stage_fail(s, "server: %s", msg);
	return 0;
err:
	sodium_memzero(key, sizeof(key));
	return -1;
}

static int tcp_open_write(struct ckpt_stage *s, const char *arg)
{
	const char *mig = ckpt_stage_param(s, "migrate");
	int size = NET_MIGRATE_BUF;

	if (!mig)
		return tcp_open(s, arg, "PUT");
	if (strcmp(mig, "restore") && strcmp(mig, "lazy"))
		return ckpt_stage_fail(s, "migrate=%s: expected restore or lazy",
				       mig);
	if (tcp_open(s, arg, strcmp(mig, "lazy") ? "MIGRATE" :
		     "MIGRATE-LAZY"))
		return -1;
	/* a smaller backlog for the freeze to wait for; autotuned if not */
	(void)setsockopt(((struct tcp_priv *)s->priv)->fd, SOL_SOCKET,
			 SO_SNDBUF, &size, sizeof(size));
	return 0;
}

/*
 * While we send, the server says nothing unless it gives up on the image
 * (a frame that failed its check, a full disk): then its "ERR why" is
 * the reason to report, rather than the EPIPE of the next send.
 */
static int server_gave_up(struct ckpt_stage *s, struct tcp_priv *p,
			  int wait)
{
	struct pollfd pfd = { .fd = p->fd, .events = POLLIN };
	char msg[256];

	if (poll(&pfd, 1, wait ? 1000 : 0) <= 0)
		return 0;
	if (net_recv_msg(&p->conn, msg, sizeof(msg)))
		return 0;
	ckpt_stage_fail(s, "server: %s", msg);
	return 1;
}

static int tcp_flush(struct ckpt_stage *s, struct tcp_priv *p)
{
	int saved;

	if (!p->fill)
		return 0;
	if (server_gave_up(s, p, 0))
		return -1;
	if (net_send_frame(&p->conn, p->buf, p->fill)) {
		saved = errno;
		if (server_gave_up(s, p, 1))
			return -1;
		return ckpt_stage_fail(s, "can't send to the server: %s",
				       net_strerror(saved));
	}
	p->fill = 0;
	return 0;
}

static int tcp_write(struct ckpt_stage *s, const void *buf, size_t len)
{
	struct tcp_priv *p = s->priv;
	const unsigned char *b = buf;

	while (len) {
		size_t n = TCP_BUF - p->fill < len ? TCP_BUF - p->fill : len;

		memcpy(p->buf + p->fill, b, n);
		p->fill += n;
		b += n;
		len -= n;
		if (p->fill == TCP_BUF && tcp_flush(s, p))
			return -1;
	}
	return 0;
}

/* Migrating: after "OK" (stored), the server's word on the restore; the
 * process runs there once it says "RUNS PID", we say "DONE" and it
 * answers "OK". */
static int migrate_reply(struct ckpt_stage *s, struct tcp_priv *p)
{
	char msg[256];

	if (net_recv_msg(&p->conn, msg, sizeof(msg)))
		return ckpt_stage_fail(s, "no word from the server on the restore: %s",
				       net_strerror(errno));
	if (strncmp(msg, "RUNS ", 5))
		return ckpt_stage_fail(s, "server: %s", msg);
	log_stamp("migrate: the receiver says it runs");
	/* the tests die or stall here: the receiver kills what it made */
	fault_point("migrate-runs");
	if (net_send_msg(&p->conn, "DONE") ||
	    net_recv_msg(&p->conn, msg, sizeof(msg)))
		return ckpt_stage_fail(s, "the receiver did not take over: %s",
				       net_strerror(errno));
	if (strcmp(msg, "OK"))
		return ckpt_stage_fail(s, "server: %s", msg);
	pr_info("the receiver restored it: it runs there as PID %s", msg + 5);
	return 0;
}

/* The zero frame ends the stream; the server's OK means it is durable. */
static int tcp_commit(struct ckpt_stage *s)
{
	struct tcp_priv *p = s->priv;
	char msg[256];

	if (tcp_flush(s, p))
		return -1;
	log_stamp("tcp: last frame sent");
	if (net_send_frame(&p->conn, NULL, 0) ||
	    net_recv_msg(&p->conn, msg, sizeof(msg)))
		return ckpt_stage_fail(s, "no confirmation from the server: %s",
				       net_strerror(errno));
	if (strcmp(msg, "OK"))
		return ckpt_stage_fail(s, "server: %s", msg);
	log_stamp("tcp: the server stored it");
	if (ckpt_stage_param(s, "migrate") && migrate_reply(s, p))
		return -1;
	close(p->fd);
	p->fd = -1;
	return 0;
}

/* Closing without the zero frame: the server discards its temporary. */
static void tcp_abort(struct ckpt_stage *s)
{
	struct tcp_priv *p = s->priv;

	if (p && p->fd >= 0) {
		close(p->fd);
		p->fd = -1;
	}
}

static int tcp_open_read(struct ckpt_stage *s, const char *arg)
{
	return tcp_open(s, arg, "GET");
}

static ssize_t tcp_read(struct ckpt_stage *s, void *buf, size_t len)
{
	struct tcp_priv *p = s->priv;
	size_t n;

	while (p->pos == p->fill) {
		if (p->done)
			return 0;
		if (net_recv_frame(&p->conn, p->buf, TCP_BUF, &p->fill))
			return ckpt_stage_fail(s, errno == EBADMSG ?
					       "image stream from the server: %s" :
					       "image stream cut: %s",
					       net_strerror(errno));
		p->pos = 0;
		p->done = !p->fill;
	}
	n = p->fill - p->pos < len ? p->fill - p->pos : len;
	memcpy(buf, p->buf + p->pos, n);
	p->pos += n;
	return n;
}

static void tcp_close(struct ckpt_stage *s)
{
	struct tcp_priv *p = s->priv;

	if (!p)
		return;
	tcp_abort(s);
	net_conn_free(&p->conn);
	free(p->buf);
	free(p);
	s->priv = NULL;
}

int net_tcp_request(const char *arg, const char *const *params,
		    int nr_params, const char *op, struct net_conn *conn,
		    char *err, size_t errlen)
{
	struct ckpt_stage s = { .params = params, .nr_params = nr_params };
	struct tcp_priv *p;
	int fd = -1;

	if (tcp_open(&s, arg, op)) {
		snprintf(err, errlen, "%s", s.error);
		tcp_close(&s);
		return -1;
	}
	p = s.priv;
	*conn = p->conn;	/* the session moves: p's copy is not freed */
	fd = p->fd;
	free(p->buf);
	free(p);
	return fd;
}

const struct ckpt_stage_ops stage_tcp_ops = {
	.api_version = CKPT_PLUGIN_API,
	.name = "tcp",
	.kind = CKPT_STAGE_SINK,
	.scheme = "tcp",
	.open_write = tcp_open_write,
	.write = tcp_write,
	.commit = tcp_commit,
	.abort = tcp_abort,
	.open_read = tcp_open_read,
	.read = tcp_read,
	.close = tcp_close,
};
