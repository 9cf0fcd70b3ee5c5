// SPDX-License-Identifier: GPL-2.0
/*
 * get_user_pages() on the driver's mapping.  Device memory must not be
 * reachable through a page reference taken from the CPU mapping: such a
 * reference, taken before TO_DEVICE, would let the CPU read what the
 * device writes, and a long-term pin of a page the kernel can neither
 * migrate nor pin must end, never loop.  The kernel has no io_uring, RDMA,
 * VFIO or GUP_TEST, so the long-term pin goes through spm_test_owner's
 * debugfs "pin" file (own=0: it claims nothing), which does what such a
 * driver does: pin_user_pages_fast(FOLL_WRITE | FOLL_LONGTERM).
 *
 *   vmsplice() of a CPU-owned page fails (EFAULT); had it succeeded, the
 *   pipe must still not see what the device writes after TO_DEVICE
 *   vmsplice() of a device-owned page fails (EFAULT)
 *   a long-term pin of CPU-owned, untouched or device-owned pages ends
 *   within PIN_SECONDS, with EFAULT
 *   process_vm_readv()/process_vm_writev() (when the kernel has them) and
 *   an O_DIRECT read from a block device into the mapping fail with EFAULT
 *   /proc/self/mem (the ptrace path) reads and writes CPU-owned pages,
 *   allocates untouched ones, and gets EIO on device-owned pages and for
 *   writes through a read-only mapping
 */
#include <sys/mman.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <time.h>
#include "kselftest_harness.h"
#include "spm.h"
#include "spm_owner.h"
#include "spm_accel.h"

#define NPAGES		16
#define PIN_SECONDS	15	/* budget of one long-term pin */
#define FILL		0xd5d5d5d5a5a5a5a5ULL

static long ps;

FIXTURE(gup) {
	int fd;
	char *p;
	size_t len;
	int owner;	/* spm_test_owner loaded by this test */
};

FIXTURE_SETUP(gup)
{
	ps = spm_page_size();
	self->len = NPAGES * ps;
	self->owner = 0;
	self->fd = spm_accel_open_map(self->len, &self->p);
	ASSERT_LE(0, self->fd) TH_LOG("open and map %s: %s", SPM_ACCEL_DEVICE,
				       strerror(-self->fd));
}

FIXTURE_TEARDOWN(gup)
{
	munmap(self->p, self->len);
	close(self->fd);
	if (self->owner) {
		owner_put("unpin", "1");
		owner_unload();
	}
}

TEST_F(gup, vmsplice_of_cpu_owned_page)
{
	struct iovec iov = { .iov_base = self->p, .iov_len = ps };
	struct spm_accel_op op;
	int pfd[2], err;
	ssize_t n;
	char *buf;

	spm_accel_pattern(self->p, self->len, 41);
	ASSERT_EQ(0, pipe(pfd));
	n = vmsplice(pfd[1], &iov, 1, 0);
	err = errno;
	/* No page reference through the mapping: refused up front. */
	EXPECT_EQ(-1, n);
	if (n < 0) {
		EXPECT_EQ(EFAULT, err);
	} else {
		/* The pipe holds a reference; the device takes the page. */
		TH_LOG("vmsplice() took %zd bytes of a CPU-owned page", n);
		ASSERT_EQ(0, spm_accel_range(self->fd, SPM_ACCEL_IOC_TO_DEVICE,
					     0, self->len));
		ASSERT_EQ(0, spm_accel_exec(self->fd, &op, SPM_ACCEL_CMD_FILL,
					    0, 0, ps, FILL, NULL));
		buf = malloc(ps);
		ASSERT_NE(NULL, buf);
		ASSERT_EQ(ps, read(pfd[0], buf, ps));
		EXPECT_FALSE(spm_accel_all_words(buf, ps, FILL))
			TH_LOG("the pipe reads what the device wrote after TO_DEVICE");
		free(buf);
	}
	close(pfd[0]);
	close(pfd[1]);
}

TEST_F(gup, vmsplice_of_device_owned_page)
{
	struct iovec iov = { .iov_base = self->p, .iov_len = ps };
	int pfd[2];

	spm_accel_pattern(self->p, self->len, 42);
	ASSERT_EQ(0, spm_accel_range(self->fd, SPM_ACCEL_IOC_TO_DEVICE, 0,
				     self->len));
	ASSERT_EQ(0, pipe(pfd));
	EXPECT_EQ(-1, vmsplice(pfd[1], &iov, 1, 0));
	EXPECT_EQ(EFAULT, errno);
	close(pfd[0]);
	close(pfd[1]);
}

/*
 * Long-term pin of n pages at p, by a child writing spm_test_owner's pin
 * file: 0 (pinned), -errno, or -ETIMEDOUT when it had not ended after
 * PIN_SECONDS (the child is killed then; a fatal signal ends GUP's retry
 * loop).  *secs: how long it took.
 */
static int longterm_pin(void *p, long n, double *secs)
{
	struct timespec t0, t1;
	int status, i, ret = -ETIMEDOUT;
	char cmd[64];
	pid_t pid;

	snprintf(cmd, sizeof(cmd), "%lx %ld", (unsigned long)p, n);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	pid = fork();
	if (pid < 0)
		return -errno;
	if (!pid) {
		int r = owner_put("pin", cmd);

		_exit(r < 0 ? (-r > 0 && -r < 126 ? -r : 126) : 0);
	}
	for (i = 0; i < PIN_SECONDS * 20; i++) {
		if (waitpid(pid, &status, WNOHANG) == pid) {
			ret = WIFEXITED(status) ? -WEXITSTATUS(status) : -ECHILD;
			break;
		}
		usleep(50000);
	}
	if (ret == -ETIMEDOUT) {
		kill(pid, SIGKILL);
		waitpid(pid, &status, 0);
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	*secs = t1.tv_sec - t0.tv_sec + (t1.tv_nsec - t0.tv_nsec) / 1e9;
	return ret;
}

TEST_F_TIMEOUT(gup, longterm_pin_ends_with_an_error, 3 * PIN_SECONDS + 30)
{
	int ret = owner_load("own=0");
	double secs;

	if (ret == -EEXIST) {
		/* Left behind by someone else: use it, but leave it loaded. */
		ret = 0;
	} else if (!ret) {
		self->owner = 1;
	}
	if (ret)
		SKIP(return, "spm_test_owner own=0 does not load: %s",
		     strerror(-ret));

	/* CPU-owned, mapped pages. */
	spm_accel_pattern(self->p, 4 * ps, 43);
	ret = longterm_pin(self->p, 4, &secs);
	TH_LOG("pin of 4 CPU-owned pages: %s after %.1f s",
	       ret ? strerror(-ret) : "pinned", secs);
	EXPECT_NE(-ETIMEDOUT, ret) TH_LOG("GUP kept retrying for %d s", PIN_SECONDS);
	EXPECT_EQ(-EFAULT, ret);
	if (!ret)
		owner_put("unpin", "1");

	/* Pages never touched: GUP would have to fault them in. */
	ret = longterm_pin(self->p + 4 * ps, 4, &secs);
	TH_LOG("pin of 4 untouched pages: %s after %.1f s",
	       ret ? strerror(-ret) : "pinned", secs);
	EXPECT_NE(-ETIMEDOUT, ret) TH_LOG("GUP kept retrying for %d s", PIN_SECONDS);
	EXPECT_EQ(-EFAULT, ret);
	if (!ret)
		owner_put("unpin", "1");

	/* Device-owned pages: no CPU mapping can be made. */
	ASSERT_EQ(0, spm_accel_range(self->fd, SPM_ACCEL_IOC_TO_DEVICE,
				     8 * ps, 4 * ps));
	ret = longterm_pin(self->p + 8 * ps, 4, &secs);
	TH_LOG("pin of 4 device-owned pages: %s after %.1f s",
	       ret ? strerror(-ret) : "pinned", secs);
	EXPECT_EQ(-EFAULT, ret);
	if (!ret)
		owner_put("unpin", "1");

	/* The memory is intact and still usable. */
	ASSERT_EQ(0, spm_accel_range(self->fd, SPM_ACCEL_IOC_TO_CPU, 0,
				     self->len));
	EXPECT_EQ(0, spm_sigbus(self->p, 1));
	EXPECT_EQ(0, spm_sigbus(self->p + 4 * ps, 1));
	EXPECT_EQ(0, spm_sigbus(self->p + 8 * ps, 1));
}

TEST_F(gup, process_vm_readv_writev_fail)
{
	char *buf = malloc(ps);
	struct iovec local = { .iov_base = buf, .iov_len = ps };
	struct iovec remote = { .iov_base = self->p, .iov_len = ps };

	ASSERT_NE(NULL, buf);
	if (process_vm_readv(getpid(), &local, 1, &local, 1, 0) < 0 &&
	    errno == ENOSYS) {
		free(buf);
		SKIP(return, "no process_vm_readv() (CONFIG_CROSS_MEMORY_ATTACH)");
	}
	spm_accel_pattern(self->p, self->len, 44);
	memset(buf, 0x3c, ps);
	EXPECT_EQ(-1, process_vm_readv(getpid(), &local, 1, &remote, 1, 0));
	EXPECT_EQ(EFAULT, errno);
	EXPECT_EQ(-1, process_vm_writev(getpid(), &local, 1, &remote, 1, 0));
	EXPECT_EQ(EFAULT, errno);
	/* Nothing was written. */
	spm_accel_pattern(buf, ps, 44);
	EXPECT_EQ(0, memcmp(buf, self->p, ps));

	ASSERT_EQ(0, spm_accel_range(self->fd, SPM_ACCEL_IOC_TO_DEVICE, 0,
				     self->len));
	EXPECT_EQ(-1, process_vm_readv(getpid(), &local, 1, &remote, 1, 0));
	EXPECT_EQ(EFAULT, errno);
	free(buf);
}

TEST_F(gup, odirect_read_into_mapping_fails)
{
	static const char *const devs[] = { "/dev/pmem0", "/dev/zram0" };
	unsigned int i;
	ssize_t n;
	int bfd = -1;

	for (i = 0; i < sizeof(devs) / sizeof(devs[0]) && bfd < 0; i++) {
		bfd = open(devs[i], O_RDONLY | O_DIRECT | O_CLOEXEC);
		/* An unconfigured zram device has no sectors to read. */
		if (bfd >= 0 && lseek(bfd, 0, SEEK_END) < 2 * ps) {
			close(bfd);
			bfd = -1;
		}
	}
	if (bfd < 0)
		SKIP(return, "no block device for O_DIRECT (/dev/pmem0, /dev/zram0)");
	TH_LOG("O_DIRECT reads from %s", devs[i - 1]);

	spm_accel_pattern(self->p, self->len, 45);
	n = pread(bfd, self->p, ps, 0);
	EXPECT_EQ(-1, n);
	EXPECT_EQ(EFAULT, errno);
	n = pread(bfd, self->p + 4 * ps, ps, 0);	/* untouched */
	EXPECT_EQ(-1, n);
	EXPECT_EQ(EFAULT, errno);
	close(bfd);
}

TEST_F(gup, proc_self_mem_follows_ownership)
{
	int mfd = open("/proc/self/mem", O_RDWR | O_CLOEXEC);
	char *buf = malloc(ps), *ro;
	off_t at = (off_t)(uintptr_t)self->p;

	ASSERT_LE(0, mfd);
	ASSERT_NE(NULL, buf);
	spm_accel_pattern(self->p, 2 * ps, 46);

	/* CPU-owned: read and written as the CPU would. */
	ASSERT_EQ(ps, pread(mfd, buf, ps, at));
	EXPECT_EQ(0, memcmp(buf, self->p, ps));
	ASSERT_EQ(4, pwrite(mfd, "spm!", 4, at + ps + 8));
	EXPECT_EQ(0, memcmp(self->p + ps + 8, "spm!", 4));
	/* Untouched: the page is allocated (zeroes). */
	memset(buf, 0x77, ps);
	ASSERT_EQ(ps, pread(mfd, buf, ps, at + 4 * ps));
	EXPECT_TRUE(spm_accel_all_words(buf, ps, 0));

	/* Device-owned: not through this path either. */
	ASSERT_EQ(0, spm_accel_range(self->fd, SPM_ACCEL_IOC_TO_DEVICE, 0,
				     2 * ps));
	EXPECT_EQ(-1, pread(mfd, buf, ps, at));
	EXPECT_EQ(EIO, errno);
	EXPECT_EQ(-1, pwrite(mfd, "xx", 2, at + ps));
	EXPECT_EQ(EIO, errno);
	ASSERT_EQ(0, spm_accel_range(self->fd, SPM_ACCEL_IOC_TO_CPU, 0, 2 * ps));
	EXPECT_EQ(0, memcmp(self->p + ps + 8, "spm!", 4));

	/* A forced write through a read-only shared mapping is refused. */
	ro = mmap(NULL, ps, PROT_READ, MAP_SHARED, self->fd, 0);
	ASSERT_NE(MAP_FAILED, ro);
	EXPECT_EQ(-1, pwrite(mfd, "xx", 2, (off_t)(uintptr_t)ro));
	EXPECT_EQ(EIO, errno);
	ASSERT_EQ(ps, pread(mfd, buf, ps, (off_t)(uintptr_t)ro));
	EXPECT_EQ(0, memcmp(buf, self->p, ps));
	munmap(ro, ps);
	free(buf);
	close(mfd);
}

TEST_HARNESS_MAIN
