/*
 * The user namespace of the tree (check_user, dump-ns.c): its uid_map
 * and gid_map read from /proc/ROOT as ckpt's own namespace sees them
 * (user_namespaces(7): the outer ids are those of the reader's
 * namespace), and /proc/ROOT/setgroups.
 */
#include <sys/stat.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ckpt/dump-priv.h"

/* "inner outer count" lines, at most IMG_MAX_IDMAP */
static int read_map(pid_t pid, const char *file, struct img_idmap **map,
		    uint32_t *n)
{
	char path[64], *buf, *l, *save = NULL;
	struct img_idmap m;

	snprintf(path, sizeof(path), "/proc/%d/%s", pid, file);
	buf = read_file_str(path, NULL);
	if (!buf) {
		pr_perror("can't read %s", path);
		return -1;
	}
	*map = calloc(IMG_MAX_IDMAP, sizeof(**map));
	*n = 0;
	for (l = strtok_r(buf, "\n", &save); *map && l;
	     l = strtok_r(NULL, "\n", &save)) {
		if (sscanf(l, "%u %u %u", &m.inner, &m.outer, &m.count) != 3 ||
		    *n == IMG_MAX_IDMAP) {
			pr_err("can't parse %s: %.60s", path, l);
			free(buf);
			return -1;
		}
		(*map)[(*n)++] = m;
	}
	free(buf);
	return *map ? 0 : -1;
}

int dump_userns_read(pid_t pid, struct img_ns *ns)
{
	char path[64], *s;

	if (read_map(pid, "uid_map", &ns->uid_map, &ns->nr_uid_map) ||
	    read_map(pid, "gid_map", &ns->gid_map, &ns->nr_gid_map))
		return -1;
	snprintf(path, sizeof(path), "/proc/%d/setgroups", pid);
	s = read_file_str(path, NULL);
	if (!s) {
		pr_perror("can't read %s", path);
		return -1;
	}
	ns->setgroups_deny = !strncmp(s, "deny", 4);
	free(s);
	if (ns->nr_uid_map && ns->nr_gid_map)
		return 0;
	/* a namespace with no map yet: no id of it means anything */
	pr_err("can't dump %d: its user namespace user:[%llu] has no %s yet",
	       pid, (unsigned long long)ns->id,
	       ns->nr_uid_map ? "gid_map" : "uid_map");
	return -1;
}

int dump_userns_enter(pid_t pid)
{
	char path[64];
	struct stat a, b;
	int fd, ret;

	snprintf(path, sizeof(path), "/proc/%d/ns/user", pid);
	if (stat(path, &a) || stat("/proc/self/ns/user", &b))
		return -1;
	if (a.st_ino == b.st_ino)
		return 0;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	ret = setns(fd, CLONE_NEWUSER);
	close(fd);
	return ret;
}

void dump_free_userns(struct dump_tree *t)
{
	uint32_t i;

	for (i = 0; i < t->nr_nss; i++) {
		free(t->nss[i].uid_map);
		free(t->nss[i].gid_map);
	}
}
