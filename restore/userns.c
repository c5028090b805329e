/*
 * The tree's user namespace (an NS record of kind USER, the root's).
 * It is made first, with the root itself (clone3 CLONE_NEWUSER, with
 * CLONE_NEWPID for a container's init), so that every namespace made
 * after it (the PID namespace made with it, the UTS, IPC, mount and
 * network ones the root makes in its child) is owned by it, as the
 * original's were: a process of the tree with capabilities in the user
 * namespace has them over those. restore, in the parent namespace with
 * CAP_SETUID and CAP_SETGID there, writes the maps (user_namespaces(7):
 * only such a writer may write more than one line, and setgroups before
 * gid_map); the root waits for that before anything else.
 *
 * The image's ids are as ckpt's namespace saw them; the root starts
 * with restore's (root here, every capability in the new namespace),
 * and creds.c gives each process its ids as the namespace maps them.
 * Supplementary groups: a namespace whose setgroups is "deny" lets no
 * one set them, and a process may hold groups the maps leave out
 * (inherited from the namespace's creator): so restore takes the root's
 * groups itself while it makes the root, which the root and its
 * children inherit; a process with other groups gets them from
 * setgroups(2), which needs "allow" and every group mapped.
 */
#include <sys/types.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <linux/capability.h>
#include <linux/sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "restore/restore.h"

static const struct img_ns *userns_of(const struct restore_run *run)
{
	const struct image *img = run->img;

	if (run->userns.ns)
		return run->userns.ns;
	return img_find_ns(img, IMG_NS_USER, img->procs[0].proc.pid);
}

uint64_t restore_userns_flag(const struct restore_run *run)
{
	return userns_of(run) ? CLONE_NEWUSER : 0;
}

static int same_groups(const struct img_proc *a, const struct img_proc *b)
{
	return a->nr_groups == b->nr_groups &&
	       (!a->nr_groups || !memcmp(a->groups, b->groups,
					 a->nr_groups * sizeof(*a->groups)));
}

static int64_t map_id(const struct img_ns *ns, uint32_t id, int gid)
{
	return gid ? img_idmap_inner(ns->gid_map, ns->nr_gid_map, id) :
		     img_idmap_inner(ns->uid_map, ns->nr_uid_map, id);
}

static int check_proc(const struct restore_run *run, const struct img_ns *ns,
		      const struct img_proc *p)
{
	const uint32_t ids[6] = { p->uid, p->euid, p->suid,
				  p->gid, p->egid, p->sgid };
	uint32_t i;

	for (i = 0; i < 6; i++)
		if (map_id(ns, ids[i], i >= 3) < 0)
			goto unmapped;
	if (same_groups(p, &run->img->procs[0].proc))
		return 0;
	if (ns->setgroups_deny) {
		pr_err("%s: process %d has other groups than the root, in a user namespace whose setgroups is deny",
		       run->path, p->pid);
		return -1;
	}
	for (i = 0; i < p->nr_groups; i++)
		if (map_id(ns, p->groups[i], 1) < 0) {
			pr_err("%s: group %u of process %d is not mapped in its user namespace",
			       run->path, p->groups[i], p->pid);
			return -1;
		}
	return 0;
unmapped:
	pr_err("%s: %s %u of process %d is not mapped in its user namespace",
	       run->path, i >= 3 ? "gid" : "uid", ids[i], p->pid);
	return -1;
}

int restore_userns_check(const struct restore_run *run)
{
	const struct image *img = run->img;
	const struct img_ns *ns = run->userns.ns;
	uint32_t i;

	for (i = 0; !ns && i < img->nr_nss; i++)
		if (img->nss[i].kind == IMG_NS_USER)
			ns = &img->nss[i];
	if (!ns)
		return 0;
	if (ns != userns_of(run)) {
		pr_err("%s: the user namespace is made by %u, not by the root",
		       run->path, ns->owner);
		return -1;
	}
	for (i = 0; i < img->nr_procs; i++)
		if (!img->procs[i].proc.zombie &&
		    check_proc(run, ns, &img->procs[i].proc))
			return -1;
	return 0;
}

void restore_userns_ids(const struct restore_run *run,
			const struct img_proc *p, uint32_t ids[6],
			uint32_t *groups, int *keep)
{
	const struct img_ns *ns = userns_of(run);
	uint32_t i;

	ids[0] = p->uid;
	ids[1] = p->euid;
	ids[2] = p->suid;
	ids[3] = p->gid;
	ids[4] = p->egid;
	ids[5] = p->sgid;
	memcpy(groups, p->groups, p->nr_groups * sizeof(*groups));
	*keep = 0;
	if (!ns)
		return;
	/* all mapped: restore_userns_check() */
	for (i = 0; i < 6; i++)
		ids[i] = map_id(ns, ids[i], i >= 3);
	*keep = same_groups(p, &run->img->procs[0].proc);
	for (i = 0; !*keep && i < p->nr_groups; i++)
		groups[i] = map_id(ns, groups[i], 1);
}

int restore_userns_rootless(struct restore_run *run)
{
	struct img_ns *ns = &run->userns.self;

	if (!run->pidns.on || userns_of(run) ||
	    (run->host.own_caps.eff & (1ULL << CAP_SYS_ADMIN)))
		return 0;
	run->userns.self_uid = (struct img_idmap){ geteuid(), geteuid(), 1 };
	run->userns.self_gid = (struct img_idmap){ getegid(), getegid(), 1 };
	ns->kind = IMG_NS_USER;
	ns->owner = run->img->procs[0].proc.pid;
	ns->uid_map = &run->userns.self_uid;
	ns->gid_map = &run->userns.self_gid;
	ns->nr_uid_map = ns->nr_gid_map = 1;
	/* an unprivileged writer of gid_map must deny setgroups first */
	ns->setgroups_deny = 1;
	run->userns.ns = ns;
	pr_info("restoring without CAP_SYS_ADMIN: in a new user namespace mapping uid %u and gid %u to themselves",
		geteuid(), getegid());
	return restore_userns_check(run);
}

/* Are the root's groups restore's already? (Without privilege restore
 * can't change its own.) */
static int own_groups(const struct img_proc *root, const gid_t *g, int n)
{
	return (uint32_t)n == root->nr_groups &&
	       (!n || !memcmp(g, root->groups, n * sizeof(*g)));
}

int restore_userns_before(struct restore_run *run)
{
	const struct img_proc *root = &run->img->procs[0].proc;
	gid_t *g;
	int n;

	if (!userns_of(run))
		return 0;
	n = getgroups(0, NULL);
	g = calloc(n > 0 ? n : 1, sizeof(*g));
	if (n < 0 || !g || getgroups(n, g) != n)
		goto err;
	run->userns.own = g;
	run->userns.nr_own = n;
	if (pipe2(run->userns.go, O_CLOEXEC))
		goto err;
	if (own_groups(root, g, n) || !setgroups(root->nr_groups, root->groups))
		return 0;
	pr_perror("can't take the groups of the image's root");
	return -1;
err:
	pr_perror("can't prepare the user namespace");
	return -1;
}

static int write_map(pid_t pid, const char *file, const struct img_idmap *map,
		     uint32_t n)
{
	char path[64], *buf = malloc(n * 36 + 1);
	size_t len = 0;
	uint32_t i;
	int fd, ret = -1;

	snprintf(path, sizeof(path), "/proc/%d/%s", pid, file);
	for (i = 0; buf && i < n; i++)
		len += sprintf(buf + len, "%u %u %u\n", map[i].inner,
			       map[i].outer, map[i].count);
	fd = open(path, O_WRONLY | O_CLOEXEC);
	/* one write(2): the kernel takes a map once */
	if (buf && fd >= 0 && write(fd, buf, len) == (ssize_t)len)
		ret = 0;
	else
		pr_perror("can't write %s of the new user namespace", file);
	if (fd >= 0)
		close(fd);
	free(buf);
	return ret;
}

static int write_maps(pid_t pid, const struct img_ns *ns)
{
	const char *sg = ns->setgroups_deny ? "deny" : "allow";
	char path[64];
	int fd, ret;

	snprintf(path, sizeof(path), "/proc/%d/setgroups", pid);
	fd = open(path, O_WRONLY | O_CLOEXEC);
	ret = fd >= 0 && write(fd, sg, strlen(sg)) == (ssize_t)strlen(sg);
	if (fd >= 0)
		close(fd);
	if (!ret) {
		pr_perror("can't write setgroups of the new user namespace");
		return -1;
	}
	return write_map(pid, "uid_map", ns->uid_map, ns->nr_uid_map) ||
	       write_map(pid, "gid_map", ns->gid_map, ns->nr_gid_map) ? -1 : 0;
}

static void close_go(struct restore_run *run)
{
	int i;

	for (i = 0; i < 2; i++)
		if (run->userns.go[i] >= 0) {
			close(run->userns.go[i]);
			run->userns.go[i] = -1;
		}
}

int restore_userns_after(struct restore_run *run, pid_t child)
{
	const struct img_ns *ns = userns_of(run);
	int ret = 0;

	if (!ns)
		return 0;
	if (run->userns.own &&
	    !own_groups(&run->img->procs[0].proc, run->userns.own,
			run->userns.nr_own) &&
	    setgroups(run->userns.nr_own, run->userns.own)) {
		pr_perror("can't take restore's own groups back");
		ret = -1;
	}
	free(run->userns.own);
	run->userns.own = NULL;
	if (child > 0 && !ret)
		ret = write_maps(child, ns);
	/* without the byte the root reads end of file and fails */
	if (child > 0 && !ret && write(run->userns.go[1], "", 1) != 1) {
		pr_perror("can't tell the root its user namespace is ready");
		ret = -1;
	}
	close_go(run);
	return ret;
}

int restore_userns_wait(struct restore_run *run)
{
	char c;
	ssize_t n;

	if (run->userns.go[0] < 0)
		return 0;
	close(run->userns.go[1]);
	while ((n = read(run->userns.go[0], &c, 1)) < 0 && errno == EINTR)
		;
	close(run->userns.go[0]);
	run->userns.go[0] = run->userns.go[1] = -1;
	if (n == 1)
		return 0;
	errno = ECHILD;
	return -1;
}
