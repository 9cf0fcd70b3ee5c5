// SPDX-License-Identifier: GPL-2.0
/*
 * Smoke test: the guest has the standard topology of tools/spm-vm.
 *
 *   node 0: 1G, cpu 0      node 2: 512M, no cpu, at 0x100000000
 *   node 1: 1G, cpu 1      node 3: 512M legacy pmem at 0x120000000, no cpu,
 *                                  no memory until dax/kmem onlines it
 */
#include <fcntl.h>
#include <sys/mman.h>
#include "kselftest_harness.h"
#include "spm.h"

#define MiB (1024LL)	/* meminfo is in KiB */

static long long memory_block_size(void)
{
	char buf[64];

	if (spm_read_file("/sys/devices/system/memory/block_size_bytes", buf, sizeof(buf)) < 0)
		return -1;
	return strtoll(buf, NULL, 16);
}

/* Lowest and highest memory block index of a node, from nodeN/memoryM links. */
static int node_block_range(int nid, long *lo, long *hi)
{
	char path[128];
	int i, found = 0;

	*lo = -1;
	*hi = -1;
	for (i = 0; i < 4096; i++) {
		snprintf(path, sizeof(path), SPM_NODE_SYSFS "/node%d/memory%d", nid, i);
		if (access(path, F_OK))
			continue;
		if (*lo < 0)
			*lo = i;
		*hi = i;
		found++;
	}
	return found;
}

TEST(possible_nodes_are_0_to_3)
{
	char buf[64];

	ASSERT_LT(0, spm_read_file(SPM_NODE_SYSFS "/possible", buf, sizeof(buf)));
	EXPECT_STREQ("0-3", buf);
}

TEST(nodes_0_1_2_online_with_memory)
{
	long long online = spm_sysfs_nodemask("online");
	long long mem = spm_sysfs_nodemask("has_memory");

	ASSERT_LE(0, online);
	ASSERT_LE(0, mem);
	EXPECT_EQ(0x7, online & 0x7);
	EXPECT_EQ(0x7, mem & 0x7);
	/* Node 3 is online exactly when dax/kmem has given it memory. */
	EXPECT_EQ(!!(online & 0x8), !!(mem & 0x8));
	EXPECT_EQ(0, online & ~0xfLL);
}

TEST(only_nodes_0_and_1_have_cpus)
{
	char buf[64];
	int nid;

	EXPECT_EQ(0x3, spm_sysfs_nodemask("has_cpu"));
	ASSERT_LT(0, spm_read_file(SPM_NODE_SYSFS "/node0/cpulist", buf, sizeof(buf)));
	EXPECT_STREQ("0", buf);
	ASSERT_LT(0, spm_read_file(SPM_NODE_SYSFS "/node1/cpulist", buf, sizeof(buf)));
	EXPECT_STREQ("1", buf);
	for (nid = 2; nid <= 3; nid++) {
		char path[128];

		snprintf(path, sizeof(path), SPM_NODE_SYSFS "/node%d/cpulist", nid);
		if (nid == 3 && access(path, F_OK))
			continue;	/* node 3 offline: no node device yet */
		ASSERT_EQ(0, spm_read_file(path, buf, sizeof(buf)));
		EXPECT_STREQ("", buf);
	}
}

TEST(node_sizes)
{
	long long p0 = spm_node_present_kb(0);
	long long p1 = spm_node_present_kb(1);
	long long p2 = spm_node_present_kb(2);
	long long t2 = spm_node_meminfo(2, "MemTotal");

	TH_LOG("present: node0 %lld kB, node1 %lld kB, node2 %lld kB; node2 MemTotal %lld kB",
	       p0, p1, p2, t2);
	/* Node 0 loses the first page and the legacy hole below 1 MiB. */
	EXPECT_LE(1000 * MiB, p0);
	EXPECT_GE(1024 * MiB, p0);
	EXPECT_LE(1000 * MiB, p1);
	EXPECT_GE(1024 * MiB, p1);
	EXPECT_EQ(512 * MiB, p2);
	/* Most of node 2 is usable (a debug kernel's KASAN shadow takes 1/8). */
	EXPECT_LE(400 * MiB, t2);
	EXPECT_GE(512 * MiB, t2);
}

TEST(node2_memory_starts_at_4G)
{
	long long bs = memory_block_size();
	long lo, hi;

	ASSERT_LT(0, bs);
	ASSERT_LT(0, node_block_range(2, &lo, &hi));
	TH_LOG("node2 memory blocks %ld-%ld of %lld bytes", lo, hi, bs);
	EXPECT_EQ(0x100000000LL, lo * bs);
	EXPECT_EQ(0x120000000LL, (hi + 1) * bs);
}

TEST(pmem_carve_out_is_not_system_ram)
{
	long long mem = spm_sysfs_nodemask("has_memory");
	char buf[64];

	ASSERT_LE(0, mem);
	/* Memory blocks of the carve-out exist only once dax/kmem adds them. */
	if (!(mem & 0x8))
		EXPECT_NE(0, access(SPM_NODE_SYSFS "/node3/meminfo", F_OK));
	ASSERT_LT(0, spm_read_file("/sys/bus/nd/devices/region0/target_node", buf, sizeof(buf)));
	EXPECT_STREQ("3", buf);
}

TEST(anon_memory_follows_mbind)
{
	size_t len = 4 << 20;
	unsigned long mask = 1UL << 1;
	char *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	ASSERT_NE(MAP_FAILED, p);
	ASSERT_EQ(0, spm_mbind(p, len, MPOL_BIND, &mask, 64, 0));
	spm_touch(p, len);
	EXPECT_EQ(1, spm_node_of(p));
	EXPECT_EQ(len / spm_page_size(), spm_pages_on_node(p, len, 1));
	munmap(p, len);
}

TEST(guest_mounts)
{
	char buf[4096];
	const char *want[] = {
		"proc /proc proc", "sysfs /sys sysfs", "devtmpfs /dev devtmpfs",
		"cgroup2 /sys/fs/cgroup cgroup2", "debugfs /sys/kernel/debug debugfs",
		"tmpfs /tmp tmpfs", "tmpfs /dev/shm tmpfs",
	};
	unsigned int i, missing = 0;

	ASSERT_LT(0, spm_read_file("/proc/mounts", buf, sizeof(buf)));
	for (i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		if (!strstr(buf, want[i])) {
			TH_LOG("not mounted: %s", want[i]);
			missing++;
		}
	}
	EXPECT_EQ(0, missing);
	ASSERT_LT(0, spm_read_file("/sys/fs/cgroup/cgroup.subtree_control", buf, sizeof(buf)));
	EXPECT_NE(NULL, strstr(buf, "cpuset"));
	EXPECT_NE(NULL, strstr(buf, "memory"));
}

TEST_HARNESS_MAIN
