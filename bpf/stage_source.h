/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * stage_source.h -- source checks: what a port may send, and ARP.
 *
 * Reads: meta, the port's interface or the uplink's MAC; the IP and
 *        elastic-IP maps for ARP.
 * Sets:  an ARP request turned into its reply in place (XDP_TX); or a
 *        drop reason (spoofing, MTU, multicast, another MAC on the uplink).
 * Next:  the connection lookup, then the fast path or the slow program.
 *
 * A stage of the XDP program: included by vpc_xdp.bpf.c alone (one
 * compilation unit, as BPF needs), after its maps and helpers; the DPDK
 * engine's stage of the same name is dataplane/stage_source.h.
 */
#ifndef VPC_XDP_STAGE_SOURCE_H
#define VPC_XDP_STAGE_SOURCE_H

static __always_inline void
arp_answer(struct ethhdr *eth, struct arp_eth *a, const __u8 *mac)
{
	vpc_arp_reply((__u8 *)eth, (__u8 *)a, mac);
}

static __always_inline __u8
arp_from_iface(struct tables *t, const struct vpc_xdp_port *pi, void *data, void *end)
{
	struct ethhdr *eth = data;
	struct arp_eth *a = data + sizeof(*eth);
	const struct vpc_iface_rec *fi = &pi->fi;

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
	const struct vpc_iface_rec *o = iface_at(t, *xi);
	if (o == NULL || o->subnet != fi->subnet)
		return VPC_DROP_ARP_UNANSWERED;
	__u8 mac[6];
	vpc_mac_copy(mac, o->mac);
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
	vpc_mac_copy(mac, t->g->uplink_mac);
	arp_answer(eth, a, mac);
	return VPC_DROP_NONE;
}

static __always_inline __u8
iface_checks(struct tables *t, const struct vpc_xdp_port *pi, const struct vpc_pkt *m,
	     void *data, void *end, int *done)
{
	struct ethhdr *eth = data;
	struct iphdr *ip = data + VPC_OFF_IP;
	const struct vpc_iface_rec *fi = &pi->fi;

	*done = 0;
	if (m->kind == VPC_PKT_ARP) {
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
uplink_checks(struct tables *t, const struct vpc_pkt *m, void *data, void *end, int *done)
{
	struct ethhdr *eth = data;

	*done = 0;
	if (m->kind == VPC_PKT_ARP) {
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

#endif /* VPC_XDP_STAGE_SOURCE_H */
