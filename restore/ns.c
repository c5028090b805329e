/*
 * The tree's namespaces of its own (NS records, image.h): each is made
 * again by its owner, in the child before that process makes its
 * children (child.c), so that they inherit it as they did. A UTS
 * namespace gets its hostname and domainname back; an IPC namespace was
 * empty at dump (ckpt refuses one that is not) and is made empty.
 */
#include <errno.h>
#include <sched.h>
#include <string.h>
#include <unistd.h>

#include "restore/restore.h"

int restore_ns_make(const struct image *img, pid_t pid, const char **what)
{
	const struct img_ns *uts = img_find_ns(img, IMG_NS_UTS, pid);
	const struct img_ns *ipc = img_find_ns(img, IMG_NS_IPC, pid);

	*what = "uts";
	if (uts && (unshare(CLONE_NEWUTS) ||
		    sethostname(uts->hostname, strlen(uts->hostname)) ||
		    setdomainname(uts->domainname, strlen(uts->domainname))))
		return -1;
	*what = "ipc";
	if (ipc && unshare(CLONE_NEWIPC))
		return -1;
	return 0;
}

/* Each namespace's owner is a live process of the image. */
int restore_check_nss(const struct restore_run *run)
{
	const struct image *img = run->img;
	uint32_t i, k;

	for (i = 0; i < img->nr_nss; i++) {
		for (k = 0; k < img->nr_procs; k++)
			if (img->procs[k].proc.pid == (pid_t)img->nss[i].owner &&
			    !img->procs[k].proc.zombie)
				break;
		if (k == img->nr_procs) {
			pr_err("%s: the %s namespace %llu is made by %u, which is no live process of the image",
			       run->path, img_ns_name(img->nss[i].kind),
			       (unsigned long long)img->nss[i].id,
			       img->nss[i].owner);
			return -1;
		}
	}
	return 0;
}
