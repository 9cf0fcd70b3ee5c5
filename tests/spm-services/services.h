/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Helpers of the spm-services suite (guest side), on top of spm_owner.h
 * (owner_load/unload/get/put/param) and spm_place.h:
 *
 *   owner_fence_action(a)   the module's fence_action parameter
 *   node_reclaim(nid, n)    write n to nodeN/spm/reclaim: 0 or -errno
 *   node_vmstat(nid, key)   a counter of nodeN/vmstat (-1: none), per-cpu
 *                           deltas folded first
 *   swap_on()               spm-setup-swap (zram0, 256M): 0 or -1
 *   swap_used_kb()          SwapTotal - SwapFree (-1: either is missing)
 *   map_bound(len, nid)     anonymous mapping bound (MPOL_BIND) to nid, no THP
 *   buddy_free_kb(nid, o)   free memory of nid in buddy blocks of order >= o
 *                           (-errno: no /proc/buddyinfo row for nid)
 *   owner_arrived(r, &same) the owner's folio_arrived calls for migration
 *                           reason r ("compaction", "syscall", ...) and, in
 *                           same, those whose source was on the node (-errno:
 *                           no such line in the debugfs file "arrived")
 *   owner_last(name, buf)   a debugfs file of the owner as text (last_failure,
 *                           last_offline): its length, or -errno
 *   page_pfn(addr)          PFN of the page at addr (/proc/self/pagemap, as
 *                           root), or -errno
 *
 * Swap-out is measured per node (nr_vmscan_write: pages written out by
 * reclaim, i.e. swapped here) and per memcg (memory.stat events): the
 * global /proc/vmstat counters (pswpout, pgsteal_*) cannot tell node 2's
 * reclaim from SysRAM's.
 *
 * This header is not in tests/lib: make rebuilds the suite's programs when
 * it changes (USER_DEPS has tests/\*\/\*.h).
 */
#ifndef SPM_SERVICES_H
#define SPM_SERVICES_H

#include "spm_owner.h"

#define SPM_NID 2
#define PAGE 4096UL

static inline int owner_fence_action(const char *action)
{
	return owner_param("fence_action", action);
}

static inline int node_reclaim(int nid, long pages)
{
	char path[128];

	snprintf(path, sizeof(path), SPM_NODE_SYSFS "/node%d/spm/reclaim", nid);
	return spm_writef(path, "%ld", pages);
}

static inline int node_compact(int nid)
{
	char path[128];

	snprintf(path, sizeof(path), SPM_NODE_SYSFS "/node%d/compact", nid);
	return spm_write_file(path, "1");
}

static inline long long node_vmstat(int nid, const char *key)
{
	char path[128];

	spm_stat_refresh();
	snprintf(path, sizeof(path), SPM_NODE_SYSFS "/node%d/vmstat", nid);
	return spm_read_key(path, key);
}

static inline int swap_on(void)
{
	return system("spm-setup-swap >/dev/null") == 0 ? 0 : -1;
}

static inline long long swap_used_kb(void)
{
	long long total = spm_meminfo("SwapTotal"), free = spm_meminfo("SwapFree");

	return total < 0 || free < 0 ? -1 : total - free;
}

/* An anonymous mapping bound to nid (not faulted in), or MAP_FAILED. */
static inline void *map_bound(size_t len, int nid)
{
	unsigned long mask = 1UL << nid;
	void *p = mmap(NULL, len, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED)
		return p;
	madvise(p, len, MADV_NOHUGEPAGE);
	if (spm_mbind(p, len, MPOL_BIND, &mask, 64, 0)) {
		int err = errno;

		munmap(p, len);
		errno = err;
		return MAP_FAILED;
	}
	return p;
}

/* kB free on nid in buddy blocks of order >= min_order (/proc/buddyinfo). */
static inline long long buddy_free_kb(int nid, int min_order)
{
	char line[512], *s, *end;
	long long sum = 0, c;
	int n, o, off, found = 0;
	FILE *f = fopen("/proc/buddyinfo", "r");

	if (!f)
		return spm_miss(-errno, "/proc/buddyinfo: %m");
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "Node %d, zone %*s%n", &n, &off) != 1 || n != nid)
			continue;
		found = 1;
		s = line + off;
		for (o = 0;; o++) {
			c = strtoll(s, &end, 10);
			if (end == s)
				break;
			if (o >= min_order)
				sum += c << o;
			s = end;
		}
	}
	fclose(f);
	if (!found)
		return spm_miss(-ENOENT, "no node %d in /proc/buddyinfo", nid);
	return sum * (PAGE / 1024);
}

/* Log the buddyinfo rows of nid. */
static inline void buddy_log(const char *what, int nid)
{
	char line[512];
	int n;
	FILE *f = fopen("/proc/buddyinfo", "r");

	if (!f)
		return;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "Node %d,", &n) == 1 && n == nid)
			printf("# %s: %s", what, line);
	fclose(f);
	fflush(stdout);
}

/* Fork a child that runs fn(arg); returns its wait status, or -1. */
static inline int run_child(int (*fn)(void *), void *arg)
{
	int status;
	pid_t pid = fork();

	if (pid < 0)
		return -1;
	if (pid == 0)
		_exit(fn(arg));
	if (waitpid(pid, &status, 0) != pid)
		return -1;
	return status;
}

static inline long long owner_arrived(const char *reason, long long *same)
{
	char line[128], name[64];
	long long calls, from_node;
	FILE *f = fopen(OWNER_DBG "/arrived", "r");

	if (!f)
		return spm_miss(-errno, OWNER_DBG "/arrived: %m");
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "%63s %lld %lld", name, &calls, &from_node) != 3 ||
		    strcmp(name, reason))
			continue;
		fclose(f);
		if (same)
			*same = from_node;
		return calls;
	}
	fclose(f);
	return spm_miss(-ENOENT, "no reason '%s' in " OWNER_DBG "/arrived", reason);
}

static inline int owner_last(const char *name, char *buf, size_t size)
{
	char path[256];

	snprintf(path, sizeof(path), OWNER_DBG "/%s", name);
	return spm_read_file(path, buf, size);
}

static inline long long page_pfn(const void *addr)
{
	uint64_t e;
	int fd = open("/proc/self/pagemap", O_RDONLY);
	off_t off = (off_t)((uintptr_t)addr / PAGE) * sizeof(e);
	ssize_t n;

	if (fd < 0)
		return spm_miss(-errno, "/proc/self/pagemap: %m");
	n = pread(fd, &e, sizeof(e), off);
	close(fd);
	if (n != sizeof(e))
		return spm_miss(-EIO, "/proc/self/pagemap: short read");
	if (!(e >> 63))
		return spm_miss(-ENOENT, "page at %p not present", addr);
	e &= (1ULL << 55) - 1;
	if (!e)
		return spm_miss(-EPERM, "/proc/self/pagemap shows no PFN (not root?)");
	return (long long)e;
}

/* A shared anonymous page for results of a child (SysRAM, shmem). */
static inline void *shared_page(void)
{
	void *p = mmap(NULL, PAGE, PROT_READ | PROT_WRITE,
		       MAP_SHARED | MAP_ANONYMOUS, -1, 0);

	return p == MAP_FAILED ? NULL : p;
}

#endif /* SPM_SERVICES_H */
