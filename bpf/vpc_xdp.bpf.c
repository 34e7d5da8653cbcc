/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-3-Clause) */
/*
 * vpc_xdp.bpf.c -- the XDP engine: the DPDK pipeline's behaviour
 * (dataplane/pipeline.c) in BPF C, one packet at a time.
 *
 *   parse -> source checks (anti-spoofing, ARP responder, MTU) ->
 *   connection lookup -> a current cached action: rewrite, redirect (the
 *   fast path) -> otherwise decide (L2 / LPM route / elastic IP), check
 *   the security groups, open the connection, cache the action.
 *
 * The maps' layouts are vpc_image.h's (vpc_xdp_*).  Tables that come
 * from a topology live in two sets (array-of-maps slots 0 and 1); the
 * active set's number is read once per packet, so a packet is decided by
 * one set of tables, never a mix (bpf/README.md).  The connection table
 * and the counters are shared by both sets.
 *
 * Verifier: bounded loops only; the security-group walk is split into
 * global functions, verified on their own, to keep the state space small.
 * Builds with clang 14 and libbpf 1.1 (Debian 12).
 */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>

#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

#include "cksum.h"	/* RFC 1624 updates, shared with the DPDK engine */
#include "vpc_icmp.h"	/* queries, errors, the quote's NAT: shared too */
#include "vpc_decide.h"
#include "vpc_image.h"
#include "vpc_reasons.h"
#include "vpc_xdp_maps.h"

/* The XDP engine's option walker (below), for the shared tracker. */
struct xdp_md;
int xdp_tcp_wscale(struct xdp_md *ctx);
#define VPC_TCP_WSCALE(ctx) xdp_tcp_wscale((struct xdp_md *)(ctx))
#include "vpc_tcp.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";


enum { NAT_NONE, NAT_SRC, NAT_DST };


_Static_assert(VPC_DROP_COUNT <= 64 && VPC_PATH_COUNT <= 16, "counter arrays");

/* ---- configuration (set by the loader before load) ---- */

/* vpc-replay: the port and the clock come from replay_slot/replay_now,
 * and each verdict is written to last_verdict. */
const volatile __u32 replay_mode = 0;

#ifndef E2BIG
#define E2BIG 7		/* the errno a full hash map's update returns */
#endif

__u64 replay_now = 0;

/* A full connection table walks itself for expired entries at most once
 * per interval (on the program's clock). */
#define RECLAIM_INTERVAL_NS 1000000000ull
__u64 reclaim_due = 0;
/* Nor does it look for a connection never answered (early drop) more
 * than once an interval after a walk that found none. */
__u64 early_drop_due = 0;
__u32 replay_slot = 0;
struct vpc_xdp_verdict last_verdict = { 0 };

/* ---- maps ---- */

/* Inner map templates, by size: clang 14 leaves their key and value
 * types as forward declarations in BTF, which libbpf cannot size. */
#define INNER_SZ(tname, mtype, flags, ksize, vsize)	\
	struct tname {					\
		__uint(type, mtype);			\
		__uint(map_flags, flags);		\
		__uint(max_entries, 1);			\
		__uint(key_size, ksize);		\
		__uint(value_size, vsize);		\
	}
/* Fixed-size arrays: no BPF_F_INNER_MAP, so every table set's map has
 * the template's size and the verifier inlines their lookups. */
#define INNER_FIXED(tname, max, vsize)			\
	struct tname {					\
		__uint(type, BPF_MAP_TYPE_ARRAY);	\
		__uint(max_entries, max);		\
		__uint(key_size, 4);			\
		__uint(value_size, vsize);		\
	}
#define SET(name, tname)				\
	struct {					\
		__uint(type, BPF_MAP_TYPE_ARRAY_OF_MAPS);	\
		__uint(max_entries, 2);			\
		__type(key, __u32);			\
		__array(values, struct tname);		\
	} name SEC(".maps")

INNER_FIXED(in_global, 1, sizeof(struct vpc_xdp_global));
INNER_FIXED(in_ports, VPC_XDP_MAX_PORTS, sizeof(struct vpc_xdp_port));
INNER_SZ(in_ifaces, BPF_MAP_TYPE_ARRAY, BPF_F_INNER_MAP, 4, sizeof(struct vpc_xdp_iface));
INNER_FIXED(in_vpcs, VPC_MAX_VPCS, sizeof(struct vpc_xdp_vpc));
INNER_SZ(in_l2, BPF_MAP_TYPE_HASH, 0, sizeof(struct vpc_xdp_l2_key), sizeof(__u32));
INNER_SZ(in_ips, BPF_MAP_TYPE_HASH, 0, sizeof(struct vpc_xdp_ip_key), sizeof(__u32));
INNER_SZ(in_eips, BPF_MAP_TYPE_HASH, 0, 4, sizeof(__u32));
INNER_SZ(in_routes, BPF_MAP_TYPE_LPM_TRIE, BPF_F_NO_PREALLOC, sizeof(struct vpc_xdp_route_key),
	 sizeof(struct vpc_xdp_nexthop));
INNER_SZ(in_sg_classes, BPF_MAP_TYPE_ARRAY, BPF_F_INNER_MAP, 4, sizeof(struct vpc_sg_class));
INNER_SZ(in_sg_nodes, BPF_MAP_TYPE_ARRAY, BPF_F_INNER_MAP, 4, sizeof(struct vpc_sg_node));
INNER_SZ(in_sg_intervals, BPF_MAP_TYPE_ARRAY, BPF_F_INNER_MAP, 4, sizeof(struct vpc_sg_interval));
INNER_SZ(in_sg_icmps, BPF_MAP_TYPE_ARRAY, BPF_F_INNER_MAP, 4, sizeof(struct vpc_sg_icmp));

SET(set_global, in_global);
SET(set_ports, in_ports);
SET(set_ifaces, in_ifaces);
SET(set_vpcs, in_vpcs);
SET(set_l2, in_l2);
SET(set_ips, in_ips);
SET(set_eips, in_eips);
SET(set_routes, in_routes);
SET(set_sg_classes, in_sg_classes);
SET(set_sg_nodes, in_sg_nodes);
SET(set_sg_intervals, in_sg_intervals);
SET(set_sg_icmps, in_sg_icmps);

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct vpc_xdp_control);
} control SEC(".maps");

/* Connections: max_entries (two keys per connection) set by the loader. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 2);
	__type(key, struct vpc_xdp_ct_key);
	__type(value, struct vpc_xdp_ct);
} ct SEC(".maps");

/* ifindex -> slot */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, VPC_XDP_MAX_PORTS);
	__type(key, __u32);
	__type(value, __u32);
} if_slots SEC(".maps");

/* The same for the common ifindexes, below VPC_XDP_IFINDEX_LO: an array
 * (its lookup is inlined: no hash per packet), holding slot + 1, 0 for
 * none; if_slots holds the larger ones. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, VPC_XDP_IFINDEX_LO);
	__type(key, __u32);
	__type(value, __u32);
} if_slots_lo SEC(".maps");

/* slot -> device */
struct {
	__uint(type, BPF_MAP_TYPE_DEVMAP);
	__uint(max_entries, VPC_XDP_MAX_PORTS);
	__type(key, __u32);
	__type(value, __u32);
} tx_ports SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct vpc_xdp_stats);
} stats SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, VPC_XDP_MAX_PORTS);
	__type(key, __u32);
	__type(value, struct vpc_xdp_port_stats);
} port_stats SEC(".maps");

/* Scratch space for building a connection's two values (too big for the
 * 512-byte stack next to everything else). */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 2);
	__type(key, __u32);
	__type(value, struct vpc_xdp_ct);
} scratch SEC(".maps");

/* ---- small helpers ---- */

static __always_inline int
mac_eq(const void *a, const void *b)
{
	return *(const __u32 *)a == *(const __u32 *)b &&
	       *(const __u16 *)((const __u8 *)a + 4) == *(const __u16 *)((const __u8 *)b + 4);
}

static __always_inline void
mac_copy(void *dst, const void *src)
{
	*(__u32 *)dst = *(const __u32 *)src;
	*(__u16 *)((__u8 *)dst + 4) = *(const __u16 *)((const __u8 *)src + 4);
}

static __always_inline int
key_eq(const struct vpc_xdp_ct_key *a, const struct vpc_xdp_ct_key *b)
{
	return *(const __u64 *)a == *(const __u64 *)b &&
	       *(const __u64 *)((const __u8 *)a + 8) == *(const __u64 *)((const __u8 *)b + 8);
}

/* ---- parse ---- */

enum { META_DROP, META_ARP, META_IPV4 };

struct meta {
	__u8 kind;
	__u8 reason;
	__u8 proto;
	__u8 tcp_flags;
	__u8 icmp_type, icmp_code, icmp_error;
	__u8 pad;
	__u16 l4_len;		/* bytes of IP payload */
	__be16 sport, dport;
	__u16 tot_len;		/* host order */
};

/* Packet offsets: Ethernet at 0, IPv4 (no options) at 14, L4 at 34. */
#define OFF_IP 14
#define OFF_L4 34

struct arp_eth {
	__be16 hrd, pro;
	__u8 hln, pln;
	__be16 op;
	__u8 sha[6];
	__be32 sip;
	__u8 tha[6];
	__be32 tip;
} __attribute__((packed));

static __always_inline void
parse(void *data, void *end, struct meta *m)
{
	struct ethhdr *eth = data;

	m->kind = META_DROP;
	if ((void *)(eth + 1) > end) {
		m->reason = VPC_DROP_FRAME_TRUNCATED;
		return;
	}
	__be16 type = eth->h_proto;
	if (type == bpf_htons(ETH_P_IP)) {
		struct iphdr *ip = data + OFF_IP;
		__u32 avail = (__u32)(end - data) - OFF_IP;
		if ((void *)(ip + 1) > end) {
			m->reason = VPC_DROP_IP_TRUNCATED;
			return;
		}
		__u8 vihl = *(__u8 *)ip;
		if ((vihl >> 4) != 4) {
			m->reason = VPC_DROP_IP_VERSION;
			return;
		}
		if ((vihl & 0xf) != 5) {
			m->reason = (vihl & 0xf) < 5 ? VPC_DROP_IP_IHL : VPC_DROP_IP_OPTIONS;
			return;
		}
		__u16 tot = bpf_ntohs(ip->tot_len);
		if (tot < 20 || tot > avail) {
			m->reason = VPC_DROP_IP_TRUNCATED;
			return;
		}
		const __u16 *w = (const __u16 *)ip;
		__u32 sum = 0;
#pragma unroll
		for (int i = 0; i < 10; i++)
			sum += w[i];
		if (vpc_csum_fold(sum) != 0xffff) {
			m->reason = VPC_DROP_IP_CHECKSUM;
			return;
		}
		if (bpf_ntohs(ip->frag_off) & 0x1fff) {
			m->reason = VPC_DROP_IP_FRAGMENT;
			return;
		}
		m->tot_len = tot;
		m->proto = ip->protocol;
		m->l4_len = tot - 20;
		m->sport = m->dport = 0;
		m->tcp_flags = 0;
		m->icmp_error = 0;
		m->icmp_type = m->icmp_code = 0;
		__u8 *l4 = data + OFF_L4;
		if (m->proto == IPPROTO_TCP) {
			if (m->l4_len < 20 || (void *)(l4 + 20) > end) {
				m->reason = VPC_DROP_L4_TRUNCATED;
				return;
			}
			__u32 doff = l4[12] >> 4;
			if (doff < 5 || doff * 4 > m->l4_len) {
				m->reason = VPC_DROP_L4_TRUNCATED;
				return;
			}
			m->sport = *(__be16 *)l4;
			m->dport = *(__be16 *)(l4 + 2);
			m->tcp_flags = l4[13];
		} else if (m->proto == IPPROTO_UDP) {
			if (m->l4_len < 8 || (void *)(l4 + 8) > end) {
				m->reason = VPC_DROP_L4_TRUNCATED;
				return;
			}
			__u16 dl = bpf_ntohs(*(__be16 *)(l4 + 4));
			if (dl < 8 || dl > m->l4_len) {
				m->reason = VPC_DROP_L4_TRUNCATED;
				return;
			}
			m->sport = *(__be16 *)l4;
			m->dport = *(__be16 *)(l4 + 2);
		} else if (m->proto == IPPROTO_ICMP) {
			if (m->l4_len < 8 || (void *)(l4 + 8) > end) {
				m->reason = VPC_DROP_L4_TRUNCATED;
				return;
			}
			m->icmp_type = l4[0];
			m->icmp_code = l4[1];
			m->icmp_error = (__u8)vpc_icmp_is_error(l4[0]);
			m->sport = vpc_icmp_is_query(l4[0]) ? *(__be16 *)(l4 + 4) : 0;
			m->dport = bpf_htons((__u16)(l4[0] << 8 | l4[1]));
		}
		m->kind = META_IPV4;
		return;
	}
	if (type == bpf_htons(ETH_P_ARP)) {
		struct arp_eth *a = data + sizeof(*eth);
		if ((void *)(a + 1) > end || a->hrd != bpf_htons(1) ||
		    a->pro != bpf_htons(ETH_P_IP) || a->hln != 6 || a->pln != 4) {
			m->reason = VPC_DROP_ARP_MALFORMED;
			return;
		}
		m->kind = META_ARP;
		return;
	}
	m->reason = type == bpf_htons(ETH_P_8021Q) || type == bpf_htons(ETH_P_8021AD) ?
		    VPC_DROP_VLAN_TAGGED : VPC_DROP_ETHERTYPE;
}

/* ---- the tables of one set ---- */

struct tables {
	__u32 set;
	const struct vpc_xdp_global *g;
	void *ifaces;		/* the inner maps, looked up as needed */
};

static __always_inline void *
inner(void *outer, __u32 set)
{
	return bpf_map_lookup_elem(outer, &set);
}

static __always_inline const struct vpc_xdp_iface *
iface_at(struct tables *t, __u32 i)
{
	if (t->ifaces == NULL)
		t->ifaces = inner(&set_ifaces, t->set);
	if (t->ifaces == NULL)
		return NULL;
	return bpf_map_lookup_elem(t->ifaces, &i);
}

/* ---- ARP responder ---- */

static __always_inline void
arp_answer(struct ethhdr *eth, struct arp_eth *a, const __u8 *mac)
{
	__be32 tip = a->tip;

	mac_copy(eth->h_dest, a->sha);
	mac_copy(eth->h_source, mac);
	a->op = bpf_htons(2);
	mac_copy(a->tha, a->sha);
	a->tip = a->sip;
	mac_copy(a->sha, mac);
	a->sip = tip;
}

static __always_inline __u8
arp_from_iface(struct tables *t, const struct vpc_xdp_port *pi, void *data, void *end)
{
	struct ethhdr *eth = data;
	struct arp_eth *a = data + sizeof(*eth);
	const struct vpc_xdp_iface *fi = &pi->fi;

	if ((void *)(a + 1) > end)
		return VPC_DROP_ARP_MALFORMED;
	if (!mac_eq(eth->h_source, fi->mac) || !mac_eq(a->sha, fi->mac) ||
	    (a->sip != fi->ip && a->sip != 0))
		return VPC_DROP_ARP_SPOOFED;
	if (a->op != bpf_htons(1))
		return VPC_DROP_ARP_NOT_REQUEST;
	if (a->sip == 0)
		return VPC_DROP_ARP_UNANSWERED;
	if (a->tip == pi->gateway_ip) {
		arp_answer(eth, a, fi->router_mac);
		return VPC_DROP_NONE;
	}
	void *ips = inner(&set_ips, t->set);
	if (ips == NULL)
		return VPC_DROP_ARP_UNANSWERED;
	struct vpc_xdp_ip_key k = { .vpc = fi->vpc, .ip = a->tip };
	__u32 *xi = bpf_map_lookup_elem(ips, &k);
	if (xi == NULL || *xi == pi->iface)
		return VPC_DROP_ARP_UNANSWERED;
	const struct vpc_xdp_iface *o = iface_at(t, *xi);
	if (o == NULL || o->subnet != fi->subnet)
		return VPC_DROP_ARP_UNANSWERED;
	__u8 mac[6];
	mac_copy(mac, o->mac);
	arp_answer(eth, a, mac);
	return VPC_DROP_NONE;
}

static __always_inline __u8
arp_from_uplink(struct tables *t, void *data, void *end)
{
	struct ethhdr *eth = data;
	struct arp_eth *a = data + sizeof(*eth);
	static const __u8 bcast[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };

	if ((void *)(a + 1) > end)
		return VPC_DROP_ARP_MALFORMED;
	if (!mac_eq(eth->h_dest, bcast) && !mac_eq(eth->h_dest, t->g->uplink_mac))
		return VPC_DROP_UPLINK_DST_MAC;
	if (a->op != bpf_htons(1))
		return VPC_DROP_ARP_NOT_REQUEST;
	void *eips = inner(&set_eips, t->set);
	__be32 tip = a->tip;
	if (eips == NULL || bpf_map_lookup_elem(eips, &tip) == NULL)
		return VPC_DROP_ARP_UNANSWERED;
	__u8 mac[6];
	mac_copy(mac, t->g->uplink_mac);
	arp_answer(eth, a, mac);
	return VPC_DROP_NONE;
}

/* ---- security groups ---- */

/* Does node nd's list (intervals or ICMP matches) match?  A global
 * function: verified once, on its own. */
__attribute__((noinline)) int
sg_node_match(__u32 set_kind, __u32 first, __u32 n, __u32 key)
{
	__u32 set = set_kind >> 8, kind = set_kind & 0xff;

	if (kind == VPC_SGT_ICMP) {
		void *icmps = inner(&set_sg_icmps, set);
		if (icmps == NULL)
			return 0;
		for (__u32 i = 0; i < VPC_SG_MAX_ICMPS; i++) {
			if (i >= n)
				break;
			__u32 at = first + i;
			struct vpc_sg_icmp *im = bpf_map_lookup_elem(icmps, &at);
			if (im == NULL)
				return 0;
			if ((!im->has_type || im->type == (key >> 8)) &&
			    (!im->has_code || im->code == (key & 0xff)))
				return 1;
		}
		return 0;
	}
	void *ivs = inner(&set_sg_intervals, set);
	if (ivs == NULL)
		return 0;
	__u32 lo = first, hi = first + n;
	for (int i = 0; i < VPC_SG_MAX_BSEARCH; i++) {
		if (lo >= hi)
			break;
		__u32 mid = (lo + hi) / 2;
		struct vpc_sg_interval *iv = bpf_map_lookup_elem(ivs, &mid);
		if (iv == NULL)
			return 0;
		if (key < iv->lo)
			hi = mid;
		else if (key > iv->hi)
			lo = mid + 1;
		else
			return 1;
	}
	return 0;
}

/* Walk one trie along the peer's bits (host order). */
__attribute__((noinline)) int
sg_trie_allows(__u32 set_kind, __u32 root, __u32 peer, __u32 key)
{
	void *nodes = inner(&set_sg_nodes, set_kind >> 8);
	__u32 n = root;

	if (nodes == NULL)
		return 0;
	for (int d = 0; d < VPC_SG_MAX_DEPTH; d++) {
		if (n == 0)
			return 0;
		struct vpc_sg_node *nd = bpf_map_lookup_elem(nodes, &n);
		if (nd == NULL)
			return 0;
		if (nd->all)
			return 1;
		if (nd->n && sg_node_match(set_kind, nd->first, nd->n, key))
			return 1;
		if (d == 32)
			break;
		n = nd->child[(peer >> (31 - d)) & 1];
	}
	return 0;
}

/* Does classifier cls allow it?  peer in network order; port in host
 * order. */
__attribute__((noinline)) int
sg_class_allows(__u32 set, __u32 cls, __u32 proto, __u32 peer_be, __u32 key)
{
	void *classes = inner(&set_sg_classes, set);
	if (classes == NULL)
		return 0;
	struct vpc_sg_class *c = bpf_map_lookup_elem(classes, &cls);
	if (c == NULL)
		return 0;
	__u32 peer = bpf_ntohl(peer_be);
	if (c->root[VPC_SGT_ANY] &&
	    sg_trie_allows(set << 8 | VPC_SGT_ANY, c->root[VPC_SGT_ANY], peer, 0))
		return 1;
	__u32 kind, root;
	switch (proto) {
	case IPPROTO_TCP:
		kind = VPC_SGT_TCP;
		break;
	case IPPROTO_UDP:
		kind = VPC_SGT_UDP;
		break;
	case IPPROTO_ICMP:
		kind = VPC_SGT_ICMP;
		break;
	default:
		kind = VPC_SGT_OTHER;
		key = proto;
		break;
	}
	root = c->root[kind];
	return root && sg_trie_allows(set << 8 | kind, root, peer, key);
}

/* ---- decisions ---- */

struct decision {
	struct vpc_xdp_action act;
	__u32 receiver;		/* interface, or VPC_INDEX_NONE: the internet */
};

static __always_inline void
act_deliver(struct decision *d, const struct vpc_xdp_iface *x, __u32 xi, __u8 path)
{
	d->receiver = xi;
	__builtin_memset(&d->act, 0, sizeof(d->act));
	d->act.out_slot = x->slot;
	d->act.path = path;
	d->act.nat = NAT_NONE;
	mac_copy(d->act.src_mac, x->router_mac);
	mac_copy(d->act.dst_mac, x->mac);
	d->act.rewrite_macs = 1;
	d->act.vpc = (__u16)x->vpc;
}

static __always_inline __u8
decide_iface(struct tables *t, const struct vpc_xdp_port *pi, void *data, void *end,
	     struct decision *d)
{
	struct ethhdr *eth = data;
	struct iphdr *ip = data + OFF_IP;
	const struct vpc_xdp_iface *fi = &pi->fi;

	if ((void *)(ip + 1) > end)
		return VPC_DROP_IP_TRUNCATED;
	if (mac_eq(eth->h_dest, fi->router_mac)) {
		void *routes = inner(&set_routes, t->set);
		if (routes == NULL)
			return VPC_DROP_NO_ROUTE;
		struct vpc_xdp_route_key k = {
			.prefixlen = 64, .rtable = bpf_htonl(pi->rtable), .addr = ip->daddr,
		};
		struct vpc_xdp_nexthop *nh = bpf_map_lookup_elem(routes, &k);
		if (nh == NULL)
			return VPC_DROP_NO_ROUTE;
		switch (nh->kind) {
		case VPC_NH_DELIVER:
		case VPC_NH_APPLIANCE: {
			__u32 xi = nh->iface;
			__u8 path = nh->kind == VPC_NH_DELIVER ? VPC_PATH_ROUTED :
								 VPC_PATH_ROUTED_APPLIANCE;
			const struct vpc_xdp_iface *x = iface_at(t, xi);
			if (x == NULL)
				return VPC_DROP_NO_INTERFACE;
			if (x->src_dst_check && ip->daddr != x->ip)
				return VPC_DROP_DST_NOT_OWNER;
			act_deliver(d, x, xi, path);
			return VPC_DROP_NONE;
		}
		case VPC_NH_IGW:
			if (!fi->has_eip || ip->saddr != fi->ip)
				return VPC_DROP_NO_ELASTIC_IP;
			d->receiver = VPC_INDEX_NONE;
			__builtin_memset(&d->act, 0, sizeof(d->act));
			d->act.out_slot = (__u16)t->g->uplink_slot;
			d->act.path = VPC_PATH_IGW_EGRESS;
			d->act.nat = NAT_SRC;
			d->act.nat_addr = fi->eip;
			mac_copy(d->act.src_mac, t->g->uplink_mac);
			mac_copy(d->act.dst_mac, t->g->gateway_mac);
			d->act.rewrite_macs = 1;
			d->act.vpc = (__u16)fi->vpc;
			return VPC_DROP_NONE;
		default:
			return vpc_nh_drop_reason(nh->kind);
		}
	}

	void *l2 = inner(&set_l2, t->set);
	if (l2 == NULL)
		return VPC_DROP_UNKNOWN_DST_MAC;
	struct vpc_xdp_l2_key k = { .vpc = fi->vpc };
	mac_copy(k.mac, eth->h_dest);
	__u32 *xp = bpf_map_lookup_elem(l2, &k);
	if (xp == NULL)
		return VPC_DROP_UNKNOWN_DST_MAC;
	__u32 xi = *xp;
	if (xi == pi->iface)
		return VPC_DROP_HAIRPIN;
	const struct vpc_xdp_iface *x = iface_at(t, xi);
	if (x == NULL)
		return VPC_DROP_UNKNOWN_DST_MAC;
	if (x->subnet != fi->subnet)
		return VPC_DROP_DST_OTHER_SUBNET;
	if (x->src_dst_check && ip->daddr != x->ip)
		return VPC_DROP_DST_NOT_OWNER;
	d->receiver = xi;
	__builtin_memset(&d->act, 0, sizeof(d->act));
	d->act.out_slot = x->slot;
	d->act.path = VPC_PATH_L2_SWITCH;
	mac_copy(d->act.dst_mac, x->mac);
	d->act.rewrite_macs = 0;
	d->act.vpc = (__u16)x->vpc;
	return VPC_DROP_NONE;
}

static __always_inline __u8
decide_uplink(struct tables *t, const struct meta *m, void *data, void *end,
	      struct decision *d)
{
	struct iphdr *ip = data + OFF_IP;

	if ((void *)(ip + 1) > end)
		return VPC_DROP_IP_TRUNCATED;
	void *eips = inner(&set_eips, t->set);
	__be32 dst = ip->daddr;
	if (eips == NULL)
		return VPC_DROP_UNKNOWN_ELASTIC_IP;
	__u32 *xp = bpf_map_lookup_elem(eips, &dst);
	if (xp == NULL)
		return VPC_DROP_UNKNOWN_ELASTIC_IP;
	__u32 xi = *xp;
	const struct vpc_xdp_iface *x = iface_at(t, xi);
	if (x == NULL)
		return VPC_DROP_UNKNOWN_ELASTIC_IP;
	if (m->tot_len > x->mtu)
		return VPC_DROP_MTU_EXCEEDED;
	act_deliver(d, x, xi, VPC_PATH_IGW_INGRESS);
	d->act.nat = NAT_DST;
	d->act.nat_addr = x->ip;
	return VPC_DROP_NONE;
}

/* Where the packet goes (from its port), stamped with the tables'
 * generation: the slow path's first step, for a new connection and for a
 * stale action alike. */
static __always_inline __u8
decide(struct tables *t, const struct vpc_xdp_port *pi, const struct meta *m, void *data,
       void *end, struct decision *d)
{
	__u8 r = pi->is_uplink ? decide_uplink(t, m, data, end, d) :
				 decide_iface(t, pi, data, end, d);
	d->act.gen = t->g->generation;
	return r;
}

/*
 * The rules for the connection a packet belongs to, seen from the packet:
 * dir 0, its own direction; dir 1, the roles swap.
 */
static __always_inline int
sg_allows_packet(struct tables *t, const struct vpc_xdp_port *pi, const struct meta *m,
		 __be32 saddr, __be32 daddr, const struct decision *d, int dir)
{
	__u32 here = pi->is_uplink ? VPC_INDEX_NONE : pi->iface;
	__u32 sender = dir == 0 ? here : d->receiver;
	__u32 receiver = dir == 0 ? d->receiver : here;
	__be32 egress_peer = dir == 0 ? daddr : saddr;
	__be32 ingress_peer = dir == 0 ? saddr : daddr;
	__u16 port = bpf_ntohs(dir == 0 ? m->dport : m->sport);
	__u8 type = dir == 0 ? m->icmp_type : vpc_icmp_peer_type(m->icmp_type);
	/* the key: the port, or for ICMP type << 8 | code */
	__u32 key = m->proto == IPPROTO_ICMP ? (__u32)type << 8 | m->icmp_code : port;

	if (sender != VPC_INDEX_NONE) {
		const struct vpc_xdp_iface *s = sender == here && !pi->is_uplink ?
						&pi->fi : iface_at(t, sender);
		if (s == NULL || !sg_class_allows(t->set, s->sg_class[VPC_DIR_EGRESS], m->proto,
						  egress_peer, key))
			return 0;
	}
	if (receiver != VPC_INDEX_NONE) {
		const struct vpc_xdp_iface *r = receiver == here && !pi->is_uplink ?
						&pi->fi : iface_at(t, receiver);
		if (r == NULL || !sg_class_allows(t->set, r->sg_class[VPC_DIR_INGRESS], m->proto,
						  ingress_peer, key))
			return 0;
	}
	return 1;
}

/* ---- connection tracking ---- */

static __always_inline __u64
timeout_ns(struct tables *t, __u16 vpc, int id)
{
	void *vpcs = inner(&set_vpcs, t->set);
	__u32 k = vpc;
	if (vpcs == NULL)
		return 0;
	struct vpc_xdp_vpc *v = bpf_map_lookup_elem(vpcs, &k);
	if (v == NULL)
		return 0;
	if (id < 0 || id >= VPC_TO_COUNT)
		return 0;
	return v->timeouts_ns[id];
}

static __always_inline __u64
entry_timeout(struct tables *t, const struct vpc_xdp_ct *e, __u16 vpc)
{
	return vpc_ct_timeout(&e->trk, timeout_ns(t, vpc, vpc_ct_timeout_class(&e->trk)));
}

/* Window scale option of a SYN, or 0xff when absent: the options are
 * copied to the stack and walked by bpf_loop, whose step is verified once
 * (a plain loop's variable stride makes the verifier walk every path). */
struct wscale_walk {
	__u8 opt[40];
	__u32 len;
	__u32 i;
	__u32 result;
};

static long
wscale_step(__u32 n, void *arg)
{
	struct wscale_walk *w = arg;
	__u32 i = w->i;

	if (i >= w->len || i >= 40)
		return 1;
	__u8 kind = w->opt[i];
	if (kind == 0)
		return 1;
	if (kind == 1) {
		w->i = i + 1;
		return 0;
	}
	if (i + 1 >= w->len || i + 1 >= 40)
		return 1;
	__u8 l = w->opt[i + 1];
	if (l < 2)
		return 1;
	if (kind == 3 && l == 3 && i + 2 < w->len && i + 2 < 40) {
		__u8 s = w->opt[i + 2];
		w->result = s > 14 ? 14 : s;
		return 1;
	}
	w->i = i + l;
	return 0;
}

__attribute__((noinline)) int
xdp_tcp_wscale(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *end = (void *)(long)ctx->data_end;
	__u8 *tcp = data + OFF_L4;
	struct wscale_walk w = { .result = 0xff };

	if ((void *)(tcp + 20) > end)
		return 0xff;
	__u32 len = (__u32)(tcp[12] >> 4) * 4;
	if (len <= 20)
		return 0xff;
	len -= 20;
	if (len > 40)
		return 0xff;
	if (bpf_xdp_load_bytes(ctx, OFF_L4 + 20, w.opt, len) < 0)
		return 0xff;
	w.len = len;
	bpf_loop(40, wscale_step, &w, 0);
	return w.result;
}

/* The segment record the shared tracker reads. */
static __always_inline int
tcp_seg(void *data, void *end, const struct meta *m, struct vpc_tcp_seg *s)
{
	__u8 *tcp = data + OFF_L4;
	if ((void *)(tcp + 20) > end)
		return -1;
	s->seq = bpf_ntohl(*(__be32 *)(tcp + 4));
	s->ack = bpf_ntohl(*(__be32 *)(tcp + 8));
	s->win = bpf_ntohs(*(__be16 *)(tcp + 14));
	s->flags = m->tcp_flags;
	s->len = m->l4_len - (__u32)(tcp[12] >> 4) * 4 +
		 !!(m->tcp_flags & VPC_TCP_SYN) + !!(m->tcp_flags & VPC_TCP_FIN);
	return 0;
}

/* VPC_DROP_NONE: forward; a drop reason; or VPC_TCP_REOPEN: a new
 * connection over this one (a SYN after a reset or close). */
static __always_inline unsigned int
tcp_update(struct xdp_md *ctx, struct vpc_xdp_ct *e, int dir, void *data, void *end,
	   const struct meta *m)
{
	struct vpc_tcp_seg s;

	if (tcp_seg(data, end, m, &s) < 0)
		return VPC_DROP_L4_TRUNCATED;
	return vpc_tcp_update(&e->trk, (unsigned int)dir, &s, ctx);
}

static __always_inline struct vpc_xdp_stats *
counters(void)
{
	__u32 z = 0;
	return bpf_map_lookup_elem(&stats, &z);
}

/* Remove connection e (its direction-0 value, under fwd).  The CPU whose
 * delete of fwd succeeds removes the reply key too; one that finds fwd
 * gone already (another CPU removing the same connection) stops there.
 * What a race of deleters can still leave -- a reply key without its
 * connection -- is an orphan that ct_resolve removes when it meets it. */
static __always_inline void
ct_delete(struct vpc_xdp_ct *e, const struct vpc_xdp_ct_key *fwd)
{
	struct vpc_xdp_ct_key rev = e->other;

	if (bpf_map_delete_elem(&ct, fwd) == 0 && !key_eq(fwd, &rev))
		bpf_map_delete_elem(&ct, &rev);
}

/*
 * The connection of the value v found under key k: v itself (direction 0),
 * or the direction-0 value v names (direction 1) -- provided it still
 * names k back.  A direction-1 key whose connection is gone, or belongs to
 * another connection now, is an orphan (a race of two deleters, or an
 * element reused): it is removed and the packet is of no connection.
 */
static __always_inline struct vpc_xdp_ct *
ct_resolve(const struct vpc_xdp_ct_key *k, struct vpc_xdp_ct *v, struct vpc_xdp_ct_key *fwd,
	   int *dir)
{
	*dir = 0;
	*fwd = *k;
	if (v == NULL || !key_eq(&v->self, k))
		return NULL;
	if (v->dir == 0)
		return v;
	*fwd = v->other;
	*dir = 1;
	struct vpc_xdp_ct *e = bpf_map_lookup_elem(&ct, fwd);
	if (e != NULL && e->dir == 0 && key_eq(&e->self, fwd) && key_eq(&e->other, k))
		return e;
	if (e == NULL || !key_eq(&e->other, k))
		bpf_map_delete_elem(&ct, k);
	return NULL;
}

/* One walk for room: every expired connection is removed (when due), and
 * the first one never answered (when due; the walk stops there if it is
 * not reclaiming). */
struct room_ctx {
	__u64 now;
	__u64 expired;
	__u32 reclaim, early;	/* what this walk does */
	__u32 dropped;		/* connections never answered, removed */
};

/*
 * One element of the walk.  A global function: the verifier checks it once,
 * on its own, instead of along every path of the slow program that reaches
 * the walk (which that program's length cannot afford).
 */
__attribute__((noinline)) int
vpc_room_visit(struct vpc_xdp_ct_key *key, struct vpc_xdp_ct *val, struct room_ctx *c)
{
	if (key == NULL || val == NULL || c == NULL)
		return 1;
	/* Helpers take keys on the stack only (6.1: not a function's
	 * memory argument). */
	struct vpc_xdp_ct_key k = *key;
	if (val->dir != 0) {
		/* an orphaned reply key (see ct_resolve) */
		if (c->reclaim) {
			struct vpc_xdp_ct_key other = val->other;
			struct vpc_xdp_ct *e = bpf_map_lookup_elem(&ct, &other);
			if (e == NULL || !key_eq(&e->other, &k))
				bpf_map_delete_elem(&ct, &k);
		}
		return 0;
	}
	int expired = c->reclaim && val->expires <= c->now;
	int drop = !expired && c->early && !c->dropped && vpc_ct_unreplied(&val->trk);
	if (!expired && !drop)
		return 0;
	struct vpc_xdp_ct_key other = val->other;
	if (bpf_map_delete_elem(&ct, &k) != 0)
		return 0;
	bpf_map_delete_elem(&ct, &other);
	if (expired) {
		c->expired++;
		return 0;
	}
	c->dropped++;
	return c->reclaim ? 0 : 1;
}

static long
room_one(void *map, struct vpc_xdp_ct_key *key, struct vpc_xdp_ct *val, void *arg)
{
	struct vpc_xdp_ct_key k = *key;	/* a map key is read-only to a global function */

	(void)map;
	return vpc_room_visit(&k, val, arg) ? 1 : 0;	/* 1: stop */
}

/*
 * The table is full: reclaim what has expired (a walk of the whole table,
 * so at most once an interval) and drop one connection never answered
 * (Linux's early drop; after a walk that found none, not again for an
 * interval), never one whose other side answered.  1 when room was made.
 * (Two CPUs may both walk in the same instant: harmless.)
 */
static __always_inline int
ct_make_room(__u64 now, struct vpc_xdp_stats *st)
{
	struct room_ctx rc = { .now = now };

	rc.reclaim = now >= reclaim_due;
	rc.early = now >= early_drop_due;
	if (!rc.reclaim && !rc.early)
		return 0;
	if (rc.reclaim)
		reclaim_due = now + RECLAIM_INTERVAL_NS;
	bpf_for_each_map_elem(&ct, room_one, &rc, 0);
	st->ct_expired += rc.expired;
	st->ct_early_dropped += rc.dropped;
	if (rc.early && !rc.dropped)
		early_drop_due = now + RECLAIM_INTERVAL_NS;
	return rc.expired + rc.dropped != 0;
}

/* ---- rewrites ---- */

static __always_inline __u8
apply(void *data, void *end, const struct meta *m, const struct vpc_xdp_action *a,
      struct vpc_xdp_verdict *v)
{
	struct ethhdr *eth = data;
	struct iphdr *ip = data + OFF_IP;

	if ((void *)(ip + 1) > end)
		return VPC_DROP_IP_TRUNCATED;
	if (a->rewrite_macs) {
		if (ip->ttl <= 1)
			return VPC_DROP_TTL_EXPIRED;
		mac_copy(eth->h_source, a->src_mac);
		mac_copy(eth->h_dest, a->dst_mac);
	}
	if (a->nat != NAT_NONE) {
		int src = a->nat == NAT_SRC;
		__be32 from = src ? ip->saddr : ip->daddr, to = a->nat_addr;
		__u16 *w = (__u16 *)&ip->ttl;
		__u32 sum = (__u16)~ip->check;
		if (a->rewrite_macs) {
			__u16 old = *w;
			ip->ttl--;
			sum += (__u16)~old;
			sum += *w;
		}
		sum += (__u16)~(from & 0xffff);
		sum += (__u16)~(from >> 16);
		sum += to & 0xffff;
		sum += to >> 16;
		ip->check = (__u16)~vpc_csum_fold(sum);
		if (src)
			ip->saddr = to;
		else
			ip->daddr = to;
		__u8 *l4 = data + OFF_L4;
		if (m->proto == IPPROTO_TCP) {
			if ((void *)(l4 + 18) <= end)
				vpc_csum_replace4((__u16 *)(l4 + 16), from, to);
		} else if (m->proto == IPPROTO_UDP) {
			if ((void *)(l4 + 8) <= end && *(__u16 *)(l4 + 6) != 0) {
				vpc_csum_replace4((__u16 *)(l4 + 6), from, to);
				if (*(__u16 *)(l4 + 6) == 0)
					*(__u16 *)(l4 + 6) = 0xffff;
			}
		}
	} else if (a->rewrite_macs) {
		__u16 *w = (__u16 *)&ip->ttl;
		__u16 old = *w;
		ip->ttl--;
		vpc_csum_replace2(&ip->check, old, *w);
	}
	v->action = VPC_ACT_FORWARD;
	v->path = a->path;
	v->reason = VPC_DROP_NONE;
	v->out_slot = a->out_slot;
	return VPC_DROP_NONE;
}

/* The quoted header of an ICMP error, translated back through the NAT. */
static __always_inline void
icmp_error_translate(void *data, void *end, const struct meta *m,
		     const struct vpc_xdp_action *a)
{
	struct iphdr *ip = data + OFF_IP;

	if (a->nat == NAT_NONE || (void *)(ip + 1) > end)
		return;
	vpc_icmp_quote_nat(data + OFF_L4, end, (__u32)m->l4_len - 8, a->nat == NAT_DST,
			   a->nat == NAT_SRC ? ip->saddr : ip->daddr, a->nat_addr);
}

/* Is the ICMP error about a tracked connection (by the reverse of the
 * quoted tuple, in the context it arrived in)? */
static __always_inline int
icmp_error_related(void *data, void *end, const struct meta *m, __u32 ctx)
{
	struct iphdr *in = data + OFF_L4 + 8;
	__u32 avail = m->l4_len - 8;

	if ((void *)(in + 1) > end)
		return 0;
	__u8 vihl = *(__u8 *)in;
	__u32 ihl = (vihl & 0xf) * 4;
	if (avail < 28 || (vihl >> 4) != 4 || ihl < 20 || ihl + 8 > avail)
		return 0;
	__u8 *l4 = (__u8 *)in + (ihl & 0x3c);
	if ((void *)(l4 + 8) > end)
		return 0;
	struct vpc_xdp_ct_key k = {
		.ctx_proto = ctx | in->protocol,
		.src = in->daddr,
		.dst = in->saddr,
	};
	if (in->protocol == IPPROTO_TCP || in->protocol == IPPROTO_UDP) {
		k.sport = *(__be16 *)(l4 + 2);
		k.dport = *(__be16 *)l4;
	} else if (in->protocol == IPPROTO_ICMP) {
		__u8 type = l4[0];
		if (vpc_icmp_is_query(type))
			k.sport = *(__be16 *)(l4 + 4);
		k.dport = bpf_htons((__u16)(vpc_icmp_peer_type(type) << 8 | l4[1]));
	}
	return bpf_map_lookup_elem(&ct, &k) != NULL;
}

/* ---- the packet ---- */

static __always_inline void
set_drop(struct vpc_xdp_verdict *v, __u8 reason)
{
	v->action = VPC_ACT_DROP;
	v->path = VPC_PATH_NONE;
	v->reason = reason;
	v->out_slot = 0xffffffff;
}

static __always_inline __u8
iface_checks(struct tables *t, const struct vpc_xdp_port *pi, const struct meta *m,
	     void *data, void *end, int *done)
{
	struct ethhdr *eth = data;
	struct iphdr *ip = data + OFF_IP;
	const struct vpc_xdp_iface *fi = &pi->fi;

	*done = 0;
	if (m->kind == META_ARP) {
		__u8 r = arp_from_iface(t, pi, data, end);
		*done = r == VPC_DROP_NONE;
		return r;
	}
	if ((void *)(ip + 1) > end)
		return VPC_DROP_IP_TRUNCATED;
	if (eth->h_dest[0] & 1)
		return VPC_DROP_MULTICAST;
	if (fi->src_dst_check) {
		if (!mac_eq(eth->h_source, fi->mac))
			return VPC_DROP_SPOOFED_MAC;
		if (ip->saddr != fi->ip)
			return VPC_DROP_SPOOFED_IP;
	}
	if (m->tot_len > fi->mtu)
		return VPC_DROP_MTU_EXCEEDED;
	if ((ip->daddr & bpf_htonl(0xe0000000)) == bpf_htonl(0xe0000000))
		return VPC_DROP_MULTICAST;
	return VPC_DROP_NONE;
}

static __always_inline __u8
uplink_checks(struct tables *t, const struct meta *m, void *data, void *end, int *done)
{
	struct ethhdr *eth = data;

	*done = 0;
	if (m->kind == META_ARP) {
		__u8 r = arp_from_uplink(t, data, end);
		*done = r == VPC_DROP_NONE;
		return r;
	}
	if (eth->h_dest[0] & 1)
		return VPC_DROP_MULTICAST;
	if (!mac_eq(eth->h_dest, t->g->uplink_mac))
		return VPC_DROP_UPLINK_DST_MAC;
	return VPC_DROP_NONE;
}

static __always_inline int
fast_path_ok(const struct vpc_xdp_port *pi, const void *dst_mac, const struct vpc_xdp_action *a)
{
	if (pi->is_uplink)
		return 1;
	if (a->path == VPC_PATH_L2_SWITCH)
		return mac_eq(dst_mac, a->dst_mac);
	return mac_eq(dst_mac, pi->fi.router_mac);
}

/* A new connection (or an ICMP error, which opens none). */
static __always_inline __u8
new_conn(struct xdp_md *ctx, struct tables *t, const struct vpc_xdp_port *pi,
	 const struct meta *m, void *data, void *end, const struct vpc_xdp_ct_key *key, __u64 now,
	 struct vpc_xdp_verdict *v, struct vpc_xdp_stats *st)
{
	struct iphdr *ip = data + OFF_IP;
	struct decision d;
	__u8 r;

	if ((void *)(ip + 1) > end)
		return VPC_DROP_IP_TRUNCATED;
	if ((r = decide(t, pi, m, data, end, &d)) != VPC_DROP_NONE)
		return r;
	__be32 saddr = ip->saddr, daddr = ip->daddr;

	if (m->proto == IPPROTO_ICMP && m->icmp_error) {
		if (!icmp_error_related(data, end, m, pi->ctx) &&
		    !sg_allows_packet(t, pi, m, saddr, daddr, &d, 0))
			return VPC_DROP_ICMP_UNRELATED;
		icmp_error_translate(data, end, m, &d.act);
		return apply(data, end, m, &d.act, v);
	}
	if (m->proto == IPPROTO_TCP && (m->tcp_flags & (VPC_TCP_SYN | VPC_TCP_ACK | VPC_TCP_RST)) != VPC_TCP_SYN)
		return VPC_DROP_TCP_NOT_SYN;
	if (!sg_allows_packet(t, pi, m, saddr, daddr, &d, 0))
		return VPC_DROP_SG_DENIED;
	if (d.act.rewrite_macs && ip->ttl <= 1)
		return VPC_DROP_TTL_EXPIRED;

	/* The reply's key: as the replies will enter. */
	struct vpc_xdp_ct_key rev = {
		.ctx_proto = m->proto,
		.src = daddr,
		.dst = saddr,
	};
	if (m->proto == IPPROTO_ICMP) {
		rev.sport = m->sport;
		rev.dport = bpf_htons((__u16)(vpc_icmp_peer_type(m->icmp_type) << 8 | m->icmp_code));
	} else {
		rev.sport = m->dport;
		rev.dport = m->sport;
	}
	if (d.act.nat == NAT_SRC) {
		rev.dst = d.act.nat_addr;	/* context 0: the uplink */
	} else {
		if (d.act.nat == NAT_DST)
			rev.src = d.act.nat_addr;
		if (d.receiver != VPC_INDEX_NONE) {
			const struct vpc_xdp_iface *x = iface_at(t, d.receiver);
			if (x == NULL)
				return VPC_DROP_NO_INTERFACE;
			rev.ctx_proto |= x->ctx;
		} else {
			rev.ctx_proto |= pi->ctx;
		}
	}
	/* The reply key taken: by another live connection a conflict; an
	 * orphan (see ct_resolve) is removed on the way. */
	int self_addressed = key_eq(key, &rev);
	struct vpc_xdp_ct *taken = bpf_map_lookup_elem(&ct, &rev);
	if (taken != NULL && !self_addressed) {
		struct vpc_xdp_ct_key ofwd;
		int odir;
		if (ct_resolve(&rev, taken, &ofwd, &odir) != NULL ||
		    bpf_map_lookup_elem(&ct, &rev) != NULL)
			return VPC_DROP_CT_CONFLICT;
	}

	__u32 z = 0, one = 1;
	struct vpc_xdp_ct *fv = bpf_map_lookup_elem(&scratch, &z);
	struct vpc_xdp_ct *rv = bpf_map_lookup_elem(&scratch, &one);
	if (fv == NULL || rv == NULL)
		return VPC_DROP_CT_FULL;
	__builtin_memset(fv, 0, sizeof(*fv));
	fv->dir = 0;
	fv->self = *key;
	fv->other = rev;
	fv->created = now;
	switch (m->proto) {
	case IPPROTO_TCP: {
		struct vpc_tcp_seg seg;
		if (tcp_seg(data, end, m, &seg) < 0)
			return VPC_DROP_L4_TRUNCATED;
		vpc_tcp_open(&fv->trk, &seg, (__u8)xdp_tcp_wscale(ctx));
		break;
	}
	case IPPROTO_UDP:
		fv->trk.state = VPC_CT_UDP;
		break;
	case IPPROTO_ICMP:
		fv->trk.state = VPC_CT_ICMP;
		break;
	default:
		fv->trk.state = VPC_CT_OTHER;
		break;
	}
	fv->act[0] = d.act;
	fv->expires = now + entry_timeout(t, fv, d.act.vpc);
	__builtin_memset(rv, 0, sizeof(*rv));
	rv->dir = 1;
	rv->self = rev;
	rv->other = *key;

	/* The forward key, then the reply's: room made for the first is
	 * room for both (a connection removed frees two keys). */
	long err = bpf_map_update_elem(&ct, key, fv, BPF_NOEXIST);
	if (err == -E2BIG && ct_make_room(now, st))	/* full */
		err = bpf_map_update_elem(&ct, key, fv, BPF_NOEXIST);
	/* A flow addressed to itself has one key, in direction 0. */
	if (err == 0 && !self_addressed) {
		err = bpf_map_update_elem(&ct, &rev, rv, BPF_NOEXIST);
		if (err != 0)
			bpf_map_delete_elem(&ct, key);
	}
	if (err == -E2BIG) {
		st->ct_refused_full++;
		return VPC_DROP_CT_FULL;
	}
	if (err != 0)
		return VPC_DROP_CT_CONFLICT;
	st->ct_created++;
	return apply(data, end, m, &d.act, v);
}

/*
 * A known connection whose cached action for this direction is stale (new
 * tables) or does not fit this frame: decide afresh, re-check the groups
 * when the apply asked for it or the frame now reaches someone else.
 */
static __always_inline __u8
refresh(struct tables *t, const struct vpc_xdp_port *pi, const struct meta *m,
	void *data, void *end, struct vpc_xdp_ct *e, int dir,
	const struct vpc_xdp_ct_key *fwd, __u64 now, struct vpc_xdp_verdict *v)
{
	struct iphdr *ip = data + OFF_IP;
	struct decision d;
	__u8 r;

	if ((void *)(ip + 1) > end)
		return VPC_DROP_IP_TRUNCATED;
	if ((r = decide(t, pi, m, data, end, &d)) != VPC_DROP_NONE)
		return r;
	struct vpc_xdp_action *old = &e->act[dir & 1];
	int other = old->gen != 0 && (old->out_slot != d.act.out_slot ||
				      old->path != d.act.path);
	if ((t->g->revalidate || other) &&
	    !sg_allows_packet(t, pi, m, ip->saddr, ip->daddr, &d, dir)) {
		if (t->g->revalidate && !other) {
			ct_delete(e, fwd);
		}
		return VPC_DROP_SG_DENIED;
	}
	e->act[dir & 1] = d.act;
	e->expires = now + entry_timeout(t, e, d.act.vpc);
	return apply(data, end, m, &e->act[dir & 1], v);
}

/* ---- the slow path's setup: it re-reads what it needs ---- */

struct slow {
	struct tables t;
	const struct vpc_xdp_port *pi;
	struct meta m;
	struct vpc_xdp_ct_key key;
	struct vpc_xdp_stats *st;
};

static __always_inline int
slow_setup(struct xdp_md *ctx, __u32 set, __u32 slot, struct slow *s)
{
	void *data = (void *)(long)ctx->data;
	void *end = (void *)(long)ctx->data_end;
	__u32 z = 0;

	s->t.set = set & 1;
	s->t.ifaces = NULL;
	void *gm = inner(&set_global, s->t.set);
	void *pm = inner(&set_ports, s->t.set);
	if (gm == NULL || pm == NULL)
		return -1;
	s->t.g = bpf_map_lookup_elem(gm, &z);
	s->pi = bpf_map_lookup_elem(pm, &slot);
	s->st = counters();
	if (s->t.g == NULL || s->pi == NULL || s->st == NULL)
		return -1;
	parse(data, end, &s->m);
	struct iphdr *ip = data + OFF_IP;
	if (s->m.kind != META_IPV4 || (void *)(ip + 1) > end)
		return -1;
	s->key.ctx_proto = s->pi->ctx | s->m.proto;
	s->key.src = ip->saddr;
	s->key.dst = ip->daddr;
	s->key.sport = s->m.sport;
	s->key.dport = s->m.dport;
	return 0;
}


/* ---- two programs: the fast path, and the slow path it tail-calls ----
 *
 * A packet with no current cached action goes to vpc_xdp_slow by a tail
 * call, with what it needs (the table set, the port, the clock) in the
 * per-CPU handoff.  The tail call gives the slow path a stack of its own
 * (the two together would not fit the 512 bytes of one) and keeps the
 * fast path's code small.  XDP runs to completion on its CPU, so the
 * handoff cannot be overwritten in between.
 */

struct handoff {
	__u64 now;
	__u32 set;
	__u32 slot;
	__u32 len;
	__u32 pad;
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct handoff);
} handoffs SEC(".maps");

int vpc_xdp_slow(struct xdp_md *ctx);

struct {
	__uint(type, BPF_MAP_TYPE_PROG_ARRAY);
	__uint(max_entries, 1);
	__uint(key_size, sizeof(__u32));
	__array(values, int (void *));
} slow_path SEC(".maps") = {
	.values = { [0] = (void *)&vpc_xdp_slow },
};

#define SLOW 0xfe	/* process(): take the slow path */

/* Count, record, and say what becomes of the packet. */
static __always_inline int
finish(__u32 slot, __u32 len, struct vpc_xdp_verdict *v, __u8 r, struct vpc_xdp_stats *st)
{
	int ret;

	if (r != VPC_DROP_NONE)
		set_drop(v, r);
	st->packets++;
	struct vpc_xdp_port_stats *in = bpf_map_lookup_elem(&port_stats, &slot);
	if (in != NULL) {
		in->rx_packets++;
		in->rx_bytes += len;
	}
	if (v->action == VPC_ACT_DROP) {
		st->drops[v->reason & 63]++;
		if (in != NULL)
			in->drops++;
		ret = XDP_DROP;
	} else {
		st->paths[v->path & 15]++;
		__u32 out = v->out_slot;
		struct vpc_xdp_port_stats *o = bpf_map_lookup_elem(&port_stats, &out);
		if (o != NULL) {
			o->tx_packets++;
			o->tx_bytes += len;
		}
		if (v->action == VPC_ACT_REPLY) {
			ret = XDP_TX;
		} else {
			ret = bpf_redirect_map(&tx_ports, out, XDP_DROP);
			if (ret == XDP_DROP && !replay_mode)
				st->tx_errors++;
		}
	}
	if (replay_mode)
		last_verdict = *v;
	return ret;
}

static __always_inline __u8
process(struct xdp_md *ctx, __u32 slot, __u64 now, struct vpc_xdp_verdict *v,
	struct vpc_xdp_stats *st, __u32 *set)
{
	void *data = (void *)(long)ctx->data;
	void *end = (void *)(long)ctx->data_end;
	__u32 z = 0;
	struct vpc_xdp_control *c = bpf_map_lookup_elem(&control, &z);
	struct tables t = { 0 };
	struct meta m;
	__u8 r;
	int done;

	if (c == NULL)
		return VPC_DROP_UNKNOWN_PORT;
	t.set = c->active & 1;
	*set = t.set;
	void *gm = inner(&set_global, t.set);
	void *pm = inner(&set_ports, t.set);
	if (gm == NULL || pm == NULL)
		return VPC_DROP_UNKNOWN_PORT;
	t.g = bpf_map_lookup_elem(gm, &z);
	const struct vpc_xdp_port *pi = bpf_map_lookup_elem(pm, &slot);
	if (t.g == NULL || pi == NULL || !pi->present)
		return VPC_DROP_UNKNOWN_PORT;

	parse(data, end, &m);
	if (m.kind == META_DROP)
		return m.reason;
	r = pi->is_uplink ? uplink_checks(&t, &m, data, end, &done) :
			    iface_checks(&t, pi, &m, data, end, &done);
	if (done) {
		v->action = VPC_ACT_REPLY;
		v->path = VPC_PATH_ARP_REPLY;
		v->reason = VPC_DROP_NONE;
		v->out_slot = slot;
		return VPC_DROP_NONE;
	}
	if (r != VPC_DROP_NONE)
		return r;

	struct iphdr *ip = data + OFF_IP;
	if ((void *)(ip + 1) > end)
		return VPC_DROP_IP_TRUNCATED;
	struct vpc_xdp_ct_key key = {
		.ctx_proto = pi->ctx | m.proto,
		.src = ip->saddr,
		.dst = ip->daddr,
		.sport = m.sport,
		.dport = m.dport,
	};
	struct vpc_xdp_ct_key fwd;
	int dir;
	struct vpc_xdp_ct *e = ct_resolve(&key, bpf_map_lookup_elem(&ct, &key), &fwd, &dir);
	if (e == NULL)
		return SLOW;
	if (e->expires <= now) {
		ct_delete(e, &fwd);
		st->ct_expired++;
		return SLOW;
	}
	if (m.proto == IPPROTO_TCP) {
		unsigned int u = tcp_update(ctx, e, dir, data, end, &m);
		if (u == VPC_TCP_REOPEN) {	/* a new connection */
			ct_delete(e, &fwd);
			return SLOW;
		}
		if (u != VPC_DROP_NONE)
			return (__u8)u;
	} else if (dir == 1 && e->trk.replies < 0xffff) {
		e->trk.replies++;
	}
	struct vpc_xdp_action *a = &e->act[dir & 1];
	struct ethhdr *eth = data;
	if ((void *)(eth + 1) > end)
		return VPC_DROP_FRAME_TRUNCATED;
	if (a->gen == t.g->generation && fast_path_ok(pi, eth->h_dest, a)) {
		/* The fast path: one lookup (two for a reply), the rewrite.
		 * The element is checked once more right before its action is
		 * used: a deleted one is reused by the map at once. */
		e->expires = now + entry_timeout(&t, e, a->vpc);
		struct vpc_xdp_action act = *a;
		if (!key_eq(&e->self, &fwd))
			return SLOW;
		return apply(data, end, &m, &act, v);
	}
	return SLOW;
}

SEC("xdp")
int
vpc_xdp(struct xdp_md *ctx)
{
	struct vpc_xdp_verdict v = { .action = VPC_ACT_DROP, .out_slot = 0xffffffff };
	struct vpc_xdp_stats *st = counters();
	__u32 slot, set = 0, z = 0;
	__u64 now;
	__u32 len = (__u32)(ctx->data_end - ctx->data);

	if (st == NULL)
		return XDP_ABORTED;
	if (replay_mode) {
		slot = replay_slot;
		now = replay_now;
	} else {
		__u32 ifindex = ctx->ingress_ifindex;
		__u32 *s;
		slot = 0xffffffff;
		if (ifindex < VPC_XDP_IFINDEX_LO) {
			s = bpf_map_lookup_elem(&if_slots_lo, &ifindex);
			if (s != NULL && *s != 0)
				slot = *s - 1;
		} else {
			s = bpf_map_lookup_elem(&if_slots, &ifindex);
			if (s != NULL)
				slot = *s;
		}
		if (slot == 0xffffffff) {
			st->packets++;
			st->drops[VPC_DROP_UNKNOWN_PORT]++;
			return XDP_DROP;	/* attached, but not (or no longer) a port */
		}
		now = bpf_ktime_get_ns();
	}

	__u8 r = process(ctx, slot, now, &v, st, &set);
	if (r == SLOW) {
		struct handoff *h = bpf_map_lookup_elem(&handoffs, &z);
		if (h != NULL) {
			h->now = now;
			h->set = set;
			h->slot = slot;
			h->len = len;
			bpf_tail_call(ctx, &slow_path, 0);
		}
		r = VPC_DROP_ENGINE;	/* the slow path is not loaded */
	}
	return finish(slot, len, &v, r, st);
}

SEC("xdp")
int
vpc_xdp_slow(struct xdp_md *ctx)
{
	struct vpc_xdp_verdict v = { .action = VPC_ACT_DROP, .out_slot = 0xffffffff };
	struct slow s;
	__u32 z = 0;
	__u8 r;

	struct handoff *h = bpf_map_lookup_elem(&handoffs, &z);
	if (h == NULL)
		return XDP_ABORTED;
	__u32 slot = h->slot, len = h->len;
	__u64 now = h->now;
	if (slow_setup(ctx, h->set, slot, &s) < 0) {
		struct vpc_xdp_stats *st = counters();
		if (st == NULL)
			return XDP_ABORTED;
		return finish(slot, len, &v, VPC_DROP_ENGINE, st);
	}
	void *data = (void *)(long)ctx->data;
	void *end = (void *)(long)ctx->data_end;
	struct vpc_xdp_ct_key fwd;
	int dir;
	struct vpc_xdp_ct *e = ct_resolve(&s.key, bpf_map_lookup_elem(&ct, &s.key), &fwd, &dir);
	if (e == NULL)
		r = new_conn(ctx, &s.t, s.pi, &s.m, data, end, &s.key, now, &v, s.st);
	else
		r = refresh(&s.t, s.pi, &s.m, data, end, e, dir, &fwd, now, &v);
	return finish(slot, len, &v, r, s.st);
}

/* vpc-replay --bench's baseline: what a test run of a program that does
 * nothing costs (the kernel's timing of one run included). */
SEC("xdp")
int
vpc_xdp_baseline(struct xdp_md *ctx)
{
	return XDP_DROP;
}
