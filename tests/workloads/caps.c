/*
 * caps.c - capabilities, securebits and the dumpable flag (run as root).
 *
 * The workload becomes uid and gid 65534 keeping CAP_NET_BIND_SERVICE and
 * CAP_KILL permitted and effective, CAP_NET_BIND_SERVICE inheritable and
 * ambient, drops a few capabilities from its bounding set, sets
 * SECBIT_KEEP_CAPS, SECBIT_NOROOT and SECBIT_NO_SETUID_FIXUP with its
 * lock, and is not dumpable. A second thread keeps only CAP_KILL
 * effective: capabilities are per thread. After restore each thread checks
 * every set exactly, and that it can (and cannot) do what they allow: bind
 * a TCP port below 1024, signal PID 1 (root's), read a root-only file.
 */
#include <sys/prctl.h>
#include <sys/socket.h>
#include <arpa/inet.h>
#include <linux/capability.h>
#include <linux/securebits.h>
#include <netinet/in.h>
#include <grp.h>
#include <pthread.h>
#include <signal.h>

#include "workload.h"

#define BIT(n)		(1ULL << (n))
#define NOBODY		65534
#define SECBITS		(SECBIT_KEEP_CAPS | SECBIT_NOROOT | \
			 SECBIT_NO_SETUID_FIXUP | SECBIT_NO_SETUID_FIXUP_LOCKED)
#define PRM		(BIT(CAP_NET_BIND_SERVICE) | BIT(CAP_KILL))
#define INH		BIT(CAP_NET_BIND_SERVICE)
#define THREAD_EFF	BIT(CAP_KILL)

static const int dropped[] = { CAP_SYS_ADMIN, CAP_NET_RAW, CAP_MKNOD,
			       CAP_SYS_CHROOT };
static uint64_t bounding;	/* as set up, from PR_CAPBSET_READ */
static volatile int thread_ready, thread_stop;
static const char *thread_err;
static char thread_msg[256];

static int last_cap(void)
{
	char buf[16] = "";
	int fd = open("/proc/sys/kernel/cap_last_cap", O_RDONLY);

	if (fd < 0 || read(fd, buf, sizeof(buf) - 1) <= 0)
		wl_fail("can't read cap_last_cap: %s", strerror(errno));
	close(fd);
	return atoi(buf);
}

static uint64_t read_bounding(void)
{
	uint64_t m = 0;
	int cap, last = last_cap();

	for (cap = 0; cap <= last; cap++)
		if (prctl(PR_CAPBSET_READ, cap, 0, 0, 0) == 1)
			m |= BIT(cap);
	return m;
}

static int cap_get(uint64_t *prm, uint64_t *eff, uint64_t *inh)
{
	struct __user_cap_header_struct h = { _LINUX_CAPABILITY_VERSION_3, 0 };
	struct __user_cap_data_struct d[2];

	if (syscall(SYS_capget, &h, d))
		return -1;
	*prm = d[0].permitted | (uint64_t)d[1].permitted << 32;
	*eff = d[0].effective | (uint64_t)d[1].effective << 32;
	*inh = d[0].inheritable | (uint64_t)d[1].inheritable << 32;
	return 0;
}

/* capset of the calling thread only (the raw call, like glibc's) */
static int cap_set(uint64_t prm, uint64_t eff, uint64_t inh)
{
	struct __user_cap_header_struct h = { _LINUX_CAPABILITY_VERSION_3, 0 };
	struct __user_cap_data_struct d[2] = {
		{ (uint32_t)eff, (uint32_t)prm, (uint32_t)inh },
		{ eff >> 32, prm >> 32, inh >> 32 },
	};

	return syscall(SYS_capset, &h, d);
}

/* bind a TCP socket to a port in 600-999 of 127.0.0.1: 0 or errno */
static int bind_low(void)
{
	struct sockaddr_in a = { .sin_family = AF_INET };
	uint64_t seed = wl_now_ns(CLOCK_MONOTONIC) | 1;
	int fd, i, err = 0;

	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	for (i = 0; i < 50; i++) {
		fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (fd < 0)
			wl_fail("socket: %s", strerror(errno));
		a.sin_port = htons(600 + wl_xorshift64(&seed) % 400);
		err = bind(fd, (struct sockaddr *)&a, sizeof(a)) ? errno : 0;
		close(fd);
		if (err != EADDRINUSE)
			return err;
	}
	return err;
}

/* NULL, or what differs from the state set up, in buf */
static const char *check_state(uint64_t eff_want, char *buf, size_t len)
{
	uint64_t prm, eff, inh;
	uid_t r, e, s;

	if (cap_get(&prm, &eff, &inh))
		return "capget failed";
	if (prm != PRM || eff != eff_want || inh != INH) {
		snprintf(buf, len, "permitted %#llx effective %#llx inheritable %#llx, want %#llx %#llx %#llx",
			 (unsigned long long)prm, (unsigned long long)eff,
			 (unsigned long long)inh, PRM,
			 (unsigned long long)eff_want, INH);
		return buf;
	}
	if (read_bounding() != bounding) {
		snprintf(buf, len, "bounding set %#llx, want %#llx",
			 (unsigned long long)read_bounding(),
			 (unsigned long long)bounding);
		return buf;
	}
	if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_IS_SET, CAP_NET_BIND_SERVICE,
		  0, 0) != 1 ||
	    prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_IS_SET, CAP_KILL, 0, 0) != 0)
		return "the ambient set is not {cap_net_bind_service}";
	if (prctl(PR_GET_SECUREBITS, 0, 0, 0, 0) != SECBITS) {
		snprintf(buf, len, "securebits %#x, want %#x",
			 prctl(PR_GET_SECUREBITS, 0, 0, 0, 0), SECBITS);
		return buf;
	}
	if (getresuid(&r, &e, &s) || r != NOBODY || e != NOBODY || s != NOBODY)
		return "the user ids are not 65534";
	return NULL;
}

/* what the sets allow, and no more */
static const char *check_powers(int can_bind, char *buf, size_t len)
{
	char p[PATH_MAX];
	int err = bind_low(), fd;

	if (can_bind ? err != 0 : err != EACCES) {
		snprintf(buf, len, "bind to a port below 1024: %s",
			 err ? strerror(err) : "allowed");
		return buf;
	}
	if (kill(1, 0))
		return "can't signal PID 1 with cap_kill";
	fd = open(wl_path(p, "secret"), O_RDONLY | O_CLOEXEC);
	if (fd >= 0 || errno != EACCES) {
		if (fd >= 0)
			close(fd);
		return "a root-only file can be read: cap_dac_override is back";
	}
	return NULL;
}

static void *thread_main(void *arg)
{
	uint64_t prm, eff, inh;

	(void)arg;
	if (cap_get(&prm, &eff, &inh) || cap_set(prm, THREAD_EFF, inh)) {
		thread_err = "thread capset failed";
		thread_ready = 1;
		return NULL;
	}
	thread_ready = 1;
	while (!thread_stop)
		wl_sleep_ms(5);
	thread_err = check_state(THREAD_EFF, thread_msg, sizeof(thread_msg));
	if (!thread_err)
		thread_err = check_powers(0, thread_msg, sizeof(thread_msg));
	return NULL;
}

static void setup(void)
{
	char p[PATH_MAX];
	size_t i;
	int fd;

	fd = open(wl_path(p, "secret"), O_WRONLY | O_CREAT | O_TRUNC, 0600);
	if (fd < 0 || close(fd))
		wl_fail("can't create %s: %s", p, strerror(errno));
	for (i = 0; i < sizeof(dropped) / sizeof(dropped[0]); i++)
		if (prctl(PR_CAPBSET_DROP, dropped[i], 0, 0, 0))
			wl_fail("PR_CAPBSET_DROP: %s", strerror(errno));
	if (prctl(PR_SET_SECUREBITS, SECBITS, 0, 0, 0) ||
	    setgroups(0, NULL) || setresgid(NOBODY, NOBODY, NOBODY) ||
	    setresuid(NOBODY, NOBODY, NOBODY) || cap_set(PRM, PRM, INH) ||
	    prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, CAP_NET_BIND_SERVICE,
		  0, 0) ||
	    prctl(PR_SET_DUMPABLE, 0, 0, 0, 0))
		wl_fail("setup: %s (run as root)", strerror(errno));
	bounding = read_bounding();
}

int main(void)
{
	char msg[256];
	const char *err;
	pthread_t th;
	unsigned long n = 0;
	int fd;

	wl_init();
	fd = wl_count_open();
	setup();
	if (pthread_create(&th, NULL, thread_main, NULL))
		wl_fail("pthread_create failed");
	while (!thread_ready)
		wl_sleep_ms(1);
	for (;;) {
		if (wl_count_step(fd, &n))
			break;
		wl_sleep_ms(10);
	}
	thread_stop = 1;
	pthread_join(th, NULL);
	if (thread_err)
		wl_fail("second thread: %s", thread_err);
	err = check_state(PRM, msg, sizeof(msg));
	if (!err)
		err = check_powers(1, msg, sizeof(msg));
	if (err)
		wl_fail("%s", err);
	if (prctl(PR_GET_DUMPABLE, 0, 0, 0, 0) != 0)
		wl_fail("dumpable is %d, want 0",
			prctl(PR_GET_DUMPABLE, 0, 0, 0, 0));
	if (wl_count_lines() != n)
		wl_fail("count file has %lu lines, the counter is at %lu",
			wl_count_lines(), n);
	return 0;
}
