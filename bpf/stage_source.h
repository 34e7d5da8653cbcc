/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * stage_source.h -- source checks: what a port may send, and ARP.
 *
 * Reads: meta, the port's interface or the uplink's MAC; the IP and
 *        elastic-IP maps for ARP.
 * Sets:  an ARP request turned into its reply in place (XDP_TX); or a
 *        drop reason (spoofing, MTU, multicast, another MAC on the uplink).
 * Next:  the connection lookup, then the fast path or the slow program; a
 *        DHCP request goes to the slow program's dhcp_answer (below).
 *
 * A stage of the XDP program: included by vpc_xdp.bpf.c alone (one
 * compilation unit, as BPF needs), after its maps and helpers; the DPDK
 * engine's stage of the same name is dataplane/stage_source.h.
 */
#ifndef VPC_XDP_STAGE_SOURCE_H
#define VPC_XDP_STAGE_SOURCE_H

#include "vpc_dhcp.h"

static __always_inline void
arp_answer(struct ethhdr *eth, struct arp_eth *a, const __u8 *mac)
{
	vpc_arp_reply((__u8 *)eth, (__u8 *)a, mac);
}

static __always_inline __u8
arp_from_iface(struct tables *t, const struct vpc_xdp_port *pi, void *data, void *end)
{
	struct ethhdr *eth = data;
	struct arp_eth *a = data + sizeof(*eth);
	const struct vpc_iface_rec *fi = &pi->fi;

	if ((void *)(a + 1) > end)
		return VPC_DROP_ARP_MALFORMED;
	if (!mac_eq(eth->h_source, fi->mac) || !mac_eq(a->sha, fi->mac) ||
	    (a->sip != fi->ip && a->sip != 0))
		return VPC_DROP_ARP_SPOOFED;
	if (a->op != bpf_htons(1))
		return VPC_DROP_ARP_NOT_REQUEST;
	if (a->sip == 0)
		return VPC_DROP_ARP_UNANSWERED;
	if (a->tip == pi->gateway_ip) {
		arp_answer(eth, a, fi->router_mac);
		return VPC_DROP_NONE;
	}
	void *ips = inner(&set_ips, t->set);
	if (ips == NULL)
		return VPC_DROP_ARP_UNANSWERED;
	struct vpc_xdp_ip_key k = { .vpc = fi->vpc, .ip = a->tip };
	__u32 *xi = bpf_map_lookup_elem(ips, &k);
	if (xi == NULL) {
		/* An internal load balancer's address in the subnet: the
		 * router's (dataplane/stage_source.h). */
		void *lm = inner(&set_lb_ip, t->set);
		void *bm = inner(&set_lbs, t->set);
		__u32 *bp = lm != NULL ? bpf_map_lookup_elem(lm, &k) : NULL;
		if (bp == NULL || bm == NULL)
			return VPC_DROP_ARP_UNANSWERED;
		__u32 bi = *bp;
		const struct vpc_lb_rec *lb = bpf_map_lookup_elem(bm, &bi);
		if (lb == NULL || lb->subnet != fi->subnet)
			return VPC_DROP_ARP_UNANSWERED;
		arp_answer(eth, a, fi->router_mac);
		return VPC_DROP_NONE;
	}
	if (*xi == pi->iface)
		return VPC_DROP_ARP_UNANSWERED;
	const struct vpc_iface_rec *o = iface_at(t, *xi);
	if (o == NULL || o->subnet != fi->subnet)
		return VPC_DROP_ARP_UNANSWERED;
	__u8 mac[6];
	vpc_mac_copy(mac, o->mac);
	arp_answer(eth, a, mac);
	return VPC_DROP_NONE;
}

static __always_inline __u8
arp_from_uplink(struct tables *t, void *data, void *end)
{
	struct ethhdr *eth = data;
	struct arp_eth *a = data + sizeof(*eth);
	static const __u8 bcast[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };

	if ((void *)(a + 1) > end)
		return VPC_DROP_ARP_MALFORMED;
	if (!mac_eq(eth->h_dest, bcast) && !mac_eq(eth->h_dest, t->g->uplink_mac))
		return VPC_DROP_UPLINK_DST_MAC;
	if (a->op != bpf_htons(1))
		return VPC_DROP_ARP_NOT_REQUEST;
	void *eips = inner(&set_eips, t->set);
	__be32 tip = a->tip;
	if (eips == NULL || bpf_map_lookup_elem(eips, &tip) == NULL)
		return VPC_DROP_ARP_UNANSWERED;
	__u8 mac[6];
	vpc_mac_copy(mac, t->g->uplink_mac);
	arp_answer(eth, a, mac);
	return VPC_DROP_NONE;
}

/* What the source checks leave to do (*done). */
enum source_done {
	SOURCE_GO_ON = 0,	/* to the connection lookup */
	SOURCE_ANSWERED,	/* an ARP reply, in place */
	SOURCE_DHCP,		/* a DHCP request: the slow program answers */
	SOURCE_OVERLAY,		/* a Geneve frame for this host: decapsulate */
	SOURCE_LB_HEALTH,	/* TCP to the subnet's router: maybe a health
				 * check's answer (the slow program) */
};

/* The DHCP option walk (common/vpc_dhcp.h's vpc_dhcp_step), one option a
 * bpf_loop step, through helper reads (a variable offset in the frame). */
/* What a NAK's options end in (bpf_xdp_store_bytes copies it). */
static const __u8 dhcp_zeros[VPC_DHCP_FRAME_LEN - VPC_DHCP_NAK_ZERO_AT];

struct dhcp_walk {
	struct xdp_md *ctx;
	struct vpc_dhcp_req r;
	__u32 off;
	__u32 end_off;
};

static long
dhcp_walk_step(__u32 i, void *arg)
{
	struct dhcp_walk *w = arg;
	__u8 b[8] = { 0 };
	__u32 off = w->off;

	(void)i;
	if (off < w->end_off) {
		__u32 n = w->end_off - off;
		if (n > 6)
			n = 6;
		/* 1..6, said so that the verifier sees 1..8 */
		if (bpf_xdp_load_bytes(w->ctx, off, b, ((n - 1) & 7) + 1) < 0)
			return 1;
	}
	return vpc_dhcp_step(&w->r, &w->off, w->end_off, b) ? 0 : 1;
}

/*
 * Answer a DHCP request from an interface's port (common/vpc_dhcp.h): the
 * reply frame of the port's subnet written over the request (the frame
 * grown or shrunk to its length), patched, sent back.  In the slow
 * program: rare, and its stack is the slow program's.
 */
static __always_inline __u8
dhcp_answer(struct xdp_md *ctx, const struct vpc_xdp_port *pi, __u32 slot,
	    struct vpc_xdp_verdict *v)
{
	void *data = (void *)(long)ctx->data;
	void *end = (void *)(long)ctx->data_end;
	__u8 *udp = data + VPC_OFF_L4;
	struct dhcp_walk w = { .ctx = ctx, .off = VPC_DHCP_OPTIONS };
	__u8 reply;

	if ((void *)(udp + 8) > end)
		return VPC_DROP_L4_TRUNCATED;
	w.end_off = VPC_OFF_L4 + bpf_ntohs(*(__be16 *)(udp + 4));
	__u8 r = vpc_dhcp_check(data, end, w.end_off, pi->fi.mac, pi->fi.ip, &w.r);
	if (r != VPC_DROP_NONE)
		return r;
	bpf_loop(VPC_DHCP_MAX_STEPS, dhcp_walk_step, &w, 0);
	r = vpc_dhcp_answer(&w.r, pi->fi.ip, pi->gateway_ip, &reply);
	if (r != VPC_DROP_NONE)
		return r;
	/* The reply's length: a shrink always works, a growth needs the
	 * driver's tailroom (generic mode and most NICs have it; a veth's
	 * native mode may not: counted as engine-error). */
	__u32 rlen = pi->dhcp.len;
	if (rlen < VPC_DHCP_MIN_LEN || rlen > VPC_DHCP_FRAME_LEN)
		return VPC_DROP_ENGINE;
	int delta = (int)rlen - (int)(ctx->data_end - ctx->data);
	if (delta != 0 && bpf_xdp_adjust_tail(ctx, delta) < 0)
		return VPC_DROP_ENGINE;
	if (bpf_xdp_store_bytes(ctx, 0, (void *)pi->dhcp.frame, rlen) < 0)
		return VPC_DROP_ENGINE;
	if (reply == VPC_DHCP_NAK &&
	    bpf_xdp_store_bytes(ctx, VPC_DHCP_NAK_ZERO_AT, (void *)dhcp_zeros,
				rlen - VPC_DHCP_NAK_ZERO_AT) < 0)
		return VPC_DROP_ENGINE;
	data = (void *)(long)ctx->data;
	end = (void *)(long)ctx->data_end;
	if (data + VPC_DHCP_MIN_LEN > end)
		return VPC_DROP_ENGINE;
	vpc_dhcp_patch(data, &pi->dhcp, &w.r, reply, pi->fi.mac, pi->fi.ip);
	set_send(v, VPC_ACT_REPLY, VPC_PATH_DHCP_REPLY, slot);
	return VPC_DROP_NONE;
}

static __always_inline __u8
iface_checks(struct tables *t, const struct vpc_xdp_port *pi, const struct vpc_pkt *m,
	     void *data, void *end, int *done)
{
	struct ethhdr *eth = data;
	struct iphdr *ip = data + VPC_OFF_IP;
	const struct vpc_iface_rec *fi = &pi->fi;

	*done = SOURCE_GO_ON;
	if (m->kind == VPC_PKT_ARP) {
		__u8 r = arp_from_iface(t, pi, data, end);
		*done = r == VPC_DROP_NONE ? SOURCE_ANSWERED : SOURCE_GO_ON;
		return r;
	}
	if ((void *)(ip + 1) > end)
		return VPC_DROP_IP_TRUNCATED;
	if (vpc_dhcp_is_request(m)) {
		*done = SOURCE_DHCP;
		return VPC_DROP_NONE;
	}
	if (eth->h_dest[0] & 1)
		return VPC_DROP_MULTICAST;
	if (fi->src_dst_check) {
		if (!mac_eq(eth->h_source, fi->mac))
			return VPC_DROP_SPOOFED_MAC;
		if (ip->saddr != fi->ip)
			return VPC_DROP_SPOOFED_IP;
	}
	if (m->tot_len > fi->mtu)
		return VPC_DROP_MTU_EXCEEDED;
	if (VPC_UNLIKELY(ip->daddr == pi->gateway_ip) && m->proto == IPPROTO_TCP) {
		*done = SOURCE_LB_HEALTH;
		return VPC_DROP_NONE;
	}
	if ((ip->daddr & bpf_htonl(0xe0000000)) == bpf_htonl(0xe0000000))
		return VPC_DROP_MULTICAST;
	return VPC_DROP_NONE;
}

/*
 * A TCP segment from an interface to its subnet's router address: a
 * health check's answer (dataplane/stage_source.h's lb_health_answer).
 * VPC_DROP_NONE: the frame is now the reset that answers a SYN-ACK;
 * lb-health-answer: a reset, recorded; VPC_DROP_NO_INTERFACE: not an
 * answer (the slow path goes on with it).  In the slow program.
 */
static __always_inline __u8
lb_health_answer(struct xdp_md *ctx, struct tables *t, const struct vpc_xdp_port *pi,
		 const struct vpc_pkt *m)
{
	void *data = (void *)(long)ctx->data;
	void *end = (void *)(long)ctx->data_end;
	__u8 *f = data;
	__u32 token;

	if ((void *)(f + VPC_LB_RST_LEN) > end)
		return VPC_DROP_NO_INTERFACE;
	__u32 kind = vpc_lb_answer_kind(f + VPC_OFF_L4, m->tcp_flags, &token);
	__u32 k = VPC_LB_HC_TARGET(token);
	void *hm = inner(&set_lb_hc, t->set);
	void *am = inner(&set_lb_answers, t->set);
	if (kind == VPC_LB_ANS_NONE || hm == NULL || am == NULL)
		return VPC_DROP_NO_INTERFACE;
	const struct vpc_lb_hc_rec *h = bpf_map_lookup_elem(hm, &k);
	struct vpc_lb_answer *a = bpf_map_lookup_elem(am, &k);
	__be32 saddr = *(__be32 *)(f + VPC_OFF_IP + 12);
	if (h == NULL || a == NULL || h->ip != saddr || h->ip != pi->fi.ip ||
	    h->hc_port != m->sport || h->sport != m->dport)
		return VPC_DROP_NO_INTERFACE;
	a->token = token;
	a->kind = kind;
	if (kind == VPC_LB_ANS_RST)
		return VPC_DROP_LB_HEALTH_ANSWER;
	vpc_lb_rst_in_place(f, pi->fi.router_mac);
	int delta = VPC_LB_RST_LEN - (int)(ctx->data_end - ctx->data);
	if (delta != 0 && bpf_xdp_adjust_tail(ctx, delta) < 0)
		return VPC_DROP_ENGINE;
	return VPC_DROP_NONE;
}

static __always_inline __u8
uplink_checks(struct tables *t, const struct vpc_pkt *m, void *data, void *end, int *done)
{
	struct ethhdr *eth = data;

	*done = SOURCE_GO_ON;
	if (m->kind == VPC_PKT_ARP) {
		__u8 r = arp_from_uplink(t, data, end);
		*done = r == VPC_DROP_NONE ? SOURCE_ANSWERED : SOURCE_GO_ON;
		return r;
	}
	if (eth->h_dest[0] & 1)
		return VPC_DROP_MULTICAST;
	if (!mac_eq(eth->h_dest, t->g->uplink_mac))
		return VPC_DROP_UPLINK_DST_MAC;
	struct iphdr *ip = data + VPC_OFF_IP;
	if ((void *)(ip + 1) > end)
		return VPC_DROP_IP_TRUNCATED;
	if (ip->daddr == t->g->underlay_ip && t->g->underlay_ip != 0 &&
	    m->proto == IPPROTO_UDP && m->dport == bpf_htons(VPC_GENEVE_PORT))
		*done = SOURCE_OVERLAY;	/* overlay_in (vpc_xdp.bpf.c) */
	return VPC_DROP_NONE;
}

/*
 * Who on host sent a decapsulated frame of VPC vpc, if that host may have
 * (dataplane/stage_source.h's overlay_sender): switched, the interface
 * with the source MAC (and address, when it checks); routed (the router's
 * MAC), the owner of the source address, or an appliance of the VPC there.
 */
static __always_inline __u8
overlay_sender(struct tables *t, void *data, void *end, __u32 vpc, __u32 host, __u32 *out)
{
	struct ethhdr *eth = data;
	struct iphdr *ip = data + VPC_OFF_IP;

	if ((void *)(ip + 1) > end)
		return VPC_DROP_IP_TRUNCATED;
	void *vm = inner(&set_vpcs, t->set);
	void *ips = inner(&set_ips, t->set);
	void *am = inner(&set_appliances, t->set);
	if (vm == NULL || ips == NULL || am == NULL)
		return VPC_DROP_OVERLAY_SPOOFED;
	__u32 xi;
	const struct vpc_iface_rec *x = l2_iface(t, vpc, eth->h_source, &xi);
	if (x != NULL) {
		if (x->tunnel != host + 1 || (x->src_dst_check && ip->saddr != x->ip))
			return VPC_DROP_OVERLAY_SPOOFED;
		*out = xi;
		return VPC_DROP_NONE;
	}
	const struct vpc_xdp_vpc *vr = bpf_map_lookup_elem(vm, &vpc);
	if (vr == NULL || !mac_eq(eth->h_source, vr->router_mac))
		return VPC_DROP_OVERLAY_SPOOFED;
	struct vpc_xdp_ip_key ik = { .vpc = vpc, .ip = ip->saddr };
	__u32 *xp = bpf_map_lookup_elem(ips, &ik);
	if (xp != NULL) {
		xi = *xp;
		x = iface_at(t, xi);
		if (x != NULL && x->tunnel == host + 1) {
			*out = xi;
			return VPC_DROP_NONE;
		}
	}
	struct vpc_xdp_appliance_key ak = { .vpc = vpc, .rhost = host };
	xp = bpf_map_lookup_elem(am, &ak);
	if (xp == NULL)
		return VPC_DROP_OVERLAY_SPOOFED;
	*out = *xp;
	return VPC_DROP_NONE;
}

#endif /* VPC_XDP_STAGE_SOURCE_H */
