/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * vpc_records.h -- the records both engines' tables hold, lowered from an
 * image once (lib/lower.c): the DPDK engine keeps them in an array, the
 * XDP engine in an array map, with the same bytes.
 *
 * The record types are freestanding (the XDP program includes them); the
 * lowering is user space.  Built off the fast path, then read-only.
 */
#ifndef VPC_RECORDS_H
#define VPC_RECORDS_H

#include <stdint.h>

/* An interface as a destination (and, through its port, as a source). */
struct vpc_iface_rec {
	uint8_t mac[6];
	uint8_t router_mac[6];	/* its VPC router's */
	uint16_t port;		/* the engine's port: DPDK's topology port, XDP's slot */
	uint16_t mtu;
	uint32_t vpc;
	uint32_t subnet;
	uint32_t ip;		/* network order */
	uint32_t eip;		/* network order; has_eip says whether it is one */
	uint8_t src_dst_check;
	uint8_t has_eip;
	uint16_t tunnel;	/* on another host: that host's tunnel record + 1
				 * (port: the uplink); 0: on this one */
	uint32_t ctx;		/* its VPC's VNI << 8: connection-tracking context */
	uint32_t sg_class[2];	/* security-group classifiers, by direction */
};
_Static_assert(sizeof(struct vpc_iface_rec) == 48, "interface record layout");

/*
 * The DHCP reply of a subnet's interfaces (common/vpc_dhcp.h answers with
 * it): one whole frame of len bytes, Ethernet to the options' END (a
 * request's frame is mostly as long: the engine seldom grows it), with the
 * per-request fields zero -- client MAC and address, xid, flags, ciaddr,
 * yiaddr, the message type, the IP destination and both checksums.
 * Options, at fixed offsets: 53 (type), 54 (server identifier), then the
 * lease block (51, 58, 59: blanked for an INFORM), then 1, 3, 6, 15, 42,
 * 26, END, zeros.  sum: the one's-complement sum (16-bit words as a load
 * reads them, unfolded) of the UDP segment's words nobody patches, plus
 * the pseudo-header's constant part (source address, protocol, length).
 * A NAK's frame is zero from VPC_DHCP_NAK_ZERO_AT on: the engine clears
 * it (its own way) before vpc_dhcp_patch().
 */
#define VPC_DHCP_FRAME_LEN 590		/* at most: 14 + 20 + 8 + 236 + 312 */
#define VPC_DHCP_MIN_LEN 342		/* at least: a BOOTP message of 300 */
#define VPC_DHCP_BOOTP 42		/* the BOOTP message */
#define VPC_DHCP_OPTIONS 282		/* the options, after the cookie */
#define VPC_DHCP_TYPE_AT 284		/* option 53's value */
#define VPC_DHCP_SERVER_AT 285		/* option 54 */
#define VPC_DHCP_LEASE_AT 291		/* the lease block: 51, 58, 59 */
#define VPC_DHCP_LEASE_LEN 18
#define VPC_DHCP_NAK_END_AT 291		/* a NAK ends after 54 ... */
#define VPC_DHCP_NAK_ZERO_AT 292	/* ... and is zero from here on */
struct vpc_dhcp_rec {
	uint8_t frame[VPC_DHCP_FRAME_LEN];	/* the first len bytes; zero after */
	uint16_t len;		/* the reply's length: the BOOTP message through END,
				 * at least 300 bytes (RFC 1542), even */
	uint32_t sum;
	uint32_t nak_sum;	/* the same, for a NAK: nothing from NAK_ZERO_AT on */
};
_Static_assert(sizeof(struct vpc_dhcp_rec) == 600, "dhcp record layout");

/*
 * A remote host as the overlay's destination (common/vpc_geneve.h): the
 * 50 bytes in front of its frames, as vpc_geneve_template makes them, and
 * its underlay address (network order), by which its frames are known.
 */
struct vpc_tunnel_rec {
	uint8_t hdr[50];	/* VPC_GENEVE_HLEN */
	uint16_t pad;
	uint32_t underlay_ip;
};
_Static_assert(sizeof(struct vpc_tunnel_rec) == 56, "tunnel record layout");

/*
 * A NAT gateway (vpc_image_natgw) as the engines keep it: by its index,
 * found from a route's next hop or its elastic IP's entry.
 */
struct vpc_natgw_rec {
	uint32_t eip;		/* network order */
	uint32_t vpc;
	uint32_t subnet;
	uint32_t nacl;		/* its subnet's network ACL + 1, or VPC_NACL_DEFAULT */
};
_Static_assert(sizeof(struct vpc_natgw_rec) == 16, "nat gateway record layout");

#ifndef __bpf__
#include <stdbool.h>

struct vpc_image;
struct vpc_sg;
struct vpc_nacl_list;
struct vpc_lb_rec;
struct vpc_lb_listener_rec;
struct vpc_lb_group_rec;
struct vpc_lb_hc_rec;

/* A port as a source: what the source checks and the route lookup of a
 * packet arriving on it need.  Each engine copies it into its own port
 * record (beside its table pointers or map slot). */
struct vpc_port_rec {
	uint32_t is_uplink;
	uint32_t iface;		/* VPC_INDEX_NONE for the uplink */
	uint32_t ctx;		/* VNI << 8; 0 on the uplink */
	uint32_t rtable;	/* the source subnet's route table */
	uint32_t gateway_ip;	/* network order: the subnet's router */
	uint32_t subnet_addr;	/* network order */
	uint32_t subnet_mask;	/* network order */
	uint32_t subnet;	/* VPC_INDEX_NONE for the uplink */
	uint32_t nacl;		/* its subnet's network ACL + 1, or VPC_NACL_DEFAULT
				 * (vpc_nacl.h): none, as the uplink */
};

/* A route as a table entry: (route table, prefix) -> next hop. */
struct vpc_route_rec {
	uint32_t rtable;
	uint32_t prefix;	/* network order */
	uint8_t prefix_len;
	uint8_t kind;		/* enum vpc_nh_kind */
	uint32_t iface;		/* VPC_NH_APPLIANCE, VPC_NH_DELIVER, VPC_NH_PEERING:
				 * the interface; VPC_NH_PEERING_MISS: the
				 * peering (each its own next hop); VPC_NH_NATGW:
				 * the NAT gateway */
	uint32_t via;		/* a VPC_NH_PEERING delivery route: its peering;
				 * otherwise VPC_INDEX_NONE */
};

/* Port p of img. */
void vpc_lower_port(const struct vpc_image *img, uint32_t p, struct vpc_port_rec *out);

/* Interface i of img as the source of frames decapsulated from the
 * overlay (an interface on another host, which has no port here): its
 * subnet's route table, addresses and network ACL (the receiving host
 * applies both subnets' ACLs: the sending host does not know the
 * receiver's subnet from its tunnel action). */
void vpc_lower_iface_port(const struct vpc_image *img, uint32_t i, struct vpc_port_rec *out);

/* Remote host r of img as a tunnel record. */
void vpc_lower_tunnel(const struct vpc_image *img, uint32_t r, struct vpc_tunnel_rec *out);

/* Route r of img (its target as a next-hop kind). */
void vpc_lower_route(const struct vpc_image *img, uint32_t r, struct vpc_route_rec *out);

/*
 * Delivery routes: interface i's IP as a /32 to it in route table t, when
 * i is in t's VPC (VPC_NH_DELIVER), or in a VPC peered with it to which
 * t has a route (VPC_NH_PEERING, via that peering) (1; 0 otherwise).  The
 * engine adds it only where the IP's longest match in the table is the
 * local route, or that peering's route (a more specific route the file
 * gives wins): a lookup in the engine's own table, once the routes are
 * in it, then vpc_lower_delivery_applies().  Whatever else a peering's
 * route matches stays VPC_NH_PEERING_MISS: a peering delivers to the
 * owner of the destination in the peer VPC and never routes onward.
 */
int vpc_lower_delivery(const struct vpc_image *img, uint32_t t, uint32_t i,
		       struct vpc_route_rec *out);

/* Does delivery route d go in, where its IP's longest match in the table
 * so far is a next hop of kind `kind` whose iface field is obj? */
bool vpc_lower_delivery_applies(const struct vpc_route_rec *d, uint32_t kind, uint32_t obj);

/* Does anything reach the internet gateway (a route to it, an elastic
 * IP)?  If not, the uplink port needs no device. */
bool vpc_lower_uplink_needed(const struct vpc_image *img);

/* The DHCP reply record of subnet s (its VPC's DHCP options). */
void vpc_lower_dhcp(const struct vpc_image *img, uint32_t s, struct vpc_dhcp_rec *out);

/* List l of img's network ACLs (vpc_nacl_list_index(): ACL l / 2, its
 * ingress rules when l is even, egress when odd), in rule-number order. */
void vpc_lower_nacl_list(const struct vpc_image *img, uint32_t l, struct vpc_nacl_list *out);

/* NAT gateway g of img. */
void vpc_lower_natgw(const struct vpc_image *img, uint32_t g, struct vpc_natgw_rec *out);

/* Load balancers (common/vpc_lb.h): balancer b with its groups'
 * classifier from sg, listener l, target group g with its members,
 * target t's health-check record. */
void vpc_lower_lb(const struct vpc_image *img, uint32_t b, const struct vpc_sg *sg,
		  struct vpc_lb_rec *out);
void vpc_lower_listener(const struct vpc_image *img, uint32_t l, struct vpc_lb_listener_rec *out);
void vpc_lower_tgroup(const struct vpc_image *img, uint32_t g, struct vpc_lb_group_rec *out);
void vpc_lower_lb_hc(const struct vpc_image *img, uint32_t t, struct vpc_lb_hc_rec *out);

/* An internal balancer b's address as a /32 to it (VPC_NH_LB) in route
 * table t of its VPC (1; 0 otherwise), added where the address's longest
 * match is the local route (vpc_lower_delivery_applies, as an
 * interface's). */
int vpc_lower_lb_route(const struct vpc_image *img, uint32_t t, uint32_t b,
		       struct vpc_route_rec *out);

/* How many delivery candidates table t has (the bound of its /32s). */
uint32_t vpc_lower_n_deliveries(const struct vpc_image *img, uint32_t t);

/* Interface i of img, on the engine's port `port` (the uplink's for an
 * interface on another host), with its classifiers from sg (vpc_sg_build
 * of the same image). */
void vpc_lower_iface(const struct vpc_image *img, uint32_t i, uint16_t port,
		     const struct vpc_sg *sg, struct vpc_iface_rec *out);
#endif

#endif /* VPC_RECORDS_H */
