// SPDX-License-Identifier: GPL-2.0
/*
 * Device-owned memory the CPU may still read (SPM_ACCEL_IOC_HANDOVER with
 * SPM_ACCEL_CPU_READ), next to the no-access mode of TO_DEVICE:
 *
 *   CPU reads of a device-owned range map it read-only and take nothing
 *   back: the file's device_pages and the device's takebacks do not move,
 *   and device commands still run on the range
 *   the CPU and the device share the pages: what the device writes, the
 *   CPU reads at once, without faulting again
 *   a CPU write faults and takes that page, and only it, back for the CPU
 *   (also through a read-only entry, also after mprotect(), also through
 *   /proc/self/mem); the device is refused the page (EACCES) until it is
 *   handed over again, and nothing written is lost
 *   without the flag (HANDOVER flags 0, TO_DEVICE) the CPU gets SIGBUS on
 *   reads and writes as before, and handing over again switches the mode
 *   bad flags and reserved fields: EINVAL, nothing changes hands
 */
#include <sys/mman.h>
#include "kselftest_harness.h"
#include "spm.h"
#include "spm_accel.h"

#define NODE	2
#define NPAGES	32
#define FILL	0x1122334455667788ULL

static long ps;

FIXTURE(cpu_read) {
	int fd;
	char *p;
	size_t len;
};

FIXTURE_SETUP(cpu_read)
{
	ps = spm_page_size();
	self->len = NPAGES * ps;
	self->fd = spm_accel_open_map(self->len, &self->p);
	ASSERT_LE(0, self->fd) TH_LOG("open and map %s: %s", SPM_ACCEL_DEVICE,
				       strerror(-self->fd));
}

FIXTURE_TEARDOWN(cpu_read)
{
	munmap(self->p, self->len);
	close(self->fd);
}

/* Read every page of [p, p + len): the number that raised SIGBUS. */
static int read_sigbus(char *p, size_t len)
{
	size_t off;
	int hit = 0;

	for (off = 0; off < len; off += ps)
		hit += spm_sigbus(p + off, 0);
	return hit;
}

static uint64_t device_checksum(struct __test_metadata *_metadata, int fd,
				uint64_t off, uint64_t len)
{
	struct spm_accel_op op;

	EXPECT_EQ(0, spm_accel_exec(fd, &op, SPM_ACCEL_CMD_CHECKSUM, 0, off,
				    len, 0, NULL));
	return op.result;
}

TEST_F(cpu_read, reads_keep_device_ownership)
{
	long long takebacks0 = spm_accel_counter("takebacks");
	struct spm_accel_info a, b;
	uint64_t sum;

	spm_accel_pattern(self->p, self->len, 12);
	sum = spm_fnv64(SPM_FNV64_OFFSET, self->p, 16 * ps);
	ASSERT_EQ(0, spm_accel_handover(self->fd, 0, 16 * ps,
					SPM_ACCEL_CPU_READ));
	ASSERT_EQ(0, spm_accel_info(self->fd, &a));
	EXPECT_EQ(16, a.device_pages);

	/* Each page faults once, read-only; the data is there. */
	EXPECT_EQ(0, read_sigbus(self->p, 16 * ps));
	EXPECT_EQ(sum, spm_fnv64(SPM_FNV64_OFFSET, self->p, 16 * ps));
	ASSERT_EQ(0, spm_accel_info(self->fd, &b));
	EXPECT_EQ(a.faults + 16, b.faults);
	/* Nothing was taken back: the device still owns and uses the range. */
	EXPECT_EQ(16, b.device_pages);
	EXPECT_EQ(takebacks0, spm_accel_counter("takebacks"));
	EXPECT_EQ(sum, device_checksum(_metadata, self->fd, 0, 16 * ps));
	/* Reading again: mapped, no fault. */
	EXPECT_EQ(sum, spm_fnv64(SPM_FNV64_OFFSET, self->p, 16 * ps));
	ASSERT_EQ(0, spm_accel_info(self->fd, &a));
	EXPECT_EQ(b.faults, a.faults);
	EXPECT_EQ(16, a.device_pages);
	EXPECT_EQ(16, spm_accel_pages_on_node(self->fd, 0, 16 * ps, NODE));
}

TEST_F(cpu_read, device_writes_seen_by_cpu_reads)
{
	struct spm_accel_info a, b;
	struct spm_accel_op op;
	uint64_t *w = (uint64_t *)self->p;
	size_t i;

	spm_accel_pattern(self->p, self->len, 13);
	ASSERT_EQ(0, spm_accel_handover(self->fd, 0, self->len,
					SPM_ACCEL_CPU_READ));
	/* The CPU maps the range read-only... */
	EXPECT_EQ(0, read_sigbus(self->p, self->len));
	ASSERT_EQ(0, spm_accel_info(self->fd, &a));

	/* ... the device writes it: the CPU sees it at once. */
	ASSERT_EQ(0, spm_accel_exec(self->fd, &op, SPM_ACCEL_CMD_FILL, 0, 0,
				    self->len, FILL, NULL));
	EXPECT_EQ(NPAGES, op.node_pages[NODE]);
	EXPECT_TRUE(spm_accel_all_words(self->p, self->len, FILL));
	ASSERT_EQ(0, spm_accel_exec(self->fd, &op, SPM_ACCEL_CMD_XOR, 0, 0,
				    self->len, ~0ULL, NULL));
	for (i = 0; i < self->len / 8; i++)
		ASSERT_EQ(~FILL, w[i]) TH_LOG("word %zu", i);
	EXPECT_EQ(spm_fnv64(SPM_FNV64_OFFSET, self->p, self->len),
		  device_checksum(_metadata, self->fd, 0, self->len));
	/* Without a fault on the way, and without taking anything back. */
	ASSERT_EQ(0, spm_accel_info(self->fd, &b));
	EXPECT_EQ(a.faults, b.faults);
	EXPECT_EQ(NPAGES, b.device_pages);
}

TEST_F(cpu_read, write_takes_only_that_page_back)
{
	long long takebacks0 = spm_accel_counter("takebacks");
	struct spm_accel_info a, b;
	struct spm_accel_op op;
	uint64_t sum;

	spm_accel_pattern(self->p, self->len, 14);
	ASSERT_EQ(0, spm_accel_handover(self->fd, 0, 16 * ps,
					SPM_ACCEL_CPU_READ));
	ASSERT_EQ(0, spm_accel_exec(self->fd, &op, SPM_ACCEL_CMD_XOR, 0, 0,
				    16 * ps, 0xff, NULL));
	/* Page 3 is mapped read-only first; page 5 is not mapped at all. */
	EXPECT_EQ(0, spm_sigbus(self->p + 3 * ps, 0));
	ASSERT_EQ(0, spm_accel_info(self->fd, &a));

	EXPECT_EQ(0, spm_sigbus(self->p + 3 * ps + 40, 1));
	EXPECT_EQ(0, spm_sigbus(self->p + 5 * ps + 80, 1));
	ASSERT_EQ(0, spm_accel_info(self->fd, &b));
	EXPECT_EQ(14, b.device_pages);
	EXPECT_EQ(takebacks0 + 2, spm_accel_counter("takebacks"));
	EXPECT_EQ(a.faults + 2, b.faults);
	/* The written bytes are there, next to the device's data. */
	EXPECT_EQ(0x5a, self->p[3 * ps + 40]);
	EXPECT_EQ(0x5a, self->p[5 * ps + 80]);
	/* Written pages stay writable: no more faults. */
	self->p[3 * ps] = 1;
	self->p[5 * ps] = 2;
	ASSERT_EQ(0, spm_accel_info(self->fd, &a));
	EXPECT_EQ(b.faults, a.faults);

	/* The device lost those pages, and only those. */
	EXPECT_EQ(-EACCES, spm_accel_exec(self->fd, &op, SPM_ACCEL_CMD_CHECKSUM,
					  0, 0, 16 * ps, 0, NULL));
	EXPECT_EQ(-EACCES, spm_accel_exec(self->fd, &op, SPM_ACCEL_CMD_CHECKSUM,
					  0, 3 * ps, ps, 0, NULL));
	EXPECT_EQ(spm_fnv64(SPM_FNV64_OFFSET, self->p, 3 * ps),
		  device_checksum(_metadata, self->fd, 0, 3 * ps));
	EXPECT_EQ(spm_fnv64(SPM_FNV64_OFFSET, self->p + 6 * ps, 10 * ps),
		  device_checksum(_metadata, self->fd, 6 * ps, 10 * ps));

	/* Handed over again: the device has the CPU's writes. */
	sum = spm_fnv64(SPM_FNV64_OFFSET, self->p, 16 * ps);
	ASSERT_EQ(0, spm_accel_handover(self->fd, 0, 16 * ps,
					SPM_ACCEL_CPU_READ));
	ASSERT_EQ(0, spm_accel_info(self->fd, &a));
	EXPECT_EQ(16, a.device_pages);
	EXPECT_EQ(sum, device_checksum(_metadata, self->fd, 0, 16 * ps));

	/* A write through an entry made read-only by mprotect() also faults. */
	EXPECT_EQ(0, read_sigbus(self->p, 16 * ps));
	ASSERT_EQ(0, mprotect(self->p, 16 * ps, PROT_READ));
	ASSERT_EQ(0, mprotect(self->p, 16 * ps, PROT_READ | PROT_WRITE));
	self->p[7 * ps] = 3;
	ASSERT_EQ(0, spm_accel_info(self->fd, &b));
	EXPECT_EQ(15, b.device_pages);
	EXPECT_EQ(takebacks0 + 3, spm_accel_counter("takebacks"));
	EXPECT_EQ(-EACCES, spm_accel_exec(self->fd, &op, SPM_ACCEL_CMD_CHECKSUM,
					  0, 7 * ps, ps, 0, NULL));
	EXPECT_EQ(16, spm_accel_pages_on_node(self->fd, 0, 16 * ps, NODE));
}

TEST_F(cpu_read, proc_self_mem_follows_the_mode)
{
	int mfd = open("/proc/self/mem", O_RDWR | O_CLOEXEC);
	off_t at = (off_t)(uintptr_t)self->p;
	struct spm_accel_info info;
	char buf[64];

	ASSERT_LE(0, mfd);
	spm_accel_pattern(self->p, 4 * ps, 15);
	ASSERT_EQ(0, spm_accel_handover(self->fd, 0, 4 * ps,
					SPM_ACCEL_CPU_READ));
	/* A read: the data, the device keeps the page. */
	ASSERT_EQ(sizeof(buf), pread(mfd, buf, sizeof(buf), at + ps));
	EXPECT_EQ(0, memcmp(buf, self->p + ps, sizeof(buf)));
	ASSERT_EQ(0, spm_accel_info(self->fd, &info));
	EXPECT_EQ(4, info.device_pages);
	/* A write: the page comes back to the CPU, as a CPU write would. */
	ASSERT_EQ(4, pwrite(mfd, "spm!", 4, at + 2 * ps + 8));
	EXPECT_EQ(0, memcmp(self->p + 2 * ps + 8, "spm!", 4));
	ASSERT_EQ(0, spm_accel_info(self->fd, &info));
	EXPECT_EQ(3, info.device_pages);
	/* No access for the CPU: EIO both ways. */
	ASSERT_EQ(0, spm_accel_handover(self->fd, 0, 4 * ps, 0));
	EXPECT_EQ(-1, pread(mfd, buf, sizeof(buf), at + ps));
	EXPECT_EQ(EIO, errno);
	EXPECT_EQ(-1, pwrite(mfd, "xx", 2, at + ps));
	EXPECT_EQ(EIO, errno);
	ASSERT_EQ(0, spm_accel_info(self->fd, &info));
	EXPECT_EQ(4, info.device_pages);
	close(mfd);
}

TEST_F(cpu_read, no_access_mode_unchanged)
{
	long long takebacks0 = spm_accel_counter("takebacks");
	struct spm_accel_info info;

	spm_accel_pattern(self->p, self->len, 16);
	/* TO_DEVICE and HANDOVER without flags: no CPU access at all. */
	ASSERT_EQ(0, spm_accel_range(self->fd, SPM_ACCEL_IOC_TO_DEVICE, 0,
				     8 * ps));
	ASSERT_EQ(0, spm_accel_handover(self->fd, 8 * ps, 8 * ps, 0));
	EXPECT_EQ(16, read_sigbus(self->p, 16 * ps));
	EXPECT_EQ(1, spm_sigbus(self->p + ps, 1));
	EXPECT_EQ(1, spm_sigbus(self->p + 9 * ps, 1));
	EXPECT_EQ(0, spm_sigbus(self->p + 16 * ps, 0));
	ASSERT_EQ(0, spm_accel_info(self->fd, &info));
	EXPECT_EQ(16, info.device_pages);
	EXPECT_EQ(takebacks0, spm_accel_counter("takebacks"));

	/* No access -> CPU reads: the CPU reads, the device keeps it. */
	ASSERT_EQ(0, spm_accel_handover(self->fd, 0, 16 * ps,
					SPM_ACCEL_CPU_READ));
	EXPECT_EQ(0, read_sigbus(self->p, 16 * ps));
	/* CPU reads -> no access: the read-only mappings go. */
	ASSERT_EQ(0, spm_accel_handover(self->fd, 0, 16 * ps, 0));
	EXPECT_EQ(16, read_sigbus(self->p, 16 * ps));
	EXPECT_EQ(1, spm_sigbus(self->p + 2 * ps, 1));
	ASSERT_EQ(0, spm_accel_info(self->fd, &info));
	EXPECT_EQ(16, info.device_pages);
	EXPECT_EQ(takebacks0, spm_accel_counter("takebacks"));
	/* TO_CPU ends both modes. */
	ASSERT_EQ(0, spm_accel_range(self->fd, SPM_ACCEL_IOC_TO_CPU, 0, 16 * ps));
	EXPECT_EQ(0, spm_sigbus(self->p + 2 * ps, 1));
	ASSERT_EQ(0, spm_accel_info(self->fd, &info));
	EXPECT_EQ(0, info.device_pages);
}

TEST_F(cpu_read, bad_handovers)
{
	struct spm_accel_handover h = { .start = 0, .length = ps };
	struct spm_accel_info info;

	h.flags = 1U << 1;
	EXPECT_EQ(-1, ioctl(self->fd, SPM_ACCEL_IOC_HANDOVER, &h));
	EXPECT_EQ(EINVAL, errno);
	h.flags = SPM_ACCEL_CPU_READ;
	h.reserved = 1;
	EXPECT_EQ(-1, ioctl(self->fd, SPM_ACCEL_IOC_HANDOVER, &h));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(-EINVAL, spm_accel_handover(self->fd, 1, ps,
					      SPM_ACCEL_CPU_READ));
	EXPECT_EQ(-EINVAL, spm_accel_handover(self->fd, 0, 0,
					      SPM_ACCEL_CPU_READ));
	EXPECT_EQ(-EINVAL, spm_accel_handover(self->fd, SPM_ACCEL_MAX_BYTES,
					      ps, SPM_ACCEL_CPU_READ));
	EXPECT_EQ(-EFAULT, ioctl(self->fd, SPM_ACCEL_IOC_HANDOVER, NULL) ?
			   -errno : 0);
	/* Nothing was allocated or handed over. */
	ASSERT_EQ(0, spm_accel_info(self->fd, &info));
	EXPECT_EQ(0, info.pages);
	EXPECT_EQ(0, info.device_pages);
}

TEST_HARNESS_MAIN
