/*
 * The TCP and UDP sockets of the image's file table, made in restore
 * before the first process exists (files.c hands them to the tree like
 * its pipes and unix sockets, which are made before these).
 *
 * Listening and unconnected sockets come first: options, bind, listen. A
 * UDP socket is bound, gets its datagrams back from their senders
 * (inet-dgram.c), then is connected.
 *
 * TCP connections come next, in repair mode (TCP_REPAIR): each end gets
 * the sequence numbers it had, is bound (repair mode lets it share the
 * port of the listener that accepted it) and connected without a packet,
 * then gets the options its connection negotiated, its timestamp clock,
 * its receive queue, the part of its send queue that had been sent, and
 * its window. No end leaves repair mode before every end exists: a packet
 * to an end not made yet would be answered by a reset. Then each leaves
 * it (its window probe makes its peer acknowledge what it has), sends the
 * unsent part of its send queue as new data, and the FINs go again, in
 * the order they went: an end that had received its peer's FIN before
 * sending its own (LAST_ACK) waits for it. The kernel retransmits what
 * was in flight, and each end carries on from where it was.
 *
 * A connection not accepted yet goes back in its listener's queue
 * (inet-accept.c) once every other end exists, before any leaves repair
 * mode; it has no fd.
 *
 * A connection whose peer is outside the image (ckpt attach
 * --tcp-established) is made the same way, alone, its address bound
 * with IP_FREEBIND; once it is out of repair mode it gets the FIN its
 * peer had sent, if one had come (inet-pkt.c), the network lock that
 * held its peer off is removed (netlock.c) and it says its window again.
 */
#include <sys/socket.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "restore/restore.h"
#include "restore/inet-priv.h"

#define FIN_WAIT_MS	30000	/* for a peer's FIN, on a loaded machine */
#define SEND_PIECE	65536

socklen_t inet_sockaddr(uint32_t family, const uint8_t *addr, uint32_t port,
			struct sockaddr_storage *ss)
{
	struct sockaddr_in *s4 = (void *)ss;
	struct sockaddr_in6 *s6 = (void *)ss;

	memset(ss, 0, sizeof(*ss));
	if (family == AF_INET) {
		s4->sin_family = AF_INET;
		memcpy(&s4->sin_addr, addr, 4);
		s4->sin_port = htons(port);
		return sizeof(*s4);
	}
	s6->sin6_family = AF_INET6;
	memcpy(&s6->sin6_addr, addr, 16);
	s6->sin6_port = htons(port);
	return sizeof(*s6);
}

/* ---- options ------------------------------------------------------------ */

static int set_int(int fd, int level, int opt, int v)
{
	return setsockopt(fd, level, opt, &v, sizeof(v));
}

/* A buffer size as getsockopt gave it: the kernel doubles what it is
 * given (socket(7)); FORCE, as root, passes the limits of rmem_max. */
int inet_set_buf(int fd, int opt, int size)
{
	int force = opt == SO_RCVBUF ? SO_RCVBUFFORCE : SO_SNDBUFFORCE;

	if (!set_int(fd, SOL_SOCKET, force, size / 2))
		return 0;
	return set_int(fd, SOL_SOCKET, opt, size / 2);
}

static int set_opt(int fd, uint32_t id, int v)
{
	const struct img_sockopt_desc *o = img_sockopt(id);
	struct linger lg = { 1, v };

	if (o->level == SOL_SOCKET && o->opt == SO_LINGER)
		return setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
	if (o->level == SOL_SOCKET &&
	    (o->opt == SO_RCVBUF || o->opt == SO_SNDBUF))
		return inet_set_buf(fd, o->opt, v);
	return set_int(fd, o->level, o->opt, v);
}

/* Every option of the image's (a connection's buffer sizes before it
 * connects, as they were when it negotiated its window). */
static int set_opts(int fd, const struct img_file *f)
{
	const struct img_inet *in = &f->inet;
	uint32_t i;

	for (i = 0; i < IMG_NR_SOCKOPTS; i++) {
		if (!(in->opt_mask & (1u << i)))
			continue;
		if (set_opt(fd, i, in->opt[i])) {
			pr_perror("can't set %s to %d on socket %llu",
				  img_sockopt(i)->name, in->opt[i],
				  (unsigned long long)f->ino);
			return -1;
		}
	}
	if (in->dev && setsockopt(fd, SOL_SOCKET, SO_BINDTODEVICE, in->dev,
				  strlen(in->dev))) {
		pr_perror("can't bind socket %llu to device %s",
			  (unsigned long long)f->ino, in->dev);
		return -1;
	}
	return inet_sockx_set(fd, f);
}

/* The image's SO_RCVBUF or SO_SNDBUF (id), or the size of a new socket's
 * (what restore's own new socket has: its default). */
static int set_buf_of(int fd, const struct img_file *f, uint32_t id)
{
	int opt = id == IMG_SO_RCVBUF ? SO_RCVBUF : SO_SNDBUF, v = 0;
	socklen_t l = sizeof(v);
	int fresh;

	if (f->inet.opt_mask & (1u << id))
		return inet_set_buf(fd, opt, f->inet.opt[id]);
	fresh = socket(f->inet.family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fresh < 0 || getsockopt(fresh, SOL_SOCKET, opt, &v, &l)) {
		if (fresh >= 0)
			close(fresh);
		return -1;
	}
	close(fresh);
	return inet_set_buf(fd, opt, v);
}

static int is_zero(const uint8_t *a)
{
	static const uint8_t z[16];

	return !memcmp(a, z, 16);
}

/* An address with port 0 was bound with IP_BIND_ADDRESS_NO_PORT: its
 * port comes at connect. */
static int bind_to(int fd, const struct img_file *f)
{
	const struct img_inet *in = &f->inet;
	struct sockaddr_storage ss;
	socklen_t len;

	if (!in->port && is_zero(in->addr))
		return 0;
	if (!in->port &&
	    set_int(fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, 1))
		return -1;
	len = inet_sockaddr(in->family, in->addr, in->port, &ss);
	return bind(fd, (struct sockaddr *)&ss, len);
}

static int new_socket(const struct img_file *f)
{
	int fd = socket(f->inet.family, (f->kind == IMG_FILE_TCP ?
			SOCK_STREAM : SOCK_DGRAM) | SOCK_CLOEXEC, 0);

	if (fd < 0)
		pr_perror("can't make socket %llu", (unsigned long long)f->ino);
	return fd;
}

/* ---- listening and unconnected sockets, UDP ----------------------------- */

static int connect_to(int fd, const struct img_file *f)
{
	struct sockaddr_storage ss;
	socklen_t len = inet_sockaddr(f->inet.family, f->inet.peer_addr,
				      f->inet.peer_port, &ss);

	return connect(fd, (struct sockaddr *)&ss, len);
}

static int make_plain(struct inet_tab *t, struct inet_ent *e)
{
	const struct img_file *f = e->f;

	e->fd = new_socket(f);
	if (e->fd < 0 || set_opts(e->fd, f))
		return -1;
	if (bind_to(e->fd, f)) {
		pr_perror("can't bind socket %llu", (unsigned long long)f->ino);
		return -1;
	}
	if (f->inet.state == IMG_INET_LISTENING &&
	    listen(e->fd, f->inet.backlog)) {
		pr_perror("can't listen on socket %llu",
			  (unsigned long long)f->ino);
		return -1;
	}
	if (f->kind != IMG_FILE_UDP)
		return 0;
	if (inet_fill_dgrams(t, e))	/* inet-dgram.c */
		return -1;
	if (f->inet.peer_port && connect_to(e->fd, f)) {
		pr_perror("can't connect UDP socket %llu",
			  (unsigned long long)f->ino);
		return -1;
	}
	return 0;
}

/* ---- TCP connections, in repair mode ------------------------------------ */

static int repair(int fd, int v)
{
	return set_int(fd, IPPROTO_TCP, TCP_REPAIR, v);
}

static int set_seq(int fd, int queue, uint32_t seq)
{
	if (set_int(fd, IPPROTO_TCP, TCP_REPAIR_QUEUE, queue))
		return -1;
	return setsockopt(fd, IPPROTO_TCP, TCP_QUEUE_SEQ, &seq, sizeof(seq));
}

static int repair_options(int fd, const struct img_tcp *t)
{
	struct tcp_repair_opt o[4];
	int n = 0;

	if (t->opts & IMG_TCP_SACK)
		o[n++] = (struct tcp_repair_opt){ TCPOPT_SACK_PERMITTED, 0 };
	if (t->opts & IMG_TCP_WSCALE)
		o[n++] = (struct tcp_repair_opt){
			TCPOPT_WINDOW, t->snd_wscale | t->rcv_wscale << 16 };
	if (t->opts & IMG_TCP_TSTAMP)
		o[n++] = (struct tcp_repair_opt){ TCPOPT_TIMESTAMP, 0 };
	o[n++] = (struct tcp_repair_opt){ TCPOPT_MAXSEG, t->mss };
	if (setsockopt(fd, IPPROTO_TCP, TCP_REPAIR_OPTIONS, o,
		       n * sizeof(*o)))
		return -1;
	if (!(t->opts & IMG_TCP_TSTAMP))
		return 0;
	return setsockopt(fd, IPPROTO_TCP, TCP_TIMESTAMP, &t->timestamp,
			  sizeof(t->timestamp));
}

/* Bytes [from, to) of f's queue (sendq: the send queue, else the receive
 * queue), in pieces the kernel takes at once. */
static int send_range(int fd, const struct img_file *f, int sendq,
		      uint64_t from, uint64_t to)
{
	uint64_t pos = 0, a, b;
	const struct img_chunk *ch;
	uint32_t i;
	ssize_t n;

	for (i = 0; i < f->nr_chunks && pos < to; i++) {
		ch = &f->chunks[i];
		if (!(ch->flags & IMG_CHUNK_SENDQ) != !sendq)
			continue;
		a = from > pos ? from - pos : 0;
		b = to - pos < ch->len ? to - pos : ch->len;
		for (; a < b; a += n) {
			n = send(fd, ch->data + a, b - a < SEND_PIECE ? b - a :
				 SEND_PIECE, MSG_DONTWAIT | MSG_NOSIGNAL);
			if (n <= 0)
				return -1;
		}
		pos += ch->len;
	}
	return 0;
}

void inet_copy_recvq(const struct img_file *f, uint64_t from, uint64_t to,
		     uint8_t *buf)
{
	uint64_t pos = 0, a, b;
	const struct img_chunk *ch;
	uint32_t i;

	for (i = 0; i < f->nr_chunks && pos < to; i++) {
		ch = &f->chunks[i];
		if (ch->flags & IMG_CHUNK_SENDQ)
			continue;
		a = from > pos ? from - pos : 0;
		b = to - pos < ch->len ? to - pos : ch->len;
		if (a < b)
			memcpy(buf + pos + a - from, ch->data + a, b - a);
		pos += ch->len;
	}
}

/* A buffer size that holds len bytes of data and their overhead. */
static int room(uint32_t len)
{
	uint64_t n = (uint64_t)len * 2 + (1 << 20);

	return n > INT32_MAX ? INT32_MAX : (int)n;
}

/*
 * The queues, in buffers made wide enough for them: they fitted before,
 * but in buffers of other sizes. The receive buffer gets its size back
 * at once, before the connection says its window to anyone; the send
 * buffer once the unsent bytes are in (resume).
 */
static int fill_queues(int fd, const struct img_file *f)
{
	const struct img_inet *in = &f->inet;
	const struct img_tcp *t = &in->tcp;

	if (inet_set_buf(fd, SO_RCVBUF, room(t->recvq_len)) ||
	    inet_set_buf(fd, SO_SNDBUF, room(t->sendq_len)))
		return -1;
	if (set_int(fd, IPPROTO_TCP, TCP_REPAIR_QUEUE, TCP_RECV_QUEUE) ||
	    send_range(fd, f, 0, 0, t->recvq_len))
		return -1;
	if (set_int(fd, IPPROTO_TCP, TCP_REPAIR_QUEUE, TCP_SEND_QUEUE) ||
	    send_range(fd, f, 1, 0, t->sendq_len - t->unsent_len))
		return -1;
	if (set_buf_of(fd, f, IMG_SO_RCVBUF))
		return -1;
	return set_int(fd, IPPROTO_TCP, TCP_REPAIR_QUEUE, TCP_NO_QUEUE);
}

/* TCP_REPAIR_WINDOW against the receive queue as it is now: without the
 * FIN it had received (that comes again), which may pull rcv_wup back by
 * one; the window's right edge stays where it was. */
static int set_window(int fd, const struct img_tcp *t)
{
	struct tcp_repair_window w = {
		.snd_wl1 = t->snd_wl1, .snd_wnd = t->snd_wnd,
		.max_window = t->max_window, .rcv_wnd = t->rcv_wnd,
		.rcv_wup = t->rcv_wup,
	};
	uint32_t rcv_nxt = t->rcv_seq + t->recvq_len;

	if ((int32_t)(w.rcv_wup - rcv_nxt) > 0) {
		w.rcv_wnd += w.rcv_wup - rcv_nxt;
		w.rcv_wup = rcv_nxt;
	}
	return setsockopt(fd, IPPROTO_TCP, TCP_REPAIR_WINDOW, &w, sizeof(w));
}

/* A connection whose peer is outside binds its address even where it
 * is not there yet (a migration brings it after); then IP_FREEBIND is
 * what the image says. */
static int bind_outside(int fd, const struct img_file *f)
{
	const struct img_inet *in = &f->inet;
	int v = in->opt_mask & (1u << IMG_IP_FREEBIND) ?
		in->opt[IMG_IP_FREEBIND] : 0;

	if (!in->lock)
		return bind_to(fd, f);
	if (set_int(fd, IPPROTO_IP, IP_FREEBIND, 1) || bind_to(fd, f))
		return -1;
	return set_int(fd, IPPROTO_IP, IP_FREEBIND, v);
}

static int make_conn(struct inet_ent *e)
{
	const struct img_file *f = e->f;
	const struct img_tcp *t = &f->inet.tcp;
	const char *what = "repair mode";

	e->fd = new_socket(f);
	if (e->fd < 0)
		return -1;
	/* options first: SO_REUSEADDR would undo repair mode's own reuse,
	 * which lets the socket share its listener's port */
	if (set_opts(e->fd, f) || repair(e->fd, TCP_REPAIR_ON))
		goto err;
	what = "sequence numbers";
	if (set_seq(e->fd, TCP_RECV_QUEUE, t->rcv_seq) ||
	    set_seq(e->fd, TCP_SEND_QUEUE, t->snd_seq))
		goto err;
	what = "addresses";
	if (bind_outside(e->fd, f) || connect_to(e->fd, f))
		goto err;
	what = "TCP options";
	if (repair_options(e->fd, t))
		goto err;
	what = "queues";
	if (fill_queues(e->fd, f))
		goto err;
	what = "window";
	if (set_window(e->fd, t))
		goto err;
	return 0;
err:
	pr_perror("can't restore the %s of TCP connection %llu", what,
		  (unsigned long long)f->ino);
	return -1;
}

/* A connection that restore makes (one not accepted yet goes back in
 * its listener's queue, where the kernel makes it: inet-accept.c). */
static int own_conn(const struct img_file *f)
{
	return img_tcp_connection(f) && !img_tcp_queued(f);
}

/* ---- out of repair mode ------------------------------------------------- */

/* The unsent bytes go as new data; then the image's send buffer size,
 * and SO_REUSEADDR, which leaving repair mode cleared. */
static int resume(struct inet_ent *e)
{
	const struct img_file *f = e->f;
	const struct img_inet *in = &f->inet;
	const struct img_tcp *t = &in->tcp;

	if (repair(e->fd, TCP_REPAIR_OFF) ||
	    send_range(e->fd, f, 1, t->sendq_len - t->unsent_len,
		       t->sendq_len))
		return -1;
	if (set_buf_of(e->fd, f, IMG_SO_SNDBUF))
		return -1;
	if (!(in->opt_mask & (1u << IMG_SO_REUSEADDR)))
		return 0;
	return set_int(e->fd, SOL_SOCKET, SO_REUSEADDR, 1);
}

/*
 * The connections whose peer is outside left repair mode behind the
 * network lock, which dropped their window probes: once it is gone,
 * each sends another (in and out of repair mode again), so that the
 * peer answers and both carry on without waiting for a retransmission
 * timer that backed off while the connection was away.
 */
static int unlock_outside(struct inet_tab *t)
{
	struct inet_ent *e;
	uint32_t i;

	if (restore_netlock_drop(t->img))
		return -1;
	for (i = 0; i < t->n; i++) {
		e = &t->e[i];
		if (!own_conn(e->f) || !e->f->inet.lock)
			continue;
		if (repair(e->fd, TCP_REPAIR_ON) || repair(e->fd, TCP_REPAIR_OFF) ||
		    ((e->f->inet.opt_mask & (1u << IMG_SO_REUSEADDR)) &&
		     set_int(e->fd, SOL_SOCKET, SO_REUSEADDR, 1))) {
			pr_perror("can't wake the peer of TCP connection %llu",
				  (unsigned long long)e->f->ino);
			return -1;
		}
	}
	return 0;
}

/* Until the peer's FIN is in: the receiving side is shut down. */
static int wait_fin(int fd)
{
	struct timespec t0, now;
	struct pollfd p = { .fd = fd, .events = POLLRDHUP };

	clock_gettime(CLOCK_MONOTONIC, &t0);
	do {
		if (poll(&p, 1, 100) > 0 && (p.revents & POLLRDHUP))
			return 0;
		clock_gettime(CLOCK_MONOTONIC, &now);
	} while ((now.tv_sec - t0.tv_sec) * 1000 +
		 (now.tv_nsec - t0.tv_nsec) / 1000000 < FIN_WAIT_MS);
	errno = ETIMEDOUT;
	return -1;
}

/*
 * The FINs that connections whose peer is outside had received, while
 * the lock still holds: each comes from restore as from the peer
 * (inet-pkt.c), after the end's own where that went first (CLOSING).
 */
static int fins_from_outside(struct inet_tab *t)
{
	struct inet_ent *e;
	uint32_t i;

	for (i = 0; i < t->n; i++) {
		e = &t->e[i];
		if (!img_tcp_connection(e->f) || !e->f->inet.lock ||
		    !img_tcp_fin_rcvd(e->f))
			continue;
		if ((e->f->inet.state == IMG_INET_CLOSING &&
		     shutdown(e->fd, SHUT_WR)) ||
		    inet_send_fin(t, e->f) || wait_fin(e->fd)) {
			pr_perror("can't give TCP connection %llu its peer's FIN again",
				  (unsigned long long)e->f->ino);
			return -1;
		}
	}
	return 0;
}

/*
 * When an end sent its FIN, against the one it received: CLOSING ends
 * sent theirs first (the peer's crossed it), FIN_WAIT ends before any
 * came, LAST_ACK ends after their peer's (which they wait for). A
 * CLOSING end whose peer is outside has sent it already.
 */
static int fin_rank(const struct img_file *f)
{
	if (!img_tcp_fin_sent(f) ||
	    (f->inet.lock && f->inet.state == IMG_INET_CLOSING))
		return -1;
	if (f->inet.state == IMG_INET_CLOSING)
		return 0;
	return f->inet.state == IMG_INET_LAST_ACK ? 2 : 1;
}

/* Each FIN again, rank by rank. */
static int replay_fins(struct inet_tab *t)
{
	struct inet_ent *e;
	uint32_t i;
	int rank;

	for (rank = 0; rank <= 2; rank++) {
		for (i = 0; i < t->n; i++) {
			e = &t->e[i];
			if (fin_rank(e->f) != rank)
				continue;
			if ((rank == 2 && wait_fin(e->fd)) ||
			    shutdown(e->fd, SHUT_WR)) {
				pr_perror("can't close TCP connection %llu again",
					  (unsigned long long)e->f->ino);
				return -1;
			}
		}
	}
	return 0;
}

/* ---- the table ---------------------------------------------------------- */

/*
 * Last, the file flags and which buffer sizes stay as they are: every
 * size restore set locked it (SOCK_RCVBUF_LOCK ...), where the kernel
 * may have been tuning it, a TCP connection's above all (tcp_rmem,
 * tcp_wmem); SO_BUF_LOCK gives back the program's locks, none when it
 * set no size, so the kernel goes on tuning from the sizes it had.
 */
static int finish(struct inet_ent *e)
{
	const struct img_file *f = e->f;
	int lock = f->inet.opt_mask & (1u << IMG_SO_BUF_LOCK) ?
		f->inet.opt[IMG_SO_BUF_LOCK] : 0;

	if (fcntl(e->fd, F_SETFL, f->flags & (O_NONBLOCK | O_ASYNC))) {
		pr_perror("can't set the flags of socket %llu",
			  (unsigned long long)f->ino);
		return -1;
	}
	if (set_int(e->fd, SOL_SOCKET, SO_BUF_LOCK, lock)) {
		pr_perror("can't set SO_BUF_LOCK to %d on socket %llu", lock,
			  (unsigned long long)f->ino);
		return -1;
	}
	return 0;
}

static int make_all(struct inet_tab *t)
{
	uint32_t i;

	for (i = 0; i < t->n; i++)
		if (!img_tcp_connection(t->e[i].f) && make_plain(t, &t->e[i]))
			return -1;
	for (i = 0; i < t->n; i++)
		if (own_conn(t->e[i].f) && make_conn(&t->e[i]))
			return -1;
	if (inet_requeue(t))
		return -1;
	for (i = 0; i < t->n; i++) {
		if (!own_conn(t->e[i].f) || !resume(&t->e[i]))
			continue;
		pr_perror("can't resume TCP connection %llu",
			  (unsigned long long)t->e[i].f->ino);
		return -1;
	}
	if (fins_from_outside(t) || unlock_outside(t) || replay_fins(t))
		return -1;
	for (i = 0; i < t->n; i++)
		if (t->e[i].fd >= 0 && finish(&t->e[i]))
			return -1;
	return 0;
}

int restore_inet_open(const struct image *img, int *fds)
{
	struct inet_tab t = { .img = img, .raw4 = -1, .raw6 = -1 };
	uint32_t i;
	int ret = -1;

	t.e = calloc(img->nr_files ? img->nr_files : 1, sizeof(*t.e));
	if (!t.e) {
		pr_err("out of memory");
		return -1;
	}
	for (i = 0; i < img->nr_files; i++) {
		if (!img_inet_kind(img->files[i].kind))
			continue;
		t.e[t.n].f = &img->files[i];
		t.e[t.n].idx = i;
		t.e[t.n++].fd = -1;
	}
	if (make_all(&t))
		goto out;
	for (i = 0; i < t.n; i++) {
		fds[t.e[i].idx] = t.e[i].fd;
		t.e[i].fd = -1;
	}
	ret = 0;
out:
	for (i = 0; i < t.n; i++)
		if (t.e[i].fd >= 0)
			close(t.e[i].fd);
	inet_pkt_done(&t);
	free(t.e);
	return ret;
}
