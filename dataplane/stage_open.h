/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * stage_open.h -- open: connection tracking -- a new connection's entry, and what an
 * established one's packets change.
 *
 * Reads: meta (5-tuple, TCP header through the shared tracker
 *        common/vpc_tcp.h), the decision, the connection table.
 * Sets:  keys (forward, and the reply's as replies will arrive), the
 *        tracking record, the expiry, direction 0's action; for a tracked
 *        TCP connection, its state and windows.
 * Next:  apply (stage_apply.h); a full table or a conflicting key drops.
 */
#ifndef VPC_STAGE_OPEN_H
#define VPC_STAGE_OPEN_H

#include "pipeline_priv.h"
#include "stage_apply.h"
#include "stage_flowlog.h"
#include "vpc_icmp.h"
#include "vpc_natgw.h"

/* The DPDK engine's own TCP option walker (below), for the shared
 * tracker. */
static uint8_t tcp_wscale(const struct meta *m);
#define VPC_TCP_WSCALE(ctx) tcp_wscale((const struct meta *)(ctx))
#include "vpc_tcp.h"

/* The key the replies of a new connection will arrive with
 * (common/vpc_key.h), in the receiver's context. */
static inline void
ct_reverse_key(struct vpc_ct_key *r, const struct vpc_tables *t, const struct meta *m,
	       const struct decision *d, uint32_t ctx)
{
	uint32_t reply_ctx = d->receiver != VPC_INDEX_NONE ? t->ifaces[d->receiver].ctx : ctx;

	vpc_ct_key_reverse(r, &m->pkt, m->ip->src_addr, m->ip->dst_addr, d->act.nat,
			   d->act.nat_addr, d->act.nat_port, reply_ctx);
}

/*
 * A new connection through a NAT gateway: its port, the first candidate
 * (common/vpc_natgw.h) whose reply key no live connection holds (an
 * expired holder is removed: free, whatever the sweep has reached).  Sets
 * d's nat_port and the reply key; VPC_DROP_NONE, or natgw-ports-exhausted.
 */
static uint8_t
natgw_alloc(struct vpc_pipeline *p, const struct meta *m, struct decision *d,
	    const struct vpc_ct_key *key, uint64_t now, uint32_t ctx, struct vpc_ct_key *rev)
{
	for (uint32_t i = 0; i < VPC_NATGW_PROBES; i++) {
		uint16_t port = vpc_natgw_port(key, i);
		if (port == 0)
			continue;
		d->act.nat_port = port;
		ct_reverse_key(rev, p->t, m, d, ctx);
		uint64_t hit;
		uint32_t data;
		vpc_ct_lookup_bulk(p->ct, rev, 1, &hit, &data);
		if (!(hit & 1))
			return VPC_DROP_NONE;
		if (vpc_ct_entry(p->ct, data >> 1)->expires <= now) {
			vpc_ct_delete(p->ct, data >> 1);
			vpc_ct_stats(p->ct)->expired++;
			return VPC_DROP_NONE;
		}
	}
	return VPC_DROP_NATGW_EXHAUSTED;
}

/* Window scale option of a SYN, or 0xff when absent: the DPDK engine's
 * own option walker (vpc_tcp.h's VPC_TCP_WSCALE). */
static uint8_t
tcp_wscale(const struct meta *m)
{
	const struct rte_tcp_hdr *tcp = (const void *)m->l4;
	const uint8_t *o = m->l4 + sizeof(*tcp);
	uint32_t len = (uint32_t)(tcp->data_off >> 4) * 4 - sizeof(*tcp);

	for (uint32_t i = 0; i < len && i < 40;) {	/* bounded: options <= 40 bytes */
		if (o[i] == 0)
			break;
		if (o[i] == 1) {
			i++;
			continue;
		}
		if (i + 1 >= len || o[i + 1] < 2)
			break;
		if (o[i] == 3 && o[i + 1] == 3 && i + 2 < len)
			return o[i + 2] > 14 ? 14 : o[i + 2];
		i += o[i + 1];
	}
	return 0xff;
}

static inline __attribute__((always_inline)) unsigned int
tcp_update(struct vpc_ct_entry *e, unsigned int dir, const struct meta *m)
{
	struct vpc_tcp_seg s;

	if (unlikely(vpc_tcp_seg_read(m->l4, m->l4 + m->pkt.l4_len, &m->pkt, &s) < 0))
		return VPC_DROP_L4_TRUNCATED;	/* parse checked it: never */
	return vpc_tcp_update(&e->trk, dir, &s, (void *)(uintptr_t)m);
}

static inline __attribute__((always_inline)) uint64_t
entry_timeout(const struct vpc_tables *t, const struct vpc_ct_entry *e, uint16_t vpc)
{
	return vpc_ct_timeout(&e->trk, timeout_ns(t, vpc, vpc_ct_timeout_class(&e->trk)));
}

/*
 * The tracked connection the ICMP error m is about (and the direction the
 * error goes in it), or NULL.  The quoted packet went the other way, so
 * the connection is found by the reverse of the quoted tuple, in the
 * context the error arrived in.
 */
static const struct vpc_ct_entry *
icmp_error_related(const struct vpc_pipeline *p, const struct meta *m, uint32_t ctx,
		   unsigned int *dir)
{
	struct vpc_flow f;

	if (!vpc_icmp_quote_flow(m->l4, m->l4 + m->pkt.l4_len,
				 m->pkt.l4_len - sizeof(struct rte_icmp_hdr), &f))
		return NULL;
	struct vpc_ct_key k;
	vpc_ct_key_of_flow(&k, ctx, &f);
	uint64_t hits;
	uint32_t data;
	vpc_ct_lookup_bulk(p->ct, &k, 1, &hits, &data);
	if (!(hits & 1))
		return NULL;
	*dir = data & 1;
	return vpc_ct_entry(p->ct, data >> 1);
}

/*
 * A packet the groups allow opens its connection: both keys (the reply's
 * as the replies will arrive, after NAT), the tracking record (a TCP
 * connection from its SYN), direction 0's action; then the action is
 * applied.  Direction 1's action is computed from its first packet.
 */
static uint8_t
open_conn(struct vpc_pipeline *p, const struct vpc_port_info *pi, struct meta *m,
	  struct decision *d, const struct vpc_ct_key *key, uint64_t now,
	  struct vpc_verdict *v)
{
	/* Each new connection pays for reclaiming a couple of expired ones
	 * at the sweep's cursor: expiry keeps pace with creation, and
	 * established traffic never touches cold entries. */
	vpc_ct_sweep(p->ct, now, 2);

	struct vpc_ct_key rev;
	if (d->act.path == VPC_PATH_NATGW_EGRESS) {
		uint8_t r = natgw_alloc(p, m, d, key, now, pi->ctx, &rev);
		if (r != VPC_DROP_NONE)
			return r;
	} else {
		ct_reverse_key(&rev, p->t, m, d, pi->ctx);
	}
	/* The entry is built here and published whole by create_conn. */
	struct vpc_ct_entry init;
	memset(&init, 0, offsetof(struct vpc_ct_entry, key));
	memset(&init.flow, 0, sizeof(init.flow));
	switch (m->pkt.proto) {
	case IPPROTO_TCP: {
		struct vpc_tcp_seg seg;
		if (vpc_tcp_seg_read(m->l4, m->l4 + m->pkt.l4_len, &m->pkt, &seg) < 0)
			return VPC_DROP_L4_TRUNCATED;	/* parse checked it: never */
		vpc_tcp_open(&init.trk, &seg, tcp_wscale(m));
		break;
	}
	case IPPROTO_UDP:
		init.trk.state = VPC_CT_UDP;
		break;
	case IPPROTO_ICMP:
		init.trk.state = VPC_CT_ICMP;
		break;
	default:
		init.trk.state = VPC_CT_OTHER;
		break;
	}
	if (d->act.path == VPC_PATH_NATGW_EGRESS)
		init.trk.flags |= VPC_CT_F_NATGW;
	else if (d->act.path == VPC_PATH_LB)
		init.trk.flags |= VPC_CT_F_LB;
	init.act[0] = d->act;
	init.expires = now + entry_timeout(p->t, &init, d->act.vpc);
	int idx = vpc_ct_create_conn(p->ct, key, &rev, now, &init);
	VPC_TRACE(VPC_TR_OPEN, idx >= 0, 0, 0, 0);
	if (idx < 0)
		return idx == -ENOSPC ? VPC_DROP_CT_FULL : VPC_DROP_CT_CONFLICT;
	struct vpc_ct_entry *e = vpc_ct_entry(p->ct, (uint32_t)idx);
	uint32_t len = rte_be_to_cpu_16(m->ip->total_length);
	uint8_t r = apply(p->t, m, &e->act[0], v);
	if (r == VPC_DROP_NONE && p->fl != NULL)
		flow_count(p, pi, e, 0, len);
	return r;
}

#endif /* VPC_STAGE_OPEN_H */
