/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * vpc_ct_track.h -- what a connection entry records of its connection, in
 * both engines: its state, and per direction what TCP tracking needs; the
 * idle timeout a state gets; whether the connection was ever answered.
 * The state machine that advances it is vpc_tcp.h.
 *
 * Freestanding (no libc, no DPDK, no libbpf): the XDP program includes it.
 * A record belongs to one connection entry; each engine's connection-table
 * header says who writes its entries.
 */
#ifndef VPC_CT_TRACK_H
#define VPC_CT_TRACK_H

#include <stdint.h>

#include "vpc_image.h"		/* enum vpc_timeout_id */
#include "vpc_reasons.h"	/* enum vpc_ct_state */

/* Per connection: state, and per direction what TCP tracking needs.
 * 24 bytes, embedded in both engines' connection entries. */
struct vpc_ct_track {
	uint8_t state;		/* enum vpc_ct_state */
	uint8_t fin_seen;	/* bit d: direction d sent FIN */
	uint8_t wscale[2];	/* window scale each direction announced; 0xff: none */
	uint16_t replies;	/* packets seen in direction 1 (UDP streams, early drop) */
	uint8_t flags;		/* VPC_CT_F_* */
	uint8_t pad;
	uint32_t end[2];	/* highest seq + len sent by each direction */
	uint32_t maxwin[2];	/* largest (scaled) window each advertised */
};
_Static_assert(sizeof(struct vpc_ct_track) == 24, "tracking record layout");

/* The idle timeout a connection in this state gets (enum vpc_timeout_id). */
static inline __attribute__((always_inline)) int
vpc_ct_timeout_class(const struct vpc_ct_track *t)
{
	switch (t->state) {
	case VPC_CT_TCP_SYN_SENT:
	case VPC_CT_TCP_SYN_RECV:
		return VPC_TO_TCP_OPENING;
	case VPC_CT_TCP_ESTABLISHED:
		return VPC_TO_TCP_ESTABLISHED;
	case VPC_CT_TCP_FIN_WAIT:
	case VPC_CT_TCP_TIME_WAIT:
	case VPC_CT_TCP_CLOSE:
		return VPC_TO_TCP_CLOSING;
	case VPC_CT_UDP:
		return t->replies > 1 ? VPC_TO_UDP_STREAM : VPC_TO_UDP;
	case VPC_CT_ICMP:
		return VPC_TO_ICMP;
	default:
		return VPC_TO_OTHER;
	}
}

#define VPC_CT_F_NATGW 0x01	/* through a NAT gateway: idle at most 350 s */
#define VPC_CT_F_LB    0x02	/* through a load balancer: idle at most 350 s (an
				 * NLB's idle timeout) */
#define VPC_CT_NATGW_IDLE_NS 350000000000ull

/* The timeout of a connection in its state, from its class's timeout: after
 * a reset at most 10 s (as Linux), never past closing; through a NAT
 * gateway or a load balancer at most their idle timeout (AWS's 350 s). */
static inline __attribute__((always_inline)) uint64_t
vpc_ct_timeout(const struct vpc_ct_track *t, uint64_t class_ns)
{
	if (t->state == VPC_CT_TCP_CLOSE && class_ns > 10000000000ull)
		return 10000000000ull;
	if (t->flags & (VPC_CT_F_NATGW | VPC_CT_F_LB) && class_ns > VPC_CT_NATGW_IDLE_NS)
		return VPC_CT_NATGW_IDLE_NS;
	return class_ns;
}

/* A connection that never saw a packet from its other side (a SYN never
 * answered, a UDP or ICMP flow with no reply): what a full table may drop
 * to make room (Linux's early drop). */
static inline __attribute__((always_inline)) int
vpc_ct_unreplied(const struct vpc_ct_track *t)
{
	if (t->state == VPC_CT_TCP_SYN_SENT)
		return 1;
	return (t->state == VPC_CT_UDP || t->state == VPC_CT_ICMP ||
		t->state == VPC_CT_OTHER) && t->replies == 0;
}

#endif /* VPC_CT_TRACK_H */
