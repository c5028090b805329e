/*
 * sysvns.c - System V objects of an IPC namespace of the workload's own
 * (run it in `unshare -i`), none of them attached: a keyed message queue
 * made with another creator (effective uid 1234, gid 2345) and given to
 * uid 1000, holding five messages of mixed types and sizes (one empty),
 * its msg_qbytes then lowered below what it holds; an empty private
 * queue whose id is not its index's first (one was made and removed
 * before it); a set of five semaphores with values; a sparse segment
 * (its middle page never written) with bytes in its first and last
 * pages, locked with SHM_LOCK; a POSIX message queue /ckpt-ipcns with
 * five messages of three priorities, given to 1003:1004. The System V
 * ids go in D/sysv.ids.
 *
 * It checks them when D/restored appears (and at D/stop in the original):
 * each id holds its object, key, mode, owner, creator and contents; the
 * messages are copied with MSG_COPY (left queued); the POSIX queue's are
 * received, in priority order (taken: that check runs once). At D/stop it also
 * receives the type-7 message, and takes one from semaphore 2.
 *
 * Usage: sysvns [attached|mqfd|mqfd-unlinked] - "attached": the segment
 * stays attached (kept, restored attached at the same address); "mqfd":
 * an fd of the POSIX queue stays open, read and written without blocking
 * (checked after the queue's messages: the same queue, its flags, a
 * message through it); "mqfd-unlinked": that fd's queue unlinked (ckpt
 * refuses it).
 */
#include <sys/ipc.h>
#include <sys/msg.h>
#include <sys/sem.h>
#include <sys/shm.h>
#include <mqueue.h>

#include "workload.h"

#ifndef MSG_COPY
#define MSG_COPY	040000
#endif

#define KEY_MSG		0x4350aa01
#define KEY_SEM		0x4350aa02
#define KEY_SHM		0x4350aa03
#define SHM_SIZE	(3 * 4096 + 100)
#define NMSG		5
#define NSEM		5
#define QBYTES		3000

static const long msg_type[NMSG] = { 3, 1, 7, 1, 2 };
static const size_t msg_len[NMSG] = { 10, 0, 2000, 1, 300 };
static const unsigned short sem_val[NSEM] = { 0, 1, 7, 32767, 42 };

static int qid, pid_q, semid, shmid, attached;

/* the POSIX queue: sent in this order, received highest priority first */
#define MQ_NAME		"/ckpt-ipcns"
#define NMQ		5
static const unsigned mq_prio[NMQ] = { 1, 5, 1, 0, 5 };
static const char *const mq_text[NMQ] = { "a", "bb", "c", "", "dd" };
static const int mq_order[NMQ] = { 1, 4, 0, 2, 3 };
static mqd_t mq_held = -1;
static int mq_mode;	/* 0, 1 mqfd, 2 mqfd-unlinked */

struct msg {
	long mtype;
	char mtext[4096];
};

static void fill_msg(struct msg *m, int i)
{
	m->mtype = msg_type[i];
	wl_fill(m->mtext, msg_len[i], 100 + i);
}

static void make_queue(void)
{
	struct msqid_ds ds;
	struct msg m;
	int i, gone;

	if (setegid(2345) || seteuid(1234))
		wl_fail("seteuid: %s", strerror(errno));
	qid = msgget(KEY_MSG, IPC_CREAT | IPC_EXCL | 0666);
	if (qid < 0)
		wl_fail("msgget: %s", strerror(errno));
	if (seteuid(0) || setegid(0))
		wl_fail("seteuid 0: %s", strerror(errno));
	for (i = 0; i < NMSG; i++) {
		fill_msg(&m, i);
		if (msgsnd(qid, &m, msg_len[i], IPC_NOWAIT))
			wl_fail("msgsnd %d: %s", i, strerror(errno));
	}
	if (msgctl(qid, IPC_STAT, &ds))
		wl_fail("msgctl: %s", strerror(errno));
	ds.msg_perm.uid = 1000;
	ds.msg_perm.gid = 1001;
	ds.msg_perm.mode = 0620;
	ds.msg_qbytes = QBYTES;
	if (msgctl(qid, IPC_SET, &ds))
		wl_fail("msgctl IPC_SET: %s", strerror(errno));
	gone = msgget(IPC_PRIVATE, 0600);
	if (gone < 0 || msgctl(gone, IPC_RMID, NULL))
		wl_fail("msgget private: %s", strerror(errno));
	pid_q = msgget(IPC_PRIVATE, 0600);
	if (pid_q < 0)
		wl_fail("msgget private: %s", strerror(errno));
}

static void make_sems(void)
{
	struct semid_ds ds;
	union {
		struct semid_ds *buf;
		const unsigned short *array;
	} arg;

	semid = semget(KEY_SEM, NSEM, IPC_CREAT | IPC_EXCL | 0640);
	arg.array = sem_val;
	if (semid < 0 || semctl(semid, 0, SETALL, arg))
		wl_fail("semget: %s", strerror(errno));
	arg.buf = &ds;
	if (semctl(semid, 0, IPC_STAT, arg))
		wl_fail("semctl IPC_STAT: %s", strerror(errno));
	ds.sem_perm.uid = 1002;
	if (semctl(semid, 0, IPC_SET, arg))
		wl_fail("semctl IPC_SET: %s", strerror(errno));
}

static void make_segment(int keep)
{
	char *p;

	shmid = shmget(KEY_SHM, SHM_SIZE, IPC_CREAT | IPC_EXCL | 0604);
	if (shmid < 0)
		wl_fail("shmget: %s", strerror(errno));
	p = shmat(shmid, NULL, 0);
	if (p == (void *)-1)
		wl_fail("shmat: %s", strerror(errno));
	wl_fill(p, 4096, 200);
	wl_fill(p + 2 * 4096, 4096 + 100, 201);
	if (!keep && shmdt(p))
		wl_fail("shmdt: %s", strerror(errno));
	if (shmctl(shmid, SHM_LOCK, NULL))
		wl_fail("SHM_LOCK: %s", strerror(errno));
}

static void make_mqueue(int hold)
{
	mq_mode = hold;
	struct mq_attr at = { .mq_maxmsg = 7, .mq_msgsize = 100 };
	mqd_t q = mq_open(MQ_NAME, O_CREAT | O_EXCL | O_WRONLY, 0640, &at);
	int i;

	if (q < 0)
		wl_fail("mq_open: %s", strerror(errno));
	for (i = 0; i < NMQ; i++)
		if (mq_send(q, mq_text[i], strlen(mq_text[i]), mq_prio[i]))
			wl_fail("mq_send: %s", strerror(errno));
	if (fchmod(q, 0604) || fchown(q, 1003, 1004))
		wl_fail("fchmod mq: %s", strerror(errno));
	mq_close(q);
	if (hold) {	/* read and written, without blocking */
		mq_held = mq_open(MQ_NAME, O_RDWR | O_NONBLOCK);
		if (mq_held < 0)
			wl_fail("mq_open: %s", strerror(errno));
	}
	if (hold == 2 && mq_unlink(MQ_NAME))
		wl_fail("mq_unlink: %s", strerror(errno));
}

/* The held fd (mqfd): the same queue as its name opens, read and
 * written without blocking: a message sent through it comes back through
 * it, and then the queue is empty (EAGAIN, not a wait) */
static void check_held(mqd_t q)
{
	struct stat a, b;
	unsigned prio;
	char buf[100];
	int fl = fcntl(mq_held, F_GETFL);

	if (fstat(mq_held, &a) || fstat(q, &b) || a.st_dev != b.st_dev ||
	    a.st_ino != b.st_ino)
		wl_fail("the held POSIX queue fd is not the queue's: %s",
			strerror(errno));
	if (fl != (O_RDWR | O_NONBLOCK))
		wl_fail("the held POSIX queue fd has flags %#o", fl);
	if (mq_send(mq_held, "held", 4, 3) ||
	    mq_receive(mq_held, buf, sizeof(buf), &prio) != 4 || prio != 3 ||
	    memcmp(buf, "held", 4))
		wl_fail("the held POSIX queue fd: %s", strerror(errno));
	if (mq_receive(mq_held, buf, sizeof(buf), &prio) >= 0 ||
	    errno != EAGAIN)
		wl_fail("the held POSIX queue fd blocks, or holds more");
}

/* the POSIX queue's messages, taken: once */
static void check_mqueue(void)
{
	struct mq_attr at;
	struct stat st;
	unsigned prio;
	char buf[100];
	ssize_t n;
	int i, k;
	/* unlinked, it has only the held fd */
	mqd_t q = mq_mode == 2 ? mq_held : mq_open(MQ_NAME, O_RDONLY |
							    O_NONBLOCK);

	if (q < 0 || fstat(q, &st) || mq_getattr(q, &at))
		wl_fail("POSIX queue: %s", strerror(errno));
	if ((st.st_mode & 0777) != 0604 || st.st_uid != 1003 ||
	    st.st_gid != 1004 || at.mq_maxmsg != 7 || at.mq_msgsize != 100 ||
	    at.mq_curmsgs != NMQ)
		wl_fail("POSIX queue: mode %o owner %u:%u maxmsg %ld msgsize %ld, %ld messages",
			st.st_mode & 0777, st.st_uid, st.st_gid, at.mq_maxmsg,
			at.mq_msgsize, at.mq_curmsgs);
	for (i = 0; i < NMQ; i++) {
		k = mq_order[i];
		n = mq_receive(q, buf, sizeof(buf), &prio);
		if (n != (ssize_t)strlen(mq_text[k]) || prio != mq_prio[k] ||
		    memcmp(buf, mq_text[k], n))
			wl_fail("POSIX queue: message %d is %zd bytes of priority %u",
				i, n, prio);
	}
	if (mq_mode == 1)
		check_held(q);
	if (q != mq_held)
		mq_close(q);
}

static void check_perm(const char *what, const struct ipc_perm *p, key_t key,
		       unsigned mode, uid_t uid, gid_t gid, uid_t cuid,
		       gid_t cgid)
{
	if (p->__key != key || (p->mode & 0777) != mode || p->uid != uid ||
	    p->gid != gid || p->cuid != cuid || p->cgid != cgid)
		wl_fail("%s: key %#x mode %o uid %u gid %u cuid %u cgid %u, want %#x %o %u %u %u %u",
			what, p->__key, p->mode & 0777, p->uid, p->gid,
			p->cuid, p->cgid, key, mode, uid, gid, cuid, cgid);
}

static void check_queue(void)
{
	struct msqid_ds ds;
	struct msg m, want;
	ssize_t n;
	int i;

	if (msgctl(qid, IPC_STAT, &ds))
		wl_fail("queue %d: %s", qid, strerror(errno));
	check_perm("queue", &ds.msg_perm, KEY_MSG, 0620, 1000, 1001, 1234,
		   2345);
	if (ds.msg_qnum != NMSG || ds.msg_qbytes != QBYTES)
		wl_fail("queue: %lu messages, qbytes %lu", ds.msg_qnum,
			ds.msg_qbytes);
	for (i = 0; i < NMSG; i++) {
		n = msgrcv(qid, &m, sizeof(m.mtext), i, IPC_NOWAIT | MSG_COPY);
		fill_msg(&want, i);
		if (n != (ssize_t)msg_len[i] || m.mtype != msg_type[i] ||
		    memcmp(m.mtext, want.mtext, n))
			wl_fail("queue: message %d is %zd bytes of type %ld, or other bytes",
				i, n, m.mtype);
	}
	if (msgctl(pid_q, IPC_STAT, &ds) || ds.msg_qnum ||
	    ds.msg_perm.__key != IPC_PRIVATE)
		wl_fail("private queue %d: %s", pid_q, strerror(errno));
}

static void check_sems(void)
{
	unsigned short v[NSEM];
	struct semid_ds ds;
	union {
		struct semid_ds *buf;
		unsigned short *array;
	} arg;

	arg.buf = &ds;
	if (semctl(semid, 0, IPC_STAT, arg))
		wl_fail("semaphores %d: %s", semid, strerror(errno));
	check_perm("semaphores", &ds.sem_perm, KEY_SEM, 0640, 1002, 0, 0, 0);
	arg.array = v;
	if (ds.sem_nsems != NSEM || semctl(semid, 0, GETALL, arg) ||
	    memcmp(v, sem_val, sizeof(v)))
		wl_fail("semaphores: %lu, values %u %u %u %u %u",
			ds.sem_nsems, v[0], v[1], v[2], v[3], v[4]);
}

static void check_segment(void)
{
	struct shmid_ds ds;
	char *p;
	int i;

	if (shmctl(shmid, IPC_STAT, &ds))
		wl_fail("segment %d: %s", shmid, strerror(errno));
	check_perm("segment", &ds.shm_perm, KEY_SHM, 0604, 0, 0, 0, 0);
	if (ds.shm_segsz != SHM_SIZE || !(ds.shm_perm.mode & SHM_LOCKED) ||
	    ds.shm_nattch != (unsigned long)attached)
		wl_fail("segment: %zu bytes, mode %#o, %lu attached",
			ds.shm_segsz, ds.shm_perm.mode, ds.shm_nattch);
	p = shmat(shmid, NULL, SHM_RDONLY);
	if (p == (void *)-1)
		wl_fail("shmat: %s", strerror(errno));
	if (wl_check_fill(p, 4096, 200) >= 0 ||
	    wl_check_fill(p + 2 * 4096, 4096 + 100, 201) >= 0)
		wl_fail("segment: bytes from before the dump differ");
	for (i = 4096; i < 2 * 4096; i++)
		if (p[i])
			wl_fail("segment: byte %d of the hole is %#x", i, p[i]);
	shmdt(p);
}

static void check(void)
{
	check_queue();
	check_sems();
	check_segment();
	check_mqueue();
}

int main(int argc, char **argv)
{
	struct sembuf op = { 2, -1, IPC_NOWAIT };
	char buf[128];
	struct msg m;
	int n;

	wl_init();
	make_queue();
	make_sems();
	attached = argc > 1 && !strcmp(argv[1], "attached");
	make_segment(attached);
	make_mqueue(argc < 2 ? 0 : !strcmp(argv[1], "mqfd") ? 1 :
		    !strcmp(argv[1], "mqfd-unlinked") ? 2 : 0);
	n = snprintf(buf, sizeof(buf), "%d %d %d %d\n", qid, pid_q, semid,
		     shmid);
	wl_write_file("sysv.ids", buf, n);
	/* no check before the dump: reading the hole would fill it */
	wl_ready();
	wl_count_checked(check);
	if (msgrcv(qid, &m, sizeof(m.mtext), 7, IPC_NOWAIT) != 2000 ||
	    semop(semid, &op, 1))
		wl_fail("msgrcv or semop after the restore: %s",
			strerror(errno));
	return 0;
}
