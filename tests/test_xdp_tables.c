/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * test_xdp_tables -- the XDP engine's table writer (bpf/xdp_engine.c):
 * generations, the flip between table sets, port slots kept by name
 * across applies, slots of removed ports released, a refused apply that
 * changes nothing.  Loads the program (root); skipped when it cannot.
 * usage: test_xdp_tables SOURCE_ROOT
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include <bpf/bpf.h>

#include "compile.h"
#include "vpc_xdp.h"

static const char *src_root;
static struct vpc_xdp_published pub;
static struct vpc_xdp_port_table pt;

/* Is slot a port of the active tables, under that name? */
static bool
slot_is(const struct vpc_xdp_fds *f, uint32_t slot, const char *name)
{
	assert_int_equal(vpc_xdp_port_table(f, &pt), 0);
	return pt.active[slot] && strcmp(pt.name[slot], name) == 0;
}

static bool
slot_active(const struct vpc_xdp_fds *f, uint32_t slot)
{
	assert_int_equal(vpc_xdp_port_table(f, &pt), 0);
	return pt.active[slot];
}

static struct vpc_image *
load(const char *rel)
{
	char path[4096];

	snprintf(path, sizeof(path), "%s/%s", src_root, rel);
	struct vpc_image *img = vpc_image_load(path, stderr);
	assert_non_null(img);
	return img;
}

static uint32_t
active(const struct vpc_xdp_fds *f)
{
	uint32_t z = 0;
	struct vpc_xdp_control c = { 0 };

	assert_int_equal(bpf_map_lookup_elem(f->control, &z, &c), 0);
	return c.active;
}

static struct vpc_xdp *
engine(void)
{
	char err[256];
	struct vpc_xdp *x = vpc_xdp_load(true, 1024, err, sizeof(err));
	if (x == NULL)
		fail_msg("%s", err);
	return x;
}

/* Generations count up from 1; each apply flips the active set. */
static void
test_generations_and_flip(void **state)
{
	(void)state;
	char err[256];
	struct vpc_xdp *x = engine();
	const struct vpc_xdp_fds *f = vpc_xdp_fds(x);
	struct vpc_image *img = load("config/default.yaml");

	assert_int_equal(vpc_xdp_generation(f), 0);
	uint32_t a0 = active(f);
	assert_int_equal(vpc_xdp_publish(f, img, false, NULL, &pub, err, sizeof(err)), 0);
	assert_int_equal(pub.generation, 1);
	assert_int_equal(vpc_xdp_generation(f), 1);
	assert_int_equal(active(f), a0 ^ 1);	/* the first publish flips too */
	assert_int_equal(pub.n_added, img->n_ports);
	assert_int_equal(pub.n_removed, 0);
	for (int k = 2; k <= 4; k++) {
		uint32_t before = active(f);
		assert_int_equal(vpc_xdp_publish(f, img, false, NULL, &pub, err, sizeof(err)), 0);
		assert_int_equal(pub.generation, k);
		assert_int_equal(active(f), before ^ 1);
		assert_int_equal(pub.n_added, 0);
		assert_int_equal(pub.n_removed, 0);
	}
	vpc_image_free(img);
	vpc_xdp_free(x);
}

/* A port keeps its slot across applies that add and remove others, even
 * when the image renumbers it; a removed port's slot is released. */
static void
test_slots_by_name(void **state)
{
	(void)state;
	char err[256];
	struct vpc_xdp *x = engine();
	const struct vpc_xdp_fds *f = vpc_xdp_fds(x);
	struct vpc_image *base = load("tests/e2e/topo-vpcd.yaml");
	struct vpc_image *add = load("tests/e2e/topo-vpcd-add.yaml");
	const char *kept[] = { "vm1", "vm2", "vm3", "twin1", "uplink" };
	int slot[5];

	assert_int_equal(vpc_xdp_publish(f, base, false, NULL, &pub, err, sizeof(err)), 0);
	for (int i = 0; i < 5; i++) {
		slot[i] = vpc_xdp_slot(f, kept[i]);
		assert_true(slot[i] >= 0);
		assert_true(slot_is(f, (uint32_t)slot[i], kept[i]));
	}
	assert_int_equal(vpc_xdp_slot(f, "vm5"), -1);

	/* vm5 comes in before twin1 in the file: twin1's port index moves,
	 * its slot does not. */
	assert_int_equal(vpc_xdp_publish(f, add, false, NULL, &pub, err, sizeof(err)), 0);
	assert_int_equal(pub.generation, 2);
	for (int i = 0; i < 5; i++)
		assert_int_equal(vpc_xdp_slot(f, kept[i]), slot[i]);
	int vm5 = vpc_xdp_slot(f, "vm5");
	assert_true(vm5 >= 0);
	assert_int_equal(pub.n_added, 1);
	assert_int_equal(pub.added[0], vm5);
	assert_true(slot_is(f, (uint32_t)vm5, "vm5"));

	assert_int_equal(vpc_xdp_publish(f, base, false, NULL, &pub, err, sizeof(err)), 0);
	assert_int_equal(pub.generation, 3);
	assert_int_equal(pub.n_removed, 1);
	assert_int_equal(pub.removed[0], vm5);
	assert_false(slot_active(f, (uint32_t)vm5));
	assert_int_equal(vpc_xdp_slot(f, "vm5"), -1);	/* released */
	for (int i = 0; i < 5; i++)
		assert_int_equal(vpc_xdp_slot(f, kept[i]), slot[i]);
	vpc_image_free(add);
	vpc_image_free(base);
	vpc_xdp_free(x);
}

/* 65 distinct ICMP rules for one peer: past what the program scans.  The
 * validator refuses such a topology, so the image is made by hand: 64
 * distinct rules and a duplicate, then the duplicate changed in the
 * image.  Refused with a reason; the running tables, generation and slots
 * stay as they were, and the refused image's new port names take no
 * slot. */
static void
test_refused_apply_changes_nothing(void **state)
{
	(void)state;
	char err[256], path[] = "/tmp/test-xdp-tables-XXXXXX";
	struct vpc_xdp *x = engine();
	const struct vpc_xdp_fds *f = vpc_xdp_fds(x);
	struct vpc_image *img = load("config/default.yaml");

	assert_int_equal(vpc_xdp_publish(f, img, false, NULL, &pub, err, sizeof(err)), 0);
	uint32_t a = active(f);
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	FILE *out = fdopen(fd, "w");
	fprintf(out, "version: 1\nvpcs:\n  - name: v\n    cidr: 10.0.0.0/16\n"
		     "    subnets:\n      - { name: s, cidr: 10.0.1.0/24 }\n"
		     "    security_groups:\n      - name: many\n        ingress:\n");
	for (int t = 0; t < 65; t++)
		fprintf(out, "          - { protocol: icmp, icmp_type: %d, icmp_code: %d, source: 10.0.0.0/8 }\n",
			t % 64 % 50, t % 64 / 50);
	fprintf(out, "    interfaces:\n      - { name: newcomer, subnet: s, ip: 10.0.1.10, "
		     "security_groups: [many] }\n");
	fclose(out);
	struct vpc_image *bad = vpc_image_load(path, stderr);
	unlink(path);
	assert_non_null(bad);
	struct vpc_image_rule *dup = NULL;
	for (uint32_t r = 0; r < bad->n_rules; r++)
		if (bad->rules[r].proto == 1 && bad->rules[r].icmp_type == 0 &&
		    bad->rules[r].icmp_code == 0)
			dup = (struct vpc_image_rule *)&bad->rules[r];	/* the second wins */
	assert_non_null(dup);
	dup->icmp_type = 60;
	vpc_image_seal(bad);
	assert_int_not_equal(vpc_xdp_publish(f, bad, false, NULL, &pub, err, sizeof(err)), 0);
	assert_non_null(strstr(err, "ICMP type/code rules for one peer prefix"));
	assert_int_equal(vpc_xdp_generation(f), 1);
	assert_int_equal(active(f), a);
	assert_int_equal(vpc_xdp_slot(f, "newcomer"), -1);
	assert_true(vpc_xdp_slot(f, "web-1") >= 0);
	vpc_image_free(bad);
	vpc_image_free(img);
	vpc_xdp_free(x);
}

int
main(int argc, char **argv)
{
	char err[256];

	if (argc != 2) {
		fprintf(stderr, "usage: test_xdp_tables SOURCE_ROOT\n");
		return 2;
	}
	src_root = argv[1];
	struct vpc_xdp *probe = vpc_xdp_load(true, 1024, err, sizeof(err));
	if (probe == NULL) {
		printf("SKIP: %s\n", err);
		return 77;
	}
	vpc_xdp_free(probe);
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_generations_and_flip),
		cmocka_unit_test(test_slots_by_name),
		cmocka_unit_test(test_refused_apply_changes_nothing),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
