/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * pipeline.h -- the DPDK engine's packet pipeline, as a library.
 *
 * vpc_pipeline_process() takes a burst of mbufs that arrived on one port,
 * decides for each what happens (forward out of a port, reply on the
 * ingress port, or drop with a named reason), rewrites forwarded and
 * answered packets in place, and counts.  It does no I/O: the replay tool,
 * the tests and the daemon all call this same code and transmit (or free)
 * the packets themselves according to the verdicts.
 *
 * Stages, per burst (see dataplane/README.md):
 *   parse     Ethernet, VLAN, ARP, IPv4 with strict bounds, L4 headers;
 *   source    where it came from (the port's interface or the uplink),
 *             anti-spoofing, ARP responder, MTU, destination class;
 *   lookup    one bulk call per kind: rte_fib for routed packets (the
 *             source subnet's table), rte_hash for switched frames (VPC,
 *             MAC) and for elastic IPs on the uplink;
 *   conntrack one bulk lookup in the connection table: a packet of a known
 *             connection whose cached action is current is rewritten by
 *             it and done (the fast path);
 *   slow path the rest: route / L2 / elastic-IP decision, security groups
 *             (sender's egress, receiver's ingress) for a new connection,
 *             ICMP errors related to tracked connections, the entry and
 *             its cached action, the rewrite.
 *
 * Thread-safety: a vpc_pipeline is one lcore's context (its counters are
 * its own and written without atomics); the vpc_tables it reads are
 * shared and read-only.  vpc_pipeline_set_tables() is called by the owning
 * lcore between bursts.
 */
#ifndef VPC_PIPELINE_H
#define VPC_PIPELINE_H

#include <stdint.h>

#include <rte_mbuf.h>

#include "tables.h"
#include "vpc_names.h"
#include "vpc_reasons.h"

#define VPC_BURST_MAX 32

struct vpc_verdict {
	uint8_t action;		/* enum vpc_action */
	uint8_t path;		/* enum vpc_path, for forward and reply */
	uint8_t reason;		/* enum vpc_drop_reason, for drop */
	uint8_t pad;
	uint16_t out_port;	/* forward: egress; reply: the ingress port */
};

struct vpc_port_stats {
	uint64_t rx_packets, rx_bytes;
	uint64_t tx_packets, tx_bytes;
	uint64_t drops;
};

struct vpc_stats {
	uint64_t packets;
	uint64_t drops[VPC_DROP_COUNT];
	uint64_t paths[VPC_PATH_COUNT];
	struct vpc_port_stats *ports;	/* n_ports */
	uint32_t n_ports;
};

struct vpc_pipeline;
struct vpc_ct;
struct vpc_trace_buf;

/* A pipeline context over tables and the host's connection table (NULL
 * with errno on failure). */
struct vpc_pipeline *vpc_pipeline_create(const struct vpc_tables *tables,
					 struct vpc_ct *ct);
void vpc_pipeline_free(struct vpc_pipeline *p);

/* Switch to new tables (same or larger port count keeps the counters of
 * common ports).  0 or -ENOMEM. */
int vpc_pipeline_set_tables(struct vpc_pipeline *p, const struct vpc_tables *tables);

/*
 * Process n (<= VPC_BURST_MAX) packets received on in_port at time now
 * (nanoseconds on the caller's clock -- capture time in replay; the one
 * clock connection tracking will use).  verdicts[i] says what to do with pkts[i]; the packets are
 * rewritten in place and never freed here.  Returns n.
 */
uint16_t vpc_pipeline_process(struct vpc_pipeline *p, uint16_t in_port,
			      struct rte_mbuf **pkts, uint16_t n, uint64_t now,
			      struct vpc_verdict *verdicts);

/*
 * Trace one packet (vpcctl trace): the same stages, compiled once more
 * with their VPC_TRACE() points recording into tb (common/vpc_trace.h),
 * on p's tables and connection table, which it only reads: no connection
 * is created, changed or removed (a copy of an entry is), nothing is
 * counted but in p's own counters.  p: a pipeline of the caller's own
 * (vpc_pipeline_create on the live tables and connection table); the
 * caller's thread must be one that reclaims deleted entries, or a
 * registered reader.  mb is rewritten as forwarding would.  One trace at
 * a time per process.
 */
void vpc_pipeline_trace(struct vpc_pipeline *p, uint16_t in_port, struct rte_mbuf *mb,
			uint64_t now, struct vpc_verdict *verdict, struct vpc_trace_buf *tb);

/* The round-robin turns of src's target groups into dst (a trace's
 * pipeline: its choice is src's next one).  src may be another lcore's:
 * a racy read of its turns does no harm. */
void vpc_pipeline_copy_turns(struct vpc_pipeline *dst, const struct vpc_pipeline *src);
struct vpc_flowlog;
/* Count and log flows into fl (flowlog.h; NULL: off).  Between bursts, by
 * the owning lcore. */
void vpc_pipeline_set_flowlog(struct vpc_pipeline *p, struct vpc_flowlog *fl);

const struct vpc_stats *vpc_pipeline_stats(const struct vpc_pipeline *p);
void vpc_pipeline_stats_reset(struct vpc_pipeline *p);

/* Names: vpc_names.h. */

#endif /* VPC_PIPELINE_H */
