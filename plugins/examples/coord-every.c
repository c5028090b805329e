/*
 * coord-every: an example kind of coordinator (ckpt-coord(7)), built as
 * a third party builds one, against the installed <ckpt/ckpt-coord.h>
 * alone:
 *
 *   cc -shared -fPIC -o coord-every.so coord-every.c \
 *      $(pkg-config --cflags ckpt-coord)
 *   ckpt coord --kind ./coord-every.so --kind-arg SECONDS ...
 *
 * It checkpoints every job every SECONDS (default 60) without being
 * asked, names the images DIR/every-NNNN.ckpt in each member's run
 * directory, and counts the committed checkpoints in the coordinator's
 * store under "every/commits", so that the count survives a restart of
 * the coordinator.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <ckpt/ckpt-coord.h>

struct every {
	const struct ckpt_coord_env *env;
	long period;
	time_t last;		/* of the last checkpoint started */
};

static int every_init(const struct ckpt_coord_env *env, void **state)
{
	struct every *e = calloc(1, sizeof(*e));

	if (!e)
		return -1;
	e->env = env;
	e->period = env->arg ? strtol(env->arg, NULL, 10) : 60;
	if (e->period < 1) {
		env->log(env->ctx, 0, "every: --kind-arg is a number of seconds");
		free(e);
		return -1;
	}
	e->last = time(NULL);
	*state = e;
	return 0;
}

static void every_fini(void *state)
{
	free(state);
}

static int every_want(void *state, const char *job, time_t now)
{
	struct every *e = state;

	(void)job;
	if (now - e->last < e->period)
		return 0;
	e->last = now;
	return 1;
}

static int every_image(void *state, const struct ckpt_coord_member *m,
		       unsigned long seq, char *path, size_t size)
{
	(void)state;
	return (size_t)snprintf(path, size, "%s/every-%04lu.ckpt", m->dir,
				seq) < size ? 0 : -1;
}

static void every_committed(void *state, const char *job, unsigned long seq,
			    const char *manifest)
{
	struct every *e = state;
	char val[32] = "0";

	(void)job;
	(void)seq;
	(void)manifest;
	e->env->kv_get(e->env->ctx, "every/commits", val, sizeof(val));
	snprintf(val, sizeof(val), "%ld", strtol(val, NULL, 10) + 1);
	if (e->env->kv_put(e->env->ctx, "every/commits", val))
		e->env->log(e->env->ctx, 1, "every: can't count a commit");
}

static const struct ckpt_coord_kind every = {
	.api = CKPT_COORD_API,
	.name = "every",
	.init = every_init,
	.fini = every_fini,
	.want_checkpoint = every_want,
	.image = every_image,
	.committed = every_committed,
};

const struct ckpt_coord_kind *ckpt_coord_kind(void);

const struct ckpt_coord_kind *ckpt_coord_kind(void)
{
	return &every;
}
