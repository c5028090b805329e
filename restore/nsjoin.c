/*
 * Namespaces the tree shared with processes outside it (NSJOIN records,
 * image.h): joined, not made. Each is opened before anything is made,
 * from the path restore --join-ns KIND=PATH gives for its kind, else
 * the one the dump found it mounted on (/run/netns/NAME); one that is
 * not there, or not a namespace of that kind (NS_GET_NSTYPE, Linux
 * 4.11), fails the restore with one line. Its owner enters it with
 * setns() where it would have made one (ns.c); a network one is the
 * root's, which restore itself enters, as it would have made it
 * (netdev.c).
 */
#include <sys/ioctl.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/nsfs.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "restore/restore.h"

static int clone_flag(uint32_t kind)
{
	return kind == IMG_NS_UTS ? CLONE_NEWUTS :
	       kind == IMG_NS_IPC ? CLONE_NEWIPC : CLONE_NEWNET;
}

int restore_join_opt(struct restore_run *run, const char *arg)
{
	const char *eq = strchr(arg, '=');
	uint32_t k;

	for (k = IMG_NS_UTS; eq && k <= IMG_NS_NET; k++)
		if ((k == IMG_NS_UTS || k == IMG_NS_IPC || k == IMG_NS_NET) &&
		    strlen(img_ns_name(k)) == (size_t)(eq - arg) &&
		    !strncmp(arg, img_ns_name(k), eq - arg) && eq[1] == '/') {
			run->join.path[k] = eq + 1;
			return 0;
		}
	pr_err("--join-ns %s: not uts=PATH, ipc=PATH or net=PATH", arg);
	return -1;
}

static int open_one(struct restore_run *run, const struct img_nsjoin *j,
		    int *fd)
{
	const char *path = run->join.path[j->kind] ? run->join.path[j->kind] :
			   j->path;
	const char *kind = img_ns_name(j->kind);
	int saved;

	if (!path) {
		pr_err("%s: the %s namespace %s:[%llu] of %u was shared with processes outside the tree: give restore --join-ns %s=PATH",
		       run->path, kind, kind, (unsigned long long)j->id,
		       j->owner, kind);
		return -1;
	}
	*fd = open(path, O_RDONLY | O_CLOEXEC);
	if (*fd < 0) {
		saved = errno;
		pr_err("%s: can't join the %s namespace at %s: %s", run->path,
		       kind, path, strerror(saved));
		return -1;
	}
	if (ioctl(*fd, NS_GET_NSTYPE) != clone_flag(j->kind)) {
		pr_err("%s: can't join the %s namespace at %s: it is no %s namespace",
		       run->path, kind, path, kind);
		return -1;
	}
	return 0;
}

int restore_join_open(struct restore_run *run)
{
	const struct image *img = run->img;
	uint32_t i;

	if (!img->nr_nsjoins)
		return 0;
	run->join.fds = malloc(img->nr_nsjoins * sizeof(*run->join.fds));
	if (!run->join.fds)
		return -1;
	for (i = 0; i < img->nr_nsjoins; i++)
		run->join.fds[i] = -1;
	for (i = 0; i < img->nr_nsjoins; i++) {
		if (img->nsjoins[i].kind == IMG_NS_NET &&
		    (pid_t)img->nsjoins[i].owner != img->procs[0].proc.pid) {
			pr_err("%s: the network namespace to join is %u's, not the root's",
			       run->path, img->nsjoins[i].owner);
			return -1;
		}
		if (open_one(run, &img->nsjoins[i], &run->join.fds[i]))
			return -1;
	}
	return 0;
}

int restore_join(const struct restore_run *run, uint32_t kind, pid_t pid,
		 int *joined)
{
	const struct img_nsjoin *j = img_find_nsjoin(run->img, kind, pid);

	*joined = j != NULL;
	if (!j)
		return 0;
	return setns(run->join.fds[j - run->img->nsjoins], clone_flag(kind));
}
