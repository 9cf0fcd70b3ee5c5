// SPDX-License-Identifier: GPL-2.0
/*
 * Rule 8: a KSM page that was moved onto an SPM node (move_pages with
 * allow_user 1 on node 2) must not absorb merges from another process:
 * process B, with no memory policy and the same content, MADV_MERGEABLE,
 * two more full ksmd scans: none of B's pages is on node 2.
 *
 * And /sys/kernel/mm/ksm/pages_volatile must not count pages on SPM nodes
 * forever: mergeable pages bound to node 2 leave pages_volatile once ksmd
 * has seen them (the values are printed either way).
 */
#include <signal.h>
#include "kselftest_harness.h"
#include "spm_perm.h"

#define KSM "/sys/kernel/mm/ksm/"
#define N 64
#define LEN (N * 4096UL)

FIXTURE(ksm) {
	struct perm_saved saved;
	long long run, to_scan, sleep_ms;
	pid_t child;
};

static long long ksm_get(const char *name)
{
	return spm_read_ll(name);
}

static void ksm_log(struct __test_metadata *_metadata, const char *when)
{
	TH_LOG("%s: full_scans %lld pages_shared %lld pages_sharing %lld pages_unshared %lld pages_volatile %lld",
	       when, ksm_get(KSM "full_scans"), ksm_get(KSM "pages_shared"),
	       ksm_get(KSM "pages_sharing"), ksm_get(KSM "pages_unshared"),
	       ksm_get(KSM "pages_volatile"));
}

/* Wait for ksmd to complete n more full scans; 0 or -ETIMEDOUT. */
static int ksm_wait_scans(int n, int timeout_s)
{
	long long start = ksm_get(KSM "full_scans");
	int i;

	for (i = 0; i < timeout_s * 20; i++) {
		if (ksm_get(KSM "full_scans") >= start + n)
			return 0;
		usleep(50000);
	}
	return -ETIMEDOUT;
}

/* Page i of a region: content that depends on i only (and never zero). */
static void ksm_content(char *p, int npages, int seed)
{
	int i;

	for (i = 0; i < npages; i++) {
		uint64_t *w = (uint64_t *)(p + i * 4096UL);
		int k;

		for (k = 0; k < 512; k++)
			w[k] = spm_pattern(seed, i % N, k);
	}
}

/* PFN of the page at addr in pid (root), 0 when not present. */
static uint64_t pfn_of(pid_t pid, void *addr)
{
	char path[64];
	uint64_t e = 0;
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/pagemap", pid);
	fd = open(path, O_RDONLY);
	if (fd < 0)
		return 0;
	if (pread(fd, &e, sizeof(e), ((uintptr_t)addr / 4096) * sizeof(e)) != sizeof(e))
		e = 0;
	close(fd);
	return (e & (1ULL << 63)) ? (e & ((1ULL << 55) - 1)) : 0;
}

FIXTURE_SETUP(ksm)
{
	self->child = 0;
	perm_save(&self->saved);
	ASSERT_LE(0, self->saved.a);
	self->run = ksm_get(KSM "run");
	ASSERT_LE(0, self->run) {
		TH_LOG("no KSM in this kernel");
	}
	self->to_scan = ksm_get(KSM "pages_to_scan");
	self->sleep_ms = ksm_get(KSM "sleep_millisecs");
	ASSERT_EQ(0, spm_write_file(KSM "pages_to_scan", "10000"));
	ASSERT_EQ(0, spm_write_file(KSM "sleep_millisecs", "10"));
	ASSERT_EQ(0, spm_write_file(KSM "run", "1"));
}

FIXTURE_TEARDOWN(ksm)
{
	if (self->child > 0) {
		kill(self->child, SIGKILL);
		waitpid(self->child, NULL, 0);
	}
	spm_write_file(KSM "run", "2");
	spm_writef(KSM "run", "%lld", self->run);
	spm_writef(KSM "pages_to_scan", "%lld", self->to_scan);
	spm_writef(KSM "sleep_millisecs", "%lld", self->sleep_ms);
	perm_restore(&self->saved);
}

TEST_F_TIMEOUT(ksm, ksm_page_on_spm_does_not_absorb_merges, 90)
{
	int go[2], ready[2], nodes[2 * N], status[2 * N], i, merged = 0, same = 0;
	long counts[SPM_MAXN + 1];
	void *pages[2 * N];
	char *a, *b = NULL;
	char c;

	/* B first, before A has anything: B inherits no mapping of A's. */
	ASSERT_EQ(0, pipe(go));
	ASSERT_EQ(0, pipe(ready));
	self->child = fork();
	ASSERT_LE(0, self->child);
	if (self->child == 0) {
		char *s;

		if (read(go[0], &c, 1) != 1)
			_exit(1);
		s = spm_anon(LEN);
		if (!s)
			_exit(2);
		ksm_content(s, N, 81);
		if (madvise(s, LEN, MADV_MERGEABLE))
			_exit(3);
		if (write(ready[1], &s, sizeof(s)) != sizeof(s))
			_exit(4);
		pause();
		_exit(0);
	}

	/* A: 2N pages, page i == page i + N: ksmd merges them into N KSM pages. */
	a = spm_anon(2 * LEN);
	ASSERT_NE(NULL, a);
	ksm_content(a, 2 * N, 81);
	ASSERT_EQ(0, madvise(a, 2 * LEN, MADV_MERGEABLE));
	ASSERT_EQ(0, ksm_wait_scans(3, 40));
	ksm_log(_metadata, "A merged");
	for (i = 0; i < N; i++) {
		uint64_t x = pfn_of(getpid(), a + i * 4096UL);

		merged += x && x == pfn_of(getpid(), a + (i + N) * 4096UL);
	}
	TH_LOG("A: %d of %d page pairs share a KSM page", merged, N);
	ASSERT_LE(N * 9 / 10, merged);

	/* Move A's KSM pages onto node 2 (permitted). */
	ASSERT_EQ(0, perm_allow(PERM_A, 1));
	for (i = 0; i < 2 * N; i++) {
		pages[i] = a + i * 4096UL;
		nodes[i] = PERM_A;
		status[i] = -1000;
	}
	ASSERT_LE(0, spm_move_pages(0, 2 * N, pages, nodes, status, MPOL_MF_MOVE_ALL)) {
		TH_LOG("move_pages: %s", strerror(errno));
	}
	ASSERT_EQ(2 * N, spm_count_pages(a, 2 * LEN, counts));
	TH_LOG("A's pages after move_pages to node 2: %s (status[0] %d)",
	       perm_counts_str(counts), status[0]);
	/*
	 * The series refuses to move a KSM page onto an SPM node at all
	 * (-EPERM per page): then no KSM page can live there, and B's merges
	 * below must not land there either.  Otherwise the KSM pages moved.
	 */
	if (counts[PERM_A] == 0) {
		for (i = 0; i < 2 * N; i++)
			ASSERT_EQ(-EPERM, status[i]);
	} else {
		ASSERT_LE(2 * N * 9 / 10, counts[PERM_A]);
	}
	merged = 0;
	for (i = 0; i < N; i++) {
		uint64_t x = pfn_of(getpid(), a + i * 4096UL);

		merged += x && x == pfn_of(getpid(), a + (i + N) * 4096UL);
	}
	TH_LOG("A: %d of %d page pairs still share a KSM page after the move", merged, N);
	ASSERT_LE(N * 9 / 10, merged);
	ksm_log(_metadata, "A moved");

	/* B: the same content, mergeable, no policy. */
	ASSERT_EQ(1, write(go[1], "g", 1));
	ASSERT_EQ((ssize_t)sizeof(b), read(ready[0], &b, sizeof(b)));
	ASSERT_EQ(0, ksm_wait_scans(2, 40));
	ASSERT_EQ(0, ksm_wait_scans(1, 20));
	ksm_log(_metadata, "B scanned");
	for (i = 0; i < N; i++) {
		uint64_t x = pfn_of(self->child, b + i * 4096UL);

		same += x && x == pfn_of(getpid(), a + i * 4096UL);
	}
	TH_LOG("B: %d of %d pages merged into A's KSM pages", same, N);
	ASSERT_EQ(N, spm_count_pages_pid(self->child, b, LEN, counts));
	TH_LOG("B's pages: %s", perm_counts_str(counts));
	EXPECT_EQ(0, counts[PERM_A]) {
		TH_LOG("%ld of B's pages sit on SPM node 2: B never asked for it",
		       counts[PERM_A]);
	}
	EXPECT_EQ(N, counts[0] + counts[1]);
}

TEST_F_TIMEOUT(ksm, pages_volatile_does_not_keep_spm_pages, 90)
{
	unsigned long m = 1UL << PERM_A;
	long counts[SPM_MAXN + 1];
	long long v0, v1, v2;
	char *p;

	/* ksmd does not scan (full_scans stays) while no mm is mergeable. */
	v0 = SPM_GET(ksm_get(KSM "pages_volatile"));
	ksm_log(_metadata, "before");
	ASSERT_EQ(0, perm_allow(PERM_A, 1));
	/* 2N pages, distinct except pairs (i, i + N): on node 2 by a permitted bind. */
	p = spm_anon(2 * LEN);
	ASSERT_NE(NULL, p);
	ASSERT_EQ(0, spm_mbind(p, 2 * LEN, MPOL_BIND, &m, PERM_MAXNODE, 0));
	ksm_content(p, 2 * N, 82);
	ASSERT_EQ(2 * N, spm_count_pages(p, 2 * LEN, counts));
	ASSERT_EQ(2 * N, counts[PERM_A]);
	ASSERT_EQ(0, madvise(p, 2 * LEN, MADV_MERGEABLE));
	ASSERT_EQ(0, ksm_wait_scans(3, 40));
	v1 = SPM_GET(ksm_get(KSM "pages_volatile"));
	ksm_log(_metadata, "3 scans after MADV_MERGEABLE of 128 pages on node 2");
	ASSERT_EQ(0, ksm_wait_scans(3, 40));
	v2 = SPM_GET(ksm_get(KSM "pages_volatile"));
	ksm_log(_metadata, "3 more scans");
	ASSERT_EQ(2 * N, spm_count_pages(p, 2 * LEN, counts));
	TH_LOG("the pages: %s", perm_counts_str(counts));
	TH_LOG("pages_volatile: %lld before, %lld after 3 scans, %lld after 6", v0, v1, v2);
	EXPECT_GT(N, v2 - v0) {
		TH_LOG("pages_volatile keeps %lld of the 128 node-2 pages", v2 - v0);
	}
}

TEST_HARNESS_MAIN
