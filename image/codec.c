/*
 * codec: the field-by-field encoding of every record payload, one encoder
 * and one decoder per record type, written side by side so that they stay
 * symmetrical. Integers are little endian; a string is a u32 length and
 * that many bytes without NUL, length 0xffffffff meaning NULL where a field
 * is optional. Decoders trust nothing: every count is checked against its
 * cap and against the bytes left before anything is allocated.
 */
#include <endian.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "image/image.h"
#include "image/image-priv.h"

#define STR_NULL	0xffffffffu

/* ---- little-endian helpers ---------------------------------------------- */

void put_le32(uint8_t *p, uint32_t v)
{
	v = htole32(v);
	memcpy(p, &v, 4);
}

void put_le64(uint8_t *p, uint64_t v)
{
	v = htole64(v);
	memcpy(p, &v, 8);
}

uint32_t get_le32(const uint8_t *p)
{
	uint32_t v;

	memcpy(&v, p, 4);
	return le32toh(v);
}

uint64_t get_le64(const uint8_t *p)
{
	uint64_t v;

	memcpy(&v, p, 8);
	return le64toh(v);
}

/* ---- encoder ------------------------------------------------------------ */

void enc_reset(struct enc *e)
{
	e->len = 0;
	e->err = NULL;
}

void enc_free(struct enc *e)
{
	free(e->buf);
	e->buf = NULL;
	e->len = e->cap = 0;
}

static uint8_t *enc_space(struct enc *e, size_t n)
{
	size_t cap;
	uint8_t *nb;

	if (e->err)
		return NULL;
	if (e->len + n > e->cap) {
		cap = e->cap ? e->cap : 4096;
		while (cap < e->len + n)
			cap *= 2;
		nb = realloc(e->buf, cap);
		if (!nb) {
			e->err = "out of memory";
			return NULL;
		}
		e->buf = nb;
		e->cap = cap;
	}
	e->len += n;
	return e->buf + e->len - n;
}

void enc_u32(struct enc *e, uint32_t v)
{
	uint8_t *p = enc_space(e, 4);

	if (p)
		put_le32(p, v);
}

void enc_u64(struct enc *e, uint64_t v)
{
	uint8_t *p = enc_space(e, 8);

	if (p)
		put_le64(p, v);
}

void enc_bytes(struct enc *e, const void *buf, size_t len)
{
	uint8_t *p = enc_space(e, len);

	if (p && len)
		memcpy(p, buf, len);
}

void enc_str(struct enc *e, const char *s, int optional, const char *err)
{
	size_t len;

	if (!s) {
		if (!optional && !e->err)
			e->err = err;
		enc_u32(e, STR_NULL);
		return;
	}
	len = strlen(s);
	if (len > IMG_MAX_STR) {
		if (!e->err)
			e->err = err;
		return;
	}
	enc_u32(e, len);
	enc_bytes(e, s, len);
}

void enc_cap(struct enc *e, uint32_t n, uint32_t max, const char *err)
{
	if (n > max && !e->err)
		e->err = err;
}

/* ---- decoder ------------------------------------------------------------ */

void dec_init(struct dec *d, const void *p, size_t len)
{
	d->p = p;
	d->len = len;
	d->pos = 0;
	d->failed = 0;
	d->msg[0] = '\0';
}

void dec_fail(struct dec *d, const char *fmt, ...)
{
	va_list ap;

	if (d->failed)
		return;
	d->failed = 1;
	va_start(ap, fmt);
	vsnprintf(d->msg, sizeof(d->msg), fmt, ap);
	va_end(ap);
}

static const uint8_t *dec_take(struct dec *d, size_t n)
{
	const uint8_t *p;

	if (d->failed)
		return NULL;
	if (n > d->len - d->pos) {
		dec_fail(d, "payload too short");
		return NULL;
	}
	p = d->p + d->pos;
	d->pos += n;
	return p;
}

void dec_u32(struct dec *d, uint32_t *v)
{
	const uint8_t *p = dec_take(d, 4);

	*v = p ? get_le32(p) : 0;
}

void dec_i32(struct dec *d, int32_t *v)
{
	uint32_t u;

	dec_u32(d, &u);
	*v = (int32_t)u;
}

void dec_u64(struct dec *d, uint64_t *v)
{
	const uint8_t *p = dec_take(d, 8);

	*v = p ? get_le64(p) : 0;
}

int dec_end(struct dec *d)
{
	if (!d->failed && d->pos != d->len)
		dec_fail(d, "%zu bytes of junk after the fields",
			 d->len - d->pos);
	return d->failed ? -1 : 0;
}

/* A count of elem-byte items: within max and within what is left. */
int dec_count_ok(struct dec *d, uint32_t n, uint32_t max, size_t elem,
		 const char *what)
{
	if (d->failed)
		return 0;
	if (n > max) {
		dec_fail(d, "%u %s, at most %u", n, what, max);
		return 0;
	}
	if ((size_t)n * elem > d->len - d->pos) {
		dec_fail(d, "payload too short for %u %s", n, what);
		return 0;
	}
	return 1;
}

void dec_bytes(struct dec *d, void *out, size_t n)
{
	const uint8_t *p = dec_take(d, n);

	if (p && n)
		memcpy(out, p, n);
}

void *dec_alloc(struct dec *d, size_t n)
{
	void *p = calloc(1, n ? n : 1);

	if (!p)
		dec_fail(d, "out of memory");
	return p;
}

static void dec_u64s(struct dec *d, uint64_t **out, uint32_t n, uint32_t max,
		     const char *what)
{
	uint32_t i;

	if (!dec_count_ok(d, n, max, 8, what) || !n)
		return;
	*out = dec_alloc(d, (size_t)n * 8);
	for (i = 0; *out && i < n; i++)
		dec_u64(d, &(*out)[i]);
}

void dec_blob(struct dec *d, uint8_t **out, uint32_t n, uint32_t max,
		     const char *what)
{
	if (!dec_count_ok(d, n, max, 1, what) || !n)
		return;
	*out = dec_alloc(d, n);
	if (*out)
		dec_bytes(d, *out, n);
}

/* Checks a string's length and contents; returns its length or -1. */
static long dec_str_len(struct dec *d, uint32_t max, int optional,
			const char *what)
{
	uint32_t len;

	dec_u32(d, &len);
	if (d->failed)
		return -1;
	if (len == STR_NULL) {
		if (!optional)
			dec_fail(d, "%s missing", what);
		return -1;
	}
	if (len > max) {
		dec_fail(d, "%s of %u bytes, at most %u", what, len, max);
		return -1;
	}
	if (len > d->len - d->pos) {
		dec_fail(d, "payload too short for %s", what);
		return -1;
	}
	if (memchr(d->p + d->pos, '\0', len)) {
		dec_fail(d, "NUL inside %s", what);
		return -1;
	}
	return len;
}

void dec_str(struct dec *d, char **out, int optional, const char *what)
{
	long len = dec_str_len(d, IMG_MAX_STR, optional, what);

	if (len < 0)
		return;
	*out = dec_alloc(d, len + 1);
	if (*out)
		dec_bytes(d, *out, len);
}

void dec_check(struct dec *d, int ok, const char *fmt, ...)
{
	va_list ap;

	if (ok || d->failed)
		return;
	d->failed = 1;
	va_start(ap, fmt);
	vsnprintf(d->msg, sizeof(d->msg), fmt, ap);
	va_end(ap);
}

/* ---- PROC --------------------------------------------------------------- */

/*
 * i32 pid ppid pgid sid; u32 umask personality uid gid nr_threads;
 * str comm (<= 15 bytes); optstr exe cwd root; u64 x 11 mm;
 * u32 nr_auxv, u64 x nr_auxv; u32 nr_rlimits, (u64 cur, u64 max) x nr;
 * u32 euid suid egid sgid nr_groups, u32 x nr_groups;
 * (u64 interval_us, u64 value_us) x 3 itimers; u32 no_new_privs dumpable;
 * the kernel state (codec-task.c)
 */
static void enc_mm(struct enc *e, const struct img_mm *m)
{
	const uint64_t v[] = {
		m->start_code, m->end_code, m->start_data, m->end_data,
		m->start_brk, m->brk, m->start_stack,
		m->arg_start, m->arg_end, m->env_start, m->env_end,
	};
	size_t i;

	for (i = 0; i < ARRAY_SIZE(v); i++)
		enc_u64(e, v[i]);
}

static void dec_mm(struct dec *d, struct img_mm *m)
{
	uint64_t *v[] = {
		&m->start_code, &m->end_code, &m->start_data, &m->end_data,
		&m->start_brk, &m->brk, &m->start_stack,
		&m->arg_start, &m->arg_end, &m->env_start, &m->env_end,
	};
	size_t i;

	for (i = 0; i < ARRAY_SIZE(v); i++)
		dec_u64(d, v[i]);
}

/* a task name: str of at most 15 bytes */
static void enc_comm(struct enc *e, const char comm[16])
{
	size_t n = strnlen(comm, 16);

	enc_cap(e, n, 15, "comm not NUL terminated");
	enc_u32(e, n);
	enc_bytes(e, comm, n < 16 ? n : 0);
}

int img_enc_proc(struct enc *e, const struct img_proc *p)
{
	uint32_t i;

	enc_u32(e, p->pid);
	enc_u32(e, p->ppid);
	enc_u32(e, p->pgid);
	enc_u32(e, p->sid);
	enc_u32(e, p->umask);
	enc_u32(e, p->personality);
	enc_u32(e, p->uid);
	enc_u32(e, p->gid);
	enc_u32(e, p->nr_threads);
	enc_comm(e, p->comm);
	enc_str(e, p->exe, 1, "exe path too long");
	enc_str(e, p->cwd, 1, "cwd path too long");
	enc_str(e, p->root, 1, "root path too long");
	enc_mm(e, &p->mm);
	enc_cap(e, p->nr_auxv, IMG_MAX_AUXV, "too many auxv words");
	enc_u32(e, p->nr_auxv);
	for (i = 0; i < p->nr_auxv && i < IMG_MAX_AUXV; i++)
		enc_u64(e, p->auxv[i]);
	enc_cap(e, p->nr_rlimits, IMG_NR_RLIMITS, "too many rlimits");
	enc_u32(e, p->nr_rlimits);
	for (i = 0; i < p->nr_rlimits && i < IMG_NR_RLIMITS; i++) {
		enc_u64(e, p->rlimits[i].cur);
		enc_u64(e, p->rlimits[i].max);
	}
	enc_u32(e, p->euid);
	enc_u32(e, p->suid);
	enc_u32(e, p->egid);
	enc_u32(e, p->sgid);
	enc_cap(e, p->nr_groups, IMG_MAX_GROUPS, "too many groups");
	enc_u32(e, p->nr_groups);
	for (i = 0; i < p->nr_groups && i < IMG_MAX_GROUPS; i++)
		enc_u32(e, p->groups[i]);
	for (i = 0; i < 3; i++) {
		enc_u64(e, p->itimers[i].interval_us);
		enc_u64(e, p->itimers[i].value_us);
	}
	enc_u32(e, p->no_new_privs);
	enc_u32(e, p->dumpable);
	img_enc_pstate(e, &p->ks);
	img_enc_pidlv(e, &p->pidlv);
	return e->err ? -1 : 0;
}

static void dec_comm(struct dec *d, char comm[16])
{
	long len = dec_str_len(d, 15, 0, "comm");

	if (len >= 0)
		dec_bytes(d, comm, len);
}

static void dec_rlimits(struct dec *d, struct img_proc *p)
{
	uint32_t i;

	dec_u32(d, &p->nr_rlimits);
	if (!dec_count_ok(d, p->nr_rlimits, IMG_NR_RLIMITS, 16, "rlimits"))
		return;
	for (i = 0; i < p->nr_rlimits; i++) {
		dec_u64(d, &p->rlimits[i].cur);
		dec_u64(d, &p->rlimits[i].max);
	}
}

static void dec_creds(struct dec *d, struct img_proc *p)
{
	uint32_t i;

	dec_u32(d, &p->euid);
	dec_u32(d, &p->suid);
	dec_u32(d, &p->egid);
	dec_u32(d, &p->sgid);
	dec_u32(d, &p->nr_groups);
	if (!dec_count_ok(d, p->nr_groups, IMG_MAX_GROUPS, 4, "groups") ||
	    !p->nr_groups)
		return;
	p->groups = dec_alloc(d, p->nr_groups * sizeof(*p->groups));
	for (i = 0; p->groups && i < p->nr_groups; i++)
		dec_u32(d, &p->groups[i]);
}

static void dec_timers(struct dec *d, struct img_proc *p)
{
	int i;

	for (i = 0; i < 3; i++) {
		dec_u64(d, &p->itimers[i].interval_us);
		dec_u64(d, &p->itimers[i].value_us);
	}
}

int img_dec_proc(struct dec *d, struct img_proc *p)
{
	dec_i32(d, &p->pid);
	dec_i32(d, &p->ppid);
	dec_i32(d, &p->pgid);
	dec_i32(d, &p->sid);
	dec_u32(d, &p->umask);
	dec_u32(d, &p->personality);
	dec_u32(d, &p->uid);
	dec_u32(d, &p->gid);
	dec_u32(d, &p->nr_threads);
	dec_comm(d, p->comm);
	dec_str(d, &p->exe, 1, "exe path");
	dec_str(d, &p->cwd, 1, "cwd path");
	dec_str(d, &p->root, 1, "root path");
	dec_mm(d, &p->mm);
	dec_u32(d, &p->nr_auxv);
	dec_u64s(d, &p->auxv, p->nr_auxv, IMG_MAX_AUXV, "auxv words");
	dec_check(d, p->nr_auxv % 2 == 0, "odd number of auxv words (%u)",
		  p->nr_auxv);
	dec_rlimits(d, p);
	dec_creds(d, p);
	dec_timers(d, p);
	dec_u32(d, &p->no_new_privs);
	dec_check(d, p->no_new_privs <= 1, "no_new_privs %u", p->no_new_privs);
	dec_u32(d, &p->dumpable);
	dec_check(d, p->dumpable <= IMG_DUMPABLE_MAX, "dumpable %u",
		  p->dumpable);
	img_dec_pstate(d, &p->ks);
	img_dec_pidlv(d, &p->pidlv, 0);
	dec_check(d, p->pid > 0, "bad pid %d", p->pid);
	dec_check(d, p->nr_threads >= 1, "nr_threads %u", p->nr_threads);
	dec_check(d, !(p->umask & ~0777u), "bad umask %#o", p->umask);
	return dec_end(d);
}

void img_proc_free(struct img_proc *p)
{
	free(p->exe);
	free(p->cwd);
	free(p->root);
	free(p->auxv);
	free(p->groups);
	img_pstate_free(&p->ks);
	p->exe = p->cwd = p->root = NULL;
	p->auxv = NULL;
	p->groups = NULL;
}

/* ---- ZOMBIE ------------------------------------------------------------- */

/* i32 pid ppid pgid sid; u32 exit_status; str comm (<= 15 bytes);
 * u32 exit_signal; its PID namespace levels (codec-task.c) */
int img_exit_status_ok(uint32_t status)
{
	uint32_t sig = status & 0x7f;

	if (!sig)	/* exited: the code in bits 8-15, nothing else */
		return !(status & ~0xff00u);
	/* killed: the signal in bits 0-6, 0x80 if it dumped core */
	return !(status & ~0xffu) && sig <= IMG_NSIG;
}

int img_enc_zombie(struct enc *e, const struct img_proc *p)
{
	enc_u32(e, p->pid);
	enc_u32(e, p->ppid);
	enc_u32(e, p->pgid);
	enc_u32(e, p->sid);
	enc_u32(e, p->exit_status);
	enc_comm(e, p->comm);
	enc_u32(e, p->ks.exit_signal);
	img_enc_pidlv(e, &p->pidlv);
	return e->err ? -1 : 0;
}

int img_dec_zombie(struct dec *d, struct img_proc *p)
{
	dec_i32(d, &p->pid);
	dec_i32(d, &p->ppid);
	dec_i32(d, &p->pgid);
	dec_i32(d, &p->sid);
	dec_u32(d, &p->exit_status);
	dec_comm(d, p->comm);
	dec_u32(d, &p->ks.exit_signal);
	img_dec_pidlv(d, &p->pidlv, 1);
	p->zombie = 1;
	dec_check(d, p->pid > 0, "bad pid %d", p->pid);
	dec_check(d, p->ppid > 0, "zombie %d: bad ppid %d", p->pid, p->ppid);
	/* 0: a group led from outside the root's PID namespace */
	dec_check(d, p->pgid >= 0 && p->sid >= 0,
		  "zombie %d: bad group %d or session %d", p->pid, p->pgid,
		  p->sid);
	dec_check(d, img_exit_status_ok(p->exit_status),
		  "zombie %d: bad exit status %#x", p->pid, p->exit_status);
	dec_check(d, img_exit_signal_ok(p->ks.exit_signal),
		  "zombie %d: exit signal %u", p->pid, p->ks.exit_signal);
	return dec_end(d);
}

/* ---- THREAD ------------------------------------------------------------- */

/*
 * i32 tid; u32 regs_isa nr_regs; u64 x nr_regs; u32 xstate_len, bytes;
 * u64 sigmask clear_tid robust_list robust_len rseq rseq_sig;
 * u32 rseq_len ss_flags; u64 ss_sp ss_size;
 * u32 nr_siginfo, (u32 shared, 128 bytes) x nr_siginfo; str comm;
 * u64 cap_inh cap_prm cap_eff cap_bnd cap_amb; u32 securebits;
 * the kernel state (codec-task.c); its TIDs below the tree's top PID
 * namespace (img_enc_nsids)
 */
static void enc_caps(struct enc *e, const struct img_caps *c)
{
	enc_u64(e, c->inh);
	enc_u64(e, c->prm);
	enc_u64(e, c->eff);
	enc_u64(e, c->bnd);
	enc_u64(e, c->amb);
	enc_u32(e, c->securebits);
}

int img_enc_thread(struct enc *e, const struct img_thread *t)
{
	uint32_t i;

	enc_u32(e, t->tid);
	enc_u32(e, t->regs_isa);
	enc_cap(e, t->nr_regs, IMG_MAX_REGS, "too many registers");
	enc_u32(e, t->nr_regs);
	for (i = 0; i < t->nr_regs && i < IMG_MAX_REGS; i++)
		enc_u64(e, t->regs[i]);
	enc_cap(e, t->xstate_len, IMG_MAX_XSTATE, "xstate too large");
	enc_u32(e, t->xstate_len);
	if (t->xstate_len <= IMG_MAX_XSTATE)
		enc_bytes(e, t->xstate, t->xstate_len);
	enc_u64(e, t->sigmask);
	enc_u64(e, t->clear_tid);
	enc_u64(e, t->robust_list);
	enc_u64(e, t->robust_len);
	enc_u64(e, t->rseq);
	enc_u64(e, t->rseq_sig);
	enc_u32(e, t->rseq_len);
	enc_u32(e, t->ss_flags);
	enc_u64(e, t->ss_sp);
	enc_u64(e, t->ss_size);
	enc_cap(e, t->nr_siginfo, IMG_MAX_SIGINFO, "too many siginfo");
	enc_u32(e, t->nr_siginfo);
	for (i = 0; i < t->nr_siginfo && i < IMG_MAX_SIGINFO; i++) {
		enc_u32(e, t->siginfo[i].shared);
		enc_bytes(e, t->siginfo[i].data, IMG_SIGINFO_SIZE);
	}
	enc_comm(e, t->comm);
	enc_caps(e, &t->caps);
	img_enc_tstate(e, &t->ks);
	img_enc_seccomp(e, &t->seccomp);
	img_enc_tshare(e, &t->own);
	img_enc_nsids(e, t->nstids, t->nr_nstids);
	return e->err ? -1 : 0;
}

static void dec_caps(struct dec *d, struct img_thread *t)
{
	struct img_caps *c = &t->caps;
	const char *bad;

	dec_u64(d, &c->inh);
	dec_u64(d, &c->prm);
	dec_u64(d, &c->eff);
	dec_u64(d, &c->bnd);
	dec_u64(d, &c->amb);
	dec_u32(d, &c->securebits);
	bad = img_caps_invalid(c);
	dec_check(d, !bad, "thread %d: %s", t->tid, bad);
}

static void dec_siginfo(struct dec *d, struct img_thread *t)
{
	uint32_t i;

	dec_u32(d, &t->nr_siginfo);
	if (!dec_count_ok(d, t->nr_siginfo, IMG_MAX_SIGINFO,
			  4 + IMG_SIGINFO_SIZE, "siginfo") || !t->nr_siginfo)
		return;
	t->siginfo = dec_alloc(d, t->nr_siginfo * sizeof(*t->siginfo));
	for (i = 0; t->siginfo && i < t->nr_siginfo; i++) {
		dec_u32(d, &t->siginfo[i].shared);
		dec_bytes(d, t->siginfo[i].data, IMG_SIGINFO_SIZE);
		dec_check(d, t->siginfo[i].shared <= 1,
			  "siginfo queue %u", t->siginfo[i].shared);
	}
}

int img_dec_thread(struct dec *d, struct img_thread *t, uint32_t isa)
{
	dec_i32(d, &t->tid);
	dec_u32(d, &t->regs_isa);
	dec_u32(d, &t->nr_regs);
	dec_u64s(d, &t->regs, t->nr_regs, IMG_MAX_REGS, "registers");
	dec_u32(d, &t->xstate_len);
	dec_blob(d, &t->xstate, t->xstate_len, IMG_MAX_XSTATE,
		 "bytes of xstate");
	dec_u64(d, &t->sigmask);
	dec_u64(d, &t->clear_tid);
	dec_u64(d, &t->robust_list);
	dec_u64(d, &t->robust_len);
	dec_u64(d, &t->rseq);
	dec_u64(d, &t->rseq_sig);
	dec_u32(d, &t->rseq_len);
	dec_u32(d, &t->ss_flags);
	dec_u64(d, &t->ss_sp);
	dec_u64(d, &t->ss_size);
	dec_siginfo(d, t);
	dec_comm(d, t->comm);
	dec_caps(d, t);
	img_dec_tstate(d, &t->ks);
	img_dec_seccomp(d, &t->seccomp);
	img_dec_tshare(d, &t->own);
	img_dec_nsids(d, t->nstids, &t->nr_nstids);
	dec_check(d, t->tid > 0, "bad tid %d", t->tid);
	dec_check(d, t->regs_isa == isa, "registers of isa %u", t->regs_isa);
	return dec_end(d);
}

void img_thread_free(struct img_thread *t)
{
	free(t->regs);
	free(t->xstate);
	free(t->siginfo);
	t->regs = NULL;
	t->xstate = NULL;
	t->siginfo = NULL;
	img_seccomp_free(&t->seccomp);
	img_tshare_free(&t->own);
}

/* ---- VMA ---------------------------------------------------------------- */

/*
 * u64 start end pgoff; u32 prot flags advice; u64 dev ino; optstr path;
 * u32 shm (the object's id, 0 for none: checked against the image's SHM
 * records in semantics.c)
 */
int img_enc_vma(struct enc *e, const struct img_vma *v)
{
	enc_u64(e, v->start);
	enc_u64(e, v->end);
	enc_u64(e, v->pgoff);
	enc_u32(e, v->prot);
	enc_u32(e, v->flags);
	enc_u32(e, v->advice);
	enc_u64(e, v->dev);
	enc_u64(e, v->ino);
	enc_str(e, v->path, 1, "vma path too long");
	enc_u32(e, v->shm);
	img_enc_guards(e, v);
	return e->err ? -1 : 0;
}

int img_dec_vma(struct dec *d, struct img_vma *v, uint32_t page_size)
{
	uint64_t mask = page_size - 1;

	dec_u64(d, &v->start);
	dec_u64(d, &v->end);
	dec_u64(d, &v->pgoff);
	dec_u32(d, &v->prot);
	dec_u32(d, &v->flags);
	dec_u32(d, &v->advice);
	dec_u64(d, &v->dev);
	dec_u64(d, &v->ino);
	dec_str(d, &v->path, 1, "vma path");
	dec_u32(d, &v->shm);
	dec_check(d, !(v->start & mask), "start %#llx not page aligned",
		  (unsigned long long)v->start);
	dec_check(d, !(v->end & mask), "end %#llx not page aligned",
		  (unsigned long long)v->end);
	dec_check(d, v->start < v->end, "empty vma at %#llx",
		  (unsigned long long)v->start);
	dec_check(d, v->end <= IMG_MAX_ADDR, "end %#llx too high",
		  (unsigned long long)v->end);
	dec_check(d, !(v->prot & ~7u), "bad prot %#x", v->prot);
	dec_check(d, !(v->flags & ~IMG_VMA_ALL_FLAGS), "bad flags %#x",
		  v->flags);
	dec_check(d, !(v->flags & IMG_VMA_LOCKONFAULT) ||
		  (v->flags & IMG_VMA_LOCKED), "MLOCK_ONFAULT without mlock");
	dec_check(d, !(v->advice & ~IMG_ADV_ALL), "bad advice %#x",
		  v->advice);
	dec_check(d, !(v->flags & IMG_VMA_DROPPABLE) ||
		  (v->flags & (IMG_VMA_ANON | IMG_VMA_SHARED | IMG_VMA_FILE)) ==
		  IMG_VMA_ANON, "droppable memory not private anonymous");
	img_dec_guards(d, v, page_size);
	return dec_end(d);
}

void img_vma_free(struct img_vma *v)
{
	free(v->path);
	free(v->guards);
	v->path = NULL;
	v->guards = NULL;
}

/* ---- SHM ---------------------------------------------------------------- */

/*
 * u32 id kind; u64 size; u32 mode uid gid seals; i32 key shmid; u32 flags;
 * optstr name (a memfd's, required for memfd and absent otherwise)
 */
int img_enc_shm(struct enc *e, const struct img_shm *s)
{
	enc_u32(e, s->id);
	enc_u32(e, s->kind);
	enc_u64(e, s->size);
	enc_u32(e, s->mode);
	enc_u32(e, s->uid);
	enc_u32(e, s->gid);
	enc_u32(e, s->seals);
	enc_u32(e, s->key);
	enc_u32(e, s->shmid);
	enc_u32(e, s->flags);
	if (s->name)
		enc_cap(e, strlen(s->name), IMG_MAX_MEMFD_NAME,
			"memfd name too long");
	enc_str(e, s->name, 1, "memfd name too long");
	return e->err ? -1 : 0;
}

/* What only one kind of object may carry. */
static void dec_shm_kind(struct dec *d, const struct img_shm *s, long name)
{
	int memfd = s->kind == IMG_SHM_MEMFD, sysv = s->kind == IMG_SHM_SYSV;

	dec_check(d, s->kind >= IMG_SHM_ANON && s->kind <= IMG_SHM_SYSV,
		  "bad shm kind %u", s->kind);
	dec_check(d, memfd || s->size, "empty shm object");
	dec_check(d, memfd == (name >= 0), memfd ? "memfd without a name" :
		  "name on a shm object that is not a memfd");
	dec_check(d, memfd || !s->seals,
		  "seals %#x on a shm object that is not a memfd", s->seals);
	dec_check(d, sysv || (!s->key && !s->shmid && !s->flags),
		  "System V fields on a shm object of kind %u", s->kind);
}

int img_dec_shm(struct dec *d, struct img_shm *s)
{
	long len;

	dec_u32(d, &s->id);
	dec_u32(d, &s->kind);
	dec_u64(d, &s->size);
	dec_u32(d, &s->mode);
	dec_u32(d, &s->uid);
	dec_u32(d, &s->gid);
	dec_u32(d, &s->seals);
	dec_i32(d, &s->key);
	dec_i32(d, &s->shmid);
	dec_u32(d, &s->flags);
	len = dec_str_len(d, IMG_MAX_MEMFD_NAME, 1, "memfd name");
	if (len >= 0) {
		s->name = dec_alloc(d, len + 1);
		if (s->name)
			dec_bytes(d, s->name, len);
	}
	dec_shm_kind(d, s, len);
	dec_check(d, s->size <= IMG_MAX_ADDR, "shm size %#llx too large",
		  (unsigned long long)s->size);
	dec_check(d, !(s->mode & ~07777u), "bad shm mode %#o", s->mode);
	dec_check(d, !(s->seals & ~IMG_SHM_ALL_SEALS), "bad seals %#x",
		  s->seals);
	dec_check(d, s->shmid >= 0, "bad shmid %d", s->shmid);
	dec_check(d, !(s->flags & ~IMG_SHM_ALL_FLAGS), "bad shm flags %#x",
		  s->flags);
	return dec_end(d);
}

void img_shm_free(struct img_shm *s)
{
	free(s->name);
	s->name = NULL;
}

/* ---- FD ----------------------------------------------------------------- */

/* i32 fd; u32 type flags fdflags; u64 pos; u32 mode; u64 dev ino size;
 * optstr path (required for REG, DIR and CHR); u32 file (FILE only) */
int img_enc_fd(struct enc *e, const struct img_fd *f)
{
	enc_u32(e, f->fd);
	enc_u32(e, f->type);
	enc_u32(e, f->flags);
	enc_u32(e, f->fdflags);
	enc_u64(e, f->pos);
	enc_u32(e, f->mode);
	enc_u64(e, f->dev);
	enc_u64(e, f->ino);
	enc_u64(e, f->size);
	enc_str(e, f->path, 1, "fd path too long");
	enc_u32(e, f->file);
	return e->err ? -1 : 0;
}

int img_dec_fd(struct dec *d, struct img_fd *f)
{
	dec_i32(d, &f->fd);
	dec_u32(d, &f->type);
	dec_u32(d, &f->flags);
	dec_u32(d, &f->fdflags);
	dec_u64(d, &f->pos);
	dec_u32(d, &f->mode);
	dec_u64(d, &f->dev);
	dec_u64(d, &f->ino);
	dec_u64(d, &f->size);
	dec_str(d, &f->path, 1, "fd path");
	dec_u32(d, &f->file);
	dec_check(d, f->fd >= 0, "bad fd number %d", f->fd);
	dec_check(d, f->type >= IMG_FD_REG && f->type <= IMG_FD_PATH,
		  "bad fd type %u", f->type);
	dec_check(d, f->path || (f->type >= IMG_FD_TTY &&
				 f->type != IMG_FD_PATH),
		  "no path for fd type %u", f->type);
	dec_check(d, (f->type == IMG_FD_PATH) == !!(f->flags & O_PATH),
		  "fd %d of type %u with flags %#o", f->fd, f->type, f->flags);
	dec_check(d, f->type != IMG_FD_PATH || (f->path && f->path[0] == '/'),
		  "fd %d: O_PATH on a relative path", f->fd);
	dec_check(d, (f->type == IMG_FD_FILE) == (f->file != 0),
		  "fd %d of type %u with file %u", f->fd, f->type, f->file);
	return dec_end(d);
}

void img_fd_free(struct img_fd *f)
{
	free(f->path);
	f->path = NULL;
}

/* ---- SIGACTS ------------------------------------------------------------ */

/* IMG_NSIG x (u64 handler flags restorer mask), signal 1 first */
int img_enc_sigacts(struct enc *e, const struct img_sigact *acts)
{
	int i;

	for (i = 0; i < IMG_NSIG; i++) {
		enc_u64(e, acts[i].handler);
		enc_u64(e, acts[i].flags);
		enc_u64(e, acts[i].restorer);
		enc_u64(e, acts[i].mask);
	}
	return e->err ? -1 : 0;
}

int img_dec_sigacts(struct dec *d, struct img_sigact *acts)
{
	int i;

	for (i = 0; i < IMG_NSIG; i++) {
		dec_u64(d, &acts[i].handler);
		dec_u64(d, &acts[i].flags);
		dec_u64(d, &acts[i].restorer);
		dec_u64(d, &acts[i].mask);
	}
	return dec_end(d);
}
