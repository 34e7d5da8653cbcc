/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * vpc_dhcp.h -- the DHCP server of every interface port, one source for
 * every engine (RFC 2131, AWS semantics: a guest is offered its own
 * address and nothing else).
 *
 * A request (UDP 68 -> 67 from an interface's port) is checked -- a whole
 * BOOTREQUEST for Ethernet, the magic cookie, no relay, the client
 * hardware address and the frame's source MAC the interface's own, the
 * source IP 0.0.0.0 or the interface's -- and its options walked for the
 * message type (53), the requested address (50) and the server identifier
 * (54).  The answer:
 *   DISCOVER              -> OFFER of the interface's address
 *   REQUEST               -> ACK when it asks for the interface's address
 *                            (option 50, or ciaddr when renewing) from us
 *                            (no option 54, or ours); NAK for another
 *                            address; nothing when it chose another server
 *   INFORM                -> ACK without a lease (no 51, 58, 59)
 *   DECLINE, RELEASE, ... -> nothing (dhcp-unanswered)
 *
 * The reply is one frame (through END, at least 342 bytes) built off the
 * fast path (lib/lower.c: struct vpc_dhcp_rec, per subnet: router MAC and
 * address, mask, DNS, domain, NTP, MTU, lease), copied over the request
 * and patched here at fixed offsets: the client's MAC and address, the
 * transaction id, flags, ciaddr, the message type; a NAK ends the options
 * after the server identifier (END, then zeros: the engine clears the
 * rest, its own way, before the patch), an INFORM's lease block is
 * blanked with PAD.  The
 * UDP checksum is the record's precomputed sum plus the patched words: no
 * pass over the 556 bytes.
 *
 * Each engine walks the options its own way (the BPF verifier wants a
 * bpf_loop over helper reads) through vpc_dhcp_opt(), one option a call.
 *
 * Freestanding (no libc, no DPDK, no libbpf): the XDP program includes it.
 * Stateless: any thread.
 */
#ifndef VPC_DHCP_H
#define VPC_DHCP_H

#include <stdint.h>

#include "cksum.h"
#include "vpc_pkt.h"
#include "vpc_reasons.h"
#include "vpc_records.h"	/* struct vpc_dhcp_rec, the reply's layout */
#include "vpc_rewrite.h"	/* vpc_mac_copy */

#define VPC_DHCP_SERVER_PORT 67
#define VPC_DHCP_CLIENT_PORT 68

/* Message types (option 53). */
enum vpc_dhcp_type {
	VPC_DHCP_DISCOVER = 1,
	VPC_DHCP_OFFER = 2,
	VPC_DHCP_REQUEST = 3,
	VPC_DHCP_DECLINE = 4,
	VPC_DHCP_ACK = 5,
	VPC_DHCP_NAK = 6,
	VPC_DHCP_RELEASE = 7,
	VPC_DHCP_INFORM = 8,
};

/* What the request says (addresses and xid in network order). */
struct vpc_dhcp_req {
	uint32_t xid;
	uint32_t ciaddr;
	uint32_t requested;	/* option 50; 0: absent */
	uint32_t server;	/* option 54; 0: absent */
	uint16_t flags;		/* network order: 0x8000 broadcast */
	uint8_t type;		/* option 53; 0: absent */
	uint8_t bad;		/* an option ran past the message */
};

/* Is the packet a DHCP request to a server (UDP 68 -> 67)? */
static inline __attribute__((always_inline)) int
vpc_dhcp_is_request(const struct vpc_pkt *m)
{
	return m->proto == VPC_IPPROTO_UDP && m->dport == VPC_BE16(VPC_DHCP_SERVER_PORT) &&
	       m->sport == VPC_BE16(VPC_DHCP_CLIENT_PORT);
}

/*
 * The fixed part of the request in frame f (end: the frame's end; end_off:
 * the UDP message's end, an offset; the IPv4 and UDP headers were parsed)
 * from the interface (mac, ip): its fields into r, or why it is dropped.
 */
static inline __attribute__((always_inline)) uint8_t
vpc_dhcp_check(const uint8_t *f, const uint8_t *end, uint32_t end_off, const uint8_t *mac,
	       uint32_t ip, struct vpc_dhcp_req *r)
{
	const uint8_t *b = f + VPC_DHCP_BOOTP;
	uint32_t src;

	/* The fixed fields, the cookie and at least one option byte. */
	if (end_off < VPC_DHCP_OPTIONS + 1 || f + VPC_DHCP_OPTIONS > end)
		return VPC_DROP_DHCP_MALFORMED;
	if (b[0] != 1 || b[1] != 1 || b[2] != 6 || vpc_load32(b + 24) != 0 ||
	    vpc_load32(b + 236) != VPC_BE32(0x63825363))	/* the magic cookie */
		return VPC_DROP_DHCP_MALFORMED;
	src = vpc_load32(f + VPC_OFF_IP + 12);
	if (vpc_load32(f + 6) != vpc_load32(mac) || vpc_load16(f + 10) != vpc_load16(mac + 4) ||
	    vpc_load32(b + 28) != vpc_load32(mac) || vpc_load16(b + 32) != vpc_load16(mac + 4) ||
	    (src != 0 && src != ip))
		return VPC_DROP_DHCP_SPOOFED;
	r->xid = vpc_load32(b + 4);
	r->flags = vpc_load16(b + 10);
	r->ciaddr = vpc_load32(b + 12);
	r->requested = r->server = 0;
	r->type = 0;
	r->bad = 0;
	return VPC_DROP_NONE;
}

/*
 * One option: code, its length, and its value at v (four bytes readable;
 * only the first min(len, 4) are the option's).  The walker skips PAD (0)
 * and stops at END (255) itself.
 */
static inline __attribute__((always_inline)) void
vpc_dhcp_opt(struct vpc_dhcp_req *r, uint8_t code, uint8_t len, const uint8_t *v)
{
	uint32_t a;

	/* v may lie anywhere (a walker's buffer): a move of no alignment. */
	__builtin_memcpy(&a, v, 4);
	if (code == 53 && len == 1)
		r->type = v[0];
	else if (code == 50 && len == 4)
		r->requested = a;
	else if (code == 54 && len == 4)
		r->server = a;
	else if (code == 53 || code == 50 || code == 54)
		r->bad = 1;
}

/*
 * One step of the option walk: the option at offset *off of the frame
 * (the message ends at end_off); b: the frame's bytes from *off on, six of
 * them, zero past end_off.  1: go on (*off moved past it); 0: stop (END,
 * the message's end, or an option running past it: r->bad).  Every
 * engine walks with it (the DPDK engine in a loop over the frame, the XDP
 * program in a bpf_loop over helper reads), so both read the same
 * options the same way.
 */
static inline __attribute__((always_inline)) int
vpc_dhcp_step(struct vpc_dhcp_req *r, uint32_t *off, uint32_t end_off, const uint8_t *b)
{
	uint32_t o = *off;

	if (o >= end_off || b[0] == 255)
		return 0;
	if (b[0] == 0) {			/* PAD */
		*off = o + 1;
		return 1;
	}
	if (o + 2 > end_off || o + 2 + b[1] > end_off) {
		r->bad = 1;
		return 0;
	}
	vpc_dhcp_opt(r, b[0], b[1], b + 2);
	*off = o + 2 + b[1];
	return 1;
}

/* At most this many steps (every option at least one byte). */
#define VPC_DHCP_MAX_STEPS (VPC_DHCP_FRAME_LEN - VPC_DHCP_OPTIONS)

/* The answer to r from the interface at address ip (server: ours, the
 * subnet's gateway): *reply the message type to send, or a drop reason. */
static inline __attribute__((always_inline)) uint8_t
vpc_dhcp_answer(const struct vpc_dhcp_req *r, uint32_t ip, uint32_t server, uint8_t *reply)
{
	if (r->bad || r->type == 0)
		return VPC_DROP_DHCP_MALFORMED;
	switch (r->type) {
	case VPC_DHCP_DISCOVER:
		*reply = VPC_DHCP_OFFER;
		return VPC_DROP_NONE;
	case VPC_DHCP_REQUEST: {
		uint32_t want = r->requested != 0 ? r->requested : r->ciaddr;
		if (r->server != 0 && r->server != server)
			return VPC_DROP_DHCP_UNANSWERED;	/* it chose another server */
		*reply = want == ip ? VPC_DHCP_ACK : VPC_DHCP_NAK;
		return VPC_DROP_NONE;
	}
	case VPC_DHCP_INFORM:
		*reply = VPC_DHCP_ACK;
		return VPC_DROP_NONE;
	default:
		return VPC_DROP_DHCP_UNANSWERED;
	}
}

/*
 * Is the 16-bit word at frame offset off one vpc_dhcp_patch() writes (or
 * re-adds to the UDP sum)?  The record's sums (lib/lower.c) leave exactly
 * these out: the two lists must be one.
 */
static inline int
vpc_dhcp_patched_word(uint32_t off)
{
	const uint32_t b = VPC_DHCP_BOOTP;

	return off == b + 4 || off == b + 6 ||			/* xid */
	       (off >= b + 10 && off < b + 20) ||		/* flags, ciaddr, yiaddr */
	       (off >= b + 28 && off < b + 34) ||		/* chaddr */
	       off == VPC_DHCP_TYPE_AT ||
	       (off >= VPC_DHCP_LEASE_AT - 1 && off < VPC_DHCP_LEASE_AT + VPC_DHCP_LEASE_LEN);
}

/*
 * Patch the reply frame f (the record's len bytes, its frame
 * copied in) for request r of the interface (mac, ip), answered with
 * reply: then both checksums.
 */
static inline __attribute__((always_inline)) void
vpc_dhcp_patch(uint8_t *f, const struct vpc_dhcp_rec *rec, const struct vpc_dhcp_req *r,
	       uint8_t reply, const uint8_t *mac, uint32_t ip)
{
	uint8_t *b = f + VPC_DHCP_BOOTP;
	int inform = r->type == VPC_DHCP_INFORM;
	uint32_t yiaddr = reply == VPC_DHCP_NAK || inform ? 0 : ip;
	uint32_t ciaddr = reply == VPC_DHCP_ACK ? r->ciaddr : 0;
	uint32_t dst;

	/* Where it goes (RFC 2131 4.1): a NAK, or a client that asked for
	 * it, to everyone; a client with an address to that address; else
	 * to the address it is being given (its MAC is the interface's). */
	if (reply == VPC_DHCP_NAK || (r->ciaddr == 0 && (r->flags & VPC_BE16(0x8000))))
		dst = 0xffffffffu;
	else if (r->ciaddr != 0)
		dst = r->ciaddr;
	else
		dst = yiaddr;
	if (dst == 0xffffffffu) {
		vpc_store32(f, 0xffffffffu);
		vpc_store16(f + 4, 0xffff);
	} else {
		vpc_mac_copy(f, mac);
	}
	vpc_store32(f + VPC_OFF_IP + 16, dst);
	vpc_store32(b + 4, r->xid);
	vpc_store16(b + 10, r->flags);
	vpc_store32(b + 12, ciaddr);
	vpc_store32(b + 16, yiaddr);
	vpc_mac_copy(b + 28, mac);
	f[VPC_DHCP_TYPE_AT] = reply;
	if (reply == VPC_DHCP_NAK) {
		f[VPC_DHCP_NAK_END_AT] = 255;	/* after the server identifier */
	} else if (inform) {			/* no lease: PAD over 51, 58, 59 */
		uint8_t *l = f + VPC_DHCP_LEASE_AT;
VPC_UNROLL
		for (int i = 0; i < VPC_DHCP_LEASE_LEN; i++)
			l[i] = 0;
	}

	/* IPv4 header checksum, over the 20 bytes. */
	uint32_t sum = 0;
	vpc_store16(f + VPC_OFF_IP + 10, 0);
VPC_UNROLL
	for (int i = 0; i < 20; i += 2)
		sum += vpc_load16(f + VPC_OFF_IP + i);
	vpc_store16(f + VPC_OFF_IP + 10, (uint16_t)~vpc_csum_fold(sum));

	/* UDP: the record's sum of every word nobody patches, plus the
	 * patched words (the destination address is the pseudo-header's). */
	sum = reply == VPC_DHCP_NAK ? rec->nak_sum : rec->sum;
	sum += vpc_load16(f + VPC_OFF_IP + 16) + vpc_load16(f + VPC_OFF_IP + 18);
	sum += vpc_load16(b + 4) + vpc_load16(b + 6);
VPC_UNROLL
	for (int i = 10; i < 20; i += 2)			/* flags, ciaddr, yiaddr */
		sum += vpc_load16(b + i);
	sum += vpc_load16(b + 28) + vpc_load16(b + 30) + vpc_load16(b + 32);
	sum += vpc_load16(f + VPC_DHCP_TYPE_AT);
VPC_UNROLL
	for (int i = VPC_DHCP_LEASE_AT - 1; i < VPC_DHCP_LEASE_AT + VPC_DHCP_LEASE_LEN; i += 2)
		sum += vpc_load16(f + i);		/* the NAK's END, the lease block */
	uint16_t c = (uint16_t)~vpc_csum_fold(sum);
	vpc_store16(f + VPC_OFF_L4 + 6, c == 0 ? 0xffff : c);
}

#endif /* VPC_DHCP_H */
