// SPDX-License-Identifier: GPL-2.0
/*
 * pf_bench: anonymous page-fault cost, a will-it-scale page_fault1-style loop.
 *
 *   pf_bench [-s MIB] [-i ITERS] [-r RUNS] [-w WARMUP] [-n NODE] [-t TAG]
 *            [-b NODE | -d DEVICE]
 *
 * One iteration maps MIB MiB of private anonymous memory, writes one byte
 * to each 4 KiB page (one fault per page: THP is kept off the mapping with
 * MADV_NOHUGEPAGE) and unmaps it. A run is ITERS iterations timed with
 * clock_gettime(CLOCK_MONOTONIC); its cost is the run's time divided by the
 * pages touched, so it includes the mmap/munmap share (as page_fault1's
 * throughput does). WARMUP (at least one) untimed iterations come first;
 * the first one also asks move_pages() where a sample of the pages landed
 * and prints it (with -n NODE, any page elsewhere is an error: exit 1).
 * Defaults: -s 128 -i 4 -r 3 -w 1.
 *
 * -b NODE binds each mapping to NODE with mbind(MPOL_BIND) before the
 * writes. -d DEVICE maps a device instead (/dev/spm_accel): an iteration
 * opens it, maps it MAP_SHARED, writes, unmaps and closes it, so the cost
 * includes the device's release of the pages as munmap's does for
 * anonymous memory.  move_pages() sees no page in a device mapping
 * (VM_PFNMAP), so there is no placement sample then: the driver checks
 * the node of every page it allocates (its misplaced counter).
 *
 * Run it under numactl for placement and CPU binding. Output lines:
 *   BENCH place tag=TAG sampled=N node<K>=COUNT...
 *   BENCH pf tag=TAG run=R faults=F ns=X touch=Y
 * ns: per fault, the whole iteration; touch: per fault, the writes alone
 * (the faults themselves, without map, unmap and release).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#define PAGE 4096UL
#define MAX_NODES 64
#define SAMPLES 256
#define MPOL_BIND_MODE 2	/* MPOL_BIND, without needing numaif.h */

static const char *tag = "pf";
static const char *device;	/* -d: map this device instead of anonymous memory */
static int bind_node = -1;	/* -b: mbind(MPOL_BIND) each mapping to this node */
static double touch_ns;		/* time spent in the writes alone */

static void die(const char *what)
{
	fprintf(stderr, "pf_bench: %s: %s\n", what, strerror(errno));
	exit(1);
}

static double now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e9 + ts.tv_nsec;
}

/* Print where SAMPLES evenly spread pages of buf are; -1 if any is off @want. */
static int placement(char *buf, unsigned long pages, int want)
{
	void *addr[SAMPLES];
	int status[SAMPLES], count[MAX_NODES] = { 0 };
	int i, n = pages < SAMPLES ? pages : SAMPLES, bad = 0;

	for (i = 0; i < n; i++)
		addr[i] = buf + (pages / n) * i * PAGE;
	if (syscall(SYS_move_pages, 0, n, addr, NULL, status, 0))
		die("move_pages");
	printf("BENCH place tag=%s sampled=%d", tag, n);
	for (i = 0; i < n; i++) {
		if (status[i] < 0 || status[i] >= MAX_NODES) {
			bad = 1;
			continue;
		}
		count[status[i]]++;
		if (want >= 0 && status[i] != want)
			bad = 1;
	}
	for (i = 0; i < MAX_NODES; i++)
		if (count[i])
			printf(" node%d=%d", i, count[i]);
	printf("\n");
	fflush(stdout);
	return bad ? -1 : 0;
}

static void iteration(unsigned long size, int check, int want)
{
	unsigned long i, pages = size / PAGE;
	int fd = -1;
	double t0;
	char *buf;

	if (device) {
		fd = open(device, O_RDWR);
		if (fd < 0)
			die(device);
		buf = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED,
			   fd, 0);
	} else {
		buf = mmap(NULL, size, PROT_READ | PROT_WRITE,
			   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	}
	if (buf == MAP_FAILED)
		die("mmap");
	if (!device)
		madvise(buf, size, MADV_NOHUGEPAGE);
	if (bind_node >= 0) {
		unsigned long mask[MAX_NODES / 64] = { 0 };

		mask[bind_node / 64] = 1UL << (bind_node % 64);
		if (syscall(SYS_mbind, buf, size, MPOL_BIND_MODE, mask,
			    MAX_NODES + 1, 0))
			die("mbind");
	}
	t0 = now_ns();
	for (i = 0; i < pages; i++)
		buf[i * PAGE] = 1;
	touch_ns += now_ns() - t0;
	if (check && !device && placement(buf, pages, want)) {
		fprintf(stderr, "pf_bench: pages are not all on node %d\n", want);
		exit(1);
	}
	if (munmap(buf, size))
		die("munmap");
	if (fd >= 0 && close(fd))
		die("close");
}

int main(int argc, char **argv)
{
	unsigned long mib = 128, size;
	int iters = 4, runs = 3, warmup = 1, node = -1;
	int opt, r, i;

	while ((opt = getopt(argc, argv, "s:i:r:w:n:t:b:d:")) != -1) {
		switch (opt) {
		case 's': mib = strtoul(optarg, NULL, 0); break;
		case 'i': iters = atoi(optarg); break;
		case 'r': runs = atoi(optarg); break;
		case 'w': warmup = atoi(optarg); break;
		case 'n': node = atoi(optarg); break;
		case 't': tag = optarg; break;
		case 'b': bind_node = atoi(optarg); break;
		case 'd': device = optarg; break;
		default:
			fprintf(stderr, "usage: pf_bench [-s MIB] [-i ITERS] [-r RUNS] [-w WARMUP] [-n NODE] [-t TAG] [-b NODE | -d DEVICE]\n");
			return 2;
		}
	}
	if (!mib || iters < 1 || runs < 1 || warmup < 0 ||
	    bind_node >= MAX_NODES || (device && bind_node >= 0)) {
		fprintf(stderr, "pf_bench: bad arguments\n");
		return 2;
	}
	size = mib << 20;

	for (i = 0; i < warmup; i++)
		iteration(size, i == 0, node);
	if (!warmup)
		iteration(size, 1, node);

	for (r = 1; r <= runs; r++) {
		unsigned long faults = (size / PAGE) * iters;
		double t0 = now_ns(), t;

		touch_ns = 0;
		for (i = 0; i < iters; i++)
			iteration(size, 0, node);
		t = now_ns() - t0;
		printf("BENCH pf tag=%s run=%d faults=%lu ns=%.2f touch=%.2f\n",
		       tag, r, faults, t / faults, touch_ns / faults);
		fflush(stdout);
	}
	return 0;
}
