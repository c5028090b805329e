/*
 * The child that becomes the restored process. It is created with the
 * image's PID by clone3(set_tid) and does, with ordinary libc, what is
 * easiest done from inside: the file descriptor table, the current
 * directory, umask, personality and limits; then it maps the trampoline
 * page the restorer will work through, reports to the parent, and waits to
 * be seized. Errors are reported to the parent through a pipe as one line.
 *
 * A zombie of the image is created the same way by its parent, takes its
 * place in its group and session, and dies as it died; its parent waits
 * until it has, without reaping it (that is the restored program's to
 * do), before it goes on. A zombie never reports ready.
 */
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/personality.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <linux/sched.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "restore/restore.h"

#define AREA_SIZE	(64ULL << 20)	/* trampoline + parking for the vdso */
#define AREA_STEP	(64ULL << 30)
#define NR_CANDIDATES	64
#define EXIT_NOT_STOPPED 3	/* a stop of ours that did not happen */
#define NR_HELPERS	64	/* groups led by helpers, per parent */

struct child_msg {
	int err;		/* 0: ready */
	int pid;		/* who reports */
	int img_fd;
	uint64_t tramp;
	char text[400];
	struct img_sigact acts[IMG_NSIG];	/* as it waits to be seized */
};

struct child_env {
	struct restore_proc *c;	/* the process this one becomes */
	struct restore_run *run;	/* the tree: run->procs, root first */
	pid_t root_pgid;	/* the root's group, restore's own */
	int msg_fd;
	int std[3];		/* restore's own 0, 1, 2, moved up */
	int pty;		/* --pty: the slave, moved up, or -1 */
	int proc;		/* restore's /proc, kept by a process that
				 * makes a mount namespace below the root's
				 * (and its children), or -1 (for
				 * set_proc_value()) */
	int *files;		/* the image's file table, see files.c */
	uint32_t nr_files;
	uint64_t cand[NR_CANDIDATES];
	int nr_cand;
};

static void __printf(3, 4) __attribute__((noreturn))
child_fail(struct child_env *e, int err, const char *fmt, ...)
{
	struct child_msg m = { .err = err ? err : EIO, .pid = getpid() };
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(m.text, sizeof(m.text), fmt, ap);
	va_end(ap);
	/* restore learns of the failure from the pipe, or from its end */
	if (write_full(e->msg_fd, &m, sizeof(m)))
		_exit(1);
	_exit(1);
}

static int overlaps_image(const struct img_process *p, uint64_t a, uint64_t len)
{
	uint32_t i;

	for (i = 0; i < p->nr_vmas; i++)
		if (a < p->vmas[i].end && p->vmas[i].start < a + len)
			return 1;
	/* an AIO ring is moved there with MREMAP_FIXED (aio.c) */
	for (i = 0; i < p->nr_aios; i++)
		if (a < p->aios[i].ring + p->aios[i].len &&
		    p->aios[i].ring < a + len)
			return 1;
	return 0;
}

/* Ranges far from each other and from every VMA of the image. */
static void pick_candidates(struct child_env *e)
{
	uint64_t a;

	for (a = AREA_STEP; a < 0x7f0000000000ULL && e->nr_cand < NR_CANDIDATES;
	     a += AREA_STEP)
		if (!overlaps_image(e->c->proc, a, AREA_SIZE))
			e->cand[e->nr_cand++] = a;
}

static int fd_source(struct child_env *e, const struct img_fd *f)
{
	const char *path;
	char ghost[64];
	int i, fd;

	switch (f->type) {
	case IMG_FD_TTY:
		if (e->pty >= 0)
			return dup(e->pty);	/* --pty */
		for (i = 0; i < 3; i++)
			if (e->std[i] >= 0 && isatty(e->std[i]))
				return dup(e->std[i]);
		if (e->std[2] >= 0)
			dprintf(e->std[2], "restore: warning: fd %d was a terminal and restore has none: /dev/null instead\n",
				f->fd);
		return open("/dev/null", O_RDWR);
	case IMG_FD_INHERIT:
		if (f->fd <= 2 && e->std[f->fd] >= 0)
			return dup(e->std[f->fd]);
		return open("/dev/null", O_RDWR);
	case IMG_FD_NULL:
		if (e->std[2] >= 0)
			dprintf(e->std[2], "restore: warning: fd %d of %d was %s, not restorable: /dev/null instead (--ext-null)\n",
				f->fd, e->c->proc->proc.pid,
				f->path ? f->path : "?");
		return open("/dev/null", O_RDWR);
	case IMG_FD_FILE:
		i = restore_file_index(e->run->img, f->file);
		return i < 0 ? -1 : dup(e->files[i]);
	case IMG_FD_DIR:
		return open(f->path, O_RDONLY | O_DIRECTORY);
	case IMG_FD_PATH:
		path = restore_ghost_path(e->run, f->path, S_ISDIR(f->mode),
					  ghost, sizeof(ghost));
		/* a ghost's /proc link is no symlink to keep */
		return open(path, f->flags & (O_PATH | O_DIRECTORY |
					      (path == f->path ? O_NOFOLLOW : 0)));
	default:
		fd = open(f->path, f->flags & ~(O_CREAT | O_EXCL | O_TRUNC |
						O_NOCTTY));
		/* a namespace fd (/proc/PID/ns) has no offset to set */
		if (fd >= 0 && f->type == IMG_FD_REG && f->pos &&
		    lseek(fd, f->pos, SEEK_SET) < 0) {
			close(fd);
			return -1;
		}
		return fd;
	}
}

static void open_fds(struct child_env *e)
{
	struct img_process *p = e->c->proc;
	uint32_t i;

	for (i = 0; i < p->nr_fds; i++) {
		const struct img_fd *f = &p->fds[i];
		const struct restore_fd_opt *o = restore_fd_opt(e->c, f->fd);
		int fd;

		if (!o && (restore_is_pidfd(e->run->img, f) ||
			   restore_is_late_proc(&e->c->proc->proc, f)))
			continue;	/* its number stays free: pidfd.c,
					 * procfs.c */
		fd = o ? restore_fd_opt_open(o, f) : fd_source(e, f);
		if (fd < 0)
			child_fail(e, errno, "can't open %s for fd %d: %s",
				   o ? o->path : f->path ? f->path :
				   "its file", f->fd, strerror(errno));
		if (fd != f->fd) {
			if (dup2(fd, f->fd) < 0)
				child_fail(e, errno, "can't place fd %d: %s",
					   f->fd, strerror(errno));
			close(fd);
		}
		if (fcntl(f->fd, F_SETFD, f->fdflags) < 0)
			child_fail(e, errno, "can't set flags of fd %d", f->fd);
	}
}

static int cmp_int(const void *a, const void *b)
{
	int x = *(const int *)a, y = *(const int *)b;

	return (x > y) - (x < y);
}

/* Close every descriptor but the n in keep[] (sorted, -1 for none). */
static int close_all_but(const int *keep, int n)
{
	unsigned int from = 0;
	int i;

	for (i = 0; i < n; i++) {
		if (keep[i] < 0 || (unsigned int)keep[i] < from)
			continue;
		if ((unsigned int)keep[i] > from &&
		    syscall(SYS_close_range, from, keep[i] - 1, 0))
			return -1;
		from = keep[i] + 1;
	}
	return syscall(SYS_close_range, from, ~0U, 0) ? -1 : 0;
}

/*
 * Room for fds up to need: what restore keeps goes in gaps of the image's
 * numbers, below its highest fd when it has gaps there, but a table with
 * none may end at its own limit. Raising the hard limit takes
 * CAP_SYS_RESOURCE, which root may lack: then the soft one goes up to
 * it, and a table that does not fit fails to move, saying so. The image's
 * limits come back later (set_limits), with the table closed by then.
 */
static void room_for_fds(unsigned int need)
{
	struct rlimit rl, want;

	if (getrlimit(RLIMIT_NOFILE, &rl) || rl.rlim_cur >= need)
		return;
	want.rlim_cur = need;
	want.rlim_max = rl.rlim_max < need ? need : rl.rlim_max;
	if (!setrlimit(RLIMIT_NOFILE, &want))
		return;
	rl.rlim_cur = rl.rlim_max;
	if (setrlimit(RLIMIT_NOFILE, &rl))
		pr_debug("can't raise the fd limit: %s", strerror(errno));
}

/* The numbers the image gives fds in this process, or adds the epolls'
 * files under (fill_epolls), sorted; *n gets how many. */
static int *image_fd_numbers(struct child_env *e, uint32_t *n)
{
	struct img_process *p = e->c->proc;
	uint32_t k, nk = restore_kfds_tfds(e->run->img, NULL);
	int *used = malloc((p->nr_fds + nk + 1) * sizeof(*used));

	if (!used)
		child_fail(e, ENOMEM, "out of memory");
	for (k = 0; k < p->nr_fds; k++)
		used[k] = p->fds[k].fd;
	restore_kfds_tfds(e->run->img, &used[p->nr_fds]);
	*n = p->nr_fds + nk;
	qsort(used, *n, sizeof(used[0]), cmp_int);
	return used;
}

/*
 * n free numbers, into to[], for what restore keeps while the image's fds
 * are placed: none the image uses (placing one there would close ours)
 * and none open now (so that moving there closes nothing), from 3 up. A
 * process may keep fds at the top of its limit (valgrind does), so the
 * gaps below them are used, not the numbers above.
 */
static void pick_numbers(struct child_env *e, int *to, int n)
{
	uint32_t nused, u = 0;
	int *used = image_fd_numbers(e, &nused), fd = 3, i;

	for (i = 0; i < n; fd++) {
		while (u < nused && used[u] < fd)
			u++;
		if ((u < nused && used[u] == fd) ||
		    (fcntl(fd, F_GETFD) >= 0 || errno != EBADF))
			continue;
		to[i++] = fd;
	}
	free(used);
	room_for_fds(to[n - 1] + 1);
}

/* fd moved to number to, which is free; -1 when it can't be */
static int move_fd(int fd, int to, int cmd)
{
	int nfd = fcntl(fd, cmd, to);

	if (nfd >= 0 && nfd != to) {
		close(nfd);
		errno = EMFILE;
		return -1;
	}
	return nfd;
}

/*
 * Move what we keep (kept[], in this order: the image fd, the report
 * pipe, our 0-2 and the file table) where the image's fds can't close it
 * and close everything else, restore's own descriptors included: none may
 * leak into the restored process.
 */
static void clear_fds(struct child_env *e, int *msg_fd)
{
	int i, n = 7 + e->nr_files, *keep, *to;

	keep = malloc(2 * n * sizeof(*keep));
	if (!keep)
		child_fail(e, ENOMEM, "out of memory");
	to = &keep[n];
	pick_numbers(e, to, n);
	e->c->child_img_fd = move_fd(e->run->img_fd, to[0], F_DUPFD);
	*msg_fd = move_fd(*msg_fd, to[1], F_DUPFD);
	if (e->c->child_img_fd < 0 || *msg_fd < 0)
		_exit(1);	/* no report: the pipe ends early */
	e->msg_fd = *msg_fd;
	for (i = 0; i < 3; i++)
		e->std[i] = move_fd(i, to[2 + i], F_DUPFD);
	e->pty = e->run->pty.s < 0 ? -1 : move_fd(e->run->pty.s, to[5], F_DUPFD);
	if (e->run->pty.s >= 0 && e->pty < 0)
		_exit(1);
	if (e->proc >= 0 && (e->proc = move_fd(e->proc, to[6],
					       F_DUPFD_CLOEXEC)) < 0)
		_exit(1);
	for (i = 0; i < (int)e->nr_files; i++) {
		/* a pidfd, made later (pidfd.c); a terminal outside
		 * (IMG_FD_TTY) */
		if (e->files[i] < 0)
			continue;
		e->files[i] = move_fd(e->files[i], to[7 + i],
				      F_DUPFD_CLOEXEC);
		if (e->files[i] < 0)
			child_fail(e, errno, "can't move file %d: %s", i + 1,
				   strerror(errno));
	}
	keep[0] = e->c->child_img_fd;
	keep[1] = *msg_fd;
	memcpy(&keep[2], e->std, sizeof(e->std));
	keep[5] = e->pty;
	keep[6] = e->proc;
	memcpy(&keep[7], e->files, e->nr_files * sizeof(*keep));
	qsort(keep, n, sizeof(keep[0]), cmp_int);
	if (close_all_but(keep, n))
		child_fail(e, errno, "can't close descriptors: %s",
			   strerror(errno));
	free(keep);
}

/* The watches of the epolls this process fills (kfds.c), while only
 * what clear_fds() kept is open. */
static void fill_epolls(struct child_env *e)
{
	char err[300];

	if (restore_kfds_fill(e->run->img, e->c->proc, e->files, err,
			      sizeof(err)))
		child_fail(e, errno, "%s", err);
}

static void close_files(struct child_env *e)
{
	uint32_t i;

	for (i = 0; i < e->nr_files; i++)
		close(e->files[i]);
}

static void set_limits(struct child_env *e)
{
	struct img_proc *pp = &e->c->proc->proc;
	struct rlimit rl;
	uint32_t i;

	for (i = 0; i < pp->nr_rlimits; i++) {
		rl.rlim_cur = pp->rlimits[i].cur;
		rl.rlim_max = pp->rlimits[i].max;
		/* raising a hard limit needs CAP_SYS_RESOURCE, which
		 * restore_check_caps() made sure of */
		if (setrlimit(i, &rl))
			child_fail(e, errno, "can't set resource limit %u to %llu/%llu: %s",
				   i, (unsigned long long)rl.rlim_cur,
				   (unsigned long long)rl.rlim_max,
				   strerror(errno));
	}
}

/* "value\n" into /proc/self/NAME, unless it holds that already (and
 * the write is not forced) */
static void set_proc_value(struct child_env *e, const char *name, long value,
			   int force)
{
	char path[64], now[32], want[32];
	int fd, n;

	snprintf(path, sizeof(path), "/proc/self/%s", name);
	n = snprintf(want, sizeof(want), "%ld", value);
	fd = open(path, O_RDWR);
	/* a mount namespace below the root's may lack /proc (mntns.c) */
	if (fd < 0 && errno == ENOENT && e->proc >= 0)
		fd = openat(e->proc, path + 6, O_RDWR);
	if (!force && fd >= 0 && read(fd, now, sizeof(now)) >= n &&
	    !strncmp(now, want, n) && now[n] == '\n') {
		close(fd);
		return;
	}
	if (fd < 0 || pwrite(fd, want, n, 0) != n)
		child_fail(e, errno, "can't set %s of %d to %ld: %s", name,
			   e->c->proc->proc.pid, value, strerror(errno));
	close(fd);
}

/*
 * CAP_SYS_RESOURCE in our effective set, on or off. A write of
 * oom_score_adj with it sets the minimum too (to the value written): the
 * minimum is written so, then oom_score_adj without it (at or above the
 * minimum: restore_check_oom_min()).
 */
static void sys_resource(struct child_env *e, int on)
{
	struct __user_cap_header_struct h = {
		.version = _LINUX_CAPABILITY_VERSION_3,
	};
	struct __user_cap_data_struct d[2];
	uint32_t bit = 1u << (CAP_SYS_RESOURCE % 32);

	if (syscall(SYS_capget, &h, d))
		child_fail(e, errno, "can't read the capabilities of %d: %s",
			   e->c->proc->proc.pid, strerror(errno));
	d[CAP_SYS_RESOURCE / 32].effective =
		on ? d[CAP_SYS_RESOURCE / 32].effective | bit :
		d[CAP_SYS_RESOURCE / 32].effective & ~bit;
	if (syscall(SYS_capset, &h, d))
		child_fail(e, errno, "can't change the capabilities of %d: %s",
			   e->c->proc->proc.pid, strerror(errno));
}

/*
 * Written by the process itself, before its threads exist (they inherit
 * the login uid). Lowering oom_score_adj below what restore has, or
 * changing a login uid that is set, takes CAP_SYS_RESOURCE or
 * CAP_AUDIT_CONTROL: a restore without them fails here, naming it. The
 * oom_score_adj minimum, when the image has it, is set with
 * CAP_SYS_RESOURCE; without, it is restore's, checked before (pstate.c).
 */
static void set_proc_values(struct child_env *e)
{
	const struct img_pstate *s = &e->c->proc->proc.ks;

	if (s->oom_min_known && restore_has_sys_resource(e->run)) {
		set_proc_value(e, "oom_score_adj", s->oom_score_adj_min, 1);
		sys_resource(e, 0);
		set_proc_value(e, "oom_score_adj", s->oom_score_adj, 0);
		sys_resource(e, 1);
	} else {
		set_proc_value(e, "oom_score_adj", s->oom_score_adj, 0);
	}
	set_proc_value(e, "loginuid", s->loginuid, 0);
}

static void map_trampoline(struct child_env *e)
{
	const struct restore_host *h = &e->run->host;
	uint8_t insn[8];
	void *a = MAP_FAILED;
	int i;

	for (i = 0; i < e->nr_cand && a == MAP_FAILED; i++) {
		a = mmap((void *)e->cand[i], h->tramp_len,
			 PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE,
			 -1, 0);
		if (a != MAP_FAILED && (uint64_t)a != e->cand[i]) {
			munmap(a, h->tramp_len);
			a = MAP_FAILED;
		}
	}
	if (a == MAP_FAILED)
		child_fail(e, ENOMEM, "no room for the trampoline page");
	arch_syscall_insn(insn);
	memcpy(a, insn, sizeof(insn));
	if (mprotect(a, h->page_size, PROT_READ | PROT_EXEC))
		child_fail(e, errno, "can't protect the trampoline: %s",
			   strerror(errno));
	e->c->tramp = (uint64_t)a;
}

/* set_tid is an array of pid_t (clone3(2)), innermost level first */
static pid_t clone_with_tids(const pid_t *tids, uint32_t n,
			     int exit_signal, uint64_t flags)
{
	struct clone_args ca;

	memset(&ca, 0, sizeof(ca));
	ca.flags = flags;
	ca.exit_signal = exit_signal;
	ca.set_tid = (uint64_t)tids;
	ca.set_tid_size = n;
	return syscall(SYS_clone3, &ca, sizeof(ca));
}

static pid_t clone_with_pid(pid_t pid, int exit_signal, uint64_t flags)
{
	return clone_with_tids(&pid, 1, exit_signal, flags);
}

/* Our child kp, with its PID at every level of its PID namespace below
 * the tree's top one (pidnest.c) */
static pid_t clone_child(struct child_env *e, const struct img_proc *kp,
			 uint64_t flags)
{
	pid_t tids[IMG_MAX_PIDNS_DEPTH + 1];
	uint32_t n = restore_pidnest_tids(&e->c->proc->proc, kp, tids,
					  &flags);

	return clone_with_tids(tids, n, kp->ks.exit_signal, flags);
}

/*
 * A process made now has our timer slack as its default, the one
 * PR_SET_TIMERSLACK of 0 goes back to: ours is set to the image's
 * (its leader's) first, when known. Our own, as the image has it, is set
 * later (pstate.c); restore's own is given back (set_slack(old)).
 */
static int set_slack(uint64_t ns)
{
	return ns ? prctl(PR_SET_TIMERSLACK, ns, 0, 0, 0) : 0;
}

static int slack_for(const struct restore_proc *k)
{
	const struct img_process *p = k->proc;

	return p->nr_threads ? set_slack(p->threads[0].ks.default_slack_ns) :
	       0;
}

static void slack_for_child(struct child_env *e, const struct restore_proc *k)
{
	if (slack_for(k))
		child_fail(e, errno, "can't set the timer slack for %d: %s",
			   k->proc->proc.pid, strerror(errno));
}

static void __attribute__((noreturn)) child_main(struct child_env *e,
						 int msg_fd);
static void __attribute__((noreturn)) zombie_main(struct child_env *e);

/*
 * Wait until zombie z, our child pid, has died as the image says, and
 * leave it a zombie (WNOWAIT): the restored process reaps it. Its SIGCHLD
 * is discarded (restore's main made it SIG_DFL and unblocked): the
 * original's was delivered before the dump, or is pending in the image.
 */
static void wait_zombie(struct child_env *e, const struct img_proc *z,
			pid_t pid)
{
	uint32_t st = z->exit_status;
	siginfo_t si;
	int ok;

	memset(&si, 0, sizeof(si));
	while (waitid(P_PID, pid, &si, WEXITED | WNOWAIT | __WALL))
		if (errno != EINTR)
			child_fail(e, errno, "can't wait for zombie %d: %s",
				   pid, strerror(errno));
	if (st & 0x7f)
		ok = (si.si_code == CLD_KILLED || si.si_code == CLD_DUMPED) &&
		     si.si_status == (int)(st & 0x7f);
	else
		ok = si.si_code == CLD_EXITED && si.si_status == (int)(st >> 8);
	if (st & 0x80) {
		restore_core_cleanup(pid);
		ok = ok && si.si_code == CLD_DUMPED;
	}
	if (!ok)
		child_fail(e, EIO, "can't recreate zombie %d: it died with si_code %d si_status %d, not wait status %#x",
			   pid, si.si_code, si.si_status, st);
}

/*
 * Stop as the image's process was stopped, by a raw kill() of the signal
 * with its default action (restore's may differ, and glibc's wrappers
 * refuse some signals), as zombie_main() dies. Returns when continued,
 * or at once if the kernel discarded the signal (SIGTSTP, SIGTTIN and
 * SIGTTOU in an orphaned process group); SIGSTOP is never discarded.
 */
static void stop_self(int sig)
{
	struct img_sigact dfl = { 0 };	/* SIG_DFL, no flags */
	uint64_t set = 1ULL << (sig - 1);
	uint8_t k[64];

	arch_ksigaction_from_img(&dfl, k);
	if (sig != SIGSTOP)
		syscall(SYS_rt_sigaction, sig, k, NULL, sizeof(set));
	syscall(SYS_rt_sigprocmask, SIG_UNBLOCK, &set, NULL, sizeof(set));
	syscall(SYS_kill, syscall(SYS_getpid), sig);
}

/*
 * The signal actions the process will have once seized (what it has, and
 * stop_self's for the signal it stops with, if any), for task.c to set
 * only the image's that differ. A signal whose action can't be read is
 * reported with a handler no image has (the last page's address,
 * never user space), so that its action is set.
 */
static void report_acts(struct child_msg *m, int stop_sig)
{
	uint8_t k[64];
	int sig;

	for (sig = 1; sig <= IMG_NSIG; sig++) {
		memset(k, 0, sizeof(k));	/* stop_self's: SIG_DFL */
		if (sig != stop_sig &&
		    syscall(SYS_rt_sigaction, sig, NULL, k, 8)) {
			m->acts[sig - 1].handler = ~0xfffULL;
			continue;
		}
		arch_ksigaction_to_img(k, &m->acts[sig - 1]);
	}
}

/*
 * The signal to stop c with. Only a stop that its parent's wait() has yet
 * to report shows its signal (WSTOPSIG): the root's parent is restore,
 * and any other stop is made with SIGSTOP, which nothing can discard.
 */
static int stop_signal(const struct child_env *e, const struct restore_proc *c)
{
	const struct img_pstate *s = &c->proc->proc.ks;

	return c != &e->run->procs[0] && (s->wait & IMG_WAIT_STOPPED) ?
		(int)s->stop_sig : SIGSTOP;
}

/*
 * Child pid (k) of ours stops before it is seized, as the image has it; a
 * stopped child, once it reported ready, a continued one first (then we
 * continue it). Our wait() collects the stop, unless the image's parent
 * had yet to (WNOWAIT leaves it for the restored program); the SIGCHLDs
 * of both are discarded, as wait_zombie() says.
 */
static void wait_stopped(struct child_env *e, const struct restore_proc *k,
			 pid_t pid)
{
	const struct img_pstate *s = &k->proc->proc.ks;
	int keep = s->stop_sig && (s->wait & IMG_WAIT_STOPPED);
	siginfo_t si;

	memset(&si, 0, sizeof(si));
	while (waitid(P_PID, pid, &si, WSTOPPED | WEXITED | __WALL |
		      (keep ? WNOWAIT : 0)))
		if (errno != EINTR)
			child_fail(e, errno, "can't wait for %d to stop: %s",
				   pid, strerror(errno));
	if (si.si_code != CLD_STOPPED)
		child_fail(e, EIO, "process %d did not stop with signal %d%s",
			   pid, stop_signal(e, k),
			   si.si_code == CLD_EXITED &&
			   si.si_status == EXIT_NOT_STOPPED ?
			   ": its process group is orphaned" : "");
	if (!s->stop_sig && kill(pid, SIGCONT))
		child_fail(e, errno, "can't continue %d: %s", pid,
			   strerror(errno));
}

/*
 * A zombie's exit signal other than SIGCHLD (clone(2)) is sent to us as
 * it dies: ignored, it is discarded, as the SIG_DFL SIGCHLD is (see
 * wait_zombie()), where its default action might kill us. The program's
 * own actions come later (task.c). SIG_IGN does not make the kernel
 * reap a child, but for SIGCHLD.
 */
static void ignore_exit_signal(struct child_env *e, const struct img_proc *z)
{
	int sig = z->ks.exit_signal;
	struct img_sigact ign = { .handler = 1 };	/* SIG_IGN */
	uint8_t act[64];

	if (!sig || sig == SIGCHLD)
		return;
	arch_ksigaction_from_img(&ign, act);
	if (syscall(SYS_rt_sigaction, sig, act, NULL, 8))
		child_fail(e, errno, "can't ignore signal %d: %s", sig,
			   strerror(errno));
}

/*
 * Group g, which no process of the image leads (groups.c), led by a
 * helper child of ours with its id until our children have joined it;
 * helpers[] holds the *n made so far.
 */
static void lead_group(struct child_env *e, pid_t g, pid_t *helpers, int *n)
{
	pid_t h;
	int i;

	for (i = 0; i < *n; i++)
		if (helpers[i] == g)
			return;
	h = clone_with_pid(g, SIGCHLD, 0);
	if (h == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		for (;;)
			pause();
	}
	if (h < 0 || setpgid(h, h))
		child_fail(e, errno, "can't make process %d to lead group %d: %s",
			   g, g, strerror(errno));
	helpers[(*n)++] = h;
}

static void end_helpers(const pid_t *helpers, int n)
{
	int i;

	for (i = 0; i < n; i++) {
		kill(helpers[i], SIGKILL);
		while (waitpid(helpers[i], NULL, 0) < 0 && errno == EINTR)
			;
	}
}

/* Create this process's children of the image, each of which goes on to
 * create its own: parents make their children, as in the original tree. */
/*
 * Whether child kp goes to the PID namespace we unshared (pass 1), made
 * after those in ours (pass 0): unshare(CLONE_NEWPID) sends all the
 * children made after it there, and only there can its init be made
 * without CLONE_NEWPID, which would leave our pid_for_children ours.
 */
static int unshared_pass(struct child_env *e, const struct img_proc *kp)
{
	uint64_t kids = e->c->proc->proc.pidlv.for_children;

	return kids && kp->pidlv.ns == kids;
}

static void unshare_pidns(struct child_env *e)
{
	if (unshare(CLONE_NEWPID))
		child_fail(e, errno, "can't make the PID namespace of the children of %d: %s",
			   e->c->proc->proc.pid, strerror(errno));
}

static void fork_children(struct child_env *e, int msg_fd)
{
	pid_t me = e->c->proc->proc.pid, pid, g;
	pid_t helpers[NR_HELPERS];
	int nh = 0, pass, unshared = 0;
	uint32_t j;

	for (pass = 0; pass < 2; pass++)
	for (j = 0; j < e->run->img->nr_procs; j++) {
		struct restore_proc *k = &e->run->procs[j];
		const struct img_proc *kp = &k->proc->proc;

		/* those sharing our fd table come once it is whole */
		if (kp->ppid != me || k == e->c ||
		    (kp->ks.share & IMG_SHARE_FILES) ||
		    unshared_pass(e, kp) != pass)
			continue;
		if (pass && !unshared++)
			unshare_pidns(e);
		g = restore_leaderless_group(e->run, kp);
		if (g && nh == NR_HELPERS)
			child_fail(e, EMFILE, "too many groups without a leader among the children of %d",
				   me);
		if (g && e->c->proc->proc.pidlv.ns)
			child_fail(e, EINVAL, "can't make group %d, which no process leads, in a PID namespace below the root's",
				   g);
		if (g)
			lead_group(e, g, helpers, &nh);
		if (kp->zombie)
			ignore_exit_signal(e, kp);
		slack_for_child(e, k);
		/* one cwd, root and umask with us: each sets them alike */
		pid = clone_child(e, kp, kp->ks.share & IMG_SHARE_FS ?
				  CLONE_FS : 0);
		if (pid == 0) {
			e->c = k;
			if (kp->zombie)
				zombie_main(e);
			child_main(e, msg_fd);
		}
		if (pid < 0)
			child_fail(e, errno, "can't create process %d: %s",
				   kp->pid, strerror(errno));
		/* as a shell does: the child's own call may come after the
		 * helper ends, or the child be a zombie already */
		if (g)
			setpgid(pid, g);
		if (kp->zombie)
			wait_zombie(e, kp, pid);
		else if (kp->ks.stop_sig || (kp->ks.wait & IMG_WAIT_CONTINUED))
			wait_stopped(e, k, pid);
	}
	end_helpers(helpers, nh);
}

/* Sessions and groups as they were, relative to the root, which stays in
 * restore's own group and session (a shell job). The init of its own PID
 * namespace leads them as it did, or stays in restore's, outside the
 * namespace (0 inside, as they were: its group's members inherit it). */
/* In a PID namespace below the top one: a group and session of its
 * own, its parent's (inherited), or a group led in its namespace (the
 * image's PIDs are the top one's: pidnest.c says what it calls them) */
static void set_session_nested(struct child_env *e)
{
	const struct img_proc *pp = &e->c->proc->proc;
	const struct img_proc *up = NULL;
	pid_t g;
	uint32_t j;
	int r = 0;

	for (j = 0; j < e->run->img->nr_procs; j++)
		if (e->run->procs[j].proc->proc.pid == pp->ppid)
			up = &e->run->procs[j].proc->proc;
	if (pp->sid == pp->pid)
		r = setsid() < 0 ? -1 : 0;
	else if (pp->pgid == pp->pid)
		r = setpgid(0, 0);
	else if (!up || up->pgid != pp->pgid || up->sid != pp->sid) {
		g = restore_pidnest_local(e->run, pp, pp->pgid);
		r = g ? setpgid(0, g) : -1;
		errno = g ? errno : ESRCH;
	}
	if (r)
		child_fail(e, errno, "can't put %d in group %d: %s", pp->pid,
			   pp->pgid, strerror(errno));
}

/*
 * Whose terminal a process gets: the image's (tty.c: 0), restore --pty's
 * (the root: 1), or none (2: the root in restore's session, which has
 * none to take). A root that leads its session (a container's init on
 * its console) gets the image's.
 */
static int tty_of(const struct child_env *e)
{
	if (e->c != &e->run->procs[0])
		return 0;
	if (e->run->pty.on)
		return 1;
	return getsid(0) == getpid() ? 0 : 2;
}

static void set_session(struct child_env *e)
{
	const struct img_proc *pp = &e->c->proc->proc;
	const struct img_proc *root = &e->run->procs[0].proc->proc;
	int r;

	if (pp->pidlv.ns) {
		set_session_nested(e);
		return;
	}
	if (e->c == &e->run->procs[0] &&
	    (!e->run->pidns.root_init || pp->pgid != pp->pid))
		return;
	if (pp->sid == pp->pid)
		r = setsid() < 0 ? -1 : 0;
	else if (pp->pgid == pp->pid)
		r = setpgid(0, 0);
	else if (pp->pgid == root->pgid)
		r = root->pgid ? setpgid(0, e->root_pgid) : 0;
	else
		r = setpgid(0, pp->pgid);
	if (r)
		child_fail(e, errno, "can't put %d in group %d: %s", pp->pid,
			   pp->pgid, strerror(errno));
}

/*
 * Die as zombie e->c died: by _exit() with its code, or by its signal.
 * The signal's action is reset and the signal unblocked by raw system
 * calls (glibc keeps two real-time signals to itself and would refuse
 * them), and we are made non-dumpable so that the signal writes no core.
 * A core-dump flag in the image can't be recreated (restore_check warns).
 */
static void __attribute__((noreturn)) zombie_main(struct child_env *e)
{
	const struct img_proc *pp = &e->c->proc->proc;
	int sig = pp->exit_status & 0x7f;
	struct img_sigact dfl = { 0 };	/* SIG_DFL, no flags */
	uint64_t set = 1ULL << (sig - 1);
	uint8_t k[64];

	set_session(e);
	if (!sig)
		_exit(pp->exit_status >> 8);
	arch_ksigaction_from_img(&dfl, k);
	/* a core is dumped only where the image's had one (coreflag.c) */
	if ((pp->exit_status & 0x80) && restore_core_prepare(pp->pid))
		child_fail(e, errno, "can't recreate zombie %d: its core: %s",
			   pp->pid, strerror(errno));
	/* SIGKILL can be neither caught nor blocked, nor reset */
	if ((!(pp->exit_status & 0x80) && prctl(PR_SET_DUMPABLE, 0)) ||
	    (sig != SIGKILL &&
	     (syscall(SYS_rt_sigaction, sig, k, NULL, sizeof(set)) ||
	      syscall(SYS_rt_sigprocmask, SIG_UNBLOCK, &set, NULL,
		      sizeof(set)))))
		child_fail(e, errno, "can't recreate zombie %d: signal %d: %s",
			   pp->pid, sig, strerror(errno));
	syscall(SYS_kill, syscall(SYS_getpid), sig);
	child_fail(e, EINVAL, "can't recreate zombie %d: signal %d did not kill it",
		   pp->pid, sig);
}

/*
 * The rest of a child's setup, the fd table done (by itself, or by the
 * parent it shares it with): directory, limits, the trampoline; then the
 * report, and the wait to be seized.
 */
static void __attribute__((noreturn)) finish_child(struct child_env *e,
						   int msg_fd)
{
	struct img_proc *pp = &e->c->proc->proc;
	struct child_msg m;
	char cwd[64];

	/* unshare -p with no fork since: its children's PID namespace,
	 * once its own children are made (pidnest.c) */
	if (pp->pidlv.for_children == IMG_PIDNS_NONE_YET)
		unshare_pidns(e);

	if (chdir(restore_ghost_path(e->run, pp->cwd, 1, cwd, sizeof(cwd))))
		child_fail(e, errno, "can't change directory to %s: %s",
			   pp->cwd, strerror(errno));
	umask(pp->umask);
	if (personality(pp->personality) < 0)
		child_fail(e, errno, "can't set personality %#x",
			   pp->personality);
	set_limits(e);
	set_proc_values(e);
	if (e->proc >= 0)
		close(e->proc);
	map_trampoline(e);
	/* a SIGCONT its parent's wait() has yet to report: stopped and
	 * continued by the parent (not the root's: restore is) */
	if (e->c != &e->run->procs[0] && (pp->ks.wait & IMG_WAIT_CONTINUED))
		stop_self(SIGSTOP);
	memset(&m, 0, sizeof(m));
	m.pid = pp->pid;	/* getpid() inside a namespace below the top */
	m.img_fd = e->c->child_img_fd;
	m.tramp = e->c->tramp;
	report_acts(&m, pp->ks.stop_sig ? stop_signal(e, e->c) : 0);
	if (write_full(msg_fd, &m, sizeof(m)))
		_exit(1);
	close(msg_fd);
	/* stopped, it is seized so: returning from the stop is a failure */
	if (pp->ks.stop_sig) {
		stop_self(stop_signal(e, e->c));
		_exit(EXIT_NOT_STOPPED);
	}
	for (;;)
		pause();
}

/*
 * Our children that share our fd table (CLONE_FILES), made once it is
 * whole. Each gets a pipe end and an image fd of its own, above the
 * image's fds: it reports through the first and closes it, as we close
 * ours, and restore closes the second in it (task.c), as in us.
 */
static void fork_sharing(struct child_env *e, int msg_fd)
{
	pid_t me = e->c->proc->proc.pid, pid;
	int kmsg, kimg;
	uint32_t j;

	for (j = 0; j < e->run->img->nr_procs; j++) {
		struct restore_proc *k = &e->run->procs[j];
		const struct img_proc *kp = &k->proc->proc;

		if (kp->ppid != me || !(kp->ks.share & IMG_SHARE_FILES))
			continue;
		kmsg = fcntl(msg_fd, F_DUPFD_CLOEXEC, e->c->child_img_fd);
		kimg = fcntl(e->c->child_img_fd, F_DUPFD, e->c->child_img_fd);
		if (kmsg < 0 || kimg < 0)
			child_fail(e, errno, "can't make room for %d: %s",
				   kp->pid, strerror(errno));
		slack_for_child(e, k);
		pid = clone_child(e, kp, CLONE_FILES |
				  (kp->ks.share & IMG_SHARE_FS ? CLONE_FS : 0));
		if (pid == 0) {
			e->c = k;
			k->child_img_fd = kimg;
			e->msg_fd = kmsg;
			prctl(PR_SET_PDEATHSIG, SIGKILL);
			set_session(e);
			pick_candidates(e);
			finish_child(e, kmsg);
		}
		if (pid < 0)
			child_fail(e, errno, "can't create process %d: %s",
				   kp->pid, strerror(errno));
		if (kp->ks.stop_sig || (kp->ks.wait & IMG_WAIT_CONTINUED))
			wait_stopped(e, k, pid);
	}
}

static void __attribute__((noreturn)) child_main(struct child_env *e,
						 int msg_fd)
{
	struct img_proc *pp = &e->c->proc->proc;
	const struct img_ns *mnt;
	const char *ns;
	int i;

	/* errors before clear_fds() go to the same pipe */
	e->msg_fd = msg_fd;
	/* the root, in its user namespace: the maps first */
	if (e->c == &e->run->procs[0] && restore_userns_wait(e->run))
		child_fail(e, errno, "restore did not give the user namespace of %d its maps",
			   pp->pid);
	/* before the children, which inherit them; restore's /proc kept
	 * first, for set_proc_value() */
	mnt = img_find_ns(e->run->img, IMG_NS_MNT, pp->pid);
	if (mnt && mnt->parent && e->proc < 0 &&
	    (e->proc = open("/proc", O_PATH | O_DIRECTORY | O_CLOEXEC)) < 0)
		child_fail(e, errno, "can't open /proc: %s", strerror(errno));
	if (restore_ns_make(e->run, pp->pid, &ns))
		child_fail(e, errno, "can't make the %s namespace of %d: %s",
			   ns, pp->pid, strerror(errno));
	if (mnt && mnt->parent && restore_mntns_files(e->run, mnt, e->files))
		child_fail(e, errno, "can't open the files of %d's mount namespace: %s",
			   pp->pid, strerror(errno));
	/* the message queues of its IPC namespace, before the children,
	 * which inherit them (ipcns.c) */
	if (e->c == &e->run->procs[0] &&
	    restore_mqueue_files(e->run->img, e->files, &ns))
		child_fail(e, errno, "can't open POSIX message queue %s for %d: %s",
			   ns, pp->pid, strerror(errno));
	/* the ptys of the devpts instances it just mounted, before the
	 * children, which inherit them (tty.c) */
	if (e->c == &e->run->procs[0] &&
	    (restore_ttys_open_ns(e->run->img, e->files) ||
	     restore_mnt_consoles(e->run->img)))
		child_fail(e, errno, "can't make the ptys of %d's devpts instances: %s",
			   pp->pid, strerror(errno));
	if (e->c == &e->run->procs[0] &&
	    restore_console_send(e->run, e->files))
		child_fail(e, errno, "can't send the console's master to %s: %s",
			   e->run->console.path, strerror(errno));

	/* until the restorer holds it, a process dies with its parent, so
	 * that a failed restore leaves nothing behind (cleared later) */
	if (prctl(PR_SET_PDEATHSIG, SIGKILL))
		child_fail(e, errno, "can't set the parent-death signal");
	set_session(e);
	/* before the children: each process has its own link to the
	 * controlling terminal, taken at fork */
	if (!tty_of(e) ? restore_tty_ctty(e->run->img, pp, e->files) :
	    tty_of(e) == 1 && restore_pty_ctty(e->run))
		child_fail(e, errno, "can't give session %d its terminal: %s",
			   pp->sid, strerror(errno));
	fork_children(e, msg_fd);
	if (!tty_of(e) ? restore_tty_fg(e->run->img, pp, e->files) :
	    tty_of(e) == 1 && restore_pty_fg(e->run))
		child_fail(e, errno, "can't give the terminal of session %d its foreground group: %s",
			   pp->sid, strerror(errno));
	pick_candidates(e);
	clear_fds(e, &msg_fd);
	fill_epolls(e);
	open_fds(e);
	close_files(e);
	for (i = 0; i < 3; i++)
		if (e->std[i] >= 0)
			close(e->std[i]);
	if (e->pty >= 0)
		close(e->pty);
	fork_sharing(e, msg_fd);
	finish_child(e, msg_fd);
}

static struct restore_proc *proc_of(struct restore_run *run, pid_t pid)
{
	uint32_t i;

	for (i = 0; i < run->img->nr_procs; i++)
		if (run->procs[i].proc->proc.pid == pid)
			return &run->procs[i];
	return NULL;
}

/* One report per live process: ready, or one line saying what failed. */
static int wait_ready(struct restore_run *run, int fd)
{
	struct restore_proc *c;
	struct child_msg m;
	uint32_t i, live = 0;

	for (i = 0; i < run->img->nr_procs; i++)
		live += !run->procs[i].proc->proc.zombie;
	for (i = 0; i < live; i++) {
		if (read_full(fd, &m, sizeof(m))) {
			pr_err("a restored process died while being set up");
			return -1;
		}
		if (m.err) {
			m.text[sizeof(m.text) - 1] = '\0';
			pr_err("%s", m.text);
			run->pid_taken = m.err == EEXIST;
			return -1;
		}
		c = proc_of(run, m.pid);
		if (!c || c->proc->proc.zombie) {
			pr_err("unexpected report from %d", m.pid);
			return -1;
		}
		c->child = restore_host_pid(run, m.pid);
		if (c->child <= 0)
			return -1;
		c->tramp = m.tramp;
		memcpy(c->child_acts, m.acts, sizeof(m.acts));
		c->tmp_area = m.tramp + (16ULL << 20);
		c->child_img_fd = m.img_fd;
	}
	/* end of file: every process has closed its end, which must not be
	 * left open in the restored processes */
	if (read(fd, &m, 1) != 0) {
		pr_err("unexpected report from a restored process");
		return -1;
	}
	return 0;
}


/*
 * Kill what was made and reap it all: restore is a subreaper until the
 * tree runs, so the killed processes' children (those that die by their
 * parent-death signal, and the zombies) come to us; no child left means
 * nothing of the tree is left.
 */
void restore_kill_tree(struct restore_run *run)
{
	uint32_t i, n = run->img->nr_procs;

	restore_pidns_end(run);	/* --pidns: its init, all with it */
	for (i = n; i-- > 0;)
		if (run->procs[i].child > 0)
			kill(run->procs[i].child, SIGKILL);
	while (waitpid(-1, NULL, __WALL) > 0 || errno == EINTR)
		;
	for (i = 0; i < n; i++)
		run->procs[i].child = 0;
}

/* The root, stopped as the image has it, stops once it reported ready; we
 * are its parent (the others' wait for theirs, wait_stopped()). */
static int wait_root_stopped(pid_t root)
{
	siginfo_t si;

	memset(&si, 0, sizeof(si));
	while (waitid(P_PID, root, &si, WSTOPPED | WEXITED | WNOWAIT))
		if (errno != EINTR) {
			pr_perror("can't wait for %d to stop", root);
			return -1;
		}
	if (si.si_code == CLD_STOPPED)
		return 0;
	pr_err("process %d did not stop", root);
	return -1;
}

static int create_tree(struct restore_run *run, struct child_env *ep)
{
	struct child_env e = *ep;
	pid_t root, pid = run->procs[0].proc->proc.pid;
	long old_slack = prctl(PR_GET_TIMERSLACK, 0, 0, 0, 0);
	int pfd[2], ret;

	if (pipe(pfd)) {
		pr_perror("can't create a pipe");
		return -1;
	}
	fflush(NULL);
	/* --pty: the root leads a session and group of its own; --pidns: a
	 * group (restore's is not in the namespace) */
	e.root_pgid = run->pty.on || run->pidns.on ? pid : getpgrp();
	if (run->pidns.root_init)
		e.root_pgid = run->procs[0].proc->proc.pgid;
	if (slack_for(&run->procs[0])) {
		pr_perror("can't set the timer slack for %d", pid);
		close(pfd[0]);
		close(pfd[1]);
		return -1;
	}
	if (restore_userns_before(run)) {
		restore_userns_after(run, -1);
		(void)set_slack(old_slack);
		close(pfd[0]);
		close(pfd[1]);
		return -1;
	}
	/* its exit signal was for a parent that is not restored */
	if (run->pidns.root_init)
		root = restore_pidns_fork_init(run);
	else
		root = run->pidns.on ? restore_pidns_fork(run, pid) :
		       clone_with_pid(pid, SIGCHLD, restore_userns_flag(run));
	if (root == 0) {
		close(pfd[0]);
		child_main(&e, pfd[1]);
	}
	(void)set_slack(old_slack);
	close(pfd[1]);
	if (restore_userns_after(run, root) && root > 0) {
		close(pfd[0]);
		restore_kill_tree(run);
		return -1;
	}
	if (root < 0) {
		run->pid_taken = errno == EEXIST;
		if (errno == EPERM && !run->pidns.on)
			pr_err("can't create process %d: choosing its PID needs CAP_CHECKPOINT_RESTORE (root), or restore --pidns",
			       pid);
		else
			pr_perror("can't create process %d", pid);
		close(pfd[0]);
		return -1;
	}
	/* --pidns: root is its parent, the namespace's init (its report
	 * says its PID) */
	run->procs[0].child = run->pidns.on && !run->pidns.root_init ? 0 : root;
	ret = wait_ready(run, pfd[0]);
	close(pfd[0]);
	if (!ret && run->procs[0].proc->proc.ks.stop_sig)
		ret = wait_root_stopped(root);
	if (ret)	/* the others die with their parents (PDEATHSIG) */
		restore_kill_tree(run);
	return ret;
}

int restore_create_tree(struct restore_run *run)
{
	struct child_env e = { .c = &run->procs[0], .run = run, .pty = -1,
			       .proc = -1 };
	struct restore_socks *tree = NULL;
	int ret, old;

	if (restore_mnt_prepare(run) || restore_mnt_enter(run, &old))
		return -1;
	/* --pty: after the image's ptys, which need their own indexes */
	ret = restore_files_open(run, &e.files, &tree);
	restore_mnt_leave(old);
	if (ret)
		return -1;
	e.nr_files = e.files ? run->img->nr_files : 0;
	if (run->pty.on && restore_pty_open(run)) {
		restore_sockets_drop(tree);
		restore_files_close(e.files, e.nr_files);
		return -1;
	}
	ret = create_tree(run, &e);
	if (ret)
		restore_sockets_drop(tree);
	else if (restore_sockets_tree(tree, run->pidns.on)) {
		restore_kill_tree(run);
		ret = -1;
	}
	restore_files_close(e.files, e.nr_files);
	return ret;
}
