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

#include <rte_arp.h>
#include <rte_ether.h>
#include <rte_fib.h>
#include <rte_hash.h>
#include <rte_icmp.h>
#include <rte_ip.h>
#include <rte_tcp.h>
#include <rte_udp.h>

#include "conntrack.h"
#include "pipeline.h"
#include "tables.h"

struct vpc_pipeline {
	const struct vpc_tables *t;
	struct vpc_ct *ct;	/* shared by every pipeline of the host */
	struct vpc_stats stats;
};

/* What the parse stage learned about one packet. */
enum meta_kind { META_DROP, META_ARP, META_IPV4 };

struct meta {
	uint8_t kind;
	uint8_t reason;		/* META_DROP */
	uint8_t proto;
	uint8_t tcp_flags;
	struct rte_ether_hdr *eth;
	struct rte_ipv4_hdr *ip;
	uint8_t *l4;
	uint16_t l4_len;	/* bytes of IP payload in the frame */
	rte_be16_t sport, dport;	/* conntrack ports (see ct_key) */
	uint8_t icmp_type, icmp_code;
	uint8_t icmp_error;	/* unreachable, time exceeded, parameter problem */
};

/* The slow path's answer for one packet: its action, and who receives it
 * (an interface, or VPC_INDEX_NONE for the internet). */
struct decision {
	struct vpc_ct_action act;
	uint32_t receiver;
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
set_reply(struct vpc_verdict *v, uint16_t port)
{
	v->action = VPC_ACT_REPLY;
	v->path = VPC_PATH_ARP_REPLY;
	v->reason = VPC_DROP_NONE;
	v->out_port = port;
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
