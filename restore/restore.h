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
 *
 * State has three scopes: struct restore_run, one per restore (the image,
 * its fd, the shared memory objects, the process table), with struct
 * restore_host in it (what this host is, read once at start), and struct
 * restore_proc, one per process of the image, which points at its run.
 */
#ifndef CKPT_RESTORE_H
#define CKPT_RESTORE_H

#include <sys/types.h>

#include "image/image.h"
#include "inject/inject.h"
#include "plugins/appset.h"

#define TRAMP_PAGES	4	/* code page + scratch pages */
#define VP_ANY		1	/* the VMA has pages in the image */
#define VP_HUGE		2	/* ... covering a whole aligned huge page */

/* A shared memory object as restore made it (shm.c). */
struct restore_shm {
	int fd;			/* anonymous or memfd: ours, else -1 */
	int shmid;		/* System V: the segment, else -1 */
	int reused;		/* an unused segment of the image's, found */
};

enum { THP_NEVER, THP_MADVISE, THP_ALWAYS };

/* Facts of this host, read once before the image (host.c). */
struct restore_host {
	long page_size;
	uint64_t tramp_len;	/* TRAMP_PAGES pages */
	int thp;		/* transparent huge page mode: THP_* */
	uint64_t huge_size;	/* of a PMD huge page */
	pid_t restorer;		/* restore's own PID, for /proc/PID/fd */
	struct img_caps own_caps;	/* restore's: each child's at start */
};

struct restore_proc;
struct lazy_server;
struct lazy_remote;

/* restore --fd N=PATH[:FLAGS] (fdopt.c) */
struct restore_fd_opt {
	int fd;			/* N, of the root process */
	const char *path;
	int flags;		/* open(2)'s, or -1: the original fd's */
	int pos;		/* at the original offset, not 0 */
	uint64_t offset;	/* that offset, once checked */
};

/* One restore: the image and what every process of it shares. */
struct restore_run {
	const char *path;
	const char *params[4];	/* "filter=value" for reading the image */
	int nr_params;
	struct restore_fd_opt *fd_opts;	/* --fd, in the order given */
	uint32_t nr_fd_opts;
	struct image *img;
	int img_fd;		/* the image, open in restore */
	int follow_fd, follow_wake;	/* --follow: the image still being
					 * written, and its wake-ups; or -1 */
	struct restore_shm *shms;	/* per img->shms[], until finished */
	int *ghost_fds;		/* per img->ghosts[], held until the end */
	int *pidfds;		/* per img->files[]: pidfd.c's, or -1 */
	struct restore_proc *procs;	/* per img->procs[], root first */
	struct restore_host host;
	int pid_taken;		/* the tree failed: a PID it needs is in use */
	pid_t guard;		/* the guardian (guard.c), or 0 */
	int guard_fd;		/* our end of its pipe, or -1 */
	int progress;		/* enum progress_mode (util/progress.h) */
	int lock_only;		/* --lock-network: take the lock, keep it */
	int lazy;		/* --lazy: memory through userfaultfd */
	int trust_pages;	/* --trust-pages: the lazy pages' CRCs not
				 * checked (lazy.c) */
	struct lazy_server *lazy_srv;	/* lazy.c's, once a process has one */
	struct lazy_remote *remote;	/* --lazy tcp://: lazy-remote.c's */
	int guard_ack;		/* the guardian's replies, or -1 */
	int own_oom_min;	/* restore's oom_score_adj minimum, when */
	int own_oom_known;	/* found already (pstate.c) */
	struct {		/* cgroup.c */
		const char *root;	/* --cgroup-root, or NULL */
		int *fds;	/* per img->cgroups[]: its cgroup.procs */
		char **made;	/* the directories made, in order */
		uint32_t nr_made;
		int ran;	/* the tree runs: they stay */
		/* the root's cgroup namespace (its NS record's hierarchies):
		 * per hierarchy, the cgroup.procs of the namespace's root
		 * cgroup, and of the root's cgroup with no CGROUP record
		 * (restore's own), where the two differ; else -1 */
		int *ns_fds, *back_fds;
	} cg;
	struct {		/* --pidns (ns.c) */
		int on;
		pid_t init;	/* its init, restore's helper, or 0 */
		int go;		/* our end of the init's pipe, or -1 */
		uint64_t ino;	/* the new namespace's inode */
		int root_init;	/* the image's root is its init (an NS
				 * record of kind PID): no helper */
	} pidns;
	struct {		/* the root's time namespace (timens.c) */
		int64_t mono_off, boot_off;	/* its offsets, in ns */
	} timens;
	struct {		/* --join-ns, NSJOIN records (nsjoin.c) */
		const char *path[IMG_NS_MAX + 1];	/* per kind, or NULL */
		int *fds;	/* per img->nsjoins[], open */
	} join;
	struct {		/* the image's user namespace (userns.c) */
		int go[2];	/* restore tells the root its maps are
				 * written, or -1 */
		gid_t *own;	/* restore's groups while it makes the
				 * root, or NULL */
		int nr_own;
		/* the image's, or self: one made for restore --pidns
		 * without privilege (rootless); NULL: none */
		const struct img_ns *ns;
		struct img_ns self;
		struct img_idmap self_uid, self_gid;
	} userns;
	int no_validate;	/* --no-validate: files may have changed */
	int drop_bounding;	/* --drop-bounding: bounding caps it lacks */
	struct {		/* the file snapshot (snapshot.c) */
		uint8_t *plan;	/* per img->snapfiles[], once checked */
		int dir;	/* IMAGE.files, or -1 */
	} snap;
	struct app_set apps;	/* --plugin: application plugins */
	struct {		/* --pty (pty.c) */
		int on;
		int m, s;	/* its master and slave, or -1 */
	} pty;
	struct {		/* --console-socket (console.c) */
		const char *path;	/* or NULL */
		int sk;		/* connected to it, or -1 */
	} console;
};

/* One process of the image being rebuilt. */
struct restore_proc {
	struct restore_run *run;
	struct img_process *proc;	/* its part of run->img */
	pid_t child;
	int child_img_fd;	/* the image's fd number in the child */
	uint64_t tramp;		/* trampoline address (same in the child) */
	/* its signal actions as it reported them, ready to be seized
	 * (child.c): task.c sets only those the image's differ from */
	struct img_sigact child_acts[IMG_NSIG];
	uint64_t tmp_area;	/* a free range to park the vdso on the way */
	struct inject_proc *ip;
	uint8_t *vpages;	/* per VMA: VP_ANY, VP_HUGE */
};

/*
 * A function below that can fail returns -1 (an int that is no fd or
 * index returns 0 on success) and has printed what failed, except where
 * it says otherwise; restore/main.c alone turns a failure into an exit
 * status, by the stage that failed.
 */

/* snapshot.c: the image's file snapshot looked at, its copies that
 * will be used checked, nothing changed (check); then what changed put
 * back (put). 0 or an exit status, said. */
int restore_snapshot_check(struct restore_run *run) __must_check;
int restore_snapshot_put(struct restore_run *run) __must_check;
/* f held by the snapshot: put back if it changed, not to validate */
int restore_snapshot_covers(const struct restore_run *run,
			    const struct img_fileid *f);
/* validate.c: every FILEID of the image the same file now, or a line
 * naming the first that is not */
int restore_validate_files(struct restore_run *run) __must_check;
/* app.c: application plugins told of ev (root: the new root, or 0); -1
 * when one refused, said (RUNNING never refuses) */
int restore_app_event(struct restore_run *run, enum ckpt_app_event ev,
		      pid_t root) __must_check;
/* ns.c: the sysctls of ns written in the namespace restore is in, in the
 * image's order; *what names the one that failed */
int restore_ns_sysctls(const struct img_ns *ns, const char **what)
	__must_check;
/* timens.c: the offsets of the image's time namespace, chosen before
 * anything of the tree is made (prepare); in the root, the namespace
 * made with them and entered; 0 if none */
void restore_timens_prepare(struct restore_run *run);
int restore_timens_make(const struct restore_run *run, pid_t pid)
	__must_check;

/* guard.c: a process that undoes what a restore killed outright leaves
 * behind: started before anything is made; told the tree's PIDs before
 * the first is let go; told done once the last runs, or once a failed
 * restore has cleaned up itself (then it exits without acting) */
int restore_guard_start(struct restore_run *run) __must_check;
/* one forked before the image is read (serve --restore), which
 * restore_guard_start keeps if it will do */
void restore_guard_early(struct restore_run *run);
void restore_guard_tree(struct restore_run *run);
/* a ghost about to be made under path (a directory if dir), the inode
 * made there, and the name unlinked again (or never made) */
void restore_guard_name(struct restore_run *run, const char *path, int dir);
void restore_guard_ino(struct restore_run *run, uint64_t ino);
void restore_guard_gone(struct restore_run *run);
void restore_guard_done(struct restore_run *run);
/* a userfaultfd of restore's that the guardian takes a duplicate of (and
 * holds until done) before this returns; leave: restore goes, another
 * process (the lazy pager) holds the pipe and tells done */
int restore_guard_uffd(struct restore_run *run, int fd) __must_check;
void restore_guard_leave(struct restore_run *run);
/* privs.c: no capability left in any set of restore (the bounding set
 * too when it holds CAP_SETPCAP), once the last process is let go */
int restore_drop_caps(void) __must_check;
/* host.c */
int restore_host_init(struct restore_host *h) __must_check;
/* check.c: the image against this host, before anything is made: the
 * image itself (a refusal is a bad image), its PIDs and TIDs free, the
 * capabilities of its threads within restore's own */
int restore_check_image(struct restore_run *run) __must_check;
int restore_check_pids(struct restore_run *run) __must_check;
/* groups.c: the group p must be put in that no process of the image
 * leads (a helper makes it), or 0; that each such id is free */
pid_t restore_leaderless_group(const struct restore_run *run,
			       const struct img_proc *p);
int restore_check_groups(const struct restore_run *run) __must_check;
int restore_check_caps(struct restore_run *run) __must_check;
/* Do want's securebits take PR_SET_SECUREBITS (and so CAP_SETPCAP) from
 * a thread with restore's own, after PR_SET_KEEPCAPS? */
int restore_sets_securebits(const struct img_caps *own,
			    const struct img_caps *want);
/* child.c: create the processes of the image (procs[0] the root, each
 * created by its parent) waiting to be seized; sets run->pid_taken when
 * that is why it failed */
int restore_create_tree(struct restore_run *run) __must_check;
void restore_kill_tree(struct restore_run *run);
/* coreflag.c: a zombie that dumped core dumps one again, in a directory
 * of its own (prepare, in it; cleanup, in its parent once it died);
 * unreachable says why that can't be done here, or NULL */
const char *restore_core_unreachable(void);
int restore_core_prepare(pid_t pid) __must_check;
void restore_core_cleanup(pid_t pid);
/* fdopt.c: --fd N=PATH[:FLAGS] parsed (arg is cut at FLAGS and kept),
 * then checked against the image (fd N of the root there; pos only on a
 * file with an offset); the option for fd of process c, or NULL; PATH
 * opened for f, or -1 with errno */
int restore_fd_opt_parse(struct restore_run *run, char *arg) __must_check;
int restore_fd_opts_check(struct restore_run *run) __must_check;
const struct restore_fd_opt *restore_fd_opt(const struct restore_proc *c,
					    int fd);
int restore_fd_opt_open(const struct restore_fd_opt *o,
			const struct img_fd *f);
/* files.c: the image's file table, opened in restore; fds[i] holds
 * img->files[i] (NULL and 0 when there is none); *tree: the unix queues
 * to fill once the tree's processes exist (restore_sockets_tree) */
struct restore_socks;
int restore_files_open(const struct restore_run *run, int **fds,
		       struct restore_socks **tree) __must_check;
void restore_files_close(int *fds, uint32_t n);
int restore_file_index(const struct image *img, uint32_t id);
/* a regular file, ghost or memfd of the image opened as open_reg() does
 * (its flags, its offset), or -1 */
int restore_file_open_reg(const struct restore_run *run,
			  const struct img_file *f) __must_check;
/* shm.c: the objects, before any process; after every process has mapped
 * them, seals and IPC_RMID; or, on failure, every segment made is removed
 * again. Both release the objects; abort after finish does nothing. */
int restore_shm_create(struct restore_run *run) __must_check;
int restore_shm_finish(struct restore_run *run) __must_check;
void restore_shm_abort(struct restore_run *run);
/* ghost.c: the files no path reached, made again (and unlinked) before
 * any process, held until run_free(); the fd of ghost id; the path by
 * which a process gets its cwd (dir 1) or exe (dir 0) link back: buf, or
 * link itself when it names no ghost */
int restore_ghosts_create(struct restore_run *run) __must_check;
int restore_ghost_fd(const struct restore_run *run, uint32_t id);
const char *restore_ghost_path(const struct restore_run *run,
			       const char *link, int dir, char *buf, size_t len);
void restore_ghosts_close(struct restore_run *run);
/* sockets.c: sets fds[i] for every unix socket img->files[i]; late:
 * what is left to do once every file is open (descriptors in flight),
 * which restore_sockets_late does and drop forgets (each frees it);
 * tree: what is left once the tree's processes exist (queues with their
 * credentials, SO_PASSCRED), which restore_sockets_tree does (refused
 * in a new pid namespace, pidns) */
struct restore_socks;
int restore_sockets_open(const struct image *img, int *fds,
			 struct restore_socks **late) __must_check;
int restore_sockets_late(struct restore_socks *late, const int *fds,
			 struct restore_socks **tree) __must_check;
int restore_sockets_tree(struct restore_socks *tree, int pidns)
	__must_check;
void restore_sockets_drop(struct restore_socks *late);
/* inet.c: likewise for every TCP and UDP socket */
int restore_inet_open(const struct image *img, int *fds) __must_check;
/* netlock.c: take, or remove, the network lock the image names, if it
 * names one, in restore's network namespace (removing one that is not
 * there is a no-op); 0, or -1 having said why */
int restore_netlock_take(const struct image *img) __must_check;
int restore_netlock_drop(const struct image *img);
/* does the image name a network lock? */
int restore_netlock_named(const struct image *img);
/* netlink.c: likewise for every netlink socket */
int restore_netlink_open(const struct image *img, int *fds) __must_check;
/* tty.c: sets fds[i] for every pty master and slave img->files[i] of
 * /dev/pts, the pairs with their index and state; _ns those of the
 * tree's own devpts instances, in the root once it made its mounts
 * (fds NULL: no files); in the child p, with the file table
 * at files[], the controlling terminal of the session p leads (before
 * its children are made), then that terminal's foreground group (-1
 * with errno) */
int restore_ttys_open(const struct image *img, int *fds) __must_check;
int restore_ttys_open_ns(const struct image *img, int *fds) __must_check;
int restore_tty_ctty(const struct image *img, const struct img_proc *p,
		     const int *files) __must_check;
int restore_tty_fg(const struct image *img, const struct img_proc *p,
		   const int *files) __must_check;
/* pgrp the foreground group of the terminal of slave s, once it exists */
int restore_tty_set_fg(int s, pid_t pgrp) __must_check;
/* pty.c: restore --pty. check: the image has one terminal (else says
 * why); open: the pty, as the image's terminal was; in the root: ctty,
 * before its children, its session on the pty; fg, after them, the
 * foreground group; bridge: restore's terminal to the pty until the root
 * ends, whose exit status it returns */
int restore_pty_check(const struct restore_run *run) __must_check;
/* console.c: --console-socket checked against the image's console and
 * connected (0 or an exit status); the root sends the console's new
 * master there; restore's copy of the socket closed */
int restore_console_check(struct restore_run *run) __must_check;
int restore_console_send(struct restore_run *run, const int *files)
	__must_check;
void restore_console_close(struct restore_run *run);
/* mnt.c: the binds of a devpts instance's ptys (runc's /dev/console),
 * made once the root made the ptys */
int restore_mnt_consoles(const struct image *img) __must_check;
int restore_pty_open(struct restore_run *run) __must_check;
void restore_pty_close(struct restore_run *run);
int restore_pty_ctty(const struct restore_run *run) __must_check;
int restore_pty_fg(const struct restore_run *run) __must_check;
int restore_pty_bridge(struct restore_run *run, pid_t root);
/* kfds.c: an eventfd, epoll, signalfd, timerfd or inotify file (an
 * epoll empty: restore_kfds_fill() adds its watches in the process p of
 * the tree that fills it, with the file table at files[] and none of the
 * numbers restore_kfds_tfds() lists open; -1 with errno and a message in
 * err) */
int restore_kfd_open(const struct img_file *f);
uint32_t restore_kfds_tfds(const struct image *img, int *out);
int restore_kfds_fill(const struct image *img, const struct img_process *p,
		      const int *files, char *err, size_t len) __must_check;
/* locks.c: the process's file locks, taken again in it (after mm.c: a
 * close there would drop a POSIX lock) */
int restore_locks(struct restore_proc *c) __must_check;
/* aio.c: the AIO contexts of the process and their rings, once its
 * address space is in place */
int restore_aio(struct restore_proc *c) __must_check;
/* fown.c: the SIGIO owners of c's fds, once its threads exist and it
 * has its ids (every process of the tree exists by then) */
int restore_fowns(struct restore_proc *c) __must_check;
/* pidfd.c: c's pidfds, made by restore once every process exists and
 * handed over (before c drops restore's credentials); fds the children
 * leave free */
int restore_pidfds(struct restore_proc *c) __must_check;
void restore_pidfds_close(struct restore_run *run);
int restore_is_pidfd(const struct image *img, const struct img_fd *f);
/* procfs.c: fds on /proc files of another process or of a thread, which
 * the child leaves free and restore_late_procfs() opens in c once every
 * process and c's threads exist */
int restore_is_late_proc(const struct img_proc *p, const struct img_fd *f);
int restore_late_procfs(struct restore_proc *c) __must_check;
/* cgroup.c: the image's cgroups made, before any process; the calling
 * process put in them (the root, in its child; -1 with errno); closed,
 * and the directories made removed if the restore failed */
int restore_cgroups_make(struct restore_run *run) __must_check;
int restore_cgroups_enter(const struct restore_run *run) __must_check;
void restore_cgroups_close(struct restore_run *run, int failed);
/* ns.c: in the child of process pid, the namespaces it owns, made
 * (-1 with errno and in *what the kind that failed); that each owner is
 * a live process of the image */
int restore_ns_make(const struct restore_run *run, pid_t pid,
		    const char **what) __must_check;
/* nsjoin.c: --join-ns KIND=PATH taken; the namespaces of the NSJOIN
 * records opened (saying why not); in process pid (or restore, for the
 * root's network one), the one of kind it joins entered, *joined set,
 * or *joined 0 */
int restore_join_opt(struct restore_run *run, const char *arg)
	__must_check;
int restore_join_open(struct restore_run *run) __must_check;
int restore_join(const struct restore_run *run, uint32_t kind, pid_t pid,
		 int *joined) __must_check;
/* ipcns.c: in the IPC namespace ns just made, its System V objects;
 * *what names the one that failed */
int restore_ipcns_make(const struct restore_run *run,
		       const struct img_ns *ns, const char **what)
	__must_check;
int restore_check_nss(const struct restore_run *run) __must_check;
/*
 * userns.c: the image's user namespace (an NS record of kind USER, the
 * root's), made with the root (CLONE_NEWUSER in flag(), before every
 * other namespace, so that they are its) and given its maps by restore
 * (before ... after around the clone; after with -1 when it failed),
 * which the root waits for in wait() before it does anything else.
 * check: each process's ids are mapped in it and its groups can be
 * given; ids: p's ids as seen in it, uid euid suid gid egid sgid, and
 * its groups (*keep: those it has from its creation, left alone).
 */
int restore_userns_check(const struct restore_run *run) __must_check;
/* --pidns without CAP_SYS_ADMIN and no user namespace in the image: a
 * new one where restore's ids are mapped to themselves, so that it may
 * make the PID namespace (rootless); -1 said */
int restore_userns_rootless(struct restore_run *run) __must_check;
/* The capabilities each process of the tree starts with: restore's, or
 * in a new user namespace every one (user_namespaces(7)), securebits 0 */
const struct img_caps *restore_start_caps(const struct restore_run *run);
uint64_t restore_userns_flag(const struct restore_run *run);
int restore_userns_before(struct restore_run *run) __must_check;
int restore_userns_after(struct restore_run *run, pid_t child);
int restore_userns_wait(struct restore_run *run) __must_check;
void restore_userns_ids(const struct restore_run *run,
			const struct img_proc *p, uint32_t ids[6],
			uint32_t *groups, int *keep);
/* netdev.c: restore in a network namespace of its own, the image's
 * (NETDEV and ROUTE records), when the root had one; before the lock */
int restore_net_make(const struct restore_run *run) __must_check;
/* tun.c: a tun device made (persistent until its first fd is back); a
 * TUN FILE opened and attached to it again */
int restore_tun_make(const struct img_netdev *d) __must_check;
int restore_tun_open(const struct image *img, const struct img_file *f);
/* mnt.c: the tree's mounts (MOUNT records): in restore, binds and tmpfs
 * mounts in a mount namespace of its own (prepare); the image's files
 * opened between enter and leave (inside the tree's root); in the root's
 * child, the rest and the pivot into the tree's root (make) */
int restore_mnt_prepare(const struct restore_run *run) __must_check;
int restore_mnt_enter(const struct restore_run *run, int *old) __must_check;
void restore_mnt_leave(int old);
int restore_mnt_make(const struct restore_run *run) __must_check;
/* mount m (TMPFS filled, PROC, ...) at at, with its flags, an INNER
 * bind's source found in the tree's root base ("": ours); its
 * propagation at its point (nothing done for a private one) */
int restore_mnt_one(const struct image *img, const struct img_mount *m,
		    const char *at, const char *base) __must_check;
int restore_mnt_propagate(const struct img_mount *m) __must_check;
/* mntns.c: a mount namespace below the root's, made by its owner from
 * a copy of its parent's; the image's such namespaces checked first */
int restore_mntns_make(const struct restore_run *run,
		       const struct img_ns *ns) __must_check;
int restore_mntns_check(const struct restore_run *run) __must_check;
/* the namespace below the root's whose owner opens FILE i (a regular
 * file only its processes hold), or NULL; those files opened into
 * files[] (image order), by the owner once its namespace is made */
/* ipcns.c: the tree's POSIX message queue files opened by name, in the
 * calling process's IPC namespace, into files[]; -1 and errno, *name the
 * queue that failed */
int restore_mqueue_files(const struct image *img, int *files,
			 const char **name) __must_check;
const struct img_ns *restore_mntns_file(const struct image *img,
					uint32_t i);
int restore_mntns_files(const struct restore_run *run,
			const struct img_ns *ns, int *files) __must_check;
/* ns.c, --pidns: the image fits one (check, instead of its PIDs being
 * free here); fork: the namespace's init, which makes the root with its
 * image PID pid: in restore its init's PID (or -1 with errno), 0 in the
 * root; release: the tree runs, the init outlives restore; end: the init
 * killed (and with it the namespace); wait: for it, the root's exit
 * status; host_pid: the PID here of process pid of the namespace (pid
 * itself without --pidns), or -1 */
int restore_pidns_check(const struct restore_run *run) __must_check;
/* An image whose root was the init of its own PID namespace (an NS
 * record of kind PID) is restored in a new one whose init it is again,
 * whether --pidns was given or not: pidns.on and pidns.root_init set;
 * -1 (said) with --pty */
int restore_pidns_own(struct restore_run *run) __must_check;
/* That root, made with CLONE_NEWPID (PID 1 there), 0 in it, or -1 */
pid_t restore_pidns_fork_init(struct restore_run *run);
pid_t restore_pidns_fork(struct restore_run *run, pid_t pid);
void restore_pidns_release(struct restore_run *run);
void restore_pidns_end(struct restore_run *run);
int restore_pidns_wait(struct restore_run *run);
pid_t restore_host_pid(const struct restore_run *run, pid_t pid);
/* pidnest.c, the PID namespaces below the tree's top one (NS records of
 * kind PID not owned by 1, each process's pidlv): check: the image's
 * are a tree, each with its init, each process's levels its own; tids:
 * the set_tid of clone3 for child kp of parent, innermost first (its
 * count), CLONE_NEWPID added to *flags when it is the init of one its
 * parent makes with it; local: what process me calls process pid (an
 * image PID), 0 when outside its namespace; self: what p calls itself */
int restore_pidnest_check(const struct restore_run *run) __must_check;
uint32_t restore_pidnest_tids(const struct img_proc *parent,
			      const struct img_proc *kp, pid_t *tids,
			      uint64_t *flags);
pid_t restore_pidnest_local(const struct restore_run *run,
			    const struct img_proc *me, pid_t pid);
/* p's own getpid(); the set_tid of thread t (its count) */
pid_t restore_pidnest_self(const struct img_proc *p);
uint32_t restore_pidnest_tids_of(const struct img_thread *t, pid_t *tids);
/* mm.c; vma_of: the index of the VMA that holds addr (every page of the
 * image lies in one); has_pages: the image has pages of v (during
 * restore_mm only) */
int restore_mm(struct restore_proc *c) __must_check;
uint32_t restore_vma_of(const struct img_process *p, uint64_t addr);

/* incr.c: an incremental image's parents, read and checked (before
 * anything is made); a run of pages that a parent holds, filled in */
int restore_open_chain(struct restore_run *run) __must_check;
int restore_fill_parent(struct restore_proc *c, const struct img_pages *pg)
	__must_check;
int restore_vma_has_pages(const struct restore_proc *c,
			  const struct img_vma *v);
/* lazy.c: restore --lazy. vma: is v filled on demand; add: c's lazy
 * VMAs registered with a userfaultfd that restore serves from now on
 * (before finish_vma: mprotect and advice keep the registration); wait:
 * until every page is in place (-1: a fetch failed, the processes are
 * killed); pager: --detach, a pager process waits instead; abort: the
 * serving stops (the tree is being killed) */
int restore_lazy_vma(const struct restore_proc *c, const struct img_vma *v);
int restore_lazy_add(struct restore_proc *c) __must_check;
/* The CRC of each page record the reader deferred that no lazy VMA will
 * fetch, checked now: before anything is made */
int restore_lazy_check(struct restore_run *run) __must_check;
int restore_lazy_wait(struct restore_run *run) __must_check;
int restore_lazy_pager(struct restore_run *run) __must_check;
void restore_lazy_abort(struct restore_run *run);
/* lazy-remote.c: --lazy from a ckpt serve (run->path tcp://...). open:
 * the image's state in a memfd (its deferred page records left out), the
 * connection kept in run->remote; -1 with one line (errno ENOENT: can't
 * connect; EBADMSG: the stream). fetch: the record at rec_off of r's
 * image into fd, at its place (one line on error). drop: pg's data out
 * of fd once used. close: the connection, no goodbye (a pager forked
 * with a copy may still use it). */
int restore_remote_open(struct restore_run *run) __must_check;
int restore_remote_fetch(struct lazy_remote *r, int fd, uint64_t rec_off,
			 uint32_t page_size) __must_check;
void restore_remote_drop(int fd, const struct img_pages *pg, uint32_t ps);
void restore_remote_close(struct restore_run *run);
/* task.c */
int restore_task(struct restore_proc *c) __must_check;
/* pstate.c: prctl state of the process and of each thread; the
 * parent-death signals, after the credentials that clear them */
int restore_pstate(struct restore_proc *c) __must_check;
int restore_pdeathsig(struct restore_proc *c) __must_check;
int restore_mlockall(struct restore_proc *c) __must_check;
/* the oom_score_adj minimum: restore's, or set with CAP_SYS_RESOURCE */
int restore_check_oom_min(struct restore_run *run) __must_check;
/* restore's own minimum found before the image is read (serve
 * --restore: its fork and writes, 4 ms, are off a migration's downtime);
 * nothing if it can't be: restore_check_oom_min tries again */
void restore_oom_min_early(struct restore_run *run);
int restore_has_sys_resource(const struct restore_run *run);
/* timers.c: POSIX timers made with their ids once the threads exist,
 * armed last */
int restore_timers_create(struct restore_proc *c) __must_check;
int restore_timers_arm(struct restore_proc *c) __must_check;
/* creds.c: ids, capabilities, securebits of every thread, dumpable */
int restore_creds(struct restore_proc *c) __must_check;

/* tshare.c: the cwd, umask and fd table of threads that have their own,
 * once the threads exist */
int restore_thread_own(struct restore_proc *c) __must_check;

/* seccomp.c: the threads' filters, while the target has our privilege */
int restore_seccomp(struct restore_proc *c) __must_check;

/* A remote call that must succeed: logs "what" with the error. */
int rcall(struct restore_proc *c, int ti, const char *what, long *ret,
	  long nr, uint64_t a0, uint64_t a1, uint64_t a2, uint64_t a3,
	  uint64_t a4, uint64_t a5) __must_check;

#endif
