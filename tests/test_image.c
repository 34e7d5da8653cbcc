/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * test_image -- table images: write/read round trip, and refusal of every
 * kind of corrupt image (truncated, bad magic, foreign version, checksum
 * mismatch, section out of bounds, index or enum out of range).  An index
 * corruption is re-sealed (checksum recomputed) so the test reaches the
 * record checks rather than stopping at the checksum.
 *
 * test_reader_hazards_refused feeds the checker one corruption per record
 * check: every value a reader (show, the engines' table builders, the
 * daemon, vpc-replay) would use as an index, a count, a bound, a flag that
 * selects another field, or a name -- a crafted image must be refused
 * before any of them reads it.
 */
#include <arpa/inet.h>
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
#include "show.h"
#include "topo.h"

static const char *config_dir;

static struct vpc_image *
compile_config(const char *file)
{
	char path[1024];
	struct vpc_diag d;

	snprintf(path, sizeof(path), "%s/%s", config_dir, file);
	vpc_diag_init(&d, path);
	struct topo *t = topo_load_valid(path, &d);
	assert_non_null(t);
	struct vpc_image *img = topo_compile(t);
	assert_non_null(img);
	topo_free(t);
	vpc_diag_fini(&d);
	return img;
}

static struct vpc_image *
compile_default(void)
{
	return compile_config("default.yaml");
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
static void route_natgw(struct vpc_image *c) { c->routes[2].target = 4; }	/* with no NAT gateway to name */
static void route_peering(struct vpc_image *c) { c->routes[2].target = VPC_RT_PEERING; c->routes[2].target_peering = 0; }
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
		{ huge_count, true, "corrupt table image: section rules: bytes [1040, 24001040) out of bounds" },
		{ iface_subnet, true, "corrupt table image: interface 1: subnet 999 out of range" },
		{ iface_sg, true, "corrupt table image: interface 0: security group 77 out of range" },
		{ iface_no_sg, true, "corrupt table image: interface 2: 0 security groups" },
		{ route_target, true, "corrupt table image: route 2: target 9" },
		{ route_iface, true, "corrupt table image: route 2: interface 4 out of range" },
		{ route_natgw, true, "corrupt table image: route 2: NAT gateway 4294967295 out of range" },
		{ route_peering, true, "corrupt table image: route 2: peering 0 out of range, or not of its VPC" },
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

/* Set a name field to s, NUL-padded as the compiler writes names. */
static void
set_name(char name[VPC_NAME_SIZE], const char *s)
{
	memset(name, 0, VPC_NAME_SIZE);
	memcpy(name, s, strlen(s));
}

/*
 * config/default.yaml: one VPC (VNI 100); route tables main (route 0) and
 * public (routes 1-3: local, blackhole, internet gateway); groups web
 * (rules 0-4; rule 2 from group bastion), bastion (5-8), db (9-13, all
 * expanded from groups), default (14-15); interfaces web-1, web-2,
 * bastion, db-1 on ports 0-3, uplink port 4; elastic IP entries bastion,
 * web-1, web-2 (db-1 has none).
 */
static void h_peer_none(struct vpc_image *c) { c->rules[2].peer_sg = VPC_INDEX_NONE; }
static void h_peer_flag_only(struct vpc_image *c) { c->rules[0].flags |= VPC_RULE_F_SG_PEER; }
/* UBSan once saw memcpy from NULL here: an apply that carried no bytes. */
static void
test_empty_buffer_refused(void **state)
{
	char err[256];
	(void)state;
	assert_null(vpc_image_from_bytes(NULL, 0, err, sizeof(err)));
	assert_int_equal(errno, EINVAL);
	assert_non_null(strstr(err, "shorter than the header"));
}

static void h_peer_no_flag(struct vpc_image *c) { c->rules[0].peer_sg = 1; }
/* Found by the image fuzz target: the classifier read a code without a
 * type as "every ICMP packet". */
static void h_icmp_code_only(struct vpc_image *c)
{
	c->rules[0].proto = 1;
	c->rules[0].flags = (uint8_t)((c->rules[0].flags & ~VPC_RULE_F_ANY_PROTO) | VPC_RULE_F_ICMP_CODE);
}
static void h_icmp_on_tcp(struct vpc_image *c)
{
	c->rules[0].proto = 6;
	c->rules[0].flags = (uint8_t)((c->rules[0].flags & ~VPC_RULE_F_ANY_PROTO) | VPC_RULE_F_ICMP_TYPE);
}
static void h_peer_range(struct vpc_image *c) { c->rules[9].peer_sg = 4; }
static void h_vni_zero(struct vpc_image *c) { c->vpcs[0].vni = 0; }
static void h_vni_wide(struct vpc_image *c) { c->vpcs[0].vni = (1u << 24) + 100; }
static void h_mtu_zero(struct vpc_image *c) { c->vpcs[0].mtu = 0; }
static void h_mtu_big(struct vpc_image *c) { c->vpcs[0].mtu = 9001; }
static void h_timeout_zero(struct vpc_image *c) { c->vpcs[0].timeouts[VPC_TO_UDP] = 0; }
static void h_timeout_big(struct vpc_image *c) { c->vpcs[0].timeouts[VPC_TO_TCP_ESTABLISHED] = 30 * 86400 + 1; }
static void h_vpc_len(struct vpc_image *c) { c->vpcs[0].cidr_len = 33; }
static void h_vpc_sg(struct vpc_image *c) { c->vpcs[0].default_sg = 9; }
static void h_name_path(struct vpc_image *c) { set_name(c->ports[1].name, "../../etc/x"); }
static void h_name_escape(struct vpc_image *c) { set_name(c->ifaces[0].name, "\033[2J"); }
static void h_name_upper(struct vpc_image *c) { set_name(c->vpcs[0].name, "Prod"); }
static void h_name_dash(struct vpc_image *c) { set_name(c->subnets[0].name, "-a"); }
static void h_name_space(struct vpc_image *c) { set_name(c->rtables[0].name, "main "); }
static void h_name_tail(struct vpc_image *c) { c->sgs[0].name[10] = 'x'; }
static void h_port_dup(struct vpc_image *c) { set_name(c->ports[1].name, "web-1"); }
static void h_uplink_dup(struct vpc_image *c) { set_name(c->ports[4].name, "db-1"); }
static void h_uplink_iface(struct vpc_image *c) { c->ports[4].iface = 2; }
static void h_uplink_kind(struct vpc_image *c) { c->ports[4].kind = 7; }
static void h_port_iface(struct vpc_image *c) { c->ports[0].iface = 1; }
static void h_no_host(struct vpc_image *c) { c->hdr->sections[VPC_SEC_HOST].count = 0; }
static void h_no_port(struct vpc_image *c) { c->hdr->sections[VPC_SEC_PORT].count = 0; }
static void h_subnet_vpc(struct vpc_image *c) { c->subnets[0].vpc = 5; }
static void h_subnet_rtable(struct vpc_image *c) { c->subnets[0].rtable = 7; }
static void h_subnet_len(struct vpc_image *c) { c->subnets[1].cidr_len = 40; }
static void h_rtable_vpc(struct vpc_image *c) { c->rtables[1].vpc = 3; }
static void h_route_owner(struct vpc_image *c) { c->routes[0].rtable = 1; }
static void h_route_orphan(struct vpc_image *c) { c->rtables[1].n_routes = 2; }
static void h_route_len(struct vpc_image *c) { c->routes[3].prefix_len = 33; }
static void h_route_stray_iface(struct vpc_image *c) { c->routes[3].target_iface = 0; }
static void h_sg_vpc(struct vpc_image *c) { c->sgs[0].vpc = 2; }
static void h_sg_rules(struct vpc_image *c) { c->sgs[3].n_egress = 5; }
static void h_rule_sg(struct vpc_image *c) { c->rules[5].sg = 0; }
static void h_rule_dir(struct vpc_image *c) { c->rules[4].dir = VPC_DIR_INGRESS; }
static void h_rule_len(struct vpc_image *c) { c->rules[0].peer_len = 33; }
static void h_iface_vpc(struct vpc_image *c) { c->ifaces[0].vpc = 1; }
static void h_iface_sgs(struct vpc_image *c) { c->ifaces[0].n_sgs = VPC_IFACE_MAX_SGS + 1; }
static void h_l2_vpc(struct vpc_image *c) { c->l2[0].vpc = 1; }
static void h_eip_no_flag(struct vpc_image *c) { c->eips[0].iface = 3; }
static void h_eip_other_addr(struct vpc_image *c) { c->eips[0].iface = 0; }
static void h_iface_lost_eip(struct vpc_image *c) { c->ifaces[0].flags &= (uint8_t)~VPC_IFACE_F_EIP; }
static void
h_eip_order(struct vpc_image *c)
{
	struct vpc_image_eip e = c->eips[0];
	c->eips[0] = c->eips[1];
	c->eips[1] = e;
}
static void h_eip_dup(struct vpc_image *c) { c->eips[2] = c->eips[1]; }
static void
h_eip_missing(struct vpc_image *c)
{
	c->ifaces[3].flags |= VPC_IFACE_F_EIP;
	c->ifaces[3].elastic_ip = htonl(0xcb007114);	/* 203.0.113.20 */
}
/* DHCP options: the default record (DNS 10.0.0.2, no domain, no NTP,
 * lease 3600). */
static void h_dhcp_missing(struct vpc_image *c) { c->hdr->sections[VPC_SEC_DHCP].count = 0; }
static void h_dhcp_no_dns(struct vpc_image *c) { c->dhcp[0].n_dns = 0; }
static void h_dhcp_5_dns(struct vpc_image *c) { c->dhcp[0].n_dns = VPC_DHCP_MAX_SERVERS + 1; }
static void h_dhcp_5_ntp(struct vpc_image *c) { c->dhcp[0].n_ntp = VPC_DHCP_MAX_SERVERS + 1; }
static void h_dhcp_domain_len(struct vpc_image *c) { c->dhcp[0].domain_len = VPC_DHCP_DOMAIN_MAX; }
static void h_dhcp_domain_nul(struct vpc_image *c) { c->dhcp[0].domain_len = 3; }
static void
h_dhcp_domain_escape(struct vpc_image *c)
{
	memcpy(c->dhcp[0].domain, "a\033[2J", 6);
	c->dhcp[0].domain_len = 6;
}
static void h_dhcp_domain_tail(struct vpc_image *c) { c->dhcp[0].domain[VPC_DHCP_DOMAIN_MAX - 1] = 'x'; }
static void h_dhcp_lease_short(struct vpc_image *c) { c->dhcp[0].lease = 59; }
static void h_dhcp_lease_long(struct vpc_image *c) { c->dhcp[0].lease = 365 * 86400 + 1; }
static void h_dhcp_pad(struct vpc_image *c) { c->dhcp[0].pad = 1; }

/*
 * config/multi-vpc.yaml: VPCs tenant-a (VNI 1: groups app 0, default 1;
 * rules 0-1 expanded from app) and tenant-b (VNI 2: group default 2);
 * ports a-app-1, a-app-2, b-app-1, b-app-2, uplink, with host ports in
 * that order (the last a PCI device); tenant-a's DHCP options with the
 * domain "tenant-a.internal", tenant-b's the defaults.
 */
static void m_peer_other_vpc(struct vpc_image *c) { c->rules[0].peer_sg = 2; }
static void m_vni_dup(struct vpc_image *c) { c->vpcs[1].vni = 1; }
static void m_main_other_vpc(struct vpc_image *c) { c->vpcs[1].main_rtable = 0; }
static void m_port_dup(struct vpc_image *c) { set_name(c->ports[2].name, "a-app-1"); }
static void m_hport_type0(struct vpc_image *c) { c->hports[0].type = 0; }
static void m_hport_type7(struct vpc_image *c) { c->hports[4].type = 7; }
static void m_hport_a(struct vpc_image *c) { memset(c->hports[2].a, 'x', VPC_HPORT_STR); }
static void m_hport_b(struct vpc_image *c) { memset(c->hports[3].b, 'x', VPC_HPORT_STR); }
static void m_hport_name(struct vpc_image *c) { set_name(c->hports[1].name, "a_app-2"); }
/* vhost-user options: host port 2 (b-app-1) is the vhost-user one. */
static void m_hport_flags(struct vpc_image *c) { c->hports[2].flags = 0x80; }
static void m_hport_client_tap(struct vpc_image *c) { c->hports[0].flags = VPC_HPORT_F_CLIENT; }
static void
m_hport_mode_af_packet(struct vpc_image *c)
{
	c->hports[3].flags = VPC_HPORT_F_MODE;
	c->hports[3].mode = 0600;
}
static void
m_hport_mode_big(struct vpc_image *c)
{
	c->hports[2].flags = VPC_HPORT_F_MODE;
	c->hports[2].mode = 01000;
}
static void m_hport_mode_no_flag(struct vpc_image *c) { c->hports[2].mode = 0660; }
static void
m_hport_client_mode(struct vpc_image *c)
{
	c->hports[2].flags = VPC_HPORT_F_CLIENT | VPC_HPORT_F_MODE;
	c->hports[2].mode = 0660;
}
static void
m_hport_client_owner(struct vpc_image *c)
{
	c->hports[2].flags = VPC_HPORT_F_CLIENT;
	strcpy(c->hports[2].b, "qemu:kvm");
}
static void m_dhcp_one(struct vpc_image *c) { c->hdr->sections[VPC_SEC_DHCP].count = 1; }
static void m_dhcp_domain_tail(struct vpc_image *c) { c->dhcp[0].domain[c->dhcp[0].domain_len + 1] = 'a'; }
static void m_dhcp_domain_cut(struct vpc_image *c) { c->dhcp[0].domain_len = 8; }

static void
test_reader_hazards_refused(void **state)
{
	static const struct {
		bool multi;	/* multi-vpc.yaml, not default.yaml */
		void (*fn)(struct vpc_image *);
		const char *msg;
	} cases[] = {
		/* The reported crash: `show` names the peer group of a rule
		 * flagged as expanded from one, and indexed sgs[0xffffffff]. */
		{ false, h_peer_none, "rule 2: security-group peer without a peer group" },
		{ false, h_peer_flag_only, "rule 0: security-group peer without a peer group" },
		{ false, h_peer_no_flag, "rule 0: peer group 1 without the security-group peer flag" },
		{ false, h_icmp_code_only, "rule 0: ICMP code without a type" },
		{ false, h_icmp_on_tcp, "rule 0: ICMP type or code on protocol 6" },
		{ false, h_peer_range, "rule 9: peer group 4 out of range" },
		{ true, m_peer_other_vpc, "rule 0: peer group 2 of another VPC" },
		/* VPCs: VNI (connection context), MTU, timeouts. */
		{ false, h_vni_zero, "vpc 0: VNI 0 out of range" },
		{ false, h_vni_wide, "vpc 0: VNI 16777316 out of range" },
		{ true, m_vni_dup, "vpc 1: VNI 1 is also vpc 0's" },
		{ false, h_mtu_zero, "vpc 0: MTU 0 out of range" },
		{ false, h_mtu_big, "vpc 0: MTU 9001 out of range" },
		{ false, h_timeout_zero, "vpc 0: udp timeout 0 out of range" },
		{ false, h_timeout_big, "vpc 0: tcp_established timeout 2592001 out of range" },
		{ false, h_vpc_len, "vpc 0: prefix length 33" },
		{ false, h_vpc_sg, "vpc 0: default group 9 out of range" },
		{ true, m_main_other_vpc, "vpc 1: main table or default group of another VPC" },
		/* Names: printed raw, used as file names and map keys. */
		{ false, h_name_path, "port 1: bad name" },
		{ false, h_name_escape, "interface 0: bad name" },
		{ false, h_name_upper, "vpc 0: bad name" },
		{ false, h_name_dash, "subnet 0: bad name" },
		{ false, h_name_space, "route table 0: bad name" },
		{ false, h_name_tail, "security group 0: bad name" },
		{ true, m_hport_name, "host port 1: bad name" },
		/* Ports: unique names, one uplink, the host's. */
		{ false, h_port_dup, "port 1: name 'web-1' is also port 0's" },
		{ false, h_uplink_dup, "port 4: name 'db-1' is also port 3's" },
		{ true, m_port_dup, "port 2: name 'a-app-1' is also port 0's" },
		{ false, h_uplink_iface, "port 4: uplink with interface 2" },
		{ false, h_uplink_kind, "uplink port 4 out of range" },
		{ false, h_port_iface, "interface 0: port 0 out of range" },
		{ false, h_no_host, "host section holds 0 records, expected 1" },
		{ false, h_no_port, "no uplink port" },
		/* Subnets, route tables, routes. */
		{ false, h_subnet_vpc, "subnet 0: vpc 5 out of range" },
		{ false, h_subnet_rtable, "subnet 0: route table 7 out of range" },
		{ false, h_subnet_len, "subnet 1: prefix length 40" },
		/* (caught where subnet 0 checks its table's VPC, first) */
		{ false, h_rtable_vpc, "subnet 0: route table 1 out of range" },
		{ false, h_route_owner, "route 0 does not belong to route table 0" },
		{ false, h_route_orphan, "1 of 4 routes are in no table's range" },
		{ false, h_route_len, "route 3: prefix length 33" },
		{ false, h_route_stray_iface, "route 3: target internet_gateway with interface 0" },
		/* Security groups and rules. */
		{ false, h_sg_vpc, "security group 0: vpc 2 out of range" },
		{ false, h_sg_rules, "security group 3: rules out of range" },
		{ false, h_rule_sg, "rule 5 does not belong to security group 1" },
		{ false, h_rule_dir, "rule 4 does not belong to security group 0" },
		{ false, h_rule_len, "rule 0: prefix length 33" },
		/* Interfaces, L2, elastic IPs. */
		{ false, h_iface_vpc, "interface 0: vpc 1 out of range" },
		{ false, h_iface_sgs, "interface 0: 17 security groups" },
		{ false, h_l2_vpc, "l2 entry 0 out of range" },
		{ false, h_eip_no_flag, "elastic IP entry 0: interface 3 does not have that elastic IP" },
		{ false, h_eip_other_addr, "elastic IP entry 0: interface 0 does not have that elastic IP" },
		{ false, h_iface_lost_eip, "elastic IP entry 1: interface 0 does not have that elastic IP" },
		{ false, h_eip_order, "elastic IP entry 1: not in address order" },
		{ false, h_eip_dup, "elastic IP entry 2: not in address order" },
		{ false, h_eip_missing, "4 interfaces, 0 NAT gateways and 0 load balancers have an elastic IP, 3 elastic IP entries" },
		/* Host ports: the daemon indexes its driver table by type. */
		{ true, m_hport_type0, "host port 0: type 0" },
		{ true, m_hport_type7, "host port 4: type 7" },
		{ true, m_hport_a, "host port 2: unterminated string" },
		{ true, m_hport_b, "host port 3: unterminated string" },
		/* ... its devargs (client=1), chown and chmod */
		{ true, m_hport_flags, "host port 2: unknown flags 0x80" },
		{ true, m_hport_client_tap, "host port 0: client flag on type 2 (not vhost-user)" },
		{ true, m_hport_mode_af_packet, "host port 3: mode flag on type 3 (not vhost-user)" },
		{ true, m_hport_mode_big, "host port 2: mode 01000 above 0777" },
		{ true, m_hport_mode_no_flag, "host port 2: mode 0660 without the mode flag" },
		{ true, m_hport_client_mode, "host port 2: owner or mode on a client socket" },
		{ true, m_hport_client_owner, "host port 2: owner or mode on a client socket" },
		/* DHCP options: the dataplane copies the counted addresses
		 * and bytes into its answers, show prints the domain. */
		{ false, h_dhcp_missing, "dhcp section holds 0 records, expected one per VPC (1)" },
		{ true, m_dhcp_one, "dhcp section holds 1 records, expected one per VPC (2)" },
		{ false, h_dhcp_no_dns, "dhcp 0: 0 domain name servers" },
		{ false, h_dhcp_5_dns, "dhcp 0: 5 domain name servers" },
		{ false, h_dhcp_5_ntp, "dhcp 0: 5 NTP servers" },
		{ false, h_dhcp_domain_len, "dhcp 0: domain name of 128 bytes" },
		{ false, h_dhcp_domain_nul, "dhcp 0: domain name byte 0 is 0x00" },
		{ false, h_dhcp_domain_escape, "dhcp 0: domain name byte 1 is 0x1b" },
		{ false, h_dhcp_domain_tail, "dhcp 0: byte 127 past the domain name is not 0" },
		{ true, m_dhcp_domain_tail, "dhcp 0: byte 18 past the domain name is not 0" },
		{ true, m_dhcp_domain_cut, "dhcp 0: byte 8 past the domain name is not 0" },
		{ false, h_dhcp_lease_short, "dhcp 0: lease 59 seconds out of range" },
		{ false, h_dhcp_lease_long, "dhcp 0: lease 31536001 seconds out of range" },
		{ false, h_dhcp_pad, "dhcp 0: padding is not 0" },
	};
	struct vpc_image *img[2] = { compile_default(), compile_config("multi-vpc.yaml") };
	char err[256];
	(void)state;
	for (int k = 0; k < 2; k++)
		assert_int_equal(vpc_image_check(img[k]->buf, img[k]->size, err, sizeof(err)), 0);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct vpc_image *base = img[cases[i].multi];
		void *buf = corrupt(base, cases[i].fn, true);
		int ret = vpc_image_check(buf, base->size, err, sizeof(err));
		if (ret != -EINVAL || strstr(err, cases[i].msg) == NULL)
			fail_msg("case %zu: got %d \"%s\", expected \"%s\"", i, ret, err,
				 cases[i].msg);
		free(buf);
	}
	vpc_image_free(img[0]);
	vpc_image_free(img[1]);
}

/*
 * tests/topo/valid/lb.yaml: balancers web-lb (0: internet-facing, group
 * lb-sg 0, listener 0, target group web 0 with targets 0-1) and dns-lb
 * (1: internal in subnet private-a 1, listeners 1 udp/53 and 2 tcp/53,
 * groups dns-udp 1 (targets 2-3), dns-tcp 2 (target 4), spare 3 (none));
 * interfaces web-1, web-2, dns-1, dns-2; elastic IP entries web-lb's,
 * then dns-2's.
 */
static struct vpc_image *
compile_lb(void)
{
	return compile_config("../tests/topo/valid/lb.yaml");
}

static void b_vpc(struct vpc_image *c) { c->lbs[0].vpc = 1; }
static void b_name(struct vpc_image *c) { set_name(c->lbs[1].name, "DNS"); }
static void b_flags(struct vpc_image *c) { c->lbs[0].flags = 0x81; }
static void b_internet_subnet(struct vpc_image *c) { c->lbs[0].subnet = 0; }
static void b_internet_no_eip(struct vpc_image *c) { c->lbs[0].elastic_ip = 0; }
static void b_lost_flag(struct vpc_image *c) { c->lbs[0].flags = 0; }
static void b_subnet(struct vpc_image *c) { c->lbs[1].subnet = 7; }
static void b_ip_outside(struct vpc_image *c) { c->lbs[1].ip = htonl(0x0a000164); }	/* 10.0.1.100 */
static void b_internal_eip(struct vpc_image *c) { c->lbs[1].elastic_ip = htonl(0xc6336414); }
static void b_n_sgs(struct vpc_image *c) { c->lbs[0].n_sgs = VPC_LB_MAX_SGS + 1; }
static void b_sg(struct vpc_image *c) { c->lbs[0].sgs[0] = 9; }
static void b_listeners(struct vpc_image *c) { c->lbs[1].n_listeners = 5; }
static void b_listener_owner(struct vpc_image *c) { c->listeners[0].lb = 1; }
static void b_listener_orphan(struct vpc_image *c) { c->lbs[1].n_listeners = 1; }
static void b_tgroups(struct vpc_image *c) { c->lbs[1].first_tgroup = 0xfffffff0; }
static void b_tgroup_owner(struct vpc_image *c) { c->tgroups[1].lb = 0; }
static void b_tgroup_orphan(struct vpc_image *c) { c->lbs[1].n_tgroups = 2; }
static void g_name(struct vpc_image *c) { memset(c->tgroups[0].name, 'w', VPC_NAME_SIZE); }
static void g_proto(struct vpc_image *c) { c->tgroups[0].proto = 1; }
static void g_algorithm(struct vpc_image *c) { c->tgroups[0].algorithm = VPC_LB_ALG_COUNT; }
static void g_port(struct vpc_image *c) { c->tgroups[0].port = 0; }
static void g_interval(struct vpc_image *c) { c->tgroups[0].hc_interval = 301; }
static void g_timeout(struct vpc_image *c) { c->tgroups[0].hc_timeout = 30; }	/* = interval */
static void g_healthy(struct vpc_image *c) { c->tgroups[0].hc_healthy = 11; }
static void g_unhealthy(struct vpc_image *c) { c->tgroups[1].hc_unhealthy = 1; }
static void g_dereg(struct vpc_image *c) { c->tgroups[0].dereg_delay = 3601; }
static void g_n_targets(struct vpc_image *c) { c->tgroups[3].n_targets = VPC_LB_MAX_TARGETS + 1; }
static void g_targets(struct vpc_image *c) { c->tgroups[0].n_targets = 3; }
static void g_target_orphan(struct vpc_image *c) { c->tgroups[2].n_targets = 0; }
static void l_proto(struct vpc_image *c) { c->listeners[0].proto = 1; }
static void l_port(struct vpc_image *c) { c->listeners[0].port = 0; }
static void l_tgroup(struct vpc_image *c) { c->listeners[0].tgroup = 4; }
static void l_tgroup_other_lb(struct vpc_image *c) { c->listeners[0].tgroup = 2; }
static void l_tgroup_other_proto(struct vpc_image *c) { c->listeners[1].tgroup = 2; }
static void
l_duplicate(struct vpc_image *c)
{
	c->listeners[2].proto = 17;
	c->listeners[2].tgroup = 1;
}
static void x_group(struct vpc_image *c) { c->targets[4].tgroup = 9; }
static void x_iface(struct vpc_image *c) { c->targets[0].iface = 4; }
static void x_port(struct vpc_image *c) { c->targets[1].port = 0; }
static void x_hc_port(struct vpc_image *c) { c->targets[1].hc_port = 0; }
static void x_weight_zero(struct vpc_image *c) { c->targets[2].weight = 0; }
static void x_weight_big(struct vpc_image *c) { c->targets[2].weight = 1001; }
static void e_internal(struct vpc_image *c) { c->eips[0].iface = VPC_EIP_LB | 1; }
static void e_range(struct vpc_image *c) { c->eips[0].iface = VPC_EIP_LB | 2; }
static void e_other_addr(struct vpc_image *c) { c->eips[0].elastic_ip = htonl(0xc6336401); }
static void e_both_kinds(struct vpc_image *c) { c->eips[0].iface = VPC_EIP_LB | VPC_EIP_NATGW; }
static void
e_missing(struct vpc_image *c)
{
	c->eips[0] = c->eips[1];
	c->hdr->sections[VPC_SEC_EIP].count = 1;
}

static void
test_lb_hazards_refused(void **state)
{
	static const struct {
		void (*fn)(struct vpc_image *);
		const char *msg;
	} cases[] = {
		/* Balancers: VPC, scheme and its fields, groups. */
		{ b_vpc, "load balancer 0: vpc 1 out of range" },
		{ b_name, "load balancer 1: bad name" },
		{ b_flags, "load balancer 0: unknown flags 0x81" },
		{ b_internet_subnet, "load balancer 0: internet-facing with subnet 0, or no elastic IP" },
		{ b_internet_no_eip, "load balancer 0: internet-facing with subnet 4294967295, or no elastic IP" },
		{ b_lost_flag, "load balancer 0: subnet 4294967295 out of range" },
		{ b_subnet, "load balancer 1: subnet 7 out of range" },
		{ b_ip_outside, "load balancer 1: internal, its address outside subnet 1 or an elastic IP" },
		{ b_internal_eip, "load balancer 1: internal, its address outside subnet 1 or an elastic IP" },
		{ b_n_sgs, "load balancer 0: 6 security groups" },
		{ b_sg, "load balancer 0: security group 9 out of range" },
		/* Its listeners and target groups: contiguous, its own, all. */
		{ b_listeners, "load balancer 1: listeners [1, +5) out of range" },
		{ b_listener_owner, "listener 0 does not belong to load balancer 0" },
		{ b_listener_orphan, "1 of 3 listeners are in no load balancer's range" },
		{ b_tgroups, "load balancer 1: target groups [4294967280, +3) out of range" },
		{ b_tgroup_owner, "target group 1 does not belong to load balancer 1" },
		{ b_tgroup_orphan, "1 of 4 target groups are in no load balancer's range" },
		/* Target groups: enums, bounds, the targets' range. */
		{ g_name, "target group 0: bad name" },
		{ g_proto, "target group 0: protocol 1" },
		{ g_algorithm, "target group 0: algorithm 4" },
		{ g_port, "target group 0: port 0" },
		{ g_interval, "target group 0: health check interval 301 s, timeout 10 s" },
		{ g_timeout, "target group 0: health check interval 30 s, timeout 30 s" },
		{ g_healthy, "target group 0: health check thresholds 11 and 2" },
		{ g_unhealthy, "target group 1: health check thresholds 3 and 1" },
		{ g_dereg, "target group 0: deregistration delay 3601 s out of range" },
		{ g_n_targets, "target group 3: 65 targets" },
		{ g_targets, "target 2 does not belong to target group 0" },
		{ g_target_orphan, "1 of 5 targets are in no target group's range" },
		/* Listeners: protocol, port, a group of theirs and of their
		 * protocol, one per (protocol, port). */
		{ l_proto, "listener 0: protocol 1 port 80" },
		{ l_port, "listener 0: protocol 6 port 0" },
		{ l_tgroup, "listener 0: target group 4 out of range, of another load balancer or protocol" },
		{ l_tgroup_other_lb, "listener 0: target group 2 out of range, of another load balancer or protocol" },
		{ l_tgroup_other_proto, "listener 1: target group 2 out of range, of another load balancer or protocol" },
		{ l_duplicate, "load balancer 1: two listeners of protocol 17 port 53" },
		/* Targets. */
		{ x_group, "target 4 does not belong to target group 2" },
		{ x_iface, "target 0: interface 4 out of range, of another VPC or remote" },
		{ x_port, "target 1: port 0, health check port 8080" },
		{ x_hc_port, "target 1: port 8080, health check port 0" },
		{ x_weight_zero, "target 2: weight 0" },
		{ x_weight_big, "target 2: weight 1001" },
		/* The uplink's table names internet-facing balancers with
		 * their addresses, every one of them. */
		{ e_internal, "elastic IP entry 0: load balancer 1 out of range, internal or without that elastic IP" },
		{ e_range, "elastic IP entry 0: load balancer 2 out of range, internal or without that elastic IP" },
		{ e_other_addr, "elastic IP entry 0: load balancer 0 out of range, internal or without that elastic IP" },
		{ e_both_kinds, "elastic IP entry 0: NAT gateway 1073741824 out of range or without that elastic IP" },
		{ e_missing, "1 interfaces, 0 NAT gateways and 1 load balancers have an elastic IP, 1 elastic IP entries" },
	};
	struct vpc_image *img = compile_lb();
	char err[256];
	(void)state;
	assert_int_equal(vpc_image_check(img->buf, img->size, err, sizeof(err)), 0);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		void *buf = corrupt(img, cases[i].fn, true);
		int ret = vpc_image_check(buf, img->size, err, sizeof(err));
		if (ret != -EINVAL || strstr(err, cases[i].msg) == NULL)
			fail_msg("case %zu: got %d \"%s\", expected \"%s\"", i, ret, err,
				 cases[i].msg);
		free(buf);
	}
	vpc_image_free(img);
}

/*
 * The reported case end to end, as `vpcctl show FILE` reads it: a file
 * whose checksum is right and whose rule 2 is flagged as expanded from a
 * group but names none.
 */
static void
test_rule_peer_none_file_refused(void **state)
{
	struct vpc_image *img = compile_default();
	char path[] = "/tmp/vpc-test-img-XXXXXX", err[256];
	(void)state;
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	close(fd);
	assert_true(img->rules[2].flags & VPC_RULE_F_SG_PEER);
	img->rules[2].peer_sg = VPC_INDEX_NONE;
	vpc_image_seal(img);
	assert_int_equal(vpc_image_write_file(img, path), 0);
	assert_null(vpc_image_read_file(path, err, sizeof(err)));
	assert_int_equal(errno, EINVAL);
	assert_string_equal(err, "corrupt table image: rule 2: security-group peer without a peer group");
	unlink(path);
	vpc_image_free(img);
}

/* Two ports of kind uplink: the engines send to the internet by the
 * host's one only.  Built from nothing: a compiled image has one. */
static void
test_second_uplink_refused(void **state)
{
	uint32_t counts[VPC_SEC_COUNT] = { [VPC_SEC_PORT] = 2, [VPC_SEC_HOST] = 1 };
	struct vpc_image *img = vpc_image_alloc(counts);
	char err[256];
	(void)state;
	assert_non_null(img);
	for (uint32_t p = 0; p < 2; p++) {
		set_name(img->ports[p].name, p ? "uplink-2" : "uplink");
		img->ports[p].kind = VPC_PORT_UPLINK;
		img->ports[p].iface = VPC_INDEX_NONE;
	}
	img->host[0].uplink_port = 0;
	vpc_image_seal(img);
	assert_int_equal(vpc_image_check(img->buf, img->size, err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "corrupt table image: port 1: a second uplink");
	img->hdr->sections[VPC_SEC_PORT].count = 1;	/* the one uplink: valid */
	vpc_image_seal(img);
	assert_int_equal(vpc_image_check(img->buf, img->size, err, sizeof(err)), 0);
	vpc_image_free(img);
}

/*
 * Random corruption with a fixed seed: each mutant is either refused or,
 * if accepted, every index in it is in range -- the checker, run under
 * ASan, must never read out of bounds whatever the bytes say, and `show`,
 * which follows every index of an image, must not either on what the
 * checker accepts.
 */
static void
random_corruption(struct vpc_image *img)
{
	uint64_t seed = 0x9e3779b97f4a7c15ull;
	uint32_t refused_n = 0, accepted = 0;
	FILE *null = fopen("/dev/null", "w");
	assert_non_null(null);
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
		if (vpc_image_check(c->buf, c->size, err, sizeof(err)) == 0) {
			/* c's views are of the bytes before the mutation */
			struct vpc_image *v = vpc_image_from_bytes(c->buf, c->size, err,
								   sizeof(err));
			assert_non_null(v);
			vpc_show_text(v, null);
			vpc_show_json(v, null);
			vpc_image_free(v);
			accepted++;
		} else {
			refused_n++;
		}
		vpc_image_free(c);
	}
	fclose(null);
	/* Some mutants only touch names' padding-free bytes or MACs and are
	 * legitimately accepted; most must be refused. */
	assert_true(refused_n > 0);
	assert_int_equal(refused_n + accepted, 20000);
	vpc_image_free(img);
}

static void
test_random_corruption(void **state)
{
	(void)state;
	random_corruption(compile_default());
	random_corruption(compile_lb());	/* the load-balancer sections */
}

int
main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_every_truncation_refused),
		cmocka_unit_test(test_corrupt_refused),
		cmocka_unit_test(test_reader_hazards_refused),
		cmocka_unit_test(test_lb_hazards_refused),
		cmocka_unit_test(test_rule_peer_none_file_refused),
		cmocka_unit_test(test_second_uplink_refused),
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_random_corruption),
		cmocka_unit_test(test_empty_buffer_refused),
	};
	config_dir = argc > 1 ? argv[1] : "config";
	return cmocka_run_group_tests(tests, NULL, NULL);
}
