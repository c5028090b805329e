/*
 * What an image must satisfy on this host before any process is created:
 * a tree with its root first and parents before children, registers of
 * this ISA, page size, every PID and TID it needs free, zombies that
 * can die again as they died, and capabilities that restore can give.
 */
#include <sys/resource.h>
#include <linux/capability.h>
#include <linux/securebits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "restore/restore.h"

static int check_threads(const struct restore_run *run,
			 const struct img_process *p)
{
	uint32_t i;

	for (i = 0; i < p->nr_threads; i++) {
		struct img_thread *t = &p->threads[i];

		if (t->regs_isa != arch_isa() ||
		    t->nr_regs != arch_regs_nr_words()) {
			pr_err("%s: thread %d has registers this restorer can't load",
			       run->path, t->tid);
			return -1;
		}
		if (t->xstate_len > arch_xstate_max()) {
			pr_err("%s: thread %d has an FPU state of %u bytes",
			       run->path, t->tid, t->xstate_len);
			return -1;
		}
	}
	if (p->threads[0].tid != p->proc.pid) {
		pr_err("%s: the first thread is %d, not the leader %d",
		       run->path, p->threads[0].tid, p->proc.pid);
		return -1;
	}
	return 0;
}

/* Is this id used by any task (process or thread) on the host? */
static int id_taken(pid_t id, char *who, size_t len)
{
	char path[64], *comm;

	snprintf(path, sizeof(path), "/proc/%d/comm", id);
	if (access(path, F_OK))
		return 0;
	comm = read_file_str(path, NULL);
	snprintf(who, len, "%s", comm ? comm : "?");
	who[strcspn(who, "\n")] = '\0';
	free(comm);
	return 1;
}

static int check_ids(const struct restore_run *run,
		     const struct img_process *p)
{
	char who[64];
	uint32_t i;

	if (p->proc.zombie && id_taken(p->proc.pid, who, sizeof(who))) {
		pr_err("can't restore %s: pid %d of zombie is taken by '%s'",
		       run->path, p->proc.pid, who);
		return -1;
	}

	for (i = 0; i < p->nr_threads; i++) {
		pid_t id = p->threads[i].tid;

		if (id_taken(id, who, sizeof(who))) {
			pr_err("can't restore %s: %s %d is taken by '%s'",
			       run->path, i ? "tid" : "pid", id, who);
			return -1;
		}
	}
	return 0;
}

/* The root first, and every other process after its parent. */
static int check_tree(const struct restore_run *run)
{
	struct image *img = run->img;
	uint32_t i, k;

	for (i = 1; i < img->nr_procs; i++) {
		for (k = 0; k < i; k++)
			if (img->procs[k].proc.pid == img->procs[i].proc.ppid)
				break;
		if (k == i) {
			pr_err("%s: process %d comes before its parent %d",
			       run->path, img->procs[i].proc.pid,
			       img->procs[i].proc.ppid);
			return -1;
		}
	}
	return 0;
}

/*
 * A zombie killed by a signal dies of it again, with the signal's default
 * action, which must be to terminate (the reader only checks the range),
 * and dump core when it had (coreflag.c): a signal whose default action
 * dumps core, and a host where that core comes back to restore.
 */
#define CORE_MIN	(1 << 20)	/* headers and notes: far less */

/* Why the cores of restore's zombies would not come to the directory
 * restore_core_prepare() makes them in, or NULL when they do. */
const char *restore_core_unreachable(void)
{
	static char why[160];
	struct rlimit rl;
	char *pat = read_file_str("/proc/sys/kernel/core_pattern", NULL);

	if (!pat)
		return "core_pattern can't be read";
	pat[strcspn(pat, "\n")] = '\0';
	if (pat[0] == '|' || strchr(pat, '/') || !pat[0]) {
		snprintf(why, sizeof(why), "core_pattern \"%.100s\" sends cores elsewhere",
			 pat);
		free(pat);
		return why;
	}
	free(pat);
	if (getrlimit(RLIMIT_CORE, &rl) || rl.rlim_max < CORE_MIN)
		return "the core size limit is too low";
	return NULL;
}

static int sig_dumps_core(int sig)
{
	return sig == SIGQUIT || sig == SIGILL || sig == SIGTRAP ||
	       sig == SIGABRT || sig == SIGBUS || sig == SIGFPE ||
	       sig == SIGSEGV || sig == SIGXCPU || sig == SIGXFSZ ||
	       sig == SIGSYS;
}

static int check_zombie(const struct restore_run *run,
			const struct img_proc *z)
{
	int sig = z->exit_status & 0x7f;
	const char *why;
	sigset_t harmless;

	sigemptyset(&harmless);
	sigaddset(&harmless, SIGCHLD);
	sigaddset(&harmless, SIGCONT);
	sigaddset(&harmless, SIGURG);
	sigaddset(&harmless, SIGWINCH);
	sigaddset(&harmless, SIGSTOP);
	sigaddset(&harmless, SIGTSTP);
	sigaddset(&harmless, SIGTTIN);
	sigaddset(&harmless, SIGTTOU);
	if (sig && sigismember(&harmless, sig) == 1) {
		pr_err("%s: can't recreate zombie %d: signal %d does not kill",
		       run->path, z->pid, sig);
		return -1;
	}
	if (!(z->exit_status & 0x80))
		return 0;
	if (!sig_dumps_core(sig)) {
		pr_err("%s: can't recreate zombie %d: signal %d dumps no core",
		       run->path, z->pid, sig);
		return -1;
	}
	why = restore_core_unreachable();
	if (why) {
		pr_err("%s: can't recreate zombie %d, which dumped core: %s",
		       run->path, z->pid, why);
		return -1;
	}
	return 0;
}

int restore_sets_securebits(const struct img_caps *own,
			    const struct img_caps *want)
{
	uint32_t now = own->securebits | SECBIT_KEEP_CAPS;

	return !!((want->securebits ^ now) & ~(uint32_t)SECBIT_KEEP_CAPS);
}

static void cap_str(char *buf, size_t len, unsigned int cap)
{
	const char *name = img_cap_name(cap);

	if (name)
		snprintf(buf, len, "%s", name);
	else
		snprintf(buf, len, "capability %u", cap);
}

/* In a new user namespace (userns.c) a process starts with every
 * capability of it (user_namespaces(7)), whatever restore's own */
const struct img_caps *restore_start_caps(const struct restore_run *run)
{
	const struct image *img = run->img;
	static struct img_caps full;
	char *s;
	int last = 40;	/* CAP_CHECKPOINT_RESTORE, Linux 5.9 */

	if (!run->userns.ns &&
	    !img_find_ns(img, IMG_NS_USER, img->procs[0].proc.pid))
		return &run->host.own_caps;
	if (!full.prm) {
		s = read_file_str("/proc/sys/kernel/cap_last_cap", NULL);
		if (s)
			last = atoi(s);
		free(s);
		full.prm = full.eff = full.bnd = (2ULL << last) - 1;
	}
	return &full;
}

/* The lowest capability of want that have lacks, or -1. */
static int first_lacking(uint64_t want, uint64_t have)
{
	uint64_t m = want & ~have;

	return m ? __builtin_ctzll(m) : -1;
}

static int refuse_cap(const struct restore_run *run,
		      const struct img_process *p, const struct img_thread *t,
		      int cap, const char *set)
{
	char name[32];

	cap_str(name, sizeof(name), cap);
	pr_err("can't restore process %d of %s: restore lacks %s, which thread %d had in its %s set",
	       p->proc.pid, run->path, name, t->tid, set);
	return -1;
}

/*
 * A thread must come back with every capability it had, as CRIU does:
 * a program that runs on without one fails later and far from the cause.
 * Restore can only give from its own: capset(2) never adds to the
 * permitted set, and adds to the inheritable set only from the bounding
 * set (with CAP_SETPCAP) or the permitted one. The bounding set is the
 * exception, see check_bounding().
 */
static int check_thread_caps(const struct restore_run *run,
			     const struct img_process *p,
			     const struct img_thread *t)
{
	const struct img_caps *own = restore_start_caps(run), *want = &t->caps;
	int setpcap = !!(own->eff & (1ULL << CAP_SETPCAP));
	int cap;

	cap = first_lacking(want->prm, own->prm);
	if (cap >= 0)
		return refuse_cap(run, p, t, cap, "permitted");
	cap = first_lacking(want->inh,
			    own->inh | (setpcap ? own->bnd : own->prm));
	if (cap >= 0)
		return refuse_cap(run, p, t, cap, "inheritable");
	if (!setpcap && ((own->bnd & ~want->bnd) ||
			 restore_sets_securebits(own, want))) {
		pr_err("can't restore process %d of %s: restore lacks cap_setpcap, which setting the bounding set and securebits of thread %d takes",
		       p->proc.pid, run->path, t->tid);
		return -1;
	}
	return 0;
}

/*
 * A capability of the image's bounding set that restore's lacks cannot
 * be put back (nothing can raise a bounding set). The process never held
 * it, but it shows (CapBnd, PR_CAPBSET_READ) and limits what a later
 * execve() grants: refused, unless --drop-bounding lets the process come
 * back without it, which is then said once per process and capability.
 */
static int check_bounding(const struct restore_run *run,
			  const struct img_process *p)
{
	uint64_t lost = 0;
	char name[32];
	uint32_t i;
	int cap;

	for (i = 0; i < p->nr_threads; i++)
		lost |= p->threads[i].caps.bnd & ~restore_start_caps(run)->bnd;
	for (cap = 0; cap < 64; cap++) {
		if (!(lost & (1ULL << cap)))
			continue;
		cap_str(name, sizeof(name), cap);
		if (!run->drop_bounding) {
			pr_err("can't restore process %d of %s: its bounding set holds %s, which restore lacks (--drop-bounding lets it come back without)",
			       p->proc.pid, run->path, name);
			return -1;
		}
		pr_warn("%s: process %d comes back without %s in its bounding set: restore lacks it",
			run->path, p->proc.pid, name);
	}
	return 0;
}

static const char *const limit_names[] = {
	"RLIMIT_CPU", "RLIMIT_FSIZE", "RLIMIT_DATA", "RLIMIT_STACK",
	"RLIMIT_CORE", "RLIMIT_RSS", "RLIMIT_NPROC", "RLIMIT_NOFILE",
	"RLIMIT_MEMLOCK", "RLIMIT_AS", "RLIMIT_LOCKS", "RLIMIT_SIGPENDING",
	"RLIMIT_MSGQUEUE", "RLIMIT_NICE", "RLIMIT_RTPRIO", "RLIMIT_RTTIME",
};

/*
 * A hard resource limit above restore's own can only be raised with
 * CAP_SYS_RESOURCE (which root may lack, as on these machines): such an
 * image is refused before anything is made, naming the process and the
 * limit, instead of the process coming back with restore's.
 */
static int check_limits(const struct restore_run *run,
			const struct img_process *p)
{
	const struct img_proc *pp = &p->proc;
	struct rlimit own;
	uint32_t i;

	if (run->host.own_caps.eff & (1ULL << CAP_SYS_RESOURCE))
		return 0;
	for (i = 0; i < pp->nr_rlimits && i < ARRAY_SIZE(limit_names); i++) {
		if (getrlimit(i, &own) || own.rlim_max == RLIM_INFINITY ||
		    pp->rlimits[i].max <= own.rlim_max)
			continue;
		pr_err("can't restore process %d of %s: its hard %s (%llu) is above restore's (%llu), which only CAP_SYS_RESOURCE can raise",
		       pp->pid, run->path, limit_names[i],
		       (unsigned long long)pp->rlimits[i].max,
		       (unsigned long long)own.rlim_max);
		return -1;
	}
	return 0;
}

int restore_check_caps(struct restore_run *run)
{
	const struct img_process *p;
	uint32_t i, k;

	for (i = 0; i < run->img->nr_procs; i++) {
		p = &run->img->procs[i];
		for (k = 0; k < p->nr_threads; k++)
			if (check_thread_caps(run, p, &p->threads[k]))
				return -1;
		if (check_bounding(run, p) || check_limits(run, p))
			return -1;
	}
	return 0;
}

/* A live process: this restorer must be able to make it. */
static int check_live(const struct restore_run *run,
		      const struct img_process *p)
{
	if (!p->proc.root || strcmp(p->proc.root, "/")) {
		pr_err("%s: process %d had root directory %s; only / is supported",
		       run->path, p->proc.pid,
		       p->proc.root ? p->proc.root : "(none)");
		return -1;
	}
	return check_threads(run, p);
}

int restore_check_image(struct restore_run *run)
{
	const struct img_process *p;
	uint32_t i;

	if (run->img->hdr.page_size != (uint32_t)run->host.page_size) {
		pr_err("%s: made with %u-byte pages, this host has %ld",
		       run->path, run->img->hdr.page_size,
		       run->host.page_size);
		return -1;
	}
	if (check_tree(run))
		return -1;
	for (i = 0; i < run->img->nr_procs; i++) {
		p = &run->img->procs[i];
		if (p->proc.zombie ? check_zombie(run, &p->proc) :
		    check_live(run, p))
			return -1;
	}
	return 0;
}

int restore_check_pids(struct restore_run *run)
{
	uint32_t i;

	for (i = 0; i < run->img->nr_procs; i++)
		if (check_ids(run, &run->img->procs[i]))
			return -1;
	return 0;
}
