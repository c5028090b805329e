/*
 * Dumper internals: the context passed between the steps of a dump.
 */
#ifndef CKPT_DUMP_PRIV_H
#define CKPT_DUMP_PRIV_H

#include <errno.h>

#include "ckpt/dump.h"
#include "image/image.h"
#include "inject/inject.h"

struct dump_ctx {
	const struct dump_opts *o;
	pid_t pid;
	struct inject_proc *ip;	/* the frozen target */
	int died;		/* found killed when it was thawed */
	int leader;		/* index of the thread group leader */
	struct img_writer *w;
	struct img_process proc;	/* what is gathered before writing */
	struct proc_map *maps;
	int nr_maps;
	uint64_t brk;
	long page_size;
};

/* dump-mem.c */
int dump_collect_vmas(struct dump_ctx *c) __must_check;
int dump_write_memory(struct dump_ctx *c) __must_check;

/* dump-files.c */
int dump_collect_fds(struct dump_ctx *c) __must_check;

/* dump-task.c */
int dump_check_supported(struct dump_ctx *c) __must_check;
int dump_collect_proc(struct dump_ctx *c) __must_check;
int dump_collect_threads(struct dump_ctx *c) __must_check;
int dump_collect_sigacts(struct dump_ctx *c) __must_check;
void dump_free_process(struct img_process *p);

int dump_interrupted(const struct dump_ctx *c);
/* Has the process died (or is it dying)? */
int dump_gone(const struct dump_ctx *c);

/*
 * pr_perror, unless the process has died: that is said once, naming it,
 * when the dump is abandoned, and the reads that failed with it add only
 * noise. errno is kept.
 */
#define dump_perror(c, ...)						\
	do {								\
		int saved_ = errno;					\
									\
		if (!dump_gone(c)) {					\
			errno = saved_;					\
			pr_perror(__VA_ARGS__);				\
		}							\
		errno = saved_;						\
	} while (0)

/* The processes of one dump: the root first, then its descendants. */
struct dump_tree {
	struct dump_ctx *procs;
	int n;
};

/* dump-tree.c */
int dump_children_of(pid_t pid, pid_t **out);
int dump_tree_check_fds(const struct dump_tree *t) __must_check;
int dump_is_zombie(pid_t pid, struct proc_stat *st);
int dump_zombie(pid_t pid, struct img_proc *p) __must_check;

#endif
