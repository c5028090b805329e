/*
 * The kinds built into ckpt coord, written against the public API
 * (plugins/ckpt-coord.h) as an outside one is, and the file backend of
 * the key-value store that "central" uses.
 */
#ifndef CKPT_COORD_KINDS_H
#define CKPT_COORD_KINDS_H

#include "plugins/ckpt-coord.h"
#include "util/util.h"

#include <signal.h>
#include <stddef.h>

extern const struct ckpt_coord_kv_ops coord_kv_file;
const struct ckpt_coord_kind *coord_kind_central(void);

/* "standby": central's decisions, its store in ZooKeeper (--zk), and
 * only the elected leader serves. */
extern const struct ckpt_coord_kv_ops coord_kv_zk;
const struct ckpt_coord_kind *coord_kind_standby(void);

/* On a coord_kv_zk store: stand for leader with our address, waiting
 * until elected (0), *stop (1) or a failure of the session (-1,
 * logged). */
int coord_zk_elect(void *kv, const char *addr, volatile sig_atomic_t *stop)
	__must_check;
/* 1 once the session expired: no longer the leader */
int coord_zk_lost(void *kv);
/* The address of the leader elected in ZooKeeper where ("HOSTS[/ROOT]"):
 * 0, or -1 with a message in err. */
int coord_zk_leader(const char *where, char *addr, size_t len, char *err,
		    size_t errlen) __must_check;

#endif
