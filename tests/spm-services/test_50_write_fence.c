// SPDX-License-Identifier: GPL-2.0
/*
 * Write fence of an SPM node (node 2, owned by spm_test_owner with user,
 * migration and write_fence): pages moved onto node 2 are mapped read-only
 * and a write calls the owner's write_fault callback, whose answer
 * (fence_action) decides:
 *
 *   promote  the page moves to SysRAM (the faulting CPU's node, or the
 *            owner's choice: promote_nid) and the write lands there
 *   allow    the page is mapped writable where it is
 *   fail     SIGBUS, the page is unchanged
 *
 * Reads never fault; mprotect(PROT_READ) then PROT_READ|PROT_WRITE does
 * not open the fence; without the capability writes do not fault.
 */
#include <setjmp.h>
#include <signal.h>
#include <sys/mman.h>
#include "kselftest_harness.h"
#include "services.h"

#define NPAGES	64
#define LEN	(NPAGES * PAGE)
#define SEED	77
#define MARK	0x5eedf00dcafe0001ULL

FIXTURE(fence) {
	char *p;
};

FIXTURE_SETUP(fence)
{
	self->p = NULL;
	owner_unload();
	/* CPU 0: node 0 is "the faulting CPU's node". */
	ASSERT_EQ(0, spm_pin_cpu(0));
}

FIXTURE_TEARDOWN(fence)
{
	if (self->p)
		munmap(self->p, LEN);
	owner_unload();
}

/* Load the owner, fill a region on SysRAM and move it onto node 2. */
static void setup_fenced(struct __test_metadata *_metadata,
			 FIXTURE_DATA(fence) *self, const char *params)
{
	void *pages[NPAGES];
	int nodes[NPAGES], status[NPAGES], i;

	ASSERT_EQ(0, owner_load(params));
	self->p = mmap(NULL, LEN, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, self->p) {
		self->p = NULL;
	}
	madvise(self->p, LEN, MADV_NOHUGEPAGE);
	spm_fill(self->p, LEN, SEED);
	for (i = 0; i < NPAGES; i++) {
		pages[i] = self->p + i * PAGE;
		nodes[i] = SPM_NID;
	}
	ASSERT_EQ(0, spm_move_pages(0, NPAGES, pages, nodes, status, MPOL_MF_MOVE));
	ASSERT_EQ(NPAGES, spm_pages_on_node(self->p, LEN, SPM_NID));
	ASSERT_EQ(0, owner_put("write_fault", "0"));
}

static volatile uint64_t *word1(FIXTURE_DATA(fence) *self, int page)
{
	return (volatile uint64_t *)(self->p + page * PAGE) + 1;
}

static void on_alarm(int sig)
{
	char buf[160];
	int n;

	n = snprintf(buf, sizeof(buf),
		     "# the write did not finish in 10 s (fault livelock?): write_fault called %lld times\n",
		     owner_get("write_fault"));
	if (write(1, buf, n) < 0)
		_exit(2);
	_exit(1);
}

/* A write that must not take longer than 10 s. */
static void guarded_write(volatile uint64_t *w, uint64_t v)
{
	signal(SIGALRM, on_alarm);
	alarm(10);
	*w = v;
	alarm(0);
}

/* The pattern words of every page are intact. */
static long bad_pages(FIXTURE_DATA(fence) *self)
{
	return spm_verify(self->p, LEN, SEED);
}

TEST_F(fence, reads_do_not_fault)
{
	setup_fenced(_metadata, self, "caps=user,migration,write_fence");
	EXPECT_EQ(0, bad_pages(self));
	EXPECT_EQ(0, owner_get("write_fault"));
	EXPECT_EQ(NPAGES, spm_pages_on_node(self->p, LEN, SPM_NID));
}

TEST_F(fence, promote_moves_the_page_to_the_faulting_cpus_node)
{
	setup_fenced(_metadata, self,
		     "caps=user,migration,write_fence fence_action=promote");
	guarded_write(word1(self, 3), MARK);
	EXPECT_EQ(1, owner_get("write_fault"));
	EXPECT_EQ(0, spm_node_of(self->p + 3 * PAGE));
	EXPECT_EQ(MARK, *word1(self, 3));
	EXPECT_EQ(0, bad_pages(self));
	EXPECT_EQ(NPAGES - 1, spm_pages_on_node(self->p, LEN, SPM_NID));
	/* Writable on SysRAM now: no second fault. */
	guarded_write(word1(self, 3), MARK + 1);
	EXPECT_EQ(1, owner_get("write_fault"));
	EXPECT_EQ(MARK + 1, *word1(self, 3));
}

TEST_F(fence, promote_goes_where_the_owner_says)
{
	setup_fenced(_metadata, self,
		     "caps=user,migration,write_fence fence_action=promote promote_nid=1");
	guarded_write(word1(self, 5), MARK);
	EXPECT_EQ(1, owner_get("write_fault"));
	EXPECT_EQ(1, spm_node_of(self->p + 5 * PAGE));
	EXPECT_EQ(MARK, *word1(self, 5));
	EXPECT_EQ(0, bad_pages(self));
}

TEST_F(fence, allow_keeps_the_page_on_node2)
{
	setup_fenced(_metadata, self,
		     "caps=user,migration,write_fence fence_action=allow");
	guarded_write(word1(self, 7), MARK);
	EXPECT_EQ(1, owner_get("write_fault"));
	EXPECT_EQ(SPM_NID, spm_node_of(self->p + 7 * PAGE));
	EXPECT_EQ(MARK, *word1(self, 7));
	/* Mapped writable by the first fault. */
	guarded_write(word1(self, 7), MARK + 1);
	EXPECT_EQ(1, owner_get("write_fault"));
	EXPECT_EQ(MARK + 1, *word1(self, 7));
	/* Another page faults on its own. */
	guarded_write(word1(self, 8), MARK);
	EXPECT_EQ(2, owner_get("write_fault"));
	EXPECT_EQ(NPAGES, spm_pages_on_node(self->p, LEN, SPM_NID));
	EXPECT_EQ(0, bad_pages(self));
}

static sigjmp_buf bus_jmp;
static volatile sig_atomic_t bus_seen;

static void on_sigbus(int sig)
{
	bus_seen = sig;
	siglongjmp(bus_jmp, 1);
}

/* The write happens in this process: a child would write through COW. */
TEST_F(fence, fail_is_sigbus_and_the_page_is_unchanged)
{
	struct sigaction sa = { .sa_handler = on_sigbus };

	setup_fenced(_metadata, self,
		     "caps=user,migration,write_fence fence_action=fail");
	ASSERT_EQ(0, sigaction(SIGBUS, &sa, NULL));
	bus_seen = 0;
	if (!sigsetjmp(bus_jmp, 1))
		guarded_write(word1(self, 9), MARK);
	alarm(0);
	signal(SIGBUS, SIG_DFL);
	EXPECT_EQ(SIGBUS, bus_seen);
	EXPECT_EQ(1, owner_get("write_fault"));
	EXPECT_EQ(0, *word1(self, 9));
	EXPECT_EQ(SPM_NID, spm_node_of(self->p + 9 * PAGE));
	EXPECT_EQ(0, bad_pages(self));
}

TEST_F(fence, mprotect_does_not_open_the_fence)
{
	setup_fenced(_metadata, self,
		     "caps=user,migration,write_fence fence_action=promote");
	ASSERT_EQ(0, mprotect(self->p, LEN, PROT_READ));
	ASSERT_EQ(0, mprotect(self->p, LEN, PROT_READ | PROT_WRITE));
	guarded_write(word1(self, 11), MARK);
	EXPECT_EQ(1, owner_get("write_fault"));
	EXPECT_EQ(0, spm_node_of(self->p + 11 * PAGE));
	EXPECT_EQ(MARK, *word1(self, 11));
	EXPECT_EQ(0, bad_pages(self));
}

TEST_F(fence, the_answer_can_change_at_run_time)
{
	setup_fenced(_metadata, self,
		     "caps=user,migration,write_fence fence_action=allow");
	guarded_write(word1(self, 12), MARK);
	EXPECT_EQ(SPM_NID, spm_node_of(self->p + 12 * PAGE));
	ASSERT_EQ(0, owner_fence_action("promote"));
	guarded_write(word1(self, 13), MARK);
	EXPECT_EQ(0, spm_node_of(self->p + 13 * PAGE));
	EXPECT_EQ(2, owner_get("write_fault"));
	EXPECT_EQ(0, bad_pages(self));
}

TEST_F(fence, no_fault_without_the_cap)
{
	setup_fenced(_metadata, self, "caps=user,migration");
	guarded_write(word1(self, 14), MARK);
	EXPECT_EQ(0, owner_get("write_fault"));
	EXPECT_EQ(SPM_NID, spm_node_of(self->p + 14 * PAGE));
	EXPECT_EQ(MARK, *word1(self, 14));
	EXPECT_EQ(0, bad_pages(self));
}

TEST_HARNESS_MAIN
