/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * vpc_flow.h -- flow logs (AWS VPC Flow Logs, version 2 default format):
 * the per-direction counters a connection entry carries, and the record a
 * worker hands to the writer.  Freestanding (no libc, no DPDK, no libbpf):
 * both engines compile it.
 *
 * Design
 * ------
 * Each direction of a connection counts its packets and bytes (the IPv4
 * total length, as AWS counts) and the Unix seconds of its first and last
 * packet in the current aggregation interval.  Intervals are aligned to
 * multiples of the interval on the dataplane's clock (capture time in
 * replay): [k * I, (k + 1) * I).  A direction's interval closes when its
 * next packet arrives at or after the interval's end (`until`): the worker
 * receiving that packet emits the closed counters as records and starts a
 * new interval.  The counters of a connection that goes idle are emitted
 * when it is deleted (expiry, reset, flush) and, in replay, at the end of
 * the capture.  One emission gives up to two records, one at each local
 * interface the direction crosses (AWS logs at each ENI): at the interface
 * it enters from, with the 5-tuple as it entered; at the interface it
 * leaves to, with the 5-tuple as it leaves (after NAT).
 *
 * Thread-safety: a direction's counters are written only by the worker
 * that receives that direction's packets (one port's queue belongs to one
 * lcore); a deleter reads them after it has won the entry.
 */
#ifndef VPC_FLOW_H
#define VPC_FLOW_H

#include <stdint.h>

#include "vpc_reasons.h"

#define VPC_FLOW_VERSION 2
#define VPC_FLOW_INTERVAL_DEFAULT 60	/* s: AWS's default; 10 is allowed */
/* Rejected packets logged per interface per second (per worker): a flood
 * cannot fill the disk; what is not logged is counted and said in a
 * SKIPDATA record. */
#define VPC_FLOW_REJECT_PER_S 10
#define VPC_FLOW_IFACE_NONE 0xffffffffu

/* One direction's counters, in a connection entry.  32 bytes.  The last
 * packet's time is kept in ns, as the clock gives it: seconds per packet
 * would cost the XDP engine a division per packet (BPF has no high
 * multiply: clang emits a real divide); seconds are taken when a record
 * is made. */
struct vpc_flow_count {
	uint64_t bytes;
	uint64_t last_ns;	/* the last packet */
	uint32_t packets;
	uint32_t first;		/* s: first packet of the interval */
	uint32_t until;		/* s: the interval's end; 0: none started */
	uint16_t in_iface;	/* the interface it enters from, or */
	uint16_t out_iface;	/* leaves to; VPC_FLOW_IFACE16_NONE: none
				 * (or an index past 65,534: not logged) */
};
#define VPC_FLOW_IFACE16_NONE 0xffff
_Static_assert(sizeof(struct vpc_flow_count) == 32, "flow counters layout");

enum vpc_flow_action {
	VPC_FLOW_ACCEPT = 0,
	VPC_FLOW_REJECT = 1,
	VPC_FLOW_SKIPDATA = 2,	/* records were lost: n_skipped of them */
};

/* A record, from a worker to the writer.  48 bytes, explicit padding. */
struct vpc_flow_rec {
	uint64_t bytes;
	uint32_t packets;
	uint32_t start;		/* Unix seconds */
	uint32_t end;
	uint32_t iface;		/* the interface (the tables' index) */
	uint32_t src;		/* network order */
	uint32_t dst;
	uint16_t sport;		/* network order; 0 for ICMP */
	uint16_t dport;
	uint8_t proto;
	uint8_t action;		/* enum vpc_flow_action */
	uint16_t pad;
	uint32_t n_skipped;	/* SKIPDATA: records not written */
	uint32_t pad2;
};
_Static_assert(sizeof(struct vpc_flow_rec) == 48, "flow record layout");

/* The end of the interval now_s falls in. */
static inline __attribute__((always_inline)) uint32_t
vpc_flow_until(uint32_t now_s, uint32_t interval)
{
	return now_s - now_s % interval + interval;
}

/* Start a new interval at now_s (after the closed one was emitted). */
static inline __attribute__((always_inline)) void
vpc_flow_start(struct vpc_flow_count *c, uint32_t now_s, uint32_t interval, uint32_t in_iface,
	       uint32_t out_iface)
{
	c->bytes = 0;
	c->packets = 0;
	c->first = now_s;
	c->until = vpc_flow_until(now_s, interval);
	c->in_iface = in_iface < VPC_FLOW_IFACE16_NONE ? (uint16_t)in_iface : VPC_FLOW_IFACE16_NONE;
	c->out_iface = out_iface < VPC_FLOW_IFACE16_NONE ? (uint16_t)out_iface : VPC_FLOW_IFACE16_NONE;
}

/* Count one packet of len bytes at now_ns (the caller has started an
 * interval). */
static inline __attribute__((always_inline)) void
vpc_flow_add(struct vpc_flow_count *c, uint64_t now_ns, uint32_t len)
{
	c->packets++;
	c->bytes += len;
	c->last_ns = now_ns;
}

/* Interface k (0: it enters from, 1: it leaves to), or VPC_FLOW_IFACE_NONE. */
static inline __attribute__((always_inline)) uint32_t
vpc_flow_iface(const struct vpc_flow_count *c, unsigned int k)
{
	uint16_t i = k == 0 ? c->in_iface : c->out_iface;
	return i == VPC_FLOW_IFACE16_NONE ? VPC_FLOW_IFACE_NONE : i;
}

/* Record k (0: at the interface it enters from, 1: at the one it leaves
 * to) of one direction's counters, into *r.  in: the 5-tuple as it
 * entered (its key's fields), out: as it leaves (the other direction's
 * key, reversed).  0 when there is no such record. */
static inline __attribute__((always_inline)) int
vpc_flow_record(const struct vpc_flow_count *c, unsigned int k, uint8_t proto, uint32_t in_src,
		uint32_t in_dst, uint16_t in_sport, uint16_t in_dport, uint32_t out_src,
		uint32_t out_dst, uint16_t out_sport, uint16_t out_dport, struct vpc_flow_rec *r)
{
	uint32_t iface = vpc_flow_iface(c, k);

	if (c->packets == 0 || iface == VPC_FLOW_IFACE_NONE)
		return 0;
	r->bytes = c->bytes;
	r->packets = c->packets;
	r->start = c->first;
	r->end = (uint32_t)(c->last_ns / 1000000000ull);
	r->iface = iface;
	r->src = k == 0 ? in_src : out_src;
	r->dst = k == 0 ? in_dst : out_dst;
	r->sport = proto == 1 ? 0 : k == 0 ? in_sport : out_sport;
	r->dport = proto == 1 ? 0 : k == 0 ? in_dport : out_dport;
	r->proto = proto;
	r->action = VPC_FLOW_ACCEPT;
	r->pad = 0;
	r->n_skipped = 0;
	r->pad2 = 0;
	return 1;
}

/* A drop that flow logs record as REJECT: the rules (groups, network
 * ACLs), the route, or an unrelated ICMP error refused the packet. */
static inline __attribute__((always_inline)) int
vpc_flow_rejected(unsigned int reason)
{
	return reason == VPC_DROP_SG_DENIED || reason == VPC_DROP_NACL_EGRESS ||
	       reason == VPC_DROP_NACL_INGRESS || reason == VPC_DROP_NO_ROUTE ||
	       reason == VPC_DROP_BLACKHOLE || reason == VPC_DROP_ICMP_UNRELATED;
}

#endif /* VPC_FLOW_H */
