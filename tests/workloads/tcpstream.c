/*
 * tcpstream: a client streaming SIZE bytes to a server over TCP, each
 * side checking the other byte for byte (t-inet-ext.sh).
 *
 *   tcpstream server ADDR PORT
 *   tcpstream client ADDR PORT SIZE
 *   tcpstream both ADDR PORT SIZE	(a server and a client, one tree)
 *
 * ADDR is IPv4 or IPv6. Files in the current directory: server.pid
 * once the server listens, client.pid once the client is connected, half
 * once the client has sent half of SIZE; the client sends its last MiB
 * only once "finish" exists, so that a test dumps either side in
 * mid-stream. No test dumps after "finish": the client no longer paces
 * itself once it sees it (the rest took seconds of each test).
 *
 * The client sends SIZE (8 bytes) then the bytes of a pattern that
 * depends on their position, about SIZE / 4 bytes a second. The server
 * checks every byte against the pattern, then answers with the count and
 * an FNV-1a hash of what it got; the client compares them with its own.
 * Each exits 0 when all is right, 1 with "FAIL ..." on stderr otherwise.
 */
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define PIECE		65536
#define HOLD_BACK	(1u << 20)

static uint8_t pattern(uint64_t i)
{
	uint64_t x = (i >> 3) * 0x9e3779b97f4a7c15ull;

	x ^= x >> 29;
	return (uint8_t)(x >> (8 * (i & 7)));
}

static uint64_t fnv(uint64_t h, const uint8_t *p, size_t n)
{
	while (n--)
		h = (h ^ *p++) * 0x100000001b3ull;
	return h;
}

static void __attribute__((noreturn)) die(const char *what)
{
	fprintf(stderr, "FAIL %d: %s: %s\n", getpid(), what, strerror(errno));
	exit(1);
}

static void mark(const char *name, long v)
{
	char tmp[64];
	FILE *f;

	snprintf(tmp, sizeof(tmp), "%s.tmp", name);
	f = fopen(tmp, "w");
	if (!f || fprintf(f, "%ld\n", v) < 0 || fclose(f) || rename(tmp, name))
		die(name);
}

/* ADDR (IPv4 or IPv6) and PORT as a sockaddr; its length in *len */
static struct sockaddr_storage addr_of(const char *a, const char *port,
				       socklen_t *len)
{
	struct sockaddr_storage ss = { 0 };
	struct sockaddr_in *s4 = (void *)&ss;
	struct sockaddr_in6 *s6 = (void *)&ss;

	if (inet_pton(AF_INET, a, &s4->sin_addr) == 1) {
		s4->sin_family = AF_INET;
		s4->sin_port = htons(atoi(port));
		*len = sizeof(*s4);
		return ss;
	}
	if (inet_pton(AF_INET6, a, &s6->sin6_addr) != 1) {
		fprintf(stderr, "FAIL: bad address %s\n", a);
		exit(2);
	}
	s6->sin6_family = AF_INET6;
	s6->sin6_port = htons(atoi(port));
	*len = sizeof(*s6);
	return ss;
}

static int full_read(int fd, void *buf, size_t n)
{
	size_t got = 0;
	ssize_t r;

	while (got < n) {
		r = read(fd, (char *)buf + got, n - got);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return -1;
		got += r;
	}
	return 0;
}

static int full_write(int fd, const void *buf, size_t n)
{
	size_t done = 0;
	ssize_t r;

	while (done < n) {
		r = write(fd, (const char *)buf + done, n - done);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return -1;
		done += r;
	}
	return 0;
}

static int listen_on(const char *a, const char *port)
{
	socklen_t len;
	struct sockaddr_storage s = addr_of(a, port, &len);
	int l = socket(s.ss_family, SOCK_STREAM, 0), one = 1;

	if (l < 0 || setsockopt(l, SOL_SOCKET, SO_REUSEADDR, &one,
				sizeof(one)) ||
	    bind(l, (struct sockaddr *)&s, len) || listen(l, 4))
		die("listen");
	return l;
}

static int serve(int l)
{
	static uint8_t buf[PIECE];
	uint64_t size, pos = 0, h = 0xcbf29ce484222325ull, i;
	char reply[64];
	int c = accept(l, NULL, NULL);
	ssize_t r;

	if (c < 0 || full_read(c, &size, sizeof(size)))
		die("accept");
	while (pos < size) {
		r = read(c, buf, sizeof(buf));
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			die("read");
		for (i = 0; i < (uint64_t)r; i++)
			if (buf[i] != pattern(pos + i)) {
				fprintf(stderr, "FAIL server: byte %" PRIu64 " is %u, not %u\n",
					pos + i, buf[i], pattern(pos + i));
				return 1;
			}
		h = fnv(h, buf, r);
		pos += r;
	}
	snprintf(reply, sizeof(reply), "%" PRIu64 " %016" PRIx64 "\n", pos, h);
	if (full_write(c, reply, strlen(reply)))
		die("reply");
	close(c);
	printf("server: %" PRIu64 " bytes right\n", pos);
	return 0;
}

static double now(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec + t.tv_nsec / 1e9;
}

static void pace(double t0, uint64_t sent, uint64_t rate)
{
	double ahead = (double)sent / rate - (now() - t0);

	if (ahead > 0)
		usleep(ahead * 1e6);
}

static void wait_file(const char *name)
{
	struct stat st;

	while (stat(name, &st))
		usleep(20000);
}

static int stream(const char *a, const char *port, uint64_t size)
{
	socklen_t len;
	struct sockaddr_storage s = addr_of(a, port, &len);
	static uint8_t buf[PIECE];
	uint64_t pos = 0, h = 0xcbf29ce484222325ull, n, i;
	uint64_t rate = size / 4 > PIECE ? size / 4 : PIECE;
	char want[64], got[64] = "";
	int c = socket(s.ss_family, SOCK_STREAM, 0), halved = 0, paced = 1;
	double t0;

	if (c < 0 || connect(c, (struct sockaddr *)&s, len))
		die("connect");
	mark("client.pid", getpid());
	if (full_write(c, &size, sizeof(size)))
		die("write");
	t0 = now();
	while (pos < size) {
		n = size - pos < PIECE ? size - pos : PIECE;
		for (i = 0; i < n; i++)
			buf[i] = pattern(pos + i);
		if (full_write(c, buf, n))
			die("write");
		h = fnv(h, buf, n);
		pos += n;
		if (!halved && pos >= size / 2) {
			mark("half", pos);
			halved = 1;
		}
		if (size - pos <= HOLD_BACK && size > 2 * HOLD_BACK)
			wait_file("finish");
		if (paced && !access("finish", F_OK))
			paced = 0;
		if (paced)
			pace(t0, pos, rate);
	}
	snprintf(want, sizeof(want), "%" PRIu64 " %016" PRIx64 "\n", size, h);
	if (full_read(c, got, strlen(want)) || strcmp(got, want)) {
		fprintf(stderr, "FAIL client: the server got \"%s\", not \"%s\"\n",
			got, want);
		return 1;
	}
	printf("client: %" PRIu64 " bytes sent and checked\n", size);
	return 0;
}

int main(int argc, char **argv)
{
	int l, st, sv;
	pid_t kid;

	if (argc == 4 && !strcmp(argv[1], "server")) {
		l = listen_on(argv[2], argv[3]);
		mark("server.pid", getpid());
		return serve(l);
	}
	if (argc == 5 && !strcmp(argv[1], "client"))
		return stream(argv[2], argv[3], strtoull(argv[4], NULL, 0));
	if (argc != 5 || strcmp(argv[1], "both")) {
		fprintf(stderr, "usage: tcpstream server|client|both ADDR PORT [SIZE]\n");
		return 2;
	}
	l = listen_on(argv[2], argv[3]);
	mark("server.pid", getpid());
	kid = fork();
	if (kid < 0)
		die("fork");
	if (!kid) {
		close(l);
		st = stream(argv[2], argv[3], strtoull(argv[4], NULL, 0));
		fflush(stdout);
		_exit(st);
	}
	sv = serve(l);
	if (waitpid(kid, &st, 0) != kid || !WIFEXITED(st) || WEXITSTATUS(st))
		return 1;
	return sv;
}
