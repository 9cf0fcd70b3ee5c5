// SPDX-License-Identifier: GPL-2.0
/*
 * hugetlb and SPM nodes (nodes 2 and 3, allow_user toggled):
 *
 *   the global nr_hugepages never puts a huge page on an SPM node, even a
 *   permitted one;
 *   a node's own nr_hugepages grows an SPM node's pool only while the node
 *   permits user placement (else -EPERM, nothing changed); shrinking it is
 *   always allowed;
 *   a task without a policy never gets a huge page of an SPM node's pool
 *   (SIGBUS when System RAM has none, as with cpusets);
 *   MPOL_BIND {2} takes huge pages from node 2's pool, and with overcommit
 *   gets surplus huge pages on node 2 (a stock kernel, or one that drops
 *   the flag, gives them from node 0);
 *   once the permission is withdrawn, the same policy gets System RAM;
 *   move_pages() moves a huge page onto a permitted SPM node.
 */
#include <signal.h>
#include <sys/wait.h>
#include "kselftest_harness.h"
#include "spm_perm.h"
#include "spm_hugetlb.h"

#define HPS	(2UL << 20)
#define hp_get(nid, file)	hp_get_kb(2048, nid, file)
#define hp_set(nid, file, val)	hp_set_kb(2048, nid, file, val)
/* A pattern byte every 64 bytes, and its checksum. */
#define hp_fill(p, len, seed)	hp_fill_step(p, len, 64, seed)
#define hp_sum(p, len)		hp_sum_step(p, len, 64)

FIXTURE(hugetlb) {
	struct perm_saved saved;
	long long overcommit;
};

FIXTURE_SETUP(hugetlb)
{
	if (hp_get(-1, "nr_hugepages") < 0)
		SKIP(return, "no 2 MiB hugetlb pages (CONFIG_HUGETLBFS)");
	perm_save(&self->saved);
	ASSERT_LE(0, self->saved.a);
	self->overcommit = hp_get(-1, "nr_overcommit_hugepages");
	ASSERT_EQ(0, hp_set(-1, "nr_hugepages", 0));
	ASSERT_EQ(0, hp_get(-1, "nr_hugepages")) TH_LOG("huge pages still in use");
	ASSERT_EQ(0, perm_allow(PERM_A, 1));
	ASSERT_EQ(0, perm_allow(PERM_B, 1));
}

FIXTURE_TEARDOWN(hugetlb)
{
	spm_set_mempolicy(MPOL_DEFAULT, NULL, 0);
	hp_set(-1, "nr_hugepages", 0);
	if (self->overcommit >= 0)
		hp_set(-1, "nr_overcommit_hugepages", self->overcommit);
	perm_restore(&self->saved);
}

TEST_F(hugetlb, global_pool_keeps_to_sysram)
{
	long long n0, n1;

	ASSERT_EQ(0, hp_set(-1, "nr_hugepages", 8));
	n0 = hp_get(0, "nr_hugepages");
	n1 = hp_get(1, "nr_hugepages");
	TH_LOG("global nr_hugepages 8: node 0 %lld, node 1 %lld, node 2 %lld, node 3 %lld",
	       n0, n1, hp_get(PERM_A, "nr_hugepages"),
	       hp_get(PERM_B, "nr_hugepages"));
	EXPECT_EQ(0, hp_get(PERM_A, "nr_hugepages"));
	EXPECT_EQ(0, hp_get(PERM_B, "nr_hugepages"));
	EXPECT_EQ(8, n0 + n1);
	EXPECT_EQ(8, hp_get(-1, "nr_hugepages"));
}

TEST_F(hugetlb, node_pool_needs_permission)
{
	ASSERT_EQ(0, perm_allow(PERM_A, 0));
	EXPECT_EQ(-EPERM, hp_set(PERM_A, "nr_hugepages", 4));
	EXPECT_EQ(0, hp_get(PERM_A, "nr_hugepages"));
	EXPECT_EQ(0, hp_get(-1, "nr_hugepages"));

	ASSERT_EQ(0, perm_allow(PERM_A, 1));
	ASSERT_EQ(0, hp_set(PERM_A, "nr_hugepages", 4));
	EXPECT_EQ(4, hp_get(PERM_A, "nr_hugepages"));
	EXPECT_EQ(4, hp_get(-1, "nr_hugepages"));
	EXPECT_EQ(0, hp_get(PERM_B, "nr_hugepages"));

	/* Withdrawn: no more, but the pool may shrink. */
	ASSERT_EQ(0, perm_allow(PERM_A, 0));
	EXPECT_EQ(-EPERM, hp_set(PERM_A, "nr_hugepages", 6));
	EXPECT_EQ(4, hp_get(PERM_A, "nr_hugepages"));
	EXPECT_EQ(0, hp_set(PERM_A, "nr_hugepages", 1));
	EXPECT_EQ(1, hp_get(PERM_A, "nr_hugepages"));
	EXPECT_EQ(0, hp_set(PERM_A, "nr_hugepages", 0));
	EXPECT_EQ(0, hp_get(-1, "nr_hugepages"));
}

TEST_F(hugetlb, default_task_never_takes_spm_pool)
{
	char how[32];
	int status;

	ASSERT_EQ(0, hp_set(PERM_A, "nr_hugepages", 4));
	ASSERT_EQ(4, hp_get(PERM_A, "free_hugepages"));
	ASSERT_EQ(0, hp_set(-1, "nr_overcommit_hugepages", 0));

	status = hp_child_touch(HPS, 0, PERM_A, how, sizeof(how));
	TH_LOG("default task: %s; node 2 free %lld", how,
	       hp_get(PERM_A, "free_hugepages"));
	EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGBUS);
	EXPECT_EQ(4, hp_get(PERM_A, "free_hugepages"));
}

TEST_F(hugetlb, bind_takes_the_nodes_pool)
{
	unsigned long m = 1UL << PERM_A;
	size_t len = 2 * HPS;
	uint64_t sum;
	char *p;

	ASSERT_EQ(0, hp_set(PERM_A, "nr_hugepages", 4));
	p = hp_map(len, 0);
	ASSERT_NE(NULL, p);
	ASSERT_EQ(0, spm_mbind(p, len, MPOL_BIND, &m, PERM_MAXNODE, 0))
		TH_LOG("mbind(BIND {2}) of hugetlb: %s", strerror(errno));
	sum = hp_fill(p, len, 3);
	EXPECT_EQ(PERM_A, spm_node_of(p));
	EXPECT_EQ(PERM_A, spm_node_of(p + HPS));
	EXPECT_EQ(2, hp_get(PERM_A, "free_hugepages"));
	EXPECT_EQ(sum, hp_sum(p, len));
	munmap(p, len);
	EXPECT_EQ(4, hp_get(PERM_A, "free_hugepages"));
}

TEST_F(hugetlb, bind_overcommit_gets_surplus_on_the_node)
{
	unsigned long m = 1UL << PERM_A;
	size_t len = 2 * HPS;
	uint64_t sum;
	char *p;

	ASSERT_EQ(0, hp_set(-1, "nr_overcommit_hugepages", 4));
	ASSERT_EQ(0, spm_set_mempolicy(MPOL_BIND, &m, PERM_MAXNODE));
	p = hp_map(len, 0);
	ASSERT_NE(NULL, p) TH_LOG("mmap with overcommit: %s", strerror(errno));
	sum = hp_fill(p, len, 5);
	TH_LOG("surplus: node 0 %lld, node 1 %lld, node 2 %lld; pages on %d and %d",
	       hp_get(0, "surplus_hugepages"), hp_get(1, "surplus_hugepages"),
	       hp_get(PERM_A, "surplus_hugepages"), spm_node_of(p),
	       spm_node_of(p + HPS));
	EXPECT_EQ(PERM_A, spm_node_of(p));
	EXPECT_EQ(PERM_A, spm_node_of(p + HPS));
	EXPECT_EQ(2, hp_get(PERM_A, "surplus_hugepages"));
	EXPECT_EQ(0, hp_get(0, "surplus_hugepages") +
		     hp_get(1, "surplus_hugepages"));
	EXPECT_EQ(sum, hp_sum(p, len));
	munmap(p, len);
	EXPECT_EQ(0, hp_get(-1, "surplus_hugepages"));
}

TEST_F(hugetlb, withdrawn_permission_gets_sysram)
{
	unsigned long m = 1UL << PERM_A;
	size_t len = 2 * HPS;
	int n0, n1;
	char *p;

	ASSERT_EQ(0, hp_set(-1, "nr_overcommit_hugepages", 4));
	ASSERT_EQ(0, spm_set_mempolicy(MPOL_BIND, &m, PERM_MAXNODE));
	ASSERT_EQ(0, perm_allow(PERM_A, 0));
	p = hp_map(len, 0);
	ASSERT_NE(NULL, p) TH_LOG("mmap with overcommit: %s", strerror(errno));
	hp_fill(p, len, 7);
	n0 = spm_node_of(p);
	n1 = spm_node_of(p + HPS);
	TH_LOG("BIND {2} withdrawn: pages on %d and %d", n0, n1);
	EXPECT_TRUE(n0 == 0 || n0 == 1);
	EXPECT_TRUE(n1 == 0 || n1 == 1);
	EXPECT_EQ(0, hp_get(PERM_A, "surplus_hugepages"));
	EXPECT_EQ(0, hp_get(PERM_A, "nr_hugepages"));
	munmap(p, len);
	/* The faults used the pages reserved for them: none left over. */
	EXPECT_EQ(0, hp_get(-1, "surplus_hugepages"));
}

TEST_F(hugetlb, move_pages_onto_a_permitted_node)
{
	unsigned long m0 = 1UL << 0;
	int node = PERM_A, status = -1000;
	uint64_t sum;
	void *page;
	char *p;

	ASSERT_EQ(0, hp_set(-1, "nr_overcommit_hugepages", 4));
	p = hp_map(HPS, 0);
	ASSERT_NE(NULL, p);
	ASSERT_EQ(0, spm_mbind(p, HPS, MPOL_BIND, &m0, PERM_MAXNODE, 0));
	sum = hp_fill(p, HPS, 9);
	ASSERT_EQ(0, spm_node_of(p));
	page = p;
	ASSERT_EQ(0, spm_move_pages(0, 1, &page, &node, &status, MPOL_MF_MOVE))
		TH_LOG("move_pages: %s", strerror(errno));
	EXPECT_EQ(PERM_A, status);
	EXPECT_EQ(PERM_A, spm_node_of(p));
	EXPECT_EQ(sum, hp_sum(p, HPS));
	munmap(p, HPS);
}

TEST_HARNESS_MAIN
