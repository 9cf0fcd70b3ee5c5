// SPDX-License-Identifier: GPL-2.0
/*
 * Private anonymous memory bound to a write-fenced node still works
 * (contract 1c), and every way of writing it goes through the owner.
 *
 * Node 2 owned with user, reclaim, migration and write_fence.
 *
 *   mbind(MPOL_BIND {2}, MPOL_MF_MOVE) of filled memory: every page on
 *   node 2, reads take no write_fault, the first write of each page one
 *   write_fault (promote: the page is then on SysRAM), later writes none
 *   first touch by writing (allow: pages on node 2; promote: on SysRAM),
 *   one write_fault per page
 *   first touch by reading (the zero page), then writing: the copy made
 *   on node 2 is fenced too: one write_fault per page
 *   a copy-on-write copy after fork() that the policy places on node 2 is
 *   fenced too (promote: no page of the writer on node 2 afterwards)
 *   the kernel writing user memory (read(2) into it, a write to
 *   /proc/self/mem) goes through the owner like a CPU store
 *   a forced write (/proc/self/mem, as ptrace does it) into a read-only
 *   mapping of fenced pages: one write_fault per page, and the data lands
 *   on a SysRAM copy whatever the owner answers, allow included (GUP
 *   would otherwise write the fenced page in place, unasked)
 */
#include "kselftest_harness.h"
#include "fence.h"

#define NPAGES	64
#define LEN	(NPAGES * PAGE)
#define SEED	0x30
#define MARK	0x3000000000000000ULL

FIXTURE(priv) {
	char *p;
};

FIXTURE_SETUP(priv)
{
	self->p = NULL;
	owner_unload();
	ASSERT_EQ(0, spm_pin_cpu(0));
}

FIXTURE_TEARDOWN(priv)
{
	if (self->p)
		munmap(self->p, LEN);
	owner_unload();
}

/* An empty private anonymous range (no THP) bound to node 2. */
static char *bound_range(struct __test_metadata *_metadata)
{
	unsigned long mask = 1UL << SPM_NID;
	char *p = mmap(NULL, LEN, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED)
		return NULL;
	madvise(p, LEN, MADV_NOHUGEPAGE);
	EXPECT_EQ(0, spm_mbind(p, LEN, MPOL_BIND, &mask, SPM_MAXN, 0)) {
		TH_LOG("mbind(MPOL_BIND {2}) of private memory: %s",
		       strerror(errno));
	}
	return p;
}

static void log_nodes(const char *what, void *p)
{
	long counts[SPM_MAXN + 1];

	node_counts(p, LEN, counts);
	spm_counts_log(what, counts);
}

TEST_F(priv, mbind_move_reads_free_first_write_once)
{
	unsigned long mask = 1UL << SPM_NID, done;
	long counts[SPM_MAXN + 1];

	ASSERT_EQ(0, owner_load(FENCE_CAPS " fence_action=promote"));
	self->p = mmap(NULL, LEN, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, self->p) {
		self->p = NULL;
	}
	madvise(self->p, LEN, MADV_NOHUGEPAGE);
	spm_fill(self->p, LEN, SEED);
	ASSERT_EQ(0, spm_mbind(self->p, LEN, MPOL_BIND, &mask, SPM_MAXN,
			       MPOL_MF_MOVE)) {
		TH_LOG("mbind(MPOL_BIND {2}, MPOL_MF_MOVE): %s", strerror(errno));
	}
	ASSERT_EQ(NPAGES, spm_pages_on_node(self->p, LEN, SPM_NID));
	drain_lru_batch();
	ASSERT_EQ(0, wf_reset());

	/* Reads: no write fault, nothing moves. */
	EXPECT_EQ(0, spm_verify(self->p, LEN, SEED));
	EXPECT_EQ(0, wf());
	EXPECT_EQ(NPAGES, spm_pages_on_node(self->p, LEN, SPM_NID));

	/* The first write of each page: one call each, promoted. */
	ASSERT_EQ(0, guard_mark_pages(self->p, NPAGES, MARK, &done)) {
		TH_LOG("SIGBUS writing page %lu", done);
	}
	EXPECT_EQ(NPAGES, wf());
	ASSERT_EQ(NPAGES, node_counts(self->p, LEN, counts));
	spm_counts_log("after the first writes", counts);
	EXPECT_EQ(0, counts[SPM_NID]);
	EXPECT_EQ(NPAGES, spm_count_in(counts, spm_sysram_nodes()));
	EXPECT_EQ(0, bad_marks(self->p, NPAGES, MARK));
	EXPECT_EQ(0, spm_verify(self->p, LEN, SEED));

	/* Writable on SysRAM now. */
	ASSERT_EQ(0, guard_mark_pages(self->p, NPAGES, MARK + 7, &done));
	EXPECT_EQ(NPAGES, wf());
	EXPECT_EQ(0, bad_marks(self->p, NPAGES, MARK + 7));
}

TEST_F(priv, first_touch_write_allow)
{
	unsigned long done;

	ASSERT_EQ(0, owner_load(FENCE_CAPS " fence_action=allow"));
	ASSERT_EQ(0, wf_reset());
	self->p = bound_range(_metadata);
	ASSERT_NE(NULL, self->p);
	ASSERT_EQ(0, guard_mark_pages(self->p, NPAGES, MARK, &done)) {
		TH_LOG("SIGBUS writing page %lu", done);
	}
	log_nodes("first touch with allow", self->p);
	EXPECT_EQ(NPAGES, spm_pages_on_node(self->p, LEN, SPM_NID));
	EXPECT_EQ(NPAGES, wf()) {
		TH_LOG("%d first writes onto node 2 called write_fault %lld times",
		       NPAGES, wf());
	}
	ASSERT_EQ(0, guard_mark_pages(self->p, NPAGES, MARK + 1, &done));
	EXPECT_EQ(NPAGES, wf());
	EXPECT_EQ(0, bad_marks(self->p, NPAGES, MARK + 1));
	EXPECT_EQ(NPAGES, spm_pages_on_node(self->p, LEN, SPM_NID));
}

TEST_F(priv, first_touch_write_promote)
{
	unsigned long done;

	ASSERT_EQ(0, owner_load(FENCE_CAPS " fence_action=promote"));
	ASSERT_EQ(0, wf_reset());
	self->p = bound_range(_metadata);
	ASSERT_NE(NULL, self->p);
	ASSERT_EQ(0, guard_mark_pages(self->p, NPAGES, MARK, &done)) {
		TH_LOG("SIGBUS writing page %lu", done);
	}
	log_nodes("first touch with promote", self->p);
	EXPECT_EQ(0, spm_pages_on_node(self->p, LEN, SPM_NID));
	EXPECT_EQ(NPAGES, wf()) {
		TH_LOG("%d first writes onto node 2 called write_fault %lld times",
		       NPAGES, wf());
	}
	EXPECT_EQ(0, bad_marks(self->p, NPAGES, MARK));
	ASSERT_EQ(0, guard_mark_pages(self->p, NPAGES, MARK + 1, &done));
	EXPECT_EQ(NPAGES, wf());
	EXPECT_EQ(0, bad_marks(self->p, NPAGES, MARK + 1));
}

/*
 * Read first (the shared zero page is mapped), then write: the page the
 * write fault allocates on node 2 is fenced like any other.  With allow it
 * stays on node 2 and the owner was asked once per page.
 */
TEST_F(priv, zero_page_then_write)
{
	volatile char sink;
	unsigned long done, i;

	ASSERT_EQ(0, owner_load(FENCE_CAPS " fence_action=allow"));
	self->p = bound_range(_metadata);
	ASSERT_NE(NULL, self->p);
	for (i = 0; i < NPAGES; i++)
		sink = self->p[i * PAGE];
	(void)sink;
	ASSERT_EQ(0, wf_reset());
	ASSERT_EQ(0, guard_mark_pages(self->p, NPAGES, MARK, &done)) {
		TH_LOG("SIGBUS writing page %lu", done);
	}
	log_nodes("zero page, then written with allow", self->p);
	EXPECT_EQ(NPAGES, spm_pages_on_node(self->p, LEN, SPM_NID));
	EXPECT_EQ(NPAGES, wf()) {
		TH_LOG("%ld pages on node 2 written after the zero page, write_fault called %lld times",
		       spm_pages_on_node(self->p, LEN, SPM_NID), wf());
	}
	EXPECT_EQ(0, bad_marks(self->p, NPAGES, MARK));
}

/*
 * Filled on SysRAM, then bound to node 2 (no move), then shared with a
 * child by fork(): the parent's writes copy each page, and the policy puts
 * the copy on node 2.  That copy is fenced: with promote, no page of the
 * parent is on node 2 after the writes, and the owner was asked at most
 * once per page.  The child still reads the old data.
 */
TEST_F(priv, cow_copy_placed_on_node2_is_fenced)
{
	unsigned long mask = 1UL << SPM_NID, done;
	int go[2], status;
	long on2;
	pid_t pid;
	char c;

	ASSERT_EQ(0, owner_load(FENCE_CAPS " fence_action=promote"));
	self->p = mmap(NULL, LEN, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, self->p) {
		self->p = NULL;
	}
	madvise(self->p, LEN, MADV_NOHUGEPAGE);
	spm_fill(self->p, LEN, SEED);
	ASSERT_EQ(0, spm_mbind(self->p, LEN, MPOL_BIND, &mask, SPM_MAXN, 0));
	ASSERT_EQ(0, spm_pages_on_node(self->p, LEN, SPM_NID));
	ASSERT_EQ(0, pipe(go));
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		close(go[1]);
		if (read(go[0], &c, 1) != 1)
			_exit(1);
		_exit(spm_verify(self->p, LEN, SEED) ? 2 : 0);
	}
	close(go[0]);
	ASSERT_EQ(0, wf_reset());
	ASSERT_EQ(0, guard_mark_pages(self->p, NPAGES, MARK, &done)) {
		TH_LOG("SIGBUS writing page %lu", done);
	}
	ASSERT_EQ(1, write(go[1], "g", 1));
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	log_nodes("parent after its copy-on-write writes", self->p);
	on2 = spm_pages_on_node(self->p, LEN, SPM_NID);
	EXPECT_EQ(0, on2) {
		TH_LOG("%ld copy-on-write copies on node 2 after promote writes, write_fault %lld",
		       on2, wf());
	}
	EXPECT_GE(wf(), on2);
	EXPECT_LE(wf(), NPAGES);
	EXPECT_EQ(0, bad_marks(self->p, NPAGES, MARK));
	EXPECT_EQ(0, spm_verify(self->p, LEN, SEED));
	EXPECT_EQ(0, status) {
		TH_LOG("the child did not read its old data (status %#x)", status);
	}
}

/* read(2) into fenced pages: the kernel's stores fault like the CPU's. */
TEST_F(priv, read_syscall_into_fenced_pages)
{
	char *src = malloc(LEN);
	int fd = memfd_create("spm-fence-src", MFD_CLOEXEC);
	long counts[SPM_MAXN + 1];

	ASSERT_NE(NULL, src);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, owner_load(FENCE_CAPS " fence_action=promote"));
	self->p = fenced_private(LEN, SEED);
	ASSERT_NE(NULL, self->p);
	spm_fill(src, LEN, SEED + 9);
	ASSERT_EQ((ssize_t)LEN, pwrite(fd, src, LEN, 0));
	ASSERT_EQ(0, wf_reset());
	EXPECT_EQ((ssize_t)LEN, pread(fd, self->p, LEN, 0)) {
		TH_LOG("pread into fenced pages: %s", strerror(errno));
	}
	EXPECT_EQ(0, spm_verify(self->p, LEN, SEED + 9));
	ASSERT_EQ(NPAGES, node_counts(self->p, LEN, counts));
	spm_counts_log("after pread", counts);
	EXPECT_EQ(0, counts[SPM_NID]);
	EXPECT_EQ(NPAGES, wf());
	close(fd);
	free(src);
}

/*
 * pwrite(2) to /proc/self/mem into fenced pages: the kernel writes through
 * get_user_pages(FOLL_WRITE | FOLL_FORCE), whose write faults call the
 * owner.  (process_vm_writev() is not built into the test kernels.)
 */
TEST_F(priv, proc_mem_write_into_fenced_pages)
{
	char *src = malloc(LEN);
	long counts[SPM_MAXN + 1];
	int fd;

	ASSERT_NE(NULL, src);
	ASSERT_EQ(0, owner_load(FENCE_CAPS " fence_action=promote"));
	self->p = fenced_private(LEN, SEED);
	ASSERT_NE(NULL, self->p);
	spm_fill(src, LEN, SEED + 5);
	fd = open("/proc/self/mem", O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, wf_reset());
	EXPECT_EQ((ssize_t)LEN, pwrite(fd, src, LEN, (off_t)(uintptr_t)self->p)) {
		TH_LOG("pwrite to /proc/self/mem: %s", strerror(errno));
	}
	close(fd);
	EXPECT_EQ(0, spm_verify(self->p, LEN, SEED + 5));
	ASSERT_EQ(NPAGES, node_counts(self->p, LEN, counts));
	spm_counts_log("after the /proc/self/mem write", counts);
	EXPECT_EQ(0, counts[SPM_NID]);
	EXPECT_EQ(NPAGES, wf());
	free(src);
}

/*
 * The same into a mapping made read-only first: GUP's FOLL_FORCE writes
 * through a read-only entry of an exclusive anonymous page without a
 * fault, unless the page is fenced.
 */
static void forced_write_read_only(struct __test_metadata *_metadata,
				   FIXTURE_DATA(priv) *self, const char *action)
{
	char *src = malloc(LEN), args[128];
	long counts[SPM_MAXN + 1];
	ssize_t n;
	int fd;

	ASSERT_NE(NULL, src);
	snprintf(args, sizeof(args), FENCE_CAPS " fence_action=%s", action);
	ASSERT_EQ(0, owner_load(args));
	self->p = fenced_private(LEN, SEED);
	ASSERT_NE(NULL, self->p);
	ASSERT_EQ(0, mprotect(self->p, LEN, PROT_READ));
	ASSERT_EQ(NPAGES, node_counts(self->p, LEN, counts));
	ASSERT_EQ(NPAGES, counts[SPM_NID]);
	spm_fill(src, LEN, SEED + 6);
	fd = open("/proc/self/mem", O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, wf_reset());
	n = pwrite(fd, src, LEN, (off_t)(uintptr_t)self->p);
	EXPECT_EQ((ssize_t)LEN, n) {
		TH_LOG("pwrite to /proc/self/mem: %zd (%s)", n, strerror(errno));
	}
	close(fd);
	EXPECT_EQ(0, spm_verify(self->p, LEN, SEED + 6));
	ASSERT_EQ(NPAGES, node_counts(self->p, LEN, counts));
	spm_counts_log("after the forced write into the read-only range", counts);
	EXPECT_EQ(0, counts[SPM_NID]) {
		TH_LOG("%ld pages written in place on the fenced node", counts[SPM_NID]);
	}
	EXPECT_EQ(NPAGES, wf());
	free(src);
}

TEST_F(priv, forced_write_into_read_only_fenced_pages_promote)
{
	forced_write_read_only(_metadata, self, "promote");
}

TEST_F(priv, forced_write_into_read_only_fenced_pages_allow)
{
	forced_write_read_only(_metadata, self, "allow");
}

TEST_HARNESS_MAIN
