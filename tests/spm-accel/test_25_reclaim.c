// SPDX-License-Identifier: GPL-2.0
/*
 * Reclaim under a mirror: with swap on (zram, spm-setup-swap), the driver
 * reclaims its node (SPM_ACCEL_IOC_RECLAIM -> spm_node_reclaim()).  Pages of
 * a mirrored range go to swap, which invalidates the device's view; the
 * next device command faults them back in (on node 2, where the policy
 * says) and finds the same data.  A SysRAM range of the same size is not
 * touched: reclaim stays on the node.  The CPU page tables do not see a
 * device write, so the driver marks what the device wrote dirty: pages
 * that MADV_FREE made lazily freeable keep the device's data through
 * reclaim, while those nobody wrote are dropped.
 */
#include <sys/mman.h>
#include "kselftest_harness.h"
#include "spm.h"
#include "spm_accel.h"

#define NODE	2
#define NPAGES	256

static long ps;

/* Pages of [p, p + len) that are mapped (resident), on any node. */
static long resident(void *p, size_t len)
{
	long nid, n = 0;

	for (nid = 0; nid < 8; nid++)
		n += spm_pages_on_node(p, len, nid);
	return n;
}

static int reclaim(int fd, uint64_t *nr)
{
	return ioctl(fd, SPM_ACCEL_IOC_RECLAIM, nr) ? -errno : 0;
}

FIXTURE(rec) {
	int fd;
	char *p, *sys;
	size_t len;
	uint64_t sum;
};

FIXTURE_SETUP(rec)
{
	unsigned long mask = 1UL << NODE, mask0 = 1;

	ps = spm_page_size();
	self->len = NPAGES * ps;
	self->fd = spm_accel_open();
	ASSERT_LE(0, self->fd);
	if (system("spm-setup-swap 256M >/dev/null 2>&1"))
		SKIP(return, "no zram swap (spm-setup-swap)");
	self->p = mmap(NULL, self->len, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	self->sys = mmap(NULL, self->len, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, self->p);
	ASSERT_NE(MAP_FAILED, self->sys);
	ASSERT_EQ(0, spm_mbind(self->p, self->len, MPOL_BIND, &mask, 64, 0));
	ASSERT_EQ(0, spm_mbind(self->sys, self->len, MPOL_BIND, &mask0, 64, 0));
	spm_accel_pattern(self->p, self->len, 21);
	spm_accel_pattern(self->sys, self->len, 22);
	self->sum = spm_fnv64(SPM_FNV64_OFFSET, self->p, self->len);
}

FIXTURE_TEARDOWN(rec)
{
	munmap(self->p, self->len);
	munmap(self->sys, self->len);
	close(self->fd);
	if (system("spm-setup-swap --off >/dev/null 2>&1"))
		TH_LOG("spm-setup-swap --off failed");
}

TEST_F(rec, bad_requests)
{
	uint64_t nr = 0;

	EXPECT_EQ(-EINVAL, reclaim(self->fd, &nr));
	nr = SPM_ACCEL_MAX_BYTES / ps + 1;
	EXPECT_EQ(-EINVAL, reclaim(self->fd, &nr));
	EXPECT_EQ(-EFAULT, reclaim(self->fd, NULL));
}

TEST_F(rec, reclaim_invalidates_and_device_refaults)
{
	long long freed0 = spm_accel_counter("node_pages_freed");
	struct spm_accel_op op;
	uint64_t inv, nr = NPAGES;
	long left;

	ASSERT_EQ(NPAGES, spm_pages_on_node(self->p, self->len, NODE));
	ASSERT_EQ(0, spm_accel_range(self->fd, SPM_ACCEL_IOC_MIRROR,
				     (uintptr_t)self->p, self->len));
	ASSERT_EQ(0, spm_accel_exec(self->fd, &op, SPM_ACCEL_CMD_CHECKSUM,
				    SPM_ACCEL_OP_USER, (uintptr_t)self->p,
				    self->len, 0, NULL));
	ASSERT_EQ(self->sum, op.result);
	inv = op.invalidations;

	ASSERT_EQ(0, reclaim(self->fd, &nr));
	left = resident(self->p, self->len);
	TH_LOG("reclaimed %llu pages; %ld of %d still resident",
	       (unsigned long long)nr, left, NPAGES);
	EXPECT_LT(0, nr);
	EXPECT_GT(NPAGES, left);
	/* Reclaim stayed on the node. */
	EXPECT_EQ(NPAGES, spm_pages_on_node(self->sys, self->len, 0));
	EXPECT_LE(freed0 + NPAGES - left, spm_accel_counter("node_pages_freed"));

	ASSERT_EQ(0, spm_accel_exec(self->fd, &op, SPM_ACCEL_CMD_CHECKSUM,
				    SPM_ACCEL_OP_USER, (uintptr_t)self->p,
				    self->len, 0, NULL));
	EXPECT_EQ(self->sum, op.result);
	EXPECT_LT(inv, op.invalidations);
	EXPECT_LE(NPAGES - left, op.faulted);
	EXPECT_EQ(NPAGES, op.node_pages[NODE]);
	EXPECT_EQ(NPAGES, spm_pages_on_node(self->p, self->len, NODE));
	EXPECT_EQ(self->sum, spm_fnv64(SPM_FNV64_OFFSET, self->p, self->len));
}

TEST_F(rec, device_writes_to_lazyfree_pages_survive_reclaim)
{
	const uint64_t fill = 0x6b6b6b6b0d0d0d0dULL;
	size_t half = self->len / 2;
	struct spm_accel_op op;
	uint64_t nr = NPAGES;
	long i, filled = 0, dropped = 0;

	ASSERT_EQ(NPAGES, spm_pages_on_node(self->p, self->len, NODE));
	ASSERT_EQ(0, spm_accel_range(self->fd, SPM_ACCEL_IOC_MIRROR,
				     (uintptr_t)self->p, self->len));
	/* Clean, old, still writable entries: reclaim may drop the pages. */
	ASSERT_EQ(0, madvise(self->p, self->len, MADV_FREE));
	/* The device writes the first half through its mirror. */
	ASSERT_EQ(0, spm_accel_exec(self->fd, &op, SPM_ACCEL_CMD_FILL,
				    SPM_ACCEL_OP_USER, (uintptr_t)self->p,
				    half, fill, NULL));
	ASSERT_EQ(NPAGES / 2, op.pages);

	ASSERT_EQ(0, reclaim(self->fd, &nr));
	for (i = 0; i < NPAGES; i++) {
		char *page = self->p + i * ps;

		if (i < NPAGES / 2)
			filled += spm_accel_all_words(page, ps, fill);
		else
			dropped += spm_accel_all_words(page, ps, 0);
	}
	TH_LOG("reclaimed %llu pages; %ld of %d lazily freed pages nobody wrote were dropped",
	       (unsigned long long)nr, dropped, NPAGES / 2);
	EXPECT_EQ(NPAGES / 2, filled)
		TH_LOG("device writes lost: the pages were not marked dirty");
	/* The control: reclaim did drop clean lazily freed pages. */
	EXPECT_LT(0, dropped);
}

TEST_HARNESS_MAIN
