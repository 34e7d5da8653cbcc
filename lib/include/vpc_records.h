/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * vpc_records.h -- the records both engines' tables hold, lowered from an
 * image once (lib/lower.c): the DPDK engine keeps them in an array, the
 * XDP engine in an array map, with the same bytes.
 *
 * The record types are freestanding (the XDP program includes them); the
 * lowering is user space.  Built off the fast path, then read-only.
 */
#ifndef VPC_RECORDS_H
#define VPC_RECORDS_H

#include <stdint.h>

/* An interface as a destination (and, through its port, as a source). */
struct vpc_iface_rec {
	uint8_t mac[6];
	uint8_t router_mac[6];	/* its VPC router's */
	uint16_t port;		/* the engine's port: DPDK's topology port, XDP's slot */
	uint16_t mtu;
	uint32_t vpc;
	uint32_t subnet;
	uint32_t ip;		/* network order */
	uint32_t eip;		/* network order; has_eip says whether it is one */
	uint8_t src_dst_check;
	uint8_t has_eip;
	uint16_t pad;
	uint32_t ctx;		/* its VPC's VNI << 8: connection-tracking context */
	uint32_t sg_class[2];	/* security-group classifiers, by direction */
};
_Static_assert(sizeof(struct vpc_iface_rec) == 48, "interface record layout");

#ifndef __bpf__
struct vpc_image;
struct vpc_sg;

/* Interface i of img, on the engine's port `port`, with its classifiers
 * from sg (vpc_sg_build of the same image). */
void vpc_lower_iface(const struct vpc_image *img, uint32_t i, uint16_t port,
		     const struct vpc_sg *sg, struct vpc_iface_rec *out);
#endif

#endif /* VPC_RECORDS_H */
