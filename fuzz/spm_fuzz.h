/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Helpers shared by the fuzz programs in fuzz/ (guest side; make fuzz).
 *
 *   struct fuzz_rng, fuzz_rng_seed(), fuzz_next(), fuzz_below(), fuzz_chance()
 *		a small per-thread pseudo-random generator (splitmix64), so a
 *		run is reproducible from its seed as far as scheduling allows
 *   fuzz_now()	monotonic seconds
 *   fuzz_errname(err)
 *		"EINVAL" for EINVAL ("E123" for a number glibc does not name)
 *   fuzz_fnv64(h, p, len)
 *		FNV-1a 64, the checksum spm_accel's engine computes
 *   fuzz_nodelist(buf, size, mask)
 *		a node mask as the kernel prints it ("0-2,4")
 *
 * Header-only (static functions), like tests/lib/spm.h which the programs
 * use too.
 */
#ifndef SPM_FUZZ_H
#define SPM_FUZZ_H

#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

struct fuzz_rng {
	uint64_t state;
};

static inline uint64_t fuzz_next(struct fuzz_rng *r)
{
	uint64_t z = (r->state += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

/* A generator for stream @stream of the run seeded with @seed. */
static inline void fuzz_rng_seed(struct fuzz_rng *r, uint64_t seed,
				 uint64_t stream)
{
	r->state = seed ^ (stream * 0xd1b54a32d192ed03ULL);
	fuzz_next(r);
}

/* A number in [0, n); 0 when n is 0. */
static inline uint64_t fuzz_below(struct fuzz_rng *r, uint64_t n)
{
	return n ? fuzz_next(r) % n : 0;
}

/* True with a probability of pct percent. */
static inline bool fuzz_chance(struct fuzz_rng *r, unsigned int pct)
{
	return fuzz_below(r, 100) < pct;
}

static inline double fuzz_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static inline const char *fuzz_errname(int err)
{
	static __thread char other[16];
	const char *name = err ? strerrorname_np(err) : "0";

	if (name)
		return name;
	snprintf(other, sizeof(other), "E%d", err);
	return other;
}

#define FUZZ_FNV64_OFFSET	0xcbf29ce484222325ULL
#define FUZZ_FNV64_PRIME	0x100000001b3ULL

static inline uint64_t fuzz_fnv64(uint64_t h, const void *p, size_t len)
{
	const unsigned char *c = p;
	size_t i;

	for (i = 0; i < len; i++) {
		h ^= c[i];
		h *= FUZZ_FNV64_PRIME;
	}
	return h;
}

/* Print the nodes of @mask (nodes below 64) as "0-2,4"; returns buf. */
static inline char *fuzz_nodelist(char *buf, size_t size, unsigned long long mask)
{
	size_t off = 0;
	int n = 0, end;

	buf[0] = '\0';
	while (n < 64) {
		if (!(mask & (1ULL << n))) {
			n++;
			continue;
		}
		end = n;
		while (end + 1 < 64 && (mask & (1ULL << (end + 1))))
			end++;
		if (end == n)
			off += snprintf(buf + off, off < size ? size - off : 0,
					"%s%d", off ? "," : "", n);
		else
			off += snprintf(buf + off, off < size ? size - off : 0,
					"%s%d-%d", off ? "," : "", n, end);
		n = end + 1;
	}
	return buf;
}

#endif /* SPM_FUZZ_H */
