/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Isolation of SPM nodes on every default allocation path, under real
 * memory pressure. Every test asserts, for every SPM node (has_spm_memory,
 * or $SPM_TEST_NODES to point the tests at a kernel without SPM support):
 *   - per-page placement (move_pages query): no page of the workload there
 *   - per-node meminfo deltas of zero there (FilePages, AnonPages, Shmem,
 *     Slab, AnonHugePages; MemUsed within 1-2 MiB)
 * and, so that it can fail for the right reason, that the workload really
 * allocated what it should on SysRAM. Data is checked where it moved.
 *
 * Pressure: the VM's fallback order is "node 1: 1 2 0", so the workloads
 * run on CPU 1 with node 1 nearly full (a tmpfs file bound to node 1 by
 * its mount policy; see spm_squeeze()): without isolation their next
 * stop is node 2. The anonymous and tmpfs tests instead allocate 70% of
 * SysRAM (anon, then on until the OOM killer acts) and a tmpfs file of
 * up to 1.3 GB.
 *
 * Explicit placements (task bind, KSM, THP collapse) use the lowest SPM
 * node, or SPM_NODE when defined (the spm-dax suite builds this file again
 * with node 3, and then checks nodes 2 and 3 for isolation).
 *
 * To watch them fail on a kernel without SPM support:
 *   make initramfs KERNEL=baseline
 *   tools/spm-vm --kernel baseline \
 *       --exec 'SPM_TEST_NODES=2 /spm/tests/spm-core/test_40_isolation'
 *
 * The test bodies live in tests/lib/ so that tests/spm-core (SPM_NODE 2)
 * and tests/spm-dax (SPM_NODE 3) build the same code, and the Makefile's
 * dependency on the headers in tests/lib rebuilds both when it changes.
 */
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include "kselftest_harness.h"
#include "spm_place.h"

#define TMPFS_DIR "/run/spm-iso-tmpfs"
#define ZRAM "/sys/block/zram0"
#define SQUEEZE_LEAVE_KB (48 * 1024)
#define MAXNODE 64

struct knob {
	char path[128];
	char val[64];
};

FIXTURE(iso) {
	long long spm;		/* SPM nodes under test */
	long long sysram;
	int first_spm;
	int saved_allow[SPM_MAXN];
	struct knob knobs[12];
	int nknobs;
	int zram_used;
	int tmpfs_mounted;
	int cg_made;
	struct spm_snap a, b;
};

/* Set a sysfs/procfs knob; the teardown puts the old value back. */
static int knob_set(FIXTURE_DATA(iso) *self, const char *path, const char *val)
{
	struct knob *k;
	char old[64];

	if (spm_read_file(path, old, sizeof(old)) < 0)
		return -ENOENT;
	if (self->nknobs < (int)(sizeof(self->knobs) / sizeof(self->knobs[0]))) {
		k = &self->knobs[self->nknobs++];
		snprintf(k->path, sizeof(k->path), "%s", path);
		/* "[madvise]" style selections: keep the selected word. */
		if (strchr(old, '[')) {
			char *s = strchr(old, '[') + 1, *e = strchr(s, ']');

			if (e)
				*e = '\0';
			snprintf(k->val, sizeof(k->val), "%s", s);
		} else {
			snprintf(k->val, sizeof(k->val), "%s", old);
		}
	}
	return spm_write_file(path, val);
}

static void allow_spm(FIXTURE_DATA(iso) *self, int on)
{
	int nid;

	for (nid = 0; nid < SPM_MAXN; nid++)
		if (self->spm & (1LL << nid))
			spm_allow_user_set(nid, on);
}

FIXTURE_SETUP(iso)
{
	int nid;

	self->spm = spm_test_nodes();
	ASSERT_LT(0, self->spm) {
		TH_LOG("no SPM node (has_spm_memory empty)");
	}
	self->sysram = spm_sysram_nodes();
	ASSERT_EQ(0x3, self->sysram & 0x3);
	self->first_spm = __builtin_ctzll(self->spm);
#ifdef SPM_NODE
	/* The node that explicit placements (KSM, THP collapse, task bind) use. */
	self->first_spm = SPM_NODE;
	ASSERT_TRUE(self->spm & (1LL << SPM_NODE));
#endif
	for (nid = 0; nid < SPM_MAXN; nid++)
		self->saved_allow[nid] = (self->spm & (1LL << nid)) ? spm_allow_user_get(nid) : -1;
	spm_write_file("/proc/sys/vm/drop_caches", "3");
}

FIXTURE_TEARDOWN_PARENT(iso)
{
	int i, nid;

	spm_unsqueeze();
	if (self->tmpfs_mounted)
		umount2(TMPFS_DIR, MNT_DETACH);
	if (self->zram_used)
		spm_write_file(ZRAM "/reset", "1");
	if (self->cg_made) {
		char path[128];

		for (i = 0; i < self->cg_made; i++) {
			snprintf(path, sizeof(path), "/sys/fs/cgroup/spm-iso-%d", i);
			rmdir(path);
		}
	}
	for (i = self->nknobs - 1; i >= 0; i--)
		spm_write_file(self->knobs[i].path, self->knobs[i].val);
	for (nid = 0; nid < SPM_MAXN; nid++)
		if (self->saved_allow[nid] >= 0)
			spm_allow_user_set(nid, self->saved_allow[nid]);
}

/* The SPM side of a before/after pair: nothing of the workload there. */
static void expect_spm_untouched(struct __test_metadata *_metadata,
				 FIXTURE_DATA(iso) *self, long long memused_slack_kb)
{
	spm_snap_log("SPM", &self->a, &self->b, self->spm);
	EXPECT_EQ(0, spm_nodes_delta(&self->a, &self->b, self->spm, K_FILE));
	EXPECT_EQ(0, spm_nodes_delta(&self->a, &self->b, self->spm, K_ANON));
	EXPECT_EQ(0, spm_nodes_delta(&self->a, &self->b, self->spm, K_SHMEM));
	EXPECT_EQ(0, spm_nodes_delta(&self->a, &self->b, self->spm, K_SLAB));
	EXPECT_EQ(0, spm_nodes_delta(&self->a, &self->b, self->spm, K_ANONHUGE));
	EXPECT_EQ(0, spm_nodes_delta(&self->a, &self->b, self->spm, K_KSTACK));
	EXPECT_EQ(0, spm_nodes_delta(&self->a, &self->b, self->spm, K_PAGETABLES));
	EXPECT_GE(memused_slack_kb, spm_nodes_delta(&self->a, &self->b, self->spm, K_USED));
}

static void squeeze_node1(struct __test_metadata *_metadata)
{
	long long got;

	ASSERT_EQ(0, spm_pin_cpu(1));
	got = spm_squeeze(1, SQUEEZE_LEAVE_KB);
	ASSERT_LE(0, got) {
		TH_LOG("squeeze: %s", strerror((int)-got));
	}
	TH_LOG("node 1 squeezed: %lld MiB bound there, %lld kB left free", got >> 10,
	       spm_node_meminfo(1, "MemFree"));
}

static long long sysram_sum(struct __test_metadata *_metadata,
			    FIXTURE_DATA(iso) *self, const char *key)
{
	long long sum = 0;
	int nid;

	for (nid = 0; nid < SPM_MAXN; nid++)
		if (self->sysram & (1LL << nid))
			sum += SPM_GET(spm_node_meminfo(nid, key));
	return sum;
}

/* ------------------------------------------------------------ anonymous */

struct hog_report {
	long total, on_spm, bad;
};

/*
 * A default-policy anonymous hog of 70% of SysRAM from CPU 1: every page
 * on SysRAM. It then goes on allocating until the OOM killer ends it:
 * SysRAM exhaustion must end in reclaim/OOM on SysRAM, never in a
 * fallback to an SPM node.
 */
TEST_F_TIMEOUT(iso, anon_hog_then_oom_stays_off_spm, 240)
{
	long long sysram_kb = sysram_sum(_metadata, self, "MemTotal");
	long long free_kb = sysram_sum(_metadata, self, "MemFree");
	long long hog_kb = sysram_kb * 7 / 10;
	long long max_used = 0, max_anon = 0;
	struct hog_report r = { -1, -1, -1 };
	char killed[64], *log;
	int fds[2], status = 0, nid;
	pid_t pid;

	if (hog_kb > free_kb - 200 * 1024)
		hog_kb = free_kb - 200 * 1024;
	TH_LOG("SysRAM %lld MiB, free %lld MiB: hog of %lld MiB", sysram_kb >> 10,
	       free_kb >> 10, hog_kb >> 10);
	ASSERT_EQ(0, pipe(fds));
	spm_snap(&self->a);
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		size_t len = hog_kb * 1024;
		long counts[SPM_MAXN + 1];
		char *p;

		close(fds[0]);
		spm_pin_cpu(1);
		spm_write_file("/proc/self/oom_score_adj", "1000");
		p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (p == MAP_FAILED)
			_exit(2);
		spm_fill(p, len, 100);
		r.total = spm_count_pages(p, len, counts);
		r.on_spm = spm_count_in(counts, self->spm);
		r.bad = spm_verify(p, len, 100);
		if (write(fds[1], &r, sizeof(r)) != sizeof(r))
			_exit(3);
		for (;;) {
			p = mmap(NULL, 64 << 20, PROT_READ | PROT_WRITE,
				 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
			if (p == MAP_FAILED)
				_exit(4);
			spm_fill(p, 64 << 20, 101);
		}
	}
	close(fds[1]);
	ASSERT_EQ((ssize_t)sizeof(r), read(fds[0], &r, sizeof(r)));
	spm_snap(&self->b);
	TH_LOG("hog: %ld pages, %ld on SPM nodes, %ld bad", r.total, r.on_spm, r.bad);
	EXPECT_EQ(hog_kb / 4, r.total);
	EXPECT_EQ(0, r.on_spm);
	EXPECT_EQ(0, r.bad);
	/*
	 * Taken while the hog still pushes the machine into reclaim: the
	 * per-CPU lists of the SPM nodes are drained and their compaction may
	 * hold isolated free pages, which count as used (seen: 1.2 MB under
	 * single-threaded TCG).  Every category of the hog's memory above is
	 * still checked to be exactly zero.
	 */
	expect_spm_untouched(_metadata, self, 2048);
	EXPECT_LE(hog_kb * 9 / 10, spm_nodes_delta(&self->a, &self->b, self->sysram, K_ANON));

	/* Until the OOM killer ends the child: watch the SPM nodes. */
	for (;;) {
		struct spm_snap s;
		pid_t w = waitpid(pid, &status, WNOHANG);

		spm_snap(&s);
		if (spm_nodes_delta(&self->a, &s, self->spm, K_USED) > max_used)
			max_used = spm_nodes_delta(&self->a, &s, self->spm, K_USED);
		if (spm_nodes_delta(&self->a, &s, self->spm, K_ANON) > max_anon)
			max_anon = spm_nodes_delta(&self->a, &s, self->spm, K_ANON);
		if (w == pid)
			break;
		usleep(50000);
	}
	snprintf(killed, sizeof(killed), "Out of memory: Killed process %d (", pid);
	log = spm_kernel_log();
	TH_LOG("child: %s; SPM max deltas: MemUsed-pcp %lld kB, AnonPages %lld kB; %s",
	       WIFSIGNALED(status) ? strsignal(WTERMSIG(status)) : "exited",
	       max_used, max_anon, log && strstr(log, killed) ? "OOM-killed" : "no OOM kill logged");
	EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
	EXPECT_TRUE(log && strstr(log, killed));
	free(log);
	EXPECT_EQ(0, max_anon);
	EXPECT_GE(2048, max_used);
	for (nid = 0; nid < SPM_MAXN; nid++)
		if (self->spm & (1LL << nid))
			EXPECT_EQ(0, spm_node_meminfo(nid, "AnonPages"));
}

/* --------------------------------------------------------------- tmpfs */

TEST_F_TIMEOUT(iso, tmpfs_large_file_stays_off_spm, 180)
{
	long long free_kb = sysram_sum(_metadata, self, "MemFree");
	size_t size = 1300UL << 20, off, chunk = SZ_1M;
	long counts[SPM_MAXN + 1];
	char opts[64], *buf, *p;
	long bad = 0, n;
	int fd;

	if ((long long)(size >> 10) > free_kb - 450 * 1024)
		size = ((free_kb - 450 * 1024) << 10) & ~(SZ_1M - 1);
	TH_LOG("SysRAM free %lld MiB: tmpfs file of %zu MiB", free_kb >> 10, size >> 20);
	mkdir(TMPFS_DIR, 0700);
	snprintf(opts, sizeof(opts), "size=%zuk", (size >> 10) + 65536);
	ASSERT_EQ(0, mount("tmpfs", TMPFS_DIR, "tmpfs", 0, opts));
	self->tmpfs_mounted = 1;
	fd = open(TMPFS_DIR "/big", O_CREAT | O_RDWR, 0600);
	ASSERT_LE(0, fd);
	buf = malloc(chunk);
	ASSERT_NE(NULL, buf);
	ASSERT_EQ(0, spm_pin_cpu(1));

	spm_snap(&self->a);
	for (off = 0; off < size; off += chunk) {
		spm_fill(buf, chunk, 200 + off / chunk);
		ASSERT_EQ((ssize_t)chunk, pwrite(fd, buf, chunk, off));
	}
	spm_snap(&self->b);
	expect_spm_untouched(_metadata, self, 1024);
	EXPECT_LE((long long)(size >> 10) * 95 / 100,
		  spm_nodes_delta(&self->a, &self->b, self->sysram, K_SHMEM));

	p = mmap(NULL, size, PROT_READ, MAP_SHARED, fd, 0);
	ASSERT_NE(MAP_FAILED, p);
	for (off = 0; off < size; off += chunk)
		bad += spm_verify(p + off, chunk, 200 + off / chunk);
	EXPECT_EQ(0, bad);
	n = spm_count_pages(p, size, counts);
	ASSERT_EQ((long)(size / 4096), n);
	spm_counts_log("tmpfs file", counts);
	EXPECT_EQ(0, spm_count_in(counts, self->spm));
	EXPECT_EQ(n, spm_count_in(counts, self->sysram));
	munmap(p, size);
	close(fd);
	free(buf);
}

/* ---------------------------------------------------------- page cache */

static int zram_open(struct __test_metadata *_metadata, FIXTURE_DATA(iso) *self,
		     const char *size)
{
	int fd;

	self->zram_used = 1;
	spm_write_file(ZRAM "/reset", "1");
	if (spm_write_file(ZRAM "/disksize", size))
		return -1;
	fd = open("/dev/zram0", O_RDWR);
	return fd;
}

/* Fill a buffer so that each page is one repeated word (zram stores such
 * "same-filled" pages without memory), word = pattern(seed, page). */
static void fill_same(char *buf, size_t len, uint64_t seed, size_t first_page)
{
	size_t i, j, n = len / 4096;

	for (i = 0; i < n; i++) {
		uint64_t w = spm_pattern(seed, first_page + i, 0), *q = (uint64_t *)(buf + i * 4096);

		for (j = 0; j < 512; j++)
			q[j] = w;
	}
}

static long check_same(const char *p, size_t len, uint64_t seed)
{
	size_t i, n = len / 4096;
	long bad = 0;

	for (i = 0; i < n; i++) {
		const volatile uint64_t *q = (const uint64_t *)(p + i * 4096);

		bad += q[0] != spm_pattern(seed, i, 0) || q[511] != spm_pattern(seed, i, 0);
	}
	return bad;
}

TEST_F_TIMEOUT(iso, page_cache_under_pressure_stays_off_spm, 120)
{
	size_t size = 384UL << 20, off, chunk = SZ_1M;
	long long dem0 = SPM_GET(spm_vmstat("pgdemote_kswapd")) +
			 SPM_GET(spm_vmstat("pgdemote_direct"));
	long counts[SPM_MAXN + 1];
	char *buf = malloc(chunk), *p;
	int fd;

	ASSERT_NE(NULL, buf);
	/* With a lower memory tier (the dax node), reclaim would demote. */
	knob_set(self, "/sys/kernel/mm/numa/demotion_enabled", "true");
	fd = zram_open(_metadata, self, "512M");
	ASSERT_LE(0, fd);
	squeeze_node1(_metadata);

	spm_snap(&self->a);
	for (off = 0; off < size; off += chunk) {
		fill_same(buf, chunk, 300, off / 4096);
		ASSERT_EQ((ssize_t)chunk, pwrite(fd, buf, chunk, off));
	}
	spm_snap(&self->b);
	expect_spm_untouched(_metadata, self, 2048);
	EXPECT_LE(128 * 1024, spm_nodes_delta(&self->a, &self->b, self->sysram, K_FILE));

	p = mmap(NULL, size, PROT_READ, MAP_SHARED, fd, 0);
	ASSERT_NE(MAP_FAILED, p);
	EXPECT_EQ(0, check_same(p, size, 300));
	ASSERT_EQ((long)(size / 4096), spm_count_pages(p, size, counts));
	spm_counts_log("block device page cache", counts);
	EXPECT_EQ(0, spm_count_in(counts, self->spm));
	spm_snap(&self->b);
	expect_spm_untouched(_metadata, self, 2048);
	EXPECT_EQ(0, SPM_GET(spm_vmstat("pgdemote_kswapd")) +
		     SPM_GET(spm_vmstat("pgdemote_direct")) - dem0);
	munmap(p, size);
	close(fd);
	free(buf);
}

/*
 * A task bound to an SPM node (permitted) gets its anonymous and shared
 * memory there (a memfd it writes, as on any node), but none of the memory
 * the kernel allocates on its behalf: page cache of a disk file system,
 * pipe buffers, slab, page tables.
 */
TEST_F_TIMEOUT(iso, task_bound_to_spm_gets_anon_and_shmem_there, 120)
{
	unsigned long m = 1UL << self->first_spm;
	size_t pc = 64UL << 20, shm = 32UL << 20, anon_len = 4UL << 20, off;
	long counts[SPM_MAXN + 1];
	int fd, mfd, pipes[16][2], i;
	char *buf = malloc(SZ_1M), *p, *anon;

	ASSERT_NE(NULL, buf);
	memset(buf, 1, SZ_1M);	/* faulted in before the policy */
	fd = zram_open(_metadata, self, "128M");
	ASSERT_LE(0, fd);
	mfd = memfd_create("spm-iso", 0);
	ASSERT_LE(0, mfd);
	allow_spm(self, 1);
	ASSERT_EQ(0, spm_set_mempolicy(MPOL_BIND, &m, MAXNODE)) {
		TH_LOG("set_mempolicy: %s", strerror(errno));
	}

	spm_snap(&self->a);
	for (off = 0; off < pc; off += SZ_1M) {
		fill_same(buf, SZ_1M, 400, off / 4096);
		ASSERT_EQ((ssize_t)SZ_1M, pwrite(fd, buf, SZ_1M, off));
	}
	for (off = 0; off < shm; off += SZ_1M) {
		spm_fill(buf, SZ_1M, 401 + off / SZ_1M);
		ASSERT_EQ((ssize_t)SZ_1M, pwrite(mfd, buf, SZ_1M, off));
	}
	for (i = 0; i < 16; i++) {
		ASSERT_EQ(0, pipe(pipes[i]));
		fcntl(pipes[i][1], F_SETPIPE_SZ, 1 << 20);
		ASSERT_EQ(65536, write(pipes[i][1], buf, 65536));
	}
	anon = mmap(NULL, anon_len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, anon);
	spm_fill(anon, anon_len, 402);
	spm_snap(&self->b);
	spm_set_mempolicy(MPOL_DEFAULT, NULL, 0);

	spm_snap_log("SPM", &self->a, &self->b, self->spm);
	/* FilePages counts shmem too: only the memfd may be there. */
	EXPECT_LE((long long)(shm >> 10),
		  spm_nodes_delta(&self->a, &self->b, self->spm, K_SHMEM));
	EXPECT_GE((long long)(shm >> 10) + 256,
		  spm_nodes_delta(&self->a, &self->b, self->spm, K_FILE));
	EXPECT_EQ(0, spm_nodes_delta(&self->a, &self->b, self->spm, K_SLAB));
	EXPECT_EQ(0, spm_nodes_delta(&self->a, &self->b, self->spm, K_PAGETABLES));
	EXPECT_LE((long long)(anon_len >> 10), spm_nodes_delta(&self->a, &self->b, self->spm, K_ANON));
	EXPECT_GE((long long)(anon_len >> 10) + 256, spm_nodes_delta(&self->a, &self->b, self->spm, K_ANON));
	/* MemUsed on the node: those pages and nothing else (1 MiB slack). */
	EXPECT_GE((long long)((anon_len + shm) >> 10) + 1024,
		  spm_nodes_delta(&self->a, &self->b, self->spm, K_USED));

	ASSERT_EQ((long)(anon_len / 4096), spm_count_pages(anon, anon_len, counts));
	EXPECT_EQ((long)(anon_len / 4096), counts[self->first_spm]);
	p = mmap(NULL, pc, PROT_READ, MAP_SHARED, fd, 0);
	ASSERT_NE(MAP_FAILED, p);
	EXPECT_EQ(0, check_same(p, pc, 400));
	ASSERT_EQ((long)(pc / 4096), spm_count_pages(p, pc, counts));
	spm_counts_log("page cache", counts);
	EXPECT_EQ(0, spm_count_in(counts, self->spm));
	munmap(p, pc);
	p = mmap(NULL, shm, PROT_READ, MAP_SHARED, mfd, 0);
	ASSERT_NE(MAP_FAILED, p);
	for (off = 0; off < shm; off += SZ_1M)
		EXPECT_EQ(0, spm_verify(p + off, SZ_1M, 401 + off / SZ_1M));
	ASSERT_EQ((long)(shm / 4096), spm_count_pages(p, shm, counts));
	spm_counts_log("memfd written under the policy", counts);
	EXPECT_EQ((long)(shm / 4096), counts[self->first_spm]);
	munmap(p, shm);
	for (i = 0; i < 16; i++) {
		close(pipes[i][0]);
		close(pipes[i][1]);
	}
	close(mfd);
	close(fd);
	free(buf);
}

/* ---------------------------------------------------------------- slab */

TEST_F_TIMEOUT(iso, slab_under_pressure_stays_off_spm, 180)
{
	char name[64];
	int i, fd, nfiles = 100000;

	mkdir(TMPFS_DIR, 0700);
	ASSERT_EQ(0, mount("tmpfs", TMPFS_DIR, "tmpfs", 0, "nr_inodes=200000"));
	self->tmpfs_mounted = 1;
	squeeze_node1(_metadata);

	spm_snap(&self->a);
	for (i = 0; i < nfiles; i++) {
		snprintf(name, sizeof(name), TMPFS_DIR "/f%d", i);
		fd = open(name, O_CREAT | O_WRONLY, 0600);
		ASSERT_LE(0, fd) {
			TH_LOG("file %d: %s", i, strerror(errno));
		}
		close(fd);
	}
	spm_snap(&self->b);
	spm_snap_log("SysRAM", &self->a, &self->b, self->sysram);
	expect_spm_untouched(_metadata, self, 1024);
	/* 100k inodes and dentries: tens of MiB of slab, all on SysRAM. */
	EXPECT_LE(30 * 1024, spm_nodes_delta(&self->a, &self->b, self->sysram, K_SLAB));
}

/* ------------------------------------------- other kernel allocations */

static int thread_gate[2];

static void *sleeper(void *arg)
{
	char c;

	(void)arg;
	if (read(thread_gate[0], &c, 1) < 0)
		return NULL;
	return NULL;
}

/*
 * Pipe buffers (page allocations), thread stacks and page tables, a
 * million-entry file descriptor table (kvmalloc: vmalloc), memory cgroups
 * (per-cpu memory, and kmalloc_node() for every node, SPM nodes
 * included): all on SysRAM, with node 1 full.
 */
TEST_F_TIMEOUT(iso, kernel_allocations_under_pressure_stay_off_spm, 120)
{
	enum { NPIPES = 128, NTHREADS = 64, NCG = 32 };
	static int pipes[NPIPES][2];
	pthread_t th[NTHREADS];
	pthread_attr_t attr;
	struct rlimit big = { 1 << 20, 1 << 20 };
	char *buf = malloc(SZ_1M), path[128];
	int i;

	ASSERT_NE(NULL, buf);
	memset(buf, 0x33, SZ_1M);
	squeeze_node1(_metadata);
	ASSERT_EQ(0, pipe(thread_gate));

	spm_snap(&self->a);
	for (i = 0; i < NPIPES; i++) {
		ASSERT_EQ(0, pipe(pipes[i]));
		ASSERT_LE(0, fcntl(pipes[i][1], F_SETPIPE_SZ, 1 << 20));
		ASSERT_EQ((ssize_t)SZ_1M, write(pipes[i][1], buf, SZ_1M));
	}
	pthread_attr_init(&attr);
	pthread_attr_setstacksize(&attr, 64 << 10);
	for (i = 0; i < NTHREADS; i++)
		ASSERT_EQ(0, pthread_create(&th[i], &attr, sleeper, NULL));
	ASSERT_EQ(0, setrlimit(RLIMIT_NOFILE, &big));
	ASSERT_EQ(big.rlim_cur - 1, (rlim_t)dup2(0, big.rlim_cur - 1));
	for (i = 0; i < NCG; i++) {
		snprintf(path, sizeof(path), "/sys/fs/cgroup/spm-iso-%d", i);
		ASSERT_EQ(0, mkdir(path, 0755));
		self->cg_made = i + 1;
	}
	spm_snap(&self->b);
	spm_snap_log("SysRAM", &self->a, &self->b, self->sysram);
	expect_spm_untouched(_metadata, self, 1024);
	EXPECT_LE(100 * 1024, spm_nodes_delta(&self->a, &self->b, self->sysram, K_USED));

	close(thread_gate[1]);
	for (i = 0; i < NTHREADS; i++)
		pthread_join(th[i], NULL);
	for (i = 0; i < NPIPES; i++) {
		close(pipes[i][0]);
		close(pipes[i][1]);
	}
	free(buf);
}

/* ----------------------------------------------------------------- THP */

static int thp_usable(void)
{
	char buf[128];

	return spm_read_file("/sys/kernel/mm/transparent_hugepage/enabled", buf, sizeof(buf)) > 0 &&
	       !strstr(buf, "[never]");
}

TEST_F_TIMEOUT(iso, thp_faults_under_pressure_stay_off_spm, 120)
{
	size_t len = 64UL << 20;
	long counts[SPM_MAXN + 1];
	char *p;

	ASSERT_TRUE(thp_usable());
	squeeze_node1(_metadata);
	p = spm_mmap_aligned(len, SZ_2M);
	ASSERT_NE(MAP_FAILED, p);
	ASSERT_EQ(0, madvise(p, len, MADV_HUGEPAGE));
	spm_snap(&self->a);
	spm_fill(p, len, 500);
	spm_snap(&self->b);
	spm_snap_log("SysRAM", &self->a, &self->b, self->sysram);
	expect_spm_untouched(_metadata, self, 1024);
	EXPECT_LE(32 * 1024, spm_nodes_delta(&self->a, &self->b, self->sysram, K_ANONHUGE));
	ASSERT_EQ((long)(len / 4096), spm_count_pages(p, len, counts));
	EXPECT_EQ(0, spm_count_in(counts, self->spm));
	EXPECT_EQ(0, spm_verify(p, len, 500));
}

/* Small pages on SysRAM, collapsed by MADV_COLLAPSE: the huge pages stay on SysRAM. */
TEST_F(iso, thp_collapse_stays_off_spm)
{
	size_t len = 16UL << 20;
	long counts[SPM_MAXN + 1];
	char *p;
	int ret;

	ASSERT_TRUE(thp_usable());
	ASSERT_EQ(0, spm_pin_cpu(1));
	p = spm_mmap_aligned(len, SZ_2M);
	ASSERT_NE(MAP_FAILED, p);
	ASSERT_EQ(0, madvise(p, len, MADV_NOHUGEPAGE));
	spm_fill(p, len, 501);
	/* Before MADV_HUGEPAGE: khugepaged may collapse the range first. */
	spm_snap(&self->a);
	ASSERT_EQ(0, madvise(p, len, MADV_HUGEPAGE));
	ret = madvise(p, len, MADV_COLLAPSE);
	spm_snap(&self->b);
	ASSERT_EQ(0, ret) {
		TH_LOG("MADV_COLLAPSE: %s", strerror(errno));
	}
	expect_spm_untouched(_metadata, self, 1024);
	EXPECT_LE((long long)(len >> 10), spm_nodes_delta(&self->a, &self->b, self->sysram, K_ANONHUGE));
	ASSERT_EQ((long)(len / 4096), spm_count_pages(p, len, counts));
	EXPECT_EQ(0, spm_count_in(counts, self->spm));
	EXPECT_EQ(0, spm_verify(p, len, 501));
}

/* The same through the khugepaged thread. */
TEST_F_TIMEOUT(iso, khugepaged_collapse_stays_off_spm, 90)
{
	size_t len = 8UL << 20;
	long counts[SPM_MAXN + 1];
	long long huge = 0;
	char *p;
	int i;

	ASSERT_TRUE(thp_usable());
	ASSERT_EQ(0, knob_set(self, "/sys/kernel/mm/transparent_hugepage/khugepaged/scan_sleep_millisecs", "10"));
	ASSERT_EQ(0, knob_set(self, "/sys/kernel/mm/transparent_hugepage/khugepaged/alloc_sleep_millisecs", "10"));
	ASSERT_EQ(0, knob_set(self, "/sys/kernel/mm/transparent_hugepage/khugepaged/pages_to_scan", "8192"));
	ASSERT_EQ(0, spm_pin_cpu(1));
	p = spm_mmap_aligned(len, SZ_2M);
	ASSERT_NE(MAP_FAILED, p);
	ASSERT_EQ(0, madvise(p, len, MADV_NOHUGEPAGE));
	spm_fill(p, len, 502);
	spm_snap(&self->a);
	ASSERT_EQ(0, madvise(p, len, MADV_HUGEPAGE));
	for (i = 0; i < 600; i++) {
		spm_snap(&self->b);
		huge = spm_nodes_delta(&self->a, &self->b, self->sysram | self->spm, K_ANONHUGE);
		if (huge >= (long long)(len >> 10))
			break;
		usleep(50000);
	}
	TH_LOG("khugepaged collapsed %lld kB in %d ms", huge, i * 50);
	EXPECT_LE((long long)(len >> 10), huge);
	expect_spm_untouched(_metadata, self, 1024);
	ASSERT_EQ((long)(len / 4096), spm_count_pages(p, len, counts));
	EXPECT_EQ(0, spm_count_in(counts, self->spm));
	EXPECT_EQ(0, spm_verify(p, len, 502));
}

/* Pages explicitly placed on an SPM node collapse there (the nid is kept). */
TEST_F(iso, thp_collapse_of_spm_pages_stays_on_that_node)
{
	unsigned long m = 1UL << self->first_spm;
	size_t len = 8UL << 20;
	long counts[SPM_MAXN + 1];
	char *p;
	int ret;

	ASSERT_TRUE(thp_usable());
	allow_spm(self, 1);
	p = spm_mmap_aligned(len, SZ_2M);
	ASSERT_NE(MAP_FAILED, p);
	ASSERT_EQ(0, spm_mbind(p, len, MPOL_BIND, &m, MAXNODE, 0));
	ASSERT_EQ(0, madvise(p, len, MADV_NOHUGEPAGE));
	spm_fill(p, len, 503);
	spm_snap(&self->a);
	ASSERT_EQ(0, madvise(p, len, MADV_HUGEPAGE));
	ret = madvise(p, len, MADV_COLLAPSE);
	spm_snap(&self->b);
	ASSERT_EQ(0, ret) {
		TH_LOG("MADV_COLLAPSE: %s", strerror(errno));
	}
	spm_snap_log("SPM", &self->a, &self->b, self->spm);
	EXPECT_EQ((long long)(len >> 10),
		  SNAP_DELTA(&self->a, &self->b, self->first_spm, K_ANONHUGE));
	ASSERT_EQ((long)(len / 4096), spm_count_pages(p, len, counts));
	EXPECT_EQ((long)(len / 4096), counts[self->first_spm]);
	EXPECT_EQ(0, spm_verify(p, len, 503));
}

/* ----------------------------------------------------------------- KSM */

#define KSM "/sys/kernel/mm/ksm"
#define PM_PRESENT (1ULL << 63)
#define PM_EXCLUSIVE (1ULL << 56)
#define PM_PFN ((1ULL << 55) - 1)

/* The pagemap entry of addr (root: the PFN is shown). */
static uint64_t pagemap_of(int pagemap, void *addr)
{
	uint64_t ent = 0;

	if (pread(pagemap, &ent, 8, ((uintptr_t)addr / 4096) * 8) != 8)
		return 0;
	return ent;
}

/*
 * Three regions with identical contents: A and C on SysRAM (nodes 1 and
 * 0), B bound to an SPM node (permitted). After ksmd has run, A and C
 * share pages (same PFN), B shares nothing (its own PFN, exclusively
 * mapped), B is still on the SPM node, and no A/C page is on an SPM node.
 * (kpageflags KPF_KSM cannot tell: 6.12 reports it for every anon page.)
 */
TEST_F_TIMEOUT(iso, ksm_never_merges_spm_pages, 120)
{
	enum { NP = 512 };
	size_t len = NP * 4096UL;
	unsigned long one = 1UL << 1, zero = 1UL, spm = 1UL << self->first_spm;
	long counts[SPM_MAXN + 1];
	long long scans0;
	int pm, i, ac_shared = 0, b_shared = 0, b_excl = 0;
	char *a, *b, *c;

	ASSERT_EQ(0, access(KSM "/run", W_OK));
	allow_spm(self, 1);
	a = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	b = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	c = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, a);
	ASSERT_NE(MAP_FAILED, b);
	ASSERT_NE(MAP_FAILED, c);
	ASSERT_EQ(0, spm_mbind(a, len, MPOL_BIND, &one, MAXNODE, 0));
	ASSERT_EQ(0, spm_mbind(b, len, MPOL_BIND, &spm, MAXNODE, 0));
	ASSERT_EQ(0, spm_mbind(c, len, MPOL_BIND, &zero, MAXNODE, 0));
	/* B first: a KSM that merged it could make it the stable copy. */
	spm_fill(b, len, 600);
	spm_fill(a, len, 600);
	spm_fill(c, len, 600);
	ASSERT_EQ((long)NP, spm_count_pages(b, len, counts));
	ASSERT_EQ((long)NP, counts[self->first_spm]);
	ASSERT_EQ(0, madvise(b, len, MADV_MERGEABLE));
	ASSERT_EQ(0, madvise(a, len, MADV_MERGEABLE));
	ASSERT_EQ(0, madvise(c, len, MADV_MERGEABLE));

	/* Cross-node merging (the default): SysRAM and SPM copies are candidates. */
	ASSERT_EQ(1, spm_read_ll(KSM "/merge_across_nodes"));
	ASSERT_EQ(0, knob_set(self, KSM "/pages_to_scan", "4096"));
	ASSERT_EQ(0, knob_set(self, KSM "/sleep_millisecs", "10"));
	scans0 = spm_read_ll(KSM "/full_scans");
	spm_snap(&self->a);
	ASSERT_EQ(0, knob_set(self, KSM "/run", "1"));
	for (i = 0; i < 1200; i++) {
		if (spm_read_ll(KSM "/full_scans") >= scans0 + 3)
			break;
		usleep(50000);
	}
	spm_snap(&self->b);
	TH_LOG("ksmd: %lld full scans, pages_shared %lld, pages_sharing %lld",
	       spm_read_ll(KSM "/full_scans") - scans0, spm_read_ll(KSM "/pages_shared"),
	       spm_read_ll(KSM "/pages_sharing"));
	ASSERT_LE(scans0 + 3, spm_read_ll(KSM "/full_scans"));

	pm = open("/proc/self/pagemap", O_RDONLY);
	ASSERT_LE(0, pm);
	for (i = 0; i < NP; i++) {
		uint64_t ea = pagemap_of(pm, a + i * 4096UL);
		uint64_t eb = pagemap_of(pm, b + i * 4096UL);
		uint64_t ec = pagemap_of(pm, c + i * 4096UL);

		ac_shared += (ea & PM_PRESENT) && (ea & PM_PFN) && (ea & PM_PFN) == (ec & PM_PFN);
		b_shared += (eb & PM_PFN) == (ea & PM_PFN) || (eb & PM_PFN) == (ec & PM_PFN);
		b_excl += (eb & PM_PRESENT) && (eb & PM_EXCLUSIVE);
	}
	close(pm);
	TH_LOG("A/C pages sharing a frame: %d; B pages sharing a frame with A or C: %d; B exclusive: %d (of %d)",
	       ac_shared, b_shared, b_excl, NP);
	EXPECT_LE(NP * 9 / 10, ac_shared);
	EXPECT_EQ(0, b_shared);
	EXPECT_EQ(NP, b_excl);
	ASSERT_EQ((long)NP, spm_count_pages(b, len, counts));
	EXPECT_EQ((long)NP, counts[self->first_spm]);
	ASSERT_EQ((long)NP, spm_count_pages(a, len, counts));
	EXPECT_EQ(0, spm_count_in(counts, self->spm));
	ASSERT_EQ((long)NP, spm_count_pages(c, len, counts));
	EXPECT_EQ(0, spm_count_in(counts, self->spm));
	EXPECT_EQ(0, spm_verify(a, len, 600));
	EXPECT_EQ(0, spm_verify(b, len, 600));
	EXPECT_EQ(0, spm_verify(c, len, 600));
	/* The SPM node kept B's pages: nothing freed or added there. */
	spm_snap_log("SPM", &self->a, &self->b, self->spm);
	EXPECT_EQ(0, SNAP_DELTA(&self->a, &self->b, self->first_spm, K_ANON));
	spm_write_file(KSM "/run", "2");	/* unmerge everything */
}

/* ------------------------------------------------------ NUMA balancing */

/*
 * Pages on node 0 used from CPU 1: NUMA balancing migrates them to node 1,
 * never to a (CPU-less) SPM node. The scanner's delay and period are
 * taken at fork, so the worker is forked after the knobs are set; it
 * runs busy (the scan period is in CPU time).
 */
struct nb_report {
	long passes, on_node1, on_spm_max, bad;
};

TEST_F_TIMEOUT(iso, numa_balancing_stays_off_spm, 90)
{
	size_t len = 16UL << 20;
	struct nb_report r = { -1, -1, -1, -1 };
	int fds[2], status;
	pid_t pid;

	ASSERT_EQ(0, knob_set(self, "/proc/sys/kernel/numa_balancing", "1"));
	knob_set(self, "/sys/kernel/debug/sched/numa_balancing/scan_delay_ms", "0");
	knob_set(self, "/sys/kernel/debug/sched/numa_balancing/scan_period_min_ms", "10");
	knob_set(self, "/sys/kernel/debug/sched/numa_balancing/scan_period_max_ms", "100");
	knob_set(self, "/sys/kernel/debug/sched/numa_balancing/scan_size_mb", "64");
	ASSERT_EQ(0, pipe(fds));
	spm_snap(&self->a);
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		unsigned long zero = 1UL;
		long counts[SPM_MAXN + 1];
		char *p;
		size_t off;
		long i;

		close(fds[0]);
		p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (p == MAP_FAILED || spm_pin_cpu(0) ||
		    spm_mbind(p, len, MPOL_BIND, &zero, MAXNODE, 0))
			_exit(2);
		spm_fill(p, len, 700);
		if (spm_mbind(p, len, MPOL_DEFAULT, NULL, 0, 0) || spm_pin_cpu(1))
			_exit(3);
		r.on_spm_max = 0;
		for (i = 0; i < 20000; i++) {
			for (off = 0; off < len; off += 4096)
				(void)*(volatile char *)(p + off);
			if (i % 20 == 19) {
				spm_count_pages(p, len, counts);
				r.on_node1 = counts[1];
				if (spm_count_in(counts, self->spm) > r.on_spm_max)
					r.on_spm_max = spm_count_in(counts, self->spm);
				if (r.on_node1 >= (long)(len / 4096 * 3 / 4))
					break;
			}
		}
		r.passes = i;
		r.bad = spm_verify(p, len, 700);
		if (write(fds[1], &r, sizeof(r)) != sizeof(r))
			_exit(4);
		_exit(0);
	}
	close(fds[1]);
	EXPECT_EQ((ssize_t)sizeof(r), read(fds[0], &r, sizeof(r)));
	waitpid(pid, &status, 0);
	spm_snap(&self->b);
	TH_LOG("after %ld passes: %ld of %zu pages on node 1, at most %ld ever on SPM nodes",
	       r.passes, r.on_node1, len / 4096, r.on_spm_max);
	EXPECT_LE((long)(len / 4096 / 2), r.on_node1);
	EXPECT_EQ(0, r.on_spm_max);
	EXPECT_EQ(0, r.bad);
	expect_spm_untouched(_metadata, self, 1024);
}

/* ---------------------------------------------------------- compaction */

TEST_F(iso, compaction_stays_off_spm)
{
	size_t len = 64UL << 20, off;
	long counts[SPM_MAXN + 1], bad = 0;
	char *p;

	ASSERT_EQ(0, spm_pin_cpu(1));
	p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, p);
	spm_fill(p, len, 800);
	/* Free every other page: fragmentation for compaction to fix. */
	for (off = 4096; off < len; off += 8192)
		madvise(p + off, 4096, MADV_DONTNEED);
	spm_snap(&self->a);
	ASSERT_EQ(0, spm_write_file("/proc/sys/vm/compact_memory", "1"));
	spm_snap(&self->b);
	expect_spm_untouched(_metadata, self, 1024);
	ASSERT_EQ((long)(len / 4096), spm_count_pages(p, len, counts));
	EXPECT_EQ(0, spm_count_in(counts, self->spm));
	for (off = 0; off < len; off += 8192)
		bad += spm_pattern(800, off / 4096, 0) != *(uint64_t *)(p + off);
	EXPECT_EQ(0, bad);
}

TEST_HARNESS_MAIN
