/*
 * The tree's cgroups (CGROUP records): before any process of the tree
 * exists, each is made in its hierarchy (its path, below --cgroup-root
 * when given), its directories created where missing and its settings
 * written in order, and its cgroup.procs opened; the root writes itself
 * there first thing, before it makes its children, which inherit it. A
 * cgroup that can't be made fails the restore before any process of the
 * tree exists; the directories it made are removed again when the
 * restore fails (the tree killed and reaped first).
 */
#include <sys/stat.h>
#include <errno.h>
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

int restore_cgroups_make(struct restore_run *run)
{
	uint32_t i, n = run->img->nr_cgroups;

	if (!n)
		return 0;
	run->cg.fds = malloc(n * sizeof(int));
	if (!run->cg.fds)
		return -1;
	for (i = 0; i < n; i++)
		run->cg.fds[i] = -1;
	for (i = 0; i < n; i++)
		if (make_one(run, &run->img->cgroups[i], &run->cg.fds[i]))
			return -1;
	return 0;
}

int restore_cgroups_enter(const struct restore_run *run)
{
	uint32_t i;

	for (i = 0; run->cg.fds && i < run->img->nr_cgroups; i++)
		if (write(run->cg.fds[i], "0", 1) != 1)
			return -1;
	return 0;
}

void restore_cgroups_close(struct restore_run *run, int failed)
{
	uint32_t i;

	for (i = 0; run->cg.fds && run->img && i < run->img->nr_cgroups; i++)
		if (run->cg.fds[i] >= 0)
			close(run->cg.fds[i]);
	free(run->cg.fds);
	run->cg.fds = NULL;
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
