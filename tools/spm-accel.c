// SPDX-License-Identifier: GPL-2.0
/*
 * spm-accel: drive the sample accelerator /dev/spm_accel (drivers/spm_accel)
 * and print what happened.
 *
 *   spm-accel info             device counters
 *   spm-accel owned N          N pages of driver-owned memory: CPU writes,
 *                              hand-over to the device, device checksum and
 *                              xor, hand-back, CPU checks
 *   spm-accel cpuread N        N pages handed to the device with CPU reads
 *                              allowed: CPU reads keep the device's
 *                              ownership and see its writes; a CPU write
 *                              takes one page back
 *   spm-accel managed N        N anonymous pages mbind()ed to the device's
 *                              node and mirrored by the device; then moved
 *                              to node 0 under the mirror
 *   spm-accel faultbench N     ns per first-touch fault: device memory vs
 *                              anonymous SysRAM
 *   spm-accel hold N           map and touch N device pages, then wait for
 *                              a signal (keeps the device busy)
 *
 * Exit status 0 when every check held, 1 otherwise, 2 on usage errors.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/mman.h>

#include "spm.h"
#include "spm_accel.h"

#define MAXNODES 8

static long page_size;
static int failures;

static void check(int ok, const char *what)
{
	printf("  %-52s %s\n", what, ok ? "ok" : "MISMATCH");
	if (!ok)
		failures++;
}

static void die(const char *what, int err)
{
	fprintf(stderr, "spm-accel: %s: %s\n", what, strerror(err));
	exit(1);
}

/* xorshift64: a reproducible pattern that is not all zeroes. */
static void fill_pattern(void *p, size_t len, uint64_t seed)
{
	uint64_t *w = p, x = seed | 1;
	size_t i;

	for (i = 0; i < len / sizeof(*w); i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		w[i] = x;
	}
}

/* Pages of [p, p + len) per node, by move_pages() query, as "n0=.. n2=..". */
static void print_cpu_nodes(const char *who, void *p, size_t len)
{
	long n, nid;

	printf("  %-20s", who);
	for (nid = 0; nid < MAXNODES; nid++) {
		n = spm_pages_on_node(p, len, nid);
		if (n > 0)
			printf(" node%ld=%ld", nid, n);
	}
	printf("\n");
}

static void print_dev_nodes(const char *who, const struct spm_accel_op *op)
{
	int nid;

	printf("  %-20s", who);
	for (nid = 0; nid < SPM_ACCEL_MAX_NODES; nid++)
		if (op->node_pages[nid])
			printf(" node%d=%u", nid, op->node_pages[nid]);
	printf("\n");
}

static void print_info(int fd)
{
	struct spm_accel_limit lim;
	struct spm_accel_info i;
	int err = spm_accel_info(fd, &i);

	if (err)
		die("SPM_ACCEL_IOC_INFO", -err);
	printf("device: node %d, user placement %s\n", i.nid, i.user ? "on" : "off");
	printf("  device: pages %llu faults %llu alloc_failures %llu ops %llu\n",
	       (unsigned long long)i.dev_pages, (unsigned long long)i.dev_faults,
	       (unsigned long long)i.dev_alloc_failures,
	       (unsigned long long)i.dev_ops);
	printf("  device: invalidations %llu mirror_faults %llu\n",
	       (unsigned long long)i.dev_invalidations,
	       (unsigned long long)i.dev_mirror_faults);
	printf("  node:   pages_freed %llu folios_arrived %llu pressure %llu\n",
	       (unsigned long long)i.node_pages_freed,
	       (unsigned long long)i.folios_arrived,
	       (unsigned long long)i.pressure);
	printf("  file:   pages %llu device_pages %llu faults %llu ops %llu mirrors %llu invalidations %llu mirror_faults %llu\n",
	       (unsigned long long)i.pages, (unsigned long long)i.device_pages,
	       (unsigned long long)i.faults, (unsigned long long)i.ops,
	       (unsigned long long)i.mirrors,
	       (unsigned long long)i.invalidations,
	       (unsigned long long)i.mirror_faults);
	err = spm_accel_limit(fd, &lim, 0, 0);
	if (err)
		die("SPM_ACCEL_IOC_LIMIT", -err);
	printf("  limit:  max_pages %llu (0: none) limit_failures %llu; reserve %llu of %llu pages, %llu taken since load\n",
	       (unsigned long long)lim.max_pages,
	       (unsigned long long)lim.limit_failures,
	       (unsigned long long)lim.reserve_pages,
	       (unsigned long long)lim.reserve_size,
	       (unsigned long long)lim.reserve_allocs);
}

static int open_dev(void)
{
	int fd = spm_accel_open();

	if (fd < 0)
		die(SPM_ACCEL_DEVICE, -fd);
	return fd;
}

/* The node the device owns (module parameter nid). */
static int dev_nid(int fd)
{
	struct spm_accel_info i;
	int err = spm_accel_info(fd, &i);

	if (err)
		die("SPM_ACCEL_IOC_INFO", -err);
	if (i.nid < 0 || i.nid >= SPM_ACCEL_MAX_NODES)
		die("SPM_ACCEL_IOC_INFO: node out of range", ERANGE);
	return i.nid;
}

/*
 * Run the device's checksum of len bytes at addr (a file offset, or a user
 * address with SPM_ACCEL_OP_USER) and print it next to the CPU's.
 */
static void dev_checksum(int fd, struct spm_accel_op *op, uint32_t flags,
			 uint64_t addr, size_t len, uint64_t cpu_sum)
{
	int err = spm_accel_exec(fd, op, SPM_ACCEL_CMD_CHECKSUM, flags, addr,
				 len, 0, NULL);

	if (err)
		die("CHECKSUM", -err);
	printf("  CPU fnv64 %016llx device fnv64 %016llx",
	       (unsigned long long)cpu_sum, (unsigned long long)op->result);
	if (flags & SPM_ACCEL_OP_USER)
		printf(" (device faulted %llu pages)",
		       (unsigned long long)op->faulted);
	printf("\n");
	print_dev_nodes("device sees pages on", op);
}

static int cmd_owned(long npages)
{
	size_t len = npages * page_size;
	const uint64_t key = 0x0123456789abcdefULL;
	struct spm_accel_op op;
	uint64_t cpu_sum, *copy;
	int fd = open_dev(), nid = dev_nid(fd), err;
	char what[64];
	size_t i;
	char *p;

	p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	copy = malloc(len);
	if (p == MAP_FAILED || !copy)
		die("mmap", errno);

	printf("owned: %ld pages of driver-owned memory\n", npages);
	fill_pattern(p, len, 42);
	memcpy(copy, p, len);
	cpu_sum = spm_fnv64(SPM_FNV64_OFFSET, p, len);

	err = spm_accel_range(fd, SPM_ACCEL_IOC_TO_DEVICE, 0, len);
	if (err)
		die("SPM_ACCEL_IOC_TO_DEVICE", -err);
	check(spm_sigbus(p, 0) && spm_sigbus(p + len - 1, 1),
	      "CPU access to device-owned memory: SIGBUS");

	dev_checksum(fd, &op, 0, 0, len, cpu_sum);
	check(op.result == cpu_sum, "device checksum = CPU checksum");
	/* move_pages() cannot tell: the mapping is VM_PFNMAP. */
	snprintf(what, sizeof(what), "every page on node %d (as the device sees it)",
		 nid);
	check(op.node_pages[nid] == npages, what);

	err = spm_accel_exec(fd, &op, SPM_ACCEL_CMD_XOR, 0, 0, len, key, NULL);
	if (err)
		die("XOR", -err);
	err = spm_accel_range(fd, SPM_ACCEL_IOC_TO_CPU, 0, len);
	if (err)
		die("SPM_ACCEL_IOC_TO_CPU", -err);
	for (i = 0; i < len / sizeof(*copy); i++)
		copy[i] ^= key;
	check(!memcmp(p, copy, len), "device xor seen by the CPU after hand-back");
	print_info(fd);

	munmap(p, len);
	free(copy);
	close(fd);
	return failures ? 1 : 0;
}

static long file_device_pages(int fd)
{
	struct spm_accel_info i;
	int err = spm_accel_info(fd, &i);

	if (err)
		die("SPM_ACCEL_IOC_INFO", -err);
	return i.device_pages;
}

static int cmd_cpuread(long npages)
{
	size_t len = npages * page_size;
	const uint64_t fill = 0x5a5a5a5a5a5a5a5aULL;
	struct spm_accel_op op;
	uint64_t cpu_sum;
	int fd = open_dev(), err;
	volatile char *v;
	char *p;

	p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (p == MAP_FAILED)
		die("mmap", errno);
	v = p;

	printf("cpuread: %ld pages handed to the device, CPU reads allowed\n",
	       npages);
	fill_pattern(p, len, 43);
	cpu_sum = spm_fnv64(SPM_FNV64_OFFSET, p, len);
	err = spm_accel_handover(fd, 0, len, SPM_ACCEL_CPU_READ);
	if (err)
		die("SPM_ACCEL_IOC_HANDOVER", -err);
	check(!spm_sigbus(p, 0) && !spm_sigbus(p + len - 1, 0),
	      "CPU reads of device-owned memory: no SIGBUS");
	check(spm_fnv64(SPM_FNV64_OFFSET, p, len) == cpu_sum,
	      "CPU reads the data it wrote");
	check(file_device_pages(fd) == npages, "the device still owns every page");
	dev_checksum(fd, &op, 0, 0, len, cpu_sum);
	check(op.result == cpu_sum, "device checksum = CPU checksum");

	err = spm_accel_exec(fd, &op, SPM_ACCEL_CMD_FILL, 0, 0, len, fill, NULL);
	if (err)
		die("FILL", -err);
	check(spm_accel_all_words(p, len, fill),
	      "device fill seen by CPU reads at once (shared pages)");

	v[0] = 1;
	check(file_device_pages(fd) == npages - 1,
	      "a CPU write took that page back, and only it");
	check(spm_accel_exec(fd, &op, SPM_ACCEL_CMD_CHECKSUM, 0, 0, page_size,
			     0, NULL) == -EACCES,
	      "the device is refused the page (EACCES)");
	err = spm_accel_range(fd, SPM_ACCEL_IOC_TO_DEVICE, 0, len);
	if (err)
		die("SPM_ACCEL_IOC_TO_DEVICE", -err);
	check(spm_sigbus(p + page_size, 0),
	      "without CPU_READ: CPU reads get SIGBUS again");
	print_info(fd);

	munmap(p, len);
	close(fd);
	return failures ? 1 : 0;
}

static int cmd_managed(long npages)
{
	size_t len = npages * page_size;
	struct spm_accel_op op;
	struct spm_accel_info before, after;
	uint64_t cpu_sum;
	void **pages;
	int *nodes, *status;
	int fd = open_dev(), nid = dev_nid(fd), err;
	unsigned long mask = 1UL << nid;
	char what[80];
	long i, moved = 0;
	char *p;

	p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
		 -1, 0);
	pages = calloc(npages, sizeof(*pages));
	nodes = calloc(npages, sizeof(*nodes));
	status = calloc(npages, sizeof(*status));
	if (p == MAP_FAILED || !pages || !nodes || !status)
		die("mmap", errno);
	printf("managed: %ld anonymous pages, mbind(MPOL_BIND, node %d)\n",
	       npages, nid);
	if (spm_mbind(p, len, MPOL_BIND, &mask, 64, 0))
		die("mbind to the device's node (is spm_accel loaded with user=1?)",
		    errno);
	fill_pattern(p, len, 7);
	print_cpu_nodes("CPU sees pages on", p, len);
	snprintf(what, sizeof(what), "every page on node %d (move_pages)", nid);
	check(spm_pages_on_node(p, len, nid) == npages, what);
	cpu_sum = spm_fnv64(SPM_FNV64_OFFSET, p, len);

	err = spm_accel_range(fd, SPM_ACCEL_IOC_MIRROR, (uintptr_t)p, len);
	if (err)
		die("SPM_ACCEL_IOC_MIRROR", -err);
	dev_checksum(fd, &op, SPM_ACCEL_OP_USER, (uintptr_t)p, len, cpu_sum);
	snprintf(what, sizeof(what), "device checksum = CPU checksum, pages on node %d",
		 nid);
	check(op.result == cpu_sum && op.node_pages[nid] == npages, what);

	spm_accel_info(fd, &before);
	for (i = 0; i < npages; i++) {
		pages[i] = p + i * page_size;
		nodes[i] = 0;
	}
	if (spm_move_pages(0, npages, pages, nodes, status, MPOL_MF_MOVE))
		die("move_pages to node 0", errno);
	for (i = 0; i < npages; i++)
		moved += status[i] == 0;
	spm_accel_info(fd, &after);
	printf("  move_pages to node 0: %ld of %ld pages moved, invalidations %llu -> %llu\n",
	       moved, npages, (unsigned long long)before.invalidations,
	       (unsigned long long)after.invalidations);
	print_cpu_nodes("CPU sees pages on", p, len);
	check(after.invalidations > before.invalidations, "the move invalidated the device's view");

	dev_checksum(fd, &op, SPM_ACCEL_OP_USER, (uintptr_t)p, len, cpu_sum);
	check(op.result == cpu_sum && op.node_pages[0] == moved,
	      "device checksum still right, device sees node 0");
	print_info(fd);

	munmap(p, len);
	close(fd);
	free(pages);
	free(nodes);
	free(status);
	return failures ? 1 : 0;
}

static double now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e9 + ts.tv_nsec;
}

/*
 * ns per first-touch write fault over npages of a fresh mapping of the
 * device (dev) or of anonymous memory; *on_spm: pages that sat on node nid
 * (the device's node; for device memory as the device sees it).
 */
static double fault_loop(long npages, int dev, int nid, long *on_spm)
{
	size_t len = npages * page_size;
	int fd = -1;
	double t0, t1;
	long i;
	char *p;

	if (dev) {
		fd = open_dev();
		p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	} else {
		p = mmap(NULL, len, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	}
	if (p == MAP_FAILED)
		die("mmap", errno);
	t0 = now_ns();
	for (i = 0; i < npages; i++)
		((volatile char *)p)[i * page_size] = 1;
	t1 = now_ns();
	*on_spm = dev ? spm_accel_pages_on_node(fd, 0, len, nid) :
			spm_pages_on_node(p, len, nid);
	munmap(p, len);
	if (fd >= 0)
		close(fd);
	return (t1 - t0) / npages;
}

static int cmd_faultbench(long npages)
{
	double dev = 0, anon = 0, t;
	long on_dev, on_anon;
	int fd = open_dev(), nid = dev_nid(fd), round;
	char what[64];

	close(fd);
	printf("faultbench: %ld first-touch write faults per round, best of 3\n",
	       npages);
	for (round = 0; round < 3; round++) {
		t = fault_loop(npages, 1, nid, &on_dev);
		if (!round || t < dev)
			dev = t;
		t = fault_loop(npages, 0, nid, &on_anon);
		if (!round || t < anon)
			anon = t;
	}
	printf("  /dev/spm_accel (node %d):  %8.0f ns/fault\n", nid, dev);
	printf("  anonymous (SysRAM):       %8.0f ns/fault\n", anon);
	printf("  ratio device/anonymous:   %8.2f\n", anon > 0 ? dev / anon : 0);
	snprintf(what, sizeof(what), "every device page on node %d", nid);
	check(on_dev == npages, what);
	snprintf(what, sizeof(what), "no anonymous page on node %d", nid);
	check(on_anon == 0, what);
	return failures ? 1 : 0;
}

static int cmd_hold(long npages)
{
	size_t len = npages * page_size;
	int fd = open_dev(), nid = dev_nid(fd);
	struct spm_accel_info i;
	char *p;

	p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (p == MAP_FAILED)
		die("mmap", errno);
	spm_touch(p, len);
	if (spm_accel_info(fd, &i))
		die("SPM_ACCEL_IOC_INFO", errno);
	printf("hold: %ld pages, %llu allocated on node %d; waiting for a signal\n",
	       npages, (unsigned long long)i.pages, nid);
	fflush(stdout);
	for (;;)
		pause();
	return 0;
}

static void usage(void)
{
	fprintf(stderr,
		"usage: spm-accel info | owned N | cpuread N | managed N | faultbench N | hold N\n");
	exit(2);
}

int main(int argc, char **argv)
{
	long n = 0;
	int fd;

	page_size = sysconf(_SC_PAGESIZE);
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc < 2)
		usage();
	if (argc > 2) {
		n = strtol(argv[2], NULL, 0);
		if (n <= 0 || n > (long)(SPM_ACCEL_MAX_BYTES / page_size))
			usage();
	}
	if (!strcmp(argv[1], "info") && argc == 2) {
		fd = open_dev();
		print_info(fd);
		close(fd);
		return 0;
	}
	if (argc != 3)
		usage();
	if (!strcmp(argv[1], "owned"))
		return cmd_owned(n);
	if (!strcmp(argv[1], "cpuread"))
		return cmd_cpuread(n);
	if (!strcmp(argv[1], "managed"))
		return cmd_managed(n);
	if (!strcmp(argv[1], "faultbench"))
		return cmd_faultbench(n);
	if (!strcmp(argv[1], "hold"))
		return cmd_hold(n);
	usage();
	return 2;
}
