/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * vpc_key.h -- connection keys, one source for every engine: the key a
 * packet looks its connection up with, the key a new connection's replies
 * will arrive with (after its NAT, in the context they enter), and the key
 * of the connection an ICMP error quotes.
 *
 * A connection has two keys, one per direction; both engines' tables map
 * each to the connection.  ICMP queries pair by identifier: the reply's
 * key carries the peer type (echo -> echo reply), so a reply finds its
 * request's connection; errors and other ICMP carry type and code.
 *
 * Freestanding (no libc, no DPDK, no libbpf): gcc builds it for the DPDK
 * engine, the XDP engine's user space and the tests, clang -target bpf for
 * the XDP program (the map's key layout).  Stateless: any thread.
 */
#ifndef VPC_KEY_H
#define VPC_KEY_H

#include <stdint.h>

#include "vpc_icmp.h"
#include "vpc_pkt.h"
#include "vpc_rewrite.h"	/* enum vpc_nat */

/* 16 bytes, 16-aligned: the DPDK hash compares it in one SSE instruction;
 * the XDP connection map's key. */
struct vpc_ct_key {
	uint32_t ctx_proto;	/* VNI << 8 | IP protocol; VNI 0: the uplink */
	uint32_t src;		/* network order */
	uint32_t dst;
	uint16_t sport;		/* TCP/UDP ports; ICMP: identifier (queries), */
	uint16_t dport;		/* type << 8 | code (network order) */
} __attribute__((aligned(16)));

/* The key of the packet m (addresses src, dst as in its IP header),
 * arriving in context ctx (VNI << 8). */
static inline __attribute__((always_inline)) void
vpc_ct_key_fwd(struct vpc_ct_key *k, uint32_t ctx, const struct vpc_pkt *m, uint32_t src,
	       uint32_t dst)
{
	k->ctx_proto = ctx | m->proto;
	k->src = src;
	k->dst = dst;
	k->sport = m->sport;
	k->dport = m->dport;
}

/* A reply key's port on the NAT gateway's side (network order): the
 * destination port, or an ICMP query's identifier. */
static inline __attribute__((always_inline)) void
vpc_ct_key_set_nat_port(struct vpc_ct_key *r, uint8_t proto, uint16_t port)
{
	if (proto == VPC_IPPROTO_ICMP)
		r->sport = port;
	else
		r->dport = port;
}

/*
 * The key a new connection's replies will arrive with.  m, src, dst: its
 * first packet; nat, nat_addr, nat_port: its direction-0 translation (a
 * source translated to an elastic IP is answered on the uplink, context
 * 0, to that address -- and, through a NAT gateway, to its port nat_port,
 * network order, 0 for none; a destination translated to a private IP
 * answers from it -- and, to a load balancer's target, from its port
 * nat_port); reply_ctx: the context the replies enter otherwise (the
 * receiver's interface, or the packet's own when it leaves to the
 * internet untranslated).
 */
static inline __attribute__((always_inline)) void
vpc_ct_key_reverse(struct vpc_ct_key *r, const struct vpc_pkt *m, uint32_t src, uint32_t dst,
		   uint8_t nat, uint32_t nat_addr, uint16_t nat_port, uint32_t reply_ctx)
{
	r->ctx_proto = m->proto;
	r->src = dst;
	r->dst = src;
	if (m->proto == VPC_IPPROTO_ICMP) {
		uint8_t td[2] = { vpc_icmp_peer_type(m->icmp_type), m->icmp_code };
		r->sport = m->sport;
		__builtin_memcpy(&r->dport, td, 2);	/* type, code: network order */
	} else {
		r->sport = m->dport;
		r->dport = m->sport;
	}
	if (nat == VPC_NAT_SRC) {	/* replies come to the elastic IP */
		r->dst = nat_addr;
		if (nat_port != 0)	/* a NAT gateway's: and to its port */
			vpc_ct_key_set_nat_port(r, m->proto, nat_port);
		return;			/* context 0: the uplink */
	}
	if (nat == VPC_NAT_DST) {	/* replies come from the private IP */
		r->src = nat_addr;
		if (nat_port != 0)	/* a load balancer's target: and its port */
			r->sport = nat_port;
	}
	r->ctx_proto |= reply_ctx;
}

/* The key of the connection an ICMP error arriving in context ctx is
 * about (f: vpc_icmp_quote_flow's reverse of the quoted packet). */
static inline __attribute__((always_inline)) void
vpc_ct_key_of_flow(struct vpc_ct_key *k, uint32_t ctx, const struct vpc_flow *f)
{
	k->ctx_proto = ctx | f->proto;
	k->src = f->src;
	k->dst = f->dst;
	k->sport = f->sport;
	k->dport = f->dport;
}

static inline __attribute__((always_inline)) int
vpc_ct_key_eq(const struct vpc_ct_key *a, const struct vpc_ct_key *b)
{
	uint64_t a0, a1, b0, b1;	/* two 64-bit compares: the key is 16-aligned */

	__builtin_memcpy(&a0, __builtin_assume_aligned(a, 8), 8);
	__builtin_memcpy(&a1, __builtin_assume_aligned((const uint8_t *)a + 8, 8), 8);
	__builtin_memcpy(&b0, __builtin_assume_aligned(b, 8), 8);
	__builtin_memcpy(&b1, __builtin_assume_aligned((const uint8_t *)b + 8, 8), 8);
	return a0 == b0 && a1 == b1;
}

#endif /* VPC_KEY_H */
