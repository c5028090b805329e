/*
 * appnote: an example application plugin (ckpt-app-plugin(7)). It logs
 * every event it is told to the file its argument names, keeps a note in
 * the image while the tree is frozen (the root's command line and the
 * time) and, at restore, reads the note back into its log. With
 * ":veto=EVENT" after the log's path it refuses at that event, to show
 * how a plugin stops a checkpoint or a restore.
 *
 *	ckpt attach --plugin appnote.so=/tmp/log PID
 *	restore --plugin appnote.so=/tmp/log PID.ckpt
 *
 * Built on its own against <ckpt/app.h>:
 *	cc -shared -fPIC $(pkg-config --cflags ckpt-plugin) -o appnote.so appnote.c
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "plugins/app.h"

static const char *const names[] = {
	[CKPT_APP_BEFORE_FREEZE] = "before-freeze",
	[CKPT_APP_FROZEN] = "frozen",
	[CKPT_APP_THAWED] = "thawed",
	[CKPT_APP_COMMITTED] = "committed",
	[CKPT_APP_BEFORE_CREATE] = "before-create",
	[CKPT_APP_BEFORE_RUN] = "before-run",
	[CKPT_APP_RUNNING] = "running",
};

/* One line "WORD REST" appended to the log. */
static int say(struct ckpt_app *a, const char *word, const char *rest)
{
	char path[512], *colon;
	FILE *f;

	snprintf(path, sizeof(path), "%s", a->arg ? a->arg : "/dev/null");
	colon = strchr(path, ':');
	if (colon)
		*colon = '\0';
	f = fopen(path, "a");
	if (!f) {
		snprintf(a->error, sizeof(a->error), "can't open %.200s", path);
		return -1;
	}
	fprintf(f, "%s %s\n", word, rest);
	return fclose(f) ? -1 : 0;
}

/* The root's command line, NULs as spaces, and the time. */
static int put_note(struct ckpt_app *a)
{
	char path[64], note[600];
	ssize_t n, i;
	int fd, off;

	snprintf(path, sizeof(path), "/proc/%d/cmdline", (int)a->pid);
	fd = open(path, O_RDONLY);
	off = snprintf(note, sizeof(note), "note %ld: ", (long)time(NULL));
	n = fd < 0 ? 0 : read(fd, note + off, sizeof(note) - off - 1);
	if (fd >= 0)
		close(fd);
	for (i = 0; i < n; i++)
		if (!note[off + i])
			note[off + i] = ' ';
	n = n > 0 ? n : 0;
	while (n > 0 && note[off + n - 1] == ' ')
		n--;
	note[off + n] = '\0';
	return a->put(a, note, strlen(note)) ||
	       say(a, "put", note);
}

/* Every record of ours in the image, into the log. */
static int get_notes(struct ckpt_app *a)
{
	const char *rec;
	char line[1100];
	size_t len;
	unsigned i;

	for (i = 0; (rec = a->get(a, i, &len)); i++) {
		snprintf(line, sizeof(line), "%.*s", (int)len, rec);
		if (say(a, "got", line))
			return -1;
	}
	return i ? 0 : say(a, "got", "no record");
}

static int appnote_event(struct ckpt_app *a, enum ckpt_app_event ev)
{
	const char *veto = a->arg ? strstr(a->arg, ":veto=") : NULL;
	char pid[16];

	snprintf(pid, sizeof(pid), "%d", (int)a->pid);
	if (say(a, names[ev], pid))
		return -1;
	if (veto && !strcmp(veto + 6, names[ev])) {
		snprintf(a->error, sizeof(a->error), "asked to refuse at %s",
			 names[ev]);
		return -1;
	}
	if (ev == CKPT_APP_FROZEN)
		return put_note(a);
	if (ev == CKPT_APP_BEFORE_CREATE)
		return get_notes(a);
	return 0;
}

const struct ckpt_app_ops ckpt_app_plugin = {
	.api_version = CKPT_APP_API,
	.name = "appnote",
	.event = appnote_event,
};
