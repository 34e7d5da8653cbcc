/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * stage_apply.h -- apply: a connection's cached action, rewritten into the frame.
 *
 * Reads: meta, the action (egress slot, MACs, NAT address, TTL).
 * Sets:  MACs, TTL, the NATed address with its checksums (cksum.h), an
 *        ICMP error's quote (vpc_icmp.h); the verdict.
 * Next:  the counters and the redirect (vpc_xdp.bpf.c).
 *
 * A stage of the XDP program: included by vpc_xdp.bpf.c alone (one
 * compilation unit, as BPF needs), after its maps and helpers; the DPDK
 * engine's stage of the same name is dataplane/stage_apply.h.
 */
#ifndef VPC_XDP_STAGE_APPLY_H
#define VPC_XDP_STAGE_APPLY_H

static __always_inline int
fast_path_ok(const struct vpc_xdp_port *pi, const void *dst_mac, const struct vpc_xdp_action *a)
{
	if (pi->is_uplink)
		return 1;
	if (a->path == VPC_PATH_L2_SWITCH)
		return mac_eq(dst_mac, a->dst_mac);
	return mac_eq(dst_mac, pi->fi.router_mac);
}

static __always_inline __u8
apply(void *data, void *end, const struct vpc_pkt *m, const struct vpc_xdp_action *a,
      struct vpc_xdp_verdict *v)
{
	struct ethhdr *eth = data;
	struct iphdr *ip = data + VPC_OFF_IP;

	if ((void *)(ip + 1) > end)
		return VPC_DROP_IP_TRUNCATED;
	if (a->rewrite_macs) {
		if (ip->ttl <= 1)
			return VPC_DROP_TTL_EXPIRED;
		vpc_mac_copy(eth->h_source, a->src_mac);
		vpc_mac_copy(eth->h_dest, a->dst_mac);
	}
	/* TTL, NAT and their checksums (vpc_rewrite.h). */
	vpc_ipv4_rewrite((__u8 *)ip, data + VPC_OFF_L4, end, m->proto, a->rewrite_macs, a->nat,
			 a->nat_addr);
	v->action = VPC_ACT_FORWARD;
	v->path = a->path;
	v->reason = VPC_DROP_NONE;
	v->out_slot = a->out_slot;
	return VPC_DROP_NONE;
}

/* The quoted header of an ICMP error, translated back through the NAT. */
static __always_inline void
icmp_error_translate(void *data, void *end, const struct vpc_pkt *m,
		     const struct vpc_xdp_action *a)
{
	struct iphdr *ip = data + VPC_OFF_IP;

	if (a->nat == VPC_NAT_NONE || (void *)(ip + 1) > end)
		return;
	vpc_icmp_quote_nat(data + VPC_OFF_L4, end, (__u32)m->l4_len - 8, a->nat == VPC_NAT_DST,
			   a->nat == VPC_NAT_SRC ? ip->saddr : ip->daddr, a->nat_addr);
}

#endif /* VPC_XDP_STAGE_APPLY_H */
