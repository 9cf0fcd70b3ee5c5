// SPDX-License-Identifier: GPL-2.0
/*
 * Memory failure on an SPM node (node 2, owned by spm_test_owner with user
 * and migration; CONFIG_MEMORY_FAILURE):
 *
 *   MADV_HWPOISON of a page bound to node 2 (in a child, which the kernel
 *   may kill with SIGBUS): the owner's memory_failure callback is called
 *   once, with that page's PFN, the flags of the injection and result 0
 *   (isolated); the page is counted in HardwareCorrupted
 *   MADV_SOFT_OFFLINE of a page bound to node 2: the contents move to a
 *   SysRAM node, intact; the owner hears it once, with MF_SOFT_OFFLINE,
 *   and memory_failure is not counted for it
 *   MADV_HWPOISON of a page on SysRAM: the owner of node 2 hears nothing
 *
 * Without the callback, the owner of a node never learnt of a poisoned
 * page: such a page is never freed, so pages_freed() never comes.
 *
 * The poisoned pages stay out of use until the VM ends (one on node 2, one
 * on node 0): the suite's later programs do not count on every page.
 */
#include <signal.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include "kselftest_harness.h"
#include "services.h"

#ifndef MADV_HWPOISON
#define MADV_HWPOISON		100
#endif
#ifndef MADV_SOFT_OFFLINE
#define MADV_SOFT_OFFLINE	101
#endif
/* include/linux/mm.h, enum mf_flags */
#define MF_ACTION_REQUIRED	(1 << 1)
#define MF_SOFT_OFFLINE		(1 << 3)
#define MF_SW_SIMULATED		(1 << 5)

#define NPAGES	16
#define LEN	(NPAGES * PAGE)

FIXTURE(mf) {
	char *p;
};

FIXTURE_SETUP(mf)
{
	self->p = NULL;
	owner_unload();
}

FIXTURE_TEARDOWN(mf)
{
	if (self->p)
		munmap(self->p, LEN);
	owner_unload();
}

struct poison_job {
	int nid;		/* bind the region here, -1: node 0 */
	long long *pfn;		/* shared with the parent */
};

/* Child: map, fill, report the PFN of page 3, poison it. */
static int poison_child(void *arg)
{
	struct poison_job *job = arg;
	char *p = job->nid >= 0 ? map_bound(LEN, job->nid) : map_bound(LEN, 0);

	if (p == MAP_FAILED)
		return 10;
	spm_fill(p, LEN, 7);
	*job->pfn = page_pfn(p + 3 * PAGE);
	if (*job->pfn <= 0)
		return 11;
	if (spm_node_of(p + 3 * PAGE) != (job->nid >= 0 ? job->nid : 0))
		return 12;
	if (madvise(p + 3 * PAGE, PAGE, MADV_HWPOISON))
		return 13;
	return 0;
}

/* "pfn flags result" of the owner's last_failure file. */
static int last_failure(long long *pfn, int *flags, int *result)
{
	char buf[96];

	if (owner_last("last_failure", buf, sizeof(buf)) <= 0)
		return -1;
	return sscanf(buf, "%llx %x %d", pfn, flags, result) == 3 ? 0 : -1;
}

TEST_F(mf, hwpoison_on_node2_reaches_the_owner)
{
	long long *pfn = shared_page(), got_pfn, hc0, hc1;
	struct poison_job job = { .nid = SPM_NID, .pfn = pfn };
	int status, flags, result;

	ASSERT_NE(NULL, pfn);
	ASSERT_EQ(0, owner_load("caps=user,migration"));
	hc0 = SPM_GET(spm_meminfo("HardwareCorrupted"));
	status = run_child(poison_child, &job);
	printf("# child: %s %d; page 3 at pfn %#llx\n",
	       WIFEXITED(status) ? "exit" : "signal",
	       WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status), *pfn);
	/* It exits 0, or dies of SIGBUS (MF_ACTION_REQUIRED kills the user). */
	ASSERT_TRUE((WIFEXITED(status) && WEXITSTATUS(status) == 0) ||
		    (WIFSIGNALED(status) && WTERMSIG(status) == SIGBUS));
	ASSERT_LT(0, *pfn);

	EXPECT_EQ(1, SPM_GET(owner_get("memory_failure")));
	EXPECT_EQ(0, SPM_GET(owner_get("soft_offline")));
	ASSERT_EQ(0, last_failure(&got_pfn, &flags, &result));
	printf("# last_failure: pfn %#llx flags %#x result %d\n", got_pfn,
	       flags, result);
	EXPECT_EQ(*pfn, got_pfn);
	EXPECT_TRUE(flags & MF_SW_SIMULATED);
	EXPECT_TRUE(flags & MF_ACTION_REQUIRED);
	EXPECT_FALSE(flags & MF_SOFT_OFFLINE);
	EXPECT_EQ(0, result);
	hc1 = SPM_GET(spm_meminfo("HardwareCorrupted"));
	EXPECT_EQ(hc0 + PAGE / 1024, hc1);
	munmap(pfn, PAGE);
}

TEST_F(mf, soft_offline_on_node2_moves_the_data_and_reaches_the_owner)
{
	long long pfn, got_pfn, arrived_same = -1, sysram;
	int flags, result, node;

	ASSERT_EQ(0, owner_load("caps=user,migration"));
	self->p = map_bound(LEN, SPM_NID);
	ASSERT_NE(MAP_FAILED, self->p) {
		self->p = NULL;
	}
	spm_fill(self->p, LEN, 8);
	ASSERT_EQ(NPAGES, spm_pages_on_node(self->p, LEN, SPM_NID));
	pfn = SPM_GET(page_pfn(self->p + 5 * PAGE));

	ASSERT_EQ(0, madvise(self->p + 5 * PAGE, PAGE, MADV_SOFT_OFFLINE)) {
		TH_LOG("MADV_SOFT_OFFLINE: %s", strerror(errno));
	}
	node = spm_node_of(self->p + 5 * PAGE);
	printf("# page 5 (pfn %#llx) after soft offline: node %d, pfn %#llx\n",
	       pfn, node, page_pfn(self->p + 5 * PAGE));
	EXPECT_EQ(0, spm_verify(self->p, LEN, 8));
	/* Where any soft offline sends it: a SysRAM node, not an SPM one. */
	sysram = SPM_GET(spm_sysfs_nodemask("has_memory")) &
		 ~SPM_GET(spm_sysfs_nodemask("has_spm_memory"));
	EXPECT_TRUE(node >= 0 && node < 64 && (sysram & (1LL << node))) {
		TH_LOG("node %d, SysRAM nodes %#llx", node, sysram);
	}
	EXPECT_NE(pfn, page_pfn(self->p + 5 * PAGE));
	EXPECT_EQ(NPAGES - 1, spm_pages_on_node(self->p, LEN, SPM_NID));

	EXPECT_EQ(1, SPM_GET(owner_get("soft_offline")));
	EXPECT_EQ(0, SPM_GET(owner_get("memory_failure")));
	ASSERT_EQ(0, last_failure(&got_pfn, &flags, &result));
	EXPECT_EQ(pfn, got_pfn);
	EXPECT_TRUE(flags & MF_SOFT_OFFLINE);
	EXPECT_EQ(0, result);
	/* It left the node: no arrival there. */
	EXPECT_EQ(0, SPM_GET(owner_arrived("memory_failure", &arrived_same)));
}

TEST_F(mf, hwpoison_on_sysram_is_not_reported)
{
	long long *pfn = shared_page();
	struct poison_job job = { .nid = -1, .pfn = pfn };
	char buf[96];
	int status;

	ASSERT_NE(NULL, pfn);
	ASSERT_EQ(0, owner_load("caps=user,migration"));
	status = run_child(poison_child, &job);
	ASSERT_TRUE((WIFEXITED(status) && WEXITSTATUS(status) == 0) ||
		    (WIFSIGNALED(status) && WTERMSIG(status) == SIGBUS)) {
		TH_LOG("child status %#x", status);
	}
	EXPECT_EQ(0, SPM_GET(owner_get("memory_failure")));
	EXPECT_EQ(0, SPM_GET(owner_get("soft_offline")));
	ASSERT_LT(0, owner_last("last_failure", buf, sizeof(buf)));
	EXPECT_STREQ("none", buf);
	munmap(pfn, PAGE);
}

TEST_HARNESS_MAIN
