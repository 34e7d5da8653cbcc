/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * test_compile -- the example topologies compile to exactly the expected
 * tables.  The default topology is checked record by record; the others
 * for what they exist to show (isolation of overlapping VPCs, per-VPC
 * timeouts and DHCP options, appliance routes, an explicit empty egress
 * list); DHCP options in every form from a topology in the test; load
 * balancers record by record.
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
#include "topo.h"
#include "vpc_image_io.h"
#include "vpc_records.h"

static const char *config_dir;

static struct vpc_image *
compile_path(const char *path)
{
	struct vpc_diag d;

	vpc_diag_init(&d, path);
	struct topo *t = topo_load_valid(path, &d);
	if (t == NULL)
		vpc_diag_print(&d, stderr);
	assert_non_null(t);
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

	assert_true(snprintf(path, sizeof(path), "%s/%s", config_dir, name) < (int)sizeof(path));
	return compile_path(path);
}

static __be32
ip(const char *s)
{
	uint32_t a;
	assert_int_equal(topo_parse_ipv4(s, &a), 0);
	return htonl(a);
}

#define MAC(...) ((const uint8_t[6]){ __VA_ARGS__ })

static void
check_rule(const struct vpc_image_rule *r, uint32_t sg, int dir, int proto,
	   uint8_t flags, const char *peer, uint8_t len, uint16_t lo,
	   uint16_t hi, uint8_t type, uint8_t code, uint16_t src,
	   uint32_t peer_sg)
{
	assert_int_equal(r->sg, sg);
	assert_int_equal(r->dir, dir);
	assert_int_equal(r->proto, proto);
	assert_int_equal(r->flags, flags);
	assert_int_equal(r->peer_addr, ip(peer));
	assert_int_equal(r->peer_len, len);
	assert_int_equal(r->port_lo, lo);
	assert_int_equal(r->port_hi, hi);
	assert_int_equal(r->icmp_type, type);
	assert_int_equal(r->icmp_code, code);
	assert_int_equal(r->src_rule, src);
	assert_int_equal(r->peer_sg, peer_sg);
}

static void
check_route(const struct vpc_image_route *r, uint32_t table, const char *pfx,
	    uint8_t len, int target, uint8_t flags, uint32_t iface)
{
	assert_int_equal(r->rtable, table);
	assert_int_equal(r->prefix, ip(pfx));
	assert_int_equal(r->prefix_len, len);
	assert_int_equal(r->target, target);
	assert_int_equal(r->flags, flags);
	assert_int_equal(r->target_iface, iface);
}

/* A DHCP record: its servers (NULL-terminated lists), domain and lease;
 * every byte past them 0. */
static void
check_dhcp(const struct vpc_image_dhcp *o, const char *const dns[],
	   const char *const ntp[], const char *domain, uint32_t lease)
{
	struct vpc_image_dhcp want = { .lease = lease };

	for (; dns[want.n_dns] != NULL; want.n_dns++)
		want.dns[want.n_dns] = ip(dns[want.n_dns]);
	for (; ntp[want.n_ntp] != NULL; want.n_ntp++)
		want.ntp[want.n_ntp] = ip(ntp[want.n_ntp]);
	want.domain_len = (uint8_t)strlen(domain);
	memcpy(want.domain, domain, want.domain_len);
	assert_int_equal(o->n_dns, want.n_dns);
	assert_int_equal(o->n_ntp, want.n_ntp);
	assert_string_equal(o->domain, domain);
	assert_int_equal(o->lease, lease);
	assert_memory_equal(o, &want, sizeof(want));
}

#define NONE ((const char *const[]){ NULL })
#define ADDRS(...) ((const char *const[]){ __VA_ARGS__, NULL })

static void
test_default_topology(void **state)
{
	struct vpc_image *m = compile_file("default.yaml");
	const uint32_t N = VPC_INDEX_NONE;
	(void)state;

	assert_int_equal(m->n_vpcs, 1);
	assert_int_equal(m->n_subnets, 2);
	assert_int_equal(m->n_rtables, 2);
	assert_int_equal(m->n_routes, 4);
	assert_int_equal(m->n_sgs, 4);
	assert_int_equal(m->n_rules, 16);
	assert_int_equal(m->n_ifaces, 4);
	assert_int_equal(m->n_ports, 5);
	assert_int_equal(m->n_l2, 4);
	assert_int_equal(m->n_eips, 3);
	assert_int_equal(m->n_host, 1);

	/* VPC */
	const struct vpc_image_vpc *v = &m->vpcs[0];
	assert_string_equal(v->name, "prod");
	assert_int_equal(v->vni, 100);
	assert_int_equal(v->cidr_addr, ip("10.0.0.0"));
	assert_int_equal(v->cidr_len, 16);
	assert_int_equal(v->flags, VPC_VPC_F_IGW);
	assert_int_equal(v->mtu, 1500);
	assert_int_equal(v->main_rtable, 0);
	assert_int_equal(v->default_sg, 3);
	assert_memory_equal(v->router_mac, MAC(0x06, 0, 0, 0, 100, 1), 6);
	static const uint32_t to[VPC_TO_COUNT] = { 120, 432000, 120, 30, 180, 30, 600 };
	assert_memory_equal(v->timeouts, to, sizeof(to));
	/* DHCP options: AWS's defaults (DNS at the VPC's base + 2) */
	assert_int_equal(m->n_dhcp, 1);
	check_dhcp(&m->dhcp[0], ADDRS("10.0.0.2"), NONE, "", 3600);

	/* Subnets, with their gateways and tables */
	assert_string_equal(m->subnets[0].name, "public-a");
	assert_int_equal(m->subnets[0].vpc, 0);
	assert_int_equal(m->subnets[0].rtable, 1);
	assert_int_equal(m->subnets[0].cidr_addr, ip("10.0.1.0"));
	assert_int_equal(m->subnets[0].cidr_len, 24);
	assert_int_equal(m->subnets[0].gateway_ip, ip("10.0.1.1"));
	assert_string_equal(m->subnets[1].name, "private-a");
	assert_int_equal(m->subnets[1].rtable, 0);
	assert_int_equal(m->subnets[1].cidr_addr, ip("10.0.2.0"));
	assert_int_equal(m->subnets[1].gateway_ip, ip("10.0.2.1"));

	/* Route tables: longest prefix first, implicit local route in each */
	assert_string_equal(m->rtables[0].name, "main");
	assert_int_equal(m->rtables[0].is_main, 1);
	assert_int_equal(m->rtables[0].first_route, 0);
	assert_int_equal(m->rtables[0].n_routes, 1);
	check_route(&m->routes[0], 0, "10.0.0.0", 16, VPC_RT_LOCAL, VPC_ROUTE_F_IMPLICIT, N);
	assert_string_equal(m->rtables[1].name, "public");
	assert_int_equal(m->rtables[1].is_main, 0);
	assert_int_equal(m->rtables[1].first_route, 1);
	assert_int_equal(m->rtables[1].n_routes, 3);
	check_route(&m->routes[1], 1, "10.0.0.0", 16, VPC_RT_LOCAL, VPC_ROUTE_F_IMPLICIT, N);
	check_route(&m->routes[2], 1, "10.9.0.0", 16, VPC_RT_BLACKHOLE, 0, N);
	check_route(&m->routes[3], 1, "0.0.0.0", 0, VPC_RT_IGW, 0, N);

	/* Security groups and every rule, group peers expanded */
	static const struct { const char *name; uint32_t first, in, eg, members; uint8_t flags; } sg[] = {
		{ "web", 0, 4, 1, 2, 0 },
		{ "bastion", 5, 2, 2, 1, 0 },
		{ "db", 9, 3, 2, 1, 0 },
		{ "default", 14, 1, 1, 1, VPC_SG_F_IMPLICIT },
	};
	for (int i = 0; i < 4; i++) {
		assert_string_equal(m->sgs[i].name, sg[i].name);
		assert_int_equal(m->sgs[i].vpc, 0);
		assert_int_equal(m->sgs[i].first_rule, sg[i].first);
		assert_int_equal(m->sgs[i].n_ingress, sg[i].in);
		assert_int_equal(m->sgs[i].n_egress, sg[i].eg);
		assert_int_equal(m->sgs[i].n_members, sg[i].members);
		assert_int_equal(m->sgs[i].flags, sg[i].flags);
	}
	const uint8_t ANY = VPC_RULE_F_ANY_PROTO, SGP = VPC_RULE_F_SG_PEER,
		      T = VPC_RULE_F_ICMP_TYPE, C = VPC_RULE_F_ICMP_CODE;
	const struct vpc_image_rule *r = m->rules;
	/* web */
	check_rule(&r[0], 0, 0, 6, 0, "0.0.0.0", 0, 80, 80, 0, 0, 0, N);
	check_rule(&r[1], 0, 0, 6, 0, "0.0.0.0", 0, 443, 443, 0, 0, 1, N);
	check_rule(&r[2], 0, 0, 6, SGP, "10.0.1.5", 32, 22, 22, 0, 0, 2, 1);
	check_rule(&r[3], 0, 0, 1, T, "10.0.0.0", 16, 0, 65535, 8, 0, 3, N);
	check_rule(&r[4], 0, 1, 0, ANY, "0.0.0.0", 0, 0, 65535, 0, 0, 0, N);
	/* bastion */
	check_rule(&r[5], 1, 0, 6, 0, "198.51.100.0", 24, 22, 22, 0, 0, 0, N);
	check_rule(&r[6], 1, 0, 1, T | C, "0.0.0.0", 0, 0, 65535, 8, 0, 1, N);
	check_rule(&r[7], 1, 1, 6, 0, "10.0.0.0", 16, 22, 22, 0, 0, 0, N);
	check_rule(&r[8], 1, 1, 1, 0, "0.0.0.0", 0, 0, 65535, 0, 0, 1, N);
	/* db: web has two members, in interface order */
	check_rule(&r[9], 2, 0, 6, SGP, "10.0.1.10", 32, 5432, 5432, 0, 0, 0, 0);
	check_rule(&r[10], 2, 0, 6, SGP, "10.0.1.11", 32, 5432, 5432, 0, 0, 0, 0);
	check_rule(&r[11], 2, 0, 6, SGP, "10.0.1.5", 32, 22, 22, 0, 0, 1, 1);
	check_rule(&r[12], 2, 1, 17, SGP, "10.0.1.10", 32, 1024, 65535, 0, 0, 0, 0);
	check_rule(&r[13], 2, 1, 17, SGP, "10.0.1.11", 32, 1024, 65535, 0, 0, 0, 0);
	/* the implicit default group: from its members (web-2), to anywhere */
	check_rule(&r[14], 3, 0, 0, ANY | SGP, "10.0.1.11", 32, 0, 65535, 0, 0, 0, 3);
	check_rule(&r[15], 3, 1, 0, ANY, "0.0.0.0", 0, 0, 65535, 0, 0, 0, N);

	/* Interfaces */
	static const struct {
		const char *name, *ip, *eip;
		uint8_t mac[6];
		uint8_t flags, n_sgs;
		uint16_t sgs[2];
		uint32_t subnet;
	} f[] = {
		{ "web-1", "10.0.1.10", "203.0.113.10", { 2, 100, 10, 0, 1, 10 },
		  VPC_IFACE_F_SRC_DST_CHECK | VPC_IFACE_F_EIP | VPC_IFACE_F_MAC_DERIVED, 1, { 0 }, 0 },
		{ "web-2", "10.0.1.11", "203.0.113.11", { 2, 100, 10, 0, 1, 11 },
		  VPC_IFACE_F_SRC_DST_CHECK | VPC_IFACE_F_EIP | VPC_IFACE_F_MAC_DERIVED, 2, { 0, 3 }, 0 },
		{ "bastion", "10.0.1.5", "203.0.113.5", { 2, 0, 0, 0, 0x0b, 5 },
		  VPC_IFACE_F_SRC_DST_CHECK | VPC_IFACE_F_EIP, 1, { 1 }, 0 },
		{ "db-1", "10.0.2.20", "0.0.0.0", { 2, 100, 10, 0, 2, 20 },
		  VPC_IFACE_F_SRC_DST_CHECK | VPC_IFACE_F_MAC_DERIVED, 1, { 2 }, 1 },
	};
	for (uint32_t i = 0; i < 4; i++) {
		const struct vpc_image_iface *x = &m->ifaces[i];
		assert_string_equal(x->name, f[i].name);
		assert_int_equal(x->vpc, 0);
		assert_int_equal(x->subnet, f[i].subnet);
		assert_int_equal(x->port, i);
		assert_int_equal(x->ip, ip(f[i].ip));
		assert_int_equal(x->elastic_ip, ip(f[i].eip));
		assert_memory_equal(x->mac, f[i].mac, 6);
		assert_int_equal(x->flags, f[i].flags);
		assert_int_equal(x->n_sgs, f[i].n_sgs);
		assert_memory_equal(x->sgs, f[i].sgs, f[i].n_sgs * sizeof(uint16_t));
		/* Ports: one per interface, named after it by default */
		assert_string_equal(m->ports[i].name, f[i].name);
		assert_int_equal(m->ports[i].kind, VPC_PORT_IFACE);
		assert_int_equal(m->ports[i].iface, i);
	}
	assert_string_equal(m->ports[4].name, "uplink");
	assert_int_equal(m->ports[4].kind, VPC_PORT_UPLINK);
	assert_int_equal(m->ports[4].iface, N);

	/* L2 table, sorted by (vpc, MAC) */
	static const struct { uint8_t mac[6]; uint32_t iface; } l2[] = {
		{ { 2, 0, 0, 0, 0x0b, 5 }, 2 },
		{ { 2, 100, 10, 0, 1, 10 }, 0 },
		{ { 2, 100, 10, 0, 1, 11 }, 1 },
		{ { 2, 100, 10, 0, 2, 20 }, 3 },
	};
	for (int i = 0; i < 4; i++) {
		assert_int_equal(m->l2[i].vpc, 0);
		assert_memory_equal(m->l2[i].mac, l2[i].mac, 6);
		assert_int_equal(m->l2[i].iface, l2[i].iface);
	}

	/* Elastic IPs, sorted by address */
	assert_int_equal(m->eips[0].elastic_ip, ip("203.0.113.5"));
	assert_int_equal(m->eips[0].iface, 2);
	assert_int_equal(m->eips[1].elastic_ip, ip("203.0.113.10"));
	assert_int_equal(m->eips[1].iface, 0);
	assert_int_equal(m->eips[2].elastic_ip, ip("203.0.113.11"));
	assert_int_equal(m->eips[2].iface, 1);

	/* Host */
	assert_int_equal(m->host[0].uplink_port, 4);
	assert_memory_equal(m->host[0].uplink_mac, MAC(2, 0xfe, 0, 0, 0, 1), 6);
	assert_memory_equal(m->host[0].gateway_mac, MAC(2, 0xfe, 0, 0, 0, 0xfe), 6);
	assert_int_equal(m->host[0].flags, VPC_HOST_F_UPLINK_MACS);

	vpc_image_free(m);
}

static void
test_multi_vpc(void **state)
{
	struct vpc_image *m = compile_file("multi-vpc.yaml");
	(void)state;

	assert_int_equal(m->n_vpcs, 2);
	/* Omitted VNIs: the smallest unused, in file order. */
	assert_int_equal(m->vpcs[0].vni, 1);
	assert_int_equal(m->vpcs[1].vni, 2);
	/* Same CIDR, same private IPs, distinct MACs and L2 entries. */
	assert_int_equal(m->vpcs[0].cidr_addr, m->vpcs[1].cidr_addr);
	assert_int_equal(m->ifaces[0].ip, m->ifaces[2].ip);
	assert_memory_equal(m->ifaces[0].mac, MAC(2, 1, 172, 16, 1, 10), 6);
	assert_memory_equal(m->ifaces[2].mac, MAC(2, 2, 172, 16, 1, 10), 6);
	assert_int_equal(m->n_l2, 4);
	for (int i = 0; i < 4; i++)
		assert_int_equal(m->l2[i].vpc, i / 2);
	/* Each interface bound to its own port */
	assert_string_equal(m->ports[0].name, "a-app-1");
	assert_string_equal(m->ports[2].name, "b-app-1");
	/* Per-VPC timeouts, the rest default */
	assert_int_equal(m->vpcs[0].timeouts[VPC_TO_TCP_ESTABLISHED], 432000);
	assert_int_equal(m->vpcs[1].timeouts[VPC_TO_TCP_ESTABLISHED], 3600);
	assert_int_equal(m->vpcs[1].timeouts[VPC_TO_UDP], 60);
	assert_int_equal(m->vpcs[1].timeouts[VPC_TO_ICMP], 30);
	/* tenant-a's DHCP options; tenant-b's AWS's defaults */
	assert_int_equal(m->n_dhcp, 2);
	check_dhcp(&m->dhcp[0], ADDRS("172.16.1.53", "172.16.0.2"),
		   ADDRS("169.254.169.123"), "tenant-a.internal", 86400);
	check_dhcp(&m->dhcp[1], ADDRS("172.16.0.2"), NONE, "", 3600);
	/* tenant-b has no route table in the file: an empty main one exists */
	const struct vpc_image_rtable *t = &m->rtables[m->vpcs[1].main_rtable];
	assert_string_equal(t->name, "main");
	assert_int_equal(t->vpc, 1);
	assert_int_equal(t->n_routes, 1);
	assert_int_equal(m->routes[t->first_route].target, VPC_RT_LOCAL);
	/* Group peers never cross VPCs: tenant-b's default group lists only
	 * tenant-b's members. */
	const struct vpc_image_sg *g = &m->sgs[m->vpcs[1].default_sg];
	assert_int_equal(g->n_members, 2);
	assert_int_equal(g->n_ingress, 2);
	for (uint32_t r = g->first_rule; r < g->first_rule + g->n_ingress; r++)
		assert_int_equal(m->rules[r].sg, m->vpcs[1].default_sg);
	vpc_image_free(m);
}

static void
test_appliance(void **state)
{
	struct vpc_image *m = compile_file("appliance.yaml");
	(void)state;

	assert_int_equal(m->vpcs[0].mtu, 9000);
	/* via-fw: 10.20.3.0/24 -> fw-1, 10.20.0.0/16 local, 0/0 -> fw-1 */
	const struct vpc_image_rtable *t = &m->rtables[0];
	assert_string_equal(t->name, "via-fw");
	assert_int_equal(t->n_routes, 3);
	check_route(&m->routes[0], 0, "10.20.3.0", 24, VPC_RT_IFACE, 0, 0);
	check_route(&m->routes[1], 0, "10.20.0.0", 16, VPC_RT_LOCAL, VPC_ROUTE_F_IMPLICIT, VPC_INDEX_NONE);
	check_route(&m->routes[2], 0, "0.0.0.0", 0, VPC_RT_IFACE, 0, 0);
	assert_string_equal(m->ifaces[0].name, "fw-1");
	assert_int_equal(m->ifaces[0].flags & VPC_IFACE_F_SRC_DST_CHECK, 0);
	/* The fw subnet uses fw-out; the others the main table */
	assert_int_equal(m->subnets[1].rtable, 1);
	assert_int_equal(m->subnets[0].rtable, 0);
	assert_int_equal(m->subnets[2].rtable, 0);
	/* data: "egress: []" allows nothing; its ingress names app's members */
	const struct vpc_image_sg *g = &m->sgs[2];
	assert_string_equal(g->name, "data");
	assert_int_equal(g->n_egress, 0);
	assert_int_equal(g->n_ingress, 2);
	/* GRE by number */
	const struct vpc_image_rule *gre = &m->rules[m->sgs[0].first_rule + 1];
	assert_int_equal(gre->proto, 47);
	assert_int_equal(gre->flags, 0);
	vpc_image_free(m);
}

/* The documented fallback: 0a + 40 bits of FNV-1a over (vni, ip, attempt),
 * each as 4 little-endian bytes.  Recomputed here, independently. */
static void
fallback_mac(uint8_t mac[6], uint32_t vni, uint32_t ip, uint32_t attempt)
{
	uint64_t h = 0xcbf29ce484222325ull;
	uint32_t w[3] = { vni, ip, attempt };
	for (int i = 0; i < 3; i++)
		for (int k = 0; k < 4; k++) {
			h ^= (w[i] >> (8 * k)) & 0xff;
			h *= 0x100000001b3ull;
		}
	mac[0] = 0x0a;
	for (int k = 1; k < 6; k++)
		mac[k] = (uint8_t)(h >> (8 * (k - 1)));
}

static void
test_derived_mac_collisions(void **state)
{
	char dir[1024];
	(void)state;
	snprintf(dir, sizeof(dir), "%s/../tests/topo/valid", config_dir);
	const char *saved = config_dir;
	config_dir = dir;
	struct vpc_image *m = compile_file("derived-macs.yaml");
	config_dir = saved;

	uint8_t want[6];
	/* a1: first choice taken by a2's explicit MAC -> attempt 1 */
	fallback_mac(want, 1, 0x0a00010a, 1);
	assert_memory_equal(m->ifaces[0].mac, want, 6);
	assert_true(m->ifaces[0].flags & VPC_IFACE_F_MAC_DERIVED);
	assert_memory_equal(m->ifaces[1].mac, MAC(2, 1, 10, 0, 1, 10), 6);
	/* b-web: 02:01:0a:00:01:0a taken (VNI 257's low byte is 1) */
	fallback_mac(want, 257, 0x0a00010a, 1);
	assert_memory_equal(m->ifaces[2].mac, want, 6);
	/* b-two: its first choice is free */
	assert_memory_equal(m->ifaces[3].mac, MAC(2, 1, 10, 0, 1, 12), 6);
	/* VPC b's subnet names the implicit main table */
	assert_int_equal(m->subnets[1].rtable, m->vpcs[1].main_rtable);
	assert_string_equal(m->rtables[m->vpcs[1].main_rtable].name, "main");
	vpc_image_free(m);
}

static void
test_deterministic(void **state)
{
	static const char *const files[] = { "default.yaml", "multi-vpc.yaml",
					     "appliance.yaml" };
	(void)state;
	for (size_t i = 0; i < 3; i++) {
		struct vpc_image *a = compile_file(files[i]);
		struct vpc_image *b = compile_file(files[i]);
		assert_int_equal(a->size, b->size);
		assert_memory_equal(a->buf, b->buf, a->size);
		char err[256];
		assert_int_equal(vpc_image_check(a->buf, a->size, err, sizeof(err)), 0);
		vpc_image_free(a);
		vpc_image_free(b);
	}
}

/* A topology given as text, compiled (through a file, as vpcctl does). */
static struct vpc_image *
compile_text(const char *text)
{
	char path[] = "/tmp/vpc-test-text-XXXXXX";
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	FILE *f = fdopen(fd, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
	struct vpc_image *m = compile_path(path);
	unlink(path);
	return m;
}

/*
 * dhcp_options, every form: AmazonProvidedDNS alone or in the list (the
 * VPC's base + 2, in its place), the bounds of each list, of the domain
 * and of the lease, and an empty mapping (all defaults).
 */
static void
test_dhcp_options(void **state)
{
	static const char text[] =
		"version: 1\n"
		"vpcs:\n"
		"  - name: a\n"
		"    cidr: 10.1.0.0/16\n"
		"    dhcp_options: { domain_name_servers: AmazonProvidedDNS }\n"
		"  - name: b\n"
		"    cidr: 192.168.64.0/18\n"
		"    dhcp_options:\n"
		"      domain_name_servers: [10.9.9.9, AmazonProvidedDNS, 8.8.8.8, 1.1.1.1]\n"
		"      domain_name: corp.example.com Example-2.COM\n"
		"      ntp_servers: [169.254.169.123, 10.0.0.1, 10.0.0.2, 10.0.0.3]\n"
		"      lease_time: 60\n"
		"  - name: c\n"
		"    cidr: 172.31.0.0/16\n"
		"    dhcp_options: {}\n"
		"  - name: d\n"
		"    cidr: 10.1.0.0/16\n"
		"    dhcp_options:\n"
		"      ntp_servers: []\n"
		"      lease_time: 31536000\n"
		"      domain_name: ";	/* 127 characters, below */
	/* 63 characters, the longest label */
	const char *label = "a23456789012345678901234567890123456789012345678901234567890123";
	char domain[128], file[sizeof(text) + sizeof(domain) + 1];
	(void)state;

	snprintf(domain, sizeof(domain), "%s.%s", label, label);
	assert_int_equal(strlen(domain), 127);
	snprintf(file, sizeof(file), "%s%s\n", text, domain);
	struct vpc_image *m = compile_text(file);
	assert_int_equal(m->n_dhcp, 4);
	check_dhcp(&m->dhcp[0], ADDRS("10.1.0.2"), NONE, "", 3600);
	check_dhcp(&m->dhcp[1], ADDRS("10.9.9.9", "192.168.64.2", "8.8.8.8", "1.1.1.1"),
		   ADDRS("169.254.169.123", "10.0.0.1", "10.0.0.2", "10.0.0.3"),
		   "corp.example.com Example-2.COM", 60);
	check_dhcp(&m->dhcp[2], ADDRS("172.31.0.2"), NONE, "", 3600);
	check_dhcp(&m->dhcp[3], ADDRS("10.1.0.2"), NONE, domain, 31536000);
	char err[256];
	assert_int_equal(vpc_image_check(m->buf, m->size, err, sizeof(err)), 0);
	vpc_image_free(m);
}

/* A vhost-user host port: flags, mode, socket path and owner exactly. */
static void
check_vhost(const struct vpc_image_hport *h, const char *name, uint16_t flags,
	    uint16_t mode, const char *path, const char *owner)
{
	assert_string_equal(h->name, name);
	assert_int_equal(h->type, VPC_HPORT_VHOST_USER);
	assert_int_equal(h->flags, flags);
	assert_int_equal(h->mode, mode);
	assert_string_equal(h->a, path);
	assert_string_equal(h->b, owner);
}

/*
 * vhost-user options: client mode, and a server socket's owner and mode
 * (octal quoted, octal plain with or without the leading 0, 0 itself).
 */
static void
test_vhost_user_options(void **state)
{
	static const char text[] =
		"version: 1\n"
		"vpcs:\n"
		"  - name: lab\n"
		"    cidr: 10.0.0.0/16\n"
		"    subnets: [ { name: a, cidr: 10.0.1.0/24 } ]\n"
		"    interfaces:\n"
		"      - { name: v1, subnet: a, ip: 10.0.1.10 }\n"
		"      - { name: v2, subnet: a, ip: 10.0.1.11 }\n"
		"      - { name: v3, subnet: a, ip: 10.0.1.12 }\n"
		"      - { name: v4, subnet: a, ip: 10.0.1.13 }\n"
		"      - { name: v5, subnet: a, ip: 10.0.1.14 }\n"
		"      - { name: v6, subnet: a, ip: 10.0.1.15 }\n"
		"      - { name: v7, subnet: a, ip: 10.0.1.16 }\n"
		"host:\n"
		"  ports:\n"
		"    v1: { type: vhost-user, path: /run/v1.sock, owner: \"libvirt-qemu:kvm\", mode: \"0660\" }\n"
		"    v2: { type: vhost-user, path: /run/v2.sock, client: true }\n"
		"    v3: { type: vhost-user, path: /run/v3.sock, mode: 0600 }\n"
		"    v4: { type: vhost-user, path: /run/v4.sock, mode: 660, owner: 107 }\n"
		"    v5: { type: vhost-user, path: /run/v5.sock }\n"
		"    v6: { type: vhost-user, path: /run/v6.sock, client: false, mode: 0, owner: \"0:0\" }\n"
		"    v7: { type: pcap, rx: /tmp/in.pcap, tx: /tmp/out.pcap, loop: true }\n";
	struct vpc_image *m = compile_text(text);
	(void)state;

	assert_int_equal(m->n_hports, 7);
	check_vhost(&m->hports[0], "v1", VPC_HPORT_F_MODE, 0660, "/run/v1.sock", "libvirt-qemu:kvm");
	check_vhost(&m->hports[1], "v2", VPC_HPORT_F_CLIENT, 0, "/run/v2.sock", "");
	check_vhost(&m->hports[2], "v3", VPC_HPORT_F_MODE, 0600, "/run/v3.sock", "");
	check_vhost(&m->hports[3], "v4", VPC_HPORT_F_MODE, 0660, "/run/v4.sock", "107");
	check_vhost(&m->hports[4], "v5", 0, 0, "/run/v5.sock", "");
	check_vhost(&m->hports[5], "v6", VPC_HPORT_F_MODE, 0, "/run/v6.sock", "0:0");
	/* pcap keeps b for its tx file, and its loop flag alone */
	assert_int_equal(m->hports[6].type, VPC_HPORT_PCAP);
	assert_int_equal(m->hports[6].flags, VPC_HPORT_F_LOOP);
	assert_int_equal(m->hports[6].mode, 0);
	assert_string_equal(m->hports[6].b, "/tmp/out.pcap");
	char err[256];
	assert_int_equal(vpc_image_check(m->buf, m->size, err, sizeof(err)), 0);
	vpc_image_free(m);
}

/*
 * Peerings: the section, routes to a peering by index, a rule naming the
 * peered VPC's group expanded to that VPC's members, and the delivery
 * routes both engines build from it (lib/lower.c): a peer's interface
 * only in a table that routes to that peering, never a third VPC's.
 */
static void
test_peering(void **state)
{
	static const char text[] =
		"version: 1\n"
		"peerings:\n"
		"  - { name: ab, vpcs: [a, b] }\n"
		"  - { name: bc, vpcs: [b, c] }\n"
		"vpcs:\n"
		"  - name: a\n"
		"    cidr: 10.1.0.0/16\n"
		"    route_tables:\n"
		"      - { name: main, main: true, routes: [ { destination: 10.0.0.0/8, target: { peering: ab } } ] }\n"
		"    subnets: [ { name: s, cidr: 10.1.1.0/24 } ]\n"
		"    security_groups:\n"
		"      - name: g\n"
		"        ingress: [ { protocol: tcp, ports: 22, source: { security_group: web, vpc: b } } ]\n"
		"    interfaces: [ { name: a1, subnet: s, ip: 10.1.1.10, security_groups: [g] } ]\n"
		"  - name: b\n"
		"    cidr: 10.2.0.0/16\n"
		"    route_tables:\n"
		"      - name: main\n"
		"        main: true\n"
		"      - { name: back, routes: [ { destination: 10.1.0.0/16, target: { peering: ab } } ] }\n"
		"    subnets: [ { name: s, cidr: 10.2.1.0/24, route_table: back } ]\n"
		"    security_groups: [ { name: web } ]\n"
		"    interfaces:\n"
		"      - { name: b1, subnet: s, ip: 10.2.1.10, security_groups: [web] }\n"
		"      - { name: b2, subnet: s, ip: 10.2.1.11 }\n"
		"  - { name: c, cidr: 10.3.0.0/16, subnets: [ { name: s, cidr: 10.3.1.0/24 } ],\n"
		"      interfaces: [ { name: c1, subnet: s, ip: 10.3.1.10 } ] }\n";
	struct vpc_image *m = compile_text(text);
	struct vpc_route_rec d;
	(void)state;

	assert_int_equal(m->n_peerings, 2);
	assert_string_equal(m->peerings[0].name, "ab");
	assert_int_equal(m->peerings[0].vpc[0], 0);
	assert_int_equal(m->peerings[0].vpc[1], 1);
	assert_int_equal(m->peerings[1].vpc[0], 1);
	assert_int_equal(m->peerings[1].vpc[1], 2);
	assert_int_equal(vpc_image_peering_of(m, 1, 0), 0);
	assert_int_equal(vpc_image_peering_of(m, 0, 2), VPC_INDEX_NONE);
	/* a's table: local first (the longer prefix), then 10/8 -> ab */
	check_route(&m->routes[0], 0, "10.1.0.0", 16, VPC_RT_LOCAL, VPC_ROUTE_F_IMPLICIT,
		    VPC_INDEX_NONE);
	check_route(&m->routes[1], 0, "10.0.0.0", 8, VPC_RT_PEERING, 0, 0);
	assert_string_equal(vpc_route_target_name(VPC_RT_PEERING), "peering");
	assert_string_equal(vpc_route_target_name(VPC_RT_NATGW), "nat_gateway");
	/* g's rule: b's group web (image group 2 after a's g, default),
	 * whose one member is b1 */
	assert_int_equal(m->sgs[0].n_ingress, 1);
	check_rule(&m->rules[m->sgs[0].first_rule], 0, VPC_DIR_INGRESS, 6, VPC_RULE_F_SG_PEER,
		   "10.2.1.10", 32, 22, 22, 0, 0, 0, 2);
	assert_string_equal(m->sgs[2].name, "web");
	assert_int_equal(m->sgs[2].vpc, 1);
	/* deliveries: a's table (0) takes b's two interfaces via ab, not
	 * c's (a and c are not peered, though 10/8 covers c); b's main (1)
	 * has no peering route: none of a's; b's back (2) takes a1; c's
	 * implicit main (3) only c1 */
	assert_int_equal(vpc_lower_n_deliveries(m, 0), 3);
	assert_int_equal(vpc_lower_delivery(m, 0, 1, &d), 1);
	assert_int_equal(d.kind, VPC_NH_PEERING);
	assert_int_equal(d.iface, 1);
	assert_int_equal(d.via, 0);
	assert_int_equal(d.prefix, ip("10.2.1.10"));
	assert_true(vpc_lower_delivery_applies(&d, VPC_NH_PEERING_MISS, 0));
	assert_false(vpc_lower_delivery_applies(&d, VPC_NH_PEERING_MISS, 1));	/* bc's */
	assert_false(vpc_lower_delivery_applies(&d, VPC_NH_LOCAL_MISS, VPC_INDEX_NONE));
	assert_int_equal(vpc_lower_delivery(m, 0, 3, &d), 0);	/* c1 */
	assert_int_equal(vpc_lower_n_deliveries(m, 1), 2);
	assert_int_equal(vpc_lower_delivery(m, 1, 0, &d), 0);
	assert_int_equal(vpc_lower_n_deliveries(m, 2), 3);
	assert_int_equal(vpc_lower_delivery(m, 2, 0, &d), 1);
	assert_int_equal(d.kind, VPC_NH_PEERING);
	assert_int_equal(vpc_lower_n_deliveries(m, 3), 1);
	/* the route's own next hop: a miss of peering ab */
	vpc_lower_route(m, 1, &d);
	assert_int_equal(d.kind, VPC_NH_PEERING_MISS);
	assert_int_equal(d.iface, 0);
	char err[256];
	assert_int_equal(vpc_image_check(m->buf, m->size, err, sizeof(err)), 0);
	vpc_image_free(m);
}

/* A whole record compared, padding included (the compiler's are zeroed). */
#define CHECK_RECORD(got, ...)                                        \
	do {                                                          \
		__typeof__(*(got)) want_ = __VA_ARGS__;               \
		assert_memory_equal((got), &want_, sizeof(want_));    \
	} while (0)

/*
 * tests/topo/valid/lb.yaml, record by record: balancers in file order,
 * each one's listeners, target groups and targets contiguous and in file
 * order, every default filled in (tcp, hash, 300 s, the VPC_HC_* check,
 * the group's port, weight 1, traffic-port: each target's own), ports
 * in network order, the internet-facing one's elastic IP in the eips
 * section among the interfaces'.
 */
static void
test_load_balancers(void **state)
{
	char path[1024];
	(void)state;
	snprintf(path, sizeof(path), "%s/../tests/topo/valid/lb.yaml", config_dir);
	struct vpc_image *m = compile_path(path);
	struct vpc_image *again = compile_path(path);
	const uint32_t N = VPC_INDEX_NONE;
	char err[256];

	assert_int_equal(vpc_image_check(m->buf, m->size, err, sizeof(err)), 0);
	assert_int_equal(again->size, m->size);
	assert_memory_equal(again->buf, m->buf, m->size);
	vpc_image_free(again);
	/* groups lb-sg 0, web 1, dns 2, default 3; subnets public-a 0,
	 * private-a 1; interfaces web-1, web-2, dns-1, dns-2 */
	assert_int_equal(m->n_lbs, 2);
	assert_int_equal(m->n_listeners, 3);
	assert_int_equal(m->n_tgroups, 4);
	assert_int_equal(m->n_targets, 5);
	struct vpc_image_lb lb0 = { .vpc = 0, .subnet = N, .elastic_ip = ip("198.51.100.20"),
				    .first_listener = 0, .n_listeners = 1, .first_tgroup = 0,
				    .n_tgroups = 1, .flags = VPC_LB_F_INTERNET, .n_sgs = 1,
				    .sgs = { 0 } };
	memcpy(lb0.name, "web-lb", 7);
	assert_memory_equal(&m->lbs[0], &lb0, sizeof(lb0));
	struct vpc_image_lb lb1 = { .vpc = 0, .subnet = 1, .ip = ip("10.0.2.100"),
				    .first_listener = 1, .n_listeners = 2, .first_tgroup = 1,
				    .n_tgroups = 3 };
	memcpy(lb1.name, "dns-lb", 7);
	assert_memory_equal(&m->lbs[1], &lb1, sizeof(lb1));

	CHECK_RECORD(&m->listeners[0], { .lb = 0, .tgroup = 0, .proto = 6, .port = htons(80) });
	CHECK_RECORD(&m->listeners[1], { .lb = 1, .tgroup = 1, .proto = 17, .port = htons(53) });
	CHECK_RECORD(&m->listeners[2], { .lb = 1, .tgroup = 2, .proto = 6, .port = htons(53) });

	static const struct {
		const char *name;
		uint32_t lb, first, n;
		uint8_t proto, alg;
		uint16_t port, interval, timeout;
		uint8_t healthy, unhealthy;
		uint32_t dereg;
	} groups[] = {
		{ "web", 0, 0, 2, 6, VPC_LB_HASH, 8080, 30, 10, 5, 2, 300 },
		{ "dns-udp", 1, 2, 2, 17, VPC_LB_WEIGHTED_ROUND_ROBIN, 53, 10, 5, 3, 3, 0 },
		{ "dns-tcp", 1, 4, 1, 6, VPC_LB_ROUND_ROBIN, 53, 30, 10, 5, 2, 300 },
		{ "spare", 1, 5, 0, 17, VPC_LB_ROUND_ROBIN, 53, 30, 10, 5, 2, 300 },
	};
	for (size_t k = 0; k < sizeof(groups) / sizeof(groups[0]); k++) {
		struct vpc_image_tgroup want = {
			.lb = groups[k].lb, .first_target = groups[k].first,
			.n_targets = groups[k].n, .proto = groups[k].proto,
			.algorithm = groups[k].alg, .port = htons(groups[k].port),
			.hc_interval = groups[k].interval, .hc_timeout = groups[k].timeout,
			.hc_healthy = groups[k].healthy, .hc_unhealthy = groups[k].unhealthy,
			.dereg_delay = groups[k].dereg,
		};
		memcpy(want.name, groups[k].name, strlen(groups[k].name));
		assert_memory_equal(&m->tgroups[k], &want, sizeof(want));
	}
	assert_int_equal(VPC_HC_INTERVAL_DEFAULT, 30);
	assert_int_equal(VPC_LB_DEREG_DEFAULT, 300);

	CHECK_RECORD(&m->targets[0], { .tgroup = 0, .iface = 0, .port = htons(8080),
				       .hc_port = htons(8080), .weight = 1 });
	CHECK_RECORD(&m->targets[1], { .tgroup = 0, .iface = 1, .port = htons(8080),
				       .hc_port = htons(8080), .weight = 1 });
	CHECK_RECORD(&m->targets[2], { .tgroup = 1, .iface = 2, .port = htons(53),
				       .hc_port = htons(53), .weight = 3 });
	/* its own port; the group's health-check port 53 */
	CHECK_RECORD(&m->targets[3], { .tgroup = 1, .iface = 3, .port = htons(5353),
				       .hc_port = htons(53), .weight = 1 });
	CHECK_RECORD(&m->targets[4], { .tgroup = 2, .iface = 2, .port = htons(53),
				       .hc_port = htons(53), .weight = 1 });

	/* by address: the balancer's .20, dns-2's .30 */
	assert_int_equal(m->n_eips, 2);
	CHECK_RECORD(&m->eips[0], { .elastic_ip = ip("198.51.100.20"), .iface = VPC_EIP_LB | 0 });
	CHECK_RECORD(&m->eips[1], { .elastic_ip = ip("198.51.100.30"), .iface = 3 });
	vpc_image_free(m);
}

/*
 * Balancers of two VPCs: indexes global (the second VPC's balancer,
 * groups, targets, subnet, groups and interfaces past the first's),
 * traffic-port per target, and the elastic IPs sorted across balancers,
 * NAT gateways and interfaces.
 */
static void
test_load_balancers_two_vpcs(void **state)
{
	static const char text[] =
		"version: 1\n"
		"vpcs:\n"
		"  - name: a\n"
		"    cidr: 10.1.0.0/16\n"
		"    internet_gateway: true\n"
		"    route_tables: [ { name: main, main: true, routes: [ { destination: 0.0.0.0/0, target: internet_gateway } ] } ]\n"
		"    subnets: [ { name: s, cidr: 10.1.1.0/24 } ]\n"
		"    nat_gateways: [ { name: nat, subnet: s, elastic_ip: 198.51.100.9 } ]\n"
		"    load_balancers:\n"
		"      - { name: lb, elastic_ip: 198.51.100.7, listeners: [ { protocol: tcp, port: 443, target_group: g } ],\n"
		"          target_groups: [ { name: g, port: 8443, targets: [ { interface: a1 } ] } ] }\n"
		"    interfaces: [ { name: a1, subnet: s, ip: 10.1.1.10, elastic_ip: 198.51.100.8 } ]\n"
		"  - name: b\n"
		"    cidr: 10.2.0.0/16\n"
		"    internet_gateway: true\n"
		"    subnets: [ { name: s0, cidr: 10.2.0.0/24 }, { name: s1, cidr: 10.2.1.0/24 } ]\n"
		"    security_groups: [ { name: g0 }, { name: g1 } ]\n"
		"    load_balancers:\n"
		"      - name: lb\n"
		"        scheme: internal\n"
		"        subnet: s1\n"
		"        ip: 10.2.1.50\n"
		"        security_groups: [g1, default]\n"
		"        listeners: [ { protocol: udp, port: 514, target_group: logs } ]\n"
		"        target_groups:\n"
		"          - { name: logs, protocol: udp, port: 514, health_check: { port: 8080 },\n"
		"              targets: [ { interface: b2, port: 1514 }, { interface: b1 } ] }\n"
		"      - { name: up, elastic_ip: 198.51.100.1, listeners: [ { protocol: tcp, port: 80, target_group: g } ],\n"
		"          target_groups: [ { name: g, port: 80 } ] }\n"
		"    interfaces:\n"
		"      - { name: b1, subnet: s0, ip: 10.2.0.10 }\n"
		"      - { name: b2, subnet: s1, ip: 10.2.1.10 }\n";
	struct vpc_image *m = compile_text(text);
	char err[256];
	(void)state;

	assert_int_equal(vpc_image_check(m->buf, m->size, err, sizeof(err)), 0);
	assert_int_equal(m->n_lbs, 3);
	/* a's group default 0, b's g0 1, g1 2, default 3; subnets a's s 0,
	 * b's s0 1, s1 2 */
	assert_int_equal(m->lbs[1].vpc, 1);
	assert_int_equal(m->lbs[1].subnet, 2);
	assert_int_equal(m->lbs[1].n_sgs, 2);
	assert_int_equal(m->lbs[1].sgs[0], 2);
	assert_int_equal(m->lbs[1].sgs[1], 3);
	assert_int_equal(m->lbs[1].first_listener, 1);
	assert_int_equal(m->lbs[1].first_tgroup, 1);
	assert_int_equal(m->lbs[2].first_listener, 2);
	assert_int_equal(m->lbs[2].first_tgroup, 2);
	assert_int_equal(m->listeners[1].tgroup, 1);
	assert_int_equal(m->listeners[2].tgroup, 2);
	assert_int_equal(m->tgroups[1].first_target, 1);
	assert_int_equal(m->tgroups[2].first_target, 3);
	assert_int_equal(m->tgroups[2].n_targets, 0);
	/* b2 is interface 2, b1 interface 1; the check port given */
	CHECK_RECORD(&m->targets[1], { .tgroup = 1, .iface = 2, .port = htons(1514),
				       .hc_port = htons(8080), .weight = 1 });
	CHECK_RECORD(&m->targets[2], { .tgroup = 1, .iface = 1, .port = htons(514),
				       .hc_port = htons(8080), .weight = 1 });
	/* .1 b's up, .7 a's lb, .8 a1, .9 a's NAT gateway */
	assert_int_equal(m->n_eips, 4);
	CHECK_RECORD(&m->eips[0], { .elastic_ip = ip("198.51.100.1"), .iface = VPC_EIP_LB | 2 });
	CHECK_RECORD(&m->eips[1], { .elastic_ip = ip("198.51.100.7"), .iface = VPC_EIP_LB | 0 });
	CHECK_RECORD(&m->eips[2], { .elastic_ip = ip("198.51.100.8"), .iface = 0 });
	CHECK_RECORD(&m->eips[3], { .elastic_ip = ip("198.51.100.9"), .iface = VPC_EIP_NATGW | 0 });
	vpc_image_free(m);
}

static void
test_unvalidated_refused(void **state)
{
	struct vpc_diag d;
	const char *text = "version: 1\nvpcs: []\n";
	(void)state;
	vpc_diag_init(&d, "t.yaml");
	struct topo *t = topo_load_string(text, strlen(text), &d);
	assert_non_null(t);
	assert_null(topo_compile(t));	/* not validated */
	assert_int_equal(errno, EINVAL);
	assert_int_equal(topo_validate(t, &d), 0);
	struct vpc_image *img = topo_compile(t);
	assert_non_null(img);
	assert_int_equal(img->n_vpcs, 0);
	assert_int_equal(img->n_ports, 1);	/* the uplink */
	vpc_image_free(img);
	topo_free(t);
	vpc_diag_fini(&d);
}

int
main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_unvalidated_refused),
		cmocka_unit_test(test_default_topology),
		cmocka_unit_test(test_multi_vpc),
		cmocka_unit_test(test_appliance),
		cmocka_unit_test(test_derived_mac_collisions),
		cmocka_unit_test(test_deterministic),
		cmocka_unit_test(test_dhcp_options),
		cmocka_unit_test(test_vhost_user_options),
		cmocka_unit_test(test_peering),
		cmocka_unit_test(test_load_balancers),
		cmocka_unit_test(test_load_balancers_two_vpcs),
	};
	config_dir = argc > 1 ? argv[1] : "config";
	return cmocka_run_group_tests(tests, NULL, NULL);
}
