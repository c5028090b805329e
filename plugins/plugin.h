/*
 * plugin.h: the public API of ckpt's image stream stages, for built-in
 * stages and for third-party plugins alike (ckpt-plugin(7)).
 *
 * An image is one byte stream. On the way out it passes through filters
 * (which transform it: zstd, encryption) into one sink (which stores it: a
 * file, standard output, a remote receiver). On the way back a source
 * yields the stored bytes and the same filters undo their work. A stage
 * does one of the two directions or both.
 *
 * A plugin is a shared object exporting
 *
 *	const struct ckpt_stage_ops *const ckpt_plugin_stages[];
 *
 * a NULL-terminated array, each entry with api_version set to
 * CKPT_PLUGIN_API. ckpt looks for plugins in $CKPT_PLUGIN_PATH (a colon
 * separated list of directories) and in the install's plugin directory.
 * This header depends on nothing but the C library.
 */
#ifndef CKPT_PLUGIN_H
#define CKPT_PLUGIN_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#ifdef __cplusplus
extern "C" {
#endif

#define CKPT_PLUGIN_API 1

enum ckpt_stage_kind {
	CKPT_STAGE_FILTER = 1,	/* transforms the stream, passes it on */
	CKPT_STAGE_SINK = 2,	/* stores it (writing) or yields it (reading) */
};

struct ckpt_stage;

/*
 * An open stage. Writing: write() takes the next bytes of the stream,
 * commit() makes everything written durable and visible (a filter flushes
 * and commits its next stage), abort() discards it all so that nothing
 * half-written stays visible. Reading: read() fills buf with up to len
 * bytes and returns the count, 0 at the end of the stream, -1 on error.
 * close() ends either direction and frees the stage. Functions return 0 or
 * -1 and, on error, leave a message for ckpt_stage_error().
 */
struct ckpt_stage {
	const struct ckpt_stage_ops *ops;
	struct ckpt_stage *next;	/* a filter's downstream/upstream */
	void *priv;			/* the stage's own state */
	char error[256];		/* the last error, "" if none */
	/* the user's "key=value" options for the stages (--auth KEYFILE
	 * gives "auth=KEYFILE"), set before open_write/open_read */
	const char *const *params;
	int nr_params;
};

struct ckpt_stage_ops {
	uint32_t api_version;		/* CKPT_PLUGIN_API */
	const char *name;		/* "zstd", "file", "chunks" ... */
	enum ckpt_stage_kind kind;
	/* sinks: the scheme of SINK/SOURCE arguments they take ("file",
	 * "tcp", ...), without "://"; NULL for filters */
	const char *scheme;
	/* filters: does the stream start like one of ours? (reading side
	 * detects filters by their magic) */
	int (*detect)(const void *head, size_t len);

	/* writing; arg is the sink's target (after "scheme://") or the
	 * filter's option (after "=" in --compress=LEVEL), or NULL */
	int (*open_write)(struct ckpt_stage *s, const char *arg);
	int (*write)(struct ckpt_stage *s, const void *buf, size_t len);
	int (*commit)(struct ckpt_stage *s);
	void (*abort)(struct ckpt_stage *s);

	/* reading */
	int (*open_read)(struct ckpt_stage *s, const char *arg);
	ssize_t (*read)(struct ckpt_stage *s, void *buf, size_t len);
	void (*close)(struct ckpt_stage *s);
};

/* For stages: write to / read from the next stage of the chain. */
int ckpt_stage_next_write(struct ckpt_stage *s, const void *buf, size_t len);
ssize_t ckpt_stage_next_read(struct ckpt_stage *s, void *buf, size_t len);
/* The value of option key in s->params, or NULL. */
const char *ckpt_stage_param(const struct ckpt_stage *s, const char *key);
/* Record an error message on s (printf-like); returns -1. */
int ckpt_stage_fail(struct ckpt_stage *s, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

#ifdef __cplusplus
}
#endif

#endif
