/*
 * The text of /proc files the dumper parses, apart from the code that
 * reads them (dump-task.c, dump-timers.c) so that fuzz_proc links the
 * parsers alone: status (the fields the dumper keeps: umask,
 * no_new_privs, the ids and groups; and any one numeric field), timers
 * (one img_timer per "ID:" block) and a line of mountinfo.
 */
#include <sys/sysmacros.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ckpt/dump-priv.h"

/* "Key:\tvalue..." from /proc/PID/status; first number in base */
int dump_status_field(const char *status, const char *key, int base,
		      unsigned long *val)
{
	const char *p = strstr(status, key);

	if (!p)
		return -1;
	*val = strtoul(p + strlen(key), NULL, base);
	return 0;
}

/* "Uid:\treal\teffective\tsaved\tfs" */
static int parse_ids(const char *status, const char *key, uint32_t *r,
		     uint32_t *e, uint32_t *s)
{
	const char *p = strstr(status, key);
	unsigned int a, b, c;

	if (!p || sscanf(p + strlen(key), "%u %u %u", &a, &b, &c) != 3)
		return -1;
	*r = a;
	*e = b;
	*s = c;
	return 0;
}

/* "Groups:\t1 2 3 \n" */
static int parse_groups(const char *status, struct img_proc *p)
{
	const char *s = strstr(status, "\nGroups:");
	uint32_t *g;
	char *end;

	if (!s)
		return -1;
	s += 8;
	for (;;) {
		unsigned long v = strtoul(s, &end, 10);

		if (end == s || p->nr_groups >= IMG_MAX_GROUPS)
			return 0;
		g = realloc(p->groups, (p->nr_groups + 1) * sizeof(*g));
		if (!g)
			return -1;
		p->groups = g;
		g[p->nr_groups++] = v;
		s = end;
	}
}

int dump_status_info(const char *s, struct img_proc *p)
{
	unsigned long v;

	if (dump_status_field(s, "\nUmask:", 8, &v))
		return -1;
	p->umask = v;
	if (!dump_status_field(s, "\nNoNewPrivs:", 10, &v))
		p->no_new_privs = !!v;
	if (parse_ids(s, "\nUid:", &p->uid, &p->euid, &p->suid) ||
	    parse_ids(s, "\nGid:", &p->gid, &p->egid, &p->sgid) ||
	    parse_groups(s, p))
		return -1;
	return 0;
}

/* ---- timers ------------------------------------------------------------- */

static int parse_notify(const char *how, const char *kind, int id,
			struct img_timer *t)
{
	if (!strcmp(how, "signal"))
		t->notify = IMG_SIGEV_SIGNAL;
	else if (!strcmp(how, "none"))
		t->notify = IMG_SIGEV_NONE;
	else if (!strcmp(how, "thread"))
		t->notify = IMG_SIGEV_THREAD;
	else
		return -1;
	if (!strcmp(kind, "tid")) {
		t->notify |= IMG_SIGEV_THREAD_ID;
		t->tid = id;
	}
	return 0;
}

/* One "ID:" block of /proc/PID/timers (fs/proc/base.c, show_timer). */
static int parse_timer(const char *p, struct img_timer *t)
{
	char how[16], kind[8];
	unsigned long long val;
	int id, n;

	memset(t, 0, sizeof(*t));
	if (sscanf(p, "ID: %d\nsignal: %u/%llx\nnotify: %15[a-z]/%7[a-z].%d\nClockID: %d%n",
		   &t->id, &t->signo, &val, how, kind, &id, &t->clockid,
		   &n) != 7)
		return -1;
	t->sigval = val;
	return parse_notify(how, kind, id, t);
}

static int cmp_timer(const void *a, const void *b)
{
	const struct img_timer *x = a, *y = b;

	return (x->id > y->id) - (x->id < y->id);
}

int dump_timers_info(const char *buf, pid_t pid, struct img_pstate *s)
{
	struct img_timer *t;
	const char *p;

	/* "ID: " starts a line ("ClockID: " ends the block) */
	for (p = buf; *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : "") {
		if (strncmp(p, "ID: ", 4))
			continue;
		if (s->nr_timers >= IMG_MAX_TIMERS) {
			pr_err("can't dump %d: more than %u POSIX timers",
			       pid, IMG_MAX_TIMERS);
			return -1;
		}
		t = realloc(s->timers, (s->nr_timers + 1) * sizeof(*t));
		if (!t)
			return -1;
		s->timers = t;
		if (parse_timer(p, &t[s->nr_timers])) {
			pr_err("can't parse the timers of %d", pid);
			return -1;
		}
		s->nr_timers++;
	}
	/* the kernel lists the newest first */
	if (s->nr_timers)
		qsort(s->timers, s->nr_timers, sizeof(*t), cmp_timer);
	return 0;
}

/* ---- mountinfo ---------------------------------------------------------- */

/* "36 35 98:0 /root /mnt rw,... - ext3 /dev/root rw": 98:0, /mnt */
int dump_mountinfo_line(const char *line, dev_t *dev, char *mnt)
{
	unsigned int maj, min;

	_Static_assert(PATH_MAX == 4096, "the %4095s below");
	if (sscanf(line, "%*d %*d %u:%u %*s %4095s", &maj, &min, mnt) != 3)
		return -1;
	*dev = makedev(maj, min);
	return 0;
}
