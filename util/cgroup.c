/*
 * Where this host mounts each cgroup hierarchy (cgroup.h), from
 * /proc/self/mountinfo: a v1 hierarchy is the cgroup mount whose super
 * options hold every one of its controllers, cgroup v2 the cgroup2
 * mount. Only a mount of the whole hierarchy (root "/") serves.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/cgroup.h"
#include "util/util.h"

int cg_opts_have(const char *opts, const char *want)
{
	char w[256], o[1024], *save = NULL, *t, *s2, *x;
	int found;

	snprintf(w, sizeof(w), "%s", want);
	for (t = strtok_r(w, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
		snprintf(o, sizeof(o), "%s", opts);
		found = 0;
		s2 = NULL;
		for (x = strtok_r(o, ",", &s2); x && !found;
		     x = strtok_r(NULL, ",", &s2))
			found = !strcmp(x, t);
		if (!found)
			return 0;
	}
	return 1;
}

/* The point of the first mount of /proc/self/mountinfo for which
 * match(root, fstype, super options, arg) holds, malloc'd; NULL with
 * errno ENOENT if none */
static char *find_mount(int (*match)(const char *root, const char *fs,
				     const char *opts, const void *arg),
			const void *arg)
{
	char *buf = read_file_str("/proc/self/mountinfo", NULL);
	char root[4096], point[4096], fs[64], opts[1024], *l, *save = NULL;
	char *sep, *out = NULL;

	for (l = buf ? strtok_r(buf, "\n", &save) : NULL; l && !out;
	     l = strtok_r(NULL, "\n", &save)) {
		sep = strstr(l, " - ");
		if (!sep ||
		    sscanf(l, "%*s %*s %*s %4095s %4095s", root, point) != 2 ||
		    sscanf(sep, " - %63s %*s %1023s", fs, opts) != 2)
			continue;
		if (match(root, fs, opts, arg))
			out = strdup(point);
	}
	free(buf);
	if (!out)
		errno = ENOENT;
	return out;
}

static int whole_of(const char *root, const char *fs, const char *opts,
		    const void *arg)
{
	const char *controllers = arg;

	if (strcmp(root, "/"))
		return 0;
	return *controllers ? !strcmp(fs, "cgroup") &&
			      cg_opts_have(opts, controllers) :
	       !strcmp(fs, "cgroup2");
}

char *cg_mount_of(const char *controllers)
{
	return find_mount(whole_of, controllers);
}

struct sb_want {
	const char *fstype, *opts;
};

/* opts less "rw" or "ro" and any release_agent= is want->opts */
static int same_sb(const char *root, const char *fs, const char *opts,
		   const void *arg)
{
	const struct sb_want *w = arg;
	char in[1024], buf[1024], *t, *save = NULL;
	size_t n = 0;

	(void)root;
	if (strcmp(fs, w->fstype))
		return 0;
	snprintf(in, sizeof(in), "%s", opts);
	buf[0] = '\0';
	for (t = strtok_r(in, ",", &save); t && n < sizeof(buf);
	     t = strtok_r(NULL, ",", &save))
		if (strcmp(t, "rw") && strcmp(t, "ro") &&
		    strncmp(t, "release_agent=", 14))
			n += snprintf(buf + n, sizeof(buf) - n, "%s%s",
				      n ? "," : "", t);
	return n < sizeof(buf) && !strcmp(buf, w->opts);
}

int cg_sb_mounted(const char *fstype, const char *opts)
{
	struct sb_want w = { fstype, opts };
	char *p = find_mount(same_sb, &w);

	free(p);
	return !!p;
}

char *cg_path_of(const char *text, const char *controllers)
{
	size_t n = strlen(controllers);
	const char *l, *c, *end;

	for (l = text; l && *l; l = *end ? end + 1 : NULL) {
		end = strchrnul(l, '\n');
		c = memchr(l, ':', end - l);
		if (c && end - c > (long)n + 1 && !strncmp(c + 1, controllers, n) &&
		    c[n + 1] == ':')
			return strndup(c + n + 2, end - c - n - 2);
	}
	return NULL;
}
