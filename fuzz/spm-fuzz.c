// SPDX-License-Identifier: GPL-2.0
/*
 * spm-fuzz: fuzz the user interfaces of SPM nodes (guest side, make fuzz).
 *
 *   spm-fuzz files [-t SECONDS] [-s SEED] [-j THREADS] [-c CGROUP]...
 *   spm-fuzz ioctl [-t SECONDS] [-s SEED] [-j THREADS] [-n NID] [-u 0|1]
 *		    [-d DEVICE]
 *
 * files: writes random and boundary strings, node lists, huge numbers and
 * empty writes, from good and from bad buffers, to every file of
 * /sys/devices/system/node/node<N>/spm/, to node<N>/compact of those
 * nodes, has_spm_memory, the dax spm_node attributes, and cpuset.mems,
 * cpuset.mems.sysram and cpuset.mems.effective of each cgroup v2 folder
 * given with -c; now and then it makes a cgroup of its own, writes its
 * cpuset.mems and removes it.  Reads run between the writes.  What the
 * documentation fixes is checked after each write, under a lock per node
 * or cgroup:
 *   - allow_user of an unowned node takes exactly what kstrtobool()
 *     accepts; its caps hold user and migration exactly when it reads 1;
 *     allow_user of an owned node never takes a write nor changes;
 *   - owner and has_spm_memory never change, nor the caps of an owned
 *     node, nor the other caps of an unowned one; read-only files take no
 *     write;
 *   - reclaim and compact fail (EPERM) on a node without the service;
 *   - cpuset.mems takes a list of possible nodes naming a SysRAM node (or
 *     an empty one) and refuses a list of SPM nodes only;
 *     cpuset.mems.effective is cpuset.mems within the parent's effective
 *     mems, or the parent's when that holds no SysRAM node;
 *     cpuset.mems.sysram is its SysRAM part, never empty;
 *   - a refused write changes nothing.
 *
 * ioctl: opens /dev/spm_accel several times (files shared by the threads,
 * closed and reopened at random, plus one private file per thread) and
 * runs random and nearby ioctl command numbers (size, direction, number
 * and type bits changed) with random and garbage argument structures:
 * offsets and lengths at and across the limits, unaligned and
 * overflowing, user addresses of its own anonymous memory, of the device
 * mappings and beyond TASK_SIZE, and argument pointers that are NULL,
 * kernel addresses, non-canonical, read-only, PROT_NONE, straddling a
 * PROT_NONE page or inside a device mapping.  Between the ioctls it maps,
 * unmaps, remaps, mprotects and madvises device mappings, touches them
 * (SIGBUS where the device owns the page), mirrors anonymous memory
 * (some of it bound to the device's node), unmaps and migrates mirrored
 * memory and forks children that write to it.  Checked:
 *   - a 0xA5 command the driver does not have fails with ENOTTY;
 *   - INFO reports the node (-n) and user flag (-u);
 *   - a checked sequence on the thread's private file: TO_DEVICE, a CPU
 *     access then raises SIGBUS, FILL, CHECKSUM equal to the CPU's FNV-1a
 *     of the pattern with every page on the device's node, TO_CPU, and the
 *     CPU reads the pattern; CHECKSUM of a mirror equals the CPU's
 *     checksum of the same memory;
 *   - MAP_PRIVATE mappings of the device are refused;
 *   - when every file is closed, the device holds no page (INFO).
 *
 * Output: one summary line ("spm-fuzz files: writes=N ..." or "spm-fuzz
 * ioctl: ioctls=N ..."), then "# " lines with the errno counts of each
 * file or command.  A broken rule prints "VIOLATION: ..." (the first 20)
 * and makes the exit status 1; 2 is a usage or setup error.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <glob.h>
#include <libgen.h>
#include <limits.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "spm.h"
#include "spm_fuzz.h"
#include "spm_accel_uapi.h"

#define ARRAY_SIZE(a)	(sizeof(a) / sizeof((a)[0]))

#define MAX_THREADS	8
#define MAX_TARGETS	64
#define MAX_NODES	64
#define MAX_CGROUPS	4
#define PAYLOAD_MAX	16384
#define NR_ERRNO	134		/* errno buckets; the last: any other */
#define MAX_REPORTS	20

static double deadline;
static uint64_t seed;
static int nr_threads = 2;
static unsigned long violations;
static long ps;

static void __attribute__((format(printf, 1, 2))) violation(const char *fmt, ...)
{
	unsigned long n = __atomic_add_fetch(&violations, 1, __ATOMIC_RELAXED);
	char msg[768];
	va_list ap;

	if (n > MAX_REPORTS)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	printf("VIOLATION: %s\n", msg);
	fflush(stdout);
}

/* Calls and their outcome: successes and failures by errno. */
struct counts {
	unsigned long calls;
	unsigned long ok;
	unsigned long err[NR_ERRNO + 1];
};

static void count(struct counts *c, int err)
{
	__atomic_add_fetch(&c->calls, 1, __ATOMIC_RELAXED);
	if (!err)
		__atomic_add_fetch(&c->ok, 1, __ATOMIC_RELAXED);
	else
		__atomic_add_fetch(&c->err[err > 0 && err < NR_ERRNO ? err : NR_ERRNO],
				   1, __ATOMIC_RELAXED);
}

static void print_counts(const char *name, const char *what,
			 const struct counts *c)
{
	char line[2048];
	size_t off;
	int e;

	if (!c->calls)
		return;
	off = snprintf(line, sizeof(line), "# %s: %lu %s, %lu ok", name,
		       c->calls, what, c->ok);
	for (e = 1; e <= NR_ERRNO && off < sizeof(line); e++) {
		if (c->err[e])
			off += snprintf(line + off, sizeof(line) - off, ", %s %lu",
					e == NR_ERRNO ? "other" : fuzz_errname(e),
					c->err[e]);
	}
	puts(line);
}

/* A payload as C text for a message: at most 40 bytes, escaped. */
static const char *shown(const char *buf, size_t len)
{
	static __thread char out[200];
	size_t i, off = 0;

	for (i = 0; i < len && i < 40; i++) {
		unsigned char c = buf[i];

		if (c >= 0x20 && c < 0x7f && c != '\\' && c != '"')
			out[off++] = c;
		else
			off += snprintf(out + off, sizeof(out) - off, "\\x%02x", c);
	}
	if (len > 40)
		off += snprintf(out + off, sizeof(out) - off, "...(%zu bytes)", len);
	out[off] = '\0';
	return out;
}

/* A read-write area of @rw pages followed by one PROT_NONE page. */
static char *guarded_area(int rw)
{
	char *p = mmap(NULL, (rw + 1) * ps, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED) {
		perror("spm-fuzz: mmap");
		exit(2);
	}
	if (mprotect(p + rw * ps, ps, PROT_NONE)) {
		perror("spm-fuzz: mprotect");
		exit(2);
	}
	return p;
}

/* ---------------------------------------------------------------------
 * files: sysfs and cgroup files.
 */

enum kind {
	K_ALLOW_USER,
	K_RECLAIM,
	K_OWNER,
	K_CAPS,
	K_SPM_OTHER,
	K_COMPACT,
	K_HAS_SPM,
	K_DAX,
	K_CG_MEMS,
	K_CG_SYSRAM,
	K_CG_EFFECTIVE,
};

static const char * const cap_names[] = {
	"user", "reclaim", "compaction", "migration", "demotion",
	"write_fence", "longterm_pin",
};

#define CAP_USER	(1L << 0)
#define CAP_RECLAIM	(1L << 1)
#define CAP_COMPACTION	(1L << 2)
#define CAP_MIGRATION	(1L << 3)
#define CAPS_ALLOW_USER	(CAP_USER | CAP_MIGRATION)

struct node {
	int nid;
	bool owned;
	char owner[64];
	long caps;		/* at the start; without user, migration if unowned */
	pthread_mutex_t lock;
};

#define DIR_MAX		256	/* a cgroup folder; its files fit in PATH_MAX */

struct cgroup {
	char dir[DIR_MAX];
	pthread_mutex_t lock;
};

struct target {
	char path[PATH_MAX];
	char name[80];
	enum kind kind;
	struct node *node;
	struct cgroup *cg;
	unsigned int weight;
	char initial[256];	/* what a file that may not change reads */
	struct counts w;
	struct counts r;
};

static struct target targets[MAX_TARGETS];
static int nr_targets;
static unsigned int total_weight;
static struct node nodes[MAX_NODES];
static int nr_nodes;
static struct cgroup cgroups[MAX_CGROUPS];
static int nr_cgroups;
static unsigned long long possible_mask, mem_mask, spm_mask, sysram_mask;
static char cg_root[DIR_MAX];
static struct counts churn_mkdir, churn_write;
static unsigned long checks;

/* Caps as a mask; -1 for a word that is no capability. */
static long parse_caps(const char *s)
{
	char buf[256], *tok, *save;
	long mask = 0;
	size_t i;

	snprintf(buf, sizeof(buf), "%s", s);
	for (tok = strtok_r(buf, " \n", &save); tok;
	     tok = strtok_r(NULL, " \n", &save)) {
		if (!strcmp(tok, "none"))
			continue;
		for (i = 0; i < ARRAY_SIZE(cap_names); i++)
			if (!strcmp(tok, cap_names[i]))
				break;
		if (i == ARRAY_SIZE(cap_names))
			return -1;
		mask |= 1L << i;
	}
	return mask;
}

static long read_caps(const struct node *n)
{
	char path[PATH_MAX], buf[256];

	snprintf(path, sizeof(path), SPM_NODE_SYSFS "/node%d/spm/caps", n->nid);
	if (spm_read_file(path, buf, sizeof(buf)) < 0)
		return -2;
	return parse_caps(buf);
}

/* A node list file as a mask; -1 when unreadable or not a list. */
static long long read_mask(const char *path)
{
	char buf[512];

	if (spm_read_file(path, buf, sizeof(buf)) < 0)
		return -1;
	return spm_nodelist_parse(buf);
}

static struct target *add_target(const char *path, const char *name,
				 enum kind kind, unsigned int weight)
{
	struct target *t;

	if (nr_targets == MAX_TARGETS) {
		fprintf(stderr, "spm-fuzz: more than %d files\n", MAX_TARGETS);
		exit(2);
	}
	t = &targets[nr_targets++];
	snprintf(t->path, sizeof(t->path), "%s", path);
	snprintf(t->name, sizeof(t->name), "%s", name);
	t->kind = kind;
	t->weight = weight;
	total_weight += weight;
	if (kind == K_OWNER || kind == K_HAS_SPM || kind == K_DAX ||
	    kind == K_CAPS)
		spm_read_file(path, t->initial, sizeof(t->initial));
	return t;
}

static void add_node(const char *spmdir)
{
	char path[PATH_MAX], name[80], buf[256];
	struct dirent *de;
	struct node *n;
	struct target *t;
	DIR *d;
	int nid;

	if (sscanf(spmdir, SPM_NODE_SYSFS "/node%d/spm", &nid) != 1 ||
	    nr_nodes == MAX_NODES || nid < 0 || nid >= 64)
		return;
	n = &nodes[nr_nodes++];
	n->nid = nid;
	pthread_mutex_init(&n->lock, NULL);
	snprintf(path, sizeof(path), "%s/owner", spmdir);
	spm_read_file(path, n->owner, sizeof(n->owner));
	n->owned = strcmp(n->owner, "none") != 0;
	snprintf(path, sizeof(path), "%s/caps", spmdir);
	spm_read_file(path, buf, sizeof(buf));
	n->caps = parse_caps(buf);
	if (n->caps < 0) {
		fprintf(stderr, "spm-fuzz: %s: unknown capability in \"%s\"\n",
			path, buf);
		exit(2);
	}
	if (!n->owned)
		n->caps &= ~CAPS_ALLOW_USER;
	spm_mask |= 1ULL << nid;

	d = opendir(spmdir);
	if (!d)
		return;
	while ((de = readdir(d))) {
		enum kind kind = K_SPM_OTHER;
		unsigned int weight = 1;

		if (de->d_name[0] == '.')
			continue;
		if (!strcmp(de->d_name, "allow_user")) {
			kind = K_ALLOW_USER;
			weight = 8;
		} else if (!strcmp(de->d_name, "reclaim")) {
			kind = K_RECLAIM;
			weight = 3;
		} else if (!strcmp(de->d_name, "owner")) {
			kind = K_OWNER;
		} else if (!strcmp(de->d_name, "caps")) {
			kind = K_CAPS;
		}
		snprintf(path, sizeof(path), "%s/%s", spmdir, de->d_name);
		snprintf(name, sizeof(name), "node%d/spm/%.40s", nid, de->d_name);
		t = add_target(path, name, kind, weight);
		t->node = n;
	}
	closedir(d);
	snprintf(path, sizeof(path), SPM_NODE_SYSFS "/node%d/compact", nid);
	snprintf(name, sizeof(name), "node%d/compact", nid);
	if (access(path, F_OK) == 0) {
		t = add_target(path, name, K_COMPACT, 1);
		t->node = n;
	}
}

static void add_cgroup(const char *dir)
{
	static const struct {
		const char *file;
		enum kind kind;
		unsigned int weight;
	} files[] = {
		{ "cpuset.mems", K_CG_MEMS, 8 },
		{ "cpuset.mems.sysram", K_CG_SYSRAM, 2 },
		{ "cpuset.mems.effective", K_CG_EFFECTIVE, 1 },
	};
	char path[PATH_MAX], name[80];
	struct cgroup *cg;
	struct target *t;
	size_t i;

	if (strlen(dir) >= DIR_MAX - 32) {
		fprintf(stderr, "spm-fuzz: %s: path too long\n", dir);
		exit(2);
	}
	if (nr_cgroups == MAX_CGROUPS) {
		fprintf(stderr, "spm-fuzz: at most %d cgroups\n", MAX_CGROUPS);
		exit(2);
	}
	cg = &cgroups[nr_cgroups++];
	snprintf(cg->dir, sizeof(cg->dir), "%s", dir);
	pthread_mutex_init(&cg->lock, NULL);
	for (i = 0; i < ARRAY_SIZE(files); i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, files[i].file);
		if (access(path, F_OK)) {
			fprintf(stderr, "spm-fuzz: %s missing\n", path);
			exit(2);
		}
		snprintf(name, sizeof(name), "%s/%s", basename(cg->dir),
			 files[i].file);
		t = add_target(path, name, files[i].kind, files[i].weight);
		t->cg = cg;
	}
}

static void files_setup(char **cg_dirs, int nr_cg)
{
	glob_t g;
	size_t i;
	int c;

	possible_mask = spm_sysfs_nodemask("possible");
	mem_mask = spm_sysfs_nodemask("has_memory");
	if ((long long)possible_mask < 0 || (long long)mem_mask < 0) {
		fprintf(stderr, "spm-fuzz: cannot read the node masks\n");
		exit(2);
	}
	if (!glob(SPM_NODE_SYSFS "/node*/spm", 0, NULL, &g)) {
		for (i = 0; i < g.gl_pathc; i++)
			add_node(g.gl_pathv[i]);
		globfree(&g);
	}
	if (!nr_nodes) {
		fprintf(stderr, "spm-fuzz: no node has an spm/ folder\n");
		exit(2);
	}
	sysram_mask = mem_mask & ~spm_mask;
	add_target(SPM_NODE_SYSFS "/has_spm_memory", "has_spm_memory", K_HAS_SPM, 1);
	if (!glob("/sys/bus/dax/devices/dax*/spm_node", 0, NULL, &g)) {
		for (i = 0; i < g.gl_pathc; i++) {
			char name[80];

			snprintf(name, sizeof(name), "%s",
				 g.gl_pathv[i] + strlen("/sys/bus/dax/devices/"));
			add_target(g.gl_pathv[i], name, K_DAX, 1);
		}
		globfree(&g);
	}
	for (c = 0; c < nr_cg; c++)
		add_cgroup(cg_dirs[c]);
	if (nr_cg) {
		char tmp[DIR_MAX];

		snprintf(tmp, sizeof(tmp), "%s", cg_dirs[0]);
		snprintf(cg_root, sizeof(cg_root), "%s", dirname(tmp));
	}
}

/* What the kernel's kstrtobool() makes of a string: 1, 0, or -1 (EINVAL). */
static int kstrtobool_model(const char *s, size_t len)
{
	char c0 = len > 0 ? s[0] : '\0', c1 = len > 1 ? s[1] : '\0';

	switch (c0) {
	case 'y': case 'Y': case 't': case 'T': case '1':
		return 1;
	case 'n': case 'N': case 'f': case 'F': case '0':
		return 0;
	case 'o': case 'O':
		if (c1 == 'n' || c1 == 'N')
			return 1;
		if (c1 == 'f' || c1 == 'F')
			return 0;
		break;
	}
	return -1;
}

struct payload {
	char buf[PAYLOAD_MAX + 1];
	size_t len;
	bool plain_list;		/* a plain node list: mask holds its nodes */
	unsigned long long mask;
};

static const char * const boundary[] = {
	"", "\n", " ", "0", "1", "0\n", "1\n", "-1", "-0", "+1", "2", "10",
	"y", "n", "Y", "N", "yes", "no", "on", "off", "oN", "oF", "o", "t",
	"f", "true", "false", " 1", "1 ", "\t1", "01", "0x1", "0x0", "0b1",
	"1\n1", "4294967295", "4294967296", "18446744073709551615",
	"18446744073709551616", "9223372036854775807", "9223372036854775808",
	"-9223372036854775808", "99999999999999999999999999999",
	"0xffffffffffffffff", "0x10000000000000000", "262144", "262145",
	"1e3", "1.5", "0-1", "1-0", "0-3", "0-4", "0-63", "0-64", "0-1023",
	"0-1024", "0-65535", "2", "3", "4", "2-4", "2,3,4", "0,2", "1,3",
	"0-4:2", "0-4:2/3", "0-4:0/1", "0-4:5/4", "0-", "-", ",", "0,", ",0",
	"0,,1", "0--1", "0-1-2", "all", "none", "0 1", "1023", "1024",
	"2147483647", "0-2147483647", "4294967295-0", "user", "reclaim",
	"+user", "-user", "user reclaim", "\xff", "%s%s%n", "\n\n\n",
};

/* A node number: mostly small, sometimes beyond every limit. */
static long long pick_node(struct fuzz_rng *r)
{
	switch (fuzz_below(r, 20)) {
	case 0:
		return -(long long)fuzz_below(r, 3) - 1;
	case 1:
		return fuzz_below(r, 1100);
	case 2:
		return (long long)(fuzz_next(r) & 0xffffffffULL);
	case 3: case 4: case 5: case 6:
		return fuzz_below(r, 64);
	default:
		return fuzz_below(r, 6);
	}
}

static void put(struct payload *p, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (p->len >= PAYLOAD_MAX)
		return;
	va_start(ap, fmt);
	n = vsnprintf(p->buf + p->len, PAYLOAD_MAX + 1 - p->len, fmt, ap);
	va_end(ap);
	if (n > 0)
		p->len = p->len + n > PAYLOAD_MAX ? PAYLOAD_MAX : p->len + n;
}

/* A plain list of possible nodes (sometimes one more), mask known. */
static void gen_plain_list(struct fuzz_rng *r, struct payload *p)
{
	unsigned long long mask = 0;
	char buf[256];
	int n;

	for (n = 0; n < 64; n++)
		if ((possible_mask & (1ULL << n)) && fuzz_chance(r, 40))
			mask |= 1ULL << n;
	if (fuzz_chance(r, 8))
		mask |= 1ULL << fuzz_below(r, 64);
	if (fuzz_chance(r, 50)) {
		put(p, "%s", fuzz_nodelist(buf, sizeof(buf), mask));
	} else {
		for (n = 0; n < 64; n++)
			if (mask & (1ULL << n))
				put(p, "%s%d", p->len ? "," : "", n);
	}
	/* "\n" clears the mems; a write of 0 bytes is no write at all */
	if (fuzz_chance(r, 50) || !p->len)
		put(p, "\n");
	p->plain_list = true;
	p->mask = mask;
}

static void gen_list(struct fuzz_rng *r, struct payload *p)
{
	static const char * const seps[] = { ",", ",", ",", " ", ";", ",,", "-", ":" };
	int i, items = 1 + fuzz_below(r, 6);

	for (i = 0; i < items; i++) {
		if (i)
			put(p, "%s", seps[fuzz_below(r, ARRAY_SIZE(seps))]);
		switch (fuzz_below(r, 5)) {
		case 0:
			put(p, "%lld-%lld", pick_node(r), pick_node(r));
			break;
		case 1:
			put(p, "%lld-%lld:%lld/%lld", pick_node(r), pick_node(r),
			    pick_node(r), pick_node(r));
			break;
		default:
			put(p, "%lld", pick_node(r));
			break;
		}
	}
	if (fuzz_chance(r, 40))
		put(p, "\n");
}

static void gen_number(struct fuzz_rng *r, struct payload *p)
{
	static const char * const fmts[] = {
		"%llu", "%llu", "%llu", "-%llu", "0x%llx", "0%llo", "+%llu",
		" %llu", "%llu ", "%llu\n", "%llu\n", "%lluk",
	};
	unsigned long long v;

	switch (fuzz_below(r, 8)) {
	case 0:
		v = fuzz_below(r, 16);
		break;
	case 1:
		v = 1ULL << fuzz_below(r, 64);
		if (fuzz_chance(r, 60))
			v += fuzz_chance(r, 50) ? 1 : -1;
		break;
	case 2:
		v = fuzz_next(r);
		break;
	case 3:
		v = fuzz_below(r, 1 << 20);
		break;
	case 4:
		v = ~0ULL - fuzz_below(r, 4);
		break;
	default:
		v = fuzz_below(r, 300000);
		break;
	}
	put(p, fmts[fuzz_below(r, ARRAY_SIZE(fmts))], v);
}

static void gen_long(struct fuzz_rng *r, struct payload *p)
{
	static const size_t lens[] = { 4095, 4096, 4097, 8191, 8192, 12288 };
	static const char * const units[] = { "1", "0,", "0-1,", "9", "A", " " };
	const char *u = units[fuzz_below(r, ARRAY_SIZE(units))];
	size_t len = fuzz_chance(r, 70) ? lens[fuzz_below(r, ARRAY_SIZE(lens))] :
		     1 + fuzz_below(r, PAYLOAD_MAX);
	size_t ul = strlen(u), i;

	for (i = 0; i < len; i++)
		p->buf[i] = fuzz_chance(r, 1) ? '0' + fuzz_below(r, 10) : u[i % ul];
	p->len = len;
}

/* What a write of this kind of file would take. */
static void gen_valid(struct fuzz_rng *r, const struct target *t,
		      struct payload *p)
{
	static const char * const bools[] = {
		"0", "1", "y", "n", "Y", "N", "on", "off", "t", "f", "true",
		"false", "1\n", "0\n", "yes", "no",
	};

	switch (t->kind) {
	case K_ALLOW_USER:
		put(p, "%s", bools[fuzz_below(r, ARRAY_SIZE(bools))]);
		break;
	case K_RECLAIM:
		put(p, "%llu%s", (unsigned long long)fuzz_below(r, 2048),
		    fuzz_chance(r, 50) ? "\n" : "");
		break;
	case K_CG_MEMS:
	case K_CG_SYSRAM:
	case K_CG_EFFECTIVE:
		gen_plain_list(r, p);
		break;
	default:
		put(p, "%s", fuzz_chance(r, 50) ? "1" : "0");
		break;
	}
}

static void gen_payload(struct fuzz_rng *r, const struct target *t,
			struct payload *p)
{
	unsigned int c = fuzz_below(r, 100);
	size_t i, n;

	p->len = 0;
	p->plain_list = false;
	if (c < 30) {
		gen_valid(r, t, p);
	} else if (c < 48) {
		const char *b = boundary[fuzz_below(r, ARRAY_SIZE(boundary))];

		p->len = strlen(b);
		memcpy(p->buf, b, p->len);
	} else if (c < 62) {
		gen_list(r, p);
	} else if (c < 76) {
		gen_number(r, p);
	} else if (c < 84) {
		n = 1 + fuzz_below(r, 64);
		for (i = 0; i < n; i++)
			p->buf[i] = 0x20 + fuzz_below(r, 0x5f);
		p->len = n;
	} else if (c < 90) {
		n = 1 + fuzz_below(r, 64);
		for (i = 0; i < n; i++)
			p->buf[i] = fuzz_next(r);
		p->len = n;
	} else if (c < 96) {
		gen_long(r, p);
	}
	/* else: an empty write */
	p->buf[p->len] = '\0';
}

enum wmode {
	W_PLAIN,	/* one write() */
	W_PWRITE,	/* one pwrite() at an offset */
	W_TWICE,	/* two writes on one open file */
	W_BADBUF,	/* a buffer the kernel cannot read */
	W_STRADDLE,	/* a buffer that runs into a PROT_NONE page */
};

struct fctx {
	struct fuzz_rng rng;
	struct payload p;
	char *guard;	/* 4 read-write pages, then a PROT_NONE page */
	int id;
};

static const void *bad_buffer(struct fctx *x)
{
	switch (fuzz_below(&x->rng, 5)) {
	case 0:
		return NULL;
	case 1:
		return (void *)1;
	case 2:
		return (void *)0xffffffff81000000UL;
	case 3:
		return (void *)0x0000800000000000UL;
	default:
		return x->guard + 4 * ps;
	}
}

/* Write the payload to t in mode m; 0 or errno. */
static int file_write(struct fctx *x, struct target *t, enum wmode m)
{
	const char *buf = x->p.buf;
	size_t len = x->p.len;
	off_t off;
	int fd, err = 0;
	ssize_t n;

	fd = open(t->path, fuzz_chance(&x->rng, 10) ? O_RDWR : O_WRONLY);
	if (fd < 0)
		return errno;
	switch (m) {
	case W_PWRITE:
		off = fuzz_chance(&x->rng, 50) ? (off_t)fuzz_below(&x->rng, 8192) :
		      (off_t)(fuzz_next(&x->rng) >> 2);
		n = pwrite(fd, buf, len, off);
		break;
	case W_BADBUF:
		n = write(fd, bad_buffer(x), len ? len : 1 + fuzz_below(&x->rng, 64));
		break;
	case W_STRADDLE:
		if (len < 2) {
			n = write(fd, x->guard + 4 * ps - 1, 2);
			break;
		}
		if (len > 4 * ps)
			len = 4 * ps;
		{
			/* sysfs takes one page: the bad byte must be in it */
			size_t most = len - 1 < (size_t)ps - 1 ? len - 1 : ps - 1;
			size_t inside = 1 + fuzz_below(&x->rng, most);
			char *p = x->guard + 4 * ps - inside;

			memcpy(p, buf, inside);
			n = write(fd, p, len);
		}
		break;
	case W_TWICE:
		n = write(fd, buf, len);
		if (n >= 0) {
			gen_payload(&x->rng, t, &x->p);
			n = write(fd, x->p.buf, x->p.len);
		}
		break;
	default:
		n = write(fd, buf, len);
		break;
	}
	if (n < 0)
		err = errno;
	close(fd);
	return err;
}

/* Read t (whole, or in small pieces); 0 or errno. */
static int file_read(struct fctx *x, struct target *t)
{
	char buf[8192];
	size_t chunk = fuzz_chance(&x->rng, 20) ? 1 + fuzz_below(&x->rng, 8) :
		       sizeof(buf);
	int fd = open(t->path, O_RDONLY), err = 0;
	ssize_t n;

	if (fd < 0)
		return errno;
	if (fuzz_chance(&x->rng, 10)) {
		n = pread(fd, buf, chunk, fuzz_below(&x->rng, 64));
	} else {
		do
			n = read(fd, buf, chunk);
		while (n > 0);
	}
	if (n < 0)
		err = errno;
	close(fd);
	return err;
}

static int read_bool(const char *path)
{
	char buf[32];

	if (spm_read_file(path, buf, sizeof(buf)) < 0)
		return -1;
	if (!strcmp(buf, "0"))
		return 0;
	if (!strcmp(buf, "1"))
		return 1;
	return -2;
}

static void check_allow_user(struct fctx *x, struct target *t, bool modelled,
			     bool twice, int err, int before)
{
	struct node *n = t->node;
	int after = read_bool(t->path), want;
	long caps = read_caps(n);

	__atomic_add_fetch(&checks, 1, __ATOMIC_RELAXED);
	if (after < 0 || caps < 0) {
		violation("%s: reads \"%s\" after a write, caps %ld", t->name,
			  after == -1 ? "(unreadable)" : "(not 0 or 1)", caps);
		return;
	}
	if (n->owned) {
		if (!err && x->p.len)
			violation("%s: node owned by %s, yet a write of \"%s\" succeeded",
				  t->name, n->owner, shown(x->p.buf, x->p.len));
		if (after != before)
			violation("%s: node owned by %s, yet it changed from %d to %d",
				  t->name, n->owner, before, after);
		if (caps != n->caps)
			violation("node%d/spm/caps: owned node's caps changed (0x%lx, was 0x%lx)",
				  n->nid, caps, n->caps);
		return;
	}
	if (modelled && x->p.len) {
		want = kstrtobool_model(x->p.buf, x->p.len);
		if (want >= 0 && err)
			violation("%s: \"%s\" is a boolean but the write failed: %s",
				  t->name, shown(x->p.buf, x->p.len), fuzz_errname(err));
		if (want < 0 && !err)
			violation("%s: \"%s\" is no boolean but the write succeeded",
				  t->name, shown(x->p.buf, x->p.len));
		if (want >= 0 && !err && after != want)
			violation("%s: wrote \"%s\", reads %d", t->name,
				  shown(x->p.buf, x->p.len), after);
	}
	if (err && after != before && !twice)
		violation("%s: a refused write (%s) changed it from %d to %d",
			  t->name, fuzz_errname(err), before, after);
	if ((caps & ~CAPS_ALLOW_USER) != n->caps)
		violation("node%d/spm/caps: changed beyond user and migration (0x%lx, was 0x%lx)",
			  n->nid, caps, n->caps);
	if (((caps & CAP_USER) != 0) != after ||
	    ((caps & CAP_MIGRATION) != 0) != after)
		violation("node%d: allow_user reads %d but caps are 0x%lx",
			  n->nid, after, caps);
}

/* What cpuset.mems.effective of a child of @parent_eff with @mems holds. */
static unsigned long long effective_model(unsigned long long mems,
					  unsigned long long parent_eff)
{
	unsigned long long eff = mems & parent_eff;

	if (!eff || !(eff & sysram_mask))
		eff = parent_eff;
	return eff;
}

/* The rules of one cgroup's files; before: cpuset.mems before a write. */
static void check_cgroup(struct fctx *x, const char *dir, const char *name,
			 enum kind kind, bool modelled, bool twice, int err,
			 long long before)
{
	char path[PATH_MAX], parent[PATH_MAX];
	long long mems, eff, sys, peff;

	__atomic_add_fetch(&checks, 1, __ATOMIC_RELAXED);
	snprintf(path, sizeof(path), "%s/cpuset.mems", dir);
	mems = read_mask(path);
	snprintf(path, sizeof(path), "%s/cpuset.mems.effective", dir);
	eff = read_mask(path);
	snprintf(path, sizeof(path), "%s/cpuset.mems.sysram", dir);
	sys = read_mask(path);
	snprintf(parent, sizeof(parent), "%s", dir);
	snprintf(path, sizeof(path), "%s/cpuset.mems.effective", dirname(parent));
	peff = read_mask(path);
	if (mems < 0 || eff < 0 || sys < 0 || peff < 0) {
		violation("%s: a cpuset file is unreadable or no node list (%lld %lld %lld %lld)",
			  name, mems, eff, sys, peff);
		return;
	}
	if (kind == K_CG_MEMS && modelled && x->p.plain_list) {
		unsigned long long m = x->p.mask;
		/*
		 * The kernel asks for a node that is not SPM: a possible node
		 * without memory will do (cgroup v2 takes those; the effective
		 * mems then fall back to the parent's), except beside an SPM
		 * node, which needs a SysRAM node with memory (patch 30).
		 */
		bool ok = !(m & ~possible_mask) &&
			  (!m || ((m & spm_mask) ? (m & sysram_mask) != 0 :
				  (m & possible_mask & ~spm_mask) != 0));

		/* An empty list is refused (ENOSPC) while tasks are in it. */
		if (ok && err && m)
			violation("%s: \"%s\" refused (%s)", name,
				  shown(x->p.buf, x->p.len), fuzz_errname(err));
		if (!ok && !err)
			violation("%s: \"%s\" accepted (%s)", name,
				  shown(x->p.buf, x->p.len),
				  m & ~possible_mask ? "an impossible node" :
				  "SPM nodes only");
		if (!err && (unsigned long long)mems != m)
			violation("%s: wrote \"%s\", reads 0x%llx", name,
				  shown(x->p.buf, x->p.len), mems);
	}
	if (kind != K_CG_MEMS && !err && x->p.len)
		violation("%s: a write of the read-only file succeeded", name);
	if (err && before >= 0 && mems != before && !twice)
		violation("%s: a refused write (%s) changed cpuset.mems from 0x%llx to 0x%llx",
			  name, fuzz_errname(err), before, mems);
	if ((unsigned long long)eff != effective_model(mems, peff))
		violation("%s: cpuset.mems 0x%llx, parent's effective 0x%llx: effective is 0x%llx, not 0x%llx",
			  name, mems, peff, eff, effective_model(mems, peff));
	if (!(eff & sysram_mask))
		violation("%s: cpuset.mems.effective 0x%llx holds no SysRAM node",
			  name, eff);
	if ((unsigned long long)sys != (eff & sysram_mask) || !sys)
		violation("%s: cpuset.mems.sysram 0x%llx, effective 0x%llx",
			  name, sys, eff);
}

static void check_target(struct fctx *x, struct target *t, enum wmode m,
			 int err, long long before)
{
	bool modelled = m == W_PLAIN;
	char buf[256];
	long caps;

	if ((m == W_BADBUF || m == W_STRADDLE) && !err)
		violation("%s: a write from a bad buffer succeeded", t->name);
	switch (t->kind) {
	case K_ALLOW_USER:
		check_allow_user(x, t, modelled, m == W_TWICE, err, (int)before);
		break;
	case K_RECLAIM:
	case K_COMPACT:
		caps = read_caps(t->node);
		if (caps < 0)
			break;
		if (t->kind == K_RECLAIM && !(caps & CAP_RECLAIM) &&
		    (!err || err == EAGAIN) && x->p.len)
			violation("%s: node without reclaim, a write gave %s",
				  t->name, fuzz_errname(err));
		if (t->kind == K_COMPACT && !(caps & CAP_COMPACTION) && !err &&
		    x->p.len)
			violation("%s: node without compaction, a write succeeded",
				  t->name);
		break;
	case K_OWNER:
	case K_HAS_SPM:
	case K_DAX:
	case K_CAPS:
		if (!err && x->p.len && t->kind != K_DAX)
			violation("%s: a write of the read-only file succeeded",
				  t->name);
		if (t->kind == K_CAPS && !t->node->owned)
			break;	/* changes with allow_user; checked there */
		if (spm_read_file(t->path, buf, sizeof(buf)) >= 0 &&
		    strcmp(buf, t->initial))
			violation("%s: reads \"%s\", was \"%s\"", t->name, buf,
				  t->initial);
		break;
	case K_CG_MEMS:
	case K_CG_SYSRAM:
	case K_CG_EFFECTIVE:
		check_cgroup(x, t->cg->dir, t->name, t->kind, modelled,
			     m == W_TWICE, err, before);
		break;
	default:
		break;
	}
}

static void do_file_write(struct fctx *x, struct target *t)
{
	unsigned int c = fuzz_below(&x->rng, 100);
	enum wmode m = c < 78 ? W_PLAIN : c < 84 ? W_PWRITE : c < 90 ? W_TWICE :
		       c < 95 ? W_BADBUF : W_STRADDLE;
	pthread_mutex_t *lock = t->node ? &t->node->lock :
				t->cg ? &t->cg->lock : NULL;
	char path[PATH_MAX];
	long long before = 0;
	int err;

	gen_payload(&x->rng, t, &x->p);
	/* Compaction under TCG is slow: a few per run are enough. */
	if (t->kind == K_COMPACT && !fuzz_chance(&x->rng, 5))
		return;
	if (lock)
		pthread_mutex_lock(lock);
	if (t->kind == K_ALLOW_USER) {
		before = read_bool(t->path);
	} else if (t->cg) {
		snprintf(path, sizeof(path), "%s/cpuset.mems", t->cg->dir);
		before = read_mask(path);
	}
	err = file_write(x, t, m);
	count(&t->w, err);
	check_target(x, t, m, err, before);
	if (lock)
		pthread_mutex_unlock(lock);
}

/* Make a cgroup, write its cpuset.mems a few times, check it, remove it. */
static void cgroup_churn(struct fctx *x)
{
	char dir[DIR_MAX + 32], path[PATH_MAX];
	int i, err, fd;
	long long before;

	if (!cg_root[0])
		return;
	snprintf(dir, sizeof(dir), "%s/spm-fuzz-tmp%d", cg_root, x->id);
	err = mkdir(dir, 0755) ? errno : 0;
	count(&churn_mkdir, err);
	if (err && err != EEXIST)
		return;
	snprintf(path, sizeof(path), "%s/cpuset.mems", dir);
	for (i = 0; i < 3; i++) {
		x->p.len = 0;
		gen_plain_list(&x->rng, &x->p);
		x->p.buf[x->p.len] = '\0';
		before = read_mask(path);
		fd = open(path, O_WRONLY);
		err = fd < 0 ? errno : 0;
		if (fd >= 0) {
			if (write(fd, x->p.buf, x->p.len) < 0)
				err = errno;
			close(fd);
		}
		count(&churn_write, err);
		check_cgroup(x, dir, "spm-fuzz-tmp/cpuset.mems", K_CG_MEMS,
			     true, false, err, before);
	}
	if (rmdir(dir))
		violation("%s: rmdir of an empty cgroup failed: %s", dir,
			  fuzz_errname(errno));
}

static void *files_thread(void *arg)
{
	struct fctx *x = arg;
	unsigned int w, c;
	int i;

	while (fuzz_now() < deadline) {
		c = fuzz_below(&x->rng, 100);
		if (c < 1) {
			cgroup_churn(x);
			continue;
		}
		w = fuzz_below(&x->rng, total_weight);
		for (i = 0; i < nr_targets - 1 && w >= targets[i].weight; i++)
			w -= targets[i].weight;
		if (c < 72)
			do_file_write(x, &targets[i]);
		else
			count(&targets[i].r, file_read(x, &targets[i]));
	}
	return NULL;
}

static int files_main(char **cg_dirs, int nr_cg)
{
	pthread_t tids[MAX_THREADS];
	struct fctx *ctx;
	unsigned long writes = 0, ok = 0, reads = 0;
	char buf[256];
	int i;

	files_setup(cg_dirs, nr_cg);
	ctx = calloc(nr_threads, sizeof(*ctx));
	if (!ctx)
		return 2;
	for (i = 0; i < nr_threads; i++) {
		ctx[i].id = i;
		fuzz_rng_seed(&ctx[i].rng, seed, 100 + i);
		ctx[i].guard = guarded_area(4);
		pthread_create(&tids[i], NULL, files_thread, &ctx[i]);
	}
	for (i = 0; i < nr_threads; i++)
		pthread_join(tids[i], NULL);

	for (i = 0; i < nr_targets; i++) {
		writes += targets[i].w.calls;
		ok += targets[i].w.ok;
		reads += targets[i].r.calls;
	}
	printf("spm-fuzz files: seed=%llu threads=%d files=%d writes=%lu accepted=%lu reads=%lu cgroups-made=%lu checks=%lu violations=%lu\n",
	       (unsigned long long)seed, nr_threads, nr_targets, writes, ok,
	       reads, churn_mkdir.ok, checks, violations);
	printf("# SPM nodes %s", fuzz_nodelist(buf, sizeof(buf), spm_mask));
	printf(", SysRAM nodes %s", fuzz_nodelist(buf, sizeof(buf), sysram_mask));
	for (i = 0; i < nr_nodes; i++)
		printf(", node %d %s", nodes[i].nid,
		       nodes[i].owned ? nodes[i].owner : "unowned");
	printf("\n");
	for (i = 0; i < nr_targets; i++) {
		print_counts(targets[i].name, "writes", &targets[i].w);
		print_counts(targets[i].name, "reads", &targets[i].r);
	}
	print_counts("spm-fuzz-tmp (mkdir)", "mkdirs", &churn_mkdir);
	print_counts("spm-fuzz-tmp/cpuset.mems", "writes", &churn_write);
	return violations ? 1 : 0;
}

/* ---------------------------------------------------------------------
 * ioctl: /dev/spm_accel.
 */

#define NR_SLOTS	4	/* files shared by the threads */
#define NR_MAPS		8	/* device mappings per thread */
#define NR_ANON		4	/* anonymous regions per thread */
#define MAP_MAX_PAGES	64
#define BIG_BYTES	(16ULL << 20)	/* a range beyond this fills the node */

static const char *device = SPM_ACCEL_DEVICE;
static int dev_nid = -1;
static int dev_user = -1;
static int slots[NR_SLOTS];

static const unsigned int real_cmds[] = {
	SPM_ACCEL_IOC_INFO, SPM_ACCEL_IOC_TO_DEVICE, SPM_ACCEL_IOC_TO_CPU,
	SPM_ACCEL_IOC_EXEC, SPM_ACCEL_IOC_MIRROR, SPM_ACCEL_IOC_UNMIRROR,
	SPM_ACCEL_IOC_RECLAIM, SPM_ACCEL_IOC_HANDOVER, SPM_ACCEL_IOC_LIMIT,
};

static const char * const cmd_names[] = {
	"INFO", "TO_DEVICE", "TO_CPU", "EXEC", "MIRROR", "UNMIRROR",
	"RECLAIM", "HANDOVER", "LIMIT", "other 0xA5 command", "other type",
};

#define CMD_OTHER_A5	9
#define CMD_FOREIGN	10
static struct counts cmd_counts[ARRAY_SIZE(cmd_names)];

static unsigned long nr_sigbus, nr_sigsegv, nr_maps, nr_map_refused;
static unsigned long nr_mirrors, nr_checked, nr_forks, nr_node_full;
static unsigned long nr_reopen;

struct imap {
	char *addr;
	size_t len;
	unsigned long pgoff;
};

struct ianon {
	char *addr;
	size_t len;
	int mirror_fd;		/* the file it is mirrored on, or -1 */
	bool on_own;		/* mirrored on the thread's own file */
	bool bound;		/* mbind()ed to the device's node */
};

#define RESERVE_PAGES	(2 * MAP_MAX_PAGES)

struct ictx {
	struct fuzz_rng rng;
	int id;
	char *scratch;		/* 2 read-write pages, then a PROT_NONE page */
	char *reserve;		/* PROT_NONE: where mremap() moves mappings to */
	char *rodata;		/* a read-only page of garbage */
	int32_t *nodes;		/* room for the nodes of the largest command */
	int own_fd;		/* this thread's own file: checked sequences */
	char *own_map;
	size_t own_len;
	struct imap maps[NR_MAPS];
	struct ianon anon[NR_ANON];
};

/* volatile: the stores around an access must not be optimised away */
static __thread sigjmp_buf *volatile fault_jb;

static void on_fault(int sig, siginfo_t *si, void *uc)
{
	char msg[96];
	int len;

	if (fault_jb)
		siglongjmp(*fault_jb, sig);
	/* A fault outside an armed access is a bug of ours: die of it. */
	len = snprintf(msg, sizeof(msg), "spm-fuzz: unexpected %s (code %d) at %p\n",
		       sig == SIGBUS ? "SIGBUS" : "SIGSEGV", si->si_code,
		       si->si_addr);
	if (write(2, msg, len) < 0)
		len = 0;
	/* Dying anyway: name the mapping (not async-signal-safe). */
	{
		unsigned long a = (unsigned long)si->si_addr, lo, hi;
		char line[512];
		FILE *f = fopen("/proc/self/maps", "r");

		while (f && fgets(line, sizeof(line), f))
			if (sscanf(line, "%lx-%lx", &lo, &hi) == 2 &&
			    a >= lo && a < hi)
				fprintf(stderr, "spm-fuzz: in %s", line);
		if (f)
			fclose(f);
	}
	signal(sig, SIG_DFL);
	raise(sig);
}

/* Touch a byte at p; 0, or the signal the access raised. */
static int touch(volatile char *p, bool write)
{
	sigjmp_buf jb;
	int sig;

	sig = sigsetjmp(jb, 1);
	if (!sig) {
		fault_jb = &jb;
		if (write)
			*p = *p + 1;
		else
			(void)*p;
	}
	fault_jb = NULL;
	if (sig == SIGBUS)
		__atomic_add_fetch(&nr_sigbus, 1, __ATOMIC_RELAXED);
	else if (sig == SIGSEGV)
		__atomic_add_fetch(&nr_sigsegv, 1, __ATOMIC_RELAXED);
	return sig;
}

/* A file descriptor of the device: a shared one or the thread's own. */
static int pick_fd(struct ictx *x)
{
	if (fuzz_chance(&x->rng, 25) && x->own_fd >= 0)
		return x->own_fd;
	return __atomic_load_n(&slots[fuzz_below(&x->rng, NR_SLOTS)],
			       __ATOMIC_RELAXED);
}

static void reopen_slot(int i)
{
	int fd = __atomic_exchange_n(&slots[i], -1, __ATOMIC_RELAXED);
	int empty = -1;

	if (fd >= 0)
		close(fd);
	fd = open(device, O_RDWR);
	/* Another thread may have refilled the slot meanwhile: keep one. */
	if (fd >= 0 && !__atomic_compare_exchange_n(&slots[i], &empty, fd, false,
						     __ATOMIC_RELAXED,
						     __ATOMIC_RELAXED))
		close(fd);
	__atomic_add_fetch(&nr_reopen, 1, __ATOMIC_RELAXED);
}

/*
 * Close every file of the device this process still has and unmap every
 * mapping of it: what the run's own bookkeeping missed.  Returns how many
 * there were (0 unless spm-fuzz lost track of one).
 */
static int sweep_device(void)
{
	char path[64], target[PATH_MAX], line[512];
	unsigned long lo, hi;
	int n = 0, fd;
	FILE *f;
	DIR *d;
	struct dirent *de;
	ssize_t len;

	f = fopen("/proc/self/maps", "r");
	while (f && fgets(line, sizeof(line), f)) {
		if (strstr(line, device) && sscanf(line, "%lx-%lx", &lo, &hi) == 2) {
			munmap((void *)lo, hi - lo);
			n++;
		}
	}
	if (f)
		fclose(f);
	d = opendir("/proc/self/fd");
	while (d && (de = readdir(d))) {
		fd = atoi(de->d_name);
		if (de->d_name[0] == '.' || fd == dirfd(d))
			continue;
		snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
		len = readlink(path, target, sizeof(target) - 1);
		if (len <= 0)
			continue;
		target[len] = '\0';
		if (!strcmp(target, device)) {
			close(fd);
			n++;
		}
	}
	if (d)
		closedir(d);
	return n;
}

/* Open the thread's own file and map it. */
static void own_file_open(struct ictx *x)
{
	x->own_fd = open(device, O_RDWR);
	x->own_len = MAP_MAX_PAGES * ps;
	x->own_map = mmap(NULL, x->own_len, PROT_READ | PROT_WRITE, MAP_SHARED,
			  x->own_fd, 0);
	if (x->own_fd < 0 || x->own_map == MAP_FAILED) {
		fprintf(stderr, "spm-fuzz: %s: %m\n", device);
		exit(2);
	}
}

/* Close the thread's own file (its pages go back) and open a new one. */
static void own_file_reset(struct ictx *x)
{
	int i;

	for (i = 0; i < NR_ANON; i++) {
		if (x->anon[i].on_own) {
			x->anon[i].mirror_fd = -1;
			x->anon[i].on_own = false;
		}
	}
	munmap(x->own_map, x->own_len);
	close(x->own_fd);
	own_file_open(x);
	__atomic_add_fetch(&nr_reopen, 1, __ATOMIC_RELAXED);
}

static int cmd_index(unsigned int cmd)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(real_cmds); i++)
		if (cmd == real_cmds[i])
			return i;
	return _IOC_TYPE(cmd) == SPM_ACCEL_IOC_MAGIC ? CMD_OTHER_A5 : CMD_FOREIGN;
}

static unsigned int gen_cmd(struct fuzz_rng *r)
{
	unsigned int c = real_cmds[fuzz_below(r, ARRAY_SIZE(real_cmds))];

	switch (fuzz_below(r, 16)) {
	case 0:		/* another size */
		return (c & ~(_IOC_SIZEMASK << _IOC_SIZESHIFT)) |
		       ((unsigned int)fuzz_below(r, _IOC_SIZEMASK + 1) << _IOC_SIZESHIFT);
	case 1:		/* another direction */
		return (c & ~(_IOC_DIRMASK << _IOC_DIRSHIFT)) |
		       ((unsigned int)fuzz_below(r, 4) << _IOC_DIRSHIFT);
	case 2:		/* a number next to the real ones */
		return _IOC(fuzz_below(r, 4), SPM_ACCEL_IOC_MAGIC,
			    fuzz_below(r, 32), fuzz_below(r, 256));
	case 3:		/* another type */
		return _IOC(fuzz_below(r, 4), fuzz_below(r, 256),
			    fuzz_below(r, 16), fuzz_below(r, 256));
	case 4:
		return fuzz_next(r);
	default:
		return c;
	}
}

/* A byte offset in the device file. */
static uint64_t gen_offset(struct ictx *x)
{
	struct fuzz_rng *r = &x->rng;

	switch (fuzz_below(r, 14)) {
	case 0:
		return 0;
	case 1:
		return SPM_ACCEL_MAX_BYTES - ps;
	case 2:
		return SPM_ACCEL_MAX_BYTES;
	case 3:
		return fuzz_below(r, 1 << 20);
	case 4:
		return ~0ULL - ps + 1;
	case 5:
		return fuzz_next(r);
	case 6:
		return 1ULL << fuzz_below(r, 64);
	default:
		return fuzz_below(r, 320) * ps;
	}
}

/* A length; one that would fill the node only rarely. */
static uint64_t gen_length(struct ictx *x)
{
	struct fuzz_rng *r = &x->rng;

	switch (fuzz_below(r, 16)) {
	case 0:
		return 0;
	case 1:
		return fuzz_below(r, 1 << 16);
	case 2:
		return fuzz_chance(r, 10) ? SPM_ACCEL_MAX_BYTES :
		       (1 + fuzz_below(r, 256)) * ps;
	case 3:
		return SPM_ACCEL_MAX_BYTES + ps;
	case 4:
		return fuzz_chance(r, 50) ? ~0ULL : ~0ULL - ps + 1;
	case 5:
		return 1ULL << fuzz_below(r, 64);
	case 6: case 7:
		return (1 + fuzz_below(r, MAP_MAX_PAGES)) * ps;
	default:
		return (1 + fuzz_below(r, 16)) * ps;
	}
}

/* A user address and length: our memory, the device's, or none. */
static void gen_va(struct ictx *x, __u64 *start, __u64 *len)
{
	struct fuzz_rng *r = &x->rng;
	struct ianon *a = &x->anon[fuzz_below(r, NR_ANON)];
	struct imap *m = &x->maps[fuzz_below(r, NR_MAPS)];

	*len = gen_length(x);
	switch (fuzz_below(r, 12)) {
	case 0: case 1: case 2: case 3:
		if (!a->addr)
			break;
		*start = (uint64_t)a->addr;
		if (fuzz_chance(r, 60))
			*len = a->len;
		else if (fuzz_chance(r, 50))
			*start += fuzz_below(r, a->len / ps) * ps;
		return;
	case 4: case 5:
		if (!m->addr)
			break;
		*start = (uint64_t)m->addr;
		if (fuzz_chance(r, 60))
			*len = m->len;
		return;
	case 6:
		*start = (uint64_t)x->scratch;
		return;
	case 7:
		*start = 0x7ffffffff000ULL - fuzz_below(r, 2) * ps;
		return;
	case 8:
		*start = 0xffff888000000000ULL;
		return;
	case 9:
		*start = fuzz_next(r) & ~(uint64_t)(ps - 1);
		return;
	default:
		break;
	}
	*start = fuzz_below(r, 4) * ps;
}

/* The address of the nodes array for n pages, or a bad one. */
static uint64_t gen_nodes_ptr(struct ictx *x)
{
	struct fuzz_rng *r = &x->rng;

	switch (fuzz_below(r, 10)) {
	case 0: case 1: case 2: case 3:
		return 0;
	case 4:
		return (uint64_t)x->rodata;
	case 5:
		return (uint64_t)(x->scratch + 2 * ps - 4 * fuzz_below(r, 8));
	case 6:
		return 0xffffffff81000000ULL;
	case 7:
		return fuzz_next(r);
	default:
		return (uint64_t)x->nodes;
	}
}

/* Whether [start, start + len) lies in one memory area of this thread. */
static bool own_range(struct ictx *x, uint64_t start, uint64_t len)
{
	uint64_t end = start + len;
	int i;

	if (end < start)
		return false;
	for (i = 0; i < NR_ANON; i++) {
		uint64_t a = (uint64_t)x->anon[i].addr;

		if (a && start >= a && end <= a + x->anon[i].len)
			return true;
	}
	for (i = 0; i < NR_MAPS; i++) {
		uint64_t a = (uint64_t)x->maps[i].addr;

		if (a && start >= a && end <= a + x->maps[i].len)
			return true;
	}
	return false;
}

/*
 * A range of the device file: half the time a few pages of one of the
 * thread's mappings, else any offset and length.  True when it may fill
 * the node.
 */
static bool gen_dev_range(struct ictx *x, __u64 *start, __u64 *length)
{
	struct fuzz_rng *r = &x->rng;
	struct imap *m = &x->maps[fuzz_below(r, NR_MAPS)];

	if (m->addr && fuzz_chance(r, 50)) {
		*start = m->pgoff * ps + fuzz_below(r, m->len / ps) * ps;
		*length = (1 + fuzz_below(r, 8)) * ps;
	} else {
		*start = gen_offset(x);
		*length = gen_length(x);
	}
	return *length > BIG_BYTES;
}

/*
 * The argument of an ioctl: an object for cmd's number, at a good or a bad
 * address.  *big is set when a valid range may fill the node.
 */
static unsigned long gen_arg(struct ictx *x, unsigned int cmd, bool *big)
{
	struct fuzz_rng *r = &x->rng;
	union {
		struct spm_accel_range range;
		struct spm_accel_op op;
		struct spm_accel_info info;
		struct spm_accel_handover ho;
		struct spm_accel_limit lim;
		uint64_t nr;
		unsigned char raw[256];
	} obj;
	static const uint64_t reclaim_nrs[] = {
		0, 1, 32, 512, 65536, 262144, 262145, ~0ULL,
	};
	size_t size = sizeof(obj), off;
	struct imap *m;
	unsigned int i;

	for (i = 0; i < sizeof(obj.raw); i += 8)
		*(uint64_t *)(obj.raw + i) = fuzz_next(r);
	*big = false;
	switch (_IOC_TYPE(cmd) == SPM_ACCEL_IOC_MAGIC ? _IOC_NR(cmd) : 99) {
	case 0:
		size = sizeof(obj.info);
		break;
	case 1: case 2:
		size = sizeof(obj.range);
		*big = gen_dev_range(x, &obj.range.start, &obj.range.length);
		break;
	case 3:
		size = sizeof(obj.op);
		obj.op.cmd = fuzz_chance(r, 85) ? 1 + fuzz_below(r, 3) :
			     (uint32_t)fuzz_next(r);
		obj.op.flags = fuzz_chance(r, 45) ? SPM_ACCEL_OP_USER :
			       fuzz_chance(r, 80) ? 0 : (uint32_t)fuzz_next(r);
		m = &x->maps[fuzz_below(r, NR_MAPS)];
		if (obj.op.flags & SPM_ACCEL_OP_USER) {
			gen_va(x, &obj.op.addr, &obj.op.length);
		} else if (m->addr && fuzz_chance(r, 50)) {
			obj.op.addr = m->pgoff * ps +
				      fuzz_below(r, m->len / ps) * ps;
			obj.op.length = (1 + fuzz_below(r, 8)) * ps;
		} else {
			obj.op.addr = gen_offset(x);
			obj.op.length = gen_length(x);
		}
		obj.op.nodes_ptr = gen_nodes_ptr(x);
		/*
		 * The device writes (FILL, XOR) through a mirror into the
		 * task's memory: only where this thread's own mappings are,
		 * not into the heap or stacks a larger mirror may cover.
		 */
		if ((obj.op.flags & SPM_ACCEL_OP_USER) &&
		    (obj.op.cmd == SPM_ACCEL_CMD_FILL ||
		     obj.op.cmd == SPM_ACCEL_CMD_XOR) &&
		    !own_range(x, obj.op.addr, obj.op.length))
			obj.op.cmd = SPM_ACCEL_CMD_CHECKSUM;
		break;
	case 4: case 5:
		size = sizeof(obj.range);
		gen_va(x, &obj.range.start, &obj.range.length);
		break;
	case 6:
		size = sizeof(obj.nr);
		obj.nr = reclaim_nrs[fuzz_below(r, ARRAY_SIZE(reclaim_nrs))];
		break;
	case 7:
		size = sizeof(obj.ho);
		*big = gen_dev_range(x, &obj.ho.start, &obj.ho.length);
		obj.ho.flags = fuzz_chance(r, 80) ? fuzz_below(r, 2) :
			       (uint32_t)fuzz_next(r);
		obj.ho.reserved = fuzz_chance(r, 90) ? 0 : (uint32_t)fuzz_next(r);
		break;
	case 8:
		size = sizeof(obj.lim);
		/* Mostly reads; a set, when it comes, to a limit that lets work go on. */
		obj.lim.flags = fuzz_chance(r, 70) ? 0 :
				fuzz_chance(r, 80) ? SPM_ACCEL_LIMIT_SET :
				(uint32_t)fuzz_next(r);
		obj.lim.max_pages = fuzz_chance(r, 50) ? 0 :
				    fuzz_chance(r, 80) ? 256 + fuzz_below(r, 65536) :
				    fuzz_next(r);
		obj.lim.reserved = fuzz_chance(r, 90) ? 0 : (uint32_t)fuzz_next(r);
		break;
	default:
		size = 1 + fuzz_below(r, sizeof(obj));
		break;
	}

	switch (fuzz_below(r, 24)) {
	case 0:
		return 0;
	case 1:
		return 1;
	case 2:
		return 0xffffffff81000000UL;
	case 3:
		return 0xffff888000000000UL;
	case 4:
		return 0x8000000000000000UL;
	case 5:
		return (unsigned long)x->rodata;
	case 6:
		return (unsigned long)(x->scratch + 2 * ps);
	case 7:		/* runs into the PROT_NONE page */
		off = 2 * ps - 1 - fuzz_below(r, size > 1 ? size - 1 : 1);
		memcpy(x->scratch + off, obj.raw, 2 * ps - off);
		return (unsigned long)(x->scratch + off);
	case 8:		/* inside a device mapping: the copy faults on it */
		m = &x->maps[fuzz_below(r, NR_MAPS)];
		if (m->addr)
			return (unsigned long)(m->addr +
				fuzz_below(r, m->len / ps) * ps);
		return fuzz_next(r);
	case 9:
		return fuzz_next(r);
	default:
		off = fuzz_below(r, (2 * ps - size) / 8 + 1) * 8;
		memcpy(x->scratch + off, obj.raw, size);
		return (unsigned long)(x->scratch + off);
	}
}

static void check_info(const struct spm_accel_info *info, const char *where)
{
	if (dev_nid >= 0 && info->nid != dev_nid)
		violation("INFO (%s): node %d, the device owns node %d", where,
			  info->nid, dev_nid);
	if (dev_user >= 0 && (int)info->user != dev_user)
		violation("INFO (%s): user %u, the module has user=%d", where,
			  info->user, dev_user);
	if (info->device_pages > info->pages)
		violation("INFO (%s): %llu device-owned pages of %llu", where,
			  (unsigned long long)info->device_pages,
			  (unsigned long long)info->pages);
}

static void fuzz_ioctl(struct ictx *x)
{
	unsigned int cmd = gen_cmd(&x->rng);
	int idx = cmd_index(cmd), fd, err;
	unsigned long arg;
	bool big;
	long ret;

	arg = gen_arg(x, cmd, &big);
	fd = pick_fd(x);
	ret = ioctl(fd, cmd, arg);
	err = ret < 0 ? errno : 0;
	count(&cmd_counts[idx], err);
	if (idx == CMD_OTHER_A5 && err != ENOTTY && fd >= 0 && err != EBADF)
		violation("ioctl 0x%08x (type 0xA5, nr %u) gave %s, not ENOTTY",
			  cmd, _IOC_NR(cmd), fuzz_errname(err));
	if (cmd == SPM_ACCEL_IOC_INFO && !err &&
	    arg >= (unsigned long)x->scratch &&
	    arg + sizeof(struct spm_accel_info) <= (unsigned long)x->scratch + 2 * ps)
		check_info((struct spm_accel_info *)arg, "fuzzed");
	/* A range that may have filled the node: give its pages back now. */
	if (big && (cmd == SPM_ACCEL_IOC_TO_DEVICE ||
		    cmd == SPM_ACCEL_IOC_HANDOVER)) {
		int i;

		if (fd == x->own_fd)
			own_file_reset(x);
		for (i = 0; i < NR_SLOTS; i++)
			if (__atomic_load_n(&slots[i], __ATOMIC_RELAXED) == fd)
				reopen_slot(i);
	}
}

/* The FNV-1a of n pages whose every 64-bit word is w. */
static uint64_t pattern_fnv(uint64_t w, unsigned long n)
{
	uint64_t h = FUZZ_FNV64_OFFSET;
	unsigned long i;

	for (i = 0; i < n * ps / 8; i++)
		h = fuzz_fnv64(h, &w, 8);
	return h;
}

/*
 * On the thread's own file: hand a range to the device, fill and checksum
 * it there, give it back and read it with the CPU.
 */
static void checked_sequence(struct ictx *x)
{
	struct fuzz_rng *r = &x->rng;
	unsigned long npages = x->own_len / ps;
	unsigned long first = fuzz_below(r, npages);
	unsigned long n = 1 + fuzz_below(r, npages - first < 16 ? npages - first : 16);
	struct spm_accel_range range = { first * ps, n * ps };
	struct spm_accel_op op = { 0 };
	uint64_t word = fuzz_next(r), want;
	volatile uint64_t *w;
	unsigned long i;
	sigjmp_buf jb;
	int sig;

	if (ioctl(x->own_fd, SPM_ACCEL_IOC_TO_DEVICE, &range)) {
		/* EDQUOT: a fuzzed SPM_ACCEL_IOC_LIMIT on this file. */
		if (errno == ENOMEM || errno == ENOSPC || errno == EDQUOT) {
			__atomic_add_fetch(&nr_node_full, 1, __ATOMIC_RELAXED);
			return;
		}
		violation("TO_DEVICE of pages %lu-%lu of a %lu-page mapping: %s",
			  first, first + n - 1, npages, fuzz_errname(errno));
		return;
	}
	sig = touch(x->own_map + first * ps + fuzz_below(r, n * ps),
		    fuzz_chance(r, 50));
	if (sig != SIGBUS)
		violation("a CPU access to a device-owned page raised %s, not SIGBUS",
			  sig ? strsignal(sig) : "nothing");

	op.cmd = SPM_ACCEL_CMD_FILL;
	op.addr = range.start;
	op.length = range.length;
	op.arg = word;
	if (ioctl(x->own_fd, SPM_ACCEL_IOC_EXEC, &op)) {
		violation("EXEC FILL of device-owned pages: %s", fuzz_errname(errno));
		return;
	}
	memset(&op, 0, sizeof(op));
	op.cmd = SPM_ACCEL_CMD_CHECKSUM;
	op.addr = range.start;
	op.length = range.length;
	op.nodes_ptr = (uint64_t)x->nodes;
	if (ioctl(x->own_fd, SPM_ACCEL_IOC_EXEC, &op)) {
		violation("EXEC CHECKSUM of device-owned pages: %s",
			  fuzz_errname(errno));
		return;
	}
	want = pattern_fnv(word, n);
	if (op.result != want || op.pages != n)
		violation("CHECKSUM of %lu filled pages: 0x%llx over %llu pages, the CPU says 0x%llx",
			  n, (unsigned long long)op.result,
			  (unsigned long long)op.pages, (unsigned long long)want);
	for (i = 0; i < n; i++) {
		if (dev_nid >= 0 && x->nodes[i] != dev_nid) {
			violation("device page %lu of the file is on node %d, the device's node is %d",
				  first + i, x->nodes[i], dev_nid);
			break;
		}
	}
	if (ioctl(x->own_fd, SPM_ACCEL_IOC_TO_CPU, &range)) {
		violation("TO_CPU of device-owned pages: %s", fuzz_errname(errno));
		return;
	}
	w = (volatile uint64_t *)(x->own_map + (first + fuzz_below(r, n)) * ps);
	sig = sigsetjmp(jb, 1);
	if (!sig) {
		fault_jb = &jb;
		for (i = 0; i < ps / 8; i++) {
			if (w[i] != word) {
				fault_jb = NULL;
				violation("after TO_CPU the CPU reads 0x%llx at word %lu, the device wrote 0x%llx",
					  (unsigned long long)w[i], i,
					  (unsigned long long)word);
				break;
			}
		}
	}
	fault_jb = NULL;
	if (sig)
		violation("reading a page given back to the CPU raised %s",
			  strsignal(sig));
	__atomic_add_fetch(&nr_checked, 1, __ATOMIC_RELAXED);
}

/*
 * Unmap part of a device mapping.  Inside the reserve the range becomes
 * PROT_NONE again, so that no other mapping can land where mremap() may
 * move a device mapping to.
 */
static void discard(struct ictx *x, char *addr, size_t len)
{
	if (addr >= x->reserve && addr < x->reserve + RESERVE_PAGES * ps)
		mmap(addr, len, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED,
		     -1, 0);
	else
		munmap(addr, len);
}

static void map_churn(struct ictx *x)
{
	struct fuzz_rng *r = &x->rng;
	struct imap *m = &x->maps[fuzz_below(r, NR_MAPS)];
	size_t len;
	char *p;
	int fd;

	if (!m->addr) {
		unsigned long pgoff;

		len = (1 + fuzz_below(r, MAP_MAX_PAGES)) * ps;
		switch (fuzz_below(r, 10)) {
		case 0:
			pgoff = (SPM_ACCEL_MAX_BYTES / ps) - fuzz_below(r, 2);
			break;
		case 1:
			pgoff = fuzz_next(r) >> 20;
			break;
		default:
			pgoff = fuzz_below(r, 256);
			break;
		}
		fd = pick_fd(x);
		if (fuzz_chance(r, 5)) {
			p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE,
				 fd, pgoff * ps);
			if (p != MAP_FAILED) {
				violation("a MAP_PRIVATE mapping of the device succeeded");
				munmap(p, len);
			}
			return;
		}
		p = mmap(NULL, len, fuzz_chance(r, 10) ? PROT_READ :
			 PROT_READ | PROT_WRITE, MAP_SHARED, fd, pgoff * ps);
		if (p == MAP_FAILED) {
			__atomic_add_fetch(&nr_map_refused, 1, __ATOMIC_RELAXED);
			return;
		}
		m->addr = p;
		m->len = len;
		m->pgoff = pgoff;
		__atomic_add_fetch(&nr_maps, 1, __ATOMIC_RELAXED);
		return;
	}
	switch (fuzz_below(r, 8)) {
	case 0:		/* unmap a head part: the rest stays */
		if (m->len > (size_t)ps) {
			len = (1 + fuzz_below(r, m->len / ps - 1)) * ps;
			discard(x, m->addr, len);
			m->addr += len;
			m->len -= len;
			m->pgoff += len / ps;
			break;
		}
		/* fall through */
	case 1:
		discard(x, m->addr, m->len);
		m->addr = NULL;
		break;
	case 2:		/* grow in place: VM_DONTEXPAND refuses */
		p = mremap(m->addr, m->len, m->len + ps, 0);
		if (p != MAP_FAILED)
			m->len += ps;
		break;
	case 3:		/* move into the reserve (over what is there) */
		p = x->reserve + fuzz_below(r, RESERVE_PAGES - m->len / ps + 1) * ps;
		if (p + m->len > m->addr && m->addr + m->len > p)
			break;
		/* once: a move out of the reserve would leave a hole in it */
		if (m->addr >= x->reserve &&
		    m->addr < x->reserve + RESERVE_PAGES * ps)
			break;
		p = mremap(m->addr, m->len, m->len, MREMAP_MAYMOVE | MREMAP_FIXED, p);
		if (p != MAP_FAILED)
			m->addr = p;
		break;
	case 4:
		mprotect(m->addr, m->len, fuzz_chance(r, 50) ? PROT_READ :
			 fuzz_chance(r, 50) ? PROT_NONE : PROT_READ | PROT_WRITE);
		break;
	default: {
		static const int advice[] = {
			MADV_DONTNEED, MADV_COLD, MADV_PAGEOUT, MADV_WILLNEED,
			MADV_REMOVE, MADV_DONTFORK, MADV_DOFORK, MADV_HUGEPAGE,
		};

		madvise(m->addr, m->len, advice[fuzz_below(r, ARRAY_SIZE(advice))]);
		break;
	}
	}
}

static void touch_map(struct ictx *x)
{
	struct imap *m = &x->maps[fuzz_below(&x->rng, NR_MAPS)];

	if (m->addr)
		touch(m->addr + fuzz_below(&x->rng, m->len), fuzz_chance(&x->rng, 60));
}

/* The FNV-1a of [p, p + len), or the signal reading it raised. */
static int guarded_fnv(const char *p, size_t len, uint64_t *h)
{
	sigjmp_buf jb;
	int sig;

	sig = sigsetjmp(jb, 1);
	if (!sig) {
		fault_jb = &jb;
		*h = fuzz_fnv64(FUZZ_FNV64_OFFSET, p, len);
	}
	fault_jb = NULL;
	if (sig == SIGBUS)
		__atomic_add_fetch(&nr_sigbus, 1, __ATOMIC_RELAXED);
	return sig;
}

static void fill_anon(struct ictx *x, struct ianon *a)
{
	uint64_t v = fuzz_next(&x->rng);
	sigjmp_buf jb;
	size_t i;

	if (!sigsetjmp(jb, 1)) {
		fault_jb = &jb;
		for (i = 0; i < a->len; i += 8)
			*(volatile uint64_t *)(a->addr + i) = v + i;
	}
	fault_jb = NULL;
}

static void mirror_ops(struct ictx *x)
{
	struct fuzz_rng *r = &x->rng;
	struct ianon *a = &x->anon[fuzz_below(r, NR_ANON)];
	struct spm_accel_range range;
	struct spm_accel_op op = { 0 };
	unsigned long mask;
	uint64_t want;
	pid_t pid;
	int fd;

	if (!a->addr) {
		a->len = (1 + fuzz_below(r, MAP_MAX_PAGES)) * ps;
		a->addr = mmap(NULL, a->len, PROT_READ | PROT_WRITE,
			       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (a->addr == MAP_FAILED) {
			a->addr = NULL;
			return;
		}
		a->mirror_fd = -1;
		a->on_own = false;
		a->bound = false;
		if (dev_nid >= 0 && fuzz_chance(r, 30)) {
			mask = 1UL << dev_nid;
			a->bound = !spm_mbind(a->addr, a->len, MPOL_BIND, &mask,
					      sizeof(mask) * 8, 0);
		}
		fill_anon(x, a);
		fd = fuzz_chance(r, 50) ? x->own_fd : pick_fd(x);
		range.start = (uint64_t)a->addr;
		range.length = a->len;
		if (!ioctl(fd, SPM_ACCEL_IOC_MIRROR, &range)) {
			a->mirror_fd = fd;
			a->on_own = fd == x->own_fd;
			__atomic_add_fetch(&nr_mirrors, 1, __ATOMIC_RELAXED);
		}
		return;
	}
	switch (fuzz_below(r, 8)) {
	case 0:		/* the device's checksum of a mirror is the CPU's */
		if (!a->on_own)
			break;
		op.cmd = SPM_ACCEL_CMD_CHECKSUM;
		op.flags = SPM_ACCEL_OP_USER;
		op.addr = (uint64_t)a->addr;
		op.length = a->len;
		/* bound to a full SPM node, the CPU's faults get SIGBUS too */
		if (guarded_fnv(a->addr, a->len, &want))
			break;
		if (ioctl(x->own_fd, SPM_ACCEL_IOC_EXEC, &op)) {
			/*
			 * A full node (a bound region), an engine timeout, or
			 * the mirror is gone: a fuzzed UNMIRROR of its exact
			 * range removed it (EACCES: no mirror holds the range).
			 */
			if (errno == EACCES)
				a->on_own = false;
			else if (errno != ENOMEM && errno != EBUSY &&
				 errno != EFAULT)
				violation("EXEC CHECKSUM of a mirror of %zu bytes: %s",
					  a->len, fuzz_errname(errno));
			break;
		}
		if (op.result != want)
			violation("CHECKSUM of a mirror: 0x%llx, the CPU says 0x%llx",
				  (unsigned long long)op.result,
				  (unsigned long long)want);
		__atomic_add_fetch(&nr_checked, 1, __ATOMIC_RELAXED);
		break;
	case 1:		/* the device writes, the CPU sees it */
		if (a->mirror_fd < 0)
			break;
		op.cmd = fuzz_chance(r, 50) ? SPM_ACCEL_CMD_XOR : SPM_ACCEL_CMD_FILL;
		op.flags = SPM_ACCEL_OP_USER;
		op.addr = (uint64_t)a->addr;
		op.length = a->len;
		op.arg = fuzz_next(r);
		ioctl(a->mirror_fd, SPM_ACCEL_IOC_EXEC, &op);
		break;
	case 2:		/* migrate it: the mirror is invalidated */
		if (dev_nid < 0)
			break;
		mask = fuzz_chance(r, 50) ? 1UL << dev_nid : 1UL;
		spm_mbind(a->addr, a->len, MPOL_BIND, &mask, sizeof(mask) * 8,
			  MPOL_MF_MOVE);
		break;
	case 3:		/* a child writes to it: copy on write */
		pid = fork();
		if (pid == 0) {
			size_t i;

			for (i = 0; i < a->len; i += ps)
				a->addr[i]++;
			_exit(0);
		}
		if (pid > 0) {
			waitpid(pid, NULL, 0);
			__atomic_add_fetch(&nr_forks, 1, __ATOMIC_RELAXED);
		}
		break;
	case 4:
		madvise(a->addr, a->len, fuzz_chance(r, 50) ? MADV_DONTNEED :
			MADV_PAGEOUT);
		break;
	case 5:
		if (a->mirror_fd < 0)
			break;
		range.start = (uint64_t)a->addr;
		range.length = a->len;
		if (fuzz_chance(r, 30))
			range.length -= ps;
		if (!ioctl(a->mirror_fd, SPM_ACCEL_IOC_UNMIRROR, &range)) {
			a->mirror_fd = -1;
			a->on_own = false;
		}
		break;
	default:	/* unmap it, mirrored or not */
		munmap(a->addr, a->len);
		a->addr = NULL;
		break;
	}
}

static void ictx_init(struct ictx *x, int id)
{
	size_t i;

	x->id = id;
	fuzz_rng_seed(&x->rng, seed, 200 + id);
	x->scratch = guarded_area(2);
	x->reserve = mmap(NULL, RESERVE_PAGES * ps, PROT_NONE,
			  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	x->rodata = mmap(NULL, ps, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	/* a command of SPM_ACCEL_MAX_BYTES writes one __s32 per page here */
	x->nodes = (int32_t *)guarded_area(SPM_ACCEL_MAX_BYTES / ps *
					   sizeof(int32_t) / ps);
	if (x->rodata == MAP_FAILED || x->reserve == MAP_FAILED || !x->nodes) {
		perror("spm-fuzz: memory");
		exit(2);
	}
	for (i = 0; i < (size_t)ps; i += 8)
		*(uint64_t *)(x->rodata + i) = fuzz_next(&x->rng);
	mprotect(x->rodata, ps, PROT_READ);
	own_file_open(x);
}

static void ictx_fini(struct ictx *x)
{
	int i;

	for (i = 0; i < NR_MAPS; i++)
		if (x->maps[i].addr)
			munmap(x->maps[i].addr, x->maps[i].len);
	for (i = 0; i < NR_ANON; i++)
		if (x->anon[i].addr)
			munmap(x->anon[i].addr, x->anon[i].len);
	munmap(x->reserve, RESERVE_PAGES * ps);
	munmap(x->own_map, x->own_len);
	close(x->own_fd);
}

static void *ioctl_thread(void *arg)
{
	struct ictx *x = arg;
	struct spm_accel_info info;
	unsigned int c;
	int i;

	while (fuzz_now() < deadline) {
		c = fuzz_below(&x->rng, 100);
		if (c < 45) {
			fuzz_ioctl(x);
		} else if (c < 57) {
			checked_sequence(x);
		} else if (c < 67) {
			touch_map(x);
		} else if (c < 77) {
			map_churn(x);
		} else if (c < 88) {
			mirror_ops(x);
		} else if (c < 91) {
			i = fuzz_below(&x->rng, NR_SLOTS);
			reopen_slot(i);
		} else if (c < 96) {
			if (!ioctl(x->own_fd, SPM_ACCEL_IOC_INFO, &info))
				check_info(&info, "own file");
		} else {
			uint64_t nr = 1 + fuzz_below(&x->rng, 1024);

			ioctl(pick_fd(x), SPM_ACCEL_IOC_RECLAIM, &nr);
		}
	}
	ictx_fini(x);
	return NULL;
}

static int ioctl_main(void)
{
	pthread_t tids[MAX_THREADS];
	struct spm_accel_info info;
	struct sigaction sa = { 0 };
	unsigned long calls = 0, ok = 0;
	struct ictx *ctx;
	int fd, stray;
	size_t i;

	sa.sa_sigaction = on_fault;
	sa.sa_flags = SA_SIGINFO | SA_NODEFER;
	sigaction(SIGBUS, &sa, NULL);
	sigaction(SIGSEGV, &sa, NULL);
	for (i = 0; i < NR_SLOTS; i++) {
		slots[i] = open(device, O_RDWR);
		if (slots[i] < 0) {
			fprintf(stderr, "spm-fuzz: %s: %m\n", device);
			return 2;
		}
	}
	ctx = calloc(nr_threads, sizeof(*ctx));
	if (!ctx)
		return 2;
	for (i = 0; i < (size_t)nr_threads; i++) {
		ictx_init(&ctx[i], i);
		pthread_create(&tids[i], NULL, ioctl_thread, &ctx[i]);
	}
	for (i = 0; i < (size_t)nr_threads; i++)
		pthread_join(tids[i], NULL);
	for (i = 0; i < NR_SLOTS; i++)
		if (slots[i] >= 0)
			close(slots[i]);
	stray = sweep_device();

	/* Every file is closed: the device must hold no page. */
	fd = open(device, O_RDWR);
	if (fd < 0 || ioctl(fd, SPM_ACCEL_IOC_INFO, &info)) {
		violation("INFO after the run: %m");
	} else {
		check_info(&info, "after the run");
		if (info.dev_pages)
			violation("%llu driver-owned pages left after every file was closed",
				  (unsigned long long)info.dev_pages);
	}
	if (fd >= 0)
		close(fd);

	for (i = 0; i < ARRAY_SIZE(cmd_names); i++) {
		calls += cmd_counts[i].calls;
		ok += cmd_counts[i].ok;
	}
	printf("spm-fuzz ioctl: seed=%llu threads=%d ioctls=%lu ok=%lu checked=%lu sigbus=%lu sigsegv=%lu maps=%lu maps-refused=%lu mirrors=%lu forks=%lu reopened=%lu node-full=%lu violations=%lu\n",
	       (unsigned long long)seed, nr_threads, calls, ok, nr_checked,
	       nr_sigbus, nr_sigsegv, nr_maps, nr_map_refused, nr_mirrors,
	       nr_forks, nr_reopen, nr_node_full, violations);
	printf("# device %s, node %d, user %d; files and mappings spm-fuzz lost track of: %d; after the run: pages %llu, faults %llu, ops %llu, invalidations %llu, mirror faults %llu\n",
	       device, info.nid, info.user, stray,
	       (unsigned long long)info.dev_pages,
	       (unsigned long long)info.dev_faults,
	       (unsigned long long)info.dev_ops,
	       (unsigned long long)info.dev_invalidations,
	       (unsigned long long)info.dev_mirror_faults);
	for (i = 0; i < ARRAY_SIZE(cmd_names); i++)
		print_counts(cmd_names[i], "calls", &cmd_counts[i]);
	return violations ? 1 : 0;
}

static void usage(void)
{
	fprintf(stderr,
		"usage: spm-fuzz files [-t SECONDS] [-s SEED] [-j THREADS] [-c CGROUP]...\n"
		"       spm-fuzz ioctl [-t SECONDS] [-s SEED] [-j THREADS] [-n NID] [-u 0|1] [-d DEVICE]\n");
	exit(2);
}

int main(int argc, char **argv)
{
	char *cg_dirs[MAX_CGROUPS];
	double seconds = 60;
	int nr_cg = 0, opt;
	const char *mode;

	if (argc < 2)
		usage();
	mode = argv[1];
	seed = (uint64_t)time(NULL) ^ ((uint64_t)getpid() << 32);
	optind = 2;
	while ((opt = getopt(argc, argv, "t:s:j:c:n:u:d:")) != -1) {
		switch (opt) {
		case 't':
			seconds = atof(optarg);
			break;
		case 's':
			seed = strtoull(optarg, NULL, 0);
			break;
		case 'j':
			nr_threads = atoi(optarg);
			if (nr_threads < 1 || nr_threads > MAX_THREADS)
				usage();
			break;
		case 'c':
			if (nr_cg == MAX_CGROUPS)
				usage();
			cg_dirs[nr_cg++] = optarg;
			break;
		case 'n':
			dev_nid = atoi(optarg);
			break;
		case 'u':
			dev_user = atoi(optarg);
			break;
		case 'd':
			device = optarg;
			break;
		default:
			usage();
		}
	}
	ps = sysconf(_SC_PAGESIZE);
	setvbuf(stdout, NULL, _IOLBF, 0);
	deadline = fuzz_now() + seconds;
	if (!strcmp(mode, "files"))
		return files_main(cg_dirs, nr_cg);
	if (!strcmp(mode, "ioctl"))
		return ioctl_main();
	usage();
	return 2;
}
