/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * stage_nacl.h -- network ACLs: does a packet pass the stateless rules of
 * the subnet it leaves (egress) and of the subnet it enters (ingress)?
 * The evaluation is common/vpc_nacl.h's, shared with the XDP engine.
 *
 * Reads: meta (protocol, addresses, destination port, ICMP type and
 *        code), the ingress port's and the egress port's records (subnet,
 *        ACL), the ACL lists.
 * Sets:  nothing: allowed, or the drop reason.
 * Next:  the fast path: TCP tracking and apply; the slow path: the
 *        security groups and open (stage_sg.h, stage_open.h), or apply.
 *        A drop: nacl-egress, nacl-ingress.
 *
 * Taken on every packet that crosses a subnet boundary, established ones
 * included (an apply that changes an ACL holds from the next packet), so
 * the fast path first asks nacl_any(): one predictable branch when
 * neither side's subnet has an ACL.
 */
#ifndef VPC_STAGE_NACL_H
#define VPC_STAGE_NACL_H

#include "pipeline_priv.h"
#include "vpc_nacl.h"

/*
 * Has either side of a packet from pi to out_port an ACL?  Not one to
 * another host (tunnel): the receiving host applies both subnets' rules
 * (its rport of the sender carries the source subnet's ACL), where the
 * receiver's subnet is known.
 */
static inline __attribute__((always_inline)) bool
nacl_any(const struct vpc_tables *t, const struct vpc_port_info *pi, uint16_t out_port,
	 uint16_t tunnel)
{
	return tunnel == 0 && (pi->nacl | t->ports[out_port].nacl) != VPC_NACL_DEFAULT;
}

/* The ACLs' verdict on a packet from pi to out_port (a port of t); the
 * receiver's subnet sees it from in_src to in_dport (network order):
 * translated by a load balancer, else as it is. */
static uint8_t
nacl_check(const struct vpc_tables *t, const struct vpc_port_info *pi, uint16_t out_port,
	   const struct meta *m, rte_be32_t in_src, uint16_t in_dport)
{
	const struct vpc_port_info *po = &t->ports[out_port];
	uint16_t dport = vpc_nacl_dport(m->pkt.proto, m->pkt.dport);
	uint16_t idport = vpc_nacl_dport(m->pkt.proto, in_dport);
	uint32_t egress, ingress;

	vpc_nacl_lists(pi->nacl, pi->subnet, po->nacl, po->subnet, &egress, &ingress);
	if (egress != VPC_NACL_NO_LIST &&
	    !vpc_nacl_allows(&t->nacls[egress], m->pkt.proto, m->ip->dst_addr, dport,
			     m->pkt.icmp_type, m->pkt.icmp_code))
		return VPC_DROP_NACL_EGRESS;
	if (ingress != VPC_NACL_NO_LIST &&
	    !vpc_nacl_allows(&t->nacls[ingress], m->pkt.proto, in_src, idport,
			     m->pkt.icmp_type, m->pkt.icmp_code))
		return VPC_DROP_NACL_INGRESS;
	return VPC_DROP_NONE;
}

static inline __attribute__((always_inline)) bool
natgw_path(uint8_t path)
{
	return path == VPC_PATH_NATGW_EGRESS || path == VPC_PATH_NATGW_INGRESS;
}

/* Through a NAT gateway: the gateway's subnet is crossed too
 * (vpc_natgw_nacl_steps); its ACL found through the elastic IP (the
 * action's on the way out, the packet's destination on the way back). */
static uint8_t
nacl_check_natgw(const struct vpc_tables *t, const struct vpc_port_info *pi,
		 const struct vpc_ct_action *a, const struct meta *m)
{
	int egress = a->path == VPC_PATH_NATGW_EGRESS;
	struct vpc_eip_key k = { .ip = egress ? a->nat_addr : m->ip->dst_addr };
	void *data;

	if (rte_hash_lookup_data(t->eip, &k, &data) < 0)
		return VPC_DROP_ENGINE;	/* the action's gateway: never */
	const struct vpc_natgw_rec *g = &t->natgws[(uint32_t)(uintptr_t)data & ~VPC_EIP_NATGW];
	const struct vpc_port_info *x = egress ? pi : &t->ports[a->out_port];
	struct vpc_nacl_step s[3];
	vpc_natgw_nacl_steps(egress, x->nacl, x->subnet, g->nacl, g->subnet, s);
	for (int i = 0; i < 3; i++) {
		if (s[i].list == VPC_NACL_NO_LIST)
			continue;
		uint32_t remote = s[i].remote_src ? m->ip->src_addr :
				  s[i].translated ? a->nat_addr : m->ip->dst_addr;
		uint16_t dport = vpc_nacl_dport(m->pkt.proto,
						s[i].translated ? a->nat_port : m->pkt.dport);
		if (!vpc_nacl_allows(&t->nacls[s[i].list], m->pkt.proto, remote, dport,
				     m->pkt.icmp_type, m->pkt.icmp_code))
			return s[i].reason;
	}
	return VPC_DROP_NONE;
}

/* The ACLs of a packet that action a forwards: is there one to check
 * (one predictable branch on the fast path when not), and its verdict. */
static inline __attribute__((always_inline)) bool
nacl_any_act(const struct vpc_tables *t, const struct vpc_port_info *pi,
	     const struct vpc_ct_action *a)
{
	if (unlikely(natgw_path(a->path)))
		return t->natgw_nacl || nacl_any(t, pi, a->out_port, a->tunnel);
	return nacl_any(t, pi, a->out_port, a->tunnel);
}

static inline uint8_t
nacl_check_act(const struct vpc_tables *t, const struct vpc_port_info *pi,
	       const struct vpc_ct_action *a, const struct meta *m)
{
	if (natgw_path(a->path))
		return nacl_check_natgw(t, pi, a, m);
	/* Through a load balancer the receiver's subnet sees the
	 * translated packet: to the target's port, or from the listener. */
	rte_be32_t src = unlikely(a->path == VPC_PATH_LB_REPLY) ? a->nat_addr : m->ip->src_addr;
	uint16_t dport = unlikely(a->path == VPC_PATH_LB) && m->pkt.proto != IPPROTO_ICMP ?
				 a->nat_port : m->pkt.dport;
	return nacl_check(t, pi, a->out_port, m, src, dport);
}

#endif /* VPC_STAGE_NACL_H */
