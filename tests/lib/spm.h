/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Small helpers shared by the project's test programs (guest side).
 *
 *   spm_node_of(addr)        node holding the page at addr (move_pages query)
 *   spm_node_meminfo(n, key) a field of /sys/devices/system/node/nodeN/meminfo, in KiB
 *   spm_node_present_kb(n)   memory present on node n (all zones, /proc/zoneinfo), in KiB
 *   spm_zoneinfo_sum(n, key) a /proc/zoneinfo field summed over node n's zones, in pages
 *   spm_read_file(path, buf) read a small sysfs/proc file, trailing newline removed
 *   spm_write_file(path, s)   one write(2) of s; 0 or -errno
 *   spm_nodelist_parse(s)    "0-2,5" -> bit mask of nodes (nodes < 64)
 *   spm_sysfs_nodemask(name) mask of /sys/devices/system/node/<name> (online, has_memory, ...)
 *   spm_touch(p, len)        write one byte per page so every page is faulted in
 *   spm_pages_on_node(p, len, nid)  how many pages of a range sit on nid
 *   SPM_GET(expr)            a getter's value; the test fails there when it is
 *                            missing (negative), naming the file and key
 *
 * Raw syscalls only: no libnuma needed. Header-only (static functions).
 */
#ifndef SPM_TEST_H
#define SPM_TEST_H

#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/syscall.h>

#define SPM_NODE_SYSFS "/sys/devices/system/node"

#ifndef MPOL_DEFAULT
#define MPOL_DEFAULT	0
#define MPOL_PREFERRED	1
#define MPOL_BIND	2
#define MPOL_INTERLEAVE	3
#define MPOL_LOCAL	4
#endif
#ifndef MPOL_MF_STRICT
#define MPOL_MF_STRICT	(1 << 0)
#define MPOL_MF_MOVE	(1 << 1)
#define MPOL_MF_MOVE_ALL (1 << 2)
#endif

#define SPM_MISSING_LEN 320

/* What the last getter that found nothing was looking for (for SPM_GET). */
static inline char *spm_missing(void)
{
	static char what[SPM_MISSING_LEN];

	return what;
}

/* Note what is missing ("no MemUsed in /sys/..."); returns ret. */
static inline long long __attribute__((format(printf, 2, 3)))
spm_miss(long long ret, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(spm_missing(), SPM_MISSING_LEN, fmt, ap);
	va_end(ap);
	return ret;
}

/*
 * SPM_GET(expr): the value of a getter that is negative when its file,
 * key or counter is missing (spm_vmstat(), spm_node_meminfo(), owner_get()
 * ...). A missing value fails the test there (ASSERT, naming what is
 * missing) instead of being compared with another failure value (-1 ==
 * -1) or subtracted from one (a delta of 0). Needs _metadata; not for
 * values that may legitimately be negative, nor inside the arguments of
 * TH_LOG() (##__VA_ARGS__ would leave the ASSERT in it unexpanded).
 */
#define SPM_GET(expr) ({						\
	long long __spm_v;						\
									\
	spm_missing()[0] = '\0';					\
	__spm_v = (expr);						\
	ASSERT_LE(0, __spm_v)						\
		TH_LOG("%s: %s", #expr,					\
		       *spm_missing() ? spm_missing() : "no value");	\
	__spm_v;							\
})

static inline long spm_page_size(void)
{
	return sysconf(_SC_PAGESIZE);
}

static inline long spm_mbind(void *addr, unsigned long len, int mode,
			     const unsigned long *nodemask, unsigned long maxnode,
			     unsigned int flags)
{
	return syscall(SYS_mbind, addr, len, mode, nodemask, maxnode, flags);
}

static inline long spm_set_mempolicy(int mode, const unsigned long *nodemask,
				     unsigned long maxnode)
{
	return syscall(SYS_set_mempolicy, mode, nodemask, maxnode);
}

static inline long spm_move_pages(int pid, unsigned long count, void **pages,
				  const int *nodes, int *status, int flags)
{
	return syscall(SYS_move_pages, pid, count, pages, nodes, status, flags);
}

/* Node of the page at addr (must be faulted in), or -errno. */
static inline int spm_node_of(void *addr)
{
	void *page = (void *)((uintptr_t)addr & ~(uintptr_t)(spm_page_size() - 1));
	int status = -1;

	if (spm_move_pages(0, 1, &page, NULL, &status, 0) < 0)
		return -errno;
	return status;
}

/* Fault in every page of [p, p + len) by writing to it. */
static inline void spm_touch(void *p, size_t len)
{
	long ps = spm_page_size();
	size_t off;

	for (off = 0; off < len; off += ps)
		((volatile char *)p)[off] = 1;
}

/* Number of pages of [p, p + len) that sit on node nid, or -errno. */
static inline long spm_pages_on_node(void *p, size_t len, int nid)
{
	long ps = spm_page_size();
	unsigned long i, n = (len + ps - 1) / ps;
	void **pages = calloc(n, sizeof(*pages));
	int *status = calloc(n, sizeof(*status));
	long count = 0;

	if (!pages || !status) {
		free(pages);
		free(status);
		return -ENOMEM;
	}
	for (i = 0; i < n; i++)
		pages[i] = (char *)p + i * ps;
	if (spm_move_pages(0, n, pages, NULL, status, 0) < 0) {
		count = -errno;
	} else {
		for (i = 0; i < n; i++)
			count += status[i] == nid;
	}
	free(pages);
	free(status);
	return count;
}

/* Read a small file into buf (NUL-terminated, trailing newline stripped). */
static inline int spm_read_file(const char *path, char *buf, size_t size)
{
	FILE *f = fopen(path, "r");
	size_t n;

	if (!f)
		return -errno;
	n = fread(buf, 1, size - 1, f);
	fclose(f);
	buf[n] = '\0';
	while (n && (buf[n - 1] == '\n' || buf[n - 1] == ' '))
		buf[--n] = '\0';
	return (int)n;
}

/* One write(2) of str; 0 or -errno. */
static inline int spm_write_file(const char *path, const char *str)
{
	int fd = open(path, O_WRONLY);
	ssize_t n;
	int err;

	if (fd < 0)
		return -errno;
	n = write(fd, str, strlen(str));
	err = n < 0 ? -errno : 0;
	close(fd);
	return err;
}

/* Parse a kernel node list ("0-2,5", "" = empty) into a mask; -1 on error. */
static inline long long spm_nodelist_parse(const char *s)
{
	long long mask = 0;
	char *end;

	while (*s && *s != '\n') {
		long a = strtol(s, &end, 10), b = a;

		if (end == s || a < 0 || a > 63)
			return -1;
		s = end;
		if (*s == '-') {
			b = strtol(s + 1, &end, 10);
			if (end == s + 1 || b < a || b > 63)
				return -1;
			s = end;
		}
		for (; a <= b; a++)
			mask |= 1LL << a;
		if (*s == ',')
			s++;
	}
	return mask;
}

/* Mask of /sys/devices/system/node/<name>, or -1 when it cannot be read. */
static inline long long spm_sysfs_nodemask(const char *name)
{
	char path[256], buf[256];

	snprintf(path, sizeof(path), SPM_NODE_SYSFS "/%s", name);
	if (spm_read_file(path, buf, sizeof(buf)) < 0)
		return -1;
	return spm_nodelist_parse(buf);
}

/*
 * A field of /sys/devices/system/node/node<nid>/meminfo in KiB (page counts
 * such as HugePages_Total are returned as they are), or -errno.
 * Lines look like "Node 1 MemFree:   1003480 kB".
 */
static inline long long spm_node_meminfo(int nid, const char *key)
{
	char path[256], line[256], name[64];
	long long val = -ENOENT, v;
	int n;
	FILE *f;

	snprintf(path, sizeof(path), SPM_NODE_SYSFS "/node%d/meminfo", nid);
	f = fopen(path, "r");
	if (!f)
		return spm_miss(-errno, "%s: %m", path);
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "Node %d %63[^:]: %lld", &n, name, &v) == 3 &&
		    !strcmp(name, key)) {
			val = v;
			break;
		}
	}
	fclose(f);
	if (val == -ENOENT)
		spm_miss(val, "no %s in %s", key, path);
	return val;
}

/*
 * A "name value" field of /proc/zoneinfo ("present", "high", ...) summed
 * over the zones of nid, in pages, or -errno (-ENOENT: no zone of nid
 * has the field).
 */
static inline long long spm_zoneinfo_sum(int nid, const char *key)
{
	char line[256], name[64];
	long long sum = 0, v;
	int cur = -1, n, found = 0;
	FILE *f = fopen("/proc/zoneinfo", "r");

	if (!f)
		return spm_miss(-errno, "/proc/zoneinfo: %m");
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "Node %d, zone", &n) == 1)
			cur = n;
		else if (cur == nid && sscanf(line, " %63s %lld", name, &v) == 2 &&
			 !strcmp(name, key)) {
			sum += v;
			found = 1;
		}
	}
	fclose(f);
	if (!found)
		return spm_miss(-ENOENT, "no %s for node %d in /proc/zoneinfo", key, nid);
	return sum;
}

/*
 * Memory present on a node, summed over its zones from /proc/zoneinfo, in
 * KiB (unlike MemTotal, not reduced by memblock reservations such as the
 * KASAN shadow), or -errno.
 */
static inline long long spm_node_present_kb(int nid)
{
	long long pages = spm_zoneinfo_sum(nid, "present");

	return pages < 0 ? pages : pages * (spm_page_size() / 1024);
}

/* Number of bits set in a node mask. */
static inline int spm_nodes_weight(long long mask)
{
	return __builtin_popcountll((unsigned long long)mask);
}

/* SPM_TIMEOUT_SCALE of the runner (1 unless set): for a test's own waits. */
static inline int spm_timeout_scale(void)
{
	const char *v = getenv("SPM_TIMEOUT_SCALE");
	int scale = v ? atoi(v) : 1;

	return scale > 1 ? scale : 1;
}

#ifdef TEST_HARNESS_MAIN
/*
 * The runner scales every time budget by SPM_TIMEOUT_SCALE on slow kernels
 * (the debug kernel runs several times slower): stretch the harness's own
 * per-test alarms by the same factor.  Runs after every test registered.
 */
static void __attribute__((constructor(KSELFTEST_PRIO_XFAIL + 1)))
spm_scale_timeouts(void)
{
	struct __fixture_metadata *f;
	struct __test_metadata *t;
	int scale = spm_timeout_scale();

	if (scale <= 1)
		return;
	for (f = __fixture_list; f; f = f->next)
		for (t = f->tests; t; t = t->next)
			t->timeout *= scale;
}
#endif

#endif /* SPM_TEST_H */
