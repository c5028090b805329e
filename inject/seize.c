/*
 * Seize, freeze and release a live target.
 *
 * PTRACE_SEIZE does not stop a thread; PTRACE_INTERRUPT does, and the stop
 * is reported as PTRACE_EVENT_STOP. Threads can be born while we seize, so
 * the task list is read again after every thread we know of has stopped,
 * until a pass finds nothing new (a stopped thread cannot clone).
 */
#include <sys/ptrace.h>
#include <sys/wait.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "inject/inject-priv.h"
#include "util/util.h"

#define SEIZE_OPTS PTRACE_O_TRACESYSGOOD
#define ADOPT_OPTS (SEIZE_OPTS | PTRACE_O_TRACECLONE | PTRACE_O_EXITKILL)

int inject_get_sigmask(pid_t tid, uint64_t *mask)
{
	return ptrace(PTRACE_GETSIGMASK, tid, (void *)sizeof(*mask), mask) ?
		-1 : 0;
}

int inject_set_sigmask(pid_t tid, uint64_t mask)
{
	return ptrace(PTRACE_SETSIGMASK, tid, (void *)sizeof(mask), &mask) ?
		-1 : 0;
}

static int has_tid(const struct inject_proc *p, pid_t tid)
{
	int i;

	for (i = 0; i < p->nr_threads; i++)
		if (p->threads[i].tid == tid)
			return 1;
	return 0;
}

int inject_add_thread(struct inject_proc *p, pid_t tid)
{
	struct inject_thread *nt;

	nt = realloc(p->threads, (p->nr_threads + 1) * sizeof(*nt));
	if (!nt)
		return -1;
	p->threads = nt;
	memset(&nt[p->nr_threads], 0, sizeof(*nt));
	nt[p->nr_threads].tid = tid;
	p->nr_threads++;
	return 0;
}

void inject_drop_thread(struct inject_proc *p, int i)
{
	memmove(&p->threads[i], &p->threads[i + 1],
		(p->nr_threads - i - 1) * sizeof(*p->threads));
	p->nr_threads--;
}

/*
 * Wait until tid reports a ptrace stop. Returns 0 when stopped, -1 with
 * errno ESRCH when the thread is gone.
 */
int inject_wait_stop(pid_t tid, int *statusp)
{
	int status;

	for (;;) {
		pid_t r = waitpid(tid, &status, __WALL);

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return -1;
		if (WIFEXITED(status) || WIFSIGNALED(status)) {
			errno = ESRCH;
			return -1;
		}
		if (WIFSTOPPED(status))
			break;
	}
	if (statusp)
		*statusp = status;
	return 0;
}

/*
 * A freshly interrupted thread reports PTRACE_EVENT_STOP, but a signal that
 * was already on its way is reported first as a signal-delivery stop. It is
 * delivered (as if the freeze came a moment later) and the interrupt, still
 * pending, stops the thread right after.
 *
 * The stop's signal tells a plain interrupt (SIGTRAP) from a thread of a
 * process in a group stop (SIGSTOP, job control): ptrace(2), "group-stop".
 * That stop is the process's, not ours: PTRACE_DETACH puts the thread back
 * in it, and *group_stop keeps its signal for the dumper.
 */
static int wait_interrupted(pid_t tid, int *group_stop)
{
	int status;

	for (;;) {
		if (inject_wait_stop(tid, &status))
			return -1;
		if ((status >> 16) == PTRACE_EVENT_STOP) {
			*group_stop = WSTOPSIG(status) == SIGTRAP ? 0 :
				WSTOPSIG(status);
			return 0;
		}
		if (ptrace(PTRACE_CONT, tid, NULL,
			   (void *)(long)((status >> 16) ? 0 : WSTOPSIG(status))) ||
		    ptrace(PTRACE_INTERRUPT, tid, NULL, NULL))
			return -1;
	}
}

/* Is tid traced by us already (inject_preseize)? */
static int preseized(pid_t tid)
{
	char path[64], *s, *t;
	int ret;

	snprintf(path, sizeof(path), "/proc/%d/status", tid);
	s = read_file_str(path, NULL);
	t = s ? strstr(s, "\nTracerPid:") : NULL;
	ret = t && atoi(t + 11) == getpid();
	free(s);
	return ret;
}

/* tid seized and interrupted, or so already by inject_preseize */
static int seize_one(pid_t tid)
{
	int saved;

	if (!ptrace(PTRACE_SEIZE, tid, NULL, (void *)SEIZE_OPTS))
		return ptrace(PTRACE_INTERRUPT, tid, NULL, NULL) ? -1 : 0;
	saved = errno;
	if (saved == EPERM && preseized(tid))
		return 0;
	errno = saved;
	return -1;
}

int inject_preseize(pid_t pid)
{
	pid_t *tids = NULL;
	int n, i;

	n = proc_list_tasks(pid, &tids);
	if (n < 0)
		return -1;
	/* best effort: a thread that can't be seized now (a zombie's, one
	 * that exits) is left to inject_seize, which says why */
	for (i = 0; i < n; i++)
		if (!ptrace(PTRACE_SEIZE, tids[i], NULL, (void *)SEIZE_OPTS))
			(void)!ptrace(PTRACE_INTERRUPT, tids[i], NULL, NULL);
	free(tids);
	return 0;
}

static int seize_new_threads(struct inject_proc *p, int *found)
{
	pid_t *tids = NULL;
	int n, i;

	*found = 0;
	n = proc_list_tasks(p->pid, &tids);
	if (n < 0) {
		if (errno == ENOENT)
			errno = ESRCH;
		return -1;
	}
	if (n == 0) {
		free(tids);
		errno = ESRCH;
		return -1;
	}
	for (i = 0; i < n; i++) {
		if (has_tid(p, tids[i]))
			continue;
		if (seize_one(tids[i])) {
			if (errno == ESRCH)	/* the thread just exited */
				continue;
			goto err;
		}
		if (inject_add_thread(p, tids[i]))
			goto err;
		(*found)++;
	}
	free(tids);
	return 0;
err:
	free(tids);
	return -1;
}

static int wait_all_stopped(struct inject_proc *p)
{
	int i = 0;

	while (i < p->nr_threads) {
		struct inject_thread *t = &p->threads[i];

		if (t->stopped) {
			i++;
			continue;
		}
		if (wait_interrupted(t->tid, &t->group_stop)) {
			if (errno != ESRCH)
				return -1;
			inject_drop_thread(p, i);
			continue;
		}
		t->stopped = 1;
		i++;
	}
	return 0;
}

/* The leader leads: after a PID wraparound its threads may have lower
 * ids, and the image and the restorer expect the leader at index 0. */
static void leader_first(struct inject_proc *p)
{
	struct inject_thread t;
	int i;

	for (i = 1; i < p->nr_threads; i++) {
		if (p->threads[i].tid != p->pid)
			continue;
		t = p->threads[i];
		memmove(&p->threads[1], &p->threads[0], i * sizeof(t));
		p->threads[0] = t;
		return;
	}
}

static int save_thread_state(struct inject_proc *p)
{
	int i;

	for (i = 0; i < p->nr_threads; i++) {
		struct inject_thread *t = &p->threads[i];

		if (arch_get_regs(t->tid, &t->regs) ||
		    inject_get_sigmask(t->tid, &t->sigmask))
			return -1;
	}
	return 0;
}

int inject_seize(pid_t pid, struct inject_proc **out)
{
	struct inject_proc *p;
	int found, saved;

	p = calloc(1, sizeof(*p));
	if (!p)
		return -1;
	p->pid = pid;
	p->other = -1;
	do {
		if (seize_new_threads(p, &found) || wait_all_stopped(p))
			goto err;
	} while (found);
	if (!has_tid(p, pid)) {
		errno = ESRCH;
		goto err;
	}
	leader_first(p);
	if (save_thread_state(p))
		goto err;
	*out = p;
	return 0;
err:
	saved = errno;
	inject_detach_all(p);
	errno = saved;
	return -1;
}

int inject_adopt(pid_t pid, uint64_t sc_ip, uint64_t scratch,
		 uint64_t scratch_len, struct inject_proc **out)
{
	struct inject_proc *p;
	int saved;

	p = calloc(1, sizeof(*p));
	if (!p)
		return -1;
	p->pid = pid;
	p->other = -1;
	p->adopted = 1;
	p->sc_ip = sc_ip;
	p->scratch = scratch;
	p->scratch_len = scratch_len;
	if (ptrace(PTRACE_SEIZE, pid, NULL, (void *)ADOPT_OPTS) ||
	    ptrace(PTRACE_INTERRUPT, pid, NULL, NULL) ||
	    inject_add_thread(p, pid) ||
	    wait_interrupted(pid, &p->threads[0].group_stop) ||
	    save_thread_state(p))
		goto err;
	*out = p;
	return 0;
err:
	saved = errno;
	inject_detach_all(p);
	errno = saved;
	return -1;
}

long inject_opts(const struct inject_proc *p)
{
	return (p->adopted ? ADOPT_OPTS : SEIZE_OPTS) |
	       (p->seccomp_off ? PTRACE_O_SUSPEND_SECCOMP : 0);
}

/* The options are set whole: each thread keeps those it was seized with. */
int inject_suspend_seccomp(struct inject_proc *p)
{
	long opts = inject_opts(p) | PTRACE_O_SUSPEND_SECCOMP;
	int i;

	for (i = 0; i < p->nr_threads; i++)
		if (ptrace(PTRACE_SETOPTIONS, p->threads[i].tid, NULL,
			   (void *)opts))
			return -1;
	p->seccomp_off = 1;
	return 0;
}

/*
 * Detach every thread. A thread that is no longer in its stop can't be
 * detached (ESRCH): while we hold it only SIGKILL gets it out, so *died
 * says the process was killed while seized.
 */
static int detach_threads(struct inject_proc *p, int *died)
{
	int i, ret = 0;

	*died = 0;
	for (i = 0; i < p->nr_threads; i++) {
		if (!ptrace(PTRACE_DETACH, p->threads[i].tid, NULL, NULL))
			continue;
		if (errno == ESRCH)
			*died = 1;
		else
			ret = -1;
	}
	return ret;
}

int inject_kill_with_us(struct inject_proc *p)
{
	int i;

	for (i = 0; i < p->nr_threads; i++)
		if (ptrace(PTRACE_SETOPTIONS, p->threads[i].tid, NULL,
			   (void *)(SEIZE_OPTS | PTRACE_O_EXITKILL)) &&
		    errno != ESRCH)
			return -1;
	return 0;
}

int inject_detach_all(struct inject_proc *p)
{
	int died, ret;

	if (!p)
		return 0;
	ret = detach_threads(p, &died);
	free(p->threads);
	free(p);
	return ret;
}

/*
 * Wait until each killed thread has been reported to us, its tracer:
 * only then may its parent reap it. The leader is reported last, once
 * the others are reaped.
 */
static void reap_killed(struct inject_proc *p)
{
	int i;

	for (i = p->nr_threads - 1; i >= 0; i--) {
		pid_t tid = p->threads[i].tid;

		if (tid == p->pid)
			continue;
		while (!inject_wait_stop(tid, NULL))
			ptrace(PTRACE_CONT, tid, NULL, NULL);
	}
	while (!inject_wait_stop(p->pid, NULL))
		ptrace(PTRACE_CONT, p->pid, NULL, NULL);
}

static int thaw(struct inject_proc *p)
{
	int i, ret = 0;

	if (inject_unpark_threads(p) || inject_unprepare(p))
		ret = -1;
	/* each thread was parked after each call: once more does no harm */
	for (i = 0; i < p->nr_threads; i++)
		if (p->threads[i].touched && inject_park(&p->threads[i]) &&
		    errno != ESRCH) {
			pr_perror("can't restore the state of thread %d",
				  p->threads[i].tid);
			ret = -1;
		}
	return ret;
}

int inject_release(struct inject_proc *p, int kill_it)
{
	int ret = 0, died;

	if (!p)
		return 0;
	if (kill_it) {
		if (kill(p->pid, SIGKILL) && errno != ESRCH)
			ret = -1;
		reap_killed(p);
	} else if (thaw(p)) {
		ret = -1;
	}
	if (detach_threads(p, &died))
		ret = -1;
	if (died && !kill_it) {
		/* someone else's SIGKILL: it is ours to report */
		reap_killed(p);
		if (!ret) {
			ret = -1;
			errno = ESRCH;
		}
	}
	free(p->threads);
	free(p);
	return ret;
}
