/*
 * The connections waiting in a TCP listener's accept queue: established
 * already (the kernel finished their handshake), but no fd of the tree
 * names them yet. They can be read only as sockets of their own: ckpt
 * accepts them, in queue order, from its copy of the listener (the
 * listener itself: accept(2) takes them from the tree). Each becomes a
 * file of the image with no fd, naming its listener (img_inet.listener),
 * and is read like every other connection (dump-inet-queues.c): what
 * its peer sent that the program has not read, its sequence numbers,
 * options and window; its peer is in the tree or, with
 * --tcp-established, outside it behind the network lock. Restore puts
 * them back in the listener's queue, in order (restore/inet-accept.c),
 * so that the program's next accept() returns them.
 *
 * Taking them is for good: only with --kill, which ends the tree they
 * were taken from, and only where restore can put them back: Linux 6.9
 * and later (the kfunc bpf_sk_assign_tcp_reqsk, which this kernel's BTF
 * names). So that a refused dump leaves them in place, they are found
 * first without taking them, from /proc/PID/net/tcp (sockets of the
 * listener's port with no file), which gives their addresses for the
 * other end in the tree to find and for the network lock; they are
 * accepted only when the queues are read, once nothing can refuse the
 * dump any more. A dump that fails after that (an I/O error) loses
 * them: they are closed in repair mode, without a word to their peers.
 *
 * A connection still being set up (SYN_RECV: a request socket, which has
 * no fd and whose initial sequence numbers nothing exposes) is waited
 * for 2 s, as its handshake ends in the kernel whatever the tree does;
 * one that does not end is refused, naming the listener. So is one
 * whose peer closed it already (CLOSE_WAIT in the queue).
 */
#include <sys/socket.h>
#include <sys/stat.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ckpt/dump-priv.h"

#define KFUNC		"bpf_sk_assign_tcp_reqsk"
#define SYN_RECV_WAIT	200	/* passes, 10 ms apart */
#define K_ESTABLISHED	1	/* /proc/net/tcp's st */
#define K_SYN_RECV	3
#define K_CLOSE_WAIT	8

uint32_t dump_inet_pending(int sk)
{
	struct tcp_info ti;
	socklen_t l = sizeof(ti);

	memset(&ti, 0, sizeof(ti));
	if (getsockopt(sk, IPPROTO_TCP, TCP_INFO, &ti, &l))
		return 0;
	return ti.tcpi_unacked;	/* a listener's: its accept queue */
}

static void close_quietly(int c)
{
	int on = TCP_REPAIR_ON;

	if (setsockopt(c, IPPROTO_TCP, TCP_REPAIR, &on, sizeof(on)))
		pr_perror("can't close a connection not yet accepted quietly");
	close(c);
}

void dump_inet_accept_close(struct dump_file *df)
{
	if (!df->own)
		return;
	close_quietly(df->own - 1);
	df->own = 0;
}

/* Does the kernel's BTF name the kfunc? Its name is in the string
 * section of /sys/kernel/btf/vmlinux, NUL on both sides. */
int dump_inet_accept_works(void)
{
	static const char name[] = "\0" KFUNC;
	char buf[65536 + sizeof(name)];
	size_t keep = 0;
	ssize_t n;
	int fd = open("/sys/kernel/btf/vmlinux", O_RDONLY | O_CLOEXEC);
	int found = 0;

	if (fd < 0)
		return 0;
	while (!found && (n = read(fd, buf + keep, 65536)) > 0) {
		n += keep;
		found = memmem(buf, n, name, sizeof(name)) != NULL;
		keep = (size_t)n < sizeof(name) ? (size_t)n : sizeof(name);
		memmove(buf, buf + n - keep, keep);
	}
	close(fd);
	return found;
}

/* ---- /proc/PID/net/tcp: what the queues hold ---------------------------- */

/* One line of /proc/PID/net/tcp or tcp6. */
struct proc_sock {
	uint8_t local[16], remote[16];
	unsigned int lport, rport, st;
	unsigned long ino;
};

/* Addresses as the kernel prints them: 32-bit words in host order. */
static int hex_addr(const char *h, uint8_t *out, size_t len)
{
	char w[9];
	uint32_t v;
	size_t i;

	if (strlen(h) != len * 2)
		return -1;
	for (i = 0; i < len; i += 4) {
		memcpy(w, h + i * 2, 8);
		w[8] = 0;
		v = (uint32_t)strtoul(w, NULL, 16);
		memcpy(out + i, &v, 4);
	}
	return 0;
}

static int parse_line(const char *line, struct proc_sock *ps, size_t alen)
{
	char l[64], r[64];

	memset(ps, 0, sizeof(*ps));
	if (sscanf(line, " %*u: %63[0-9A-Fa-f]:%x %63[0-9A-Fa-f]:%x %x %*s %*s %*s %*s %*s %lu",
		   l, &ps->lport, r, &ps->rport, &ps->st, &ps->ino) != 6)
		return -1;
	return hex_addr(l, ps->local, alen) || hex_addr(r, ps->remote, alen);
}

/* Is ps one of listener l's sockets with no file, in state st? */
static int of_listener(const struct proc_sock *ps, const struct img_inet *l,
		       unsigned int st)
{
	static const uint8_t any[16];
	size_t alen = l->family == AF_INET ? 4 : 16;

	return ps->st == st && !ps->ino && ps->lport == l->port &&
	       (!memcmp(l->addr, any, alen) ||
		!memcmp(l->addr, ps->local, alen));
}

/* For each socket of listener df with no file in state st: add(t, li,
 * ps) if add is set; how many there are. */
static int scan(struct dump_tree *t, uint32_t li, unsigned int st,
		int (*add)(struct dump_tree *, uint32_t,
			   const struct proc_sock *))
{
	const struct dump_file *df = &t->files[li];
	int v6 = df->f.inet.family == AF_INET6, n = 0;
	char path[64], line[512];
	struct proc_sock ps;
	FILE *fp;

	snprintf(path, sizeof(path), "/proc/%d/net/%s", df->pid,
		 v6 ? "tcp6" : "tcp");
	fp = fopen(path, "re");
	if (!fp)
		return -1;
	while (fgets(line, sizeof(line), fp)) {
		if (parse_line(line, &ps, v6 ? 16 : 4) ||
		    !of_listener(&ps, &t->files[li].f.inet, st))
			continue;
		if (add && add(t, li, &ps)) {
			n = -1;
			break;
		}
		n++;
	}
	fclose(fp);
	return n;
}

/* Connections still being set up, waited for a while. */
static int wait_syn_recv(struct dump_tree *t, uint32_t li)
{
	int i, n = scan(t, li, K_SYN_RECV, NULL);

	for (i = 0; n > 0 && i < SYN_RECV_WAIT; i++) {
		usleep(10000);
		n = scan(t, li, K_SYN_RECV, NULL);
	}
	return n;
}

/* A file for the connection ps of listener t->files[li], to be accepted
 * (dump_inet_accept_take): its addresses for now, for the network lock
 * and for the other end in the tree to find. */
static int add_pending(struct dump_tree *t, uint32_t li,
		       const struct proc_sock *ps)
{
	struct dump_file *n, *l, *df;

	n = realloc(t->files, (t->nr_files + 1) * sizeof(*n));
	if (!n)
		return -1;
	t->files = n;
	l = &t->files[li];
	df = &t->files[t->nr_files];
	memset(df, 0, sizeof(*df));
	df->pid = l->pid;
	df->fd = l->fd;
	df->pending = 1;
	df->f.id = t->nr_files + 1;
	df->f.kind = IMG_FILE_TCP;
	df->f.flags = O_RDWR;
	df->f.inet.family = l->f.inet.family;
	df->f.inet.state = IMG_INET_ESTABLISHED;
	memcpy(df->f.inet.addr, ps->local, 16);
	memcpy(df->f.inet.peer_addr, ps->remote, 16);
	df->f.inet.port = ps->lport;
	df->f.inet.peer_port = ps->rport;
	df->f.inet.listener = l->f.id;
	t->nr_files++;
	return 0;
}

/* Why the listener t->files[li]'s queue can't be kept, or NULL. */
static const char *queue_why(struct dump_tree *t, uint32_t li, char *buf,
			     size_t len)
{
	const struct dump_file *df = &t->files[li];
	int n = wait_syn_recv(t, li);

	if (n) {
		snprintf(buf, len, "with %d connections being set up (SYN_RECV), which is not supported",
			 n);
		return buf;
	}
	if (!df->queued)
		return NULL;
	if (!t->procs[0].o->kill) {
		snprintf(buf, len, "with %u connections not yet accepted, which ckpt takes from it only with --kill",
			 df->queued);
		return buf;
	}
	if (!dump_inet_accept_works()) {
		snprintf(buf, len, "with %u connections not yet accepted, which restore can't put back on this kernel (no %s: Linux 6.9)",
			 df->queued, KFUNC);
		return buf;
	}
	if (scan(t, li, K_CLOSE_WAIT, NULL)) {
		snprintf(buf, len, "with a connection not yet accepted that its peer closed, which is not supported");
		return buf;
	}
	n = scan(t, li, K_ESTABLISHED, add_pending);
	if (n != (int)df->queued) {
		snprintf(buf, len, "with %u connections not yet accepted, of which /proc/%d/net shows %d",
			 df->queued, df->pid, n);
		return buf;
	}
	return NULL;
}

void dump_inet_accept(struct dump_tree *t)
{
	uint32_t i, n = t->nr_files;
	char what[160], buf[160];
	const char *why;

	for (i = 0; i < n; i++) {
		struct dump_file *df = &t->files[i];

		if (df->f.kind != IMG_FILE_TCP || df->why || df->outside ||
		    df->f.inet.state != IMG_INET_LISTENING)
			continue;
		why = queue_why(t, i, buf, sizeof(buf));
		df = &t->files[i];	/* add_pending moved the table */
		if (!why)
			continue;
		dump_inet_describe(&df->f, what, sizeof(what));
		dump_set_why(df, "socket:[%llu] is %s, %s",
			     (unsigned long long)df->f.ino, what, why);
	}
}

/* ---- taking them -------------------------------------------------------- */

/* The pending file of listener id whose peer is c's, or NULL. */
static struct dump_file *pending_of(struct dump_tree *t, uint32_t id, int c)
{
	struct sockaddr_storage ss;
	struct sockaddr_in *s4 = (void *)&ss;
	struct sockaddr_in6 *s6 = (void *)&ss;
	socklen_t l = sizeof(ss);
	uint8_t addr[16] = { 0 };
	uint32_t i, port;

	memset(&ss, 0, sizeof(ss));
	if (getpeername(c, (struct sockaddr *)&ss, &l))
		return NULL;
	if (ss.ss_family == AF_INET)
		memcpy(addr, &s4->sin_addr, 4);
	else
		memcpy(addr, &s6->sin6_addr, 16);
	port = ntohs(ss.ss_family == AF_INET ? s4->sin_port : s6->sin6_port);
	for (i = 0; i < t->nr_files; i++) {
		struct dump_file *df = &t->files[i];

		if (df->pending && !df->own && df->f.inet.listener == id &&
		    df->f.inet.peer_port == port &&
		    !memcmp(df->f.inet.peer_addr, addr, 16))
			return df;
	}
	return NULL;
}

/* Connection c, the k-th of its listener's queue: its pending file goes
 * to the k-th slot of the listener's (the image's order is the queue's),
 * then is filled from it; 0 or -1. */
static int take_one(struct dump_tree *t, uint32_t first, uint32_t k, int c)
{
	struct dump_file *df, *slot = &t->files[first + k], tmp;
	const char *why;
	struct stat st;
	uint32_t id;

	df = pending_of(t, slot->f.inet.listener, c);
	if (!df || fstat(c, &st)) {
		errno = df ? errno : EAGAIN;	/* came during the dump */
		return -1;
	}
	if (df != slot) {	/* swap all but the ids */
		tmp = *slot;
		*slot = *df;
		*df = tmp;
		id = slot->f.id;
		slot->f.id = df->f.id;
		df->f.id = id;
	}
	slot->own = c + 1;
	slot->f.dev = st.st_dev;
	slot->f.ino = st.st_ino;
	why = dump_inet_fill(&slot->f, c);
	if (!why && slot->f.inet.state != IMG_INET_ESTABLISHED)
		why = "closed by its peer";
	if (why) {
		pr_err("can't keep socket:[%llu], not yet accepted by fd %d of %d: %s",
		       (unsigned long long)slot->f.ino, slot->fd, slot->pid,
		       why);
		errno = EPROTO;
		return -1;
	}
	return 0;
}

/* Is t->files[i] a pending file of listener id? */
static int pending_at(const struct dump_tree *t, uint32_t i, uint32_t id)
{
	return i < t->nr_files && t->files[i].pending &&
	       t->files[i].f.inet.listener == id;
}

/* Every connection waiting in the listener of the pending files from
 * t->files[first] on, in queue order. */
static int take_queue(struct dump_tree *t, uint32_t first)
{
	struct pollfd p = { .events = POLLIN };
	uint32_t k = 0, id = t->files[first].f.inet.listener, i;
	int c, ret = 0;

	for (i = 0; i < t->nr_files && t->files[i].f.id != id; i++)
		;
	p.fd = i < t->nr_files ? dump_grab_fd(&t->files[i]) : -1;
	if (p.fd < 0)
		return -1;
	/* nothing else accepts (the tree is frozen): POLLIN means one is
	 * there, and accept() does not block on a blocking listener */
	while (!ret && poll(&p, 1, 0) == 1 && (p.revents & POLLIN)) {
		c = accept4(p.fd, NULL, NULL, SOCK_CLOEXEC);
		if (c < 0) {
			ret = -1;
		} else if (!pending_at(t, first + k, id)) {
			close_quietly(c);	/* came during the dump */
			errno = EAGAIN;
			ret = -1;
		} else if (take_one(t, first, k++, c)) {
			if (!t->files[first + k - 1].own)
				close_quietly(c);
			ret = -1;
		}
	}
	close(p.fd);
	if (!ret && pending_at(t, first + k, id)) {
		errno = ENOENT;	/* gone: reset by its peer */
		ret = -1;
	}
	return ret;
}

int dump_inet_accept_take(struct dump_tree *t)
{
	uint32_t i, id = 0;

	for (i = 0; i < t->nr_files; i++) {
		struct dump_file *df = &t->files[i];

		if (!df->pending || df->f.inet.listener == id)
			continue;
		id = df->f.inet.listener;
		if (!take_queue(t, i))
			continue;
		pr_perror("can't take the connections not yet accepted by fd %d of %d",
			  df->fd, df->pid);
		return -1;
	}
	return 0;
}

/* A listener is kept with all its connections or not at all: one that
 * can't be kept (dropped with its listener by --ext-null, or refused) is
 * the listener's reason too. */
void dump_inet_accept_settle(struct dump_tree *t)
{
	struct dump_file *df, *l;
	char what[160];
	uint32_t i;

	for (i = 0; i < t->nr_files; i++) {
		df = &t->files[i];
		if (!df->pending || !df->why)
			continue;
		l = &t->files[df->f.inet.listener - 1];
		dump_inet_describe(&l->f, what, sizeof(what));
		dump_set_why(l, "socket:[%llu] is %s, with a connection not yet accepted that can't be kept: %s",
			     (unsigned long long)l->f.ino, what, df->why);
	}
	for (i = 0; i < t->nr_files; i++) {
		df = &t->files[i];
		if (!df->pending || df->why)
			continue;
		l = &t->files[df->f.inet.listener - 1];
		if (l->why)
			dump_set_why(df, "%s", l->why);
	}
}
