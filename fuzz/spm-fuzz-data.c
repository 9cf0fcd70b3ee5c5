// SPDX-License-Identifier: GPL-2.0
/*
 * spm-fuzz-data: the data and isolation checks of make fuzz (guest side).
 *
 *   spm-fuzz-data keep -n NODES [-m MB] [-i SECONDS] [-s SEED] [-r FILE]
 *	Places MB (default 32) of data on each node of the list NODES: half
 *	private anonymous memory, half a shared memfd mapping, each bound to
 *	its node with mbind(MPOL_BIND) before the first touch, without THP,
 *	and keeps a checksum of every page.  Every page's node is checked
 *	(move_pages() query) before anything else; then FILE is created.
 *	Every SECONDS (default 20) a round verifies every page, write-protects
 *	one region and verifies it again, and forks a child that verifies a
 *	sample through the copy-on-write mappings, writes to private pages and
 *	reads back what it wrote.  SIGUSR2 stops the rounds (FILE.paused is
 *	created once the round in progress is over).  SIGTERM ends it: a last
 *	verification, the placement check, one result line.  Placement: a page
 *	bound to a SysRAM node is on a SysRAM node; a page bound to an SPM node
 *	is on that node or on SysRAM (reclaim, then a swap-in when the node no
 *	longer permits user placement), never on another SPM node.
 *	Exit status 0 when no page was corrupt, no child failed and every
 *	page is where it may be; 3 when only the placement is wrong; 1 when
 *	the data is not intact.
 *
 *   spm-fuzz-data alloc [-m MB] [-d DIR]
 *	A default-policy allocation: MB (default 64) of anonymous memory and
 *	a file of MB / 4 in DIR (default /tmp), every page's node checked with
 *	move_pages(); exit status 1 when a page is on an SPM node.
 *
 *   spm-fuzz-data usage NODES
 *	For each node: MemUsed of its meminfo, the pages on the per-cpu free
 *	lists (/proc/zoneinfo "count:"), and the difference, in kB:
 *	"node N used U pcp P net D".
 *
 *   spm-fuzz-data ipc-clean UID
 *	Removes the SysV shared memory segments of UID; prints how many.
 *
 *   spm-fuzz-data where PATH...
 *	For every regular file under the PATHs (not crossing into /proc,
 *	/sys or /dev other than /dev/shm): its resident pages that sit on an
 *	SPM node, "FILE: N pages on node M".  Only pages already in memory
 *	are looked at (mincore()), so nothing is read in.  Finds what holds
 *	the memory of an SPM node once every task that may place memory
 *	there is gone.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <setjmp.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/shm.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include "spm.h"
#include "spm_fuzz.h"

#define MAX_REGIONS	32
#define SAMPLE_PAGES	64
#define CHILD_WRITES	4

#ifndef MPOL_F_NODE
#define MPOL_F_NODE	(1 << 0)
#define MPOL_F_ADDR	(1 << 1)
#endif

static long ps;
static unsigned long long spm_nodes_mask;

struct region {
	int nid;
	bool shared;
	char *addr;
	size_t len;
	uint64_t *sums;		/* one per page */
};

static struct region regions[MAX_REGIONS];
static int nr_regions;
static uint64_t seed;

/*
 * Data bound to a full SPM node cannot be faulted back in (swap-in after
 * the node's reclaim): the access gets SIGBUS, as the series wants.  The
 * keeper retries such a page later instead of dying.
 */
static sigjmp_buf *volatile fault_jb;	/* volatile: see guarded_sum() */
static unsigned long sigbus_retries;

static void on_sigbus(int sig)
{
	if (fault_jb)
		siglongjmp(*fault_jb, sig);
	signal(sig, SIG_DFL);
	raise(sig);
}

/* A checksum of one page, 64 bits at a time. */
static uint64_t page_sum(const void *p)
{
	const volatile uint64_t *w = p;
	uint64_t h = FUZZ_FNV64_OFFSET;
	long i;

	for (i = 0; i < ps / 8; i++) {
		h ^= w[i];
		h *= FUZZ_FNV64_PRIME;
		h ^= h >> 29;
	}
	return h;
}

/* Fill dst with the data of page i of r (salt 0: the first data). */
static void fill_page(const struct region *r, void *dst, size_t i,
		      uint64_t salt)
{
	struct fuzz_rng rng;
	uint64_t *w = dst;
	long k;

	fuzz_rng_seed(&rng, seed ^ salt,
		      ((uint64_t)r->nid << 40) ^ ((uint64_t)r->shared << 39) ^ i);
	for (k = 0; k < ps / 8; k++)
		w[k] = fuzz_next(&rng);
}

static unsigned long long nodes_of_list(const char *list)
{
	long long m = spm_nodelist_parse(list);

	if (m <= 0) {
		fprintf(stderr, "spm-fuzz-data: bad node list '%s'\n", list);
		exit(2);
	}
	return m;
}

/* The nodes of every page of [addr, addr + len) into status. */
static int query_nodes(char *addr, size_t len, int *status)
{
	size_t i, n = len / ps;
	void **pages = malloc(n * sizeof(*pages));
	int ret = 0;

	if (!pages)
		return -ENOMEM;
	for (i = 0; i < n; i++)
		pages[i] = addr + i * ps;
	if (spm_move_pages(0, n, pages, NULL, status, 0) < 0)
		ret = -errno;
	free(pages);
	return ret;
}

static int make_region(struct region *r, int nid, bool shared, size_t len)
{
	unsigned long mask = 1UL << nid;
	size_t i;
	int fd = -1;

	r->nid = nid;
	r->shared = shared;
	r->len = len;
	if (shared) {
		fd = memfd_create("spm-fuzz-keep", 0);
		if (fd < 0 || ftruncate(fd, len)) {
			perror("spm-fuzz-data: memfd");
			return -1;
		}
		r->addr = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
		close(fd);
	} else {
		r->addr = mmap(NULL, len, PROT_READ | PROT_WRITE,
			       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	}
	if (r->addr == MAP_FAILED) {
		perror("spm-fuzz-data: mmap");
		return -1;
	}
	madvise(r->addr, len, MADV_NOHUGEPAGE);
	if (spm_mbind(r->addr, len, MPOL_BIND, &mask, sizeof(mask) * 8, 0)) {
		fprintf(stderr, "spm-fuzz-data: mbind to node %d: %m\n", nid);
		return -1;
	}
	r->sums = malloc(len / ps * sizeof(*r->sums));
	if (!r->sums)
		return -1;
	for (i = 0; i < len / ps; i++) {
		fill_page(r, r->addr + i * ps, i, 0);
		r->sums[i] = page_sum(r->addr + i * ps);
	}
	return 0;
}

static const char *region_name(const struct region *r)
{
	static char name[64];

	snprintf(name, sizeof(name), "node %d %s", r->nid,
		 r->shared ? "memfd" : "anon");
	return name;
}

/*
 * The checksum of a page that may need a fault to come back: up to @tries
 * attempts a second apart while the access raises SIGBUS (a full node).
 * Returns 0, or the signal of the last attempt.
 */
static int guarded_sum(const char *p, uint64_t *sum, int tries)
{
	sigjmp_buf jb;
	int sig = 0;

	while (tries-- > 0) {
		sig = sigsetjmp(jb, 1);
		if (!sig) {
			fault_jb = &jb;
			*sum = page_sum(p);
		}
		fault_jb = NULL;
		if (!sig)
			return 0;
		sigbus_retries++;
		if (tries)
			sleep(1);
	}
	return sig;
}

/* Verify every page; returns the number of bad pages. */
static unsigned long verify_all(int *reports)
{
	unsigned long bad = 0;
	size_t i;
	int k;

	for (k = 0; k < nr_regions; k++) {
		struct region *r = &regions[k];

		for (i = 0; i < r->len / ps; i++) {
			uint64_t s = 0;

			if (guarded_sum(r->addr + i * ps, &s, 60)) {
				bad++;
				if ((*reports)++ < 10)
					printf("keep: page %zu of %s: SIGBUS for a minute\n",
					       i, region_name(r));
				continue;
			}
			if (s == r->sums[i])
				continue;
			bad++;
			if ((*reports)++ < 10)
				printf("keep: BAD page %zu of %s: checksum 0x%llx, was 0x%llx\n",
				       i, region_name(r), (unsigned long long)s,
				       (unsigned long long)r->sums[i]);
		}
	}
	return bad;
}

/* The child of a round: sample through the shared mappings, write, reread. */
static int child_round(uint64_t round)
{
	static uint64_t local[65536 / 8];
	struct fuzz_rng rng;
	int fd, k, j;

	/* Inherited -1000 would make this child unkillable by the OOM killer. */
	fd = open("/proc/self/oom_score_adj", O_WRONLY);
	if (fd >= 0) {
		if (write(fd, "0", 1) < 0)
			perror("spm-fuzz-data: oom_score_adj");
		close(fd);
	}
	fuzz_rng_seed(&rng, seed, 1000 + round);
	for (k = 0; k < nr_regions; k++) {
		struct region *r = &regions[k];
		size_t n = r->len / ps;

		for (j = 0; j < SAMPLE_PAGES; j++) {
			size_t i = fuzz_below(&rng, n);
			uint64_t sum;

			if (guarded_sum(r->addr + i * ps, &sum, 5))
				return 3;
			if (sum != r->sums[i]) {
				printf("keep: child: BAD page %zu of %s\n", i,
				       region_name(r));
				return 1;
			}
		}
		if (r->shared)
			continue;
		for (j = 0; j < CHILD_WRITES; j++) {
			size_t i = fuzz_below(&rng, n);
			sigjmp_buf jb;

			fill_page(r, local, i, round + 1);
			/* the copy on write needs a page of the bound node */
			if (sigsetjmp(jb, 1))
				return 3;
			fault_jb = &jb;
			fill_page(r, r->addr + i * ps, i, round + 1);
			fault_jb = NULL;
			if (page_sum(r->addr + i * ps) != page_sum(local)) {
				printf("keep: child: page %zu of %s does not keep what was written\n",
				       i, region_name(r));
				return 2;
			}
		}
	}
	return 0;
}

struct keep_stats {
	unsigned long rounds;
	unsigned long bad;
	unsigned long forks;
	unsigned long fork_failed;
	unsigned long fork_oom;
	unsigned long fork_sigbus;
	int reports;
};

static void round_once(struct keep_stats *st)
{
	struct region *r = &regions[st->rounds % nr_regions];
	int status;
	pid_t pid;

	st->bad += verify_all(&st->reports);
	if (!mprotect(r->addr, r->len, PROT_READ)) {
		int none = 0;
		uint64_t sum;
		size_t i;

		for (i = 0; i < r->len / ps; i++)
			if (guarded_sum(r->addr + i * ps, &sum, 60) ||
			    sum != r->sums[i])
				none++;
		if (none) {
			st->bad += none;
			printf("keep: %d pages of %s differ while read-only\n",
			       none, region_name(r));
		}
		mprotect(r->addr, r->len, PROT_READ | PROT_WRITE);
	}
	fflush(stdout);
	pid = fork();
	if (pid == 0)
		_exit(child_round(st->rounds));
	if (pid > 0 && waitpid(pid, &status, 0) == pid) {
		st->forks++;
		if (WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL) {
			st->fork_oom++;
		} else if (WIFEXITED(status) && WEXITSTATUS(status) == 3) {
			st->fork_sigbus++;
		} else if (!WIFEXITED(status) || WEXITSTATUS(status)) {
			st->fork_failed++;
			printf("keep: child of round %lu: %s %d\n", st->rounds,
			       WIFEXITED(status) ? "exit" : "signal",
			       WIFEXITED(status) ? WEXITSTATUS(status) :
			       WTERMSIG(status));
		}
	}
	st->rounds++;
}

/* Where the pages are now; returns the pages where they may not be. */
static unsigned long placement(bool strict, unsigned long *moved,
			       unsigned long *absent)
{
	unsigned long wrong = 0;
	int k;

	*moved = 0;
	*absent = 0;
	for (k = 0; k < nr_regions; k++) {
		struct region *r = &regions[k];
		size_t i, n = r->len / ps;
		int *status = malloc(n * sizeof(*status));
		unsigned long on[64] = { 0 }, here_absent = 0, here_wrong = 0;
		char line[512];
		size_t off;
		int nid;

		if (!status || query_nodes(r->addr, r->len, status)) {
			printf("keep: move_pages query of %s: %m\n", region_name(r));
			free(status);
			wrong += n;
			continue;
		}
		for (i = 0; i < n; i++) {
			nid = status[i];
			if (nid < 0 || nid >= 64) {
				here_absent++;
				continue;
			}
			on[nid]++;
			if (nid == r->nid)
				continue;
			/* never on another SPM node; on SysRAM unless strict */
			if (strict || (spm_nodes_mask & (1ULL << nid)))
				here_wrong++;
			else
				(*moved)++;
		}
		off = snprintf(line, sizeof(line), "keep: %s:", region_name(r));
		for (nid = 0; nid < 64; nid++)
			if (on[nid])
				off += snprintf(line + off, sizeof(line) - off,
						" %lu on node %d", on[nid], nid);
		if (here_absent)
			off += snprintf(line + off, sizeof(line) - off,
					" %lu not present", here_absent);
		if (here_wrong)
			snprintf(line + off, sizeof(line) - off,
				 " (%lu where they may not be)", here_wrong);
		puts(line);
		*absent += here_absent;
		wrong += here_wrong;
		free(status);
	}
	return wrong;
}

static int keep_main(int argc, char **argv)
{
	unsigned long long mask = 0;
	struct keep_stats st = { 0 };
	unsigned long moved, absent, wrong, pages = 0;
	const char *ready = NULL;
	char path[PATH_MAX], buf[256];
	double interval = 20;
	size_t mb = 32;
	sigset_t set;
	bool paused = false;
	int opt, nid, fd, sig;

	while ((opt = getopt(argc, argv, "n:m:i:s:r:")) != -1) {
		switch (opt) {
		case 'n':
			mask = nodes_of_list(optarg);
			break;
		case 'm':
			mb = strtoul(optarg, NULL, 0);
			break;
		case 'i':
			interval = atof(optarg);
			break;
		case 's':
			seed = strtoull(optarg, NULL, 0);
			break;
		case 'r':
			ready = optarg;
			break;
		default:
			return 2;
		}
	}
	if (!mask || mb < 2 || mb > 1024 || ps > (long)sizeof(uint64_t) * 8192) {
		fprintf(stderr, "usage: spm-fuzz-data keep -n NODES [-m MB] [-i SECONDS] [-s SEED] [-r FILE]\n");
		return 2;
	}
	signal(SIGBUS, on_sigbus);
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGUSR2);
	sigprocmask(SIG_BLOCK, &set, NULL);
	fd = open("/proc/self/oom_score_adj", O_WRONLY);
	if (fd < 0 || write(fd, "-1000", 5) != 5)
		perror("spm-fuzz-data: oom_score_adj -1000");
	if (fd >= 0)
		close(fd);

	for (nid = 0; nid < 64; nid++) {
		if (!(mask & (1ULL << nid)))
			continue;
		if (nr_regions + 2 > MAX_REGIONS ||
		    make_region(&regions[nr_regions], nid, false, mb / 2 * 1048576) ||
		    make_region(&regions[nr_regions + 1], nid, true, (mb - mb / 2) * 1048576)) {
			printf("keep: FAILED to place data on node %d\n", nid);
			return 1;
		}
		nr_regions += 2;
	}
	for (nid = 0; nid < nr_regions; nid++)
		pages += regions[nid].len / ps;
	wrong = placement(true, &moved, &absent);
	if (wrong || absent) {
		printf("keep: FAILED: %lu pages not on the node they are bound to, %lu not present\n",
		       wrong, absent);
		return 1;
	}
	printf("keep: placed %zu MB on each of nodes %s, %lu pages, seed %llu\n",
	       mb, fuzz_nodelist(buf, sizeof(buf), mask), pages,
	       (unsigned long long)seed);
	fflush(stdout);
	if (ready) {
		fd = open(ready, O_WRONLY | O_CREAT | O_TRUNC, 0644);
		if (fd >= 0)
			close(fd);
	}

	for (;;) {
		struct timespec ts = {
			.tv_sec = (time_t)interval,
			.tv_nsec = (long)((interval - (time_t)interval) * 1e9),
		};

		sig = paused ? sigwaitinfo(&set, NULL) : sigtimedwait(&set, NULL, &ts);
		if (sig == SIGTERM)
			break;
		if (sig == SIGUSR2) {
			paused = true;
			if (ready) {
				snprintf(path, sizeof(path), "%s.paused", ready);
				fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
				if (fd >= 0)
					close(fd);
			}
			continue;
		}
		if (!paused)
			round_once(&st);
	}

	st.bad += verify_all(&st.reports);
	wrong = placement(false, &moved, &absent);
	printf("keep: result: pages=%lu rounds=%lu bad=%lu forks=%lu fork-failures=%lu fork-oom-kills=%lu fork-sigbus=%lu sigbus-retries=%lu\n",
	       pages, st.rounds + 1, st.bad, st.forks, st.fork_failed,
	       st.fork_oom, st.fork_sigbus, sigbus_retries);
	printf("keep: placement: on-their-node=%lu moved-to-sysram=%lu not-present=%lu misplaced=%lu\n",
	       pages - moved - absent - wrong, moved, absent, wrong);
	/* 1: the data is not intact; 3: it is, but pages are misplaced */
	return st.bad || st.fork_failed ? 1 : wrong ? 3 : 0;
}

static int alloc_main(int argc, char **argv)
{
	const char *dir = "/tmp";
	char path[PATH_MAX], line[512];
	unsigned long on[64] = { 0 }, spm_pages = 0;
	size_t mb = 64, len, flen, i, off;
	int opt, fd, mode = -1, *status, k;
	char *anon, *file, *chunk;

	while ((opt = getopt(argc, argv, "m:d:")) != -1) {
		switch (opt) {
		case 'm':
			mb = strtoul(optarg, NULL, 0);
			break;
		case 'd':
			dir = optarg;
			break;
		default:
			return 2;
		}
	}
	if (syscall(SYS_get_mempolicy, &mode, NULL, 0, NULL, 0) || mode != MPOL_DEFAULT) {
		printf("alloc: the task policy is %d, not MPOL_DEFAULT\n", mode);
		return 2;
	}
	len = mb << 20;
	flen = len / 4;
	anon = mmap(NULL, len, PROT_READ | PROT_WRITE,
		    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	snprintf(path, sizeof(path), "%s/spm-fuzz-alloc.%d", dir, getpid());
	fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
	chunk = malloc(1 << 20);
	status = malloc((len / ps) * sizeof(*status));
	if (anon == MAP_FAILED || fd < 0 || !chunk || !status) {
		perror("spm-fuzz-data: alloc");
		return 2;
	}
	unlink(path);
	spm_touch(anon, len);
	memset(chunk, 0x5a, 1 << 20);
	for (off = 0; off < flen; off += 1 << 20)
		if (write(fd, chunk, 1 << 20) != 1 << 20) {
			perror("spm-fuzz-data: write");
			return 2;
		}
	file = mmap(NULL, flen, PROT_READ, MAP_SHARED, fd, 0);
	if (file == MAP_FAILED) {
		perror("spm-fuzz-data: mmap");
		return 2;
	}
	for (i = 0; i < flen; i += ps)
		(void)*(volatile char *)(file + i);

	for (k = 0; k < 2; k++) {
		char *p = k ? file : anon;
		size_t n = (k ? flen : len) / ps;
		unsigned long absent = 0;

		memset(on, 0, sizeof(on));
		if (query_nodes(p, n * ps, status)) {
			printf("alloc: move_pages query: %m\n");
			return 2;
		}
		for (i = 0; i < n; i++) {
			if (status[i] < 0 || status[i] >= 64) {
				absent++;
				continue;
			}
			on[status[i]]++;
			if (spm_nodes_mask & (1ULL << status[i]))
				spm_pages++;
		}
		off = snprintf(line, sizeof(line), "alloc: %s %zu pages:",
			       k ? "file" : "anon", n);
		for (i = 0; i < 64; i++)
			if (on[i])
				off += snprintf(line + off, sizeof(line) - off,
						" %lu on node %zu%s", on[i], i,
						spm_nodes_mask & (1ULL << i) ?
						" (SPM)" : "");
		if (absent)
			snprintf(line + off, sizeof(line) - off,
				 " %lu not present", absent);
		puts(line);
	}
	printf("alloc: result: %lu pages on SPM nodes\n", spm_pages);
	return spm_pages ? 1 : 0;
}

/* Pages on the per-cpu lists of the zones of each node, from /proc/zoneinfo. */
static void pcp_pages(unsigned long long *pcp)
{
	char line[256];
	long long v;
	int cur = -1, n;
	FILE *f = fopen("/proc/zoneinfo", "r");

	if (!f)
		return;
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "Node %d, zone", &n) == 1)
			cur = n;
		else if (cur >= 0 && cur < 64 &&
			 sscanf(line, " count: %lld", &v) == 1)
			pcp[cur] += v;
	}
	fclose(f);
}

static int usage_main(int argc, char **argv)
{
	unsigned long long mask, pcp[64] = { 0 };
	long long used;
	int nid;

	if (argc < 2)
		return 2;
	mask = nodes_of_list(argv[1]);
	pcp_pages(pcp);
	for (nid = 0; nid < 64; nid++) {
		if (!(mask & (1ULL << nid)))
			continue;
		used = spm_node_meminfo(nid, "MemUsed");
		if (used < 0) {
			printf("node %d used ? pcp ? net ?\n", nid);
			continue;
		}
		printf("node %d used %lld pcp %llu net %lld\n", nid, used,
		       pcp[nid] * (ps / 1024),
		       used - (long long)(pcp[nid] * (ps / 1024)));
	}
	return 0;
}

static int ipc_clean_main(int argc, char **argv)
{
	struct shm_info info;
	struct shmid_ds ds;
	int max, i, id, n = 0;
	uid_t uid;

	if (argc < 2)
		return 2;
	uid = strtoul(argv[1], NULL, 0);
	max = shmctl(0, SHM_INFO, (struct shmid_ds *)&info);
	for (i = 0; i <= max; i++) {
		id = shmctl(i, SHM_STAT, &ds);
		if (id < 0 || ds.shm_perm.uid != uid)
			continue;
		if (!shmctl(id, IPC_RMID, NULL))
			n++;
	}
	printf("ipc-clean: %d shared memory segments of uid %u removed\n", n,
	       (unsigned int)uid);
	return 0;
}

static unsigned long where_files, where_pages;

static int where_one(const char *path, const struct stat *sb, int type,
		     struct FTW *ftw)
{
	unsigned long on[64] = { 0 }, n, i;
	unsigned char *vec;
	int fd, nid, *status;
	void **pages;
	char *p;

	if (type == FTW_D && (!strcmp(path, "/proc") || !strcmp(path, "/sys") ||
			      (!strncmp(path, "/dev", 4) &&
			       strcmp(path, "/dev") && strncmp(path, "/dev/shm", 8))))
		return FTW_SKIP_SUBTREE;
	if (type != FTW_F || !S_ISREG(sb->st_mode) || !sb->st_size)
		return FTW_CONTINUE;
	fd = open(path, O_RDONLY | O_NOATIME);
	if (fd < 0)
		fd = open(path, O_RDONLY);
	if (fd < 0)
		return FTW_CONTINUE;
	n = (sb->st_size + ps - 1) / ps;
	p = mmap(NULL, n * ps, PROT_READ, MAP_SHARED, fd, 0);
	close(fd);
	if (p == MAP_FAILED)
		return FTW_CONTINUE;
	vec = malloc(n);
	pages = malloc(n * sizeof(*pages));
	status = malloc(n * sizeof(*status));
	if (vec && pages && status && !mincore(p, n * ps, vec)) {
		unsigned long k = 0;

		for (i = 0; i < n; i++) {
			if (!(vec[i] & 1))
				continue;
			(void)*(volatile char *)(p + i * ps);	/* map it */
			pages[k++] = p + i * ps;
		}
		if (k && !spm_move_pages(0, k, pages, NULL, status, 0)) {
			for (i = 0; i < k; i++)
				if (status[i] >= 0 && status[i] < 64)
					on[status[i]]++;
		}
		for (nid = 0; nid < 64; nid++) {
			if (!on[nid] || !(spm_nodes_mask & (1ULL << nid)))
				continue;
			printf("where: %s: %lu pages on SPM node %d\n", path,
			       on[nid], nid);
			where_pages += on[nid];
		}
		where_files++;
	}
	free(vec);
	free(pages);
	free(status);
	munmap(p, n * ps);
	return FTW_CONTINUE;
}

static int where_main(int argc, char **argv)
{
	int i;

	for (i = 1; i < argc; i++)
		nftw(argv[i], where_one, 32, FTW_PHYS | FTW_ACTIONRETVAL);
	printf("where: %lu files looked at, %lu resident pages on SPM nodes\n",
	       where_files, where_pages);
	return 0;
}

int main(int argc, char **argv)
{
	long long m;

	ps = sysconf(_SC_PAGESIZE);
	setvbuf(stdout, NULL, _IOLBF, 0);
	m = spm_sysfs_nodemask("has_spm_memory");
	spm_nodes_mask = m > 0 ? m : 0;
	if (argc < 2) {
		fprintf(stderr, "usage: spm-fuzz-data keep|alloc|usage|ipc-clean|where ...\n");
		return 2;
	}
	if (!strcmp(argv[1], "keep"))
		return keep_main(argc - 1, argv + 1);
	if (!strcmp(argv[1], "alloc"))
		return alloc_main(argc - 1, argv + 1);
	if (!strcmp(argv[1], "usage"))
		return usage_main(argc - 1, argv + 1);
	if (!strcmp(argv[1], "ipc-clean"))
		return ipc_clean_main(argc - 1, argv + 1);
	if (!strcmp(argv[1], "where"))
		return where_main(argc - 1, argv + 1);
	fprintf(stderr, "spm-fuzz-data: unknown command %s\n", argv[1]);
	return 2;
}
