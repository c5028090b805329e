/*
 * fown.c - SIGIO owners, signals and leases.
 *
 * A pipe with O_ASYNC owned by the second thread (F_SETOWN_EX, TID)
 * with F_SETSIG SIGRTMIN+1; a socket pair's end with O_ASYNC owned by
 * the process (F_SETOWN), plain SIGIO; a read lease on D/r (F_SETSIG
 * SIGRTMIN+2) and a write lease on D/w (SIGRTMIN+3). Once (after restore,
 * or at D/stop) it checks that each fd's owner, signal, O_ASYNC and lease
 * read as set, then that each signal arrives where it should: a byte
 * written to the pipe signals the second thread with si_fd the pipe's
 * read end, one written to the socket pair signals the process, and a
 * child opening D/r for writing or D/w for reading (O_NONBLOCK) is
 * refused with EWOULDBLOCK while the holder gets its lease's signal and
 * gives the lease up.
 */
#include <sys/wait.h>
#include <pthread.h>
#include <signal.h>

#include "workload.h"

static int pipefd[2], sp[2], rfd, wfd;
static volatile pid_t tid2;
static volatile sig_atomic_t got_tid[4], got_fd[4], got_n[4];

static int sig_of(int i)
{
	return i ? SIGRTMIN + i : SIGIO;
}

static void on_sig(int sig, siginfo_t *si, void *uc)
{
	int i;

	(void)uc;
	for (i = 0; i < 4; i++)
		if (sig == sig_of(i)) {
			got_tid[i] = wl_gettid();
			got_fd[i] = si->si_fd;
			got_n[i]++;
		}
}

/* Only its own signal: the process's go to the main thread. */
static void *second(void *arg)
{
	sigset_t set;

	(void)arg;
	sigemptyset(&set);
	sigaddset(&set, sig_of(0));
	sigaddset(&set, sig_of(2));
	sigaddset(&set, sig_of(3));
	if (pthread_sigmask(SIG_BLOCK, &set, NULL))
		wl_fail("pthread_sigmask failed");
	tid2 = wl_gettid();
	for (;;)
		pause();
	return NULL;
}

static void own(int fd, int type, pid_t pid, int sig, int async)
{
	struct f_owner_ex ex = { .type = type, .pid = pid };

	if (fcntl(fd, F_SETOWN_EX, &ex) || fcntl(fd, F_SETSIG, sig) ||
	    (async && fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_ASYNC)))
		wl_fail("owning fd %d: %s", fd, strerror(errno));
}

static void lease(int fd, int type, int sig)
{
	if (fcntl(fd, F_SETLEASE, type) || fcntl(fd, F_SETSIG, sig))
		wl_fail("lease on fd %d: %s", fd, strerror(errno));
}

static void setup(void)
{
	char p[PATH_MAX];
	struct sigaction sa = { .sa_sigaction = on_sig,
				.sa_flags = SA_SIGINFO | SA_RESTART };
	pthread_t t;
	int i;

	for (i = 0; i < 4; i++)
		if (sigaction(sig_of(i), &sa, NULL))
			wl_fail("sigaction: %s", strerror(errno));
	if (pthread_create(&t, NULL, second, NULL))
		wl_fail("pthread_create failed");
	while (!tid2)
		wl_sleep_ms(1);
	if (pipe(pipefd) || socketpair(AF_UNIX, SOCK_STREAM, 0, sp))
		wl_fail("pipe: %s", strerror(errno));
	own(pipefd[0], F_OWNER_TID, tid2, sig_of(1), 1);
	own(sp[0], F_OWNER_PID, getpid(), 0, 1);
	rfd = open(wl_path(p, "r"), O_RDONLY | O_CREAT, 0644);
	wfd = open(wl_path(p, "w"), O_RDWR | O_CREAT, 0644);
	if (rfd < 0 || wfd < 0)
		wl_fail("open D/r, D/w: %s", strerror(errno));
	lease(rfd, F_RDLCK, sig_of(2));
	lease(wfd, F_WRLCK, sig_of(3));
}

static void expect_owner(int fd, int type, pid_t pid, int sig, int async)
{
	struct f_owner_ex ex;
	int fl = fcntl(fd, F_GETFL);

	if (fcntl(fd, F_GETOWN_EX, &ex) || ex.type != type || ex.pid != pid)
		wl_fail("fd %d: owner %d %d, want %d %d", fd, ex.type,
			(int)ex.pid, type, (int)pid);
	if (fcntl(fd, F_GETSIG) != sig)
		wl_fail("fd %d: signal %d, want %d", fd, fcntl(fd, F_GETSIG),
			sig);
	if (!(fl & O_ASYNC) != !async)
		wl_fail("fd %d: flags %#o, O_ASYNC should be %s", fd, fl,
			async ? "on" : "off");
}

static void wait_sig(int i, pid_t tid, int fd)
{
	int k;

	for (k = 0; k < 3000 && !got_n[i]; k++)
		wl_sleep_ms(10);
	if (got_n[i] != 1 || got_tid[i] != tid || (i && got_fd[i] != fd))
		wl_fail("signal %d: %d times, in %d with si_fd %d; want once in %d with %d",
			sig_of(i), (int)got_n[i], (int)got_tid[i],
			(int)got_fd[i], (int)tid, fd);
}

/* A child opening D/name with flags is refused: the lease is breaking. */
static void break_lease(const char *name, int flags)
{
	char p[PATH_MAX];
	pid_t kid = fork();
	int st, fd;

	if (kid < 0)
		wl_fail("fork: %s", strerror(errno));
	if (!kid) {
		fd = open(wl_path(p, name), flags | O_NONBLOCK);
		_exit(fd < 0 && errno == EWOULDBLOCK ? 0 : 1);
	}
	if (waitpid(kid, &st, 0) != kid || st)
		wl_fail("opening D/%s was not refused by its lease", name);
}

static void check(void)
{
	char b = 'x';

	expect_owner(pipefd[0], F_OWNER_TID, tid2, sig_of(1), 1);
	expect_owner(sp[0], F_OWNER_PID, getpid(), 0, 1);
	if (fcntl(rfd, F_GETLEASE) != F_RDLCK ||
	    fcntl(wfd, F_GETLEASE) != F_WRLCK)
		wl_fail("leases read %d %d, want read and write",
			fcntl(rfd, F_GETLEASE), fcntl(wfd, F_GETLEASE));
	if (write(pipefd[1], &b, 1) != 1 || write(sp[1], &b, 1) != 1)
		wl_fail("write: %s", strerror(errno));
	wait_sig(1, tid2, pipefd[0]);
	wait_sig(0, getpid(), sp[0]);
	break_lease("r", O_WRONLY);
	wait_sig(2, getpid(), rfd);
	break_lease("w", O_RDONLY);
	wait_sig(3, getpid(), wfd);
	if (fcntl(rfd, F_SETLEASE, F_UNLCK) || fcntl(wfd, F_SETLEASE, F_UNLCK))
		wl_fail("giving the leases up: %s", strerror(errno));
}

int main(void)
{
	wl_init();
	setup();
	wl_count_checked(check);
	return 0;
}
