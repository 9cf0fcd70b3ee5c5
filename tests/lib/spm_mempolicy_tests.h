/* SPDX-License-Identifier: GPL-2.0 */
/*
 * mbind()/set_mempolicy() and SPM nodes.
 *
 *   MPOL_BIND naming an SPM node: EPERM unless nodeN/spm/allow_user is 1;
 *   when allowed, anonymous memory and shared (tmpfs) mappings with an
 *   mbind() land on the node, and numa_maps/get_mempolicy tell the truth.
 *   Every other mode has SPM nodes removed from its nodemask (EINVAL when
 *   nothing is left) and never lands on them, whatever allow_user says.
 *
 * SPM_NODE is the SPM node under test (2 on the default boot; the spm-dax
 * suite builds this file again with 3).
 *
 * The test bodies live in tests/lib/ so that tests/spm-core (SPM_NODE 2)
 * and tests/spm-dax (SPM_NODE 3) build the same code, and the Makefile's
 * dependency on the headers in tests/lib rebuilds both when it changes.
 */
#include <sys/mman.h>
#include "kselftest_harness.h"
#include "spm_place.h"

#ifndef SPM_NODE
#define SPM_NODE 2
#endif

#define LEN (16UL << 20)
#define MAXNODE 64

/* The numa_maps line of the mapping that starts at p. */
static int numa_maps_line(void *p, char *out, size_t size)
{
	char line[1024], want[32];
	FILE *f = fopen("/proc/self/numa_maps", "r");
	int found = -ENOENT;

	if (!f)
		return -errno;
	snprintf(want, sizeof(want), "%lx ", (unsigned long)p);
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, want, strlen(want))) {
			snprintf(out, size, "%s", line);
			found = 0;
			break;
		}
	fclose(f);
	return found;
}

FIXTURE(pol) {
	int nid;
	int saved;
	long long sysram;
};

FIXTURE_SETUP(pol)
{
	long long spm = spm_test_nodes();

	self->nid = SPM_NODE;
	ASSERT_LT(0, spm);
	ASSERT_TRUE(spm & (1LL << self->nid)) {
		TH_LOG("node %d is not in has_spm_memory", self->nid);
	}
	self->sysram = spm_sysram_nodes();
	ASSERT_EQ(0x3, self->sysram & 0x3);
	self->saved = spm_allow_user_get(self->nid);
	ASSERT_LE(0, self->saved);
}

FIXTURE_TEARDOWN(pol)
{
	spm_set_mempolicy(MPOL_DEFAULT, NULL, 0);
	spm_allow_user_set(self->nid, self->saved);
}

/* ---------------------------------------------------------------- BIND */

TEST_F(pol, bind_denied_without_allow_user)
{
	unsigned long m = spm_nodes_mask(self->nid, -1, -1);
	unsigned long m2 = spm_nodes_mask(1, self->nid, -1);
	long counts[SPM_MAXN + 1];
	int mode = -1;
	char *p = spm_anon(LEN);

	ASSERT_NE(NULL, p);
	ASSERT_EQ(0, spm_allow_user_set(self->nid, 0));

	EXPECT_EQ(-1, spm_mbind(p, LEN, MPOL_BIND, &m, MAXNODE, 0));
	EXPECT_EQ(EPERM, errno);
	EXPECT_EQ(-1, spm_mbind(p, LEN, MPOL_BIND, &m2, MAXNODE, 0));
	EXPECT_EQ(EPERM, errno);
	EXPECT_EQ(-1, spm_mbind(p, LEN, MPOL_BIND, &m, MAXNODE, MPOL_MF_STRICT | MPOL_MF_MOVE));
	EXPECT_EQ(EPERM, errno);
	EXPECT_EQ(-1, spm_set_mempolicy(MPOL_BIND, &m, MAXNODE));
	EXPECT_EQ(EPERM, errno);
	EXPECT_EQ(-1, spm_set_mempolicy(MPOL_BIND, &m2, MAXNODE));
	EXPECT_EQ(EPERM, errno);

	/* Nothing was installed: the task and the range keep the default. */
	ASSERT_EQ(0, spm_get_mempolicy(&mode, NULL, 0, NULL, 0));
	EXPECT_EQ(MPOL_DEFAULT, mode);
	ASSERT_EQ(0, spm_get_mempolicy(&mode, NULL, 0, p, MPOL_F_ADDR));
	EXPECT_EQ(MPOL_DEFAULT, mode);
	spm_fill(p, LEN, 1);
	ASSERT_EQ((long)(LEN / 4096), spm_count_pages(p, LEN, counts));
	EXPECT_EQ(0, counts[self->nid]);
	munmap(p, LEN);
}

TEST_F(pol, mbind_bind_allowed_lands_on_spm)
{
	unsigned long m = spm_nodes_mask(self->nid, -1, -1), got = 0;
	long counts[SPM_MAXN + 1];
	struct spm_snap a, b;
	char line[1024], want[32];
	int node = -1, mode = -1;
	char *p = spm_anon(LEN);

	ASSERT_NE(NULL, p);
	ASSERT_EQ(0, spm_allow_user_set(self->nid, 1));
	ASSERT_EQ(0, spm_mbind(p, LEN, MPOL_BIND, &m, MAXNODE, 0)) {
		TH_LOG("mbind: %s", strerror(errno));
	}
	spm_snap(&a);
	spm_fill(p, LEN, 2);
	spm_snap(&b);

	ASSERT_EQ((long)(LEN / 4096), spm_count_pages(p, LEN, counts));
	spm_counts_log("bound region", counts);
	EXPECT_EQ((long)(LEN / 4096), counts[self->nid]);
	EXPECT_LE((long long)(LEN >> 10) - 512, SNAP_DELTA(&a, &b, self->nid, K_ANON));

	ASSERT_EQ(0, spm_get_mempolicy(&node, NULL, 0, p + LEN - 4096, MPOL_F_NODE | MPOL_F_ADDR));
	EXPECT_EQ(self->nid, node);
	ASSERT_EQ(0, spm_get_mempolicy(&mode, &got, MAXNODE, p, MPOL_F_ADDR));
	EXPECT_EQ(MPOL_BIND, mode);
	EXPECT_EQ(m, got);

	ASSERT_EQ(0, numa_maps_line(p, line, sizeof(line)));
	TH_LOG("numa_maps: %s", line);
	snprintf(want, sizeof(want), "bind:%d ", self->nid);
	EXPECT_NE(NULL, strstr(line, want));
	snprintf(want, sizeof(want), " N%d=%lu", self->nid, LEN / 4096);
	EXPECT_NE(NULL, strstr(line, want));

	EXPECT_EQ(0, spm_verify(p, LEN, 2));
	munmap(p, LEN);
}

TEST_F(pol, set_mempolicy_bind_allowed_lands_on_spm)
{
	unsigned long m = spm_nodes_mask(self->nid, -1, -1);
	long counts[SPM_MAXN + 1];
	char *p;

	ASSERT_EQ(0, spm_allow_user_set(self->nid, 1));
	ASSERT_EQ(0, spm_set_mempolicy(MPOL_BIND, &m, MAXNODE)) {
		TH_LOG("set_mempolicy: %s", strerror(errno));
	}
	p = spm_anon(LEN);
	ASSERT_NE(NULL, p);
	spm_fill(p, LEN, 3);
	ASSERT_EQ((long)(LEN / 4096), spm_count_pages(p, LEN, counts));
	EXPECT_EQ((long)(LEN / 4096), counts[self->nid]);
	EXPECT_EQ(0, spm_verify(p, LEN, 3));
	ASSERT_EQ(0, spm_set_mempolicy(MPOL_DEFAULT, NULL, 0));
	munmap(p, LEN);
}

TEST_F(pol, bind_sysram_and_spm_stays_inside_the_mask)
{
	unsigned long m = spm_nodes_mask(1, self->nid, -1);
	long counts[SPM_MAXN + 1];
	char *p = spm_anon(LEN);

	ASSERT_NE(NULL, p);
	ASSERT_EQ(0, spm_allow_user_set(self->nid, 1));
	ASSERT_EQ(0, spm_mbind(p, LEN, MPOL_BIND, &m, MAXNODE, 0));
	spm_fill(p, LEN, 4);
	ASSERT_EQ((long)(LEN / 4096), spm_count_pages(p, LEN, counts));
	spm_counts_log("bind 1,spm", counts);
	EXPECT_EQ((long)(LEN / 4096), counts[1] + counts[self->nid]);
	munmap(p, LEN);
}

TEST_F(pol, revoking_allow_user_refuses_new_binds)
{
	unsigned long m = spm_nodes_mask(self->nid, -1, -1);
	char *p = spm_anon(LEN), *q = spm_anon(LEN);

	ASSERT_NE(NULL, p);
	ASSERT_NE(NULL, q);
	ASSERT_EQ(0, spm_allow_user_set(self->nid, 1));
	EXPECT_EQ(0, spm_mbind(p, LEN, MPOL_BIND, &m, MAXNODE, 0));
	ASSERT_EQ(0, spm_allow_user_set(self->nid, 0));
	EXPECT_EQ(-1, spm_mbind(q, LEN, MPOL_BIND, &m, MAXNODE, 0));
	EXPECT_EQ(EPERM, errno);
	EXPECT_EQ(-1, spm_set_mempolicy(MPOL_BIND, &m, MAXNODE));
	EXPECT_EQ(EPERM, errno);
	munmap(p, LEN);
	munmap(q, LEN);
}

/* tmpfs: an mbind() on the shared mapping is an explicit request ... */
TEST_F(pol, shared_mapping_mbind_allowed_lands_on_spm)
{
	unsigned long m = spm_nodes_mask(self->nid, -1, -1);
	long counts[SPM_MAXN + 1];
	struct spm_snap a, b;
	int fd = memfd_create("spm-shm", 0);
	char *p;

	ASSERT_LE(0, fd);
	ASSERT_EQ(0, ftruncate(fd, LEN));
	p = mmap(NULL, LEN, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	ASSERT_NE(MAP_FAILED, p);
	ASSERT_EQ(0, spm_allow_user_set(self->nid, 1));
	ASSERT_EQ(0, spm_mbind(p, LEN, MPOL_BIND, &m, MAXNODE, 0)) {
		TH_LOG("mbind: %s", strerror(errno));
	}
	spm_snap(&a);
	spm_fill(p, LEN, 5);
	spm_snap(&b);
	ASSERT_EQ((long)(LEN / 4096), spm_count_pages(p, LEN, counts));
	spm_counts_log("shared mapping", counts);
	EXPECT_EQ((long)(LEN / 4096), counts[self->nid]);
	EXPECT_LE((long long)(LEN >> 10) - 512, SNAP_DELTA(&a, &b, self->nid, K_SHMEM));
	EXPECT_EQ(0, spm_verify(p, LEN, 5));
	munmap(p, LEN);
	close(fd);
}

/*
 * ... and so is the writer's task policy, as on any node: shared memory
 * written by a task bound to a permitted SPM node lands there.
 */
TEST_F(pol, tmpfs_write_under_task_bind_follows_it)
{
	unsigned long m = spm_nodes_mask(self->nid, -1, -1);
	long counts[SPM_MAXN + 1];
	struct spm_snap a, b;
	int fd = memfd_create("spm-write", 0);
	char *buf = malloc(SZ_1M), *p, *anon;
	size_t off;

	ASSERT_LE(0, fd);
	ASSERT_NE(NULL, buf);
	memset(buf, 0x5a, SZ_1M);
	ASSERT_EQ(0, spm_allow_user_set(self->nid, 1));
	ASSERT_EQ(0, spm_set_mempolicy(MPOL_BIND, &m, MAXNODE));
	spm_snap(&a);
	for (off = 0; off < LEN; off += SZ_1M)
		ASSERT_EQ((ssize_t)SZ_1M, pwrite(fd, buf, SZ_1M, off));
	/* The same task's anonymous memory does follow its policy. */
	anon = spm_anon(SZ_1M);
	ASSERT_NE(NULL, anon);
	spm_fill(anon, SZ_1M, 6);
	spm_snap(&b);
	spm_set_mempolicy(MPOL_DEFAULT, NULL, 0);

	spm_snap_log("tmpfs write under bind", &a, &b, 1LL << self->nid);
	EXPECT_LE((long long)(LEN >> 10) - 512,
		  SNAP_DELTA(&a, &b, self->nid, K_SHMEM));
	p = mmap(NULL, LEN, PROT_READ, MAP_SHARED, fd, 0);
	ASSERT_NE(MAP_FAILED, p);
	for (off = 0; off < LEN; off += 4096)
		(void)*(volatile char *)(p + off);
	ASSERT_EQ((long)(LEN / 4096), spm_count_pages(p, LEN, counts));
	spm_counts_log("tmpfs file", counts);
	EXPECT_EQ((long)(LEN / 4096), counts[self->nid]);
	ASSERT_EQ((long)(SZ_1M / 4096), spm_count_pages(anon, SZ_1M, counts));
	EXPECT_EQ((long)(SZ_1M / 4096), counts[self->nid]);
	munmap(p, LEN);
	close(fd);
	free(buf);
}

/* ------------------------------------------------- the other modes */

FIXTURE(modes) {
	int nid;
	int saved;
};

FIXTURE_VARIANT(modes) {
	int allow_user;
};

FIXTURE_VARIANT_ADD(modes, allow_user_0) { .allow_user = 0 };
FIXTURE_VARIANT_ADD(modes, allow_user_1) { .allow_user = 1 };

FIXTURE_SETUP(modes)
{
	long long spm = spm_test_nodes();

	self->nid = SPM_NODE;
	ASSERT_LT(0, spm);
	ASSERT_TRUE(spm & (1LL << self->nid));
	self->saved = spm_allow_user_get(self->nid);
	ASSERT_LE(0, self->saved);
	ASSERT_EQ(0, spm_allow_user_set(self->nid, variant->allow_user));
}

FIXTURE_TEARDOWN(modes)
{
	spm_set_mempolicy(MPOL_DEFAULT, NULL, 0);
	spm_allow_user_set(self->nid, self->saved);
}

/*
 * mode over {0, 1, SPM}: accepted, the stored nodemask has no SPM node,
 * and the pages land on SysRAM only (both nodes for interleaving).
 */
static void spread_mode(struct __test_metadata *_metadata, int nid, int mode,
			int use_mbind)
{
	unsigned long m = spm_nodes_mask(0, 1, nid), got = 0;
	long counts[SPM_MAXN + 1];
	struct spm_snap a, b;
	int got_mode = -1;
	char *p;

	if (use_mbind) {
		p = spm_anon(LEN);
		ASSERT_NE(NULL, p);
		ASSERT_EQ(0, spm_mbind(p, LEN, mode, &m, MAXNODE, 0)) {
			TH_LOG("mbind mode %d: %s", mode, strerror(errno));
		}
		ASSERT_EQ(0, spm_get_mempolicy(&got_mode, &got, MAXNODE, p, MPOL_F_ADDR));
	} else {
		ASSERT_EQ(0, spm_set_mempolicy(mode, &m, MAXNODE)) {
			TH_LOG("set_mempolicy mode %d: %s", mode, strerror(errno));
		}
		ASSERT_EQ(0, spm_get_mempolicy(&got_mode, &got, MAXNODE, NULL, 0));
		p = spm_anon(LEN);
		ASSERT_NE(NULL, p);
	}
	EXPECT_EQ(mode, got_mode);
	EXPECT_EQ(0, got & (1UL << nid)) {
		TH_LOG("stored nodemask %#lx still names node %d", got, nid);
	}
	spm_snap(&a);
	spm_fill(p, LEN, 7);
	spm_snap(&b);
	if (!use_mbind)
		spm_set_mempolicy(MPOL_DEFAULT, NULL, 0);
	ASSERT_EQ((long)(LEN / 4096), spm_count_pages(p, LEN, counts));
	spm_counts_log("spread", counts);
	EXPECT_EQ(0, counts[nid]);
	EXPECT_EQ(0, SNAP_DELTA(&a, &b, nid, K_ANON));
	EXPECT_EQ((long)(LEN / 4096), counts[0] + counts[1]);
	if (mode == MPOL_INTERLEAVE || mode == MPOL_WEIGHTED_INTERLEAVE) {
		/* Interleaving over 0 and 1: each gets about half. */
		EXPECT_LE((long)(LEN / 4096 / 4), counts[0]);
		EXPECT_LE((long)(LEN / 4096 / 4), counts[1]);
	}
	EXPECT_EQ(0, spm_verify(p, LEN, 7));
	munmap(p, LEN);
}

TEST_F(modes, interleave_mbind_skips_spm)
{
	spread_mode(_metadata, self->nid, MPOL_INTERLEAVE, 1);
}

TEST_F(modes, interleave_set_mempolicy_skips_spm)
{
	spread_mode(_metadata, self->nid, MPOL_INTERLEAVE, 0);
}

TEST_F(modes, weighted_interleave_skips_spm)
{
	spread_mode(_metadata, self->nid, MPOL_WEIGHTED_INTERLEAVE, 0);
}

TEST_F(modes, weighted_interleave_mbind_skips_spm)
{
	spread_mode(_metadata, self->nid, MPOL_WEIGHTED_INTERLEAVE, 1);
}

TEST_F(modes, preferred_many_skips_spm)
{
	spread_mode(_metadata, self->nid, MPOL_PREFERRED_MANY, 0);
}

TEST_F(modes, preferred_many_mbind_skips_spm)
{
	spread_mode(_metadata, self->nid, MPOL_PREFERRED_MANY, 1);
}

/* MPOL_PREFERRED over {1, SPM}: the SPM node is dropped, node 1 preferred. */
TEST_F(modes, preferred_with_spm_in_mask_prefers_sysram)
{
	unsigned long m = spm_nodes_mask(1, self->nid, -1), got = 0;
	long counts[SPM_MAXN + 1];
	int mode = -1;
	char *p;

	ASSERT_EQ(0, spm_set_mempolicy(MPOL_PREFERRED, &m, MAXNODE)) {
		TH_LOG("set_mempolicy: %s", strerror(errno));
	}
	ASSERT_EQ(0, spm_get_mempolicy(&mode, &got, MAXNODE, NULL, 0));
	EXPECT_EQ(MPOL_PREFERRED, mode);
	EXPECT_EQ(0, got & (1UL << self->nid));
	p = spm_anon(LEN);
	ASSERT_NE(NULL, p);
	spm_fill(p, LEN, 8);
	spm_set_mempolicy(MPOL_DEFAULT, NULL, 0);
	ASSERT_EQ((long)(LEN / 4096), spm_count_pages(p, LEN, counts));
	EXPECT_EQ(0, counts[self->nid]);
	munmap(p, LEN);
}

/* Nothing left once SPM nodes are removed: EINVAL, nothing installed. */
TEST_F(modes, spm_only_nodemask_is_einval)
{
	static const int modes_[] = {
		MPOL_INTERLEAVE, MPOL_PREFERRED, MPOL_PREFERRED_MANY,
		MPOL_WEIGHTED_INTERLEAVE,
	};
	unsigned long m = spm_nodes_mask(self->nid, -1, -1);
	unsigned int i;
	int mode = -1;
	char *p = spm_anon(LEN);

	ASSERT_NE(NULL, p);
	for (i = 0; i < sizeof(modes_) / sizeof(modes_[0]); i++) {
		EXPECT_EQ(-1, spm_set_mempolicy(modes_[i], &m, MAXNODE)) {
			TH_LOG("set_mempolicy mode %d", modes_[i]);
		}
		EXPECT_EQ(EINVAL, errno) {
			TH_LOG("set_mempolicy mode %d: %s", modes_[i], strerror(errno));
		}
		EXPECT_EQ(-1, spm_mbind(p, LEN, modes_[i], &m, MAXNODE, 0));
		EXPECT_EQ(EINVAL, errno) {
			TH_LOG("mbind mode %d: %s", modes_[i], strerror(errno));
		}
	}
	ASSERT_EQ(0, spm_get_mempolicy(&mode, NULL, 0, NULL, 0));
	EXPECT_EQ(MPOL_DEFAULT, mode);
	ASSERT_EQ(0, spm_get_mempolicy(&mode, NULL, 0, p, MPOL_F_ADDR));
	EXPECT_EQ(MPOL_DEFAULT, mode);
	munmap(p, LEN);
}

/* Bad input: nodes without memory and nodes that do not exist. */
TEST_F(modes, bind_to_nodes_without_memory_is_einval)
{
	long long mem = spm_sysfs_nodemask("has_memory");
	char *p = spm_anon(LEN);
	unsigned long m;
	int nid, tried = 0;

	ASSERT_NE(NULL, p);
	ASSERT_LT(0, mem);
	for (nid = 3; nid < 8; nid++) {
		if (mem & (1LL << nid))
			continue;
		m = 1UL << nid;
		tried++;
		EXPECT_EQ(-1, spm_mbind(p, LEN, MPOL_BIND, &m, MAXNODE, 0));
		EXPECT_EQ(EINVAL, errno) {
			TH_LOG("mbind node %d: %s", nid, strerror(errno));
		}
		EXPECT_EQ(-1, spm_set_mempolicy(MPOL_BIND, &m, MAXNODE));
		EXPECT_EQ(EINVAL, errno);
	}
	EXPECT_LT(0, tried);
	munmap(p, LEN);
}

TEST_HARNESS_MAIN
