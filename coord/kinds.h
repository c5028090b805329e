/*
 * The kinds built into ckpt coord, written against the public API
 * (plugins/ckpt-coord.h) as an outside one is, and the file backend of
 * the key-value store that "central" uses.
 */
#ifndef CKPT_COORD_KINDS_H
#define CKPT_COORD_KINDS_H

#include "plugins/ckpt-coord.h"

extern const struct ckpt_coord_kv_ops coord_kv_file;
const struct ckpt_coord_kind *coord_kind_central(void);

#endif
