#!/usr/bin/env python3
"""Benchmark inputs for `vpc-replay --bench` on config/default.yaml.

    tools/gen-bench.py OUTDIR [--flows 1000] [--packets 8]

Writes, for the default topology, one capture per path, each of --flows
flows (distinct 5-tuples) with --packets packets each, interleaved:
  l2.pcap       web-1 -> web-2, same subnet (switched)       --in web-1=
  routed.pcap   web-1 -> db-1, across subnets (routed)        --in web-1=
  egress.pcap   web-1 -> the internet (elastic-IP SNAT)       --in web-1=
  ingress.pcap  the internet -> web-1's elastic IP (DNAT)     --in uplink=
and route-sweep topologies routes-N.yaml (N = 10, 1000, 100000): the
default topology whose public table holds N extra routes, with
sweep.pcap, web-1 -> 1000 destinations spread over those routes.
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


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("outdir")
    ap.add_argument("--flows", type=int, default=1000)
    ap.add_argument("--packets", type=int, default=8)
    a = ap.parse_args()
    os.makedirs(a.outdir, exist_ok=True)
    n = a.flows

    def tcp_flow(dmac, smac, src, dst, sport, dport):
        return lambda k: pkt.tcp_frame(dmac, smac, src, dst, sport, dport, "A", seq=1000 + k * 100,
                                       ack=1, payload=b"x" * 64)

    write(os.path.join(a.outdir, "l2.pcap"),
          [tcp_flow(WEB2, WEB1, "10.0.1.10", "10.0.1.11", 10000 + i, 80) for i in range(n)], a.packets)
    write(os.path.join(a.outdir, "routed.pcap"),
          [tcp_flow(ROUTER, WEB1, "10.0.1.10", "10.0.2.20", 10000 + i, 5432) for i in range(n)], a.packets)
    base = 0xC6336400  # 198.51.100.0
    write(os.path.join(a.outdir, "egress.pcap"),
          [tcp_flow(ROUTER, WEB1, "10.0.1.10", ip(base + i % 250 + 1), 10000 + i, 443) for i in range(n)],
          a.packets)
    write(os.path.join(a.outdir, "ingress.pcap"),
          [tcp_flow(UPLINK, GW, ip(base + i % 250 + 1), "203.0.113.10", 10000 + i, 80) for i in range(n)],
          a.packets)

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
    write(os.path.join(a.outdir, "sweep.pcap"),
          [tcp_flow(ROUTER, WEB1, "10.0.1.10", ip(0x40000000 | (rng.next() << 1) & 0x3FFFFFFF), 10000 + i, 443)
           for i in range(n)], a.packets)


if __name__ == "__main__":
    main()
