/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * offload.h -- what a kernel's offloads left undone in a frame handed over
 * by a kernel port (daemon/kport.c), done in software from the frame's
 * virtio-net header (PACKET_VNET_HDR): a checksum left partial is
 * finished, a TCP/IPv4 super-frame (TSO/GSO) is cut into segments of the
 * size the sender asked for, each with its own headers and checksums.
 * The result is a frame any port can carry.  Called by the worker that
 * receives the frame; touches only the buffer it is given and the mbufs it
 * allocates.
 */
#ifndef VPC_OFFLOAD_H
#define VPC_OFFLOAD_H

#include <stdint.h>

#include <linux/virtio_net.h>
#include <rte_mbuf.h>

/* Why a frame from a kernel port was not turned into mbufs. */
enum vpc_vnet_err {
	VPC_VNET_OK = 0,
	VPC_VNET_BAD_HDR,	/* checksum or segmentation fields outside the frame */
	VPC_VNET_GSO_KIND,	/* a segmentation kind other than TCP over IPv4 */
	VPC_VNET_NO_MBUF,	/* the pool ran out, or too many segments */
};

/*
 * Finish the checksum the header asks for (VIRTIO_NET_HDR_F_NEEDS_CSUM):
 * the field at csum_start + csum_offset holds the pseudo-header's sum; the
 * sum of everything from csum_start on, folded and inverted, replaces it
 * (0 becomes 0xffff for UDP, csum_offset 6).  0, or VPC_VNET_BAD_HDR.
 */
int vpc_vnet_finish_csum(uint8_t *f, uint32_t len, uint16_t csum_start, uint16_t csum_offset);

/*
 * Turn one frame of len bytes and its virtio-net header into mbufs from mp
 * (chained when a frame is longer than one mbuf's room): one, or one per
 * segment for a TCP/IPv4 super-frame (gso_size bytes of payload each, IP
 * identifiers counting up, sequence numbers advancing, FIN and PSH on the
 * last only, CWR on the first only; IPv4 and TCP checksums whole).  The
 * frame's buffer may be changed.  Returns how many mbufs were put in out
 * (at most max); 0 with *err set when the frame cannot be used.
 */
uint16_t vpc_vnet_to_mbufs(struct rte_mempool *mp, uint8_t *f, uint32_t len,
			   const struct virtio_net_hdr *h, struct rte_mbuf **out, uint16_t max,
			   enum vpc_vnet_err *err);

#endif /* VPC_OFFLOAD_H */
