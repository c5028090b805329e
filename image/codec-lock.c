/*
 * codec-lock: the LOCK record, a file lock a process holds through one of
 * its fds (image.h). That the fd is the process's is checked when the
 * process ends (semantics.c).
 */
#include <stdint.h>

#include "image/image.h"
#include "image/image-priv.h"

/* i32 fd; u32 kind write; u64 start len */
int img_enc_lock(struct enc *e, const struct img_lock *l)
{
	enc_u32(e, l->fd);
	enc_u32(e, l->kind);
	enc_u32(e, l->write);
	enc_u64(e, l->start);
	enc_u64(e, l->len);
	return e->err ? -1 : 0;
}

int img_dec_lock(struct dec *d, struct img_lock *l)
{
	dec_i32(d, &l->fd);
	dec_u32(d, &l->kind);
	dec_u32(d, &l->write);
	dec_u64(d, &l->start);
	dec_u64(d, &l->len);
	dec_check(d, l->fd >= 0, "lock on fd %d", l->fd);
	dec_check(d, l->kind >= IMG_LOCK_POSIX && l->kind <= IMG_LOCK_LEASE,
		  "fd %d: bad lock kind %u", l->fd, l->kind);
	dec_check(d, l->write <= 1, "fd %d: bad lock type %u", l->fd,
		  l->write);
	/* off_t ranges: the last byte of a lock is below 2^63 */
	dec_check(d, l->start <= INT64_MAX && l->len <= INT64_MAX - l->start,
		  "fd %d: lock range %llu+%llu out of range", l->fd,
		  (unsigned long long)l->start, (unsigned long long)l->len);
	dec_check(d, (l->kind != IMG_LOCK_FLOCK && l->kind != IMG_LOCK_LEASE) ||
		  (!l->start && !l->len), "fd %d: a range on a %s lock", l->fd,
		  l->kind == IMG_LOCK_FLOCK ? "flock" : "lease");
	return dec_end(d);
}

/* i32 fd; u32 type; i32 pid; u32 sig */
int img_enc_fown(struct enc *e, const struct img_fown *o)
{
	enc_u32(e, o->fd);
	enc_u32(e, o->type);
	enc_u32(e, o->pid);
	enc_u32(e, o->sig);
	return e->err ? -1 : 0;
}

int img_dec_fown(struct dec *d, struct img_fown *o)
{
	dec_i32(d, &o->fd);
	dec_u32(d, &o->type);
	dec_i32(d, &o->pid);
	dec_u32(d, &o->sig);
	dec_check(d, o->fd >= 0, "SIGIO owner of fd %d", o->fd);
	dec_check(d, o->type <= IMG_FOWN_PGRP, "fd %d: bad owner type %u",
		  o->fd, o->type);
	dec_check(d, o->pid >= 0, "fd %d: bad owner %d", o->fd, o->pid);
	dec_check(d, o->sig <= IMG_NSIG, "fd %d: bad signal %u", o->fd,
		  o->sig);
	return dec_end(d);
}
