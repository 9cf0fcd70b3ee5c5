// SPDX-License-Identifier: GPL-2.0
/*
 * Compaction of an SPM node (node 2, owned by spm_test_owner):
 *
 *   fill node 2 with anonymous memory bound there, free two pages of three
 *   (MADV_DONTNEED): no free block of order >= 9 is left but the tail
 *   left above the high watermark
 *   nodeN/compact with the compaction capability: the high-order free
 *   memory of node 2 grows by at least an eighth of the region, the data
 *   stays intact and on node 2, the owner hears folio_arrived, with
 *   MR_COMPACTION and a source folio on node 2 for every call
 *   without it: EPERM and the buddy lists of node 2 do not change
 */
#include <sys/mman.h>
#include "kselftest_harness.h"
#include "services.h"

#define HIGH_ORDER	9
#define MARGIN_KB	(16LL << 10)

FIXTURE(compact) {
	char *p;
	size_t len;
	long n;
	long long leave_kb;
	long kept;
};

FIXTURE_SETUP(compact)
{
	self->p = NULL;
	owner_unload();
}

FIXTURE_TEARDOWN(compact)
{
	if (self->p)
		munmap(self->p, self->len);
	owner_unload();
}

/* The kept pages (index a multiple of 3) whose pattern is not intact. */
static long verify_kept(const char *p, long n, uint64_t seed)
{
	long i, bad = 0;

	for (i = 0; i < n; i += 3) {
		const volatile uint64_t *w = (const uint64_t *)(p + i * PAGE);

		if (w[0] != spm_pattern(seed, i, 0) ||
		    w[PAGE / 16] != spm_pattern(seed, i, 1))
			bad++;
	}
	return bad;
}

/*
 * Fill node 2 but its high watermark and a margin (without the reclaim
 * capability, going below min is the OOM killer), then free two pages of
 * every three.  Not every other page: after a run of empty pageblocks the
 * free scanner probes every 32nd page, and in a region of alternating
 * pages those probes all land on used ones, so it finds no target at all.
 */
static void fragment_node2(struct __test_metadata *_metadata,
			   FIXTURE_DATA(compact) *self)
{
	long long free_kb = spm_node_meminfo(SPM_NID, "MemFree");
	long i;

	self->leave_kb = spm_zoneinfo_sum(SPM_NID, "high") * (PAGE / 1024) + MARGIN_KB;
	ASSERT_LT(self->leave_kb * 4, free_kb);
	self->len = ((size_t)(free_kb - self->leave_kb) << 10) & ~((2UL << 20) - 1);
	self->n = self->len / PAGE;
	self->p = map_bound(self->len, SPM_NID);
	ASSERT_NE(MAP_FAILED, self->p) {
		self->p = NULL;
	}
	spm_fill(self->p, self->len, 21);
	for (i = 0; i + 1 < self->n; i += 3) {
		long nr = self->n - i - 1 < 2 ? self->n - i - 1 : 2;

		ASSERT_EQ(0, madvise(self->p + (i + 1) * PAGE, nr * PAGE, MADV_DONTNEED));
	}
	self->kept = (self->n + 2) / 3;
	ASSERT_EQ(self->kept, spm_pages_on_node(self->p, self->len, SPM_NID));
	/* Let the freed pages leave the per-cpu lists. */
	spm_stat_refresh();
	usleep(100000);
}

TEST_F_TIMEOUT(compact, compact_file_defragments_node2, 180)
{
	long long before, after, arrived, free_kb, holes_kb, comp, comp_same = -1;
	long counts[SPM_MAXN + 1];
	int i;

	ASSERT_EQ(0, owner_load("caps=user,compaction"));
	fragment_node2(_metadata, self);
	before = SPM_GET(buddy_free_kb(SPM_NID, HIGH_ORDER));
	free_kb = SPM_GET(spm_node_meminfo(SPM_NID, "MemFree"));
	holes_kb = (long long)(self->n - self->kept) * (PAGE / 1024);
	buddy_log("fragmented", SPM_NID);
	arrived = SPM_GET(owner_get("folio_arrived"));
	ASSERT_EQ(0, owner_put("arrived", "0"));
	ASSERT_EQ(0, node_compact(SPM_NID));
	/*
	 * The migrated pages' old copies are freed to the per-cpu lists and
	 * reach the buddy lists (and merge) only as those drain: wait.
	 */
	for (i = 0; i < 20; i++) {
		after = SPM_GET(buddy_free_kb(SPM_NID, HIGH_ORDER));
		if (after >= before + (long long)(self->len >> 10) / 8)
			break;
		sleep(1);
	}
	buddy_log("compacted", SPM_NID);
	arrived = SPM_GET(owner_get("folio_arrived")) - arrived;
	printf("# region %zu MiB; free in order >= %d blocks: %lld -> %lld kB (after %d s); folio_arrived %+lld\n",
	       self->len >> 20, HIGH_ORDER, before, after, i, arrived);
	/*
	 * Fragmented: no hole punched in the region is in a large free block,
	 * so the large blocks are outside it: the unfilled tail, and what
	 * earlier tests' memory freed late (swap cache, per-cpu lists: up to a
	 * few dozen MB, so MemFree cannot bound them exactly).  Either way they
	 * are far less than the region compaction works on.
	 */
	printf("# MemFree %lld kB, holes %lld kB, high-order free %lld kB\n",
	       free_kb, holes_kb, before);
	EXPECT_GT((long long)(self->len >> 10) / 4, before);
	/* Two thirds of the region were freed: at least an eighth merges. */
	EXPECT_LE(before + (long long)(self->len >> 10) / 8, after);
	EXPECT_LT(0, arrived);
	/* Every arrival was compaction moving a folio within node 2. */
	comp = SPM_GET(owner_arrived("compaction", &comp_same));
	printf("# arrivals for compaction: %lld, from node 2 itself: %lld\n",
	       comp, comp_same);
	/* comp was read last: kcompactd may have added to it since. */
	EXPECT_LE(arrived, comp);
	EXPECT_EQ(comp, comp_same);
	EXPECT_EQ(0, verify_kept(self->p, self->n, 21));
	ASSERT_EQ(self->n, spm_count_pages(self->p, self->len, counts));
	EXPECT_EQ(self->kept, counts[SPM_NID]);
	EXPECT_EQ(self->n - self->kept, counts[SPM_MAXN]);
}

TEST_F_TIMEOUT(compact, compact_without_cap_is_eperm, 180)
{
	long long before, after, arrived;

	ASSERT_EQ(0, owner_load("caps=user,migration"));
	fragment_node2(_metadata, self);
	/* Pages freed earlier keep merging as the per-cpu lists drain. */
	sleep(5);
	before = SPM_GET(buddy_free_kb(SPM_NID, HIGH_ORDER));
	arrived = SPM_GET(owner_get("folio_arrived"));
	EXPECT_EQ(-EPERM, node_compact(SPM_NID));
	sleep(5);
	after = SPM_GET(buddy_free_kb(SPM_NID, HIGH_ORDER));
	arrived = SPM_GET(owner_get("folio_arrived")) - arrived;
	buddy_log("after the refused compaction", SPM_NID);
	printf("# free in order >= %d blocks: %lld -> %lld kB, folio_arrived %+lld\n",
	       HIGH_ORDER, before, after, arrived);
	/* Compaction gains a fifth of the region or more: allow 1/32. */
	EXPECT_GE(before + (long long)(self->len >> 10) / 32, after);
	EXPECT_EQ(0, arrived);
	EXPECT_EQ(0, verify_kept(self->p, self->n, 21));
	EXPECT_EQ(self->kept, spm_pages_on_node(self->p, self->len, SPM_NID));
}

TEST_HARNESS_MAIN
