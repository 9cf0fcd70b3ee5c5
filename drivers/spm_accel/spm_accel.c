// SPDX-License-Identifier: GPL-2.0
/*
 * spm_accel - a sample accelerator that owns an SPM node
 *
 * The device claims an SPM node (module parameter nid, default 2) and shows
 * the two ways an accelerator uses such memory.
 *
 * Driver-owned memory.  /dev/spm_accel is mmap()ed shared; the first CPU
 * touch of a page allocates it on the node with __GFP_SPM_NODE and records
 * it in the open file's device page table.  Ranges move between CPU and
 * device ownership by ioctl: handing a range to the device removes its CPU
 * mappings, and a CPU access to a device-owned page gets SIGBUS.  A range
 * may also be handed over with CPU reads allowed: CPU read faults map its
 * pages read-only (vmf_insert_pfn_prot()), the CPU and the device share
 * them, and a CPU write faults (->fault for an unmapped page, ->pfn_mkwrite
 * through a read-only entry) and takes the page back under the file's
 * lock, which a running command holds; the writable entry is made under
 * that lock too.  When the node is full the fault
 * gets SIGBUS too: the allocation never falls back to another node and
 * never invokes the OOM killer.  Each open file has its own address_space,
 * so taking ranges away from the CPU zaps only the mappings of that file.
 *
 * User placement must not starve the device: it keeps a reserve of pages
 * on its node (module parameter reserve_pages, allocated at load time),
 * used as mempool_alloc() uses its elements: an allocation the node cannot
 * serve takes a reserve page, and while the reserve is short the node is
 * tried without direct reclaim first.  Pages of closed files go to the
 * reserve first, and a work item tops it up from the node: the pages_freed
 * callback only notes that pages were freed there, and the driver's next
 * open, release, page allocation or LIMIT starts the work.  Reserve pages
 * are driver pages the VM may move like the others; the reserve keeps
 * pages of the node only (memory offline may move one to SysRAM when the
 * rest of the node is full or offline: the reserve lets it go).  Each
 * open file has a page limit (module parameter max_pages by default,
 * SPM_ACCEL_IOC_LIMIT), so that one file cannot take the node (and the
 * reserve) from the others: beyond it, allocations fail with EDQUOT
 * (SIGBUS for a fault).
 *
 * The mapping is VM_PFNMAP (vmf_insert_pfn_prot(), as TTM and the DRM GEM
 * helpers do): its entries hold no page reference and get_user_pages()
 * refuses it (EFAULT), so nothing outside the driver (a pipe after
 * vmsplice(), O_DIRECT, a long-term pin) can keep a page the device is about
 * to own, and a FOLL_LONGTERM pin, which could neither migrate these pages
 * nor pin them on a node that does not grant longterm_pin, fails at once
 * instead of retrying forever.  ptrace and /proc/PID/mem go through
 * ->access, which follows ownership like a CPU access.
 *
 * Driver pages are movable (__GFP_MOVABLE and movable_operations), so the
 * node may be any SPM node however it was onlined: a dax/kmem node is all
 * ZONE_MOVABLE, where only movable allocations are served, and where memory
 * offline and compaction expect every page to move.  The driver migrates a
 * page by zapping the CPU entries of its file offset, copying it and
 * switching its device page table entry; the next touch maps the new page.
 *
 * Managed user memory.  With user=1 the node grants user placement and
 * migration, so a task can mbind(MPOL_BIND) anonymous memory onto it.  The
 * device mirrors a range of the task's page tables with hmm_range_fault()
 * and drops its view of a page on every invalidation from an MMU interval
 * notifier (migration, reclaim, munmap), faulting it in again on the next
 * command that needs it.
 *
 * A simulated engine, an ordered workqueue, runs the commands (checksum,
 * fill, xor) one at a time, touching memory only through the device's own
 * page tables.  An ioctl reclaims from the node alone (spm_node_reclaim()),
 * as a device running short of memory would.  The user interface is in
 * spm_accel_uapi.h.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/capability.h>
#include <linux/completion.h>
#include <linux/device.h>
#include <linux/fs.h>
#include <linux/highmem.h>
#include <linux/hmm.h>
#include <linux/migrate.h>
#include <linux/miscdevice.h>
#include <linux/mm.h>
#include <linux/mmu_notifier.h>
#include <linux/module.h>
#include <linux/pagemap.h>
#include <linux/sched/mm.h>
#include <linux/sched/signal.h>
#include <linux/slab.h>
#include <linux/spm_node.h>
#include <linux/uaccess.h>
#include <linux/workqueue.h>
#include <linux/xarray.h>

#include "spm_accel_uapi.h"

static int nid = 2;
module_param(nid, int, 0444);
MODULE_PARM_DESC(nid, "SPM node the device owns (default 2)");

static bool user = true;
module_param(user, bool, 0444);
MODULE_PARM_DESC(user,
		 "let user space place and migrate memory on the node (default 1)");

static unsigned long max_pages;
module_param(max_pages, ulong, 0644);
MODULE_PARM_DESC(max_pages,
		 "page limit of new files, and the highest limit a caller without CAP_SYS_ADMIN may set (default 0: none)");

static unsigned long reserve_pages = 4096;
module_param(reserve_pages, ulong, 0444);
MODULE_PARM_DESC(reserve_pages,
		 "pages the device keeps on its node for itself (default 4096)");

#define ACCEL_MAX_PAGES		(SPM_ACCEL_MAX_BYTES >> PAGE_SHIFT)
/* Pages of a mirror faulted in by one hmm_range_fault() call. */
#define ACCEL_CHUNK		64
/* How long a command keeps retrying a range that is being invalidated. */
#define ACCEL_FAULT_TIMEOUT_MS	5000
/*
 * Device memory: on the node or nowhere, no OOM killer, no warning;
 * movable, so that ZONE_MOVABLE (a dax/kmem node) can serve it.
 */
#define ACCEL_GFP		(GFP_HIGHUSER_MOVABLE | __GFP_SPM_NODE | \
				 __GFP_ZERO | __GFP_NOWARN | __GFP_RETRY_MAYFAIL)
/* The node without waiting for reclaim (kswapd is woken). */
#define ACCEL_GFP_NOWAIT	(ACCEL_GFP & ~__GFP_DIRECT_RECLAIM)
/* Reserve pages are cleared when they leave the reserve. */
#define ACCEL_RESERVE_GFP	(ACCEL_GFP & ~__GFP_ZERO)
#define ACCEL_RESERVE_GFP_NOWAIT (ACCEL_GFP_NOWAIT & ~__GFP_ZERO)
/*
 * Device page table marks: the device owns the page, and the CPU may not
 * map it unless it is also marked %ACCEL_CPU_READ (then read-only).
 */
#define ACCEL_DEVICE_OWNED	XA_MARK_0
#define ACCEL_CPU_READ		XA_MARK_1
/* Allocated by the hand-over under way: given back if it fails. */
#define ACCEL_NEW		XA_MARK_2
/* page->private of a page in the reserve (a file's page has its file). */
#define ACCEL_RESERVE_PRIVATE	((unsigned long)&accel.reserve)

#define FNV64_OFFSET		0xcbf29ce484222325ULL
#define FNV64_PRIME		0x100000001b3ULL

/**
 * struct accel_reserve - pages the device keeps on its node for itself
 * @lock: protects @pages and @nr.
 * @pages: @size slots, the first @nr of them hold a page.  A page in the
 *	reserve is a driver page the VM may move: page->private is
 *	%ACCEL_RESERVE_PRIVATE and page->index its slot.
 * @nr: pages in the reserve.
 * @size: pages the reserve holds when full (module parameter
 *	reserve_pages, at most %ACCEL_MAX_PAGES).
 * @freed: pages were freed on the node since the last refill was started
 *	(set by the pages_freed callback, which may run in any context and
 *	so starts no work itself).
 * @refill: tops the reserve up from the node without direct reclaim.
 */
struct accel_reserve {
	spinlock_t lock;		/* the slots */
	struct page **pages;
	unsigned long nr;
	unsigned long size;
	bool freed;
	struct work_struct refill;
};

/**
 * struct spm_accel - the device
 * @nid: the SPM node it owns.
 * @owner: its owner registration for the node.
 * @engine: the simulated command engine.
 * @misc: /dev/spm_accel.
 * @pages: driver-owned pages allocated now.
 * @faults: CPU faults on driver-owned memory.
 * @alloc_failures: page allocations that failed.
 * @misplaced: pages the allocator returned from another node (must stay 0).
 * @ops: commands run.
 * @invalidations: mirror invalidations.
 * @mirror_faults: pages faulted in for mirrors.
 * @migrated: driver-owned pages migrated (compaction, memory offline).
 * @node_pages_freed: pages freed on the node (pages_freed callback).
 * @folios_arrived: folios migrated onto the node (folio_arrived callback).
 * @pressure: low-watermark events on the node (pressure callback).
 * @takebacks: device-owned pages a CPU write took back.
 * @reserve_allocs: pages files took from the reserve.
 * @reserve_dropped: reserve pages let go because a migration moved them
 *	off the node.
 * @limit_failures: allocations refused by a file's page limit.
 * @reserve: the device's reserve of pages on its node.
 */
struct spm_accel {
	int nid;
	struct spm_node_owner owner;
	struct workqueue_struct *engine;
	struct miscdevice misc;
	struct accel_reserve reserve;
	atomic64_t pages;
	atomic64_t faults;
	atomic64_t alloc_failures;
	atomic64_t misplaced;
	atomic64_t ops;
	atomic64_t invalidations;
	atomic64_t mirror_faults;
	atomic64_t migrated;
	atomic64_t node_pages_freed;
	atomic64_t folios_arrived;
	atomic64_t pressure;
	atomic64_t takebacks;
	atomic64_t reserve_allocs;
	atomic64_t reserve_dropped;
	atomic64_t limit_failures;
};

static struct spm_accel accel;

/**
 * struct accel_file - one open file of the device
 * @mapping: the file's own address_space, so that unmap_mapping_range()
 *	reaches only this file's mappings.
 * @lock: protects @pages and the counters below it; held while a page of
 *	@pages is used (CPU mapping, engine, ->access) or migrated.
 * @pages: device page table of driver-owned memory: page index in the file
 *	-> struct page, marked %ACCEL_DEVICE_OWNED while the device owns it
 *	(and %ACCEL_CPU_READ if the CPU may read it meanwhile).  Each page
 *	holds one reference for the table, page->private points to the file
 *	and page->index is its index.
 * @nr_pages: pages in @pages.
 * @nr_device: pages marked %ACCEL_DEVICE_OWNED.
 * @max_pages: the file's page limit, 0 for none.
 * @faults: CPU faults on the file's memory.
 * @alloc_failures: page allocations that failed for the file.
 * @limit_failures: page allocations @max_pages refused.
 * @ops: commands run for the file.
 * @mirror_lock: protects @mirrors and keeps mirrors alive during commands.
 * @mirrors: the file's mirrors (struct accel_mirror.list).
 * @nr_mirrors: entries in @mirrors (written under @mirror_lock, read
 *	without it by INFO).
 * @invalidations: invalidations of the file's mirrors.
 * @mirror_faults: pages faulted in for the file's mirrors.
 */
struct accel_file {
	struct address_space mapping;
	struct mutex lock;		/* the device page table */
	struct xarray pages;
	unsigned long nr_pages;
	unsigned long nr_device;
	unsigned long max_pages;
	u64 faults;
	u64 alloc_failures;
	u64 limit_failures;
	atomic64_t ops;
	struct mutex mirror_lock;	/* the mirror list */
	struct list_head mirrors;
	unsigned int nr_mirrors;
	atomic64_t invalidations;
	atomic64_t mirror_faults;
};

/**
 * struct accel_mirror - a range of a user address space the device mirrors
 * @notifier: interval notifier on the range.
 * @file: the file the mirror belongs to.
 * @list: entry in accel_file.mirrors.
 * @start: first address.
 * @end: address after the last.
 * @lock: protects @view and @invalidations; held by the engine while it
 *	uses pages of @view, so that an invalidation waits for it.
 * @view: the device's page table of the range: one hmm pfn (with
 *	HMM_PFN_VALID and HMM_PFN_WRITE) per page, 0 for pages it does not
 *	map.
 * @invalidations: invalidations seen.
 */
struct accel_mirror {
	struct mmu_interval_notifier notifier;
	struct accel_file *file;
	struct list_head list;
	unsigned long start;
	unsigned long end;
	struct mutex lock;		/* the device's view */
	unsigned long *view;
	u64 invalidations;
};

/**
 * struct accel_cmd - a command on its way through the engine
 * @work: engine work item.
 * @file: the file that submitted it.
 * @mirror: the mirror it works on, or NULL for driver-owned memory.
 * @op: the command; its output fields are filled in by the engine.
 * @nodes: kernel copy of the per-page node array, or NULL.
 * @done: completed by the engine when the command is over.
 * @cancel: set when the submitter is killed: the engine stops the command
 *	at the next chunk.
 * @ret: 0 or -errno.
 */
struct accel_cmd {
	struct work_struct work;
	struct accel_file *file;
	struct accel_mirror *mirror;
	struct spm_accel_op op;
	s32 *nodes;
	struct completion done;
	bool cancel;
	int ret;
};

/* ---------------------------------------------------------------------
 * Node owner callbacks: called under rcu_read_lock(), counters only.
 */

/*
 * From the page free path, in any context (hard interrupts, under the
 * locks of whoever frees the page, the workqueue's and the scheduler's
 * included): no work is queued from here, only noted for
 * accel_reserve_kick().
 */
static void accel_pages_freed(const struct spm_node_owner *owner, int node,
			      struct page *page, unsigned int order)
{
	atomic64_add(1UL << order, &accel.node_pages_freed);
	/* Memory on the node again: the reserve gets it first. */
	if (READ_ONCE(accel.reserve.nr) < READ_ONCE(accel.reserve.size) &&
	    !READ_ONCE(accel.reserve.freed))
		WRITE_ONCE(accel.reserve.freed, true);
}

static void accel_folio_arrived(const struct spm_node_owner *owner, int node,
				struct folio *folio, struct folio *src,
				enum migrate_reason reason)
{
	atomic64_inc(&accel.folios_arrived);
}

static void accel_pressure(const struct spm_node_owner *owner, int node)
{
	atomic64_inc(&accel.pressure);
}

static const struct spm_node_ops accel_node_ops = {
	.pages_freed	= accel_pages_freed,
	.folio_arrived	= accel_folio_arrived,
	.pressure	= accel_pressure,
};

/* ---------------------------------------------------------------------
 * The engine's data path.
 */

static u64 accel_fnv(u64 hash, const u8 *p, size_t len)
{
	while (len--) {
		hash ^= *p++;
		hash *= FNV64_PRIME;
	}
	return hash;
}

/* Run @cmd on one page, page number @i of the command. */
static void accel_do_page(struct accel_cmd *cmd, struct page *page,
			  unsigned long i)
{
	struct spm_accel_op *op = &cmd->op;
	int node = page_to_nid(page);
	u64 *w = kmap_local_page(page);
	unsigned int k;

	switch (op->cmd) {
	case SPM_ACCEL_CMD_CHECKSUM:
		op->result = accel_fnv(op->result, (const u8 *)w, PAGE_SIZE);
		break;
	case SPM_ACCEL_CMD_FILL:
		for (k = 0; k < PAGE_SIZE / sizeof(*w); k++)
			w[k] = op->arg;
		break;
	case SPM_ACCEL_CMD_XOR:
		for (k = 0; k < PAGE_SIZE / sizeof(*w); k++)
			w[k] ^= op->arg;
		break;
	}
	kunmap_local(w);

	if (node >= 0 && node < SPM_ACCEL_MAX_NODES)
		op->node_pages[node]++;
	if (cmd->nodes)
		cmd->nodes[i] = node;
	op->pages++;
}

static bool accel_cmd_writes(const struct spm_accel_op *op)
{
	return op->cmd != SPM_ACCEL_CMD_CHECKSUM;
}

/* The submitter was killed: stop (the caller will not see the result). */
static bool accel_cmd_cancelled(const struct accel_cmd *cmd)
{
	return READ_ONCE(cmd->cancel);
}

/* A command on driver-owned memory: every page must be device-owned. */
static int accel_run_owned(struct accel_cmd *cmd)
{
	struct accel_file *f = cmd->file;
	pgoff_t first = cmd->op.addr >> PAGE_SHIFT;
	unsigned long i, n = cmd->op.length >> PAGE_SHIFT;
	int ret = 0;

	mutex_lock(&f->lock);
	for (i = 0; i < n; i++) {
		if (!xa_get_mark(&f->pages, first + i, ACCEL_DEVICE_OWNED)) {
			ret = -EACCES;
			goto out;
		}
	}
	for (i = 0; i < n; i++) {
		if (!(i % ACCEL_CHUNK)) {
			if (accel_cmd_cancelled(cmd)) {
				ret = -EINTR;
				goto out;
			}
			cond_resched();
		}
		accel_do_page(cmd, xa_load(&f->pages, first + i), i);
	}
out:
	mutex_unlock(&f->lock);
	return ret;
}

static bool accel_view_usable(unsigned long hpfn, bool write)
{
	return (hpfn & HMM_PFN_VALID) && (!write || (hpfn & HMM_PFN_WRITE));
}

/*
 * Make the device's view of [start, end) of @m usable for @cmd, faulting in
 * through the CPU page tables what it lacks.  On success, returns 0 with
 * @m->lock held: the view stays valid until the caller drops the lock.
 * -EFAULT: part of the range is not mapped, or not writable for a writing
 * command, or not memory the device can mirror (VM_IO, VM_PFNMAP); -EBUSY:
 * it kept being invalidated for ACCEL_FAULT_TIMEOUT_MS; -EINTR: cancelled.
 */
static int accel_mirror_lock_range(struct accel_cmd *cmd, unsigned long start,
				   unsigned long end, bool write, u64 *faulted)
{
	struct accel_mirror *m = cmd->mirror;
	unsigned long first = (start - m->start) >> PAGE_SHIFT;
	unsigned long i, n = (end - start) >> PAGE_SHIFT, missing;
	unsigned long timeout = jiffies +
				msecs_to_jiffies(ACCEL_FAULT_TIMEOUT_MS);
	unsigned long pfns[ACCEL_CHUNK];
	struct hmm_range range = {
		.notifier	= &m->notifier,
		.start		= start,
		.end		= end,
		.hmm_pfns	= pfns,
		.default_flags	= HMM_PFN_REQ_FAULT |
				  (write ? HMM_PFN_REQ_WRITE : 0),
	};
	struct mm_struct *mm = m->notifier.mm;
	int ret;

	for (;;) {
		mutex_lock(&m->lock);
		missing = 0;
		for (i = 0; i < n; i++)
			missing += !accel_view_usable(m->view[first + i], write);
		if (!missing)
			return 0;
		mutex_unlock(&m->lock);

		if (accel_cmd_cancelled(cmd))
			return -EINTR;
		if (time_after(jiffies, timeout))
			return -EBUSY;
		range.notifier_seq = mmu_interval_read_begin(&m->notifier);
		mmap_read_lock(mm);
		ret = hmm_range_fault(&range);
		mmap_read_unlock(mm);
		if (ret == -EBUSY)
			continue;
		/* A write to read-only memory: EFAULT, as for write(2). */
		if (ret == -EPERM)
			ret = -EFAULT;
		if (ret)
			return ret;

		mutex_lock(&m->lock);
		if (mmu_interval_read_retry(&m->notifier, range.notifier_seq)) {
			mutex_unlock(&m->lock);
			continue;
		}
		for (i = 0; i < n; i++)
			m->view[first + i] = pfns[i];
		*faulted += missing;
		atomic64_add(missing, &m->file->mirror_faults);
		atomic64_add(missing, &accel.mirror_faults);
		return 0;
	}
}

/*
 * The CPU page tables do not see a device write: mark the folio dirty, so
 * that reclaim neither drops it (a lazily freed page) nor frees a clean
 * swap cache copy.  Called with the view's lock held, before an
 * invalidation can unmap the folio.
 *
 * folio_mark_dirty() wants the folio lock, or a lock that keeps the folio
 * from being truncated, as the page table lock does for callers that
 * cannot sleep.  The view's lock is such a lock (truncation unmaps first,
 * and an unmap waits for it in accel_mirror_invalidate()), but the folio
 * lock is taken whenever it is free.  It is never waited for: its holder
 * may be reclaim or migration, which lock the folio and then invalidate,
 * waiting for the view's lock held here.  Nor may the folio be dirtied
 * after the view is unlocked: that needs a reference across the unlock,
 * and a migration that meets it fails (the page stays where it was).
 */
static void accel_folio_written(struct folio *folio)
{
	if (folio_trylock(folio)) {
		folio_mark_dirty(folio);
		folio_unlock(folio);
	} else {
		folio_mark_dirty(folio);
	}
}

/* A command on a mirror, chunk by chunk. */
static int accel_run_mirror(struct accel_cmd *cmd)
{
	struct accel_mirror *m = cmd->mirror;
	struct spm_accel_op *op = &cmd->op;
	bool write = accel_cmd_writes(op);
	unsigned long addr, next, end = op->addr + op->length;
	struct folio *last;
	int ret = 0;

	if (!mmget_not_zero(m->notifier.mm))
		return -EFAULT;
	for (addr = op->addr; addr < end; addr = next) {
		next = min(end, addr + ACCEL_CHUNK * PAGE_SIZE);
		ret = accel_mirror_lock_range(cmd, addr, next, write,
					      &op->faulted);
		if (ret)
			break;
		last = NULL;
		for (; addr < next; addr += PAGE_SIZE) {
			unsigned long hpfn = m->view[(addr - m->start) >> PAGE_SHIFT];
			struct page *page = hmm_pfn_to_page(hpfn);

			accel_do_page(cmd, page, (addr - op->addr) >> PAGE_SHIFT);
			if (write && page_folio(page) != last) {
				last = page_folio(page);
				accel_folio_written(last);
			}
		}
		op->invalidations = m->invalidations;
		mutex_unlock(&m->lock);
		cond_resched();
	}
	mmput(m->notifier.mm);
	return ret;
}

static void accel_engine_work(struct work_struct *work)
{
	struct accel_cmd *cmd = container_of(work, struct accel_cmd, work);

	cmd->op.result = FNV64_OFFSET;
	cmd->ret = cmd->mirror ? accel_run_mirror(cmd) : accel_run_owned(cmd);
	if (cmd->op.cmd != SPM_ACCEL_CMD_CHECKSUM)
		cmd->op.result = 0;
	atomic64_inc(&cmd->file->ops);
	atomic64_inc(&accel.ops);
	/* The last access to @cmd: the submitter may return at once. */
	complete(&cmd->done);
}

/*
 * Submit @cmd to the engine and wait for it.  A command still queued
 * (behind other files' commands) is withdrawn on any signal: nothing was
 * done, the call restarts or fails with EINTR.  A running command is not
 * interrupted half-way for a signal the caller survives; a fatal signal
 * stops it at the next chunk.
 */
static int accel_engine_run(struct accel_cmd *cmd)
{
	int ret;

	INIT_WORK_ONSTACK(&cmd->work, accel_engine_work);
	init_completion(&cmd->done);
	cmd->cancel = false;
	queue_work(accel.engine, &cmd->work);
	if (wait_for_completion_interruptible(&cmd->done)) {
		if (cancel_work(&cmd->work)) {
			ret = -ERESTARTSYS;
			goto out;
		}
		if (wait_for_completion_killable(&cmd->done)) {
			WRITE_ONCE(cmd->cancel, true);
			wait_for_completion(&cmd->done);
		}
	}
	ret = cmd->ret;
out:
	destroy_work_on_stack(&cmd->work);
	return ret;
}

/* ---------------------------------------------------------------------
 * Driver-owned memory: faults and ownership.
 */

static const struct movable_operations accel_mops;

/* A page on the device's node, or NULL. */
static struct page *accel_alloc_node_page(gfp_t gfp)
{
	struct page *page = alloc_pages_node(accel.nid, gfp, 0);

	if (page && page_to_nid(page) != accel.nid) {
		pr_err_ratelimited("allocator returned a page of node %d for node %d\n",
				   page_to_nid(page), accel.nid);
		atomic64_inc(&accel.misplaced);
		__free_page(page);
		page = NULL;
	}
	return page;
}

/* Make a locked page a driver page the VM may move, or no longer one. */
static void accel_page_movable(struct page *page, bool movable)
{
	if (movable)
		__SetPageMovable(page, &accel_mops);
	else
		__ClearPageMovable(page);
}

/*
 * Process context: start a refill of the reserve if it is short and pages
 * were freed on the node since the last one (or anyway, @force).
 */
static void accel_reserve_kick(bool force)
{
	struct accel_reserve *r = &accel.reserve;

	if (READ_ONCE(r->nr) >= READ_ONCE(r->size))
		return;
	if (READ_ONCE(r->freed))
		WRITE_ONCE(r->freed, false);
	else if (!force)
		return;
	schedule_work(&r->refill);
}

/*
 * Give @page to the reserve if it has room and the page is on the node
 * (a file's page may have been moved off it), or free it.  @movable: the
 * page is a driver page already (a file's, or the reserve's before a
 * failed store), not one fresh from the allocator.  Under the page lock,
 * so that a migration of the page sees it either as the file's or as the
 * reserve's.
 */
static void accel_reserve_put(struct page *page, bool movable)
{
	struct accel_reserve *r = &accel.reserve;
	bool kept = false;

	lock_page(page);
	spin_lock(&r->lock);
	if (r->nr < r->size && page_to_nid(page) == accel.nid) {
		set_page_private(page, ACCEL_RESERVE_PRIVATE);
		page->index = r->nr;
		r->pages[r->nr] = page;
		WRITE_ONCE(r->nr, r->nr + 1);
		kept = true;
	}
	spin_unlock(&r->lock);
	if (kept || movable)
		accel_page_movable(page, kept);
	if (!kept)
		set_page_private(page, 0);
	unlock_page(page);
	if (!kept)
		put_page(page);
}

/* A page that leaves the reserve for good: no longer a driver page. */
static void accel_reserve_free_page(struct page *page)
{
	lock_page(page);
	__ClearPageMovable(page);
	set_page_private(page, 0);
	unlock_page(page);
	put_page(page);
}

/* Take the reserve's last page out of its slot, or NULL when it is empty. */
static struct page *accel_reserve_pop(void)
{
	struct accel_reserve *r = &accel.reserve;
	struct page *page = NULL;

	spin_lock(&r->lock);
	if (r->nr) {
		WRITE_ONCE(r->nr, r->nr - 1);
		page = r->pages[r->nr];
		r->pages[r->nr] = NULL;
	}
	spin_unlock(&r->lock);
	return page;
}

/* A page out of the reserve, cleared, or NULL when it is empty. */
static struct page *accel_reserve_get(void)
{
	struct page *page;

	for (;;) {
		page = accel_reserve_pop();
		if (!page)
			return NULL;
		/* Never handed out off the node (nor kept there: see put). */
		if (page_to_nid(page) == accel.nid)
			break;
		accel_reserve_free_page(page);
	}
	/*
	 * Out of its slot, the page cannot be migrated (accel_migrate_page()
	 * finds the slot changed) until the caller stores it in its table.
	 */
	clear_highpage(page);
	atomic64_inc(&accel.reserve_allocs);
	return page;
}

static void accel_reserve_fill(gfp_t gfp)
{
	struct page *page;

	while (READ_ONCE(accel.reserve.nr) < READ_ONCE(accel.reserve.size)) {
		page = accel_alloc_node_page(gfp);
		if (!page)
			return;
		accel_reserve_put(page, false);
		cond_resched();
	}
}

static void accel_reserve_refill(struct work_struct *work)
{
	accel_reserve_fill(ACCEL_RESERVE_GFP_NOWAIT);
}

/* Module unload (no file is left), or a load that failed. */
static void accel_reserve_drain(void)
{
	struct accel_reserve *r = &accel.reserve;
	struct page *page;

	WRITE_ONCE(r->size, 0);
	for (;;) {
		page = accel_reserve_pop();
		if (!page)
			break;
		accel_reserve_free_page(page);
		cond_resched();
	}
}

/*
 * A new page for @f: -EDQUOT beyond the file's limit, -ENOSPC when neither
 * the node nor the reserve has one.  *@reserved: it came from the reserve
 * (and is a driver page already).
 *
 * While the reserve is whole, the node is asked with direct reclaim first:
 * the reserve is for when reclaim cannot help.  Once it is in use, as in
 * mempool_alloc(): the node without direct reclaim, the reserve, then the
 * node with it.
 */
static struct page *accel_alloc_page(struct accel_file *f, bool *reserved,
				     int *err)
{
	bool whole = READ_ONCE(accel.reserve.nr) >= READ_ONCE(accel.reserve.size);
	struct page *page;

	*reserved = false;
	if (f->max_pages && f->nr_pages >= f->max_pages) {
		f->limit_failures++;
		atomic64_inc(&accel.limit_failures);
		*err = -EDQUOT;
		return NULL;
	}
	page = accel_alloc_node_page(whole ? ACCEL_GFP : ACCEL_GFP_NOWAIT);
	if (!page) {
		page = accel_reserve_get();
		*reserved = !!page;
	}
	if (!page && !whole)
		page = accel_alloc_node_page(ACCEL_GFP);
	if (!whole)
		accel_reserve_kick(false);
	if (!page) {
		f->alloc_failures++;
		atomic64_inc(&accel.alloc_failures);
		*err = -ENOSPC;
		return NULL;
	}
	f->nr_pages++;
	atomic64_inc(&accel.pages);
	return page;
}

/*
 * Make @page, entry @index of @f's table, a driver page the VM may move.
 * Under the page lock: a reserve page may be isolated for migration.
 */
static void accel_page_set_movable(struct page *page, struct accel_file *f,
				   pgoff_t index)
{
	lock_page(page);
	set_page_private(page, (unsigned long)f);
	page->index = index;
	__SetPageMovable(page, &accel_mops);
	unlock_page(page);
}

/* A page leaves the table (file release): to the reserve, or freed. */
static void accel_page_release(struct page *page)
{
	/*
	 * Under the page lock, so that a migration that isolated the page
	 * sees that the driver let it go (the migration core frees it then),
	 * or that it is in the reserve now.
	 */
	accel_reserve_put(page, true);
	atomic64_dec(&accel.pages);
}

/* Who has a page of the device page table. */
enum accel_own {
	ACCEL_OWN_CPU,			/* the CPU, read-write */
	ACCEL_OWN_DEVICE_CPU_READ,	/* the device; the CPU may read */
	ACCEL_OWN_DEVICE,		/* the device; no CPU access */
};

/*
 * Device page table entry of @index, allocating the page if needed, with
 * one walk of the table for a page that is there.  *@own tells who owns
 * the page.  Fails with -ENOSPC when the node and the reserve are empty,
 * -EDQUOT beyond the file's page limit, -ENOMEM when the table cannot grow.
 * @fresh, if not NULL: set if the page was allocated by this call.
 */
static struct page *accel_get_page(struct accel_file *f, pgoff_t index,
				   enum accel_own *own, int *err, bool *fresh)
{
	XA_STATE(xas, &f->pages, index);
	struct page *page;
	bool reserved;

	/* f->lock excludes other writers: the walk stays valid for the store. */
	lockdep_assert_held(&f->lock);
	*own = ACCEL_OWN_CPU;
	rcu_read_lock();
	page = xas_load(&xas);
	if (page && xas_get_mark(&xas, ACCEL_DEVICE_OWNED))
		*own = xas_get_mark(&xas, ACCEL_CPU_READ) ?
		       ACCEL_OWN_DEVICE_CPU_READ : ACCEL_OWN_DEVICE;
	rcu_read_unlock();
	if (fresh)
		*fresh = !page;
	if (page)
		return page;

	page = accel_alloc_page(f, &reserved, err);
	if (!page)
		return NULL;
	do {
		xas_lock(&xas);
		xas_store(&xas, page);
		xas_unlock(&xas);
	} while (xas_nomem(&xas, GFP_KERNEL));
	*err = xas_error(&xas);
	if (*err) {
		f->nr_pages--;
		atomic64_dec(&accel.pages);
		if (reserved)
			accel_reserve_put(page, true);
		else
			__free_page(page);
		return NULL;
	}
	accel_page_set_movable(page, f, index);
	return page;
}

/*
 * A CPU write to a page the device owns with CPU reads allowed: the page,
 * and only it, goes back to the CPU.  The engine holds f->lock while it
 * runs a command on the file's memory: the caller has waited for it.
 */
static void accel_take_back(struct accel_file *f, pgoff_t index)
{
	lockdep_assert_held(&f->lock);
	xa_clear_mark(&f->pages, index, ACCEL_DEVICE_OWNED);
	xa_clear_mark(&f->pages, index, ACCEL_CPU_READ);
	f->nr_device--;
	atomic64_inc(&accel.takebacks);
}

static vm_fault_t accel_fault(struct vm_fault *vmf)
{
	struct vm_area_struct *vma = vmf->vma;
	struct accel_file *f = vma->vm_file->private_data;
	enum accel_own own;
	struct page *page;
	vm_fault_t ret;
	pgprot_t prot;
	int err = 0;

	if (vmf->pgoff >= ACCEL_MAX_PAGES)
		return VM_FAULT_SIGBUS;

	mutex_lock(&f->lock);
	f->faults++;
	atomic64_inc(&accel.faults);
	page = accel_get_page(f, vmf->pgoff, &own, &err, NULL);
	if (!page) {
		/*
		 * Node and reserve empty, or the file's limit: SIGBUS.  No
		 * SysRAM for the table itself: OOM.
		 */
		ret = err == -ENOMEM ? VM_FAULT_OOM : VM_FAULT_SIGBUS;
		goto out;
	}
	/*
	 * Special entries, no page reference: GUP cannot take one.  Under
	 * f->lock, so that a hand-over to the device or a migration zaps them.
	 * vm_page_prot is read-only (->pfn_mkwrite asks for write notify):
	 * CPU-owned pages get the mapping's full permissions at once, as a
	 * first touch is mostly a write; pages the CPU may only read get
	 * read-only entries, and a write through them calls ->pfn_mkwrite.
	 * A write to such a page takes it back once its entry is in.
	 */
	switch (own) {
	case ACCEL_OWN_DEVICE:
		ret = VM_FAULT_SIGBUS;
		goto out;
	case ACCEL_OWN_DEVICE_CPU_READ:
		if (!(vmf->flags & FAULT_FLAG_WRITE)) {
			prot = vm_get_page_prot(vma->vm_flags & ~VM_WRITE);
			break;
		}
		fallthrough;
	case ACCEL_OWN_CPU:
		prot = vm_get_page_prot(vma->vm_flags);
		break;
	}
	ret = vmf_insert_pfn_prot(vma, vmf->address, page_to_pfn(page), prot);
	if (ret == VM_FAULT_NOPAGE && own == ACCEL_OWN_DEVICE_CPU_READ &&
	    (vmf->flags & FAULT_FLAG_WRITE))
		accel_take_back(f, vmf->pgoff);
out:
	mutex_unlock(&f->lock);
	return ret;
}

/*
 * A write through a read-only entry of the mapping: the page is the
 * device's with CPU reads allowed (or it was, and TO_CPU gave it back
 * without zapping its entries, or mprotect() made the entry read-only).
 * The CPU takes a device-owned page back, after the command the engine may
 * be running (f->lock).
 *
 * The writable entry is made here, under f->lock, never by the core after
 * this returns (0 would let finish_mkwrite_fault() make the entry
 * writable if it is the same as the one the write faulted on: after
 * f->lock is dropped, a hand-over could give the page to the device again
 * and zap the entry, and a CPU read map it read-only again, the same
 * entry: the device's page would be writable).  So: zap the page's entries
 * (every mapping of this file offset), insert a writable one, and tell the
 * core the fault is done (VM_FAULT_NOPAGE).
 */
static vm_fault_t accel_pfn_mkwrite(struct vm_fault *vmf)
{
	struct vm_area_struct *vma = vmf->vma;
	struct accel_file *f = vma->vm_file->private_data;
	pgoff_t index = vmf->pgoff;
	struct page *page;
	bool device;
	vm_fault_t ret;

	mutex_lock(&f->lock);
	f->faults++;
	atomic64_inc(&accel.faults);
	page = xa_load(&f->pages, index);
	device = xa_get_mark(&f->pages, index, ACCEL_DEVICE_OWNED);
	/* An entry maps a page of the table: a missing one is a bug. */
	if (WARN_ON_ONCE(!page) ||
	    (device && !xa_get_mark(&f->pages, index, ACCEL_CPU_READ))) {
		ret = VM_FAULT_SIGBUS;
		goto out;
	}
	unmap_mapping_range(&f->mapping, (loff_t)index << PAGE_SHIFT,
			    PAGE_SIZE, 1);
	ret = vmf_insert_pfn_prot(vma, vmf->address, page_to_pfn(page),
				  vm_get_page_prot(vma->vm_flags));
	if (ret == VM_FAULT_NOPAGE && device)
		accel_take_back(f, index);
out:
	mutex_unlock(&f->lock);
	return ret;
}

/*
 * No fault-around: a page is mapped by the fault on it.  The callback is
 * there because the core runs ->fault under the per-VMA lock only when
 * ->map_pages exists; otherwise every first touch would be tried under
 * the VMA lock, dropped and retried under mmap_lock.  accel_fault() needs
 * neither lock beyond what keeps the VMA stable.
 */
static vm_fault_t accel_map_pages(struct vm_fault *vmf, pgoff_t start_pgoff,
				  pgoff_t end_pgoff)
{
	return 0;
}

/*
 * ptrace() and /proc/PID/mem, which cannot use GUP on this mapping: a
 * CPU-owned page (allocated if need be, as a touch would) is read or
 * written, a device-owned one is refused unless the CPU may read it (a
 * write then takes it back, as a CPU write does), and so is a forced write
 * through a mapping without write permission (GUP refuses it on shared
 * mappings).
 */
static int accel_access(struct vm_area_struct *vma, unsigned long addr,
			void *buf, int len, int write)
{
	struct accel_file *f = vma->vm_file->private_data;
	pgoff_t index = vma->vm_pgoff + ((addr - vma->vm_start) >> PAGE_SHIFT);
	unsigned int offset = offset_in_page(addr);
	enum accel_own own;
	struct page *page;
	int err = 0;
	void *kaddr;

	if (write && !(vma->vm_flags & VM_WRITE))
		return -EACCES;
	if (index >= ACCEL_MAX_PAGES)
		return -EFAULT;
	len = min_t(int, len, PAGE_SIZE - offset);

	if (mutex_lock_killable(&f->lock))
		return -EINTR;
	page = accel_get_page(f, index, &own, &err, NULL);
	if (!page || own == ACCEL_OWN_DEVICE) {
		mutex_unlock(&f->lock);
		return page ? -EACCES : err;
	}
	if (own == ACCEL_OWN_DEVICE_CPU_READ && write)
		accel_take_back(f, index);
	kaddr = kmap_local_page(page);
	if (write)
		memcpy(kaddr + offset, buf, len);
	else
		memcpy(buf, kaddr + offset, len);
	kunmap_local(kaddr);
	mutex_unlock(&f->lock);
	return len;
}

static const struct vm_operations_struct accel_vm_ops = {
	.fault		= accel_fault,
	.map_pages	= accel_map_pages,
	.pfn_mkwrite	= accel_pfn_mkwrite,
	.access		= accel_access,
};

/*
 * Migration of driver pages (compaction, memory offline, alloc_contig).
 * The VM holds a reference to the isolated page; the table keeps its own.
 */
static bool accel_isolate_page(struct page *page, isolate_mode_t mode)
{
	return true;
}

/*
 * A page of the reserve: its slot takes @dst, nothing to copy.  A @dst off
 * the node (memory offline falls back to SysRAM when the rest of the node
 * is full or offline) is not kept: the slot goes, the reserve is short by
 * a page and is refilled from the node later, and the VM frees @dst.
 */
static int accel_migrate_reserve_page(struct page *dst, struct page *src)
{
	struct accel_reserve *r = &accel.reserve;
	struct page *last;
	unsigned long slot;

	spin_lock(&r->lock);
	slot = src->index;
	/* Taken out meanwhile: it will be a file's page, try again then. */
	if (slot >= r->nr || r->pages[slot] != src) {
		spin_unlock(&r->lock);
		return -EAGAIN;
	}
	if (page_to_nid(dst) != accel.nid) {
		/* The last page takes the slot; its index is read under r->lock. */
		last = r->pages[r->nr - 1];
		r->pages[slot] = last;
		last->index = slot;
		r->pages[r->nr - 1] = NULL;
		WRITE_ONCE(r->nr, r->nr - 1);
		spin_unlock(&r->lock);
		__ClearPageMovable(src);
		set_page_private(src, 0);
		put_page(src);	/* the reserve's; the VM frees src and dst */
		atomic64_inc(&accel.reserve_dropped);
		/* Refilled by the next open, allocation, release or LIMIT. */
		WRITE_ONCE(r->freed, true);
		return MIGRATEPAGE_SUCCESS;
	}
	get_page(dst);
	set_page_private(dst, ACCEL_RESERVE_PRIVATE);
	dst->index = slot;
	__SetPageMovable(dst, &accel_mops);
	r->pages[slot] = dst;
	spin_unlock(&r->lock);
	__ClearPageMovable(src);
	set_page_private(src, 0);
	put_page(src);		/* the reserve's; the VM frees src */
	atomic64_inc(&accel.migrated);
	return MIGRATEPAGE_SUCCESS;
}

static int accel_migrate_page(struct page *dst, struct page *src,
			      enum migrate_mode mode)
{
	/*
	 * src is locked and still movable: neither the file nor the reserve
	 * has released it (both clear that under the page lock first), so
	 * its owner is alive.
	 */
	struct accel_file *f = (struct accel_file *)page_private(src);
	pgoff_t index = src->index;
	void *old;

	if (page_private(src) == ACCEL_RESERVE_PRIVATE)
		return accel_migrate_reserve_page(dst, src);
	/*
	 * Never wait for f->lock: its holder may be allocating and compacting,
	 * or releasing the file and waiting for this page's lock.  The VM
	 * retries -EAGAIN (memory offline until it succeeds).
	 */
	if (!mutex_trylock(&f->lock))
		return -EAGAIN;
	if (WARN_ON_ONCE(xa_load(&f->pages, index) != src)) {
		mutex_unlock(&f->lock);
		return -EAGAIN;
	}
	/*
	 * The CPU's entries go: the next touch maps dst.  The device's view
	 * is f->lock, which the engine holds while it uses the page.
	 */
	if (!xa_get_mark(&f->pages, index, ACCEL_DEVICE_OWNED) ||
	    xa_get_mark(&f->pages, index, ACCEL_CPU_READ))
		unmap_mapping_range(&f->mapping, (loff_t)index << PAGE_SHIFT,
				    PAGE_SIZE, 1);
	copy_highpage(dst, src);
	get_page(dst);
	/* Replacing an entry allocates nothing; its marks stay. */
	old = xa_store(&f->pages, index, dst, GFP_NOWAIT);
	if (WARN_ON_ONCE(old != src)) {
		put_page(dst);
		mutex_unlock(&f->lock);
		return -EAGAIN;
	}
	set_page_private(dst, (unsigned long)f);
	dst->index = index;
	__SetPageMovable(dst, &accel_mops);
	__ClearPageMovable(src);
	set_page_private(src, 0);
	put_page(src);		/* the table's; the VM frees src */
	atomic64_inc(&accel.migrated);
	mutex_unlock(&f->lock);
	return MIGRATEPAGE_SUCCESS;
}

/* A migration that failed leaves the page where it was, in the table. */
static void accel_putback_page(struct page *page)
{
}

static const struct movable_operations accel_mops = {
	.isolate_page	= accel_isolate_page,
	.migrate_page	= accel_migrate_page,
	.putback_page	= accel_putback_page,
};

/* Check a range of driver-owned memory; returns its first page index. */
static int accel_owned_range(const struct spm_accel_range *r, pgoff_t *first,
			     unsigned long *n)
{
	if (!r->length || !PAGE_ALIGNED(r->start) || !PAGE_ALIGNED(r->length) ||
	    r->start >= SPM_ACCEL_MAX_BYTES ||
	    r->length > SPM_ACCEL_MAX_BYTES - r->start)
		return -EINVAL;
	*first = r->start >> PAGE_SHIFT;
	*n = r->length >> PAGE_SHIFT;
	return 0;
}

/* Whether the file's limit leaves room for the pages [first, first + n) lacks. */
static bool accel_within_limit(struct accel_file *f, pgoff_t first,
			       unsigned long n)
{
	unsigned long index, have = 0;
	struct page *page;

	if (!f->max_pages)
		return true;
	xa_for_each_range(&f->pages, index, page, first, first + n - 1)
		have++;
	return n == have || (f->nr_pages < f->max_pages &&
			     n - have <= f->max_pages - f->nr_pages);
}

/*
 * Hand a range to the device: allocate what is missing, unmap it from CPUs
 * (with SPM_ACCEL_CPU_READ, CPU reads map it read-only again).
 */
static int accel_to_device(struct accel_file *f,
			   const struct spm_accel_range *r, u32 flags)
{
	enum accel_own own;
	unsigned long i, n, index;
	struct page *page;
	pgoff_t first;
	bool fresh;
	int ret;

	ret = accel_owned_range(r, &first, &n);
	if (ret)
		return ret;

	if (mutex_lock_interruptible(&f->lock))
		return -ERESTARTSYS;
	/* Beyond the limit: nothing allocated, nothing handed over. */
	if (!accel_within_limit(f, first, n)) {
		f->limit_failures++;
		atomic64_inc(&accel.limit_failures);
		ret = -EDQUOT;
		goto out;
	}
	for (i = 0; i < n; i++) {
		if (!accel_get_page(f, first + i, &own, &ret, &fresh)) {
			/* The node is full, or the table cannot grow. */
			ret = -ENOMEM;
			goto undo;
		}
		if (fresh)
			xa_set_mark(&f->pages, first + i, ACCEL_NEW);
		if (!(i % ACCEL_CHUNK)) {
			/* Up to 1 GiB to allocate: let a killed caller go. */
			if (fatal_signal_pending(current)) {
				ret = -EINTR;
				goto undo;
			}
			cond_resched();
		}
	}
	for (i = 0; i < n; i++) {
		xa_clear_mark(&f->pages, first + i, ACCEL_NEW);
		if (!xa_get_mark(&f->pages, first + i, ACCEL_DEVICE_OWNED)) {
			xa_set_mark(&f->pages, first + i, ACCEL_DEVICE_OWNED);
			f->nr_device++;
		}
		if (flags & SPM_ACCEL_CPU_READ)
			xa_set_mark(&f->pages, first + i, ACCEL_CPU_READ);
		else
			xa_clear_mark(&f->pages, first + i, ACCEL_CPU_READ);
	}
	unmap_mapping_range(&f->mapping, (loff_t)first << PAGE_SHIFT,
			    (loff_t)n << PAGE_SHIFT, 1);
	goto out;
undo:
	/*
	 * The range stays with the CPU as it was: the pages this call
	 * allocated (never mapped: f->lock is held) go back, to the reserve
	 * first.
	 */
	xa_for_each_marked(&f->pages, index, page, ACCEL_NEW) {
		xa_erase(&f->pages, index);
		f->nr_pages--;
		accel_page_release(page);
		cond_resched();
	}
out:
	mutex_unlock(&f->lock);
	return ret;
}

/* Give a range back to the CPU: its next touch maps it again. */
static int accel_to_cpu(struct accel_file *f, const struct spm_accel_range *r)
{
	struct page *page;
	unsigned long n;
	pgoff_t first, index;
	int ret;

	ret = accel_owned_range(r, &first, &n);
	if (ret)
		return ret;

	if (mutex_lock_interruptible(&f->lock))
		return -ERESTARTSYS;
	xa_for_each_range(&f->pages, index, page, first, first + n - 1) {
		if (xa_get_mark(&f->pages, index, ACCEL_DEVICE_OWNED)) {
			xa_clear_mark(&f->pages, index, ACCEL_DEVICE_OWNED);
			xa_clear_mark(&f->pages, index, ACCEL_CPU_READ);
			f->nr_device--;
		}
	}
	mutex_unlock(&f->lock);
	return 0;
}

/* ---------------------------------------------------------------------
 * Mirrors of user memory.
 */

static bool accel_mirror_invalidate(struct mmu_interval_notifier *mni,
				    const struct mmu_notifier_range *range,
				    unsigned long cur_seq)
{
	struct accel_mirror *m = container_of(mni, struct accel_mirror,
					      notifier);
	unsigned long start = max(range->start, m->start);
	unsigned long end = min(range->end, m->end);
	unsigned long addr;

	if (mmu_notifier_range_blockable(range))
		mutex_lock(&m->lock);
	else if (!mutex_trylock(&m->lock))
		return false;

	mmu_interval_set_seq(mni, cur_seq);
	for (addr = start; addr < end; addr += PAGE_SIZE)
		m->view[(addr - m->start) >> PAGE_SHIFT] = 0;
	m->invalidations++;
	mutex_unlock(&m->lock);

	atomic64_inc(&m->file->invalidations);
	atomic64_inc(&accel.invalidations);
	return true;
}

static const struct mmu_interval_notifier_ops accel_mirror_ops = {
	.invalidate = accel_mirror_invalidate,
};

/* The caller's mirror holding all of [start, start + len), if any. */
static struct accel_mirror *accel_mirror_find(struct accel_file *f,
					      unsigned long start,
					      unsigned long len)
{
	struct accel_mirror *m;

	lockdep_assert_held(&f->mirror_lock);
	list_for_each_entry(m, &f->mirrors, list) {
		if (m->notifier.mm == current->mm && start >= m->start &&
		    start < m->end && len <= m->end - start)
			return m;
	}
	return NULL;
}

static int accel_mirror_add(struct accel_file *f,
			    const struct spm_accel_range *r)
{
	struct accel_mirror *m, *other;
	int ret;

	if (!r->length || !PAGE_ALIGNED(r->start) || !PAGE_ALIGNED(r->length) ||
	    r->length > SPM_ACCEL_MAX_BYTES || r->start >= TASK_SIZE ||
	    r->length > TASK_SIZE - r->start || !current->mm)
		return -EINVAL;

	m = kzalloc(sizeof(*m), GFP_KERNEL);
	if (!m)
		return -ENOMEM;
	m->view = kvcalloc(r->length >> PAGE_SHIFT, sizeof(*m->view),
			   GFP_KERNEL);
	if (!m->view) {
		kfree(m);
		return -ENOMEM;
	}
	m->file = f;
	m->start = r->start;
	m->end = r->start + r->length;
	mutex_init(&m->lock);

	if (mutex_lock_interruptible(&f->mirror_lock)) {
		ret = -ERESTARTSYS;
		goto free;
	}
	ret = -ENOSPC;
	if (f->nr_mirrors >= SPM_ACCEL_MAX_MIRRORS)
		goto unlock;
	ret = -EEXIST;
	list_for_each_entry(other, &f->mirrors, list) {
		if (other->notifier.mm == current->mm &&
		    m->start < other->end && other->start < m->end)
			goto unlock;
	}
	ret = mmu_interval_notifier_insert(&m->notifier, current->mm,
					   m->start, r->length,
					   &accel_mirror_ops);
	if (!ret) {
		list_add_tail(&m->list, &f->mirrors);
		WRITE_ONCE(f->nr_mirrors, f->nr_mirrors + 1);
	}
unlock:
	mutex_unlock(&f->mirror_lock);
free:
	if (ret) {
		kvfree(m->view);
		kfree(m);
	}
	return ret;
}

static void accel_mirror_free(struct accel_mirror *m)
{
	mmu_interval_notifier_remove(&m->notifier);
	kvfree(m->view);
	kfree(m);
}

static int accel_mirror_remove(struct accel_file *f,
			       const struct spm_accel_range *r)
{
	struct accel_mirror *m;

	if (mutex_lock_interruptible(&f->mirror_lock))
		return -ERESTARTSYS;
	m = accel_mirror_find(f, r->start, r->length);
	if (!m || m->start != r->start || m->end - m->start != r->length) {
		mutex_unlock(&f->mirror_lock);
		return -ENOENT;
	}
	list_del(&m->list);
	WRITE_ONCE(f->nr_mirrors, f->nr_mirrors - 1);
	mutex_unlock(&f->mirror_lock);
	accel_mirror_free(m);
	return 0;
}

/* ---------------------------------------------------------------------
 * ioctls.
 */

static long accel_exec(struct accel_file *f, struct spm_accel_op __user *uop)
{
	struct accel_cmd cmd = { .file = f };
	struct spm_accel_op *op = &cmd.op;
	s32 __user *unodes;
	unsigned long n;
	int ret;

	if (copy_from_user(op, uop, sizeof(*op)))
		return -EFAULT;
	if (op->cmd < SPM_ACCEL_CMD_CHECKSUM || op->cmd > SPM_ACCEL_CMD_XOR ||
	    op->flags & ~SPM_ACCEL_OP_USER)
		return -EINVAL;
	if (!op->length || !PAGE_ALIGNED(op->addr) ||
	    !PAGE_ALIGNED(op->length) || op->length > SPM_ACCEL_MAX_BYTES ||
	    op->addr + op->length < op->addr)
		return -EINVAL;
	if (!(op->flags & SPM_ACCEL_OP_USER) &&
	    (op->addr >= SPM_ACCEL_MAX_BYTES ||
	     op->length > SPM_ACCEL_MAX_BYTES - op->addr))
		return -EINVAL;

	n = op->length >> PAGE_SHIFT;
	unodes = u64_to_user_ptr(op->nodes_ptr);
	if (unodes) {
		/* Fail before the command runs, not after. */
		if (clear_user(unodes, n * sizeof(s32)))
			return -EFAULT;
		cmd.nodes = kvmalloc_array(n, sizeof(s32), GFP_KERNEL);
		if (!cmd.nodes)
			return -ENOMEM;
	}
	op->result = 0;
	op->pages = 0;
	op->faulted = 0;
	op->invalidations = 0;
	memset(op->node_pages, 0, sizeof(op->node_pages));

	if (op->flags & SPM_ACCEL_OP_USER) {
		/* The mirror lock keeps the mirror alive while the engine runs. */
		if (mutex_lock_interruptible(&f->mirror_lock)) {
			ret = -ERESTARTSYS;
		} else {
			cmd.mirror = accel_mirror_find(f, op->addr, op->length);
			ret = cmd.mirror ? accel_engine_run(&cmd) : -EACCES;
			mutex_unlock(&f->mirror_lock);
		}
	} else {
		ret = accel_engine_run(&cmd);
	}

	if (!ret && cmd.nodes &&
	    copy_to_user(unodes, cmd.nodes, n * sizeof(s32)))
		ret = -EFAULT;
	kvfree(cmd.nodes);
	if (!ret && copy_to_user(uop, op, sizeof(*op)))
		ret = -EFAULT;
	return ret;
}

static long accel_info(struct accel_file *f, struct spm_accel_info __user *uinfo)
{
	struct spm_accel_info info = {
		.nid			= accel.nid,
		.user			= user,
		.dev_pages		= atomic64_read(&accel.pages),
		.dev_faults		= atomic64_read(&accel.faults),
		.dev_alloc_failures	= atomic64_read(&accel.alloc_failures),
		.dev_ops		= atomic64_read(&accel.ops),
		.dev_invalidations	= atomic64_read(&accel.invalidations),
		.dev_mirror_faults	= atomic64_read(&accel.mirror_faults),
		.node_pages_freed	= atomic64_read(&accel.node_pages_freed),
		.folios_arrived		= atomic64_read(&accel.folios_arrived),
		.pressure		= atomic64_read(&accel.pressure),
		.ops			= atomic64_read(&f->ops),
		.invalidations		= atomic64_read(&f->invalidations),
		.mirror_faults		= atomic64_read(&f->mirror_faults),
		/* Not behind a command that holds the mirror lock. */
		.mirrors		= READ_ONCE(f->nr_mirrors),
	};

	if (mutex_lock_interruptible(&f->lock))
		return -ERESTARTSYS;
	info.pages = f->nr_pages;
	info.device_pages = f->nr_device;
	info.faults = f->faults;
	info.alloc_failures = f->alloc_failures;
	mutex_unlock(&f->lock);

	return copy_to_user(uinfo, &info, sizeof(info)) ? -EFAULT : 0;
}

/* Read or set the file's page limit; report the reserve. */
static long accel_limit(struct accel_file *f, struct spm_accel_limit __user *ulim)
{
	struct spm_accel_limit lim;
	unsigned long ceiling = READ_ONCE(max_pages);

	if (copy_from_user(&lim, ulim, sizeof(lim)))
		return -EFAULT;
	if (lim.flags & ~SPM_ACCEL_LIMIT_SET || lim.reserved)
		return -EINVAL;
	if (lim.flags & SPM_ACCEL_LIMIT_SET) {
		if (lim.max_pages > ACCEL_MAX_PAGES)
			return -EINVAL;
		if (ceiling && (!lim.max_pages || lim.max_pages > ceiling) &&
		    !capable(CAP_SYS_ADMIN))
			return -EPERM;
	}

	/*
	 * A structure that cannot be written back fails before anything
	 * changes: the caller's own bytes, written back unchanged.  (Not
	 * under f->lock: it may be this file's memory, whose fault takes it.)
	 */
	if (copy_to_user(ulim, &lim, sizeof(lim)))
		return -EFAULT;

	if (mutex_lock_interruptible(&f->lock))
		return -ERESTARTSYS;
	if (lim.flags & SPM_ACCEL_LIMIT_SET)
		f->max_pages = lim.max_pages;
	lim.max_pages = f->max_pages;
	lim.pages = f->nr_pages;
	lim.limit_failures = f->limit_failures;
	mutex_unlock(&f->lock);
	accel_reserve_kick(false);
	lim.reserve_pages = READ_ONCE(accel.reserve.nr);
	lim.reserve_size = READ_ONCE(accel.reserve.size);
	lim.reserve_allocs = atomic64_read(&accel.reserve_allocs);

	return copy_to_user(ulim, &lim, sizeof(lim)) ? -EFAULT : 0;
}

/* TO_DEVICE with flags. */
static long accel_handover(struct accel_file *f,
			   struct spm_accel_handover __user *uh)
{
	struct spm_accel_handover h;
	struct spm_accel_range r;

	if (copy_from_user(&h, uh, sizeof(h)))
		return -EFAULT;
	if (h.flags & ~SPM_ACCEL_CPU_READ || h.reserved)
		return -EINVAL;
	r.start = h.start;
	r.length = h.length;
	return accel_to_device(f, &r, h.flags);
}

/* Reclaim from the device's node only, as a device under pressure would. */
static long accel_reclaim(u64 __user *unr)
{
	u64 nr;

	if (!capable(CAP_SYS_ADMIN))
		return -EPERM;
	if (get_user(nr, unr))
		return -EFAULT;
	if (!nr || nr > ACCEL_MAX_PAGES)
		return -EINVAL;
	return put_user(spm_node_reclaim(accel.nid, nr), unr);
}

static long accel_ioctl(struct file *file, unsigned int cmd, unsigned long arg)
{
	struct accel_file *f = file->private_data;
	void __user *uarg = (void __user *)arg;
	struct spm_accel_range r;

	switch (cmd) {
	case SPM_ACCEL_IOC_INFO:
		return accel_info(f, uarg);
	case SPM_ACCEL_IOC_EXEC:
		return accel_exec(f, uarg);
	case SPM_ACCEL_IOC_RECLAIM:
		return accel_reclaim(uarg);
	case SPM_ACCEL_IOC_HANDOVER:
		return accel_handover(f, uarg);
	case SPM_ACCEL_IOC_LIMIT:
		return accel_limit(f, uarg);
	case SPM_ACCEL_IOC_TO_DEVICE:
	case SPM_ACCEL_IOC_TO_CPU:
	case SPM_ACCEL_IOC_MIRROR:
	case SPM_ACCEL_IOC_UNMIRROR:
		break;
	default:
		return -ENOTTY;
	}

	if (copy_from_user(&r, uarg, sizeof(r)))
		return -EFAULT;
	switch (cmd) {
	case SPM_ACCEL_IOC_TO_DEVICE:
		return accel_to_device(f, &r, 0);
	case SPM_ACCEL_IOC_TO_CPU:
		return accel_to_cpu(f, &r);
	case SPM_ACCEL_IOC_MIRROR:
		return accel_mirror_add(f, &r);
	default:
		return accel_mirror_remove(f, &r);
	}
}

/* ---------------------------------------------------------------------
 * File operations.
 */

static int accel_open(struct inode *inode, struct file *file)
{
	struct accel_file *f = kzalloc(sizeof(*f), GFP_KERNEL);

	if (!f)
		return -ENOMEM;
	address_space_init_once(&f->mapping);
	f->mapping.host = inode;
	f->mapping.a_ops = &empty_aops;
	mutex_init(&f->lock);
	xa_init(&f->pages);
	mutex_init(&f->mirror_lock);
	INIT_LIST_HEAD(&f->mirrors);
	f->max_pages = min(READ_ONCE(max_pages), ACCEL_MAX_PAGES);

	file->f_mapping = &f->mapping;
	file->private_data = f;
	/* A reserve that could not be topped up so far: try again. */
	accel_reserve_kick(true);
	return 0;
}

static int accel_mmap(struct file *file, struct vm_area_struct *vma)
{
	/*
	 * VM_MAYSHARE: MAP_SHARED of a file opened read-only has no
	 * VM_SHARED (nor VM_MAYWRITE); a private mapping is refused.
	 */
	if (!(vma->vm_flags & VM_MAYSHARE))
		return -EINVAL;
	if (vma->vm_pgoff >= ACCEL_MAX_PAGES ||
	    vma_pages(vma) > ACCEL_MAX_PAGES - vma->vm_pgoff)
		return -EINVAL;
	/* Special entries only (vmf_insert_pfn_prot()): GUP fails on them. */
	vm_flags_set(vma, VM_PFNMAP | VM_IO | VM_DONTEXPAND | VM_DONTDUMP);
	vma->vm_ops = &accel_vm_ops;
	return 0;
}

/* Last reference: no mapping is left, so every page goes back. */
static int accel_release(struct inode *inode, struct file *file)
{
	struct accel_file *f = file->private_data;
	struct accel_mirror *m, *tmp;
	struct page *page;
	unsigned long index;

	list_for_each_entry_safe(m, tmp, &f->mirrors, list)
		accel_mirror_free(m);
	/* A migration of one of the pages may be under way: see there. */
	mutex_lock(&f->lock);
	xa_for_each(&f->pages, index, page) {
		accel_page_release(page);
		/* A file may hold a whole node: 130000 pages here. */
		cond_resched();
	}
	xa_destroy(&f->pages);
	mutex_unlock(&f->lock);
	accel_reserve_kick(false);
	mutex_destroy(&f->lock);
	mutex_destroy(&f->mirror_lock);
	kfree(f);
	return 0;
}

static const struct file_operations accel_fops = {
	.owner		= THIS_MODULE,
	.open		= accel_open,
	.release	= accel_release,
	.mmap		= accel_mmap,
	.unlocked_ioctl	= accel_ioctl,
	/* The structures have one layout for 32- and 64-bit callers. */
	.compat_ioctl	= compat_ptr_ioctl,
	.llseek		= noop_llseek,
};

/* ---------------------------------------------------------------------
 * sysfs: /sys/class/misc/spm_accel/
 */

static ssize_t nid_show(struct device *dev, struct device_attribute *attr,
			char *buf)
{
	return sysfs_emit(buf, "%d\n", accel.nid);
}
static DEVICE_ATTR_RO(nid);

#define ACCEL_COUNTER_ATTR(_name)					\
static ssize_t _name##_show(struct device *dev,				\
			    struct device_attribute *attr, char *buf)	\
{									\
	return sysfs_emit(buf, "%lld\n", atomic64_read(&accel._name));	\
}									\
static DEVICE_ATTR_RO(_name)

ACCEL_COUNTER_ATTR(pages);
ACCEL_COUNTER_ATTR(faults);
ACCEL_COUNTER_ATTR(alloc_failures);
ACCEL_COUNTER_ATTR(misplaced);
ACCEL_COUNTER_ATTR(ops);
ACCEL_COUNTER_ATTR(invalidations);
ACCEL_COUNTER_ATTR(mirror_faults);
ACCEL_COUNTER_ATTR(migrated);
ACCEL_COUNTER_ATTR(node_pages_freed);
ACCEL_COUNTER_ATTR(folios_arrived);
ACCEL_COUNTER_ATTR(pressure);
ACCEL_COUNTER_ATTR(takebacks);
ACCEL_COUNTER_ATTR(reserve_allocs);
ACCEL_COUNTER_ATTR(reserve_dropped);
ACCEL_COUNTER_ATTR(limit_failures);

static ssize_t reserve_show(struct device *dev, struct device_attribute *attr,
			    char *buf)
{
	return sysfs_emit(buf, "%lu\n", READ_ONCE(accel.reserve.nr));
}
static DEVICE_ATTR_RO(reserve);

/* Pages of the reserve off the node: 0, always. */
static ssize_t reserve_off_node_show(struct device *dev,
				     struct device_attribute *attr, char *buf)
{
	struct accel_reserve *r = &accel.reserve;
	unsigned long i, off = 0;

	spin_lock(&r->lock);
	for (i = 0; i < r->nr; i++)
		off += page_to_nid(r->pages[i]) != accel.nid;
	spin_unlock(&r->lock);
	return sysfs_emit(buf, "%lu\n", off);
}
static DEVICE_ATTR_RO(reserve_off_node);

static struct attribute *accel_attrs[] = {
	&dev_attr_nid.attr,
	&dev_attr_pages.attr,
	&dev_attr_faults.attr,
	&dev_attr_alloc_failures.attr,
	&dev_attr_misplaced.attr,
	&dev_attr_ops.attr,
	&dev_attr_invalidations.attr,
	&dev_attr_mirror_faults.attr,
	&dev_attr_migrated.attr,
	&dev_attr_node_pages_freed.attr,
	&dev_attr_folios_arrived.attr,
	&dev_attr_pressure.attr,
	&dev_attr_takebacks.attr,
	&dev_attr_reserve_allocs.attr,
	&dev_attr_reserve_dropped.attr,
	&dev_attr_limit_failures.attr,
	&dev_attr_reserve.attr,
	&dev_attr_reserve_off_node.attr,
	NULL,
};
ATTRIBUTE_GROUPS(accel);

/* ---------------------------------------------------------------------
 * Module.
 */

static int accel_set_caps(void)
{
	static const enum spm_node_cap caps[] = {
		SPM_CAP_RECLAIM, SPM_CAP_COMPACTION,	/* always */
		SPM_CAP_USER, SPM_CAP_MIGRATION,	/* user=1 only */
	};
	int i, ret;

	for (i = 0; i < (user ? 4 : 2); i++) {
		ret = spm_node_set_cap(accel.nid, &accel.owner, caps[i], true);
		if (ret)
			return ret;
	}
	return 0;
}

/* Fill the reserve on the node, with reclaim: the device needs all of it. */
static int accel_reserve_init(void)
{
	struct accel_reserve *r = &accel.reserve;
	unsigned long size = min(reserve_pages, ACCEL_MAX_PAGES);
	struct page **pages;

	pages = kvcalloc(size, sizeof(*pages), GFP_KERNEL);
	if (!pages)
		return -ENOMEM;
	/* The pages_freed callback may note freed pages already. */
	spin_lock(&r->lock);
	r->pages = pages;
	WRITE_ONCE(r->size, size);
	spin_unlock(&r->lock);
	accel_reserve_fill(ACCEL_RESERVE_GFP);
	if (READ_ONCE(r->nr) < size) {
		pr_err("cannot reserve %lu pages on node %d (got %lu)\n", size,
		       accel.nid, READ_ONCE(r->nr));
		return -ENOMEM;
	}
	return 0;
}

static void accel_reserve_free(void)
{
	/* No callback queues the work any more: the node was released. */
	cancel_work_sync(&accel.reserve.refill);
	accel_reserve_drain();
	kvfree(accel.reserve.pages);
}

static int __init accel_init(void)
{
	int ret;

	accel.nid = nid;
	accel.owner.name = KBUILD_MODNAME;
	accel.owner.ops = &accel_node_ops;
	accel.owner.private = &accel;
	spin_lock_init(&accel.reserve.lock);
	INIT_WORK(&accel.reserve.refill, accel_reserve_refill);

	ret = spm_node_claim(nid, &accel.owner);
	if (ret) {
		pr_err("cannot claim node %d: %d\n", nid, ret);
		return ret;
	}
	ret = accel_set_caps();
	if (ret) {
		pr_err("cannot set the capabilities of node %d: %d\n", nid, ret);
		goto release;
	}
	accel.engine = alloc_ordered_workqueue(KBUILD_MODNAME, 0);
	if (!accel.engine) {
		ret = -ENOMEM;
		goto release;
	}
	ret = accel_reserve_init();
	if (ret)
		goto engine;
	accel.misc.minor = MISC_DYNAMIC_MINOR;
	accel.misc.name = KBUILD_MODNAME;
	accel.misc.fops = &accel_fops;
	accel.misc.groups = accel_groups;
	ret = misc_register(&accel.misc);
	if (ret)
		goto engine;
	pr_info("node %d, user placement %s, reserve %lu pages\n", nid,
		user ? "on" : "off", accel.reserve.size);
	return 0;

engine:
	destroy_workqueue(accel.engine);
release:
	spm_node_release(nid, &accel.owner);
	accel_reserve_free();
	return ret;
}

static void __exit accel_exit(void)
{
	misc_deregister(&accel.misc);
	destroy_workqueue(accel.engine);
	spm_node_release(accel.nid, &accel.owner);
	accel_reserve_free();
}

module_init(accel_init);
module_exit(accel_exit);

MODULE_DESCRIPTION("Sample accelerator owning a Specific Purpose Memory node");
MODULE_LICENSE("GPL");
