/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * offload.c -- what a port's sender left for an offload to finish, finished
 * in software before the pipeline reads the frame (offload.h).
 */
#include "offload.h"

#include <string.h>

#include <rte_ether.h>
#include <rte_ip.h>

#include "cksum.h"

/*
 * A kernel port (af_packet on a veth) hands over what its sender's stack
 * left for a checksum offload to finish: a TCP or UDP checksum field that
 * holds only the pseudo-header's sum (CHECKSUM_PARTIAL), and no flag says
 * so (DPDK's af_packet driver does not read the ring's "checksum not
 * ready" status).  Such a field is recognised by its value -- the folded
 * pseudo-header sum, which a finished checksum equals by chance once in
 * 65,536 -- and finished here, in software, before the pipeline reads the
 * frame.  Finishing is computing the checksum anew, so a frame taken for
 * partial by that chance still leaves correct.  IPv4 without options, not
 * a fragment, in one segment; anything else passes untouched.
 */
void
vpc_finish_partial_csums(struct rte_mbuf **pkts, uint16_t n)
{
	for (uint16_t i = 0; i < n; i++) {
		struct rte_mbuf *m = pkts[i];
		uint32_t len = rte_pktmbuf_data_len(m);
		uint8_t *d = rte_pktmbuf_mtod(m, uint8_t *);
		if (len < 14 + 20 + 8 || m->nb_segs != 1 ||
		    *(rte_be16_t *)(d + 12) != RTE_BE16(RTE_ETHER_TYPE_IPV4))
			continue;
		struct rte_ipv4_hdr *ip = (struct rte_ipv4_hdr *)(d + 14);
		uint8_t proto = ip->next_proto_id;
		uint16_t tot = rte_be_to_cpu_16(ip->total_length);
		uint32_t off = proto == IPPROTO_TCP ? 16 : proto == IPPROTO_UDP ? 6 : 0;
		if (off == 0 || ip->version_ihl != 0x45 || tot < 20 + off + 2 ||
		    tot > len - 14 || (rte_be_to_cpu_16(ip->fragment_offset) & 0x3fff))
			continue;
		uint8_t *l4 = d + 34;
		uint16_t l4_len = (uint16_t)(tot - 20);
		uint16_t field, ph = rte_ipv4_phdr_cksum(ip, 0);	/* folded, not inverted */
		memcpy(&field, l4 + off, 2);
		if (field != ph)
			continue;
		memset(l4 + off, 0, 2);
		uint16_t sum = (uint16_t)~vpc_csum_fold((uint32_t)ph + rte_raw_cksum(l4, l4_len));
		if (sum == 0 && proto == IPPROTO_UDP)
			sum = 0xffff;
		memcpy(l4 + off, &sum, 2);
	}
}

