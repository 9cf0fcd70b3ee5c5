// SPDX-License-Identifier: GPL-2.0
/*
 * Rule 3: what a task is told matches what it may use. Mems_allowed_list in
 * /proc/<pid>/status and get_mempolicy(MPOL_F_MEMS_ALLOWED) report the
 * cpuset's SysRAM nodes plus the SPM nodes that permit user placement now:
 *
 *   allow_user 2=0 3=0 -> 0-1     2=1 3=0 -> 0-2
 *   2=0 3=1 -> 0-1,3              2=1 3=1 -> 0-3
 *
 * for the task itself and for a task started before the change, and within
 * a cpuset (mems 0,2: "0" or "0,2"). has_memory stays 0-3.
 */
#include "kselftest_harness.h"
#include "spm_perm.h"

FIXTURE(ma) {
	struct perm_saved saved;
	char cg[128];
};

FIXTURE_VARIANT(ma) {
	int a, b;
	const char *want;
};

FIXTURE_VARIANT_ADD(ma, none)  { .a = 0, .b = 0, .want = "0-1" };
FIXTURE_VARIANT_ADD(ma, node2) { .a = 1, .b = 0, .want = "0-2" };
FIXTURE_VARIANT_ADD(ma, node3) { .a = 0, .b = 1, .want = "0-1,3" };
FIXTURE_VARIANT_ADD(ma, both)  { .a = 1, .b = 1, .want = "0-3" };

FIXTURE_SETUP(ma)
{
	self->cg[0] = '\0';
	perm_save(&self->saved);
	ASSERT_LE(0, self->saved.a);
	ASSERT_LE(0, self->saved.b);
	/* Start from the opposite state so that a stale value shows. */
	ASSERT_EQ(0, perm_allow(PERM_A, !variant->a));
	ASSERT_EQ(0, perm_allow(PERM_B, !variant->b));
	ASSERT_EQ(0, perm_allow(PERM_A, variant->a));
	ASSERT_EQ(0, perm_allow(PERM_B, variant->b));
}

FIXTURE_TEARDOWN(ma)
{
	if (self->cg[0])
		perm_cg_remove(self->cg);
	perm_restore(&self->saved);
}

TEST_F(ma, proc_status_self)
{
	char buf[128];

	ASSERT_EQ(0, perm_status(0, "Mems_allowed_list", buf, sizeof(buf)));
	EXPECT_STREQ(variant->want, buf);
}

TEST_F(ma, proc_status_of_a_running_task)
{
	char buf[128];

	/* The harness's parent process was started before the change. */
	ASSERT_EQ(0, perm_status(getppid(), "Mems_allowed_list", buf, sizeof(buf)));
	EXPECT_STREQ(variant->want, buf);
	ASSERT_EQ(0, perm_status(1, "Mems_allowed_list", buf, sizeof(buf)));
	EXPECT_STREQ(variant->want, buf) {
		TH_LOG("pid 1");
	}
}

TEST_F(ma, get_mempolicy_mems_allowed)
{
	unsigned long got[PERM_MAXNODE / (8 * sizeof(long))] = { 0 };
	char want[64], have[64];
	long long w = spm_nodelist_parse(variant->want);

	ASSERT_EQ(0, spm_get_mempolicy(NULL, got, PERM_MAXNODE, NULL, MPOL_F_MEMS_ALLOWED)) {
		TH_LOG("get_mempolicy(MPOL_F_MEMS_ALLOWED): %s", strerror(errno));
	}
	EXPECT_EQ((unsigned long)w, got[0]) {
		TH_LOG("want %s, got %s", spm_mask_str(w, want, sizeof(want)),
		       spm_mask_str(got[0], have, sizeof(have)));
	}
}

TEST_F(ma, has_memory_unchanged)
{
	char buf[64];

	ASSERT_LT(0, spm_read_file(SPM_NODE_SYSFS "/has_memory", buf, sizeof(buf)));
	EXPECT_STREQ("0-3", buf);
	ASSERT_LT(0, spm_read_file(SPM_NODE_SYSFS "/has_spm_memory", buf, sizeof(buf)));
	EXPECT_STREQ("2-3", buf);
}

/* Within a cpuset whose mems are 0,2: node 3 is never there, node 2 when permitted. */
TEST_F(ma, in_cpuset_0_2)
{
	unsigned long got[PERM_MAXNODE / (8 * sizeof(long))] = { 0 };
	const char *want = variant->a ? "0,2" : "0";
	char buf[128];

	snprintf(self->cg, sizeof(self->cg), PERM_CG "/spm-perm-ma-%d", getpid());
	ASSERT_EQ(0, mkdir(self->cg, 0755));
	ASSERT_EQ(0, perm_cg_write(self->cg, "cpuset.mems", "0,2"));
	ASSERT_EQ(0, perm_cg_enter(self->cg, 0));
	ASSERT_EQ(0, perm_status(0, "Mems_allowed_list", buf, sizeof(buf)));
	EXPECT_STREQ(want, buf);
	ASSERT_EQ(0, spm_get_mempolicy(NULL, got, PERM_MAXNODE, NULL, MPOL_F_MEMS_ALLOWED));
	EXPECT_EQ((unsigned long)spm_nodelist_parse(want), got[0]);
	/* And it follows a change made while the task sits in the cpuset. */
	ASSERT_EQ(0, perm_allow(PERM_A, !variant->a));
	ASSERT_EQ(0, perm_status(0, "Mems_allowed_list", buf, sizeof(buf)));
	EXPECT_STREQ(variant->a ? "0" : "0,2", buf);
}

TEST_HARNESS_MAIN
