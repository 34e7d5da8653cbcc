/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * flowlog.h -- the DPDK engine's flow logs: records out of the workers
 * without blocking them.
 *
 * Design
 * ------
 * The counters live in the connection entry (common/vpc_flow.h: what is
 * counted, when an interval closes).  A worker that closes an interval,
 * deletes a connection or drops a rejected packet builds struct
 * vpc_flow_rec records and puts them on its own ring (rte_ring of 48-byte
 * elements, single producer, single consumer): never a lock, a syscall or
 * a wait.  A full ring loses the record; so does the rate limit on
 * rejected packets (VPC_FLOW_REJECT_PER_S per interface per second, per
 * worker).  What was lost is counted per interface and said in a SKIPDATA
 * record once a later record of that interface gets through (or at
 * vpc_flowlog_flush).  The consumer (vpc-replay after each packet; vpcd's
 * writer thread) drains the rings with vpc_flowlog_drain and formats with
 * vpc_flow_format (vpc_flow_format.h).
 *
 * Rejected traffic: a packet of no connection dropped by a security
 * group, a network ACL or the route (sg-denied, nacl-*, no-route,
 * blackhole, no-interface, tcp-not-syn, icmp-unrelated) gives one REJECT
 * record of one packet, at the interface it came from, or, from the
 * uplink, at the interface it was for (when the decision found one).
 *
 * Thread-safety: lcore slot l (rte_lcore_id()) is written only by that
 * lcore; the rings are single-producer single-consumer, so one thread
 * drains.  An emitter on a thread with no slot (no EAL lcore, or none
 * attached) loses its records, counted in vpc_flowlog_lost().
 */
#ifndef VPC_FLOWLOG_H
#define VPC_FLOWLOG_H

#include <stdint.h>

#include <rte_lcore.h>

#include "vpc_flow.h"

struct vpc_flowlog;
struct vpc_ct;
struct vpc_ct_entry;

/* A flow log with interval_s (> 0) and records for n_ifaces interfaces.
 * NULL + errno. */
struct vpc_flowlog *vpc_flowlog_create(uint32_t interval_s, uint32_t n_ifaces);
void vpc_flowlog_free(struct vpc_flowlog *fl);

/* The slot of the one thread that is no EAL lcore and may emit (vpcd's
 * control thread, whose background sweep deletes connections). */
#define VPC_FLOWLOG_NON_EAL RTE_MAX_LCORE

/* Give lcore (or VPC_FLOWLOG_NON_EAL) its ring of ring_size records (a
 * power of 2).  0 or negative errno.  Before the lcore emits. */
int vpc_flowlog_attach(struct vpc_flowlog *fl, unsigned int lcore, uint32_t ring_size);

uint32_t vpc_flowlog_interval(const struct vpc_flowlog *fl);

/* Emit direction d's counters of e (ACCEPT records).  The calling lcore. */
void vpc_flowlog_conn(struct vpc_flowlog *fl, const struct vpc_ct_entry *e, unsigned int d);

/* A rejected packet: one REJECT record at iface, rate-limited. */
void vpc_flowlog_reject(struct vpc_flowlog *fl, uint32_t iface, uint8_t proto, uint32_t src,
			uint32_t dst, uint16_t sport, uint16_t dport, uint32_t len, uint32_t now_s);

/* Emit what is pending: every live connection's counters (ct: a quiesced
 * table, or NULL) into the calling lcore's ring, every slot's lost counts
 * (SKIPDATA) into that slot's ring.  Only with every emitter stopped. */
void vpc_flowlog_flush(struct vpc_flowlog *fl, struct vpc_ct *ct);

/* Emit the intervals that closed more than a second before now (ns) and
 * that no packet has emitted, examining up to budget connections at a
 * rotating cursor: a connection gone quiet is logged without waiting for
 * its expiry (vpcd's control thread).  The counters it empties belong to
 * the lcores: a packet of that direction at the same instant may go
 * uncounted, or be counted twice (as the entry's other plain stores). */
void vpc_flowlog_scan(struct vpc_flowlog *fl, struct vpc_ct *ct, uint64_t now, uint32_t budget);

/* Take up to n records from lcore's ring.  Returns how many. */
unsigned int vpc_flowlog_drain(struct vpc_flowlog *fl, unsigned int lcore,
			       struct vpc_flow_rec *recs, unsigned int n);

/* Records lost by threads with no slot (the rest become SKIPDATA). */
uint64_t vpc_flowlog_lost(const struct vpc_flowlog *fl);

#endif /* VPC_FLOWLOG_H */
