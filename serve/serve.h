/*
 * serve: `ckpt serve`, the receiving end of the tcp sink: a daemon, not
 * a stage, so a room of its own that only ckpt links. It stores and
 * serves images under one directory for clients that prove they hold the
 * shared key (plugins/net.h), one forked child per connection, under a
 * seccomp filter.
 */
#ifndef CKPT_SERVE_H
#define CKPT_SERVE_H

#include <signal.h>

#include "util/util.h"

/* The defaults of --max-clients and --client-timeout, and their bounds. */
#define SERVE_MAX_CLIENTS	64
#define SERVE_MAX_CLIENTS_MAX	1024
#define SERVE_CLIENT_TIMEOUT	120
#define SERVE_CLIENT_TIMEOUT_MAX	86400

struct serve_opts {
	const char *listen;	/* HOST:PORT, [v6]:PORT */
	const char *dir;	/* where the images live */
	const char *keyfile;	/* `ckpt keygen` key shared with clients */
	unsigned int max_clients;	/* served at once; more wait */
	unsigned int client_timeout;	/* seconds a client may stall */
	int no_seccomp;		/* for debugging only */
	/* --restore: MIGRATE requests are restored here (serve-migrate.c);
	 * restore needs the whole system: no seccomp filter, no limits */
	int restore;
	/* set asynchronously by SIGTERM/SIGINT: stop serving */
	volatile sig_atomic_t *stop;
};

enum serve_result {
	SERVE_OK = 0,		/* stopped by a signal */
	SERVE_EUSAGE,		/* bad HOST:PORT */
	SERVE_ELISTEN,		/* can't listen */
	SERVE_EDIR,		/* the directory can't be opened */
	SERVE_EKEY,		/* the key is unusable */
	SERVE_EFAILED,		/* anything else (seccomp set-up, ...) */
};

enum serve_result serve_run(const struct serve_opts *o) __must_check;

#endif
