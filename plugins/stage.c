/*
 * Helpers that plugin.h promises to every stage.
 */
#include <stdarg.h>
#include <stdio.h>

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
