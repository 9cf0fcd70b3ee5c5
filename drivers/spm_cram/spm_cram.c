// SPDX-License-Identifier: GPL-2.0
/*
 * spm_cram: a compressed-RAM service on an SPM node.
 *
 * It emulates a compressed-memory device: a NUMA node whose memory is
 * addressed like ordinary RAM, but which stores every page compressed, so
 * that its physical capacity (the budget) is smaller than the node.  The
 * service owns an SPM node (by default node 3, onlined through dax with
 * the spm_node bit) and turns on only what such a device can afford:
 *
 *  - SPM_CAP_RECLAIM and SPM_CAP_DEMOTION: folios enter the node only by
 *    demotion from the SysRAM tiers (plus move_pages() with allow_move=1);
 *    never SPM_CAP_USER, so nothing is allocated there directly.
 *  - SPM_CAP_WRITE_FENCE (fence=1, the default): demoted folios are mapped
 *    read-only and a write fault promotes the folio back to SysRAM before
 *    the write proceeds, so writes can never change a stored page behind
 *    the device's back and collapse its compression ratio.
 *
 * Accounting.  When a folio arrives, each of its pages is compressed with
 * LZ4 (in the callback, with per-CPU buffers: callbacks must not sleep)
 * and the compressed size is recorded per pfn; a page LZ4 cannot shrink is
 * recorded as PAGE_SIZE (stored raw).  logical_bytes is PAGE_SIZE per
 * tracked page, physical_bytes the sum of their recorded sizes: what the
 * device would hold, without allocator overhead.  When a page leaves the
 * node (freed, or migrated away and its old copy freed) its size is
 * subtracted.  Pages already on the node when the module is loaded are not
 * tracked.
 *
 * Budget.  physical_bytes is kept under the high watermark (high_pct of
 * budget_mb) by refusing demotion: may_demote() answers false (a
 * "throttled" event) when the folio could take physical usage above the
 * high watermark.  Migration asks for a whole batch of folios before the
 * first one arrives, so each approved folio reserves its worst case
 * (PAGE_SIZE a page) until it arrives and is accounted at its real size.
 * A reservation whose folio never arrives (the migration failed) is
 * returned when its new page is freed untracked, or at the latest after a
 * second without any demotion request.  Only demotion is budgeted:
 * move_pages() (allow_move=1) does not ask.  When demotion is throttled,
 * usage is above the high watermark (after a rescan), or the page
 * allocator reports the node low on free pages, a work item calls
 * spm_node_reclaim() on the node until physical usage is below the low
 * watermark (anonymous folios can only leave the node by reclaim when
 * there is swap).
 *
 * Counting.  fenced_writes counts write faults on the node.  promotions
 * counts pages that a write fault marked and whose copy on the node was
 * then freed: completed promotions, counted in pages_freed() (a marked
 * page freed for another reason before its promotion would count too).
 * demotions counts pages that arrived (by demotion, or by move_pages()
 * when allow_move=1).
 *
 * Without the write fence (fence=0) writes to demoted pages happen in
 * place and the service cannot see them: the recorded sizes go stale.
 * Writing to the "rescan" file recompresses every tracked page and
 * corrects physical_bytes to what the node really holds, which shows how
 * far unfenced writes took the device past its budget.
 *
 * Unloading with folios on the node is allowed: the node is released
 * (it goes back to the capabilities of an unowned SPM node) and its folios
 * stay where they are as ordinary memory, mapped read-only until their
 * next write, which then needs no promotion.
 *
 * Statistics and controls are in /sys/kernel/spm_cram/.
 */

#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/atomic.h>
#include <linux/bits.h>
#include <linux/highmem.h>
#include <linux/kobject.h>
#include <linux/local_lock.h>
#include <linux/lz4.h>
#include <linux/memory_hotplug.h>
#include <linux/mm.h>
#include <linux/mmzone.h>
#include <linux/module.h>
#include <linux/pagemap.h>
#include <linux/nodemask.h>
#include <linux/percpu.h>
#include <linux/slab.h>
#include <linux/spm_node.h>
#include <linux/sysfs.h>
#include <linux/vmalloc.h>
#include <linux/workqueue.h>

static int cram_nid = 3;
module_param_named(nid, cram_nid, int, 0444);
MODULE_PARM_DESC(nid, "SPM node to own (default 3)");

static unsigned int budget_mb = 128;
module_param(budget_mb, uint, 0444);
MODULE_PARM_DESC(budget_mb, "physical capacity of the device in MiB (default 128)");

static unsigned int high_pct = 90;
module_param(high_pct, uint, 0444);
MODULE_PARM_DESC(high_pct, "high watermark, % of the budget: demotion stops (default 90)");

static unsigned int low_pct = 75;
module_param(low_pct, uint, 0444);
MODULE_PARM_DESC(low_pct, "low watermark, % of the budget: reclaim stops (default 75)");

static bool fence = true;
module_param(fence, bool, 0444);
MODULE_PARM_DESC(fence, "write-fence the node: writes promote to SysRAM (default 1)");

static bool allow_move;
module_param(allow_move, bool, 0444);
MODULE_PARM_DESC(allow_move, "grant SPM_CAP_MIGRATION: move_pages() in and out (default 0)");

/*
 * One record per pfn of the node: the compressed size of a tracked page
 * (0: not tracked) and a flag set by a write fault that asked to promote it.
 */
#define CRAM_SIZE_MASK		GENMASK(23, 0)
#define CRAM_PROMOTING		BIT(30)

/* Largest reclaim request per spm_node_reclaim() call. */
#define CRAM_RECLAIM_BATCH	512UL
/* Most spm_node_reclaim() calls per run of the reclaim work. */
#define CRAM_RECLAIM_ROUNDS	64

struct cram_pcpu {
	local_lock_t lock;
	void *wrkmem;		/* LZ4_MEM_COMPRESS */
	void *dst;		/* PAGE_SIZE: larger output counts as raw */
};

static DEFINE_PER_CPU(struct cram_pcpu, cram_pcpu) = {
	.lock = INIT_LOCAL_LOCK(lock),
};

static struct {
	unsigned long start_pfn;
	unsigned long nr_pfns;
	atomic_t *rec;

	unsigned long budget;
	unsigned long high;
	unsigned long low;

	atomic_long_t logical;
	atomic_long_t physical;
	atomic_long_t reserved;		/* approved, not arrived yet */
	unsigned long last_reserve;	/* jiffies */
	atomic_long_t peak;
	atomic_long_t demotions;
	atomic_long_t promotions;
	atomic_long_t fenced_writes;
	atomic_long_t throttled;
	atomic_long_t reclaim_runs;
	atomic_long_t reclaimed;
	atomic_long_t pressure;
	atomic_long_t untracked;

	unsigned long flags;
	struct delayed_work reclaim_work;
	struct kobject *kobj;
} cram;

/* cram.flags */
#define CRAM_PRESSURE_PENDING	0	/* the node ran low on free pages */
#define CRAM_RECLAIM_STALLED	1	/* the last reclaim run freed nothing */

static DEFINE_MUTEX(cram_rescan_lock);

/* ---------------------------------------------------------------------
 * Compression and per-pfn records.
 */

/* Compressed size of @page: 1..PAGE_SIZE (PAGE_SIZE: stored raw). */
static unsigned int cram_compress(struct page *page, struct cram_pcpu *pc)
{
	void *src = kmap_local_page(page);
	int len;

	len = LZ4_compress_default(src, pc->dst, PAGE_SIZE, PAGE_SIZE,
				   pc->wrkmem);
	kunmap_local(src);
	return len > 0 ? len : PAGE_SIZE;
}

static atomic_t *cram_rec(unsigned long pfn)
{
	if (pfn < cram.start_pfn || pfn - cram.start_pfn >= cram.nr_pfns)
		return NULL;
	return &cram.rec[pfn - cram.start_pfn];
}

static void cram_update_peak(long phys)
{
	long peak = atomic_long_read(&cram.peak);

	while (phys > peak &&
	       !atomic_long_try_cmpxchg(&cram.peak, &peak, phys))
		;
}

/* Return up to @bytes of reservation (never below zero). */
static void cram_unreserve(long bytes)
{
	long res = atomic_long_read(&cram.reserved);

	while (res > 0 &&
	       !atomic_long_try_cmpxchg(&cram.reserved, &res,
					res > bytes ? res - bytes : 0))
		;
}

static void cram_kick_reclaim(void)
{
	unsigned long delay = 0;

	/* After a run that freed nothing, do not rescan the node at once. */
	if (test_bit(CRAM_RECLAIM_STALLED, &cram.flags))
		delay = HZ / 10;
	queue_delayed_work(system_unbound_wq, &cram.reclaim_work, delay);
}

/* Add @dphys physical and @dlog logical bytes; kick reclaim over high. */
static void cram_account(long dphys, long dlog)
{
	long phys;

	atomic_long_add(dlog, &cram.logical);
	phys = atomic_long_add_return(dphys, &cram.physical);
	cram_update_peak(phys);
	if (phys > cram.high)
		cram_kick_reclaim();
}

/* ---------------------------------------------------------------------
 * SPM node callbacks: under rcu_read_lock(), must not sleep.
 */

static void cram_folio_arrived(const struct spm_node_owner *owner, int nid,
			       struct folio *folio)
{
	unsigned long pfn = folio_pfn(folio);
	long i, nr = folio_nr_pages(folio), dphys = 0, dlog = 0;
	struct cram_pcpu *pc;

	local_lock(&cram_pcpu.lock);
	pc = this_cpu_ptr(&cram_pcpu);
	for (i = 0; i < nr; i++) {
		atomic_t *rec = cram_rec(pfn + i);
		unsigned int size, old;

		if (!rec) {
			atomic_long_inc(&cram.untracked);
			continue;
		}
		size = cram_compress(folio_page(folio, i), pc);
		old = atomic_xchg(rec, size) & CRAM_SIZE_MASK;
		dphys += (long)size - old;
		if (!old)
			dlog += PAGE_SIZE;
	}
	local_unlock(&cram_pcpu.lock);

	atomic_long_add(nr, &cram.demotions);
	cram_account(dphys, dlog);
	cram_unreserve(nr << PAGE_SHIFT);
}

/* Any context, even hard interrupts: atomics only. */
static void cram_pages_freed(const struct spm_node_owner *owner, int nid,
			     struct page *page, unsigned int order)
{
	unsigned long pfn = page_to_pfn(page), i;
	long dphys = 0, dlog = 0, promoted = 0, untracked = 0;

	for (i = 0; i < (1UL << order); i++) {
		atomic_t *rec = cram_rec(pfn + i);
		unsigned int old;

		if (!rec || !atomic_read(rec)) {
			untracked++;
			continue;
		}
		old = atomic_xchg(rec, 0);
		if (old & CRAM_SIZE_MASK) {
			dphys += old & CRAM_SIZE_MASK;
			dlog += PAGE_SIZE;
		}
		if (old & CRAM_PROMOTING)
			promoted++;
	}
	/* Likely the new page of a demotion that failed: its reservation. */
	if (untracked)
		cram_unreserve(untracked << PAGE_SHIFT);
	if (promoted)
		atomic_long_add(promoted, &cram.promotions);
	if (dlog || dphys) {
		atomic_long_sub(dlog, &cram.logical);
		atomic_long_sub(dphys, &cram.physical);
	}
}

static bool cram_may_demote(const struct spm_node_owner *owner, int nid,
			    unsigned long nr_pages)
{
	long bytes = nr_pages << PAGE_SHIFT, res;
	unsigned long last = READ_ONCE(cram.last_reserve);

	/* Nothing asked for a second: whatever is still reserved leaked. */
	if (time_after(jiffies, last + HZ) &&
	    try_cmpxchg(&cram.last_reserve, &last, jiffies))
		atomic_long_set(&cram.reserved, 0);
	WRITE_ONCE(cram.last_reserve, jiffies);

	/* Reserve the worst case: the folio does not compress at all. */
	res = atomic_long_add_return(bytes, &cram.reserved);
	if (atomic_long_read(&cram.physical) + res <= (long)cram.high)
		return true;
	atomic_long_sub(bytes, &cram.reserved);
	atomic_long_inc(&cram.throttled);
	cram_kick_reclaim();
	return false;
}

static enum spm_write_action
cram_write_fault(const struct spm_node_owner *owner, int nid,
		 struct folio *folio, struct vm_area_struct *vma,
		 unsigned long addr, int *target_nid)
{
	unsigned long idx = 0;
	atomic_t *rec;

	atomic_long_inc(&cram.fenced_writes);
	/*
	 * A promotion copies the one page written, even of a large folio
	 * (the kernel handles fenced writes at PTE level): mark that page
	 * only, so that the others, freed later, are not counted as
	 * promotions.
	 */
	if (folio_test_large(folio)) {
		idx = linear_page_index(vma, addr) - folio->index;
		if (idx >= folio_nr_pages(folio))
			idx = 0;
	}
	rec = cram_rec(folio_pfn(folio) + idx);
	if (rec)
		atomic_or(CRAM_PROMOTING, rec);
	return SPM_WRITE_PROMOTE;
}

static void cram_pressure(const struct spm_node_owner *owner, int nid)
{
	atomic_long_inc(&cram.pressure);
	set_bit(CRAM_PRESSURE_PENDING, &cram.flags);
	cram_kick_reclaim();
}

static const struct spm_node_ops cram_ops = {
	.pages_freed	= cram_pages_freed,
	.folio_arrived	= cram_folio_arrived,
	.may_demote	= cram_may_demote,
	.write_fault	= cram_write_fault,
	.pressure	= cram_pressure,
};

static struct spm_node_owner cram_owner = {
	.name	= "spm_cram",
	.ops	= &cram_ops,
};

/* ---------------------------------------------------------------------
 * Reclaim: bring physical usage back under the low watermark.
 */

/* Pages to reclaim so that physical usage drops to the low watermark. */
static unsigned long cram_reclaim_target(void)
{
	long phys = atomic_long_read(&cram.physical);
	long pages = atomic_long_read(&cram.logical) >> PAGE_SHIFT;

	if (phys <= (long)cram.low || pages <= 0)
		return 0;
	/* At the node's average compressed page size. */
	return min(DIV_ROUND_UP((phys - cram.low) * pages, phys),
		   CRAM_RECLAIM_BATCH);
}

static void cram_reclaim_fn(struct work_struct *work)
{
	unsigned long nr, got, total = 0;
	int round;

	atomic_long_inc(&cram.reclaim_runs);
	if (test_and_clear_bit(CRAM_PRESSURE_PENDING, &cram.flags))
		total += spm_node_reclaim(cram_nid, CRAM_RECLAIM_BATCH);

	/* Bounded: usage may not drop if what is reclaimed is not ours. */
	for (round = 0; round < CRAM_RECLAIM_ROUNDS; round++) {
		nr = cram_reclaim_target();
		if (!nr)
			break;
		got = spm_node_reclaim(cram_nid, nr);
		total += got;
		if (!got)
			break;
		cond_resched();
	}
	atomic_long_add(total, &cram.reclaimed);
	assign_bit(CRAM_RECLAIM_STALLED, &cram.flags, !total);
}

/* ---------------------------------------------------------------------
 * Rescan: recompress every tracked page as it is now.
 */

static void cram_rescan(void)
{
	unsigned long i;
	long dphys = 0;

	mutex_lock(&cram_rescan_lock);
	for (i = 0; i < cram.nr_pfns; i++) {
		atomic_t *rec = &cram.rec[i];
		struct folio *folio;
		struct page *page;
		unsigned int size;
		int old;

		if (!(atomic_read(rec) & CRAM_SIZE_MASK))
			continue;
		page = pfn_to_online_page(cram.start_pfn + i);
		if (!page)
			continue;
		/* A reference keeps the page from being freed under us. */
		folio = page_folio(page);
		if (!folio_try_get(folio))
			continue;
		if (page_folio(page) != folio)
			goto put;
		old = atomic_read(rec);
		if (!(old & CRAM_SIZE_MASK))
			goto put;

		local_lock(&cram_pcpu.lock);
		size = cram_compress(page, this_cpu_ptr(&cram_pcpu));
		local_unlock(&cram_pcpu.lock);

		if (atomic_try_cmpxchg(rec, &old, (old & ~CRAM_SIZE_MASK) | size))
			dphys += (long)size - (old & CRAM_SIZE_MASK);
put:
		folio_put(folio);
		cond_resched();
	}
	cram_account(dphys, 0);
	mutex_unlock(&cram_rescan_lock);
}

/* ---------------------------------------------------------------------
 * sysfs: /sys/kernel/spm_cram/
 */

#define CRAM_COUNTER(_name, _field)					\
static ssize_t _name##_show(struct kobject *kobj,			\
			    struct kobj_attribute *attr, char *buf)	\
{									\
	return sysfs_emit(buf, "%ld\n", atomic_long_read(&cram._field));	\
}									\
static struct kobj_attribute cram_##_name##_attr = __ATTR_RO(_name)

#define CRAM_VALUE(_name, _expr)					\
static ssize_t _name##_show(struct kobject *kobj,			\
			    struct kobj_attribute *attr, char *buf)	\
{									\
	return sysfs_emit(buf, "%lu\n", (unsigned long)(_expr));	\
}									\
static struct kobj_attribute cram_##_name##_attr = __ATTR_RO(_name)

CRAM_COUNTER(logical_bytes, logical);
CRAM_COUNTER(physical_bytes, physical);
CRAM_COUNTER(peak_physical_bytes, peak);
CRAM_COUNTER(reserved_bytes, reserved);
CRAM_COUNTER(demotions, demotions);
CRAM_COUNTER(promotions, promotions);
CRAM_COUNTER(fenced_writes, fenced_writes);
CRAM_COUNTER(throttled, throttled);
CRAM_COUNTER(reclaim_runs, reclaim_runs);
CRAM_COUNTER(reclaimed_pages, reclaimed);
CRAM_COUNTER(pressure_events, pressure);
CRAM_COUNTER(untracked_pages, untracked);
CRAM_VALUE(budget_bytes, cram.budget);
CRAM_VALUE(high_watermark_bytes, cram.high);
CRAM_VALUE(low_watermark_bytes, cram.low);
CRAM_VALUE(node, cram_nid);
CRAM_VALUE(fence, fence);

/* logical / physical with three decimals ("2.531"); 0.000 when empty. */
static ssize_t ratio_show(struct kobject *kobj, struct kobj_attribute *attr,
			  char *buf)
{
	long log = atomic_long_read(&cram.logical);
	long phys = atomic_long_read(&cram.physical);
	long milli = phys > 0 ? log * 1000 / phys : 0;

	return sysfs_emit(buf, "%ld.%03ld\n", milli / 1000, milli % 1000);
}

static struct kobj_attribute cram_ratio_attr = __ATTR_RO(ratio);

/* The trigger files take a true value ("1", "y"): 0 or -EINVAL. */
static int cram_parse_trigger(const char *buf)
{
	bool on;
	int ret = kstrtobool(buf, &on);

	if (ret)
		return ret;
	return on ? 0 : -EINVAL;
}

static ssize_t rescan_store(struct kobject *kobj, struct kobj_attribute *attr,
			    const char *buf, size_t count)
{
	int ret = cram_parse_trigger(buf);

	if (ret)
		return ret;
	cram_rescan();
	return count;
}

static struct kobj_attribute cram_rescan_attr = __ATTR_WO(rescan);

/* Zero the event counters; the peak restarts from the current usage. */
static ssize_t reset_store(struct kobject *kobj, struct kobj_attribute *attr,
			   const char *buf, size_t count)
{
	int ret = cram_parse_trigger(buf);

	if (ret)
		return ret;
	atomic_long_set(&cram.demotions, 0);
	atomic_long_set(&cram.promotions, 0);
	atomic_long_set(&cram.fenced_writes, 0);
	atomic_long_set(&cram.throttled, 0);
	atomic_long_set(&cram.reclaim_runs, 0);
	atomic_long_set(&cram.reclaimed, 0);
	atomic_long_set(&cram.pressure, 0);
	atomic_long_set(&cram.untracked, 0);
	atomic_long_set(&cram.peak, atomic_long_read(&cram.physical));
	return count;
}

static struct kobj_attribute cram_reset_attr = __ATTR_WO(reset);

static struct attribute *cram_attrs[] = {
	&cram_logical_bytes_attr.attr,
	&cram_physical_bytes_attr.attr,
	&cram_peak_physical_bytes_attr.attr,
	&cram_reserved_bytes_attr.attr,
	&cram_ratio_attr.attr,
	&cram_demotions_attr.attr,
	&cram_promotions_attr.attr,
	&cram_fenced_writes_attr.attr,
	&cram_throttled_attr.attr,
	&cram_reclaim_runs_attr.attr,
	&cram_reclaimed_pages_attr.attr,
	&cram_pressure_events_attr.attr,
	&cram_untracked_pages_attr.attr,
	&cram_budget_bytes_attr.attr,
	&cram_high_watermark_bytes_attr.attr,
	&cram_low_watermark_bytes_attr.attr,
	&cram_node_attr.attr,
	&cram_fence_attr.attr,
	&cram_rescan_attr.attr,
	&cram_reset_attr.attr,
	NULL,
};

static const struct attribute_group cram_group = {
	.attrs = cram_attrs,
};

static int cram_sysfs_add(void)
{
	int ret;

	cram.kobj = kobject_create_and_add("spm_cram", kernel_kobj);
	if (!cram.kobj)
		return -ENOMEM;
	ret = sysfs_create_group(cram.kobj, &cram_group);
	if (ret) {
		kobject_put(cram.kobj);
		cram.kobj = NULL;
	}
	return ret;
}

static void cram_sysfs_remove(void)
{
	kobject_put(cram.kobj);
	cram.kobj = NULL;
}

/* ---------------------------------------------------------------------
 * Load and unload.
 */

static void cram_free_buffers(void)
{
	int cpu;

	for_each_possible_cpu(cpu) {
		struct cram_pcpu *pc = per_cpu_ptr(&cram_pcpu, cpu);

		kvfree(pc->wrkmem);
		kfree(pc->dst);
		pc->wrkmem = NULL;
		pc->dst = NULL;
	}
	vfree(cram.rec);
	cram.rec = NULL;
}

static int cram_alloc_buffers(void)
{
	int cpu;

	cram.rec = vzalloc(array_size(cram.nr_pfns, sizeof(*cram.rec)));
	if (!cram.rec)
		return -ENOMEM;
	for_each_possible_cpu(cpu) {
		struct cram_pcpu *pc = per_cpu_ptr(&cram_pcpu, cpu);
		int node = cpu_to_node(cpu);

		pc->wrkmem = kvmalloc_node(LZ4_MEM_COMPRESS, GFP_KERNEL, node);
		pc->dst = kmalloc_node(PAGE_SIZE, GFP_KERNEL, node);
		if (!pc->wrkmem || !pc->dst) {
			cram_free_buffers();
			return -ENOMEM;
		}
	}
	return 0;
}

static int cram_check_params(void)
{
	if (cram_nid < 0 || cram_nid >= MAX_NUMNODES ||
	    !node_state(cram_nid, N_MEMORY)) {
		pr_err("node %d has no memory (online it through dax first)\n",
		       cram_nid);
		return -ENODEV;
	}
	if (!node_is_spm(cram_nid)) {
		pr_err("node %d is not an SPM node\n", cram_nid);
		return -ENODEV;
	}
	if (!budget_mb || high_pct > 100 || low_pct >= high_pct) {
		pr_err("need budget_mb > 0 and low_pct < high_pct <= 100\n");
		return -EINVAL;
	}
	return 0;
}

static int cram_set_caps(void)
{
	static const struct {
		enum spm_node_cap cap;
		const char *name;
	} caps[] = {
		/* The fence before anything can arrive unfenced. */
		{ SPM_CAP_WRITE_FENCE, "write_fence" },
		{ SPM_CAP_RECLAIM, "reclaim" },
		{ SPM_CAP_MIGRATION, "migration" },
		{ SPM_CAP_DEMOTION, "demotion" },
	};
	int i, ret;

	for (i = 0; i < ARRAY_SIZE(caps); i++) {
		if (caps[i].cap == SPM_CAP_WRITE_FENCE && !fence)
			continue;
		if (caps[i].cap == SPM_CAP_MIGRATION && !allow_move)
			continue;
		ret = spm_node_set_cap(cram_nid, &cram_owner, caps[i].cap, true);
		if (ret) {
			pr_err("node %d: cannot turn on %s: %d\n", cram_nid,
			       caps[i].name, ret);
			return ret;
		}
	}
	return 0;
}

static int __init cram_init(void)
{
	pg_data_t *pgdat;
	int ret;

	ret = cram_check_params();
	if (ret)
		return ret;

	pgdat = NODE_DATA(cram_nid);
	cram.start_pfn = pgdat->node_start_pfn;
	cram.nr_pfns = pgdat->node_spanned_pages;
	cram.budget = (unsigned long)budget_mb << 20;
	cram.high = cram.budget * high_pct / 100;
	cram.low = cram.budget * low_pct / 100;
	INIT_DELAYED_WORK(&cram.reclaim_work, cram_reclaim_fn);

	ret = cram_alloc_buffers();
	if (ret)
		return ret;

	ret = spm_node_claim(cram_nid, &cram_owner);
	if (ret) {
		pr_err("cannot claim node %d: %d\n", cram_nid, ret);
		goto free;
	}
	ret = cram_set_caps();
	if (ret)
		goto release;
	ret = cram_sysfs_add();
	if (ret) {
		pr_err("cannot create /sys/kernel/spm_cram: %d\n", ret);
		goto release;
	}
	pr_info("node %d (pfn %#lx+%#lx): budget %u MiB, watermarks %u%%/%u%%, write fence %s, move %s\n",
		cram_nid, cram.start_pfn, cram.nr_pfns, budget_mb, high_pct,
		low_pct, fence ? "on" : "off", allow_move ? "on" : "off");
	return 0;

release:
	spm_node_release(cram_nid, &cram_owner);
	cancel_delayed_work_sync(&cram.reclaim_work);
free:
	cram_free_buffers();
	return ret;
}

static void __exit cram_exit(void)
{
	cram_sysfs_remove();
	/* No callback runs once this returns; folios stay on the node. */
	spm_node_release(cram_nid, &cram_owner);
	cancel_delayed_work_sync(&cram.reclaim_work);
	pr_info("node %d released with %ld bytes (%ld compressed) still on it\n",
		cram_nid, atomic_long_read(&cram.logical),
		atomic_long_read(&cram.physical));
	cram_free_buffers();
}

module_init(cram_init);
module_exit(cram_exit);

MODULE_DESCRIPTION("Compressed-RAM service on an SPM node (demotion target, write fence, LZ4 accounting)");
MODULE_LICENSE("GPL");
