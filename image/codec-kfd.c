/*
 * codec-kfd: the FILE fields of the kernel objects a process makes with a
 * system call and no path (eventfd, epoll, signalfd, timerfd, inotify).
 * They follow the fields every FILE has; each kind has its own, and the
 * decoder checks what can be checked of one record alone. That an epoll
 * watches files of the image is checked once every FILE is in
 * (semantics.c), since it may watch a file of a higher id.
 */
#include <sys/epoll.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "image/image.h"
#include "image/image-priv.h"

/* epoll watch: u32 file, i32 tfd, u32 events, u64 data */
#define EP_WATCH_SIZE	20
/* inotify watch: i32 wd, u32 mask, u64 dev ino, str path (>= 4) */
#define IN_WATCH_MIN	28

int img_kfd_kind(uint32_t kind)
{
	return kind >= IMG_FILE_EVENTFD && kind <= IMG_FILE_INOTIFY;
}

/* ---- encoder ------------------------------------------------------------ */

static void enc_epoll(struct enc *e, const struct img_file *f)
{
	uint32_t i;

	enc_cap(e, f->ep.nr, IMG_MAX_WATCHES, "too many epoll watches");
	enc_u32(e, f->ep.nr);
	for (i = 0; f->ep.nr <= IMG_MAX_WATCHES && i < f->ep.nr; i++) {
		enc_u32(e, f->ep.w[i].file);
		enc_u32(e, f->ep.w[i].tfd);
		enc_u32(e, f->ep.w[i].events);
		enc_u64(e, f->ep.w[i].data);
	}
}

static void enc_inotify(struct enc *e, const struct img_file *f)
{
	uint32_t i;

	enc_cap(e, f->in.nr, IMG_MAX_WATCHES, "too many inotify watches");
	enc_u32(e, f->in.nr);
	for (i = 0; f->in.nr <= IMG_MAX_WATCHES && i < f->in.nr; i++) {
		enc_u32(e, f->in.w[i].wd);
		enc_u32(e, f->in.w[i].mask);
		enc_u64(e, f->in.w[i].dev);
		enc_u64(e, f->in.w[i].ino);
		enc_str(e, f->in.w[i].path, 0, "inotify watch without path");
	}
}

/*
 * EVENTFD: u64 count, u32 semaphore
 * SIGNALFD: u64 sigmask
 * TIMERFD: u32 clockid flags; u64 ticks value_ns interval_ns
 * EPOLL: u32 nr, nr x watch; INOTIFY: u32 nr, nr x watch
 */
void img_enc_kfd(struct enc *e, const struct img_file *f)
{
	switch (f->kind) {
	case IMG_FILE_EVENTFD:
		enc_u64(e, f->efd.count);
		enc_u32(e, f->efd.semaphore);
		break;
	case IMG_FILE_SIGNALFD:
		enc_u64(e, f->sfd.sigmask);
		break;
	case IMG_FILE_TIMERFD:
		enc_u32(e, f->tfd.clockid);
		enc_u32(e, f->tfd.flags);
		enc_u64(e, f->tfd.ticks);
		enc_u64(e, f->tfd.value_ns);
		enc_u64(e, f->tfd.interval_ns);
		break;
	case IMG_FILE_EPOLL:
		enc_epoll(e, f);
		break;
	case IMG_FILE_INOTIFY:
		enc_inotify(e, f);
		break;
	}
}

/* ---- decoder ------------------------------------------------------------ */

static int realtime_clock(uint32_t clk)
{
	return clk == CLOCK_REALTIME || clk == CLOCK_REALTIME_ALARM;
}

static int timerfd_clock(uint32_t clk)
{
	return realtime_clock(clk) || clk == CLOCK_MONOTONIC ||
	       clk == CLOCK_BOOTTIME || clk == CLOCK_BOOTTIME_ALARM;
}

static void dec_timerfd(struct dec *d, struct img_file *f)
{
	dec_u32(d, &f->tfd.clockid);
	dec_u32(d, &f->tfd.flags);
	dec_u64(d, &f->tfd.ticks);
	dec_u64(d, &f->tfd.value_ns);
	dec_u64(d, &f->tfd.interval_ns);
	dec_check(d, timerfd_clock(f->tfd.clockid), "file %u: bad clock %u",
		  f->id, f->tfd.clockid);
	dec_check(d, !(f->tfd.flags & ~(IMG_TFD_ABSTIME |
					IMG_TFD_CANCEL_ON_SET)),
		  "file %u: bad timer flags %#x", f->id, f->tfd.flags);
	/* an absolute time means nothing on another boot's clocks */
	dec_check(d, !(f->tfd.flags & IMG_TFD_ABSTIME) ||
		  realtime_clock(f->tfd.clockid),
		  "file %u: absolute time on clock %u", f->id,
		  f->tfd.clockid);
	dec_check(d, !(f->tfd.flags & IMG_TFD_CANCEL_ON_SET) ||
		  (f->tfd.flags & IMG_TFD_ABSTIME),
		  "file %u: cancel on set without absolute time", f->id);
}

static void dec_epoll(struct dec *d, struct img_file *f)
{
	struct img_epoll_watch *w;
	uint32_t i;

	dec_u32(d, &f->ep.nr);
	if (!dec_count_ok(d, f->ep.nr, IMG_MAX_WATCHES, EP_WATCH_SIZE,
			  "epoll watches") || !f->ep.nr)
		return;
	f->ep.w = dec_alloc(d, (size_t)f->ep.nr * sizeof(*f->ep.w));
	for (i = 0; f->ep.w && i < f->ep.nr; i++) {
		w = &f->ep.w[i];
		dec_u32(d, &w->file);
		dec_i32(d, &w->tfd);
		dec_u32(d, &w->events);
		dec_u64(d, &w->data);
		dec_check(d, w->tfd >= 0, "file %u: watch of fd %d", f->id,
			  w->tfd);
		dec_check(d, w->file && w->file != f->id,
			  "file %u: watch of file %u", f->id, w->file);
		dec_check(d, !(w->events & IMG_EPOLL_REPORTED) ||
			  (w->events & (EPOLLET | EPOLLONESHOT)) == EPOLLET,
			  "file %u: watch of fd %d marked reported, not edge-triggered without one-shot",
			  f->id, w->tfd);
	}
}

static void dec_inotify(struct dec *d, struct img_file *f)
{
	struct img_inotify_watch *w;
	uint32_t i;

	dec_u32(d, &f->in.nr);
	if (!dec_count_ok(d, f->in.nr, IMG_MAX_WATCHES, IN_WATCH_MIN,
			  "inotify watches") || !f->in.nr)
		return;
	f->in.w = dec_alloc(d, (size_t)f->in.nr * sizeof(*f->in.w));
	for (i = 0; f->in.w && i < f->in.nr; i++) {
		w = &f->in.w[i];
		dec_i32(d, &w->wd);
		dec_u32(d, &w->mask);
		dec_u64(d, &w->dev);
		dec_u64(d, &w->ino);
		dec_str(d, &w->path, 0, "inotify path");
		dec_check(d, w->wd > 0 && (!i || w->wd > w[-1].wd),
			  "file %u: watch %d not above the one before",
			  f->id, w->wd);
		dec_check(d, w->mask != 0, "file %u: watch %d with no events",
			  f->id, w->wd);
		dec_check(d, !w->path || w->path[0] == '/',
			  "file %u: watch %d on a relative path", f->id, w->wd);
	}
}

void img_dec_kfd(struct dec *d, struct img_file *f)
{
	if (!img_kfd_kind(f->kind))
		return;
	dec_check(d, !f->pipe_size, "file %u: a pipe size on kind %u",
		  f->id, f->kind);
	switch (f->kind) {
	case IMG_FILE_EVENTFD:
		dec_u64(d, &f->efd.count);
		dec_u32(d, &f->efd.semaphore);
		dec_check(d, f->efd.count != UINT64_MAX,
			  "file %u: eventfd count out of range", f->id);
		dec_check(d, f->efd.semaphore <= 1,
			  "file %u: eventfd semaphore %u", f->id,
			  f->efd.semaphore);
		break;
	case IMG_FILE_SIGNALFD:
		dec_u64(d, &f->sfd.sigmask);
		break;
	case IMG_FILE_TIMERFD:
		dec_timerfd(d, f);
		break;
	case IMG_FILE_EPOLL:
		dec_epoll(d, f);
		break;
	case IMG_FILE_INOTIFY:
		dec_inotify(d, f);
		break;
	}
}

void img_kfd_free(struct img_file *f)
{
	uint32_t i;

	for (i = 0; f->in.w && i < f->in.nr; i++)
		free(f->in.w[i].path);
	free(f->in.w);
	free(f->ep.w);
	f->in.w = NULL;
	f->ep.w = NULL;
	f->in.nr = f->ep.nr = 0;
}
