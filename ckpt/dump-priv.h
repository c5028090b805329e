/*
 * Dumper internals: the context passed between the steps of a dump.
 */
#ifndef CKPT_DUMP_PRIV_H
#define CKPT_DUMP_PRIV_H

#include "ckpt/dump.h"
#include "image/image.h"
#include "inject/inject.h"

struct dump_ctx {
	const struct dump_opts *o;
	pid_t pid;
	struct inject_proc *ip;	/* the frozen target */
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

/* A FILE record in the making, and an fd of the tree that has it. */
struct dump_file {
	struct img_file f;
	pid_t pid;
	int fd;
	pid_t outside;		/* a process outside the tree holding it */
	int outside_fd;
	int drop;
};

/* The processes of one dump: the root first, then its descendants. */
struct dump_tree {
	struct dump_ctx *procs;
	int n;
	struct dump_file *files;
	uint32_t nr_files;
};

/* dump-tree.c */
int dump_children_of(pid_t pid, pid_t **out);
int dump_tree_check_fds(const struct dump_tree *t) __must_check;

/* dump-filetab.c: the tree's FILE records, gathered while it is frozen */
int dump_tree_files(struct dump_tree *t) __must_check;
int dump_write_files(struct dump_tree *t, struct img_writer *w) __must_check;
void dump_free_files(struct dump_tree *t);

/* dump-kfds.c: eventfd, epoll, signalfd, timerfd, inotify */
uint32_t dump_kfd_kind(const char *link);	/* IMG_FILE_* or 0 */
int dump_kfds(struct dump_tree *t) __must_check;

#endif
