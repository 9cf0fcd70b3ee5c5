// SPDX-License-Identifier: GPL-2.0
/*
 * Driver pages move: spm_accel on node 2 (boot memory, ZONE_NORMAL) and on
 * an SPM node onlined through dax (node 3: the legacy-pmem carve-out,
 * "spm-setup-pmem --spm", dax/kmem), whose memory is all ZONE_MOVABLE,
 * where only movable allocations are served and memory offline expects
 * every page to move.  Runs last: the dax variant onlines node 3 (and
 * leaves it online); each variant loads the module with its nid.
 *
 *   the first CPU touch and a hand-over to the device get pages on the
 *   node (on node 3 they come from ZONE_MOVABLE)
 *   every memory block of the node goes offline in turn while the driver
 *   holds pages there, CPU-owned and device-owned, and comes back online:
 *   the driver migrates its pages (to the node's other blocks), nothing is
 *   lost, the device still sees every page on the node, and the CPU maps
 *   the new pages
 *   the device's reserve keeps pages of the node only: when the whole node
 *   goes offline its pages leave the reserve instead of moving to SysRAM
 *   with it, and the reserve fills up again once the node is back
 */
#include <glob.h>
#include <signal.h>
#include <sys/mman.h>
#include "kselftest_harness.h"
#include "spm.h"
#include "spm_accel.h"

#define NPAGES		4096
#define FILL		0x0123456789abcdefULL
#define OFFLINE_SECONDS	90	/* budget of one offline */

static long ps;

FIXTURE(offline) {
	int fd;
	char *p;
	size_t len;
};

FIXTURE_VARIANT(offline) {
	int nid;
	int dax;	/* onlined through dax/kmem (ZONE_MOVABLE) */
};

FIXTURE_VARIANT_ADD(offline, node2) {
	.nid = 2,
	.dax = 0,
};

FIXTURE_VARIANT_ADD(offline, dax_node3) {
	.nid = 3,
	.dax = 1,
};

/* The node has SPM memory and spm_accel owns it; NULL or a reason. */
static const char *setup_node(int nid, int dax)
{
	long long spm = spm_sysfs_nodemask("has_spm_memory");
	char cmd[128];

	if (dax && (spm < 0 || !(spm & (1LL << nid)))) {
		if (system("spm-setup-pmem --spm >/dev/null 2>&1"))
			return "spm-setup-pmem --spm failed";
		spm = spm_sysfs_nodemask("has_spm_memory");
	}
	if (spm < 0 || !(spm & (1LL << nid)))
		return "the node has no SPM memory";
	if (spm_accel_counter("nid") != nid) {
		snprintf(cmd, sizeof(cmd),
			 "rmmod spm_accel >/dev/null 2>&1; modprobe spm_accel nid=%d",
			 nid);
		if (system(cmd))
			return "modprobe spm_accel failed";
	}
	return NULL;
}

FIXTURE_SETUP(offline)
{
	const char *why;

	ps = spm_page_size();
	self->len = NPAGES * ps;
	self->fd = -1;
	self->p = MAP_FAILED;
	why = setup_node(variant->nid, variant->dax);
	ASSERT_EQ(NULL, why) TH_LOG("node %d: %s", variant->nid, why);
	self->fd = spm_accel_open();
	ASSERT_LE(0, self->fd);
	self->p = mmap(NULL, self->len, PROT_READ | PROT_WRITE, MAP_SHARED,
		       self->fd, 0);
	ASSERT_NE(MAP_FAILED, self->p);
}

FIXTURE_TEARDOWN(offline)
{
	if (self->p != MAP_FAILED)
		munmap(self->p, self->len);
	if (self->fd >= 0)
		close(self->fd);
}

/*
 * Pages of [off, off + len) of fd that the device sees on nid (it is
 * handed to the device and stays there); *sum: the device's checksum.
 */
static long device_pages_on(int fd, uint64_t off, uint64_t len, int nid,
			    uint64_t *sum)
{
	struct spm_accel_op op;
	int ret = spm_accel_range(fd, SPM_ACCEL_IOC_TO_DEVICE, off, len);

	if (!ret)
		ret = spm_accel_exec(fd, &op, SPM_ACCEL_CMD_CHECKSUM, 0, off,
				     len, 0, NULL);
	if (ret)
		return ret;
	if (sum)
		*sum = op.result;
	return op.node_pages[nid];
}

TEST_F(offline, pages_come_from_the_node)
{
	struct spm_accel_info info;
	uint64_t sum, got;

	ASSERT_EQ(0, spm_accel_info(self->fd, &info));
	ASSERT_EQ(variant->nid, info.nid);
	ASSERT_EQ(0, spm_sigbus(self->p, 1))
		TH_LOG("the first touch of device memory on node %d got SIGBUS",
		       variant->nid);
	spm_accel_pattern(self->p, self->len / 2, 51);
	sum = spm_fnv64(SPM_FNV64_OFFSET, self->p, self->len / 2);
	/* The second half is allocated by the hand-over. */
	EXPECT_EQ(NPAGES / 2, device_pages_on(self->fd, self->len / 2,
					      self->len / 2, variant->nid,
					      NULL));
	EXPECT_EQ(NPAGES / 2, device_pages_on(self->fd, 0, self->len / 2,
					      variant->nid, &got));
	EXPECT_EQ(sum, got);
	EXPECT_EQ(0, spm_accel_counter("misplaced"));
	EXPECT_EQ(0, spm_accel_counter("alloc_failures"));
}

static void offline_alarm(int sig)
{
	(void)sig;
}

/*
 * Write s to the block's state within OFFLINE_SECONDS (an alarm, its
 * handler without SA_RESTART, ends an offline that keeps retrying a page
 * that does not move: -EINTR): 0 or -errno.
 */
static int block_state(const char *block, const char *s)
{
	struct sigaction sa = { .sa_handler = offline_alarm }, old;
	char path[256];
	int ret;

	snprintf(path, sizeof(path), "%s/state", block);
	sigemptyset(&sa.sa_mask);
	sigaction(SIGALRM, &sa, &old);
	alarm(OFFLINE_SECONDS);
	ret = spm_write_file(path, s);
	alarm(0);
	sigaction(SIGALRM, &old, NULL);
	return ret;
}

/* "online_kernel" or "online_movable" for a block in zone (valid_zones). */
static const char *online_as(const char *zone)
{
	return strncmp(zone, "Movable", 7) ? "online_kernel" : "online_movable";
}

TEST_F_TIMEOUT(offline, offline_migrates_driver_pages, 600)
{
	long long migrated0 = spm_accel_counter("migrated");
	uint64_t *fill = malloc(self->len / 2), sum_dev, got;
	struct spm_accel_op op;
	char path[256], buf[64], zone[64];
	glob_t g;
	size_t i, done = 0;
	uint64_t sum_cpu;

	ASSERT_NE(NULL, fill);
	ASSERT_EQ(0, spm_sigbus(self->p, 1))
		TH_LOG("the first touch of device memory on node %d got SIGBUS",
		       variant->nid);
	/* First half CPU-owned, second half device-owned. */
	spm_accel_pattern(self->p, self->len, 52);
	sum_cpu = spm_fnv64(SPM_FNV64_OFFSET, self->p, self->len / 2);
	ASSERT_EQ(0, spm_accel_range(self->fd, SPM_ACCEL_IOC_TO_DEVICE,
				     self->len / 2, self->len / 2));
	ASSERT_EQ(0, spm_accel_exec(self->fd, &op, SPM_ACCEL_CMD_FILL, 0,
				    self->len / 2, self->len / 2, FILL, NULL));
	for (i = 0; i < self->len / 2 / 8; i++)
		fill[i] = FILL;
	sum_dev = spm_fnv64(SPM_FNV64_OFFSET, fill, self->len / 2);

	snprintf(path, sizeof(path), SPM_NODE_SYSFS "/node%d/memory*",
		 variant->nid);
	ASSERT_EQ(0, glob(path, 0, NULL, &g));
	for (i = 0; i < g.gl_pathc; i++) {
		const char *b = g.gl_pathv[i];
		int ret;

		snprintf(path, sizeof(path), "%s/state", b);
		if (spm_read_file(path, buf, sizeof(buf)) <= 0 ||
		    strcmp(buf, "online"))
			continue;
		snprintf(path, sizeof(path), "%s/valid_zones", b);
		if (spm_read_file(path, zone, sizeof(zone)) <= 0 ||
		    !strcmp(zone, "none")) {
			TH_LOG("%s passed over: valid_zones %s", b, zone);
			continue;
		}
		ret = block_state(b, "offline");
		EXPECT_EQ(0, ret) TH_LOG("offline %s (%s): %s", b, zone,
					 strerror(-ret));
		if (!ret) {
			done++;
			ret = block_state(b, online_as(zone));
			ASSERT_EQ(0, ret) TH_LOG("%s %s: %s", online_as(zone), b,
						 strerror(-ret));
		}
	}
	globfree(&g);
	TH_LOG("%zu blocks of node %d went offline and online again; the driver migrated %lld pages",
	       done, variant->nid, spm_accel_counter("migrated") - migrated0);
	EXPECT_LT(1, done);
	/* Each page sat in one of the blocks, and moved when it went. */
	EXPECT_LE(migrated0 + NPAGES, spm_accel_counter("migrated"));

	/* Nothing lost; the CPU maps the new pages, the device sees them. */
	EXPECT_EQ(sum_cpu, spm_fnv64(SPM_FNV64_OFFSET, self->p, self->len / 2));
	EXPECT_EQ(NPAGES / 2, device_pages_on(self->fd, self->len / 2,
					      self->len / 2, variant->nid,
					      &got));
	EXPECT_EQ(sum_dev, got);
	EXPECT_EQ(NPAGES / 2, device_pages_on(self->fd, 0, self->len / 2,
					      variant->nid, &got));
	EXPECT_EQ(sum_cpu, got);
	free(fill);
}

/* The reserve's pages that sit off the node, or -1 (no such counter). */
static long long reserve_off_node(void)
{
	return spm_accel_counter("reserve_off_node");
}

/*
 * The reserve keeps pages of the node only.  Every block of the node goes
 * offline, one after the other, and stays offline until all have: the
 * last block's pages have nowhere to go on the node and move to SysRAM
 * (memory offline of an SPM node falls back to SysRAM).  The reserve drops
 * such pages instead of keeping them: while the node is offline the
 * reserve is empty and the device gets no page (ENOMEM), rather than one
 * off its node; a closed file whose pages were moved off the node does not
 * give them to the reserve.  Once the node is back, the reserve fills up
 * again from the node.
 */
TEST_F_TIMEOUT(offline, reserve_stays_on_the_node, 600)
{
	char path[256], buf[64], zone[64], *blocks[64], *zones[64];
	struct spm_accel_limit lim;
	struct spm_accel_op op;
	size_t i, nblocks = 0, total = 0;
	long long reserve, off_node;
	int fd2, ret, tries;
	glob_t g;

	ASSERT_EQ(0, spm_accel_limit(self->fd, &lim, 0, 0));
	reserve = lim.reserve_size;
	ASSERT_LT(0, reserve);
	EXPECT_EQ(reserve, lim.reserve_pages);
	/* A file with pages on the node, closed once the node is offline. */
	fd2 = spm_accel_open();
	ASSERT_LE(0, fd2);
	ASSERT_EQ(0, spm_accel_range(fd2, SPM_ACCEL_IOC_TO_DEVICE, 0, 64 * ps));

	snprintf(path, sizeof(path), SPM_NODE_SYSFS "/node%d/memory*",
		 variant->nid);
	ASSERT_EQ(0, glob(path, 0, NULL, &g));
	for (i = 0; i < g.gl_pathc && nblocks < 64; i++) {
		const char *b = g.gl_pathv[i];

		snprintf(path, sizeof(path), "%s/state", b);
		if (spm_read_file(path, buf, sizeof(buf)) <= 0 ||
		    strcmp(buf, "online"))
			continue;
		total++;
		snprintf(path, sizeof(path), "%s/valid_zones", b);
		if (spm_read_file(path, zone, sizeof(zone)) <= 0 ||
		    !strcmp(zone, "none"))
			continue;
		ret = block_state(b, "offline");
		if (ret) {
			TH_LOG("offline %s (%s): %s", b, zone, strerror(-ret));
			continue;
		}
		blocks[nblocks] = strdup(b);
		zones[nblocks++] = strdup(zone);
	}
	globfree(&g);
	off_node = reserve_off_node();
	ASSERT_EQ(0, spm_accel_limit(self->fd, &lim, 0, 0));
	TH_LOG("%zu of %zu blocks of node %d offline: the reserve holds %lld of %lld pages, %lld off the node",
	       nblocks, total, variant->nid, (long long)lim.reserve_pages,
	       reserve, off_node);
	if (nblocks == total) {
		/* Nothing of the node is online: no reserve page is left. */
		EXPECT_EQ(0, lim.reserve_pages);
		/* The device gets no page rather than one off its node. */
		ret = spm_accel_range(self->fd, SPM_ACCEL_IOC_TO_DEVICE, 0,
				      16 * ps);
		if (!ret) {
			ASSERT_EQ(0, spm_accel_exec(self->fd, &op,
						    SPM_ACCEL_CMD_CHECKSUM, 0,
						    0, 16 * ps, 0, NULL));
			TH_LOG("the device got 16 pages with its node offline, %u of them on node %d",
			       op.node_pages[variant->nid], variant->nid);
			EXPECT_EQ(16, op.node_pages[variant->nid]);
		} else {
			EXPECT_EQ(-ENOMEM, ret);
		}
		/* The closed file's pages left the node: not into the reserve. */
		close(fd2);
		fd2 = -1;
		ASSERT_EQ(0, spm_accel_limit(self->fd, &lim, 0, 0));
		EXPECT_EQ(0, lim.reserve_pages);
	}
	EXPECT_EQ(0, off_node);
	if (fd2 >= 0)
		close(fd2);

	for (i = 0; i < nblocks; i++) {
		ret = block_state(blocks[i], online_as(zones[i]));
		EXPECT_EQ(0, ret) TH_LOG("%s %s: %s", online_as(zones[i]),
					 blocks[i], strerror(-ret));
		free(blocks[i]);
		free(zones[i]);
	}
	/* The node is back: the reserve fills up from it (open kicks it). */
	for (tries = 0; tries < 100; tries++) {
		int fd3 = spm_accel_open();

		if (fd3 >= 0)
			close(fd3);
		ASSERT_EQ(0, spm_accel_limit(self->fd, &lim, 0, 0));
		if ((long long)lim.reserve_pages == reserve)
			break;
		usleep(100000);
	}
	EXPECT_EQ(reserve, lim.reserve_pages);
	EXPECT_EQ(0, reserve_off_node());
	/* Pages the device takes now come from the node. */
	EXPECT_EQ(16, spm_accel_pages_on_node(self->fd, 256 * ps, 16 * ps,
					      variant->nid));
	EXPECT_EQ(0, spm_accel_counter("misplaced"));
}

TEST_HARNESS_MAIN
