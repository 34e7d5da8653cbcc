/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-3-Clause) */
/*
 * stage_flowlog.h -- flow logs in the XDP engine (common/vpc_flow.h; the
 * DPDK engine's dataplane/stage_flowlog.h and flowlog.c).
 *
 * Reads: the packet's IPv4 total length, the clock, the interfaces a
 * direction enters from and leaves to.  Sets: the direction's counters in
 * the value under that direction's key (each direction is its own
 * element).  Records go to user space through the flow_ring ring buffer
 * (never waiting: a full ring loses the record, counted per interface
 * and said by a SKIPDATA record).  A rejected packet of no connection
 * gives one REJECT record, rate-limited per interface (flow_limits).
 * Only when user space has set flow_interval; the verdict never changes.
 *
 * The work that is not per packet -- emitting a closed interval, a
 * deleted connection, a rejected packet -- is in global functions,
 * verified once each, so the programs' paths and the slow program's
 * stack grow only by a call.
 */
#ifndef VPC_XDP_STAGE_FLOWLOG_H
#define VPC_XDP_STAGE_FLOWLOG_H

#include "vpc_flow.h"

__u32 flow_interval = 0;	/* s; 0: flow logs off (user space sets it) */
__u64 flow_lost = 0;		/* records lost with no interface to say it */

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 1 << 20);
} flow_ring SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, VPC_XDP_FLOW_IFACES);
	__type(key, __u32);
	__type(value, struct vpc_xdp_flow_limit);
} flow_limits SEC(".maps");

/* A record of iface between start and end could not be written. */
static __always_inline void
flow_lose(__u32 iface, __u32 start, __u32 end)
{
	struct vpc_xdp_flow_limit *lim = bpf_map_lookup_elem(&flow_limits, &iface);

	if (lim == NULL) {
		__sync_fetch_and_add(&flow_lost, 1);
		return;
	}
	if (lim->skipped == 0)
		lim->skip_first = start;
	lim->skipped++;
	if (end > lim->skip_last)
		lim->skip_last = end;
}

/* The records of one value's counters (its direction), at each local
 * interface it crosses. */
static __always_inline void
flow_emit(const struct vpc_xdp_ct *v)
{
	const struct vpc_ct_key *in = &v->self, *rev = &v->other;

	for (unsigned int k = 0; k < 2; k++) {
		struct vpc_flow_rec *r = bpf_ringbuf_reserve(&flow_ring, sizeof(*r), 0);
		if (r == NULL) {
			__u32 iface = vpc_flow_iface(&v->flow, k);
			if (v->flow.packets != 0 && iface != VPC_FLOW_IFACE_NONE)
				flow_lose(iface, v->flow.first,
					  (__u32)(v->flow.last_ns / 1000000000ull));
			continue;
		}
		if (vpc_flow_record(&v->flow, k, (__u8)in->ctx_proto, in->src, in->dst, in->sport,
				    in->dport, rev->dst, rev->src, rev->dport, rev->sport, r))
			bpf_ringbuf_submit(r, 0);
		else
			bpf_ringbuf_discard(r, 0);
	}
}

/* A connection removed: both directions' counters (v: direction 0's
 * value, still readable after its delete).  A global function. */
__attribute__((noinline)) int
vpc_flow_gone(struct vpc_xdp_ct *v)
{
	if (v == NULL)
		return 0;
	flow_emit(v);
	struct vpc_ct_key rev = v->other;
	struct vpc_xdp_ct *rv = bpf_map_lookup_elem(&ct, &rev);
	if (rv != NULL && rv->dir == 1 && vpc_ct_key_eq(&rv->other, &v->self))
		flow_emit(rv);
	return 0;
}

/*
 * Direction v's interval has closed (or none began): its records, then a
 * new interval from now_s, entering from in_iface, leaving by out_slot
 * (its interface in table set set).  A global function.
 */
__attribute__((noinline)) int
vpc_flow_roll(struct vpc_xdp_ct *v, __u32 set, __u32 in_iface, __u32 out_slot, __u32 now_s)
{
	__u32 interval = flow_interval;

	if (v == NULL || interval == 0)
		return 0;
	flow_emit(v);
	__u32 out = VPC_FLOW_IFACE_NONE;
	void *pm = bpf_map_lookup_elem(&set_ports, &set);
	const struct vpc_xdp_port *po = pm != NULL ? bpf_map_lookup_elem(pm, &out_slot) : NULL;
	if (po != NULL && po->present && !po->is_uplink)
		out = po->iface;
	vpc_flow_start(&v->flow, now_s, interval, in_iface, out);
	return 0;
}

/* The local interface behind a source, or VPC_FLOW_IFACE_NONE (the
 * uplink, an interface on another host). */
static __always_inline __u32
flow_src_iface(const struct vpc_xdp_port *pi)
{
	return pi->is_uplink || pi->fi.tunnel ? VPC_FLOW_IFACE_NONE : pi->iface;
}

/* Count a packet of len bytes in v's direction (flow logs on). */
static __always_inline void
flow_count(struct vpc_xdp_ct *v, __u32 set, const struct vpc_xdp_port *pi, __u32 out_slot,
	   __u32 len, __u64 now)
{
	/* (seconds only when an interval closes: a division per packet
	 * would be a real divide here) */
	if (VPC_UNLIKELY(now >= (__u64)v->flow.until * 1000000000ull))
		vpc_flow_roll(v, set, flow_src_iface(pi), out_slot, (__u32)(now / 1000000000ull));
	vpc_flow_add(&v->flow, now, len);
}

/* The same for the packet in ctx of the direction whose key is key,
 * leaving by out_slot of table set set (set_slot: set << 16 | out_slot).
 * A global function: the slow program's refresh keeps nothing more live
 * (its frame is at Debian 12's limit). */
__attribute__((noinline)) int
vpc_flow_count_key(struct xdp_md *ctx, const struct vpc_ct_key *key,
		   const struct vpc_xdp_port *pi, __u32 set_slot, __u64 now)
{
	void *data = (void *)(long)ctx->data;
	void *end = (void *)(long)ctx->data_end;
	struct iphdr *ip = data + VPC_OFF_IP;

	if (key == NULL || pi == NULL)
		return 0;
	struct vpc_ct_key k = *key;	/* helpers take keys on the stack */
	struct vpc_xdp_ct *v = bpf_map_lookup_elem(&ct, &k);
	if (v != NULL && (void *)(ip + 1) <= end)
		flow_count(v, set_slot >> 16, pi, set_slot & 0xffff, bpf_ntohs(ip->tot_len), now);
	return 0;
}

/* What iface lost, as a SKIPDATA record (kept for later if the ring is
 * full). */
static __always_inline void
flow_put_skipped(struct vpc_xdp_flow_limit *lim, __u32 iface)
{
	if (lim->skipped == 0)
		return;
	struct vpc_flow_rec *r = bpf_ringbuf_reserve(&flow_ring, sizeof(*r), 0);
	if (r == NULL)
		return;
	__builtin_memset(r, 0, sizeof(*r));
	r->start = lim->skip_first;
	r->end = lim->skip_last;
	r->iface = iface;
	r->action = VPC_FLOW_SKIPDATA;
	r->n_skipped = lim->skipped;
	bpf_ringbuf_submit(r, 0);
	lim->skipped = 0;
}

/*
 * The packet in ctx (its IPv4 header at VPC_OFF_IP), dropped for reason:
 * when it is a reject, one REJECT record at iface -- or, when that is
 * none (from the uplink), at rx, the interface it was for, if rx is on
 * this host (in table set set) -- at most VPC_FLOW_REJECT_PER_S a second.
 * set_reason: set << 8 | reason (a global function takes five
 * arguments).  A global function: the slow program's frame stays as it
 * was (Debian 12's verifier allows its chain 384 bytes).
 */
__attribute__((noinline)) int
vpc_flow_reject(struct xdp_md *ctx, __u32 iface, __u32 rx, __u32 set_reason, __u32 now_s)
{
	void *data = (void *)(long)ctx->data;
	void *end = (void *)(long)ctx->data_end;
	struct iphdr *ip = data + VPC_OFF_IP;
	__u32 set = set_reason >> 8;

	if (!vpc_flow_rejected(set_reason & 0xff))
		return 0;
	if (iface == VPC_FLOW_IFACE_NONE && rx != VPC_INDEX_NONE) {
		void *im = bpf_map_lookup_elem(&set_ifaces, &set);
		const struct vpc_iface_rec *x = im != NULL ? bpf_map_lookup_elem(im, &rx) : NULL;
		if (x != NULL && x->tunnel == 0)
			iface = rx;
	}
	if (iface == VPC_FLOW_IFACE_NONE)
		return 0;
	if ((void *)(ip + 1) > end)
		return 0;
	__u16 *ports = (void *)(ip + 1);
	__u16 sport = 0, dport = 0;
	if ((ip->protocol == IPPROTO_TCP || ip->protocol == IPPROTO_UDP) &&
	    (void *)(ports + 2) <= end) {
		sport = ports[0];
		dport = ports[1];
	}
	struct vpc_xdp_flow_limit *lim = bpf_map_lookup_elem(&flow_limits, &iface);
	if (lim == NULL) {
		__sync_fetch_and_add(&flow_lost, 1);
		return 0;
	}
	if (lim->second != now_s) {
		flow_put_skipped(lim, iface);
		lim->second = now_s;
		lim->n = 0;
	}
	if (lim->n >= VPC_FLOW_REJECT_PER_S) {
		flow_lose(iface, now_s, now_s);
		return 0;
	}
	lim->n++;
	struct vpc_flow_rec *r = bpf_ringbuf_reserve(&flow_ring, sizeof(*r), 0);
	if (r == NULL) {
		flow_lose(iface, now_s, now_s);
		return 0;
	}
	__builtin_memset(r, 0, sizeof(*r));
	r->bytes = bpf_ntohs(ip->tot_len);
	r->packets = 1;
	r->start = now_s;
	r->end = now_s;
	r->iface = iface;
	r->src = ip->saddr;
	r->dst = ip->daddr;
	r->sport = sport;
	r->dport = dport;
	r->proto = ip->protocol;
	r->action = VPC_FLOW_REJECT;
	bpf_ringbuf_submit(r, 0);
	return 0;
}

/* The same for a packet from port slot (of table set set) that the fast
 * program dropped for reason r (any other r, its slow-path mark
 * included, is no reject).  A global function. */
__attribute__((noinline)) int
vpc_flow_reject_port(struct xdp_md *ctx, __u32 set, __u32 slot, __u32 r, __u64 now)
{
	if (!vpc_flow_rejected(r))
		return 0;
	void *pm = bpf_map_lookup_elem(&set_ports, &set);
	const struct vpc_xdp_port *pi = pm != NULL ? bpf_map_lookup_elem(pm, &slot) : NULL;
	if (pi == NULL)
		return 0;
	return vpc_flow_reject(ctx, flow_src_iface(pi), VPC_INDEX_NONE, r,
			       (__u32)(now / 1000000000ull));
}

#endif /* VPC_XDP_STAGE_FLOWLOG_H */
