/* SPDX-License-Identifier: GPL-2.0 */
/*
 * hugetlb helpers for the guest-side tests, for any huge page size:
 *
 *   hp_get_kb(kb, nid, file)       a hugepages-<kb>kB counter: of node nid,
 *                                  or the global one (nid < 0); -errno
 *   hp_set_kb(kb, nid, file, val)  write it: 0 or -errno
 *   hp_map(len, flags)             private anonymous MAP_HUGETLB mapping
 *                                  (flags: MAP_HUGE_1GB, ...), NULL on error
 */
#ifndef SPM_HUGETLB_H
#define SPM_HUGETLB_H

#include <stdio.h>
#include <sys/mman.h>
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

#endif
