/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * stage_sg.h -- security groups: does a connection pass the sender's egress and the
 * receiver's ingress rules (sg.h's classifiers)?
 *
 * Reads: meta, the decision (who receives), the classifiers.
 * Sets:  nothing: allowed or not.
 * Next:  open (stage_open.h), or a drop (sg-denied, icmp-unrelated).
 */
#ifndef VPC_STAGE_SG_H
#define VPC_STAGE_SG_H

#include "pipeline_priv.h"
#include "sg.h"
#include "vpc_icmp.h"

/*
 * Does a connection from sender to receiver pass the sender's egress and
 * the receiver's ingress rules?  (VPC_INDEX_NONE: the internet, which has
 * no rules.)  egress_peer: the destination as the sender addressed it;
 * ingress_peer: the source as the receiver sees it.
 */
static bool
sg_allows(const struct vpc_tables *t, uint32_t sender, uint32_t receiver, uint8_t proto,
	  rte_be32_t egress_peer, rte_be32_t ingress_peer, rte_be16_t port, rte_be16_t in_port,
	  uint8_t icmp_type, uint8_t icmp_code)
{
	uint16_t p = rte_be_to_cpu_16(port);
	uint16_t ip = rte_be_to_cpu_16(in_port);

	/* Each host applies its own interfaces' rules: a sender's egress
	 * where it runs, a receiver's ingress where it runs (AWS's). */
	if (sender != VPC_INDEX_NONE && !t->ifaces[sender].tunnel) {
		bool ok = vpc_sg_allows(t->sg, t->ifaces[sender].sg_class[VPC_DIR_EGRESS], proto,
					rte_be_to_cpu_32(egress_peer), p, icmp_type, icmp_code);
		VPC_TRACE(VPC_TR_SG, VPC_TR_SG_EGRESS | ok << 8, sender, rte_be_to_cpu_32(egress_peer),
			  VPC_TR_SG_KEY(proto, p, icmp_type, icmp_code));
		if (!ok)
			return false;
	}
	if (receiver != VPC_INDEX_NONE && !t->ifaces[receiver].tunnel) {
		bool ok = vpc_sg_allows(t->sg, t->ifaces[receiver].sg_class[VPC_DIR_INGRESS], proto,
					rte_be_to_cpu_32(ingress_peer), ip, icmp_type, icmp_code);
		VPC_TRACE(VPC_TR_SG, VPC_TR_SG_INGRESS | ok << 8, receiver,
			  rte_be_to_cpu_32(ingress_peer), VPC_TR_SG_KEY(proto, ip, icmp_type, icmp_code));
		if (!ok)
			return false;
	}
	return true;
}

/*
 * The rules for the connection a packet belongs to, seen from the packet:
 * forward (dir 0), it is the connection's own direction; reverse (dir 1),
 * the roles swap -- the original sender is this packet's receiver.
 */
static bool
sg_allows_packet(const struct vpc_tables *t, const struct vpc_port_info *pi,
		 const struct meta *m, const struct decision *d, unsigned int dir)
{
	uint32_t here = pi->is_uplink ? VPC_INDEX_NONE : pi->iface;

	if (dir == 0) {
		/* Through a load balancer: its own groups see the packet
		 * as it reaches the listener, the target's the translated
		 * one (the client's address, the target's port). */
		if (unlikely(d->act.path == VPC_PATH_LB)) {
			const struct vpc_lb_rec *lb = &t->lbs[d->lb];
			if (lb->has_sgs) {
				bool ok = vpc_sg_allows(t->sg, lb->sg_class, m->pkt.proto,
							rte_be_to_cpu_32(m->ip->src_addr),
							rte_be_to_cpu_16(m->pkt.dport), 0, 0);
				VPC_TRACE(VPC_TR_SG, VPC_TR_SG_LB | ok << 8, d->lb,
					  rte_be_to_cpu_32(m->ip->src_addr),
					  VPC_TR_SG_KEY(m->pkt.proto, rte_be_to_cpu_16(m->pkt.dport), 0, 0));
				if (!ok)
					return false;
			}
			return sg_allows(t, here, d->receiver, m->pkt.proto, m->ip->dst_addr,
					 m->ip->src_addr, m->pkt.dport, d->act.nat_port, 0, 0);
		}
		return sg_allows(t, here, d->receiver, m->pkt.proto, m->ip->dst_addr,
				 m->ip->src_addr, m->pkt.dport, m->pkt.dport, m->pkt.icmp_type,
				 m->pkt.icmp_code);
	}
	return sg_allows(t, d->receiver, here, m->pkt.proto, m->ip->src_addr, m->ip->dst_addr,
			 m->pkt.sport, m->pkt.sport, vpc_icmp_peer_type(m->pkt.icmp_type),
			 m->pkt.icmp_code);
}

#endif /* VPC_STAGE_SG_H */
