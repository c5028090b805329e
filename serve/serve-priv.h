/*
 * serve-priv.h: the pieces of ckpt serve, for serve.c.
 */
#ifndef CKPT_SERVE_PRIV_H
#define CKPT_SERVE_PRIV_H

#include <sys/stat.h>

#include "plugins/net.h"

/* One authenticated-or-refused client on fd; runs in its own child.
 * peer names it in the log; a client that stalls for timeout seconds
 * (serve-conn.c) is cut, never with timeout 0 (the fuzzers). Never
 * returns an error: it logs. */
void serve_conn(int fd, int dirfd, const unsigned char key[NET_KEY],
		const char *peer, unsigned int timeout);

/* serve --restore (serve-migrate.c): MIGRATE requests restore their
 * image, found under dir, once it is stored; without it they are
 * refused. */
void serve_migrate_enable(const char *dir);
int serve_migrate_enabled(void);
/*
 * A migration's restore starts as soon as its image is being stored: it
 * reads the image from img_fd (the temporary, open for reading) as it
 * comes, told by serve_migrate_more() after each write and
 * serve_migrate_whole() once it is all in (and renamed to name). It
 * makes nothing before that. serve_migrate_abort() kills it (the image
 * did not come whole). Start: 0, or -1 logged.
 */
int serve_migrate_start(int img_fd, const char *name, int lazy);
void serve_migrate_more(void);
void serve_migrate_whole(void);
void serve_migrate_abort(void);
/* The image stored as name under dirfd: its restore done, tell the client
 * "RUNS PID" and wait timeout seconds for its "DONE", or remove the
 * image and kill what was made. Logs; never fails otherwise. */
void serve_migrate(struct net_conn *c, int dirfd, const char *name,
		   const char *peer, unsigned int timeout);
/* For SIGTERM or the deadline: kill what the restore made (or the
 * restore), remove the image; async-signal-safe. */
void serve_migrate_on_term(void);

/* "PAGES NAME" (serve-pages.c): the state of the image, then its pages
 * asked for by offset, for restore --lazy. Logs; never fails otherwise. */
void serve_pages(struct net_conn *c, int dirfd, const char *name,
		 const char *peer);
/* serve-conn.c's deadline, for serve-pages.c: progress made; the line
 * the log says if it cuts the client. */
void serve_deadline_restart(void);
/* NAME under dirfd, a regular file, read only (its stat in st): the fd,
 * or -1 with *why. */
int serve_open_image(int dirfd, const char *name, struct stat *st,
		     const char **why);
void serve_deadline_says(const char *line);

/* The seccomp filter of the server and its children. */
int serve_seccomp(void) __must_check;

#endif
