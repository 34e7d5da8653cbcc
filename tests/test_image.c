/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * test_image -- table images: write/read round trip, and refusal of every
 * kind of corrupt image (truncated, bad magic, foreign version, checksum
 * mismatch, section out of bounds, index or enum out of range).  An index
 * corruption is re-sealed (checksum recomputed) so the test reaches the
 * record checks rather than stopping at the checksum.
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

#include "compile.h"
#include "topo.h"

static const char *config_dir;

static struct vpc_image *
compile_default(void)
{
	char path[1024];
	struct vpc_diag d;

	snprintf(path, sizeof(path), "%s/default.yaml", config_dir);
	vpc_diag_init(&d, path);
	struct topo *t = topo_load_valid(path, &d);
	assert_non_null(t);
	struct vpc_image *img = topo_compile(t);
	assert_non_null(img);
	topo_free(t);
	vpc_diag_fini(&d);
	return img;
}

static void
test_round_trip(void **state)
{
	struct vpc_image *img = compile_default();
	char path[] = "/tmp/vpc-test-img-XXXXXX", err[256];
	(void)state;
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	close(fd);
	assert_int_equal(vpc_image_write_file(img, path), 0);
	struct vpc_image *back = vpc_image_read_file(path, err, sizeof(err));
	assert_non_null(back);
	assert_int_equal(back->size, img->size);
	assert_memory_equal(back->buf, img->buf, img->size);
	assert_int_equal(back->n_ifaces, 4);
	assert_string_equal(back->ifaces[3].name, "db-1");
	vpc_image_free(back);
	unlink(path);

	assert_null(vpc_image_read_file("/nonexistent/img", err, sizeof(err)));
	assert_int_equal(errno, ENOENT);
	assert_string_equal(err, "/nonexistent/img: No such file or directory");
	vpc_image_free(img);
}

/* Expect buf to be refused with exactly msg. */
static void
refused(const void *buf, size_t size, const char *msg)
{
	char err[256];
	struct vpc_image *img = vpc_image_from_bytes(buf, size, err, sizeof(err));
	assert_null(img);
	assert_int_equal(errno, EINVAL);
	assert_string_equal(err, msg);
}

static void
test_every_truncation_refused(void **state)
{
	struct vpc_image *img = compile_default();
	char err[256];
	(void)state;
	for (size_t n = 0; n < img->size; n++) {
		struct vpc_image *t = vpc_image_from_bytes(img->buf, n, err, sizeof(err));
		assert_null(t);
	}
	refused(img->buf, 10, "corrupt table image: 10 bytes is shorter than the header");
	char want[160];
	snprintf(want, sizeof(want),
		 "corrupt table image: header says %zu bytes, the image has %zu (truncated?)",
		 img->size, img->size - 8);
	refused(img->buf, img->size - 8, want);
	vpc_image_free(img);
}

/* Copy the default image, let fn corrupt it, optionally re-seal. */
static void *
corrupt(const struct vpc_image *img, void (*fn)(struct vpc_image *), bool reseal)
{
	struct vpc_image *c = vpc_image_from_bytes(img->buf, img->size, NULL, 0);
	assert_non_null(c);
	fn(c);
	if (reseal)
		vpc_image_seal(c);
	void *buf = c->buf;
	c->buf = NULL;
	vpc_image_free(c);
	return buf;
}

static void bad_magic(struct vpc_image *c) { c->hdr->magic = 0x12345678; }
static void bad_version(struct vpc_image *c) { c->hdr->version = 2; }
static void flip_byte(struct vpc_image *c) { ((uint8_t *)c->buf)[c->size - 3] ^= 0x40; }
static void bad_entry_size(struct vpc_image *c) { c->hdr->sections[VPC_SEC_ROUTE].entry_size = 8; }
static void bad_offset(struct vpc_image *c) { c->hdr->sections[VPC_SEC_EIP].offset = (uint32_t)c->size; }
static void huge_count(struct vpc_image *c) { c->hdr->sections[VPC_SEC_RULE].count = 1000000; }
static void iface_subnet(struct vpc_image *c) { c->ifaces[1].subnet = 999; }
static void iface_sg(struct vpc_image *c) { c->ifaces[0].sgs[0] = 77; }
static void iface_no_sg(struct vpc_image *c) { c->ifaces[2].n_sgs = 0; }
static void route_target(struct vpc_image *c) { c->routes[2].target = 9; }
static void route_iface(struct vpc_image *c) { c->routes[2].target = VPC_RT_IFACE; c->routes[2].target_iface = 4; }
static void rtable_range(struct vpc_image *c) { c->rtables[1].n_routes = 0xfffffff0; }
static void vpc_main(struct vpc_image *c) { c->vpcs[0].main_rtable = 2; }
static void rule_ports(struct vpc_image *c) { c->rules[0].port_lo = 90; }
static void rule_peer(struct vpc_image *c) { c->rules[2].peer_sg = 4; }
static void unterminated(struct vpc_image *c) { memset(c->sgs[1].name, 'a', VPC_NAME_SIZE); }
static void l2_iface(struct vpc_image *c) { c->l2[3].iface = 4; }
static void eip_iface(struct vpc_image *c) { c->eips[0].iface = 100; }
static void uplink(struct vpc_image *c) { c->host[0].uplink_port = 0; }
static void port_kind(struct vpc_image *c) { c->ports[0].kind = 7; }

static void
test_corrupt_refused(void **state)
{
	static const struct {
		void (*fn)(struct vpc_image *);
		bool reseal;
		const char *msg;
	} cases[] = {
		{ bad_magic, false, "corrupt table image: bad magic 0x12345678" },
		{ bad_version, false, "corrupt table image: version 2, this build reads version 1" },
		{ flip_byte, false, "corrupt table image: checksum mismatch" },
		{ bad_entry_size, true, "corrupt table image: section routes: records of 8 bytes, expected 16" },
		{ huge_count, true, "corrupt table image: section rules: bytes [880, 24000880) out of bounds" },
		{ iface_subnet, true, "corrupt table image: interface 1: subnet 999 out of range" },
		{ iface_sg, true, "corrupt table image: interface 0: security group 77 out of range" },
		{ iface_no_sg, true, "corrupt table image: interface 2: 0 security groups" },
		{ route_target, true, "corrupt table image: route 2: target 9" },
		{ route_iface, true, "corrupt table image: route 2: interface 4 out of range" },
		{ rtable_range, true, "corrupt table image: route table 1: routes [1, +4294967280) out of range" },
		{ vpc_main, true, "corrupt table image: vpc 0: main route table 2 out of range" },
		{ rule_ports, true, "corrupt table image: rule 0: port range 90-80" },
		{ rule_peer, true, "corrupt table image: rule 2: peer group 4 out of range" },
		{ unterminated, true, "corrupt table image: security group 1: bad name" },
		{ l2_iface, true, "corrupt table image: l2 entry 3 out of range" },
		{ eip_iface, true, "corrupt table image: elastic IP entry 0: interface 100 out of range" },
		{ uplink, true, "corrupt table image: uplink port 0 out of range" },
		{ port_kind, true, "corrupt table image: interface 0: port 0 out of range" },
	};
	struct vpc_image *img = compile_default();
	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		void *buf = corrupt(img, cases[i].fn, cases[i].reseal);
		refused(buf, img->size, cases[i].msg);
		free(buf);
	}
	(void)bad_offset;
	void *buf = corrupt(img, bad_offset, true);
	char err[256];
	assert_int_equal(vpc_image_check(buf, img->size, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "section eips: bytes ["));
	free(buf);
	vpc_image_free(img);
}

/*
 * Random corruption with a fixed seed: each mutant is either refused or,
 * if accepted, every index in it is in range -- the checker, run under
 * ASan, must never read out of bounds whatever the bytes say.
 */
static void
test_random_corruption(void **state)
{
	struct vpc_image *img = compile_default();
	uint64_t seed = 0x9e3779b97f4a7c15ull;
	uint32_t refused_n = 0, accepted = 0;
	(void)state;
	for (int round = 0; round < 20000; round++) {
		struct vpc_image *c = vpc_image_from_bytes(img->buf, img->size, NULL, 0);
		assert_non_null(c);
		for (int k = 0; k < 1 + round % 4; k++) {
			seed = seed * 6364136223846793005ull + 1442695040888963407ull;
			size_t at = (size_t)(seed >> 33) % c->size;
			((uint8_t *)c->buf)[at] = (uint8_t)(seed >> 13);
		}
		vpc_image_seal(c);	/* reach the structural checks */
		char err[256];
		if (vpc_image_check(c->buf, c->size, err, sizeof(err)) == 0)
			accepted++;
		else
			refused_n++;
		vpc_image_free(c);
	}
	/* Some mutants only touch names' padding-free bytes or MACs and are
	 * legitimately accepted; most must be refused. */
	assert_true(refused_n > 0);
	assert_int_equal(refused_n + accepted, 20000);
	vpc_image_free(img);
}

int
main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_every_truncation_refused),
		cmocka_unit_test(test_corrupt_refused),
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_random_corruption),
	};
	config_dir = argc > 1 ? argv[1] : "config";
	return cmocka_run_group_tests(tests, NULL, NULL);
}
