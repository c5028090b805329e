/*
 * What an image must satisfy on this host before any process is created:
 * a tree with its root first and parents before children, registers of
 * this ISA, page size, every PID and TID it needs free, and zombies that
 * can die again as they died.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "restore/restore.h"

static int check_threads(struct restore_ctx *c, struct img_process *p)
{
	uint32_t i;

	for (i = 0; i < p->nr_threads; i++) {
		struct img_thread *t = &p->threads[i];

		if (t->regs_isa != arch_isa() ||
		    t->nr_regs != arch_regs_nr_words()) {
			pr_err("%s: thread %d has registers this restorer can't load",
			       c->path, t->tid);
			return -1;
		}
		if (t->xstate_len > arch_xstate_max()) {
			pr_err("%s: thread %d has an FPU state of %u bytes",
			       c->path, t->tid, t->xstate_len);
			return -1;
		}
	}
	if (p->threads[0].tid != p->proc.pid) {
		pr_err("%s: the first thread is %d, not the leader %d", c->path,
		       p->threads[0].tid, p->proc.pid);
		return -1;
	}
	return 0;
}

/* Is this id used by any task (process or thread) on the host? */
static int id_taken(pid_t id, char *who, size_t len)
{
	char path[64], *comm;

	snprintf(path, sizeof(path), "/proc/%d/comm", id);
	if (access(path, F_OK))
		return 0;
	comm = read_file_str(path, NULL);
	snprintf(who, len, "%s", comm ? comm : "?");
	who[strcspn(who, "\n")] = '\0';
	free(comm);
	return 1;
}

static int check_ids(struct restore_ctx *c, struct img_process *p)
{
	char who[64];
	uint32_t i;

	if (p->proc.zombie && id_taken(p->proc.pid, who, sizeof(who))) {
		pr_err("can't restore %s: pid %d of zombie is taken by '%s'",
		       c->path, p->proc.pid, who);
		return -1;
	}

	for (i = 0; i < p->nr_threads; i++) {
		pid_t id = p->threads[i].tid;

		if (id_taken(id, who, sizeof(who))) {
			pr_err("can't restore %s: %s %d is taken by '%s'",
			       c->path, i ? "tid" : "pid", id, who);
			return -1;
		}
	}
	return 0;
}

/* The root first, and every other process after its parent. */
static int check_tree(struct restore_ctx *c)
{
	struct image *img = c->img;
	uint32_t i, k;

	for (i = 1; i < img->nr_procs; i++) {
		for (k = 0; k < i; k++)
			if (img->procs[k].proc.pid == img->procs[i].proc.ppid)
				break;
		if (k == i) {
			pr_err("%s: process %d comes before its parent %d",
			       c->path, img->procs[i].proc.pid,
			       img->procs[i].proc.ppid);
			return -1;
		}
	}
	return 0;
}

/*
 * A zombie killed by a signal dies of it again, with the signal's default
 * action, which must be to terminate (the reader only checks the range).
 * The core-dump flag can't come back: that would take a core file.
 */
static int check_zombie(struct restore_ctx *c, const struct img_proc *z)
{
	int sig = z->exit_status & 0x7f;
	sigset_t harmless;

	sigemptyset(&harmless);
	sigaddset(&harmless, SIGCHLD);
	sigaddset(&harmless, SIGCONT);
	sigaddset(&harmless, SIGURG);
	sigaddset(&harmless, SIGWINCH);
	sigaddset(&harmless, SIGSTOP);
	sigaddset(&harmless, SIGTSTP);
	sigaddset(&harmless, SIGTTIN);
	sigaddset(&harmless, SIGTTOU);
	if (sig && sigismember(&harmless, sig) == 1) {
		pr_err("%s: can't recreate zombie %d: signal %d does not kill",
		       c->path, z->pid, sig);
		return -1;
	}
	if (z->exit_status & 0x80)
		pr_warn("%s: zombie %d dumped core; it is recreated killed by signal %d without the core-dump flag",
			c->path, z->pid, sig);
	return 0;
}

int restore_check(struct restore_ctx *c)
{
	uint32_t i;

	c->proc = &c->img->procs[0];
	if (c->img->hdr.page_size != (uint32_t)c->page_size) {
		pr_err("%s: made with %u-byte pages, this host has %ld",
		       c->path, c->img->hdr.page_size, c->page_size);
		return EXIT_BADIMAGE;
	}
	if (check_tree(c))
		return EXIT_BADIMAGE;
	for (i = 0; i < c->img->nr_procs; i++) {
		struct img_process *p = &c->img->procs[i];

		if (p->proc.zombie) {
			if (check_zombie(c, &p->proc))
				return EXIT_BADIMAGE;
			continue;
		}
		if (!p->proc.root || strcmp(p->proc.root, "/")) {
			pr_err("%s: process %d had root directory %s; only / is supported",
			       c->path, p->proc.pid,
			       p->proc.root ? p->proc.root : "(none)");
			return EXIT_BADIMAGE;
		}
		if (check_threads(c, p))
			return EXIT_BADIMAGE;
	}
	for (i = 0; i < c->img->nr_procs; i++)
		if (check_ids(c, &c->img->procs[i]))
			return EXIT_PIDTAKEN;
	return 0;
}
