// SPDX-License-Identifier: GPL-2.0
/*
 * Rule 5: the tmpfs mount option mpol=bind:N is validated at mount time.
 * With node 2 not permitting user placement, mount -o mpol=bind:2 fails
 * with EINVAL and nothing is mounted (also mpol=bind:1-2 and a remount of
 * a mounted tmpfs to mpol=bind:2); with allow_user 1 it mounts and a file
 * written there lands on node 2. After the permission is withdrawn, new
 * pages of that mount land on SysRAM (rule 1).
 */
#include <sys/mount.h>
#include <sys/stat.h>
#include "kselftest_harness.h"
#include "spm_perm.h"

#define LEN (8UL << 20)
#define NP(len) ((long)((len) / 4096))
#define DIR_ "/run/spm-perm-mnt"

FIXTURE(mnt) {
	struct perm_saved saved;
};

FIXTURE_SETUP(mnt)
{
	perm_save(&self->saved);
	ASSERT_LE(0, self->saved.a);
	mkdir(DIR_, 0755);
	umount2(DIR_, MNT_DETACH);
	ASSERT_EQ(0, perm_in_proc_mounts(DIR_));
}

FIXTURE_TEARDOWN(mnt)
{
	umount2(DIR_, MNT_DETACH);
	perm_restore(&self->saved);
}

/* Write a file of len bytes at off in DIR_/name; map it and count pages. */
static long file_counts(const char *name, size_t len, long *counts)
{
	static char buf[1 << 20];
	char path[256];
	size_t off;
	long ret;
	char *p;
	int fd;

	snprintf(path, sizeof(path), DIR_ "/%s", name);
	fd = open(path, O_CREAT | O_RDWR | O_TRUNC, 0600);
	if (fd < 0)
		return -errno;
	memset(buf, 0x6b, sizeof(buf));
	for (off = 0; off < len; off += sizeof(buf))
		if (pwrite(fd, buf, sizeof(buf), off) != (ssize_t)sizeof(buf)) {
			close(fd);
			return -EIO;
		}
	p = mmap(NULL, len, PROT_READ, MAP_SHARED, fd, 0);
	close(fd);
	if (p == MAP_FAILED)
		return -errno;
	for (off = 0; off < len; off += 4096)
		(void)*(volatile char *)(p + off);
	ret = spm_count_pages(p, len, counts);
	munmap(p, len);
	return ret;
}

TEST_F(mnt, mount_mpol_bind_unpermitted_is_einval)
{
	static const char *const opts[] = {
		"mpol=bind:2", "size=16m,mpol=bind:2", "mpol=bind:1-2",
		"mpol=bind:2-3", "mpol=bind:3",
	};
	unsigned int i;
	int ret;

	ASSERT_EQ(0, perm_allow(PERM_A, 0));
	ASSERT_EQ(0, perm_allow(PERM_B, 0));
	for (i = 0; i < sizeof(opts) / sizeof(opts[0]); i++) {
		errno = 0;
		ret = mount("none", DIR_, "tmpfs", 0, opts[i]);
		TH_LOG("mount -t tmpfs -o %s (2, 3 unpermitted): %s", opts[i],
		       ret ? strerror(errno) : "mounted");
		EXPECT_EQ(-1, ret);
		EXPECT_EQ(EINVAL, errno);
		EXPECT_EQ(0, perm_in_proc_mounts(DIR_));
		if (!ret)
			umount2(DIR_, MNT_DETACH);
	}
}

TEST_F(mnt, remount_to_mpol_bind_unpermitted_is_einval)
{
	char line[1024];
	int ret;
	FILE *f;

	ASSERT_EQ(0, perm_allow(PERM_A, 0));
	ASSERT_EQ(0, mount("none", DIR_, "tmpfs", 0, "size=16m"));
	errno = 0;
	ret = mount("none", DIR_, "tmpfs", MS_REMOUNT, "mpol=bind:2");
	TH_LOG("remount -o mpol=bind:2 (2 unpermitted): %s", ret ? strerror(errno) : "ok");
	EXPECT_EQ(-1, ret);
	EXPECT_EQ(EINVAL, errno);
	f = fopen("/proc/mounts", "r");
	ASSERT_NE(NULL, f);
	while (fgets(line, sizeof(line), f))
		if (strstr(line, " " DIR_ " ")) {
			TH_LOG("%s", line);
			EXPECT_EQ(NULL, strstr(line, "mpol=bind"));
		}
	fclose(f);
}

TEST_F(mnt, mount_mpol_bind_permitted_lands_on_node)
{
	long counts[SPM_MAXN + 1];
	char line[1024];
	int found = 0;
	FILE *f;

	ASSERT_EQ(0, perm_allow(PERM_A, 1));
	ASSERT_EQ(0, mount("none", DIR_, "tmpfs", 0, "size=32m,mpol=bind:2")) {
		TH_LOG("mount: %s", strerror(errno));
	}
	f = fopen("/proc/mounts", "r");
	ASSERT_NE(NULL, f);
	while (fgets(line, sizeof(line), f))
		if (strstr(line, " " DIR_ " ")) {
			found = 1;
			EXPECT_NE(NULL, strstr(line, "mpol=bind:2")) {
				TH_LOG("%s", line);
			}
		}
	fclose(f);
	EXPECT_EQ(1, found);
	ASSERT_EQ(NP(LEN), file_counts("a", LEN, counts));
	TH_LOG("file on mpol=bind:2 tmpfs: %s", perm_counts_str(counts));
	EXPECT_EQ(NP(LEN), counts[PERM_A]);

	/* Withdrawn after the mount: new pages of the mount go to SysRAM. */
	ASSERT_EQ(0, perm_allow(PERM_A, 0));
	ASSERT_EQ(NP(LEN), file_counts("b", LEN, counts));
	TH_LOG("new file after allow_user 0: %s", perm_counts_str(counts));
	EXPECT_EQ(0, counts[PERM_A]);
	EXPECT_EQ(NP(LEN), counts[0] + counts[1]);
}

TEST_HARNESS_MAIN
