// SPDX-License-Identifier: GPL-2.0
/*
 * The user interface as spm_accel_uapi.h documents it, beyond the bad
 * arguments of test_10_owned and test_20_managed:
 *
 *   a file opened read-only maps shared (VM_MAYSHARE, not VM_SHARED), read
 *   only; private mappings stay refused
 *   the structures have one layout for 32- and 64-bit callers (the driver
 *   passes compat ioctls through)
 *   a writing command on a mirror of read-only memory fails with EFAULT,
 *   as a write(2) into it would; the device cannot mirror its own mapping
 *   (EFAULT)
 *   RECLAIM without CAP_SYS_ADMIN: EPERM
 *   waits on user request give way to signals: a command queued behind
 *   another one and a wait for a file's lock end with EINTR when a signal
 *   arrives (the task sleeps interruptibly, "S", not "D"); a command the
 *   engine has started finishes despite a signal that does not kill, and
 *   stops at once for one that does
 *
 * The long commands are checksums over a mirror of read-only anonymous
 * memory (the zero page: nothing is allocated), sized to take about
 * LONG_SECONDS after a calibration run (at most SPM_ACCEL_MAX_BYTES); a
 * test that cannot make one last MIN_LONG seconds is skipped.
 */
#include <sys/mman.h>
#include <sys/wait.h>
#include <stddef.h>
#include <time.h>
#include "kselftest_harness.h"
#include "spm.h"
#include "spm_accel.h"

#define LONG_SECONDS	8	/* wanted length of a long command */
#define CALIB_BYTES	(32UL << 20)
#define GIVE_WAY	1.0	/* s a signalled wait may take to end */
#define MIN_LONG	2.5	/* s a long command must take to tell */
#define FILL		0x5a5a5a5a12345678ULL

static long ps;

FIXTURE(uapi) {
	int fd;
};

FIXTURE_SETUP(uapi)
{
	ps = spm_page_size();
	self->fd = spm_accel_open();
	ASSERT_LE(0, self->fd) TH_LOG("open %s: %s", SPM_ACCEL_DEVICE,
				       strerror(-self->fd));
}

FIXTURE_TEARDOWN(uapi)
{
	close(self->fd);
}

static double now(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec + t.tv_nsec / 1e9;
}

TEST_F(uapi, read_only_file_maps_shared)
{
	struct spm_accel_op op;
	int ro = open(SPM_ACCEL_DEVICE, O_RDONLY | O_CLOEXEC);
	char *q;

	ASSERT_LE(0, ro);
	/* MAP_SHARED of a read-only file: VM_MAYSHARE without VM_SHARED. */
	q = mmap(NULL, 4 * ps, PROT_READ, MAP_SHARED, ro, 0);
	ASSERT_NE(MAP_FAILED, q) TH_LOG("mmap: %s", strerror(errno));
	EXPECT_TRUE(spm_accel_all_words(q, 4 * ps, 0));
	ASSERT_EQ(0, spm_accel_range(ro, SPM_ACCEL_IOC_TO_DEVICE, 0, 4 * ps));
	EXPECT_EQ(1, spm_sigbus(q, 0));
	ASSERT_EQ(0, spm_accel_exec(ro, &op, SPM_ACCEL_CMD_FILL, 0, 0, 4 * ps,
				    FILL, NULL));
	ASSERT_EQ(0, spm_accel_range(ro, SPM_ACCEL_IOC_TO_CPU, 0, 4 * ps));
	EXPECT_TRUE(spm_accel_all_words(q, 4 * ps, FILL));
	/* Never writable. */
	EXPECT_EQ(-1, mprotect(q, ps, PROT_READ | PROT_WRITE));
	EXPECT_EQ(EACCES, errno);
	munmap(q, 4 * ps);
	/* Private mappings are refused, whatever the file's mode. */
	EXPECT_EQ(MAP_FAILED, mmap(NULL, ps, PROT_READ, MAP_PRIVATE, ro, 0));
	EXPECT_EQ(EINVAL, errno);
	close(ro);
}

TEST_F(uapi, structures_have_one_layout_for_compat)
{
	/* Every __u64 at a multiple of 8, sizes multiples of 8: i386 agrees. */
	EXPECT_EQ(16, sizeof(struct spm_accel_range));
	EXPECT_EQ(8, offsetof(struct spm_accel_range, length));
	EXPECT_EQ(104, sizeof(struct spm_accel_op));
	EXPECT_EQ(8, offsetof(struct spm_accel_op, addr));
	EXPECT_EQ(32, offsetof(struct spm_accel_op, nodes_ptr));
	EXPECT_EQ(64, offsetof(struct spm_accel_op, invalidations));
	EXPECT_EQ(72, offsetof(struct spm_accel_op, node_pages));
	EXPECT_EQ(144, sizeof(struct spm_accel_info));
	EXPECT_EQ(8, offsetof(struct spm_accel_info, dev_pages));
	EXPECT_EQ(136, offsetof(struct spm_accel_info, mirrors));
	EXPECT_EQ(_IOC_SIZE(SPM_ACCEL_IOC_EXEC), sizeof(struct spm_accel_op));
	EXPECT_EQ(_IOC_SIZE(SPM_ACCEL_IOC_RECLAIM), 8);
	EXPECT_EQ(24, sizeof(struct spm_accel_handover));
	EXPECT_EQ(16, offsetof(struct spm_accel_handover, flags));
	EXPECT_EQ(_IOC_SIZE(SPM_ACCEL_IOC_HANDOVER),
		  sizeof(struct spm_accel_handover));
	EXPECT_EQ(56, sizeof(struct spm_accel_limit));
	EXPECT_EQ(16, offsetof(struct spm_accel_limit, pages));
	EXPECT_EQ(48, offsetof(struct spm_accel_limit, reserve_allocs));
	EXPECT_EQ(_IOC_SIZE(SPM_ACCEL_IOC_LIMIT), sizeof(struct spm_accel_limit));
}

TEST_F(uapi, writing_command_on_read_only_mirror_efault)
{
	struct spm_accel_op op;
	char *z = mmap(NULL, 8 * ps, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS,
		       -1, 0);

	ASSERT_NE(MAP_FAILED, z);
	ASSERT_EQ(0, spm_accel_range(self->fd, SPM_ACCEL_IOC_MIRROR,
				     (uintptr_t)z, 8 * ps));
	/* Reading is fine (zero pages)... */
	ASSERT_EQ(0, spm_accel_exec(self->fd, &op, SPM_ACCEL_CMD_CHECKSUM,
				    SPM_ACCEL_OP_USER, (uintptr_t)z, 8 * ps, 0,
				    NULL));
	/* ... writing is not: EFAULT, as for write(2) into it. */
	EXPECT_EQ(-EFAULT, spm_accel_exec(self->fd, &op, SPM_ACCEL_CMD_FILL,
					  SPM_ACCEL_OP_USER, (uintptr_t)z,
					  8 * ps, FILL, NULL));
	EXPECT_EQ(-EFAULT, spm_accel_exec(self->fd, &op, SPM_ACCEL_CMD_XOR,
					  SPM_ACCEL_OP_USER, (uintptr_t)z + ps,
					  ps, FILL, NULL));
	EXPECT_TRUE(spm_accel_all_words(z, 8 * ps, 0));
	munmap(z, 8 * ps);
}

TEST_F(uapi, device_cannot_mirror_its_own_mapping)
{
	struct spm_accel_op op;
	char *q = mmap(NULL, 4 * ps, PROT_READ | PROT_WRITE, MAP_SHARED,
		       self->fd, 0);

	ASSERT_NE(MAP_FAILED, q);
	spm_touch(q, 4 * ps);
	ASSERT_EQ(0, spm_accel_range(self->fd, SPM_ACCEL_IOC_MIRROR,
				     (uintptr_t)q, 4 * ps));
	EXPECT_EQ(-EFAULT, spm_accel_exec(self->fd, &op, SPM_ACCEL_CMD_CHECKSUM,
					  SPM_ACCEL_OP_USER, (uintptr_t)q,
					  4 * ps, 0, NULL));
	EXPECT_EQ(-EFAULT, spm_accel_exec(self->fd, &op, SPM_ACCEL_CMD_FILL,
					  SPM_ACCEL_OP_USER, (uintptr_t)q,
					  4 * ps, FILL, NULL));
	munmap(q, 4 * ps);
}

TEST_F(uapi, reclaim_needs_cap_sys_admin)
{
	int status;
	pid_t pid;

	if (geteuid())
		SKIP(return, "not root");
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		uint64_t nr = 16;

		/* Leaving uid 0 clears the capabilities; the fd stays. */
		if (setresgid(65534, 65534, 65534) ||
		    setresuid(65534, 65534, 65534))
			_exit(100);
		if (!ioctl(self->fd, SPM_ACCEL_IOC_RECLAIM, &nr))
			_exit(0);
		_exit(errno < 100 ? errno : 99);
	}
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_TRUE(WIFEXITED(status));
	EXPECT_EQ(EPERM, WEXITSTATUS(status));
}

/* ------------------------------------------------------------------ waits */

static void on_usr1(int sig)
{
	(void)sig;
}

/* SIGUSR1 interrupts system calls (no SA_RESTART). */
static void catch_usr1(void)
{
	struct sigaction sa = { .sa_handler = on_usr1 };

	sigemptyset(&sa.sa_mask);
	sigaction(SIGUSR1, &sa, NULL);
}

/*
 * A checksum over a mirror of len bytes of read-only anonymous memory
 * (zero pages) on fd; ready, if >= 0, gets a byte just before the
 * command.  0 or -errno.
 */
static int long_checksum(int fd, size_t len, int ready)
{
	struct spm_accel_op op;
	char *z = mmap(NULL, len, PROT_READ,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	int ret;

	if (z == MAP_FAILED)
		return -errno;
	ret = spm_accel_range(fd, SPM_ACCEL_IOC_MIRROR, (uintptr_t)z, len);
	if (!ret) {
		if (ready >= 0 && write(ready, "r", 1) != 1)
			ret = -EPIPE;
		else
			ret = spm_accel_exec(fd, &op, SPM_ACCEL_CMD_CHECKSUM,
					     SPM_ACCEL_OP_USER, (uintptr_t)z,
					     len, 0, NULL);
		spm_accel_range(fd, SPM_ACCEL_IOC_UNMIRROR, (uintptr_t)z, len);
	}
	munmap(z, len);
	return ret;
}

/*
 * Size of a checksum that takes about secs, from a calibration run; *est:
 * its estimated length in seconds.  0 on failure.
 */
static size_t long_size(int fd, double secs, size_t max, double *est)
{
	double t0 = now(), t;
	size_t len;

	if (long_checksum(fd, CALIB_BYTES, -1))
		return 0;
	t = now() - t0;
	len = (size_t)(CALIB_BYTES * (secs / (t > 1e-3 ? t : 1e-3)));
	len = (len + (2UL << 20) - 1) & ~((2UL << 20) - 1);
	if (len < 2 * CALIB_BYTES)
		len = 2 * CALIB_BYTES;
	if (len > max)
		len = max;
	*est = t * len / CALIB_BYTES;
	return len;
}

/* The state letter of /proc/PID/stat ('R', 'S', 'D', ...), or '?'. */
static char task_state(pid_t pid)
{
	char path[64], buf[512], *p;

	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	if (spm_read_file(path, buf, sizeof(buf)) <= 0)
		return '?';
	p = strrchr(buf, ')');
	return p && p[1] == ' ' ? p[2] : '?';
}

/* Wait until pid sleeps ('S' or 'D'), at most secs; its last state. */
static char await_sleep(pid_t pid, double secs)
{
	double end = now() + secs;
	char st;

	do {
		st = task_state(pid);
		if (st == 'S' || st == 'D')
			return st;
		usleep(20000);
	} while (now() < end);
	return st;
}

/* Reap pid within secs: 1 (and *status) or 0. */
static int reap_within(pid_t pid, double secs, int *status)
{
	double end = now() + secs;

	do {
		if (waitpid(pid, status, WNOHANG) == pid)
			return 1;
		usleep(20000);
	} while (now() < end);
	return 0;
}

/* Exit status of a child that ran a call ending in 0 or -errno. */
static int exit_code(int ret)
{
	return ret == -EINTR ? 0 : !ret ? 1 : 2;
}

/* Start the long command in a child, on fd; returns once it is submitted. */
static pid_t start_long(int fd, size_t len)
{
	int pfd[2];
	pid_t pid;
	char c;

	if (pipe(pfd))
		return -1;
	pid = fork();
	if (!pid) {
		close(pfd[0]);
		catch_usr1();
		_exit(exit_code(long_checksum(fd, len, pfd[1])));
	}
	close(pfd[1]);
	if (pid > 0 && read(pfd[0], &c, 1) != 1) {
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
		pid = -1;
	}
	close(pfd[0]);
	/* The command is with the engine (or on its way) now. */
	usleep(300000);
	return pid;
}

/*
 * A child that blocks in call(fd) behind the long command: signal it once
 * it sleeps and check that the call ends with EINTR within GIVE_WAY while
 * the long command still runs.
 */
static void signalled_wait(struct __test_metadata *_metadata, pid_t longer,
			   int (*call)(int fd), int fd, const char *what)
{
	int pfd[2], status = 0, reaped;
	double t0;
	pid_t pid;
	char c, st;

	ASSERT_EQ(0, pipe(pfd));
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		close(pfd[0]);
		catch_usr1();
		if (write(pfd[1], "r", 1) != 1)
			_exit(3);
		_exit(exit_code(call(fd)));
	}
	close(pfd[1]);
	ASSERT_EQ(1, read(pfd[0], &c, 1));
	close(pfd[0]);
	usleep(200000);
	st = await_sleep(pid, 5);
	TH_LOG("%s: the waiting task is in state %c", what, st);
	ASSERT_EQ(0, waitpid(longer, &status, WNOHANG))
		TH_LOG("the long command ended before the test could wait behind it");
	kill(pid, SIGUSR1);
	t0 = now();
	reaped = reap_within(pid, GIVE_WAY, &status);
	EXPECT_TRUE(reaped)
		TH_LOG("%s: still waiting %.1f s after SIGUSR1", what, GIVE_WAY);
	/* It ended while the long command was still running. */
	EXPECT_EQ(0, waitpid(longer, NULL, WNOHANG));
	if (!reaped)
		waitpid(pid, &status, 0);
	TH_LOG("%s: ended %.2f s after SIGUSR1", what, now() - t0);
	ASSERT_TRUE(WIFEXITED(status));
	EXPECT_EQ(0, WEXITSTATUS(status))
		TH_LOG("%s: %s", what, WEXITSTATUS(status) == 1 ?
		       "completed instead of EINTR" : "failed, not with EINTR");
	EXPECT_EQ('S', st) TH_LOG("%s: not an interruptible sleep", what);
}

/* A one-page checksum of driver-owned memory on a file of its own. */
static int short_command(int fd)
{
	struct spm_accel_op op;
	int own = spm_accel_open(), ret;

	(void)fd;
	if (own < 0)
		return own;
	ret = spm_accel_range(own, SPM_ACCEL_IOC_TO_DEVICE, 0, ps);
	if (!ret)
		ret = spm_accel_exec(own, &op, SPM_ACCEL_CMD_CHECKSUM, 0, 0,
				     ps, 0, NULL);
	close(own);
	return ret;
}

TEST_F_TIMEOUT(uapi, queued_command_gives_way_to_a_signal, 150)
{
	size_t len;
	double est = 0;
	int status;
	pid_t a;

	len = long_size(self->fd, LONG_SECONDS, SPM_ACCEL_MAX_BYTES, &est);
	ASSERT_LT(0, len);
	TH_LOG("long command: %zu MiB, about %.1f s", len >> 20, est);
	if (est < MIN_LONG)
		SKIP(return, "the engine is too fast to tell (%.1f s)", est);

	a = start_long(self->fd, len);
	ASSERT_LT(0, a);
	signalled_wait(_metadata, a, short_command, -1,
		       "a command queued behind it");

	/* A signal that does not kill lets the running command finish. */
	kill(a, SIGUSR1);
	ASSERT_TRUE(reap_within(a, 3 * est + 30, &status));
	ASSERT_TRUE(WIFEXITED(status));
	EXPECT_EQ(1, WEXITSTATUS(status))
		TH_LOG("the running command did not complete after SIGUSR1");
}

/* MIRROR of a page of fresh memory: waits for the file's mirror lock. */
static int mirror_call(int fd)
{
	char *q = mmap(NULL, ps, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (q == MAP_FAILED)
		return -errno;
	return spm_accel_range(fd, SPM_ACCEL_IOC_MIRROR, (uintptr_t)q, ps);
}

TEST_F_TIMEOUT(uapi, lock_wait_gives_way_to_a_signal, 150)
{
	size_t len;
	double est = 0;
	pid_t a;

	len = long_size(self->fd, LONG_SECONDS, SPM_ACCEL_MAX_BYTES, &est);
	ASSERT_LT(0, len);
	TH_LOG("long command: %zu MiB, about %.1f s", len >> 20, est);
	if (est < MIN_LONG)
		SKIP(return, "the engine is too fast to tell (%.1f s)", est);

	/* Both on the same file: the command holds its mirrors. */
	a = start_long(self->fd, len);
	ASSERT_LT(0, a);
	signalled_wait(_metadata, a, mirror_call, self->fd,
		       "MIRROR on the same file");
	kill(a, SIGKILL);
	waitpid(a, NULL, 0);
}

TEST_F_TIMEOUT(uapi, fatal_signal_stops_a_running_command, 150)
{
	struct spm_accel_op op;
	size_t len;
	double est = 0, t0, took;
	int status;
	pid_t a;

	len = long_size(self->fd, LONG_SECONDS, SPM_ACCEL_MAX_BYTES, &est);
	ASSERT_LT(0, len);
	TH_LOG("long command: %zu MiB, about %.1f s", len >> 20, est);
	if (est < MIN_LONG)
		SKIP(return, "the engine is too fast to tell (%.1f s)", est);

	a = start_long(self->fd, len);
	ASSERT_LT(0, a);
	ASSERT_EQ(0, waitpid(a, &status, WNOHANG));
	kill(a, SIGKILL);
	t0 = now();
	ASSERT_EQ(a, waitpid(a, &status, 0));
	took = now() - t0;
	TH_LOG("killed %.2f s into a %.1f s command: gone after %.2f s",
	       0.3, est, took);
	EXPECT_TRUE(WIFSIGNALED(status));
	EXPECT_GT(1.0, took) TH_LOG("the command ran on for the killed task");

	/* The engine is free again. */
	t0 = now();
	ASSERT_EQ(0, spm_accel_range(self->fd, SPM_ACCEL_IOC_TO_DEVICE, 0, ps));
	ASSERT_EQ(0, spm_accel_exec(self->fd, &op, SPM_ACCEL_CMD_CHECKSUM, 0, 0,
				    ps, 0, NULL));
	EXPECT_GT(1.0, now() - t0);
}

TEST_HARNESS_MAIN
