/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * stage_parse.h -- the parse stage: one mbuf's frame into struct meta, by
 * the shared parser (common/vpc_parse.h, the same source the XDP program
 * runs), plus the header pointers the DPDK stages read through.
 *
 * Reads: the frame (its data length bounds every read, through the cursor).
 * Sets:  meta's packet record (kind, or a drop with its reason; protocol,
 *        ports or ICMP identifier and type, TCP flags, payload length) and
 *        its Ethernet, IPv4 and L4 pointers (fixed offsets: no IP options).
 * Next:  source checks (stage_source.h); a drop goes to the counters.
 */
#ifndef VPC_STAGE_PARSE_H
#define VPC_STAGE_PARSE_H

#include "pipeline_priv.h"


static inline void
parse_one(struct rte_mbuf *mb, struct meta *m)
{
	uint8_t *data = rte_pktmbuf_mtod(mb, uint8_t *);

	vpc_parse(data, data + rte_pktmbuf_data_len(mb), &m->pkt);
	m->mb = mb;
	m->eth = (struct rte_ether_hdr *)data;
	m->ip = (struct rte_ipv4_hdr *)(data + VPC_OFF_IP);
	m->l4 = data + VPC_OFF_L4;
}

#endif /* VPC_STAGE_PARSE_H */
