/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The XDP engine's tables.  Derived from an image by the loader
 * (bpf/xdp_engine.c) and read by the program (bpf/vpc_xdp.bpf.c): the
 * key and value layouts of its maps, here so that both sides compile the
 * same bytes.  Naming: vpc_xdp_*.
 *
 * Table sets: every map whose contents come from an image exists twice,
 * as the two slots of an array-of-maps (set 0 and set 1).  The program
 * reads the active set's number once per packet from the control map
 * and looks up every table of that set: an apply fills the other set's
 * maps, publishes them in their slots, then flips the number -- a packet
 * sees the old tables or the new, never a mix (see bpf/README.md).
 *
 * Ports are named by a slot, not by their index in an image: a slot is
 * given to a port name the first time an image has it and is kept across
 * applies, so counters, the devmap and the ifindex map never renumber.
 *
 * Freestanding: the program (clang -target bpf) and user space include it.
 */

#define VPC_XDP_MAX_PORTS 4096	/* slots: devmap, counters */
#define VPC_XDP_IFINDEX_LO 65536	/* ifindexes below: an array, not a hash */
/* Network ACL lists (two per ACL): a fixed-size array, so that the
 * established path's lookups are inlined (a helper call each cost about
 * 10 ns); 1,024 ACLs on a host, 672 KiB a table set. */
#define VPC_XDP_MAX_NACLS 1024
#ifndef VPC_XDP_MAPS_H
#define VPC_XDP_MAPS_H

#include <linux/types.h>

#include "vpc_ct_track.h"	/* the tracking record a connection value embeds */
#include "vpc_flow.h"		/* flow-log counters a connection value embeds */
#include "vpc_key.h"		/* the connection key (the map's key) */
#include "vpc_nacl.h"		/* network ACL lists (a map's values) */
#include "vpc_image.h"		/* VPC_TO_COUNT, the classifier records */
#include "vpc_records.h"	/* the interface record, shared with DPDK */
#include "vpc_lb.h"		/* load balancers' records (maps' values) */

/* routes: an LPM trie over (route table, destination); prefixlen counts
 * the table's 32 bits too. */
struct vpc_xdp_route_key {
	__u32 prefixlen;	/* 32 + route prefix length */
	__u32 rtable;		/* big-endian: matched as bytes */
	__be32 addr;
};

struct vpc_xdp_nexthop {
	__u32 kind;		/* enum vpc_nh_kind */
	__u32 iface;		/* DELIVER, APPLIANCE, PEERING; PEERING_MISS: the peering */
};

/* ifaces: an interface as a destination (and as a source, inside its
 * port record).  Indexed by image interface index. */
/* ifaces: struct vpc_iface_rec (vpc_records.h), port = the slot. */

/* ports: a port as a source, indexed by slot. */
struct vpc_xdp_port {
	__u32 present;		/* 0: the slot is not a port of this set */
	__u32 is_uplink;
	__u32 iface;		/* VPC_INDEX_NONE for the uplink */
	__u32 ctx;		/* VNI << 8; 0 on the uplink */
	__u32 rtable;		/* the source subnet's route table */
	__be32 gateway_ip;
	__u32 subnet;		/* VPC_INDEX_NONE for the uplink */
	__u32 nacl;		/* its subnet's network ACL + 1, or VPC_NACL_DEFAULT
				 * (vpc_nacl.h): none, as the uplink */
	struct vpc_iface_rec fi;	/* the interface (zero for the uplink) */
	struct vpc_dhcp_rec dhcp;	/* its subnet's DHCP reply (the uplink: zero) */
};

/* global: one record per set. */
struct vpc_xdp_global {
	__u32 generation;	/* never 0 */
	__u32 revalidate;	/* the apply asked to re-check connections */
	__u32 uplink_slot;
	__u8 uplink_mac[6];
	__u8 gateway_mac[6];
	__be32 underlay_ip;	/* this host's (hosts:); 0: no overlay */
	__u32 natgw_nacl;	/* a NAT gateway's subnet has a network ACL */
};

/* vpcs: the VPC's timeouts in nanoseconds, by enum vpc_timeout_id; its
 * VNI and router MAC (the overlay). */
struct vpc_xdp_vpc {
	__u64 timeouts_ns[VPC_TO_COUNT];
	__u32 vni;
	__u8 router_mac[6];
	__u16 pad;
};

/* The overlay (common/vpc_geneve.h), in a host's view of a topology with
 * hosts:.  tunnels: struct vpc_tunnel_rec by rhost; underlay: a host's
 * underlay address (__be32) -> rhost (__u32); vnis: a VNI (__u32) -> VPC
 * (__u32); appliances: (VPC, rhost) -> an interface with
 * source_dest_check off that host runs in that VPC; rports: struct
 * vpc_xdp_port of each interface on another host (by interface index),
 * as the source of the frames decapsulated from its host. */
struct vpc_xdp_appliance_key {
	__u32 vpc;
	__u32 rhost;
};

/* senders (per CPU, VPC_XDP_SENDER_SLOTS, direct-mapped): who sent frames
 * from the overlay, as found for an (underlay source, VNI, inner source
 * MAC and IP) under a tables generation -- the lookups of an uncached
 * frame cost more than the rest of its path. */
#define VPC_XDP_SENDER_SLOTS 256
struct vpc_xdp_sender {
	__u32 gen;		/* 0: empty */
	__be32 underlay;
	__u32 vni;
	__be32 ip;
	__u8 mac[6];
	__u16 pad;
	__u32 iface;
};

/* l2: (VPC, MAC) -> interface index (__u32). */
struct vpc_xdp_l2_key {
	__u32 vpc;
	__u8 mac[6];
	__u16 pad;
};

/* ips: (VPC, IP) -> interface index, for the ARP responder. */
struct vpc_xdp_ip_key {
	__u32 vpc;
	__be32 ip;
};
/* eips: elastic IP (__be32) -> interface index, or VPC_EIP_NATGW | a NAT
 * gateway's.  natgws: struct vpc_natgw_rec by NAT gateway index. */

/* Connection tracking (shared by both table sets: connections outlive
 * applies).  ct: a hash from each direction's key to a vpc_xdp_ct value.
 * Direction 0's value holds the connection; direction 1's names the
 * direction-0 key.  Same semantics as dataplane/conntrack.h. */
/* struct vpc_ct_key: common/vpc_key.h (one layout for both engines). */

struct vpc_xdp_action {
	__u32 gen;		/* generation of the tables; 0: not computed */
	__u16 out_slot;
	__u8 path;		/* enum vpc_path */
	__u8 nat;		/* 0 none, 1 source (to the EIP), 2 destination */
	__be32 nat_addr;
	/* Each MAC 4-aligned: decide() (a function of its own) writes them
	 * through a pointer, as a 4- and a 2-byte store. */
	__u8 src_mac[6];
	__u8 rewrite_macs;	/* routed: MACs and TTL change */
	__u8 pad;
	__u8 dst_mac[6];
	__u16 vpc;		/* the VPC whose timeouts apply */
	__u16 tunnel;		/* to another host: its tunnel record + 1; 0: none */
	__be16 nat_port;	/* through a NAT gateway: the port nat translates
				 * too (network order); 0: none */
};
_Static_assert(sizeof(struct vpc_xdp_action) == 32, "xdp action layout");

struct vpc_xdp_ct {
	__u32 dir;		/* which direction's key this value is under */
	__u32 pad;
	struct vpc_ct_key self;	/* the key this value is under: the map
					 * reuses a deleted element at once, so a
					 * reader checks it is still what it found */
	struct vpc_ct_key other;	/* the other direction's key */
	/* this direction's flow-log counters (common/vpc_flow.h): each
	 * direction's value is its own element, written by the CPU that
	 * receives that direction.  Beside the keys: a reply's value is read
	 * there (self, other) and nowhere else. */
	struct vpc_flow_count flow;
	struct vpc_xdp_action act[2];
	__u64 created;		/* ns */
	__u64 expires;		/* ns */
	struct vpc_ct_track trk;	/* direction 0's value: state, TCP tracking */
};

/* Flow logs: the rate limit of one interface's rejected packets, and the
 * records it lost (flow_limits[iface], shared by the CPUs: an approximate
 * limit under concurrency).  dataplane/flowlog.c's struct fl_limit. */
#define VPC_XDP_FLOW_IFACES 16384
struct vpc_xdp_flow_limit {
	__u32 second;
	__u32 n;
	__u32 skipped;
	__u32 skip_first;
	__u32 skip_last;
};

/* Counters: per-CPU arrays.  stats[0]; port_stats[slot]. */
struct vpc_xdp_stats {
	__u64 packets;
	__u64 drops[64];	/* by enum vpc_drop_reason */
	__u64 paths[32];	/* by enum vpc_path */
	__u64 ct_created, ct_expired, ct_refused_full, ct_closed;
	__u64 tx_errors;	/* redirect to a port with no device */
	__u64 ct_early_dropped;	/* never answered, removed to make room */
};

struct vpc_xdp_port_stats {
	__u64 rx_packets, rx_bytes;
	__u64 tx_packets, tx_bytes;
	__u64 drops;
};

/* control[0]: the active table set (0 or 1). */
struct vpc_xdp_control {
	__u32 active;
	__u32 pad;
};

/*
 * vpcctl capture --instance (bpf/README.md, Capture): capture[0] says
 * which port's frames go into the ring buffer capture_ring (dirs 0: no
 * capture); vpcctl writes slot and dirs, the program adds to lost (an
 * atomic add, only when the ring has no room).  Each record: the first
 * VPC_XDP_CAP_SNAPLEN bytes of the frame and its length.
 */
#define VPC_XDP_CAP_RX 0x1u
#define VPC_XDP_CAP_TX 0x2u
#define VPC_XDP_CAP_SNAPLEN 256u
#define VPC_XDP_CAP_RING_SIZE (512u * 1024u)

struct vpc_xdp_capture {
	__u32 slot;
	__u32 ifindex;
	__u32 dirs;
	__u32 pad;
	__u64 lost;
};

struct vpc_xdp_cap_rec {
	__u64 ts;		/* bpf_ktime_get_ns(): CLOCK_MONOTONIC */
	__u32 orig_len;
	__u32 cap_len;		/* bytes of data that hold the frame */
	__u32 dir;		/* VPC_XDP_CAP_RX or _TX */
	__u32 pad;
	__u8 data[VPC_XDP_CAP_SNAPLEN];
};
_Static_assert(sizeof(struct vpc_xdp_cap_rec) == 24 + VPC_XDP_CAP_SNAPLEN, "cap_rec layout");

/* What the program did with the last packet, for vpc-replay (test runs
 * only: the program writes it when loaded with record_verdict set). */
struct vpc_xdp_verdict {
	__u8 action;		/* enum vpc_action */
	__u8 path;
	__u8 reason;
	__u8 pad;
	__u32 out_slot;
	/* To another host (the program puts the overlay's header in front
	 * once the verdict is known): its tunnel record + 1, 0 for none; the
	 * VPC (its VNI) and the outer source port. */
	__u16 tunnel;
	__u16 vpc;
	__u16 sport;
	__u16 pad2;
};

#endif /* VPC_XDP_MAPS_H */
