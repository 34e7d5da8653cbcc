/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * vpc_pcapng.h -- the blocks of a pcapng file (the IETF draft
 * "PCAP Now Generic", draft-ietf-opsawg-pcapng): a section header, one
 * interface description, enhanced packet blocks.  What `vpcctl capture`
 * writes for both engines.
 *
 * Why our own writer rather than DPDK's rte_pcapng: the file is written
 * by vpcctl, which links no DPDK, from frames that come from either
 * engine (vpcd's control socket, or the XDP program's ring buffer), and
 * rte_pcapng works on mbufs and its own fd.  Three fixed blocks are less
 * code than an adapter.
 *
 * Every block is written in host byte order (the section header's
 * byte-order magic says which; readers swap).  Functions build a block
 * into a caller's buffer and return its length, or 0 when it does not
 * fit (nothing useful written).  No I/O, no allocation; thread-safe.
 */
#ifndef VPC_PCAPNG_H
#define VPC_PCAPNG_H

#include <stddef.h>
#include <stdint.h>

#define VPC_PCAPNG_SHB 0x0a0d0d0au
#define VPC_PCAPNG_IDB 0x00000001u
#define VPC_PCAPNG_EPB 0x00000006u
#define VPC_PCAPNG_BYTE_ORDER_MAGIC 0x1a2b3c4du
#define VPC_PCAPNG_LINKTYPE_ETHERNET 1

/* epb_flags' direction (bits 0-1). */
#define VPC_PCAPNG_DIR_IN  1u
#define VPC_PCAPNG_DIR_OUT 2u

/* Interface names longer than this are cut (a port name is far shorter). */
#define VPC_PCAPNG_NAME_MAX 64

/* An upper bound of an enhanced packet block of cap_len bytes. */
#define VPC_PCAPNG_EPB_SIZE(cap_len) (32u + (((cap_len) + 3u) & ~3u) + 12u + 4u)

/* The section header: no options, section length unknown (-1).  28 bytes. */
size_t vpc_pcapng_shb(uint8_t *buf, size_t size);

/*
 * An interface description: linktype, snaplen, and the options if_name
 * (name, cut at VPC_PCAPNG_NAME_MAX bytes) and if_tsresol (tsresol: the
 * timestamps' unit is 10^-tsresol s; 9: nanoseconds).
 */
size_t vpc_pcapng_idb(uint8_t *buf, size_t size, uint16_t linktype, uint32_t snaplen,
		      const char *name, uint8_t tsresol);

/* One frame. */
struct vpc_pcapng_packet {
	uint32_t if_id;		/* its interface description, from 0 */
	uint64_t ts;		/* in the interface's if_tsresol units */
	const void *data;
	uint32_t cap_len;	/* bytes of data */
	uint32_t orig_len;	/* the frame's length on the wire (>= cap_len) */
	uint32_t dir;		/* VPC_PCAPNG_DIR_*, or 0: no epb_flags option */
};

/* An enhanced packet block, with the option epb_flags when p->dir != 0. */
size_t vpc_pcapng_epb(uint8_t *buf, size_t size, const struct vpc_pcapng_packet *p);

#endif /* VPC_PCAPNG_H */
