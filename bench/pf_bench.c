// SPDX-License-Identifier: GPL-2.0
/*
 * pf_bench: anonymous page-fault cost, a will-it-scale page_fault1-style loop.
 *
 *   pf_bench [-s MIB] [-i ITERS] [-r RUNS] [-w WARMUP] [-n NODE] [-t TAG]
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
 * Run it under numactl for placement and CPU binding. Output lines:
 *   BENCH place tag=TAG sampled=N node<K>=COUNT...
 *   BENCH pf tag=TAG run=R faults=F ns=X
 */
#include <errno.h>
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

static const char *tag = "pf";

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
	char *buf;

	buf = mmap(NULL, size, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (buf == MAP_FAILED)
		die("mmap");
	madvise(buf, size, MADV_NOHUGEPAGE);
	for (i = 0; i < pages; i++)
		buf[i * PAGE] = 1;
	if (check && placement(buf, pages, want)) {
		fprintf(stderr, "pf_bench: pages are not all on node %d\n", want);
		exit(1);
	}
	if (munmap(buf, size))
		die("munmap");
}

int main(int argc, char **argv)
{
	unsigned long mib = 128, size;
	int iters = 4, runs = 3, warmup = 1, node = -1;
	int opt, r, i;

	while ((opt = getopt(argc, argv, "s:i:r:w:n:t:")) != -1) {
		switch (opt) {
		case 's': mib = strtoul(optarg, NULL, 0); break;
		case 'i': iters = atoi(optarg); break;
		case 'r': runs = atoi(optarg); break;
		case 'w': warmup = atoi(optarg); break;
		case 'n': node = atoi(optarg); break;
		case 't': tag = optarg; break;
		default:
			fprintf(stderr, "usage: pf_bench [-s MIB] [-i ITERS] [-r RUNS] [-w WARMUP] [-n NODE] [-t TAG]\n");
			return 2;
		}
	}
	if (!mib || iters < 1 || runs < 1 || warmup < 0) {
		fprintf(stderr, "pf_bench: bad arguments\n");
		return 2;
	}
	size = mib << 20;

	for (i = 0; i < warmup; i++)
		iteration(size, i == 0, node);
	if (!warmup)
		iteration(size, 1, node);

	for (r = 1; r <= runs; r++) {
		double t0 = now_ns(), t;

		for (i = 0; i < iters; i++)
			iteration(size, 0, node);
		t = now_ns() - t0;
		printf("BENCH pf tag=%s run=%d faults=%lu ns=%.2f\n", tag, r,
		       (size / PAGE) * iters, t / ((size / PAGE) * iters));
		fflush(stdout);
	}
	return 0;
}
