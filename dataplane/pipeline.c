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
#include "conntrack.h"
#include "vpc_icmp.h"
#include "vpc_decide.h"

/* The DPDK engine's option walker, for the shared tracker (below). */
struct meta;
static uint8_t tcp_wscale(const struct meta *m);
#define VPC_TCP_WSCALE(ctx) tcp_wscale((const struct meta *)(ctx))
#include "vpc_tcp.h"
#include "sg.h"

struct vpc_pipeline {
	const struct vpc_tables *t;
	struct vpc_ct *ct;	/* shared by every pipeline of the host */
	struct vpc_stats stats;
};

/* What the parse stage learned about one packet. */
enum meta_kind { META_DROP, META_ARP, META_IPV4 };

struct meta {
	uint8_t kind;
	uint8_t reason;		/* META_DROP */
	uint8_t proto;
	uint8_t tcp_flags;
	struct rte_ether_hdr *eth;
	struct rte_ipv4_hdr *ip;
	uint8_t *l4;
	uint16_t l4_len;	/* bytes of IP payload in the frame */
	rte_be16_t sport, dport;	/* conntrack ports (see ct_key) */
	uint8_t icmp_type, icmp_code;
	uint8_t icmp_error;	/* unreachable, time exceeded, parameter problem */
};

struct vpc_pipeline *
vpc_pipeline_create(const struct vpc_tables *tables, struct vpc_ct *ct)
{
	struct vpc_pipeline *p = rte_zmalloc("vpc_pipeline", sizeof(*p),
					     RTE_CACHE_LINE_SIZE);
	if (p == NULL) {
		errno = ENOMEM;
		return NULL;
	}
	p->ct = ct;
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

/* The one's-complement sum of a 20-byte header is ffff when its checksum
 * is right: five 32-bit loads into a 64-bit sum, then folded. */
static inline bool
ipv4_hdr_cksum_ok(const struct rte_ipv4_hdr *ip)
{
	const uint8_t *b = (const uint8_t *)ip;
	uint64_t sum = 0;
	for (int i = 0; i < 20; i += 4) {
		uint32_t w;
		memcpy(&w, b + i, 4);
		sum += w;
	}
	sum = (sum & 0xffffffff) + (sum >> 32);
	sum = (sum & 0xffffffff) + (sum >> 32);
	return vpc_csum_fold((uint32_t)sum) == 0xffff;
}

static inline void
parse_one(struct rte_mbuf *m, struct meta *x)
{
	uint8_t *data = rte_pktmbuf_mtod(m, uint8_t *);
	uint32_t len = rte_pktmbuf_data_len(m);

	x->kind = META_DROP;

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
		if (unlikely(!ipv4_hdr_cksum_ok(ip))) {
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
		x->sport = x->dport = 0;
		x->tcp_flags = 0;
		x->icmp_error = 0;
		switch (x->proto) {
		case IPPROTO_TCP: {
			const struct rte_tcp_hdr *tcp = (const void *)x->l4;
			if (unlikely(x->l4_len < sizeof(*tcp) ||
				     (tcp->data_off >> 4) < 5 ||
				     (uint32_t)(tcp->data_off >> 4) * 4 > x->l4_len)) {
				x->reason = VPC_DROP_L4_TRUNCATED;
				return;
			}
			x->sport = tcp->src_port;
			x->dport = tcp->dst_port;
			x->tcp_flags = tcp->tcp_flags;
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
			x->sport = udp->src_port;
			x->dport = udp->dst_port;
			break;
		}
		case IPPROTO_ICMP: {
			const struct rte_icmp_hdr *ic = (const void *)x->l4;
			if (unlikely(x->l4_len < sizeof(*ic))) {
				x->reason = VPC_DROP_L4_TRUNCATED;
				return;
			}
			x->icmp_type = ic->icmp_type;
			x->icmp_code = ic->icmp_code;
			x->icmp_error = (uint8_t)vpc_icmp_is_error(ic->icmp_type);
			/* Query/reply pairs by identifier, others by type and code. */
			x->sport = vpc_icmp_is_query(ic->icmp_type) ? ic->icmp_ident : 0;
			x->dport = rte_cpu_to_be_16((uint16_t)(ic->icmp_type << 8 | ic->icmp_code));
			break;
		}
		default:
			break;
		}
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

/*
 * Decrement the TTL (the caller checked it is above 1).  The new TTL and
 * protocol word is built in a register and stored once: writing the TTL
 * byte and reading the word back stalls store forwarding.
 */
static inline void
ttl_dec(struct rte_ipv4_hdr *ip)
{
	void *w = VPC_FIELD_PTR(ip, time_to_live);
	uint16_t old = vpc_load16(w), new_ = old;

	((uint8_t *)&new_)[0] = (uint8_t)(((uint8_t *)&old)[0] - 1);
	vpc_store16(w, new_);
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

/* ---- decisions: where a packet goes, before security groups ---- */

/* The slow path's answer for one packet: its action, and who receives it
 * (an interface, or VPC_INDEX_NONE for the internet). */
struct decision {
	struct vpc_ct_action act;
	uint32_t receiver;
};

static inline void
act_deliver(struct decision *d, const struct vpc_tables *t, uint32_t x, uint8_t path)
{
	const struct vpc_iface_info *fi = &t->ifaces[x];
	d->receiver = x;
	d->act = (struct vpc_ct_action){
		.out_port = fi->port, .path = path, .nat = VPC_CT_NAT_NONE,
		.src_mac = fi->router_mac, .dst_mac = fi->mac,
		.rewrite_macs = 1, .vpc = (uint16_t)fi->vpc,
	};
}

/* From an interface's port; anti-spoofing already passed. */
static uint8_t
decide_iface(const struct vpc_tables *t, const struct vpc_port_info *pi,
	     const struct meta *m, struct decision *d)
{
	const struct vpc_iface_info *fi = pi->fi;

	if (rte_is_same_ether_addr(&m->eth->dst_addr, &fi->router_mac)) {
		uint32_t ip = rte_be_to_cpu_32(m->ip->dst_addr);
		uint64_t nh_idx;
		const struct vpc_rtable *rt = pi->rtable;
		rte_fib_lookup_bulk(rt->fib, &ip, &nh_idx, 1);
		const struct vpc_nexthop *nh = &rt->nexthops[nh_idx];
		switch (nh->kind) {
		case VPC_NH_DELIVER:
		case VPC_NH_APPLIANCE: {
			const struct vpc_iface_info *x = &t->ifaces[nh->iface];
			if (x->src_dst_check && m->ip->dst_addr != x->ip)
				return VPC_DROP_DST_NOT_OWNER;
			act_deliver(d, t, nh->iface, nh->kind == VPC_NH_DELIVER ?
				    VPC_PATH_ROUTED : VPC_PATH_ROUTED_APPLIANCE);
			return VPC_DROP_NONE;
		}
		case VPC_NH_IGW:
			/* 1:1 NAT: only the interface's own address has an
			 * elastic IP (an appliance forwarding others' packets
			 * does not lend them its own). */
			if (!fi->has_eip || m->ip->src_addr != fi->ip)
				return VPC_DROP_NO_ELASTIC_IP;
			d->receiver = VPC_INDEX_NONE;
			d->act = (struct vpc_ct_action){
				.out_port = (uint16_t)t->uplink_port, .path = VPC_PATH_IGW_EGRESS,
				.nat = VPC_CT_NAT_SRC, .nat_addr = fi->eip,
				.src_mac = t->uplink_mac, .dst_mac = t->gateway_mac,
				.rewrite_macs = 1, .vpc = (uint16_t)fi->vpc,
			};
			return VPC_DROP_NONE;
		default:
			return vpc_nh_drop_reason(nh->kind);
		}
	}

	struct vpc_l2_key k = { .vpc = fi->vpc };
	void *data;
	rte_ether_addr_copy(&m->eth->dst_addr, &k.mac);
	if (rte_hash_lookup_data(t->l2, &k, &data) < 0)
		return VPC_DROP_UNKNOWN_DST_MAC;
	uint32_t xi = (uint32_t)(uintptr_t)data;
	const struct vpc_iface_info *x = &t->ifaces[xi];
	if (x == fi)
		return VPC_DROP_HAIRPIN;
	if (x->subnet != fi->subnet)
		return VPC_DROP_DST_OTHER_SUBNET;
	if (x->src_dst_check && m->ip->dst_addr != x->ip)
		return VPC_DROP_DST_NOT_OWNER;
	d->receiver = xi;
	/* Switched frames keep their MACs; dst_mac records the one the
	 * action is for (see fast_path_ok). */
	d->act = (struct vpc_ct_action){
		.out_port = x->port, .path = VPC_PATH_L2_SWITCH, .nat = VPC_CT_NAT_NONE,
		.dst_mac = x->mac, .rewrite_macs = 0, .vpc = (uint16_t)x->vpc,
	};
	return VPC_DROP_NONE;
}

/* From the uplink; the destination MAC already checked. */
static uint8_t
decide_uplink(const struct vpc_tables *t, const struct meta *m, struct decision *d)
{
	struct vpc_eip_key k = { .ip = m->ip->dst_addr };
	void *data;

	if (rte_hash_lookup_data(t->eip, &k, &data) < 0)
		return VPC_DROP_UNKNOWN_ELASTIC_IP;
	uint32_t xi = (uint32_t)(uintptr_t)data;
	const struct vpc_iface_info *x = &t->ifaces[xi];
	if (rte_be_to_cpu_16(m->ip->total_length) > x->mtu)
		return VPC_DROP_MTU_EXCEEDED;
	act_deliver(d, t, xi, VPC_PATH_IGW_INGRESS);
	d->act.nat = VPC_CT_NAT_DST;
	d->act.nat_addr = x->ip;
	return VPC_DROP_NONE;
}

/* ---- security groups ---- */

/*
 * Does a connection from sender to receiver pass the sender's egress and
 * the receiver's ingress rules?  (VPC_INDEX_NONE: the internet, which has
 * no rules.)  egress_peer: the destination as the sender addressed it;
 * ingress_peer: the source as the receiver sees it.
 */
static bool
sg_allows(const struct vpc_tables *t, uint32_t sender, uint32_t receiver, uint8_t proto,
	  rte_be32_t egress_peer, rte_be32_t ingress_peer, rte_be16_t port,
	  uint8_t icmp_type, uint8_t icmp_code)
{
	uint16_t p = rte_be_to_cpu_16(port);

	if (sender != VPC_INDEX_NONE &&
	    !vpc_sg_allows(t->sg, t->ifaces[sender].sg_class[VPC_DIR_EGRESS], proto,
			   rte_be_to_cpu_32(egress_peer), p, icmp_type, icmp_code))
		return false;
	if (receiver != VPC_INDEX_NONE &&
	    !vpc_sg_allows(t->sg, t->ifaces[receiver].sg_class[VPC_DIR_INGRESS], proto,
			   rte_be_to_cpu_32(ingress_peer), p, icmp_type, icmp_code))
		return false;
	return true;
}

/*
 * The rules for the connection a packet belongs to, seen from the packet:
 * forward (dir 0), it is the connection's own direction; reverse (dir 1),
 * the roles swap -- the original sender is this packet's receiver.
 */
static bool
sg_allows_packet(const struct vpc_tables *t, const struct vpc_port_info *pi,
		 const struct meta *m, const struct decision *d, unsigned int dir)
{
	uint32_t here = pi->is_uplink ? VPC_INDEX_NONE : pi->iface;

	if (dir == 0)
		return sg_allows(t, here, d->receiver, m->proto, m->ip->dst_addr,
				 m->ip->src_addr, m->dport, m->icmp_type, m->icmp_code);
	return sg_allows(t, d->receiver, here, m->proto, m->ip->src_addr, m->ip->dst_addr,
			 m->sport, vpc_icmp_peer_type(m->icmp_type), m->icmp_code);
}

/* ---- connection tracking ---- */

static inline void
ct_key(struct vpc_ct_key *k, uint32_t ctx, const struct meta *m)
{
	k->ctx_proto = ctx | m->proto;
	k->src = m->ip->src_addr;
	k->dst = m->ip->dst_addr;
	k->sport = m->sport;
	k->dport = m->dport;
}

/* The key the replies of a new connection will arrive with. */
static void
ct_reverse_key(struct vpc_ct_key *r, const struct vpc_tables *t, const struct meta *m,
	       const struct decision *d, uint32_t ctx)
{
	r->ctx_proto = m->proto;
	r->src = m->ip->dst_addr;
	r->dst = m->ip->src_addr;
	if (m->proto == IPPROTO_ICMP) {
		r->sport = m->sport;
		r->dport = rte_cpu_to_be_16((uint16_t)(vpc_icmp_peer_type(m->icmp_type) << 8 |
						       m->icmp_code));
	} else {
		r->sport = m->dport;
		r->dport = m->sport;
	}
	if (d->act.nat == VPC_CT_NAT_SRC) {	/* replies come to the EIP */
		r->dst = d->act.nat_addr;
		return;				/* context 0: the uplink */
	}
	if (d->act.nat == VPC_CT_NAT_DST)	/* replies come from the VM */
		r->src = d->act.nat_addr;
	r->ctx_proto |= d->receiver != VPC_INDEX_NONE ? t->ifaces[d->receiver].ctx : ctx;
}

static inline uint64_t
timeout_ns(const struct vpc_tables *t, uint16_t vpc, enum vpc_timeout_id id)
{
	return t->timeouts_ns[vpc * VPC_TO_COUNT + id];
}

/* Window scale option of a SYN, or 0xff when absent: the DPDK engine's
 * own option walker (vpc_tcp.h's VPC_TCP_WSCALE). */
static uint8_t
tcp_wscale(const struct meta *m)
{
	const struct rte_tcp_hdr *tcp = (const void *)m->l4;
	const uint8_t *o = m->l4 + sizeof(*tcp);
	uint32_t len = (uint32_t)(tcp->data_off >> 4) * 4 - sizeof(*tcp);

	for (uint32_t i = 0; i < len && i < 40;) {	/* bounded: options <= 40 bytes */
		if (o[i] == 0)
			break;
		if (o[i] == 1) {
			i++;
			continue;
		}
		if (i + 1 >= len || o[i + 1] < 2)
			break;
		if (o[i] == 3 && o[i + 1] == 3 && i + 2 < len)
			return o[i + 2] > 14 ? 14 : o[i + 2];
		i += o[i + 1];
	}
	return 0xff;
}

/* The segment record the shared tracker reads (parse checked the header
 * is in the frame). */
static inline __attribute__((always_inline)) void
tcp_seg(const struct meta *m, struct vpc_tcp_seg *s)
{
	const struct rte_tcp_hdr *tcp = (const void *)m->l4;

	s->seq = rte_be_to_cpu_32(tcp->sent_seq);
	s->ack = rte_be_to_cpu_32(tcp->recv_ack);
	s->win = rte_be_to_cpu_16(tcp->rx_win);
	s->flags = m->tcp_flags;
	s->len = m->l4_len - (uint32_t)(tcp->data_off >> 4) * 4 +
		 !!(m->tcp_flags & VPC_TCP_SYN) + !!(m->tcp_flags & VPC_TCP_FIN);
}

static inline __attribute__((always_inline)) unsigned int
tcp_update(struct vpc_ct_entry *e, unsigned int dir, const struct meta *m)
{
	struct vpc_tcp_seg s;

	tcp_seg(m, &s);
	return vpc_tcp_update(&e->trk, dir, &s, (void *)(uintptr_t)m);
}

static inline __attribute__((always_inline)) uint64_t
entry_timeout(const struct vpc_tables *t, const struct vpc_ct_entry *e, uint16_t vpc)
{
	return vpc_ct_timeout(&e->trk, timeout_ns(t, vpc, vpc_ct_timeout_class(&e->trk)));
}

/* ---- applying an action ---- */

/*
 * The connection key has no MACs: a cached action is only used for a frame
 * addressed the way the frame it was computed for was -- to the receiving
 * interface's MAC when switched, to the VPC router's when routed.  Anything
 * else takes the slow path, which decides (and checks the groups) afresh.
 */
static inline bool
fast_path_ok(const struct vpc_port_info *pi, const struct meta *m,
	     const struct vpc_ct_action *a)
{
	if (pi->is_uplink)
		return true;	/* the uplink MAC was checked already */
	if (a->path == VPC_PATH_L2_SWITCH)
		return rte_is_same_ether_addr(&m->eth->dst_addr, &a->dst_mac);
	return rte_is_same_ether_addr(&m->eth->dst_addr, &pi->fi->router_mac);
}

static inline __attribute__((always_inline)) uint8_t
apply(struct meta *m, const struct vpc_ct_action *a, struct vpc_verdict *v)
{
	struct rte_ipv4_hdr *ip = m->ip;
	void *ipc = VPC_FIELD_PTR(ip, hdr_checksum);

	if (a->rewrite_macs) {
		if (unlikely(ip->time_to_live <= 1))
			return VPC_DROP_TTL_EXPIRED;
		rte_ether_addr_copy(&a->src_mac, &m->eth->src_addr);
		rte_ether_addr_copy(&a->dst_mac, &m->eth->dst_addr);
	}
	if (a->nat != VPC_CT_NAT_NONE) {
		/* TTL and address in one update of the header checksum (the
		 * TTL word built in a register: see ttl_dec). */
		void *w = VPC_FIELD_PTR(ip, time_to_live);
		bool src = a->nat == VPC_CT_NAT_SRC;
		rte_be32_t from = src ? ip->src_addr : ip->dst_addr, to = a->nat_addr;
		uint32_t sum = (uint16_t)~vpc_load16(ipc);
		if (a->rewrite_macs) {
			uint16_t old = vpc_load16(w), new_ = old;
			((uint8_t *)&new_)[0] = (uint8_t)(((uint8_t *)&old)[0] - 1);
			vpc_store16(w, new_);
			sum += (uint16_t)~old;
			sum += new_;
		}
		sum += (uint16_t)~(from & 0xffff);
		sum += (uint16_t)~(from >> 16);
		sum += to & 0xffff;
		sum += to >> 16;
		vpc_store16(ipc, (uint16_t)~vpc_csum_fold(sum));
		if (src)
			ip->src_addr = to;
		else
			ip->dst_addr = to;
		void *l4 = l4_pseudo_csum(m);
		if (l4 != NULL) {
			vpc_csum_replace4(l4, from, to);
			/* UDP: 0 means "no checksum"; a computed 0 is ffff */
			if (m->proto == IPPROTO_UDP && vpc_load16(l4) == 0)
				vpc_store16(l4, 0xffff);
		}
	} else if (a->rewrite_macs) {
		ttl_dec(ip);
	}
	set_forward(v, a->out_port, a->path);
	return VPC_DROP_NONE;
}

/* An ICMP error the action NATs: its quote translated back the same way
 * (vpc_icmp.h, bounded by the IP payload and the frame). */
static inline void
icmp_error_translate(const struct meta *m, const struct vpc_ct_action *a)
{
	if (a->nat == VPC_CT_NAT_NONE)
		return;
	vpc_icmp_quote_nat(m->l4, m->l4 + m->l4_len, m->l4_len - sizeof(struct rte_icmp_hdr),
			   a->nat == VPC_CT_NAT_DST,
			   a->nat == VPC_CT_NAT_SRC ? m->ip->src_addr : m->ip->dst_addr, a->nat_addr);
}

/*
 * Is the ICMP error m about a tracked connection?  The quoted packet went
 * the other way, so the connection is found by the reverse of the quoted
 * tuple, in the context the error arrived in.
 */
static bool
icmp_error_related(const struct vpc_pipeline *p, const struct meta *m, uint32_t ctx)
{
	uint32_t avail = m->l4_len - sizeof(struct rte_icmp_hdr);
	const struct rte_ipv4_hdr *in = (const void *)(m->l4 + sizeof(struct rte_icmp_hdr));

	if (avail < sizeof(*in) + 8 || (in->version_ihl >> 4) != 4 ||
	    (in->version_ihl & 0xf) < 5 || (uint32_t)(in->version_ihl & 0xf) * 4 + 8 > avail)
		return false;
	const uint8_t *l4 = (const uint8_t *)in + (in->version_ihl & 0xf) * 4;
	struct vpc_ct_key k = {
		.ctx_proto = ctx | in->next_proto_id,
		.src = in->dst_addr,
		.dst = in->src_addr,
	};
	if (in->next_proto_id == IPPROTO_TCP || in->next_proto_id == IPPROTO_UDP) {
		memcpy(&k.sport, l4 + 2, 2);
		memcpy(&k.dport, l4, 2);
	} else if (in->next_proto_id == IPPROTO_ICMP) {
		uint8_t type = l4[0];
		if (vpc_icmp_is_query(type))
			memcpy(&k.sport, l4 + 4, 2);
		k.dport = rte_cpu_to_be_16((uint16_t)(vpc_icmp_peer_type(type) << 8 | l4[1]));
	}
	uint64_t hits;
	uint32_t data;
	vpc_ct_lookup_bulk(p->ct, &k, 1, &hits, &data);
	return hits & 1;
}

/* ---- the slow path: a packet with no current cached action ---- */

/*
 * e/dir: the connection it belongs to (e NULL: none).  Decides, checks the
 * security groups when the packet opens a connection (or the apply asked
 * for revalidation), creates the entry, caches the action, applies it.
 */
/* slow_path() found that the packet belongs to a connection after all. */
#define SLOW_NOW_TRACKED 0xfe

static uint8_t
slow_path(struct vpc_pipeline *p, const struct vpc_port_info *pi, struct meta *m,
	  struct vpc_ct_entry *e, unsigned int dir, const struct vpc_ct_key *key,
	  uint64_t now, struct vpc_verdict *v, uint32_t *tracked)
{
	const struct vpc_tables *t = p->t;
	struct decision d;
	uint8_t r;

	if (e == NULL) {
		/* An earlier packet of the same burst may have opened it: the
		 * bulk lookup ran before.  (One lookup more, on new
		 * connections only.) */
		uint64_t hit;
		vpc_ct_lookup_bulk(p->ct, key, 1, &hit, tracked);
		if (hit & 1)
			return SLOW_NOW_TRACKED;
	}
	r = pi->is_uplink ? decide_uplink(t, m, &d) : decide_iface(t, pi, m, &d);
	if (r != VPC_DROP_NONE)
		return r;
	d.act.gen = t->generation;

	if (e != NULL) {
		/* Known connection: its action is stale (new tables), or this
		 * frame is addressed differently.  The groups are checked again
		 * when the apply asked for it, or when the frame now reaches
		 * someone else than the cached action did. */
		const struct vpc_ct_action *old = &e->act[dir];
		bool other = old->gen != 0 && (old->out_port != d.act.out_port ||
					       old->path != d.act.path);
		if ((t->revalidate || other) && !sg_allows_packet(t, pi, m, &d, dir)) {
			/* Only a revalidating apply cuts the connection; an
			 * oddly addressed frame is just not forwarded. */
			if (t->revalidate && !other)
				vpc_ct_delete(p->ct, (uint32_t)(e - vpc_ct_entry(p->ct, 0)));
			return VPC_DROP_SG_DENIED;
		}
		e->act[dir] = d.act;
		e->expires = now + entry_timeout(t, e, d.act.vpc);
		return apply(m, &e->act[dir], v);
	}

	if (m->proto == IPPROTO_ICMP && m->icmp_error) {
		/* Errors open nothing: related to a connection, or allowed by
		 * the rules as they stand. */
		if (!icmp_error_related(p, m, pi->ctx) &&
		    !sg_allows_packet(t, pi, m, &d, 0))
			return VPC_DROP_ICMP_UNRELATED;
		icmp_error_translate(m, &d.act);
		return apply(m, &d.act, v);
	}
	if (m->proto == IPPROTO_TCP &&
	    (m->tcp_flags & (RTE_TCP_SYN_FLAG | RTE_TCP_ACK_FLAG | RTE_TCP_RST_FLAG)) !=
		    RTE_TCP_SYN_FLAG)
		return VPC_DROP_TCP_NOT_SYN;
	if (!sg_allows_packet(t, pi, m, &d, 0))
		return VPC_DROP_SG_DENIED;
	/* A packet that cannot be forwarded opens nothing. */
	if (d.act.rewrite_macs && m->ip->time_to_live <= 1)
		return VPC_DROP_TTL_EXPIRED;

	/* Each new connection pays for reclaiming a couple of expired ones
	 * at the sweep's cursor: expiry keeps pace with creation, and
	 * established traffic never touches cold entries. */
	vpc_ct_sweep(p->ct, now, 2);

	struct vpc_ct_key rev;
	ct_reverse_key(&rev, t, m, &d, pi->ctx);
	/* The entry is built here and published whole by create_conn. */
	struct vpc_ct_entry init;
	memset(&init, 0, offsetof(struct vpc_ct_entry, key));
	switch (m->proto) {
	case IPPROTO_TCP: {
		struct vpc_tcp_seg seg;
		tcp_seg(m, &seg);
		vpc_tcp_open(&init.trk, &seg, tcp_wscale(m));
		break;
	}
	case IPPROTO_UDP:
		init.trk.state = VPC_CT_UDP;
		break;
	case IPPROTO_ICMP:
		init.trk.state = VPC_CT_ICMP;
		break;
	default:
		init.trk.state = VPC_CT_OTHER;
		break;
	}
	init.act[0] = d.act;
	init.expires = now + entry_timeout(t, &init, d.act.vpc);
	int idx = vpc_ct_create_conn(p->ct, key, &rev, now, &init);
	if (idx < 0)
		return idx == -ENOSPC ? VPC_DROP_CT_FULL : VPC_DROP_CT_CONFLICT;
	e = vpc_ct_entry(p->ct, (uint32_t)idx);
	return apply(m, &e->act[0], v);
}

/* ---- the burst ---- */

/* Source checks of a packet from an interface: 0 when it may go on. */
static inline uint8_t
iface_checks(const struct vpc_tables *t, const struct vpc_port_info *pi, struct meta *m,
	     struct vpc_verdict *v, bool *done)
{
	const struct vpc_iface_info *fi = pi->fi;

	*done = false;
	if (unlikely(m->kind == META_ARP)) {
		uint8_t r = arp_from_iface(t, pi, m);
		if (r == VPC_DROP_NONE)
			set_reply(v, UINT16_MAX);	/* the port is set below */
		*done = r == VPC_DROP_NONE;
		return r;
	}
	if (unlikely(rte_is_multicast_ether_addr(&m->eth->dst_addr)))
		return VPC_DROP_MULTICAST;
	if (fi->src_dst_check) {
		if (unlikely(!rte_is_same_ether_addr(&m->eth->src_addr, &fi->mac)))
			return VPC_DROP_SPOOFED_MAC;
		if (unlikely(m->ip->src_addr != fi->ip))
			return VPC_DROP_SPOOFED_IP;
	}
	if (unlikely(rte_be_to_cpu_16(m->ip->total_length) > fi->mtu))
		return VPC_DROP_MTU_EXCEEDED;
	/* 224.0.0.0/3: multicast, reserved, limited broadcast */
	if (unlikely((m->ip->dst_addr & RTE_BE32(0xe0000000)) == RTE_BE32(0xe0000000)))
		return VPC_DROP_MULTICAST;
	return VPC_DROP_NONE;
}

static inline uint8_t
uplink_checks(const struct vpc_tables *t, struct meta *m, struct vpc_verdict *v, bool *done)
{
	*done = false;
	if (unlikely(m->kind == META_ARP)) {
		uint8_t r = arp_from_uplink(t, m);
		if (r == VPC_DROP_NONE)
			set_reply(v, (uint16_t)t->uplink_port);
		*done = r == VPC_DROP_NONE;
		return r;
	}
	if (unlikely(rte_is_multicast_ether_addr(&m->eth->dst_addr)))
		return VPC_DROP_MULTICAST;
	if (unlikely(!rte_is_same_ether_addr(&m->eth->dst_addr, &t->uplink_mac)))
		return VPC_DROP_UPLINK_DST_MAC;
	return VPC_DROP_NONE;
}

uint16_t
vpc_pipeline_process(struct vpc_pipeline *p, uint16_t in_port,
		     struct rte_mbuf **pkts, uint16_t n, uint64_t now,
		     struct vpc_verdict *v)
{
	const struct vpc_tables *t = p->t;
	struct meta x[VPC_BURST_MAX];
	struct vpc_ct_key keys[VPC_BURST_MAX];
	uint32_t data[VPC_BURST_MAX];
	uint16_t idx[VPC_BURST_MAX];
	uint16_t n_ct = 0;
	uint64_t hits;

	RTE_ASSERT(n <= VPC_BURST_MAX);
	if (unlikely(in_port >= t->n_ports)) {
		for (uint16_t i = 0; i < n; i++)
			set_drop(&v[i], VPC_DROP_UNKNOWN_PORT);
		p->stats.drops[VPC_DROP_UNKNOWN_PORT] += n;
		p->stats.packets += n;
		return n;
	}
	const struct vpc_port_info *pi = &t->ports[in_port];

	/* Parse and check the source of the whole burst. */
	for (uint16_t i = 0; i < n; i++) {
		if (i + 4 < n)
			rte_prefetch0(rte_pktmbuf_mtod(pkts[i + 4], void *));
		struct meta *m = &x[i];
		parse_one(pkts[i], m);
		if (m->kind == META_DROP) {
			set_drop(&v[i], m->reason);
			continue;
		}
		bool done;
		uint8_t r = pi->is_uplink ? uplink_checks(t, m, &v[i], &done) :
					    iface_checks(t, pi, m, &v[i], &done);
		if (done)
			continue;
		if (r != VPC_DROP_NONE) {
			set_drop(&v[i], r);
			continue;
		}
		ct_key(&keys[n_ct], pi->ctx, m);
		idx[n_ct++] = i;
	}

	/* One bulk lookup in the connection table. */
	hits = 0;
	if (n_ct > 0)
		vpc_ct_lookup_bulk(p->ct, keys, n_ct, &hits, data);
	/* Bring the entries in while the first ones are processed: the
	 * actions' line and the state's. */
	for (uint16_t k = 0; k < n_ct; k++)
		if (hits & (1ull << k)) {
			const struct vpc_ct_entry *pe = vpc_ct_entry(p->ct, data[k] >> 1);
			rte_prefetch0(pe);
			rte_prefetch0((const uint8_t *)pe + RTE_CACHE_LINE_SIZE);
		}
	for (uint16_t k = 0; k < n_ct; k++) {
		uint16_t i = idx[k];
		struct meta *m = &x[i];
		struct vpc_ct_entry *e = NULL;
		unsigned int dir = 0;
		uint8_t r;

		if (hits & (1ull << k)) {
tracked:
			e = vpc_ct_entry(p->ct, data[k] >> 1);
			dir = data[k] & 1;
			if (unlikely(e->expires <= now)) {
				vpc_ct_delete(p->ct, data[k] >> 1);
				vpc_ct_stats(p->ct)->expired++;
				e = NULL;
				dir = 0;
			}
		}
		if (e != NULL) {
			if (m->proto == IPPROTO_TCP) {
				unsigned int u = tcp_update(e, dir, m);
				if (u == VPC_TCP_REOPEN) {	/* a new connection */
					vpc_ct_delete(p->ct, data[k] >> 1);
					e = NULL;
					dir = 0;
					goto slow;
				}
				if (u != VPC_DROP_NONE) {
					set_drop(&v[i], (uint8_t)u);
					continue;
				}
			} else if (dir == 1 && e->trk.replies < UINT16_MAX) {
				e->trk.replies++;
			}
			const struct vpc_ct_action *a = &e->act[dir];
			if (likely(a->gen == t->generation && fast_path_ok(pi, m, a))) {
				/* The fast path: one lookup, then the rewrite. */
				e->expires = now + entry_timeout(t, e, a->vpc);
				r = apply(m, a, &v[i]);
				if (r != VPC_DROP_NONE)
					set_drop(&v[i], r);
				continue;
			}
		}
slow:
		r = slow_path(p, pi, m, e, dir, &keys[k], now, &v[i], &data[k]);
		if (r == SLOW_NOW_TRACKED)
			goto tracked;
		if (r != VPC_DROP_NONE)
			set_drop(&v[i], r);
	}

	/* Counters: per lcore, so plain increments; the ingress port's are
	 * summed over the burst. */
	struct vpc_port_stats *ps = p->stats.ports;
	uint64_t rx_bytes = 0, drops = 0;
	p->stats.packets += n;
	/* Egress counters by runs of one port (bursts mostly are). */
	uint16_t run_port = UINT16_MAX;
	uint64_t run_pkts = 0, run_bytes = 0;
	for (uint16_t i = 0; i < n; i++) {
		uint32_t len = rte_pktmbuf_pkt_len(pkts[i]);
		rx_bytes += len;
		if (v[i].action == VPC_ACT_DROP) {
			p->stats.drops[v[i].reason]++;
			drops++;
			continue;
		}
		if (v[i].action == VPC_ACT_REPLY)
			v[i].out_port = in_port;
		p->stats.paths[v[i].path]++;
		if (v[i].out_port != run_port) {
			if (run_pkts) {
				ps[run_port].tx_packets += run_pkts;
				ps[run_port].tx_bytes += run_bytes;
			}
			run_port = v[i].out_port;
			run_pkts = run_bytes = 0;
		}
		run_pkts++;
		run_bytes += len;
	}
	if (run_pkts) {
		ps[run_port].tx_packets += run_pkts;
		ps[run_port].tx_bytes += run_bytes;
	}
	ps[in_port].rx_packets += n;
	ps[in_port].rx_bytes += rx_bytes;
	ps[in_port].drops += drops;
	return n;
}
