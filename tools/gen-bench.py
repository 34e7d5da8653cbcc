#!/usr/bin/env python3
"""Benchmark inputs for `vpc-replay --bench` on config/default.yaml.

    tools/gen-bench.py OUTDIR [--flows 1000]

Every flow is a real TCP connection that the security groups of the
default topology allow: SYN from the client, SYN-ACK from the server, ACK,
then five data segments from the client -- 8 packets, interleaved across
--flows flows.  Per path, CASE-c.pcap (the client's port) and CASE-s.pcap
(the server's):
  l2       web-1 -> web-2:80, same subnet (switched)   --in web-1= --in web-2=
  routed   web-1 -> db-1:5432, across subnets          --in web-1= --in db-1=
  egress   web-1 -> the internet:443 (SNAT)            --in web-1= --in uplink=
  ingress  the internet -> web-1:80 (DNAT)             --in uplink= --in web-1=
Route sweep: routes-N.yaml (N = 10, 1000, 100000), the default topology
whose public table holds N extra routes, with sweep-c/s.pcap (web-1 to
1000 destinations spread over them).  New connections: rules-N.yaml (N =
10, 100, 1000: web's ingress holds N rules) with newconn.pcap, 10,000 SYNs
from distinct internet hosts to web-1:80 (--in uplink=).  Network ACLs:
nacl-N.yaml (N = 1, 20): the default topology with an ACL on each of its
two subnets, N rules per direction, the packets of every case above
matching the N-th (the N - 1 before it deny other traffic), for the
established cases' cost of evaluating them on every packet.  The overlay:
overlay.yaml (db-1 on a second host) with overlay-out-c/s.pcap and
overlay-in-c/s.pcap, replayed as hv1 (--host hv1).  VPC peering:
peering-c/s.pcap, l1 -> r1:80 across the peering of
tests/conformance/topo/peering.yaml (--in l1= --in r1=).  Load
balancers: lb-1.yaml (tests/conformance/topo/lb.yaml, one target t1
behind the internal listener) with lb-c/s.pcap (c1 -> 10.4.1.100:80 ->
t1:8080) and lb-direct-c/s.pcap (c1 -> t1:8080 itself), --in c1= --in
t1=; lb-new.pcap and lb-new-direct.pcap, 10,000 SYNs from c1 to each.
Deterministic: a fixed-seed generator, no randomness between runs.
"""
import argparse
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "conformance"))
import pkt  # noqa: E402

ROUTER = "06:00:00:00:64:01"
WEB1, WEB2, DB1 = "02:64:0a:00:01:0a", "02:64:0a:00:01:0b", "02:64:0a:00:02:14"
UPLINK, GW = "02:fe:00:00:00:01", "02:fe:00:00:00:fe"


class Lcg:
    """Fixed-seed 64-bit LCG: the same numbers on every run."""
    def __init__(self, seed):
        self.s = seed

    def next(self):
        self.s = (self.s * 6364136223846793005 + 1442695040888963407) & (2**64 - 1)
        return self.s >> 33


def ip(n):
    return "%d.%d.%d.%d" % (n >> 24, (n >> 16) & 255, (n >> 8) & 255, n & 255)


def write(path, flows, packets):
    frames, t = [], 1_000_000_000
    for k in range(packets):
        for f in flows:
            frames.append((t, f(k)))
            t += 1000
    pkt.write_pcap(path, frames)


def conn_flows(outdir, case, cmac, smac_for_reply, csrc, cdst, sp, dp, dmac_req, smac_req, dmac_rep, smac_rep,
               rsrc, rdst, wrap_c=lambda f: f, wrap_s=lambda f: f, rport=None):
    """One TCP connection per flow, as the client and the server send it.
    Request frames: (dmac_req, smac_req, csrc -> cdst); reply frames:
    (dmac_rep, smac_rep, rsrc -> rdst) -- addresses as each side's port
    sees them (the server of an elastic-IP flow sees its private IP; a
    load balancer's target answers from its own port, rport)."""
    client, server, t = [], [], 1_000_000_000
    for k in range(8):
        for i in range(len(sp)):
            if k == 1:
                server.append((t, wrap_s(pkt.tcp_frame(dmac_rep, smac_rep, rsrc[i], rdst[i],
                                                        rport or dp[i], sp[i],
                                                        "SA", seq=5000, ack=1001))))
            else:
                flags = "S" if k == 0 else ("A" if k == 2 else "PA")
                seq = 1000 if k == 0 else 1001 + max(0, k - 3) * 64
                client.append((t, wrap_c(pkt.tcp_frame(dmac_req, smac_req, csrc[i], cdst[i], sp[i], dp[i],
                                                        flags, seq=seq, ack=0 if k == 0 else 5001,
                                                        payload=b"x" * 64 if k >= 3 else b""))))
            t += 1000
    pkt.write_pcap(os.path.join(outdir, case + "-c.pcap"), client)
    pkt.write_pcap(os.path.join(outdir, case + "-s.pcap"), server)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("outdir")
    ap.add_argument("--flows", type=int, default=1000)
    a = ap.parse_args()
    os.makedirs(a.outdir, exist_ok=True)
    n = a.flows

    sp = [10000 + i for i in range(n)]
    one = lambda v: [v] * n  # noqa: E731
    base = 0xC6336400  # 198.51.100.0
    net = [ip(base + i % 250 + 1) for i in range(n)]
    conn_flows(a.outdir, "l2", WEB1, WEB2, one("10.0.1.10"), one("10.0.1.11"), sp, one(80),
               WEB2, WEB1, WEB1, WEB2, one("10.0.1.11"), one("10.0.1.10"))
    conn_flows(a.outdir, "routed", WEB1, DB1, one("10.0.1.10"), one("10.0.2.20"), sp, one(5432),
               ROUTER, WEB1, ROUTER, DB1, one("10.0.2.20"), one("10.0.1.10"))
    conn_flows(a.outdir, "egress", WEB1, GW, one("10.0.1.10"), net, sp, one(443),
               ROUTER, WEB1, UPLINK, GW, net, one("203.0.113.10"))
    conn_flows(a.outdir, "ingress", GW, WEB1, net, one("203.0.113.10"), sp, one(80),
               UPLINK, GW, ROUTER, WEB1, one("10.0.1.10"), net)

    # Route sweep: N routes in 64.0.0.0/2 (public addresses), lengths 8..30.
    here = os.path.dirname(os.path.abspath(__file__))
    with open(os.path.join(here, "..", "config", "default.yaml")) as f:
        default = f.read()
    anchor = "          - { destination: 10.9.0.0/16, target: blackhole }\n"
    assert anchor in default
    for count in (10, 1000, 100000):
        rng, seen, lines = Lcg(count), set(), []
        while len(lines) < count:
            length = 8 + rng.next() % 23
            addr = (0x40000000 | (rng.next() << 1)) & 0x7FFFFFFF
            addr &= (0xFFFFFFFF << (32 - length)) & 0xFFFFFFFF
            if (addr, length) in seen or addr >> 24 == 10:
                continue
            seen.add((addr, length))
            lines.append("          - { destination: %s/%d, target: internet_gateway }\n" % (ip(addr), length))
        with open(os.path.join(a.outdir, "routes-%d.yaml" % count), "w") as f:
            f.write(default.replace(anchor, anchor + "".join(lines)))
    rng = Lcg(7)
    dst = [ip(0x40000000 | (rng.next() << 1) & 0x3FFFFFFF) for i in range(n)]
    conn_flows(a.outdir, "sweep", WEB1, GW, one("10.0.1.10"), dst, sp, one(443),
               ROUTER, WEB1, UPLINK, GW, dst, one("203.0.113.10"))

    # New connections against web's ingress of N rules.
    anchor = "          - { protocol: tcp, ports: 80, source: 0.0.0.0/0 }\n"
    assert anchor in default
    for count in (10, 100, 1000):
        rng, lines = Lcg(count), []
        for _ in range(count - 1):
            length = 8 + rng.next() % 25
            addr = (rng.next() << 1) & 0xFFFFFFFF & ((0xFFFFFFFF << (32 - length)) & 0xFFFFFFFF)
            lo = 1024 + rng.next() % 60000
            lines.append("          - { protocol: %s, ports: \"%d-%d\", source: %s/%d }\n"
                         % ("tcp" if rng.next() % 2 else "udp", lo, lo + rng.next() % 100, ip(addr), length))
        with open(os.path.join(a.outdir, "rules-%d.yaml" % count), "w") as f:
            f.write(default.replace(anchor, anchor + "".join(lines)))
    # Network ACLs: N rules per direction on both subnets; the last allows
    # all, the N - 1 before it deny UDP ports the cases never use, from
    # or to prefixes that hold every address of the cases (so each is
    # read whole before the last matches).
    anchor = "    interfaces:\n"
    assert default.count(anchor) == 1
    for count in (1, 20):
        lines = ["    network_acls:\n"]
        for name, subnet in (("public-acl", "public-a"), ("private-acl", "private-a")):
            lines.append("      - name: %s\n        subnets: [%s]\n" % (name, subnet))
            for direction in ("ingress", "egress"):
                lines.append("        %s:\n" % direction)
                for k in range(count - 1):
                    lines.append("          - { rule: %d, action: deny, protocol: udp, ports: %d, "
                                 "cidr: 0.0.0.0/0 }\n" % (10 * (k + 1), 7 + k))
                lines.append("          - { rule: %d, action: allow, protocol: all, cidr: 0.0.0.0/0 }\n"
                             % (10 * count))
        with open(os.path.join(a.outdir, "nacl-%d.yaml" % count), "w") as f:
            f.write(default.replace(anchor, "".join(lines) + anchor))
    # The overlay: overlay.yaml puts db-1 on a second host (hv2), the rest
    # on hv1; replayed as hv1 (--host hv1).  overlay-out: web-1 (here) ->
    # db-1:5432 (there): its frames leave in Geneve, db-1's replies arrive
    # in it (--in web-1= --in uplink=).  overlay-in: db-1 -> web-1:80, the
    # other way round (--in uplink= --in web-1=).  The local twin is routed.
    hosts = ("hosts:\n"
             "  - name: hv1\n    underlay_ip: 192.0.2.1\n"
             "    uplink: { port: uplink, mac: 02:fe:00:00:00:01, gateway_mac: 02:fe:00:00:00:fe }\n"
             "  - name: hv2\n    underlay_ip: 192.0.2.2\n"
             "    uplink: { port: uplink, mac: 02:fe:00:00:00:02, gateway_mac: 02:fe:00:00:00:fe }\n")
    single = "host:\n  uplink: { port: uplink, mac: 02:fe:00:00:00:01, gateway_mac: 02:fe:00:00:00:fe }\n"
    assert single in default
    ov = default.replace(single, hosts)
    for name, h in (("web-1", "hv1"), ("web-2", "hv1"), ("bastion", "hv1"), ("db-1", "hv2")):
        anchor = "      - name: %s\n        subnet:" % name
        assert ov.count(anchor) == 1
        ov = ov.replace(anchor, "      - name: %s\n        host: %s\n        subnet:" % (name, h))
    with open(os.path.join(a.outdir, "overlay.yaml"), "w") as f:
        f.write(ov)

    def from_hv2(inner):
        g = bytes([0, 0, 0x65, 0x58]) + (100).to_bytes(3, "big") + b"\0" + inner
        u = pkt.udp("192.0.2.2", "192.0.2.1", 50000, 6081, g, zero_checksum=True)
        return pkt.ether(UPLINK, "02:fe:00:00:00:02", 0x0800,
                         pkt.ipv4("192.0.2.2", "192.0.2.1", 17, u, ttl=64, ident=0))
    conn_flows(a.outdir, "overlay-out", WEB1, DB1, one("10.0.1.10"), one("10.0.2.20"), sp, one(5432),
               ROUTER, WEB1, WEB1, ROUTER, one("10.0.2.20"), one("10.0.1.10"), wrap_s=from_hv2)
    conn_flows(a.outdir, "overlay-in", DB1, WEB1, one("10.0.2.20"), one("10.0.1.10"), sp, one(80),
               WEB1, ROUTER, ROUTER, WEB1, one("10.0.1.10"), one("10.0.2.20"), wrap_c=from_hv2)

    # VPC peering (tests/conformance/topo/peering.yaml): l1 (VPC left) ->
    # r1:80 (VPC right) through the peering, the replies back through it.
    conn_flows(a.outdir, "peering", "02:32:0a:0a:01:0a", "02:3c:0a:14:01:0a", one("10.10.1.10"),
               one("10.20.1.10"), sp, one(80), "06:00:00:00:32:01", "02:32:0a:0a:01:0a",
               "06:00:00:00:3c:01", "02:3c:0a:14:01:0a", one("10.20.1.10"), one("10.10.1.10"))

    frames = [(1_000_000_000 + i * 1000,
               pkt.tcp_frame(UPLINK, GW, ip(0x5DB80000 + i), "203.0.113.10", 1024 + i % 60000, 80, "S", seq=1))
              for i in range(10000)]
    pkt.write_pcap(os.path.join(a.outdir, "newconn.pcap"), frames)

    # Load balancers (tests/conformance/topo/lb.yaml, its web group cut to
    # t1 alone: lb-1.yaml): c1 -> the internal listener 10.4.1.100:80 ->
    # t1:8080, the replies back from it (lb-c/s.pcap, --in c1= --in t1=),
    # beside the same connections straight to t1:8080 (lb-direct-c/s.pcap);
    # new connections: 10,000 SYNs from c1 to the listener (lb-new.pcap)
    # and straight to t1:8080 (lb-new-direct.pcap), --in c1=.
    with open(os.path.join(here, "..", "tests", "conformance", "topo", "lb.yaml")) as f:
        lbt = f.read()
    anchor = "            targets: [ { interface: t1 }, { interface: t2 }, { interface: t3 } ]\n"
    assert lbt.count(anchor) == 1
    with open(os.path.join(a.outdir, "lb-1.yaml"), "w") as f:
        f.write(lbt.replace(anchor, "            targets: [ { interface: t1 } ]\n"))
    lbr, c1, t1 = "06:00:00:00:3c:01", "02:3c:0a:04:00:0a", "02:3c:0a:04:01:0a"
    conn_flows(a.outdir, "lb", c1, t1, one("10.4.0.10"), one("10.4.1.100"), sp, one(80),
               lbr, c1, lbr, t1, one("10.4.1.10"), one("10.4.0.10"), rport=8080)
    conn_flows(a.outdir, "lb-direct", c1, t1, one("10.4.0.10"), one("10.4.1.10"), sp, one(8080),
               lbr, c1, lbr, t1, one("10.4.1.10"), one("10.4.0.10"))
    for case, dst, port in (("lb-new", "10.4.1.100", 80), ("lb-new-direct", "10.4.1.10", 8080)):
        frames = [(1_000_000_000 + i * 1000,
                   pkt.tcp_frame(lbr, c1, "10.4.0.10", dst, 1024 + i, port, "S", seq=1))
                  for i in range(10000)]
        pkt.write_pcap(os.path.join(a.outdir, case + ".pcap"), frames)


if __name__ == "__main__":
    main()
