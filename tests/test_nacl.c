/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * test_nacl -- network ACLs: the shared matcher (common/vpc_nacl.h) on
 * hand-built lists, table-driven, denials first; which lists a packet
 * crosses; then lists compiled from a topology and lowered
 * (lib/lower.c) against the semantics read literally off the image's
 * rule records, on fixed-seed random probes.
 */
#include <arpa/inet.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "compile.h"
#include "topo.h"
#include "vpc_image_io.h"
#include "vpc_nacl.h"
#include "vpc_records.h"

#define ALLOW VPC_NRULE_F_ALLOW
#define ANY VPC_NRULE_F_ANY_PROTO
#define TYPE VPC_NRULE_F_ICMP_TYPE
#define CODE VPC_NRULE_F_ICMP_CODE

static uint32_t
ip(const char *s)
{
	struct in_addr a;
	assert_int_equal(inet_pton(AF_INET, s, &a), 1);
	return a.s_addr;
}

static struct vpc_nacl_rule
rule(const char *net, unsigned int len, uint8_t proto, uint8_t flags, uint16_t lo, uint16_t hi,
     uint8_t type, uint8_t code)
{
	uint32_t mask = htonl(len == 0 ? 0 : 0xffffffffu << (32 - len));
	return (struct vpc_nacl_rule){ .addr = ip(net) & mask, .mask = mask, .port_lo = lo,
				       .port_hi = hi, .proto = proto, .flags = flags,
				       .icmp_type = type, .icmp_code = code };
}

/* One list for the table below, in rule-number order. */
static struct vpc_nacl_list
sample(void)
{
	struct vpc_nacl_list l = { .n = 7 };
	l.rules[0] = rule("10.0.1.7", 32, 6, 0, 5432, 5432, 0, 0);		/*  90 deny */
	l.rules[1] = rule("10.0.1.0", 24, 6, ALLOW, 5432, 5432, 0, 0);		/* 100 allow */
	l.rules[2] = rule("10.0.0.0", 16, 6, 0, 0, 65535, 0, 0);		/* 110 deny tcp */
	l.rules[3] = rule("0.0.0.0", 0, 17, ALLOW, 1024, 65535, 0, 0);		/* 120 udp eph. */
	l.rules[4] = rule("0.0.0.0", 0, 1, ALLOW | TYPE | CODE, 0, 65535, 3, 4);	/* frag needed */
	l.rules[5] = rule("0.0.0.0", 0, 1, ALLOW | TYPE, 0, 65535, 8, 0);	/* echo */
	l.rules[6] = rule("192.0.2.0", 24, 0, ALLOW | ANY, 0, 65535, 0, 0);	/* all */
	return l;
}

static void
test_matcher(void **state)
{
	(void)state;
	static const struct {
		const char *what;
		const char *remote;
		uint8_t proto;
		uint16_t dport;
		uint8_t type, code;
		int allow;
	} cases[] = {
		/* denials first */
		{ "a lower-numbered deny wins over a later allow", "10.0.1.7", 6, 5432, 0, 0, 0 },
		{ "deny of the VPC's other tcp", "10.0.2.1", 6, 5432, 0, 0, 0 },
		{ "deny of tcp to another port from the allowed subnet", "10.0.1.9", 6, 22, 0, 0, 0 },
		{ "no rule matches: implicit deny (tcp from outside)", "198.51.100.1", 6, 80, 0, 0, 0 },
		{ "udp below the ephemeral range", "198.51.100.1", 17, 1023, 0, 0, 0 },
		{ "icmp of another type", "198.51.100.1", 1, 0, 13, 0, 0 },
		{ "icmp type 3 with another code", "198.51.100.1", 1, 0, 3, 1, 0 },
		{ "another protocol from outside", "198.51.100.1", 47, 0, 0, 0, 0 },
		{ "one address off the /24 of the all rule", "192.0.3.0", 47, 0, 0, 0, 0 },
		/* allowed */
		{ "an allow before a later deny", "10.0.1.9", 6, 5432, 0, 0, 1 },
		{ "udp at the range's low edge", "198.51.100.1", 17, 1024, 0, 0, 1 },
		{ "udp at the range's high edge", "198.51.100.1", 17, 65535, 0, 0, 1 },
		{ "icmp type and code", "198.51.100.1", 1, 0, 3, 4, 1 },
		{ "icmp type, any code", "198.51.100.1", 1, 0, 8, 9, 1 },
		{ "all protocols, any port", "192.0.2.255", 6, 1, 0, 0, 1 },
	};
	struct vpc_nacl_list l = sample();

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int got = vpc_nacl_allows(&l, cases[i].proto, ip(cases[i].remote), cases[i].dport,
					  cases[i].type, cases[i].code);
		if (got != cases[i].allow)
			fail_msg("%s: got %d", cases[i].what, got);
	}
	/* An empty list (a new ACL with no rules) denies everything. */
	struct vpc_nacl_list empty = { .n = 0 };
	assert_false(vpc_nacl_allows(&empty, 6, ip("10.0.1.9"), 5432, 0, 0));
	/* n bounds the scan: a rule past it is never read. */
	l.n = 1;
	assert_false(vpc_nacl_allows(&l, 6, ip("10.0.1.9"), 5432, 0, 0));
}

static void
test_lists(void **state)
{
	(void)state;
	uint32_t e, i;

	vpc_nacl_lists(3, 7, 3, 7, &e, &i);	/* inside one subnet: nothing */
	assert_int_equal(e, VPC_NACL_NO_LIST);
	assert_int_equal(i, VPC_NACL_NO_LIST);
	vpc_nacl_lists(VPC_NACL_DEFAULT, 1, VPC_NACL_DEFAULT, 2, &e, &i);	/* default ACLs */
	assert_int_equal(e, VPC_NACL_NO_LIST);
	assert_int_equal(i, VPC_NACL_NO_LIST);
	vpc_nacl_lists(3, 7, VPC_NACL_DEFAULT, VPC_INDEX_NONE, &e, &i);	/* to the internet */
	assert_int_equal(e, (3 - 1) * 2 + VPC_DIR_EGRESS);
	assert_int_equal(i, VPC_NACL_NO_LIST);
	vpc_nacl_lists(VPC_NACL_DEFAULT, VPC_INDEX_NONE, 1, 0, &e, &i);	/* from the internet */
	assert_int_equal(e, VPC_NACL_NO_LIST);
	assert_int_equal(i, VPC_DIR_INGRESS);
	vpc_nacl_lists(1, 0, 2, 5, &e, &i);	/* across two subnets with ACLs */
	assert_int_equal(e, VPC_DIR_EGRESS);
	assert_int_equal(i, 2 + VPC_DIR_INGRESS);
	assert_int_equal(vpc_nacl_dport(6, htons(443)), 443);
	assert_int_equal(vpc_nacl_dport(17, htons(53)), 53);
	assert_int_equal(vpc_nacl_dport(1, htons(0x0800)), 0);	/* ICMP: no port */
}

static const char topo_text[] =
	"version: 1\n"
	"vpcs:\n"
	"  - name: p\n"
	"    cidr: 10.0.0.0/16\n"
	"    subnets:\n"
	"      - { name: a, cidr: 10.0.1.0/24 }\n"
	"      - { name: b, cidr: 10.0.2.0/24 }\n"
	"    network_acls:\n"
	"      - name: x\n"
	"        subnets: [b]\n"
	"        ingress:\n"
	"          - { rule: 300, action: allow, protocol: all, cidr: 10.0.0.0/8 }\n"
	"          - { rule: 20, action: deny, protocol: tcp, ports: \"1-1023\", cidr: 10.0.1.0/25 }\n"
	"          - { rule: 10, action: allow, protocol: tcp, ports: 22, cidr: 10.0.1.0/26 }\n"
	"          - { rule: 200, action: deny, protocol: udp, cidr: 10.0.0.0/15 }\n"
	"          - { rule: 150, action: allow, protocol: icmp, icmp_type: 8, cidr: 10.0.1.0/24 }\n"
	"          - { rule: 160, action: deny, protocol: icmp, cidr: 0.0.0.0/0 }\n"
	"          - { rule: 100, action: allow, protocol: 47, cidr: 10.0.1.128/25 }\n"
	"        egress:\n"
	"          - { rule: 32766, action: allow, protocol: tcp, ports: \"1024-65535\", cidr: 0.0.0.0/0 }\n"
	"          - { rule: 1, action: deny, protocol: tcp, ports: 2000, cidr: 10.0.1.0/24 }\n"
	"    interfaces:\n"
	"      - { name: i, subnet: b, ip: 10.0.2.10 }\n";

/* The semantics literally: the direction's rules of the image, lowest
 * number first, the first match deciding; none: deny. */
static int
reference(const struct vpc_image *img, uint32_t a, unsigned int dir, uint8_t proto, uint32_t remote,
	  uint16_t dport, uint8_t type, uint8_t code)
{
	const struct vpc_image_nacl *n = &img->nacls[a];
	int best = -1;
	unsigned int best_num = 0;

	for (uint32_t r = n->first_rule; r < n->first_rule + n->n_ingress + n->n_egress; r++) {
		const struct vpc_image_nacl_rule *x = &img->nacl_rules[r];
		uint32_t mask = x->cidr_len ? 0xffffffffu << (32 - x->cidr_len) : 0;
		if (x->dir != dir || (ntohl(remote) & mask) != ntohl(x->cidr_addr))
			continue;
		if (!(x->flags & VPC_NRULE_F_ANY_PROTO)) {
			if (x->proto != proto)
				continue;
			if ((proto == 6 || proto == 17) && (dport < x->port_lo || dport > x->port_hi))
				continue;
			if ((x->flags & VPC_NRULE_F_ICMP_TYPE) && x->icmp_type != type)
				continue;
			if ((x->flags & VPC_NRULE_F_ICMP_CODE) && x->icmp_code != code)
				continue;
		}
		if (best < 0 || x->number < best_num) {
			best = !!(x->flags & VPC_NRULE_F_ALLOW);
			best_num = x->number;
		}
	}
	return best < 0 ? 0 : best;
}

static void
test_compiled(void **state)
{
	(void)state;
	struct vpc_diag d;
	vpc_diag_init(&d, "t.yaml");
	struct topo *t = topo_load_string(topo_text, sizeof(topo_text) - 1, &d);
	assert_non_null(t);
	topo_validate(t, &d);
	if (d.n_entries)
		vpc_diag_print(&d, stderr);
	assert_int_equal(d.n_entries, 0);
	struct vpc_image *img = topo_compile(t);
	assert_non_null(img);
	topo_free(t);
	vpc_diag_fini(&d);

	assert_int_equal(img->n_nacls, 1);
	assert_int_equal(img->subnets[0].nacl, VPC_INDEX_NONE);
	assert_int_equal(img->subnets[1].nacl, 0);
	/* Sorted by number within each direction. */
	static const uint16_t order[] = { 10, 20, 100, 150, 160, 200, 300, 1, 32766 };
	assert_int_equal(img->n_nacl_rules, 9);
	for (unsigned int k = 0; k < 9; k++)
		assert_int_equal(img->nacl_rules[k].number, order[k]);
	/* The port of b's interface carries the ACL; the uplink none. */
	struct vpc_port_rec pr;
	vpc_lower_port(img, 0, &pr);
	assert_int_equal(pr.nacl, 1);
	assert_int_equal(pr.subnet, 1);
	vpc_lower_port(img, img->host[0].uplink_port, &pr);
	assert_int_equal(pr.nacl, VPC_NACL_DEFAULT);
	assert_int_equal(pr.subnet, VPC_INDEX_NONE);

	struct vpc_nacl_list lists[2];
	vpc_lower_nacl_list(img, 0, &lists[0]);
	vpc_lower_nacl_list(img, 1, &lists[1]);
	assert_int_equal(lists[0].n, 7);
	assert_int_equal(lists[1].n, 2);

	static const uint8_t protos[] = { 6, 17, 1, 47, 50 };
	uint64_t seed = 42;
	for (int k = 0; k < 200000; k++) {
		seed = seed * 6364136223846793005ull + 1442695040888963407ull;
		uint32_t r = (uint32_t)(seed >> 32);
		unsigned int dir = r & 1;
		uint8_t proto = protos[(r >> 1) % 5];
		/* addresses mostly near the rules' prefixes */
		uint32_t host = (r >> 4) & 3 ? 0x0a000000u | ((r >> 6) & 0x3ffff) : r;
		uint16_t dport = (uint16_t)(seed >> 8) % 4 ? (uint16_t)((seed >> 12) % 2100)
							    : (uint16_t)(seed >> 16);
		uint8_t type = (uint8_t)((seed >> 20) % 10), code = (uint8_t)((seed >> 24) % 6);
		uint16_t key_port = (proto == 6 || proto == 17) ? dport : 0;
		int want = reference(img, 0, dir, proto, htonl(host), dport, type, code);
		int got = vpc_nacl_allows(&lists[dir], proto, htonl(host), key_port, type, code);
		if (want != got)
			fail_msg("dir %u proto %u host %08x port %u type %u code %u: want %d got %d",
				 dir, proto, host, dport, type, code, want, got);
	}
	vpc_image_free(img);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_matcher),
		cmocka_unit_test(test_lists),
		cmocka_unit_test(test_compiled),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
