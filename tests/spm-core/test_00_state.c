// SPDX-License-Identifier: GPL-2.0
/*
 * SPM node state on the default boot (spm_nodes=2): the node lists, the
 * nodeN/spm/ attributes and their bad input, early boot (no memblock
 * reservation on node 2), /proc/meminfo accounting, cgroup v2
 * cpuset.mems.sysram, and the boot log line.
 *
 * Runs first in its suite: it checks defaults (allow_user 0, node 2 empty).
 */
#include <sys/sysinfo.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "spm_place.h"

#define NODE "/sys/devices/system/node"
#define CG "/sys/fs/cgroup"

static int spm_nid = 2;

static int read_str(const char *path, char *buf, size_t size)
{
	return spm_read_file(path, buf, size);
}

TEST(has_spm_memory_is_node_2)
{
	char buf[64];
	long long spm, mem;

	ASSERT_LE(0, read_str(NODE "/has_spm_memory", buf, sizeof(buf)));
	EXPECT_STREQ("2", buf);
	spm = spm_sysfs_nodemask("has_spm_memory");
	mem = spm_sysfs_nodemask("has_memory");
	ASSERT_LE(0, mem);
	/* SPM nodes are memory nodes: same format, a subset of has_memory. */
	EXPECT_EQ(spm, spm & mem);
	EXPECT_EQ(0x7, mem & 0x7);
}

TEST(has_spm_memory_is_read_only)
{
	char buf[64];

	EXPECT_EQ(-EACCES, spm_write_file(NODE "/has_spm_memory", "0-3"));
	ASSERT_LE(0, read_str(NODE "/has_spm_memory", buf, sizeof(buf)));
	EXPECT_STREQ("2", buf);
}

TEST(spm_directory_only_on_spm_nodes)
{
	char buf[64];

	EXPECT_EQ(0, access(NODE "/node2/spm/owner", R_OK));
	EXPECT_EQ(0, access(NODE "/node2/spm/allow_user", R_OK));
	EXPECT_NE(0, access(NODE "/node0/spm", F_OK));
	EXPECT_NE(0, access(NODE "/node1/spm", F_OK));
	/* Node 3 (the pmem carve-out) has no memory on this boot. */
	EXPECT_NE(0, access(NODE "/node3/spm", F_OK));
	ASSERT_LE(0, read_str(NODE "/has_memory", buf, sizeof(buf)));
	EXPECT_STREQ("0-2", buf);
}

TEST(owner_is_none_and_read_only)
{
	char buf[64];

	ASSERT_LT(0, read_str(NODE "/node2/spm/owner", buf, sizeof(buf)));
	EXPECT_STREQ("none", buf);
	EXPECT_EQ(-EACCES, spm_write_file(NODE "/node2/spm/owner", "me"));
	ASSERT_LT(0, read_str(NODE "/node2/spm/owner", buf, sizeof(buf)));
	EXPECT_STREQ("none", buf);
}

TEST(allow_user_defaults_to_0)
{
	EXPECT_EQ(0, spm_allow_user_get(spm_nid));
}

FIXTURE(allow_user) {
	int saved;
};

FIXTURE_SETUP(allow_user)
{
	self->saved = spm_allow_user_get(spm_nid);
	ASSERT_LE(0, self->saved);
}

FIXTURE_TEARDOWN(allow_user)
{
	spm_allow_user_set(spm_nid, self->saved);
}

TEST_F(allow_user, accepts_0_1_y_n)
{
	static const struct { const char *in; int want; } cases[] = {
		{ "1", 1 }, { "0", 0 }, { "y", 1 }, { "n", 0 }, { "1\n", 1 },
		{ "0\n", 0 }, { "Y", 1 }, { "N", 0 },
	};
	char path[] = NODE "/node2/spm/allow_user";
	unsigned int i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		EXPECT_EQ(0, spm_write_file(path, cases[i].in)) {
			TH_LOG("write '%s'", cases[i].in);
		}
		EXPECT_EQ(cases[i].want, spm_allow_user_get(spm_nid)) {
			TH_LOG("after writing '%s'", cases[i].in);
		}
	}
}

TEST_F(allow_user, bad_writes_fail_einval_and_leave_it_unchanged)
{
	static const char *const bad[] = { "2", "abc", "-1", "x", "?", " 1" };
	char path[] = NODE "/node2/spm/allow_user";
	unsigned int i;
	int state;

	for (state = 0; state <= 1; state++) {
		ASSERT_EQ(0, spm_allow_user_set(spm_nid, state));
		for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
			EXPECT_EQ(-EINVAL, spm_write_file(path, bad[i])) {
				TH_LOG("write '%s' with allow_user=%d", bad[i], state);
			}
			EXPECT_EQ(state, spm_allow_user_get(spm_nid)) {
				TH_LOG("after writing '%s'", bad[i]);
			}
		}
	}
}

/* Early boot: memblock allocated nothing from node 2, so every page it
 * presents is managed by the buddy allocator. */
TEST(node2_has_no_early_boot_reservation)
{
	char line[256], zone[32] = "";
	long long present = -1, v;
	int node = -1, zones = 0, n;
	FILE *f = fopen("/proc/zoneinfo", "r");

	ASSERT_NE(NULL, f);
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "Node %d, zone %31s", &n, zone) == 2) {
			node = n;
			present = -1;
			continue;
		}
		if (node != spm_nid)
			continue;
		if (sscanf(line, " present %lld", &v) == 1)
			present = v;
		else if (sscanf(line, " managed %lld", &v) == 1 && present > 0) {
			zones++;
			TH_LOG("node %d zone %s: present %lld managed %lld", node, zone, present, v);
			EXPECT_EQ(present, v);
		}
	}
	fclose(f);
	EXPECT_LE(1, zones);
}

TEST(node2_is_empty_after_boot)
{
	long long total = SPM_GET(spm_node_meminfo(spm_nid, "MemTotal"));
	long long used = SPM_GET(spm_node_meminfo(spm_nid, "MemUsed"));

	TH_LOG("node 2: MemTotal %lld kB, MemUsed %lld kB", total, used);
	EXPECT_EQ(512 * 1024, total);
	EXPECT_GE(256, used);
	EXPECT_EQ(0, spm_node_meminfo(spm_nid, "Slab"));
	EXPECT_EQ(0, spm_node_meminfo(spm_nid, "FilePages"));
	EXPECT_EQ(0, spm_node_meminfo(spm_nid, "AnonPages"));
	EXPECT_EQ(0, spm_node_meminfo(spm_nid, "KernelStack"));
	EXPECT_EQ(0, spm_node_meminfo(spm_nid, "PageTables"));
}

/*
 * The machine's memory as /proc/meminfo and sysinfo(2) report it is what
 * default allocations may use: MemTotal and MemFree are the SysRAM nodes'
 * (tools size themselves by them: `free`, sysconf(_SC_PHYS_PAGES), the
 * upstream compaction_test, which mlocks 80% of MemFree), SpmTotal and
 * SpmFree the SPM nodes', and MemAvailable never counts SPM memory.
 */
TEST(meminfo_counts_sysram_and_reports_spm_apart)
{
	long long memtotal = SPM_GET(spm_meminfo("MemTotal"));
	long long memfree = SPM_GET(spm_meminfo("MemFree"));
	long long avail = SPM_GET(spm_meminfo("MemAvailable"));
	long long spmtotal = SPM_GET(spm_meminfo("SpmTotal"));
	long long spmfree = SPM_GET(spm_meminfo("SpmFree"));
	long long file = SPM_GET(spm_meminfo("Active(file)")) +
			 SPM_GET(spm_meminfo("Inactive(file)"));
	long long krecl = SPM_GET(spm_meminfo("KReclaimable"));
	long long sys_total = 0, sys_free = 0, spm_total = 0, spm_free = 0;
	long long spm = spm_test_nodes(), unit;
	struct sysinfo si;
	int nid;

	ASSERT_LT(0, spm);
	for (nid = 0; nid < SPM_MAXN; nid++) {
		long long t = spm_node_meminfo(nid, "MemTotal");
		long long f = spm_node_meminfo(nid, "MemFree");

		if (t < 0 || f < 0)
			continue;
		if (spm & (1LL << nid)) {
			spm_total += t;
			spm_free += f;
		} else {
			sys_total += t;
			sys_free += f;
		}
	}
	ASSERT_EQ(0, sysinfo(&si));
	unit = si.mem_unit ? si.mem_unit : 1;
	TH_LOG("MemTotal %lld, MemFree %lld, MemAvailable %lld, SpmTotal %lld, SpmFree %lld kB",
	       memtotal, memfree, avail, spmtotal, spmfree);
	TH_LOG("node sums: SysRAM total %lld, free %lld; SPM total %lld, free %lld kB",
	       sys_total, sys_free, spm_total, spm_free);
	TH_LOG("sysinfo: totalram %lld, freeram %lld kB; sysconf: %ld pages",
	       (long long)si.totalram * unit >> 10, (long long)si.freeram * unit >> 10,
	       sysconf(_SC_PHYS_PAGES));
	ASSERT_LT(400 * 1024, spm_total);
	/* Totals: managed pages, exact. */
	EXPECT_EQ(sys_total, memtotal);
	EXPECT_EQ(spm_total, spmtotal);
	EXPECT_EQ(memtotal, (long long)si.totalram * unit >> 10);
	EXPECT_EQ(memtotal, (long long)sysconf(_SC_PHYS_PAGES) * (spm_page_size() >> 10));
	/* Free memory moves between the reads: within 1%. */
	EXPECT_GE(memfree + memfree / 100, sys_free);
	EXPECT_LE(memfree - memfree / 100, sys_free);
	EXPECT_GE(spmfree + spmfree / 100, spm_free);
	EXPECT_LE(spmfree - spmfree / 100, spm_free);
	EXPECT_GE((long long)si.freeram * unit / 1024 + memfree / 100, memfree);
	EXPECT_LE((long long)si.freeram * unit / 1024 - memfree / 100, memfree);
	/* MemAvailable: at most SysRAM free memory plus what reclaim could free. */
	EXPECT_GE(memfree + file + krecl, avail);
	EXPECT_LT(memfree - 256 * 1024, avail);
}

static const char *mems_allowed_list(char *buf, size_t len)
{
	char *p;

	if (spm_read_file("/proc/self/status", buf, len) <= 0)
		return "";
	p = strstr(buf, "Mems_allowed_list:");
	if (!p)
		return "";
	p += strlen("Mems_allowed_list:");
	while (*p == ' ' || *p == '\t')
		p++;
	return p;
}

/*
 * The root cpuset allows every memory node; Mems_allowed shows the SPM
 * node only while it permits user placement.
 */
TEST(mems_allowed_shows_the_usable_nodes)
{
	int saved = spm_allow_user_get(2);
	char buf[4096];
	const char *p;

	ASSERT_LE(0, saved);
	ASSERT_EQ(0, spm_allow_user_set(2, 0));
	p = mems_allowed_list(buf, sizeof(buf));
	EXPECT_EQ(0, strncmp(p, "0-1\n", 4)) {
		TH_LOG("allow_user 0: Mems_allowed_list: %.16s", p);
	}
	ASSERT_EQ(0, spm_allow_user_set(2, 1));
	p = mems_allowed_list(buf, sizeof(buf));
	EXPECT_EQ(0, strncmp(p, "0-2\n", 4)) {
		TH_LOG("allow_user 1: Mems_allowed_list: %.16s", p);
	}
	spm_allow_user_set(2, saved);
}

/* ------------------------------------------------------------------ */

FIXTURE(cg) {
	char dir[128];
};

FIXTURE_SETUP(cg)
{
	snprintf(self->dir, sizeof(self->dir), CG "/spm-state-%d", getpid());
	ASSERT_EQ(0, mkdir(self->dir, 0755));
}

FIXTURE_TEARDOWN(cg)
{
	rmdir(self->dir);
}

static int cg_read(const char *dir, const char *file, char *buf, size_t size)
{
	char path[256];

	snprintf(path, sizeof(path), "%s/%s", dir, file);
	return spm_read_file(path, buf, size);
}

static int cg_write(const char *dir, const char *file, const char *val)
{
	char path[256];

	snprintf(path, sizeof(path), "%s/%s", dir, file);
	return spm_write_file(path, val);
}

TEST(root_cpuset_mems_sysram)
{
	char buf[64];

	ASSERT_LE(0, read_str(CG "/cpuset.mems.effective", buf, sizeof(buf)));
	EXPECT_STREQ("0-2", buf);
	ASSERT_LE(0, read_str(CG "/cpuset.mems.sysram", buf, sizeof(buf)));
	EXPECT_STREQ("0-1", buf);
}

TEST_F(cg, mems_sysram_follows_mems)
{
	static const struct { const char *mems, *eff, *sysram; } cases[] = {
		{ "0-2", "0-2", "0-1" },
		{ "1-2", "1-2", "1" },
		{ "0", "0", "0" },
		{ "0-3", "0-2", "0-1" },
	};
	char buf[64];
	unsigned int i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		ASSERT_EQ(0, cg_write(self->dir, "cpuset.mems", cases[i].mems));
		ASSERT_LE(0, cg_read(self->dir, "cpuset.mems.effective", buf, sizeof(buf)));
		EXPECT_STREQ(cases[i].eff, buf) {
			TH_LOG("cpuset.mems %s", cases[i].mems);
		}
		ASSERT_LE(0, cg_read(self->dir, "cpuset.mems.sysram", buf, sizeof(buf)));
		EXPECT_STREQ(cases[i].sysram, buf) {
			TH_LOG("cpuset.mems %s", cases[i].mems);
		}
	}
}

/* Mode 0444; a write (root ignores the mode) fails with cgroup's EINVAL. */
TEST_F(cg, mems_sysram_is_read_only)
{
	char buf[64], path[256];
	struct stat st;

	ASSERT_EQ(0, cg_write(self->dir, "cpuset.mems", "1-2"));
	snprintf(path, sizeof(path), "%s/cpuset.mems.sysram", self->dir);
	ASSERT_EQ(0, stat(path, &st));
	EXPECT_EQ(0, st.st_mode & 0222);
	EXPECT_EQ(-EINVAL, cg_write(self->dir, "cpuset.mems.sysram", "0-2"));
	EXPECT_EQ(-EINVAL, cg_write(self->dir, "cpuset.mems.sysram", "2"));
	EXPECT_EQ(-EINVAL, spm_write_file(CG "/cpuset.mems.sysram", "2"));
	ASSERT_LE(0, cg_read(self->dir, "cpuset.mems.sysram", buf, sizeof(buf)));
	EXPECT_STREQ("1", buf);
	ASSERT_LE(0, cg_read(self->dir, "cpuset.mems", buf, sizeof(buf)));
	EXPECT_STREQ("1-2", buf);
}

/*
 * Tasks of a cpuset need a SysRAM node with memory: SPM-only mems, or SPM
 * and memoryless nodes, are refused.
 */
TEST_F(cg, spm_only_mems_rejected)
{
	char buf[64];

	ASSERT_EQ(0, cg_write(self->dir, "cpuset.mems", "0,2"));
	EXPECT_EQ(-EINVAL, cg_write(self->dir, "cpuset.mems", "2"));
	/*
	 * Node 3 (the pmem carve-out, offline) is no SPM node but has no
	 * memory: it gives the tasks no SysRAM either.
	 */
	ASSERT_LE(0, read_str("/sys/devices/system/node/has_memory", buf, sizeof(buf)));
	ASSERT_EQ(0, spm_nodelist_parse(buf) & (1 << 3)) {
		TH_LOG("node 3 has memory (has_memory %s): no memoryless node to test", buf);
	}
	EXPECT_EQ(-EINVAL, cg_write(self->dir, "cpuset.mems", "2,3"));
	ASSERT_LE(0, cg_read(self->dir, "cpuset.mems", buf, sizeof(buf)));
	EXPECT_STREQ("0,2", buf);
	ASSERT_LE(0, cg_read(self->dir, "cpuset.mems.effective", buf, sizeof(buf)));
	EXPECT_STREQ("0,2", buf);
	ASSERT_LE(0, cg_read(self->dir, "cpuset.mems.sysram", buf, sizeof(buf)));
	EXPECT_STREQ("0", buf);
}

TEST_F(cg, bad_mems_writes_leave_state_unchanged)
{
	static const char *const bad[] = { "abc", "64", "2-1", "0-", "5", "0-7" };
	char buf[64];
	unsigned int i;

	ASSERT_EQ(0, cg_write(self->dir, "cpuset.mems", "0,2"));
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		int err = cg_write(self->dir, "cpuset.mems", bad[i]);

		EXPECT_TRUE(err == -EINVAL || err == -ERANGE) {
			TH_LOG("cpuset.mems '%s': %d (%s)", bad[i], err, strerror(-err));
		}
		ASSERT_LE(0, cg_read(self->dir, "cpuset.mems", buf, sizeof(buf)));
		EXPECT_STREQ("0,2", buf);
		ASSERT_LE(0, cg_read(self->dir, "cpuset.mems.sysram", buf, sizeof(buf)));
		EXPECT_STREQ("0", buf);
	}
}

/* ------------------------------------------------------------------ */

TEST(boot_log_names_the_spm_nodes)
{
	char *log = spm_kernel_log();

	ASSERT_NE(NULL, log);
	EXPECT_NE(NULL, strstr(log, "spm: Specific Purpose Memory nodes: 2 (with memory: 2)"));
	EXPECT_EQ(NULL, strstr(log, "invalid node list"));
	EXPECT_EQ(NULL, strstr(log, "would leave no System RAM"));
	free(log);
}

TEST_HARNESS_MAIN
