/*
 * serve: ckpt serve's listening loop. It loads the key, opens the image
 * directory and the listening socket, sets the limits every receiver
 * inherits, installs the seccomp filter, then forks one child per
 * connection (serve-conn.c) and reaps them.
 *
 * At most max_clients children at once: while that many run, the
 * listening socket is not polled, so new connections wait in the kernel's
 * backlog (accepted in turn as children end) instead of being refused
 * before the handshake, where no readable error can reach them. Each
 * child cuts a client that stalls (serve-conn.c), so a slot is never held
 * for long by a client that sends nothing.
 *
 * SIGTERM, SIGINT and SIGCHLD stay blocked except inside ppoll(), so a
 * signal is never lost between the check of the flags and the wait. On
 * SIGTERM the children get SIGTERM too (each removes its temporary) and
 * are waited for before we return.
 */
#include <sys/file.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "serve/serve-priv.h"
#include "serve/serve.h"

/*
 * What each process of the server may hold, set once before the first
 * fork (no setrlimit under the seccomp filter). A receiver needs its
 * socket, the directory, its temporary or the file it sends, stdio; its
 * memory is two frame buffers (NET_FRAME_MAX each) over what the parent
 * had. The bounds leave room, and stop a receiver that a bug or a
 * hostile client drove astray long before it hurts the host.
 */
#define SERVE_FDS	32
#define SERVE_DATA	(32ul << 20)	/* RLIMIT_DATA, bytes */

struct server {
	int lfd, dirfd;
	unsigned char key[NET_KEY];
	pid_t *kids;
	unsigned int nr_kids, max_kids, timeout;
	int full;		/* said so in the log */
};

static volatile sig_atomic_t got_chld;

static void on_chld(int sig)
{
	(void)sig;
	got_chld = 1;
}

/* "HOST:PORT" or "[v6]:PORT" */
static int split_listen(const char *spec, char *host, char *port)
{
	const char *colon = strrchr(spec, ':'), *h = spec, *he = colon;

	if (!colon || strlen(colon + 1) < 1 || strlen(colon + 1) > 31)
		return -1;
	if (*h == '[') {
		h++;
		if (colon[-1] != ']')
			return -1;
		he = colon - 1;
	}
	if (he <= h || he - h > 255)
		return -1;
	memcpy(host, h, he - h);
	host[he - h] = '\0';
	strcpy(port, colon + 1);
	return 0;
}

static int listen_on(const char *host, const char *port)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM,
				  .ai_flags = AI_PASSIVE }, *res, *ai;
	int fd = -1, one = 1, err, saved = 0;

	err = getaddrinfo(host, port, &hints, &res);
	if (err) {
		pr_err("can't listen on %s:%s: %s", host, port,
		       gai_strerror(err));
		return -1;
	}
	for (ai = res; ai && fd < 0; ai = ai->ai_next) {
		fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC,
			    ai->ai_protocol);
		if (fd < 0) {
			saved = errno;
			continue;
		}
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
		/* connections past --max-clients wait here */
		if (bind(fd, ai->ai_addr, ai->ai_addrlen) ||
		    listen(fd, SOMAXCONN)) {
			saved = errno;
			close(fd);
			fd = -1;
		}
	}
	freeaddrinfo(res);
	if (fd < 0)
		pr_err("can't listen on %s:%s: %s", host, port,
		       strerror(saved));
	return fd;
}

static void catch_signals(sigset_t *old)
{
	struct sigaction sa;
	sigset_t set;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_chld;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGCHLD, &sa, NULL);
	sa.sa_handler = SIG_IGN;
	sigaction(SIGPIPE, &sa, NULL);
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGCHLD);
	sigprocmask(SIG_BLOCK, &set, old);
	sigdelset(old, SIGTERM);
	sigdelset(old, SIGINT);
	sigdelset(old, SIGCHLD);
}

/* A receiver ended: forget it; one that crashed is logged, served on. */
static void forget(struct server *sv, pid_t pid, int status)
{
	unsigned int i;

	if (WIFSIGNALED(status) && WTERMSIG(status) != SIGTERM)
		pr_warn("receiver %d killed by signal %d", (int)pid,
			WTERMSIG(status));
	for (i = 0; i < sv->nr_kids; i++)
		if (sv->kids[i] == pid) {
			sv->kids[i] = sv->kids[--sv->nr_kids];
			break;
		}
}

static void reap(struct server *sv)
{
	pid_t pid;
	int status;

	while ((pid = waitpid(-1, &status, WNOHANG)) > 0)
		forget(sv, pid, status);
}

static void peer_name(const struct sockaddr_storage *sa, socklen_t len,
		      char *buf, size_t size)
{
	char host[NI_MAXHOST], serv[NI_MAXSERV];

	if (getnameinfo((const struct sockaddr *)sa, len, host, sizeof(host),
			serv, sizeof(serv), NI_NUMERICHOST | NI_NUMERICSERV))
		snprintf(buf, size, "?");
	else if (sa->ss_family == AF_INET6)
		snprintf(buf, size, "[%s]:%s", host, serv);
	else
		snprintf(buf, size, "%s:%s", host, serv);
}

static void spawn(struct server *sv, int fd, const char *peer)
{
	pid_t pid;

	pid = fork();
	if (pid < 0) {
		pr_perror("%s: refused: can't fork", peer);
		return;
	}
	if (pid == 0) {
		close(sv->lfd);
		serve_conn(fd, sv->dirfd, sv->key, peer, sv->timeout);
		_exit(0);
	}
	sv->kids[sv->nr_kids++] = pid;
}

static void accept_one(struct server *sv)
{
	struct sockaddr_storage sa;
	socklen_t len = sizeof(sa);
	char peer[NI_MAXHOST + NI_MAXSERV + 4];
	int fd;

	fd = accept4(sv->lfd, (struct sockaddr *)&sa, &len, SOCK_CLOEXEC);
	if (fd < 0) {
		if (errno != EINTR && errno != ECONNABORTED)
			pr_perror("accept");
		return;
	}
	peer_name(&sa, len, peer, sizeof(peer));
	spawn(sv, fd, peer);
	close(fd);
}

/* The listening socket while a slot is free; else -1, which ppoll skips
 * (a child ending wakes us with SIGCHLD). */
static int listen_fd(struct server *sv)
{
	int full = sv->nr_kids >= sv->max_kids;

	if (full && !sv->full)
		pr_info("%u clients being served: new connections wait",
			sv->nr_kids);
	sv->full = full;
	return full ? -1 : sv->lfd;
}

static void serve_loop(struct server *sv, const struct serve_opts *o,
		       const sigset_t *waitmask)
{
	struct pollfd pfd = { .events = POLLIN };
	unsigned int i;
	int status;

	while (!*o->stop) {
		if (got_chld) {
			got_chld = 0;
			reap(sv);
		}
		pfd.fd = listen_fd(sv);
		if (ppoll(&pfd, 1, NULL, waitmask) > 0 && pfd.fd >= 0)
			accept_one(sv);
	}
	for (i = 0; i < sv->nr_kids; i++)
		kill(sv->kids[i], SIGTERM);
	while (sv->nr_kids) {
		pid_t pid = waitpid(-1, &status, 0);

		if (pid < 0 && errno != EINTR)
			break;
		if (pid > 0)
			forget(sv, pid, status);
	}
}

/* A receiver's temporary: ".NAME.tmp.XXXXXX" (serve-conn.c). */
static int is_tmp_name(const char *n)
{
	size_t len = strlen(n);

	return n[0] == '.' && len > 12 && !memcmp(n + len - 11, ".tmp.", 5);
}

/*
 * Remove the temporaries that receivers killed by SIGKILL (or a crash)
 * left in the directory. A live receiver holds a lock on its own, maybe a
 * receiver of another server on the same directory: those are kept.
 */
static void serve_sweep(int dirfd, const char *dir)
{
	struct dirent *de;
	DIR *d;
	int fd, dfd = dup(dirfd);

	d = dfd >= 0 ? fdopendir(dfd) : NULL;
	if (!d) {
		if (dfd >= 0)
			close(dfd);
		return;
	}
	while ((de = readdir(d))) {
		if (de->d_type != DT_REG || !is_tmp_name(de->d_name))
			continue;
		fd = openat(dirfd, de->d_name, O_RDONLY | O_NOFOLLOW |
			    O_CLOEXEC);
		if (fd < 0)
			continue;
		if (!flock(fd, LOCK_EX | LOCK_NB) &&
		    !unlinkat(dirfd, de->d_name, 0))
			pr_warn("removed %s/%s, left by a receiver that died",
				dir, de->d_name);
		close(fd);
	}
	closedir(d);
}

/* Never raise a limit the caller set lower. */
static void lower_limit(int resource, rlim_t want)
{
	struct rlimit rl;

	if (getrlimit(resource, &rl))
		return;
	if (rl.rlim_cur > want)
		rl.rlim_cur = want;
	if (rl.rlim_max > want)
		rl.rlim_max = want;
	if (setrlimit(resource, &rl))
		pr_perror("can't limit the receivers (resource %d)", resource);
}

static enum serve_result serve_setup(struct server *sv,
				     const struct serve_opts *o)
{
	char host[256], port[32], err[256];
	struct stat st;

	sv->max_kids = o->max_clients ? o->max_clients : SERVE_MAX_CLIENTS;
	sv->timeout = o->client_timeout ? o->client_timeout :
		      SERVE_CLIENT_TIMEOUT;
	sv->kids = calloc(sv->max_kids, sizeof(*sv->kids));
	if (!sv->kids) {
		pr_err("out of memory");
		return SERVE_EFAILED;
	}

	if (split_listen(o->listen, host, port)) {
		pr_err("bad --listen %s: expected HOST:PORT", o->listen);
		return SERVE_EUSAGE;
	}
	if (net_load_key(o->keyfile, sv->key, err, sizeof(err))) {
		pr_err("%s", err);
		return SERVE_EKEY;
	}
	sv->dirfd = open(o->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (sv->dirfd < 0) {
		pr_perror("can't open directory %s", o->dir);
		return SERVE_EDIR;
	}
	/* others could replace or plant the images that restore runs */
	if (fstat(sv->dirfd, &st) || (st.st_mode & (S_IWGRP | S_IWOTH))) {
		pr_err("directory %s is writable by others (mode %03o): refused",
		       o->dir, (unsigned int)(st.st_mode & 0777));
		return SERVE_EDIR;
	}
	serve_sweep(sv->dirfd, o->dir);
	sv->lfd = listen_on(host, port);
	if (sv->lfd < 0)
		return SERVE_ELISTEN;
	if (o->restore) {
		serve_migrate_enable(o->dir);
		return SERVE_OK;
	}
	lower_limit(RLIMIT_NOFILE, SERVE_FDS);
	lower_limit(RLIMIT_DATA, SERVE_DATA);
	return SERVE_OK;
}

enum serve_result serve_run(const struct serve_opts *o)
{
	struct server sv = { .lfd = -1, .dirfd = -1 };
	enum serve_result ret;
	sigset_t waitmask;

	catch_signals(&waitmask);
	ret = serve_setup(&sv, o);
	if (ret)
		goto out;
	if (!o->no_seccomp && !o->restore && serve_seccomp()) {
		ret = SERVE_EFAILED;
		goto out;
	}
	pr_info("serving %s on %s (at most %u clients at once, cut after "
		"%u s without progress%s)", o->dir, o->listen, sv.max_kids,
		sv.timeout, o->restore ? "; migrations restored here" : "");
	serve_loop(&sv, o, &waitmask);
	pr_info("stopped");
out:
	sodium_memzero(sv.key, sizeof(sv.key));
	if (sv.lfd >= 0)
		close(sv.lfd);
	if (sv.dirfd >= 0)
		close(sv.dirfd);
	free(sv.kids);
	return ret;
}
