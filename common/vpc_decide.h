/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * vpc_decide.h -- the decide stage's rules that do not depend on how an
 * engine looks its tables up, one source for every engine.
 *
 * Freestanding (no libc, no DPDK, no libbpf): the XDP program includes it.
 * Stateless: any thread.
 */
#ifndef VPC_DECIDE_H
#define VPC_DECIDE_H

#include <stdint.h>

#include "vpc_image.h"		/* enum vpc_nh_kind */
#include "vpc_reasons.h"	/* drop reasons */

/* Why a packet routed to a next hop that forwards nothing is dropped.
 * (Interfaces and the internet gateway forward: each engine's decide.) */
static inline __attribute__((always_inline)) uint8_t
vpc_nh_drop_reason(uint8_t kind)
{
	switch (kind) {
	case VPC_NH_BLACKHOLE:
		return VPC_DROP_BLACKHOLE;
	case VPC_NH_LOCAL_MISS:
		return VPC_DROP_NO_INTERFACE;	/* a local route nobody owns */
	case VPC_NH_PEERING_MISS:
		return VPC_DROP_PEERING_NO_OWNER;	/* no transit */
	default:
		return VPC_DROP_NO_ROUTE;
	}
}

/* The path of a packet routed to an interface: its own VPC's
 * (deliver), an appliance, or the owner of the address in a peered VPC. */
static inline __attribute__((always_inline)) uint8_t
vpc_nh_path(uint32_t kind)
{
	return kind == VPC_NH_DELIVER ? VPC_PATH_ROUTED :
	       kind == VPC_NH_PEERING ? VPC_PATH_PEERING : VPC_PATH_ROUTED_APPLIANCE;
}

#endif /* VPC_DECIDE_H */
