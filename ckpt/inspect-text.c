/*
 * inspect-text: ckpt inspect's summary for people, one line per object:
 * the header, the file table, the shared memory objects, then each
 * process with its threads (registers and backtrace), maps, fds and page
 * count, or each zombie with its exit status. ckpt(1) documents the lines.
 */
#include <sys/socket.h>
#include <sys/stat.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "arch/arch.h"
#include "ckpt/inspect.h"

/* an AIO context: its ring's place and size, and its header's slot,
 * head and tail */
static void print_aio(const struct img_aio *a)
{
	uint32_t w[4];

	memcpy(w, a->data, sizeof(w));
	printf("aio ring %" PRIx64 "-%" PRIx64 " prot %x max_reqs %u events %u slot %u head %u tail %u\n",
	       a->ring, a->ring + a->len, a->prot, a->max_reqs, a->nr_events,
	       w[0], w[2], w[3]);
}

static void print_frame(int i, const struct bt_frame *f)
{
	printf("  #%d 0x%" PRIx64, i, f->pc);
	if (f->name[0])
		printf(" %s+0x%" PRIx64, f->name, f->offset);
	else
		printf(" ??");
	if (f->object[0])
		printf(" (%s)", f->object);
	putchar('\n');
}

/* own 1235 cwd /tmp umask 077; own 1235 fd 50 is 4 cloexec */
static void print_own(const struct img_thread *t)
{
	const struct img_tshare *o = &t->own;
	uint32_t i;

	if (o->own & IMG_SHARE_FS)
		printf("own %d cwd %s umask %03o\n", t->tid, o->cwd, o->umask);
	if (o->own & IMG_SHARE_FILES)
		printf("own %d fd table of %u fds\n", t->tid, o->nr_fds);
	for (i = 0; i < o->nr_fds; i++)
		printf("own %d fd %d is %d%s\n", t->tid, o->fds[i].fd,
		       o->fds[i].src, o->fds[i].fdflags ? " cloexec" : "");
}

static void print_thread(const struct bt_image *src,
			 const struct img_thread *t)
{
	struct bt_frame frames[INSPECT_MAX_FRAMES];
	int i, n;

	printf("thread %d sigmask %#" PRIx64 " pending %u\n", t->tid,
	       t->sigmask, t->nr_siginfo);
	printf("caps %d inh %#" PRIx64 " prm %#" PRIx64 " eff %#" PRIx64
	       " bnd %#" PRIx64 " amb %#" PRIx64 " securebits %#x\n", t->tid,
	       t->caps.inh, t->caps.prm, t->caps.eff, t->caps.bnd,
	       t->caps.amb, t->caps.securebits);
	print_own(t);
	if (t->regs_isa != arch_isa())
		return;
	for (i = 0; i < (int)t->nr_regs; i++)
		printf("  %-8s %#" PRIx64 "\n", arch_reg_name(i), t->regs[i]);
	n = inspect_frames(src, t, frames);
	for (i = 0; i < n; i++)
		print_frame(i, &frames[i]);
}

static void print_fd(const struct img_fd *f)
{
	printf("fd %d %s", f->fd, inspect_fd_type(f->type));
	if (f->type == IMG_FD_FILE)
		printf(" %u", f->file);
	printf(" flags %#o pos %" PRIu64 " %s\n", f->flags, f->pos,
	       f->path ? f->path : "");
}

/* file 3: unix stream connected peer 1234 shut wr, 10 bytes queued name
 * [(unlinked)] [peer-name NAME] [waiting PLACE] [external] */
static void print_unix(const struct img_file *f)
{
	const struct img_unix *u = &f->sk;

	printf("file %u: unix ino %" PRIu64 " %s %s peer %" PRIu64, f->id,
	       f->ino, inspect_sock_type(u->type), inspect_unix_state(u->state),
	       u->peer);
	if (u->shutdown)
		printf(" shut%s%s", u->shutdown & IMG_SHUT_RD ? " rd" : "",
		       u->shutdown & IMG_SHUT_WR ? " wr" : "");
	printf(" flags %#o, %" PRIu64 " bytes queued in %u chunks%s%s",
	       f->flags, inspect_queued_bytes(f), f->nr_chunks, f->path ? " " : "",
	       f->path ? f->path : "");
	if (u->opts & IMG_UNIX_UNLINKED)
		printf(" (unlinked)");
	if (u->peer_name)
		printf(" peer-name %s", u->peer_name);
	if (u->opts & IMG_UNIX_PENDING)
		printf(" waiting %u", u->backlog);
	printf("%s\n", u->opts & IMG_UNIX_EXTERNAL ? " external" : "");
}

/*
 * file 3: tcp ino 99 ipv4 established 127.0.0.1:80 peer 127.0.0.1:4000
 * flags 02, sendq 5 unsent 0 recvq 3 bytes, opts SO_REUSEADDR=1 (with
 * ", peer outside, lock ckpt_..." before opts for --tcp-established;
 * ", not accepted yet by file N" for one in a listener's queue)
 */
static void print_inet(const struct img_file *f)
{
	const struct img_inet *in = &f->inet;
	char a[96];
	uint32_t i;

	printf("file %u: %s ino %" PRIu64 " %s %s %s", f->id,
	       inspect_file_kind(f->kind), f->ino,
	       in->family == AF_INET ? "ipv4" : "ipv6",
	       inspect_inet_state(in->state),
	       inspect_sock_addr(in, 0, a, sizeof(a)));
	if (in->peer_port)
		printf(" peer %s", inspect_sock_addr(in, 1, a, sizeof(a)));
	if (in->state == IMG_INET_LISTENING)
		printf(" backlog %u", in->backlog);
	printf(" flags %#o", f->flags);
	if (img_tcp_connection(f))
		printf(", sendq %u unsent %u recvq %u bytes",
		       in->tcp.sendq_len, in->tcp.unsent_len,
		       in->tcp.recvq_len);
	if (in->lock)
		printf(", peer outside, lock %s", in->lock);
	if (img_tcp_queued(f))
		printf(", not accepted yet by file %u", in->listener);
	if (f->kind == IMG_FILE_UDP)
		printf(", %" PRIu64 " bytes queued in %u chunks",
		       inspect_queued_bytes(f), f->nr_chunks);
	printf(", opts");
	for (i = 0; i < IMG_NR_SOCKOPTS; i++)
		if (in->opt_mask & (1u << i))
			printf(" %s=%d", img_sockopt(i)->name, in->opt[i]);
	if (in->dev)
		printf(" SO_BINDTODEVICE=%s", in->dev);
	for (i = 0; i < in->nr_xopts; i++)
		printf(" %s=%s", img_xopt_find(in->xopts[i].level,
					       in->xopts[i].opt)->name,
		       inspect_xopt(&in->xopts[i], a, sizeof(a)));
	for (i = 0; i < in->nr_mcast; i++)
		printf(", multicast %s on %s, %s %u sources",
		       inspect_mcast_addr(&in->mcast[i], in->mcast[i].group, a,
					  sizeof(a)), in->mcast[i].dev,
		       in->mcast[i].mode == MCAST_INCLUDE ? "include" :
		       "exclude", in->mcast[i].nr_src);
	putchar('\n');
}

/* file 3: netlink ino 99 protocol 0 port 1234 groups 0x11 0 0 0 flags 02 */
static void print_netlink(const struct img_file *f)
{
	const struct img_netlink *nl = &f->nl;
	int i;

	printf("file %u: netlink ino %" PRIu64 " protocol %u port %u groups",
	       f->id, f->ino, nl->protocol, nl->portid);
	for (i = 0; i < IMG_NL_GROUP_WORDS; i++)
		printf(" %#" PRIx64, nl->groups[i]);
	printf(" flags %#o opts %#x\n", f->flags, nl->opts);
}

/* What an eventfd ... inotify holds: one line, and one per watch. */
static void print_kfd(const struct img_file *f)
{
	uint32_t i;

	printf("file %u: %s flags %#o", f->id, inspect_file_kind(f->kind),
	       f->flags);
	if (f->kind == IMG_FILE_EVENTFD)
		printf(" count %" PRIu64 "%s", f->efd.count,
		       f->efd.semaphore ? " semaphore" : "");
	if (f->kind == IMG_FILE_SIGNALFD)
		printf(" sigmask %#" PRIx64, f->sfd.sigmask);
	if (f->kind == IMG_FILE_TIMERFD)
		printf(" clock %u %s %" PRIu64 " ns interval %" PRIu64
		       " ns ticks %" PRIu64, f->tfd.clockid,
		       f->tfd.flags & IMG_TFD_ABSTIME ? "at" : "in",
		       f->tfd.value_ns, f->tfd.interval_ns, f->tfd.ticks);
	if (f->kind == IMG_FILE_EPOLL || f->kind == IMG_FILE_INOTIFY)
		printf(" watches %u", f->kind == IMG_FILE_EPOLL ? f->ep.nr :
		       f->in.nr);
	putchar('\n');
	for (i = 0; i < f->ep.nr; i++)
		printf("  watch file %u fd %d events %#x data %#" PRIx64 "\n",
		       f->ep.w[i].file, f->ep.w[i].tfd, f->ep.w[i].events,
		       f->ep.w[i].data);
	for (i = 0; i < f->in.nr; i++)
		printf("  watch wd %d mask %#x %s\n", f->in.w[i].wd,
		       f->in.w[i].mask, f->in.w[i].path);
}

static void print_files(const struct image *img)
{
	uint32_t i;

	for (i = 0; i < img->nr_files; i++) {
		const struct img_file *f = &img->files[i];

		if (img_kfd_kind(f->kind)) {
			print_kfd(f);
			continue;
		}
		if (f->kind == IMG_FILE_UNIX) {
			print_unix(f);
			continue;
		}
		if (img_inet_kind(f->kind)) {
			print_inet(f);
			continue;
		}
		if (f->kind == IMG_FILE_NETLINK) {
			print_netlink(f);
			continue;
		}
		printf("file %u: %s ino %" PRIu64 " flags %#o", f->id,
		       inspect_file_kind(f->kind), f->ino, f->flags);
		if (f->kind == IMG_FILE_GHOST)
			printf(" pos %" PRIu64 " ghost %u", f->pos, f->ghost);
		else if (f->kind == IMG_FILE_MEMFD)
			printf(" pos %" PRIu64 " shm %u", f->pos, f->shm);
		else if (f->kind == IMG_FILE_REG)
			printf(" pos %" PRIu64, f->pos);
		else if (f->kind == IMG_FILE_PTY_SLAVE)
			printf(" /dev/pts/%u", f->tty.index);
		else if (f->kind == IMG_FILE_PIDFD && f->pidfd.pid)
			printf(" pid %d", f->pidfd.pid);
		else if (f->kind == IMG_FILE_PIDFD)
			printf(" reaped status %#x", f->pidfd.status);
		else if (f->kind == IMG_FILE_TUN)
			printf(" on %s", f->tun_dev ? f->tun_dev : "-");
		else if (f->kind == IMG_FILE_TTY)
			printf(" %ux%u sid %d fg %d", f->tty.rows, f->tty.cols,
			       f->tty.sid, f->tty.pgrp);
		else if (f->kind == IMG_FILE_PTY_MASTER)
			printf(" /dev/pts/%u %ux%u sid %d fg %d, %" PRIu64
			       " bytes queued", f->tty.index, f->tty.rows,
			       f->tty.cols, f->tty.sid, f->tty.pgrp,
			       inspect_queued_bytes(f));
		else if (f->kind != IMG_FILE_MQUEUE)	/* its name alone */
			printf(" size %u, %" PRIu64 " bytes queued",
			       f->pipe_size, inspect_queued_bytes(f));
		if (img_tty_kind(f->kind) && f->tty.mount)
			printf(" devpts mount %u", f->tty.mount);
		if (f->tty.flags & IMG_TTY_CONSOLE)
			printf(" console");
		printf("%s%s\n", f->path ? " " : "", f->path ? f->path : "");
	}
}

/* pidns 57 ns 4026532201 pids 1 children 0: process 57 of the tree's
 * top PID namespace is PID 1 of one below it (outermost first) */
static void print_pidlv(const struct img_proc *p)
{
	const struct img_pidlv *l = &p->pidlv;
	uint32_t i;

	if (!l->ns && !l->for_children)
		return;
	printf("pidns %d ns %" PRIu64 " pids", p->pid, l->ns);
	for (i = 0; i < l->nr_nspids; i++)
		printf(" %d", l->nspids[i]);
	printf(" children %" PRIu64 "\n", l->for_children);
}

/* "exit 7", "signal 15", "signal 11 core": what wait4() will say */
static void print_zombie(const struct img_proc *z)
{
	uint32_t st = z->exit_status;

	printf("zombie %d ppid %d pgid %d sid %d comm %s status %#x ", z->pid,
	       z->ppid, z->pgid, z->sid, z->comm, st);
	if (st & 0x7f)
		printf("signal %u%s\n", st & 0x7f, st & 0x80 ? " core" : "");
	else
		printf("exit %u\n", st >> 8);
}

static const char *const lock_kinds[] = { "?", "posix", "ofd", "flock",
					  "lease" };
static const char *const fown_types[] = { "thread", "process", "group" };

static void print_process(const struct bt_image *src)
{
	const struct img_process *p = src->p;
	uint32_t i, k;

	if (p->proc.zombie) {
		print_zombie(&p->proc);
		print_pidlv(&p->proc);
		return;
	}

	printf("process %d ppid %d pgid %d sid %d comm %s exe %s cwd %s threads %u dumpable %u\n",
	       p->proc.pid, p->proc.ppid, p->proc.pgid, p->proc.sid,
	       p->proc.comm, p->proc.exe, p->proc.cwd, p->nr_threads,
	       p->proc.dumpable);
	print_pidlv(&p->proc);
	if (p->proc.ks.share)
		printf("share %d with %d%s%s\n", p->proc.pid, p->proc.ppid,
		       p->proc.ks.share & IMG_SHARE_FS ? " cwd" : "",
		       p->proc.ks.share & IMG_SHARE_FILES ? " fd-table" : "");
	if (p->proc.ks.membarrier)
		printf("membarrier %d %#x\n", p->proc.pid,
		       p->proc.ks.membarrier);
	if (p->proc.ks.memory_merge)
		printf("memory-merge %d\n", p->proc.pid);
	if (p->proc.ks.mlockall)
		printf("mlockall %d future%s\n", p->proc.pid,
		       p->proc.ks.mlockall & IMG_MCL_ONFAULT ? " onfault" : "");
	for (i = 0; i < p->proc.ks.nr_timers; i++) {
		const struct img_timer *t = &p->proc.ks.timers[i];

		printf("timer %d %d clock %d %s %" PRIu64 " interval %" PRIu64
		       " overrun %u", p->proc.pid, t->id, t->clockid,
		       t->abs ? "at" : "left", t->value_ns, t->interval_ns,
		       t->overrun);
		if (t->pending)
			printf(" pending, carrying %u", t->pend_overrun);
		printf("\n");
	}
	for (i = 0; i < p->nr_threads; i++)
		print_thread(src, &p->threads[i]);
	for (i = 0; i < p->nr_vmas; i++) {
		const struct img_vma *v = &p->vmas[i];

		printf("vma %" PRIx64 "-%" PRIx64 " prot %u flags %#x ",
		       v->start, v->end, v->prot, v->flags);
		if (v->shm)
			printf("shm %u offset %" PRIu64 " ", v->shm, v->pgoff);
		if (v->flags & IMG_VMA_GHOST)
			printf("ghost ino %" PRIu64 " ", v->ino);
		printf("%s\n", v->path ? v->path : "");
		for (k = 0; k < v->nr_guards; k++)
			printf("guard %" PRIx64 "-%" PRIx64 "\n",
			       v->guards[k].start, v->guards[k].end);
	}
	for (i = 0; i < p->nr_fds; i++)
		print_fd(&p->fds[i]);
	for (i = 0; i < p->nr_locks; i++)
		printf("lock fd %d %s %s start %" PRIu64 " len %" PRIu64 "\n",
		       p->locks[i].fd, lock_kinds[p->locks[i].kind],
		       p->locks[i].write ? "write" : "read",
		       p->locks[i].start, p->locks[i].len);
	for (i = 0; i < p->nr_fowns; i++)
		printf("fown fd %d %s %d signal %u\n", p->fowns[i].fd,
		       fown_types[p->fowns[i].type], p->fowns[i].pid,
		       p->fowns[i].sig);
	for (i = 0; i < p->nr_aios; i++)
		print_aio(&p->aios[i]);
	printf("pages %" PRIu64 " in %u runs (%" PRIu64 " from parents)\n",
	       inspect_count_pages(p->pages, p->nr_pages), p->nr_pages,
	       inspect_parent_pages(p->pages, p->nr_pages));
}

/* ghost 1 reg size 5000 mode 0640 pages 2 ino 1234 /tmp/x */
static void print_ghost(const struct img_ghost_object *o)
{
	const struct img_ghost *g = &o->g;

	printf("ghost %u %s size %" PRIu64 " mode %#o pages %" PRIu64
	       " ino %" PRIu64 " %s\n", g->id, S_ISDIR(g->mode) ? "dir" :
	       S_ISFIFO(g->mode) ? "fifo" : "reg",
	       g->size, g->mode & 07777,
	       inspect_count_pages(o->pages, o->nr_pages), g->ino, g->path);
}

static void print_shm(const struct img_shm_object *o)
{
	const struct img_shm *s = &o->shm;

	printf("shm %u %s size %" PRIu64 " mode %#o pages %" PRIu64,
	       s->id, inspect_shm_kind(s->kind), s->size, s->mode,
	       inspect_count_pages(o->pages, o->nr_pages));
	if (s->kind == IMG_SHM_MEMFD)
		printf(" seals %#x name %s", s->seals, s->name);
	if (s->kind == IMG_SHM_SYSV)
		printf(" key %#x shmid %d%s%s", (unsigned int)s->key,
		       s->shmid, s->flags & IMG_SHM_REMOVED ? " removed" : "",
		       s->flags & IMG_SHM_IPCNS ? " ipcns" : "");
	putchar('\n');
}

/* ns-uid-map 4026532201 0 100000 65536 (inner outer count) */
static void print_idmap(const char *what, uint64_t id,
			const struct img_idmap *map, uint32_t n)
{
	uint32_t i;

	for (i = 0; i < n; i++)
		printf("ns-%s %" PRIu64 " %u %u %u\n", what, id, map[i].inner,
		       map[i].outer, map[i].count);
}

/* ns uts 4026532200 owner 1234 hostname box domainname (none);
 * ns user 4026532201 owner 1 setgroups deny;
 * ns time 4026532202 owner 1 monotonic 86400000000000 boottime
 * 90000000000000 offsets 86000000000000 89000000000000 (and
 * " children-only"); ns-cgroup 4026532203 memory root /box inner /sub */
static void print_ns(const struct img_ns *ns)
{
	uint32_t i;

	printf("ns %s %" PRIu64 " owner %u", img_ns_name(ns->kind), ns->id,
	       ns->owner);
	if (ns->kind == IMG_NS_UTS)
		printf(" hostname %s domainname %s", ns->hostname,
		       ns->domainname);
	if (ns->kind == IMG_NS_USER)
		printf(" setgroups %s", ns->setgroups_deny ? "deny" : "allow");
	if (ns->kind == IMG_NS_TIME)
		printf(" monotonic %" PRIu64 " boottime %" PRIu64
		       " offsets %" PRId64 " %" PRId64 "%s", ns->mono_ns,
		       ns->boot_ns, ns->mono_off_ns, ns->boot_off_ns,
		       ns->time_children ? " children-only" : "");
	if ((ns->kind == IMG_NS_PID && ns->owner != 1) ||
	    (ns->kind == IMG_NS_MNT && ns->parent))
		printf(" parent %" PRIu64, ns->parent);
	putchar('\n');
	for (i = 0; i < ns->nr_cgns; i++)
		printf("ns-cgroup %" PRIu64 " %s root %s inner %s\n", ns->id,
		       ns->cgns[i].controllers[0] ? ns->cgns[i].controllers :
		       "(v2)", ns->cgns[i].root, ns->cgns[i].inner);
	print_idmap("uid-map", ns->id, ns->uid_map, ns->nr_uid_map);
	print_idmap("gid-map", ns->id, ns->gid_map, ns->nr_gid_map);
	for (i = 0; i < ns->nr_sysctls; i++)
		printf("ns-sysctl %" PRIu64 " %s %s\n", ns->id,
		       ns->sysctls[i].name, ns->sysctls[i].value);
}

/* sysv msg 32768 key 0x4350aa01 ns 4026532 mode 0620 uid 1000 gid 1001
 * cuid 1234 cgid 2345 size 3000 messages 5 (sem: values; shm: data BYTES
 * and " locked"; mqueue: "name /NAME maxmsg N" before) */
static void print_sysv(const struct img_sysv *s)
{
	int msgs = s->kind == IMG_SYSV_MSG || s->kind == IMG_SYSV_MQUEUE;
	uint64_t n = msgs ? s->nr_msgs : s->size;
	uint32_t i;

	printf("sysv %s %d key %#x ns %" PRIu64 " mode %04o uid %u gid %u cuid %u cgid %u size %" PRIu64,
	       img_sysv_kind_name(s->kind), s->id, (unsigned)s->key, s->ns,
	       s->mode, s->uid, s->gid, s->cuid, s->cgid, s->size);
	if (s->kind == IMG_SYSV_SHM)
		for (i = 0, n = 0; i < s->nr_chunks; i++)
			n += s->chunks[i].len;
	if (s->name)
		printf(" name /%s maxmsg %" PRIu64, s->name, s->maxmsg);
	printf(" %s %" PRIu64 "%s\n", msgs ? "messages" :
	       s->kind == IMG_SYSV_SEM ? "values" : "data", n,
	       s->flags & IMG_SYSV_LOCKED ? " locked" : "");
}

/* cgroup memory /box memory.limit_in_bytes=67108864 */
static void print_cgroup(const struct img_cgroup *cg)
{
	uint32_t i;

	printf("cgroup %s %s", cg->controllers[0] ? cg->controllers : "-",
	       cg->path);
	for (i = 0; i < cg->nr_settings; i++)
		printf(" %s=%s", cg->settings[i].name, cg->settings[i].value);
	putchar('\n');
}

/* mount 2 tmpfs /tmp tmpfs tmpfs flags nosuid,nodev,relatime options
 * size=1024k propagation private files 3 bytes 4096; an NSMOUNT's
 * "nsmount 5 ns 4026532300 copy /mnt ext4 /dev/sda1 flags ... gone" */
static void print_mount(const struct image *img, const struct img_mount *m)
{
	static const struct {
		uint32_t flag;
		const char *name;
	} fl[] = {
		{ 0x1, "ro" }, { 0x2, "nosuid" }, { 0x4, "nodev" },
		{ 0x8, "noexec" }, { 0x400, "noatime" },
		{ 0x800, "nodiratime" }, { 0x200000, "relatime" },
		{ 0x1000000, "strictatime" },
	};
	static const char *const prop[] = { "private", "shared",
					    "unbindable", "slave" };
	uint64_t bytes;
	uint32_t i, files, n = 0;

	if (m->id > img->nr_mounts)
		printf("nsmount %u ns %" PRIu64, m->id, m->ns);
	else
		printf("mount %u", m->id);
	printf(" %s %s %s %s", img_mnt_kind_name(m->kind), m->point,
	       m->fstype, m->source);
	if (m->host)
		printf(" host %s", m->host);
	printf(" flags ");
	for (i = 0; i < ARRAY_SIZE(fl); i++)
		if (m->flags & fl[i].flag)
			printf("%s%s", n++ ? "," : "", fl[i].name);
	printf("%s options %s%s propagation %s", n ? "" : "-",
	       m->sb_ro ? "ro," : "", m->options[0] ? m->options : "-",
	       prop[m->propagation]);
	files = inspect_mount_files(img, m->id, &bytes);
	if (m->kind == IMG_MNT_TMPFS)
		printf(" files %u bytes %" PRIu64, files, bytes);
	if (m->gone)
		printf(" gone");
	putchar('\n');
}

/* an address, "default" for a route's empty one */
static const char *net_addr(uint32_t family, const uint8_t *a, char *buf,
			    size_t len)
{
	if (!inet_ntop(family, a, buf, len))
		snprintf(buf, len, "?");
	return buf;
}

/* netdev 2 veth eth0 up mtu 1400 mac 02:00:00:00:79:02 peer v0 addrs
 * 10.79.0.2/24 (addrs -: none); a macvlan has "lower NAME mode N flags
 * F" instead of its peer ("peer NAME inside" for a pair inside the
 * namespace) (IFLA_MACVLAN_MODE and _FLAGS values); a bridge
 * "stp N forward_delay N ageing_time N vlan_filtering N ports A,B" (times
 * in 1/100 s), a tun "flags F owner N group N vnet_hdr_sz N sndbuf N" */
static void print_netdev(const struct img_netdev *d)
{
	char a[INET6_ADDRSTRLEN];
	uint32_t i;

	printf("netdev %u %s %s %s mtu %u mac ", d->index,
	       img_netdev_kind_name(d->kind), d->name, d->up ? "up" : "down",
	       d->mtu);
	for (i = 0; i < d->mac_len; i++)
		printf("%s%02x", i ? ":" : "", d->mac[i]);
	printf("%s", d->mac_len ? "" : "-");
	if (d->peer && IMG_NETDEV_LOWERED(d->kind))
		printf(" lower %s mode %u flags %#x", d->peer, d->mode,
		       d->flags);
	else if (d->peer)
		printf(" peer %s%s", d->peer, d->inner ? " inside" : "");
	if (d->kind == IMG_NETDEV_BRIDGE) {
		printf(" stp %u forward_delay %u ageing_time %u vlan_filtering %u ports",
		       d->br.stp, d->br.forward_delay, d->br.ageing_time,
		       d->br.vlan_filtering);
		for (i = 0; i < d->br.nr_ports; i++)
			printf("%s%s", i ? "," : " ", d->br.ports[i]);
		printf("%s", d->br.nr_ports ? "" : " -");
	}
	if (d->kind == IMG_NETDEV_TUN)
		printf(" flags %#x owner %d group %d vnet_hdr_sz %u sndbuf %u",
		       d->tun.flags, d->tun.owner, d->tun.group,
		       d->tun.vnet_hdr_sz, d->tun.sndbuf);
	printf(" addrs%s", d->nr_addrs ? "" : " -");
	for (i = 0; i < d->nr_addrs; i++)
		printf("%s%s/%u", i ? "," : " ",
		       net_addr(d->addrs[i].family, d->addrs[i].addr, a,
				sizeof(a)), d->addrs[i].prefixlen);
	putchar('\n');
}

/* route 10.78.0.0/16 via 10.77.0.1 dev 1 metric 0 proto 4 */
static void print_route(const struct img_route *r)
{
	char a[INET6_ADDRSTRLEN];

	if (r->dst_len)
		printf("route %s/%u", net_addr(r->family, r->dst, a, sizeof(a)),
		       r->dst_len);
	else
		printf("route default%s", r->family == AF_INET6 ? " ipv6" : "");
	if (r->has_gw)
		printf(" via %s", net_addr(r->family, r->gw, a, sizeof(a)));
	printf(" dev %u metric %u proto %u\n", r->dev, r->priority,
	       r->protocol);
}

/* snapfile reg size 5000 mode 0640 owner 0:0 mtime_ns 1580608922000000000
 *   xattrs 2 hash 5c0e... /data/a.dat (a link: "-> TEXT", a device:
 *   "rdev 0x103" before the path) */
static void print_snapfile(const struct img_snapfile *f)
{
	char hx[2 * IMG_HASH_LEN + 1];

	printf("snapfile %s size %" PRIu64 " mode %#o owner %u:%u mtime_ns %"
	       PRIu64 " xattrs %u hash %s", inspect_snap_kind(f->mode),
	       f->size, f->mode & 07777, f->uid, f->gid, f->mtime_ns,
	       inspect_snap_xattrs(f), inspect_snap_hash(f, hx));
	if (S_ISCHR(f->mode) || S_ISBLK(f->mode))
		printf(" rdev %#" PRIx64, f->rdev);
	printf(" %s", f->path);
	if (S_ISLNK(f->mode))
		printf(" -> %s", f->target);
	putchar('\n');
}

void inspect_print_text(const struct image *img, int fd)
{
	struct bt_image src = { .fd = fd, .page_size = img->hdr.page_size,
				.img = img };
	uint32_t i;

	printf("image version %u isa %s page-size %u kernel %s writer %s\n",
	       img->hdr.version, img_isa_name(img->hdr.isa),
	       img->hdr.page_size, img->hdr.kernel,
	       img->hdr.writer[0] ? img->hdr.writer : "-");
	if (img->ident.id)
		printf("id %016" PRIx64 "\n", img->ident.id);
	if (img->ident.parent_id)
		printf("parent %016" PRIx64 " %s\n", img->ident.parent_id,
		       img->ident.parent);
	for (i = 0; i < img->nr_chain; i++)
		printf("chain %u %s\n", i + 1, img->chain_paths[i]);
	for (i = 0; i < img->nr_nss; i++)
		print_ns(&img->nss[i]);
	for (i = 0; i < img->nr_cgroups; i++)
		print_cgroup(&img->cgroups[i]);
	for (i = 0; i < img->nr_mounts; i++)
		print_mount(img, &img->mounts[i]);
	for (i = 0; i < img->nr_nsmounts; i++)
		print_mount(img, &img->nsmounts[i]);
	for (i = 0; i < img->nr_netdevs; i++)
		print_netdev(&img->netdevs[i]);
	for (i = 0; i < img->nr_routes; i++)
		print_route(&img->routes[i]);
	for (i = 0; i < img->nr_sysvs; i++)
		print_sysv(&img->sysvs[i]);
	for (i = 0; i < img->nr_nsjoins; i++)
		printf("nsjoin %s %" PRIu64 " owner %u path %s\n",
		       img_ns_name(img->nsjoins[i].kind), img->nsjoins[i].id,
		       img->nsjoins[i].owner,
		       img->nsjoins[i].path ? img->nsjoins[i].path : "-");
	print_files(img);
	for (i = 0; i < img->nr_snapfiles; i++)
		print_snapfile(&img->snapfiles[i]);
	for (i = 0; i < img->nr_shms; i++)
		print_shm(&img->shms[i]);
	for (i = 0; i < img->nr_ghosts; i++)
		print_ghost(&img->ghosts[i]);
	for (i = 0; i < img->nr_procs; i++) {
		src.p = &img->procs[i];
		print_process(&src);
	}
}
