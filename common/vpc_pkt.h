/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * vpc_pkt.h -- the packet record the parse stage fills (vpc_parse.h) and
 * every later stage of both engines reads, with the offsets and protocol
 * numbers it speaks in.
 *
 * Freestanding (no libc, no DPDK, no libbpf): the XDP program includes it.
 * A record belongs to the packet's caller (one lcore, one CPU).
 */
#ifndef VPC_PKT_H
#define VPC_PKT_H

#include <stdint.h>

/* A loop of constant trip count unrolled (the BPF target wants no loops
 * on the packet path; gcc unrolls such short loops by itself). */
#ifdef __clang__
#define VPC_UNROLL _Pragma("unroll")
#else
#define VPC_UNROLL
#endif

/* A check that fails only for bad input: its failure laid out of line. */
#define VPC_UNLIKELY(x) __builtin_expect(!!(x), 0)

/* Where the headers lie: IPv4 options are dropped, so L4 is at 34. */
#define VPC_OFF_IP 14
#define VPC_OFF_L4 34

#define VPC_ETH_P_IP 0x0800
#define VPC_ETH_P_ARP 0x0806
#define VPC_ETH_P_8021Q 0x8100
#define VPC_ETH_P_8021AD 0x88a8

#define VPC_IPPROTO_ICMP 1
#define VPC_IPPROTO_TCP 6
#define VPC_IPPROTO_UDP 17

/* Network order of a 16-bit constant, at compile time. */
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
#define VPC_BE16(x) ((uint16_t)((((x) & 0xff) << 8) | (((x) >> 8) & 0xff)))
#define VPC_BE32(x) ((uint32_t)((((x) & 0xffu) << 24) | (((x) & 0xff00u) << 8) | \
				(((x) >> 8) & 0xff00u) | (((x) >> 24) & 0xffu)))
#else
#define VPC_BE16(x) ((uint16_t)(x))
#define VPC_BE32(x) ((uint32_t)(x))
#endif

enum vpc_pkt_kind {
	VPC_PKT_DROP,		/* reason says why */
	VPC_PKT_ARP,		/* an Ethernet/IPv4 ARP packet, 28 bytes at 14 */
	VPC_PKT_IPV4,		/* IPv4 at 14, its payload at 34 */
};

/* Is it a fragment (vpc_frag.h)? */
enum vpc_pkt_frag {
	VPC_FRAG_NONE,		/* a whole datagram */
	VPC_FRAG_FIRST,		/* offset 0, more fragments: has the L4 header */
	VPC_FRAG_LATER,		/* offset > 0: no L4 header; follows its first */
};

/* What the parse stage learned about one packet.  16 bytes. */
struct vpc_pkt {
	uint8_t kind;		/* enum vpc_pkt_kind */
	uint8_t reason;		/* VPC_PKT_DROP: enum vpc_drop_reason */
	uint8_t proto;		/* IP protocol */
	uint8_t tcp_flags;	/* TCP: VPC_TCP_* (vpc_tcp.h) */
	uint8_t icmp_type, icmp_code;
	uint8_t icmp_error;	/* unreachable, time exceeded, parameter problem */
	uint8_t frag;		/* enum vpc_pkt_frag */
	uint16_t l4_len;	/* bytes of IP payload (inside the frame) */
	uint16_t tot_len;	/* the IP total length, host order */
	uint16_t sport, dport;	/* network order; the connection key's ports:
				 * ICMP: identifier (queries), type << 8 | code */
};

#endif /* VPC_PKT_H */
