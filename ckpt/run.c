/*
 * The supervisor of ckpt run. It is the job's parent but not its tracer:
 * ptrace is used only while a checkpoint is taken, by the dumper, called
 * in-process. Everything happens in one loop over a signalfd, a timerfd
 * and the listening control socket, so that a checkpoint runs with no
 * waitpid() of ours in flight: the dumper's waitpid(__WALL) on the job's
 * threads must get their ptrace stops, and we reap only the job, only
 * with WNOHANG, only between checkpoints.
 */
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/timerfd.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ckpt/dump.h"
#include "ckpt/run-priv.h"
#include "ckpt/snapshot.h"
#include "util/notify.h"
#include "util/json.h"
#include "util/progress.h"

static volatile sig_atomic_t never_interrupted;

/* NNNN.ckpt: the image number, or 0 for any other name */
static unsigned int image_seq(const char *name)
{
	char *end;
	unsigned long v;

	if (name[0] < '0' || name[0] > '9')
		return 0;
	v = strtoul(name, &end, 10);
	if (strcmp(end, ".ckpt") || v == 0 || v > UINT_MAX / 2)
		return 0;
	return v;
}

/* Call fn for each image of the run directory. */
static int for_each_image(struct run_ctx *c,
			  void (*fn)(struct run_ctx *, const char *,
				     unsigned int))
{
	struct dirent *de;
	DIR *d;
	int fd;

	fd = openat(c->dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0 || !(d = fdopendir(fd))) {
		pr_perror("can't read %s", c->o->dir);
		if (fd >= 0)
			close(fd);
		return -1;
	}
	while ((de = readdir(d)))
		if (image_seq(de->d_name))
			fn(c, de->d_name, image_seq(de->d_name));
	closedir(d);
	return 0;
}

static void note_seq(struct run_ctx *c, const char *name, unsigned int seq)
{
	(void)name;
	if (seq >= c->seq)
		c->seq = seq + 1;
}

/* an image past --keep, and its file snapshot */
static void prune_one(struct run_ctx *c, const char *name, unsigned int seq)
{
	/* never a parent of an image kept (run-incr.c) */
	if (seq + c->o->keep >= c->seq || run_incr_needed(c, seq))
		return;
	if (unlinkat(c->dirfd, name, 0))
		pr_perror("can't remove old image %s/%s", c->o->dir, name);
	else
		run_incr_forget(c, name);
	snap_remove(c->dirfd, name);
}

/* --notify: the socket's absolute path, set in the job's environment;
 * one left by an earlier job removed */
static int notify_path(struct run_ctx *c)
{
	char *real;
	int n;

	if (!c->o->notify)
		return 0;
	real = realpath(c->o->dir, NULL);
	n = real ? snprintf(c->notify, sizeof(c->notify), "%s/%s", real,
			    NOTIFY_NAME) : -1;
	free(real);
	if (n < 0 || (size_t)n >= sizeof(c->notify)) {
		pr_err("--notify: %s/%s is too long a socket path", c->o->dir,
		       NOTIFY_NAME);
		return -1;
	}
	unlinkat(c->dirfd, NOTIFY_NAME, 0);
	return 0;
}

static int open_dir(struct run_ctx *c)
{
	if (mkdir(c->o->dir, 0700) && errno != EEXIST) {
		pr_perror("can't create %s", c->o->dir);
		return -1;
	}
	c->dirfd = open(c->o->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (c->dirfd < 0) {
		pr_perror("can't open %s", c->o->dir);
		return -1;
	}
	c->seq = 1;
	return notify_path(c) || for_each_image(c, note_seq);
}

static int control_addr(const char *dir, struct sockaddr_un *sa)
{
	memset(sa, 0, sizeof(*sa));
	sa->sun_family = AF_UNIX;
	if ((size_t)snprintf(sa->sun_path, sizeof(sa->sun_path), "%s/%s",
			     dir, RUN_CONTROL) >= sizeof(sa->sun_path)) {
		pr_err("run directory path too long for a socket: %s", dir);
		return -1;
	}
	return 0;
}

/* DIR/control, mode 0600 (umask 0177 at bind: fchmod does not reach the
 * path) */
static int open_control(struct run_ctx *c)
{
	struct sockaddr_un sa;
	mode_t old;
	int ret;

	if (control_addr(c->o->dir, &sa))
		return -1;
	c->lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (c->lfd < 0) {
		pr_perror("can't create the control socket");
		return -1;
	}
	unlinkat(c->dirfd, RUN_CONTROL, 0);	/* a dead supervisor's */
	old = umask(0177);
	ret = bind(c->lfd, (struct sockaddr *)&sa, sizeof(sa));
	umask(old);
	if (ret || listen(c->lfd, 8)) {
		pr_perror("can't listen on %s", sa.sun_path);
		return -1;
	}
	return 0;
}

static int open_signals(struct run_ctx *c)
{
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, SIGCHLD);
	sigaddset(&set, SIGUSR1);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGHUP);
	if (sigprocmask(SIG_BLOCK, &set, &c->oldmask)) {
		pr_perror("can't block signals");
		return -1;
	}
	c->sfd = signalfd(-1, &set, SFD_CLOEXEC);
	if (c->sfd < 0) {
		pr_perror("can't create a signalfd");
		return -1;
	}
	return 0;
}

static int open_timer(struct run_ctx *c)
{
	struct itimerspec its = {
		.it_value.tv_sec = c->o->interval,
		.it_interval.tv_sec = c->o->interval,
	};

	if (!c->o->interval)
		return 0;
	c->tfd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC);
	if (c->tfd < 0 || timerfd_settime(c->tfd, 0, &its, NULL)) {
		pr_perror("can't create the interval timer");
		return -1;
	}
	return 0;
}

/* In the child: a new session, our signal mask undone, no fd of ours. */
static void __attribute__((noreturn)) exec_job(struct run_ctx *c)
{
	if (setsid() < 0)
		pr_perror("can't create a session for the job");
	sigprocmask(SIG_SETMASK, &c->oldmask, NULL);
	if (c->notify[0] && setenv(NOTIFY_ENV, c->notify, 1))
		pr_perror("can't set %s for the job", NOTIFY_ENV);
	if (syscall(SYS_close_range, 3, ~0U, 0))
		pr_perror("can't close fds before running the job");
	execvp(c->o->argv[0], c->o->argv);
	pr_perror("can't run %s", c->o->argv[0]);
	_exit(127);
}

static int start_job(struct run_ctx *c)
{
	c->job = fork();
	if (c->job < 0) {
		pr_perror("can't fork the job");
		return -1;
	}
	if (!c->job)
		exec_job(c);
	return 0;
}

/* DIR/latest -> NNNN.ckpt, replaced atomically */
static int update_latest(struct run_ctx *c, const char *name)
{
	static const char tmp[] = ".latest.tmp";

	unlinkat(c->dirfd, tmp, 0);
	if (symlinkat(name, c->dirfd, tmp) ||
	    renameat(c->dirfd, tmp, c->dirfd, RUN_LATEST)) {
		pr_perror("can't point %s/%s at %s", c->o->dir, RUN_LATEST,
			  name);
		unlinkat(c->dirfd, tmp, 0);
		return -1;
	}
	return 0;
}

/*
 * Take one checkpoint. Returns 0 with the image's path in msg, or -1 with
 * the reason in msg (also reported on stderr); the job runs on either way.
 */
/* run --json: one line on stderr (stdout is the job's) per checkpoint. */
static void json_checkpoint(const struct run_ctx *c, const char *image,
			    const struct dump_stats *s)
{
	json_set_out(stderr);
	json_begin();
	json_kstr(1, "checkpoint", image);
	json_u64(0, "seq", c->seq - 1);
	json_i64(0, "pid", c->job);
	json_u64(0, "processes", (uint64_t)s->nr_procs);
	json_u64(0, "bytes", s->bytes);
	json_f64(0, "frozen_seconds", s->frozen);
	json_end();
	json_set_out(NULL);
}

/* The dump, with the file snapshot (linked from the previous image's
 * where unchanged) and the job told before and after (--notify). */
static int dump_with_job(struct run_ctx *c, struct dump_opts *o, char *prev,
			 size_t len)
{
	int ret;

	o->snap = c->o->snap;
	if (o->snap) {
		snprintf(prev, len, "%s/%04u.ckpt", c->o->dir, c->seq - 1);
		o->snap->prev = c->seq > 1 ? prev : NULL;
	}
	if (c->notify[0]) {
		o->notify = c->notify;
		o->notify_seconds = c->o->notify;
		notify_job(c->notify, "before", c->o->notify);
	}
	ret = dump_process(o) == DUMP_OK ? 0 : -1;
	if (c->notify[0])
		notify_job(c->notify, "after", c->o->notify);
	return ret;
}

static int checkpoint(struct run_ctx *c, char *msg, size_t len)
{
	struct dump_opts o = {
		.pid = c->job, .nr_outputs = 1, .quorum = 1, .tree = 1,
		.interrupted = &never_interrupted, .ext_null = c->o->ext_null,
		.tcp_established = c->o->tcp_established,
		.ghost_limit = c->o->ghost_limit,
		.nr_filters = c->o->nr_filters,
		.progress = PROGRESS_OFF,	/* the job has the terminal */
	};
	struct dump_stats stats;
	char name[32], prev[PATH_MAX];
	int i;

	if (c->member) {
		snprintf(msg, len, "the checkpoints of a member are its "
			 "coordinator's (ckpt job checkpoint)");
		goto err;
	}
	o.stats = &stats;
	if (run_incr_opts(c, &o)) {
		snprintf(msg, len, "no memory for write tracking");
		goto err;
	}
	for (i = 0; i < c->o->nr_filters; i++)
		o.filters[i] = c->o->filters[i];
	snprintf(name, sizeof(name), "%04u.ckpt", c->seq);
	snprintf(msg, len, "%s/%s", c->o->dir, name);
	o.outputs[0] = msg;
	if (dump_with_job(c, &o, prev, sizeof(prev))) {
		snprintf(msg, len, "checkpoint of job %d failed", c->job);
		goto err;
	}
	snprintf(msg, len, "%s/%s", c->o->dir, name);
	if (update_latest(c, name)) {
		snprintf(msg, len, "can't update %s/%s", c->o->dir,
			 RUN_LATEST);
		goto err;
	}
	c->seq++;
	run_incr_committed(c, name, &stats);
	if (for_each_image(c, prune_one))
		pr_warn("old images of %s not removed", c->o->dir);
	pr_info("checkpoint %s", msg);
	if (c->o->json)
		json_checkpoint(c, msg, &stats);
	return 0;
err:
	pr_err("%s", msg);
	return -1;
}

/* One request on the control socket: "dump" -> "ok PATH" | "error MSG". */
static void serve_client(struct run_ctx *c)
{
	struct timeval tv = { .tv_sec = 10 };
	char req[64], msg[PATH_MAX + 128], reply[PATH_MAX + 160];
	ssize_t n;
	int fd;

	fd = accept4(c->lfd, NULL, NULL, SOCK_CLOEXEC);
	if (fd < 0)
		return;
	/* a client that never speaks must not hang the job's supervisor */
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	n = recv(fd, req, sizeof(req) - 1, 0);
	if (n <= 0)
		goto out;
	req[n] = '\0';
	req[strcspn(req, "\r\n")] = '\0';
	if (strcmp(req, "dump"))
		snprintf(reply, sizeof(reply), "error unknown request\n");
	else if (checkpoint(c, msg, sizeof(msg)))
		snprintf(reply, sizeof(reply), "error %s\n", msg);
	else
		snprintf(reply, sizeof(reply), "ok %s\n", msg);
	/* MSG_NOSIGNAL: no SIGPIPE, and no SIG_IGN for the job to inherit */
	if (send(fd, reply, strlen(reply), MSG_NOSIGNAL) < 0)
		pr_perror("can't answer a dump request");
out:
	close(fd);
}

/* The job's end into c->status; p is what waitpid returned for it. */
static void job_status(struct run_ctx *c, pid_t p, int st)
{
	if (p < 0) {
		/* reaped by the dumper's waitpid if it died during a dump */
		if (c->member)	/* killed by a checkpoint --kill, likely */
			pr_info("job %d is gone", c->job);
		else
			pr_err("job %d is gone, its status is lost", c->job);
		c->status = EXIT_FAILED;
	} else if (WIFSIGNALED(st)) {
		c->status = 128 + WTERMSIG(st);
	} else if (WIFEXITED(st)) {
		c->status = WEXITSTATUS(st);
	}
	c->job = -1;
	if (c->member)
		run_member_job_ended(c);
}

static void reap_job(struct run_ctx *c)
{
	int st;
	pid_t p;

	/* a member is a subreaper (run-coord.c): orphans of its job too */
	while (c->member && (p = waitpid(-1, &st, WNOHANG)) > 0)
		if (p == c->job) {
			job_status(c, p, st);
			return;
		}
	if (c->job < 0)
		return;
	p = waitpid(c->job, &st, WNOHANG);
	if (p != 0)
		job_status(c, p, st);
}

static void on_signal(struct run_ctx *c)
{
	struct signalfd_siginfo si;
	char msg[PATH_MAX + 128];

	if (read(c->sfd, &si, sizeof(si)) != sizeof(si))
		return;
	switch (si.ssi_signo) {
	case SIGCHLD:
		reap_job(c);
		break;
	case SIGUSR1:
		checkpoint(c, msg, sizeof(msg));
		break;
	default:
		if (c->job > 0)
			kill(c->job, si.ssi_signo);
		else
			c->status = 128 + si.ssi_signo;	/* an idle member */
		c->idle = 0;
		break;
	}
}

static void on_timer(struct run_ctx *c)
{
	char msg[PATH_MAX + 128];
	uint64_t n;

	if (read(c->tfd, &n, sizeof(n)) == sizeof(n))
		checkpoint(c, msg, sizeof(msg));
}

static int loop(struct run_ctx *c)
{
	struct pollfd pfd[4] = {
		{ .fd = c->sfd, .events = POLLIN },
		{ .fd = c->lfd, .events = POLLIN },
		{ .fd = c->tfd, .events = POLLIN },
		{ .fd = -1, .events = POLLIN },
	};

	while (c->status < 0 || c->idle) {
		/* a member away from its coordinator tries again each second */
		if (c->member)
			pfd[3].fd = run_member_fd(c);
		if (poll(pfd, 4, c->member ? 1000 : -1) < 0) {
			if (errno == EINTR)
				continue;
			pr_perror("poll");
			return -1;
		}
		if (pfd[0].revents)
			on_signal(c);
		else if (pfd[1].revents)
			serve_client(c);
		else if (pfd[2].revents)
			on_timer(c);
		else if (pfd[3].revents)
			run_member_event(c);
		if (c->member)
			run_member_tick(c);
	}
	return 0;
}

static void close_all(struct run_ctx *c)
{
	if (c->member)
		run_member_close(c);
	if (c->lfd >= 0) {
		unlinkat(c->dirfd, RUN_CONTROL, 0);
		close(c->lfd);
	}
	if (c->sfd >= 0)
		close(c->sfd);
	if (c->tfd >= 0)
		close(c->tfd);
	run_incr_close(c);
	if (c->dirfd >= 0)
		close(c->dirfd);
}

int run_job(const struct run_opts *o)
{
	struct run_ctx c = {
		.o = o, .dirfd = -1, .sfd = -1, .tfd = -1, .lfd = -1,
		.job = -1, .status = -1,
	};
	int ret = -1;

	if (open_dir(&c) || open_control(&c) || open_signals(&c) ||
	    open_timer(&c) || (o->coord && run_member_open(&c)))
		goto out;
	/* a restore agent (--restore) waits for ckpt job restart */
	if (o->restore_agent)
		c.idle = 1;
	else if (start_job(&c))
		goto out;
	if (loop(&c)) {
		if (c.job > 0) {
			kill(c.job, SIGKILL);
			waitpid(c.job, NULL, 0);
		}
		goto out;
	}
	ret = c.status;
out:
	close_all(&c);
	return ret;
}

enum run_dump_result run_request_dump(const char *dir, char *msg,
				      size_t len)
{
	static const char req[] = "dump\n";
	struct sockaddr_un sa;
	size_t got = 0;
	ssize_t n;
	int fd = -1, ret = RUN_DUMP_NOSUP;

	snprintf(msg, len, "no supervisor for %s", dir);
	if (control_addr(dir, &sa))
		goto out;
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa))) {
		snprintf(msg, len, "no supervisor for %s: %s", dir,
			 strerror(errno));
		goto out;
	}
	ret = RUN_DUMP_FAILED;
	snprintf(msg, len, "the supervisor of %s did not answer", dir);
	if (send(fd, req, sizeof(req) - 1, MSG_NOSIGNAL) < 0)
		goto out;
	while (got < len - 1 &&
	       (n = read(fd, msg + got, len - 1 - got)) > 0)
		got += n;
	msg[got] = '\0';
	msg[strcspn(msg, "\n")] = '\0';
	if (!strncmp(msg, "ok ", 3)) {
		memmove(msg, msg + 3, strlen(msg + 3) + 1);
		ret = RUN_DUMP_OK;
	} else if (!strncmp(msg, "error ", 6)) {
		memmove(msg, msg + 6, strlen(msg + 6) + 1);
	} else {
		snprintf(msg, len, "bad answer from the supervisor of %s", dir);
	}
out:
	if (fd >= 0)
		close(fd);
	return ret;
}
