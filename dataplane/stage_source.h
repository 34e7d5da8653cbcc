/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * stage_source.h -- source checks: what a port may send, and ARP.
 *
 * Reads: meta, the port's interface (MAC, IP, source/destination check,
 *        MTU) or the uplink's MAC; the IP and elastic-IP tables for ARP.
 * Sets:  an ARP request turned into its reply in place (verdict: reply);
 *        or a drop reason (spoofed MAC or IP, MTU, multicast, a frame on
 *        the uplink for another MAC); a frame from the overlay checked
 *        and decapsulated, with the port info of the interface it comes
 *        from.
 * Next:  the connection lookup (pipeline.c), then the fast path or the
 *        slow path.
 */
#ifndef VPC_STAGE_SOURCE_H
#define VPC_STAGE_SOURCE_H

#include "pipeline_priv.h"
#include "vpc_dhcp.h"
#include "vpc_geneve.h"
#include "vpc_rewrite.h"

/* Turn the request in place into the reply "tip is at mac". */
static inline void
arp_answer(struct meta *x, const struct rte_ether_addr *mac)
{
	vpc_arp_reply((uint8_t *)x->eth, (uint8_t *)(x->eth + 1), mac->addr_bytes);
}

/* ARP from an interface: answer for the gateway and same-subnet IPs. */
static uint8_t
arp_from_iface(const struct vpc_tables *t, const struct vpc_port_info *pi,
	       struct meta *x)
{
	const struct vpc_iface_rec *fi = pi->fi;
	struct rte_arp_hdr *arp = (struct rte_arp_hdr *)(x->eth + 1);
	const struct rte_arp_ipv4 *a = &arp->arp_data;

	/* A guest cannot claim another's address, whatever its
	 * source_dest_check says.  0.0.0.0 is an address probe (RFC 5227). */
	if (!rte_is_same_ether_addr(&x->eth->src_addr, VPC_ETH(fi->mac)) ||
	    !rte_is_same_ether_addr(&a->arp_sha, VPC_ETH(fi->mac)) ||
	    (a->arp_sip != fi->ip && a->arp_sip != 0))
		return VPC_DROP_ARP_SPOOFED;
	if (arp->arp_opcode != RTE_BE16(RTE_ARP_OP_REQUEST))
		return VPC_DROP_ARP_NOT_REQUEST;
	if (a->arp_sip == 0)
		return VPC_DROP_ARP_UNANSWERED;
	if (a->arp_tip == pi->gateway_ip) {
		arp_answer(x, VPC_ETH(fi->router_mac));
		return VPC_DROP_NONE;
	}
	struct vpc_ip_key k = { .vpc = fi->vpc, .ip = a->arp_tip };
	void *data;
	if (rte_hash_lookup_data(t->ip, &k, &data) >= 0) {
		const struct vpc_iface_rec *o = &t->ifaces[(uintptr_t)data];
		if (o->subnet == fi->subnet && o != fi) {
			arp_answer(x, VPC_ETH(o->mac));
			return VPC_DROP_NONE;
		}
	}
	/* An internal load balancer's address in the subnet: the router's
	 * (what is sent to it is routed to it, vpc_lb.h). */
	if (unlikely(t->n_lbs != 0) && rte_hash_lookup_data(t->lb_ip, &k, &data) >= 0 &&
	    t->lbs[(uintptr_t)data].subnet == fi->subnet) {
		arp_answer(x, VPC_ETH(fi->router_mac));
		return VPC_DROP_NONE;
	}
	return VPC_DROP_ARP_UNANSWERED;
}

/* ARP on the uplink: answer for the elastic IPs. */
static uint8_t
arp_from_uplink(const struct vpc_tables *t, struct meta *x)
{
	struct rte_arp_hdr *arp = (struct rte_arp_hdr *)(x->eth + 1);
	void *data;

	if (!rte_is_broadcast_ether_addr(&x->eth->dst_addr) &&
	    !rte_is_same_ether_addr(&x->eth->dst_addr, &t->uplink_mac))
		return VPC_DROP_UPLINK_DST_MAC;
	if (arp->arp_opcode != RTE_BE16(RTE_ARP_OP_REQUEST))
		return VPC_DROP_ARP_NOT_REQUEST;
	struct vpc_eip_key k = { .ip = arp->arp_data.arp_tip };
	if (rte_hash_lookup_data(t->eip, &k, &data) < 0)
		return VPC_DROP_ARP_UNANSWERED;
	arp_answer(x, &t->uplink_mac);
	return VPC_DROP_NONE;
}


/*
 * DHCP from an interface (common/vpc_dhcp.h): the request checked, its
 * options walked, the answer built over it in the mbuf (trimmed or grown
 * to the reply's length).  VPC_DROP_NONE: send it back.
 */
static uint8_t
dhcp_from_iface(const struct vpc_tables *t, const struct vpc_port_info *pi, struct rte_mbuf *mb,
		const struct meta *m)
{
	const struct vpc_iface_rec *fi = pi->fi;
	uint8_t *f = rte_pktmbuf_mtod(mb, uint8_t *);
	uint32_t end_off = VPC_OFF_L4 + rte_be_to_cpu_16(((const struct rte_udp_hdr *)m->l4)->dgram_len);
	struct vpc_dhcp_req r;
	uint8_t reason = vpc_dhcp_check(f, f + rte_pktmbuf_data_len(mb), end_off, fi->mac, fi->ip, &r);

	if (reason != VPC_DROP_NONE)
		return reason;
	uint32_t off = VPC_DHCP_OPTIONS;
	for (int k = 0; k < VPC_DHCP_MAX_STEPS; k++) {
		uint8_t b[6] = { 0 };
		if (off < end_off)
			memcpy(b, f + off, RTE_MIN(end_off - off, 6u));
		if (!vpc_dhcp_step(&r, &off, end_off, b))
			break;
	}
	uint8_t reply;
	reason = vpc_dhcp_answer(&r, fi->ip, pi->gateway_ip, &reply);
	if (reason != VPC_DROP_NONE)
		return reason;
	/* The reply's length, in one segment. */
	uint32_t len = rte_pktmbuf_pkt_len(mb);
	if (mb->nb_segs > 1 && rte_pktmbuf_linearize(mb) < 0)
		return VPC_DROP_ENGINE;
	const struct vpc_dhcp_rec *rec = &t->dhcp[fi->subnet];
	if (len > rec->len)
		rte_pktmbuf_trim(mb, (uint16_t)(len - rec->len));
	else if (len < rec->len && rte_pktmbuf_append(mb, (uint16_t)(rec->len - len)) == NULL)
		return VPC_DROP_ENGINE;
	f = rte_pktmbuf_mtod(mb, uint8_t *);
	memcpy(f, rec->frame, rec->len);
	if (reply == VPC_DHCP_NAK)
		memset(f + VPC_DHCP_NAK_ZERO_AT, 0, rec->len - VPC_DHCP_NAK_ZERO_AT);
	vpc_dhcp_patch(f, rec, &r, reply, fi->mac, fi->ip);
	return VPC_DROP_NONE;
}

/*
 * A TCP segment from an interface to its subnet's router address: an
 * answer to a load balancer's health check (common/vpc_lb.h) when its
 * token names a target with this address, health-check port and probe
 * port.  A SYN-ACK is recorded and answered with a reset (VPC_DROP_NONE:
 * the frame is the reply); a reset is recorded and consumed
 * (lb-health-answer).  Anything else: VPC_DROP_NO_INTERFACE, what a
 * segment to the router's address would get anyway.
 */
static uint8_t
lb_health_answer(const struct vpc_tables *t, const struct vpc_port_info *pi, struct rte_mbuf *mb,
		 struct meta *m)
{
	uint32_t token;
	uint32_t kind = vpc_lb_answer_kind(m->l4, m->pkt.tcp_flags, &token);
	uint32_t k = VPC_LB_HC_TARGET(token);

	if (kind == VPC_LB_ANS_NONE || k >= t->n_targets)
		return VPC_DROP_NO_INTERFACE;
	const struct vpc_lb_hc_rec *h = &t->lb_hc[k];
	if (h->ip != m->ip->src_addr || h->ip != pi->fi->ip || h->hc_port != m->pkt.sport ||
	    h->sport != m->pkt.dport)
		return VPC_DROP_NO_INTERFACE;
	t->lb_answers[k] = (struct vpc_lb_answer){ .token = token, .kind = kind };
	if (kind == VPC_LB_ANS_RST)
		return VPC_DROP_LB_HEALTH_ANSWER;
	vpc_lb_rst_in_place(rte_pktmbuf_mtod(mb, uint8_t *), pi->fi->router_mac);
	rte_pktmbuf_trim(mb, (uint16_t)(rte_pktmbuf_pkt_len(mb) - VPC_LB_RST_LEN));
	return VPC_DROP_NONE;
}

/* Source checks of a packet from an interface: 0 when it may go on. */
static inline uint8_t
iface_checks(const struct vpc_tables *t, const struct vpc_port_info *pi, struct rte_mbuf *mb,
	     struct meta *m, struct vpc_verdict *v, bool *done, int64_t *rx_adjust)
{
	const struct vpc_iface_rec *fi = pi->fi;

	*done = false;
	if (unlikely(m->pkt.kind == VPC_PKT_ARP)) {
		uint8_t r = arp_from_iface(t, pi, m);
		if (r == VPC_DROP_NONE)
			set_reply(v, UINT16_MAX, VPC_PATH_ARP_REPLY);	/* the port is set below */
		*done = r == VPC_DROP_NONE;
		return r;
	}
	if (unlikely(vpc_dhcp_is_request(&m->pkt))) {
		*done = true;		/* answered here, or dropped */
		uint32_t len = rte_pktmbuf_pkt_len(mb);
		uint8_t r = dhcp_from_iface(t, pi, mb, m);
		*rx_adjust += (int64_t)len - (int64_t)rte_pktmbuf_pkt_len(mb);
		if (r == VPC_DROP_NONE)
			set_reply(v, UINT16_MAX, VPC_PATH_DHCP_REPLY);
		else
			set_drop(v, r);
		return r;
	}
	if (unlikely(rte_is_multicast_ether_addr(&m->eth->dst_addr)))
		return VPC_DROP_MULTICAST;
	if (fi->src_dst_check) {
		if (unlikely(!rte_is_same_ether_addr(&m->eth->src_addr, VPC_ETH(fi->mac))))
			return VPC_DROP_SPOOFED_MAC;
		if (unlikely(m->ip->src_addr != fi->ip))
			return VPC_DROP_SPOOFED_IP;
	}
	if (unlikely(rte_be_to_cpu_16(m->ip->total_length) > fi->mtu))
		return VPC_DROP_MTU_EXCEEDED;
	if (unlikely(m->ip->dst_addr == pi->gateway_ip) && m->pkt.proto == IPPROTO_TCP &&
	    t->n_targets != 0) {
		uint32_t len = rte_pktmbuf_pkt_len(mb);
		uint8_t r = lb_health_answer(t, pi, mb, m);
		*rx_adjust += (int64_t)len - (int64_t)rte_pktmbuf_pkt_len(mb);
		if (r != VPC_DROP_NO_INTERFACE) {
			*done = true;
			if (r == VPC_DROP_NONE)
				set_reply(v, UINT16_MAX, VPC_PATH_LB_HEALTH);
			else
				set_drop(v, r);
			return r;
		}
	}
	/* 224.0.0.0/3: multicast, reserved, limited broadcast */
	if (unlikely((m->ip->dst_addr & RTE_BE32(0xe0000000)) == RTE_BE32(0xe0000000)))
		return VPC_DROP_MULTICAST;
	return VPC_DROP_NONE;
}

/*
 * Who on host (an rhost) sent an inner frame of VPC vpc, if that host may
 * have: switched, the interface whose MAC is the source (its address too
 * when it checks sources); routed (the VPC router's MAC), the interface
 * whose address is the source, or else an appliance of the VPC on that
 * host (source_dest_check off: it forwards others' packets).  The
 * interface, or VPC_INDEX_NONE.
 */
static uint32_t
overlay_sender(const struct vpc_tables *t, const struct meta *m, uint32_t vpc, uint32_t host)
{
	uint32_t xi = l2_iface(t, vpc, &m->eth->src_addr);
	void *val;

	if (xi != VPC_INDEX_NONE) {
		const struct vpc_iface_rec *x = &t->ifaces[xi];
		if (x->tunnel != host + 1 || (x->src_dst_check && m->ip->src_addr != x->ip))
			return VPC_INDEX_NONE;
		return xi;
	}
	if (!rte_is_same_ether_addr(&m->eth->src_addr, &t->router[vpc]))
		return VPC_INDEX_NONE;
	struct vpc_ip_key ik = { .vpc = vpc, .ip = m->ip->src_addr };
	if (rte_hash_lookup_data(t->ip, &ik, &val) >= 0 &&
	    t->ifaces[(uintptr_t)val].tunnel == host + 1)
		return (uint32_t)(uintptr_t)val;
	struct vpc_eip_key ak = { .ip = vpc, .pad = host };
	if (rte_hash_lookup_data(t->appliances, &ak, &val) >= 0)
		return (uint32_t)(uintptr_t)val;
	return VPC_INDEX_NONE;
}

/*
 * A Geneve frame to this host's underlay address (common/vpc_geneve.h):
 * from a known host, for a known VPC, its inner source an interface of
 * that VPC on that host -- a host speaks only for the VMs it runs.  Then
 * the outer headers go and the inner frame is parsed as if it arrived on
 * that interface's port (*pi: its port info).
 */
static uint8_t
overlay_in(const struct vpc_tables *t, struct vpc_sender_slot *senders, struct meta *m,
	   const struct vpc_port_info **pi, int64_t *rx_adjust)
{
	struct rte_mbuf *mb = m->mb;
	uint8_t *data = rte_pktmbuf_mtod(mb, uint8_t *);
	uint32_t vni, off;

	if (m->pkt.frag != VPC_FRAG_NONE)
		return VPC_DROP_OVERLAY_MALFORMED;	/* DF is set: never whole */
	uint8_t r = vpc_geneve_inner(m->l4, data + rte_pktmbuf_data_len(mb), &vni, &off);
	if (r != VPC_DROP_NONE)
		return r;
	uint32_t host = vpc_u32_map_get(&t->underlay, m->ip->src_addr);
	if (host == UINT32_MAX)
		return VPC_DROP_OVERLAY_UNKNOWN_HOST;
	uint32_t vpc = vpc_u32_map_get(&t->vnis, vni);
	if (vpc == UINT32_MAX)
		return VPC_DROP_OVERLAY_UNKNOWN_VNI;
	uint32_t strip = (uint32_t)(m->l4 - data) + off;
	rte_pktmbuf_adj(mb, (uint16_t)strip);
	*rx_adjust += strip;
	parse_one(mb, m);
	if (m->pkt.kind == VPC_PKT_DROP)
		return m->pkt.reason;
	if (m->pkt.kind != VPC_PKT_IPV4)
		return VPC_DROP_OVERLAY_MALFORMED;	/* its host answers ARP */
	/* The sender, from the lcore's cache when this (VPC, host, MAC, IP)
	 * was seen under these tables (the lookups cost more than the rest
	 * of the decapsulation). */
	uint32_t mac_lo;
	memcpy(&mac_lo, &m->eth->src_addr.addr_bytes[2], 4);
	uint32_t h = (m->ip->src_addr ^ mac_lo ^ vpc * 0x9e3779b1u ^ host * 0x85ebca6bu) * 0x9e3779b1u;
	struct vpc_sender_slot *c = &senders[h >> (32 - 8)];
	uint32_t xi;
	if (c->gen == t->generation && c->ip == m->ip->src_addr && c->vpc == vpc && c->host == host &&
	    rte_is_same_ether_addr(&c->mac, &m->eth->src_addr)) {
		xi = c->iface;
	} else {
		xi = overlay_sender(t, m, vpc, host);
		if (xi == VPC_INDEX_NONE)
			return VPC_DROP_OVERLAY_SPOOFED;
		*c = (struct vpc_sender_slot){ .gen = t->generation, .vpc = vpc, .host = host,
					       .ip = m->ip->src_addr, .mac = m->eth->src_addr,
					       .iface = xi };
	}
	if (unlikely(rte_is_multicast_ether_addr(&m->eth->dst_addr) ||
		     (m->ip->dst_addr & RTE_BE32(0xe0000000)) == RTE_BE32(0xe0000000)))
		return VPC_DROP_MULTICAST;
	*pi = &t->rports[xi];
	return VPC_DROP_NONE;
}

static inline uint8_t
uplink_checks(const struct vpc_tables *t, struct vpc_sender_slot *senders, struct meta *m,
	      struct vpc_verdict *v, bool *done, const struct vpc_port_info **pi, int64_t *rx_adjust)
{
	*done = false;
	if (unlikely(m->pkt.kind == VPC_PKT_ARP)) {
		uint8_t r = arp_from_uplink(t, m);
		if (r == VPC_DROP_NONE)
			set_reply(v, (uint16_t)t->uplink_port, VPC_PATH_ARP_REPLY);
		*done = r == VPC_DROP_NONE;
		return r;
	}
	if (unlikely(rte_is_multicast_ether_addr(&m->eth->dst_addr)))
		return VPC_DROP_MULTICAST;
	if (unlikely(!rte_is_same_ether_addr(&m->eth->dst_addr, &t->uplink_mac)))
		return VPC_DROP_UPLINK_DST_MAC;
	if (m->ip->dst_addr == t->underlay_ip && t->underlay_ip != 0 &&
	    m->pkt.proto == IPPROTO_UDP && m->pkt.dport == RTE_BE16(VPC_GENEVE_PORT))
		return overlay_in(t, senders, m, pi, rx_adjust);
	return VPC_DROP_NONE;
}

#endif /* VPC_STAGE_SOURCE_H */
