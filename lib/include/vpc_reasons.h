/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * vpc_reasons.h -- verdicts shared by every engine and tool: the actions,
 * the drop reasons and the forwarding paths.  One X-macro list each,
 * expanded into the enums and the names, so the DPDK pipeline, the BPF
 * program, vpc-replay's verdicts.jsonl and vpcctl stats all spell them the
 * same way.  Plain C, no includes: usable from BPF.
 *
 * The names are part of the user-visible contract (verdicts.jsonl
 * "reason"): add new ones at the end, never rename.
 */
#ifndef VPC_REASONS_H
#define VPC_REASONS_H

enum vpc_action {
	VPC_ACT_DROP = 0,
	VPC_ACT_FORWARD = 1,	/* out of out_port */
	VPC_ACT_REPLY = 2,	/* answered on the ingress port (ARP) */
};

/* Why a packet was dropped.  X(ENUM, "name", "what it means") */
#define VPC_DROP_REASONS(X)                                                        \
	X(UNKNOWN_PORT,      "unknown-port",       "ingress port not in the tables")      \
	X(FRAME_TRUNCATED,   "frame-truncated",    "shorter than an Ethernet header")     \
	X(VLAN_TAGGED,       "vlan-tagged",        "802.1Q/802.1ad tag on an access port") \
	X(ETHERTYPE,         "unsupported-ethertype", "neither IPv4 nor ARP")             \
	X(MULTICAST,         "multicast",          "broadcast/multicast other than ARP")  \
	X(ARP_MALFORMED,     "arp-malformed",      "not Ethernet/IPv4 ARP, or truncated") \
	X(ARP_SPOOFED,       "arp-spoofed",        "ARP sender MAC or IP not the interface's") \
	X(ARP_NOT_REQUEST,   "arp-not-request",    "ARP reply or other opcode")           \
	X(ARP_UNANSWERED,    "arp-unanswered",     "request for an address with no owner") \
	X(IP_TRUNCATED,      "ip-truncated",       "IPv4 header or total length beyond the frame") \
	X(IP_VERSION,        "ip-bad-version",     "IP version is not 4")                 \
	X(IP_IHL,            "ip-bad-ihl",         "header length below 20 bytes")        \
	X(IP_OPTIONS,        "ip-options",         "IPv4 options are not forwarded")      \
	X(IP_CHECKSUM,       "ip-bad-checksum",    "IPv4 header checksum is wrong")       \
	X(IP_FRAGMENT,       "ip-fragment",        "non-first fragment of no datagram whose first fragment was forwarded in the last 30 s") \
	X(L4_TRUNCATED,      "l4-truncated",       "TCP/UDP/ICMP header beyond the packet") \
	X(SPOOFED_MAC,       "spoofed-src-mac",    "source MAC is not the interface's")   \
	X(SPOOFED_IP,        "spoofed-src-ip",     "source IP is not the interface's")    \
	X(MTU_EXCEEDED,      "mtu-exceeded",       "IPv4 packet longer than the VPC MTU") \
	X(UNKNOWN_DST_MAC,   "unknown-dst-mac",    "no interface of this VPC has that MAC") \
	X(DST_OTHER_SUBNET,  "dst-mac-other-subnet", "switched frame to another subnet")  \
	X(HAIRPIN,           "hairpin",            "frame addressed to its own sender")   \
	X(DST_NOT_OWNER,     "dst-ip-not-owner",   "destination IP is not the receiving interface's") \
	X(NO_ROUTE,          "no-route",           "no route matches the destination")    \
	X(BLACKHOLE,         "blackhole",          "route target is blackhole")           \
	X(NO_INTERFACE,      "no-interface",       "local route, no interface owns the IP") \
	X(TTL_EXPIRED,       "ttl-expired",        "TTL would reach 0")                   \
	X(NO_ELASTIC_IP,     "no-elastic-ip",      "to the internet gateway without an elastic IP") \
	X(UPLINK_DST_MAC,    "uplink-dst-mac",     "uplink frame not for the uplink MAC") \
	X(UNKNOWN_ELASTIC_IP, "unknown-elastic-ip", "uplink packet for no elastic IP") \
	X(SG_DENIED,         "sg-denied",          "new connection not allowed by security groups") \
	X(TCP_NOT_SYN,       "tcp-not-syn",        "TCP packet of no tracked connection, not a SYN") \
	X(TCP_BAD_RST,       "tcp-bad-rst",        "TCP reset outside the receiver's window") \
	X(TCP_CLOSED,        "tcp-closed",         "packet of a connection that was reset") \
	X(CT_FULL,           "conntrack-full",     "connection table full: new connection refused") \
	X(CT_CONFLICT,       "conntrack-conflict", "reply tuple already tracked for another connection") \
	X(ICMP_UNRELATED,    "icmp-unrelated",     "ICMP error about no tracked connection, not allowed by rules") \
	X(ENGINE,            "engine-error",       "the engine could not run (XDP: slow path or tables missing)") \
	X(TX_FAILED,         "tx-failed",          "the output port took no more (a guest down, its ring full)") \
	X(DHCP_MALFORMED,    "dhcp-malformed",     "DHCP request that is not a whole BOOTREQUEST with a message type") \
	X(DHCP_SPOOFED,      "dhcp-spoofed",       "DHCP request for another MAC, or from another address") \
	X(DHCP_UNANSWERED,   "dhcp-unanswered",    "DHCP release, decline, or a message type a server does not answer") \
	X(NACL_EGRESS,       "nacl-egress",        "denied by the network ACL of the subnet it leaves") \
	X(NACL_INGRESS,      "nacl-ingress",       "denied by the network ACL of the subnet it enters") \
	X(OVERLAY_MALFORMED, "overlay-malformed",  "Geneve frame with another version, a control bit, another protocol, or cut short") \
	X(OVERLAY_UNKNOWN_HOST, "overlay-unknown-host", "Geneve frame from an address that is no host of the topology") \
	X(OVERLAY_UNKNOWN_VNI, "overlay-unknown-vni", "Geneve frame for a VNI that is no VPC's") \
	X(OVERLAY_SPOOFED,   "overlay-spoofed",    "inner source is not an interface of that VPC on the sending host") \
	X(OVERLAY_NOT_HERE,  "overlay-not-here",   "inner destination is not an interface on this host") \
	X(RX_UNUSABLE,       "rx-unusable",        "a kernel port's frame whose offload header vpcd cannot honour (segmentation other than TCP/IPv4, checksum outside the frame) or cut short") \
	X(NATGW_UNSOLICITED, "natgw-unsolicited",  "uplink packet to a NAT gateway's elastic IP that belongs to no connection it opened") \
	X(NATGW_EXHAUSTED,   "natgw-ports-exhausted", "NAT gateway: no free port for that destination (address, port, protocol); new connection refused") \
	X(NATGW_REROUTED,    "natgw-rerouted",     "packet of a connection its route now sends through a NAT gateway, or no longer through its own: a translation cannot change") \
	X(PEERING_NO_OWNER,  "peering-no-owner",   "routed to a peering, but no interface of the peer VPC owns the destination (no transit)") \
	X(LB_NO_LISTENER,    "lb-no-listener",     "to a load balancer's address, no listener for that protocol and port, and no health check's answer") \
	X(LB_NO_TARGET,      "lb-no-target",       "new connection to a listener whose target group has no target") \
	X(LB_HEALTH_ANSWER,  "lb-health-answer",   "a target's reset answering a health check: consumed by the load balancer")

enum vpc_drop_reason {
	VPC_DROP_NONE = 0,
#define VPC_X(e, n, d) VPC_DROP_##e,
	VPC_DROP_REASONS(VPC_X)
#undef VPC_X
	VPC_DROP_COUNT
};

/* How a forwarded or answered packet went.  X(ENUM, "name") */
#define VPC_PATHS(X)                          \
	X(L2_SWITCH,       "l2-switch")        \
	X(ROUTED,          "routed")           \
	X(ROUTED_APPLIANCE, "routed-appliance") \
	X(IGW_EGRESS,      "igw-egress")       \
	X(IGW_INGRESS,     "igw-ingress")      \
	X(ARP_REPLY,       "arp-reply")        \
	X(DHCP_REPLY,      "dhcp-reply")       \
	X(OVERLAY_SWITCH,  "overlay-switch")   \
	X(OVERLAY_ROUTED,  "overlay-routed")   \
	X(OVERLAY_IN,      "overlay-in")       \
	X(NATGW_EGRESS,    "natgw-egress")     \
	X(NATGW_INGRESS,   "natgw-ingress")    \
	X(PEERING,         "peering")          \
	X(LB,              "lb")               \
	X(LB_REPLY,        "lb-reply")         \
	X(LB_HEALTH,       "lb-health")

enum vpc_path {
	VPC_PATH_NONE = 0,
#define VPC_X(e, n) VPC_PATH_##e,
	VPC_PATHS(VPC_X)
#undef VPC_X
	VPC_PATH_COUNT
};

/* Connection states (dataplane/conntrack.h has their meaning).
 * X(ENUM, "name") */
#define VPC_CT_STATES(X)                      \
	X(FREE,            "free")             \
	X(TCP_SYN_SENT,    "syn-sent")         \
	X(TCP_SYN_RECV,    "syn-recv")         \
	X(TCP_ESTABLISHED, "established")      \
	X(TCP_FIN_WAIT,    "fin-wait")         \
	X(TCP_TIME_WAIT,   "time-wait")        \
	X(TCP_CLOSE,       "close")            \
	X(UDP,             "udp")              \
	X(ICMP,            "icmp")             \
	X(OTHER,           "other")            \
	X(DYING,           "dying")

enum vpc_ct_state {
#define VPC_X(e, n) VPC_CT_##e,
	VPC_CT_STATES(VPC_X)
#undef VPC_X
};

#endif /* VPC_REASONS_H */
