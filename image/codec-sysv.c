/*
 * codec-sysv: the SYSV record, a System V object of an IPC namespace of
 * the tree's own (see image.h): u32 kind; u64 ns; i32 key id; u32 mode
 * uid gid cuid cgid; u64 size; u32 flags; str name (MQUEUE's, else
 * absent); u64 maxmsg; u32 nr; then nr messages (MSG, MQUEUE: i64 type
 * as u64, u32 len, the bytes) or nr values (SEM: u32 each, nr is size);
 * SHM: nr is 0. The SYSV_DATA record: u64 off; u32 len; the bytes
 * of the segment there. SYSV records come after the NS records and
 * before any FILE, SHM, GHOST or PROC, each in an IPC NS record's
 * namespace with an id of its own there; SYSV_DATA records follow their
 * segment's, in ascending order, inside it.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "image/reader-priv.h"

const char *img_sysv_kind_name(uint32_t kind)
{
	switch (kind) {
	case IMG_SYSV_MSG:
		return "msg";
	case IMG_SYSV_SEM:
		return "sem";
	case IMG_SYSV_SHM:
		return "shm";
	case IMG_SYSV_MQUEUE:
		return "mqueue";
	}
	return "unknown";
}

int img_enc_sysv(struct enc *e, const struct img_sysv *s)
{
	int msgs = s->kind == IMG_SYSV_MSG || s->kind == IMG_SYSV_MQUEUE;
	uint32_t i, nr = msgs ? s->nr_msgs :
			 s->kind == IMG_SYSV_SEM ? (uint32_t)s->size : 0;

	enc_u32(e, s->kind);
	enc_u64(e, s->ns);
	enc_u32(e, (uint32_t)s->key);
	enc_u32(e, (uint32_t)s->id);
	enc_u32(e, s->mode);
	enc_u32(e, s->uid);
	enc_u32(e, s->gid);
	enc_u32(e, s->cuid);
	enc_u32(e, s->cgid);
	enc_u64(e, s->size);
	enc_u32(e, s->flags);
	enc_str(e, s->name, s->kind != IMG_SYSV_MQUEUE, "queue name missing");
	enc_u64(e, s->maxmsg);
	enc_u32(e, nr);
	for (i = 0; msgs && i < nr; i++) {
		enc_u64(e, (uint64_t)s->msgs[i].type);
		enc_u32(e, s->msgs[i].len);
		enc_bytes(e, s->msgs[i].data, s->msgs[i].len);
	}
	for (i = 0; s->kind == IMG_SYSV_SEM && i < nr; i++)
		enc_u32(e, s->semvals[i]);
	return e->err ? -1 : 0;
}

int img_enc_sysv_data(struct enc *e, uint64_t off, const void *buf,
		      uint32_t len)
{
	enc_cap(e, len, IMG_MAX_SYSV_CHUNK, "SYSV_DATA too long");
	enc_u64(e, off);
	enc_u32(e, len);
	enc_bytes(e, buf, len);
	return e->err ? -1 : 0;
}

static void dec_msgs(struct dec *d, struct img_sysv *s, uint32_t nr)
{
	struct img_sysv_msg *m;
	uint64_t type;
	uint32_t i;

	if (!dec_count_ok(d, nr, IMG_MAX_SYSV_MSGS, 12, "messages") || !nr)
		return;
	s->msgs = dec_alloc(d, (size_t)nr * sizeof(*s->msgs));
	for (i = 0; s->msgs && i < nr && !d->failed; i++) {
		m = &s->msgs[i];
		dec_u64(d, &type);
		m->type = (int64_t)type;
		dec_u32(d, &m->len);
		dec_blob(d, &m->data, m->len, IMG_MAX_SYSV_MSG, "message bytes");
		s->nr_msgs = i + 1;
		dec_check(d, s->kind == IMG_SYSV_MQUEUE ?
			  m->type >= 0 && m->type < 32768 : m->type > 0,
			  "message %u: type or priority %lld out of range",
			  i, (long long)m->type);
	}
}

static void dec_semvals(struct dec *d, struct img_sysv *s, uint32_t nr)
{
	uint32_t i, v;

	dec_check(d, nr == s->size && nr >= 1, "semaphore set of %llu with %u values",
		  (unsigned long long)s->size, nr);
	if (d->failed || !dec_count_ok(d, nr, IMG_MAX_SEMS, 4, "semaphores"))
		return;
	s->semvals = dec_alloc(d, (size_t)nr * sizeof(*s->semvals));
	for (i = 0; s->semvals && i < nr; i++) {
		dec_u32(d, &v);
		dec_check(d, v <= 32767, "semaphore %u: value %u above SEMVMX",
			  i, v);
		s->semvals[i] = v;
	}
}

/* a name mq_open takes ("/" and it), a size, no key, id or creator */
static int mq_ok(const struct img_sysv *s)
{
	return s->name && *s->name && strlen(s->name) <= 255 &&
	       !strchr(s->name, '/') && strcmp(s->name, ".") &&
	       strcmp(s->name, "..") && s->maxmsg && s->size &&
	       s->maxmsg <= 65536 && s->size <= IMG_MAX_SYSV_MSG &&
	       !s->key && !s->id && !s->cuid && !s->cgid;
}

static int dec_sysv(struct dec *d, struct img_sysv *s)
{
	uint32_t key, id, nr;

	dec_u32(d, &s->kind);
	dec_u64(d, &s->ns);
	dec_u32(d, &key);
	dec_u32(d, &id);
	s->key = (int32_t)key;
	s->id = (int32_t)id;
	dec_u32(d, &s->mode);
	dec_u32(d, &s->uid);
	dec_u32(d, &s->gid);
	dec_u32(d, &s->cuid);
	dec_u32(d, &s->cgid);
	dec_u64(d, &s->size);
	dec_u32(d, &s->flags);
	dec_str(d, &s->name, 1, "queue name");
	dec_u64(d, &s->maxmsg);
	dec_u32(d, &nr);
	dec_check(d, s->kind >= IMG_SYSV_MSG && s->kind <= IMG_SYSV_MQUEUE,
		  "System V object kind %u unknown", s->kind);
	dec_check(d, s->id >= 0 && s->mode <= 0777, "bad id %d or mode %#o",
		  s->id, s->mode);
	dec_check(d, !(s->flags & ~IMG_SYSV_LOCKED) &&
		  (s->kind == IMG_SYSV_SHM || !s->flags), "bad flags %#x",
		  s->flags);
	dec_check(d, s->kind == IMG_SYSV_MQUEUE ? mq_ok(s) :
		  !s->name && !s->maxmsg, "bad name or maxmsg");
	if (s->kind == IMG_SYSV_MSG || s->kind == IMG_SYSV_MQUEUE)
		dec_msgs(d, s, nr);
	else if (s->kind == IMG_SYSV_SEM)
		dec_semvals(d, s, nr);
	else
		dec_check(d, !nr && s->size, "segment of %llu bytes with %u values",
			  (unsigned long long)s->size, nr);
	return dec_end(d);
}

void img_sysv_free(struct img_sysv *s)
{
	uint32_t i;

	for (i = 0; i < s->nr_msgs; i++)
		free(s->msgs[i].data);
	free(s->msgs);
	free(s->semvals);
	for (i = 0; i < s->nr_chunks; i++)
		free(s->chunks[i].data);
	free(s->chunks);
	free(s->name);
	memset(s, 0, sizeof(*s));
}

static int ipc_ns_known(const struct image *img, uint64_t id)
{
	uint32_t i;

	for (i = 0; i < img->nr_nss; i++)
		if (img->nss[i].kind == IMG_NS_IPC && img->nss[i].id == id)
			return 1;
	return 0;
}

static int too_late(struct rd *r, const char *what)
{
	const struct image *img = r->img;

	if (!img->nr_files && !img->nr_shms && !img->nr_ghosts &&
	    !img->nr_procs)
		return 0;
	rec_fail(r, "%s record after a FILE, SHM, GHOST or PROC", what);
	return 1;
}

int sem_sysv(struct rd *r, struct dec *d)
{
	struct image *img = r->img;
	struct img_sysv *s;
	uint32_t i;

	if (too_late(r, "SYSV"))
		return -1;
	if (img->nr_sysvs >= IMG_MAX_SYSVS) {
		rec_fail(r, "more than %u System V objects", IMG_MAX_SYSVS);
		return -1;
	}
	if (rd_grow(r, &img->sysvs, &r->cap_sysvs, img->nr_sysvs,
		    sizeof(*s)))
		return -1;
	s = &img->sysvs[img->nr_sysvs++];
	memset(s, 0, sizeof(*s));
	r->cap_sysv_chunks = 0;
	if (dec_sysv(d, s))
		return -1;
	if (!ipc_ns_known(img, s->ns)) {
		rec_fail(r, "System V %s %d in ipc namespace %llu, which has no NS record",
			 img_sysv_kind_name(s->kind), s->id,
			 (unsigned long long)s->ns);
		return -1;
	}
	for (i = 0; i + 1 < img->nr_sysvs; i++)
		if (img->sysvs[i].ns == s->ns && img->sysvs[i].kind == s->kind &&
		    (s->name ? !strcmp(img->sysvs[i].name, s->name) :
		     img->sysvs[i].id == s->id)) {
			rec_fail(r, "System V %s %d %s recorded twice",
				 img_sysv_kind_name(s->kind), s->id,
				 s->name ? s->name : "");
			return -1;
		}
	return 0;
}

int sem_sysv_data(struct rd *r, struct dec *d)
{
	struct img_sysv *s = r->img->nr_sysvs ?
			     &r->img->sysvs[r->img->nr_sysvs - 1] : NULL;
	struct img_sysv_chunk *c, *last;

	if (too_late(r, "SYSV_DATA"))
		return -1;
	if (!s || s->kind != IMG_SYSV_SHM) {
		rec_fail(r, "SYSV_DATA record not after a segment's SYSV record");
		return -1;
	}
	if (rd_grow(r, &s->chunks, &r->cap_sysv_chunks, s->nr_chunks,
		    sizeof(*c)))
		return -1;
	c = &s->chunks[s->nr_chunks++];
	dec_u64(d, &c->off);
	dec_u32(d, &c->len);
	dec_blob(d, &c->data, c->len, IMG_MAX_SYSV_CHUNK, "segment bytes");
	if (dec_end(d))
		return -1;
	last = s->nr_chunks > 1 ? c - 1 : NULL;
	if (!c->len || c->off > s->size || c->len > s->size - c->off ||
	    (last && c->off < last->off + last->len)) {
		rec_fail(r, "segment %d: bytes %llu-%llu out of order or beyond its %llu",
			 s->id, (unsigned long long)c->off,
			 (unsigned long long)(c->off + c->len),
			 (unsigned long long)s->size);
		return -1;
	}
	return 0;
}
