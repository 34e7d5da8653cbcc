/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * vpc_parse.h -- the parse stage, one source for every engine: a frame
 * into the packet record (struct vpc_pkt) every later stage reads, or a
 * drop with its reason.
 *
 * Every read goes through a bounds cursor (struct vpc_cursor): a header is
 * taken only after "position + its length <= end" was checked, the shape
 * the BPF verifier proves and the DPDK engine pays one compare for.
 * Ethernet (no VLAN tag), ARP (Ethernet/IPv4), IPv4 without options (its
 * version, length and header checksum checked; a fragment marked: a first
 * one parsed on, a later one -- no L4 header -- left to vpc_frag.h), then
 * TCP (data offset inside the payload), UDP (length inside the payload)
 * or ICMP (8 bytes); other protocols pass with no ports.  The header an
 * ICMP error quotes is read later, by vpc_icmp_quote_flow (vpc_icmp.h).
 *
 * Freestanding (no libc, no DPDK, no libbpf): gcc builds it for the DPDK
 * engine and the tests, clang -target bpf for the XDP program.
 *
 * What the including engine may define before the include:
 *   VPC_IPV4_HDR_SUM_OK(ip)  nonzero when the 20-byte header at ip sums
 *                            to ffff; the default adds ten 16-bit words
 *                            (the BPF shape; DPDK adds five 32-bit words).
 *
 * Stateless: any thread; the record belongs to the caller.
 */
#ifndef VPC_PARSE_H
#define VPC_PARSE_H

#include <stdint.h>

#include "cksum.h"
#include "vpc_icmp.h"
#include "vpc_pkt.h"
#include "vpc_reasons.h"	/* drop reasons */

/* The bounds cursor: the next unread byte and the frame's end. */
struct vpc_cursor {
	const uint8_t *pos;
	const uint8_t *end;
};

/* The next n bytes, or NULL (the cursor unmoved) when the frame ends
 * first. */
static inline __attribute__((always_inline)) const uint8_t *
vpc_cursor_take(struct vpc_cursor *c, uint32_t n)
{
	const uint8_t *p = c->pos;

	if (VPC_UNLIKELY(p + n > c->end))
		return (const uint8_t *)0;
	c->pos = p + n;
	return p;
}

#ifndef VPC_IPV4_HDR_SUM_OK
static inline __attribute__((always_inline)) int
vpc_ipv4_hdr_sum_ok16(const uint8_t *ip)
{
	uint32_t sum = 0;
VPC_UNROLL
	for (int i = 0; i < 20; i += 2)
		sum += vpc_load16(ip + i);
	return vpc_csum_fold(sum) == 0xffff;
}
#define VPC_IPV4_HDR_SUM_OK(ip) vpc_ipv4_hdr_sum_ok16(ip)
#endif

/* The L4 header at the cursor (len bytes of IP payload): its ports or
 * ICMP identifier and type into m, or a drop reason.  Read into locals
 * and stored once: a store into the record through a byte pointer would
 * make the compiler reload what it already read (the frame might alias
 * the record). */
static inline __attribute__((always_inline)) uint8_t
vpc_parse_l4(struct vpc_cursor *c, uint8_t proto, uint32_t len, struct vpc_pkt *m)
{
	const uint8_t *l4;
	uint16_t sport = 0, dport = 0;
	uint8_t flags = 0, type = 0, code = 0, error = 0;

	switch (proto) {
	case VPC_IPPROTO_TCP: {
		uint32_t doff;
		if (VPC_UNLIKELY(len < 20 || (l4 = vpc_cursor_take(c, 20)) == 0))
			return VPC_DROP_L4_TRUNCATED;
		doff = l4[12] >> 4;
		if (VPC_UNLIKELY(doff < 5 || doff * 4 > len))
			return VPC_DROP_L4_TRUNCATED;
		sport = vpc_load16(l4);
		dport = vpc_load16(l4 + 2);
		flags = l4[13];
		break;
	}
	case VPC_IPPROTO_UDP: {
		uint16_t dl;
		if (VPC_UNLIKELY(len < 8 || (l4 = vpc_cursor_take(c, 8)) == 0))
			return VPC_DROP_L4_TRUNCATED;
		dl = __builtin_bswap16(vpc_load16(l4 + 4));
		/* (a first fragment carries only the start of its datagram) */
		if (VPC_UNLIKELY(dl < 8 || (dl > len && m->frag != VPC_FRAG_FIRST)))
			return VPC_DROP_L4_TRUNCATED;
		sport = vpc_load16(l4);
		dport = vpc_load16(l4 + 2);
		break;
	}
	case VPC_IPPROTO_ICMP: {
		uint8_t td[2];
		if (VPC_UNLIKELY(len < 8 || (l4 = vpc_cursor_take(c, 8)) == 0))
			return VPC_DROP_L4_TRUNCATED;
		type = l4[0];
		code = l4[1];
		error = (uint8_t)vpc_icmp_is_error(type);
		/* Query/reply pairs by identifier, others by type and code. */
		if (vpc_icmp_is_query(type))
			sport = vpc_load16(l4 + 4);
		td[0] = type;
		td[1] = code;
		__builtin_memcpy(&dport, td, 2);	/* type, code: network order */
		break;
	}
	default:
		break;
	}
	m->sport = sport;
	m->dport = dport;
	m->tcp_flags = flags;
	m->icmp_type = type;
	m->icmp_code = code;
	m->icmp_error = error;
	return VPC_DROP_NONE;
}

/* IPv4 without options at the cursor (the frame's end bounds the total
 * length), then its L4 header. */
static inline __attribute__((always_inline)) uint8_t
vpc_parse_ipv4(struct vpc_cursor *c, struct vpc_pkt *m)
{
	const uint8_t *ip = c->pos;
	uint32_t avail = (uint32_t)(c->end - ip);
	uint16_t tot, fo;
	uint8_t vihl, proto;

	if (VPC_UNLIKELY(vpc_cursor_take(c, 20) == 0))
		return VPC_DROP_IP_TRUNCATED;
	vihl = ip[0];
	if (VPC_UNLIKELY((vihl >> 4) != 4))
		return VPC_DROP_IP_VERSION;
	if (VPC_UNLIKELY((vihl & 0xf) != 5))
		return (vihl & 0xf) < 5 ? VPC_DROP_IP_IHL : VPC_DROP_IP_OPTIONS;
	tot = __builtin_bswap16(vpc_load16(ip + 2));
	if (VPC_UNLIKELY(tot < 20 || tot > avail))
		return VPC_DROP_IP_TRUNCATED;
	/* A correct header, checksum field included, sums to ffff. */
	if (VPC_UNLIKELY(!VPC_IPV4_HDR_SUM_OK(ip)))
		return VPC_DROP_IP_CHECKSUM;
	proto = ip[9];
	m->tot_len = tot;
	m->proto = proto;
	m->l4_len = (uint16_t)(tot - 20);
	fo = __builtin_bswap16(vpc_load16(ip + 6));
	if (VPC_UNLIKELY(fo & 0x3fff)) {
		if (fo & 0x1fff) {		/* a later fragment: no L4 header */
			m->frag = VPC_FRAG_LATER;
			m->sport = m->dport = 0;
			m->tcp_flags = m->icmp_type = m->icmp_code = m->icmp_error = 0;
			return VPC_DROP_NONE;
		}
		m->frag = VPC_FRAG_FIRST;
	} else {
		m->frag = VPC_FRAG_NONE;
	}
	return vpc_parse_l4(c, proto, (uint32_t)tot - 20, m);
}

/* An Ethernet/IPv4 ARP packet at the cursor (28 bytes). */
static inline __attribute__((always_inline)) uint8_t
vpc_parse_arp(struct vpc_cursor *c)
{
	const uint8_t *a = vpc_cursor_take(c, 28);

	if (a == 0 || vpc_load16(a) != VPC_BE16(1) || vpc_load16(a + 2) != VPC_BE16(VPC_ETH_P_IP) ||
	    a[4] != 6 || a[5] != 4)
		return VPC_DROP_ARP_MALFORMED;
	return VPC_DROP_NONE;
}

/* The frame [data, end) into m. */
static inline __attribute__((always_inline)) void
vpc_parse(const uint8_t *data, const uint8_t *end, struct vpc_pkt *m)
{
	struct vpc_cursor c = { data, end };
	const uint8_t *eth = vpc_cursor_take(&c, 14);
	uint16_t type;
	uint8_t reason;

	if (VPC_UNLIKELY(eth == 0)) {
		m->kind = VPC_PKT_DROP;
		m->reason = VPC_DROP_FRAME_TRUNCATED;
		return;
	}
	type = vpc_load16(eth + 12);
	if (__builtin_expect(type == VPC_BE16(VPC_ETH_P_IP), 1)) {
		reason = vpc_parse_ipv4(&c, m);
		m->kind = reason == VPC_DROP_NONE ? VPC_PKT_IPV4 : VPC_PKT_DROP;
		m->reason = reason;
		return;
	}
	if (type == VPC_BE16(VPC_ETH_P_ARP)) {
		reason = vpc_parse_arp(&c);
		m->kind = reason == VPC_DROP_NONE ? VPC_PKT_ARP : VPC_PKT_DROP;
		m->reason = reason;
		return;
	}
	m->kind = VPC_PKT_DROP;
	m->reason = type == VPC_BE16(VPC_ETH_P_8021Q) || type == VPC_BE16(VPC_ETH_P_8021AD) ?
		    VPC_DROP_VLAN_TAGGED : VPC_DROP_ETHERTYPE;
}

#endif /* VPC_PARSE_H */
