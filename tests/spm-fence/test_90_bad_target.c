// SPDX-License-Identifier: GPL-2.0
/*
 * The owner's promote target is validated (contract 4).
 *
 * spm_test_owner answers promote and sets *target_nid to promote_nid.  An
 * invalid answer - a node number past MAX_NUMNODES (64, 1000), a negative
 * one other than NUMA_NO_NODE (-5), an SPM node (2 itself) or a node
 * without memory (3: legacy pmem not onlined on this boot) - must neither
 * crash nor read past the kernel's node arrays: the kernel falls back to
 * its own choice, so the write succeeds, the data is right and the page is
 * on a SysRAM node (0 or 1).  -1 (the kernel's choice) and 1 (a valid
 * SysRAM node) are the controls.  The out-of-range cases run last: on a
 * kernel without validation they may oops.
 */
#include "kselftest_harness.h"
#include "fence.h"

#define NPAGES	8
#define LEN	(NPAGES * PAGE)
#define SEED	0x90
#define MARK	0x9000000000000000ULL

FIXTURE(target) {
	char *p;
};

FIXTURE_VARIANT(target) {
	int nid;
	int expect;	/* the node the page must reach; -1: any SysRAM node */
};

FIXTURE_VARIANT_ADD(target, kernel_choice) { .nid = -1, .expect = 0 };
FIXTURE_VARIANT_ADD(target, sysram_node1) { .nid = 1, .expect = 1 };
FIXTURE_VARIANT_ADD(target, negative) { .nid = -5, .expect = -1 };
FIXTURE_VARIANT_ADD(target, spm_node_itself) { .nid = 2, .expect = -1 };
FIXTURE_VARIANT_ADD(target, memoryless_node3) { .nid = 3, .expect = -1 };
FIXTURE_VARIANT_ADD(target, max_numnodes_64) { .nid = 64, .expect = -1 };
FIXTURE_VARIANT_ADD(target, far_out_1000) { .nid = 1000, .expect = -1 };

FIXTURE_SETUP(target)
{
	char params[160];

	self->p = NULL;
	owner_unload();
	/* CPU 0: node 0 is the kernel's choice. */
	ASSERT_EQ(0, spm_pin_cpu(0));
	if (variant->nid == 3) {
		long long mem = spm_sysfs_nodemask("has_memory");

		ASSERT_LE(0, mem);
		ASSERT_EQ(0, mem & (1LL << 3)) {
			TH_LOG("node 3 has memory on this boot");
		}
	}
	snprintf(params, sizeof(params),
		 FENCE_CAPS " fence_action=promote promote_nid=%d", variant->nid);
	ASSERT_EQ(0, owner_load(params));
	self->p = fenced_private(LEN, SEED);
	ASSERT_NE(NULL, self->p);
	ASSERT_EQ(0, wf_reset());
}

FIXTURE_TEARDOWN(target)
{
	if (self->p)
		munmap(self->p, LEN);
	owner_unload();
}

TEST_F_TIMEOUT(target, write_lands_on_sysram, 15)
{
	int bus, nid;

	printf("# promote_nid=%d\n", variant->nid);
	fflush(stdout);
	bus = guard_write64(word1(self->p, 4), MARK);
	nid = spm_node_of(self->p + 4 * PAGE);
	printf("# the write %s, the page is on node %d, write_fault %lld\n",
	       bus ? "raised SIGBUS" : "succeeded", nid, wf());
	EXPECT_EQ(0, bus) {
		TH_LOG("promote_nid=%d: the write raised SIGBUS instead of falling back to a SysRAM node",
		       variant->nid);
	}
	EXPECT_EQ(1, wf());
	if (variant->expect >= 0) {
		EXPECT_EQ(variant->expect, nid);
	} else {
		EXPECT_TRUE(is_sysram(nid)) {
			TH_LOG("promote_nid=%d: the written page is on node %d",
			       variant->nid, nid);
		}
	}
	if (!bus) {
		EXPECT_EQ(MARK, *word1(self->p, 4));
	}
	EXPECT_EQ(0, spm_verify(self->p, LEN, SEED));
	EXPECT_EQ(NPAGES - 1, spm_pages_on_node(self->p, LEN, SPM_NID));
	/* A second page, the same answer: the same outcome, no crash. */
	bus = guard_write64(word1(self->p, 5), MARK + 1);
	EXPECT_EQ(0, bus);
	EXPECT_EQ(2, wf());
	EXPECT_TRUE(is_sysram(spm_node_of(self->p + 5 * PAGE)));
}

TEST_HARNESS_MAIN
