/*
 * image: the checkpoint image format, the contract between the dumper
 * (ckpt/), the restorer (restore/), the writers (plugins/) and arch/.
 *
 * An image is one streamable file:
 *
 *   header      magic "CKPTIMG\0", version, ISA, page size, flags,
 *               kernel release, creation time
 *   records     each: u32 type, u32 flags, u64 payload length, payload,
 *               u32 CRC32C of the 16 header bytes and the payload
 *   trailer     a record of type IMG_REC_TRAILER whose payload is the
 *               index of every record before it (type, offset, length)
 *               and a CRC32C over the sequence of their CRCs
 *
 * All integers are little endian and fixed width; strings are a u32 length
 * and that many bytes, without NUL. Payloads are encoded field by field by
 * this module, never copied raw from a C struct. The records of a process
 * follow its IMG_REC_PROC record, so an image can hold a tree. A zombie
 * of the tree (exited, not yet reaped by its parent) is one IMG_REC_ZOMBIE
 * record and nothing else: its ids, its name and its wait status.
 *
 * Open files that the tree shares, or that only the tree as a whole can
 * rebuild (pipe ends, sockets, eventfds ...), are FILE records before the
 * first PROC, each followed by the FILE_DATA records of the bytes queued
 * in it; FD records name them.
 *
 * Memory that several processes map together (a MAP_SHARED anonymous
 * region, a memfd, a System V segment) is one SHM record before the first
 * PROC (after the FILE records), followed by PAGES records whose addr is
 * an offset in the object: its pages are in the image once, and each VMA
 * that maps it names it.
 *
 * A PAGES record carries the contents of consecutive pages of one VMA; its
 * data starts at a page-aligned offset of the image so that the restorer can
 * read it straight into place. man/ckpt-image.5 is the full description.
 */
#ifndef CKPT_IMAGE_H
#define CKPT_IMAGE_H

#include <stddef.h>
#include <stdint.h>

#include "util/util.h"

#define IMG_MAGIC		"CKPTIMG"	/* 8 bytes with its NUL */
#define IMG_VERSION		3
#define IMG_HEADER_SIZE		128	/* fixed, see img_header */

enum img_isa {
	IMG_ISA_X86_64 = 1,
	IMG_ISA_AARCH64 = 2,
};

enum img_rec_type {
	IMG_REC_PROC = 1,
	IMG_REC_THREAD = 2,
	IMG_REC_VMA = 3,
	IMG_REC_PAGES = 4,
	IMG_REC_FD = 5,
	IMG_REC_SIGACTS = 6,
	IMG_REC_FILE = 7,	/* image level: before the first PROC */
	IMG_REC_FILE_DATA = 8,	/* bytes queued in the FILE before it */
	IMG_REC_SHM = 9,	/* image level: a shared memory object */
	IMG_REC_ZOMBIE = 10,	/* an exited, unreaped process of the tree */
	IMG_REC_GHOST = 11,	/* image level: a deleted file's inode */
	IMG_REC_LOCK = 12,	/* a lock held through an fd of the process */
	IMG_REC_FOWN = 13,	/* an fd's SIGIO owner and signal */
	IMG_REC_NS = 14,	/* image level: a namespace of the tree */
	IMG_REC_CGROUP = 15,	/* image level: a cgroup of the tree */
	IMG_REC_APP = 16,	/* image level: an application plugin's data */
	IMG_REC_FILEID = 17,	/* image level: a regular file the tree had
				 * open or mapped, for restore's validation */
	IMG_REC_SNAPDATA = 18,	/* bytes of the SNAPFILE before it, when
				 * the snapshot is in the image */
	IMG_REC_AIO = 19,	/* an AIO context (io_setup) and its ring */
	IMG_REC_IDENT = 20,	/* image level: its id and its parent's */
	IMG_REC_PARENT_PAGES = 21,	/* pages the parent image holds */
	IMG_REC_SNAPFILE = 22,	/* image level: a file or directory copied
				 * into the snapshot beside the image */
	IMG_REC_NOTIFY = 23,	/* image level: the socket of a job that
				 * wants to hear of its restore */
	IMG_REC_PRECOPY = 24,	/* image level, first: pages of a process
				 * sent during a pre-copy round */
	IMG_REC_PRE_PAGES = 25,	/* pages a PRECOPY round holds */
	IMG_REC_MOUNT = 26,	/* image level: a mount of the tree's mount
				 * namespace */
	IMG_REC_MNTFILE = 27,	/* a file of the tmpfs MOUNT before it */
	IMG_REC_NETDEV = 28,	/* image level: a network device of the
				 * tree's network namespace */
	IMG_REC_ROUTE = 29,	/* image level: a route of that namespace */
	IMG_REC_NSMOUNT = 30,	/* image level: a mount of a mount
				 * namespace below the root's */
	IMG_REC_PRE_RUNS = 31,	/* PRE_PAGES runs, many to a record */
	IMG_REC_SYSV = 35,	/* image level: a System V object of the
				 * tree's IPC namespace */
	IMG_REC_SYSV_DATA = 36,	/* bytes of the SYSV segment before it */
	IMG_REC_NSJOIN = 37,	/* image level: a namespace of the tree
				 * shared with processes outside it */
	IMG_REC_SOCKX = 41,	/* more options of the inet FILE before it */
	IMG_REC_TRAILER = 0x7fff,
};

/* Upper bounds the reader enforces; anything larger is a damaged image. */
#define IMG_MAX_STR		4096
#define IMG_MAX_AUXV		128	/* u64 words */
#define IMG_MAX_REGS		256	/* u64 words */
#define IMG_MAX_XSTATE		(64 * 1024)
#define IMG_MAX_SIGINFO		1024
#define IMG_MAX_RECORDS		(1u << 24)
#define IMG_MAX_PROCS		4096
#define IMG_NSIG		64
#define IMG_SIGINFO_SIZE	128
#define IMG_NR_RLIMITS		16
#define IMG_MAX_GROUPS		65536
#define IMG_MAX_FILES		(1u << 20)
#define IMG_MAX_CHUNK		(512u * 1024)	/* FILE_DATA bytes */
/* The writer ends a PAGES record at each multiple of this of its addr */
#define IMG_PAGES_SPLIT		(2u << 20)
#define IMG_MAX_PIPE		(64u << 20)	/* pipe capacity */
#define IMG_MAX_SHMS		65536
#define IMG_MAX_MEMFD_NAME	249	/* the kernel's MFD_NAME_MAX_LEN */
#define IMG_MAX_WATCHES		(1u << 15)	/* per epoll or inotify */
#define IMG_MAX_GHOSTS		65536
#define IMG_MAX_LOCKS		65536	/* per process */
#define IMG_MAX_AIOS		65536	/* AIO contexts per process */
#define IMG_MAX_AIO_LEN		(64u << 20)	/* bytes of one AIO ring */
#define IMG_MAX_NSS		1024
#define IMG_MAX_CGROUPS		64	/* hierarchies */
#define IMG_MAX_CG_SETTINGS	64
#define IMG_MAX_MOUNTS		1024
#define IMG_MAX_MNTFILES	(1u << 20)
#define IMG_MAX_MNT_DATA	(256u * 1024)	/* bytes in one MNTFILE */
#define IMG_MAX_CG_VALUE	256
#define IMG_MAX_NETDEVS		64
#define IMG_MAX_NETADDRS	64	/* per device */
#define IMG_MAX_ROUTES		1024
#define IMG_MAX_HOSTNAME	64	/* the kernel's __NEW_UTS_LEN */
#define IMG_MAX_IDMAP		340	/* lines of a uid_map (Linux 4.15+) */
#define IMG_MAX_APPS		65536	/* APP records */
#define IMG_MAX_APP_DATA	(1u << 20)	/* bytes in one APP record */
#define IMG_MAX_APP_NAME	64
#define IMG_MAX_FILEIDS		(1u << 20)
#define IMG_HASH_LEN		32	/* BLAKE2b-256 of a file's bytes */
/*
 * The securebits Linux knows (<linux/securebits.h>): NOROOT,
 * NO_SETUID_FIXUP, KEEP_CAPS, NO_CAP_AMBIENT_RAISE, and since 6.14
 * EXEC_RESTRICT_FILE and EXEC_DENY_INTERACTIVE, each followed by its lock.
 */
#define IMG_SECUREBITS_KNOWN	0xfffu
#define IMG_DUMPABLE_MAX	2	/* SUID_DUMP_ROOT */

struct img_header {
	uint32_t version;
	uint32_t isa;		/* enum img_isa */
	uint32_t page_size;
	uint32_t flags;		/* none defined yet: must be 0 */
	uint64_t created;	/* seconds since the epoch */
	char kernel[65];	/* uname -r, NUL terminated */
	char writer[24];	/* "ckpt 0.4.0": printable, NUL terminated */
};

/* mm fields as /proc/PID/stat gives them, for prctl(PR_SET_MM_MAP) */
struct img_mm {
	uint64_t start_code, end_code, start_data, end_data;
	uint64_t start_brk, brk, start_stack;
	uint64_t arg_start, arg_end, env_start, env_end;
};

struct img_rlimit {
	uint64_t cur, max;	/* RLIM_INFINITY is ~0 */
};

/* img_pstate.wait: what the parent's wait() has yet to report */
#define IMG_WAIT_STOPPED	(1u << 0)	/* the stop (WUNTRACED) */
#define IMG_WAIT_CONTINUED	(1u << 1)	/* a SIGCONT (WCONTINUED) */
#define IMG_WAIT_ALL		(IMG_WAIT_STOPPED | IMG_WAIT_CONTINUED)

#define IMG_MAX_TIMERS		4096	/* POSIX timers of one process */
#define IMG_PIDNS_NONE_YET	1	/* img_pidlv.for_children */
#define IMG_MAX_PIDNS_DEPTH	31	/* PID namespaces below the tree's
					 * top one (Linux: 32 levels) */
/* seccomp: BPF_MAXINSNS per filter; the kernel's MAX_INSNS_PER_PATH for a
 * thread's whole chain, where each filter also counts 4 */
#define IMG_MAX_BPF		4096
#define IMG_MAX_BPF_PATH	32768

/* img_timer.notify: the kernel's sigev_notify (SIGEV_*) */
#define IMG_SIGEV_SIGNAL	0	/* a signal to the process */
#define IMG_SIGEV_NONE		1	/* none: only timer_gettime() */
#define IMG_SIGEV_THREAD	2	/* as SIGNAL, for the kernel */
#define IMG_SIGEV_THREAD_ID	4	/* a signal to thread tid */

/*
 * A POSIX timer (timer_create). clockid is the kernel's, as
 * /proc/PID/timers shows it: CLOCK_REALTIME ..., or a CPU-time clock
 * encoded with its process or thread id (0: the caller's).
 */
struct img_timer {
	int32_t id;		/* timer_t, >= 0, increasing in the record */
	int32_t clockid;
	uint32_t notify;	/* IMG_SIGEV_* */
	uint32_t signo;
	int32_t tid;		/* SIGEV_THREAD_ID: the thread, else 0 */
	int32_t owner;		/* the thread whose CPU time a thread clock
				 * of id 0 measures (its creator), else 0 */
	uint64_t sigval;	/* sigev_value */
	uint64_t value_ns;	/* time left, 0 disarmed */
	uint64_t interval_ns;
	uint32_t overrun;	/* timer_getoverrun() */
	uint32_t pending;	/* its signal is queued, not delivered yet */
	uint32_t abs;		/* CLOCK_REALTIME set to an absolute time:
				 * value_ns is its expiry's time of day */
	/* a periodic one pending: the overrun count its signal will carry
	 * if delivered at once (the kernel's it_overrun) */
	uint32_t pend_overrun;
};
/* img_timer's word of flags in the record: pending bit 0, abs bit 1,
 * pend_overrun from bit 8 (so at most IMG_TIMER_MAX_PEND_OVERRUN) */
#define IMG_TIMER_PEND_OVERRUN_SHIFT	8
#define IMG_TIMER_MAX_PEND_OVERRUN	((1u << 24) - 1)

/* Process-wide kernel state that prctl() and /proc tell (codec-task.c). */
struct img_pstate {
	/* the group stop it is in: SIGSTOP, SIGTSTP, SIGTTIN, SIGTTOU, or 0 */
	uint32_t stop_sig;
	uint32_t wait;		/* IMG_WAIT_*, as its parent in the tree
				 * would see it */
	uint32_t subreaper;	/* PR_GET_CHILD_SUBREAPER: 0 or 1 */
	uint32_t thp_disable;	/* PR_GET_THP_DISABLE: 0, 1, or 3 (except
				 * where MADV_HUGEPAGE advises) */
	int32_t oom_score_adj;	/* /proc/PID/oom_score_adj */
	uint32_t loginuid;	/* /proc/PID/loginuid, ~0 unset */
	uint32_t nr_timers;
	struct img_timer *timers;
	/* the signal its parent gets when it exits (clone(2)), 0 for none;
	 * also in a ZOMBIE record */
	uint32_t exit_signal;
	uint32_t membarrier;	/* IMG_MEMBARRIER_*: its registrations */
	uint32_t share;		/* IMG_SHARE_*: what it shares with its
				 * parent, the process before it that made
				 * it so (codec-share.c) */
	uint32_t memory_merge;	/* PR_GET_MEMORY_MERGE: 0 or 1 */
	/* mlockall(2) flags that lock its future mappings: MCL_FUTURE, with
	 * MCL_ONFAULT, or 0 (IMG_MCL_*) */
	uint32_t mlockall;
	/* oom_score_adj_min, below which only CAP_SYS_RESOURCE may set
	 * oom_score_adj (read with BPF), when oom_min_known is 1 */
	uint32_t oom_min_known;
	int32_t oom_score_adj_min;
};

#define IMG_MCL_FUTURE		2	/* MCL_FUTURE */
#define IMG_MCL_ONFAULT		4	/* MCL_ONFAULT */

/* img_pstate.share, img_tshare.own: a cwd, root and umask (CLONE_FS), an
 * fd table (CLONE_FILES) */
#define IMG_SHARE_FS		(1u << 0)
#define IMG_SHARE_FILES		(1u << 1)
#define IMG_SHARE_ALL		(IMG_SHARE_FS | IMG_SHARE_FILES)

/* img_pstate.membarrier: the membarrier(2) commands that registered the
 * process (MEMBARRIER_CMD_REGISTER_GLOBAL_EXPEDITED,
 * ..._PRIVATE_EXPEDITED, ..._SYNC_CORE, ..._RSEQ), by their own bits */
#define IMG_MEMBARRIER_GLOBAL		(1u << 2)
#define IMG_MEMBARRIER_PRIVATE		(1u << 4)
#define IMG_MEMBARRIER_SYNC_CORE	(1u << 6)
#define IMG_MEMBARRIER_RSEQ		(1u << 8)
#define IMG_MEMBARRIER_ALL	(IMG_MEMBARRIER_GLOBAL | \
				 IMG_MEMBARRIER_PRIVATE | \
				 IMG_MEMBARRIER_SYNC_CORE | IMG_MEMBARRIER_RSEQ)

/* Per-thread kernel state that prctl() tells (codec-task.c). */
struct img_tstate {
	uint32_t pdeathsig;	/* PR_GET_PDEATHSIG: 0 or a signal */
	uint32_t mce_kill;	/* PR_MCE_KILL_GET: 0 late, 1 early,
				 * 2 the system's default */
	uint64_t timer_slack_ns;	/* PR_GET_TIMERSLACK */
	/* PR_GET_SPECULATION_CTRL of store bypass, indirect branch, L1D
	 * flush: PR_SPEC_* bits, 0 when the CPU or kernel has none */
	uint32_t spec[3];
	/* the slack PR_SET_TIMERSLACK of 0 goes back to (its creator's
	 * when it was made), read through BPF; 0 not known */
	uint64_t default_slack_ns;
};

/* img_seccomp.mode, as /proc/PID/status "Seccomp:" shows it */
#define IMG_SECCOMP_STRICT	1
#define IMG_SECCOMP_FILTER	2
/* img_seccomp_filter.flags: PTRACE_SECCOMP_GET_METADATA's */
#define IMG_SECCOMP_LOG		(1u << 1)	/* SECCOMP_FILTER_FLAG_LOG */
/* the thread's own, installed apart: not shared with the other threads
 * even where they have one alike (a bit the kernel's flags do not use) */
#define IMG_SECCOMP_OWN		(1u << 31)

/* One seccomp filter: a classic BPF program and its flags. */
struct img_seccomp_filter {
	uint32_t flags;		/* IMG_SECCOMP_LOG, IMG_SECCOMP_OWN */
	uint32_t len;		/* instructions, 1 to IMG_MAX_BPF */
	uint64_t *insns;	/* code | jt << 16 | jf << 24 | k << 32 */
};

/* A thread's seccomp mode and filters (codec-seccomp.c). */
struct img_seccomp {
	uint32_t mode;		/* 0, IMG_SECCOMP_STRICT, IMG_SECCOMP_FILTER */
	uint32_t nr_filters;	/* FILTER: at least one, oldest first */
	struct img_seccomp_filter *filters;
};

/*
 * What a thread has of its own, not its process's, having called
 * unshare(2) (codec-share.c). The root directory is the process's.
 */
struct img_tshare {
	uint32_t own;		/* IMG_SHARE_FS, IMG_SHARE_FILES */
	uint32_t umask;		/* FS: its umask */
	char *cwd;		/* FS: its working directory, absolute */
	uint32_t nr_fds;	/* FILES: its fd table, by fd */
	struct img_tfd {
		int32_t fd;	/* in the thread's table, increasing */
		int32_t src;	/* the fd of the process with the same open
				 * file description */
		uint32_t fdflags;	/* FD_CLOEXEC or 0 */
	} *fds;
};

struct img_proc {
	int32_t pid, ppid, pgid, sid;
	uint32_t umask;
	uint32_t personality;
	uint32_t uid, gid;
	uint32_t nr_threads;	/* THREAD records that follow */
	char comm[16];		/* NUL terminated */
	char *exe, *cwd, *root;
	struct img_mm mm;
	uint32_t nr_auxv;	/* u64 words in auxv, pairs */
	uint64_t *auxv;
	uint32_t nr_rlimits;	/* <= IMG_NR_RLIMITS */
	struct img_rlimit rlimits[IMG_NR_RLIMITS];
	/* uid and gid above are the real ids */
	uint32_t euid, suid, egid, sgid;
	uint32_t nr_groups;	/* supplementary groups */
	uint32_t *groups;
	/* ITIMER_REAL, ITIMER_VIRTUAL, ITIMER_PROF, in microseconds */
	struct img_itimer {
		uint64_t interval_us, value_us;
	} itimers[3];
	uint32_t no_new_privs;	/* prctl(PR_SET_NO_NEW_PRIVS) */
	uint32_t dumpable;	/* prctl(PR_GET_DUMPABLE): 0, 1 or 2 */
	/*
	 * A zombie (written as a ZOMBIE record): only pid, ppid, pgid, sid,
	 * comm and exit_status mean anything, nr_threads is 0 and no other
	 * record belongs to it. exit_status is the wait status its parent
	 * would get from wait4(): code << 8, or the signal | 0x80 for a core.
	 */
	uint32_t zombie;
	uint32_t exit_status;
	struct img_pstate ks;
	struct img_pidlv {
		/*
		 * Where it is in the tree's PID namespaces. ns: the id of
		 * the NS record of kind PID it is in, 0 for the tree's top
		 * one (whose PIDs are those of the image). nspids: its PIDs
		 * in the namespaces below the top one, outermost first, the
		 * last its own getpid(), 1 for the init (nr_nspids is ns's
		 * depth: 0 with ns 0). for_children: 0 when its children go
		 * in its own (pid_for_children), IMG_PIDNS_NONE_YET when
		 * they go to one it unshared (CLONE_NEWPID) with no process
		 * yet (its first child will be the init), else the id of
		 * the one below it that it unshared, whose init is a child
		 * of it. A zombie's for_children is 0.
		 */
		uint64_t ns, for_children;
		uint32_t nr_nspids;
		int32_t nspids[IMG_MAX_PIDNS_DEPTH];
	} pidlv;
};

struct img_siginfo {
	uint32_t shared;	/* 1: process-wide queue, 0: the thread's */
	uint8_t data[IMG_SIGINFO_SIZE];	/* the kernel's siginfo_t bytes */
};

struct img_thread {
	int32_t tid;
	uint32_t regs_isa;	/* enum img_isa of regs[] */
	uint32_t nr_regs;	/* u64 words, layout owned by arch/ */
	uint64_t *regs;
	uint32_t xstate_len;	/* extended FPU state, XSAVE layout on x86 */
	uint8_t *xstate;
	uint64_t sigmask;	/* blocked signals, bit n-1 for signal n */
	uint64_t clear_tid;	/* set_tid_address() */
	uint64_t robust_list, robust_len;
	uint64_t rseq, rseq_sig;
	uint32_t rseq_len;
	uint32_t ss_flags;	/* sigaltstack */
	uint64_t ss_sp, ss_size;
	uint32_t nr_siginfo;
	struct img_siginfo *siginfo;
	char comm[16];		/* the thread's name, NUL terminated */
	/*
	 * Capabilities and securebits belong to a thread's credentials, so
	 * each thread has its own: bit n is capability n (capabilities(7)).
	 */
	struct img_caps {
		uint64_t inh, prm, eff, bnd, amb;
		uint32_t securebits;	/* prctl(PR_GET_SECUREBITS) */
	} caps;
	struct img_tstate ks;
	/* the leading filters that every thread of the process has alike
	 * are one chain they share (installed with SECCOMP_FILTER_FLAG_TSYNC
	 * or before the threads were made); the rest is the thread's own */
	struct img_seccomp seccomp;
	struct img_tshare own;
	/* in a PID namespace below the tree's top one (its process's
	 * pidlv.ns): its TIDs at each level below the top, outermost
	 * first, as many as its process's nspids (the first thread's are
	 * those); else none */
	uint32_t nr_nstids;
	int32_t nstids[IMG_MAX_PIDNS_DEPTH];
};

/* img_vma.flags */
#define IMG_VMA_SHARED		(1u << 0)	/* MAP_SHARED */
#define IMG_VMA_ANON		(1u << 1)	/* no backing file */
#define IMG_VMA_FILE		(1u << 2)	/* backed by path */
#define IMG_VMA_HEAP		(1u << 3)	/* [heap] */
#define IMG_VMA_STACK		(1u << 4)	/* [stack] */
#define IMG_VMA_VDSO		(1u << 5)	/* [vdso]: not dumped, moved */
#define IMG_VMA_VVAR		(1u << 6)	/* [vvar], [vvar_vclock] */
#define IMG_VMA_GROWSDOWN	(1u << 7)
/* a shared mapping that can never be made writable: its object was opened
 * read-only, or a System V segment attached SHM_RDONLY */
#define IMG_VMA_NOWRITE		(1u << 8)
/* maps the GHOST whose dev and ino are the VMA's: a deleted file */
#define IMG_VMA_GHOST		(1u << 9)
#define IMG_VMA_LOCKED		(1u << 10)	/* mlock(): its pages stay */
#define IMG_VMA_LOCKONFAULT	(1u << 11)	/* ... as they come
						 * (MLOCK_ONFAULT) */
/* MAP_DROPPABLE (Linux 6.11): private anonymous memory that the kernel
 * may empty under memory pressure */
#define IMG_VMA_DROPPABLE	(1u << 12)

/* img_vma.advice: smaps VmFlags that madvise() can set back */
#define IMG_ADV_DONTFORK	(1u << 0)
#define IMG_ADV_DONTDUMP	(1u << 1)
#define IMG_ADV_HUGEPAGE	(1u << 2)
#define IMG_ADV_NOHUGEPAGE	(1u << 3)
#define IMG_ADV_WIPEONFORK	(1u << 4)
#define IMG_ADV_RANDOM		(1u << 5)
#define IMG_ADV_SEQUENTIAL	(1u << 6)
#define IMG_ADV_MERGEABLE	(1u << 7)

struct img_vma {
	uint64_t start, end;	/* page aligned, start < end */
	uint64_t pgoff;		/* file offset in bytes */
	uint32_t prot;		/* PROT_READ | PROT_WRITE | PROT_EXEC */
	uint32_t flags;		/* IMG_VMA_* */
	uint32_t advice;	/* IMG_ADV_* */
	uint64_t dev, ino;	/* of the backing file, for a sanity check */
	char *path;		/* backing file or special name, or NULL */
	uint32_t shm;		/* the SHM object it maps (its id), or 0 */
	/* guard regions (MADV_GUARD_INSTALL, Linux 6.13): page-aligned
	 * ranges inside it, increasing, disjoint, that fault on access */
	uint32_t nr_guards;
	struct img_range {
		uint64_t start, end;
	} *guards;
};

enum img_shm_kind {
	IMG_SHM_ANON = 1,	/* MAP_SHARED | MAP_ANONYMOUS ("/dev/zero") */
	IMG_SHM_MEMFD = 2,	/* memfd_create() */
	IMG_SHM_SYSV = 3,	/* shmget() */
};

/* img_shm.flags */
#define IMG_SHM_REMOVED		(1u << 0)	/* System V: IPC_RMID done */
/* System V: a segment of an IPC namespace of the tree's own, whose SYSV
 * record (same id) holds its bytes and which restore makes there: the
 * object has no PAGES, and restore does not make it in its namespace */
#define IMG_SHM_IPCNS		(1u << 1)

/* A memory object that VMAs of one or more processes map. */
struct img_shm {
	uint32_t id;		/* n for the n-th SHM record, from 1 */
	uint32_t kind;		/* enum img_shm_kind */
	uint64_t size;		/* bytes: file size, or the segment's size */
	uint32_t mode;		/* permission bits */
	uint32_t uid, gid;	/* owner */
	uint32_t seals;		/* memfd: F_GET_SEALS; else 0 */
	int32_t key, shmid;	/* System V: key (0 private) and id; else 0 */
	uint32_t flags;		/* IMG_SHM_* */
	char *name;		/* memfd: the name given to memfd_create */
};

/*
 * A file that no path reaches any more (deleted, or replaced by another of
 * the same name) while a process still holds it: an fd, a mapping or its
 * current directory. Its contents follow as PAGES records whose addr is an
 * offset in the file (holes are left out: they stay holes); restore makes
 * it again in the directory it was in and unlinks it at once. FILE records
 * of kind GHOST, VMAs flagged IMG_VMA_GHOST (by dev and ino), a cwd or an
 * exe "PATH (deleted)" name it.
 */
struct img_ghost {
	uint32_t id;		/* n for the n-th GHOST record, from 1 */
	uint32_t mode;		/* st_mode: a regular file, a directory or
				 * a FIFO (size 0) */
	uint32_t uid, gid;
	uint64_t size;		/* bytes */
	uint64_t atime_ns, mtime_ns;	/* since the epoch */
	uint64_t dev, ino;	/* at dump time: how fds and VMAs name it */
	char *path;		/* absolute, where it was (no " (deleted)") */
};

/*
 * A namespace of the tree that is not restore's own (IMG_REC_NS, right
 * after the header, before the FILEs): made again by its owner, the
 * topmost process of the tree in it, before that process makes its
 * children, which inherit it. A namespace the tree shares with ckpt has
 * no record: the restored tree is left in restore's. Kinds are numbered
 * for every namespace Linux has, so that later ones (mount, network,
 * user, PID) take a record of the same shape.
 */
enum {
	IMG_NS_UTS = 1,		/* hostname, domainname */
	IMG_NS_IPC = 2,		/* empty: no System V object in it */
	IMG_NS_PID = 3,		/* owner 1: the root's, which is its init,
				 * and every PID of the image is as seen in
				 * it; other owners: one below the tree's
				 * top one (parent), owned by its init */
	IMG_NS_MNT = 4,		/* the root's: with MOUNT records, restore's
				 * mounts and those; without, owner 1 with a
				 * PID one: restore's mounts and /proc of
				 * the new PID namespace over /proc */
	IMG_NS_NET = 5,		/* the root's: restore makes it, with the
				 * NETDEV and ROUTE records, and is in it
				 * while it makes the tree's sockets */
	IMG_NS_USER = 6,	/* the root's: restore makes it first, with
				 * the uid and gid maps, and every other
				 * namespace of the tree is then its */
	IMG_NS_CGROUP = 7,	/* the root's: restore puts it in the
				 * namespace's root cgroup of each hierarchy,
				 * unshares, then moves it to its cgroups */
	IMG_NS_TIME = 8,	/* the root's: restore makes it with offsets
				 * that carry its clocks on from the dump */
	IMG_NS_MAX = 8,
};

struct img_cg_setting;

struct img_ns {
	uint32_t kind;		/* IMG_NS_* */
	uint32_t owner;		/* the PID of the process that makes it */
	uint64_t id;		/* its inode at dump time */
	char *hostname;		/* UTS: at most IMG_MAX_HOSTNAME bytes */
	char *domainname;	/* UTS: likewise */
	/* the namespace's own sysctls (IPC: kernel/msgmax ...), name under
	 * /proc/sys and value as read, in the order restore writes them */
	uint32_t nr_sysctls;
	struct img_cg_setting *sysctls;
	/* USER: its uid_map and gid_map, outer ids as ckpt's namespace
	 * sees them, and whether setgroups(2) is denied in it */
	uint32_t nr_uid_map, nr_gid_map;
	struct img_idmap *uid_map, *gid_map;
	uint32_t setgroups_deny;
	/* CGROUP: per hierarchy of the root's, its namespace's root */
	uint32_t nr_cgns;
	struct img_cgns *cgns;
	/* TIME: the offsets of monotonic and boottime at dump, as
	 * timens_offsets reads; the two clocks inside at dump (restore's
	 * offsets make them carry on from there); time_children 1: the
	 * root is in ckpt's time namespace and this one is only that of
	 * its children to come (unshare -T, no child yet) */
	int64_t mono_off_ns, boot_off_ns;
	uint64_t mono_ns, boot_ns;
	uint32_t time_children;
	/* PID, one below the tree's top one (owner not 1): the id of the
	 * PID one it is below, 0 for the tree's top one. MNT: 0 for the
	 * root's; else one below it, the id of the mount namespace of its
	 * owner's parent, of which it is a copy (unshare -m) changed by its
	 * NSMOUNT records */
	uint64_t parent;
};

/* A cgroup namespace's root in one hierarchy: the cgroup path (as ckpt
 * saw it) of the namespace's root, and the root process's cgroup as
 * seen inside ("/": the namespace's root itself). Outside, the
 * process's cgroup is root followed by inner. */
struct img_cgns {
	char *controllers;	/* as in img_cgroup: "memory", "" (v2) */
	char *root;		/* absolute */
	char *inner;		/* absolute, in the namespace */
};

/* One line of a uid_map or gid_map: count ids from inner, seen as outer
 * from outside */
struct img_idmap {
	uint32_t inner, outer, count;
};

/* The id of the namespace's that outer is, or -1 if unmapped */
int64_t img_idmap_inner(const struct img_idmap *map, uint32_t n,
			uint32_t outer);

const char *img_ns_name(uint32_t kind);
/* A CGROUP namespace's roots freed (dump's, or a decoded record's) */
void img_ns_free_cgns(struct img_ns *ns);
/* The i-th sysctl a namespace of that kind keeps, in the order they are
 * written; NULL past the last. Is name one of them? */
const char *img_ns_sysctl(uint32_t kind, size_t i);
int img_ns_sysctl_ok(uint32_t kind, const char *name);

/*
 * A cgroup of the tree (IMG_REC_CGROUP, after the NS records): in one
 * hierarchy, named by its controllers ("" for cgroup v2), the path of the
 * cgroup the tree's processes are in, where it is not ckpt's own, and
 * the settings of its controllers (files img_cg_setting_ok() allows),
 * written in order when restore makes it.
 */
struct img_cg_setting {
	char *name;		/* "memory.max", "memory.limit_in_bytes", ... */
	char *value;		/* as read, without the newline */
};

struct img_cgroup {
	char *controllers;	/* "memory", "cpu,cpuacct", "name=x", "" */
	char *path;		/* absolute, in the hierarchy, no "." or ".." */
	uint32_t nr_settings;
	struct img_cg_setting *settings;
};

/* Is name a controller file that a CGROUP record may set? The i-th of
 * them, in the order they are written (a v1 memory limit before the
 * memory+swap one, a cpu period before the quota), or NULL. */
int img_cg_setting_ok(const char *name);
const char *img_cg_setting(size_t i);

/*
 * A network device of the tree's network namespace (IMG_REC_NETDEV, after
 * the NS and CGROUP records, before the FILEs; only with an NS record of
 * kind net), numbered by its index at dump time: the loopback, or the end
 * of a veth pair whose peer, peer, was in the namespace ckpt ran in
 * (restore makes the pair again, this end in the tree's namespace, the
 * peer in restore's). Its addresses are the IFA_F_PERMANENT ones (an
 * IPv6 link-local one too: restore
 * leaves one the kernel made already as it is; not those learnt from
 * router advertisements).
 */
enum {
	IMG_NETDEV_LO = 1,
	IMG_NETDEV_VETH = 2,
	IMG_NETDEV_MACVLAN = 3,	/* peer: its lower device, in ckpt's
				 * namespace; mode, flags: IFLA_MACVLAN_* */
	IMG_NETDEV_BRIDGE = 4,	/* img_netdev.br: its settings and ports */
	IMG_NETDEV_TUN = 5,	/* a tun or tap device, img_netdev.tun;
				 * the fds on it are TUN FILEs */
	IMG_NETDEV_KIND_MAX = 5,
};
#define IMG_MAX_BRPORTS		64	/* ports of one bridge */
/* img_netdev.tun.flags: the IFF_* of TUNSETIFF (linux/if_tun.h) that
 * restore gives back: IFF_TUN, IFF_TAP, IFF_NO_PI, IFF_VNET_HDR,
 * IFF_MULTI_QUEUE, IFF_PERSIST */
#define IMG_TUN_FLAGS		(0x0001u | 0x0002u | 0x1000u | 0x4000u | \
				 0x0100u | 0x0800u)
#define IMG_TUN_PERSIST		0x0800u
/* on a lower device of ckpt's namespace */
#define IMG_NETDEV_LOWERED(k)	((k) == IMG_NETDEV_MACVLAN)

#define IMG_MAX_MAC		32	/* the kernel's MAX_ADDR_LEN */
#define IMG_MAX_IFNAME		15	/* IFNAMSIZ - 1 */

/* the IFA_F_* flags an address keeps: nodad, homeaddress, permanent,
 * mngtmpaddr, noprefixroute */
#define IMG_NETADDR_FLAGS	(0x02u | 0x10u | 0x80u | 0x100u | 0x200u)

struct img_netaddr {
	uint32_t family;	/* AF_INET, AF_INET6 */
	uint32_t prefixlen;
	uint32_t scope;		/* RT_SCOPE_* */
	uint32_t flags;		/* IMG_NETADDR_FLAGS */
	uint8_t addr[16];	/* 4 bytes for AF_INET, the rest zero */
};

struct img_netdev {
	uint32_t index;		/* ifindex at dump */
	uint32_t kind;		/* IMG_NETDEV_* */
	uint32_t up;		/* 1: IFF_UP was set */
	uint32_t mtu;
	uint32_t mac_len;
	uint8_t mac[IMG_MAX_MAC];
	char *name;
	char *peer;		/* VETH: the peer's name; MACVLAN: the
				 * lower device's; else NULL */
	uint32_t inner;		/* VETH: 1 when its peer is a VETH of the
				 * image (the same namespace), not in
				 * ckpt's; each names the other */
	uint32_t nr_addrs;
	struct img_netaddr *addrs;
	uint32_t mode, flags;	/* MACVLAN: IFLA_MACVLAN_MODE, _FLAGS */
	struct {		/* BRIDGE: IFLA_BR_* as the kernel gives
				 * them (times in clock_t, 1/100 s) */
		uint32_t stp, forward_delay, ageing_time, vlan_filtering;
		uint32_t nr_ports;
		char **ports;	/* the devices enslaved to it, by name:
				 * NETDEVs of the image */
	} br;
	struct {		/* TUN */
		uint32_t flags;		/* IMG_TUN_FLAGS */
		int32_t owner, group;	/* TUNSETOWNER, _GROUP; -1: none */
		uint32_t vnet_hdr_sz;	/* TUNGETVNETHDRSZ */
		uint32_t sndbuf;	/* TUNGETSNDBUF, INT_MAX at most */
		/* both 0: not read (a device that was up and that no
		 * fd held): the kernel's are left */
	} tun;
};

/*
 * A route of the main table (IMG_REC_ROUTE, after the NETDEVs) that the
 * kernel does not make by itself from an address (protocol other than
 * kernel): a default route through a gateway, a static one. dev is a
 * NETDEV's index (0: none); dst and gw are zero when absent.
 */
struct img_route {
	uint32_t family;	/* AF_INET, AF_INET6 */
	uint32_t dst_len;
	uint32_t dev;
	uint32_t protocol, scope, type, priority;
	uint8_t dst[16];
	uint8_t gw[16];
	uint32_t has_gw;
};

const char *img_netdev_kind_name(uint32_t kind);
void img_netdev_free(struct img_netdev *n);

/*
 * A System V object of an IPC namespace of the tree's own (IMG_REC_SYSV,
 * after the NS records, before any FILE): the namespace's owner makes it
 * again there, with the same id and key, once it has made the namespace.
 * A message queue holds its messages in order, a semaphore set its
 * values; a segment (none of the tree's processes had it attached) its
 * bytes, in the SYSV_DATA records after it. A POSIX message queue of the
 * namespace is one too, of kind MQUEUE: its name, mq_maxmsg and
 * mq_msgsize, its messages with their priorities, highest first.
 */
enum {
	IMG_SYSV_MSG = 1,
	IMG_SYSV_SEM = 2,
	IMG_SYSV_SHM = 3,
	IMG_SYSV_MQUEUE = 4,	/* not System V: a POSIX message queue of
				 * the namespace, in the same shape (name,
				 * no key, no id, no creator) */
};

/* img_sysv.flags */
#define IMG_SYSV_LOCKED		(1u << 0)	/* SHM: SHM_LOCK done */

#define IMG_MAX_SYSVS		65536
#define IMG_MAX_SYSV_MSGS	65536	/* messages of one queue */
#define IMG_MAX_SYSV_MSG	(512u * 1024)	/* bytes of one message */
#define IMG_MAX_SEMS		32000	/* the kernel's SEMMSL */
#define IMG_MAX_SYSV_CHUNK	(512u * 1024)	/* bytes in one SYSV_DATA */
#define IMG_MAX_SYSV_QUEUE	(960u * 1024)	/* bytes of one queue's
						 * messages, 16 more each */

struct img_sysv_msg {
	int64_t type;		/* mtype, > 0; MQUEUE: the priority */
	uint32_t len;
	uint8_t *data;
};

struct img_sysv_chunk {
	uint64_t off;		/* in the segment */
	uint32_t len;
	uint8_t *data;
};

struct img_sysv {
	uint32_t kind;		/* IMG_SYSV_* */
	uint64_t ns;		/* the id of its IPC NS record */
	int32_t key, id;	/* key (0: IPC_PRIVATE) and id */
	uint32_t mode;		/* permission bits */
	uint32_t uid, gid, cuid, cgid;	/* owner and creator */
	uint64_t size;		/* MSG: msg_qbytes; SEM: nsems; SHM: bytes;
				 * MQUEUE: mq_msgsize */
	uint32_t flags;		/* IMG_SYSV_* */
	char *name;		/* MQUEUE: without its '/'; else NULL */
	uint64_t maxmsg;	/* MQUEUE: mq_maxmsg; else 0 */
	uint32_t nr_msgs;	/* MSG */
	struct img_sysv_msg *msgs;
	uint16_t *semvals;	/* SEM: size of them */
	uint32_t nr_chunks;	/* SHM: SYSV_DATA records, in order */
	struct img_sysv_chunk *chunks;
};

const char *img_sysv_kind_name(uint32_t kind);

/*
 * A UTS, IPC or network namespace the tree shared with processes outside
 * it (IMG_REC_NSJOIN, after the NS records, before any FILE): restore
 * does not make it but joins one (restore --join-ns KIND=PATH, else the
 * path the dump found it mounted on), its owner before it makes its
 * children (a network one: restore itself, for the root).
 */
struct img_nsjoin {
	uint32_t kind;		/* IMG_NS_UTS, IPC or NET */
	uint32_t owner;		/* the topmost process in it */
	uint64_t id;		/* its inode at dump time */
	char *path;		/* an nsfs mount of it at dump time
				 * (/run/netns/NAME), or NULL */
};

void img_sysv_free(struct img_sysv *s);

/*
 * A mount of the tree's mount namespace that restore makes (IMG_REC_MOUNT,
 * after the NS and CGROUP records, before the FILEs), in mountinfo order,
 * parents first. The namespace is the MNT NS record's, of the root; the
 * mounts it shares with ckpt's (copies of them, unmounted nowhere) have no
 * record. A ROOT mount comes first when the tree's / is a directory of
 * the host (pivot_root): restore binds it, makes the others below it and
 * pivots into it. A TMPFS mount's files follow it as MNTFILE records.
 * Restore makes the mounts in two steps (restore/mnt.c): the late ones,
 * img_mnt_late(), in the root's child, where its PID and IPC namespaces
 * are: proc, sysfs, mqueue, devpts, every INNER bind, and any mount below
 * a late one. A CGROUP mount is made in the restored cgroup namespace,
 * so that its root is that namespace's root.
 */
enum {
	IMG_MNT_ROOT = 1,	/* the tree's /: host a directory of the host */
	IMG_MNT_BIND = 2,	/* host: the path of its source on the host */
	IMG_MNT_TMPFS = 3,	/* new, its files in MNTFILE records */
	IMG_MNT_PROC = 4,	/* new, of the tree's PID namespace */
	IMG_MNT_SYSFS = 5,
	IMG_MNT_MQUEUE = 6,	/* new, of the tree's IPC namespace */
	IMG_MNT_DEVPTS = 7,	/* a new instance */
	IMG_MNT_INNER = 8,	/* a bind of part of an earlier TMPFS, PROC,
				 * ... mount: host its path in the namespace */
	IMG_MNT_OVERLAY = 9,	/* new, its layers (options lowerdir=,
				 * upperdir=, workdir=) host paths; the
				 * upper layer's files are not in the image */
	IMG_MNT_CGROUP = 10,	/* new, a cgroup or cgroup2 (fstype) of the
				 * hierarchy its options name, from the root
				 * of the tree's cgroup namespace */
	IMG_MNT_COPY = 11,	/* NSMOUNT only: a mount the namespace got as
				 * a copy of its parent's at point, with
				 * other flags or propagation now, or
				 * unmounted since (gone) */
	IMG_MNT_KIND_MAX = 11,
};

/* mount flags (flags): the kernel's MS_* values of these */
#define IMG_MNT_ALL_FLAGS	(0x1u | 0x2u | 0x4u | 0x8u | 0x400u | \
				 0x800u | 0x200000u | 0x1000000u)
/* propagation */
enum {
	IMG_MNT_PRIVATE = 0,
	IMG_MNT_SHARED = 1,	/* a peer group of its own */
	IMG_MNT_UNBINDABLE = 2,
	IMG_MNT_SLAVE = 3,	/* NSMOUNT COPY: a slave of the peer group
				 * of the parent's mount it copies; INNER:
				 * a bind of such a slave */
};

struct img_mount {
	uint32_t id;		/* 1, 2, ... in image order */
	uint32_t kind;		/* IMG_MNT_* */
	uint32_t flags;		/* MS_RDONLY, MS_NOSUID, ... of the mount */
	uint32_t sb_ro;		/* a new file system: mounted read-only */
	uint32_t propagation;	/* IMG_MNT_PRIVATE, ... */
	uint64_t dev;		/* at dump time */
	char *point;		/* absolute, in the namespace */
	char *fstype;		/* "tmpfs", "proc", ... or a bind's */
	char *source;		/* mountinfo's */
	char *options;		/* a new file system's, for mount(2) */
	char *host;		/* ROOT, BIND: the host path, else NULL */
	/* NSMOUNT only: the id of its MNT NS record (one below the root's),
	 * and, COPY, 1 when it was unmounted there */
	uint64_t ns;
	uint32_t gone;
};

/*
 * A file of the TMPFS mount before it (IMG_REC_MNTFILE), parents first:
 * path relative to the mount's root ("" for the root itself). A regular
 * file's data comes as extents, one per record (IMG_MNTF_MORE for the
 * second and later of a file); holes stay holes. A symlink's target or a
 * hard link's first path is link.
 */
#define IMG_MNTF_MORE		1u	/* more data of the previous file */
#define IMG_MNTF_HARDLINK	2u	/* link: an earlier file's path */
#define IMG_MNTF_ALL_FLAGS	3u

struct img_mntfile {
	uint32_t mount;		/* its MOUNT's id */
	uint32_t flags;		/* IMG_MNTF_* */
	uint32_t mode, uid, gid;
	uint32_t len;		/* bytes in data */
	uint64_t size, rdev, offset;	/* offset: of data in the file */
	uint64_t atime_ns, mtime_ns;
	uint8_t *data;
	char *path;
	char *link;
};

const char *img_mnt_kind_name(uint32_t kind);
/* late[i] for each of the n mounts (image order): see IMG_REC_MOUNT */
void img_mnt_late(const struct img_mount *m, uint32_t n, unsigned char *late);
/* Is the absolute path p at or below dir? */
int img_path_under(const char *p, const char *dir);
/* fn(key, path, arg) on each layer path of an overlay's options
 * (lowerdir=A:B, lowerdir+=, datadir+=, upperdir=, workdir=), path
 * NUL-terminated in a copy; -1 when one is not absolute, has a . or ..
 * component or an escape (a backslash), or there is no lowerdir; else
 * fn's first non-zero, or 0 */
int img_ovl_layers(const char *opts,
		   int (*fn)(const char *key, const char *path, void *arg),
		   void *arg);

/* A GHOST record and its pages (addr is the offset in the file). */
struct img_ghost_object {
	struct img_ghost g;
	uint32_t nr_pages;
	struct img_pages *pages;
};

/*
 * A run of pages of one VMA. In a parsed image, data_off is the absolute
 * offset of the page data in the image file: this one's when src is 0,
 * else the file of parent src of the chain (img_chain_fd). A run of a
 * PARENT_PAGES record, not yet resolved (img_read_chain), has src
 * IMG_SRC_PARENT and no data. rec_off is the offset of its record, crc
 * the record's CRC. unchecked: read with IMG_READ_DEFER_PAGES, its CRC
 * not checked yet (the trailer's chain vouches for crc itself): see
 * img_pages_check(). A run of a PRE_PAGES record never stays in a parsed
 * image: the reader replaces it by the pieces of the PAGES of PRECOPY
 * round pre_round that hold it (src 0; rec_off and crc their record's).
 */
struct img_pages {
	uint64_t addr;
	uint64_t nr_pages;
	uint64_t data_off;
	uint64_t rec_off;
	uint32_t crc;
	uint32_t unchecked;
	uint32_t src;
	uint32_t pre_round;	/* src IMG_SRC_PRE only */
};

#define IMG_SRC_PARENT		UINT32_MAX
#define IMG_SRC_PRE		(UINT32_MAX - 1)
#define IMG_MAX_CHAIN		64	/* parents of one image */

/*
 * Pre-copy (ckpt migrate): the pages of process pid that round round of
 * the copy made while it ran sent, right after the header; a PRE_PAGES
 * record of the process names those still as they were at the freeze.
 * The PAGES of one PRECOPY ascend and are disjoint.
 */
struct img_pre {
	int32_t pid;
	uint32_t round;
	uint32_t nr_pages;
	struct img_pages *pages;
};

/*
 * Incremental images. An image with an IDENT record has an id (random,
 * not 0); with a parent_id too, it is the child of the image of that id
 * found at parent (a path, relative to the child's directory unless
 * absolute), and its PARENT_PAGES records say which pages are as the
 * parent has them: the parent's PAGES there, or zero where it has none.
 */
struct img_ident {
	uint64_t id;
	uint64_t parent_id;	/* 0: a full image */
	char *parent;		/* with parent_id only */
};

enum img_fd_type {
	IMG_FD_REG = 1,		/* regular file, reopened by path */
	IMG_FD_DIR = 2,
	IMG_FD_CHR = 3,		/* character device by path (/dev/null) */
	IMG_FD_TTY = 4,		/* a terminal: restore's own is used */
	IMG_FD_INHERIT = 5,	/* pipe/socket on 0-2: restore's own fd */
	IMG_FD_FILE = 6,	/* the image's FILE record img_fd.file */
	IMG_FD_NULL = 7,	/* not restorable, /dev/null by the user's
				 * choice (--ext-null); path: what it was */
	IMG_FD_PATH = 8,	/* O_PATH: reopened by path with its flags
				 * (O_NOFOLLOW: a symlink itself) */
};

struct img_fd {
	int32_t fd;
	uint32_t type;		/* enum img_fd_type */
	uint32_t flags;		/* open(2) status flags and access mode */
	uint32_t fdflags;	/* FD_CLOEXEC */
	uint64_t pos;
	uint32_t mode;		/* st_mode */
	uint64_t dev, ino, size;
	char *path;
	uint32_t file;		/* IMG_FD_FILE: its img_file.id, else 0 */
};

/*
 * Open file descriptions the processes of an image share or that only the
 * tree as a whole can rebuild (the two ends of a pipe). Every fd of type
 * IMG_FD_FILE names one; fds naming the same id share one description
 * after restore (offset, flags), as after dup() or fork().
 */
enum img_file_kind {
	IMG_FILE_PIPE = 1,	/* one end of an anonymous pipe */
	IMG_FILE_FIFO = 2,	/* one end of a named pipe, path set */
	IMG_FILE_UNIX = 3,	/* a unix socket, img_file.sk; path: its name */
	IMG_FILE_EVENTFD = 4,	/* img_file.efd */
	IMG_FILE_EPOLL = 5,	/* img_file.ep: the files it watches */
	IMG_FILE_SIGNALFD = 6,	/* img_file.sfd */
	IMG_FILE_TIMERFD = 7,	/* img_file.tfd */
	IMG_FILE_INOTIFY = 8,	/* img_file.in: its watches */
	IMG_FILE_REG = 9,	/* a regular file several fds share (one
				 * offset), reopened by path at pos */
	IMG_FILE_TCP = 10,	/* a TCP socket, img_file.inet */
	IMG_FILE_UDP = 11,	/* a UDP socket, img_file.inet */
	IMG_FILE_NETLINK = 12,	/* a netlink socket, img_file.nl */
	IMG_FILE_GHOST = 13,	/* an open of the GHOST img_file.ghost, at
				 * pos */
	IMG_FILE_MEMFD = 14,	/* an open of the memfd SHM img_file.shm,
				 * at pos */
	IMG_FILE_PTY_MASTER = 15,	/* a Unix98 pty master, img_file.tty;
					 * FILE_DATA: what the slave wrote
					 * and the master had not read */
	IMG_FILE_PTY_SLAVE = 16,	/* its slave /dev/pts/tty.index */
	IMG_FILE_PIDFD = 17,	/* a pidfd, img_file.pidfd; flags:
				 * O_NONBLOCK, O_EXCL (PIDFD_THREAD) */
	IMG_FILE_TTY = 18,	/* a terminal outside the tree that fds of
				 * type IMG_FD_TTY with its path were on:
				 * img_tty (index 0 unless /dev/pts/N; no
				 * flags), for restore --pty */
	IMG_FILE_TUN = 19,	/* an open of /dev/net/tun (path), attached
				 * to the TUN NETDEV named tun_dev, or to
				 * none (tun_dev NULL) */
	IMG_FILE_MQUEUE = 20,	/* a POSIX message queue of the root's IPC
				 * namespace, path its name ("/q"), flags
				 * its access mode and O_NONBLOCK */
};

/* img_tty.flags */
#define IMG_TTY_LOCKED		(1u << 0)	/* TIOCSPTLCK set */
#define IMG_TTY_PACKET		(1u << 1)	/* TIOCPKT on */
#define IMG_TTY_EXCL		(1u << 2)	/* TIOCEXCL on the slave */
#define IMG_TTY_HUP		(1u << 3)	/* the slave was opened and
						 * closed: the master reads EIO */
#define IMG_TTY_COLUMN		(1u << 4)	/* the slave's output column
						 * and its input line's start
						 * follow */
#define IMG_TTY_CONSOLE		(1u << 5)	/* a console: the master was
						 * outside the tree; restore
						 * hands the new one over */
#define IMG_TTY_ALL		(IMG_TTY_LOCKED | IMG_TTY_PACKET | \
				 IMG_TTY_EXCL | IMG_TTY_HUP | IMG_TTY_COLUMN | \
				 IMG_TTY_CONSOLE)
#define IMG_TTY_NCCS		32		/* glibc's NCCS */
#define IMG_MAX_PTY		(1u << 20)	/* /dev/pts/N: N below */
#define IMG_TTY_MAX_COLUMN	65536		/* written again at restore */

/*
 * A pty pair: both kinds carry the index; the master carries the state of
 * the pair (the slave's termios and window size are the pair's), the
 * session whose controlling terminal the slave is and its foreground
 * group (0: none).
 */
struct img_tty {
	uint32_t index;		/* N of /dev/pts/N */
	uint32_t flags;		/* IMG_TTY_*; MASTER only, as below */
	uint32_t iflag, oflag, cflag, lflag;	/* termios(3) */
	uint32_t line;
	uint8_t cc[IMG_TTY_NCCS];
	uint32_t ispeed, ospeed;
	uint32_t rows, cols, xpixel, ypixel;	/* struct winsize */
	int32_t sid, pgrp;
	uint32_t column;	/* IMG_TTY_COLUMN: N_TTY's output column */
	uint32_t canon_column;	/* and where the line being typed began */
	/* PTY_MASTER, PTY_SLAVE: the id of the DEVPTS MOUNT record of the
	 * instance the pair is on (one the tree mounted itself), or 0 for
	 * the /dev/pts of ckpt's mount namespace (restore's /dev/ptmx) */
	uint32_t mount;
};

/* img_unix.state */
enum img_unix_state {
	IMG_UNIX_UNCONNECTED = 1,	/* bound or not, no peer */
	IMG_UNIX_CONNECTED = 2,		/* peer set, or 0 when it closed */
	IMG_UNIX_LISTENING = 3,		/* its waiting connections: PENDING */
};

/* img_unix.shutdown: what shutdown(2) shut, by this end or its peer */
#define IMG_SHUT_RD		(1u << 0)
#define IMG_SHUT_WR		(1u << 1)
/* img_unix.opts */
#define IMG_UNIX_PASSCRED	(1u << 0)	/* SO_PASSCRED */
/* the file of its bound path was removed: bound again, then unlinked */
#define IMG_UNIX_UNLINKED	(1u << 1)
/* CONNECTED to a socket outside the image (ckpt --ext-unix), whose name
 * is peer_name: connect(2)ed to that name again */
#define IMG_UNIX_EXTERNAL	(1u << 2)
/* its names (path and peer_name) are abstract ones holding NUL bytes,
 * each written "\0", and each backslash "\\" */
#define IMG_UNIX_ESCAPED	(1u << 3)
/* a stream or seqpacket client whose connection waits in the queue of
 * the listener peer, not accepted yet; backlog is its place there (1 is
 * accept(2)'s next) and its FILE_DATA what it sent on it */
#define IMG_UNIX_PENDING	(1u << 4)
#define IMG_UNIX_ALL_OPTS	(IMG_UNIX_PASSCRED | IMG_UNIX_UNLINKED | \
				 IMG_UNIX_EXTERNAL | IMG_UNIX_ESCAPED | \
				 IMG_UNIX_PENDING)
#define IMG_MAX_SOCKBUF		(1u << 30)	/* SO_RCVBUF, SO_SNDBUF */
#define IMG_MAX_BACKLOG		(1u << 24)
#define IMG_MAX_UNIX_NAME	107	/* sun_path bytes but a NUL */

/*
 * A unix socket. Its peer is named by inode (img_file.ino of another UNIX
 * file of the image); img_file.path is its bound name, "@..." for an
 * abstract one, NULL when unbound. Its FILE_DATA is its receive queue
 * (what its peer had sent and it had not read yet).
 */
struct img_unix {
	uint32_t type;		/* SOCK_STREAM, SOCK_DGRAM, SOCK_SEQPACKET */
	uint32_t state;		/* enum img_unix_state */
	uint64_t peer;		/* the peer's inode, or 0 */
	uint32_t shutdown;	/* IMG_SHUT_* */
	uint32_t opts;		/* IMG_UNIX_* */
	uint32_t rcvbuf, sndbuf;	/* as getsockopt gives them; 0: default */
	uint32_t backlog;	/* LISTENING: listen(2) backlog */
	/* An ESTABLISHED connection not accepted yet: the id of the
	 * LISTENING file in whose accept queue it waits (the image's order
	 * is the queue's); 0 for any other socket. It has no fd; its send
	 * queue is empty (nothing can write to it). */
	uint32_t listener;
	/* CONNECTED with no peer in the image: the name of the peer that
	 * closed, or of the one outside (EXTERNAL); NULL: it had none */
	char *peer_name;
};

/* The sun_path bytes of a unix socket name of the image ("@..." for an
 * abstract one, whose first byte is then a NUL), unescaped if escaped;
 * how many there are (no NUL after a path), or -1 if it is malformed or
 * too long. */
int img_unix_name(const char *name, int escaped,
		  char out[IMG_MAX_UNIX_NAME + 1]);

/*
 * TCP and UDP sockets, IPv4 or IPv6 (img_inet.family is the socket's;
 * a dual-stack IPv6 socket talking IPv4 has v4-mapped addresses).
 */
enum img_inet_state {
	IMG_INET_UNCONNECTED = 1,	/* bound or not */
	IMG_INET_LISTENING = 2,		/* TCP, no connection waiting */
	IMG_INET_ESTABLISHED = 3,	/* TCP connection; UDP: connected */
	/* TCP connections being closed (img_tcp_fin_sent/_rcvd) */
	IMG_INET_FIN_WAIT1 = 4,
	IMG_INET_FIN_WAIT2 = 5,
	IMG_INET_CLOSE_WAIT = 6,
	IMG_INET_LAST_ACK = 7,
	IMG_INET_CLOSING = 8,
};

/* The socket options an inet socket carries, when they differ from those
 * of a new socket: img_inet.opt[IMG_SO_*], valid where opt_mask has bit
 * IMG_SO_*. img_sockopt() says which setsockopt(2) each one is. */
enum img_sockopt_id {
	IMG_SO_REUSEADDR, IMG_SO_REUSEPORT, IMG_SO_KEEPALIVE,
	IMG_SO_LINGER,		/* l_linger, with l_onoff set */
	IMG_SO_RCVBUF, IMG_SO_SNDBUF,	/* as getsockopt gives them */
	IMG_SO_MARK, IMG_SO_PRIORITY, IMG_SO_BROADCAST, IMG_SO_OOBINLINE,
	IMG_TCP_NODELAY, IMG_TCP_CORK, IMG_TCP_KEEPIDLE, IMG_TCP_KEEPINTVL,
	IMG_TCP_KEEPCNT, IMG_TCP_USER_TIMEOUT,
	IMG_IP_TOS, IMG_IP_TTL, IMG_IP_FREEBIND, IMG_IP_TRANSPARENT,
	IMG_IPV6_V6ONLY, IMG_IPV6_TCLASS, IMG_IPV6_UNICAST_HOPS,
	/* SO_BUF_LOCK (Linux 5.14): which of the two sizes the program set
	 * (1 send, 2 receive), the others the kernel tunes; 0 when unset */
	IMG_SO_BUF_LOCK,
	IMG_NR_SOCKOPTS
};

/*
 * The options of an inet socket beyond img_inet.opt, where they differ
 * from a new socket's: the bytes getsockopt(2) gave, given back to
 * setsockopt(2). img_xopt_desc() lists those an image may hold. An
 * interface index is kept as the device's name (IMG_XOPT_IFINDEX*).
 */
#define IMG_MAX_XOPT		40	/* bytes of one: IP_OPTIONS */
#define IMG_MAX_XOPTS		64	/* options of one socket */
struct img_xopt {
	uint32_t level, opt;
	uint32_t len;
	uint8_t val[IMG_MAX_XOPT];
};

#define IMG_XOPT_NOCONN		(1u << 0)	/* never of a TCP connection */
#define IMG_XOPT_STR		(1u << 1)	/* a name, NUL padded */
#define IMG_XOPT_IFINDEX	(1u << 2)	/* an interface index (the
						 * image: its name) */
#define IMG_XOPT_IFINDEX_BE	(1u << 3)	/* the same, network order */
#define IMG_XOPT_VARLEN		(1u << 4)	/* 0 to len bytes */
#define IMG_XOPT_REFUSE		(1u << 5)	/* set: the socket is refused */
#define IMG_XOPT_MREQN		(1u << 6)	/* IP_MULTICAST_IF: 4 bytes of
						 * address, then the name of
						 * the device given by index
						 * (struct ip_mreqn), or "" */

struct img_xopt_desc {
	const char *name;	/* "TCP_CONGESTION" */
	int level, opt;		/* for getsockopt(2), setsockopt(2) */
	uint32_t len;		/* bytes (at most, IMG_XOPT_VARLEN) */
	uint32_t kinds;		/* 1 << IMG_FILE_TCP | 1 << IMG_FILE_UDP */
	uint32_t family;	/* the only family it applies to, or 0 */
	uint32_t flags;		/* IMG_XOPT_* */
};

/* The i-th option ckpt looks at (NULL past the last); the one of level,
 * opt (NULL if none) */
const struct img_xopt_desc *img_xopt_desc(uint32_t i);
const struct img_xopt_desc *img_xopt_find(uint32_t level, uint32_t opt);
/* frees what an inet FILE's img_inet points to (dev, lock, SOCKX) */
struct img_file;
void img_inet_free(struct img_file *f);

/* A multicast group a socket joined on a device, with its source filter
 * (MCAST_MSFILTER) */
#define IMG_MAX_MCAST		256	/* groups of one socket */
#define IMG_MAX_MCAST_SRC	1024	/* sources in one group's filter */
struct img_mcast {
	uint32_t family;	/* the group's: AF_INET, AF_INET6 */
	char *dev;		/* the device it was joined on */
	uint8_t group[16];	/* network order (IPv4: the first 4) */
	uint32_t mode;		/* MCAST_INCLUDE, MCAST_EXCLUDE */
	uint32_t nr_src;
	uint8_t (*src)[16];	/* the filter's sources, as group */
};

struct img_sockopt_desc {
	const char *name;	/* "SO_REUSEADDR" */
	int level, opt;		/* for setsockopt(2) */
	int64_t min, max;	/* the values the reader accepts */
	uint32_t kinds;		/* 1 << IMG_FILE_TCP | 1 << IMG_FILE_UDP */
	uint32_t ipv6_only;	/* an IPPROTO_IPV6 option */
};

/* img_tcp.opts: what the connection negotiated (TCP_REPAIR_OPTIONS) */
#define IMG_TCP_SACK		(1u << 0)
#define IMG_TCP_TSTAMP		(1u << 1)
#define IMG_TCP_WSCALE		(1u << 2)
#define IMG_MAX_TCPQ		(1u << 30)	/* bytes in one queue */
#define IMG_MAX_IFNAME		15		/* IFNAMSIZ - 1 */

/*
 * A TCP connection as TCP_REPAIR gives it. Sequence numbers count data
 * only: a FIN sent or received (which the state says) comes after the
 * send or receive queue. The FILE_DATA chunks of the receive queue come
 * first, then those of the send queue, flagged IMG_CHUNK_SENDQ.
 */
struct img_tcp {
	uint32_t snd_seq;	/* the send queue's first byte (unacked) */
	uint32_t rcv_seq;	/* the receive queue's first byte (unread) */
	uint32_t sendq_len;	/* sent and unacknowledged, then unsent */
	uint32_t unsent_len;	/* the unsent end of the send queue */
	uint32_t recvq_len;
	uint32_t opts;		/* IMG_TCP_* */
	uint32_t snd_wscale, rcv_wscale;	/* with IMG_TCP_WSCALE */
	uint32_t mss;		/* the MSS clamp */
	uint32_t timestamp;	/* TCP_TIMESTAMP, with IMG_TCP_TSTAMP */
	/* TCP_REPAIR_WINDOW, as the kernel gave it */
	uint32_t snd_wl1, snd_wnd, max_window, rcv_wnd, rcv_wup;
};

struct img_inet {
	uint32_t family;	/* AF_INET, AF_INET6 */
	uint32_t state;		/* enum img_inet_state */
	uint8_t addr[16];	/* bound address, network order (IPv4: 4) */
	uint32_t port;		/* bound port; 0 when not bound */
	uint8_t peer_addr[16];	/* connected: the peer's */
	uint32_t peer_port;	/* 0 when not connected */
	uint32_t backlog;	/* LISTENING: listen(2) backlog */
	/* An ESTABLISHED connection not accepted yet: the id of the
	 * LISTENING file in whose accept queue it waits (the image's order
	 * is the queue's); 0 for any other socket. It has no fd; its send
	 * queue is empty (nothing can write to it). */
	uint32_t listener;
	uint32_t opt_mask;	/* bit IMG_SO_* for each opt[] set */
	int32_t opt[IMG_NR_SOCKOPTS];
	char *dev;		/* SO_BINDTODEVICE, or NULL */
	struct img_tcp tcp;	/* TCP, ESTABLISHED and after only */
	/* Options beyond opt[] and multicast memberships: the SOCKX
	 * record after the FILE's (none when both counts are 0) */
	uint32_t nr_xopts;
	struct img_xopt *xopts;
	uint32_t nr_mcast;
	struct img_mcast *mcast;
	/* A TCP connection whose peer is outside the image (ckpt attach
	 * --tcp-established): lock is the nftables table (family inet)
	 * that drops its packets until restore removes it; NULL for any
	 * other socket. IMG_NETLOCK_PREFIX and IMG_MAX_NETLOCK bound it. */
	char *lock;
};

#define IMG_NETLOCK_PREFIX	"ckpt_"
#define IMG_MAX_NETLOCK		63	/* characters of a lock's name */
/* The mark (SO_MARK) of the packets restore sends a connection through
 * its lock, which lets them pass: the FIN its peer had sent. */
#define IMG_NETLOCK_MARK	0x636b7074u	/* "ckpt" */


/*
 * A netlink socket: bound again with its port id, groups and options. The
 * messages queued in it are not kept: the kernel drops netlink messages
 * when a socket's buffer is full, which programs must expect anyway.
 */
#define IMG_NL_GROUP_WORDS	4	/* groups 1 to 256 */
/* img_netlink.opts: the SOL_NETLINK flags, bit n for option n */
#define IMG_NL_ALL_OPTS		((1u << 3) | (1u << 4) | (1u << 5) | \
				 (1u << 8) | (1u << 10) | (1u << 11) | \
				 (1u << 12))

struct img_netlink {
	uint32_t protocol;	/* NETLINK_ROUTE, _SOCK_DIAG, _GENERIC ... */
	uint32_t type;		/* SOCK_RAW or SOCK_DGRAM */
	uint32_t portid;	/* bound port id; 0 when not bound */
	uint64_t groups[IMG_NL_GROUP_WORDS];	/* bit n-1 for group n */
	uint32_t dst_portid, dst_group;	/* connect(2)ed to, or 0 */
	uint32_t opts;		/* IMG_NL_ALL_OPTS */
	uint32_t rcvbuf, sndbuf;	/* 0: a new socket's */
};

/* One file an epoll watches: EPOLL_CTL_ADD of file under fd number tfd
 * (the kernel keys a watch by file and number: the process's later
 * EPOLL_CTL_MOD and _DEL name that number). */
struct img_epoll_watch {
	uint32_t file;		/* the watched FILE's id */
	int32_t tfd;		/* >= 0 */
	uint32_t events;	/* EPOLLIN ..., EPOLLET, EPOLLONESHOT ...,
				 * IMG_EPOLL_REPORTED */
	uint64_t data;		/* epoll_data, as the process gave it */
};
/* In events, a bit epoll leaves free: an edge-triggered watch (not
 * EPOLLONESHOT) whose file was ready at dump and not on the epoll's ready
 * list: that edge was reported already; restore consumes it again. */
#define IMG_EPOLL_REPORTED	(1u << 27)

/* One inotify watch: inotify_add_watch(path, mask) gave wd. */
struct img_inotify_watch {
	int32_t wd;		/* > 0, increasing in the file */
	uint32_t mask;		/* IN_* events and flags */
	uint64_t dev, ino;	/* of the watched inode, for a sanity check */
	char *path;		/* absolute */
};

/* img_file.tfd.flags: timerfd_settime() flags, TFD_TIMER_* values */
#define IMG_TFD_ABSTIME		(1u << 0)
#define IMG_TFD_CANCEL_ON_SET	(1u << 1)

/* Bytes queued in a file at dump time (IMG_REC_FILE_DATA), in order. For
 * a pipe the queue belongs to the pipe: one of its files carries it. A
 * datagram or seqpacket socket's queue is messages: each is one or more
 * chunks, the last one flagged IMG_CHUNK_EOR. */
#define IMG_CHUNK_EOR		(1u << 0)	/* ends a message */
#define IMG_CHUNK_SENDQ		(1u << 1)	/* TCP: of the send queue */
/* UDP: the sender of the datagram that follows: its address (4 or 16
 * bytes, the socket's family) and port, in network order */
#define IMG_CHUNK_ADDR		(1u << 2)
/* unix datagram or seqpacket: the descriptors in flight (SCM_RIGHTS) of
 * the message that follows, as the ids (u32 each) of FILEs of the image */
#define IMG_CHUNK_FDS		(1u << 3)
#define IMG_MAX_FDS_IN_FLIGHT	253	/* the kernel's SCM_MAX_FD */
/* PTY_MASTER: bytes the slave had to read (typed, not read yet), one
 * chunk a line in canonical mode, the last one maybe a line not ended;
 * with IMG_CHUNK_EOR: a line that VEOF ended (VEOF itself not kept). The
 * chunks without it are what the master had to read. */
#define IMG_CHUNK_TTY_IN	(1u << 4)
/* unix socket with SO_PASSCRED: the credentials (SCM_CREDENTIALS) of the
 * message that follows, or of a stream's bytes up to the next such
 * chunk: pid (a process of the image, or 0: none), uid, gid, u32 each */
#define IMG_CHUNK_CREDS		(1u << 5)

struct img_chunk {
	uint32_t flags;		/* IMG_CHUNK_EOR or 0 */
	uint32_t len;		/* 1 .. IMG_MAX_CHUNK; 0 for an empty message */
	uint8_t *data;
};

struct img_file {
	uint32_t id;		/* 1.., unique in the image */
	uint32_t kind;		/* enum img_file_kind */
	uint32_t flags;		/* open(2) access mode and status flags */
	uint64_t dev, ino;	/* files of one kind and ino share one object
				 * (both ends of a pipe share the pipe) */
	char *path;		/* FIFO, REG: the path it is reopened by */
	uint32_t pipe_size;	/* PIPE, FIFO: capacity (F_GETPIPE_SZ) */
	uint64_t pos;		/* REG, GHOST, MEMFD: the file offset */
	uint32_t ghost;		/* GHOST: the img_ghost's id; FIFO: 0, or
				 * a FIFO ghost, made by restore */
	uint32_t shm;		/* MEMFD: the img_shm's id */
	struct img_unix sk;	/* UNIX only */
	struct img_inet inet;	/* TCP, UDP only */
	struct img_netlink nl;	/* NETLINK only */
	struct img_tty tty;	/* PTY_MASTER, PTY_SLAVE only */
	uint32_t nr_chunks;
	struct img_chunk *chunks;
	struct {			/* EVENTFD */
		uint64_t count;		/* < 2^64 - 1 */
		uint32_t semaphore;	/* EFD_SEMAPHORE: 0 or 1 */
	} efd;
	struct {			/* SIGNALFD */
		uint64_t sigmask;	/* bit n-1 for signal n */
	} sfd;
	struct {			/* TIMERFD */
		uint32_t clockid;	/* CLOCK_REALTIME, _MONOTONIC ... */
		uint32_t flags;		/* IMG_TFD_* */
		uint64_t ticks;		/* expirations not read yet */
		/* time left to the next expiry, 0 disarmed; with
		 * IMG_TFD_ABSTIME (realtime clocks only) the absolute
		 * CLOCK_REALTIME time of that expiry */
		uint64_t value_ns;
		uint64_t interval_ns;
	} tfd;
	struct {			/* EPOLL */
		uint32_t nr;
		struct img_epoll_watch *w;
	} ep;
	struct {			/* INOTIFY */
		uint32_t nr;
		struct img_inotify_watch *w;
	} in;
	char *tun_dev;			/* TUN */
	struct {			/* PIDFD */
		int32_t pid;		/* a process of the image; 0: one
					 * that was reaped */
		uint32_t status;	/* reaped: its wait status */
	} pidfd;
};

/*
 * A file lock a process holds through one of its fds (its fdinfo "lock:"
 * lines): a POSIX record lock is the process's own, an OFD lock and a
 * flock lock and a lease belong to the open file description (every
 * process holding it lists it; taking it again is a no-op).
 */
enum img_lock_kind {
	IMG_LOCK_POSIX = 1,	/* fcntl(F_SETLK) */
	IMG_LOCK_OFD = 2,	/* fcntl(F_OFD_SETLK) */
	IMG_LOCK_FLOCK = 3,	/* flock() */
	IMG_LOCK_LEASE = 4,	/* fcntl(F_SETLEASE), not being broken */
};

struct img_lock {
	int32_t fd;		/* an fd of the process */
	uint32_t kind;		/* enum img_lock_kind */
	uint32_t write;		/* 1: exclusive (F_WRLCK, LOCK_EX), 0 shared */
	uint64_t start, len;	/* bytes; len 0: to the end (flock, lease:
				 * 0, 0) */
};

/*
 * Where an fd's open file description sends SIGIO (F_GETOWN_EX: a
 * thread, a process or a process group of the tree) and with which
 * signal (F_GETSIG, 0: SIGIO). Written for an fd whose owner or signal is
 * set, or that has O_ASYNC in its flags.
 */
enum img_fown_type {
	IMG_FOWN_TID = 0,	/* F_OWNER_TID */
	IMG_FOWN_PID = 1,	/* F_OWNER_PID */
	IMG_FOWN_PGRP = 2,	/* F_OWNER_PGRP */
};

struct img_fown {
	int32_t fd;		/* an fd of the process */
	uint32_t type;		/* enum img_fown_type */
	int32_t pid;		/* 0: none */
	uint32_t sig;		/* 0 (SIGIO) to IMG_NSIG */
};

/*
 * An AIO context of the process (io_setup(2), IMG_REC_AIO) with no
 * request in flight: its ring, a mapping of its own that is no VMA of the
 * image, at ring (the context's id) with its bytes as they were (the
 * header, whose head and tail say which events are completed and not
 * reaped yet, and the events). nr_events is the ring's size, which the
 * kernel derives from max_reqs (what io_setup was given) and the number
 * of possible CPUs. The ring's header (struct aio_ring, <linux/aio.h>'s
 * layout in fs/aio.c): u32 id nr head tail magic ...; 32 bytes, as is
 * each event after it.
 */
#define IMG_AIO_HDR		32	/* bytes of the header, of an event */
struct img_aio {
	uint64_t ring;		/* page aligned */
	uint32_t max_reqs;	/* 1..nr_events */
	uint32_t nr_events;
	uint32_t prot;		/* PROT_READ | PROT_WRITE | PROT_EXEC */
	uint32_t len;		/* (nr_events + 1) * 32, page rounded */
	uint8_t *data;		/* len bytes */
};

struct img_sigact {
	uint64_t handler, flags, restorer, mask;
};

/* One process and everything that follows its PROC record. */
struct img_process {
	struct img_proc proc;
	uint32_t nr_threads;
	struct img_thread *threads;
	uint32_t nr_vmas;
	struct img_vma *vmas;
	uint32_t nr_pages;
	struct img_pages *pages;
	uint32_t nr_fds;
	struct img_fd *fds;
	uint32_t nr_locks;
	struct img_lock *locks;
	uint32_t nr_fowns;
	struct img_fown *fowns;
	uint32_t nr_aios;
	struct img_aio *aios;
	int has_sigacts;
	struct img_sigact sigacts[IMG_NSIG];
};

/* A SHM record and its pages (addr is the offset in the object). */
struct img_shm_object {
	struct img_shm shm;
	uint32_t nr_pages;
	struct img_pages *pages;
};

/*
 * An application plugin's record (ckpt-app-plugin(7)): bytes the plugin
 * named name gave at dump time, handed back to it at restore.
 */
struct img_app {
	char *name;		/* printable, 1..IMG_MAX_APP_NAME bytes */
	uint32_t len;
	uint8_t *data;		/* len bytes, NULL when 0 */
};

/* printable, no space, 1..IMG_MAX_APP_NAME bytes? */
int img_app_name_ok(const char *name);

/* img_fileid.flags */
#define IMG_FILEID_HASH		(1u << 0)	/* hash holds the content's */
#define IMG_FILEID_WRITTEN	(1u << 1)	/* open for writing or mapped
						 * shared and writable */
#define IMG_FILEID_ALL		(IMG_FILEID_HASH | IMG_FILEID_WRITTEN)

/*
 * A regular file the tree had open or mapped when it was dumped, as it
 * was: restore refuses to run the tree on a file that is not the same
 * (restore/validate.c). One record per file (dev, ino), in any order.
 */
struct img_fileid {
	uint32_t flags;		/* IMG_FILEID_* */
	uint32_t mode;		/* st_mode: a regular file */
	uint64_t dev, ino, size;
	uint64_t mtime_ns;	/* since the epoch */
	uint8_t hash[IMG_HASH_LEN];	/* with IMG_FILEID_HASH, else 0 */
	char *path;		/* absolute */
};

/*
 * A file or directory of the file snapshot (ckpt attach --snapshot):
 * what it was when the tree was dumped; a regular file's bytes are in
 * IMAGE.files/<data> beside the image, their hash in hash. Restore puts
 * back each that differs (restore/snapshot.c) before any process is made.
 */
#define IMG_NOTIFY_PATH_MAX	108	/* sun_path's size */
#define IMG_SNAP_SUFFIX	".files"	/* IMAGE.files/ beside IMAGE */

/* SNAPFILE flags */
#define IMG_SNAP_XATTRS	0x1	/* extended attributes follow */
#define IMG_SNAP_INLINE	0x2	/* its bytes are in the image: SNAPDATA */
#define IMG_SNAP_FLAGS	0x3
#define IMG_MAX_SNAP_XATTRS	(1024u * 1024)	/* bytes of xattrs */

struct img_snapfile {
	uint32_t flags;		/* IMG_SNAP_* */
	uint32_t mode;		/* st_mode: a regular file, a directory, a
				 * symbolic link, a FIFO or a device node */
	uint32_t uid, gid;
	uint32_t data;		/* regular file: the name of its copy */
	uint64_t dev, ino, size;
	uint64_t atime_ns, mtime_ns;	/* since the epoch */
	uint8_t hash[IMG_HASH_LEN];	/* regular file: BLAKE2b-256 */
	char *path;		/* absolute, no "." or ".." components */
	char *target;		/* symbolic link: its text */
	uint64_t rdev;		/* device node: st_rdev */
	/* IMG_SNAP_XATTRS: each attribute as its name, a NUL, a u32 (little
	 * endian) value length and the value; img_snap_xattr_next() */
	uint8_t *xattrs;
	uint32_t xattrs_len;
};

/* A run of bytes of an IMG_SNAP_INLINE file (SNAPDATA): its bytes are
 * at img_off in the (plain) image; what no run covers is a hole. */
struct img_snapchunk {
	uint32_t file;		/* index in image.snapfiles */
	uint64_t off, len;	/* in the file */
	uint64_t img_off;
};

/* The attribute of f->xattrs at *off: its name and value, *off moved
 * past it. 1, or 0 at the end (or where the list does not parse: the
 * reader refused such a record). */
int img_snap_xattr_next(const struct img_snapfile *f, uint32_t *off,
			const char **name, const uint8_t **val,
			uint32_t *len);

struct image {
	struct img_header hdr;
	uint32_t nr_snapfiles;
	struct img_snapfile *snapfiles;	/* SNAPFILE records, in order */
	uint32_t nr_snapchunks;
	struct img_snapchunk *snapchunks;	/* SNAPDATA, in order */
	/* the NOTIFY record (ckpt run --notify), or NULL: the socket that
	 * restore tells "restored", and how long it waits for the close */
	char *notify_path;
	uint32_t notify_seconds;
	uint32_t nr_apps;
	struct img_app *apps;	/* APP records, in image order */
	uint32_t nr_fileids;
	struct img_fileid *fileids;
	uint32_t nr_files;
	struct img_file *files;
	uint32_t nr_shms;
	struct img_shm_object *shms;	/* shms[i] has id i + 1 */
	uint32_t nr_ghosts;
	struct img_ghost_object *ghosts;	/* ghosts[i] has id i + 1 */
	uint32_t nr_nss;
	struct img_ns *nss;	/* NS records, in image order */
	uint32_t nr_cgroups;
	struct img_cgroup *cgroups;	/* CGROUP records, in order */
	uint32_t nr_mounts;
	struct img_mount *mounts;	/* MOUNT records: mounts[i] has id i + 1 */
	uint32_t nr_nsmounts;	/* NSMOUNT records: nsmounts[i] has id */
	struct img_mount *nsmounts;	/* nr_mounts + i + 1 */
	uint32_t nr_mntfiles;
	struct img_mntfile *mntfiles;	/* MNTFILE records, in order */
	uint32_t nr_netdevs;
	struct img_netdev *netdevs;	/* NETDEV records, in order */
	uint32_t nr_routes;
	struct img_route *routes;	/* ROUTE records, in order */
	uint32_t nr_sysvs;
	struct img_sysv *sysvs;	/* SYSV records, in order */
	uint32_t nr_nsjoins;
	struct img_nsjoin *nsjoins;	/* NSJOIN records, in order */
	uint32_t nr_procs;
	struct img_process *procs;
	uint64_t size;		/* bytes in the image file */
	uint64_t nr_records;
	struct img_ident ident;	/* id 0: no IDENT record */
	uint32_t nr_parent_pages;	/* PARENT_PAGES runs, not resolved */
	uint32_t nr_pres;
	struct img_pre *pres;	/* PRECOPY records, in order */
	/* after img_read_chain: the files of the parents, nearest first */
	uint32_t nr_chain;
	int *chain_fds;
	char **chain_paths;
};

/*
 * Writing. A writer produces the stream through a sink; img_writer_open()
 * builds the file sink: a temporary file beside PATH, mode 0600, renamed
 * over PATH by commit after fsync. abort removes it. Nothing is visible at
 * PATH until commit succeeded. Every function returns 0 or -1 and logs.
 */
struct img_sink {
	int (*write)(struct img_sink *s, const void *buf, size_t len);
	/* frees s on success; on failure s is left for abort */
	int (*commit)(struct img_sink *s);
	void (*abort)(struct img_sink *s);	/* also frees s */
};

struct img_writer;

struct img_writer *img_writer_open(const char *path) __must_check;
/* The file sink alone: a temporary file beside path, renamed at commit. */
struct img_sink *img_file_sink_open(const char *path) __must_check;
/* Takes sink over: it is aborted if this fails. */
struct img_writer *img_writer_new(struct img_sink *sink) __must_check;
int img_write_header(struct img_writer *w, const struct img_header *h)
	__must_check;
int img_write_proc(struct img_writer *w, const struct img_proc *p)
	__must_check;
/* A ZOMBIE record from p's pid, ppid, pgid, sid, comm and exit_status;
 * never the first process. */
int img_write_zombie(struct img_writer *w, const struct img_proc *p)
	__must_check;
int img_write_thread(struct img_writer *w, const struct img_thread *t)
	__must_check;
int img_write_vma(struct img_writer *w, const struct img_vma *v)
	__must_check;
int img_write_fd(struct img_writer *w, const struct img_fd *f) __must_check;
int img_write_lock(struct img_writer *w, const struct img_lock *l)
	__must_check;
int img_write_fown(struct img_writer *w, const struct img_fown *o)
	__must_check;
int img_write_aio(struct img_writer *w, const struct img_aio *a)
	__must_check;
/* the namespace of that kind that process owner makes, or NULL */
const struct img_ns *img_find_ns(const struct image *img, uint32_t kind,
				 pid_t owner);

/* NS records come right after the header, before the FILEs; CGROUP
 * records after them. */
int img_write_ns(struct img_writer *w, const struct img_ns *ns)
	__must_check;
int img_write_cgroup(struct img_writer *w, const struct img_cgroup *cg)
	__must_check;
/* MOUNT records after those, each TMPFS one with its MNTFILEs */
int img_write_mount(struct img_writer *w, const struct img_mount *m)
	__must_check;
/* NSMOUNT records after the MOUNTs, each TMPFS one with its MNTFILEs */
int img_write_nsmount(struct img_writer *w, const struct img_mount *m)
	__must_check;
int img_write_mntfile(struct img_writer *w, const struct img_mntfile *f)
	__must_check;
/* NETDEV records after those, then ROUTE records */
int img_write_netdev(struct img_writer *w, const struct img_netdev *n)
	__must_check;
int img_write_route(struct img_writer *w, const struct img_route *r)
	__must_check;
/* SYSV records after those, a segment's followed by its SYSV_DATA */
int img_write_sysv(struct img_writer *w, const struct img_sysv *s)
	__must_check;
int img_write_sysv_data(struct img_writer *w, uint64_t off,
			const void *buf, uint32_t len) __must_check;
/* NSJOIN records after the NS records */
int img_write_nsjoin(struct img_writer *w, const struct img_nsjoin *j)
	__must_check;
const struct img_nsjoin *img_find_nsjoin(const struct image *img,
					 uint32_t kind, pid_t owner);
/* FILE and FILE_DATA records come after the header, before any PROC. */
int img_write_file(struct img_writer *w, const struct img_file *f)
	__must_check;
int img_write_file_data(struct img_writer *w, uint32_t file,
			const void *buf, uint32_t len) __must_check;
/* The same with the chunk's flags (IMG_CHUNK_EOR). */
int img_write_file_chunk(struct img_writer *w, uint32_t file,
			 const struct img_chunk *ch) __must_check;
int img_write_sigacts(struct img_writer *w,
		      const struct img_sigact acts[IMG_NSIG]) __must_check;
/* SHM records come after the header and before the first PROC, each with
 * its PAGES right after it. */
int img_write_shm(struct img_writer *w, const struct img_shm *s)
	__must_check;
/* APP and FILEID records come after the FILE records (and their
 * FILE_DATA), before any SHM, GHOST or PROC. */
int img_write_app(struct img_writer *w, const struct img_app *a)
	__must_check;
int img_write_fileid(struct img_writer *w, const struct img_fileid *f)
	__must_check;
/* At most one NOTIFY record (path absolute, shorter than 108 bytes):
 * where APP and FILEID records go. */
int img_write_notify(struct img_writer *w, const char *path,
		     uint32_t seconds) __must_check;
/* SNAPFILE records: where APP and FILEID records go, or after the last
 * process's records (ckpt writes them there, after the thaw). */
int img_write_snapfile(struct img_writer *w, const struct img_snapfile *f)
	__must_check;
/* After an IMG_SNAP_INLINE SNAPFILE: len (at most IMG_MAX_CHUNK) of its
 * bytes at off, after those of the SNAPDATA before. */
int img_write_snapdata(struct img_writer *w, uint32_t data, uint64_t off,
		       const void *buf, uint32_t len) __must_check;
/* GHOST records come after the SHM records and before the first PROC,
 * each with its PAGES right after it (addr: an offset in the file). */
int img_write_ghost(struct img_writer *w, const struct img_ghost *g)
	__must_check;
/* A PAGES record: begin, then exactly nr_pages * page_size bytes of data in
 * any number of img_write_pages_data() calls, then end. After a SHM record
 * and before the first PROC, addr is a byte offset in that object. */
int img_write_ident(struct img_writer *w, const struct img_ident *id)
	__must_check;
/* Pages [addr, +nr_pages) of the current process are the parent's. */
int img_write_parent_pages(struct img_writer *w, uint64_t addr,
			   uint64_t nr_pages) __must_check;
/* Pre-copy: a PRECOPY record, allowed right after the header (and IDENT)
 * or after another one's PAGES, and followed by the PAGES (addresses of
 * pid) of that round; PRE_PAGES in a process: [addr, +nr_pages) are as
 * the PAGES of its PRECOPY round round have them. */
int img_write_precopy(struct img_writer *w, int32_t pid, uint32_t round)
	__must_check;
int img_write_pre_pages(struct img_writer *w, uint64_t addr,
			uint64_t nr_pages, uint32_t round) __must_check;
/* What n PRE_PAGES records would say, in one PRE_RUNS record: n from 1
 * to IMG_PRE_RUNS_MAX (a migration's freeze names tens of thousands of
 * runs, and a record each cost more than the rest of the freeze). */
#define IMG_PRE_RUNS_MAX	4096
struct img_pre_run {
	uint64_t addr, nr_pages;
	uint32_t round;
};
int img_write_pre_runs(struct img_writer *w, const struct img_pre_run *runs,
		       uint32_t n) __must_check;
int img_write_pages_begin(struct img_writer *w, uint64_t addr,
			  uint64_t nr_pages) __must_check;
int img_write_pages_data(struct img_writer *w, const void *buf, size_t len)
	__must_check;
int img_write_pages_end(struct img_writer *w) __must_check;
/* Writes the trailer and commits the sink; frees w either way. */
int img_writer_commit(struct img_writer *w) __must_check;
/* Discards everything written; frees w. */
void img_writer_abort(struct img_writer *w);
/* Bytes written so far. */
uint64_t img_writer_offset(const struct img_writer *w);
/* fn(bytes written so far, arg) after every write to the sink, for a
 * progress report; NULL: none. */
void img_writer_on_write(struct img_writer *w,
			 void (*fn)(uint64_t off, void *arg), void *arg);

/*
 * Reading. The whole image is checked before anything is returned: magic,
 * version, ISA (against expect_isa, unless 0), page size, every record's
 * length and CRC (page data included), the trailer's index and checksum,
 * and the meaning of every field (counts within bounds, VMAs sorted and
 * disjoint, PAGES inside a VMA of their process or inside their SHM
 * object, every VMA's object present, a zombie's parent a live process
 * before it, exactly one trailer at the end).
 * Returns NULL with one pr_err line naming what is wrong.
 */
struct image *img_read_file(const char *path, uint32_t expect_isa)
	__must_check;
struct image *img_read_fd(int fd, uint32_t expect_isa) __must_check;
/* Like img_read_fd, naming the image "name" in messages. */
struct image *img_read_named_fd(int fd, const char *name, uint32_t expect_isa)
	__must_check;
struct image *img_read_buf(const void *buf, size_t len, uint32_t expect_isa)
	__must_check;
/*
 * IMG_READ_DEFER_PAGES (restore --lazy): a process's PAGES record of at
 * most IMG_PAGES_SPLIT bytes of data has its fields, padding and place
 * checked, and its CRC left to img_pages_check() when its pages are
 * needed (marked unchecked); everything else is checked as above.
 */
#define IMG_READ_DEFER_PAGES	1u
struct image *img_read_named_fd_flags(int fd, const char *name,
				      uint32_t expect_isa, unsigned int flags)
	__must_check;
/*
 * The same, of an image still being written to fd (serve --restore reads
 * a migration as it comes): where the reader needs bytes past the size
 * it knows, it calls more(), which waits and sets *size to what is in
 * now: 0, more may come; 1, that is the whole image; -1, it stopped
 * coming (more() said why). The checks are those of a whole file.
 */
struct image *img_read_follow(int fd, const char *name, uint32_t expect_isa,
			      unsigned int flags,
			      int (*more)(void *arg, uint64_t *size),
			      void *arg) __must_check;
/* Room for a whole record that IMG_READ_DEFER_PAGES may leave unchecked */
#define IMG_PAGES_REC_MAX(ps)	(IMG_PAGES_SPLIT + 2 * (size_t)(ps))
/*
 * Reads pg's whole record from fd into buf (IMG_PAGES_REC_MAX bytes) and
 * checks its CRC and fields: 0, its data then at buf + data_off - rec_off,
 * or -1 with one pr_err line naming the image (name) and the record.
 */
int img_pages_check(int fd, const char *name, const struct img_pages *pg,
		    uint32_t page_size, uint8_t *buf) __must_check;
/* The bytes of the record img_pages_check() put in buf (its CRC not
 * counted): pieces of it past pg's are there too. */
uint64_t img_pages_rec_len(const uint8_t *buf);
void img_free(struct image *img);

/*
 * An image and its parents. open_parent(path, arg) opens a parent's file
 * (a read-only fd of a plain image; the caller's pipeline may decode a
 * compressed one): the chain is read, each parent's id checked against
 * its child's parent_id, and every PARENT_PAGES run replaced by the runs
 * of the parent that hold them (src > 0). path is img's own: relative
 * parent paths start in its directory. 0, or -1 logged on any failure: a missing or damaged
 * parent, or a parent that is another image. A full image: 0, nothing
 * done.
 */
int img_read_chain(struct image *img, const char *path,
		   int (*open_parent)(const char *path, void *arg), void *arg)
	__must_check;
/* An open_parent for plain image files (open for reading): what the
 * confined parsers (inspect, convert) and translate use; compressed or
 * encrypted parents are for a caller that decodes them (restore). */
int img_open_plain(const char *path, void *arg);
/* The fd to read a run's data from: own_fd for the image's own. */
int img_chain_fd(const struct image *img, const struct img_pages *pg,
		 int own_fd);
/* The live (not zombie) process pid of img, or NULL. */
const struct img_process *img_find_proc(const struct image *img,
				       int32_t pid);
/* A random image id, never 0. */
uint64_t img_new_id(void);
/* Frees what f points to (path, chunks), not f. */
void img_file_free(struct img_file *f);
/* An exit signal a child of the tree can have (codec-task.c) */
int img_exit_signal_ok(uint32_t sig);
/* A clock timer_create() takes (codec-task.c); one that is the CPU time
 * of the thread that made the timer (a thread clock of id 0)? */
int img_timer_clock_ok(int32_t clockid);
int img_timer_self_thread(int32_t clockid);
/* A CPU timer with an overrun count and less than this left is given
 * its count as restore's last step; ckpt refuses it when a signal of
 * its number is queued too (codec-task.c) */
#define IMG_TIMER_CPU_LATE_NS	1000000
int img_timer_cpu_late(const struct img_timer *t);
/* How many leading filters threads a and b have alike (codec-seccomp.c) */
uint32_t img_seccomp_common(const struct img_seccomp *a,
			    const struct img_seccomp *b);
/* Frees the filters of s, not s. */
void img_seccomp_free(struct img_seccomp *s);
/* Is kind one of the kernel objects (eventfd ... inotify)? */
int img_kfd_kind(uint32_t kind);
/* Is kind TCP or UDP? */
int img_inet_kind(uint32_t kind);
/* The option IMG_SO_* id, or NULL for an unknown one. */
const struct img_sockopt_desc *img_sockopt(uint32_t id);
/* Did the TCP connection f send its FIN, has it received its peer's? */
int img_tcp_fin_sent(const struct img_file *f);
int img_tcp_fin_rcvd(const struct img_file *f);
/* Is f a TCP connection (ESTABLISHED or closing)? */
int img_tcp_connection(const struct img_file *f);
/* Is f a TCP connection waiting in a listener's accept queue? */
int img_tcp_queued(const struct img_file *f);
/* Is name a lock's name: IMG_NETLOCK_PREFIX, then [a-z0-9_]? */
int img_netlock_name_ok(const char *name);

/*
 * netlock.c: the network lock (img_inet.lock), an nftables table made
 * and removed in the caller's network namespace. begin, add each
 * connection, run (which frees the command); remove leaves no table of
 * that name, whether there was one or not. run and remove return 0, or
 * -1 with the reason in err.
 */
struct img_netlock {
	const char *name;
	char *cmd;
	size_t len, cap;
	int failed;
};

void img_netlock_begin(struct img_netlock *l, const char *name);
void img_netlock_add(struct img_netlock *l, const struct img_file *f);
int img_netlock_run(struct img_netlock *l, char *err, size_t len)
	__must_check;
/* The first nftables table of the caller's network namespace that is no
 * lock ("inet t" in name): 1; none: 0; -1 with err when nft fails */
int img_nft_foreign_table(char *name, size_t len, char *err, size_t elen)
	__must_check;
int img_netlock_remove(const char *name, char *err, size_t len)
	__must_check;
/* For each file of img, peer[i]: the index of the other end of the TCP
 * connection img->files[i], or UINT32_MAX; 0 or -1 (out of memory). */
int img_tcp_peers(const struct image *img, uint32_t *peer) __must_check;
/* The same for nr files stride bytes apart (the img_file of a bigger
 * struct: the dumper's table) */
int img_tcp_peers_of(const struct img_file *files, size_t stride,
		     uint32_t nr, uint32_t *peer) __must_check;
/* Do connection a and its peer b agree on what a sent (0), or not:
 * their sequence numbers, or a FIN one has and the other not */
#define IMG_TCP_SEQS_DIFFER	1
#define IMG_TCP_FIN_DIFFERS	2
int img_tcp_pair_agrees(const struct img_file *a, const struct img_file *b);
/* Is kind PTY_MASTER or PTY_SLAVE? */
int img_tty_kind(uint32_t kind);
/* The TTY file of the image, the only one, or NULL (and *n: how many). */
const struct img_file *img_outside_tty(const struct image *img, uint32_t *n);
/* The termios(3) of the pair of PTY_MASTER t. */
struct termios;
void img_tty_termios(const struct img_tty *t, struct termios *tio);
/* What the slave of PTY_MASTER f had to read, as ttyq_push_input() takes
 * it, in buf (TTYQ_MAX bytes): its length, or -1 if it is not one a line
 * discipline could hold (the image's check). */
int img_tty_input(const struct img_file *f, uint8_t *buf);
/* The first PTY_MASTER of pty index on the devpts instance of MOUNT
 * record mount (0: /dev/pts, img_tty.mount), or NULL. */
const struct img_file *img_pty_master(const struct image *img,
				      uint32_t mount, uint32_t index);
/* The FILE record with this id, or NULL. */
const struct img_file *img_find_file(const struct image *img, uint32_t id);
/* The GHOST that fds and VMAs with this dev and ino name, or NULL. */
const struct img_ghost *img_find_ghost(const struct image *img, uint64_t dev,
				       uint64_t ino);
/* The GHOST directory (dir 1: a cwd) or regular file (dir 0: an exe) that
 * "PATH (deleted)" names, or NULL. */
const struct img_ghost *img_ghost_named(const struct image *img,
					const char *link, int dir);

const char *img_rec_name(uint32_t type);
/* Is status a wait status a zombie can have: an exit code, or a signal
 * from 1 to IMG_NSIG with or without the core-dump bit? */
int img_exit_status_ok(uint32_t status);
const char *img_isa_name(uint32_t isa);
/* "cap_kill" for capability 5; NULL for a number this build does not know */
const char *img_cap_name(unsigned int cap);
/* NULL if the sets are consistent, else what is wrong with them */
const char *img_caps_invalid(const struct img_caps *c);

/* CRC32C (Castagnoli), as used for every record: crc starts at 0. */
uint32_t img_crc32c(uint32_t crc, const void *buf, size_t len);
/* Hand img_crc32c a faster CRC32C with the same result (arch_crc32c):
 * fn returns 0 and updates *crc, or -1 to fall back to software, which
 * is also what runs while none is installed (NULL). Programs install it
 * once at start, before any thread computes a CRC. */
void img_crc32c_accel(int (*fn)(uint32_t *, const void *, size_t));

#endif
