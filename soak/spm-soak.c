// SPDX-License-Identifier: GPL-2.0
/*
 * spm-soak: data with checksums on the SPM nodes while every service of
 * the series runs against it, for a fixed time (guest side; soak/run on
 * the host boots the VM, soak/soak.sh prepares it and starts this).
 *
 * Nodes: 0 and 1 SysRAM; 2 SPM from boot (unowned, or owned by
 * drivers/spm_test_owner); 3 SPM through dax/kmem, owned by
 * drivers/spm_cram (demotion target, write fence), or unowned.
 *
 * Processes and threads, all running until the deadline:
 *
 *   data       (a process in the memory cgroup SOAK_CG)
 *     writer threads (-w): each keeps buffers (-b of -m MiB) of private
 *                anonymous memory with a checksum per page.  Kinds:
 *                spm2 (MPOL_BIND node 2), mixed (MPOL_BIND {0 or 1, 2}),
 *                tier (MPOL_BIND node 0 or 1: demoted to node 3 by
 *                reclaim, promoted back by writes through the fence),
 *                spm3 (MPOL_BIND node 3, only while node 3 is unowned and
 *                allows user placement); half of them MADV_HUGEPAGE.
 *                Ops: verify a whole buffer, rewrite a window of pages
 *                (new generation, new checksum), MADV_PAGEOUT a window,
 *                mbind(MPOL_MF_MOVE) again, verify and unmap (and make a
 *                new one).  A binding refused (-EPERM: the node does not
 *                permit user placement now) leaves the buffer unbound.
 *     migrator   move_pages() of windows of the buffers to nodes 0-3, and
 *                now and then migrate_pages() of the whole process
 *                between node 2 and SysRAM or off node 3.
 *   reclaimer  memory.reclaim of SOAK_CG (swap out; demotion into node
 *              3 while spm_cram has it), nodeN/spm/reclaim of nodes 2
 *              and 3, and every 40 s swapoff/swapon of the zram swap.
 *   compactor  /proc/sys/vm/compact_memory, nodeN/compact of nodes 2, 3,
 *              drop_caches.
 *   hotplug    offline and online again of one memory block, of node 3
 *              and node 2 in turn (never the last online block of the
 *              node).  -EBUSY and an offline cut short after 30 s
 *              (alarm) are allowed; at least one node 3 offline must
 *              succeed, and every block must come back online.
 *   control    one at a time, at random: allow_user of node 2 (sysfs
 *              while unowned, the owner's debugfs "caps" +user/-user
 *              while spm_test_owner has it), allow_user of node 3 while
 *              unowned, the write fence of node 2 under spm_test_owner,
 *              spm_test_owner loaded (one of three capability sets) or
 *              unloaded, spm_cram loaded (budget 4-128 MiB, fence,
 *              allow_move at random) or unloaded, whatever pages the
 *              nodes hold.  It
 *              reads each owner's statistics before unloading it.
 *
 * At the deadline the workers stop; node 2 goes back to unowned with its
 * starting allow_user, spm_cram is loaded, every block is online.  The
 * data process verifies every page once more.  Then spm_test_owner (user,
 * reclaim, compaction, migration) claims node 2, the data process moves
 * what it can onto node 2, frees everything and exits: the owner's
 * pages_freed must match the drop of node 2's used memory (plus at most
 * 512 pages for each folio that arrived and each khugepaged collapse
 * meanwhile).  After the owner is unloaded the SPM nodes' counters must
 * be back to where they were before the soak started, spm_cram must track
 * nothing, swapoff must take back all of swap, and the kernel log (read
 * from /dev/kmsg all along) must hold no report.
 *
 * "Used" of a node is MemUsed minus the free pages on the per-cpu lists
 * (/proc/zoneinfo "count:"), after vm/stat_refresh: see spm_snap() in
 * tests/lib/spm_place.h.  Tolerance: -T pages (default 256 = 1 MiB).
 *
 * Output: TAP on stdout, one result per worker (its operation counts) and
 * per check, "# " progress lines every 30 s.  Exit 0 when every result
 * is ok.
 *
 * usage: spm-soak [-t SECONDS] [-s SEED] [-w WRITERS] [-b BUFFERS]
 *                 [-m MIB] [-T PAGES] [-x SCALE] [-v]
 */
#include <dirent.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <sys/swap.h>
#include <time.h>
#include "spm_owner.h"

#define PAGE		4096UL
#define WORDS		(PAGE / sizeof(uint64_t))
#define NNODES		4		/* nodes 0-3 of the soak VM */
#define SPM2		2
#define SPM3		3
#define MAX_WRITERS	8
#define MAX_BUFS	16
#define SOAK_CG		"/sys/fs/cgroup/spm-soak"
#define CRAM		"spm_cram"
#define CRAM_SYS	"/sys/kernel/spm_cram"
#define MEMSYS		"/sys/devices/system/memory"
#define SWAPDEV		"/dev/zram0"
#define HDR_MAGIC	0x53504d2d534f414bULL	/* "SPM-SOAK" */
#define NOTE_LEN	240
#define PROGRESS_S	30
#define SWAP_CYCLE_S	40
#define MAX_BLOCKS	64
/* Taint flags our modules and KUnit set: O, E, N. */
#define TAINT_OK	((1UL << 12) | (1UL << 13) | (1UL << 18))
#ifndef ARRAY_SIZE
#define ARRAY_SIZE(a)	(sizeof(a) / sizeof((a)[0]))
#endif

/* ------------------------------------------------------------ options */

static struct {
	long seconds;
	uint64_t seed;
	int writers;
	int bufs;
	long buf_mb;
	long tol_pages;
	int scale;
	int verbose;
} opt = {
	.seconds = 600,
	.seed = 1,
	.writers = 2,
	.bufs = 6,
	.buf_mb = 8,
	.tol_pages = 256,
	.scale = 1,
};

/* ------------------------------------------------- shared statistics */

struct errnote {
	long n;
	char first[NOTE_LEN];
};

struct wstats {
	long ops, creates, destroys, verifies, pages_verified, pages_written;
	long bind_ok, bind_refused, rebind_ok, rebind_refused, pageouts;
	long bad;
	struct errnote err;
};

struct mstats {
	long ops, pages, moved, eperm, eacces, enoent, ebusy, enomem, other;
	long refused;			/* calls: the target refuses migration */
	long to[NNODES];		/* pages that arrived on each target */
	long mp_calls, mp_ok, mp_refused;
	struct errnote err;
};

struct rstats {
	long ops, memcg_ok, memcg_again;
	long node_ok[2], node_again[2], node_eperm[2];
	long swap_cycles;
	struct errnote err;
};

struct cstats {
	long ops, all_ok, node_ok[2], node_eperm[2], drops;
	struct errnote err;
};

struct hstats {
	long ops, off_ok[2], off_busy[2], off_timeout[2], on_ok[2], none[2];
	int left_offline;		/* blocks it could not online again */
	struct errnote err;
};

/* Statistics of the owners, summed over their lifetimes. */
struct ostats {
	long ops, user_flips, user3_flips, fence_on, fence_off, fence_busy;
	long sto_loads, sto_load_busy, sto_unloads, sto_unload_busy;
	long cram_loads, cram_unloads, cram_unload_busy;
	long cram_demotions, cram_promotions, cram_fenced_writes;
	long cram_throttled, cram_reclaimed, cram_left_bytes;
	long sto_pages_freed, sto_folio_arrived, sto_may_demote;
	long sto_write_fault, sto_pressure, sto_fenced_lives;
	long inconsistent;		/* lifetimes whose statistics disagree */
	char why[NOTE_LEN];
	struct errnote err;
};

enum { PH_RUN, PH_VERIFIED, PH_GATHER, PH_GATHERED, PH_FREE, PH_FREED };

struct shared {
	volatile int stop;
	volatile int phase;		/* data process, PH_* */
	double t0;
	struct wstats w[MAX_WRITERS];
	struct mstats m;
	struct rstats r;
	struct cstats c;
	struct hstats h;
	struct ostats o;
	long final_pages, final_bad;
	long final_on[NNODES + 1];	/* data pages per node; [NNODES]: absent */
	long gathered;			/* pages moved to node 2 at the end */
	long freed_on[NNODES + 1];	/* the same just before freeing */
	char first_bad[NOTE_LEN];
};

static struct shared *sh;

/* -------------------------------------------------------------- helpers */

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void msleep(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) && errno == EINTR)
		;
}

/* splitmix64 */
static uint64_t rnd(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static long rnd_between(uint64_t *s, long lo, long hi)
{
	return lo + (long)(rnd(s) % (uint64_t)(hi - lo + 1));
}

static void __attribute__((format(printf, 2, 3)))
note(struct errnote *e, const char *fmt, ...)
{
	va_list ap;

	if (e->n++)
		return;
	va_start(ap, fmt);
	vsnprintf(e->first, sizeof(e->first), fmt, ap);
	va_end(ap);
}

static void __attribute__((format(printf, 1, 2))) say(const char *fmt, ...)
{
	char buf[1024];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if (n >= (int)sizeof(buf))
		n = sizeof(buf) - 1;
	/* One write: lines of several processes share the pipe. */
	if (write(STDOUT_FILENO, buf, n) < 0)
		return;
}

static double elapsed(void)
{
	return now() - sh->t0;
}

static void verbose(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void verbose(const char *fmt, ...)
{
	char buf[512];
	va_list ap;

	if (!opt.verbose)
		return;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	say("# [%7.1f] %s\n", elapsed(), buf);
}

static int writef(const char *path, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static int writef(const char *path, const char *fmt, ...)
{
	char buf[128];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	return spm_write_file(path, buf);
}

static int node_file_write(int nid, const char *file, const char *val)
{
	char path[128];

	snprintf(path, sizeof(path), SPM_NODE_SYSFS "/node%d/%s", nid, file);
	return spm_write_file(path, val);
}

static int node_owner(int nid, char *buf, size_t size)
{
	char path[128];

	snprintf(path, sizeof(path), SPM_NODE_SYSFS "/node%d/spm/owner", nid);
	return spm_read_file(path, buf, size);
}

static bool node_owned_by(int nid, const char *name)
{
	char buf[64];

	return node_owner(nid, buf, sizeof(buf)) >= 0 && !strcmp(buf, name);
}

static int allow_user_get(int nid)
{
	return spm_allow_user_get(nid);
}

static int allow_user_set(int nid, int on)
{
	return spm_allow_user_set(nid, on);
}

/* ------------------------------------------------------ module control */

static int module_unload(const char *name)
{
	return syscall(SYS_delete_module, name, O_NONBLOCK) ? -errno : 0;
}

static bool module_loaded(const char *name)
{
	char path[128];

	snprintf(path, sizeof(path), "/sys/module/%s", name);
	return access(path, F_OK) == 0;
}

static long long cram_get(const char *name)
{
	char path[128];

	snprintf(path, sizeof(path), CRAM_SYS "/%s", name);
	return spm_read_ll(path);
}

/* ------------------------------------------------------------- the data */

enum kind { K_SPM2, K_MIXED, K_TIER, K_SPM3, K_NKINDS };

static const char *const kind_names[K_NKINDS] = {
	"spm2", "mixed", "tier", "spm3",
};

static const enum kind kind_cycle[] = {
	K_SPM2, K_TIER, K_MIXED, K_TIER, K_SPM2, K_SPM3,
};

struct buf {
	pthread_rwlock_t lock;	/* write: map/unmap; read: use */
	char *p;		/* NULL: not mapped */
	long npages;
	enum kind kind;
	int home;		/* SysRAM node of mixed and tier buffers */
	int thp;
	int id;
	uint32_t *gen;		/* generation each page holds */
	uint64_t *sum;		/* checksum of each page */
};

struct writer {
	pthread_t thread;
	int id;
	uint64_t rng;
	struct buf bufs[MAX_BUFS];
};

static struct writer writers[MAX_WRITERS];

static inline uint64_t sum_step(uint64_t h, uint64_t w)
{
	h = (h ^ w) * 0x100000001b3ULL;
	return h ^ (h >> 29);
}

/*
 * Write page idx of buffer b at generation gen: a header (magic, buffer,
 * page, generation), 8 to 511 pseudo-random words, zeros (compressible
 * in varying degree, for zram and spm_cram alike).  Returns its checksum.
 */
static uint64_t fill_page(uint64_t *w, const struct buf *b, long idx,
			  uint32_t gen)
{
	uint64_t s = opt.seed ^ ((uint64_t)b->id << 48) ^
		     ((uint64_t)idx << 20) ^ (gen * 0x9e3779b97f4a7c15ULL);
	uint64_t h = 0xcbf29ce484222325ULL, v;
	unsigned long nrand = 8 + rnd(&s) % 504, i;

	for (i = 0; i < WORDS; i++) {
		if (i == 0)
			v = HDR_MAGIC;
		else if (i == 1)
			v = ((uint64_t)b->id << 32) | (uint64_t)idx;
		else if (i == 2)
			v = gen;
		else if (i < 3 + nrand)
			v = rnd(&s);
		else
			v = 0;
		w[i] = v;
		h = sum_step(h, v);
	}
	return h;
}

static uint64_t page_sum(const uint64_t *w)
{
	uint64_t h = 0xcbf29ce484222325ULL;
	unsigned long i;

	for (i = 0; i < WORDS; i++)
		h = sum_step(h, w[i]);
	return h;
}

/* A bad page: say what it holds (compared with what it should). */
static void report_bad(struct writer *wr, struct buf *b, long i)
{
	const uint64_t *w = (const uint64_t *)(b->p + i * PAGE);
	static __thread uint64_t want[WORDS];
	long diff = 0, first = -1, j, zero = 1;
	char msg[NOTE_LEN];
	int node = spm_node_of(b->p + i * PAGE);

	fill_page(want, b, i, b->gen[i]);
	for (j = 0; j < (long)WORDS; j++) {
		if (w[j])
			zero = 0;
		if (w[j] != want[j]) {
			diff++;
			if (first < 0)
				first = j;
		}
	}
	snprintf(msg, sizeof(msg),
		 "writer %d buffer %d (%s%s) page %ld gen %u on node %d: %ld words differ, first word %ld is %#llx, not %#llx%s (header gen %llu)",
		 wr->id, b->id, kind_names[b->kind], b->thp ? ",thp" : "", i,
		 b->gen[i], node, diff, first,
		 first >= 0 ? (unsigned long long)w[first] : 0ULL,
		 first >= 0 ? (unsigned long long)want[first] : 0ULL,
		 zero ? ", page reads zero" : "", (unsigned long long)w[2]);
	say("# BAD PAGE: %s\n", msg);
	if (!sh->first_bad[0])
		snprintf(sh->first_bad, sizeof(sh->first_bad), "%s", msg);
}

/* Verify pages [from, from + n) of b; rewrite each bad one. */
static long verify_range(struct writer *wr, struct buf *b, long from, long n)
{
	struct wstats *st = &sh->w[wr->id];
	long i, bad = 0;

	for (i = from; i < from + n; i++) {
		uint64_t *w = (uint64_t *)(b->p + i * PAGE);

		if (page_sum(w) == b->sum[i])
			continue;
		bad++;
		report_bad(wr, b, i);
		b->sum[i] = fill_page(w, b, i, ++b->gen[i]);
	}
	st->pages_verified += n;
	return bad;
}

static void write_range(struct writer *wr, struct buf *b, long from, long n)
{
	long i;

	for (i = from; i < from + n; i++)
		b->sum[i] = fill_page((uint64_t *)(b->p + i * PAGE), b, i,
				      ++b->gen[i]);
	sh->w[wr->id].pages_written += n;
}

static unsigned long buf_nodemask(const struct buf *b)
{
	switch (b->kind) {
	case K_SPM2:
		return 1UL << SPM2;
	case K_MIXED:
		return (1UL << b->home) | (1UL << SPM2);
	case K_TIER:
		return 1UL << b->home;
	default:
		return 1UL << SPM3;
	}
}

/* mbind() the buffer per its kind; true when the policy is installed. */
static bool bind_buf(struct writer *wr, struct buf *b, unsigned int flags)
{
	struct wstats *st = &sh->w[wr->id];
	unsigned long mask = buf_nodemask(b);
	bool move = flags & MPOL_MF_MOVE;

	if (!spm_mbind(b->p, b->npages * PAGE, MPOL_BIND, &mask,
		       sizeof(mask) * 8, flags)) {
		move ? st->rebind_ok++ : st->bind_ok++;
		return true;
	}
	/*
	 * -EPERM: an SPM node of the mask does not permit user placement
	 * (or migration, for a move) now; -EIO, -EBUSY, -ENOMEM: pages that
	 * could not move; -EINVAL: node 3 has no memory left online.
	 */
	if (errno == EPERM || (move && (errno == EIO || errno == EBUSY ||
					 errno == ENOMEM || errno == EAGAIN))) {
		move ? st->rebind_refused++ : st->bind_refused++;
		return false;
	}
	note(&st->err, "mbind(%s, mask %#lx, flags %#x): %s",
	     kind_names[b->kind], mask, flags, strerror(errno));
	return false;
}

static void create_buf(struct writer *wr, struct buf *b)
{
	struct wstats *st = &sh->w[wr->id];
	size_t len = b->npages * PAGE;
	char *p = spm_mmap_aligned(len, SZ_2M);

	if (p == MAP_FAILED) {
		note(&st->err, "mmap %zu: %s", len, strerror(errno));
		msleep(100);
		return;
	}
	if (madvise(p, len, b->thp ? MADV_HUGEPAGE : MADV_NOHUGEPAGE))
		note(&st->err, "madvise(HUGEPAGE): %s", strerror(errno));
	b->p = p;
	bind_buf(wr, b, 0);
	write_range(wr, b, 0, b->npages);
	st->creates++;
	verbose("writer %d: buffer %d (%s%s) created", wr->id, b->id,
		kind_names[b->kind], b->thp ? ",thp" : "");
}

static void destroy_buf(struct writer *wr, struct buf *b)
{
	munmap(b->p, b->npages * PAGE);
	b->p = NULL;
	sh->w[wr->id].destroys++;
}

static void writer_op(struct writer *wr)
{
	struct wstats *st = &sh->w[wr->id];
	struct buf *b = &wr->bufs[rnd(&wr->rng) % opt.bufs];
	long r, from, n;

	st->ops++;
	if (!b->p) {
		pthread_rwlock_wrlock(&b->lock);
		create_buf(wr, b);
		pthread_rwlock_unlock(&b->lock);
		return;
	}
	r = rnd(&wr->rng) % 100;
	n = rnd_between(&wr->rng, 1, 256);
	if (n > b->npages)
		n = b->npages;
	from = rnd(&wr->rng) % (b->npages - n + 1);
	if (r < 93) {
		pthread_rwlock_rdlock(&b->lock);
		if (r < 45) {
			st->bad += verify_range(wr, b, 0, b->npages);
			st->verifies++;
		} else if (r < 75) {
			/* Through the fence: a promotion of each demoted page. */
			st->bad += verify_range(wr, b, from, n);
			write_range(wr, b, from, n);
		} else if (r < 85) {
			if (madvise(b->p + from * PAGE, n * PAGE, MADV_PAGEOUT))
				note(&st->err, "MADV_PAGEOUT: %s", strerror(errno));
			else
				st->pageouts++;
		} else {
			bind_buf(wr, b, MPOL_MF_MOVE);
		}
		pthread_rwlock_unlock(&b->lock);
		return;
	}
	/* Check everything, then give it all back. */
	pthread_rwlock_wrlock(&b->lock);
	st->bad += verify_range(wr, b, 0, b->npages);
	st->verifies++;
	destroy_buf(wr, b);
	pthread_rwlock_unlock(&b->lock);
}

static void *writer_fn(void *arg)
{
	struct writer *wr = arg;

	while (!sh->stop)
		writer_op(wr);
	return NULL;
}

/* ----------------------------------------------------------- migrator */

static void migrator_move(uint64_t *rng)
{
	static const int targets[] = { 0, 0, 1, 2, 2, 2, 3, 3 };
	struct mstats *st = &sh->m;
	struct writer *wr = &writers[rnd(rng) % opt.writers];
	struct buf *b = &wr->bufs[rnd(rng) % opt.bufs];
	int to = targets[rnd(rng) % ARRAY_SIZE(targets)];
	long n = rnd_between(rng, 32, 512), from, i;
	void **pages;
	int *nodes, *status;

	if (pthread_rwlock_tryrdlock(&b->lock))
		return;
	if (!b->p)
		goto unlock;
	if (n > b->npages)
		n = b->npages;
	from = rnd(rng) % (b->npages - n + 1);
	pages = calloc(n, sizeof(*pages));
	nodes = calloc(n, sizeof(*nodes));
	status = calloc(n, sizeof(*status));
	if (!pages || !nodes || !status)
		goto out;
	for (i = 0; i < n; i++) {
		pages[i] = b->p + (from + i) * PAGE;
		nodes[i] = to;
	}
	st->ops++;
	if (spm_move_pages(0, n, pages, nodes, status, MPOL_MF_MOVE) < 0) {
		/*
		 * -EPERM: the target is an SPM node that does not grant
		 * migration now (a source node that does not is -EPERM in
		 * the page's status); -ENODEV: no memory online there.
		 */
		if (errno == EPERM || errno == ENODEV)
			st->refused++;
		else
			note(&st->err, "move_pages(%ld pages to %d): %s", n, to,
			     strerror(errno));
		goto out;
	}
	st->pages += n;
	for (i = 0; i < n; i++) {
		int s = status[i];

		if (s == to) {
			st->moved++;
			st->to[to]++;
		} else if (s >= 0) {
			st->other++;	/* elsewhere: a THP part, a race */
		} else if (s == -EPERM) {
			st->eperm++;
		} else if (s == -EACCES) {
			st->eacces++;
		} else if (s == -ENOENT || s == -EFAULT) {
			st->enoent++;	/* not present: swapped out */
		} else if (s == -EBUSY || s == -EAGAIN) {
			st->ebusy++;
		} else if (s == -ENOMEM) {
			st->enomem++;
		} else {
			note(&st->err, "move_pages to node %d: page status %d (%s)",
			     to, s, strerror(-s));
		}
	}
out:
	free(pages);
	free(nodes);
	free(status);
unlock:
	pthread_rwlock_unlock(&b->lock);
}

/* The whole process: node 2 <-> SysRAM, or off node 3. */
static void migrator_migrate(uint64_t *rng)
{
	static const int moves[][2] = {
		{ 2, 0 }, { 0, 2 }, { 2, 1 }, { 1, 2 }, { 3, 0 }, { 3, 2 },
	};
	struct mstats *st = &sh->m;
	int k = rnd(rng) % ARRAY_SIZE(moves);
	unsigned long from = 1UL << moves[k][0], to = 1UL << moves[k][1];
	long ret;

	st->mp_calls++;
	ret = spm_migrate_pages(0, sizeof(from) * 8, &from, &to);
	if (ret >= 0)
		st->mp_ok++;
	else if (errno == EPERM)
		st->mp_refused++;	/* the target does not permit it */
	else if (errno != ENODEV && errno != EINVAL)
		note(&st->err, "migrate_pages(%d -> %d): %s", moves[k][0],
		     moves[k][1], strerror(errno));
	else
		st->mp_refused++;	/* the target has no memory now */
}

static void *migrator_fn(void *arg)
{
	uint64_t rng = opt.seed ^ 0x6d696772ULL;
	long i = 0;

	(void)arg;
	while (!sh->stop) {
		if (++i % 16 == 0)
			migrator_migrate(&rng);
		else
			migrator_move(&rng);
		msleep(rnd_between(&rng, 5, 50));
	}
	return NULL;
}

/* Move every page of the data to node 2 (what may move); how many moved. */
static long gather(void)
{
	const long chunk = 4096;
	void **pages = calloc(chunk, sizeof(*pages));
	int *nodes = calloc(chunk, sizeof(*nodes));
	int *status = calloc(chunk, sizeof(*status));
	long moved = 0, i, j, n;
	int w, k;

	if (!pages || !nodes || !status)
		goto out;
	for (i = 0; i < chunk; i++)
		nodes[i] = SPM2;
	for (w = 0; w < opt.writers; w++) {
		for (k = 0; k < opt.bufs; k++) {
			struct buf *b = &writers[w].bufs[k];

			for (i = 0; b->p && i < b->npages; i += n) {
				n = b->npages - i < chunk ? b->npages - i : chunk;
				for (j = 0; j < n; j++)
					pages[j] = b->p + (i + j) * PAGE;
				if (spm_move_pages(0, n, pages, nodes, status,
						   MPOL_MF_MOVE) < 0)
					continue;
				for (j = 0; j < n; j++)
					moved += status[j] == SPM2;
			}
		}
	}
out:
	free(pages);
	free(nodes);
	free(status);
	return moved;
}

/* Pages of every mapped buffer per node (move_pages() query). */
static long count_data_pages(long *on)
{
	long counts[SPM_MAXN + 1], total = 0;
	int w, k, n;

	memset(on, 0, (NNODES + 1) * sizeof(*on));
	for (w = 0; w < opt.writers; w++) {
		for (k = 0; k < opt.bufs; k++) {
			struct buf *b = &writers[w].bufs[k];

			if (!b->p)
				continue;
			if (spm_count_pages(b->p, b->npages * PAGE, counts) < 0)
				continue;
			for (n = 0; n < NNODES; n++)
				on[n] += counts[n];
			for (n = NNODES; n <= SPM_MAXN; n++)
				on[NNODES] += counts[n];
			total += b->npages;
		}
	}
	return total;
}

static int data_main(void)
{
	pthread_t mig;
	long bad = 0, pages = 0;
	int w, k;

	if (writef(SOAK_CG "/cgroup.procs", "%d", getpid())) {
		say("# data: cannot join " SOAK_CG "\n");
		return 2;
	}
	for (w = 0; w < opt.writers; w++) {
		struct writer *wr = &writers[w];

		wr->id = w;
		wr->rng = opt.seed ^ (0x7772ULL << 32) ^ w;
		for (k = 0; k < opt.bufs; k++) {
			struct buf *b = &wr->bufs[k];

			pthread_rwlock_init(&b->lock, NULL);
			b->id = w * MAX_BUFS + k;
			b->kind = kind_cycle[k % ARRAY_SIZE(kind_cycle)];
			b->home = (w + k) % 2;
			b->thp = (k / 2 + w) % 2;
			b->npages = opt.buf_mb * (1 << 20) / PAGE;
			b->gen = calloc(b->npages, sizeof(*b->gen));
			b->sum = calloc(b->npages, sizeof(*b->sum));
			if (!b->gen || !b->sum)
				return 2;
		}
	}
	for (w = 0; w < opt.writers; w++)
		pthread_create(&writers[w].thread, NULL, writer_fn, &writers[w]);
	pthread_create(&mig, NULL, migrator_fn, NULL);
	for (w = 0; w < opt.writers; w++)
		pthread_join(writers[w].thread, NULL);
	pthread_join(mig, NULL);

	/* Every page once more, wherever it is now. */
	for (w = 0; w < opt.writers; w++) {
		for (k = 0; k < opt.bufs; k++) {
			struct buf *b = &writers[w].bufs[k];

			if (!b->p)
				continue;
			bad += verify_range(&writers[w], b, 0, b->npages);
			pages += b->npages;
		}
	}
	sh->final_pages = pages;
	sh->final_bad = bad;
	count_data_pages(sh->final_on);
	__atomic_store_n(&sh->phase, PH_VERIFIED, __ATOMIC_SEQ_CST);

	/* The parent skips the gathering when it has no owner for node 2. */
	while (__atomic_load_n(&sh->phase, __ATOMIC_SEQ_CST) < PH_GATHER)
		msleep(50);
	if (__atomic_load_n(&sh->phase, __ATOMIC_SEQ_CST) == PH_GATHER) {
		sh->gathered = gather();
		__atomic_store_n(&sh->phase, PH_GATHERED, __ATOMIC_SEQ_CST);
	}
	while (__atomic_load_n(&sh->phase, __ATOMIC_SEQ_CST) != PH_FREE)
		msleep(50);
	count_data_pages(sh->freed_on);
	for (w = 0; w < opt.writers; w++)
		for (k = 0; k < opt.bufs; k++)
			if (writers[w].bufs[k].p)
				destroy_buf(&writers[w], &writers[w].bufs[k]);
	__atomic_store_n(&sh->phase, PH_FREED, __ATOMIC_SEQ_CST);
	return 0;
}

/* ----------------------------------------------------------- reclaimer */

static void swap_cycle(struct rstats *st)
{
	if (swapoff(SWAPDEV)) {
		note(&st->err, "swapoff " SWAPDEV ": %s", strerror(errno));
		return;
	}
	if (swapon(SWAPDEV, 0)) {
		note(&st->err, "swapon " SWAPDEV ": %s", strerror(errno));
		return;
	}
	st->swap_cycles++;
	verbose("reclaimer: swap off and on again");
}

static int reclaimer_main(void)
{
	struct rstats *st = &sh->r;
	uint64_t rng = opt.seed ^ 0x7265636cULL;
	double last_swap = now();
	char val[32];
	int ret, r, i;

	while (!sh->stop) {
		st->ops++;
		r = rnd(&rng) % 10;
		if (r < 5) {
			snprintf(val, sizeof(val), "%ldM", rnd_between(&rng, 4, 32));
			ret = spm_write_file(SOAK_CG "/memory.reclaim", val);
			if (!ret)
				st->memcg_ok++;
			else if (ret == -EAGAIN)
				st->memcg_again++;
			else
				note(&st->err, "memory.reclaim %s: %s", val,
				     strerror(-ret));
		} else if (r < 9) {
			i = r < 7 ? 0 : 1;
			snprintf(val, sizeof(val), "%ld", rnd_between(&rng, 64, 4096));
			ret = node_file_write(i ? SPM3 : SPM2, "spm/reclaim", val);
			if (!ret)
				st->node_ok[i]++;
			else if (ret == -EAGAIN)
				st->node_again[i]++;
			else if (ret == -EPERM)
				st->node_eperm[i]++;	/* owner without reclaim */
			else
				note(&st->err, "node%d/spm/reclaim %s: %s",
				     i ? SPM3 : SPM2, val, strerror(-ret));
		} else if (now() - last_swap > SWAP_CYCLE_S) {
			swap_cycle(st);
			last_swap = now();
		}
		msleep(rnd_between(&rng, 100, 600));
	}
	return 0;
}

/* ----------------------------------------------------------- compactor */

static int compactor_main(void)
{
	struct cstats *st = &sh->c;
	uint64_t rng = opt.seed ^ 0x636f6d70ULL;
	int ret, r, i;

	while (!sh->stop) {
		st->ops++;
		r = rnd(&rng) % 8;
		if (r < 3) {
			ret = spm_write_file("/proc/sys/vm/compact_memory", "1");
			if (!ret)
				st->all_ok++;
			else
				note(&st->err, "compact_memory: %s", strerror(-ret));
		} else if (r < 7) {
			i = r < 5 ? 0 : 1;
			ret = node_file_write(i ? SPM3 : SPM2, "compact", "1");
			if (!ret)
				st->node_ok[i]++;
			else if (ret == -EPERM)
				st->node_eperm[i]++;	/* owner without compaction */
			else
				note(&st->err, "node%d/compact: %s",
				     i ? SPM3 : SPM2, strerror(-ret));
		} else {
			ret = spm_write_file("/proc/sys/vm/drop_caches", "1");
			if (!ret)
				st->drops++;
			else
				note(&st->err, "drop_caches: %s", strerror(-ret));
		}
		msleep(rnd_between(&rng, 300, 2000));
	}
	return 0;
}

/* ------------------------------------------------------------- hotplug */

/* The memory blocks of node nid (from nodeN/memoryM links); how many. */
static int node_blocks(int nid, long *blocks)
{
	char path[128];
	struct dirent *de;
	int n = 0;
	DIR *d;

	snprintf(path, sizeof(path), SPM_NODE_SYSFS "/node%d", nid);
	d = opendir(path);
	if (!d)
		return 0;
	while ((de = readdir(d)) && n < MAX_BLOCKS) {
		char *end;
		long b;

		if (strncmp(de->d_name, "memory", 6))
			continue;
		b = strtol(de->d_name + 6, &end, 10);
		if (end != de->d_name + 6 && !*end)
			blocks[n++] = b;
	}
	closedir(d);
	return n;
}

static int block_read(long b, const char *file, char *buf, size_t size)
{
	char path[128];

	snprintf(path, sizeof(path), MEMSYS "/memory%ld/%s", b, file);
	return spm_read_file(path, buf, size);
}

static int block_write(long b, const char *val)
{
	char path[128];

	snprintf(path, sizeof(path), MEMSYS "/memory%ld/state", b);
	return spm_write_file(path, val);
}

static bool block_online(long b)
{
	char buf[32];

	return block_read(b, "state", buf, sizeof(buf)) > 0 &&
	       !strcmp(buf, "online");
}

static void alarm_handler(int sig)
{
	(void)sig;
}

/* Online block b again ("online_movable" for a Movable block). */
static int online_block(long b, const char *zone)
{
	const char *how = !strcmp(zone, "Movable") ? "online_movable" :
			  !strcmp(zone, "Normal") ? "online_kernel" : "online";
	int ret = 0, i;

	for (i = 0; i < 20; i++) {
		ret = block_write(b, how);
		if (!ret || block_online(b))
			return 0;
		msleep(250);
	}
	return ret;
}

/* Offline one block of nid, then online it again. */
static void hotplug_one(uint64_t *rng, int nid)
{
	struct sigaction sa = { .sa_handler = alarm_handler };
	struct hstats *st = &sh->h;
	int i = nid == SPM3 ? 0 : 1, n, k, online = 0, ncand = 0, ret;
	long blocks[MAX_BLOCKS], cand[MAX_BLOCKS], b;
	char zone[64];

	/* Online blocks in one zone; never the node's last online block. */
	n = node_blocks(nid, blocks);
	for (k = 0; k < n; k++) {
		if (!block_online(blocks[k]))
			continue;
		online++;
		if (block_read(blocks[k], "valid_zones", zone, sizeof(zone)) <= 0 ||
		    strchr(zone, ' ') || !strcmp(zone, "none"))
			continue;
		cand[ncand++] = blocks[k];
	}
	if (online < 2 || !ncand) {
		st->none[i]++;
		return;
	}
	b = cand[rnd(rng) % ncand];
	if (block_read(b, "valid_zones", zone, sizeof(zone)) <= 0)
		return;
	st->ops++;

	sigemptyset(&sa.sa_mask);
	sigaction(SIGALRM, &sa, NULL);		/* no SA_RESTART */
	alarm(30 * opt.scale);
	ret = block_write(b, "offline");
	alarm(0);
	if (ret == -EBUSY || ret == -EAGAIN || ret == -ENOMEM) {
		st->off_busy[i]++;
		return;
	}
	if (ret == -EINTR) {
		st->off_timeout[i]++;
		verbose("hotplug: memory%ld (node %d) offline cut short", b, nid);
		if (block_online(b))
			return;
	} else if (ret) {
		note(&st->err, "memory%ld (node %d) offline: %s", b, nid,
		     strerror(-ret));
		if (block_online(b))
			return;
	} else {
		st->off_ok[i]++;
	}
	verbose("hotplug: memory%ld (node %d, %s) offline", b, nid, zone);
	msleep(rnd_between(rng, 200, 1500));
	ret = online_block(b, zone);
	if (ret) {
		note(&st->err, "memory%ld (node %d) online (%s): %s", b, nid,
		     zone, strerror(-ret));
		st->left_offline++;
	} else {
		st->on_ok[i]++;
	}
}

static int hotplug_main(void)
{
	uint64_t rng = opt.seed ^ 0x686f74ULL;
	long k = 0;

	while (!sh->stop) {
		/* Node 3 twice as often as node 2. */
		hotplug_one(&rng, k++ % 3 == 2 ? SPM2 : SPM3);
		msleep(rnd_between(&rng, 500, 3000));
	}
	return 0;
}

/* ------------------------------------------------------------- control */

static const char *const sto_profiles[] = {
	"user,reclaim,compaction,migration",
	"user,reclaim,compaction,migration,write_fence",
	"reclaim,migration",
};

static struct {
	bool sto;		/* spm_test_owner has node 2 */
	bool fence_ever;	/* the fence was on in this lifetime */
	bool cram;		/* spm_cram has node 3 */
	int user2_start, user3_start;
} ctl;

static bool sto_has_cap(const char *cap)
{
	char buf[128], *p, *save = NULL;

	if (spm_read_file(OWNER_DBG "/caps", buf, sizeof(buf)) < 0)
		return false;
	for (p = strtok_r(buf, " ", &save); p; p = strtok_r(NULL, " ", &save))
		if (!strcmp(p, cap))
			return true;
	return false;
}

static void inconsistent(struct ostats *st, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static void inconsistent(struct ostats *st, const char *fmt, ...)
{
	va_list ap;

	if (st->inconsistent++)
		return;
	va_start(ap, fmt);
	vsnprintf(st->why, sizeof(st->why), fmt, ap);
	va_end(ap);
}

/* Read the statistics of this lifetime of spm_test_owner, then unload. */
static int sto_unload(struct ostats *st)
{
	long long freed = owner_get("pages_freed");
	long long arrived = owner_get("folio_arrived");
	long long may = owner_get("may_demote");
	long long wf = owner_get("write_fault");
	long long pressure = owner_get("pressure");
	int ret = owner_unload();

	if (ret) {
		st->sto_unload_busy++;
		if (ret != -EAGAIN && ret != -EBUSY && ret != -EWOULDBLOCK)
			note(&st->err, "rmmod " OWNER ": %s", strerror(-ret));
		return ret;
	}
	st->sto_unloads++;
	ctl.sto = false;
	st->sto_pages_freed += freed;
	st->sto_folio_arrived += arrived;
	st->sto_may_demote += may;
	st->sto_write_fault += wf;
	st->sto_pressure += pressure;
	st->sto_fenced_lives += ctl.fence_ever;
	/* write_fault is asked only on a fenced node; no profile demotes. */
	if (wf > 0 && !ctl.fence_ever)
		inconsistent(st, OWNER ": %lld write_fault calls in a lifetime without the write fence",
			     wf);
	if (may > 0)
		inconsistent(st, OWNER ": %lld may_demote calls without the demotion capability",
			     may);
	if (freed < 0 || arrived < 0 || wf < 0)
		inconsistent(st, OWNER ": debugfs counters unreadable");
	verbose("control: " OWNER " unloaded (pages_freed %lld folio_arrived %lld write_fault %lld)",
		freed, arrived, wf);
	return 0;
}

static int sto_load(struct ostats *st, const char *caps)
{
	char params[128];
	int ret;

	snprintf(params, sizeof(params), "nid=%d caps=%s", SPM2, caps);
	ret = owner_load(params);
	if (ret == -EBUSY) {
		/* write_fence: page cache that could not move off node 2 */
		st->sto_load_busy++;
		return ret;
	}
	if (ret) {
		note(&st->err, "insmod " OWNER " %s: %s", params, strerror(-ret));
		return ret;
	}
	st->sto_loads++;
	ctl.sto = true;
	ctl.fence_ever = strstr(caps, "write_fence") != NULL;
	verbose("control: " OWNER " loaded, caps %s", caps);
	return 0;
}

static int cram_unload(struct ostats *st)
{
	long long dem = cram_get("demotions"), pro = cram_get("promotions");
	long long fw = cram_get("fenced_writes"), thr = cram_get("throttled");
	long long rec = cram_get("reclaimed_pages");
	long long log = cram_get("logical_bytes");
	long long phys = cram_get("physical_bytes");
	int ret = module_unload(CRAM);

	if (ret) {
		st->cram_unload_busy++;
		if (ret != -EAGAIN && ret != -EBUSY && ret != -EWOULDBLOCK)
			note(&st->err, "rmmod " CRAM ": %s", strerror(-ret));
		return ret;
	}
	st->cram_unloads++;
	ctl.cram = false;
	st->cram_demotions += dem;
	st->cram_promotions += pro;
	st->cram_fenced_writes += fw;
	st->cram_throttled += thr;
	st->cram_reclaimed += rec;
	st->cram_left_bytes += log;
	/*
	 * Every promotion was marked by a fenced write first; a tracked
	 * page is at most PAGE_SIZE compressed.
	 */
	if (pro > fw)
		inconsistent(st, CRAM ": %lld promotions but %lld fenced writes",
			     pro, fw);
	if (phys > log || log % PAGE || log < 0 || phys < 0)
		inconsistent(st, CRAM ": physical_bytes %lld, logical_bytes %lld",
			     phys, log);
	verbose("control: " CRAM " unloaded (demotions %lld promotions %lld, %lld bytes left)",
		dem, pro, log);
	return 0;
}

static int cram_load(struct ostats *st, const char *params)
{
	int ret = spm_module_load(CRAM, params);

	if (ret) {
		note(&st->err, "insmod " CRAM " %s: %s", params, strerror(-ret));
		return ret;
	}
	st->cram_loads++;
	ctl.cram = true;
	verbose("control: " CRAM " loaded (%s)", params);
	return 0;
}

/* allow_user of an unowned node, or the user capability of spm_test_owner. */
static void flip_user(struct ostats *st, int nid)
{
	int ret;

	if (nid == SPM2 && ctl.sto) {
		ret = owner_put("caps", sto_has_cap("user") ? "-user" : "+user");
	} else {
		int on = allow_user_get(nid);

		ret = on < 0 ? -EIO : allow_user_set(nid, !on);
	}
	if (ret) {
		note(&st->err, "node %d: user placement flip: %s", nid,
		     strerror(-ret));
		return;
	}
	nid == SPM2 ? st->user_flips++ : st->user3_flips++;
}

static void flip_fence(struct ostats *st)
{
	bool on = sto_has_cap("write_fence");
	int ret = owner_put("caps", on ? "-write_fence" : "+write_fence");

	if (!ret) {
		on ? st->fence_off++ : st->fence_on++;
		if (!on)
			ctl.fence_ever = true;
		return;
	}
	if (ret == -EBUSY && !on) {
		/* page cache that could not move off node 2 */
		st->fence_busy++;
		ctl.fence_ever = true;	/* it was on for a while */
		return;
	}
	note(&st->err, "node 2 write fence %s: %s", on ? "off" : "on",
	     strerror(-ret));
}

static void control_op(uint64_t *rng)
{
	struct ostats *st = &sh->o;
	int r = rnd(rng) % 100;
	char params[96];

	st->ops++;
	if (r < 35) {
		flip_user(st, SPM2);
	} else if (r < 45) {
		if (ctl.cram)
			flip_user(st, SPM2);
		else
			flip_user(st, SPM3);
	} else if (r < 60) {
		if (ctl.sto)
			flip_fence(st);
		else
			flip_user(st, SPM2);
	} else if (r < 80) {
		if (ctl.sto)
			sto_unload(st);
		else
			sto_load(st, sto_profiles[rnd(rng) % ARRAY_SIZE(sto_profiles)]);
	} else {
		if (ctl.cram) {
			cram_unload(st);
		} else {
			/* 4 MiB: throttled demotion and the reclaim work. */
			static const int budgets[] = { 4, 16, 32, 128 };

			snprintf(params, sizeof(params),
				 "budget_mb=%d fence=%d allow_move=%d",
				 budgets[rnd(rng) % ARRAY_SIZE(budgets)],
				 rnd(rng) % 5 != 0, (int)(rnd(rng) % 2));
			cram_load(st, params);
		}
	}
}

/* The state the soak started from: node 2 unowned, spm_cram on node 3. */
static void control_restore(struct ostats *st)
{
	int i;

	for (i = 0; ctl.sto && i < 100; i++)
		if (sto_unload(st))
			msleep(100);
	if (!ctl.cram) {
		allow_user_set(SPM3, ctl.user3_start);
		cram_load(st, "");
	}
	allow_user_set(SPM2, ctl.user2_start);
}

static int control_main(void)
{
	uint64_t rng = opt.seed ^ 0x63746cULL;

	while (!sh->stop) {
		control_op(&rng);
		msleep(rnd_between(&rng, 300, 1500));
	}
	control_restore(&sh->o);
	return 0;
}

/* ------------------------------------------------------------------ TAP */

static int tap_n, tap_failed;

static void __attribute__((format(printf, 2, 3)))
tap(bool ok, const char *fmt, ...)
{
	char buf[768];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	say("%s %d - %s\n", ok ? "ok" : "not ok", ++tap_n, buf);
	if (!ok)
		tap_failed++;
}

/* ----------------------------------------------------- kernel log scan */

static const char *const problems[] = {
	"BUG:", "WARNING:", "Oops", "general protection fault",
	"Kernel panic", "kernel BUG at", "KASAN", "KFENCE", "UBSAN",
	"possible circular locking", "possible recursive locking",
	"inconsistent lock state", "INFO: ", "Unable to handle",
	"list_add corruption", "list_del corruption", "detected stalls",
	"blocked for more than", "stack-protector",
};

static struct {
	int fd;
	long lines, problems, lost;
	char first[NOTE_LEN];
} klog = { .fd = -1 };

static void klog_open(void)
{
	klog.fd = open("/dev/kmsg", O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	if (klog.fd >= 0)
		lseek(klog.fd, 0, SEEK_END);
}

/* Read the kernel records written since the last call. */
static void klog_drain(void)
{
	char rec[2048];
	ssize_t n;
	size_t i;

	if (klog.fd < 0)
		return;
	for (;;) {
		char *msg;

		n = read(klog.fd, rec, sizeof(rec) - 1);
		if (n < 0 && errno == EPIPE) {
			klog.lost++;		/* overwritten before we read it */
			continue;
		}
		if (n <= 0)
			break;
		rec[n] = '\0';
		msg = strchr(rec, ';');
		msg = msg ? msg + 1 : rec;
		msg[strcspn(msg, "\n")] = '\0';
		klog.lines++;
		for (i = 0; i < ARRAY_SIZE(problems); i++) {
			if (!strstr(msg, problems[i]))
				continue;
			if (!klog.problems++)
				snprintf(klog.first, sizeof(klog.first), "%.200s", msg);
			if (klog.problems <= 20)
				say("# KERNEL: %s\n", msg);
			break;
		}
	}
}

static unsigned long taint(void)
{
	return (unsigned long)spm_read_ll("/proc/sys/kernel/tainted");
}

/* -------------------------------------------------------------- parent */

struct child {
	const char *name;
	int (*fn)(void);
	pid_t pid;
	int status;
	bool done;
};

static struct child children[] = {
	{ .name = "data", .fn = data_main },
	{ .name = "reclaimer", .fn = reclaimer_main },
	{ .name = "compactor", .fn = compactor_main },
	{ .name = "hotplug", .fn = hotplug_main },
	{ .name = "control", .fn = control_main },
};

static pid_t spawn(struct child *c)
{
	pid_t pid = fork();

	if (pid == 0) {
		signal(SIGTERM, SIG_DFL);
		_exit(c->fn());
	}
	c->pid = pid;
	return pid;
}

/* Reap children that exited; true when all of them have. */
static bool reap(bool wait_all, double deadline)
{
	bool all;
	size_t i;

	do {
		all = true;
		for (i = 0; i < ARRAY_SIZE(children); i++) {
			struct child *c = &children[i];

			if (c->done)
				continue;
			if (waitpid(c->pid, &c->status, WNOHANG) == c->pid)
				c->done = true;
			else
				all = false;
		}
		if (all || !wait_all)
			return all;
		klog_drain();
		msleep(100);
	} while (now() < deadline);
	return all;
}

static struct child *child(const char *name)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(children); i++)
		if (!strcmp(children[i].name, name))
			return &children[i];
	return NULL;
}

static long sum_w(size_t off)
{
	long s = 0;
	int w;

	for (w = 0; w < opt.writers; w++)
		s += *(long *)((char *)&sh->w[w] + off);
	return s;
}

#define SUM_W(field) sum_w(offsetof(struct wstats, field))

static void progress(void)
{
	say("# [%5.0fs] writers: %ld ops, %ld pages written, %ld verified, %ld bad; migrator: %ld moves, %ld pages moved; reclaim %ld, compact %ld, offline %ld+%ld, control %ld (spm_cram %ld/%ld, " OWNER " %ld/%ld loads/unloads)\n",
	    elapsed(), SUM_W(ops), SUM_W(pages_written), SUM_W(pages_verified),
	    SUM_W(bad), sh->m.ops, sh->m.moved, sh->r.ops, sh->c.ops,
	    sh->h.off_ok[0], sh->h.off_ok[1], sh->o.ops, sh->o.cram_loads,
	    sh->o.cram_unloads, sh->o.sto_loads, sh->o.sto_unloads);
}

/* Online every offline block of nid; how many could not be. */
static int online_all(int nid, int *fixed)
{
	long blocks[MAX_BLOCKS];
	int n = node_blocks(nid, blocks), k, left = 0;

	for (k = 0; k < n; k++) {
		if (block_online(blocks[k]))
			continue;
		if (online_block(blocks[k], nid == SPM3 ? "Movable" : "Normal")) {
			say("# memory%ld of node %d cannot be onlined\n",
			    blocks[k], nid);
			left++;
		} else {
			(*fixed)++;
		}
	}
	return left;
}

struct state {
	struct spm_snap snap;
	long long swap_used;	/* SwapTotal - SwapFree - SwapCached, kB */
};

static void take_state(struct state *s)
{
	spm_snap(&s->snap);
	s->swap_used = spm_meminfo("SwapTotal") - spm_meminfo("SwapFree") -
		       spm_meminfo("SwapCached");
}

static const int check_keys[] = { K_USED, K_ANON, K_FILE, K_SHMEM };

/* Is every counter of the SPM nodes back within the tolerance of a? */
static bool state_back(const struct state *a, const struct state *b,
		       char *why, size_t size)
{
	long long tol = opt.tol_pages * (PAGE / 1024);
	int nid;
	size_t k;

	why[0] = '\0';
	for (nid = SPM2; nid <= SPM3; nid++) {
		if (b->snap.v[nid][K_MEMFREE] + b->snap.v[nid][K_MEMUSED] !=
		    a->snap.v[nid][K_MEMFREE] + a->snap.v[nid][K_MEMUSED]) {
			snprintf(why, size, "node %d MemTotal %lld kB, was %lld kB",
				 nid, b->snap.v[nid][K_MEMFREE] + b->snap.v[nid][K_MEMUSED],
				 a->snap.v[nid][K_MEMFREE] + a->snap.v[nid][K_MEMUSED]);
			return false;
		}
		for (k = 0; k < ARRAY_SIZE(check_keys); k++) {
			int key = check_keys[k];
			long long d = b->snap.v[nid][key] - a->snap.v[nid][key];

			if (d > tol) {
				snprintf(why, size, "node %d %s %+lld kB (tolerance %lld kB)",
					 nid, spm_key_names[key], d, tol);
				return false;
			}
		}
	}
	return true;
}

/*
 * Who holds swap, as comment lines: "Swap:" of every process's
 * smaps_rollup, which counts swapped shared memory it maps too (the
 * initramfs is tmpfs: text of spm-soak that only the data process used
 * may have gone to node 2 with migrate_pages() and out to swap from
 * there).
 */
static void swap_holders(void)
{
	char path[300], line[256], name[64];
	struct dirent *de;
	long long kb;
	DIR *d = opendir("/proc");

	if (!d)
		return;
	while ((de = readdir(d))) {
		FILE *f;

		if (de->d_name[0] < '1' || de->d_name[0] > '9')
			continue;
		snprintf(path, sizeof(path), "/proc/%s/comm", de->d_name);
		if (spm_read_file(path, name, sizeof(name)) < 0)
			continue;
		snprintf(path, sizeof(path), "/proc/%s/smaps_rollup", de->d_name);
		f = fopen(path, "r");
		if (!f)
			continue;
		while (fgets(line, sizeof(line), f))
			if (sscanf(line, "Swap: %lld", &kb) == 1 && kb > 0)
				say("#   pid %s (%s) maps %lld kB that is in swap\n",
				    de->d_name, name, kb);
		fclose(f);
	}
	closedir(d);
	say("#   SwapCached %lld kB\n", spm_meminfo("SwapCached"));
}

/* The mappings of every process with pages on node nid (numa_maps). */
static void node_holders(int nid)
{
	char path[300], line[1024], name[64], key[16];
	struct dirent *de;
	int shown = 0;
	DIR *d = opendir("/proc");

	if (!d)
		return;
	snprintf(key, sizeof(key), " N%d=", nid);
	while ((de = readdir(d)) && shown < 20) {
		FILE *f;

		if (de->d_name[0] < '1' || de->d_name[0] > '9')
			continue;
		snprintf(path, sizeof(path), "/proc/%s/comm", de->d_name);
		if (spm_read_file(path, name, sizeof(name)) < 0)
			continue;
		snprintf(path, sizeof(path), "/proc/%s/numa_maps", de->d_name);
		f = fopen(path, "r");
		if (!f)
			continue;
		while (fgets(line, sizeof(line), f) && shown < 20) {
			if (!strstr(line, key))
				continue;
			line[strcspn(line, "\n")] = '\0';
			say("#   node %d: pid %s (%s): %.300s\n", nid, de->d_name,
			    name, line);
			shown++;
		}
		fclose(f);
	}
	closedir(d);
}

static void state_log(const char *what, const struct state *a,
		      const struct state *b)
{
	int nid;

	for (nid = SPM2; nid <= SPM3; nid++)
		say("# %s node %d: Used-pcp %+lld kB (%lld -> %lld), AnonPages %+lld, FilePages %+lld, Shmem %+lld, pcp %lld kB\n",
		    what, nid,
		    b->snap.v[nid][K_USED] - a->snap.v[nid][K_USED],
		    a->snap.v[nid][K_USED], b->snap.v[nid][K_USED],
		    b->snap.v[nid][K_ANON] - a->snap.v[nid][K_ANON],
		    b->snap.v[nid][K_FILE] - a->snap.v[nid][K_FILE],
		    b->snap.v[nid][K_SHMEM] - a->snap.v[nid][K_SHMEM],
		    b->snap.v[nid][K_PCP]);
	say("# %s swap in use (without swap cache) %+lld kB\n", what,
	    b->swap_used - a->swap_used);
	if (b->swap_used != a->swap_used)
		swap_holders();
	for (nid = SPM2; nid <= SPM3; nid++)
		if (b->snap.v[nid][K_USED] != a->snap.v[nid][K_USED])
			node_holders(nid);
}

/*
 * Wait (up to limit seconds) until the SPM nodes' counters are back
 * within the tolerance of start; s gets the last state.
 */
static bool settle(const struct state *start, struct state *s, double limit,
		   char *why, size_t size)
{
	double end = now() + limit;

	for (;;) {
		take_state(s);
		if (state_back(start, s, why, size))
			return true;
		if (now() > end)
			return false;
		klog_drain();
		msleep(1000);
	}
}

/* Used-pcp of node 2 stops moving (a freeing process has finished). */
static void settle_node(int nid, struct spm_snap *s, double limit)
{
	double end = now() + limit;
	long long last = -1;

	for (;;) {
		spm_snap(s);
		if (s->v[nid][K_USED] == last || now() > end)
			return;
		last = s->v[nid][K_USED];
		msleep(1000);
	}
}

static bool setup_ok(char *why, size_t size)
{
	long long spm = spm_sysfs_nodemask("has_spm_memory");

	if (spm < 0 || !(spm & (1LL << SPM2)) || !(spm & (1LL << SPM3))) {
		snprintf(why, size, "has_spm_memory %#llx: nodes 2 and 3 must be SPM nodes with memory",
			 spm);
		return false;
	}
	if (!node_owned_by(SPM3, CRAM)) {
		snprintf(why, size, "node 3 is not owned by " CRAM);
		return false;
	}
	if (!node_owned_by(SPM2, "none")) {
		snprintf(why, size, "node 2 has an owner");
		return false;
	}
	if (spm_meminfo("SwapTotal") <= 0) {
		snprintf(why, size, "no swap");
		return false;
	}
	if (module_loaded(OWNER)) {
		snprintf(why, size, OWNER " is loaded");
		return false;
	}
	rmdir(SOAK_CG);
	if (mkdir(SOAK_CG, 0755)) {
		snprintf(why, size, "mkdir " SOAK_CG ": %s", strerror(errno));
		return false;
	}
	return true;
}

static const char *errnote_str(const struct errnote *e)
{
	return e->n ? e->first : "none";
}

static void usage(void)
{
	fprintf(stderr,
		"usage: spm-soak [-t SECONDS] [-s SEED] [-w WRITERS] [-b BUFFERS] [-m MIB]\n"
		"                [-T PAGES] [-x SCALE] [-v]\n");
	exit(2);
}

int main(int argc, char **argv)
{
	struct state s0, s1, s2, s3;
	long long sto_freed_a, sto_freed_b, cram_log;
	long long arrived_a = 0, collapse_a = 0;
	static const char *const thp_events[] = {
		"thp_fault_alloc", "thp_collapse_alloc", "thp_split_page",
		"thp_migration_success", "pgdemote_direct", "pgdemote_kswapd",
		"pgpromote_success", "pgmigrate_success", "pswpout", "pswpin",
	};
	long long ev0[ARRAY_SIZE(thp_events)];
	unsigned long taint0, taint1;
	double deadline, next_progress, end;
	char why[NOTE_LEN];
	int c, w, left, fixed = 0;
	bool ok, settled;
	size_t i;

	while ((c = getopt(argc, argv, "t:s:w:b:m:T:x:v")) != -1) {
		switch (c) {
		case 't':
			opt.seconds = atol(optarg);
			break;
		case 's':
			opt.seed = strtoull(optarg, NULL, 0);
			break;
		case 'w':
			opt.writers = atoi(optarg);
			break;
		case 'b':
			opt.bufs = atoi(optarg);
			break;
		case 'm':
			opt.buf_mb = atol(optarg);
			break;
		case 'T':
			opt.tol_pages = atol(optarg);
			break;
		case 'x':
			opt.scale = atoi(optarg);
			break;
		case 'v':
			opt.verbose = 1;
			break;
		default:
			usage();
		}
	}
	if (opt.seconds < 1 || opt.writers < 1 || opt.writers > MAX_WRITERS ||
	    opt.bufs < 1 || opt.bufs > MAX_BUFS || opt.buf_mb < 2 ||
	    opt.scale < 1 || opt.tol_pages < 0)
		usage();
	setvbuf(stdout, NULL, _IONBF, 0);

	sh = mmap(NULL, sizeof(*sh), PROT_READ | PROT_WRITE,
		  MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (sh == MAP_FAILED)
		return 2;
	memset(sh, 0, sizeof(*sh));
	sh->t0 = now();

	say("TAP version 13\n");
	say("# spm-soak: %ld s, seed %llu, %d writers x %d buffers x %ld MiB, tolerance %ld pages, time scale %d\n",
	    opt.seconds, (unsigned long long)opt.seed, opt.writers, opt.bufs,
	    opt.buf_mb, opt.tol_pages, opt.scale);
	ok = setup_ok(why, sizeof(why));
	tap(ok, "setup: nodes 2 and 3 SPM, node 3 owned by " CRAM ", node 2 unowned, swap on%s%s",
	    ok ? "" : ": ", ok ? "" : why);
	if (!ok) {
		say("1..%d\n", tap_n);
		return 1;
	}
	ctl.cram = true;
	ctl.user2_start = allow_user_get(SPM2);
	ctl.user3_start = allow_user_get(SPM3);
	klog_open();
	for (i = 0; i < ARRAY_SIZE(thp_events); i++)
		ev0[i] = spm_vmstat(thp_events[i]);
	taint0 = taint();
	take_state(&s0);
	state_log("start", &s0, &s0);

	for (i = 0; i < ARRAY_SIZE(children); i++)
		spawn(&children[i]);

	deadline = now() + opt.seconds;
	next_progress = now() + PROGRESS_S;
	while (now() < deadline) {
		msleep(1000);
		klog_drain();
		if (now() >= next_progress) {
			progress();
			next_progress += PROGRESS_S;
		}
		if (reap(false, 0)) {
			say("# every worker exited before the deadline\n");
			break;
		}
	}
	progress();
	sh->stop = 1;

	/* The helpers first: they restore the owners and the blocks. */
	end = now() + 300.0 * opt.scale;
	while (now() < end) {
		bool helpers = true;

		reap(false, 0);
		for (i = 1; i < ARRAY_SIZE(children); i++)
			helpers &= children[i].done;
		if (helpers)
			break;
		klog_drain();
		msleep(200);
	}

	say("# vmstat during the soak:");
	for (i = 0; i < ARRAY_SIZE(thp_events); i++)
		say(" %s %lld", thp_events[i], spm_vmstat(thp_events[i]) - ev0[i]);
	say("\n");

	/* Worker results: operations each did. */
	for (w = 0; w < opt.writers; w++) {
		struct wstats *st = &sh->w[w];

		tap(st->ops > 0 && st->creates > 0 && st->pages_verified > 0,
		    "writer %d: %ld ops: %ld buffers made, %ld unmapped, %ld full verifies, %ld pages verified, %ld pages written, bindings %ld ok/%ld refused, rebinds %ld ok/%ld refused, %ld pageouts",
		    w, st->ops, st->creates, st->destroys, st->verifies,
		    st->pages_verified, st->pages_written, st->bind_ok,
		    st->bind_refused, st->rebind_ok, st->rebind_refused,
		    st->pageouts);
	}
	tap(sh->m.ops > 0 && sh->m.moved > 0,
	    "migrator: %ld move_pages calls (%ld refused by the target), %ld pages: %ld moved (to node 0/1/2/3: %ld/%ld/%ld/%ld), %ld -EPERM, %ld -EACCES, %ld not present, %ld busy, %ld -ENOMEM, %ld elsewhere; migrate_pages %ld calls, %ld ok, %ld refused",
	    sh->m.ops, sh->m.refused, sh->m.pages, sh->m.moved, sh->m.to[0], sh->m.to[1],
	    sh->m.to[2], sh->m.to[3], sh->m.eperm, sh->m.eacces, sh->m.enoent,
	    sh->m.ebusy, sh->m.enomem, sh->m.other, sh->m.mp_calls,
	    sh->m.mp_ok, sh->m.mp_refused);
	tap(sh->r.ops > 0 && sh->r.memcg_ok + sh->r.memcg_again > 0,
	    "reclaimer: %ld ops: memory.reclaim %ld ok/%ld -EAGAIN, node2/spm/reclaim %ld ok/%ld -EAGAIN/%ld -EPERM, node3/spm/reclaim %ld ok/%ld -EAGAIN/%ld -EPERM, %ld swapoff/swapon cycles",
	    sh->r.ops, sh->r.memcg_ok, sh->r.memcg_again, sh->r.node_ok[0],
	    sh->r.node_again[0], sh->r.node_eperm[0], sh->r.node_ok[1],
	    sh->r.node_again[1], sh->r.node_eperm[1], sh->r.swap_cycles);
	tap(sh->c.ops > 0,
	    "compactor: %ld ops: compact_memory %ld, node2/compact %ld ok/%ld -EPERM, node3/compact %ld ok/%ld -EPERM, drop_caches %ld",
	    sh->c.ops, sh->c.all_ok, sh->c.node_ok[0], sh->c.node_eperm[0],
	    sh->c.node_ok[1], sh->c.node_eperm[1], sh->c.drops);
	tap(sh->h.off_ok[0] > 0 && !sh->h.left_offline,
	    "hotplug: %ld offline attempts: node 3 %ld offline/%ld busy/%ld cut short/%ld online, node 2 %ld offline/%ld busy/%ld cut short/%ld online; %d left offline",
	    sh->h.ops, sh->h.off_ok[0], sh->h.off_busy[0], sh->h.off_timeout[0],
	    sh->h.on_ok[0], sh->h.off_ok[1], sh->h.off_busy[1],
	    sh->h.off_timeout[1], sh->h.on_ok[1], sh->h.left_offline);
	tap(sh->o.sto_loads > 0 && sh->o.sto_unloads > 0 &&
	    sh->o.cram_loads > 0 && sh->o.cram_unloads > 0 && sh->o.user_flips > 0,
	    "control: %ld ops: node 2 user flips %ld, node 3 allow_user flips %ld, write fence on/off/-EBUSY %ld/%ld/%ld, " OWNER " %ld loads (%ld -EBUSY)/%ld unloads (%ld busy), " CRAM " %ld loads/%ld unloads (%ld busy)",
	    sh->o.ops, sh->o.user_flips, sh->o.user3_flips, sh->o.fence_on,
	    sh->o.fence_off, sh->o.fence_busy, sh->o.sto_loads,
	    sh->o.sto_load_busy, sh->o.sto_unloads, sh->o.sto_unload_busy,
	    sh->o.cram_loads, sh->o.cram_unloads, sh->o.cram_unload_busy);
	{
		long n = sh->m.err.n + sh->r.err.n + sh->c.err.n +
			 sh->h.err.n + sh->o.err.n;

		for (w = 0; w < opt.writers; w++)
			n += sh->w[w].err.n;
		tap(!n, "no unexpected errors: %ld", n);
		for (w = 0; w < opt.writers; w++)
			if (sh->w[w].err.n)
				say("#   writer %d: %ld, first: %s\n", w,
				    sh->w[w].err.n, sh->w[w].err.first);
		if (sh->m.err.n)
			say("#   migrator: %ld, first: %s\n", sh->m.err.n, errnote_str(&sh->m.err));
		if (sh->r.err.n)
			say("#   reclaimer: %ld, first: %s\n", sh->r.err.n, errnote_str(&sh->r.err));
		if (sh->c.err.n)
			say("#   compactor: %ld, first: %s\n", sh->c.err.n, errnote_str(&sh->c.err));
		if (sh->h.err.n)
			say("#   hotplug: %ld, first: %s\n", sh->h.err.n, errnote_str(&sh->h.err));
		if (sh->o.err.n)
			say("#   control: %ld, first: %s\n", sh->o.err.n, errnote_str(&sh->o.err));
	}
	for (i = 1; i < ARRAY_SIZE(children); i++) {
		struct child *ch = &children[i];

		if (!ch->done) {
			tap(false, "%s worker ended after the deadline", ch->name);
			kill(ch->pid, SIGKILL);
			waitpid(ch->pid, &ch->status, 0);
			ch->done = true;
		} else if (!WIFEXITED(ch->status) || WEXITSTATUS(ch->status)) {
			tap(false, "%s worker exited with status %#x", ch->name,
			    ch->status);
		}
	}

	/* Back to the start: blocks online, spm_cram on node 3. */
	left = online_all(SPM3, &fixed) + online_all(SPM2, &fixed);
	if (!node_owned_by(SPM3, CRAM) && !module_loaded(CRAM))
		spm_module_load(CRAM, "");
	if (left || fixed)
		say("# end: %d blocks onlined, %d could not be\n", fixed, left);

	/* The data process verifies every page once more. */
	end = now() + 600.0 * opt.scale;
	while (__atomic_load_n(&sh->phase, __ATOMIC_SEQ_CST) < PH_VERIFIED &&
	       !child("data")->done && now() < end) {
		reap(false, 0);
		klog_drain();
		msleep(200);
	}
	tap(sh->phase >= PH_VERIFIED,
	    "data process finished its work and verified every page");
	tap(!SUM_W(bad), "bad pages while the soak ran: %ld%s%s", SUM_W(bad),
	    SUM_W(bad) ? ": first: " : "", SUM_W(bad) ? sh->first_bad : "");
	tap(sh->phase >= PH_VERIFIED && !sh->final_bad && sh->final_pages > 0,
	    "final verification: %ld bad pages of %ld (on node 0/1/2/3: %ld/%ld/%ld/%ld, %ld swapped out)",
	    sh->final_bad, sh->final_pages, sh->final_on[0], sh->final_on[1],
	    sh->final_on[2], sh->final_on[3], sh->final_on[NNODES]);

	/* Owner statistics over every lifetime. */
	tap(!sh->o.inconsistent,
	    "owner statistics consistent: " CRAM " demotions %ld, promotions %ld <= fenced writes %ld, throttled %ld, reclaimed %ld, %ld bytes left at unloads; " OWNER " pages_freed %ld, folio_arrived %ld, write_fault %ld (in %ld fenced lifetimes), may_demote %ld, pressure %ld%s%s",
	    sh->o.cram_demotions, sh->o.cram_promotions,
	    sh->o.cram_fenced_writes, sh->o.cram_throttled,
	    sh->o.cram_reclaimed, sh->o.cram_left_bytes,
	    sh->o.sto_pages_freed, sh->o.sto_folio_arrived,
	    sh->o.sto_write_fault, sh->o.sto_fenced_lives,
	    sh->o.sto_may_demote, sh->o.sto_pressure,
	    sh->o.inconsistent ? ": " : "", sh->o.inconsistent ? sh->o.why : "");

	/*
	 * Free the data under an owner that counts what is freed on node 2:
	 * its pages_freed must be what node 2's used memory drops by.
	 */
	ok = false;
	sto_freed_a = -1;
	if (!module_loaded(OWNER) &&
	    !spm_module_load(OWNER, "nid=2 caps=user,reclaim,compaction,migration")) {
		/* First as much of the data as may move onto node 2. */
		__atomic_store_n(&sh->phase, PH_GATHER, __ATOMIC_SEQ_CST);
		end = now() + 300.0 * opt.scale;
		while (__atomic_load_n(&sh->phase, __ATOMIC_SEQ_CST) != PH_GATHERED &&
		       now() < end && !reap(false, 0))
			msleep(100);
		sto_freed_a = owner_get("pages_freed");
		arrived_a = owner_get("folio_arrived");
		collapse_a = spm_vmstat("thp_collapse_alloc");
	}
	cram_log = cram_get("logical_bytes");
	spm_snap(&s1.snap);
	__atomic_store_n(&sh->phase, PH_FREE, __ATOMIC_SEQ_CST);
	reap(true, now() + 300.0 * opt.scale);
	settle_node(SPM2, &s2.snap, 30.0 * opt.scale);
	sto_freed_b = owner_get("pages_freed");
	if (sto_freed_a >= 0 && sto_freed_b >= 0) {
		long long drop = (s1.snap.v[SPM2][K_USED] - s2.snap.v[SPM2][K_USED]) /
				 (long long)(PAGE / 1024);
		long long freed = sto_freed_b - sto_freed_a;
		long long arrived = owner_get("folio_arrived") - arrived_a;
		long long collapses = spm_vmstat("thp_collapse_alloc") - collapse_a;

		/*
		 * Pages allocated on node 2 in the window and freed in it
		 * count in pages_freed and not in the drop: folios that
		 * arrived by migration, and huge pages khugepaged collapsed
		 * (its collapses anywhere); at most 512 pages each.
		 */
		ok = freed >= drop - opt.tol_pages &&
		     freed <= drop + 512 * (arrived + collapses) + opt.tol_pages &&
		     freed >= sh->freed_on[SPM2];
		tap(ok, "node 2 owner's pages_freed when the data is freed: %lld pages, node 2 used memory dropped by %lld pages, %lld folios arrived and %lld khugepaged collapses meanwhile, data pages on node 2 %ld (%ld moved there for this)",
		    freed, drop, arrived, collapses, sh->freed_on[SPM2],
		    sh->gathered);
	} else {
		tap(false, "node 2 owner's pages_freed when the data is freed: " OWNER " could not be loaded");
	}
	module_unload(OWNER);
	allow_user_set(SPM2, ctl.user2_start);
	{
		struct child *d = child("data");

		if (!d->done) {
			kill(d->pid, SIGKILL);
			waitpid(d->pid, &d->status, 0);
			d->done = true;
		}
		tap(WIFEXITED(d->status) && !WEXITSTATUS(d->status),
		    "data process exited normally (status %#x)", d->status);
	}
	for (i = 0; i < 50 && rmdir(SOAK_CG) && errno == EBUSY; i++)
		msleep(100);

	/* Every counter of the SPM nodes back to where it started. */
	settled = settle(&s0, &s3, 30.0 * opt.scale, why, sizeof(why));
	if (!settled) {
		state_log("before reclaim", &s0, &s3);
		say("# not back yet (%s): reclaim nodes 2 and 3, drop caches\n", why);
		node_file_write(SPM2, "spm/reclaim", "131072");
		node_file_write(SPM3, "spm/reclaim", "131072");
		spm_write_file("/proc/sys/vm/drop_caches", "3");
		settled = settle(&s0, &s3, 30.0 * opt.scale, why, sizeof(why));
	}
	state_log("end", &s0, &s3);
	tap(settled,
	    "SPM nodes' counters back to the start (MemTotal equal; Used-pcp, AnonPages, FilePages, Shmem of nodes 2 and 3 within %ld pages): node 2 Used-pcp %+lld kB, node 3 Used-pcp %+lld kB%s%s",
	    opt.tol_pages, s3.snap.v[SPM2][K_USED] - s0.snap.v[SPM2][K_USED],
	    s3.snap.v[SPM3][K_USED] - s0.snap.v[SPM3][K_USED],
	    settled ? "" : ": ", settled ? "" : why);
	{
		long long log = cram_get("logical_bytes");
		long long phys = cram_get("physical_bytes");

		tap(node_owned_by(SPM3, CRAM) && log >= 0 &&
		    log <= opt.tol_pages * (long long)PAGE && phys <= log,
		    CRAM " owns node 3 again and tracks nothing once the data is gone: logical_bytes %lld (%lld before), physical_bytes %lld, reserved_bytes %lld",
		    log, cram_log, phys, cram_get("reserved_bytes"));
	}

	/*
	 * Swap: what is left in it belongs to live processes or tmpfs (the
	 * initramfs), not to the data; swapoff must take every entry back
	 * (a leaked one would keep it busy until the alarm), then swapon.
	 */
	{
		struct sigaction sa = { .sa_handler = alarm_handler };
		double t = now();
		int off, on;

		sigemptyset(&sa.sa_mask);
		sigaction(SIGALRM, &sa, NULL);		/* no SA_RESTART */
		alarm(60 * opt.scale);
		off = swapoff(SWAPDEV) ? -errno : 0;
		alarm(0);
		t = now() - t;
		on = swapon(SWAPDEV, 0) ? -errno : 0;
		tap(!off && !on && spm_meminfo("SwapTotal") - spm_meminfo("SwapFree") == 0,
		    "swapoff takes back all of swap (%+lld kB in use without swap cache against the start) in %.1f s: %s; swapon: %s",
		    s3.swap_used - s0.swap_used, t, off ? strerror(-off) : "ok",
		    on ? strerror(-on) : "ok");
	}

	klog_drain();
	tap(!klog.problems, "no kernel report in the log: %ld of %ld lines%s%s%s",
	    klog.problems, klog.lines, klog.lost ? " (some records lost)" : "",
	    klog.problems ? ": first: " : "", klog.problems ? klog.first : "");
	taint1 = taint();
	tap((taint1 & ~TAINT_OK) == (taint0 & ~TAINT_OK),
	    "kernel taint unchanged but for O/E/N: %#lx -> %#lx", taint0, taint1);

	say("1..%d\n", tap_n);
	say("# spm-soak: %s: %d of %d results failed, %ld bad pages, %ld kernel reports\n",
	    tap_failed ? "FAIL" : "PASS", tap_failed, tap_n, SUM_W(bad) + sh->final_bad,
	    klog.problems);
	return tap_failed ? 1 : 0;
}
