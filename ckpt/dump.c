/*
 * The dump of one process or a tree: check the target, freeze it, gather
 * its state, write the image, then thaw or kill it.
 *
 * Ordering matters: the image is opened before the freeze (so that a bad
 * output path costs the target nothing), the maps are read before our
 * scratch page exists, our patched text is put back before memory is read,
 * and with --kill the target dies only after the image is committed. On
 * every error, and when ckpt is interrupted, the target is thawed and the
 * half-written image removed.
 *
 * In a tree, a zombie (a child that exited and is not reaped yet) is
 * recorded, not seized: its parent is frozen, so it stays as it is. A
 * process killed while frozen (only SIGKILL can do that) fails the dump,
 * even if it was written already: the image would hold a process that no
 * longer exists in the tree it describes.
 */
#include <sys/mman.h>
#include <sys/utsname.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "ckpt/dump-priv.h"
#include "ckpt/snapshot.h"
#include "plugins/pipeline.h"
#include "util/fault.h"
#include "util/progress.h"

int dump_interrupted(const struct dump_ctx *c)
{
	if (c->o->interrupted && *c->o->interrupted) {
		pr_err("interrupted: dump of %d abandoned", c->pid);
		return 1;
	}
	return 0;
}

/* Is pid ckpt itself (or one of its threads)? */
static int is_self(pid_t pid)
{
	char path[64], *s, *p;
	int self = 0;

	if (pid == getpid())
		return 1;
	snprintf(path, sizeof(path), "/proc/%d/status", pid);
	s = read_file_str(path, NULL);
	if (!s)
		return 0;
	p = strstr(s, "\nTgid:");
	if (p && atoi(p + 6) == getpid())
		self = 1;
	free(s);
	return self;
}

#define PF_EXITING	0x4	/* include/linux/sched.h */

/*
 * Dead or dying (a zombie, or being torn down)? A process killed while
 * frozen loses its memory (exit_mm) well before it is a zombie; it is
 * PF_EXITING from before that.
 */
static int target_gone(pid_t pid)
{
	struct proc_stat st;

	if (proc_parse_stat(pid, &st))
		return errno == ENOENT || errno == ESRCH;
	return st.state == 'Z' || st.state == 'X' || (st.flags & PF_EXITING);
}

int dump_gone(const struct dump_ctx *c)
{
	return target_gone(c->pid);
}

static int check_target(pid_t pid)
{
	struct proc_stat st;

	if (pid <= 0) {
		pr_err("invalid pid %d", pid);
		return -1;
	}
	if (is_self(pid)) {
		pr_err("can't dump %d: it is ckpt itself", pid);
		return -1;
	}
	if (kill(pid, 0) && errno == ESRCH) {
		pr_err("can't dump %d: no such process", pid);
		return -1;
	}
	if (dump_is_zombie(pid, &st) > 0) {
		pr_err("can't dump %d: it is a zombie (it has exited, its parent has not reaped it)",
		       pid);
		return -1;
	}
	return dump_check_untraced(pid) || dump_check_vfork(pid) ? -1 : 0;
}

static int write_header(struct dump_ctx *c)
{
	struct img_header h;
	struct utsname u;

	memset(&h, 0, sizeof(h));
	h.version = IMG_VERSION;
	h.isa = arch_isa();
	h.page_size = c->page_size;
	h.created = time(NULL);
	if (!uname(&u))
		snprintf(h.kernel, sizeof(h.kernel), "%s", u.release);
	snprintf(h.writer, sizeof(h.writer), "ckpt %s", ckpt_version());
	return img_write_header(c->w, &h) ||
	       dump_incr_write_ident(c->ir, c->w) ? -1 : 0;
}

static int write_records(struct dump_ctx *c)
{
	struct img_process *p = &c->proc;
	uint32_t i;

	if (p->proc.zombie)
		return img_write_zombie(c->w, &p->proc);
	if (img_write_proc(c->w, &p->proc))
		return -1;
	for (i = 0; i < p->nr_threads; i++)
		if (img_write_thread(c->w, &p->threads[i]))
			return -1;
	if (p->has_sigacts && img_write_sigacts(c->w, p->sigacts))
		return -1;
	for (i = 0; i < p->nr_fds; i++)
		if (img_write_fd(c->w, &p->fds[i]))
			return -1;
	if (dump_write_locks(c) || dump_write_fowns(c) || dump_write_aios(c))
		return -1;
	for (i = 0; i < p->nr_vmas; i++)
		if (img_write_vma(c->w, &p->vmas[i]))
			return -1;
	return dump_write_memory(c);
}

/* What is gathered of one frozen process before its VMAs: all but the
 * VMA flags, which a thread reads meanwhile (dump-maps.c). */
static int collect_state(struct dump_ctx *c)
{
	/* each says what failed */
	/* the timers before any call runs in a thread (dump-task.c) */
	return dump_collect_pstate(c) || dump_collect_threads(c) ||
	       dump_collect_unseen(c) ||
	       dump_collect_timers(c) || dump_collect_threads_remote(c) ||
	       dump_collect_seccomp(c) || dump_collect_sigacts(c) ||
	       dump_collect_fds(c) || dump_collect_locks(c) ||
	       dump_collect_fowns(c) || dump_collect_semundo(c) ? -1 : 0;
}

/*
 * What must come before the smaps walk starts (dump-maps.c): the walk
 * holds the lock of the address space that mmap and brk take, so our
 * page (inject_prepare) and brk(0) (dump_collect_proc) would wait for the
 * whole walk. The maps are read before our page is there.
 */
static int before_walk(struct dump_ctx *c)
{
	if (dump_maps_read(c))
		return -1;
	if (inject_prepare(c->ip)) {
		dump_perror(c, "can't make system calls in %d", c->pid);
		return -1;
	}
	if (dump_collect_proc(c)) {
		dump_perror(c, "can't read the state of %d", c->pid);
		return -1;
	}
	return 0;
}

/* What is gathered of one frozen process before anything is written. */
static int collect(struct dump_ctx *c)
{
	int r;

	c->leader = inject_leader(c->ip);
	if (dump_seccomp_suspend(c) || before_walk(c) || dump_maps_begin(c))
		return -1;
	if (c->o->pre_copy)	/* the final freeze's scan, meanwhile */
		dump_prescan_begin(c);
	r = collect_state(c);
	if (dump_maps_end(c) || r ||
	    dump_ghost_proc(c) || dump_collect_vmas(c))
		return -1;
	if (inject_unprepare(c->ip)) {
		dump_perror(c, "can't clean up after system calls in %d",
			    c->pid);
		return -1;
	}
	return dump_interrupted(c) ? -1 : 0;
}

/* With --pre-copy and no --kill, the processes' records are written once
 * the tree runs again: their memory was taken while it was frozen; with
 * --cow, it is in their snapshots. */
static int late_records(const struct dump_tree *t)
{
	return (t->procs[0].o->pre_copy || t->procs[0].o->cow ||
		t->incr_late) && !t->procs[0].o->kill;
}

/* The processes' records: their memory, mostly. */
static int write_all_records(struct dump_tree *t)
{
	int i;

	progress_phase("memory");
	for (i = 0; i < t->n; i++)
		if (write_records(&t->procs[i]))
			return -1;
	return 0;
}

/* Everything that happens while the tree is frozen: all of it gathered
 * first, then written, parents before children (but see late_records).
 * A zombie was recorded when it was found. */
static int dump_frozen(struct dump_tree *t)
{
	int i;

	if (dump_net_enter(t))
		return -1;
	for (i = 0; i < t->n; i++)
		if (!t->procs[i].proc.proc.zombie && collect(&t->procs[i]))
			return -1;
	log_stamp("frozen: state read");
	for (i = 0; t->procs[0].o->pre_copy && i < t->n; i++)
		if (!t->procs[i].proc.proc.zombie &&
		    dump_pre_snapshot(&t->procs[i]))
			return -1;
	/* an incremental one's, by the tracking (dump-incr.c) */
	t->incr_late = dump_incr_late(t);
	for (i = 0; t->incr_late && i < t->n; i++)
		if (!t->procs[i].proc.proc.zombie &&
		    dump_incr_hold(&t->procs[i]))
			return -1;
	dump_tree_waits(t);
	progress_phase("files");
	if (dump_tree_ns(t) || dump_mnt_cgroups(t) ||
	    dump_ipcns_check_shms(t) ||
	    dump_tree_cgroups(t) || dump_tree_check_shared(t) ||
	    dump_tree_check_groups(t) ||
	    dump_tree_files(t) || dump_interrupted(&t->procs[0]) ||
	    dump_tree_check_fds(t) || dump_mntns_check_fds(t) ||
	    dump_tree_check_fowns(t) ||
	    dump_tree_check_procfs(t) || dump_pidns_translate(t) ||
	    (!img_writer_offset(t->procs[0].w) && write_header(&t->procs[0])) ||
	    dump_write_nss(t, t->procs[0].w) ||
	    dump_write_nsjoins(t, t->procs[0].w) ||
	    dump_write_cgroups(t, t->procs[0].w) ||
	    dump_write_mounts(t, t->procs[0].w) ||
	    dump_write_nsmounts(t, t->procs[0].w) ||
	    dump_write_net(t, t->procs[0].w) ||
	    dump_write_sysvs(t, t->procs[0].w) ||
	    dump_write_files(t, t->procs[0].w) ||
	    dump_write_app(t, t->procs[0].w) ||
	    dump_write_shms(&t->procs[0]) || dump_write_ghosts(&t->procs[0]))
		return -1;
	/* the last: the checks above see no snapshot among the children */
	if (t->procs[0].o->cow && dump_cow_snap(t))
		return -1;
	return late_records(t) ? 0 : write_all_records(t);
}

/* check_target() saw the root alive: if it is gone now, it died in our
 * hands (a SIGKILL while we froze it), which is a failed dump. */
static enum dump_result seize(struct dump_ctx *c)
{
	if (!inject_seize(c->pid, &c->ip))
		return c->o->landmark_ms && dump_landmark(c) ? DUMP_EFAILED
							     : DUMP_OK;
	/* EPERM: a thread of its that had begun to exit (a SIGKILL) */
	if (errno == ESRCH || (errno == EPERM && target_gone(c->pid))) {
		pr_err("%d died during the dump: no image written", c->pid);
		return DUMP_EFAILED;
	}
	pr_perror("can't seize %d", c->pid);
	return DUMP_ENOTARGET;
}

static int tree_add(struct dump_tree *t, const struct dump_opts *o,
		    struct img_writer *w, pid_t pid)
{
	struct dump_ctx *n = realloc(t->procs, (t->n + 1) * sizeof(*n));

	if (!n)
		return -1;
	t->procs = n;
	memset(&n[t->n], 0, sizeof(*n));
	n[t->n].o = o;
	n[t->n].shms = &t->shms;
	n[t->n].ghosts = &t->ghosts;
	n[t->n].pres = &t->pres;
	n[t->n].ir = &t->ir;
	n[t->n].pid = pid;
	n[t->n].w = w;
	n[t->n].page_size = sysconf(_SC_PAGESIZE);
	t->n++;
	return 0;
}

/* Add pid to the tree if it is a zombie: 1 if it was, 0 if not, -1. */
static int add_zombie(struct dump_tree *t, const struct dump_opts *o,
		      struct img_writer *w, pid_t pid)
{
	struct img_proc z;
	int r = dump_zombie(pid, &z);

	if (r <= 0)
		return r;
	if (tree_add(t, o, w, pid))
		return -1;
	t->procs[t->n - 1].proc.proc = z;
	return 1;
}

/*
 * Seize a child found in the tree, or record it as a zombie: 0, or 1 when
 * it has just exited and been reaped (not part of the tree any more), or
 * -1. A child that exits while we seize it is a zombie by the time the
 * seize fails (PTRACE_SEIZE of a zombie is EPERM; one that dies in our
 * hands is ESRCH, and our wait for it left it a zombie for its parent).
 */
static int seize_child(struct dump_tree *t, const struct dump_opts *o,
		       struct img_writer *w, pid_t pid)
{
	int r = add_zombie(t, o, w, pid), saved;

	if (r)
		return r < 0 ? -1 : 0;
	if (dump_check_vfork(pid) || tree_add(t, o, w, pid))
		return -1;
	if (!inject_seize(pid, &t->procs[t->n - 1].ip))
		return 0;
	saved = errno;
	t->n--;
	if (saved == ESRCH || saved == EPERM) {
		r = add_zombie(t, o, w, pid);
		if (r)
			return r < 0 ? -1 : 0;
		if (target_gone(pid))
			return 1;	/* reaped while we looked */
		if (dump_check_untraced(pid))
			return -1;
	}
	errno = saved;
	pr_perror("can't seize %d", pid);
	return -1;
}

/*
 * Freeze the root, and with --tree every descendant, parents before
 * children. A frozen process cannot fork, so once a pass over the frozen
 * ones finds no child we have not seized, the tree is complete.
 */
static enum dump_result freeze(struct dump_tree *t, struct img_writer *w)
{
	const struct dump_opts *o = t->procs[0].o;
	enum dump_result res;
	pid_t *kids = NULL;
	int i, k, nk, found;

	if (o->freeze_cgroup && dump_freeze_seize(t->procs[0].pid, o->tree))
		return DUMP_EFAILED;
	res = seize(&t->procs[0]);
	if (res != DUMP_OK)
		return res;
	do {
		found = 0;
		for (i = 0; o->tree && i < t->n; i++) {
			nk = dump_children_of(t->procs[i].pid, &kids);
			for (k = 0; k < nk; k++) {
				if (dump_tree_has(t, kids[k]))
					continue;
				if (seize_child(t, o, w, kids[k]) < 0) {
					free(kids);
					return DUMP_EFAILED;
				}
				found = 1;
			}
			free(kids);
			kids = NULL;
		}
	} while (found);
	/* a child forked from the root borrows the same code */
	for (i = 0; i < t->n; i++)
		if (t->procs[i].ip)
			inject_use_code(t->procs[i].ip, &t->code);
	return DUMP_OK;
}

/* The tree dies with us from now on: the image is committed and --kill
 * asked for its death, which must not stop half-way. */
static int kill_with_us(struct dump_tree *t)
{
	int i, ret = 0;

	for (i = 0; i < t->n; i++)
		if (t->procs[i].ip && inject_kill_with_us(t->procs[i].ip))
			ret = -1;
	return ret;
}

/* Thaw (or kill) every frozen process; 0 or -1. One that was killed
 * while frozen is marked died. */
static int release_all(struct dump_tree *t, int kill_them)
{
	int i, ret = 0;

	for (i = t->n - 1; i >= 0; i--) {
		struct dump_ctx *c = &t->procs[i];

		if (!c->ip)
			continue;
		if (inject_release(c->ip, kill_them)) {
			if (!kill_them && errno == ESRCH)
				c->died = 1;
			else
				ret = -1;
		}
		c->ip = NULL;
		if (kill_them)
			fault_point("killing");
	}
	return ret;
}

/*
 * Was a process of the tree killed while frozen? unwind() names it. Asked
 * once everything is written, and again as each is thawed (release_all),
 * so that no SIGKILL before the thaw goes unseen.
 */
static int tree_alive(const struct dump_tree *t)
{
	int i;

	for (i = 0; i < t->n; i++)
		if (t->procs[i].died ||
		    (t->procs[i].ip && target_gone(t->procs[i].pid)))
			return 0;
	return 1;
}

/*
 * --pre-copy: the tree is frozen a moment for its write tracking
 * (dump-precopy.c), then its memory is copied while it runs. The caller
 * freezes it again, finding the tree anew: the processes seized here are
 * forgotten but the root.
 */
static enum dump_result pre_copy(struct dump_tree *t, struct img_writer *w)
{
	enum dump_result res = freeze(t, w);

	if (res != DUMP_OK)
		return res;
	if (dump_pre_arm(t))
		return DUMP_EFAILED;	/* the caller thaws it */
	if (release_all(t, 0) || !tree_alive(t))
		return DUMP_EFAILED;
	t->n = 1;
	progress_phase("pre-copy");
	/* streamed: the rounds' records follow the header (dump-precopy.c) */
	if (t->procs[0].o->pre_stream && write_header(&t->procs[0]))
		return DUMP_EFAILED;
	return dump_pre_rounds(t) ? DUMP_EFAILED : DUMP_OK;
}

static void unwind(struct dump_tree *t)
{
	int i;

	for (i = 0; i < t->n; i++) {
		struct dump_ctx *c = &t->procs[i];

		if (c->died || (c->ip && target_gone(c->pid))) {
			pr_err("%d died during the dump: no image written",
			       c->pid);
			inject_release(c->ip, 1);
			c->ip = NULL;
		}
	}
	if (release_all(t, 0))
		pr_err("could not thaw %d completely", t->procs[0].pid);
}

static void free_tree(struct dump_tree *t)
{
	int i;

	if (t->guard >= 0)	/* end of file: it undoes what is left */
		close(t->guard);
	for (i = 0; i < t->n; i++) {
		dump_prescan_end(&t->procs[i]);
		proc_free_maps(t->procs[i].maps, t->procs[i].nr_maps > 0 ?
			       t->procs[i].nr_maps : 0);
		free(t->procs[i].proc.locks);	/* dump-locks.c's */
		free(t->procs[i].proc.fowns);	/* dump-fown.c's */
		dump_free_aios(&t->procs[i].proc);
		free(t->procs[i].waits);
		dump_free_process(&t->procs[i].proc);
	}
	dump_free_shms(&t->shms);
	dump_free_ghosts(&t->ghosts);
	dump_pre_free(&t->pres);
	dump_free_nss(t);
	dump_free_cgroups(t);
	free(t->procs);
	dump_free_files(t);
}

static double seconds_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* About how many bytes the image will hold: the anonymous memory of pid
 * and, with --tree, of its descendants (what dominates it), for the
 * progress report. Read before the freeze: smaps_rollup walks the page
 * tables (some 70 ms a GiB), which must not count as frozen time. */
static uint64_t estimate(const struct dump_opts *o, pid_t pid, int depth)
{
	uint64_t sum = 0, b;
	pid_t *kids = NULL;
	int i, n;

	if (!proc_anon_bytes(pid, &b))
		sum += b;
	if (!o->tree || depth > 64)
		return sum;
	n = dump_children_of(pid, &kids);
	for (i = 0; i < n; i++)
		sum += estimate(o, kids[i], depth + 1);
	free(kids);
	return sum;
}

static void fill_stats(const struct dump_tree *t, struct dump_stats *s,
		       uint64_t bytes, double start, double frozen,
		       double thawed)
{
	int i;

	s->nr_procs = t->n;
	s->nr_threads = 0;
	for (i = 0; i < t->n; i++)
		s->nr_threads += t->procs[i].proc.nr_threads;
	s->bytes = bytes;
	s->frozen = thawed - frozen;
	s->seconds = seconds_now() - start;
	s->incremental = t->ir.ident.parent_id != 0;
}

/* After each write to the image: what it holds so far (the size of the
 * committed image in the end), reported. */
static void on_write(uint64_t off, void *arg)
{
	*(uint64_t *)arg = off;
	progress_bytes(off);
}

/* The file snapshot hashed (after the thaw, but for o->hold) and put in
 * place, then the image committed; *w is NULL once the commit was
 * tried. */
static int commit(const struct dump_opts *o, struct img_writer **w)
{
	int ret;

	if (snap_finish(o->snap, *w) || snap_place(o->snap))
		return -1;
	ret = img_writer_commit(*w);
	*w = NULL;
	return ret;
}

/* The image committed with the tree still frozen, then the holder's
 * word (dump_opts.hold); *w is NULL once committed. */
static int hold_frozen(const struct dump_opts *o, struct img_writer **w)
{
	if (commit(o, w))
		return -1;
	return o->hold(o->hold_arg);
}

/* How a child names this image: beside it (ckpt run's images). */
static const char *image_name(const struct dump_opts *o)
{
	const char *slash = strrchr(o->outputs[0], '/');

	return slash ? slash + 1 : o->outputs[0];
}

enum dump_result dump_process(const struct dump_opts *o)
{
	struct dump_tree t = { .guard = -1, .cow_guard = -1 };
	struct img_sink *sink;
	struct img_writer *w;
	enum dump_result res;
	double start = seconds_now(), frozen, thawed;
	uint64_t bytes = 0;
	int dies_with_us = 0;

	if (check_target(o->pid))
		return DUMP_ENOTARGET;
	if (dump_incr_begin(&t.ir, o)) {
		dump_incr_end(&t.ir, NULL, 0);
		return DUMP_EFAILED;
	}
	if (dump_app_event(o, CKPT_APP_BEFORE_FREEZE)) {
		dump_incr_end(&t.ir, NULL, 0);
		return DUMP_EFAILED;
	}
	progress_start(o->progress);
	if (o->progress != PROGRESS_OFF)
		progress_total(estimate(o, o->pid, 0));
	sink = pipeline_open_write_multi(o->filters, o->nr_filters, o->outputs,
					 o->nr_outputs, o->quorum, o->params,
					 o->nr_params);
	w = sink ? img_writer_new(sink) : NULL;
	if (!w) {
		progress_end(0);
		dump_incr_end(&t.ir, NULL, 0);
		return DUMP_ECREATE;
	}
	img_writer_on_write(w, on_write, &bytes);
	if (tree_add(&t, o, w, o->pid)) {
		img_writer_abort(w);
		progress_end(0);
		dump_incr_end(&t.ir, NULL, 0);
		return DUMP_EFAILED;
	}
	/* not frozen time: inject_prepare checks what is found, and the
	 * BPF iterators every process needs are loaded */
	inject_find_code(o->pid, &t.code);
	dump_kstate_preload();
	dump_semundo_preload();
	dump_sigacts_preload();
	if (o->pre_copy) {
		res = pre_copy(&t, w);
		if (res != DUMP_OK)
			goto err;
	}
	progress_phase("freezing");
	frozen = seconds_now();
	res = freeze(&t, w);
	if (res != DUMP_OK)
		goto err;
	log_stamp("frozen: %d processes", t.n);
	res = DUMP_EFAILED;
	if (dump_app_event(o, CKPT_APP_FROZEN))
		goto err;
	progress_phase("state");
	/* back in ckpt's network namespace whatever happened */
	res = dump_frozen(&t) ? DUMP_EFAILED : DUMP_OK;
	dump_net_leave(&t);
	if (res != DUMP_OK || !tree_alive(&t)) {
		res = DUMP_EFAILED;
		goto err;
	}
	res = DUMP_EFAILED;
	if (o->hold && hold_frozen(o, &w))
		goto err;
	/* the image may still be good if a thaw fails: they were frozen */
	if (!o->kill && release_all(&t, 0))
		pr_warn("thawing %d failed; the image is kept", o->pid);
	else if (!o->kill)
		dump_app_event(o, CKPT_APP_THAWED);	/* failures said */
	thawed = seconds_now();	/* with --kill: until they are killed */
	if (!o->kill)
		log_stamp("thawed");
	if (!tree_alive(&t) || (late_records(&t) && write_all_records(&t)))
		goto err;
	/* the tree runs on with its connections (dump-netlock.c) */
	if (!o->kill)
		dump_netlock_drop(&t);
	progress_phase("committing");
	fault_point("commit");
	if (w && commit(o, &w))
		goto err;
	snap_done(o->snap);
	/* dies_with_us: the tree dies with ckpt, even killed */
	dies_with_us = o->kill && !kill_with_us(&t);
	if (o->kill && !dies_with_us)
		pr_warn("%d will run on if ckpt dies before it is killed",
			o->pid);
	else if (o->kill)
		dump_guard_end(&t);	/* the lock is restore's from now */
	fault_point("committed");
	/* TCP connections then close without a word (dump-inet-queues.c) */
	if (o->kill && dump_inet_silence(&t, 1))
		pr_warn("killing %d may close some of its TCP connections as usual",
			o->pid);
	/* and no reset from its namespace while the kernel tears it down
	 * (dump-netdev.c) */
	if (dies_with_us)
		dump_net_quiet(&t, 0);
	if (o->kill && release_all(&t, 1)) {
		pr_perror("can't kill %d after the dump", o->pid);
		if (dies_with_us)
			dump_net_quiet(&t, 1);
		if (dump_inet_silence(&t, 0))
			pr_err("TCP connections of %d may be left in repair mode",
			       o->pid);
		goto err;
	}
	/* restore removes it (dump-netlock.c) */
	dump_netlock_keep(&t);
	dump_app_event(o, CKPT_APP_COMMITTED);	/* failures said */
	if (o->stats)
		fill_stats(&t, o->stats, bytes, start, frozen,
			   o->kill ? seconds_now() : thawed);
	res = DUMP_OK;
	goto out;
err:
	unwind(&t);
	dump_netlock_drop(&t);
	snap_abort(o->snap);
	if (w)
		img_writer_abort(w);
out:
	dump_cow_end(&t);	/* the tree thawed (or dead) by now */
	progress_end(res == DUMP_OK);
	dump_incr_end(&t.ir, image_name(o), res == DUMP_OK);
	free_tree(&t);
	return res;
}
