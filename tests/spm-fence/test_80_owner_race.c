// SPDX-License-Identifier: GPL-2.0
/*
 * A write racing the owner going away must not SIGBUS (contract 6).
 *
 * Two writers (one per CPU) map, bind to node 2, touch and write private
 * pages in a loop: first-touch writes, then move_pages() onto node 2 and
 * writes again, checking the data each time.  A third keeps 256 pages on
 * node 2 and write-protects (mprotect RO, RW) and writes them in a loop:
 * many cheap fenced faults.  Meanwhile a loader loads spm_test_owner
 * (user, migration, write_fence; promote and allow on alternate loads)
 * and unloads it again, over and over, setting allow_user=1 while the node
 * is unowned so that binding and moving keep working.  With no owner the
 * node is not fenced, so the writes simply land.  No write may raise
 * SIGBUS, and the data must stay intact.
 */
#include "kselftest_harness.h"
#include "fence.h"

#define NPAGES	64
#define LEN	(NPAGES * PAGE)
#define SECONDS	12
#define MARK	0x8000000000000000ULL

struct race {
	volatile int stop;
	long iterations, sigbus, bad, on2_written, mbind_failed, move_failed;
	long loads, unloads, load_failed, callbacks, dense_rounds;
	int last_load_err;
};

static struct race *R;
static sigjmp_buf w_jmp;

static void w_bus(int sig)
{
	__atomic_add_fetch(&R->sigbus, 1, __ATOMIC_RELAXED);
	siglongjmp(w_jmp, 1);
}

/*
 * One round: map, bind to node 2, first-touch fill (onto node 2, or
 * promoted), move everything onto node 2, write every page again (each a
 * fenced write while the owner is there), check, unmap.
 */
static void writer(int cpu)
{
	unsigned long mask = 1UL << SPM_NID;
	struct sigaction sa = { .sa_handler = w_bus };
	static char *volatile p;
	static volatile uint64_t it;

	spm_pin_cpu(cpu);
	sigemptyset(&sa.sa_mask);
	sigaction(SIGBUS, &sa, NULL);
	for (it = cpu << 24; !R->stop; it++) {
		unsigned long i;
		long on2;

		p = mmap(NULL, LEN, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (p == MAP_FAILED)
			_exit(3);
		if (sigsetjmp(w_jmp, 1)) {
			/* A SIGBUS: counted; drop this round. */
			munmap(p, LEN);
			continue;
		}
		madvise(p, LEN, MADV_NOHUGEPAGE);
		if (spm_mbind(p, LEN, MPOL_BIND, &mask, SPM_MAXN, 0))
			__atomic_add_fetch(&R->mbind_failed, 1, __ATOMIC_RELAXED);
		spm_fill(p, LEN, it);
		if (spm_verify(p, LEN, it))
			__atomic_add_fetch(&R->bad, 1, __ATOMIC_RELAXED);
		on2 = move_to(p, LEN, SPM_NID);
		if (on2 < 0)
			__atomic_add_fetch(&R->move_failed, 1, __ATOMIC_RELAXED);
		else
			__atomic_add_fetch(&R->on2_written, on2, __ATOMIC_RELAXED);
		for (i = 0; i < NPAGES; i++)
			*word1(p, i) = MARK + it + i;
		for (i = 0; i < NPAGES; i++)
			if (*word1(p, i) != MARK + it + i) {
				__atomic_add_fetch(&R->bad, 1, __ATOMIC_RELAXED);
				break;
			}
		if (spm_verify(p, LEN, it))
			__atomic_add_fetch(&R->bad, 1, __ATOMIC_RELAXED);
		munmap(p, LEN);
		__atomic_add_fetch(&R->iterations, 1, __ATOMIC_RELAXED);
	}
	_exit(0);
}

/*
 * Many cheap fenced writes: 256 pages kept on node 2, write-protected
 * again with mprotect(PROT_READ) then PROT_READ|PROT_WRITE (which keeps
 * them fenced while an owner is there) and written, round after round.
 * While the owner answers allow these faults are cheap, so many are in
 * flight when it goes away.
 */
#define DENSE	256

static void dense_writer(int cpu)
{
	struct sigaction sa = { .sa_handler = w_bus };
	static char *volatile p;
	static volatile uint64_t it;
	unsigned long i;

	spm_pin_cpu(cpu);
	sigemptyset(&sa.sa_mask);
	sigaction(SIGBUS, &sa, NULL);
	p = mmap(NULL, DENSE * PAGE, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		_exit(3);
	madvise(p, DENSE * PAGE, MADV_NOHUGEPAGE);
	spm_fill(p, DENSE * PAGE, 7);
	for (it = 1; !R->stop; it++) {
		long on2;

		if (sigsetjmp(w_jmp, 1))
			continue;	/* a SIGBUS: counted */
		on2 = move_to(p, DENSE * PAGE, SPM_NID);
		if (on2 > 0)
			__atomic_add_fetch(&R->on2_written, on2, __ATOMIC_RELAXED);
		mprotect(p, DENSE * PAGE, PROT_READ);
		mprotect(p, DENSE * PAGE, PROT_READ | PROT_WRITE);
		for (i = 0; i < DENSE; i++)
			*word1(p, i) = MARK + it + i;
		for (i = 0; i < DENSE; i++)
			if (*word1(p, i) != MARK + it + i) {
				__atomic_add_fetch(&R->bad, 1, __ATOMIC_RELAXED);
				break;
			}
		if (spm_verify(p, DENSE * PAGE, 7))
			__atomic_add_fetch(&R->bad, 1, __ATOMIC_RELAXED);
		__atomic_add_fetch(&R->dense_rounds, 1, __ATOMIC_RELAXED);
	}
	_exit(0);
}

static void loader(void)
{
	long long n;
	int ret;

	spm_pin_cpu(0);
	while (!R->stop) {
		/* Every other owner answers allow: cheap fenced faults. */
		ret = owner_load(R->loads % 2 ?
				 FENCE_CAPS " fence_action=allow" :
				 FENCE_CAPS " fence_action=promote");
		if (ret) {
			R->load_failed++;
			R->last_load_err = ret;
		} else {
			R->loads++;
		}
		usleep(5000 + R->loads % 7 * 2000);
		n = wf();
		if (n > 0)
			R->callbacks += n;
		if (!owner_unload())
			R->unloads++;
		spm_allow_user_set(SPM_NID, 1);
		usleep(1000 + R->loads % 5 * 1000);
	}
	_exit(0);
}

FIXTURE(race) {
	int unused;
};

FIXTURE_SETUP(race)
{
	owner_unload();
}

FIXTURE_TEARDOWN(race)
{
	owner_unload();
	spm_allow_user_set(SPM_NID, 0);
}

TEST_F_TIMEOUT(race, write_while_owner_comes_and_goes, 90)
{
	pid_t w0, w1, d, l;
	int s0, s1, ds, ls;

	owner_unload();
	R = mmap(NULL, sizeof(*R), PROT_READ | PROT_WRITE,
		 MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, R);
	memset(R, 0, sizeof(*R));
	ASSERT_EQ(0, spm_allow_user_set(SPM_NID, 1));

	l = fork();
	ASSERT_LE(0, l);
	if (l == 0)
		loader();
	w1 = fork();
	ASSERT_LE(0, w1);
	if (w1 == 0)
		writer(1);
	w0 = fork();
	ASSERT_LE(0, w0);
	if (w0 == 0)
		writer(0);
	d = fork();
	ASSERT_LE(0, d);
	if (d == 0)
		dense_writer(1);
	/*
	 * At least SECONDS, and until the owner came and went 10 times (a
	 * debug kernel loads modules slowly: 7.5 s a cycle there), but no
	 * more than 4 x SECONDS, times the runner's time-out scale.
	 */
	sleep(SECONDS);
	for (int t = SECONDS; t < 4 * SECONDS * spm_timeout_scale() &&
	     R->loads < 10; t++)
		sleep(1);
	R->stop = 1;
	ASSERT_EQ(w0, waitpid(w0, &s0, 0));
	ASSERT_EQ(w1, waitpid(w1, &s1, 0));
	ASSERT_EQ(d, waitpid(d, &ds, 0));
	ASSERT_EQ(l, waitpid(l, &ls, 0));
	owner_unload();
	spm_allow_user_set(SPM_NID, 0);

	printf("# %ld rounds, %ld SIGBUS, %ld bad, %ld pages moved to node 2 and written, mbind failed %ld, move_pages failed %ld\n",
	       R->iterations, R->sigbus, R->bad, R->on2_written,
	       R->mbind_failed, R->move_failed);
	printf("# dense writer: %ld rounds of %d writes\n", R->dense_rounds,
	       DENSE);
	printf("# owner loaded %ld times, unloaded %ld, load failed %ld (last %d); write_fault called %ld times\n",
	       R->loads, R->unloads, R->load_failed, R->last_load_err,
	       R->callbacks);
	EXPECT_EQ(0, s0) {
		TH_LOG("writer 0 ended with status %#x", s0);
	}
	EXPECT_EQ(0, s1) {
		TH_LOG("writer 1 ended with status %#x", s1);
	}
	EXPECT_EQ(0, ds) {
		TH_LOG("the dense writer ended with status %#x", ds);
	}
	EXPECT_EQ(0, ls);
	EXPECT_EQ(0, R->sigbus) {
		TH_LOG("%ld writes raised SIGBUS while the owner came and went",
		       R->sigbus);
	}
	EXPECT_EQ(0, R->bad);
	/* The race was run: the owner cycled and fenced writes happened. */
	EXPECT_LE(10, R->loads);
	EXPECT_LE(20, R->iterations);
	EXPECT_LT(0, R->on2_written);
	EXPECT_LT(0, R->callbacks);
}

TEST_HARNESS_MAIN
