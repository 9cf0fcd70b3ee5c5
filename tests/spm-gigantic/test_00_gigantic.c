// SPDX-License-Identifier: GPL-2.0
/*
 * Gigantic (1 GiB) hugetlb pages and SPM nodes 2 and 3 (boot.conf): they
 * come from memblock at boot and from alloc_contig_pages() at run time,
 * not from the buddy allocator's zonelist walk, and keep to the same rule
 * as 2 MiB pages (spm-perm/test_85_hugetlb.c):
 *
 *   the boot-time pool (hugepages=2) and the global nr_hugepages never put
 *   a gigantic page on an SPM node, even a permitted one;
 *   an SPM node's own nr_hugepages grows its pool only while the node
 *   permits user placement (else -EPERM, nothing changed);
 *   MPOL_BIND {2} faults a gigantic page from node 2's pool;
 *   a task without a policy never gets it (SIGBUS, as with cpusets);
 *   move_pages() migrates a gigantic page between permitted SPM nodes,
 *   its contents intact.
 *
 * Tests run in this order; the first reads the pools as the boot left them.
 */
#include <signal.h>
#include <sys/wait.h>
#include "kselftest_harness.h"
#include "spm_perm.h"
#include "spm_hugetlb.h"

#define GIG_KB	(1024L * 1024)
#define GIG	(1UL << 30)
#define gp_get(nid, file)	hp_get_kb(GIG_KB, nid, file)
#define gp_set(nid, file, val)	hp_set_kb(GIG_KB, nid, file, val)
/* One byte in each 4 KiB: enough to tell pages apart, quick under TCG. */
#define gp_fill(p, len, seed)	hp_fill_step(p, len, 4096, seed)
#define gp_sum(p, len)		hp_sum_step(p, len, 4096)

static long long sysram_pool(void)
{
	return gp_get(0, "nr_hugepages") + gp_get(1, "nr_hugepages");
}

FIXTURE(gigantic) {
	struct perm_saved saved;
};

FIXTURE_SETUP(gigantic)
{
	ASSERT_LE(0, gp_get(-1, "nr_hugepages"))
		TH_LOG("no 1 GiB hstate: the suite's CPU lacks pdpe1gb?");
	/* -1 on a kernel without the series: perm_allow() then fails. */
	perm_save(&self->saved);
	ASSERT_EQ(0, gp_get(PERM_A, "surplus_hugepages"));
}

FIXTURE_TEARDOWN(gigantic)
{
	spm_set_mempolicy(MPOL_DEFAULT, NULL, 0);
	gp_set(PERM_A, "nr_hugepages", 0);
	gp_set(PERM_B, "nr_hugepages", 0);
	perm_restore(&self->saved);
}

TEST_F(gigantic, boot_pool_keeps_to_sysram)
{
	long long total = gp_get(-1, "nr_hugepages");

	TH_LOG("hugepages=2 at boot: %lld in all; node 0 %lld, node 1 %lld, node 2 %lld, node 3 %lld",
	       total, gp_get(0, "nr_hugepages"), gp_get(1, "nr_hugepages"),
	       gp_get(PERM_A, "nr_hugepages"), gp_get(PERM_B, "nr_hugepages"));
	EXPECT_EQ(0, gp_get(PERM_A, "nr_hugepages"));
	EXPECT_EQ(0, gp_get(PERM_B, "nr_hugepages"));
	/* Node 1 has a free GiB above 4 GiB: the boot got at least that. */
	EXPECT_LE(1, sysram_pool());
	EXPECT_EQ(total, sysram_pool());
}

TEST_F(gigantic, global_pool_keeps_to_sysram)
{
	long long before = gp_get(-1, "nr_hugepages");

	ASSERT_EQ(0, perm_allow(PERM_A, 1));
	ASSERT_EQ(0, perm_allow(PERM_B, 1));
	/* Room for two more on nodes 2 and 3; none on System RAM. */
	ASSERT_EQ(0, gp_set(-1, "nr_hugepages", before + 2));
	TH_LOG("global %lld -> %lld: node 2 %lld, node 3 %lld", before,
	       gp_get(-1, "nr_hugepages"), gp_get(PERM_A, "nr_hugepages"),
	       gp_get(PERM_B, "nr_hugepages"));
	EXPECT_EQ(0, gp_get(PERM_A, "nr_hugepages"));
	EXPECT_EQ(0, gp_get(PERM_B, "nr_hugepages"));
	EXPECT_EQ(gp_get(-1, "nr_hugepages"), sysram_pool());
	ASSERT_EQ(0, gp_set(-1, "nr_hugepages", before));
}

TEST_F(gigantic, node_pool_needs_permission)
{
	long long before = gp_get(-1, "nr_hugepages");

	ASSERT_EQ(0, perm_allow(PERM_A, 0));
	EXPECT_EQ(-EPERM, gp_set(PERM_A, "nr_hugepages", 1));
	EXPECT_EQ(0, gp_get(PERM_A, "nr_hugepages"));
	EXPECT_EQ(before, gp_get(-1, "nr_hugepages"));

	ASSERT_EQ(0, perm_allow(PERM_A, 1));
	ASSERT_EQ(0, gp_set(PERM_A, "nr_hugepages", 1));
	EXPECT_EQ(1, gp_get(PERM_A, "nr_hugepages"))
		TH_LOG("no 1 GiB page from the empty 2 GiB SPM node 2");
	EXPECT_EQ(before + 1, gp_get(-1, "nr_hugepages"));
	EXPECT_EQ(0, gp_get(PERM_B, "nr_hugepages"));

	/* Shrinking is allowed without the permission. */
	ASSERT_EQ(0, perm_allow(PERM_A, 0));
	EXPECT_EQ(0, gp_set(PERM_A, "nr_hugepages", 0));
	EXPECT_EQ(0, gp_get(PERM_A, "nr_hugepages"));
	EXPECT_EQ(before, gp_get(-1, "nr_hugepages"));
}

TEST_F(gigantic, bind_faults_from_the_nodes_pool)
{
	unsigned long m = 1UL << PERM_A;
	uint64_t sum;
	char *p;

	ASSERT_EQ(0, perm_allow(PERM_A, 1));
	ASSERT_EQ(0, gp_set(PERM_A, "nr_hugepages", 1));
	ASSERT_EQ(1, gp_get(PERM_A, "free_hugepages"));
	p = hp_map(GIG, MAP_HUGE_1GB);
	ASSERT_NE(NULL, p) TH_LOG("mmap of 1 GiB hugetlb: %s", strerror(errno));
	ASSERT_EQ(0, spm_mbind(p, GIG, MPOL_BIND, &m, PERM_MAXNODE, 0))
		TH_LOG("mbind(BIND {2}): %s", strerror(errno));
	sum = gp_fill(p, GIG, 3);
	EXPECT_EQ(PERM_A, spm_node_of(p));
	EXPECT_EQ(PERM_A, spm_node_of(p + GIG - 4096));
	EXPECT_EQ(0, gp_get(PERM_A, "free_hugepages"));
	EXPECT_EQ(sum, gp_sum(p, GIG));
	munmap(p, GIG);
	EXPECT_EQ(1, gp_get(PERM_A, "free_hugepages"));
}

TEST_F(gigantic, move_pages_between_spm_nodes)
{
	unsigned long m = 1UL << PERM_A;
	int node = PERM_B, status = -1000;
	uint64_t sum;
	void *page;
	char *p;

	ASSERT_EQ(0, perm_allow(PERM_A, 1));
	ASSERT_EQ(0, perm_allow(PERM_B, 1));
	ASSERT_EQ(0, gp_set(PERM_A, "nr_hugepages", 1));
	ASSERT_EQ(0, gp_set(PERM_B, "nr_hugepages", 1));
	p = hp_map(GIG, MAP_HUGE_1GB);
	ASSERT_NE(NULL, p);
	ASSERT_EQ(0, spm_mbind(p, GIG, MPOL_BIND, &m, PERM_MAXNODE, 0));
	sum = gp_fill(p, GIG, 5);
	ASSERT_EQ(PERM_A, spm_node_of(p));
	page = p;
	ASSERT_EQ(0, spm_move_pages(0, 1, &page, &node, &status, MPOL_MF_MOVE))
		TH_LOG("move_pages: %s", strerror(errno));
	EXPECT_EQ(PERM_B, status);
	EXPECT_EQ(PERM_B, spm_node_of(p));
	EXPECT_EQ(sum, gp_sum(p, GIG));
	EXPECT_EQ(1, gp_get(PERM_A, "free_hugepages"));
	EXPECT_EQ(0, gp_get(PERM_B, "free_hugepages"));
	munmap(p, GIG);
}

/* Last: it empties the System RAM pool, which later tests would miss. */
TEST_F(gigantic, default_task_never_takes_spm_pool)
{
	char how[32];
	int status;

	ASSERT_EQ(0, gp_set(0, "nr_hugepages", 0));
	ASSERT_EQ(0, gp_set(1, "nr_hugepages", 0));
	ASSERT_EQ(0, perm_allow(PERM_A, 1));
	ASSERT_EQ(0, gp_set(PERM_A, "nr_hugepages", 1));
	ASSERT_EQ(1, gp_get(-1, "free_hugepages"));

	status = hp_child_touch(GIG, MAP_HUGE_1GB, PERM_A, how, sizeof(how));
	TH_LOG("default task: %s; node 2 free %lld", how,
	       gp_get(PERM_A, "free_hugepages"));
	EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGBUS);
	EXPECT_EQ(1, gp_get(PERM_A, "free_hugepages"));
}

TEST_HARNESS_MAIN
