/*
 * restore: rebuild the process of an image.
 *
 * 1. the image is read and checked whole (image/), then against this host
 *    (check.c): ISA, registers, PIDs free;
 * 2. a child is created with the image's PID (clone3 with set_tid); with
 *    ordinary libc it opens the files at their fd numbers, changes
 *    directory, umask, limits, maps a small trampoline page (a syscall
 *    instruction and scratch memory) and waits (child.c);
 * 3. the restorer seizes it and, by remote system calls, swaps in the
 *    image's address space (mm.c): it unmaps the child's own mappings,
 *    moves the vdso, maps every VMA and reads the pages straight from the
 *    image file into place;
 * 4. threads are cloned with their TIDs, signal state and per-thread
 *    kernel pointers set, then each thread's credentials (creds.c), and
 *    every thread gets its registers and FPU state through ptrace before
 *    the restorer detaches (task.c).
 *
 * This differs from the "restorer blob" of DESIGN.md: no freestanding code
 * runs in the target, and the kernel itself loads the full register and
 * XSAVE state (PTRACE_SETREGSET), which a hand-built sigframe must get
 * exactly right. The price is one ptrace round trip per system call.
 */
#ifndef CKPT_RESTORE_H
#define CKPT_RESTORE_H

#include <sys/types.h>

#include "image/image.h"
#include "inject/inject.h"

#define TRAMP_PAGES	4	/* code page + scratch pages */
#define VP_ANY		1	/* the VMA has pages in the image */
#define VP_HUGE		2	/* ... covering a whole aligned huge page */

/* A shared memory object as restore made it (shm.c). */
struct restore_shm {
	int fd;			/* anonymous or memfd: ours, else -1 */
	int shmid;		/* System V: the segment, else -1 */
	int reused;		/* an unused segment of the image's, found */
};

struct restore_ctx {
	struct image *img;
	struct restore_shm *shms;	/* per img->shms[], shared by all */
	pid_t restorer;		/* restore's own PID, for /proc/PID/fd */
	struct img_process *proc;	/* the one process restored */
	const char *path;
	const char *params[4];	/* "filter=value" for reading the image */
	int nr_params;
	int img_fd;		/* the image, open in restore */
	int child_img_fd;	/* its number in the child */
	long page_size;
	uint64_t tramp;		/* trampoline address (same in the child) */
	uint64_t tramp_len;
	uint64_t tmp_area;	/* a free range to park the vdso on the way */
	pid_t child;
	struct inject_proc *ip;
	int thp;		/* transparent huge page mode of the host */
	uint64_t huge_size;
	uint8_t *vpages;	/* per VMA: VP_ANY, VP_HUGE */
	struct img_caps own_caps;	/* restore's, which children start with */
};

/* check.c: the image against this host; returns an exit status or 0. */
int restore_check(struct restore_ctx *c);
/* Do want's securebits take PR_SET_SECUREBITS (and so CAP_SETPCAP) from
 * a thread with restore's own, after PR_SET_KEEPCAPS? */
int restore_sets_securebits(const struct img_caps *own,
			    const struct img_caps *want);
/* child.c: create the processes of the image (all[0] the root, each
 * created by its parent) waiting to be seized; 0 or an exit status. */
int restore_create_tree(struct restore_ctx *all, int n);
void restore_kill_tree(struct restore_ctx *all, int n);
/* files.c: the image's file table, opened in restore; fds[i] holds
 * img->files[i] (NULL and 0 when there is none) */
int restore_files_open(const struct image *img, int **fds) __must_check;
void restore_files_close(int *fds, uint32_t n);
int restore_file_index(const struct image *img, uint32_t id);
/* shm.c: the objects, before any process (0 or an exit status); after
 * every process has mapped them, seals and IPC_RMID; or, on failure, every
 * segment made is removed again. Both release the objects. */
int restore_shm_create(struct restore_ctx *c);
int restore_shm_finish(struct restore_ctx *c) __must_check;
void restore_shm_abort(struct restore_ctx *c);
/* sockets.c: sets fds[i] for every unix socket img->files[i] */
int restore_sockets_open(const struct image *img, int *fds) __must_check;
/* inet.c: likewise for every TCP and UDP socket */
int restore_inet_open(const struct image *img, int *fds) __must_check;
/* netlink.c: likewise for every netlink socket */
int restore_netlink_open(const struct image *img, int *fds) __must_check;
/* kfds.c: an eventfd, epoll, signalfd, timerfd or inotify file (an
 * epoll empty: restore_kfds_fill() adds its watches in the process p of
 * the tree that fills it, with the file table at files[] and no fd below
 * restore_kfds_top() open; -1 with errno and a message in err) */
int restore_kfd_open(const struct img_file *f);
int restore_kfds_top(const struct image *img);
int restore_kfds_fill(const struct image *img, const struct img_process *p,
		      const int *files, char *err, size_t len) __must_check;
/* mm.c */
int restore_mm(struct restore_ctx *c) __must_check;
/* task.c */
int restore_task(struct restore_ctx *c) __must_check;
/* creds.c: ids, capabilities, securebits of every thread, dumpable */
int restore_creds(struct restore_ctx *c) __must_check;

/* A remote call that must succeed: logs "what" with the error. */
int rcall(struct restore_ctx *c, int ti, const char *what, long *ret,
	  long nr, uint64_t a0, uint64_t a1, uint64_t a2, uint64_t a3,
	  uint64_t a4, uint64_t a5) __must_check;

#endif
