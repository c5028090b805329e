/*
 * The "file" backend of the coordinator's key-value store: every key in
 * memory, the whole store written again on each put or delete, durably
 * (util/durable.h: a crash leaves the old file or the new, never half
 * of one). The file holds records "KEY\nLEN\nVALUE\n"; one that does not
 * parse refuses the store rather than losing keys.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "coord/kinds.h"
#include "util/durable.h"

struct kv_rec {
	char *key, *val;
};

struct kv_file {
	char *path;
	struct kv_rec *recs;
	size_t n;
};

static struct kv_rec *find(struct kv_file *f, const char *key)
{
	size_t i;

	for (i = 0; i < f->n; i++)
		if (!strcmp(f->recs[i].key, key))
			return &f->recs[i];
	return NULL;
}

static int set(struct kv_file *f, const char *key, const char *val)
{
	struct kv_rec *r = find(f, key), *nr;
	char *v = strdup(val);

	if (!v)
		return -1;
	if (r) {
		free(r->val);
		r->val = v;
		return 0;
	}
	nr = realloc(f->recs, (f->n + 1) * sizeof(*nr));
	if (!nr || !(nr[f->n].key = strdup(key))) {
		if (nr)
			f->recs = nr;
		free(v);
		return -1;
	}
	f->recs = nr;
	f->recs[f->n++].val = v;
	return 0;
}

/* Parse the file's text (NUL-terminated) into f. */
static int parse(struct kv_file *f, char *s, char *err, size_t errlen)
{
	char *nl, *key, *end;
	unsigned long len;

	while (*s) {
		key = s;
		nl = strchr(s, '\n');
		if (!nl || nl == s || nl - s >= CKPT_COORD_KEY_MAX)
			goto bad;
		*nl = '\0';
		s = nl + 1;
		len = strtoul(s, &end, 10);
		if (end == s || *end != '\n' || len >= CKPT_COORD_VAL_MAX ||
		    strlen(end + 1) < len + 1 || end[1 + len] != '\n')
			goto bad;
		end[1 + len] = '\0';
		if (strlen(end + 1) != len || set(f, key, end + 1))
			goto bad;
		s = end + 2 + len;
	}
	return 0;
bad:
	snprintf(err, errlen, "%s: damaged key-value store", f->path);
	return -1;
}

static int load(struct kv_file *f, char *err, size_t errlen)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *in = fopen(f->path, "re");
	int ret;

	if (!in) {
		if (errno == ENOENT)
			return 0;
		snprintf(err, errlen, "can't open %s: %s", f->path,
			 strerror(errno));
		return -1;
	}
	ret = getdelim(&buf, &len, '\0', in) < 0 && ferror(in) ? -1 : 0;
	fclose(in);
	if (ret)
		snprintf(err, errlen, "can't read %s", f->path);
	else if (buf)
		ret = parse(f, buf, err, errlen);
	free(buf);
	return ret;
}

static void kv_close(void *kv)
{
	struct kv_file *f = kv;
	size_t i;

	for (i = 0; i < f->n; i++) {
		free(f->recs[i].key);
		free(f->recs[i].val);
	}
	free(f->recs);
	free(f->path);
	free(f);
}

static void *kv_open(const char *where, char *err, size_t errlen)
{
	struct kv_file *f = calloc(1, sizeof(*f));

	if (!f || !(f->path = strdup(where))) {
		snprintf(err, errlen, "out of memory");
		free(f);
		return NULL;
	}
	if (load(f, err, errlen)) {
		kv_close(f);
		return NULL;
	}
	return f;
}

static int save(struct kv_file *f)
{
	struct durable d;
	size_t i;
	int ret = 0;

	if (durable_open(&d, AT_FDCWD, f->path, 0))
		return -1;
	for (i = 0; i < f->n && !ret; i++)
		ret = dprintf(d.fd, "%s\n%zu\n%s\n", f->recs[i].key,
			      strlen(f->recs[i].val), f->recs[i].val) < 0;
	if (ret) {
		pr_perror("can't write %s", f->path);
		durable_abort(&d);
		return -1;
	}
	return durable_commit(&d);
}

static int kv_get(void *kv, const char *key, char *val, size_t size)
{
	struct kv_rec *r = find(kv, key);

	if (!r) {
		errno = ENOENT;
		return -1;
	}
	if (strlen(r->val) >= size) {
		errno = ENOSPC;
		return -1;
	}
	strcpy(val, r->val);
	return 0;
}

static int kv_put(void *kv, const char *key, const char *val)
{
	if (strlen(key) >= CKPT_COORD_KEY_MAX ||
	    strlen(val) >= CKPT_COORD_VAL_MAX || strchr(key, '\n')) {
		errno = EINVAL;
		return -1;
	}
	return set(kv, key, val) ? -1 : save(kv);
}

static int kv_del(void *kv, const char *key)
{
	struct kv_file *f = kv;
	struct kv_rec *r = find(f, key);

	if (!r) {
		errno = ENOENT;
		return -1;
	}
	free(r->key);
	free(r->val);
	*r = f->recs[--f->n];
	return save(f);
}

/* Keys directly under prefix: the prefix, then no further "/". */
static int kv_list(void *kv, const char *prefix,
		   int (*fn)(const char *key, void *arg), void *arg)
{
	struct kv_file *f = kv;
	size_t i, n = strlen(prefix);
	int ret;

	for (i = 0; i < f->n; i++) {
		if (strncmp(f->recs[i].key, prefix, n) ||
		    strchr(f->recs[i].key + n, '/'))
			continue;
		ret = fn(f->recs[i].key, arg);
		if (ret)
			return ret;
	}
	return 0;
}

const struct ckpt_coord_kv_ops coord_kv_file = {
	.name = "file",
	.open = kv_open,
	.get = kv_get,
	.put = kv_put,
	.del = kv_del,
	.list = kv_list,
	.close = kv_close,
};
