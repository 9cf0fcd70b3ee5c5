/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Moving pages onto an SPM node: move_pages(), migrate_pages(), mbind()
 * with MPOL_MF_MOVE, and cpusets.
 *
 *   not permitted (allow_user 0): EPERM (EINVAL for migrate_pages() naming
 *   only the SPM node), nothing moves
 *   permitted: the pages move, data intact, status/queries say so
 *   a cpuset whose mems exclude the node: EACCES (move_pages) or EINVAL
 *   (migrate_pages, mbind, set_mempolicy), whatever allow_user says
 *   a cpuset change never carries pages onto an SPM node that does not
 *   permit user placement
 *
 * SPM_NODE is the SPM node under test (2; the spm-dax suite uses 3).
 *
 * The test bodies live in tests/lib/ so that tests/spm-core (SPM_NODE 2)
 * and tests/spm-dax (SPM_NODE 3) build the same code, and the Makefile's
 * dependency on the headers in tests/lib rebuilds both when it changes.
 */
#include <signal.h>
#include <sys/mman.h>
#include "kselftest_harness.h"
#include "spm_place.h"

#ifndef SPM_NODE
#define SPM_NODE 2
#endif

#define NPAGES 256
#define LEN (NPAGES * 4096UL)
#define MAXNODE 64
#define CG "/sys/fs/cgroup"

FIXTURE(mig) {
	int nid;
	int saved;
	char *p;
	void *pages[NPAGES];
	int nodes[NPAGES];
	int status[NPAGES];
	char cg[128];
	pid_t child;
	char numa_balancing[16];
};

#define NUMA_BALANCING "/proc/sys/kernel/numa_balancing"

static void set_nodes(FIXTURE_DATA(mig) *self, int nid)
{
	int i;

	for (i = 0; i < NPAGES; i++) {
		self->nodes[i] = nid;
		self->status[i] = -1000;
	}
}

/* Pages of the region per node (move_pages query). */
static long on_node(FIXTURE_DATA(mig) *self, pid_t pid, int nid)
{
	int st[NPAGES], i;
	long n = 0;

	if (spm_move_pages(pid, NPAGES, self->pages, NULL, st, 0))
		return -errno;
	for (i = 0; i < NPAGES; i++)
		n += st[i] == nid;
	return n;
}

FIXTURE_SETUP(mig)
{
	unsigned long one = 1UL << 1;
	long long spm = spm_test_nodes();
	int i;

	self->nid = SPM_NODE;
	ASSERT_LT(0, spm);
	ASSERT_TRUE(spm & (1LL << self->nid));
	self->saved = spm_allow_user_get(self->nid);
	ASSERT_LE(0, self->saved);
	self->cg[0] = '\0';
	self->child = 0;
	/*
	 * NUMA balancing would move the region's pages to the node of the
	 * CPU that reads them, off the SPM node while it permits migration:
	 * on a slow kernel (debug) between the steps of a test.  The tests
	 * here are about the syscalls; iso.numa_balancing_* test balancing.
	 */
	self->numa_balancing[0] = '\0';
	if (spm_read_file(NUMA_BALANCING, self->numa_balancing,
			  sizeof(self->numa_balancing)) > 0)
		ASSERT_EQ(0, spm_write_file(NUMA_BALANCING, "0"));

	/* The region starts on node 1. */
	self->p = mmap(NULL, LEN, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, self->p);
	ASSERT_EQ(0, spm_mbind(self->p, LEN, MPOL_BIND, &one, MAXNODE, 0));
	spm_fill(self->p, LEN, 42);
	ASSERT_EQ(0, spm_mbind(self->p, LEN, MPOL_DEFAULT, NULL, 0, 0));
	for (i = 0; i < NPAGES; i++)
		self->pages[i] = self->p + i * 4096UL;
	ASSERT_EQ(NPAGES, on_node(self, 0, 1));
}

FIXTURE_TEARDOWN(mig)
{
	if (self->child > 0) {
		kill(self->child, SIGKILL);
		waitpid(self->child, NULL, 0);
	}
	if (self->cg[0]) {
		spm_writef(CG "/cgroup.procs", "%d", getpid());
		rmdir(self->cg);
	}
	spm_allow_user_set(self->nid, self->saved);
	if (self->numa_balancing[0])
		spm_write_file(NUMA_BALANCING, self->numa_balancing);
}

static void make_cgroup(struct __test_metadata *_metadata,
			FIXTURE_DATA(mig) *self, const char *mems)
{
	char path[256];

	snprintf(self->cg, sizeof(self->cg), CG "/spm-mig-%d", getpid());
	ASSERT_EQ(0, mkdir(self->cg, 0755));
	snprintf(path, sizeof(path), "%s/cpuset.mems", self->cg);
	ASSERT_EQ(0, spm_write_file(path, mems));
}

static void enter_cgroup(struct __test_metadata *_metadata,
			 FIXTURE_DATA(mig) *self)
{
	char path[256];

	snprintf(path, sizeof(path), "%s/cgroup.procs", self->cg);
	ASSERT_EQ(0, spm_writef(path, "%d", getpid()));
}

/* ------------------------------------------------------------ move_pages */

TEST_F(mig, move_pages_denied_without_allow_user)
{
	ASSERT_EQ(0, spm_allow_user_set(self->nid, 0));
	set_nodes(self, self->nid);
	EXPECT_EQ(-1, spm_move_pages(0, NPAGES, self->pages, self->nodes, self->status,
				     MPOL_MF_MOVE));
	EXPECT_EQ(EPERM, errno);
	EXPECT_EQ(NPAGES, on_node(self, 0, 1));
	EXPECT_EQ(0, spm_verify(self->p, LEN, 42));
	/* MPOL_MF_MOVE_ALL (root) is no way around it. */
	EXPECT_EQ(-1, spm_move_pages(0, NPAGES, self->pages, self->nodes, self->status,
				     MPOL_MF_MOVE_ALL));
	EXPECT_EQ(EPERM, errno);
	EXPECT_EQ(NPAGES, on_node(self, 0, 1));
}

TEST_F(mig, move_pages_allowed_moves_to_spm_and_back)
{
	struct spm_snap a, b;
	int i, bad = 0;

	ASSERT_EQ(0, spm_allow_user_set(self->nid, 1));
	set_nodes(self, self->nid);
	spm_snap(&a);
	ASSERT_EQ(0, spm_move_pages(0, NPAGES, self->pages, self->nodes, self->status,
				    MPOL_MF_MOVE)) {
		TH_LOG("move_pages: %s", strerror(errno));
	}
	spm_snap(&b);
	for (i = 0; i < NPAGES; i++)
		bad += self->status[i] != self->nid;
	EXPECT_EQ(0, bad) {
		TH_LOG("status[0] %d", self->status[0]);
	}
	EXPECT_EQ(NPAGES, on_node(self, 0, self->nid));
	EXPECT_LE((long long)(LEN >> 10) - 64, SNAP_DELTA(&a, &b, self->nid, K_ANON));
	EXPECT_EQ(0, spm_verify(self->p, LEN, 42));

	/* Leaving an SPM node needs the migration capability too. */
	ASSERT_EQ(0, spm_allow_user_set(self->nid, 0));
	set_nodes(self, 0);
	ASSERT_EQ(0, spm_move_pages(0, NPAGES, self->pages, self->nodes, self->status,
				    MPOL_MF_MOVE));
	bad = 0;
	for (i = 0; i < NPAGES; i++)
		bad += self->status[i] != -EPERM;
	EXPECT_EQ(0, bad) {
		TH_LOG("status[0] %d, want -EPERM", self->status[0]);
	}
	EXPECT_EQ(NPAGES, on_node(self, 0, self->nid));

	ASSERT_EQ(0, spm_allow_user_set(self->nid, 1));
	ASSERT_EQ(0, spm_move_pages(0, NPAGES, self->pages, self->nodes, self->status,
				    MPOL_MF_MOVE));
	EXPECT_EQ(NPAGES, on_node(self, 0, 0));
	EXPECT_EQ(0, spm_verify(self->p, LEN, 42));
}

TEST_F(mig, move_pages_to_nodes_without_memory_is_enodev)
{
	long long mem = spm_sysfs_nodemask("has_memory");
	static const int bad[] = { 3, 4, 5, 63, 64, 1000, -1 };
	unsigned int i;
	int tried = 0;

	ASSERT_EQ(0, spm_allow_user_set(self->nid, 1));
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (bad[i] >= 0 && bad[i] < 64 && (mem & (1LL << bad[i])))
			continue;
		tried++;
		set_nodes(self, bad[i]);
		EXPECT_EQ(-1, spm_move_pages(0, NPAGES, self->pages, self->nodes,
					     self->status, MPOL_MF_MOVE));
		EXPECT_EQ(ENODEV, errno) {
			TH_LOG("node %d: %s", bad[i], strerror(errno));
		}
	}
	EXPECT_LE(5, tried);
	EXPECT_EQ(NPAGES, on_node(self, 0, 1));
}

/* --------------------------------------------------------- migrate_pages */

TEST_F(mig, migrate_pages_denied_without_allow_user)
{
	unsigned long from = 1UL << 1, to = 1UL << self->nid;
	unsigned long to2 = (1UL << 0) | (1UL << self->nid);

	ASSERT_EQ(0, spm_allow_user_set(self->nid, 0));
	/* Only the SPM node: not a node the task may use, as out of cpuset. */
	EXPECT_EQ(-1, spm_migrate_pages(0, MAXNODE, &from, &to));
	EXPECT_EQ(EINVAL, errno);
	/* The SPM node next to a usable one: refused. */
	EXPECT_EQ(-1, spm_migrate_pages(getpid(), MAXNODE, &from, &to2));
	EXPECT_EQ(EPERM, errno);
	EXPECT_EQ(NPAGES, on_node(self, 0, 1));
}

TEST_F(mig, migrate_pages_allowed_moves_to_spm_and_back)
{
	unsigned long from = 1UL << 1, to = 1UL << self->nid, zero = 1UL;
	long ret;

	ASSERT_EQ(0, spm_allow_user_set(self->nid, 1));
	ret = spm_migrate_pages(0, MAXNODE, &from, &to);
	ASSERT_EQ(0, ret) {
		TH_LOG("migrate_pages: %ld (%s)", ret, strerror(errno));
	}
	EXPECT_EQ(NPAGES, on_node(self, 0, self->nid));
	EXPECT_EQ(0, spm_verify(self->p, LEN, 42));

	/*
	 * Leaving needs the migration capability too: without it the node is
	 * skipped as a source, the call succeeds and its pages stay, counted
	 * as not moved: the range's and whatever else of the task the first
	 * call brought from node 1 (stack, data).
	 */
	ASSERT_EQ(0, spm_allow_user_set(self->nid, 0));
	ret = spm_migrate_pages(0, MAXNODE, &to, &zero);
	TH_LOG("migrate_pages from the skipped node: %ld not moved", ret);
	EXPECT_LE(NPAGES, ret);
	EXPECT_EQ(NPAGES, on_node(self, 0, self->nid));

	ASSERT_EQ(0, spm_allow_user_set(self->nid, 1));
	ASSERT_EQ(0, spm_migrate_pages(0, MAXNODE, &to, &zero));
	EXPECT_EQ(NPAGES, on_node(self, 0, 0));
	EXPECT_EQ(0, spm_verify(self->p, LEN, 42));
}

/* ------------------------------------------------------ mbind MF_MOVE */

TEST_F(mig, mbind_move_denied_without_allow_user)
{
	unsigned long m = 1UL << self->nid;

	ASSERT_EQ(0, spm_allow_user_set(self->nid, 0));
	EXPECT_EQ(-1, spm_mbind(self->p, LEN, MPOL_BIND, &m, MAXNODE, MPOL_MF_MOVE));
	EXPECT_EQ(EPERM, errno);
	EXPECT_EQ(NPAGES, on_node(self, 0, 1));
}

TEST_F(mig, mbind_move_allowed_moves_to_spm)
{
	unsigned long m = 1UL << self->nid;

	ASSERT_EQ(0, spm_allow_user_set(self->nid, 1));
	ASSERT_EQ(0, spm_mbind(self->p, LEN, MPOL_BIND, &m, MAXNODE,
			       MPOL_MF_MOVE | MPOL_MF_STRICT)) {
		TH_LOG("mbind: %s", strerror(errno));
	}
	EXPECT_EQ(NPAGES, on_node(self, 0, self->nid));
	EXPECT_EQ(0, spm_verify(self->p, LEN, 42));
}

/* ------------------------------------------------------------- cpusets */

TEST_F(mig, cpuset_without_spm_blocks_every_route)
{
	unsigned long m = 1UL << self->nid, from = 1UL << 1;
	struct spm_snap a, b;
	char path[256], buf[64], mems[64];
	int mode = -1;

	spm_mask_str(spm_sysram_nodes(), mems, sizeof(mems));
	make_cgroup(_metadata, self, mems);
	enter_cgroup(_metadata, self);
	snprintf(path, sizeof(path), "%s/cpuset.mems.sysram", self->cg);
	ASSERT_LE(0, spm_read_file(path, buf, sizeof(buf)));
	EXPECT_STREQ(mems, buf);
	EXPECT_EQ(spm_sysram_nodes(), spm_nodelist_parse(buf));

	/* Permission from the node does not override the cpuset. */
	ASSERT_EQ(0, spm_allow_user_set(self->nid, 1));
	spm_snap(&a);
	set_nodes(self, self->nid);
	EXPECT_EQ(-1, spm_move_pages(0, NPAGES, self->pages, self->nodes, self->status,
				     MPOL_MF_MOVE));
	EXPECT_EQ(EACCES, errno);
	EXPECT_EQ(-1, spm_migrate_pages(0, MAXNODE, &from, &m));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(-1, spm_mbind(self->p, LEN, MPOL_BIND, &m, MAXNODE, MPOL_MF_MOVE));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(-1, spm_set_mempolicy(MPOL_BIND, &m, MAXNODE));
	EXPECT_EQ(EINVAL, errno);
	ASSERT_EQ(0, spm_get_mempolicy(&mode, NULL, 0, NULL, 0));
	EXPECT_EQ(MPOL_DEFAULT, mode);
	spm_snap(&b);
	EXPECT_EQ(NPAGES, on_node(self, 0, 1));
	EXPECT_EQ(0, SNAP_DELTA(&a, &b, self->nid, K_ANON));
}

/* Joining a cpuset without the node takes the pages off it (v2 migrates). */
TEST_F(mig, joining_a_cpuset_without_spm_moves_pages_off)
{
	char mems[64];
	long n;

	ASSERT_EQ(0, spm_allow_user_set(self->nid, 1));
	set_nodes(self, self->nid);
	ASSERT_EQ(0, spm_move_pages(0, NPAGES, self->pages, self->nodes, self->status,
				    MPOL_MF_MOVE));
	ASSERT_EQ(NPAGES, on_node(self, 0, self->nid));
	spm_mask_str(spm_sysram_nodes(), mems, sizeof(mems));
	make_cgroup(_metadata, self, mems);
	enter_cgroup(_metadata, self);
	n = on_node(self, 0, self->nid);
	EXPECT_EQ(0, n);
	EXPECT_EQ(NPAGES, on_node(self, 0, 0) + on_node(self, 0, 1));
	EXPECT_EQ(0, spm_verify(self->p, LEN, 42));
}

/*
 * An administrator moving a cpuset's mems onto an SPM node that does not
 * permit user placement must not carry the tasks' pages there: the write
 * fails, or the pages stay off the node. A child in the cgroup holds the
 * pages (the test itself stays in the root cgroup).
 */
TEST_F(mig, cpuset_mems_change_does_not_carry_pages_onto_spm)
{
	char path[256], nidstr[16], c = 0;
	struct spm_snap a, b;
	int ready[2], go[2], err, status = 0;
	long n;

	ASSERT_EQ(0, spm_allow_user_set(self->nid, 0));
	make_cgroup(_metadata, self, "1");
	ASSERT_EQ(0, pipe(ready));
	ASSERT_EQ(0, pipe(go));
	self->child = fork();
	ASSERT_LE(0, self->child);
	if (self->child == 0) {
		unsigned long one = 1UL << 1;
		char p2[256];

		snprintf(p2, sizeof(p2), "%s/cgroup.procs", self->cg);
		if (spm_writef(p2, "%d", getpid()))
			_exit(1);
		spm_write_file("/proc/self/oom_score_adj", "1000");
		/* Fresh pages of this child on node 1 ... */
		spm_fill(self->p, LEN, 43);
		/* ... and a BIND {1} region that is not yet touched. */
		spm_mbind(self->p + LEN / 2, LEN / 2, MPOL_BIND, &one, MAXNODE, 0);
		if (write(ready[1], "r", 1) != 1)
			_exit(1);
		if (read(go[0], &c, 1) != 1)
			_exit(1);
		/* After the change: touch every page again (new faults on the
		 * rebound policy of the second half). */
		madvise(self->p + LEN / 2, LEN / 2, MADV_DONTNEED);
		spm_fill(self->p + LEN / 2, LEN / 2, 44);
		if (write(ready[1], "d", 1) != 1)
			_exit(1);
		pause();
		_exit(0);
	}
	close(ready[1]);
	close(go[0]);
	ASSERT_EQ(1, read(ready[0], &c, 1));
	ASSERT_EQ(NPAGES, on_node(self, self->child, 1));

	spm_snap(&a);
	snprintf(path, sizeof(path), "%s/cpuset.mems", self->cg);
	snprintf(nidstr, sizeof(nidstr), "%d", self->nid);
	err = spm_write_file(path, nidstr);
	TH_LOG("cpuset.mems 1 -> %s: %s", nidstr, err ? strerror(-err) : "accepted");
	n = on_node(self, self->child, self->nid);
	EXPECT_EQ(0, n) {
		TH_LOG("%ld of %d pages were carried onto SPM node %d", n, NPAGES, self->nid);
	}
	/* Let the child fault again; it may be OOM-killed instead. */
	signal(SIGPIPE, SIG_IGN);
	EXPECT_EQ(1, write(go[1], "g", 1));
	if (read(ready[0], &c, 1) == 1) {
		n = on_node(self, self->child, self->nid);
		EXPECT_EQ(0, n) {
			TH_LOG("%ld pages faulted onto SPM node %d after the change", n, self->nid);
		}
	} else {
		waitpid(self->child, &status, 0);
		self->child = 0;
		TH_LOG("child ended: %s", WIFSIGNALED(status) ? strsignal(WTERMSIG(status)) : "exit");
	}
	spm_snap(&b);
	spm_snap_log("cpuset change", &a, &b, 1LL << self->nid);
	EXPECT_GE(0, SNAP_DELTA(&a, &b, self->nid, K_ANON));
	if (self->child > 0) {
		kill(self->child, SIGKILL);
		waitpid(self->child, NULL, 0);
		self->child = 0;
	}
}

TEST_HARNESS_MAIN
