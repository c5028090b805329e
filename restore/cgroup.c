/*
 * The tree's cgroups (CGROUP records): before any process of the tree
 * exists, each is made in its hierarchy (its path, below --cgroup-root
 * when given), its directories created where missing and its settings
 * written in order, and its cgroup.procs opened; the root writes itself
 * there first thing, before it makes its children, which inherit it. A
 * cgroup that can't be made fails the restore before any process of the
 * tree exists; the directories it made are removed again when the
 * restore fails (the tree killed and reaped first).
 *
 * The root's cgroup namespace (an NS record of kind cgroup) is made
 * there too: in each hierarchy the namespace's root is the root's cgroup
 * (the CGROUP record's below --cgroup-root, or restore's own where there
 * is none) less its path inside the namespace. The root writes itself
 * into those roots, unshares CLONE_NEWCGROUP and only then into its own
 * cgroups, below them, so that it and its children see inside exactly
 * what they saw before the dump.
 */
#include <sys/stat.h>
#include <errno.h>
#include <sched.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "restore/restore.h"
#include "util/cgroup.h"

static int note_made(struct restore_run *run, const char *d)
{
	char **n = realloc(run->cg.made, (run->cg.nr_made + 1) * sizeof(*n));

	if (!n)
		return -1;
	run->cg.made = n;
	n[run->cg.nr_made] = strdup(d);
	return n[run->cg.nr_made++] ? 0 : -1;
}

/* mkdir -p of dir below its mount point (mnt bytes), noting what it made */
static int make_dirs(struct restore_run *run, const char *dir, size_t mnt)
{
	size_t i, len = strlen(dir);
	char d[8200];

	snprintf(d, sizeof(d), "%s", dir);
	for (i = mnt + 1; i <= len; i++) {
		if (d[i] != '/' && d[i])
			continue;
		d[i] = '\0';
		if (!mkdir(d, 0755) ? note_made(run, d) : errno != EEXIST)
			return -1;
		d[i] = dir[i];
	}
	return 0;
}

static int write_setting(const char *dir, const struct img_cg_setting *s)
{
	char path[8400];
	int fd, ret;

	snprintf(path, sizeof(path), "%s/%s", dir, s->name);
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	ret = write_full(fd, s->value, strlen(s->value));
	close(fd);
	return ret;
}

static int make_one(struct restore_run *run, const struct img_cgroup *cg,
		    int *procs)
{
	char *mnt = cg_mount_of(cg->controllers), dir[8200], path[8400];
	const char *root = run->cg.root ? run->cg.root : "";
	uint32_t i;

	if (!mnt) {
		pr_err("%s: no cgroup hierarchy of \"%s\" here", run->path,
		       cg->controllers);
		return -1;
	}
	snprintf(dir, sizeof(dir), "%s%s%s", mnt, root,
		 strcmp(cg->path, "/") ? cg->path : "");
	if (make_dirs(run, dir, strlen(mnt))) {
		pr_perror("can't create cgroup %s", dir);
		free(mnt);
		return -1;
	}
	free(mnt);
	for (i = 0; i < cg->nr_settings; i++)
		if (write_setting(dir, &cg->settings[i])) {
			pr_perror("can't set %s of cgroup %s to %s",
				  cg->settings[i].name, dir,
				  cg->settings[i].value);
			return -1;
		}
	snprintf(path, sizeof(path), "%s/cgroup.procs", dir);
	*procs = open(path, O_WRONLY | O_CLOEXEC);
	if (*procs < 0) {
		pr_perror("can't open %s", path);
		return -1;
	}
	return 0;
}

static int open_procs(const char *mnt, const char *path, int *fd)
{
	char p[8400];

	snprintf(p, sizeof(p), "%s%s/cgroup.procs", mnt,
		 strcmp(path, "/") ? path : "");
	*fd = open(p, O_WRONLY | O_CLOEXEC);
	if (*fd < 0)
		pr_perror("can't open %s", p);
	return *fd < 0 ? -1 : 0;
}

/* Where the root goes in the hierarchy of c: the CGROUP record's cgroup
 * (below --cgroup-root), or restore's own; *rec whether a record */
static char *final_cgroup(const struct restore_run *run,
			  const struct img_cgns *c, int *rec)
{
	const char *root = run->cg.root ? run->cg.root : "";
	char *own, *out = NULL;
	uint32_t i;

	for (i = 0; i < run->img->nr_cgroups; i++)
		if (!strcmp(run->img->cgroups[i].controllers, c->controllers)) {
			*rec = 1;
			if (asprintf(&out, "%s%s", root,
				     strcmp(run->img->cgroups[i].path, "/") ||
				     !*root ? run->img->cgroups[i].path : "") < 0)
				return NULL;
			return out;
		}
	*rec = 0;
	own = read_file_str("/proc/self/cgroup", NULL);
	out = own ? cg_path_of(own, c->controllers) : NULL;
	free(own);
	if (!out)
		pr_err("%s: restore is in no cgroup of \"%s\"", run->path,
		       c->controllers);
	return out;
}

/* The namespace's root in the hierarchy of c opened (the root's cgroup
 * less the path inside) unless restore is in it, and the root's cgroup
 * after it if not a CGROUP record's */
static int open_cgns(struct restore_run *run, const struct img_cgns *c,
		     int *ns_fd, int *back_fd)
{
	char *mnt = cg_mount_of(c->controllers), *f = NULL;
	size_t fl, il = strcmp(c->inner, "/") ? strlen(c->inner) : 0;
	int rec, ret = -1;

	if (!mnt) {
		pr_err("%s: no cgroup hierarchy of \"%s\" here", run->path,
		       c->controllers);
		return -1;
	}
	f = final_cgroup(run, c, &rec);
	if (!f)
		goto out;
	fl = strlen(f);
	if (il && (il > fl || strcmp(f + fl - il, c->inner))) {
		pr_err("%s: the root's cgroup %s of \"%s\" does not end with %s, its path in its cgroup namespace",
		       run->path, f, c->controllers, c->inner);
		goto out;
	}
	ret = 0;
	if (!il) {	/* the namespace's root itself, restore's or made */
		if (rec)
			ret = open_procs(mnt, f, ns_fd);
		goto out;
	}
	if (!rec)
		ret = open_procs(mnt, f, back_fd);
	f[fl - il] = '\0';
	if (!ret)
		ret = open_procs(mnt, *f ? f : "/", ns_fd);
out:
	free(f);
	free(mnt);
	return ret;
}

static int open_cgnss(struct restore_run *run)
{
	const struct img_ns *ns = img_find_ns(run->img, IMG_NS_CGROUP,
					      run->img->procs[0].proc.pid);
	uint32_t i;

	if (!ns)
		return 0;
	run->cg.ns_fds = malloc(ns->nr_cgns * sizeof(int) + 1);
	run->cg.back_fds = malloc(ns->nr_cgns * sizeof(int) + 1);
	if (!run->cg.ns_fds || !run->cg.back_fds)
		return -1;
	for (i = 0; i < ns->nr_cgns; i++)
		run->cg.ns_fds[i] = run->cg.back_fds[i] = -1;
	for (i = 0; i < ns->nr_cgns; i++)
		if (open_cgns(run, &ns->cgns[i], &run->cg.ns_fds[i],
			      &run->cg.back_fds[i]))
			return -1;
	return 0;
}

/* --cgroup-root moves the tree's cgroups, not a bind of a cgroup file
 * system among its mounts, which would then show other cgroups than its
 * own (a CGROUP mount, made in the restored cgroup namespace, follows) */
static int cgroup_mounts_stay(const struct restore_run *run)
{
	const struct img_mount *m;
	uint32_t i;

	for (i = 0; run->cg.root && i < run->img->nr_mounts; i++) {
		m = &run->img->mounts[i];
		if (m->kind != IMG_MNT_CGROUP && m->fstype &&
		    (!strcmp(m->fstype, "cgroup") ||
		     !strcmp(m->fstype, "cgroup2"))) {
			pr_err("%s: can't restore with --cgroup-root: the tree's mount on %s shows cgroup %s, which --cgroup-root would not move",
			       run->path, m->point, m->host ? m->host :
			       m->source);
			return -1;
		}
	}
	return 0;
}

int restore_cgroups_make(struct restore_run *run)
{
	uint32_t i, n = run->img->nr_cgroups;

	if (cgroup_mounts_stay(run))
		return -1;
	if (n == 0)
		return open_cgnss(run);
	run->cg.fds = malloc(n * sizeof(int));
	if (!run->cg.fds)
		return -1;
	for (i = 0; i < n; i++)
		run->cg.fds[i] = -1;
	for (i = 0; i < n; i++)
		if (make_one(run, &run->img->cgroups[i], &run->cg.fds[i]))
			return -1;
	return open_cgnss(run);
}

/* fds[i] for each hierarchy of the namespace, where it is one */
static int enter_each(const int *fds, const struct img_ns *ns)
{
	uint32_t i;

	for (i = 0; fds && i < ns->nr_cgns; i++)
		if (fds[i] >= 0 && write(fds[i], "0", 1) != 1)
			return -1;
	return 0;
}

int restore_cgroups_enter(const struct restore_run *run)
{
	const struct img_ns *ns = img_find_ns(run->img, IMG_NS_CGROUP,
					      run->img->procs[0].proc.pid);
	uint32_t i;

	if (ns && (enter_each(run->cg.ns_fds, ns) ||
		   unshare(CLONE_NEWCGROUP)))
		return -1;
	for (i = 0; run->cg.fds && i < run->img->nr_cgroups; i++)
		if (write(run->cg.fds[i], "0", 1) != 1)
			return -1;
	return ns ? enter_each(run->cg.back_fds, ns) : 0;
}

static void close_cgnss(struct restore_run *run)
{
	const struct img_ns *ns = run->img ?
		img_find_ns(run->img, IMG_NS_CGROUP,
			    run->img->procs[0].proc.pid) : NULL;
	uint32_t i;

	for (i = 0; ns && run->cg.ns_fds && run->cg.back_fds &&
		    i < ns->nr_cgns; i++) {
		if (run->cg.ns_fds[i] >= 0)
			close(run->cg.ns_fds[i]);
		if (run->cg.back_fds[i] >= 0)
			close(run->cg.back_fds[i]);
	}
	free(run->cg.ns_fds);
	free(run->cg.back_fds);
	run->cg.ns_fds = run->cg.back_fds = NULL;
}

void restore_cgroups_close(struct restore_run *run, int failed)
{
	uint32_t i;

	for (i = 0; run->cg.fds && run->img && i < run->img->nr_cgroups; i++)
		if (run->cg.fds[i] >= 0)
			close(run->cg.fds[i]);
	free(run->cg.fds);
	run->cg.fds = NULL;
	close_cgnss(run);
	for (i = run->cg.nr_made; i-- > 0;) {
		if (failed && rmdir(run->cg.made[i]))
			pr_warn("can't remove cgroup %s: %s", run->cg.made[i],
				strerror(errno));
		free(run->cg.made[i]);
	}
	free(run->cg.made);
	run->cg.made = NULL;
	run->cg.nr_made = 0;
}
