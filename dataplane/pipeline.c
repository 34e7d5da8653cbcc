/* SPDX-License-Identifier: BSD-3-Clause */
#include "pipeline.h"

#include <errno.h>
#include <stdbool.h>
#include <string.h>

#include <rte_arp.h>
#include <rte_fib.h>
#include <rte_hash.h>
#include <rte_ip.h>
#include <rte_malloc.h>
#include <rte_prefetch.h>
#include <rte_tcp.h>
#include <rte_udp.h>
#include <rte_icmp.h>

#include "cksum.h"

struct vpc_pipeline {
	const struct vpc_tables *t;
	struct vpc_stats stats;
};

/* What the parse stage learned about one packet. */
enum meta_kind { META_DROP, META_ARP, META_IPV4 };

struct meta {
	uint8_t kind;
	uint8_t reason;		/* META_DROP */
	uint8_t proto;
	uint8_t l4_ok;		/* the L4 header is present in full */
	struct rte_ether_hdr *eth;
	struct rte_ipv4_hdr *ip;
	uint8_t *l4;
	uint16_t l4_len;	/* bytes of IP payload in the frame */
};

static const char *const action_names[] = { "drop", "forward", "reply" };
static const char *const path_names[VPC_PATH_COUNT] = {
	[VPC_PATH_NONE] = "none",
#define VPC_X(e, n) [VPC_PATH_##e] = n,
	VPC_PATHS(VPC_X)
#undef VPC_X
};
static const char *const drop_names[VPC_DROP_COUNT] = {
	[VPC_DROP_NONE] = "none",
#define VPC_X(e, n, d) [VPC_DROP_##e] = n,
	VPC_DROP_REASONS(VPC_X)
#undef VPC_X
};
static const char *const drop_descs[VPC_DROP_COUNT] = {
	[VPC_DROP_NONE] = "not dropped",
#define VPC_X(e, n, d) [VPC_DROP_##e] = d,
	VPC_DROP_REASONS(VPC_X)
#undef VPC_X
};

const char *
vpc_action_name(unsigned int a)
{
	return a < 3 ? action_names[a] : "?";
}

const char *
vpc_path_name(unsigned int p)
{
	return p < VPC_PATH_COUNT ? path_names[p] : "?";
}

const char *
vpc_drop_name(unsigned int r)
{
	return r < VPC_DROP_COUNT ? drop_names[r] : "?";
}

const char *
vpc_drop_description(unsigned int r)
{
	return r < VPC_DROP_COUNT ? drop_descs[r] : "?";
}

struct vpc_pipeline *
vpc_pipeline_create(const struct vpc_tables *tables)
{
	struct vpc_pipeline *p = rte_zmalloc("vpc_pipeline", sizeof(*p),
					     RTE_CACHE_LINE_SIZE);
	if (p == NULL) {
		errno = ENOMEM;
		return NULL;
	}
	if (vpc_pipeline_set_tables(p, tables) < 0) {
		rte_free(p);
		errno = ENOMEM;
		return NULL;
	}
	return p;
}

void
vpc_pipeline_free(struct vpc_pipeline *p)
{
	if (p == NULL)
		return;
	rte_free(p->stats.ports);
	rte_free(p);
}

int
vpc_pipeline_set_tables(struct vpc_pipeline *p, const struct vpc_tables *t)
{
	if (t->n_ports > p->stats.n_ports) {
		struct vpc_port_stats *ps = rte_zmalloc("vpc_port_stats",
			t->n_ports * sizeof(*ps), RTE_CACHE_LINE_SIZE);
		if (ps == NULL)
			return -ENOMEM;
		if (p->stats.ports != NULL)
			memcpy(ps, p->stats.ports, p->stats.n_ports * sizeof(*ps));
		rte_free(p->stats.ports);
		p->stats.ports = ps;
		p->stats.n_ports = t->n_ports;
	}
	p->t = t;
	return 0;
}

const struct vpc_stats *
vpc_pipeline_stats(const struct vpc_pipeline *p)
{
	return &p->stats;
}

void
vpc_pipeline_stats_reset(struct vpc_pipeline *p)
{
	struct vpc_port_stats *ports = p->stats.ports;
	uint32_t n = p->stats.n_ports;

	memset(ports, 0, n * sizeof(*ports));
	memset(&p->stats, 0, sizeof(p->stats));
	p->stats.ports = ports;
	p->stats.n_ports = n;
}

/* ---- parse ---- */

static inline void
parse_one(struct rte_mbuf *m, struct meta *x)
{
	uint8_t *data = rte_pktmbuf_mtod(m, uint8_t *);
	uint32_t len = rte_pktmbuf_data_len(m);

	x->kind = META_DROP;
	x->l4_ok = 0;
	if (unlikely(len < sizeof(struct rte_ether_hdr))) {
		x->reason = VPC_DROP_FRAME_TRUNCATED;
		return;
	}
	x->eth = (struct rte_ether_hdr *)data;
	uint16_t type = x->eth->ether_type;

	if (likely(type == RTE_BE16(RTE_ETHER_TYPE_IPV4))) {
		uint32_t avail = len - sizeof(struct rte_ether_hdr);
		struct rte_ipv4_hdr *ip = (struct rte_ipv4_hdr *)(x->eth + 1);
		if (unlikely(avail < sizeof(*ip))) {
			x->reason = VPC_DROP_IP_TRUNCATED;
			return;
		}
		uint8_t vihl = ip->version_ihl;
		if (unlikely((vihl >> 4) != 4)) {
			x->reason = VPC_DROP_IP_VERSION;
			return;
		}
		if (unlikely((vihl & 0xf) != 5)) {
			x->reason = (vihl & 0xf) < 5 ? VPC_DROP_IP_IHL : VPC_DROP_IP_OPTIONS;
			return;
		}
		uint16_t tot = rte_be_to_cpu_16(ip->total_length);
		if (unlikely(tot < sizeof(*ip) || tot > avail)) {
			x->reason = VPC_DROP_IP_TRUNCATED;
			return;
		}
		/* A correct header, checksum field included, sums to ffff. */
		if (unlikely(rte_raw_cksum(ip, sizeof(*ip)) != 0xffff)) {
			x->reason = VPC_DROP_IP_CHECKSUM;
			return;
		}
		uint16_t frag = rte_be_to_cpu_16(ip->fragment_offset);
		if (unlikely(frag & RTE_IPV4_HDR_OFFSET_MASK)) {
			x->reason = VPC_DROP_IP_FRAGMENT;
			return;
		}
		x->ip = ip;
		x->proto = ip->next_proto_id;
		x->l4 = (uint8_t *)(ip + 1);
		x->l4_len = (uint16_t)(tot - sizeof(*ip));
		switch (x->proto) {
		case IPPROTO_TCP: {
			const struct rte_tcp_hdr *tcp = (const void *)x->l4;
			if (unlikely(x->l4_len < sizeof(*tcp) ||
				     (tcp->data_off >> 4) < 5 ||
				     (uint32_t)(tcp->data_off >> 4) * 4 > x->l4_len)) {
				x->reason = VPC_DROP_L4_TRUNCATED;
				return;
			}
			break;
		}
		case IPPROTO_UDP: {
			const struct rte_udp_hdr *udp = (const void *)x->l4;
			if (unlikely(x->l4_len < sizeof(*udp) ||
				     rte_be_to_cpu_16(udp->dgram_len) < sizeof(*udp) ||
				     rte_be_to_cpu_16(udp->dgram_len) > x->l4_len)) {
				x->reason = VPC_DROP_L4_TRUNCATED;
				return;
			}
			break;
		}
		case IPPROTO_ICMP:
			if (unlikely(x->l4_len < sizeof(struct rte_icmp_hdr))) {
				x->reason = VPC_DROP_L4_TRUNCATED;
				return;
			}
			break;
		default:
			break;
		}
		x->l4_ok = 1;
		x->kind = META_IPV4;
		return;
	}
	if (type == RTE_BE16(RTE_ETHER_TYPE_ARP)) {
		struct rte_arp_hdr *arp = (struct rte_arp_hdr *)(x->eth + 1);
		if (len < sizeof(struct rte_ether_hdr) + sizeof(*arp) ||
		    arp->arp_hardware != RTE_BE16(RTE_ARP_HRD_ETHER) ||
		    arp->arp_protocol != RTE_BE16(RTE_ETHER_TYPE_IPV4) ||
		    arp->arp_hlen != RTE_ETHER_ADDR_LEN || arp->arp_plen != 4) {
			x->reason = VPC_DROP_ARP_MALFORMED;
			return;
		}
		x->kind = META_ARP;
		return;
	}
	if (type == RTE_BE16(RTE_ETHER_TYPE_VLAN) || type == RTE_BE16(RTE_ETHER_TYPE_QINQ))
		x->reason = VPC_DROP_VLAN_TAGGED;
	else
		x->reason = VPC_DROP_ETHERTYPE;
}

/* ---- ARP responder ---- */

/* Turn the request in place into the reply "tip is at mac". */
static void
arp_answer(struct meta *x, const struct rte_ether_addr *mac)
{
	struct rte_arp_hdr *arp = (struct rte_arp_hdr *)(x->eth + 1);
	struct rte_arp_ipv4 *a = &arp->arp_data;
	rte_be32_t tip = a->arp_tip;

	rte_ether_addr_copy(&a->arp_sha, &x->eth->dst_addr);
	rte_ether_addr_copy(mac, &x->eth->src_addr);
	arp->arp_opcode = RTE_BE16(RTE_ARP_OP_REPLY);
	rte_ether_addr_copy(&a->arp_sha, &a->arp_tha);
	a->arp_tip = a->arp_sip;
	rte_ether_addr_copy(mac, &a->arp_sha);
	a->arp_sip = tip;
}

/* ARP from an interface: answer for the gateway and same-subnet IPs. */
static uint8_t
arp_from_iface(const struct vpc_tables *t, const struct vpc_port_info *pi,
	       struct meta *x)
{
	const struct vpc_iface_info *fi = pi->fi;
	struct rte_arp_hdr *arp = (struct rte_arp_hdr *)(x->eth + 1);
	const struct rte_arp_ipv4 *a = &arp->arp_data;

	/* A guest cannot claim another's address, whatever its
	 * source_dest_check says.  0.0.0.0 is an address probe (RFC 5227). */
	if (!rte_is_same_ether_addr(&x->eth->src_addr, &fi->mac) ||
	    !rte_is_same_ether_addr(&a->arp_sha, &fi->mac) ||
	    (a->arp_sip != fi->ip && a->arp_sip != 0))
		return VPC_DROP_ARP_SPOOFED;
	if (arp->arp_opcode != RTE_BE16(RTE_ARP_OP_REQUEST))
		return VPC_DROP_ARP_NOT_REQUEST;
	if (a->arp_sip == 0)
		return VPC_DROP_ARP_UNANSWERED;
	if (a->arp_tip == pi->gateway_ip) {
		arp_answer(x, &fi->router_mac);
		return VPC_DROP_NONE;
	}
	struct vpc_ip_key k = { .vpc = fi->vpc, .ip = a->arp_tip };
	void *data;
	if (rte_hash_lookup_data(t->ip, &k, &data) >= 0) {
		const struct vpc_iface_info *o = &t->ifaces[(uintptr_t)data];
		if (o->subnet == fi->subnet && o != fi) {
			arp_answer(x, &o->mac);
			return VPC_DROP_NONE;
		}
	}
	return VPC_DROP_ARP_UNANSWERED;
}

/* ARP on the uplink: answer for the elastic IPs. */
static uint8_t
arp_from_uplink(const struct vpc_tables *t, struct meta *x)
{
	struct rte_arp_hdr *arp = (struct rte_arp_hdr *)(x->eth + 1);
	void *data;

	if (!rte_is_broadcast_ether_addr(&x->eth->dst_addr) &&
	    !rte_is_same_ether_addr(&x->eth->dst_addr, &t->uplink_mac))
		return VPC_DROP_UPLINK_DST_MAC;
	if (arp->arp_opcode != RTE_BE16(RTE_ARP_OP_REQUEST))
		return VPC_DROP_ARP_NOT_REQUEST;
	struct vpc_eip_key k = { .ip = arp->arp_data.arp_tip };
	if (rte_hash_lookup_data(t->eip, &k, &data) < 0)
		return VPC_DROP_ARP_UNANSWERED;
	arp_answer(x, &t->uplink_mac);
	return VPC_DROP_NONE;
}

/* ---- rewrites ---- */

/* Decrement the TTL (the caller checked it is above 1). */
static inline void
ttl_dec(struct rte_ipv4_hdr *ip)
{
	uint16_t old, new_;

	old = vpc_load16(VPC_FIELD_PTR(ip, time_to_live));
	ip->time_to_live--;
	new_ = vpc_load16(VPC_FIELD_PTR(ip, time_to_live));
	vpc_csum_replace2(VPC_FIELD_PTR(ip, hdr_checksum), old, new_);
}

/* The L4 checksum, when it covers the pseudo-header, or NULL. */
static inline void *
l4_pseudo_csum(const struct meta *x)
{
	if (x->proto == IPPROTO_TCP)
		return VPC_FIELD_PTR((struct rte_tcp_hdr *)x->l4, cksum);
	if (x->proto == IPPROTO_UDP) {
		struct rte_udp_hdr *u = (struct rte_udp_hdr *)x->l4;
		return u->dgram_cksum != 0 ? VPC_FIELD_PTR(u, dgram_cksum) : NULL;
	}
	return NULL;
}

/* Rewrite the source (src true) or destination address in the IP header
 * and every checksum that covers it. */
static inline void
nat_rewrite(const struct meta *x, bool src, rte_be32_t to)
{
	rte_be32_t from = src ? x->ip->src_addr : x->ip->dst_addr;
	void *l4 = l4_pseudo_csum(x);

	if (src)
		x->ip->src_addr = to;
	else
		x->ip->dst_addr = to;
	vpc_csum_replace4(VPC_FIELD_PTR(x->ip, hdr_checksum), from, to);
	if (l4 != NULL) {
		vpc_csum_replace4(l4, from, to);
		/* UDP: 0 means "no checksum"; a computed 0 is sent as ffff */
		if (x->proto == IPPROTO_UDP && vpc_load16(l4) == 0)
			vpc_store16(l4, 0xffff);
	}
}

/* ---- the burst ---- */

static inline void
set_drop(struct vpc_verdict *v, uint8_t reason)
{
	v->action = VPC_ACT_DROP;
	v->path = VPC_PATH_NONE;
	v->reason = reason;
	v->out_port = UINT16_MAX;
}

static inline void
set_forward(struct vpc_verdict *v, uint16_t port, uint8_t path)
{
	v->action = VPC_ACT_FORWARD;
	v->path = path;
	v->reason = VPC_DROP_NONE;
	v->out_port = port;
}

static inline void
set_reply(struct vpc_verdict *v, uint16_t port)
{
	v->action = VPC_ACT_REPLY;
	v->path = VPC_PATH_ARP_REPLY;
	v->reason = VPC_DROP_NONE;
	v->out_port = port;
}

static inline void
deliver(struct meta *x, const struct vpc_iface_info *d, struct vpc_verdict *v,
	uint8_t path)
{
	rte_ether_addr_copy(&d->router_mac, &x->eth->src_addr);
	rte_ether_addr_copy(&d->mac, &x->eth->dst_addr);
	ttl_dec(x->ip);
	set_forward(v, d->port, path);
}

/* Packets from an interface's port. */
static void
process_iface(struct vpc_pipeline *p, const struct vpc_port_info *pi,
	      uint16_t n, struct meta *x, struct vpc_verdict *v)
{
	const struct vpc_tables *t = p->t;
	const struct vpc_iface_info *fi = pi->fi;
	/* Indexes of the packets that need each bulk lookup. */
	uint16_t routed[VPC_BURST_MAX], switched[VPC_BURST_MAX];
	uint16_t n_routed = 0, n_switched = 0;

	for (uint16_t i = 0; i < n; i++) {
		struct meta *m = &x[i];
		if (m->kind == META_DROP) {
			set_drop(&v[i], m->reason);
			continue;
		}
		if (unlikely(m->kind == META_ARP)) {
			uint8_t r = arp_from_iface(t, pi, m);
			if (r != VPC_DROP_NONE)
				set_drop(&v[i], r);
			else
				set_reply(&v[i], UINT16_MAX);	/* set below */
			continue;
		}
		const struct rte_ether_addr *dst = &m->eth->dst_addr;
		if (unlikely(rte_is_multicast_ether_addr(dst))) {
			set_drop(&v[i], VPC_DROP_MULTICAST);
			continue;
		}
		if (fi->src_dst_check) {
			if (unlikely(!rte_is_same_ether_addr(&m->eth->src_addr, &fi->mac))) {
				set_drop(&v[i], VPC_DROP_SPOOFED_MAC);
				continue;
			}
			if (unlikely(m->ip->src_addr != fi->ip)) {
				set_drop(&v[i], VPC_DROP_SPOOFED_IP);
				continue;
			}
		}
		if (unlikely(rte_be_to_cpu_16(m->ip->total_length) > fi->mtu)) {
			set_drop(&v[i], VPC_DROP_MTU_EXCEEDED);
			continue;
		}
		/* 224.0.0.0/3: multicast, reserved, limited broadcast */
		if (unlikely((m->ip->dst_addr & RTE_BE32(0xe0000000)) ==
			     RTE_BE32(0xe0000000))) {
			set_drop(&v[i], VPC_DROP_MULTICAST);
			continue;
		}
		if (rte_is_same_ether_addr(dst, &fi->router_mac))
			routed[n_routed++] = i;
		else
			switched[n_switched++] = i;
	}

	/* Routed: one FIB lookup for the burst, in the source subnet's table. */
	if (n_routed > 0) {
		uint32_t ips[VPC_BURST_MAX];
		uint64_t nhs[VPC_BURST_MAX];
		const struct vpc_rtable *rt = pi->rtable;
		for (uint16_t k = 0; k < n_routed; k++)
			ips[k] = rte_be_to_cpu_32(x[routed[k]].ip->dst_addr);
		rte_fib_lookup_bulk(rt->fib, ips, nhs, n_routed);
		for (uint16_t k = 0; k < n_routed; k++) {
			uint16_t i = routed[k];
			struct meta *m = &x[i];
			const struct vpc_nexthop *nh = &rt->nexthops[nhs[k]];
			uint8_t drop = VPC_DROP_NONE;
			switch (nh->kind) {
			case VPC_NH_DELIVER:
			case VPC_NH_APPLIANCE: {
				const struct vpc_iface_info *d = &t->ifaces[nh->iface];
				if (d->src_dst_check && m->ip->dst_addr != d->ip) {
					drop = VPC_DROP_DST_NOT_OWNER;
					break;
				}
				if (m->ip->time_to_live <= 1) {
					drop = VPC_DROP_TTL_EXPIRED;
					break;
				}
				/* [security groups: sender's egress and
				 * receiver's ingress, stateful -- next issue] */
				deliver(m, d, &v[i], nh->kind == VPC_NH_DELIVER ?
					VPC_PATH_ROUTED : VPC_PATH_ROUTED_APPLIANCE);
				continue;
			}
			case VPC_NH_IGW:
				/* 1:1 NAT: only the interface's own address has
				 * an elastic IP (an appliance forwarding others'
				 * packets does not lend them its own). */
				if (!fi->has_eip || m->ip->src_addr != fi->ip) {
					drop = VPC_DROP_NO_ELASTIC_IP;
					break;
				}
				if (m->ip->time_to_live <= 1) {
					drop = VPC_DROP_TTL_EXPIRED;
					break;
				}
				/* [security groups: sender's egress -- next issue] */
				nat_rewrite(m, true, fi->eip);
				rte_ether_addr_copy(&t->uplink_mac, &m->eth->src_addr);
				rte_ether_addr_copy(&t->gateway_mac, &m->eth->dst_addr);
				ttl_dec(m->ip);
				set_forward(&v[i], (uint16_t)t->uplink_port, VPC_PATH_IGW_EGRESS);
				continue;
			case VPC_NH_BLACKHOLE:
				drop = VPC_DROP_BLACKHOLE;
				break;
			case VPC_NH_LOCAL_MISS:
				drop = VPC_DROP_NO_INTERFACE;
				break;
			default:
				drop = VPC_DROP_NO_ROUTE;
				break;
			}
			set_drop(&v[i], drop);
		}
	}

	/* Switched: one bulk (VPC, MAC) lookup. */
	if (n_switched > 0) {
		struct vpc_l2_key keys[VPC_BURST_MAX];
		const void *kp[VPC_BURST_MAX];
		void *data[VPC_BURST_MAX];
		uint64_t hits = 0;
		for (uint16_t k = 0; k < n_switched; k++) {
			keys[k].vpc = fi->vpc;
			rte_ether_addr_copy(&x[switched[k]].eth->dst_addr, &keys[k].mac);
			keys[k].pad = 0;
			keys[k].pad2 = 0;
			kp[k] = &keys[k];
		}
		rte_hash_lookup_bulk_data(t->l2, kp, n_switched, &hits, data);
		for (uint16_t k = 0; k < n_switched; k++) {
			uint16_t i = switched[k];
			if (!(hits & (1ull << k))) {
				set_drop(&v[i], VPC_DROP_UNKNOWN_DST_MAC);
				continue;
			}
			const struct vpc_iface_info *d = &t->ifaces[(uintptr_t)data[k]];
			if (unlikely(d == fi)) {
				set_drop(&v[i], VPC_DROP_HAIRPIN);
				continue;
			}
			if (unlikely(d->subnet != fi->subnet)) {
				set_drop(&v[i], VPC_DROP_DST_OTHER_SUBNET);
				continue;
			}
			if (d->src_dst_check && x[i].ip->dst_addr != d->ip) {
				set_drop(&v[i], VPC_DROP_DST_NOT_OWNER);
				continue;
			}
			/* [security groups: sender's egress and receiver's
			 * ingress, stateful -- next issue] */
			set_forward(&v[i], d->port, VPC_PATH_L2_SWITCH);
		}
	}
}

/* Packets from the uplink: ARP for elastic IPs, and traffic to them. */
static void
process_uplink(struct vpc_pipeline *p, struct meta *x, uint16_t n,
	       struct vpc_verdict *v)
{
	const struct vpc_tables *t = p->t;
	uint16_t idx[VPC_BURST_MAX];
	struct vpc_eip_key keys[VPC_BURST_MAX];
	const void *kp[VPC_BURST_MAX];
	void *data[VPC_BURST_MAX];
	uint16_t n_eip = 0;
	uint64_t hits = 0;

	for (uint16_t i = 0; i < n; i++) {
		struct meta *m = &x[i];
		if (m->kind == META_DROP) {
			set_drop(&v[i], m->reason);
			continue;
		}
		if (unlikely(m->kind == META_ARP)) {
			uint8_t r = arp_from_uplink(t, m);
			if (r != VPC_DROP_NONE)
				set_drop(&v[i], r);
			else
				set_reply(&v[i], (uint16_t)t->uplink_port);
			continue;
		}
		if (unlikely(rte_is_multicast_ether_addr(&m->eth->dst_addr))) {
			set_drop(&v[i], VPC_DROP_MULTICAST);
			continue;
		}
		if (unlikely(!rte_is_same_ether_addr(&m->eth->dst_addr, &t->uplink_mac))) {
			set_drop(&v[i], VPC_DROP_UPLINK_DST_MAC);
			continue;
		}
		keys[n_eip] = (struct vpc_eip_key){ .ip = m->ip->dst_addr };
		kp[n_eip] = &keys[n_eip];
		idx[n_eip++] = i;
	}
	if (n_eip == 0)
		return;
	rte_hash_lookup_bulk_data(t->eip, kp, n_eip, &hits, data);
	for (uint16_t k = 0; k < n_eip; k++) {
		uint16_t i = idx[k];
		struct meta *m = &x[i];
		if (!(hits & (1ull << k))) {
			set_drop(&v[i], VPC_DROP_UNKNOWN_ELASTIC_IP);
			continue;
		}
		const struct vpc_iface_info *d = &t->ifaces[(uintptr_t)data[k]];
		if (unlikely(rte_be_to_cpu_16(m->ip->total_length) > d->mtu)) {
			set_drop(&v[i], VPC_DROP_MTU_EXCEEDED);
			continue;
		}
		if (m->ip->time_to_live <= 1) {
			set_drop(&v[i], VPC_DROP_TTL_EXPIRED);
			continue;
		}
		/* [security groups: receiver's ingress, stateful -- next issue] */
		nat_rewrite(m, false, d->ip);
		deliver(m, d, &v[i], VPC_PATH_IGW_INGRESS);
	}
}

uint16_t
vpc_pipeline_process(struct vpc_pipeline *p, uint16_t in_port,
		     struct rte_mbuf **pkts, uint16_t n, uint64_t now,
		     struct vpc_verdict *v)
{
	const struct vpc_tables *t = p->t;
	struct meta x[VPC_BURST_MAX];
	(void)now;	/* the clock of connection tracking (next issue) */

	RTE_ASSERT(n <= VPC_BURST_MAX);
	if (unlikely(in_port >= t->n_ports)) {
		for (uint16_t i = 0; i < n; i++)
			set_drop(&v[i], VPC_DROP_UNKNOWN_PORT);
		p->stats.drops[VPC_DROP_UNKNOWN_PORT] += n;
		p->stats.packets += n;
		return n;
	}

	for (uint16_t i = 0; i < n; i++) {
		if (i + 4 < n)
			rte_prefetch0(rte_pktmbuf_mtod(pkts[i + 4], void *));
		parse_one(pkts[i], &x[i]);
	}

	const struct vpc_port_info *pi = &t->ports[in_port];
	if (pi->is_uplink)
		process_uplink(p, x, n, v);
	else
		process_iface(p, pi, n, x, v);

	/* Counters: per lcore, so plain increments. */
	struct vpc_port_stats *ps = p->stats.ports;
	p->stats.packets += n;
	for (uint16_t i = 0; i < n; i++) {
		uint32_t len = rte_pktmbuf_pkt_len(pkts[i]);
		ps[in_port].rx_packets++;
		ps[in_port].rx_bytes += len;
		if (v[i].action == VPC_ACT_DROP) {
			p->stats.drops[v[i].reason]++;
			ps[in_port].drops++;
			continue;
		}
		if (v[i].action == VPC_ACT_REPLY)
			v[i].out_port = in_port;
		p->stats.paths[v[i].path]++;
		ps[v[i].out_port].tx_packets++;
		ps[v[i].out_port].tx_bytes += len;
	}
	return n;
}
