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
	__u32 lb;		/* to a load balancer's address: its index (lb_open
				 * chooses the target); else VPC_INDEX_NONE */
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
		if (nh == NULL) {
			VPC_TRACE(VPC_TR_ROUTE, pi->rtable, bpf_ntohl(ip->daddr), VPC_NH_NO_ROUTE,
				  VPC_INDEX_NONE);
			return VPC_DROP_NO_ROUTE;
		}
		VPC_TRACE(VPC_TR_ROUTE, pi->rtable, bpf_ntohl(ip->daddr), nh->kind, nh->iface);
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
		case VPC_NH_LB:
			d->lb = nh->iface;	/* lb_open chooses the target */
			return VPC_DROP_NONE;
		default:
			return vpc_nh_drop_reason(nh->kind);
		}
	}

	__u32 xi;
	const struct vpc_iface_rec *x = l2_iface(t, fi->vpc, eth->h_dest, &xi);
	VPC_TRACE(VPC_TR_L2, 0, fi->vpc, x != NULL ? xi : VPC_INDEX_NONE, 0);
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
	VPC_TRACE(VPC_TR_L2, 0, pi->fi.vpc, x != NULL ? xi : VPC_INDEX_NONE, 0);
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
	VPC_TRACE(VPC_TR_EIP, 0, bpf_ntohl(dst), xp != NULL ? *xp : VPC_INDEX_NONE, 0);
	if (xp == NULL)
		return VPC_DROP_UNKNOWN_ELASTIC_IP;
	__u32 xi = *xp;
	if (VPC_UNLIKELY(xi & VPC_EIP_NATGW))
		return decide_natgw_return(t, m, xi & ~VPC_EIP_NATGW, d);
	if (VPC_UNLIKELY(xi & VPC_EIP_LB)) {
		d->lb = xi & ~VPC_EIP_LB;	/* lb_open chooses the target */
		return VPC_DROP_NONE;
	}
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
	d->lb = VPC_INDEX_NONE;
	__u8 r = pi->is_uplink ? decide_uplink(t, m, data, end, d) :
		 pi->fi.tunnel ? decide_overlay(t, pi, m, data, end, d) :
				 decide_iface(t, pi, data, end, d);
	d->act.gen = t->g->generation;
	return r;
}

/* ---- load balancers (common/vpc_lb.h; dataplane/stage_decide.h's twins) ---- */

/* The translation to member x of a target group (its interface xr). */
static __always_inline void
act_lb_member(struct decision *d, const struct vpc_iface_rec *xr, __u32 xi, __be32 ip,
	      __be16 port)
{
	act_deliver(d, xr, xi, VPC_PATH_LB);
	d->act.nat = VPC_NAT_DST;
	d->act.nat_addr = ip;
	d->act.nat_port = port;
}

static __always_inline const struct vpc_lb_listener_rec *
lb_listener_at(void *lm, __u32 i)
{
	return lm != NULL ? bpf_map_lookup_elem(lm, &i) : NULL;
}

/* bpf_loop's callback: one step of the target choice (common/vpc_lb.h). */
static long
lb_choice_step(__u32 i, void *ctx)
{
	return vpc_lb_choice_step(ctx, i);
}

/*
 * The target group of balancer bi's listener for a new connection's
 * protocol and port (pkt: proto << 24 | TCP flags << 16 | destination
 * port as it lies), or LB_DROP | a drop reason.  Only a packet that opens
 * a connection (a TCP SYN, a UDP datagram) goes on.  A function of its
 * own, beside lb_open (not inside it): the slow program's deepest call
 * chain must stay within the stack (Debian 12's verifier rounds frames
 * up to 32 bytes).
 */
#define LB_DROP 0x80000000u
static __noinline __u32
lb_listener(__u32 set, __u32 bi, __u32 pkt)
{
	void *bm = inner(&set_lbs, set);
	void *lm = inner(&set_listeners, set);
	__u8 proto = (__u8)(pkt >> 24), flags = (__u8)(pkt >> 16);
	__u16 port = (__u16)pkt;
	__u32 li;

	if (bm == NULL || lm == NULL)
		return LB_DROP | VPC_DROP_ENGINE;
	const struct vpc_lb_rec *lb = bpf_map_lookup_elem(bm, &bi);
	if (lb == NULL)
		return LB_DROP | VPC_DROP_ENGINE;
	if (proto != IPPROTO_TCP && proto != IPPROTO_UDP)
		return LB_DROP | VPC_DROP_LB_NO_LISTENER;
#define VPC_LB_LISTENER(ctx, i) lb_listener_at(ctx, i)
	VPC_LB_FIND_LISTENER(lm, lb, proto, port, li);
#undef VPC_LB_LISTENER
	if (li == VPC_INDEX_NONE)
		return LB_DROP | VPC_DROP_LB_NO_LISTENER;
	if (proto == IPPROTO_TCP && (flags & (0x02 | 0x10 | 0x04)) != 0x02)	/* SYN alone */
		return LB_DROP | VPC_DROP_TCP_NOT_SYN;
	const struct vpc_lb_listener_rec *l = lb_listener_at(lm, li);
	if (l == NULL)
		return LB_DROP | VPC_DROP_ENGINE;
	return l->tgroup & ~LB_DROP;
}

/* The member of target group gi a new connection with flow hash `hash`
 * goes to (common/vpc_lb.h's choice, by bpf_loop), or LB_DROP | a drop
 * reason.  Its frame small: the chain to bpf_loop's callback is the slow
 * program's deepest. */
static __noinline __u32
lb_choose(__u32 set, __u32 gi, __u32 hash)
{
	void *gm = inner(&set_tgroups, set);
	void *hm = inner(&set_lb_healthy, set);

	if (gm == NULL || hm == NULL)
		return LB_DROP | VPC_DROP_ENGINE;
	const struct vpc_lb_group_rec *g = bpf_map_lookup_elem(gm, &gi);
	const __u64 *healthy = bpf_map_lookup_elem(hm, &gi);
	/* (replay: one CPU's counter, wherever the test run is) */
	__u32 *turn = replay_mode ? bpf_map_lookup_percpu_elem(&lb_turn, &gi, 0) :
				    bpf_map_lookup_elem(&lb_turn, &gi);
	if (g == NULL || healthy == NULL || turn == NULL)
		return LB_DROP | VPC_DROP_ENGINE;
	struct vpc_lb_choice c;
	/* (a trace reads the live turn, and takes none) */
	vpc_lb_choice_init(&c, g, *healthy, hash, trace_mode ? *turn : (*turn)++);
	bpf_loop(VPC_LB_CHOICE_STEPS, lb_choice_step, &c, 0);
	return c.best < VPC_LB_MAX_TARGETS ? c.best : LB_DROP | VPC_DROP_LB_NO_TARGET;
}

/* A new connection to member k of balancer d->lb's target group gi: its
 * translation. */
static __noinline __u8
lb_open(struct tables *t, const struct vpc_pkt *m, struct decision *d, __u32 gi, __u32 k)
{
	void *gm = inner(&set_tgroups, t->set);

	if (gm == NULL)
		return VPC_DROP_ENGINE;
	const struct vpc_lb_group_rec *g = bpf_map_lookup_elem(gm, &gi);
	if (g == NULL)
		return VPC_DROP_ENGINE;
	const struct vpc_lb_member *x = &g->m[k & (VPC_LB_MAX_TARGETS - 1)];
	__u32 xi = x->iface, bi = d->lb;
	VPC_TRACE(VPC_TR_LB, 0, bi, xi, bpf_ntohs(x->port));
	const struct vpc_iface_rec *xr = iface_at(t, xi);
	if (xr == NULL)
		return VPC_DROP_ENGINE;
	if (m->tot_len > xr->mtu)
		return VPC_DROP_MTU_EXCEEDED;
	act_lb_member(d, xr, xi, x->ip, x->port);
	d->lb = bi;
	return VPC_DROP_NONE;
}

/*
 * A packet of a connection through a balancer whose action is not
 * current: direction 0 to the target the connection chose (found again
 * by its address), direction 1 back to the client from the listener's
 * address and port.  The connection is t->conn's lb_fwd (direction 0's
 * key), lb_a0 (its action) and lb_dir (the packet's direction + 1).  A
 * function of its own: the slow program's frame stays within the stack.
 */
static __noinline __u8
lb_known(struct tables *t, const struct vpc_xdp_port *pi, const struct vpc_pkt *m,
	 struct xdp_md *ctx, struct decision *d)
{
	void *data = (void *)(long)ctx->data;
	void *end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;
	struct conn_hint *h = t->conn;

	if ((void *)(eth + 1) > end || h == NULL)
		return VPC_DROP_FRAME_TRUNCATED;
	const struct vpc_ct_key *fwd = &h->lb_fwd;
	const struct vpc_xdp_action *a0 = &h->lb_a0;
	int dir = h->lb_dir == 2;
	__builtin_memset(d, 0, sizeof(*d));
	d->lb = VPC_INDEX_NONE;
	d->act.gen = t->g->generation;
	if (dir == 0) {
		__u32 *bp;
		if ((fwd->ctx_proto >> 8) == 0) {
			void *em = inner(&set_eips, t->set);
			__be32 a = fwd->dst;
			bp = em != NULL ? bpf_map_lookup_elem(em, &a) : NULL;
			if (bp == NULL || !(*bp & VPC_EIP_LB))
				return VPC_DROP_LB_NO_LISTENER;
			d->lb = *bp & ~VPC_EIP_LB;
		} else {
			void *lm = inner(&set_lb_ip, t->set);
			struct vpc_xdp_ip_key lk = { .vpc = a0->vpc, .ip = fwd->dst };
			bp = lm != NULL ? bpf_map_lookup_elem(lm, &lk) : NULL;
			if (bp == NULL)
				return VPC_DROP_LB_NO_LISTENER;
			d->lb = *bp;
		}
		void *ips = inner(&set_ips, t->set);
		struct vpc_xdp_ip_key k = { .vpc = a0->vpc, .ip = a0->nat_addr };
		__u32 *xp = ips != NULL ? bpf_map_lookup_elem(ips, &k) : NULL;
		if (xp == NULL)
			return VPC_DROP_NO_INTERFACE;
		__u32 xi = *xp;
		const struct vpc_iface_rec *xr = iface_at(t, xi);
		if (xr == NULL || xr->tunnel)
			return VPC_DROP_NO_INTERFACE;
		__u32 lb = d->lb;
		act_lb_member(d, xr, xi, a0->nat_addr, a0->nat_port);
		d->lb = lb;
		d->act.gen = t->g->generation;
		return VPC_DROP_NONE;
	}
	if (pi->is_uplink)
		return VPC_DROP_UNKNOWN_ELASTIC_IP;
	__u32 vpc = pi->fi.vpc;
	if ((fwd->ctx_proto >> 8) == 0) {	/* the client came from the internet */
		if (!mac_eq(eth->h_dest, pi->fi.router_mac))
			return VPC_DROP_UNKNOWN_DST_MAC;
		act_internet(d, t, VPC_PATH_LB_REPLY, fwd->dst, vpc);
	} else {
		void *ips = inner(&set_ips, t->set);
		struct vpc_xdp_ip_key k = { .vpc = vpc, .ip = fwd->src };
		__u32 *xp = ips != NULL ? bpf_map_lookup_elem(ips, &k) : NULL;
		if (xp == NULL)
			return VPC_DROP_NO_INTERFACE;
		__u32 xi = *xp;
		const struct vpc_iface_rec *x = iface_at(t, xi);
		if (x == NULL)
			return VPC_DROP_NO_INTERFACE;
		if (m->tot_len > x->mtu)
			return VPC_DROP_MTU_EXCEEDED;
		if (x->tunnel)
			return VPC_DROP_NO_INTERFACE;
		act_deliver(d, x, xi, VPC_PATH_LB_REPLY);
		if (!mac_eq(eth->h_dest, pi->fi.router_mac)) {
			if (!mac_eq(eth->h_dest, x->mac) || x->subnet != pi->fi.subnet)
				return VPC_DROP_UNKNOWN_DST_MAC;
			d->act.rewrite_macs = 0;
		}
		d->act.nat = VPC_NAT_SRC;
		d->act.nat_addr = fwd->dst;
	}
	d->act.nat_port = fwd->dport;
	d->act.gen = t->g->generation;
	return VPC_DROP_NONE;
}

#endif /* VPC_XDP_STAGE_DECIDE_H */
