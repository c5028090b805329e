/*
 * appset.h: how ckpt and restore load application plugins (app.h,
 * ckpt-app-plugin(7)) and call them at the events of a checkpoint or a
 * restore. Not installed: plugins see app.h only.
 */
#ifndef CKPT_APPSET_H
#define CKPT_APPSET_H

#include <sys/types.h>

#include "image/image.h"
#include "plugins/app.h"

#define APP_MAX		8	/* --plugin options */

struct app_slot {
	struct ckpt_app a;
	char *path;		/* as given, without =ARG */
	void *dl;		/* dlopen() handle, or NULL */
};

struct app_set {
	int n;
	struct app_slot slot[APP_MAX];
	/* records put at FROZEN, written by app_set_write() */
	struct img_app *recs;
	uint32_t nr_recs, cap_recs;
	const struct image *img;	/* restore: where get() reads */
	int put_ok;		/* put() allowed now (FROZEN) */
};

/* --plugin PATH[=ARG] (PATH has no '='): loaded at once. 0 or -1, said why. */
int app_set_add(struct app_set *s, const char *spec) __must_check;
/*
 * Every plugin told of ev, in the order given; pid and image as app.h
 * describes. With veto set, the first failure stops the calls and is
 * returned as -1 after a message naming the plugin; otherwise failures
 * are warnings and 0 is returned.
 */
int app_set_event(struct app_set *s, enum ckpt_app_event ev, pid_t pid,
		  const char *image, int veto) __must_check;
/* The records put at FROZEN, as APP records. */
int app_set_write(struct app_set *s, struct img_writer *w) __must_check;
/* restore: the image whose APP records get() reads; records no plugin
 * loaded takes are said (they are ignored). */
void app_set_image(struct app_set *s, const struct image *img);
void app_set_free(struct app_set *s);

#endif
