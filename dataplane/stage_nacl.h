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

/* The ACLs' verdict on a packet from pi to out_port (a port of t). */
static uint8_t
nacl_check(const struct vpc_tables *t, const struct vpc_port_info *pi, uint16_t out_port,
	   const struct meta *m)
{
	const struct vpc_port_info *po = &t->ports[out_port];
	uint16_t dport = vpc_nacl_dport(m->pkt.proto, m->pkt.dport);
	uint32_t egress, ingress;

	vpc_nacl_lists(pi->nacl, pi->subnet, po->nacl, po->subnet, &egress, &ingress);
	if (egress != VPC_NACL_NO_LIST &&
	    !vpc_nacl_allows(&t->nacls[egress], m->pkt.proto, m->ip->dst_addr, dport,
			     m->pkt.icmp_type, m->pkt.icmp_code))
		return VPC_DROP_NACL_EGRESS;
	if (ingress != VPC_NACL_NO_LIST &&
	    !vpc_nacl_allows(&t->nacls[ingress], m->pkt.proto, m->ip->src_addr, dport,
			     m->pkt.icmp_type, m->pkt.icmp_code))
		return VPC_DROP_NACL_INGRESS;
	return VPC_DROP_NONE;
}

#endif /* VPC_STAGE_NACL_H */
