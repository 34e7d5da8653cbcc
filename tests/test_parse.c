/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * test_parse -- value parsers and the YAML document layer: exact results
 * for good input, refusal (with the exact error) for bad input, bounded
 * behaviour on hostile input.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "topo.h"
#include "ydoc.h"

static void
test_ipv4_bad(void **state)
{
	static const char *const bad[] = {
		"", "1", "1.2.3", "1.2.3.4.5", "256.0.0.1", "1.2.3.-1",
		"01.2.3.4", "1.2.3.4 ", " 1.2.3.4", "1..3.4", "a.b.c.d",
		"1.2.3.4/8", "1234.1.1.1", "0x1.2.3.4",
	};
	uint32_t a;
	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(topo_parse_ipv4(bad[i], &a), -EINVAL);
}

static void
test_ipv4_good(void **state)
{
	static const struct { const char *s; uint32_t a; } good[] = {
		{ "0.0.0.0", 0 }, { "10.0.1.10", 0x0a00010a },
		{ "255.255.255.255", 0xffffffff }, { "203.0.113.10", 0xcb00710a },
	};
	uint32_t a;
	(void)state;
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		assert_int_equal(topo_parse_ipv4(good[i].s, &a), 0);
		assert_int_equal(a, good[i].a);
	}
}

static void
test_cidr(void **state)
{
	static const char *const bad[] = {
		"10.0.0.0", "10.0.0.0/", "10.0.0.0/33", "10.0.0.0/-1",
		"10.0.0.0/08", "10.0.0.0/1a", "/16", "10.0.0/16", "10.0.0.0//16",
	};
	uint32_t a;
	uint8_t l;
	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(topo_parse_cidr(bad[i], &a, &l), -EINVAL);
	assert_int_equal(topo_parse_cidr("10.0.0.0/16", &a, &l), 0);
	assert_int_equal(a, 0x0a000000);
	assert_int_equal(l, 16);
	assert_int_equal(topo_parse_cidr("0.0.0.0/0", &a, &l), 0);
	assert_int_equal(l, 0);
	/* Host bits are the validator's business, not a syntax error. */
	assert_int_equal(topo_parse_cidr("10.0.0.1/32", &a, &l), 0);
	assert_int_equal(a, 0x0a000001);
}

static void
test_mac(void **state)
{
	static const char *const bad[] = {
		"", "02:00:00:00:00", "02:00:00:00:00:00:00", "02-00-00-00-00-00",
		"2:0:0:0:0:0", "02:00:00:00:00:0g", "0200.0000.0000",
	};
	uint8_t m[6];
	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(topo_parse_mac(bad[i], m), -EINVAL);
	assert_int_equal(topo_parse_mac("02:Fe:00:0a:BB:01", m), 0);
	static const uint8_t want[6] = { 0x02, 0xfe, 0x00, 0x0a, 0xbb, 0x01 };
	assert_memory_equal(m, want, 6);
}

static void
test_names(void **state)
{
	(void)state;
	assert_false(topo_name_ok(""));
	assert_false(topo_name_ok("-a"));
	assert_false(topo_name_ok("Web"));
	assert_false(topo_name_ok("web_1"));
	assert_false(topo_name_ok("abcdefghijklmnopqrstuvwxyz0123456"));	/* 33 */
	assert_true(topo_name_ok("abcdefghijklmnopqrstuvwxyz012345"));	/* 32 */
	assert_true(topo_name_ok("0"));
	assert_true(topo_name_ok("web-1-"));
}

/* Parse text; return the diagnostics as "L:C: msg" lines joined by '\n'. */
static char *
diag_of(const char *text)
{
	struct vpc_diag d;
	char *out = NULL;
	size_t size = 0;
	FILE *f = open_memstream(&out, &size);

	vpc_diag_init(&d, "t.yaml");
	struct ydoc *doc = ydoc_load_string(text, strlen(text), &d);
	vpc_diag_sort(&d);
	for (uint32_t i = 0; i < d.n_entries; i++)
		fprintf(f, "%u:%u: %s\n", d.entries[i].pos.line,
			d.entries[i].pos.col, d.entries[i].msg);
	fclose(f);
	ydoc_free(doc);
	vpc_diag_fini(&d);
	return out;
}

static void
test_billion_laughs(void **state)
{
	/* 10 levels of 10 aliases each: 10^10 nodes if expanded. */
	char text[4096];
	size_t off = 0;
	(void)state;
	off += (size_t)snprintf(text + off, sizeof(text) - off, "a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
	for (int i = 1; i < 10; i++) {
		off += (size_t)snprintf(text + off, sizeof(text) - off, "a%d: &a%d [", i, i);
		for (int k = 0; k < 10; k++)
			off += (size_t)snprintf(text + off, sizeof(text) - off,
						"%s*a%d", k ? ", " : "", i - 1);
		off += (size_t)snprintf(text + off, sizeof(text) - off, "]\n");
	}
	char *got = diag_of(text);
	/* Level 6 holds 10^6 + ... nodes: the 4th alias of a6 crosses 4M. */
	assert_string_equal(got,
		"7:25: document expands to more than 4000000 nodes through aliases\n");
	free(got);
}

static void
test_depth(void **state)
{
	char text[512];
	(void)state;
	memset(text, '[', 100);
	memset(text + 100, ']', 100);
	text[200] = '\0';
	char *got = diag_of(text);
	assert_string_equal(got, "1:65: nesting deeper than 64 levels\n");
	free(got);
}

static void
test_yaml_errors(void **state)
{
	static const struct { const char *text, *want; } cases[] = {
		{ "a: [1, 2\n", "2:1: YAML syntax error: did not find expected ',' or ']' while parsing a flow sequence\n" },
		{ "a: *nope\n", "1:4: unknown alias '*nope'\n" },
		{ "a: !!str x\n", "1:4: YAML tags are not supported ('!!str')\n" },
		{ "a: 1\n---\nb: 2\n", "2:1: only one YAML document is allowed per file\n" },
		{ "? [a]\n: 1\n", "1:3: mapping keys must be scalars\n" },
		{ "base: &b {x: 1}\nc:\n  <<: *b\n", "3:3: YAML merge keys ('<<') are not supported\n" },
		{ "a: 1\nb: 2\na: 3\n", "3:1: duplicate key 'a' (first at line 1)\n" },
		{ "a: \"x\\0y\"\n", "1:4: scalar contains a NUL character\n" },
	};
	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *got = diag_of(cases[i].text);
		assert_string_equal(got, cases[i].want);
		free(got);
	}
}

static void
test_duplicate_keys_large_map(void **state)
{
	/* More than 16 keys takes the sorting path; both duplicates found. */
	char text[1024];
	size_t off = 0;
	(void)state;
	for (int i = 0; i < 30; i++)
		off += (size_t)snprintf(text + off, sizeof(text) - off, "k%d: %d\n",
					i == 20 ? 3 : i == 25 ? 3 : i, i);
	char *got = diag_of(text);
	assert_string_equal(got,
		"21:1: duplicate key 'k3' (first at line 4)\n"
		"26:1: duplicate key 'k3' (first at line 4)\n");
	free(got);
}

static void
test_aliases_share(void **state)
{
	/* Aliases below the bound are fine and resolve to the anchored node. */
	const char *text = "a: &x {k: v}\nb: *x\n";
	struct vpc_diag d;
	(void)state;
	vpc_diag_init(&d, "t.yaml");
	struct ydoc *doc = ydoc_load_string(text, strlen(text), &d);
	assert_non_null(doc);
	assert_int_equal(d.n_entries, 0);
	const struct ynode *root = ydoc_root(doc);
	assert_ptr_equal(ymap_get(root, "a"), ymap_get(root, "b"));
	assert_string_equal(ymap_get(ymap_get(root, "b"), "k")->str, "v");
	ydoc_free(doc);
	vpc_diag_fini(&d);
}

static void
test_file_limits(void **state)
{
	char path[] = "/tmp/vpc-test-big-XXXXXX";
	struct vpc_diag d;
	(void)state;
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	/* Sparse: costs no disk. */
	assert_int_equal(ftruncate(fd, (off_t)YDOC_MAX_FILE_SIZE + 1), 0);
	close(fd);
	vpc_diag_init(&d, path);
	assert_null(ydoc_load_file(path, &d));
	assert_int_equal(d.n_entries, 1);
	assert_int_equal(d.entries[0].pos.line, 0);
	assert_string_equal(d.entries[0].msg,
			    "file is 33554433 bytes; the limit is 32 MiB");
	vpc_diag_fini(&d);
	unlink(path);

	vpc_diag_init(&d, "/nonexistent/t.yaml");
	assert_null(ydoc_load_file("/nonexistent/t.yaml", &d));
	assert_string_equal(d.entries[0].msg,
			    "cannot read: No such file or directory");
	vpc_diag_fini(&d);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ipv4_bad),
		cmocka_unit_test(test_ipv4_good),
		cmocka_unit_test(test_cidr),
		cmocka_unit_test(test_mac),
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_billion_laughs),
		cmocka_unit_test(test_depth),
		cmocka_unit_test(test_yaml_errors),
		cmocka_unit_test(test_duplicate_keys_large_map),
		cmocka_unit_test(test_aliases_share),
		cmocka_unit_test(test_file_limits),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
