/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The trace's printer and frame builder (lib/trace.c): exact frames from
 * descriptions (checksums included), exact errors, and each event's line
 * named from a compiled topology -- the rule of a group, the number of an
 * ACL's rule, a route's prefix -- including the line that says the image
 * disagrees with an engine.
 */
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
#include "vpc_image.h"
#include "vpc_reasons.h"
#include "vpc_trace_report.h"

static const char topo_text[] =
	"version: 1\n"
	"vpcs:\n"
	"  - name: prod\n"
	"    cidr: 10.0.0.0/16\n"
	"    internet_gateway: true\n"
	"    route_tables:\n"
	"      - name: main\n"
	"        routes:\n"
	"          - { destination: 10.9.0.0/16, target: blackhole }\n"
	"      - name: public\n"
	"        routes:\n"
	"          - { destination: 0.0.0.0/0, target: internet_gateway }\n"
	"    subnets:\n"
	"      - { name: a, cidr: 10.0.1.0/24, route_table: public }\n"
	"      - { name: b, cidr: 10.0.2.0/24 }\n"
	"    network_acls:\n"
	"      - name: acl-b\n"
	"        subnets: [b]\n"
	"        ingress:\n"
	"          - { rule: 100, action: allow, protocol: tcp, ports: 5432, cidr: 10.0.1.0/24 }\n"
	"          - { rule: 200, action: deny, protocol: all, cidr: 0.0.0.0/0 }\n"
	"        egress:\n"
	"          - { rule: 100, action: allow, protocol: all, cidr: 0.0.0.0/0 }\n"
	"    security_groups:\n"
	"      - name: web\n"
	"        ingress:\n"
	"          - { protocol: tcp, ports: 80, source: 0.0.0.0/0 }\n"
	"          - { protocol: icmp, icmp_type: 8, source: 10.0.0.0/16 }\n"
	"      - name: db\n"
	"        ingress:\n"
	"          - { protocol: tcp, ports: 5000-5999, source: { security_group: web } }\n"
	"        egress: []\n"
	"    interfaces:\n"
	"      - { name: w1, subnet: a, ip: 10.0.1.10, elastic_ip: 203.0.113.10, security_groups: [web] }\n"
	"      - { name: d1, subnet: b, ip: 10.0.2.20, security_groups: [db] }\n"
	"host:\n"
	"  uplink: { port: uplink, mac: 02:fe:00:00:00:01, gateway_mac: 02:fe:00:00:00:fe }\n";

static struct vpc_image *img;

static int
setup(void **state)
{
	struct vpc_diag d;

	(void)state;
	vpc_diag_init(&d, "t.yaml");
	struct topo *t = topo_load_string(topo_text, sizeof(topo_text) - 1, &d);
	if (t != NULL)
		topo_validate(t, &d);
	if (t == NULL || d.n_entries) {
		vpc_diag_print(&d, stderr);
		return -1;
	}
	img = topo_compile(t);
	topo_free(t);
	vpc_diag_fini(&d);
	return img == NULL ? -1 : 0;
}

static int
teardown(void **state)
{
	(void)state;
	vpc_image_free(img);
	return 0;
}

/* The internet checksum of n bytes (RFC 1071), folded, not inverted. */
static uint16_t
sum16(const uint8_t *p, size_t n, uint32_t s)
{
	for (size_t i = 0; i + 1 < n; i += 2)
		s += (uint32_t)(p[i] << 8 | p[i + 1]);
	if (n & 1)
		s += (uint32_t)p[n - 1] << 8;
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (uint16_t)s;
}

static void
test_frame_tcp(void **state)
{
	uint8_t f[128];
	char err[128];

	(void)state;
	uint32_t w1 = vpc_trace_port(img, "w1");
	assert_int_not_equal(w1, VPC_INDEX_NONE);
	int n = vpc_trace_frame(img, w1, "tcp 10.0.1.10:43210 > 10.0.2.20:5432 flags SA ttl 9",
				f, sizeof(f), err, sizeof(err));
	assert_int_equal(n, 54);
	/* to the router (another subnet), from w1's MAC */
	assert_memory_equal(f, img->vpcs[0].router_mac, 6);
	assert_memory_equal(f + 6, img->ifaces[0].mac, 6);
	static const uint8_t ip[] = { 0x45, 0, 0, 40, 0, 1, 0, 0, 9, 6 };
	assert_memory_equal(f + 14, ip, sizeof(ip));
	static const uint8_t addrs[] = { 10, 0, 1, 10, 10, 0, 2, 20, 0xa8, 0xca, 0x15, 0x38 };
	assert_memory_equal(f + 26, addrs, sizeof(addrs));
	assert_int_equal(f[47], 0x12);	/* SYN|ACK */
	assert_int_equal(sum16(f + 14, 20, 0), 0xffff);
	uint32_t pseudo = 0x0a00 + 0x010a + 0x0a00 + 0x0214 + 6 + 20;
	assert_int_equal(sum16(f + 34, 20, pseudo), 0xffff);

	char sum[256];
	vpc_trace_frame_summary(f, (uint32_t)n, sum, sizeof(sum));
	char want[256];
	const uint8_t *r = img->vpcs[0].router_mac, *m = img->ifaces[0].mac;
	snprintf(want, sizeof(want),
		 "%02x:%02x:%02x:%02x:%02x:%02x > %02x:%02x:%02x:%02x:%02x:%02x, "
		 "tcp 10.0.1.10:43210 > 10.0.2.20:5432 flags SA, ttl 9, length 40",
		 m[0], m[1], m[2], m[3], m[4], m[5], r[0], r[1], r[2], r[3], r[4], r[5]);
	assert_string_equal(sum, want);
}

static void
test_frame_udp_icmp_uplink(void **state)
{
	uint8_t f[2048];
	char err[128];

	(void)state;
	uint32_t up = vpc_trace_port(img, "uplink");
	int n = vpc_trace_frame(img, up, "udp 198.51.100.1:5000 > 203.0.113.10:53 len 5", f,
				sizeof(f), err, sizeof(err));
	assert_int_equal(n, 14 + 20 + 8 + 5);
	assert_memory_equal(f, img->host[0].uplink_mac, 6);
	assert_memory_equal(f + 6, img->host[0].gateway_mac, 6);
	assert_int_equal(sum16(f + 14, 20, 0), 0xffff);
	uint32_t pseudo = 0xc633 + 0x6401 + 0xcb00 + 0x710a + 17 + 13;
	assert_int_equal(sum16(f + 34, 13, pseudo), 0xffff);

	n = vpc_trace_frame(img, vpc_trace_port(img, "w1"), "icmp 10.0.1.10 > 8.8.8.8 id 7", f,
			    sizeof(f), err, sizeof(err));
	assert_int_equal(n, 42);
	assert_int_equal(f[34], 8);
	assert_int_equal(f[39], 7);
	assert_int_equal(sum16(f + 34, 8, 0), 0xffff);
}

static void
test_frame_errors(void **state)
{
	uint8_t f[128];
	char err[160];
	uint32_t w1 = vpc_trace_port(img, "w1");
	static const struct {
		const char *spec, *err;
	} bad[] = {
		{ "tcp 10.0.1.10:1", "expected 'tcp|udp SRC:PORT > DST:PORT [flags F] [ttl N] [len N]' or "
				     "'icmp SRC > DST [type T] [code C] [id N]'" },
		{ "sctp 1.2.3.4:1 > 5.6.7.8:2", "unknown protocol 'sctp' (tcp, udp or icmp)" },
		{ "tcp 1.2.3.4 > 5.6.7.8:2", "bad source '1.2.3.4' (ADDRESS:PORT)" },
		{ "tcp 1.2.3.4:70000 > 5.6.7.8:2", "bad source '1.2.3.4:70000' (ADDRESS:PORT)" },
		{ "icmp 1.2.3.4:1 > 5.6.7.8", "bad source '1.2.3.4:1' (an IPv4 address)" },
		{ "tcp 1.2.3.4:1 > 5.6.7.8:2 flags SX", "bad TCP flag 'X' (S A F R P U)" },
		{ "tcp 1.2.3.4:1 > 5.6.7.8:2 ttl", "'ttl' needs a value" },
		{ "udp 1.2.3.4:1 > 5.6.7.8:2 flags S", "bad option 'flags S'" },
		{ "udp 1.2.3.4:1 > 5.6.7.8:2 len 2000", "bad option 'len 2000'" },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(vpc_trace_frame(img, w1, bad[i].spec, f, sizeof(f), err, sizeof(err)), -1);
		assert_string_equal(err, bad[i].err);
	}
	assert_int_equal(vpc_trace_frame(img, 99, "udp 1.2.3.4:1 > 5.6.7.8:2", f, sizeof(f), err,
					 sizeof(err)), -1);
	assert_string_equal(err, "no such port");
	assert_int_equal(vpc_trace_frame(img, w1, "udp 1.2.3.4:1 > 5.6.7.8:2 len 100", f, 64, err,
					 sizeof(err)), -1);
	assert_string_equal(err, "frame too long");
}

/* The printed lines of events evs after a forwarded frame. */
static char *
print_events(const struct vpc_trace_ev *evs, uint32_t n, uint8_t action, uint8_t reason)
{
	static struct vpc_trace_buf tb;
	uint8_t f[128];
	char err[64], *out = NULL;
	size_t len = 0;

	memset(&tb, 0, sizeof(tb));
	memcpy(tb.ev, evs, n * sizeof(*evs));
	tb.n = n;
	uint32_t w1 = vpc_trace_port(img, "w1");
	int fl = vpc_trace_frame(img, w1, "tcp 10.0.1.10:1000 > 10.0.2.20:5432", f, sizeof(f), err,
				 sizeof(err));
	assert_true(fl > 0);
	struct vpc_trace_result r = {
		.in_port = w1, .in_frame = f, .in_len = (uint32_t)fl, .tb = &tb, .action = action,
		.reason = reason, .path = VPC_PATH_ROUTED, .out_port = vpc_trace_port(img, "d1"),
		.out_frame = f, .out_len = (uint32_t)fl,
	};
	FILE *m = open_memstream(&out, &len);
	assert_non_null(m);
	vpc_trace_print(m, img, &r, false);
	fclose(m);
	/* drop the first line (the packet) and the verdict's and output's */
	char *body = strchr(out, '\n');
	assert_non_null(body);
	char *copy = strdup(body + 1);
	free(out);
	char *v = strstr(copy, "  verdict");
	if (v != NULL)
		*v = 0;
	return copy;
}

static void
test_events(void **state)
{
	(void)state;
	/* the public table's default route; the main table's blackhole; the
	 * local route */
	const struct vpc_trace_ev ev[] = {
		{ VPC_TR_ROUTE, 1, 0x08080808, VPC_NH_IGW, VPC_INDEX_NONE, },
		{ VPC_TR_ROUTE, 0, 0x0a090101, VPC_NH_BLACKHOLE, VPC_INDEX_NONE, },
		{ VPC_TR_ROUTE, 0, 0x0a000214, VPC_NH_DELIVER, 1, },
		/* acl-b ingress: rule 100 allows (position 0), the implicit deny
		 * (position 2 = its length) */
		{ VPC_TR_NACL, 1, 0 * 2 + VPC_DIR_INGRESS, 0, 0 },
		{ VPC_TR_NACL, 0, 0 * 2 + VPC_DIR_INGRESS, 2, 0 },
		{ VPC_TR_NACL, 0, 0 * 2 + VPC_DIR_INGRESS, 1, 0 },
		/* d1's ingress: tcp 5432 from w1 (a member of web): rule 1 */
		{ VPC_TR_SG, VPC_TR_SG_INGRESS | 1 << 8, 1, 0x0a00010a, 6u << 16 | 5432 },
		/* web's ingress: icmp echo from the VPC: rule 2 */
		{ VPC_TR_SG, VPC_TR_SG_INGRESS | 1 << 8, 0, 0x0a000214, 1u << 16 | 8 << 8 },
		/* denied and no rule matches; denied although one does */
		{ VPC_TR_SG, VPC_TR_SG_INGRESS, 0, 0xc0000201, 6u << 16 | 22 },
		{ VPC_TR_SG, VPC_TR_SG_INGRESS, 0, 0xc0000201, 6u << 16 | 80 },
		/* d1's egress: an empty list allows nothing */
		{ VPC_TR_SG, VPC_TR_SG_EGRESS | 1 << 8, 1, 0x08080808, 17u << 16 | 53 },
		{ VPC_TR_EIP, 0, 0xcb00710a, 0, 0 },
		{ VPC_TR_EIP, 0, 0xcb00710b, VPC_INDEX_NONE, 0 },
		{ VPC_TR_CONN, 1, 1, 0, VPC_CT_TCP_ESTABLISHED },
		{ VPC_TR_TCP, VPC_CT_TCP_SYN_SENT, VPC_CT_TCP_SYN_RECV, 0, 0 },
		{ VPC_TR_L2, 0, 0, VPC_INDEX_NONE, 0 },
		{ VPC_TR_OPEN, 1, 0, 0, 0 },
	};
	char *got = print_events(ev, sizeof(ev) / sizeof(ev[0]), VPC_ACT_FORWARD, 0);
	assert_string_equal(got,
		"  route           table public: 8.8.8.8 matches 0.0.0.0/0 (internet_gateway) -> the internet gateway\n"
		"  route           table main: 10.9.1.1 matches 10.9.0.0/16 (blackhole) -> blackhole\n"
		"  route           table main: 10.0.2.20 matches 10.0.0.0/16 (local) -> interface d1\n"
		"  network ACL     acl-b ingress: rule 100 allow\n"
		"  network ACL     acl-b ingress: no rule matches (*): deny\n"
		"  network ACL     acl-b ingress: rule 200 deny\n"
		"  security group  d1 ingress: allowed by group db rule 1 (tcp 5000-5999 from group web)\n"
		"  security group  w1 ingress: allowed by group web rule 2 (icmp type 8 from 10.0.0.0/16)\n"
		"  security group  w1 ingress: denied, no rule allows\n"
		"  security group  w1 ingress: denied by group web rule 1 (tcp 80 from 0.0.0.0/0) (the image's rules disagree)\n"
		"  security group  d1 egress: allowed, though no rule of the image matches (the image's rules disagree)\n"
		"  uplink          203.0.113.10: elastic IP of interface w1\n"
		"  uplink          203.0.113.11: no elastic IP\n"
		"  conntrack       hit, direction 1 (reply), state established, cached action not current\n"
		"  tcp             state syn-sent -> syn-recv\n"
		"  switch          no interface of the VPC has the destination MAC\n"
		"  open            connection created\n");
	free(got);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_frame_tcp),
		cmocka_unit_test(test_frame_udp_icmp_uplink),
		cmocka_unit_test(test_frame_errors),
		cmocka_unit_test(test_events),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
