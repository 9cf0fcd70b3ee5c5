/* SPDX-License-Identifier: GPL-2.0 */
/*
 * hugetlb helpers for the guest-side tests, for any huge page size:
 *
 *   hp_get_kb(kb, nid, file)       a hugepages-<kb>kB counter: of node nid,
 *                                  or the global one (nid < 0); -errno
 *   hp_set_kb(kb, nid, file, val)  write it: 0 or -errno
 *   hp_map(len, flags)             private anonymous MAP_HUGETLB mapping
 *                                  (flags: MAP_HUGE_1GB, ...), NULL on error
 *   hp_fill_step(p, len, step, seed)  write a pattern byte every step bytes of
 *                                  [p, p + len); hp_sum_step() of the range
 *   hp_sum_step(p, len, step)      FNV-1a over every step-th byte
 *   hp_child_touch(len, flags, nid, buf, size)
 *                                  a child with the default policy maps
 *                                  and touches a huge page: its wait status
 *                                  (SIGBUS: no huge page for it; exit 11:
 *                                  it got one on node nid), described in buf
 */
#ifndef SPM_HUGETLB_H
#define SPM_HUGETLB_H

#include <stdint.h>
#include <stdio.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>
#include "spm_place.h"

#ifndef MAP_HUGETLB
#define MAP_HUGETLB 0x40000
#endif
#ifndef MAP_HUGE_SHIFT
#define MAP_HUGE_SHIFT 26
#endif
#ifndef MAP_HUGE_1GB
#define MAP_HUGE_1GB (30 << MAP_HUGE_SHIFT)
#endif

static inline void hp_path(char *path, size_t size, long kb, int nid,
			   const char *file)
{
	if (nid < 0)
		snprintf(path, size, "/sys/kernel/mm/hugepages/hugepages-%ldkB/%s",
			 kb, file);
	else
		snprintf(path, size,
			 "/sys/devices/system/node/node%d/hugepages/hugepages-%ldkB/%s",
			 nid, kb, file);
}

static inline long long hp_get_kb(long kb, int nid, const char *file)
{
	char path[160];

	hp_path(path, sizeof(path), kb, nid, file);
	return spm_read_ll(path);
}

static inline int hp_set_kb(long kb, int nid, const char *file, long long val)
{
	char path[160], buf[32];

	hp_path(path, sizeof(path), kb, nid, file);
	snprintf(buf, sizeof(buf), "%lld", val);
	return spm_write_file(path, buf);
}

static inline void *hp_map(size_t len, int flags)
{
	void *p = mmap(NULL, len, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_HUGETLB | flags, -1, 0);

	return p == MAP_FAILED ? NULL : p;
}

/* FNV-1a over p[0], p[step], p[2 * step], ... below p + len. */
static inline uint64_t hp_sum_step(const char *p, size_t len, size_t step)
{
	uint64_t h = 0xcbf29ce484222325ULL;
	size_t i;

	for (i = 0; i < len; i += step)
		h = (h ^ (unsigned char)p[i]) * 0x100000001b3ULL;
	return h;
}

static inline uint64_t hp_fill_step(char *p, size_t len, size_t step, int seed)
{
	size_t i;

	for (i = 0; i < len; i += step)
		p[i] = (char)(i / step * 7 + seed);
	return hp_sum_step(p, len, step);
}

static inline int hp_child_touch(size_t len, int flags, int nid, char *buf,
				 size_t size)
{
	int status = -1;
	pid_t pid = fork();

	if (pid == 0) {
		char *p = hp_map(len, flags);

		if (!p)
			_exit(10);
		p[0] = 1;	/* SIGBUS unless it got a huge page */
		_exit(spm_node_of(p) == nid ? 11 : 0);
	}
	if (pid < 0 || waitpid(pid, &status, 0) != pid)
		snprintf(buf, size, "fork/wait failed");
	else if (WIFSIGNALED(status))
		snprintf(buf, size, "signal %d", WTERMSIG(status));
	else
		snprintf(buf, size, "exit %d", WEXITSTATUS(status));
	return status;
}

#endif
