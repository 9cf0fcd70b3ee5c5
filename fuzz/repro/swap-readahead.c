// SPDX-License-Identifier: GPL-2.0
/*
 * What make fuzz found (spm-fuzz-data keep: pages bound to node 3 or 4
 * found on node 2), reduced: swap cluster readahead places other tasks'
 * pages on an SPM node.
 *
 * A shmem fault of a task whose policy binds to a permitted SPM node reads
 * its swap entry with swap_cluster_readahead() (shmem_swapin_cluster(),
 * __GFP_SPM_NODE added by mpol_shared_spm_gfp()), which allocates every
 * entry of the aligned cluster of 1 << page-cluster swap slots under that
 * policy: the neighbouring entries of any other task land in the swap
 * cache on the SPM node, and their owners map them there at their next
 * fault.  Here the parent (default policy, never asked for SPM memory)
 * pages out its anonymous pages interleaved with the child's memfd pages
 * bound to node 2, so that their swap slots alternate (both on CPU 0, one
 * per-cpu swap slot cache); the child faults one memfd page, the parent
 * reads its pages back and finds some of them on node 2.
 *
 * Not built by make.  Build and run (node 2 must permit user placement):
 *
 *   gcc -static -O2 -D_GNU_SOURCE -Itests/lib -o build/fuzz/swap-readahead \
 *	fuzz/repro/swap-readahead.c
 *   tools/spm-vm --add build/fuzz/swap-readahead --exec 'spm-setup-swap &&
 *	echo 1 > /sys/devices/system/node/node2/spm/allow_user &&
 *	/add/swap-readahead'
 *
 * Exit status 1 (and the count) when a page of the parent is on node 2.
 * On the 28-patch series: 4 of 64 pages, those whose slots share the
 * child's 8-slot cluster (vm.page-cluster 3).
 */
#include <sched.h>
#include <sys/mman.h>
#include <sys/wait.h>

#include "spm.h"

#define NPAGES	64
#define SPM_NID	2

static void pin_cpu0(void)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(0, &set);
	sched_setaffinity(0, sizeof(set), &set);
}

static void step(int fd)
{
	char c = 0;

	if (write(fd, &c, 1) != 1)
		exit(2);
}

static void wait_step(int fd)
{
	char c;

	if (read(fd, &c, 1) != 1)
		exit(2);
}

static int child(int in, int out, long ps)
{
	unsigned long mask = 1UL << SPM_NID;
	int fd = memfd_create("spm-repro", 0), i;
	char *b;

	if (fd < 0 || ftruncate(fd, NPAGES * ps))
		return 2;
	b = mmap(NULL, NPAGES * ps, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (b == MAP_FAILED ||
	    spm_mbind(b, NPAGES * ps, MPOL_BIND, &mask, 64, 0)) {
		perror("child: memfd bound to node 2");
		return 2;
	}
	memset(b, 'b', NPAGES * ps);
	printf("child: memfd bound to node %d: %ld of %d pages there\n",
	       SPM_NID, spm_pages_on_node(b, NPAGES * ps, SPM_NID), NPAGES);
	for (i = 0; i < NPAGES; i++) {
		wait_step(in);
		madvise(b + i * ps, ps, MADV_PAGEOUT);
		step(out);
	}
	wait_step(in);
	(void)*(volatile char *)(b + 9 * ps);	/* shmem swap-in, readahead */
	step(out);
	wait_step(in);
	return 0;
}

int main(void)
{
	long ps = sysconf(_SC_PAGESIZE);
	int to_child[2], to_parent[2], status[NPAGES], i, n;
	void *pages[NPAGES];
	pid_t pid;
	char *a;

	pin_cpu0();
	if (pipe(to_child) || pipe(to_parent))
		return 2;
	pid = fork();
	if (pid == 0)
		_exit(child(to_child[0], to_parent[1], ps));

	a = mmap(NULL, NPAGES * ps, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (a == MAP_FAILED)
		return 2;
	madvise(a, NPAGES * ps, MADV_NOHUGEPAGE);
	for (i = 0; i < NPAGES; i++) {
		pages[i] = a + i * ps;
		memset(a + i * ps, 'A' + i % 26, ps);
	}
	for (i = 0; i < NPAGES; i++) {	/* slots: parent, child, parent ... */
		madvise(a + i * ps, ps, MADV_PAGEOUT);
		step(to_child[1]);
		wait_step(to_parent[0]);
	}
	spm_move_pages(0, NPAGES, pages, NULL, status, 0);
	for (i = 0, n = 0; i < NPAGES; i++)
		n += status[i] < 0;
	printf("parent: %d of %d anonymous pages swapped out\n", n, NPAGES);

	step(to_child[1]);		/* the child faults one memfd page */
	wait_step(to_parent[0]);
	for (i = 0; i < NPAGES; i++)	/* the parent faults its pages back */
		if (a[i * ps] != 'A' + i % 26)
			printf("parent: page %d corrupt\n", i);
	spm_move_pages(0, NPAGES, pages, NULL, status, 0);
	for (i = 0, n = 0; i < NPAGES; i++)
		n += status[i] == SPM_NID;
	printf("parent (default policy): %d of %d anonymous pages on SPM node %d:",
	       n, NPAGES, SPM_NID);
	for (i = 0; i < NPAGES; i++)
		if (status[i] == SPM_NID)
			printf(" %d", i);
	printf("\n");
	step(to_child[1]);
	waitpid(pid, NULL, 0);
	return n ? 1 : 0;
}
