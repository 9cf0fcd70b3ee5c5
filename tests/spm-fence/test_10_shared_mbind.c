// SPDX-License-Identifier: GPL-2.0
/*
 * A write-fenced node holds only private anonymous folios (contract 1a).
 *
 * A write through a shared mapping of page cache, or write(2) into it, is
 * not a fault on a private page: the fence cannot see it.  So with node 2
 * owned with user placement and write_fence, mbind(MPOL_BIND {2}) of
 *
 *   a MAP_SHARED|MAP_ANONYMOUS range, a memfd mapping, a SysV shm segment,
 *   a tmpfs file mapping (MAP_SHARED, and MAP_PRIVATE: the page cache
 *   under a private file mapping follows the same shared policy)
 *
 * either fails with EPERM, or is accepted and no page of the range is on
 * node 2 after it was written (through the mapping and with pwrite(2)).
 * Whatever happens, a page on node 2 is never written without a
 * write_fault call.  A hugetlb mapping, private or not, is not fenced
 * either: mbind() naming node 2 fails with EPERM, and node 2's own
 * nr_hugepages cannot grow (EPERM).  The same holds for a task policy (set_mempolicy) and a
 * tmpfs mount policy (mpol=bind:2) placing page cache.
 */
#include <sys/ipc.h>
#include <sys/shm.h>
#include <sys/vfs.h>
#include "kselftest_harness.h"
#include "fence.h"

#define NPAGES	32
#define LEN	(NPAGES * PAGE)
#define SEED	0x10
#define MNT	"/run/spm-fence-mnt"

FIXTURE(shared) {
	char *p;
	int fd;
	int shmid;
};

FIXTURE_SETUP(shared)
{
	self->p = NULL;
	self->fd = -1;
	self->shmid = -1;
	owner_unload();
	ASSERT_EQ(0, spm_pin_cpu(0));
	ASSERT_EQ(0, owner_load(FENCE_CAPS " fence_action=promote"));
	ASSERT_EQ(0, wf_reset());
}

FIXTURE_TEARDOWN(shared)
{
	if (self->shmid >= 0) {
		shmdt(self->p);
		shmctl(self->shmid, IPC_RMID, NULL);
	} else if (self->p) {
		munmap(self->p, LEN);
	}
	if (self->fd >= 0)
		close(self->fd);
	unlink("/dev/shm/spm-fence");
	umount2(MNT, MNT_DETACH);
	owner_unload();
}

/* Read one byte of every page, so that page cache pages get mapped. */
static void read_touch(struct __test_metadata *_metadata, const void *p,
		       size_t len)
{
	EXPECT_EQ(0, guard_read_touch(p, len)) {
		TH_LOG("SIGBUS reading the range");
	}
}

/*
 * mbind(MPOL_BIND {2}) of [p, p + LEN): EPERM, or accepted and then no page
 * on node 2 after the first half is written through the mapping and the
 * second half with pwrite(2) on fd (fd < 0: the mapping for both halves).
 */
static void check_shared(struct __test_metadata *_metadata, char *p, int fd,
			 const char *what)
{
	unsigned long mask = 1UL << SPM_NID;
	long counts[SPM_MAXN + 1];
	long rc = spm_mbind(p, LEN, MPOL_BIND, &mask, SPM_MAXN, 0);
	int err = rc ? errno : 0;
	size_t half = fd >= 0 ? LEN / 2 : LEN, i;
	int bus;

	printf("# %s: mbind(MPOL_BIND {2}) = %ld%s%s\n", what, rc,
	       rc ? ", errno " : "", rc ? strerror(err) : "");
	if (rc) {
		/* Refused: only EPERM is the contract's answer... */
		EXPECT_EQ(EPERM, err);
		/* ...and the range still works, off node 2. */
		EXPECT_EQ(0, guard_fill(p, LEN, SEED));
		EXPECT_EQ(0, spm_verify(p, LEN, SEED));
		EXPECT_EQ(0, spm_pages_on_node(p, LEN, SPM_NID));
		return;
	}
	bus = guard_fill(p, half, SEED);
	EXPECT_EQ(0, bus) {
		TH_LOG("%s: SIGBUS writing through the mapping after mbind was accepted",
		       what);
	}
	if (fd >= 0) {
		char *buf = malloc(LEN - half);

		ASSERT_NE(NULL, buf);
		/* The pattern of pages NPAGES/2.. as spm_fill writes it. */
		memset(buf, 0, LEN - half);
		for (i = 0; i < (LEN - half) / PAGE; i++) {
			uint64_t *w = (uint64_t *)(buf + i * PAGE);

			w[0] = spm_pattern(SEED, half / PAGE + i, 0);
			w[PAGE / 16] = spm_pattern(SEED, half / PAGE + i, 1);
		}
		EXPECT_EQ((ssize_t)(LEN - half),
			  pwrite(fd, buf, LEN - half, half)) {
			TH_LOG("%s: pwrite: %s", what, strerror(errno));
		}
		free(buf);
	}
	read_touch(_metadata, p, LEN);
	ASSERT_EQ(NPAGES, node_counts(p, LEN, counts));
	spm_counts_log(what, counts);
	EXPECT_EQ(0, counts[SPM_NID]) {
		TH_LOG("%s: mbind accepted and %ld of %d written pages are on write-fenced node 2",
		       what, counts[SPM_NID], NPAGES);
	}
	EXPECT_GE(wf(), counts[SPM_NID]) {
		TH_LOG("%s: %ld pages on node 2 were written, write_fault called %lld times",
		       what, counts[SPM_NID], wf());
	}
	EXPECT_EQ(0, spm_verify(p, LEN, SEED));
}

TEST_F(shared, shared_anonymous)
{
	self->p = mmap(NULL, LEN, PROT_READ | PROT_WRITE,
		       MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, self->p) {
		self->p = NULL;
	}
	check_shared(_metadata, self->p, -1, "MAP_SHARED|MAP_ANONYMOUS");
}

TEST_F(shared, memfd)
{
	self->fd = memfd_create("spm-fence", MFD_CLOEXEC);
	ASSERT_LE(0, self->fd);
	ASSERT_EQ(0, ftruncate(self->fd, LEN));
	self->p = mmap(NULL, LEN, PROT_READ | PROT_WRITE, MAP_SHARED,
		       self->fd, 0);
	ASSERT_NE(MAP_FAILED, self->p) {
		self->p = NULL;
	}
	check_shared(_metadata, self->p, self->fd, "memfd");
}

TEST_F(shared, sysv_shm)
{
	self->shmid = shmget(IPC_PRIVATE, LEN, IPC_CREAT | 0600);
	ASSERT_LE(0, self->shmid);
	self->p = shmat(self->shmid, NULL, 0);
	ASSERT_NE((void *)-1, self->p) {
		self->p = NULL;
	}
	check_shared(_metadata, self->p, -1, "SysV shm");
}

TEST_F(shared, tmpfs_file_shared)
{
	struct statfs sf;

	self->fd = open("/dev/shm/spm-fence", O_RDWR | O_CREAT | O_TRUNC, 0600);
	ASSERT_LE(0, self->fd);
	ASSERT_EQ(0, fstatfs(self->fd, &sf));
	ASSERT_EQ(0x01021994, sf.f_type);	/* TMPFS_MAGIC */
	ASSERT_EQ(0, ftruncate(self->fd, LEN));
	self->p = mmap(NULL, LEN, PROT_READ | PROT_WRITE, MAP_SHARED,
		       self->fd, 0);
	ASSERT_NE(MAP_FAILED, self->p) {
		self->p = NULL;
	}
	check_shared(_metadata, self->p, self->fd, "tmpfs file, MAP_SHARED");
}

/*
 * MAP_PRIVATE of a tmpfs file: reading it brings page cache in under the
 * file's shared policy, which mbind of the private mapping sets.  The page
 * cache must not land on node 2 (pwrite would write it in place); private
 * copies made by writing the mapping may.
 */
TEST_F(shared, tmpfs_file_private_page_cache)
{
	unsigned long mask = 1UL << SPM_NID;
	long counts[SPM_MAXN + 1];
	char *view, *buf;
	long rc;
	int err;

	self->fd = open("/dev/shm/spm-fence", O_RDWR | O_CREAT | O_TRUNC, 0600);
	ASSERT_LE(0, self->fd);
	ASSERT_EQ(0, ftruncate(self->fd, LEN));
	self->p = mmap(NULL, LEN, PROT_READ | PROT_WRITE, MAP_PRIVATE,
		       self->fd, 0);
	ASSERT_NE(MAP_FAILED, self->p) {
		self->p = NULL;
	}
	rc = spm_mbind(self->p, LEN, MPOL_BIND, &mask, SPM_MAXN, 0);
	err = rc ? errno : 0;
	printf("# tmpfs file, MAP_PRIVATE: mbind(MPOL_BIND {2}) = %ld%s%s\n",
	       rc, rc ? ", errno " : "", rc ? strerror(err) : "");
	if (rc) {
		EXPECT_EQ(EPERM, err);
		return;
	}
	/* Read faults: page cache comes in under the policy. */
	read_touch(_metadata, self->p, LEN);
	/* Then the file is written with pwrite(2): no fault at all. */
	buf = malloc(LEN);
	ASSERT_NE(NULL, buf);
	spm_fill(buf, LEN, SEED);
	EXPECT_EQ((ssize_t)LEN, pwrite(self->fd, buf, LEN, 0));
	free(buf);
	/* Where is the page cache?  A second, shared view of the file. */
	view = mmap(NULL, LEN, PROT_READ, MAP_SHARED, self->fd, 0);
	ASSERT_NE(MAP_FAILED, view);
	read_touch(_metadata, view, LEN);
	ASSERT_EQ(NPAGES, node_counts(view, LEN, counts));
	spm_counts_log("page cache of the privately mapped file", counts);
	EXPECT_EQ(0, counts[SPM_NID]) {
		TH_LOG("%ld of %d page cache pages are on write-fenced node 2 and were written by pwrite(2), write_fault %lld",
		       counts[SPM_NID], NPAGES, wf());
	}
	EXPECT_EQ(0, spm_verify(view, LEN, SEED));
	/* Writing the private mapping makes private copies: those may stay. */
	EXPECT_EQ(0, guard_fill(self->p, LEN, SEED + 1));
	EXPECT_EQ(0, spm_verify(self->p, LEN, SEED + 1));
	EXPECT_EQ(0, spm_verify(view, LEN, SEED));
	munmap(view, LEN);
}

/*
 * set_mempolicy(MPOL_BIND {2}) in a child, which then fills a memfd with
 * pwrite(2) and through a shared mapping: refused with EPERM, or no page of
 * the memfd on node 2 (ENOMEM from the write is tolerated and logged).
 */
TEST_F(shared, task_policy_page_cache)
{
	long counts[SPM_MAXN + 1];
	int *res, status;
	pid_t pid;

	self->fd = memfd_create("spm-fence-task", MFD_CLOEXEC);
	ASSERT_LE(0, self->fd);
	ASSERT_EQ(0, ftruncate(self->fd, LEN));
	res = mmap(NULL, PAGE, PROT_READ | PROT_WRITE,
		   MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, res);
	res[0] = res[1] = res[2] = -1;

	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		unsigned long mask = 1UL << SPM_NID;
		static char buf[LEN / 2];
		char *m;

		if (spm_set_mempolicy(MPOL_BIND, &mask, SPM_MAXN)) {
			res[0] = errno;
			_exit(0);
		}
		res[0] = 0;
		memset(buf, 0x5a, sizeof(buf));
		res[1] = pwrite(self->fd, buf, sizeof(buf), 0) < 0 ? errno : 0;
		m = mmap(NULL, LEN, PROT_READ | PROT_WRITE, MAP_SHARED,
			 self->fd, 0);
		if (m != MAP_FAILED) {
			fence_guard_install();
			res[2] = guard_fill(m + LEN / 2, LEN / 2, SEED);
		}
		_exit(0);
	}
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	printf("# child: set_mempolicy %d (%s), pwrite errno %d, fill through the mapping %d, exit status %#x\n",
	       res[0], res[0] > 0 ? strerror(res[0]) : "ok", res[1], res[2],
	       status);
	if (res[0] > 0) {
		EXPECT_EQ(EPERM, res[0]);
		return;
	}
	self->p = mmap(NULL, LEN, PROT_READ, MAP_SHARED, self->fd, 0);
	ASSERT_NE(MAP_FAILED, self->p) {
		self->p = NULL;
	}
	read_touch(_metadata, self->p, LEN);
	ASSERT_EQ(NPAGES, node_counts(self->p, LEN, counts));
	spm_counts_log("memfd written under a task policy bound to node 2", counts);
	EXPECT_EQ(0, counts[SPM_NID]) {
		TH_LOG("task policy: %ld page cache pages on write-fenced node 2",
		       counts[SPM_NID]);
	}
}

/*
 * A tmpfs mount with mpol=bind:2 while node 2 is fenced: the mount is
 * refused, or the files' pages are not placed on node 2.
 */
TEST_F(shared, tmpfs_mount_policy)
{
	long counts[SPM_MAXN + 1];
	char *buf;
	int rc;

	mkdir(MNT, 0700);
	rc = mount("tmpfs", MNT, "tmpfs", 0, "size=16m,mpol=bind:2");
	printf("# mount -o mpol=bind:2: %s\n", rc ? strerror(errno) : "ok");
	if (rc)
		return;		/* refused: nothing can land there */
	self->fd = open(MNT "/f", O_RDWR | O_CREAT | O_TRUNC, 0600);
	ASSERT_LE(0, self->fd);
	ASSERT_EQ(0, ftruncate(self->fd, LEN));
	buf = malloc(LEN / 2);
	ASSERT_NE(NULL, buf);
	memset(buf, 0x77, LEN / 2);
	rc = pwrite(self->fd, buf, LEN / 2, 0);
	printf("# pwrite into the file: %d%s%s\n", rc, rc < 0 ? " " : "",
	       rc < 0 ? strerror(errno) : "");
	/* Accepted, so it must work. */
	EXPECT_EQ((int)(LEN / 2), rc);
	free(buf);
	self->p = mmap(NULL, LEN, PROT_READ | PROT_WRITE, MAP_SHARED,
		       self->fd, 0);
	ASSERT_NE(MAP_FAILED, self->p) {
		self->p = NULL;
	}
	rc = guard_fill(self->p + LEN / 2, LEN / 2, SEED);
	printf("# writing through a shared mapping: %s\n",
	       rc ? "SIGBUS" : "ok");
	EXPECT_EQ(0, rc);
	read_touch(_metadata, self->p, LEN);
	ASSERT_EQ(NPAGES, node_counts(self->p, LEN, counts));
	spm_counts_log("file on a tmpfs mounted with mpol=bind:2", counts);
	EXPECT_EQ(0, counts[SPM_NID]) {
		TH_LOG("tmpfs mpol=bind:2: %ld page cache pages on write-fenced node 2, write_fault %lld",
		       counts[SPM_NID], wf());
	}
	munmap(self->p, LEN);
	self->p = NULL;
	close(self->fd);
	self->fd = -1;
	umount2(MNT, MNT_DETACH);
}

TEST_F(shared, hugetlb)
{
	const char *node_nr = "/sys/devices/system/node/node2/hugepages/"
			      "hugepages-2048kB/nr_hugepages";
	const char *overcommit = "/proc/sys/vm/nr_overcommit_hugepages";
	unsigned long mask = 1UL << SPM_NID;
	size_t len = 2UL << 20;
	long rc;
	char *p;

	if (access(node_nr, F_OK))
		SKIP(return, "no 2 MiB hugetlb pages (CONFIG_HUGETLBFS)");
	EXPECT_EQ(-EPERM, spm_write_file(node_nr, "1"));
	EXPECT_EQ(0, spm_read_ll(node_nr));
	ASSERT_EQ(0, spm_write_file(overcommit, "1"));
	p = mmap(NULL, len, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS | 0x40000 /* MAP_HUGETLB */, -1, 0);
	ASSERT_NE(MAP_FAILED, p) {
		spm_write_file(overcommit, "0");
	}
	rc = spm_mbind(p, len, MPOL_BIND, &mask, SPM_MAXN, 0);
	EXPECT_EQ(-1, rc);
	EXPECT_EQ(EPERM, rc ? errno : 0);
	memset(p, 0x5a, len);
	EXPECT_NE(SPM_NID, spm_node_of(p));
	EXPECT_EQ(0x5a, p[len - 1]);
	munmap(p, len);
	spm_write_file(overcommit, "0");
}

TEST_HARNESS_MAIN
