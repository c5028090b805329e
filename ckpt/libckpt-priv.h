/*
 * libckpt-priv: what ckpt's own commands call of libckpt beyond its
 * public API (libckpt.h): the attach of the library with the knobs that
 * only a command line has.
 */
#ifndef CKPT_LIBCKPT_PRIV_H
#define CKPT_LIBCKPT_PRIV_H

#include "ckpt/dump.h"
#include "ckpt/libckpt.h"

/*
 * ckpt_attach() without capturing messages (they go to stderr): every
 * field of *o that a has is set from a (the sinks, stages, kill, tree
 * ...), the others (interrupted, progress, what only ckpt attach takes)
 * are used as the caller left them. A CKPT_* status.
 */
int ckpt_attach_run(const struct ckpt_attach_opts *a, struct dump_opts *o,
		    struct ckpt_attach_result *res);

#endif
