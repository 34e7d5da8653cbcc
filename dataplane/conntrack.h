/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * conntrack.h -- the connection table, and the cached actions that make
 * established traffic cost one lookup.
 *
 * Design
 * ------
 * A connection has two keys, one per direction, each the 5-tuple exactly
 * as that direction's packets look where they enter the dataplane, in the
 * context of their ingress: the VPC's VNI for an interface's port, 0 for
 * the uplink.  So the reply to an elastic-IP connection is found from the
 * public tuple on the uplink (elastic IPs are unique on the host), and
 * VPCs with overlapping addresses never share a key.  Both keys map to one
 * entry (index << 1 | direction) in a preallocated array.
 *
 * An entry's first cache line holds, for each direction, the action to
 * apply (egress port, MACs, NAT, TTL), stamped with the table generation
 * it was computed under: a packet whose direction's action is current
 * costs one hash lookup plus the rewrite.  After new tables are applied a
 * stale action is recomputed from the next packet of that direction, and
 * the connection (its state, its stateful allowance) carries on -- unless
 * the apply asked for revalidation.
 *
 * Memory is fixed at creation (max connections).  A full table first
 * reclaims expired entries, then drops a connection that never saw a
 * reply (a SYN never answered, a UDP/ICMP flow with no reply: Linux's
 * early drop), and otherwise refuses the new connection: it never evicts
 * one whose other side answered.  Expiry needs no scan: an expired entry
 * found by a lookup is removed there, each new connection examines a few
 * entries at a rotating cursor (vpc_ct_sweep), and the daemon sweeps the
 * whole table in the background so an idle table empties too.
 *
 * Thread-safety: two modes.
 *  - vpc_ct_create(): one thread uses the table (vpc-replay, tests); no
 *    atomics, no locks at all.
 *  - vpc_ct_create_shared(): every lcore of the host uses one table.
 *    Lookups are lock-free (rte_hash RW_CONCURRENCY_LF); creation may
 *    happen on any lcore (MULTI_WRITER_ADD).  A deleted connection's key
 *    slots and its entry are reclaimed only after every reader registered
 *    with the RCU variable has reported a quiescent state (rte_hash's RCU
 *    defer queue for the slots, one of this module's for the entries,
 *    which returns them to a lock-free ring), so a reader holding an entry index from a lookup
 *    may use the entry until its next quiescent state.  Readers report it
 *    once per burst, between bursts.  One deleter wins an entry by an
 *    atomic compare-and-swap on its state (deletion only, never per
 *    packet).  Per-packet updates of an entry (state, expiry, TCP window)
 *    are plain stores: the two directions of a connection on two lcores
 *    may race on them, and the worst outcome is a lost update of a
 *    timestamp or window, never a freed or misdirected entry.
 *    vpc_ct_flush() is for a quiesced table only.
 */
#ifndef VPC_CONNTRACK_H
#define VPC_CONNTRACK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <rte_byteorder.h>
#include <rte_ether.h>

#include "vpc_ct_track.h"
#include "vpc_flow.h"
#include "vpc_key.h"
#include "vpc_rewrite.h"
#include "vpc_names.h"
#include "vpc_reasons.h"

/* struct vpc_ct_key: common/vpc_key.h (one layout for both engines). */


/* What to do with a packet of one direction. 32 bytes. */
struct vpc_ct_action {
	uint32_t gen;		/* tables generation; 0: not computed yet */
	uint16_t out_port;
	uint8_t path;		/* enum vpc_path */
	uint8_t nat;		/* enum vpc_nat (vpc_rewrite.h) */
	rte_be32_t nat_addr;
	struct rte_ether_addr src_mac, dst_mac;
	uint8_t rewrite_macs;	/* routed: MACs and TTL change */
	uint8_t pad;
	uint16_t vpc;		/* the VPC whose timeouts apply, under gen */
	uint16_t tunnel;	/* to another host: its tunnel record + 1
				 * (out_port is the uplink); 0: none */
	rte_be16_t nat_port;	/* through a NAT gateway: the port (ICMP
				 * identifier) nat translates too; 0: none */
};
_Static_assert(sizeof(struct vpc_ct_action) == 32, "two actions per cache line");

/* enum vpc_ct_state: vpc_reasons.h (shared with the XDP engine) */

struct vpc_ct_entry {
	/* line 0: the fast path's reads */
	struct vpc_ct_action act[2];	/* [0]: the direction that opened it */
	/* line 1: the fast path's writes, and TCP tracking */
	uint64_t expires;	/* ns, on the replay/daemon clock */
	struct vpc_ct_track trk;	/* state, TCP tracking (shared with XDP) */
	struct vpc_ct_key key[2];
	/* line 2: flow-log counters per direction (vpc_flow.h), written
	 * only while flow logs are on, each by the lcore receiving that
	 * direction.  (Both directions share the line, as they share line
	 * 1's expiry and tracking.) */
	struct vpc_flow_count flow[2];
} __rte_cache_aligned;
_Static_assert(offsetof(struct vpc_ct_entry, flow) == 2 * RTE_CACHE_LINE_SIZE,
	       "flow counters on their own line");
_Static_assert(sizeof(struct vpc_ct_entry) == 3 * RTE_CACHE_LINE_SIZE, "three lines per entry");

struct vpc_ct_stats {
	uint64_t created;
	uint64_t expired;
	uint64_t refused_full;
	uint64_t closed;
	uint64_t early_dropped;	/* unreplied, removed to make room */
};

struct vpc_ct;

struct rte_rcu_qsbr;

/* A table of at most max_conns connections, for one thread.  NULL + errno. */
struct vpc_ct *vpc_ct_create(const char *name, uint32_t max_conns, int socket_id);

/* The same, shared by the lcores registered as readers with rcu (see
 * Thread-safety above).  NULL + errno. */
struct vpc_ct *vpc_ct_create_shared(const char *name, uint32_t max_conns, int socket_id,
				    struct rte_rcu_qsbr *rcu);
void vpc_ct_free(struct vpc_ct *ct);

/* vpc_ct_default_size(), vpc_ct_state_name(): vpc_names.h */

/* Bytes of DPDK heap vpc_ct_create(max_conns) needs (for --no-huge -m). */
uint64_t vpc_ct_memory(uint32_t max_conns);

/*
 * Look up n keys (n <= 64).  hits: bit i set when keys[i] was found, with
 * data[i] = entry index << 1 | direction.
 */
void vpc_ct_lookup_bulk(const struct vpc_ct *ct, const struct vpc_ct_key *keys,
			uint32_t n, uint64_t *hits, uint32_t *data);

/*
 * Create a connection with keys fwd and rev, its entry a copy of init
 * (state, actions, expiry...; the keys are filled in here).  The entry is
 * complete before its keys are published.  Returns the entry index, or
 * -ENOSPC when the table is full (after trying to reclaim expired
 * entries), -EEXIST when a key is already tracked.
 */
int vpc_ct_create_conn(struct vpc_ct *ct, const struct vpc_ct_key *fwd,
		       const struct vpc_ct_key *rev, uint64_t now,
		       const struct vpc_ct_entry *init);

/* Remove connection idx (both keys). */
void vpc_ct_delete(struct vpc_ct *ct, uint32_t idx);

struct vpc_ct_entry *vpc_ct_entry(const struct vpc_ct *ct, uint32_t idx);

/* Examine up to budget entries at the cursor; remove the expired ones.
 * Returns how many were removed. */
uint32_t vpc_ct_sweep(struct vpc_ct *ct, uint64_t now, uint32_t budget);

/* Shared: return to the pool the deleted entries whose grace period is
 * over (also done on every delete).  Any thread. */
void vpc_ct_reclaim(struct vpc_ct *ct);

/* Remove every connection. */
void vpc_ct_flush(struct vpc_ct *ct);

uint32_t vpc_ct_count(const struct vpc_ct *ct);
uint32_t vpc_ct_capacity(const struct vpc_ct *ct);
struct vpc_ct_stats *vpc_ct_stats(struct vpc_ct *ct);

struct vpc_flowlog;
/* Emit a deleted connection's flow-log counters to fl (flowlog.h; NULL:
 * none).  Before any lcore uses the table. */
void vpc_ct_set_flowlog(struct vpc_ct *ct, struct vpc_flowlog *fl);

/* Iterate live entries: *pos starts at 0; returns the next index or -1. */
int64_t vpc_ct_next(const struct vpc_ct *ct, uint32_t *pos);


#endif /* VPC_CONNTRACK_H */
