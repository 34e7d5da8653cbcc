/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * topo_derive.c -- every value the topology file does not write: the
 * implicit default security group and main route table, the references
 * that default to them, each VPC's DHCP options (AmazonProvidedDNS and the
 * lease time), omitted VNIs, interfaces' ports (their names) and MACs,
 * routers' MACs, and the uplink's port and MACs.
 *
 * Derivation reports no errors: the rules are topo_validate.c's, which runs
 * these steps where its checks need the derived values (topo_derive.h).
 * Everything here is deterministic: the same file derives the same values.
 */
#include "topo_derive.h"

#include <errno.h>
#include <stdlib.h>

/* ---- implicit objects and default references (per VPC) ---- */

int
topo_derive_default_sg(struct topo_vpc *v, struct keymap *sgs)
{
	/* The default security group: ingress from its own members, all
	 * protocols; egress omitted, hence allow all. */
	if (keymap_get_str(sgs, "default") == VPC_KEYMAP_NEW) {
		struct topo_sg *g = realloc(v->sgs, (v->n_sgs + 1) * sizeof(*g));
		struct topo_rule *r = calloc(1, sizeof(*r));
		if (g == NULL || r == NULL) {
			if (g != NULL)
				v->sgs = g;
			free(r);
			return -ENOMEM;
		}
		v->sgs = g;
		r->proto_set = true;
		r->proto = TOPO_PROTO_ALL;
		r->peer_kind = TOPO_PEER_SG;
		r->peer_sg.s = "default";
		r->pos = v->pos;
		g = &v->sgs[v->n_sgs];
		*g = (struct topo_sg){
			.name = { "default", v->pos },
			.pos = v->pos,
			.implicit = true,
			.has_ingress = true,
			.ingress = r,
			.n_ingress = 1,
		};
		keymap_put_str(sgs, "default", v->n_sgs);
		v->n_sgs++;
	}
	v->default_sg = keymap_get_str(sgs, "default");
	return 0;
}

int
topo_derive_main_rtable(struct topo_vpc *v, struct keymap *rtables)
{
	/* None in the file means an empty one. */
	if (v->main_rtable != VPC_INDEX_NONE)
		return 0;
	struct topo_rtable *t = realloc(v->rtables,
					(v->n_rtables + 1) * sizeof(*t));
	if (t == NULL)
		return -ENOMEM;
	v->rtables = t;
	/* Named "main" unless the file uses that name for a table that is
	 * not main. */
	const char *name = keymap_get_str(rtables, "main") == VPC_KEYMAP_NEW ?
				   "main" : "implicit-main";
	v->rtables[v->n_rtables] = (struct topo_rtable){
		.name = { name, v->pos },
		.pos = v->pos,
		.implicit = true,
		.main = { true, true, v->pos },
	};
	keymap_put_str(rtables, name, v->n_rtables);
	v->main_rtable = v->n_rtables++;
	return 0;
}

void
topo_derive_vpc_refs(struct topo_vpc *v)
{
	for (uint32_t i = 0; i < v->n_subnets; i++)
		if (v->subnets[i].rtable_idx == VPC_INDEX_NONE)
			v->subnets[i].rtable_idx = v->main_rtable;
	for (uint32_t i = 0; i < v->n_ifaces; i++) {
		struct topo_iface *f = &v->ifaces[i];
		if (f->has_sgs)
			continue;
		f->n_sgs = 1;
		f->sg_idx[0] = v->default_sg;
	}
}

/* ---- DHCP options (per VPC) ---- */

void
topo_derive_dhcp(struct topo_vpc *v)
{
	struct topo_dhcp *o = &v->dhcp;

	/* No domain_name_servers: AmazonProvidedDNS, as AWS's default set. */
	if (!o->has_dns) {
		o->n_dns = 1;
		o->dns_amazon[0] = true;
	}
	/* AmazonProvidedDNS: the VPC's base address + 2. */
	for (uint32_t i = 0; i < o->n_dns; i++)
		if (o->dns_amazon[i])
			o->dns[i].addr = v->cidr.addr + 2;
	if (!o->lease.set)
		o->lease.v = VPC_DHCP_LEASE_DEFAULT;
}

/* ---- VNIs ---- */

int
topo_derive_vnis(struct topo *t)
{
	struct keymap used;

	if (keymap_init(&used, t->n_vpcs) < 0)
		return -ENOMEM;
	for (uint32_t i = 0; i < t->n_vpcs; i++)
		if (t->vpcs[i].vni.set)
			keymap_put_u64(&used, t->vpcs[i].vni.v, i);
	/* Omitted VNIs: the smallest unused numbers, in file order. */
	uint64_t next = 1;
	for (uint32_t i = 0; i < t->n_vpcs; i++) {
		struct topo_vpc *v = &t->vpcs[i];
		if (v->vni.set)
			continue;
		while (keymap_get_u64(&used, next) != VPC_KEYMAP_NEW)
			next++;
		v->vni.v = next++;
	}
	keymap_fini(&used);
	return 0;
}

/* ---- addresses ---- */

void
topo_derive_mac(uint8_t mac[6], uint32_t vni, uint32_t ip, uint32_t attempt)
{
	if (attempt == 0) {
		/* 02 (locally administered, unicast), the VNI's low byte,
		 * the IP: readable in a capture. */
		mac[0] = 0x02;
		mac[1] = (uint8_t)vni;
		mac[2] = (uint8_t)(ip >> 24);
		mac[3] = (uint8_t)(ip >> 16);
		mac[4] = (uint8_t)(ip >> 8);
		mac[5] = (uint8_t)ip;
		return;
	}
	/* Taken (VNIs equal in their low byte and the same IP, or an
	 * explicit MAC): 0a (locally administered, unicast, never used by
	 * the first form or by routers) and 40 bits of a hash of (VNI, IP,
	 * attempt).  Deterministic: the same file gives the same MACs. */
	uint64_t h = 0xcbf29ce484222325ull;
	uint32_t words[3] = { vni, ip, attempt };
	for (int i = 0; i < 3; i++)
		for (int k = 0; k < 4; k++) {
			h ^= (words[i] >> (8 * k)) & 0xff;
			h *= 0x100000001b3ull;
		}
	mac[0] = 0x0a;
	for (int k = 1; k < 6; k++)
		mac[k] = (uint8_t)(h >> (8 * (k - 1)));
}

void
topo_router_mac(uint8_t mac[6], uint32_t vni)
{
	/* 06 (locally administered, unicast, distinct from derived interface
	 * MACs), 00, the 24-bit VNI, 01. */
	mac[0] = 0x06;
	mac[1] = 0x00;
	mac[2] = (uint8_t)(vni >> 16);
	mac[3] = (uint8_t)(vni >> 8);
	mac[4] = (uint8_t)vni;
	mac[5] = 0x01;
}

uint64_t
topo_mac_key(const uint8_t m[6])
{
	uint64_t k = 0;
	for (int i = 0; i < 6; i++)
		k = k << 8 | m[i];
	return k;
}

const char *
topo_uplink_port(const struct topo_host *h)
{
	return h->uplink_port.s ? h->uplink_port.s : "uplink";
}

const uint8_t *
topo_uplink_mac(const struct topo_host *h)
{
	static const uint8_t def[6] = VPC_DEFAULT_UPLINK_MAC;
	return h->uplink_mac.set ? h->uplink_mac.b : def;
}

const uint8_t *
topo_gateway_mac(const struct topo_host *h)
{
	static const uint8_t def[6] = VPC_DEFAULT_GATEWAY_MAC;
	return h->gateway_mac.set ? h->gateway_mac.b : def;
}

struct topo_str
topo_iface_port(const struct topo_iface *f)
{
	if (f->port.s == NULL && f->name.s != NULL)
		return (struct topo_str){ f->name.s, f->pos };
	return f->port;
}

/* ---- host-wide, last ---- */

/*
 * Interfaces without a MAC (and with a usable IP) get a derived one.  The
 * taken MACs are the uplink's two and every explicit one; a derived MAC
 * that is taken is derived again, so derivation never fails a valid file.
 */
static int
derive_macs(struct topo *t)
{
	uint32_t n_ifaces = 0, g;
	struct keymap macs;

	for (uint32_t i = 0; i < t->n_vpcs; i++)
		n_ifaces += t->vpcs[i].n_ifaces;
	if (keymap_init(&macs, n_ifaces + 2) < 0)
		return -ENOMEM;
	keymap_put_u64(&macs, topo_mac_key(topo_uplink_mac(&t->host)), n_ifaces);
	keymap_put_u64(&macs, topo_mac_key(topo_gateway_mac(&t->host)), n_ifaces);
	for (int pass = 0; pass < 2; pass++) {
		g = 0;
		for (uint32_t vi = 0; vi < t->n_vpcs; vi++) {
			struct topo_vpc *v = &t->vpcs[vi];
			for (uint32_t i = 0; i < v->n_ifaces; i++, g++) {
				struct topo_iface *f = &v->ifaces[i];
				if (pass == 0 && f->mac.set)
					keymap_put_u64(&macs, topo_mac_key(f->mac.b), g);
				if (pass == 0 || f->mac.set || !f->ip.set)
					continue;
				uint32_t attempt = 0, first;
				do {
					topo_derive_mac(f->mac.b, (uint32_t)v->vni.v,
							f->ip.addr, attempt++);
					first = keymap_put_u64(&macs, topo_mac_key(f->mac.b), g);
				} while (first != VPC_KEYMAP_NEW && first != VPC_KEYMAP_FULL &&
					 attempt < 1000);
				f->mac_derived = true;
			}
		}
	}
	keymap_fini(&macs);
	return 0;
}

int
topo_derive_host(struct topo *t)
{
	t->host.uplink_port.s = topo_uplink_port(&t->host);
	for (uint32_t vi = 0; vi < t->n_vpcs; vi++)
		for (uint32_t i = 0; i < t->vpcs[vi].n_ifaces; i++) {
			struct topo_iface *f = &t->vpcs[vi].ifaces[i];
			f->port = topo_iface_port(f);
		}
	return derive_macs(t);
}
