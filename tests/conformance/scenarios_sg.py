"""Security groups and connection tracking: scenarios on topo/sg.yaml.

Imported by scenarios.py into the one corpus.  Frames and expected frames
are built here from scratch; times (the 4th element of a step, seconds of
capture time) drive the connection timeouts.
"""
from pkt import icmp, ip_frame, ipv4, ping_frame, tcp, tcp_frame, udp, udp_frame

SG = "topo/sg.yaml"
NO80 = "topo/sg-no80.yaml"

R = "06:00:00:00:1e:01"
UPLINK, GW = "02:fe:00:00:00:01", "02:fe:00:00:00:fe"
MAC = {"w1": "02:1e:0a:01:01:0a", "w2": "02:1e:0a:01:01:0b",
       "d1": "02:1e:0a:01:02:0a", "l1": "02:1e:0a:01:02:0b"}
IP = {"w1": "10.1.1.10", "w2": "10.1.1.11", "d1": "10.1.2.10", "l1": "10.1.2.11"}
SUBNET = {"w1": "web", "w2": "web", "d1": "db", "l1": "db"}
EIP = "198.51.100.10"
NET = "203.0.113.50"
ROUTER_NET = "203.0.113.1"       # a router on the internet sending errors


def fwd(port, path, frame):
    return {"action": "forward", "out_port": port, "reason": path, "frame": frame}


def drop(reason):
    return {"action": "drop", "out_port": None, "reason": reason, "frame": None}


# ---- frames between the places of the topology ----

def inet_tcp(dp, sp=40000, flags="S", **kw):
    """internet -> w1's elastic IP: (in frame, frame w1 receives)"""
    return (tcp_frame(UPLINK, GW, NET, EIP, sp, dp, flags, **kw),
            tcp_frame(MAC["w1"], R, NET, IP["w1"], sp, dp, flags, ttl=63, **kw))


def w1_tcp_out(dp, sp=40000, flags="S", **kw):
    """w1 -> internet: (in frame, frame on the uplink)"""
    return (tcp_frame(R, MAC["w1"], IP["w1"], NET, sp, dp, flags, **kw),
            tcp_frame(GW, UPLINK, EIP, NET, sp, dp, flags, ttl=63, **kw))


def inet_tcp_back(sp, dp=40000, flags="SA", **kw):
    """internet -> w1 as a reply: (in frame, frame w1 receives)"""
    return (tcp_frame(UPLINK, GW, NET, EIP, sp, dp, flags, **kw),
            tcp_frame(MAC["w1"], R, NET, IP["w1"], sp, dp, flags, ttl=63, **kw))


def vm_tcp(a, b, sp, dp, flags="S", **kw):
    """between interfaces: switched in a subnet, routed across subnets"""
    if SUBNET[a] == SUBNET[b]:
        f = tcp_frame(MAC[b], MAC[a], IP[a], IP[b], sp, dp, flags, **kw)
        return f, f, "l2-switch"
    return (tcp_frame(R, MAC[a], IP[a], IP[b], sp, dp, flags, **kw),
            tcp_frame(MAC[b], R, IP[a], IP[b], sp, dp, flags, ttl=63, **kw), "routed")


def vm_udp(a, b, sp, dp, payload=b"q"):
    if SUBNET[a] == SUBNET[b]:
        f = udp_frame(MAC[b], MAC[a], IP[a], IP[b], sp, dp, payload)
        return f, f, "l2-switch"
    return (udp_frame(R, MAC[a], IP[a], IP[b], sp, dp, payload),
            udp_frame(MAC[b], R, IP[a], IP[b], sp, dp, payload, ttl=63), "routed")


def step_vm(a, b, frames, t=None):
    fin, fout, path = frames
    s = (a, fin, fwd(b, path, fout))
    return s if t is None else s + (t,)


def step(port, frames, out_port, path, t=None):
    s = (port, frames[0], fwd(out_port, path, frames[1]))
    return s if t is None else s + (t,)


def denied(port, frames, reason="sg-denied", t=None):
    s = (port, frames[0], drop(reason))
    return s if t is None else s + (t,)


def handshake_in(dp=80, sp=40000):
    """internet opens TCP to w1; w1 answers; the internet acknowledges"""
    return [
        step("uplink", inet_tcp(dp, sp, "S", seq=100), "w1", "igw-ingress"),
        step("w1", w1_back(sp, dp, "SA", seq=500, ack=101), "uplink", "igw-egress"),
        step("uplink", inet_tcp(dp, sp, "A", seq=101, ack=501), "w1", "igw-ingress"),
    ]


def w1_back(dp, sp, flags, **kw):
    """w1 answering the internet: (in frame, frame on the uplink)"""
    return (tcp_frame(R, MAC["w1"], IP["w1"], NET, sp, dp, flags, **kw),
            tcp_frame(GW, UPLINK, EIP, NET, sp, dp, flags, ttl=63, **kw))


SCENARIOS = []


def scenario(name, steps, topo=SG, applies=(), args=()):
    SCENARIOS.append({"name": "sg: " + name, "topo": topo, "steps": steps,
                      "applies": list(applies), "args": list(args)})


# ---------------------------------------------------------------- rule forms

scenario("TCP port allowed from the internet (elastic-IP ingress)", [
    step("uplink", inet_tcp(80), "w1", "igw-ingress"),
])
scenario("TCP port not in any rule is denied (elastic-IP ingress)", [
    denied("uplink", inet_tcp(81)),
    denied("uplink", inet_tcp(8050)),   # 8000-8099 only from 10.1.0.0/16
])
scenario("port range from the VPC CIDR: inside allowed, edges exact", [
    step_vm("w2", "w1", vm_tcp("w2", "w1", 40000, 8000)),
    step_vm("w2", "w1", vm_tcp("w2", "w1", 40001, 8099)),
    denied("w2", vm_tcp("w2", "w1", 40002, 8100)),
    denied("w2", vm_tcp("w2", "w1", 40003, 7999)),
])
scenario("ICMP by type: echo allowed, timestamp denied", [
    step("uplink", (ping_frame(UPLINK, GW, NET, EIP), ping_frame(MAC["w1"], R, NET, IP["w1"], ttl=63)),
         "w1", "igw-ingress"),
    denied("uplink", (ip_frame(UPLINK, GW, NET, EIP, 1, icmp(13, 0, b"\x00\x07\x00\x01", b"\0" * 12)),)),
])
scenario("security-group peer: members allowed, others not", [
    step_vm("d1", "w1", vm_udp("d1", "w1", 5000, 53)),     # d1 is in db
    denied("w2", vm_udp("w2", "w1", 5000, 53)),             # w2 is not
])
scenario("receiver's ingress by group reference", [
    step_vm("w2", "d1", vm_tcp("w2", "d1", 40000, 5432)),
    denied("w2", vm_tcp("w2", "d1", 40001, 5433)),
])
scenario("sender's egress rules apply too", [
    step_vm("d1", "w1", vm_tcp("d1", "w1", 40000, 80)),     # db egress: tcp to web
    denied("d1", vm_udp("d1", "w1", 40000, 9999)),          # db egress: udp 53 only
])
scenario("an empty egress list lets nothing out", [
    denied("l1", vm_tcp("l1", "w1", 40000, 80)),            # w1 would accept 80
])
scenario("both sides' groups: each interface keeps its own", [
    step_vm("w1", "d1", vm_tcp("w1", "d1", 40000, 5432)),
    denied("d1", vm_tcp("d1", "w1", 40000, 5432)),          # w1 does not take 5432
])
scenario("protocol by number (GRE) from a CIDR", [
    step_vm("w1", "d1", (ip_frame(R, MAC["w1"], IP["w1"], IP["d1"], 47, b"\0\0\x08\0" + b"g" * 20),
                         ip_frame(MAC["d1"], R, IP["w1"], IP["d1"], 47, b"\0\0\x08\0" + b"g" * 20, ttl=63),
                         "routed")),
    denied("w1", (ip_frame(R, MAC["w1"], IP["w1"], IP["d1"], 50, b"e" * 24),)),
])

# ---------------------------------------------------------------- stateful

scenario("return traffic allowed with no reverse rule", [
    step("w1", w1_tcp_out(443, flags="S", seq=10), "uplink", "igw-egress"),
    step("uplink", inet_tcp_back(443, flags="SA", seq=90, ack=11), "w1", "igw-ingress"),
    step("w1", w1_tcp_out(443, flags="A", seq=11, ack=91), "uplink", "igw-egress"),
])
scenario("locked interface answers connections it accepted", [
    step_vm("w1", "l1", vm_tcp("w1", "l1", 40000, 22, "S", seq=1)),
    step_vm("l1", "w1", vm_tcp("l1", "w1", 22, 40000, "SA", seq=7, ack=2)),
    step_vm("w1", "l1", vm_tcp("w1", "l1", 40000, 22, "A", seq=2, ack=8)),
    denied("l1", vm_tcp("l1", "w1", 22, 40001, "S")),       # but opens none
])
scenario("a reply that arrives before any request is dropped", [
    denied("uplink", inet_tcp_back(443, flags="SA", seq=90, ack=11), "tcp-not-syn"),
    denied("uplink", inet_tcp(80, flags="A", seq=5, ack=5), "tcp-not-syn"),
    denied("uplink", (udp_frame(UPLINK, GW, NET, EIP, 53, 5353, b"answer"),)),
])
scenario("ICMP echo reply allowed only after the request", [
    denied("uplink", (ping_frame(UPLINK, GW, NET, EIP, ident=9, reply=True),)),
    step("w1", (ping_frame(R, MAC["w1"], IP["w1"], NET, ident=9),
                ping_frame(GW, UPLINK, EIP, NET, ident=9, ttl=63)), "uplink", "igw-egress"),
    step("uplink", (ping_frame(UPLINK, GW, NET, EIP, ident=9, reply=True),
                    ping_frame(MAC["w1"], R, NET, IP["w1"], ident=9, ttl=63, reply=True)), "w1", "igw-ingress"),
    denied("uplink", (ping_frame(UPLINK, GW, NET, EIP, ident=10, reply=True),)),   # other identifier
])
scenario("TCP FIN teardown, late packet in TIME_WAIT then after it", handshake_in() + [
    step("uplink", inet_tcp(80, flags="FA", seq=101, ack=501), "w1", "igw-ingress"),
    step("w1", w1_back(40000, 80, "FA", seq=501, ack=102), "uplink", "igw-egress"),
    step("uplink", inet_tcp(80, flags="A", seq=102, ack=502), "w1", "igw-ingress"),
    step("uplink", inet_tcp(80, flags="A", seq=102, ack=502), "w1", "igw-ingress", t=60.0),
    denied("uplink", inet_tcp(80, flags="A", seq=102, ack=502), "tcp-not-syn", t=200.0),
])
scenario("TCP RST teardown, then a late packet", handshake_in() + [
    step("w1", w1_back(40000, 80, "RA", seq=501, ack=101), "uplink", "igw-egress"),
    denied("uplink", inet_tcp(80, flags="A", seq=101, ack=501), "tcp-closed"),
    # a new SYN on the same ports opens a new connection
    step("uplink", inet_tcp(80, flags="S", seq=7000), "w1", "igw-ingress"),
])
scenario("a stray RST outside the window cannot kill a connection", handshake_in() + [
    denied("uplink", inet_tcp(80, flags="R", seq=3000000000), "tcp-bad-rst"),
    step("uplink", inet_tcp(80, flags="PA", seq=101, ack=501, payload=b"GET /"), "w1", "igw-ingress"),
    step("w1", w1_back(40000, 80, "A", seq=501, ack=106), "uplink", "igw-egress"),
])
scenario("RST answering a SYN must acknowledge it", [
    step("w1", w1_tcp_out(8443, flags="S", seq=1000), "uplink", "igw-egress"),
    denied("uplink", inet_tcp_back(8443, flags="RA", seq=0, ack=999), "tcp-bad-rst"),
    step("uplink", inet_tcp_back(8443, flags="RA", seq=0, ack=1001), "w1", "igw-ingress"),
])

# ---------------------------------------------------------------- timeouts (capture time)

scenario("UDP: 30 s idle timeout", [
    step("w1", (udp_frame(R, MAC["w1"], IP["w1"], NET, 5353, 53, b"q"),
                udp_frame(GW, UPLINK, EIP, NET, 5353, 53, b"q", ttl=63)), "uplink", "igw-egress", t=1.0),
    step("uplink", (udp_frame(UPLINK, GW, NET, EIP, 53, 5353, b"a"),
                    udp_frame(MAC["w1"], R, NET, IP["w1"], 53, 5353, b"a", ttl=63)), "w1", "igw-ingress", t=20.0),
    denied("uplink", (udp_frame(UPLINK, GW, NET, EIP, 53, 5353, b"late"),), t=51.0),
])
scenario("UDP: a stream (replies more than once) lives 180 s", [
    step("w1", (udp_frame(R, MAC["w1"], IP["w1"], NET, 5000, 9000, b"q"),
                udp_frame(GW, UPLINK, EIP, NET, 5000, 9000, b"q", ttl=63)), "uplink", "igw-egress", t=1.0),
    step("uplink", (udp_frame(UPLINK, GW, NET, EIP, 9000, 5000, b"a"),
                    udp_frame(MAC["w1"], R, NET, IP["w1"], 9000, 5000, b"a", ttl=63)), "w1", "igw-ingress", t=2.0),
    step("uplink", (udp_frame(UPLINK, GW, NET, EIP, 9000, 5000, b"b"),
                    udp_frame(MAC["w1"], R, NET, IP["w1"], 9000, 5000, b"b", ttl=63)), "w1", "igw-ingress", t=3.0),
    step("uplink", (udp_frame(UPLINK, GW, NET, EIP, 9000, 5000, b"c"),
                    udp_frame(MAC["w1"], R, NET, IP["w1"], 9000, 5000, b"c", ttl=63)), "w1", "igw-ingress", t=150.0),
    denied("uplink", (udp_frame(UPLINK, GW, NET, EIP, 9000, 5000, b"d"),), t=331.0),
])
scenario("ICMP: 30 s idle timeout", [
    step("w1", (ping_frame(R, MAC["w1"], IP["w1"], NET, ident=5),
                ping_frame(GW, UPLINK, EIP, NET, ident=5, ttl=63)), "uplink", "igw-egress", t=1.0),
    denied("uplink", (ping_frame(UPLINK, GW, NET, EIP, ident=5, reply=True),), t=31.5),
])
scenario("TCP: the VPC's established timeout (3600 s here)", handshake_in() + [
    step("uplink", inet_tcp(80, flags="A", seq=101, ack=501), "w1", "igw-ingress", t=3000.0),
    denied("uplink", inet_tcp(80, flags="A", seq=101, ack=501), "tcp-not-syn", t=6700.0),
])
scenario("TCP: an unanswered SYN is forgotten after 120 s", [
    step("w1", w1_tcp_out(443, flags="S", seq=10), "uplink", "igw-egress", t=1.0),
    denied("uplink", inet_tcp_back(443, flags="SA", seq=90, ack=11), "tcp-not-syn", t=130.0),
])

# ---------------------------------------------------------------- ICMP errors


def quote_tcp(src, dst, sp, dp, seq=10):
    """the first 28 bytes of a TCP SYN, as an ICMP error quotes it"""
    return ipv4(src, dst, 6, tcp(src, dst, sp, dp, "S", seq=seq)[:8], total_length=40, ttl=63)


def quote_udp(src, dst, sp, dp, payload=b"query"):
    return ipv4(src, dst, 17, udp(src, dst, sp, dp, payload)[:8], total_length=28 + len(payload), ttl=63)


MTU = b"\x00\x00\x05\x78"   # next-hop MTU 1400

scenario("ICMP error about a tracked connection is related, NAT undone inside", [
    step("w1", w1_tcp_out(443, flags="S", seq=10), "uplink", "igw-egress"),
    step("uplink", (ip_frame(UPLINK, GW, ROUTER_NET, EIP, 1, icmp(3, 4, MTU, quote_tcp(EIP, NET, 40000, 443))),
                    ip_frame(MAC["w1"], R, ROUTER_NET, IP["w1"], 1,
                             icmp(3, 4, MTU, quote_tcp(IP["w1"], NET, 40000, 443)), ttl=63)),
         "w1", "igw-ingress"),
])
scenario("ICMP error quoting UDP: the quoted checksum follows the NAT", [
    step("w1", (udp_frame(R, MAC["w1"], IP["w1"], NET, 5353, 53, b"query"),
                udp_frame(GW, UPLINK, EIP, NET, 5353, 53, b"query", ttl=63)), "uplink", "igw-egress"),
    step("uplink", (ip_frame(UPLINK, GW, NET, EIP, 1, icmp(3, 3, b"\0\0\0\0", quote_udp(EIP, NET, 5353, 53))),
                    ip_frame(MAC["w1"], R, NET, IP["w1"], 1,
                             icmp(3, 3, b"\0\0\0\0", quote_udp(IP["w1"], NET, 5353, 53)), ttl=63)),
         "w1", "igw-ingress"),
])
scenario("ICMP error about no tracked connection is dropped", [
    denied("uplink", (ip_frame(UPLINK, GW, ROUTER_NET, EIP, 1, icmp(3, 4, MTU, quote_tcp(EIP, NET, 41000, 443))),),
           "icmp-unrelated"),
    denied("uplink", (ip_frame(UPLINK, GW, ROUTER_NET, EIP, 1, icmp(11, 0, b"\0\0\0\0", b"\x45\0")),),
           "icmp-unrelated"),
])
scenario("ICMP error inside the VPC needs no rule", [
    step_vm("w2", "d1", vm_tcp("w2", "d1", 40000, 5432, seq=10)),
    step("d1", (ip_frame(R, MAC["d1"], IP["d1"], IP["w2"], 1,
                         icmp(3, 3, b"\0\0\0\0", quote_tcp(IP["w2"], IP["d1"], 40000, 5432))),
                ip_frame(MAC["w2"], R, IP["d1"], IP["w2"], 1,
                         icmp(3, 3, b"\0\0\0\0", quote_tcp(IP["w2"], IP["d1"], 40000, 5432)), ttl=63)),
         "w2", "routed"),
])
scenario("ICMP error from a VM to the internet: quoted address becomes the EIP", [
    step("uplink", inet_tcp(80, sp=41000, seq=10), "w1", "igw-ingress"),
    step("w1", (ip_frame(R, MAC["w1"], IP["w1"], NET, 1,
                         icmp(3, 3, b"\0\0\0\0", quote_tcp(NET, IP["w1"], 41000, 80))),
                ip_frame(GW, UPLINK, EIP, NET, 1,
                         icmp(3, 3, b"\0\0\0\0", quote_tcp(NET, EIP, 41000, 80)), ttl=63)),
         "uplink", "igw-egress"),
])

# A probe found the DPDK engine reading (and writing) a quote the frame did
# not have when the rules, not a connection, let an ICMP error through:
# only what lies inside the IP payload is translated.
scenario("ICMP error to the internet quoting nothing: the outer header alone is NATed", [
    step("w1", (ip_frame(R, MAC["w1"], IP["w1"], NET, 1, icmp(3, 3)),
                ip_frame(GW, UPLINK, EIP, NET, 1, icmp(3, 3), ttl=63)),
         "uplink", "igw-egress"),
])
scenario("ICMP error quoting a header longer than the quote: nothing past the frame", [
    step("w1", (ip_frame(R, MAC["w1"], IP["w1"], NET, 1,
                         icmp(3, 3, b"\0\0\0\0", ipv4(NET, IP["w1"], 17, b"\x14\xe9\x00\x35\x00\x0d\x12\x34",
                                                     ihl=15, total_length=28))),
                ip_frame(GW, UPLINK, EIP, NET, 1,
                         icmp(3, 3, b"\0\0\0\0", ipv4(NET, EIP, 17, b"\x14\xe9\x00\x35\x00\x0d\x12\x34",
                                                     ihl=15, total_length=28)), ttl=63)),
         "uplink", "igw-egress"),
])

# ---------------------------------------------------------------- applies

scenario("removing a rule does not cut a tracked connection", handshake_in() + [
    step("uplink", inet_tcp(80, flags="PA", seq=101, ack=501, payload=b"GET /"), "w1", "igw-ingress"),
    step("w1", w1_back(40000, 80, "A", seq=501, ack=106), "uplink", "igw-egress"),
    denied("uplink", inet_tcp(80, sp=40001)),    # but new connections are refused
], applies=[(3, NO80, False)])
scenario("an apply that revalidates cuts what the new rules refuse", handshake_in() + [
    denied("uplink", inet_tcp(80, flags="PA", seq=101, ack=501, payload=b"GET /")),
    denied("uplink", inet_tcp(80, flags="PA", seq=101, ack=501, payload=b"GET /"), "tcp-not-syn"),
], applies=[(3, NO80, True)])
scenario("an apply that revalidates keeps what the rules still allow", [
    step_vm("w2", "w1", vm_tcp("w2", "w1", 40000, 8080, "S", seq=1)),
    step_vm("w1", "w2", vm_tcp("w1", "w2", 8080, 40000, "SA", seq=5, ack=2)),
    step_vm("w2", "w1", vm_tcp("w2", "w1", 40000, 8080, "A", seq=2, ack=6)),
    step_vm("w1", "w2", vm_tcp("w1", "w2", 8080, 40000, "A", seq=6, ack=2)),
], applies=[(2, NO80, True)])

# ---------------------------------------------------------------- a full table

scenario("a full table of answered connections refuses new ones, never drops one", [
    step("w1", w1_tcp_out(443, sp=1, flags="S", seq=10), "uplink", "igw-egress"),
    step("uplink", inet_tcp_back(443, dp=1, flags="SA", seq=90, ack=11), "w1", "igw-ingress"),
    step("w1", w1_tcp_out(443, sp=2, flags="S", seq=10), "uplink", "igw-egress"),
    step("uplink", inet_tcp_back(443, dp=2, flags="SA", seq=90, ack=11), "w1", "igw-ingress"),
    denied("w1", w1_tcp_out(443, sp=3, flags="S", seq=10), "conntrack-full"),
    denied("w1", w1_tcp_out(443, sp=4, flags="S", seq=10), "conntrack-full"),
    step("w1", w1_tcp_out(443, sp=1, flags="A", seq=11, ack=91), "uplink", "igw-egress"),
    step("w1", w1_tcp_out(443, sp=2, flags="A", seq=11, ack=91), "uplink", "igw-egress"),
], args=["--max-connections", "2"])
scenario("a full table drops a SYN never answered to make room (early drop)", [
    step("w1", w1_tcp_out(443, sp=1, flags="S", seq=10), "uplink", "igw-egress"),
    step("uplink", inet_tcp_back(443, dp=1, flags="SA", seq=90, ack=11), "w1", "igw-ingress"),
    step("w1", w1_tcp_out(443, sp=2, flags="S", seq=10), "uplink", "igw-egress"),
    step("w1", w1_tcp_out(443, sp=3, flags="S", seq=10), "uplink", "igw-egress"),
    denied("uplink", inet_tcp_back(443, dp=2, flags="SA", seq=90, ack=11), "tcp-not-syn"),
    step("w1", w1_tcp_out(443, sp=1, flags="A", seq=11, ack=91), "uplink", "igw-egress"),
], args=["--max-connections", "2"])
scenario("an idle flood cannot evict answered connections; expiry frees room", [
    step("w1", (udp_frame(R, MAC["w1"], IP["w1"], NET, 7, 7, b"x"),
                udp_frame(GW, UPLINK, EIP, NET, 7, 7, b"x", ttl=63)), "uplink", "igw-egress", t=1.0),
    step("uplink", (udp_frame(UPLINK, GW, NET, EIP, 7, 7, b"r"),
                    udp_frame(MAC["w1"], R, NET, IP["w1"], 7, 7, b"r", ttl=63)), "w1", "igw-ingress", t=1.5),
    denied("w1", (udp_frame(R, MAC["w1"], IP["w1"], NET, 8, 8, b"y"),), "conntrack-full", t=2.0),
    denied("w1", (udp_frame(R, MAC["w1"], IP["w1"], NET, 9, 9, b"y"),), "conntrack-full", t=3.0),
    step("w1", (udp_frame(R, MAC["w1"], IP["w1"], NET, 7, 7, b"x"),
                udp_frame(GW, UPLINK, EIP, NET, 7, 7, b"x", ttl=63)), "uplink", "igw-egress", t=20.0),
    step("w1", (udp_frame(R, MAC["w1"], IP["w1"], NET, 8, 8, b"y"),
                udp_frame(GW, UPLINK, EIP, NET, 8, 8, b"y", ttl=63)), "uplink", "igw-egress", t=60.0),
], args=["--max-connections", "1"])
scenario("a UDP flow never answered makes room for the next (early drop)", [
    step("w1", (udp_frame(R, MAC["w1"], IP["w1"], NET, 7, 7, b"x"),
                udp_frame(GW, UPLINK, EIP, NET, 7, 7, b"x", ttl=63)), "uplink", "igw-egress", t=1.0),
    step("w1", (udp_frame(R, MAC["w1"], IP["w1"], NET, 8, 8, b"y"),
                udp_frame(GW, UPLINK, EIP, NET, 8, 8, b"y", ttl=63)), "uplink", "igw-egress", t=2.0),
    step("w1", (udp_frame(R, MAC["w1"], IP["w1"], NET, 9, 9, b"z"),
                udp_frame(GW, UPLINK, EIP, NET, 9, 9, b"z", ttl=63)), "uplink", "igw-egress", t=3.0),
], args=["--max-connections", "1"])
scenario("a frame of a tracked flow sent to another MAC is not forwarded by the cache", [
    step_vm("w2", "w1", vm_tcp("w2", "w1", 40000, 8080, "S", seq=1)),
    (("w2"), tcp_frame(MAC["l1"], MAC["w2"], IP["w2"], IP["w1"], 40000, 8080, "A", seq=2), drop("dst-mac-other-subnet")),
    (("w2"), tcp_frame("02:1e:0a:01:01:63", MAC["w2"], IP["w2"], IP["w1"], 40000, 8080, "A", seq=2),
     drop("unknown-dst-mac")),
])
