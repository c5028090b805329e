/*
 * Fault points (util/fault.h).
 */
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "util/fault.h"

static const char *fault_name;
static size_t fault_len;
static long fault_left;
static int fault_read;
static int fault_sig = SIGKILL;

static void fault_init(void)
{
	const char *v = getenv("CKPT_FAULT"), *colon;
	size_t len;

	fault_read = 1;
	if (!v || !*v)
		return;
	len = strlen(v);
	if (len > 5 && !strcmp(v + len - 5, ":stop")) {
		fault_sig = SIGSTOP;
		len -= 5;
	}
	colon = memchr(v, ':', len);
	fault_name = v;
	fault_len = colon ? (size_t)(colon - v) : len;
	fault_left = colon ? strtol(colon + 1, NULL, 10) : 1;
	if (fault_left < 1)
		fault_left = 1;
}

void fault_point(const char *name)
{
	if (!fault_read)
		fault_init();
	if (!fault_name || strlen(name) != fault_len ||
	    strncmp(name, fault_name, fault_len))
		return;
	if (--fault_left == 0)
		kill(getpid(), fault_sig);
}

void fault_off(void)
{
	fault_read = 1;
	fault_name = NULL;
}
