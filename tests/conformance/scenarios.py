"""The conformance corpus: engine-independent forwarding scenarios.

Each scenario is a topology, a sequence of input frames (port, bytes) and,
for every frame, the exact verdict and the exact bytes it must leave with.
Expected frames are built here from scratch (pkt.py), never derived from
an engine's output.  run.py replays them through an engine with
vpc-replay and compares.
"""
from pkt import (BROADCAST, arp, arp_reply, arp_request, ether, icmp, icmp_echo,
                 ip_frame, ipv4, pad60, ping_frame, tcp, tcp_frame, udp, udp_frame)

BASIC = "topo/basic.yaml"

# Addresses of topo/basic.yaml
R10 = "06:00:00:00:0a:01"          # router of VPC prod (VNI 10)
R20 = "06:00:00:00:14:01"          # router of VPC other (VNI 20)
UPLINK, GW = "02:fe:00:00:00:01", "02:fe:00:00:00:fe"
A1, A2 = "02:0a:0a:00:01:0a", "02:0a:0a:00:01:0b"
B1, B2 = "02:0a:0a:00:02:14", "02:0a:0a:00:02:c8"
FW = "02:0a:0a:00:03:05"
O1, O2 = "02:14:0a:00:01:0a", "02:14:0a:00:01:0b"
NET = "198.51.100.7"               # a host on the internet


def fwd(port, path, frame):
    return {"action": "forward", "out_port": port, "reason": path, "frame": frame}


def reply(port, frame):
    return {"action": "reply", "out_port": port, "reason": "arp-reply", "frame": frame}


def drop(reason):
    return {"action": "drop", "out_port": None, "reason": reason, "frame": None}


SCENARIOS = []


def scenario(name, steps, topo=BASIC, applies=(), args=()):
    """steps: [(in_port, frame, expectation[, time in seconds])];
    applies: [(index of the first step under the new tables, topology,
    revalidate)]; args: more vpc-replay arguments."""
    SCENARIOS.append({"name": name, "topo": topo, "steps": steps,
                      "applies": list(applies), "args": list(args)})


# ---------------------------------------------------------------- ARP

scenario("arp: gateway answered with the VPC router's MAC", [
    ("a1", arp_request(A1, "10.0.1.10", "10.0.1.1"),
     reply("a1", arp_reply(A1, R10, "10.0.1.1", A1, "10.0.1.10"))),
])
scenario("arp: same-subnet interface answered with its MAC", [
    ("a1", arp_request(A1, "10.0.1.10", "10.0.1.11"),
     reply("a1", arp_reply(A1, A2, "10.0.1.11", A1, "10.0.1.10"))),
])
scenario("arp: unicast refresh to the router is answered too", [
    ("b1", arp_request(B1, "10.0.2.20", "10.0.2.1", dst_mac=R10),
     reply("b1", arp_reply(B1, R10, "10.0.2.1", B1, "10.0.2.20"))),
])
scenario("arp: interface of another subnet is not answered", [
    ("a1", arp_request(A1, "10.0.1.10", "10.0.2.20"), drop("arp-unanswered")),
])
scenario("arp: reserved and unassigned addresses are not answered", [
    ("a1", arp_request(A1, "10.0.1.10", "10.0.1.2"), drop("arp-unanswered")),
    ("a1", arp_request(A1, "10.0.1.10", "10.0.1.3"), drop("arp-unanswered")),
    ("a1", arp_request(A1, "10.0.1.10", "10.0.1.255"), drop("arp-unanswered")),
    ("a1", arp_request(A1, "10.0.1.10", "10.0.1.99"), drop("arp-unanswered")),
    ("a1", arp_request(A1, "10.0.1.10", "10.0.1.10"), drop("arp-unanswered")),
])
scenario("arp: a guest cannot claim another's IP or MAC", [
    ("a1", arp_request(A1, "10.0.1.11", "10.0.1.1"), drop("arp-spoofed")),
    ("a1", arp_request(A1, "10.0.1.10", "10.0.1.1", sha=A2), drop("arp-spoofed")),
    ("a1", arp_request(A2, "10.0.1.10", "10.0.1.1", sha=A1), drop("arp-spoofed")),
])
scenario("arp: replies and probes from guests are not answered", [
    ("a1", arp_reply(R10, A1, "10.0.1.10", R10, "10.0.1.1"), drop("arp-not-request")),
    ("a1", arp_request(A1, "0.0.0.0", "10.0.1.10"), drop("arp-unanswered")),
])
scenario("arp: truncated or non-IPv4 ARP is malformed", [
    ("a1", arp_request(A1, "10.0.1.10", "10.0.1.1")[:30], drop("arp-malformed")),
    ("a1", ether(BROADCAST, A1, 0x0806, arp(1, A1, "10.0.1.10", "00:00:00:00:00:00", "10.0.1.1")[:2]
                 + b"\x86\xdd" + arp(1, A1, "10.0.1.10", "00:00:00:00:00:00", "10.0.1.1")[4:]),
     drop("arp-malformed")),
])
scenario("arp: padded request (60-byte frame) answered, padding kept", [
    ("a1", pad60(arp_request(A1, "10.0.1.10", "10.0.1.1")),
     reply("a1", pad60(arp_reply(A1, R10, "10.0.1.1", A1, "10.0.1.10")))),
])
scenario("arp: uplink answers for elastic IPs with the uplink MAC", [
    ("uplink", arp_request(GW, "198.51.100.1", "203.0.113.10"),
     reply("uplink", arp_reply(GW, UPLINK, "203.0.113.10", GW, "198.51.100.1"))),
    ("uplink", arp_request(GW, "198.51.100.1", "203.0.113.99"), drop("arp-unanswered")),
    ("uplink", arp_request(GW, "198.51.100.1", "10.0.1.10"), drop("arp-unanswered")),
])

# ---------------------------------------------------------------- L2

f = udp_frame(A2, A1, "10.0.1.10", "10.0.1.11", 5000, 6000)
scenario("l2: same subnet, switched unchanged", [
    ("a1", f, fwd("a2", "l2-switch", f)),
])
f1 = udp_frame(A2, A1, "10.0.1.10", "10.0.1.11", 5000, 6000, ttl=1)
scenario("l2: switching never touches the TTL (TTL 1 passes)", [
    ("a1", f1, fwd("a2", "l2-switch", f1)),
])
scenario("l2: unknown destination MAC is dropped, not flooded", [
    ("a1", udp_frame("02:0a:0a:00:01:63", A1, "10.0.1.10", "10.0.1.99", 1, 2),
     drop("unknown-dst-mac")),
])
scenario("l2: a MAC of another VPC is unknown here", [
    ("a1", udp_frame(O2, A1, "10.0.1.10", "10.0.1.11", 1, 2), drop("unknown-dst-mac")),
    ("o1", udp_frame(A2, O1, "10.0.1.10", "10.0.1.11", 1, 2), drop("unknown-dst-mac")),
])
scenario("l2: frames to another subnet's MAC are not switched", [
    ("a1", udp_frame(B1, A1, "10.0.1.10", "10.0.2.20", 1, 2), drop("dst-mac-other-subnet")),
])
scenario("l2: not delivered to an interface that is not the destination IP", [
    ("a1", udp_frame(A2, A1, "10.0.1.10", "10.0.1.99", 1, 2), drop("dst-ip-not-owner")),
])
scenario("l2: a frame to its own sender is dropped", [
    ("a1", udp_frame(A1, A1, "10.0.1.10", "10.0.1.10", 1, 2), drop("hairpin")),
])
g = udp_frame(O2, O1, "10.0.1.10", "10.0.1.11", 7, 8)
scenario("isolation: overlapping VPC switches to its own interface", [
    ("o1", g, fwd("o2", "l2-switch", g)),
])

# ---------------------------------------------------------------- routing

scenario("route: local delivery across subnets, MACs rewritten, TTL-1", [
    ("a1", tcp_frame(R10, A1, "10.0.1.10", "10.0.2.20", 40000, 80),
     fwd("b1", "routed", tcp_frame(B1, R10, "10.0.1.10", "10.0.2.20", 40000, 80, ttl=63))),
    ("b1", tcp_frame(R10, B1, "10.0.2.20", "10.0.1.10", 80, 40000, "SA"),
     fwd("a1", "routed", tcp_frame(A1, R10, "10.0.2.20", "10.0.1.10", 80, 40000, "SA", ttl=63))),
])
scenario("route: same-subnet destination via the router is routed", [
    ("a1", ping_frame(R10, A1, "10.0.1.10", "10.0.1.11"),
     fwd("a2", "routed", ping_frame(A2, R10, "10.0.1.10", "10.0.1.11", ttl=63))),
])
scenario("route: local route, nobody owns the address", [
    ("a1", ping_frame(R10, A1, "10.0.1.10", "10.0.2.99"), drop("no-interface")),
    ("a1", ping_frame(R10, A1, "10.0.1.10", "10.0.1.1"), drop("no-interface")),
    # from subnet b; from a, 10.0.2.255 falls in the appliance's /25
    ("b1", ping_frame(R10, B1, "10.0.2.20", "10.0.2.255"), drop("no-interface")),
    ("a1", ping_frame(R10, A1, "10.0.1.10", "10.0.2.255"),
     fwd("fw", "routed-appliance", ping_frame(FW, R10, "10.0.1.10", "10.0.2.255", ttl=63))),
])
scenario("route: blackhole", [
    ("a1", ping_frame(R10, A1, "10.0.1.10", "10.9.1.1"), drop("blackhole")),
])
scenario("route: no matching route in the subnet's table", [
    ("b1", ping_frame(R10, B1, "10.0.2.20", "8.8.8.8"), drop("no-route")),
])
scenario("route: more specific route to an appliance beats the local route", [
    ("a1", tcp_frame(R10, A1, "10.0.1.10", "10.0.2.200", 40000, 22),
     fwd("fw", "routed-appliance", tcp_frame(FW, R10, "10.0.1.10", "10.0.2.200", 40000, 22, ttl=63))),
    # from subnet b (main table) the same address is local
    ("b1", tcp_frame(R10, B1, "10.0.2.20", "10.0.2.200", 40000, 22),
     fwd("b2", "routed", tcp_frame(B2, R10, "10.0.2.20", "10.0.2.200", 40000, 22, ttl=63))),
])
scenario("route: appliance with source_dest_check refuses others' packets", [
    ("a1", ping_frame(R10, A1, "10.0.1.10", "192.168.50.1"), drop("dst-ip-not-owner")),
])
scenario("route: TTL 1 is dropped, TTL 2 leaves with 1", [
    ("a1", ping_frame(R10, A1, "10.0.1.10", "10.0.2.20", ttl=1), drop("ttl-expired")),
    ("a1", ping_frame(R10, A1, "10.0.1.10", "10.0.2.20", ttl=2),
     fwd("b1", "routed", ping_frame(B1, R10, "10.0.1.10", "10.0.2.20", ttl=1))),
    ("a1", ping_frame(R10, A1, "10.0.1.10", "8.8.8.8", ttl=1), drop("ttl-expired")),
])
scenario("route: a drop by route target wins over the TTL", [
    ("a1", ping_frame(R10, A1, "10.0.1.10", "10.9.0.1", ttl=1), drop("blackhole")),
])
scenario("isolation: overlapping VPC routes inside itself only", [
    ("o1", ping_frame(R20, O1, "10.0.1.10", "10.0.1.11"),
     fwd("o2", "routed", ping_frame(O2, R20, "10.0.1.10", "10.0.1.11", ttl=63))),
    ("o1", ping_frame(R20, O1, "10.0.1.10", "8.8.8.8"), drop("no-route")),
    ("o1", ping_frame(R10, O1, "10.0.1.10", "10.0.2.20"), drop("unknown-dst-mac")),
])

# ---------------------------------------------------------------- internet gateway

scenario("igw: TCP egress, source NATed to the elastic IP", [
    ("a1", tcp_frame(R10, A1, "10.0.1.10", NET, 40000, 443, seq=123456),
     fwd("uplink", "igw-egress",
         tcp_frame(GW, UPLINK, "203.0.113.10", NET, 40000, 443, seq=123456, ttl=63))),
])
scenario("igw: UDP egress with checksum", [
    ("a1", udp_frame(R10, A1, "10.0.1.10", NET, 5353, 53, b"query"),
     fwd("uplink", "igw-egress", udp_frame(GW, UPLINK, "203.0.113.10", NET, 5353, 53, b"query", ttl=63))),
])
scenario("igw: UDP egress without checksum keeps none", [
    ("a1", udp_frame(R10, A1, "10.0.1.10", NET, 5353, 53, b"q", zero_checksum=True),
     fwd("uplink", "igw-egress",
         udp_frame(GW, UPLINK, "203.0.113.10", NET, 5353, 53, b"q", ttl=63, zero_checksum=True))),
])
scenario("igw: ICMP echo keeps its identifier both ways", [
    ("a1", ping_frame(R10, A1, "10.0.1.10", NET, ident=0x1234, seq=9),
     fwd("uplink", "igw-egress", ping_frame(GW, UPLINK, "203.0.113.10", NET, ident=0x1234, seq=9, ttl=63))),
    ("uplink", ping_frame(UPLINK, GW, NET, "203.0.113.10", ident=0x1234, seq=9, reply=True),
     fwd("a1", "igw-ingress", ping_frame(A1, R10, NET, "10.0.1.10", ident=0x1234, seq=9, ttl=63, reply=True))),
])
scenario("igw: TCP ingress, destination NATed to the private IP", [
    ("uplink", tcp_frame(UPLINK, GW, NET, "203.0.113.10", 51000, 80, ttl=50),
     fwd("a1", "igw-ingress", tcp_frame(A1, R10, NET, "10.0.1.10", 51000, 80, ttl=49))),
    ("uplink", tcp_frame(UPLINK, GW, NET, "203.0.113.5", 51000, 443),
     fwd("fw", "igw-ingress", tcp_frame(FW, R10, NET, "10.0.3.5", 51000, 443, ttl=63))),
])
scenario("igw: no elastic IP, no internet", [
    ("a2", tcp_frame(R10, A2, "10.0.1.11", NET, 40000, 443), drop("no-elastic-ip")),
])
scenario("igw: unknown elastic IP on the uplink", [
    ("uplink", tcp_frame(UPLINK, GW, NET, "203.0.113.99", 1, 80), drop("unknown-elastic-ip")),
    ("uplink", tcp_frame(UPLINK, GW, NET, "10.0.1.10", 1, 80), drop("unknown-elastic-ip")),
])
scenario("igw: uplink frames for another MAC are dropped", [
    ("uplink", tcp_frame("02:fe:00:00:00:77", GW, NET, "203.0.113.10", 1, 80), drop("uplink-dst-mac")),
    ("uplink", tcp_frame(BROADCAST, GW, NET, "203.0.113.10", 1, 80), drop("multicast")),
])
scenario("igw: TTL 1 from the internet is dropped", [
    ("uplink", tcp_frame(UPLINK, GW, NET, "203.0.113.10", 1, 80, ttl=1), drop("ttl-expired")),
])
scenario("igw: appliance forwarding others' traffic gets no elastic IP", [
    ("fw", tcp_frame(R10, FW, "10.0.1.10", NET, 1, 80), drop("no-elastic-ip")),
    ("fw", tcp_frame(R10, FW, "10.0.3.5", NET, 1, 80),
     fwd("uplink", "igw-egress", tcp_frame(GW, UPLINK, "203.0.113.5", NET, 1, 80, ttl=63))),
])

# ---------------------------------------------------------------- anti-spoofing

scenario("spoof: source IP not the interface's", [
    ("a1", ping_frame(R10, A1, "10.0.1.99", "10.0.2.20"), drop("spoofed-src-ip")),
    ("a1", udp_frame(A2, A1, "10.0.1.11", "10.0.1.11", 1, 2), drop("spoofed-src-ip")),
])
scenario("spoof: source MAC not the interface's", [
    ("a1", ping_frame(R10, A2, "10.0.1.10", "10.0.2.20"), drop("spoofed-src-mac")),
])
scenario("spoof: source_dest_check off lets an appliance forward", [
    ("fw", tcp_frame(R10, FW, "10.0.1.10", "10.0.2.20", 40000, 80),
     fwd("b1", "routed", tcp_frame(B1, R10, "10.0.1.10", "10.0.2.20", 40000, 80, ttl=63))),
])

# ---------------------------------------------------------------- malformed

v4 = ping_frame(R10, A1, "10.0.1.10", "10.0.2.20")
scenario("malformed: shorter than an Ethernet header", [
    ("a1", v4[:10], drop("frame-truncated")),
    ("a1", b"", drop("frame-truncated")),
])
scenario("malformed: IPv4 header beyond the frame", [
    ("a1", v4[:14 + 12], drop("ip-truncated")),
])
scenario("malformed: total length beyond the frame", [
    ("a1", ip_frame(R10, A1, "10.0.1.10", "10.0.2.20", 1, icmp_echo(1, 1), total_length=200),
     drop("ip-truncated")),
    ("a1", ip_frame(R10, A1, "10.0.1.10", "10.0.2.20", 1, icmp_echo(1, 1), total_length=12),
     drop("ip-truncated")),
])
scenario("malformed: bad version, bad IHL, options", [
    ("a1", ip_frame(R10, A1, "10.0.1.10", "10.0.2.20", 1, icmp_echo(1, 1), version=6), drop("ip-bad-version")),
    ("a1", ip_frame(R10, A1, "10.0.1.10", "10.0.2.20", 1, icmp_echo(1, 1), ihl=4), drop("ip-bad-ihl")),
    ("a1", ip_frame(R10, A1, "10.0.1.10", "10.0.2.20", 1, icmp_echo(1, 1), options=b"\x01\x01\x01\x00"),
     drop("ip-options")),
])
scenario("malformed: bad IPv4 header checksum", [
    ("a1", ip_frame(R10, A1, "10.0.1.10", "10.0.2.20", 1, icmp_echo(1, 1), bad_checksum=True),
     drop("ip-bad-checksum")),
])
scenario("fragments: a later fragment alone is dropped, a first one forwarded", [
    ("a1", ip_frame(R10, A1, "10.0.1.10", "10.0.2.20", 17, b"\x00" * 16, flags_frag=0x0002),
     drop("ip-fragment")),
    ("a1", ip_frame(R10, A1, "10.0.1.10", "10.0.2.20", 17, udp("10.0.1.10", "10.0.2.20", 9, 9, b"x" * 8),
                    flags_frag=0x2000),
     fwd("b1", "routed", ip_frame(B1, R10, "10.0.1.10", "10.0.2.20", 17,
                                  udp("10.0.1.10", "10.0.2.20", 9, 9, b"x" * 8), flags_frag=0x2000, ttl=63))),
])
# A UDP datagram of 64 bytes cut after 40 (5 units of 8): its first
# fragment carries the UDP header (length 64), the later one the rest.
DGRAM = bytes(range(56))


def frag_pair(dst_mac, src_mac, src, dst, ident=77, ttl=64, udp_src=None):
    """(first, later) fragments of DGRAM's UDP datagram; udp_src: the source
    address its UDP checksum covers (after a translation)"""
    seg = udp(udp_src or src, dst, 4000, 9, DGRAM)
    return (ip_frame(dst_mac, src_mac, src, dst, 17, seg[:40], ident=ident, flags_frag=0x2000, ttl=ttl),
            ip_frame(dst_mac, src_mac, src, dst, 17, seg[40:], ident=ident, flags_frag=5, ttl=ttl))


scenario("fragments: a later fragment follows its first (routed)", [
    ("a1", frag_pair(R10, A1, "10.0.1.10", "10.0.2.20")[0],
     fwd("b1", "routed", frag_pair(B1, R10, "10.0.1.10", "10.0.2.20", ttl=63)[0])),
    ("a1", frag_pair(R10, A1, "10.0.1.10", "10.0.2.20")[1],
     fwd("b1", "routed", frag_pair(B1, R10, "10.0.1.10", "10.0.2.20", ttl=63)[1])),
])
scenario("fragments: through the elastic IP, the later one's source translated too", [
    ("a1", frag_pair(R10, A1, "10.0.1.10", NET)[0],
     fwd("uplink", "igw-egress", frag_pair(GW, UPLINK, "203.0.113.10", NET, ttl=63)[0])),
    ("a1", frag_pair(R10, A1, "10.0.1.10", NET)[1],
     fwd("uplink", "igw-egress", frag_pair(GW, UPLINK, "203.0.113.10", NET, ttl=63)[1])),
])
scenario("fragments: another datagram's, or 31 s late: dropped", [
    ("a1", frag_pair(R10, A1, "10.0.1.10", "10.0.2.20")[0],
     fwd("b1", "routed", frag_pair(B1, R10, "10.0.1.10", "10.0.2.20", ttl=63)[0]), 1),
    ("a1", frag_pair(R10, A1, "10.0.1.10", "10.0.2.20", ident=78)[1], drop("ip-fragment"), 2),
    ("a2", frag_pair(R10, A2, "10.0.1.11", "10.0.2.20")[1], drop("ip-fragment"), 3),
    ("a1", frag_pair(R10, A1, "10.0.1.10", "10.0.2.20")[1], drop("ip-fragment"), 32),
])
scenario("fragments: a first fragment the groups refuse takes its later ones along", [
    ("uplink", frag_pair(UPLINK, GW, NET, "203.0.113.10")[0], drop("sg-denied")),
    ("uplink", frag_pair(UPLINK, GW, NET, "203.0.113.10")[1], drop("ip-fragment")),
])

scenario("malformed: L4 header beyond the packet", [
    ("a1", ip_frame(R10, A1, "10.0.1.10", "10.0.2.20", 6, b"\x00" * 10), drop("l4-truncated")),
    ("a1", ip_frame(R10, A1, "10.0.1.10", "10.0.2.20", 17, b"\x00" * 4), drop("l4-truncated")),
    ("a1", ip_frame(R10, A1, "10.0.1.10", "10.0.2.20", 1, b"\x08\x00"), drop("l4-truncated")),
    ("a1", ip_frame(R10, A1, "10.0.1.10", "10.0.2.20", 17, b"\x00\x01\x00\x02\x00\x30\x00\x00"),
     drop("l4-truncated")),
])
scenario("malformed: VLAN tag on an access port", [
    ("a1", ether(R10, A1, 0x8100, b"\x00\x05\x08\x00" + ipv4("10.0.1.10", "10.0.2.20", 1, icmp_echo(1, 1))),
     drop("vlan-tagged")),
])
scenario("malformed: unsupported ethertype (IPv6)", [
    ("a1", ether(R10, A1, 0x86DD, b"\x60" + b"\x00" * 39), drop("unsupported-ethertype")),
])
scenario("multicast: broadcast and multicast other than ARP and DHCP are dropped", [
    ("a1", udp_frame(BROADCAST, A1, "10.0.1.10", "255.255.255.255", 68, 69), drop("multicast")),
    ("a1", udp_frame(BROADCAST, A1, "10.0.1.10", "255.255.255.255", 67, 67), drop("multicast")),
    # to the DHCP server, but not a DHCP message (scenarios_dhcp.py has them)
    ("a1", udp_frame(BROADCAST, A1, "10.0.1.10", "255.255.255.255", 68, 67), drop("dhcp-malformed")),
    ("a1", udp_frame("01:00:5e:00:00:05", A1, "10.0.1.10", "224.0.0.5", 1, 2), drop("multicast")),
    ("a1", udp_frame(R10, A1, "10.0.1.10", "224.0.0.5", 1, 2), drop("multicast")),
])
scenario("mtu: packets longer than the VPC MTU are dropped", [
    ("a1", udp_frame(R10, A1, "10.0.1.10", "10.0.2.20", 1, 2, b"x" * 1473), drop("mtu-exceeded")),
    ("a1", udp_frame(R10, A1, "10.0.1.10", "10.0.2.20", 1, 2, b"x" * 1472),
     fwd("b1", "routed", udp_frame(B1, R10, "10.0.1.10", "10.0.2.20", 1, 2, b"x" * 1472, ttl=63))),
])
scenario("padding: a minimum-size frame keeps its padding", [
    ("a1", pad60(udp_frame(R10, A1, "10.0.1.10", "10.0.2.20", 1, 2, b"hi")),
     fwd("b1", "routed", pad60(udp_frame(B1, R10, "10.0.1.10", "10.0.2.20", 1, 2, b"hi", ttl=63)))),
])

# ---------------------------------------------------------------- the default topology

scenario("default topology: web-1 to the internet and back", [
    ("web-1", tcp_frame("06:00:00:00:64:01", "02:64:0a:00:01:0a", "10.0.1.10", NET, 40000, 443),
     fwd("uplink", "igw-egress", tcp_frame(GW, UPLINK, "203.0.113.10", NET, 40000, 443, ttl=63))),
    ("uplink", tcp_frame(UPLINK, GW, NET, "203.0.113.10", 443, 40000, "SA"),
     fwd("web-1", "igw-ingress",
         tcp_frame("02:64:0a:00:01:0a", "06:00:00:00:64:01", NET, "10.0.1.10", 443, 40000, "SA", ttl=63))),
    ("db-1", tcp_frame("06:00:00:00:64:01", "02:64:0a:00:02:14", "10.0.2.20", NET, 40000, 443),
     drop("no-route")),
], topo="../../config/default.yaml")


# Security groups and connection tracking (topo/sg.yaml).
import scenarios_sg  # noqa: E402
SCENARIOS.extend(scenarios_sg.SCENARIOS)
import scenarios_dhcp  # noqa: E402
SCENARIOS.extend(scenarios_dhcp.SCENARIOS)
# Network ACLs (topo/nacl.yaml).
import scenarios_nacl  # noqa: E402
SCENARIOS.extend(scenarios_nacl.SCENARIOS)
# The overlay between hosts (topo/overlay.yaml, hosts:).
import scenarios_overlay  # noqa: E402
SCENARIOS.extend(scenarios_overlay.SCENARIOS)
import scenarios_natgw  # noqa: E402
SCENARIOS.extend(scenarios_natgw.SCENARIOS)
import scenarios_lb  # noqa: E402
SCENARIOS.extend(scenarios_lb.SCENARIOS)
import scenarios_peering  # noqa: E402
SCENARIOS.extend(scenarios_peering.SCENARIOS)
