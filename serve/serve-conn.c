/*
 * serve-conn: one client of ckpt serve, in a child of its own: the
 * handshake, then one PUT or GET under the image directory (or MIGRATE,
 * a PUT that serve-migrate.c restores).
 *
 * Names are checked against [A-Za-z0-9][A-Za-z0-9._-]*, so they never hold
 * a '/' nor start with '.', and every file is opened relative to the
 * directory with O_NOFOLLOW: a client can reach nothing outside it, and
 * never a temporary (".NAME.tmp.XXXXXX"). A PUT goes to a temporary that
 * is renamed in place only after the zero frame and an fsync, and the
 * directory is synced before the client hears "OK" (util/durable.h); if
 * the client vanishes, a frame fails its integrity check (net.c), or
 * SIGTERM comes, the temporary is unlinked.
 *
 * The deadline: the handshake and the request must be done within the
 * timeout of the connection, and then every frame, in or out, within the
 * timeout of the one before. A client that sends or reads a byte now and
 * then still stalls. An alarm, not socket timeouts (those restart at
 * each byte): SIGALRM removes the temporary, writes the line prepared
 * for it and ends the receiver, whatever it was blocked in.
 */
#include <sys/socket.h>
#include <sys/stat.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "serve/serve-priv.h"
#include "util/durable.h"

#define DRAIN_MAX		(64u << 20)

/* The image of a PUT: for the SIGTERM handler, the temporary to remove. */
static struct durable put_file = { .fd = -1 };

/* The deadline: its length, and the log line of a client cut by it. */
static unsigned int deadline;
static char cut_line[1024];
static size_t cut_len;

/* SIGTERM, SIGINT, or SIGALRM at the deadline; write(2) and unlink(2)
 * are safe in a handler, the log's stdio is not. */
static void on_term(int sig)
{
	ssize_t n = 0;

	durable_unlink_tmp(&put_file);
	serve_migrate_on_term();
	if (sig == SIGALRM && cut_len)
		n = write(STDERR_FILENO, cut_line, cut_len);
	_exit(n < 0 ? 2 : 1);
}

static void catch_term(void)
{
	struct sigaction sa;
	sigset_t set;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_term;
	sigemptyset(&sa.sa_mask);
	sigaddset(&sa.sa_mask, SIGTERM);
	sigaddset(&sa.sa_mask, SIGINT);
	sigaddset(&sa.sa_mask, SIGALRM);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGALRM, &sa, NULL);
	sa.sa_handler = SIG_DFL;
	sigaction(SIGCHLD, &sa, NULL);
	sigemptyset(&set);
	sigprocmask(SIG_SETMASK, &set, NULL);
}

/* What the log says if the deadline cuts the client from now on (fmt
 * NULL: nothing); SIGALRM is held while the line changes. */
static void deadline_says(const char *fmt, ...) __printf(1, 2);
static void deadline_says(const char *fmt, ...)
{
	char msg[sizeof(cut_line)];
	sigset_t set, old;
	va_list ap;

	if (fmt) {
		va_start(ap, fmt);
		vsnprintf(msg, sizeof(msg), fmt, ap);
		va_end(ap);
	}
	sigemptyset(&set);
	sigaddset(&set, SIGALRM);
	sigprocmask(SIG_BLOCK, &set, &old);
	cut_len = fmt ? log_format(cut_line, sizeof(cut_line), LOG_WARN,
				   "%s", msg) : 0;
	sigprocmask(SIG_SETMASK, &old, NULL);
}

/* Progress: the client has another timeout for the next step. */
static void deadline_restart(void)
{
	alarm(deadline);
}

void serve_deadline_restart(void)
{
	deadline_restart();
}

void serve_deadline_says(const char *line)
{
	deadline_says("%s", line);
}

/* The frames of the image into fd until the zero frame; bytes in *total;
 * mig: a migration's restore follows them. */
static int recv_image(struct net_conn *c, int fd, unsigned char *buf,
		      size_t *total, int mig, const char **why)
{
	size_t len;

	*total = 0;
	for (;;) {
		if (net_recv_frame(c, buf, NET_FRAME_MAX, &len)) {
			*why = errno == EPIPE ? "client went away" :
			       net_strerror(errno);
			return -1;
		}
		deadline_restart();
		if (!len)
			return 0;
		if (write_full(fd, buf, len)) {
			*why = strerror(errno);
			return -1;
		}
		if (mig)
			serve_migrate_more();
		*total += len;
	}
}

/*
 * After our "ERR" in the middle of a PUT: closing with the client's data
 * unread would reset the connection, and the client could lose the
 * reason along with it. So we stop sending and read on, up to a bound,
 * until the client (which looks for our message between its frames)
 * closes.
 */
static void drain(int sock, unsigned char *buf)
{
	size_t total = 0;
	ssize_t n;

	if (shutdown(sock, SHUT_WR))
		return;
	while (total < DRAIN_MAX) {
		n = read(sock, buf, NET_FRAME_MAX);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return;
		total += n;
	}
}

/* A migration's restore, on the temporary open anew for reading. */
static int migrate_start(const char *name, int lazy)
{
	char self[64];
	int fd, ret;

	snprintf(self, sizeof(self), "/proc/self/fd/%d", put_file.fd);
	fd = open(self, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		pr_perror("can't open %s again for restore", name);
		return -1;
	}
	ret = serve_migrate_start(fd, name, lazy);
	close(fd);
	return ret;
}

/*
 * ".NAME.tmp.XXXXXX", created O_EXCL, mode 0600, and locked (flock) for
 * as long as this receiver lives: the lock tells a server starting later
 * that it is not stale (serve_sweep). Renamed to NAME, durably, only
 * once the whole image is in. mig (MIGRATE: 1, MIGRATE-LAZY: 2): its
 * restore starts with the temporary and reads it as it comes.
 */
static int do_put(struct net_conn *c, int dirfd, const char *name,
		  const char *peer, int flags, int mig)
{
	unsigned char *buf = malloc(NET_FRAME_MAX);
	const char *why = "out of memory";
	const char *reply = "ERR can't store the image";
	size_t total = 0;

	deadline_says("%s put %s: failed: cut, no frame for %u s", peer, name,
		      deadline);
	deadline_restart();
	if (!buf)
		goto err;
	if (durable_open(&put_file, dirfd, name, DURABLE_HIDDEN |
			 DURABLE_LOCK | flags)) {
		why = strerror(errno);
		goto err;
	}
	if (mig && migrate_start(name, mig == 2)) {
		why = "can't run restore";
		reply = "ERR can't run restore here";
		goto err;
	}
	if (net_send_msg(c, "OK")) {
		why = "client went away";
		goto err;
	}
	if (recv_image(c, put_file.fd, buf, &total, mig, &why)) {
		if (errno == EBADMSG)
			reply = "ERR the image failed its integrity check on "
				"the way (changed in transit?): not stored";
		if (errno == EMSGSIZE)
			reply = "ERR frame longer than 256 KiB: not stored";
		goto err;
	}
	/* the client is done: the fsync may take what it takes */
	alarm(0);
	log_stamp("serve: %s in", name);
	if (durable_commit(&put_file)) {
		why = strerror(errno);
		goto err;
	}
	if (mig)
		serve_migrate_whole();
	free(buf);
	if (net_send_msg(c, "OK")) {
		pr_warn("%s put %s: stored, but the client left before the reply",
			peer, name);
		return -1;
	}
	pr_info("%s put %s: ok, %zu bytes", peer, name, total);
	return 0;
err:
	if (mig)
		serve_migrate_abort();
	durable_abort(&put_file);
	pr_warn("%s put %s: failed: %s", peer, name, why);
	/* the failure is logged: the drain ends silently, in time */
	deadline_says(NULL);
	deadline_restart();
	if (!net_send_msg(c, reply) && buf)
		drain(c->fd, buf);
	free(buf);
	return -1;
}

int serve_open_image(int dirfd, const char *name, struct stat *st,
		     const char **why)
{
	int fd = openat(dirfd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK |
			O_CLOEXEC);

	if (fd >= 0 && !fstat(fd, st) && S_ISREG(st->st_mode))
		return fd;
	*why = fd < 0 ? strerror(errno) : "not a regular file";
	if (fd >= 0)
		close(fd);
	return -1;
}

static int send_file(struct net_conn *c, int fd, unsigned char *buf,
		     size_t *total, const char **why)
{
	ssize_t n;

	*total = 0;
	while ((n = read(fd, buf, NET_FRAME_MAX)) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			*why = strerror(errno);
			return -1;
		}
		if (net_send_frame(c, buf, n)) {
			*why = "client went away";
			return -1;
		}
		deadline_restart();
		*total += n;
	}
	if (net_send_frame(c, NULL, 0)) {
		*why = "client went away";
		return -1;
	}
	return 0;
}

static int do_get(struct net_conn *c, int dirfd, const char *name,
		  const char *peer)
{
	unsigned char *buf = malloc(NET_FRAME_MAX);
	const char *why = "out of memory", *reply = "ERR server error";
	struct stat st;
	size_t total;
	int fd;

	deadline_says("%s get %s: failed: cut, no frame taken for %u s", peer,
		      name, deadline);
	deadline_restart();
	fd = serve_open_image(dirfd, name, &st, &why);
	if (fd < 0) {
		reply = "ERR no such image";
		goto err;
	}
	if (!buf)
		goto err;
	if (net_send_msg(c, "OK")) {
		why = "client went away";
		goto err;
	}
	reply = NULL;
	if (send_file(c, fd, buf, &total, &why))
		goto err;
	pr_info("%s get %s: ok, %zu bytes", peer, name, total);
	close(fd);
	free(buf);
	return 0;
err:
	if (fd >= 0)
		close(fd);
	free(buf);
	pr_warn("%s get %s: failed: %s", peer, name, why);
	if (reply && net_send_msg(c, reply))
		return -1;
	return -1;
}

/* MIGRATE or MIGRATE-LAZY NAME: stored as a PUT, then restored
 * (serve-migrate.c), with serve --restore only. */
static void do_migrate(struct net_conn *c, int dirfd, const char *name,
		       const char *peer, int lazy)
{
	int size = NET_MIGRATE_BUF;

	if (!serve_migrate_enabled()) {
		pr_warn("%s migrate %s: refused: no --restore", peer, name);
		if (net_send_msg(c, "ERR this server does not restore "
				 "migrations (ckpt serve --restore)"))
			return;
		return;
	}
	/* the backlog the source's freeze would wait for (plugins/net.h);
	 * autotuned if not */
	(void)setsockopt(c->fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof(size));
	/* no fsync: the source lives until the restore runs */
	if (do_put(c, dirfd, name, peer, DURABLE_NOSYNC, lazy ? 2 : 1))
		return;
	/* no alarm from here: serve_migrate bounds its waits */
	deadline_says(NULL);
	serve_migrate(c, dirfd, name, peer, deadline);
}

/* "PUT NAME", "GET NAME", "PAGES NAME", "MIGRATE NAME" or
 * "MIGRATE-LAZY NAME" */
static void serve_request(struct net_conn *c, int dirfd, const char *peer)
{
	char req[NET_NAME_MAX + 64], *name;
	int mig;

	if (net_recv_msg(c, req, sizeof(req))) {
		pr_warn("%s: no request: %s", peer, errno == EPIPE ?
			"client went away" : net_strerror(errno));
		return;
	}
	name = strchr(req, ' ');
	if (name)
		*name++ = '\0';
	mig = !strcmp(req, "MIGRATE") ? 1 :
	      !strcmp(req, "MIGRATE-LAZY") ? 2 :
	      !strcmp(req, "PAGES") ? 3 : 0;
	if (!name || (strcmp(req, "PUT") && strcmp(req, "GET") && !mig)) {
		pr_warn("%s: bad request", peer);
		if (net_send_msg(c, "ERR bad request"))
			return;
		return;
	}
	if (!net_name_ok(name)) {
		pr_warn("%s %s: refused: bad image name '%.*s'", peer,
			mig == 3 ? "pages" : mig ? "migrate" :
			req[0] == 'P' ? "put" : "get",
			NET_NAME_MAX, name);
		if (net_send_msg(c, "ERR bad image name (allowed: "
				 "[A-Za-z0-9][A-Za-z0-9._-]*, at most 200 "
				 "characters)"))
			return;
		return;
	}
	if (mig == 3)
		serve_pages(c, dirfd, name, peer);
	else if (mig)
		do_migrate(c, dirfd, name, peer, mig == 2);
	else if (req[0] == 'P' ? do_put(c, dirfd, name, peer, 0, 0) :
		 do_get(c, dirfd, name, peer))
		return;
}

void serve_conn(int fd, int dirfd, const unsigned char key[NET_KEY],
		const char *peer, unsigned int timeout)
{
	struct net_conn c;
	char err[256];

	deadline = timeout;
	deadline_says("%s: refused: no handshake and request within %u s",
		      peer, timeout);
	catch_term();
	deadline_restart();
	if (net_auth_server(&c, fd, key, err, sizeof(err))) {
		pr_warn("%s: refused: %s", peer, err);
		net_conn_free(&c);
		return;
	}
	serve_request(&c, dirfd, peer);
	net_conn_free(&c);
}
