// SPDX-License-Identifier: GPL-2.0
/*
 * Rule 2: migrate_pages(2) with an unpermitted SPM node among the SOURCE
 * nodes does not fail: the pages it may move move, the pages on the
 * unpermitted SPM node stay where they are, and the return value is the
 * number of pages not moved: exactly those left on the skipped node.
 * EPERM only when a TARGET node is an SPM node that does not permit user
 * placement.
 */
#include "kselftest_harness.h"
#include "spm_perm.h"

#define NPAGES 256
#define LEN (NPAGES * 4096UL)

FIXTURE(src) {
	struct perm_saved saved;
	char *on0;	/* NPAGES on node 0 */
	char *on2;	/* NPAGES on node 2, placed while it permitted user placement */
};

static void place(struct __test_metadata *_metadata, char *p, int nid, int seed)
{
	unsigned long m = 1UL << nid;
	long counts[SPM_MAXN + 1];

	ASSERT_EQ(0, spm_mbind(p, LEN, MPOL_BIND, &m, PERM_MAXNODE, 0)) {
		TH_LOG("mbind {%d}: %s", nid, strerror(errno));
	}
	spm_fill(p, LEN, seed);
	/* Drop the range policy: only the pages' location matters. */
	ASSERT_EQ(0, spm_mbind(p, LEN, MPOL_DEFAULT, NULL, 0, 0));
	ASSERT_EQ(NPAGES, spm_count_pages(p, LEN, counts));
	ASSERT_EQ(NPAGES, counts[nid]);
}

FIXTURE_SETUP(src)
{
	perm_save(&self->saved);
	ASSERT_LE(0, self->saved.a);
	ASSERT_EQ(0, perm_allow(PERM_A, 1));
	ASSERT_EQ(0, perm_allow(PERM_B, 0));
	self->on0 = spm_anon(LEN);
	self->on2 = spm_anon(LEN);
	ASSERT_NE(NULL, self->on0);
	ASSERT_NE(NULL, self->on2);
	place(_metadata, self->on0, 0, 31);
	place(_metadata, self->on2, PERM_A, 32);
	ASSERT_EQ(0, perm_allow(PERM_A, 0));
}

FIXTURE_TEARDOWN(src)
{
	perm_restore(&self->saved);
}

TEST_F(src, unpermitted_source_node_is_not_eperm)
{
	unsigned long old = spm_nodes_mask(0, PERM_A, -1), new = spm_nodes_mask(1, -1, -1);
	long counts[SPM_MAXN + 1];
	long ret;

	errno = 0;
	ret = spm_migrate_pages(0, PERM_MAXNODE, &old, &new);
	TH_LOG("migrate_pages(self, {0,2} -> {1}) with node 2 unpermitted: %ld (%s)",
	       ret, ret < 0 ? strerror(errno) : "ok");
	EXPECT_EQ(NPAGES, ret) {
		TH_LOG("expected the %d pages left on node %d, got %ld (%s)",
		       NPAGES, PERM_A, ret, ret < 0 ? strerror(errno) : "ok");
	}
	ASSERT_EQ(NPAGES, spm_count_pages(self->on0, LEN, counts));
	TH_LOG("pages that were on node 0: %s", perm_counts_str(counts));
	EXPECT_EQ(NPAGES, counts[1]);
	ASSERT_EQ(NPAGES, spm_count_pages(self->on2, LEN, counts));
	TH_LOG("pages that were on node 2: %s", perm_counts_str(counts));
	EXPECT_EQ(NPAGES, counts[PERM_A]);
	EXPECT_EQ(0, spm_verify(self->on0, LEN, 31));
	EXPECT_EQ(0, spm_verify(self->on2, LEN, 32));
}

/* Another process's pages, as migratepages(8) does it. */
TEST_F(src, unpermitted_source_node_other_task)
{
	unsigned long old = spm_nodes_mask(0, PERM_A, -1), new = spm_nodes_mask(1, -1, -1);
	long counts[SPM_MAXN + 1];
	int go[2], done[2];
	pid_t pid;
	long ret;
	char c;

	ASSERT_EQ(0, pipe(go));
	ASSERT_EQ(0, pipe(done));
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		/* The child shares the pages until it writes; it only waits. */
		close(go[1]);
		if (write(done[1], "r", 1) != 1)
			_exit(1);
		if (read(go[0], &c, 1) < 0)
			_exit(1);
		_exit(0);
	}
	ASSERT_EQ(1, read(done[0], &c, 1));
	/* The pages are shared with the parent: root moves them (MOVE_ALL). */
	errno = 0;
	ret = spm_migrate_pages(pid, PERM_MAXNODE, &old, &new);
	TH_LOG("migrate_pages(child, {0,2} -> {1}): %ld (%s)", ret,
	       ret < 0 ? strerror(errno) : "ok");
	/* Not moved: the child's pages on the skipped node 2. */
	EXPECT_EQ(NPAGES, ret);
	ASSERT_EQ(NPAGES, spm_count_pages_pid(pid, self->on0, LEN, counts));
	TH_LOG("child's node-0 pages: %s", perm_counts_str(counts));
	EXPECT_EQ(NPAGES, counts[1]);
	ASSERT_EQ(NPAGES, spm_count_pages_pid(pid, self->on2, LEN, counts));
	TH_LOG("child's node-2 pages: %s", perm_counts_str(counts));
	EXPECT_EQ(NPAGES, counts[PERM_A]);
	EXPECT_EQ(1, write(go[1], "g", 1));
	waitpid(pid, NULL, 0);
}

/*
 * Targets: an unpermitted SPM node next to usable nodes is EPERM; naming
 * nothing but unpermitted SPM nodes is EINVAL, as for nodes outside the
 * cpuset (Mems_allowed does not list them; LTP's migrate_pages01 relies on
 * that).  Either way nothing moves.
 */
TEST_F(src, unpermitted_target_node_is_eperm)
{
	unsigned long old = spm_nodes_mask(0, -1, -1), new2 = spm_nodes_mask(PERM_A, -1, -1);
	unsigned long new13 = spm_nodes_mask(1, PERM_B, -1);
	long counts[SPM_MAXN + 1];

	errno = 0;
	EXPECT_EQ(-1, spm_migrate_pages(0, PERM_MAXNODE, &old, &new2));
	EXPECT_EQ(EINVAL, errno);
	errno = 0;
	EXPECT_EQ(-1, spm_migrate_pages(0, PERM_MAXNODE, &old, &new13));
	EXPECT_EQ(EPERM, errno);
	ASSERT_EQ(NPAGES, spm_count_pages(self->on0, LEN, counts));
	EXPECT_EQ(NPAGES, counts[0]) {
		TH_LOG("after the refused calls: %s", perm_counts_str(counts));
	}
}

/* Permitted target: node 0's pages move onto node 2. */
TEST_F(src, permitted_target_node_moves)
{
	unsigned long old = spm_nodes_mask(0, -1, -1), new = spm_nodes_mask(PERM_A, -1, -1);
	long counts[SPM_MAXN + 1];
	long ret;

	ASSERT_EQ(0, perm_allow(PERM_A, 1));
	ret = spm_migrate_pages(0, PERM_MAXNODE, &old, &new);
	EXPECT_EQ(0, ret) {
		TH_LOG("migrate_pages({0} -> {2}): %ld %s", ret, strerror(errno));
	}
	ASSERT_EQ(NPAGES, spm_count_pages(self->on0, LEN, counts));
	EXPECT_EQ(NPAGES, counts[PERM_A]) {
		TH_LOG("%s", perm_counts_str(counts));
	}
	EXPECT_EQ(0, spm_verify(self->on0, LEN, 31));
}

TEST_HARNESS_MAIN
