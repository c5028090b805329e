/*
 * inspect-json: ckpt inspect --json, the same content as the text summary
 * as one JSON document on one line, for scripts. Strings are escaped and
 * any byte that is not UTF-8 (paths may hold any) becomes U+FFFD, so that
 * the document is always valid.
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
#include "util/json.h"


static void json_frame(const struct bt_frame *f)
{
	putchar('{');
	json_hex(1, "pc", f->pc);
	json_hex(0, "sp", f->sp);
	json_kstr(0, "symbol", f->name[0] ? f->name : NULL);
	json_u64(0, "offset", f->offset);
	json_kstr(0, "object", f->object[0] ? f->object : NULL);
	putchar('}');
}

static void json_regs_and_stack(const struct bt_image *src,
				const struct img_thread *t)
{
	struct bt_frame frames[INSPECT_MAX_FRAMES];
	uint32_t i;
	int j, n;

	json_key(0, "regs");
	putchar('{');
	for (i = 0; t->regs_isa == arch_isa() && i < t->nr_regs; i++)
		json_hex(!i, arch_reg_name(i), t->regs[i]);
	putchar('}');
	n = t->regs_isa == arch_isa() ? inspect_frames(src, t, frames) : 0;
	json_key(0, "backtrace");
	putchar('[');
	for (j = 0; j < n; j++) {
		if (j)
			putchar(',');
		json_frame(&frames[j]);
	}
	putchar(']');
}

/* "own": what a thread has of its own (unshare(2)), when it has any */
static void json_own(const struct img_tshare *o)
{
	uint32_t i;

	if (!o->own)
		return;
	json_key(0, "own");
	putchar('{');
	json_u64(1, "cwd_umask_own", !!(o->own & IMG_SHARE_FS));
	json_u64(0, "fd_table_own", !!(o->own & IMG_SHARE_FILES));
	if (o->cwd) {
		json_kstr(0, "cwd", o->cwd);
		json_hex(0, "umask", o->umask);
	}
	json_key(0, "fds");
	putchar('[');
	for (i = 0; i < o->nr_fds; i++) {
		fputs(i ? ",{" : "{", stdout);
		json_i64(1, "fd", o->fds[i].fd);
		json_i64(0, "process_fd", o->fds[i].src);
		json_u64(0, "cloexec", o->fds[i].fdflags);
		putchar('}');
	}
	fputs("]}", stdout);
}

static void json_thread(const struct bt_image *src,
			const struct img_thread *t)
{
	putchar('{');
	json_i64(1, "tid", t->tid);
	json_kstr(0, "comm", t->comm);
	json_hex(0, "sigmask", t->sigmask);
	json_u64(0, "pending", t->nr_siginfo);
	json_hex(0, "cap_inheritable", t->caps.inh);
	json_hex(0, "cap_permitted", t->caps.prm);
	json_hex(0, "cap_effective", t->caps.eff);
	json_hex(0, "cap_bounding", t->caps.bnd);
	json_hex(0, "cap_ambient", t->caps.amb);
	json_hex(0, "securebits", t->caps.securebits);
	json_own(&t->own);
	json_kstr(0, "regs_isa", img_isa_name(t->regs_isa));
	json_regs_and_stack(src, t);
	putchar('}');
}

static void json_vma(const struct img_vma *v)
{
	uint32_t i;

	putchar('{');
	json_hex(1, "start", v->start);
	json_hex(0, "end", v->end);
	json_u64(0, "pgoff", v->pgoff);
	json_u64(0, "prot", v->prot);
	json_hex(0, "flags", v->flags);
	json_hex(0, "advice", v->advice);
	json_kstr(0, "path", v->path);
	json_u64(0, "shm", v->shm);
	json_key(0, "guards");
	putchar('[');
	for (i = 0; i < v->nr_guards; i++) {
		fputs(i ? ",{" : "{", stdout);
		json_hex(1, "start", v->guards[i].start);
		json_hex(0, "end", v->guards[i].end);
		putchar('}');
	}
	fputs("]}", stdout);
}

static void json_shm(const struct img_shm_object *o)
{
	putchar('{');
	json_u64(1, "id", o->shm.id);
	json_kstr(0, "kind", inspect_shm_kind(o->shm.kind));
	json_u64(0, "size", o->shm.size);
	json_hex(0, "mode", o->shm.mode);
	json_u64(0, "uid", o->shm.uid);
	json_u64(0, "gid", o->shm.gid);
	json_kstr(0, "name", o->shm.name);
	json_hex(0, "seals", o->shm.seals);
	json_i64(0, "key", o->shm.key);
	json_i64(0, "shmid", o->shm.shmid);
	json_u64(0, "removed", !!(o->shm.flags & IMG_SHM_REMOVED));
	json_u64(0, "ipcns", !!(o->shm.flags & IMG_SHM_IPCNS));
	json_u64(0, "pages", inspect_count_pages(o->pages, o->nr_pages));
	putchar('}');
}

static void json_fd(const struct img_fd *f)
{
	putchar('{');
	json_i64(1, "fd", f->fd);
	json_kstr(0, "type", inspect_fd_type(f->type));
	if (f->type == IMG_FD_FILE)
		json_u64(0, "file", f->file);
	json_hex(0, "flags", f->flags);
	json_u64(0, "fdflags", f->fdflags);
	json_u64(0, "pos", f->pos);
	json_hex(0, "mode", f->mode);
	json_kstr(0, "path", f->path);
	putchar('}');
}

/* {"group": "239.1.2.3", "device": "lo", "mode": "exclude",
 *  "sources": ["10.0.0.1"]} */
static void json_mcast(int first, const struct img_mcast *m)
{
	char a[64];
	uint32_t i;

	if (!first)
		putchar(',');
	putchar('{');
	json_kstr(1, "group", inspect_mcast_addr(m, m->group, a, sizeof(a)));
	json_kstr(0, "device", m->dev);
	json_kstr(0, "mode", m->mode == MCAST_INCLUDE ? "include" :
		  "exclude");
	json_key(0, "sources");
	putchar('[');
	for (i = 0; i < m->nr_src; i++) {
		if (i)
			putchar(',');
		json_str(inspect_mcast_addr(m, m->src[i], a, sizeof(a)));
	}
	fputs("]}", stdout);
}

static void json_inet(const struct img_file *f)
{
	const struct img_inet *in = &f->inet;
	char a[64], x[96];
	uint32_t i;

	json_u64(0, "family", in->family == AF_INET ? 4 : 6);
	json_kstr(0, "state", inspect_inet_state(in->state));
	json_kstr(0, "local", inspect_sock_addr(in, 0, a, sizeof(a)));
	json_kstr(0, "peer", in->peer_port ? inspect_sock_addr(in, 1, a, sizeof(a)) :
		  NULL);
	json_u64(0, "backlog", in->backlog);
	json_kstr(0, "device", in->dev);
	json_key(0, "options");
	putchar('{');
	for (i = 0; i < IMG_NR_SOCKOPTS; i++)
		if (in->opt_mask & (1u << i))
			json_i64(!(in->opt_mask & ((1u << i) - 1)),
				 img_sockopt(i)->name, in->opt[i]);
	for (i = 0; i < in->nr_xopts; i++)
		json_kstr(!in->opt_mask && !i,
			  img_xopt_find(in->xopts[i].level,
					in->xopts[i].opt)->name,
			  inspect_xopt(&in->xopts[i], x, sizeof(x)));
	putchar('}');
	json_key(0, "multicast");
	putchar('[');
	for (i = 0; i < in->nr_mcast; i++)
		json_mcast(i == 0, &in->mcast[i]);
	putchar(']');
	if (!img_tcp_connection(f))
		return;
	json_u64(0, "sendq", in->tcp.sendq_len);
	json_u64(0, "unsent", in->tcp.unsent_len);
	json_u64(0, "recvq", in->tcp.recvq_len);
	json_kstr(0, "lock", in->lock);
	json_u64(0, "listener", in->listener);
}


static void json_unix(const struct img_unix *u)
{
	json_kstr(0, "type", inspect_sock_type(u->type));
	json_kstr(0, "state", inspect_unix_state(u->state));
	json_u64(0, "peer", u->peer);
	json_u64(0, "shutdown", u->shutdown);
	json_u64(0, "passcred", !!(u->opts & IMG_UNIX_PASSCRED));
	json_u64(0, "rcvbuf", u->rcvbuf);
	json_u64(0, "sndbuf", u->sndbuf);
	json_u64(0, "backlog", u->backlog);
	json_u64(0, "unlinked", !!(u->opts & IMG_UNIX_UNLINKED));
	json_u64(0, "external", !!(u->opts & IMG_UNIX_EXTERNAL));
	json_u64(0, "escaped", !!(u->opts & IMG_UNIX_ESCAPED));
	json_u64(0, "waiting", !!(u->opts & IMG_UNIX_PENDING));
	if (u->peer_name)
		json_kstr(0, "peer_name", u->peer_name);
}

static void json_watches(const struct img_file *f)
{
	uint32_t i;

	json_key(0, "watches");
	putchar('[');
	for (i = 0; i < f->ep.nr; i++) {
		if (i)
			putchar(',');
		putchar('{');
		json_u64(1, "file", f->ep.w[i].file);
		json_i64(0, "fd", f->ep.w[i].tfd);
		json_hex(0, "events", f->ep.w[i].events);
		json_hex(0, "data", f->ep.w[i].data);
		putchar('}');
	}
	for (i = 0; i < f->in.nr; i++) {
		if (i)
			putchar(',');
		putchar('{');
		json_i64(1, "wd", f->in.w[i].wd);
		json_hex(0, "mask", f->in.w[i].mask);
		json_kstr(0, "path", f->in.w[i].path);
		putchar('}');
	}
	putchar(']');
}

/* The fields of an eventfd ... inotify file. */
static void json_kfd(const struct img_file *f)
{
	switch (f->kind) {
	case IMG_FILE_EVENTFD:
		json_u64(0, "count", f->efd.count);
		json_u64(0, "semaphore", f->efd.semaphore);
		break;
	case IMG_FILE_SIGNALFD:
		json_hex(0, "sigmask", f->sfd.sigmask);
		break;
	case IMG_FILE_TIMERFD:
		json_u64(0, "clockid", f->tfd.clockid);
		json_u64(0, "absolute", !!(f->tfd.flags & IMG_TFD_ABSTIME));
		json_u64(0, "value_ns", f->tfd.value_ns);
		json_u64(0, "interval_ns", f->tfd.interval_ns);
		json_u64(0, "ticks", f->tfd.ticks);
		break;
	case IMG_FILE_EPOLL:
	case IMG_FILE_INOTIFY:
		json_watches(f);
		break;
	}
}

static void json_files(const struct image *img)
{
	uint32_t i;

	json_key(0, "files");
	putchar('[');
	for (i = 0; i < img->nr_files; i++) {
		const struct img_file *f = &img->files[i];

		fputs(i ? ",{" : "{", stdout);
		json_u64(1, "id", f->id);
		json_kstr(0, "kind", inspect_file_kind(f->kind));
		json_hex(0, "flags", f->flags);
		json_u64(0, "ino", f->ino);
		json_u64(0, "pipe_size", f->pipe_size);
		json_u64(0, "pos", f->pos);
		json_u64(0, "queued", inspect_queued_bytes(f));
		json_kstr(0, "path", f->path);
		json_u64(0, "ghost", f->ghost);
		json_u64(0, "shm", f->shm);
		if (f->kind == IMG_FILE_UNIX)
			json_unix(&f->sk);
		if (img_inet_kind(f->kind))
			json_inet(f);
		if (f->kind == IMG_FILE_NETLINK) {
			json_u64(0, "protocol", f->nl.protocol);
			json_u64(0, "portid", f->nl.portid);
			json_hex(0, "groups", f->nl.groups[0]);
		}
		if (f->kind == IMG_FILE_TUN)
			json_kstr(0, "tun_dev", f->tun_dev ? f->tun_dev : "");
		json_kfd(f);
		putchar('}');
	}
	putchar(']');
}

/* Below the tree's top PID namespace: its PIDs there, outermost first */
static void json_pidlv(const struct img_pidlv *l)
{
	uint32_t i;

	if (!l->ns && !l->for_children)
		return;
	json_u64(0, "pidns", l->ns);
	printf(",\"nspids\":[");
	for (i = 0; i < l->nr_nspids; i++)
		printf("%s%d", i ? "," : "", l->nspids[i]);
	putchar(']');
	json_u64(0, "pidns_for_children", l->for_children);
}

static void json_proc_fields(const struct img_proc *pr)
{
	json_i64(1, "pid", pr->pid);
	json_i64(0, "ppid", pr->ppid);
	json_i64(0, "pgid", pr->pgid);
	json_i64(0, "sid", pr->sid);
	json_u64(0, "uid", pr->uid);
	json_u64(0, "gid", pr->gid);
	json_u64(0, "euid", pr->euid);
	json_u64(0, "egid", pr->egid);
	json_hex(0, "umask", pr->umask);
	json_u64(0, "dumpable", pr->dumpable);
	json_kstr(0, "comm", pr->comm);
	json_kstr(0, "exe", pr->exe);
	json_kstr(0, "cwd", pr->cwd);
	json_kstr(0, "root", pr->root);
	json_u64(0, "shares_cwd_with_parent", !!(pr->ks.share & IMG_SHARE_FS));
	json_u64(0, "shares_fd_table_with_parent",
		 !!(pr->ks.share & IMG_SHARE_FILES));
	json_hex(0, "membarrier", pr->ks.membarrier);
	json_u64(0, "memory_merge", pr->ks.memory_merge);
	json_hex(0, "mlockall", pr->ks.mlockall);
	json_pidlv(&pr->pidlv);
}

static void json_zombie(const struct img_proc *z)
{
	uint32_t st = z->exit_status;

	putchar('{');
	json_i64(1, "pid", z->pid);
	json_i64(0, "ppid", z->ppid);
	json_i64(0, "pgid", z->pgid);
	json_i64(0, "sid", z->sid);
	json_kstr(0, "comm", z->comm);
	json_pidlv(&z->pidlv);
	printf(",\"zombie\":true");
	json_u64(0, "exit_status", st);
	if (st & 0x7f) {
		json_u64(0, "signal", st & 0x7f);
		printf(",\"core_dumped\":%s", st & 0x80 ? "true" : "false");
	} else {
		json_u64(0, "exit_code", st >> 8);
	}
	putchar('}');
}

static void json_process(const struct bt_image *src)
{
	const struct img_process *p = src->p;
	uint32_t i;

	if (p->proc.zombie) {
		json_zombie(&p->proc);
		return;
	}
	putchar('{');
	json_proc_fields(&p->proc);
	printf(",\"zombie\":false");
	json_key(0, "threads");
	putchar('[');
	for (i = 0; i < p->nr_threads; i++) {
		if (i)
			putchar(',');
		json_thread(src, &p->threads[i]);
	}
	printf("],\"vmas\":[");
	for (i = 0; i < p->nr_vmas; i++) {
		if (i)
			putchar(',');
		json_vma(&p->vmas[i]);
	}
	printf("],\"fds\":[");
	for (i = 0; i < p->nr_fds; i++) {
		if (i)
			putchar(',');
		json_fd(&p->fds[i]);
	}
	putchar(']');
	json_u64(0, "pages", inspect_count_pages(p->pages, p->nr_pages));
	json_u64(0, "page_runs", p->nr_pages);
	json_u64(0, "parent_pages",
		 inspect_parent_pages(p->pages, p->nr_pages));
	putchar('}');
}

static void json_ghost(const struct img_ghost_object *o)
{
	putchar('{');
	json_u64(1, "id", o->g.id);
	json_kstr(0, "type", S_ISDIR(o->g.mode) ? "dir" :
		  S_ISFIFO(o->g.mode) ? "fifo" : "reg");
	json_hex(0, "mode", o->g.mode & 07777);
	json_u64(0, "uid", o->g.uid);
	json_u64(0, "gid", o->g.gid);
	json_u64(0, "size", o->g.size);
	json_u64(0, "mtime_ns", o->g.mtime_ns);
	json_u64(0, "ino", o->g.ino);
	json_u64(0, "pages", inspect_count_pages(o->pages, o->nr_pages));
	json_kstr(0, "path", o->g.path);
	putchar('}');
}

/* "uid_map":[[inner,outer,count],...] */
static void json_idmap(const char *key, const struct img_idmap *map,
		       uint32_t n)
{
	uint32_t i;

	json_key(0, key);
	putchar('[');
	for (i = 0; i < n; i++)
		printf("%s[%u,%u,%u]", i ? "," : "", map[i].inner,
		       map[i].outer, map[i].count);
	putchar(']');
}

static void json_ns(const struct img_ns *ns)
{
	uint32_t i;

	putchar('{');
	json_kstr(1, "kind", img_ns_name(ns->kind));
	json_u64(0, "id", ns->id);
	json_u64(0, "owner", ns->owner);
	if ((ns->kind == IMG_NS_PID && ns->owner != 1) ||
	    (ns->kind == IMG_NS_MNT && ns->parent))
		json_u64(0, "parent", ns->parent);
	if (ns->kind == IMG_NS_UTS) {
		json_kstr(0, "hostname", ns->hostname);
		json_kstr(0, "domainname", ns->domainname);
	}
	if (ns->kind == IMG_NS_USER) {
		json_idmap("uid_map", ns->uid_map, ns->nr_uid_map);
		json_idmap("gid_map", ns->gid_map, ns->nr_gid_map);
		json_kstr(0, "setgroups",
			  ns->setgroups_deny ? "deny" : "allow");
	}
	if (ns->kind == IMG_NS_TIME) {
		json_u64(0, "monotonic_ns", ns->mono_ns);
		json_u64(0, "boottime_ns", ns->boot_ns);
		json_i64(0, "monotonic_offset_ns", ns->mono_off_ns);
		json_i64(0, "boottime_offset_ns", ns->boot_off_ns);
		json_u64(0, "children_only", ns->time_children);
	}
	if (ns->kind == IMG_NS_CGROUP) {
		printf(",\"roots\":[");
		for (i = 0; i < ns->nr_cgns; i++) {
			printf("%s{", i ? "," : "");
			json_kstr(1, "controllers", ns->cgns[i].controllers);
			json_kstr(0, "root", ns->cgns[i].root);
			json_kstr(0, "inner", ns->cgns[i].inner);
			putchar('}');
		}
		putchar(']');
	}
	if (ns->nr_sysctls) {
		printf(",\"sysctls\":{");
		for (i = 0; i < ns->nr_sysctls; i++)
			json_kstr(!i, ns->sysctls[i].name,
				  ns->sysctls[i].value);
		putchar('}');
	}
	putchar('}');
}

static void json_cgroup(const struct img_cgroup *cg)
{
	uint32_t i;

	putchar('{');
	json_kstr(1, "controllers", cg->controllers);
	json_kstr(0, "path", cg->path);
	json_key(0, "settings");
	putchar('{');
	for (i = 0; i < cg->nr_settings; i++)
		json_kstr(!i, cg->settings[i].name, cg->settings[i].value);
	printf("}}");
}

static void json_mount(const struct image *img, const struct img_mount *m)
{
	uint64_t bytes;
	uint32_t files;

	files = inspect_mount_files(img, m->id, &bytes);
	putchar('{');
	json_u64(1, "id", m->id);
	json_kstr(0, "kind", img_mnt_kind_name(m->kind));
	json_kstr(0, "point", m->point);
	json_kstr(0, "fstype", m->fstype);
	json_kstr(0, "source", m->source);
	json_kstr(0, "host", m->host ? m->host : "");
	json_u64(0, "flags", m->flags);
	json_u64(0, "read_only_fs", m->sb_ro);
	json_kstr(0, "options", m->options);
	json_u64(0, "propagation", m->propagation);
	json_u64(0, "files", files);
	json_u64(0, "bytes", bytes);
	if (m->id > img->nr_mounts) {
		json_u64(0, "ns", m->ns);
		json_u64(0, "gone", m->gone);
	}
	putchar('}');
}

/* "10.79.0.2/24", "default" for a route's empty destination */
static void json_addr(int first, const char *key, uint32_t family,
		      const uint8_t *a, uint32_t len, int with_len)
{
	char buf[INET6_ADDRSTRLEN + 16] = "?";

	if (with_len && !len && key) {
		json_kstr(first, key, "default");
		return;
	}
	inet_ntop(family, a, buf, INET6_ADDRSTRLEN);
	if (with_len)
		snprintf(buf + strlen(buf), 16, "/%u", len);
	if (key)
		json_kstr(first, key, buf);
	else
		json_str(buf);
}

static void json_bridge(const struct img_netdev *d)
{
	uint32_t i;

	json_u64(0, "stp", d->br.stp);
	json_u64(0, "forward_delay", d->br.forward_delay);
	json_u64(0, "ageing_time", d->br.ageing_time);
	json_u64(0, "vlan_filtering", d->br.vlan_filtering);
	json_key(0, "ports");
	putchar('[');
	for (i = 0; i < d->br.nr_ports; i++) {
		if (i)
			putchar(',');
		json_str(d->br.ports[i]);
	}
	putchar(']');
}

static void json_netdev(const struct img_netdev *d)
{
	char mac[3 * IMG_MAX_MAC + 1] = "";
	uint32_t i;

	for (i = 0; i < d->mac_len && i < IMG_MAX_MAC; i++)
		snprintf(mac + (i ? 3 * i - 1 : 0), 4, "%s%02x", i ? ":" : "",
			 d->mac[i]);
	putchar('{');
	json_u64(1, "index", d->index);
	json_kstr(0, "kind", img_netdev_kind_name(d->kind));
	json_kstr(0, "name", d->name);
	json_u64(0, "up", d->up);
	json_u64(0, "mtu", d->mtu);
	json_kstr(0, "mac", mac);
	json_kstr(0, IMG_NETDEV_LOWERED(d->kind) ? "lower" : "peer",
		  d->peer ? d->peer : "");
	if (IMG_NETDEV_LOWERED(d->kind)) {
		json_u64(0, "mode", d->mode);
		json_u64(0, "flags", d->flags);
	}
	if (d->kind == IMG_NETDEV_VETH)
		json_u64(0, "inner", d->inner);
	if (d->kind == IMG_NETDEV_BRIDGE)
		json_bridge(d);
	if (d->kind == IMG_NETDEV_TUN) {
		json_hex(0, "tun_flags", d->tun.flags);
		json_i64(0, "owner", d->tun.owner);
		json_i64(0, "group", d->tun.group);
		json_u64(0, "vnet_hdr_sz", d->tun.vnet_hdr_sz);
		json_u64(0, "sndbuf", d->tun.sndbuf);
	}
	json_key(0, "addrs");
	putchar('[');
	for (i = 0; i < d->nr_addrs; i++) {
		if (i)
			putchar(',');
		json_addr(0, NULL, d->addrs[i].family, d->addrs[i].addr,
			  d->addrs[i].prefixlen, 1);
	}
	printf("]}");
}

static void json_route(const struct img_route *r)
{
	putchar('{');
	json_addr(1, "dst", r->family, r->dst, r->dst_len, 1);
	if (r->has_gw)
		json_addr(0, "via", r->family, r->gw, 0, 0);
	else
		json_kstr(0, "via", "");
	json_u64(0, "dev", r->dev);
	json_u64(0, "metric", r->priority);
	json_u64(0, "protocol", r->protocol);
	putchar('}');
}

static void json_sysv(const struct img_sysv *s)
{
	putchar('{');
	json_kstr(1, "kind", img_sysv_kind_name(s->kind));
	json_u64(0, "id", s->id);
	json_u64(0, "key", (uint32_t)s->key);
	json_u64(0, "ns", s->ns);
	json_u64(0, "mode", s->mode);
	json_u64(0, "uid", s->uid);
	json_u64(0, "gid", s->gid);
	json_u64(0, "cuid", s->cuid);
	json_u64(0, "cgid", s->cgid);
	json_u64(0, "size", s->size);
	json_u64(0, "messages", s->nr_msgs);
	json_u64(0, "locked", !!(s->flags & IMG_SYSV_LOCKED));
	json_kstr(0, "name", s->name ? s->name : "");
	json_u64(0, "maxmsg", s->maxmsg);
	putchar('}');
}

static void json_snapfile(const struct img_snapfile *f)
{
	char hx[2 * IMG_HASH_LEN + 1];
	const uint8_t *val;
	const char *name;
	uint32_t off = 0, len, n = 0;

	putchar('{');
	json_kstr(1, "type", inspect_snap_kind(f->mode));
	json_kstr(0, "path", f->path);
	json_u64(0, "size", f->size);
	json_hex(0, "mode", f->mode & 07777);
	json_u64(0, "uid", f->uid);
	json_u64(0, "gid", f->gid);
	json_u64(0, "atime_ns", f->atime_ns);
	json_u64(0, "mtime_ns", f->mtime_ns);
	json_u64(0, "ino", f->ino);
	if (S_ISREG(f->mode)) {
		json_kstr(0, "hash", inspect_snap_hash(f, hx));
		json_u64(0, "data", f->data);
	}
	if (S_ISLNK(f->mode))
		json_kstr(0, "target", f->target);
	if (S_ISCHR(f->mode) || S_ISBLK(f->mode))
		json_u64(0, "rdev", f->rdev);
	json_key(0, "xattrs");
	putchar('[');
	while (img_snap_xattr_next(f, &off, &name, &val, &len)) {
		if (n++)
			putchar(',');
		json_str(name);
	}
	printf("]}");
}

void inspect_print_json(const struct image *img, int fd)
{
	struct bt_image src = { .fd = fd, .page_size = img->hdr.page_size,
				.img = img };
	uint32_t i;

	putchar('{');
	json_u64(1, "version", img->hdr.version);
	json_kstr(0, "isa", img_isa_name(img->hdr.isa));
	json_u64(0, "page_size", img->hdr.page_size);
	json_kstr(0, "kernel", img->hdr.kernel);
	json_kstr(0, "writer", img->hdr.writer);
	json_u64(0, "created", img->hdr.created);
	json_u64(0, "id", img->ident.id);
	json_u64(0, "parent_id", img->ident.parent_id);
	json_kstr(0, "parent", img->ident.parent ? img->ident.parent : "");
	json_key(0, "namespaces");
	putchar('[');
	for (i = 0; i < img->nr_nss; i++) {
		if (i)
			putchar(',');
		json_ns(&img->nss[i]);
	}
	putchar(']');
	json_key(0, "cgroups");
	putchar('[');
	for (i = 0; i < img->nr_cgroups; i++) {
		if (i)
			putchar(',');
		json_cgroup(&img->cgroups[i]);
	}
	putchar(']');
	json_key(0, "mounts");
	putchar('[');
	for (i = 0; i < img->nr_mounts; i++) {
		if (i)
			putchar(',');
		json_mount(img, &img->mounts[i]);
	}
	putchar(']');
	json_key(0, "nsmounts");
	putchar('[');
	for (i = 0; i < img->nr_nsmounts; i++) {
		if (i)
			putchar(',');
		json_mount(img, &img->nsmounts[i]);
	}
	putchar(']');
	json_key(0, "netdevs");
	putchar('[');
	for (i = 0; i < img->nr_netdevs; i++) {
		if (i)
			putchar(',');
		json_netdev(&img->netdevs[i]);
	}
	putchar(']');
	json_key(0, "routes");
	putchar('[');
	for (i = 0; i < img->nr_routes; i++) {
		if (i)
			putchar(',');
		json_route(&img->routes[i]);
	}
	putchar(']');
	json_key(0, "nsjoins");
	putchar('[');
	for (i = 0; i < img->nr_nsjoins; i++) {
		if (i)
			putchar(',');
		putchar('{');
		json_kstr(1, "kind", img_ns_name(img->nsjoins[i].kind));
		json_u64(0, "id", img->nsjoins[i].id);
		json_u64(0, "owner", img->nsjoins[i].owner);
		json_kstr(0, "path", img->nsjoins[i].path ?
				      img->nsjoins[i].path : "");
		putchar('}');
	}
	putchar(']');
	json_key(0, "sysv");
	putchar('[');
	for (i = 0; i < img->nr_sysvs; i++) {
		if (i)
			putchar(',');
		json_sysv(&img->sysvs[i]);
	}
	putchar(']');
	json_files(img);
	json_key(0, "snapshot");
	putchar('[');
	for (i = 0; i < img->nr_snapfiles; i++) {
		if (i)
			putchar(',');
		json_snapfile(&img->snapfiles[i]);
	}
	putchar(']');
	json_key(0, "shms");
	putchar('[');
	for (i = 0; i < img->nr_shms; i++) {
		if (i)
			putchar(',');
		json_shm(&img->shms[i]);
	}
	putchar(']');
	json_key(0, "ghosts");
	putchar('[');
	for (i = 0; i < img->nr_ghosts; i++) {
		if (i)
			putchar(',');
		json_ghost(&img->ghosts[i]);
	}
	putchar(']');
	json_key(0, "processes");
	putchar('[');
	for (i = 0; i < img->nr_procs; i++) {
		if (i)
			putchar(',');
		src.p = &img->procs[i];
		json_process(&src);
	}
	printf("]}\n");
}
