// SPDX-License-Identifier: GPL-2.0
/*
 * One fault per fenced write (contract 3).
 *
 * NPAGES private pages sit on write-fenced node 2; writing each once with
 * fence_action=promote must cost NPAGES minor faults (getrusage
 * ru_minflt), not 2 * NPAGES (a fault that promotes and returns, then a
 * second one that finds the promoted copy read-only).  A small constant
 * slack is allowed.  allow is the control: it maps the page writable in
 * the fault that asked, one fault per page.  Each write calls write_fault
 * once in both cases.
 */
#include "kselftest_harness.h"
#include "fence.h"

#define NPAGES	512
#define LEN	(NPAGES * PAGE)
#define SEED	0x40
#define MARK	0x4000000000000000ULL
#define SLACK	8

FIXTURE(faults) {
	char *p;
};

FIXTURE_VARIANT(faults) {
	const char *action;
	int promoted;
};

FIXTURE_VARIANT_ADD(faults, promote) { .action = "promote", .promoted = 1 };
FIXTURE_VARIANT_ADD(faults, allow) { .action = "allow", .promoted = 0 };

FIXTURE_SETUP(faults)
{
	char params[128];

	self->p = NULL;
	owner_unload();
	ASSERT_EQ(0, spm_pin_cpu(0));
	snprintf(params, sizeof(params), FENCE_CAPS " fence_action=%s",
		 variant->action);
	ASSERT_EQ(0, owner_load(params));
}

FIXTURE_TEARDOWN(faults)
{
	if (self->p)
		munmap(self->p, LEN);
	owner_unload();
}

/* The measured loop: one store per page, nothing else that could fault. */
static __attribute__((noinline)) void write_each(char *p, unsigned long from,
						     unsigned long to)
{
	unsigned long i;

	for (i = from; i < to; i++)
		((volatile uint64_t *)(p + i * PAGE))[1] = MARK + i;
}

TEST_F(faults, n_writes_cost_n_faults)
{
	long before, after, faults;
	unsigned long done;
	long counts[SPM_MAXN + 1];

	self->p = fenced_private(LEN, SEED);
	ASSERT_NE(NULL, self->p);
	/* Warm the loop and its stack; touch nothing of the range. */
	write_each(self->p, 0, 0);
	ASSERT_EQ(0, wf_reset());
	/* A first guarded store, so that a SIGBUS is a clear failure. */
	ASSERT_EQ(0, guard_mark_pages(self->p, 1, MARK, &done));
	ASSERT_EQ(1, wf());

	before = minflt();
	write_each(self->p, 1, NPAGES);
	after = minflt();
	faults = after - before;

	ASSERT_EQ(NPAGES, node_counts(self->p, LEN, counts));
	spm_counts_log(variant->action, counts);
	printf("# %s: %d writes took %ld minor faults, write_fault %lld\n",
	       variant->action, NPAGES - 1, faults, wf());
	EXPECT_EQ(NPAGES, wf());
	EXPECT_GE(faults, NPAGES - 1);
	EXPECT_LE(faults, NPAGES - 1 + SLACK) {
		TH_LOG("%s: %d fenced writes cost %ld faults (%.2f per write)",
		       variant->action, NPAGES - 1, faults,
		       (double)faults / (NPAGES - 1));
	}
	if (variant->promoted) {
		EXPECT_EQ(NPAGES, spm_count_in(counts, spm_sysram_nodes()));
	} else {
		EXPECT_EQ(NPAGES, counts[SPM_NID]);
	}
	EXPECT_EQ(0, bad_marks(self->p, NPAGES, MARK));
	EXPECT_EQ(0, spm_verify(self->p, LEN, SEED));
}

TEST_HARNESS_MAIN
