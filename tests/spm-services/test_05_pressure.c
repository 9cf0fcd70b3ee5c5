// SPDX-License-Identifier: GPL-2.0
/*
 * The owner's pressure callback means "the node is short of memory", not
 * "kswapd was woken" (node 2, owned by spm_test_owner, no capability):
 *
 *   spm_test_owner's frag file takes every free page of node 2 one by one
 *   (as reclaim does, below the watermarks), then frees every other one by
 *   PFN: the fill went below the low watermark, so pressure was called
 *   (the control: the callback works); afterwards half of node 2 is free,
 *   far above its low watermark, but in single pages only (no free block
 *   of order 1 or more in /proc/buddyinfo)
 *   an order-1 allocation on node 2 then fails and wakes kswapd (the slow
 *   path does so for any failed request): pressure must not be called.
 *   The kernel used to call it from every kswapd wake-up of the node.
 */
#include "kselftest_harness.h"
#include "services.h"

FIXTURE(pr) {
	int loaded;
};

FIXTURE_SETUP(pr)
{
	self->loaded = 0;
	owner_unload();
}

FIXTURE_TEARDOWN(pr)
{
	if (self->loaded)
		owner_put("frag", "0");
	owner_unload();
}

TEST_F(pr, fragmented_node_with_free_memory_is_no_pressure)
{
	long long free_kb, low_kb, held, fill_pressure, high_order_kb;
	char nr[32];

	ASSERT_EQ(0, owner_load("caps="));
	self->loaded = 1;
	free_kb = SPM_GET(spm_node_meminfo(SPM_NID, "MemFree"));
	low_kb = SPM_GET(spm_zoneinfo_sum(SPM_NID, "low")) * (PAGE / 1024);
	printf("# node 2: %lld kB free, low watermark %lld kB\n", free_kb, low_kb);
	ASSERT_EQ(0, owner_put("pressure", "0"));

	/* More pages than are free: the fill stops at an empty node. */
	snprintf(nr, sizeof(nr), "%lld", free_kb / (PAGE / 1024) + 4096);
	ASSERT_EQ(0, owner_put("frag", nr));
	held = SPM_GET(owner_get("frag"));
	fill_pressure = SPM_GET(owner_get("pressure"));
	free_kb = SPM_GET(spm_node_meminfo(SPM_NID, "MemFree"));
	high_order_kb = SPM_GET(buddy_free_kb(SPM_NID, 1));
	buddy_log("node 2 after the fill and the frees", SPM_NID);
	printf("# %lld pages held, %lld kB free, %lld kB of it in blocks of order >= 1; pressure during the fill: %lld\n",
	       held, free_kb, high_order_kb, fill_pressure);
	/* The control: below the low watermark, the owner hears it. */
	EXPECT_LT(0, fill_pressure);
	/* Preconditions of what follows: memory, but no order-1 block. */
	ASSERT_LT(4 * low_kb, free_kb);
	ASSERT_EQ(0, high_order_kb);

	ASSERT_EQ(0, owner_put("pressure", "0"));
	ASSERT_EQ(0, owner_put("alloc_order", "1"));
	/* The request failed for fragmentation (no reclaim, no compaction). */
	EXPECT_EQ(0, SPM_GET(owner_get("alloc_order")));
	EXPECT_EQ(0, SPM_GET(owner_get("pressure"))) {
		TH_LOG("pressure called for a failed order-1 request with %lld kB free (low watermark %lld kB)",
		       free_kb, low_kb);
	}

	ASSERT_EQ(0, owner_put("frag", "0"));
	EXPECT_EQ(0, SPM_GET(owner_get("frag")));
}

TEST_HARNESS_MAIN
