// SPDX-License-Identifier: GPL-2.0
/*
 * A legitimate write never fails with promote (contract 2).
 *
 * Pages on write-fenced node 2 (fence_action=promote) that something else
 * also references cannot be migrated, but the write must still succeed on
 * a SysRAM copy:
 *
 *   vmsplice(2) (no SPLICE_F_GIFT) puts the pages into a pipe, which holds
 *   a reference to each; the process then writes them: no SIGBUS, the data
 *   is right, the pages are on SysRAM, and the pipe still yields the
 *   content from before the write (the pipe keeps the node 2 page, the
 *   write went to the copy)
 *   after fork() the child maps the same pages; the parent writes: it gets
 *   SysRAM copies with its data, the child still reads the old data from
 *   node 2; the child's own write then succeeds too
 */
#include <sys/uio.h>
#include "kselftest_harness.h"
#include "fence.h"

#define NPAGES	8
#define LEN	(NPAGES * PAGE)
#define SEED	0x50
#define MARK	0x5000000000000000ULL

FIXTURE(refs) {
	char *p;
};

FIXTURE_SETUP(refs)
{
	self->p = NULL;
	owner_unload();
	ASSERT_EQ(0, spm_pin_cpu(0));
	ASSERT_EQ(0, owner_load(FENCE_CAPS " fence_action=promote"));
	self->p = fenced_private(LEN, SEED);
	ASSERT_NE(NULL, self->p);
	ASSERT_EQ(0, wf_reset());
}

FIXTURE_TEARDOWN(refs)
{
	if (self->p)
		munmap(self->p, LEN);
	owner_unload();
}

TEST_F(refs, vmsplice_then_write)
{
	struct iovec iov = { .iov_base = self->p, .iov_len = LEN };
	char *copy = malloc(LEN), *out = malloc(LEN);
	long counts[SPM_MAXN + 1];
	unsigned long done;
	ssize_t n, got = 0;
	int pfd[2], bus;

	ASSERT_NE(NULL, copy);
	ASSERT_NE(NULL, out);
	memcpy(copy, self->p, LEN);
	ASSERT_EQ(0, pipe(pfd));
	ASSERT_GE(fcntl(pfd[0], F_SETPIPE_SZ, 2 * LEN), (int)LEN);
	ASSERT_EQ((ssize_t)LEN, vmsplice(pfd[1], &iov, 1, 0)) {
		TH_LOG("vmsplice: %s", strerror(errno));
	}
	/* Still on node 2, read-only, with the pipe's references. */
	ASSERT_EQ(NPAGES, spm_pages_on_node(self->p, LEN, SPM_NID));

	bus = guard_mark_pages(self->p, NPAGES, MARK, &done);
	EXPECT_EQ(0, bus) {
		TH_LOG("SIGBUS writing page %lu of %d pages a pipe references (write_fault %lld)",
		       done, NPAGES, wf());
	}
	if (!bus) {
		EXPECT_EQ(0, bad_marks(self->p, NPAGES, MARK));
		EXPECT_EQ(0, spm_verify(self->p, LEN, SEED));
		ASSERT_EQ(NPAGES, node_counts(self->p, LEN, counts));
		spm_counts_log("written pages", counts);
		EXPECT_EQ(NPAGES, spm_count_in(counts, spm_sysram_nodes()));
		EXPECT_LE(1, wf());
	}
	/* What the pipe yields: the content at vmsplice time. */
	while (got < (ssize_t)LEN && (n = read(pfd[0], out + got, LEN - got)) > 0)
		got += n;
	EXPECT_EQ((ssize_t)LEN, got);
	if (got == (ssize_t)LEN) {
		unsigned long i, same = 0, newer = 0;

		for (i = 0; i < NPAGES; i++) {
			same += !memcmp(out + i * PAGE, copy + i * PAGE, PAGE);
			newer += !memcmp(out + i * PAGE, self->p + i * PAGE, PAGE);
		}
		printf("# the pipe yields %lu of %d pages as at vmsplice time",
		       same, NPAGES);
		if (!bus)
			printf(", %lu as written after it", newer);
		printf("\n");
		EXPECT_EQ(NPAGES, same);
	}
	close(pfd[0]);
	close(pfd[1]);
	free(copy);
	free(out);
}

TEST_F(refs, fork_then_parent_writes)
{
	int go[2], back[2], *res, status, bus;
	long counts[SPM_MAXN + 1];
	unsigned long done;
	pid_t pid;
	char c;

	res = mmap(NULL, PAGE, PROT_READ | PROT_WRITE,
		   MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, res);
	memset(res, 0xff, 64);
	ASSERT_EQ(0, pipe(go));
	ASSERT_EQ(0, pipe(back));
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		close(go[1]);
		close(back[0]);
		if (read(go[0], &c, 1) != 1)
			_exit(1);
		/* After the parent's writes: the old data, where? */
		res[0] = spm_verify(self->p, LEN, SEED);
		res[1] = spm_pages_on_node(self->p, LEN, SPM_NID);
		/* None of the parent's marks. */
		res[2] = bad_marks(self->p, NPAGES, MARK) == NPAGES ? 0 : 1;
		/* The child's own write must work too. */
		res[3] = guard_mark_pages(self->p, NPAGES, MARK + 100, &done);
		res[4] = res[3] ? -1 : bad_marks(self->p, NPAGES, MARK + 100);
		res[5] = spm_verify(self->p, LEN, SEED);
		if (write(back[1], "d", 1) != 1)
			_exit(1);
		_exit(0);
	}
	close(go[0]);
	close(back[1]);

	bus = guard_mark_pages(self->p, NPAGES, MARK, &done);
	EXPECT_EQ(0, bus) {
		TH_LOG("SIGBUS in the parent writing page %lu of pages shared with a child",
		       done);
	}
	ASSERT_EQ(1, write(go[1], "g", 1));
	ASSERT_EQ(1, read(back[0], &c, 1));
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_EQ(0, status);

	ASSERT_EQ(NPAGES, node_counts(self->p, LEN, counts));
	spm_counts_log("parent after writing", counts);
	printf("# child: old data bad pages %d, on node 2 %d of %d, own write %s, bad marks %d\n",
	       res[0], res[1], NPAGES, res[3] ? "SIGBUS" : "ok", res[4]);
	if (!bus) {
		EXPECT_EQ(0, bad_marks(self->p, NPAGES, MARK));
		EXPECT_EQ(NPAGES, spm_count_in(counts, spm_sysram_nodes()));
	}
	EXPECT_EQ(0, spm_verify(self->p, LEN, SEED));
	/* The child read its old data... */
	EXPECT_EQ(0, res[0]);
	EXPECT_EQ(0, res[2]) {
		TH_LOG("the child sees the parent's writes");
	}
	/* ...from node 2: the parent's write copied, it did not move the child's page. */
	EXPECT_EQ(NPAGES, res[1]) {
		TH_LOG("only %d of the child's %d pages are still on node 2",
		       res[1], NPAGES);
	}
	EXPECT_EQ(0, res[3]) {
		TH_LOG("SIGBUS in the child writing its pages");
	}
	EXPECT_EQ(0, res[4]);
	EXPECT_EQ(0, res[5]);
	munmap(res, PAGE);
}

TEST_HARNESS_MAIN
