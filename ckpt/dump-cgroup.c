/*
 * The cgroups of the tree. Every process of the tree must be in the
 * root's cgroups (one per hierarchy, /proc/PID/cgroup); a hierarchy where
 * the root's cgroup is not ckpt's own becomes a CGROUP record, with its
 * controllers' settings (the files img_cg_setting_ok() allows, as they
 * read; a v1 devices cgroup's rules too), for restore to put the tree
 * there again. A tree spread over
 * several cgroups of a hierarchy is refused, naming the process.
 *
 * The root's cgroup namespace of its own (dump-ns.c) is recorded by its
 * root cgroup in each hierarchy: the root's cgroup as ckpt sees it less
 * the same as the namespace shows it (the path inside ends it), so that
 * restore can make the namespace at the same place again.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ckpt/dump-priv.h"
#include "util/cgroup.h"

static char *cgroups_of(pid_t pid)
{
	char path[64];

	if (pid)
		snprintf(path, sizeof(path), "/proc/%d/cgroup", pid);
	else
		snprintf(path, sizeof(path), "/proc/self/cgroup");
	return read_file_str(path, NULL);
}

static int push_setting(struct img_cgroup *cg, const char *name, char *v)
{
	struct img_cg_setting *s;

	s = realloc(cg->settings, (cg->nr_settings + 1) * sizeof(*s));
	if (!s) {
		free(v);
		return -1;
	}
	cg->settings = s;
	s[cg->nr_settings].name = strdup(name);
	s[cg->nr_settings++].value = v;
	return s[cg->nr_settings - 1].name ? 0 : -1;
}

/*
 * A v1 devices cgroup's rules (runc allows a container a few devices):
 * devices.list read, and made settings that deny all, then allow each
 * of its lines again; one that allows everything needs none.
 */
static int add_devices(struct img_cgroup *cg, const char *dir)
{
	char path[8400], *list, *l, *save = NULL, *v;
	int ret = 0;

	snprintf(path, sizeof(path), "%s/devices.list", dir);
	list = read_file_str(path, NULL);
	if (!list || !strcmp(list, "a *:* rwm\n")) {
		free(list);
		return 0;
	}
	v = strdup("a");
	ret = !v || push_setting(cg, "devices.deny", v);
	for (l = strtok_r(list, "\n", &save); l && !ret;
	     l = strtok_r(NULL, "\n", &save)) {
		v = strdup(l);
		ret = !v || push_setting(cg, "devices.allow", v);
	}
	free(list);
	return ret ? -1 : 0;
}

static int add_setting(struct img_cgroup *cg, const char *dir,
		       const char *name)
{
	char path[8400], *v, *nl;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	v = read_file_str(path, NULL);
	if (!v)
		return 0;	/* no such controller file here */
	nl = strchr(v, '\n');
	if (nl)
		*nl = '\0';
	return push_setting(cg, name, v);
}

/* A CGROUP record for line "ID:controllers:path" of the root's */
static int add_cgroup(struct dump_tree *t, const char *line, size_t len)
{
	char *l = strndup(line, len), *c, *p, *mnt = NULL, dir[4200];
	struct img_cgroup *cg;
	size_t i;
	int ret = -1;

	c = l ? strchr(l, ':') : NULL;
	p = c ? strchr(c + 1, ':') : NULL;
	if (!p)
		goto out;
	*p++ = '\0';
	c++;
	cg = realloc(t->cgroups, (t->nr_cgroups + 1) * sizeof(*cg));
	if (!cg)
		goto out;
	t->cgroups = cg;
	cg = &t->cgroups[t->nr_cgroups++];
	memset(cg, 0, sizeof(*cg));
	cg->controllers = strdup(c);
	cg->path = strdup(p);
	if (!cg->controllers || !cg->path)
		goto out;
	mnt = cg_mount_of(c);
	if (!mnt) {
		pr_err("can't dump %d: its cgroup %s of \"%s\" is in no hierarchy mounted here",
		       t->procs[0].pid, p, c);
		goto out;
	}
	snprintf(dir, sizeof(dir), "%s%s", mnt, p);
	for (i = 0; img_cg_setting(i); i++)
		if (add_setting(cg, dir, img_cg_setting(i)))
			goto out;
	if (!strcmp(c, "devices") && add_devices(cg, dir))
		goto out;
	if (cg->nr_settings > IMG_MAX_CG_SETTINGS) {
		pr_err("can't dump %d: its cgroup %s of \"%s\" has more than %d settings",
		       t->procs[0].pid, p, c, IMG_MAX_CG_SETTINGS);
		goto out;
	}
	ret = 0;
out:
	free(mnt);
	free(l);
	return ret;
}

static int same_cgroups(const struct dump_tree *t, const char *root)
{
	char *mine;
	int i, same;

	for (i = 1; i < t->n; i++) {
		if (t->procs[i].proc.proc.zombie)
			continue;
		mine = cgroups_of(t->procs[i].pid);
		same = mine && !strcmp(mine, root);
		free(mine);
		if (!same) {
			pr_err("can't dump %d: its cgroups are not those of %d, the root: not supported yet",
			       t->procs[i].pid, t->procs[0].pid);
			return 0;
		}
	}
	return 1;
}

int dump_tree_cgroups(struct dump_tree *t)
{
	char *root = cgroups_of(t->procs[0].pid), *own = cgroups_of(0);
	const char *l, *o, *colon, *end;
	int ret = -1;

	if (!root || !own) {
		pr_perror("can't read the cgroups of %d", t->procs[0].pid);
		goto out;
	}
	if (!same_cgroups(t, root))
		goto out;
	for (l = root; *l; l = *end ? end + 1 : end) {
		end = strchrnul(l, '\n');
		colon = memchr(l, ':', end - l);
		colon = colon ? memchr(colon + 1, ':', end - colon - 1) : NULL;
		if (!colon)
			continue;
		for (o = own; o && *o; o = strchr(o, '\n') ? strchr(o, '\n') + 1 :
			 NULL)
			if (!strncmp(o, l, colon + 1 - l))
				break;
		/* the same cgroup as ckpt's: restore's is the tree's */
		if (o && *o && !strncmp(o, l, end - l) &&
		    (o[end - l] == '\n' || !o[end - l]))
			continue;
		if (add_cgroup(t, l, end - l))
			goto out;
	}
	ret = 0;
out:
	free(root);
	free(own);
	return ret;
}

/* c, the controllers, is ns's then */
static int push_cgns(struct img_ns *ns, char *c, const char *host,
		     const char *inner)
{
	size_t hl = strlen(host), il = strcmp(inner, "/") ? strlen(inner) : 0;
	struct img_cgns *n = realloc(ns->cgns, (ns->nr_cgns + 1) * sizeof(*n));

	if (!n) {
		free(c);
		return -1;
	}
	ns->cgns = n;
	n = &n[ns->nr_cgns++];
	n->controllers = c;
	n->inner = strdup(inner);
	/* host is the root followed by inner ("/" for the root itself) */
	n->root = hl == il ? strdup("/") : strndup(host, hl - il);
	return n->controllers && n->inner && n->root ? 0 : -1;
}

int dump_cgns_read(pid_t pid, const char *inner, struct img_ns *ns)
{
	char *host = cgroups_of(pid), *h = NULL, *in = NULL, *c = NULL;
	const char *l, *end, *a, *b;
	size_t hl, il;
	int ret = -1, pushed;

	if (!host) {
		pr_perror("can't read the cgroups of %d", pid);
		return -1;
	}
	for (l = host; *l; l = *end ? end + 1 : end) {
		end = strchrnul(l, '\n');
		a = memchr(l, ':', end - l);
		b = a ? memchr(a + 1, ':', end - a - 1) : NULL;
		if (!b)
			continue;
		free(h);
		free(in);
		free(c);
		h = strndup(b + 1, end - b - 1);
		c = strndup(a + 1, b - a - 1);
		in = c ? cg_path_of(inner, c) : NULL;
		if (!h || !in) {
			pr_err("can't dump %d: its cgroup namespace does not show its hierarchy %.*s",
			       pid, (int)(end - l), l);
			goto out;
		}
		hl = strlen(h);
		il = strcmp(in, "/") ? strlen(in) : 0;
		if (in[0] != '/' || !strncmp(in, "/..", 3) ||
		    (il && (il > hl || strcmp(h + hl - il, in)))) {
			pr_err("can't dump %d: its cgroup %s of \"%s\" is %s in its cgroup namespace, not below the namespace's root: not supported",
			       pid, h, c, in);
			goto out;
		}
		pushed = push_cgns(ns, c, h, in);
		c = NULL;
		if (pushed)
			goto out;
	}
	ret = 0;
out:
	free(c);
	free(h);
	free(in);
	free(host);
	return ret;
}

int dump_write_cgroups(const struct dump_tree *t, struct img_writer *w)
{
	uint32_t i;

	for (i = 0; i < t->nr_cgroups; i++)
		if (img_write_cgroup(w, &t->cgroups[i]))
			return -1;
	return 0;
}

void dump_free_cgroups(struct dump_tree *t)
{
	uint32_t i, k;

	for (i = 0; i < t->nr_cgroups; i++) {
		for (k = 0; k < t->cgroups[i].nr_settings; k++) {
			free(t->cgroups[i].settings[k].name);
			free(t->cgroups[i].settings[k].value);
		}
		free(t->cgroups[i].settings);
		free(t->cgroups[i].controllers);
		free(t->cgroups[i].path);
	}
	free(t->cgroups);
	t->cgroups = NULL;
	t->nr_cgroups = 0;
}
