/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * stage_parse.h -- the parse stage: the frame into struct meta.
 *
 * Reads: the frame between data and data_end (every read bounded there).
 * Sets:  meta's kind, protocol, ports or ICMP identifier/type, TCP flags,
 *        the IP payload's length; or a drop reason.
 * Next:  source checks (stage_source.h).
 *
 * A stage of the XDP program: included by vpc_xdp.bpf.c alone (one
 * compilation unit, as BPF needs), after its maps and helpers; the DPDK
 * engine's stage of the same name is dataplane/stage_parse.h.
 */
#ifndef VPC_XDP_STAGE_PARSE_H
#define VPC_XDP_STAGE_PARSE_H

enum { META_DROP, META_ARP, META_IPV4 };

struct meta {
	__u8 kind;
	__u8 reason;
	__u8 proto;
	__u8 tcp_flags;
	__u8 icmp_type, icmp_code, icmp_error;
	__u8 pad;
	__u16 l4_len;		/* bytes of IP payload */
	__be16 sport, dport;
	__u16 tot_len;		/* host order */
};

/* Packet offsets: Ethernet at 0, IPv4 (no options) at 14, L4 at 34. */
#define OFF_IP 14
#define OFF_L4 34

struct arp_eth {
	__be16 hrd, pro;
	__u8 hln, pln;
	__be16 op;
	__u8 sha[6];
	__be32 sip;
	__u8 tha[6];
	__be32 tip;
} __attribute__((packed));

static __always_inline void
parse(void *data, void *end, struct meta *m)
{
	struct ethhdr *eth = data;

	m->kind = META_DROP;
	if ((void *)(eth + 1) > end) {
		m->reason = VPC_DROP_FRAME_TRUNCATED;
		return;
	}
	__be16 type = eth->h_proto;
	if (type == bpf_htons(ETH_P_IP)) {
		struct iphdr *ip = data + OFF_IP;
		__u32 avail = (__u32)(end - data) - OFF_IP;
		if ((void *)(ip + 1) > end) {
			m->reason = VPC_DROP_IP_TRUNCATED;
			return;
		}
		__u8 vihl = *(__u8 *)ip;
		if ((vihl >> 4) != 4) {
			m->reason = VPC_DROP_IP_VERSION;
			return;
		}
		if ((vihl & 0xf) != 5) {
			m->reason = (vihl & 0xf) < 5 ? VPC_DROP_IP_IHL : VPC_DROP_IP_OPTIONS;
			return;
		}
		__u16 tot = bpf_ntohs(ip->tot_len);
		if (tot < 20 || tot > avail) {
			m->reason = VPC_DROP_IP_TRUNCATED;
			return;
		}
		const __u16 *w = (const __u16 *)ip;
		__u32 sum = 0;
#pragma unroll
		for (int i = 0; i < 10; i++)
			sum += w[i];
		if (vpc_csum_fold(sum) != 0xffff) {
			m->reason = VPC_DROP_IP_CHECKSUM;
			return;
		}
		if (bpf_ntohs(ip->frag_off) & 0x1fff) {
			m->reason = VPC_DROP_IP_FRAGMENT;
			return;
		}
		m->tot_len = tot;
		m->proto = ip->protocol;
		m->l4_len = tot - 20;
		m->sport = m->dport = 0;
		m->tcp_flags = 0;
		m->icmp_error = 0;
		m->icmp_type = m->icmp_code = 0;
		__u8 *l4 = data + OFF_L4;
		if (m->proto == IPPROTO_TCP) {
			if (m->l4_len < 20 || (void *)(l4 + 20) > end) {
				m->reason = VPC_DROP_L4_TRUNCATED;
				return;
			}
			__u32 doff = l4[12] >> 4;
			if (doff < 5 || doff * 4 > m->l4_len) {
				m->reason = VPC_DROP_L4_TRUNCATED;
				return;
			}
			m->sport = *(__be16 *)l4;
			m->dport = *(__be16 *)(l4 + 2);
			m->tcp_flags = l4[13];
		} else if (m->proto == IPPROTO_UDP) {
			if (m->l4_len < 8 || (void *)(l4 + 8) > end) {
				m->reason = VPC_DROP_L4_TRUNCATED;
				return;
			}
			__u16 dl = bpf_ntohs(*(__be16 *)(l4 + 4));
			if (dl < 8 || dl > m->l4_len) {
				m->reason = VPC_DROP_L4_TRUNCATED;
				return;
			}
			m->sport = *(__be16 *)l4;
			m->dport = *(__be16 *)(l4 + 2);
		} else if (m->proto == IPPROTO_ICMP) {
			if (m->l4_len < 8 || (void *)(l4 + 8) > end) {
				m->reason = VPC_DROP_L4_TRUNCATED;
				return;
			}
			m->icmp_type = l4[0];
			m->icmp_code = l4[1];
			m->icmp_error = (__u8)vpc_icmp_is_error(l4[0]);
			m->sport = vpc_icmp_is_query(l4[0]) ? *(__be16 *)(l4 + 4) : 0;
			m->dport = bpf_htons((__u16)(l4[0] << 8 | l4[1]));
		}
		m->kind = META_IPV4;
		return;
	}
	if (type == bpf_htons(ETH_P_ARP)) {
		struct arp_eth *a = data + sizeof(*eth);
		if ((void *)(a + 1) > end || a->hrd != bpf_htons(1) ||
		    a->pro != bpf_htons(ETH_P_IP) || a->hln != 6 || a->pln != 4) {
			m->reason = VPC_DROP_ARP_MALFORMED;
			return;
		}
		m->kind = META_ARP;
		return;
	}
	m->reason = type == bpf_htons(ETH_P_8021Q) || type == bpf_htons(ETH_P_8021AD) ?
		    VPC_DROP_VLAN_TAGGED : VPC_DROP_ETHERTYPE;
}

#endif /* VPC_XDP_STAGE_PARSE_H */
