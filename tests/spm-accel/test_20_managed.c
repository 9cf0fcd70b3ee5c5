// SPDX-License-Identifier: GPL-2.0
/*
 * Managed user memory: anonymous memory mbind()ed to node 2 (permitted by
 * spm_accel's user capability) and mirrored by the device.
 *
 *   the pages are on node 2; the device sees the same pages and data
 *   the device's view is cached until an invalidation
 *   move_pages() to node 0 invalidates it; the device faults again, finds
 *   the same data and reports node 0; moving back in tells the owner
 *   device writes are seen by the CPU
 *   device commands stay right while another thread migrates the pages
 *   munmap invalidates; ranges outside a mirror are refused (EACCES);
 *   bad mirror requests get exact errnos
 */
#include <pthread.h>
#include <sys/mman.h>
#include "kselftest_harness.h"
#include "spm.h"
#include "spm_accel.h"

#define NODE	2
#define NPAGES	64

static long ps;

/* move_pages() every page of [p, p + n pages) to nid: pages moved or -errno. */
static long move_all(char *p, long n, int nid)
{
	void *pages[NPAGES];
	int nodes[NPAGES], status[NPAGES];
	long i, moved = 0;

	for (i = 0; i < n; i++) {
		pages[i] = p + i * ps;
		nodes[i] = nid;
		status[i] = -1000;
	}
	if (spm_move_pages(0, n, pages, nodes, status, MPOL_MF_MOVE))
		return -errno;
	for (i = 0; i < n; i++)
		moved += status[i] == nid;
	return moved;
}

FIXTURE(managed) {
	int fd;
	char *p;
	size_t len;
	uint64_t sum;
};

FIXTURE_SETUP(managed)
{
	unsigned long mask = 1UL << NODE;

	ps = spm_page_size();
	self->len = NPAGES * ps;
	self->fd = spm_accel_open();
	ASSERT_LE(0, self->fd) TH_LOG("open %s: %s", SPM_ACCEL_DEVICE,
				       strerror(-self->fd));
	self->p = mmap(NULL, self->len, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, self->p);
	ASSERT_EQ(0, spm_mbind(self->p, self->len, MPOL_BIND, &mask, 64, 0))
		TH_LOG("mbind to node %d: %s", NODE, strerror(errno));
	spm_accel_pattern(self->p, self->len, 11);
	self->sum = spm_fnv64(SPM_FNV64_OFFSET, self->p, self->len);
}

FIXTURE_TEARDOWN(managed)
{
	munmap(self->p, self->len);
	close(self->fd);
}

static int mirror(FIXTURE_DATA(managed) *self)
{
	return spm_accel_range(self->fd, SPM_ACCEL_IOC_MIRROR,
			       (uintptr_t)self->p, self->len);
}

static int user_op(FIXTURE_DATA(managed) *self, struct spm_accel_op *op,
		   uint32_t cmd, size_t off, size_t len, uint64_t arg,
		   int32_t *nodes)
{
	return spm_accel_exec(self->fd, op, cmd, SPM_ACCEL_OP_USER,
			      (uintptr_t)self->p + off, len, arg, nodes);
}

TEST_F(managed, mbind_places_pages_on_the_node)
{
	EXPECT_EQ(NPAGES, spm_pages_on_node(self->p, self->len, NODE));
}

TEST_F(managed, device_sees_cpu_data_and_node)
{
	int32_t nodes[NPAGES];
	struct spm_accel_op op;
	struct spm_accel_info info;
	int i;

	ASSERT_EQ(0, mirror(self));
	memset(nodes, 0x7f, sizeof(nodes));
	ASSERT_EQ(0, user_op(self, &op, SPM_ACCEL_CMD_CHECKSUM, 0, self->len, 0,
			     nodes));
	EXPECT_EQ(self->sum, op.result);
	EXPECT_EQ(NPAGES, op.pages);
	EXPECT_EQ(NPAGES, op.faulted);
	EXPECT_EQ(NPAGES, op.node_pages[NODE]);
	for (i = 0; i < NPAGES; i++)
		ASSERT_EQ(NODE, nodes[i]) TH_LOG("page %d", i);

	/* The view is cached: no fault the second time. */
	ASSERT_EQ(0, user_op(self, &op, SPM_ACCEL_CMD_CHECKSUM, 0, self->len, 0,
			     NULL));
	EXPECT_EQ(self->sum, op.result);
	EXPECT_EQ(0, op.faulted);

	/* A CPU write to a mapped, writable page reaches the device. */
	self->p[5 * ps + 17] ^= 0x40;
	ASSERT_EQ(0, user_op(self, &op, SPM_ACCEL_CMD_CHECKSUM, 0, self->len, 0,
			     NULL));
	EXPECT_EQ(spm_fnv64(SPM_FNV64_OFFSET, self->p, self->len), op.result);
	EXPECT_NE(self->sum, op.result);

	ASSERT_EQ(0, spm_accel_info(self->fd, &info));
	EXPECT_EQ(1, info.mirrors);
	EXPECT_EQ(NPAGES, info.mirror_faults);
	EXPECT_EQ(0, info.pages);
}

TEST_F(managed, migration_invalidates_and_device_refaults)
{
	long long arrived0 = spm_accel_counter("folios_arrived");
	int32_t nodes[NPAGES];
	struct spm_accel_op op;
	uint64_t inv;
	int i;

	ASSERT_EQ(0, mirror(self));
	ASSERT_EQ(0, user_op(self, &op, SPM_ACCEL_CMD_CHECKSUM, 0, self->len, 0,
			     NULL));
	ASSERT_EQ(self->sum, op.result);
	inv = op.invalidations;

	/* Out of the SPM node, under the device's mirror. */
	ASSERT_EQ(NPAGES, move_all(self->p, NPAGES, 0));
	EXPECT_EQ(NPAGES, spm_pages_on_node(self->p, self->len, 0));
	ASSERT_EQ(0, user_op(self, &op, SPM_ACCEL_CMD_CHECKSUM, 0, self->len, 0,
			     nodes));
	EXPECT_LT(inv, op.invalidations);
	EXPECT_EQ(NPAGES, op.faulted);
	EXPECT_EQ(self->sum, op.result);
	EXPECT_EQ(NPAGES, op.node_pages[0]);
	EXPECT_EQ(0, op.node_pages[NODE]);
	for (i = 0; i < NPAGES; i++)
		ASSERT_EQ(0, nodes[i]) TH_LOG("page %d", i);
	inv = op.invalidations;

	/* And back in: the owner hears about every folio that arrives. */
	ASSERT_EQ(NPAGES, move_all(self->p, NPAGES, NODE));
	ASSERT_EQ(0, user_op(self, &op, SPM_ACCEL_CMD_CHECKSUM, 0, self->len, 0,
			     nodes));
	EXPECT_LT(inv, op.invalidations);
	EXPECT_EQ(NPAGES, op.faulted);
	EXPECT_EQ(self->sum, op.result);
	EXPECT_EQ(NPAGES, op.node_pages[NODE]);
	EXPECT_LE(arrived0 + NPAGES, spm_accel_counter("folios_arrived"));
}

TEST_F(managed, device_writes_seen_by_cpu)
{
	const uint64_t fill = 0x0102030405060708ULL, key = 0xffULL << 56;
	struct spm_accel_op op;
	uint64_t *w = (uint64_t *)self->p;
	size_t i;

	ASSERT_EQ(0, mirror(self));
	ASSERT_EQ(0, user_op(self, &op, SPM_ACCEL_CMD_FILL, 0, self->len, fill,
			     NULL));
	EXPECT_EQ(NPAGES, op.pages);
	ASSERT_EQ(0, user_op(self, &op, SPM_ACCEL_CMD_XOR, 8 * ps, 8 * ps, key,
			     NULL));
	for (i = 0; i < self->len / 8; i++) {
		uint64_t want = (i >= 8 * ps / 8 && i < 16 * ps / 8) ?
				fill ^ key : fill;

		ASSERT_EQ(want, w[i]) TH_LOG("word %zu", i);
	}
	ASSERT_EQ(0, user_op(self, &op, SPM_ACCEL_CMD_CHECKSUM, 0, self->len, 0,
			     NULL));
	EXPECT_EQ(spm_fnv64(SPM_FNV64_OFFSET, self->p, self->len), op.result);
	EXPECT_EQ(NPAGES, spm_pages_on_node(self->p, self->len, NODE));
}

TEST_F(managed, untouched_pages_fault_in_on_the_node)
{
	unsigned long mask = 1UL << NODE;
	struct spm_accel_op op;
	char *q;

	/* The device writes first: the pages appear where the policy says. */
	q = mmap(NULL, self->len, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, q);
	ASSERT_EQ(0, spm_mbind(q, self->len, MPOL_BIND, &mask, 64, 0));
	ASSERT_EQ(0, spm_accel_range(self->fd, SPM_ACCEL_IOC_MIRROR,
				     (uintptr_t)q, self->len));
	ASSERT_EQ(0, spm_accel_exec(self->fd, &op, SPM_ACCEL_CMD_FILL,
				    SPM_ACCEL_OP_USER, (uintptr_t)q, self->len,
				    0x77, NULL));
	EXPECT_EQ(NPAGES, op.faulted);
	EXPECT_EQ(NPAGES, op.node_pages[NODE]);
	EXPECT_EQ(NPAGES, spm_pages_on_node(q, self->len, NODE));
	EXPECT_EQ(0x77, ((uint64_t *)q)[self->len / 8 - 1]);
	munmap(q, self->len);
}

struct mover {
	char *p;
	volatile int stop;
	volatile long rounds;
	long failed;
};

/* Move the pages between node 0 and node 2 until told to stop. */
static void *mover(void *arg)
{
	struct mover *m = arg;

	while (!m->stop) {
		if (move_all(m->p, NPAGES, (m->rounds & 1) ? NODE : 0) != NPAGES)
			m->failed++;
		m->rounds++;
	}
	return NULL;
}

/*
 * Commands run until the mover has done MIN_ROUNDS migrations of the whole
 * range and the commands have done MIN_CMDS rounds of their own, whichever
 * comes last: a fixed number of commands can finish before the mover's
 * first move_pages() does (seen under single-threaded TCG).
 */
#define MIN_ROUNDS	8
#define MIN_CMDS	40

TEST_F_TIMEOUT(managed, commands_race_with_migration, 120)
{
	const uint64_t key = 0x5555aaaa5555aaaaULL;
	struct mover mv = { .p = self->p };
	struct spm_accel_op op;
	long i, during = 0;
	pthread_t t;

	ASSERT_EQ(0, mirror(self));
	ASSERT_EQ(0, pthread_create(&t, NULL, mover, &mv));
	for (i = 0; i < MIN_CMDS || mv.rounds < MIN_ROUNDS; i++) {
		long before = mv.rounds;

		/* Pairs of xors cancel out; every checksum sees the data whole. */
		ASSERT_EQ(0, user_op(self, &op, SPM_ACCEL_CMD_XOR, 0, self->len,
				     key, NULL));
		ASSERT_EQ(0, user_op(self, &op, SPM_ACCEL_CMD_XOR, 0, self->len,
				     key, NULL));
		ASSERT_EQ(0, user_op(self, &op, SPM_ACCEL_CMD_CHECKSUM, 0,
				     self->len, 0, NULL));
		ASSERT_EQ(self->sum, op.result) TH_LOG("round %ld", i);
		/* A round of commands that a migration overlapped. */
		during += mv.rounds != before;
	}
	mv.stop = 1;
	pthread_join(t, NULL);
	/* Every completed round moved the pages: one invalidation at least. */
	ASSERT_EQ(0, user_op(self, &op, SPM_ACCEL_CMD_CHECKSUM, 0, self->len,
			     0, NULL));
	TH_LOG("%ld command rounds (%ld overlapped a migration), %ld migration rounds, %llu invalidations",
	       i, during, mv.rounds, (unsigned long long)op.invalidations);
	EXPECT_EQ(self->sum, op.result);
	EXPECT_LE(MIN_ROUNDS, mv.rounds);
	EXPECT_LT(0, during);
	EXPECT_EQ(0, mv.failed);
	EXPECT_LE(mv.rounds, op.invalidations);
	EXPECT_EQ(self->sum, spm_fnv64(SPM_FNV64_OFFSET, self->p, self->len));
}

TEST_F(managed, munmap_invalidates)
{
	struct spm_accel_op op;
	uint64_t inv, rest;

	ASSERT_EQ(0, mirror(self));
	ASSERT_EQ(0, user_op(self, &op, SPM_ACCEL_CMD_CHECKSUM, 0, self->len, 0,
			     NULL));
	inv = op.invalidations;
	rest = spm_fnv64(SPM_FNV64_OFFSET, self->p + 8 * ps, self->len - 8 * ps);

	ASSERT_EQ(0, munmap(self->p, 8 * ps));
	EXPECT_EQ(-EFAULT, user_op(self, &op, SPM_ACCEL_CMD_CHECKSUM, 0,
				   self->len, 0, NULL));
	ASSERT_EQ(0, user_op(self, &op, SPM_ACCEL_CMD_CHECKSUM, 8 * ps,
			     self->len - 8 * ps, 0, NULL));
	EXPECT_EQ(rest, op.result);
	EXPECT_LT(inv, op.invalidations);
	EXPECT_EQ(0, op.faulted);
}

TEST_F(managed, ranges_outside_mirrors_and_bad_mirrors)
{
	const uint64_t max = SPM_ACCEL_MAX_BYTES;
	struct spm_accel_op op;
	char *q;
	int i;

	/* Not mirrored. */
	EXPECT_EQ(-EACCES, user_op(self, &op, SPM_ACCEL_CMD_CHECKSUM, 0, ps, 0,
				   NULL));
	ASSERT_EQ(0, spm_accel_range(self->fd, SPM_ACCEL_IOC_MIRROR,
				     (uintptr_t)self->p, self->len / 2));
	EXPECT_EQ(0, user_op(self, &op, SPM_ACCEL_CMD_CHECKSUM, 0,
			     self->len / 2, 0, NULL));
	/* Beyond the end of the mirror, or past it altogether. */
	EXPECT_EQ(-EACCES, user_op(self, &op, SPM_ACCEL_CMD_CHECKSUM, 0,
				   self->len, 0, NULL));
	EXPECT_EQ(-EACCES, user_op(self, &op, SPM_ACCEL_CMD_CHECKSUM,
				   self->len / 2, ps, 0, NULL));
	EXPECT_EQ(-EACCES, user_op(self, &op, SPM_ACCEL_CMD_CHECKSUM,
				   self->len - ps, ps, 0, NULL));
	EXPECT_EQ(-EACCES, spm_accel_exec(self->fd, &op, SPM_ACCEL_CMD_CHECKSUM,
					  SPM_ACCEL_OP_USER, 0, ps, 0, NULL));

	/* Bad mirrors. */
	EXPECT_EQ(-EEXIST, spm_accel_range(self->fd, SPM_ACCEL_IOC_MIRROR,
					   (uintptr_t)self->p + ps, ps));
	EXPECT_EQ(-EINVAL, spm_accel_range(self->fd, SPM_ACCEL_IOC_MIRROR,
					   (uintptr_t)self->p + 1, ps));
	EXPECT_EQ(-EINVAL, spm_accel_range(self->fd, SPM_ACCEL_IOC_MIRROR,
					   (uintptr_t)self->p, ps + 1));
	EXPECT_EQ(-EINVAL, spm_accel_range(self->fd, SPM_ACCEL_IOC_MIRROR,
					   (uintptr_t)self->p, max + ps));
	EXPECT_EQ(-EINVAL, spm_accel_range(self->fd, SPM_ACCEL_IOC_MIRROR,
					   0xffff800000000000ULL, ps));
	EXPECT_EQ(-EINVAL, spm_accel_range(self->fd, SPM_ACCEL_IOC_MIRROR,
					   -ps, ps));
	EXPECT_EQ(-ENOENT, spm_accel_range(self->fd, SPM_ACCEL_IOC_UNMIRROR,
					   (uintptr_t)self->p, self->len));
	ASSERT_EQ(0, spm_accel_range(self->fd, SPM_ACCEL_IOC_UNMIRROR,
				     (uintptr_t)self->p, self->len / 2));
	EXPECT_EQ(-EACCES, user_op(self, &op, SPM_ACCEL_CMD_CHECKSUM, 0, ps, 0,
				   NULL));

	/* A mirror of unmapped addresses registers; commands on it fail. */
	q = mmap(NULL, 4 * ps, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, q);
	ASSERT_EQ(0, munmap(q, 4 * ps));
	ASSERT_EQ(0, spm_accel_range(self->fd, SPM_ACCEL_IOC_MIRROR,
				     (uintptr_t)q, 4 * ps));
	EXPECT_EQ(-EFAULT, spm_accel_exec(self->fd, &op, SPM_ACCEL_CMD_CHECKSUM,
					  SPM_ACCEL_OP_USER, (uintptr_t)q,
					  4 * ps, 0, NULL));
	/* At most SPM_ACCEL_MAX_MIRRORS per file: one is in use. */
	for (i = 1; i < SPM_ACCEL_MAX_MIRRORS; i++)
		ASSERT_EQ(0, spm_accel_range(self->fd, SPM_ACCEL_IOC_MIRROR,
					     (uintptr_t)self->p + (i - 1) * ps,
					     ps)) TH_LOG("mirror %d", i);
	EXPECT_EQ(-ENOSPC, spm_accel_range(self->fd, SPM_ACCEL_IOC_MIRROR,
					   (uintptr_t)self->p + 32 * ps, ps));
}

TEST_HARNESS_MAIN
