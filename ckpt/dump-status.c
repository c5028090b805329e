/*
 * The text of /proc/PID/status: the fields the dumper keeps (umask,
 * no_new_privs, the ids and groups) and any one numeric field. Apart
 * from dump-task.c, which reads the file, so that fuzz_proc links the
 * parsers alone.
 */
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
