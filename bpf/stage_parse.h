/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * stage_parse.h -- the parse stage: the frame between data and data_end
 * into struct vpc_pkt, by the shared parser (common/vpc_parse.h, the same
 * source the DPDK engine runs).
 *
 * Reads: the frame (every read bounded by data_end through the cursor).
 * Sets:  the packet record's kind, protocol, ports or ICMP identifier and
 *        type, TCP flags, the IP payload's length; or a drop reason.
 * Next:  source checks (stage_source.h).
 *
 * A stage of the XDP program: included by vpc_xdp.bpf.c alone (one
 * compilation unit, as BPF needs), after its maps and helpers.  The XDP
 * engine keeps the parser's default header-checksum sum (ten 16-bit
 * loads: the BPF target has no unaligned 32-bit load).
 */
#ifndef VPC_XDP_STAGE_PARSE_H
#define VPC_XDP_STAGE_PARSE_H

#include "vpc_parse.h"

/* The ARP packet (Ethernet/IPv4) as the source checks read it. */
struct arp_eth {
	__be16 hrd, pro;
	__u8 hln, pln;
	__be16 op;
	__u8 sha[6];
	__be32 sip;
	__u8 tha[6];
	__be32 tip;
} __attribute__((packed));

#endif /* VPC_XDP_STAGE_PARSE_H */
