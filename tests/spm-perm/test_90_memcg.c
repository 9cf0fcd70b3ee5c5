// SPDX-License-Identifier: GPL-2.0
/*
 * A cgroup's memory on SPM nodes counts against its limit, and the limit's
 * reclaim reaches it.  Default allocations walk zonelists that have no SPM
 * zone; memory cgroup reclaim must still walk the ones that do, or a task
 * bound to an SPM node is OOM-killed at its limit with swap to spare.
 *
 *   A child in a cgroup with memory.max = 16M, bound to permitted SPM
 *   node 2, writes 48M: it must finish (no memcg OOM kill) with its data
 *   intact, having been swapped out (the cgroup's memory.stat counts
 *   pswpout), and every page it still has resident on node 2.
 */
#include <signal.h>
#include "kselftest_harness.h"
#include "spm_perm.h"

#define CG PERM_CG "/spm_memcg"
#define LEN (48UL << 20)
#define NP(len) ((long)((len) / 4096))

/* Child exit codes. */
enum { C_OK, C_CGROUP, C_POLICY, C_MAP, C_DATA, C_NODE, C_NOSWAP };

FIXTURE(mc) {
	struct perm_saved saved;
};

FIXTURE_SETUP(mc)
{
	int rc;

	perm_save(&self->saved);
	ASSERT_LE(0, self->saved.a);
	rc = system("spm-setup-swap 256M > /dev/null");
	ASSERT_EQ(0, rc) {
		TH_LOG("spm-setup-swap failed: %d", rc);
	}
	ASSERT_EQ(0, perm_allow(PERM_A, 1));
	perm_cg_remove(CG);
	ASSERT_EQ(0, perm_cg_write(PERM_CG, "cgroup.subtree_control", "+memory"));
	ASSERT_EQ(0, mkdir(CG, 0755)) {
		TH_LOG("mkdir %s: %s", CG, strerror(errno));
	}
	ASSERT_EQ(0, perm_cg_write(CG, "memory.max", "16M"));
	ASSERT_EQ(0, perm_cg_write(CG, "memory.swap.max", "max"));
}

FIXTURE_TEARDOWN(mc)
{
	perm_cg_remove(CG);
	perm_restore(&self->saved);
}

static int child(void)
{
	unsigned long m = 1UL << PERM_A;
	long counts[SPM_MAXN + 1];
	long resident, swapped;
	char *p;

	if (perm_cg_enter(CG, 0))
		return C_CGROUP;
	if (spm_set_mempolicy(MPOL_BIND, &m, PERM_MAXNODE))
		return C_POLICY;
	p = spm_anon(LEN);
	if (!p)
		return C_MAP;
	spm_fill(p, LEN, 93);
	swapped = perm_swapped(p, LEN);
	spm_count_pages(p, LEN, counts);
	resident = NP(LEN) - counts[SPM_MAXN];
	printf("# child: %ld pages swapped, %ld resident (%s)\n", swapped,
	       resident, perm_counts_str(counts));
	if (swapped <= 0)
		return C_NOSWAP;
	if (resident != counts[PERM_A])
		return C_NODE;
	/* Reads every page: each swapped one comes back, on node 2. */
	if (spm_verify(p, LEN, 93))
		return C_DATA;
	spm_count_pages(p, LEN, counts);
	resident = NP(LEN) - counts[SPM_MAXN];
	printf("# child after reading: %ld resident (%s)\n", resident,
	       perm_counts_str(counts));
	if (resident != counts[PERM_A])
		return C_NODE;
	return C_OK;
}

/* Limit reclaim swaps the cgroup's pages out of node 2; nothing is killed. */
TEST_F_TIMEOUT(mc, limit_reclaim_reaches_spm_node, 90)
{
	char ev[512], *s;
	long oom_kill = -1;
	int status;
	pid_t pid;

	fflush(stdout);
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		int rc = child();

		fflush(stdout);
		_exit(rc);
	}
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_LE(0, perm_cg_read(CG, "memory.events", ev, sizeof(ev)));
	s = strstr(ev, "oom_kill ");
	ASSERT_NE(NULL, s) {
		TH_LOG("no oom_kill in memory.events: %s", ev);
	}
	oom_kill = strtol(s + 9, NULL, 10);
	EXPECT_EQ(0, oom_kill) {
		TH_LOG("memory.events: %s", ev);
	}
	ASSERT_TRUE(WIFEXITED(status)) {
		TH_LOG("child killed by signal %d (memcg OOM: %ld)",
		       WIFSIGNALED(status) ? WTERMSIG(status) : 0, oom_kill);
	}
	EXPECT_EQ(C_OK, WEXITSTATUS(status));
}

TEST_HARNESS_MAIN
