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
	if (!a->rewrite_macs)	/* switched, or from the overlay */
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
	/* Through a NAT gateway, the port too (an ICMP error's own header
	 * has none: icmp_error_translate does its quote). */
	if (VPC_UNLIKELY(a->nat_port != 0) && !m->icmp_error)
		vpc_l4_port_rewrite(data + VPC_OFF_L4, end, m->proto, a->nat == VPC_NAT_SRC,
				    a->nat_port);
	v->action = VPC_ACT_FORWARD;
	v->path = a->path;
	v->reason = VPC_DROP_NONE;
	v->out_slot = a->out_slot;
	if (VPC_UNLIKELY(a->tunnel)) {	/* encap() puts the header in front */
		v->tunnel = a->tunnel;
		v->vpc = a->vpc;
		v->sport = vpc_geneve_sport(m, ip->saddr, ip->daddr);
	}
	return VPC_DROP_NONE;
}

/*
 * To another host: the overlay's 50 bytes in front of the frame as the
 * verdict says (common/vpc_geneve.h), once the frame is final.  ctx's
 * packet pointers change.  Inlined (as overlay_in: a function of its own
 * cost every packet of the fast program).
 */
static __always_inline __u8
encap(struct xdp_md *ctx, __u32 set, const struct vpc_xdp_verdict *v)
{
	void *tm = inner(&set_tunnels, set);
	void *vm = inner(&set_vpcs, set);
	__u32 tk = (__u32)v->tunnel - 1, vk = v->vpc;

	if (tm == NULL || vm == NULL)
		return VPC_DROP_ENGINE;
	const struct vpc_tunnel_rec *tr = bpf_map_lookup_elem(tm, &tk);
	const struct vpc_xdp_vpc *vr = bpf_map_lookup_elem(vm, &vk);
	if (tr == NULL || vr == NULL)
		return VPC_DROP_ENGINE;
	__u32 inner_len = (__u32)(ctx->data_end - ctx->data);
	if (bpf_xdp_adjust_head(ctx, -VPC_GENEVE_HLEN) != 0)
		return VPC_DROP_ENGINE;
	__u8 *o = (void *)(long)ctx->data;
	if ((void *)(o + VPC_GENEVE_HLEN) > (void *)(long)ctx->data_end)
		return VPC_DROP_ENGINE;
	vpc_geneve_fill(o, tr->hdr, inner_len, v->sport, vr->vni);
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
	if (a->nat_port != 0)
		vpc_icmp_quote_port(data + VPC_OFF_L4, end, (__u32)m->l4_len - 8,
				    a->nat == VPC_NAT_DST, a->nat_port);
}

#endif /* VPC_XDP_STAGE_APPLY_H */
