/*
 * ring: one process of a token ring over TCP, for the coordinated
 * checkpoints of t-coord.sh. Process IDX of N listens on ADDR:PORT,
 * connects to the next one's NEXT:NPORT, accepts the previous one's
 * connection, and passes a token (hop, checksum) on: each process that
 * receives it mixes hop and its own index into the checksum, counts the
 * hop and sends it on. Process 0 sends the first token. The one that
 * counts hop HOPS writes the checksum to "result" and sends a stop token
 * around; every process exits 0 when it has passed it on. A token lost
 * or delivered twice leaves a different checksum (or a ring that stops).
 *
 *   ring IDX HOPS ADDR PORT NEXT NPORT
 *
 * Files in the current directory: ring-IDX.pid once connected both
 * ways; process 0 writes the hop it saw last to "progress" every 16
 * hops; at hop HOPS - 8 the token waits until "finish" exists, so that a
 * test decides when the job may end. Each process waits PACE_US before
 * passing the token on, so that checkpoints find it on its way, until it
 * sees "finish" (it looks every 16 tokens it passes): no checkpoint
 * comes after it, and the thousands of hops left took 10 s.
 */
#include <sys/socket.h>
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define STOP	UINT64_MAX
#define PACE_US	2000

static uint64_t mix(uint64_t sum, uint64_t hop, uint64_t idx)
{
	return (sum ^ (hop * 0x9e3779b97f4a7c15ull + idx)) *
	       0x100000001b3ull;
}

static void die(const char *what)
{
	fprintf(stderr, "FAIL ring: %s: %s\n", what, strerror(errno));
	exit(1);
}

static void addr_of(struct sockaddr_in *sa, const char *ip, const char *port)
{
	memset(sa, 0, sizeof(*sa));
	sa->sin_family = AF_INET;
	sa->sin_port = htons(atoi(port));
	if (inet_pton(AF_INET, ip, &sa->sin_addr) != 1)
		die("bad address");
}

static void io_full(int fd, void *buf, size_t len, int out)
{
	char *p = buf;
	ssize_t n;

	while (len) {
		n = out ? write(fd, p, len) : read(fd, p, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			die(out ? "send" : "receive");
		p += n;
		len -= n;
	}
}

static void write_file(const char *name, const char *text)
{
	char tmp[64];
	int fd;

	snprintf(tmp, sizeof(tmp), "%s.tmp", name);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (fd < 0)
		die(tmp);
	io_full(fd, (void *)text, strlen(text), 1);
	close(fd);
	if (rename(tmp, name))
		die(name);
}

static int connect_next(const char *ip, const char *port)
{
	struct sockaddr_in sa;
	int i, fd;

	addr_of(&sa, ip, port);
	for (i = 0; i < 1200; i++) {
		fd = socket(AF_INET, SOCK_STREAM, 0);
		if (fd < 0)
			die("socket");
		if (!connect(fd, (struct sockaddr *)&sa, sizeof(sa)))
			return fd;
		close(fd);
		usleep(100000);
	}
	die("connect to the next process");
	return -1;
}

static void nap(long us)
{
	struct timespec ts = { us / 1000000, (us % 1000000) * 1000 };

	while (nanosleep(&ts, &ts) && errno == EINTR)
		;
}

int main(int argc, char **argv)
{
	uint64_t tok[2], idx, hops, passed = 0;
	struct sockaddr_in sa;
	int lfd, nfd, pfd, one = 1, progress = -1, paced = 1;
	char buf[64];

	if (argc != 7) {
		fprintf(stderr, "usage: ring IDX HOPS ADDR PORT NEXT NPORT\n");
		return 2;
	}
	idx = strtoull(argv[1], NULL, 10);
	hops = strtoull(argv[2], NULL, 10);
	addr_of(&sa, argv[3], argv[4]);
	lfd = socket(AF_INET, SOCK_STREAM, 0);
	setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (lfd < 0 || bind(lfd, (struct sockaddr *)&sa, sizeof(sa)) ||
	    listen(lfd, 4))
		die("listen");
	nfd = connect_next(argv[5], argv[6]);
	pfd = accept(lfd, NULL, NULL);
	if (pfd < 0)
		die("accept");
	close(lfd);
	snprintf(buf, sizeof(buf), "ring-%" PRIu64 ".pid", idx);
	snprintf(buf + 32, 32, "%d\n", (int)getpid());
	write_file(buf, buf + 32);
	if (idx == 0) {
		progress = open("progress", O_WRONLY | O_CREAT | O_TRUNC, 0644);
		tok[0] = 0;
		tok[1] = 0x5eed;
		io_full(nfd, tok, sizeof(tok), 1);
	}
	for (;;) {
		io_full(pfd, tok, sizeof(tok), 0);
		if (tok[0] == STOP) {
			if (tok[1] != idx)	/* back at its sender: done */
				io_full(nfd, tok, sizeof(tok), 1);
			return 0;
		}
		if (tok[0] + 8 == hops)
			while (access("finish", F_OK))
				nap(50000);
		tok[1] = mix(tok[1], tok[0], idx);
		tok[0]++;
		if (progress >= 0 && tok[0] % 16 == 0) {
			snprintf(buf, sizeof(buf), "%-20" PRIu64 "\n", tok[0]);
			if (pwrite(progress, buf, 21, 0) != 21)
				die("progress");
		}
		if (tok[0] == hops) {
			snprintf(buf, sizeof(buf), "%" PRIu64 "\n", tok[1]);
			write_file("result", buf);
			tok[0] = STOP;
			tok[1] = idx;
		}
		if (paced && ++passed % 16 == 0 && !access("finish", F_OK))
			paced = 0;
		if (paced)
			nap(PACE_US);
		io_full(nfd, tok, sizeof(tok), 1);
	}
}
