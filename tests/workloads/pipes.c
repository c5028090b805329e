/*
 * pipes.c - pipes and a FIFO between a parent and its child, full of
 * bytes in flight at dump time.
 *
 * The parent streams numbered 8-byte records to the child through pipe
 * "down" faster than the child reads them, so the pipe is full whenever
 * the tree is frozen; the child checks that every record comes exactly
 * once and in order, and answers every 16th on pipe "up" (which the
 * parent drains without blocking) and every 64th through the FIFO D/fifo.
 * The parent also holds "down" a second time through dup() (one open
 * file description under two fds) and the child a third pipe, "tail",
 * whose writer closed long ago with 12 bytes left in it: after D/stop the
 * child must read exactly those bytes and then end of file.
 *
 * Both also write numbered lines into D/shared through one open file
 * description made before the fork, without O_APPEND: they share its
 * offset, so that no line overwrites another (two separate opens after
 * restore would).
 *
 * On D/stop the parent closes "down"; the child reads what is left, the
 * tail, and exits 0 with the counts right; the parent reaps it and checks
 * the last answers it got, and that D/shared holds every line of both,
 * each in order. Any lost, repeated or reordered record fails.
 */
#include <sys/stat.h>
#include <sys/wait.h>

#include "workload.h"

#define TAIL		"tail-of-pipe"
#define TAIL_LEN	12
#define LINE_LEN	10	/* "P%08lu\n" */

static int shared_fd;

static void put_line(char who, unsigned long n)
{
	char buf[LINE_LEN + 1];

	snprintf(buf, sizeof(buf), "%c%08lu\n", who, n);
	if (write(shared_fd, buf, LINE_LEN) != LINE_LEN)
		wl_fail("write shared: %s", strerror(errno));
}

/* Every line of who, numbered from 0, in order; returns how many. */
static unsigned long count_lines_of(const char *buf, size_t len, char who)
{
	unsigned long n = 0;
	size_t i;

	for (i = 0; i + LINE_LEN <= len; i += LINE_LEN) {
		if (buf[i] != 'P' && buf[i] != 'C')
			wl_fail("shared: garbage at %zu: '%.10s'", i, buf + i);
		if (buf[i] != who)
			continue;
		if (strtoul(buf + i + 1, NULL, 10) != n)
			wl_fail("shared: %c line %.8s where %lu was due", who,
				buf + i + 1, n);
		n++;
	}
	return n;
}

static void put_rec(int fd, uint64_t v)
{
	if (write(fd, &v, sizeof(v)) != sizeof(v))
		wl_fail("write record %llu: %s", (unsigned long long)v,
			strerror(errno));
}

/* 1 with a record, 0 at end of file (or nothing yet, nonblocking). */
static int get_rec(int fd, uint64_t *v, const char *what)
{
	ssize_t n = read(fd, v, sizeof(*v));

	if (n == sizeof(*v))
		return 1;
	if (n == 0 || (n < 0 && errno == EAGAIN))
		return 0;
	wl_fail("%s: read gave %zd (%s): records are 8 bytes", what, n,
		n < 0 ? strerror(errno) : "short");
}

static int child(int down, int up, int tail)
{
	char path[PATH_MAX];
	uint64_t v, want = 0;
	unsigned long lines = 0;
	int fifo;

	fifo = open(wl_path(path, "fifo"), O_WRONLY);
	if (fifo < 0)
		wl_fail("child: open fifo: %s", strerror(errno));
	while (get_rec(down, &v, "child")) {
		if (v != want)
			wl_fail("child: record %llu where %llu was due",
				(unsigned long long)v,
				(unsigned long long)want);
		want++;
		if (want % 16 == 0)
			put_rec(up, want);
		if (want % 64 == 0) {
			put_rec(fifo, want);
			put_line('C', lines++);
		}
		if (want % 64 == 0)
			wl_sleep_ms(1);
	}
	wl_check_rest(tail, TAIL, strlen(TAIL), "tail pipe");
	wl_write_file("child.lines", &lines, sizeof(lines));
	put_rec(up, ~0ull);
	wl_info("child: %llu records", (unsigned long long)want);
	return 0;
}

/* Answers come in steps of 16 (up) and 64 (FIFO), in order. */
static void check_answers(int fd, uint64_t *last, uint64_t step,
			  const char *what)
{
	uint64_t v;

	while (get_rec(fd, &v, what)) {
		if (v == ~0ull)
			return;
		if (v != *last + step)
			wl_fail("%s: answer %llu after %llu", what,
				(unsigned long long)v,
				(unsigned long long)*last);
		*last = v;
	}
}

static char *read_all(const char *name, size_t *len)
{
	char path[PATH_MAX], *buf = NULL;
	size_t cap = 0;
	ssize_t n;
	int fd = open(wl_path(path, name), O_RDONLY);

	if (fd < 0)
		wl_fail("open %s: %s", name, strerror(errno));
	*len = 0;
	do {
		if (*len == cap) {
			cap = cap ? cap * 2 : 65536;
			buf = realloc(buf, cap);
			if (!buf)
				wl_fail("out of memory");
		}
		n = read(fd, buf + *len, cap - *len);
		if (n < 0)
			wl_fail("read %s: %s", name, strerror(errno));
		*len += n;
	} while (n > 0);
	close(fd);
	return buf;
}

static void check_shared(unsigned long plines)
{
	unsigned long clines, *cl;
	size_t len, clen;
	char *buf = read_all("shared", &len);

	cl = (unsigned long *)read_all("child.lines", &clen);
	if (clen != sizeof(*cl))
		wl_fail("child.lines has %zu bytes", clen);
	clines = *cl;
	if (len != (plines + clines) * LINE_LEN)
		wl_fail("shared has %zu bytes, %lu + %lu lines were written",
			len, plines, clines);
	if (count_lines_of(buf, len, 'P') != plines ||
	    count_lines_of(buf, len, 'C') != clines)
		wl_fail("shared: lines missing");
	free(buf);
	free(cl);
}

static void nonblock(int fd)
{
	if (fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK))
		wl_fail("fcntl: %s", strerror(errno));
}

int main(void)
{
	int down[2], up[2], tail[2], fifo, alias, status, cfd;
	uint64_t sent = 0, up_last = 0, fifo_last = 0;
	char path[PATH_MAX];
	unsigned long n = 0, plines = 0;
	pid_t pid;
	int i;

	wl_init();
	shared_fd = open(wl_path(path, "shared"), O_WRONLY | O_CREAT | O_TRUNC,
			 0644);
	if (shared_fd < 0)
		wl_fail("open shared: %s", strerror(errno));
	if (mkfifo(wl_path(path, "fifo"), 0600) && errno != EEXIST)
		wl_fail("mkfifo: %s", strerror(errno));
	if (pipe(down) || pipe(up) || pipe(tail))
		wl_fail("pipe: %s", strerror(errno));
	if (write(tail[1], TAIL, TAIL_LEN) != TAIL_LEN)
		wl_fail("write tail: %s", strerror(errno));
	pid = fork();
	if (pid < 0)
		wl_fail("fork: %s", strerror(errno));
	if (pid == 0) {
		close(down[1]);
		close(up[0]);
		close(tail[1]);
		exit(child(down[0], up[1], tail[0]));
	}
	close(down[0]);
	close(up[1]);
	close(tail[0]);
	close(tail[1]);
	fifo = open(path, O_RDONLY);
	if (fifo < 0)
		wl_fail("open fifo: %s", strerror(errno));
	nonblock(up[0]);
	nonblock(fifo);
	alias = dup(down[1]);
	cfd = wl_count_open();
	for (;;) {
		/* through either fd: one description, one stream */
		for (i = 0; i < 256; i++)
			put_rec(i % 2 ? alias : down[1], sent++);
		check_answers(up[0], &up_last, 16, "up");
		check_answers(fifo, &fifo_last, 64, "fifo");
		put_line('P', plines++);
		wl_count_write(cfd, n++);
		if (n == 20)
			wl_ready();
		if (wl_should_stop())
			break;
		wl_sleep_ms(1);
	}
	close(down[1]);
	close(alias);
	if (fcntl(up[0], F_SETFL, 0))
		wl_fail("fcntl: %s", strerror(errno));
	check_answers(up[0], &up_last, 16, "up");
	if (waitpid(pid, &status, 0) != pid)
		wl_fail("waitpid: %s", strerror(errno));
	if (!WIFEXITED(status) || WEXITSTATUS(status))
		wl_fail("child ended with status %#x", status);
	if (up_last != sent - sent % 16)
		wl_fail("last answer %llu, %llu records sent",
			(unsigned long long)up_last,
			(unsigned long long)sent);
	check_answers(fifo, &fifo_last, 64, "fifo");
	if (fifo_last != sent - sent % 64)
		wl_fail("last FIFO answer %llu, %llu records sent",
			(unsigned long long)fifo_last,
			(unsigned long long)sent);
	check_shared(plines);
	return 0;
}
