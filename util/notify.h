/*
 * notify: ckpt run --notify's word to a cooperating job (ckpt(1), "ckpt
 * run"): a line on a unix stream socket the job listens on, then a
 * bounded wait for the job to close the connection.
 */
#ifndef CKPT_NOTIFY_H
#define CKPT_NOTIFY_H

#define NOTIFY_ENV	"CKPT_NOTIFY"	/* the socket's path, in the job's
					 * environment */
#define NOTIFY_NAME	"notify"	/* the socket in ckpt run's DIR */
#define NOTIFY_SECONDS	10		/* --notify's default wait */

/*
 * "EVENT\n" to the job listening on path; then waits until it closes the
 * connection (it has done what it does at EVENT), at most seconds. 1 when
 * it did, 0 when no one listens or it took too long (said at -v), -1 on a
 * bad path.
 */
int notify_job(const char *path, const char *event, unsigned int seconds);

#endif
