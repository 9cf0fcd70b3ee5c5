// SPDX-License-Identifier: GPL-2.0
/*
 * Driver-owned memory of /dev/spm_accel:
 *
 *   the first CPU touch allocates the page on node 2 (as the device sees
 *   it: move_pages() sees no page in the VM_PFNMAP mapping)
 *   device commands (checksum, fill, xor) agree with the CPU
 *   a device-owned range has no CPU mapping: CPU access gets SIGBUS
 *   the device refuses ranges it does not own (EACCES)
 *   bad arguments get exact errnos
 *   handing a range to the device zaps only the mappings of that file
 *   pages go back when the last mapping and the file are gone
 */
#include <sys/mman.h>
#include <sys/wait.h>
#include "kselftest_harness.h"
#include "spm.h"
#include "spm_accel.h"

#define NODE	2
#define NPAGES	64

static long ps;

FIXTURE(owned) {
	int fd;
	char *p;
	size_t len;
};

FIXTURE_SETUP(owned)
{
	ps = spm_page_size();
	self->len = NPAGES * ps;
	self->fd = spm_accel_open_map(self->len, &self->p);
	ASSERT_LE(0, self->fd) TH_LOG("open and map %s: %s", SPM_ACCEL_DEVICE,
				       strerror(-self->fd));
}

FIXTURE_TEARDOWN(owned)
{
	munmap(self->p, self->len);
	close(self->fd);
}

TEST_F(owned, first_touch_allocates_on_node)
{
	struct spm_accel_info a, b;
	long long dev0 = spm_accel_counter("pages");

	ASSERT_EQ(0, spm_accel_info(self->fd, &a));
	EXPECT_EQ(NODE, a.nid);
	EXPECT_EQ(0, a.pages);
	EXPECT_EQ(0, a.faults);

	spm_accel_pattern(self->p, self->len, 1);
	ASSERT_EQ(0, spm_accel_info(self->fd, &b));
	EXPECT_EQ(NPAGES, b.pages);
	EXPECT_EQ(0, b.device_pages);
	/* One fault per page: the write goes through the first mapping. */
	EXPECT_EQ(NPAGES, b.faults);
	EXPECT_EQ(0, b.alloc_failures);
	EXPECT_LE(dev0 + NPAGES, spm_accel_counter("pages"));
	EXPECT_EQ(0, spm_accel_counter("misplaced"));
	/* No struct page to find in the mapping (VM_PFNMAP)... */
	EXPECT_EQ(-ENOENT, spm_node_of(self->p));
	/* ... the device sees where the pages are. */
	EXPECT_EQ(NPAGES, spm_accel_pages_on_node(self->fd, 0, self->len, NODE));
}

TEST_F(owned, device_checksum_matches_cpu)
{
	int32_t nodes[NPAGES];
	struct spm_accel_op op;
	uint64_t sum, sub;
	int i;

	spm_accel_pattern(self->p, self->len, 2);
	sum = spm_fnv64(SPM_FNV64_OFFSET, self->p, self->len);
	sub = spm_fnv64(SPM_FNV64_OFFSET, self->p + 8 * ps, 16 * ps);
	ASSERT_EQ(0, spm_accel_range(self->fd, SPM_ACCEL_IOC_TO_DEVICE, 0,
				     self->len));

	memset(nodes, 0x7f, sizeof(nodes));
	ASSERT_EQ(0, spm_accel_exec(self->fd, &op, SPM_ACCEL_CMD_CHECKSUM, 0, 0,
				    self->len, 0, nodes));
	EXPECT_EQ(sum, op.result);
	EXPECT_EQ(NPAGES, op.pages);
	EXPECT_EQ(NPAGES, op.node_pages[NODE]);
	EXPECT_EQ(0, op.faulted);
	for (i = 0; i < NPAGES; i++)
		ASSERT_EQ(NODE, nodes[i]) TH_LOG("page %d", i);

	ASSERT_EQ(0, spm_accel_exec(self->fd, &op, SPM_ACCEL_CMD_CHECKSUM, 0,
				    8 * ps, 16 * ps, 0, NULL));
	EXPECT_EQ(sub, op.result);
	EXPECT_EQ(16, op.pages);
}

TEST_F(owned, device_fill_and_xor_seen_by_cpu)
{
	const uint64_t fill = 0x1122334455667788ULL, key = 0xf0f0f0f00f0f0f0fULL;
	struct spm_accel_op op;
	struct spm_accel_info info;
	uint64_t *w = (uint64_t *)self->p;
	void *zero;
	size_t i;

	/* Never touched by the CPU: the hand-over allocates the pages. */
	ASSERT_EQ(0, spm_accel_range(self->fd, SPM_ACCEL_IOC_TO_DEVICE, 0,
				     self->len));
	ASSERT_EQ(0, spm_accel_info(self->fd, &info));
	EXPECT_EQ(NPAGES, info.pages);
	EXPECT_EQ(NPAGES, info.device_pages);
	EXPECT_EQ(0, info.faults);

	/* Fresh device pages are zeroed. */
	ASSERT_EQ(0, spm_accel_exec(self->fd, &op, SPM_ACCEL_CMD_CHECKSUM, 0, 0,
				    ps, 0, NULL));
	zero = calloc(1, ps);
	ASSERT_NE(NULL, zero);
	EXPECT_EQ(spm_fnv64(SPM_FNV64_OFFSET, zero, ps), op.result);
	free(zero);

	ASSERT_EQ(0, spm_accel_exec(self->fd, &op, SPM_ACCEL_CMD_FILL, 0, 0,
				    self->len, fill, NULL));
	ASSERT_EQ(0, spm_accel_exec(self->fd, &op, SPM_ACCEL_CMD_XOR, 0,
				    4 * ps, 4 * ps, key, NULL));
	ASSERT_EQ(0, spm_accel_range(self->fd, SPM_ACCEL_IOC_TO_CPU, 0,
				     self->len));
	ASSERT_EQ(0, spm_accel_info(self->fd, &info));
	EXPECT_EQ(0, info.device_pages);

	for (i = 0; i < self->len / 8; i++) {
		uint64_t want = (i >= 4 * ps / 8 && i < 8 * ps / 8) ?
				fill ^ key : fill;

		ASSERT_EQ(want, w[i]) TH_LOG("word %zu", i);
	}
	EXPECT_EQ(NPAGES, spm_accel_pages_on_node(self->fd, 0, self->len, NODE));
}

TEST_F(owned, cpu_access_to_device_range_sigbus)
{
	struct spm_accel_info a, b;
	uint64_t sum;

	spm_accel_pattern(self->p, self->len, 3);
	sum = spm_fnv64(SPM_FNV64_OFFSET, self->p, self->len);
	ASSERT_EQ(0, spm_accel_range(self->fd, SPM_ACCEL_IOC_TO_DEVICE, 0,
				     16 * ps));

	/*
	 * The CPU mappings of the range are gone and cannot come back while
	 * the device owns it: each access faults (and gets SIGBUS).  The page
	 * after the range is still mapped: reading it does not fault.
	 */
	ASSERT_EQ(0, spm_accel_info(self->fd, &a));
	EXPECT_EQ(1, spm_sigbus(self->p, 1));
	EXPECT_EQ(1, spm_sigbus(self->p + 15 * ps + 100, 1));
	EXPECT_EQ(1, spm_sigbus(self->p + 3 * ps, 0));
	EXPECT_EQ(0, spm_sigbus(self->p + 16 * ps, 0));
	ASSERT_EQ(0, spm_accel_info(self->fd, &b));
	EXPECT_EQ(a.faults + 3, b.faults);
	EXPECT_EQ(16, b.device_pages);

	/* Back to the CPU: the data is intact and writable. */
	ASSERT_EQ(0, spm_accel_range(self->fd, SPM_ACCEL_IOC_TO_CPU, 0, 16 * ps));
	EXPECT_EQ(sum, spm_fnv64(SPM_FNV64_OFFSET, self->p, self->len));
	EXPECT_EQ(0, spm_sigbus(self->p, 1));
	/* The 16 pages were mapped again, one fault each, and no others. */
	ASSERT_EQ(0, spm_accel_info(self->fd, &a));
	EXPECT_EQ(b.faults + 16, a.faults);
	EXPECT_EQ(16, spm_accel_pages_on_node(self->fd, 0, 16 * ps, NODE));
}

TEST_F(owned, device_refuses_ranges_it_does_not_own)
{
	struct spm_accel_op op;
	uint64_t sum, sum8;

	spm_accel_pattern(self->p, self->len, 4);
	sum = spm_fnv64(SPM_FNV64_OFFSET, self->p, self->len);
	sum8 = spm_fnv64(SPM_FNV64_OFFSET, self->p, 8 * ps);

	/* CPU-owned pages. */
	EXPECT_EQ(-EACCES, spm_accel_exec(self->fd, &op, SPM_ACCEL_CMD_CHECKSUM,
					  0, 0, self->len, 0, NULL));
	EXPECT_EQ(-EACCES, spm_accel_exec(self->fd, &op, SPM_ACCEL_CMD_FILL, 0,
					  0, ps, 0xdead, NULL));
	/* Pages never allocated. */
	EXPECT_EQ(-EACCES, spm_accel_exec(self->fd, &op, SPM_ACCEL_CMD_CHECKSUM,
					  0, self->len, ps, 0, NULL));
	/* Partly device-owned. */
	ASSERT_EQ(0, spm_accel_range(self->fd, SPM_ACCEL_IOC_TO_DEVICE, 0, 8 * ps));
	EXPECT_EQ(-EACCES, spm_accel_exec(self->fd, &op, SPM_ACCEL_CMD_XOR, 0,
					  0, 16 * ps, 0xdead, NULL));
	EXPECT_EQ(0, spm_accel_exec(self->fd, &op, SPM_ACCEL_CMD_CHECKSUM, 0,
				    0, 8 * ps, 0, NULL));
	EXPECT_EQ(sum8, op.result);
	/* Handed back: refused again. */
	ASSERT_EQ(0, spm_accel_range(self->fd, SPM_ACCEL_IOC_TO_CPU, 0, 8 * ps));
	EXPECT_EQ(-EACCES, spm_accel_exec(self->fd, &op, SPM_ACCEL_CMD_CHECKSUM,
					  0, 0, 8 * ps, 0, NULL));
	/* Nothing was written by the refused commands. */
	EXPECT_EQ(sum, spm_fnv64(SPM_FNV64_OFFSET, self->p, self->len));
}

TEST_F(owned, bad_arguments)
{
	const uint64_t max = SPM_ACCEL_MAX_BYTES;
	unsigned long reqs[] = { SPM_ACCEL_IOC_TO_DEVICE, SPM_ACCEL_IOC_TO_CPU };
	struct spm_accel_info a, b;
	struct spm_accel_op op;
	unsigned int i;
	void *q;

	for (i = 0; i < 2; i++) {
		unsigned long r = reqs[i];

		EXPECT_EQ(-EINVAL, spm_accel_range(self->fd, r, 0, 0));
		EXPECT_EQ(-EINVAL, spm_accel_range(self->fd, r, 1, ps));
		EXPECT_EQ(-EINVAL, spm_accel_range(self->fd, r, 0, 100));
		EXPECT_EQ(-EINVAL, spm_accel_range(self->fd, r, max, ps));
		EXPECT_EQ(-EINVAL, spm_accel_range(self->fd, r, ps, max));
		EXPECT_EQ(-EINVAL, spm_accel_range(self->fd, r, -ps, 2 * ps));
		EXPECT_EQ(-EFAULT, ioctl(self->fd, r, NULL) ? -errno : 0);
	}

	spm_accel_pattern(self->p, self->len, 5);
	ASSERT_EQ(0, spm_accel_range(self->fd, SPM_ACCEL_IOC_TO_DEVICE, 0,
				     self->len));
	EXPECT_EQ(-EINVAL, spm_accel_exec(self->fd, &op, 0, 0, 0, ps, 0, NULL));
	EXPECT_EQ(-EINVAL, spm_accel_exec(self->fd, &op, 99, 0, 0, ps, 0, NULL));
	EXPECT_EQ(-EINVAL, spm_accel_exec(self->fd, &op, SPM_ACCEL_CMD_CHECKSUM,
					  0x80, 0, ps, 0, NULL));
	EXPECT_EQ(-EINVAL, spm_accel_exec(self->fd, &op, SPM_ACCEL_CMD_CHECKSUM,
					  0, 0, 0, 0, NULL));
	EXPECT_EQ(-EINVAL, spm_accel_exec(self->fd, &op, SPM_ACCEL_CMD_CHECKSUM,
					  0, 1, ps, 0, NULL));
	EXPECT_EQ(-EINVAL, spm_accel_exec(self->fd, &op, SPM_ACCEL_CMD_CHECKSUM,
					  0, 0, ps + 1, 0, NULL));
	EXPECT_EQ(-EINVAL, spm_accel_exec(self->fd, &op, SPM_ACCEL_CMD_CHECKSUM,
					  0, max - ps, 2 * ps, 0, NULL));
	EXPECT_EQ(-EINVAL, spm_accel_exec(self->fd, &op, SPM_ACCEL_CMD_CHECKSUM,
					  SPM_ACCEL_OP_USER, -ps, 2 * ps, 0,
					  NULL));
	EXPECT_EQ(-EINVAL, spm_accel_exec(self->fd, &op, SPM_ACCEL_CMD_CHECKSUM,
					  SPM_ACCEL_OP_USER, 0, max + ps, 0,
					  NULL));
	/* A bad node array fails before the command runs. */
	ASSERT_EQ(0, spm_accel_info(self->fd, &a));
	EXPECT_EQ(-EFAULT, spm_accel_exec(self->fd, &op, SPM_ACCEL_CMD_FILL, 0,
					  0, self->len, 0xbad, (int32_t *)8));
	ASSERT_EQ(0, spm_accel_info(self->fd, &b));
	EXPECT_EQ(a.ops, b.ops);
	ASSERT_EQ(0, spm_accel_exec(self->fd, &op, SPM_ACCEL_CMD_CHECKSUM, 0, 0,
				    ps, 0, NULL));
	q = malloc(ps);
	ASSERT_NE(NULL, q);
	spm_accel_pattern(q, ps, 5);
	EXPECT_EQ(spm_fnv64(SPM_FNV64_OFFSET, q, ps), op.result);
	free(q);

	EXPECT_EQ(-EFAULT, ioctl(self->fd, SPM_ACCEL_IOC_EXEC, (void *)8) ? -errno : 0);
	EXPECT_EQ(-EFAULT, ioctl(self->fd, SPM_ACCEL_IOC_INFO, NULL) ? -errno : 0);
	EXPECT_EQ(-ENOTTY, ioctl(self->fd, _IO(SPM_ACCEL_IOC_MAGIC, 99)) ? -errno : 0);
	EXPECT_EQ(-ENOTTY, ioctl(self->fd, _IOW('T', 1, int), &i) ? -errno : 0);

	/* Mirrors. */
	EXPECT_EQ(-EINVAL, spm_accel_range(self->fd, SPM_ACCEL_IOC_MIRROR, 0, 0));
	EXPECT_EQ(-ENOENT, spm_accel_range(self->fd, SPM_ACCEL_IOC_UNMIRROR,
					   (uintptr_t)self->p, ps));

	/* mmap: shared only, and within the device's window. */
	q = mmap(NULL, ps, PROT_READ | PROT_WRITE, MAP_PRIVATE, self->fd, 0);
	EXPECT_EQ(MAP_FAILED, q);
	EXPECT_EQ(EINVAL, errno);
	q = mmap(NULL, ps, PROT_READ, MAP_SHARED, self->fd, max);
	EXPECT_EQ(MAP_FAILED, q);
	EXPECT_EQ(EINVAL, errno);
	q = mmap(NULL, 2 * ps, PROT_READ, MAP_SHARED, self->fd, max - ps);
	EXPECT_EQ(MAP_FAILED, q);
	EXPECT_EQ(EINVAL, errno);
}

TEST_F(owned, hand_over_zaps_only_this_file)
{
	struct spm_accel_info a, b;
	struct spm_accel_op op;
	int fd2 = spm_accel_open();
	uint64_t sum7;
	char *q;

	ASSERT_LE(0, fd2);
	q = mmap(NULL, self->len, PROT_READ | PROT_WRITE, MAP_SHARED, fd2, 0);
	ASSERT_NE(MAP_FAILED, q);
	spm_accel_pattern(self->p, self->len, 6);
	spm_accel_pattern(q, self->len, 7);
	/* Separate files, separate pages. */
	EXPECT_NE(0, memcmp(self->p, q, self->len));

	sum7 = spm_fnv64(SPM_FNV64_OFFSET, q, self->len);
	ASSERT_EQ(0, spm_accel_info(fd2, &a));
	ASSERT_EQ(0, spm_accel_range(self->fd, SPM_ACCEL_IOC_TO_DEVICE, 0,
				     self->len));
	/* The other file's mapping at the same offsets is untouched. */
	EXPECT_EQ(sum7, spm_fnv64(SPM_FNV64_OFFSET, q, self->len));
	EXPECT_EQ(0, spm_sigbus(q, 1));
	EXPECT_EQ(0, spm_sigbus(q + self->len - 1, 1));
	ASSERT_EQ(0, spm_accel_info(fd2, &b));
	EXPECT_EQ(a.faults, b.faults);
	EXPECT_EQ(-EACCES, spm_accel_exec(fd2, &op, SPM_ACCEL_CMD_CHECKSUM, 0, 0,
					  ps, 0, NULL));

	ASSERT_EQ(0, spm_accel_exec(self->fd, &op, SPM_ACCEL_CMD_CHECKSUM, 0, 0,
				    self->len, 0, NULL));
	spm_accel_pattern(q, self->len, 6);
	EXPECT_EQ(spm_fnv64(SPM_FNV64_OFFSET, q, self->len), op.result);
	munmap(q, self->len);
	close(fd2);
}

TEST_F(owned, forked_mapping_is_zapped_too)
{
	int status, go[2], done[2];
	uint64_t sum;
	char c;
	pid_t pid;

	spm_accel_pattern(self->p, self->len, 8);
	sum = spm_fnv64(SPM_FNV64_OFFSET, self->p, self->len);
	ASSERT_EQ(0, pipe(go));
	ASSERT_EQ(0, pipe(done));
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		/* Child: the shared mapping sees the parent's data... */
		if (spm_sigbus(self->p, 0) ||
		    spm_fnv64(SPM_FNV64_OFFSET, self->p, self->len) != sum)
			_exit(10);
		if (write(done[1], "x", 1) != 1 || read(go[0], &c, 1) != 1)
			_exit(11);
		/* ... and loses it once the device owns the range. */
		_exit(spm_sigbus(self->p, 0) && spm_sigbus(self->p, 1) ? 0 : 12);
	}
	ASSERT_EQ(1, read(done[0], &c, 1));
	ASSERT_EQ(0, spm_accel_range(self->fd, SPM_ACCEL_IOC_TO_DEVICE, 0,
				     self->len));
	ASSERT_EQ(1, write(go[1], "x", 1));
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	EXPECT_TRUE(WIFEXITED(status));
	EXPECT_EQ(0, WEXITSTATUS(status));
	close(go[0]);
	close(go[1]);
	close(done[0]);
	close(done[1]);
}

TEST_F(owned, pages_freed_when_file_and_mappings_go)
{
	const long n = 256;
	long long pages0 = spm_accel_counter("pages");
	long long freed0 = spm_accel_counter("node_pages_freed");
	int fd2 = spm_accel_open();
	char *q;

	ASSERT_LE(0, fd2);
	ASSERT_LE(0, pages0);
	q = mmap(NULL, n * ps, PROT_READ | PROT_WRITE, MAP_SHARED, fd2, 0);
	ASSERT_NE(MAP_FAILED, q);
	/* The mapping keeps the file alive after close(). */
	close(fd2);
	spm_touch(q, n * ps);
	EXPECT_EQ(pages0 + n, spm_accel_counter("pages"));
	EXPECT_EQ(0, spm_accel_counter("misplaced"));
	munmap(q, n * ps);
	EXPECT_EQ(pages0, spm_accel_counter("pages"));
	/* The node owner heard about every freed page. */
	EXPECT_LE(freed0 + n, spm_accel_counter("node_pages_freed"));
}

TEST_HARNESS_MAIN
