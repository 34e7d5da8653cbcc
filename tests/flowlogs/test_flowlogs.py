#!/usr/bin/env python3
"""Flow logs (vpc-replay --flow-logs): a small capture on the conformance
corpus's topo/sg.yaml, and every record checked field by field.

  test_flowlogs.py --replay build/tools/vpc-replay [--engine dpdk[,xdp]]

What it covers: an accepted connection through the elastic IP (one
record per direction at w1, none at the uplink), one between two local
interfaces (a record at each interface for each direction), an interval
boundary (a direction's packets after its interval ended start a new
record; --flow-log-interval 10 splits what 60 keeps together), a
rejected connection from the internet (REJECT at the interface it was
for), and the rate limit of rejected packets (10 per interface per
second, then a SKIPDATA record).  With several engines each must give
these records and their files must be identical, byte for byte.
"""
import argparse
import os
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "conformance"))
from pkt import tcp_frame, udp_frame, write_pcap  # noqa: E402

TOPO = os.path.join(HERE, "..", "conformance", "topo", "sg.yaml")
R = "06:00:00:00:1e:01"
UPLINK, GW = "02:fe:00:00:00:01", "02:fe:00:00:00:fe"
MAC = {"w1": "02:1e:0a:01:01:0a", "d1": "02:1e:0a:01:02:0a", "l1": "02:1e:0a:01:02:0b"}
IP = {"w1": "10.1.1.10", "d1": "10.1.2.10", "l1": "10.1.2.11"}
EIP, NET = "198.51.100.10", "203.0.113.50"
T0 = 1700000040         # a multiple of 60 (and of 10)


def capture():
    """[(port, time s, frame)]"""
    c = []
    # A: the internet to w1:80 through its elastic IP, and back.
    c.append(("uplink", T0 + 1, tcp_frame(UPLINK, GW, NET, EIP, 40000, 80, "S", seq=100)))
    c.append(("w1", T0 + 2, tcp_frame(R, MAC["w1"], IP["w1"], NET, 80, 40000, "SA", seq=500, ack=101)))
    c.append(("uplink", T0 + 3, tcp_frame(UPLINK, GW, NET, EIP, 40000, 80, "A", seq=101, ack=501)))
    c.append(("w1", T0 + 12, tcp_frame(R, MAC["w1"], IP["w1"], NET, 80, 40000, "A", seq=501, ack=101)))
    # the next interval of 60 s
    c.append(("uplink", T0 + 65, tcp_frame(UPLINK, GW, NET, EIP, 40000, 80, "PA", seq=101, ack=501,
                                           payload=b"x" * 100)))
    # B: w1 to d1:5432 (routed, both local)
    c.append(("w1", T0 + 5, tcp_frame(R, MAC["w1"], IP["w1"], IP["d1"], 41000, 5432, "S", seq=1)))
    c.append(("d1", T0 + 6, tcp_frame(R, MAC["d1"], IP["d1"], IP["w1"], 5432, 41000, "SA", seq=9, ack=2)))
    # C: the internet to w1:22, which its groups do not allow
    c.append(("uplink", T0 + 10, tcp_frame(UPLINK, GW, NET, EIP, 40001, 22, "S", seq=100)))
    # D: l1 may send nothing (egress: []): 13 datagrams in one second,
    # then one in the next
    for i in range(13):
        c.append(("l1", T0 + 20, udp_frame(MAC["d1"], MAC["l1"], IP["l1"], IP["d1"], 5000 + i, 53)))
    c.append(("l1", T0 + 21, udp_frame(MAC["d1"], MAC["l1"], IP["l1"], IP["d1"], 6000, 53)))
    return c


def rec(iface, src, dst, sport, dport, proto, packets, nbytes, start, end, action="ACCEPT"):
    return "2 - %s %s %s %d %d %d %d %d %d %d %s OK" % (
        iface, src, dst, sport, dport, proto, packets, nbytes, T0 + start, T0 + end, action)


def expected(interval):
    e = []
    # A, direction 0 (internet -> w1): at w1 only, after the translation
    e.append(rec("w1", NET, IP["w1"], 40000, 80, 6, 2, 80, 1, 3))
    e.append(rec("w1", NET, IP["w1"], 40000, 80, 6, 1, 140, 65, 65))
    # A, direction 1 (w1 -> internet): at w1, as w1 sent it
    if interval == 60:
        e.append(rec("w1", IP["w1"], NET, 80, 40000, 6, 2, 80, 2, 12))
    else:
        e.append(rec("w1", IP["w1"], NET, 80, 40000, 6, 1, 40, 2, 2))
        e.append(rec("w1", IP["w1"], NET, 80, 40000, 6, 1, 40, 12, 12))
    # B: each direction at both interfaces
    for iface in ("w1", "d1"):
        e.append(rec(iface, IP["w1"], IP["d1"], 41000, 5432, 6, 1, 40, 5, 5))
        e.append(rec(iface, IP["d1"], IP["w1"], 5432, 41000, 6, 1, 40, 6, 6))
    # C: rejected, at the interface it was for, addressed as it came
    e.append(rec("w1", NET, EIP, 40001, 22, 6, 1, 40, 10, 10, "REJECT"))
    # D: 10 of the 13 in the first second, the rest said by SKIPDATA
    for i in range(10):
        e.append(rec("l1", IP["l1"], IP["d1"], 5000 + i, 53, 17, 1, 32, 20, 20, "REJECT"))
    e.append("2 - l1 - - - - - - - %d %d - SKIPDATA" % (T0 + 20, T0 + 20))
    e.append(rec("l1", IP["l1"], IP["d1"], 6000, 53, 17, 1, 32, 21, 21, "REJECT"))
    return e


FIELDS = ("version", "account-id", "interface-id", "srcaddr", "dstaddr", "srcport", "dstport",
          "protocol", "packets", "bytes", "start", "end", "action", "log-status")


def check(got, want, what):
    """Field by field: every expected record once, nothing else."""
    errors = []
    rest = list(got)
    for w in want:
        if w in rest:
            rest.remove(w)
            continue
        # the nearest record of the same interface and addresses, to name the field
        wf = w.split()
        near = [g for g in rest if g.split()[2:5] == wf[2:5]]
        if near:
            gf = near[0].split()
            diff = ["%s %s, expected %s" % (FIELDS[i], gf[i], wf[i])
                    for i in range(min(len(gf), len(wf))) if gf[i] != wf[i]]
            errors.append("%s: record %r: %s" % (what, w, "; ".join(diff)))
        else:
            errors.append("%s: missing record %r" % (what, w))
    for g in rest:
        errors.append("%s: unexpected record %r" % (what, g))
    return errors


def run(replay, engine, tmp, interval):
    inputs = {}
    for port, t, frame in capture():
        inputs.setdefault(port, []).append((t * 1_000_000_000, frame))
    args = [replay, "--config", TOPO, "--engine", engine, "--out", os.path.join(tmp, "out"),
            "--flow-logs", os.path.join(tmp, "fl-%s-%d" % (engine, interval)), "--json"]
    if interval != 60:
        args += ["--flow-log-interval", str(interval)]
    for port, frames in sorted(inputs.items()):
        path = os.path.join(tmp, port + ".pcap")
        write_pcap(path, sorted(frames, key=lambda x: x[0]))
        args += ["--in", "%s=%s" % (port, path)]
    p = subprocess.run(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    if p.returncode != 0:
        raise SystemExit("%s: exit %d: %s" % (" ".join(args), p.returncode, p.stderr))
    with open(os.path.join(tmp, "fl-%s-%d" % (engine, interval), "flow-logs.txt"), "rb") as f:
        return f.read()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--replay", required=True)
    ap.add_argument("--engine", default="dpdk")
    a = ap.parse_args()
    engines = a.engine.split(",")
    errors = []
    with tempfile.TemporaryDirectory() as tmp:
        for interval in (60, 10):
            outs = {}
            for eng in engines:
                data = run(a.replay, eng, tmp, interval)
                outs[eng] = data
                lines = data.decode().splitlines()
                errors += check(lines, expected(interval), "%s, interval %d" % (eng, interval))
            for eng in engines[1:]:
                if outs[eng] != outs[engines[0]]:
                    errors.append("interval %d: %s and %s differ" % (interval, engines[0], eng))
    for e in errors:
        print("FAIL " + e)
    n = 2 * len(engines)
    print("flow logs: %d runs, %s" % (n, "%d errors" % len(errors) if errors else "all records as expected"))
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
