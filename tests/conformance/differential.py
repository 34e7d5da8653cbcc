#!/usr/bin/env python3
"""Differential test: the two engines on mutated traffic.

    differential.py --replay build/tools/vpc-replay [--seed N] [--packets N]

The corpus checks what each engine does against expectations written by
hand; this checks the engines against each other where nobody wrote an
expectation.  From every scenario's frames (per topology) it draws a
stream of packets, mutates some -- flipped bits, truncations, other TCP
flags, other ports and addresses, TTL 1, a wrong checksum, a frame sent to
another port -- with random gaps in time (some past the connection
timeouts), and replays the stream through both engines.  Any difference in
a verdict or in an output capture fails, and the first differing packet is
printed with its bytes.  Deterministic for a seed.
"""
import argparse
import json
import os
import random
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import pkt  # noqa: E402
import scenarios  # noqa: E402


def fix_ip_checksum(b):
    """Recompute the IPv4 header checksum of an Ethernet/IPv4 frame (so
    mutations past it reach the later stages)."""
    if len(b) < 34 or b[12:14] != b"\x08\x00":
        return b
    ihl = (b[14] & 0xF) * 4
    if ihl < 20 or len(b) < 14 + ihl:
        return b
    h = bytearray(b[14:14 + ihl])
    h[10:12] = b"\x00\x00"
    s = sum((h[i] << 8) | h[i + 1] for i in range(0, ihl, 2))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    c = (~s) & 0xFFFF
    return b[:24] + bytes([c >> 8, c & 0xFF]) + b[26:]


def mutate(rng, b, ports):
    """One random change; returns (port or None, bytes)."""
    b = bytearray(b)
    kind = rng.randrange(10)
    port = None
    if kind == 0 and len(b) > 0:                     # flip a bit anywhere
        i = rng.randrange(len(b))
        b[i] ^= 1 << rng.randrange(8)
        return port, bytes(b)
    if kind == 1:                                    # truncate
        return port, bytes(b[:rng.randrange(len(b) + 1)])
    if kind == 2 and len(b) >= 48 and b[23] == 6:    # other TCP flags
        b[47] = rng.choice([0x02, 0x12, 0x10, 0x04, 0x14, 0x01, 0x11, 0x18, 0x00, 0x3F])
    elif kind == 3 and len(b) >= 38 and b[23] in (6, 17):   # other ports
        b[34 + rng.randrange(4)] = rng.randrange(256)
    elif kind == 4 and len(b) >= 34:                 # another address byte
        b[26 + rng.randrange(8)] = rng.randrange(256)
    elif kind == 5 and len(b) >= 34:                 # TTL 0..2
        b[22] = rng.randrange(3)
    elif kind == 6 and len(b) >= 26:                 # a wrong IP checksum
        b[24] ^= 0x5A
        return port, bytes(b)
    elif kind == 7:                                  # to another port
        port = rng.choice(ports)
    elif kind == 8 and len(b) >= 12:                 # another MAC byte
        b[rng.randrange(12)] = rng.choice([0x00, 0x02, 0x06, 0xFF, rng.randrange(256)])
    return port, fix_ip_checksum(bytes(b))


def streams(seed, n_packets):
    """Per topology: [(time_ns, port, frame)] in time order."""
    by_topo = {}
    for sc in scenarios.SCENARIOS:
        if sc.get("applies") or sc.get("args"):
            continue        # those scenarios' settings are theirs alone
        for st in sc["steps"]:
            by_topo.setdefault(sc["topo"], []).append((st[0], st[1]))
    rng = random.Random(seed)
    out = {}
    for topo, seeds in sorted(by_topo.items()):
        ports = sorted({p for p, _ in seeds})
        t = 1_000_000_000
        stream = []
        for _ in range(n_packets):
            port, frame = rng.choice(seeds)
            if rng.random() < 0.6:
                p2, frame = mutate(rng, frame, ports)
                port = p2 or port
            # mostly close together; now and then past a timeout
            t += rng.choice([1_000, 50_000, 1_000_000, 1_000_000, 31_000_000_000,
                             121_000_000_000]) if rng.random() < 0.05 else rng.randrange(1, 2_000_000)
            stream.append((t, port, frame))
        out[topo] = stream
    return out


def replay(binary, engine, topo, stream, workdir):
    d = os.path.join(workdir, engine)
    os.makedirs(d)
    by_port = {}
    for t, port, frame in stream:
        by_port.setdefault(port, []).append((t, frame))
    args = [binary, "--config", os.path.join(HERE, topo), "--out", os.path.join(d, "out"),
            "--engine", engine, "--json"]
    for port, frames in sorted(by_port.items()):
        path = os.path.join(d, "in-%s.pcap" % port)
        pkt.write_pcap(path, frames)
        args += ["--in", "%s=%s" % (port, path)]
    proc = subprocess.run(args, capture_output=True, text=True, timeout=600)
    if proc.returncode != 0:
        raise SystemExit("vpc-replay --engine %s exited %d: %s"
                         % (engine, proc.returncode, proc.stderr.strip()))
    return os.path.join(d, "out")


def compare(a, b, stream):
    problems = []
    with open(os.path.join(a, "verdicts.jsonl")) as f:
        va = [json.loads(line) for line in f]
    with open(os.path.join(b, "verdicts.jsonl")) as f:
        vb = [json.loads(line) for line in f]
    # verdicts are in processing order: the stream's order, ports merged
    order = sorted(range(len(stream)), key=lambda i: (stream[i][0], i))
    for k, (x, y) in enumerate(zip(va, vb)):
        if x != y:
            t, port, frame = stream[order[k]] if k < len(order) else (0, "?", b"")
            problems.append("packet %d (%s, %d bytes %s): dpdk %s, xdp %s"
                            % (k, port, len(frame), frame.hex(), x, y))
            break
    if len(va) != len(vb):
        problems.append("%d verdicts from dpdk, %d from xdp" % (len(va), len(vb)))
    for name in sorted(set(os.listdir(a)) | set(os.listdir(b))):
        if not name.endswith(".pcap"):
            continue
        pa, pb = os.path.join(a, name), os.path.join(b, name)
        if not (os.path.exists(pa) and os.path.exists(pb)):
            problems.append("%s written by one engine only" % name)
            continue
        fa, fb = pkt.read_pcap(pa), pkt.read_pcap(pb)
        for i, (x, y) in enumerate(zip(fa, fb)):
            if x != y:
                problems.append("%s: output frame %d differs\n      dpdk %s\n      xdp  %s"
                                % (name, i, x[1].hex(), y[1].hex()))
                break
        if len(fa) != len(fb):
            problems.append("%s: %d frames from dpdk, %d from xdp" % (name, len(fa), len(fb)))
    return problems


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--replay", required=True)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--packets", type=int, default=3000)
    a = ap.parse_args()
    n_fail = 0
    total = 0
    for topo, stream in streams(a.seed, a.packets).items():
        # frames the engines cannot both take are not the question here
        stream = [(t, p, f) for t, p, f in stream if len(f) <= 9000]
        with tempfile.TemporaryDirectory() as d:
            oa = replay(os.path.abspath(a.replay), "dpdk", topo, stream, d)
            ob = replay(os.path.abspath(a.replay), "xdp", topo, stream, d)
            problems = compare(oa, ob, stream)
            with open(os.path.join(oa, "verdicts.jsonl")) as f:
                kinds = {}
                for line in f:
                    v = json.loads(line)
                    kinds[v["reason"]] = kinds.get(v["reason"], 0) + 1
        total += len(stream)
        if problems:
            n_fail += 1
            print("not ok - %s: %d packets, the engines differ" % (topo, len(stream)))
            for p in problems:
                print("    " + p)
        else:
            print("ok - %s: %d packets, identical verdicts and captures (%d distinct outcomes)"
                  % (topo, len(stream), len(kinds)))
    print("%d packets, %s" % (total, "engines differ" if n_fail else "no difference"))
    return 1 if n_fail else 0


if __name__ == "__main__":
    sys.exit(main())
