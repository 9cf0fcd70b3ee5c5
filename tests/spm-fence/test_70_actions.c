// SPDX-License-Identifier: GPL-2.0
/*
 * The owner's answers that already worked keep working (contract 7).
 *
 *   fail: the write raises SIGBUS, the page is unchanged and stays on
 *   node 2 (one write_fault)
 *   allow: the write lands in place, the page stays on node 2 and is
 *   writable from then on (one write_fault)
 *   mprotect(PROT_READ) then PROT_READ|PROT_WRITE does not open the fence:
 *   the next write still asks the owner (promote: it moves to SysRAM), also
 *   after allow had made a page writable
 */
#include "kselftest_harness.h"
#include "fence.h"

#define NPAGES	16
#define LEN	(NPAGES * PAGE)
#define SEED	0x70
#define MARK	0x7000000000000000ULL

FIXTURE(act) {
	char *p;
};

FIXTURE_SETUP(act)
{
	self->p = NULL;
	owner_unload();
	ASSERT_EQ(0, spm_pin_cpu(0));
}

FIXTURE_TEARDOWN(act)
{
	if (self->p)
		munmap(self->p, LEN);
	owner_unload();
}

static void setup(struct __test_metadata *_metadata, FIXTURE_DATA(act) *self,
		  const char *action)
{
	char params[128];

	snprintf(params, sizeof(params), FENCE_CAPS " fence_action=%s", action);
	ASSERT_EQ(0, owner_load(params));
	self->p = fenced_private(LEN, SEED);
	ASSERT_NE(NULL, self->p);
	ASSERT_EQ(0, wf_reset());
}

TEST_F(act, fail_is_sigbus_page_unchanged)
{
	setup(_metadata, self, "fail");
	EXPECT_EQ(SIGBUS, guard_write64(word1(self->p, 3), MARK));
	EXPECT_EQ(1, wf());
	EXPECT_EQ(0, *word1(self->p, 3));
	EXPECT_EQ(SPM_NID, spm_node_of(self->p + 3 * PAGE));
	EXPECT_EQ(NPAGES, spm_pages_on_node(self->p, LEN, SPM_NID));
	EXPECT_EQ(0, spm_verify(self->p, LEN, SEED));
	/* Again: SIGBUS again, asked again. */
	EXPECT_EQ(SIGBUS, guard_write64(word1(self->p, 3), MARK));
	EXPECT_EQ(2, wf());
	EXPECT_EQ(0, *word1(self->p, 3));
}

TEST_F(act, allow_writes_in_place)
{
	setup(_metadata, self, "allow");
	EXPECT_EQ(0, guard_write64(word1(self->p, 5), MARK));
	EXPECT_EQ(1, wf());
	EXPECT_EQ(SPM_NID, spm_node_of(self->p + 5 * PAGE));
	EXPECT_EQ(MARK, *word1(self->p, 5));
	EXPECT_EQ(0, guard_write64(word1(self->p, 5), MARK + 1));
	EXPECT_EQ(1, wf());
	EXPECT_EQ(MARK + 1, *word1(self->p, 5));
	EXPECT_EQ(NPAGES, spm_pages_on_node(self->p, LEN, SPM_NID));
	EXPECT_EQ(0, spm_verify(self->p, LEN, SEED));
}

TEST_F(act, mprotect_does_not_open_the_fence)
{
	setup(_metadata, self, "promote");
	ASSERT_EQ(0, mprotect(self->p, LEN, PROT_READ));
	ASSERT_EQ(0, mprotect(self->p, LEN, PROT_READ | PROT_WRITE));
	EXPECT_EQ(NPAGES, spm_pages_on_node(self->p, LEN, SPM_NID));
	EXPECT_EQ(0, wf());
	EXPECT_EQ(0, guard_write64(word1(self->p, 7), MARK));
	EXPECT_EQ(1, wf());
	EXPECT_TRUE(is_sysram(spm_node_of(self->p + 7 * PAGE)));
	EXPECT_EQ(MARK, *word1(self->p, 7));
	EXPECT_EQ(NPAGES - 1, spm_pages_on_node(self->p, LEN, SPM_NID));
	EXPECT_EQ(0, spm_verify(self->p, LEN, SEED));
}

/* allow made page 9 writable; RO then RW again must fence it again. */
TEST_F(act, mprotect_refences_an_allowed_page)
{
	setup(_metadata, self, "allow");
	EXPECT_EQ(0, guard_write64(word1(self->p, 9), MARK));
	EXPECT_EQ(1, wf());
	ASSERT_EQ(0, mprotect(self->p, LEN, PROT_READ));
	ASSERT_EQ(0, mprotect(self->p, LEN, PROT_READ | PROT_WRITE));
	ASSERT_EQ(0, owner_param("fence_action", "promote"));
	EXPECT_EQ(0, guard_write64(word1(self->p, 9), MARK + 1));
	EXPECT_EQ(2, wf()) {
		TH_LOG("after mprotect RO->RW the allowed page was written without asking the owner");
	}
	EXPECT_TRUE(is_sysram(spm_node_of(self->p + 9 * PAGE)));
	EXPECT_EQ(MARK + 1, *word1(self->p, 9));
	EXPECT_EQ(0, spm_verify(self->p, LEN, SEED));
}

TEST_HARNESS_MAIN
