// SPDX-License-Identifier: GPL-2.0
/*
 * Services racing with users of an SPM node (node 2, owned by
 * spm_test_owner with user, reclaim, compaction and migration; zram swap):
 * worker threads rewrite and check patterned buffers bound to node 2 while
 * another thread loops over nodeN/spm/reclaim, nodeN/compact and
 * move_pages() to node 0 and back.  No pattern error, no failed service
 * call (a reclaim that got fewer pages than asked is EAGAIN: allowed), and
 * reclaim and migration did real work (pages swapped out, pages moved).
 */
#include <pthread.h>
#include <sys/mman.h>
#include "kselftest_harness.h"
#include "services.h"

#define NWORKERS	3
#define BUF_LEN		(8UL << 20)
#define BUF_PAGES	(BUF_LEN / PAGE)
#define WINDOW		256
#define SECONDS		20

struct worker {
	pthread_t thread;
	char *buf;
	int id;
	uint64_t gen;		/* generation last written */
	long rounds;
	long errors;
};

static struct worker workers[NWORKERS];
static volatile int stop;

struct service_stats {
	long reclaims, partial, compactions, moves, moved;
	long errors;
	char what[128];
};

static uint64_t seed_of(const struct worker *w, uint64_t gen)
{
	return ((uint64_t)w->id << 40) ^ (gen * 0x100000001b3ULL);
}

static void *worker_fn(void *arg)
{
	struct worker *w = arg;

	while (!stop) {
		w->gen++;
		spm_fill(w->buf, BUF_LEN, seed_of(w, w->gen));
		w->errors += spm_verify(w->buf, BUF_LEN, seed_of(w, w->gen));
		w->rounds++;
	}
	return NULL;
}

static void service_error(struct service_stats *s, const char *what, long v)
{
	if (!s->errors++)
		snprintf(s->what, sizeof(s->what), "%s: %ld", what, v);
}

/* A window of a worker's buffer to node 0 and back to node 2. */
static void move_window(struct service_stats *s, unsigned int r)
{
	struct worker *w = &workers[r % NWORKERS];
	unsigned long first = (r / NWORKERS * WINDOW) % BUF_PAGES;
	void *pages[WINDOW];
	int nodes[WINDOW], status[WINDOW];
	int pass, i, to;

	for (i = 0; i < WINDOW; i++)
		pages[i] = w->buf + (first + i) * PAGE;
	for (pass = 0; pass < 2; pass++) {
		to = pass ? SPM_NID : 0;
		for (i = 0; i < WINDOW; i++)
			nodes[i] = to;
		if (spm_move_pages(0, WINDOW, pages, nodes, status, MPOL_MF_MOVE) < 0) {
			service_error(s, "move_pages errno", errno);
			return;
		}
		for (i = 0; i < WINDOW; i++) {
			if (status[i] == to)
				s->moved++;
			/* swapped out, or busy under the worker: not moved */
			else if (status[i] != -ENOENT && status[i] != -EBUSY &&
				 status[i] != -EAGAIN)
				service_error(s, "move_pages status", status[i]);
		}
	}
	s->moves++;
}

/* A window of a worker's buffer to node 2, whatever happens. */
static void move_back(struct worker *w, unsigned long first)
{
	void *pages[WINDOW];
	int nodes[WINDOW], status[WINDOW];
	int i;

	for (i = 0; i < WINDOW; i++) {
		pages[i] = w->buf + (first + i) * PAGE;
		nodes[i] = SPM_NID;
	}
	spm_move_pages(0, WINDOW, pages, nodes, status, MPOL_MF_MOVE);
}

static void *service_fn(void *arg)
{
	struct service_stats *s = arg;
	unsigned int r = 0;
	int ret;

	while (!stop) {
		switch (r % 3) {
		case 0:
			/* EAGAIN: fewer pages than asked (they are in use) */
			ret = node_reclaim(SPM_NID, 1024);
			if (ret == -EAGAIN)
				s->partial++;
			else if (ret)
				service_error(s, "reclaim", ret);
			else
				s->reclaims++;
			break;
		case 1:
			ret = node_compact(SPM_NID);
			if (ret)
				service_error(s, "compact", ret);
			else
				s->compactions++;
			break;
		default:
			move_window(s, r / 3);
			break;
		}
		r++;
	}
	return NULL;
}

FIXTURE(race) {
	int loaded;
};

FIXTURE_SETUP(race)
{
	int i;

	owner_unload();
	ASSERT_EQ(0, swap_on());
	ASSERT_EQ(0, owner_load("caps=user,reclaim,compaction,migration"));
	for (i = 0; i < NWORKERS; i++) {
		workers[i].id = i + 1;
		workers[i].buf = map_bound(BUF_LEN, SPM_NID);
		ASSERT_NE(MAP_FAILED, workers[i].buf);
	}
}

FIXTURE_TEARDOWN(race)
{
	owner_unload();
}

TEST_F_TIMEOUT(race, services_under_load_keep_data_intact, 300)
{
	struct service_stats s = { 0 };
	long long out = SPM_GET(node_vmstat(SPM_NID, "nr_vmscan_write"));
	long counts[SPM_MAXN + 1];
	pthread_t svc;
	long errors = 0, left = 0;
	int i;

	for (i = 0; i < NWORKERS; i++)
		ASSERT_EQ(0, pthread_create(&workers[i].thread, NULL, worker_fn,
					    &workers[i]));
	ASSERT_EQ(0, pthread_create(&svc, NULL, service_fn, &s));
	sleep(SECONDS);
	/* A slow (debug) kernel: let every service run a few rounds. */
	for (i = 0; i < 150 && (s.compactions < 3 || s.moves < 3); i++)
		sleep(1);
	stop = 1;
	pthread_join(svc, NULL);
	for (i = 0; i < NWORKERS; i++) {
		pthread_join(workers[i].thread, NULL);
		printf("# worker %d: %ld rounds, %ld bad pages\n", i,
		       workers[i].rounds, workers[i].errors);
		errors += workers[i].errors;
		EXPECT_LE(2, workers[i].rounds);
	}
	out = SPM_GET(node_vmstat(SPM_NID, "nr_vmscan_write")) - out;
	printf("# service: %ld reclaims (+%ld partial: EAGAIN), %ld compactions, %ld window moves (%ld pages moved), node 2 nr_vmscan_write %+lld, %ld errors %s\n",
	       s.reclaims, s.partial, s.compactions, s.moves, s.moved, out,
	       s.errors, s.what);
	EXPECT_EQ(0, errors);
	EXPECT_EQ(0, s.errors);
	EXPECT_LE(3, s.reclaims + s.partial);
	EXPECT_LE(3, s.compactions);
	EXPECT_LE(3, s.moves);
	EXPECT_LT(0, s.moved);
	/*
	 * Reclaim really swapped node-2 pages out under the workers (few:
	 * they keep every page hot).
	 */
	EXPECT_LT(0, out);

	/*
	 * Quiet now: the last generation is intact (swapped-out pages come
	 * back), and once a window move that met a busy page is finished,
	 * everything is on node 2.
	 */
	for (i = 0; i < NWORKERS; i++) {
		struct worker *w = &workers[i];
		unsigned int k;

		EXPECT_EQ(0, spm_verify(w->buf, BUF_LEN, seed_of(w, w->gen)));
		ASSERT_EQ((long)BUF_PAGES, spm_count_pages(w->buf, BUF_LEN, counts));
		left += BUF_PAGES - counts[SPM_NID];
		for (k = 0; k < BUF_PAGES / WINDOW; k++)
			move_back(w, k * WINDOW);
		ASSERT_EQ((long)BUF_PAGES, spm_count_pages(w->buf, BUF_LEN, counts));
		EXPECT_EQ((long)BUF_PAGES, counts[SPM_NID]);
		EXPECT_EQ(0, spm_verify(w->buf, BUF_LEN, seed_of(w, w->gen)));
	}
	printf("# at the end %ld pages were off node 2 (window moves that met a busy page)\n",
	       left);
}

TEST_HARNESS_MAIN
