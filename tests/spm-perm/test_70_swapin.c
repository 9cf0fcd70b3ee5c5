// SPDX-License-Identifier: GPL-2.0
/*
 * Rule 7: anonymous memory bound to a permitted SPM node comes back there
 * after swap, on every swap-in path (zram swap, SWP_SYNCHRONOUS_IO).
 *
 *   simple: BIND {2} (mbind, or the task policy), MADV_PAGEOUT, touch
 *   again: every page on node 2 (swap count 1: zram's direct swap-in that
 *   skips the swap cache)
 *   shared swap entry: MADV_PAGEOUT, then fork(), so that every swap entry
 *   is referenced by two processes: the swap-in goes through the swap cache
 *   (readahead); fault in the child, then the parent (and the other order),
 *   then a write in the first one (copy on write of a swap-cache folio):
 *   node 2 every time.
 */
#include <signal.h>
#include "kselftest_harness.h"
#include "spm_perm.h"

#define LEN (16UL << 20)
#define NP(len) ((long)((len) / 4096))

FIXTURE(sw) {
	struct perm_saved saved;
	char *p;
	pid_t child;
};

FIXTURE_VARIANT(sw) {
	int task_policy;	/* set_mempolicy instead of mbind */
};

FIXTURE_VARIANT_ADD(sw, mbind)         { .task_policy = 0 };
FIXTURE_VARIANT_ADD(sw, set_mempolicy) { .task_policy = 1 };

FIXTURE_SETUP(sw)
{
	unsigned long m = 1UL << PERM_A;
	long counts[SPM_MAXN + 1];
	int rc;

	self->child = 0;
	perm_save(&self->saved);
	ASSERT_LE(0, self->saved.a);
	rc = system("spm-setup-swap 256M > /dev/null");
	ASSERT_EQ(0, rc) {
		TH_LOG("spm-setup-swap failed: %d", rc);
	}
	ASSERT_EQ(0, perm_allow(PERM_A, 1));
	self->p = spm_anon(LEN);
	ASSERT_NE(NULL, self->p);
	if (variant->task_policy) {
		ASSERT_EQ(0, spm_set_mempolicy(MPOL_BIND, &m, PERM_MAXNODE));
	} else {
		ASSERT_EQ(0, spm_mbind(self->p, LEN, MPOL_BIND, &m, PERM_MAXNODE, 0));
	}
	spm_fill(self->p, LEN, 71);
	ASSERT_EQ(NP(LEN), spm_count_pages(self->p, LEN, counts));
	ASSERT_EQ(NP(LEN), counts[PERM_A]);
}

FIXTURE_TEARDOWN(sw)
{
	if (self->child > 0) {
		kill(self->child, SIGKILL);
		waitpid(self->child, NULL, 0);
	}
	spm_set_mempolicy(MPOL_DEFAULT, NULL, 0);
	perm_restore(&self->saved);
}

static void page_out(struct __test_metadata *_metadata, char *p)
{
	long sw;

	ASSERT_EQ(0, madvise(p, LEN, MADV_PAGEOUT)) {
		TH_LOG("MADV_PAGEOUT: %s", strerror(errno));
	}
	sw = perm_swapped(p, LEN);
	TH_LOG("after MADV_PAGEOUT: %ld of %ld pages swapped", sw, NP(LEN));
	ASSERT_LE(NP(LEN) * 9 / 10, sw);
}

TEST_F_TIMEOUT(sw, swapin_simple, 60)
{
	long counts[SPM_MAXN + 1];

	page_out(_metadata, self->p);
	EXPECT_EQ(0, spm_verify(self->p, LEN, 71));
	EXPECT_EQ(0, perm_swapped(self->p, LEN));
	ASSERT_EQ(NP(LEN), spm_count_pages(self->p, LEN, counts));
	TH_LOG("swapped in (read): %s", perm_counts_str(counts));
	EXPECT_EQ(NP(LEN), counts[PERM_A]);

	/* A second round, faulting with writes this time. */
	page_out(_metadata, self->p);
	spm_fill(self->p, LEN, 72);
	ASSERT_EQ(NP(LEN), spm_count_pages(self->p, LEN, counts));
	TH_LOG("swapped in (write): %s", perm_counts_str(counts));
	EXPECT_EQ(NP(LEN), counts[PERM_A]);
	EXPECT_EQ(0, spm_verify(self->p, LEN, 72));
}

/* What a process finds after faulting the range in: pages on node 2. */
struct report {
	long on_node2_read;
	long on_node2_write;
	long bad;
	long total;
};

static void fault_and_report(char *p, struct report *r, int do_write)
{
	long counts[SPM_MAXN + 1];

	r->bad = spm_verify(p, LEN, 71);
	r->total = spm_count_pages(p, LEN, counts);
	r->on_node2_read = counts[PERM_A];
	r->on_node2_write = -1;
	if (do_write) {
		spm_fill(p, LEN, 73);
		spm_count_pages(p, LEN, counts);
		r->on_node2_write = counts[PERM_A];
	}
}

static void shared_entry(struct __test_metadata *_metadata,
			 FIXTURE_DATA(sw) *self, int child_first)
{
	struct report rc = { 0 }, rp = { 0 };
	int to_child[2], to_parent[2];
	char c;

	page_out(_metadata, self->p);
	ASSERT_EQ(0, pipe(to_child));
	ASSERT_EQ(0, pipe(to_parent));
	self->child = fork();
	ASSERT_LE(0, self->child);
	if (self->child == 0) {
		struct report r;

		/* Wait for our turn, fault in, report; write only when first. */
		if (!child_first && read(to_child[0], &c, 1) != 1)
			_exit(1);
		fault_and_report(self->p, &r, child_first);
		if (write(to_parent[1], &r, sizeof(r)) != sizeof(r))
			_exit(1);
		pause();
		_exit(0);
	}
	if (child_first) {
		ASSERT_EQ((ssize_t)sizeof(rc), read(to_parent[0], &rc, sizeof(rc)));
		fault_and_report(self->p, &rp, 0);
	} else {
		fault_and_report(self->p, &rp, 1);
		ASSERT_EQ(1, write(to_child[1], "g", 1));
		ASSERT_EQ((ssize_t)sizeof(rc), read(to_parent[0], &rc, sizeof(rc)));
	}
	TH_LOG("child (%s): %ld of %ld pages on node 2 after swap-in, %ld after its write, %ld bad",
	       child_first ? "first" : "second", rc.on_node2_read, rc.total,
	       rc.on_node2_write, rc.bad);
	TH_LOG("parent (%s): %ld of %ld pages on node 2 after swap-in, %ld after its write, %ld bad",
	       child_first ? "second" : "first", rp.on_node2_read, rp.total,
	       rp.on_node2_write, rp.bad);
	EXPECT_EQ(NP(LEN), rc.total);
	EXPECT_EQ(NP(LEN), rp.total);
	EXPECT_EQ(0, rc.bad);
	EXPECT_EQ(0, rp.bad);
	EXPECT_EQ(NP(LEN), rc.on_node2_read);
	EXPECT_EQ(NP(LEN), rp.on_node2_read);
	if (child_first) {
		EXPECT_EQ(NP(LEN), rc.on_node2_write);
	} else {
		EXPECT_EQ(NP(LEN), rp.on_node2_write);
	}
}

TEST_F_TIMEOUT(sw, swapin_shared_entry_child_first, 60)
{
	shared_entry(_metadata, self, 1);
}

TEST_F_TIMEOUT(sw, swapin_shared_entry_parent_first, 60)
{
	shared_entry(_metadata, self, 0);
}

TEST_HARNESS_MAIN
