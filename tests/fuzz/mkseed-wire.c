/*
 * mkseed-wire: seeds for the stream and tcp:// fuzzers, made by the real
 * writers from an image seed (mkseed's): that image through the zstd and
 * encrypt filters (fuzz_stream's seeds), and a PUT and a GET of it
 * between the real tcp stage and serve_conn, recorded by a relay in
 * between: what the client said seeds fuzz_serve, what the server said
 * seeds fuzz_client. The key and randomness are tests/fuzz/fuzz.c's, as
 * in the fuzzers, so that the recorded handshakes pass there.
 *
 * usage: mkseed-wire IMAGE STREAMDIR SERVEDIR CLIENTDIR
 */
#include <sys/socket.h>
#include <netinet/in.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "plugins/pipeline.h"
#include "serve/serve-priv.h"
#include "tests/fuzz/fuzz.h"

static char *image, key[64], auth[80], encrypt[80];
static size_t image_len;

static int write_file(const char *dir, const char *name, const void *buf,
		      size_t len)
{
	char path[4096];
	int fd, ret;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		return -1;
	ret = write_full(fd, buf, len);
	close(fd);
	return ret;
}

/* The image through the pipeline to sink, with filters. */
static int send_image(const char *const *filters, int n, const char *sink)
{
	const char *params[] = { auth };
	struct img_sink *s;

	s = pipeline_open_write_with(filters, n, sink, params, 1);
	if (!s)
		return -1;
	if (s->write(s, image, image_len)) {
		s->abort(s);
		return -1;
	}
	return s->commit(s);
}

static int stream_seeds(const char *dir)
{
	const char *zstd[] = { "zstd" }, *enc[] = { encrypt },
		   *both[] = { "zstd", encrypt };
	char path[4096];

	snprintf(path, sizeof(path), "file:%s/zstd.ckpt", dir);
	if (send_image(zstd, 1, path))
		return -1;
	snprintf(path, sizeof(path), "file:%s/encrypt.ckpt", dir);
	if (send_image(enc, 1, path))
		return -1;
	snprintf(path, sizeof(path), "file:%s/zstd-encrypt.ckpt", dir);
	return send_image(both, 2, path);
}

/* ---- a recorded session ------------------------------------------------ */

struct buf {
	char *p;
	size_t len;
};

struct session {
	int lfd, dirfd, srv;
	struct buf said[2];	/* [0] by the client, [1] by the server */
};

static int append(struct buf *b, const char *p, size_t n)
{
	char *np = realloc(b->p, b->len + n);

	if (!np)
		return -1;
	memcpy(np + b->len, p, n);
	b->p = np;
	b->len += n;
	return 0;
}

static void *server(void *arg)
{
	struct session *s = arg;

	serve_conn(s->srv, s->dirfd, fuzz_key, "seed", 0);
	close(s->srv);
	return NULL;
}

/* Copy between the client's connection and the server's socketpair end,
 * keeping what each said, until both are done. */
static int relay(struct session *s, int conn, int srv)
{
	struct pollfd pfd[2] = { { .fd = conn, .events = POLLIN },
				 { .fd = srv, .events = POLLIN } };
	char buf[65536];
	ssize_t n;
	int i, open = 2;

	while (open) {
		if (poll(pfd, 2, -1) < 0)
			return -1;
		for (i = 0; i < 2; i++) {
			if (!pfd[i].revents)
				continue;
			n = read(pfd[i].fd, buf, sizeof(buf));
			if (n <= 0) {
				shutdown(pfd[!i].fd, SHUT_WR);
				pfd[i].fd = -1;
				open--;
				continue;
			}
			if (append(&s->said[i], buf, n) ||
			    write_full(pfd[!i].fd, buf, n))
				return -1;
		}
	}
	return 0;
}

static void *relay_thread(void *arg)
{
	struct session *s = arg;
	int sv[2], conn = accept4(s->lfd, NULL, NULL, SOCK_CLOEXEC);
	pthread_t t;

	if (conn < 0 || socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv))
		abort();
	s->srv = sv[0];
	if (pthread_create(&t, NULL, server, s) || relay(s, conn, sv[1]))
		abort();
	pthread_join(t, NULL);
	close(sv[1]);
	close(conn);
	return NULL;
}

/* One session: put (the image) or get it, recorded as name. */
static int session(struct session *s, int put, const char *target,
		   const char *name, const char *servedir,
		   const char *clientdir)
{
	const char *params[] = { auth };
	pthread_t t;
	int ret, fd;

	memset(s->said, 0, sizeof(s->said));
	if (pthread_create(&t, NULL, relay_thread, s))
		return -1;
	if (put) {
		ret = send_image(NULL, 0, target);
	} else {
		fd = pipeline_open_read_with(target, params, 1);
		ret = fd < 0 ? -1 : close(fd);
	}
	pthread_join(t, NULL);
	if (!ret)
		ret = write_file(servedir, name, s->said[0].p,
				 s->said[0].len) ||
		      write_file(clientdir, name, s->said[1].p,
				 s->said[1].len);
	free(s->said[0].p);
	free(s->said[1].p);
	return ret;
}

static int net_seeds(const char *servedir, const char *clientdir)
{
	struct sockaddr_in a = { .sin_family = AF_INET,
				 .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof(a);
	char dir[64] = "/tmp/ckpt-mkseed.XXXXXX", target[64];
	struct session s;
	int ret;

	if (!mkdtemp(dir))
		return -1;
	s.dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	s.lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (s.dirfd < 0 || s.lfd < 0 ||
	    bind(s.lfd, (struct sockaddr *)&a, sizeof(a)) ||
	    listen(s.lfd, 4) ||
	    getsockname(s.lfd, (struct sockaddr *)&a, &len))
		return -1;
	snprintf(target, sizeof(target), "tcp://127.0.0.1:%d/seed",
		 ntohs(a.sin_port));
	ret = session(&s, 1, target, "put", servedir, clientdir) ||
	      session(&s, 0, target, "get", servedir, clientdir);
	unlinkat(s.dirfd, "seed", 0);
	rmdir(dir);
	close(s.dirfd);
	close(s.lfd);
	return ret;
}

int main(int argc, char **argv)
{
	int ret;

	if (argc != 5) {
		fprintf(stderr, "usage: mkseed-wire IMAGE STREAMDIR SERVEDIR CLIENTDIR\n");
		return 2;
	}
	log_init("mkseed-wire", LOG_WARN);
	signal(SIGPIPE, SIG_IGN);
	fuzz_fixed_random();
	setenv("CKPT_PLUGIN_PATH", "", 1);
	image = read_file_str(argv[1], &image_len);
	snprintf(key, sizeof(key), "/tmp/ckpt-mkseed-key.%d", getpid());
	snprintf(auth, sizeof(auth), "auth=%s", key);
	snprintf(encrypt, sizeof(encrypt), "encrypt=%s", key);
	if (!image || fuzz_write_key(key))
		return 1;
	ret = stream_seeds(argv[2]) || net_seeds(argv[3], argv[4]);
	unlink(key);
	free(image);
	return ret;
}
