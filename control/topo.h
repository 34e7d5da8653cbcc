/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * topo.h -- the topology model: what a topology file says, with the
 * position of every value, before and after validation.
 *
 * Life cycle:
 *   topo_load()      YAML -> model; structural errors (unknown, missing,
 *                    duplicate keys, wrong types, unparsable values).  A
 *                    field that could not be read is left unset (its `set`
 *                    flag false) and the object is kept, so references to
 *                    it still resolve and one mistake is reported once.
 *   topo_validate()  every rule of docs/topology.md; resolves names to
 *                    indexes.  Reports all errors, in file order.  At fixed
 *                    points it runs the derivation steps (topo_derive.h):
 *                    the implicit objects (each VPC's default security group
 *                    and main route table), VNIs, DHCP options, ports and
 *                    MACs.
 *   topo_compile()   (compile.h) a validated model -> table image.
 *
 * Addresses are kept in host byte order here; the image holds them in
 * network order.  Strings point into the YAML document, which the model
 * owns.
 *
 * Thread-safety: none; a model belongs to one thread.
 */
#ifndef VPC_TOPO_H
#define VPC_TOPO_H

#include <stdbool.h>
#include <stdint.h>

#include "diag.h"
#include "vpc_image.h"

struct ydoc;

struct topo_str {
	const char *s;		/* NULL when absent or unreadable */
	struct vpc_pos pos;
};

struct topo_cidr {
	bool set;
	uint32_t addr;		/* host order */
	uint8_t len;
	struct vpc_pos pos;
};

struct topo_ip {
	bool set;
	uint32_t addr;		/* host order */
	struct vpc_pos pos;
};

struct topo_mac {
	bool set;
	uint8_t b[6];
	struct vpc_pos pos;
};

struct topo_uint {
	bool set;
	uint64_t v;
	struct vpc_pos pos;
};

struct topo_bool {
	bool set;
	bool v;
	struct vpc_pos pos;
};

enum topo_peer_kind { TOPO_PEER_NONE, TOPO_PEER_CIDR, TOPO_PEER_SG };

#define TOPO_PROTO_ALL -1

struct topo_rule {
	struct vpc_pos pos;	/* the rule's mapping */
	bool proto_set;
	int proto;		/* TOPO_PROTO_ALL or 0..255 */
	struct vpc_pos proto_pos;
	bool ports_set;
	uint16_t port_lo, port_hi;
	struct vpc_pos ports_pos;
	struct topo_uint icmp_type, icmp_code;
	enum topo_peer_kind peer_kind;	/* NONE: missing or unreadable */
	struct topo_cidr peer_cidr;
	struct topo_str peer_sg;
	struct topo_str peer_vpc;	/* {security_group:, vpc:} a peered VPC's group */
	uint32_t peer_sg_idx;	/* resolved: index in that VPC's sgs */
	uint32_t peer_vpc_idx;	/* resolved: the group's VPC when another
				 * (peered) one; VPC_INDEX_NONE: the rule's own */
};

/* A network ACL rule (network_acls' ingress and egress lists). */
struct topo_nrule {
	struct vpc_pos pos;	/* the rule's mapping */
	struct topo_uint number;	/* rule */
	bool action_set;
	bool allow;		/* action: allow (else deny) */
	struct topo_rule m;	/* protocol, ports, icmp_type/code; peer_cidr: cidr */
};

struct topo_nacl {
	struct topo_str name;
	struct vpc_pos pos;
	struct topo_str *subnets;
	uint32_t n_subnets;
	uint32_t *subnet_idx;	/* resolved (VPC_INDEX_NONE: unknown) */
	struct topo_nrule *ingress, *egress;
	uint32_t n_ingress, n_egress;
};

struct topo_sg {
	struct topo_str name;
	struct vpc_pos pos;
	bool implicit;		/* the default group, added by validation */
	bool has_ingress, has_egress;
	struct topo_rule *ingress, *egress;
	uint32_t n_ingress, n_egress;
};

enum topo_target_kind {
	TOPO_TGT_NONE,		/* missing or unreadable */
	TOPO_TGT_IGW,
	TOPO_TGT_BLACKHOLE,
	TOPO_TGT_IFACE,
	TOPO_TGT_NATGW,
	TOPO_TGT_PEERING,
};

struct topo_route {
	struct vpc_pos pos;
	struct topo_cidr dest;
	enum topo_target_kind target;
	struct vpc_pos target_pos;
	struct topo_str iface;	/* TOPO_TGT_IFACE */
	uint32_t iface_idx;	/* resolved: index in the VPC's ifaces */
	struct topo_str natgw;	/* TOPO_TGT_NATGW */
	uint32_t natgw_idx;	/* resolved: index in the VPC's natgws */
	struct topo_str peering;	/* TOPO_TGT_PEERING */
	uint32_t peering_idx;	/* resolved: index in the topology's peerings */
};

struct topo_rtable {
	struct topo_str name;
	struct vpc_pos pos;
	bool implicit;		/* the empty main table, added by validation */
	struct topo_bool main;
	struct topo_route *routes;
	uint32_t n_routes;
};

struct topo_subnet {
	struct topo_str name;
	struct vpc_pos pos;
	struct topo_cidr cidr;
	struct topo_str rtable;
	uint32_t rtable_idx;	/* resolved */
	uint32_t nacl_idx;	/* resolved: its network ACL, or VPC_INDEX_NONE */
};

struct topo_iface {
	struct topo_str name;
	struct vpc_pos pos;
	struct topo_str subnet;
	uint32_t subnet_idx;	/* resolved */
	struct topo_ip ip;
	struct topo_mac mac;	/* derived by validation when not given */
	bool mac_derived;
	bool has_sgs;
	struct vpc_pos sgs_pos;
	struct topo_str sgs[VPC_IFACE_MAX_SGS];
	uint32_t n_sgs;
	uint32_t sg_idx[VPC_IFACE_MAX_SGS];	/* resolved */
	struct topo_ip eip;
	struct topo_bool sdc;	/* source_dest_check */
	struct topo_str port;	/* defaults to name */
	bool name_dup;		/* its name repeats an earlier interface's */
	struct topo_str host;	/* the hosts: entry it runs on */
	uint32_t host_idx;	/* resolved; VPC_INDEX_NONE without hosts: */
};

/*
 * A VPC's DHCP options (dhcp_options).  The loader reads what the file
 * gives; topo_derive_dhcp() fills in the rest: the DNS servers (the VPC's
 * base address + 2 when none are given, and for each AmazonProvidedDNS)
 * and the lease time.
 */
struct topo_dhcp {
	bool has_dns;		/* domain_name_servers given and readable */
	struct topo_ip dns[VPC_DHCP_MAX_SERVERS];
	bool dns_amazon[VPC_DHCP_MAX_SERVERS];	/* AmazonProvidedDNS */
	uint32_t n_dns;
	struct topo_str domain;	/* domain_name */
	struct topo_ip ntp[VPC_DHCP_MAX_SERVERS];
	uint32_t n_ntp;
	struct topo_uint lease;	/* lease_time, seconds */
};

/* A NAT gateway (nat_gateways). */
struct topo_natgw {
	struct topo_str name;
	struct vpc_pos pos;
	struct topo_str subnet;
	uint32_t subnet_idx;	/* resolved */
	struct topo_ip eip;	/* elastic_ip */
};

/*
 * A network load balancer (load_balancers).  The loader reads what the
 * file gives, and checks what depends on the scheme alone (which keys
 * belong); validation resolves the names and checks the addresses; the
 * compiler fills in the defaults (VPC_HC_*, VPC_LB_DEREG_DEFAULT, tcp,
 * hash, the group's port, weight 1).
 */
struct topo_lb_listener {
	struct vpc_pos pos;
	struct topo_uint proto;	/* protocol: 6 or 17 */
	struct topo_uint port;
	struct topo_str tgroup;	/* target_group */
	uint32_t tgroup_idx;	/* resolved: index in the balancer's tgroups */
};

struct topo_lb_target {
	struct vpc_pos pos;
	struct topo_str iface;	/* interface */
	uint32_t iface_idx;	/* resolved: index in the VPC's ifaces */
	struct topo_uint port;	/* default: the group's */
	struct topo_uint weight;	/* default: 1 */
};

struct topo_lb_tgroup {
	struct topo_str name;
	struct vpc_pos pos;
	struct topo_uint proto;	/* protocol: 6 or 17; default 6 */
	struct topo_uint port;
	struct topo_uint algorithm;	/* enum vpc_lb_algorithm; default hash */
	struct topo_uint dereg;	/* deregistration_delay, seconds */
	struct topo_uint hc_port;	/* unset: traffic-port */
	struct topo_uint hc_interval, hc_timeout, hc_healthy, hc_unhealthy;
	struct topo_lb_target *targets;
	uint32_t n_targets;
};

struct topo_lb {
	struct topo_str name;
	struct vpc_pos pos;
	bool internal;		/* scheme: internal (default internet-facing) */
	struct topo_str subnet;	/* internal */
	uint32_t subnet_idx;	/* resolved; VPC_INDEX_NONE: internet-facing */
	struct topo_ip ip;	/* internal */
	struct topo_ip eip;	/* elastic_ip: internet-facing */
	struct topo_str sgs[VPC_LB_MAX_SGS];	/* security_groups */
	uint32_t n_sgs;
	uint32_t sg_idx[VPC_LB_MAX_SGS];	/* resolved */
	struct topo_lb_listener *listeners;
	uint32_t n_listeners;
	struct topo_lb_tgroup *tgroups;	/* target_groups */
	uint32_t n_tgroups;
};

struct topo_vpc {
	struct topo_str name;
	struct vpc_pos pos;
	struct topo_cidr cidr;
	struct topo_uint vni;	/* derived by validation when not given */
	struct topo_bool igw;
	struct topo_uint mtu;
	struct topo_uint timeouts[VPC_TO_COUNT];
	struct topo_dhcp dhcp;
	struct topo_subnet *subnets;
	struct topo_rtable *rtables;
	struct topo_sg *sgs;
	struct topo_iface *ifaces;
	struct topo_nacl *nacls;	/* network_acls */
	struct topo_natgw *natgws;	/* nat_gateways */
	struct topo_lb *lbs;		/* load_balancers */
	uint32_t n_subnets, n_rtables, n_sgs, n_ifaces, n_nacls, n_natgws, n_lbs;
	uint32_t main_rtable, default_sg;	/* resolved */
};

/* A VPC peering (peerings: at the top level). */
struct topo_peering {
	struct topo_str name;
	struct vpc_pos pos;
	struct topo_str vpcs[2];	/* the two VPCs' names, as given */
	uint32_t n_vpcs;	/* how many the file listed (2 when readable) */
	uint32_t vpc_idx[2];	/* resolved; VPC_INDEX_NONE: unknown */
	bool ok;		/* two known, distinct VPCs, a pair not peered before */
};

enum topo_port_type {
	TOPO_PORT_NONE,
	TOPO_PORT_VHOST_USER,
	TOPO_PORT_TAP,
	TOPO_PORT_AF_PACKET,
	TOPO_PORT_AF_XDP,
	TOPO_PORT_PCAP,
	TOPO_PORT_PCI,
};

struct topo_hostport {
	struct topo_str name;	/* the key in host.ports */
	struct vpc_pos pos;
	enum topo_port_type type;
	struct topo_str path, ifname, rx, tx, device;
	struct topo_bool loop;	/* pcap: replay rx forever (benchmarks) */
	/* vhost-user: vpcd connects to QEMU's socket (and reconnects) */
	struct topo_bool client;
	/* vhost-user server: the socket's owner ("USER[:GROUP]") and mode
	 * (0..0777, written in octal) */
	struct topo_str owner;
	struct topo_uint mode;
};

struct topo_host {
	bool present;
	/* An entry of hosts: (a hypervisor of a multi-host topology). */
	struct topo_str name;
	struct vpc_pos pos;
	struct topo_ip underlay_ip;
	struct topo_mac underlay_gateway_mac;	/* optional: a routed underlay */
	bool has_uplink;
	struct topo_str uplink_port;	/* defaults to "uplink" */
	struct topo_mac uplink_mac, gateway_mac;
	struct topo_hostport *ports;
	uint32_t n_ports;
};

struct topo {
	struct ydoc *doc;
	struct topo_uint version;
	struct topo_vpc *vpcs;
	uint32_t n_vpcs;
	struct topo_host host;	/* host: -- or, in a host's view, its hosts: entry */
	struct topo_peering *peerings;	/* peerings: */
	uint32_t n_peerings;
	struct topo_host *hosts;	/* hosts: */
	uint32_t n_hosts;
	bool has_hosts;
	struct vpc_pos hosts_pos;
	bool validated;
};

/* Load a file.  Returns NULL only when nothing usable could be read (the
 * reason is in d); otherwise a model, possibly with errors in d. */
struct topo *topo_load_file(const char *path, struct vpc_diag *d);
struct topo *topo_load_string(const char *text, size_t size, struct vpc_diag *d);

/* Validate and complete.  Returns the number of errors added to d. */
uint32_t topo_validate(struct topo *t, struct vpc_diag *d);

void topo_free(struct topo *t);

/* Load and validate in one call: a model with no errors, or NULL (errors
 * in d, sorted). */
struct topo *topo_load_valid(const char *path, struct vpc_diag *d);

/* Helpers shared by the loader, validator and tests. */
/* Value parsers and formatters (addr.c): 0 or -EINVAL / -ERANGE. */
int topo_parse_uint(const char *s, uint64_t max, uint64_t *out);	/* decimal, <= max */
int topo_parse_ipv4(const char *s, uint32_t *addr);
int topo_parse_cidr(const char *s, uint32_t *addr, uint8_t *len);
int topo_parse_mac(const char *s, uint8_t mac[6]);
/* "10.0.0.0/16" into buf (at least 19 bytes). */
const char *topo_fmt_cidr(char *buf, uint32_t addr, uint8_t len);
const char *topo_fmt_ip(char *buf, uint32_t addr);	/* >= 16 bytes */
const char *topo_fmt_mac(char *buf, const uint8_t mac[6]);	/* >= 18 */
bool topo_name_ok(const char *s);

/* Derived addresses (topo_derive.c): an interface's MAC when the file
 * gives none (attempt 0 first, the next attempt while the MAC is taken),
 * and a VPC router's MAC. */
void topo_derive_mac(uint8_t mac[6], uint32_t vni, uint32_t ip, uint32_t attempt);
void topo_router_mac(uint8_t mac[6], uint32_t vni);

/* Defaults used when the file has no host.uplink MACs (replay only). */
#define VPC_DEFAULT_UPLINK_MAC  { 0x02, 0xfe, 0x00, 0x00, 0x00, 0x01 }
#define VPC_DEFAULT_GATEWAY_MAC { 0x02, 0xfe, 0x00, 0x00, 0x00, 0xfe }

#endif /* VPC_TOPO_H */
