/* SPDX-License-Identifier: GPL-2.0 */
/*
 * drivers/spm_test_owner from a test (guest side), on top of spm_place.h;
 * used by the spm-services and spm-fence suites:
 *
 *   owner_load(params)      finit_module() of spm_test_owner.ko: 0 or -errno
 *   owner_unload()          delete_module(): 0 or -errno (-ENOENT: not loaded)
 *   owner_get(name)         a debugfs file of the module, as a number
 *   owner_put(name, str)    one write to a debugfs file: 0 or -errno
 *   owner_param(name, str)  one write to /sys/module/spm_test_owner/parameters/
 */
#ifndef SPM_OWNER_H
#define SPM_OWNER_H

#include <sys/utsname.h>
#include "spm_place.h"

#define OWNER		"spm_test_owner"
#define OWNER_DBG	"/sys/kernel/debug/" OWNER
#define OWNER_PARAM	"/sys/module/" OWNER "/parameters"

/* Load the project module name.ko with params; 0 or -errno. */
static inline int spm_module_load(const char *name, const char *params)
{
	char path[256];
	struct utsname u;
	int fd, ret = 0;

	uname(&u);
	snprintf(path, sizeof(path), "/lib/modules/%s/extra/%s.ko", u.release,
		 name);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (syscall(SYS_finit_module, fd, params, 0))
		ret = -errno;
	close(fd);
	return ret;
}

/* Load spm_test_owner.ko with params ("caps=user,reclaim ..."); 0 or -errno. */
static inline int owner_load(const char *params)
{
	return spm_module_load(OWNER, params);
}

static inline int owner_unload(void)
{
	return syscall(SYS_delete_module, OWNER, O_NONBLOCK) ? -errno : 0;
}

static inline long long owner_get(const char *name)
{
	char path[256];

	snprintf(path, sizeof(path), OWNER_DBG "/%s", name);
	return spm_read_ll(path);
}

static inline int owner_put(const char *name, const char *str)
{
	char path[256];

	snprintf(path, sizeof(path), OWNER_DBG "/%s", name);
	return spm_write_file(path, str);
}

static inline int owner_param(const char *name, const char *str)
{
	char path[256];

	snprintf(path, sizeof(path), OWNER_PARAM "/%s", name);
	return spm_write_file(path, str);
}

#endif /* SPM_OWNER_H */
