/*
 * A tree whose root is the init of its own PID namespace (a container's,
 * dump-ns.c) is dumped from the host, where every PID ckpt reads is the
 * host's; the image holds them as seen inside the namespace, which
 * restore makes again with the same PIDs (the host's are free to
 * differ). dump_pidns_translate() rewrites the records gathered, once
 * every check that needs the host's PIDs is done: a PID of the tree
 * becomes the one of its NSpid line (/proc/PID/status) at the root's
 * level (the last, but in namespaces below: dump-pidnest.c), any other
 * (a group or session led from outside the namespace, the root's
 * parent) 0, which is what the processes inside see of it.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ckpt/dump-priv.h"

pid_t dump_pidns_inner(pid_t host)
{
	char path[64];

	snprintf(path, sizeof(path), "/proc/%d/status", host);
	return proc_status_ns_id(path, "NSpid:");
}

/* host PIDs and thread ids of the tree and what they are inside the
 * root's namespace, level top of their NSpid lines (those in namespaces
 * below have more: dump-pidnest.c) */
struct pid_map {
	pid_t *host, *inner;
	size_t n;
	int top;
};

/* The id at level top of a status line (NSpid, NSpgid, NSsid), or -1 */
static pid_t id_at(const char *status, const char *key, int top)
{
	pid_t ids[IMG_MAX_PIDNS_DEPTH + 2];

	if (proc_status_ns_ids(status, key, ids, ARRAY_SIZE(ids)) <= top)
		return -1;
	return ids[top];
}

static int map_add(struct pid_map *m, pid_t host, const char *status)
{
	pid_t in = id_at(status, "NSpid:", m->top), *h, *i;

	if (in <= 0) {
		pr_err("can't read the PID of %d inside its PID namespace",
		       host);
		return -1;
	}
	h = realloc(m->host, (m->n + 1) * sizeof(*h));
	if (h)
		m->host = h;
	i = h ? realloc(m->inner, (m->n + 1) * sizeof(*i)) : NULL;
	if (!i)
		return -1;
	m->inner = i;
	m->host[m->n] = host;
	m->inner[m->n++] = in;
	return 0;
}

static pid_t inner(const struct pid_map *m, pid_t host)
{
	size_t i;

	for (i = 0; i < m->n; i++)
		if (m->host[i] == host)
			return m->inner[i];
	return 0;
}

static int map_tree(const struct dump_tree *t, struct pid_map *m)
{
	const struct img_process *p;
	char path[96];
	uint32_t k;
	int i;

	for (i = 0; i < t->n; i++) {
		p = &t->procs[i].proc;
		snprintf(path, sizeof(path), "/proc/%d/status",
			 t->procs[i].pid);
		if (map_add(m, t->procs[i].pid, path))
			return -1;
		for (k = 0; k < p->nr_threads; k++) {
			if (p->threads[k].tid == t->procs[i].pid)
				continue;
			snprintf(path, sizeof(path), "/proc/%d/task/%d/status",
				 t->procs[i].pid, p->threads[k].tid);
			if (map_add(m, p->threads[k].tid, path))
				return -1;
		}
	}
	return 0;
}

/* A CPU-time clock id encodes its process or thread (0: the caller's) */
static int32_t clock_inner(const struct pid_map *m, int32_t clk)
{
	pid_t id = clk < 0 ? ~(clk >> 3) : 0;

	if (!id)
		return clk;
	return (int32_t)((uint32_t)~inner(m, id) << 3) | (clk & 7);
}

/* Its group and session as the kernel shows them inside (NSpgid, NSsid:
 * a group whose leader is gone has no PID of the tree to map) */
static int translate_groups(pid_t host, struct img_proc *q, int top)
{
	char path[64];

	snprintf(path, sizeof(path), "/proc/%d/status", host);
	q->pgid = id_at(path, "NSpgid:", top);
	q->sid = id_at(path, "NSsid:", top);
	if (q->pgid >= 0 && q->sid >= 0)
		return 0;
	pr_err("can't read the group and session of %d inside its PID namespace",
	       host);
	return -1;
}

static void translate_proc(const struct pid_map *m, struct img_process *p)
{
	struct img_proc *q = &p->proc;
	struct img_timer *tm;
	uint32_t k;

	q->pid = inner(m, q->pid);
	q->ppid = inner(m, q->ppid);
	for (k = 0; k < p->nr_threads; k++)
		p->threads[k].tid = inner(m, p->threads[k].tid);
	for (k = 0; k < q->ks.nr_timers; k++) {
		tm = &q->ks.timers[k];
		tm->tid = inner(m, tm->tid);
		tm->owner = inner(m, tm->owner);
		tm->clockid = clock_inner(m, tm->clockid);
	}
	for (k = 0; k < p->nr_fowns; k++)
		p->fowns[k].pid = inner(m, p->fowns[k].pid);
}

static void translate_files(const struct pid_map *m, struct dump_tree *t)
{
	struct img_file *f;
	uint32_t i;

	for (i = 0; i < t->nr_files; i++) {
		f = &t->files[i].f;
		if (f->kind == IMG_FILE_PIDFD)
			f->pidfd.pid = inner(m, f->pidfd.pid);
		else if (img_tty_kind(f->kind) || f->kind == IMG_FILE_TTY) {
			f->tty.sid = inner(m, f->tty.sid);
			f->tty.pgrp = inner(m, f->tty.pgrp);
		}
	}
}

int dump_pidns_translate(struct dump_tree *t)
{
	struct pid_map m = { NULL, NULL, 0, 0 };
	uint32_t i;
	int ret = -1;

	/* the root's: the others, below it, are owned by their inits */
	for (i = 0; i < t->nr_nss && (t->nss[i].kind != IMG_NS_PID ||
				      t->nss[i].owner != (uint32_t)t->procs[0].pid);
	     i++)
		;
	if (i == t->nr_nss)
		return 0;
	m.top = dump_pidns_top_level(t->procs[0].pid);
	if (m.top < 0 || map_tree(t, &m))
		goto out;
	for (i = 0; i < (uint32_t)t->n; i++) {
		if (translate_groups(t->procs[i].pid, &t->procs[i].proc.proc,
				     m.top))
			goto out;
		translate_proc(&m, &t->procs[i].proc);
	}
	translate_files(&m, t);
	for (i = 0; i < t->nr_nss; i++)
		t->nss[i].owner = inner(&m, t->nss[i].owner);
	for (i = 0; i < t->nr_nsjoins; i++)
		t->nsjoins[i].owner = inner(&m, t->nsjoins[i].owner);
	ret = 0;
out:
	free(m.host);
	free(m.inner);
	return ret;
}
