/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * stage_decide.h -- decide: where a packet goes, before the security groups.
 *
 * Reads: meta, the port, the L2 map, the route LPM trie, the elastic-IP map;
 *        an interface on another host is reached over the overlay (the
 *        action's tunnel), and a frame from the overlay goes where its
 *        sender's host decided (decide_overlay).
 * Sets:  struct decision (the action and who receives); or a drop reason.
 * Next:  security groups (stage_sg.h), then open (stage_open.h) or apply.
 *
 * A stage of the XDP program: included by vpc_xdp.bpf.c alone (one
 * compilation unit, as BPF needs), after its maps and helpers; the DPDK
 * engine's stage of the same name is dataplane/stage_decide.h.
 */
#ifndef VPC_XDP_STAGE_DECIDE_H
#define VPC_XDP_STAGE_DECIDE_H

struct decision {
	struct vpc_xdp_action act;
	__u32 receiver;		/* interface, or VPC_INDEX_NONE: the internet */
};

static __always_inline void
act_deliver(struct decision *d, const struct vpc_iface_rec *x, __u32 xi, __u8 path)
{
	d->receiver = xi;
	__builtin_memset(&d->act, 0, sizeof(d->act));
	d->act.out_slot = x->port;
	d->act.path = path;
	d->act.nat = VPC_NAT_NONE;
	vpc_mac_copy(d->act.src_mac, x->router_mac);
	vpc_mac_copy(d->act.dst_mac, x->mac);
	d->act.rewrite_macs = 1;
	d->act.vpc = (__u16)x->vpc;
	if (x->tunnel) {	/* on another host: over the overlay */
		d->act.path = VPC_PATH_OVERLAY_ROUTED;
		d->act.tunnel = x->tunnel;
	}
}

/* To the internet through the uplink, the source translated to eip (an
 * interface's elastic IP, or a NAT gateway's: path says which). */
static __always_inline void
act_internet(struct decision *d, struct tables *t, __u8 path, __be32 eip, __u32 vpc)
{
	d->receiver = VPC_INDEX_NONE;
	__builtin_memset(&d->act, 0, sizeof(d->act));
	d->act.out_slot = (__u16)t->g->uplink_slot;
	d->act.path = path;
	d->act.nat = VPC_NAT_SRC;
	d->act.nat_addr = eip;
	vpc_mac_copy(d->act.src_mac, t->g->uplink_mac);
	vpc_mac_copy(d->act.dst_mac, t->g->gateway_mac);
	d->act.rewrite_macs = 1;
	d->act.vpc = (__u16)vpc;
}

static __always_inline __u8
decide_iface(struct tables *t, const struct vpc_xdp_port *pi, void *data, void *end,
	     struct decision *d)
{
	struct ethhdr *eth = data;
	struct iphdr *ip = data + VPC_OFF_IP;
	const struct vpc_iface_rec *fi = &pi->fi;

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
		case VPC_NH_APPLIANCE:
		case VPC_NH_PEERING: {
			__u32 xi = nh->iface;
			__u8 path = vpc_nh_path(nh->kind);
			const struct vpc_iface_rec *x = iface_at(t, xi);
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
			act_internet(d, t, VPC_PATH_IGW_EGRESS, fi->eip, fi->vpc);
			return VPC_DROP_NONE;
		case VPC_NH_NATGW: {
			/* Out with the gateway's elastic IP; the port is the
			 * connection's (allocated when it opens). */
			void *gm = inner(&set_natgws, t->set);
			__u32 gi = nh->iface;
			const struct vpc_natgw_rec *g = gm != NULL ? bpf_map_lookup_elem(gm, &gi) : NULL;
			if (g == NULL)
				return VPC_DROP_ENGINE;
			act_internet(d, t, VPC_PATH_NATGW_EGRESS, g->eip, fi->vpc);
			return VPC_DROP_NONE;
		}
		default:
			return vpc_nh_drop_reason(nh->kind);
		}
	}

	__u32 xi;
	const struct vpc_iface_rec *x = l2_iface(t, fi->vpc, eth->h_dest, &xi);
	if (x == NULL)
		return VPC_DROP_UNKNOWN_DST_MAC;
	if (xi == pi->iface)
		return VPC_DROP_HAIRPIN;
	if (x->subnet != fi->subnet)
		return VPC_DROP_DST_OTHER_SUBNET;
	if (x->src_dst_check && ip->daddr != x->ip)
		return VPC_DROP_DST_NOT_OWNER;
	d->receiver = xi;
	__builtin_memset(&d->act, 0, sizeof(d->act));
	d->act.out_slot = x->port;
	d->act.path = x->tunnel ? VPC_PATH_OVERLAY_SWITCH : VPC_PATH_L2_SWITCH;
	vpc_mac_copy(d->act.dst_mac, x->mac);
	d->act.rewrite_macs = 0;
	d->act.vpc = (__u16)x->vpc;
	d->act.tunnel = x->tunnel;
	return VPC_DROP_NONE;
}

/* From the overlay, as its sender's host decided: to the interface of the
 * VPC whose MAC the inner frame is for, which must be on this host; MACs
 * and TTL as they came (dataplane/stage_decide.h's twin). */
static __always_inline __u8
decide_overlay(struct tables *t, const struct vpc_xdp_port *pi, const struct vpc_pkt *m,
	       void *data, void *end, struct decision *d)
{
	struct ethhdr *eth = data;
	struct iphdr *ip = data + VPC_OFF_IP;

	if ((void *)(ip + 1) > end)
		return VPC_DROP_IP_TRUNCATED;
	__u32 xi;
	const struct vpc_iface_rec *x = l2_iface(t, pi->fi.vpc, eth->h_dest, &xi);
	if (x == NULL)
		return VPC_DROP_UNKNOWN_DST_MAC;
	if (x->tunnel)
		return VPC_DROP_OVERLAY_NOT_HERE;
	if (x->src_dst_check && ip->daddr != x->ip)
		return VPC_DROP_DST_NOT_OWNER;
	if (m->tot_len > x->mtu)
		return VPC_DROP_MTU_EXCEEDED;
	d->receiver = xi;
	__builtin_memset(&d->act, 0, sizeof(d->act));
	d->act.out_slot = x->port;
	d->act.path = VPC_PATH_OVERLAY_IN;
	vpc_mac_copy(d->act.dst_mac, x->mac);
	d->act.vpc = (__u16)x->vpc;
	return VPC_DROP_NONE;
}

/* To NAT gateway gi's elastic IP: back to the interface that opened the
 * connection (t->conn), to its own address and port; nothing else
 * (dataplane/stage_decide.h's twin). */
static __always_inline __u8
decide_natgw_return(struct tables *t, const struct vpc_pkt *m, __u32 gi, struct decision *d)
{
	void *gm = inner(&set_natgws, t->set);
	const struct vpc_natgw_rec *g = gm != NULL ? bpf_map_lookup_elem(gm, &gi) : NULL;
	struct conn_hint *c = t->conn;

	if (g == NULL || c == NULL || !c->dir1 || c->nat_addr != g->eip)
		return VPC_DROP_NATGW_UNSOLICITED;
	void *ips = inner(&set_ips, t->set);
	struct vpc_xdp_ip_key k = { .vpc = g->vpc, .ip = c->src };
	__u32 *xp = ips != NULL ? bpf_map_lookup_elem(ips, &k) : NULL;
	if (xp == NULL)
		return VPC_DROP_NO_INTERFACE;	/* gone since (an apply) */
	__u32 xi = *xp;
	const struct vpc_iface_rec *x = iface_at(t, xi);
	if (x == NULL)
		return VPC_DROP_NO_INTERFACE;
	if (m->tot_len > x->mtu)
		return VPC_DROP_MTU_EXCEEDED;
	act_deliver(d, x, xi, VPC_PATH_NATGW_INGRESS);
	d->act.nat = VPC_NAT_DST;
	d->act.nat_addr = c->src;
	d->act.nat_port = c->sport;
	return VPC_DROP_NONE;
}

static __always_inline __u8
decide_uplink(struct tables *t, const struct vpc_pkt *m, void *data, void *end,
	      struct decision *d)
{
	struct iphdr *ip = data + VPC_OFF_IP;

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
	if (VPC_UNLIKELY(xi & VPC_EIP_NATGW))
		return decide_natgw_return(t, m, xi & ~VPC_EIP_NATGW, d);
	const struct vpc_iface_rec *x = iface_at(t, xi);
	if (x == NULL)
		return VPC_DROP_UNKNOWN_ELASTIC_IP;
	if (m->tot_len > x->mtu)
		return VPC_DROP_MTU_EXCEEDED;
	act_deliver(d, x, xi, VPC_PATH_IGW_INGRESS);
	d->act.nat = VPC_NAT_DST;
	d->act.nat_addr = x->ip;
	return VPC_DROP_NONE;
}

/* Where the packet goes (from its port), stamped with the tables'
 * generation: the slow path's first step, for a new connection and for a
 * stale action alike.  A function of its own (both callers share one
 * copy). */
static __noinline __u8
decide(struct tables *t, const struct vpc_xdp_port *pi, const struct vpc_pkt *m,
       struct xdp_md *ctx, struct decision *d)
{
	void *data = (void *)(long)ctx->data;
	void *end = (void *)(long)ctx->data_end;

	/* Defined on every path (a drop leaves it unused, but the compiler
	 * may still move its fields: the verifier refuses unset registers). */
	__builtin_memset(d, 0, sizeof(*d));
	__u8 r = pi->is_uplink ? decide_uplink(t, m, data, end, d) :
		 pi->fi.tunnel ? decide_overlay(t, pi, m, data, end, d) :
				 decide_iface(t, pi, data, end, d);
	d->act.gen = t->g->generation;
	return r;
}

#endif /* VPC_XDP_STAGE_DECIDE_H */
