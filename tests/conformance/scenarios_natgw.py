"""NAT gateways: scenarios on topo/natgw.yaml (and topo/natgw-acl.yaml).

Imported by scenarios.py into the one corpus.  The port a connection gets
through the gateway is computed here the way common/vpc_natgw.h chooses
it (natgw_port), so every expected frame is exact.
"""
import struct

from pkt import icmp, icmp_echo, ip_bytes, ip_frame, ipv4, tcp_frame, udp, udp_frame

NG = "topo/natgw.yaml"
NG_ACL = "topo/natgw-acl.yaml"

R = "06:00:00:00:32:01"
UPLINK, GW = "02:fe:00:00:00:01", "02:fe:00:00:00:fe"
MAC = {"p1": "02:32:0a:03:01:0a", "p2": "02:32:0a:03:01:0b", "w1": "02:32:0a:03:00:0a"}
IP = {"p1": "10.3.1.10", "p2": "10.3.1.11", "w1": "10.3.0.10"}
VNI = 50
NAT = "198.51.100.50"      # nat-a's elastic IP
W1_EIP = "198.51.100.10"
NET = "203.0.113.50"
ROUTER = "203.0.113.1"     # an internet router that sends ICMP errors


# ---- the port choice of common/vpc_natgw.h ----

M32 = 0xffffffff


def _mix(h):
    h ^= h >> 16
    h = (h * 0x85ebca6b) & M32
    h ^= h >> 13
    h = (h * 0xc2b2ae35) & M32
    h ^= h >> 16
    return h


def _le32(addr):
    return int.from_bytes(ip_bytes(addr), "little")


def _le16(port):
    return int.from_bytes(struct.pack("!H", port), "little")


def natgw_port(proto, src, dst, sport, dport_field, attempt):
    """Candidate `attempt` for the connection key (VNI 50, proto, src, dst,
    sport, dport_field), as a port number, or None.  dport_field: the
    key's dport as a number in network order (an ICMP query's: type << 8 |
    code)."""
    if attempt == 0:
        return sport if sport >= 1024 else None
    ctx_proto = VNI << 8 | proto
    h1 = _mix(_le32(src) ^ _mix(_le32(dst) ^ _mix(((_le16(sport) << 16) ^ _le16(dport_field)
                                                     ^ ctx_proto) & M32)))
    h2 = _mix(h1 ^ 0x9e3779b9) | 1
    p = (h1 + (attempt - 1) * h2) & 0xffff
    return p if p >= 1024 else None


def first_free(proto, src, dst, sport, dport_field, taken=()):
    for i in range(256):
        p = natgw_port(proto, src, dst, sport, dport_field, i)
        if p is not None and p not in taken:
            return p
    raise AssertionError("no port")


# ---- frames and verdicts ----

def fwd(port, path, frame):
    return {"action": "forward", "out_port": port, "reason": path, "frame": frame}


def drop(reason):
    return {"action": "drop", "out_port": None, "reason": reason, "frame": None}


def out_tcp(vm, sport, dport, nport, flags="S", **kw):
    """vm -> the internet through nat-a: (in frame, expectation)"""
    return (vm, tcp_frame(R, MAC[vm], IP[vm], NET, sport, dport, flags, **kw),
            fwd("uplink", "natgw-egress",
                tcp_frame(GW, UPLINK, NAT, NET, nport, dport, flags, ttl=63, **kw)))


def in_tcp(vm, sport, dport, nport, flags="SA", **kw):
    """the internet's reply to nat-a's port nport -> vm's port dport"""
    return ("uplink", tcp_frame(UPLINK, GW, NET, NAT, sport, nport, flags, **kw),
            fwd(vm, "natgw-ingress",
                tcp_frame(MAC[vm], R, NET, IP[vm], sport, dport, flags, ttl=63, **kw)))


SCENARIOS = []


def scenario(name, steps, topo=NG, args=()):
    SCENARIOS.append({"name": "natgw: " + name, "topo": topo, "steps": steps,
                      "applies": [], "args": list(args)})


scenario("TCP out keeps its own port, the reply comes back, established both ways", [
    out_tcp("p1", 40000, 443, 40000),
    in_tcp("p1", 443, 40000, 40000, flags="SA", seq=5000, ack=1001),
    out_tcp("p1", 40000, 443, 40000, flags="A", seq=1001, ack=5001),
    in_tcp("p1", 443, 40000, 40000, flags="A", seq=5001, ack=1001, payload=b"hello"),
])

# p2 asks for the same port to the same destination: the next candidate.
P2_443 = first_free(6, IP["p2"], NET, 40000, 443, taken={40000})
scenario("the same source port from two interfaces to one destination: distinct ports", [
    out_tcp("p1", 40000, 443, 40000),
    out_tcp("p2", 40000, 443, P2_443),
    in_tcp("p2", 443, 40000, P2_443, seq=7000, ack=1001),
    in_tcp("p1", 443, 40000, 40000, seq=5000, ack=1001),
    # to another destination port the same source port is free again
    out_tcp("p2", 40000, 80, 40000),
])

scenario("the internet cannot open a connection through a NAT gateway", [
    ("uplink", tcp_frame(UPLINK, GW, NET, NAT, 443, 40000, "S"), drop("natgw-unsolicited")),
    out_tcp("p1", 40000, 443, 40000),
    # a port nobody was given, and a reply from another address
    ("uplink", tcp_frame(UPLINK, GW, NET, NAT, 443, 40001, "SA", seq=5000, ack=1001),
     drop("natgw-unsolicited")),
    ("uplink", tcp_frame(UPLINK, GW, "203.0.113.51", NAT, 443, 40000, "SA", seq=5000, ack=1001),
     drop("natgw-unsolicited")),
    in_tcp("p1", 443, 40000, 40000, seq=5000, ack=1001),
])

# UDP, from a low port (< 1024: never given out) and a high one.
U_LOW = first_free(17, IP["p1"], NET, 123, 123)
scenario("UDP: a port below 1024 is translated, a high one kept; replies back", [
    ("p1", udp_frame(R, MAC["p1"], IP["p1"], NET, 123, 123, b"ntp?"),
     fwd("uplink", "natgw-egress", udp_frame(GW, UPLINK, NAT, NET, U_LOW, 123, b"ntp?", ttl=63))),
    ("uplink", udp_frame(UPLINK, GW, NET, NAT, 123, U_LOW, b"ntp!"),
     fwd("p1", "natgw-ingress", udp_frame(MAC["p1"], R, NET, IP["p1"], 123, 123, b"ntp!", ttl=63))),
    ("p1", udp_frame(R, MAC["p1"], IP["p1"], NET, 5353, 53, b"q"),
     fwd("uplink", "natgw-egress", udp_frame(GW, UPLINK, NAT, NET, 5353, 53, b"q", ttl=63))),
    ("uplink", udp_frame(UPLINK, GW, NET, NAT, 53, 5353, b"a"),
     fwd("p1", "natgw-ingress", udp_frame(MAC["p1"], R, NET, IP["p1"], 53, 5353, b"a", ttl=63))),
])

# ICMP echo: identifier 7 (< 1024) gets a port-like identifier.
ID7 = first_free(1, IP["p1"], NET, 7, 8 << 8 | 0)
scenario("ICMP echo: the identifier translated and back", [
    ("p1", ip_frame(R, MAC["p1"], IP["p1"], NET, 1, icmp_echo(7, 1)),
     fwd("uplink", "natgw-egress", ip_frame(GW, UPLINK, NAT, NET, 1, icmp_echo(ID7, 1), ttl=63))),
    ("uplink", ip_frame(UPLINK, GW, NET, NAT, 1, icmp_echo(ID7, 1, reply=True)),
     fwd("p1", "natgw-ingress",
         ip_frame(MAC["p1"], R, NET, IP["p1"], 1, icmp_echo(7, 1, reply=True), ttl=63))),
    # a reply for an identifier nobody was given
    ("uplink", ip_frame(UPLINK, GW, NET, NAT, 1, icmp_echo(ID7 ^ 1, 1, reply=True)),
     drop("natgw-unsolicited")),
])


def quote(src, dst, sport, dport, payload=b"q", ttl=63):
    """The first 28 bytes of a UDP packet, as an ICMP error quotes it."""
    return ipv4(src, dst, 17, udp(src, dst, sport, dport, payload), ttl=ttl)[:28]


# An error about p2's translated UDP flow (port U2 on the gateway): the
# quote is translated back to p2's address and port.
U2 = first_free(17, IP["p2"], NET, 5353, 53, taken={5353})
scenario("ICMP errors about a translated flow: translated back, quote included", [
    ("p1", udp_frame(R, MAC["p1"], IP["p1"], NET, 5353, 53, b"q"),
     fwd("uplink", "natgw-egress", udp_frame(GW, UPLINK, NAT, NET, 5353, 53, b"q", ttl=63))),
    ("p2", udp_frame(R, MAC["p2"], IP["p2"], NET, 5353, 53, b"q"),
     fwd("uplink", "natgw-egress", udp_frame(GW, UPLINK, NAT, NET, U2, 53, b"q", ttl=63))),
    ("uplink", ip_frame(UPLINK, GW, ROUTER, NAT, 1, icmp(3, 3, payload=quote(NAT, NET, U2, 53))),
     fwd("p2", "natgw-ingress",
         ip_frame(MAC["p2"], R, ROUTER, IP["p2"], 1,
                  icmp(3, 3, payload=quote(IP["p2"], NET, 5353, 53)), ttl=63))),
    # about a port nobody was given: unsolicited
    ("uplink", ip_frame(UPLINK, GW, ROUTER, NAT, 1, icmp(3, 3, payload=quote(NAT, NET, U2 ^ 2, 53))),
     drop("natgw-unsolicited")),
    # p1's own error about the internet's reply leaves translated: the
    # quote says the gateway's address and p1's port on it
    ("uplink", udp_frame(UPLINK, GW, NET, NAT, 53, 5353, b"a"),
     fwd("p1", "natgw-ingress", udp_frame(MAC["p1"], R, NET, IP["p1"], 53, 5353, b"a", ttl=63))),
    ("p1", ip_frame(R, MAC["p1"], IP["p1"], NET, 1,
                    icmp(3, 3, payload=quote(NET, IP["p1"], 53, 5353, b"a"))),
     fwd("uplink", "natgw-egress",
         ip_frame(GW, UPLINK, NAT, NET, 1, icmp(3, 3, payload=quote(NET, NAT, 53, 5353, b"a")),
                  ttl=63))),
])

scenario("an idle connection is forgotten after 350 s (AWS's idle timeout)", [
    out_tcp("p1", 40000, 443, 40000) + (1.0,),
    in_tcp("p1", 443, 40000, 40000, seq=5000, ack=1001) + (1.1,),
    out_tcp("p1", 40000, 443, 40000, flags="A", seq=1001, ack=5001) + (1.2,),
    # 349 s idle: still there
    in_tcp("p1", 443, 40000, 40000, flags="A", seq=5001, ack=1001, payload=b"x") + (350.0,),
    # then 351 s idle: gone, its port free, the next segment is of nothing
    ("p1", tcp_frame(R, MAC["p1"], IP["p1"], NET, 40000, 443, "A", seq=1001, ack=5002),
     drop("tcp-not-syn"), 701.5),
    ("uplink", tcp_frame(UPLINK, GW, NET, NAT, 443, 40000, "A", seq=5002, ack=1001),
     drop("natgw-unsolicited"), 701.6),
])

scenario("an elastic IP beside a NAT gateway keeps its 1:1 translation", [
    ("w1", tcp_frame(R, MAC["w1"], IP["w1"], NET, 40000, 443, "S"),
     fwd("uplink", "igw-egress", tcp_frame(GW, UPLINK, W1_EIP, NET, 40000, 443, "S", ttl=63))),
    ("uplink", tcp_frame(UPLINK, GW, NET, W1_EIP, 443, 40000, "SA", seq=5000, ack=1001),
     fwd("w1", "igw-ingress",
         tcp_frame(MAC["w1"], R, NET, IP["w1"], 443, 40000, "SA", ttl=63, seq=5000, ack=1001))),
])

# Every port to one destination in use: p1 opens 64,512 connections to
# NET:443 from source ports 1024..65535 (each keeps its own), then p2's is
# refused; a connection elsewhere still opens.
FILL = [out_tcp("p1", sp, 443, sp) for sp in range(1024, 65536)]
scenario("ports exhausted for one destination: the next connection refused, others open", FILL + [
    ("p2", tcp_frame(R, MAC["p2"], IP["p2"], NET, 40000, 443, "S"), drop("natgw-ports-exhausted")),
    out_tcp("p2", 40000, 80, 40000),
], args=["--max-connections", "70000"])

# The gateway's subnet has a network ACL (topo/natgw-acl.yaml): out to 443
# and the replies to the ephemeral ports pass; SMTP out is denied leaving
# the gateway's subnet; a reply to a port below 1024 is denied entering it.
U_ACL = first_free(17, IP["p1"], NET, 123, 123)
scenario("the NAT gateway's subnet ACL applies both ways", [
    out_tcp("p1", 40000, 443, 40000),
    in_tcp("p1", 443, 40000, 40000, seq=5000, ack=1001),
    ("p1", tcp_frame(R, MAC["p1"], IP["p1"], NET, 40001, 25, "S"), drop("nacl-egress")),
    ("p1", udp_frame(R, MAC["p1"], IP["p1"], NET, 123, 123, b"ntp?"),
     fwd("uplink", "natgw-egress", udp_frame(GW, UPLINK, NAT, NET, U_ACL, 123, b"ntp?", ttl=63))),
    # the reply's translated port is its own (123): the private subnet's
    # ACL sees that one, and allows only 1024-65535 in
    ("uplink", udp_frame(UPLINK, GW, NET, NAT, 123, U_ACL, b"ntp!"), drop("nacl-ingress")),
], topo=NG_ACL)
