"""DHCP: the dataplane's answers on interface ports, scenarios on topo/dhcp.yaml.

Imported by scenarios.py into the one corpus.  Requests and replies are
built here from scratch (RFC 2131/2132), independently of the engines'
reply records: the whole frame, its BOOTP message through the options'
END (at least 300 bytes, RFC 1542; even), zero after END; an INFORM's
lease options (51, 58, 59) replaced by PAD.
"""
import struct

from pkt import BROADCAST, ether, ip_bytes, ipv4, mac_bytes, udp

DHCP = "topo/dhcp.yaml"

R30, R40 = "06:00:00:00:1e:01", "06:00:00:00:28:01"
P1, P2 = "02:1e:0a:02:01:0a", "02:1e:0a:02:c8:07"
Q1 = "02:28:ac:1f:14:1e"

DISCOVER, OFFER, REQUEST, DECLINE, ACK, NAK, RELEASE, INFORM = range(1, 9)


def opt(code, data):
    return bytes([code, len(data)]) + data


def bootp(op, xid, flags, ciaddr, yiaddr, chaddr, options, pad_to=None):
    b = struct.pack("!BBBBIHH", op, 1, 6, 0, xid, 0, flags)
    b += ip_bytes(ciaddr) + ip_bytes(yiaddr) + ip_bytes("0.0.0.0") + ip_bytes("0.0.0.0")
    b += mac_bytes(chaddr) + b"\0" * 10 + b"\0" * 64 + b"\0" * 128
    b += bytes([99, 130, 83, 99]) + options
    if pad_to is not None:
        b += b"\0" * (pad_to - len(b))
    return b


def request(mac, typ, xid=0x1234abcd, flags=0, ciaddr="0.0.0.0", src_ip="0.0.0.0",
            dst_mac=BROADCAST, dst_ip="255.255.255.255", extra=b"", chaddr=None, op=1,
            end=True):
    options = opt(53, bytes([typ])) + extra + (b"\xff" if end else b"")
    payload = bootp(op, xid, flags, ciaddr, "0.0.0.0", chaddr or mac, options, pad_to=300)
    return ether(dst_mac, mac, 0x0800,
                 ipv4(src_ip, dst_ip, 17, udp(src_ip, dst_ip, 68, 67, payload),
                      ttl=64, ident=0, flags_frag=0))


def server_options(typ, server, lease, mask, dns, domain=None, ntp=(), mtu=9000):
    o = opt(53, bytes([typ])) + opt(54, ip_bytes(server))
    if typ == NAK:
        return o + b"\xff"
    if lease is None:                           # INFORM: the lease block as PAD
        o += b"\0" * 18
    else:
        o += opt(51, struct.pack("!I", lease)) + opt(58, struct.pack("!I", lease // 2))
        o += opt(59, struct.pack("!I", lease * 7 // 8))
    o += opt(1, ip_bytes(mask)) + opt(3, ip_bytes(server))
    o += opt(6, b"".join(ip_bytes(a) for a in dns))
    if domain:
        o += opt(15, domain.encode())
    if ntp:
        o += opt(42, b"".join(ip_bytes(a) for a in ntp))
    return o + opt(26, struct.pack("!H", mtu)) + b"\xff"


def answer(router, server, eth_dst, ip_dst, typ, xid, flags, ciaddr, yiaddr, chaddr, options,
           full_options):
    """full_options: the OFFER's options, whose length the reply keeps (a NAK
    or an INFORM shortens nothing: zeros or PAD stand in)."""
    n = max(300, 240 + len(full_options))
    payload = bootp(2, xid, flags, ciaddr, yiaddr, chaddr, options, pad_to=n + (n & 1))
    return ether(eth_dst, router, 0x0800,
                 ipv4(server, ip_dst, 17, udp(server, ip_dst, 67, 68, payload),
                      ttl=64, ident=0, flags_frag=0))


def dhcp_reply(port, frame):
    return {"action": "reply", "out_port": port, "reason": "dhcp-reply", "frame": frame}


def drop(reason):
    return {"action": "drop", "out_port": None, "reason": reason, "frame": None}


P1_OPTS = dict(server="10.2.1.1", lease=7200, mask="255.255.255.0",
               dns=["10.2.0.53", "192.0.2.53"], domain="prod.example.internal",
               ntp=["169.254.169.123"], mtu=9000)
P2_OPTS = dict(P1_OPTS, server="10.2.128.1", mask="255.255.128.0")
Q1_OPTS = dict(server="172.31.16.1", lease=3600, mask="255.255.240.0", dns=["172.31.0.2"],
               mtu=1500)


def ans(router, mac, ip_dst, typ, o, xid=0x1234abcd, flags=0, ciaddr="0.0.0.0", yiaddr=None,
        eth_dst=None, inform=False):
    o = dict(o)
    if inform:
        o["lease"] = None
    server = o.pop("server")
    opts = server_options(typ, server, **o)
    full = server_options(OFFER, server, **dict(o, lease=o["lease"] or 1))
    return answer(router, server, eth_dst or mac, ip_dst, typ, xid, flags, ciaddr,
                  yiaddr or "0.0.0.0", mac, opts, full)


SCENARIOS = []


def scenario(name, steps):
    SCENARIOS.append({"name": "dhcp: " + name, "topo": DHCP, "steps": steps,
                      "applies": [], "args": []})


scenario("discover: the interface's own address offered, with the VPC's options", [
    ("p1", request(P1, DISCOVER),
     dhcp_reply("p1", ans(R30, P1, "10.2.1.10", OFFER, P1_OPTS, yiaddr="10.2.1.10"))),
])
scenario("discover with the broadcast flag: the offer to everyone", [
    ("p1", request(P1, DISCOVER, flags=0x8000),
     dhcp_reply("p1", ans(R30, P1, "255.255.255.255", OFFER, P1_OPTS, flags=0x8000,
                          yiaddr="10.2.1.10", eth_dst=BROADCAST))),
])
scenario("request for its address: ACK; /17 mask and its own router", [
    ("p2", request(P2, REQUEST, extra=opt(50, ip_bytes("10.2.200.7")) +
                   opt(54, ip_bytes("10.2.128.1"))),
     dhcp_reply("p2", ans(R30, P2, "10.2.200.7", ACK, P2_OPTS, yiaddr="10.2.200.7"))),
])
scenario("request for another address: NAK to everyone, nothing after END", [
    ("p1", request(P1, REQUEST, extra=opt(50, ip_bytes("10.2.1.99"))),
     dhcp_reply("p1", ans(R30, P1, "255.255.255.255", NAK, P1_OPTS, eth_dst=BROADCAST))),
])
scenario("request naming another server: not answered", [
    ("p1", request(P1, REQUEST, extra=opt(50, ip_bytes("10.2.1.10")) +
                   opt(54, ip_bytes("10.2.1.254"))), drop("dhcp-unanswered")),
])
scenario("renewal (ciaddr, unicast to the router): ACK to the client's address", [
    ("p1", request(P1, REQUEST, ciaddr="10.2.1.10", src_ip="10.2.1.10", dst_mac=R30,
                   dst_ip="10.2.1.1", xid=7),
     dhcp_reply("p1", ans(R30, P1, "10.2.1.10", ACK, P1_OPTS, xid=7, ciaddr="10.2.1.10",
                          yiaddr="10.2.1.10"))),
])
scenario("inform: ACK without a lease (51, 58, 59 padded), yiaddr 0", [
    ("p1", request(P1, INFORM, ciaddr="10.2.1.10", src_ip="10.2.1.10", dst_mac=R30,
                   dst_ip="10.2.1.1", xid=9),
     dhcp_reply("p1", ans(R30, P1, "10.2.1.10", ACK, P1_OPTS, xid=9, ciaddr="10.2.1.10",
                          inform=True))),
])
scenario("defaults: AmazonProvidedDNS (base + 2), lease 3600, MTU 1500, no domain", [
    ("q1", request(Q1, DISCOVER, xid=0xfeedbeef),
     dhcp_reply("q1", ans(R40, Q1, "172.31.20.30", OFFER, Q1_OPTS, xid=0xfeedbeef,
                          yiaddr="172.31.20.30"))),
])
scenario("release and decline: not answered", [
    ("p1", request(P1, RELEASE, ciaddr="10.2.1.10", src_ip="10.2.1.10", dst_mac=R30,
                   dst_ip="10.2.1.1"), drop("dhcp-unanswered")),
    ("p1", request(P1, DECLINE, extra=opt(50, ip_bytes("10.2.1.10"))), drop("dhcp-unanswered")),
])
scenario("another client hardware address: spoofed", [
    ("p1", request(P1, DISCOVER, chaddr="02:00:00:00:00:99"), drop("dhcp-spoofed")),
])
scenario("from another address than 0.0.0.0 or its own: spoofed", [
    ("p1", request(P1, DISCOVER, src_ip="10.2.1.11"), drop("dhcp-spoofed")),
])
scenario("malformed: a BOOTREPLY, no message type, an option past the end", [
    ("p1", request(P1, DISCOVER, op=2), drop("dhcp-malformed")),
    ("p1", ether(BROADCAST, P1, 0x0800, ipv4("0.0.0.0", "255.255.255.255", 17, udp(
        "0.0.0.0", "255.255.255.255", 68, 67,
        bootp(1, 1, 0, "0.0.0.0", "0.0.0.0", P1, b"\xff", pad_to=300)), ttl=64, ident=0,
        flags_frag=0)), drop("dhcp-malformed")),
    ("p1", ether(BROADCAST, P1, 0x0800, ipv4("0.0.0.0", "255.255.255.255", 17, udp(
        "0.0.0.0", "255.255.255.255", 68, 67,
        bootp(1, 1, 0, "0.0.0.0", "0.0.0.0", P1, opt(53, b"\x01") + b"\x0c\x20abc")),
        ttl=64, ident=0, flags_frag=0)), drop("dhcp-malformed")),
    ("p1", ether(BROADCAST, P1, 0x0800, ipv4("0.0.0.0", "255.255.255.255", 17, udp(
        "0.0.0.0", "255.255.255.255", 68, 67, b"\x01\x01\x06\x00" + b"\0" * 100),
        ttl=64, ident=0, flags_frag=0)), drop("dhcp-malformed")),
])
scenario("a request without END: the options end with the message", [
    ("q1", request(Q1, DISCOVER, xid=3, end=False),
     dhcp_reply("q1", ans(R40, Q1, "172.31.20.30", OFFER, Q1_OPTS, xid=3,
                          yiaddr="172.31.20.30"))),
])
