/*
 * restore --console-socket PATH: the console of a container whose
 * master was outside the tree (a PTY_MASTER file flagged IMG_TTY_CONSOLE,
 * ckpt/dump-console.c). The pair is made again on the tree's devpts
 * instance with its state, as any pair of the tree (tty.c), and its new
 * master handed to whoever listens on PATH, as runc run --console-socket
 * and runc restore --console-socket do: one message on a connected unix
 * stream socket carrying the master (SCM_RIGHTS). The socket is
 * connected before any process exists, so that a wrong path costs
 * nothing; the root sends the master once it made it, before its
 * children, and keeps no copy. An image with a console and no socket
 * (or a socket and no console) is refused: the console would have no
 * master, or the caller would wait for one forever.
 */
#include <sys/socket.h>
#include <sys/un.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "restore/restore.h"

/* the name runc sends with the master (the master's path) */
#define MASTER_NAME	"/dev/ptmx"

static const struct img_file *console_of(const struct image *img)
{
	uint32_t i;

	for (i = 0; i < img->nr_files; i++)
		if (img->files[i].kind == IMG_FILE_PTY_MASTER &&
		    (img->files[i].tty.flags & IMG_TTY_CONSOLE))
			return &img->files[i];
	return NULL;
}

static int connect_to(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int sk;

	if (strlen(path) >= sizeof(sa.sun_path)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	strcpy(sa.sun_path, path);
	sk = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (sk < 0)
		return -1;
	if (connect(sk, (struct sockaddr *)&sa, sizeof(sa))) {
		close(sk);
		return -1;
	}
	return sk;
}

int restore_console_check(struct restore_run *run)
{
	const struct img_file *f = console_of(run->img);

	if (f && !run->console.path) {
		pr_err("%s: its container had a console (pty /dev/pts/%u of its devpts instance, whose master was outside the tree): give --console-socket",
		       run->path, f->tty.index);
		return EXIT_USAGE;
	}
	if (!f && run->console.path) {
		pr_err("%s: --console-socket given, but its container had no console",
		       run->path);
		return EXIT_USAGE;
	}
	if (!f)
		return 0;
	run->console.sk = connect_to(run->console.path);
	if (run->console.sk < 0) {
		pr_perror("can't connect to console socket %s",
			  run->console.path);
		return EXIT_FAILED;
	}
	return 0;
}

int restore_console_send(struct restore_run *run, const int *files)
{
	const struct img_file *f = console_of(run->img);
	char name[] = MASTER_NAME;
	union {
		struct cmsghdr h;
		char buf[CMSG_SPACE(sizeof(int))];
	} u = { 0 };
	struct iovec iov = { .iov_base = name, .iov_len = sizeof(name) - 1 };
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1,
			      .msg_control = u.buf,
			      .msg_controllen = sizeof(u.buf) };
	int ret;

	if (!f || run->console.sk < 0)
		return 0;
	u.h.cmsg_level = SOL_SOCKET;
	u.h.cmsg_type = SCM_RIGHTS;
	u.h.cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(&u.h), &files[f - run->img->files], sizeof(int));
	ret = sendmsg(run->console.sk, &msg, MSG_NOSIGNAL) < 0 ? -1 : 0;
	close(run->console.sk);
	run->console.sk = -1;
	return ret;
}

void restore_console_close(struct restore_run *run)
{
	if (run->console.sk >= 0)
		close(run->console.sk);
	run->console.sk = -1;
}
