// SPDX-License-Identifier: GPL-2.0
/*
 * Compaction gives way to memory offline.
 *
 * Memory offline poisons the memmap of the range it removes, and the
 * compaction scanners read struct pages without references: a
 * compact_memory write racing an offline of a block of node 2 (whose
 * folios migrate to node 2's other blocks, in the same zone) oopsed in
 * isolate_migratepages_block() -> set_pageblock_skip() within a minute of
 * the soak (soak/repro-offline-compaction.sh).  The series makes explicit
 * and background compaction skip while memory hotplug runs.
 *
 * Made deterministic here: a region bound to node 2 (owner with user and
 * migration), one of its pages held by a pipe (vmsplice), so that offline
 * of its block keeps retrying that page; while the offline runs
 * ("going-offline" in sysfs), a write to /proc/sys/vm/compact_memory must
 * scan nothing (compact_migrate_scanned and compact_free_scanned in
 * /proc/vmstat unchanged) and return.  Then the offline is interrupted
 * (SIGKILL to the writer: -EINTR), the block is online again and every
 * page of the region holds its data.  The same compact_memory write with
 * no offline running does scan (the counters can move: the check can
 * fail).
 */
#include <fcntl.h>
#include <signal.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include "kselftest_harness.h"
#include "services.h"

#define NPAGES		1024
#define LEN		(NPAGES * PAGE)
#define MEMSYS		"/sys/devices/system/memory"

FIXTURE(oc) {
	char *p;
	int pipe[2];
	pid_t writer;
	long block;
};

FIXTURE_SETUP(oc)
{
	self->p = NULL;
	self->pipe[0] = self->pipe[1] = -1;
	self->writer = 0;
	self->block = -1;
	owner_unload();
}

FIXTURE_TEARDOWN(oc)
{
	char path[128];

	if (self->writer > 0) {
		kill(self->writer, SIGKILL);
		waitpid(self->writer, NULL, 0);
	}
	if (self->pipe[0] >= 0) {
		close(self->pipe[0]);
		close(self->pipe[1]);
	}
	if (self->block >= 0) {
		snprintf(path, sizeof(path), MEMSYS "/memory%ld/state", self->block);
		spm_write_file(path, "online");
	}
	if (self->p)
		munmap(self->p, LEN);
	owner_unload();
}

static long long pfn_of(void *addr)
{
	int fd = open("/proc/self/pagemap", O_RDONLY);
	uint64_t e = 0;

	if (fd < 0)
		return -errno;
	if (pread(fd, &e, sizeof(e), (uintptr_t)addr / PAGE * sizeof(e)) != sizeof(e))
		e = 0;
	close(fd);
	return e >> 63 ? (long long)(e & ((1ULL << 55) - 1)) : -1;
}

static int block_state(long b, char *buf, size_t size)
{
	char path[128];

	snprintf(path, sizeof(path), MEMSYS "/memory%ld/state", b);
	return spm_read_file(path, buf, size);
}

/* compact_migrate_scanned + compact_free_scanned */
static long long scanned(struct __test_metadata *_metadata)
{
	long long m = SPM_GET(spm_vmstat("compact_migrate_scanned"));
	long long f = SPM_GET(spm_vmstat("compact_free_scanned"));

	return m + f;
}

TEST_F_TIMEOUT(oc, compact_memory_skips_while_offline_runs, 240)
{
	char buf[64], path[128];
	long long pfn, block_pages, s0, s1, s2;
	struct iovec iov;
	int i, status;

	ASSERT_EQ(0, owner_load("caps=user,migration"));
	self->p = map_bound(LEN, SPM_NID);
	ASSERT_NE(MAP_FAILED, self->p) {
		self->p = NULL;
	}
	spm_fill(self->p, LEN, 35);
	ASSERT_EQ(NPAGES, spm_pages_on_node(self->p, LEN, SPM_NID));

	ASSERT_LT(0, spm_read_file(MEMSYS "/block_size_bytes", buf, sizeof(buf)));
	block_pages = strtoll(buf, NULL, 16) / PAGE;
	ASSERT_LT(0, block_pages);
	pfn = pfn_of(self->p);
	ASSERT_LE(0, pfn);
	self->block = pfn / block_pages;
	ASSERT_LT(0, block_state(self->block, buf, sizeof(buf)));
	TH_LOG("page 0 at pfn %#llx, memory block %ld (%s)", pfn, self->block, buf);
	ASSERT_STREQ("online", buf);

	/* Compaction does scan when nothing else runs. */
	s0 = scanned(_metadata);
	ASSERT_EQ(0, spm_write_file("/proc/sys/vm/compact_memory", "1"));
	s1 = scanned(_metadata);
	TH_LOG("compact_memory alone: %lld pages scanned", s1 - s0);
	ASSERT_LT(s0, s1);

	/* The pipe holds page 0: its migration fails until it lets go. */
	ASSERT_EQ(0, pipe(self->pipe));
	iov.iov_base = self->p;
	iov.iov_len = PAGE;
	ASSERT_EQ(PAGE, vmsplice(self->pipe[1], &iov, 1, 0));

	self->writer = fork();
	ASSERT_LE(0, self->writer);
	if (!self->writer) {
		snprintf(path, sizeof(path), MEMSYS "/memory%ld/state", self->block);
		_exit(spm_write_file(path, "offline") ? 1 : 0);
	}
	for (i = 0; i < 200; i++) {
		if (block_state(self->block, buf, sizeof(buf)) > 0 &&
		    !strcmp(buf, "going-offline"))
			break;
		usleep(50000);
	}
	ASSERT_STREQ("going-offline", buf);
	sleep(1);			/* well inside offline_pages() */
	ASSERT_EQ(0, waitpid(self->writer, &status, WNOHANG)) {
		TH_LOG("the offline ended although the pipe holds page 0");
	}

	s1 = scanned(_metadata);
	ASSERT_EQ(0, spm_write_file("/proc/sys/vm/compact_memory", "1"));
	s2 = scanned(_metadata);
	TH_LOG("compact_memory during the offline: %lld pages scanned", s2 - s1);
	EXPECT_EQ(s1, s2) {
		TH_LOG("compaction scanned zones while memory offline was removing a block");
	}

	kill(self->writer, SIGKILL);
	ASSERT_EQ(self->writer, waitpid(self->writer, &status, 0));
	self->writer = 0;
	ASSERT_LT(0, block_state(self->block, buf, sizeof(buf)));
	EXPECT_STREQ("online", buf);
	EXPECT_EQ(0, spm_verify(self->p, LEN, 35));
	EXPECT_EQ(NPAGES, spm_pages_on_node(self->p, LEN, SPM_NID));
}

TEST_HARNESS_MAIN
