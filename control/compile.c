/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * compile.c -- the last step of the pipeline (load, validate, derive,
 * compile): a validated, derived model -> a sealed table image, and
 * vpc_image_load() for either kind of input file.  Owns the translation
 * into image records: indexes made global, addresses in network order,
 * group peers expanded, each table's local route added and its routes
 * sorted, and the defaults that exist only as record fields (MTU,
 * timeouts, source/dest check, an omitted egress list as allow-all, each
 * subnet's gateway address, a load balancer's target-group protocol,
 * algorithm, deregistration delay and health check, a target's port and
 * weight).  The values derived from the file (implicit
 * objects, VNIs, DHCP options, ports, MACs, router and uplink MACs) are
 * topo_derive.c's.
 */
#include "compile.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "topo_derive.h"

static void
copy_name(char dst[VPC_NAME_SIZE], const char *src)
{
	memset(dst, 0, VPC_NAME_SIZE);
	if (src != NULL)
		strncpy(dst, src, VPC_NAME_MAX);
}

/*
 * Members of each security group of one VPC, as lists of interface indexes
 * (CSR layout): members of group g are list[first[g] .. first[g + 1]).
 */
struct members {
	uint32_t *first;	/* n_sgs + 1 */
	uint32_t *list;
};

static int
members_build(struct members *m, const struct topo_vpc *v)
{
	uint32_t n = 0;

	m->first = calloc(v->n_sgs + 1, sizeof(*m->first));
	for (uint32_t i = 0; i < v->n_ifaces; i++)
		n += v->ifaces[i].n_sgs;
	m->list = calloc(n ? n : 1, sizeof(*m->list));
	if (m->first == NULL || m->list == NULL)
		return -ENOMEM;
	for (uint32_t i = 0; i < v->n_ifaces; i++)
		for (uint32_t k = 0; k < v->ifaces[i].n_sgs; k++)
			m->first[v->ifaces[i].sg_idx[k] + 1]++;
	for (uint32_t g = 0; g < v->n_sgs; g++)
		m->first[g + 1] += m->first[g];
	uint32_t *fill = calloc(v->n_sgs ? v->n_sgs : 1, sizeof(*fill));
	if (fill == NULL)
		return -ENOMEM;
	for (uint32_t i = 0; i < v->n_ifaces; i++)	/* interface order */
		for (uint32_t k = 0; k < v->ifaces[i].n_sgs; k++) {
			uint32_t g = v->ifaces[i].sg_idx[k];
			m->list[m->first[g] + fill[g]++] = i;
		}
	free(fill);
	return 0;
}

static void
members_free(struct members *m)
{
	free(m->first);
	free(m->list);
}

static uint32_t
n_members(const struct members *m, uint32_t g)
{
	return m->first[g + 1] - m->first[g];
}

/* The members a group peer expands to: its VPC's (a peered one's, with
 * vpc:), from mem, one per VPC; vi is the rule's VPC. */
static const struct members *
peer_members(const struct topo_rule *r, const struct members *mem, uint32_t vi)
{
	return &mem[r->peer_vpc_idx != VPC_INDEX_NONE ? r->peer_vpc_idx : vi];
}

static uint32_t
rule_records(const struct topo_rule *r, const struct members *mem, uint32_t vi)
{
	return r->peer_kind == TOPO_PEER_SG ?
		       n_members(peer_members(r, mem, vi), r->peer_sg_idx) : 1;
}

static int
route_cmp(const void *a, const void *b)
{
	const struct vpc_image_route *x = a, *y = b;

	if (x->prefix_len != y->prefix_len)
		return x->prefix_len > y->prefix_len ? -1 : 1;
	uint32_t px = ntohl(x->prefix), py = ntohl(y->prefix);
	return px < py ? -1 : px > py;
}

static int
l2_cmp(const void *a, const void *b)
{
	const struct vpc_image_l2 *x = a, *y = b;

	if (x->vpc != y->vpc)
		return x->vpc < y->vpc ? -1 : 1;
	return memcmp(x->mac, y->mac, 6);
}

static int
eip_cmp(const void *a, const void *b)
{
	const struct vpc_image_eip *x = a, *y = b;
	uint32_t ex = ntohl(x->elastic_ip), ey = ntohl(y->elastic_ip);

	return ex < ey ? -1 : ex > ey;
}

static void
emit_rule(struct vpc_image_rule *o, uint32_t sg, enum vpc_rule_dir dir,
	  const struct topo_rule *r, uint32_t src_rule)
{
	memset(o, 0, sizeof(*o));
	o->sg = sg;
	o->dir = (uint8_t)dir;
	o->src_rule = (uint16_t)(src_rule > 0xffff ? 0xffff : src_rule);
	o->peer_sg = VPC_INDEX_NONE;
	if (r->proto == TOPO_PROTO_ALL)
		o->flags |= VPC_RULE_F_ANY_PROTO;
	else
		o->proto = (uint8_t)r->proto;
	o->port_lo = r->ports_set ? r->port_lo : 0;
	o->port_hi = r->ports_set ? r->port_hi : 65535;
	if (r->icmp_type.set) {
		o->flags |= VPC_RULE_F_ICMP_TYPE;
		o->icmp_type = (uint8_t)r->icmp_type.v;
	}
	if (r->icmp_code.set) {
		o->flags |= VPC_RULE_F_ICMP_CODE;
		o->icmp_code = (uint8_t)r->icmp_code.v;
	}
	if (r->peer_kind == TOPO_PEER_CIDR) {
		o->peer_addr = htonl(r->peer_cidr.addr);
		o->peer_len = r->peer_cidr.len;
	}
}

/*
 * Emit one rule list of a group of VPC vi; returns the number of records
 * written.  mem: every VPC's group members; sg_base: where each VPC's
 * groups start in the image.
 */
static uint32_t
emit_rules(struct vpc_image_rule *out, uint32_t sg, enum vpc_rule_dir dir,
	   const struct topo *t, uint32_t vi, const struct members *mem,
	   const struct topo_rule *rules, uint32_t n, const uint32_t *sg_base)
{
	uint32_t k = 0;

	for (uint32_t i = 0; i < n; i++) {
		const struct topo_rule *r = &rules[i];
		if (r->peer_kind != TOPO_PEER_SG) {
			emit_rule(&out[k++], sg, dir, r, i);
			continue;
		}
		/* Expand the group peer into its members' private IPs (a
		 * peered VPC's group: that VPC's interfaces). */
		uint32_t g = r->peer_sg_idx, pv = r->peer_vpc_idx != VPC_INDEX_NONE ?
							   r->peer_vpc_idx : vi;
		const struct members *m = &mem[pv];
		for (uint32_t j = m->first[g]; j < m->first[g + 1]; j++) {
			const struct topo_iface *fi = &t->vpcs[pv].ifaces[m->list[j]];
			emit_rule(&out[k], sg, dir, r, i);
			out[k].flags |= VPC_RULE_F_SG_PEER;
			out[k].peer_sg = sg_base[pv] + r->peer_sg_idx;
			out[k].peer_addr = htonl(fi->ip.addr);
			out[k].peer_len = 32;
			k++;
		}
	}
	return k;
}

static void
members_free_all(struct members *mem, uint32_t n)
{
	if (mem != NULL)
		for (uint32_t vi = 0; vi < n; vi++)
			members_free(&mem[vi]);
	free(mem);
}

/* Rule records of one VPC's groups, group peers expanded and an omitted
 * egress list counted as its one allow-all record. */
static uint64_t
count_rule_records(const struct topo_vpc *v, const struct members *mem, uint32_t vi)
{
	uint64_t n = 0;

	for (uint32_t g = 0; g < v->n_sgs; g++) {
		const struct topo_sg *sg = &v->sgs[g];
		for (uint32_t k = 0; k < sg->n_ingress; k++)
			n += rule_records(&sg->ingress[k], mem, vi);
		if (!sg->has_egress)
			n += 1;
		for (uint32_t k = 0; k < sg->n_egress; k++)
			n += rule_records(&sg->egress[k], mem, vi);
	}
	return n;
}

/*
 * The image's section sizes, building each VPC's group members on the way
 * (mem: one per VPC).  0, -ENOMEM, or -E2BIG past the rule limit.
 */
static int
count_records(const struct topo *t, const struct topo_host *th, uint32_t **lidx,
	      struct members *mem, uint32_t counts[VPC_SEC_COUNT])
{
	uint64_t n_rules = 0;

	counts[VPC_SEC_VPC] = t->n_vpcs;
	/* Every VPC's members first: a rule may name a peered VPC's group. */
	for (uint32_t vi = 0; vi < t->n_vpcs; vi++)
		if (members_build(&mem[vi], &t->vpcs[vi]) < 0)
			return -ENOMEM;
	for (uint32_t vi = 0; vi < t->n_vpcs; vi++) {
		const struct topo_vpc *v = &t->vpcs[vi];
		counts[VPC_SEC_SUBNET] += v->n_subnets;
		counts[VPC_SEC_RTABLE] += v->n_rtables;
		counts[VPC_SEC_SG] += v->n_sgs;
		counts[VPC_SEC_IFACE] += v->n_ifaces;
		for (uint32_t i = 0; i < v->n_ifaces; i++)
			counts[VPC_SEC_PORT] += lidx[vi][i] != VPC_INDEX_NONE;
		counts[VPC_SEC_NACL] += v->n_nacls;
		for (uint32_t a = 0; a < v->n_nacls; a++)
			counts[VPC_SEC_NRULE] += v->nacls[a].n_ingress + v->nacls[a].n_egress;
		for (uint32_t r = 0; r < v->n_rtables; r++)
			counts[VPC_SEC_ROUTE] += v->rtables[r].n_routes + 1;
		n_rules += count_rule_records(v, mem, vi);
		for (uint32_t i = 0; i < v->n_ifaces; i++)
			if (v->ifaces[i].eip.set && lidx[vi][i] != VPC_INDEX_NONE)
				counts[VPC_SEC_EIP]++;
		counts[VPC_SEC_NATGW] += v->n_natgws;
		counts[VPC_SEC_EIP] += v->n_natgws;
		counts[VPC_SEC_LB] += v->n_lbs;
		for (uint32_t k = 0; k < v->n_lbs; k++) {
			const struct topo_lb *b = &v->lbs[k];
			counts[VPC_SEC_EIP] += !b->internal;
			counts[VPC_SEC_LISTENER] += b->n_listeners;
			counts[VPC_SEC_TGROUP] += b->n_tgroups;
			for (uint32_t g = 0; g < b->n_tgroups; g++)
				counts[VPC_SEC_TARGET] += b->tgroups[g].n_targets;
		}
	}
	if (n_rules > VPC_MAX_RULES)
		return -E2BIG;
	counts[VPC_SEC_RULE] = (uint32_t)n_rules;
	counts[VPC_SEC_PORT] += 1;	/* the uplink */
	counts[VPC_SEC_L2] = counts[VPC_SEC_IFACE];
	counts[VPC_SEC_RHOST] = th == &t->host ? 0 : t->n_hosts - 1;	/* the others */
	counts[VPC_SEC_HOST] = 1;
	counts[VPC_SEC_HPORT] = th->n_ports;
	counts[VPC_SEC_DHCP] = t->n_vpcs;
	counts[VPC_SEC_PEERING] = t->n_peerings;
	return 0;
}

/*
 * Where the VPC being emitted starts in each object section (its local
 * indexes are offsets from these), and the next free record of the
 * sections filled across VPCs.
 */
struct cursor {
	uint32_t sub, rt, sg, iface, nacl, natgw, lb;
	uint32_t route, rule, eip, nrule, listener, tgroup, target;
	uint32_t port;		/* the next interface port */
	/* The VPC's interfaces' ports: each one's index from port, or
	 * VPC_INDEX_NONE for one on another host; how many are here. */
	const uint32_t *lidx;
	uint32_t n_local;
	/* In a host's view: each hosts: entry's index in rhosts, or
	 * VPC_INDEX_NONE for this host; NULL in the whole topology's. */
	const uint32_t *rhost_of;
	/* Every VPC's: group members, and where its groups start in sgs
	 * (a rule may name a peered VPC's group). */
	const struct topo *t;
	const struct members *mem;
	const uint32_t *sg_base;
};

static void
emit_vpc(struct vpc_image_vpc *ov, const struct topo_vpc *v,
	 const struct cursor *cur)
{
	static const uint32_t def_to[VPC_TO_COUNT] = {
#define VPC_X(e, f, d) [VPC_TO_##e] = d,
		VPC_TIMEOUTS(VPC_X)
#undef VPC_X
	};

	copy_name(ov->name, v->name.s);
	ov->vni = (uint32_t)v->vni.v;
	ov->cidr_addr = htonl(v->cidr.addr);
	ov->cidr_len = v->cidr.len;
	ov->flags = v->igw.set && v->igw.v ? VPC_VPC_F_IGW : 0;
	ov->mtu = v->mtu.set ? (uint16_t)v->mtu.v : 1500;
	ov->main_rtable = cur->rt + v->main_rtable;
	ov->default_sg = cur->sg + v->default_sg;
	topo_router_mac(ov->router_mac, ov->vni);
	for (int k = 0; k < VPC_TO_COUNT; k++)
		ov->timeouts[k] = v->timeouts[k].set ?
			(uint32_t)v->timeouts[k].v : def_to[k];
}

/* The VPC's DHCP options, as derived (topo_derive_dhcp); the domain
 * NUL-padded, as the image checker wants it. */
static void
emit_dhcp(struct vpc_image_dhcp *od, const struct topo_dhcp *td)
{
	memset(od, 0, sizeof(*od));
	od->n_dns = (uint8_t)td->n_dns;
	for (uint32_t k = 0; k < td->n_dns; k++)
		od->dns[k] = htonl(td->dns[k].addr);
	od->n_ntp = (uint8_t)td->n_ntp;
	for (uint32_t k = 0; k < td->n_ntp; k++)
		od->ntp[k] = htonl(td->ntp[k].addr);
	od->lease = (uint32_t)td->lease.v;
	if (td->domain.s != NULL) {
		od->domain_len = (uint8_t)strlen(td->domain.s);
		memcpy(od->domain, td->domain.s, od->domain_len);
	}
}

static void
emit_subnets(struct vpc_image *img, const struct topo_vpc *v, uint32_t vi,
	     const struct cursor *cur)
{
	for (uint32_t s = 0; s < v->n_subnets; s++) {
		const struct topo_subnet *ts = &v->subnets[s];
		struct vpc_image_subnet *os = &img->subnets[cur->sub + s];
		copy_name(os->name, ts->name.s);
		os->vpc = vi;
		os->rtable = cur->rt + ts->rtable_idx;
		os->cidr_addr = htonl(ts->cidr.addr);
		os->cidr_len = ts->cidr.len;
		os->gateway_ip = htonl(ts->cidr.addr + 1);
		os->nacl = ts->nacl_idx == VPC_INDEX_NONE ? VPC_INDEX_NONE :
							     cur->nacl + ts->nacl_idx;
	}
}

static int
nrule_cmp(const void *a, const void *b)
{
	const struct vpc_image_nacl_rule *x = a, *y = b;

	return x->number < y->number ? -1 : x->number > y->number;
}

/* One direction of a network ACL, sorted by rule number. */
static uint16_t
emit_nrules(struct vpc_image_nacl_rule *o, uint32_t nacl, enum vpc_rule_dir dir,
	    const struct topo_nrule *rules, uint32_t n)
{
	for (uint32_t k = 0; k < n; k++) {
		const struct topo_nrule *r = &rules[k];
		struct vpc_image_nacl_rule *x = &o[k];
		memset(x, 0, sizeof(*x));
		x->nacl = nacl;
		x->dir = (uint8_t)dir;
		x->number = (uint16_t)r->number.v;
		x->flags = r->allow ? VPC_NRULE_F_ALLOW : 0;
		if (r->m.proto == TOPO_PROTO_ALL)
			x->flags |= VPC_NRULE_F_ANY_PROTO;
		else
			x->proto = (uint8_t)r->m.proto;
		x->port_lo = r->m.ports_set ? r->m.port_lo : 0;
		x->port_hi = r->m.ports_set ? r->m.port_hi : 65535;
		if (r->m.icmp_type.set) {
			x->flags |= VPC_NRULE_F_ICMP_TYPE;
			x->icmp_type = (uint8_t)r->m.icmp_type.v;
		}
		if (r->m.icmp_code.set) {
			x->flags |= VPC_NRULE_F_ICMP_CODE;
			x->icmp_code = (uint8_t)r->m.icmp_code.v;
		}
		x->cidr_addr = htonl(r->m.peer_cidr.addr);
		x->cidr_len = r->m.peer_cidr.len;
	}
	qsort(o, n, sizeof(*o), nrule_cmp);
	return (uint16_t)n;
}

/* The VPC's network ACLs, ingress rules then egress, each by number. */
static void
emit_nacls(struct vpc_image *img, const struct topo_vpc *v, uint32_t vi,
	   struct cursor *cur)
{
	for (uint32_t a = 0; a < v->n_nacls; a++) {
		const struct topo_nacl *ta = &v->nacls[a];
		struct vpc_image_nacl *oa = &img->nacls[cur->nacl + a];
		copy_name(oa->name, ta->name.s);
		oa->vpc = vi;
		for (uint32_t k = 0; k < ta->n_subnets; k++)
			oa->n_subnets += ta->subnet_idx[k] != VPC_INDEX_NONE;
		oa->first_rule = cur->nrule;
		oa->n_ingress = emit_nrules(&img->nacl_rules[cur->nrule], cur->nacl + a,
					    VPC_DIR_INGRESS, ta->ingress, ta->n_ingress);
		cur->nrule += oa->n_ingress;
		oa->n_egress = emit_nrules(&img->nacl_rules[cur->nrule], cur->nacl + a,
					   VPC_DIR_EGRESS, ta->egress, ta->n_egress);
		cur->nrule += oa->n_egress;
	}
}

/* Each table's routes with its implicit local one, longest prefix first. */
static void
emit_rtables(struct vpc_image *img, const struct topo_vpc *v, uint32_t vi,
	     struct cursor *cur)
{
	for (uint32_t r = 0; r < v->n_rtables; r++) {
		const struct topo_rtable *tr = &v->rtables[r];
		struct vpc_image_rtable *orr = &img->rtables[cur->rt + r];
		copy_name(orr->name, tr->name.s);
		orr->vpc = vi;
		orr->is_main = r == v->main_rtable;
		orr->first_route = cur->route;
		struct vpc_image_route *o = &img->routes[cur->route];
		/* The implicit local route. */
		o[0] = (struct vpc_image_route){
			.rtable = cur->rt + r,
			.prefix = htonl(v->cidr.addr),
			.prefix_len = v->cidr.len,
			.target = VPC_RT_LOCAL,
			.flags = VPC_ROUTE_F_IMPLICIT,
			.target_iface = VPC_INDEX_NONE,
		};
		for (uint32_t k = 0; k < tr->n_routes; k++) {
			const struct topo_route *x = &tr->routes[k];
			o[k + 1] = (struct vpc_image_route){
				.rtable = cur->rt + r,
				.prefix = htonl(x->dest.addr),
				.prefix_len = x->dest.len,
				.target = x->target == TOPO_TGT_IGW ? VPC_RT_IGW :
					  x->target == TOPO_TGT_BLACKHOLE ? VPC_RT_BLACKHOLE :
					  x->target == TOPO_TGT_NATGW ? VPC_RT_NATGW :
					  x->target == TOPO_TGT_PEERING ? VPC_RT_PEERING :
					  VPC_RT_IFACE,
				.target_iface = x->target == TOPO_TGT_IFACE ? cur->iface + x->iface_idx :
						x->target == TOPO_TGT_NATGW ? cur->natgw + x->natgw_idx :
						VPC_INDEX_NONE,
			};
			if (x->target == TOPO_TGT_PEERING)
				o[k + 1].target_peering = x->peering_idx;
		}
		orr->n_routes = tr->n_routes + 1;
		qsort(o, orr->n_routes, sizeof(*o), route_cmp);
		cur->route += orr->n_routes;
	}
}

/* The VPC's NAT gateways, and their elastic IPs in the uplink's table. */
static void
emit_natgws(struct vpc_image *img, const struct topo_vpc *v, uint32_t vi, struct cursor *cur)
{
	for (uint32_t i = 0; i < v->n_natgws; i++) {
		const struct topo_natgw *g = &v->natgws[i];
		struct vpc_image_natgw *o = &img->natgws[cur->natgw + i];
		copy_name(o->name, g->name.s);
		o->vpc = vi;
		o->subnet = cur->sub + g->subnet_idx;
		o->elastic_ip = htonl(g->eip.addr);
		img->eips[cur->eip++] = (struct vpc_image_eip){
			.elastic_ip = o->elastic_ip, .iface = VPC_EIP_NATGW | (cur->natgw + i),
		};
	}
}

/* A u16 the validator bounded, or its default. */
static uint16_t
or_default(const struct topo_uint *x, uint16_t def)
{
	return x->set ? (uint16_t)x->v : def;
}

/*
 * The VPC's load balancers, in file order, each one's listeners, target
 * groups and their targets contiguous and in file order (the sections
 * are filled across VPCs: cur->listener, tgroup, target), with the
 * defaults filled in; internet-facing ones' elastic IPs in the uplink's
 * table.
 */
static void
emit_lbs(struct vpc_image *img, const struct topo_vpc *v, uint32_t vi, struct cursor *cur)
{
	for (uint32_t i = 0; i < v->n_lbs; i++) {
		const struct topo_lb *b = &v->lbs[i];
		uint32_t li = cur->lb + i;
		struct vpc_image_lb *o = &img->lbs[li];
		copy_name(o->name, b->name.s);
		o->vpc = vi;
		if (b->internal) {
			o->subnet = cur->sub + b->subnet_idx;
			o->ip = htonl(b->ip.addr);
		} else {
			o->subnet = VPC_INDEX_NONE;
			o->flags = VPC_LB_F_INTERNET;
			o->elastic_ip = htonl(b->eip.addr);
			img->eips[cur->eip++] = (struct vpc_image_eip){
				.elastic_ip = o->elastic_ip, .iface = VPC_EIP_LB | li,
			};
		}
		o->n_sgs = (uint8_t)b->n_sgs;
		for (uint32_t k = 0; k < b->n_sgs; k++)
			o->sgs[k] = (uint16_t)(cur->sg + b->sg_idx[k]);
		o->first_tgroup = cur->tgroup;
		o->n_tgroups = b->n_tgroups;
		for (uint32_t k = 0; k < b->n_tgroups; k++) {
			const struct topo_lb_tgroup *g = &b->tgroups[k];
			uint32_t gi = cur->tgroup + k;
			struct vpc_image_tgroup *og = &img->tgroups[gi];
			copy_name(og->name, g->name.s);
			og->lb = li;
			og->first_target = cur->target;
			og->n_targets = g->n_targets;
			og->proto = (uint8_t)or_default(&g->proto, 6);
			og->algorithm = (uint8_t)or_default(&g->algorithm, VPC_LB_HASH);
			og->port = htons((uint16_t)g->port.v);
			og->hc_interval = or_default(&g->hc_interval, VPC_HC_INTERVAL_DEFAULT);
			og->hc_timeout = or_default(&g->hc_timeout, VPC_HC_TIMEOUT_DEFAULT);
			og->hc_healthy = (uint8_t)or_default(&g->hc_healthy, VPC_HC_HEALTHY_DEFAULT);
			og->hc_unhealthy = (uint8_t)or_default(&g->hc_unhealthy,
							       VPC_HC_UNHEALTHY_DEFAULT);
			og->dereg_delay = g->dereg.set ? (uint32_t)g->dereg.v : VPC_LB_DEREG_DEFAULT;
			for (uint32_t t = 0; t < g->n_targets; t++) {
				const struct topo_lb_target *x = &g->targets[t];
				struct vpc_image_target *ot = &img->targets[cur->target++];
				uint16_t port = or_default(&x->port, (uint16_t)g->port.v);
				ot->tgroup = gi;
				ot->iface = cur->iface + x->iface_idx;
				ot->port = htons(port);
				/* traffic-port: each target's own */
				ot->hc_port = htons(or_default(&g->hc_port, port));
				ot->weight = or_default(&x->weight, 1);
			}
		}
		o->first_listener = cur->listener;
		o->n_listeners = b->n_listeners;
		for (uint32_t k = 0; k < b->n_listeners; k++) {
			const struct topo_lb_listener *l = &b->listeners[k];
			struct vpc_image_listener *ol = &img->listeners[cur->listener++];
			ol->lb = li;
			ol->tgroup = cur->tgroup + l->tgroup_idx;
			ol->proto = (uint8_t)l->proto.v;
			ol->port = htons((uint16_t)l->port.v);
		}
		cur->tgroup += b->n_tgroups;
	}
}

/* Each group with its ingress, then its egress rules (allow-all when the
 * file omits the list). */
static void
emit_sgs(struct vpc_image *img, const struct topo_vpc *v, uint32_t vi,
	 struct cursor *cur)
{
	const struct members *m = &cur->mem[vi];
	for (uint32_t g = 0; g < v->n_sgs; g++) {
		const struct topo_sg *tg = &v->sgs[g];
		struct vpc_image_sg *og = &img->sgs[cur->sg + g];
		copy_name(og->name, tg->name.s);
		og->vpc = vi;
		og->flags = tg->implicit ? VPC_SG_F_IMPLICIT : 0;
		og->n_members = n_members(m, g);
		og->first_rule = cur->rule;
		og->n_ingress = emit_rules(&img->rules[cur->rule], cur->sg + g,
					   VPC_DIR_INGRESS, cur->t, vi, cur->mem, tg->ingress,
					   tg->n_ingress, cur->sg_base);
		cur->rule += og->n_ingress;
		if (tg->has_egress) {
			og->n_egress = emit_rules(&img->rules[cur->rule], cur->sg + g,
						  VPC_DIR_EGRESS, cur->t, vi, cur->mem, tg->egress,
						  tg->n_egress, cur->sg_base);
		} else {
			/* Omitted egress: allow all. */
			struct topo_rule all = { .proto = TOPO_PROTO_ALL,
						 .peer_kind = TOPO_PEER_CIDR };
			emit_rule(&img->rules[cur->rule], cur->sg + g,
				  VPC_DIR_EGRESS, &all, 0);
			og->n_egress = 1;
		}
		cur->rule += og->n_egress;
	}
}

/* Each interface with its port, its L2 entry and its elastic IP. */
static void
emit_ifaces(struct vpc_image *img, const struct topo_vpc *v, uint32_t vi,
	    struct cursor *cur)
{
	for (uint32_t i = 0; i < v->n_ifaces; i++) {
		const struct topo_iface *tf = &v->ifaces[i];
		uint32_t gi = cur->iface + i;
		bool here = cur->lidx[i] != VPC_INDEX_NONE;
		struct vpc_image_iface *of = &img->ifaces[gi];
		copy_name(of->name, tf->name.s);
		of->vpc = vi;
		of->subnet = cur->sub + tf->subnet_idx;
		of->port = here ? cur->port + cur->lidx[i] : VPC_INDEX_NONE;
		if (!here) {
			/* On another host: reached over the overlay. */
			of->flags |= VPC_IFACE_F_REMOTE;
			of->rhost = cur->rhost_of[tf->host_idx];
		}
		of->ip = htonl(tf->ip.addr);
		memcpy(of->mac, tf->mac.b, 6);
		if (!tf->sdc.set || tf->sdc.v)
			of->flags |= VPC_IFACE_F_SRC_DST_CHECK;
		if (tf->mac_derived)
			of->flags |= VPC_IFACE_F_MAC_DERIVED;
		if (tf->eip.set && here) {	/* each host's uplink has its own */
			of->flags |= VPC_IFACE_F_EIP;
			of->elastic_ip = htonl(tf->eip.addr);
			img->eips[cur->eip++] = (struct vpc_image_eip){
				of->elastic_ip, gi };
		}
		of->n_sgs = (uint8_t)tf->n_sgs;
		for (uint32_t k = 0; k < tf->n_sgs; k++)
			of->sgs[k] = (uint16_t)(cur->sg + tf->sg_idx[k]);

		struct vpc_image_l2 *ol = &img->l2[gi];
		ol->vpc = vi;
		memcpy(ol->mac, tf->mac.b, 6);
		ol->iface = gi;
		if (!here)
			continue;
		struct vpc_image_port *op = &img->ports[of->port];
		copy_name(op->name, tf->port.s);
		op->kind = VPC_PORT_IFACE;
		op->iface = gi;
	}
}

/* The other hosts, in the file's order (a host's view). */
static void
emit_rhosts(struct vpc_image *img, const struct topo *t, uint32_t self)
{
	const struct topo_host *me = &t->hosts[self];
	uint32_t n = 0;

	for (uint32_t h = 0; h < t->n_hosts; h++) {
		const struct topo_host *o = &t->hosts[h];
		if (h == self)
			continue;
		struct vpc_image_rhost *r = &img->rhosts[n++];
		copy_name(r->name, o->name.s);
		r->underlay_ip = htonl(o->underlay_ip.addr);
		/* One underlay segment: straight to the host's uplink;
		 * otherwise through this host's underlay gateway. */
		memcpy(r->next_hop_mac, me->underlay_gateway_mac.set ? me->underlay_gateway_mac.b :
					topo_uplink_mac(o), 6);
	}
}

/* The uplink's port (after every interface's) and MACs, the host ports. */
static void
emit_host(struct vpc_image *img, const struct topo_host *th, uint32_t uplink)
{
	static const uint32_t hport_type[] = {
		[TOPO_PORT_VHOST_USER] = VPC_HPORT_VHOST_USER, [TOPO_PORT_TAP] = VPC_HPORT_TAP,
		[TOPO_PORT_AF_PACKET] = VPC_HPORT_AF_PACKET, [TOPO_PORT_AF_XDP] = VPC_HPORT_AF_XDP,
		[TOPO_PORT_PCAP] = VPC_HPORT_PCAP, [TOPO_PORT_PCI] = VPC_HPORT_PCI,
	};
	struct vpc_image_port *up = &img->ports[uplink];
	copy_name(up->name, topo_uplink_port(th));
	up->kind = VPC_PORT_UPLINK;
	up->iface = VPC_INDEX_NONE;

	struct vpc_image_host *h = &img->host[0];
	h->uplink_port = uplink;
	memcpy(h->uplink_mac, topo_uplink_mac(th), 6);
	memcpy(h->gateway_mac, topo_gateway_mac(th), 6);
	if (th->uplink_mac.set && th->gateway_mac.set)
		h->flags |= VPC_HOST_F_UPLINK_MACS;
	if (th->underlay_ip.set)
		h->underlay_ip = htonl(th->underlay_ip.addr);

	for (uint32_t i = 0; i < th->n_ports; i++) {
		const struct topo_hostport *hp = &th->ports[i];
		struct vpc_image_hport *o = &img->hports[i];
		const char *a = hp->path.s ? hp->path.s : hp->ifname.s ? hp->ifname.s :
				hp->device.s ? hp->device.s : hp->rx.s;
		copy_name(o->name, hp->name.s);
		o->type = hport_type[hp->type];
		if (hp->loop.set && hp->loop.v)
			o->flags |= VPC_HPORT_F_LOOP;
		if (hp->client.set && hp->client.v)
			o->flags |= VPC_HPORT_F_CLIENT;
		if (hp->mode.set) {
			o->flags |= VPC_HPORT_F_MODE;
			o->mode = (uint16_t)hp->mode.v;
		}
		if (a != NULL)
			snprintf(o->a, sizeof(o->a), "%s", a);
		if (hp->tx.s != NULL)
			snprintf(o->b, sizeof(o->b), "%s", hp->tx.s);
		else if (hp->owner.s != NULL)	/* vhost-user server: b is free */
			snprintf(o->b, sizeof(o->b), "%s", hp->owner.s);
	}
}

struct vpc_image *
topo_compile(const struct topo *t)
{
	return topo_compile_host(t, VPC_INDEX_NONE);
}

static void
lidx_free(uint32_t **lidx, uint32_t n)
{
	for (uint32_t i = 0; lidx != NULL && i < n; i++)
		free(lidx[i]);
	free(lidx);
}

struct vpc_image *
topo_compile_host(const struct topo *t, uint32_t host)
{
	uint32_t counts[VPC_SEC_COUNT] = { 0 };
	struct members *mem = NULL;
	struct vpc_image *img = NULL;
	struct cursor cur = { 0 };
	uint32_t **lidx = NULL;
	uint32_t *sg_base = NULL;
	int rc;

	if (t == NULL || !t->validated || (host != VPC_INDEX_NONE && host >= t->n_hosts)) {
		errno = EINVAL;
		return NULL;
	}
	/* The host's view: its interfaces, in file order; every VPC's
	 * routes, groups (members on every host) and ACLs. */
	const struct topo_host *th = host == VPC_INDEX_NONE ? &t->host : &t->hosts[host];
	lidx = calloc(t->n_vpcs ? t->n_vpcs : 1, sizeof(*lidx));
	mem = calloc(t->n_vpcs ? t->n_vpcs : 1, sizeof(*mem));
	if (mem == NULL || lidx == NULL) {
		errno = ENOMEM;
		goto fail;
	}
	for (uint32_t vi = 0; vi < t->n_vpcs; vi++) {
		const struct topo_vpc *v = &t->vpcs[vi];
		uint32_t n = 0;
		if ((lidx[vi] = calloc(v->n_ifaces ? v->n_ifaces : 1, sizeof(**lidx))) == NULL) {
			errno = ENOMEM;
			goto fail;
		}
		for (uint32_t i = 0; i < v->n_ifaces; i++)
			lidx[vi][i] = host == VPC_INDEX_NONE || v->ifaces[i].host_idx == host ?
					      n++ : VPC_INDEX_NONE;
	}
	/* The other hosts' indexes in rhosts: the file's order, without
	 * this one. */
	uint32_t rhost_of[VPC_MAX_HOSTS];
	for (uint32_t h = 0, n = 0; host != VPC_INDEX_NONE && h < t->n_hosts; h++)
		rhost_of[h] = h == host ? VPC_INDEX_NONE : n++;
	cur.rhost_of = rhost_of;
	if ((rc = count_records(t, th, lidx, mem, counts)) < 0) {
		errno = -rc;
		goto fail;
	}
	img = vpc_image_alloc(counts);
	if (img == NULL)
		goto fail;
	if ((sg_base = calloc(t->n_vpcs ? t->n_vpcs : 1, sizeof(*sg_base))) == NULL) {
		errno = ENOMEM;
		goto fail;
	}
	for (uint32_t vi = 0, n = 0; vi < t->n_vpcs; n += t->vpcs[vi++].n_sgs)
		sg_base[vi] = n;
	cur.t = t;
	cur.mem = mem;
	cur.sg_base = sg_base;

	for (uint32_t vi = 0; vi < t->n_vpcs; vi++) {
		const struct topo_vpc *v = &t->vpcs[vi];
		cur.lidx = lidx[vi];
		cur.n_local = 0;
		for (uint32_t i = 0; i < v->n_ifaces; i++)
			cur.n_local += lidx[vi][i] != VPC_INDEX_NONE;
		emit_vpc(&img->vpcs[vi], v, &cur);
		emit_dhcp(&img->dhcp[vi], &v->dhcp);
		emit_subnets(img, v, vi, &cur);
		emit_rtables(img, v, vi, &cur);
		emit_sgs(img, v, vi, &cur);
		emit_nacls(img, v, vi, &cur);
		emit_ifaces(img, v, vi, &cur);
		emit_natgws(img, v, vi, &cur);
		emit_lbs(img, v, vi, &cur);
		cur.sub += v->n_subnets;
		cur.rt += v->n_rtables;
		cur.sg += v->n_sgs;
		cur.iface += v->n_ifaces;
		cur.port += cur.n_local;
		cur.nacl += v->n_nacls;
		cur.natgw += v->n_natgws;
		cur.lb += v->n_lbs;
	}
	for (uint32_t k = 0; k < t->n_peerings; k++) {
		struct vpc_image_peering *op = &img->peerings[k];
		copy_name(op->name, t->peerings[k].name.s);
		op->vpc[0] = t->peerings[k].vpc_idx[0];
		op->vpc[1] = t->peerings[k].vpc_idx[1];
	}
	if (host != VPC_INDEX_NONE)
		emit_rhosts(img, t, host);
	emit_host(img, th, cur.port);

	qsort(img->l2, img->n_l2, sizeof(*img->l2), l2_cmp);
	qsort(img->eips, img->n_eips, sizeof(*img->eips), eip_cmp);
	vpc_image_seal(img);
	members_free_all(mem, t->n_vpcs);
	lidx_free(lidx, t->n_vpcs);
	free(sg_base);
	return img;

fail:;
	int saved = errno;
	free(sg_base);
	members_free_all(mem, t->n_vpcs);
	lidx_free(lidx, t->n_vpcs);
	vpc_image_free(img);
	errno = saved;
	return NULL;
}

static bool
is_image_file(const char *path)
{
	FILE *f = fopen(path, "rb");
	uint32_t magic = 0;

	if (f == NULL)
		return false;
	bool yes = fread(&magic, sizeof(magic), 1, f) == 1 &&
		   magic == VPC_IMAGE_MAGIC;
	fclose(f);
	return yes;
}

struct vpc_image *
vpc_image_load(const char *path, FILE *errs)
{
	return vpc_image_load_host(path, NULL, NULL, errs);
}

struct vpc_image *
vpc_image_load_host(const char *path, const char *name, const char *host, FILE *errs)
{
	struct vpc_image *img;
	struct vpc_diag d;

	if (is_image_file(path)) {
		char err[256];
		img = vpc_image_read_file(path, err, sizeof(err));
		if (img == NULL)
			fprintf(errs, "%s: %s\n", path, err);
		return img;
	}
	vpc_diag_init(&d, name != NULL ? name : path);
	struct topo *t = topo_load_valid(path, &d);
	if (t == NULL) {
		vpc_diag_print(&d, errs);
		vpc_diag_fini(&d);
		return NULL;
	}
	/* Without hosts:, every host runs the whole topology. */
	uint32_t hi = VPC_INDEX_NONE;
	if (host != NULL && t->has_hosts) {
		for (hi = 0; hi < t->n_hosts && strcmp(t->hosts[hi].name.s, host) != 0; hi++)
			;
		if (hi == t->n_hosts) {
			fprintf(errs, "%s: no host '%s' in its hosts list\n", name != NULL ? name : path,
				host);
			topo_free(t);
			vpc_diag_fini(&d);
			return NULL;
		}
	}
	img = topo_compile_host(t, hi);
	if (img == NULL)
		fprintf(errs, "%s: cannot compile: %s\n", name != NULL ? name : path,
			errno == E2BIG ?
				"the tables exceed the image limits (too many rules after expanding security-group references?)" :
				strerror(errno));
	topo_free(t);
	vpc_diag_fini(&d);
	return img;
}
