// SPDX-License-Identifier: GPL-2.0
/*
 * Filling the device's node: map more device memory than node 2 holds and
 * touch it page by page.  Every page that succeeds is on node 2; the first
 * fault after the node and the device's reserve are empty gets SIGBUS (no
 * fallback to SysRAM, no OOM kill: nodes 0 and 1 keep their free memory,
 * oom_kill does not move); the owner's pressure callback ran; closing the
 * file gives the node back, and the reserve its pages.
 */
#include <setjmp.h>
#include <signal.h>
#include <sys/mman.h>
#include "kselftest_harness.h"
#include "spm.h"
#include "spm_accel.h"

#define NODE		2
#define MAP_BYTES	(600UL << 20)	/* more than node 2's 512 MiB */
#define SLACK_KB	(32LL << 10)	/* page tables, device table, noise */
/*
 * Pages that may come free on the node after it filled up (per-CPU lists
 * drained, a page table or two): 256 was once exceeded by one page on the
 * debug kernel.  Still under 1% of the node.
 */
#define SLACK_PAGES	1024

/* A /proc/vmstat counter, or -1 (noted for SPM_GET) when it is missing. */
static long long vmstat(const char *key)
{
	char name[64];
	long long v;
	FILE *f = fopen("/proc/vmstat", "r");

	if (!f)
		return spm_miss(-1, "/proc/vmstat: %m");
	while (fscanf(f, "%63s %lld", name, &v) == 2) {
		if (!strcmp(name, key)) {
			fclose(f);
			return v;
		}
	}
	fclose(f);
	return spm_miss(-1, "no %s in /proc/vmstat", key);
}

/*
 * Pages in a node's per-cpu free lists (free, but not in MemFree), in kB;
 * -1 when /proc/zoneinfo shows no such lists for the node.
 */
static long long pcp_kb(int nid)
{
	char line[256];
	long long sum = 0, v;
	int cur = -1, n, found = 0;
	FILE *f = fopen("/proc/zoneinfo", "r");

	if (!f)
		return spm_miss(-1, "/proc/zoneinfo: %m");
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "Node %d, zone", &n) == 1)
			cur = n;
		else if (cur == nid && sscanf(line, " count: %lld", &v) == 1) {
			sum += v;
			found = 1;
		}
	}
	fclose(f);
	if (!found)
		return spm_miss(-1, "no per-cpu lists of node %d in /proc/zoneinfo", nid);
	return sum * (spm_page_size() / 1024);
}

/* Free memory of a node, per-cpu free lists included, in kB; -1: unknown. */
static long long free_kb(int nid)
{
	long long free = spm_node_meminfo(nid, "MemFree"), pcp = pcp_kb(nid);

	return free < 0 || pcp < 0 ? -1 : free + pcp;
}

static long long sysram_free_kb(void)
{
	long long f0 = free_kb(0), f1 = free_kb(1);

	return f0 < 0 || f1 < 0 ? -1 : f0 + f1;
}

static sigjmp_buf full_jmp;

static void on_sigbus(int sig)
{
	siglongjmp(full_jmp, 1);
}

FIXTURE(full) {};
FIXTURE_SETUP(full) {}
FIXTURE_TEARDOWN(full) {}

/* Faulting in 512 MiB under TCG takes a while. */
TEST_F_TIMEOUT(full, node_full_sigbus_without_fallback, 200)
{
	/* First: it loads the module when run alone, and its counters with it. */
	int fd = spm_accel_open();
	long ps = spm_page_size();
	long npages = MAP_BYTES / ps;
	long long free2 = SPM_GET(free_kb(NODE));
	long long sysram0, oom0 = SPM_GET(vmstat("oom_kill"));
	long long fail0 = spm_accel_counter("alloc_failures");
	long long pressure0 = spm_accel_counter("pressure");
	struct sigaction sa = { .sa_handler = on_sigbus };
	struct spm_accel_limit lim;
	volatile long touched = 0;
	long more;
	long long reserve_kb;
	char *p;

	ASSERT_LE(0, fd);
	ASSERT_LT(0, free2);
	ASSERT_LE(0, fail0);
	/* The device's reserve is not free memory, and the device gets it. */
	ASSERT_EQ(0, spm_accel_limit(fd, &lim, 0, 0));
	EXPECT_EQ(lim.reserve_size, lim.reserve_pages);
	reserve_kb = lim.reserve_pages * ps / 1024;
	p = mmap(NULL, MAP_BYTES, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	ASSERT_NE(MAP_FAILED, p);
	sysram0 = SPM_GET(sysram_free_kb());

	ASSERT_EQ(0, sigaction(SIGBUS, &sa, NULL));
	if (!sigsetjmp(full_jmp, 1)) {
		for (; touched < npages; touched++)
			p[touched * ps] = 1;
	}
	signal(SIGBUS, SIG_DFL);

	TH_LOG("node %d had %lld kB free, the device's reserve %lld kB; %ld pages (%ld kB) faulted in before SIGBUS",
	       NODE, free2, reserve_kb, touched, touched * ps / 1024);
	ASSERT_LT(touched, npages);
	/* The node really was full: nearly all its free memory was taken. */
	EXPECT_LE(free2 + reserve_kb - SLACK_KB, touched * ps / 1024);
	EXPECT_GE(free2 + reserve_kb, touched * ps / 1024);
	ASSERT_EQ(0, spm_accel_limit(fd, &lim, 0, 0));
	EXPECT_EQ(0, lim.reserve_pages);
	/* As the device sees them (move_pages() does not: VM_PFNMAP). */
	EXPECT_EQ(touched, spm_accel_pages_on_node(fd, 0, touched * ps, NODE));
	/* No fallback, no OOM kill. */
	EXPECT_GE(SLACK_KB, sysram0 - SPM_GET(sysram_free_kb()));
	EXPECT_EQ(oom0, SPM_GET(vmstat("oom_kill")));
	EXPECT_LT(fail0, spm_accel_counter("alloc_failures"));
	EXPECT_EQ(0, spm_accel_counter("misplaced"));
	EXPECT_LT(pressure0, spm_accel_counter("pressure"));
	/*
	 * Still full: new pages fail the same way within a few more (a
	 * page or two may come free meanwhile: per-CPU lists drained after
	 * the failure, slower on the debug kernel), mapped ones work.
	 */
	for (more = 1; more <= SLACK_PAGES; more++)
		if (spm_sigbus(p + (touched + more) * ps, 1))
			break;
	TH_LOG("the next SIGBUS came %ld page(s) further", more);
	EXPECT_GE(SLACK_PAGES, more);
	EXPECT_EQ(0, spm_sigbus(p, 1));
	/* A hand-over that needs more new pages than can be free fails cleanly. */
	EXPECT_EQ(-ENOMEM, spm_accel_range(fd, SPM_ACCEL_IOC_TO_DEVICE,
					   (touched + more + 1) * ps,
					   2 * SLACK_PAGES * ps));

	munmap(p, MAP_BYTES);
	close(fd);
	/* Everything comes back, the reserve first. */
	EXPECT_LE(free2 - 1024, SPM_GET(free_kb(NODE)));
	fd = spm_accel_open();
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, spm_accel_limit(fd, &lim, 0, 0));
	EXPECT_EQ(lim.reserve_size, lim.reserve_pages);
	close(fd);
}

TEST_HARNESS_MAIN
