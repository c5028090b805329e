/*
 * The "tree" kind: a coordinator per site (a group of hosts) and a root
 * above them, both elected in ZooKeeper as the standby kind's leader is
 * (--zk HOSTS[/ROOT]: the root's election and store under ROOT/root, a
 * site's under ROOT/sites/NAME, so that each site has its own standbys).
 * Members join their site's coordinator (--coord
 * zk://HOSTS/ROOT/sites/NAME). For each job with a member connected, a
 * site's coordinator joins the root as a member of that job named after
 * the site, and relays the root's two-phase protocol to its own members:
 *
 *   root -> site       site -> its members, then site -> root
 *   CKPT SEQ           CKPT SEQ to each; all DONE: the site's manifest of
 *                      SEQ is put in its store (job/J/sub.SEQ), DONE with
 *                      that manifest's checksum
 *   COMMIT | ABORT     the same to each (the site's manifest committed)
 *   LOCK SEQ PATH SUM  job/J/sub.SEQ, if its checksum is SUM: LOCK to
 *                      each member in it; all LOCKED: LOCKED
 *   RESTORE SEQ        RESTORE to each; all RESTORED: RESTORED
 *
 * Anything failing in a site (a member's FAIL, one gone, the site's
 * deadline) aborts its members and tells the root FAIL, which aborts the
 * other sites: all commit or none. A site whose session with the root
 * ends aborts what is under way (its members thaw), as a member does.
 * The root is a coordinator whose members are sites: its decisions are
 * central's. The root's image path of a site (/ckpt-tree/SITE/NNNN.ckpt)
 * names the site's part, not a file.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sodium.h>

#include "coord/coord-priv.h"
#include "coord/kinds.h"

#define UP_TIMEOUT	5	/* seconds to dial the root and join */
#define SITE_DIR	"/ckpt-tree"

int tree_is_site(const struct coord *c)
{
	return c->kind == coord_kind_tree() && c->o->site;
}

int tree_where(const struct coord_opts *o, char *buf, size_t len)
{
	const char *slash = strchr(o->zk, '/');
	int n;

	if (slash)
		n = snprintf(buf, len, "%s", o->zk);
	else
		n = snprintf(buf, len, "%s/ckpt", o->zk);
	if (n < 0 || (size_t)n >= len)
		return -1;
	if (o->site)
		n = snprintf(buf + n, len - n, "/sites/%s", o->site);
	else
		n = snprintf(buf + n, len - n, "/root");
	return n < 0 || (size_t)n >= len ? -1 : 0;
}

/* The root's address: its leader, found in ZooKeeper. */
static void root_addr(const struct coord *c, char *buf, size_t len)
{
	const char *slash = strchr(c->o->zk, '/');

	snprintf(buf, len, "zk://%s%s/root", c->o->zk, slash ? "" : "/ckpt");
}

static int say_up(struct coord *c, struct coord_job *j, struct coord_msg *m)
{
	if (j->up.fd < 0)
		return -1;
	if (coord_send(&j->up, m)) {
		pr_warn("lost the root for job %s: %s", j->name,
			net_strerror(errno));
		tree_close(j);
		return -1;
	}
	(void)c;
	return 0;
}

void tree_close(struct coord_job *j)
{
	coord_close(&j->up);
}

static void up_verb(struct coord *c, struct coord_job *j,
		    enum coord_verb verb, const char *path, const char *sum)
{
	struct coord_msg *m = calloc(1, sizeof(*m));

	if (!m)
		return;
	m->verb = verb;
	m->seq = j->seq;
	if (path)
		snprintf(m->path, sizeof(m->path), "%s", path);
	if (sum)
		snprintf(m->sum, sizeof(m->sum), "%s", sum);
	say_up(c, j, m);
	free(m);
}

static void sum_text(const char *text, char hex[COORD_SUM_HEX + 1])
{
	unsigned char out[32];

	crypto_generichash(out, sizeof(out), (const unsigned char *)text,
			   strlen(text), NULL, 0);
	sodium_bin2hex(hex, COORD_SUM_HEX + 1, out, sizeof(out));
}

static void sub_key(char *buf, size_t len, const struct coord_job *j,
		    unsigned long seq)
{
	snprintf(buf, len, "job/%s/sub.%lu", j->name, seq);
}

static void fail_up(struct coord *c, struct coord_job *j, unsigned long seq,
		    const char *why)
{
	struct coord_msg *m = calloc(1, sizeof(*m));

	if (!m)
		return;
	m->verb = CM_FAIL;
	m->seq = seq;
	snprintf(m->text, sizeof(m->text), "site %s: %s", c->o->site, why);
	say_up(c, j, m);
	free(m);
}

void tree_failed(struct coord *c, struct coord_job *j, const char *why)
{
	fail_up(c, j, j->seq, why);
}

void tree_done(struct coord *c, struct coord_job *j)
{
	char *text = malloc(CKPT_COORD_VAL_MAX), key[CKPT_COORD_KEY_MAX];
	char sum[COORD_SUM_HEX + 1], why[128];

	if (!text) {
		job_abort(c, j, "out of memory");
		return;
	}
	sub_key(key, sizeof(key), j, j->seq);
	if (job_manifest_text(j, text, CKPT_COORD_VAL_MAX) ||
	    c->kv->put(c->kvh, key, text)) {
		snprintf(why, sizeof(why), "can't store the site's manifest: %s",
			 strerror(errno));
		job_abort(c, j, why);
		free(text);
		return;
	}
	sum_text(text, sum);
	free(text);
	/* the members hold frozen until the root's word, bounded by the
	 * root's deadline, not ours */
	j->deadline = time(NULL) + COORD_TIMEOUT_MAX + 30;
	pr_info("checkpoint %lu of job %s: the site's members dumped, the "
		"root decides", j->seq, j->name);
	up_verb(c, j, CM_DONE, j->up_path, sum);
}

void tree_locked(struct coord *c, struct coord_job *j)
{
	j->deadline = time(NULL) + COORD_TIMEOUT_MAX + 30;
	up_verb(c, j, CM_LOCKED, NULL, NULL);
}

void tree_restored(struct coord *c, struct coord_job *j)
{
	up_verb(c, j, CM_RESTORED, NULL, NULL);
}

/* LOCK from the root: the site's manifest of seq, checked, restarted. */
static void on_lock(struct coord *c, struct coord_job *j,
		    const struct coord_msg *m)
{
	char *text = malloc(CKPT_COORD_VAL_MAX), key[CKPT_COORD_KEY_MAX];
	char sum[COORD_SUM_HEX + 1], why[256];

	sub_key(key, sizeof(key), j, m->seq);
	if (!text || c->kv->get(c->kvh, key, text, CKPT_COORD_VAL_MAX)) {
		snprintf(why, sizeof(why), "no manifest of checkpoint %lu of "
			 "job %s here", m->seq, j->name);
	} else {
		sum_text(text, sum);
		if (strcmp(sum, m->sum))
			snprintf(why, sizeof(why), "the manifest of checkpoint "
				 "%lu of job %s is not the root's (checksum "
				 "differs)", m->seq, j->name);
		else if (!job_restart_from(c, j, m->seq, text, why,
					   sizeof(why)))
			why[0] = '\0';
	}
	free(text);
	if (why[0]) {
		pr_warn("%s", why);
		fail_up(c, j, m->seq, why);
	}
}

static void from_root(struct coord *c, struct coord_job *j,
		      const struct coord_msg *m)
{
	int same = j->from_up && m->seq == j->seq;

	switch (m->verb) {
	case CM_CKPT:
		snprintf(j->up_path, sizeof(j->up_path), "%s", m->path);
		job_checkpoint_seq(c, j, m->num != 0, m->seq);
		if (j->op != OP_CKPT || !j->from_up)
			fail_up(c, j, m->seq, "a member is away or busy, or "
				"none runs");
		break;
	case CM_COMMIT:
		if (same && j->op == OP_CKPT) {
			j->from_up = 0;
			job_commit(c, j);
		}
		break;
	case CM_ABORT:
		if (same) {
			j->from_up = 0;	/* the root knows */
			job_abort(c, j, "aborted by the root");
		}
		break;
	case CM_LOCK:
		on_lock(c, j, m);
		break;
	case CM_RESTORE:
		if (same && j->op == OP_LOCK)
			job_restore(c, j);
		break;
	default:
		pr_warn("job %s: the root said what it should not (verb %d)",
			j->name, m->verb);
		break;
	}
}

void tree_readable(struct coord *c, struct coord_job *j)
{
	struct coord_msg *m = malloc(sizeof(*m));

	if (!m)
		return;
	if (coord_recv(&j->up, m)) {
		pr_warn("lost the root for job %s: %s", j->name,
			errno == EPIPE ? "connection closed" :
			net_strerror(errno));
		tree_close(j);
		j->up_next_try = time(NULL) + 1;
		if (j->from_up) {
			j->from_up = 0;	/* no one to tell */
			job_abort(c, j, "lost the root");
		}
	} else {
		from_root(c, j, m);
	}
	free(m);
}

/* Join the root as member SITE of job j. */
static void join_root(struct coord *c, struct coord_job *j, int running)
{
	struct coord_msg *m = calloc(1, sizeof(*m));
	char addr[512], err[256];

	j->up_next_try = time(NULL) + 1;
	if (!m)
		return;
	root_addr(c, addr, sizeof(addr));
	if (coord_dial(&j->up, addr, j->name, c->key, UP_TIMEOUT, err,
		       sizeof(err))) {
		if (!j->up_said++)
			pr_warn("root away for job %s: %s", j->name, err);
		goto out;
	}
	m->verb = CM_JOIN;
	snprintf(m->job, sizeof(m->job), "%s", j->name);
	snprintf(m->member, sizeof(m->member), "%s", c->o->site);
	snprintf(m->host, sizeof(m->host), "%s", c->o->site);
	snprintf(m->path, sizeof(m->path), SITE_DIR "/%s", c->o->site);
	m->num = running;
	if (coord_send(&j->up, m) || coord_recv(&j->up, m) ||
	    m->verb != CM_WELCOME) {
		pr_warn("the root refused site %s of job %s: %s", c->o->site,
			j->name, m->verb == CM_ERR ? m->text :
			net_strerror(errno));
		tree_close(j);
		goto out;
	}
	j->up_said = 0;
	pr_info("joined the root for job %s (%s)", j->name,
		running ? "running" : "waiting for a restart");
out:
	free(m);
}

/* Each second: a job with members connected has a session with the
 * root, its JOIN saying whether any runs (the root follows the rest);
 * one without, none (the root sees the site lost, and takes it back
 * when members come, restore agents after a crash among them). */
void tree_tick(struct coord *c)
{
	struct coord_job *j;
	int i, k, conn, running;

	if (!tree_is_site(c))
		return;
	for (i = 0; i < c->njobs; i++) {
		j = c->jobs[i];
		for (k = 0, conn = 0, running = 0; k < j->n; k++)
			if (j->mem[k]->sess) {
				conn++;
				running |= j->mem[k]->pub.running;
			}
		if (j->op != OP_NONE)
			continue;
		if (j->up.fd >= 0 && !conn) {
			pr_info("leaving the root for job %s: no member here",
				j->name);
			tree_close(j);
		}
		if (j->up.fd < 0 && conn && time(NULL) >= j->up_next_try)
			join_root(c, j, running);
	}
}
