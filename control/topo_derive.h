/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * topo_derive.h -- the values a topology file leaves out, filled in
 * (topo_derive.c): the implicit objects (each VPC's default security group
 * and main route table), the references that default to them, each VPC's
 * DHCP options, omitted VNIs, interfaces' ports and MACs, and the uplink's
 * port and MACs.
 *
 * topo_validate() runs these steps at fixed points of its checks: the
 * implicit objects before names are resolved against them, the VNIs before
 * the host-wide checks (router MACs depend on them), the rest last.  None
 * reports an error; the steps that allocate return 0 or -ENOMEM.  The
 * address derivations themselves (topo_derive_mac, topo_router_mac) are
 * declared in topo.h.
 */
#ifndef VPC_TOPO_DERIVE_H
#define VPC_TOPO_DERIVE_H

#include <stdint.h>

#include "keymap.h"
#include "topo.h"

/* Per VPC, with sgs and rtables its name maps (the new names are added). */
/* Adds the group "default" unless the file has one; sets v->default_sg. */
int topo_derive_default_sg(struct topo_vpc *v, struct keymap *sgs);
/* Adds an empty main table when v->main_rtable is VPC_INDEX_NONE. */
int topo_derive_main_rtable(struct topo_vpc *v, struct keymap *rtables);
/* Subnets with no (resolved) route table use the main one; interfaces
 * with no security_groups are in the default group. */
void topo_derive_vpc_refs(struct topo_vpc *v);
/* DHCP options: the DNS servers when none are given, and each
 * AmazonProvidedDNS, are the VPC's base address + 2 (after its CIDR is
 * checked); the lease time defaults to VPC_DHCP_LEASE_DEFAULT. */
void topo_derive_dhcp(struct topo_vpc *v);

/* Host-wide: omitted VNIs, the smallest unused numbers in file order. */
int topo_derive_vnis(struct topo *t);
/* Host-wide, last: the uplink's port name, interfaces' ports and MACs. */
int topo_derive_host(struct topo *t);

/* The effective values, before or after topo_derive_host(). */
const char *topo_uplink_port(const struct topo_host *h);
const uint8_t *topo_uplink_mac(const struct topo_host *h);
const uint8_t *topo_gateway_mac(const struct topo_host *h);
struct topo_str topo_iface_port(const struct topo_iface *f);

/* A MAC as a keymap key. */
uint64_t topo_mac_key(const uint8_t m[6]);

#endif /* VPC_TOPO_DERIVE_H */
