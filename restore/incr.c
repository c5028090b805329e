/*
 * Incremental images (image.h's IDENT and PARENT_PAGES): the parents are
 * opened and read whole before anything is made, so that a missing,
 * damaged or foreign parent costs nothing; the pages a child takes from a
 * parent are read here from the parent's file and written into the new
 * process (the child process holds only the image's own fd).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "plugins/pipeline.h"
#include "restore/restore.h"
#include "util/progress.h"

#define PARENT_CHUNK	(16ULL << 20)

static int open_parent(const char *path, void *arg)
{
	const struct restore_run *run = arg;

	return pipeline_open_read_with(path, run->params, run->nr_params);
}

int restore_open_chain(struct restore_run *run)
{
	if (!run->img->ident.parent_id)
		return 0;
	if (!strcmp(run->path, "-") || strstr(run->path, "://")) {
		pr_err("%s: an incremental image is read from a file: its parent %s is found beside it",
		       run->path, run->img->ident.parent);
		return -1;
	}
	if (run->lazy) {
		pr_err("%s: restore --lazy of an incremental image is not supported yet",
		       run->path);
		return -1;
	}
	return img_read_chain(run->img, run->path, open_parent, run);
}

int restore_fill_parent(struct restore_proc *c, const struct img_pages *pg)
{
	uint64_t ps = c->run->host.page_size, addr = pg->addr;
	uint64_t off = pg->data_off, left = pg->nr_pages * ps;
	int fd = img_chain_fd(c->run->img, pg, -1);
	size_t cap = left < PARENT_CHUNK ? left : PARENT_CHUNK;
	uint8_t *buf = malloc(cap);
	int ret = -1;

	if (!buf || fd < 0)
		goto out;
	while (left) {
		size_t n = left < cap ? left : cap;

		if (pread_full(fd, buf, n, off)) {
			pr_perror("can't read parent image %s at %llu",
				  c->run->img->chain_paths[pg->src - 1],
				  (unsigned long long)off);
			goto out;
		}
		if (inject_write(c->ip, addr, buf, n)) {
			pr_perror("can't write memory of %d at %llx",
				  c->proc->proc.pid, (unsigned long long)addr);
			goto out;
		}
		progress_add(n);
		addr += n;
		off += n;
		left -= n;
	}
	ret = 0;
out:
	free(buf);
	return ret;
}
