/*
 * Mount namespaces below the root's (MNT NS records with a parent, their
 * NSMOUNT records: image.h). Their owner, in the child before it makes
 * its children (ns.c), unshares the mount namespace it got from its
 * parent, already made as the image has it, makes every mount of the
 * copy a slave (a shared one of the parent's becomes a slave of it, a
 * private one stays private; the dump refused peers across namespaces,
 * and recorded every copy that is no such slave), then plays
 * the records in image order: the parent's mounts the namespace lost
 * are unmounted (children first), those kept with other flags remounted,
 * the new ones mounted (a tmpfs filled with its files, an INNER bind
 * from its path in the namespace as it stands then), and last each one's
 * propagation set. The namespace's processes below the owner inherit it.
 * The owner then opens the regular files that only processes of the
 * namespace hold (FILE records: a description they share), by their
 * path there, before its children, which inherit them; restore opened
 * the others in the root's view.
 */
#include <sys/mount.h>
#include <sys/stat.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>

#include "restore/restore.h"

/*
 * Did m, a COPY whose call failed, find no mount at its point? Its
 * parent's namespace lost it since the dump (a mount of restore's own,
 * which the host changed): so does the copy, as the root's namespace
 * gets restore's mounts as they are now (mnt.c).
 */
static int copy_missing(const struct img_mount *m)
{
	struct statx stx;

	if (m->kind != IMG_MNT_COPY || (errno != ENOENT && errno != EINVAL))
		return 0;
	if (errno == ENOENT)
		return 1;
	return !statx(AT_FDCWD, m->point, AT_SYMLINK_NOFOLLOW, 0, &stx) &&
	       (stx.stx_attributes_mask & STATX_ATTR_MOUNT_ROOT) &&
	       !(stx.stx_attributes & STATX_ATTR_MOUNT_ROOT);
}

static int play(const struct image *img, const struct img_mount *m)
{
	int ret;

	if (m->kind == IMG_MNT_COPY && m->gone)
		ret = umount2(m->point, MNT_DETACH);
	else if (m->kind == IMG_MNT_COPY)
		ret = mount(NULL, m->point, NULL, MS_REMOUNT | MS_BIND |
			    m->flags, NULL);
	else
		ret = restore_mnt_one(img, m, m->point, "");
	return ret && !copy_missing(m) ? -1 : 0;
}

int restore_mntns_make(const struct restore_run *run,
		       const struct img_ns *ns)
{
	const struct image *img = run->img;
	const struct img_mount *m;
	uint32_t i;

	/* slaves at once, before an unmount could reach the parent's */
	if (unshare(CLONE_NEWNS) ||
	    mount(NULL, "/", NULL, MS_REC | MS_SLAVE, NULL))
		return -1;
	for (i = 0; i < img->nr_nsmounts; i++) {
		m = &img->nsmounts[i];
		if (m->ns == ns->id && play(img, m)) {
			pr_perror("can't make the %s %s mount on %s of mount namespace %llu",
				  m->fstype, img_mnt_kind_name(m->kind),
				  m->point, (unsigned long long)ns->id);
			return -1;
		}
	}
	/* a private one may be a slave now (MS_REC | MS_SLAVE above) */
	for (i = 0; i < img->nr_nsmounts; i++) {
		m = &img->nsmounts[i];
		if (m->ns != ns->id || m->gone)
			continue;
		if ((m->propagation == IMG_MNT_PRIVATE ?
		     mount(NULL, m->point, NULL, MS_PRIVATE, NULL) :
		     restore_mnt_propagate(m)) && !copy_missing(m))
			return -1;
	}
	return 0;
}

static const struct img_ns *made_above(const struct image *img, pid_t pid);

/* The namespace below the root's whose owner opens FILE i: one of its
 * processes holds it, and only those */
const struct img_ns *restore_mntns_file(const struct image *img, uint32_t i)
{
	const struct img_file *f = &img->files[i];
	const struct img_ns *ns = NULL, *x;
	const struct img_process *p;
	uint32_t k, j;

	for (k = 0; k < img->nr_nss; k++)
		if (img->nss[k].kind == IMG_NS_MNT && img->nss[k].parent)
			break;
	if (f->kind != IMG_FILE_REG || k == img->nr_nss)
		return NULL;	/* none below the root's: no search */
	for (k = 0; k < img->nr_procs; k++) {
		p = &img->procs[k];
		for (j = 0; j < p->nr_fds; j++) {
			if (p->fds[j].type != IMG_FD_FILE ||
			    p->fds[j].file != f->id)
				continue;
			x = made_above(img, p->proc.pid);
			if (!x || (ns && x != ns))
				return NULL;
			ns = x;
		}
	}
	return ns;
}

int restore_mntns_files(const struct restore_run *run,
			const struct img_ns *ns, int *files)
{
	uint32_t i;

	for (i = 0; files && i < run->img->nr_files; i++)
		if (restore_mntns_file(run->img, i) == ns) {
			files[i] = restore_file_open_reg(run,
							 &run->img->files[i]);
			if (files[i] < 0)
				return -1;
		}
	return 0;
}

static const struct img_process *proc_of(const struct image *img, pid_t pid)
{
	uint32_t i;

	for (i = 0; i < img->nr_procs; i++)
		if (img->procs[i].proc.pid == pid)
			return &img->procs[i];
	return NULL;
}

/* The mount namespace below the root's that pid's nearest ancestor (or
 * pid) makes, or NULL */
static const struct img_ns *made_above(const struct image *img, pid_t pid)
{
	const struct img_process *p = proc_of(img, pid);
	const struct img_ns *ns;
	int hops = 0;

	while (p && hops++ <= (int)img->nr_procs) {
		ns = img_find_ns(img, IMG_NS_MNT, p->proc.pid);
		if (ns && ns->parent)
			return ns;
		p = p == &img->procs[0] ? NULL : proc_of(img, p->proc.ppid);
	}
	return NULL;
}

/*
 * Each is made by a process below the root, from the namespace of that
 * process's parent: the one the nearest ancestor in one below the root's
 * makes, or the root's (when it has a record: else ckpt's was).
 */
int restore_mntns_check(const struct restore_run *run)
{
	const struct image *img = run->img;
	const struct img_ns *ns, *up, *root = NULL;
	const struct img_process *p;
	uint32_t i;

	for (i = 0; i < img->nr_nss; i++)
		if (img->nss[i].kind == IMG_NS_MNT && !img->nss[i].parent)
			root = &img->nss[i];
	for (i = 0; i < img->nr_nss; i++) {
		ns = &img->nss[i];
		if (ns->kind != IMG_NS_MNT || !ns->parent)
			continue;
		p = proc_of(img, (pid_t)ns->owner);
		up = p && p != &img->procs[0] ?
		     made_above(img, p->proc.ppid) : NULL;
		if (!p || p == &img->procs[0] ||
		    (up ? up->id != ns->parent :
		     root && root->id != ns->parent)) {
			pr_err("%s: the mount namespace %llu is made by %u, which is the root or not in a copy of mount namespace %llu",
			       run->path, (unsigned long long)ns->id,
			       ns->owner, (unsigned long long)ns->parent);
			return -1;
		}
	}
	return 0;
}
