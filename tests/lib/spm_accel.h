/* SPDX-License-Identifier: GPL-2.0 */
/*
 * User-side helpers for /dev/spm_accel (drivers/spm_accel), shared by
 * tools/spm-accel.c and tests/spm-accel/.  Header-only.
 *
 *   spm_accel_open()                open the device, loading the module if needed
 *   spm_accel_open_map(len, &p)     open it and map len bytes shared read-write:
 *                                   the fd, or -errno (nothing left open)
 *   spm_accel_range(fd, req, s, l)  TO_DEVICE / TO_CPU / MIRROR / UNMIRROR: 0 or -errno
 *   spm_accel_handover(fd, s, l, flags)
 *                                   HANDOVER (TO_DEVICE with flags): 0 or -errno
 *   spm_accel_limit(fd, lim, flags, max)
 *                                   LIMIT: read (flags 0) or set the file's
 *                                   page limit; 0 or -errno
 *   spm_accel_exec(fd, op, ...)     run a device command: 0 or -errno
 *   spm_accel_info(fd, info)        device and file counters: 0 or -errno
 *   spm_accel_pages_on_node(fd, off, len, nid)
 *                                   pages of driver-owned memory on nid, as
 *                                   the device sees them (move_pages() cannot
 *                                   see them: the mapping is VM_PFNMAP)
 *   spm_fnv64(h, p, len)            the device's checksum, computed by the CPU
 *   spm_accel_pattern(p, len, seed) fill with words that depend on seed and position
 *   spm_sigbus(p, write)            1 if touching p raises SIGBUS, 0 if not
 */
#ifndef SPM_ACCEL_TEST_H
#define SPM_ACCEL_TEST_H

#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>

#include "../../drivers/spm_accel/spm_accel_uapi.h"

#define SPM_FNV64_OFFSET	0xcbf29ce484222325ULL
#define SPM_FNV64_PRIME		0x100000001b3ULL
#define SPM_ACCEL_SYSFS		"/sys/class/misc/spm_accel"

static inline uint64_t spm_fnv64(uint64_t h, const void *p, size_t len)
{
	const unsigned char *c = p;

	while (len--) {
		h ^= *c++;
		h *= SPM_FNV64_PRIME;
	}
	return h;
}

/* Fill [p, p + len) with 64-bit words that depend on seed and position. */
static inline void spm_accel_pattern(void *p, size_t len, uint64_t seed)
{
	uint64_t *w = p;
	size_t i;

	for (i = 0; i < len / 8; i++)
		w[i] = seed * 0x9e3779b97f4a7c15ULL + i;
}

/* Open /dev/spm_accel; modprobe spm_accel first if it is missing. */
static inline int spm_accel_open(void)
{
	int fd = open(SPM_ACCEL_DEVICE, O_RDWR | O_CLOEXEC);

	if (fd < 0 && errno == ENOENT) {
		if (system("modprobe spm_accel") != 0)
			return -ENOENT;
		fd = open(SPM_ACCEL_DEVICE, O_RDWR | O_CLOEXEC);
	}
	return fd < 0 ? -errno : fd;
}

static inline int spm_accel_open_map(size_t len, char **p)
{
	int fd = spm_accel_open(), err;

	if (fd < 0)
		return fd;
	*p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (*p == MAP_FAILED) {
		err = -errno;
		close(fd);
		return err;
	}
	return fd;
}

static inline int spm_accel_range(int fd, unsigned long req, uint64_t start,
				  uint64_t length)
{
	struct spm_accel_range r = { .start = start, .length = length };

	return ioctl(fd, req, &r) ? -errno : 0;
}

static inline int spm_accel_handover(int fd, uint64_t start, uint64_t length,
				     uint32_t flags)
{
	struct spm_accel_handover h = {
		.start = start, .length = length, .flags = flags,
	};

	return ioctl(fd, SPM_ACCEL_IOC_HANDOVER, &h) ? -errno : 0;
}

/* lim holds the file's limit and the device's reserve afterwards. */
static inline int spm_accel_limit(int fd, struct spm_accel_limit *lim,
				  uint32_t flags, uint64_t max_pages)
{
	memset(lim, 0, sizeof(*lim));
	lim->flags = flags;
	lim->max_pages = max_pages;
	return ioctl(fd, SPM_ACCEL_IOC_LIMIT, lim) ? -errno : 0;
}

/* Fill in and run a command; op holds the results afterwards. */
static inline int spm_accel_exec(int fd, struct spm_accel_op *op, uint32_t cmd,
				 uint32_t flags, uint64_t addr, uint64_t length,
				 uint64_t arg, int32_t *nodes)
{
	memset(op, 0, sizeof(*op));
	op->cmd = cmd;
	op->flags = flags;
	op->addr = addr;
	op->length = length;
	op->arg = arg;
	op->nodes_ptr = (uintptr_t)nodes;
	return ioctl(fd, SPM_ACCEL_IOC_EXEC, op) ? -errno : 0;
}

static inline int spm_accel_info(int fd, struct spm_accel_info *info)
{
	return ioctl(fd, SPM_ACCEL_IOC_INFO, info) ? -errno : 0;
}

/*
 * Pages of [off, off + len) of fd's driver-owned memory that sit on node
 * nid (< SPM_ACCEL_MAX_NODES), or -errno.  The range is handed to the
 * device (pages it lacks are allocated), which reports the node of each
 * page it processes (an XOR with 0 leaves the data as it was), and back
 * to the CPU: it is CPU-owned afterwards.
 */
static inline long spm_accel_pages_on_node(int fd, uint64_t off, uint64_t len,
					   int nid)
{
	struct spm_accel_op op;
	int ret = spm_accel_range(fd, SPM_ACCEL_IOC_TO_DEVICE, off, len);

	if (!ret)
		ret = spm_accel_exec(fd, &op, SPM_ACCEL_CMD_XOR, 0, off, len, 0,
				     NULL);
	if (!ret)
		ret = spm_accel_range(fd, SPM_ACCEL_IOC_TO_CPU, off, len);
	return ret ? ret : (long)op.node_pages[nid];
}

/* A counter of /sys/class/misc/spm_accel/, or -1. */
static inline long long spm_accel_counter(const char *name)
{
	char path[256];
	long long v = -1;
	FILE *f;

	snprintf(path, sizeof(path), SPM_ACCEL_SYSFS "/%s", name);
	f = fopen(path, "r");
	if (!f)
		return -1;
	if (fscanf(f, "%lld", &v) != 1)
		v = -1;
	fclose(f);
	return v;
}

static inline sigjmp_buf *spm_sigbus_jmp(void)
{
	static sigjmp_buf jmp;

	return &jmp;
}

static inline void spm_sigbus_handler(int sig)
{
	siglongjmp(*spm_sigbus_jmp(), 1);
}

/* Read (write == 0) or write one byte at p: 1 if that raised SIGBUS. */
static inline int spm_sigbus(volatile char *p, int write)
{
	struct sigaction sa = { .sa_handler = spm_sigbus_handler }, old;
	int hit = 0;

	sigaction(SIGBUS, &sa, &old);
	if (sigsetjmp(*spm_sigbus_jmp(), 1))
		hit = 1;
	else if (write)
		*p = 0x5a;
	else
		(void)*p;
	sigaction(SIGBUS, &old, NULL);
	return hit;
}

/* Whether every 64-bit word of [p, p + len) is w. */
static inline int spm_accel_all_words(const void *p, size_t len, uint64_t w)
{
	const uint64_t *q = p;
	size_t i;

	for (i = 0; i < len / 8; i++)
		if (q[i] != w)
			return 0;
	return 1;
}

#endif /* SPM_ACCEL_TEST_H */
