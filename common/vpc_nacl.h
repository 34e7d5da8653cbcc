/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * vpc_nacl.h -- network ACLs (AWS semantics): which of a subnet's
 * stateless rule lists a packet crosses, and the first-match scan of one
 * list.  One source for both engines.
 *
 * A packet that leaves one subnet for another (or for the internet
 * gateway) is checked against the egress list of the ACL of the subnet it
 * leaves, then the ingress list of the ACL of the subnet it enters; one
 * that stays inside its subnet, against nothing.  A subnet without an ACL
 * uses its VPC's default ACL, which allows everything: it has no list.
 * The verdict depends only on the packet's 5-tuple and the tables, so it
 * is taken on every packet, established ones included (connection
 * entries cache nothing of it): an apply that changes an ACL holds from
 * the next packet of every connection.
 *
 * A list holds the rules of one direction in rule-number order: the first
 * rule that matches decides (allow or deny), and a packet no rule matches
 * is denied.  A rule matches on the protocol (or all), the remote address
 * (ingress: the source; egress: the destination) within its CIDR, the
 * destination port (tcp, udp) within its range, and for icmp the type and
 * code when given.  The scan has a constant bound, VPC_NACL_MAX_RULES
 * (the validator refuses longer lists), so BPF verifies it as it is.
 *
 * Freestanding (no libc, no DPDK, no libbpf): the XDP program includes it.
 * A list is built off the fast path and then read-only: any thread.
 */
#ifndef VPC_NACL_H
#define VPC_NACL_H

#include <stdint.h>

#include "vpc_image.h"		/* VPC_NACL_MAX_RULES, VPC_NRULE_F_* */
#include "vpc_pkt.h"		/* protocol numbers, VPC_BE16 */
#include "vpc_reasons.h"	/* the drop reasons of vpc_natgw_nacl_steps */
#include "vpc_trace.h"

/* One rule as the scan reads it.  16 bytes. */
struct vpc_nacl_rule {
	uint32_t addr;		/* network order, masked */
	uint32_t mask;		/* network order */
	uint16_t port_lo;	/* host order; 0..65535 unless tcp/udp restricted */
	uint16_t port_hi;
	uint8_t proto;
	uint8_t flags;		/* VPC_NRULE_F_* (vpc_image.h) */
	uint8_t icmp_type;
	uint8_t icmp_code;
};
_Static_assert(sizeof(struct vpc_nacl_rule) == 16, "nacl rule layout");

/* One direction of one ACL.  The engines keep two per ACL, at
 * vpc_nacl_list_index(). */
struct vpc_nacl_list {
	uint32_t n;		/* rules[0 .. n), n <= VPC_NACL_MAX_RULES */
	uint32_t id;		/* its vpc_nacl_list_index() (names it in a trace) */
	struct vpc_nacl_rule rules[VPC_NACL_MAX_RULES];
};
_Static_assert(sizeof(struct vpc_nacl_list) == 8 + 16 * VPC_NACL_MAX_RULES,
	       "nacl list layout");

/* A port's ACL as the engines' port records carry it: the ACL's index +
 * 1, or VPC_NACL_DEFAULT for the VPC's default ACL (no list: allow all),
 * which is also the uplink's (the internet has no ACL). */
#define VPC_NACL_DEFAULT 0u
#define VPC_NACL_NO_LIST 0xffffffffu

/* Where the list of ACL `nacl` (a port's value, not VPC_NACL_DEFAULT) for
 * direction dir lies in an engine's table of lists. */
static inline __attribute__((always_inline)) uint32_t
vpc_nacl_list_index(uint32_t nacl, uint32_t dir)
{
	return (nacl - 1) * 2 + dir;
}

/*
 * The lists a packet from a port of subnet from_subnet (ACL from_nacl) to
 * one of subnet to_subnet (ACL to_nacl) is checked against: *egress, the
 * subnet it leaves; *ingress, the subnet it enters; VPC_NACL_NO_LIST for
 * none.  The uplink's subnet is VPC_INDEX_NONE, its ACL the default.
 */
static inline __attribute__((always_inline)) void
vpc_nacl_lists(uint32_t from_nacl, uint32_t from_subnet, uint32_t to_nacl,
	       uint32_t to_subnet, uint32_t *egress, uint32_t *ingress)
{
	*egress = VPC_NACL_NO_LIST;
	*ingress = VPC_NACL_NO_LIST;
	if (from_subnet == to_subnet)
		return;		/* stays inside one subnet */
	if (from_nacl != VPC_NACL_DEFAULT)
		*egress = vpc_nacl_list_index(from_nacl, VPC_DIR_EGRESS);
	if (to_nacl != VPC_NACL_DEFAULT)
		*ingress = vpc_nacl_list_index(to_nacl, VPC_DIR_INGRESS);
}

/*
 * Does list l allow the packet?  remote: the source (ingress list) or
 * destination (egress list) address, network order; dport: the
 * destination port, host order (tcp, udp; ignored otherwise by the rules
 * the compiler makes); icmp_type/icmp_code: the packet's (icmp).
 * First match decides; none matching denies.
 */
static inline __attribute__((always_inline)) int
vpc_nacl_allows(const struct vpc_nacl_list *l, uint8_t proto, uint32_t remote,
		uint16_t dport, uint8_t icmp_type, uint8_t icmp_code)
{
	uint32_t n = l->n;

	for (uint32_t i = 0; i < VPC_NACL_MAX_RULES; i++) {
		if (i >= n)
			break;
		const struct vpc_nacl_rule *r = &l->rules[i];
		if ((remote & r->mask) != r->addr)
			continue;
		if (!(r->flags & VPC_NRULE_F_ANY_PROTO)) {
			if (r->proto != proto || dport < r->port_lo || dport > r->port_hi)
				continue;
			if ((r->flags & VPC_NRULE_F_ICMP_TYPE) && r->icmp_type != icmp_type)
				continue;
			if ((r->flags & VPC_NRULE_F_ICMP_CODE) && r->icmp_code != icmp_code)
				continue;
		}
		VPC_TRACE(VPC_TR_NACL, (r->flags & VPC_NRULE_F_ALLOW) != 0, l->id, i, 0);
		return (r->flags & VPC_NRULE_F_ALLOW) != 0;
	}
	VPC_TRACE(VPC_TR_NACL, 0, l->id, n, 0);
	return 0;		/* the implicit deny ("*" in AWS's console) */
}

/*
 * The destination port a rule's range is matched against: tcp and udp
 * only (the key's ports are an ICMP query's identifier, or its type and
 * code); 0 for other protocols, whose rules span every port.
 */
static inline __attribute__((always_inline)) uint16_t
vpc_nacl_dport(uint8_t proto, uint16_t dport_be)
{
	if (proto != VPC_IPPROTO_TCP && proto != VPC_IPPROTO_UDP)
		return 0;
	return VPC_BE16(dport_be);	/* a swap, where it is one, is its own inverse */
}

/*
 * A packet through a NAT gateway crosses the gateway's subnet: leaving the
 * VPC (egress: from an interface to the internet) it leaves the sender's
 * subnet, enters the gateway's and leaves it; a reply (ingress) enters the
 * gateway's subnet from the internet, leaves it and enters the
 * receiver's.  The checks in order, up to three: which list, whether the
 * rule's remote side is the packet's source (an ingress list) or its
 * destination, whether the port is the translated one (a reply past the
 * gateway carries the interface's own port), and the drop reason.
 * iface_nacl/subnet: the interface's; g_nacl/subnet: the gateway's.
 */
struct vpc_nacl_step {
	uint32_t list;		/* VPC_NACL_NO_LIST: no check */
	uint8_t remote_src;	/* match the source (else the destination) */
	uint8_t translated;	/* past the gateway, inbound: address and port translated */
	uint8_t reason;		/* enum vpc_drop_reason */
	uint8_t pad;
};

static inline __attribute__((always_inline)) void
vpc_natgw_nacl_steps(int egress, uint32_t iface_nacl, uint32_t iface_subnet, uint32_t g_nacl,
		     uint32_t g_subnet, struct vpc_nacl_step s[3])
{
	uint32_t eg, in;

	if (egress) {
		vpc_nacl_lists(iface_nacl, iface_subnet, g_nacl, g_subnet, &eg, &in);
		s[0] = (struct vpc_nacl_step){ eg, 0, 0, VPC_DROP_NACL_EGRESS, 0 };
		s[1] = (struct vpc_nacl_step){ in, 1, 0, VPC_DROP_NACL_INGRESS, 0 };
		s[2] = (struct vpc_nacl_step){
			g_nacl != VPC_NACL_DEFAULT ? vpc_nacl_list_index(g_nacl, VPC_DIR_EGRESS) :
						     VPC_NACL_NO_LIST,
			0, 0, VPC_DROP_NACL_EGRESS, 0 };
		return;
	}
	vpc_nacl_lists(g_nacl, g_subnet, iface_nacl, iface_subnet, &eg, &in);
	s[0] = (struct vpc_nacl_step){
		g_nacl != VPC_NACL_DEFAULT ? vpc_nacl_list_index(g_nacl, VPC_DIR_INGRESS) :
					     VPC_NACL_NO_LIST,
		1, 0, VPC_DROP_NACL_INGRESS, 0 };
	s[1] = (struct vpc_nacl_step){ eg, 0, 1, VPC_DROP_NACL_EGRESS, 0 };
	s[2] = (struct vpc_nacl_step){ in, 1, 1, VPC_DROP_NACL_INGRESS, 0 };
}

#endif /* VPC_NACL_H */
