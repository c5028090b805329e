/*
 * dump-mntns: mount namespaces below the root's (a process of the tree
 * that ran unshare -m, or unshare(CLONE_NEWNS), then changed its mounts).
 * Each is an NS record of kind mnt owned by its topmost process, with as
 * parent the mount namespace of that process's parent, and NSMOUNT
 * records that say how to turn a copy of the parent's into it: the
 * parent's mounts that are gone (COPY, gone), those kept with other
 * flags or propagation (COPY), and the new ones (a tmpfs with its files,
 * proc, sysfs, mqueue, or a bind of what a path of the namespace
 * reaches: INNER). A mount of the namespace is a copy of one of its
 * parent's when it has the same point, device, root and type and its
 * parent mount is a copy too. What can't be made so is refused, naming
 * the process and the mount: a shared mount with peers, a slave of
 * other than its parent's copy (the one it copies, or that its bind
 * source is a slave of), a namespace whose root is not a copy
 * (pivot_root in it), another file
 * system type, a bind whose source no path reaches, a namespace that a
 * process of the tree shares without its maker being an ancestor
 * (setns), a file shared with processes of other namespaces, opened on
 * a mount that the root's view lacks (restore opens those there; a
 * process opens its own files, and maps its files, itself, in its
 * namespace, and the namespace's owner those only its processes share).
 */
#include <sys/mount.h>
#include <sys/stat.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ckpt/dump-priv.h"

struct dump_mntns {
	uint64_t id;
	pid_t owner;
	struct dump_mnt d;	/* recs' ids follow the root's MOUNTs */
};

/* What becomes of a namespace's mountinfo while it is read */
struct nsread {
	pid_t pid;
	struct mi_list P, T, H;	/* the parent's, its own, ckpt's */
	int *ordP, *ordT;
	int *match;		/* per T line: the P line it copies, or -1 */
	uint32_t base;		/* the id before its first record */
	struct dump_mnt *d;
};

static int find_id(const struct mi_list *L, int id)
{
	int i;

	for (i = 0; i < L->n; i++)
		if (L->m[i].id == id)
			return i;
	return -1;
}

/* The copies: T lines matched to P lines, parents first */
static void match_copies(struct nsread *r)
{
	int k, i, j, up, want;

	for (k = 0; k < r->T.n; k++) {
		struct mi *t = &r->T.m[r->ordT[k]];

		r->match[r->ordT[k]] = -1;
		up = find_id(&r->T, t->parent);
		if (up >= 0 && r->match[up] < 0)
			continue;	/* under a new mount: new */
		want = up >= 0 ? r->P.m[r->match[up]].id : -1;
		for (i = 0; i < r->P.n; i++) {
			struct mi *p = &r->P.m[i];

			j = find_id(&r->P, p->parent);
			if (p->taken || p->dev != t->dev ||
			    strcmp(p->point, t->point) ||
			    strcmp(p->root, t->root) ||
			    strcmp(p->fstype, t->fstype) ||
			    (want < 0 ? j >= 0 : p->parent != want))
				continue;
			p->taken = 1;
			r->match[r->ordT[k]] = i;
			break;
		}
	}
}

static int peer_in(const struct mi_list *L, const struct mi *self,
		   const char *tag)
{
	size_t n = strlen(tag);
	const char *s;
	int i;

	for (i = 0; i < L->n; i++) {
		if (&L->m[i] == self)
			continue;
		for (s = strstr(L->m[i].prop, tag); s;
		     s = strstr(s + 1, tag))
			if (!s[n] || s[n] == ' ')
				return 1;
	}
	return 0;
}

/* Is the mount p of the parent's shared, in peer group tag? */
static int shared_in(const struct mi *p, const char *tag)
{
	struct mi_list one = { (struct mi *)p, 1, NULL };

	return peer_in(&one, NULL, tag);
}

/* The propagation of m, a mount of the namespace, or -1 refused: a
 * slave only of the peer group of p, the parent's mount it copies, or
 * of the one src (the mount it binds from) is a slave of, as a bind of
 * a slave is (mount_namespaces(7)) */
static int propagation(const struct nsread *r, const struct mi *m,
		       const struct mi *p, const struct mi *src)
{
	char tag[64];

	if (!*m->prop)
		return IMG_MNT_PRIVATE;
	if (!strcmp(m->prop, "unbindable"))
		return IMG_MNT_UNBINDABLE;
	if (!strncmp(m->prop, "shared:", 7) && !strchr(m->prop, ' ') &&
	    !peer_in(&r->T, m, m->prop) && !peer_in(&r->P, NULL, m->prop) &&
	    !peer_in(&r->H, NULL, m->prop))
		return IMG_MNT_SHARED;
	snprintf(tag, sizeof(tag), "shared:%s", m->prop + 7);
	if (!strncmp(m->prop, "master:", 7) && !strchr(m->prop, ' ') &&
	    ((p && !strstr(p->prop, "master:") && shared_in(p, tag)) ||
	     (src && !strcmp(src->prop, m->prop))))
		return IMG_MNT_SLAVE;
	pr_err("can't dump %d: its mount on %s (%s %s) in a mount namespace below the root's has propagation %s, which is not supported yet (private, unbindable, shared with no peer or a slave of its parent namespace's copy)",
	       r->pid, m->point, m->fstype, m->source, m->prop);
	return -1;
}

static struct img_mount *new_rec(struct nsread *r, const struct mi *m,
				 uint32_t kind)
{
	struct dump_mnt *d = r->d;
	struct img_mount *rec, *nr = realloc(d->recs, (d->n + 1) * sizeof(*nr));

	if (!nr)
		return NULL;
	d->recs = nr;
	rec = &d->recs[d->n++];
	memset(rec, 0, sizeof(*rec));
	rec->kind = kind;
	rec->id = r->base + d->n;
	rec->dev = m->dev;
	rec->flags = dump_mi_flags(m->opts);
	rec->sb_ro = !strncmp(m->super, "ro", 2) &&
		     (!m->super[2] || m->super[2] == ',');
	rec->point = strdup(m->point);
	rec->fstype = strdup(m->fstype);
	rec->source = strdup(m->source);
	rec->options = strdup(m->super[2] == ',' ? m->super + 3 : "");
	if (!rec->point || !rec->fstype || !rec->source || !rec->options)
		return NULL;
	return rec;
}

/* The parent's mounts that the namespace unmounted: children first */
static int add_gone(struct nsread *r)
{
	struct img_mount *rec;
	int k;

	for (k = r->P.n - 1; k >= 0; k--) {
		const struct mi *p = &r->P.m[r->ordP[k]];

		if (p->taken)
			continue;
		rec = new_rec(r, p, IMG_MNT_COPY);
		if (!rec)
			return -1;
		rec->gone = 1;
	}
	return 0;
}

/* A copy kept with other flags must be the top one at its point, which
 * restore remounts by its path. One with the propagation restore's
 * unshare and MS_SLAVE give it (a slave of the parent's mount if that
 * one is shared, else private) and the same flags has no record. */
static int add_kept(struct nsread *r, int ti, int prop)
{
	const struct mi *t = &r->T.m[ti], *p = &r->P.m[r->match[ti]];
	uint32_t flags = dump_mi_flags(t->opts);
	struct img_mount *rec;
	int j, given;

	given = !strncmp(p->prop, "shared:", 7) || strstr(p->prop, " shared:") ?
		IMG_MNT_SLAVE : IMG_MNT_PRIVATE;
	if (flags == dump_mi_flags(p->opts) && prop == given)
		return 0;
	for (j = 0; j < r->T.n; j++)
		if (r->T.m[j].parent == t->id && r->match[j] >= 0 &&
		    !strcmp(r->T.m[j].point, t->point))
			return dump_refuse_mnt(r->pid, t, "a copy of its parent namespace's mount remounted below another copy, which is not supported yet");
	rec = new_rec(r, t, IMG_MNT_COPY);
	if (!rec)
		return -1;
	rec->propagation = prop;
	return 0;
}

/* Is T line j there when restore makes the k-th in order (a copy, or a
 * new one made before)? */
static int there_before(const struct nsread *r, int j, int k)
{
	int i;

	if (r->match[j] >= 0)
		return 1;
	for (i = 0; i < k; i++)
		if (r->ordT[i] == j)
			return 1;
	return 0;
}

/*
 * m shows a file system already mounted (a bind): the path of the
 * namespace that reaches its root through a mount there before it, which
 * must lead to the very directory m shows once all is mounted.
 */
static int bind_path(struct nsread *r, int k, const struct mi *m,
		     struct img_mount *rec, const struct mi **src)
{
	const struct mi *best = NULL;
	const char *rest;
	struct stat a, b;
	int j;

	for (j = 0; j < r->T.n; j++)
		if (r->ordT[k] != j && r->T.m[j].dev == m->dev &&
		    there_before(r, j, k) &&
		    dump_mi_under(m->root, r->T.m[j].root) &&
		    (!best || strlen(r->T.m[j].root) > strlen(best->root)))
			best = &r->T.m[j];
	if (!best)
		return 0;
	*src = best;
	rest = dump_mi_under(m->root, best->root);
	if (!strcmp(rest, "/"))
		rest = "";
	if (asprintf(&rec->host, "%s%s", strcmp(best->point, "/") || !*rest ?
		     best->point : "", rest) < 0) {
		rec->host = NULL;
		return -1;
	}
	if (dump_stat_in(r->pid, rec->host, &a) ||
	    dump_stat_in(r->pid, m->point, &b) || a.st_dev != m->dev ||
	    a.st_dev != b.st_dev || a.st_ino != b.st_ino)
		return dump_refuse_mnt(r->pid, m, "a bind in a mount namespace below the root's whose source no path of it reaches (another mount hides it), which is not supported yet");
	return 1;
}

static int add_new(struct nsread *r, int k)
{
	struct mi *m = &r->T.m[r->ordT[k]];
	struct img_mount *rec = new_rec(r, m, IMG_MNT_INNER);
	const struct mi *src = NULL;
	int ret;

	if (!rec)
		return -1;
	ret = bind_path(r, k, m, rec, &src);
	if (ret < 0)
		return -1;
	ret = propagation(r, m, NULL, src);
	if (ret < 0)
		return -1;
	rec->propagation = ret;
	if (src)
		return 0;
	rec->kind = dump_mi_kind(m->fstype);
	if (rec->kind != IMG_MNT_TMPFS && rec->kind != IMG_MNT_PROC &&
	    rec->kind != IMG_MNT_SYSFS && rec->kind != IMG_MNT_MQUEUE) {
		pr_err("can't dump %d: its mount on %s in a mount namespace below the root's is of type %s (%s), which ckpt does not restore there yet",
		       r->pid, m->point, m->fstype, m->source);
		return -1;
	}
	if (strcmp(m->root, "/"))
		return dump_refuse_mnt(r->pid, m, "a bind of part of a file system that its mount namespace has not mounted whole is not supported yet");
	m->rec = r->d->n;
	return 0;
}

/* The records of the namespace, in the order restore plays them */
static int diff(struct nsread *r)
{
	int k, ti, prop;

	match_copies(r);
	if (r->match[r->ordT[0]] < 0)
		return dump_refuse_mnt(r->pid, &r->T.m[r->ordT[0]], "the root of a mount namespace below the root's is not a copy of its parent's (pivot_root in it), which is not supported yet");
	if (add_gone(r))
		return -1;
	for (k = 0; k < r->T.n; k++) {
		ti = r->ordT[k];
		if (r->match[ti] < 0) {
			if (add_new(r, k))
				return -1;
			continue;
		}
		prop = propagation(r, &r->T.m[ti], &r->P.m[r->match[ti]],
				   NULL);
		if (prop < 0 || add_kept(r, ti, prop))
			return -1;
	}
	return 0;
}

static int read_ns(struct nsread *r, pid_t up)
{
	uint32_t i;

	if (dump_mi_read(up, &r->P) || dump_mi_read(r->pid, &r->T) ||
	    dump_mi_read(getpid(), &r->H))
		return -1;
	r->ordP = dump_mi_order(&r->P);
	r->ordT = dump_mi_order(&r->T);
	r->match = calloc(r->T.n + 1, sizeof(int));
	if (!r->ordP || !r->ordT || !r->match || !r->T.n || diff(r))
		return -1;
	r->d->fds = malloc((r->d->n + 1) * sizeof(int));
	if (!r->d->fds)
		return -1;
	for (i = 0; i < r->d->n; i++)
		r->d->fds[i] = -1;
	for (i = 0; i < r->d->n && r->d->recs[i].kind != IMG_MNT_TMPFS; i++)
		;
	if (i < r->d->n && dump_mi_tmpfs(r->pid, &r->T, r->ordT, r->d))
		return -1;
	for (i = 0; i < r->d->n; i++)
		if (r->d->recs[i].kind == IMG_MNT_TMPFS && r->d->fds[i] < 0) {
			pr_err("can't open the tmpfs on %s of %d",
			       r->d->recs[i].point, r->pid);
			return -1;
		}
	return 0;
}

static void free_nsread(struct nsread *r)
{
	dump_mi_free(&r->P);
	dump_mi_free(&r->T);
	dump_mi_free(&r->H);
	free(r->ordP);
	free(r->ordT);
	free(r->match);
}

static uint32_t next_id(const struct dump_tree *t)
{
	uint32_t n = t->mnt ? t->mnt->n : 0, i;

	for (i = 0; i < t->nr_mntns; i++)
		n += t->mntns[i].d.n;
	return n;
}

static const struct dump_mntns *find_mntns(const struct dump_tree *t,
					   uint64_t id)
{
	uint32_t i;

	for (i = 0; i < t->nr_mntns; i++)
		if (t->mntns[i].id == id)
			return &t->mntns[i];
	return NULL;
}

int dump_mntns_add(struct dump_tree *t, int i, const uint64_t *inos)
{
	pid_t pid = t->procs[i].pid, out;
	const struct dump_mntns *seen = find_mntns(t, inos[i]);
	int up = dump_ns_parent(t, i), ret;
	struct dump_mntns *ns;
	struct nsread r = { .pid = pid };
	struct img_ns *rec;
	uint32_t k;

	if (up >= 0 && inos[up] == inos[i])
		return 0;	/* it inherited it */
	if (seen || up < 0) {
		pr_err("can't dump %d: its mount namespace mnt:[%llu] is also that of %d, and no ancestor of both in the tree is in it (setns), which is not supported yet",
		       pid, (unsigned long long)inos[i],
		       seen ? seen->owner : t->procs[0].pid);
		return -1;
	}
	out = dump_ns_outsider(t, "mnt", inos[i]);
	if (out) {
		pr_err("can't dump %d: its mount namespace mnt:[%llu] is shared with %d, outside the tree",
		       pid, (unsigned long long)inos[i], out);
		return -1;
	}
	ns = realloc(t->mntns, (t->nr_mntns + 1) * sizeof(*ns));
	if (!ns)
		return -1;
	t->mntns = ns;
	ns = &t->mntns[t->nr_mntns];
	memset(ns, 0, sizeof(*ns));
	ns->id = inos[i];
	ns->owner = pid;
	r.base = next_id(t);
	r.d = &ns->d;
	t->nr_mntns++;
	ret = read_ns(&r, t->procs[up].pid);
	free_nsread(&r);
	for (k = 0; !ret && k < ns->d.n; k++)
		if (ns->d.recs[k].kind == IMG_MNT_TMPFS)
			ret = dump_mnt_files(t, &ns->d, k, NULL);
	if (ret)
		return -1;
	rec = dump_ns_add_mnt(t, inos[i], pid);
	if (!rec)
		return -1;
	rec->parent = inos[up];
	return 0;
}

/* Does path, in the view of pid's mount namespace and root, lead to the
 * file dev:ino? A deleted one (a ghost) is dump-ghost.c's. */
static int reaches(pid_t pid, const char *path, uint64_t dev, uint64_t ino)
{
	char p[PATH_MAX + 64];
	struct stat st;
	size_t n = strlen(path);

	if (n > 10 && !strcmp(path + n - 10, " (deleted)"))
		return 1;
	snprintf(p, sizeof(p), "/proc/%d/root%s", pid, path);
	return !stat(p, &st) && st.st_dev == dev && st.st_ino == ino;
}

/* Is FILE id a regular file whose every holder is in mount namespace
 * ns? Its owner opens it there at restore (restore/mntns.c's rule). */
static int held_in(const struct dump_tree *t, uint32_t id, uint64_t ns)
{
	const struct img_process *p;
	uint32_t j, k;
	int i;

	for (j = 0; j < t->nr_files; j++)
		if (t->files[j].f.id == id &&
		    t->files[j].f.kind != IMG_FILE_REG)
			return 0;
	for (i = 0; i < t->n; i++) {
		p = &t->procs[i].proc;
		for (k = 0; k < p->nr_fds; k++)
			if (p->fds[k].type == IMG_FD_FILE &&
			    p->fds[k].file == id &&
			    dump_ns_ino(t->procs[i].pid, "mnt") != ns)
				return 0;
	}
	return 1;
}

/*
 * The fds of a process in a namespace below the root's: one it alone
 * holds (REG, DIR, PATH, a device) it opens again itself, by its path in
 * its namespace, and so does the namespace's owner with a regular file
 * only processes of the namespace share: that path there must lead to
 * the file (not to one a later mount put over it). Any other file whose
 * description it shares restore opens, in the root's view, which must
 * lead there too.
 */
static int check_fds(const struct dump_tree *t, int i, uint64_t ns)
{
	const struct img_process *p = &t->procs[i].proc;
	pid_t pid = t->procs[i].pid, root = t->procs[0].pid;
	const struct img_fd *f;
	uint32_t k;
	int own;

	for (k = 0; k < p->nr_fds; k++) {
		f = &p->fds[k];
		if (!f->path || f->path[0] != '/')
			continue;
		own = f->type != IMG_FD_FILE || held_in(t, f->file, ns);
		if (!own && !reaches(root, f->path, f->dev, f->ino)) {
			pr_err("can't dump %d: its fd %d %s is shared with another process and on a mount of its mount namespace below the root's that the root's lacks, which is not supported yet",
			       pid, f->fd, f->path);
			return -1;
		}
		if (own && !reaches(pid, f->path, f->dev, f->ino)) {
			pr_err("can't dump %d: its fd %d %s is on a file that a mount of its mount namespace below the root's hides, which is not supported yet",
			       pid, f->fd, f->path);
			return -1;
		}
	}
	return 0;
}

int dump_mntns_check_fds(const struct dump_tree *t)
{
	uint64_t ns;
	int i;

	for (i = 1; i < t->n; i++) {
		if (t->procs[i].proc.proc.zombie)
			continue;
		ns = dump_ns_ino(t->procs[i].pid, "mnt");
		if (find_mntns(t, ns) && check_fds(t, i, ns))
			return -1;
	}
	return 0;
}

int dump_mntns_check(const struct dump_tree *t, const uint64_t *inos)
{
	int i, up;

	for (i = 1; i < t->n; i++) {
		if (t->procs[i].proc.proc.zombie)
			continue;
		up = dump_ns_parent(t, i);
		if (up < 0 || inos[i] == inos[up] ||
		    (find_mntns(t, inos[i]) &&
		     find_mntns(t, inos[i])->owner == t->procs[i].pid) ||
		    (!find_mntns(t, inos[i]) && !find_mntns(t, inos[up])))
			continue;
		pr_err("can't dump %d: it is in mount namespace mnt:[%llu] and its parent %d in mnt:[%llu], which it did not make (setns), which is not supported yet",
		       t->procs[i].pid, (unsigned long long)inos[i],
		       t->procs[up].pid, (unsigned long long)inos[up]);
		return -1;
	}
	return 0;
}

int dump_write_nsmounts(const struct dump_tree *t, struct img_writer *w)
{
	const struct dump_mntns *ns;
	uint32_t i, k;

	for (i = 0; i < t->nr_mntns; i++) {
		ns = &t->mntns[i];
		for (k = 0; k < ns->d.n; k++) {
			struct img_mount m = ns->d.recs[k];

			m.ns = ns->id;
			if (img_write_nsmount(w, &m) ||
			    (m.kind == IMG_MNT_TMPFS &&
			     dump_mnt_files(t, &ns->d, k, w)))
				return -1;
		}
	}
	return 0;
}

void dump_free_mntns(struct dump_tree *t)
{
	uint32_t i, k;

	for (i = 0; i < t->nr_mntns; i++) {
		struct dump_mnt *d = &t->mntns[i].d;

		for (k = 0; k < d->n; k++) {
			if (d->fds && d->fds[k] >= 0)
				close(d->fds[k]);
			free(d->recs[k].point);
			free(d->recs[k].fstype);
			free(d->recs[k].source);
			free(d->recs[k].options);
			free(d->recs[k].host);
		}
		free(d->fds);
		free(d->recs);
	}
	free(t->mntns);
	t->mntns = NULL;
	t->nr_mntns = 0;
}
