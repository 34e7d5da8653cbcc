/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * stage_flowlog.h -- flow-log counting (common/vpc_flow.h, flowlog.h).
 *
 * Reads: the packet's IPv4 total length, the burst's clock in seconds, the
 * connection's direction and its action's egress port.  Sets: that
 * direction's counters in the entry (line 2); when its interval has
 * closed, the closed counters go to this lcore's ring first.  A rejected
 * packet of no connection: one REJECT record (rate-limited).  Only with
 * flow logs on (p->fl); the packet's verdict never changes here.
 */
#ifndef VPC_STAGE_FLOWLOG_H
#define VPC_STAGE_FLOWLOG_H

#include "pipeline_priv.h"

/* The local interface behind a source, or VPC_FLOW_IFACE_NONE (the
 * uplink, an interface on another host). */
static inline uint32_t
flow_src_iface(const struct vpc_port_info *pi)
{
	return pi->is_uplink || pi->fi->tunnel ? VPC_FLOW_IFACE_NONE : pi->iface;
}

/* Count packet m (len: its IPv4 total length) in direction dir of e. */
static inline __attribute__((always_inline)) void
flow_count(struct vpc_pipeline *p, const struct vpc_port_info *pi, struct vpc_ct_entry *e,
	   unsigned int dir, uint32_t len)
{
	struct vpc_flow_count *c = &e->flow[dir];

	if (unlikely(p->now_s >= c->until)) {
		/* The interval closed (or none began): its records, then a
		 * new one where this packet enters and leaves. */
		vpc_flowlog_conn(p->fl, e, dir);
		uint16_t out = e->act[dir].out_port;
		vpc_flow_start(c, p->now_s, p->fl_interval, flow_src_iface(pi),
			       out < p->t->n_ports ? p->t->ports[out].iface : VPC_FLOW_IFACE_NONE);
	}
	vpc_flow_add(c, p->now, len);
}

/* Packet m, dropped for reason: a REJECT record at the interface it came
 * from, or else at the local interface it was for. */
static inline void
flow_reject(struct vpc_pipeline *p, const struct vpc_port_info *pi, const struct meta *m,
	    uint8_t reason)
{
	if (!vpc_flow_rejected(reason))
		return;
	uint32_t iface = flow_src_iface(pi);
	uint32_t rx = p->fl_receiver;
	if (iface == VPC_FLOW_IFACE_NONE && rx != VPC_INDEX_NONE && p->t->ifaces[rx].tunnel == 0)
		iface = rx;
	if (iface == VPC_FLOW_IFACE_NONE)
		return;
	vpc_flowlog_reject(p->fl, iface, m->pkt.proto, m->ip->src_addr, m->ip->dst_addr,
			   m->pkt.sport, m->pkt.dport, rte_be_to_cpu_16(m->ip->total_length),
			   p->now_s);
}

#endif /* VPC_STAGE_FLOWLOG_H */
