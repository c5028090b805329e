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
/* "sharded": central's decisions, the store in ZooKeeper, several
 * coordinators serving at once, each job owned by one of them. */
const struct ckpt_coord_kind *coord_kind_sharded(void);
/* "tree": central's decisions, a coordinator per site and a root above
 * them, each elected as standby's leader (coord/tree.c). */
const struct ckpt_coord_kind *coord_kind_tree(void);
/* On a coord_kv_zk store: register as a coordinator of the shard
 * (addr, ephemeral): 0 or -1 (logged). */
int coord_zk_register(void *kv, const char *addr) __must_check;
/* Own job (an ephemeral znode holding addr): 0 when it is ours (now or
 * already), -1 (errno EEXIST: another's, its address in owner). */
int coord_zk_claim(void *kv, const char *job, const char *addr, char *owner,
		   size_t size) __must_check;
void coord_zk_release(void *kv, const char *job);
/* Where job (or NULL) is served in ZooKeeper where ("HOSTS[/ROOT]"): its
 * owner, else the elected leader, else the registered coordinator with
 * the fewest jobs: 0, or -1 with a message in err. */
int coord_zk_leader(const char *where, const char *job, char *addr,
		    size_t len, char *err, size_t errlen) __must_check;

#endif
