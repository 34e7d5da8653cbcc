"""VPC peering (AWS semantics): scenarios on topo/peering.yaml.

Imported by scenarios.py into the one corpus.  left (10.10/16) and right
(10.20/16) are peered, right and third (10.30/16) too.  A packet routed to
a peering reaches the interface that owns its destination in the other
VPC, as that VPC's router delivers it (source MAC the receiver's VPC
router, TTL decremented), after the sender's egress and the receiver's
ingress groups; nothing else the peering route matches goes anywhere (no
transit).  Frames and expected frames are built here from scratch.
"""
from pkt import icmp_echo, ip_frame, tcp_frame

PEERING = "topo/peering.yaml"

ROUTER = {"left": "06:00:00:00:32:01", "right": "06:00:00:00:3c:01", "third": "06:00:00:00:46:01"}
VPC = {"l1": "left", "r1": "right", "r2": "right", "r3": "right", "t1": "third"}
MAC = {"l1": "02:32:0a:0a:01:0a", "r1": "02:3c:0a:14:01:0a", "r2": "02:3c:0a:14:02:0a",
       "r3": "02:3c:0a:14:01:0b", "t1": "02:46:0a:1e:01:0a"}
IP = {"l1": "10.10.1.10", "r1": "10.20.1.10", "r2": "10.20.2.10", "r3": "10.20.1.11",
      "t1": "10.30.1.10"}
NET = "203.0.113.50"


def fwd(port, path, frame):
    return {"action": "forward", "out_port": port, "reason": path, "frame": frame}


def drop(reason):
    return {"action": "drop", "out_port": None, "reason": reason, "frame": None}


def tcp_across(a, b, sp, dp, flags="S", **kw):
    """a -> b across the peering: (in frame, frame b receives)"""
    return (tcp_frame(ROUTER[VPC[a]], MAC[a], IP[a], IP[b], sp, dp, flags, **kw),
            tcp_frame(MAC[b], ROUTER[VPC[b]], IP[a], IP[b], sp, dp, flags, ttl=63, **kw))


def ok(a, b, frames):
    return (a, frames[0], fwd(b, "peering", frames[1]))


def to_addr(a, dst, sp=40000, dp=80):
    """a -> an address by its router: the in frame alone"""
    return tcp_frame(ROUTER[VPC[a]], MAC[a], IP[a], dst, sp, dp, "S")


SCENARIOS = []


def scenario(name, steps):
    SCENARIOS.append({"name": "peering: " + name, "topo": PEERING, "steps": steps,
                      "applies": [], "args": []})


scenario("TCP across the peering, both ways: the reply routed back by right's table", [
    ok("l1", "r1", tcp_across("l1", "r1", 40000, 80, "S", seq=1)),
    ok("r1", "l1", tcp_across("r1", "l1", 80, 40000, "SA", seq=9, ack=2)),
    ok("l1", "r1", tcp_across("l1", "r1", 40000, 80, "A", seq=2, ack=10)),
    ok("l1", "r1", tcp_across("l1", "r1", 40000, 80, "PA", seq=2, ack=10, payload=b"GET /")),
    ok("r1", "l1", tcp_across("r1", "l1", 80, 40000, "PA", seq=10, ack=7, payload=b"200 OK")),
])
scenario("the receiver's ingress rules decide: r1 takes 80 from left, not 23", [
    ("l1", tcp_across("l1", "r1", 40001, 23)[0], drop("sg-denied")),
])
scenario("a rule naming the peer VPC's group: l1 takes 22 from right's web members only", [
    ok("r1", "l1", tcp_across("r1", "l1", 40000, 22, "S", seq=5)),
    ("r3", tcp_across("r3", "l1", 40000, 22)[0], drop("sg-denied")),       # r3: group other
])
scenario("an address of right's CIDR that no interface owns", [
    ("l1", to_addr("l1", "10.20.1.99"), drop("peering-no-owner")),
])
scenario("no transit: left's routes to third and the internet through the peering go nowhere", [
    ("l1", to_addr("l1", IP["t1"]), drop("peering-no-owner")),     # right peers third
    ("l1", to_addr("l1", NET, dp=443), drop("peering-no-owner")),  # right has the internet gateway
])
scenario("right's subnet back has no route to left: the reply is dropped there", [
    ok("l1", "r2", tcp_across("l1", "r2", 40002, 80, "S", seq=1)),
    ("r2", tcp_across("r2", "l1", 80, 40002, "SA", seq=9, ack=2)[0], drop("no-route")),
])
scenario("ICMP echo across the peering and its reply", [
    ("l1", ip_frame(ROUTER["left"], MAC["l1"], IP["l1"], IP["r1"], 1, icmp_echo(7, 1)),
     fwd("r1", "peering", ip_frame(MAC["r1"], ROUTER["right"], IP["l1"], IP["r1"], 1,
                                   icmp_echo(7, 1), ttl=63))),
    ("r1", ip_frame(ROUTER["right"], MAC["r1"], IP["r1"], IP["l1"], 1, icmp_echo(7, 1, reply=True)),
     fwd("l1", "peering", ip_frame(MAC["l1"], ROUTER["left"], IP["r1"], IP["l1"], 1,
                                   icmp_echo(7, 1, reply=True), ttl=63))),
])
scenario("frames to a peer's MAC are never switched across VPCs", [
    ("l1", tcp_frame(MAC["r1"], MAC["l1"], IP["l1"], IP["r1"], 40003, 80, "S"), drop("unknown-dst-mac")),
])
