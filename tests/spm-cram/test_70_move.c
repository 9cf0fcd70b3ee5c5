// SPDX-License-Identifier: GPL-2.0
/*
 * spm_cram and explicit placement on its node (node 3):
 *
 *   - no SPM_CAP_USER: MPOL_BIND naming node 3 is refused (EPERM);
 *   - allow_move=0 (default): move_pages() can neither bring a page in
 *     (EPERM for the call) nor take a demoted page out (EPERM status);
 *   - allow_move=1 (SPM_CAP_MIGRATION): both work; a page moved in is
 *     accounted like a demoted one and is write-fenced: a single write
 *     promotes exactly that page to a SysRAM node, counted once.
 *
 * Each test demotes a 4 MiB buffer bound to node 0 through memory.reclaim
 * of its own cgroup, then works on single pages of it.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "spm.h"

#define CRAM		"/sys/kernel/spm_cram"
#define CGROUP		"/sys/fs/cgroup/spm-cram-move"
#define SPM_NID		3
#define BUF_LEN		(4UL << 20)
#define PG		4096UL
#define MAXNODE		64

static int write_str(const char *path, const char *s)
{
	int fd = open(path, O_WRONLY);
	int ret = 0;

	if (fd < 0)
		return -errno;
	if (write(fd, s, strlen(s)) < 0)
		ret = -errno;
	close(fd);
	return ret;
}

/* A counter of /sys/kernel/spm_cram, or -1 (noted for SPM_GET). */
static long cram_stat(const char *name)
{
	char path[128], buf[64], *end;
	long v;
	int n;

	snprintf(path, sizeof(path), CRAM "/%s", name);
	n = spm_read_file(path, buf, sizeof(buf));
	if (n < 0)
		return spm_miss(-1, "%s: %s", path, strerror(-n));
	v = strtol(buf, &end, 10);
	return end == buf ? spm_miss(-1, "no number in %s", path) : v;
}

/* Byte pattern of page i: compressible, different per page. */
static void fill(char *p, unsigned long i)
{
	unsigned long j;

	memset(p, 0, PG);
	for (j = 0; j < PG / 2; j++)
		p[j] = (char)(i * 131 + j * 7 + (j >> 5));
}

static int check(const char *p, unsigned long i)
{
	char ref[PG];

	fill(ref, i);
	return memcmp(ref, p, PG);
}

FIXTURE(cram) {
	char *buf;
	unsigned long npages;
};

FIXTURE_VARIANT(cram) {
	int allow_move;
};

FIXTURE_VARIANT_ADD(cram, fixed) {
	.allow_move = 0,
};

FIXTURE_VARIANT_ADD(cram, movable) {
	.allow_move = 1,
};

FIXTURE_SETUP(cram)
{
	unsigned long mask = 1UL << 0, i;
	char cmd[256], pid[32];

	ASSERT_EQ(0, system("[ -d /sys/devices/system/node/node3/spm ] || "
			    "spm-setup-pmem --spm >/dev/null"));
	ASSERT_EQ(0, write_str("/proc/sys/kernel/numa_balancing", "0"));
	ASSERT_EQ(0, write_str("/sys/kernel/mm/numa/demotion_enabled", "true"));
	snprintf(cmd, sizeof(cmd), "rmmod spm_cram 2>/dev/null; "
		 "modprobe spm_cram allow_move=%d", variant->allow_move);
	ASSERT_EQ(0, system(cmd));

	if (mkdir(CGROUP, 0755) && errno != EEXIST)
		ASSERT_EQ(0, -errno);
	snprintf(pid, sizeof(pid), "%d", getpid());
	ASSERT_EQ(0, write_str(CGROUP "/cgroup.procs", pid));

	self->npages = BUF_LEN / PG;
	self->buf = mmap(NULL, BUF_LEN, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, self->buf);
	madvise(self->buf, BUF_LEN, MADV_NOHUGEPAGE);
	ASSERT_EQ(0, spm_mbind(self->buf, BUF_LEN, MPOL_BIND, &mask, MAXNODE, 0));
	for (i = 0; i < self->npages; i++)
		fill(self->buf + i * PG, i);
	ASSERT_EQ((long)self->npages, spm_pages_on_node(self->buf, BUF_LEN, 0));

	/* EAGAIN is fine: the rest of the cgroup's memory may stay. */
	write_str(CGROUP "/memory.reclaim", "4M");
	ASSERT_LT(self->npages / 2,
		  spm_pages_on_node(self->buf, BUF_LEN, SPM_NID)) {
		TH_LOG("memory.reclaim demoted too little: %ld pages on node 3",
		       spm_pages_on_node(self->buf, BUF_LEN, SPM_NID));
	}
}

FIXTURE_TEARDOWN(cram)
{
	munmap(self->buf, BUF_LEN);
}

/*
 * memory.reclaim may have demoted this process's own stack too: write
 * well below the current frame first, so that a counter checked later
 * does not see the promotion of a stack page.
 */
static void warm_stack(void)
{
	volatile char pad[64 << 10];
	unsigned long j;

	for (j = 0; j < sizeof(pad); j += 512)
		pad[j] = 1;
}

/*
 * A promoted page's old copy is freed, and counted in "promotions" by the
 * owner's pages_freed, only when its last reference goes: the per-CPU LRU
 * add batch may hold one for a while after the write that promoted it.
 * move_pages() of a page to the node it is on drains every CPU's batches
 * (lru_cache_disable()): after it, each fenced write so far has been
 * counted as a promotion too.
 */
static int drain_lru(void *pg)
{
	int node = spm_node_of(pg), status = -1;

	if (node < 0)
		return node;
	return spm_move_pages(0, 1, &pg, &node, &status, 0) ? -errno : 0;
}

/* Index of the first page of the buffer on node nid, or -1. */
static long first_on(char *buf, unsigned long npages, int nid)
{
	unsigned long i;

	for (i = 0; i < npages; i++)
		if (spm_node_of(buf + i * PG) == nid)
			return i;
	return -1;
}

TEST_F(cram, caps_follow_allow_move)
{
	char caps[256];

	ASSERT_LT(0, spm_read_file("/sys/devices/system/node/node3/spm/caps",
				   caps, sizeof(caps)));
	EXPECT_STREQ(variant->allow_move ?
		     "reclaim migration demotion write_fence" :
		     "reclaim demotion write_fence", caps);
}

TEST_F(cram, mbind_bind_to_node3_refused)
{
	unsigned long mask = 1UL << SPM_NID;
	char *p = mmap(NULL, PG, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	ASSERT_NE(MAP_FAILED, p);
	EXPECT_EQ(-1, spm_mbind(p, PG, MPOL_BIND, &mask, MAXNODE, 0));
	EXPECT_EQ(EPERM, errno);
	munmap(p, PG);
}

TEST_F(cram, move_demoted_page_out)
{
	long i = first_on(self->buf, self->npages, SPM_NID);
	void *page;
	int node = 0, status = -1;

	ASSERT_LE(0, i);
	page = self->buf + i * PG;
	ASSERT_EQ(0, spm_move_pages(0, 1, &page, &node, &status, 0));
	if (variant->allow_move) {
		EXPECT_EQ(0, status);
		EXPECT_EQ(0, spm_node_of(page));
	} else {
		EXPECT_EQ(-EPERM, status);
		EXPECT_EQ(SPM_NID, spm_node_of(page));
	}
	EXPECT_EQ(0, check(page, i));
}

TEST_F(cram, move_page_in_then_write)
{
	unsigned long mask = 1UL << 0;
	long dem, log, fw, promo, ret, stray;
	int node = SPM_NID, status = -1;
	char *page;
	void *pg;

	/* A fresh page on node 0 (the buffer may be all on node 3). */
	page = mmap(NULL, PG, PROT_READ | PROT_WRITE,
		    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, page);
	ASSERT_EQ(0, spm_mbind(page, PG, MPOL_BIND, &mask, MAXNODE, 0));
	fill(page, 12345);
	ASSERT_EQ(0, spm_node_of(page));
	pg = page;
	warm_stack();
	ASSERT_EQ(0, drain_lru(page));
	dem = SPM_GET(cram_stat("demotions"));
	log = SPM_GET(cram_stat("logical_bytes"));
	fw = SPM_GET(cram_stat("fenced_writes"));
	promo = SPM_GET(cram_stat("promotions"));

	ret = spm_move_pages(0, 1, &pg, &node, &status, 0);
	if (!variant->allow_move) {
		EXPECT_EQ(-1, ret);
		EXPECT_EQ(EPERM, errno);
		EXPECT_EQ(0, spm_node_of(page));
		EXPECT_EQ(dem, cram_stat("demotions"));
		munmap(page, PG);
		return;
	}
	ASSERT_EQ(0, ret) TH_LOG("move_pages: %s", strerror(errno));
	EXPECT_EQ(SPM_NID, status);
	EXPECT_EQ(SPM_NID, spm_node_of(page));
	EXPECT_EQ(dem + 1, cram_stat("demotions"));
	/*
	 * Other pages of this process that the fixture's reclaim demoted
	 * (libc and harness data) are promoted, and leave node 3, when the
	 * harness writes them: count them out, one page each.
	 */
	stray = SPM_GET(cram_stat("promotions")) - promo;
	EXPECT_EQ(log + (long)PG - stray * (long)PG, cram_stat("logical_bytes")) {
		TH_LOG("%ld other pages promoted meanwhile", stray);
	}
	EXPECT_EQ(0, check(page, 12345));

	/* One write: the page is promoted, the write lands on SysRAM. */
	((volatile char *)page)[100] = 42;
	EXPECT_NE(SPM_NID, spm_node_of(page));
	EXPECT_LE(0, spm_node_of(page));
	ASSERT_EQ(0, drain_lru(page));
	stray = SPM_GET(cram_stat("promotions")) - promo - 1;
	/*
	 * Drained before fw was read and now: every promotion in the window
	 * is a fenced write in the window, ours and the stray ones, exactly.
	 */
	EXPECT_EQ(fw + 1 + stray, SPM_GET(cram_stat("fenced_writes")));
	EXPECT_EQ(log - stray * (long)PG, cram_stat("logical_bytes")) {
		TH_LOG("%ld other pages promoted in all", stray);
	}
	EXPECT_EQ(42, page[100]);
	page[100] = (char)(12345 * 131 + 100 * 7 + (100 >> 5));
	EXPECT_EQ(0, check(page, 12345));
	munmap(page, PG);
}

/* Both variants: a write to a demoted page promotes exactly that page. */
TEST_F(cram, write_promotes_one_page)
{
	long i = first_on(self->buf, self->npages, SPM_NID), on3, promo;
	char *page;

	ASSERT_LE(0, i);
	page = self->buf + i * PG;
	warm_stack();
	on3 = spm_pages_on_node(self->buf, BUF_LEN, SPM_NID);
	promo = SPM_GET(cram_stat("promotions"));
	page[0] ^= 1;
	EXPECT_NE(SPM_NID, spm_node_of(page));
	EXPECT_EQ(on3 - 1, spm_pages_on_node(self->buf, BUF_LEN, SPM_NID));
	EXPECT_EQ(promo + 1, cram_stat("promotions"));
	page[0] ^= 1;
	EXPECT_EQ(0, check(page, i));
}

/* AnonHugePages (kB) of the mapping that contains addr, or -1. */
static long anon_huge_kb(const void *addr)
{
	unsigned long a = (unsigned long)addr, start, end;
	FILE *f = fopen("/proc/self/smaps", "r");
	char line[256];
	long kb = -1;
	int in = 0;

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "%lx-%lx ", &start, &end) == 2)
			in = a >= start && a < end;
		else if (in && sscanf(line, "AnonHugePages: %ld kB", &kb) == 1)
			break;
	}
	fclose(f);
	return kb;
}

/*
 * A demoted transparent huge page written once: the kernel copies the one
 * page written to SysRAM (fenced writes are handled at PTE level), so one
 * promotion is counted, not one per page of the folio when the rest of it
 * is freed later.  Both variants.
 */
TEST_F_TIMEOUT(cram, write_to_demoted_thp_counts_one_promotion, 300)
{
	const unsigned long thp_len = 2UL << 20, n = thp_len / PG;
	unsigned long mask = 1UL << 0, i;
	long fw, promo, dfw, dpromo;
	char *raw, *thp, *anchor;
	int round;

	raw = mmap(NULL, 2 * thp_len, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, raw);
	thp = (char *)(((unsigned long)raw + thp_len - 1) & ~(thp_len - 1));
	ASSERT_EQ(0, madvise(thp, thp_len, MADV_HUGEPAGE));
	ASSERT_EQ(0, spm_mbind(thp, thp_len, MPOL_BIND, &mask, MAXNODE, 0));
	for (i = 0; i < n; i++)
		fill(thp + i * PG, 7000 + i);
	ASSERT_EQ(2048, anon_huge_kb(thp)) {
		TH_LOG("no huge page on node 0 (transparent_hugepage disabled?)");
	}
	for (round = 0; round < 8 &&
	     spm_pages_on_node(thp, thp_len, SPM_NID) < (long)n; round++)
		write_str(CGROUP "/memory.reclaim", "8M");
	ASSERT_EQ((long)n, spm_pages_on_node(thp, thp_len, SPM_NID));
	ASSERT_EQ(2048, anon_huge_kb(thp)) {
		TH_LOG("the huge page was split on its way to node 3");
	}
	/*
	 * A SysRAM page, moved to its own node to drain the LRU batches
	 * (made after the reclaim, which could have demoted it).
	 */
	anchor = mmap(NULL, PG, PROT_READ | PROT_WRITE,
		      MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, anchor);
	ASSERT_EQ(0, spm_mbind(anchor, PG, MPOL_BIND, &mask, MAXNODE, 0));
	anchor[0] = 1;
	ASSERT_EQ(0, spm_node_of(anchor));

	warm_stack();
	ASSERT_EQ(0, drain_lru(anchor));
	fw = SPM_GET(cram_stat("fenced_writes"));
	promo = SPM_GET(cram_stat("promotions"));
	thp[5 * PG + 10] ^= 1;
	EXPECT_NE(SPM_NID, spm_node_of(thp + 5 * PG));
	EXPECT_EQ((long)n - 1, spm_pages_on_node(thp, thp_len, SPM_NID));
	thp[5 * PG + 10] ^= 1;
	for (i = 0; i < n; i++)
		ASSERT_EQ(0, check(thp + i * PG, 7000 + i)) {
			TH_LOG("page %lu of the huge page is corrupt", i);
		}
	/* The other 511 pages leave node 3 now, freed, not promoted. */
	ASSERT_EQ(0, munmap(raw, 2 * thp_len));
	ASSERT_EQ(0, drain_lru(anchor));
	dfw = SPM_GET(cram_stat("fenced_writes")) - fw;
	dpromo = SPM_GET(cram_stat("promotions")) - promo;
	printf("# fenced writes %ld, promotions %ld\n", dfw, dpromo);
	EXPECT_LE(1, dfw);
	EXPECT_EQ(dfw, dpromo) {
		TH_LOG("%ld promotions counted for %ld fenced writes", dpromo, dfw);
	}
	munmap(anchor, PG);
}

TEST_HARNESS_MAIN
