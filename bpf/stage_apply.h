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

#endif /* VPC_XDP_STAGE_APPLY_H */
