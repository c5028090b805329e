/*
 * filehash.h: the content hash of a file (BLAKE2b-256), by which restore
 * tells whether a file is still the one the image was made with
 * (restore/validate.c) and snapshots whether a copy is needed.
 */
#ifndef CKPT_FILEHASH_H
#define CKPT_FILEHASH_H

#include <stdint.h>

#define FILE_HASH_LEN	32

/* The hash of fd's bytes from offset 0 to its end, in out. 0 or -1 with
 * errno set. */
int file_hash(int fd, uint8_t out[FILE_HASH_LEN]) __attribute__((warn_unused_result));

#endif
