// SPDX-License-Identifier: GPL-2.0
/*
 * spm_alloc_bench: order-0 page allocator microbenchmark.
 *
 * Built out of tree against both the baseline and the patched kernel (it
 * uses no SPM interface). Reading /sys/kernel/debug/spm_alloc_bench/run
 * runs three loops on the reading task's CPU and returns one line each:
 *
 *   single ops=N ns=X   N x { alloc_page(GFP_KERNEL); __free_page() }
 *   batch  ops=N ns=X   N/batch x { batch x alloc_page(); batch x __free_page() }
 *   bulk   ops=N ns=X   N/batch x { alloc_pages_bulk_array(batch); batch x __free_page() }
 *
 * X is nanoseconds (ktime_get_ns()) per page allocated and freed. The page
 * allocator is entered with the task's memory policy (run it without one,
 * pinned with numactl --cpunodebind=N, to measure the default path).
 * Module parameters: iters (default 65536), batch (default 512, at most
 * 4096).
 */
#include <linux/debugfs.h>
#include <linux/fs.h>
#include <linux/gfp.h>
#include <linux/ktime.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/sched.h>
#include <linux/slab.h>

static unsigned int iters = 65536;
module_param(iters, uint, 0644);
MODULE_PARM_DESC(iters, "pages allocated and freed per loop");
static unsigned int batch = 512;
module_param(batch, uint, 0644);
MODULE_PARM_DESC(batch, "pages held at once by the batch and bulk loops");

static struct dentry *bench_dir;
static DEFINE_MUTEX(bench_lock);

static void free_batch(struct page **pages, unsigned int n)
{
	unsigned int i;

	for (i = 0; i < n; i++) {
		__free_page(pages[i]);
		pages[i] = NULL;
	}
}

/* Return ns per op, or a negative errno. */
static s64 bench_single(unsigned int n)
{
	unsigned int i;
	u64 t0 = ktime_get_ns();

	for (i = 0; i < n; i++) {
		struct page *page = alloc_page(GFP_KERNEL);

		if (!page)
			return -ENOMEM;
		__free_page(page);
		if ((i & 1023) == 1023)
			cond_resched();
	}
	return ktime_get_ns() - t0;
}

static s64 bench_batch(struct page **pages, unsigned int n, unsigned int b)
{
	unsigned int i, j;
	u64 t0 = ktime_get_ns();

	for (i = 0; i < n; i += b) {
		for (j = 0; j < b; j++) {
			pages[j] = alloc_page(GFP_KERNEL);
			if (!pages[j]) {
				free_batch(pages, j);
				return -ENOMEM;
			}
		}
		free_batch(pages, b);
		cond_resched();
	}
	return ktime_get_ns() - t0;
}

static s64 bench_bulk(struct page **pages, unsigned int n, unsigned int b)
{
	unsigned int i;
	unsigned long got;
	u64 t0 = ktime_get_ns();

	for (i = 0; i < n; i += b) {
		got = alloc_pages_bulk_array(GFP_KERNEL, b, pages);
		if (got != b) {
			free_batch(pages, got);
			return -ENOMEM;
		}
		free_batch(pages, b);
		cond_resched();
	}
	return ktime_get_ns() - t0;
}

static int emit(char *buf, size_t size, const char *name, unsigned int n,
		s64 ns)
{
	if (ns < 0)
		return scnprintf(buf, size, "%s error=%lld\n", name, ns);
	/* Two decimals without floating point. */
	ns = div_s64(ns * 100, n);
	return scnprintf(buf, size, "%s ops=%u ns=%lld.%02lld\n", name, n,
			 ns / 100, ns % 100);
}

static ssize_t run_read(struct file *file, char __user *ubuf, size_t count,
			loff_t *ppos)
{
	unsigned int b = clamp_val(batch, 1, 4096);
	unsigned int n = max(iters / b, 1U) * b;
	struct page **pages;
	char out[192];
	int len = 0;

	if (*ppos)
		return 0;
	pages = kcalloc(b, sizeof(*pages), GFP_KERNEL);
	if (!pages)
		return -ENOMEM;
	mutex_lock(&bench_lock);
	len += emit(out + len, sizeof(out) - len, "single", n, bench_single(n));
	len += emit(out + len, sizeof(out) - len, "batch", n,
		    bench_batch(pages, n, b));
	len += emit(out + len, sizeof(out) - len, "bulk", n,
		    bench_bulk(pages, n, b));
	mutex_unlock(&bench_lock);
	kfree(pages);
	return simple_read_from_buffer(ubuf, count, ppos, out, len);
}

static const struct file_operations run_fops = {
	.owner = THIS_MODULE,
	.read = run_read,
	.llseek = default_llseek,
};

static int __init spm_alloc_bench_init(void)
{
	bench_dir = debugfs_create_dir("spm_alloc_bench", NULL);
	debugfs_create_file("run", 0400, bench_dir, NULL, &run_fops);
	return 0;
}

static void __exit spm_alloc_bench_exit(void)
{
	debugfs_remove_recursive(bench_dir);
}

module_init(spm_alloc_bench_init);
module_exit(spm_alloc_bench_exit);
MODULE_DESCRIPTION("Order-0 page allocator microbenchmark");
MODULE_LICENSE("GPL");
