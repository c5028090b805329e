/*
 * The fuzzers' fixed key and fixed randomness (tests/fuzz/fuzz.h).
 * Never linked into ckpt: a fixed random source is only for replaying
 * recorded sessions to a fuzzer.
 */
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "tests/fuzz/fuzz.h"

const unsigned char fuzz_key[NET_KEY] = "ckpt fuzz key: never a real one";

int fuzz_write_key(const char *path)
{
	char hex[2 * NET_KEY + 1], line[128];
	int fd, len, ret;

	sodium_bin2hex(hex, sizeof(hex), fuzz_key, NET_KEY);
	len = snprintf(line, sizeof(line), "ckpt-key-1 %s\n", hex);
	unlink(path);
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0)
		return -1;
	ret = write(fd, line, len) == len ? 0 : -1;
	close(fd);
	return ret;
}

static const char *fixed_name(void)
{
	return "fixed";
}

static uint32_t fixed_random(void)
{
	return 0x5eed5eed;
}

static void fixed_buf(void *buf, size_t n)
{
	unsigned char *b = buf;
	size_t i;

	for (i = 0; i < n; i++)
		b[i] = (unsigned char)(i * 7 + 1);
}

static struct randombytes_implementation fixed = {
	.implementation_name = fixed_name,
	.random = fixed_random,
	.buf = fixed_buf,
};

void fuzz_fixed_random(void)
{
	randombytes_set_implementation(&fixed);
}
