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
	default:
		return VPC_DROP_NO_ROUTE;
	}
}

#endif /* VPC_DECIDE_H */
