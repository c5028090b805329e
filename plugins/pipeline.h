/*
 * pipeline: how ckpt and restore use the stages of plugin.h. It knows the
 * built-in stages and the plugins found in $CKPT_PLUGIN_PATH, builds a
 * chain for writing (filters, then one sink) behind the image writer's
 * struct img_sink, and for reading turns any source into a file
 * descriptor of the plain image that the reader and the restorer can
 * pread: the file itself when it is a plain image, otherwise a memfd
 * holding the decoded stream.
 */
#ifndef CKPT_PIPELINE_H
#define CKPT_PIPELINE_H

#include "image/image.h"
#include "plugins/plugin.h"

/* Sink specs: "-" (standard output/input), "file:PATH", "SCHEME://REST"
 * for a sink plugin, or a plain path. */
struct img_sink *pipeline_open_write(const char *const *filters,
				     int nr_filters, const char *sink)
	__must_check;
/* The same, with the user's "key=value" options for the stages. */
struct img_sink *pipeline_open_write_with(const char *const *filters,
					  int nr_filters, const char *sink,
					  const char *const *params,
					  int nr_params) __must_check;
/* Several sinks carry the same stream; it counts as written when quorum
 * of them committed (plugins/replicate.c). */
struct img_sink *pipeline_open_write_multi(const char *const *filters,
					   int nr_filters,
					   const char *const *sinks,
					   int nr_sinks, int quorum,
					   const char *const *params,
					   int nr_params) __must_check;
/* Returns an fd open on the plain image, or -1 (one pr_err line) with
 * errno ENOENT/EACCES when the source cannot be opened. */
int pipeline_open_read(const char *source) __must_check;
/* The same, with "filter=value" parameters for the filters found in the
 * stream (the key file of "encrypt"). */
int pipeline_open_read_with(const char *source, const char *const *params,
			    int nr_params) __must_check;
/* The same, decoding (when the image is compressed, encrypted or comes
 * from a socket) in a child that confine(out_fd) confines first, out_fd
 * being where the decoded image goes: the decoders parse the untrusted
 * stream under the caller's filter. NULL: decode here. */
int pipeline_open_read_confined(const char *source,
				const char *const *params, int nr_params,
				int (*confine)(int out_fd)) __must_check;
/* A new encryption key file (mode 0600, never over an existing file). */
int pipeline_keygen(const char *path) __must_check;
/* 0 if path is a key file that --encrypt would take (readable, a key,
 * closed to group and others), else -1 with one pr_err line. */
int pipeline_check_key(const char *path) __must_check;

const struct ckpt_stage_ops *pipeline_find(const char *name,
					   enum ckpt_stage_kind kind);

#endif
