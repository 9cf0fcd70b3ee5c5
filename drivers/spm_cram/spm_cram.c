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
 * LZ4 and the compressed size is recorded in an xarray keyed by pfn, so
 * that the records take memory in proportion to the pages on the node, not
 * to its span; a page LZ4 cannot shrink is recorded as PAGE_SIZE (stored
 * raw).  Folios of up to CRAM_INLINE_PAGES pages are compressed in the
 * callback (per-CPU buffers: callbacks must not sleep); a larger folio (a
 * THP: 512 pages) is recorded at PAGE_SIZE a page and handed, referenced,
 * to a work item that compresses it page by page, rescheduling in between,
 * and corrects the sizes.  logical_bytes is PAGE_SIZE per tracked page,
 * physical_bytes the sum of their recorded sizes: what the device would
 * hold, without allocator overhead.  Sizes and counters are 64-bit.  When a
 * page leaves the node (freed, or migrated away and its old copy freed) its
 * record goes and its size is subtracted.  A folio that compaction (or an
 * offline) moves within the node takes its records along: folio_arrived()
 * says where it came from, and nothing is compressed or counted again.  A
 * hwpoisoned page drops its record in the memory_failure callback (a
 * poisoned page is never freed, so pages_freed() does not come), counted
 * in poisoned_pages; a rescan drops any left.  Pages already on the node
 * when the module is loaded are not tracked.
 *
 * Budget.  physical_bytes is kept under the high watermark (high_pct of
 * the budget) by refusing demotion: may_demote() answers false (a
 * "throttled" event, pool_limit_hit) when the folio could take physical
 * usage above the high watermark.  Migration asks for a whole batch of
 * folios before the first one arrives, so each approved folio reserves its
 * worst case (PAGE_SIZE a page) until it arrives and is accounted at its
 * real size.  Reservations are kept per reclaiming task, and a demotion
 * that does not come (demote_aborted()) gives its reservation back; see
 * "Reservations" below.  Only
 * demotion is budgeted: move_pages() (allow_move=1) does not ask.  When
 * demotion is throttled, usage is above the high watermark (after a rescan
 * or a smaller capacity), or the page allocator reports the node low on
 * free pages, a work item calls spm_node_reclaim() on the node until
 * physical usage is below the low watermark (anonymous folios can only
 * leave the node by reclaim when there is swap).  The budget is the
 * device's physical capacity: budget_mb at load, budget_bytes in sysfs at
 * run time (the watermarks follow).
 *
 * Counting.  fenced_writes counts write faults on the node.  promotions
 * counts pages that a write fault marked and whose copy on the node was
 * then freed: completed promotions, counted in pages_freed() (a marked
 * page freed for another reason before its promotion would count too).
 * demotions counts pages that arrived (by demotion, or by move_pages()
 * when allow_move=1); moved_within_node the pages compaction or an offline
 * moved inside the node.  These are zeroed by "reset"; the files named as
 * zswap's are not: stored_pages and pool_total_size (bytes) are the pool
 * as it is, and written_back_pages, reject_compress_poor,
 * reject_alloc_fail, pool_limit_hit, compress_deferred_pages,
 * reserve_dropped_bytes, demote_aborted_pages and poisoned_pages only
 * grow.
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
#include <linux/llist.h>
#include <linux/local_lock.h>
#include <linux/lz4.h>
#include <linux/math64.h>
#include <linux/memory_hotplug.h>
#include <linux/mm.h>
#include <linux/mmzone.h>
#include <linux/module.h>
#include <linux/pagemap.h>
#include <linux/nodemask.h>
#include <linux/percpu.h>
#include <linux/sched.h>
#include <linux/sched/task.h>
#include <linux/slab.h>
#include <linux/spinlock.h>
#include <linux/spm_node.h>
#include <linux/sysfs.h>
#include <linux/workqueue.h>
#include <linux/xarray.h>

static int cram_nid = 3;
module_param_named(nid, cram_nid, int, 0444);
MODULE_PARM_DESC(nid, "SPM node to own (default 3)");

static unsigned int budget_mb = 128;
module_param(budget_mb, uint, 0444);
MODULE_PARM_DESC(budget_mb, "physical capacity of the device in MiB at load (default 128; budget_bytes in sysfs changes it)");

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
 * One record per tracked page, an xarray value entry keyed by pfn: the
 * compressed size of the page, a flag set by a write fault that asked to
 * promote it, and a flag for a page accounted at PAGE_SIZE whose
 * compression is queued to the work item.
 */
#define CRAM_SIZE_MASK		GENMASK(23, 0)
#define CRAM_PENDING		BIT(29)
#define CRAM_PROMOTING		BIT(30)

/* Folios up to this size are compressed in folio_arrived() itself. */
#define CRAM_INLINE_PAGES	16

/* Largest reclaim request per spm_node_reclaim() call. */
#define CRAM_RECLAIM_BATCH	512UL
/* Most spm_node_reclaim() calls per run of the reclaim work. */
#define CRAM_RECLAIM_ROUNDS	64

/* Tasks that may hold reservations at the same time. */
#define CRAM_RES_SLOTS		32

struct cram_pcpu {
	local_lock_t lock;
	void *wrkmem;		/* LZ4_MEM_COMPRESS */
	void *dst;		/* PAGE_SIZE: larger output counts as raw */
};

static DEFINE_PER_CPU(struct cram_pcpu, cram_pcpu) = {
	.lock = INIT_LOCAL_LOCK(lock),
};

/* Records; erased from the page free path, so the lock is IRQ-safe. */
static DEFINE_XARRAY_FLAGS(cram_recs, XA_FLAGS_LOCK_IRQ);

/*
 * A reclaiming task's outstanding reservations: @bytes approved by
 * may_demote() that neither arrived nor were aborted yet.
 */
struct cram_res {
	struct task_struct *task;	/* referenced; NULL: free slot */
	u64 bytes;
	unsigned long last;		/* jiffies of the last event */
};

static struct cram_res cram_res[CRAM_RES_SLOTS];
static DEFINE_SPINLOCK(cram_res_lock);

/* A large folio whose pages the compression work item still has to do. */
struct cram_deferred {
	struct llist_node node;
	struct folio *folio;		/* referenced */
	unsigned long pfn;
	unsigned long nr;
};

static LLIST_HEAD(cram_defer_list);

static struct {
	u64 budget;
	u64 high;
	u64 low;

	atomic64_t logical;
	atomic64_t physical;
	atomic64_t reserved;		/* approved, not arrived yet */
	atomic64_t peak;
	atomic64_t pending;		/* pages queued for compression */

	/* Event counters, zeroed by "reset". */
	atomic64_t demotions;
	atomic64_t promotions;
	atomic64_t fenced_writes;
	atomic64_t throttled;
	atomic64_t reclaim_runs;
	atomic64_t reclaimed;
	atomic64_t pressure;
	atomic64_t untracked;
	atomic64_t moved;		/* pages moved within the node */

	/* zswap-style counters: they only grow. */
	atomic64_t written_back;
	atomic64_t reject_compress_poor;
	atomic64_t reject_alloc_fail;
	atomic64_t pool_limit_hit;
	atomic64_t deferred;
	atomic64_t res_dropped;		/* bytes of reservations that expired */
	atomic64_t demote_aborted;	/* pages approved that did not come */
	atomic64_t poisoned;

	unsigned long flags;
	struct delayed_work reclaim_work;
	struct delayed_work res_work;
	struct work_struct compress_work;
	void *wk_wrkmem;		/* the compression work item's buffers */
	void *wk_dst;
	struct kobject *kobj;
} cram;

/* cram.flags */
#define CRAM_PRESSURE_PENDING	0	/* the node ran low on free pages */
#define CRAM_RECLAIM_STALLED	1	/* the last reclaim run freed nothing */

static DEFINE_MUTEX(cram_rescan_lock);
/* Serializes capacity changes (budget, watermarks). */
static DEFINE_MUTEX(cram_capacity_lock);

/* ---------------------------------------------------------------------
 * Compression and per-pfn records.
 */

/* Compressed size of @page: 1..PAGE_SIZE (PAGE_SIZE: stored raw). */
static unsigned int cram_compress(struct page *page, void *wrkmem, void *dst)
{
	void *src = kmap_local_page(page);
	int len;

	len = LZ4_compress_default(src, dst, PAGE_SIZE, PAGE_SIZE, wrkmem);
	kunmap_local(src);
	return len > 0 && len < PAGE_SIZE ? len : PAGE_SIZE;
}

/* Compression of an arriving page: count the pages stored raw. */
static unsigned int cram_compress_new(struct page *page, void *wrkmem,
				      void *dst)
{
	unsigned int size = cram_compress(page, wrkmem, dst);

	if (size == PAGE_SIZE)
		atomic64_inc(&cram.reject_compress_poor);
	return size;
}

static unsigned long cram_rec_val(void *entry)
{
	return entry ? xa_to_value(entry) : 0;
}

static void cram_update_peak(s64 phys)
{
	s64 peak = atomic64_read(&cram.peak);

	while (phys > peak && !atomic64_try_cmpxchg(&cram.peak, &peak, phys))
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
static void cram_account(s64 dphys, s64 dlog)
{
	s64 phys;

	atomic64_add(dlog, &cram.logical);
	phys = atomic64_add_return(dphys, &cram.physical);
	cram_update_peak(phys);
	if (phys > (s64)READ_ONCE(cram.high))
		cram_kick_reclaim();
}

/*
 * Record @val for @pfn.  Returns the old record's value (0: none), or -1
 * when the record could not be stored (the page stays untracked).
 */
static long cram_rec_store(unsigned long pfn, unsigned long val)
{
	unsigned long flags;
	void *old;

	xa_lock_irqsave(&cram_recs, flags);
	old = __xa_store(&cram_recs, pfn, xa_mk_value(val),
			 GFP_ATOMIC | __GFP_NOWARN);
	xa_unlock_irqrestore(&cram_recs, flags);
	if (xa_is_err(old)) {
		atomic64_inc(&cram.reject_alloc_fail);
		atomic64_inc(&cram.untracked);
		return -1;
	}
	return cram_rec_val(old);
}

/* ---------------------------------------------------------------------
 * Reservations.
 *
 * may_demote() is called by the reclaiming task right before it allocates
 * the new folio on the node, and the kernel follows every true answer, in
 * that same task, with exactly one folio_arrived() (MR_DEMOTION, or
 * MR_DAMON) or one demote_aborted() (no folio on the node, or a migration
 * that failed).  A reservation is kept per task and given back by those
 * events in the task's own context.  As a safety net, the expiry work
 * releases what a task still holds once it had no event for a second and
 * is demonstrably not migrating: it exited, left reclaim (no PF_MEMALLOC)
 * or sleeps interruptibly (kswapd between runs).  Such a release counts in
 * reserve_dropped_bytes, which stays 0 while the pairing holds.
 */

static struct cram_res *cram_res_find(struct task_struct *task)
{
	int i;

	lockdep_assert_held(&cram_res_lock);
	for (i = 0; i < CRAM_RES_SLOTS; i++)
		if (cram_res[i].task == task)
			return &cram_res[i];
	return NULL;
}

/*
 * Give back up to @bytes of @r's reservation (@dead: it expired).  Returns
 * the slot's task when the slot emptied: the caller drops that reference
 * outside the lock.
 */
static struct task_struct *cram_res_put(struct cram_res *r, u64 bytes,
					bool dead)
{
	struct task_struct *task;

	lockdep_assert_held(&cram_res_lock);
	bytes = min(bytes, r->bytes);
	r->bytes -= bytes;
	atomic64_sub(bytes, &cram.reserved);
	if (dead)
		atomic64_add(bytes, &cram.res_dropped);
	if (r->bytes)
		return NULL;
	task = r->task;
	r->task = NULL;
	return task;
}

/* @bytes approved earlier arrived or were aborted, in the task's context. */
static void cram_res_settle(u64 bytes)
{
	struct task_struct *put = NULL;
	unsigned long flags;
	struct cram_res *r;

	if (!in_task() || !atomic64_read(&cram.reserved))
		return;
	spin_lock_irqsave(&cram_res_lock, flags);
	r = cram_res_find(current);
	if (r) {
		put = cram_res_put(r, bytes, false);
		if (!put)
			r->last = jiffies;
	}
	spin_unlock_irqrestore(&cram_res_lock, flags);
	/* Our own task: never the last reference. */
	if (put)
		put_task_struct(put);
}

/* Whether @task, silent for a second, cannot be in a migration now. */
static bool cram_task_idle(struct task_struct *task)
{
	unsigned int flags = READ_ONCE(task->flags);

	return (flags & PF_EXITING) || !(flags & PF_MEMALLOC) ||
	       (READ_ONCE(task->__state) & TASK_INTERRUPTIBLE);
}

static void cram_res_expire_fn(struct work_struct *work)
{
	struct task_struct *put[CRAM_RES_SLOTS];
	unsigned long flags;
	int i, n = 0;
	bool busy = false;

	spin_lock_irqsave(&cram_res_lock, flags);
	for (i = 0; i < CRAM_RES_SLOTS; i++) {
		struct cram_res *r = &cram_res[i];

		if (!r->task)
			continue;
		if (time_after(jiffies, r->last + HZ) &&
		    cram_task_idle(r->task))
			put[n++] = cram_res_put(r, r->bytes, true);
		else
			busy = true;
	}
	spin_unlock_irqrestore(&cram_res_lock, flags);
	for (i = 0; i < n; i++)
		put_task_struct(put[i]);
	if (busy)
		queue_delayed_work(system_unbound_wq, &cram.res_work, HZ);
}

/* ---------------------------------------------------------------------
 * Compression deferred to a work item (large folios).
 */

/* Queue @folio's pages for compression; false if that cannot be done. */
static bool cram_defer(struct folio *folio)
{
	struct cram_deferred *d = kmalloc(sizeof(*d), GFP_ATOMIC | __GFP_NOWARN);

	if (!d)
		return false;
	folio_get(folio);
	d->folio = folio;
	d->pfn = folio_pfn(folio);
	d->nr = folio_nr_pages(folio);
	llist_add(&d->node, &cram_defer_list);
	return true;
}

/* Replace the queued record of @pfn by its real @size: the change. */
static s64 cram_rec_settle(unsigned long pfn, unsigned int size)
{
	unsigned long flags, val;
	s64 dphys = 0;

	xa_lock_irqsave(&cram_recs, flags);
	val = cram_rec_val(xa_load(&cram_recs, pfn));
	if (val & CRAM_PENDING) {
		__xa_store(&cram_recs, pfn,
			   xa_mk_value((val & ~(CRAM_PENDING | CRAM_SIZE_MASK)) | size),
			   GFP_ATOMIC | __GFP_NOWARN);
		dphys = (s64)size - (s64)(val & CRAM_SIZE_MASK);
		atomic64_dec(&cram.pending);
	}
	xa_unlock_irqrestore(&cram_recs, flags);
	return dphys;
}

static void cram_compress_fn(struct work_struct *work)
{
	struct llist_node *list = llist_del_all(&cram_defer_list);
	struct cram_deferred *d, *tmp;

	list = llist_reverse_order(list);
	llist_for_each_entry_safe(d, tmp, list, node) {
		s64 dphys = 0;
		unsigned long i;

		for (i = 0; i < d->nr; i++) {
			struct page *page = pfn_to_page(d->pfn + i);
			unsigned int size = PAGE_SIZE;

			/*
			 * Our reference keeps the folio's pages allocated;
			 * a page split off it since is left at PAGE_SIZE
			 * (rescan corrects it).
			 */
			if (page_folio(page) == d->folio)
				size = cram_compress_new(page, cram.wk_wrkmem,
							 cram.wk_dst);
			dphys += cram_rec_settle(d->pfn + i, size);
			cond_resched();
		}
		cram_account(dphys, 0);
		folio_put(d->folio);
		kfree(d);
	}
}

/* Drop what is still queued (unload, after the last callback). */
static void cram_defer_drain(void)
{
	struct llist_node *list = llist_del_all(&cram_defer_list);
	struct cram_deferred *d, *tmp;

	llist_for_each_entry_safe(d, tmp, list, node) {
		folio_put(d->folio);
		kfree(d);
	}
}

/* ---------------------------------------------------------------------
 * SPM node callbacks: under rcu_read_lock(), must not sleep.
 */

/*
 * Compaction (or an offline) moved @src within the node: the records go
 * with the pages, nothing is compressed or counted again.  A queued page
 * cannot be here: the work item holds a reference, which fails the
 * migration.
 */
static void cram_move_records(struct folio *folio, struct folio *src)
{
	unsigned long pfn = folio_pfn(folio), from = folio_pfn(src);
	unsigned long i, nr = folio_nr_pages(folio), flags;
	s64 dphys = 0, dlog = 0;

	xa_lock_irqsave(&cram_recs, flags);
	for (i = 0; i < nr; i++) {
		unsigned long val = cram_rec_val(__xa_erase(&cram_recs, from + i));
		void *old;

		if (!val)
			continue;
		old = __xa_store(&cram_recs, pfn + i, xa_mk_value(val),
				 GFP_ATOMIC | __GFP_NOWARN);
		if (xa_is_err(old)) {
			/* Untracked from now on: its size leaves the pool. */
			dphys -= val & CRAM_SIZE_MASK;
			dlog -= PAGE_SIZE;
			atomic64_inc(&cram.reject_alloc_fail);
			atomic64_inc(&cram.untracked);
			continue;
		}
		/* A stale record at the target (cannot happen): replace it. */
		if (old) {
			dphys -= cram_rec_val(old) & CRAM_SIZE_MASK;
			dlog -= PAGE_SIZE;
		}
	}
	xa_unlock_irqrestore(&cram_recs, flags);
	atomic64_add(nr, &cram.moved);
	if (dphys || dlog)
		cram_account(dphys, dlog);
}

static void cram_folio_arrived(const struct spm_node_owner *owner, int nid,
			       struct folio *folio, struct folio *src,
			       enum migrate_reason reason)
{
	unsigned long pfn = folio_pfn(folio), i, nr = folio_nr_pages(folio);
	s64 dphys = 0, dlog = 0;
	bool defer = false;

	if (folio_nid(src) == nid) {
		cram_move_records(folio, src);
		return;
	}

	/* Large folios: at PAGE_SIZE a page now, the work item compresses. */
	if (nr > CRAM_INLINE_PAGES)
		defer = cram_defer(folio);

	for (i = 0; i < nr; i++) {
		unsigned long val = PAGE_SIZE;
		long old;

		if (defer) {
			val |= CRAM_PENDING;
		} else if (nr <= CRAM_INLINE_PAGES) {
			struct cram_pcpu *pc;

			local_lock(&cram_pcpu.lock);
			pc = this_cpu_ptr(&cram_pcpu);
			val = cram_compress_new(folio_page(folio, i),
						pc->wrkmem, pc->dst);
			local_unlock(&cram_pcpu.lock);
		}
		old = cram_rec_store(pfn + i, val);
		if (old < 0)
			continue;
		if (old & CRAM_PENDING)
			atomic64_dec(&cram.pending);
		if (defer)
			atomic64_inc(&cram.pending);
		dphys += (s64)(val & CRAM_SIZE_MASK) - (s64)(old & CRAM_SIZE_MASK);
		if (!old)
			dlog += PAGE_SIZE;
	}
	if (defer) {
		atomic64_add(nr, &cram.deferred);
		queue_work(system_unbound_wq, &cram.compress_work);
	}

	atomic64_add(nr, &cram.demotions);
	cram_account(dphys, dlog);
	/* Only a demotion was approved (and reserved) by may_demote(). */
	if (reason == MR_DEMOTION || reason == MR_DAMON)
		cram_res_settle((u64)nr << PAGE_SHIFT);
}

/* A demotion may_demote() approved will not come: free its reservation. */
static void cram_demote_aborted(const struct spm_node_owner *owner, int nid,
				unsigned long nr_pages)
{
	atomic64_add(nr_pages, &cram.demote_aborted);
	cram_res_settle((u64)nr_pages << PAGE_SHIFT);
}

/*
 * A page of the node was poisoned (or soft-offlined: its contents moved
 * elsewhere).  It is never freed, so its record goes now.  A page marked
 * CRAM_PROMOTING is not counted as a promotion: its copy to SysRAM either
 * failed on the poisoned data or, after a soft offline, starts again from
 * the page the contents moved to when the write is retried.
 */
static void cram_memory_failure(const struct spm_node_owner *owner, int nid,
				unsigned long pfn, int flags, int result)
{
	unsigned long val, irqflags;

	xa_lock_irqsave(&cram_recs, irqflags);
	val = cram_rec_val(__xa_erase(&cram_recs, pfn));
	xa_unlock_irqrestore(&cram_recs, irqflags);
	if (!val)
		return;
	if (val & CRAM_PENDING)
		atomic64_dec(&cram.pending);
	atomic64_inc(&cram.poisoned);
	atomic64_sub(PAGE_SIZE, &cram.logical);
	atomic64_sub(val & CRAM_SIZE_MASK, &cram.physical);
}

/*
 * Any context, even hard interrupts: the xarray's IRQ-safe lock only.
 * Every page freed drops its record.  A freed page without one is not a
 * failed demotion any more (demote_aborted() says so): compaction gives
 * back free pages of the node, and moved folios leave their old pages.
 */
static void cram_pages_freed(const struct spm_node_owner *owner, int nid,
			     struct page *page, unsigned int order)
{
	unsigned long pfn = page_to_pfn(page), nr = 1UL << order;
	s64 dphys = 0, dlog = 0;
	long promoted = 0, found = 0, pending = 0;
	XA_STATE(xas, &cram_recs, pfn);
	unsigned long flags;
	void *entry;

	xas_lock_irqsave(&xas, flags);
	xas_for_each(&xas, entry, pfn + nr - 1) {
		unsigned long val = cram_rec_val(entry);

		xas_store(&xas, NULL);
		found++;
		dphys += val & CRAM_SIZE_MASK;
		dlog += PAGE_SIZE;
		promoted += !!(val & CRAM_PROMOTING);
		pending += !!(val & CRAM_PENDING);
	}
	xas_unlock_irqrestore(&xas, flags);

	if (promoted)
		atomic64_add(promoted, &cram.promotions);
	if (pending)
		atomic64_sub(pending, &cram.pending);
	if (found) {
		atomic64_sub(dlog, &cram.logical);
		atomic64_sub(dphys, &cram.physical);
	}
}

static bool cram_may_demote(const struct spm_node_owner *owner, int nid,
			    unsigned long nr_pages)
{
	u64 bytes = (u64)nr_pages << PAGE_SHIFT;
	struct cram_res *r;
	unsigned long flags;
	bool ok = false;
	s64 phys;

	spin_lock_irqsave(&cram_res_lock, flags);
	r = cram_res_find(current);
	if (!r)
		r = cram_res_find(NULL);
	/* Reserve the worst case: the folio does not compress at all. */
	phys = atomic64_read(&cram.physical);
	if (r && phys >= 0 &&
	    (u64)phys + atomic64_read(&cram.reserved) + bytes <=
	    READ_ONCE(cram.high)) {
		if (!r->task) {
			get_task_struct(current);
			r->task = current;
			r->bytes = 0;
		}
		r->bytes += bytes;
		r->last = jiffies;
		atomic64_add(bytes, &cram.reserved);
		ok = true;
	}
	spin_unlock_irqrestore(&cram_res_lock, flags);

	if (ok) {
		if (!delayed_work_pending(&cram.res_work))
			queue_delayed_work(system_unbound_wq, &cram.res_work,
					   HZ);
		return true;
	}
	atomic64_inc(&cram.throttled);
	atomic64_inc(&cram.pool_limit_hit);
	cram_kick_reclaim();
	return false;
}

static enum spm_write_action
cram_write_fault(const struct spm_node_owner *owner, int nid,
		 struct folio *folio, struct vm_area_struct *vma,
		 unsigned long addr, int *target_nid)
{
	unsigned long idx = 0, pfn, val, flags;

	atomic64_inc(&cram.fenced_writes);
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
	pfn = folio_pfn(folio) + idx;
	xa_lock_irqsave(&cram_recs, flags);
	val = cram_rec_val(xa_load(&cram_recs, pfn));
	if (val)	/* Replacing an entry allocates nothing. */
		__xa_store(&cram_recs, pfn, xa_mk_value(val | CRAM_PROMOTING),
			   GFP_ATOMIC | __GFP_NOWARN);
	xa_unlock_irqrestore(&cram_recs, flags);
	return SPM_WRITE_PROMOTE;
}

static void cram_pressure(const struct spm_node_owner *owner, int nid)
{
	atomic64_inc(&cram.pressure);
	set_bit(CRAM_PRESSURE_PENDING, &cram.flags);
	cram_kick_reclaim();
}

static const struct spm_node_ops cram_ops = {
	.pages_freed	= cram_pages_freed,
	.folio_arrived	= cram_folio_arrived,
	.may_demote	= cram_may_demote,
	.demote_aborted	= cram_demote_aborted,
	.memory_failure	= cram_memory_failure,
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
	s64 phys = atomic64_read(&cram.physical);
	s64 pages = atomic64_read(&cram.logical) >> PAGE_SHIFT;
	u64 low = READ_ONCE(cram.low), avg;

	if (phys <= 0 || (u64)phys <= low || pages <= 0)
		return 0;
	/* At the node's average compressed page size. */
	avg = max_t(u64, div64_u64(phys, pages), 1);
	return min_t(u64, div64_u64((u64)phys - low + avg - 1, avg),
		     CRAM_RECLAIM_BATCH);
}

static void cram_reclaim_fn(struct work_struct *work)
{
	unsigned long nr, got, total = 0;
	int round;

	atomic64_inc(&cram.reclaim_runs);
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
	atomic64_add(total, &cram.reclaimed);
	atomic64_add(total, &cram.written_back);
	assign_bit(CRAM_RECLAIM_STALLED, &cram.flags, !total);
}

/* ---------------------------------------------------------------------
 * Rescan: recompress every tracked page as it is now.
 */

/* Drop the record of a hwpoisoned @pfn if it is still @val. */
static void cram_rescan_poisoned(unsigned long pfn, unsigned long val,
				 s64 *dphys, s64 *dlog)
{
	unsigned long flags;
	void *old;

	xa_lock_irqsave(&cram_recs, flags);
	old = __xa_cmpxchg(&cram_recs, pfn, xa_mk_value(val), NULL, 0);
	xa_unlock_irqrestore(&cram_recs, flags);
	if (cram_rec_val(old) != val)
		return;
	*dphys -= val & CRAM_SIZE_MASK;
	*dlog -= PAGE_SIZE;
	atomic64_inc(&cram.poisoned);
}

static void cram_rescan(void)
{
	s64 dphys = 0, dlog = 0;
	unsigned long pfn;
	void *entry;

	mutex_lock(&cram_rescan_lock);
	xa_for_each(&cram_recs, pfn, entry) {
		unsigned long val = cram_rec_val(entry), flags;
		struct folio *folio;
		struct page *page;
		unsigned int size;
		void *old;

		/* Queued pages are the compression work item's. */
		if (val & CRAM_PENDING)
			continue;
		page = pfn_to_online_page(pfn);
		if (!page)
			continue;
		/*
		 * The memory_failure callback drops a poisoned page's
		 * record; one poisoned while its record was being moved
		 * (or stored) goes here.
		 */
		if (PageHWPoison(page)) {
			cram_rescan_poisoned(pfn, val, &dphys, &dlog);
			continue;
		}
		/* A reference keeps the page from being freed under us. */
		folio = page_folio(page);
		if (!folio_try_get(folio))
			continue;
		if (page_folio(page) != folio)
			goto put;

		local_lock(&cram_pcpu.lock);
		size = cram_compress(page, this_cpu_ptr(&cram_pcpu)->wrkmem,
				     this_cpu_ptr(&cram_pcpu)->dst);
		local_unlock(&cram_pcpu.lock);

		xa_lock_irqsave(&cram_recs, flags);
		old = __xa_cmpxchg(&cram_recs, pfn, entry,
				   xa_mk_value((val & ~CRAM_SIZE_MASK) | size),
				   GFP_ATOMIC | __GFP_NOWARN);
		xa_unlock_irqrestore(&cram_recs, flags);
		if (old == entry)
			dphys += (s64)size - (s64)(val & CRAM_SIZE_MASK);
put:
		folio_put(folio);
		cond_resched();
	}
	cram_account(dphys, dlog);
	mutex_unlock(&cram_rescan_lock);
}

/* ---------------------------------------------------------------------
 * Capacity: the device's physical size, changeable at run time.
 */

static int cram_set_capacity(u64 budget)
{
	if (!budget || budget > U64_MAX / 100)
		return -EINVAL;
	mutex_lock(&cram_capacity_lock);
	WRITE_ONCE(cram.budget, budget);
	WRITE_ONCE(cram.high, div_u64(budget * high_pct, 100));
	WRITE_ONCE(cram.low, div_u64(budget * low_pct, 100));
	mutex_unlock(&cram_capacity_lock);
	/*
	 * Shrunk below what the node holds: may_demote() now refuses, and
	 * the work item reclaims down to the new low watermark.
	 */
	if (atomic64_read(&cram.physical) > (s64)READ_ONCE(cram.low))
		cram_kick_reclaim();
	return 0;
}

/* ---------------------------------------------------------------------
 * sysfs: /sys/kernel/spm_cram/
 */

#define CRAM_COUNTER(_name, _field)					\
static ssize_t _name##_show(struct kobject *kobj,			\
			    struct kobj_attribute *attr, char *buf)	\
{									\
	return sysfs_emit(buf, "%lld\n",				\
			  (long long)atomic64_read(&cram._field));	\
}									\
static struct kobj_attribute cram_##_name##_attr = __ATTR_RO(_name)

#define CRAM_VALUE(_name, _expr)					\
static ssize_t _name##_show(struct kobject *kobj,			\
			    struct kobj_attribute *attr, char *buf)	\
{									\
	return sysfs_emit(buf, "%llu\n", (unsigned long long)(_expr));	\
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
CRAM_COUNTER(moved_within_node, moved);
CRAM_VALUE(high_watermark_bytes, READ_ONCE(cram.high));
CRAM_VALUE(low_watermark_bytes, READ_ONCE(cram.low));
CRAM_VALUE(node, cram_nid);
CRAM_VALUE(fence, fence);

/* zswap's names and units. */
CRAM_VALUE(stored_pages, max_t(s64, atomic64_read(&cram.logical), 0) >> PAGE_SHIFT);
CRAM_VALUE(pool_total_size, max_t(s64, atomic64_read(&cram.physical), 0));
CRAM_COUNTER(written_back_pages, written_back);
CRAM_COUNTER(reject_compress_poor, reject_compress_poor);
CRAM_COUNTER(reject_alloc_fail, reject_alloc_fail);
CRAM_COUNTER(pool_limit_hit, pool_limit_hit);
CRAM_COUNTER(compress_deferred_pages, deferred);
CRAM_COUNTER(compress_pending_pages, pending);
CRAM_COUNTER(reserve_dropped_bytes, res_dropped);
CRAM_COUNTER(demote_aborted_pages, demote_aborted);
CRAM_COUNTER(poisoned_pages, poisoned);

/* logical / physical with three decimals ("2.531"); 0.000 when empty. */
static ssize_t ratio_show(struct kobject *kobj, struct kobj_attribute *attr,
			  char *buf)
{
	s64 log = atomic64_read(&cram.logical);
	s64 phys = atomic64_read(&cram.physical);
	u64 milli = 0;
	u32 frac;

	if (log > 0 && phys > 0)
		milli = div64_u64((u64)log * 1000, phys);
	milli = div_u64_rem(milli, 1000, &frac);
	return sysfs_emit(buf, "%llu.%03u\n", milli, frac);
}

static struct kobj_attribute cram_ratio_attr = __ATTR_RO(ratio);

/* The device's physical capacity in bytes; writing it resizes the pool. */
static ssize_t budget_bytes_show(struct kobject *kobj,
				 struct kobj_attribute *attr, char *buf)
{
	return sysfs_emit(buf, "%llu\n", READ_ONCE(cram.budget));
}

static ssize_t budget_bytes_store(struct kobject *kobj,
				  struct kobj_attribute *attr,
				  const char *buf, size_t count)
{
	u64 budget;
	int ret = kstrtou64(buf, 0, &budget);

	if (!ret)
		ret = cram_set_capacity(budget);
	return ret ? ret : count;
}

static struct kobj_attribute cram_budget_bytes_attr = __ATTR_RW(budget_bytes);

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

/*
 * Zero the event counters; the peak restarts from the current usage.  The
 * zswap-style counters are left alone: they only grow.
 */
static ssize_t reset_store(struct kobject *kobj, struct kobj_attribute *attr,
			   const char *buf, size_t count)
{
	int ret = cram_parse_trigger(buf);

	if (ret)
		return ret;
	atomic64_set(&cram.demotions, 0);
	atomic64_set(&cram.promotions, 0);
	atomic64_set(&cram.fenced_writes, 0);
	atomic64_set(&cram.throttled, 0);
	atomic64_set(&cram.reclaim_runs, 0);
	atomic64_set(&cram.reclaimed, 0);
	atomic64_set(&cram.pressure, 0);
	atomic64_set(&cram.untracked, 0);
	atomic64_set(&cram.moved, 0);
	atomic64_set(&cram.peak, atomic64_read(&cram.physical));
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
	&cram_moved_within_node_attr.attr,
	&cram_budget_bytes_attr.attr,
	&cram_high_watermark_bytes_attr.attr,
	&cram_low_watermark_bytes_attr.attr,
	&cram_node_attr.attr,
	&cram_fence_attr.attr,
	&cram_stored_pages_attr.attr,
	&cram_pool_total_size_attr.attr,
	&cram_written_back_pages_attr.attr,
	&cram_reject_compress_poor_attr.attr,
	&cram_reject_alloc_fail_attr.attr,
	&cram_pool_limit_hit_attr.attr,
	&cram_compress_deferred_pages_attr.attr,
	&cram_compress_pending_pages_attr.attr,
	&cram_reserve_dropped_bytes_attr.attr,
	&cram_demote_aborted_pages_attr.attr,
	&cram_poisoned_pages_attr.attr,
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
	kvfree(cram.wk_wrkmem);
	kfree(cram.wk_dst);
	cram.wk_wrkmem = NULL;
	cram.wk_dst = NULL;
	xa_destroy(&cram_recs);
}

static int cram_alloc_buffers(void)
{
	int cpu;

	cram.wk_wrkmem = kvmalloc(LZ4_MEM_COMPRESS, GFP_KERNEL);
	cram.wk_dst = kmalloc(PAGE_SIZE, GFP_KERNEL);
	if (!cram.wk_wrkmem || !cram.wk_dst)
		goto nomem;
	for_each_possible_cpu(cpu) {
		struct cram_pcpu *pc = per_cpu_ptr(&cram_pcpu, cpu);
		int node = cpu_to_node(cpu);

		pc->wrkmem = kvmalloc_node(LZ4_MEM_COMPRESS, GFP_KERNEL, node);
		pc->dst = kmalloc_node(PAGE_SIZE, GFP_KERNEL, node);
		if (!pc->wrkmem || !pc->dst)
			goto nomem;
	}
	return 0;
nomem:
	cram_free_buffers();
	return -ENOMEM;
}

/* Drop every reservation slot (unload: no callback runs any more). */
static void cram_res_clear(void)
{
	int i;

	for (i = 0; i < CRAM_RES_SLOTS; i++) {
		if (cram_res[i].task)
			put_task_struct(cram_res[i].task);
		cram_res[i].task = NULL;
		cram_res[i].bytes = 0;
	}
	atomic64_set(&cram.reserved, 0);
}

static void cram_stop_work(void)
{
	cancel_delayed_work_sync(&cram.reclaim_work);
	cancel_delayed_work_sync(&cram.res_work);
	flush_work(&cram.compress_work);
	cram_defer_drain();
	cram_res_clear();
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
	INIT_DELAYED_WORK(&cram.reclaim_work, cram_reclaim_fn);
	INIT_DELAYED_WORK(&cram.res_work, cram_res_expire_fn);
	INIT_WORK(&cram.compress_work, cram_compress_fn);
	ret = cram_set_capacity((u64)budget_mb << 20);
	if (ret)
		return ret;

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
		cram_nid, pgdat->node_start_pfn, pgdat->node_spanned_pages,
		budget_mb, high_pct, low_pct, fence ? "on" : "off",
		allow_move ? "on" : "off");
	return 0;

release:
	spm_node_release(cram_nid, &cram_owner);
	cram_stop_work();
free:
	cram_free_buffers();
	return ret;
}

static void __exit cram_exit(void)
{
	cram_sysfs_remove();
	/* No callback runs once this returns; folios stay on the node. */
	spm_node_release(cram_nid, &cram_owner);
	cram_stop_work();
	pr_info("node %d released with %lld bytes (%lld compressed) still on it\n",
		cram_nid, (long long)atomic64_read(&cram.logical),
		(long long)atomic64_read(&cram.physical));
	cram_free_buffers();
}

module_init(cram_init);
module_exit(cram_exit);

MODULE_DESCRIPTION("Compressed-RAM service on an SPM node (demotion target, write fence, LZ4 accounting)");
MODULE_LICENSE("GPL");
