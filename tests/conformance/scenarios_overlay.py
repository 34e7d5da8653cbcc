"""The overlay between hosts (Geneve, RFC 8926): scenarios on topo/overlay.yaml.

Imported by scenarios.py into the one corpus.  Each scenario replays one
host's view (vpc-replay --host NAME).  The outer headers are built here
from RFC 8926 and the topology: outer Ethernet to the destination host's
uplink MAC (or this host's underlay gateway), IPv4 from this host's
underlay address to the other's (DF, TTL 64, identifier 0), UDP to 6081
with checksum 0 and a source port from the inner flow's hash (computed
here the way docs/topology.md gives it), Geneve version 0 with no options,
protocol 0x6558 and the VPC's VNI.
"""
import struct

from pkt import arp_reply, arp_request, ether, ip_frame, ipv4, tcp_frame, udp, udp_frame

OVERLAY = "topo/overlay.yaml"

R = "06:00:00:00:0a:01"          # VPC prod's router (VNI 10)
UP = {"hv1": "02:fe:00:00:01:01", "hv2": "02:fe:00:00:02:01", "hv3": "02:fe:00:00:03:01"}
GW = {"hv1": "02:fe:00:00:01:fe", "hv2": "02:fe:00:00:02:fe", "hv3": "02:fe:00:00:03:fe"}
UNDERLAY = {"hv1": "192.0.2.1", "hv2": "192.0.2.2", "hv3": "192.0.2.3"}
MAC = {"a1": "02:0a:0a:00:01:0a", "c1": "02:0a:0a:00:01:0c", "a2": "02:0a:0a:00:01:0b",
       "b1": "02:0a:0a:00:02:14", "b3": "02:0a:0a:00:02:1e",
       "o1": "02:14:0a:00:01:0a", "o2": "02:14:0a:00:01:0b"}
IP = {"a1": "10.0.1.10", "c1": "10.0.1.12", "a2": "10.0.1.11", "b1": "10.0.2.20",
      "b3": "10.0.2.30", "o1": "10.0.1.10", "o2": "10.0.1.11"}
NET = "203.0.113.50"


def _u32(b):
    return int.from_bytes(b, "little")


def sport_of(inner):
    """The outer UDP source port of an inner Ethernet/IPv4 frame: the hash
    of its addresses, ports and protocol as the engines load them (32-bit
    little-endian loads of network-order bytes), in 49152..65535."""
    ip = inner[14:]
    ihl = (ip[0] & 15) * 4
    proto = ip[9]
    m = 0xffffffff
    h = (_u32(ip[12:16]) * 0x9e3779b1) & m
    h ^= (_u32(ip[16:20]) + 0x7f4a7c15 + (h << 6) + (h >> 2)) & m
    frag = struct.unpack("!H", ip[6:8])[0] & 0x3fff
    if frag == 0 and proto in (6, 17):
        sp = int.from_bytes(ip[ihl:ihl + 2], "little")
        dp = int.from_bytes(ip[ihl + 2:ihl + 4], "little")
        h ^= (((sp << 16) | dp) + (h << 6) + (h >> 2)) & m
    h ^= proto
    h ^= h >> 16
    h = (h * 0x85ebca6b) & m
    h ^= h >> 13
    return 0xc000 | (h & 0x3fff)


def geneve(src_host, dst_host, inner, vni=10, next_hop=None, sport=None, opt=b"",
           first=0x00, flags=0x00, proto=0x6558, outer_src=None):
    """inner as src_host's dataplane sends it to dst_host."""
    g = bytes([first | (len(opt) // 4), flags]) + struct.pack("!H", proto) + \
        vni.to_bytes(3, "big") + b"\0" + opt + inner
    src = outer_src or UNDERLAY[src_host]
    dst = UNDERLAY[dst_host]
    u = udp(src, dst, sport if sport is not None else sport_of(inner), 6081, g, zero_checksum=True)
    return ether(next_hop or UP[dst_host], UP[src_host], 0x0800,
                 ipv4(src, dst, 17, u, ttl=64, ident=0, flags_frag=0x4000))


def fwd(port, path, frame):
    return {"action": "forward", "out_port": port, "reason": path, "frame": frame}


def drop(reason):
    return {"action": "drop", "out_port": None, "reason": reason, "frame": None}


def over(a, b):
    """The path of a frame from a to b on another host."""
    same = IP[a].rsplit(".", 2)[1] == IP[b].rsplit(".", 2)[1]
    return "overlay-switch" if same else "overlay-routed"


def vm_tcp(a, b, sp, dp, flags="S"):
    """a -> b as a sends it, and as b receives it (routed across subnets)."""
    if IP[a].rsplit(".", 2)[1] == IP[b].rsplit(".", 2)[1]:
        f = tcp_frame(MAC[b], MAC[a], IP[a], IP[b], sp, dp, flags)
        return f, f
    return (tcp_frame(R, MAC[a], IP[a], IP[b], sp, dp, flags),
            tcp_frame(MAC[b], R, IP[a], IP[b], sp, dp, flags, ttl=63))


SCENARIOS = []


def scenario(name, steps, host="hv1"):
    SCENARIOS.append({"name": "overlay: " + name, "topo": OVERLAY, "steps": steps,
                      "args": ["--host", host]})


# ---- encapsulation: to an interface on another host ----

sent, got = vm_tcp("a1", "a2", 40000, 80)
scenario("switched in a subnet to another host: Geneve to its uplink, the frame unchanged", [
    ("a1", sent, fwd("uplink", over("a1", "a2"), geneve("hv1", "hv2", got))),
])
sent, got = vm_tcp("a1", "b1", 40001, 5432)
back_in, back = vm_tcp("b1", "a1", 5432, 40001, "SA")
scenario("routed to another host: the receiver's MAC, the router's, TTL 63; the reply "
         "comes back with no reverse rule", [
    ("a1", sent, fwd("uplink", over("b1", "a1"), geneve("hv1", "hv2", got))),
    ("uplink", geneve("hv2", "hv1", back), fwd("a1", "overlay-in", back)),
    ("a1", vm_tcp("a1", "b1", 40001, 5432, "A")[0],
     fwd("uplink", over("a1", "b1"), geneve("hv1", "hv2", vm_tcp("a1", "b1", 40001, 5432, "A")[1]))),
])
sent, got = vm_tcp("a1", "b1", 40002, 9999)
scenario("the receiver's ingress rules are its host's: hv1 sends b1 a port b1's group "
         "refuses", [
    ("a1", sent, fwd("uplink", over("a1", "b1"), geneve("hv1", "hv2", got))),
])
scenario("the sender's egress rules are its host's: c1 may only send to 443", [
    ("c1", vm_tcp("c1", "a2", 40003, 80)[0], drop("sg-denied")),
    ("c1", vm_tcp("c1", "a2", 40004, 443)[0],
     fwd("uplink", over("c1", "a2"), geneve("hv1", "hv2", vm_tcp("c1", "a2", 40004, 443)[1]))),
])
sent, got = vm_tcp("a1", "b3", 40005, 22)
scenario("through an underlay gateway: hv3's view sends every host's frames to it", [
    ("uplink", geneve("hv1", "hv3", got),
     fwd("b3", "overlay-in", got)),
    ("b3", vm_tcp("b3", "a1", 22, 40005, "SA")[0],
     fwd("uplink", over("b3", "a1"),
         geneve("hv3", "hv1", vm_tcp("b3", "a1", 22, 40005, "SA")[1], next_hop=GW["hv3"]))),
], host="hv3")
scenario("flows spread: the outer source port follows the inner flow", [
    ("a1", vm_tcp("a1", "a2", 41000 + k, 80)[0],
     fwd("uplink", over("a1", "a2"), geneve("hv1", "hv2", vm_tcp("a1", "a2", 41000 + k, 80)[1])))
    for k in range(4)
])
scenario("VPC isolation: the other VPC's o1 reaches o2 with its own VNI", [
    ("o1", vm_tcp("o1", "o2", 40006, 80)[0],
     fwd("uplink", over("o1", "o2"), geneve("hv1", "hv2", vm_tcp("o1", "o2", 40006, 80)[1], vni=20))),
])
scenario("ARP for an interface on another host is answered here", [
    ("a1", arp_request(MAC["a1"], IP["a1"], IP["a2"]),
     {"action": "reply", "out_port": "a1", "reason": "arp-reply",
      "frame": arp_reply(MAC["a1"], MAC["a2"], IP["a2"], MAC["a1"], IP["a1"])}),
])
scenario("elastic IPs stay on their interface's host: a2's is not hv1's", [
    ("uplink", tcp_frame(UP["hv1"], GW["hv1"], NET, "198.51.100.11", 443, 40000),
     drop("unknown-elastic-ip")),
    ("uplink", tcp_frame(UP["hv1"], GW["hv1"], NET, "198.51.100.10", 443, 80),
     fwd("a1", "igw-ingress", tcp_frame(MAC["a1"], R, NET, IP["a1"], 443, 80, ttl=63))),
])


def frags(dst_mac, src_mac, src, dst, ttl=64, ident=91):
    """(first, later) fragments of a 64-byte UDP datagram cut after 40."""
    seg = udp(src, dst, 4000, 9, bytes(range(56)))
    return (ip_frame(dst_mac, src_mac, src, dst, 17, seg[:40], ident=ident, flags_frag=0x2000, ttl=ttl),
            ip_frame(dst_mac, src_mac, src, dst, 17, seg[40:], ident=ident, flags_frag=5, ttl=ttl))


sent = frags(R, MAC["a1"], IP["a1"], IP["b1"])
got = frags(MAC["b1"], R, IP["a1"], IP["b1"], ttl=63)
scenario("fragments to another host: the later one follows its first into the tunnel, "
         "both on one outer source port", [
    ("a1", sent[0], fwd("uplink", over("a1", "b1"), geneve("hv1", "hv2", got[0]))),
    ("a1", sent[1], fwd("uplink", over("a1", "b1"), geneve("hv1", "hv2", got[1]))),
])
back = frags(MAC["a1"], R, IP["b3"], IP["a1"], ttl=63)
denied = frags(MAC["a1"], R, IP["b1"], IP["a1"], ttl=63, ident=92)
scenario("fragments from another host: the later one follows its first out of the tunnel "
         "(b3's, in a1's default group), or is dropped with it (b1's, which a1 refuses)", [
    ("uplink", geneve("hv3", "hv1", back[0]), fwd("a1", "overlay-in", back[0])),
    ("uplink", geneve("hv3", "hv1", back[1]), fwd("a1", "overlay-in", back[1])),
    ("uplink", geneve("hv2", "hv1", denied[0]), drop("sg-denied")),
    ("uplink", geneve("hv2", "hv1", denied[1]), drop("ip-fragment")),
])

scenario("network ACLs: the receiving host applies both subnets' (it knows the "
         "receiver's); traffic that stays in its subnet meets none", [
    # hv1 sends: a1 -> a2 (subnet a to a) and a1 -> b1 (a's egress denies
    # 7000, but that is hv2's to apply)
    ("a1", vm_tcp("a1", "a2", 40020, 7000)[0],
     fwd("uplink", over("a1", "a2"), geneve("hv1", "hv2", vm_tcp("a1", "a2", 40020, 7000)[1]))),
    ("a1", vm_tcp("a1", "b1", 40021, 7000)[0],
     fwd("uplink", over("a1", "b1"), geneve("hv1", "hv2", vm_tcp("a1", "b1", 40021, 7000)[1]))),
    # hv1 receives: a's ingress denies 6000 from b (b3), not from a (a2)
    ("uplink", geneve("hv3", "hv1", vm_tcp("b3", "a1", 40022, 6000)[1]), drop("nacl-ingress")),
    ("uplink", geneve("hv2", "hv1", vm_tcp("a2", "a1", 40023, 6000)[1]),
     fwd("a1", "overlay-in", vm_tcp("a2", "a1", 40023, 6000)[1])),
    # b's egress denies UDP 9999: applied here, where b3's frame arrives
    ("uplink", geneve("hv3", "hv1", udp_frame(MAC["a1"], R, IP["b3"], IP["a1"], 5, 9999, ttl=63)),
     drop("nacl-egress")),
])

# ---- decapsulation: what a host accepts from the overlay ----

sent, got = vm_tcp("a2", "a1", 40010, 80)
scenario("from another host: to a1, its ingress rules applied here (b1 may not open 22)", [
    ("uplink", geneve("hv2", "hv1", got), fwd("a1", "overlay-in", got)),
    ("uplink", geneve("hv2", "hv1", vm_tcp("b1", "a1", 40011, 22)[1]), drop("sg-denied")),
])
scenario("refused: from an address that is no host", [
    ("uplink", geneve("hv2", "hv1", got, outer_src="192.0.2.99"), drop("overlay-unknown-host")),
])
scenario("refused: a VNI that is no VPC's", [
    ("uplink", geneve("hv2", "hv1", got, vni=77), drop("overlay-unknown-vni")),
])
scenario("refused: a host speaking for a VM it does not run (hv3 claims a2)", [
    ("uplink", geneve("hv3", "hv1", got), drop("overlay-spoofed")),
])
scenario("refused: an inner source IP not its interface's", [
    ("uplink", geneve("hv2", "hv1", tcp_frame(MAC["a1"], MAC["a2"], "10.0.1.99", IP["a1"], 1, 80)),
     drop("overlay-spoofed")),
])
scenario("refused: an inner source MAC of no interface of that VPC", [
    ("uplink", geneve("hv2", "hv1", tcp_frame(MAC["a1"], MAC["o2"], IP["a2"], IP["a1"], 1, 80)),
     drop("overlay-spoofed")),
])
scenario("routed frames (the router's MAC): from the host of the source address's "
         "interface, or from a host that runs an appliance (fw on hv2)", [
    ("uplink", geneve("hv2", "hv1", tcp_frame(MAC["a1"], R, "192.168.7.7", IP["a1"], 7, 80, ttl=63)),
     fwd("a1", "overlay-in", tcp_frame(MAC["a1"], R, "192.168.7.7", IP["a1"], 7, 80, ttl=63))),
    ("uplink", geneve("hv3", "hv1", tcp_frame(MAC["a1"], R, "192.168.7.7", IP["a1"], 8, 80, ttl=63)),
     drop("overlay-spoofed")),
    ("uplink", geneve("hv3", "hv1", tcp_frame(MAC["a1"], R, IP["b1"], IP["a1"], 9, 80, ttl=63)),
     drop("overlay-spoofed")),
])
scenario("refused: an inner destination on another host", [
    ("uplink", geneve("hv2", "hv1", tcp_frame(MAC["b3"], MAC["a2"], IP["a2"], IP["b3"], 1, 80)),
     drop("overlay-not-here")),
])
scenario("refused: Geneve version 1, a control frame, another protocol, cut short", [
    ("uplink", geneve("hv2", "hv1", got, first=0x40), drop("overlay-malformed")),
    ("uplink", geneve("hv2", "hv1", got, flags=0x80), drop("overlay-malformed")),
    ("uplink", geneve("hv2", "hv1", got, proto=0x0800), drop("overlay-malformed")),
    ("uplink", geneve("hv2", "hv1", got)[:14 + 20 + 8 + 8 + 10], drop("ip-truncated")),
])
scenario("options are skipped by their length", [
    ("uplink", geneve("hv2", "hv1", got, opt=bytes(8)), fwd("a1", "overlay-in", got)),
])
scenario("refused: ARP inside the overlay (each host answers its own)", [
    ("uplink", geneve("hv2", "hv1", arp_request(MAC["a2"], IP["a2"], IP["a1"])),
     drop("overlay-malformed")),
])

# A hosts: topology of one host: no other host, so its Geneve frames come
# from no host (once a segmentation fault in the DPDK engine, whose
# underlay map was not built without other hosts).
SCENARIOS.append({"name": "overlay: one host alone refuses every Geneve frame", "topo": "topo/overlay-one.yaml",
                  "args": ["--host", "hv1"], "steps": [
    ("uplink", geneve("hv2", "hv1", tcp_frame(MAC["a1"], MAC["a2"], IP["a2"], IP["a1"], 1, 80)),
     drop("overlay-unknown-host")),
]})
