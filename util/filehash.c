/*
 * filehash: BLAKE2b-256 of a whole file, read with pread so that the
 * file's offset (shared with whoever else holds it) is left alone.
 */
#include <errno.h>
#include <stdlib.h>
#include <unistd.h>

#include <sodium.h>

#include "util/filehash.h"

#define HASH_BUF	(1u << 20)

int file_hash(int fd, uint8_t out[FILE_HASH_LEN])
{
	crypto_generichash_state st;
	uint8_t *buf = malloc(HASH_BUF);
	off_t off = 0;
	ssize_t n;
	int err = 0;

	if (!buf || sodium_init() < 0) {
		free(buf);
		errno = ENOMEM;
		return -1;
	}
	crypto_generichash_init(&st, NULL, 0, FILE_HASH_LEN);
	while ((n = pread(fd, buf, HASH_BUF, off)) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			err = errno;
			break;
		}
		crypto_generichash_update(&st, buf, n);
		off += n;
	}
	free(buf);
	if (err) {
		errno = err;
		return -1;
	}
	return crypto_generichash_final(&st, out, FILE_HASH_LEN);
}
