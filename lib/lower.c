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
	out->ctx = v->vni << 8;
	out->sg_class[VPC_DIR_INGRESS] = vpc_sg_class_of(sg, i, VPC_DIR_INGRESS);
	out->sg_class[VPC_DIR_EGRESS] = vpc_sg_class_of(sg, i, VPC_DIR_EGRESS);
}

void
vpc_lower_port(const struct vpc_image *img, uint32_t p, struct vpc_port_rec *out)
{
	const struct vpc_image_port *ip = &img->ports[p];

	memset(out, 0, sizeof(*out));
	if (ip->kind == VPC_PORT_UPLINK) {
		out->is_uplink = 1;
		out->iface = VPC_INDEX_NONE;
		return;
	}
	const struct vpc_image_iface *f = &img->ifaces[ip->iface];
	const struct vpc_image_subnet *s = &img->subnets[f->subnet];
	out->iface = ip->iface;
	out->ctx = img->vpcs[f->vpc].vni << 8;
	out->rtable = s->rtable;
	out->gateway_ip = s->gateway_ip;
	out->subnet_addr = s->cidr_addr;
	out->subnet_mask = htonl(s->cidr_len == 0 ? 0 : 0xffffffffu << (32 - s->cidr_len));
}

void
vpc_lower_route(const struct vpc_image *img, uint32_t r, struct vpc_route_rec *out)
{
	static const uint8_t kind[VPC_RT_COUNT] = {
		[VPC_RT_LOCAL] = VPC_NH_LOCAL_MISS,	/* a local IP nobody owns */
		[VPC_RT_IGW] = VPC_NH_IGW,
		[VPC_RT_BLACKHOLE] = VPC_NH_BLACKHOLE,
		[VPC_RT_IFACE] = VPC_NH_APPLIANCE,
	};
	const struct vpc_image_route *x = &img->routes[r];

	*out = (struct vpc_route_rec){
		.rtable = x->rtable, .prefix = x->prefix, .prefix_len = x->prefix_len,
		.kind = x->target < VPC_RT_COUNT ? kind[x->target] : VPC_NH_NO_ROUTE,
		.iface = x->target == VPC_RT_IFACE ? x->target_iface : VPC_INDEX_NONE,
	};
}

int
vpc_lower_delivery(const struct vpc_image *img, uint32_t t, uint32_t i,
		   struct vpc_route_rec *out)
{
	const struct vpc_image_iface *f = &img->ifaces[i];

	if (f->vpc != img->rtables[t].vpc)
		return 0;
	*out = (struct vpc_route_rec){
		.rtable = t, .prefix = f->ip, .prefix_len = 32, .kind = VPC_NH_DELIVER, .iface = i,
	};
	return 1;
}

uint32_t
vpc_lower_n_deliveries(const struct vpc_image *img, uint32_t t)
{
	uint32_t n = 0;

	for (uint32_t i = 0; i < img->n_ifaces; i++)
		n += img->ifaces[i].vpc == img->rtables[t].vpc;
	return n;
}
