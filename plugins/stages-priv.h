/*
 * The built-in stages, for pipeline.c.
 */
#ifndef CKPT_STAGES_PRIV_H
#define CKPT_STAGES_PRIV_H

#include "plugins/plugin.h"

extern const struct ckpt_stage_ops stage_file_ops;
extern const struct ckpt_stage_ops stage_std_ops;
extern const struct ckpt_stage_ops stage_zstd_ops;
extern const struct ckpt_stage_ops stage_encrypt_ops;
extern const struct ckpt_stage_ops stage_tcp_ops;

/* A new key file at path (O_EXCL, mode 0600); -1 with errno. */
int stage_encrypt_keygen(const char *path);

extern const struct ckpt_stage_ops stage_replicate_ops;

/* Open s as a fan-out to n sinks of which quorum must commit. */
int replicate_open(struct ckpt_stage *s, const char *const *sinks, int n,
		   int quorum);
/* The sink and its argument for a SINK/SOURCE spec, or NULL (logged). */
const struct ckpt_stage_ops *pipeline_find_sink(const char *spec,
						const char **arg);

/* The most bytes a decoded image may have: $CKPT_MAX_DECODED (bytes, or
 * with a K, M or G suffix), else the size of the machine's memory. */
uint64_t stage_max_decoded(void);

/* The descriptor a "file" stage reads from. */
int stage_file_fd(struct ckpt_stage *s);

#endif
