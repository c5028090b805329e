/*
 * The System V objects of an IPC namespace of the tree's own (dump-ns.c
 * found it, and that no process outside the tree is in it): ckpt enters
 * the namespace and reads every message queue, semaphore set and
 * segment there with the *_STAT calls, which take an index and give the
 * id. A queue's messages are copied with msgrcv(MSG_COPY), which leaves
 * them queued (Linux 3.8, CONFIG_CHECKPOINT_RESTORE); a segment's bytes
 * through a read-only attach and its file in /proc/self/map_files, holes
 * skipped. They become SYSV records (image.h), which restore makes again
 * with the same ids (restore/ipcns.c). So do the namespace's POSIX
 * message queues, listed on a mqueue file system mounted in a child,
 * their messages received and sent again (take_messages).
 *
 * A segment that processes of the tree have attached is kept the same
 * way: its mappings name it by an SHM object flagged IMG_SHM_IPCNS
 * (dump-shm.c), without pages, and restore's processes attach it again
 * in the new namespace (restore/mm.c); dump_ipcns_check_shms() checks
 * that each such segment is one of the records here.
 *
 * Refused, naming the owner of the namespace and the object: any
 * segment when kernel.shm_rmid_forced is set, a queue too big for one
 * record, and a POSIX queue with a process registered for notification;
 * naming the process: a segment attached in an IPC namespace that
 * processes outside the tree share (joined at restore, not made).
 * What no interface shows is not kept: the times and last PIDs of each
 * object (restore's calls set them anew). A process's semaphore undo
 * values (SEM_UNDO), which no call reads, refuse it (dump-semundo.c).
 */
#include <sys/ipc.h>
#include <sys/msg.h>
#include <sys/sem.h>
#include <sys/mount.h>
#include <sys/shm.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <sys/wait.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <mqueue.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ckpt/dump-priv.h"

#ifndef MQUEUE_MAGIC
#define MQUEUE_MAGIC	0x19800202	/* ipc/mqueue.c */
#endif

#ifndef MSG_COPY
#define MSG_COPY	040000
#endif

union dump_semun {
	int val;
	struct semid_ds *buf;
	unsigned short *array;
	struct seminfo *info;
};

struct ipcns_walk {
	struct dump_tree *t;
	const struct img_ns *ns;
};

static struct img_sysv *new_sysv(struct ipcns_walk *wk, uint32_t kind,
				 int id, const struct ipc_perm *p)
{
	struct dump_tree *t = wk->t;
	struct img_sysv *s = realloc(t->sysvs, (t->nr_sysvs + 1) * sizeof(*s));

	if (!s)
		return NULL;
	t->sysvs = s;
	s = &t->sysvs[t->nr_sysvs++];
	memset(s, 0, sizeof(*s));
	s->kind = kind;
	s->ns = wk->ns->id;
	s->id = id;
	s->key = p->__key;
	s->mode = p->mode & 0777;
	s->uid = p->uid;
	s->gid = p->gid;
	s->cuid = p->cuid;
	s->cgid = p->cgid;
	return s;
}

static int refuse_obj(const struct ipcns_walk *wk, const char *what, int id,
		      const char *why)
{
	pr_err("can't dump %u: System V %s %d of its ipc namespace ipc:[%llu] %s",
	       wk->ns->owner, what, id, (unsigned long long)wk->ns->id, why);
	return -1;
}

/* Every message of queue s, in order, copied and left queued */
static int read_msgs(struct ipcns_walk *wk, struct img_sysv *s,
		     const struct msqid_ds *ds)
{
	size_t cap = ds->__msg_cbytes + sizeof(long);
	struct msgbuf *buf = malloc(cap);
	uint32_t i, n = ds->msg_qnum;
	ssize_t len;

	if (!buf || !(s->msgs = calloc(n ? n : 1, sizeof(*s->msgs))))
		goto err;
	for (i = 0; i < n; i++) {
		len = msgrcv(s->id, buf, cap - sizeof(long), i,
			     IPC_NOWAIT | MSG_COPY);
		if (len < 0) {
			pr_perror("can't copy message %u of System V queue %d of ipc:[%llu]",
				  i, s->id, (unsigned long long)wk->ns->id);
			goto err;
		}
		if (len > IMG_MAX_SYSV_MSG) {
			refuse_obj(wk, "queue", s->id, "holds a message longer than the image takes");
			goto err;
		}
		s->msgs[i].type = buf->mtype;
		s->msgs[i].len = len;
		s->msgs[i].data = malloc(len ? len : 1);
		if (!s->msgs[i].data)
			goto err;
		memcpy(s->msgs[i].data, buf->mtext, len);
		s->nr_msgs = i + 1;
	}
	free(buf);
	return 0;
err:
	free(buf);
	return -1;
}

static int read_queues(struct ipcns_walk *wk)
{
	struct msginfo info;
	struct msqid_ds ds;
	struct img_sysv *s;
	int max, idx, id;

	max = msgctl(0, MSG_INFO, (struct msqid_ds *)&info);
	for (idx = 0; idx <= max; idx++) {
		id = msgctl(idx, MSG_STAT, &ds);
		if (id < 0)
			continue;	/* no queue at this index */
		if (ds.__msg_cbytes + 16 * ds.msg_qnum > IMG_MAX_SYSV_QUEUE ||
		    ds.msg_qnum > IMG_MAX_SYSV_MSGS)
			return refuse_obj(wk, "queue", id, "holds more than the image takes in one record");
		s = new_sysv(wk, IMG_SYSV_MSG, id, &ds.msg_perm);
		if (!s)
			return -1;
		s->size = ds.msg_qbytes;
		if (read_msgs(wk, s, &ds))
			return -1;
	}
	return 0;
}

static int read_sems(struct ipcns_walk *wk)
{
	union dump_semun arg;
	struct seminfo info;
	struct semid_ds ds;
	struct img_sysv *s;
	int max, idx, id;

	arg.info = &info;
	max = semctl(0, 0, SEM_INFO, arg);
	for (idx = 0; idx <= max; idx++) {
		arg.buf = &ds;
		id = semctl(idx, 0, SEM_STAT, arg);
		if (id < 0)
			continue;
		if (ds.sem_nsems > IMG_MAX_SEMS)
			return refuse_obj(wk, "semaphore set", id, "has more semaphores than the image takes");
		s = new_sysv(wk, IMG_SYSV_SEM, id, &ds.sem_perm);
		if (!s)
			return -1;
		s->size = ds.sem_nsems;
		s->semvals = calloc(ds.sem_nsems ? ds.sem_nsems : 1,
				    sizeof(*s->semvals));
		arg.array = s->semvals;
		if (!s->semvals || semctl(id, 0, GETALL, arg) < 0) {
			pr_perror("can't read the values of System V semaphore set %d of ipc:[%llu]",
				  id, (unsigned long long)wk->ns->id);
			return -1;
		}
	}
	return 0;
}

static int add_chunk(struct img_sysv *s, const char *map, uint64_t off,
		     uint32_t len)
{
	struct img_sysv_chunk *c;

	c = realloc(s->chunks, (s->nr_chunks + 1) * sizeof(*c));
	if (!c)
		return -1;
	s->chunks = c;
	c = &s->chunks[s->nr_chunks];
	c->off = off;
	c->len = len;
	c->data = malloc(len);
	if (!c->data)
		return -1;
	memcpy(c->data, map + off, len);
	s->nr_chunks++;
	return 0;
}

/* The bytes of the segment mapped at map, data only: its file's holes
 * (SEEK_HOLE) are not read, so that a sparse segment stays sparse */
static int read_segment(struct img_sysv *s, const char *map)
{
	char path[64];
	long ps = sysconf(_SC_PAGESIZE);
	off_t data, hole, end = s->size;
	uint32_t len;
	int fd, ret = -1;

	snprintf(path, sizeof(path), "/proc/self/map_files/%lx-%lx",
		 (unsigned long)map,
		 (unsigned long)(map + (s->size + ps - 1) / ps * ps));
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	for (data = lseek(fd, 0, SEEK_DATA); data >= 0 && data < end;
	     data = lseek(fd, hole, SEEK_DATA)) {
		hole = lseek(fd, data, SEEK_HOLE);
		if (hole < 0 || hole > end)
			hole = end;
		for (; data < hole; data += len) {
			len = hole - data > IMG_MAX_SYSV_CHUNK ?
			      IMG_MAX_SYSV_CHUNK : hole - data;
			if (add_chunk(s, map, data, len))
				goto out;
		}
	}
	ret = data < 0 && errno != ENXIO ? -1 : 0;
out:
	close(fd);
	return ret;
}

static int rmid_forced(const struct img_ns *ns)
{
	uint32_t i;

	for (i = 0; i < ns->nr_sysctls; i++)
		if (!strcmp(ns->sysctls[i].name, "kernel/shm_rmid_forced"))
			return strcmp(ns->sysctls[i].value, "0") != 0;
	return 0;
}

static int read_segments(struct ipcns_walk *wk)
{
	struct shm_info info;
	struct shmid_ds ds;
	struct img_sysv *s;
	int max, idx, id, ret;
	void *map;

	max = shmctl(0, SHM_INFO, (struct shmid_ds *)&info);
	for (idx = 0; idx <= max; idx++) {
		id = shmctl(idx, SHM_STAT, &ds);
		if (id < 0)
			continue;
		/* our detach would destroy one unattached, and so would
		 * restore's after it filled it (ipc/shm.c shm_may_destroy) */
		if (rmid_forced(wk->ns))
			return refuse_obj(wk, "segment", id, "exists and kernel.shm_rmid_forced is set, which is not supported yet");
		s = new_sysv(wk, IMG_SYSV_SHM, id, &ds.shm_perm);
		if (!s)
			return -1;
		s->size = ds.shm_segsz;
		if (ds.shm_perm.mode & SHM_LOCKED)
			s->flags |= IMG_SYSV_LOCKED;
		map = shmat(id, NULL, SHM_RDONLY);
		if (map == (void *)-1) {
			pr_perror("can't attach System V segment %d of ipc:[%llu]",
				  id, (unsigned long long)wk->ns->id);
			return -1;
		}
		ret = read_segment(s, map);
		shmdt(map);
		if (ret) {
			pr_perror("can't read System V segment %d of ipc:[%llu]",
				  id, (unsigned long long)wk->ns->id);
			return -1;
		}
	}
	return 0;
}

/* In a child: the names of the namespace's POSIX queues on fd, each
 * ended by a NUL, read from a mqueue file system of the namespace that
 * it mounts in a mount namespace of its own */
static void __attribute__((noreturn)) list_mqueues(int fd)
{
	struct dirent *de;
	DIR *d;

	if (unshare(CLONE_NEWNS) ||
	    mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) ||
	    mount("mqueue", "/tmp", "mqueue", 0, NULL) ||
	    !(d = opendir("/tmp")))
		_exit(2);
	while ((de = readdir(d)))
		if (de->d_name[0] != '.' &&
		    write(fd, de->d_name, strlen(de->d_name) + 1) < 0)
			_exit(2);
	_exit(0);
}

/* The names, NUL after each, in *out (*len bytes) */
static int mqueue_names(const struct ipcns_walk *wk, char **out,
			size_t *len)
{
	char *buf = NULL, *nb;
	size_t cap = 0;
	ssize_t n = 1;
	int p[2], st = 0;
	pid_t pid;

	*len = 0;
	if (pipe2(p, O_CLOEXEC))
		return -1;
	pid = fork();
	if (pid == 0)
		list_mqueues(p[1]);
	close(p[1]);
	while (pid > 0 && n > 0) {
		if (*len == cap) {
			nb = realloc(buf, cap += 4096);
			if (!nb)
				break;
			buf = nb;
		}
		n = read(p[0], buf + *len, cap - *len);
		if (n > 0)
			*len += n;
	}
	close(p[0]);
	if (pid < 0 || waitpid(pid, &st, 0) != pid || !WIFEXITED(st) ||
	    WEXITSTATUS(st) || n) {
		pr_err("can't list the POSIX message queues of ipc:[%llu]",
		       (unsigned long long)wk->ns->id);
		free(buf);
		return -1;
	}
	*out = buf;
	return 0;
}

/* The queue's messages, received (highest priority first) and sent
 * again in that order: the queue is as it was (no call reads one
 * without taking it). The tree is frozen and alone in the namespace:
 * no one else sends or receives meanwhile. */
static int take_messages(struct img_sysv *s, mqd_t q, long n)
{
	struct img_sysv_msg *m;
	unsigned prio;
	ssize_t len;
	long i;

	s->msgs = calloc(n ? n : 1, sizeof(*s->msgs));
	for (i = 0; s->msgs && i < n; i++) {
		m = &s->msgs[i];
		m->data = malloc(s->size);
		if (!m->data)
			return -1;
		len = mq_receive(q, (char *)m->data, s->size, &prio);
		if (len < 0)
			return -1;
		m->len = len;
		m->type = prio;
		s->nr_msgs = i + 1;
	}
	for (i = 0; s->msgs && i < (long)s->nr_msgs; i++)
		if (mq_send(q, (char *)s->msgs[i].data, s->msgs[i].len,
			    s->msgs[i].type)) {
			pr_perror("can't put message %ld back in POSIX queue /%s",
				  i, s->name);
			return -1;
		}
	return s->msgs ? 0 : -1;
}

/* "QSIZE:... NOTIFY:... SIGNO:... NOTIFY_PID:N": N (0: none) */
static int notify_pid(mqd_t q)
{
	char buf[160], *p;
	ssize_t n = pread(q, buf, sizeof(buf) - 1, 0);

	if (n < 0)
		return -1;
	buf[n] = '\0';
	p = strstr(buf, "NOTIFY_PID:");
	return p ? atoi(p + strlen("NOTIFY_PID:")) : -1;
}

static int read_mqueue(struct ipcns_walk *wk, const char *name)
{
	struct ipc_perm perm = { 0 };
	struct img_sysv *s;
	struct mq_attr at;
	struct stat st;
	char path[260];
	int ret = -1;
	mqd_t q;

	snprintf(path, sizeof(path), "/%s", name);
	q = mq_open(path, O_RDWR | O_NONBLOCK | O_CLOEXEC);
	if (q < 0 || fstat(q, &st) || mq_getattr(q, &at)) {
		pr_perror("can't read POSIX message queue %s of ipc:[%llu]",
			  path, (unsigned long long)wk->ns->id);
		goto out;
	}
	perm.mode = st.st_mode;
	perm.uid = st.st_uid;
	perm.gid = st.st_gid;
	/* a guard: the kernel drops the registration when its process
	 * closes an fd of the queue, and a tree's fd of one is refused */
	if (notify_pid(q)) {
		pr_err("can't dump %u: POSIX message queue %s of its ipc namespace ipc:[%llu] has a process registered for notification (mq_notify), which is not supported yet",
		       wk->ns->owner, path, (unsigned long long)wk->ns->id);
		goto out;
	}
	if (at.mq_msgsize > IMG_MAX_SYSV_MSG ||
	    (uint64_t)at.mq_curmsgs * (at.mq_msgsize + 16) > IMG_MAX_SYSV_QUEUE) {
		pr_err("can't dump %u: POSIX message queue %s of its ipc namespace ipc:[%llu] holds more than the image takes in one record",
		       wk->ns->owner, path, (unsigned long long)wk->ns->id);
		goto out;
	}
	s = new_sysv(wk, IMG_SYSV_MQUEUE, 0, &perm);
	if (!s || !(s->name = strdup(name)))
		goto out;
	s->cuid = s->cgid = 0;
	s->size = at.mq_msgsize;
	s->maxmsg = at.mq_maxmsg;
	ret = take_messages(s, q, at.mq_curmsgs);
out:
	if (q >= 0)
		mq_close(q);
	return ret;
}

static int read_mqueues(struct ipcns_walk *wk)
{
	size_t len, off;
	char *names;
	int ret = 0;

	if (mqueue_names(wk, &names, &len))
		return -1;
	for (off = 0; off < len && !ret; off += strlen(names + off) + 1)
		ret = read_mqueue(wk, names + off);
	free(names);
	return ret;
}

/* In the namespace: all four kinds */
static int read_all(void *arg)
{
	struct ipcns_walk *wk = arg;

	return read_queues(wk) || read_sems(wk) || read_segments(wk) ||
	       read_mqueues(wk) ? -1 : 0;
}

int dump_ipcns_collect(struct dump_tree *t, const struct img_ns *ns)
{
	struct ipcns_walk wk = { t, ns };

	return dump_in_ipcns(ns->owner, read_all, &wk);
}

int dump_mqueue_fd(pid_t pid, int fd)
{
	char path[64];
	struct statfs sfs;

	snprintf(path, sizeof(path), "/proc/%d/fd/%d", pid, fd);
	return !statfs(path, &sfs) && sfs.f_type == MQUEUE_MAGIC;
}

/* In the IPC namespace of the tree's root: the queue that name opens */
struct mq_probe {
	const char *name;
	struct stat st;
	int err, notify;
};

static int probe_mqueue(void *arg)
{
	struct mq_probe *pr = arg;
	mqd_t q = mq_open(pr->name, O_RDONLY | O_NONBLOCK | O_CLOEXEC);

	if (q < 0 || fstat(q, &pr->st))
		pr->err = errno;
	else if ((pr->notify = notify_pid(q)) < 0)
		pr->err = errno ? errno : EIO;
	if (q >= 0)
		mq_close(q);
	return 0;
}

/*
 * An fd of a POSIX message queue is opened again by its name, in the IPC
 * namespace of the tree's root (restore/ipcns.c): the queue is the
 * namespace's (a namespace the tree made comes back with its queues, a
 * joined one keeps them). So the fd must be of a process of that
 * namespace, and its name must still open that very queue (not unlinked,
 * nor unlinked and made again). A registration for notification
 * (mq_notify) would be lost.
 */
int dump_mqueue_check(pid_t root, pid_t pid, const struct img_fd *f,
		      char **why)
{
	struct mq_probe pr = { f->path, { 0 }, 0, 0 };
	char buf[PATH_MAX + 160];

	*why = NULL;
	if (dump_ns_ino(pid, "ipc") != dump_ns_ino(root, "ipc"))
		snprintf(buf, sizeof(buf), "%s is a POSIX message queue of another IPC namespace than the tree's root's, which is not supported yet",
			 f->path);
	else if (f->path[0] != '/' || strchr(f->path + 1, '/') ||
		 strstr(f->path, " (deleted)"))
		snprintf(buf, sizeof(buf), "%s is a POSIX message queue that was unlinked (mq_unlink), which is not supported yet",
			 f->path);
	else if (dump_in_ipcns(root, probe_mqueue, &pr))
		return -1;
	else if (pr.err)
		snprintf(buf, sizeof(buf), "%s is a POSIX message queue whose name does not open it again (%s)",
			 f->path, strerror(pr.err));
	else if (pr.st.st_dev != f->dev || pr.st.st_ino != f->ino)
		snprintf(buf, sizeof(buf), "%s is a POSIX message queue that was unlinked (mq_unlink): its name opens another",
			 f->path);
	else if (pr.notify > 0)
		snprintf(buf, sizeof(buf), "%s is a POSIX message queue with a process registered for notification (mq_notify), which is not supported yet",
			 f->path);
	else
		return 0;
	*why = strdup(buf);
	return *why ? 0 : -1;
}

int dump_write_sysvs(const struct dump_tree *t, struct img_writer *w)
{
	const struct img_sysv *s;
	uint32_t i, k;

	for (i = 0; i < t->nr_sysvs; i++) {
		s = &t->sysvs[i];
		if (img_write_sysv(w, s))
			return -1;
		for (k = 0; k < s->nr_chunks; k++)
			if (img_write_sysv_data(w, s->chunks[k].off,
						s->chunks[k].data,
						s->chunks[k].len))
				return -1;
	}
	return 0;
}

/* Segment id of the namespace ns among the records, or NULL; *seen
 * says whether any record is of ns (a namespace the image makes) */
static const struct img_sysv *find_segment(const struct dump_tree *t,
					   uint64_t ns, int id, int *seen)
{
	const struct img_sysv *s;
	uint32_t i;

	*seen = 0;
	for (i = 0; i < t->nr_sysvs; i++) {
		s = &t->sysvs[i];
		if (s->ns != ns)
			continue;
		*seen = 1;
		if (s->kind == IMG_SYSV_SHM && s->id == id)
			return s;
	}
	return NULL;
}

int dump_ipcns_check_shms(const struct dump_tree *t)
{
	const struct dump_shm_obj *o;
	const struct img_sysv *s;
	uint32_t i;
	int seen;

	for (i = 0; i < t->shms.n; i++) {
		o = &t->shms.objs[i];
		if (!(o->shm.flags & IMG_SHM_IPCNS))
			continue;
		/* a namespace of the tree's own holds this one at least */
		s = find_segment(t, o->ipcns, o->shm.shmid, &seen);
		if (!seen) {
			pr_err("can't dump %d: System V segment %d that it attached is in ipc:[%llu], which processes outside the tree share, which is not supported yet",
			       o->pid, o->shm.shmid,
			       (unsigned long long)o->ipcns);
			return -1;
		}
		if (!s || s->size != o->shm.size) {
			pr_err("can't dump %d: System V segment %d that it attached is not among those of ipc:[%llu]",
			       o->pid, o->shm.shmid,
			       (unsigned long long)o->ipcns);
			return -1;
		}
	}
	return 0;
}

void dump_free_sysvs(struct dump_tree *t)
{
	uint32_t i;

	for (i = 0; i < t->nr_sysvs; i++)
		img_sysv_free(&t->sysvs[i]);
	free(t->sysvs);
	t->sysvs = NULL;
	t->nr_sysvs = 0;
}
