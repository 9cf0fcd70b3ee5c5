/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Helpers of the spm-fence suite (guest side), on top of spm_owner.h
 * (owner_load/unload/get/put/param) and spm_place.h.
 *
 * Node 2 is SPM from boot; each test loads drivers/spm_test_owner with the
 * write_fence capability (and user, migration so that it can place pages
 * there) and unloads it when done.
 *
 *   wf()                     the write_fault counter; wf_reset() zeroes it
 *   fenced_private(len)      private anonymous memory (no THP) filled with
 *                            the pattern on SysRAM and moved to node 2
 *   move_to(p, len, nid)     move_pages() of every page: pages now on nid
 *   node_counts(p, len, c)   pages per node (c[SPM_MAXN]: absent/error)
 *   guard_write64(w, v)      one store that may raise SIGBUS: 0 or SIGBUS
 *   guard_fill(p, len, seed) spm_fill() that may raise SIGBUS: 0 or SIGBUS
 *   guard_read_touch(p, len) read a byte of every page: 0 or SIGBUS
 *   guard_mark_pages(p, n, v, &done)  store v + i into word1 of page i
 *   drain_lru_batch()        fault in 64 scratch pages so that the per-CPU
 *                            LRU add batch of this CPU holds none of ours
 *   minflt()                 this process's minor faults (getrusage)
 *   is_sysram(nid)           nid is node 0 or 1 (has_memory, not SPM)
 *
 * This header is not in tests/lib: make rebuilds the suite's programs when
 * it changes (USER_DEPS has tests/\*\/\*.h).
 */
#ifndef SPM_FENCE_H
#define SPM_FENCE_H

#include <setjmp.h>
#include <signal.h>
#include <sys/resource.h>
#include "spm_owner.h"

#define SPM_NID		2
#define PAGE		4096UL

/* The capabilities every test of the suite starts from. */
#define FENCE_CAPS	"caps=user,reclaim,migration,write_fence"

static inline long long wf(void)
{
	return owner_get("write_fault");
}

static inline int wf_reset(void)
{
	return owner_put("write_fault", "0");
}

static inline int is_sysram(int nid)
{
	long long m = spm_sysram_nodes();

	return nid >= 0 && nid < SPM_MAXN && m > 0 && (m & (1LL << nid));
}

/* Pages per node of a range; counts has SPM_MAXN + 1 slots. */
static inline long node_counts(void *p, size_t len, long *counts)
{
	return spm_count_pages(p, len, counts);
}

/* move_pages() of every page of [p, p + len) to nid; pages now on nid. */
static inline long move_to(void *p, size_t len, int nid)
{
	unsigned long i, n = len / PAGE;
	void **pages = calloc(n, sizeof(*pages));
	int *nodes = calloc(n, sizeof(*nodes));
	int *status = calloc(n, sizeof(*status));
	long ret;

	if (!pages || !nodes || !status) {
		free(pages);
		free(nodes);
		free(status);
		return -ENOMEM;
	}
	for (i = 0; i < n; i++) {
		pages[i] = (char *)p + i * PAGE;
		nodes[i] = nid;
	}
	ret = spm_move_pages(0, n, pages, nodes, status, MPOL_MF_MOVE);
	free(pages);
	free(nodes);
	free(status);
	if (ret < 0)
		return -errno;
	return spm_pages_on_node(p, len, nid);
}

/*
 * Fault in 64 scratch pages: the per-CPU LRU add batch (31 folios) of this
 * CPU then holds none of the folios a migration just added, so a fault
 * that isolates one of them does not have to drain and retry.
 */
static inline void drain_lru_batch(void)
{
	size_t len = 64 * PAGE;
	char *s = mmap(NULL, len, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (s == MAP_FAILED)
		return;
	madvise(s, len, MADV_NOHUGEPAGE);
	spm_touch(s, len);
	munmap(s, len);
}

/*
 * Private anonymous memory (no THP) filled with the pattern of seed on
 * SysRAM, then moved to node 2. NULL (errno set) on failure.
 */
static inline void *fenced_private(size_t len, uint64_t seed)
{
	char *p = mmap(NULL, len, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	long on;

	if (p == MAP_FAILED)
		return NULL;
	madvise(p, len, MADV_NOHUGEPAGE);
	spm_fill(p, len, seed);
	on = move_to(p, len, SPM_NID);
	if (on != (long)(len / PAGE)) {
		printf("# fenced_private: %ld of %lu pages reached node %d\n",
		       on, len / PAGE, SPM_NID);
		munmap(p, len);
		errno = on < 0 ? (int)-on : EAGAIN;
		return NULL;
	}
	drain_lru_batch();
	return p;
}

static inline long minflt(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return ru.ru_minflt;
}

/* --- writes that may raise SIGBUS ------------------------------------- */

static sigjmp_buf fence_bus_jmp;
static volatile sig_atomic_t fence_bus_armed;

static void fence_on_sigbus(int sig)
{
	if (fence_bus_armed) {
		fence_bus_armed = 0;
		siglongjmp(fence_bus_jmp, 1);
	}
	signal(sig, SIG_DFL);
	raise(sig);
}

static void fence_on_alarm(int sig)
{
	static const char msg[] =
		"# a guarded write did not finish in 20 s (fault livelock?)\n";

	if (write(1, msg, sizeof(msg) - 1) < 0)
		_exit(3);
	_exit(2);
}

static inline void fence_guard_install(void)
{
	struct sigaction sa = { .sa_handler = fence_on_sigbus };

	sigemptyset(&sa.sa_mask);
	sigaction(SIGBUS, &sa, NULL);
	signal(SIGALRM, fence_on_alarm);
}

/*
 * The guarded functions below call sigsetjmp(fence_bus_jmp) themselves (it
 * must be in a frame that is still live when the handler jumps), then
 * guard_arm() before the accesses and guard_disarm() on either way out.
 */
static inline void guard_arm(void)
{
	fence_guard_install();
	fence_bus_armed = 1;
	alarm(20);
}

static inline int guard_disarm(int ret)
{
	alarm(0);
	fence_bus_armed = 0;
	return ret;
}

/* One 64-bit store: 0, or SIGBUS if it raised one (the store did not happen). */
static inline int guard_write64(volatile uint64_t *w, uint64_t v)
{
	if (sigsetjmp(fence_bus_jmp, 1))
		return guard_disarm(SIGBUS);
	guard_arm();
	*w = v;
	return guard_disarm(0);
}

/* spm_fill(p, len, seed): 0, or SIGBUS (the fill stopped there). */
static inline int guard_fill(void *p, size_t len, uint64_t seed)
{
	if (sigsetjmp(fence_bus_jmp, 1))
		return guard_disarm(SIGBUS);
	guard_arm();
	spm_fill(p, len, seed);
	return guard_disarm(0);
}

/* Read one byte of every page (maps page cache): 0, or SIGBUS. */
static inline int guard_read_touch(const void *p, size_t len)
{
	static volatile size_t off;
	volatile char sink;

	if (sigsetjmp(fence_bus_jmp, 1))
		return guard_disarm(SIGBUS);
	guard_arm();
	for (off = 0; off < len; off += PAGE)
		sink = ((const volatile char *)p)[off];
	(void)sink;
	return guard_disarm(0);
}

/* The second word of page i of p (the pattern uses words 0 and 256). */
static inline volatile uint64_t *word1(void *p, unsigned long i)
{
	return (volatile uint64_t *)((char *)p + i * PAGE) + 1;
}

/* Store v into word1 of each page: 0, or SIGBUS; *done = pages written. */
static inline int guard_mark_pages(void *p, unsigned long npages, uint64_t v,
				   unsigned long *done)
{
	static volatile unsigned long i;

	i = 0;
	if (sigsetjmp(fence_bus_jmp, 1)) {
		*done = i;
		return guard_disarm(SIGBUS);
	}
	guard_arm();
	for (i = 0; i < npages; i++)
		*word1(p, i) = v + i;
	*done = i;
	return guard_disarm(0);
}

/* Pages whose word1 is not v + i. */
static inline long bad_marks(void *p, unsigned long npages, uint64_t v)
{
	unsigned long i;
	long bad = 0;

	for (i = 0; i < npages; i++)
		bad += *word1(p, i) != v + i;
	return bad;
}

#endif /* SPM_FENCE_H */
