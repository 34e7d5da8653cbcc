/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * test_pipeline -- the DPDK pipeline on synthetic mbuf bursts, no NIC.
 *
 * The conformance corpus checks every behaviour one packet at a time
 * (replay's contract); this checks what only bursts exercise: a burst of
 * 32 mixing every path and drop gives, packet for packet, the same
 * verdicts and bytes as the same packets one by one; the counters add up;
 * a port outside the tables drops everything under its own reason.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include <rte_eal.h>
#include <rte_mbuf.h>

#include "compile.h"
#include "conntrack.h"
#include "offload.h"
#include "pipeline.h"
#include "tables.h"
#include "topo.h"

static const char *config_dir;
static struct rte_mempool *mp;
static struct vpc_image *img;
static struct vpc_tables *tables;

#define MAXF 512

struct frame {
	uint8_t b[MAXF];
	uint16_t len;
};

/* tests/conformance/topo/basic.yaml: VPC prod, VNI 10; ports a1 0, a2 1,
 * b1 2, b2 3, fw 4, o1 5, o2 6, uplink 7. */
static const uint8_t ROUTER[6] = { 6, 0, 0, 0, 10, 1 };
static const uint8_t WEB1[6] = { 2, 10, 10, 0, 1, 10 };
static const uint8_t WEB2[6] = { 2, 10, 10, 0, 1, 11 };
#define P_A1 0
#define P_A2 1
#define P_B1 2
#define P_UPLINK 7
static const uint8_t UPLINK[6] = { 2, 0xfe, 0, 0, 0, 1 };
static const uint8_t GW[6] = { 2, 0xfe, 0, 0, 0, 0xfe };

static uint16_t
csum16(const uint8_t *p, size_t n, uint32_t sum)
{
	for (size_t i = 0; i + 1 < n; i += 2)
		sum += (uint32_t)(p[i] << 8 | p[i + 1]);
	if (n & 1)
		sum += (uint32_t)p[n - 1] << 8;
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

/* Ethernet + IPv4 + UDP with correct checksums. */
static struct frame
udp_frame(const uint8_t dst[6], const uint8_t src[6], uint32_t sip, uint32_t dip,
	  uint8_t ttl)
{
	struct frame f = { .len = 14 + 20 + 8 + 4 };
	uint8_t *b = f.b;
	memcpy(b, dst, 6);
	memcpy(b + 6, src, 6);
	b[12] = 0x08;
	uint8_t *ip = b + 14;
	ip[0] = 0x45;
	ip[3] = 32;
	ip[6] = 0x40;
	ip[8] = ttl;
	ip[9] = 17;
	for (int i = 0; i < 4; i++) {
		ip[12 + i] = (uint8_t)(sip >> (24 - 8 * i));
		ip[16 + i] = (uint8_t)(dip >> (24 - 8 * i));
	}
	uint16_t c = csum16(ip, 20, 0);
	ip[10] = (uint8_t)(c >> 8);
	ip[11] = (uint8_t)c;
	uint8_t *u = ip + 20;
	u[0] = 0x13, u[1] = 0x88, u[2] = 0x00, u[3] = 0x35, u[5] = 12;
	memcpy(u + 8, "data", 4);
	uint8_t pseudo[12];
	memcpy(pseudo, ip + 12, 8);
	pseudo[8] = 0, pseudo[9] = 17, pseudo[10] = 0, pseudo[11] = 12;
	uint32_t s = 0;
	for (int i = 0; i < 12; i += 2)
		s += (uint32_t)(pseudo[i] << 8 | pseudo[i + 1]);
	c = csum16(u, 12, s);
	u[6] = (uint8_t)(c >> 8);
	u[7] = (uint8_t)c;
	return f;
}

static struct frame
arp_req(const uint8_t src[6], uint32_t spa, uint32_t tpa)
{
	struct frame f = { .len = 42 };
	uint8_t *b = f.b;
	memset(b, 0xff, 6);
	memcpy(b + 6, src, 6);
	b[12] = 0x08, b[13] = 0x06;
	uint8_t *a = b + 14;
	a[1] = 1, a[2] = 8, a[4] = 6, a[5] = 4, a[7] = 1;
	memcpy(a + 8, src, 6);
	for (int i = 0; i < 4; i++) {
		a[14 + i] = (uint8_t)(spa >> (24 - 8 * i));
		a[24 + i] = (uint8_t)(tpa >> (24 - 8 * i));
	}
	return f;
}

static struct rte_mbuf *
mbuf_of(const struct frame *f)
{
	struct rte_mbuf *m = rte_pktmbuf_alloc(mp);
	assert_non_null(m);
	uint8_t *d = (uint8_t *)rte_pktmbuf_append(m, f->len ? f->len : 1);
	assert_non_null(d);
	if (f->len == 0)
		rte_pktmbuf_trim(m, 1);
	memcpy(d, f->b, f->len);
	return m;
}

/* A burst of 32 from a1 that takes every path and several drops; each
 * flow appears three times, so later copies find the connection the first
 * one opened in the same burst. */
static int
web1_burst(struct frame *fr)
{
	const uint32_t W1 = 0x0a00010a, W2 = 0x0a00010b, DB = 0x0a000214, NET = 0xc6336407;
	int n = 0;
	for (int rep = 0; rep < 3; rep++) {
		fr[n++] = udp_frame(ROUTER, WEB1, W1, DB, 64);		/* routed */
		fr[n++] = udp_frame(WEB2, WEB1, W1, W2, 64);		/* switched */
		fr[n++] = udp_frame(ROUTER, WEB1, W1, NET, 64);		/* igw egress */
		fr[n++] = udp_frame(ROUTER, WEB1, W1 + 1, DB, 64);	/* spoofed ip */
		fr[n++] = udp_frame(ROUTER, WEB1, W1, 0x0a090101, 64);	/* blackhole */
		fr[n++] = udp_frame(ROUTER, WEB1, W1, DB, 1);		/* ttl */
		fr[n++] = arp_req(WEB1, W1, 0x0a000101);		/* arp reply */
		fr[n++] = udp_frame(GW, WEB1, W1, W2, 64);		/* unknown mac */
		fr[n++] = udp_frame(ROUTER, WEB1, W1, 0x0a000263, 64);	/* no interface */
		struct frame t = udp_frame(ROUTER, WEB1, W1, DB, 64);
		t.len = 20;						/* ip truncated */
		fr[n++] = t;
	}
	fr[n++] = udp_frame(ROUTER, WEB1, W1, W2, 64);	/* routed in-subnet */
	fr[n++] = udp_frame(WEB2, WEB1, W1, NET, 64);	/* not the owner */
	return n;
}

static void
test_burst_equals_one_by_one(void **state)
{
	struct frame fr[VPC_BURST_MAX];
	struct rte_mbuf *burst[VPC_BURST_MAX];
	struct vpc_verdict vb[VPC_BURST_MAX], v1;
	(void)state;
	int n = web1_burst(fr);
	assert_int_equal(n, VPC_BURST_MAX);

	struct vpc_ct *ctb = vpc_ct_create("b", 1024, SOCKET_ID_ANY);
	struct vpc_ct *ct1 = vpc_ct_create("1", 1024, SOCKET_ID_ANY);
	struct vpc_pipeline *pb = vpc_pipeline_create(tables, ctb);
	struct vpc_pipeline *p1 = vpc_pipeline_create(tables, ct1);
	for (int i = 0; i < n; i++)
		burst[i] = mbuf_of(&fr[i]);
	assert_int_equal(vpc_pipeline_process(pb, P_A1, burst, (uint16_t)n, 0, vb), n);

	unsigned int seen_paths = 0, seen_drops = 0;
	for (int i = 0; i < n; i++) {
		struct rte_mbuf *m = mbuf_of(&fr[i]);
		vpc_pipeline_process(p1, P_A1, &m, 1, 0, &v1);
		if (vb[i].action != v1.action || vb[i].reason != v1.reason)
			fprintf(stderr, "packet %d: burst %s/%s, alone %s/%s\n", i,
				vpc_action_name(vb[i].action), vpc_drop_name(vb[i].reason),
				vpc_action_name(v1.action), vpc_drop_name(v1.reason));
		assert_int_equal(vb[i].action, v1.action);
		assert_int_equal(vb[i].path, v1.path);
		assert_int_equal(vb[i].reason, v1.reason);
		if (v1.action != VPC_ACT_DROP)
			assert_int_equal(vb[i].out_port, v1.out_port);
		assert_int_equal(rte_pktmbuf_data_len(burst[i]), rte_pktmbuf_data_len(m));
		assert_memory_equal(rte_pktmbuf_mtod(burst[i], void *),
				    rte_pktmbuf_mtod(m, void *), rte_pktmbuf_data_len(m));
		seen_paths |= 1u << v1.path;
		seen_drops |= v1.action == VPC_ACT_DROP ? 1u << (v1.reason % 32) : 0;
		rte_pktmbuf_free(m);
	}
	/* The burst really mixed paths and drops. */
	assert_true(seen_paths & (1u << VPC_PATH_ROUTED));
	assert_true(seen_paths & (1u << VPC_PATH_L2_SWITCH));
	assert_true(seen_paths & (1u << VPC_PATH_IGW_EGRESS));
	assert_true(seen_paths & (1u << VPC_PATH_ARP_REPLY));
	assert_true(seen_drops & (1u << VPC_DROP_SPOOFED_IP));
	assert_true(seen_drops & (1u << VPC_DROP_TTL_EXPIRED));
	assert_true(seen_drops & (1u << VPC_DROP_UNKNOWN_DST_MAC));

	/* Counters: the burst's verdicts, exactly. */
	const struct vpc_stats *st = vpc_pipeline_stats(pb);
	uint64_t drops = 0, paths = 0;
	for (int r = 0; r < VPC_DROP_COUNT; r++)
		drops += st->drops[r];
	for (int p = 0; p < VPC_PATH_COUNT; p++)
		paths += st->paths[p];
	assert_int_equal(st->packets, n);
	assert_int_equal(drops + paths, n);
	assert_int_equal(st->paths[VPC_PATH_ROUTED], 4);
	assert_int_equal(st->paths[VPC_PATH_L2_SWITCH], 3);
	assert_int_equal(st->paths[VPC_PATH_IGW_EGRESS], 3);
	assert_int_equal(st->paths[VPC_PATH_ARP_REPLY], 3);
	assert_int_equal(st->drops[VPC_DROP_IP_TRUNCATED], 3);
	assert_int_equal(st->drops[VPC_DROP_DST_NOT_OWNER], 1);
	assert_int_equal(st->ports[P_A1].rx_packets, n);
	assert_int_equal(st->ports[P_A1].drops, drops);
	assert_int_equal(st->ports[P_A1].tx_packets, 3);	/* ARP replies */
	assert_int_equal(st->ports[P_UPLINK].tx_packets, 3);
	assert_int_equal(st->ports[P_B1].tx_packets, 3);
	assert_int_equal(st->ports[P_A2].tx_packets, 4);
	/* Three connections: to b1, to a2 (switched and routed share the
	 * 5-tuple), to the internet. */
	assert_int_equal(vpc_ct_count(ctb), 3);
	assert_int_equal(vpc_ct_count(ct1), 3);
	assert_int_equal(vpc_ct_stats(ctb)->created, 3);

	vpc_pipeline_stats_reset(pb);
	assert_int_equal(vpc_pipeline_stats(pb)->packets, 0);
	assert_int_equal(vpc_pipeline_stats(pb)->ports[0].rx_packets, 0);
	rte_pktmbuf_free_bulk(burst, (unsigned int)n);
	vpc_pipeline_free(pb);
	vpc_pipeline_free(p1);
	vpc_ct_free(ctb);
	vpc_ct_free(ct1);
}

static void
test_uplink_burst(void **state)
{
	struct frame fr[4], out;
	struct rte_mbuf *m[4], *o;
	struct vpc_verdict v[4], vo;
	(void)state;
	struct vpc_ct *ct = vpc_ct_create("u", 1024, SOCKET_ID_ANY);
	struct vpc_pipeline *p = vpc_pipeline_create(tables, ct);

	/* a1 -> the internet opens the connection the reply belongs to */
	out = udp_frame(ROUTER, WEB1, 0x0a00010a, 0xc6336407, 64);
	o = mbuf_of(&out);
	vpc_pipeline_process(p, P_A1, &o, 1, 0, &vo);
	assert_int_equal(vo.path, VPC_PATH_IGW_EGRESS);
	rte_pktmbuf_free(o);

	/* udp_frame's ports are 5000 -> 53; the reply swaps them */
	fr[0] = udp_frame(UPLINK, GW, 0xc6336407, 0xcb00710a, 64);	/* reply to a1 */
	uint8_t *u = fr[0].b + 34;
	u[0] = 0x00, u[1] = 0x35, u[2] = 0x13, u[3] = 0x88;		/* 53 -> 5000 */
	u[6] = 0, u[7] = 0;						/* no checksum */
	fr[1] = udp_frame(UPLINK, GW, 0xc6336407, 0xcb007163, 64);	/* unknown EIP */
	fr[2] = arp_req(GW, 0xc6336401, 0xcb007105);			/* fw's EIP */
	fr[3] = udp_frame(UPLINK, GW, 0xc6336408, 0xcb00710a, 64);	/* unsolicited */
	for (int i = 0; i < 4; i++)
		m[i] = mbuf_of(&fr[i]);
	vpc_pipeline_process(p, P_UPLINK, m, 4, 1000, v);
	assert_int_equal(v[0].action, VPC_ACT_FORWARD);
	assert_int_equal(v[0].out_port, P_A1);
	assert_int_equal(v[0].path, VPC_PATH_IGW_INGRESS);
	assert_int_equal(v[1].reason, VPC_DROP_UNKNOWN_ELASTIC_IP);
	assert_int_equal(v[2].action, VPC_ACT_REPLY);
	assert_int_equal(v[2].out_port, P_UPLINK);
	assert_int_equal(v[3].action, VPC_ACT_DROP);
	assert_int_equal(v[3].reason, VPC_DROP_SG_DENIED);
	/* destination rewritten to the private IP, header checksum right */
	const uint8_t *ip = rte_pktmbuf_mtod(m[0], const uint8_t *) + 14;
	assert_int_equal(ip[16], 10);
	assert_int_equal(ip[19], 10);
	assert_int_equal(csum16(ip, 20, 0), 0);
	rte_pktmbuf_free_bulk(m, 4);
	vpc_pipeline_free(p);
	vpc_ct_free(ct);
}

static void
test_unknown_port(void **state)
{
	struct frame f = udp_frame(ROUTER, WEB1, 0x0a00010a, 0x0a000214, 64);
	struct rte_mbuf *m = mbuf_of(&f);
	struct vpc_verdict v;
	(void)state;
	struct vpc_ct *ct = vpc_ct_create("x", 16, SOCKET_ID_ANY);
	struct vpc_pipeline *p = vpc_pipeline_create(tables, ct);
	vpc_pipeline_process(p, 99, &m, 1, 0, &v);
	assert_int_equal(v.action, VPC_ACT_DROP);
	assert_int_equal(v.reason, VPC_DROP_UNKNOWN_PORT);
	assert_int_equal(vpc_pipeline_stats(p)->drops[VPC_DROP_UNKNOWN_PORT], 1);
	assert_string_equal(vpc_drop_name(v.reason), "unknown-port");
	rte_pktmbuf_free(m);
	vpc_pipeline_free(p);
	vpc_ct_free(ct);
}

static void
test_names(void **state)
{
	(void)state;
	/* Every reason and path has a distinct, non-empty name. */
	for (unsigned int a = 1; a < VPC_DROP_COUNT; a++) {
		assert_true(strlen(vpc_drop_name(a)) > 0);
		assert_true(strlen(vpc_drop_description(a)) > 0);
		for (unsigned int b = a + 1; b < VPC_DROP_COUNT; b++)
			assert_string_not_equal(vpc_drop_name(a), vpc_drop_name(b));
	}
	assert_string_equal(vpc_path_name(VPC_PATH_IGW_EGRESS), "igw-egress");
	assert_string_equal(vpc_action_name(VPC_ACT_REPLY), "reply");
	assert_string_equal(vpc_drop_name(VPC_DROP_COUNT), "?");
}

/* A datagram's first and later fragment in one burst: the later one
 * follows the first (recorded before it is looked up), translated too; a
 * later fragment of another datagram is dropped. */
static void
test_fragments_in_one_burst(void **state)
{
	struct frame fr[3];
	struct rte_mbuf *m[3];
	struct vpc_verdict v[3];
	(void)state;
	struct vpc_ct *ct = vpc_ct_create("fr", 1024, SOCKET_ID_ANY);
	struct vpc_pipeline *p = vpc_pipeline_create(tables, ct);

	for (int i = 0; i < 3; i++) {
		fr[i] = udp_frame(ROUTER, WEB1, 0x0a00010a, 0xc6336407, 64);
		uint8_t *ip = fr[i].b + 14;
		ip[5] = i == 2 ? 9 : 7;			/* IP identification */
		ip[6] = i == 0 ? 0x20 : 0x00;		/* first: more fragments */
		ip[7] = i == 0 ? 0 : 5;			/* later: at byte 40 */
		if (i == 0)
			ip[25] = 100;			/* the datagram's UDP length */
		ip[10] = ip[11] = 0;
		uint16_t c = csum16(ip, 20, 0);
		ip[10] = (uint8_t)(c >> 8);
		ip[11] = (uint8_t)c;
		m[i] = mbuf_of(&fr[i]);
	}
	vpc_pipeline_process(p, P_A1, m, 3, 0, v);
	for (int i = 0; i < 2; i++) {
		assert_int_equal(v[i].action, VPC_ACT_FORWARD);
		assert_int_equal(v[i].out_port, P_UPLINK);
		assert_int_equal(v[i].path, VPC_PATH_IGW_EGRESS);
		const uint8_t *ip = rte_pktmbuf_mtod(m[i], const uint8_t *) + 14;
		assert_int_equal(ip[12], 203);		/* the elastic IP */
		assert_int_equal(ip[15], 10);
		assert_int_equal(ip[8], 63);
		assert_int_equal(csum16(ip, 20, 0), 0);
	}
	assert_int_equal(v[2].action, VPC_ACT_DROP);
	assert_int_equal(v[2].reason, VPC_DROP_IP_FRAGMENT);
	for (int i = 0; i < 3; i++)
		rte_pktmbuf_free(m[i]);
	vpc_pipeline_free(p);
	vpc_ct_free(ct);
}

/* A DHCP discover shorter than the answer: the port's receive bytes are
 * the request's, its transmit bytes the answer's. */
static void
test_dhcp_counts(void **state)
{
	struct frame f = { .len = 14 + 20 + 8 + 244 };
	struct vpc_verdict v;
	uint8_t *b = f.b;
	(void)state;
	struct vpc_ct *ct = vpc_ct_create("dh", 1024, SOCKET_ID_ANY);
	struct vpc_pipeline *p = vpc_pipeline_create(tables, ct);

	memset(b, 0xff, 6);
	memcpy(b + 6, WEB1, 6);
	b[12] = 0x08;
	uint8_t *ip = b + 14;
	ip[0] = 0x45;
	ip[2] = (uint8_t)((f.len - 14) >> 8);
	ip[3] = (uint8_t)(f.len - 14);
	ip[8] = 64;
	ip[9] = 17;
	memset(ip + 16, 0xff, 4);
	uint16_t c = csum16(ip, 20, 0);
	ip[10] = (uint8_t)(c >> 8);
	ip[11] = (uint8_t)c;
	uint8_t *u = ip + 20;
	u[1] = 68, u[3] = 67;
	u[4] = (uint8_t)((8 + 244) >> 8), u[5] = (uint8_t)(8 + 244);	/* no checksum */
	uint8_t *d = u + 8;
	d[0] = 1, d[1] = 1, d[2] = 6;				/* BOOTREQUEST, Ethernet */
	memcpy(d + 28, WEB1, 6);				/* chaddr */
	d[236] = 99, d[237] = 130, d[238] = 83, d[239] = 99;	/* the cookie */
	d[240] = 53, d[241] = 1, d[242] = 1, d[243] = 255;	/* DISCOVER, END */
	struct rte_mbuf *m = mbuf_of(&f);
	vpc_pipeline_process(p, P_A1, &m, 1, 0, &v);
	assert_int_equal(v.action, VPC_ACT_REPLY);
	assert_int_equal(v.path, VPC_PATH_DHCP_REPLY);
	assert_int_equal(rte_pktmbuf_pkt_len(m), 342);
	const struct vpc_stats *st = vpc_pipeline_stats(p);
	assert_int_equal(st->ports[P_A1].rx_bytes, 14 + 20 + 8 + 244);
	assert_int_equal(st->ports[P_A1].tx_bytes, 342);
	rte_pktmbuf_free(m);
	vpc_pipeline_free(p);
	vpc_ct_free(ct);
}

/* ---- a kernel's offloads finished in software (offload.c) ---- */

/* The reference: RFC 1071 over bytes, big-endian words. */
static uint16_t
ref_sum(const uint8_t *b, size_t n, uint32_t sum)
{
	for (size_t i = 0; i + 1 < n; i += 2)
		sum += (uint32_t)b[i] << 8 | b[i + 1];
	if (n & 1)
		sum += (uint32_t)b[n - 1] << 8;
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)sum;
}

/* An Ethernet/IPv4 frame of proto with payload bytes of L4 (header
 * included, checksum field zero); its L4 checksum field at csum_at. */
static size_t
mk_frame(uint8_t *f, uint8_t proto, const uint8_t *l4, size_t l4_len, uint16_t frag)
{
	static const uint8_t eth[14] = { 2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1, 8, 0 };
	uint8_t *ip = f + 14;
	memcpy(f, eth, 14);
	memset(ip, 0, 20);
	ip[0] = 0x45;
	ip[2] = (uint8_t)((20 + l4_len) >> 8);
	ip[3] = (uint8_t)(20 + l4_len);
	ip[6] = (uint8_t)(frag >> 8);
	ip[7] = (uint8_t)frag;
	ip[8] = 64;
	ip[9] = proto;
	memcpy(ip + 12, (uint8_t[]){ 10, 0, 1, 10, 203, 0, 113, 7 }, 8);
	uint16_t h = (uint16_t)~ref_sum(ip, 20, 0);
	ip[10] = (uint8_t)(h >> 8);
	ip[11] = (uint8_t)h;
	memcpy(ip + 20, l4, l4_len);
	return 14 + 20 + l4_len;
}

static uint32_t
pseudo(const uint8_t *f, uint8_t proto, size_t l4_len)
{
	return ref_sum(f + 26, 8, 0) + proto + (uint32_t)l4_len;
}

static void
put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

/* A frame as a kernel port hands it over: through vpc_vnet_to_mbufs with
 * a header asking for a checksum at csum_at; the one frame out. */
static void
finish(uint8_t *f, size_t len, uint16_t csum_at)
{
	struct virtio_net_hdr h = { .flags = VIRTIO_NET_HDR_F_NEEDS_CSUM, .csum_start = 34,
				    .csum_offset = csum_at };
	struct rte_mbuf *m;
	enum vpc_vnet_err err;
	assert_int_equal(vpc_vnet_to_mbufs(mp, f, (uint32_t)len, &h, &m, 1, &err), 1);
	assert_int_equal(err, VPC_VNET_OK);
	assert_int_equal(rte_pktmbuf_pkt_len(m), len);
	memcpy(f, rte_pktmbuf_mtod(m, uint8_t *), len);
	rte_pktmbuf_free(m);
}

static void
test_partial_csum(void **state)
{
	(void)state;
	uint8_t tcp[20 + 11] = { 0xa4, 0x10, 0x01, 0xbb, 0, 0, 0, 1, 0, 0, 0, 0, 0x50, 0x18,
				 0xff, 0xff };
	memcpy(tcp + 20, "hello world", 11);
	uint8_t udp[8 + 5] = { 0x30, 0x39, 0, 53, 0, 13 };
	memcpy(udp + 8, "query", 5);
	uint8_t f[128], want[128];

	/* TCP: the field holds the pseudo-header's folded sum. */
	size_t n = mk_frame(f, 6, tcp, sizeof(tcp), 0x4000);
	memcpy(want, f, n);
	put16(want + 34 + 16, (uint16_t)~ref_sum(want + 34, sizeof(tcp), pseudo(want, 6, sizeof(tcp))));
	put16(f + 34 + 16, ref_sum(NULL, 0, pseudo(f, 6, sizeof(tcp))));
	finish(f, n, 16);
	assert_memory_equal(f, want, n);

	/* UDP. */
	n = mk_frame(f, 17, udp, sizeof(udp), 0);
	memcpy(want, f, n);
	put16(want + 34 + 6, (uint16_t)~ref_sum(want + 34, sizeof(udp), pseudo(want, 17, sizeof(udp))));
	put16(f + 34 + 6, ref_sum(NULL, 0, pseudo(f, 17, sizeof(udp))));
	finish(f, n, 6);
	assert_memory_equal(f, want, n);

	/* No checksum asked for: the frame as it is, even a wrong one. */
	f[34 + 7] ^= 0x5a;
	memcpy(want, f, n);
	struct virtio_net_hdr none = { 0 };
	struct rte_mbuf *m;
	enum vpc_vnet_err err;
	assert_int_equal(vpc_vnet_to_mbufs(mp, f, (uint32_t)n, &none, &m, 1, &err), 1);
	assert_memory_equal(rte_pktmbuf_mtod(m, uint8_t *), want, n);
	rte_pktmbuf_free(m);

	/* A checksum field past the frame's end: refused, nothing allocated. */
	struct virtio_net_hdr past = { .flags = VIRTIO_NET_HDR_F_NEEDS_CSUM, .csum_start = 34,
				       .csum_offset = (uint16_t)(n - 34 - 1) };
	unsigned int avail = rte_mempool_avail_count(mp);
	assert_int_equal(vpc_vnet_to_mbufs(mp, f, (uint32_t)n, &past, &m, 1, &err), 0);
	assert_int_equal(err, VPC_VNET_BAD_HDR);
	assert_int_equal(rte_mempool_avail_count(mp), avail);
}

/* A TCP super-frame (TSO/GSO) of 5,000 payload bytes cut at 1,448: four
 * segments, each checked field by field against the original. */
static void
test_tso_segments(void **state)
{
	(void)state;
	enum { PAY = 5000, MSS = 1448 };
	static uint8_t f[14 + 20 + 32 + PAY], l4[32 + PAY];
	memset(l4, 0, 32);
	put16(l4, 43210);
	put16(l4 + 2, 5001);
	put16(l4 + 4, 0x1234);	/* seq 0x12345678 */
	put16(l4 + 6, 0x5678);
	l4[12] = 0x80;		/* 32-byte header: 12 bytes of options */
	l4[13] = 0x80 | 0x10 | 0x08 | 0x01;	/* CWR ACK PSH FIN */
	put16(l4 + 14, 502);
	l4[20] = 1;
	l4[21] = 1;
	l4[22] = 8;		/* timestamps */
	l4[23] = 10;
	for (int i = 0; i < PAY; i++)
		l4[32 + i] = (uint8_t)(i * 7 + 3);
	size_t n = mk_frame(f, 6, l4, sizeof(l4), 0x4000);
	put16(f + 18, 0x0100);	/* IP id 256 (header checksum no longer matters) */
	put16(f + 34 + 16, ref_sum(NULL, 0, pseudo(f, 6, sizeof(l4))));	/* partial */
	struct virtio_net_hdr h = { .flags = VIRTIO_NET_HDR_F_NEEDS_CSUM,
				    .gso_type = VIRTIO_NET_HDR_GSO_TCPV4, .hdr_len = 66,
				    .gso_size = MSS, .csum_start = 34, .csum_offset = 16 };
	struct rte_mbuf *out[8];
	enum vpc_vnet_err err;
	uint8_t seg[14 + 20 + 32 + MSS];

	assert_int_equal(vpc_vnet_to_mbufs(mp, f, (uint32_t)n, &h, out, 8, &err), 4);
	for (int i = 0; i < 4; i++) {
		uint32_t pay = i < 3 ? MSS : PAY - 3 * MSS;
		assert_int_equal(rte_pktmbuf_pkt_len(out[i]), 66 + pay);
		const uint8_t *d = rte_pktmbuf_read(out[i], 0, 66 + pay, seg);
		assert_memory_equal(d, f, 14);				/* Ethernet */
		assert_int_equal(d[16] << 8 | d[17], 20 + 32 + pay);	/* total length */
		assert_int_equal(d[18] << 8 | d[19], 256 + i);		/* IP id */
		assert_int_equal(ref_sum(d + 14, 20, 0), 0xffff);	/* IP checksum */
		assert_memory_equal(d + 20, f + 20, 4);			/* DF, TTL, protocol */
		assert_memory_equal(d + 26, f + 26, 8);			/* addresses */
		uint32_t seq = (uint32_t)d[38] << 24 | (uint32_t)d[39] << 16 | d[40] << 8 | d[41];
		assert_int_equal(seq, 0x12345678u + (uint32_t)i * MSS);
		uint8_t fl = (uint8_t)((i == 0 ? 0x80 : 0) | 0x10 | (i == 3 ? 0x09 : 0));
		assert_int_equal(d[34 + 13], fl);
		assert_memory_equal(d + 34 + 14, f + 34 + 14, 2);	/* window */
		assert_memory_equal(d + 34 + 20, f + 34 + 20, 12);	/* options */
		assert_memory_equal(d + 66, f + 66 + i * MSS, pay);	/* payload */
		assert_int_equal(ref_sum(d + 34, 32 + pay, pseudo(d, 6, 32 + pay)), 0xffff);
	}
	rte_pktmbuf_free_bulk(out, 4);

	/* Room for fewer segments than needed, or another kind: refused. */
	unsigned int avail = rte_mempool_avail_count(mp);
	assert_int_equal(vpc_vnet_to_mbufs(mp, f, (uint32_t)n, &h, out, 3, &err), 0);
	assert_int_equal(err, VPC_VNET_NO_MBUF);
	h.gso_type = VIRTIO_NET_HDR_GSO_TCPV6;
	assert_int_equal(vpc_vnet_to_mbufs(mp, f, (uint32_t)n, &h, out, 8, &err), 0);
	assert_int_equal(err, VPC_VNET_GSO_KIND);
	assert_int_equal(rte_mempool_avail_count(mp), avail);

	/* A jumbo segment (MSS 8,948) is chained over several mbufs. */
	static uint8_t big[14 + 20 + 32 + 20000], bl4[32 + 20000];
	memcpy(bl4, l4, 32);
	for (int i = 0; i < 20000; i++)
		bl4[32 + i] = (uint8_t)(i * 13);
	n = mk_frame(big, 6, bl4, sizeof(bl4), 0x4000);
	h.gso_type = VIRTIO_NET_HDR_GSO_TCPV4;
	h.gso_size = 8948;
	assert_int_equal(vpc_vnet_to_mbufs(mp, big, (uint32_t)n, &h, out, 8, &err), 3);
	static uint8_t jb[66 + 8948];
	const uint8_t *d = rte_pktmbuf_read(out[1], 0, 66 + 8948, jb);
	assert_true(out[1]->nb_segs > 1);
	assert_memory_equal(d + 66, big + 66 + 8948, 8948);
	assert_int_equal(ref_sum(d + 34, 32 + 8948, pseudo(d, 6, 32 + 8948)), 0xffff);
	rte_pktmbuf_free_bulk(out, 3);
}

static int
setup(void **state)
{
	char path[1024], err[256], prefix[64];
	struct vpc_diag d;
	(void)state;
	snprintf(prefix, sizeof(prefix), "--file-prefix=test-pipeline-%d", (int)getpid());
	char *args[] = { "test", "--no-huge", "-m", "256", "--no-pci", "--no-shconf",
			 prefix, "--no-telemetry", "-l", "0", "--log-level=error", NULL };
	if (rte_eal_init(11, args) < 0)
		return -1;
	mp = rte_pktmbuf_pool_create("t", 1024, 0, 0, RTE_MBUF_DEFAULT_BUF_SIZE, SOCKET_ID_ANY);
	snprintf(path, sizeof(path), "%s/tests/conformance/topo/basic.yaml", config_dir);
	vpc_diag_init(&d, path);
	struct topo *t = topo_load_valid(path, &d);
	vpc_diag_fini(&d);
	if (t == NULL || mp == NULL)
		return -1;
	img = topo_compile(t);
	topo_free(t);
	tables = img ? vpc_tables_create(img, SOCKET_ID_ANY, err, sizeof(err)) : NULL;
	return tables ? 0 : -1;
}

static int
teardown(void **state)
{
	(void)state;
	vpc_tables_free(tables);
	vpc_image_free(img);
	rte_mempool_free(mp);
	rte_eal_cleanup();
	return 0;
}

int
main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_unknown_port),
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_burst_equals_one_by_one),
		cmocka_unit_test(test_uplink_burst),
		cmocka_unit_test(test_partial_csum),
		cmocka_unit_test(test_tso_segments),
		cmocka_unit_test(test_fragments_in_one_burst),
		cmocka_unit_test(test_dhcp_counts),
	};
	config_dir = argc > 1 ? argv[1] : ".";	/* the source root */
	return cmocka_run_group_tests(tests, setup, teardown);
}
