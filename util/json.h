/*
 * util/json: a JSON object written piece by piece to one stream
 * (standard output unless json_set_out chose another), for the --json
 * output of every command and --progress=json. Strings are escaped and a
 * byte that is not UTF-8 (paths may hold any) becomes U+FFFD, so that the
 * document is always valid. Each value function takes first: 1 for the
 * first member of an object or array, which gets no comma before it.
 */
#ifndef CKPT_JSON_H
#define CKPT_JSON_H

#include <stdint.h>
#include <stdio.h>

void json_set_out(FILE *f);

/* '{' and, at the end, "}\n" with the stream flushed: one object a line */
void json_begin(void);
void json_end(void);

void json_str(const char *s);		/* a string, or null for NULL */
/* src escaped for the inside of a JSON string into dst (NUL-terminated,
 * cut at a whole character when dst is too short); its length. Neither
 * allocates nor uses stdio streams. */
size_t json_escape(char *dst, size_t size, const char *src);
void json_key(int first, const char *key);
void json_kstr(int first, const char *key, const char *s);
void json_hex(int first, const char *key, uint64_t v);	/* "0x..." */
void json_u64(int first, const char *key, uint64_t v);
void json_i64(int first, const char *key, int64_t v);
void json_f64(int first, const char *key, double v);
void json_bool(int first, const char *key, int v);

#endif
