/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * test_etcd -- what the etcd verbs do without an etcd (control/etcd.h,
 * control/etcd_store.h): base64, the gateway's request bodies, its
 * answers parsed (malformed ones first), the stored topology's packing,
 * host statuses and the revision bookkeeping (which event is processed,
 * where a host stands).  Table-driven, negative cases first.  The real
 * etcd is tests/cli/test_etcd_agent.sh's.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "etcd.h"
#include "etcd_store.h"

/* ---- base64 ---- */

static void
test_b64_invalid(void **state)
{
	(void)state;
	static const char *bad[] = { "A", "AAAAA", "A===", "AB=C", "ab!d", "AAA\n", "====" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		uint8_t *out = NULL;
		size_t n;
		assert_int_equal(vpc_etcd_b64_decode(bad[i], &out, &n), -EINVAL);
		assert_null(out);
	}
}

static void
test_b64_round_trip(void **state)
{
	(void)state;
	static const struct {
		const char *plain, *b64;
	} cases[] = {
		{ "", "" },
		{ "f", "Zg==" },
		{ "fo", "Zm8=" },
		{ "foo", "Zm9v" },
		{ "foob", "Zm9vYg==" },
		{ "/vpc/topology", "L3ZwYy90b3BvbG9neQ==" },
		{ "/vpc/status/", "L3ZwYy9zdGF0dXMv" },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *enc = vpc_etcd_b64_encode(cases[i].plain, strlen(cases[i].plain));
		assert_string_equal(enc, cases[i].b64);
		free(enc);
		uint8_t *dec;
		size_t n;
		assert_int_equal(vpc_etcd_b64_decode(cases[i].b64, &dec, &n), 0);
		assert_int_equal(n, strlen(cases[i].plain));
		assert_memory_equal(dec, cases[i].plain, n);
		assert_int_equal(dec[n], 0);
		free(dec);
	}
	/* unpadded, as some encoders write it */
	uint8_t *dec;
	size_t n;
	assert_int_equal(vpc_etcd_b64_decode("Zm8", &dec, &n), 0);
	assert_int_equal(n, 2);
	free(dec);
	/* every byte value */
	uint8_t all[256];
	for (int i = 0; i < 256; i++)
		all[i] = (uint8_t)i;
	char *enc = vpc_etcd_b64_encode(all, sizeof(all));
	assert_int_equal(vpc_etcd_b64_decode(enc, &dec, &n), 0);
	assert_int_equal(n, sizeof(all));
	assert_memory_equal(dec, all, n);
	free(enc);
	free(dec);
}

static void
test_prefix_end(void **state)
{
	(void)state;
	char *e = vpc_etcd_prefix_end("/vpc/status/");
	assert_string_equal(e, "/vpc/status0");
	free(e);
	e = vpc_etcd_prefix_end("a\xff");
	assert_string_equal(e, "b");
	free(e);
	e = vpc_etcd_prefix_end("\xff");
	assert_string_equal(e, "");	/* every key from there on */
	free(e);
}

/* ---- request bodies ---- */

static void
test_requests(void **state)
{
	(void)state;
	char *r = vpc_etcd_range_request("/vpc/topology", false);
	assert_string_equal(r, "{\"key\":\"L3ZwYy90b3BvbG9neQ==\"}");
	free(r);
	r = vpc_etcd_range_request("/vpc/status/", true);
	assert_string_equal(r, "{\"key\":\"L3ZwYy9zdGF0dXMv\",\"range_end\":\"L3ZwYy9zdGF0dXMw\"}");
	free(r);
	struct vpc_etcd_put puts[] = { { "/vpc/topology", "x", 1 }, { "/vpc/published", "{}", 2 } };
	r = vpc_etcd_txn_request(puts, 2);
	assert_string_equal(r, "{\"success\":["
			       "{\"request_put\":{\"key\":\"L3ZwYy90b3BvbG9neQ==\",\"value\":\"eA==\"}},"
			       "{\"request_put\":{\"key\":\"L3ZwYy9wdWJsaXNoZWQ=\",\"value\":\"e30=\"}}]}");
	free(r);
	r = vpc_etcd_watch_request("/vpc/topology", false, 12345678901LL);
	assert_string_equal(r, "{\"create_request\":{\"key\":\"L3ZwYy90b3BvbG9neQ==\","
			       "\"start_revision\":\"12345678901\"}}");
	free(r);
	r = vpc_etcd_watch_request("/vpc/topology", false, 0);	/* from now */
	assert_string_equal(r, "{\"create_request\":{\"key\":\"L3ZwYy90b3BvbG9neQ==\"}}");
	free(r);
}

/* ---- answers ---- */

static void
test_range_parse_invalid(void **state)
{
	(void)state;
	static const struct {
		const char *json;
		int ret;
		const char *err;
	} cases[] = {
		{ "", -EPROTO, "not a JSON object: " },
		{ "[1]", -EPROTO, "not a JSON object: [1]" },
		{ "{\"kvs\":[]}", -EPROTO, "a range answer without a header revision" },
		{ "{\"header\":{\"revision\":\"x\"}}", -EPROTO,
		  "a range answer without a header revision" },
		{ "{\"header\":{\"revision\":\"3\"},\"kvs\":[{\"value\":\"eA==\"}]}", -EPROTO,
		  "a range answer's key 0 is malformed" },
		{ "{\"header\":{\"revision\":\"3\"},\"kvs\":[{\"key\":\"!!\"}]}", -EPROTO,
		  "a range answer's key 0 is malformed" },
		{ "{\"error\":\"etcdserver: mvcc: required revision has been compacted\","
		  "\"message\":\"etcdserver: mvcc: required revision has been compacted\",\"code\":11}",
		  -EIO, "etcdserver: mvcc: required revision has been compacted" },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct vpc_etcd_kvs kvs;
		char err[256] = "";
		assert_int_equal(vpc_etcd_range_parse(cases[i].json, strlen(cases[i].json), &kvs, err,
						      sizeof(err)), cases[i].ret);
		assert_string_equal(err, cases[i].err);
		assert_int_equal(kvs.n_kvs, 0);
		assert_null(kvs.kvs);
	}
}

static void
test_range_parse(void **state)
{
	(void)state;
	/* what etcd 3.4's gateway answers (an empty value has no "value") */
	const char *json =
		"{\"header\":{\"cluster_id\":\"1\",\"member_id\":\"2\",\"revision\":\"9\","
		"\"raft_term\":\"2\"},\"kvs\":[{\"key\":\"L3ZwYy9zdGF0dXMvaDE=\","
		"\"create_revision\":\"2\",\"mod_revision\":\"7\",\"version\":\"3\","
		"\"value\":\"aGVsbG8=\"},{\"key\":\"L3ZwYy9zdGF0dXMvaDI=\",\"create_revision\":\"8\","
		"\"mod_revision\":\"8\",\"version\":\"1\"}],\"count\":\"2\"}";
	struct vpc_etcd_kvs kvs;
	char err[256];
	assert_int_equal(vpc_etcd_range_parse(json, strlen(json), &kvs, err, sizeof(err)), 0);
	assert_int_equal(kvs.revision, 9);
	assert_int_equal(kvs.n_kvs, 2);
	assert_string_equal(kvs.kvs[0].key, "/vpc/status/h1");
	assert_int_equal(kvs.kvs[0].size, 5);
	assert_string_equal((char *)kvs.kvs[0].value, "hello");
	assert_int_equal(kvs.kvs[0].mod_revision, 7);
	assert_int_equal(kvs.kvs[0].version, 3);
	assert_string_equal(kvs.kvs[1].key, "/vpc/status/h2");
	assert_int_equal(kvs.kvs[1].size, 0);
	vpc_etcd_kvs_free(&kvs);
	/* nothing found: no "kvs" at all */
	json = "{\"header\":{\"revision\":\"1\"}}";
	assert_int_equal(vpc_etcd_range_parse(json, strlen(json), &kvs, err, sizeof(err)), 0);
	assert_int_equal(kvs.revision, 1);
	assert_int_equal(kvs.n_kvs, 0);
	vpc_etcd_kvs_free(&kvs);
}

static void
test_txn_parse(void **state)
{
	(void)state;
	static const struct {
		const char *json;
		int ret;
		int64_t rev;
		const char *err;
	} cases[] = {
		{ "{\"header\":{\"revision\":\"5\"}}", -EIO, 5, "the transaction did not succeed" },
		{ "{\"succeeded\":true}", -EPROTO, 0, "a transaction answer without a header revision" },
		{ "{\"error\":\"etcdserver: request is too large\",\"message\":\"etcdserver: request is "
		  "too large\",\"code\":3}", -EIO, 0, "etcdserver: request is too large" },
		{ "{\"header\":{\"revision\":\"2\"},\"succeeded\":true,\"responses\":"
		  "[{\"response_put\":{\"header\":{\"revision\":\"2\"}}}]}", 0, 2, "" },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int64_t rev = 0;
		char err[256] = "";
		assert_int_equal(vpc_etcd_txn_parse(cases[i].json, strlen(cases[i].json), &rev, err,
						    sizeof(err)), cases[i].ret);
		assert_string_equal(err, cases[i].err);
		if (cases[i].ret == 0)
			assert_int_equal(rev, cases[i].rev);
	}
}

static void
test_watch_parse(void **state)
{
	(void)state;
	struct vpc_etcd_watch_msg m;
	char err[256] = "";
	const char *bad = "{\"result\":{\"events\":[{\"type\":\"DELETE\"}]}}";
	assert_int_equal(vpc_etcd_watch_parse(bad, strlen(bad), &m, err, sizeof(err)), -EPROTO);
	assert_string_equal(err, "a watch message's event 0 is malformed");
	bad = "{\"error\":{\"grpc_code\":14,\"http_code\":503,\"message\":\"etcdserver: no leader\"}}";
	assert_int_equal(vpc_etcd_watch_parse(bad, strlen(bad), &m, err, sizeof(err)), -EIO);
	assert_string_equal(err, "etcdserver: no leader");

	const char *created = "{\"result\":{\"header\":{\"revision\":\"2\"},\"created\":true}}";
	assert_int_equal(vpc_etcd_watch_parse(created, strlen(created), &m, err, sizeof(err)), 0);
	assert_true(m.created);
	assert_false(m.canceled);
	assert_int_equal(m.revision, 2);
	assert_int_equal(m.n_events, 0);
	vpc_etcd_watch_msg_free(&m);

	/* a PUT has no "type" (the enum's default); a DELETE's kv no value */
	const char *events =
		"{\"result\":{\"header\":{\"revision\":\"12\"},\"events\":["
		"{\"kv\":{\"key\":\"L3ZwYy90b3BvbG9neQ==\",\"mod_revision\":\"10\",\"value\":\"YQ==\"}},"
		"{\"kv\":{\"key\":\"L3ZwYy90b3BvbG9neQ==\",\"mod_revision\":\"11\",\"value\":\"Yg==\"}},"
		"{\"type\":\"DELETE\",\"kv\":{\"key\":\"L3ZwYy90b3BvbG9neQ==\",\"mod_revision\":\"12\"}}"
		"]}}";
	assert_int_equal(vpc_etcd_watch_parse(events, strlen(events), &m, err, sizeof(err)), 0);
	assert_int_equal(m.n_events, 3);
	assert_false(m.events[0].deleted);
	assert_true(m.events[2].deleted);
	assert_string_equal((char *)m.events[1].value, "b");
	/* the newest PUT newer than what was processed; the delete is not one */
	const struct vpc_etcd_kv *kv = vpc_store_next_event(&m, "/vpc/topology", 9);
	assert_non_null(kv);
	assert_int_equal(kv->mod_revision, 11);
	assert_null(vpc_store_next_event(&m, "/vpc/topology", 11));	/* never twice */
	assert_null(vpc_store_next_event(&m, "/vpc/other", 0));
	vpc_etcd_watch_msg_free(&m);

	/* a watch that starts before the compaction: canceled, no header revision */
	const char *compacted = "{\"result\":{\"header\":{\"cluster_id\":\"1\"},\"canceled\":true,"
				"\"compact_revision\":\"4\"}}";
	assert_int_equal(vpc_etcd_watch_parse(compacted, strlen(compacted), &m, err, sizeof(err)), 0);
	assert_true(m.canceled);
	assert_int_equal(m.compact_revision, 4);
	vpc_etcd_watch_msg_free(&m);
}

/* ---- the store ---- */

static void
test_keys(void **state)
{
	(void)state;
	struct vpc_store_keys k;
	assert_int_equal(vpc_store_keys_init(&k, "/fleet/a/"), 0);
	assert_string_equal(k.topology, "/fleet/a/topology");
	assert_string_equal(k.published, "/fleet/a/published");
	assert_string_equal(k.status, "/fleet/a/status/");
	char longp[300];
	memset(longp, 'p', sizeof(longp) - 1);
	longp[sizeof(longp) - 1] = '\0';
	assert_int_equal(vpc_store_keys_init(&k, longp), -ENAMETOOLONG);
}

static void
test_pack(void **state)
{
	(void)state;
	/* damaged streams first: cut short, trailing bytes, a bad block */
	static const char yaml[] = "version: 1\nvpcs:\n  - name: prod\n    cidr: 10.0.0.0/16\n";
	uint8_t *packed, *out;
	size_t n, m;
	assert_int_equal(vpc_store_pack(yaml, strlen(yaml), &packed, &n), 0);
	assert_true(n > 2);
	assert_int_equal(vpc_store_unpack(packed, n - 3, &out, &m), -EINVAL);
	uint8_t *longer = malloc(n + 1);
	memcpy(longer, packed, n);
	longer[n] = 0;
	assert_int_equal(vpc_store_unpack(longer, n + 1, &out, &m), -EINVAL);
	longer[2] ^= 0xff;
	longer[3] ^= 0xff;
	assert_int_equal(vpc_store_unpack(longer, n, &out, &m), -EINVAL);
	free(longer);

	assert_int_equal(vpc_store_unpack(packed, n, &out, &m), 0);
	assert_int_equal(m, strlen(yaml));
	assert_string_equal((char *)out, yaml);
	free(out);
	free(packed);
	/* plain YAML is taken as it is */
	assert_int_equal(vpc_store_unpack(yaml, strlen(yaml), &out, &m), 0);
	assert_string_equal((char *)out, yaml);
	free(out);
	/* a large file (a fleet's, repetitive) shrinks and comes back whole */
	size_t big = 2u << 20;
	char *text = malloc(big);
	for (size_t i = 0; i < big; i++)
		text[i] = "      - { name: vm-0001, subnet: a, ip: 10.0.1.1 }\n"[i % 50];
	assert_int_equal(vpc_store_pack(text, big, &packed, &n), 0);
	assert_true(n < big / 20);
	assert_int_equal(vpc_store_unpack(packed, n, &out, &m), 0);
	assert_int_equal(m, big);
	assert_memory_equal(out, text, big);
	free(out);
	free(packed);
	free(text);
}

static void
test_status_invalid(void **state)
{
	(void)state;
	static const struct {
		const char *json, *err;
	} cases[] = {
		{ "", "not a JSON object" },
		{ "{\"host\":\"h1\",\"seen\":1}{", "not a JSON object" },
		{ "{\"seen\":1}", "no \"host\" string" },
		{ "{\"host\":\"h1\",\"seen\":\"1\",\"applied\":1,\"time_us\":1,\"compile_us\":1}",
		  "\"seen\", \"applied\", \"time_us\" and \"compile_us\" must be integers >= 0" },
		{ "{\"host\":\"h1\",\"seen\":1,\"applied\":-1,\"time_us\":1,\"compile_us\":1}",
		  "\"seen\", \"applied\", \"time_us\" and \"compile_us\" must be integers >= 0" },
		{ "{\"host\":\"h1\",\"seen\":1,\"applied\":2,\"time_us\":1,\"compile_us\":1}",
		  "\"applied\" is past \"seen\"" },
		{ "{\"host\":\"h1\",\"seen\":1,\"applied\":1,\"time_us\":1,\"compile_us\":1,\"error\":3}",
		  "\"error\" must be a string or null" },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct vpc_host_status s;
		char err[160] = "";
		assert_int_equal(vpc_host_status_parse(cases[i].json, strlen(cases[i].json), &s, err,
						       sizeof(err)), -EPROTO);
		assert_string_equal(err, cases[i].err);
		assert_null(s.host);
	}
}

static void
test_status_round_trip(void **state)
{
	(void)state;
	struct vpc_host_status s = { .host = "h1", .seen = 12, .applied = 10,
				     .time_us = 1700000000123456LL, .compile_us = 3100,
				     .error = "/vpc/topology@12:3:5: unknown key \"x\"" };
	char *json = vpc_host_status_json(&s);
	assert_string_equal(json, "{\"host\":\"h1\",\"seen\":12,\"applied\":10,"
				  "\"time\":\"2023-11-14T22:13:20.123Z\",\"time_us\":1700000000123456,"
				  "\"compile_us\":3100,"
				  "\"error\":\"/vpc/topology@12:3:5: unknown key \\\"x\\\"\"}");
	struct vpc_host_status t;
	char err[160];
	assert_int_equal(vpc_host_status_parse(json, strlen(json), &t, err, sizeof(err)), 0);
	assert_string_equal(t.host, "h1");
	assert_int_equal(t.seen, 12);
	assert_int_equal(t.applied, 10);
	assert_int_equal(t.time_us, 1700000000123456LL);
	assert_string_equal(t.error, s.error);
	vpc_host_status_clear(&t);
	free(json);
	s.error = NULL;
	s.applied = 12;
	json = vpc_host_status_json(&s);
	assert_non_null(strstr(json, "\"error\":null"));
	assert_int_equal(vpc_host_status_parse(json, strlen(json), &t, err, sizeof(err)), 0);
	assert_null(t.error);
	vpc_host_status_clear(&t);
	free(json);
}

static void
test_verdict(void **state)
{
	(void)state;
	static const struct {
		int64_t seen, applied, rev;
		enum vpc_host_verdict v;
	} cases[] = {
		{ 0, 0, 5, VPC_HOST_PENDING },	/* a host that has never seen one */
		{ 4, 4, 5, VPC_HOST_PENDING },
		{ 5, 4, 5, VPC_HOST_FAILED },	/* saw 5, kept 4 */
		{ 7, 4, 5, VPC_HOST_FAILED },	/* 5 superseded by 7, which failed too */
		{ 5, 5, 5, VPC_HOST_APPLIED },
		{ 7, 7, 5, VPC_HOST_APPLIED },	/* a later revision counts */
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct vpc_host_status s = { .seen = cases[i].seen, .applied = cases[i].applied };
		assert_int_equal(vpc_host_verdict(&s, cases[i].rev), cases[i].v);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_b64_invalid),
		cmocka_unit_test(test_b64_round_trip),
		cmocka_unit_test(test_prefix_end),
		cmocka_unit_test(test_requests),
		cmocka_unit_test(test_range_parse_invalid),
		cmocka_unit_test(test_range_parse),
		cmocka_unit_test(test_txn_parse),
		cmocka_unit_test(test_watch_parse),
		cmocka_unit_test(test_keys),
		cmocka_unit_test(test_pack),
		cmocka_unit_test(test_status_invalid),
		cmocka_unit_test(test_status_round_trip),
		cmocka_unit_test(test_verdict),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
