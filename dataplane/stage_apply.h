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
#include "vpc_geneve.h"
#include "vpc_icmp.h"
#include "vpc_natgw.h"
#include "vpc_rewrite.h"

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
	if (!a->rewrite_macs)	/* switched, or from the overlay */
		return rte_is_same_ether_addr(&m->eth->dst_addr, &a->dst_mac);
	return rte_is_same_ether_addr(&m->eth->dst_addr, VPC_ETH(pi->fi->router_mac));
}

/* To another host: the overlay's 50 bytes in front (common/vpc_geneve.h;
 * every port's mbufs have the headroom). */
static inline uint8_t
encap(const struct vpc_tables *t, struct meta *m, const struct vpc_ct_action *a)
{
	uint32_t inner_len = rte_pktmbuf_pkt_len(m->mb);
	uint16_t sport = vpc_geneve_sport(&m->pkt, m->ip->src_addr, m->ip->dst_addr);
	uint8_t *o = (uint8_t *)rte_pktmbuf_prepend(m->mb, VPC_GENEVE_HLEN);

	if (unlikely(o == NULL))
		return VPC_DROP_ENGINE;
	vpc_geneve_fill(o, t->tunnels[a->tunnel - 1].hdr, inner_len, sport, t->vni[a->vpc]);
	return VPC_DROP_NONE;
}

static inline __attribute__((always_inline)) uint8_t
apply(const struct vpc_tables *t, struct meta *m, const struct vpc_ct_action *a,
      struct vpc_verdict *v)
{
	struct rte_ipv4_hdr *ip = m->ip;

	if (a->rewrite_macs) {
		if (unlikely(ip->time_to_live <= 1))
			return VPC_DROP_TTL_EXPIRED;
		rte_ether_addr_copy(&a->src_mac, &m->eth->src_addr);
		rte_ether_addr_copy(&a->dst_mac, &m->eth->dst_addr);
	}
	/* TTL, NAT and their checksums (vpc_rewrite.h); parse checked the
	 * L4 header is whole in the IP payload. */
	vpc_ipv4_rewrite((uint8_t *)ip, m->l4, m->l4 + m->pkt.l4_len, m->pkt.proto, a->rewrite_macs,
			 a->nat, a->nat_addr);
	/* Through a NAT gateway, the port too (an ICMP error's own header
	 * has none: its quote is translated, icmp_error_translate). */
	if (unlikely(a->nat_port != 0) && !m->pkt.icmp_error)
		vpc_l4_port_rewrite(m->l4, m->l4 + m->pkt.l4_len, m->pkt.proto,
				    a->nat == VPC_NAT_SRC, a->nat_port);
	if (unlikely(a->tunnel)) {
		uint8_t r = encap(t, m, a);
		if (r != VPC_DROP_NONE)
			return r;
	}
	set_forward(v, a->out_port, a->path);
	return VPC_DROP_NONE;
}

/* An ICMP error the action NATs: its quote translated back the same way
 * (vpc_icmp.h, bounded by the IP payload and the frame). */
static inline void
icmp_error_translate(const struct meta *m, const struct vpc_ct_action *a)
{
	if (a->nat == VPC_NAT_NONE)
		return;
	vpc_icmp_quote_nat(m->l4, m->l4 + m->pkt.l4_len, m->pkt.l4_len - sizeof(struct rte_icmp_hdr),
			   a->nat == VPC_NAT_DST,
			   a->nat == VPC_NAT_SRC ? m->ip->src_addr : m->ip->dst_addr, a->nat_addr);
	if (a->nat_port != 0)
		vpc_icmp_quote_port(m->l4, m->l4 + m->pkt.l4_len,
				    m->pkt.l4_len - sizeof(struct rte_icmp_hdr), a->nat == VPC_NAT_DST,
				    a->nat_port);
}

#endif /* VPC_STAGE_APPLY_H */
