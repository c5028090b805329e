/*
 * Helpers that plugin.h promises to every stage.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "plugins/plugin.h"

int ckpt_stage_next_write(struct ckpt_stage *s, const void *buf, size_t len)
{
	struct ckpt_stage *n = s->next;

	if (n->ops->write(n, buf, len)) {
		snprintf(s->error, sizeof(s->error), "%s", n->error);
		return -1;
	}
	return 0;
}

ssize_t ckpt_stage_next_read(struct ckpt_stage *s, void *buf, size_t len)
{
	struct ckpt_stage *n = s->next;
	ssize_t r = n->ops->read(n, buf, len);

	if (r < 0)
		snprintf(s->error, sizeof(s->error), "%s", n->error);
	return r;
}

int ckpt_stage_fail(struct ckpt_stage *s, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(s->error, sizeof(s->error), fmt, ap);
	va_end(ap);
	return -1;
}

const char *ckpt_stage_param(const struct ckpt_stage *s, const char *key)
{
	size_t len = strlen(key);
	int i;

	for (i = 0; i < s->nr_params; i++)
		if (!strncmp(s->params[i], key, len) && s->params[i][len] == '=')
			return s->params[i] + len + 1;
	return NULL;
}
