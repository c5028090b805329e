/*
 * fuzz_serve: libFuzzer entry for the serve side of tcp://: serve_conn,
 * what a child of `ckpt serve` runs for one client (the handshake, the
 * request, the sealed frames of a PUT into the image directory). The
 * input is what the client sends: it is written into the peer end of a
 * socketpair, then that end is shut for writing, as a client that sent
 * it all and waits. With the fixed key and randomness of
 * tests/fuzz/fuzz.c a recorded session (the seeds) passes the handshake,
 * so that mutations reach the request and frame readers.
 */
#include <sys/socket.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "serve/serve-priv.h"
#include "tests/fuzz/fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char dir[64];

/* What a PUT left in the image directory, so that each input starts
 * from an empty one. */
static void empty_dir(int dirfd)
{
	DIR *d = fdopendir(dup(dirfd));
	struct dirent *de;

	if (!d)
		abort();
	while ((de = readdir(d)))
		if (de->d_name[0] != '.' || (de->d_name[1] &&
		    strcmp(de->d_name, "..")))
			unlinkat(dirfd, de->d_name, 0);
	closedir(d);
}

static void remove_dir(void)
{
	int dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (dirfd >= 0) {
		empty_dir(dirfd);
		close(dirfd);
	}
	rmdir(dir);
}

static int setup(void)
{
	int dirfd;

	log_init("fuzz_serve", -1);
	fuzz_fixed_random();
	snprintf(dir, sizeof(dir), "/tmp/ckpt-fuzz-serve.XXXXXX");
	if (!mkdtemp(dir))
		abort();
	atexit(remove_dir);
	dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dirfd < 0)
		abort();
	return dirfd;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int dirfd = -1;
	int sv[2];

	if (dirfd < 0)
		dirfd = setup();
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv))
		abort();
	/* what does not fit in the socket buffer is cut off */
	if (send(sv[1], data, size, MSG_DONTWAIT | MSG_NOSIGNAL) < 0)
		errno = 0;
	shutdown(sv[1], SHUT_WR);
	/* timeout 0: no alarm, which would end the fuzzer */
	serve_conn(sv[0], dirfd, fuzz_key, "fuzz", 0);
	close(sv[0]);
	close(sv[1]);
	empty_dir(dirfd);
	return 0;
}
