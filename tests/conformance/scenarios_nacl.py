"""Network ACLs: scenarios on topo/nacl.yaml (security groups there allow
everything, so every drop is an ACL's).

Imported by scenarios.py into the one corpus.  Frames and expected frames
are built here from scratch.
"""
from pkt import icmp, icmp_echo, ip_frame, tcp_frame, udp_frame

NACL = "topo/nacl.yaml"
DENY = "topo/nacl-deny.yaml"      # db-acl's rule 100 turned to deny

R = "06:00:00:00:28:01"
UPLINK, GW = "02:fe:00:00:00:01", "02:fe:00:00:00:fe"
MAC = {"a1": "02:28:0a:02:01:0a", "a2": "02:28:0a:02:01:0b",
       "d1": "02:28:0a:02:02:0a", "o1": "02:28:0a:02:03:0a"}
IP = {"a1": "10.2.1.10", "a2": "10.2.1.11", "d1": "10.2.2.10", "o1": "10.2.3.10"}
SUBNET = {"a1": "app", "a2": "app", "d1": "db", "o1": "open"}
EIP = "198.51.100.20"
NET = "203.0.113.50"


def fwd(port, path, frame):
    return {"action": "forward", "out_port": port, "reason": path, "frame": frame}


def drop(reason):
    return {"action": "drop", "out_port": None, "reason": reason, "frame": None}


def vm(a, b, proto, sp, dp, flags="S", payload=b"q", **kw):
    """a -> b: (in frame, frame b receives, path); switched inside a
    subnet, routed across subnets."""
    def frame(dst_mac, src_mac, ttl):
        if proto == "tcp":
            return tcp_frame(dst_mac, src_mac, IP[a], IP[b], sp, dp, flags, ttl=ttl, **kw)
        return udp_frame(dst_mac, src_mac, IP[a], IP[b], sp, dp, payload, ttl=ttl)
    if SUBNET[a] == SUBNET[b]:
        f = frame(MAC[b], MAC[a], 64)
        return f, f, "l2-switch"
    return frame(R, MAC[a], 64), frame(MAC[b], R, 63), "routed"


def vm_icmp(a, b, typ, rest, payload=b""):
    return (ip_frame(R, MAC[a], IP[a], IP[b], 1, icmp(typ, 0, rest, payload)),
            ip_frame(MAC[b], R, IP[a], IP[b], 1, icmp(typ, 0, rest, payload), ttl=63), "routed")


def ok(a, b, frames):
    return (a, frames[0], fwd(b, frames[2], frames[1]))


def no(a, frames, reason):
    return (a, frames[0], drop(reason))


def inet_in(dp, sp=40000, flags="S", **kw):
    """internet -> a1's elastic IP: (in frame, frame a1 receives)"""
    return (tcp_frame(UPLINK, GW, NET, EIP, sp, dp, flags, **kw),
            tcp_frame(MAC["a1"], R, NET, IP["a1"], sp, dp, flags, ttl=63, **kw), "igw-ingress")


def a1_out(dp, sp=40000, flags="S", **kw):
    """a1 -> internet: (in frame, frame on the uplink)"""
    return (tcp_frame(R, MAC["a1"], IP["a1"], NET, sp, dp, flags, **kw),
            tcp_frame(GW, UPLINK, EIP, NET, sp, dp, flags, ttl=63, **kw), "igw-egress")


SCENARIOS = []


def scenario(name, steps, applies=()):
    SCENARIOS.append({"name": "nacl: " + name, "topo": NACL, "steps": steps,
                      "applies": list(applies), "args": []})


scenario("ingress deny of a port between two subnets", [
    # o1's subnet has no ACL (allow all out); db's rule 110 denies 5432
    # from the VPC, after rule 100 allowed it from app only.
    no("o1", vm("o1", "d1", "tcp", 40000, 5432), "nacl-ingress"),
])
scenario("no rule matches: the implicit deny", [
    no("o1", vm("o1", "d1", "tcp", 40000, 22), "nacl-ingress"),      # db ingress: nothing for 22
    no("a1", a1_out(22), "nacl-egress"),                               # app egress: nothing for 22 out
])
scenario("egress deny", [
    no("a1", vm("a1", "o1", "udp", 5000, 53), "nacl-egress"),         # app egress 140 denies udp
])
scenario("rule order: a lower-numbered deny before an allow, and an allow before a deny", [
    no("a2", vm("a2", "d1", "tcp", 40000, 5432), "nacl-ingress"),     # 90 deny a2 before 100 allow
    ok("a1", "d1", vm("a1", "d1", "tcp", 40000, 5432)),               # 100 allow app before 110 deny
    no("a1", vm("a1", "o1", "udp", 5001, 9), "nacl-egress"),           # 140 deny udp before 150 allow
    ok("a1", "o1", vm("a1", "o1", "tcp", 40001, 22)),                 # 150 allows all to open
])
scenario("a connection both ways: replies pass on their own (ephemeral-port) rules", [
    ok("a1", "d1", vm("a1", "d1", "tcp", 40000, 5432, "S", seq=1)),
    ok("d1", "a1", vm("d1", "a1", "tcp", 5432, 40000, "SA", seq=9, ack=2)),
    ok("a1", "d1", vm("a1", "d1", "tcp", 40000, 5432, "A", seq=2, ack=10)),
    ok("a1", "d1", vm("a1", "d1", "tcp", 40000, 5432, "PA", seq=2, ack=10, payload=b"select")),
])
scenario("a reply with no ephemeral-port rule is denied (internet gateway)", [
    ok("a1", "uplink", a1_out(443, flags="S", seq=1)),                # app egress 120: 443 out
    no("uplink", inet_in(40000, sp=443, flags="SA", seq=7, ack=2), "nacl-ingress"),  # nothing lets 40000 in
])
scenario("internet gateway: ingress by port, the reply out on the ephemeral rule", [
    ok("uplink", "a1", inet_in(80, flags="S", seq=100)),               # app ingress 100
    ok("a1", "uplink", a1_out(40000, sp=80, flags="SA", seq=500, ack=101)),  # app egress 110
    ok("uplink", "a1", inet_in(80, flags="A", seq=101, ack=501)),
    no("uplink", inet_in(22, sp=40001), "nacl-ingress"),
])
scenario("traffic inside one subnet is untouched", [
    ok("a1", "a2", vm("a1", "a2", "tcp", 40000, 22)),                  # no app rule allows 22
    ok("a2", "a1", vm("a2", "a1", "udp", 5000, 53)),                   # app egress denies udp
])
scenario("ICMP by type: echo in and its reply out; another type denied", [
    ok("a1", "d1", vm_icmp("a1", "d1", 8, b"\x00\x07\x00\x01", b"ping")),   # app 130, db 200
    ok("d1", "a1", vm_icmp("d1", "a1", 0, b"\x00\x07\x00\x01", b"ping")),   # db 110, app 120
    no("a1", vm_icmp("a1", "d1", 13, b"\x00\x08\x00\x01", b"\0" * 12), "nacl-egress"),  # timestamp
])
scenario("an apply that changes an ACL holds on the next packet of an established connection", [
    ok("a1", "d1", vm("a1", "d1", "tcp", 40000, 5432, "S", seq=1)),
    ok("d1", "a1", vm("d1", "a1", "tcp", 5432, 40000, "SA", seq=9, ack=2)),
    ok("a1", "d1", vm("a1", "d1", "tcp", 40000, 5432, "A", seq=2, ack=10)),
    # the new tables: db's rule 100 denies 5432 from app
    no("a1", vm("a1", "d1", "tcp", 40000, 5432, "PA", seq=2, ack=10, payload=b"x"), "nacl-ingress"),
    no("a1", vm("a1", "d1", "tcp", 40000, 5432, "PA", seq=2, ack=10, payload=b"x"), "nacl-ingress"),
    # replies are not denied by it (db egress 100 still allows them)
    ok("d1", "a1", vm("d1", "a1", "tcp", 5432, 40000, "A", seq=10, ack=2)),
], applies=[(3, DENY, False)])
scenario("an apply that lifts the deny lets the established connection through again", [
    ok("a1", "d1", vm("a1", "d1", "tcp", 40000, 5432, "S", seq=1)),
    ok("d1", "a1", vm("d1", "a1", "tcp", 5432, 40000, "SA", seq=9, ack=2)),
    ok("a1", "d1", vm("a1", "d1", "tcp", 40000, 5432, "A", seq=2, ack=10)),
    no("a1", vm("a1", "d1", "tcp", 40000, 5432, "PA", seq=2, ack=10, payload=b"x"), "nacl-ingress"),
    # back to nacl.yaml: the connection carries on, its TCP state untouched
    # by the denied segment
    ok("a1", "d1", vm("a1", "d1", "tcp", 40000, 5432, "PA", seq=2, ack=10, payload=b"x")),
], applies=[(3, DENY, False), (4, NACL, False)])
