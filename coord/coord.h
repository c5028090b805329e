/*
 * coord: coordinated checkpoints of jobs that span hosts (ckpt coord,
 * ckpt job, the member side of ckpt run --coord). The coordinator is a
 * daemon over plugins/net.h sessions (the tcp:// handshake and sealed
 * frames, under the --auth key); what it decides is a kind's
 * (plugins/ckpt-coord.h), the built-in "central" among them, and what
 * must outlive it goes into the kind's key-value store.
 */
#ifndef CKPT_COORD_COORD_H
#define CKPT_COORD_COORD_H

#include <signal.h>
#include <stddef.h>

#include "coord/msg.h"
#include "plugins/net.h"
#include "util/util.h"

#define COORD_TIMEOUT	60	/* default seconds for a member to dump */
#define COORD_TIMEOUT_MAX	300	/* the largest --timeout */

/* A session with the coordinator, either end. */
struct coord_conn {
	int fd;
	struct net_conn nc;
};

/* Connect to HOST:PORT ([v6]:PORT), or to the coordinator of job (or
 * NULL) found in ZooKeeper for zk://HOSTS[/ROOT], authenticate with key:
 * 0, or -1 with a message in err. timeout bounds each step, in
 * seconds. */
int coord_dial(struct coord_conn *c, const char *addr, const char *job,
	       const unsigned char key[NET_KEY], int timeout, char *err,
	       size_t errlen) __must_check;
void coord_close(struct coord_conn *c);
/* One message each way; -1 with errno (EBADMSG: not a valid one). */
int coord_send(struct coord_conn *c, const struct coord_msg *m)
	__must_check;
int coord_recv(struct coord_conn *c, struct coord_msg *m) __must_check;

/* Split "HOST:PORT" or "[v6]:PORT": 0 or -1. */
int coord_split_addr(const char *addr, char host[256], char port[32]);

/* BLAKE2b-256 of a file, in hex: 0 or -1 (logged). */
int coord_file_sum(const char *path, char hex[COORD_SUM_HEX + 1])
	__must_check;

/* One request of ckpt job: the answer's text (OK's or ERR's) in reply;
 * 0 for OK, 1 for ERR, -1 if the coordinator could not be asked (the
 * reason in reply). */
int coord_request(const char *addr, const unsigned char key[NET_KEY],
		  const struct coord_msg *req, char *reply, size_t len);

struct coord_opts {
	const char *listen;	/* HOST:PORT */
	const char *keyfile;
	const char *kind;	/* a built-in kind (central...), or PATH.so */
	const char *kind_arg;	/* given to the kind, or NULL */
	const char *state;	/* the store of the file backend */
	const char *zk;		/* ZooKeeper's HOSTS[/ROOT], or NULL */
	const char *site;	/* tree: the site we coordinate, or NULL */
	int root;		/* tree: we are the root */
	unsigned int timeout;	/* seconds a member may take to dump */
	unsigned int interval;	/* seconds between checkpoints, or 0 */
	volatile sig_atomic_t *stop;	/* set by SIGTERM/SIGINT */
};

/* Run the coordinator until *stop: 0, or -1 (logged) if it could not
 * start; EXIT_USAGE-worthy errors give -2. */
int coord_serve(const struct coord_opts *o);

#endif
