/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * vpc_frag.h -- IPv4 fragments, one source for every engine: a non-first
 * fragment follows its datagram's first fragment (as Linux conntrack and
 * AWS do).
 *
 * Only the first fragment carries the L4 header, so only it is decided:
 * source checks, connection tracking, security groups, the route, the NAT.
 * When it is forwarded, the engine records what it left as (vpc_frag_note:
 * the egress, the path, its MACs and addresses after the rewrite, whether
 * the TTL went down) under the datagram's key -- the context it arrived
 * in, protocol, addresses, IP identification -- and each later fragment
 * with that key, arriving within VPC_FRAG_TIMEOUT_NS, leaves the same way
 * (vpc_frag_follow: the same MACs, TTL and translated address, the IP
 * checksum updated; it has no L4 header to translate).  A later fragment
 * of no recorded datagram -- alone, late, its first fragment refused or
 * not yet seen -- is dropped as ip-fragment.
 *
 * The records live in a direct-mapped table of VPC_FRAG_SLOTS per lcore
 * (DPDK) or per CPU (XDP): a datagram's fragments arrive on one port, so on
 * one lcore (DPDK deals a port's receive queue to one), and a newer
 * datagram may take an older one's slot (its later fragments are then
 * dropped: as a full reassembly queue would).
 *
 * Freestanding (no libc, no DPDK, no libbpf): the XDP program includes it.
 */
#ifndef VPC_FRAG_H
#define VPC_FRAG_H

#include <stdint.h>

#include "cksum.h"
#include "vpc_key.h"
#include "vpc_pkt.h"
#include "vpc_reasons.h"
#include "vpc_rewrite.h"

#define VPC_FRAG_SLOTS 1024			/* a power of two */
#define VPC_FRAG_TIMEOUT_NS 30000000000ull	/* 30 s: Linux's ipfrag_time */

/* A datagram's forwarding, as its first fragment left.  64 bytes.  (An
 * apply drops the records in effect: their generation is the old one.) */
struct vpc_frag_rec {
	struct vpc_ct_key key;	/* sport: the IP identification; dport 0 */
	uint64_t expires;	/* ns; 0: a free slot */
	uint32_t out;		/* the engine's port (DPDK) or slot (XDP) */
	uint32_t src, dst;	/* the addresses it left with */
	uint8_t dst_mac[6], src_mac[6];
	uint8_t path;		/* enum vpc_path */
	uint8_t ttl_dec;	/* routed: the TTL went down by one */
	uint16_t pad;
	uint32_t gen;		/* the tables' generation: an apply renumbers ports */
	uint8_t pad2[8];
};

/* The datagram key of the fragment with IPv4 header ip, arriving in ctx. */
static inline __attribute__((always_inline)) void
vpc_frag_key(struct vpc_ct_key *k, uint32_t ctx, const uint8_t *ip)
{
	k->ctx_proto = ctx | ip[9];
	k->src = vpc_load32(ip + 12);
	k->dst = vpc_load32(ip + 16);
	k->sport = vpc_load16(ip + 4);
	k->dport = 0;
}

/* The same, from the connection key of the first fragment as it arrived
 * (its addresses before any translation) and its IP identification. */
static inline __attribute__((always_inline)) void
vpc_frag_key_of(struct vpc_ct_key *k, const struct vpc_ct_key *conn, uint16_t id)
{
	k->ctx_proto = conn->ctx_proto;
	k->src = conn->src;
	k->dst = conn->dst;
	k->sport = id;
	k->dport = 0;
}

/* Its slot in the table. */
static inline __attribute__((always_inline)) uint32_t
vpc_frag_slot(const struct vpc_ct_key *k)
{
	uint32_t h = k->ctx_proto * 0x9e3779b1u;

	h ^= k->src * 0x85ebca6bu;
	h ^= k->dst * 0xc2b2ae35u;
	h ^= (uint32_t)k->sport * 0x27d4eb2fu;
	h ^= h >> 15;
	return h & (VPC_FRAG_SLOTS - 1);
}

/* A forwarded first fragment: record how it left (f: its frame after the
 * rewrite, at least 34 bytes; out, path: its verdict). */
static inline __attribute__((always_inline)) void
vpc_frag_note(struct vpc_frag_rec *r, const struct vpc_ct_key *k, const uint8_t *f, uint32_t out,
	      uint8_t path, uint32_t gen, uint64_t now)
{
	r->key = *k;
	r->gen = gen;
	r->expires = now + VPC_FRAG_TIMEOUT_NS;
	r->out = out;
	r->src = vpc_load32(f + VPC_OFF_IP + 12);
	r->dst = vpc_load32(f + VPC_OFF_IP + 16);
	vpc_mac_copy(r->dst_mac, f);
	vpc_mac_copy(r->src_mac, f + 6);
	r->path = path;
	r->ttl_dec = path != VPC_PATH_L2_SWITCH && path != VPC_PATH_OVERLAY_SWITCH &&
		     path != VPC_PATH_OVERLAY_IN;	/* the switched keep their TTL */
}

/*
 * A later fragment (frame f, 34 bytes at least; its key k): rewritten as
 * its first fragment was, or the reason it is dropped.  *out, *path: where
 * it goes.
 */
static inline __attribute__((always_inline)) uint8_t
vpc_frag_follow(const struct vpc_frag_rec *r, const struct vpc_ct_key *k, uint8_t *f,
		const uint8_t *end, uint32_t gen, uint64_t now, uint32_t *out, uint8_t *path)
{
	uint8_t *ip = f + VPC_OFF_IP;
	int nat = VPC_NAT_NONE;
	uint32_t to = 0;

	if (r->expires <= now || r->gen != gen || !vpc_ct_key_eq(&r->key, k))
		return VPC_DROP_IP_FRAGMENT;
	if (r->ttl_dec && ip[8] <= 1)
		return VPC_DROP_TTL_EXPIRED;
	if (vpc_load32(ip + 12) != r->src) {
		nat = VPC_NAT_SRC;
		to = r->src;
	} else if (vpc_load32(ip + 16) != r->dst) {
		nat = VPC_NAT_DST;
		to = r->dst;
	}
	/* (protocol 0: a later fragment has no L4 checksum to follow) */
	vpc_ipv4_rewrite(ip, ip + 20, end, 0, r->ttl_dec, nat, to);
	vpc_mac_copy(f, r->dst_mac);
	vpc_mac_copy(f + 6, r->src_mac);
	*out = r->out;
	*path = r->path;
	return VPC_DROP_NONE;
}

_Static_assert(sizeof(struct vpc_frag_rec) == 64, "fragment record layout");

#endif /* VPC_FRAG_H */
