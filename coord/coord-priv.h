/*
 * The coordinator's own state, shared by server.c (sessions, membership,
 * the loop) and job.c (the two-phase checkpoint and the restart).
 */
#ifndef CKPT_COORD_PRIV_H
#define CKPT_COORD_PRIV_H

#include <time.h>

#include "coord/coord.h"
#include "plugins/ckpt-coord.h"

#define COORD_MAX_CONNS		256
#define COORD_MAX_MEMBERS	64
#define COORD_MAX_JOBS		64

struct coord_member;
struct coord_job;

/* One accepted session: a member's, or a ckpt job client's. */
struct coord_sess {
	struct coord_conn s;
	char peer[80];
	struct coord_member *m;	/* a member's session */
	struct coord_job *waits;	/* a client waiting for an answer */
};

enum member_state { M_IDLE, M_ASKED, M_DONE, M_LOCKING, M_LOCKED,
		    M_RESTORING };

struct coord_member {
	struct ckpt_coord_member pub;	/* what the kind sees */
	char name[COORD_NAME_MAX], host[COORD_NAME_MAX];
	char dir[COORD_PATH_MAX];
	struct coord_job *job;
	struct coord_sess *sess;	/* NULL while it is away */
	enum member_state st;
	int taking;		/* in the operation under way */
	char path[COORD_PATH_MAX];	/* its image in that operation */
	char sum[COORD_SUM_HEX + 1];
};

enum job_op { OP_NONE, OP_CKPT, OP_LOCK, OP_RESTORE };

struct coord_job {
	char name[COORD_NAME_MAX];
	struct coord_member *mem[COORD_MAX_MEMBERS];
	int n;
	enum job_op op;
	unsigned long seq;	/* of the operation under way */
	int kill;
	time_t deadline;
	time_t last_try;	/* a checkpoint last under way */
	struct timespec t0;	/* the operation's start */
	long slowest_ms;	/* the slowest DONE after t0 */
	struct coord_sess *client;	/* who asked for it, or NULL */
	/* tree, a site's coordinator: the job's session with the root, as
	 * its member named after the site (tree.c) */
	struct coord_conn up;	/* fd -1 while none */
	char up_path[COORD_PATH_MAX];	/* the root's name of our part */
	int from_up;		/* the operation under way is the root's */
	time_t up_next_try;
	int up_said;		/* the root's absence logged */
};

struct coord {
	const struct coord_opts *o;
	unsigned char key[NET_KEY];
	int lfd;
	struct coord_sess *sess[COORD_MAX_CONNS];
	int nsess;
	struct coord_job *jobs[COORD_MAX_JOBS];
	int njobs;
	const struct ckpt_coord_kind *kind;
	void *kstate;
	const struct ckpt_coord_kv_ops *kv;
	void *kvh;
	struct ckpt_coord_env env;
	void *dl;
};

/* server.c */
int coord_reply(struct coord *c, struct coord_sess *s, int ok,
		const char *fmt, ...) __attribute__((format(printf, 4, 5)));
int coord_tell(struct coord *c, struct coord_member *m,
	       const struct coord_msg *msg);

/* job.c: requests of ckpt job, answers of members, deadlines */
void job_checkpoint(struct coord *c, struct coord_job *j, int kill,
		    struct coord_sess *client);
/* tree: checkpoint seq (the root's number) of a site's members */
void job_checkpoint_seq(struct coord *c, struct coord_job *j, int kill,
			unsigned long seq);
/* tree: the root committed: the site's manifest and COMMIT to members */
void job_commit(struct coord *c, struct coord_job *j);
void job_abort(struct coord *c, struct coord_job *j, const char *why);
/* tree: restart a site's members from manifest text (LOCK, then
 * RESTORE when the root says) */
int job_restart_from(struct coord *c, struct coord_job *j,
		     unsigned long seq, char *manifest, char *why, size_t len);
void job_restore(struct coord *c, struct coord_job *j);
/* The manifest of the checkpoint under way into buf: 0 or -1 (E2BIG) */
int job_manifest_text(const struct coord_job *j, char *buf, size_t len);
/* place: "MEMBER=HOST ..." (members restored on other hosts than the
 * manifest's), or "" */
void job_restart(struct coord *c, struct coord_job *j, const char *place,
		 struct coord_sess *client);
void job_status(struct coord *c, const char *name, struct coord_sess *s);
void job_list(struct coord *c, struct coord_sess *s);
void job_answer(struct coord *c, struct coord_member *m,
		const struct coord_msg *msg);
/* m's session ended, or it left: an operation it was in fails */
void job_member_gone(struct coord *c, struct coord_member *m,
		     const char *why);
void job_tick(struct coord *c, time_t now);

/* tree.c: a site coordinator's sessions with the root, one per job */
int tree_is_site(const struct coord *c);
/* --zk's HOSTS[/ROOT] made the store of the root or of site: 0, -1 */
int tree_where(const struct coord_opts *o, char *buf, size_t len);
void tree_tick(struct coord *c);
void tree_readable(struct coord *c, struct coord_job *j);
void tree_close(struct coord_job *j);
/* the site's part of an operation of the root's: phase one done
 * (DONE, LOCKED), the restore done (RESTORED), or failed (FAIL) */
void tree_done(struct coord *c, struct coord_job *j);
void tree_locked(struct coord *c, struct coord_job *j);
void tree_restored(struct coord *c, struct coord_job *j);
void tree_failed(struct coord *c, struct coord_job *j, const char *why);

#endif
