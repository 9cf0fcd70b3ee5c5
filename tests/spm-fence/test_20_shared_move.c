// SPDX-License-Identifier: GPL-2.0
/*
 * Shared memory cannot be moved onto a write-fenced node (contract 1b).
 *
 * Node 2 owned with user, migration and write_fence.  move_pages() of a
 * page of a memfd, a MAP_SHARED|MAP_ANONYMOUS range, a SysV shm segment or
 * a tmpfs file (each mapped once, so migratable) to node 2 reports -EPERM
 * in that page's status and the page stays where it was, while a private
 * anonymous page moved in the same call reaches node 2 (the call works).
 * mbind(MPOL_BIND {2}, MPOL_MF_MOVE) of the populated range fails with
 * EPERM or leaves its pages off node 2, and migrate_pages() of a process
 * that maps it leaves its pages off node 2 as well, while the process's
 * private memory does move (and, as a control, the shared pages do move
 * from node 0 to node 1).
 */
#include <sys/ipc.h>
#include <sys/shm.h>
#include "kselftest_harness.h"
#include "fence.h"

#define NPAGES	8
#define LEN	(NPAGES * PAGE)
#define SEED	0x20

enum kind { K_MEMFD, K_SHARED_ANON, K_SYSV, K_TMPFS };

static const char *const kind_name[] = {
	[K_MEMFD] = "memfd", [K_SHARED_ANON] = "MAP_SHARED|MAP_ANONYMOUS",
	[K_SYSV] = "SysV shm", [K_TMPFS] = "tmpfs file",
};

FIXTURE(move) {
	char *shared;
	char *priv;
	int fd;
	int shmid;
};

FIXTURE_VARIANT(move) {
	enum kind kind;
};

FIXTURE_VARIANT_ADD(move, memfd) { .kind = K_MEMFD };
FIXTURE_VARIANT_ADD(move, shared_anonymous) { .kind = K_SHARED_ANON };
FIXTURE_VARIANT_ADD(move, sysv_shm) { .kind = K_SYSV };
FIXTURE_VARIANT_ADD(move, tmpfs_file) { .kind = K_TMPFS };

FIXTURE_SETUP(move)
{
	self->shared = NULL;
	self->priv = NULL;
	self->fd = -1;
	self->shmid = -1;
	owner_unload();
	ASSERT_EQ(0, spm_pin_cpu(0));
	ASSERT_EQ(0, owner_load(FENCE_CAPS " fence_action=promote"));

	switch (variant->kind) {
	case K_MEMFD:
		self->fd = memfd_create("spm-fence", MFD_CLOEXEC);
		break;
	case K_TMPFS:
		self->fd = open("/dev/shm/spm-fence-move",
				O_RDWR | O_CREAT | O_TRUNC, 0600);
		break;
	default:
		break;
	}
	if (variant->kind == K_MEMFD || variant->kind == K_TMPFS) {
		ASSERT_LE(0, self->fd);
		ASSERT_EQ(0, ftruncate(self->fd, LEN));
		self->shared = mmap(NULL, LEN, PROT_READ | PROT_WRITE,
				    MAP_SHARED, self->fd, 0);
	} else if (variant->kind == K_SHARED_ANON) {
		self->shared = mmap(NULL, LEN, PROT_READ | PROT_WRITE,
				    MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	} else {
		self->shmid = shmget(IPC_PRIVATE, LEN, IPC_CREAT | 0600);
		ASSERT_LE(0, self->shmid);
		self->shared = shmat(self->shmid, NULL, 0);
		if (self->shared == (void *)-1)
			self->shared = MAP_FAILED;
	}
	ASSERT_NE(MAP_FAILED, self->shared) {
		self->shared = NULL;
	}
	/* Populated on SysRAM (CPU 0: node 0). */
	spm_fill(self->shared, LEN, SEED);
	self->priv = mmap(NULL, LEN, PROT_READ | PROT_WRITE,
			  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, self->priv) {
		self->priv = NULL;
	}
	madvise(self->priv, LEN, MADV_NOHUGEPAGE);
	spm_fill(self->priv, LEN, SEED + 1);
}

FIXTURE_TEARDOWN(move)
{
	if (self->shmid >= 0) {
		shmdt(self->shared);
		shmctl(self->shmid, IPC_RMID, NULL);
	} else if (self->shared) {
		munmap(self->shared, LEN);
	}
	if (self->priv)
		munmap(self->priv, LEN);
	if (self->fd >= 0)
		close(self->fd);
	unlink("/dev/shm/spm-fence-move");
	owner_unload();
}

TEST_F(move, move_pages_is_eperm)
{
	void *pages[2 * NPAGES];
	int nodes[2 * NPAGES], status[2 * NPAGES], before[NPAGES], i;
	int not_eperm = 0, moved = 0;
	long rc;

	for (i = 0; i < NPAGES; i++) {
		pages[i] = self->shared + i * PAGE;
		pages[NPAGES + i] = self->priv + i * PAGE;
		before[i] = spm_node_of(pages[i]);
		ASSERT_TRUE(is_sysram(before[i]));
	}
	for (i = 0; i < 2 * NPAGES; i++) {
		nodes[i] = SPM_NID;
		status[i] = 12345;
	}
	rc = spm_move_pages(0, 2 * NPAGES, pages, nodes, status, MPOL_MF_MOVE);
	printf("# move_pages(%s pages + private pages -> 2) = %ld%s%s\n",
	       kind_name[variant->kind], rc, rc < 0 ? ", " : "",
	       rc < 0 ? strerror(errno) : "");
	printf("# status:");
	for (i = 0; i < 2 * NPAGES; i++)
		printf(" %d", status[i]);
	printf("\n");
	ASSERT_LE(0, rc);
	for (i = 0; i < NPAGES; i++) {
		not_eperm += status[i] != -EPERM;
		moved += spm_node_of(pages[i]) != before[i];
	}
	EXPECT_EQ(0, not_eperm) {
		TH_LOG("%d of %d %s pages: status not -EPERM",
		       not_eperm, NPAGES, kind_name[variant->kind]);
	}
	EXPECT_EQ(0, moved) {
		TH_LOG("%d of %d %s pages moved (now %d of them on node 2)",
		       moved, NPAGES, kind_name[variant->kind],
		       (int)spm_pages_on_node(self->shared, LEN, SPM_NID));
	}
	/* The private pages of the same call did move. */
	EXPECT_EQ(NPAGES, spm_pages_on_node(self->priv, LEN, SPM_NID));
	EXPECT_EQ(0, spm_verify(self->shared, LEN, SEED));
	EXPECT_EQ(0, spm_verify(self->priv, LEN, SEED + 1));
}

TEST_F(move, mbind_move_leaves_shared_pages)
{
	unsigned long mask = 1UL << SPM_NID;
	long counts[SPM_MAXN + 1];
	long rc;
	int err;

	rc = spm_mbind(self->shared, LEN, MPOL_BIND, &mask, SPM_MAXN,
		       MPOL_MF_MOVE);
	err = rc ? errno : 0;
	printf("# mbind(%s, MPOL_BIND {2}, MPOL_MF_MOVE) = %ld%s%s\n",
	       kind_name[variant->kind], rc, rc ? ", " : "",
	       rc ? strerror(err) : "");
	if (rc) {
		EXPECT_EQ(EPERM, err);
	}
	ASSERT_EQ(NPAGES, node_counts(self->shared, LEN, counts));
	spm_counts_log("after mbind MPOL_MF_MOVE", counts);
	EXPECT_EQ(0, counts[SPM_NID]) {
		TH_LOG("mbind(MPOL_MF_MOVE) put %ld %s pages on write-fenced node 2",
		       counts[SPM_NID], kind_name[variant->kind]);
	}
	EXPECT_EQ(0, spm_verify(self->shared, LEN, SEED));
}

/*
 * migrate_pages() of a child that maps the shared range once (the parent
 * unmaps it first) and has private pages.  Control: from node 0 to node 1
 * the shared pages do move (migrate_pages moves them at all).  Then from
 * nodes 0-1 to node 2: the private pages go to node 2, the shared ones
 * stay on SysRAM.
 */
struct child_view {
	int shared_on[SPM_MAXN + 1];
	int priv_on2, shared_bad, priv_bad;
};

static void child_report(FIXTURE_DATA(move) *self, struct child_view *v)
{
	long counts[SPM_MAXN + 1];
	int i;

	node_counts(self->shared, LEN, counts);
	for (i = 0; i <= SPM_MAXN; i++)
		v->shared_on[i] = counts[i];
	v->priv_on2 = spm_pages_on_node(self->priv, LEN, SPM_NID);
	v->shared_bad = spm_verify(self->shared, LEN, SEED);
	v->priv_bad = spm_verify(self->priv, LEN, SEED + 1);
}

TEST_F(move, migrate_pages_leaves_shared_pages)
{
	unsigned long n0 = 1UL << 0, n1 = 1UL << 1, n01 = n0 | n1;
	unsigned long n2 = 1UL << SPM_NID;
	int go[2], done[2], status;
	struct child_view *v;
	char c;
	pid_t pid;
	long rc;

	v = mmap(NULL, 2 * sizeof(*v), PROT_READ | PROT_WRITE,
		 MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, v);
	ASSERT_EQ(0, pipe(go));
	ASSERT_EQ(0, pipe(done));
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		int k = 0;

		close(go[1]);
		close(done[0]);
		/*
		 * fork() copies no page table entries of shared mappings:
		 * map the shared pages in this child (reading them).
		 */
		if (spm_verify(self->shared, LEN, SEED) ||
		    write(done[1], "r", 1) != 1)
			_exit(1);
		/* 'q': report into v[k++], then ack; EOF: exit. */
		while (read(go[0], &c, 1) == 1 && k < 2) {
			child_report(self, &v[k++]);
			if (write(done[1], "d", 1) != 1)
				_exit(1);
		}
		_exit(0);
	}
	close(go[0]);
	close(done[1]);
	ASSERT_EQ(1, read(done[0], &c, 1));
	/* Only the child maps both ranges now. */
	munmap(self->shared, LEN);
	munmap(self->priv, LEN);
	self->shared = NULL;
	self->priv = NULL;

	rc = spm_migrate_pages(pid, SPM_MAXN, &n0, &n1);
	printf("# control: migrate_pages(child, 0 -> 1) = %ld\n", rc);
	ASSERT_EQ(1, write(go[1], "q", 1));
	ASSERT_EQ(1, read(done[0], &c, 1));

	rc = spm_migrate_pages(pid, SPM_MAXN, &n01, &n2);
	printf("# migrate_pages(child, 0-1 -> 2) = %ld%s%s\n", rc,
	       rc < 0 ? ", " : "", rc < 0 ? strerror(errno) : "");
	ASSERT_EQ(1, write(go[1], "q", 1));
	ASSERT_EQ(1, read(done[0], &c, 1));
	close(go[1]);
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_EQ(0, status);

	printf("# child after 0 -> 1: %s pages on node 0: %d, node 1: %d, absent: %d of %d\n",
	       kind_name[variant->kind], v[0].shared_on[0], v[0].shared_on[1],
	       v[0].shared_on[SPM_MAXN], NPAGES);
	printf("# child after 0-1 -> 2: %s pages on node 2: %d, on node 1: %d; private pages on node 2: %d of %d\n",
	       kind_name[variant->kind], v[1].shared_on[SPM_NID],
	       v[1].shared_on[1], v[1].priv_on2, NPAGES);
	/* The control: shared pages do move between SysRAM nodes. */
	ASSERT_EQ(NPAGES, v[0].shared_on[1]);
	EXPECT_EQ(0, v[1].shared_on[SPM_NID]) {
		TH_LOG("migrate_pages put %d %s pages on write-fenced node 2",
		       v[1].shared_on[SPM_NID], kind_name[variant->kind]);
	}
	EXPECT_EQ(NPAGES, v[1].shared_on[1]);
	EXPECT_EQ(NPAGES, v[1].priv_on2);
	EXPECT_EQ(0, v[1].shared_bad);
	EXPECT_EQ(0, v[1].priv_bad);
}

TEST_HARNESS_MAIN
