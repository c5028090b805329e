/*
 * The network lock of the tree's TCP connections whose peer is outside
 * it (ckpt attach --tcp-established): an nftables table of its own,
 * `table inet ckpt_<pid>_<time>_<ckpt's pid>', in the network namespace
 * of the processes that hold them, with a rule per connection and way
 * that drops its packets (input and output hooks, before conntrack).
 * While it holds, the peer hears nothing: what it sends is dropped
 * before the socket sees it, so that nothing it sent is acknowledged
 * after the queues were read, and what the socket would send (a window
 * probe, a retransmission, or a FIN or reset should the tree die badly)
 * never reaches it. The peer retransmits into the void and never sees a
 * reset.
 *
 * The lock is taken before any connection enters repair mode and
 * dropped when the dump fails or is interrupted and when the tree runs
 * on (attach without --kill). With --kill it outlives ckpt: its name is
 * in each such connection's FILE record, and restore removes it once
 * the connections are back, or when restore fails.
 *
 * The table is made by image/netlock.c (libnftables, the library behind
 * nft(8)), from ckpt itself, in the target's namespace (setns(2) for the
 * call).
 */
#include <sys/socket.h>
#include <sys/stat.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "ckpt/dump-priv.h"

/* fn(arg, err) in the network namespace ns (setns(2) there and back) */
static int in_netns(int ns, int (*fn)(struct dump_tree *, char *, size_t),
		    struct dump_tree *t, char *err, size_t len)
{
	int self, ret = -1;

	err[0] = '\0';
	self = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
	if (self < 0 || setns(ns, CLONE_NEWNET)) {
		snprintf(err, len, "can't enter the network namespace: %s",
			 strerror(errno));
		goto out;
	}
	ret = fn(t, err, len);
	if (setns(self, CLONE_NEWNET)) {
		pr_perror("can't go back to ckpt's network namespace");
		ret = -1;
	}
out:
	if (self >= 0)
		close(self);
	return ret;
}

/* The table, its two chains and a rule each way per connection. */
static int make_lock(struct dump_tree *t, char *err, size_t len)
{
	struct img_netlock l;
	uint32_t i;

	img_netlock_begin(&l, t->netlock);
	for (i = 0; i < t->nr_files; i++)
		if (t->files[i].peer_outside)
			img_netlock_add(&l, &t->files[i].f);
	return img_netlock_run(&l, err, len);
}

static int remove_lock(struct dump_tree *t, char *err, size_t len)
{
	return img_netlock_remove(t->netlock, err, len);
}

/* The network namespace of the processes holding the connections: one,
 * or the dump is refused. */
static int lock_netns(const struct dump_tree *t)
{
	struct stat a, b;
	char path[64];
	uint32_t i;
	int ns = -1, fd;

	for (i = 0; i < t->nr_files; i++) {
		if (!t->files[i].peer_outside)
			continue;
		snprintf(path, sizeof(path), "/proc/%d/ns/net",
			 t->files[i].pid);
		fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd < 0) {
			pr_perror("can't open %s", path);
			break;
		}
		if (ns < 0) {
			ns = fd;
			continue;
		}
		if (fstat(ns, &a) || fstat(fd, &b) || a.st_ino != b.st_ino) {
			pr_err("can't lock the network of %d: its TCP connections with a peer outside are in several network namespaces",
			       t->files[i].pid);
			close(fd);
			break;
		}
		close(fd);
	}
	if (i == t->nr_files)
		return ns;
	if (ns >= 0)
		close(ns);
	return -1;
}

static int name_lock(struct dump_tree *t)
{
	char name[IMG_MAX_NETLOCK + 1];
	uint32_t i;

	snprintf(name, sizeof(name), IMG_NETLOCK_PREFIX "%d_%lld_%d",
		 t->procs[0].pid, (long long)time(NULL), (int)getpid());
	t->netlock = strdup(name);
	for (i = 0; t->netlock && i < t->nr_files; i++) {
		if (!t->files[i].peer_outside)
			continue;
		t->files[i].f.inet.lock = strdup(name);
		if (!t->files[i].f.inet.lock)
			return -1;
	}
	return t->netlock ? 0 : -1;
}

int dump_netlock_take(struct dump_tree *t)
{
	char err[256];
	uint32_t i;

	for (i = 0; i < t->nr_files && !t->files[i].peer_outside; i++)
		;
	if (i == t->nr_files)
		return 0;
	t->netlock_ns = lock_netns(t);
	if (t->netlock_ns < 0) {
		t->netlock_ns = 0;
		return -1;
	}
	if (name_lock(t)) {
		pr_err("out of memory");
		dump_netlock_drop(t);
		return -1;
	}
	t->netlock_taken = 1;	/* a half-made table goes too */
	if (dump_guard_lock(t)) {	/* dump-guard.c */
		dump_netlock_drop(t);
		return -1;
	}
	if (!in_netns(t->netlock_ns, make_lock, t, err, sizeof(err)))
		return 0;
	pr_err("can't lock the network for the TCP connections of %d (nftables table inet %s): %s",
	       t->procs[0].pid, t->netlock, err);
	dump_netlock_drop(t);
	return -1;
}

void dump_netlock_drop(struct dump_tree *t)
{
	char err[256];

	if (!t->netlock) {
		if (t->netlock_ns > 0)
			close(t->netlock_ns);
		t->netlock_ns = 0;
		return;
	}
	if (t->netlock_taken &&
	    in_netns(t->netlock_ns, remove_lock, t, err, sizeof(err)))
		pr_err("can't remove the network lock of %d (nftables table inet %s): %s",
		       t->procs[0].pid, t->netlock, err);
	free(t->netlock);
	t->netlock = NULL;
	t->netlock_taken = 0;
	close(t->netlock_ns);
	t->netlock_ns = 0;
	dump_guard_end(t);
}

void dump_netlock_keep(struct dump_tree *t)
{
	dump_guard_end(t);
	free(t->netlock);
	t->netlock = NULL;
	t->netlock_taken = 0;
	if (t->netlock_ns > 0)
		close(t->netlock_ns);
	t->netlock_ns = 0;
}
