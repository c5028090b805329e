/*
 * dump-netsysctl: the sysctls of the tree's own network namespace
 * (/proc/sys/net, which shows the namespace of the task that reads it:
 * ckpt is in the tree's while it is frozen, dump-netdev.c). Every
 * writable one is read, and so in a new namespace that a child of ckpt
 * makes; those that differ go in the NS record, to be written again once
 * restore has made the devices (restore/netdev.c). A device's own
 * (ipv4/conf/DEV/..., neigh/DEV/...) is compared with the new
 * namespace's "default", from which a device made there starts. They
 * are ordered as restore writes them: the namespace's own, then "all",
 * then "default", then the devices'.
 */
#include <sys/stat.h>
#include <sys/wait.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ckpt/dump-priv.h"
#include "util/util.h"

#define ROOT		"/proc/sys/"
#define MAX_PATH	256

struct kv {
	char *name, *value;
};

struct kvs {
	struct kv *v;
	size_t n, cap;
};

static void kvs_free(struct kvs *s)
{
	size_t i;

	for (i = 0; i < s->n; i++) {
		free(s->v[i].name);
		free(s->v[i].value);
	}
	free(s->v);
}

static int kvs_add(struct kvs *s, const char *name, const char *value)
{
	struct kv *v;

	if (s->n == s->cap) {
		v = realloc(s->v, (s->cap = s->cap * 2 + 256) * sizeof(*v));
		if (!v)
			return -1;
		s->v = v;
	}
	s->v[s->n].name = strdup(name);
	s->v[s->n].value = strdup(value);
	if (!s->v[s->n].name || !s->v[s->n].value)
		return -1;
	s->n++;
	return 0;
}

/* One sysctl's value without its newline, or NULL (unreadable, empty,
 * or of more than one line: such ones are not compared) */
static char *value_of(const char *path)
{
	char *v = read_file_str(path, NULL);
	size_t n;

	if (!v)
		return NULL;
	n = strlen(v);
	while (n && v[n - 1] == '\n')
		v[--n] = '\0';
	if (!n || n > IMG_MAX_CG_VALUE || strchr(v, '\n')) {
		free(v);
		return NULL;
	}
	return v;
}

/* Every writable sysctl under ROOT rel into s */
static int walk(const char *rel, struct kvs *s)
{
	char path[MAX_PATH + sizeof(ROOT)], sub[MAX_PATH], *v;
	struct dirent *de;
	struct stat st;
	DIR *d;
	int ret = 0;

	snprintf(path, sizeof(path), ROOT "%s", rel);
	d = opendir(path);
	if (!d)
		return errno == ENOENT ? 0 : -1;
	while (!ret && (de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		if ((size_t)snprintf(sub, sizeof(sub), "%s/%s", rel,
				     de->d_name) >= sizeof(sub))
			continue;
		snprintf(path, sizeof(path), ROOT "%s", sub);
		if (lstat(path, &st))
			continue;
		if (S_ISDIR(st.st_mode)) {
			ret = walk(sub, s);
			continue;
		}
		if (!S_ISREG(st.st_mode) || !(st.st_mode & S_IWUSR) ||
		    !(st.st_mode & S_IRUSR))
			continue;
		v = value_of(path);
		if (v)
			ret = kvs_add(s, sub, v);
		free(v);
	}
	closedir(d);
	return ret;
}

/* A new network namespace's sysctls, through a child that makes it */
static int fresh(struct kvs *s)
{
	int p[2], st;
	pid_t pid;
	FILE *f;
	char *line = NULL, *tab;
	size_t cap = 0, i;
	ssize_t n;

	if (pipe2(p, O_CLOEXEC))
		return -1;
	pid = fork();
	if (pid < 0) {
		close(p[0]);
		close(p[1]);
		return -1;
	}
	if (!pid) {
		struct kvs own = { 0 };

		close(p[0]);
		f = fdopen(p[1], "w");
		if (!f || unshare(CLONE_NEWNET) || walk("net", &own))
			_exit(1);
		for (i = 0; i < own.n; i++)
			fprintf(f, "%s\t%s\n", own.v[i].name, own.v[i].value);
		_exit(fclose(f) ? 1 : 0);
	}
	close(p[1]);
	f = fdopen(p[0], "r");
	while (f && (n = getline(&line, &cap, f)) > 0) {
		line[n - 1] = '\0';
		tab = strchr(line, '\t');
		if (tab) {
			*tab = '\0';
			if (kvs_add(s, line, tab + 1))
				break;
		}
	}
	free(line);
	if (f)
		fclose(f);
	else
		close(p[0]);
	if (waitpid(pid, &st, 0) != pid || !WIFEXITED(st) ||
	    WEXITSTATUS(st)) {
		errno = ECHILD;
		return -1;
	}
	return 0;
}

/* 0 the namespace's own, 1 "all", 2 "default", 3 a device's; *dev the
 * device part of the name when it has one, for the "default" one */
static int class_of(const char *name, const char **dev, size_t *dev_len)
{
	static const char *const dirs[] = {
		"net/ipv4/conf/", "net/ipv6/conf/", "net/ipv4/neigh/",
		"net/ipv6/neigh/",
	};
	const char *d, *end;
	size_t i;

	for (i = 0; i < ARRAY_SIZE(dirs); i++) {
		if (strncmp(name, dirs[i], strlen(dirs[i])))
			continue;
		d = name + strlen(dirs[i]);
		end = strchr(d, '/');
		if (!end)
			return 0;
		*dev = d;
		*dev_len = end - d;
		if (*dev_len == 3 && !strncmp(d, "all", 3))
			return 1;
		if (*dev_len == 7 && !strncmp(d, "default", 7))
			return 2;
		return (*dev_len == 2 && !strncmp(d, "lo", 2)) ? 0 : 3;
	}
	return 0;
}

static int by_name(const void *a, const void *b)
{
	return strcmp(((const struct kv *)a)->name,
		      ((const struct kv *)b)->name);
}

/* in f, sorted by name */
static const char *fresh_value(const struct kvs *f, const char *name)
{
	struct kv key = { .name = (char *)name }, *v;

	v = bsearch(&key, f->v, f->n, sizeof(*f->v), by_name);
	return v ? v->value : NULL;
}

/* What a new namespace has for name: a device's as its "default";
 * neigh/ has no "default" but in the first namespace, and a device's
 * neighbour settings start as the table's, which its lo has too */
static const char *fresh_for(const struct kvs *f, const char *name)
{
	char alt[MAX_PATH];
	const char *dev = NULL, *v;
	size_t len = 0;

	if (class_of(name, &dev, &len) != 3)
		return fresh_value(f, name);
	snprintf(alt, sizeof(alt), "%.*sdefault%s", (int)(dev - name), name,
		 dev + len);
	v = fresh_value(f, alt);
	if (v || !strstr(name, "/neigh/"))
		return v;
	snprintf(alt, sizeof(alt), "%.*slo%s", (int)(dev - name), name,
		 dev + len);
	return fresh_value(f, alt);
}

int dump_net_sysctls(pid_t root, struct img_ns *ns)
{
	struct kvs own = { 0 }, f = { 0 };
	const char *dev, *was;
	size_t i, len;
	int c, ret = -1;
	uint32_t k;

	if (walk("net", &own) || fresh(&f)) {
		pr_perror("can't read the sysctls of %d's network namespace",
			  root);
		goto out;
	}
	qsort(f.v, f.n, sizeof(*f.v), by_name);
	ns->sysctls = calloc(IMG_MAX_CG_SETTINGS, sizeof(*ns->sysctls));
	if (!ns->sysctls)
		goto out;
	for (c = 0; c < 4; c++)
		for (i = 0; i < own.n; i++) {
			if (!own.v[i].name ||	/* taken already */
			    class_of(own.v[i].name, &dev, &len) != c)
				continue;
			was = fresh_for(&f, own.v[i].name);
			if (was && !strcmp(was, own.v[i].value))
				continue;
			if (ns->nr_sysctls == IMG_MAX_CG_SETTINGS) {
				pr_err("can't dump %d: its network namespace has more than %d sysctls changed",
				       root, IMG_MAX_CG_SETTINGS);
				goto out;
			}
			k = ns->nr_sysctls++;
			ns->sysctls[k].name = own.v[i].name;
			ns->sysctls[k].value = own.v[i].value;
			own.v[i].name = own.v[i].value = NULL;
		}
	ret = 0;
out:
	kvs_free(&own);
	kvs_free(&f);
	return ret;
}
