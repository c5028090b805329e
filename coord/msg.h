/*
 * msg: the messages of the coordinator protocol, one per sealed frame of
 * a plugins/net.h session: a verb and its fields separated by single
 * spaces, the last field of FAIL, OK and ERR the rest of the text. Parsed
 * whole and checked field by field (names, paths, numbers, checksums)
 * before anything acts on them: the fuzz target tests/fuzz/fuzz_coord.c
 * feeds coord_msg_parse arbitrary bytes.
 *
 *   member -> coordinator           coordinator -> member
 *   JOIN JOB MEMBER HOST DIR RUN    WELCOME
 *   LEAVE STATUS                    CKPT SEQ KILL PATH
 *   DONE SEQ PATH SUM               COMMIT SEQ | ABORT SEQ
 *   FAIL SEQ WHY...                 LOCK SEQ PATH SUM
 *   LOCKED SEQ | RESTORED SEQ       RESTORE SEQ PATH SUM
 *   client -> coordinator           coordinator -> client
 *   CHECKPOINT JOB KILL             OK TEXT... | ERR WHY...
 *   STATUS JOB | LIST               (PLACEMENT: MEMBER=HOST ..., or
 *   RESTART JOB PLACEMENT...         nothing: the manifest's hosts)
 */
#ifndef CKPT_COORD_MSG_H
#define CKPT_COORD_MSG_H

#include <stddef.h>

#define COORD_NAME_MAX	64	/* job, member and host names, NUL included */
#define COORD_PATH_MAX	1024
#define COORD_SUM_HEX	64	/* BLAKE2b-256 of the image, in hex */
#define COORD_MSG_MAX	8192	/* a whole message, NUL included */

enum coord_verb {
	CM_JOIN = 1, CM_LEAVE, CM_DONE, CM_FAIL, CM_LOCKED, CM_RESTORED,
	CM_WELCOME, CM_CKPT, CM_COMMIT, CM_ABORT, CM_LOCK, CM_RESTORE,
	CM_CHECKPOINT, CM_STATUS, CM_RESTART, CM_LIST, CM_OK, CM_ERR,
};

struct coord_msg {
	enum coord_verb verb;
	char job[COORD_NAME_MAX];
	char member[COORD_NAME_MAX];
	char host[COORD_NAME_MAX];
	char path[COORD_PATH_MAX];	/* DIR of JOIN, or an image */
	char sum[COORD_SUM_HEX + 1];
	unsigned long seq;
	long num;		/* RUN, KILL, STATUS */
	char text[COORD_MSG_MAX];	/* WHY, TEXT */
};

/* Parse buf (len bytes, no NUL needed) into m: 0, or -1 if it is no
 * well-formed message. */
int coord_msg_parse(const char *buf, size_t len, struct coord_msg *m);

/* Format m into buf: 0, or -1 if it does not fit or a field is bad. */
int coord_msg_format(const struct coord_msg *m, char *buf, size_t size);

/* Is s a valid name: [A-Za-z0-9][A-Za-z0-9._-]*, shorter than
 * COORD_NAME_MAX? */
int coord_name_ok(const char *s);

#endif
