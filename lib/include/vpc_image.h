/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * vpc_image.h -- the table image: the one format in which the control
 * process hands a compiled topology to a dataplane engine.
 *
 * Design
 * ------
 * The image is a single flat, pointer-free byte string: a fixed header, then
 * one array of fixed-size records per section.  Every cross-reference is a
 * 32-bit index into another section, never a pointer, so the same bytes can
 * be written to a file, sent over a socket, mmap()ed, or copied record by
 * record into BPF maps.  Records use fixed-width types with explicit padding
 * and a _Static_assert on their size, so the layout is identical for gcc,
 * clang and clang -target bpf.
 *
 * Byte order: addresses (IPv4 addresses, prefixes) are in network byte
 * order (__be32), exactly as they appear in packets, so the fast paths can
 * compare them with packet fields without conversion.  Every other integer
 * is in the byte order of the host that compiled the image; an image is not
 * meant to cross machines (the header's magic reveals a foreign byte order,
 * and the reader refuses it).
 *
 * Trust: an image read from outside the process is checked by
 * vpc_image_check() (lib/image.c) -- magic, version, sizes, section
 * bounds, checksum, and every index and enum value in every record -- before
 * any engine uses it.  A dataplane never dereferences an unchecked image.
 *
 * Thread-safety: an image is immutable once built; any number of readers
 * may share it without locking.
 */
#ifndef VPC_IMAGE_H
#define VPC_IMAGE_H

#include <linux/types.h>

#define VPC_IMAGE_MAGIC   0x49435056u	/* "VPCI" read as little-endian bytes */
#define VPC_IMAGE_VERSION 1

/* Names are [a-z0-9][a-z0-9-]{0,31}: 32 characters, a NUL, padding to 8. */
#define VPC_NAME_MAX  32
#define VPC_NAME_SIZE 40

#define VPC_IFACE_MAX_SGS 16	/* security groups per interface */

/* Capacity limits, enforced by the validator and again by the image reader. */
#define VPC_MAX_VPCS      4096
#define VPC_MAX_SUBNETS   65536
#define VPC_MAX_IFACES    1048576
#define VPC_MAX_RTABLES   65536
#define VPC_MAX_ROUTES    4194304
#define VPC_MAX_SGS       65536
#define VPC_MAX_RULES     16777216	/* after security-group expansion */
#define VPC_MAX_NACLS     65535		/* network ACLs, host-wide */
#define VPC_MAX_HOSTS     4096		/* entries of hosts: */
#define VPC_MAX_NATGWS    4096		/* NAT gateways, host-wide */
#define VPC_MAX_PEERINGS  65536		/* peerings: (VPC pairs) */
#define VPC_MAX_LBS       4096		/* load balancers, host-wide */
#define VPC_MAX_LISTENERS 65536		/* listeners, host-wide */
#define VPC_MAX_TGROUPS   65536		/* target groups, host-wide */
#define VPC_MAX_TARGETS   262144	/* targets (group memberships), host-wide */
#define VPC_IMAGE_MAX_SIZE (1u << 30)

#define VPC_INDEX_NONE 0xffffffffu

/* Sections, in file order.  X(ENUM, field, record type). */
#define VPC_IMAGE_SECTIONS(X)                          \
	X(VPC,    vpcs,    struct vpc_image_vpc)       \
	X(SUBNET, subnets, struct vpc_image_subnet)    \
	X(RTABLE, rtables, struct vpc_image_rtable)    \
	X(ROUTE,  routes,  struct vpc_image_route)     \
	X(SG,     sgs,     struct vpc_image_sg)        \
	X(RULE,   rules,   struct vpc_image_rule)      \
	X(IFACE,  ifaces,  struct vpc_image_iface)     \
	X(PORT,   ports,   struct vpc_image_port)      \
	X(L2,     l2,      struct vpc_image_l2)        \
	X(EIP,    eips,    struct vpc_image_eip)       \
	X(HOST,   host,    struct vpc_image_host)      \
	X(HPORT,  hports,  struct vpc_image_hport)     \
	X(DHCP,   dhcp,    struct vpc_image_dhcp)      \
	X(NACL,   nacls,   struct vpc_image_nacl)      \
	X(NRULE,  nacl_rules, struct vpc_image_nacl_rule) \
	X(RHOST,  rhosts,  struct vpc_image_rhost)     \
	X(NATGW,  natgws,  struct vpc_image_natgw)     \
	X(PEERING, peerings, struct vpc_image_peering) \
	X(LB,     lbs,     struct vpc_image_lb)        \
	X(LISTENER, listeners, struct vpc_image_listener) \
	X(TGROUP, tgroups, struct vpc_image_tgroup)    \
	X(TARGET, targets, struct vpc_image_target)

enum vpc_image_section_id {
#define VPC_X(e, f, t) VPC_SEC_##e,
	VPC_IMAGE_SECTIONS(VPC_X)
#undef VPC_X
	VPC_SEC_COUNT
};

/* Connection idle timeouts, seconds; per VPC (see topology.md). */
#define VPC_TIMEOUTS(X)                         \
	X(TCP_OPENING,     tcp_opening,     120)     \
	X(TCP_ESTABLISHED, tcp_established, 432000)  \
	X(TCP_CLOSING,     tcp_closing,     120)     \
	X(UDP,             udp,             30)      \
	X(UDP_STREAM,      udp_stream,      180)     \
	X(ICMP,            icmp,            30)      \
	X(OTHER,           other,           600)

enum vpc_timeout_id {
#define VPC_X(e, f, d) VPC_TO_##e,
	VPC_TIMEOUTS(VPC_X)
#undef VPC_X
	VPC_TO_COUNT
};

#define VPC_VPC_F_IGW 0x01	/* the VPC has an internet gateway */

struct vpc_image_vpc {
	char name[VPC_NAME_SIZE];
	__u32 vni;
	__be32 cidr_addr;
	__u8 cidr_len;
	__u8 flags;		/* VPC_VPC_F_* */
	__u16 mtu;
	__u32 main_rtable;	/* index into rtables */
	__u32 default_sg;	/* index into sgs */
	__u8 router_mac[6];	/* the VPC router's MAC, every subnet's gateway */
	__u8 pad[2];
	__u32 timeouts[VPC_TO_COUNT];	/* seconds, by enum vpc_timeout_id */
};
_Static_assert(sizeof(struct vpc_image_vpc) == 96, "vpc record layout");

/*
 * A VPC's DHCP options (its DHCP options set, AWS's dhcp_options): one
 * record per VPC, in VPC order (dhcp[i] is vpcs[i]'s).  What the dataplane
 * answers a guest's DHCP with, besides the guest's own address, its
 * subnet's mask and router (the subnet's gateway, also the server
 * identifier) and the VPC MTU.  Absent options in the topology compile to
 * AWS's defaults: DNS the VPC's base address + 2 (AmazonProvidedDNS), no
 * domain name, no NTP servers.
 */
#define VPC_DHCP_MAX_SERVERS 4
#define VPC_DHCP_DOMAIN_MAX 128
#define VPC_DHCP_LEASE_DEFAULT 3600	/* seconds, as AWS */
struct vpc_image_dhcp {
	__be32 dns[VPC_DHCP_MAX_SERVERS];	/* the first n_dns */
	__be32 ntp[VPC_DHCP_MAX_SERVERS];	/* the first n_ntp */
	__u8 n_dns;		/* 1..VPC_DHCP_MAX_SERVERS */
	__u8 n_ntp;		/* 0..VPC_DHCP_MAX_SERVERS */
	__u8 domain_len;	/* 0..VPC_DHCP_DOMAIN_MAX - 1 */
	__u8 pad;
	__u32 lease;		/* seconds, >= 60 */
	char domain[VPC_DHCP_DOMAIN_MAX];	/* domain_len bytes, the rest 0 */
};
_Static_assert(sizeof(struct vpc_image_dhcp) == 168, "dhcp record layout");

struct vpc_image_subnet {
	char name[VPC_NAME_SIZE];
	__u32 vpc;
	__u32 rtable;
	__be32 cidr_addr;
	__u8 cidr_len;
	__u8 pad[3];
	__be32 gateway_ip;	/* network address + 1 */
	__u32 nacl;		/* its network ACL (index into nacls), or
				 * VPC_INDEX_NONE: the VPC's default ACL,
				 * which allows everything */
};
_Static_assert(sizeof(struct vpc_image_subnet) == 64, "subnet record layout");

struct vpc_image_rtable {
	char name[VPC_NAME_SIZE];
	__u32 vpc;
	__u32 first_route;	/* routes[first_route .. first_route + n_routes) */
	__u32 n_routes;
	__u8 is_main;
	__u8 pad[3];
};
_Static_assert(sizeof(struct vpc_image_rtable) == 56, "rtable record layout");

/* Route targets.  Kept in step with the names in vpc_image_target_name(). */
enum vpc_route_target {
	VPC_RT_LOCAL = 0,	/* deliver to the interface owning the dst IP */
	VPC_RT_IGW = 1,		/* the internet gateway (elastic-IP NAT) */
	VPC_RT_BLACKHOLE = 2,	/* drop */
	VPC_RT_IFACE = 3,	/* an interface, e.g. a firewall appliance */
	VPC_RT_NATGW = 4,	/* a NAT gateway of the VPC */
	VPC_RT_PEERING = 5,	/* a VPC peering (peerings[target_peering]) */
	VPC_RT_COUNT
};

#define VPC_ROUTE_F_IMPLICIT 0x01	/* the VPC-CIDR -> local route */

/*
 * Routes of one table are contiguous, ordered by prefix length, longest
 * first, then by address; a linear scan therefore finds the longest match
 * first (the engines build DIR-24-8 tables from them instead).
 */
struct vpc_image_route {
	__u32 rtable;
	__be32 prefix;
	__u8 prefix_len;
	__u8 target;		/* enum vpc_route_target */
	__u8 flags;		/* VPC_ROUTE_F_* */
	__u8 pad;
	union {
		__u32 target_iface;	/* VPC_RT_IFACE: index into ifaces;
					 * VPC_RT_NATGW: index into natgws */
		__u32 target_peering;	/* VPC_RT_PEERING: index into peerings */
	};			/* other targets: VPC_INDEX_NONE */
};
_Static_assert(sizeof(struct vpc_image_route) == 16, "route record layout");

/*
 * A VPC peering (AWS's): two VPCs whose CIDRs do not overlap, each of
 * which may route to the other ({peering: NAME} in a route table).  A
 * packet routed to a peering is delivered only to the interface that
 * owns its destination in the other VPC -- never onward (no transit) --
 * after the sender's egress and the receiver's ingress groups.  Records
 * in the file's order; at most one per pair of VPCs.
 */
struct vpc_image_peering {
	char name[VPC_NAME_SIZE];
	__u32 vpc[2];		/* indexes into vpcs, distinct */
};
_Static_assert(sizeof(struct vpc_image_peering) == 48, "peering record layout");

#define VPC_SG_F_IMPLICIT 0x01	/* the VPC's default group, not in the file */

struct vpc_image_sg {
	char name[VPC_NAME_SIZE];
	__u32 vpc;
	__u32 first_rule;	/* rules[first_rule .. + n_ingress + n_egress): */
	__u32 n_ingress;	/* ingress rules first, then egress */
	__u32 n_egress;
	__u32 n_members;	/* interfaces that carry this group */
	__u8 flags;		/* VPC_SG_F_* */
	__u8 pad[3];
};
_Static_assert(sizeof(struct vpc_image_sg) == 64, "sg record layout");

enum vpc_rule_dir { VPC_DIR_INGRESS = 0, VPC_DIR_EGRESS = 1 };

#define VPC_RULE_F_ANY_PROTO 0x01	/* protocol: all */
#define VPC_RULE_F_ICMP_TYPE 0x02	/* icmp_type given */
#define VPC_RULE_F_ICMP_CODE 0x04	/* icmp_code given */
#define VPC_RULE_F_SG_PEER   0x08	/* expanded from a {security_group:} peer */

/*
 * One allow rule.  A rule whose peer is a security group is expanded into
 * one record per member interface (a /32 of its private IP), all with the
 * same src_rule, so the engines only ever match CIDR peers.  A group with no
 * members expands to no record.
 */
struct vpc_image_rule {
	__u32 sg;
	__u8 dir;		/* enum vpc_rule_dir */
	__u8 proto;		/* IP protocol number; ignored with ANY_PROTO */
	__u8 flags;		/* VPC_RULE_F_* */
	__u8 peer_len;
	__be32 peer_addr;	/* peer prefix (source or destination) */
	__u16 port_lo;		/* tcp/udp; 0..65535 when not restricted */
	__u16 port_hi;
	__u8 icmp_type;
	__u8 icmp_code;
	__u16 src_rule;		/* position of the rule in its list in the file */
	__u32 peer_sg;		/* the referenced group, or VPC_INDEX_NONE */
};
_Static_assert(sizeof(struct vpc_image_rule) == 24, "rule record layout");

/*
 * Network ACLs (AWS's): stateless rules on a subnet's boundary, evaluated
 * in rule-number order, the first match deciding, no match denying.  A
 * subnet has at most one (vpc_image_subnet.nacl).  Rules of one ACL are
 * contiguous, ingress first, each direction sorted by number; at most
 * VPC_NACL_MAX_RULES per direction (the engines scan them with a loop of
 * that bound: common/vpc_nacl.h).
 */
#define VPC_NACL_MAX_RULES 20	/* per direction; AWS's default quota */
#define VPC_NACL_RULE_MAX 32766	/* rule numbers are 1..32766 */

struct vpc_image_nacl {
	char name[VPC_NAME_SIZE];
	__u32 vpc;
	__u32 first_rule;	/* nacl_rules[first_rule .. + n_ingress + n_egress) */
	__u16 n_ingress;	/* <= VPC_NACL_MAX_RULES */
	__u16 n_egress;		/* <= VPC_NACL_MAX_RULES */
	__u32 n_subnets;	/* subnets that use it */
};
_Static_assert(sizeof(struct vpc_image_nacl) == 56, "nacl record layout");

#define VPC_NRULE_F_ANY_PROTO 0x01	/* protocol: all */
#define VPC_NRULE_F_ICMP_TYPE 0x02	/* icmp_type given */
#define VPC_NRULE_F_ICMP_CODE 0x04	/* icmp_code given */
#define VPC_NRULE_F_ALLOW     0x08	/* action: allow (else deny) */
#define VPC_NRULE_F_ALL       0x0f

struct vpc_image_nacl_rule {
	__u32 nacl;		/* index into nacls */
	__u16 number;		/* 1..VPC_NACL_RULE_MAX, unique per direction */
	__u8 dir;		/* enum vpc_rule_dir */
	__u8 flags;		/* VPC_NRULE_F_* */
	__u8 proto;		/* IP protocol; ignored with ANY_PROTO */
	__u8 icmp_type;
	__u8 icmp_code;
	__u8 cidr_len;
	__be32 cidr_addr;	/* the remote side: source (ingress), destination (egress) */
	__u16 port_lo;		/* destination port; 0..65535 unless tcp/udp restricted */
	__u16 port_hi;
};
_Static_assert(sizeof(struct vpc_image_nacl_rule) == 20, "nacl rule record layout");

#define VPC_IFACE_F_SRC_DST_CHECK 0x01
#define VPC_IFACE_F_EIP           0x02	/* elastic_ip is set */
#define VPC_IFACE_F_MAC_DERIVED   0x04	/* mac was not given in the file */
#define VPC_IFACE_F_REMOTE        0x08	/* runs on another host (rhost): no
					 * port here, reached over the overlay */

struct vpc_image_iface {
	char name[VPC_NAME_SIZE];
	__u32 vpc;
	__u32 subnet;
	__u32 port;		/* index into ports; VPC_INDEX_NONE when remote */
	__be32 ip;
	__be32 elastic_ip;	/* 0 unless VPC_IFACE_F_EIP */
	__u8 mac[6];
	__u8 flags;		/* VPC_IFACE_F_* */
	__u8 n_sgs;
	__u16 sgs[VPC_IFACE_MAX_SGS];	/* indexes into sgs */
	__u32 rhost;		/* VPC_IFACE_F_REMOTE: index into rhosts;
				 * otherwise 0 */
};
_Static_assert(sizeof(struct vpc_image_iface) == 104, "iface record layout");

/*
 * The other hosts of a topology with hosts: (a host's view), in the file's
 * order: where the overlay sends frames for the interfaces they run
 * (vpc_geneve.h).  next_hop_mac: the outer frame's destination -- the
 * host's uplink MAC (hosts share the underlay segment) or, when this
 * host's entry names one, its underlay gateway's.  Absent without hosts:.
 */
struct vpc_image_rhost {
	char name[VPC_NAME_SIZE];
	__be32 underlay_ip;
	__u8 next_hop_mac[6];
	__u8 pad[6];
};
_Static_assert(sizeof(struct vpc_image_rhost) == 56, "remote host record layout");

/*
 * NAT gateways (AWS's): in a subnet whose route table sends 0.0.0.0/0 to
 * the internet gateway, with an elastic IP of their own.  Traffic a route
 * sends to one ({ nat_gateway: NAME }) leaves through the internet gateway
 * with its source translated to the elastic IP and a source port (ICMP
 * identifier) allocated per connection (common/vpc_natgw.h); replies are
 * translated back.  Nothing from the internet opens a connection to it.
 */
struct vpc_image_natgw {
	char name[VPC_NAME_SIZE];
	__u32 vpc;
	__u32 subnet;		/* its subnet: whose network ACL it is behind */
	__be32 elastic_ip;
	__u32 pad;
};
_Static_assert(sizeof(struct vpc_image_natgw) == 56, "nat gateway record layout");

/*
 * Network load balancers (AWS's NLB): an address with TCP/UDP listeners,
 * each forwarding to a target group -- interfaces of the VPC, each with a
 * port -- with the client's address preserved and the replies translated
 * back to the listener's address and port.  Internal: a private address
 * of a subnet (no interface owns it; the engines answer ARP for it with
 * the router's MAC and route it by a /32 of its own).  Internet-facing: an
 * elastic IP on the uplink (VPC_EIP_LB in the eips section).  The
 * balancer's own groups (sgs) are the ingress rules for what reaches a
 * listener; the targets' groups see the translated packet.  Records in
 * the file's order; listeners, target groups and targets of one balancer
 * are contiguous and in the file's order.
 */
#define VPC_LB_F_INTERNET 0x01	/* internet-facing: elastic_ip, no subnet/ip */
#define VPC_LB_MAX_SGS    5	/* security groups per load balancer (AWS's) */
#define VPC_LB_MAX_TARGETS 64	/* per target group: the choice's loop bound */

struct vpc_image_lb {
	char name[VPC_NAME_SIZE];
	__u32 vpc;
	__u32 subnet;		/* internal: the subnet of ip; else VPC_INDEX_NONE */
	__be32 ip;		/* internal: its private address; else 0 */
	__be32 elastic_ip;	/* VPC_LB_F_INTERNET: its elastic IP; else 0 */
	__u32 first_listener;	/* listeners[first_listener .. + n_listeners) */
	__u32 n_listeners;
	__u32 first_tgroup;	/* tgroups[first_tgroup .. + n_tgroups) */
	__u32 n_tgroups;
	__u8 flags;		/* VPC_LB_F_* */
	__u8 n_sgs;		/* 0..VPC_LB_MAX_SGS; 0: none (every client reaches
				 * the listeners; the targets' groups decide) */
	__u16 sgs[VPC_LB_MAX_SGS];	/* indexes into sgs, of its VPC */
	__u32 pad;
};
_Static_assert(sizeof(struct vpc_image_lb) == 88, "load balancer record layout");

/* One (protocol, port) of a balancer; unique per balancer. */
struct vpc_image_listener {
	__u32 lb;		/* index into lbs */
	__u32 tgroup;		/* index into tgroups, of the same balancer and protocol */
	__u8 proto;		/* 6 (TCP) or 17 (UDP) */
	__u8 pad;
	__be16 port;		/* 1..65535 */
	__u32 pad2;
};
_Static_assert(sizeof(struct vpc_image_listener) == 16, "listener record layout");

/* How a target group chooses the target of a new connection
 * (common/vpc_lb.h), among its healthy targets (all of them when none
 * is healthy: AWS's fail-open). */
enum vpc_lb_algorithm {
	VPC_LB_HASH = 0,		/* consistent (rendezvous) hash of the 5-tuple */
	VPC_LB_ROUND_ROBIN = 1,
	VPC_LB_WEIGHTED_ROUND_ROBIN = 2,
	VPC_LB_LEAST_CONNECTIONS = 3,
	VPC_LB_ALG_COUNT
};

/* Health checks' defaults (AWS's, for an NLB's TCP checks). */
#define VPC_HC_INTERVAL_DEFAULT 30	/* seconds, 5..300 */
#define VPC_HC_TIMEOUT_DEFAULT 10	/* seconds, 2..120, < interval */
#define VPC_HC_HEALTHY_DEFAULT 5	/* consecutive successes, 2..10 */
#define VPC_HC_UNHEALTHY_DEFAULT 2	/* consecutive failures, 2..10 */
#define VPC_LB_DEREG_DEFAULT 300	/* deregistration delay, seconds, 0..3600 */

struct vpc_image_tgroup {
	char name[VPC_NAME_SIZE];	/* unique per balancer */
	__u32 lb;		/* index into lbs */
	__u32 first_target;	/* targets[first_target .. + n_targets) */
	__u32 n_targets;	/* 0..VPC_LB_MAX_TARGETS */
	__u8 proto;		/* 6 or 17: the listeners that use it */
	__u8 algorithm;		/* enum vpc_lb_algorithm */
	__be16 port;		/* the targets' default port */
	__u16 hc_interval;	/* seconds */
	__u16 hc_timeout;	/* seconds */
	__u8 hc_healthy;	/* thresholds */
	__u8 hc_unhealthy;
	__u16 pad;
	__u32 dereg_delay;	/* seconds */
	__u32 pad2;
};
_Static_assert(sizeof(struct vpc_image_tgroup) == 72, "target group record layout");

/* A target: an interface of the balancer's VPC on this host, with the
 * port it receives on and the port its health is checked on (TCP). */
struct vpc_image_target {
	__u32 tgroup;		/* index into tgroups */
	__u32 iface;		/* index into ifaces, of the balancer's VPC */
	__be16 port;		/* 1..65535 (the group's unless given) */
	__be16 hc_port;		/* 1..65535 (the traffic port unless given) */
	__u16 weight;		/* 1..1000 (1 unless given) */
	__u16 pad;
};
_Static_assert(sizeof(struct vpc_image_target) == 16, "target record layout");

enum vpc_port_kind { VPC_PORT_IFACE = 0, VPC_PORT_UPLINK = 1 };

/*
 * Host ports.  The port index is the dataplane's port id.  Interfaces come
 * first, in file order, then the uplink (always present, last).
 */
struct vpc_image_port {
	char name[VPC_NAME_SIZE];
	__u32 kind;		/* enum vpc_port_kind */
	__u32 iface;		/* for VPC_PORT_IFACE; otherwise VPC_INDEX_NONE */
};
_Static_assert(sizeof(struct vpc_image_port) == 48, "port record layout");

/* Per-VPC L2 table: (vpc, MAC) -> interface; sorted by vpc, then MAC. */
struct vpc_image_l2 {
	__u32 vpc;
	__u8 mac[6];
	__u16 pad;
	__u32 iface;
};
_Static_assert(sizeof(struct vpc_image_l2) == 16, "l2 record layout");

/*
 * The uplink's table: elastic IP -> interface, or -> NAT gateway
 * (VPC_EIP_NATGW | its index into natgws: interface indexes stay below
 * VPC_MAX_IFACES), or -> internet-facing load balancer (VPC_EIP_LB | its
 * index into lbs); sorted by address.  Every elastic IP is here, so the
 * uplink answers ARP for all of them from one table.
 */
#define VPC_EIP_NATGW 0x80000000u
#define VPC_EIP_LB    0x40000000u	/* | an internet-facing balancer's index into lbs */
struct vpc_image_eip {
	__be32 elastic_ip;
	__u32 iface;
};
_Static_assert(sizeof(struct vpc_image_eip) == 8, "eip record layout");

#define VPC_HOST_F_UPLINK_MACS 0x01	/* the file gave host.uplink MACs */

/* Exactly one record. */
struct vpc_image_host {
	__u32 uplink_port;	/* index into ports */
	__u8 uplink_mac[6];
	__u8 gateway_mac[6];
	__u8 flags;		/* VPC_HOST_F_* */
	__u8 pad[3];
	__be32 underlay_ip;	/* this host's, in a hosts: topology; else 0 */
};
_Static_assert(sizeof(struct vpc_image_host) == 24, "host record layout");

/*
 * How a port is realised on this host (host.ports), for the daemon: the
 * table image carries it so that an apply can open the ports it adds.
 * Absent for ports the file does not describe (replay needs none).
 */
enum vpc_hport_type {
	VPC_HPORT_VHOST_USER = 1,
	VPC_HPORT_TAP = 2,
	VPC_HPORT_AF_PACKET = 3,
	VPC_HPORT_AF_XDP = 4,
	VPC_HPORT_PCAP = 5,
	VPC_HPORT_PCI = 6,
};

#define VPC_HPORT_F_LOOP 0x01	/* pcap: replay rx forever */
#define VPC_HPORT_F_CLIENT 0x02	/* vhost-user: connect to the socket QEMU
				 * created, reconnect when it restarts */
#define VPC_HPORT_F_MODE 0x04	/* vhost-user server: chmod the socket to mode */
#define VPC_HPORT_F_ALL 0x07
#define VPC_HPORT_STR 112	/* a Unix socket path fits: 107 + NUL */

/*
 * flags and mode share what was one 32-bit flags word (whose upper half no
 * flag used): the record keeps its size and, on a little-endian host, its
 * bytes for the ports that set neither.
 */
struct vpc_image_hport {
	char name[VPC_NAME_SIZE];	/* the port */
	__u32 type;			/* enum vpc_hport_type */
	__u16 flags;			/* VPC_HPORT_F_* */
	__u16 mode;			/* VPC_HPORT_F_MODE: 0..0777; else 0 */
	char a[VPC_HPORT_STR];	/* path, ifname, device, or pcap rx */
	char b[VPC_HPORT_STR];	/* pcap tx; vhost-user server: the socket's
				 * owner, "USER[:GROUP]" ("": unchanged) */
};
_Static_assert(sizeof(struct vpc_image_hport) == 272, "hport record layout");

struct vpc_image_section {
	__u32 offset;		/* from the start of the image; 8-aligned */
	__u32 count;
	__u32 entry_size;	/* sizeof the record type, checked on read */
	__u32 pad;
};

/*
 * The header.  checksum is FNV-1a (64-bit) over every byte after the
 * header; it detects accidental corruption, it is not a signature.
 */
struct vpc_image_header {
	__u32 magic;
	__u16 version;
	__u16 header_size;
	__u32 total_size;
	__u32 n_sections;
	__u64 generation;	/* set by the publisher; 0 from the compiler */
	__u64 checksum;
	struct vpc_image_section sections[VPC_SEC_COUNT];
};
_Static_assert(sizeof(struct vpc_image_header) == 32 + 16 * VPC_SEC_COUNT,
	       "header layout");

/* Kinds of next hop (both engines). */
enum vpc_nh_kind {
	VPC_NH_NO_ROUTE = 0,	/* nothing matched */
	VPC_NH_DELIVER,		/* local route, interface owns the IP */
	VPC_NH_LOCAL_MISS,	/* local route, nobody owns the IP */
	VPC_NH_IGW,
	VPC_NH_BLACKHOLE,
	VPC_NH_APPLIANCE,	/* route to an interface */
	VPC_NH_NATGW,		/* route to a NAT gateway (iface: its index) */
	VPC_NH_PEERING,		/* peering route, an interface of the peer VPC
				 * owns the IP: deliver to it */
	VPC_NH_PEERING_MISS,	/* peering route, nobody in the peer VPC owns
				 * the IP: dropped (no transit) */
	VPC_NH_LB,		/* local route, an internal load balancer's
				 * address (iface: its index into lbs) */
	VPC_NH_COUNT
};

/*
 * Security-group classifiers (lib/include/sg.h has the design): one set of
 * prefix tries per (groups, direction).  Pointer-free, so the DPDK engine
 * walks them in memory and the XDP program through array maps.
 */
enum vpc_sg_trie { VPC_SGT_ANY, VPC_SGT_TCP, VPC_SGT_UDP, VPC_SGT_ICMP, VPC_SGT_OTHER,
		   VPC_SGT_COUNT };

struct vpc_sg_node {
	__u32 child[2];		/* 0: none (node 0 is never a child) */
	__u32 first;		/* intervals[first..+n) or icmps[first..+n) */
	__u16 n;
	__u8 all;		/* a rule here matches every port / type */
	__u8 pad;
};

struct vpc_sg_interval {
	__u16 lo, hi;		/* ports, or protocol numbers for OTHER */
};

struct vpc_sg_icmp {
	__u8 type, code;
	__u8 has_type, has_code;
};

struct vpc_sg_class {
	__u32 root[VPC_SGT_COUNT];	/* 0: no rule of that kind */
};

/* The deepest walk (33 nodes) and the longest node list the program
 * searches; the loader refuses tables beyond them. */
#define VPC_SG_MAX_DEPTH 33
#define VPC_SG_MAX_ICMPS 64		/* ICMP matches at one node */
#define VPC_SG_MAX_BSEARCH 17		/* intervals: log2(65536) + 1 */

#endif /* VPC_IMAGE_H */
