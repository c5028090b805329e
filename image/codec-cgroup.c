/*
 * codec-cgroup: the CGROUP record (see image.h): str controllers path;
 * u32 nr_settings; then str name value per setting. Only the controller
 * files below may be named, so that an image makes restore write nothing
 * else under /sys/fs/cgroup.
 */
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "image/image.h"
#include "image/image-priv.h"

static const char *const settable[] = {
	/* cgroup v2 */
	"memory.max", "memory.high", "memory.swap.max", "pids.max",
	"cpu.max", "cpu.weight", "cpuset.cpus", "cpuset.mems", "io.max",
	"io.weight",
	/* cgroup v1 */
	"memory.limit_in_bytes", "memory.soft_limit_in_bytes",
	"memory.memsw.limit_in_bytes", "cpu.cfs_period_us",
	"cpu.cfs_quota_us", "cpu.shares", "blkio.weight",
	/* v1 devices: "a" denied, then each line of devices.list allowed;
	 * write-only files, which the dump's read of each file skips */
	"devices.deny", "devices.allow",
};

const char *img_cg_setting(size_t i)
{
	return i < ARRAY_SIZE(settable) ? settable[i] : NULL;
}

int img_cg_setting_ok(const char *name)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(settable); i++)
		if (!strcmp(name, settable[i]))
			return 1;
	return 0;
}

int img_enc_cgroup(struct enc *e, const struct img_cgroup *cg)
{
	uint32_t i;

	enc_str(e, cg->controllers, 0, "cgroup controllers missing");
	enc_str(e, cg->path, 0, "cgroup path missing");
	enc_cap(e, cg->nr_settings, IMG_MAX_CG_SETTINGS,
		"too many cgroup settings");
	enc_u32(e, cg->nr_settings);
	for (i = 0; i < cg->nr_settings && i < IMG_MAX_CG_SETTINGS; i++) {
		enc_str(e, cg->settings[i].name, 0, "setting name missing");
		enc_str(e, cg->settings[i].value, 0, "setting value missing");
	}
	return e->err ? -1 : 0;
}

/* absolute, no empty, "." or ".." component (but "/" itself) */
static int cg_path_ok(const char *p)
{
	return p && p[0] == '/' && img_path_comps_ok(p + 1);
}

int img_dec_cgroup(struct dec *d, struct img_cgroup *cg)
{
	struct img_cg_setting *s;
	uint32_t i;

	dec_str(d, &cg->controllers, 0, "cgroup controllers");
	dec_str(d, &cg->path, 0, "cgroup path");
	dec_u32(d, &cg->nr_settings);
	if (!dec_count_ok(d, cg->nr_settings, IMG_MAX_CG_SETTINGS, 8,
			  "cgroup settings"))
		return -1;
	if (cg->nr_settings)
		cg->settings = dec_alloc(d, cg->nr_settings *
					 sizeof(*cg->settings));
	for (i = 0; cg->settings && i < cg->nr_settings; i++) {
		s = &cg->settings[i];
		dec_str(d, &s->name, 0, "cgroup setting");
		dec_str(d, &s->value, 0, "cgroup setting value");
		dec_check(d, !s->name || img_cg_setting_ok(s->name),
			  "cgroup setting %s unknown", s->name);
		dec_check(d, !s->value || (strlen(s->value) <=
					   IMG_MAX_CG_VALUE &&
					   !strchr(s->value, '\n')),
			  "cgroup setting %s: bad value", s->name);
	}
	dec_check(d, !cg->controllers || !strchr(cg->controllers, '/'),
		  "cgroup controllers with a /");
	dec_check(d, !cg->path || cg_path_ok(cg->path), "bad cgroup path %s",
		  cg->path);
	return dec_end(d);
}

void img_cgroup_free(struct img_cgroup *cg)
{
	uint32_t i;

	for (i = 0; cg->settings && i < cg->nr_settings; i++) {
		free(cg->settings[i].name);
		free(cg->settings[i].value);
	}
	free(cg->settings);
	free(cg->controllers);
	free(cg->path);
	memset(cg, 0, sizeof(*cg));
}
