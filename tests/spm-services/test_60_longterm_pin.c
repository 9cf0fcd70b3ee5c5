// SPDX-License-Identifier: GPL-2.0
/*
 * Long-term pins of SPM node pages.  The kernel has no io_uring, RDMA or
 * VFIO, so spm_test_owner's debugfs "pin" file does what such a driver
 * does: pin_user_pages_fast(FOLL_WRITE | FOLL_LONGTERM) on the writer's
 * pages.
 *
 *   without longterm_pin the pin migrates the pages to SysRAM first
 *   with it (and on an unowned node, where it is on by default) they stay
 *   on node 2
 *   either way the data is intact and writes after the pin still land in
 *   the pinned pages
 */
#include <sys/mman.h>
#include "kselftest_harness.h"
#include "services.h"

#define NPAGES	64
#define LEN	(NPAGES * PAGE)

FIXTURE(pin) {
	char *p;
	int unowned;
};

FIXTURE_SETUP(pin)
{
	self->p = NULL;
	self->unowned = 0;
	owner_unload();
}

FIXTURE_TEARDOWN(pin)
{
	owner_put("unpin", "1");
	if (self->p)
		munmap(self->p, LEN);
	owner_unload();
	if (self->unowned)
		spm_allow_user_set(SPM_NID, 0);
}

static void map_node2(struct __test_metadata *_metadata, FIXTURE_DATA(pin) *self)
{
	self->p = map_bound(LEN, SPM_NID);
	ASSERT_NE(MAP_FAILED, self->p) {
		self->p = NULL;
	}
	spm_fill(self->p, LEN, 99);
	ASSERT_EQ(NPAGES, spm_pages_on_node(self->p, LEN, SPM_NID));
}

static int pin(FIXTURE_DATA(pin) *self)
{
	char cmd[64];

	snprintf(cmd, sizeof(cmd), "%lx %d", (unsigned long)self->p, NPAGES);
	return owner_put("pin", cmd);
}

TEST_F(pin, without_cap_pin_moves_pages_to_sysram)
{
	long counts[SPM_MAXN + 1];

	ASSERT_EQ(0, owner_load("caps=user,migration"));
	map_node2(_metadata, self);
	ASSERT_EQ(0, pin(self));
	EXPECT_EQ(NPAGES, owner_get("pin"));
	ASSERT_EQ(NPAGES, spm_count_pages(self->p, LEN, counts));
	spm_counts_log("pinned without longterm_pin", counts);
	EXPECT_EQ(NPAGES, counts[0] + counts[1]);
	EXPECT_EQ(0, spm_verify(self->p, LEN, 99));
}

TEST_F(pin, without_cap_or_migration_pin_still_leaves_node2)
{
	long counts[SPM_MAXN + 1];
	int ret;

	ASSERT_EQ(0, owner_load("caps=user"));
	map_node2(_metadata, self);
	ret = pin(self);
	ASSERT_EQ(NPAGES, spm_count_pages(self->p, LEN, counts));
	spm_counts_log("pin without longterm_pin and migration", counts);
	printf("# pin: %s\n", ret ? strerror(-ret) : "ok");
	/* Either the pin moves them or it is refused: never pinned on node 2. */
	if (ret) {
		EXPECT_EQ(NPAGES, counts[SPM_NID]);
	} else {
		EXPECT_EQ(NPAGES, counts[0] + counts[1]);
	}
	EXPECT_EQ(0, spm_verify(self->p, LEN, 99));
}

TEST_F(pin, with_cap_pages_stay_on_node2)
{
	ASSERT_EQ(0, owner_load("caps=user,migration,longterm_pin"));
	map_node2(_metadata, self);
	ASSERT_EQ(0, pin(self));
	EXPECT_EQ(NPAGES, owner_get("pin"));
	EXPECT_EQ(NPAGES, spm_pages_on_node(self->p, LEN, SPM_NID));
	spm_fill(self->p, LEN, 100);
	EXPECT_EQ(0, spm_verify(self->p, LEN, 100));
	EXPECT_EQ(NPAGES, spm_pages_on_node(self->p, LEN, SPM_NID));
}

TEST_F(pin, unowned_node_allows_pins)
{
	/* No owner: longterm_pin is on by default; the module only pins. */
	ASSERT_EQ(0, spm_allow_user_set(SPM_NID, 1));
	self->unowned = 1;
	ASSERT_EQ(0, owner_load("own=0"));
	map_node2(_metadata, self);
	ASSERT_EQ(0, pin(self));
	EXPECT_EQ(NPAGES, spm_pages_on_node(self->p, LEN, SPM_NID));
	EXPECT_EQ(0, spm_verify(self->p, LEN, 99));
}

TEST_HARNESS_MAIN
