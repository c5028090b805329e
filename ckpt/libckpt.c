/*
 * libckpt: the public API of libckpt.h over the dumper (dump.h), the image
 * reader and the restore program. ckpt attach itself goes through
 * ckpt_attach().
 *
 * A restore is made by the restore program, run as `restore --detach
 * --json`: it must be a process of its own, since it becomes the parent
 * and tracer of what it makes and then leaves them to their reaper. Its
 * JSON answer gives the PIDs, its last line on stderr the error.
 */
#include <sys/wait.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ckpt/libckpt-priv.h"
#include "image/image.h"
#include "plugins/pipeline.h"
#include "plugins/stageopt.h"
#include "util/progress.h"
#include "util/version.h"

#ifndef CKPT_RESTORE_PROGRAM
#define CKPT_RESTORE_PROGRAM "/usr/local/bin/restore"
#endif

const char *ckpt_lib_version(void)
{
	return CKPT_VERSION;
}

static void set_err(struct ckpt_error *err, int code, const char *fmt, ...)
{
	va_list ap;

	if (!err)
		return;
	err->code = code;
	err->message[0] = '\0';
	if (!fmt)
		return;
	va_start(ap, fmt);
	vsnprintf(err->message, sizeof(err->message), fmt, ap);
	va_end(ap);
}

/* The messages of one call: the last error (or warning, if no error)
 * becomes the call's message, without its newline. */
struct captured {
	char error[1024], warning[1024];
};

static void keep_line(char *dst, size_t len, const char *line)
{
	size_t n;

	snprintf(dst, len, "%s", line);
	n = strlen(dst);
	if (n && dst[n - 1] == '\n')
		dst[n - 1] = '\0';
}

static void capture(int level, const char *line, void *arg)
{
	struct captured *c = arg;

	if (level == LOG_ERR)
		keep_line(c->error, sizeof(c->error), line);
	else if (level == LOG_WARN)
		keep_line(c->warning, sizeof(c->warning), line);
}

/* Around every call: our messages captured, SIGPIPE (a tcp:// peer that
 * goes away) ignored, and both given back as they were. */
struct call {
	struct captured cap;
	struct sigaction old_pipe;
	int old_level;
};

static void call_begin(struct call *k)
{
	struct sigaction ign;

	memset(k, 0, sizeof(*k));
	k->old_level = log_get_level();
	log_init(log_prog_name(), LOG_WARN);
	log_set_sink(capture, &k->cap);
	memset(&ign, 0, sizeof(ign));
	ign.sa_handler = SIG_IGN;
	sigaction(SIGPIPE, &ign, &k->old_pipe);
}

static int call_end(struct call *k, int code, struct ckpt_error *err)
{
	sigaction(SIGPIPE, &k->old_pipe, NULL);
	log_set_sink(NULL, NULL);
	log_init(log_prog_name(), k->old_level);
	if (code == CKPT_OK)
		set_err(err, CKPT_OK, NULL);
	else
		set_err(err, code, "%s", k->cap.error[0] ? k->cap.error :
			k->cap.warning[0] ? k->cap.warning : "failed");
	return code;
}

/* ---- attach ------------------------------------------------------------- */

static int attach_status(enum dump_result r)
{
	switch (r) {
	case DUMP_OK:
		return CKPT_OK;
	case DUMP_ENOTARGET:
		return CKPT_ENOTARGET;
	case DUMP_ECREATE:
		return CKPT_ECREATE;
	default:
		return CKPT_EFAILED;
	}
}

/* The options of a caller's struct, which may be older (smaller) than
 * ours: what it lacks is zero. */
static int copy_opts(void *dst, size_t dst_size, const void *src)
{
	size_t n = *(const size_t *)src;

	if (n < sizeof(size_t))
		return -1;
	memset(dst, 0, dst_size);
	memcpy(dst, src, n < dst_size ? n : dst_size);
	return 0;
}

/* The stream's filters and parameters, as the command line makes them. */
static int attach_stages(const struct ckpt_attach_opts *a,
			 struct stage_opts *so, struct dump_opts *o)
{
	static const struct option none[] = { { NULL, 0, NULL, 0 } };
	char level[8];
	int i;

	stage_opts_init(so, STAGE_OPT_LEVEL | STAGE_OPT_ENCRYPT |
			STAGE_OPT_AUTH, none);
	if (a->compress) {
		snprintf(level, sizeof(level), "%d", a->compress);
		/* -1: zstd's default level */
		if (stage_opts_parse(so, 'z', a->compress < 0 ? NULL : level))
			return -1;
	}
	if ((a->encrypt_key && stage_opts_parse(so, 'e', a->encrypt_key)) ||
	    (a->auth_key && stage_opts_parse(so, 'a', a->auth_key)))
		return -1;
	for (i = 0; i < so->nr_filters; i++)
		o->filters[o->nr_filters++] = so->filters[i];
	for (i = 0; i < so->nr_params; i++)
		o->params[o->nr_params++] = so->params[i];
	return 0;
}

int ckpt_attach_run(const struct ckpt_attach_opts *opts, struct dump_opts *o,
		    struct ckpt_attach_result *res)
{
	static struct stage_opts so;	/* o points into it */
	struct dump_stats st;
	enum dump_result r;
	int i;

	if (opts->nr_outputs < 1 ||
	    opts->nr_outputs > (int)ARRAY_SIZE(o->outputs) ||
	    !opts->outputs || opts->quorum < 0 ||
	    opts->quorum > opts->nr_outputs || opts->pid <= 0) {
		pr_err("bad options: pid %d, %d outputs, quorum %d",
		       (int)opts->pid, opts->nr_outputs, opts->quorum);
		return CKPT_EUSAGE;
	}
	o->pid = opts->pid;
	for (i = 0; i < opts->nr_outputs; i++)
		o->outputs[i] = opts->outputs[i];
	o->nr_outputs = opts->nr_outputs;
	o->quorum = opts->quorum ? opts->quorum : opts->nr_outputs;
	o->kill = !!opts->kill;
	o->tree = !!opts->tree;
	o->ext_null = !!opts->ext_null;
	o->ext_unix = !!opts->ext_unix;
	o->tcp_established = !!opts->tcp_established;
	o->pre_copy = !!opts->pre_copy;
	o->ghost_limit = opts->ghost_limit ? opts->ghost_limit :
			 DUMP_GHOST_LIMIT;
	o->nr_filters = o->nr_params = 0;
	if (opts->compress < -1 || opts->compress > 19 ||
	    attach_stages(opts, &so, o))
		return CKPT_EUSAGE;
	o->stats = &st;
	r = dump_process(o);
	if (r == DUMP_OK && res) {
		res->processes = st.nr_procs;
		res->threads = st.nr_threads;
		res->bytes = st.bytes;
		res->frozen_seconds = st.frozen;
		res->seconds = st.seconds;
	}
	return attach_status(r);
}

int ckpt_attach(const struct ckpt_attach_opts *opts,
		struct ckpt_attach_result *result, struct ckpt_error *err)
{
	static volatile sig_atomic_t never;
	struct ckpt_attach_opts a;
	struct dump_opts o;
	struct call k;

	if (!opts || copy_opts(&a, sizeof(a), opts)) {
		set_err(err, CKPT_EUSAGE, "no options, or their size unset");
		return CKPT_EUSAGE;
	}
	memset(&o, 0, sizeof(o));
	o.interrupted = &never;
	o.progress = PROGRESS_OFF;
	call_begin(&k);
	return call_end(&k, ckpt_attach_run(&a, &o, result), err);
}

/* ---- restore ------------------------------------------------------------ */

/* The PIDs of restore's answer {"image":...,"pid":N,"pids":[N,...]}. */
static int parse_pids(const char *out, pid_t **pids, size_t *nr)
{
	const char *p = strstr(out, "\"pids\":[");
	size_t n = 0, cap = 0;
	pid_t *v = NULL, *nv;
	char *end;
	long x;

	if (!p)
		return -1;
	for (p += 8; *p != ']'; p = *end == ',' ? end + 1 : end) {
		x = strtol(p, &end, 10);
		if (end == p || x <= 0 || (*end != ',' && *end != ']'))
			goto bad;
		if (n == cap) {
			cap = cap ? cap * 2 : 16;
			nv = realloc(v, cap * sizeof(*v));
			if (!nv)
				goto bad;
			v = nv;
		}
		v[n++] = (pid_t)x;
	}
	if (!n)
		goto bad;
	*pids = v;
	*nr = n;
	return 0;
bad:
	free(v);
	return -1;
}

/* All of fd into a string (malloc'd), at most max bytes. */
static char *read_all(int fd, size_t max)
{
	size_t len = 0, cap = 4096;
	char *buf = malloc(cap + 1), *nb;
	ssize_t n;

	while (buf && len < max) {
		if (len == cap) {
			cap *= 2;
			nb = realloc(buf, cap + 1);
			if (!nb)
				break;
			buf = nb;
		}
		n = read(fd, buf + len, cap - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		len += (size_t)n;
	}
	if (buf)
		buf[len] = '\0';
	return buf;
}

/* restore's last line on stderr, for the message. */
static void last_line(const char *text, char *dst, size_t len)
{
	const char *end = text + strlen(text), *start;

	while (end > text && end[-1] == '\n')
		end--;
	start = end;
	while (start > text && start[-1] != '\n')
		start--;
	snprintf(dst, len, "%.*s", (int)(end - start), start);
}

static void run_restore(const char *prog, char **argv, int out, int errfd)
{
	int fd = open("/dev/null", O_RDONLY | O_CLOEXEC);

	if (fd < 0 || dup2(fd, 0) < 0 || dup2(out, 1) < 0 || dup2(errfd, 2) < 0)
		_exit(CKPT_EFAILED);
	execv(prog, argv);
	dprintf(2, "restore: can't run %s: %s\n", prog, strerror(errno));
	_exit(CKPT_EFAILED);
}

int ckpt_restore(const struct ckpt_restore_opts *opts, pid_t **pids,
		 size_t *nr_pids, struct ckpt_error *err)
{
	struct ckpt_restore_opts r;
	char *argv[12], *out = NULL, *errs = NULL, msg[1024];
	const char *prog;
	int po[2] = { -1, -1 }, pe[2] = { -1, -1 }, k = 0, status, code;
	pid_t child;

	if (!opts || copy_opts(&r, sizeof(r), opts) || !r.image ||
	    !strcmp(r.image, "-") || !pids || !nr_pids) {
		set_err(err, CKPT_EUSAGE, "no image, or the options' size unset");
		return CKPT_EUSAGE;
	}
	prog = r.restore_program ? r.restore_program : getenv("CKPT_RESTORE");
	if (!prog || !*prog)
		prog = CKPT_RESTORE_PROGRAM;
	argv[k++] = "restore";
	argv[k++] = "-q";
	argv[k++] = "--detach";
	argv[k++] = "--json";
	if (r.key) {
		argv[k++] = "--key";
		argv[k++] = (char *)r.key;
	}
	if (r.auth_key) {
		argv[k++] = "--auth";
		argv[k++] = (char *)r.auth_key;
	}
	argv[k++] = "--";
	argv[k++] = (char *)r.image;
	argv[k] = NULL;
	if (pipe2(po, O_CLOEXEC) || pipe2(pe, O_CLOEXEC)) {
		set_err(err, CKPT_EFAILED, "can't make a pipe: %s",
			strerror(errno));
		code = CKPT_EFAILED;
		goto out;
	}
	child = fork();
	if (child == 0)
		run_restore(prog, argv, po[1], pe[1]);
	close(po[1]);
	close(pe[1]);
	po[1] = pe[1] = -1;
	if (child < 0) {
		set_err(err, CKPT_EFAILED, "can't fork: %s", strerror(errno));
		code = CKPT_EFAILED;
		goto out;
	}
	/* restore's answer is one line; its stderr, a few */
	out = read_all(po[0], 1 << 20);
	errs = read_all(pe[0], 1 << 16);
	while (waitpid(child, &status, 0) < 0 && errno == EINTR)
		;
	code = WIFEXITED(status) ? WEXITSTATUS(status) : CKPT_EFAILED;
	if (code == CKPT_OK && (!out || parse_pids(out, pids, nr_pids))) {
		set_err(err, CKPT_EFAILED, "%s gave no PIDs: %.200s", prog,
			out ? out : "");
		code = CKPT_EFAILED;
	} else if (code == CKPT_OK) {
		set_err(err, CKPT_OK, NULL);
	} else {
		last_line(errs ? errs : "", msg, sizeof(msg));
		set_err(err, code, "%s", msg[0] ? msg : "restore failed");
	}
out:
	free(out);
	free(errs);
	if (po[0] >= 0)
		close(po[0]);
	if (pe[0] >= 0)
		close(pe[0]);
	return code;
}

/* ---- inspect ------------------------------------------------------------ */

static void fill_proc(const struct img_process *p, uint32_t page_size,
		      struct ckpt_process_info *q)
{
	uint32_t i;

	q->pid = p->proc.pid;
	q->ppid = p->proc.ppid;
	q->pgid = p->proc.pgid;
	q->sid = p->proc.sid;
	memcpy(q->comm, p->proc.comm, sizeof(q->comm));
	q->comm[sizeof(q->comm) - 1] = '\0';
	q->zombie = !!p->proc.zombie;
	q->threads = p->nr_threads;
	q->nr_fds = p->nr_fds;
	q->memory_bytes = 0;
	for (i = 0; i < p->nr_pages; i++)
		q->memory_bytes += p->pages[i].nr_pages * page_size;
}

static int inspect_fd(int fd, const char *image, struct ckpt_image_info **out)
{
	struct ckpt_image_info *info;
	struct image *img;
	uint32_t i;

	img = img_read_named_fd(fd, image, 0);
	if (!img)
		return CKPT_EBADIMAGE;
	info = calloc(1, sizeof(*info));
	if (info)
		info->processes = calloc(img->nr_procs ? img->nr_procs : 1,
					 sizeof(*info->processes));
	if (!info || !info->processes) {
		pr_err("out of memory");
		ckpt_image_info_free(info);
		img_free(img);
		return CKPT_EFAILED;
	}
	info->format = img->hdr.version;
	snprintf(info->isa, sizeof(info->isa), "%s",
		 img_isa_name(img->hdr.isa));
	info->page_size = img->hdr.page_size;
	info->created = img->hdr.created;
	memcpy(info->kernel, img->hdr.kernel, sizeof(info->kernel));
	memcpy(info->writer, img->hdr.writer, sizeof(info->writer));
	info->nr_processes = img->nr_procs;
	for (i = 0; i < img->nr_procs; i++)
		fill_proc(&img->procs[i], img->hdr.page_size,
			  &info->processes[i]);
	img_free(img);
	*out = info;
	return CKPT_OK;
}

int ckpt_inspect(const char *image, const char *key,
		 struct ckpt_image_info **info, struct ckpt_error *err)
{
	const char *params[1];
	char kp[PATH_MAX + 16];
	struct call k;
	int fd, n = 0, code;

	if (!image || !info) {
		set_err(err, CKPT_EUSAGE, "no image");
		return CKPT_EUSAGE;
	}
	if (key) {
		snprintf(kp, sizeof(kp), "encrypt=%s", key);
		params[n++] = kp;
	}
	call_begin(&k);
	fd = pipeline_open_read_with(image, params, n);
	if (fd < 0) {
		code = errno == EBADMSG ? CKPT_EBADIMAGE : CKPT_ENOIMAGE;
	} else {
		code = inspect_fd(fd, image, info);
		close(fd);
	}
	return call_end(&k, code, err);
}

void ckpt_image_info_free(struct ckpt_image_info *info)
{
	if (!info)
		return;
	free(info->processes);
	free(info);
}
