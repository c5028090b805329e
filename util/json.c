/*
 * util/json: the pieces of a JSON document, written to one stream, for
 * every command's --json (json.h).
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "util/json.h"

static FILE *json_out_file;

static FILE *out(void)
{
	return json_out_file ? json_out_file : stdout;
}

void json_set_out(FILE *f)
{
	json_out_file = f;
}

/* Bytes of the UTF-8 sequence at s, or 0 when it is not valid. */
static int utf8_len(const unsigned char *s)
{
	int n, i;

	if (s[0] < 0x80)
		return 1;
	if ((s[0] & 0xe0) == 0xc0 && s[0] >= 0xc2)
		n = 2;
	else if ((s[0] & 0xf0) == 0xe0)
		n = 3;
	else if ((s[0] & 0xf8) == 0xf0 && s[0] <= 0xf4)
		n = 4;
	else
		return 0;
	for (i = 1; i < n; i++)
		if ((s[i] & 0xc0) != 0x80)
			return 0;
	return n;
}

size_t json_escape(char *dst, size_t size, const char *src)
{
	const unsigned char *s = (const unsigned char *)src;
	size_t o = 0, need;
	char esc[8];
	int n;

	if (!size)
		return 0;
	for (; *s; s += n) {
		n = utf8_len(s);
		if (!n) {
			memcpy(esc, "\\ufffd", 7);
			need = 6;
			n = 1;
		} else if (*s == '"' || *s == '\\') {
			esc[0] = '\\';
			esc[1] = (char)*s;
			need = 2;
		} else if (*s < 0x20) {
			snprintf(esc, sizeof(esc), "\\u%04x", *s);
			need = 6;
		} else {
			need = (size_t)n;
			memcpy(esc, s, need);
		}
		if (o + need >= size)
			break;
		memcpy(dst + o, esc, need);
		o += need;
	}
	dst[o] = '\0';
	return o;
}

/* A JSON string; null for NULL. Bytes that are not UTF-8 (paths may hold
 * any) become U+FFFD so that the document stays valid. */
void json_str(const char *str)
{
	const unsigned char *s = (const unsigned char *)str;
	int n;

	if (!s) {
		fputs("null", out());
		return;
	}
	fputc('"', out());
	for (; *s; s += n) {
		n = utf8_len(s);
		if (!n) {
			fputs("\\ufffd", out());
			n = 1;
		} else if (*s == '"' || *s == '\\') {
			fprintf(out(), "\\%c", *s);
		} else if (*s < 0x20) {
			fprintf(out(), "\\u%04x", *s);
		} else {
			fwrite(s, 1, n, out());
		}
	}
	fputc('"', out());
}

/* "key": with the separator that goes before it */
void json_key(int first, const char *key)
{
	fprintf(out(), "%s\"%s\":", first ? "" : ",", key);
}

void json_hex(int first, const char *key, uint64_t v)
{
	json_key(first, key);
	fprintf(out(), "\"0x%" PRIx64 "\"", v);
}

void json_u64(int first, const char *key, uint64_t v)
{
	json_key(first, key);
	fprintf(out(), "%" PRIu64, v);
}

void json_i64(int first, const char *key, int64_t v)
{
	json_key(first, key);
	fprintf(out(), "%" PRId64, v);
}

void json_kstr(int first, const char *key, const char *s)
{
	json_key(first, key);
	json_str(s);
}


void json_bool(int first, const char *key, int v)
{
	json_key(first, key);
	fputs(v ? "true" : "false", out());
}

void json_f64(int first, const char *key, double v)
{
	json_key(first, key);
	fprintf(out(), "%.6f", v);
}

void json_begin(void)
{
	fputc('{', out());
}

void json_end(void)
{
	fputs("}\n", out());
	fflush(out());
}
