// SPDX-License-Identifier: GPL-2.0
/*
 * The OOM killer when SPM nodes run out: a request bound to SPM node 2
 * (permitted, no swap) that node 2 cannot satisfy must kill a task that
 * holds memory there, never a task that never asked for SPM memory,
 * however attractive its oom_score_adj makes it.
 *
 *   bystander: default policy, 32M on SysRAM, oom_score_adj 1000
 *   hog:       binds to node 2 (task policy, or mbind of its range) and
 *              writes 64M more than node 2 has free
 *   -> the hog is killed (SIGKILL), the bystander lives
 *
 *   holder:    default policy, 96M moved to node 2 with move_pages(2),
 *              oom_score_adj 1000
 *   hog:       writes 32M more than node 2 has free
 *   -> the holder is killed, and the hog then finishes on node 2 with its
 *      data intact: a task that placed memory there itself is a candidate
 *
 * Without the SPM rule the bystander is the first victim: killing it frees
 * nothing on node 2.
 *
 * And the other way round, an OOM on SysRAM node 0 ranks tasks without
 * what they hold on SPM nodes:
 *
 *   holder:    256M moved to node 2 with move_pages(2), oom_score_adj 1000
 *   bystander: binds to node 0, 128M there, oom_score_adj 1000
 *   hog:       binds to node 0 and writes 48M more than node 0 can give
 *   -> the bystander is killed and the hog finishes; the holder, whose
 *      memory is on node 2 where it is of no use to the hog, lives.
 *      Ranked by whole footprint the holder goes first, for nothing.
 *
 * And an OOM on node 2 ranks the candidates by what they hold on SPM
 * nodes, not by their whole footprint:
 *
 *   large:     8M bound (mbind) to node 2, then 128M more on SysRAM than
 *              node 2 has free; oom_score_adj as the hog's (0)
 *   hog:       binds to node 2 and writes 64M more than node 2 has free
 *   -> the hog, which holds nearly all of node 2, is killed; the large
 *      task lives with its data and its pages where they were.  Ranked by
 *      whole footprint the large task goes first and frees only 8M there.
 */
#include <signal.h>
#include <sys/wait.h>
#include "kselftest_harness.h"
#include "spm_perm.h"

#define MB (1UL << 20)
#define NP(len) ((long)((len) / 4096))

/* What the children report through a shared page. */
struct oom_report {
	int ready;		/* bystander/holder: memory in place */
	long holder_on_a;	/* holder: pages on node 2 after move_pages */
	long hog_on_a;		/* hog (if it finishes): pages on node 2 */
	long hog_bad;		/* hog: pages whose pattern is wrong */
	int check;		/* large: verify and count now */
	int checked;		/* large: done */
	size_t large_len;	/* large: its SysRAM buffer */
	long large_on_a;	/* large: pages of its node-2 buffer on node 2 */
	long large_on_sys;	/* large: pages of the other on nodes 0-1 */
	long large_bad;		/* large: pages whose pattern is wrong */
};

enum { C_OK, C_POLICY, C_MAP, C_MOVE };
enum hog_kind { HOG_TASK_POLICY, HOG_VMA_POLICY, HOG_SYSRAM };

FIXTURE(oom) {
	struct perm_saved saved;
	struct oom_report *r;
	pid_t idle;		/* bystander or holder */
	pid_t other;		/* a second idle task */
	pid_t hog;		/* while it runs */
	pid_t hog_pid;
};

FIXTURE_SETUP(oom)
{
	perm_save(&self->saved);
	ASSERT_LE(0, self->saved.a);
	self->idle = self->other = self->hog = 0;
	/* Without swap, a full node 2 cannot be reclaimed: the OOM killer. */
	ASSERT_EQ(0, system("spm-setup-swap --off > /dev/null"));
	ASSERT_EQ(0, perm_allow(PERM_A, 1));
	self->r = mmap(NULL, 4096, PROT_READ | PROT_WRITE,
		       MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, self->r);
	memset(self->r, 0, sizeof(*self->r));
}

FIXTURE_TEARDOWN(oom)
{
	if (self->hog > 0) {
		kill(self->hog, SIGKILL);
		waitpid(self->hog, NULL, 0);
	}
	if (self->idle > 0) {
		kill(self->idle, SIGKILL);
		waitpid(self->idle, NULL, 0);
	}
	if (self->other > 0) {
		kill(self->other, SIGKILL);
		waitpid(self->other, NULL, 0);
	}
	perm_restore(&self->saved);
}

/*
 * Default policy (bound to node 0 if bind0), len on SysRAM (or moved to
 * node 2), then wait to be killed.
 */
static int idle_child(struct oom_report *r, size_t len, int move_to_a,
		      int bind0)
{
	unsigned long m0 = 1UL << 0;
	long counts[SPM_MAXN + 1];
	char *p;

	spm_write_file("/proc/self/oom_score_adj", "1000");
	if (bind0 && spm_set_mempolicy(MPOL_BIND, &m0, PERM_MAXNODE))
		return C_POLICY;
	p = spm_anon(len);
	if (!p)
		return C_MAP;
	spm_fill(p, len, 95);
	if (move_to_a) {
		long i, n = NP(len);
		void **pages = calloc(n, sizeof(*pages));
		int *nodes = calloc(n, sizeof(*nodes));
		int *status = calloc(n, sizeof(*status));

		if (!pages || !nodes || !status)
			return C_MAP;
		for (i = 0; i < n; i++) {
			pages[i] = p + i * 4096;
			nodes[i] = PERM_A;
		}
		if (spm_move_pages(0, n, pages, nodes, status, MPOL_MF_MOVE))
			return C_MOVE;
	}
	spm_count_pages(p, len, counts);
	r->holder_on_a = counts[move_to_a ? PERM_A : 0];
	__atomic_store_n(&r->ready, 1, __ATOMIC_SEQ_CST);
	for (;;)
		pause();
	return C_OK;
}

/*
 * Bind to node 2 (node 0 for HOG_SYSRAM) and write len: killed, or
 * reports where its pages are.
 */
static int hog_child(struct oom_report *r, size_t len, enum hog_kind kind)
{
	int nid = kind == HOG_SYSRAM ? 0 : PERM_A;
	unsigned long m = 1UL << nid;
	long counts[SPM_MAXN + 1];
	char *p;

	if (kind != HOG_VMA_POLICY &&
	    spm_set_mempolicy(MPOL_BIND, &m, PERM_MAXNODE))
		return C_POLICY;
	p = spm_anon(len);
	if (!p)
		return C_MAP;
	if (kind == HOG_VMA_POLICY &&
	    spm_mbind(p, len, MPOL_BIND, &m, PERM_MAXNODE, 0))
		return C_POLICY;
	spm_fill(p, len, 96);
	r->hog_bad = spm_verify(p, len, 96);
	spm_count_pages(p, len, counts);
	r->hog_on_a = counts[nid];
	return C_OK;
}

/* Wait up to 60 s for a flag a child sets: 1 once set, else 0. */
static int wait_flag(int *flag)
{
	int i;

	for (i = 0; i < 600 * spm_timeout_scale() && !__atomic_load_n(flag, __ATOMIC_SEQ_CST); i++)
		usleep(100000);
	return __atomic_load_n(flag, __ATOMIC_SEQ_CST);
}

/* Where the large task's pages are, and whether they hold their pattern. */
static void large_count(struct oom_report *r, char *s, size_t spm_len,
			char *big)
{
	long counts[SPM_MAXN + 1];

	r->large_bad = spm_verify(s, spm_len, 97) +
		       spm_verify(big, r->large_len, 98);
	spm_count_pages(s, spm_len, counts);
	r->large_on_a = counts[PERM_A];
	spm_count_pages(big, r->large_len, counts);
	r->large_on_sys = counts[0] + counts[1];
}

/*
 * spm_len bound to node 2 (which makes this task a candidate of an OOM
 * there), then extra more than node 2 has left free on SysRAM (default
 * policy): more in all than a task can hold on node 2.  Reports, and again
 * when asked, then waits to be killed.
 */
static int large_child(struct oom_report *r, size_t spm_len, size_t extra)
{
	unsigned long m = 1UL << PERM_A;
	char *s, *big;

	s = spm_anon(spm_len);
	if (!s)
		return C_MAP;
	if (spm_mbind(s, spm_len, MPOL_BIND, &m, PERM_MAXNODE, 0))
		return C_POLICY;
	spm_fill(s, spm_len, 97);
	r->large_len = (size_t)spm_node_meminfo(PERM_A, "MemFree") * 1024 + extra;
	big = spm_anon(r->large_len);
	if (!big)
		return C_MAP;
	spm_fill(big, r->large_len, 98);
	large_count(r, s, spm_len, big);
	__atomic_store_n(&r->ready, 1, __ATOMIC_SEQ_CST);
	while (!__atomic_load_n(&r->check, __ATOMIC_SEQ_CST))
		usleep(10000);
	large_count(r, s, spm_len, big);
	__atomic_store_n(&r->checked, 1, __ATOMIC_SEQ_CST);
	for (;;)
		pause();
	return C_OK;
}

static pid_t start_idle(struct __test_metadata *_metadata,
			struct oom_report *r, size_t len, int move_to_a,
			int bind0)
{
	pid_t pid;
	int i;

	__atomic_store_n(&r->ready, 0, __ATOMIC_SEQ_CST);
	fflush(stdout);
	pid = fork();
	if (!pid)
		_exit(idle_child(r, len, move_to_a, bind0));
	for (i = 0; pid > 0 && i < 600 * spm_timeout_scale() && !__atomic_load_n(&r->ready, __ATOMIC_SEQ_CST); i++)
		usleep(100000);
	EXPECT_EQ(1, r->ready);
	return pid;
}

static int run_hog(struct oom_report *r, size_t len, enum hog_kind kind,
		   pid_t *hog, pid_t *hog_pid)
{
	int status = -1;

	fflush(stdout);
	*hog_pid = *hog = fork();
	if (!*hog) {
		int rc = hog_child(r, len, kind);

		fflush(stdout);
		_exit(rc);
	}
	if (*hog > 0 && waitpid(*hog, &status, 0) == *hog)
		*hog = 0;
	return status;
}

static void log_status(const char *who, int st)
{
	printf("# %s: %s %d\n", who, WIFSIGNALED(st) ? "killed by signal" : "exit",
	       WIFSIGNALED(st) ? WTERMSIG(st) : WEXITSTATUS(st));
}

/*
 * Whether pid has died within a few seconds (an OOM victim exits soon
 * after the allocation it was killed for succeeds): 1 and its wait status,
 * reaped, or 0 while it lives.
 */
static int reap_if_dead(pid_t pid, int *st)
{
	int i;

	for (i = 0; i < 50; i++) {
		if (waitpid(pid, st, WNOHANG) == pid)
			return 1;
		usleep(100000);
	}
	return 0;
}

/* Whether the kernel log says the OOM killer killed pid. */
static int oom_killed(pid_t pid)
{
	char *log = spm_kernel_log(), pat[64];
	int found;

	if (!log)
		return -1;
	snprintf(pat, sizeof(pat), "Killed process %d (", pid);
	found = strstr(log, pat) != NULL;
	free(log);
	return found;
}

static void bystander_survives(struct __test_metadata *_metadata,
			       FIXTURE_DATA(oom) *self, enum hog_kind kind)
{
	size_t len = (size_t)spm_node_meminfo(PERM_A, "MemFree") * 1024 + 64 * MB;
	pid_t bystander;
	int st, bst;

	/* Otherwise the allocating hog is killed whatever the rule. */
	ASSERT_EQ(0, spm_read_ll("/proc/sys/vm/oom_kill_allocating_task"));
	self->idle = start_idle(_metadata, self->r, 32 * MB, 0, 0);
	bystander = self->idle;
	ASSERT_LT(0, self->idle);
	ASSERT_EQ(1, self->r->ready);
	st = run_hog(self->r, len, kind, &self->hog, &self->hog_pid);
	log_status("hog", st);
	ASSERT_TRUE(WIFSIGNALED(st)) {
		TH_LOG("the hog wrote %zu MiB bound to node 2 and was not killed",
		       len >> 20);
	}
	EXPECT_EQ(SIGKILL, WTERMSIG(st));
	if (reap_if_dead(self->idle, &bst)) {
		log_status("bystander", bst);
		self->idle = 0;
	}
	EXPECT_NE(0, self->idle) {
		TH_LOG("the bystander, which holds nothing on node 2, was killed");
	}
	EXPECT_EQ(0, oom_killed(bystander)) {
		TH_LOG("the kernel log names the bystander (pid %d) an OOM victim",
		       bystander);
	}
	EXPECT_EQ(1, oom_killed(self->hog_pid));
}

TEST_F_TIMEOUT(oom, task_policy_hog_is_killed_not_the_bystander, 240)
{
	bystander_survives(_metadata, self, HOG_TASK_POLICY);
}

TEST_F_TIMEOUT(oom, vma_policy_hog_is_killed_not_the_bystander, 240)
{
	bystander_survives(_metadata, self, HOG_VMA_POLICY);
}

TEST_F_TIMEOUT(oom, move_pages_holder_is_a_candidate, 240)
{
	size_t hold = 96 * MB, len;
	int st, hst;

	self->idle = start_idle(_metadata, self->r, hold, 1, 0);
	ASSERT_LT(0, self->idle);
	ASSERT_EQ(1, self->r->ready);
	printf("# holder: %ld of %ld pages on node %d\n", self->r->holder_on_a,
	       NP(hold), PERM_A);
	ASSERT_LT(NP(hold) * 9 / 10, self->r->holder_on_a);
	len = (size_t)spm_node_meminfo(PERM_A, "MemFree") * 1024 + 32 * MB;
	st = run_hog(self->r, len, HOG_TASK_POLICY, &self->hog, &self->hog_pid);
	log_status("hog", st);
	ASSERT_TRUE(reap_if_dead(self->idle, &hst)) {
		TH_LOG("the holder of %ld node-2 pages was not killed",
		       self->r->holder_on_a);
	}
	self->idle = 0;
	log_status("holder", hst);
	EXPECT_TRUE(WIFSIGNALED(hst) && WTERMSIG(hst) == SIGKILL);
	ASSERT_TRUE(WIFEXITED(st));
	EXPECT_EQ(C_OK, WEXITSTATUS(st));
	EXPECT_EQ(0, self->r->hog_bad);
	EXPECT_EQ(NP(len), self->r->hog_on_a);
}

TEST_F_TIMEOUT(oom, sysram_oom_passes_over_memory_on_spm_nodes, 300)
{
	size_t hold = 256 * MB, mine = 128 * MB, len;
	long long free0, file0;
	long held;
	int st, bst, hst;

	ASSERT_EQ(0, spm_read_ll("/proc/sys/vm/oom_kill_allocating_task"));
	self->idle = start_idle(_metadata, self->r, hold, 1, 0);
	ASSERT_LT(0, self->idle);
	ASSERT_EQ(1, self->r->ready);
	held = self->r->holder_on_a;
	printf("# holder: %ld of %ld pages on node %d\n", held, NP(hold), PERM_A);
	ASSERT_LT(NP(hold) * 9 / 10, held);
	self->other = start_idle(_metadata, self->r, mine, 0, 1);
	ASSERT_LT(0, self->other);
	ASSERT_EQ(1, self->r->ready);
	printf("# bystander: %ld of %ld pages on node 0\n",
	       self->r->holder_on_a, NP(mine));
	ASSERT_LT(NP(mine) * 9 / 10, self->r->holder_on_a);

	/* More than node 0 has free or can reclaim; less than it then frees. */
	free0 = SPM_GET(spm_node_meminfo(0, "MemFree"));
	file0 = SPM_GET(spm_node_meminfo(0, "Active(file)")) +
		SPM_GET(spm_node_meminfo(0, "Inactive(file)"));
	len = (size_t)(free0 + file0) * 1024 + 48 * MB;
	printf("# node 0: MemFree %lld kB, file LRU %lld kB; the hog writes %zu MiB\n",
	       free0, file0, len >> 20);
	st = run_hog(self->r, len, HOG_SYSRAM, &self->hog, &self->hog_pid);
	log_status("hog", st);
	ASSERT_TRUE(reap_if_dead(self->other, &bst)) {
		TH_LOG("node 0 did not run out: the bystander was not killed");
	}
	log_status("bystander", bst);
	EXPECT_TRUE(WIFSIGNALED(bst) && WTERMSIG(bst) == SIGKILL);
	EXPECT_EQ(1, oom_killed(self->other));
	self->other = 0;
	if (reap_if_dead(self->idle, &hst)) {
		log_status("holder", hst);
		self->idle = 0;
	}
	EXPECT_NE(0, self->idle) {
		TH_LOG("the holder was killed for a SysRAM OOM: its %ld pages on node %d could not help",
		       held, PERM_A);
	}
	if (self->idle)
		EXPECT_EQ(0, oom_killed(self->idle)) {
			TH_LOG("the kernel log names the holder (pid %d) an OOM victim",
			       self->idle);
		}
	ASSERT_TRUE(WIFEXITED(st)) {
		TH_LOG("the hog did not finish after the bystander's kill");
	}
	EXPECT_EQ(C_OK, WEXITSTATUS(st));
	EXPECT_EQ(0, self->r->hog_bad);
	EXPECT_EQ(NP(len), self->r->hog_on_a);
}

TEST_F_TIMEOUT(oom, spm_oom_ranks_by_memory_on_spm_nodes, 240)
{
	size_t spm = 8 * MB, len;
	long long need, sys_free;
	pid_t large;
	int st, lst;

	ASSERT_EQ(0, spm_read_ll("/proc/sys/vm/oom_kill_allocating_task"));
	/* Both tasks inherit it: only their memory tells them apart. */
	ASSERT_EQ(0, spm_read_ll("/proc/self/oom_score_adj"));
	need = SPM_GET(spm_node_meminfo(PERM_A, "MemFree")) + 128 * 1024;
	sys_free = SPM_GET(spm_node_meminfo(0, "MemFree")) +
		   SPM_GET(spm_node_meminfo(1, "MemFree"));
	ASSERT_LT(need + 256 * 1024, sys_free) {
		TH_LOG("nodes 0-1 have %lld kB free, the large task needs %lld",
		       sys_free, need);
	}
	fflush(stdout);
	self->idle = large = fork();
	if (!large)
		_exit(large_child(self->r, spm, 128 * MB));
	ASSERT_LT(0, large);
	ASSERT_EQ(1, wait_flag(&self->r->ready));
	printf("# large: %ld of %ld pages on node %d, %ld of %ld on nodes 0-1\n",
	       self->r->large_on_a, NP(spm), PERM_A, self->r->large_on_sys,
	       NP(self->r->large_len));
	ASSERT_EQ(NP(spm), self->r->large_on_a);
	ASSERT_EQ(NP(self->r->large_len), self->r->large_on_sys);
	ASSERT_EQ(0, self->r->large_bad);

	len = (size_t)spm_node_meminfo(PERM_A, "MemFree") * 1024 + 64 * MB;
	printf("# the hog writes %zu MiB bound to node %d\n", len >> 20, PERM_A);
	st = run_hog(self->r, len, HOG_TASK_POLICY, &self->hog, &self->hog_pid);
	log_status("hog", st);
	ASSERT_TRUE(WIFSIGNALED(st)) {
		TH_LOG("the hog wrote %zu MiB bound to node 2 and was not killed",
		       len >> 20);
	}
	EXPECT_EQ(SIGKILL, WTERMSIG(st));
	EXPECT_EQ(1, oom_killed(self->hog_pid));
	if (reap_if_dead(self->idle, &lst)) {
		log_status("large", lst);
		self->idle = 0;
	}
	EXPECT_EQ(0, oom_killed(large)) {
		TH_LOG("the kernel log names the large task (pid %d) an OOM victim: ranked by its %zu MiB in all, not its %zu MiB on node 2",
		       large, (spm + self->r->large_len) >> 20, spm >> 20);
	}
	ASSERT_NE(0, self->idle) {
		TH_LOG("the large task, %ld pages on node 2, was killed",
		       self->r->large_on_a);
	}

	/* It lives with its data, its pages where they were. */
	__atomic_store_n(&self->r->check, 1, __ATOMIC_SEQ_CST);
	ASSERT_EQ(1, wait_flag(&self->r->checked));
	printf("# large after the OOM: %ld pages on node %d, %ld on nodes 0-1, %ld corrupt\n",
	       self->r->large_on_a, PERM_A, self->r->large_on_sys,
	       self->r->large_bad);
	EXPECT_EQ(0, self->r->large_bad);
	EXPECT_EQ(NP(spm), self->r->large_on_a);
	EXPECT_EQ(NP(self->r->large_len), self->r->large_on_sys);
}

TEST_HARNESS_MAIN
