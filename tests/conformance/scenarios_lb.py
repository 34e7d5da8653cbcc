"""Network load balancers: scenarios on topo/lb.yaml.

Imported by scenarios.py into the one corpus.  The target a connection
gets is computed here the way common/vpc_lb.h chooses it (rendezvous
hashing of the 5-tuple, round robin, weighted round robin), and the
health checks' probes the way lib/lb_health.c sends them (each target of
each group at the first packet's time, then every interval of its
group), so every expected frame is exact.
"""
import struct

from pkt import (arp_reply, arp_request, csum, ether, icmp, ip_bytes, ip_frame, ipv4,
                 mac_bytes, tcp_frame, udp, udp_frame)

LB = "topo/lb.yaml"

R = "06:00:00:00:3c:01"
UPLINK, GW = "02:fe:00:00:00:01", "02:fe:00:00:00:fe"
IP = {"c1": "10.4.0.10", "c2": "10.4.1.20", "t1": "10.4.1.10", "t2": "10.4.1.11",
      "t3": "10.4.1.12"}
MAC = {n: "02:3c:" + ":".join("%02x" % int(o) for o in a.split(".")) for n, a in IP.items()}
ILB = "10.4.1.100"
ELB = "198.51.100.60"
NET = "203.0.113.50"           # admitted by elb's group
OTHER = "198.51.100.7"         # not admitted
APP_GW = "10.4.1.1"            # the app subnet's router: the probes' source

# Targets in image order (balancer, group, target): (group, interface,
# port, health-check port, interval s, timeout s).
TARGETS = [
    ("web", "t1", 8080, 8080, 30, 10), ("web", "t2", 8080, 8080, 30, 10),
    ("web", "t3", 8080, 8080, 30, 10),
    ("dns", "t1", 5353, 8080, 30, 10), ("dns", "t2", 5353, 8080, 30, 10),
    ("wrr", "t1", 9000, 9000, 30, 10), ("wrr", "t2", 9000, 9000, 30, 10),
    ("hc", "t1", 8080, 8080, 5, 2), ("hc", "t2", 8080, 8080, 5, 2),
    ("closed", "t3", 7000, 7000, 30, 10),
    ("eweb", "t1", 8080, 8080, 30, 10), ("eweb", "t2", 8080, 8080, 30, 10),
]
GROUPS = {}
for _k, (_g, _vm, _port, _hc, _iv, _to) in enumerate(TARGETS):
    GROUPS.setdefault(_g, []).append((_vm, _port))
WEIGHTS = {"wrr": [3, 1]}

# ---- the choice of common/vpc_lb.h ----

M32 = 0xffffffff


def mix(h):
    h ^= h >> 16
    h = (h * 0x7feb352d) & M32
    h ^= h >> 15
    h = (h * 0x846ca68b) & M32
    h ^= h >> 16
    return h


def _le32(addr):
    return int.from_bytes(ip_bytes(addr), "little")


def _le16(port):
    return int.from_bytes(struct.pack("!H", port), "little")


def seed(vm, port):
    return mix(_le32(IP[vm]) ^ mix(_le16(port) | 0x10000))


def flow_hash(proto, src, dst, sport, dport):
    return mix(_le32(src) ^ mix(_le32(dst) ^ mix(((_le16(sport) << 16) | _le16(dport))
                                                  ^ mix(proto))))


def choose_hash(group, proto, src, dst, sport, dport, eligible=None):
    h = flow_hash(proto, src, dst, sport, dport)
    members = GROUPS[group]
    best, score = None, -1
    for i, (vm, port) in enumerate(members):
        if eligible is not None and vm not in eligible:
            continue
        s = mix(h ^ seed(vm, port))
        if s > score:
            best, score = i, s
    return members[best]


# ---- health checks (lib/lb_health.c) ----

def probe(k, n):
    """Target k's n-th probe: a SYN from the app subnet's router."""
    _g, vm, _port, hc_port, _iv, _to = TARGETS[k]
    token = k << 14 | n
    sport = 49152 + k
    opts = bytes([2, 4]) + struct.pack("!H", 1460)
    hdr = struct.pack("!HHIIBBHHH", sport, hc_port, token, 0, 6 << 4, 0x02, 64240, 0, 0) + opts
    pseudo = ip_bytes(APP_GW) + ip_bytes(IP[vm]) + struct.pack("!BBH", 0, 6, len(hdr))
    c = csum(pseudo + hdr)
    seg = hdr[:16] + struct.pack("!H", c) + hdr[18:]
    return ether(MAC[vm], R, 0x0800, ipv4(APP_GW, IP[vm], 6, seg, ident=0))


def answer(k, n, flags="SA"):
    """Target k's answer to its n-th probe: (port, frame)."""
    _g, vm, _port, hc_port, _iv, _to = TARGETS[k]
    token = k << 14 | n
    return (vm, tcp_frame(R, MAC[vm], IP[vm], APP_GW, hc_port, 49152 + k, flags, seq=777000,
                          ack=token + 1))


def rst_for(k, n):
    """The reset the balancer answers a SYN-ACK with."""
    _g, vm, _port, hc_port, _iv, _to = TARGETS[k]
    seg = struct.pack("!HHIIBBHHH", 49152 + k, hc_port, (k << 14 | n) + 1, 0, 5 << 4, 0x04, 0,
                      0, 0)
    pseudo = ip_bytes(APP_GW) + ip_bytes(IP[vm]) + struct.pack("!BBH", 0, 6, len(seg))
    seg = seg[:16] + struct.pack("!H", csum(pseudo + seg)) + seg[18:]
    return ether(MAC[vm], R, 0x0800, ipv4(APP_GW, IP[vm], 6, seg, ident=0))


def probes(t_first, t_last):
    """Every probe sent between the first packet (t_first, ns) and the
    last: (port, time ns, frame), in the order they are sent."""
    out = []
    due = []
    for k, t in enumerate(TARGETS):
        due.append((t_first, k, 1))
    while due:
        due.sort()
        when, k, n = due.pop(0)
        if when > t_last:
            continue
        out.append((TARGETS[k][1], when, probe(k, n)))
        due.append((when + TARGETS[k][4] * 1_000_000_000, k, n + 1))
    return out


# ---- frames and verdicts ----

def fwd(port, path, frame):
    return {"action": "forward", "out_port": port, "reason": path, "frame": frame}


def reply(port, path, frame):
    return {"action": "reply", "out_port": port, "reason": path, "frame": frame}


def drop(reason):
    return {"action": "drop", "out_port": None, "reason": reason, "frame": None}


def to_lb(vm, group, lport, sport, flags="S", proto=6, eligible=None, dst=ILB, **kw):
    """vm -> the internal balancer's listener lport -> the chosen target:
    (in frame, expectation), and the target."""
    if proto == 6:
        t, tport = choose_hash(group, 6, IP[vm], dst, sport, lport, eligible)
        frame_in = tcp_frame(R, MAC[vm], IP[vm], dst, sport, lport, flags, **kw)
        frame_out = tcp_frame(MAC[t], R, IP[vm], IP[t], sport, tport, flags, ttl=63, **kw)
    else:
        raise ValueError(proto)
    return (vm, frame_in, fwd(t, "lb", frame_out)), t, tport


def from_target(t, tport, vm, lport, sport, flags="SA", switched=False, lb_addr=ILB, **kw):
    """The target's reply -> vm, from the listener's address and port."""
    if switched:   # to the client's own MAC, in the target's subnet
        return (t, tcp_frame(MAC[vm], MAC[t], IP[t], IP[vm], tport, sport, flags, **kw),
                fwd(vm, "lb-reply", tcp_frame(MAC[vm], MAC[t], lb_addr, IP[vm], lport, sport,
                                              flags, **kw)))
    return (t, tcp_frame(R, MAC[t], IP[t], IP[vm], tport, sport, flags, **kw),
            fwd(vm, "lb-reply", tcp_frame(MAC[vm], R, lb_addr, IP[vm], lport, sport, flags,
                                          ttl=63, **kw)))


SCENARIOS = []


def scenario(name, steps, args=()):
    """A scenario whose expected outputs include every health-check probe
    sent while it runs (frame i at (i + 1) ms unless its step says)."""
    times, last = [], 0
    for i, st in enumerate(steps):
        t = int(round(st[3] * 1e9)) if len(st) > 3 else (i + 1) * 1_000_000
        times.append(t)
    SCENARIOS.append({"name": "lb: " + name, "topo": LB, "steps": steps, "applies": [],
                      "args": list(args), "extra_out": probes(times[0], times[-1])})


# A connection through the internal balancer, both ways, established.
_s, T, TP = to_lb("c1", "web", 80, 40000)
scenario("internal, tcp: the chosen target, the client's address kept, replies translated back", [
    _s,
    from_target(T, TP, "c1", 80, 40000, "SA", seq=5000, ack=1001),
    to_lb("c1", "web", 80, 40000, "A", seq=1001, ack=5001)[0],
    to_lb("c1", "web", 80, 40000, "PA", seq=1001, ack=5001, payload=b"GET /")[0],
    from_target(T, TP, "c1", 80, 40000, "PA", seq=5001, ack=1006, payload=b"200 OK"),
])

# Many connections spread over the group's three targets, each as the
# hash says (and each stays on its target).
_steps, _seen = [], set()
for _sp in range(41000, 41012):
    _st, _t, _tp = to_lb("c1", "web", 80, _sp)
    _steps.append(_st)
    _seen.add(_t)
assert _seen == {"t1", "t2", "t3"}, "the corpus's flows should reach every target"
scenario("hash: twelve connections spread over three targets as the rendezvous hash says", _steps)

# A client in the targets' subnet: the target answers it directly (its
# MAC); the balancer's address is put back as the source, switched.
_s, T2, TP2 = to_lb("c2", "web", 80, 40100)
scenario("a client in the targets' subnet: the reply switched, from the listener", [
    _s,
    from_target(T2, TP2, "c2", 80, 40100, "SA", switched=True, seq=9000, ack=1001),
    from_target(T2, TP2, "c2", 80, 40100, "A", switched=True, seq=9001, ack=1001),
])


def udp_to(vm, t, sport, payload=b"q"):
    return (vm, udp_frame(R, MAC[vm], IP[vm], ILB, sport, 53, payload),
            fwd(t, "lb", udp_frame(MAC[t], R, IP[vm], IP[t], sport, 5353, payload, ttl=63)))


scenario("round robin, udp: turns over the group, replies from the listener", [
    udp_to("c1", "t1", 50000),
    udp_to("c1", "t2", 50001),
    udp_to("c1", "t1", 50002),
    ("t1", udp_frame(R, MAC["t1"], IP["t1"], IP["c1"], 5353, 50002, b"a"),
     fwd("c1", "lb-reply", udp_frame(MAC["c1"], R, ILB, IP["c1"], 53, 50002, b"a", ttl=63))),
    # an established flow keeps its target: no turn taken
    udp_to("c1", "t2", 50001),
    udp_to("c1", "t2", 50003),
])


def wrr(sport, t):
    return ("c1", tcp_frame(R, MAC["c1"], IP["c1"], ILB, sport, 81, "S"),
            fwd(t, "lb", tcp_frame(MAC[t], R, IP["c1"], IP[t], sport, 9000, "S", ttl=63)))


scenario("weighted round robin: weights 3 and 1", [
    wrr(42000, "t1"), wrr(42001, "t1"), wrr(42002, "t1"), wrr(42003, "t2"),
    wrr(42004, "t1"), wrr(42005, "t1"),
])

scenario("what no listener takes is dropped; a listener takes only a SYN", [
    ("c1", tcp_frame(R, MAC["c1"], IP["c1"], ILB, 40000, 443, "S"), drop("lb-no-listener")),
    ("c1", udp_frame(R, MAC["c1"], IP["c1"], ILB, 40000, 80, b"x"), drop("lb-no-listener")),
    ("c1", ip_frame(R, MAC["c1"], IP["c1"], ILB, 1,
                    bytes([8, 0, 0xf7, 0xfe, 0, 1, 0, 0])), drop("lb-no-listener")),
    ("c1", tcp_frame(R, MAC["c1"], IP["c1"], ILB, 40000, 80, "A", seq=5, ack=6),
     drop("tcp-not-syn")),
])

scenario("the target's own groups see the translated port", [
    ("c1", tcp_frame(R, MAC["c1"], IP["c1"], ILB, 40000, 83, "S"), drop("sg-denied")),
])

scenario("arp for an internal balancer: answered in its subnet with the router's MAC", [
    ("c2", arp_request(MAC["c2"], IP["c2"], ILB),
     reply("c2", "arp-reply", arp_reply(MAC["c2"], R, ILB, MAC["c2"], IP["c2"]))),
    ("c1", arp_request(MAC["c1"], IP["c1"], ILB), drop("arp-unanswered")),
])


# The internet-facing balancer: from the uplink to its elastic IP.
def from_net(src, sport, flags="S", **kw):
    t, tport = choose_hash("eweb", 6, src, ELB, sport, 80)
    return ("uplink", tcp_frame(UPLINK, GW, src, ELB, sport, 80, flags, **kw),
            fwd(t, "lb", tcp_frame(MAC[t], R, src, IP[t], sport, tport, flags, ttl=63, **kw))), \
        t, tport


_s, TE, TEP = from_net(NET, 33000)
scenario("internet-facing: the elastic IP's listener, the reply out of the uplink", [
    _s,
    (TE, tcp_frame(R, MAC[TE], IP[TE], NET, TEP, 33000, "SA", seq=100, ack=1001),
     fwd("uplink", "lb-reply", tcp_frame(GW, UPLINK, ELB, NET, 80, 33000, "SA", ttl=63, seq=100,
                                         ack=1001))),
    from_net(NET, 33000, "A", seq=1001, ack=101)[0],
    # the balancer's own group admits 203.0.113.0/24 only
    ("uplink", tcp_frame(UPLINK, GW, OTHER, ELB, 33001, 80, "S"), drop("sg-denied")),
])


# Health checks: the hc group (t1 k=7, t2 k=8) probes every 5 s with a
# 2 s timeout, two results in a row decide.
def hc_conn(sport, eligible, t_s):
    st, _t, _tp = to_lb("c1", "hc", 82, sport, eligible=eligible)
    return st + (t_s,)


scenario("health checks: answers decide who gets new connections, fail-open when none", [
    hc_conn(50000, None, 1.0),           # everyone initial: fail-open
    answer(7, 1) + (reply("t1", "lb-health", rst_for(7, 1)), 1.1),
    answer(8, 1, "RA") + (drop("lb-health-answer"), 1.2),
    # a probe's answer from the wrong port, or to a probe never sent
    (answer(7, 1)[0], tcp_frame(R, MAC["t1"], IP["t1"], APP_GW, 8081, 49159, "SA",
                                ack=(7 << 14 | 1) + 1), drop("no-interface"), 1.3),
    answer(7, 2) + (reply("t1", "lb-health", rst_for(7, 2)), 6.1),
    # t1: two successes, healthy; t2: a reset and a timeout, unhealthy
    hc_conn(50001, {"t1"}, 8.5),
    hc_conn(50002, {"t1"}, 8.6),
    hc_conn(50003, {"t1"}, 8.7),
    # t1 stops answering: its probes at 11 s and 16 s time out, and with
    # nobody healthy every target gets new connections again
    hc_conn(50004, {"t1"}, 17.9),
    hc_conn(50005, None, 18.1),
    hc_conn(50006, None, 18.2),
])


# A live apply deregisters t2 from the web group: its established
# connection goes on to it (the entry remembers its target), new ones go
# to the others.  Target indexes after t2's shift down by one: every
# target still waiting on its first probe's answer is probed again under
# its new index (an answer to the old token would name another target).
def scenario_apply(name, steps, topo2, first_after, old_targets, new_targets):
    times = [int(round(st[3] * 1e9)) if len(st) > 3 else (i + 1) * 1_000_000
             for i, st in enumerate(steps)]
    extra = probes(times[0], times[0])
    at = times[first_after]
    old_index = {t[:2]: k for k, t in enumerate(old_targets)}
    for k, t in enumerate(new_targets):
        ok = old_index.get(t[:2])
        if ok is not None and ok != k:
            _g, vm, _port, hc_port, _iv, _to = t
            token = k << 14 | 2
            opts = bytes([2, 4]) + struct.pack("!H", 1460)
            hdr = struct.pack("!HHIIBBHHH", 49152 + k, hc_port, token, 0, 6 << 4, 0x02, 64240,
                              0, 0) + opts
            pseudo = ip_bytes(APP_GW) + ip_bytes(IP[vm]) + struct.pack("!BBH", 0, 6, len(hdr))
            seg = hdr[:16] + struct.pack("!H", csum(pseudo + hdr)) + hdr[18:]
            extra.append((vm, at, ether(MAC[vm], R, 0x0800, ipv4(APP_GW, IP[vm], 6, seg, ident=0))))
    SCENARIOS.append({"name": "lb: " + name, "topo": LB, "steps": steps,
                      "applies": [(first_after, topo2, False)], "args": [], "extra_out": extra})


_s, TA, TAP = to_lb("c1", "web", 80, 51000)
assert TA == "t2"
_minus = [t for t in TARGETS if t[:2] != ("web", "t2")]
GROUPS_FULL = dict(GROUPS)
GROUPS["web"] = [("t1", 8080), ("t3", 8080)]
_new = to_lb("c1", "web", 80, 51006)
GROUPS["web"] = GROUPS_FULL["web"]
assert choose_hash("web", 6, IP["c1"], ILB, 51006, 80)[0] == "t2" and _new[1] != "t2"
scenario_apply("a target deregistered by a live apply keeps its connections, gets no new ones", [
    _s,
    from_target(TA, TAP, "c1", 80, 51000, "SA", seq=5000, ack=1001),
    to_lb("c1", "web", 80, 51000, "A", seq=1001, ack=5001)[0],
    from_target(TA, TAP, "c1", 80, 51000, "PA", seq=5001, ack=1001, payload=b"still here"),
    _new[0],
], "topo/lb-minus.yaml", 2, TARGETS, _minus)


# A target that turns unhealthy while another of its group is healthy
# keeps its connections for the deregistration delay (hc: 20 s), then
# they end.  t1 (k=7) answers its first two probes only: unhealthy at
# 18 s (its probes at 11 s and 16 s time out at 13 s and 18 s); t2 (k=8)
# answers every probe.
_t1_ports = [p for p in range(51100, 51200)
             if choose_hash("hc", 6, IP["c1"], ILB, p, 82)[0] == "t1"]
P_CONN, P_LATER = _t1_ports[0], _t1_ports[1]
_conn = to_lb("c1", "hc", 82, P_CONN, eligible={"t1", "t2"})
_later = to_lb("c1", "hc", 82, P_LATER, eligible={"t2"})
assert _conn[1] == "t1" and _later[1] == "t2"
scenario("an unhealthy target's connections last the deregistration delay, then end", [
    ("c2", arp_request(MAC["c2"], IP["c2"], ILB),
     reply("c2", "arp-reply", arp_reply(MAC["c2"], R, ILB, MAC["c2"], IP["c2"])), 1.0),
    answer(7, 1) + (reply("t1", "lb-health", rst_for(7, 1)), 1.1),
    answer(8, 1) + (reply("t2", "lb-health", rst_for(8, 1)), 1.2),
    answer(7, 2) + (reply("t1", "lb-health", rst_for(7, 2)), 6.1),
    answer(8, 2) + (reply("t2", "lb-health", rst_for(8, 2)), 6.2),
    _conn[0] + (6.5,),
    from_target("t1", 8080, "c1", 82, P_CONN, "SA", seq=5000, ack=1001) + (6.6,),
    to_lb("c1", "hc", 82, P_CONN, "A", seq=1001, ack=5001, eligible={"t1"})[0] + (6.7,),
] + [answer(8, n) + (reply("t2", "lb-health", rst_for(8, n)), 1.2 + 5 * (n - 1))
     for n in (3, 4, 5, 6)] + [
    to_lb("c1", "hc", 82, P_CONN, "PA", seq=1001, ack=5001, payload=b"a",
          eligible={"t1"})[0] + (30.0,),
] + [answer(8, n) + (reply("t2", "lb-health", rst_for(8, n)), 1.2 + 5 * (n - 1))
     for n in (7, 8)] + [
    ("c1", tcp_frame(R, MAC["c1"], IP["c1"], ILB, P_CONN, 82, "PA", seq=1002, ack=5001,
                     payload=b"b"), drop("tcp-not-syn"), 39.0),
    _later[0] + (39.1,),
])


def quote(src, dst, sport, dport, payload, ttl=63):
    """The first 28 bytes of a UDP packet, as an ICMP error quotes it."""
    return ipv4(src, dst, 17, udp(src, dst, sport, dport, payload), ttl=ttl)[:28]


scenario("ICMP errors about a balanced flow: translated both ways, the quote included", [
    udp_to("c1", "t1", 50000),
    ("t1", udp_frame(R, MAC["t1"], IP["t1"], IP["c1"], 5353, 50000, b"a"),
     fwd("c1", "lb-reply", udp_frame(MAC["c1"], R, ILB, IP["c1"], 53, 50000, b"a", ttl=63))),
    # the client's error about the reply (from the listener): to the target
    ("c1", ip_frame(R, MAC["c1"], IP["c1"], ILB, 1,
                    icmp(3, 3, payload=quote(ILB, IP["c1"], 53, 50000, b"a"))),
     fwd("t1", "lb", ip_frame(MAC["t1"], R, IP["c1"], IP["t1"], 1,
                              icmp(3, 3, payload=quote(IP["t1"], IP["c1"], 5353, 50000, b"a")),
                              ttl=63))),
    # the target's error about the client's datagram: from the listener
    ("t1", ip_frame(R, MAC["t1"], IP["t1"], IP["c1"], 1,
                    icmp(3, 3, payload=quote(IP["c1"], IP["t1"], 50000, 5353, b"q"))),
     fwd("c1", "lb-reply", ip_frame(MAC["c1"], R, ILB, IP["c1"], 1,
                                    icmp(3, 3, payload=quote(IP["c1"], ILB, 50000, 53, b"q")),
                                    ttl=63))),
])
