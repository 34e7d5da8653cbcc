/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * vpc_rewrite.h -- what the apply stage writes into a frame, one source
 * for every engine: the ARP request turned into its reply, the TTL, the
 * elastic-IP NAT with its checksums (RFC 1624 updates, cksum.h), and the
 * one NAT enum both engines' actions carry.
 *
 * Freestanding (no libc, no DPDK, no libbpf): the XDP program includes it.
 * Every pointer is into the frame the caller owns; what each function
 * touches is said with it, and the caller has checked it is in the frame
 * (the BPF verifier sees the checks the functions make themselves).
 * Stateless: any thread.
 */
#ifndef VPC_REWRITE_H
#define VPC_REWRITE_H

#include <stdint.h>

#include "cksum.h"

/* What a connection's action translates. */
enum vpc_nat {
	VPC_NAT_NONE,
	VPC_NAT_SRC,	/* the source becomes the elastic IP (egress) */
	VPC_NAT_DST,	/* the destination becomes the private IP (ingress) */
};

/* A MAC: one 32-bit and one 16-bit move (MACs lie at even offsets of
 * 2-aligned frames). */
static inline __attribute__((always_inline)) void
vpc_mac_copy(uint8_t *dst, const uint8_t *src)
{
	__builtin_memcpy(VPC_ALIGNED4(dst), VPC_ALIGNED4(src), 4);
	__builtin_memcpy(__builtin_assume_aligned(dst + 4, 2), __builtin_assume_aligned(src + 4, 2), 2);
}

/*
 * Turn the ARP request at arp (Ethernet frame eth; 28 bytes of ARP after
 * its 14) in place into the reply "the target address is at mac", sent
 * back to the asker.
 */
static inline __attribute__((always_inline)) void
vpc_arp_reply(uint8_t *eth, uint8_t *arp, const uint8_t *mac)
{
	uint32_t tip = vpc_load32(arp + 24);

	vpc_mac_copy(eth, arp + 8);		/* to the asker */
	vpc_mac_copy(eth + 6, mac);
	arp[6] = 0;				/* opcode 2: reply */
	arp[7] = 2;
	vpc_mac_copy(arp + 18, arp + 8);	/* target: the asker */
	vpc_store32(arp + 24, vpc_load32(arp + 14));
	vpc_mac_copy(arp + 8, mac);		/* sender: the answer */
	vpc_store32(arp + 14, tip);
}

/*
 * Rewrite an IPv4 header (20 bytes at ip; its L4 header at l4, the frame
 * ending at end): the TTL decremented when ttl_dec (the caller checked it
 * is above 1), the source or destination address (nat) replaced by `to`
 * (network order).  The header checksum is updated once for both (the TTL
 * word is built in a register and stored once: writing the byte and
 * reading the word back would stall store forwarding); a TCP or UDP
 * checksum, which covers the addresses through the pseudo-header, follows
 * the NAT (a UDP checksum of 0 means none and stays 0; a computed 0 is
 * sent as ffff).
 */
static inline __attribute__((always_inline)) void
vpc_ipv4_rewrite(uint8_t *ip, uint8_t *l4, const uint8_t *end, uint8_t proto, int ttl_dec,
		 int nat, uint32_t to)
{
	if (!ttl_dec && nat == VPC_NAT_NONE)
		return;
	uint32_t sum = (uint16_t)~vpc_load16(ip + 10);
	if (ttl_dec) {
		uint16_t old = vpc_load16(ip + 8), new_ = old;
		((uint8_t *)&new_)[0] = (uint8_t)(((uint8_t *)&old)[0] - 1);
		vpc_store16(ip + 8, new_);
		sum += (uint16_t)~old;
		sum += new_;
	}
	if (nat == VPC_NAT_NONE) {
		vpc_store16(ip + 10, (uint16_t)~vpc_csum_fold(sum));
		return;
	}
	/* The address in the same update of the header checksum. */
	uint8_t *field = ip + (nat == VPC_NAT_SRC ? 12 : 16);
	uint32_t from = vpc_load32(field);
	sum += (uint16_t)~(from & 0xffff);
	sum += (uint16_t)~(from >> 16);
	sum += to & 0xffff;
	sum += to >> 16;
	vpc_store16(ip + 10, (uint16_t)~vpc_csum_fold(sum));
	vpc_store32(field, to);
	if (proto == 6) {			/* TCP */
		if (l4 + 18 <= end)
			vpc_csum_replace4(l4 + 16, from, to);
	} else if (proto == 17) {		/* UDP */
		if (l4 + 8 <= end && vpc_load16(l4 + 6) != 0) {
			vpc_csum_replace4(l4 + 6, from, to);
			if (vpc_load16(l4 + 6) == 0)
				vpc_store16(l4 + 6, 0xffff);
		}
	}
}

#endif /* VPC_REWRITE_H */
