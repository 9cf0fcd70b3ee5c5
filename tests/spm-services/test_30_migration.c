// SPDX-License-Identifier: GPL-2.0
/*
 * Migration into and out of an SPM node (node 2, owned by spm_test_owner):
 *
 *   with the migration capability, move_pages() takes node-2 pages to
 *   node 0 and back (status = node, data intact); the owner hears
 *   pages_freed for the old copies and folio_arrived for the new ones
 *   (reason MR_SYSCALL, source on node 0)
 *   without it, moving out of node 2 and moving onto it are EPERM and
 *   nothing moves
 *   freeing node-2 memory calls pages_freed
 *   offlining the memory block of node 2 that holds most of a region the
 *   test filled works (an EBUSY fails the test); page by page, the
 *   block's pages went to node 2 or SysRAM and nowhere else, the others
 *   did not move, every checksum matches; the block comes back online.
 *   Where the pages go: the rest of node 2 while it has room (above its
 *   low watermark), then SysRAM.  The owner hears memory_offline before
 *   (prepare) and after (done), with the block's range, and folio_arrived
 *   (MR_MEMORY_HOTPLUG, source on node 2) for each page that stayed on
 *   node 2; an owner that refuses (prepare answers -EBUSY) fails the
 *   offline with EBUSY, hears cancel, and the block stays online.
 */
#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <time.h>
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
	long long freed, arrived, syscall_calls, syscall_same = -1;
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
	syscall_calls = SPM_GET(owner_arrived("syscall", &syscall_same));
	EXPECT_EQ(NPAGES, count_status(self, SPM_NID));
	EXPECT_EQ(NPAGES, spm_pages_on_node(self->p, LEN, SPM_NID));
	EXPECT_EQ(0, spm_verify(self->p, LEN, 1));
	/* The old copies of all but what the per-cpu lists still hold. */
	EXPECT_LE(NPAGES / 2, freed);
	EXPECT_EQ(NPAGES, arrived);
	/* move_pages() is MR_SYSCALL, and the folios came from node 0. */
	EXPECT_EQ(NPAGES, syscall_calls);
	EXPECT_EQ(0, syscall_same);
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

/*
 * The offline tests fill a region bound to node 2 with a pattern in every
 * word, note for every page its checksum, its PFN (/proc/self/pagemap) and
 * its node (move_pages() query), and offline the memory block of node 2
 * that holds most of the region: that block is the one the test prepared,
 * and it must go offline.  A block is passed over (and another tried)
 * only for a reason sysfs shows before the attempt, printed with it: not
 * node 2's alone, not online, spanning zones (valid_zones "none"), or
 * "removable" reading 0.  Node 2 holds no kernel allocation (it is an SPM
 * node and no driver of this suite allocates there with __GFP_SPM_NODE),
 * so its blocks hold only movable pages: -EBUSY, an unmovable page, fails
 * the test, and so does an offline still running after
 * OFFLINE_SECONDS (the kernel retries a page that does not migrate, a
 * pinned one, until a signal: the alarm ends it with -EINTR).
 *
 * Then, page by page: every page that was on the block is now on node 2
 * or on a SysRAM node (move_pages() query), at a PFN outside the block,
 * and the node of its new PFN's block (sysfs memoryN/nodeX) is the node
 * move_pages() reports; every other page of the region has its old PFN;
 * every checksum matches.  Node 2's MemTotal drops by one block while it
 * is offline and comes back when it is online again.
 *
 * Offlining is the administrator's action: no capability of the owner
 * gates it (do_migrate_range() checks none; Documentation/mm/spm-nodes.rst,
 * "Migration and removal", names only unmovable folios as a reason to
 * fail).  The owner is loaded with user (for the binding) and migration,
 * as before.
 */

#ifndef OFFLINE_SECONDS
#define OFFLINE_SECONDS		120	/* budget of one offline */
#endif
#define OFFLINE_MIN_PAGES	1024	/* of the region, in the block offlined */
#define WORDS			(PAGE / sizeof(uint64_t))
#define NCAND			128
#define NCACHE			1024

/* Pattern word w of page i. */
static uint64_t word_of(uint64_t seed, long i, long w)
{
	uint64_t x = seed ^ ((uint64_t)i << 12) ^ (uint64_t)w;

	x += 0x9e3779b97f4a7c15ULL;
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
	return (x ^ (x >> 31)) | 1;	/* never zero: no KSM zero-page merging */
}

static inline uint64_t sum_step(uint64_t h, uint64_t w)
{
	h = (h ^ w) * 0x100000001b3ULL;
	return h ^ (h >> 29);
}

/* Fill every word of n pages; sum[i]: checksum of what page i must hold. */
static void fill_pages(char *p, long n, uint64_t seed, uint64_t *sum)
{
	long i, j;

	for (i = 0; i < n; i++) {
		uint64_t *w = (uint64_t *)(p + i * PAGE), h = 0xcbf29ce484222325ULL;

		for (j = 0; j < (long)WORDS; j++) {
			uint64_t v = word_of(seed, i, j);

			w[j] = v;
			h = sum_step(h, v);
		}
		sum[i] = h;
	}
}

/* Does page i no longer hold what it was filled with? */
static int page_bad(const char *p, long i, const uint64_t *sum)
{
	const uint64_t *w = (const uint64_t *)(p + i * PAGE);
	uint64_t h = 0xcbf29ce484222325ULL;
	long j;

	for (j = 0; j < (long)WORDS; j++)
		h = sum_step(h, w[j]);
	return h != sum[i];
}

static long count_bad(const char *p, long n, const uint64_t *sum)
{
	long i, bad = 0;

	for (i = 0; i < n; i++)
		bad += page_bad(p, i, sum);
	return bad;
}

/*
 * Where each of n pages at p is: pfn[i] from /proc/self/pagemap (-1: not
 * present) and node[i] from the move_pages() query (nodes = NULL: the
 * node, or -errno).  0 or -errno.
 */
static int locate(char *p, long n, long long *pfn, int *node)
{
	const long chunk = 4096;
	uint64_t *e = calloc(chunk, sizeof(*e));
	void **pages = calloc(chunk, sizeof(*pages));
	int fd = open("/proc/self/pagemap", O_RDONLY);
	long i, done, m;
	int ret = 0;

	if (fd < 0 || !e || !pages) {
		ret = fd < 0 ? -errno : -ENOMEM;
		goto out;
	}
	for (done = 0; done < n; done += m) {
		off_t off = (off_t)((uintptr_t)(p + done * PAGE) / PAGE) * sizeof(*e);

		m = n - done < chunk ? n - done : chunk;
		if (pread(fd, e, m * sizeof(*e), off) != (ssize_t)(m * sizeof(*e))) {
			ret = -EIO;
			goto out;
		}
		for (i = 0; i < m; i++) {
			pfn[done + i] = e[i] >> 63 ?
				(long long)(e[i] & ((1ULL << 55) - 1)) : -1;
			pages[i] = p + (done + i) * PAGE;
		}
		if (spm_move_pages(0, m, pages, NULL, node + done, 0) < 0) {
			ret = -errno;
			goto out;
		}
	}
out:
	if (fd >= 0)
		close(fd);
	free(e);
	free(pages);
	return ret;
}

/*
 * The node of memory block b, from its memoryN/nodeX link: -1 no link,
 * -2 links to more than one node, -3 no such block.
 */
static int block_node(long b)
{
	static int cache[NCACHE];
	char path[96], *end;
	struct dirent *de;
	int nid = -1;
	long x;
	DIR *d;

	if (b >= 0 && b < NCACHE && cache[b])
		return cache[b] - 10;
	snprintf(path, sizeof(path), MEMSYS "/memory%ld", b);
	d = opendir(path);
	if (!d)
		return -3;
	while ((de = readdir(d))) {
		if (strncmp(de->d_name, "node", 4))
			continue;
		x = strtol(de->d_name + 4, &end, 10);
		if (end == de->d_name + 4 || *end)
			continue;
		nid = nid == -1 ? (int)x : -2;
	}
	closedir(d);
	if (b >= 0 && b < NCACHE)
		cache[b] = nid + 10;
	return nid;
}

/*
 * Why block b cannot go offline whatever it holds, as sysfs shows it
 * before the attempt, or NULL.  zone gets its valid_zones.
 */
static const char *block_unfit(long b, char *zone, size_t size)
{
	char path[128], buf[64];

	snprintf(zone, size, "?");
	if (block_node(b) != SPM_NID)
		return "not a block of node 2 alone";
	snprintf(path, sizeof(path), MEMSYS "/memory%ld/state", b);
	if (spm_read_file(path, buf, sizeof(buf)) < 0 || strcmp(buf, "online"))
		return "not online";
	snprintf(path, sizeof(path), MEMSYS "/memory%ld/valid_zones", b);
	if (spm_read_file(path, zone, size) <= 0)
		return "no valid_zones";
	if (!strcmp(zone, "none"))
		return "spans more than one zone (valid_zones: none)";
	snprintf(path, sizeof(path), MEMSYS "/memory%ld/removable", b);
	if (spm_read_file(path, buf, sizeof(buf)) > 0 && !strcmp(buf, "0"))
		return "removable reads 0";
	return NULL;
}

static void offline_alarm(int sig)
{
	(void)sig;
}

/*
 * Write "offline" to memory<b>/state, for at most `seconds`: an alarm
 * (its handler installed without SA_RESTART) interrupts an offline that
 * keeps retrying.  0 or -errno (-EINTR: it did not finish in time).
 */
static int offline_within(long b, int seconds, double *took)
{
	struct sigaction sa = { .sa_handler = offline_alarm }, old;
	struct timespec t0, t1;
	char path[128];
	int ret;

	snprintf(path, sizeof(path), MEMSYS "/memory%ld/state", b);
	sigemptyset(&sa.sa_mask);
	sigaction(SIGALRM, &sa, &old);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	alarm(seconds);
	ret = spm_write_file(path, "offline");
	alarm(0);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	sigaction(SIGALRM, &old, NULL);
	*took = (t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9;
	return ret;
}

struct cand {
	long block, pages;
};

static int cand_cmp(const void *a, const void *b)
{
	const struct cand *x = a, *y = b;

	if (x->pages != y->pages)
		return x->pages < y->pages ? 1 : -1;
	return x->block < y->block ? -1 : x->block > y->block;
}

static int long_cmp(const void *a, const void *b)
{
	long x = *(const long *)a, y = *(const long *)b;

	return x < y ? -1 : x > y;
}

/* The blocks holding the n pages of blk[], most pages first; how many. */
static int candidates(const long *blk, long n, struct cand *c)
{
	long *s = malloc(n * sizeof(*s)), i;
	int k = 0;

	if (!s)
		return -1;
	memcpy(s, blk, n * sizeof(*s));
	qsort(s, n, sizeof(*s), long_cmp);
	for (i = 0; i < n; i++) {
		if (k && c[k - 1].block == s[i]) {
			c[k - 1].pages++;
		} else if (k < NCAND) {
			c[k].block = s[i];
			c[k++].pages = 1;
		}
	}
	free(s);
	qsort(c, k, sizeof(*c), cand_cmp);
	return k;
}

struct offline_result {
	long block;		/* the block offlined */
	long block_pages;	/* its size in pages */
	long in_block;		/* pages of the region in the block, before */
	long to_node2;		/* of those, on node 2 after (move_pages()) */
	long to_sysram;		/* of those, on a SysRAM node after */
	long long free_kb;	/* node 2's MemFree just before the offline */
};

/*
 * Fill len bytes bound to node 2, offline the block holding most of them
 * (it must go), check where each of its pages went and every checksum,
 * online the block again.
 */
static void offline_block(struct __test_metadata *_metadata,
			  FIXTURE_DATA(mig) *self, size_t len,
			  struct offline_result *res)
{
	const long n = len / PAGE;
	uint64_t *sum = calloc(n, sizeof(*sum));
	long long *pfn = calloc(n, sizeof(*pfn)), *pfn2 = calloc(n, sizeof(*pfn2));
	int *node = calloc(n, sizeof(*node)), *node2 = calloc(n, sizeof(*node2));
	long *blk = calloc(n, sizeof(*blk));
	long long sysram = SPM_GET(spm_sysram_nodes());
	long long total, offline_total;
	long bsize, target = -1, target_pages = 0, i, b, on2 = 0;
	long still = 0, elsewhere = 0, mismatch = 0, unchecked = 0;
	long moved_outside = 0, bad_moved = 0, bad = 0, dest[SPM_MAXN] = { 0 };
	struct cand cand[NCAND];
	char path[160], state[32], zone[64], target_zone[64] = "?";
	const char *why;
	double took;
	int k, ret;
	char *p;

	memset(res, 0, sizeof(*res));
	ASSERT_TRUE(sum && pfn && pfn2 && node && node2 && blk);
	ASSERT_LT(0, spm_read_file(MEMSYS "/block_size_bytes", state, sizeof(state)));
	bsize = strtol(state, NULL, 16);
	ASSERT_LT(0, bsize);
	ASSERT_EQ(0, bsize % PAGE);

	p = map_bound(len, SPM_NID);
	ASSERT_NE(MAP_FAILED, p);
	fill_pages(p, n, 5, sum);
	ASSERT_EQ(0, locate(p, n, pfn, node));
	for (i = 0; i < n; i++) {
		ASSERT_LT(0, pfn[i]) {
			TH_LOG("page %ld: no PFN in /proc/self/pagemap", i);
		}
		on2 += node[i] == SPM_NID;
		blk[i] = (long)(pfn[i] * PAGE / bsize);
	}
	ASSERT_EQ(n, on2);

	/* The block the test prepared: the fit block holding most pages. */
	k = candidates(blk, n, cand);
	ASSERT_LT(0, k);
	for (i = 0; i < k && cand[i].pages >= OFFLINE_MIN_PAGES; i++) {
		why = block_unfit(cand[i].block, zone, sizeof(zone));
		printf("# memory%ld holds %ld pages of the region; zone %s: %s\n",
		       cand[i].block, cand[i].pages, zone,
		       why ? why : "the block to offline");
		if (!why) {
			target = cand[i].block;
			target_pages = cand[i].pages;
			snprintf(target_zone, sizeof(target_zone), "%s", zone);
			break;
		}
		printf("# memory%ld is passed over: %s\n", cand[i].block, why);
	}
	ASSERT_LE(0, target) {
		TH_LOG("no block of node 2 holding %d or more pages of the region can go offline (see above)",
		       OFFLINE_MIN_PAGES);
	}
	total = SPM_GET(spm_node_meminfo(SPM_NID, "MemTotal"));
	res->free_kb = SPM_GET(spm_node_meminfo(SPM_NID, "MemFree"));
	printf("# %zu MiB on node 2 (%lld kB free there after); memory%ld (%ld MiB blocks) holds %ld pages of it\n",
	       len >> 20, res->free_kb, target, bsize >> 20, target_pages);
	fflush(stdout);

	self->block = target;
	res->block = target;
	res->block_pages = bsize / PAGE;
	ret = offline_within(target, OFFLINE_SECONDS, &took);
	ASSERT_EQ(0, ret) {
		TH_LOG("memory%ld of node 2 (zone %s, %ld pages of the region) did not go offline: %s%s",
		       target, target_zone, target_pages, strerror(-ret),
		       ret == -EINTR ? ": still migrating when the alarm rang" : "");
	}
	printf("# memory%ld offline in %.1f s\n", target, took);
	snprintf(path, sizeof(path), MEMSYS "/memory%ld/state", target);
	ASSERT_LT(0, spm_read_file(path, state, sizeof(state)));
	EXPECT_STREQ("offline", state);
	offline_total = SPM_GET(spm_node_meminfo(SPM_NID, "MemTotal"));
	/* All of the block's pages left node 2's managed memory. */
	EXPECT_EQ(bsize / 1024, total - offline_total);

	/* Page by page: where the block's pages went, the others stayed. */
	ASSERT_EQ(0, locate(p, n, pfn2, node2));
	for (i = 0; i < n; i++) {
		int pn = -1, bad_i = page_bad(p, i, sum);

		if (pfn2[i] > 0) {
			b = (long)(pfn2[i] * PAGE / bsize);
			pn = block_node(b);
			if (b == target)
				still++;
		}
		bad += bad_i;
		if (node2[i] >= 0 && pn >= 0)
			mismatch += pn != node2[i];
		else if (node2[i] >= 0)
			unchecked++;
		if (blk[i] != target) {
			moved_outside += pfn2[i] != pfn[i] || node2[i] != SPM_NID;
			continue;
		}
		res->in_block++;
		bad_moved += bad_i;
		if (node2[i] >= 0 && node2[i] < SPM_MAXN)
			dest[node2[i]]++;
		if (node2[i] == SPM_NID) {
			res->to_node2++;
		} else if (node2[i] >= 0 && node2[i] < SPM_MAXN &&
			   (sysram & (1LL << node2[i]))) {
			res->to_sysram++;
		} else {
			if (!elsewhere++)
				printf("# page %ld of the block: move_pages() status %d\n",
				       i, node2[i]);
		}
	}
	printf("# the %ld pages of memory%ld went to: node 2 %ld, SysRAM %ld, elsewhere %ld",
	       res->in_block, target, res->to_node2, res->to_sysram, elsewhere);
	for (i = 0; i < SPM_MAXN; i++)
		if (dest[i])
			printf("; N%ld=%ld", i, dest[i]);
	printf("\n# %ld pages still in the block, %ld other pages moved, %ld nodes unlike their PFN's block's (%ld not cross-checked), %ld checksums wrong among the moved\n",
	       still, moved_outside, mismatch, unchecked, bad_moved);
	EXPECT_EQ(0, still);
	EXPECT_EQ(0, elsewhere);
	EXPECT_EQ(0, mismatch);
	EXPECT_EQ(0, moved_outside);
	EXPECT_EQ(0, bad_moved);
	EXPECT_EQ(0, bad) {
		TH_LOG("%ld of %ld pages do not hold what was written", bad, n);
	}

	/* Online again: node 2 whole, the data still intact. */
	EXPECT_EQ(0, spm_write_file(path, "online"));
	ASSERT_LT(0, spm_read_file(path, state, sizeof(state)));
	EXPECT_STREQ("online", state);
	self->block = -1;
	EXPECT_EQ(total, spm_node_meminfo(SPM_NID, "MemTotal"));
	EXPECT_EQ(0, count_bad(p, n, sum));
	munmap(p, len);
	free(sum);
	free(pfn);
	free(pfn2);
	free(node);
	free(node2);
	free(blk);
}

/*
 * The owner's memory_offline calls and hotplug arrivals for res.  The range
 * is the whole block: node 2's memory is boot memory, without
 * memmap_on_memory.  Other folios of the block (none is expected) would
 * arrive too: at least the region's pages that stayed on node 2.
 */
static void expect_offline_callbacks(struct __test_metadata *_metadata,
				     const struct offline_result *res)
{
	long long same = -1, calls, pfn, nr;
	char buf[96], phase[16];

	EXPECT_EQ(1, SPM_GET(owner_get("offline_prepare")));
	EXPECT_EQ(1, SPM_GET(owner_get("offline_done")));
	EXPECT_EQ(0, SPM_GET(owner_get("offline_cancel")));
	ASSERT_LT(0, owner_last("last_offline", buf, sizeof(buf)));
	printf("# last_offline: %s\n", buf);
	ASSERT_EQ(3, sscanf(buf, "%15s %llx %lld", phase, &pfn, &nr));
	EXPECT_STREQ("done", phase);
	EXPECT_EQ(res->block * res->block_pages, pfn);
	EXPECT_EQ(res->block_pages, nr);
	calls = SPM_GET(owner_arrived("memory_hotplug", &same));
	printf("# arrivals for memory hotplug: %lld, from node 2 itself %lld\n",
	       calls, same);
	EXPECT_LE(res->to_node2, calls);
	EXPECT_EQ(calls, same);
}

/* Node 2 has room: every page of the block stays on node 2. */
TEST_F_TIMEOUT(mig, offline_a_node2_block_moves_data_within_node2, 180)
{
	struct offline_result res;

	ASSERT_EQ(0, owner_load("caps=user,migration"));
	offline_block(_metadata, self, 64UL << 20, &res);
	EXPECT_EQ(res.in_block, res.to_node2);
	EXPECT_EQ(0, res.to_sysram);
	expect_offline_callbacks(_metadata, &res);
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
	EXPECT_LE(1024, res.to_node2);
	EXPECT_LE(1024, res.to_sysram);
	/* No more than node 2 had free when the offline began. */
	EXPECT_GE(res.free_kb / (long long)(PAGE / 1024), res.to_node2);
	EXPECT_EQ(res.in_block, res.to_node2 + res.to_sysram);
	expect_offline_callbacks(_metadata, &res);
}

/*
 * An owner that refuses an offline at prepare time: the offline fails with
 * its errno (EBUSY), the owner hears cancel, the block stays online and
 * node 2 keeps its memory.  A positive answer is no errno: the kernel
 * refuses with EBUSY too.
 */
TEST_F_TIMEOUT(mig, owner_refuses_offline, 120)
{
	long long total = SPM_GET(spm_node_meminfo(SPM_NID, "MemTotal"));
	char zone[64], path[128], state[32], buf[96];
	double took;
	long b;
	int ret;

	ASSERT_EQ(0, owner_load("caps=user,migration offline_answer=-16"));
	for (b = 0; b < 4096; b++)
		if (block_node(b) == SPM_NID && !block_unfit(b, zone, sizeof(zone)))
			break;
	ASSERT_GT(4096, b) {
		TH_LOG("no online block of node 2 that could go offline");
	}
	self->block = b;
	ret = offline_within(b, 60, &took);
	printf("# memory%ld (zone %s): offline with the owner refusing: %s\n",
	       b, zone, strerror(-ret));
	EXPECT_EQ(-EBUSY, ret);
	snprintf(path, sizeof(path), MEMSYS "/memory%ld/state", b);
	ASSERT_LT(0, spm_read_file(path, state, sizeof(state)));
	EXPECT_STREQ("online", state);
	EXPECT_EQ(total, spm_node_meminfo(SPM_NID, "MemTotal"));
	EXPECT_EQ(1, SPM_GET(owner_get("offline_prepare")));
	EXPECT_EQ(1, SPM_GET(owner_get("offline_cancel")));
	EXPECT_EQ(0, SPM_GET(owner_get("offline_done")));
	ASSERT_LT(0, owner_last("last_offline", buf, sizeof(buf)));
	EXPECT_EQ(0, strncmp(buf, "cancel ", 7)) {
		TH_LOG("last_offline: %s", buf);
	}

	/* Not an errno: refused with EBUSY as well. */
	ASSERT_EQ(0, owner_param("offline_answer", "5"));
	ret = offline_within(b, 60, &took);
	EXPECT_EQ(-EBUSY, ret);
	ASSERT_LT(0, spm_read_file(path, state, sizeof(state)));
	EXPECT_STREQ("online", state);
	EXPECT_EQ(2, SPM_GET(owner_get("offline_cancel")));
	self->block = -1;
}

TEST_HARNESS_MAIN
