/*
 * runc: what `ckpt container` needs of runc. A container's init is found
 * through `runc state ID` (its JSON "pid" and "status"). After a restore
 * runc's own state file, ROOT/ID/state.json, is brought up to date: runc
 * takes a container for stopped unless a process init_process_pid lives
 * whose start time (/proc/PID/stat field 22) is init_process_start, and
 * `runc exec` joins the namespaces named in namespace_paths
 * (/proc/PID/ns/...). The rest of it (cgroup paths, config) holds as it
 * was, since restore puts the tree back in the same cgroups.
 * Before a checkpoint, `runc ps` lists the processes of the container's
 * cgroup: one that does not descend from its init (what `runc exec`
 * started: runc's child, not init's) is not in the tree that ckpt dumps.
 */
#include <sys/stat.h>
#include <sys/wait.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ckpt/runc.h"
#include "util/proc.h"
#include "util/util.h"

/* argv's standard output, or NULL if it failed (its stderr passes);
 * *status its exit status (127: it could not run) */
char *runc_capture(char *const argv[], int *status)
{
	size_t len = 0, cap = 4096;
	char *buf = malloc(cap), *nb;
	int p[2], st = 0;
	ssize_t n;
	pid_t pid;

	if (!buf || pipe2(p, O_CLOEXEC)) {
		free(buf);
		return NULL;
	}
	pid = fork();
	if (!pid) {
		dup2(p[1], STDOUT_FILENO);
		execvp(argv[0], argv);
		_exit(127);
	}
	close(p[1]);
	while (pid > 0 && (n = read(p[0], buf + len, cap - len - 1)) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			break;
		len += n;
		if (cap - len < 2 && (nb = realloc(buf, cap *= 2)))
			buf = nb;
		else if (cap - len < 2)
			break;
	}
	close(p[0]);
	buf[len] = '\0';
	while (pid > 0 && waitpid(pid, &st, 0) < 0 && errno == EINTR)
		;
	*status = pid > 0 && WIFEXITED(st) ? WEXITSTATUS(st) : 127;
	if (pid < 0 || !WIFEXITED(st) || WEXITSTATUS(st)) {
		if (pid > 0 && WIFEXITED(st) && WEXITSTATUS(st) == 127)
			pr_err("can't run %s", argv[0]);
		free(buf);
		return NULL;
	}
	return buf;
}

int runc_run(char *const argv[])
{
	pid_t pid = fork();
	int st;

	if (!pid) {
		execvp(argv[0], argv);
		_exit(127);
	}
	while (pid > 0 && waitpid(pid, &st, 0) < 0 && errno == EINTR)
		;
	if (pid > 0 && WIFEXITED(st) && WEXITSTATUS(st) != 127)
		return WEXITSTATUS(st);
	pr_err("can't run %s", argv[0]);
	return 127;
}

const char *runc_json_value(const char *js, const char *key)
{
	char k[64];
	const char *p;

	snprintf(k, sizeof(k), "\"%s\"", key);
	p = strstr(js, k);
	if (!p)
		return NULL;
	p += strlen(k);
	p += strspn(p, " \t\n");
	if (*p++ != ':')
		return NULL;
	return p + strspn(p, " \t\n");
}

int runc_state(const char *runc, const char *root, const char *id,
	       pid_t *pid, char *status, size_t len)
{
	char *argv[] = { (char *)runc, "--root", (char *)root, "state",
			 (char *)id, NULL };
	const char *v;
	long n;
	int ret = -1, st;
	char *js = runc_capture(argv, &st);

	if (!js) {
		pr_err("can't get the state of container %s from %s --root %s",
		       id, runc, root);
		return -1;
	}
	v = runc_json_value(js, "pid");
	n = v ? strtol(v, NULL, 10) : -1;
	if (n >= 0 && n <= 0x3fffffff) {
		*pid = n;
		v = runc_json_value(js, "status");
		if (v && *v == '"') {
			snprintf(status, len, "%.*s", (int)strcspn(v + 1, "\""),
				 v + 1);
			ret = 0;
		}
	}
	if (ret)
		pr_err("can't read the state of container %s: %s state gave no pid and status",
		       id, runc);
	free(js);
	return ret;
}

/* Is pid init or one of its descendants? A process gone meanwhile
 * counts as one: it is not there to be left out. */
static int descends(pid_t pid, pid_t init)
{
	struct proc_stat st;
	int depth;

	for (depth = 0; pid > 1 && depth < 4096; depth++) {
		if (pid == init)
			return 1;
		if (proc_parse_stat(pid, &st))
			return errno == ENOENT || errno == ESRCH;
		pid = st.ppid;
	}
	return 0;
}

int runc_strays(const char *runc, const char *root, const char *id,
		pid_t init, pid_t **out, int *n)
{
	char *argv[] = { (char *)runc, "--root", (char *)root, "ps",
			 "--format", "json", (char *)id, NULL };
	char *js, *p, *end;
	pid_t *v = NULL, *nv;
	long pid;
	int st;

	*n = 0;
	js = runc_capture(argv, &st);
	if (!js || *js != '[') {
		pr_err("can't list the processes of container %s with %s ps",
		       id, runc);
		free(js);
		return -1;
	}
	for (p = js + 1; *p && *p != ']'; p = end + strspn(end, ", \t\n")) {
		pid = strtol(p, &end, 10);
		if (end == p || pid <= 0)
			break;
		if (descends(pid, init))
			continue;
		nv = realloc(v, (*n + 1) * sizeof(*v));
		if (!nv)
			break;
		v = nv;
		v[(*n)++] = pid;
	}
	if (*p != ']') {
		pr_err("can't read the processes of container %s from %s ps",
		       id, runc);
		free(v);
		free(js);
		*n = 0;
		return -1;
	}
	free(js);
	*out = v;
	return 0;
}

void runc_stray_err(const char *id, pid_t stray, pid_t init, const char *by,
		    const char *hint)
{
	struct proc_stat st;

	if (proc_parse_stat(stray, &st))
		st.comm[0] = '\0';
	pr_err("can't checkpoint container %s: its process %d (%s) does not descend from its init %d (%s started it?) and would not be in the image: end it first%s",
	       id, stray, st.comm, init, by, hint);
}

/* starttime of pid, /proc/PID/stat field 22 (proc(5)), or 0 */
static unsigned long long start_time(pid_t pid)
{
	char path[64], *s, *p;
	unsigned long long t = 0;
	int i;

	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	s = read_file_str(path, NULL);
	p = s ? strrchr(s, ')') : NULL;
	/* field 3, the state, follows ") " */
	for (i = 2; p && i < 22; i++)
		p = strchr(p + 1, ' ');
	if (p)
		t = strtoull(p + 1, NULL, 10);
	free(s);
	return t;
}

/* in js, the number after "key": replaced by v; NULL if no such key */
static char *set_num(char *js, const char *key, unsigned long long v)
{
	const char *at = runc_json_value(js, key);
	char *out;
	size_t digits;

	if (!at || *at < '0' || *at > '9')
		return NULL;
	digits = strspn(at, "0123456789");
	if (asprintf(&out, "%.*s%llu%s", (int)(at - js), js, v,
		     at + digits) < 0)
		return NULL;
	return out;
}

/* every "/proc/OLD/ns/" of js made "/proc/NEW/ns/" */
static char *set_ns_paths(const char *js, pid_t old, pid_t new)
{
	char from[48], to[48], *out, *o;
	const char *p, *q;
	size_t fl, tl;

	fl = snprintf(from, sizeof(from), "/proc/%d/ns/", old);
	tl = snprintf(to, sizeof(to), "/proc/%d/ns/", new);
	out = malloc(strlen(js) * 2 + 1);
	if (!out)
		return NULL;
	for (o = out, p = js; (q = strstr(p, from)); p = q + fl) {
		memcpy(o, p, q - p);
		o += q - p;
		memcpy(o, to, tl);
		o += tl;
	}
	strcpy(o, p);
	return out;
}

int runc_replace_file(const char *path, const char *data)
{
	char tmp[PATH_MAX];
	int fd, ret = -1;

	if ((size_t)snprintf(tmp, sizeof(tmp), "%s.ckpt-new", path) >=
	    sizeof(tmp))
		return -1;
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		return -1;
	if (!write_full(fd, data, strlen(data)) && !fsync(fd))
		ret = 0;
	close(fd);
	if (!ret)
		ret = rename(tmp, path);
	if (ret)
		unlink(tmp);
	return ret;
}

int runc_state_update(const char *root, const char *id, pid_t new)
{
	char path[PATH_MAX], *js, *a = NULL, *b = NULL, *c = NULL;
	unsigned long long start = start_time(new);
	const char *v;
	pid_t old = -1;
	int ret = -1;

	snprintf(path, sizeof(path), "%s/%s/state.json", root, id);
	js = read_file_str(path, NULL);
	if (!js) {
		pr_perror("can't read runc's state of %s, %s", id, path);
		return -1;
	}
	v = runc_json_value(js, "init_process_pid");
	if (v)
		old = strtol(v, NULL, 10);
	if (start && old > 0 && (a = set_num(js, "init_process_pid", new)) &&
	    (b = set_num(a, "init_process_start", start)) &&
	    (c = set_ns_paths(b, old, new)))
		ret = runc_replace_file(path, c);
	if (ret)
		pr_err("can't update runc's state of %s in %s", id, path);
	free(js);
	free(a);
	free(b);
	free(c);
	return ret;
}
