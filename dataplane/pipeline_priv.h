/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * pipeline_priv.h -- what the DPDK pipeline's stages share: the pipeline
 * object, the parse stage's record of a packet (struct meta), the slow
 * path's decision, verdict setters.  Included by pipeline.c alone (every
 * stage is a header of static inline functions, so the burst loop
 * inlines them); one pipeline object per lcore, never shared.
 */
#ifndef VPC_PIPELINE_PRIV_H
#define VPC_PIPELINE_PRIV_H

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include <rte_arp.h>
#include <rte_ether.h>
#include <rte_fib.h>
#include <rte_hash.h>
#include <rte_icmp.h>
#include <rte_ip.h>
#include <rte_tcp.h>
#include <rte_udp.h>

#include "cksum.h"
#include "conntrack.h"
#include "vpc_trace.h"
#include "flowlog.h"

/* The DPDK engine's header-checksum check: five 32-bit loads into a
 * 64-bit sum, folded (x86 loads unaligned words at no cost). */
static inline bool
ipv4_hdr_sum_ok32(const uint8_t *b)
{
	uint64_t sum = 0;
	for (int i = 0; i < 20; i += 4) {
		uint32_t w;
		memcpy(&w, b + i, 4);
		sum += w;
	}
	sum = (sum & 0xffffffff) + (sum >> 32);
	sum = (sum & 0xffffffff) + (sum >> 32);
	return vpc_csum_fold((uint32_t)sum) == 0xffff;
}
#define VPC_IPV4_HDR_SUM_OK(ip) ipv4_hdr_sum_ok32(ip)
#include "vpc_parse.h"
#include "vpc_frag.h"
#include "pipeline.h"
#include "tables.h"

/* Who sent frames from the overlay (stage_source.h's overlay_sender), as
 * found for a (VPC, host, source MAC, source IP) under a tables
 * generation: a direct-mapped cache of VPC_SENDER_SLOTS, per lcore. */
#define VPC_SENDER_SLOTS 256
struct vpc_sender_slot {
	uint32_t gen;		/* 0: empty */
	uint32_t vpc;
	uint32_t host;
	rte_be32_t ip;
	struct rte_ether_addr mac;
	uint16_t pad;
	uint32_t iface;
};

struct vpc_pipeline {
	const struct vpc_tables *t;
	struct vpc_ct *ct;	/* shared by every pipeline of the host */
	struct vpc_stats stats;
	/* Datagrams whose first fragment this lcore forwarded (vpc_frag.h):
	 * a port's receive queue is one lcore's, so are its fragments. */
	struct vpc_frag_rec frags[VPC_FRAG_SLOTS];
	struct vpc_sender_slot senders[VPC_SENDER_SLOTS];
	/* [tgroup]: this lcore's round-robin turn of each target group */
	uint32_t *lb_turn;
	uint32_t n_lb_turn;
	/* Flow logs (flowlog.h); NULL: off, nothing counted. */
	struct vpc_flowlog *fl;
	uint32_t fl_interval;	/* s */
	uint32_t now_s;		/* the burst's clock in seconds */
	uint64_t now;		/* and in ns */
	uint32_t fl_receiver;	/* the slow path's receiver of the packet in
				 * hand: where a rejected packet from the
				 * uplink is logged */
};

/* What the parse stage learned about one packet: the shared record
 * (common/vpc_parse.h), and the headers' addresses in the mbuf. */
struct meta {
	struct vpc_pkt pkt;
	struct rte_mbuf *mb;	/* the frame (apply may put the overlay's header in front) */
	struct rte_ether_hdr *eth;
	struct rte_ipv4_hdr *ip;
	uint8_t *l4;
};

/* The slow path's answer for one packet: its action, and who receives it
 * (an interface, or VPC_INDEX_NONE for the internet). */
struct decision {
	struct vpc_ct_action act;
	uint32_t receiver;
	uint32_t lb;		/* to a load balancer's address: its index (decide
				 * found it; lb_open chooses the target); else
				 * VPC_INDEX_NONE */
};

static inline void
set_drop(struct vpc_verdict *v, uint8_t reason)
{
	v->action = VPC_ACT_DROP;
	v->path = VPC_PATH_NONE;
	v->reason = reason;
	v->out_port = UINT16_MAX;
}

static inline void
set_forward(struct vpc_verdict *v, uint16_t port, uint8_t path)
{
	v->action = VPC_ACT_FORWARD;
	v->path = path;
	v->reason = VPC_DROP_NONE;
	v->out_port = port;
}

static inline void
set_reply(struct vpc_verdict *v, uint16_t port, uint8_t path)
{
	v->action = VPC_ACT_REPLY;
	v->path = path;
	v->reason = VPC_DROP_NONE;
	v->out_port = port;
}

/* The interface of VPC vpc whose MAC is mac, or VPC_INDEX_NONE. */
static inline uint32_t
l2_iface(const struct vpc_tables *t, uint32_t vpc, const struct rte_ether_addr *mac)
{
	struct vpc_l2_key k = { .vpc = vpc };
	void *data;

	rte_ether_addr_copy(mac, &k.mac);
	return rte_hash_lookup_data(t->l2, &k, &data) < 0 ? VPC_INDEX_NONE : (uint32_t)(uintptr_t)data;
}

static inline uint64_t
timeout_ns(const struct vpc_tables *t, uint16_t vpc, enum vpc_timeout_id id)
{
	return t->timeouts_ns[vpc * VPC_TO_COUNT + id];
}

/* What the slow path may answer besides a drop reason (which fits a byte). */
enum vpc_slow_result {
	VPC_SLOW_NOW_TRACKED = 0x100,	/* an earlier packet of the burst opened it */
};

#endif /* VPC_PIPELINE_PRIV_H */
