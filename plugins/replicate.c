/*
 * The replicate stage: several -o sinks carry the same stream. The image
 * counts as written when at least `quorum` of them committed. A sink that
 * fails on the way is aborted (its temporary removed) and dropped; once
 * fewer than the quorum are left the whole write fails and every sink is
 * aborted, so no partial image stays visible anywhere. A sink that did
 * commit keeps its complete image even when the quorum was missed at
 * commit time; ckpt then reports the failure and names the sinks.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "plugins/pipeline.h"
#include "plugins/stages-priv.h"

#define MAX_SINKS	16

struct replica {
	struct ckpt_stage st;
	const char *spec;
	int alive;
};

struct repl_priv {
	struct replica r[MAX_SINKS];
	int n, quorum;
};

static int alive_count(const struct repl_priv *p)
{
	int i, k = 0;

	for (i = 0; i < p->n; i++)
		k += p->r[i].alive;
	return k;
}

static void drop(struct repl_priv *p, int i, const char *what)
{
	struct replica *r = &p->r[i];

	pr_warn("image copy %s: %s failed: %s", r->spec, what,
		r->st.error[0] ? r->st.error : "see above");
	r->st.ops->abort(&r->st);
	r->alive = 0;
}

static int quorum_left(struct ckpt_stage *s, struct repl_priv *p)
{
	if (alive_count(p) >= p->quorum)
		return 0;
	return ckpt_stage_fail(s, "%d of %d image copies left, %d needed",
			       alive_count(p), p->n, p->quorum);
}

int replicate_open(struct ckpt_stage *s, const char *const *sinks, int n,
		   int quorum)
{
	struct repl_priv *p = calloc(1, sizeof(*p));
	const char *arg;
	int i;

	if (!p)
		return ckpt_stage_fail(s, "out of memory");
	s->priv = p;
	if (n > MAX_SINKS || quorum < 1 || quorum > n)
		return ckpt_stage_fail(s, "quorum %d of %d copies", quorum, n);
	p->quorum = quorum;
	for (i = 0; i < n; i++, p->n++) {
		struct replica *r = &p->r[i];

		r->spec = sinks[i];
		r->st.params = s->params;
		r->st.nr_params = s->nr_params;
		r->st.ops = pipeline_find_sink(sinks[i], &arg);
		if (!r->st.ops || !r->st.ops->open_write) {
			r->st.ops = NULL;
			continue;
		}
		if (r->st.ops->open_write(&r->st, arg))
			drop(p, i, "open");
		else
			r->alive = 1;
	}
	return quorum_left(s, p);
}

static int repl_write(struct ckpt_stage *s, const void *buf, size_t len)
{
	struct repl_priv *p = s->priv;
	int i;

	for (i = 0; i < p->n; i++)
		if (p->r[i].alive &&
		    p->r[i].st.ops->write(&p->r[i].st, buf, len))
			drop(p, i, "write");
	return quorum_left(s, p);
}

static int repl_commit(struct ckpt_stage *s)
{
	struct repl_priv *p = s->priv;
	int i, done = 0;

	if (quorum_left(s, p))
		return -1;
	for (i = 0; i < p->n; i++) {
		if (!p->r[i].alive)
			continue;
		if (p->r[i].st.ops->commit(&p->r[i].st)) {
			drop(p, i, "commit");
			continue;
		}
		p->r[i].alive = 0;	/* committed: nothing left to abort */
		done++;
	}
	if (done >= p->quorum)
		return 0;
	return ckpt_stage_fail(s, "only %d of %d image copies committed, %d needed",
			       done, p->n, p->quorum);
}

static void repl_abort(struct ckpt_stage *s)
{
	struct repl_priv *p = s->priv;
	int i;

	for (i = 0; p && i < p->n; i++)
		if (p->r[i].alive) {
			p->r[i].st.ops->abort(&p->r[i].st);
			p->r[i].alive = 0;
		}
}

static void repl_close(struct ckpt_stage *s)
{
	struct repl_priv *p = s->priv;
	int i;

	for (i = 0; p && i < p->n; i++)
		if (p->r[i].st.ops && p->r[i].st.ops->close)
			p->r[i].st.ops->close(&p->r[i].st);
	free(p);
	s->priv = NULL;
}

const struct ckpt_stage_ops stage_replicate_ops = {
	.api_version = CKPT_PLUGIN_API,
	.name = "replicate",
	.kind = CKPT_STAGE_SINK,
	.write = repl_write,
	.commit = repl_commit,
	.abort = repl_abort,
	.close = repl_close,
};
