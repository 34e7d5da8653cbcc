/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * tables.h -- the DPDK engine's fast tables, built from a table image.
 *
 * Built off the fast path (vpc_tables_create), then read-only: any number
 * of lcores may read one vpc_tables at once without locking.  A new
 * topology is a new vpc_tables; the daemon publishes it with RCU and frees
 * the old one after every reader has passed a quiescent state.
 *
 * What the fast path looks up, and how:
 *  - ports[in_port]: everything about where a packet came from (the
 *    interface, its VPC, subnet, MACs, addresses, route table), so a burst
 *    from one port needs no lookup to classify its source;
 *  - l2: (VPC, MAC) -> interface, an rte_hash, looked up in bulk;
 *  - one rte_fib (DIR-24-8) per route table.  Next hops are indexes into
 *    the table's nexthops[]; besides the file's routes, each interface IP
 *    whose longest match is the local route gets a /32 "deliver to this
 *    interface" route, so a routed packet needs one FIB lookup and no
 *    second (VPC, IP) lookup;
 *  - eip: elastic IP -> interface (or NAT gateway: VPC_EIP_NATGW | its
 *    index), for the uplink, an rte_hash;
 *  - ip: (VPC, IP) -> interface, for the ARP responder (slow path).
 */
#ifndef VPC_TABLES_H
#define VPC_TABLES_H

#include <stdint.h>

#include <rte_byteorder.h>
#include <rte_ether.h>

#include "vpc_image_io.h"
#include "vpc_nacl.h"
#include "vpc_lb.h"
#include "vpc_records.h"

struct rte_fib;
struct rte_hash;
struct vpc_sg;

/* enum vpc_nh_kind: vpc_image.h */

struct vpc_nexthop {
	uint32_t kind;		/* enum vpc_nh_kind */
	uint32_t iface;		/* DELIVER, APPLIANCE, PEERING; PEERING_MISS: the
				 * peering; NATGW: the NAT gateway */
};

struct vpc_rtable {
	struct rte_fib *fib;
	struct vpc_nexthop *nexthops;
	uint32_t n_nexthops;
};

/* An interface as a destination: struct vpc_iface_rec (vpc_records.h),
 * the XDP engine's record too.  Its MACs as DPDK's type: */
#define VPC_ETH(mac) ((const struct rte_ether_addr *)(const void *)(mac))

/* A port as a source. */
struct vpc_port_info {
	uint32_t is_uplink;
	uint32_t ctx;		/* conntrack context: VNI << 8; 0 on the uplink */
	uint32_t iface;		/* VPC_INDEX_NONE for the uplink */
	const struct vpc_iface_rec *fi;	/* NULL for the uplink */
	const struct vpc_rtable *rtable;	/* the source subnet's table */
	rte_be32_t gateway_ip;
	rte_be32_t subnet_addr;
	rte_be32_t subnet_mask;
	uint32_t subnet;	/* VPC_INDEX_NONE for the uplink */
	uint32_t nacl;		/* its subnet's network ACL + 1, or
				 * VPC_NACL_DEFAULT (vpc_nacl.h): also a
				 * destination's, read as ports[out_port] */
} __rte_cache_aligned;

/*
 * Hash keys are 8-byte aligned and a multiple of 8 bytes: rte_hash_crc
 * reads them 8 bytes at a time, and keys are always built in aligned
 * locals, never pointed at inside a packet.
 */
struct vpc_l2_key {
	uint32_t vpc;
	struct rte_ether_addr mac;
	uint16_t pad;
	uint32_t pad2;
} __rte_aligned(8);

struct vpc_ip_key {
	uint32_t vpc;
	rte_be32_t ip;
} __rte_aligned(8);

struct vpc_eip_key {
	rte_be32_t ip;
	uint32_t pad;
} __rte_aligned(8);

/*
 * A small read-only map of 32-bit keys to indexes (the overlay's: a few
 * hosts, a few VNIs, looked up for every frame from the overlay): open
 * addressing, linear probing, at most half full, so a lookup ends at the
 * key or an empty slot.  val1: the value + 1, 0 for an empty slot.
 */
struct vpc_u32_map {
	uint32_t mask;		/* slots - 1; slots a power of two */
	uint32_t shift;		/* 32 - log2(slots) */
	struct vpc_u32_slot {
		uint32_t key;
		uint32_t val1;
	} *slots;
};

static inline uint32_t
vpc_u32_map_get(const struct vpc_u32_map *m, uint32_t key)
{
	for (uint32_t i = (key * 0x9e3779b1u) >> m->shift;; i = (i + 1) & m->mask) {
		const struct vpc_u32_slot *s = &m->slots[i];
		if (s->val1 == 0)
			return UINT32_MAX;
		if (s->key == key)
			return s->val1 - 1;
	}
}

struct vpc_tables {
	const struct vpc_image *img;	/* borrowed: names for tools */
	uint32_t n_ports;
	uint32_t uplink_port;
	struct vpc_port_info *ports;
	struct vpc_iface_rec *ifaces;
	struct vpc_rtable *rtables;
	uint32_t n_rtables;
	struct rte_hash *l2;
	struct rte_hash *ip;
	struct rte_hash *eip;
	struct rte_ether_addr uplink_mac;
	struct rte_ether_addr gateway_mac;
	struct vpc_sg *sg;
	uint64_t *timeouts_ns;	/* [vpc * VPC_TO_COUNT + enum vpc_timeout_id] */
	struct vpc_dhcp_rec *dhcp;	/* [subnet]: the DHCP reply (vpc_records.h) */
	/* The overlay (common/vpc_geneve.h), in a host's view of a topology
	 * with hosts: -- otherwise underlay_ip 0 and nothing below. */
	rte_be32_t underlay_ip;		/* this host's: Geneve to it is ours */
	struct vpc_tunnel_rec *tunnels;	/* [rhost]: the other hosts */
	struct vpc_u32_map underlay;	/* a host's underlay IP (as it lies) -> rhost */
	struct vpc_u32_map vnis;	/* a VNI -> VPC */
	uint32_t *vni;			/* [vpc]: its VNI */
	struct rte_ether_addr *router;	/* [vpc]: its router's MAC */
	/* (VPC, rhost) as a vpc_eip_key {ip: VPC, pad: rhost} -> an
	 * interface with source_dest_check off that host runs in that VPC:
	 * an appliance, which may send routed frames of others' addresses */
	struct rte_hash *appliances;
	struct vpc_port_info *rports;	/* [iface]: an interface on another host as
					 * the source of frames from the overlay */
	/* [vpc_nacl_list_index()]: each network ACL's ingress and egress
	 * rules (common/vpc_nacl.h) */
	struct vpc_nacl_list *nacls;
	/* [natgw]: the NAT gateways (a next hop's or an elastic IP's index) */
	struct vpc_natgw_rec *natgws;
	uint8_t natgw_nacl;	/* a NAT gateway's subnet has a network ACL */
	/*
	 * Load balancers (common/vpc_lb.h), by the image's indexes: lbs[lb],
	 * listeners[listener], tgroups[tgroup] (members inline), lb_hc[target]
	 * (what a health check's answer is checked against); lb_ip: (VPC, an
	 * internal balancer's address) -> balancer, for the ARP responder.
	 * Read-only like the rest, except two arrays the health checker and
	 * the pipeline share, each word with one writer: lb_healthy[tgroup]
	 * (the healthy members' bits: the checker stores, new connections
	 * load), lb_answers[target] (the last answer to a probe: the pipeline
	 * stores, the checker loads).
	 */
	struct vpc_lb_rec *lbs;
	struct vpc_lb_listener_rec *listeners;
	struct vpc_lb_group_rec *tgroups;
	struct vpc_lb_hc_rec *lb_hc;
	uint32_t n_lbs, n_tgroups, n_targets;
	struct rte_hash *lb_ip;
	uint64_t *lb_healthy;
	struct vpc_lb_answer *lb_answers;
	/*
	 * Set by the publisher before the tables are used: cached actions
	 * stamped with another generation are recomputed; with revalidate,
	 * connections the new rules no longer allow are cut.
	 */
	uint32_t generation;	/* never 0 */
	uint8_t revalidate;
};

/*
 * Build the tables for img (which must outlive them).  socket_id: NUMA
 * node for the allocations (SOCKET_ID_ANY is fine).  NULL with rte_errno /
 * errno set, and a message in err, on failure.
 */
struct vpc_tables *vpc_tables_create(const struct vpc_image *img, int socket_id,
				     char *err, size_t err_size);
void vpc_tables_free(struct vpc_tables *t);

/* DPDK heap the tables of img will need, in bytes (for --no-huge -m). */
uint64_t vpc_tables_memory(const struct vpc_image *img);

#endif /* VPC_TABLES_H */
