/*
 * dump-mnt: the mounts of a tree whose root has a mount namespace of its
 * own that shows other mounts than ckpt's. Its /proc/ROOT/mountinfo is
 * read against ckpt's own. When the tree's / is ckpt's, the mounts that
 * are copies of ckpt's (same point, device, root and type, as unshare
 * made them) are left to restore's copy and the others become MOUNT
 * records; when it is not (pivot_root into a directory of the host),
 * every mount does, the root first (a ROOT record naming that directory).
 * Each is named by kind: a mount of a file system that ckpt's namespace
 * also has mounted is a bind mount of the host path that reaches its
 * root; a tmpfs of the tree's own is saved with its files (MNTFILE
 * records: read through a copy of the namespace in which the mounts
 * above it are taken away, so that hidden files are saved too); proc,
 * sysfs, mqueue and devpts are mounted anew, and so is a cgroup or
 * cgroup2 that shows its hierarchy from the root of the tree's cgroup
 * namespace (dump_mnt_cgroups(), once that namespace is known); an
 * overlay is recorded with
 * its options, its layers host paths that restore finds again (checked
 * by ovl_layer_ok(); their files are not saved). Anything else, a bind source
 * no host path reaches, or a propagation restore cannot make again, is
 * refused naming the process and the mount.
 */
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ckpt/dump-priv.h"
#include "util/cgroup.h"

/* mountinfo's octal escapes (\040 a space) undone in place */
static void unescape(char *s)
{
	char *o = s;

	for (; *s; s++, o++) {
		if (s[0] == '\\' && s[1] >= '0' && s[1] <= '3' &&
		    s[2] >= '0' && s[2] <= '7' && s[3] >= '0' && s[3] <= '7') {
			*o = (s[1] - '0') << 6 | (s[2] - '0') << 3 | (s[3] - '0');
			s += 3;
		} else {
			*o = *s;
		}
	}
	*o = '\0';
}

static int parse_line(char *l, struct mi *m)
{
	char *f[6], *sep, *save = NULL;
	unsigned maj, min;
	int i;

	sep = strstr(l, " - ");
	if (!sep)
		return -1;
	*sep = '\0';
	for (i = 0; i < 6; i++)
		if (!(f[i] = strtok_r(i ? NULL : l, " ", &save)))
			return -1;
	m->prop = strtok_r(NULL, "", &save);
	if (!m->prop)
		m->prop = "";
	if (sscanf(f[0], "%d", &m->id) != 1 ||
	    sscanf(f[1], "%d", &m->parent) != 1 ||
	    sscanf(f[2], "%u:%u", &maj, &min) != 2)
		return -1;
	m->dev = makedev(maj, min);
	m->root = f[3];
	m->point = f[4];
	m->opts = f[5];
	save = NULL;
	m->fstype = strtok_r(sep + 3, " ", &save);
	m->source = strtok_r(NULL, " ", &save);
	m->super = strtok_r(NULL, " ", &save);
	if (!m->fstype || !m->source || !m->super)
		return -1;
	unescape(m->root);
	unescape(m->point);
	unescape(m->source);
	return 0;
}

int dump_mi_read(pid_t pid, struct mi_list *L)
{
	char path[64], *l, *save = NULL;
	struct mi *nm;

	memset(L, 0, sizeof(*L));
	snprintf(path, sizeof(path), "/proc/%d/mountinfo", pid);
	L->buf = read_file_str(path, NULL);
	if (!L->buf) {
		pr_perror("can't read %s", path);
		return -1;
	}
	for (l = strtok_r(L->buf, "\n", &save); l;
	     l = strtok_r(NULL, "\n", &save)) {
		nm = realloc(L->m, (L->n + 1) * sizeof(*nm));
		if (!nm)
			return -1;
		L->m = nm;
		memset(&L->m[L->n], 0, sizeof(*nm));
		if (parse_line(l, &L->m[L->n])) {
			pr_err("can't parse a line of %s", path);
			return -1;
		}
		L->n++;
	}
	return 0;
}

void dump_mi_free(struct mi_list *L)
{
	free(L->m);
	free(L->buf);
}

/* Parents before children (mountinfo need not list them so): the
 * indexes of L in that order; mounts over mounts are children */
int *dump_mi_order(const struct mi_list *L)
{
	int *ord = calloc(L->n + 1, sizeof(int)), *done = calloc(L->n + 1,
								 sizeof(int));
	int n = 0, i, j, moved = 1, ok;

	while (ord && done && n < L->n && moved) {
		moved = 0;
		for (i = 0; i < L->n; i++) {
			if (done[i])
				continue;
			for (ok = 1, j = 0; j < L->n; j++)
				if (L->m[j].id == L->m[i].parent && !done[j] &&
				    j != i)
					ok = 0;
			if (ok) {
				done[i] = moved = 1;
				ord[n++] = i;
			}
		}
	}
	free(done);
	if (ord && n < L->n) {
		pr_err("can't order the mounts of the tree's namespace");
		free(ord);
		return NULL;
	}
	return ord;
}

int dump_refuse_mnt(pid_t pid, const struct mi *m, const char *why)
{
	pr_err("can't dump %d: its mount on %s (%s %s, root %s): %s", pid,
	       m->point, m->fstype, m->source, m->root, why);
	return -1;
}

static const struct mi *host_of_dev(const struct mi_list *H, dev_t dev)
{
	int i;

	for (i = 0; i < H->n; i++)
		if (H->m[i].dev == dev)
			return &H->m[i];
	return NULL;
}

/* is root under (or at) top, a mountinfo root? the rest after it */
const char *dump_mi_under(const char *root, const char *top)
{
	size_t n = strlen(top);

	if (!strcmp(top, "/"))
		return root;
	if (strncmp(root, top, n) || (root[n] && root[n] != '/'))
		return NULL;
	return root + n;
}

/* The host path that leads to root of dev (a bind's source), or NULL */
static char *host_path(const struct mi_list *H, dev_t dev, const char *root)
{
	const struct mi *best = NULL;
	const char *rest;
	struct stat st;
	size_t len = 0;
	char *p;
	int i;

	for (i = 0; i < H->n; i++)
		if (H->m[i].dev == dev && dump_mi_under(root, H->m[i].root) &&
		    (!best || strlen(H->m[i].root) > len)) {
			best = &H->m[i];
			len = strlen(best->root);
		}
	if (!best)
		return NULL;
	rest = dump_mi_under(root, best->root);
	if (!strcmp(rest, "/"))
		rest = "";	/* the whole of it */
	if (asprintf(&p, "%s%s", strcmp(best->point, "/") || !*rest ?
		     best->point : "", rest) < 0)
		return NULL;
	if (stat(p, &st) || st.st_dev != dev) {
		free(p);
		return NULL;
	}
	return p;
}

/* MS_* of a mount's own options (mountinfo's sixth field) */
uint32_t dump_mi_flags(const char *opts)
{
	static const struct {
		const char *name;
		uint32_t flag;
	} names[] = {
		{ "ro", MS_RDONLY }, { "nosuid", MS_NOSUID },
		{ "nodev", MS_NODEV }, { "noexec", MS_NOEXEC },
		{ "noatime", MS_NOATIME }, { "nodiratime", MS_NODIRATIME },
		{ "relatime", MS_RELATIME },
	};
	char buf[256], *t, *save = NULL;
	uint32_t flags = 0;
	size_t i;

	snprintf(buf, sizeof(buf), "%s", opts);
	for (t = strtok_r(buf, ",", &save); t; t = strtok_r(NULL, ",", &save))
		for (i = 0; i < ARRAY_SIZE(names); i++)
			if (!strcmp(t, names[i].name))
				flags |= names[i].flag;
	if (!(flags & (MS_NOATIME | MS_RELATIME)))
		flags |= MS_STRICTATIME;
	return flags;
}

/* The propagation of m, or -1 having refused it */
static int propagation(pid_t pid, const struct mi_list *T,
		       const struct mi_list *H, const struct mi *m)
{
	int i;

	if (!*m->prop)
		return IMG_MNT_PRIVATE;
	if (!strcmp(m->prop, "unbindable"))
		return IMG_MNT_UNBINDABLE;
	if (!strncmp(m->prop, "shared:", 7) && !strchr(m->prop, ' ')) {
		for (i = 0; i < T->n; i++)
			if (&T->m[i] != m && !strcmp(T->m[i].prop, m->prop))
				break;
		if (i == T->n) {
			for (i = 0; i < H->n; i++)
				if (strstr(H->m[i].prop, m->prop))
					break;
			if (i == H->n)
				return IMG_MNT_SHARED;
		}
	}
	pr_err("can't dump %d: its mount on %s (%s %s) has propagation %s, which is not supported yet (private, unbindable or shared with no peer)",
	       pid, m->point, m->fstype, m->source, m->prop);
	return -1;
}

int dump_mi_kind(const char *fstype)
{
	if (!strcmp(fstype, "proc"))
		return IMG_MNT_PROC;
	if (!strcmp(fstype, "sysfs"))
		return IMG_MNT_SYSFS;
	if (!strcmp(fstype, "mqueue"))
		return IMG_MNT_MQUEUE;
	if (!strcmp(fstype, "devpts"))
		return IMG_MNT_DEVPTS;
	if (!strcmp(fstype, "tmpfs"))
		return IMG_MNT_TMPFS;
	if (!strcmp(fstype, "overlay"))
		return IMG_MNT_OVERLAY;
	return 0;
}

/* dev and inode of path in pid's mount namespace, or -1 */
int dump_stat_in(pid_t pid, const char *path, struct stat *st)
{
	char p[PATH_MAX + 64];

	snprintf(p, sizeof(p), "/proc/%d/root%s", pid, path);
	return stat(p, st);
}

/*
 * m is a second mount of src's file system (the tree's own, src mounted
 * whole): an INNER bind of the path in the namespace that reaches its
 * root (runc binds /dev/null over /proc/keys and /proc/sys over
 * itself). That path must lead to the very file m shows, so that restore
 * finds it there again.
 */
static int inner_bind(pid_t pid, const struct img_mount *src,
		      const struct mi *m, struct img_mount *r)
{
	struct stat a, b;

	r->kind = IMG_MNT_INNER;
	if (asprintf(&r->host, "%s%s", strcmp(src->point, "/") ?
		     src->point : "", strcmp(m->root, "/") ? m->root : "") < 0) {
		r->host = NULL;
		return -1;
	}
	if (!*r->host) {
		free(r->host);
		r->host = strdup("/");
		if (!r->host)
			return -1;
	}
	if (dump_stat_in(pid, r->host, &a) || dump_stat_in(pid, m->point, &b) ||
	    a.st_dev != m->dev || a.st_dev != b.st_dev || a.st_ino != b.st_ino)
		return dump_refuse_mnt(pid, m, "a bind of part of a file system of the tree's own that no path of its mount namespace reaches (another mount hides it) is not supported yet");
	return 0;
}

struct ovl_check {
	pid_t pid;
	const struct mi *m;
	const struct dump_mnt *d;
};

/*
 * A layer of an overlay must be the host's directory at path, found
 * there again at restore: nothing restore mounts before the overlay (the
 * tree's earlier mounts, below the ROOT's directory when it pivots) may
 * be over it, and when the tree's / is ckpt's the tree must see the same
 * directory there as ckpt does (a layer on a tmpfs of the tree's own is
 * refused). A path after pivot_root is read as the host's, and refused
 * when the container's root has another directory there.
 */
static int ovl_layer_ok(const char *key, const char *path, void *arg)
{
	const struct ovl_check *c = arg;
	const struct img_mount *r;
	int pivot = c->d->n && c->d->recs[0].kind == IMG_MNT_ROOT;
	char at[PATH_MAX], why[PATH_MAX + 200] = "";
	struct stat h, t;
	uint32_t i;

	if (stat(path, &h) || !S_ISDIR(h.st_mode))
		snprintf(why, sizeof(why), "its %s %s is no directory of ckpt's mount namespace (the host's)",
			 key, path);
	for (i = pivot; i < c->d->n && !*why; i++) {
		r = &c->d->recs[i];
		snprintf(at, sizeof(at), "%s%s", pivot ? c->d->recs[0].host :
			 "", pivot && !strcmp(r->point, "/") ? "" : r->point);
		if (img_path_under(path, at))
			snprintf(why, sizeof(why), "its %s %s is below the tree's %s mount on %s, which is not supported yet",
				 key, path, r->fstype, r->point);
	}
	if (!*why && !pivot && (dump_stat_in(c->pid, path, &t) ||
				t.st_dev != h.st_dev || t.st_ino != h.st_ino))
		snprintf(why, sizeof(why), "its %s %s is not the host's directory there (on a mount of the tree's own), which is not supported yet",
			 key, path);
	/* mounted after pivot_root, the path would be the container's:
	 * when that names another directory too, which one is not told */
	snprintf(at, sizeof(at), "%s%s", pivot ? c->d->recs[0].host : "",
		 path);
	if (!*why && pivot && !stat(at, &t) &&
	    (t.st_dev != h.st_dev || t.st_ino != h.st_ino))
		snprintf(why, sizeof(why), "its %s %s names a directory of the host and another of the container's root (%s): which one it was mounted with can't be told",
			 key, path, at);
	if (!*why)
		return 0;
	dump_refuse_mnt(c->pid, c->m, why);
	return -2;	/* not img_ovl_layers()'s -1 */
}

static int check_overlay(pid_t pid, const struct dump_mnt *d,
			 const struct mi *m)
{
	struct ovl_check c = { pid, m, d };
	const char *opts = m->super;
	int ret;

	if (strcmp(m->root, "/"))
		return dump_refuse_mnt(pid, m, "a bind of part of an overlay is not supported yet");
	if (!strncmp(opts, "rw,", 3) || !strncmp(opts, "ro,", 3))
		opts += 3;
	ret = img_ovl_layers(opts, ovl_layer_ok, &c);
	if (ret == -2)
		return -1;	/* refused by ovl_layer_ok */
	if (ret)
		return dump_refuse_mnt(pid, m, "its layer options (lowerdir=, upperdir=, workdir=) are not absolute paths ckpt can parse (no ., .., escape or empty layer), which is not supported yet");
	return 0;
}

/* What kind of record m is: a bind of a host path, of part of another
 * mount of the tree's, or a new mount */
static int classify(pid_t pid, const struct mi_list *H, struct dump_mnt *d,
		    const struct mi *m, struct img_mount *r)
{
	uint32_t i;

	if (host_of_dev(H, m->dev)) {
		r->kind = r->kind ? r->kind : IMG_MNT_BIND;
		r->host = host_path(H, m->dev, m->root);
		if (!r->host)
			return dump_refuse_mnt(pid, m, "no path of ckpt's mount namespace reaches its source");
		return 0;
	}
	if (r->kind == IMG_MNT_ROOT)
		return dump_refuse_mnt(pid, m, "the root is on a file system that ckpt's mount namespace has not mounted, which is not supported yet");
	r->kind = dump_mi_kind(m->fstype);
	if (!r->kind) {
		pr_err("can't dump %d: its mount on %s is of type %s (%s), which ckpt does not restore yet",
		       pid, m->point, m->fstype, m->source);
		return -1;
	}
	for (i = 0; i < d->n; i++)
		if (d->recs[i].dev == m->dev)
			return inner_bind(pid, &d->recs[i], m, r);
	if (r->kind == IMG_MNT_OVERLAY)
		return check_overlay(pid, d, m);
	if (strcmp(m->root, "/"))
		return dump_refuse_mnt(pid, m, "a bind of part of a file system of the tree's own whose whole is not mounted first is not supported yet");
	return 0;
}

/* restore makes the late mounts (img_mnt_late()) after the others: none
 * of the others may be over a late one's parent, made after it */
static int check_order(pid_t pid, const struct dump_mnt *d)
{
	unsigned char *late = malloc(d->n + 1);
	uint32_t i, j;
	int ret = 0;

	if (!late)
		return -1;
	img_mnt_late(d->recs, d->n, late);
	for (i = 0; i < d->n && !ret; i++)
		for (j = i + 1; j < d->n && !ret; j++)
			if (late[i] && !late[j] &&
			    img_path_under(d->recs[i].point, d->recs[j].point)) {
				pr_err("can't dump %d: its %s mount on %s is above its %s mount on %s, which is not supported yet",
				       pid, d->recs[j].fstype, d->recs[j].point,
				       d->recs[i].fstype, d->recs[i].point);
				ret = -1;
			}
	free(late);
	return ret;
}

static int is_cgroup_fs(const char *fstype)
{
	return !strcmp(fstype, "cgroup") || !strcmp(fstype, "cgroup2");
}

static int add_rec(pid_t pid, const struct mi_list *T, const struct mi_list *H,
		   struct dump_mnt *d, struct mi *m, uint32_t kind)
{
	struct img_mount *r, *nr = realloc(d->recs, (d->n + 1) * sizeof(*r));
	char **roots;
	const char *ro;
	int prop;

	if (!nr)
		return -1;
	d->recs = nr;
	roots = realloc(d->cgroots, (d->n + 1) * sizeof(*roots));
	if (!roots)
		return -1;
	d->cgroots = roots;
	roots[d->n] = NULL;
	r = &d->recs[d->n];
	memset(r, 0, sizeof(*r));
	r->kind = kind;
	r->id = d->n + 1;
	r->dev = m->dev;
	r->flags = dump_mi_flags(m->opts);
	prop = propagation(pid, T, H, m);
	if (prop < 0 || classify(pid, H, d, m, r)) {
		free(r->host);
		return -1;
	}
	r->propagation = prop;
	/* the super block's options: "ro" or "rw" first */
	ro = !strncmp(m->super, "ro", 2) && (!m->super[2] ||
					     m->super[2] == ',') ? "" : NULL;
	r->sb_ro = !!ro;
	r->point = strdup(m->point);
	r->fstype = strdup(m->fstype);
	r->source = strdup(m->source);
	r->options = strdup(m->super[2] == ',' ? m->super + 3 : "");
	if (r->kind == IMG_MNT_BIND && is_cgroup_fs(m->fstype))
		roots[d->n] = strdup(m->root);
	d->n++;
	m->rec = r->id;
	return r->point && r->fstype && r->source && r->options &&
	       (!is_cgroup_fs(m->fstype) || r->kind != IMG_MNT_BIND ||
		roots[d->n - 1]) ? 0 : -1;
}

/* When the tree's / is ckpt's: which of its mounts are copies of
 * ckpt's. A copy remounted otherwise is refused. */
static int match_copies(pid_t pid, struct mi_list *T, struct mi_list *H)
{
	int i, j;

	for (i = 0; i < T->n; i++)
		for (j = 0; j < H->n; j++) {
			struct mi *t = &T->m[i], *h = &H->m[j];

			if (h->taken || t->dev != h->dev ||
			    strcmp(t->point, h->point) ||
			    strcmp(t->root, h->root) ||
			    strcmp(t->fstype, h->fstype))
				continue;
			if (strcmp(t->opts, h->opts))
				return dump_refuse_mnt(pid, t, "a copy of ckpt's mount with other flags, which is not supported yet");
			if (*t->prop)
				return dump_refuse_mnt(pid, t, "a copy of ckpt's mount that is not private, which is not supported yet");
			h->taken = 1;
			t->rec = -1;
			break;
		}
	return 0;
}

static const struct mi *host_root(const struct mi_list *H)
{
	int i;

	for (i = 0; i < H->n; i++)
		if (!strcmp(H->m[i].point, "/"))
			return &H->m[i];
	return NULL;
}

/* The tree's mounts that become records, in d */
static int collect_recs(pid_t pid, struct mi_list *T, struct mi_list *H,
			const int *ord, struct dump_mnt *d)
{
	const struct mi *hr = host_root(H);
	struct mi *tr = &T->m[ord[0]];
	int i, pivot;

	if (strcmp(tr->point, "/") || !hr) {
		pr_err("can't dump %d: its mount namespace has no root mount first",
		       pid);
		return -1;
	}
	pivot = tr->dev != hr->dev || strcmp(tr->root, hr->root);
	if (pivot ? add_rec(pid, T, H, d, tr, IMG_MNT_ROOT) :
	    match_copies(pid, T, H))
		return -1;
	for (i = 1; i < T->n; i++) {
		struct mi *m = &T->m[ord[i]];

		if (!m->rec && add_rec(pid, T, H, d, m, 0))
			return -1;
	}
	return check_order(pid, d);
}

/* Is m a TMPFS record's (not an INNER bind of part of one)? */
static int is_tmpfs(const struct dump_mnt *d, const struct mi *m)
{
	return m->rec > 0 && d->recs[m->rec - 1].kind == IMG_MNT_TMPFS;
}

/*
 * In a child, in a copy of the tree's mount namespace (private: nothing
 * we do there reaches the tree's): each TMPFS mount's root opened, the
 * mounts above it taken away first, children before parents. The parent
 * takes the fds with pidfd_getfd() while the child waits.
 */
static void __attribute__((noreturn)) tmpfs_child(pid_t root,
	const struct mi_list *T, const int *ord, const struct dump_mnt *d,
	int out, int in)
{
	char path[64], c;
	struct stat st;
	int i, fd, left = 0;

	for (i = 0; i < T->n; i++)
		left += is_tmpfs(d, &T->m[i]);
	/* in the root's user namespace first: a copy made from ckpt's
	 * would lock every mount (a less privileged namespace's), which
	 * could then not be unmounted */
	if (dump_userns_enter(root))
		_exit(2);
	snprintf(path, sizeof(path), "/proc/%d/ns/mnt", root);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || setns(fd, CLONE_NEWNS) || unshare(CLONE_NEWNS) ||
	    mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL))
		_exit(2);
	for (i = T->n - 1; i > 0 && left; i--) {
		const struct mi *m = &T->m[ord[i]];

		if (is_tmpfs(d, m)) {
			fd = open(m->point, O_RDONLY | O_DIRECTORY |
				  O_NOFOLLOW);
			if (fd < 0 || fstat(fd, &st) || st.st_dev != m->dev)
				_exit(3);
			if (write(out, &(int[2]){ m->rec, fd }, 2 * sizeof(int))
			    != 2 * sizeof(int))
				_exit(2);
			left--;
		}
		if (umount2(m->point, MNT_DETACH))
			_exit(4);
	}
	close(out);
	/* until the parent has taken the fds */
	_exit(read(in, &c, 1) < 0 ? 2 : 0);
}

int dump_mi_tmpfs(pid_t root, const struct mi_list *T, const int *ord,
		      struct dump_mnt *d)
{
	int up[2] = { -1, -1 }, down[2] = { -1, -1 }, msg[2], pidfd = -1;
	int st = 0, ret = -1;
	pid_t pid;

	if (pipe2(up, O_CLOEXEC) || pipe2(down, O_CLOEXEC))
		goto out;
	pid = fork();
	if (pid < 0)
		goto out;
	if (!pid) {
		close(up[0]);
		close(down[1]);
		tmpfs_child(root, T, ord, d, up[1], down[0]);
	}
	close(up[1]);
	up[1] = -1;
	pidfd = syscall(SYS_pidfd_open, pid, 0);
	while (pidfd >= 0 && read(up[0], msg, sizeof(msg)) == sizeof(msg) &&
	       msg[0] > 0 && (uint32_t)msg[0] <= d->n)
		d->fds[msg[0] - 1] = syscall(SYS_pidfd_getfd, pidfd, msg[1], 0);
	close(down[1]);
	down[1] = -1;
	if (waitpid(pid, &st, 0) == pid && WIFEXITED(st) && !WEXITSTATUS(st))
		ret = 0;
	else
		pr_err("can't read the tmpfs mounts of %d's mount namespace (step %d)",
		       root, WIFEXITED(st) ? WEXITSTATUS(st) : -1);
out:
	if (pidfd >= 0)
		close(pidfd);
	if (up[0] >= 0)
		close(up[0]);
	if (up[1] >= 0)
		close(up[1]);
	if (down[0] >= 0)
		close(down[0]);
	if (down[1] >= 0)
		close(down[1]);
	return ret;
}

/* fds of the tree on a devpts instance of its own but its ptys (which
 * dump-tty.c keeps, or refuses by name): a directory of it, which restore
 * would open on its own /dev/pts */
static int pty_fd(pid_t pid, dev_t dev)
{
	char path[64], fdp[320];
	struct dirent *de;
	struct stat st;
	int found = -1;
	DIR *dir;

	snprintf(path, sizeof(path), "/proc/%d/fd", pid);
	dir = opendir(path);
	while (dir && found < 0 && (de = readdir(dir))) {
		snprintf(fdp, sizeof(fdp), "%s/%s", path, de->d_name);
		if (de->d_name[0] != '.' && !stat(fdp, &st) &&
		    st.st_dev == dev && !S_ISCHR(st.st_mode))
			found = atoi(de->d_name);
	}
	if (dir)
		closedir(dir);
	return found;
}

static int check_ptys(const struct dump_tree *t, const struct dump_mnt *d)
{
	uint32_t j;
	int i, fd;

	for (j = 0; j < d->n; j++)
		for (i = 0; d->recs[j].kind == IMG_MNT_DEVPTS && i < t->n; i++) {
			fd = pty_fd(t->procs[i].pid, d->recs[j].dev);
			if (fd >= 0) {
				pr_err("can't dump %d: its fd %d is on the devpts instance on %s and no pty, which is not supported yet",
				       t->procs[i].pid, fd, d->recs[j].point);
				return -1;
			}
		}
	return 0;
}

/* The mount an fd of pid is on (fdinfo's mnt_id), or -1 */
int dump_fd_mnt_id(pid_t pid, const char *fd)
{
	char path[320], line[128];
	int id = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/fdinfo/%s", pid, fd);
	f = fopen(path, "re");
	while (f && fgets(line, sizeof(line), f))
		if (sscanf(line, "mnt_id: %d", &id) == 1)
			break;
	if (f)
		fclose(f);
	return id;
}

/* Does link, the path of fd fdp of pid, lead elsewhere in pid's view
 * (a mount made over it since)? A deleted file is dump-ghost.c's. */
static int hidden(pid_t pid, const char *fdp, const char *link)
{
	char path[PATH_MAX + 64];
	struct stat a, b;
	size_t n = strlen(link);

	if (n > 10 && !strcmp(link + n - 10, " (deleted)"))
		return 0;
	snprintf(path, sizeof(path), "/proc/%d/root%s", pid, link);
	if (stat(fdp, &a))
		return 0;
	return stat(path, &b) || a.st_dev != b.st_dev || a.st_ino != b.st_ino;
}

static int has_id(const struct mi_list *L, int id)
{
	int i;

	for (i = 0; L && i < L->n; i++)
		if (L->m[i].id == id)
			return 1;
	return 0;
}

/* An fd on a file that the namespace's mounts do not reach (one opened
 * before pivot_root on the old root, unmounted since): restore would
 * open its path inside. One on a mount of ckpt's (opened before the
 * unshare) is reached through the copy, when the root is ckpt's: H. */
static int check_fds_inside(pid_t pid, const struct mi_list *T,
			    const struct mi_list *H)
{
	char path[64], fdp[320], link[PATH_MAX];
	struct dirent *de;
	int id, ret = 0;
	ssize_t n;
	DIR *dir;

	snprintf(path, sizeof(path), "/proc/%d/fd", pid);
	dir = opendir(path);
	while (dir && !ret && (de = readdir(dir))) {
		snprintf(fdp, sizeof(fdp), "%s/%s", path, de->d_name);
		n = readlink(fdp, link, sizeof(link) - 1);
		if (de->d_name[0] == '.' || n <= 0 || link[0] != '/')
			continue;
		link[n] = '\0';
		id = dump_fd_mnt_id(pid, de->d_name);
		if (!has_id(T, id) && !has_id(H, id)) {
			pr_err("can't dump %d: its fd %s (%s) is on a mount outside its mount namespace (unmounted there, as an old root is after pivot_root), which is not supported yet",
			       pid, de->d_name, link);
			ret = -1;
		} else if (hidden(pid, fdp, link)) {
			pr_err("can't dump %d: its fd %s (%s) is on a file that a mount hides, which is not supported yet",
			       pid, de->d_name, link);
			ret = -1;
		}
	}
	if (dir)
		closedir(dir);
	return ret;
}

int dump_mnt_collect(struct dump_tree *t)
{
	pid_t root = t->procs[0].pid;
	struct mi_list T = { 0 }, H = { 0 };
	struct dump_mnt *d = calloc(1, sizeof(*d));
	int *ord = NULL, ret = -1;
	uint32_t i;

	if (!d)
		return -1;
	t->mnt = d;
	if (dump_mi_read(root, &T) || dump_mi_read(getpid(), &H))
		goto out;
	ord = dump_mi_order(&T);
	if (!ord || collect_recs(root, &T, &H, ord, d))
		goto out;
	/* those in a namespace below it: dump-mntns.c */
	for (i = 0; i < (uint32_t)t->n; i++)
		if (!t->procs[i].proc.proc.zombie &&
		    dump_ns_ino(t->procs[i].pid, "mnt") ==
		    dump_ns_ino(root, "mnt") &&
		    check_fds_inside(t->procs[i].pid, &T,
				     d->n && d->recs[0].kind == IMG_MNT_ROOT ?
				     NULL : &H))
			goto out;
	d->fds = malloc((d->n + 1) * sizeof(int));
	if (!d->fds)
		goto out;
	for (i = 0; i < d->n; i++)
		d->fds[i] = -1;
	for (i = 0; i < d->n && d->recs[i].kind != IMG_MNT_TMPFS; i++)
		;
	if (i < d->n && dump_mi_tmpfs(root, &T, ord, d))
		goto out;
	for (i = 0; i < d->n; i++)
		if (d->recs[i].kind == IMG_MNT_TMPFS && d->fds[i] < 0) {
			pr_err("can't open the tmpfs on %s of %d", d->recs[i].point,
			       root);
			goto out;
		}
	ret = check_ptys(t, d);
	for (i = 0; !ret && i < d->n; i++)
		if (d->recs[i].kind == IMG_MNT_TMPFS)
			ret = dump_mnt_files(t, d, i, NULL);
out:
	free(ord);
	dump_mi_free(&T);
	dump_mi_free(&H);
	return ret;
}

/* The root of ns (the tree's cgroup namespace, NULL: ckpt's) in the
 * hierarchy of r, a cgroup mount: v1 the one whose controllers its
 * options hold, or NULL */
static const char *cgns_root(const struct img_ns *ns,
			     const struct img_mount *r)
{
	uint32_t i;

	if (!ns)
		return "/";
	for (i = 0; i < ns->nr_cgns; i++)
		if (strcmp(r->fstype, "cgroup") ? !*ns->cgns[i].controllers :
		    *ns->cgns[i].controllers &&
		    cg_opts_have(r->options, ns->cgns[i].controllers))
			return ns->cgns[i].root;
	return NULL;
}

/* release_agent= taken out of a v1 hierarchy's options: the
 * hierarchy's, not the mount's, and refused in a user namespace */
static void drop_release_agent(char *opts)
{
	char *p = opts, *end;

	while (*p) {
		end = strchrnul(p, ',');
		if (!strncmp(p, "release_agent=", 14)) {
			memmove(p, *end ? end + 1 : end, strlen(end) + 1);
			if (!*p && p > opts)
				p[-1] = '\0';
			continue;
		}
		p = *end ? end + 1 : end;
	}
}

/*
 * A cgroup mount of the tree's (a BIND of its host path so far) whose
 * root is the root of the tree's cgroup namespace in its hierarchy (of
 * ckpt's when the tree has none of its own) is what mount(2) makes in
 * that namespace: a CGROUP record, mounted anew at restore from inside
 * the restored namespace with the same type, source and options, so that
 * mountinfo reads as it did. One of a part of a hierarchy stays a bind.
 */
int dump_mnt_cgroups(struct dump_tree *t)
{
	const struct img_ns *ns = NULL;
	struct dump_mnt *d = t->mnt;
	const char *root;
	uint32_t i;
	int n = 0;

	for (i = 0; i < t->nr_nss; i++)
		if (t->nss[i].kind == IMG_NS_CGROUP)
			ns = &t->nss[i];
	for (i = 0; d && d->cgroots && i < d->n; i++) {
		struct img_mount *r = &d->recs[i];

		root = d->cgroots[i] ? cgns_root(ns, r) : NULL;
		if (!root || strcmp(root, d->cgroots[i]))
			continue;
		r->kind = IMG_MNT_CGROUP;
		free(r->host);
		r->host = NULL;
		drop_release_agent(r->options);
		n++;
	}
	/* made late now: nothing early may be below them */
	return n ? check_order(t->procs[0].pid, d) : 0;
}

int dump_write_mounts(const struct dump_tree *t, struct img_writer *w)
{
	uint32_t i;

	if (!t->mnt)
		return 0;
	for (i = 0; i < t->mnt->n; i++)
		if (img_write_mount(w, &t->mnt->recs[i]) ||
		    (t->mnt->recs[i].kind == IMG_MNT_TMPFS &&
		     dump_mnt_files(t, t->mnt, i, w)))
			return -1;
	return 0;
}

void dump_free_mounts(struct dump_tree *t)
{
	struct dump_mnt *d = t->mnt;
	uint32_t i;

	if (!d)
		return;
	for (i = 0; i < d->n; i++) {
		if (d->fds && d->fds[i] >= 0)
			close(d->fds[i]);
		free(d->recs[i].host);
		free(d->recs[i].point);
		free(d->recs[i].fstype);
		free(d->recs[i].source);
		free(d->recs[i].options);
		if (d->cgroots)
			free(d->cgroots[i]);
	}
	free(d->cgroots);
	free(d->fds);
	free(d->recs);
	free(d);
	t->mnt = NULL;
}
