// SPDX-License-Identifier: GPL-2.0
/*
 * Migration into and out of an SPM node (node 2, owned by spm_test_owner):
 *
 *   with the migration capability, move_pages() takes node-2 pages to
 *   node 0 and back (status = node, data intact); the owner hears
 *   pages_freed for the old copies and folio_arrived for the new ones
 *   without it, moving out of node 2 and moving onto it are EPERM and
 *   nothing moves
 *   freeing node-2 memory calls pages_freed
 *   offlining a memory block of node 2 that holds data either works, with
 *   every page moved off the block and the data intact, or fails with
 *   EBUSY; the block comes back online.  Where the pages go: the rest of
 *   node 2 while it has room (above its low watermark), then SysRAM.
 */
#include <fcntl.h>
#include <sys/mman.h>
#include "kselftest_harness.h"
#include "services.h"

#define NPAGES		256
#define LEN		(NPAGES * PAGE)
#define MEMSYS		"/sys/devices/system/memory"

FIXTURE(mig) {
	char *p, *q;
	void *pages[NPAGES];
	int nodes[NPAGES];
	int status[NPAGES];
	long block;
};

static void region_pages(FIXTURE_DATA(mig) *self, char *p)
{
	int i;

	for (i = 0; i < NPAGES; i++)
		self->pages[i] = p + i * PAGE;
}

/* move_pages() of the whole region to nid; returns its result, -errno. */
static long move_to(FIXTURE_DATA(mig) *self, int nid)
{
	int i;

	for (i = 0; i < NPAGES; i++) {
		self->nodes[i] = nid;
		self->status[i] = -1000;
	}
	if (spm_move_pages(0, NPAGES, self->pages, self->nodes, self->status,
			   MPOL_MF_MOVE))
		return -errno;
	return 0;
}

static int count_status(FIXTURE_DATA(mig) *self, int value)
{
	int i, n = 0;

	for (i = 0; i < NPAGES; i++)
		n += self->status[i] == value;
	return n;
}

FIXTURE_SETUP(mig)
{
	self->p = NULL;
	self->q = NULL;
	self->block = -1;
	owner_unload();
}

FIXTURE_TEARDOWN(mig)
{
	char path[128];

	if (self->block >= 0) {
		snprintf(path, sizeof(path), MEMSYS "/memory%ld/state", self->block);
		spm_write_file(path, "online");
	}
	if (self->p)
		munmap(self->p, LEN);
	if (self->q)
		munmap(self->q, LEN);
	owner_unload();
}

static void map_on(struct __test_metadata *_metadata, char **p, int nid,
		   uint64_t seed)
{
	*p = map_bound(LEN, nid);
	ASSERT_NE(MAP_FAILED, *p) {
		*p = NULL;
	}
	spm_fill(*p, LEN, seed);
	ASSERT_EQ(NPAGES, spm_pages_on_node(*p, LEN, nid));
}

TEST_F(mig, move_out_and_back_with_migration_cap)
{
	long long freed, arrived;
	long ret;

	ASSERT_EQ(0, owner_load("caps=user,migration"));
	map_on(_metadata, &self->p, SPM_NID, 1);
	region_pages(self, self->p);

	freed = owner_get("pages_freed");
	ret = move_to(self, 0);
	ASSERT_EQ(0, ret) {
		TH_LOG("move_pages to node 0: %s", strerror(-ret));
	}
	EXPECT_EQ(NPAGES, count_status(self, 0));
	EXPECT_EQ(NPAGES, spm_pages_on_node(self->p, LEN, 0));
	EXPECT_EQ(0, spm_verify(self->p, LEN, 1));
	freed = owner_get("pages_freed") - freed;

	arrived = owner_get("folio_arrived");
	ret = move_to(self, SPM_NID);
	ASSERT_EQ(0, ret) {
		TH_LOG("move_pages to node 2: %s", strerror(-ret));
	}
	arrived = owner_get("folio_arrived") - arrived;
	printf("# moving out: pages_freed %+lld; moving in: folio_arrived %+lld\n",
	       freed, arrived);
	EXPECT_EQ(NPAGES, count_status(self, SPM_NID));
	EXPECT_EQ(NPAGES, spm_pages_on_node(self->p, LEN, SPM_NID));
	EXPECT_EQ(0, spm_verify(self->p, LEN, 1));
	/* The old copies of all but what the per-cpu lists still hold. */
	EXPECT_LE(NPAGES / 2, freed);
	EXPECT_EQ(NPAGES, arrived);
}

/*
 * A refused move: move_pages() fails with EPERM as a whole, or reports
 * -EPERM for every page.
 */
static void expect_eperm(struct __test_metadata *_metadata,
			 FIXTURE_DATA(mig) *self, long ret)
{
	if (ret) {
		EXPECT_EQ(-EPERM, ret);
		printf("# move_pages: -1, errno %ld\n", -ret);
	} else {
		EXPECT_EQ(NPAGES, count_status(self, -EPERM)) {
			TH_LOG("status[0] %d", self->status[0]);
		}
		printf("# move_pages: 0, status[0] %d\n", self->status[0]);
	}
}

TEST_F(mig, no_migration_cap_no_moves)
{
	ASSERT_EQ(0, owner_load("caps=user"));
	map_on(_metadata, &self->p, SPM_NID, 2);
	map_on(_metadata, &self->q, 0, 3);

	region_pages(self, self->p);
	expect_eperm(_metadata, self, move_to(self, 0));
	EXPECT_EQ(NPAGES, spm_pages_on_node(self->p, LEN, SPM_NID));
	EXPECT_EQ(0, spm_verify(self->p, LEN, 2));

	region_pages(self, self->q);
	expect_eperm(_metadata, self, move_to(self, SPM_NID));
	EXPECT_EQ(NPAGES, spm_pages_on_node(self->q, LEN, 0));
	EXPECT_EQ(0, spm_verify(self->q, LEN, 3));
}

TEST_F(mig, freeing_node2_memory_calls_pages_freed)
{
	const size_t len = 16UL << 20;
	long long freed;
	char *p;

	ASSERT_EQ(0, owner_load("caps=user"));
	p = map_bound(len, SPM_NID);
	ASSERT_NE(MAP_FAILED, p);
	spm_fill(p, len, 4);
	ASSERT_EQ((long)(len / PAGE), spm_pages_on_node(p, len, SPM_NID));
	freed = owner_get("pages_freed");
	ASSERT_EQ(0, munmap(p, len));
	usleep(100000);
	freed = owner_get("pages_freed") - freed;
	printf("# munmap of %zu pages on node 2: pages_freed %+lld\n", len / PAGE, freed);
	/* All but what the per-cpu lists may still hold. */
	EXPECT_LE((long long)(len / PAGE) * 3 / 4, freed);
	EXPECT_GE((long long)(len / PAGE) + 64, freed);
}

/* ---------------------------------------------------------- memory offline */

static long long pfn_of(int fd, void *addr)
{
	uint64_t e;
	off_t off = ((uintptr_t)addr / PAGE) * sizeof(e);

	if (pread(fd, &e, sizeof(e), off) != sizeof(e) || !(e & (1ULL << 63)))
		return -1;
	return e & ((1ULL << 55) - 1);
}

/* Memory block of every page of [p, p + len) into blocks[]; 0 or -1. */
static int blocks_of(char *p, size_t len, long bsize, long *blocks)
{
	int fd = open("/proc/self/pagemap", O_RDONLY);
	size_t i;

	if (fd < 0)
		return -1;
	for (i = 0; i < len / PAGE; i++) {
		long long pfn = pfn_of(fd, p + i * PAGE);

		blocks[i] = pfn < 0 ? -1 : (long)(pfn * PAGE / bsize);
	}
	close(fd);
	return 0;
}

struct offline_result {
	int ret;		/* of the write of "offline" */
	long in_block;		/* pages of the region in the block */
	long to_node2;		/* of those, now on node 2 */
	long to_sysram;		/* of those, now on nodes 0-1 */
};

/*
 * Fill len bytes bound to node 2, offline the memory block holding most of
 * them, check the data and where the block's pages went, online it again.
 */
static void offline_block(struct __test_metadata *_metadata,
			  FIXTURE_DATA(mig) *self, size_t len,
			  struct offline_result *res)
{
	const long n = len / PAGE;
	long bsize, best = -1, best_n = 0, in_block = 0, i, j, lo, hi;
	long per[64] = { 0 };
	long *blocks = calloc(n, sizeof(long));
	long counts[SPM_MAXN + 1];
	long long total;
	char path[160], state[32];
	char *p;

	res->ret = -1;
	ASSERT_NE(NULL, blocks);
	ASSERT_LT(0, spm_read_file(MEMSYS "/block_size_bytes", state, sizeof(state)));
	bsize = strtol(state, NULL, 16);
	ASSERT_LT(0, bsize);

	p = map_bound(len, SPM_NID);
	ASSERT_NE(MAP_FAILED, p);
	spm_fill(p, len, 5);
	ASSERT_EQ(n, spm_pages_on_node(p, len, SPM_NID));
	ASSERT_EQ(0, blocks_of(p, len, bsize, blocks));
	/* The block holding most of the region. */
	lo = hi = blocks[0];
	for (i = 0; i < n; i++) {
		ASSERT_LE(0, blocks[i]);
		lo = blocks[i] < lo ? blocks[i] : lo;
		hi = blocks[i] > hi ? blocks[i] : hi;
	}
	ASSERT_GT(64, hi - lo);
	for (i = 0; i < n; i++)
		per[blocks[i] - lo]++;
	for (j = 0; j <= hi - lo; j++)
		if (per[j] > best_n) {
			best_n = per[j];
			best = lo + j;
		}
	ASSERT_LE(0, best);
	snprintf(path, sizeof(path), SPM_NODE_SYSFS "/node%d/memory%ld", SPM_NID, best);
	ASSERT_EQ(0, access(path, F_OK)) {
		TH_LOG("memory%ld is not a block of node %d", best, SPM_NID);
	}
	total = SPM_GET(spm_node_meminfo(SPM_NID, "MemTotal"));
	snprintf(path, sizeof(path), MEMSYS "/memory%ld/state", best);
	printf("# %zu MiB on node 2 (%lld kB free there after); memory%ld (%ld MiB blocks) holds %ld pages of it\n",
	       len >> 20, spm_node_meminfo(SPM_NID, "MemFree"), best, bsize >> 20, best_n);

	res->in_block = best_n;
	self->block = best;
	res->ret = spm_write_file(path, "offline");
	if (res->ret) {
		self->block = -1;
		printf("# offline memory%ld: %s\n", best, strerror(-res->ret));
	} else {
		ASSERT_LT(0, spm_read_file(path, state, sizeof(state)));
		EXPECT_STREQ("offline", state);
		ASSERT_EQ(0, blocks_of(p, len, bsize, blocks));
		for (i = 0; i < n; i++)
			in_block += blocks[i] == best;
		EXPECT_EQ(0, in_block);
		ASSERT_EQ(n, spm_count_pages(p, len, counts));
		spm_counts_log("after offlining the block", counts);
		/* Nowhere but node 2 and SysRAM; nothing lost. */
		EXPECT_EQ(n, counts[SPM_NID] + counts[0] + counts[1]);
		/* Pages outside the block did not move. */
		res->to_sysram = counts[0] + counts[1];
		res->to_node2 = best_n - res->to_sysram;
		printf("# the %ld pages of the block went to: node 2 %ld, SysRAM %ld\n",
		       best_n, res->to_node2, res->to_sysram);
	}
	EXPECT_EQ(0, spm_verify(p, len, 5));

	if (self->block >= 0) {
		EXPECT_EQ(0, spm_write_file(path, "online"));
		ASSERT_LT(0, spm_read_file(path, state, sizeof(state)));
		EXPECT_STREQ("online", state);
		self->block = -1;
		EXPECT_EQ(total, spm_node_meminfo(SPM_NID, "MemTotal"));
	}
	EXPECT_EQ(0, spm_verify(p, len, 5));
	munmap(p, len);
	free(blocks);
}

/* Node 2 has room: the block's pages stay on node 2. */
TEST_F_TIMEOUT(mig, offline_a_node2_block_moves_data_within_node2, 180)
{
	struct offline_result res;

	ASSERT_EQ(0, owner_load("caps=user,migration"));
	offline_block(_metadata, self, 64UL << 20, &res);
	if (res.ret) {
		EXPECT_EQ(-EBUSY, res.ret);
	} else {
		EXPECT_EQ(res.in_block, res.to_node2);
		EXPECT_EQ(0, res.to_sysram);
	}
}

/*
 * Node 2 nearly full: what the rest of node 2 can take (down to its low
 * watermark) stays there, the remainder goes to SysRAM.
 */
TEST_F_TIMEOUT(mig, offline_a_full_node2_block_spills_to_sysram, 300)
{
	long long leave = SPM_GET(spm_zoneinfo_sum(SPM_NID, "high")) * (PAGE / 1024) +
			  (16 << 10);
	size_t len = ((size_t)(SPM_GET(spm_node_meminfo(SPM_NID, "MemFree")) - leave) << 10) &
		     ~((2UL << 20) - 1);
	struct offline_result res;

	ASSERT_EQ(0, owner_load("caps=user,migration"));
	offline_block(_metadata, self, len, &res);
	if (res.ret) {
		EXPECT_EQ(-EBUSY, res.ret);
	} else {
		EXPECT_LE(1024, res.to_node2);
		EXPECT_LE(1024, res.to_sysram);
		EXPECT_EQ(res.in_block, res.to_node2 + res.to_sysram);
	}
}

TEST_HARNESS_MAIN
