/*
 * ckpt inspect [--json] IMAGE: what an image holds, checked as restore
 * checks it: the processes, their threads with their registers and call
 * stacks (unwound from the image alone, see elf/backtrace.h), maps,
 * files, page counts, the file table, the shared memory objects that
 * maps name, and the zombies with their exit status. --json prints the
 * same as one JSON document.
 */
#include <sys/socket.h>
#include <sys/stat.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "arch/arch.h"
#include "ckpt/cmd.h"
#include "elf/backtrace.h"
#include "image/image.h"
#include "plugins/pipeline.h"

#define MAX_FRAMES	64

/* The frames of t, or 0 when its registers are of another ISA. */
static int thread_frames(const struct bt_image *src,
			 const struct img_thread *t, struct bt_frame *f)
{
	int n = elf_backtrace(src, t, f, MAX_FRAMES);

	return n < 0 ? 0 : n;
}

static uint64_t count_pages(const struct img_pages *pg, uint32_t n)
{
	uint64_t pages = 0;
	uint32_t i;

	for (i = 0; i < n; i++)
		pages += pg[i].nr_pages;
	return pages;
}

static uint64_t total_pages(const struct img_process *p)
{
	return count_pages(p->pages, p->nr_pages);
}

static const char *shm_kind_name(uint32_t kind)
{
	switch (kind) {
	case IMG_SHM_ANON:
		return "anon";
	case IMG_SHM_MEMFD:
		return "memfd";
	case IMG_SHM_SYSV:
		return "sysv";
	}
	return "unknown";
}

/* ---- text ---------------------------------------------------------------- */

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

static void print_thread(const struct bt_image *src,
			 const struct img_thread *t)
{
	struct bt_frame frames[MAX_FRAMES];
	int i, n;

	printf("thread %d sigmask %#" PRIx64 " pending %u\n", t->tid,
	       t->sigmask, t->nr_siginfo);
	printf("caps %d inh %#" PRIx64 " prm %#" PRIx64 " eff %#" PRIx64
	       " bnd %#" PRIx64 " amb %#" PRIx64 " securebits %#x\n", t->tid,
	       t->caps.inh, t->caps.prm, t->caps.eff, t->caps.bnd,
	       t->caps.amb, t->caps.securebits);
	if (t->regs_isa != arch_isa())
		return;
	for (i = 0; i < (int)t->nr_regs; i++)
		printf("  %-8s %#" PRIx64 "\n", arch_reg_name(i), t->regs[i]);
	n = thread_frames(src, t, frames);
	for (i = 0; i < n; i++)
		print_frame(i, &frames[i]);
}

static const char *fd_type_name(uint32_t type)
{
	static const char *const names[] = {
		[IMG_FD_REG] = "reg", [IMG_FD_DIR] = "dir",
		[IMG_FD_CHR] = "chr", [IMG_FD_TTY] = "tty",
		[IMG_FD_INHERIT] = "inherit", [IMG_FD_FILE] = "file",
		[IMG_FD_NULL] = "null", [IMG_FD_PATH] = "path",
	};

	return type < ARRAY_SIZE(names) && names[type] ? names[type] : "?";
}

static const char *file_kind_name(uint32_t kind)
{
	switch (kind) {
	case IMG_FILE_PIPE:
		return "pipe";
	case IMG_FILE_FIFO:
		return "fifo";
	case IMG_FILE_REG:
		return "reg";
	case IMG_FILE_UNIX:
		return "unix";
	case IMG_FILE_EVENTFD:
		return "eventfd";
	case IMG_FILE_EPOLL:
		return "epoll";
	case IMG_FILE_SIGNALFD:
		return "signalfd";
	case IMG_FILE_TIMERFD:
		return "timerfd";
	case IMG_FILE_INOTIFY:
		return "inotify";
	case IMG_FILE_GHOST:
		return "ghost";
	case IMG_FILE_MEMFD:
		return "memfd";
	}
	return "?";
}

static const char *sock_type_name(uint32_t type)
{
	switch (type) {
	case SOCK_STREAM:
		return "stream";
	case SOCK_DGRAM:
		return "dgram";
	case SOCK_SEQPACKET:
		return "seqpacket";
	}
	return "?";
}

static const char *unix_state_name(uint32_t state)
{
	static const char *const names[] = {
		[IMG_UNIX_UNCONNECTED] = "unconnected",
		[IMG_UNIX_CONNECTED] = "connected",
		[IMG_UNIX_LISTENING] = "listening",
	};

	return state < ARRAY_SIZE(names) && names[state] ? names[state] : "?";
}

static uint64_t queued_bytes(const struct img_file *f)
{
	uint64_t n = 0;
	uint32_t i;

	for (i = 0; i < f->nr_chunks; i++)
		n += f->chunks[i].len;
	return n;
}

static void print_fd(const struct img_fd *f)
{
	printf("fd %d %s", f->fd, fd_type_name(f->type));
	if (f->type == IMG_FD_FILE)
		printf(" %u", f->file);
	printf(" flags %#o pos %" PRIu64 " %s\n", f->flags, f->pos,
	       f->path ? f->path : "");
}

/* file 3: unix stream connected peer 1234 shut wr, 10 bytes queued name */
static void print_unix(const struct img_file *f)
{
	const struct img_unix *u = &f->sk;

	printf("file %u: unix ino %" PRIu64 " %s %s peer %" PRIu64, f->id,
	       f->ino, sock_type_name(u->type), unix_state_name(u->state),
	       u->peer);
	if (u->shutdown)
		printf(" shut%s%s", u->shutdown & IMG_SHUT_RD ? " rd" : "",
		       u->shutdown & IMG_SHUT_WR ? " wr" : "");
	printf(" flags %#o, %" PRIu64 " bytes queued in %u chunks%s%s\n",
	       f->flags, queued_bytes(f), f->nr_chunks, f->path ? " " : "",
	       f->path ? f->path : "");
}

/* What an eventfd ... inotify holds: one line, and one per watch. */
static void print_kfd(const struct img_file *f)
{
	uint32_t i;

	printf("file %u: %s flags %#o", f->id, file_kind_name(f->kind),
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
		printf("file %u: %s ino %" PRIu64 " flags %#o", f->id,
		       file_kind_name(f->kind), f->ino, f->flags);
		if (f->kind == IMG_FILE_GHOST)
			printf(" pos %" PRIu64 " ghost %u", f->pos, f->ghost);
		else if (f->kind == IMG_FILE_MEMFD)
			printf(" pos %" PRIu64 " shm %u", f->pos, f->shm);
		else if (f->kind == IMG_FILE_REG)
			printf(" pos %" PRIu64, f->pos);
		else
			printf(" size %u, %" PRIu64 " bytes queued",
			       f->pipe_size, queued_bytes(f));
		printf("%s%s\n", f->path ? " " : "", f->path ? f->path : "");
	}
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

static void print_process(const struct bt_image *src)
{
	const struct img_process *p = src->p;
	uint32_t i;

	if (p->proc.zombie) {
		print_zombie(&p->proc);
		return;
	}

	printf("process %d ppid %d pgid %d sid %d comm %s exe %s cwd %s threads %u dumpable %u\n",
	       p->proc.pid, p->proc.ppid, p->proc.pgid, p->proc.sid,
	       p->proc.comm, p->proc.exe, p->proc.cwd, p->nr_threads,
	       p->proc.dumpable);
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
	}
	for (i = 0; i < p->nr_fds; i++)
		print_fd(&p->fds[i]);
	for (i = 0; i < p->nr_locks; i++)
		printf("lock fd %d %s %s start %" PRIu64 " len %" PRIu64 "\n",
		       p->locks[i].fd, p->locks[i].kind == IMG_LOCK_POSIX ?
		       "posix" : p->locks[i].kind == IMG_LOCK_OFD ? "ofd" :
		       "flock", p->locks[i].write ? "write" : "read",
		       p->locks[i].start, p->locks[i].len);
	printf("pages %" PRIu64 " in %u runs\n", total_pages(p), p->nr_pages);
}

/* ---- JSON ---------------------------------------------------------------- */

/* Bytes of the UTF-8 sequence at s, or 0 when it is not valid. */
static int utf8_len(const unsigned char *s)
{
	int n, i;

	if (s[0] < 0x80)
		return 1;
	if ((s[0] & 0xe0) == 0xc0 && s[0] >= 0xc2)
		n = 2;
	else if ((s[0] & 0xf0) == 0xe0)
		n = 3;
	else if ((s[0] & 0xf8) == 0xf0 && s[0] <= 0xf4)
		n = 4;
	else
		return 0;
	for (i = 1; i < n; i++)
		if ((s[i] & 0xc0) != 0x80)
			return 0;
	return n;
}

/* A JSON string; null for NULL. Bytes that are not UTF-8 (paths may hold
 * any) become U+FFFD so that the document stays valid. */
static void json_str(const char *str)
{
	const unsigned char *s = (const unsigned char *)str;
	int n;

	if (!s) {
		fputs("null", stdout);
		return;
	}
	putchar('"');
	for (; *s; s += n) {
		n = utf8_len(s);
		if (!n) {
			fputs("\\ufffd", stdout);
			n = 1;
		} else if (*s == '"' || *s == '\\') {
			printf("\\%c", *s);
		} else if (*s < 0x20) {
			printf("\\u%04x", *s);
		} else {
			fwrite(s, 1, n, stdout);
		}
	}
	putchar('"');
}

/* "key": with the separator that goes before it */
static void json_key(int first, const char *key)
{
	printf("%s\"%s\":", first ? "" : ",", key);
}

static void json_hex(int first, const char *key, uint64_t v)
{
	json_key(first, key);
	printf("\"0x%" PRIx64 "\"", v);
}

static void json_u64(int first, const char *key, uint64_t v)
{
	json_key(first, key);
	printf("%" PRIu64, v);
}

static void json_i64(int first, const char *key, int64_t v)
{
	json_key(first, key);
	printf("%" PRId64, v);
}

static void json_kstr(int first, const char *key, const char *s)
{
	json_key(first, key);
	json_str(s);
}

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
	struct bt_frame frames[MAX_FRAMES];
	uint32_t i;
	int j, n;

	json_key(0, "regs");
	putchar('{');
	for (i = 0; t->regs_isa == arch_isa() && i < t->nr_regs; i++)
		json_hex(!i, arch_reg_name(i), t->regs[i]);
	putchar('}');
	n = t->regs_isa == arch_isa() ? thread_frames(src, t, frames) : 0;
	json_key(0, "backtrace");
	putchar('[');
	for (j = 0; j < n; j++) {
		if (j)
			putchar(',');
		json_frame(&frames[j]);
	}
	putchar(']');
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
	json_kstr(0, "regs_isa", img_isa_name(t->regs_isa));
	json_regs_and_stack(src, t);
	putchar('}');
}

static void json_vma(const struct img_vma *v)
{
	putchar('{');
	json_hex(1, "start", v->start);
	json_hex(0, "end", v->end);
	json_u64(0, "pgoff", v->pgoff);
	json_u64(0, "prot", v->prot);
	json_hex(0, "flags", v->flags);
	json_hex(0, "advice", v->advice);
	json_kstr(0, "path", v->path);
	json_u64(0, "shm", v->shm);
	putchar('}');
}

static void json_shm(const struct img_shm_object *o)
{
	putchar('{');
	json_u64(1, "id", o->shm.id);
	json_kstr(0, "kind", shm_kind_name(o->shm.kind));
	json_u64(0, "size", o->shm.size);
	json_hex(0, "mode", o->shm.mode);
	json_u64(0, "uid", o->shm.uid);
	json_u64(0, "gid", o->shm.gid);
	json_kstr(0, "name", o->shm.name);
	json_hex(0, "seals", o->shm.seals);
	json_i64(0, "key", o->shm.key);
	json_i64(0, "shmid", o->shm.shmid);
	json_u64(0, "removed", !!(o->shm.flags & IMG_SHM_REMOVED));
	json_u64(0, "pages", count_pages(o->pages, o->nr_pages));
	putchar('}');
}

static void json_fd(const struct img_fd *f)
{
	putchar('{');
	json_i64(1, "fd", f->fd);
	json_kstr(0, "type", fd_type_name(f->type));
	if (f->type == IMG_FD_FILE)
		json_u64(0, "file", f->file);
	json_hex(0, "flags", f->flags);
	json_u64(0, "fdflags", f->fdflags);
	json_u64(0, "pos", f->pos);
	json_hex(0, "mode", f->mode);
	json_kstr(0, "path", f->path);
	putchar('}');
}

static void json_unix(const struct img_unix *u)
{
	json_kstr(0, "type", sock_type_name(u->type));
	json_kstr(0, "state", unix_state_name(u->state));
	json_u64(0, "peer", u->peer);
	json_u64(0, "shutdown", u->shutdown);
	json_u64(0, "passcred", !!(u->opts & IMG_UNIX_PASSCRED));
	json_u64(0, "rcvbuf", u->rcvbuf);
	json_u64(0, "sndbuf", u->sndbuf);
	json_u64(0, "backlog", u->backlog);
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

		putchar(i ? ',' : '{');
		if (i)
			putchar('{');
		json_u64(1, "id", f->id);
		json_kstr(0, "kind", file_kind_name(f->kind));
		json_hex(0, "flags", f->flags);
		json_u64(0, "ino", f->ino);
		json_u64(0, "pipe_size", f->pipe_size);
		json_u64(0, "pos", f->pos);
		json_u64(0, "queued", queued_bytes(f));
		json_kstr(0, "path", f->path);
		json_u64(0, "ghost", f->ghost);
		json_u64(0, "shm", f->shm);
		if (f->kind == IMG_FILE_UNIX)
			json_unix(&f->sk);
		json_kfd(f);
		putchar('}');
	}
	putchar(']');
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
	json_u64(0, "pages", total_pages(p));
	json_u64(0, "page_runs", p->nr_pages);
	putchar('}');
}

static void json_ghost(const struct img_ghost_object *o)
{
	putchar('{');
	json_u64(1, "id", o->g.id);
	json_kstr(0, "type", S_ISDIR(o->g.mode) ? "dir" : "reg");
	json_hex(0, "mode", o->g.mode & 07777);
	json_u64(0, "uid", o->g.uid);
	json_u64(0, "gid", o->g.gid);
	json_u64(0, "size", o->g.size);
	json_u64(0, "mtime_ns", o->g.mtime_ns);
	json_u64(0, "ino", o->g.ino);
	json_u64(0, "pages", count_pages(o->pages, o->nr_pages));
	json_kstr(0, "path", o->g.path);
	putchar('}');
}

static void json_image(const struct image *img, int fd)
{
	struct bt_image src = { .fd = fd, .page_size = img->hdr.page_size };
	uint32_t i;

	putchar('{');
	json_u64(1, "version", img->hdr.version);
	json_kstr(0, "isa", img_isa_name(img->hdr.isa));
	json_u64(0, "page_size", img->hdr.page_size);
	json_kstr(0, "kernel", img->hdr.kernel);
	json_u64(0, "created", img->hdr.created);
	json_files(img);
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

static void print_shm(const struct img_shm_object *o)
{
	const struct img_shm *s = &o->shm;

	printf("shm %u %s size %" PRIu64 " mode %#o pages %" PRIu64,
	       s->id, shm_kind_name(s->kind), s->size, s->mode,
	       count_pages(o->pages, o->nr_pages));
	if (s->kind == IMG_SHM_MEMFD)
		printf(" seals %#x name %s", s->seals, s->name);
	if (s->kind == IMG_SHM_SYSV)
		printf(" key %#x shmid %d%s", (unsigned int)s->key, s->shmid,
		       s->flags & IMG_SHM_REMOVED ? " removed" : "");
	putchar('\n');
}

/* ghost 1 reg size 5000 mode 0640 pages 2 ino 1234 /tmp/x */
static void print_ghost(const struct img_ghost_object *o)
{
	const struct img_ghost *g = &o->g;

	printf("ghost %u %s size %" PRIu64 " mode %#o pages %" PRIu64
	       " ino %" PRIu64 " %s\n", g->id, S_ISDIR(g->mode) ? "dir" : "reg",
	       g->size, g->mode & 07777, count_pages(o->pages, o->nr_pages),
	       g->ino, g->path);
}

static void print_image(const struct image *img, int fd)
{
	struct bt_image src = { .fd = fd, .page_size = img->hdr.page_size };
	uint32_t i;

	printf("image version %u isa %s page-size %u kernel %s\n",
	       img->hdr.version, img_isa_name(img->hdr.isa),
	       img->hdr.page_size, img->hdr.kernel);
	print_files(img);
	for (i = 0; i < img->nr_shms; i++)
		print_shm(&img->shms[i]);
	for (i = 0; i < img->nr_ghosts; i++)
		print_ghost(&img->ghosts[i]);
	for (i = 0; i < img->nr_procs; i++) {
		src.p = &img->procs[i];
		print_process(&src);
	}
}

static int exec_inspect(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "key", required_argument, NULL, 'k' },
		{ NULL, 0, NULL, 0 },
	};
	const char *params[1];
	char keyparam[4200];
	struct image *img;
	int c, fd, json = 0, nr_params = 0;

	optind = 1;
	while ((c = getopt_long(argc, argv, "+k:", longopts, NULL)) != -1) {
		if (c == 'j') {
			json = 1;
		} else if (c == 'k') {
			snprintf(keyparam, sizeof(keyparam), "encrypt=%s",
				 optarg);
			params[0] = keyparam;
			nr_params = 1;
		} else {
			return cmd_usage(&cmd_inspect_entry);
		}
	}
	if (optind != argc - 1)
		return cmd_usage(&cmd_inspect_entry);
	fd = pipeline_open_read_with(argv[optind], params, nr_params);
	if (fd < 0)
		return errno == EBADMSG ? EXIT_BADIMAGE : EXIT_NOIMAGE;
	img = img_read_named_fd(fd, argv[optind], 0);
	if (!img) {
		close(fd);
		return EXIT_BADIMAGE;
	}
	/* the backtraces read page data from the image: fd stays open */
	if (json)
		json_image(img, fd);
	else
		print_image(img, fd);
	close(fd);
	img_free(img);
	return 0;
}

const struct cmd_entry cmd_inspect_entry = {
	.name = "inspect",
	.usage = "[--json] [--key KEYFILE] IMAGE",
	.exec = exec_inspect,
};
