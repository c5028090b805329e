/*
 * passcred.c - the credentials (SO_PASSCRED) of messages queued in unix
 * sockets.
 *
 * A datagram pair d0/d1 and a stream pair s0/s1, the receivers d1 and
 * s1 with SO_PASSCRED. Queued at dump time, sent by this process (P) and
 * by its child (C), which waits on after sending:
 *   d1: "none" (sent before SO_PASSCRED was on: no credentials), "p1"
 *       from P, "c1" from C, "p2" from P
 *   s1: "pp" from P, "cc" from C, "PP" from P, "pq" from P
 * As root, P sends "p2" and "PP" claiming uid 4242 and gid 4343
 * (SCM_CREDENTIALS), which a stream does not join to "pq".
 *
 * Each queue is peeked at before the dump (what a read would give: the
 * bytes, the pid, uid and gid); after restore the reads give exactly
 * that, in order, and nothing more: the credentials came back, and a
 * stream's reads still stop where the sender changes.
 */
#include <sys/socket.h>
#include <sys/wait.h>

#include "workload.h"

#define MAXQ	8

struct seen {
	char data[16];
	ssize_t len;
	struct ucred uc;
};

static int d0, d1, s0, s1, go[2], done[2];
static struct seen dq[MAXQ], sq[MAXQ];
static int ndq, nsq;

static void pair(int type, int *x, int *y)
{
	int sv[2];

	if (socketpair(AF_UNIX, type, 0, sv))
		wl_fail("socketpair: %s", strerror(errno));
	*x = sv[0];
	*y = sv[1];
}

/* send msg on sk; with uid/gid claimed when claim (and root) */
static void send_as(int sk, const char *msg, int claim)
{
	char ctl[CMSG_SPACE(sizeof(struct ucred))];
	struct iovec iov = { (void *)msg, strlen(msg) };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };
	struct ucred uc = { getpid(), 4242, 4343 };
	struct cmsghdr *cm;

	if (claim && !geteuid()) {
		memset(ctl, 0, sizeof(ctl));
		mh.msg_control = ctl;
		mh.msg_controllen = sizeof(ctl);
		cm = CMSG_FIRSTHDR(&mh);
		cm->cmsg_level = SOL_SOCKET;
		cm->cmsg_type = SCM_CREDENTIALS;
		cm->cmsg_len = CMSG_LEN(sizeof(uc));
		memcpy(CMSG_DATA(cm), &uc, sizeof(uc));
	}
	if (sendmsg(sk, &mh, 0) != (ssize_t)strlen(msg))
		wl_fail("sendmsg %s: %s", msg, strerror(errno));
}

/* One recvmsg of sk (flags): into s, its credentials too; -1 at the end */
static int take_one(int sk, int flags, struct seen *s)
{
	char ctl[CMSG_SPACE(sizeof(struct ucred)) + 64];
	struct iovec iov = { s->data, sizeof(s->data) };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1,
			     .msg_control = ctl, .msg_controllen = sizeof(ctl) };
	struct cmsghdr *cm;

	memset(s, 0, sizeof(*s));
	s->len = recvmsg(sk, &mh, flags | MSG_DONTWAIT);
	if (s->len < 0)
		return -1;
	s->uc.pid = -1;
	for (cm = CMSG_FIRSTHDR(&mh); cm; cm = CMSG_NXTHDR(&mh, cm))
		if (cm->cmsg_type == SCM_CREDENTIALS)
			memcpy(&s->uc, CMSG_DATA(cm), sizeof(s->uc));
	return 0;
}

/* What reads of sk would give, peeked at (the peek offset walks the
 * queue, then is off again). */
static int peek_all(int sk, struct seen *q)
{
	int off = 0, n = 0;

	if (setsockopt(sk, SOL_SOCKET, SO_PEEK_OFF, &off, sizeof(off)))
		wl_fail("SO_PEEK_OFF: %s", strerror(errno));
	while (n < MAXQ && !take_one(sk, MSG_PEEK, &q[n]))
		n++;
	off = -1;
	if (setsockopt(sk, SOL_SOCKET, SO_PEEK_OFF, &off, sizeof(off)))
		wl_fail("SO_PEEK_OFF: %s", strerror(errno));
	return n;
}

static void step(int fd)
{
	char b = 0;

	if (read(fd, &b, 1) != 1)
		wl_fail("read: %s", strerror(errno));
}

static void kick(int fd)
{
	if (write(fd, "x", 1) != 1)
		wl_fail("write: %s", strerror(errno));
}

static void child(void)
{
	char b;

	step(go[0]);
	send_as(d0, "c1", 0);
	send_as(s0, "cc", 0);
	kick(done[1]);
	/* until P ends (its end of go closes) */
	while (read(go[0], &b, 1) > 0 || errno == EINTR)
		;
	_exit(0);
}

static void setup(void)
{
	int one = 1;
	pid_t kid;

	pair(SOCK_DGRAM, &d0, &d1);
	pair(SOCK_STREAM, &s0, &s1);
	if (pipe(go) || pipe(done))
		wl_fail("pipe: %s", strerror(errno));
	send_as(d0, "none", 0);
	if (setsockopt(d1, SOL_SOCKET, SO_PASSCRED, &one, sizeof(one)) ||
	    setsockopt(s1, SOL_SOCKET, SO_PASSCRED, &one, sizeof(one)))
		wl_fail("SO_PASSCRED: %s", strerror(errno));
	kid = fork();
	if (kid < 0)
		wl_fail("fork: %s", strerror(errno));
	if (!kid)
		child();
	send_as(d0, "p1", 0);
	send_as(s0, "pp", 0);
	kick(go[1]);
	step(done[0]);
	send_as(d0, "p2", 1);
	send_as(s0, "PP", 1);
	send_as(s0, "pq", 0);
	ndq = peek_all(d1, dq);
	nsq = peek_all(s1, sq);
	if (ndq != 4 || nsq != 4 - !!geteuid() || dq[1].uc.pid != getpid() ||
	    dq[2].uc.pid != kid)
		wl_fail("before the dump: %d datagrams, %d stream reads, pids"
			" %d %d", ndq, nsq, (int)dq[1].uc.pid,
			(int)dq[2].uc.pid);
}

static void same_reads(int sk, const struct seen *q, int n, const char *what)
{
	struct seen s;
	int i;

	for (i = 0; i < n; i++) {
		if (take_one(sk, 0, &s))
			wl_fail("%s read %d: %s", what, i, strerror(errno));
		if (s.len != q[i].len || memcmp(s.data, q[i].data, s.len) ||
		    s.uc.pid != q[i].uc.pid || s.uc.uid != q[i].uc.uid ||
		    s.uc.gid != q[i].uc.gid)
			wl_fail("%s read %d: '%.*s' from pid %d uid %d gid %d,"
				" want '%.*s' from %d %d %d", what, i,
				(int)s.len, s.data, (int)s.uc.pid,
				(int)s.uc.uid, (int)s.uc.gid, (int)q[i].len,
				q[i].data, (int)q[i].uc.pid, (int)q[i].uc.uid,
				(int)q[i].uc.gid);
	}
	if (!take_one(sk, 0, &s))
		wl_fail("%s: more queued: '%.*s'", what, (int)s.len, s.data);
}

static void check(void)
{
	same_reads(d1, dq, ndq, "datagram");
	same_reads(s1, sq, nsq, "stream");
}

int main(void)
{
	wl_init();
	setup();
	wl_count_checked(check);
	return 0;
}
