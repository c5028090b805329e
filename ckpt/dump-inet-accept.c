/*
 * The connections waiting in a TCP listener's accept queue: established
 * already (the kernel finished their handshake), but no fd of the tree
 * names them yet. They can be read only as sockets of their own, so ckpt
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
 * were taken from. And only where restore can put them back: Linux 6.9
 * and later (the kfunc bpf_sk_assign_tcp_reqsk, which this kernel's BTF
 * names). A dump refused after they were taken loses them: they are
 * closed in repair mode, without a word to their peers.
 *
 * A connection still being set up (SYN_RECV: a request socket, which has
 * no fd and whose initial sequence numbers nothing exposes) is waited
 * for briefly, as its handshake ends in the kernel whatever the tree
 * does; one that does not end is refused, naming the listener.
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
#define K_SYN_RECV	3	/* /proc/net/tcp's st */

uint32_t dump_inet_pending(int sk)
{
	struct tcp_info ti;
	socklen_t l = sizeof(ti);

	memset(&ti, 0, sizeof(ti));
	if (getsockopt(sk, IPPROTO_TCP, TCP_INFO, &ti, &l))
		return 0;
	return ti.tcpi_unacked;	/* a listener's: its accept queue */
}

void dump_inet_accept_close(struct dump_file *df)
{
	int on = TCP_REPAIR_ON;

	if (!df->own)
		return;
	if (setsockopt(df->own - 1, IPPROTO_TCP, TCP_REPAIR, &on, sizeof(on)))
		pr_perror("can't close socket:[%llu] quietly",
			  (unsigned long long)df->f.ino);
	close(df->own - 1);
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

/* Request sockets of port in the tree's network namespace (pid's), from
 * /proc/PID/net/tcp and tcp6: their local port is the listener's. */
static int syn_recv(pid_t pid, uint32_t port)
{
	static const char *const files[] = { "tcp", "tcp6" };
	char path[64], line[512], local[128];
	unsigned int lport, st;
	FILE *fp;
	int n = 0, i;

	for (i = 0; i < 2; i++) {
		snprintf(path, sizeof(path), "/proc/%d/net/%s", pid, files[i]);
		fp = fopen(path, "re");
		if (!fp)
			continue;
		while (fgets(line, sizeof(line), fp))
			if (sscanf(line, " %*u: %127[0-9A-Fa-f]:%x %*s %x",
				   local, &lport, &st) == 3 &&
			    st == K_SYN_RECV && lport == port)
				n++;
		fclose(fp);
	}
	return n;
}

static int wait_syn_recv(pid_t pid, uint32_t port)
{
	int i, n = syn_recv(pid, port);

	for (i = 0; n && i < SYN_RECV_WAIT; i++) {
		usleep(10000);
		n = syn_recv(pid, port);
	}
	return n;
}

/* A new file for connection c, accepted from listener t->files[li]. */
static int add_conn(struct dump_tree *t, uint32_t li, int c)
{
	struct dump_file *n, *l, *df;
	const char *why;
	char what[160];
	struct stat st;

	n = realloc(t->files, (t->nr_files + 1) * sizeof(*n));
	if (!n || fstat(c, &st))
		return -1;
	t->files = n;
	l = &t->files[li];
	df = &t->files[t->nr_files];
	memset(df, 0, sizeof(*df));
	df->pid = l->pid;
	df->fd = l->fd;
	df->own = c + 1;
	df->f.id = t->nr_files + 1;
	df->f.kind = IMG_FILE_TCP;
	df->f.flags = O_RDWR;
	df->f.dev = st.st_dev;
	df->f.ino = st.st_ino;
	df->f.inet.family = l->f.inet.family;
	t->nr_files++;
	why = dump_inet_fill(&df->f, c);
	if (!why && df->f.inet.state != IMG_INET_ESTABLISHED)
		why = "closed by its peer already, which is not supported";
	df->f.inet.listener = l->f.id;
	if (why) {
		dump_inet_describe(&df->f, what, sizeof(what));
		dump_set_why(df, "socket:[%llu] is %s, %s",
			     (unsigned long long)df->f.ino, what, why);
	}
	return 0;
}

/* Every connection waiting in listener t->files[li], in queue order. */
static int take_queue(struct dump_tree *t, uint32_t li)
{
	struct pollfd p = { .events = POLLIN };
	int sk, c, ret = 0;

	sk = dump_grab_fd(&t->files[li]);
	if (sk < 0)
		return -1;
	p.fd = sk;
	/* nothing else accepts (the tree is frozen): POLLIN means one is
	 * there, and accept() does not block on a blocking listener */
	while (!ret && poll(&p, 1, 0) == 1 && (p.revents & POLLIN)) {
		c = accept4(sk, NULL, NULL, SOCK_CLOEXEC);
		if (c < 0) {
			ret = -1;
			break;
		}
		if (add_conn(t, li, c)) {
			close(c);
			ret = -1;
		}
	}
	close(sk);
	return ret;
}

/* Why the listener df's queue can't be taken, or NULL. */
static const char *queue_why(struct dump_tree *t, const struct dump_file *df,
			     char *buf, size_t len)
{
	int n = wait_syn_recv(df->pid, df->f.inet.port);

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
	return NULL;
}

void dump_inet_accept(struct dump_tree *t)
{
	uint32_t i, n = t->nr_files;
	char what[160], buf[160];
	const char *why;
	int err;

	for (i = 0; i < n; i++) {
		struct dump_file *df = &t->files[i];

		if (df->f.kind != IMG_FILE_TCP || df->why || df->outside ||
		    df->f.inet.state != IMG_INET_LISTENING)
			continue;
		why = queue_why(t, df, buf, sizeof(buf));
		if (!why && df->queued && take_queue(t, i)) {
			err = errno;
			snprintf(buf, sizeof(buf), "whose connections not yet accepted can't be taken: %s",
				 strerror(err));
			why = buf;
		}
		df = &t->files[i];	/* take_queue moved the table */
		if (!why)
			continue;
		dump_inet_describe(&df->f, what, sizeof(what));
		dump_set_why(df, "socket:[%llu] is %s, %s",
			     (unsigned long long)df->f.ino, what, why);
	}
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
		if (!df->own || !df->why)
			continue;
		l = &t->files[df->f.inet.listener - 1];
		dump_inet_describe(&l->f, what, sizeof(what));
		dump_set_why(l, "socket:[%llu] is %s, with a connection not yet accepted that can't be kept: %s",
			     (unsigned long long)l->f.ino, what, df->why);
	}
	for (i = 0; i < t->nr_files; i++) {
		df = &t->files[i];
		if (!df->own || df->why)
			continue;
		l = &t->files[df->f.inet.listener - 1];
		if (l->why)
			dump_set_why(df, "%s", l->why);
	}
}
