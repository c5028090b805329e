/*
 * /proc readers (util/proc.h): smaps (with the VmFlags that madvise can
 * set back), stat (the mm fields that PR_SET_MM_MAP wants), and the thread
 * list.
 */
#include <sys/mman.h>
#include <sys/sysmacros.h>
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/proc.h"

static const struct {
	char name[3];
	uint32_t flag;
} vmflag_names[] = {
	{ "dc", PROC_VMF_DONTFORK },	{ "dd", PROC_VMF_DONTDUMP },
	{ "hg", PROC_VMF_HUGEPAGE },	{ "nh", PROC_VMF_NOHUGEPAGE },
	{ "wf", PROC_VMF_WIPEONFORK },	{ "rr", PROC_VMF_RANDOM },
	{ "sr", PROC_VMF_SEQUENTIAL },	{ "mg", PROC_VMF_MERGEABLE },
	{ "gd", PROC_VMF_GROWSDOWN },	{ "io", PROC_VMF_IO },
	{ "pf", PROC_VMF_IO },		{ "mw", PROC_VMF_MAYWRITE },
	{ "lo", PROC_VMF_LOCKED },	{ "lf", PROC_VMF_LOCKONFAULT },
	{ "dp", PROC_VMF_DROPPABLE },	{ "uw", PROC_VMF_UFFD_WP },
};

static uint32_t parse_vmflags(const char *s)
{
	uint32_t f = 0;
	size_t i;

	while (*s) {
		while (*s == ' ')
			s++;
		if (!s[0] || !s[1])
			break;
		for (i = 0; i < ARRAY_SIZE(vmflag_names); i++)
			if (s[0] == vmflag_names[i].name[0] &&
			    s[1] == vmflag_names[i].name[1])
				f |= vmflag_names[i].flag;
		s += 2;
	}
	return f;
}

/* "start-end perms offset major:minor inode   path" */
static int parse_map_line(const char *line, struct proc_map *m)
{
	unsigned int maj, min;
	uint64_t ino;
	char perms[5];
	int pos = 0;
	const char *path;

	memset(m, 0, sizeof(*m));
	if (sscanf(line, "%" SCNx64 "-%" SCNx64 " %4s %" SCNx64 " %x:%x %"
		   SCNu64 " %n", &m->start, &m->end, perms, &m->pgoff, &maj,
		   &min, &ino, &pos) < 7 || pos == 0)
		return -1;
	m->prot = (perms[0] == 'r' ? PROT_READ : 0) |
		  (perms[1] == 'w' ? PROT_WRITE : 0) |
		  (perms[2] == 'x' ? PROT_EXEC : 0);
	m->shared = perms[3] == 's';
	m->dev = makedev(maj, min);
	m->ino = ino;
	path = line + pos;
	if (*path) {
		m->path = strdup(path);
		if (!m->path)
			return -1;
	}
	return 0;
}

static int is_map_line(const char *line)
{
	/* mapping lines start with a hex address and a dash */
	const char *p = line;

	while (isxdigit((unsigned char)*p))
		p++;
	return p != line && *p == '-';
}

int proc_parse_maps_buf(char *buf, struct proc_map **out)
{
	char *line, *save = NULL;
	struct proc_map *maps = NULL, *nm;
	int n = 0, cap = 0;

	for (line = strtok_r(buf, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save)) {
		if (is_map_line(line)) {
			if (n == cap) {
				cap = cap ? cap * 2 : 64;
				nm = realloc(maps, cap * sizeof(*maps));
				if (!nm)
					goto err;
				maps = nm;
			}
			if (parse_map_line(line, &maps[n]))
				goto err;
			n++;
		} else if (n && !strncmp(line, "VmFlags:", 8)) {
			maps[n - 1].vmflags = parse_vmflags(line + 8);
		}
	}
	*out = maps;
	return n;
err:
	proc_free_maps(maps, n);
	errno = EINVAL;
	return -1;
}

static int parse_maps_file(pid_t pid, const char *name, struct proc_map **out)
{
	char path[64], *buf;
	int n, saved;

	snprintf(path, sizeof(path), "/proc/%d/%s", pid, name);
	buf = read_file_str(path, NULL);
	if (!buf)
		return -1;
	n = proc_parse_maps_buf(buf, out);
	saved = errno;
	free(buf);
	errno = saved;
	return n;
}

int proc_parse_maps(pid_t pid, struct proc_map **out)
{
	return parse_maps_file(pid, "smaps", out);
}

int proc_parse_maps_only(pid_t pid, struct proc_map **out)
{
	return parse_maps_file(pid, "maps", out);
}

void proc_free_maps(struct proc_map *m, int n)
{
	int i;

	for (i = 0; i < n; i++)
		free(m[i].path);
	free(m);
}

int proc_parse_stat_buf(const char *buf, struct proc_stat *st)
{
	const char *p, *end;
	unsigned long long v[53];
	int i;

	memset(st, 0, sizeof(*st));
	/* comm may hold spaces and parentheses: it ends at the last ')' */
	p = strchr(buf, '(');
	end = strrchr(buf, ')');
	if (!p || !end || end < p || end[1] != ' ' || !end[2])
		goto bad;
	snprintf(st->comm, sizeof(st->comm), "%.*s", (int)(end - p - 1),
		 p + 1);
	st->state = end[2];
	p = end + 3;
	/* fields 4.. : v[4] is ppid; exit_code, 52, came in Linux 3.5 */
	for (i = 4; i < 53; i++) {
		char *e;

		v[i] = strtoull(p, &e, 10);
		if (e == p)
			goto bad;	/* an older kernel with fewer fields */
		p = e;
	}
	st->ppid = v[4];
	st->pgrp = v[5];
	st->session = v[6];
	st->tty_nr = v[7];
	st->tpgid = (pid_t)v[8];
	st->flags = v[9];
	st->start_code = v[26];
	st->end_code = v[27];
	st->start_stack = v[28];
	st->start_data = v[45];
	st->end_data = v[46];
	st->start_brk = v[47];
	st->arg_start = v[48];
	st->arg_end = v[49];
	st->env_start = v[50];
	st->env_end = v[51];
	st->exit_code = v[52];
	st->exit_signal = v[38];
	return 0;
bad:
	errno = EINVAL;
	return -1;
}

int proc_parse_stat(pid_t pid, struct proc_stat *st)
{
	char path[64], *buf;
	int rc, saved;

	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	buf = read_file_str(path, NULL);
	if (!buf)
		return -1;
	rc = proc_parse_stat_buf(buf, st);
	saved = errno;
	free(buf);
	errno = saved;
	return rc;
}

int proc_anon_bytes_buf(const char *buf, uint64_t *bytes)
{
	static const char *const keys[] = { "Anonymous:", "Swap:" };
	unsigned long long kb;
	const char *line;
	size_t k, n;
	int end;

	*bytes = 0;
	for (line = buf; *line; line += strcspn(line, "\n"),
	     line += *line == '\n') {
		for (k = 0; k < ARRAY_SIZE(keys); k++) {
			n = strlen(keys[k]);
			if (strncmp(line, keys[k], n))
				continue;
			end = 0;
			if (sscanf(line + n, " %llu kB%n", &kb, &end) != 1 ||
			    !end || kb > (~0ULL >> 10) - (*bytes >> 10)) {
				errno = EINVAL;
				return -1;
			}
			*bytes += (uint64_t)kb << 10;
		}
	}
	return 0;
}

int proc_anon_bytes(pid_t pid, uint64_t *bytes)
{
	char path[64], *buf;
	int rc, saved;

	snprintf(path, sizeof(path), "/proc/%d/smaps_rollup", pid);
	buf = read_file_str(path, NULL);
	if (!buf)
		return -1;
	rc = proc_anon_bytes_buf(buf, bytes);
	saved = errno;
	free(buf);
	errno = saved;
	return rc;
}

static int cmp_pid(const void *a, const void *b)
{
	pid_t x = *(const pid_t *)a, y = *(const pid_t *)b;

	return (x > y) - (x < y);
}

int proc_list_tasks(pid_t pid, pid_t **out)
{
	char path[64];
	struct dirent *de;
	pid_t *tids = NULL, *nt;
	int n = 0, cap = 0, saved;
	DIR *d;

	snprintf(path, sizeof(path), "/proc/%d/task", pid);
	d = opendir(path);
	if (!d)
		return -1;
	while ((de = readdir(d))) {
		if (!isdigit((unsigned char)de->d_name[0]))
			continue;
		if (n == cap) {
			cap = cap ? cap * 2 : 16;
			nt = realloc(tids, cap * sizeof(*tids));
			if (!nt)
				goto err;
			tids = nt;
		}
		tids[n++] = atoi(de->d_name);
	}
	closedir(d);
	qsort(tids, n, sizeof(*tids), cmp_pid);
	*out = tids;
	return n;
err:
	saved = errno;
	closedir(d);
	free(tids);
	errno = saved;
	return -1;
}

pid_t proc_status_ns_id(const char *path, const char *key)
{
	char line[256], *last;
	pid_t pid = -1;
	FILE *f = fopen(path, "re");

	while (f && fgets(line, sizeof(line), f))
		if (!strncmp(line, key, strlen(key))) {
			last = strrchr(line, '\t');
			pid = last ? atoi(last + 1) : -1;
			break;
		}
	if (f)
		fclose(f);
	return pid;
}

int proc_status_ns_ids(const char *path, const char *key, pid_t *ids,
		       int max)
{
	char line[512], *s, *end;
	FILE *f = fopen(path, "re");
	size_t klen = strlen(key);
	int n = -1;
	long v;

	while (f && n < 0 && fgets(line, sizeof(line), f)) {
		if (strncmp(line, key, klen))
			continue;
		for (n = 0, s = line + klen; n < max; s = end) {
			v = strtol(s, &end, 10);
			if (end == s)
				break;
			ids[n++] = (pid_t)v;
		}
	}
	if (f)
		fclose(f);
	return n;
}
