// SPDX-License-Identifier: GPL-2.0
/*
 * pages_freed without a test on the per-page free path (patch 41): while
 * an owner with a pages_freed callback has node 2, the node's zones keep
 * no free pages on their per-CPU lists, so every free there reaches the
 * buddy allocator, where it is reported, at once:
 *
 *   unowned, node 2's per-CPU lists have their usual batch (the control);
 *   spm_test_owner (which has pages_freed) loaded: every per-CPU list of
 *   node 2 in /proc/zoneinfo has batch 1 (off, as during memory offline)
 *   and holds no page, node 0's are untouched; a page allocated and freed
 *   on node 2 is reported as soon as __free_pages() returns;
 *   unloaded: node 2's lists have their batch back.
 *
 * On the series before patch 41 the lists kept their size while owned.
 */
#include "kselftest_harness.h"
#include "services.h"

FIXTURE(pcp) {
	int loaded;
};

FIXTURE_SETUP(pcp)
{
	self->loaded = 0;
	owner_unload();
}

FIXTURE_TEARDOWN(pcp)
{
	owner_unload();
}

/*
 * The largest "batch:" of nid's per-CPU lists in /proc/zoneinfo (1 for
 * lists that are off, as zone_pcp_disable() leaves them; "high:" is no
 * measure: it is 0 until a CPU first frees a page to the zone) and the
 * pages they hold.
 */
static int pcp_state(int nid, long long *batch, long long *count)
{
	char line[256];
	long long v;
	int cur = -1, n, seen = 0;
	FILE *f = fopen("/proc/zoneinfo", "r");

	if (!f)
		return -errno;
	*batch = 0;
	*count = 0;
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "Node %d, zone", &n) == 1) {
			cur = n;
		} else if (cur != nid) {
			continue;
		} else if (sscanf(line, " batch: %lld", &v) == 1) {
			if (v > *batch)
				*batch = v;
			seen++;
		} else if (sscanf(line, " count: %lld", &v) == 1) {
			*count += v;
		}
	}
	fclose(f);
	return seen ? 0 : -ENOENT;
}

TEST_F(pcp, listening_owner_turns_the_node_per_cpu_lists_off)
{
	long long batch, count, batch0, count0, freed, i;

	ASSERT_EQ(0, pcp_state(SPM_NID, &batch, &count));
	ASSERT_EQ(0, pcp_state(0, &batch0, &count0));
	printf("# unowned: node 2 per-CPU lists: batch %lld, %lld pages; node 0: batch %lld\n",
	       batch, count, batch0);
	ASSERT_LT(1, batch);

	ASSERT_EQ(0, owner_load("caps="));
	self->loaded = 1;
	ASSERT_EQ(0, pcp_state(SPM_NID, &batch, &count));
	ASSERT_EQ(0, pcp_state(0, &batch0, &count0));
	printf("# owned: node 2 per-CPU lists: batch %lld, %lld pages; node 0: batch %lld\n",
	       batch, count, batch0);
	EXPECT_EQ(1, batch);
	EXPECT_EQ(0, count);
	EXPECT_LT(1, batch0);

	/* Each free on the node is reported before it can be reused. */
	for (i = 0; i < 64; i++) {
		freed = SPM_GET(owner_get("pages_freed"));
		ASSERT_EQ(0, owner_put("alloc_order", "0"));
		ASSERT_EQ(1, SPM_GET(owner_get("alloc_order")));
		EXPECT_EQ(freed + 1, SPM_GET(owner_get("pages_freed")));
	}
	freed = SPM_GET(owner_get("pages_freed"));
	ASSERT_EQ(0, owner_put("alloc_order", "3"));
	ASSERT_EQ(1, SPM_GET(owner_get("alloc_order")));
	EXPECT_EQ(freed + 8, SPM_GET(owner_get("pages_freed")));
	ASSERT_EQ(0, pcp_state(SPM_NID, &batch, &count));
	EXPECT_EQ(0, count);

	ASSERT_EQ(0, owner_unload());
	self->loaded = 0;
	ASSERT_EQ(0, pcp_state(SPM_NID, &batch, &count));
	printf("# released: node 2 per-CPU lists: batch %lld, %lld pages\n",
	       batch, count);
	EXPECT_LT(1, batch);
}

TEST_HARNESS_MAIN
