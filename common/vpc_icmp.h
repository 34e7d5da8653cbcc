/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * vpc_icmp.h -- ICMP as connection tracking sees it, one source for every
 * engine: which messages are queries (paired with their replies by
 * identifier) and which are errors (carrying the start of the packet they
 * are about), the reply type of a query, and the translation of an
 * error's quoted header through a NAT.
 *
 * Freestanding (no libc, no DPDK, no libbpf): the XDP program includes it.
 * Stateless: any thread.
 */
#ifndef VPC_ICMP_H
#define VPC_ICMP_H

#include <stdint.h>

#include "cksum.h"

/* Queries and their replies: echo, timestamp, information, address mask. */
static inline __attribute__((always_inline)) int
vpc_icmp_is_query(uint8_t type)
{
	return type == 0 || type == 8 || (type >= 13 && type <= 18);
}

/* Errors: destination unreachable, time exceeded, parameter problem. */
static inline __attribute__((always_inline)) int
vpc_icmp_is_error(uint8_t type)
{
	return type == 3 || type == 11 || type == 12;
}

/* The reply type of a query type, and back; any other type is itself. */
static inline __attribute__((always_inline)) uint8_t
vpc_icmp_peer_type(uint8_t type)
{
	switch (type) {
	case 8:
		return 0;
	case 0:
		return 8;
	case 13: case 15: case 17:
		return (uint8_t)(type + 1);
	case 14: case 16: case 18:
		return (uint8_t)(type - 1);
	default:
		return type;
	}
}

/*
 * An ICMP error carries the start of the packet it is about.  When the
 * outer header's address `from` becomes `to` (NAT), the quoted header is
 * translated back the same way -- its source when quoted_src (the outer
 * destination was translated), else its destination -- so the receiver
 * sees in the quote the address it knows.  Fixes the quoted IP checksum,
 * the quoted UDP checksum when present (a quoted TCP checksum lies past
 * the 8 bytes an error carries), and the ICMP checksum over all of it.
 *
 * icmp: the ICMP header (its 8 bytes are in the frame); avail: the bytes
 * of IP payload after it; end: the end of the frame.  Only what lies
 * inside both is read or written: the quoted IP header when all 20 bytes
 * of it are there, its UDP checksum when the quoted header's length is
 * sane and 8 bytes follow it.  (A probe once found an engine reading and
 * writing a quote the frame did not have.)  Addresses in network order.
 */
static inline __attribute__((always_inline)) void
vpc_icmp_quote_nat(uint8_t *icmp, const uint8_t *end, uint32_t avail, int quoted_src,
		   uint32_t from, uint32_t to)
{
	uint8_t *in = icmp + 8;
	uint32_t cur;

	if (avail < 20 || in + 20 > end)
		return;
	uint8_t *field = in + (quoted_src ? 12 : 16);
	cur = vpc_load32(field);
	if (cur != from)
		return;
	uint16_t old_ipc = vpc_load16(in + 10);
	vpc_store32(field, to);
	vpc_csum_replace4(in + 10, from, to);
	vpc_csum_replace4(icmp + 2, from, to);
	vpc_csum_replace2(icmp + 2, old_ipc, vpc_load16(in + 10));
	uint32_t ihl = (uint32_t)(in[0] & 0xf) * 4;
	if (in[9] != 17 /* UDP */ || ihl < 20 || ihl + 8 > avail)
		return;
	uint8_t *udp = in + (ihl & 0x3c);
	if (udp + 8 > end)
		return;
	uint16_t old = vpc_load16(udp + 6);
	if (old == 0)
		return;		/* no checksum */
	vpc_csum_replace4(udp + 6, from, to);
	if (vpc_load16(udp + 6) == 0)
		vpc_store16(udp + 6, 0xffff);	/* a computed 0 is sent as ffff */
	vpc_csum_replace2(icmp + 2, old, vpc_load16(udp + 6));
}

/* A connection's 5-tuple as its packets arrive (addresses and ports in
 * network order, as they lie in the headers). */
struct vpc_flow {
	uint32_t src, dst;
	uint16_t sport, dport;	/* TCP/UDP ports; ICMP: identifier, type << 8 | code */
	uint8_t proto;
};

/*
 * The connection an ICMP error is about, as that connection's packets
 * arrive here: the reverse of the quoted packet (which went the other
 * way).  icmp: the ICMP header (8 bytes in the frame); avail: the bytes of
 * IP payload after it; end: the frame's end.  0 when the quote is not a
 * whole IPv4 header and 8 bytes of what it carried, inside both.
 */
static inline __attribute__((always_inline)) int
vpc_icmp_quote_flow(const uint8_t *icmp, const uint8_t *end, uint32_t avail, struct vpc_flow *f)
{
	const uint8_t *in = icmp + 8;

	if (in + 20 > end)
		return 0;
	uint8_t vihl = in[0];
	uint32_t ihl = (uint32_t)(vihl & 0xf) * 4;
	if (avail < 28 || (vihl >> 4) != 4 || ihl < 20 || ihl + 8 > avail)
		return 0;
	const uint8_t *l4 = in + (ihl & 0x3c);
	if (l4 + 8 > end)
		return 0;
	f->proto = in[9];
	f->src = vpc_load32(in + 16);
	f->dst = vpc_load32(in + 12);
	f->sport = f->dport = 0;
	if (f->proto == 6 || f->proto == 17) {		/* TCP, UDP */
		f->sport = vpc_load16(l4 + 2);
		f->dport = vpc_load16(l4);
	} else if (f->proto == 1) {			/* ICMP: pairs by identifier */
		uint8_t td[2] = { vpc_icmp_peer_type(l4[0]), l4[1] };
		if (vpc_icmp_is_query(l4[0]))
			f->sport = vpc_load16(l4 + 4);
		__builtin_memcpy(&f->dport, td, 2);	/* type, code: network order */
	}
	return 1;
}

#endif /* VPC_ICMP_H */
