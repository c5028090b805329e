/*
 * The System V objects of an IPC namespace of the tree's own (dump-ns.c
 * found it, and that no process outside the tree is in it): ckpt enters
 * the namespace and reads every message queue, semaphore set and
 * segment there with the *_STAT calls, which take an index and give the
 * id. A queue's messages are copied with msgrcv(MSG_COPY), which leaves
 * them queued (Linux 3.8, CONFIG_CHECKPOINT_RESTORE); a segment's bytes
 * through a read-only attach and its file in /proc/self/map_files, holes
 * skipped. They become SYSV records (image.h), which restore makes again
 * with the same ids (restore/ipcns.c).
 *
 * Refused, naming the owner of the namespace and the object: a segment
 * that a process has attached (restore would have to map it in the new
 * namespace: not supported yet), and a queue too big for one record.
 * What no interface shows is not kept: a process's semaphore undo
 * values (SEM_UNDO: the kernel has no call that reads them), and the
 * times and last PIDs of each object (restore's calls set them anew).
 */
#include <sys/ipc.h>
#include <sys/msg.h>
#include <sys/sem.h>
#include <sys/shm.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ckpt/dump-priv.h"

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
		if (ds.__msg_cbytes + 16 * ds.msg_qnum > IMG_MAX_SYSV_QUEUE)
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
		if (ds.shm_nattch)
			return refuse_obj(wk, "segment", id, "is attached by a process, which is not supported yet");
		/* our detach would destroy it (ipc/shm.c shm_may_destroy) */
		if (rmid_forced(wk->ns))
			return refuse_obj(wk, "segment", id, "is not attached and kernel.shm_rmid_forced is set, which is not supported yet");
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

/* In the namespace: all three kinds */
static int read_all(void *arg)
{
	struct ipcns_walk *wk = arg;

	return read_queues(wk) || read_sems(wk) || read_segments(wk) ? -1 : 0;
}

int dump_ipcns_collect(struct dump_tree *t, const struct img_ns *ns)
{
	struct ipcns_walk wk = { t, ns };

	return dump_in_ipcns(ns->owner, read_all, &wk);
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

void dump_free_sysvs(struct dump_tree *t)
{
	uint32_t i;

	for (i = 0; i < t->nr_sysvs; i++)
		img_sysv_free(&t->sysvs[i]);
	free(t->sysvs);
	t->sysvs = NULL;
	t->nr_sysvs = 0;
}
