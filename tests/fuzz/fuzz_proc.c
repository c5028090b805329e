/*
 * fuzz_proc: libFuzzer entry for the text parsers of /proc: smaps (with
 * VmFlags), stat, status, timers, mountinfo, and the fdinfo of each fd kind ckpt reads (eventfd,
 * signalfd, epoll, inotify, and the lock: lines of any fd). Each input is
 * given to every parser, through the same functions that parse what ckpt
 * read from /proc, so that seeds need no tag saying which file they are.
 *
 * The epoll parser looks each watch up among the tree's files with kcmp:
 * the tree here holds one real epoll fd of ours, watching a pipe, so
 * that lookups can succeed. Logging is silenced to keep it fast.
 */
#include <sys/epoll.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ckpt/dump-priv.h"
#include "util/proc.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* dump-locks.c's error path asks whether the target died: none here */
int dump_gone(const struct dump_ctx *c)
{
	(void)c;
	return 0;
}

static struct dump_file ep_file;
static struct dump_tree tree = { .files = &ep_file, .nr_files = 1 };

static int setup(void)
{
	struct epoll_event ev = { .events = EPOLLIN };
	int p[2], ep;

	log_init("fuzz_proc", -1);
	ep = epoll_create1(EPOLL_CLOEXEC);
	if (ep < 0 || pipe2(p, O_CLOEXEC) || epoll_ctl(ep, EPOLL_CTL_ADD,
						       p[0], &ev))
		abort();
	ep_file.pid = getpid();
	ep_file.fd = ep;
	ep_file.f.id = 1;
	ep_file.f.kind = IMG_FILE_EPOLL;
	return 0;
}

static void kfds(const char *text)
{
	static const uint32_t kinds[] = {
		IMG_FILE_EVENTFD, IMG_FILE_SIGNALFD, IMG_FILE_EPOLL,
		IMG_FILE_INOTIFY,
	};
	struct dump_file df;
	size_t i;

	for (i = 0; i < ARRAY_SIZE(kinds); i++) {
		df = ep_file;
		df.f.id = 2;
		df.f.kind = kinds[i];
		if (dump_kfd_info(&tree, &df, text))
			errno = 0;
		img_file_free(&df.f);
	}
}

static void status(const char *text)
{
	struct img_pstate ps = { 0 };
	struct img_proc p = { 0 };

	if (dump_status_info(text, &p))
		errno = 0;
	free(p.groups);
	if (dump_timers_info(text, 1, &ps))
		errno = 0;
	free(ps.timers);
}

/* line by line, as open_mount reads it */
static void mountinfo(const char *text)
{
	char mnt[PATH_MAX];
	const char *p;
	dev_t dev;

	for (p = text; p; p = strchr(p, '\n'), p = p ? p + 1 : NULL)
		if (dump_mountinfo_line(p, &dev, mnt))
			errno = 0;
}

static void locks(const char *text)
{
	struct img_fd f = { .fd = 3, .type = IMG_FD_FILE };
	struct dump_ctx c = { .pid = getpid() };

	if (dump_locks_info(&c, &f, text))
		errno = 0;
	free(c.proc.locks);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int ready;
	struct proc_map *maps;
	struct proc_stat st;
	char *text;
	int n;

	if (!ready)
		ready = !setup();
	text = malloc(size + 1);
	if (!text)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	if (!proc_parse_stat_buf(text, &st))
		errno = 0;
	status(text);
	mountinfo(text);
	kfds(text);
	locks(text);
	/* last: it cuts the text up */
	n = proc_parse_maps_buf(text, &maps);
	if (n >= 0)
		proc_free_maps(maps, n);
	free(text);
	return 0;
}
