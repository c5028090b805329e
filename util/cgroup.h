/*
 * cgroup.h: where this host mounts the cgroup hierarchies, for both
 * layouts: pure v2 (one cgroup2 at /sys/fs/cgroup) and hybrid (v1
 * hierarchies, each with its controllers, and cgroup2 without any, at
 * /sys/fs/cgroup/unified).
 */
#ifndef CKPT_UTIL_CGROUP_H
#define CKPT_UTIL_CGROUP_H

/* The mount point of the hierarchy of controllers ("cpu,cpuacct",
 * "name=systemd"; "" for cgroup v2), as /proc/self/cgroup names it:
 * malloc'd, or NULL with errno ENOENT when this host has none */
char *cg_mount_of(const char *controllers);
/* The path of the line "ID:controllers:path" of text (a /proc/PID/cgroup
 * read), malloc'd; NULL if none */
char *cg_path_of(const char *text, const char *controllers);
/* Does this mount namespace have a mount of fstype ("cgroup",
 * "cgroup2") whose super block options, "rw" or "ro" and release_agent=
 * left out, are opts: a hierarchy that a mount with opts would only show
 * again, neither make nor change? */
int cg_sb_mounted(const char *fstype, const char *opts);
/* Is every comma-separated word of want among those of opts? */
int cg_opts_have(const char *opts, const char *want);

#endif
