// SPDX-License-Identifier: GPL-2.0
/*
 * Reclaim of an SPM node (node 2, owned by spm_test_owner), with zram swap
 * (spm-setup-swap):
 *
 *   nodeN/spm/reclaim and spm_node_reclaim() (the module's debugfs
 *   "reclaim") swap out about N pages of node 2 and nothing of SysRAM;
 *   the data comes back intact, onto node 2 (the range is MPOL_BIND)
 *   without the reclaim capability: EPERM, nothing reclaimed
 *   SysRAM pressure does not touch node 2 while node 2 is fine
 *   filling node 2 past its watermarks: kswapd (and direct reclaim) swap
 *   node-2 pages out with the capability; without it the filler is
 *   OOM-killed
 *   a memcg whose memory.max is below the node-2 filler: memcg reclaim
 *   swaps node-2 pages with the capability; without it the memcg OOM
 *   killer ends the filler
 */
#include <signal.h>
#include <sys/mman.h>
#include "kselftest_harness.h"
#include "services.h"

#define REGION		(128UL << 20)
#define NPAGES		(REGION / PAGE)
#define NR_RECLAIM	8192L		/* 32 MiB */
#define SYSRAM		0x3LL		/* nodes 0 and 1 */
#define CG		"/sys/fs/cgroup"

FIXTURE(reclaim) {
	char *p;
	size_t len;
	char cg[128];
};

FIXTURE_SETUP(reclaim)
{
	self->p = NULL;
	self->cg[0] = '\0';
	owner_unload();
	ASSERT_EQ(0, swap_on());
}

FIXTURE_TEARDOWN(reclaim)
{
	if (self->p)
		munmap(self->p, self->len);
	if (self->cg[0])
		rmdir(self->cg);
	owner_unload();
	spm_allow_user_set(SPM_NID, 0);
}

/* Map len bytes bound to node 2, fill them, check they all sit there. */
static void fill_node2(struct __test_metadata *_metadata,
		       FIXTURE_DATA(reclaim) *self, size_t len)
{
	long counts[SPM_MAXN + 1];

	self->len = len;
	self->p = map_bound(len, SPM_NID);
	ASSERT_NE(MAP_FAILED, self->p) {
		self->p = NULL;
		TH_LOG("mmap/mbind: %s", strerror(errno));
	}
	spm_fill(self->p, len, 7);
	ASSERT_EQ((long)(len / PAGE), spm_count_pages(self->p, len, counts));
	ASSERT_EQ((long)(len / PAGE), counts[SPM_NID]);
}

/*
 * After a reclaim of about NR_RECLAIM pages from the filled region: node 2
 * lost that much anon memory to swap, SysRAM lost nothing, the data comes
 * back intact onto node 2.
 */
static void check_reclaimed(struct __test_metadata *_metadata,
			    FIXTURE_DATA(reclaim) *self,
			    const struct spm_snap *a, const struct spm_snap *b,
			    long long swap_kb, long long writes)
{
	long long drop = -SNAP_DELTA(a, b, SPM_NID, K_ANON);
	/* shrink_node() overshoots by about a quarter: allow half. */
	long long lo = NR_RECLAIM * 4 * 3 / 4, hi = NR_RECLAIM * 4 * 3 / 2;
	long long sysram = spm_nodes_delta(a, b, SYSRAM, K_ANON) +
			   spm_nodes_delta(a, b, SYSRAM, K_FILE);
	long counts[SPM_MAXN + 1];

	spm_snap_log("reclaim", a, b, SYSRAM | (1LL << SPM_NID));
	printf("# swap used %+lld kB, node 2 nr_vmscan_write %+lld\n", swap_kb, writes);
	EXPECT_LE(lo, drop);
	EXPECT_GE(hi, drop);
	EXPECT_LE(lo, swap_kb);
	EXPECT_LE(NR_RECLAIM * 3 / 4, writes);
	/* SysRAM is never reclaimed by it: anon + file do not drop. */
	EXPECT_LE(-2048, sysram);

	ASSERT_EQ((long)NPAGES, spm_count_pages(self->p, REGION, counts));
	spm_counts_log("after reclaim", counts);
	EXPECT_EQ(0, spm_count_in(counts, SYSRAM));
	EXPECT_LE(NR_RECLAIM * 3 / 4, counts[SPM_MAXN]);
	EXPECT_EQ((long)NPAGES, counts[SPM_NID] + counts[SPM_MAXN]);

	EXPECT_EQ(0, spm_verify(self->p, REGION, 7));
	ASSERT_EQ((long)NPAGES, spm_count_pages(self->p, REGION, counts));
	spm_counts_log("after swap-in", counts);
	EXPECT_EQ((long)NPAGES, counts[SPM_NID]);
}

/* Fill node 2, write NR_RECLAIM to nodeN/spm/reclaim, check_reclaimed(). */
static void sysfs_reclaim_filled(struct __test_metadata *_metadata,
				 FIXTURE_DATA(reclaim) *self)
{
	struct spm_snap a, b;
	long long sw, w;

	fill_node2(_metadata, self, REGION);
	sw = SPM_GET(swap_used_kb());
	w = SPM_GET(node_vmstat(SPM_NID, "nr_vmscan_write"));
	spm_snap(&a);
	ASSERT_EQ(0, node_reclaim(SPM_NID, NR_RECLAIM));
	spm_snap(&b);
	check_reclaimed(_metadata, self, &a, &b, SPM_GET(swap_used_kb()) - sw,
			SPM_GET(node_vmstat(SPM_NID, "nr_vmscan_write")) - w);
}

TEST_F_TIMEOUT(reclaim, sysfs_reclaim_swaps_out_node2_only, 120)
{
	ASSERT_EQ(0, owner_load("caps=user,reclaim,migration"));
	sysfs_reclaim_filled(_metadata, self);
}

TEST_F_TIMEOUT(reclaim, spm_node_reclaim_returns_what_it_took, 120)
{
	struct spm_snap a, b;
	long long sw, w, ret, drop;
	char buf[32];

	ASSERT_EQ(0, owner_load("caps=user,reclaim,migration"));
	fill_node2(_metadata, self, REGION);
	sw = SPM_GET(swap_used_kb());
	w = SPM_GET(node_vmstat(SPM_NID, "nr_vmscan_write"));
	spm_snap(&a);
	snprintf(buf, sizeof(buf), "%ld", NR_RECLAIM);
	ASSERT_EQ(0, owner_put("reclaim", buf));
	spm_snap(&b);
	ret = owner_get("reclaim");
	drop = -SNAP_DELTA(&a, &b, SPM_NID, K_ANON) / 4;
	printf("# spm_node_reclaim(2, %ld) = %lld, node 2 anon -%lld pages\n",
	       NR_RECLAIM, ret, drop);
	EXPECT_LE(NR_RECLAIM, ret);
	EXPECT_GE(NR_RECLAIM * 3 / 2, ret);
	EXPECT_LE(ret * 9 / 10 - 64, drop);
	EXPECT_GE(ret * 11 / 10 + 64, drop);
	check_reclaimed(_metadata, self, &a, &b, SPM_GET(swap_used_kb()) - sw,
			SPM_GET(node_vmstat(SPM_NID, "nr_vmscan_write")) - w);
}

TEST_F_TIMEOUT(reclaim, unowned_node_reclaims_by_default, 120)
{
	ASSERT_EQ(0, spm_allow_user_set(SPM_NID, 1));
	sysfs_reclaim_filled(_metadata, self);
}

TEST_F_TIMEOUT(reclaim, without_reclaim_cap_nothing_is_reclaimed, 120)
{
	struct spm_snap a, b;
	long counts[SPM_MAXN + 1];
	long long sw, w;

	ASSERT_EQ(0, owner_load("caps=user,migration"));
	fill_node2(_metadata, self, REGION);
	sw = SPM_GET(swap_used_kb());
	w = SPM_GET(node_vmstat(SPM_NID, "nr_vmscan_write"));
	spm_snap(&a);
	EXPECT_EQ(-EPERM, node_reclaim(SPM_NID, NR_RECLAIM));
	/* The exported function says so with 0 pages. */
	EXPECT_EQ(0, owner_put("reclaim", "8192"));
	EXPECT_EQ(0, owner_get("reclaim"));
	spm_snap(&b);
	spm_snap_log("refused reclaim", &a, &b, 1LL << SPM_NID);
	EXPECT_LE(-256, SNAP_DELTA(&a, &b, SPM_NID, K_ANON));
	EXPECT_GE(256, SPM_GET(swap_used_kb()) - sw);
	EXPECT_EQ(0, SPM_GET(node_vmstat(SPM_NID, "nr_vmscan_write")) - w);
	ASSERT_EQ((long)NPAGES, spm_count_pages(self->p, REGION, counts));
	EXPECT_EQ((long)NPAGES, counts[SPM_NID]);
	EXPECT_EQ(0, spm_verify(self->p, REGION, 7));
}

/* ------------------------------------------------------- SysRAM pressure */

struct hog_arg {
	size_t len;
	long long swap_kb;	/* swap in use once the hog is in place */
};

/* An anonymous hog of arg->len bytes with the default policy. */
static int hog(void *arg)
{
	struct hog_arg *h = arg;
	char *p;

	spm_write_file("/proc/self/oom_score_adj", "1000");
	p = mmap(NULL, h->len, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (p == MAP_FAILED)
		return 2;
	spm_fill(p, h->len, 11);
	h->swap_kb = swap_used_kb();
	return spm_verify(p, h->len, 11) ? 3 : 0;
}

/* nr_vmscan_write of nodes 0 and 1, or -1 when either is missing. */
static long long sysram_writes(void)
{
	long long w0 = node_vmstat(0, "nr_vmscan_write");
	long long w1 = node_vmstat(1, "nr_vmscan_write");

	return w0 < 0 || w1 < 0 ? -1 : w0 + w1;
}

TEST_F_TIMEOUT(reclaim, sysram_pressure_leaves_node2_alone, 300)
{
	struct hog_arg *h = shared_page();
	struct spm_snap a, b;
	long counts[SPM_MAXN + 1];
	long long w, sys, sw;
	int st;

	ASSERT_NE(NULL, h);
	ASSERT_EQ(0, owner_load("caps=user,reclaim,migration"));
	fill_node2(_metadata, self, 64UL << 20);
	w = SPM_GET(node_vmstat(SPM_NID, "nr_vmscan_write"));
	sys = SPM_GET(sysram_writes());
	sw = SPM_GET(swap_used_kb());
	spm_snap(&a);
	/* 96 MiB more than SysRAM has free: it has to swap. */
	h->len = (size_t)(SPM_GET(spm_node_meminfo(0, "MemFree")) +
			  SPM_GET(spm_node_meminfo(1, "MemFree"))) * 1024 + (96UL << 20);
	st = run_child(hog, h);
	spm_snap(&b);
	spm_snap_log("SysRAM hog", &a, &b, SYSRAM | (1LL << SPM_NID));
	printf("# hog of %zu MiB: wait status 0x%x, swap used %+lld kB at its peak, nodes 0-1 nr_vmscan_write %+lld\n",
	       h->len >> 20, st, h->swap_kb - sw, sysram_writes() - sys);
	/* The pressure was real: SysRAM swapped 32 MiB or more ... */
	EXPECT_LE(8192, SPM_GET(sysram_writes()) - sys);
	/* ... and node 2, whose watermarks were fine, gave nothing. */
	EXPECT_EQ(0, SPM_GET(node_vmstat(SPM_NID, "nr_vmscan_write")) - w);
	EXPECT_LE(-256, SNAP_DELTA(&a, &b, SPM_NID, K_ANON));
	ASSERT_EQ((long)(self->len / PAGE), spm_count_pages(self->p, self->len, counts));
	spm_counts_log("node-2 region after the hog", counts);
	EXPECT_EQ((long)(self->len / PAGE), counts[SPM_NID]);
	EXPECT_EQ(0, spm_verify(self->p, self->len, 7));
	munmap(h, PAGE);
}

/* ------------------------------------------------------------ memcgs */

/* A memcg for the node-2 filler: memory.max = max ("max": no limit). */
static void make_memcg(struct __test_metadata *_metadata,
		       FIXTURE_DATA(reclaim) *self, const char *max)
{
	char path[256];

	snprintf(self->cg, sizeof(self->cg), CG "/spm-svc-%d", getpid());
	ASSERT_EQ(0, mkdir(self->cg, 0755));
	snprintf(path, sizeof(path), "%s/memory.max", self->cg);
	ASSERT_EQ(0, spm_write_file(path, max));
}

/* A key of the memcg's memory.events or memory.stat; -1 if missing. */
static long long memcg_key(FIXTURE_DATA(reclaim) *self, const char *file,
			   const char *key)
{
	char path[256];

	snprintf(path, sizeof(path), "%s/%s", self->cg, file);
	return spm_read_key(path, key);
}

#define memcg_event(self, key) memcg_key(self, "memory.events", key)
#define memcg_stat(self, key) memcg_key(self, "memory.stat", key)

/* ------------------------------------------------- node 2 past its limits */

struct fill_result {
	long bad;
	long pages;
	long on_node2;
	long elsewhere;		/* on another node */
	long long swap_kb;	/* memcg swap.current at the end of the fill */
	int done;
};

struct fill_arg {
	size_t len;
	const char *cg;		/* cgroup to join first */
	struct fill_result *res;
};

/* Fill len bytes bound to node 2, read them back, report in res. */
static int filler(void *arg)
{
	struct fill_arg *fa = arg;
	struct fill_result *r = fa->res;
	long counts[SPM_MAXN + 1];
	char path[256];
	char *p;

	spm_write_file("/proc/self/oom_score_adj", "1000");
	snprintf(path, sizeof(path), "%s/cgroup.procs", fa->cg);
	if (spm_write_file(path, "0"))
		return 2;
	p = map_bound(fa->len, SPM_NID);
	if (p == MAP_FAILED)
		return 3;
	spm_fill(p, fa->len, 13);
	snprintf(path, sizeof(path), "%s/memory.swap.current", fa->cg);
	r->swap_kb = spm_read_ll(path) / 1024;
	r->bad = spm_verify(p, fa->len, 13);
	r->pages = spm_count_pages(p, fa->len, counts);
	r->on_node2 = counts[SPM_NID];
	r->elsewhere = r->pages - counts[SPM_NID] - counts[SPM_MAXN];
	r->done = 1;
	return 0;
}

static void fill_log(const char *what, int st, const struct fill_result *r)
{
	printf("# %s: wait status 0x%x (%s%d), done %d, bad %ld, pages %ld, on node 2 %ld, elsewhere %ld, memcg swap %lld kB\n",
	       what, st, WIFSIGNALED(st) ? "signal " : "exit ",
	       WIFSIGNALED(st) ? WTERMSIG(st) : WEXITSTATUS(st), r->done,
	       r->bad, r->pages, r->on_node2, r->elsewhere, r->swap_kb);
	fflush(stdout);
}

/* 64 MiB more than node 2 has free. */
static size_t overfill_len(void)
{
	return (size_t)spm_node_meminfo(SPM_NID, "MemFree") * 1024 + (64UL << 20);
}

struct fill_run {
	struct fill_result *r;	/* the filler's report (a shared page) */
	int st;			/* its wait status */
	long long writes;	/* node 2 nr_vmscan_write during the fill */
	long long pressure;	/* owner pressure callbacks during the fill */
	long long swap_kb;	/* change of the swap in use */
};

/*
 * Load the owner with caps, then run the filler of len bytes in a memcg
 * whose memory.max is max, and log it as what.  run->r is the caller's to
 * unmap.
 */
static void fill_in_memcg(struct __test_metadata *_metadata,
			  FIXTURE_DATA(reclaim) *self, const char *caps,
			  const char *max, size_t len, const char *what,
			  struct fill_run *run)
{
	struct fill_arg fa = { .len = len };
	long long w, pr, sw;

	run->r = shared_page();
	ASSERT_NE(NULL, run->r);
	fa.res = run->r;
	ASSERT_EQ(0, owner_load(caps));
	make_memcg(_metadata, self, max);
	fa.cg = self->cg;
	w = SPM_GET(node_vmstat(SPM_NID, "nr_vmscan_write"));
	pr = SPM_GET(owner_get("pressure"));
	sw = SPM_GET(swap_used_kb());
	run->st = run_child(filler, &fa);
	run->writes = SPM_GET(node_vmstat(SPM_NID, "nr_vmscan_write")) - w;
	run->pressure = SPM_GET(owner_get("pressure")) - pr;
	run->swap_kb = SPM_GET(swap_used_kb()) - sw;
	fill_log(what, run->st, run->r);
}

/*
 * The filler runs in a memcg without a limit, only for its memory.stat:
 * pgsteal_kswapd tells kswapd's work from direct reclaim's.
 */
TEST_F_TIMEOUT(reclaim, overfilled_node2_is_reclaimed_by_kswapd, 480)
{
	size_t len = overfill_len();
	struct fill_run run;

	fill_in_memcg(_metadata, self, "caps=user,reclaim,migration", "max",
		      len, "node-2 filler, reclaim on", &run);
	printf("# node 2 nr_vmscan_write %+lld; memcg pgsteal_kswapd %lld, pgsteal_direct %lld; pressure callbacks %+lld\n",
	       run.writes, memcg_stat(self, "pgsteal_kswapd"),
	       memcg_stat(self, "pgsteal_direct"), run.pressure);
	EXPECT_TRUE(WIFEXITED(run.st) && WEXITSTATUS(run.st) == 0);
	EXPECT_EQ(1, run.r->done);
	EXPECT_EQ(0, run.r->bad);
	EXPECT_EQ(0, run.r->elsewhere);
	EXPECT_EQ((long)(len / PAGE), run.r->pages);
	/* At least the 64 MiB that did not fit went out of node 2. */
	EXPECT_LE(16384, run.writes);
	EXPECT_LT(0, memcg_stat(self, "pgsteal_kswapd"));
	EXPECT_LT(0, run.pressure);
	munmap(run.r, PAGE);
}

TEST_F_TIMEOUT(reclaim, overfilled_node2_without_reclaim_cap_is_oom, 180)
{
	struct fill_run run;

	fill_in_memcg(_metadata, self, "caps=user,migration", "max",
		      overfill_len(), "node-2 filler, reclaim off", &run);
	printf("# memcg pgscan %lld pgsteal %lld\n", memcg_stat(self, "pgscan"),
	       memcg_stat(self, "pgsteal"));
	EXPECT_TRUE(WIFSIGNALED(run.st) && WTERMSIG(run.st) == SIGKILL);
	EXPECT_EQ(0, run.r->done);
	EXPECT_EQ(0, run.writes);
	EXPECT_EQ(0, memcg_stat(self, "pgsteal"));
	EXPECT_GE(1024, run.swap_kb);
	munmap(run.r, PAGE);
}

TEST_F_TIMEOUT(reclaim, memcg_reclaim_swaps_node2_pages, 120)
{
	struct fill_run run;

	fill_in_memcg(_metadata, self, "caps=user,reclaim,migration", "32M",
		      64UL << 20,
		      "64 MiB node-2 filler in a 32 MiB memcg, reclaim on", &run);
	printf("# memcg events: max %lld oom_kill %lld; pgsteal_direct %lld; node 2 nr_vmscan_write %+lld\n",
	       memcg_event(self, "max"), memcg_event(self, "oom_kill"),
	       memcg_stat(self, "pgsteal_direct"), run.writes);
	EXPECT_TRUE(WIFEXITED(run.st) && WEXITSTATUS(run.st) == 0);
	EXPECT_EQ(1, run.r->done);
	EXPECT_EQ(0, run.r->bad);
	EXPECT_EQ(0, run.r->elsewhere);
	EXPECT_LE(16 << 10, run.r->swap_kb);
	EXPECT_LE(4096, run.writes);
	EXPECT_LE(4096, memcg_stat(self, "pgsteal_direct"));
	EXPECT_EQ(0, memcg_event(self, "oom_kill"));
	munmap(run.r, PAGE);
}

TEST_F_TIMEOUT(reclaim, memcg_without_reclaim_cap_ooms, 120)
{
	struct fill_run run;

	fill_in_memcg(_metadata, self, "caps=user,migration", "32M",
		      64UL << 20,
		      "64 MiB node-2 filler in a 32 MiB memcg, reclaim off", &run);
	printf("# memcg events: max %lld oom %lld oom_kill %lld; pgscan %lld pgsteal %lld\n",
	       memcg_event(self, "max"), memcg_event(self, "oom"),
	       memcg_event(self, "oom_kill"), memcg_stat(self, "pgscan"),
	       memcg_stat(self, "pgsteal"));
	EXPECT_TRUE(WIFSIGNALED(run.st) && WTERMSIG(run.st) == SIGKILL);
	EXPECT_EQ(0, run.r->done);
	EXPECT_LE(1, memcg_event(self, "oom_kill"));
	EXPECT_EQ(0, run.writes);
	munmap(run.r, PAGE);
}

TEST_HARNESS_MAIN
