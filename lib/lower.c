/* SPDX-License-Identifier: BSD-3-Clause */
/* lower.c -- an image's objects as the engines' records (vpc_records.h). */
#include "vpc_records.h"

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
