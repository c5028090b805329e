/*
 * Dumper internals: the context passed between the steps of a dump.
 */
#ifndef CKPT_DUMP_PRIV_H
#define CKPT_DUMP_PRIV_H

#include <sys/stat.h>
#include <errno.h>

#include "ckpt/dump.h"
#include "image/image.h"
#include "inject/inject.h"
#include "plugins/app.h"
#include "util/proc.h"

/* Memory objects that mappings of the tree share (dump-shm.c). */
struct dump_shm_obj {
	struct img_shm shm;
	uint64_t dev, ino;	/* as the maps show them */
	uint64_t ipcns;		/* System V: its IPC namespace, 0 if ckpt's */
	pid_t pid;		/* the first process that maps it */
	int fd;			/* opened through /proc/PID/map_files */
};

struct dump_shm_table {
	struct dump_shm_obj *objs;
	uint32_t n;
};

/* Files no path reaches, that the tree holds (dump-ghost.c). */
struct dump_ghost {
	struct img_ghost g;
	int fd;			/* opened through /proc */
};

struct dump_ghost_table {
	struct dump_ghost *objs;
	uint32_t n;
};

struct dump_tree;

/* dump-incr.c: what makes this image a child of another, for one dump */
struct dump_incr_run {
	struct dump_incr *st;	/* tracking kept between dumps, or NULL */
	struct img_ident ident;	/* this image's IDENT record */
	struct image *parent;	/* --parent: read, its chain resolved */
	int parent_fd;
	int touched;		/* the tracking changed: a failure loses it */
};

struct dump_ctx {
	const struct dump_opts *o;
	struct dump_incr_run *ir;	/* the tree's */
	struct dump_shm_table *shms;	/* the tree's, shared by its procs */
	struct dump_ghost_table *ghosts;	/* the same */
	struct dump_pre_table *pres;	/* the same (dump-precopy.c) */
	struct dump_pre *pre;	/* its memory taken while frozen, or NULL */
	pid_t pid;
	struct inject_proc *ip;	/* the frozen target */
	int died;		/* found killed when it was thawed */
	/* dump-cow.c: its copy-on-write snapshot (our pid of it, and the
	 * process's), or 0; the pages it does not hold, or NULL */
	pid_t cow_pid, cow_vpid;
	struct dump_cow_runs *cow_runs;
	int leader;		/* index of the thread group leader */
	struct img_writer *w;
	struct img_process proc;	/* what is gathered before writing */
	struct proc_map *maps;
	int nr_maps;
	struct dump_smaps *smaps;	/* being read (dump-maps.c) */
	struct dump_smaps_pre *smaps_pre;	/* what dump_maps_begin takes
						 * instead, or NULL */
	struct dump_prescan *prescan;	/* dump-prescan.c's, or NULL */
	uint64_t brk;
	long page_size;
	/* what this process's wait() would report of each child */
	struct dump_wait {
		pid_t pid;
		uint32_t wait;		/* IMG_WAIT_* */
	} *waits;
	int nr_waits;
};

/* dump-maps.c, --pre-copy: smaps read while the process still runs, with
 * the sequence count of its address space before (mm->mm_lock_seq,
 * through BPF); valid: both were read */
struct dump_smaps_pre {
	int valid;
	uint32_t seq;
	struct proc_map *maps;
	int n;
};
void dump_maps_preread(pid_t pid, struct dump_smaps_pre *p);
void dump_maps_preread_free(struct dump_smaps_pre *p);
/* dump-precopy.c: c's (or dump-incr.c's), or NULL */
struct dump_smaps_pre *dump_pre_smaps(struct dump_ctx *c);
struct dump_smaps_pre *dump_incr_smaps(struct dump_ctx *c);
/* dump-maps.c: c->maps read from /proc/PID/maps; begin: a thread
 * started that reads their flags from smaps; end: joined, the flags set
 * (every begin that succeeded has its end, which says what failed). */
int dump_maps_read(struct dump_ctx *c) __must_check;
int dump_maps_begin(struct dump_ctx *c) __must_check;
int dump_maps_end(struct dump_ctx *c) __must_check;

/* dump-memread.c: a thread that reads the next chunk of a run of pages
 * while the last one is written (start: 0, or 1 if no CPU is idle for
 * it, -1 if it can't be made: NULL io->rd, the run then read and written
 * in turn); the run [addr, end) written into the open PAGES record. */
struct dump_mem_io;
int dump_memread_start(struct dump_ctx *c, struct dump_mem_io *io);
void dump_memread_stop(struct dump_mem_io *io);
int dump_memread_run(struct dump_ctx *c, struct dump_mem_io *io,
		     uint64_t addr, uint64_t end) __must_check;

/* dump-mem.c */
int dump_collect_vmas(struct dump_ctx *c) __must_check;
/* What the walk over the wanted pages reads with; buf holds
 * DUMP_MEM_CHUNK bytes: small enough to stay in the cache between the read
 * from the target and the write (and to be faulted in once, not at each
 * 16 MiB read as before), large enough for few system calls. */
#define DUMP_MEM_CHUNK	(256UL << 10)
struct dump_mem_io {
	int pagemap_fd, mem_fd;
	uint64_t *pme;
	uint8_t *buf;
	struct dump_memread *rd;	/* the reader thread, or NULL */
	/* where the time went (a debug line at close): reading the target
	 * (or waiting for the reader thread), CRC and write to the image */
	pid_t pid;
	int rd_used;
	uint64_t ns_read, ns_write, bytes;
};
/* CLOCK_MONOTONIC in nanoseconds, for those figures. */
uint64_t dump_mem_clock(void);
typedef int (*dump_run_fn)(struct dump_ctx *c, struct dump_mem_io *io,
			   uint64_t addr, uint64_t nr_pages, void *arg);
/* fn() on each run of the pages the image must hold, VMA by VMA, as the
 * pagemap shows them now. */
int dump_mem_each_run(struct dump_ctx *c, dump_run_fn fn, void *arg)
	__must_check;
/* The files and buffers of one process's walk, opened and released. */
int dump_mem_io_open(struct dump_ctx *c, struct dump_mem_io *io)
	__must_check;
void dump_mem_io_close(struct dump_mem_io *io);
/* fn() on each run of the wanted pages of the VMA v, as its pagemap
 * shows them now. */
int dump_mem_vma_runs(struct dump_ctx *c, struct dump_mem_io *io,
		      const struct img_vma *v, dump_run_fn fn, void *arg)
	__must_check;
/* Are the pages of v that PAGEMAP_SCAN puts in the categories cat
 * (PAGE_IS_*, dump-uffd.h) among those the image holds? */
int dump_mem_wanted_cat(const struct img_vma *v, uint64_t cat);
int dump_mem_read(struct dump_ctx *c, struct dump_mem_io *io, uint64_t addr,
		  void *buf, size_t len) __must_check;
/* a dump_run_fn: the run read from the frozen process into a PAGES
 * record */
int dump_mem_write_run(struct dump_ctx *c, struct dump_mem_io *io,
		       uint64_t addr, uint64_t nr, void *arg) __must_check;

/* dump-incr.c: incremental images. Begin: before the freeze, the parent
 * read (--parent) or the tracking's state taken; the IDENT record; the
 * memory of one frozen process, written as PAGES and PARENT_PAGES; the
 * end of the dump, committed (ok) under name or not. */
int dump_incr_begin(struct dump_incr_run *ir, const struct dump_opts *o)
	__must_check;
int dump_incr_write_ident(const struct dump_incr_run *ir,
			  struct img_writer *w) __must_check;
int dump_incr_memory(struct dump_ctx *c) __must_check;
/* With the tracking kept and the tree to run on: are its pages read
 * while frozen (dump_incr_hold, each process) and written after the thaw
 * (dump_incr_memory)? */
int dump_incr_late(struct dump_tree *t);
int dump_incr_hold(struct dump_ctx *c) __must_check;
void dump_incr_end(struct dump_incr_run *ir, const char *name, int ok);
/* dump-guardpages.c: the guard regions of the VMAs collected */
int dump_collect_guards(struct dump_ctx *c) __must_check;
/* dump-aio.c: the AIO contexts of the process and their rings, which are
 * no VMAs of the image (dump_is_aio_ring) */
int dump_is_aio_ring(const char *path);
int dump_collect_aio(struct dump_ctx *c) __must_check;
int dump_write_aios(struct dump_ctx *c) __must_check;
void dump_free_aios(struct img_process *p);
int dump_write_memory(struct dump_ctx *c) __must_check;

#define DUMP_OBJ_CHUNK	(16UL << 20)	/* bytes copied at once */

/* An object whose contents go in the image as PAGES at their offsets. */
struct dump_obj {
	int fd;
	uint64_t size;
	const char *what;	/* for messages: "ghost 3" */
	uint32_t id;
};

/* dump-shm.c */
uint32_t dump_shm_kind(const struct proc_map *m);
int dump_shm_link(struct dump_ctx *c, const struct proc_map *m,
		  struct img_vma *v, uint32_t kind) __must_check;
struct dump_shm_obj *dump_shm_find(const struct dump_shm_table *t,
				   uint32_t kind, uint64_t dev, uint64_t ino);
/* An fd whose link shows a memfd becomes an open of its object (the file
 * table's kind MEMFD), or is refused with a message */
int dump_memfd_link(const char *link);
int dump_shm_fd(struct dump_ctx *c, struct img_fd *f, const char *link)
	__must_check;
int dump_write_shms(struct dump_ctx *c) __must_check;
int dump_obj_pages(struct dump_ctx *c, const struct dump_obj *o,
		   uint8_t *buf, uint64_t *bytes) __must_check;
void dump_free_shms(struct dump_shm_table *t);

/* dump-ghost.c: a link the kernel shows as "PATH (deleted)" is a ghost;
 * an fd (made IMG_FD_FILE), a mapping or the cwd of one is added to the
 * tree's table, or refused with a message */
int dump_ghost_link(const char *link, const struct stat *st);
struct dump_ghost *dump_ghost_find(const struct dump_ghost_table *t,
				   uint64_t dev, uint64_t ino);
int dump_ghost_fd(struct dump_ctx *c, struct img_fd *f, const char *link)
	__must_check;
int dump_ghost_vma(struct dump_ctx *c, const struct proc_map *m,
		   struct img_vma *v) __must_check;
/* the cwd and the exe */
int dump_ghost_proc(struct dump_ctx *c) __must_check;
int dump_write_ghosts(struct dump_ctx *c) __must_check;
void dump_free_ghosts(struct dump_ghost_table *t);

/* dump-files.c */
int dump_collect_fds(struct dump_ctx *c) __must_check;
/* what: the fd's file as the image keeps it; why: the whole reason,
 * naming it */
int dump_fd_unsupported(const struct dump_opts *o, pid_t pid,
			struct img_fd *f, const char *what, const char *why)
	__must_check;

/* dump-locks.c: the locks held through the process's fds; a lease or an
 * unknown lock is refused, naming the fd */
int dump_collect_locks(struct dump_ctx *c) __must_check;
int dump_write_locks(struct dump_ctx *c) __must_check;
/* dump-fown.c: SIGIO owners and signals, by remote fcntl; of the tree */
int dump_collect_fowns(struct dump_ctx *c) __must_check;
int dump_write_fowns(struct dump_ctx *c) __must_check;
/* The locks of fd f from the text of its fdinfo (what the fuzzer feeds) */
int dump_locks_info(struct dump_ctx *c, struct img_fd *f, const char *s)
	__must_check;

/* dump-pstate.c: prctl and /proc state, the group stop, the parent's
 * view of it; a process traced by another is refused */
pid_t dump_tracer_of(pid_t pid);
int dump_check_untraced(pid_t pid) __must_check;
int dump_collect_pstate(struct dump_ctx *c) __must_check;
int dump_collect_tstate(struct dump_ctx *c, int ti, struct img_tstate *t)
	__must_check;

/* dump-timers.c: POSIX timers, once the threads' signals are read */
int dump_collect_timers(struct dump_ctx *c) __must_check;

/* dump-kstate.c: the kernel's timer and seccomp state, through BPF */
#include "ckpt/bpf/kstate.h"
struct dump_kstate {
	struct ckpt_kstate_rec *recs;
	size_t n;
};
int dump_kstate_read(pid_t pid, struct dump_kstate *ks) __must_check;
void dump_kstate_preload(void);
void dump_semundo_preload(void);
/* dump-task.c: the BPF iterator that reads signal actions, loaded */
void dump_sigacts_preload(void);
void dump_kstate_free(struct dump_kstate *ks);
/* Default timer slacks, the oom_score_adj minimum: when BPF tells. */
int dump_collect_unseen(struct dump_ctx *c) __must_check;
/* A thread in restart_syscall: the call it continues, made again. */
int dump_restart_call(struct dump_ctx *c, pid_t tid, struct arch_regs *r)
	__must_check;

/* dump-seccomp.c: filters let our remote calls through, then are read */
int dump_seccomp_suspend(struct dump_ctx *c) __must_check;
/* attach --landmark: the thread run on to a landmark (dump-landmark.c) */
int dump_landmark(struct dump_ctx *c) __must_check;
int dump_collect_seccomp(struct dump_ctx *c) __must_check;

/* dump-task.c */
int dump_collect_proc(struct dump_ctx *c) __must_check;

/* dump-proctext.c: the text of /proc/PID/status: "Key:" (with its
 * leading "\n") and the number after it, in base */
int dump_status_field(const char *status, const char *key, int base,
		      unsigned long *val) __must_check;
/* umask, no_new_privs, ids and groups of p (what the fuzzer feeds) */
int dump_status_info(const char *s, struct img_proc *p) __must_check;
/* the POSIX timers of pid (for messages) from /proc/PID/timers, added to
 * s; on error s may hold the ones before */
int dump_timers_info(const char *buf, pid_t pid, struct img_pstate *s)
	__must_check;
/* the device and mount point (mnt: PATH_MAX bytes) of a line of
 * /proc/PID/mountinfo */
int dump_mountinfo_line(const char *line, dev_t *dev, char *mnt)
	__must_check;
int dump_collect_threads(struct dump_ctx *c) __must_check;
int dump_collect_threads_remote(struct dump_ctx *c) __must_check;
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

/* A FILE record in the making, and an fd of the tree that has it. */
struct dump_file {
	struct img_file f;
	pid_t pid;
	int fd;
	pid_t outside;		/* a process outside the tree holding it */
	int outside_fd;
	char *why;		/* why it can't be kept (dump-sockets.c) */
	int drop;
	int peer_outside;	/* a TCP connection kept without its peer */
	/* dump-inet-accept.c: a listener's connections not accepted yet
	 * (at probe time); one of them (pending, with the listener's pid
	 * and fd), once ckpt accepted it from a copy of its listener: its
	 * own fd of it plus one */
	uint32_t queued;
	int pending, own;
};

/* The processes of one dump: the root first, then its descendants. */
/* dump-precopy.c: the memory copied while the tree runs (--pre-copy),
 * one entry a process */
struct dump_pre_table {
	struct dump_pre **v;
	int n;
};

struct dump_tree {
	struct dump_ctx *procs;
	int n;
	struct dump_incr_run ir;
	int incr_late;		/* dump_incr_late() said so */
	struct dump_pre_table pres;
	struct dump_file *files;
	uint32_t nr_files;
	struct dump_shm_table shms;
	struct dump_ghost_table ghosts;
	/* dump-netlock.c: the lock's table, or NULL; its namespace (an fd,
	 * 0 when none is open) and whether the table was made */
	char *netlock;
	int netlock_ns, netlock_taken;
	int guard;	/* dump-guard.c: the guardian's socket, or -1 */
	int cow_guard;	/* dump-cow.c: its guardian's socket, or -1 */
	struct img_ns *nss;	/* dump-ns.c: the tree's own namespaces */
	uint32_t nr_nss;
	struct img_sysv *sysvs;	/* dump-ipcns.c: System V objects of */
	uint32_t nr_sysvs;	/* those that are IPC ones */
	struct img_nsjoin *nsjoins;	/* dump-nsjoin.c: shared ones */
	uint32_t nr_nsjoins;
	struct img_cgroup *cgroups;	/* dump-cgroup.c: not ckpt's */
	uint32_t nr_cgroups;
	struct dump_mnt *mnt;	/* dump-mnt.c: the root's mounts, or NULL */
	struct dump_mntns *mntns;	/* dump-mntns.c: those below it */
	uint32_t nr_mntns;
	struct dump_net *net;	/* dump-netdev.c: the root's network
				 * namespace, when not ckpt's, or NULL */
	struct arch_gadgets code;	/* the root's code for remote calls,
					 * found before the freeze */
};

/* dump-mnt.c: the MOUNT records of the root's mount namespace */
struct dump_mnt {
	struct img_mount *recs;
	uint32_t n;
	int *fds;		/* TMPFS: its root, read in our copy */
	char **cgroots;		/* a cgroup BIND's mountinfo root, else
				 * NULL (dump_mnt_cgroups()) */
};

/* dump-precopy.c (--pre-copy). Arm: the tree frozen, each process gets
 * write tracking (a userfaultfd of its own, held by ckpt) over its
 * private writable memory. Rounds: the tree running, its memory copied,
 * then what it wrote since, again while that shrinks. Snapshot: frozen
 * again, what was written since the last round is copied, and the
 * tracking ends; the pages are then written from ckpt's copy, even after
 * the thaw (dump_pre_write). A process without tracking is copied whole
 * by its snapshot. */
int dump_pre_arm(struct dump_tree *t) __must_check;
int dump_pre_rounds(struct dump_tree *t) __must_check;
int dump_pre_snapshot(struct dump_ctx *c) __must_check;
int dump_pre_write(struct dump_ctx *c) __must_check;
void dump_pre_free(struct dump_pre_table *t);
/* The categories the final freeze asks PAGEMAP_SCAN for. */
#define DUMP_SNAP_CATS	(PAGE_IS_PRESENT | PAGE_IS_SWAPPED | PAGE_IS_FILE | \
			 PAGE_IS_WRITTEN | PAGE_IS_GUARD)
/* dump-prescan.c: that scan of c's maps started in a thread (nothing if
 * it can't be); get: the regions of the VMA [start, end) once it is done,
 * or NULL when it was not scanned whole; end: joined and freed. */
void dump_prescan_begin(struct dump_ctx *c);
const struct page_region *dump_prescan_get(struct dump_ctx *c,
					   uint64_t start, uint64_t end,
					   size_t *n);
void dump_prescan_end(struct dump_ctx *c);
/* What write tracking covers: private, writable, anonymous memory. */
int dump_pre_trackable(const struct proc_map *m);
/* A userfaultfd made by the frozen process c, ours, with asynchronous
 * write protection; -1 when it can have none (told with -v), -2 on an
 * error that fails the dump. */
int dump_pre_open_uffd(struct dump_ctx *c);
/* m registered with uffd for write protection (protect 0), or its pages
 * protected (1): the ioctl's result */
int dump_pre_uffd_op(int uffd, int protect, const struct proc_map *m);
/* PAGEMAP_SCAN of [start, end) of the pagemap pm: fn on each region it
 * reports; -1 when the kernel refuses (errno) or fn fails. */
int dump_pm_scan(int pm, uint64_t start, uint64_t end, uint64_t flags,
		 uint64_t mask, uint64_t anyof,
		 int (*fn)(void *arg, uint64_t s, uint64_t e), void *arg)
	__must_check;

/* dump-cow.c (--cow). Snap: the tree frozen, each process makes its
 * snapshot. End: each snapshot killed and reaped, its process frozen
 * again a moment to reap it first (always, after the thaw). The memory
 * of c is read from the process dump_mem_pid names. */
int dump_cow_snap(struct dump_tree *t) __must_check;
void dump_cow_end(struct dump_tree *t);
pid_t dump_mem_pid(const struct dump_ctx *c);
/* The memory of c written from its snapshot and what it does not hold */
int dump_cow_write_memory(struct dump_ctx *c) __must_check;

/* dump-ns.c: the tree's namespaces, refused (saying why) or recorded;
 * their NS records; freed */
int dump_tree_ns(struct dump_tree *t) __must_check;
int dump_write_nss(const struct dump_tree *t, struct img_writer *w)
	__must_check;
void dump_free_nss(struct dump_tree *t);
/* fn(arg) run in the IPC namespace of pid (entered and left) */
int dump_in_ipcns(pid_t pid, int (*fn)(void *), void *arg) __must_check;
/* dump-ipcns.c: the System V objects of the tree's IPC namespace ns
 * (entered for that), refused (saying why) or recorded; their SYSV and
 * SYSV_DATA records; freed */
int dump_ipcns_collect(struct dump_tree *t, const struct img_ns *ns)
	__must_check;
int dump_write_sysvs(const struct dump_tree *t, struct img_writer *w)
	__must_check;
/* The segments that the tree attached in IPC namespaces other than
 * ckpt's: each is one of the SYSV records, or refused (saying why) */
int dump_ipcns_check_shms(const struct dump_tree *t) __must_check;
void dump_free_sysvs(struct dump_tree *t);
/* dump-nsjoin.c: the namespace file:[ino] (kind IMG_NS_*) that owner,
 * the topmost process of the tree in it, shares with processes outside
 * the tree, recorded to be joined at restore; its NSJOIN records; freed */
int dump_ns_join(struct dump_tree *t, pid_t owner, uint32_t kind,
		 const char *file, uint64_t ino) __must_check;
int dump_write_nsjoins(const struct dump_tree *t, struct img_writer *w)
	__must_check;
void dump_free_nsjoins(struct dump_tree *t);
/* Is fd of pid one of a POSIX message queue (an mqueue file system's)? */
int dump_mqueue_fd(pid_t pid, int fd);
/* Can the queue of f (an fd of pid on a mqueue file system) be opened
 * again by its name in the IPC namespace of root? 0, with *why NULL or
 * (malloc'd) why not; -1 when that can't be told */
int dump_mqueue_check(pid_t root, pid_t pid, const struct img_fd *f,
		      char **why) __must_check;
/* dump-netdev.c: ckpt enters the root's network namespace, when it is
 * not ckpt's, while the tree is frozen (enter, leave); its devices and
 * routes, refused (saying why) or recorded; their NETDEV and ROUTE
 * records; freed */
int dump_net_enter(struct dump_tree *t) __must_check;
void dump_net_leave(struct dump_tree *t);
/* the inode of ckpt's own network namespace once it entered the
 * tree's, else 0 */
uint64_t dump_net_home(const struct dump_tree *t);
int dump_net_collect(struct dump_tree *t) __must_check;
/* With --kill, right before the kill: the tree's devices down (up: 0),
 * or up again if the kill failed (1); see dump-netdev.c */
void dump_net_quiet(struct dump_tree *t, int up);
int dump_write_net(const struct dump_tree *t, struct img_writer *w)
	__must_check;
void dump_free_net(struct dump_tree *t);
/* the TUN NETDEV of that name, or NULL; every tun device some process
 * holds held by TUN FILEs of the tree alone, else refused */
struct img_netdev *dump_net_tun(struct dump_tree *t, const char *name);
int dump_net_check_tuns(struct dump_tree *t) __must_check;
struct rtattr;
/* dump-bridge.c: a bridge's settings into d, a port's checked: 0, or 1
 * with why (refused), or -1 (said); a VLAN table (IFLA_AF_SPEC) as a new
 * port's? the fresh bridge freed */
int dump_bridge_settings(pid_t root, const struct rtattr *data,
			 struct img_netdev *d, char *why, size_t len);
int dump_bridge_port(pid_t root, const struct rtattr *protinfo, char *why,
		     size_t len);
int dump_bridge_vlans_default(const struct rtattr *af_spec);
struct nlmsghdr;
const struct rtattr *dump_link_attr(const struct nlmsghdr *h, int type);
void dump_bridge_done(void);
/* dump-tun.c: a tun device (its IFLA_* in tb, link type) into d, how many
 * queues are attached: 0, or 1 with why, or -1 (said); an fd of
 * /dev/net/tun?; the tree's TUN FILEs read (after the file table) */
#define DUMP_TUN_QUEUES_UNSEEN	UINT32_MAX	/* a single queue's, up */
int dump_tun_dev(const struct rtattr **tb, unsigned short type, int up,
		 struct img_netdev *d, uint32_t *queues, char *why,
		 size_t len);
int dump_tun_chr(const struct stat *st);
int dump_tuns(struct dump_tree *t) __must_check;
/* dump-userns.c: the uid and gid maps and setgroups of pid's user
 * namespace into ns; what they hold freed */
int dump_userns_read(pid_t pid, struct img_ns *ns) __must_check;
void dump_free_userns(struct dump_tree *t);
/* dump-timens.c: the offsets of pid's time namespace for its children,
 * and its clocks now, into ns */
int dump_timens_read(pid_t pid, struct img_ns *ns) __must_check;
/* its clocks read again, now, from its offsets (pid: named if refused) */
int dump_timens_clocks(pid_t pid, struct img_ns *ns) __must_check;
/* dump-cgroup.c: the root cgroup of pid's cgroup namespace in each of
 * its hierarchies, from its /proc/PID/cgroup as ckpt sees it and inner,
 * the same file read in that namespace, into ns; refused, naming pid,
 * where its cgroup is not below the namespace's root */
int dump_cgns_read(pid_t pid, const char *inner, struct img_ns *ns)
	__must_check;
/* In a child of ckpt's: into pid's user namespace if not ckpt's */
int dump_userns_enter(pid_t pid) __must_check;
/* dump-mnt.c: the mounts of the root's own mount namespace, when it
 * shows other mounts than ckpt's (else refused, naming one) */
int dump_mnt_collect(struct dump_tree *t) __must_check;
/* after dump_tree_ns(): the cgroup mounts that show the root of the
 * tree's cgroup namespace become CGROUP records */
int dump_mnt_cgroups(struct dump_tree *t) __must_check;
int dump_write_mounts(const struct dump_tree *t, struct img_writer *w)
	__must_check;
void dump_free_mounts(struct dump_tree *t);
/* dump-mntfiles.c: the files of TMPFS mount i, as MNTFILE records (w
 * NULL: only checked, and their size against --ghost-limit) */
int dump_mnt_files(const struct dump_tree *t, const struct dump_mnt *d,
		   uint32_t i, struct img_writer *w) __must_check;
/* dump-mnt.c's mountinfo reading, for dump-mntns.c: a line of
 * mountinfo (proc(5)) */
struct mi {
	int id, parent;
	dev_t dev;
	char *root, *point, *opts, *prop, *fstype, *source, *super;
	int taken;		/* host: matched by a copy in the tree's */
	int rec;		/* tree: its record's index in its dump_mnt
				 * + 1 (the root's: its MOUNT id), or 0 */
};

struct mi_list {
	struct mi *m;
	int n;
	char *buf;
};

int dump_mi_read(pid_t pid, struct mi_list *L) __must_check;
void dump_mi_free(struct mi_list *L);
/* parents before children: indexes of L in that order, or NULL */
int *dump_mi_order(const struct mi_list *L);
/* MS_* of mountinfo's per-mount options */
uint32_t dump_mi_flags(const char *opts);
/* stat path as pid's mount namespace and root see it */
int dump_stat_in(pid_t pid, const char *path, struct stat *st);
/* each TMPFS record's root (m->rec of the record's index + 1) opened
 * into d->fds, read in a copy of pid's mount namespace */
int dump_mi_tmpfs(pid_t pid, const struct mi_list *T, const int *ord,
		  struct dump_mnt *d) __must_check;
/* is root under (or at) top, both mountinfo roots? the rest after it */
const char *dump_mi_under(const char *root, const char *top);
/* "can't dump PID: its mount on ...: why", -1 */
int dump_refuse_mnt(pid_t pid, const struct mi *m, const char *why);
/* the IMG_MNT_* kind of a new mount of fstype (tmpfs ...), or 0 */
int dump_mi_kind(const char *fstype);
/* the mount fd of pid is on (fdinfo's mnt_id), or -1 */
int dump_fd_mnt_id(pid_t pid, const char *fd);
/* dump-mntns.c: a mount namespace below the root's (process i at its
 * top), recorded as a copy of its parent's changed by NSMOUNT records */
int dump_mntns_add(struct dump_tree *t, int i, const uint64_t *inos)
	__must_check;
/* every process is in its parent's mount namespace or at the top of
 * one of its own */
int dump_mntns_check(const struct dump_tree *t, const uint64_t *inos)
	__must_check;
/* once the file table is made: their fds that restore can reopen */
int dump_mntns_check_fds(const struct dump_tree *t) __must_check;
int dump_write_nsmounts(const struct dump_tree *t, struct img_writer *w)
	__must_check;
void dump_free_mntns(struct dump_tree *t);
/* dump-pidns.c: pid's PID in its own PID namespace (the last of its
 * NSpid line), or -1; the records gathered rewritten with the PIDs seen
 * inside the root's, when the root is its init (an NS record of kind
 * PID), else left alone */
pid_t dump_pidns_inner(pid_t pid);
int dump_pidns_translate(struct dump_tree *t) __must_check;
/* dump-pidnest.c: the PID namespaces below the tree's top one (NS
 * records of kind PID, each process's levels), refused by name (or 0);
 * the index of the tree's top level in pid's NSpid line, or -1 */
int dump_pidns_nest(struct dump_tree *t) __must_check;
int dump_pidns_top_level(pid_t pid);
/* dump-ns.c for dump-pidnest.c: pid's namespace inode (file under
 * /proc/PID/ns; DUMP_NS_NONE_YET: a pid_for_children one with no
 * process yet), a process outside the tree in it, a new NS record of
 * kind PID, and whether the /proc pid sees is that of PID namespace ino */
#define DUMP_NS_NONE_YET	1
uint64_t dump_ns_ino(pid_t pid, const char *file);
pid_t dump_ns_outsider(const struct dump_tree *t, const char *file,
		       uint64_t ino);
struct img_ns *dump_ns_add_pid(struct dump_tree *t, uint64_t ino,
			       pid_t owner);
/* and of kind mnt, for dump-mntns.c; the index of process i's parent
 * in the tree, or -1 */
struct img_ns *dump_ns_add_mnt(struct dump_tree *t, uint64_t ino,
			       pid_t owner);
int dump_ns_parent(const struct dump_tree *t, int i);
int dump_ns_proc_of(pid_t pid, uint64_t ino);
/* dump-cgroup.c: the tree's cgroups, refused (saying why) or recorded;
 * their CGROUP records; freed */
int dump_tree_cgroups(struct dump_tree *t) __must_check;
/* dump-freeze.c: root (with tree, its descendants) seized with its
 * cgroup frozen, thawed again before this returns */
int dump_freeze_seize(pid_t root, int tree) __must_check;
int dump_write_cgroups(const struct dump_tree *t, struct img_writer *w)
	__must_check;
void dump_free_cgroups(struct dump_tree *t);
/* dump-app.c: application plugins told of ev (a -1 refuses the dump at
 * BEFORE_FREEZE and FROZEN, having said which plugin and why); their
 * records and the FILEID records, after the FILE records */
int dump_app_event(const struct dump_opts *o, enum ckpt_app_event ev);
int dump_write_app(struct dump_tree *t, struct img_writer *w) __must_check;

/* dump-tree.c */
int dump_children_of(pid_t pid, pid_t **out);
/* Is pid a process (or zombie) of the tree? */
int dump_tree_has(const struct dump_tree *t, pid_t pid);
/* its index in t->procs, or -1 */
int dump_tree_index(const struct dump_tree *t, pid_t pid);
/* p's fd number fd, or NULL */
const struct img_fd *dump_find_fd(const struct img_process *p, int fd);
int dump_tree_check_fds(struct dump_tree *t) __must_check;
/* dump-tshare.c: thread ti has a cwd (bit IMG_SHARE_FS) or fd table
 * (IMG_SHARE_FILES) of its own, not that of thread ref */
int dump_thread_own(struct dump_ctx *c, pid_t ref, int ti, uint32_t bit)
	__must_check;
/* dump-groups.c: sessions and groups that restore can make */
int dump_tree_check_groups(const struct dump_tree *t) __must_check;
/* dump-fown.c: every SIGIO owner of the tree, and none on a file restore
 * replaces */
int dump_tree_check_fowns(struct dump_tree *t) __must_check;
/* dump-share.c: tables, fs contexts, address spaces shared between tasks */
int dump_tree_check_shared(struct dump_tree *t) __must_check;
/* ... and a process waiting in vfork(), before it is seized */
int dump_check_vfork(pid_t pid) __must_check;
/* dump-procfs.c: fds on /proc files of the process or its parents only */
int dump_tree_check_procfs(struct dump_tree *t) __must_check;
/* dump-procfs.c: fd f as a namespace of the process: 1 (f kept or refused
 * with --ext-null), 0 when it is none, -1 refused */
int dump_ns_fd(struct dump_ctx *c, struct img_fd *f, const char *link,
	       const struct stat *st) __must_check;

/* dump-pstate.c: each child's IMG_WAIT_* from its parent */
void dump_tree_waits(struct dump_tree *t);

/* dump-filetab.c: the tree's FILE records, gathered while it is frozen */
int dump_tree_files(struct dump_tree *t) __must_check;
int dump_write_files(struct dump_tree *t, struct img_writer *w) __must_check;
void dump_free_files(struct dump_tree *t);

/* dump-tty.c: fds on a pty whose master the tree holds become FILE fds
 * (before the table is built); the kind of such an fd, or 0; the state of
 * each pair, once the table is built; then a TTY file for each terminal
 * outside the tree (its termios and size, for restore --pty) */
int dump_ttys_mark(struct dump_tree *t) __must_check;
uint32_t dump_tty_kind(const struct img_fd *f);
int dump_ttys(struct dump_tree *t) __must_check;
int dump_ttys_outside(struct dump_tree *t) __must_check;

/* dump-console.c: a pty of the tree's own /dev/pts whose master a process
 * outside holds (a container's console): its holder; a console PTY_MASTER
 * file for each such pair whose slave is in the table; a copy of its
 * master */
int dump_console_holder(const struct dump_tree *t, dev_t dev, long index,
			pid_t *pid, int *fd) __must_check;
int dump_consoles_add(struct dump_tree *t) __must_check;
int dump_console_grab(const struct dump_file *df);

/* dump-sockets.c: what the table's unix sockets are (sets why on those
 * that cannot be kept), then their receive queues */
int dump_sockets_probe(struct dump_tree *t) __must_check;
int dump_sockets_read(struct dump_tree *t) __must_check;
/* the first call sets why (later ones keep it): the whole reason */
void dump_set_why(struct dump_file *df, const char *fmt, ...) __printf(2, 3);
/* our own duplicate of the fd df names (pidfd_getfd), or -1 */
int dump_grab_fd(const struct dump_file *df);
int dump_add_chunk(struct img_file *f, const void *buf, uint32_t len,
		   uint32_t flags) __must_check;
/* A unix socket's name as the kernel gives it: sun_path bytes (an
 * abstract one starts with a NUL); len 0: unbound, -1: too long */
struct unix_raw_name {
	char b[IMG_MAX_UNIX_NAME + 1];
	int len;
};
/* dump-sockets.c: sock_diag's answer about unix socket ino with show
 * (UDIAG_SHOW_*) in buf: its length, or -1; is df a unix socket; the
 * unix socket on ino that the table keeps, or NULL; "stream" ...; f's
 * queue from sk (a copy of f's socket or one that took its place), the
 * queued bytes of a stream as sock_diag counts them */
ssize_t dump_unix_diag(uint32_t ino, uint32_t show, void *buf, size_t len);
int dump_is_unix(const struct dump_file *df);
struct dump_file *dump_kept_unix(struct dump_tree *t, uint64_t ino);
const char *dump_unix_type(uint32_t type);
int dump_unix_peek_queue(struct dump_tree *t, struct img_file *f, int sk,
			 uint32_t queued) __must_check;
/* What one peek at a message found besides its bytes */
struct dump_peek {
	struct dump_tree *t;
	struct unix_raw_name from;	/* the sender's name */
	uint32_t ids[IMG_MAX_FDS_IN_FLIGHT];	/* its fds in flight, as */
	uint32_t nr_fds;			/* FILE ids, little endian */
	uint32_t creds[3];	/* SCM_CREDENTIALS as an IMG_CHUNK_CREDS */
	int has_creds;		/* (the pid the image's), or none came */
};
/* dump-sockq.c: the n fds in flight that came with a peek (ckpt's
 * copies) as files of the table, added to pc; -1 if one is not there */
int dump_unix_fds(struct dump_peek *pc, const int *fds, size_t n);
/* dump-sockq.c: the credentials that came with a peek, in pc; -1 if
 * their pid is no process of the tree */
struct ucred;
int dump_unix_creds(struct dump_peek *pc, const struct ucred *uc);
/* dump-sockq.c: regular files in flight in a queue of the tree are
 * files of the table (their fds IMG_FD_FILE), as shared ones are */
void dump_unix_inflight_regs(struct dump_tree *t);
/* dump-sockq.c: the clients waiting in listeners of the tree (PENDING,
 * or why set); pending_read: what they sent, which takes their
 * connections out of the queues (kill: the tree dies after the dump) */
void dump_unix_pending(struct dump_tree *t);
int dump_unix_pending_read(struct dump_tree *t, int kill) __must_check;
/* dump-unixname.c: n from the len bytes at p; df's own name (self) and
 * its peer's, written as the image writes them, in path and peer_name;
 * whether its path is unlinked (vfs_*: the inode sock_diag gives); 0, or
 * -1 with errno (why set when not kept) */
void dump_unix_raw(struct unix_raw_name *n, const char *p, size_t len);
/* n for a message (malloc'd), or NULL when unbound */
char *dump_unix_show(const struct unix_raw_name *n);
int dump_unix_names(struct dump_file *df, int sk,
		    const struct unix_raw_name *self, uint32_t vfs_ino,
		    uint32_t vfs_dev) __must_check;
/* --ext-unix: df, connected to a socket outside the tree, connected to
 * that socket's name again at restore; 0, or -1 when it can't be */
int dump_unix_external(struct dump_file *df, uint32_t rqueue);
/* why sk (of a unix socket of type) can't be kept, or NULL */
const char *dump_unix_oob_why(int sk, uint32_t type);
/* dump-inet.c: TCP and UDP sockets. probe: what the socket sk of df is
 * (sets why, or the kind and fields); settle: a connection whose other
 * end is not kept is not kept either; read: the queues and connection
 * state; silence: every connection of the table in repair mode (on) or
 * out of it, so that killing the tree closes them without a word */
int dump_inet_probe(struct dump_file *df, int sk) __must_check;
void dump_inet_settle(struct dump_tree *t);
int dump_inet_read(struct dump_tree *t) __must_check;
int dump_inet_silence(struct dump_tree *t, int on) __must_check;
/* dump-inet.c: fill f (family and kind set) from sk; NULL, or why it
 * can't be kept; describe: what f is, for a message */
const char *dump_inet_fill(struct img_file *f, int sk);
void dump_inet_describe(const struct img_file *f, char *out, size_t len);
/* dump-sockx.c: f's options beyond img_inet.opt and its multicast
 * groups (fresh: a new socket of its kind), or why it can't be kept */
const char *dump_sockx_read(struct img_file *f, int sk, int fresh);
/* dump-inet-accept.c: the connections waiting in the tree's listeners
 * as files of their own (with --kill only), found before the
 * connections are settled; after settle, a listener and its connections
 * are kept together or not at all; take: accepted from copies of their
 * listeners, once nothing can refuse the dump any more */
void dump_inet_accept(struct dump_tree *t);
void dump_inet_accept_settle(struct dump_tree *t);
int dump_inet_accept_take(struct dump_tree *t) __must_check;
/* closes df's own fd, if it has one, in repair mode: without a word */
void dump_inet_accept_close(struct dump_file *df);
/* how many connections wait in listener sk's accept queue */
uint32_t dump_inet_pending(int sk);
/* dump-guard.c: a process that undoes what a ckpt that dies leaves on a
 * tree that runs on. start: before the lock and repair mode (t->guard:
 * its socket, -1 when the tree has no TCP connection); lock: the lock
 * named in t, before its table is made; conns_out: the connections are
 * out of repair mode (out 1), or are to be let out now (0); end: the
 * lock is gone or kept for restore (a no-op without a guardian). */
int dump_guard_start(struct dump_tree *t) __must_check;
/* A guardian process (told at the top of dump-guard.c) that runs
 * body(3), 3 its end of a socket pair; our end, or -1 (said, naming
 * what) */
int dump_guard_fork(void (*body)(int sk), const char *what) __must_check;
int dump_guard_lock(const struct dump_tree *t) __must_check;
void dump_guard_park(struct dump_tree *t);
void dump_guard_conns_out(struct dump_tree *t, int out);
void dump_guard_end(struct dump_tree *t);
/* dump-netlock.c: the network lock of the connections whose peer is
 * outside (--tcp-established): take (when there are any) names it in
 * their records; drop removes it (a no-op when none was taken); keep
 * leaves it to restore, once the tree is killed */
int dump_netlock_take(struct dump_tree *t) __must_check;
void dump_netlock_drop(struct dump_tree *t);
void dump_netlock_keep(struct dump_tree *t);
/* dump-netlink.c: what the netlink socket sk of df is (sets why, or the
 * kind and fields) */
int dump_netlink_probe(struct dump_file *df, int sk) __must_check;
/* dump-kfds.c: eventfd, epoll, signalfd, timerfd, inotify */
uint32_t dump_kfd_kind(const char *link);	/* IMG_FILE_* or 0 */
int dump_kfds(struct dump_tree *t) __must_check;
/* dump-pidfd.c: the pidfds of the table, after dump_kfds() */
int dump_pidfds(struct dump_tree *t) __must_check;
/* The fields of df (not a timerfd) from the text of its fdinfo */
int dump_kfd_info(struct dump_tree *t, struct dump_file *df,
		  const char *info) __must_check;
/* dump-bpf.c: the embedded BPF task iterators. A struct dump_bpf names
 * one (blob to end, its program's name); load opens and loads it once
 * with its read-only globals ro (NULL: none), keeping the error; iterate
 * runs it on process pid's tasks and returns its records of rec bytes,
 * *nr of them (malloc'd; NULL and errno on failure); run does all three
 * on a copy of spec (globals that change per run) */
struct bpf_object;
struct bpf_program;
struct dump_bpf {
	const unsigned char *blob, *end;
	const char *name;
	struct bpf_object *obj;
	struct bpf_program *prog;
	int err;		/* errno of a failed load, kept */
};
int dump_bpf_load(struct dump_bpf *b, const void *ro, size_t len)
	__must_check;
void *dump_bpf_iterate(struct dump_bpf *b, pid_t pid, size_t rec,
		       size_t *nr);
void *dump_bpf_run(const struct dump_bpf *spec, const void *ro, size_t len,
		   pid_t pid, size_t rec, size_t *nr);
void dump_bpf_close(struct dump_bpf *b);
/* dump-netsysctl.c: the sysctls of the tree's network namespace (ckpt
 * in it) that differ from a new one's, into ns (root: for messages) */
int dump_net_sysctls(pid_t root, struct img_ns *ns) __must_check;
/* dump-semundo.c: c's process refused (said) if a thread of it has
 * System V semaphore undo values */
int dump_collect_semundo(struct dump_ctx *c) __must_check;
/* dump-epoll.c: what each epoll's ready list held, after dump_kfds() */
int dump_epolls_ready(struct dump_tree *t) __must_check;
int dump_is_zombie(pid_t pid, struct proc_stat *st);
int dump_zombie(pid_t pid, struct img_proc *p) __must_check;

#endif
