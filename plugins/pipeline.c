/*
 * pipeline: stage chains for ckpt and restore (see pipeline.h), and the
 * registry of stages: the built-in ones, then those of the plugins found
 * in $CKPT_PLUGIN_PATH.
 *
 * Writing: the image writer's sink writes into the first filter, each
 * filter into the next, the last into the sink. Commit goes from the
 * first stage to the last (each filter flushes into the next before the
 * next commits); abort likewise, so the sink removes what it had.
 */
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <dirent.h>
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "plugins/net.h"
#include "plugins/pipeline.h"
#include "plugins/stages-priv.h"
#include "util/progress.h"

#ifndef CKPT_PLUGIN_DIR
#define CKPT_PLUGIN_DIR "/usr/local/lib/ckpt/plugins"
#endif
#define MAX_STAGES	64
#define MAX_CHAIN	8
#define HEAD_LEN	8

static const struct ckpt_stage_ops *registry[MAX_STAGES] = {
	&stage_file_ops, &stage_std_ops, &stage_zstd_ops, &stage_encrypt_ops,
	&stage_tcp_ops,
};
static int nr_registry = 5, plugins_loaded;

static void load_plugin(const char *path)
{
	const struct ckpt_stage_ops *const *list;
	void *h = dlopen(path, RTLD_NOW | RTLD_LOCAL);

	if (!h) {
		pr_warn("plugin %s not loaded: %s", path, dlerror());
		return;
	}
	list = dlsym(h, "ckpt_plugin_stages");
	if (!list) {
		pr_warn("plugin %s has no ckpt_plugin_stages", path);
		dlclose(h);
		return;
	}
	for (; *list; list++) {
		if (nr_registry == MAX_STAGES) {
			pr_warn("plugin %s: more than %d stages, the rest ignored",
				path, MAX_STAGES);
			break;
		}
		if (!(*list)->name || ((*list)->kind != CKPT_STAGE_FILTER &&
				       (*list)->kind != CKPT_STAGE_SINK)) {
			pr_warn("plugin %s: a stage without a name or kind",
				path);
			continue;
		}
		if ((*list)->api_version != CKPT_PLUGIN_API) {
			pr_warn("plugin %s: stage %s is for API %u, not %u",
				path, (*list)->name, (*list)->api_version,
				CKPT_PLUGIN_API);
			continue;
		}
		registry[nr_registry++] = *list;
	}
}

static void load_dir(const char *dir)
{
	char path[4096];
	struct dirent *de;
	DIR *d = opendir(dir);
	size_t n;

	if (!d)
		return;
	while ((de = readdir(d))) {
		n = strlen(de->d_name);
		if (n > 3 && !strcmp(de->d_name + n - 3, ".so") &&
		    (size_t)snprintf(path, sizeof(path), "%s/%s", dir,
				     de->d_name) < sizeof(path))
			load_plugin(path);
	}
	closedir(d);
}

static void load_plugins(void)
{
	const char *env = getenv("CKPT_PLUGIN_PATH");
	char *dirs, *dir, *save = NULL;

	if (plugins_loaded)
		return;
	plugins_loaded = 1;
	if (env && (dirs = strdup(env))) {
		for (dir = strtok_r(dirs, ":", &save); dir;
		     dir = strtok_r(NULL, ":", &save))
			load_dir(dir);
		free(dirs);
	}
	load_dir(CKPT_PLUGIN_DIR);
}

const struct ckpt_stage_ops *pipeline_find(const char *name,
					   enum ckpt_stage_kind kind)
{
	int i;

	load_plugins();
	for (i = 0; i < nr_registry; i++)
		if (registry[i]->kind == kind && !strcmp(registry[i]->name, name))
			return registry[i];
	return NULL;
}

/* The sink and its argument for a SINK/SOURCE spec. */
const struct ckpt_stage_ops *pipeline_find_sink(const char *spec,
						const char **arg)
{
	const char *sep = strstr(spec, "://");
	int i;

	*arg = spec;
	if (!strcmp(spec, "-"))
		return &stage_std_ops;
	if (!strncmp(spec, "file:", 5) && !sep) {
		*arg = spec + 5;
		return &stage_file_ops;
	}
	if (!sep)
		return &stage_file_ops;
	load_plugins();
	for (i = 0; i < nr_registry; i++) {
		const char *sc = registry[i]->scheme;

		if (registry[i]->kind == CKPT_STAGE_SINK && sc &&
		    strlen(sc) == (size_t)(sep - spec) &&
		    !strncmp(sc, spec, sep - spec)) {
			*arg = sep + 3;
			return registry[i];
		}
	}
	pr_err("no sink handles %.*s:// (is its plugin in CKPT_PLUGIN_PATH?)",
	       (int)(sep - spec), spec);
	return NULL;
}

/* ---- writing ------------------------------------------------------------ */

struct chain {
	struct img_sink sink;	/* what the image writer sees */
	const char *const *params;
	int nr_params;
	int n;
	struct ckpt_stage st[MAX_CHAIN];	/* st[0] first, st[n-1] sink */
};

static void chain_free(struct chain *c)
{
	int i;

	for (i = 0; i < c->n; i++)
		if (c->st[i].ops->close)
			c->st[i].ops->close(&c->st[i]);
	free(c);
}

static int chain_write(struct img_sink *s, const void *buf, size_t len)
{
	struct chain *c = (struct chain *)s;

	if (c->st[0].ops->write(&c->st[0], buf, len)) {
		pr_err("image stream: %s: %s", c->st[0].ops->name,
		       c->st[0].error);
		return -1;
	}
	return 0;
}

static int chain_commit(struct img_sink *s)
{
	struct chain *c = (struct chain *)s;
	int i;

	for (i = 0; i < c->n; i++) {
		if (c->st[i].ops->commit(&c->st[i])) {
			pr_err("image stream: %s: %s", c->st[i].ops->name,
			       c->st[i].error);
			return -1;	/* the writer aborts us next */
		}
	}
	chain_free(c);
	return 0;
}

static void chain_abort(struct img_sink *s)
{
	struct chain *c = (struct chain *)s;
	int i;

	for (i = 0; i < c->n; i++)
		c->st[i].ops->abort(&c->st[i]);
	chain_free(c);
}

static int chain_open(struct chain *c, int i, const struct ckpt_stage_ops *ops,
		      const char *arg)
{
	struct ckpt_stage *st = &c->st[i];

	st->ops = ops;
	st->next = i + 1 < c->n ? &c->st[i + 1] : NULL;
	st->params = c->params;
	st->nr_params = c->nr_params;
	if (!ops->open_write || !ops->write || !ops->commit || !ops->abort) {
		pr_err("%s can't be written to", ops->name);
		st->ops = NULL;
		return -1;
	}
	if (ops->open_write(st, arg)) {
		if (st->error[0])
			pr_err("can't open %s: %s", ops->name, st->error);
		return -1;
	}
	return 0;
}

struct img_sink *pipeline_open_write(const char *const *filters,
				     int nr_filters, const char *sink)
{
	return pipeline_open_write_with(filters, nr_filters, sink, NULL, 0);
}

struct img_sink *pipeline_open_write_with(const char *const *filters,
					  int nr_filters, const char *sink,
					  const char *const *params,
					  int nr_params)
{
	return pipeline_open_write_multi(filters, nr_filters, &sink, 1, 1,
					 params, nr_params);
}

/* Several sinks: one replicate stage in the sink's place. */
static int open_sinks(struct chain *c, int i, const char *const *sinks,
		      int nr_sinks, int quorum)
{
	struct ckpt_stage *st = &c->st[i];
	const struct ckpt_stage_ops *ops;
	const char *arg;

	if (nr_sinks == 1) {
		ops = pipeline_find_sink(sinks[0], &arg);
		return ops ? chain_open(c, i, ops, arg) : -1;
	}
	st->ops = &stage_replicate_ops;
	st->params = c->params;
	st->nr_params = c->nr_params;
	if (replicate_open(st, sinks, nr_sinks, quorum)) {
		pr_err("can't open the image copies: %s", st->error);
		return -1;
	}
	return 0;
}

struct img_sink *pipeline_open_write_multi(const char *const *filters,
					   int nr_filters,
					   const char *const *sinks,
					   int nr_sinks, int quorum,
					   const char *const *params,
					   int nr_params)
{
	const struct ckpt_stage_ops *ops;
	struct chain *c;
	int i;

	if (nr_filters + 1 > MAX_CHAIN) {
		pr_err("too many filters");
		return NULL;
	}
	c = calloc(1, sizeof(*c));
	if (!c)
		return NULL;
	c->params = params;
	c->nr_params = nr_params;
	c->sink.write = chain_write;
	c->sink.commit = chain_commit;
	c->sink.abort = chain_abort;
	/* the sink first: a bad destination costs the target nothing */
	c->n = nr_filters + 1;
	if (open_sinks(c, nr_filters, sinks, nr_sinks, quorum))
		goto err;
	for (i = nr_filters - 1; i >= 0; i--) {
		char name[64], *eq;

		snprintf(name, sizeof(name), "%s", filters[i]);
		eq = strchr(name, '=');
		if (eq)
			*eq = '\0';
		ops = pipeline_find(name, CKPT_STAGE_FILTER);
		if (!ops) {
			pr_err("no filter named %s", name);
			goto err;
		}
		if (chain_open(c, i, ops, eq ? filters[i] + (eq - name) + 1 :
			       NULL))
			goto err;
	}
	return &c->sink;
err:
	for (i = 0; i < c->n; i++)
		if (c->st[i].ops && c->st[i].ops->abort)
			c->st[i].ops->abort(&c->st[i]);
	for (i = 0; i < c->n; i++)
		if (c->st[i].ops && c->st[i].ops->close)
			c->st[i].ops->close(&c->st[i]);
	free(c);
	return NULL;
}

/* ---- reading ------------------------------------------------------------ */

/* Replays the bytes peeked for detection, then reads on. */
struct replay {
	unsigned char head[HEAD_LEN];
	size_t len, pos;
};

static ssize_t replay_read(struct ckpt_stage *s, void *buf, size_t len)
{
	struct replay *r = s->priv;

	if (r->pos < r->len) {
		size_t n = r->len - r->pos < len ? r->len - r->pos : len;

		memcpy(buf, r->head + r->pos, n);
		r->pos += n;
		return n;
	}
	return ckpt_stage_next_read(s, buf, len);
}

static const struct ckpt_stage_ops replay_ops = {
	.api_version = CKPT_PLUGIN_API,
	.name = "replay",
	.kind = CKPT_STAGE_FILTER,
	.read = replay_read,
};

/* Fill r->head from stage s (which reads on from its upstream). */
static int peek(struct ckpt_stage *s, struct replay *r)
{
	r->len = r->pos = 0;
	while (r->len < HEAD_LEN) {
		ssize_t n = s->ops->read(s, r->head + r->len,
					 HEAD_LEN - r->len);

		if (n < 0)
			return -1;
		if (n == 0)
			break;
		r->len += n;
	}
	return 0;
}

struct rchain {
	struct ckpt_stage st[MAX_CHAIN * 2];
	struct replay rp[MAX_CHAIN];
	int n;
	const char *const *params;
	int nr_params;
};

static void rchain_close(struct rchain *c)
{
	int i;

	for (i = 0; i < c->n; i++)
		if (c->st[i].ops->close)
			c->st[i].ops->close(&c->st[i]);
}

/* The stage reading the decoded stream: top of the chain. */
static struct ckpt_stage *push(struct rchain *c,
			       const struct ckpt_stage_ops *ops,
			       struct ckpt_stage *upstream)
{
	struct ckpt_stage *st = &c->st[c->n++];

	st->ops = ops;
	st->next = upstream;
	st->params = c->params;
	st->nr_params = c->nr_params;
	return st;
}

uint64_t stage_max_decoded(void)
{
	const char *env = getenv("CKPT_MAX_DECODED");
	unsigned long long v;
	char *end;
	long pages = sysconf(_SC_PHYS_PAGES), ps = sysconf(_SC_PAGESIZE);

	if (env && *env) {
		errno = 0;
		v = strtoull(env, &end, 10);
		if (!errno && v && end != env) {
			switch (*end) {
			case 'K': v <<= 10; end++; break;
			case 'M': v <<= 20; end++; break;
			case 'G': v <<= 30; end++; break;
			}
			if (!*end)
				return v;
		}
	}
	/* the decoded image is held in memory (a memfd) */
	return pages > 0 && ps > 0 ? (uint64_t)pages * ps : UINT64_MAX;
}

/* Copy the decoded stream into fd (a memfd that pread works on), at most
 * stage_max_decoded() bytes: a small compressed stream may expand to
 * more than the machine holds. */
static int spool_to(struct ckpt_stage *top, const char *source, int fd)
{
	uint64_t max = stage_max_decoded(), total = 0;
	char *buf = malloc(1 << 20);
	ssize_t n;

	if (!buf) {
		pr_err("%s: out of memory", source);
		return -1;
	}
	while ((n = top->ops->read(top, buf, 1 << 20)) > 0) {
		total += n;
		progress_add((uint64_t)n);	/* restore's "reading" */
		if (total > max) {
			pr_err("%s: the decoded image is larger than %llu bytes (CKPT_MAX_DECODED or the memory size): refused",
			       source, (unsigned long long)max);
			goto err;
		}
		if (write_full(fd, buf, n)) {
			pr_perror("can't hold the image of %s in memory",
				  source);
			goto err;
		}
	}
	if (n < 0) {
		pr_err("%s: %s: %s", source, top->ops->name, top->error);
		goto err;
	}
	free(buf);
	return 0;
err:
	free(buf);
	return -1;
}

/* A plain image in a regular file is used as it is: no copy. */
static int plain_file(struct ckpt_stage *src, const struct replay *r)
{
	struct stat st;
	int fd = stage_file_fd(src);

	if (src->ops != &stage_file_ops || r->len < HEAD_LEN ||
	    memcmp(r->head, IMG_MAGIC, HEAD_LEN) || fstat(fd, &st) ||
	    !S_ISREG(st.st_mode))
		return -1;
	return dup(fd);
}

/* The value of "name=value" in params for a filter, or NULL. */
static const char *param_of(const char *name, const char *const *params,
			    int n)
{
	size_t len = strlen(name);
	int i;

	for (i = 0; i < n; i++)
		if (!strncmp(params[i], name, len) && params[i][len] == '=')
			return params[i] + len + 1;
	return NULL;
}

static int detect_filters(struct rchain *c, struct ckpt_stage **top,
			  const char *source, const char *const *params,
			  int nr_params)
{
	const struct ckpt_stage_ops *ops;
	int k, i;

	for (k = 1; k < MAX_CHAIN; k++) {
		struct ckpt_stage *rs;

		if (peek(*top, &c->rp[k])) {
			pr_err("%s: %s", source, (*top)->error);
			return -1;
		}
		rs = push(c, &replay_ops, *top);
		rs->priv = &c->rp[k];
		*top = rs;
		for (i = 0, ops = NULL; i < nr_registry && !ops; i++)
			if (registry[i]->kind == CKPT_STAGE_FILTER &&
			    registry[i]->detect &&
			    registry[i]->detect(c->rp[k].head, c->rp[k].len))
				ops = registry[i];
		if (!ops)
			return 0;
		if (!ops->open_read || !ops->read) {
			pr_err("%s: the %s stream can't be read", source,
			       ops->name);
			return -1;
		}
		*top = push(c, ops, *top);
		if (ops->open_read(*top, param_of(ops->name, params,
						  nr_params))) {
			pr_err("%s: %s: %s", source, ops->name, (*top)->error);
			return -1;
		}
	}
	pr_err("%s: too many filters", source);
	return -1;
}

int pipeline_open_read(const char *source)
{
	return pipeline_open_read_with(source, NULL, 0);
}

int pipeline_keygen(const char *path)
{
	return stage_encrypt_keygen(path);
}

int pipeline_check_key(const char *path)
{
	unsigned char key[NET_KEY];
	char err[256];

	if (net_load_key(path, key, err, sizeof(err))) {
		pr_err("%s", err);
		return -1;
	}
	sodium_memzero(key, sizeof(key));
	return 0;
}

/*
 * Detect the filters and decode into memfd in a child that confine()
 * confined first (out_fd: memfd), so that the decoders (libzstd,
 * libsodium, a plugin's) parse the untrusted stream under its filter
 * too. The source is open and the head peeked already; the key files
 * are opened read-only, which a parser's filter allows.
 */
static int decode_confined(struct rchain *c, struct ckpt_stage *top,
			   const char *source, int memfd,
			   int (*confine)(int out_fd))
{
	int status;
	pid_t pid;

	fflush(NULL);
	pid = fork();
	if (pid < 0) {
		pr_perror("can't fork the decoder of %s", source);
		return -1;
	}
	if (!pid) {
		if (prctl(PR_SET_PDEATHSIG, SIGKILL) || confine(memfd) ||
		    detect_filters(c, &top, source, c->params, c->nr_params) ||
		    spool_to(top, source, memfd))
			_exit(1);
		_exit(0);
	}
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR) {
			pr_perror("can't wait for the decoder of %s", source);
			return -1;
		}
	if (WIFSIGNALED(status))
		pr_err("%s: the decoder was killed by signal %d", source,
		       WTERMSIG(status));
	return WIFEXITED(status) && !WEXITSTATUS(status) ? 0 : -1;
}

static int decode(struct rchain *c, struct ckpt_stage *top,
		  const char *source, int (*confine)(int out_fd))
{
	int fd = memfd_create("ckpt-image", MFD_CLOEXEC);

	if (fd < 0) {
		pr_perror("can't hold the image of %s in memory", source);
		return -1;
	}
	if (confine ? decode_confined(c, top, source, fd, confine) :
	    detect_filters(c, &top, source, c->params, c->nr_params) ||
	    spool_to(top, source, fd)) {
		close(fd);
		return -1;
	}
	return fd;
}

int pipeline_open_read_with(const char *source, const char *const *params,
			    int nr_params)
{
	return pipeline_open_read_confined(source, params, nr_params, NULL);
}

int pipeline_open_read_confined(const char *source,
				const char *const *params, int nr_params,
				int (*confine)(int out_fd))
{
	struct rchain c;
	const struct ckpt_stage_ops *ops;
	struct ckpt_stage *top;
	const char *arg;
	int fd = -1, saved;

	memset(&c, 0, sizeof(c));
	c.params = params;
	c.nr_params = nr_params;
	ops = pipeline_find_sink(source, &arg);
	if (!ops) {
		errno = ENOENT;
		return -1;
	}
	top = push(&c, ops, NULL);
	if (!ops->open_read || ops->open_read(top, arg)) {
		pr_err("%s", top->error[0] ? top->error :
		       "this sink cannot be read");
		errno = ENOENT;
		goto out;
	}
	load_plugins();
	errno = EBADMSG;	/* from here on: the stream is at fault */
	if (peek(top, &c.rp[0])) {
		pr_err("%s: %s", source, top->error);
		/* the stage's own errno (EPIPE of a cut stream) would make
		 * a stream that broke off look like one never opened */
		errno = EBADMSG;
		goto out;
	}
	fd = plain_file(top, &c.rp[0]);
	if (fd >= 0)
		goto out;
	top = push(&c, &replay_ops, top);
	top->priv = &c.rp[0];
	fd = decode(&c, top, source, confine);
	if (fd < 0)
		errno = EBADMSG;
out:
	saved = errno;	/* the caller's exit status depends on it */
	rchain_close(&c);
	errno = saved;
	return fd;
}
