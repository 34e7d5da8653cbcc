/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * vpc_natgw.h -- the NAT gateway's translation, one source for every
 * engine: which source port (ICMP identifier) a new connection through a
 * NAT gateway is offered, and the port rewrites of its packets and of the
 * ICMP errors about it.
 *
 * Port allocation.  A connection through a NAT gateway leaves with the
 * gateway's elastic IP and a port p, so its replies arrive on the uplink
 * with the key (remote, elastic IP, remote port, p): p is free exactly
 * when no tracked connection has that reply key.  The engines therefore
 * need no port table: they try the candidates vpc_natgw_port() names, in
 * order, and take the first whose reply key the connection table does not
 * hold (an expired holder is removed and counts as free, so both engines
 * choose the same port whatever their sweeps have reclaimed).  Ports are
 * distinct per destination (address, port, protocol): every destination
 * has the 64,512 ports 1024..65535.  The first candidate is the
 * connection's own source port (when >= 1024); the next ones walk a
 * permutation of the 16-bit space (double hashing with an odd stride),
 * skipping the ports below 1024, so up to VPC_NATGW_PROBES distinct ports
 * are tried: at 55,000 connections to one destination (85 % of its
 * ports) a new one fails to find a port with probability 0.85^256, about
 * 1e-18 -- at worst a refusal counted as natgw-exhausted, never a
 * collision.
 *
 * Freestanding (no libc, no DPDK, no libbpf): the XDP program includes it.
 * Stateless: any thread.
 */
#ifndef VPC_NATGW_H
#define VPC_NATGW_H

#include <stdint.h>

#include "cksum.h"
#include "vpc_icmp.h"
#include "vpc_key.h"

#define VPC_NATGW_PORT_MIN 1024		/* the ports a NAT gateway gives out */
#define VPC_NATGW_PROBES 256		/* candidates tried per new connection */

static inline __attribute__((always_inline)) uint32_t
vpc_natgw_mix(uint32_t h)
{
	h ^= h >> 16;
	h *= 0x85ebca6bu;
	h ^= h >> 13;
	h *= 0xc2b2ae35u;
	h ^= h >> 16;
	return h;
}

/*
 * Candidate `attempt` (0 .. VPC_NATGW_PROBES - 1) for the connection whose
 * first packet has key k (as it arrived from the interface): a port in
 * network order, or 0 when this attempt names none (a port below 1024).
 */
static inline __attribute__((always_inline)) uint16_t
vpc_natgw_port(const struct vpc_ct_key *k, uint32_t attempt)
{
	/* The identifier of an ICMP query is its sport. */
	uint16_t own = __builtin_bswap16(k->sport);

	if (attempt == 0)
		return own >= VPC_NATGW_PORT_MIN ? k->sport : 0;
	uint32_t h1 = vpc_natgw_mix(k->src ^ vpc_natgw_mix(k->dst ^ vpc_natgw_mix(
			(uint32_t)k->sport << 16 ^ k->dport ^ k->ctx_proto)));
	uint32_t h2 = vpc_natgw_mix(h1 ^ 0x9e3779b9u) | 1;
	uint32_t p = (h1 + (attempt - 1) * h2) & 0xffff;
	return p < VPC_NATGW_PORT_MIN ? 0 : __builtin_bswap16((uint16_t)p);
}

/*
 * The port of a translated packet: its TCP/UDP source (src) or
 * destination port, or an ICMP query's identifier, becomes `port`
 * (network order), with the L4 checksum updated (RFC 1624; a UDP checksum
 * of 0 stays 0, a computed 0 is sent as ffff).  l4: the L4 header, its
 * checked 8 bytes (TCP: 18) inside the frame ending at end.
 */
static inline __attribute__((always_inline)) void
vpc_l4_port_rewrite(uint8_t *l4, const uint8_t *end, uint8_t proto, int src, uint16_t port)
{
	if (proto == 6) {				/* TCP */
		if (l4 + 18 > end)
			return;
		uint8_t *f = l4 + (src ? 0 : 2);
		uint16_t old = vpc_load16(f);
		vpc_store16(f, port);
		vpc_csum_replace2(l4 + 16, old, port);
	} else if (proto == 17) {			/* UDP */
		if (l4 + 8 > end)
			return;
		uint8_t *f = l4 + (src ? 0 : 2);
		uint16_t old = vpc_load16(f);
		vpc_store16(f, port);
		if (vpc_load16(l4 + 6) != 0) {
			vpc_csum_replace2(l4 + 6, old, port);
			if (vpc_load16(l4 + 6) == 0)
				vpc_store16(l4 + 6, 0xffff);
		}
	} else if (proto == 1) {			/* ICMP query: identifier */
		if (l4 + 8 > end)
			return;
		uint16_t old = vpc_load16(l4 + 4);
		vpc_store16(l4 + 4, port);
		vpc_csum_replace2(l4 + 2, old, port);
	}
}

/*
 * An ICMP error about a connection a NAT gateway translates: the quoted
 * packet's port (its source when quoted_src, else its destination; a
 * quoted ICMP query's identifier) becomes `port` (network order), with
 * the quoted UDP checksum (when present) and the ICMP checksum updated.
 * Only what lies inside the IP payload (avail bytes after the 8-byte ICMP
 * header at icmp) and the frame (end) is read or written, as
 * vpc_icmp_quote_nat: a whole quoted IPv4 header and 8 bytes after it.
 */
static inline __attribute__((always_inline)) void
vpc_icmp_quote_port(uint8_t *icmp, const uint8_t *end, uint32_t avail, int quoted_src,
		    uint16_t port)
{
	uint8_t *in = icmp + 8;

	if (in + 20 > end || avail < 28)
		return;
	uint32_t ihl = (uint32_t)(in[0] & 0xf) * 4;
	if (ihl < 20 || ihl + 8 > avail)
		return;
	uint8_t *l4 = in + (ihl & 0x3c);
	if (l4 + 8 > end)
		return;
	uint8_t proto = in[9];
	uint8_t *f;
	if (proto == 6 || proto == 17)
		f = l4 + (quoted_src ? 0 : 2);
	else if (proto == 1 && vpc_icmp_is_query(l4[0]))
		f = l4 + 4;
	else
		return;
	uint16_t old = vpc_load16(f);
	vpc_store16(f, port);
	vpc_csum_replace2(icmp + 2, old, port);
	/* The quoted checksum that covers the port: UDP's (when present),
	 * an ICMP query's; a quoted TCP checksum lies past the 8 bytes. */
	uint8_t *qc = proto == 17 ? l4 + 6 : proto == 1 ? l4 + 2 : 0;
	if (qc == 0 || (proto == 17 && vpc_load16(qc) == 0))
		return;
	uint16_t oc = vpc_load16(qc);
	vpc_csum_replace2(qc, old, port);
	if (proto == 17 && vpc_load16(qc) == 0)
		vpc_store16(qc, 0xffff);
	vpc_csum_replace2(icmp + 2, oc, vpc_load16(qc));
}

#endif /* VPC_NATGW_H */
