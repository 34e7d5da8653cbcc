/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * vpc_trace.h -- what a traced packet's stages record (vpcctl trace,
 * vpc-replay --trace): a list of events, one per decision, in the order
 * the stages take them.  The engines' stages and the shared decisions in
 * common/ call VPC_TRACE() at each point; lib/trace.c turns a list into
 * text (the same for both engines: the same events in the same order).
 *
 * VPC_TRACE() costs nothing where it is not defined by the includer: the
 * DPDK engine's forwarding pipeline compiles it away, its traced twin
 * (dataplane/pipeline_trace.c, the same source compiled once more)
 * appends to a buffer; the XDP program appends when its load-time
 * constant trace_mode is set (the verifier removes the code otherwise).
 *
 * Freestanding (no libc, no DPDK, no libbpf): the XDP program includes it.
 * A buffer belongs to the one trace that fills it.
 */
#ifndef VPC_TRACE_H
#define VPC_TRACE_H

#include <stdint.h>

enum vpc_trace_kind {
	VPC_TR_NONE = 0,
	/* the source checks passed: a = the port's interface, or VPC_INDEX_NONE (uplink) */
	VPC_TR_SOURCE = 1,
	/* the connection table: a = 0 miss, 1 hit, 2 hit but expired
	 * (deleted); b = the direction; c = the action current (1) or
	 * stale/other (0); d = the entry's TCP state (enum vpc_ct_state) */
	VPC_TR_CONN = 2,
	/* a route lookup: a = the route table, b = the destination (host
	 * order), c = the next hop's kind (enum vpc_nh_kind), d = its index */
	VPC_TR_ROUTE = 3,
	/* an L2 lookup: a = the VPC, b = the interface found or
	 * VPC_INDEX_NONE */
	VPC_TR_L2 = 4,
	/* an elastic IP: b = the address (host order), c = what owns it
	 * (an interface, VPC_EIP_NATGW | gateway, VPC_EIP_LB | balancer),
	 * or VPC_INDEX_NONE */
	VPC_TR_EIP = 5,
	/* a security-group check: a = VPC_TR_SG_* side | allowed << 8,
	 * b = the interface (or balancer), c = the peer address (host
	 * order), d = protocol << 16 | port (host order; ICMP: type << 8 |
	 * code) */
	VPC_TR_SG = 6,
	/* a network ACL's list: a = allowed, b = the list's index
	 * (vpc_nacl_list_index), c = the position of the rule that matched,
	 * or the list's length when none did (the implicit deny) */
	VPC_TR_NACL = 7,
	/* a load balancer's choice: a = the balancer, b = its target group,
	 * c = the target (index into targets) or VPC_INDEX_NONE */
	VPC_TR_LB = 8,
	/* a new connection tracked: a = 1 created, 0 not (the verdict says
	 * why) */
	VPC_TR_OPEN = 9,
	/* TCP tracking of a known connection: a = the state before, b =
	 * after, c = the verdict (0 passes) */
	VPC_TR_TCP = 10,
	VPC_TR_KIND_COUNT
};

/* VPC_TR_SG sides */
#define VPC_TR_SG_INGRESS 0	/* the receiver's ingress rules (VPC_DIR_INGRESS) */
#define VPC_TR_SG_EGRESS 1	/* the sender's egress rules (VPC_DIR_EGRESS) */
#define VPC_TR_SG_LB 2		/* a load balancer's own groups (ingress) */

/* VPC_TR_SG's d: what the rules matched besides the peer */
#define VPC_TR_SG_KEY(proto, port, type, code)					\
	((uint32_t)(proto) << 16 |						\
	 ((proto) == 1 ? (uint32_t)(type) << 8 | (uint32_t)(code) : (uint32_t)(port)))

struct vpc_trace_ev {
	uint16_t kind;		/* enum vpc_trace_kind */
	uint16_t a;
	uint32_t b, c, d;
};

#define VPC_TRACE_MAX 32	/* a power of two */

struct vpc_trace_buf {
	uint32_t n;		/* events recorded (at most VPC_TRACE_MAX kept) */
	uint32_t pad;
	struct vpc_trace_ev ev[VPC_TRACE_MAX];
};

#ifndef VPC_TRACE
#define VPC_TRACE(kind, a, b, c, d) do { } while (0)
#endif

#endif /* VPC_TRACE_H */
