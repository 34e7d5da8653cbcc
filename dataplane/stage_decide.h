/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * stage_decide.h -- decide: where a packet goes, before the security groups.
 *
 * Reads: meta, the port, the L2 table (switched within a subnet), the
 *        route table's FIB (routed: deliver, appliance, internet gateway,
 *        blackhole, NAT gateway, the owner of the address in a peered
 *        VPC), the elastic-IP table (from the uplink: an interface's, or
 *        a NAT gateway's whose connection the packet belongs to); an interface
 *        on another host is reached over the overlay (the action's
 *        tunnel), and a frame from the overlay goes where its sender's
 *        host decided (decide_overlay).
 * Sets:  struct decision: the action (egress port, MACs, NAT, path) and
 *        who receives the packet; or a drop reason.
 * Next:  security groups (stage_sg.h) for a new connection or a
 *        revalidation; then open (stage_open.h) or apply.
 */
#ifndef VPC_STAGE_DECIDE_H
#define VPC_STAGE_DECIDE_H

#include "pipeline_priv.h"
#include "vpc_decide.h"
#include "vpc_lb.h"

/* Routed to interface x: on this host, or over the overlay to its own
 * (the frame as it would be delivered there: the receiver's MAC, the
 * router's, TTL decremented). */
static inline void
act_deliver(struct decision *d, const struct vpc_tables *t, uint32_t x, uint8_t path)
{
	const struct vpc_iface_rec *fi = &t->ifaces[x];
	d->receiver = x;
	d->act = (struct vpc_ct_action){
		.out_port = fi->port, .path = fi->tunnel ? VPC_PATH_OVERLAY_ROUTED : path,
		.nat = VPC_NAT_NONE,
		.src_mac = *VPC_ETH(fi->router_mac), .dst_mac = *VPC_ETH(fi->mac),
		.rewrite_macs = 1, .vpc = (uint16_t)fi->vpc, .tunnel = fi->tunnel,
	};
}

/* To the internet through the uplink, the source translated to eip (an
 * interface's elastic IP, or a NAT gateway's: path says which). */
static inline void
act_internet(struct decision *d, const struct vpc_tables *t, uint8_t path, rte_be32_t eip,
	     uint32_t vpc)
{
	d->receiver = VPC_INDEX_NONE;
	d->act = (struct vpc_ct_action){
		.out_port = (uint16_t)t->uplink_port, .path = path,
		.nat = VPC_NAT_SRC, .nat_addr = eip,
		.src_mac = t->uplink_mac, .dst_mac = t->gateway_mac,
		.rewrite_macs = 1, .vpc = (uint16_t)vpc,
	};
}

/* From an interface's port; anti-spoofing already passed. */
static uint8_t
decide_iface(const struct vpc_tables *t, const struct vpc_port_info *pi,
	     const struct meta *m, struct decision *d)
{
	const struct vpc_iface_rec *fi = pi->fi;

	if (rte_is_same_ether_addr(&m->eth->dst_addr, VPC_ETH(fi->router_mac))) {
		uint32_t ip = rte_be_to_cpu_32(m->ip->dst_addr);
		uint64_t nh_idx;
		const struct vpc_rtable *rt = pi->rtable;
		rte_fib_lookup_bulk(rt->fib, &ip, &nh_idx, 1);
		const struct vpc_nexthop *nh = &rt->nexthops[nh_idx];
		VPC_TRACE(VPC_TR_ROUTE, rt - t->rtables, ip, nh->kind, nh->iface);
		switch (nh->kind) {
		case VPC_NH_DELIVER:
		case VPC_NH_APPLIANCE:
		case VPC_NH_PEERING: {
			const struct vpc_iface_rec *x = &t->ifaces[nh->iface];
			if (x->src_dst_check && m->ip->dst_addr != x->ip)
				return VPC_DROP_DST_NOT_OWNER;
			act_deliver(d, t, nh->iface, vpc_nh_path(nh->kind));
			return VPC_DROP_NONE;
		}
		case VPC_NH_IGW:
			/* 1:1 NAT: only the interface's own address has an
			 * elastic IP (an appliance forwarding others' packets
			 * does not lend them its own). */
			if (!fi->has_eip || m->ip->src_addr != fi->ip)
				return VPC_DROP_NO_ELASTIC_IP;
			act_internet(d, t, VPC_PATH_IGW_EGRESS, fi->eip, fi->vpc);
			return VPC_DROP_NONE;
		case VPC_NH_NATGW:
			/* Out with the gateway's elastic IP; the port is
			 * the connection's (allocated when it opens). */
			act_internet(d, t, VPC_PATH_NATGW_EGRESS, t->natgws[nh->iface].eip, fi->vpc);
			return VPC_DROP_NONE;
		case VPC_NH_LB:
			d->lb = nh->iface;	/* lb_open chooses the target */
			return VPC_DROP_NONE;
		default:
			return vpc_nh_drop_reason(nh->kind);
		}
	}

	uint32_t xi = l2_iface(t, fi->vpc, &m->eth->dst_addr);
	VPC_TRACE(VPC_TR_L2, 0, fi->vpc, xi, 0);
	if (xi == VPC_INDEX_NONE)
		return VPC_DROP_UNKNOWN_DST_MAC;
	const struct vpc_iface_rec *x = &t->ifaces[xi];
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
		.out_port = x->port, .path = x->tunnel ? VPC_PATH_OVERLAY_SWITCH : VPC_PATH_L2_SWITCH,
		.nat = VPC_NAT_NONE, .dst_mac = *VPC_ETH(x->mac), .rewrite_macs = 0,
		.vpc = (uint16_t)x->vpc, .tunnel = x->tunnel,
	};
	return VPC_DROP_NONE;
}

/*
 * From the overlay, as its sender's host decided: to the interface of the
 * VPC whose MAC the inner frame is for, which must be on this host.  The
 * frame keeps its MACs and TTL (the sender's host rewrote them).
 */
static uint8_t
decide_overlay(const struct vpc_tables *t, const struct vpc_port_info *pi, const struct meta *m,
	       struct decision *d)
{
	uint32_t xi = l2_iface(t, pi->fi->vpc, &m->eth->dst_addr);
	VPC_TRACE(VPC_TR_L2, 0, pi->fi->vpc, xi, 0);
	if (xi == VPC_INDEX_NONE)
		return VPC_DROP_UNKNOWN_DST_MAC;
	const struct vpc_iface_rec *x = &t->ifaces[xi];
	if (x->tunnel)
		return VPC_DROP_OVERLAY_NOT_HERE;
	if (x->src_dst_check && m->ip->dst_addr != x->ip)
		return VPC_DROP_DST_NOT_OWNER;
	if (rte_be_to_cpu_16(m->ip->total_length) > x->mtu)
		return VPC_DROP_MTU_EXCEEDED;
	d->receiver = xi;
	d->act = (struct vpc_ct_action){
		.out_port = x->port, .path = VPC_PATH_OVERLAY_IN, .nat = VPC_NAT_NONE,
		.dst_mac = *VPC_ETH(x->mac), .rewrite_macs = 0, .vpc = (uint16_t)x->vpc,
	};
	return VPC_DROP_NONE;
}

/*
 * To NAT gateway g's elastic IP: a packet of connection e (dir 1: its
 * reply key), or an ICMP error about it, goes back to the interface that
 * opened it, to its own address and port.  The connection's first packet
 * says who that is (its forward key: the interface's address and port in
 * the gateway's VPC).  Nothing else reaches the VPC through a gateway.
 */
static uint8_t
decide_natgw_return(const struct vpc_tables *t, const struct meta *m, uint32_t g,
		    const struct vpc_ct_entry *e, unsigned int dir, struct decision *d)
{
	if (e == NULL || dir != 1 || e->act[0].path != VPC_PATH_NATGW_EGRESS ||
	    e->act[0].nat_addr != t->natgws[g].eip)
		return VPC_DROP_NATGW_UNSOLICITED;
	struct vpc_ip_key k = { .vpc = t->natgws[g].vpc, .ip = e->key[0].src };
	void *data;
	if (rte_hash_lookup_data(t->ip, &k, &data) < 0)
		return VPC_DROP_NO_INTERFACE;	/* gone since (an apply) */
	uint32_t xi = (uint32_t)(uintptr_t)data;
	if (rte_be_to_cpu_16(m->ip->total_length) > t->ifaces[xi].mtu)
		return VPC_DROP_MTU_EXCEEDED;
	act_deliver(d, t, xi, VPC_PATH_NATGW_INGRESS);
	d->act.nat = VPC_NAT_DST;
	d->act.nat_addr = e->key[0].src;
	d->act.nat_port = e->key[0].sport;	/* its port, or its ICMP identifier */
	return VPC_DROP_NONE;
}

/* From the uplink; the destination MAC already checked.  e, dir: the
 * connection the packet belongs to (an ICMP error: the one it is about),
 * or NULL. */
static uint8_t
decide_uplink(const struct vpc_tables *t, const struct meta *m, const struct vpc_ct_entry *e,
	      unsigned int dir, struct decision *d)
{
	struct vpc_eip_key k = { .ip = m->ip->dst_addr };
	void *data;

	if (rte_hash_lookup_data(t->eip, &k, &data) < 0) {
		VPC_TRACE(VPC_TR_EIP, 0, rte_be_to_cpu_32(k.ip), VPC_INDEX_NONE, 0);
		return VPC_DROP_UNKNOWN_ELASTIC_IP;
	}
	uint32_t xi = (uint32_t)(uintptr_t)data;
	VPC_TRACE(VPC_TR_EIP, 0, rte_be_to_cpu_32(k.ip), xi, 0);
	if (unlikely(xi & VPC_EIP_NATGW))
		return decide_natgw_return(t, m, xi & ~VPC_EIP_NATGW, e, dir, d);
	if (unlikely(xi & VPC_EIP_LB)) {
		d->lb = xi & ~VPC_EIP_LB;	/* lb_open chooses the target */
		return VPC_DROP_NONE;
	}
	const struct vpc_iface_rec *x = &t->ifaces[xi];
	if (rte_be_to_cpu_16(m->ip->total_length) > x->mtu)
		return VPC_DROP_MTU_EXCEEDED;
	act_deliver(d, t, xi, VPC_PATH_IGW_INGRESS);
	d->act.nat = VPC_NAT_DST;
	d->act.nat_addr = x->ip;
	return VPC_DROP_NONE;
}

/* ---- load balancers (common/vpc_lb.h) ---- */

/* The translation to member x of a target group: delivered to its
 * interface, the destination its address and port. */
static inline void
act_lb_member(struct decision *d, const struct vpc_tables *t, const struct vpc_lb_member *x)
{
	act_deliver(d, t, x->iface, VPC_PATH_LB);
	d->act.nat = VPC_NAT_DST;
	d->act.nat_addr = x->ip;
	d->act.nat_port = x->port;
}

/*
 * A new connection to balancer d->lb: the listener of its protocol and
 * port, and the member of the listener's group the group's algorithm
 * chooses among the healthy ones.  Only a packet that opens a connection
 * (a TCP SYN, a UDP datagram) takes a turn.
 */
static uint8_t
lb_open(struct vpc_pipeline *p, const struct meta *m, const struct vpc_ct_key *key,
	struct decision *d)
{
	const struct vpc_tables *t = p->t;
	const struct vpc_lb_rec *lb = &t->lbs[d->lb];
	uint32_t li;

	if (m->pkt.proto != IPPROTO_TCP && m->pkt.proto != IPPROTO_UDP)
		return VPC_DROP_LB_NO_LISTENER;
#define VPC_LB_LISTENER(ctx, i) (&(ctx)->listeners[i])
	VPC_LB_FIND_LISTENER(t, lb, m->pkt.proto, m->pkt.dport, li);
#undef VPC_LB_LISTENER
	if (li == VPC_INDEX_NONE)
		return VPC_DROP_LB_NO_LISTENER;
	if (m->pkt.proto == IPPROTO_TCP &&
	    (m->pkt.tcp_flags & (RTE_TCP_SYN_FLAG | RTE_TCP_ACK_FLAG | RTE_TCP_RST_FLAG)) !=
		    RTE_TCP_SYN_FLAG)
		return VPC_DROP_TCP_NOT_SYN;
	uint32_t gi = t->listeners[li].tgroup;
	const struct vpc_lb_group_rec *g = &t->tgroups[gi];
	uint32_t k = vpc_lb_choose(g, t->lb_healthy[gi], vpc_lb_flow_hash(key), p->lb_turn[gi]++);
	VPC_TRACE(VPC_TR_LB, 0, d->lb, k == VPC_INDEX_NONE ? VPC_INDEX_NONE : g->m[k].iface,
		  k == VPC_INDEX_NONE ? 0 : rte_be_to_cpu_16(g->m[k].port));
	if (k == VPC_INDEX_NONE)
		return VPC_DROP_LB_NO_TARGET;
	if (rte_be_to_cpu_16(m->ip->total_length) > t->ifaces[g->m[k].iface].mtu)
		return VPC_DROP_MTU_EXCEEDED;
	act_lb_member(d, t, &g->m[k]);
	return VPC_DROP_NONE;
}

/*
 * A packet of a connection through a balancer whose action is not
 * current (new tables, or its first reply): direction 0 goes on to the
 * target the connection chose (found again by its address: the member
 * may have left the group, its connections drain); direction 1, the
 * target's reply, goes back to the client -- an interface of the VPC, or
 * the internet through the uplink -- from the listener's address and
 * port.
 */
static uint8_t
lb_known(const struct vpc_tables *t, const struct vpc_port_info *pi, const struct meta *m,
	 const struct vpc_ct_entry *e, unsigned int dir, struct decision *d)
{
	const struct vpc_ct_action *a0 = &e->act[0];
	void *data;

	if (dir == 0) {
		/* The balancer, found again by its address (its groups are
		 * checked when the apply revalidates). */
		const struct vpc_ct_key *k0 = &e->key[0];
		if ((k0->ctx_proto >> 8) == 0) {
			struct vpc_eip_key ek = { .ip = k0->dst };
			if (rte_hash_lookup_data(t->eip, &ek, &data) < 0 ||
			    !((uint32_t)(uintptr_t)data & VPC_EIP_LB))
				return VPC_DROP_LB_NO_LISTENER;
			d->lb = (uint32_t)(uintptr_t)data & ~VPC_EIP_LB;
		} else {
			struct vpc_ip_key lk = { .vpc = a0->vpc, .ip = k0->dst };
			if (t->n_lbs == 0 || rte_hash_lookup_data(t->lb_ip, &lk, &data) < 0)
				return VPC_DROP_LB_NO_LISTENER;
			d->lb = (uint32_t)(uintptr_t)data;
		}
		/* The target's VPC: the one its action was for. */
		struct vpc_ip_key k = { .vpc = a0->vpc, .ip = a0->nat_addr };
		if (rte_hash_lookup_data(t->ip, &k, &data) < 0)
			return VPC_DROP_NO_INTERFACE;	/* gone (an apply) */
		uint32_t xi = (uint32_t)(uintptr_t)data;
		if (t->ifaces[xi].tunnel)
			return VPC_DROP_NO_INTERFACE;
		struct vpc_lb_member x = { .ip = a0->nat_addr, .iface = xi, .port = a0->nat_port };
		act_lb_member(d, t, &x);
		return VPC_DROP_NONE;
	}
	if (pi->is_uplink || pi->iface == VPC_INDEX_NONE)
		return VPC_DROP_UNKNOWN_ELASTIC_IP;
	uint32_t vpc = pi->fi->vpc;
	if ((e->key[0].ctx_proto >> 8) == 0) {	/* the client came from the internet */
		if (!rte_is_same_ether_addr(&m->eth->dst_addr, VPC_ETH(pi->fi->router_mac)))
			return VPC_DROP_UNKNOWN_DST_MAC;
		act_internet(d, t, VPC_PATH_LB_REPLY, e->key[0].dst, vpc);
	} else {
		struct vpc_ip_key k = { .vpc = vpc, .ip = e->key[0].src };
		if (rte_hash_lookup_data(t->ip, &k, &data) < 0)
			return VPC_DROP_NO_INTERFACE;
		uint32_t xi = (uint32_t)(uintptr_t)data;
		if (rte_be_to_cpu_16(m->ip->total_length) > t->ifaces[xi].mtu)
			return VPC_DROP_MTU_EXCEEDED;
		const struct vpc_iface_rec *x = &t->ifaces[xi];
		if (x->tunnel)
			return VPC_DROP_NO_INTERFACE;
		act_deliver(d, t, xi, VPC_PATH_LB_REPLY);
		/* A client in the target's subnet is answered switched, as
		 * the target addressed it (to the client's own MAC). */
		if (!rte_is_same_ether_addr(&m->eth->dst_addr, VPC_ETH(pi->fi->router_mac))) {
			if (!rte_is_same_ether_addr(&m->eth->dst_addr, VPC_ETH(x->mac)) ||
			    x->subnet != pi->fi->subnet)
				return VPC_DROP_UNKNOWN_DST_MAC;
			d->act.rewrite_macs = 0;
		}
		d->act.nat = VPC_NAT_SRC;
		d->act.nat_addr = e->key[0].dst;
	}
	d->act.nat_port = e->key[0].dport;	/* the listener's port */
	return VPC_DROP_NONE;
}

#endif /* VPC_STAGE_DECIDE_H */
