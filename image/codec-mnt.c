/*
 * codec-mnt: the MOUNT and MNTFILE records (see image.h).
 * MOUNT: u32 id kind flags sb_ro propagation; u64 dev; str point fstype
 * source options host (host: ROOT, BIND and INNER only).
 * NSMOUNT: the same, then u64 ns; u32 gone. Its kinds are those restore
 * makes in a namespace below the root's: TMPFS, PROC, SYSFS, MQUEUE,
 * INNER and COPY (a MOUNT is never a COPY).
 * MNTFILE: u32 mount flags mode uid gid; u64 size rdev offset atime_ns
 * mtime_ns; u32 len; len bytes; str path link (link: symlinks and hard
 * links only).
 * Paths are checked here so that restore writes nothing outside the
 * mounts it makes: no "." or ".." component in any of them.
 */
#include <sys/stat.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "image/image.h"
#include "image/image-priv.h"

const char *img_mnt_kind_name(uint32_t kind)
{
	static const char *const names[] = {
		[IMG_MNT_ROOT] = "root",
		[IMG_MNT_BIND] = "bind",
		[IMG_MNT_TMPFS] = "tmpfs",
		[IMG_MNT_PROC] = "proc",
		[IMG_MNT_SYSFS] = "sysfs",
		[IMG_MNT_MQUEUE] = "mqueue",
		[IMG_MNT_DEVPTS] = "devpts",
		[IMG_MNT_INNER] = "inner",
		[IMG_MNT_OVERLAY] = "overlay",
		[IMG_MNT_CGROUP] = "cgroup",
		[IMG_MNT_COPY] = "copy",
	};

	if (kind && kind <= IMG_MNT_KIND_MAX)
		return names[kind];
	return "unknown";
}

int img_path_under(const char *p, const char *dir)
{
	size_t n = strlen(dir);

	return !strcmp(dir, "/") || (!strncmp(p, dir, n) &&
				     (!p[n] || p[n] == '/'));
}

void img_mnt_late(const struct img_mount *m, uint32_t n, unsigned char *late)
{
	uint32_t i, j;

	for (i = 0; i < n; i++) {
		/* an overlay's layers are host paths: made early */
		late[i] = m[i].kind >= IMG_MNT_PROC &&
			  m[i].kind != IMG_MNT_OVERLAY;
		for (j = 0; j < i && !late[i]; j++)
			late[i] = late[j] && m[i].point && m[j].point &&
				  img_path_under(m[i].point, m[j].point);
	}
}

int img_path_comps_ok(const char *p)
{
	const char *c, *end;
	size_t n;

	if (!*p)
		return 1;
	for (c = p; ; c = end + 1) {
		end = strchrnul(c, '/');
		n = end - c;
		if (!n || (n == 1 && c[0] == '.') ||
		    (n == 2 && c[0] == '.' && c[1] == '.'))
			return 0;
		if (!*end)
			return 1;
	}
}

static int abs_ok(const char *p)
{
	return p && p[0] == '/' && img_path_comps_ok(p + 1);
}

static int ovl_key(const char *t, size_t n)
{
	static const char *const keys[] = { "lowerdir", "lowerdir+",
					    "datadir+", "upperdir", "workdir" };
	size_t i;

	for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		if (strlen(keys[i]) == n && !strncmp(t, keys[i], n))
			return i;
	return -1;
}

int img_ovl_layers(const char *opts,
		   int (*fn)(const char *key, const char *path, void *arg),
		   void *arg)
{
	char *buf = strdup(opts), *t, *v, *p, *save = NULL, *psave;
	int ret = 0, lower = 0, k;

	if (!buf || strchr(buf, '\\'))
		ret = -1;
	for (t = buf && !ret ? strtok_r(buf, ",", &save) : NULL; t && !ret;
	     t = strtok_r(NULL, ",", &save)) {
		v = strchr(t, '=');
		k = v ? ovl_key(t, v - t) : -1;
		if (k < 0)
			continue;
		*v++ = '\0';
		lower |= k <= 1;
		/* lowerdir= is a list: A:B; the others one path */
		if (!*v || (k && strchr(v, ':')) || strstr(v, "::") ||
		    v[strlen(v) - 1] == ':')
			ret = -1;
		psave = NULL;
		for (p = ret ? NULL : strtok_r(v, ":", &psave); p && !ret;
		     p = strtok_r(NULL, ":", &psave))
			ret = abs_ok(p) ? (fn ? fn(t, p, arg) : 0) : -1;
	}
	free(buf);
	return ret ? ret : lower ? 0 : -1;
}

static int rel_ok(const char *p)
{
	return p && p[0] != '/' && img_path_comps_ok(p);
}

int img_enc_mount(struct enc *e, const struct img_mount *m)
{
	int host = m->kind == IMG_MNT_ROOT || m->kind == IMG_MNT_BIND ||
		   m->kind == IMG_MNT_INNER;

	enc_u32(e, m->id);
	enc_u32(e, m->kind);
	enc_u32(e, m->flags);
	enc_u32(e, m->sb_ro);
	enc_u32(e, m->propagation);
	enc_u64(e, m->dev);
	enc_str(e, m->point, 0, "mount point missing");
	enc_str(e, m->fstype, 0, "mount type missing");
	enc_str(e, m->source, 0, "mount source missing");
	enc_str(e, m->options, 0, "mount options missing");
	enc_str(e, m->host, !host, "mount's host path missing");
	return e->err ? -1 : 0;
}

int img_enc_nsmount(struct enc *e, const struct img_mount *m)
{
	img_enc_mount(e, m);
	enc_u64(e, m->ns);
	enc_u32(e, m->gone);
	return e->err ? -1 : 0;
}

static int nested_kind(uint32_t kind)
{
	return kind == IMG_MNT_TMPFS || kind == IMG_MNT_PROC ||
	       kind == IMG_MNT_SYSFS || kind == IMG_MNT_MQUEUE ||
	       kind == IMG_MNT_INNER || kind == IMG_MNT_COPY;
}

static void dec_mount_fields(struct dec *d, struct img_mount *m)
{
	int host;

	dec_u32(d, &m->id);
	dec_u32(d, &m->kind);
	dec_u32(d, &m->flags);
	dec_u32(d, &m->sb_ro);
	dec_u32(d, &m->propagation);
	dec_u64(d, &m->dev);
	dec_str(d, &m->point, 0, "mount point");
	dec_str(d, &m->fstype, 0, "mount type");
	dec_str(d, &m->source, 0, "mount source");
	dec_str(d, &m->options, 0, "mount options");
	dec_str(d, &m->host, 1, "mount's host path");
	host = m->kind == IMG_MNT_ROOT || m->kind == IMG_MNT_BIND ||
	       m->kind == IMG_MNT_INNER;
	dec_check(d, m->kind && m->kind <= IMG_MNT_KIND_MAX,
		  "mount kind %u unknown", m->kind);
	dec_check(d, !(m->flags & ~IMG_MNT_ALL_FLAGS),
		  "unknown mount flags %#x", m->flags);
	dec_check(d, m->sb_ro <= 1 && m->propagation <= IMG_MNT_SLAVE,
		  "bad read-only or propagation of a mount");
	dec_check(d, abs_ok(m->point), "mount point not absolute or with . or ..");
	dec_check(d, host ? abs_ok(m->host) : !m->host,
		  "%s mount with a bad host path", img_mnt_kind_name(m->kind));
	dec_check(d, m->kind != IMG_MNT_OVERLAY ||
		  (m->options && !img_ovl_layers(m->options, NULL, NULL)),
		  "overlay mount with bad layer paths");
	dec_check(d, m->kind != IMG_MNT_CGROUP ||
		  (m->fstype && (!strcmp(m->fstype, "cgroup") ||
				 !strcmp(m->fstype, "cgroup2"))),
		  "cgroup mount of another type");
	dec_check(d, m->kind != IMG_MNT_ROOT ||
		  (m->point && !strcmp(m->point, "/")),
		  "root mount not on /");
}

int img_dec_mount(struct dec *d, struct img_mount *m)
{
	dec_mount_fields(d, m);
	dec_check(d, m->kind != IMG_MNT_COPY, "copy mount in a MOUNT record");
	dec_check(d, m->propagation != IMG_MNT_SLAVE,
		  "slave mount in a MOUNT record");
	return dec_end(d);
}

int img_dec_nsmount(struct dec *d, struct img_mount *m)
{
	dec_mount_fields(d, m);
	dec_u64(d, &m->ns);
	dec_u32(d, &m->gone);
	dec_check(d, nested_kind(m->kind),
		  "%s mount in a namespace below the root's",
		  img_mnt_kind_name(m->kind));
	dec_check(d, m->gone <= (m->kind == IMG_MNT_COPY),
		  "bad gone %u of a mount", m->gone);
	dec_check(d, m->propagation != IMG_MNT_SLAVE ||
		  m->kind == IMG_MNT_COPY || m->kind == IMG_MNT_INNER,
		  "slave %s mount", img_mnt_kind_name(m->kind));
	return dec_end(d);
}

void img_mount_free(struct img_mount *m)
{
	free(m->point);
	free(m->fstype);
	free(m->source);
	free(m->options);
	free(m->host);
	m->point = m->fstype = m->source = m->options = m->host = NULL;
}

int img_enc_mntfile(struct enc *e, const struct img_mntfile *f)
{
	enc_u32(e, f->mount);
	enc_u32(e, f->flags);
	enc_u32(e, f->mode);
	enc_u32(e, f->uid);
	enc_u32(e, f->gid);
	enc_u64(e, f->size);
	enc_u64(e, f->rdev);
	enc_u64(e, f->offset);
	enc_u64(e, f->atime_ns);
	enc_u64(e, f->mtime_ns);
	enc_cap(e, f->len, IMG_MAX_MNT_DATA, "too much data in one MNTFILE");
	enc_u32(e, f->len);
	if (f->len <= IMG_MAX_MNT_DATA)
		enc_bytes(e, f->data, f->len);
	enc_str(e, f->path, 0, "file path missing");
	enc_str(e, f->link, 1, "link target too long");
	return e->err ? -1 : 0;
}

static int mode_ok(uint32_t mode)
{
	return S_ISREG(mode) || S_ISDIR(mode) || S_ISLNK(mode) ||
	       S_ISCHR(mode) || S_ISBLK(mode) || S_ISFIFO(mode);
}

int img_dec_mntfile(struct dec *d, struct img_mntfile *f)
{
	int lnk;

	dec_u32(d, &f->mount);
	dec_u32(d, &f->flags);
	dec_u32(d, &f->mode);
	dec_u32(d, &f->uid);
	dec_u32(d, &f->gid);
	dec_u64(d, &f->size);
	dec_u64(d, &f->rdev);
	dec_u64(d, &f->offset);
	dec_u64(d, &f->atime_ns);
	dec_u64(d, &f->mtime_ns);
	dec_u32(d, &f->len);
	dec_blob(d, &f->data, f->len, IMG_MAX_MNT_DATA, "file data");
	dec_str(d, &f->path, 0, "file path");
	dec_str(d, &f->link, 1, "link target");
	lnk = S_ISLNK(f->mode) || (f->flags & IMG_MNTF_HARDLINK);
	dec_check(d, !(f->flags & ~IMG_MNTF_ALL_FLAGS) && mode_ok(f->mode) &&
		  !(f->mode & ~(S_IFMT | 07777)),
		  "bad flags %#x or mode %#o of a mount's file", f->flags,
		  f->mode);
	dec_check(d, rel_ok(f->path), "mount's file path absolute or with . or ..");
	dec_check(d, lnk ? !!f->link : !f->link, "link target %s",
		  lnk ? "missing" : "of no link");
	dec_check(d, !(f->flags & IMG_MNTF_HARDLINK) || rel_ok(f->link),
		  "hard link to a bad path");
	dec_check(d, !f->len || (S_ISREG(f->mode) &&
		  !(f->flags & IMG_MNTF_HARDLINK) &&
		  f->offset + f->len <= f->size && f->offset <= f->size),
		  "data out of a regular file's size");
	return dec_end(d);
}

void img_mntfile_free(struct img_mntfile *f)
{
	free(f->data);
	free(f->path);
	free(f->link);
	f->data = NULL;
	f->path = f->link = NULL;
}
