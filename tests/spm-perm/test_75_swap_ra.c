// SPDX-License-Identifier: GPL-2.0
/*
 * Rule 7, readahead: swapping in memory bound to a permitted SPM node
 * brings nothing else there.
 *
 * Swap cluster readahead (shmem, and anonymous memory without VMA
 * readahead) reads the aligned cluster of 1 << vm.page-cluster swap slots
 * around the faulting one, with the faulting task's policy.  The slots
 * around it can hold any task's memory.
 *
 * The test lays out the swap area so that a cluster holds both tasks:
 * both pinned to CPU 0 (one per-cpu run of slots), a child pages out
 * WARM pages of a memfd bound to node 2 back to back, then the parent
 * (default policy, never asked for SPM memory) and the child page out one
 * page each in turn.  The parent's swap offsets (pagemap) must step by 2:
 * the precondition that makes the test able to fail.  The child then
 * reads its memfd in order: the first WARM pages grow the readahead
 * window to the whole cluster, the rest read clusters shared with the
 * parent.  Afterwards:
 *
 *   - every page of the child is back on node 2, with its data (the
 *     shmem swap-in path keeps the binding);
 *   - every page of the parent, faulted back, has its data and none is on
 *     node 2 (before the fix: the parent's slots in the child's clusters
 *     were read into the swap cache on node 2 and mapped from there).
 */
#include <signal.h>
#include "kselftest_harness.h"
#include "spm_perm.h"

#define WARM 16
#define MIXED 64
#define CHILD_PAGES (WARM + MIXED)
#define PAGE_CLUSTER_FILE "/proc/sys/vm/page-cluster"

FIXTURE(ra) {
	struct perm_saved saved;
	char cluster[16];
	pid_t child;
	int to_child[2], to_parent[2];
};

static void step(int fd)
{
	char c = 0;

	if (write(fd, &c, 1) != 1)
		_exit(90);
}

static int wait_step(int fd)
{
	char c;

	return read(fd, &c, 1) == 1 ? 0 : -1;
}

/* The child: a memfd bound to node 2, paged out and read back in step. */
static int child_main(int in, int out)
{
	unsigned long mask = 1UL << PERM_A;
	long ps = spm_page_size(), res[2] = { -1, -1 }, i;
	size_t len = CHILD_PAGES * ps;
	int fd = memfd_create("spm-swap-ra", 0);
	char *b;

	if (fd < 0 || ftruncate(fd, len))
		return 2;
	b = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (b == MAP_FAILED)
		return 3;
	if (spm_mbind(b, len, MPOL_BIND, &mask, PERM_MAXNODE, 0))
		return 4;
	spm_fill(b, len, 75);
	if (spm_pages_on_node(b, len, PERM_A) != CHILD_PAGES)
		return 5;
	step(out);			/* filled */
	if (wait_step(in))
		return 6;
	for (i = 0; i < WARM; i++)
		madvise(b + i * ps, ps, MADV_PAGEOUT);
	step(out);
	for (i = 0; i < MIXED; i++) {
		if (wait_step(in))
			return 7;
		madvise(b + (WARM + i) * ps, ps, MADV_PAGEOUT);
		step(out);
	}
	if (wait_step(in))		/* read back, in order */
		return 8;
	res[0] = spm_verify(b, len, 75);
	res[1] = spm_pages_on_node(b, len, PERM_A);
	if (write(out, res, sizeof(res)) != sizeof(res))
		return 9;
	wait_step(in);			/* until the parent is done */
	return 0;
}

FIXTURE_SETUP(ra)
{
	int rc;

	self->child = 0;
	self->cluster[0] = '\0';
	perm_save(&self->saved);
	ASSERT_LE(0, self->saved.a);
	rc = system("spm-setup-swap 256M > /dev/null");
	ASSERT_EQ(0, rc) {
		TH_LOG("spm-setup-swap failed: %d", rc);
	}
	ASSERT_EQ(0, perm_allow(PERM_A, 1));
	ASSERT_LT(0, spm_read_file(PAGE_CLUSTER_FILE, self->cluster,
				   sizeof(self->cluster)));
	ASSERT_EQ(0, spm_write_file(PAGE_CLUSTER_FILE, "3"));
	ASSERT_EQ(0, spm_pin_cpu(0));
	ASSERT_EQ(0, pipe(self->to_child));
	ASSERT_EQ(0, pipe(self->to_parent));
	self->child = fork();
	ASSERT_LE(0, self->child);
	if (!self->child)
		_exit(child_main(self->to_child[0], self->to_parent[1]));
}

FIXTURE_TEARDOWN(ra)
{
	if (self->child > 0) {
		kill(self->child, SIGKILL);
		waitpid(self->child, NULL, 0);
	}
	if (self->cluster[0])
		spm_write_file(PAGE_CLUSTER_FILE, self->cluster);
	perm_restore(&self->saved);
}

/* Swap offset of each page of [p, p + n pages) from pagemap, -1 if none. */
static int swap_offsets(char *p, long n, long long *off)
{
	long ps = spm_page_size(), i;
	int fd = open("/proc/self/pagemap", O_RDONLY);
	uint64_t e;

	if (fd < 0)
		return -errno;
	for (i = 0; i < n; i++) {
		off[i] = -1;
		if (pread(fd, &e, sizeof(e), ((uintptr_t)p / ps + i) * sizeof(e)) !=
		    sizeof(e)) {
			close(fd);
			return -EIO;
		}
		if (e & (1ULL << 62))
			off[i] = (e >> 5) & ((1ULL << 50) - 1);
	}
	close(fd);
	return 0;
}

TEST_F_TIMEOUT(ra, cluster_readahead_keeps_other_tasks_off_spm, 120)
{
	long ps = spm_page_size(), res[2], i, alternating = 0, swapped = 0;
	long counts[SPM_MAXN + 1];
	long long off[MIXED];
	size_t len = MIXED * ps;
	char *a;

	ASSERT_EQ(0, wait_step(self->to_parent[0])) {
		TH_LOG("the child could not set up its memfd on node %d", PERM_A);
	}
	a = spm_anon(len);
	ASSERT_NE(NULL, a);
	madvise(a, len, MADV_NOHUGEPAGE);
	spm_fill(a, len, 76);

	step(self->to_child[1]);	/* the child's WARM pages */
	ASSERT_EQ(0, wait_step(self->to_parent[0]));
	for (i = 0; i < MIXED; i++) {	/* then one each: parent, child, ... */
		madvise(a + i * ps, ps, MADV_PAGEOUT);
		step(self->to_child[1]);
		ASSERT_EQ(0, wait_step(self->to_parent[0]));
	}

	ASSERT_EQ(0, swap_offsets(a, MIXED, off));
	for (i = 0; i < MIXED; i++) {
		swapped += off[i] >= 0;
		alternating += i && off[i] >= 0 && off[i - 1] >= 0 &&
			       off[i] - off[i - 1] == 2;
	}
	TH_LOG("parent: %ld of %d pages swapped, %ld slot steps of 2 (offsets %lld %lld %lld ...)",
	       swapped, MIXED, alternating, off[0], off[1], off[2]);
	ASSERT_EQ(MIXED, swapped);
	/* Precondition: the child's slots sit between the parent's. */
	ASSERT_LE(MIXED * 3 / 4, alternating);

	step(self->to_child[1]);	/* the child reads its memfd back */
	ASSERT_EQ(sizeof(res), read(self->to_parent[0], res, sizeof(res)));
	TH_LOG("child: %ld of %d memfd pages on node %d, %ld corrupt",
	       res[1], CHILD_PAGES, PERM_A, res[0]);
	EXPECT_EQ(0, res[0]);
	EXPECT_EQ(CHILD_PAGES, res[1]);

	EXPECT_EQ(0, spm_verify(a, len, 76));	/* faults the parent's pages in */
	ASSERT_EQ(MIXED, spm_count_pages(a, len, counts));
	TH_LOG("parent (default policy): %s", perm_counts_str(counts));
	EXPECT_EQ(0, counts[PERM_A]) {
		TH_LOG("%ld pages of a task that never asked for node %d were read there with another task's swap readahead",
		       counts[PERM_A], PERM_A);
	}
	EXPECT_EQ(0, counts[PERM_B]);
	step(self->to_child[1]);
}

TEST_HARNESS_MAIN
