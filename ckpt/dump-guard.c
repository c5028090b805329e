/*
 * The dump's guardian: what a killed ckpt would leave behind on a tree
 * that runs on (TCP connections in repair mode, the network lock) is
 * undone by a small process of its own.
 *
 * dump-inet-queues.c puts every TCP connection of the tree in repair mode
 * (TCP_REPAIR) while their queues are read: a connection left so is dead
 * to its program, which reads EPERM and whose data no longer goes out.
 * With --tcp-established an nftables table (dump-netlock.c) drops the
 * packets of the connections whose peer is outside: left behind, it
 * would cut them off for good. A ckpt killed outright (SIGKILL, the OOM
 * killer) runs no cleanup, so before the lock is taken and the first
 * connection enters repair mode ckpt forks a guardian (an intermediate
 * process forks it and exits: it is no child that the tree or ckpt's
 * waits see) and hands it through a socket pair (SCM_RIGHTS) a duplicate
 * of every connection, with whether it had SO_REUSEADDR (leaving repair
 * mode clears it), then the lock's name and network namespace before the
 * table is made. ckpt says "free" once every connection is out of repair
 * mode again (the guardian closes its duplicates, which must not keep a
 * connection the tree closes open), and "done" once the lock is removed,
 * or kept for restore because the tree dies with ckpt from then on.
 * End of file before that means ckpt died: the guardian takes each
 * connection it still holds out of repair mode (without the window
 * probe, as ckpt does), sets SO_REUSEADDR back, removes the lock's table
 * (no error if it is gone already), and exits. Messages in flight hold
 * their descriptors: those sent before ckpt died still arrive.
 *
 * The kernel lets the tree go the moment ckpt is gone, and the guardian
 * runs a moment later: a call on a connection in that moment would see
 * repair mode (send(2) fails with EINVAL, recv(2) with EPERM). So before
 * the first connection enters repair mode every thread of every process
 * of the tree is parked (dump_guard_park, inject/park.c): it waits in
 * the kernel, signals blocked, on a shared page of ours, whose key (a
 * descriptor of the page) the guardian is given before any thread waits
 * on it. Released by the kernel, the threads wait on. The guardian, once
 * it has let the connections out (and before it removes the lock, which
 * only holds packets back), wakes them (GUARD_PARK keys, drop_keys); each
 * unmaps the page and returns to where it was frozen. A living ckpt
 * stops them again itself once the connections are out and only then
 * says "free", which drops the keys. A process that can't be parked (no
 * code of its own to borrow for it, told with -v) runs on as before.
 *
 * What remains: a guardian killed too (it is in a session of its own,
 * so only a kill of ckpt's cgroup or one aimed at it) leaves the tree's
 * threads waiting, as it left the connections in repair mode before.
 */
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/futex.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ckpt/dump-priv.h"

enum {
	GUARD_CONN = 1,		/* a connection (its fd), to let out */
	GUARD_DONE = 2,		/* nothing more to do: exit */
	GUARD_LOCK = 3,		/* the lock (its netns fd), to remove */
	GUARD_FREE = 4,		/* the connections are out: close them */
	GUARD_RELEASE = 5,	/* let the connections out now, close them */
	GUARD_PARK = 6,		/* the key to a process's parked threads */
};

struct guard_msg {
	uint32_t kind;
	uint32_t reuseaddr;	/* GUARD_CONN: SO_REUSEADDR to set back */
	char lock[IMG_MAX_NETLOCK + 1];	/* GUARD_LOCK: the table's name */
};

struct held {
	int fd, reuseaddr;
};

/* The keys to parked threads (inject_park_prepare), woken or dropped. */
struct keys {
	int *fd;
	size_t n;
};

/* Out of repair mode (release) or not, the connections are forgotten. */
static void forget(struct held *h, size_t *n, int release)
{
	int off = TCP_REPAIR_OFF_NO_WP, one = 1;
	size_t i;

	for (i = 0; i < *n; i++) {
		if (release) {
			setsockopt(h[i].fd, IPPROTO_TCP, TCP_REPAIR, &off,
				   sizeof(off));
			if (h[i].reuseaddr)
				setsockopt(h[i].fd, SOL_SOCKET, SO_REUSEADDR,
					   &one, sizeof(one));
		}
		close(h[i].fd);
	}
	*n = 0;
}

static void keep_key(struct keys *k, int fd)
{
	int *nk = realloc(k->fd, (k->n + 1) * sizeof(*nk));

	if (!nk) {
		close(fd);	/* the threads wait on: nothing better to do */
		return;
	}
	k->fd = nk;
	k->fd[k->n++] = fd;
}

/* Each key's threads let go (wake) or left to ckpt; the keys closed. */
static void drop_keys(struct keys *k, int wake)
{
	long page = sysconf(_SC_PAGESIZE);
	size_t i;
	int *w;

	for (i = 0; i < k->n; i++) {
		w = wake ? mmap(NULL, page, PROT_READ | PROT_WRITE, MAP_SHARED,
				k->fd[i], 0) : MAP_FAILED;
		if (w != MAP_FAILED) {
			__atomic_store_n(w, 1, __ATOMIC_SEQ_CST);
			syscall(SYS_futex, w, FUTEX_WAKE, INT_MAX, NULL, NULL,
				0);
			munmap(w, page);
		}
		close(k->fd[i]);
	}
	k->n = 0;
}

/* The lock's table goes, in its namespace (no word if it is gone). */
static void unlock(int ns, const char *name)
{
	char err[256];

	if (ns >= 0 && name[0] && !setns(ns, CLONE_NEWNET) &&
	    img_netlock_remove(name, err, sizeof(err)))
		return;		/* gone already, or nothing more to try */
}

/* One message: its kind, and in *fd the descriptor it carries or -1. */
static int receive(int sk, struct guard_msg *m, int *fd)
{
	char cbuf[CMSG_SPACE(sizeof(int))];
	struct iovec iov = { m, sizeof(*m) };
	struct msghdr mh = {
		.msg_iov = &iov, .msg_iovlen = 1,
		.msg_control = cbuf, .msg_controllen = sizeof(cbuf),
	};
	struct cmsghdr *c;
	ssize_t n;

	*fd = -1;
	do
		n = recvmsg(sk, &mh, MSG_CMSG_CLOEXEC);
	while (n < 0 && errno == EINTR);
	if (n != sizeof(*m))
		return -1;	/* end of file: ckpt is gone */
	c = CMSG_FIRSTHDR(&mh);
	if (c && c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS &&
	    c->cmsg_len == CMSG_LEN(sizeof(int)))
		memcpy(fd, CMSG_DATA(c), sizeof(int));
	return 0;
}

static void __attribute__((noreturn)) guardian(int sk)
{
	struct held *h = NULL, *nh;
	struct keys keys = { NULL, 0 };
	struct guard_msg m;
	char lock[IMG_MAX_NETLOCK + 1] = "";
	size_t n = 0;
	int fd, ns = -1;

	while (!receive(sk, &m, &fd)) {
		if (m.kind == GUARD_DONE)
			_exit(0);
		if (m.kind == GUARD_FREE || m.kind == GUARD_RELEASE)
			forget(h, &n, m.kind == GUARD_RELEASE);
		/* ckpt let its threads go itself */
		if (m.kind == GUARD_FREE)
			drop_keys(&keys, 0);
		if (m.kind == GUARD_PARK && fd >= 0) {
			keep_key(&keys, fd);
			continue;
		}
		if (m.kind == GUARD_LOCK && fd >= 0) {
			if (ns >= 0)
				close(ns);
			ns = fd;
			memcpy(lock, m.lock, sizeof(lock));
			lock[sizeof(lock) - 1] = '\0';
			continue;
		}
		if (m.kind != GUARD_CONN || fd < 0) {
			if (fd >= 0)
				close(fd);
			continue;
		}
		nh = realloc(h, (n + 1) * sizeof(*h));
		if (!nh) {
			close(fd);
			continue;
		}
		h = nh;
		h[n].fd = fd;
		h[n++].reuseaddr = m.reuseaddr;
	}
	forget(h, &n, 1);
	drop_keys(&keys, 1);	/* once their connections are out */
	unlock(ns, lock);
	_exit(0);
}

/* The guardian, forked through an intermediate process that exits, with
 * nothing of ckpt's but stderr and its end of the pair (at fd 3). */
static int fork_guardian(int sk, void (*body)(int sk))
{
	pid_t mid;
	int st;

	fflush(NULL);
	mid = fork();
	if (mid < 0)
		return -1;
	if (!mid) {
		if (fork())
			_exit(0);
		/* out of ckpt's process group: a kill of the group (a shell
		 * job's, timeout(1)'s) must leave us to clean up */
		setsid();
		if (dup2(sk, 3) < 0)
			_exit(1);
		close_range(4, ~0u, 0);
		fcntl(3, F_SETFD, FD_CLOEXEC);
		st = open("/dev/null", O_RDWR);
		if (st >= 0 && (dup2(st, 0) < 0 || dup2(st, 1) < 0))
			_exit(1);
		if (st > 3)
			close(st);
		/* a signal that kills the terminal's job must leave us to
		 * clean up */
		signal(SIGINT, SIG_IGN);
		signal(SIGQUIT, SIG_IGN);
		signal(SIGHUP, SIG_IGN);
		signal(SIGTERM, SIG_IGN);
		signal(SIGTSTP, SIG_IGN);
		signal(SIGPIPE, SIG_IGN);
		body(3);
		_exit(0);
	}
	while (waitpid(mid, &st, 0) < 0)
		if (errno != EINTR)
			return -1;
	return WIFEXITED(st) && !WEXITSTATUS(st) ? 0 : -1;
}

/* One message, with fd (when not -1) as its descriptor. */
static int send_msg(int sk, const struct guard_msg *m, int fd)
{
	char cbuf[CMSG_SPACE(sizeof(int))];
	struct iovec iov = { (void *)m, sizeof(*m) };
	struct msghdr mh = {
		.msg_iov = &iov, .msg_iovlen = 1,
		.msg_control = cbuf, .msg_controllen = sizeof(cbuf),
	};
	struct cmsghdr *c = CMSG_FIRSTHDR(&mh);

	memset(cbuf, 0, sizeof(cbuf));
	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = SCM_RIGHTS;
	c->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(c), &fd, sizeof(int));
	if (fd < 0) {
		mh.msg_control = NULL;
		mh.msg_controllen = 0;
	}
	return sendmsg(sk, &mh, MSG_NOSIGNAL) == sizeof(*m) ? 0 : -1;
}

static int send_conn(int sk, int fd, int reuseaddr)
{
	struct guard_msg m = { .kind = GUARD_CONN,
			       .reuseaddr = reuseaddr ? 1 : 0 };

	return send_msg(sk, &m, fd);
}

/* Hand every TCP connection of the tree to the guardian. */
static int send_conns(const struct dump_tree *t, int sk)
{
	uint32_t i;
	int fd, ret = 0;

	for (i = 0; !ret && i < t->nr_files; i++) {
		const struct dump_file *df = &t->files[i];

		if (!img_tcp_connection(&df->f))
			continue;
		fd = dump_grab_fd(df);
		ret = fd < 0 || send_conn(sk, fd, df->f.inet.opt_mask &
					  (1u << IMG_SO_REUSEADDR)) ? -1 : 0;
		if (fd >= 0)
			close(fd);
		if (ret)
			pr_perror("can't hand socket:[%llu] (fd %d of %d) to the dump's guardian",
				  (unsigned long long)df->f.ino, df->fd,
				  df->pid);
	}
	return ret;
}

static int has_conns(const struct dump_tree *t)
{
	uint32_t i;

	for (i = 0; i < t->nr_files; i++)
		if (img_tcp_connection(&t->files[i].f))
			return 1;
	return 0;
}

int dump_guard_fork(void (*body)(int sk), const char *what)
{
	int sv[2];

	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv)) {
		pr_perror("can't make %s", what);
		return -1;
	}
	if (fork_guardian(sv[1], body)) {
		pr_perror("can't fork %s", what);
		close(sv[0]);
		close(sv[1]);
		return -1;
	}
	close(sv[1]);
	return sv[0];
}

int dump_guard_start(struct dump_tree *t)
{
	int sk;

	t->guard = -1;
	if (!has_conns(t))
		return 0;
	sk = dump_guard_fork(guardian, "the dump's guardian");
	if (sk < 0)
		return -1;
	if (send_conns(t, sk)) {
		close(sk);	/* it lets out what it got: none is in */
		return -1;
	}
	t->guard = sk;
	return 0;
}

int dump_guard_lock(const struct dump_tree *t)
{
	struct guard_msg m = { .kind = GUARD_LOCK };

	if (t->guard < 0 || strlen(t->netlock) >= sizeof(m.lock)) {
		pr_err("can't hand the network lock of %d to the dump's guardian",
		       t->procs[0].pid);
		return -1;
	}
	strcpy(m.lock, t->netlock);
	if (send_msg(t->guard, &m, t->netlock_ns)) {
		pr_perror("can't hand the network lock of %d to the dump's guardian",
			  t->procs[0].pid);
		return -1;
	}
	return 0;
}

/* One word to the guardian, which is told when it is not heard. */
static void tell(struct dump_tree *t, uint32_t kind)
{
	struct guard_msg m = { .kind = kind };

	if (t->guard >= 0 && send_msg(t->guard, &m, -1))
		pr_warn("can't tell the dump's guardian: %s", strerror(errno));
}

/*
 * Every thread of the tree parked (inject/park.c) before the first
 * connection enters repair mode, its key with the guardian first: if we
 * die, no thread runs until the guardian has let the connections out. A
 * process that can't be parked runs on as before (told with -v).
 */
void dump_guard_park(struct dump_tree *t)
{
	struct guard_msg m = { .kind = GUARD_PARK };
	struct inject_proc *ip;
	int i, key;

	for (i = 0; t->guard >= 0 && i < t->n; i++) {
		ip = t->procs[i].ip;
		if (!ip)	/* a zombie: nothing runs */
			continue;
		if (inject_park_prepare(ip, &key)) {
			pr_debug("can't park the threads of %d: %s",
				 t->procs[i].pid, strerror(errno));
			continue;
		}
		if (send_msg(t->guard, &m, key) || inject_park_threads(ip)) {
			pr_debug("can't park the threads of %d: %s",
				 t->procs[i].pid, strerror(errno));
			if (inject_unpark_threads(ip))
				pr_warn("can't stop the threads of %d again",
					t->procs[i].pid);
		}
		close(key);
	}
}

/* Once the connections are out (or the guardian is to let them out),
 * the threads are stopped again, and only then the keys dropped. */
void dump_guard_conns_out(struct dump_tree *t, int out)
{
	int i;

	if (!out)
		tell(t, GUARD_RELEASE);
	for (i = 0; t->guard >= 0 && i < t->n; i++)
		if (t->procs[i].ip && inject_unpark_threads(t->procs[i].ip))
			pr_warn("can't stop the threads of %d again",
				t->procs[i].pid);
	tell(t, GUARD_FREE);
}

void dump_guard_end(struct dump_tree *t)
{
	if (t->guard < 0)
		return;
	tell(t, GUARD_DONE);
	close(t->guard);
	t->guard = -1;
}
