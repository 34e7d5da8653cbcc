/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * stage_apply.h -- apply: a connection's cached action, rewritten into the frame.
 *
 * Reads: meta, the action (egress port, MACs, NAT address, TTL).
 * Sets:  MACs, TTL, the NATed address with the IP and L4 checksums
 *        (RFC 1624 updates, cksum.h), an ICMP error's quote (vpc_icmp.h);
 *        the verdict (forward to a port, or ttl-expired).
 * Next:  the counters and the egress port (pipeline.c).
 */
#ifndef VPC_STAGE_APPLY_H
#define VPC_STAGE_APPLY_H

#include "pipeline_priv.h"
#include "cksum.h"
#include "vpc_icmp.h"

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

#endif /* VPC_STAGE_APPLY_H */
