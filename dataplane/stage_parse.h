/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * stage_parse.h -- the parse stage: one frame into struct meta.
 *
 * Reads: the frame (its data length bounds every read).
 * Sets:  meta's kind (ARP, IPv4, or a drop with its reason), the header
 *        pointers, protocol, ports or ICMP identifier/type, TCP flags.
 * Next:  source checks (stage_source.h); a drop goes to the counters.
 */
#ifndef VPC_STAGE_PARSE_H
#define VPC_STAGE_PARSE_H

#include "pipeline_priv.h"
#include "cksum.h"
#include "vpc_icmp.h"

/* The one's-complement sum of a 20-byte header is ffff when its checksum
 * is right: five 32-bit loads into a 64-bit sum, then folded. */
static inline bool
ipv4_hdr_cksum_ok(const struct rte_ipv4_hdr *ip)
{
	const uint8_t *b = (const uint8_t *)ip;
	uint64_t sum = 0;
	for (int i = 0; i < 20; i += 4) {
		uint32_t w;
		memcpy(&w, b + i, 4);
		sum += w;
	}
	sum = (sum & 0xffffffff) + (sum >> 32);
	sum = (sum & 0xffffffff) + (sum >> 32);
	return vpc_csum_fold((uint32_t)sum) == 0xffff;
}

static inline void
parse_one(struct rte_mbuf *m, struct meta *x)
{
	uint8_t *data = rte_pktmbuf_mtod(m, uint8_t *);
	uint32_t len = rte_pktmbuf_data_len(m);

	x->kind = META_DROP;

	if (unlikely(len < sizeof(struct rte_ether_hdr))) {
		x->reason = VPC_DROP_FRAME_TRUNCATED;
		return;
	}
	x->eth = (struct rte_ether_hdr *)data;
	uint16_t type = x->eth->ether_type;

	if (likely(type == RTE_BE16(RTE_ETHER_TYPE_IPV4))) {
		uint32_t avail = len - sizeof(struct rte_ether_hdr);
		struct rte_ipv4_hdr *ip = (struct rte_ipv4_hdr *)(x->eth + 1);
		if (unlikely(avail < sizeof(*ip))) {
			x->reason = VPC_DROP_IP_TRUNCATED;
			return;
		}
		uint8_t vihl = ip->version_ihl;
		if (unlikely((vihl >> 4) != 4)) {
			x->reason = VPC_DROP_IP_VERSION;
			return;
		}
		if (unlikely((vihl & 0xf) != 5)) {
			x->reason = (vihl & 0xf) < 5 ? VPC_DROP_IP_IHL : VPC_DROP_IP_OPTIONS;
			return;
		}
		uint16_t tot = rte_be_to_cpu_16(ip->total_length);
		if (unlikely(tot < sizeof(*ip) || tot > avail)) {
			x->reason = VPC_DROP_IP_TRUNCATED;
			return;
		}
		/* A correct header, checksum field included, sums to ffff. */
		if (unlikely(!ipv4_hdr_cksum_ok(ip))) {
			x->reason = VPC_DROP_IP_CHECKSUM;
			return;
		}
		uint16_t frag = rte_be_to_cpu_16(ip->fragment_offset);
		if (unlikely(frag & RTE_IPV4_HDR_OFFSET_MASK)) {
			x->reason = VPC_DROP_IP_FRAGMENT;
			return;
		}
		x->ip = ip;
		x->proto = ip->next_proto_id;
		x->l4 = (uint8_t *)(ip + 1);
		x->l4_len = (uint16_t)(tot - sizeof(*ip));
		x->sport = x->dport = 0;
		x->tcp_flags = 0;
		x->icmp_error = 0;
		switch (x->proto) {
		case IPPROTO_TCP: {
			const struct rte_tcp_hdr *tcp = (const void *)x->l4;
			if (unlikely(x->l4_len < sizeof(*tcp) ||
				     (tcp->data_off >> 4) < 5 ||
				     (uint32_t)(tcp->data_off >> 4) * 4 > x->l4_len)) {
				x->reason = VPC_DROP_L4_TRUNCATED;
				return;
			}
			x->sport = tcp->src_port;
			x->dport = tcp->dst_port;
			x->tcp_flags = tcp->tcp_flags;
			break;
		}
		case IPPROTO_UDP: {
			const struct rte_udp_hdr *udp = (const void *)x->l4;
			if (unlikely(x->l4_len < sizeof(*udp) ||
				     rte_be_to_cpu_16(udp->dgram_len) < sizeof(*udp) ||
				     rte_be_to_cpu_16(udp->dgram_len) > x->l4_len)) {
				x->reason = VPC_DROP_L4_TRUNCATED;
				return;
			}
			x->sport = udp->src_port;
			x->dport = udp->dst_port;
			break;
		}
		case IPPROTO_ICMP: {
			const struct rte_icmp_hdr *ic = (const void *)x->l4;
			if (unlikely(x->l4_len < sizeof(*ic))) {
				x->reason = VPC_DROP_L4_TRUNCATED;
				return;
			}
			x->icmp_type = ic->icmp_type;
			x->icmp_code = ic->icmp_code;
			x->icmp_error = (uint8_t)vpc_icmp_is_error(ic->icmp_type);
			/* Query/reply pairs by identifier, others by type and code. */
			x->sport = vpc_icmp_is_query(ic->icmp_type) ? ic->icmp_ident : 0;
			x->dport = rte_cpu_to_be_16((uint16_t)(ic->icmp_type << 8 | ic->icmp_code));
			break;
		}
		default:
			break;
		}
		x->kind = META_IPV4;
		return;
	}
	if (type == RTE_BE16(RTE_ETHER_TYPE_ARP)) {
		struct rte_arp_hdr *arp = (struct rte_arp_hdr *)(x->eth + 1);
		if (len < sizeof(struct rte_ether_hdr) + sizeof(*arp) ||
		    arp->arp_hardware != RTE_BE16(RTE_ARP_HRD_ETHER) ||
		    arp->arp_protocol != RTE_BE16(RTE_ETHER_TYPE_IPV4) ||
		    arp->arp_hlen != RTE_ETHER_ADDR_LEN || arp->arp_plen != 4) {
			x->reason = VPC_DROP_ARP_MALFORMED;
			return;
		}
		x->kind = META_ARP;
		return;
	}
	if (type == RTE_BE16(RTE_ETHER_TYPE_VLAN) || type == RTE_BE16(RTE_ETHER_TYPE_QINQ))
		x->reason = VPC_DROP_VLAN_TAGGED;
	else
		x->reason = VPC_DROP_ETHERTYPE;
}

#endif /* VPC_STAGE_PARSE_H */
