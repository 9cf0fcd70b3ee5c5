/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Helpers for tests/spm-perm (guest side), on top of spm_place.h: the
 * permission rule "an allocation may use exactly the SPM nodes that permit
 * user placement at the time of the allocation".
 *
 *   PERM_A, PERM_B              the two SPM nodes of the suite's VM (2, 3)
 *   perm_save/perm_restore(s)   allow_user of both nodes
 *   perm_allow(nid, on)         nodeN/spm/allow_user, 0 or -errno
 *   perm_counts_str(counts)     "N0=12 N2=3" (static buffer)
 *   perm_status(pid, key, buf)  a field of /proc/<pid>/status ("Mems_allowed_list")
 *   perm_in_proc_mounts(dir)    1 when dir is a mount point in /proc/mounts
 *   perm_cg_*                   cgroup v2 helpers (mkdir, write, read, enter)
 *   perm_swapped(p, len)        pages of a range that /proc/self/pagemap says are swapped
 */
#ifndef SPM_PERM_H
#define SPM_PERM_H

#include "spm_place.h"
#include <sys/mman.h>

#define PERM_A 2
#define PERM_B 3
#define PERM_MAXNODE 64
#define PERM_CG "/sys/fs/cgroup"

#ifndef MPOL_F_STATIC_NODES
#define MPOL_F_STATIC_NODES	(1 << 15)
#define MPOL_F_RELATIVE_NODES	(1 << 14)
#endif
#ifndef MPOL_F_MEMS_ALLOWED
#define MPOL_F_MEMS_ALLOWED	(1 << 2)
#endif
#ifndef MADV_PAGEOUT
#define MADV_PAGEOUT 21
#endif

struct perm_saved {
	int a, b;
};

static inline int perm_allow(int nid, int on)
{
	return spm_allow_user_set(nid, on);
}

static inline void perm_save(struct perm_saved *s)
{
	s->a = spm_allow_user_get(PERM_A);
	s->b = spm_allow_user_get(PERM_B);
}

static inline void perm_restore(const struct perm_saved *s)
{
	if (s->a >= 0)
		perm_allow(PERM_A, s->a);
	if (s->b >= 0)
		perm_allow(PERM_B, s->b);
}

static inline const char *perm_counts_str(const long *counts)
{
	static char buf[256];
	size_t n = 0;
	int nid;

	buf[0] = '\0';
	for (nid = 0; nid < SPM_MAXN && n < sizeof(buf) - 24; nid++)
		if (counts[nid])
			n += snprintf(buf + n, sizeof(buf) - n, "%sN%d=%ld",
				      n ? " " : "", nid, counts[nid]);
	if (counts[SPM_MAXN] && n < sizeof(buf) - 24)
		snprintf(buf + n, sizeof(buf) - n, "%sabsent=%ld", n ? " " : "",
			 counts[SPM_MAXN]);
	return buf;
}

/* The value of "key:" in /proc/<pid>/status (pid 0: self), whitespace trimmed. */
static inline int perm_status(pid_t pid, const char *key, char *out, size_t size)
{
	char path[64], line[512];
	size_t klen = strlen(key);
	int ret = -ENOENT;
	FILE *f;

	if (pid)
		snprintf(path, sizeof(path), "/proc/%d/status", pid);
	else
		snprintf(path, sizeof(path), "/proc/self/status");
	f = fopen(path, "r");
	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f)) {
		char *v;
		size_t n;

		if (strncmp(line, key, klen) || line[klen] != ':')
			continue;
		v = line + klen + 1;
		while (*v == ' ' || *v == '\t')
			v++;
		n = strlen(v);
		while (n && (v[n - 1] == '\n' || v[n - 1] == ' '))
			v[--n] = '\0';
		snprintf(out, size, "%s", v);
		ret = 0;
		break;
	}
	fclose(f);
	return ret;
}

/* 1 if dir is the mount point of a line of /proc/mounts, 0 if not, -errno. */
static inline int perm_in_proc_mounts(const char *dir)
{
	char line[1024], dev[256], mnt[512];
	int found = 0;
	FILE *f = fopen("/proc/mounts", "r");

	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "%255s %511s", dev, mnt) == 2 && !strcmp(mnt, dir))
			found = 1;
	fclose(f);
	return found;
}

/* ------------------------------------------------------------ cgroups */

static inline int perm_cg_write(const char *cg, const char *file, const char *val)
{
	char path[512];

	snprintf(path, sizeof(path), "%s/%s", cg, file);
	return spm_write_file(path, val);
}

static inline int perm_cg_read(const char *cg, const char *file, char *buf, size_t size)
{
	char path[512];

	snprintf(path, sizeof(path), "%s/%s", cg, file);
	return spm_read_file(path, buf, size);
}

static inline long long perm_cg_mask(const char *cg, const char *file)
{
	char buf[256];

	if (perm_cg_read(cg, file, buf, sizeof(buf)) < 0)
		return -1;
	return spm_nodelist_parse(buf);
}

/* Move task pid (0: self) into cgroup cg. */
static inline int perm_cg_enter(const char *cg, pid_t pid)
{
	char val[32];

	snprintf(val, sizeof(val), "%d", pid ? pid : getpid());
	return perm_cg_write(cg, "cgroup.procs", val);
}

/* Move every task of cg to the root cgroup, then remove cg. */
static inline void perm_cg_remove(const char *cg)
{
	char path[512], line[64];
	FILE *f;

	snprintf(path, sizeof(path), "%s/cgroup.procs", cg);
	f = fopen(path, "r");
	if (f) {
		while (fgets(line, sizeof(line), f))
			spm_write_file(PERM_CG "/cgroup.procs", line);
		fclose(f);
	}
	rmdir(cg);
}

/* ------------------------------------------------------------- swap */

/* Pages of [p, p + len) that /proc/self/pagemap reports as swapped. */
static inline long perm_swapped(void *p, size_t len)
{
	long ps = spm_page_size();
	unsigned long n = len / ps, i;
	uint64_t e;
	long count = 0;
	int fd = open("/proc/self/pagemap", O_RDONLY);

	if (fd < 0)
		return -errno;
	for (i = 0; i < n; i++) {
		off_t off = (((uintptr_t)p / ps) + i) * sizeof(e);

		if (pread(fd, &e, sizeof(e), off) != sizeof(e)) {
			count = -EIO;
			break;
		}
		count += !!(e & (1ULL << 62));
	}
	close(fd);
	return count;
}

#endif /* SPM_PERM_H */
