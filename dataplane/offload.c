/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * offload.c -- a kernel's checksum and segmentation offloads, finished in
 * software for frames a kernel port hands over with a virtio-net header
 * (offload.h).
 */
#include "offload.h"

#include <string.h>

#include <rte_byteorder.h>
#include <rte_ip.h>
#include <rte_tcp.h>

#include "cksum.h"

int
vpc_vnet_finish_csum(uint8_t *f, uint32_t len, uint16_t csum_start, uint16_t csum_offset)
{
	uint32_t at = (uint32_t)csum_start + csum_offset;
	if (at + 2 > len)
		return VPC_VNET_BAD_HDR;
	/* The field holds the pseudo-header's sum: summed with the rest. */
	uint16_t sum = (uint16_t)~rte_raw_cksum(f + csum_start, len - csum_start);
	if (sum == 0 && csum_offset == 6)	/* UDP: 0 means "no checksum" */
		sum = 0xffff;
	memcpy(f + at, &sum, 2);
	return 0;
}

/* One mbuf holding a then b, chained over as many as the length needs;
 * NULL when the pool runs out. */
static struct rte_mbuf *
mbuf_of(struct rte_mempool *mp, const uint8_t *a, uint32_t alen, const uint8_t *b, uint32_t blen)
{
	struct rte_mbuf *head = rte_pktmbuf_alloc(mp), *seg = head;
	const uint8_t *src[2] = { a, b };
	uint32_t left[2] = { alen, blen };

	if (head == NULL)
		return NULL;
	for (int i = 0; i < 2; i++) {
		while (left[i] > 0) {
			uint16_t room = rte_pktmbuf_tailroom(seg);
			if (room == 0) {
				struct rte_mbuf *next = rte_pktmbuf_alloc(mp);
				if (next == NULL) {
					rte_pktmbuf_free(head);
					return NULL;
				}
				next->data_off = 0;	/* no headroom past the first */
				seg->next = next;
				head->nb_segs++;
				seg = next;
				continue;
			}
			uint32_t k = RTE_MIN((uint32_t)room, left[i]);
			memcpy(rte_pktmbuf_mtod_offset(seg, uint8_t *, seg->data_len), src[i], k);
			seg->data_len = (uint16_t)(seg->data_len + k);
			head->pkt_len += k;
			src[i] += k;
			left[i] -= k;
		}
	}
	return head;
}

/* A TCP/IPv4 super-frame cut into segments of mss payload bytes. */
static uint16_t
tso4(struct rte_mempool *mp, const uint8_t *f, uint32_t len, uint16_t mss,
     struct rte_mbuf **out, uint16_t max, enum vpc_vnet_err *err)
{
	uint8_t hdr[14 + 60 + 60];

	*err = VPC_VNET_BAD_HDR;
	if (len < 14 + 20 + 20 || f[12] != 0x08 || f[13] != 0x00 || mss == 0)
		return 0;
	uint32_t ihl = (uint32_t)(f[14] & 0xf) * 4;
	if ((f[14] >> 4) != 4 || ihl < 20 || f[14 + 9] != IPPROTO_TCP || 14 + ihl + 20 > len)
		return 0;
	uint32_t doff = (uint32_t)(f[14 + ihl + 12] >> 4) * 4;
	uint32_t hl = 14 + ihl + doff;
	if (doff < 20 || hl > len)
		return 0;
	uint32_t payload = len - hl;
	uint32_t nseg = payload == 0 ? 1 : (payload + mss - 1) / mss;
	if (nseg > max) {
		*err = VPC_VNET_NO_MBUF;
		return 0;
	}
	memcpy(hdr, f, hl);
	struct rte_ipv4_hdr *ip = (struct rte_ipv4_hdr *)(hdr + 14);
	uint8_t *tcp = hdr + 14 + ihl;
	uint16_t id0 = rte_be_to_cpu_16(ip->packet_id);
	uint32_t seq0;
	memcpy(&seq0, tcp + 4, 4);
	seq0 = rte_be_to_cpu_32(seq0);
	uint8_t flags0 = tcp[13];

	for (uint32_t i = 0; i < nseg; i++) {
		uint32_t off = i * mss, n = RTE_MIN((uint32_t)mss, payload - off);
		ip->total_length = rte_cpu_to_be_16((uint16_t)(ihl + doff + n));
		ip->packet_id = rte_cpu_to_be_16((uint16_t)(id0 + i));
		ip->hdr_checksum = 0;
		ip->hdr_checksum = rte_ipv4_cksum(ip);
		rte_be32_t seq = rte_cpu_to_be_32(seq0 + off);
		memcpy(tcp + 4, &seq, 4);
		tcp[13] = flags0;
		if (i + 1 < nseg)
			tcp[13] &= (uint8_t)~(RTE_TCP_FIN_FLAG | RTE_TCP_PSH_FLAG);
		if (i > 0)
			tcp[13] &= (uint8_t)~RTE_TCP_CWR_FLAG;
		memset(tcp + 16, 0, 2);
		uint32_t sum = (uint32_t)rte_ipv4_phdr_cksum(ip, 0) + rte_raw_cksum(tcp, doff) +
			       rte_raw_cksum(f + hl + off, n);
		uint16_t csum = (uint16_t)~vpc_csum_fold(sum);
		memcpy(tcp + 16, &csum, 2);
		out[i] = mbuf_of(mp, hdr, hl, f + hl + off, n);
		if (out[i] == NULL) {
			rte_pktmbuf_free_bulk(out, i);
			*err = VPC_VNET_NO_MBUF;
			return 0;
		}
	}
	*err = VPC_VNET_OK;
	return (uint16_t)nseg;
}

uint16_t
vpc_vnet_to_mbufs(struct rte_mempool *mp, uint8_t *f, uint32_t len, const struct virtio_net_hdr *h,
		  struct rte_mbuf **out, uint16_t max, enum vpc_vnet_err *err)
{
	/* The header's fields are in the host's order (a packet socket's
	 * virtio-net header is the legacy, native-endian one). */
	uint8_t gso = h->gso_type & (uint8_t)~VIRTIO_NET_HDR_GSO_ECN;

	if (gso == VIRTIO_NET_HDR_GSO_TCPV4)
		return tso4(mp, f, len, h->gso_size, out, max, err);
	if (gso != VIRTIO_NET_HDR_GSO_NONE) {
		*err = VPC_VNET_GSO_KIND;
		return 0;
	}
	if ((h->flags & VIRTIO_NET_HDR_F_NEEDS_CSUM) &&
	    vpc_vnet_finish_csum(f, len, h->csum_start, h->csum_offset) != 0) {
		*err = VPC_VNET_BAD_HDR;
		return 0;
	}
	if (max == 0 || (out[0] = mbuf_of(mp, f, len, NULL, 0)) == NULL) {
		*err = VPC_VNET_NO_MBUF;
		return 0;
	}
	*err = VPC_VNET_OK;
	return 1;
}
