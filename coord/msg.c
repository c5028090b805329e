/*
 * The coordinator's messages: one table gives each verb its fields, and
 * the parser and the formatter both walk it, so that what one writes the
 * other reads. Field kinds: j job, m member, h host (names), p path, s
 * sequence number, n small number, x checksum, t text to the end.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "coord/msg.h"

static const struct {
	enum coord_verb verb;
	const char *word;
	const char *fields;
} verbs[] = {
	{ CM_JOIN, "JOIN", "jmhpn" },
	{ CM_LEAVE, "LEAVE", "n" },
	{ CM_DONE, "DONE", "spx" },
	{ CM_FAIL, "FAIL", "st" },
	{ CM_LOCKED, "LOCKED", "s" },
	{ CM_RESTORED, "RESTORED", "s" },
	{ CM_WELCOME, "WELCOME", "" },
	{ CM_CKPT, "CKPT", "snp" },
	{ CM_COMMIT, "COMMIT", "s" },
	{ CM_ABORT, "ABORT", "s" },
	{ CM_LOCK, "LOCK", "spx" },
	{ CM_RESTORE, "RESTORE", "spx" },
	{ CM_CHECKPOINT, "CHECKPOINT", "jn" },
	{ CM_STATUS, "STATUS", "j" },
	{ CM_RESTART, "RESTART", "jt" },
	{ CM_LIST, "LIST", "" },
	{ CM_OK, "OK", "t" },
	{ CM_ERR, "ERR", "t" },
};

int coord_name_ok(const char *s)
{
	size_t i, n = strlen(s);

	if (n == 0 || n >= COORD_NAME_MAX || s[0] == '.' || s[0] == '-')
		return 0;
	for (i = 0; i < n; i++)
		if (!(s[i] >= 'a' && s[i] <= 'z') &&
		    !(s[i] >= 'A' && s[i] <= 'Z') &&
		    !(s[i] >= '0' && s[i] <= '9') && !strchr("._-", s[i]))
			return 0;
	return 1;
}

/* An absolute path or tcp://, printable, no space, no ".." component. */
static int path_ok(const char *s)
{
	size_t i, n = strlen(s);

	if (n == 0 || n >= COORD_PATH_MAX)
		return 0;
	if (s[0] != '/' && strncmp(s, "tcp://", 6))
		return 0;
	for (i = 0; i < n; i++)
		if (s[i] <= ' ' || s[i] > '~')
			return 0;
	return !strstr(s, "/../") && (n < 3 || strcmp(s + n - 3, "/.."));
}

static int sum_ok(const char *s)
{
	size_t i;

	if (strlen(s) != COORD_SUM_HEX)
		return 0;
	for (i = 0; i < COORD_SUM_HEX; i++)
		if (!strchr("0123456789abcdef", s[i]))
			return 0;
	return 1;
}

/* One decimal field of at most 12 digits: no sign, no leading zero. */
static int num_parse(const char *s, unsigned long *v)
{
	size_t n = strlen(s);

	if (n == 0 || n > 12 || (n > 1 && s[0] == '0') ||
	    strspn(s, "0123456789") != n)
		return -1;
	*v = strtoul(s, NULL, 10);
	return 0;
}

static int put_field(struct coord_msg *m, char kind, const char *f)
{
	unsigned long v;

	switch (kind) {
	case 'j':
	case 'm':
	case 'h':
		if (!coord_name_ok(f))
			return -1;
		strcpy(kind == 'j' ? m->job : kind == 'm' ? m->member :
		       m->host, f);
		return 0;
	case 'p':
		if (!path_ok(f))
			return -1;
		strcpy(m->path, f);
		return 0;
	case 'x':
		if (!sum_ok(f))
			return -1;
		strcpy(m->sum, f);
		return 0;
	case 's':
		if (num_parse(f, &v) || v == 0)
			return -1;
		m->seq = v;
		return 0;
	case 'n':
		if (num_parse(f, &v) || v > 255)
			return -1;
		m->num = (long)v;
		return 0;
	}
	return -1;
}

/* Split the fields of s (NUL-terminated, modified) by kinds. */
static int parse_fields(char *s, const char *kinds, struct coord_msg *m)
{
	char *sp;

	for (; *kinds; kinds++) {
		if (*kinds == 't') {
			if (!s)
				s = "";
			if (strlen(s) >= sizeof(m->text))
				return -1;
			strcpy(m->text, s);
			return 0;
		}
		if (!s)
			return -1;
		sp = strchr(s, ' ');
		if (sp)
			*sp = '\0';
		if (put_field(m, *kinds, s))
			return -1;
		s = sp ? sp + 1 : NULL;
	}
	return s ? -1 : 0;
}

int coord_msg_parse(const char *buf, size_t len, struct coord_msg *m)
{
	char line[COORD_MSG_MAX], *rest;
	size_t i;

	memset(m, 0, sizeof(*m));
	if (len >= sizeof(line) || memchr(buf, '\0', len))
		return -1;
	memcpy(line, buf, len);
	line[len] = '\0';
	rest = strchr(line, ' ');
	if (rest)
		*rest++ = '\0';
	for (i = 0; i < sizeof(verbs) / sizeof(verbs[0]); i++) {
		if (strcmp(line, verbs[i].word))
			continue;
		m->verb = verbs[i].verb;
		return parse_fields(rest, verbs[i].fields, m);
	}
	return -1;
}

static int add(char *buf, size_t size, size_t *len, const char *s)
{
	size_t n = strlen(s);

	if (*len + n + 2 > size)
		return -1;
	buf[(*len)++] = ' ';
	memcpy(buf + *len, s, n + 1);
	*len += n;
	return 0;
}

static int format_field(const struct coord_msg *m, char kind, char *buf,
			size_t size, size_t *len)
{
	char num[24];

	switch (kind) {
	case 'j':
		return coord_name_ok(m->job) ? add(buf, size, len, m->job) : -1;
	case 'm':
		return coord_name_ok(m->member) ?
		       add(buf, size, len, m->member) : -1;
	case 'h':
		return coord_name_ok(m->host) ?
		       add(buf, size, len, m->host) : -1;
	case 'p':
		return path_ok(m->path) ? add(buf, size, len, m->path) : -1;
	case 'x':
		return sum_ok(m->sum) ? add(buf, size, len, m->sum) : -1;
	case 's':
	case 'n':
		snprintf(num, sizeof(num), "%lu",
			 kind == 's' ? m->seq : (unsigned long)m->num);
		return add(buf, size, len, num);
	case 't':
		return add(buf, size, len, m->text);
	}
	return -1;
}

int coord_msg_format(const struct coord_msg *m, char *buf, size_t size)
{
	const char *f;
	size_t i, len;

	for (i = 0; i < sizeof(verbs) / sizeof(verbs[0]); i++) {
		if (verbs[i].verb != m->verb)
			continue;
		len = strlen(verbs[i].word);
		if (len + 1 > size)
			return -1;
		memcpy(buf, verbs[i].word, len + 1);
		for (f = verbs[i].fields; *f; f++)
			if (format_field(m, *f, buf, size, &len))
				return -1;
		/* "OK" with no text: no trailing space */
		if (len && buf[len - 1] == ' ')
			buf[--len] = '\0';
		return 0;
	}
	errno = EINVAL;
	return -1;
}
