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
 *   pages_freed, folio_arrived, may_demote, write_fault, pressure,
 *   demote_aborted, memory_failure, soft_offline, offline_prepare,
 *   offline_done, offline_cancel
 *		callback counters (pages for pages_freed and demote_aborted,
 *		calls for the others; soft_offline: memory_failure calls
 *		with MF_SOFT_OFFLINE, which memory_failure does not count);
 *		writing 0 resets one
 *   arrived	read: one line per migration reason, "reason calls
 *		same_node": folio_arrived calls, and those whose source
 *		folio was on the node already; writing 0 resets them
 *   last_failure  read: "pfn flags result" of the last memory_failure
 *		call (hex pfn and flags), "none" before the first
 *   last_offline  read: "phase start_pfn nr_pages" of the last
 *		memory_offline call, "none" before the first
 *   frag	write N: allocate up to N pages of the node one by one on
 *		every CPU, ignoring the watermarks, then free every other
 *		one by pfn, leaving the node's free memory in single pages;
 *		write 0: free the rest; read: pages held
 *   alloc_order  write N: try one allocation of order N on the node
 *		without direct reclaim and free it (kswapd is woken as for
 *		any allocation; the node's compaction capability decides
 *		about direct compaction); read: 1 if the last one
 *		succeeded, 0 if not
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
 * offline_answer (module parameter) is what memory_offline answers to
 * SPM_OFFLINE_PREPARE: 0 (default) lets the offline go on, a negative
 * errno refuses it, a positive value tests the kernel's check.
 *
 * With own=0 it claims nothing and only serves as the pinning tool, to
 * test an unowned node.  With leak=1 it keeps the node when unloading, as
 * a buggy driver would; the kernel must release it for the module.
 */

#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/atomic.h>
#include <linux/cpu.h>
#include <linux/debugfs.h>
#include <linux/fs.h>
#include <linux/gfp.h>
#include <linux/kernel.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/moduleparam.h>
#include <linux/mutex.h>
#include <linux/numa.h>
#include <linux/sched/mm.h>
#include <linux/slab.h>
#include <linux/spm_node.h>
#include <linux/string.h>
#include <linux/uaccess.h>
#include <linux/workqueue.h>

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

static int offline_answer;
module_param(offline_answer, int, 0644);
MODULE_PARM_DESC(offline_answer,
		 "answer of memory_offline to an offline about to start (0: go on; -errno: refuse)");

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
	STO_DEMOTE_ABORTED,
	STO_MEMORY_FAILURE,
	STO_SOFT_OFFLINE,
	STO_OFFLINE_PREPARE,
	STO_OFFLINE_DONE,
	STO_OFFLINE_CANCEL,
	STO_NR_COUNTERS,
};

static const char * const counter_names[STO_NR_COUNTERS] = {
	[STO_PAGES_FREED] = "pages_freed",
	[STO_FOLIO_ARRIVED] = "folio_arrived",
	[STO_MAY_DEMOTE] = "may_demote",
	[STO_WRITE_FAULT] = "write_fault",
	[STO_PRESSURE] = "pressure",
	[STO_DEMOTE_ABORTED] = "demote_aborted",
	[STO_MEMORY_FAILURE] = "memory_failure",
	[STO_SOFT_OFFLINE] = "soft_offline",
	[STO_OFFLINE_PREPARE] = "offline_prepare",
	[STO_OFFLINE_DONE] = "offline_done",
	[STO_OFFLINE_CANCEL] = "offline_cancel",
};

static const char * const reason_names[MR_TYPES] = {
	[MR_COMPACTION] = "compaction",
	[MR_MEMORY_FAILURE] = "memory_failure",
	[MR_MEMORY_HOTPLUG] = "memory_hotplug",
	[MR_SYSCALL] = "syscall",
	[MR_MEMPOLICY_MBIND] = "mempolicy_mbind",
	[MR_NUMA_MISPLACED] = "numa_misplaced",
	[MR_CONTIG_RANGE] = "contig_range",
	[MR_LONGTERM_PIN] = "longterm_pin",
	[MR_DEMOTION] = "demotion",
	[MR_DAMON] = "damon",
};

static const char * const phase_names[] = {
	[SPM_OFFLINE_PREPARE] = "prepare",
	[SPM_OFFLINE_DONE] = "done",
	[SPM_OFFLINE_CANCEL] = "cancel",
};

static atomic_long_t counters[STO_NR_COUNTERS];
/* folio_arrived calls per reason, and those from the node itself. */
static atomic_long_t arrived[MR_TYPES];
static atomic_long_t arrived_same[MR_TYPES];

/* The last memory_failure and memory_offline calls, under sto_event_lock. */
static DEFINE_SPINLOCK(sto_event_lock);
static bool failure_seen, offline_seen;
static unsigned long failure_pfn;
static int failure_flags, failure_result;
static unsigned long offline_pfn, offline_nr;
static enum spm_offline_phase offline_phase;

/* Pages held by the frag file, and the last alloc_order result. */
static struct page **frag_pages;
static unsigned long frag_nr;
static long last_alloc_order;

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
			      struct folio *folio, struct folio *src,
			      enum migrate_reason reason)
{
	atomic_long_inc(&counters[STO_FOLIO_ARRIVED]);
	if (reason >= MR_TYPES)
		return;
	atomic_long_inc(&arrived[reason]);
	if (folio_nid(src) == node)
		atomic_long_inc(&arrived_same[reason]);
}

static void sto_demote_aborted(const struct spm_node_owner *owner, int node,
			       unsigned long nr_pages)
{
	atomic_long_add(nr_pages, &counters[STO_DEMOTE_ABORTED]);
}

static void sto_memory_failure(const struct spm_node_owner *owner, int node,
			       unsigned long pfn, int flags, int result)
{
	unsigned long irqflags;

	atomic_long_inc(&counters[flags & MF_SOFT_OFFLINE ? STO_SOFT_OFFLINE :
				  STO_MEMORY_FAILURE]);
	spin_lock_irqsave(&sto_event_lock, irqflags);
	failure_seen = true;
	failure_pfn = pfn;
	failure_flags = flags;
	failure_result = result;
	spin_unlock_irqrestore(&sto_event_lock, irqflags);
}

static int sto_memory_offline(const struct spm_node_owner *owner, int node,
			      unsigned long start_pfn, unsigned long nr_pages,
			      enum spm_offline_phase phase)
{
	static const enum sto_counter which[] = {
		[SPM_OFFLINE_PREPARE] = STO_OFFLINE_PREPARE,
		[SPM_OFFLINE_DONE] = STO_OFFLINE_DONE,
		[SPM_OFFLINE_CANCEL] = STO_OFFLINE_CANCEL,
	};
	unsigned long irqflags;

	if (phase > SPM_OFFLINE_CANCEL)
		return 0;
	atomic_long_inc(&counters[which[phase]]);
	spin_lock_irqsave(&sto_event_lock, irqflags);
	offline_seen = true;
	offline_phase = phase;
	offline_pfn = start_pfn;
	offline_nr = nr_pages;
	spin_unlock_irqrestore(&sto_event_lock, irqflags);
	return phase == SPM_OFFLINE_PREPARE ? READ_ONCE(offline_answer) : 0;
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
	.demote_aborted = sto_demote_aborted,
	.write_fault = sto_write_fault,
	.pressure = sto_pressure,
	.memory_failure = sto_memory_failure,
	.memory_offline = sto_memory_offline,
};

/* The same without a write_fault callback (no_write_fault=1). */
static const struct spm_node_ops sto_ops_no_write_fault = {
	.pages_freed = sto_pages_freed,
	.folio_arrived = sto_folio_arrived,
	.may_demote = sto_may_demote,
	.demote_aborted = sto_demote_aborted,
	.pressure = sto_pressure,
	.memory_failure = sto_memory_failure,
	.memory_offline = sto_memory_offline,
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

static ssize_t arrived_read(struct file *file, char __user *ubuf,
			    size_t count, loff_t *ppos)
{
	char *buf;
	ssize_t ret;
	int r, n = 0;

	buf = kzalloc(PAGE_SIZE, GFP_KERNEL);
	if (!buf)
		return -ENOMEM;
	for (r = 0; r < MR_TYPES; r++)
		n += scnprintf(buf + n, PAGE_SIZE - n, "%s %ld %ld\n",
			       reason_names[r] ? reason_names[r] : "unknown",
			       atomic_long_read(&arrived[r]),
			       atomic_long_read(&arrived_same[r]));
	ret = simple_read_from_buffer(ubuf, count, ppos, buf, n);
	kfree(buf);
	return ret;
}

static ssize_t arrived_write(struct file *file, const char __user *ubuf,
			     size_t count, loff_t *ppos)
{
	unsigned long val;
	int ret, r;

	ret = kstrtoul_from_user(ubuf, count, 0, &val);
	if (ret)
		return ret;
	if (val)
		return -EINVAL;
	for (r = 0; r < MR_TYPES; r++) {
		atomic_long_set(&arrived[r], 0);
		atomic_long_set(&arrived_same[r], 0);
	}
	return count;
}

static const struct file_operations arrived_fops = {
	.owner = THIS_MODULE,
	.read = arrived_read,
	.write = arrived_write,
	.llseek = default_llseek,
};

/* last_failure and last_offline: the newest event of each kind, or "none". */
static ssize_t last_event_read(struct file *file, char __user *ubuf,
			       size_t count, loff_t *ppos)
{
	bool offline = file->private_data == &offline_seen;
	unsigned long irqflags;
	char buf[64];
	int n;

	spin_lock_irqsave(&sto_event_lock, irqflags);
	if (offline && offline_seen)
		n = scnprintf(buf, sizeof(buf), "%s %#lx %lu\n",
			      phase_names[offline_phase], offline_pfn,
			      offline_nr);
	else if (!offline && failure_seen)
		n = scnprintf(buf, sizeof(buf), "%#lx %#x %d\n", failure_pfn,
			      failure_flags, failure_result);
	else
		n = scnprintf(buf, sizeof(buf), "none\n");
	spin_unlock_irqrestore(&sto_event_lock, irqflags);
	return simple_read_from_buffer(ubuf, count, ppos, buf, n);
}

static const struct file_operations last_event_fops = {
	.owner = THIS_MODULE,
	.open = simple_open,
	.read = last_event_read,
	.llseek = default_llseek,
};

/*
 * Pages of the node only (movable: the node's memory may all be
 * ZONE_MOVABLE), failing fast and quietly, without direct reclaim (which
 * would drain the per-cpu lists into the buddy lists and retry) but
 * waking kswapd as any allocation does.
 */
#define STO_FRAG_GFP	((GFP_HIGHUSER_MOVABLE & ~__GFP_DIRECT_RECLAIM) | \
			 __GFP_SPM_NODE | __GFP_THISNODE | __GFP_NOWARN)

struct sto_fill {
	unsigned long nr;	/* room in pages[] */
	unsigned long got;
};

/*
 * On one CPU: take pages of the node until it has none, as reclaim takes
 * them (PF_MEMALLOC: no watermark).  Run on every CPU, so that no CPU's
 * per-cpu lists keep free pages of the node that could later merge.
 */
static long sto_fill_cpu(void *arg)
{
	struct sto_fill *fill = arg;
	unsigned int noreclaim = memalloc_noreclaim_save();

	while (fill->got < fill->nr) {
		struct page *page = alloc_pages_node(nid, STO_FRAG_GFP, 0);

		if (!page)
			break;
		if (page_to_nid(page) != nid) {
			/* Cannot happen with __GFP_THISNODE: say so. */
			pr_err("frag: page %#lx on node %d, not %d\n",
			       page_to_pfn(page), page_to_nid(page), nid);
			__free_page(page);
			break;
		}
		frag_pages[fill->got++] = page;
		cond_resched();
	}
	memalloc_noreclaim_restore(noreclaim);
	return 0;
}

static void sto_frag_free(void)
{
	unsigned long i;

	lockdep_assert_held(&sto_lock);
	for (i = 0; i < frag_nr; i++)
		if (frag_pages[i])
			__free_page(frag_pages[i]);
	kvfree(frag_pages);
	frag_pages = NULL;
	frag_nr = 0;
}

/*
 * Take up to @nr single pages of the node, then give back every other one
 * by pfn parity: what stays free is in blocks of one page.  The pages are
 * taken as reclaim takes them (PF_MEMALLOC: no watermark), so that no
 * larger block is left below the min watermark, and on every CPU.
 */
static int sto_frag(unsigned long nr)
{
	struct sto_fill fill = { .nr = nr };
	unsigned long i;
	int cpu;

	lockdep_assert_held(&sto_lock);
	if (frag_pages)
		return -EBUSY;
	frag_pages = kvcalloc(nr, sizeof(*frag_pages), GFP_KERNEL);
	if (!frag_pages)
		return -ENOMEM;
	cpus_read_lock();
	for_each_online_cpu(cpu)
		work_on_cpu(cpu, sto_fill_cpu, &fill);
	cpus_read_unlock();
	frag_nr = fill.got;
	for (i = 0; i < fill.got; i++) {
		if (page_to_pfn(frag_pages[i]) & 1) {
			__free_page(frag_pages[i]);
			frag_pages[i] = NULL;
		}
	}
	return 0;
}

static ssize_t frag_read(struct file *file, char __user *ubuf, size_t count,
			 loff_t *ppos)
{
	unsigned long i, held = 0;
	char buf[24];
	int n;

	mutex_lock(&sto_lock);
	for (i = 0; i < frag_nr; i++)
		held += !!frag_pages[i];
	mutex_unlock(&sto_lock);
	n = scnprintf(buf, sizeof(buf), "%lu\n", held);
	return simple_read_from_buffer(ubuf, count, ppos, buf, n);
}

static ssize_t frag_write(struct file *file, const char __user *ubuf,
			  size_t count, loff_t *ppos)
{
	unsigned long nr;
	int ret;

	ret = kstrtoul_from_user(ubuf, count, 0, &nr);
	if (ret)
		return ret;
	if (nr > (1UL << 24))
		return -EINVAL;
	mutex_lock(&sto_lock);
	if (nr)
		ret = sto_frag(nr);
	else
		sto_frag_free();
	mutex_unlock(&sto_lock);
	return ret ? ret : count;
}

static const struct file_operations frag_fops = {
	.owner = THIS_MODULE,
	.read = frag_read,
	.write = frag_write,
	.llseek = default_llseek,
};

static ssize_t alloc_order_write(struct file *file, const char __user *ubuf,
				 size_t count, loff_t *ppos)
{
	struct page *page;
	unsigned int order;
	int ret;

	ret = kstrtouint_from_user(ubuf, count, 0, &order);
	if (ret)
		return ret;
	if (order > MAX_PAGE_ORDER)
		return -EINVAL;
	page = alloc_pages_node(nid, STO_FRAG_GFP, order);
	if (page)
		__free_pages(page, order);
	mutex_lock(&sto_lock);
	last_alloc_order = !!page;
	mutex_unlock(&sto_lock);
	return count;
}

static const struct file_operations alloc_order_fops = {
	.owner = THIS_MODULE,
	.open = simple_open,
	.read = value_read,
	.write = alloc_order_write,
	.llseek = default_llseek,
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
	debugfs_create_file("arrived", 0600, sto_dir, NULL, &arrived_fops);
	debugfs_create_file("last_failure", 0400, sto_dir, &failure_seen,
			    &last_event_fops);
	debugfs_create_file("last_offline", 0400, sto_dir, &offline_seen,
			    &last_event_fops);
	debugfs_create_file("frag", 0600, sto_dir, NULL, &frag_fops);
	debugfs_create_file("alloc_order", 0600, sto_dir, &last_alloc_order,
			    &alloc_order_fops);
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
	sto_frag_free();
	mutex_unlock(&sto_lock);
	if (own && !leak)
		spm_node_release(nid, &sto_owner);
}

module_init(sto_init);
module_exit(sto_exit);

MODULE_DESCRIPTION("Test owner of an SPM node: capabilities, callbacks, reclaim");
MODULE_LICENSE("GPL");
