/*
 * dump-epoll: which watches of each epoll were on its ready list. fdinfo
 * shows the watches (dump-kfds.c) but not the list, and restore's
 * EPOLL_CTL_ADD queues every watch whose file is ready: right for a
 * level-triggered watch (it is queued again after each report), wrong
 * for an edge-triggered one whose edge the process had taken already
 * (it would be reported twice). The ready list is read by the BPF
 * iterator of ckpt/bpf/epoll.bpf.c, after the files' contents were read
 * (an edge that comes later is one the process would be told of). An
 * edge-triggered watch whose file is ready and which is not on the list
 * gets IMG_EPOLL_REPORTED: restore consumes that edge (restore/kfds.c).
 *
 * Refused by name, as not restorable exactly: such a watch with
 * EPOLLONESHOT (consuming the edge would disarm it, and re-arming
 * queues it), or on another epoll (which becomes ready again as restore
 * fills it); an epoll a wait was copying events out of (ovflist active:
 * the items it took are on no list ckpt can see). Without BPF (not root,
 * no BTF), only the watches it matters for are refused: edge-triggered,
 * armed, on a file that is ready.
 */
#include <sys/sysmacros.h>
#include <sys/epoll.h>
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ckpt/bpf/epoll.h"
#include "ckpt/dump-priv.h"

/* bpf/epoll.bpf.c's object, embedded by the Makefile, and its record */
extern const unsigned char ckpt_epoll_bpf[], ckpt_epoll_bpf_end[];

/* what of events is a condition, not a flag */
#define EP_CONDITIONS	(~(uint32_t)(EPOLLET | EPOLLONESHOT | EPOLLWAKEUP | \
			 EPOLLEXCLUSIVE | IMG_EPOLL_REPORTED))

static const struct dump_bpf epoll_bpf = {
	.blob = ckpt_epoll_bpf, .end = ckpt_epoll_bpf_end,
	.name = "ckpt_epoll",
};

static struct dump_file *file_of(struct dump_tree *t, uint32_t id)
{
	uint32_t i;

	for (i = 0; i < t->nr_files; i++)
		if (t->files[i].f.id == id)
			return &t->files[i];
	return NULL;
}

/* An edge-triggered watch still armed: the ones the list matters for. */
static int edge_armed(const struct img_epoll_watch *w)
{
	return (w->events & EPOLLET) && (w->events & EP_CONDITIONS);
}

/* 1 if the watched file of w is ready for w's events now, 0 if not, -1 */
static int watch_ready(struct dump_tree *t, const struct img_epoll_watch *w)
{
	struct dump_file *tf = file_of(t, w->file);
	struct pollfd p = { .events = w->events & 0xffff };
	int fd, n;

	if (!tf || (fd = dump_grab_fd(tf)) < 0)
		return -1;
	p.fd = fd;
	n = poll(&p, 1, 0);
	close(fd);
	if (n < 0)
		return -1;
	return !!(p.revents & (p.events | POLLERR | POLLHUP));
}

static int refuse(const struct dump_file *ep, const struct img_epoll_watch *w,
		  const char *why, const char *bpf)
{
	pr_err("can't dump epoll fd %d of %d: its edge-triggered watch of fd %d %s%s%s%s",
	       ep->fd, ep->pid, w->tfd, why, bpf ? " (BPF: " : "",
	       bpf ? bpf : "", bpf ? ")" : "");
	errno = EOPNOTSUPP;
	return -1;
}

/* Whether w is on the list seen: 1 on, 0 not, -1 can't tell (two
 * watches under one number on one inode: the kernel's list names the
 * file, which ckpt can't tell from the other). */
static int on_list(struct dump_tree *t, const struct dump_file *ep,
		   const struct img_epoll_watch *w, const struct ckpt_epoll_rec *s,
		   size_t n)
{
	const struct dump_file *tf = file_of(t, w->file), *of;
	uint32_t k;
	size_t i;

	for (k = 0; k < ep->f.ep.nr; k++) {
		of = file_of(t, ep->f.ep.w[k].file);
		if (&ep->f.ep.w[k] != w && ep->f.ep.w[k].tfd == w->tfd &&
		    of && of->f.dev == tf->f.dev && of->f.ino == tf->f.ino)
			return -1;
	}
	for (i = 1; i < n; i++)
		if (s[i].kind == CKPT_EPOLL_READY && s[i].tfd == w->tfd &&
		    s[i].ino == tf->f.ino &&
		    makedev(s[i].dev >> 20, s[i].dev & 0xfffff) == tf->f.dev)
			return 1;
	return 0;
}

static int check_watch(struct dump_tree *t, struct dump_file *ep,
		       struct img_epoll_watch *w, const struct ckpt_epoll_rec *s,
		       size_t n, int bpf_err)
{
	const struct dump_file *tf = file_of(t, w->file);
	int ready, on;

	if (!edge_armed(w) || !tf)
		return 0;
	ready = watch_ready(t, w);
	if (ready < 0) {
		pr_perror("can't poll the file epoll fd %d of %d watches as fd %d",
			  ep->fd, ep->pid, w->tfd);
		return -1;
	}
	if (!ready)
		return 0;	/* no edge to report twice */
	if (!s)
		return refuse(ep, w, "is on a file that is ready, and whether that was reported already can't be seen",
			      strerror(bpf_err));
	on = on_list(t, ep, w, s, n);
	if (on < 0)
		return refuse(ep, w, "shares its fd number and inode with another watch: which of them is on the ready list can't be told",
			      NULL);
	if (on)
		return 0;	/* reported once more at restore, as here */
	if (w->events & EPOLLONESHOT)
		return refuse(ep, w, "(EPOLLONESHOT, armed) is on a file that is ready, its edge reported already: restore can't consume it and keep the watch armed",
			      NULL);
	if (tf->f.kind == IMG_FILE_EPOLL)
		return refuse(ep, w, "is on an epoll that is ready, its edge reported already: that epoll becomes ready again as restore fills it",
			      NULL);
	w->events |= IMG_EPOLL_REPORTED;
	return 0;
}

/* The ready list of the epoll df, through ckpt's copy of it: records
 * after a HEAD, or NULL with errno. */
static struct ckpt_epoll_rec *read_list(struct dump_file *df, size_t *n)
{
	struct ckpt_epoll_rec *s;
	uint32_t ro;
	int m = dump_grab_fd(df), err;

	if (m < 0)
		return NULL;
	ro = m;
	s = dump_bpf_run(&epoll_bpf, &ro, sizeof(ro), getpid(), sizeof(*s),
			 n);
	err = errno;
	close(m);
	if (s && (!*n || s[0].kind != CKPT_EPOLL_HEAD)) {
		free(s);
		s = NULL;
		err = EPROTO;
	}
	errno = err;
	return s;
}

static int check_epoll(struct dump_tree *t, struct dump_file *df)
{
	struct ckpt_epoll_rec *s = NULL;
	uint32_t k;
	size_t n = 0, i;
	int ret = 0, bpf_err;

	for (k = 0; k < df->f.ep.nr && !edge_armed(&df->f.ep.w[k]); k++)
		;
	if (k == df->f.ep.nr)
		return 0;	/* recomputed at restore, exactly */
	s = read_list(df, &n);
	bpf_err = s ? 0 : errno;
	if (s && s[0].tfd) {
		pr_err("can't dump epoll fd %d of %d: a wait was copying its events out (its ready list is on that wait's stack)",
		       df->fd, df->pid);
		free(s);
		errno = EOPNOTSUPP;
		return -1;
	}
	for (i = 1; s && i < n; i++)
		if (s[i].kind == CKPT_EPOLL_MORE) {
			pr_err("can't dump epoll fd %d of %d: more than %d watches on its ready list",
			       df->fd, df->pid, CKPT_EPOLL_MAX_READY);
			free(s);
			errno = EOPNOTSUPP;
			return -1;
		}
	for (k = 0; !ret && k < df->f.ep.nr; k++)
		ret = check_watch(t, df, &df->f.ep.w[k], s, n, bpf_err);
	free(s);
	return ret;
}

int dump_epolls_ready(struct dump_tree *t)
{
	uint32_t i;

	for (i = 0; i < t->nr_files; i++)
		if (t->files[i].f.kind == IMG_FILE_EPOLL &&
		    check_epoll(t, &t->files[i]))
			return -1;
	return 0;
}
