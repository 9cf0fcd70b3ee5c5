/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Helpers for the SPM placement and isolation tests (guest side), on top
 * of spm.h:
 *
 *   spm_test_nodes()            mask of the SPM nodes under test: has_spm_memory,
 *                               or $SPM_TEST_NODES (a node list) to run the
 *                               isolation tests against a kernel without SPM
 *                               support and watch them fail
 *   spm_sysram_nodes()          has_memory minus the SPM nodes
 *   spm_snap(&s)                per-node meminfo snapshot (MemUsed, FilePages, ...)
 *   SNAP_DELTA(a, b, nid, key)  b - a for one node and field (kB)
 *   spm_nodes_delta(a, b, mask, key)  sum of the deltas over a node mask
 *                               (both macros fail the test when a node of the
 *                               mask has no such field in a or b)
 *   spm_allow_user_get/set(nid) nodeN/spm/allow_user
 *   spm_write_file(path, str)   one write(2); 0 or -errno
 *   spm_pin_cpu(cpu)            sched_setaffinity to one CPU
 *   spm_count_pages(p, len, counts)  per-node page counts of a range (move_pages
 *                               query, nodes = NULL); pages not present count in
 *                               counts[SPM_MAXN]
 *   spm_count_pages_pid(pid, p, len, counts)  the same in another task
 *   spm_nodes_mask(a, b, c)     nodemask of up to three nodes (-1: none)
 *   spm_anon(len)               private anonymous mapping, NULL on failure
 *   spm_fill/spm_verify(p, len, seed)  a per-page pattern (two words a page)
 *   spm_squeeze(nid, leave_kb)  fill node nid with a tmpfs file bound to it
 *                               (mpol=bind) until about leave_kb remain free:
 *                               later default allocations from that node's CPU
 *                               must fall back to another node
 *   spm_unsqueeze()
 *   spm_read_key(path, key)     a value of a "name value" file (-1: none)
 *   spm_vmstat(key)             a /proc/vmstat counter (-1: not in this kernel)
 *                               (these getters, spm_read_ll() and spm_meminfo()
 *                               note what was missing for SPM_GET())
 *   spm_kernel_log()            the kernel log buffer
 *
 * Snapshots fold the per-cpu vmstat deltas first (vm/stat_refresh): node
 * counters are otherwise only accurate to a few dozen pages.
 */
#ifndef SPM_PLACE_H
#define SPM_PLACE_H

#include "spm.h"
#include <fcntl.h>
#include <sched.h>
#include <stdarg.h>
#include <sys/mman.h>
#include <sys/klog.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>

#define SPM_MAXN 64
#define KiB 1LL
#define MiB_KB 1024LL		/* meminfo values are kB */
#define SZ_1M (1UL << 20)
#define SZ_2M (2UL << 20)

#ifndef MPOL_PREFERRED_MANY
#define MPOL_PREFERRED_MANY 5
#endif
#ifndef MPOL_WEIGHTED_INTERLEAVE
#define MPOL_WEIGHTED_INTERLEAVE 6
#endif
#ifndef MPOL_F_NODE
#define MPOL_F_NODE	(1 << 0)
#define MPOL_F_ADDR	(1 << 1)
#endif
#ifndef MADV_COLLAPSE
#define MADV_COLLAPSE 25
#endif

static inline long spm_get_mempolicy(int *mode, unsigned long *nodemask,
				     unsigned long maxnode, void *addr,
				     unsigned long flags)
{
	return syscall(SYS_get_mempolicy, mode, nodemask, maxnode, addr, flags);
}

static inline long spm_migrate_pages(int pid, unsigned long maxnode,
				     const unsigned long *old_nodes,
				     const unsigned long *new_nodes)
{
	return syscall(SYS_migrate_pages, pid, maxnode, old_nodes, new_nodes);
}

/* Mask of the SPM nodes under test (see the top of the file). */
static inline long long spm_test_nodes(void)
{
	const char *env = getenv("SPM_TEST_NODES");

	if (env && *env)
		return spm_nodelist_parse(env);
	return spm_sysfs_nodemask("has_spm_memory");
}

static inline long long spm_sysram_nodes(void)
{
	long long mem = spm_sysfs_nodemask("has_memory");
	long long spm = spm_test_nodes();

	if (mem < 0 || spm < 0)
		return -1;
	return mem & ~spm;
}

/* A mask as the kernel prints node lists ("0-1,3"), into buf. */
static inline const char *spm_mask_str(long long mask, char *buf, size_t size)
{
	size_t n = 0;
	int i, j;

	buf[0] = '\0';
	for (i = 0; i < SPM_MAXN && n + 8 < size; i++) {
		if (!(mask & (1LL << i)))
			continue;
		for (j = i; j + 1 < SPM_MAXN && (mask & (1LL << (j + 1))); j++)
			;
		if (j > i)
			n += snprintf(buf + n, size - n, "%s%d-%d", n ? "," : "", i, j);
		else
			n += snprintf(buf + n, size - n, "%s%d", n ? "," : "", i);
		i = j;
	}
	return buf;
}

/* ------------------------------------------------------------------ */

/*
 * K_PCP: pages sitting in the per-cpu free lists of the node's zones (from
 * /proc/zoneinfo, in kB). They are free but MemUsed counts them, so memory
 * freed on an SPM node keeps "MemUsed" up until the lists drain: K_USED is
 * MemUsed minus them.
 */
enum spm_key {
	K_MEMFREE, K_MEMUSED, K_FILE, K_ANON, K_SHMEM, K_SLAB, K_ANONHUGE,
	K_KSTACK, K_PAGETABLES, K_PCP, K_USED, K_NKEYS
};

static const char *const spm_key_names[K_NKEYS] = {
	"MemFree", "MemUsed", "FilePages", "AnonPages", "Shmem", "Slab",
	"AnonHugePages", "KernelStack", "PageTables", "pcp", "Used-pcp",
};

/* Fold the per-cpu vmstat deltas so that node counters are exact. */
static inline void spm_stat_refresh(void)
{
	int fd = open("/proc/sys/vm/stat_refresh", O_WRONLY);

	if (fd >= 0) {
		if (write(fd, "1", 1) < 0) {
			/* EINVAL: some counter went negative; still refreshed */
		}
		close(fd);
	}
}

/*
 * kB in the per-cpu page lists of every zone, per node; returns the mask
 * of the nodes that have such lists (0 if /proc/zoneinfo cannot be read).
 */
static inline long long spm_pcp_kb(long long *kb)
{
	char line[256];
	int node = -1, n;
	long long c, seen = 0;
	FILE *f = fopen("/proc/zoneinfo", "r");

	memset(kb, 0, SPM_MAXN * sizeof(*kb));
	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "Node %d,", &n) == 1)
			node = n;
		else if (node >= 0 && node < SPM_MAXN && sscanf(line, " count: %lld", &c) == 1) {
			kb[node] += c * (spm_page_size() / 1024);
			seen |= 1LL << node;
		}
	}
	fclose(f);
	return seen;
}

struct spm_snap {
	long long v[SPM_MAXN][K_NKEYS];
	unsigned int have[SPM_MAXN];	/* bit k: v[nid][k] was read */
};

/* Every node's meminfo keys into @s (K_PCP and K_USED left alone). */
static inline void spm_snap_meminfo(struct spm_snap *s)
{
	char path[128], line[256], name[64];
	long long val;
	int nid, n, k;

	memset(s, 0, sizeof(*s));
	for (nid = 0; nid < SPM_MAXN; nid++) {
		FILE *f;

		snprintf(path, sizeof(path), SPM_NODE_SYSFS "/node%d/meminfo", nid);
		f = fopen(path, "r");
		if (!f)
			continue;
		while (fgets(line, sizeof(line), f)) {
			if (sscanf(line, "Node %d %63[^:]: %lld", &n, name, &val) != 3)
				continue;
			for (k = 0; k < K_NKEYS; k++)
				if (!strcmp(name, spm_key_names[k])) {
					s->v[nid][k] = val;
					s->have[nid] |= 1U << k;
				}
		}
		fclose(f);
	}
}

static inline void spm_snap(struct spm_snap *s)
{
	long long pcp[SPM_MAXN], pcp_nodes = 0;
	int nid, k;

	/*
	 * Pages drained from the per-cpu lists after the refresh would show
	 * in "pcp" but not yet in MemFree: read the lists before and after
	 * the counters, and take a snapshot in which they did not move.
	 */
	for (k = 0; k < 10; k++) {
		long long again[SPM_MAXN];

		pcp_nodes = spm_pcp_kb(pcp);
		spm_stat_refresh();
		spm_snap_meminfo(s);
		spm_pcp_kb(again);
		if (!memcmp(pcp, again, sizeof(pcp)))
			break;
	}
	for (nid = 0; nid < SPM_MAXN; nid++) {
		s->v[nid][K_PCP] = pcp[nid];
		s->v[nid][K_USED] = s->v[nid][K_MEMUSED] - pcp[nid];
		if (!(pcp_nodes & (1LL << nid)))
			continue;
		s->have[nid] |= 1U << K_PCP;
		if (s->have[nid] & (1U << K_MEMUSED))
			s->have[nid] |= 1U << K_USED;
	}
}

/* The first node of mask that has no key in snapshot a or b, or -1. */
static inline int spm_snap_lacks(const struct spm_snap *a,
				 const struct spm_snap *b,
				 long long mask, int key)
{
	int nid;

	for (nid = 0; nid < SPM_MAXN; nid++)
		if ((mask & (1LL << nid)) &&
		    !(a->have[nid] & b->have[nid] & (1U << key)))
			return nid;
	return -1;
}

/* Sum of b - a over the nodes of mask for one key (kB), unchecked. */
static inline long long spm_snap_sum(const struct spm_snap *a,
				     const struct spm_snap *b,
				     long long mask, int key)
{
	long long sum = 0;
	int nid;

	for (nid = 0; nid < SPM_MAXN; nid++)
		if (mask & (1LL << nid))
			sum += b->v[nid][key] - a->v[nid][key];
	return sum;
}

/*
 * spm_snap_sum() for test bodies and helpers that have _metadata: a node
 * of mask without that field in a or b (no such node, a meminfo without
 * the key, no per-cpu lists in /proc/zoneinfo) fails the test instead of
 * reading as "no change". Like SPM_GET(), not inside TH_LOG() arguments.
 */
#define spm_nodes_delta(a, b, mask, key) ({				\
	const struct spm_snap *__sa = (a), *__sb = (b);			\
	long long __sm = (mask);					\
	int __sk = (key), __sn = spm_snap_lacks(__sa, __sb, __sm, __sk); \
									\
	ASSERT_EQ(-1, __sn)						\
		TH_LOG("node %d has no %s in a snapshot (nodeN/meminfo, /proc/zoneinfo)", \
		       __sn, spm_key_names[__sk]);			\
	spm_snap_sum(__sa, __sb, __sm, __sk);				\
})

#define SNAP_DELTA(a, b, nid, key) spm_nodes_delta(a, b, 1LL << (nid), key)

/* Log every field that changed on the nodes of mask (kB). */
static inline void spm_snap_log(const char *what, const struct spm_snap *a,
				const struct spm_snap *b, long long mask)
{
	char buf[512];
	int nid, k;
	size_t n;

	for (nid = 0; nid < SPM_MAXN; nid++) {
		if (!(mask & (1LL << nid)))
			continue;
		n = snprintf(buf, sizeof(buf), "# %s node %d:", what, nid);
		for (k = 0; k < K_NKEYS && n < sizeof(buf); k++)
			n += snprintf(buf + n, sizeof(buf) - n, " %s %+lld",
				      spm_key_names[k], b->v[nid][k] - a->v[nid][k]);
		printf("%s kB\n", buf);
	}
	fflush(stdout);
}

/* ------------------------------------------------------------------ */

static inline int spm_writef(const char *path, const char *fmt, ...)
{
	char buf[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	return spm_write_file(path, buf);
}

/* The number in a small file, or -1 (unreadable, empty, not a number). */
static inline long long spm_read_ll(const char *path)
{
	char buf[64], *end;
	long long v;
	int n = spm_read_file(path, buf, sizeof(buf));

	if (n < 0)
		return spm_miss(-1, "%s: %s", path, strerror(-n));
	v = strtoll(buf, &end, 0);
	if (end == buf)
		return spm_miss(-1, "no number in %s ('%s')", path, buf);
	return v;
}

static inline int spm_allow_user_get(int nid)
{
	char path[128];

	snprintf(path, sizeof(path), SPM_NODE_SYSFS "/node%d/spm/allow_user", nid);
	return (int)spm_read_ll(path);
}

static inline int spm_allow_user_set(int nid, int on)
{
	char path[128];

	snprintf(path, sizeof(path), SPM_NODE_SYSFS "/node%d/spm/allow_user", nid);
	return spm_write_file(path, on ? "1" : "0");
}

static inline int spm_pin_cpu(int cpu)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	return sched_setaffinity(0, sizeof(set), &set) ? -errno : 0;
}

/* key's value in a file of "name value" lines (vmstat, memory.stat); -1: none. */
static inline long long spm_read_key(const char *path, const char *key)
{
	char name[64];
	long long v, val = -1;
	int found = 0;
	FILE *f = fopen(path, "r");

	if (!f)
		return spm_miss(-1, "%s: %m", path);
	while (fscanf(f, "%63s %lld", name, &v) == 2)
		if (!strcmp(name, key)) {
			val = v;
			found = 1;
			break;
		}
	fclose(f);
	if (!found)
		spm_miss(-1, "no %s in %s", key, path);
	return val;
}

static inline long long spm_vmstat(const char *key)
{
	return spm_read_key("/proc/vmstat", key);
}

/* The kernel log (klogctl READ_ALL), malloc'ed; NULL on error. */
static inline char *spm_kernel_log(void)
{
	int size = klogctl(10 /* SYSLOG_ACTION_SIZE_BUFFER */, NULL, 0);
	char *buf;
	int n;

	if (size <= 0)
		return NULL;
	buf = calloc(1, size + 1);
	if (!buf)
		return NULL;
	n = klogctl(3 /* SYSLOG_ACTION_READ_ALL */, buf, size);
	if (n < 0) {
		free(buf);
		return NULL;
	}
	buf[n] = '\0';
	return buf;
}

static inline long long spm_meminfo(const char *key)
{
	char line[256], name[64];
	long long v, val = -1;
	int found = 0;
	FILE *f = fopen("/proc/meminfo", "r");

	if (!f)
		return spm_miss(-1, "/proc/meminfo: %m");
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "%63[^:]: %lld", name, &v) == 2 && !strcmp(name, key)) {
			val = v;
			found = 1;
			break;
		}
	fclose(f);
	if (!found)
		spm_miss(-1, "no %s in /proc/meminfo", key);
	return val;
}

/* ------------------------------------------------------------------ */

/*
 * Count the pages of [p, p + len) of task pid (0: this one) per node with
 * the move_pages() query. counts[] has SPM_MAXN + 1 slots; the last one
 * collects pages that are not present or report an error. Returns the
 * number of pages or -errno.
 */
static inline long spm_count_pages_pid(pid_t pid, void *p, size_t len,
				       long *counts)
{
	const unsigned long chunk = 8192;
	long ps = spm_page_size();
	unsigned long n = len / ps, i, done;
	void **pages = calloc(chunk, sizeof(*pages));
	int *status = calloc(chunk, sizeof(*status));

	memset(counts, 0, (SPM_MAXN + 1) * sizeof(*counts));
	if (!pages || !status) {
		free(pages);
		free(status);
		return -ENOMEM;
	}
	for (done = 0; done < n; done += chunk) {
		unsigned long m = n - done < chunk ? n - done : chunk;

		for (i = 0; i < m; i++)
			pages[i] = (char *)p + (done + i) * ps;
		if (spm_move_pages(pid, m, pages, NULL, status, 0) < 0) {
			int err = errno;

			free(pages);
			free(status);
			return -err;
		}
		for (i = 0; i < m; i++) {
			if (status[i] >= 0 && status[i] < SPM_MAXN)
				counts[status[i]]++;
			else
				counts[SPM_MAXN]++;
		}
	}
	free(pages);
	free(status);
	return n;
}

static inline long spm_count_pages(void *p, size_t len, long *counts)
{
	return spm_count_pages_pid(0, p, len, counts);
}

/* The nodemask of nodes a, b and c; a negative one is left out. */
static inline unsigned long spm_nodes_mask(int a, int b, int c)
{
	unsigned long m = 0;

	if (a >= 0)
		m |= 1UL << a;
	if (b >= 0)
		m |= 1UL << b;
	if (c >= 0)
		m |= 1UL << c;
	return m;
}

/* A private anonymous mapping (not faulted in), or NULL. */
static inline char *spm_anon(size_t len)
{
	char *p = mmap(NULL, len, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	return p == MAP_FAILED ? NULL : p;
}

/* Pages of counts on the nodes of mask; -1 for a mask that could not be read. */
static inline long spm_count_in(const long *counts, long long mask)
{
	long sum = 0;
	int nid;

	if (mask < 0)
		return -1;
	for (nid = 0; nid < SPM_MAXN; nid++)
		if (mask & (1LL << nid))
			sum += counts[nid];
	return sum;
}

static inline void spm_counts_log(const char *what, const long *counts)
{
	int nid;

	printf("# %s: pages per node:", what);
	for (nid = 0; nid < SPM_MAXN; nid++)
		if (counts[nid])
			printf(" N%d=%ld", nid, counts[nid]);
	if (counts[SPM_MAXN])
		printf(" absent/error=%ld", counts[SPM_MAXN]);
	printf("\n");
	fflush(stdout);
}

/* ------------------------------------------------------------------ */

static inline uint64_t spm_pattern(uint64_t seed, uint64_t i, int w)
{
	uint64_t x = seed ^ (i * 0x9e3779b97f4a7c15ULL) ^ ((uint64_t)w << 56);

	x ^= x >> 29;
	return x | 1;	/* never zero: no KSM zero-page merging */
}

/* Write two pattern words into every page (this faults every page in). */
static inline void spm_fill(void *p, size_t len, uint64_t seed)
{
	long ps = spm_page_size();
	size_t i, n = len / ps;

	for (i = 0; i < n; i++) {
		volatile uint64_t *w = (uint64_t *)((char *)p + i * ps);

		w[0] = spm_pattern(seed, i, 0);
		w[ps / 16] = spm_pattern(seed, i, 1);
	}
}

/* Number of pages whose pattern words differ. */
static inline long spm_verify(const void *p, size_t len, uint64_t seed)
{
	long ps = spm_page_size();
	size_t i, n = len / ps;
	long bad = 0;

	for (i = 0; i < n; i++) {
		const volatile uint64_t *w = (const uint64_t *)((const char *)p + i * ps);

		if (w[0] != spm_pattern(seed, i, 0) || w[ps / 16] != spm_pattern(seed, i, 1))
			bad++;
	}
	return bad;
}

/* mmap of len bytes aligned to align (a power of two). */
static inline void *spm_mmap_aligned(size_t len, size_t align)
{
	char *p = mmap(NULL, len + align, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	uintptr_t a;

	if (p == MAP_FAILED)
		return MAP_FAILED;
	a = ((uintptr_t)p + align - 1) & ~(uintptr_t)(align - 1);
	if (a > (uintptr_t)p)
		munmap(p, a - (uintptr_t)p);
	munmap((char *)a + len, (uintptr_t)p + align - a);
	return (void *)a;
}

/* ------------------------------------------------------------------ */

#define SPM_SQUEEZE_DIR "/run/spm-squeeze"

/*
 * Leave about leave_kb free on node nid by filling it with a tmpfs file
 * whose mount policy binds it there (fallocate: no zeroing, fast under TCG).
 * Returns the size of the file in kB, or -errno.
 */
static inline long long spm_squeeze_room(int nid, long long leave_kb)
{
	long long free_kb = spm_node_meminfo(nid, "MemFree");
	long long min = spm_zoneinfo_sum(nid, "min");
	long long boost = spm_zoneinfo_sum(nid, "boost");

	if (free_kb < 0)
		return free_kb;
	/*
	 * Stay 4 MiB above the min watermark as the allocator sees it (a
	 * boosted one: the debug kernel boosts after fragmentation events),
	 * or the bound fill itself ends in an OOM kill: its shmem cannot be
	 * reclaimed without swap, so no kill gives anything back, and the
	 * OOM killer goes on to whatever else runs (the test runner).
	 */
	if (min >= 0 && boost >= 0 && leave_kb < (min + boost) * 4 + 4096)
		leave_kb = (min + boost) * 4 + 4096;
	return free_kb > leave_kb ? free_kb - leave_kb : 0;
}

static inline long long spm_squeeze(int nid, long long leave_kb)
{
	long long room = spm_squeeze_room(nid, leave_kb), size_kb = 0, step;
	char opts[128];
	int fd, err = 0;

	if (room <= 0)
		return room;
	mkdir(SPM_SQUEEZE_DIR, 0700);
	umount2(SPM_SQUEEZE_DIR, MNT_DETACH);
	/* Room may grow between steps (pages still on their way back). */
	snprintf(opts, sizeof(opts), "size=%lldk,mpol=bind:%d",
		 spm_node_meminfo(nid, "MemTotal") + 4096, nid);
	if (mount("tmpfs", SPM_SQUEEZE_DIR, "tmpfs", 0, opts))
		return -errno;
	fd = open(SPM_SQUEEZE_DIR "/fill", O_CREAT | O_RDWR, 0600);
	if (fd < 0)
		return -errno;
	/*
	 * In steps, each at most half of what is left to fill while more
	 * than 8 MiB is, the room measured again before each: memory the
	 * node loses meanwhile (a previous test's pages still being freed
	 * elsewhere, kernel allocations from this CPU) shrinks the fill
	 * instead of pushing it below the watermark.
	 */
	while (room > 0) {
		step = room > 8192 ? room / 2 : room;
		if (fallocate(fd, 0, size_kb * 1024, step * 1024)) {
			err = -errno;
			break;
		}
		size_kb += step;
		if (step == room)
			break;
		room = spm_squeeze_room(nid, leave_kb);
		if (room < 0) {
			err = (int)room;
			break;
		}
	}
	close(fd);
	return err ? err : size_kb;
}

static inline void spm_unsqueeze(void)
{
	unlink(SPM_SQUEEZE_DIR "/fill");
	umount2(SPM_SQUEEZE_DIR, MNT_DETACH);
}

#endif /* SPM_PLACE_H */
