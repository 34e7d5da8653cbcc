/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * vpc_geneve.h -- the overlay between hosts: Geneve (RFC 8926) over UDP
 * over IPv4, one source for every engine.
 *
 * A frame for an interface on another host leaves through the uplink with
 * 50 bytes in front: outer Ethernet (to the destination host's next hop),
 * outer IPv4 (this host's underlay address to the destination host's, DF,
 * TTL 64), UDP (a source port from the inner flow's hash, so the
 * underlay's ECMP spreads flows; destination 6081; checksum 0, as RFC 8926
 * allows over IPv4), Geneve (version 0, no options, protocol 0x6558: an
 * Ethernet frame; the VPC's VNI).  Each engine keeps one 50-byte template
 * per remote host (vpc_geneve_template) and fills in the lengths, the
 * source port and the VNI per frame (vpc_geneve_fill).
 *
 * On the receiving host vpc_geneve_inner checks the Geneve header the
 * parser's UDP payload starts with; who sent it (a known host, a known
 * VNI, an inner source that is an interface of that VPC on that host) is
 * the engine's to check, with its tables.
 *
 * Freestanding (no libc, no DPDK, no libbpf): the XDP program includes it.
 * Stateless: any thread.
 */
#ifndef VPC_GENEVE_H
#define VPC_GENEVE_H

#include <stdint.h>

#include "cksum.h"
#include "vpc_pkt.h"
#include "vpc_reasons.h"

#define VPC_GENEVE_PORT 6081
#define VPC_GENEVE_HLEN 50		/* outer Ethernet, IPv4, UDP, Geneve */
#define VPC_GENEVE_IP_AT 14
#define VPC_GENEVE_UDP_AT 34
#define VPC_GENEVE_HDR_AT 42
#define VPC_GENEVE_PROTO_TEB 0x6558	/* transparent Ethernet bridging */

/*
 * The 50 bytes in front of every frame to one remote host, as far as they
 * do not depend on the frame: lengths, IP identifier, source port and VNI
 * zero; the outer IPv4 checksum for those zeros (vpc_geneve_fill adds the
 * length).  Addresses as they lie in packets (network order).
 */
static inline void
vpc_geneve_template(uint8_t t[VPC_GENEVE_HLEN], const uint8_t dst_mac[6], const uint8_t src_mac[6],
		    uint32_t src_ip_be, uint32_t dst_ip_be)
{
	for (int i = 0; i < VPC_GENEVE_HLEN; i++)
		t[i] = 0;
	for (int i = 0; i < 6; i++) {
		t[i] = dst_mac[i];
		t[6 + i] = src_mac[i];
	}
	t[12] = 0x08;			/* IPv4 */
	uint8_t *ip = t + VPC_GENEVE_IP_AT;
	ip[0] = 0x45;
	ip[6] = 0x40;			/* DF: the underlay does not fragment */
	ip[8] = 64;
	ip[9] = 17;			/* UDP */
	__builtin_memcpy(ip + 12, &src_ip_be, 4);
	__builtin_memcpy(ip + 16, &dst_ip_be, 4);
	uint32_t sum = 0;
	for (int i = 0; i < 20; i += 2)
		sum += (uint32_t)vpc_load16(ip + i);
	vpc_store16(ip + 10, (uint16_t)~vpc_csum_fold(sum));
	uint8_t *udp = t + VPC_GENEVE_UDP_AT;
	udp[2] = VPC_GENEVE_PORT >> 8;
	udp[3] = VPC_GENEVE_PORT & 0xff;
	uint8_t *g = t + VPC_GENEVE_HDR_AT;
	g[2] = VPC_GENEVE_PROTO_TEB >> 8;
	g[3] = VPC_GENEVE_PROTO_TEB & 0xff;
}

/*
 * The outer UDP source port of an inner flow: a hash of its addresses,
 * ports and protocol in 49152..65535 (RFC 8926: the ephemeral range), the
 * same for every packet of one direction of a flow (a fragmented
 * datagram's: its addresses alone), different across flows.
 */
static inline __attribute__((always_inline)) uint16_t
vpc_geneve_sport(const struct vpc_pkt *p, uint32_t saddr, uint32_t daddr)
{
	uint32_t h = saddr * 0x9e3779b1u;

	h ^= daddr + 0x7f4a7c15u + (h << 6) + (h >> 2);
	/* A datagram's fragments all take its addresses' path (only the
	 * first has ports). */
	if (p->frag == VPC_FRAG_NONE)
		h ^= ((uint32_t)p->sport << 16 | p->dport) + (h << 6) + (h >> 2);
	h ^= p->proto;
	h ^= h >> 16;
	h *= 0x85ebca6bu;
	h ^= h >> 13;
	return (uint16_t)(0xc000 | (h & 0x3fff));
}

/*
 * Fill the 50 bytes in front of an inner frame of inner_len bytes from a
 * remote host's template: the outer IPv4 total length (and its checksum),
 * the UDP length and source port, the VNI.  sport in host order, vni the
 * VPC's (24 bits).
 */
static inline __attribute__((always_inline)) void
vpc_geneve_fill(uint8_t *o, const uint8_t *tmpl, uint32_t inner_len, uint16_t sport, uint32_t vni)
{
#ifdef __bpf__
	/* (2-byte moves: both are 2-aligned, which BPF's memcpy cannot know) */
	VPC_UNROLL
	for (int i = 0; i < VPC_GENEVE_HLEN; i += 2)
		vpc_store16(o + i, vpc_load16(tmpl + i));
#else
	__builtin_memcpy(o, tmpl, VPC_GENEVE_HLEN);	/* three vector moves and one */
#endif
	uint8_t *ip = o + VPC_GENEVE_IP_AT;
	uint16_t tot = (uint16_t)(20 + 8 + 8 + inner_len);
	uint16_t tot_be = (uint16_t)(tot >> 8 | tot << 8);
	vpc_store16(ip + 2, tot_be);
	vpc_store16(ip + 10, (uint16_t)~vpc_csum_fold((uint32_t)(uint16_t)~vpc_load16(ip + 10) + tot_be));
	uint8_t *udp = o + VPC_GENEVE_UDP_AT;
	udp[0] = (uint8_t)(sport >> 8);
	udp[1] = (uint8_t)sport;
	udp[4] = (uint8_t)((tot - 20) >> 8);
	udp[5] = (uint8_t)(tot - 20);
	uint8_t *g = o + VPC_GENEVE_HDR_AT;
	g[4] = (uint8_t)(vni >> 16);
	g[5] = (uint8_t)(vni >> 8);
	g[6] = (uint8_t)vni;
}

/*
 * A frame the parser found to be UDP to port 6081: is its payload a
 * Geneve header this dataplane accepts?  l4: the UDP header; end: the
 * frame's end.  Version 0, no control bit (OAM frames are not forwarded),
 * protocol 0x6558, options skipped by their length, a whole inner
 * Ethernet header after them.  Returns 0 with the VNI and the inner
 * frame's offset from l4, or a drop reason.
 */
static inline __attribute__((always_inline)) uint8_t
vpc_geneve_inner(const uint8_t *l4, const uint8_t *end, uint32_t *vni, uint32_t *inner_off)
{
	const uint8_t *g = l4 + 8;

	if (g + 8 > end)
		return VPC_DROP_OVERLAY_MALFORMED;
	uint32_t opt_len = (uint32_t)(g[0] & 0x3f) * 4;
	if ((g[0] >> 6) != 0 || (g[1] & 0x80) != 0 ||
	    g[2] != (VPC_GENEVE_PROTO_TEB >> 8) || g[3] != (VPC_GENEVE_PROTO_TEB & 0xff))
		return VPC_DROP_OVERLAY_MALFORMED;
	*inner_off = 8 + 8 + opt_len;
	if (l4 + *inner_off + 14 > end)
		return VPC_DROP_OVERLAY_MALFORMED;
	*vni = (uint32_t)g[4] << 16 | (uint32_t)g[5] << 8 | g[6];
	return VPC_DROP_NONE;
}

#endif /* VPC_GENEVE_H */
