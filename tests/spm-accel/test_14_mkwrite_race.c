// SPDX-License-Identifier: GPL-2.0
/*
 * A device-owned page never has a writable CPU mapping, also when a CPU
 * write through a read-only entry (->pfn_mkwrite) races with hand-overs
 * and CPU reads of the same page (SPM_ACCEL_IOC_HANDOVER with
 * SPM_ACCEL_CPU_READ, SPM_ACCEL_IOC_TO_CPU).
 *
 * The race, with the ->pfn_mkwrite that only took the page back: writer A
 * faults on the read-only entry of page P, the driver takes P back and
 * returns; before the core makes A's entry writable (it checks only that
 * the entry is the one A faulted on), P is handed over again (its entries
 * zapped) and a CPU read maps it read-only again, an entry identical to
 * the old one; the core then makes it writable: a device-owned page the
 * CPU writes without faulting, and without taking it back.
 *
 * Stress: writer threads store to every page without pause, and the main
 * thread hands the range over with CPU
 * reads allowed (now and then giving it back with TO_CPU first, which
 * keeps read-only entries on CPU-owned pages), reads it at once, and then
 * checks each page twice with the device's CHECKSUM.  Only the main
 * thread hands pages over: a page whose two checksums both succeeded was
 * device-owned all the time between them, so a CPU write between them
 * was a write without a fault (the bug), and the checksums differ.  At
 * the end, with the writers stopped, every page still device-owned must
 * fault on a CPU write (takebacks grows, and the device loses the page).
 *
 * The race window is a few instructions of the faulting thread (between
 * ->pfn_mkwrite and the core's page table lock), which the hand-over and
 * the read must both fit into: the stress rarely hits it (a non-preempt
 * kernel: only an interrupt, or the host descheduling the vCPU, widens
 * it); it runs for STRESS_SECONDS.
 */
#include <pthread.h>
#include <sched.h>
#include <sys/mman.h>
#include <time.h>
#include "kselftest_harness.h"
#include "spm.h"
#include "spm_accel.h"

#define NPAGES		4
#define WRITERS		2
#define STRESS_SECONDS	8

static long ps;
static volatile int stop;

struct stress {
	char *p;
	int fd;
	int id;
};

static void *writer(void *arg)
{
	struct stress *s = arg;
	uint64_t v = (uint64_t)s->id << 56;
	int i;

	while (!stop) {
		for (i = 0; i < NPAGES; i++)
			*(volatile uint64_t *)(s->p + i * ps + 8 * s->id) = ++v;
		if (!(v & 1023))
			sched_yield();
	}
	return NULL;
}

/* The device's checksum of page i: 0, or -errno (EACCES: CPU-owned). */
static int page_sum(int fd, int i, uint64_t *sum)
{
	struct spm_accel_op op;
	int ret = spm_accel_exec(fd, &op, SPM_ACCEL_CMD_CHECKSUM, 0,
				 (uint64_t)i * ps, ps, 0, NULL);

	*sum = op.result;
	return ret;
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

TEST(no_writable_entry_on_device_pages)
{
	long long takebacks0 = spm_accel_counter("takebacks"), takebacks;
	struct stress ws[WRITERS];
	pthread_t wt[WRITERS];
	uint64_t s1[NPAGES], s2[NPAGES];
	int r1[NPAGES], r2[NPAGES];
	long rounds = 0, both = 0, bad = 0, final_bad = 0, handovers = 0;
	double end;
	size_t len;
	char *p;
	int fd, i, w;

	ps = spm_page_size();
	len = NPAGES * ps;
	fd = spm_accel_open();
	ASSERT_LE(0, fd) TH_LOG("open %s: %s", SPM_ACCEL_DEVICE,
				 strerror(-fd));
	p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	ASSERT_NE(MAP_FAILED, p);
	memset(p, 0, len);

	for (w = 0; w < WRITERS; w++) {
		ws[w] = (struct stress){ .p = p, .fd = fd, .id = w };
		ASSERT_EQ(0, pthread_create(&wt[w], NULL, writer, &ws[w]));
	}

	end = now() + STRESS_SECONDS;
	while (now() < end) {
		rounds++;
		if (!(rounds % 4)) {
			/* CPU-owned pages keep their read-only entries. */
			EXPECT_EQ(0, spm_accel_range(fd, SPM_ACCEL_IOC_TO_CPU,
						     0, len));
		}
		if (spm_accel_handover(fd, 0, len, SPM_ACCEL_CPU_READ)) {
			EXPECT_EQ(0, -errno);
			break;
		}
		handovers++;
		/* Read-only entries again, at once. */
		for (i = 0; i < NPAGES; i++)
			(void)*(volatile uint64_t *)(p + i * ps + 1024);
		for (i = 0; i < NPAGES; i++)
			r1[i] = page_sum(fd, i, &s1[i]);
		sched_yield();
		for (i = 0; i < NPAGES; i++)
			r2[i] = page_sum(fd, i, &s2[i]);
		for (i = 0; i < NPAGES; i++) {
			if (r1[i] || r2[i])
				continue;
			both++;
			if (s1[i] != s2[i]) {
				if (bad < 5)
					TH_LOG("round %ld: page %d changed while device-owned",
					       rounds, i);
				bad++;
			}
		}
	}
	stop = 1;
	for (w = 0; w < WRITERS; w++)
		pthread_join(wt[w], NULL);

	/*
	 * The writers are gone: each page the device still owns must fault
	 * on a CPU write, which takes it back (the checksum fails then).
	 */
	for (i = 0; i < NPAGES; i++) {
		uint64_t before, after;

		if (page_sum(fd, i, &before))
			continue;
		takebacks = spm_accel_counter("takebacks");
		EXPECT_EQ(0, spm_sigbus(p + i * ps + 2048, 1));
		if (page_sum(fd, i, &after) == 0 ||
		    spm_accel_counter("takebacks") == takebacks) {
			TH_LOG("page %d: a CPU write to the device-owned page did not fault",
			       i);
			final_bad++;
		}
	}
	takebacks = spm_accel_counter("takebacks") - takebacks0;
	TH_LOG("%ld rounds (%ld hand-overs), %ld pages checked device-owned twice, %lld takebacks; %ld device-owned pages written without a fault, %ld at the end",
	       rounds, handovers, both, takebacks, bad, final_bad);
	EXPECT_EQ(0, bad);
	EXPECT_EQ(0, final_bad);
	/* The stress did stress: writes took pages back, many times. */
	EXPECT_LT(50, takebacks);
	EXPECT_LT(50, handovers);
	munmap(p, len);
	close(fd);
}

TEST_HARNESS_MAIN
