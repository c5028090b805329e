/*
 * ckpt run --coord: the supervisor as a member of a coordinated job. It
 * joins its coordinator (ckpt coord) and does what it is told: CKPT
 * dumps the job's tree to the image named, its connections to the other
 * members locked (attach --tcp-established), and holds it frozen (the
 * dumper's hold) until COMMIT thaws or kills it, ABORT or silence thaws
 * it; LOCK and RESTORE bring a job back from the last manifest. The
 * member never depends on its coordinator: when the session ends it
 * carries on and connects again each second. It is the job's subreaper,
 * so that a tree it restores is its child again.
 */
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "ckpt/dump.h"
#include "ckpt/libckpt.h"
#include "ckpt/run-priv.h"
#include "coord/coord.h"
#include "util/progress.h"

#define DIAL_TIMEOUT	10	/* seconds for a step of the session */
/* The longest a member holds its tree frozen for the coordinator's word:
 * above any coordinator's --timeout, so that a member never thaws on its
 * own while its coordinator may still commit. */
#define HOLD_TIMEOUT	(COORD_TIMEOUT_MAX + 60)

static volatile sig_atomic_t never_interrupted;

struct run_member {
	struct coord_conn conn;	/* fd -1 while away */
	unsigned char key[NET_KEY];
	char host[COORD_NAME_MAX];
	char dir[COORD_PATH_MAX - 16];	/* room for /NNNN.ckpt */
	char restore[PATH_MAX];	/* the restore program */
	time_t next_try;
	char (*kept)[COORD_PATH_MAX];	/* --keep: committed images, a ring */
	unsigned long nkept;
	int killed;		/* by a committed checkpoint --kill */
	int said_away;
};

static void set_timeout(int fd, int seconds)
{
	struct timeval tv = { .tv_sec = seconds };

	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
}

static int send_msg(struct run_ctx *c, struct coord_msg *m)
{
	struct run_member *rm = c->member;

	if (rm->conn.fd < 0)
		return -1;
	if (coord_send(&rm->conn, m)) {
		pr_warn("lost coordinator %s: %s", c->o->coord,
			net_strerror(errno));
		coord_close(&rm->conn);
		return -1;
	}
	return 0;
}

static void send_fail(struct run_ctx *c, unsigned long seq, const char *why)
{
	struct coord_msg *m = calloc(1, sizeof(*m));

	if (!m)
		return;
	m->verb = CM_FAIL;
	m->seq = seq;
	snprintf(m->text, sizeof(m->text), "%s", why);
	pr_err("%s", why);
	send_msg(c, m);
	free(m);
}

static void try_connect(struct run_ctx *c)
{
	struct run_member *rm = c->member;
	struct coord_msg m = { .verb = CM_JOIN };
	char err[256];

	rm->next_try = time(NULL) + 1;
	if (coord_dial(&rm->conn, c->o->coord, c->o->job_name, rm->key,
		       DIAL_TIMEOUT, err, sizeof(err))) {
		if (!rm->said_away++)
			pr_warn("coordinator away (the job runs on): %s", err);
		return;
	}
	snprintf(m.job, sizeof(m.job), "%s", c->o->job_name);
	snprintf(m.member, sizeof(m.member), "%s", c->o->member);
	snprintf(m.host, sizeof(m.host), "%s", rm->host);
	snprintf(m.path, sizeof(m.path), "%s", rm->dir);
	m.num = !c->idle;
	if (send_msg(c, &m) || coord_recv(&rm->conn, &m) ||
	    m.verb != CM_WELCOME) {
		pr_warn("coordinator %s refused member %s: %s", c->o->coord,
			c->o->member, m.verb == CM_ERR ? m.text :
			net_strerror(errno));
		coord_close(&rm->conn);
		return;
	}
	rm->said_away = 0;
	pr_info("member %s of job %s joined %s", c->o->member,
		c->o->job_name, c->o->coord);
}

/* The host's name as the coordinator sees it: a valid coord name. */
static void host_name(char *buf, size_t len)
{
	size_t i;

	if (gethostname(buf, len) || !buf[0])
		snprintf(buf, len, "localhost");
	buf[len - 1] = '\0';
	for (i = 0; buf[i]; i++)
		if (!strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
			    "0123456789._-", buf[i]))
			buf[i] = '_';
}

static int restore_program(char *buf, size_t len)
{
	const char *env = getenv("CKPT_RESTORE");
	ssize_t n;
	char *slash;

	if (env && *env) {
		snprintf(buf, len, "%s", env);
		return 0;
	}
	n = readlink("/proc/self/exe", buf, len - 16);
	if (n < 0) {
		pr_perror("can't find the restore program");
		return -1;
	}
	buf[n] = '\0';
	slash = strrchr(buf, '/');
	strcpy(slash ? slash + 1 : buf, "restore");
	return 0;
}

int run_member_open(struct run_ctx *c)
{
	struct run_member *rm = calloc(1, sizeof(*rm));
	char err[256], dir[PATH_MAX];

	if (!rm)
		return -1;
	rm->conn.fd = -1;
	c->member = rm;
	if (net_load_key(c->o->auth, rm->key, err, sizeof(err))) {
		pr_err("%s", err);
		return -1;
	}
	if (!realpath(c->o->dir, dir)) {
		pr_perror("can't resolve %s", c->o->dir);
		return -1;
	}
	if (strlen(dir) >= sizeof(rm->dir) || strchr(dir, ' ')) {
		pr_err("run directory %s: too long or with a space", dir);
		return -1;
	}
	strcpy(rm->dir, dir);
	if (c->o->host)
		snprintf(rm->host, sizeof(rm->host), "%s", c->o->host);
	else
		host_name(rm->host, sizeof(rm->host));
	if (restore_program(rm->restore, sizeof(rm->restore)))
		return -1;
	if (c->o->keep && !(rm->kept = calloc(c->o->keep,
					      sizeof(*rm->kept)))) {
		pr_err("out of memory for --keep %u", c->o->keep);
		return -1;
	}
	/* a restored tree's root is reparented to us when restore exits */
	if (prctl(PR_SET_CHILD_SUBREAPER, 1)) {
		pr_perror("can't become a child subreaper");
		return -1;
	}
	c->idle = c->o->restore_agent;
	try_connect(c);
	return 0;
}

void run_member_close(struct run_ctx *c)
{
	struct run_member *rm = c->member;

	coord_close(&rm->conn);
	sodium_memzero(rm->key, sizeof(rm->key));
	free(rm->kept);
	free(rm);
	c->member = NULL;
}

int run_member_fd(const struct run_ctx *c)
{
	return c->member->conn.fd;
}

void run_member_tick(struct run_ctx *c)
{
	struct run_member *rm = c->member;

	if (rm->conn.fd < 0 && time(NULL) >= rm->next_try &&
	    (c->status < 0 || c->idle))
		try_connect(c);
}

void run_member_job_ended(struct run_ctx *c)
{
	struct run_member *rm = c->member;
	struct coord_msg m = { .verb = CM_LEAVE };

	if (rm->killed) {
		/* its image is in the manifest: wait for ckpt job restart */
		rm->killed = 0;
		c->idle = 1;
		c->status = -1;
		pr_info("job killed after its checkpoint; waiting for a restart");
		return;
	}
	m.num = c->status & 255;
	send_msg(c, &m);
	coord_close(&rm->conn);
}

/* ---- the two-phase checkpoint ---------------------------------------- */

struct hold {
	struct run_ctx *c;
	unsigned long seq;
	const char *path;
	int held;		/* we told DONE: the coordinator decides */
};

/* The word on checkpoint seq: 0 COMMIT, -1 ABORT or none. */
static int wait_word(struct run_ctx *c, unsigned long seq)
{
	struct run_member *rm = c->member;
	struct coord_msg *m = malloc(sizeof(*m));
	int ret = -1;

	if (!m)
		return -1;
	set_timeout(rm->conn.fd, HOLD_TIMEOUT);
	while (rm->conn.fd >= 0) {
		if (coord_recv(&rm->conn, m)) {
			pr_warn("no word from coordinator %s (%s): thawing",
				c->o->coord, net_strerror(errno));
			coord_close(&rm->conn);
			break;
		}
		if ((m->verb == CM_COMMIT || m->verb == CM_ABORT) &&
		    m->seq == seq) {
			ret = m->verb == CM_COMMIT ? 0 : -1;
			break;
		}
	}
	if (rm->conn.fd >= 0)
		set_timeout(rm->conn.fd, DIAL_TIMEOUT);
	free(m);
	return ret;
}

/* dump_opts.hold: the image is committed, the tree frozen and locked. */
static int hold_frozen(void *arg)
{
	struct hold *h = arg;
	struct coord_msg *m = calloc(1, sizeof(*m));
	int ret = -1;

	if (!m)
		return -1;
	m->verb = CM_DONE;
	m->seq = h->seq;
	snprintf(m->path, sizeof(m->path), "%s", h->path);
	/* an image on a ckpt serve is checked there (sealed frames) */
	if (strncmp(h->path, "tcp://", 6)) {
		if (coord_file_sum(h->path, m->sum))
			goto out;
	} else {
		memset(m->sum, '0', COORD_SUM_HEX);
	}
	if (send_msg(h->c, m))
		goto out;
	h->held = 1;
	ret = wait_word(h->c, h->seq);
out:
	free(m);
	return ret;
}

/* --keep N: image path was committed; the one committed N images ago
 * goes (a local file only: one on a ckpt serve is that server's). */
static void keep_image(struct run_ctx *c, const char *path)
{
	struct run_member *rm = c->member;
	char *slot;

	if (!rm->kept || path[0] != '/')
		return;
	slot = rm->kept[rm->nkept++ % c->o->keep];
	if (slot[0] && strcmp(slot, path) && unlink(slot) && errno != ENOENT)
		pr_warn("can't remove old image %s: %s", slot,
			strerror(errno));
	else if (slot[0])
		pr_info("removed old image %s (--keep %u)", slot, c->o->keep);
	snprintf(slot, COORD_PATH_MAX, "%s", path);
}

static void on_checkpoint(struct run_ctx *c, const struct coord_msg *m)
{
	struct hold h = { .c = c, .seq = m->seq, .path = m->path };
	struct dump_opts o = {
		.pid = c->job, .nr_outputs = 1, .quorum = 1, .tree = 1,
		.kill = m->num != 0, .tcp_established = 1,
		.ext_null = c->o->ext_null, .ghost_limit = c->o->ghost_limit,
		.nr_filters = c->o->nr_filters, .interrupted = &never_interrupted,
		.progress = PROGRESS_OFF, .hold = hold_frozen, .hold_arg = &h,
	};
	char why[256];
	int i;

	if (c->idle || c->job <= 0) {
		send_fail(c, m->seq, "member has no running job");
		return;
	}
	for (i = 0; i < c->o->nr_filters; i++)
		o.filters[i] = c->o->filters[i];
	o.outputs[0] = m->path;
	if (dump_process(&o) == DUMP_OK) {
		c->member->killed = o.kill;
		pr_info("checkpoint %lu committed: %s", m->seq, m->path);
		keep_image(c, m->path);
		return;
	}
	if (!h.held) {
		snprintf(why, sizeof(why), "checkpoint %lu of job %d failed "
			 "on %s", m->seq, c->job, c->member->host);
		send_fail(c, m->seq, why);
	} else {
		/* in no manifest: of no use */
		if (m->path[0] == '/' && unlink(m->path) && errno != ENOENT)
			pr_warn("can't remove image %s: %s", m->path,
				strerror(errno));
		pr_warn("checkpoint %lu aborted; the job runs on", m->seq);
	}
}

/* ---- restart ----------------------------------------------------------- */

static int check_sum(const struct coord_msg *m, char *why, size_t len)
{
	char sum[COORD_SUM_HEX + 1];

	if (!strncmp(m->path, "tcp://", 6))
		return 0;
	if (coord_file_sum(m->path, sum)) {
		snprintf(why, len, "can't read image %s", m->path);
		return -1;
	}
	if (strcmp(sum, m->sum)) {
		snprintf(why, len, "image %s is not the one of the manifest "
			 "(checksum differs)", m->path);
		return -1;
	}
	return 0;
}

/* restore --lock-network IMAGE: hold the connections' peers off. */
static int lock_network(struct run_ctx *c, const char *image, char *why,
			size_t len)
{
	char *argv[] = { "restore", "-q", "--lock-network", "--",
			 (char *)image, NULL };
	int st;
	pid_t pid = fork();

	if (pid < 0) {
		snprintf(why, len, "can't fork: %s", strerror(errno));
		return -1;
	}
	if (pid == 0) {
		sigprocmask(SIG_SETMASK, &c->oldmask, NULL);
		execv(c->member->restore, argv);
		_exit(127);
	}
	while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
		;
	if (WIFEXITED(st) && WEXITSTATUS(st) == 0)
		return 0;
	snprintf(why, len, "restore --lock-network %s failed on %s", image,
		 c->member->host);
	return -1;
}

static void on_lock(struct run_ctx *c, const struct coord_msg *m)
{
	struct coord_msg ok = { .verb = CM_LOCKED, .seq = m->seq };
	char why[COORD_PATH_MAX + 128];

	if (!c->idle) {
		send_fail(c, m->seq, "member's job is running");
		return;
	}
	if (check_sum(m, why, sizeof(why)) ||
	    lock_network(c, m->path, why, sizeof(why))) {
		send_fail(c, m->seq, why);
		return;
	}
	send_msg(c, &ok);
}

static void on_restore(struct run_ctx *c, const struct coord_msg *m)
{
	struct ckpt_restore_opts o = {
		.size = sizeof(o), .image = m->path,
		.restore_program = c->member->restore,
	};
	struct coord_msg ok = { .verb = CM_RESTORED, .seq = m->seq };
	struct ckpt_error err;
	pid_t *pids = NULL;
	size_t n = 0;

	if (!c->idle) {
		send_fail(c, m->seq, "member's job is running");
		return;
	}
	if (ckpt_restore(&o, &pids, &n, &err) != CKPT_OK) {
		send_fail(c, m->seq, err.message);
		return;
	}
	c->job = pids[0];
	free(pids);
	c->idle = 0;
	c->status = -1;
	pr_info("job restored from %s: %d", m->path, c->job);
	send_msg(c, &ok);
}

void run_member_event(struct run_ctx *c)
{
	struct run_member *rm = c->member;
	struct coord_msg *m = malloc(sizeof(*m));

	if (!m)
		return;
	if (coord_recv(&rm->conn, m)) {
		pr_warn("lost coordinator %s (%s); the job runs on",
			c->o->coord, net_strerror(errno));
		coord_close(&rm->conn);
		rm->next_try = time(NULL) + 1;
	} else if (m->verb == CM_CKPT) {
		on_checkpoint(c, m);
	} else if (m->verb == CM_LOCK) {
		on_lock(c, m);
	} else if (m->verb == CM_RESTORE) {
		on_restore(c, m);
	}
	/* COMMIT, ABORT of a checkpoint no longer held: nothing to do */
	free(m);
}
