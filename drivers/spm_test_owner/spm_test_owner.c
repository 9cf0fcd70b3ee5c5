// SPDX-License-Identifier: GPL-2.0
/*
 * spm_test_owner: a minimal owner of one SPM node, for tests.
 *
 * It claims node @nid, turns on the capabilities listed in @caps (in the
 * order given; loading fails with the errno of the first refusal), answers
 * write faults on a write-fenced node with @fence_action, and counts every
 * callback.  Everything else goes through debugfs, in
 * /sys/kernel/debug/spm_test_owner/:
 *
 *   pages_freed, folio_arrived, may_demote, write_fault, pressure
 *		callback counters (pages for pages_freed, calls for the
 *		others); writing 0 resets one
 *   caps	read: the capabilities this owner has on; write "+name" or
 *		"-name": spm_node_set_cap(), the write fails with its errno
 *   reclaim	write N: spm_node_reclaim(nid, N); read: its last result
 *   claim_again  write anything: spm_node_claim() of the same node with a
 *		second owner; the write fails with its errno (read: the
 *		last result, 0 or -errno)
 *   pin	write "ADDR NPAGES" (hex address): pin the writer's pages with
 *		FOLL_LONGTERM, as an RDMA or VFIO driver would; read: the
 *		number of pages pinned
 *   unpin	write anything: drop those pins
 *
 * With own=0 it claims nothing and only serves as the pinning tool, to
 * test an unowned node.  With leak=1 it keeps the node when unloading, as
 * a buggy driver would; the kernel must release it for the module.
 */

#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/atomic.h>
#include <linux/debugfs.h>
#include <linux/fs.h>
#include <linux/kernel.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/moduleparam.h>
#include <linux/mutex.h>
#include <linux/numa.h>
#include <linux/slab.h>
#include <linux/spm_node.h>
#include <linux/string.h>
#include <linux/uaccess.h>

#define STO_MAX_PIN	65536UL

static int nid = 2;
module_param(nid, int, 0444);
MODULE_PARM_DESC(nid, "SPM node to claim (default 2)");

static char *caps = "";
module_param(caps, charp, 0444);
MODULE_PARM_DESC(caps,
		 "capabilities to turn on, in this order: comma list of user,reclaim,compaction,migration,demotion,write_fence,longterm_pin");

static bool own = true;
module_param(own, bool, 0444);
MODULE_PARM_DESC(own,
		 "claim the node (default Y); N: only the debugfs pin tool, for an unowned node");

static bool leak;
module_param(leak, bool, 0444);
MODULE_PARM_DESC(leak,
		 "do not release the node when unloading (tests that the kernel releases it)");

static bool no_write_fault;
module_param(no_write_fault, bool, 0444);
MODULE_PARM_DESC(no_write_fault, "register no write_fault callback");

static bool demote = true;
module_param(demote, bool, 0644);
MODULE_PARM_DESC(demote, "answer of the may_demote callback (default Y)");

static int promote_nid = NUMA_NO_NODE;
module_param(promote_nid, int, 0644);
MODULE_PARM_DESC(promote_nid,
		 "SysRAM node a promoted folio goes to (-1: the kernel's choice)");

static const char * const fence_action_names[] = {
	[SPM_WRITE_PROMOTE] = "promote",
	[SPM_WRITE_ALLOW] = "allow",
	[SPM_WRITE_FAIL] = "fail",
};

static int fence_action = SPM_WRITE_PROMOTE;

static int fence_action_set(const char *val, const struct kernel_param *kp)
{
	int i = sysfs_match_string(fence_action_names, val);

	if (i < 0)
		return -EINVAL;
	WRITE_ONCE(fence_action, i);
	return 0;
}

static int fence_action_get(char *buf, const struct kernel_param *kp)
{
	return scnprintf(buf, PAGE_SIZE, "%s\n",
			 fence_action_names[READ_ONCE(fence_action)]);
}

static const struct kernel_param_ops fence_action_ops = {
	.set = fence_action_set,
	.get = fence_action_get,
};
module_param_cb(fence_action, &fence_action_ops, NULL, 0644);
MODULE_PARM_DESC(fence_action,
		 "answer to a write fault: promote (default), allow or fail");

static const char * const cap_names[SPM_NR_CAPS] = {
	[SPM_CAP_USER] = "user",
	[SPM_CAP_RECLAIM] = "reclaim",
	[SPM_CAP_COMPACTION] = "compaction",
	[SPM_CAP_MIGRATION] = "migration",
	[SPM_CAP_DEMOTION] = "demotion",
	[SPM_CAP_WRITE_FENCE] = "write_fence",
	[SPM_CAP_LONGTERM_PIN] = "longterm_pin",
};

enum sto_counter {
	STO_PAGES_FREED,
	STO_FOLIO_ARRIVED,
	STO_MAY_DEMOTE,
	STO_WRITE_FAULT,
	STO_PRESSURE,
	STO_NR_COUNTERS,
};

static const char * const counter_names[STO_NR_COUNTERS] = {
	[STO_PAGES_FREED] = "pages_freed",
	[STO_FOLIO_ARRIVED] = "folio_arrived",
	[STO_MAY_DEMOTE] = "may_demote",
	[STO_WRITE_FAULT] = "write_fault",
	[STO_PRESSURE] = "pressure",
};

static atomic_long_t counters[STO_NR_COUNTERS];

/* Serialises the debugfs writers; the callbacks only touch atomics. */
static DEFINE_MUTEX(sto_lock);
static unsigned long caps_on;
/* The values the reclaim, claim_again and pin files read back. */
static long last_reclaim;
static long last_claim;
static struct page **pinned;
static long nr_pinned;
static struct dentry *sto_dir;

/* ------------------------------------------------------------------ */

static void sto_pages_freed(const struct spm_node_owner *owner, int node,
			    struct page *page, unsigned int order)
{
	atomic_long_add(1UL << order, &counters[STO_PAGES_FREED]);
}

static void sto_folio_arrived(const struct spm_node_owner *owner, int node,
			      struct folio *folio)
{
	atomic_long_inc(&counters[STO_FOLIO_ARRIVED]);
}

static bool sto_may_demote(const struct spm_node_owner *owner, int node,
			   unsigned long nr_pages)
{
	atomic_long_inc(&counters[STO_MAY_DEMOTE]);
	return READ_ONCE(demote);
}

static enum spm_write_action
sto_write_fault(const struct spm_node_owner *owner, int node,
		struct folio *folio, struct vm_area_struct *vma,
		unsigned long addr, int *target_nid)
{
	int action = READ_ONCE(fence_action);
	int to = READ_ONCE(promote_nid);

	atomic_long_inc(&counters[STO_WRITE_FAULT]);
	if (action == SPM_WRITE_PROMOTE && to != NUMA_NO_NODE)
		*target_nid = to;
	return action;
}

static void sto_pressure(const struct spm_node_owner *owner, int node)
{
	atomic_long_inc(&counters[STO_PRESSURE]);
}

static const struct spm_node_ops sto_ops = {
	.pages_freed = sto_pages_freed,
	.folio_arrived = sto_folio_arrived,
	.may_demote = sto_may_demote,
	.write_fault = sto_write_fault,
	.pressure = sto_pressure,
};

/* The same without a write_fault callback (no_write_fault=1). */
static const struct spm_node_ops sto_ops_no_write_fault = {
	.pages_freed = sto_pages_freed,
	.folio_arrived = sto_folio_arrived,
	.may_demote = sto_may_demote,
	.pressure = sto_pressure,
};

static struct spm_node_owner sto_owner = {
	.name = "spm_test_owner",
};

/* Only ever claims to see the claim refused. */
static struct spm_node_owner sto_second_owner = {
	.name = "spm_test_owner_2",
	.ops = &sto_ops,
};

/* ------------------------------------------------------------------ */

static int sto_set_cap(const char *name, bool on)
{
	int cap = match_string(cap_names, SPM_NR_CAPS, name);
	int ret;

	if (cap < 0)
		return -EINVAL;
	ret = spm_node_set_cap(nid, &sto_owner, cap, on);
	if (!ret)
		assign_bit(cap, &caps_on, on);
	return ret;
}

static int sto_set_param_caps(void)
{
	char *list, *p, *name;
	int ret = 0;

	list = kstrdup(caps ? caps : "", GFP_KERNEL);
	if (!list)
		return -ENOMEM;
	p = list;
	while ((name = strsep(&p, ",")) != NULL) {
		name = strim(name);
		if (!*name)
			continue;
		ret = sto_set_cap(name, true);
		if (ret) {
			pr_err("node %d: cannot turn on '%s': %d\n", nid, name,
			       ret);
			break;
		}
	}
	kfree(list);
	return ret;
}

/* ------------------------------------------------------------------ */

static int counter_get(void *data, u64 *val)
{
	*val = atomic_long_read(data);
	return 0;
}

static int counter_set(void *data, u64 val)
{
	if (val)
		return -EINVAL;
	atomic_long_set(data, 0);
	return 0;
}

DEFINE_DEBUGFS_ATTRIBUTE(counter_fops, counter_get, counter_set, "%llu\n");

/* Copy a short command from user space into buf, NUL-terminated. */
static int sto_get_cmd(char *buf, size_t size, const char __user *ubuf,
		       size_t count)
{
	if (!count || count >= size)
		return -EINVAL;
	if (copy_from_user(buf, ubuf, count))
		return -EFAULT;
	buf[count] = '\0';
	return 0;
}

/* Read side of reclaim, claim_again and pin: the long at i_private. */
static ssize_t value_read(struct file *file, char __user *ubuf, size_t count,
			  loff_t *ppos)
{
	const long *val = file->private_data;
	char buf[24];
	int n;

	mutex_lock(&sto_lock);
	n = scnprintf(buf, sizeof(buf), "%ld\n", *val);
	mutex_unlock(&sto_lock);
	return simple_read_from_buffer(ubuf, count, ppos, buf, n);
}

static ssize_t caps_read(struct file *file, char __user *ubuf, size_t count,
			 loff_t *ppos)
{
	char buf[128];
	int cap, n = 0;

	mutex_lock(&sto_lock);
	for_each_set_bit(cap, &caps_on, SPM_NR_CAPS)
		n += scnprintf(buf + n, sizeof(buf) - n, "%s%s",
			       n ? " " : "", cap_names[cap]);
	mutex_unlock(&sto_lock);
	if (!n)
		n = scnprintf(buf, sizeof(buf), "none");
	n += scnprintf(buf + n, sizeof(buf) - n, "\n");
	return simple_read_from_buffer(ubuf, count, ppos, buf, n);
}

static ssize_t caps_write(struct file *file, const char __user *ubuf,
			  size_t count, loff_t *ppos)
{
	char buf[32], *cmd;
	int ret;

	ret = sto_get_cmd(buf, sizeof(buf), ubuf, count);
	if (ret)
		return ret;
	cmd = strim(buf);
	if (cmd[0] != '+' && cmd[0] != '-')
		return -EINVAL;
	mutex_lock(&sto_lock);
	ret = sto_set_cap(cmd + 1, cmd[0] == '+');
	mutex_unlock(&sto_lock);
	return ret ? ret : count;
}

static const struct file_operations caps_fops = {
	.owner = THIS_MODULE,
	.read = caps_read,
	.write = caps_write,
	.llseek = default_llseek,
};

static ssize_t reclaim_write(struct file *file, const char __user *ubuf,
			     size_t count, loff_t *ppos)
{
	unsigned long nr;
	int ret;

	ret = kstrtoul_from_user(ubuf, count, 0, &nr);
	if (ret)
		return ret;
	mutex_lock(&sto_lock);
	last_reclaim = spm_node_reclaim(nid, nr);
	mutex_unlock(&sto_lock);
	return count;
}

static const struct file_operations reclaim_fops = {
	.owner = THIS_MODULE,
	.open = simple_open,
	.read = value_read,
	.write = reclaim_write,
	.llseek = default_llseek,
};

static ssize_t claim_again_write(struct file *file, const char __user *ubuf,
				 size_t count, loff_t *ppos)
{
	int ret;

	mutex_lock(&sto_lock);
	ret = spm_node_claim(nid, &sto_second_owner);
	if (!ret) {
		/* The node had no owner after all: give it back. */
		pr_warn("node %d: a second owner could claim it\n", nid);
		spm_node_release(nid, &sto_second_owner);
	}
	last_claim = ret;
	mutex_unlock(&sto_lock);
	return ret ? ret : count;
}

static const struct file_operations claim_again_fops = {
	.owner = THIS_MODULE,
	.open = simple_open,
	.read = value_read,
	.write = claim_again_write,
	.llseek = default_llseek,
};

static void sto_unpin(void)
{
	lockdep_assert_held(&sto_lock);
	if (!pinned)
		return;
	unpin_user_pages(pinned, nr_pinned);
	kvfree(pinned);
	pinned = NULL;
	nr_pinned = 0;
}

static ssize_t pin_write(struct file *file, const char __user *ubuf,
			 size_t count, loff_t *ppos)
{
	unsigned long addr, nr;
	struct page **pages;
	char buf[64];
	long got;
	int ret;

	ret = sto_get_cmd(buf, sizeof(buf), ubuf, count);
	if (ret)
		return ret;
	if (sscanf(buf, "%lx %lu", &addr, &nr) != 2 || !nr ||
	    nr > STO_MAX_PIN || !PAGE_ALIGNED(addr))
		return -EINVAL;

	mutex_lock(&sto_lock);
	if (pinned) {
		ret = -EBUSY;
		goto out;
	}
	pages = kvmalloc_array(nr, sizeof(*pages), GFP_KERNEL);
	if (!pages) {
		ret = -ENOMEM;
		goto out;
	}
	got = pin_user_pages_fast(addr, nr, FOLL_WRITE | FOLL_LONGTERM, pages);
	if (got < 0 || got < nr) {
		if (got > 0)
			unpin_user_pages(pages, got);
		kvfree(pages);
		ret = got < 0 ? got : -EFAULT;
		goto out;
	}
	pinned = pages;
	nr_pinned = nr;
out:
	mutex_unlock(&sto_lock);
	return ret ? ret : count;
}

static const struct file_operations pin_fops = {
	.owner = THIS_MODULE,
	.open = simple_open,
	.read = value_read,
	.write = pin_write,
	.llseek = default_llseek,
};

static ssize_t unpin_write(struct file *file, const char __user *ubuf,
			   size_t count, loff_t *ppos)
{
	mutex_lock(&sto_lock);
	sto_unpin();
	mutex_unlock(&sto_lock);
	return count;
}

static const struct file_operations unpin_fops = {
	.owner = THIS_MODULE,
	.write = unpin_write,
	.llseek = noop_llseek,
};

static void sto_debugfs_init(void)
{
	int i;

	sto_dir = debugfs_create_dir(KBUILD_MODNAME, NULL);
	for (i = 0; i < STO_NR_COUNTERS; i++)
		debugfs_create_file_unsafe(counter_names[i], 0600, sto_dir,
					   &counters[i], &counter_fops);
	debugfs_create_file("caps", 0600, sto_dir, NULL, &caps_fops);
	debugfs_create_file("reclaim", 0600, sto_dir, &last_reclaim,
			    &reclaim_fops);
	debugfs_create_file("claim_again", 0600, sto_dir, &last_claim,
			    &claim_again_fops);
	debugfs_create_file("pin", 0600, sto_dir, &nr_pinned, &pin_fops);
	debugfs_create_file("unpin", 0200, sto_dir, NULL, &unpin_fops);
}

/* ------------------------------------------------------------------ */

static int __init sto_init(void)
{
	int ret;

	if (!own) {
		if (caps && *caps)
			return -EINVAL;
		sto_debugfs_init();
		pr_info("loaded without claiming a node\n");
		return 0;
	}
	sto_owner.ops = no_write_fault ? &sto_ops_no_write_fault : &sto_ops;
	ret = spm_node_claim(nid, &sto_owner);
	if (ret) {
		pr_err("cannot claim node %d: %d\n", nid, ret);
		return ret;
	}
	mutex_lock(&sto_lock);
	ret = sto_set_param_caps();
	mutex_unlock(&sto_lock);
	if (ret) {
		spm_node_release(nid, &sto_owner);
		return ret;
	}
	sto_debugfs_init();
	pr_info("node %d claimed, caps '%s', fence_action %s%s\n", nid,
		caps ? caps : "", fence_action_names[fence_action],
		no_write_fault ? ", no write_fault callback" : "");
	return 0;
}

static void __exit sto_exit(void)
{
	debugfs_remove_recursive(sto_dir);
	mutex_lock(&sto_lock);
	sto_unpin();
	mutex_unlock(&sto_lock);
	if (own && !leak)
		spm_node_release(nid, &sto_owner);
}

module_init(sto_init);
module_exit(sto_exit);

MODULE_DESCRIPTION("Test owner of an SPM node: capabilities, callbacks, reclaim");
MODULE_LICENSE("GPL");
