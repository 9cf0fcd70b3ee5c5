// SPDX-License-Identifier: GPL-2.0
/*
 * Rule 4: shared memory follows a permitted task MPOL_BIND as on a stock
 * kernel. A task whose policy is MPOL_BIND {2} (allow_user 1 on node 2)
 * gets on node 2: a /dev/shm file it writes, a memfd it writes and one it
 * faults through a mapping, SysV shm and MAP_SHARED|MAP_ANONYMOUS pages.
 * (Regular page cache is not required to follow and is not tested.)
 * When node 2 does not permit user placement (withdrawn after the policy
 * was installed), the same objects land on SysRAM.
 */
#include <sys/ipc.h>
#include <sys/shm.h>
#include "kselftest_harness.h"
#include "spm_perm.h"

#define LEN (8UL << 20)
#define NP(len) ((long)((len) / 4096))

FIXTURE(shm) {
	struct perm_saved saved;
	char path[128];
	int shmid;
};

FIXTURE_VARIANT(shm) {
	int permitted;	/* allow_user on node 2 at allocation time */
};

FIXTURE_VARIANT_ADD(shm, permitted)  { .permitted = 1 };
FIXTURE_VARIANT_ADD(shm, withdrawn)  { .permitted = 0 };

FIXTURE_SETUP(shm)
{
	unsigned long m = 1UL << PERM_A;

	self->path[0] = '\0';
	self->shmid = -1;
	perm_save(&self->saved);
	ASSERT_LE(0, self->saved.a);
	ASSERT_EQ(0, perm_allow(PERM_A, 1));
	ASSERT_EQ(0, spm_set_mempolicy(MPOL_BIND, &m, PERM_MAXNODE)) {
		TH_LOG("set_mempolicy(BIND {2}): %s", strerror(errno));
	}
	if (!variant->permitted)
		ASSERT_EQ(0, perm_allow(PERM_A, 0));
}

FIXTURE_TEARDOWN(shm)
{
	spm_set_mempolicy(MPOL_DEFAULT, NULL, 0);
	if (self->path[0])
		unlink(self->path);
	if (self->shmid >= 0)
		shmctl(self->shmid, IPC_RMID, NULL);
	perm_restore(&self->saved);
}

/* Assert where the pages of a mapping of the object landed. */
static void check(struct __test_metadata *_metadata,
		  const FIXTURE_VARIANT(shm) *variant, const char *what,
		  char *p, size_t len)
{
	long counts[SPM_MAXN + 1];

	ASSERT_EQ(NP(len), spm_count_pages(p, len, counts));
	TH_LOG("%s under BIND {2}, node 2 %s: %s", what,
	       variant->permitted ? "permitted" : "withdrawn", perm_counts_str(counts));
	if (variant->permitted) {
		EXPECT_EQ(NP(len), counts[PERM_A]);
	} else {
		EXPECT_EQ(0, counts[PERM_A]);
		EXPECT_EQ(NP(len), counts[0] + counts[1]);
	}
}

/* Write len bytes with write(2), 1 MB at a time. */
static int write_all(int fd, size_t len)
{
	static char buf[1 << 20];
	size_t off;

	memset(buf, 0x5a, sizeof(buf));
	for (off = 0; off < len; off += sizeof(buf))
		if (pwrite(fd, buf, sizeof(buf), off) != (ssize_t)sizeof(buf))
			return -1;
	return 0;
}

static char *map_read(int fd, size_t len)
{
	char *p = mmap(NULL, len, PROT_READ, MAP_SHARED, fd, 0);
	size_t off;

	if (p == MAP_FAILED)
		return NULL;
	for (off = 0; off < len; off += 4096)
		(void)*(volatile char *)(p + off);
	return p;
}

TEST_F(shm, dev_shm_file_write)
{
	int fd;
	char *p;

	snprintf(self->path, sizeof(self->path), "/dev/shm/spm-perm-%d", getpid());
	fd = open(self->path, O_CREAT | O_RDWR | O_TRUNC, 0600);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, write_all(fd, LEN));
	p = map_read(fd, LEN);
	ASSERT_NE(NULL, p);
	check(_metadata, variant, "/dev/shm file (write)", p, LEN);
	close(fd);
}

TEST_F(shm, memfd_write)
{
	int fd = memfd_create("spm-perm-w", 0);
	char *p;

	ASSERT_LE(0, fd);
	ASSERT_EQ(0, write_all(fd, LEN));
	p = map_read(fd, LEN);
	ASSERT_NE(NULL, p);
	check(_metadata, variant, "memfd (write)", p, LEN);
	close(fd);
}

TEST_F(shm, memfd_mmap_fault)
{
	int fd = memfd_create("spm-perm-m", 0);
	char *p;

	ASSERT_LE(0, fd);
	ASSERT_EQ(0, ftruncate(fd, LEN));
	p = mmap(NULL, LEN, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	ASSERT_NE(MAP_FAILED, p);
	spm_fill(p, LEN, 41);
	check(_metadata, variant, "memfd (mmap fault)", p, LEN);
	EXPECT_EQ(0, spm_verify(p, LEN, 41));
	close(fd);
}

TEST_F(shm, sysv_shm)
{
	char *p;

	self->shmid = shmget(IPC_PRIVATE, LEN, IPC_CREAT | 0600);
	ASSERT_LE(0, self->shmid) {
		TH_LOG("shmget: %s", strerror(errno));
	}
	p = shmat(self->shmid, NULL, 0);
	ASSERT_NE((void *)-1, p);
	spm_fill(p, LEN, 42);
	check(_metadata, variant, "SysV shm", p, LEN);
	shmdt(p);
}

TEST_F(shm, shared_anonymous)
{
	char *p = mmap(NULL, LEN, PROT_READ | PROT_WRITE,
		       MAP_SHARED | MAP_ANONYMOUS, -1, 0);

	ASSERT_NE(MAP_FAILED, p);
	spm_fill(p, LEN, 43);
	check(_metadata, variant, "MAP_SHARED|MAP_ANONYMOUS", p, LEN);
	munmap(p, LEN);
}

TEST_HARNESS_MAIN
