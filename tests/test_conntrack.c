/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * test_conntrack -- the connection table: both keys find the entry with
 * their direction; a full table refuses and keeps what it has; expiry
 * (sweep) frees room without touching live entries; a key owned by
 * another connection is never taken over; flush empties it.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_launch.h>
#include <rte_lcore.h>
#include <rte_malloc.h>
#include <rte_rcu_qsbr.h>

#include "conntrack.h"

/* A connection that does not expire on its own. */
/* A connection whose other side answered: never dropped to make room. */
static const struct vpc_ct_entry live_init = { .trk.state = VPC_CT_UDP, .trk.replies = 1,
					       .expires = UINT64_MAX };
/* One that never saw a reply. */
static const struct vpc_ct_entry unreplied_init = { .trk.state = VPC_CT_UDP, .expires = UINT64_MAX };

static struct vpc_ct_key
key(uint32_t ctx, uint32_t src, uint32_t dst, uint16_t sp, uint16_t dp)
{
	struct vpc_ct_key k = {
		.ctx_proto = ctx << 8 | 6,
		.src = rte_cpu_to_be_32(src), .dst = rte_cpu_to_be_32(dst),
		.sport = rte_cpu_to_be_16(sp), .dport = rte_cpu_to_be_16(dp),
	};
	return k;
}

static uint32_t
find(struct vpc_ct *ct, const struct vpc_ct_key *k, bool *found)
{
	uint64_t hits;
	uint32_t data = 0;
	vpc_ct_lookup_bulk(ct, k, 1, &hits, &data);
	*found = hits & 1;
	return data;
}

static void
test_keys_and_directions(void **state)
{
	struct vpc_ct *ct = vpc_ct_create("t1", 8, SOCKET_ID_ANY);
	struct vpc_ct_key f = key(1, 10, 20, 1000, 80), r = key(1, 20, 10, 80, 1000);
	bool found;
	(void)state;
	int idx = vpc_ct_create_conn(ct, &f, &r, 0, &live_init);
	assert_true(idx >= 0);
	assert_int_equal(find(ct, &f, &found), (uint32_t)idx << 1);
	assert_true(found);
	assert_int_equal(find(ct, &r, &found), (uint32_t)idx << 1 | 1);
	assert_true(found);
	/* The same tuple in another context is another connection. */
	struct vpc_ct_key other = key(2, 10, 20, 1000, 80);
	find(ct, &other, &found);
	assert_false(found);
	/* A key another connection owns is refused, not taken over. */
	struct vpc_ct_key f2 = key(1, 30, 40, 1, 2);
	assert_int_equal(vpc_ct_create_conn(ct, &f2, &r, 0, &live_init), -EEXIST);
	assert_int_equal(find(ct, &r, &found), (uint32_t)idx << 1 | 1);
	assert_int_equal(vpc_ct_count(ct), 1);
	vpc_ct_delete(ct, (uint32_t)idx);
	find(ct, &f, &found);
	assert_false(found);
	find(ct, &r, &found);
	assert_false(found);
	assert_int_equal(vpc_ct_count(ct), 0);
	vpc_ct_free(ct);
}

static void
test_full_table(void **state)
{
	struct vpc_ct *ct = vpc_ct_create("t2", 4, SOCKET_ID_ANY);
	(void)state;
	for (uint32_t i = 0; i < 4; i++) {
		struct vpc_ct_key f = key(1, i, 99, 1, 2), r = key(1, 99, i, 2, 1);
		int idx = vpc_ct_create_conn(ct, &f, &r, 0, &live_init);
		assert_true(idx >= 0);
		vpc_ct_entry(ct, (uint32_t)idx)->trk.state = VPC_CT_UDP;
		vpc_ct_entry(ct, (uint32_t)idx)->expires = 1000 + i;
	}
	/* Full, nothing expired at t=500: refused, nothing evicted. */
	struct vpc_ct_key f = key(1, 50, 99, 1, 2), r = key(1, 99, 50, 2, 1);
	assert_int_equal(vpc_ct_create_conn(ct, &f, &r, 500, &live_init), -ENOSPC);
	assert_int_equal(vpc_ct_count(ct), 4);
	assert_int_equal(vpc_ct_stats(ct)->refused_full, 1);
	/* At t=1001 the first two have expired: room is reclaimed. */
	int idx = vpc_ct_create_conn(ct, &f, &r, 1001, &live_init);
	assert_true(idx >= 0);
	assert_int_equal(vpc_ct_stats(ct)->expired, 2);
	assert_int_equal(vpc_ct_count(ct), 3);
	struct vpc_ct_key live = key(1, 3, 99, 1, 2);
	bool found;
	find(ct, &live, &found);
	assert_true(found);
	vpc_ct_flush(ct);
	assert_int_equal(vpc_ct_count(ct), 0);
	find(ct, &live, &found);
	assert_false(found);
	vpc_ct_free(ct);
}

static void
test_sweep_and_iterate(void **state)
{
	struct vpc_ct *ct = vpc_ct_create("t3", 1000, SOCKET_ID_ANY);
	(void)state;
	for (uint32_t i = 0; i < 500; i++) {
		struct vpc_ct_key f = key(1, i, 7, 1, 2), r = key(1, 7, i, 2, 1);
		int idx = vpc_ct_create_conn(ct, &f, &r, 0, &live_init);
		assert_true(idx >= 0);
		vpc_ct_entry(ct, (uint32_t)idx)->trk.state = VPC_CT_UDP;
		vpc_ct_entry(ct, (uint32_t)idx)->expires = i % 2 ? 100 : 1000000;
	}
	/* A bounded sweep looks at budget entries, no more. */
	assert_true(vpc_ct_sweep(ct, 200, 10) <= 10);
	uint32_t removed = 0;
	for (int k = 0; k < 200; k++)
		removed += vpc_ct_sweep(ct, 200, 10);
	assert_int_equal(vpc_ct_stats(ct)->expired, 250);
	assert_true(removed <= 250);
	uint32_t pos = 0, live = 0;
	int64_t i;
	while ((i = vpc_ct_next(ct, &pos)) >= 0) {
		assert_true(vpc_ct_entry(ct, (uint32_t)i)->expires == 1000000);
		live++;
	}
	assert_int_equal(live, 250);
	assert_string_equal(vpc_ct_state_name(VPC_CT_TCP_TIME_WAIT), "time-wait");
	vpc_ct_free(ct);
}

static void
test_million(void **state)
{
	/* 1,000,000 concurrent connections fit. */
	struct vpc_ct *ct = vpc_ct_create("t4", 1000000, SOCKET_ID_ANY);
	(void)state;
	assert_non_null(ct);
	for (uint32_t i = 0; i < 1000000; i++) {
		struct vpc_ct_key f = key(3, i, 1, 5, 6), r = key(3, 1, i, 6, 5);
		int idx = vpc_ct_create_conn(ct, &f, &r, 0, &live_init);
		assert_true(idx >= 0);
		vpc_ct_entry(ct, (uint32_t)idx)->expires = UINT64_MAX;
	}
	assert_int_equal(vpc_ct_count(ct), 1000000);
	struct vpc_ct_key f = key(3, 1000001, 1, 5, 6), r = key(3, 1, 1000001, 6, 5);
	assert_int_equal(vpc_ct_create_conn(ct, &f, &r, 0, &live_init), -ENOSPC);
	vpc_ct_free(ct);
}

/* A full table drops a connection that never saw a reply (Linux's early
 * drop), never one that did, and never an established TCP connection. */
static void
test_early_drop(void **state)
{
	struct vpc_ct *ct = vpc_ct_create("t5", 4, SOCKET_ID_ANY);
	struct vpc_ct_key f, r;
	bool found;
	int idx;
	(void)state;

	/* Three answered, one SYN never answered. */
	for (uint32_t i = 0; i < 4; i++) {
		f = key(1, i, 99, 1, 2);
		r = key(1, 99, i, 2, 1);
		idx = vpc_ct_create_conn(ct, &f, &r, 0, &live_init);
		assert_true(idx >= 0);
		vpc_ct_entry(ct, (uint32_t)idx)->trk.state =
			i == 2 ? VPC_CT_TCP_SYN_SENT : VPC_CT_TCP_ESTABLISHED;
	}
	f = key(1, 50, 99, 1, 2);
	r = key(1, 99, 50, 2, 1);
	idx = vpc_ct_create_conn(ct, &f, &r, 10, &unreplied_init);
	assert_true(idx >= 0);
	assert_int_equal(vpc_ct_stats(ct)->early_dropped, 1);
	assert_int_equal(vpc_ct_count(ct), 4);
	struct vpc_ct_key gone = key(1, 2, 99, 1, 2);
	find(ct, &gone, &found);
	assert_false(found);
	for (uint32_t i = 0; i < 4; i++) {
		struct vpc_ct_key k = key(1, i, 99, 1, 2);
		find(ct, &k, &found);
		assert_true(found == (i != 2));
	}
	/* Now the UDP flow with no reply is the one that goes... */
	f = key(1, 51, 99, 1, 2);
	r = key(1, 99, 51, 2, 1);
	assert_true(vpc_ct_create_conn(ct, &f, &r, 20, &live_init) >= 0);
	struct vpc_ct_key first = key(1, 50, 99, 1, 2);
	find(ct, &first, &found);
	assert_false(found);
	assert_int_equal(vpc_ct_stats(ct)->early_dropped, 2);
	/* ...and with every connection answered, a new one is refused. */
	f = key(1, 52, 99, 1, 2);
	r = key(1, 99, 52, 2, 1);
	assert_int_equal(vpc_ct_create_conn(ct, &f, &r, 30, &unreplied_init), -ENOSPC);
	assert_int_equal(vpc_ct_stats(ct)->refused_full, 1);
	assert_int_equal(vpc_ct_count(ct), 4);
	vpc_ct_free(ct);
}

/* ---- shared mode: a reader lcore against a writer ---- */

#define N_KEYS 256

static struct vpc_ct *shared_ct;
static struct rte_rcu_qsbr *qsv;
static volatile int stop;
static uint64_t reader_hits, reader_bad, reader_rounds;

static int
reader(void *arg)
{
	unsigned int id = rte_lcore_id();
	struct vpc_ct_key keys[32];
	uint32_t data[32];
	uint64_t hits;
	(void)arg;
	rte_rcu_qsbr_thread_register(qsv, id);
	rte_rcu_qsbr_thread_online(qsv, id);
	while (!stop) {
		for (uint32_t base = 0; base < N_KEYS; base += 32) {
			for (uint32_t i = 0; i < 32; i++)
				keys[i] = (base + i) % 2 ? key(9, 1, base + i, 2, 1) :
							   key(9, base + i, 1, 1, 2);
			vpc_ct_lookup_bulk(shared_ct, keys, 32, &hits, data);
			for (uint32_t i = 0; i < 32; i++) {
				if (!(hits & (1ull << i)))
					continue;
				/* Until our next quiescent state the entry found
				 * cannot be reused: it must hold the key. */
				const struct vpc_ct_entry *e = vpc_ct_entry(shared_ct, data[i] >> 1);
				if (memcmp(&e->key[data[i] & 1], &keys[i], sizeof(keys[i])) != 0)
					reader_bad++;
				reader_hits++;
			}
			rte_rcu_qsbr_quiescent(qsv, id);
		}
		reader_rounds++;
	}
	rte_rcu_qsbr_thread_offline(qsv, id);
	rte_rcu_qsbr_thread_unregister(qsv, id);
	return 0;
}

static void
test_shared_reader_writer(void **state)
{
	(void)state;
	unsigned int rl = rte_get_next_lcore(-1, 1, 0);
	if (rl >= RTE_MAX_LCORE)
		skip();	/* needs a second lcore */
	qsv = rte_zmalloc(NULL, rte_rcu_qsbr_get_memsize(RTE_MAX_LCORE), RTE_CACHE_LINE_SIZE);
	assert_non_null(qsv);
	assert_int_equal(rte_rcu_qsbr_init(qsv, RTE_MAX_LCORE), 0);
	/* A small pool: entries are reused all the time. */
	shared_ct = vpc_ct_create_shared("sh", 64, SOCKET_ID_ANY, qsv);
	assert_non_null(shared_ct);
	stop = 0;
	assert_int_equal(rte_eal_remote_launch(reader, NULL, rl), 0);

	int live[N_KEYS / 2];
	memset(live, -1, sizeof(live));
	uint64_t created = 0, deleted = 0, refused = 0;
	uint64_t seed = 12345;
	/* 300,000 operations, and on until the reader has done some work of
	 * its own (on a loaded machine it may start late): at most 10 s. */
	uint64_t t_end = rte_get_timer_cycles() + 10 * rte_get_timer_hz();
	for (int op = 0; op < 300000 ||
			 (__atomic_load_n(&reader_rounds, __ATOMIC_RELAXED) < 100 &&
			  rte_get_timer_cycles() < t_end); op++) {
		seed = seed * 6364136223846793005ull + 1442695040888963407ull;
		uint32_t c = (uint32_t)(seed >> 33) % (N_KEYS / 2);
		if (live[c] < 0) {
			/* connection c: forward key 2c, reverse 2c+1 */
			struct vpc_ct_key f = key(9, 2 * c, 1, 1, 2), r = key(9, 1, 2 * c + 1, 2, 1);
			int idx = vpc_ct_create_conn(shared_ct, &f, &r, 0, &live_init);
			if (idx >= 0) {
				live[c] = idx;
				created++;
			} else {
				assert_int_equal(idx, -ENOSPC);
				refused++;
			}
		} else {
			vpc_ct_delete(shared_ct, (uint32_t)live[c]);
			live[c] = -1;
			deleted++;
		}
	}
	stop = 1;
	rte_eal_wait_lcore(rl);
	print_message("created %lu deleted %lu refused %lu, reader hits %lu rounds %lu bad %lu\n",
		      (unsigned long)created, (unsigned long)deleted, (unsigned long)refused,
		      (unsigned long)reader_hits, (unsigned long)reader_rounds, (unsigned long)reader_bad);
	assert_int_equal(reader_bad, 0);
	assert_true(reader_hits > 0);
	assert_true(reader_rounds > 0);
	/* Churn: on a loaded machine grace periods are long and the 64
	 * entries are often all awaiting reclamation (refusals), but entries
	 * were still created and deleted many times over. */
	assert_true(created > 200 && deleted > 200);
	/* Every deleted entry came back to the pool once the reader was
	 * gone: what is live is what we did not delete. */
	uint32_t still = 0;
	for (uint32_t c = 0; c < N_KEYS / 2; c++)
		still += live[c] >= 0;
	assert_true(vpc_ct_count(shared_ct) >= still);
	vpc_ct_free(shared_ct);
	rte_free(qsv);
}

/*
 * Shared mode, after a flood: the table is full of connections that have
 * expired.  The room comes back as soon as it is needed -- the first new
 * connection finds it -- and a sweep with nobody opening connections (the
 * daemon's idle sweep) empties the table: nothing waits for a later
 * delete to push reclamation along.
 */
static void
test_shared_reclaim_after_flood(void **state)
{
	(void)state;
	struct rte_rcu_qsbr *v = rte_zmalloc(NULL, rte_rcu_qsbr_get_memsize(RTE_MAX_LCORE),
					     RTE_CACHE_LINE_SIZE);
	assert_non_null(v);
	assert_int_equal(rte_rcu_qsbr_init(v, RTE_MAX_LCORE), 0);
	struct vpc_ct *ct = vpc_ct_create_shared("flood", 1000, SOCKET_ID_ANY, v);
	assert_non_null(ct);
	struct vpc_ct_entry syn = { .trk.state = VPC_CT_TCP_SYN_SENT, .expires = 100 };
	struct vpc_ct_entry est = { .trk.state = VPC_CT_TCP_ESTABLISHED, .expires = 1000000 };
	/* The flood: 990 SYNs never answered, 10 established connections. */
	for (uint32_t i = 0; i < 1000; i++) {
		struct vpc_ct_key f = key(4, i, 1, 5, 6), r = key(4, 1, i, 6, 5);
		assert_true(vpc_ct_create_conn(ct, &f, &r, 0, i < 10 ? &est : &syn) >= 0);
	}
	/* During the flood: a SYN pushes out one never answered. */
	struct vpc_ct_key f = key(4, 5000, 1, 5, 6), r = key(4, 1, 5000, 6, 5);
	assert_true(vpc_ct_create_conn(ct, &f, &r, 50, &syn) >= 0);
	assert_int_equal(vpc_ct_stats(ct)->early_dropped, 1);
	/* After it, with time past the opening timeout: the idle sweep
	 * alone frees every expired entry, at once. */
	uint32_t removed = 0;
	for (int k = 0; k < 2; k++)
		removed += vpc_ct_sweep(ct, 200, 1000);
	vpc_ct_reclaim(ct);
	assert_int_equal(removed, 990);
	assert_int_equal(vpc_ct_count(ct), 10);
	for (uint32_t i = 0; i < 990; i++) {
		struct vpc_ct_key g = key(4, 10000 + i, 1, 5, 6), h = key(4, 1, 10000 + i, 6, 5);
		assert_true(vpc_ct_create_conn(ct, &g, &h, 200, &est) >= 0);
	}
	assert_int_equal(vpc_ct_stats(ct)->refused_full, 0);
	/* Full of established ones: refused, none evicted. */
	struct vpc_ct_key g = key(4, 99999, 1, 5, 6), h = key(4, 1, 99999, 6, 5);
	assert_int_equal(vpc_ct_create_conn(ct, &g, &h, 300, &syn), -ENOSPC);
	assert_int_equal(vpc_ct_count(ct), 1000);
	vpc_ct_free(ct);
	rte_free(v);
}

static int
setup(void **state)
{
	char prefix[64];
	(void)state;
	snprintf(prefix, sizeof(prefix), "--file-prefix=test-ct-%d", (int)getpid());
	char *args[] = { "test", "--no-huge", "-m", "1024", "--no-pci", "--no-shconf",
			 prefix, "--no-telemetry", "-l", "0-1", "--log-level=error", NULL };
	return rte_eal_init(11, args) < 0 ? -1 : 0;
}

static int
teardown(void **state)
{
	(void)state;
	rte_eal_cleanup();
	return 0;
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_keys_and_directions),
		cmocka_unit_test(test_full_table),
		cmocka_unit_test(test_sweep_and_iterate),
		cmocka_unit_test(test_million),
		cmocka_unit_test(test_shared_reader_writer),
		cmocka_unit_test(test_early_drop),
		cmocka_unit_test(test_shared_reclaim_after_flood),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
