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
 * The firewall is driven through libnftables (the library behind nft(8))
 * from ckpt itself, in the target's namespace (setns(2) for the call).
 */
#include <sys/socket.h>
#include <sys/stat.h>
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <nftables/libnftables.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "ckpt/dump-priv.h"

#define CMD_PER_CONN	512	/* two rules, with their addresses */

static const uint8_t v4map[12] = { [10] = 0xff, [11] = 0xff };

/* "ip saddr 1.2.3.4 ip daddr ..." of a packet from a to b; v4-mapped
 * addresses of a dual-stack socket as IPv4 */
static void match(char *out, size_t len, const struct img_inet *in,
		  const uint8_t *a, uint32_t ap, const uint8_t *b, uint32_t bp)
{
	char x[INET6_ADDRSTRLEN], y[INET6_ADDRSTRLEN];
	int v4 = in->family == AF_INET, off = 0;

	if (!v4 && !memcmp(a, v4map, 12)) {
		v4 = 1;
		off = 12;
	}
	inet_ntop(v4 ? AF_INET : AF_INET6, a + off, x, sizeof(x));
	inet_ntop(v4 ? AF_INET : AF_INET6, b + off, y, sizeof(y));
	snprintf(out, len, "%s saddr %s %s daddr %s tcp sport %u tcp dport %u",
		 v4 ? "ip" : "ip6", x, v4 ? "ip" : "ip6", y, ap, bp);
}

/* The table, its two chains and a rule each way per connection. */
static char *lock_cmd(const struct dump_tree *t, const char *name)
{
	size_t len = 512, n = 0, used;
	char *cmd, m[256];
	uint32_t i;

	for (i = 0; i < t->nr_files; i++)
		n += t->files[i].peer_outside;
	len += n * CMD_PER_CONN;
	cmd = malloc(len);
	if (!cmd)
		return NULL;
	used = snprintf(cmd, len, "add table inet %s\n"
			"add chain inet %s in { type filter hook input priority -300; policy accept; }\n"
			"add chain inet %s out { type filter hook output priority -300; policy accept; }\n",
			name, name, name);
	for (i = 0; i < t->nr_files && used < len; i++) {
		const struct img_inet *in = &t->files[i].f.inet;

		if (!t->files[i].peer_outside)
			continue;
		match(m, sizeof(m), in, in->peer_addr, in->peer_port,
		      in->addr, in->port);
		used += snprintf(cmd + used, len - used,
				 "add rule inet %s in %s drop\n", name, m);
		match(m, sizeof(m), in, in->addr, in->port, in->peer_addr,
		      in->peer_port);
		used += snprintf(cmd + used, len - used,
				 "add rule inet %s out %s drop\n", name, m);
	}
	return cmd;
}

/* cmd run by libnftables in the network namespace ns; its error in err */
static int nft_in(int ns, const char *cmd, char *err, size_t len)
{
	struct nft_ctx *nft = NULL;
	int self, ret = -1;
	const char *e;

	err[0] = '\0';
	self = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
	if (self < 0 || setns(ns, CLONE_NEWNET)) {
		snprintf(err, len, "can't enter the network namespace: %s",
			 strerror(errno));
		goto out;
	}
	nft = nft_ctx_new(NFT_CTX_DEFAULT);
	if (nft && !nft_ctx_buffer_output(nft) && !nft_ctx_buffer_error(nft))
		ret = nft_run_cmd_from_buffer(nft, cmd) ? -1 : 0;
	e = nft ? nft_ctx_get_error_buffer(nft) : "out of memory";
	/* nft's message is a few lines: the first says it */
	if (ret && e)
		snprintf(err, len, "%.*s", (int)strcspn(e, "\n"), e);
	if (nft)
		nft_ctx_free(nft);
	if (setns(self, CLONE_NEWNET)) {
		pr_perror("can't go back to ckpt's network namespace");
		ret = -1;
	}
out:
	if (self >= 0)
		close(self);
	return ret;
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
	char err[256], *cmd;
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
	cmd = lock_cmd(t, t->netlock);
	if (!cmd || nft_in(t->netlock_ns, cmd, err, sizeof(err))) {
		pr_err("can't lock the network for the TCP connections of %d (nftables table inet %s): %s",
		       t->procs[0].pid, t->netlock,
		       cmd ? err : "out of memory");
		free(cmd);
		/* a half-made table goes too */
		dump_netlock_drop(t);
		return -1;
	}
	free(cmd);
	t->netlock_taken = 1;
	return 0;
}

void dump_netlock_drop(struct dump_tree *t)
{
	char cmd[IMG_MAX_NETLOCK + 32], err[256];

	if (!t->netlock) {
		if (t->netlock_ns > 0)
			close(t->netlock_ns);
		t->netlock_ns = 0;
		return;
	}
	snprintf(cmd, sizeof(cmd), "delete table inet %s", t->netlock);
	if (nft_in(t->netlock_ns, cmd, err, sizeof(err)) && t->netlock_taken)
		pr_err("can't remove the network lock of %d (nftables table inet %s): %s",
		       t->procs[0].pid, t->netlock, err);
	free(t->netlock);
	t->netlock = NULL;
	t->netlock_taken = 0;
	close(t->netlock_ns);
	t->netlock_ns = 0;
}
