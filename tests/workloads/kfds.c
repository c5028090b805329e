/*
 * kfds.c - eventfd, timerfd, signalfd, inotify and an epoll watching them,
 * shared by a parent and its child ("kfds"), or in one process ("kfds
 * single").
 *
 * The child adds 1 to an eventfd every few milliseconds (1000 at first)
 * and writes a byte to a pipe every fourth time; the parent does not read
 * the eventfd before D/restored, so its counter holds thousands at dump
 * time, and at the end the parent's reads must add up to what the child
 * says it added: a counter lost or split in two by the restore shows.
 * With "single" the parent feeds them itself.
 *
 * One epoll watches the eventfd (edge triggered), a 20 ms timerfd, a
 * signalfd for SIGUSR1, the pipe (added under an fd number closed since:
 * the file lives on as a dup) and an inotify instance, each with its own
 * epoll_data; every event must carry the data of a file that is ready.
 * The inotify watch on D/watched is wd 2 (wd 1 was removed): after
 * restore the parent writes that file and the event must say wd 2.
 *
 * Pending at dump time and checked on D/restored (or D/stop without a
 * restore): a realtime timer started 1000 periods of 1 s in the past and
 * never read (at least 1000 expirations), a SIGUSR2 queued with value 4242
 * to a second signalfd, and an EFD_SEMAPHORE eventfd holding 3. After a
 * restore the parent wants, before it accepts D/stop, more ticks, pipe
 * bytes and eventfd counts, an inotify event, and a SIGUSR1 (the runner
 * sends one once the process is back).
 */
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/inotify.h>
#include <sys/signalfd.h>
#include <sys/timerfd.h>
#include <sys/wait.h>
#include <signal.h>

#include "workload.h"

#define D_EFD		0xefd0000000000001ull
#define D_TIMER		0x71e0000000000002ull
#define D_SIG		0x5160000000000003ull
#define D_PIPE		0x9190000000000004ull
#define D_INO		0x1a10000000000005ull
#define TICK_NS		20000000ull
#define SLOW_TICKS	1000
#define USR2_VALUE	4242

struct feed {
	int efd, pipe;
	uint64_t added, bytes;
	unsigned int n;
};

struct st {
	int single, ep, efd, sem, tmain, tslow, sfd1, sfd2, pr, in, wd;
	int ctl, rep;		/* to and from the child */
	pid_t child;
	uint64_t t0, got, ticks, bytes, usr1, ino, deadline;
	int restored, pending_done;
	uint64_t snap_got, snap_ticks, snap_bytes, snap_ino;
	struct feed feed;
};

static void feed_once(struct feed *f)
{
	uint64_t one = 1;

	if (write(f->efd, &one, 8) != 8)
		wl_fail("eventfd write: %s", strerror(errno));
	f->added++;
	if (f->n++ % 4 == 0) {
		if (write(f->pipe, "x", 1) != 1)
			wl_fail("pipe write: %s", strerror(errno));
		f->bytes++;
	}
}

static void feed_start(struct feed *f)
{
	uint64_t v = 1000;

	if (write(f->efd, &v, 8) != 8)
		wl_fail("eventfd write: %s", strerror(errno));
	f->added += v;
}

/* Feeds until the parent closes ctl, then reports the totals. */
static int child(struct feed *f, int ctl, int rep)
{
	char c;
	uint64_t r[2];

	feed_start(f);
	while (read(ctl, &c, 1) < 0 && errno == EAGAIN) {
		feed_once(f);
		wl_sleep_ms(5);
	}
	r[0] = f->added;
	r[1] = f->bytes;
	if (write(rep, r, sizeof(r)) != sizeof(r))
		wl_fail("child: report: %s", strerror(errno));
	return 0;
}

static int xfd(int fd, const char *what)
{
	if (fd < 0)
		wl_fail("%s: %s", what, strerror(errno));
	return fd;
}

static void watch(int ep, int fd, uint32_t events, uint64_t data)
{
	struct epoll_event ev = { .events = events, .data.u64 = data };

	if (epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev))
		wl_fail("epoll_ctl add %d: %s", fd, strerror(errno));
}

static void arm(int fd, int flags, uint64_t value, uint64_t interval)
{
	struct itimerspec its = {
		.it_value = { value / 1000000000, value % 1000000000 },
		.it_interval = { interval / 1000000000,
				 interval % 1000000000 },
	};

	if (timerfd_settime(fd, flags, &its, NULL))
		wl_fail("timerfd_settime: %s", strerror(errno));
}

static void make_timers(struct st *s)
{
	s->tmain = xfd(timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK),
		       "timerfd");
	s->t0 = wl_now_ns(CLOCK_MONOTONIC);
	arm(s->tmain, 0, TICK_NS, TICK_NS);
	s->tslow = xfd(timerfd_create(CLOCK_REALTIME, TFD_NONBLOCK),
		       "timerfd");
	arm(s->tslow, TFD_TIMER_ABSTIME, wl_now_ns(CLOCK_REALTIME) -
	    SLOW_TICKS * 1000000000ull, 1000000000ull);
}

static void make_signalfds(struct st *s)
{
	union sigval v = { .sival_int = USR2_VALUE };
	sigset_t m1, m2, both;

	sigemptyset(&m1);
	sigaddset(&m1, SIGUSR1);
	sigemptyset(&m2);
	sigaddset(&m2, SIGUSR2);
	sigemptyset(&both);
	sigaddset(&both, SIGUSR1);
	sigaddset(&both, SIGUSR2);
	if (sigprocmask(SIG_BLOCK, &both, NULL))
		wl_fail("sigprocmask: %s", strerror(errno));
	s->sfd1 = xfd(signalfd(-1, &m1, SFD_NONBLOCK), "signalfd");
	s->sfd2 = xfd(signalfd(-1, &m2, SFD_NONBLOCK), "signalfd");
	if (sigqueue(getpid(), SIGUSR2, v))
		wl_fail("sigqueue: %s", strerror(errno));
}

/* wd 1 on D, wd 2 on D/watched, then wd 1 removed: a gap to keep */
static void make_inotify(struct st *s)
{
	char p[PATH_MAX], buf[4096];
	int wd1;

	wl_write_file("watched", "0", 1);
	s->in = xfd(inotify_init1(IN_NONBLOCK), "inotify_init1");
	wd1 = inotify_add_watch(s->in, wl_dir, IN_CREATE);
	s->wd = inotify_add_watch(s->in, wl_path(p, "watched"), IN_MODIFY);
	if (wd1 != 1 || s->wd != 2)
		wl_fail("inotify gave wds %d and %d", wd1, s->wd);
	if (inotify_rm_watch(s->in, wd1))
		wl_fail("inotify_rm_watch: %s", strerror(errno));
	while (read(s->in, buf, sizeof(buf)) > 0)
		;	/* IN_IGNORED of wd 1 */
}

static void make_epoll(struct st *s, int pipe_r)
{
	s->ep = xfd(epoll_create1(0), "epoll_create1");
	watch(s->ep, s->efd, EPOLLIN | EPOLLET, D_EFD);
	watch(s->ep, s->tmain, EPOLLIN, D_TIMER);
	watch(s->ep, s->sfd1, EPOLLIN, D_SIG);
	watch(s->ep, pipe_r, EPOLLIN, D_PIPE);
	watch(s->ep, s->in, EPOLLIN, D_INO);
	/* the pipe lives on under another number */
	s->pr = xfd(dup(pipe_r), "dup");
	close(pipe_r);
}

/* 8 bytes from a nonblocking fd epoll said was ready, or a failure */
static uint64_t read_u64(int fd, const char *what)
{
	uint64_t v;

	if (read(fd, &v, 8) != 8)
		wl_fail("epoll said %s was ready, read: %s", what,
			strerror(errno));
	return v;
}

static void on_signal(struct st *s)
{
	struct signalfd_siginfo si;

	if (read(s->sfd1, &si, sizeof(si)) != sizeof(si))
		wl_fail("epoll said the signalfd was ready, read: %s",
			strerror(errno));
	if (si.ssi_signo != SIGUSR1)
		wl_fail("signalfd gave signal %u", si.ssi_signo);
	s->usr1++;
}

static void on_pipe(struct st *s)
{
	char buf[4096];
	ssize_t n = read(s->pr, buf, sizeof(buf));

	if (n <= 0)
		wl_fail("epoll said the pipe was ready, read gave %zd: %s", n,
			n ? strerror(errno) : "end of file");
	s->bytes += n;
}

static void on_inotify(struct st *s)
{
	char buf[4096] __attribute__((aligned(8)));
	struct inotify_event *e;
	ssize_t n = read(s->in, buf, sizeof(buf)), i;

	if (n <= 0)
		wl_fail("epoll said inotify was ready, read: %s",
			strerror(errno));
	for (i = 0; i < n; i += sizeof(*e) + e->len) {
		e = (struct inotify_event *)(buf + i);
		if (e->wd != s->wd || !(e->mask & IN_MODIFY))
			wl_fail("inotify event wd %d mask %#x, want wd %d IN_MODIFY",
				e->wd, e->mask, s->wd);
		s->ino++;
	}
}

static void on_event(struct st *s, uint64_t data)
{
	uint64_t v;

	switch (data) {
	case D_EFD:
		/* edge triggered: a read may find an edge already taken */
		if (s->restored && read(s->efd, &v, 8) == 8)
			s->got += v;
		return;
	case D_TIMER:
		s->ticks += read_u64(s->tmain, "the timerfd");
		return;
	case D_SIG:
		on_signal(s);
		return;
	case D_PIPE:
		on_pipe(s);
		return;
	case D_INO:
		on_inotify(s);
		return;
	}
	wl_fail("epoll_wait gave data %#llx, which no watch has",
		(unsigned long long)data);
}

/* What was pending at dump time: expirations, a signal, a semaphore. */
static void check_pending(struct st *s)
{
	struct signalfd_siginfo si;
	uint64_t v = 0;
	int i;

	s->pending_done = 1;
	if (read(s->tslow, &v, 8) != 8)
		wl_fail("slow timer: no expiration to read: %s",
			strerror(errno));
	if (v < SLOW_TICKS)
		wl_fail("slow timer: %llu expirations, want %d or more",
			(unsigned long long)v, SLOW_TICKS);
	if (read(s->sfd2, &si, sizeof(si)) != sizeof(si) ||
	    si.ssi_signo != SIGUSR2 || si.ssi_int != USR2_VALUE)
		wl_fail("the queued SIGUSR2 is not there (%s)",
			strerror(errno));
	for (i = 0; i < 3; i++)
		if (read(s->sem, &v, 8) != 8 || v != 1)
			wl_fail("semaphore read %d: %s", i, strerror(errno));
	if (read(s->sem, &v, 8) != -1 || errno != EAGAIN)
		wl_fail("semaphore eventfd gave a 4th count");
}

static void on_restored(struct st *s)
{
	char p[PATH_MAX];
	int fd;

	s->restored = 1;
	check_pending(s);
	s->snap_got = s->got;
	s->snap_ticks = s->ticks;
	s->snap_bytes = s->bytes;
	s->snap_ino = s->ino;
	fd = open(wl_path(p, "watched"), O_WRONLY | O_APPEND);
	if (fd < 0 || write(fd, "1", 1) != 1)
		wl_fail("write D/watched: %s", strerror(errno));
	close(fd);
}

/* After a restore, everything must have moved on before D/stop counts. */
static int done_enough(struct st *s)
{
	if (!s->restored)
		return 1;
	if (!s->deadline)
		s->deadline = wl_now_ns(CLOCK_MONOTONIC) + 120000000000ull;
	if (s->ticks >= s->snap_ticks + 3 && s->bytes > s->snap_bytes &&
	    s->got > s->snap_got && s->usr1 && s->ino > s->snap_ino)
		return 1;
	if (wl_now_ns(CLOCK_MONOTONIC) > s->deadline)
		wl_fail("after restore: ticks %llu (from %llu), pipe %llu (from %llu), eventfd %llu (from %llu), SIGUSR1 %llu, inotify %llu",
			(unsigned long long)s->ticks,
			(unsigned long long)s->snap_ticks,
			(unsigned long long)s->bytes,
			(unsigned long long)s->snap_bytes,
			(unsigned long long)s->got,
			(unsigned long long)s->snap_got,
			(unsigned long long)s->usr1,
			(unsigned long long)s->ino);
	return 0;
}

static void run(struct st *s)
{
	struct epoll_event ev[8];
	unsigned long count = 0;
	int cfd = wl_count_open(), n, i;

	for (;;) {
		n = epoll_wait(s->ep, ev, 8, 10);
		/* epoll(7): never restarted after a stop, a ptrace one too */
		if (n < 0 && errno == EINTR)
			n = 0;
		if (n < 0)
			wl_fail("epoll_wait: %s", strerror(errno));
		for (i = 0; i < n; i++)
			on_event(s, ev[i].data.u64);
		wl_count_write(cfd, count++);
		if (count == 20)
			wl_ready();
		if (!s->restored && wl_restored())
			on_restored(s);
		if (s->single)
			feed_once(&s->feed);
		if (wl_should_stop() && done_enough(s))
			break;
	}
}

/* The totals: the eventfd's reads add up, the pipe bytes too, the timer
 * did not tick faster than its period. */
static void check_end(struct st *s, uint64_t added, uint64_t bytes)
{
	uint64_t v, bound;
	char buf[4096];
	ssize_t n;

	if (read(s->efd, &v, 8) == 8)
		s->got += v;
	if (s->got != added)
		wl_fail("eventfd: read %llu in all, %llu added",
			(unsigned long long)s->got, (unsigned long long)added);
	while ((n = read(s->pr, buf, sizeof(buf))) > 0)
		s->bytes += n;
	if (s->bytes != bytes)
		wl_fail("pipe: %llu bytes read, %llu written",
			(unsigned long long)s->bytes,
			(unsigned long long)bytes);
	bound = (wl_now_ns(CLOCK_MONOTONIC) - s->t0) / TICK_NS + 2;
	if (s->ticks > bound || !s->ticks)
		wl_fail("timer: %llu ticks, at most %llu in the time",
			(unsigned long long)s->ticks,
			(unsigned long long)bound);
}

static void end_child(struct st *s, uint64_t r[2])
{
	int status;

	close(s->ctl);
	if (read(s->rep, r, 16) != 16)
		wl_fail("child report: %s", strerror(errno));
	if (waitpid(s->child, &status, 0) != s->child)
		wl_fail("waitpid: %s", strerror(errno));
	if (!WIFEXITED(status) || WEXITSTATUS(status))
		wl_fail("child ended with status %#x", status);
}

static void start_child(struct st *s, int pipe_w)
{
	int ctl[2], rep[2];

	if (pipe2(ctl, O_NONBLOCK) || pipe(rep))
		wl_fail("pipe: %s", strerror(errno));
	s->child = fork();
	if (s->child < 0)
		wl_fail("fork: %s", strerror(errno));
	if (s->child == 0) {
		close(ctl[1]);
		close(rep[0]);
		s->feed.pipe = pipe_w;
		exit(child(&s->feed, ctl[0], rep[1]));
	}
	close(ctl[0]);
	close(rep[1]);
	close(pipe_w);
	s->ctl = ctl[1];
	s->rep = rep[0];
}

int main(int argc, char **argv)
{
	struct st s = { .single = argc > 1 && !strcmp(argv[1], "single") };
	uint64_t r[2];
	int p[2];

	wl_init();
	s.efd = xfd(eventfd(0, EFD_NONBLOCK), "eventfd");
	s.sem = xfd(eventfd(3, EFD_SEMAPHORE | EFD_NONBLOCK), "eventfd");
	if (pipe2(p, O_NONBLOCK))
		wl_fail("pipe: %s", strerror(errno));
	make_timers(&s);
	make_signalfds(&s);
	make_inotify(&s);
	make_epoll(&s, p[0]);
	s.feed.efd = s.efd;
	if (s.single) {
		s.feed.pipe = p[1];
		feed_start(&s.feed);
	} else {
		start_child(&s, p[1]);
	}
	run(&s);
	if (!s.pending_done)
		check_pending(&s);
	if (s.single) {
		r[0] = s.feed.added;
		r[1] = s.feed.bytes;
	} else {
		end_child(&s, r);
	}
	check_end(&s, r[0], r[1]);
	return 0;
}
