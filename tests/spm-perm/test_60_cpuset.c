// SPDX-License-Identifier: GPL-2.0
/*
 * Rule 6: cgroup v2 cpuset.mems.effective always keeps a SysRAM node.
 *
 *   parent mems 0,2, then child mems 1,2 (effective would be {2})
 *   parent mems 0-3, child mems 1,2, then parent mems 0,2 (the same, in the
 *   other order)
 *
 * After the writes (either may fail), the child's cpuset.mems.effective
 * contains node 0 or 1, its cpuset.mems.sysram is not empty, and a task in
 * the child allocates 8 MB on SysRAM (nodes 0/1).
 */
#include <signal.h>
#include "kselftest_harness.h"
#include "spm_perm.h"

#define LEN (8UL << 20)
#define NP(len) ((long)((len) / 4096))

FIXTURE(cs) {
	struct perm_saved saved;
	char parent[128];
	char child[192];
};

FIXTURE_VARIANT(cs) {
	int reverse;	/* child first under a parent with 0-3, then narrow the parent */
	int allow;	/* allow_user on node 2 */
};

FIXTURE_VARIANT_ADD(cs, parent_first)          { .reverse = 0, .allow = 0 };
FIXTURE_VARIANT_ADD(cs, child_first)           { .reverse = 1, .allow = 0 };
FIXTURE_VARIANT_ADD(cs, parent_first_allowed)  { .reverse = 0, .allow = 1 };
FIXTURE_VARIANT_ADD(cs, child_first_allowed)   { .reverse = 1, .allow = 1 };

FIXTURE_SETUP(cs)
{
	perm_save(&self->saved);
	ASSERT_LE(0, self->saved.a);
	ASSERT_EQ(0, perm_allow(PERM_A, variant->allow));
	snprintf(self->parent, sizeof(self->parent), PERM_CG "/spm-perm-cs-%d", getpid());
	snprintf(self->child, sizeof(self->child), "%s/child", self->parent);
	ASSERT_EQ(0, mkdir(self->parent, 0755));
	ASSERT_EQ(0, perm_cg_write(self->parent, "cgroup.subtree_control", "+cpuset"));
}

FIXTURE_TEARDOWN(cs)
{
	perm_cg_remove(self->child);
	perm_cg_remove(self->parent);
	perm_restore(&self->saved);
}

/* A task in cg faults in LEN; its page counts per node (0..3) in out. */
static int alloc_in(const char *cg, long *out)
{
	int fd[2], status;
	pid_t pid;

	if (pipe(fd))
		return -errno;
	pid = fork();
	if (pid < 0)
		return -errno;
	if (pid == 0) {
		long counts[SPM_MAXN + 1];
		char *p;

		close(fd[0]);
		/*
		 * Be the OOM killer's first choice: with a SysRAM-less cpuset
		 * the old kernel kills unrelated tasks (the test runner).
		 */
		spm_write_file("/proc/self/oom_score_adj", "1000");
		if (perm_cg_enter(cg, 0))
			_exit(2);
		p = spm_anon(LEN);
		if (!p)
			_exit(3);
		spm_fill(p, LEN, 61);
		if (spm_count_pages(p, LEN, counts) != NP(LEN))
			_exit(4);
		if (write(fd[1], counts, 4 * sizeof(long)) != 4 * sizeof(long))
			_exit(5);
		_exit(0);
	}
	close(fd[1]);
	memset(out, 0, 4 * sizeof(long));
	if (read(fd[0], out, 4 * sizeof(long)) != 4 * sizeof(long)) {
		close(fd[0]);
		waitpid(pid, &status, 0);
		return WIFSIGNALED(status) ? -1000 - WTERMSIG(status) : -WEXITSTATUS(status);
	}
	close(fd[0]);
	waitpid(pid, &status, 0);
	return 0;
}

TEST_F(cs, effective_keeps_sysram)
{
	char buf[128];
	long long eff, sysram;
	long counts[4];
	int r1, r2, r3, ret;

	ASSERT_EQ(0, mkdir(self->child, 0755));
	if (!variant->reverse) {
		r1 = perm_cg_write(self->parent, "cpuset.mems", "0,2");
		r2 = perm_cg_write(self->child, "cpuset.mems", "1,2");
		TH_LOG("parent mems 0,2: %s; child mems 1,2: %s",
		       r1 ? strerror(-r1) : "ok", r2 ? strerror(-r2) : "ok");
		EXPECT_EQ(0, r1);
	} else {
		r1 = perm_cg_write(self->parent, "cpuset.mems", "0-3");
		r2 = perm_cg_write(self->child, "cpuset.mems", "1,2");
		r3 = perm_cg_write(self->parent, "cpuset.mems", "0,2");
		TH_LOG("parent mems 0-3: %s; child mems 1,2: %s; parent mems 0,2: %s",
		       r1 ? strerror(-r1) : "ok", r2 ? strerror(-r2) : "ok",
		       r3 ? strerror(-r3) : "ok");
		EXPECT_EQ(0, r1);
		EXPECT_EQ(0, r2);
	}
	perm_cg_read(self->parent, "cpuset.mems.effective", buf, sizeof(buf));
	TH_LOG("parent cpuset.mems.effective: %s", buf);
	perm_cg_read(self->child, "cpuset.mems", buf, sizeof(buf));
	TH_LOG("child cpuset.mems: %s", buf);
	ASSERT_LE(0, perm_cg_read(self->child, "cpuset.mems.effective", buf, sizeof(buf)));
	TH_LOG("child cpuset.mems.effective: %s", buf);
	eff = spm_nodelist_parse(buf);
	ASSERT_LE(0, eff) TH_LOG("child cpuset.mems.effective '%s' is no node list", buf);
	EXPECT_NE(0, eff & 0x3) {
		TH_LOG("child cpuset.mems.effective '%s' has no SysRAM node", buf);
	}
	ASSERT_LE(0, perm_cg_read(self->child, "cpuset.mems.sysram", buf, sizeof(buf)));
	TH_LOG("child cpuset.mems.sysram: '%s'", buf);
	sysram = spm_nodelist_parse(buf);
	ASSERT_LE(0, sysram) TH_LOG("child cpuset.mems.sysram '%s' is no node list", buf);
	EXPECT_NE(0, sysram);
	EXPECT_EQ(0, sysram & ~0x3LL);

	ret = alloc_in(self->child, counts);
	TH_LOG("8 MB in the child: rc %d, N0=%ld N1=%ld N2=%ld N3=%ld", ret,
	       counts[0], counts[1], counts[2], counts[3]);
	EXPECT_EQ(0, ret);
	EXPECT_EQ(NP(LEN), counts[0] + counts[1]);
	if (!ret && (eff & 0x3)) {
		/* SysRAM pages only where the cpuset says. */
		EXPECT_EQ(0, (counts[0] ? 1 : 0) & !(eff & 1));
		EXPECT_EQ(0, (counts[1] ? 1 : 0) & !(eff & 2));
	}
}

TEST_HARNESS_MAIN
