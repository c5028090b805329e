/*
 * What the fuzz targets and their seed makers share: the fixed key their
 * encrypted streams and sessions are under, and the fixed "randomness"
 * that makes a handshake replayable (tests/fuzz/fuzz.c).
 */
#ifndef CKPT_FUZZ_H
#define CKPT_FUZZ_H

#include <stddef.h>
#include <stdint.h>

#include "plugins/net.h"

extern const unsigned char fuzz_key[NET_KEY];

/* Write fuzz_key as a `ckpt keygen` key file (mode 0600) at path. */
int fuzz_write_key(const char *path);
/* libsodium's random bytes become a fixed pattern: both nonces of a
 * handshake and every stream header are the same in each run, so that a
 * recorded conversation is one the fuzzed side accepts. Call it before
 * any other libsodium call. */
void fuzz_fixed_random(void);

#endif
