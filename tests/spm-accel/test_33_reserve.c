// SPDX-License-Identifier: GPL-2.0
/*
 * A user task cannot starve the device, nor one file the others:
 *
 *   the device keeps a reserve of pages on node 2 (module parameter
 *   reserve_pages, SPM_ACCEL_IOC_LIMIT reports it): when a user task has
 *   filled the node (mbind(MPOL_BIND) to node 2, permitted by the
 *   driver's user=1, mlocked so that nothing of it can be reclaimed, and
 *   topped up with mbind(MPOL_MF_MOVE) until the node refuses more), the
 *   device still faults in reserve_pages pages, all on node 2, and its
 *   commands run on them; the next page beyond gets SIGBUS; closing the
 *   file gives the reserve its pages back
 *   a file's page limit (SPM_ACCEL_IOC_LIMIT) refuses what goes beyond it:
 *   TO_DEVICE and HANDOVER with EDQUOT and nothing allocated or handed
 *   over, a first touch with SIGBUS, /proc/self/mem with EIO; pages
 *   already held are not taken away by a lower limit
 *   the module parameter max_pages is the limit of new files and the
 *   ceiling of callers without CAP_SYS_ADMIN (EPERM); bad requests EINVAL;
 *   a LIMIT that cannot write its answer back (EFAULT) changes nothing
 *   a hand-over that fails for want of memory (ENOMEM) on the full node
 *   gives back the pages it allocated: the reserve is whole again
 */
#include <setjmp.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include "kselftest_harness.h"
#include "spm.h"
#include "spm_accel.h"

#define NODE		2
#define DEFAULT_RESERVE	4096	/* reserve_pages when LIMIT cannot tell */
#define EXTRA_PAGES	4096	/* mapped beyond the reserve */
#define LEAVE_KB	(24LL << 10)	/* left free by the mlocked fill */
#define TOPUP_BYTES	(64UL << 20)	/* moved to node 2 after the fill */
#define MAX_PAGES_PARAM	"/sys/module/spm_accel/parameters/max_pages"

#ifndef MPOL_BIND
#define MPOL_BIND	2
#endif
#ifndef MPOL_MF_MOVE
#define MPOL_MF_MOVE	(1 << 1)
#endif

static long ps;

FIXTURE(reserve) {
	int fd;
};

FIXTURE_SETUP(reserve)
{
	ps = spm_page_size();
	self->fd = spm_accel_open();
	ASSERT_LE(0, self->fd) TH_LOG("open %s: %s", SPM_ACCEL_DEVICE,
				       strerror(-self->fd));
}

FIXTURE_TEARDOWN(reserve)
{
	close(self->fd);
	spm_write_file(MAX_PAGES_PARAM, "0");
}

static sigjmp_buf touch_jmp;

static void on_sigbus(int sig)
{
	siglongjmp(touch_jmp, 1);
}

/* Write the first byte of each page of [p, p + n pages) until SIGBUS. */
static long touch_until_sigbus(char *p, long n)
{
	struct sigaction sa = { .sa_handler = on_sigbus }, old;
	volatile long touched = 0;

	sigaction(SIGBUS, &sa, &old);
	if (!sigsetjmp(touch_jmp, 1)) {
		for (; touched < n; touched++)
			p[touched * ps] = (char)touched | 1;
	}
	sigaction(SIGBUS, &old, NULL);
	return touched;
}

TEST_F(reserve, limit_refuses_with_edquot)
{
	long long dev_pages0 = spm_accel_counter("pages");
	struct spm_accel_limit lim;
	struct spm_accel_info info;
	int mfd = open("/proc/self/mem", O_RDWR | O_CLOEXEC);
	char *p, buf[16];

	ASSERT_LE(0, mfd);
	p = mmap(NULL, 64 * ps, PROT_READ | PROT_WRITE, MAP_SHARED, self->fd, 0);
	ASSERT_NE(MAP_FAILED, p);
	/* No limit by default (max_pages=0). */
	ASSERT_EQ(0, spm_accel_limit(self->fd, &lim, 0, 0));
	EXPECT_EQ(0, lim.max_pages);
	EXPECT_EQ(0, lim.pages);
	EXPECT_EQ(0, lim.limit_failures);

	ASSERT_EQ(0, spm_accel_limit(self->fd, &lim, SPM_ACCEL_LIMIT_SET, 16));
	EXPECT_EQ(16, lim.max_pages);
	EXPECT_EQ(16, touch_until_sigbus(p, 16));

	/* Beyond the limit: EDQUOT, and nothing changes. */
	EXPECT_EQ(-EDQUOT, spm_accel_range(self->fd, SPM_ACCEL_IOC_TO_DEVICE,
					   8 * ps, 16 * ps));
	EXPECT_EQ(-EDQUOT, spm_accel_handover(self->fd, 16 * ps, ps,
					      SPM_ACCEL_CPU_READ));
	ASSERT_EQ(0, spm_accel_info(self->fd, &info));
	EXPECT_EQ(16, info.pages);
	EXPECT_EQ(0, info.device_pages);
	EXPECT_EQ(dev_pages0 + 16, spm_accel_counter("pages"));
	/* The range stayed with the CPU: still mapped, still writable. */
	EXPECT_EQ(0, spm_sigbus(p + 8 * ps, 1));
	/* A first touch: SIGBUS; ptrace and /proc/PID/mem: EIO. */
	EXPECT_EQ(1, spm_sigbus(p + 16 * ps, 0));
	EXPECT_EQ(1, spm_sigbus(p + 40 * ps, 1));
	EXPECT_EQ(-1, pread(mfd, buf, sizeof(buf), (off_t)(uintptr_t)(p + 20 * ps)));
	EXPECT_EQ(EIO, errno);
	ASSERT_EQ(0, spm_accel_limit(self->fd, &lim, 0, 0));
	EXPECT_EQ(16, lim.pages);
	EXPECT_LE(5, lim.limit_failures);
	EXPECT_EQ(dev_pages0 + 16, spm_accel_counter("pages"));

	/* Within the limit, pages held: fine. */
	EXPECT_EQ(0, spm_accel_range(self->fd, SPM_ACCEL_IOC_TO_DEVICE, 0,
				     16 * ps));
	EXPECT_EQ(0, spm_accel_range(self->fd, SPM_ACCEL_IOC_TO_CPU, 0, 16 * ps));
	/* A higher limit lets the file grow. */
	ASSERT_EQ(0, spm_accel_limit(self->fd, &lim, SPM_ACCEL_LIMIT_SET, 32));
	EXPECT_EQ(0, spm_accel_range(self->fd, SPM_ACCEL_IOC_TO_DEVICE, 16 * ps,
				     16 * ps));
	EXPECT_EQ(-EDQUOT, spm_accel_range(self->fd, SPM_ACCEL_IOC_TO_DEVICE,
					   0, 33 * ps));
	EXPECT_EQ(32, spm_accel_pages_on_node(self->fd, 0, 32 * ps, NODE));
	/* A lower one takes nothing away. */
	ASSERT_EQ(0, spm_accel_limit(self->fd, &lim, SPM_ACCEL_LIMIT_SET, 8));
	EXPECT_EQ(32, lim.pages);
	EXPECT_EQ(0, spm_sigbus(p + 31 * ps, 1));
	EXPECT_EQ(1, spm_sigbus(p + 32 * ps, 1));
	/* No limit again. */
	ASSERT_EQ(0, spm_accel_limit(self->fd, &lim, SPM_ACCEL_LIMIT_SET, 0));
	EXPECT_EQ(0, spm_sigbus(p + 63 * ps, 1));
	ASSERT_EQ(0, spm_accel_info(self->fd, &info));
	EXPECT_EQ(33, info.pages);
	munmap(p, 64 * ps);
	close(mfd);
}

TEST_F(reserve, limit_bad_requests_and_ceiling)
{
	struct spm_accel_limit lim = { .flags = 1U << 1 };
	int fd2, status;
	pid_t pid;

	EXPECT_EQ(-1, ioctl(self->fd, SPM_ACCEL_IOC_LIMIT, &lim));
	EXPECT_EQ(EINVAL, errno);
	lim.flags = SPM_ACCEL_LIMIT_SET;
	lim.reserved = 1;
	EXPECT_EQ(-1, ioctl(self->fd, SPM_ACCEL_IOC_LIMIT, &lim));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(-EINVAL, spm_accel_limit(self->fd, &lim, SPM_ACCEL_LIMIT_SET,
					   SPM_ACCEL_MAX_BYTES / ps + 1));
	EXPECT_EQ(-EFAULT, ioctl(self->fd, SPM_ACCEL_IOC_LIMIT, NULL) ?
			   -errno : 0);
	ASSERT_EQ(0, spm_accel_limit(self->fd, &lim, 0, 0));
	EXPECT_EQ(0, lim.max_pages);

	/* The module parameter: the limit of new files, and a ceiling. */
	ASSERT_EQ(0, spm_write_file(MAX_PAGES_PARAM, "64"));
	fd2 = spm_accel_open();
	ASSERT_LE(0, fd2);
	ASSERT_EQ(0, spm_accel_limit(fd2, &lim, 0, 0));
	EXPECT_EQ(64, lim.max_pages);
	if (geteuid())
		SKIP(close(fd2); return, "not root");
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		struct spm_accel_limit l;

		/* Leaving uid 0 clears the capabilities; the fd stays. */
		if (setresgid(65534, 65534, 65534) ||
		    setresuid(65534, 65534, 65534))
			_exit(100);
		if (spm_accel_limit(fd2, &l, SPM_ACCEL_LIMIT_SET, 32))
			_exit(101);
		if (spm_accel_limit(fd2, &l, SPM_ACCEL_LIMIT_SET, 64))
			_exit(102);
		if (spm_accel_limit(fd2, &l, SPM_ACCEL_LIMIT_SET, 65) != -EPERM)
			_exit(103);
		if (spm_accel_limit(fd2, &l, SPM_ACCEL_LIMIT_SET, 0) != -EPERM)
			_exit(104);
		if (spm_accel_limit(fd2, &l, 0, 0) || l.max_pages != 64)
			_exit(105);
		_exit(0);
	}
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_TRUE(WIFEXITED(status));
	EXPECT_EQ(0, WEXITSTATUS(status));
	/* CAP_SYS_ADMIN may go above it. */
	EXPECT_EQ(0, spm_accel_limit(fd2, &lim, SPM_ACCEL_LIMIT_SET, 1000));
	EXPECT_EQ(1000, lim.max_pages);
	close(fd2);
}

/*
 * A LIMIT whose structure the kernel can read but not write back: EFAULT,
 * and the limit is the one before the call.
 */
TEST_F(reserve, limit_efault_changes_nothing)
{
	struct spm_accel_limit *ro, lim;

	ASSERT_EQ(0, spm_accel_limit(self->fd, &lim, SPM_ACCEL_LIMIT_SET, 24));
	ro = mmap(NULL, ps, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
		  -1, 0);
	ASSERT_NE(MAP_FAILED, ro);
	memset(ro, 0, sizeof(*ro));
	ro->flags = SPM_ACCEL_LIMIT_SET;
	ro->max_pages = 48;
	ASSERT_EQ(0, mprotect(ro, ps, PROT_READ));
	EXPECT_EQ(-1, ioctl(self->fd, SPM_ACCEL_IOC_LIMIT, ro));
	EXPECT_EQ(EFAULT, errno);
	EXPECT_EQ(48, ro->max_pages);
	/* Read back: still 24. */
	ASSERT_EQ(0, spm_accel_limit(self->fd, &lim, 0, 0));
	EXPECT_EQ(24, lim.max_pages);
	/* Writable again: the same request goes through. */
	ASSERT_EQ(0, mprotect(ro, ps, PROT_READ | PROT_WRITE));
	EXPECT_EQ(0, ioctl(self->fd, SPM_ACCEL_IOC_LIMIT, ro));
	EXPECT_EQ(48, ro->max_pages);
	ASSERT_EQ(0, spm_accel_limit(self->fd, &lim, 0, 0));
	EXPECT_EQ(48, lim.max_pages);
	munmap(ro, ps);
}

/* The fill of node 2 by a user task, mlocked. */
struct fill {
	char *a, *b;
	size_t alen, blen;
};

static void fill_node(struct __test_metadata *_metadata, struct fill *f)
{
	unsigned long node = 1UL << NODE, sysram = 1UL << 0;
	long long free_kb = SPM_GET(spm_node_meminfo(NODE, "MemFree"));
	long on_node, left;

	ASSERT_LT(LEAVE_KB + (64LL << 10), free_kb);
	/* All but LEAVE_KB, faulted in on node 2 by mlock(). */
	f->alen = ((size_t)(free_kb - LEAVE_KB) << 10) & ~((2UL << 20) - 1);
	f->a = mmap(NULL, f->alen, PROT_READ | PROT_WRITE,
		    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, f->a);
	ASSERT_EQ(0, madvise(f->a, f->alen, MADV_NOHUGEPAGE));
	ASSERT_EQ(0, spm_mbind(f->a, f->alen, MPOL_BIND, &node, 64, 0))
		TH_LOG("mbind to node %d: %s", NODE, strerror(errno));
	ASSERT_EQ(0, mlock(f->a, f->alen)) TH_LOG("mlock: %s", strerror(errno));
	/*
	 * The rest: mlocked on node 0, then moved to node 2 until the node
	 * takes no more (a migration that cannot allocate leaves the page
	 * where it is: no OOM kill).
	 */
	f->blen = TOPUP_BYTES;
	f->b = mmap(NULL, f->blen, PROT_READ | PROT_WRITE,
		    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, f->b);
	ASSERT_EQ(0, madvise(f->b, f->blen, MADV_NOHUGEPAGE));
	ASSERT_EQ(0, spm_mbind(f->b, f->blen, MPOL_BIND, &sysram, 64, 0));
	ASSERT_EQ(0, mlock(f->b, f->blen));
	ASSERT_EQ(0, spm_mbind(f->b, f->blen, MPOL_BIND, &node, 64,
			       MPOL_MF_MOVE))
		TH_LOG("mbind(MPOL_MF_MOVE) to node %d: %s", NODE, strerror(errno));
	on_node = spm_pages_on_node(f->a, f->alen, NODE);
	left = spm_pages_on_node(f->b, f->blen, 0);
	TH_LOG("node %d: %lld kB free; the task put %ld + %ld pages there, %ld stayed on node 0; %lld kB free now",
	       NODE, free_kb, on_node, (long)(f->blen / ps) - left, left,
	       spm_node_meminfo(NODE, "MemFree"));
	ASSERT_EQ((long)(f->alen / ps), on_node);
	/* The node took what it could and refused the rest. */
	ASSERT_LT(0, left);
	ASSERT_GT((long)(f->blen / ps), left);
}

static void unfill_node(struct fill *f)
{
	munmap(f->a, f->alen);
	munmap(f->b, f->blen);
}

/* Writing 512 MiB under TCG takes a while. */
TEST_F_TIMEOUT(reserve, device_faults_in_its_reserve_on_a_full_node, 200)
{
	long long allocs0 = -1, fail0 = spm_accel_counter("alloc_failures");
	struct spm_accel_limit lim;
	struct spm_accel_info info;
	struct spm_accel_op op;
	long reserve = DEFAULT_RESERVE, touched, n;
	struct fill f;
	uint64_t sum;
	char *p;
	int fd;

	ASSERT_EQ(0, spm_accel_info(self->fd, &info));
	ASSERT_EQ(1, info.user) TH_LOG("spm_accel was loaded with user=0");
	EXPECT_EQ(0, spm_accel_limit(self->fd, &lim, 0, 0));
	if (lim.reserve_size) {
		reserve = lim.reserve_size;
		allocs0 = lim.reserve_allocs;
		EXPECT_EQ(reserve, lim.reserve_pages);
	}
	ASSERT_LT(0, reserve);
	n = reserve + EXTRA_PAGES;

	fill_node(_metadata, &f);

	/* The device: every page of its reserve, on node 2. */
	fd = spm_accel_open();
	ASSERT_LE(0, fd);
	/*
	 * A hand-over of more than the node and the reserve have fails, and
	 * gives back what it allocated: the file holds nothing, the reserve
	 * is whole again.
	 */
	EXPECT_EQ(-ENOMEM, spm_accel_handover(fd, 0, n * ps, 0));
	ASSERT_EQ(0, spm_accel_info(fd, &info));
	EXPECT_EQ(0, info.pages);
	EXPECT_EQ(0, info.device_pages);
	if (allocs0 >= 0) {
		ASSERT_EQ(0, spm_accel_limit(fd, &lim, 0, 0));
		TH_LOG("the failed hand-over took %lld reserve pages; the reserve holds %lld of %lld after it",
		       (long long)(lim.reserve_allocs - allocs0),
		       (long long)lim.reserve_pages,
		       (long long)lim.reserve_size);
		EXPECT_EQ(reserve, lim.reserve_pages);
		allocs0 = lim.reserve_allocs;
	}
	p = mmap(NULL, n * ps, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	ASSERT_NE(MAP_FAILED, p);
	touched = touch_until_sigbus(p, n);
	TH_LOG("the device faulted in %ld pages (reserve %ld) before SIGBUS",
	       touched, reserve);
	EXPECT_LE(reserve, touched);
	/* And no more than that: the node was full. */
	EXPECT_GT(n, touched);
	EXPECT_LT(fail0, spm_accel_counter("alloc_failures"));
	EXPECT_EQ(0, spm_accel_counter("misplaced"));
	if (touched > 0) {
		spm_accel_pattern(p, touched * ps, 33);
		sum = spm_fnv64(SPM_FNV64_OFFSET, p, touched * ps);
		EXPECT_EQ(0, spm_accel_range(fd, SPM_ACCEL_IOC_TO_DEVICE, 0,
					     touched * ps));
		EXPECT_EQ(0, spm_accel_exec(fd, &op, SPM_ACCEL_CMD_CHECKSUM, 0,
					    0, touched * ps, 0, NULL));
		EXPECT_EQ(sum, op.result);
		EXPECT_EQ(touched, op.node_pages[NODE]);
	}
	if (allocs0 >= 0) {
		ASSERT_EQ(0, spm_accel_limit(fd, &lim, 0, 0));
		EXPECT_LE(allocs0 + reserve, lim.reserve_allocs);
		EXPECT_EQ(0, lim.reserve_pages);
	}
	munmap(p, n * ps);
	close(fd);

	/* The closed file's pages refill the reserve first. */
	if (allocs0 >= 0) {
		ASSERT_EQ(0, spm_accel_limit(self->fd, &lim, 0, 0));
		EXPECT_EQ(reserve, lim.reserve_pages);
	}
	unfill_node(&f);
}

TEST_HARNESS_MAIN
