/*
 * The coordinator's protocols for a job. A checkpoint is two-phase:
 * every member taking part gets CKPT (its image's path) and freezes its
 * tree, locks its connections, dumps and commits its image, answers DONE
 * with the image's checksum and stays frozen; when all have, the job's
 * manifest (members, hosts, images, checksums) is put in the store, and
 * only then do they get COMMIT (thaw, or die with --kill). A FAIL, a
 * member gone, or the deadline: ABORT to all, they thaw, no manifest,
 * the last one stands. A member that hears nothing (the coordinator
 * died) aborts by itself. A restart is two-phase too: LOCK (each member
 * holds off its connections' peers), then RESTORE, so that no restored
 * end meets a reset from a peer host whose end is not back yet.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "coord/coord-priv.h"

#define MANIFEST_MAGIC	"ckpt-coord-manifest 1"

static void key_of(char *buf, size_t len, const struct coord_job *j,
		   const char *what)
{
	snprintf(buf, len, "job/%s/%s", j->name, what);
}

static unsigned long stored_num(struct coord *c, const struct coord_job *j,
				const char *what)
{
	char key[CKPT_COORD_KEY_MAX], val[32];

	key_of(key, sizeof(key), j, what);
	if (c->kv->get(c->kvh, key, val, sizeof(val)))
		return 0;
	return strtoul(val, NULL, 10);
}

static int store_num(struct coord *c, const struct coord_job *j,
		     const char *what, unsigned long v)
{
	char key[CKPT_COORD_KEY_MAX], val[32];

	key_of(key, sizeof(key), j, what);
	snprintf(val, sizeof(val), "%lu", v);
	return c->kv->put(c->kvh, key, val);
}

static const char *op_name(enum job_op op)
{
	return op == OP_CKPT ? "checkpoint" : "restart";
}

static void finish(struct coord *c, struct coord_job *j, int ok,
		   const char *text)
{
	if (j->client)
		coord_reply(c, j->client, ok, "%s", text);
	j->client = NULL;
	j->op = OP_NONE;
	j->from_up = 0;
}

/* Abort the operation under way: ABORT to every member in it. */
static void abort_op(struct coord *c, struct coord_job *j, const char *why)
{
	struct coord_msg msg = { .verb = CM_ABORT, .seq = j->seq };
	char text[512];
	int i;

	if (j->op == OP_NONE)
		return;
	for (i = 0; i < j->n; i++) {
		if (!j->mem[i]->taking)
			continue;
		j->mem[i]->taking = 0;
		j->mem[i]->st = M_IDLE;
		coord_tell(c, j->mem[i], &msg);
	}
	snprintf(text, sizeof(text), "%s %lu of job %s aborted: %s",
		 op_name(j->op), j->seq, j->name, why);
	pr_warn("%s", text);
	if (j->op == OP_CKPT && c->kind->aborted)
		c->kind->aborted(c->kstate, j->name, j->seq, why);
	/* a site's part of the root's operation: the root hears why */
	if (j->from_up)
		tree_failed(c, j, text);
	finish(c, j, 0, text);
}

void job_abort(struct coord *c, struct coord_job *j, const char *why)
{
	abort_op(c, j, why);
}

/* Refuse when busy or when a member of the job is away. */
static int can_start(struct coord *c, struct coord_job *j,
		     struct coord_sess *client)
{
	int i;

	if (j->op != OP_NONE) {
		if (client)
			coord_reply(c, client, 0, "a %s of job %s is under way",
				    op_name(j->op), j->name);
		return 0;
	}
	for (i = 0; i < j->n; i++) {
		if (j->mem[i]->sess)
			continue;
		if (client)
			coord_reply(c, client, 0,
				    "member %s of job %s is not connected",
				    j->mem[i]->name, j->name);
		return 0;
	}
	return 1;
}

/* The kind's choice of members: the running ones, unless it says. */
static int select_members(struct coord *c, struct coord_job *j)
{
	const struct ckpt_coord_member *pub[COORD_MAX_MEMBERS];
	struct coord_member *run[COORD_MAX_MEMBERS];
	int take[COORD_MAX_MEMBERS], i, n = 0, taken = 0;

	for (i = 0; i < j->n; i++)
		if (j->mem[i]->pub.running) {
			run[n] = j->mem[i];
			pub[n] = &j->mem[i]->pub;
			take[n++] = 1;
		}
	if (c->kind->select &&
	    c->kind->select(c->kstate, j->name, pub, n, take))
		return -1;
	for (i = 0; i < n; i++)
		if (take[i]) {
			run[i]->taking = 1;
			taken++;
		}
	return taken ? 0 : -1;
}

static int image_path(struct coord *c, struct coord_member *m,
		      unsigned long seq)
{
	if (c->kind->image)
		return c->kind->image(c->kstate, &m->pub, seq, m->path,
				      sizeof(m->path));
	if ((size_t)snprintf(m->path, sizeof(m->path), "%s/%04lu.ckpt",
			     m->dir, seq) >= sizeof(m->path))
		return -1;
	return 0;
}

/* seq: the root's number (a site of the tree), or 0 for the next of
 * our own */
static void start_checkpoint(struct coord *c, struct coord_job *j, int kill,
			     struct coord_sess *client, unsigned long seq)
{
	struct coord_msg msg = { .verb = CM_CKPT, .num = kill };
	int i;

	if (!can_start(c, j, client))
		return;
	if (select_members(c, j)) {
		if (client)
			coord_reply(c, client, 0,
				    "no member of job %s to checkpoint",
				    j->name);
		return;
	}
	/* a number never reused, even for a checkpoint that aborts */
	j->seq = seq ? seq : stored_num(c, j, "next") + 1;
	if (!seq && store_num(c, j, "next", j->seq)) {
		if (client)
			coord_reply(c, client, 0, "can't write the store: %s",
				    strerror(errno));
		for (i = 0; i < j->n; i++)
			j->mem[i]->taking = 0;
		return;
	}
	j->op = OP_CKPT;
	j->kill = kill;
	clock_gettime(CLOCK_MONOTONIC, &j->t0);
	j->slowest_ms = 0;
	j->client = client;
	j->deadline = time(NULL) + c->o->timeout;
	msg.seq = j->seq;
	for (i = 0; i < j->n; i++) {
		struct coord_member *m = j->mem[i];

		if (!m->taking)
			continue;
		m->st = M_ASKED;
		if (image_path(c, m, j->seq)) {
			abort_op(c, j, "no image path for a member");
			return;
		}
		snprintf(msg.path, sizeof(msg.path), "%s", m->path);
		coord_tell(c, m, &msg);
	}
	pr_info("checkpoint %lu of job %s started", j->seq, j->name);
}

void job_checkpoint(struct coord *c, struct coord_job *j, int kill,
		    struct coord_sess *client)
{
	start_checkpoint(c, j, kill, client, 0);
}

void job_checkpoint_seq(struct coord *c, struct coord_job *j, int kill,
			unsigned long seq)
{
	j->from_up = 0;
	start_checkpoint(c, j, kill, NULL, seq);
	if (j->op == OP_CKPT)
		j->from_up = 1;
}

static int all_in(const struct coord_job *j, enum member_state st)
{
	int i;

	for (i = 0; i < j->n; i++)
		if (j->mem[i]->taking && j->mem[i]->st != st)
			return 0;
	return 1;
}

int job_manifest_text(const struct coord_job *j, char *buf, size_t len)
{
	size_t off;
	int i;

	off = snprintf(buf, len, "%s\njob %s\nseq %lu\ntime %lld\n",
		       MANIFEST_MAGIC, j->name, j->seq,
		       (long long)time(NULL));
	for (i = 0; i < j->n && off < len; i++)
		if (j->mem[i]->taking)
			off += snprintf(buf + off, len - off,
					"member %s %s %s %s\n",
					j->mem[i]->name, j->mem[i]->host,
					j->mem[i]->path, j->mem[i]->sum);
	if (off >= len) {
		errno = E2BIG;
		return -1;
	}
	return 0;
}

static int write_manifest(struct coord *c, struct coord_job *j,
			  char *buf, size_t len)
{
	char key[CKPT_COORD_KEY_MAX];

	if (job_manifest_text(j, buf, len))
		return -1;
	key_of(key, sizeof(key), j, "manifest");
	if (c->kv->put(c->kvh, key, buf) || store_num(c, j, "seq", j->seq))
		return -1;
	snprintf(key, sizeof(key), "jobs/%s", j->name);
	return c->kv->put(c->kvh, key, "1");
}

static long ms_since(const struct timespec *t0)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (t.tv_sec - t0->tv_sec) * 1000L +
	       (t.tv_nsec - t0->tv_nsec) / 1000000L;
}

void job_commit(struct coord *c, struct coord_job *j)
{
	struct coord_msg msg = { .verb = CM_COMMIT, .seq = j->seq };
	char manifest[CKPT_COORD_VAL_MAX], text[256];
	int i, n = 0;

	if (write_manifest(c, j, manifest, sizeof(manifest))) {
		snprintf(text, sizeof(text), "can't store the manifest: %s",
			 strerror(errno));
		if (!tree_is_site(c)) {
			abort_op(c, j, text);
			return;
		}
		/* a tree's site: the root committed, naming our job/J/sub.SEQ
		 * (stored before DONE); this one is for status only */
		pr_warn("%s (the root's stands)", text);
	}
	for (i = 0; i < j->n; i++) {
		struct coord_member *m = j->mem[i];

		if (!m->taking)
			continue;
		coord_tell(c, m, &msg);
		m->taking = 0;
		m->st = M_IDLE;
		if (j->kill)
			m->pub.running = 0;
		n++;
	}
	snprintf(text, sizeof(text),
		 "checkpoint %lu of job %s committed: %d members", j->seq,
		 j->name, n);
	pr_info("%s", text);
	pr_info("checkpoint %lu of job %s took %ld ms, its slowest member "
		"%ld ms to dump", j->seq, j->name, ms_since(&j->t0),
		j->slowest_ms);
	if (c->kind->committed)
		c->kind->committed(c->kstate, j->name, j->seq, manifest);
	finish(c, j, 1, text);
}

/* ---- restart ----------------------------------------------------------- */

/* The host that place ("MEMBER=HOST ...") gives member name, or NULL;
 * *used counts the members it placed. */
static const char *placed(const char *place, const char *name, char *host,
			  int *used)
{
	size_t n = strlen(name);
	const char *p;

	for (p = place; (p = strstr(p, name)); p += n) {
		if ((p != place && p[-1] != ' ') || p[n] != '=')
			continue;
		sscanf(p + n + 1, "%63[^ ]", host);
		(*used)++;
		return host;
	}
	return NULL;
}

static int entries(const char *place)
{
	int n = *place ? 1 : 0;

	for (; *place; place++)
		n += *place == ' ';
	return n;
}

/* The manifest's members onto the job's: path and sum of each, on the
 * host of the manifest or of place. */
static int take_manifest(struct coord_job *j, char *text, const char *place,
			 char *why, size_t len)
{
	char name[COORD_NAME_MAX], host[COORD_NAME_MAX];
	char path[COORD_PATH_MAX], sum[COORD_SUM_HEX + 1], *line, *save;
	struct coord_member *m = NULL;
	int i, n = 0, used = 0;

	for (line = strtok_r(text, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save)) {
		if (sscanf(line, "member %63s %63s %1023s %64s", name, host,
			   path, sum) != 4)
			continue;
		placed(place, name, host, &used);
		for (i = 0, m = NULL; i < j->n && !m; i++)
			if (!strcmp(j->mem[i]->name, name))
				m = j->mem[i];
		if (!m || !m->sess) {
			snprintf(why, len, "member %s of job %s is not connected",
				 name, j->name);
			return -1;
		}
		if (m->pub.running || strcmp(m->host, host)) {
			snprintf(why, len, m->pub.running ?
				 "member %s of job %s is running" :
				 "member %s of job %s is not on %s", name,
				 j->name, host);
			return -1;
		}
		snprintf(m->path, sizeof(m->path), "%s", path);
		snprintf(m->sum, sizeof(m->sum), "%s", sum);
		m->taking = 1;
		n++;
	}
	if (!n) {
		snprintf(why, len, "the manifest of job %s has no member",
			 j->name);
		return -1;
	}
	if (used != entries(place)) {
		snprintf(why, len, "the placement names a member not in the "
			 "manifest of job %s", j->name);
		return -1;
	}
	return 0;
}

static void send_all(struct coord *c, struct coord_job *j,
		     enum coord_verb verb, enum member_state st)
{
	struct coord_msg msg = { .verb = verb, .seq = j->seq };
	int i;

	for (i = 0; i < j->n; i++) {
		struct coord_member *m = j->mem[i];

		if (!m->taking)
			continue;
		m->st = st;
		snprintf(msg.path, sizeof(msg.path), "%s", m->path);
		snprintf(msg.sum, sizeof(msg.sum), "%s", m->sum);
		coord_tell(c, m, &msg);
	}
}

/* LOCK to the members of manifest (j->seq's): 0, or -1 with why */
static int start_restart(struct coord *c, struct coord_job *j,
			 char *manifest, const char *place, char *why,
			 size_t len)
{
	int i;

	if (take_manifest(j, manifest, place, why, len)) {
		for (i = 0; i < j->n; i++)
			j->mem[i]->taking = 0;
		return -1;
	}
	j->op = OP_LOCK;
	j->deadline = time(NULL) + c->o->timeout;
	send_all(c, j, CM_LOCK, M_LOCKING);
	pr_info("restart of job %s from checkpoint %lu started", j->name,
		j->seq);
	return 0;
}

void job_restart(struct coord *c, struct coord_job *j, const char *place,
		 struct coord_sess *client)
{
	char key[CKPT_COORD_KEY_MAX], manifest[CKPT_COORD_VAL_MAX];
	char why[256];

	if (!can_start(c, j, client))
		return;
	key_of(key, sizeof(key), j, "manifest");
	if (c->kv->get(c->kvh, key, manifest, sizeof(manifest))) {
		coord_reply(c, client, 0, "job %s has no committed checkpoint",
			    j->name);
		return;
	}
	j->seq = stored_num(c, j, "seq");
	if (start_restart(c, j, manifest, place, why, sizeof(why))) {
		coord_reply(c, client, 0, "%s", why);
		return;
	}
	j->client = client;
}

int job_restart_from(struct coord *c, struct coord_job *j,
		     unsigned long seq, char *manifest, char *why, size_t len)
{
	if (j->op != OP_NONE) {
		snprintf(why, len, "a %s of job %s is under way", op_name(j->op),
			 j->name);
		return -1;
	}
	j->seq = seq;
	if (start_restart(c, j, manifest, "", why, len))
		return -1;
	j->from_up = 1;
	return 0;
}

void job_restore(struct coord *c, struct coord_job *j)
{
	j->op = OP_RESTORE;
	send_all(c, j, CM_RESTORE, M_RESTORING);
}

static void restarted(struct coord *c, struct coord_job *j)
{
	char text[256];
	int i;

	for (i = 0; i < j->n; i++)
		if (j->mem[i]->taking) {
			j->mem[i]->taking = 0;
			j->mem[i]->st = M_IDLE;
			j->mem[i]->pub.running = 1;
		}
	snprintf(text, sizeof(text), "job %s restarted from checkpoint %lu",
		 j->name, j->seq);
	pr_info("%s", text);
	if (j->from_up)
		tree_restored(c, j);
	finish(c, j, 1, text);
}

/* ---- answers, deadlines ---------------------------------------------- */

void job_answer(struct coord *c, struct coord_member *m,
		const struct coord_msg *msg)
{
	struct coord_job *j = m->job;
	char why[600];

	/* an answer to an operation that is over (aborted): ignored */
	if (!m->taking || msg->seq != j->seq)
		return;
	if (msg->verb == CM_FAIL) {
		snprintf(why, sizeof(why), "member %s: %.500s", m->name,
			 msg->text);
		abort_op(c, j, why);
		return;
	}
	if (msg->verb == CM_DONE && m->st == M_ASKED &&
	    !strcmp(msg->path, m->path)) {
		snprintf(m->sum, sizeof(m->sum), "%s", msg->sum);
		m->st = M_DONE;
		if (ms_since(&j->t0) > j->slowest_ms)
			j->slowest_ms = ms_since(&j->t0);
		if (all_in(j, M_DONE) && j->from_up)
			tree_done(c, j);	/* the root decides */
		else if (all_in(j, M_DONE))
			job_commit(c, j);
	} else if (msg->verb == CM_LOCKED && m->st == M_LOCKING) {
		m->st = M_LOCKED;
		if (all_in(j, M_LOCKED) && j->from_up)
			tree_locked(c, j);	/* the root decides */
		else if (all_in(j, M_LOCKED))
			job_restore(c, j);
	} else if (msg->verb == CM_RESTORED && m->st == M_RESTORING) {
		m->st = M_IDLE;
		m->pub.running = 1;
		m->taking = 0;
		for (int i = 0; i < j->n; i++)
			if (j->mem[i]->taking)
				return;
		restarted(c, j);
	} else {
		snprintf(why, sizeof(why), "member %s answered out of turn",
			 m->name);
		abort_op(c, j, why);
	}
}

void job_member_gone(struct coord *c, struct coord_member *m,
		     const char *why)
{
	char text[256];

	if (!m->taking)
		return;
	snprintf(text, sizeof(text), "member %s: %s", m->name, why);
	abort_op(c, m->job, text);
}

/* A checkpoint the kind wants now, or one of --interval: S seconds
 * after the last try ended (a job's first one S seconds after the
 * coordinator heard of it), so that a job whose checkpoints take longer
 * than S still runs between them. */
static int due(struct coord *c, struct coord_job *j, time_t now)
{
	if (c->kind->want_checkpoint &&
	    c->kind->want_checkpoint(c->kstate, j->name, now))
		return 1;
	if (!c->o->interval)
		return 0;
	if (!j->last_try)
		j->last_try = now;
	return now - j->last_try >= (time_t)c->o->interval;
}

void job_tick(struct coord *c, time_t now)
{
	struct coord_job *j;
	char why[256];
	int i, k;

	for (i = 0; i < c->njobs; i++) {
		j = c->jobs[i];
		if (j->op != OP_NONE)
			j->last_try = now;
		if (j->op != OP_NONE && now >= j->deadline) {
			for (k = 0; k < j->n; k++)
				if (j->mem[k]->taking &&
				    j->mem[k]->st != M_DONE &&
				    j->mem[k]->st != M_LOCKED)
					break;
			snprintf(why, sizeof(why),
				 "member %s did not answer in %u s",
				 k < j->n ? j->mem[k]->name : "?",
				 c->o->timeout);
			abort_op(c, j, why);
		} else if (j->op == OP_NONE && j->n && !tree_is_site(c) &&
			   due(c, j, now)) {
			j->last_try = now;
			job_checkpoint(c, j, 0, NULL);
		}
	}
}

static const char *state_name(const struct coord_member *m)
{
	static const char *const names[] = {
		[M_IDLE] = "", [M_ASKED] = ", dumping",
		[M_DONE] = ", dumped (frozen)", [M_LOCKING] = ", locking",
		[M_LOCKED] = ", locked", [M_RESTORING] = ", restoring",
	};

	return names[m->st];
}

void job_status(struct coord *c, const char *name, struct coord_sess *s)
{
	struct coord_job *j = NULL, tmp = { 0 };
	char text[COORD_MSG_MAX - 8];
	size_t off;
	int i;

	for (i = 0; i < c->njobs; i++)
		if (!strcmp(c->jobs[i]->name, name))
			j = c->jobs[i];
	if (!j) {
		snprintf(tmp.name, sizeof(tmp.name), "%s", name);
		j = &tmp;
	}
	if (!j->n && !stored_num(c, j, "seq")) {
		coord_reply(c, s, 0, "no job %s", name);
		return;
	}
	off = snprintf(text, sizeof(text), "job %s: %d members, last "
		       "checkpoint %lu%s", j->name, j->n,
		       stored_num(c, j, "seq"),
		       j->op == OP_NONE ? "" : j->op == OP_CKPT ?
		       ", checkpoint under way" : ", restart under way");
	for (i = 0; i < j->n && off < sizeof(text); i++)
		off += snprintf(text + off, sizeof(text) - off,
				"\nmember %s on %s: %s, %s%s",
				j->mem[i]->name, j->mem[i]->host,
				j->mem[i]->pub.running ? "running" : "idle",
				j->mem[i]->sess ? "connected" : "away",
				state_name(j->mem[i]));
	coord_reply(c, s, 1, "%s", text);
}

struct list_ctx {
	struct coord *c;
	char *text;
	size_t off, len;
};

static int list_one(const char *key, void *arg)
{
	struct list_ctx *l = arg;
	struct coord_job tmp = { 0 };
	const char *name = key + strlen("jobs/");
	int i;

	for (i = 0; i < l->c->njobs; i++)
		if (!strcmp(l->c->jobs[i]->name, name))
			return 0;	/* listed with the live ones */
	snprintf(tmp.name, sizeof(tmp.name), "%s", name);
	if (l->off < l->len)
		l->off += snprintf(l->text + l->off, l->len - l->off,
				   "%s%s 0 members, last checkpoint %lu",
				   l->off ? "\n" : "", name,
				   stored_num(l->c, &tmp, "seq"));
	return 0;
}

void job_list(struct coord *c, struct coord_sess *s)
{
	char text[COORD_MSG_MAX - 8] = "";
	struct list_ctx l = { c, text, 0, sizeof(text) };
	int i;

	for (i = 0; i < c->njobs && l.off < l.len; i++)
		l.off += snprintf(text + l.off, l.len - l.off,
				  "%s%s %d members, last checkpoint %lu",
				  l.off ? "\n" : "", c->jobs[i]->name,
				  c->jobs[i]->n,
				  stored_num(c, c->jobs[i], "seq"));
	c->kv->list(c->kvh, "jobs/", list_one, &l);
	coord_reply(c, s, 1, "%s", text);
}
