/*
 * ckpt inspect [--json] IMAGE: what an image holds, checked as restore
 * checks it: the processes, their threads with their registers and call
 * stacks (unwound from the image alone, see elf/backtrace.h), maps,
 * files, page counts, and the zombies with their exit status. --json
 * prints the same as one JSON document.
 */
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

static uint64_t total_pages(const struct img_process *p)
{
	uint64_t pages = 0;
	uint32_t i;

	for (i = 0; i < p->nr_pages; i++)
		pages += p->pages[i].nr_pages;
	return pages;
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
	if (t->regs_isa != arch_isa())
		return;
	for (i = 0; i < (int)t->nr_regs; i++)
		printf("  %-8s %#" PRIx64 "\n", arch_reg_name(i), t->regs[i]);
	n = thread_frames(src, t, frames);
	for (i = 0; i < n; i++)
		print_frame(i, &frames[i]);
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

	printf("process %d ppid %d pgid %d sid %d comm %s exe %s cwd %s threads %u\n",
	       p->proc.pid, p->proc.ppid, p->proc.pgid, p->proc.sid,
	       p->proc.comm, p->proc.exe, p->proc.cwd, p->nr_threads);
	for (i = 0; i < p->nr_threads; i++)
		print_thread(src, &p->threads[i]);
	for (i = 0; i < p->nr_vmas; i++) {
		const struct img_vma *v = &p->vmas[i];

		printf("vma %" PRIx64 "-%" PRIx64 " prot %u flags %#x %s\n",
		       v->start, v->end, v->prot, v->flags,
		       v->path ? v->path : "");
	}
	for (i = 0; i < p->nr_fds; i++)
		printf("fd %d type %u flags %#o pos %" PRIu64 " %s\n",
		       p->fds[i].fd, p->fds[i].type, p->fds[i].flags,
		       p->fds[i].pos, p->fds[i].path ? p->fds[i].path : "");
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
	putchar('}');
}

static void json_fd(const struct img_fd *f)
{
	putchar('{');
	json_i64(1, "fd", f->fd);
	json_u64(0, "type", f->type);
	json_hex(0, "flags", f->flags);
	json_u64(0, "fdflags", f->fdflags);
	json_u64(0, "pos", f->pos);
	json_hex(0, "mode", f->mode);
	json_kstr(0, "path", f->path);
	putchar('}');
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

static void print_image(const struct image *img, int fd)
{
	struct bt_image src = { .fd = fd, .page_size = img->hdr.page_size };
	uint32_t i;

	printf("image version %u isa %s page-size %u kernel %s\n",
	       img->hdr.version, img_isa_name(img->hdr.isa),
	       img->hdr.page_size, img->hdr.kernel);
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
