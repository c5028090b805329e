/*
 * ckpt coord: the coordinator daemon. One thread, one poll loop over the
 * listening socket and every session; each new connection is
 * authenticated at once (plugins/net.h, bounded by a timeout) and then
 * speaks coord_msg frames. A member's session carries its JOIN, then the
 * answers of the protocol (job.c); a client's, one request of ckpt job.
 * What the coordinator decides is asked of its kind (built in, or a
 * shared object loaded with dlopen), and what must outlive it goes to
 * the kind's key-value store. Members do not depend on it: when it
 * stops, they run on and come back when it does.
 */
#include <sys/socket.h>
#include <sys/time.h>
#include <arpa/inet.h>
#include <dlfcn.h>
#include <errno.h>
#include <netdb.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "coord/coord-priv.h"
#include "coord/kinds.h"

#define SESSION_TIMEOUT	10	/* seconds for the handshake or a frame */

int coord_reply(struct coord *c, struct coord_sess *s, int ok,
		const char *fmt, ...)
{
	struct coord_msg *m = calloc(1, sizeof(*m));
	va_list ap;
	int ret;

	(void)c;
	if (!m)
		return -1;
	m->verb = ok ? CM_OK : CM_ERR;
	va_start(ap, fmt);
	vsnprintf(m->text, sizeof(m->text), fmt, ap);
	va_end(ap);
	ret = coord_send(&s->s, m);
	free(m);
	return ret;
}

/* A message to a member; a failed send ends its session next time. */
int coord_tell(struct coord *c, struct coord_member *m,
	       const struct coord_msg *msg)
{
	(void)c;
	if (!m->sess)
		return -1;
	if (coord_send(&m->sess->s, msg)) {
		pr_warn("can't reach member %s of job %s: %s", m->name,
			m->job->name, net_strerror(errno));
		return -1;
	}
	return 0;
}

/* ---- the kind and its store ---------------------------------------- */

static int env_get(void *ctx, const char *key, char *val, size_t size)
{
	struct coord *c = ctx;

	return c->kv->get(c->kvh, key, val, size);
}

static int env_put(void *ctx, const char *key, const char *val)
{
	struct coord *c = ctx;

	return c->kv->put(c->kvh, key, val);
}

static int env_del(void *ctx, const char *key)
{
	struct coord *c = ctx;

	return c->kv->del(c->kvh, key);
}

static void env_log(void *ctx, int level, const char *msg)
{
	(void)ctx;
	if (level <= 0)
		pr_err("%s", msg);
	else if (level == 1)
		pr_warn("%s", msg);
	else if (level == 2)
		pr_info("%s", msg);
	else
		pr_debug("%s", msg);
}

static const struct ckpt_coord_kind *load_kind(struct coord *c)
{
	const struct ckpt_coord_kind *k;
	ckpt_coord_kind_fn fn;

	if (!strcmp(c->o->kind, "central"))
		return coord_kind_central();
	if (!strcmp(c->o->kind, "standby"))
		return coord_kind_standby();
	if (!strcmp(c->o->kind, "sharded"))
		return coord_kind_sharded();
	if (!strcmp(c->o->kind, "tree"))
		return coord_kind_tree();
	if (!strchr(c->o->kind, '/')) {
		pr_err("no kind %s (central, standby, sharded, tree, or the "
		       "path of a shared object)", c->o->kind);
		return NULL;
	}
	c->dl = dlopen(c->o->kind, RTLD_NOW | RTLD_LOCAL);
	if (!c->dl) {
		pr_err("can't load kind %s: %s", c->o->kind, dlerror());
		return NULL;
	}
	*(void **)&fn = dlsym(c->dl, CKPT_COORD_SYMBOL);
	k = fn ? fn() : NULL;
	if (!k || k->api != CKPT_COORD_API || !k->name) {
		pr_err("%s is no coordinator kind of API %d (ckpt-coord(7))",
		       c->o->kind, CKPT_COORD_API);
		return NULL;
	}
	return k;
}

/* tree: --site NAME or --root, and only there; the store and the
 * election of the root or the site under --zk's ROOT (tree.c) */
static int tree_opts(struct coord *c, const char **where, char *buf,
		     size_t len)
{
	int tree = c->kind == coord_kind_tree();

	if (tree && !!c->o->site == !!c->o->root) {
		pr_err("kind tree: --site NAME or --root needed (one of them)");
		return -2;
	}
	if (!tree && (c->o->site || c->o->root)) {
		pr_err("--site and --root are of kind tree");
		return -2;
	}
	if (c->o->site && !coord_name_ok(c->o->site)) {
		pr_err("bad --site %s: expected [A-Za-z0-9][A-Za-z0-9._-]*",
		       c->o->site);
		return -2;
	}
	if (tree && *where && tree_where(c->o, buf, len)) {
		pr_err("--zk %s: too long", c->o->zk);
		return -2;
	}
	if (tree && *where)
		*where = buf;
	return 0;
}

static int open_kind(struct coord *c)
{
	const char *where;
	char err[512], tree[1100];
	int ret;

	c->kind = load_kind(c);
	if (!c->kind)
		return -1;
	c->kv = c->kind->kv ? c->kind->kv : &coord_kv_file;
	where = c->kv == &coord_kv_zk ? c->o->zk : c->o->state;
	if (!where) {
		pr_err("kind %s keeps its store in ZooKeeper: --zk HOSTS needed",
		       c->kind->name);
		return -2;
	}
	ret = tree_opts(c, &where, tree, sizeof(tree));
	if (ret)
		return ret;
	c->kvh = c->kv->open(where, err, sizeof(err));
	if (!c->kvh) {
		pr_err("%s", err);
		return -1;
	}
	c->env = (struct ckpt_coord_env){
		.api = CKPT_COORD_API, .arg = c->o->kind_arg, .ctx = c,
		.kv_get = env_get, .kv_put = env_put, .kv_del = env_del,
		.log = env_log,
	};
	if (c->kind->init && c->kind->init(&c->env, &c->kstate)) {
		pr_err("kind %s failed to start", c->kind->name);
		return -1;
	}
	pr_info("coordinator of kind %s, store %s:%s", c->kind->name,
		c->kv->name, where);
	return 0;
}

/* ---- membership ------------------------------------------------------ */

static struct coord_job *find_job(struct coord *c, const char *name,
				  int create)
{
	struct coord_job *j;
	int i;

	for (i = 0; i < c->njobs; i++)
		if (!strcmp(c->jobs[i]->name, name))
			return c->jobs[i];
	if (!create || c->njobs == COORD_MAX_JOBS)
		return NULL;
	j = calloc(1, sizeof(*j));
	if (!j)
		return NULL;
	j->up.fd = -1;
	snprintf(j->name, sizeof(j->name), "%s", name);
	c->jobs[c->njobs++] = j;
	return j;
}

static struct coord_member *find_member(struct coord_job *j,
					const char *name)
{
	int i;

	for (i = 0; i < j->n; i++)
		if (!strcmp(j->mem[i]->name, name))
			return j->mem[i];
	return NULL;
}

static void refresh_pub(struct coord_member *m)
{
	m->pub.job = m->job->name;
	m->pub.name = m->name;
	m->pub.host = m->host;
	m->pub.dir = m->dir;
}

static struct coord_member *add_member(struct coord_job *j,
				       const char *name)
{
	struct coord_member *m;

	if (j->n == COORD_MAX_MEMBERS)
		return NULL;
	m = calloc(1, sizeof(*m));
	if (!m)
		return NULL;
	snprintf(m->name, sizeof(m->name), "%s", name);
	m->job = j;
	j->mem[j->n++] = m;
	return m;
}

/* sharded: the job is ours, or becomes ours (0); another's (-1, the
 * member told where) */
static int own_job(struct coord *c, struct coord_sess *s, const char *job)
{
	char owner[256];

	if (c->kind != coord_kind_sharded() ||
	    !coord_zk_claim(c->kvh, job, c->o->listen, owner, sizeof(owner)))
		return 0;
	if (errno == EEXIST)
		coord_reply(c, s, 0, "job %s is served by %s", job, owner);
	else
		coord_reply(c, s, 0, "can't own job %s in ZooKeeper: %s", job,
			    strerror(errno));
	return -1;
}

static void on_join(struct coord *c, struct coord_sess *s,
		    const struct coord_msg *msg)
{
	struct coord_job *j;
	struct coord_member *m;
	struct coord_msg w = { .verb = CM_WELCOME };

	if (own_job(c, s, msg->job))
		return;
	j = find_job(c, msg->job, 1);
	m = j ? find_member(j, msg->member) : NULL;
	if (!j || (!m && !(m = add_member(j, msg->member)))) {
		coord_reply(c, s, 0, "too many jobs or members");
		return;
	}
	if (m->sess) {
		coord_reply(c, s, 0, "member %s of job %s is already here",
			    msg->member, msg->job);
		return;
	}
	snprintf(m->host, sizeof(m->host), "%s", msg->host);
	snprintf(m->dir, sizeof(m->dir), "%s", msg->path);
	m->pub.running = msg->num != 0;
	m->st = M_IDLE;
	m->taking = 0;
	m->sess = s;
	s->m = m;
	refresh_pub(m);
	if (coord_send(&s->s, &w))
		return;
	if (c->kind->join)
		c->kind->join(c->kstate, &m->pub);
}

static void remove_member(struct coord_member *m)
{
	struct coord_job *j = m->job;
	int i;

	for (i = 0; i < j->n; i++)
		if (j->mem[i] == m)
			j->mem[i] = j->mem[--j->n];
	free(m);
}

/* ---- sessions -------------------------------------------------------- */

static void end_session(struct coord *c, struct coord_sess *s,
			const char *why)
{
	struct coord_member *m = s->m;
	int i;

	if (m) {
		m->sess = NULL;
		pr_info("member %s of job %s: %s", m->name, m->job->name, why);
		job_member_gone(c, m, why);
		if (c->kind->lost)
			c->kind->lost(c->kstate, &m->pub);
	}
	for (i = 0; i < c->njobs; i++)
		if (c->jobs[i]->client == s)
			c->jobs[i]->client = NULL;
	coord_close(&s->s);
	for (i = 0; i < c->nsess; i++)
		if (c->sess[i] == s)
			c->sess[i] = c->sess[--c->nsess];
	free(s);
}

static void on_leave(struct coord *c, struct coord_sess *s)
{
	struct coord_member *m = s->m;
	struct coord_job *j = m->job;

	pr_info("member %s of job %s left", m->name, m->job->name);
	s->m = NULL;
	m->sess = NULL;
	job_member_gone(c, m, "left");
	if (c->kind->leave)
		c->kind->leave(c->kstate, &m->pub);
	remove_member(m);
	/* sharded: a job with no member left is no longer ours */
	if (!j->n && c->kind == coord_kind_sharded())
		coord_zk_release(c->kvh, j->name);
}

static void client_request(struct coord *c, struct coord_sess *s,
			   const struct coord_msg *msg)
{
	struct coord_job *j;

	if (msg->verb == CM_LIST) {
		job_list(c, s);
		return;
	}
	if (msg->verb == CM_STATUS) {
		job_status(c, msg->job, s);
		return;
	}
	if (tree_is_site(c)) {
		coord_reply(c, s, 0, "site %s: job %s is checkpointed and "
			    "restarted through the root", c->o->site, msg->job);
		return;
	}
	j = find_job(c, msg->job, 0);
	if (!j || !j->n) {
		coord_reply(c, s, 0, "no member of job %s is here", msg->job);
		return;
	}
	if (msg->verb == CM_CHECKPOINT)
		job_checkpoint(c, j, msg->num != 0, s);
	else
		job_restart(c, j, msg->text, s);
}

/* One message on s: 0, or -1 to end the session. */
static int dispatch(struct coord *c, struct coord_sess *s,
		    const struct coord_msg *msg)
{
	switch (msg->verb) {
	case CM_JOIN:
		if (s->m || s->waits)
			return -1;
		on_join(c, s, msg);
		return s->m ? 0 : -1;
	case CM_LEAVE:
		if (!s->m)
			return -1;
		on_leave(c, s);
		return -1;
	case CM_DONE:
	case CM_FAIL:
	case CM_LOCKED:
	case CM_RESTORED:
		if (!s->m)
			return -1;
		job_answer(c, s->m, msg);
		return 0;
	case CM_CHECKPOINT:
	case CM_STATUS:
	case CM_RESTART:
	case CM_LIST:
		if (s->m)
			return -1;
		client_request(c, s, msg);
		return 0;
	default:
		return -1;
	}
}

static void on_readable(struct coord *c, struct coord_sess *s)
{
	struct coord_msg *msg = malloc(sizeof(*msg));
	char why[160];

	if (!msg || coord_recv(&s->s, msg)) {
		if (!msg)
			snprintf(why, sizeof(why), "out of memory");
		else if (errno == EPIPE)
			snprintf(why, sizeof(why), "connection closed");
		else
			snprintf(why, sizeof(why), "%s from %s, session ended",
				 errno == EBADMSG ? "a forged, replayed or bad message" :
				 net_strerror(errno), s->peer);
		if (msg && errno != EPIPE)
			pr_warn("%s", why);
		end_session(c, s, why);
	} else if (dispatch(c, s, msg)) {
		end_session(c, s, "session ended");
	}
	free(msg);
}

static void peer_name(int fd, char *buf, size_t len)
{
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);
	char h[NI_MAXHOST], p[NI_MAXSERV];

	snprintf(buf, len, "?");
	if (!getpeername(fd, (struct sockaddr *)&ss, &sl) &&
	    !getnameinfo((struct sockaddr *)&ss, sl, h, sizeof(h), p,
			 sizeof(p), NI_NUMERICHOST | NI_NUMERICSERV))
		snprintf(buf, len, "%.50s:%.10s", h, p);
}

static void on_accept(struct coord *c)
{
	struct timeval tv = { .tv_sec = SESSION_TIMEOUT };
	struct coord_sess *s;
	char err[256];
	int fd = accept4(c->lfd, NULL, NULL, SOCK_CLOEXEC);

	if (fd < 0)
		return;
	s = calloc(1, sizeof(*s));
	if (!s || c->nsess == COORD_MAX_CONNS) {
		pr_warn("too many sessions: a connection refused");
		free(s);
		close(fd);
		return;
	}
	peer_name(fd, s->peer, sizeof(s->peer));
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	if (net_auth_server(&s->s.nc, fd, c->key, err, sizeof(err))) {
		pr_warn("refused %s: %s", s->peer, err);
		close(fd);
		free(s);
		return;
	}
	s->s.fd = fd;
	c->sess[c->nsess++] = s;
}

static int listen_on(const char *addr)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM,
				  .ai_flags = AI_PASSIVE }, *res, *ai;
	char host[256], port[32];
	int fd = -1, one = 1, gai;

	if (coord_split_addr(addr, host, port)) {
		pr_err("%s: expected HOST:PORT", addr);
		return -2;
	}
	gai = getaddrinfo(host, port, &hints, &res);
	if (gai) {
		pr_err("can't listen on %s: %s", addr, gai_strerror(gai));
		return -1;
	}
	for (ai = res; ai && fd < 0; ai = ai->ai_next) {
		fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, 0);
		if (fd < 0)
			continue;
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
		if (!bind(fd, ai->ai_addr, ai->ai_addrlen) && !listen(fd, 64))
			break;
		pr_perror("can't listen on %s", addr);
		close(fd);
		fd = -1;
	}
	freeaddrinfo(res);
	return fd;
}

static int still_there(const struct coord *c, const struct coord_sess *s)
{
	int i;

	for (i = 0; i < c->nsess; i++)
		if (c->sess[i] == s)
			return 1;
	return 0;
}

/* Serve until *stop: 0, or -1 when we may no longer (the election). */
static int loop(struct coord *c)
{
	struct pollfd pfd[COORD_MAX_CONNS + COORD_MAX_JOBS + 1];
	struct coord_sess *ready[COORD_MAX_CONNS];
	struct coord_job *up[COORD_MAX_JOBS];
	int i, n, nready, nup;

	while (!*c->o->stop) {
		pfd[0] = (struct pollfd){ .fd = c->lfd, .events = POLLIN };
		n = c->nsess;
		for (i = 0; i < n; i++) {
			pfd[i + 1] = (struct pollfd){ .fd = c->sess[i]->s.fd,
						      .events = POLLIN };
			ready[i] = c->sess[i];
		}
		/* tree: a site's sessions with the root */
		for (i = 0, nup = 0; i < c->njobs; i++)
			if (c->jobs[i]->up.fd >= 0) {
				up[nup] = c->jobs[i];
				pfd[n + 1 + nup++] = (struct pollfd){
					.fd = c->jobs[i]->up.fd,
					.events = POLLIN };
			}
		if (poll(pfd, n + 1 + nup, 1000) < 0 && errno != EINTR) {
			pr_perror("poll");
			return -1;
		}
		for (i = 0; i < nup; i++)
			if (pfd[n + 1 + i].revents && up[i]->up.fd >= 0)
				tree_readable(c, up[i]);
		/* sessions may end while others are served: keep a list */
		for (i = 0, nready = 0; i < n; i++)
			if (pfd[i + 1].revents)
				ready[nready++] = ready[i];
		for (i = 0; i < nready; i++)
			if (still_there(c, ready[i]))
				on_readable(c, ready[i]);
		if (pfd[0].revents)
			on_accept(c);
		job_tick(c, time(NULL));
		tree_tick(c);
		if (c->kv == &coord_kv_zk && coord_zk_lost(c->kvh)) {
			/* a standby may lead by now: never two leaders */
			pr_err("lost the ZooKeeper session: no longer leading");
			return -1;
		}
	}
	return 0;
}

static void shut(struct coord *c)
{
	int i, k;

	while (c->nsess)
		end_session(c, c->sess[0], "coordinator stopping");
	for (i = 0; i < c->njobs; i++) {
		for (k = 0; k < c->jobs[i]->n; k++)
			free(c->jobs[i]->mem[k]);
		tree_close(c->jobs[i]);
		free(c->jobs[i]);
	}
	if (c->kind && c->kind->fini)
		c->kind->fini(c->kstate);
	if (c->kvh)
		c->kv->close(c->kvh);
	if (c->lfd >= 0)
		close(c->lfd);
	if (c->dl)
		dlclose(c->dl);
	sodium_memzero(c->key, sizeof(c->key));
}

int coord_serve(const struct coord_opts *o)
{
	struct coord *c = calloc(1, sizeof(*c));
	char err[256];
	int ret = -1, st;

	if (!c)
		return -1;
	c->o = o;
	c->lfd = -1;
	if (net_load_key(o->keyfile, c->key, err, sizeof(err))) {
		pr_err("%s", err);
		ret = -2;
		goto out;
	}
	ret = open_kind(c);
	if (ret)
		goto out;
	ret = -1;
	/* a standby (or a tree's root or site coordinator): serve only
	 * once elected, and while it holds */
	if (c->kind == coord_kind_standby() || c->kind == coord_kind_tree()) {
		st = coord_zk_elect(c->kvh, o->listen, o->stop);
		if (st) {
			ret = st < 0 ? -1 : 0;
			goto out;
		}
		pr_info("elected leader in ZooKeeper %s", o->zk);
	}
	c->lfd = listen_on(o->listen);
	if (c->lfd < 0) {
		ret = c->lfd;
		goto out;
	}
	/* sharded: serve at once, found by members through ZooKeeper */
	if (c->kind == coord_kind_sharded()) {
		if (coord_zk_register(c->kvh, o->listen))
			goto out;
		pr_info("registered in ZooKeeper %s", o->zk);
	}
	pr_info("listening on %s", o->listen);
	ret = loop(c);
out:
	shut(c);
	free(c);
	return ret;
}
