/*
 * The ZooKeeper backend of the coordinator's key-value store, and the
 * leader election of the standby kind on the same session (Debian's
 * libzookeeper-mt client; the consensus is ZooKeeper's, never ours).
 *
 * --zk HOST:PORT[,HOST:PORT...][/ROOT]: keys are znodes under ROOT
 * (/ckpt by default) below "kv" ("job/ring/seq" is ROOT/kv/job/ring/seq),
 * parents made persistent on the first put; a put returns once the
 * ensemble acknowledged it, which is ZooKeeper's durability. The
 * election is ROOT/leader/n_SEQUENCE, ephemeral and sequential, holding
 * the candidate's --listen address: the lowest one leads, and its znode
 * goes with its session when it dies. Members and ckpt job find the
 * leader there (coord_zk_leader) on each connection.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#define THREADED	/* the synchronous calls of libzookeeper_mt */
#include <zookeeper/zookeeper.h>

#include "coord/kinds.h"
#include "util/util.h"

#define ZK_SESSION_MS	2000	/* the session timeout we ask for */
#define ZK_CONNECT_MS	5000	/* how long to wait for a session */
#define ZK_ROOT		"/ckpt"
#define ZK_PATH_MAX	(CKPT_COORD_KEY_MAX + 300)

struct kv_zk {
	zhandle_t *zh;
	char root[256];		/* "/ckpt" */
	char me[ZK_PATH_MAX];	/* our election znode, once a candidate */
	long long last_ok;	/* ms (monotonic) the session was last up */
};

/* zookeeper errors as errno, for the interface's callers */
static int zk_errno(int rc)
{
	switch (rc) {
	case ZOK:
		return 0;
	case ZNONODE:
		return ENOENT;
	case ZNODEEXISTS:
		return EEXIST;
	case ZBADARGUMENTS:
		return EINVAL;
	case ZCONNECTIONLOSS:
	case ZOPERATIONTIMEOUT:
		return EAGAIN;	/* the session may live on another server */
	default:
		return EIO;
	}
}

static int fail(int rc)
{
	errno = zk_errno(rc);
	return rc == ZOK ? 0 : -1;
}

/* The client library logs each failed attempt to connect (many a
 * second) on stderr: ours is one line when we give up, so its log goes
 * nowhere (the stream stays open for the process's life). */
static void quiet_once(void)
{
	static int done;
	FILE *null;

	if (done++)
		return;
	zoo_set_debug_level(ZOO_LOG_LEVEL_ERROR);
	null = fopen("/dev/null", "we");
	if (null)
		zoo_set_log_stream(null);
}

/* Split "HOSTS[/ROOT]": the hosts into hosts, the root into root. */
static int split_where(const char *where, char *hosts, size_t hlen,
		       char *root, size_t rlen)
{
	const char *slash = strchr(where, '/');
	size_t n = slash ? (size_t)(slash - where) : strlen(where);

	if (!n || n >= hlen)
		return -1;
	memcpy(hosts, where, n);
	hosts[n] = '\0';
	if (!slash || !slash[1])
		snprintf(root, rlen, "%s", ZK_ROOT);
	else if (snprintf(root, rlen, "%s", slash) >= (int)rlen ||
		 root[strlen(root) - 1] == '/' || strstr(root, "//"))
		return -1;
	return 0;
}

static void kv_close(void *kv)
{
	struct kv_zk *z = kv;

	if (z->zh)
		zookeeper_close(z->zh);
	free(z);
}

/* A session with the ensemble, within ZK_CONNECT_MS. */
static void *kv_open(const char *where, char *err, size_t errlen)
{
	struct kv_zk *z = calloc(1, sizeof(*z));
	char hosts[1024];
	int waited;

	if (!z) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	if (!where || split_where(where, hosts, sizeof(hosts), z->root,
				  sizeof(z->root))) {
		snprintf(err, errlen, "%s: expected HOST:PORT[,...][/ROOT]",
			 where ? where : "(no --zk)");
		goto err;
	}
	quiet_once();
	z->zh = zookeeper_init(hosts, NULL, ZK_SESSION_MS, NULL, NULL, 0);
	if (!z->zh) {
		snprintf(err, errlen, "can't use ZooKeeper %s: %s", hosts,
			 strerror(errno));
		goto err;
	}
	for (waited = 0; zoo_state(z->zh) != ZOO_CONNECTED_STATE; waited += 10) {
		if (waited >= ZK_CONNECT_MS) {
			snprintf(err, errlen, "no ZooKeeper session with %s",
				 hosts);
			goto err;
		}
		usleep(10000);
	}
	return z;
err:
	kv_close(z);
	return NULL;
}

static int valid_key(const char *key)
{
	const char *p;

	if (!*key || strlen(key) >= CKPT_COORD_KEY_MAX || *key == '/' ||
	    strstr(key, "//") || key[strlen(key) - 1] == '/')
		return 0;
	for (p = key; *p; p++)
		if (!strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
			    "0123456789._-/", *p))
			return 0;
	return 1;
}

static int path_of(const struct kv_zk *z, const char *key, char *path,
		   size_t len)
{
	if (!valid_key(key)) {
		errno = EINVAL;
		return -1;
	}
	snprintf(path, len, "%s/kv/%s", z->root, key);
	return 0;
}

/* Every parent of path, persistent and empty, as needed. */
static int make_parents(struct kv_zk *z, const char *path)
{
	char p[ZK_PATH_MAX], *s;
	int rc;

	snprintf(p, sizeof(p), "%s", path);
	for (s = strchr(p + 1, '/'); s; s = strchr(s + 1, '/')) {
		*s = '\0';
		rc = zoo_create(z->zh, p, NULL, -1, &ZOO_OPEN_ACL_UNSAFE,
				ZOO_PERSISTENT, NULL, 0);
		*s = '/';
		if (rc != ZOK && rc != ZNODEEXISTS)
			return fail(rc);
	}
	return 0;
}

static int kv_get(void *kv, const char *key, char *val, size_t size)
{
	struct kv_zk *z = kv;
	char path[ZK_PATH_MAX];
	int len = size > 1 ? (int)size - 1 : 0, rc;
	struct Stat st;

	if (path_of(z, key, path, sizeof(path)))
		return -1;
	rc = zoo_get(z->zh, path, 0, val, &len, &st);
	if (rc != ZOK)
		return fail(rc);
	if (st.dataLength < 0 || st.dataLength >= (int)size) {
		errno = ENOSPC;
		return -1;
	}
	val[len < 0 ? 0 : len] = '\0';
	return 0;
}

static int kv_put(void *kv, const char *key, const char *val)
{
	struct kv_zk *z = kv;
	char path[ZK_PATH_MAX];
	int len = strlen(val), rc;

	if (path_of(z, key, path, sizeof(path)))
		return -1;
	if (len >= CKPT_COORD_VAL_MAX) {
		errno = EINVAL;
		return -1;
	}
	rc = zoo_set(z->zh, path, val, len, -1);
	if (rc != ZNONODE)
		return fail(rc);
	if (make_parents(z, path))
		return -1;
	rc = zoo_create(z->zh, path, val, len, &ZOO_OPEN_ACL_UNSAFE,
			ZOO_PERSISTENT, NULL, 0);
	if (rc == ZNODEEXISTS)	/* made meanwhile: ours is the last word */
		rc = zoo_set(z->zh, path, val, len, -1);
	return fail(rc);
}

static int kv_del(void *kv, const char *key)
{
	struct kv_zk *z = kv;
	char path[ZK_PATH_MAX];

	if (path_of(z, key, path, sizeof(path)))
		return -1;
	return fail(zoo_delete(z->zh, path, -1));
}

/* The children of prefix's znode ("jobs/": ROOT/kv/jobs). */
static int kv_list(void *kv, const char *prefix,
		   int (*fn)(const char *key, void *arg), void *arg)
{
	struct kv_zk *z = kv;
	struct String_vector sv = { 0 };
	char path[ZK_PATH_MAX], key[CKPT_COORD_KEY_MAX], dir[CKPT_COORD_KEY_MAX];
	size_t n = strlen(prefix);
	int i, rc, ret = 0;

	if (!n || n >= sizeof(dir) || prefix[n - 1] != '/') {
		errno = EINVAL;
		return -1;
	}
	snprintf(dir, sizeof(dir), "%.*s", (int)(n - 1), prefix);
	if (path_of(z, dir, path, sizeof(path)))
		return -1;
	rc = zoo_get_children(z->zh, path, 0, &sv);
	if (rc == ZNONODE)
		return 0;
	if (rc != ZOK)
		return fail(rc);
	for (i = 0; i < sv.count && !ret; i++)
		if (snprintf(key, sizeof(key), "%s%s", prefix, sv.data[i]) <
		    (int)sizeof(key))
			ret = fn(key, arg);
	deallocate_String_vector(&sv);
	return ret;
}

const struct ckpt_coord_kv_ops coord_kv_zk = {
	.name = "zookeeper",
	.open = kv_open,
	.get = kv_get,
	.put = kv_put,
	.del = kv_del,
	.list = kv_list,
	.close = kv_close,
};

/* ---- the election ---------------------------------------------------- */

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The lowest candidate under ROOT/leader: its name in first (0), or -1
 * (errno ENOENT: none). */
static int lowest(struct kv_zk *z, char *first, size_t len)
{
	struct String_vector sv = { 0 };
	char path[ZK_PATH_MAX];
	int i, best = -1, rc;

	snprintf(path, sizeof(path), "%s/leader", z->root);
	rc = zoo_get_children(z->zh, path, 0, &sv);
	if (rc != ZOK)
		return fail(rc);
	/* n_0000000012: equal lengths, so strcmp orders the sequence */
	for (i = 0; i < sv.count; i++)
		if (best < 0 || strcmp(sv.data[i], sv.data[best]) < 0)
			best = i;
	if (best >= 0)
		snprintf(first, len, "%s", sv.data[best]);
	deallocate_String_vector(&sv);
	if (best < 0)
		errno = ENOENT;
	return best < 0 ? -1 : 0;
}

int coord_zk_elect(void *kv, const char *addr, volatile sig_atomic_t *stop)
{
	struct kv_zk *z = kv;
	char path[ZK_PATH_MAX], first[ZK_PATH_MAX];
	const char *mine;
	int rc, said = 0;

	snprintf(path, sizeof(path), "%s/leader/n_", z->root);
	if (make_parents(z, path))
		goto err;
	rc = zoo_create(z->zh, path, addr, strlen(addr), &ZOO_OPEN_ACL_UNSAFE,
			ZOO_EPHEMERAL_SEQUENTIAL, z->me, sizeof(z->me));
	if (rc != ZOK) {
		fail(rc);
		goto err;
	}
	mine = strrchr(z->me, '/') + 1;
	while (!*stop) {
		if (coord_zk_lost(z)) {
			errno = ENOTCONN;
			goto err;
		}
		/* EAGAIN: the server we were on died (one of an
		 * ensemble); the client moves to another within the
		 * session, unless coord_zk_lost finds it gone */
		if (lowest(z, first, sizeof(first))) {
			if (errno != EAGAIN)
				goto err;
			usleep(100000);
			continue;
		}
		if (!strcmp(first, mine))
			return 0;
		if (!said++)
			pr_info("standing by (%s leads)", first);
		usleep(100000);
	}
	return 1;
err:
	pr_err("can't stand for leader in ZooKeeper: %s", strerror(errno));
	return -1;
}

/* Expired, or cut off for two thirds of the session's timeout: the
 * ensemble may expire it without our hearing (a partition), and then a
 * standby leads. (What we would still write fails without a session:
 * the store itself keeps a deposed leader from committing.) */
int coord_zk_lost(void *kv)
{
	struct kv_zk *z = kv;
	int st = zoo_state(z->zh);
	struct timespec ts;
	long long now;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	now = ts.tv_sec * 1000LL + ts.tv_nsec / 1000000;
	if (st == ZOO_CONNECTED_STATE || !z->last_ok) {
		z->last_ok = now;
		return 0;
	}
	if (st == ZOO_EXPIRED_SESSION_STATE || st == ZOO_AUTH_FAILED_STATE)
		return 1;
	return (now - z->last_ok) * 3 >= zoo_recv_timeout(z->zh) * 2LL;
}

/* ---- the sharded kind: coordinators and the owners of jobs ---------- */

int coord_zk_register(void *kv, const char *addr)
{
	struct kv_zk *z = kv;
	char path[ZK_PATH_MAX];
	int rc;

	snprintf(path, sizeof(path), "%s/coords/n_", z->root);
	if (make_parents(z, path))
		goto err;
	rc = zoo_create(z->zh, path, addr, strlen(addr), &ZOO_OPEN_ACL_UNSAFE,
			ZOO_EPHEMERAL_SEQUENTIAL, z->me, sizeof(z->me));
	if (!fail(rc))
		return 0;
err:
	pr_err("can't register in ZooKeeper: %s", strerror(errno));
	return -1;
}

/* The address in znode path into val (NUL-terminated): 0 or -1. */
static int read_addr(struct kv_zk *z, const char *path, char *val,
		     size_t size)
{
	int n = size - 1, rc = zoo_get(z->zh, path, 0, val, &n, NULL);

	if (rc != ZOK)
		return fail(rc);
	if (n <= 0) {
		errno = ENOENT;
		return -1;
	}
	val[n] = '\0';
	return 0;
}

int coord_zk_claim(void *kv, const char *job, const char *addr, char *owner,
		   size_t size)
{
	struct kv_zk *z = kv;
	char path[ZK_PATH_MAX];
	int rc;

	snprintf(path, sizeof(path), "%s/owner/%s", z->root, job);
	if (make_parents(z, path))
		return -1;
	rc = zoo_create(z->zh, path, addr, strlen(addr), &ZOO_OPEN_ACL_UNSAFE,
			ZOO_EPHEMERAL, NULL, 0);
	if (rc == ZOK)
		return 0;
	if (rc != ZNODEEXISTS)
		return fail(rc);
	if (read_addr(z, path, owner, size))
		return -1;
	if (!strcmp(owner, addr))
		return 0;
	errno = EEXIST;
	return -1;
}

void coord_zk_release(void *kv, const char *job)
{
	struct kv_zk *z = kv;
	char path[ZK_PATH_MAX];

	snprintf(path, sizeof(path), "%s/owner/%s", z->root, job);
	zoo_delete(z->zh, path, -1);
}

/* Per coordinator address, how many jobs it owns. */
struct load {
	char addr[256];
	int jobs;
};

/* The registered coordinator that owns the fewest jobs (the earliest
 * registered among equals) into addr: 0, or -1. */
static int least_loaded(struct kv_zk *z, char *addr, size_t size)
{
	struct String_vector co = { 0 }, ow = { 0 };
	struct load *l = NULL;
	char path[ZK_PATH_MAX * 2], a[256];
	int i, k, best = -1, ret = -1;

	snprintf(path, sizeof(path), "%s/coords", z->root);
	if (fail(zoo_get_children(z->zh, path, 0, &co)) || !co.count)
		goto out;
	/* n_0000000012: equal lengths, so strcmp orders the sequence */
	qsort(co.data, co.count, sizeof(*co.data), cmp_str);
	l = calloc(co.count, sizeof(*l));
	if (!l)
		goto out;
	for (i = 0; i < co.count; i++) {
		snprintf(path, sizeof(path), "%s/coords/%s", z->root,
			 co.data[i]);
		if (read_addr(z, path, l[i].addr, sizeof(l[i].addr)))
			l[i].jobs = -1;		/* gone meanwhile */
	}
	snprintf(path, sizeof(path), "%s/owner", z->root);
	if (zoo_get_children(z->zh, path, 0, &ow) == ZOK)
		for (k = 0; k < ow.count; k++) {
			snprintf(path, sizeof(path), "%s/owner/%s", z->root,
				 ow.data[k]);
			if (read_addr(z, path, a, sizeof(a)))
				continue;
			for (i = 0; i < co.count; i++)
				if (l[i].jobs >= 0 && !strcmp(l[i].addr, a))
					l[i].jobs++;
		}
	for (i = 0; i < co.count; i++)
		if (l[i].jobs >= 0 && (best < 0 || l[i].jobs < l[best].jobs))
			best = i;
	if (best >= 0) {
		snprintf(addr, size, "%s", l[best].addr);
		ret = 0;
	}
out:
	free(l);
	deallocate_String_vector(&co);
	deallocate_String_vector(&ow);
	return ret;
}

/* Where job's members and requests go: its owner, else the standby
 * leader, else the least loaded of the sharded coordinators. */
static int lookup(struct kv_zk *z, const char *job, char *addr, size_t size)
{
	char first[ZK_PATH_MAX], path[ZK_PATH_MAX * 2];

	if (job && *job) {
		snprintf(path, sizeof(path), "%s/owner/%s", z->root, job);
		if (!read_addr(z, path, addr, size))
			return 0;
	}
	if (!lowest(z, first, sizeof(first))) {
		snprintf(path, sizeof(path), "%s/leader/%s", z->root, first);
		if (!read_addr(z, path, addr, size))
			return 0;
	}
	return least_loaded(z, addr, size);
}

int coord_zk_leader(const char *where, const char *job, char *addr,
		    size_t len, char *err, size_t errlen)
{
	struct kv_zk *z = kv_open(where, err, errlen);
	int ret;

	if (!z)
		return -1;
	ret = lookup(z, job, addr, len);
	if (ret)
		snprintf(err, errlen, "no coordinator in ZooKeeper %s", where);
	kv_close(z);
	return ret;
}
