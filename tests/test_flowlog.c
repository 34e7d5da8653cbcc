/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * test_flowlog -- the DPDK engine's flow-log rings (dataplane/flowlog.h)
 * and the shared counters (common/vpc_flow.h): negative cases first (no
 * ring, a full ring, the reject rate limit), then a connection's records
 * at each interface it crosses, deletion, the scan of quiet connections,
 * and the AWS line format.
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
#include <rte_lcore.h>

#include "conntrack.h"
#include "flowlog.h"
#include "vpc_flow_format.h"

#define NS 1000000000ull

static unsigned int
drain(struct vpc_flowlog *fl, struct vpc_flow_rec *recs, unsigned int n)
{
	return vpc_flowlog_drain(fl, rte_lcore_id(), recs, n);
}

static void
test_interval_and_errors(void **state)
{
	(void)state;
	errno = 0;
	assert_null(vpc_flowlog_create(0, 4));
	assert_int_equal(errno, EINVAL);
	/* Aligned intervals. */
	assert_int_equal(vpc_flow_until(1700000040, 60), 1700000100);
	assert_int_equal(vpc_flow_until(1700000099, 60), 1700000100);
	assert_int_equal(vpc_flow_until(1700000100, 10), 1700000110);
}

/* No ring for this lcore: records are lost and counted, nothing breaks. */
static void
test_no_ring(void **state)
{
	struct vpc_flow_rec r[4];
	(void)state;
	struct vpc_flowlog *fl = vpc_flowlog_create(60, 4);
	assert_non_null(fl);
	vpc_flowlog_reject(fl, 1, 6, 1, 2, 3, 4, 40, 100);
	assert_int_equal(vpc_flowlog_lost(fl), 1);
	assert_int_equal(drain(fl, r, 4), 0);
	assert_int_equal(vpc_flowlog_attach(fl, rte_lcore_id(), 64), 0);
	assert_int_equal(vpc_flowlog_attach(fl, rte_lcore_id(), 64), -EINVAL);
	/* An interface past n_ifaces: lost, counted. */
	vpc_flowlog_reject(fl, 9, 6, 1, 2, 3, 4, 40, 100);
	assert_int_equal(vpc_flowlog_lost(fl), 2);
	vpc_flowlog_free(fl);
}

/* 10 REJECT records per interface per second; the rest, and a full
 * ring's losses, said by one SKIPDATA record when the next second's
 * rejects begin. */
static void
test_reject_limit_and_full_ring(void **state)
{
	struct vpc_flow_rec r[64];
	(void)state;
	struct vpc_flowlog *fl = vpc_flowlog_create(60, 4);
	assert_int_equal(vpc_flowlog_attach(fl, rte_lcore_id(), 16), 0);	/* holds 15 */
	for (int i = 0; i < 13; i++)
		vpc_flowlog_reject(fl, 2, 17, 10, 20, (uint16_t)i, 53, 32, 100);
	assert_int_equal(drain(fl, r, 64), 10);
	assert_int_equal(r[0].action, VPC_FLOW_REJECT);
	assert_int_equal(r[0].packets, 1);
	assert_int_equal(r[0].bytes, 32);
	vpc_flowlog_reject(fl, 2, 17, 10, 20, 99, 53, 32, 101);
	assert_int_equal(drain(fl, r, 64), 2);
	assert_int_equal(r[0].action, VPC_FLOW_SKIPDATA);
	assert_int_equal(r[0].n_skipped, 3);
	assert_int_equal(r[0].start, 100);
	assert_int_equal(r[0].end, 100);
	assert_int_equal(r[1].action, VPC_FLOW_REJECT);
	/* A full ring: one second's 10 on each of 3 interfaces is 30 > 15. */
	for (uint32_t k = 0; k < 3; k++)
		for (int i = 0; i < 10; i++)
			vpc_flowlog_reject(fl, k, 6, 10, 20, (uint16_t)i, 80, 40, 200);
	assert_int_equal(drain(fl, r, 64), 15);
	vpc_flowlog_flush(fl, NULL);	/* every interface's losses */
	unsigned int n = drain(fl, r, 64);
	uint32_t lost = 0;
	for (unsigned int i = 0; i < n; i++) {
		assert_int_equal(r[i].action, VPC_FLOW_SKIPDATA);
		lost += r[i].n_skipped;
	}
	assert_int_equal(lost, 15);
	vpc_flowlog_free(fl);
}

/* A connection from interface 0 to interface 1: each direction gives a
 * record at both, with the 5-tuple as it is at each; an interval is
 * emitted once; deletion writes what is left. */
static void
test_connection_records(void **state)
{
	struct vpc_flow_rec r[8];
	(void)state;
	struct vpc_flowlog *fl = vpc_flowlog_create(10, 4);
	assert_int_equal(vpc_flowlog_attach(fl, rte_lcore_id(), 64), 0);
	struct vpc_ct *ct = vpc_ct_create("fl", 8, SOCKET_ID_ANY);
	assert_non_null(ct);
	vpc_ct_set_flowlog(ct, fl);
	struct vpc_ct_key f = { .ctx_proto = 1 << 8 | 6, .src = 10, .dst = 20, .sport = 1, .dport = 2 };
	struct vpc_ct_key b = { .ctx_proto = 1 << 8 | 6, .src = 20, .dst = 10, .sport = 2, .dport = 1 };
	struct vpc_ct_entry init = { .trk.state = VPC_CT_UDP, .expires = UINT64_MAX };
	int idx = vpc_ct_create_conn(ct, &f, &b, 0, &init);
	assert_true(idx >= 0);
	struct vpc_ct_entry *e = vpc_ct_entry(ct, (uint32_t)idx);

	/* Nothing counted: nothing emitted. */
	vpc_flowlog_conn(fl, e, 0);
	assert_int_equal(drain(fl, r, 8), 0);

	vpc_flow_start(&e->flow[0], 1005, 10, 0, 1);
	vpc_flow_add(&e->flow[0], 1005 * NS, 40);
	vpc_flow_add(&e->flow[0], 1007 * NS + 5, 60);
	assert_int_equal(e->flow[0].until, 1010);
	vpc_flowlog_conn(fl, e, 0);
	assert_int_equal(drain(fl, r, 8), 2);
	for (int k = 0; k < 2; k++) {
		assert_int_equal(r[k].iface, (uint32_t)k);
		assert_int_equal(r[k].packets, 2);
		assert_int_equal(r[k].bytes, 100);
		assert_int_equal(r[k].start, 1005);
		assert_int_equal(r[k].end, 1007);
		assert_int_equal(r[k].src, 10);
		assert_int_equal(r[k].dst, 20);
		assert_int_equal(r[k].action, VPC_FLOW_ACCEPT);
	}
	/* The scan: an interval over for more than a second, once. */
	vpc_flowlog_scan(fl, ct, 1010 * NS, 8);
	assert_int_equal(drain(fl, r, 8), 0);	/* not yet a second past */
	vpc_flowlog_scan(fl, ct, 1011 * NS, 8);
	assert_int_equal(drain(fl, r, 8), 2);
	vpc_flowlog_scan(fl, ct, 1012 * NS, 8);
	assert_int_equal(drain(fl, r, 8), 0);
	/* The reply, from interface 1 to the uplink (none): one record. */
	vpc_flow_start(&e->flow[1], 1020, 10, 1, VPC_FLOW_IFACE_NONE);
	vpc_flow_add(&e->flow[1], 1020 * NS, 52);
	vpc_ct_delete(ct, (uint32_t)idx);
	assert_int_equal(drain(fl, r, 8), 1);
	assert_int_equal(r[0].iface, 1);
	assert_int_equal(r[0].src, 20);
	assert_int_equal(r[0].sport, 2);
	vpc_ct_set_flowlog(ct, NULL);
	vpc_ct_free(ct);
	vpc_flowlog_free(fl);
}

static void
test_format(void **state)
{
	char line[256];
	(void)state;
	struct vpc_flow_rec r = {
		.bytes = 80, .packets = 2, .start = 1700000041, .end = 1700000043, .iface = 0,
		.src = rte_cpu_to_be_32(0xcb007132), .dst = rte_cpu_to_be_32(0x0a01010a),
		.sport = rte_cpu_to_be_16(40000), .dport = rte_cpu_to_be_16(80), .proto = 6,
	};
	vpc_flow_format(line, sizeof(line), &r, NULL, "w1");
	assert_string_equal(line, "2 - w1 203.0.113.50 10.1.1.10 40000 80 6 2 80 1700000041 1700000043 ACCEPT OK\n");
	r.action = VPC_FLOW_REJECT;
	vpc_flow_format(line, sizeof(line), &r, "123456789012", "w1");
	assert_string_equal(line, "2 123456789012 w1 203.0.113.50 10.1.1.10 40000 80 6 2 80 1700000041 1700000043 REJECT OK\n");
	r.action = VPC_FLOW_SKIPDATA;
	vpc_flow_format(line, sizeof(line), &r, NULL, "l1");
	assert_string_equal(line, "2 - l1 - - - - - - - 1700000041 1700000043 - SKIPDATA\n");
}

static int
setup(void **state)
{
	char prefix[64];
	(void)state;
	snprintf(prefix, sizeof(prefix), "--file-prefix=test-fl-%d", (int)getpid());
	char *args[] = { "test", "--no-huge", "-m", "256", "--no-pci", "--no-shconf",
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
		cmocka_unit_test(test_interval_and_errors),
		cmocka_unit_test(test_no_ring),
		cmocka_unit_test(test_reject_limit_and_full_ring),
		cmocka_unit_test(test_connection_records),
		cmocka_unit_test(test_format),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
