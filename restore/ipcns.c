/*
 * The System V objects of an IPC namespace the tree had of its own (SYSV
 * records, image.h), made again by the namespace's owner right after it
 * made the namespace and wrote its sysctls (ns.c), before it makes its
 * children: each with its id, through /proc/sys/kernel/{msg,sem,shm}_
 * next_id (which the kernel reads once, for the next object made, Linux
 * 3.8), its key, and made with its creator's uid and gid as effective
 * ones (the kernel records the maker as creator); then its owner and
 * mode. A queue gets its messages back in order (its msg_qbytes raised
 * for them, then set), a semaphore set its values, a segment its bytes.
 * The namespace is new and empty: an id that comes out different is a
 * bug or a kernel without next_id, and fails the restore. A POSIX
 * message queue is made by its name, its messages sent in order.
 *
 * The tree's fds of POSIX message queues are opened again by name by the
 * root, in its IPC namespace (made or joined), before its children,
 * which inherit them (restore_mqueue_files).
 */
#include <sys/ipc.h>
#include <sys/msg.h>
#include <sys/sem.h>
#include <sys/shm.h>
#include <sys/stat.h>
#include <errno.h>
#include <fcntl.h>
#include <mqueue.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "restore/restore.h"

union restore_semun {
	int val;
	struct semid_ds *buf;
	unsigned short *array;
};

static int write_next_id(const char *kind, int id)
{
	char path[64], v[16];
	int fd, n, ret;

	snprintf(path, sizeof(path), "/proc/sys/kernel/%s_next_id", kind);
	n = snprintf(v, sizeof(v), "%d", id);
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	ret = write(fd, v, n) == n ? 0 : -1;
	close(fd);
	return ret;
}

/* get() run with the creator's effective ids, when not ours */
static int as_creator(const struct img_sysv *s, int (*get)(const struct img_sysv *))
{
	uid_t uid = geteuid();
	gid_t gid = getegid();
	int id, saved;

	if (s->cgid != gid && setegid(s->cgid))
		return -1;
	if (s->cuid != uid && seteuid(s->cuid)) {
		saved = errno;
		if (setegid(gid))
			abort();	/* would go on as another group */
		errno = saved;
		return -1;
	}
	id = get(s);
	saved = errno;
	if ((s->cuid != uid && seteuid(uid)) ||
	    (s->cgid != gid && setegid(gid)))
		abort();	/* would go on as another user */
	errno = saved;
	return id;
}

static int get_msg(const struct img_sysv *s)
{
	return msgget(s->key, IPC_CREAT | IPC_EXCL | s->mode);
}

static int get_sem(const struct img_sysv *s)
{
	return semget(s->key, s->size, IPC_CREAT | IPC_EXCL | s->mode);
}

static int get_shm(const struct img_sysv *s)
{
	return shmget(s->key, s->size, IPC_CREAT | IPC_EXCL | s->mode);
}

/* The object with its id, or -1 (EEXIST: it came with another id) */
static int make(const struct img_sysv *s)
{
	static const char *const next[] = {
		[IMG_SYSV_MSG] = "msg", [IMG_SYSV_SEM] = "sem",
		[IMG_SYSV_SHM] = "shm",
	};
	static int (*const get[])(const struct img_sysv *) = {
		[IMG_SYSV_MSG] = get_msg, [IMG_SYSV_SEM] = get_sem,
		[IMG_SYSV_SHM] = get_shm,
	};
	int id;

	if (write_next_id(next[s->kind], s->id))
		return -1;
	id = as_creator(s, get[s->kind]);
	if (id >= 0 && id != s->id) {
		errno = EEXIST;
		return -1;
	}
	return id;
}

static int fill_queue(const struct img_sysv *s)
{
	struct msqid_ds ds;
	struct msgbuf *buf = NULL;
	uint64_t total = 0;
	uint32_t i;
	int ret = -1;

	for (i = 0; i < s->nr_msgs; i++)
		total += s->msgs[i].len;
	if (msgctl(s->id, IPC_STAT, &ds))
		return -1;
	/* room for them all, whatever the queue's limit was lowered to */
	ds.msg_qbytes = total > s->size ? total : s->size;
	if (msgctl(s->id, IPC_SET, &ds))
		return -1;
	buf = malloc(sizeof(long) + IMG_MAX_SYSV_MSG);
	for (i = 0; buf && i < s->nr_msgs; i++) {
		buf->mtype = s->msgs[i].type;
		memcpy(buf->mtext, s->msgs[i].data, s->msgs[i].len);
		if (msgsnd(s->id, buf, s->msgs[i].len, IPC_NOWAIT))
			goto out;
	}
	ds.msg_perm.uid = s->uid;
	ds.msg_perm.gid = s->gid;
	ds.msg_perm.mode = s->mode;
	ds.msg_qbytes = s->size;
	ret = buf ? msgctl(s->id, IPC_SET, &ds) : -1;
out:
	free(buf);
	return ret;
}

static int fill_sems(const struct img_sysv *s)
{
	union restore_semun arg;
	struct semid_ds ds;

	arg.array = s->semvals;
	if (semctl(s->id, 0, SETALL, arg))
		return -1;
	arg.buf = &ds;
	if (semctl(s->id, 0, IPC_STAT, arg))
		return -1;
	ds.sem_perm.uid = s->uid;
	ds.sem_perm.gid = s->gid;
	ds.sem_perm.mode = s->mode;
	return semctl(s->id, 0, IPC_SET, arg);
}

static int fill_segment(const struct img_sysv *s)
{
	struct shmid_ds ds;
	uint32_t i;
	char *map = shmat(s->id, NULL, 0);

	if (map == (void *)-1)
		return -1;
	for (i = 0; i < s->nr_chunks; i++)
		memcpy(map + s->chunks[i].off, s->chunks[i].data,
		       s->chunks[i].len);
	if (shmdt(map) || shmctl(s->id, IPC_STAT, &ds))
		return -1;
	ds.shm_perm.uid = s->uid;
	ds.shm_perm.gid = s->gid;
	ds.shm_perm.mode = s->mode;
	if (shmctl(s->id, IPC_SET, &ds))
		return -1;
	return s->flags & IMG_SYSV_LOCKED ? shmctl(s->id, SHM_LOCK, NULL) : 0;
}

/* A POSIX queue: made, given its owner and mode (mq_open's is under
 * the umask), and its messages in order, with their priorities */
static int make_mqueue(const struct img_sysv *s)
{
	struct mq_attr at = { .mq_maxmsg = s->maxmsg, .mq_msgsize = s->size };
	char path[260];
	uint32_t i;
	int ret = -1;
	mqd_t q;

	snprintf(path, sizeof(path), "/%s", s->name);
	q = mq_open(path, O_CREAT | O_EXCL | O_WRONLY | O_NONBLOCK | O_CLOEXEC,
		    s->mode, &at);
	if (q < 0)
		return -1;
	if (fchown(q, s->uid, s->gid) || fchmod(q, s->mode))
		goto out;
	for (i = 0; i < s->nr_msgs; i++)
		if (mq_send(q, (const char *)s->msgs[i].data, s->msgs[i].len,
			    s->msgs[i].type))
			goto out;
	ret = 0;
out:
	mq_close(q);
	return ret;
}

int restore_ipcns_make(const struct restore_run *run, const struct img_ns *ns,
		       const char **what)
{
	static char which[96];
	const struct img_sysv *s;
	uint32_t i;
	int ret;

	for (i = 0; i < run->img->nr_sysvs; i++) {
		s = &run->img->sysvs[i];
		if (s->ns != ns->id)
			continue;
		if (s->kind == IMG_SYSV_MQUEUE) {
			snprintf(which, sizeof(which), "ipc (POSIX message queue /%.60s)",
				 s->name);
			*what = which;
			if (make_mqueue(s))
				return -1;
			continue;
		}
		snprintf(which, sizeof(which), "ipc (System V %s %d, key %#x)",
			 img_sysv_kind_name(s->kind), s->id, (unsigned)s->key);
		*what = which;
		if (make(s) < 0)
			return -1;
		ret = s->kind == IMG_SYSV_MSG ? fill_queue(s) :
		      s->kind == IMG_SYSV_SEM ? fill_sems(s) : fill_segment(s);
		if (ret)
			return -1;
	}
	return 0;
}

int restore_mqueue_files(const struct image *img, int *files,
			 const char **name)
{
	const struct img_file *f;
	uint32_t i;

	for (i = 0; files && i < img->nr_files; i++) {
		f = &img->files[i];
		if (f->kind != IMG_FILE_MQUEUE)
			continue;
		*name = f->path;
		/* not O_CLOEXEC: F_GETFL of a queue's fd would show it */
		files[i] = mq_open(f->path, (int)(f->flags & (O_ACCMODE |
							   O_NONBLOCK)));
		if (files[i] < 0)
			return -1;
	}
	return 0;
}
