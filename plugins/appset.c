/*
 * appset: application plugins (app.h) as ckpt and restore hold them: each
 * loaded from its path, called at every event, the records it puts while
 * the tree is frozen kept until the image's writer takes them, and handed
 * back by get() from the image at restore.
 */
#include <dlfcn.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "plugins/appset.h"
#include "util/util.h"

static const char *const event_names[] = {
	[CKPT_APP_BEFORE_FREEZE] = "before-freeze",
	[CKPT_APP_FROZEN] = "frozen",
	[CKPT_APP_THAWED] = "thawed",
	[CKPT_APP_COMMITTED] = "committed",
	[CKPT_APP_BEFORE_CREATE] = "before-create",
	[CKPT_APP_BEFORE_RUN] = "before-run",
	[CKPT_APP_RUNNING] = "running",
};

static struct app_set *set_of(struct ckpt_app *a)
{
	return a->host;
}

static int app_put(struct ckpt_app *a, const void *buf, size_t len)
{
	struct app_set *s = set_of(a);
	struct img_app *r;

	if (!s->put_ok || len > IMG_MAX_APP_DATA || (len && !buf)) {
		snprintf(a->error, sizeof(a->error), "%s",
			 s->put_ok ? "record too large" :
			 "records are put while the tree is frozen only");
		return -1;
	}
	if (s->nr_recs == s->cap_recs) {
		uint32_t cap = s->cap_recs ? 2 * s->cap_recs : 8;

		r = cap <= IMG_MAX_APPS ?
		    realloc(s->recs, cap * sizeof(*r)) : NULL;
		if (!r)
			goto nomem;
		s->recs = r;
		s->cap_recs = cap;
	}
	r = &s->recs[s->nr_recs];
	r->name = strdup(a->ops->name);
	r->len = len;
	r->data = len ? malloc(len) : NULL;
	if (!r->name || (len && !r->data)) {
		free(r->name);
		free(r->data);
		goto nomem;
	}
	if (len)
		memcpy(r->data, buf, len);
	s->nr_recs++;
	return 0;
nomem:
	snprintf(a->error, sizeof(a->error), "out of memory");
	return -1;
}

static const void *app_get(struct ckpt_app *a, unsigned n, size_t *len)
{
	const struct image *img = set_of(a)->img;
	uint32_t i;

	for (i = 0; img && i < img->nr_apps; i++) {
		if (strcmp(img->apps[i].name, a->ops->name))
			continue;
		if (n--)
			continue;
		*len = img->apps[i].len;
		/* an empty record is no NULL: NULL is the end */
		return img->apps[i].data ? (const void *)img->apps[i].data :
		       (const void *)"";
	}
	*len = 0;
	return NULL;
}

/* The plugin of slot p, from its shared object. */
static int load(struct app_set *s, struct app_slot *p)
{
	const struct ckpt_app_ops *ops;
	int i;

	p->dl = dlopen(p->path, RTLD_NOW | RTLD_LOCAL);
	if (!p->dl) {
		pr_err("can't load plugin %s: %s", p->path, dlerror());
		return -1;
	}
	ops = dlsym(p->dl, "ckpt_app_plugin");
	if (!ops || ops->api_version != CKPT_APP_API || !ops->event ||
	    !ops->name || !img_app_name_ok(ops->name)) {
		pr_err("plugin %s: %s", p->path, !ops ?
		       "no ckpt_app_plugin in it" :
		       ops->api_version != CKPT_APP_API ?
		       "made for another API version" :
		       "no event function or a bad name");
		return -1;
	}
	for (i = 0; i < s->n - 1; i++)
		if (!strcmp(s->slot[i].a.ops->name, ops->name)) {
			pr_err("plugin %s: a plugin named %s is loaded already",
			       p->path, ops->name);
			return -1;
		}
	p->a.ops = ops;
	p->a.host = s;
	p->a.put = app_put;
	p->a.get = app_get;
	return 0;
}

int app_set_add(struct app_set *s, const char *spec)
{
	const char *eq = strchr(spec, '=');	/* PATH has none */
	struct app_slot *p;

	if (s->n == APP_MAX) {
		pr_err("at most %d plugins", APP_MAX);
		return -1;
	}
	p = &s->slot[s->n++];
	memset(p, 0, sizeof(*p));
	p->path = eq ? strndup(spec, eq - spec) : strdup(spec);
	p->a.arg = eq ? eq + 1 : NULL;
	if (!p->path) {
		pr_err("out of memory");
		s->n--;
		return -1;
	}
	return load(s, p);
}

int app_set_event(struct app_set *s, enum ckpt_app_event ev, pid_t pid,
		  const char *image, int veto)
{
	struct ckpt_app *a;
	int i, r;

	s->put_ok = ev == CKPT_APP_FROZEN;
	for (i = 0; i < s->n; i++) {
		a = &s->slot[i].a;
		if (!a->ops)
			continue;
		a->pid = pid;
		a->image = image;
		a->error[0] = '\0';
		r = a->ops->event(a, ev);
		if (!r)
			continue;
		if (!a->error[0])
			snprintf(a->error, sizeof(a->error), "no reason given");
		if (!veto) {
			pr_warn("plugin %s failed at %s: %s", a->ops->name,
				event_names[ev], a->error);
			continue;
		}
		pr_err("plugin %s refused the %s at %s: %s", a->ops->name,
		       ev <= CKPT_APP_COMMITTED ? "checkpoint" : "restore",
		       event_names[ev], a->error);
		s->put_ok = 0;
		return -1;
	}
	s->put_ok = 0;
	return 0;
}

int app_set_write(struct app_set *s, struct img_writer *w)
{
	uint32_t i;

	for (i = 0; i < s->nr_recs; i++)
		if (img_write_app(w, &s->recs[i]))
			return -1;
	return 0;
}

static int loaded(const struct app_set *s, const char *name)
{
	int i;

	for (i = 0; i < s->n; i++)
		if (s->slot[i].a.ops && !strcmp(s->slot[i].a.ops->name, name))
			return 1;
	return 0;
}

void app_set_image(struct app_set *s, const struct image *img)
{
	uint32_t i, k;

	s->img = img;
	for (i = 0; i < img->nr_apps; i++) {
		for (k = 0; k < i; k++)
			if (!strcmp(img->apps[k].name, img->apps[i].name))
				break;
		if (k == i && !loaded(s, img->apps[i].name))
			pr_warn("the image has records of plugin %s, not loaded: they are ignored",
				img->apps[i].name);
	}
}

void app_set_free(struct app_set *s)
{
	uint32_t i;
	int k;

	for (k = 0; k < s->n; k++) {
		struct app_slot *p = &s->slot[k];

		if (p->a.ops && p->a.ops->fini)
			p->a.ops->fini(&p->a);
		/* never dlclose(): a plugin may have left threads or
		 * atexit handlers behind */
		free(p->path);
	}
	s->n = 0;
	for (i = 0; i < s->nr_recs; i++) {
		free(s->recs[i].name);
		free(s->recs[i].data);
	}
	free(s->recs);
	s->recs = NULL;
	s->nr_recs = s->cap_recs = 0;
}
