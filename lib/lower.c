/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * lower.c -- an image's objects as the engines' records (vpc_records.h):
 * interfaces, ports, routes and delivery routes, derived once here for
 * both engines.  Off the fast path; any thread (pure functions of the
 * image).
 */
#include "vpc_records.h"

#include <arpa/inet.h>
#include <string.h>

#include "sg.h"
#include "vpc_dhcp.h"
#include "vpc_geneve.h"
#include "vpc_lb.h"
#include "vpc_nacl.h"
#include "vpc_image_io.h"

void
vpc_lower_iface(const struct vpc_image *img, uint32_t i, uint16_t port,
		const struct vpc_sg *sg, struct vpc_iface_rec *out)
{
	const struct vpc_image_iface *f = &img->ifaces[i];
	const struct vpc_image_vpc *v = &img->vpcs[f->vpc];

	memset(out, 0, sizeof(*out));
	memcpy(out->mac, f->mac, 6);
	memcpy(out->router_mac, v->router_mac, 6);
	out->port = port;
	out->mtu = (uint16_t)v->mtu;
	out->vpc = f->vpc;
	out->subnet = f->subnet;
	out->ip = f->ip;
	out->eip = f->elastic_ip;
	out->src_dst_check = !!(f->flags & VPC_IFACE_F_SRC_DST_CHECK);
	out->has_eip = !!(f->flags & VPC_IFACE_F_EIP);
	out->tunnel = f->flags & VPC_IFACE_F_REMOTE ? (uint16_t)(f->rhost + 1) : 0;
	out->ctx = v->vni << 8;
	out->sg_class[VPC_DIR_INGRESS] = vpc_sg_class_of(sg, i, VPC_DIR_INGRESS);
	out->sg_class[VPC_DIR_EGRESS] = vpc_sg_class_of(sg, i, VPC_DIR_EGRESS);
}

/* A prefix length as a netmask, network order. */
static uint32_t
netmask(uint8_t len)
{
	return htonl(len == 0 ? 0 : 0xffffffffu << (32 - len));
}

/* An interface's side of a port record: its subnet, table, addresses. */
static void
lower_iface_port(const struct vpc_image *img, uint32_t i, struct vpc_port_rec *out)
{
	const struct vpc_image_iface *f = &img->ifaces[i];
	const struct vpc_image_subnet *s = &img->subnets[f->subnet];
	out->iface = i;
	out->ctx = img->vpcs[f->vpc].vni << 8;
	out->rtable = s->rtable;
	out->gateway_ip = s->gateway_ip;
	out->subnet_addr = s->cidr_addr;
	out->subnet_mask = netmask(s->cidr_len);
	out->subnet = f->subnet;
	if (s->nacl != VPC_INDEX_NONE)
		out->nacl = s->nacl + 1;
}

void
vpc_lower_port(const struct vpc_image *img, uint32_t p, struct vpc_port_rec *out)
{
	const struct vpc_image_port *ip = &img->ports[p];

	memset(out, 0, sizeof(*out));
	out->nacl = VPC_NACL_DEFAULT;
	if (ip->kind == VPC_PORT_UPLINK) {
		out->is_uplink = 1;
		out->iface = VPC_INDEX_NONE;
		out->subnet = VPC_INDEX_NONE;
		return;
	}
	lower_iface_port(img, ip->iface, out);
}

void
vpc_lower_iface_port(const struct vpc_image *img, uint32_t i, struct vpc_port_rec *out)
{
	memset(out, 0, sizeof(*out));
	out->nacl = VPC_NACL_DEFAULT;
	lower_iface_port(img, i, out);
}

void
vpc_lower_tunnel(const struct vpc_image *img, uint32_t r, struct vpc_tunnel_rec *out)
{
	const struct vpc_image_rhost *h = &img->rhosts[r];

	memset(out, 0, sizeof(*out));
	vpc_geneve_template(out->hdr, h->next_hop_mac, img->host[0].uplink_mac,
			    img->host[0].underlay_ip, h->underlay_ip);
	out->underlay_ip = h->underlay_ip;
}


void
vpc_lower_nacl_list(const struct vpc_image *img, uint32_t l, struct vpc_nacl_list *out)
{
	const struct vpc_image_nacl *a = &img->nacls[l / 2];
	uint32_t dir = l & 1;
	uint32_t first = a->first_rule + (dir == VPC_DIR_INGRESS ? 0 : a->n_ingress);

	memset(out, 0, sizeof(*out));
	out->n = dir == VPC_DIR_INGRESS ? a->n_ingress : a->n_egress;
	out->id = l;
	for (uint32_t k = 0; k < out->n && k < VPC_NACL_MAX_RULES; k++) {
		const struct vpc_image_nacl_rule *x = &img->nacl_rules[first + k];
		struct vpc_nacl_rule *r = &out->rules[k];
		r->mask = netmask(x->cidr_len);
		r->addr = x->cidr_addr & r->mask;
		r->port_lo = x->port_lo;
		r->port_hi = x->port_hi;
		r->proto = x->proto;
		r->flags = x->flags;
		r->icmp_type = x->icmp_type;
		r->icmp_code = x->icmp_code;
	}
}

void
vpc_lower_route(const struct vpc_image *img, uint32_t r, struct vpc_route_rec *out)
{
	static const uint8_t kind[VPC_RT_COUNT] = {
		[VPC_RT_LOCAL] = VPC_NH_LOCAL_MISS,	/* a local IP nobody owns */
		[VPC_RT_IGW] = VPC_NH_IGW,
		[VPC_RT_BLACKHOLE] = VPC_NH_BLACKHOLE,
		[VPC_RT_IFACE] = VPC_NH_APPLIANCE,
		[VPC_RT_NATGW] = VPC_NH_NATGW,
		/* what the peer VPC's interfaces' /32s leave: no transit */
		[VPC_RT_PEERING] = VPC_NH_PEERING_MISS,
	};
	const struct vpc_image_route *x = &img->routes[r];

	*out = (struct vpc_route_rec){
		.rtable = x->rtable, .prefix = x->prefix, .prefix_len = x->prefix_len,
		.kind = x->target < VPC_RT_COUNT ? kind[x->target] : VPC_NH_NO_ROUTE,
		.iface = x->target == VPC_RT_IFACE || x->target == VPC_RT_NATGW ||
				 x->target == VPC_RT_PEERING ? x->target_iface : VPC_INDEX_NONE,
		.via = VPC_INDEX_NONE,
	};
}

void
vpc_lower_natgw(const struct vpc_image *img, uint32_t g, struct vpc_natgw_rec *out)
{
	const struct vpc_image_natgw *x = &img->natgws[g];
	uint32_t nacl = img->subnets[x->subnet].nacl;

	*out = (struct vpc_natgw_rec){
		.eip = x->elastic_ip, .vpc = x->vpc, .subnet = x->subnet,
		.nacl = nacl == VPC_INDEX_NONE ? VPC_NACL_DEFAULT : nacl + 1,
	};
}

/* Does route table t route to peering p? */
static bool
routes_to_peering(const struct vpc_image *img, uint32_t t, uint32_t p)
{
	const struct vpc_image_rtable *rt = &img->rtables[t];

	for (uint32_t r = rt->first_route; r < rt->first_route + rt->n_routes; r++)
		if (img->routes[r].target == VPC_RT_PEERING && img->routes[r].target_peering == p)
			return true;
	return false;
}

int
vpc_lower_delivery(const struct vpc_image *img, uint32_t t, uint32_t i,
		   struct vpc_route_rec *out)
{
	const struct vpc_image_iface *f = &img->ifaces[i];
	uint32_t vpc = img->rtables[t].vpc;

	if (f->vpc == vpc) {
		*out = (struct vpc_route_rec){
			.rtable = t, .prefix = f->ip, .prefix_len = 32, .kind = VPC_NH_DELIVER,
			.iface = i, .via = VPC_INDEX_NONE,
		};
		return 1;
	}
	/* An interface of a peer VPC, where t has a route to that peering
	 * (the lookup decides whether it is the IP's longest match). */
	if (img->n_peerings == 0)
		return 0;
	uint32_t p = vpc_image_peering_of(img, vpc, f->vpc);
	if (p == VPC_INDEX_NONE || !routes_to_peering(img, t, p))
		return 0;
	*out = (struct vpc_route_rec){
		.rtable = t, .prefix = f->ip, .prefix_len = 32, .kind = VPC_NH_PEERING,
		.iface = i, .via = p,
	};
	return 1;
}

bool
vpc_lower_delivery_applies(const struct vpc_route_rec *d, uint32_t kind, uint32_t obj)
{
	if (d->kind == VPC_NH_PEERING)
		return kind == VPC_NH_PEERING_MISS && obj == d->via;
	return kind == VPC_NH_LOCAL_MISS;
}

uint32_t
vpc_lower_n_deliveries(const struct vpc_image *img, uint32_t t)
{
	struct vpc_route_rec d;
	uint32_t n = 0;

	for (uint32_t i = 0; i < img->n_ifaces; i++)
		n += (uint32_t)vpc_lower_delivery(img, t, i, &d);
	return n;
}

void
vpc_lower_dhcp(const struct vpc_image *img, uint32_t si, struct vpc_dhcp_rec *out)
{
	const struct vpc_image_subnet *s = &img->subnets[si];
	const struct vpc_image_vpc *v = &img->vpcs[s->vpc];
	const struct vpc_image_dhcp *d = &img->dhcp[s->vpc];
	uint8_t *f = out->frame, *o;
	uint32_t mask = netmask(s->cidr_len);
	uint32_t lease = d->lease, t1 = lease / 2, t2 = (uint32_t)((uint64_t)lease * 7 / 8);

	memset(out, 0, sizeof(*out));
	/* Ethernet: from the VPC router, to the client (patched). */
	memcpy(f + 6, v->router_mac, 6);
	f[12] = 0x08;
	/* IPv4: 576 bytes, from the subnet's router, TTL 64, UDP. */
	uint8_t *ip = f + 14;
	ip[0] = 0x45;

	ip[8] = 64;
	ip[9] = 17;
	memcpy(ip + 12, &s->gateway_ip, 4);
	/* UDP 67 -> 68. */
	uint8_t *udp = f + 34;
	udp[1] = 67;
	udp[3] = 68;
	/* BOOTREPLY, Ethernet, the cookie. */
	uint8_t *b = f + VPC_DHCP_BOOTP;
	b[0] = 2;
	b[1] = 1;
	b[2] = 6;
	memcpy(b + 236, (const uint8_t[]){ 99, 130, 83, 99 }, 4);
	/* Options at their fixed offsets, then the VPC's. */
	o = f + VPC_DHCP_OPTIONS;
	*o++ = 53, *o++ = 1, *o++ = 0;				/* type: patched */
	o = f + VPC_DHCP_SERVER_AT;				/* (the next byte) */
	*o++ = 54, *o++ = 4;					/* server identifier */
	memcpy(o, &s->gateway_ip, 4), o += 4;
	o = f + VPC_DHCP_LEASE_AT;				/* (the next byte) */
	const uint32_t lease_be[3] = { htonl(lease), htonl(t1), htonl(t2) };
	static const uint8_t lease_codes[3] = { 51, 58, 59 };	/* lease, T1, T2 */
	for (int k = 0; k < 3; k++) {
		*o++ = lease_codes[k], *o++ = 4;
		memcpy(o, &lease_be[k], 4), o += 4;
	}
	*o++ = 1, *o++ = 4;					/* subnet mask */
	memcpy(o, &mask, 4), o += 4;
	*o++ = 3, *o++ = 4;					/* router */
	memcpy(o, &s->gateway_ip, 4), o += 4;
	*o++ = 6, *o++ = (uint8_t)(4 * d->n_dns);		/* DNS */
	memcpy(o, d->dns, 4u * d->n_dns), o += 4u * d->n_dns;
	if (d->domain_len > 0) {				/* domain name */
		*o++ = 15, *o++ = d->domain_len;
		memcpy(o, d->domain, d->domain_len), o += d->domain_len;
	}
	if (d->n_ntp > 0) {					/* NTP servers */
		*o++ = 42, *o++ = (uint8_t)(4 * d->n_ntp);
		memcpy(o, d->ntp, 4u * d->n_ntp), o += 4u * d->n_ntp;
	}
	*o++ = 26, *o++ = 2;					/* interface MTU */
	*o++ = (uint8_t)(v->mtu >> 8), *o++ = (uint8_t)v->mtu;
	*o++ = 255;						/* END; zeros follow */

	/* Its length: through END, at least a BOOTP message of 300, even. */
	uint32_t len = (uint32_t)(o - f);
	if (len < VPC_DHCP_MIN_LEN)
		len = VPC_DHCP_MIN_LEN;
	len += len & 1;
	out->len = (uint16_t)len;
	ip[2] = (uint8_t)((len - 14) >> 8);
	ip[3] = (uint8_t)(len - 14);
	udp[4] = (uint8_t)((len - 34) >> 8);
	udp[5] = (uint8_t)(len - 34);

	/* The UDP sum of what nobody patches, and the pseudo-header's
	 * constant part: source address, protocol, length. */
	uint32_t sum = 0, tail = 0;
	uint16_t w;
	for (uint32_t off = 26; off < 30; off += 2) {
		memcpy(&w, f + off, 2);
		sum += w;
	}
	const uint8_t proto_len[4] = { 0, 17, (uint8_t)((len - 34) >> 8), (uint8_t)(len - 34) };
	memcpy(&w, proto_len, 2);
	sum += w;
	memcpy(&w, proto_len + 2, 2);
	sum += w;
	for (uint32_t off = 34; off < len; off += 2)
		if (!vpc_dhcp_patched_word(off)) {
			memcpy(&w, f + off, 2);
			if (off < VPC_DHCP_NAK_ZERO_AT)
				sum += w;
			else
				tail += w;
		}
	out->nak_sum = sum;
	out->sum = sum + tail;
}

bool
vpc_lower_uplink_needed(const struct vpc_image *img)
{
	if (img->n_eips > 0)	/* NAT gateways' elastic IPs too */
		return true;
	for (uint32_t r = 0; r < img->n_routes; r++)
		if (img->routes[r].target == VPC_RT_IGW)
			return true;
	return false;
}

void
vpc_lower_lb(const struct vpc_image *img, uint32_t b, const struct vpc_sg *sg,
	     struct vpc_lb_rec *out)
{
	const struct vpc_image_lb *x = &img->lbs[b];
	uint32_t cls = vpc_sg_lb_class(sg, b);

	*out = (struct vpc_lb_rec){
		.vpc = x->vpc,
		.addr = x->flags & VPC_LB_F_INTERNET ? x->elastic_ip : x->ip,
		.first_listener = x->first_listener,
		.n_listeners = (uint16_t)(x->n_listeners < VPC_LB_MAX_LISTENERS ?
					  x->n_listeners : VPC_LB_MAX_LISTENERS),
		.internet = !!(x->flags & VPC_LB_F_INTERNET),
		.has_sgs = cls != VPC_INDEX_NONE,
		.sg_class = cls == VPC_INDEX_NONE ? 0 : cls,
		.subnet = x->flags & VPC_LB_F_INTERNET ? VPC_INDEX_NONE : x->subnet,
	};
}

void
vpc_lower_listener(const struct vpc_image *img, uint32_t l, struct vpc_lb_listener_rec *out)
{
	const struct vpc_image_listener *x = &img->listeners[l];

	*out = (struct vpc_lb_listener_rec){ .proto = x->proto, .port = x->port, .tgroup = x->tgroup };
}

void
vpc_lower_tgroup(const struct vpc_image *img, uint32_t g, struct vpc_lb_group_rec *out)
{
	const struct vpc_image_tgroup *x = &img->tgroups[g];

	memset(out, 0, sizeof(*out));
	out->n = (uint16_t)(x->n_targets < VPC_LB_MAX_TARGETS ? x->n_targets : VPC_LB_MAX_TARGETS);
	out->algorithm = x->algorithm;
	out->first_target = x->first_target;
	for (uint32_t k = 0; k < out->n; k++) {
		const struct vpc_image_target *t = &img->targets[x->first_target + k];
		struct vpc_lb_member *m = &out->m[k];
		m->ip = img->ifaces[t->iface].ip;
		m->iface = t->iface;
		m->port = t->port;
		m->weight = t->weight;
		m->seed = vpc_lb_seed(m->ip, t->port);
	}
}

void
vpc_lower_lb_hc(const struct vpc_image *img, uint32_t t, struct vpc_lb_hc_rec *out)
{
	const struct vpc_image_target *x = &img->targets[t];

	*out = (struct vpc_lb_hc_rec){
		.ip = img->ifaces[x->iface].ip, .hc_port = x->hc_port, .sport = VPC_LB_HC_SPORT(t),
	};
}

int
vpc_lower_lb_route(const struct vpc_image *img, uint32_t t, uint32_t b, struct vpc_route_rec *out)
{
	const struct vpc_image_lb *x = &img->lbs[b];

	if (x->flags & VPC_LB_F_INTERNET || x->vpc != img->rtables[t].vpc)
		return 0;
	*out = (struct vpc_route_rec){
		.rtable = t, .prefix = x->ip, .prefix_len = 32, .kind = VPC_NH_LB, .iface = b,
		.via = VPC_INDEX_NONE,
	};
	return 1;
}
