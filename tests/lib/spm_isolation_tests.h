/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Isolation of SPM nodes on every default allocation path and from the
 * memory services that would move memory there or act on it, under real
 * memory pressure. Every test asserts, for every SPM node (has_spm_memory,
 * or $SPM_TEST_NODES to point the tests at a kernel without SPM support):
 *   - per-page placement (move_pages query): no page of the workload there
 *     (or, for pages the test put there itself, that they stayed put)
 *   - per-node meminfo deltas of zero there (FilePages, AnonPages, Shmem,
 *     Slab, AnonHugePages; MemUsed within 1-2 MiB)
 * and, so that it can fail for the right reason, that the workload really
 * allocated what it should on SysRAM, or that the service really ran (a
 * control range it did act on). Data is checked where it moved.
 *
 * Every isolation test here fails on a kernel without the series (the
 * baseline-iso suite runs this program on the baseline kernel and checks
 * the list of failures); thp_collapse_of_spm_pages_stays_on_that_node is
 * the one positive control, which must pass there too.
 *
 * Pressure: the fixture checks that a kernel without isolation falls back
 * from node 1 to an SPM node before any SysRAM node (node distances, CPU
 * or not: find_next_best_node()'s rule; "1 2 0" in this VM), so the
 * workloads run on CPU 1 with node 1 nearly full (a tmpfs file bound to
 * node 1 by its mount policy; see spm_squeeze()) or fragmented beyond
 * what compaction can repair (fragment_node()): without isolation their
 * next stop is node 2. The anonymous and tmpfs tests instead allocate 70%
 * of SysRAM (anon, then on until the OOM killer acts) and a tmpfs file of
 * up to 1.3 GB.
 *
 * Services: THP collapse (MADV_COLLAPSE and khugepaged) of a range most of
 * whose pages sit on an SPM node the task may no longer use, NUMA
 * balancing of pages on such a node, KSM merging with pages there.
 *
 * Memory that user space has the kernel allocate through the interfaces a
 * distribution kernel builds in: io_uring rings and registered buffers,
 * BPF array and arena maps, memfd_secret, the hugetlb pool and its
 * surplus pages (each sized past what squeeze_node1() leaves on node 1).
 *
 * Explicit placements (task bind, KSM, THP collapse, NUMA balancing) use
 * the lowest SPM node, or SPM_NODE when defined (the spm-dax suite builds
 * this file again with node 3, and then checks nodes 2 and 3 for
 * isolation).
 *
 * To watch them fail on a kernel without SPM support (what the
 * baseline-iso suite does):
 *   make initramfs KERNEL=baseline
 *   tools/spm-vm --kernel baseline \
 *       --exec 'SPM_TEST_NODES=2 /spm/tests/spm-core/test_40_isolation'
 *
 * The test bodies live in tests/lib/ so that tests/spm-core (SPM_NODE 2)
 * and tests/spm-dax (SPM_NODE 3) build the same code, and the Makefile's
 * dependency on the headers in tests/lib rebuilds both when it changes.
 */
#include <linux/bpf.h>
#include <linux/io_uring.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/uio.h>
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
	int spm_sysfs;		/* the kernel has SPM nodes (nodeN/spm/ files) */
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

/*
 * Grant or withdraw user placement (allow_user) on every SPM node under
 * test, and fail the test if that does not work. On a kernel without SPM
 * nodes ($SPM_TEST_NODES) there is no such switch: user space may place
 * memory on any node there, before and after.
 */
static void permit_spm(struct __test_metadata *_metadata,
		       FIXTURE_DATA(iso) *self, int on)
{
	int nid, err;

	if (!self->spm_sysfs)
		return;
	for (nid = 0; nid < SPM_MAXN; nid++) {
		if (!(self->spm & (1LL << nid)))
			continue;
		err = spm_allow_user_set(nid, on);
		ASSERT_EQ(0, err) {
			TH_LOG("node%d/spm/allow_user = %d: %s", nid, on, strerror(-err));
		}
		ASSERT_EQ(on, spm_allow_user_get(nid));
	}
}

/*
 * The order in which a kernel without SPM isolation falls back from node
 * nid, as build_zonelists() makes it: nid first, then, among the other
 * nodes with memory, the lowest node distance, plus one for a node with
 * CPUs and one for a node numbered below nid (find_next_best_node(); its
 * load term only breaks exact ties). order[] and score[] get the nodes
 * and their scores; returns how many, or -1 if sysfs cannot be read.
 */
static int stock_fallback_order(int nid, int *order, int *score, int max)
{
	long long online = spm_sysfs_nodemask("online");
	long long mem = spm_sysfs_nodemask("has_memory");
	int dist[SPM_MAXN], cpus[SPM_MAXN], n, k = 0;
	char path[128], buf[512], cpulist[64], *s = buf, *end;
	long long used = 1LL << nid;

	if (online < 0 || mem < 0)
		return -1;
	snprintf(path, sizeof(path), SPM_NODE_SYSFS "/node%d/distance", nid);
	if (spm_read_file(path, buf, sizeof(buf)) <= 0)
		return -1;
	/* One distance per online node, in node order. */
	for (n = 0; n < SPM_MAXN; n++) {
		dist[n] = -1;
		cpus[n] = 0;
		if (!(online & (1LL << n)))
			continue;
		dist[n] = strtol(s, &end, 10);
		if (end == s)
			return -1;
		s = end;
		snprintf(path, sizeof(path), SPM_NODE_SYSFS "/node%d/cpulist", n);
		cpus[n] = spm_read_file(path, cpulist, sizeof(cpulist)) > 0;
	}
	order[k] = nid;
	score[k++] = 0;
	while (k < max) {
		int best = -1, best_score = 1 << 30;

		for (n = 0; n < SPM_MAXN; n++) {
			int v = dist[n] + (n < nid) + cpus[n];

			if (!(mem & (1LL << n)) || (used & (1LL << n)) || dist[n] < 0)
				continue;
			if (v < best_score) {
				best_score = v;
				best = n;
			}
		}
		if (best < 0)
			break;
		order[k] = best;
		score[k++] = best_score;
		used |= 1LL << best;
	}
	return k;
}

FIXTURE_SETUP(iso)
{
	int order[SPM_MAXN], score[SPM_MAXN], n, i, nid;
	char list[128] = "";

	self->spm_sysfs = access(SPM_NODE_SYSFS "/has_spm_memory", F_OK) == 0;
	self->spm = spm_test_nodes();
#ifdef SPM_NODE
	/*
	 * A kernel without SPM nodes and no $SPM_TEST_NODES (tests/run
	 * --kernel baseline spm-core): test SPM_NODE as if it were one, to
	 * show what such a kernel does with it.
	 */
	if (!self->spm_sysfs && self->spm < 0) {
		self->spm = 1LL << SPM_NODE;
		TH_LOG("no has_spm_memory: node %d tested as the SPM node", SPM_NODE);
	}
#endif
	ASSERT_LT(0, self->spm) {
		TH_LOG("no SPM node (has_spm_memory empty)");
	}
	self->sysram = spm_sysfs_nodemask("has_memory");
	ASSERT_LT(0, self->sysram);
	self->sysram &= ~self->spm;
	ASSERT_EQ(0x3, self->sysram & 0x3);
	self->first_spm = __builtin_ctzll(self->spm);
#ifdef SPM_NODE
	/* The node that explicit placements (KSM, THP collapse, task bind) use. */
	self->first_spm = SPM_NODE;
	ASSERT_TRUE(self->spm & (1LL << SPM_NODE));
#endif
	for (nid = 0; nid < SPM_MAXN; nid++)
		self->saved_allow[nid] = (self->spm & (1LL << nid)) ? spm_allow_user_get(nid) : -1;

	/*
	 * The premise of the pressure tests: without isolation, what CPU 1
	 * cannot get on node 1 would come from an SPM node, ahead of every
	 * SysRAM node. If the topology changes so that it would not, the
	 * tests could no longer fail on a kernel without the series.
	 */
	n = stock_fallback_order(1, order, score, SPM_MAXN);
	for (i = 0; i < n; i++)
		snprintf(list + strlen(list), sizeof(list) - strlen(list), "%s%d(%d)",
			 i ? " " : "", order[i], score[i]);
	ASSERT_LE(2, n) {
		TH_LOG("node 1's fallback order cannot be worked out from sysfs");
	}
	ASSERT_TRUE(self->spm & (1LL << order[1])) {
		TH_LOG("stock fallback order from node 1, node(score): %s: the first fallback is no SPM node under test",
		       list);
	}
	for (i = 2; i < n; i++) {
		if (!(self->sysram & (1LL << order[i])))
			continue;
		ASSERT_LT(score[1], score[i]) {
			TH_LOG("stock fallback order from node 1, node(score): %s: SPM node %d ties with SysRAM node %d",
			       list, order[1], order[i]);
		}
		break;
	}
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

	/* A file that does not fit beside 450 MiB of headroom tests nothing. */
	ASSERT_LT(450 * 1024 + 256 * 1024, free_kb) {
		TH_LOG("SysRAM free %lld MiB: too little for a 256 MiB file",
		       free_kb >> 10);
	}
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

/*
 * tmpfs files with node 1 full, then their teardown: 100k on the test
 * kernels, fewer in proportion on a slow (debug) kernel, whose slab
 * objects carry KASAN and SLUB redzones (about 2.2 kB of slab a file,
 * 222 MiB for 100k, against the 30 MiB asserted) and where 100k files
 * took more than the 4 x 300 s budget with two other VMs on the host.
 */
TEST_F_TIMEOUT(iso, slab_under_pressure_stays_off_spm, 300)
{
	char name[64];
	int i, fd, nfiles = 100000 / spm_timeout_scale();

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
	/* nfiles inodes and dentries: tens of MiB of slab, all on SysRAM. */
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

/*
 * THP collapse of a range whose pages mostly sit on an SPM node the task
 * may not use. A kernel without isolation allocates the huge page on the
 * node holding most of the small pages (hpage_collapse_find_target_node():
 * alloc_nmask is that node alone), so the collapse itself would put a new
 * 2 MiB page on the SPM node. With the series a collapse allocates there
 * only where user placement is permitted now: here it is not, so the
 * collapse leaves the pages as they are (or makes the huge page on
 * SysRAM), and no huge page appears on an SPM node.
 *
 * Setup, per range of COLLAPSE_LEN: small pages written from CPU 1 (on
 * SysRAM), then COLLAPSE_SPM_PER_PMD of every 512 moved to the SPM node
 * with move_pages() while allow_user is 1 (the only way to get them there
 * on a kernel with the series), then allow_user withdrawn. A second range
 * left on SysRAM is collapsed as well: the control that collapse works.
 */
#define COLLAPSE_LEN (4UL << 20)
#define COLLAPSE_SPM_PER_PMD 384

/*
 * Move the first per_pmd pages of every 2 MiB of [p, p + len) to node
 * nid (move_pages); returns how many are on nid afterwards, or -errno.
 */
static long move_head_pages(char *p, size_t len, int per_pmd, int nid)
{
	long n = len / SZ_2M * per_pmd, i, on = 0;
	void **pages = calloc(n, sizeof(*pages));
	int *nodes = calloc(n, sizeof(*nodes));
	int *status = calloc(n, sizeof(*status));

	if (!pages || !nodes || !status) {
		on = -ENOMEM;
		goto out;
	}
	for (i = 0; i < n; i++) {
		pages[i] = p + (i / per_pmd) * SZ_2M + (i % per_pmd) * 4096;
		nodes[i] = nid;
	}
	if (spm_move_pages(0, n, pages, nodes, status, MPOL_MF_MOVE) < 0) {
		on = -errno;
		goto out;
	}
	for (i = 0; i < n; i++)
		on += status[i] == nid;
out:
	free(pages);
	free(nodes);
	free(status);
	return on;
}

/*
 * Two ranges of COLLAPSE_LEN written from CPU 1 with THP off: ctl on
 * SysRAM, mix with COLLAPSE_SPM_PER_PMD pages of every PMD moved to the
 * SPM node under test, after which user placement there is withdrawn.
 * Asserts the placement both start from; *mix_spm gets mix's pages on
 * the SPM node.
 */
static void collapse_setup(struct __test_metadata *_metadata,
			   FIXTURE_DATA(iso) *self, char **ctl, char **mix,
			   uint64_t seed, long *mix_spm)
{
	long n = COLLAPSE_LEN / 4096, want = COLLAPSE_LEN / SZ_2M * COLLAPSE_SPM_PER_PMD;
	long counts[SPM_MAXN + 1], moved;

	ASSERT_TRUE(thp_usable());
	ASSERT_EQ(0, spm_pin_cpu(1));
	*ctl = spm_mmap_aligned(COLLAPSE_LEN, SZ_2M);
	*mix = spm_mmap_aligned(COLLAPSE_LEN, SZ_2M);
	ASSERT_NE(MAP_FAILED, *ctl);
	ASSERT_NE(MAP_FAILED, *mix);
	ASSERT_EQ(0, madvise(*ctl, COLLAPSE_LEN, MADV_NOHUGEPAGE));
	ASSERT_EQ(0, madvise(*mix, COLLAPSE_LEN, MADV_NOHUGEPAGE));
	spm_fill(*ctl, COLLAPSE_LEN, seed);
	spm_fill(*mix, COLLAPSE_LEN, seed + 1);

	permit_spm(_metadata, self, 1);
	moved = move_head_pages(*mix, COLLAPSE_LEN, COLLAPSE_SPM_PER_PMD, self->first_spm);
	permit_spm(_metadata, self, 0);
	ASSERT_EQ(want, moved) {
		TH_LOG("move_pages to node %d: %s", self->first_spm,
		       moved < 0 ? strerror((int)-moved) : "not every page moved");
	}

	/* Precondition: the SPM node holds most pages of every PMD of mix. */
	ASSERT_EQ(n, spm_count_pages(*mix, COLLAPSE_LEN, counts));
	spm_counts_log("mixed range before the collapse", counts);
	ASSERT_EQ(want, counts[self->first_spm]);
	ASSERT_EQ(n - want, spm_count_in(counts, self->sysram));
	*mix_spm = counts[self->first_spm];
	ASSERT_EQ(n, spm_count_pages(*ctl, COLLAPSE_LEN, counts));
	ASSERT_EQ(n, spm_count_in(counts, self->sysram));
}

/*
 * After a collapse attempt on mix: no huge page on any SPM node, and mix
 * either untouched (the collapse was refused) or entirely on SysRAM.
 */
static void expect_mix_not_collapsed_on_spm(struct __test_metadata *_metadata,
					    FIXTURE_DATA(iso) *self, char *mix,
					    long mix_spm, uint64_t seed)
{
	long n = COLLAPSE_LEN / 4096, counts[SPM_MAXN + 1], on_spm;

	spm_snap_log("SPM", &self->a, &self->b, self->spm);
	EXPECT_EQ(0, spm_nodes_delta(&self->a, &self->b, self->spm, K_ANONHUGE));
	ASSERT_EQ(n, spm_count_pages(mix, COLLAPSE_LEN, counts));
	spm_counts_log("mixed range after the collapse", counts);
	on_spm = spm_count_in(counts, self->spm);
	EXPECT_TRUE(on_spm == mix_spm || on_spm == 0) {
		TH_LOG("%ld of %ld pages on SPM nodes (%ld before): collapsed there", on_spm,
		       n, mix_spm);
	}
	EXPECT_EQ(n, counts[self->first_spm] + spm_count_in(counts, self->sysram));
	EXPECT_EQ(0, spm_verify(mix, COLLAPSE_LEN, seed));
}

/* MADV_COLLAPSE. */
TEST_F(iso, thp_collapse_stays_off_spm)
{
	char *ctl, *mix;
	int ret_ctl, ret_mix, err_mix;
	long counts[SPM_MAXN + 1], mix_spm;

	collapse_setup(_metadata, self, &ctl, &mix, 501, &mix_spm);
	spm_snap(&self->a);
	ASSERT_EQ(0, madvise(ctl, COLLAPSE_LEN, MADV_HUGEPAGE));
	ASSERT_EQ(0, madvise(mix, COLLAPSE_LEN, MADV_HUGEPAGE));
	ret_ctl = madvise(ctl, COLLAPSE_LEN, MADV_COLLAPSE);
	ret_mix = madvise(mix, COLLAPSE_LEN, MADV_COLLAPSE);
	err_mix = errno;
	spm_snap(&self->b);
	TH_LOG("MADV_COLLAPSE: control %s, mixed range %s", ret_ctl ? strerror(errno) : "collapsed",
	       ret_mix ? strerror(err_mix) : "collapsed");

	/* The control: collapsed, on SysRAM. */
	EXPECT_EQ(0, ret_ctl);
	EXPECT_LE((long long)(COLLAPSE_LEN >> 10),
		  spm_nodes_delta(&self->a, &self->b, self->sysram, K_ANONHUGE));
	ASSERT_EQ((long)(COLLAPSE_LEN / 4096), spm_count_pages(ctl, COLLAPSE_LEN, counts));
	EXPECT_EQ(0, spm_count_in(counts, self->spm));
	EXPECT_EQ(0, spm_verify(ctl, COLLAPSE_LEN, 501));

	/* A refused collapse says so: ENOMEM, the huge page it may not allocate. */
	if (ret_mix)
		EXPECT_EQ(ENOMEM, err_mix);
	expect_mix_not_collapsed_on_spm(_metadata, self, mix, mix_spm, 502);
}

/* The same through the khugepaged thread. */
TEST_F_TIMEOUT(iso, khugepaged_collapse_stays_off_spm, 120)
{
	const char *scans = "/sys/kernel/mm/transparent_hugepage/khugepaged/full_scans";
	long long ctl_huge = 0, spm_huge = 0, scans_at = -1, scans_now = -1;
	long counts[SPM_MAXN + 1], mix_spm;
	char *ctl, *mix;
	int i;

	ASSERT_EQ(0, knob_set(self, "/sys/kernel/mm/transparent_hugepage/khugepaged/scan_sleep_millisecs", "10"));
	ASSERT_EQ(0, knob_set(self, "/sys/kernel/mm/transparent_hugepage/khugepaged/alloc_sleep_millisecs", "10"));
	ASSERT_EQ(0, knob_set(self, "/sys/kernel/mm/transparent_hugepage/khugepaged/pages_to_scan", "8192"));
	collapse_setup(_metadata, self, &ctl, &mix, 503, &mix_spm);
	spm_snap(&self->a);
	ASSERT_EQ(0, madvise(ctl, COLLAPSE_LEN, MADV_HUGEPAGE));
	ASSERT_EQ(0, madvise(mix, COLLAPSE_LEN, MADV_HUGEPAGE));
	/*
	 * Until khugepaged has collapsed the control and then made two more
	 * full scans (so it has been over mix since), or put mix on an SPM
	 * node.
	 */
	for (i = 0; i < 1200; i++) {
		spm_snap(&self->b);
		ctl_huge = spm_nodes_delta(&self->a, &self->b, self->sysram, K_ANONHUGE);
		spm_huge = spm_nodes_delta(&self->a, &self->b, self->spm, K_ANONHUGE);
		scans_now = SPM_GET(spm_read_ll(scans));
		if (spm_huge >= (long long)(COLLAPSE_LEN >> 10))
			break;
		if (ctl_huge >= (long long)(COLLAPSE_LEN >> 10) && scans_at < 0)
			scans_at = scans_now;
		if (scans_at >= 0 && scans_now >= scans_at + 2)
			break;
		usleep(50000);
	}
	TH_LOG("after %d ms: %lld kB collapsed on SysRAM, %lld kB on SPM nodes; %lld full scans since the control",
	       i * 50, ctl_huge, spm_huge, scans_at < 0 ? -1 : scans_now - scans_at);

	/* The control: khugepaged ran, and went over mix after it. */
	EXPECT_LE((long long)(COLLAPSE_LEN >> 10), ctl_huge);
	ASSERT_EQ((long)(COLLAPSE_LEN / 4096), spm_count_pages(ctl, COLLAPSE_LEN, counts));
	EXPECT_EQ(0, spm_count_in(counts, self->spm));
	EXPECT_EQ(0, spm_verify(ctl, COLLAPSE_LEN, 503));
	if (spm_huge == 0)
		EXPECT_LE(scans_at + 2, scans_now);

	expect_mix_not_collapsed_on_spm(_metadata, self, mix, mix_spm, 504);
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
 * NUMA balancing of pages that sit on an SPM node. A kernel without
 * isolation treats them like any other misplaced page: used from CPU 1,
 * they migrate to node 1 (the faulting CPU's node). With the series, NUMA
 * balancing moves folios off an SPM node only if its owner allows
 * migration (or demotion put them there); an unowned node with allow_user
 * withdrawn allows neither, so they stay where they are.
 *
 * A worker writes B from CPU 0 and moves it to the SPM node while
 * allow_user is 1; the test then withdraws it and the worker reads A (the
 * control, written on node 0) and B from CPU 1 with NUMA balancing on. A
 * must move to node 1 (balancing works); B must stay on the SPM node,
 * sampled all along, also for as many passes again after A has moved.
 * The scanner's delay and period are taken at fork, so the worker is
 * forked after the knobs are set; it runs busy (the scan period is in CPU
 * time).
 */
struct nb_report {
	long b_on_spm0;		/* B's pages on the SPM node before balancing */
	long passes, a_moved_at, a_on_node1;
	long b_on_spm_min, b_on_node1_max, bad_a, bad_b;
};

static void nb_worker(FIXTURE_DATA(iso) *self, size_t len, int up, int down)
{
	unsigned long zero = 1UL;
	long n = len / 4096, counts[SPM_MAXN + 1], i, stop = 0;
	struct nb_report r = { .b_on_spm0 = -1 };
	void **pages = calloc(n, sizeof(*pages));
	int *nodes = calloc(n, sizeof(*nodes));
	int *status = calloc(n, sizeof(*status));
	char *a, *b, c;
	size_t off;

	a = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	b = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (!pages || !nodes || !status || a == MAP_FAILED || b == MAP_FAILED ||
	    spm_pin_cpu(0) || spm_mbind(a, len, MPOL_BIND, &zero, MAXNODE, 0))
		_exit(2);
	spm_fill(a, len, 700);
	spm_fill(b, len, 701);
	if (spm_mbind(a, len, MPOL_DEFAULT, NULL, 0, 0))
		_exit(3);
	for (i = 0; i < n; i++) {
		pages[i] = b + i * 4096;
		nodes[i] = self->first_spm;
	}
	if (spm_move_pages(0, n, pages, nodes, status, MPOL_MF_MOVE) == 0 &&
	    spm_count_pages(b, len, counts) == n)
		r.b_on_spm0 = counts[self->first_spm];
	/* Ready; wait until the test has withdrawn the permission. */
	if (write(up, &r, sizeof(r)) != sizeof(r) || read(down, &c, 1) != 1)
		_exit(4);
	if (spm_pin_cpu(1))
		_exit(5);

	r.b_on_spm_min = n;
	r.b_on_node1_max = 0;
	r.a_moved_at = -1;
	for (i = 0; i < 40000; i++) {
		for (off = 0; off < len; off += 4096) {
			(void)*(volatile char *)(a + off);
			(void)*(volatile char *)(b + off);
		}
		if (i % 20 != 19)
			continue;
		spm_count_pages(a, len, counts);
		r.a_on_node1 = counts[1];
		spm_count_pages(b, len, counts);
		if (spm_count_in(counts, self->spm) < r.b_on_spm_min)
			r.b_on_spm_min = spm_count_in(counts, self->spm);
		if (counts[1] > r.b_on_node1_max)
			r.b_on_node1_max = counts[1];
		/* A has moved: go on for as many passes again, at least 200. */
		if (r.a_moved_at < 0 && r.a_on_node1 >= n * 3 / 4) {
			r.a_moved_at = i + 1;
			stop = 2 * (i + 1) > i + 201 ? 2 * (i + 1) : i + 201;
		}
		if (stop && i + 1 >= stop)
			break;
	}
	r.passes = i;
	r.bad_a = spm_verify(a, len, 700);
	r.bad_b = spm_verify(b, len, 701);
	/* Report, and keep B mapped until the test has taken its snapshot. */
	if (write(up, &r, sizeof(r)) != sizeof(r))
		_exit(6);
	if (read(down, &c, 1) < 0)
		_exit(7);
	_exit(0);
}

TEST_F_TIMEOUT(iso, numa_balancing_stays_off_spm, 150)
{
	size_t len = 16UL << 20;
	long n = len / 4096;
	struct nb_report r = { .b_on_spm0 = -1 };
	int up[2], down[2], status;
	pid_t pid;

	ASSERT_EQ(0, knob_set(self, "/proc/sys/kernel/numa_balancing", "1"));
	knob_set(self, "/sys/kernel/debug/sched/numa_balancing/scan_delay_ms", "0");
	knob_set(self, "/sys/kernel/debug/sched/numa_balancing/scan_period_min_ms", "10");
	knob_set(self, "/sys/kernel/debug/sched/numa_balancing/scan_period_max_ms", "100");
	knob_set(self, "/sys/kernel/debug/sched/numa_balancing/scan_size_mb", "64");
	permit_spm(_metadata, self, 1);
	ASSERT_EQ(0, pipe(up));
	ASSERT_EQ(0, pipe(down));
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		close(up[0]);
		close(down[1]);
		nb_worker(self, len, up[1], down[0]);
	}
	close(up[1]);
	close(down[0]);

	/* Precondition: all of B on the SPM node. */
	ASSERT_EQ((ssize_t)sizeof(r), read(up[0], &r, sizeof(r)));
	ASSERT_EQ(n, r.b_on_spm0) {
		TH_LOG("move_pages of B to node %d: %ld of %ld pages there", self->first_spm,
		       r.b_on_spm0, n);
	}
	permit_spm(_metadata, self, 0);
	spm_snap(&self->a);
	ASSERT_EQ(1, write(down[1], "g", 1));

	ASSERT_EQ((ssize_t)sizeof(r), read(up[0], &r, sizeof(r)));
	spm_snap(&self->b);
	ASSERT_EQ(1, write(down[1], "d", 1));
	waitpid(pid, &status, 0);
	TH_LOG("%ld passes from CPU 1 (A moved after %ld): A %ld of %ld pages on node 1; B at least %ld on SPM nodes all along, at most %ld on node 1",
	       r.passes, r.a_moved_at, r.a_on_node1, n, r.b_on_spm_min, r.b_on_node1_max);
	spm_snap_log("SPM", &self->a, &self->b, self->spm);

	/* The control: NUMA balancing moved A to CPU 1's node. */
	EXPECT_LE(n * 3 / 4, r.a_on_node1);
	EXPECT_LT(0, r.a_moved_at);
	/* B: never left the SPM node, not one page. */
	EXPECT_EQ(n, r.b_on_spm_min);
	EXPECT_EQ(0, r.b_on_node1_max);
	EXPECT_EQ(0, spm_nodes_delta(&self->a, &self->b, self->spm, K_ANON));
	EXPECT_EQ(0, r.bad_a);
	EXPECT_EQ(0, r.bad_b);
	EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

/* ---------------------------------------------------------- compaction */

#define PMD_ORDER_4K 9	/* 2 MiB in 4 KiB pages */

/*
 * Free memory of node nid in free blocks of 2 MiB or more
 * (/proc/buddyinfo, every zone), in 2 MiB units; -1 if it cannot be read.
 */
static long long free_2m_blocks(int nid)
{
	char line[512], zone[32], *s, *end;
	long long sum = 0, c;
	int n, off, order, found = 0;
	FILE *f = fopen("/proc/buddyinfo", "r");

	if (!f)
		return spm_miss(-1, "/proc/buddyinfo: %m");
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "Node %d, zone %31s%n", &n, zone, &off) != 2 || n != nid)
			continue;
		found = 1;
		s = line + off;
		for (order = 0; ; order++) {
			c = strtoll(s, &end, 10);
			if (end == s)
				break;
			s = end;
			if (order >= PMD_ORDER_4K)
				sum += c << (order - PMD_ORDER_4K);
		}
	}
	fclose(f);
	if (!found)
		return spm_miss(-1, "no node %d in /proc/buddyinfo", nid);
	return sum;
}

struct frag {
	char *base;
	size_t len;
	long kept, freed;
};

/*
 * Fragment node nid beyond what compaction can repair: fill its free
 * memory, all but leave_kb, with mlocked pages bound there, then unmap
 * all of them but one in each pageblock they occupy (PFNs from
 * /proc/self/pagemap). With vm.compact_unevictable_allowed at 0,
 * compaction does not move an mlocked page, so none of those pageblocks
 * can become a free 2 MiB block again, and the rest of each is free.
 * fr->base/len is the whole range (unmapped by the caller).
 */
static void fragment_node(struct __test_metadata *_metadata, int nid,
			  long long leave_kb, struct frag *fr)
{
	unsigned long mask = 1UL << nid;
	long long free_kb = SPM_GET(spm_node_meminfo(nid, "MemFree"));
	unsigned char *kept = NULL;
	uint64_t *pfn, max_pfn = 0;
	size_t n, i, run;
	int pm;

	ASSERT_LT(leave_kb + 128 * 1024, free_kb);
	fr->len = ((size_t)(free_kb - leave_kb) << 10) & ~(SZ_2M - 1);
	fr->base = mmap(NULL, fr->len, PROT_READ | PROT_WRITE,
			MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, fr->base);
	/* Small pages only: a huge page would not be freed by a partial unmap. */
	ASSERT_EQ(0, madvise(fr->base, fr->len, MADV_NOHUGEPAGE));
	ASSERT_EQ(0, spm_mbind(fr->base, fr->len, MPOL_BIND, &mask, MAXNODE, 0));
	ASSERT_EQ(0, mlock(fr->base, fr->len)) {
		TH_LOG("mlock of %zu MiB on node %d: %s", fr->len >> 20, nid, strerror(errno));
	}

	n = fr->len / 4096;
	pfn = calloc(n, sizeof(*pfn));
	ASSERT_NE(NULL, pfn);
	pm = open("/proc/self/pagemap", O_RDONLY);
	ASSERT_LE(0, pm);
	ASSERT_EQ((ssize_t)(n * sizeof(*pfn)),
		  pread(pm, pfn, n * sizeof(*pfn), (uintptr_t)fr->base / 4096 * sizeof(*pfn)));
	close(pm);
	for (i = 0; i < n; i++) {
		ASSERT_TRUE((pfn[i] & PM_PRESENT) && (pfn[i] & PM_PFN)) {
			TH_LOG("page %zu of the fill: no PFN in pagemap", i);
		}
		pfn[i] &= PM_PFN;
		if (pfn[i] > max_pfn)
			max_pfn = pfn[i];
	}
	kept = calloc((max_pfn >> PMD_ORDER_4K) + 1, 1);
	ASSERT_NE(NULL, kept);
	for (i = 0; i < n; i = run) {
		if (!kept[pfn[i] >> PMD_ORDER_4K]) {
			kept[pfn[i] >> PMD_ORDER_4K] = 1;
			fr->kept++;
			run = i + 1;
			continue;
		}
		for (run = i; run < n && kept[pfn[run] >> PMD_ORDER_4K]; run++)
			;
		ASSERT_EQ(0, munmap(fr->base + i * 4096, (run - i) * 4096));
		fr->freed += run - i;
	}
	free(kept);
	free(pfn);
}

/*
 * Node 1 fragmented beyond what compaction can repair (fragment_node(),
 * then node1/compact): hundreds of MiB free there, but hardly a free
 * 2 MiB block. THP faults from CPU 1 (MADV_HUGEPAGE) first try node 1
 * alone, compacting it, and fail; then they fall back. A kernel without
 * isolation falls back along node 1's fallback order, whose next node is
 * the SPM node (the fixture checks it), with plenty of free 2 MiB blocks:
 * the huge pages land there. With the series the fallback never reaches
 * an SPM node: they land on node 0, or the faults make small pages on
 * SysRAM.
 */
TEST_F_TIMEOUT(iso, compaction_stays_off_spm, 240)
{
	long long high_kb = SPM_GET(spm_zoneinfo_sum(1, "high")) * 4;
	long long free1_kb, blocks1, blocks_spm = 0;
	long long node1_huge, sysram_huge, spm_huge, stall0, fail0, pcp_kb[SPM_MAXN];
	long counts[SPM_MAXN + 1], n;
	struct frag fr = { 0 };
	size_t len;
	char *p;
	int nid, nthp;

	ASSERT_TRUE(thp_usable());
	ASSERT_EQ(0, knob_set(self, "/proc/sys/vm/compact_unevictable_allowed", "0"));
	ASSERT_EQ(0, spm_pin_cpu(1));
	fragment_node(_metadata, 1, high_kb + 16 * 1024, &fr);
	ASSERT_EQ(0, spm_write_file(SPM_NODE_SYSFS "/node1/compact", "1"));

	/*
	 * Preconditions: node 1 has lots of free memory, but compaction
	 * could not make it into more than a few free 2 MiB blocks; the SPM
	 * nodes have free 2 MiB blocks for every THP we ask for. nthp leaves
	 * at least 16 THPs that node 1 cannot serve from its free lists.
	 */
	free1_kb = SPM_GET(spm_node_meminfo(1, "MemFree"));
	blocks1 = SPM_GET(free_2m_blocks(1));
	ASSERT_NE(0, spm_pcp_kb(pcp_kb) & 2);
	for (nid = 0; nid < SPM_MAXN; nid++)
		if (self->spm & (1LL << nid))
			blocks_spm += SPM_GET(free_2m_blocks(nid));
	/* Freed THPs may wait in the per-cpu lists too (buddyinfo omits them). */
	nthp = blocks1 + pcp_kb[1] / 2048 + 16;
	TH_LOG("node 1 fragmented: %ld pages mlocked (one a pageblock), %ld freed; after node1/compact %lld MiB free, %lld free 2 MiB blocks, %lld kB in per-cpu lists; SPM nodes: %lld free 2 MiB blocks; %d THPs asked for",
	       fr.kept, fr.freed, free1_kb >> 10, blocks1, pcp_kb[1], blocks_spm, nthp);
	ASSERT_LE(256 * 1024, free1_kb);
	/*
	 * At most a quarter of it in whole blocks: memory freed after the
	 * fill (the previous test's, KASAN's quarantine on the debug kernel:
	 * 48 blocks of 641 MiB free seen there) can form a few.  nthp counts
	 * them, so what node 1 cannot serve stays 16 THPs.
	 */
	ASSERT_GE(free1_kb / 2048 / 4, blocks1);
	ASSERT_LE(nthp, blocks_spm);

	len = (size_t)nthp * SZ_2M;
	n = len / 4096;
	p = spm_mmap_aligned(len, SZ_2M);
	ASSERT_NE(MAP_FAILED, p);
	ASSERT_EQ(0, madvise(p, len, MADV_HUGEPAGE));
	stall0 = SPM_GET(spm_vmstat("compact_stall"));
	fail0 = SPM_GET(spm_vmstat("compact_fail"));
	spm_snap(&self->a);
	spm_fill(p, len, 800);
	spm_snap(&self->b);
	stall0 = SPM_GET(spm_vmstat("compact_stall")) - stall0;
	fail0 = SPM_GET(spm_vmstat("compact_fail")) - fail0;
	node1_huge = SNAP_DELTA(&self->a, &self->b, 1, K_ANONHUGE);
	sysram_huge = spm_nodes_delta(&self->a, &self->b, self->sysram, K_ANONHUGE);
	spm_huge = spm_nodes_delta(&self->a, &self->b, self->spm, K_ANONHUGE);
	TH_LOG("THP faults: %lld kB huge on node 1, %lld kB on SysRAM, %lld kB on SPM nodes; compaction stalls %+lld, failures %+lld",
	       node1_huge, sysram_huge, spm_huge, stall0, fail0);

	/* Precondition: node 1 could not serve at least 8 of them as huge pages. */
	EXPECT_GE((long long)(nthp - 8) * 2048, node1_huge);
	expect_spm_untouched(_metadata, self, 1024);
	ASSERT_EQ(n, spm_count_pages(p, len, counts));
	spm_counts_log("THP range", counts);
	EXPECT_EQ(0, spm_count_in(counts, self->spm));
	EXPECT_EQ(n, spm_count_in(counts, self->sysram));
	EXPECT_EQ(0, spm_verify(p, len, 800));
	munmap(p, len);
	munmap(fr.base, fr.len);
}

/* ------------------------------- io_uring, BPF maps, secretmem, hugetlb */

#ifndef __NR_io_uring_setup
#define __NR_io_uring_setup 425
#endif
#ifndef __NR_io_uring_register
#define __NR_io_uring_register 427
#endif
#ifndef __NR_bpf
#define __NR_bpf 321
#endif
#ifndef __NR_memfd_secret
#define __NR_memfd_secret 447
#endif
#ifndef MADV_POPULATE_WRITE
#define MADV_POPULATE_WRITE 23
#endif
#define SPM_BPF_MAP_TYPE_ARENA 33	/* 6.9; not in older uapi headers */

/*
 * The size of the workloads below, taken after squeeze_node1(): a default
 * allocation from CPU 1 is served from node 1 as long as node 1 has pages
 * above its low watermark (plus a watermark boost, which the squeeze
 * leaves room for and kswapd may have reset since), and only the rest
 * reaches the next node of the fallback order. So: all that node 1 has
 * free now, its per-cpu lists included, and 32 MiB more, in 2 MiB units.
 * On a kernel without the series, at least 32 MiB of each workload would
 * go to the SPM node.
 */
static size_t past_node1(struct __test_metadata *_metadata)
{
	long long pcp[SPM_MAXN], kb;

	ASSERT_NE(0, spm_pcp_kb(pcp) & 2);
	kb = SPM_GET(spm_node_meminfo(1, "MemFree")) + pcp[1] + 32 * 1024;
	return (((size_t)kb << 10) + SZ_2M - 1) & ~(SZ_2M - 1);
}

/* spm_count_pages() of a mapping whose length need not be page aligned. */
static long count_mapped_pages(void *p, size_t len, long *counts)
{
	return spm_count_pages(p, (len + 4095) & ~4095UL, counts);
}

static void counts_add(long *sum, const long *counts)
{
	int i;

	for (i = 0; i <= SPM_MAXN; i++)
		sum[i] += counts[i];
}

#define URING_MAX_RINGS 128
#define URING_ENTRIES 32768	/* IORING_MAX_ENTRIES; the CQ gets twice that */
#define URING_BUF_LEN (16UL << 20)
#define URING_BUF_IOVS 16

struct uring {
	int fd;
	struct io_uring_params p;
	void *ring, *sqes;
	size_t ring_len, sqes_len;
};

/*
 * io_uring_setup() of a ring of @entries and mmap of its memory: the
 * SQ/CQ rings (one mapping, IORING_FEAT_SINGLE_MMAP) and the SQE array,
 * which the kernel allocates at setup (io_pages_map(): one compound page
 * each, else single pages), about 4 MiB a ring of 32768 entries.
 * 0 or -errno.
 */
static int uring_setup(struct uring *r, unsigned int entries)
{
	size_t sq_len, cq_len;

	memset(r, 0, sizeof(*r));
	r->ring = r->sqes = MAP_FAILED;
	r->fd = syscall(__NR_io_uring_setup, entries, &r->p);
	if (r->fd < 0)
		return -errno;
	if (!(r->p.features & IORING_FEAT_SINGLE_MMAP))
		return -EOPNOTSUPP;
	sq_len = r->p.sq_off.array + r->p.sq_entries * sizeof(__u32);
	cq_len = r->p.cq_off.cqes + r->p.cq_entries * sizeof(struct io_uring_cqe);
	r->ring_len = sq_len > cq_len ? sq_len : cq_len;
	r->sqes_len = r->p.sq_entries * sizeof(struct io_uring_sqe);
	r->ring = mmap(NULL, r->ring_len, PROT_READ | PROT_WRITE, MAP_SHARED,
		       r->fd, IORING_OFF_SQ_RING);
	if (r->ring == MAP_FAILED)
		return -errno;
	r->sqes = mmap(NULL, r->sqes_len, PROT_READ | PROT_WRITE, MAP_SHARED,
		       r->fd, IORING_OFF_SQES);
	if (r->sqes == MAP_FAILED)
		return -errno;
	return 0;
}

static void uring_release(struct uring *r)
{
	if (r->sqes != MAP_FAILED)
		munmap(r->sqes, r->sqes_len);
	if (r->ring != MAP_FAILED)
		munmap(r->ring, r->ring_len);
	if (r->fd >= 0)
		close(r->fd);
	r->fd = -1;
	r->ring = r->sqes = MAP_FAILED;
}

/*
 * io_uring from CPU 1 with node 1 full (raw syscalls, no liburing): rings
 * of the maximum size until their mapped memory alone is past_node1(),
 * whose SQ/CQ rings and SQE arrays are kernel pages (MemUsed only;
 * checked page by page through their mappings), then
 * IORING_REGISTER_BUFFERS of URING_BUF_LEN of the test's own anonymous
 * memory on every ring (the pages, faulted in from CPU 1 and pinned; the
 * bvec arrays, kvmalloc). All on SysRAM.
 */
TEST_F_TIMEOUT(iso, io_uring_rings_and_buffers_under_pressure_stay_off_spm, 180)
{
	struct uring *rings = calloc(URING_MAX_RINGS, sizeof(*rings));
	struct iovec iov[URING_BUF_IOVS];
	long counts[SPM_MAXN + 1], rcounts[SPM_MAXN + 1] = { 0 };
	long ring_pages = 0, ring_on_spm, buf_on_spm, n;
	size_t buf_len = URING_BUF_LEN, want, mapped = 0;
	int i, nrings = 0, ret;
	char *buf;

	ASSERT_NE(NULL, rings);
	for (i = 0; i < URING_MAX_RINGS; i++) {
		rings[i].fd = -1;
		rings[i].ring = rings[i].sqes = MAP_FAILED;
	}
	buf = mmap(NULL, buf_len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, buf);
	for (i = 0; i < URING_BUF_IOVS; i++) {
		iov[i].iov_base = buf + i * (buf_len / URING_BUF_IOVS);
		iov[i].iov_len = buf_len / URING_BUF_IOVS;
	}
	squeeze_node1(_metadata);
	want = past_node1(_metadata);

	spm_snap(&self->a);
	while (mapped < want) {
		ASSERT_GT(URING_MAX_RINGS, nrings) {
			TH_LOG("%d rings map %zu MiB only", nrings, mapped >> 20);
		}
		ret = uring_setup(&rings[nrings], URING_ENTRIES);
		ASSERT_EQ(0, ret) {
			TH_LOG("ring %d: io_uring_setup(%d) and mmap: %s", nrings, URING_ENTRIES,
			       strerror(-ret));
		}
		mapped += rings[nrings].ring_len + rings[nrings].sqes_len;
		nrings++;
	}
	spm_fill(buf, buf_len, 900);
	for (i = 0; i < nrings; i++) {
		ret = syscall(__NR_io_uring_register, rings[i].fd, IORING_REGISTER_BUFFERS,
			      iov, URING_BUF_IOVS);
		ASSERT_EQ(0, ret) {
			TH_LOG("ring %d: IORING_REGISTER_BUFFERS of %lu MiB: %s", i,
			       buf_len >> 20, strerror(errno));
		}
	}
	spm_snap(&self->b);
	spm_snap_log("SysRAM", &self->a, &self->b, self->sysram);

	for (i = 0; i < nrings; i++) {
		n = count_mapped_pages(rings[i].ring, rings[i].ring_len, counts);
		ASSERT_LT(0, n);
		counts_add(rcounts, counts);
		ring_pages += n;
		n = count_mapped_pages(rings[i].sqes, rings[i].sqes_len, counts);
		ASSERT_LT(0, n);
		counts_add(rcounts, counts);
		ring_pages += n;
	}
	TH_LOG("%d rings of %u SQ / %u CQ entries: %ld pages mapped (%zu MiB wanted)", nrings,
	       rings[0].p.sq_entries, rings[0].p.cq_entries, ring_pages, want >> 20);
	spm_counts_log("io_uring SQ/CQ rings and SQE arrays", rcounts);
	ring_on_spm = spm_count_in(rcounts, self->spm);
	EXPECT_EQ(0, ring_on_spm);
	EXPECT_EQ(ring_pages, spm_count_in(rcounts, self->sysram));
	ASSERT_EQ((long)(buf_len / 4096), spm_count_pages(buf, buf_len, counts));
	spm_counts_log("registered buffers", counts);
	buf_on_spm = spm_count_in(counts, self->spm);
	EXPECT_EQ(0, buf_on_spm);
	expect_spm_untouched(_metadata, self, 1024);
	/* The rings and the buffers really allocated: on SysRAM. */
	EXPECT_LE((long long)(ring_pages * 4 + (buf_len >> 10)) * 3 / 4,
		  spm_nodes_delta(&self->a, &self->b, self->sysram, K_USED));
	EXPECT_EQ(0, spm_verify(buf, buf_len, 900));

	for (i = 0; i < nrings; i++) {
		EXPECT_EQ(0, syscall(__NR_io_uring_register, rings[i].fd,
				     IORING_UNREGISTER_BUFFERS, NULL, 0)) {
			TH_LOG("ring %d: IORING_UNREGISTER_BUFFERS: %s", i, strerror(errno));
		}
		uring_release(&rings[i]);
	}
	munmap(buf, buf_len);
	free(rings);
}

/* bpf(BPF_MAP_CREATE); the map fd or -1 (errno). */
static int bpf_map_create(__u32 type, __u32 key_size, __u32 value_size,
			  __u32 max_entries, __u32 flags)
{
	union bpf_attr attr;

	memset(&attr, 0, sizeof(attr));
	attr.map_type = type;
	attr.key_size = key_size;
	attr.value_size = value_size;
	attr.max_entries = max_entries;
	attr.map_flags = flags;
	attr.map_extra = 0;	/* arena: user_vm_start chosen at mmap */
	return syscall(__NR_bpf, BPF_MAP_CREATE, &attr, sizeof(attr));
}

#define BPF_ARENA_LEN (32UL << 20)

/*
 * BPF maps created and used from CPU 1 with node 1 full (raw bpf(2)):
 * an mmapable BPF_MAP_TYPE_ARRAY of past_node1() (vmalloc pages
 * allocated at creation, NUMA_NO_NODE), mapped and written, then a
 * BPF_MAP_TYPE_ARENA of BPF_ARENA_LEN mapped and written from user space
 * (every fault allocates a page: bpf_map_alloc_pages(), NUMA_NO_NODE).
 * A kernel without BPF arena support (EOPNOTSUPP: no JIT support;
 * EINVAL: no such map type) skips the arena part only.
 */
TEST_F_TIMEOUT(iso, bpf_maps_under_pressure_stay_off_spm, 180)
{
	size_t alen, rlen = BPF_ARENA_LEN;
	long counts[SPM_MAXN + 1], array_on_spm, arena_on_spm = 0;
	long long want_kb;
	char *array, *arena = MAP_FAILED;
	int afd, rfd, err;

	squeeze_node1(_metadata);
	alen = past_node1(_metadata);
	want_kb = alen >> 10;

	spm_snap(&self->a);
	afd = bpf_map_create(BPF_MAP_TYPE_ARRAY, 4, 4096, alen / 4096, BPF_F_MMAPABLE);
	ASSERT_LE(0, afd) {
		TH_LOG("BPF_MAP_CREATE of an mmapable array of %zu MiB: %s", alen >> 20,
		       strerror(errno));
	}
	array = mmap(NULL, alen, PROT_READ | PROT_WRITE, MAP_SHARED, afd, 0);
	ASSERT_NE(MAP_FAILED, array) {
		TH_LOG("mmap of the array map: %s", strerror(errno));
	}
	spm_fill(array, alen, 910);

	rfd = bpf_map_create(SPM_BPF_MAP_TYPE_ARENA, 0, 0, rlen / 4096, BPF_F_MMAPABLE);
	err = errno;
	if (rfd < 0 && (err == EOPNOTSUPP || err == EINVAL)) {
		TH_LOG("BPF_MAP_CREATE of an arena: %s: arena part skipped", strerror(err));
	} else {
		ASSERT_LE(0, rfd) {
			TH_LOG("BPF_MAP_CREATE of an arena of %zu MiB: %s", rlen >> 20,
			       strerror(err));
		}
		arena = mmap(NULL, rlen, PROT_READ | PROT_WRITE, MAP_SHARED, rfd, 0);
		ASSERT_NE(MAP_FAILED, arena) {
			TH_LOG("mmap of the arena: %s", strerror(errno));
		}
		spm_fill(arena, rlen, 911);
		want_kb += rlen >> 10;
	}
	spm_snap(&self->b);
	spm_snap_log("SysRAM", &self->a, &self->b, self->sysram);

	ASSERT_EQ((long)(alen / 4096), spm_count_pages(array, alen, counts));
	spm_counts_log("BPF array map", counts);
	array_on_spm = spm_count_in(counts, self->spm);
	EXPECT_EQ(0, array_on_spm);
	EXPECT_EQ((long)(alen / 4096), spm_count_in(counts, self->sysram));
	EXPECT_EQ(0, spm_verify(array, alen, 910));
	if (arena != MAP_FAILED) {
		ASSERT_EQ((long)(rlen / 4096), spm_count_pages(arena, rlen, counts));
		spm_counts_log("BPF arena", counts);
		arena_on_spm = spm_count_in(counts, self->spm);
		EXPECT_EQ(0, arena_on_spm);
		EXPECT_EQ((long)(rlen / 4096), spm_count_in(counts, self->sysram));
		EXPECT_EQ(0, spm_verify(arena, rlen, 911));
	}
	expect_spm_untouched(_metadata, self, 1024);
	/* The maps really allocated (kernel pages: MemUsed only): on SysRAM. */
	EXPECT_LE(want_kb * 3 / 4, spm_nodes_delta(&self->a, &self->b, self->sysram, K_USED));

	if (arena != MAP_FAILED) {
		munmap(arena, rlen);
		close(rfd);
	}
	munmap(array, alen);
	close(afd);
}

/*
 * memfd_secret() memory written from CPU 1 with node 1 full: every page
 * a fault allocates (secretmem_fault(): the task's policy, here the
 * default) and takes out of the direct map. All on SysRAM. Each page
 * counts against RLIMIT_MEMLOCK, CAP_IPC_LOCK or not (a fault past it is
 * a SIGBUS): no limit.
 */
TEST_F_TIMEOUT(iso, secretmem_under_pressure_stays_off_spm, 120)
{
	struct rlimit unlimited = { RLIM_INFINITY, RLIM_INFINITY };
	long counts[SPM_MAXN + 1], secret_on_spm;
	size_t len;
	char *p;
	int fd;

	ASSERT_EQ(0, setrlimit(RLIMIT_MEMLOCK, &unlimited));
	fd = syscall(__NR_memfd_secret, 0);
	if (fd < 0 && errno == ENOSYS)
		SKIP(return, "memfd_secret: ENOSYS (no CONFIG_SECRETMEM, or secretmem.enable=0)");
	ASSERT_LE(0, fd) {
		TH_LOG("memfd_secret: %s", strerror(errno));
	}
	squeeze_node1(_metadata);
	len = past_node1(_metadata);
	ASSERT_EQ(0, ftruncate(fd, len));
	p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	ASSERT_NE(MAP_FAILED, p) {
		TH_LOG("mmap of %zu MiB of secretmem: %s", len >> 20, strerror(errno));
	}

	spm_snap(&self->a);
	spm_fill(p, len, 920);
	spm_snap(&self->b);
	spm_snap_log("SysRAM", &self->a, &self->b, self->sysram);
	ASSERT_EQ((long)(len / 4096), spm_count_pages(p, len, counts));
	spm_counts_log("secretmem", counts);
	secret_on_spm = spm_count_in(counts, self->spm);
	EXPECT_EQ(0, secret_on_spm);
	EXPECT_EQ((long)(len / 4096), spm_count_in(counts, self->sysram));
	expect_spm_untouched(_metadata, self, 1024);
	/* secretmem folios are page cache of its inode: FilePages. */
	EXPECT_LE((long long)(len >> 10) * 3 / 4,
		  spm_nodes_delta(&self->a, &self->b, self->sysram, K_FILE));
	EXPECT_EQ(0, spm_verify(p, len, 920));
	munmap(p, len);
	close(fd);
}

#define HUGETLB_NR "/proc/sys/vm/nr_hugepages"
#define HUGETLB_OVERCOMMIT "/proc/sys/vm/nr_overcommit_hugepages"
#define HUGETLB_POOL 16

/*
 * Sum of a per-node 2 MiB hugetlb counter (nodeN/hugepages/hugepages-
 * 2048kB/@key) over the nodes of mask; -1 if one cannot be read.
 */
static long long hugetlb_nodes_sum(long long mask, const char *key)
{
	char path[160];
	long long sum = 0, v;
	int nid;

	for (nid = 0; nid < SPM_MAXN; nid++) {
		if (!(mask & (1LL << nid)))
			continue;
		snprintf(path, sizeof(path),
			 SPM_NODE_SYSFS "/node%d/hugepages/hugepages-2048kB/%s", nid, key);
		v = spm_read_ll(path);
		if (v < 0)
			return -1;
		sum += v;
	}
	return sum;
}

static void hugetlb_nodes_log(const char *what, long long mask, const char *key)
{
	char path[160], val[32];
	int nid;

	printf("# %s: %s per node:", what, key);
	for (nid = 0; nid < SPM_MAXN; nid++) {
		if (!(mask & (1LL << nid)))
			continue;
		snprintf(path, sizeof(path),
			 SPM_NODE_SYSFS "/node%d/hugepages/hugepages-2048kB/%s", nid, key);
		if (spm_read_file(path, val, sizeof(val)) < 0)
			snprintf(val, sizeof(val), "?");
		printf(" N%d=%s", nid, val);
	}
	printf("\n");
	fflush(stdout);
}

/*
 * The hugetlb pool and its surplus pages, with node 1 full:
 *
 * - vm.nr_hugepages grown to HUGETLB_POOL: the global pool, which a
 *   kernel without the series spreads round-robin over every node with
 *   memory (pressure or not), SPM nodes included. None of it on an SPM
 *   node, all of it on SysRAM.
 *
 * - an empty pool with vm.nr_overcommit_hugepages at past_node1() / 2 MiB,
 *   and a default-policy MAP_HUGETLB mapping of that many pages faulted
 *   from CPU 1: surplus pages from the buddy allocator along node 1's
 *   fallback order (alloc_surplus_hugetlb_folio(), no __GFP_THISNODE).
 *   MAP_NORESERVE: a reservation would gather them at mmap() time from
 *   node 0 first (gather_surplus_pages() walks the nodes from node 0),
 *   never reaching node 2 on any kernel. No surplus page on an SPM node
 *   (move_pages() query of each huge page, per-node surplus_hugepages).
 *
 * The fixture's teardown puts both knobs back (knob_set()).
 */
TEST_F_TIMEOUT(iso, hugetlb_pool_and_surplus_stay_off_spm, 180)
{
	long long pool_total, pool_on_spm, pool_sysram, surplus_on_spm, surplus_sysram;
	long huge_on_spm = 0, huge_on_sysram = 0, i, n;
	void **pages;
	int *status;
	char val[16], *p;
	size_t len;

	if (access(HUGETLB_NR, F_OK))
		SKIP(return, "%s: %s (no CONFIG_HUGETLBFS)", HUGETLB_NR, strerror(errno));
	/* An empty pool to start from (restored by the teardown). */
	ASSERT_EQ(0, knob_set(self, HUGETLB_OVERCOMMIT, "0"));
	ASSERT_EQ(0, knob_set(self, HUGETLB_NR, "0"));
	ASSERT_EQ(0, SPM_GET(spm_read_ll(HUGETLB_NR))) {
		TH_LOG("huge pages in use: the pool cannot be emptied");
	}
	squeeze_node1(_metadata);

	/* The global pool. */
	spm_snap(&self->a);
	snprintf(val, sizeof(val), "%d", HUGETLB_POOL);
	ASSERT_EQ(0, spm_write_file(HUGETLB_NR, val));
	spm_snap(&self->b);
	pool_total = SPM_GET(spm_read_ll(HUGETLB_NR));
	pool_on_spm = SPM_GET(hugetlb_nodes_sum(self->spm, "nr_hugepages"));
	pool_sysram = SPM_GET(hugetlb_nodes_sum(self->sysram, "nr_hugepages"));
	hugetlb_nodes_log("global pool", self->sysram | self->spm, "nr_hugepages");
	TH_LOG("vm.nr_hugepages = %d: %lld huge pages, %lld on SysRAM, %lld on SPM nodes",
	       HUGETLB_POOL, pool_total, pool_sysram, pool_on_spm);
	EXPECT_EQ(0, pool_on_spm);
	EXPECT_EQ(HUGETLB_POOL, pool_total);
	EXPECT_EQ(HUGETLB_POOL, pool_sysram);
	expect_spm_untouched(_metadata, self, 1024);
	EXPECT_LE(HUGETLB_POOL * 2048LL * 3 / 4,
		  spm_nodes_delta(&self->a, &self->b, self->sysram, K_USED));

	/* Surplus pages. */
	ASSERT_EQ(0, spm_write_file(HUGETLB_NR, "0"));
	ASSERT_EQ(0, SPM_GET(spm_read_ll(HUGETLB_NR)));
	len = past_node1(_metadata);
	n = len / SZ_2M;
	pages = calloc(n, sizeof(*pages));
	status = calloc(n, sizeof(*status));
	ASSERT_NE(NULL, pages);
	ASSERT_NE(NULL, status);
	snprintf(val, sizeof(val), "%ld", n);
	ASSERT_EQ(0, knob_set(self, HUGETLB_OVERCOMMIT, val));
	p = mmap(NULL, len, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS | MAP_HUGETLB | MAP_NORESERVE, -1, 0);
	ASSERT_NE(MAP_FAILED, p) {
		TH_LOG("MAP_HUGETLB of %zu MiB: %s", len >> 20, strerror(errno));
	}
	spm_snap(&self->a);
	ASSERT_EQ(0, madvise(p, len, MADV_POPULATE_WRITE)) {
		TH_LOG("MADV_POPULATE_WRITE of %ld surplus huge pages: %s", n, strerror(errno));
	}
	spm_fill(p, len, 930);
	spm_snap(&self->b);
	spm_snap_log("SysRAM", &self->a, &self->b, self->sysram);
	for (i = 0; i < n; i++)
		pages[i] = p + i * SZ_2M;
	ASSERT_EQ(0, spm_move_pages(0, n, pages, NULL, status, 0)) {
		TH_LOG("move_pages query: %s", strerror(errno));
	}
	for (i = 0; i < n; i++) {
		if (status[i] >= 0 && status[i] < SPM_MAXN && (self->spm & (1LL << status[i])))
			huge_on_spm++;
		else if (status[i] >= 0 && status[i] < SPM_MAXN &&
			 (self->sysram & (1LL << status[i])))
			huge_on_sysram++;
	}
	surplus_on_spm = SPM_GET(hugetlb_nodes_sum(self->spm, "surplus_hugepages"));
	surplus_sysram = SPM_GET(hugetlb_nodes_sum(self->sysram, "surplus_hugepages"));
	hugetlb_nodes_log("surplus pages", self->sysram | self->spm, "surplus_hugepages");
	TH_LOG("%ld surplus huge pages faulted from CPU 1: %ld on SysRAM, %ld on SPM nodes (move_pages)",
	       n, huge_on_sysram, huge_on_spm);
	EXPECT_EQ(0, huge_on_spm);
	EXPECT_EQ(n, huge_on_sysram);
	EXPECT_EQ(0, surplus_on_spm);
	EXPECT_EQ(n, surplus_sysram);
	expect_spm_untouched(_metadata, self, 1024);
	EXPECT_LE(n * 2048LL * 3 / 4, spm_nodes_delta(&self->a, &self->b, self->sysram, K_USED));
	EXPECT_EQ(0, spm_verify(p, len, 930));
	munmap(p, len);
	/* Unmapped, the surplus pages go back to the buddy allocator. */
	EXPECT_EQ(0, SPM_GET(hugetlb_nodes_sum(self->sysram | self->spm, "surplus_hugepages")));
	free(pages);
	free(status);
}

#ifndef MADV_SOFT_OFFLINE
#define MADV_SOFT_OFFLINE 101
#endif
#define PCP_HIGH_FRACTION "/proc/sys/vm/percpu_pagelist_high_fraction"
#define SOFT_OFFLINE_MAX 4096	/* pages faulted on node 1, 16 MiB */
#define SOFT_OFFLINE_PAST 256	/* pages offlined past what fits on node 1 */

/*
 * Soft offline of SysRAM pages, with node 1 full: MADV_SOFT_OFFLINE
 * migrates each page to a new one (alloc_migration_target(), a default
 * request on the page's own node, no nodemask) and takes the old one out
 * of use.  The pages are faulted on node 1 from CPU 1 before the squeeze;
 * an anonymous filler then takes node 1 below its low watermark.  Soft
 * offline drains the zone's per-cpu free lists first, which may lift node
 * 1 above the mark again: as many pages are offlined as that leaves room
 * for on node 1, plus SOFT_OFFLINE_PAST, so that at least those fall back
 * along node 1's order (on a kernel without the series, to node 2 first).
 * None may land on an SPM node (move_pages() query), the data stays
 * intact, the SPM node's counters untouched (by the filler either).  The
 * offlined pages are lost for good (HardwareCorrupted): a few MiB a run.
 */
TEST_F_TIMEOUT(iso, soft_offline_under_pressure_stays_off_spm, 120)
{
	long counts[SPM_MAXN + 1], moved_on_spm, moved_off_node1, n, ps = spm_page_size();
	size_t len = SOFT_OFFLINE_MAX * ps, fill_len = 256UL << 20, off, step;
	long long hwc0, hwc1, free = 0, low = 0, boost = 0, pcp[SPM_MAXN];
	char *p, *fill = NULL;
	int i;

	/*
	 * Short per-cpu free lists (restored by the teardown): their pages
	 * count as free once soft offline drains them, and each page of
	 * that room is one more page to offline.
	 */
	ASSERT_EQ(0, knob_set(self, PCP_HIGH_FRACTION, "8192"));
	/*
	 * No watermark boosts: each fallback the filler causes would raise
	 * node 1's low watermark for as long as kswapd takes to clear it (on
	 * a debug kernel, longer than the filler lasts), and the loop below
	 * needs node 1 below the mark as it stands without a boost.
	 */
	ASSERT_EQ(0, knob_set(self, "/proc/sys/vm/watermark_boost_factor", "0"));
	hwc0 = SPM_GET(spm_meminfo("HardwareCorrupted"));
	ASSERT_EQ(0, spm_pin_cpu(1));
	p = spm_anon(len);
	ASSERT_NE(NULL, p);
	ASSERT_EQ(0, madvise(p, len, MADV_NOHUGEPAGE));
	spm_fill(p, len, 940);
	ASSERT_EQ((long)SOFT_OFFLINE_MAX, spm_count_pages(p, len, counts));
	spm_counts_log("before soft offline", counts);
	ASSERT_EQ((long)SOFT_OFFLINE_MAX, counts[1]) {
		TH_LOG("the pages were not all faulted on node 1 from CPU 1");
	}
	squeeze_node1(_metadata);

	spm_snap(&self->a);
	fill = spm_anon(fill_len);
	ASSERT_NE(NULL, fill);
	/*
	 * Fault the filler from CPU 1 until node 1 is below its low
	 * watermark as it stands without a boost: the fallbacks the filler
	 * causes boost the watermarks for a while, and kswapd clears the
	 * boost again, leaving room on node 1 if the filler only reached
	 * the boosted mark.
	 */
	for (i = 0, off = 0; i < 100; i++) {
		free = SPM_GET(spm_node_meminfo(1, "MemFree"));
		low = SPM_GET(spm_zoneinfo_sum(1, "low")) * 4;
		boost = SPM_GET(spm_zoneinfo_sum(1, "boost")) * 4;
		if (!boost && free < low)
			break;
		step = free > low - boost ? (size_t)(free - low + boost) << 10 : 0;
		step = (step + (4UL << 20)) & ~(size_t)(ps - 1);
		if (off + step > fill_len)
			break;
		spm_fill(fill + off, step, 941);
		off += step;
		usleep(100000);
	}
	ASSERT_NE(0, spm_pcp_kb(pcp) & 2);
	n = (free + pcp[1] - low) * 1024 / ps;
	n = (n > 0 ? n : 0) + SOFT_OFFLINE_PAST;
	TH_LOG("node 1 after a %zu MiB filler: MemFree %lld kB, per-cpu lists %lld kB, low watermark %lld kB, boost %lld kB: %ld pages to offline",
	       off >> 20, free, pcp[1], low, boost, n);
	ASSERT_TRUE(!boost && free < low) {
		TH_LOG("node 1 did not stay below its low watermark");
	}
	ASSERT_GE(SOFT_OFFLINE_MAX, n);
	if (madvise(p, n * ps, MADV_SOFT_OFFLINE) && errno == EINVAL)
		SKIP(goto out, "MADV_SOFT_OFFLINE: EINVAL (no CONFIG_MEMORY_FAILURE)");
	spm_snap(&self->b);
	hwc1 = SPM_GET(spm_meminfo("HardwareCorrupted"));
	ASSERT_EQ(n, spm_count_pages(p, n * ps, counts));
	spm_counts_log("offlined pages after soft offline", counts);
	TH_LOG("HardwareCorrupted %lld -> %lld kB", hwc0, hwc1);
	moved_on_spm = spm_count_in(counts, self->spm);
	moved_off_node1 = spm_count_in(counts, self->sysram & ~2LL);
	EXPECT_EQ(0, moved_on_spm);
	/* Every page was replaced, and some fell back from node 1. */
	EXPECT_EQ(hwc0 + n * ps / 1024, hwc1);
	EXPECT_LE(SOFT_OFFLINE_PAST / 2, moved_off_node1);
	expect_spm_untouched(_metadata, self, 1024);
	EXPECT_EQ(0, spm_verify(p, len, 940));
out:
	if (fill)
		munmap(fill, fill_len);
	munmap(p, len);
}

/*
 * zram's pool pages (zsmalloc), with node 1 full: O_DIRECT writes from
 * CPU 1 of pages that compress to about half (zram keeps same-filled
 * pages without memory, so the page cache test above never reaches
 * zsmalloc).  zs_malloc() allocates its pages with a default request on
 * the writer's node: past what node 1 has left they fall back, never onto
 * an SPM node (the SPM side's counters, mm_stat's mem_used_total against
 * SysRAM's growth); the data reads back intact.
 */
TEST_F_TIMEOUT(iso, zram_pool_under_pressure_stays_off_spm, 180)
{
	size_t len, off, chunk = SZ_1M, i, j;
	long long pool_kb, mm[3] = { 0 }, pool_on_spm;
	uint64_t *buf, *rd;
	char stat[256];
	int fd;

	ASSERT_EQ(0, posix_memalign((void **)&buf, 4096, chunk));
	ASSERT_EQ(0, posix_memalign((void **)&rd, 4096, chunk));
	squeeze_node1(_metadata);
	/* Twice what node 1 has left: about that much pool at half size. */
	len = 2 * past_node1(_metadata);
	snprintf(stat, sizeof(stat), "%zu", len + (64UL << 20));
	fd = zram_open(_metadata, self, stat);
	ASSERT_LE(0, fd);
	close(fd);
	fd = open("/dev/zram0", O_RDWR | O_DIRECT);
	ASSERT_LE(0, fd);

	spm_snap(&self->a);
	for (off = 0; off < len; off += chunk) {
		/* Each page: 256 pattern words, then 256 zero words. */
		for (i = 0; i < chunk / 4096; i++)
			for (j = 0; j < 512; j++)
				buf[i * 512 + j] = j < 256 ?
					spm_pattern(950, (off / 4096 + i) * 256 + j, 0) : 0;
		ASSERT_EQ((ssize_t)chunk, pwrite(fd, buf, chunk, off));
	}
	spm_snap(&self->b);
	spm_snap_log("SysRAM", &self->a, &self->b, self->sysram);
	ASSERT_LT(0, spm_read_file(ZRAM "/mm_stat", stat, sizeof(stat)));
	/* orig_data_size compr_data_size mem_used_total ... */
	ASSERT_EQ(3, sscanf(stat, "%lld %lld %lld", &mm[0], &mm[1], &mm[2]));
	pool_kb = mm[2] >> 10;
	TH_LOG("%zu MiB written: zram mm_stat %s", len >> 20, stat);
	pool_on_spm = spm_nodes_delta(&self->a, &self->b, self->spm, K_USED);
	expect_spm_untouched(_metadata, self, 1024);
	EXPECT_GE(1024, pool_on_spm);
	/* The pool is past node 1's room, and SysRAM holds it. */
	EXPECT_LE((long long)(len >> 10) / 3, pool_kb);
	EXPECT_LE(pool_kb * 3 / 4, spm_nodes_delta(&self->a, &self->b, self->sysram, K_USED));

	for (off = 0; off < len; off += chunk) {
		ASSERT_EQ((ssize_t)chunk, pread(fd, rd, chunk, off));
		for (i = 0; i < chunk / 4096; i++)
			for (j = 0; j < 512; j++)
				if (rd[i * 512 + j] != (j < 256 ?
				    spm_pattern(950, (off / 4096 + i) * 256 + j, 0) : 0)) {
					ASSERT_EQ(0, (long)(off + i * 4096)) {
						TH_LOG("page at %zu reads back wrong", off + i * 4096);
					}
				}
	}
	close(fd);
	free(buf);
	free(rd);
}

TEST_HARNESS_MAIN
