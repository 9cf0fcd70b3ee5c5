// SPDX-License-Identifier: GPL-2.0
/*
 * A transparent huge page on a write-fenced node, written once
 * (contract 5).
 *
 * A 2 MiB-aligned private range with MADV_HUGEPAGE is filled (a THP on
 * SysRAM), then mbind(MPOL_BIND {2}, MPOL_MF_MOVE) moves it to node 2 as
 * a THP (skipped when the kernel cannot place one there).  Writes to a few
 * 4 KiB pages of it with promote: no SIGBUS, the whole 2 MiB intact, and
 * each written 4 KiB page is on SysRAM afterwards (alone, or with the whole
 * folio).  The same for a THP that a first write fault put on node 2 with
 * allow (one 4K page written in place), written with promote.
 */
#include "kselftest_harness.h"
#include "fence.h"

#define LEN	SZ_2M
#define NPAGES	(LEN / PAGE)
#define SEED	0x60
#define MARK	0x6000000000000000ULL

static const unsigned long written[] = { 0, 1, 200, 511 };
#define NW (sizeof(written) / sizeof(written[0]))

/* AnonHugePages (kB) of the VMA that starts at p, from /proc/self/smaps. */
static long anon_huge_kb(void *p)
{
	char line[256];
	unsigned long start, end;
	int in = 0;
	long kb = -1;
	FILE *f = fopen("/proc/self/smaps", "r");

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "%lx-%lx ", &start, &end) == 2 &&
		    strchr(line, '-') < strchr(line, ' ')) {
			in = start <= (unsigned long)p && (unsigned long)p < end;
			continue;
		}
		if (in && sscanf(line, "AnonHugePages: %ld", &kb) == 1)
			break;
	}
	fclose(f);
	return kb;
}

/* Whether the page at p belongs to a THP (pagemap + kpageflags KPF_THP). */
static int is_thp(void *p)
{
	uint64_t ent, flags;
	int fd, ok;

	fd = open("/proc/self/pagemap", O_RDONLY);
	if (fd < 0)
		return -1;
	ok = pread(fd, &ent, 8, (uintptr_t)p / PAGE * 8) == 8;
	close(fd);
	if (!ok || !(ent & (1ULL << 63)) || !(ent & ((1ULL << 55) - 1)))
		return -1;
	fd = open("/proc/kpageflags", O_RDONLY);
	if (fd < 0)
		return -1;
	ok = pread(fd, &flags, 8, (ent & ((1ULL << 55) - 1)) * 8) == 8;
	close(fd);
	return ok ? !!(flags & (1ULL << 22)) : -1;
}

static int thp_enabled(void)
{
	char buf[128];

	if (spm_read_file("/sys/kernel/mm/transparent_hugepage/enabled", buf,
			  sizeof(buf)) <= 0)
		return 0;
	return !strstr(buf, "[never]");
}

FIXTURE(thp) {
	char *p;
};

FIXTURE_SETUP(thp)
{
	self->p = NULL;
	owner_unload();
	ASSERT_EQ(0, spm_pin_cpu(0));
	if (!thp_enabled())
		SKIP(return, "THP disabled");
	self->p = spm_mmap_aligned(LEN, SZ_2M);
	ASSERT_NE(MAP_FAILED, self->p) {
		self->p = NULL;
	}
	ASSERT_EQ(0, madvise(self->p, LEN, MADV_HUGEPAGE));
}

FIXTURE_TEARDOWN(thp)
{
	if (self->p)
		munmap(self->p, LEN);
	owner_unload();
}

/* Write the marks, then check data, nodes and the owner's counter. */
static void write_and_check(struct __test_metadata *_metadata, char *p,
			    uint64_t seed)
{
	long counts[SPM_MAXN + 1];
	unsigned long i;
	int bus = 0;

	for (i = 0; i < NW && !bus; i++) {
		bus = guard_write64(word1(p, written[i]), MARK + i);
		EXPECT_EQ(0, bus) {
			TH_LOG("SIGBUS writing 4K page %lu of the THP on node 2",
			       written[i]);
		}
	}
	ASSERT_EQ(NPAGES, node_counts(p, LEN, counts));
	spm_counts_log("THP after the writes", counts);
	printf("# write_fault %lld, AnonHugePages %ld kB, page 0 THP %d, page 300 THP %d\n",
	       wf(), anon_huge_kb(p), is_thp(p), is_thp(p + 300 * PAGE));
	if (seed) {
		EXPECT_EQ(0, spm_verify(p, LEN, seed));
	} else {
		long nonzero = 0;

		for (i = 0; i < NPAGES; i++)
			nonzero += ((uint64_t *)(p + i * PAGE))[0] != 0 ||
				   ((uint64_t *)(p + i * PAGE))[PAGE / 16] != 0;
		EXPECT_EQ(0, nonzero);
	}
	for (i = 0; i < NW && !bus; i++) {
		int nid = spm_node_of(p + written[i] * PAGE);

		EXPECT_EQ(MARK + i, *word1(p, written[i]));
		EXPECT_TRUE(is_sysram(nid)) {
			TH_LOG("written 4K page %lu is on node %d", written[i],
			       nid);
		}
	}
	EXPECT_LE(1, wf());
	EXPECT_GE(NW, wf());
}

TEST_F(thp, moved_thp_written)
{
	unsigned long mask = 1UL << SPM_NID;
	long kb;

	ASSERT_EQ(0, owner_load(FENCE_CAPS " fence_action=promote"));
	spm_fill(self->p, LEN, SEED);
	kb = anon_huge_kb(self->p);
	printf("# on SysRAM: AnonHugePages %ld kB, THP %d\n", kb,
	       is_thp(self->p));
	if (is_thp(self->p) != 1)
		SKIP(return, "no THP on SysRAM (AnonHugePages %ld kB)", kb);
	ASSERT_EQ(0, spm_mbind(self->p, LEN, MPOL_BIND, &mask, SPM_MAXN,
			       MPOL_MF_MOVE));
	kb = anon_huge_kb(self->p);
	printf("# moved to node 2: %ld of %lu pages, AnonHugePages %ld kB, THP %d %d\n",
	       spm_pages_on_node(self->p, LEN, SPM_NID), NPAGES, kb,
	       is_thp(self->p), is_thp(self->p + LEN - PAGE));
	ASSERT_EQ(NPAGES, spm_pages_on_node(self->p, LEN, SPM_NID));
	if (is_thp(self->p) != 1)
		SKIP(return, "the THP was split on its way to node 2");
	drain_lru_batch();
	ASSERT_EQ(0, wf_reset());
	EXPECT_EQ(0, spm_verify(self->p, LEN, SEED));
	EXPECT_EQ(0, wf());
	write_and_check(_metadata, self->p, SEED);
}

TEST_F(thp, first_touch_thp_written)
{
	unsigned long mask = 1UL << SPM_NID;
	long kb;

	ASSERT_EQ(0, owner_load(FENCE_CAPS " fence_action=allow"));
	ASSERT_EQ(0, spm_mbind(self->p, LEN, MPOL_BIND, &mask, SPM_MAXN, 0));
	/*
	 * The first write fault allocates on node 2; allow lets that one
	 * 4K page (300, not one of written[]) be written in place.
	 */
	ASSERT_EQ(0, guard_write64(word1(self->p, 300), MARK + 1000));
	kb = anon_huge_kb(self->p);
	printf("# first touch: %ld of %lu pages on node 2, AnonHugePages %ld kB, THP %d, write_fault %lld\n",
	       spm_pages_on_node(self->p, LEN, SPM_NID), NPAGES, kb,
	       is_thp(self->p), wf());
	if (is_thp(self->p) != 1 ||
	    spm_pages_on_node(self->p, LEN, SPM_NID) != NPAGES)
		SKIP(return, "no THP placed on node 2 by a write fault");
	ASSERT_EQ(0, owner_param("fence_action", "promote"));
	ASSERT_EQ(0, wf_reset());
	write_and_check(_metadata, self->p, 0);
	EXPECT_EQ(MARK + 1000, *word1(self->p, 300));
}

TEST_HARNESS_MAIN
