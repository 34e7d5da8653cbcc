/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * test_sg -- security-group classifiers.  Spot checks on the default
 * topology, then the classifier against a brute-force reference (every
 * rule of every group of the interface, linearly, as topology.md states
 * the semantics) on many fixed-seed random probes, for every example
 * topology and for a generated group of 1,000 rules.
 */
#include <arpa/inet.h>
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
#include "sg.h"
#include "topo.h"

static const char *config_dir;

static struct vpc_image *
compile_text(const char *text)
{
	struct vpc_diag d;
	vpc_diag_init(&d, "t.yaml");
	struct topo *t = topo_load_string(text, strlen(text), &d);
	assert_non_null(t);
	topo_validate(t, &d);
	if (d.n_entries)
		vpc_diag_print(&d, stderr);
	assert_int_equal(d.n_entries, 0);
	struct vpc_image *img = topo_compile(t);
	assert_non_null(img);
	topo_free(t);
	vpc_diag_fini(&d);
	return img;
}

static struct vpc_image *
compile_file(const char *name)
{
	char path[1024];
	snprintf(path, sizeof(path), "%s/%s", config_dir, name);
	struct vpc_image *img = vpc_image_load(path, stderr);
	assert_non_null(img);
	return img;
}

/* The semantics, literally: any rule of any group of the interface. */
static bool
reference(const struct vpc_image *img, uint32_t iface, unsigned int dir, uint8_t proto,
	  uint32_t peer, uint16_t port, uint8_t type, uint8_t code)
{
	const struct vpc_image_iface *f = &img->ifaces[iface];
	for (unsigned int k = 0; k < f->n_sgs; k++) {
		const struct vpc_image_sg *g = &img->sgs[f->sgs[k]];
		uint32_t first = g->first_rule + (dir ? g->n_ingress : 0);
		uint32_t n = dir ? g->n_egress : g->n_ingress;
		for (uint32_t r = first; r < first + n; r++) {
			const struct vpc_image_rule *x = &img->rules[r];
			uint32_t mask = x->peer_len ? 0xffffffffu << (32 - x->peer_len) : 0;
			if ((peer & mask) != ntohl(x->peer_addr))
				continue;
			if (x->flags & VPC_RULE_F_ANY_PROTO)
				return true;
			if (x->proto != proto)
				continue;
			if (proto == 6 || proto == 17) {
				if (port >= x->port_lo && port <= x->port_hi)
					return true;
			} else if (proto == 1) {
				if ((!(x->flags & VPC_RULE_F_ICMP_TYPE) || x->icmp_type == type) &&
				    (!(x->flags & VPC_RULE_F_ICMP_CODE) || x->icmp_code == code))
					return true;
			} else {
				return true;
			}
		}
	}
	return false;
}

static uint64_t rng = 0x2545f4914f6cdd1dull;

static uint32_t
rnd(void)
{
	rng = rng * 6364136223846793005ull + 1442695040888963407ull;
	return (uint32_t)(rng >> 32);
}

/* Probe addresses near the image's own prefixes, so matches happen. */
static uint32_t
probe_addr(const struct vpc_image *img)
{
	if (img->n_rules == 0 || rnd() % 4 == 0)
		return rnd();
	const struct vpc_image_rule *x = &img->rules[rnd() % img->n_rules];
	uint32_t a = ntohl(x->peer_addr);
	uint32_t host = x->peer_len < 32 ? rnd() & (0xffffffffu >> x->peer_len) : 0;
	return rnd() % 8 == 0 ? a ^ (1u << (rnd() % 32)) : a | host;
}

static void
compare_all(const struct vpc_image *img, int probes)
{
	static const uint8_t protos[] = { 6, 17, 1, 47, 50, 0 };
	struct vpc_sg *sg = vpc_sg_build(img);
	uint32_t allowed = 0;
	assert_non_null(sg);
	for (uint32_t i = 0; i < img->n_ifaces; i++)
		for (unsigned int dir = 0; dir < 2; dir++)
			for (int k = 0; k < probes; k++) {
				uint8_t proto = protos[rnd() % sizeof(protos)];
				uint32_t peer = probe_addr(img);
				uint16_t port = (uint16_t)(rnd() % 4 ? rnd() % 6000 : rnd());
				uint8_t type = (uint8_t)(rnd() % 4 ? rnd() % 16 : rnd()), code = (uint8_t)(rnd() % 5);
				bool want = reference(img, i, dir, proto, peer, port, type, code);
				bool got = vpc_sg_allows(sg, vpc_sg_class_of(sg, i, dir), proto, peer, port, type, code);
				if (want != got)
					fail_msg("iface %u dir %u proto %u peer %08x port %u type %u code %u: want %d got %d",
						 i, dir, proto, peer, port, type, code, want, got);
				allowed += got;
			}
	/* The probes exercised both answers. */
	assert_true(allowed > 0);
	vpc_sg_free(sg);
}

static void
test_default_spot_checks(void **state)
{
	struct vpc_image *img = compile_file("default.yaml");
	struct vpc_sg *sg = vpc_sg_build(img);
	(void)state;
	uint32_t web1_in = vpc_sg_class_of(sg, 0, VPC_DIR_INGRESS);
	uint32_t web2_in = vpc_sg_class_of(sg, 1, VPC_DIR_INGRESS);
	uint32_t bast_eg = vpc_sg_class_of(sg, 2, VPC_DIR_EGRESS);
	uint32_t db_in = vpc_sg_class_of(sg, 3, VPC_DIR_INGRESS);
	uint32_t db_eg = vpc_sg_class_of(sg, 3, VPC_DIR_EGRESS);

	assert_true(vpc_sg_allows(sg, web1_in, 6, 0x08080808, 80, 0, 0));
	assert_true(vpc_sg_allows(sg, web1_in, 6, 0x08080808, 443, 0, 0));
	assert_false(vpc_sg_allows(sg, web1_in, 6, 0x08080808, 81, 0, 0));
	assert_false(vpc_sg_allows(sg, web1_in, 17, 0x08080808, 80, 0, 0));
	assert_true(vpc_sg_allows(sg, web1_in, 6, 0x0a000105, 22, 0, 0));	/* bastion */
	assert_false(vpc_sg_allows(sg, web1_in, 6, 0x0a000106, 22, 0, 0));
	assert_true(vpc_sg_allows(sg, web1_in, 1, 0x0a00ff01, 0, 8, 0));
	assert_false(vpc_sg_allows(sg, web1_in, 1, 0x0a00ff01, 0, 0, 0));
	assert_false(vpc_sg_allows(sg, web1_in, 1, 0x08080808, 0, 8, 0));
	/* web-2 is also in default: anything from default's members (itself) */
	assert_true(vpc_sg_allows(sg, web2_in, 17, 0x0a00010b, 9999, 0, 0));
	assert_false(vpc_sg_allows(sg, web2_in, 17, 0x0a00010a, 9999, 0, 0));
	/* bastion: ssh into the VPC, icmp anywhere, nothing else */
	assert_true(vpc_sg_allows(sg, bast_eg, 6, 0x0a000214, 22, 0, 0));
	assert_false(vpc_sg_allows(sg, bast_eg, 6, 0x08080808, 22, 0, 0));
	assert_true(vpc_sg_allows(sg, bast_eg, 1, 0x08080808, 0, 13, 0));
	/* db: postgres from web members only; udp back to them only */
	assert_true(vpc_sg_allows(sg, db_in, 6, 0x0a00010b, 5432, 0, 0));
	assert_false(vpc_sg_allows(sg, db_in, 6, 0x0a000105, 5432, 0, 0));
	assert_true(vpc_sg_allows(sg, db_eg, 17, 0x0a00010a, 1024, 0, 0));
	assert_false(vpc_sg_allows(sg, db_eg, 17, 0x0a00010a, 1023, 0, 0));
	assert_false(vpc_sg_allows(sg, db_eg, 6, 0x0a00010a, 2000, 0, 0));
	/* web-1's groups ([web]) differ from web-2's ([web, default]) */
	assert_int_not_equal(web1_in, web2_in);
	vpc_sg_free(sg);
	vpc_image_free(img);
}

static void
test_examples_against_reference(void **state)
{
	static const char *const files[] = { "default.yaml", "multi-vpc.yaml", "appliance.yaml" };
	(void)state;
	for (int i = 0; i < 3; i++) {
		struct vpc_image *img = compile_file(files[i]);
		compare_all(img, 20000);
		vpc_image_free(img);
	}
}

static void
test_thousand_rules(void **state)
{
	/* One group of 1,000 rules: mixed protocols, port ranges, peers of
	 * every length, overlapping; plus a group peer. */
	size_t cap = 1 << 20, off = 0;
	char *text = malloc(cap);
	(void)state;
	off += (size_t)snprintf(text + off, cap - off,
		"version: 1\nvpcs:\n  - name: v\n    cidr: 10.0.0.0/16\n"
		"    subnets: [{ name: s, cidr: 10.0.1.0/24 }]\n"
		"    security_groups:\n      - name: big\n        ingress:\n");
	for (int i = 0; i < 1000; i++) {
		uint32_t len = rnd() % 33, a = rnd() & (len ? 0xffffffffu << (32 - len) : 0);
		const char *proto = (const char *[]){ "tcp", "udp", "icmp", "47" }[rnd() % 4];
		char extra[64] = "";
		if (proto[0] == 't' || proto[0] == 'u') {
			uint32_t lo = rnd() % 65536, hi = lo + rnd() % 300;
			snprintf(extra, sizeof(extra), ", ports: \"%u-%u\"", lo, hi > 65535 ? 65535 : hi);
		} else if (proto[0] == 'i' && rnd() % 2) {
			snprintf(extra, sizeof(extra), ", icmp_type: %u%s", rnd() % 16,
				 rnd() % 2 ? ", icmp_code: 1" : "");
		}
		off += (size_t)snprintf(text + off, cap - off,
			"          - { protocol: %s%s, source: %u.%u.%u.%u/%u }\n", proto, extra,
			a >> 24, (a >> 16) & 255, (a >> 8) & 255, a & 255, len);
	}
	off += (size_t)snprintf(text + off, cap - off,
		"          - { protocol: tcp, ports: 7, source: { security_group: big } }\n"
		"        egress: []\n"
		"    interfaces:\n"
		"      - { name: a, subnet: s, ip: 10.0.1.10, security_groups: [big] }\n"
		"      - { name: b, subnet: s, ip: 10.0.1.11, security_groups: [big, default] }\n");
	struct vpc_image *img = compile_text(text);
	free(text);
	assert_int_equal(img->sgs[0].n_ingress, 1002);	/* 1,000 + 2 members */
	compare_all(img, 200000);
	vpc_image_free(img);
}

int
main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_default_spot_checks),
		cmocka_unit_test(test_examples_against_reference),
		cmocka_unit_test(test_thousand_rules),
	};
	config_dir = argc > 1 ? argv[1] : "config";
	return cmocka_run_group_tests(tests, NULL, NULL);
}
