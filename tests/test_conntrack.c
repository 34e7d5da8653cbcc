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

#include <rte_eal.h>

#include "conntrack.h"

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
	int idx = vpc_ct_create_conn(ct, &f, &r, 0);
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
	assert_int_equal(vpc_ct_create_conn(ct, &f2, &r, 0), -EEXIST);
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
		int idx = vpc_ct_create_conn(ct, &f, &r, 0);
		assert_true(idx >= 0);
		vpc_ct_entry(ct, (uint32_t)idx)->state = VPC_CT_UDP;
		vpc_ct_entry(ct, (uint32_t)idx)->expires = 1000 + i;
	}
	/* Full, nothing expired at t=500: refused, nothing evicted. */
	struct vpc_ct_key f = key(1, 50, 99, 1, 2), r = key(1, 99, 50, 2, 1);
	assert_int_equal(vpc_ct_create_conn(ct, &f, &r, 500), -ENOSPC);
	assert_int_equal(vpc_ct_count(ct), 4);
	assert_int_equal(vpc_ct_stats(ct)->refused_full, 1);
	/* At t=1001 the first two have expired: room is reclaimed. */
	int idx = vpc_ct_create_conn(ct, &f, &r, 1001);
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
		int idx = vpc_ct_create_conn(ct, &f, &r, 0);
		assert_true(idx >= 0);
		vpc_ct_entry(ct, (uint32_t)idx)->state = VPC_CT_UDP;
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
		int idx = vpc_ct_create_conn(ct, &f, &r, 0);
		assert_true(idx >= 0);
		vpc_ct_entry(ct, (uint32_t)idx)->expires = UINT64_MAX;
	}
	assert_int_equal(vpc_ct_count(ct), 1000000);
	struct vpc_ct_key f = key(3, 1000001, 1, 5, 6), r = key(3, 1, 1000001, 6, 5);
	assert_int_equal(vpc_ct_create_conn(ct, &f, &r, 0), -ENOSPC);
	vpc_ct_free(ct);
}

static int
setup(void **state)
{
	char prefix[64];
	(void)state;
	snprintf(prefix, sizeof(prefix), "--file-prefix=test-ct-%d", (int)getpid());
	char *args[] = { "test", "--no-huge", "-m", "1024", "--no-pci", "--no-shconf",
			 prefix, "--no-telemetry", "-l", "0", "--log-level=error", NULL };
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
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
