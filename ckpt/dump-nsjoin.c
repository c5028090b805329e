/*
 * Namespaces the tree shares with processes outside it (dump-ns.c finds
 * them): a UTS, IPC or network one is not the tree's to save or make
 * again, so it becomes an NSJOIN record (image.h), which restore joins.
 * The record keeps where the namespace was mounted (an nsfs mount, as
 * `ip netns add` makes under /run/netns), found in ckpt's mountinfo,
 * whose root is the namespace ("net:[4026532289]"): restore joins what
 * is mounted there, unless told another path (restore --join-ns).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ckpt/dump-priv.h"

/* The mount point of an nsfs mount of file:[ino] in ckpt's mount
 * namespace, or NULL */
static char *ns_mount(const char *file, uint64_t ino)
{
	char want[64], root[4096], point[4096], *buf, *l, *save = NULL;
	char *sep, *found = NULL;

	snprintf(want, sizeof(want), "%s:[%llu]", file,
		 (unsigned long long)ino);
	buf = read_file_str("/proc/self/mountinfo", NULL);
	for (l = buf ? strtok_r(buf, "\n", &save) : NULL; l && !found;
	     l = strtok_r(NULL, "\n", &save)) {
		sep = strstr(l, " - nsfs ");
		if (sep && sscanf(l, "%*s %*s %*s %4095s %4095s", root,
				  point) == 2 && !strcmp(root, want) &&
		    !strchr(point, '\\'))
			found = strdup(point);
	}
	free(buf);
	return found;
}

int dump_ns_join(struct dump_tree *t, pid_t owner, uint32_t kind,
		 const char *file, uint64_t ino)
{
	struct img_nsjoin *j;

	j = realloc(t->nsjoins, (t->nr_nsjoins + 1) * sizeof(*j));
	if (!j)
		return -1;
	t->nsjoins = j;
	j = &t->nsjoins[t->nr_nsjoins++];
	j->kind = kind;
	j->owner = owner;
	j->id = ino;
	j->path = ns_mount(file, ino);
	pr_info("%s namespace %s:[%llu] of %d is shared: restore joins %s",
		file, file, (unsigned long long)ino, owner,
		j->path ? j->path : "the one --join-ns names");
	return 0;
}

int dump_write_nsjoins(const struct dump_tree *t, struct img_writer *w)
{
	uint32_t i;

	for (i = 0; i < t->nr_nsjoins; i++)
		if (img_write_nsjoin(w, &t->nsjoins[i]))
			return -1;
	return 0;
}

void dump_free_nsjoins(struct dump_tree *t)
{
	uint32_t i;

	for (i = 0; i < t->nr_nsjoins; i++)
		free(t->nsjoins[i].path);
	free(t->nsjoins);
	t->nsjoins = NULL;
	t->nr_nsjoins = 0;
}
