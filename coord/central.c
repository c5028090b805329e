/*
 * The "central" kind: one coordinator, its state in a local file (the
 * file backend of --state), checkpoints when ckpt job asks for them, of
 * every running member, each image in its member's run directory: the
 * defaults of the API, plus a line in the log per change of membership.
 * "standby" decides the same, over the ZooKeeper store (coord/kv-zk.c),
 * and serves only while elected; "sharded" too, several serving at once,
 * each job owned by one (server.c); "tree" too, a coordinator per site
 * and a root above them (tree.c).
 */
#include <stdio.h>
#include <stdlib.h>

#include "coord/kinds.h"

static int central_init(const struct ckpt_coord_env *env, void **state)
{
	*state = (void *)env;
	return 0;
}

static void say(void *state, const struct ckpt_coord_member *m,
		const char *what)
{
	const struct ckpt_coord_env *env = state;
	char line[512];

	snprintf(line, sizeof(line), "member %s of job %s on %s %s", m->name,
		 m->job, m->host, what);
	env->log(env->ctx, 2, line);
}

static void central_join(void *state, const struct ckpt_coord_member *m)
{
	say(state, m, m->running ? "joined" : "joined, waiting for a restart");
}

static void central_leave(void *state, const struct ckpt_coord_member *m)
{
	say(state, m, "left");
}

static void central_lost(void *state, const struct ckpt_coord_member *m)
{
	say(state, m, "lost");
}

/* The three built-in kinds decide alike; where they keep their state and
 * how many of them serve differ (server.c). */
#define CENTRAL_LIKE(kname, store)					\
	{								\
		.api = CKPT_COORD_API, .name = kname, .kv = store,	\
		.init = central_init, .join = central_join,		\
		.leave = central_leave, .lost = central_lost,		\
	}

static const struct ckpt_coord_kind central =
	CENTRAL_LIKE("central", &coord_kv_file);
static const struct ckpt_coord_kind standby =
	CENTRAL_LIKE("standby", &coord_kv_zk);
static const struct ckpt_coord_kind sharded =
	CENTRAL_LIKE("sharded", &coord_kv_zk);
static const struct ckpt_coord_kind tree =
	CENTRAL_LIKE("tree", &coord_kv_zk);

const struct ckpt_coord_kind *coord_kind_central(void)
{
	return &central;
}

const struct ckpt_coord_kind *coord_kind_standby(void)
{
	return &standby;
}

const struct ckpt_coord_kind *coord_kind_sharded(void)
{
	return &sharded;
}

const struct ckpt_coord_kind *coord_kind_tree(void)
{
	return &tree;
}
