/*
 * tcppair: a TCP connection over loopback whose two ends this process
 * holds, carrying data both ways all the time: each round the main
 * thread sends 256 bytes from end a, a second thread reads them at end b,
 * checks them and answers with the next 256, which the main thread
 * checks (two threads, so that parking covers more than the leader). For the fault campaigns (tests/fault/kill-ckpt.sh): a ckpt
 * killed while the connection is in repair mode (ckpt/dump-guard.c) must
 * leave it carrying data, which a stalled round (no byte for 20 s), an
 * error or a wrong byte fails. In the moment between ckpt's death and
 * the guardian's work the connection would still be in repair mode,
 * where send(2) fails with EINVAL and recv(2) with EPERM, were the
 * threads not parked (inject/park.c) until the guardian has let it out:
 * such calls are retried for 20 s at most (a connection left in repair
 * mode fails), counted, and fail the run at its end (each end's count:
 * the child's exit status says its own). Counts one line per round in D/count; at D/stop, after
 * D/restored, at least a few rounds must have gone since.
 *
 * `tcppair split`: end b goes to a child instead, so that a dump of this
 * process alone (no --tree) finds a connection whose peer is outside:
 * with --tcp-established, a ckpt killed while the network lock holds it
 * (ckpt/dump-netlock.c) must leave it carrying data as well. The child
 * ends with its parent's end of the connection, or 20 s after its last
 * byte.
 */
#include <sys/socket.h>
#include <sys/wait.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>

#include "workload.h"

#define MSG	256
#define STALL_MS	20000

static unsigned long repairs;	/* calls that met repair mode */
/* when the last run of them began, in this thread */
static _Thread_local uint64_t repair_since;

/* 1 if err is repair mode's (retry), for STALL_MS at most */
static int in_repair(int err, const char *what)
{
	uint64_t now = wl_now_ns(CLOCK_MONOTONIC);

	if (err != EPERM && err != EINVAL)
		return 0;
	if (!repair_since)
		repair_since = now;
	if (now - repair_since > STALL_MS * 1000000ull)
		wl_fail("%s: %s for %d s: the connection stays in repair mode",
			what, strerror(err), STALL_MS / 1000);
	__atomic_add_fetch(&repairs, 1, __ATOMIC_RELAXED);
	wl_sleep_ms(1);
	return 1;
}

static void connect_pair(int *a, int *b)
{
	struct sockaddr_in sin = { .sin_family = AF_INET };
	socklen_t l = sizeof(sin);
	int lsk;

	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	lsk = socket(AF_INET, SOCK_STREAM, 0);
	if (lsk < 0 || bind(lsk, (struct sockaddr *)&sin, sizeof(sin)) ||
	    listen(lsk, 1) || getsockname(lsk, (struct sockaddr *)&sin, &l))
		wl_fail("listener: %s", strerror(errno));
	*a = socket(AF_INET, SOCK_STREAM, 0);
	if (*a < 0 || connect(*a, (struct sockaddr *)&sin, sizeof(sin)))
		wl_fail("connect: %s", strerror(errno));
	*b = accept(lsk, NULL, NULL);
	if (*b < 0)
		wl_fail("accept: %s", strerror(errno));
	close(lsk);	/* a listener is not what this is about */
}

static void send_all(int fd, const uint8_t *buf, size_t len)
{
	ssize_t n;

	while (len) {
		n = send(fd, buf, len, MSG_NOSIGNAL);
		if (n < 0 && (errno == EINTR || in_repair(errno, "send")))
			continue;
		repair_since = 0;
		if (n <= 0)
			wl_fail("send: %s", n ? strerror(errno) : "nothing");
		buf += n;
		len -= n;
	}
}

/* len bytes from fd, waiting at most STALL_MS for each piece */
static void recv_all(int fd, uint8_t *buf, size_t len, const char *dir)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	ssize_t n;
	int r;

	while (len) {
		r = poll(&p, 1, STALL_MS);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			wl_fail("poll: %s", strerror(errno));
		if (!r)
			wl_fail("no byte %s for %d s: the connection is dead",
				dir, STALL_MS / 1000);
		n = recv(fd, buf, len, 0);
		if (n < 0 && (errno == EINTR || in_repair(errno, "recv")))
			continue;
		repair_since = 0;
		if (n <= 0)
			wl_fail("recv %s: %s", dir,
				n ? strerror(errno) : "end of stream");
		buf += n;
		len -= n;
	}
}

/* b's side: checks each message of a's, sends the answer, until a is
 * closed (the main thread ended). */
static void answer(int b)
{
	uint8_t in[MSG], out[MSG];
	uint64_t round;
	long bad;

	for (round = 0;; round++) {
		if (recv(b, in, 1, MSG_PEEK) == 0)
			return;
		recv_all(b, in, MSG, "from a to b");
		bad = wl_check_fill(in, MSG, 4 * round + 1);
		if (bad >= 0)
			wl_fail("byte %ld from a to b of round %llu is wrong",
				bad, (unsigned long long)round);
		wl_fill(out, MSG, 4 * round + 3);
		send_all(b, out, MSG);
	}
}

static void *answer_thread(void *b)
{
	answer((int)(long)b);
	return NULL;
}

/* a's side: a message out, the child's answer back. */
static void round_trip(int a, uint64_t round)
{
	uint8_t out[MSG], in[MSG];
	long bad;

	wl_fill(out, MSG, 4 * round + 1);
	send_all(a, out, MSG);
	recv_all(a, in, MSG, "from b to a");
	bad = wl_check_fill(in, MSG, 4 * round + 3);
	if (bad >= 0)
		wl_fail("byte %ld from b to a of round %llu is wrong", bad,
			(unsigned long long)round);
}

int main(int argc, char **argv)
{
	unsigned long n = 0, at_restored = 0;
	uint64_t round = 0;
	int a, b, cfd, st = 0, seen = 0;
	int split = argc > 1 && !strcmp(argv[1], "split");
	pthread_t th;
	pid_t kid = 0;

	wl_init();
	connect_pair(&a, &b);
	if (split) {
		kid = fork();
		if (kid < 0)
			wl_fail("fork: %s", strerror(errno));
		if (!kid) {
			close(a);
			answer(b);
			if (repairs)
				wl_fail("b: %lu calls met repair mode",
					repairs);
			_exit(0);
		}
		close(b);
	} else if ((errno = pthread_create(&th, NULL, answer_thread,
					   (void *)(long)b))) {
		wl_fail("pthread_create: %s", strerror(errno));
	}
	cfd = wl_count_open();
	for (;;) {
		round_trip(a, round);
		round++;
		if (!seen && wl_restored()) {
			seen = 1;
			at_restored = round;
		}
		if (wl_count_step(cfd, &n) && (!seen || round > at_restored + 3))
			break;
		wl_sleep_ms(10);
	}
	close(a);
	if (kid) {
		while (waitpid(kid, &st, 0) < 0 && errno == EINTR)
			;
		if (!WIFEXITED(st) || WEXITSTATUS(st))
			wl_fail("the peer (b) failed its checks");
	} else {
		pthread_join(th, NULL);
	}
	if (repairs)
		wl_fail("%lu calls met repair mode", repairs);
	return 0;
}
