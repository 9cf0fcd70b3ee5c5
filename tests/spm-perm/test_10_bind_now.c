// SPDX-License-Identifier: GPL-2.0
/*
 * Rule 1: an allocation may use exactly the SPM nodes that permit user
 * placement AT THE TIME OF THE ALLOCATION, whatever was permitted when the
 * policy was installed.
 *
 *   MPOL_BIND {2,3} installed while both permit user placement, then the
 *   node the allocator prefers withdraws it: new pages land on the other
 *   SPM node, none on the withdrawn one (set_mempolicy and mbind).
 *   MPOL_BIND {N} and N withdraws: new pages land on SysRAM (0/1).
 *   Permission given back: pages land on the node again.
 *   MPOL_BIND|MPOL_F_STATIC_NODES {1,2,3} in a cpuset with mems 0-2 while
 *   node 3 is unpermitted, then mems widened to 0-3 (the policy rebinds to
 *   {1,2,3}): filling past node 2's free memory puts nothing on node 3
 *   (as a task policy, and as a VMA policy with home node 2 so that the
 *   fallback order after node 2 is 3, 0, 1).
 *
 * The task runs on CPU 0; which of nodes 2 and 3 the allocator tries first
 * is measured, not assumed.
 */
#include "kselftest_harness.h"
#include "spm_perm.h"

#define LEN (8UL << 20)
#define NP(len) ((long)((len) / 4096))

FIXTURE(now) {
	struct perm_saved saved;
	char cg[128];
	int squeezed;
};

FIXTURE_SETUP(now)
{
	long long spm = spm_sysfs_nodemask("has_spm_memory");

	self->cg[0] = '\0';
	self->squeezed = 0;
	ASSERT_EQ(0xcLL, spm) {
		TH_LOG("has_spm_memory is %#llx, want nodes 2-3", spm);
	}
	perm_save(&self->saved);
	ASSERT_LE(0, self->saved.a);
	ASSERT_LE(0, self->saved.b);
	ASSERT_EQ(0, spm_pin_cpu(0));
}

FIXTURE_TEARDOWN(now)
{
	spm_set_mempolicy(MPOL_DEFAULT, NULL, 0);
	if (self->cg[0])
		perm_cg_remove(self->cg);
	if (self->squeezed)
		spm_unsqueeze();
	perm_restore(&self->saved);
}

/*
 * With MPOL_BIND {2,3} installed (by the caller) and both nodes permitted,
 * fault in 1 MB of p and return the SPM node that got the pages.
 */
static int preferred_spm(struct __test_metadata *_metadata, char *p)
{
	long counts[SPM_MAXN + 1];

	spm_fill(p, SZ_1M, 11);
	if (spm_count_pages(p, SZ_1M, counts) != NP(SZ_1M))
		return -1;
	TH_LOG("BIND {2,3}, both permitted, from CPU 0: %s", perm_counts_str(counts));
	if (counts[PERM_A] == NP(SZ_1M))
		return PERM_A;
	if (counts[PERM_B] == NP(SZ_1M))
		return PERM_B;
	return -1;
}

TEST_F(now, set_mempolicy_bind_23_withdraw_preferred)
{
	unsigned long m = spm_nodes_mask(PERM_A, PERM_B, -1);
	long counts[SPM_MAXN + 1];
	char *probe, *p;
	int pref, other;

	ASSERT_EQ(0, perm_allow(PERM_A, 1));
	ASSERT_EQ(0, perm_allow(PERM_B, 1));
	ASSERT_EQ(0, spm_set_mempolicy(MPOL_BIND, &m, PERM_MAXNODE)) {
		TH_LOG("set_mempolicy(BIND {2,3}): %s", strerror(errno));
	}
	probe = spm_anon(SZ_1M);
	ASSERT_NE(NULL, probe);
	pref = preferred_spm(_metadata, probe);
	ASSERT_LE(0, pref);
	other = pref == PERM_A ? PERM_B : PERM_A;

	ASSERT_EQ(0, perm_allow(pref, 0));
	p = spm_anon(LEN);
	ASSERT_NE(NULL, p);
	spm_fill(p, LEN, 12);
	ASSERT_EQ(NP(LEN), spm_count_pages(p, LEN, counts));
	spm_set_mempolicy(MPOL_DEFAULT, NULL, 0);
	TH_LOG("node %d withdrawn, 8 MB faulted: %s", pref, perm_counts_str(counts));
	EXPECT_EQ(0, counts[pref]) {
		TH_LOG("%ld pages landed on node %d after it withdrew user placement",
		       counts[pref], pref);
	}
	EXPECT_EQ(NP(LEN), counts[other]);
	EXPECT_EQ(0, spm_verify(p, LEN, 12));
}

TEST_F(now, mbind_bind_23_withdraw_preferred)
{
	unsigned long m = spm_nodes_mask(PERM_A, PERM_B, -1);
	long counts[SPM_MAXN + 1];
	char *p = spm_anon(SZ_1M + LEN);
	int pref, other;

	ASSERT_NE(NULL, p);
	ASSERT_EQ(0, perm_allow(PERM_A, 1));
	ASSERT_EQ(0, perm_allow(PERM_B, 1));
	ASSERT_EQ(0, spm_mbind(p, SZ_1M + LEN, MPOL_BIND, &m, PERM_MAXNODE, 0)) {
		TH_LOG("mbind(BIND {2,3}): %s", strerror(errno));
	}
	pref = preferred_spm(_metadata, p);
	ASSERT_LE(0, pref);
	other = pref == PERM_A ? PERM_B : PERM_A;

	ASSERT_EQ(0, perm_allow(pref, 0));
	spm_fill(p + SZ_1M, LEN, 13);
	ASSERT_EQ(NP(LEN), spm_count_pages(p + SZ_1M, LEN, counts));
	TH_LOG("node %d withdrawn, 8 MB faulted: %s", pref, perm_counts_str(counts));
	EXPECT_EQ(0, counts[pref]) {
		TH_LOG("%ld pages landed on node %d after it withdrew user placement",
		       counts[pref], pref);
	}
	EXPECT_EQ(NP(LEN), counts[other]);
	/* The pages placed while it was permitted stay where they are. */
	ASSERT_EQ(NP(SZ_1M), spm_count_pages(p, SZ_1M, counts));
	EXPECT_EQ(NP(SZ_1M), counts[pref]);
}

/* Explicitly node 2 withdrawn (the brief's case), whichever is preferred. */
TEST_F(now, bind_23_withdraw_node2_nothing_on_2)
{
	unsigned long m = spm_nodes_mask(PERM_A, PERM_B, -1);
	long counts[SPM_MAXN + 1];
	char *p;

	ASSERT_EQ(0, perm_allow(PERM_A, 1));
	ASSERT_EQ(0, perm_allow(PERM_B, 1));
	ASSERT_EQ(0, spm_set_mempolicy(MPOL_BIND, &m, PERM_MAXNODE));
	ASSERT_EQ(0, perm_allow(PERM_A, 0));
	p = spm_anon(LEN);
	ASSERT_NE(NULL, p);
	spm_fill(p, LEN, 14);
	ASSERT_EQ(NP(LEN), spm_count_pages(p, LEN, counts));
	spm_set_mempolicy(MPOL_DEFAULT, NULL, 0);
	TH_LOG("node 2 withdrawn: %s", perm_counts_str(counts));
	EXPECT_EQ(0, counts[PERM_A]);
	EXPECT_EQ(NP(LEN), counts[PERM_B]);
}

TEST_F(now, bind_23_both_withdrawn_lands_on_sysram)
{
	unsigned long m = spm_nodes_mask(PERM_A, PERM_B, -1);
	long counts[SPM_MAXN + 1];
	char *p;

	ASSERT_EQ(0, perm_allow(PERM_A, 1));
	ASSERT_EQ(0, perm_allow(PERM_B, 1));
	ASSERT_EQ(0, spm_set_mempolicy(MPOL_BIND, &m, PERM_MAXNODE));
	ASSERT_EQ(0, perm_allow(PERM_A, 0));
	ASSERT_EQ(0, perm_allow(PERM_B, 0));
	p = spm_anon(LEN);
	ASSERT_NE(NULL, p);
	spm_fill(p, LEN, 15);
	ASSERT_EQ(NP(LEN), spm_count_pages(p, LEN, counts));
	spm_set_mempolicy(MPOL_DEFAULT, NULL, 0);
	TH_LOG("nodes 2 and 3 withdrawn: %s", perm_counts_str(counts));
	EXPECT_EQ(0, counts[PERM_A] + counts[PERM_B]);
	EXPECT_EQ(NP(LEN), counts[0] + counts[1]);
}

/* BIND {N}, N withdraws: SysRAM, for both nodes and both calls. */
TEST_F(now, bind_single_withdrawn_lands_on_sysram)
{
	long counts[SPM_MAXN + 1];
	int nid, use_mbind;

	for (nid = PERM_A; nid <= PERM_B; nid++) {
		for (use_mbind = 0; use_mbind <= 1; use_mbind++) {
			unsigned long m = 1UL << nid;
			char *p = spm_anon(LEN);

			ASSERT_NE(NULL, p);
			ASSERT_EQ(0, perm_allow(nid, 1));
			if (use_mbind) {
				ASSERT_EQ(0, spm_mbind(p, LEN, MPOL_BIND, &m, PERM_MAXNODE, 0));
			} else {
				ASSERT_EQ(0, spm_set_mempolicy(MPOL_BIND, &m, PERM_MAXNODE));
			}
			spm_fill(p, SZ_1M, 16);
			ASSERT_EQ(NP(SZ_1M), spm_count_pages(p, SZ_1M, counts));
			EXPECT_EQ(NP(SZ_1M), counts[nid]);
			ASSERT_EQ(0, perm_allow(nid, 0));
			spm_fill(p + SZ_1M, LEN - SZ_1M, 17);
			ASSERT_EQ(NP(LEN - SZ_1M), spm_count_pages(p + SZ_1M, LEN - SZ_1M, counts));
			spm_set_mempolicy(MPOL_DEFAULT, NULL, 0);
			TH_LOG("%s BIND {%d}, withdrawn: %s", use_mbind ? "mbind" : "set_mempolicy",
			       nid, perm_counts_str(counts));
			EXPECT_EQ(0, counts[nid]);
			EXPECT_EQ(NP(LEN - SZ_1M), counts[0] + counts[1]);
			munmap(p, LEN);
		}
	}
}

/* Permission given back: the same policy uses the node again. */
TEST_F(now, bind_23_permission_given_back)
{
	unsigned long m = spm_nodes_mask(PERM_A, PERM_B, -1);
	long counts[SPM_MAXN + 1];
	char *probe, *p;
	int pref;

	ASSERT_EQ(0, perm_allow(PERM_A, 1));
	ASSERT_EQ(0, perm_allow(PERM_B, 1));
	ASSERT_EQ(0, spm_set_mempolicy(MPOL_BIND, &m, PERM_MAXNODE));
	probe = spm_anon(SZ_1M);
	ASSERT_NE(NULL, probe);
	pref = preferred_spm(_metadata, probe);
	ASSERT_LE(0, pref);
	ASSERT_EQ(0, perm_allow(pref, 0));
	ASSERT_EQ(0, perm_allow(pref, 1));
	p = spm_anon(LEN);
	ASSERT_NE(NULL, p);
	spm_fill(p, LEN, 18);
	ASSERT_EQ(NP(LEN), spm_count_pages(p, LEN, counts));
	spm_set_mempolicy(MPOL_DEFAULT, NULL, 0);
	TH_LOG("node %d withdrawn then permitted again: %s", pref, perm_counts_str(counts));
	EXPECT_EQ(NP(LEN), counts[pref]);
}

/*
 * MPOL_F_STATIC_NODES: the policy names node 3 while the cpuset hides it;
 * widening the cpuset rebinds the policy onto node 3, which never permitted
 * user placement. Node 2 is nearly filled first so that allocations spill
 * past it.
 *
 * The machine's fallback order for node 0 is 0 1 2 3, so a task policy
 * {1,2,3} allocates from node 1 first and never reaches 2 or 3 (the task
 * variant, as in the brief: it checks the calls and the masks). The VMA
 * variant gives the mapping home node 2 (set_mempolicy_home_node(2), order
 * 2 3 0 1): once node 2 is full the next node tried is 3.
 */
#ifndef SYS_set_mempolicy_home_node
#define SYS_set_mempolicy_home_node 450
#endif

static void static_rebind(struct __test_metadata *_metadata,
			  FIXTURE_DATA(now) *self, int vma)
{
	unsigned long m = spm_nodes_mask(1, PERM_A, PERM_B), got = 0;
	const size_t big = 64UL << 20;
	long counts[SPM_MAXN + 1];
	char buf[128];
	long long squeezed;
	int mode = -1;
	long ret;
	char *p;

	ASSERT_EQ(0, perm_allow(PERM_A, 1));
	ASSERT_EQ(0, perm_allow(PERM_B, 0));

	/* Leave about 24 MB free on node 2 (its low watermark is about 20 MB). */
	squeezed = spm_squeeze(PERM_A, 24 * 1024);
	self->squeezed = 1;
	ASSERT_LT(0, squeezed) {
		TH_LOG("squeeze node 2: %s", strerror((int)-squeezed));
	}
	TH_LOG("node 2 filled with %lld kB of tmpfs, MemFree now %lld kB", squeezed,
	       spm_node_meminfo(PERM_A, "MemFree"));

	snprintf(self->cg, sizeof(self->cg), PERM_CG "/spm-perm-static-%d", getpid());
	ASSERT_EQ(0, mkdir(self->cg, 0755));
	ASSERT_EQ(0, perm_cg_write(self->cg, "cpuset.mems", "0-2"));
	ASSERT_EQ(0, perm_cg_enter(self->cg, 0));

	p = spm_anon(big);
	ASSERT_NE(NULL, p);
	if (vma) {
		ret = spm_mbind(p, big, MPOL_BIND | MPOL_F_STATIC_NODES, &m, PERM_MAXNODE, 0);
		TH_LOG("mbind(BIND|STATIC_NODES, {1,2,3}) in mems 0-2: %s",
		       ret ? strerror(errno) : "0");
		ASSERT_EQ(0, ret);
		ret = syscall(SYS_set_mempolicy_home_node, p, big, PERM_A, 0);
		ASSERT_EQ(0, ret) {
			TH_LOG("set_mempolicy_home_node(2): %s", strerror(errno));
		}
		ASSERT_EQ(0, spm_get_mempolicy(&mode, &got, PERM_MAXNODE, p, MPOL_F_ADDR));
	} else {
		ret = spm_set_mempolicy(MPOL_BIND | MPOL_F_STATIC_NODES, &m, PERM_MAXNODE);
		TH_LOG("set_mempolicy(BIND|STATIC_NODES, {1,2,3}) in mems 0-2: %s",
		       ret ? strerror(errno) : "0");
		ASSERT_EQ(0, ret);
		ASSERT_EQ(0, spm_get_mempolicy(&mode, &got, PERM_MAXNODE, NULL, 0));
	}
	TH_LOG("get_mempolicy: mode %#x nodes %#lx", mode, got);

	ASSERT_EQ(0, perm_cg_write(self->cg, "cpuset.mems", "0-3"));
	perm_cg_read(self->cg, "cpuset.mems.effective", buf, sizeof(buf));
	TH_LOG("cpuset.mems now 0-3, effective %s", buf);
	if (vma) {
		ASSERT_EQ(0, spm_get_mempolicy(&mode, &got, PERM_MAXNODE, p, MPOL_F_ADDR));
	} else {
		ASSERT_EQ(0, spm_get_mempolicy(&mode, &got, PERM_MAXNODE, NULL, 0));
	}
	TH_LOG("get_mempolicy after widening: mode %#x nodes %#lx", mode, got);

	spm_fill(p, big, 19);
	ASSERT_EQ(NP(big), spm_count_pages(p, big, counts));
	spm_set_mempolicy(MPOL_DEFAULT, NULL, 0);
	TH_LOG("64 MB after the rebind: %s", perm_counts_str(counts));
	EXPECT_EQ(0, counts[PERM_B]) {
		TH_LOG("%ld pages landed on node 3, which never permitted user placement",
		       counts[PERM_B]);
	}
	EXPECT_EQ(NP(big), counts[1] + counts[PERM_A]);
	if (vma) {
		/* Meaningful only if node 2 was used and filled up. */
		EXPECT_LT(0, counts[PERM_A]);
		EXPECT_GT(NP(big), counts[PERM_A]);
	}
	EXPECT_EQ(0, spm_verify(p, big, 19));
}

TEST_F_TIMEOUT(now, static_nodes_rebind_task_policy, 90)
{
	static_rebind(_metadata, self, 0);
}

TEST_F_TIMEOUT(now, static_nodes_rebind_vma_home_node_2, 90)
{
	static_rebind(_metadata, self, 1);
}

TEST_HARNESS_MAIN
