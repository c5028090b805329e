/*
 * fuzz_client: libFuzzer entry for the client side of tcp://: the tcp
 * stage reading an image (plugins/stage-tcp.c: the handshake, "GET",
 * the answer and the sealed frames), through the pipeline as `ckpt
 * restore tcp://...` reads it. The stage dials, so the input is served
 * by a thread on a loopback listener: it accepts, writes the input, shuts
 * its side for writing and drains what the client says until it closes.
 * With the fixed key and randomness of tests/fuzz/fuzz.c a recorded
 * session (the seeds) passes the handshake.
 */
#include <sys/socket.h>
#include <sys/time.h>
#include <netinet/in.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "plugins/pipeline.h"
#include "tests/fuzz/fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct replay {
	int lfd;
	const uint8_t *data;
	size_t size;
};

static char source[64], param[128];

static void *replay(void *arg)
{
	struct replay *r = arg;
	char buf[4096];
	int fd = accept4(r->lfd, NULL, NULL, SOCK_CLOEXEC);

	if (fd < 0)
		return NULL;
	if (send(fd, r->data, r->size, MSG_NOSIGNAL) < 0)
		errno = 0;
	shutdown(fd, SHUT_WR);
	while (recv(fd, buf, sizeof(buf), 0) > 0)
		;
	close(fd);
	return NULL;
}

static void remove_key(void)
{
	unlink(param + 5);
}

static int setup(void)
{
	struct sockaddr_in a = { .sin_family = AF_INET,
				 .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	/* a stage that fails before it dials must not leave the replay
	 * waiting for it for ever */
	struct timeval wait = { .tv_sec = 10 };
	socklen_t len = sizeof(a);
	int fd;

	log_init("fuzz_client", -1);
	fuzz_fixed_random();
	setenv("CKPT_PLUGIN_PATH", "", 1);
	snprintf(param, sizeof(param), "auth=/tmp/ckpt-fuzz-key.%d",
		 getpid());
	if (fuzz_write_key(param + 5))
		abort();
	atexit(remove_key);
	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &wait,
				 sizeof(wait)) ||
	    bind(fd, (struct sockaddr *)&a, sizeof(a)) ||
	    listen(fd, 4) || getsockname(fd, (struct sockaddr *)&a, &len))
		abort();
	snprintf(source, sizeof(source), "tcp://127.0.0.1:%d/fuzz",
		 ntohs(a.sin_port));
	return fd;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int lfd = -1;
	const char *params[] = { param };
	struct replay r = { .data = data, .size = size };
	pthread_t t;
	int fd;

	if (lfd < 0)
		lfd = setup();
	r.lfd = lfd;
	if (pthread_create(&t, NULL, replay, &r))
		abort();
	fd = pipeline_open_read_with(source, params, 1);
	if (fd >= 0)
		close(fd);
	pthread_join(t, NULL);
	return 0;
}
