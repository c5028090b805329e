/*
 * ckpt-coord.h: the coordinator API of ckpt (ckpt-coord(7)). A kind of
 * coordinator is a shared object that `ckpt coord --kind PATH.so` loads
 * with dlopen; it decides, through the callbacks below, when a job is
 * checkpointed, which of its members take part and where their images
 * go, and it hears of members joining, leaving and being lost. The
 * coordinator itself runs the two-phase protocol, keeps the sessions
 * (authenticated and sealed) and commits the job manifests; what must
 * survive a failover goes into a small key-value store behind a backend
 * (struct ckpt_coord_kv_ops): a file for the built-in "central" kind,
 * made for ZooKeeper or etcd as well (keys are paths, values are short
 * text, put is durable before it returns, list walks one level).
 *
 *   #include <ckpt/ckpt-coord.h>     cc -shared -fPIC ...
 *                                    $(pkg-config --cflags ckpt-coord)
 *
 * The header needs nothing of ckpt to build. The shared object exports
 *   const struct ckpt_coord_kind *ckpt_coord_kind(void);
 * and the coordinator refuses a kind whose api differs from its own.
 * Callbacks run in the coordinator's one thread: they must not block.
 */
#ifndef CKPT_COORD_H
#define CKPT_COORD_H

#include <stddef.h>
#include <time.h>

#ifdef __cplusplus
extern "C" {
#endif

#define CKPT_COORD_API		1
#define CKPT_COORD_SYMBOL	"ckpt_coord_kind"

/* Longest key and value of the store, terminating NUL included. */
#define CKPT_COORD_KEY_MAX	256
#define CKPT_COORD_VAL_MAX	8192

/*
 * A key-value backend. Keys are "/"-separated paths of [A-Za-z0-9._-]
 * components ("job/ring/manifest"); values are NUL-terminated text.
 * Every call returns 0 or -1 (errno ENOENT: no such key).
 */
struct ckpt_coord_kv_ops {
	const char *name;	/* "file", "zookeeper", ... */
	/* where: the backend's address (a file for "file", a host list for
	 * ZooKeeper); NULL on failure, with a message in err */
	void *(*open)(const char *where, char *err, size_t errlen);
	int (*get)(void *kv, const char *key, char *val, size_t size);
	/* replaces or creates the key, durably before it returns */
	int (*put)(void *kv, const char *key, const char *val);
	int (*del)(void *kv, const char *key);
	/* fn(key, arg) for each key directly under prefix ("job/"); a
	 * nonzero return stops the walk and is returned */
	int (*list)(void *kv, const char *prefix,
		    int (*fn)(const char *key, void *arg), void *arg);
	void (*close)(void *kv);
};

/* What the coordinator lends a kind: its store and its log. */
struct ckpt_coord_env {
	unsigned int api;	/* CKPT_COORD_API */
	const char *arg;	/* --kind-arg, or NULL */
	void *ctx;		/* pass back to the functions below */
	int (*kv_get)(void *ctx, const char *key, char *val, size_t size);
	int (*kv_put)(void *ctx, const char *key, const char *val);
	int (*kv_del)(void *ctx, const char *key);
	/* level 0 error, 1 warning, 2 information, 3 debug */
	void (*log)(void *ctx, int level, const char *msg);
};

/* A member: one `ckpt run --coord` on some host. */
struct ckpt_coord_member {
	const char *job;
	const char *name;	/* unique in its job */
	const char *host;	/* its node name */
	const char *dir;	/* its run directory, on its host */
	int running;		/* 1: a job tree; 0: waiting for a restart */
};

struct ckpt_coord_kind {
	unsigned int api;	/* CKPT_COORD_API */
	const char *name;
	/* The store's backend; NULL: the file of --state. */
	const struct ckpt_coord_kv_ops *kv;
	/* Once, before any member; *state is passed to the rest. */
	int (*init)(const struct ckpt_coord_env *env, void **state);
	void (*fini)(void *state);
	/* Membership: a member joined (or came back), left when its job
	 * ended, or was lost (its connection went without a word). */
	void (*join)(void *state, const struct ckpt_coord_member *m);
	void (*leave)(void *state, const struct ckpt_coord_member *m);
	void (*lost)(void *state, const struct ckpt_coord_member *m);
	/* Asked every second for each job with members and no checkpoint
	 * under way: 1 to start one now (0 with NULL). */
	int (*want_checkpoint)(void *state, const char *job, time_t now);
	/* Which of the n running members take part: take[i] = 1 or 0
	 * (all of them with NULL). 0, or -1 to refuse the checkpoint. */
	int (*select)(void *state, const char *job,
		      const struct ckpt_coord_member *const *m, int n,
		      int *take);
	/* Where member m writes its image of checkpoint seq: an absolute
	 * path on its host, or tcp://HOST:PORT/NAME (a ckpt serve). NULL:
	 * DIR/NNNN.ckpt in the member's run directory. */
	int (*image)(void *state, const struct ckpt_coord_member *m,
		     unsigned long seq, char *path, size_t size);
	/* The manifest of seq was committed (its text, ckpt-coord(7)), or
	 * the checkpoint was aborted (why). */
	void (*committed)(void *state, const char *job, unsigned long seq,
			  const char *manifest);
	void (*aborted)(void *state, const char *job, unsigned long seq,
			const char *why);
};

typedef const struct ckpt_coord_kind *(*ckpt_coord_kind_fn)(void);

#ifdef __cplusplus
}
#endif

#endif
