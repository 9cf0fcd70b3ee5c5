// SPDX-License-Identifier: GPL-2.0
/*
 * spm-cram-load: a workload for the spm_cram compressed-RAM service.
 *
 * Fills anonymous memory bound to a SysRAM node with data of known LZ4
 * compressibility, pushes it down to the compressed node with memory
 * pressure, checks where every page went and that nothing changed, reads
 * it all back counting page faults, rewrites part of it and prints the
 * spm_cram statistics after each phase.
 *
 * Data: every 4 KiB page holds K pseudo-random bytes followed by zeros
 * (-k K).  LZ4 cannot shrink the random bytes and turns the zeros into one
 * match, so a page compresses to about K + 30 bytes whatever the
 * compressor's match search does; the program prints that expected size.
 * K = 4096 is incompressible (stored raw: 4096 bytes).
 *
 * Pressure (-p):
 *   memcg  the program moves itself into a cgroup and asks the kernel to
 *          reclaim the data's size through memory.reclaim (proactive
 *          reclaim, which demotes when the node has a demotion target);
 *   hog    a second mapping bound to the data node is touched until the
 *          node is full, so kswapd and direct reclaim demote the older
 *          data; the hog is then unmapped;
 *   none   no pressure.
 *
 * Extra output for benchmarks (bench/cram):
 *   -E       after each phase, <phase>.expected_target_bytes: the sum of the
 *            expected LZ4 sizes of the <phase>.expected_target_pages pages
 *            now on the target node, from what was last written to each
 *            page (the data's own ratio is then pages x 4096 / bytes,
 *            <phase>.expected_target_ratio);
 *            and read.ns / writeN.ns, the wall time of those passes;
 *   -s PATH  after each phase, the statistics in PATH (a file, or every
 *            readable file of a directory, e.g. /sys/kernel/debug/zswap) as
 *            <phase>.<basename of PATH>[.<file>]=<value>, whitespace inside
 *            a value turned into commas (repeatable, up to 4 paths).
 *
 * Output: one "key=value" per line (see the keys printed).  Exit status 0
 * when every checksum matched, 1 when data changed, 2 on setup errors.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <signal.h>
#include <time.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "spm.h"

#define PAGE		4096UL
#define MAXNODES	64
#define CRAM_SYSFS	"/sys/kernel/spm_cram"
#define QUERY_BATCH	4096
#define MAX_STATS	4

struct opts {
	unsigned long mb;
	unsigned int rand_bytes;
	int node;
	int target;
	const char *pressure;
	const char *cgroup;
	unsigned long hog_mb;
	unsigned int write_pct;
	const char *write_kind;
	unsigned int rounds;
	int rescan;
	int pause;
	int quiet;
	int expect;
	const char *stats[MAX_STATS];
	unsigned int nr_stats;
	uint64_t seed;
};

static struct opts o = {
	.mb = 64,
	.rand_bytes = 2048,
	.node = 0,
	.target = 3,
	.pressure = "memcg",
	.cgroup = "/sys/fs/cgroup/spm-cram-load",
	.write_kind = "random",
	.rounds = 1,
	.seed = 0x53504d2d4352414dULL,
};

static char *data;
static unsigned long npages;
static uint64_t *sums;
static int *status;
/* Random bytes of what was last written to each page (-E only). */
static unsigned short *page_k;

static void usage(void)
{
	fprintf(stderr,
		"usage: spm-cram-load [-m MB] [-k RANDOM_BYTES] [-n NODE] [-t NODE]\n"
		"                     [-p memcg|hog|none] [-g CGROUP] [-H HOG_MB]\n"
		"                     [-w PCT] [-W random|same|zero] [-i ROUNDS] [-R] [-P] [-q]\n"
		"                     [-E] [-s PATH]...\n"
		"  -m MB     data size (default 64)\n"
		"  -k BYTES  random bytes per 4 KiB page, the rest zeros (default 2048;\n"
		"            4096 = incompressible)\n"
		"  -n NODE   SysRAM node the data is bound to (default 0)\n"
		"  -t NODE   compressed node the data should be demoted to (default 3)\n"
		"  -p MODE   pressure: memcg (memory.reclaim, default), hog, none\n"
		"  -g PATH   cgroup for -p memcg (default /sys/fs/cgroup/spm-cram-load)\n"
		"  -H MB     hog beyond the node's free memory for -p hog (default MB/2)\n"
		"  -w PCT    write phase: rewrite every (100 / PCT)th page (default 0: none)\n"
		"  -W KIND   what the write phase writes (default random)\n"
		"  -i N      write rounds (default 1); with N > 1 each is followed by pressure\n"
		"  -R        after the write phase, recompress the node (spm_cram rescan)\n"
		"  -P        at the end print paused=PID and wait for SIGUSR1; then check\n"
		"            the data again, rewrite every page and check it once more\n"
		"  -q        do not print the spm_cram statistics\n"
		"  -E        also print, per phase, the expected LZ4 bytes of the pages on\n"
		"            the target node, and the time of the read and write passes\n"
		"  -s PATH   also print, per phase, the statistics file PATH or the\n"
		"            files of the directory PATH (repeatable, up to 4)\n");
	exit(2);
}

static void die(const char *what)
{
	fprintf(stderr, "spm-cram-load: %s: %s\n", what, strerror(errno));
	exit(2);
}

/* splitmix64: a small, good pseudo-random generator. */
static uint64_t mix(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

/* Page = rand_bytes pseudo-random bytes (from seed), then zeros. */
static void fill_page(char *p, unsigned int rand_bytes, uint64_t seed)
{
	uint64_t s = seed, w;
	unsigned int i;

	for (i = 0; i + 8 <= rand_bytes; i += 8) {
		w = mix(&s);
		memcpy(p + i, &w, 8);
	}
	if (i < rand_bytes) {
		w = mix(&s);
		memcpy(p + i, &w, rand_bytes - i);
		i = rand_bytes;
	}
	memset(p + i, 0, PAGE - i);
}

static uint64_t page_sum(const char *p)
{
	const uint64_t *w = (const uint64_t *)p;
	uint64_t h = 0xcbf29ce484222325ULL;
	unsigned long i;

	for (i = 0; i < PAGE / 8; i++)
		h = (h ^ w[i]) * 0x100000001b3ULL;
	return h;
}

/* Bytes of an LZ4 length field beyond the token for a length of @len. */
static unsigned long lz4_len_bytes(unsigned long len)
{
	return len >= 15 ? (len - 15) / 255 + 1 : 0;
}

/*
 * LZ4 block size of a page of @k random bytes and 4096 - @k zeros: one
 * sequence of about k + 4 + k / 512 literals (the match search steps
 * further and further through the random bytes and lands a few bytes into
 * the zeros) with a match over the zeros up to the last 5 bytes, then the
 * 5 final literals.  Within a few bytes of what an LZ4 compressor
 * produces (checked against liblz4 1.9.4); PAGE when it does not fit.
 */
static unsigned long expected_page_bytes(unsigned int k)
{
	unsigned long lit = k + 4 + k / 512, match, size;

	if (lit + 5 + 4 > PAGE)
		return PAGE;
	match = PAGE - 5 - lit;
	size = 1 + lz4_len_bytes(lit) + lit + 2 + lz4_len_bytes(match - 4) +
	       1 + 5;
	return size < PAGE ? size : PAGE;
}

/* Node of every data page into status[]; returns pages per node. */
static void query_nodes(long counts[MAXNODES + 1])
{
	void **pages = malloc(QUERY_BATCH * sizeof(*pages));
	unsigned long i, j, n;

	if (!pages)
		die("malloc");
	memset(counts, 0, (MAXNODES + 1) * sizeof(long));
	for (i = 0; i < npages; i += n) {
		n = npages - i < QUERY_BATCH ? npages - i : QUERY_BATCH;
		for (j = 0; j < n; j++)
			pages[j] = data + (i + j) * PAGE;
		if (spm_move_pages(0, n, pages, NULL, status + i, 0) < 0)
			die("move_pages query");
	}
	for (i = 0; i < npages; i++) {
		if (status[i] >= 0 && status[i] < MAXNODES)
			counts[status[i]]++;
		else
			counts[MAXNODES]++;	/* not present, or an error */
	}
	free(pages);
}

/* Highest possible node id. */
static int max_node(void)
{
	long long mask = spm_sysfs_nodemask("possible");
	int n = 0;

	if (mask <= 0)
		return 3;
	while (n < 63 && (mask >> (n + 1)))
		n++;
	return n;
}

static int node_is_spm(int nid)
{
	static long long spm = -2;

	if (spm == -2)
		spm = spm_sysfs_nodemask("has_spm_memory");
	return spm > 0 && nid >= 0 && nid < 63 && ((spm >> nid) & 1);
}

static void print_nodes(const char *phase)
{
	long counts[MAXNODES + 1];
	int n, last = max_node();

	query_nodes(counts);
	for (n = 0; n <= last; n++)
		printf("%s.node%d=%ld\n", phase, n, counts[n]);
	printf("%s.not_present=%ld\n", phase, counts[MAXNODES]);
	printf("%s.target=%ld\n", phase, counts[o.target]);
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

/*
 * -E: expected LZ4 bytes of the pages on the target node (status[] is
 * fresh: every caller of print_cram() has just queried the nodes).
 */
static void print_expected(const char *phase)
{
	unsigned long i, n = 0, bytes = 0, milli;

	for (i = 0; i < npages; i++) {
		if (status[i] != o.target)
			continue;
		n++;
		bytes += expected_page_bytes(page_k[i]);
	}
	milli = bytes ? n * PAGE * 1000 / bytes : 0;
	printf("%s.expected_target_pages=%lu\n", phase, n);
	printf("%s.expected_target_bytes=%lu\n", phase, bytes);
	printf("%s.expected_target_ratio=%lu.%03lu\n", phase, milli / 1000,
	       milli % 1000);
}

/* Print @path's content as @key=value, whitespace runs as commas. */
static void print_stat_file(const char *key, const char *path)
{
	char buf[512], *p, *q;
	int sep = 0;

	if (spm_read_file(path, buf, sizeof(buf)) < 0)
		return;
	for (p = q = buf; *p; p++) {
		if (*p == ' ' || *p == '\t' || *p == '\n') {
			sep = q != buf;
			continue;
		}
		if (sep)
			*q++ = ',';
		sep = 0;
		*q++ = *p;
	}
	*q = '\0';
	printf("%s=%s\n", key, buf);
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char * const *)a, *(char * const *)b);
}

/* -s: the statistics files given, or those of the directories given. */
static void print_stats(const char *phase)
{
	char key[512], path[512], *names[256];
	unsigned int i, j, n;
	const char *base;
	struct dirent *de;
	struct stat st;
	DIR *dir;

	for (i = 0; i < o.nr_stats; i++) {
		base = strrchr(o.stats[i], '/');
		base = base ? base + 1 : o.stats[i];
		if (stat(o.stats[i], &st))
			continue;
		if (!S_ISDIR(st.st_mode)) {
			snprintf(key, sizeof(key), "%s.%s", phase, base);
			print_stat_file(key, o.stats[i]);
			continue;
		}
		dir = opendir(o.stats[i]);
		if (!dir)
			continue;
		n = 0;
		while ((de = readdir(dir)) && n < 256) {
			if (de->d_name[0] == '.')
				continue;
			names[n] = strdup(de->d_name);
			if (!names[n])
				die("strdup");
			n++;
		}
		closedir(dir);
		qsort(names, n, sizeof(names[0]), cmp_str);
		for (j = 0; j < n; j++) {
			snprintf(path, sizeof(path), "%s/%s", o.stats[i], names[j]);
			snprintf(key, sizeof(key), "%s.%s.%s", phase, base, names[j]);
			if (!stat(path, &st) && S_ISREG(st.st_mode) &&
			    (st.st_mode & 0444))
				print_stat_file(key, path);
			free(names[j]);
		}
	}
}

static void print_cram(const char *phase)
{
	static const char * const names[] = {
		"logical_bytes", "physical_bytes", "peak_physical_bytes",
		"ratio", "demotions", "promotions", "fenced_writes",
		"throttled", "reclaim_runs", "reclaimed_pages",
		"pressure_events", "budget_bytes", "high_watermark_bytes",
		"low_watermark_bytes", "fence",
	};
	char path[256], buf[64];
	unsigned int i;

	if (o.expect)
		print_expected(phase);
	print_stats(phase);
	if (o.quiet || access(CRAM_SYSFS, F_OK))
		return;
	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		snprintf(path, sizeof(path), CRAM_SYSFS "/%s", names[i]);
		if (spm_read_file(path, buf, sizeof(buf)) >= 0)
			printf("%s.cram.%s=%s\n", phase, names[i], buf);
	}
}

static void join_cgroup(void)
{
	char path[512], pid[32];

	if (mkdir(o.cgroup, 0755) && errno != EEXIST)
		die(o.cgroup);
	snprintf(path, sizeof(path), "%s/cgroup.procs", o.cgroup);
	snprintf(pid, sizeof(pid), "%d", getpid());
	errno = -spm_write_file(path, pid);
	if (errno)
		die(path);
}

static long long node_free_kb(int nid)
{
	return spm_node_meminfo(nid, "MemFree");
}

static void bind_to_node(void *p, size_t len, int nid)
{
	unsigned long mask = 1UL << nid;

	if (spm_mbind(p, len, MPOL_BIND, &mask, MAXNODES, 0))
		die("mbind");
}

static void apply_pressure(const char *phase)
{
	char buf[64], path[512];
	int rc = 0;

	if (!strcmp(o.pressure, "memcg")) {
		snprintf(path, sizeof(path), "%s/memory.reclaim", o.cgroup);
		snprintf(buf, sizeof(buf), "%lu", o.mb << 20);
		rc = spm_write_file(path, buf);
	} else if (!strcmp(o.pressure, "hog")) {
		long long kb = node_free_kb(o.node);
		size_t len = ((size_t)(kb > 0 ? kb : 0) << 10) +
			     ((o.hog_mb ? o.hog_mb : o.mb / 2) << 20);
		char *hog = mmap(NULL, len, PROT_READ | PROT_WRITE,
				 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		size_t off;

		if (hog == MAP_FAILED)
			die("mmap hog");
		bind_to_node(hog, len, o.node);
		for (off = 0; off < len; off += PAGE)
			hog[off] = 1;
		munmap(hog, len);
		printf("%s.hog_bytes=%zu\n", phase, len);
	}
	printf("%s.pressure=%s\n", phase, o.pressure);
	printf("%s.pressure_rc=%s\n", phase, rc ? strerror(-rc) : "ok");
}

/* Recompute every page's checksum; returns how many differ. */
static unsigned long verify(void)
{
	unsigned long i, bad = 0;

	for (i = 0; i < npages; i++)
		bad += page_sum(data + i * PAGE) != sums[i];
	return bad;
}

/* Random bytes of a page the write phase wrote (-W). */
static unsigned int written_k(void)
{
	if (!strcmp(o.write_kind, "zero"))
		return 0;
	return strcmp(o.write_kind, "same") ? PAGE : o.rand_bytes;
}

static void write_round(unsigned int round)
{
	unsigned long i, n = 0, before = 0, after = 0, sysram = 0, k;
	unsigned long step = 100 / (o.write_pct ? o.write_pct : 100);
	unsigned char *was = calloc(npages, 1);
	long counts[MAXNODES + 1];
	struct rusage r0, r1;
	uint64_t t0, t1;
	char phase[32];

	if (!was)
		die("calloc");
	if (o.write_pct > 100 || !step)
		step = 1;
	snprintf(phase, sizeof(phase), "write%u", round);
	query_nodes(counts);
	for (i = round % step; i < npages; i += step)
		was[i] = 1 + (status[i] == o.target);

	t0 = now_ns();
	getrusage(RUSAGE_SELF, &r0);
	for (i = 0; i < npages; i++) {
		char *p = data + i * PAGE;
		uint64_t seed = o.seed ^ ((round + 1ULL) << 40) ^ i;

		if (!was[i])
			continue;
		if (!strcmp(o.write_kind, "zero"))
			memset(p, 0, PAGE);
		else
			fill_page(p, strcmp(o.write_kind, "same") ?
				  PAGE : o.rand_bytes, seed);
		if (page_k)
			page_k[i] = written_k();
		sums[i] = page_sum(p);
	}
	getrusage(RUSAGE_SELF, &r1);
	t1 = now_ns();

	query_nodes(counts);
	for (i = 0; i < npages; i++) {
		if (!was[i])
			continue;
		n++;
		if (was[i] != 2)
			continue;
		before++;
		if (status[i] == o.target)
			after++;
		else if (status[i] >= 0 && !node_is_spm(status[i]))
			sysram++;
	}
	k = verify();
	printf("%s.pages=%lu\n", phase, n);
	printf("%s.on_target_before=%lu\n", phase, before);
	printf("%s.still_on_target=%lu\n", phase, after);
	printf("%s.moved_to_sysram=%lu\n", phase, sysram);
	printf("%s.minflt=%ld\n", phase, r1.ru_minflt - r0.ru_minflt);
	if (o.expect) {
		printf("%s.majflt=%ld\n", phase, r1.ru_majflt - r0.ru_majflt);
		printf("%s.ns=%llu\n", phase, (unsigned long long)(t1 - t0));
	}
	printf("%s.checksum_bad=%lu\n", phase, k);
	free(was);
}

/*
 * Wait for SIGUSR1 (the caller changes something meanwhile, e.g. unloads
 * the service), then check the data, rewrite every page in place and check
 * it again.  Returns the number of bad checksums.
 */
static unsigned long pause_and_rewrite(void)
{
	unsigned long i, bad, bad2;
	struct rusage r0, r1;
	sigset_t set;
	int sig;

	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	printf("paused=%d\n", getpid());
	fflush(stdout);
	sigwait(&set, &sig);

	bad = verify();
	printf("resume.checksum_bad=%lu\n", bad);
	print_nodes("resume");
	getrusage(RUSAGE_SELF, &r0);
	for (i = 0; i < npages; i++) {
		char *p = data + i * PAGE;

		fill_page(p, o.rand_bytes, o.seed ^ (7ULL << 48) ^ i);
		if (page_k)
			page_k[i] = o.rand_bytes;
		sums[i] = page_sum(p);
	}
	getrusage(RUSAGE_SELF, &r1);
	bad2 = verify();
	printf("rewrite.minflt=%ld\n", r1.ru_minflt - r0.ru_minflt);
	printf("rewrite.checksum_bad=%lu\n", bad2);
	print_nodes("rewrite");
	print_cram("rewrite");
	return bad + bad2;
}

int main(int argc, char **argv)
{
	unsigned long i, bad, expected;
	long counts[MAXNODES + 1];
	struct rusage r0, r1;
	unsigned int round;
	uint64_t t0, t1;
	char phase[32];
	int c;

	while ((c = getopt(argc, argv, "m:k:n:t:p:g:H:w:W:i:RPqEs:h")) != -1) {
		switch (c) {
		case 'm':
			o.mb = strtoul(optarg, NULL, 0);
			break;
		case 'k':
			o.rand_bytes = strtoul(optarg, NULL, 0);
			break;
		case 'n':
			o.node = atoi(optarg);
			break;
		case 't':
			o.target = atoi(optarg);
			break;
		case 'p':
			o.pressure = optarg;
			break;
		case 'g':
			o.cgroup = optarg;
			break;
		case 'H':
			o.hog_mb = strtoul(optarg, NULL, 0);
			break;
		case 'w':
			o.write_pct = strtoul(optarg, NULL, 0);
			break;
		case 'W':
			o.write_kind = optarg;
			break;
		case 'i':
			o.rounds = strtoul(optarg, NULL, 0);
			break;
		case 'R':
			o.rescan = 1;
			break;
		case 'P':
			o.pause = 1;
			break;
		case 'q':
			o.quiet = 1;
			break;
		case 'E':
			o.expect = 1;
			break;
		case 's':
			if (o.nr_stats == MAX_STATS)
				usage();
			o.stats[o.nr_stats++] = optarg;
			break;
		default:
			usage();
		}
	}
	if (!o.mb || o.rand_bytes > PAGE || o.node < 0 || o.node >= MAXNODES ||
	    o.target < 0 || o.target >= MAXNODES || o.write_pct > 100 ||
	    (strcmp(o.pressure, "memcg") && strcmp(o.pressure, "hog") &&
	     strcmp(o.pressure, "none")) ||
	    (strcmp(o.write_kind, "random") && strcmp(o.write_kind, "same") &&
	     strcmp(o.write_kind, "zero")))
		usage();
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (o.pause) {
		sigset_t set;

		sigemptyset(&set);
		sigaddset(&set, SIGUSR1);
		sigprocmask(SIG_BLOCK, &set, NULL);
	}

	if (!strcmp(o.pressure, "memcg"))
		join_cgroup();

	npages = (o.mb << 20) / PAGE;
	sums = calloc(npages, sizeof(*sums));
	status = calloc(npages, sizeof(*status));
	if (o.expect)
		page_k = calloc(npages, sizeof(*page_k));
	if (!sums || !status || (o.expect && !page_k))
		die("calloc");
	data = mmap(NULL, npages * PAGE, PROT_READ | PROT_WRITE,
		    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (data == MAP_FAILED)
		die("mmap");
	/* Small pages only: the service and the checks work per 4 KiB. */
	madvise(data, npages * PAGE, MADV_NOHUGEPAGE);
	bind_to_node(data, npages * PAGE, o.node);

	expected = expected_page_bytes(o.rand_bytes);
	printf("pages=%lu\n", npages);
	printf("random_bytes_per_page=%u\n", o.rand_bytes);
	printf("expected_page_bytes=%lu\n", expected);
	printf("expected_ratio=%lu.%03lu\n", PAGE * 1000 / expected / 1000,
	       PAGE * 1000 / expected % 1000);

	for (i = 0; i < npages; i++) {
		fill_page(data + i * PAGE, o.rand_bytes, o.seed ^ i);
		if (page_k)
			page_k[i] = o.rand_bytes;
		sums[i] = page_sum(data + i * PAGE);
	}
	print_nodes("fill");
	print_cram("fill");

	apply_pressure("demote");
	print_nodes("demote");
	print_cram("demote");

	/* Read everything back: demoted pages are mapped, no fault expected. */
	query_nodes(counts);
	t0 = now_ns();
	getrusage(RUSAGE_SELF, &r0);
	bad = verify();
	getrusage(RUSAGE_SELF, &r1);
	t1 = now_ns();
	printf("read.target_before=%ld\n", counts[o.target]);
	printf("read.checksum_bad=%lu\n", bad);
	printf("read.minflt=%ld\n", r1.ru_minflt - r0.ru_minflt);
	printf("read.majflt=%ld\n", r1.ru_majflt - r0.ru_majflt);
	if (o.expect) {
		printf("read.not_present_before=%ld\n", counts[MAXNODES]);
		printf("read.ns=%llu\n", (unsigned long long)(t1 - t0));
	}
	print_nodes("read");

	for (round = 0; o.write_pct && round < o.rounds; round++) {
		write_round(round);
		snprintf(phase, sizeof(phase), "write%u", round);
		print_cram(phase);
		if (round + 1 < o.rounds || o.rounds > 1) {
			snprintf(phase, sizeof(phase), "redemote%u", round);
			apply_pressure(phase);
			print_nodes(phase);
			print_cram(phase);
		}
	}

	if (o.rescan) {
		int rc = spm_write_file(CRAM_SYSFS "/rescan", "1");

		printf("rescan.rc=%s\n", rc ? strerror(-rc) : "ok");
		print_nodes("rescan");
		print_cram("rescan");
	}

	bad = verify();
	printf("final.checksum_bad=%lu\n", bad);
	print_nodes("final");
	print_cram("final");
	if (o.pause)
		bad += pause_and_rewrite();
	return bad ? 1 : 0;
}
